#!/bin/bash
# Outer TTL across a router: A --- R --- B, R forwarding, the GRE tunnel between A and B.
#   fixed TTL (the default, 64): the tunnel is one hop. An inner `ping -t 1` to the far inner
#     address gets its reply, and the router sees the outer packet with TTL 64 (inner TTL 1).
#   TTL=inherit: the outer packet copies the inner TTL, so the same ping dies at the router
#     (R's IcmpOutTimeExcds goes up, the capture shows outer TTL 1) while -t 2 still passes;
#     the device is `ttl inherit` (ip -d link) and `gre-tunnel status` warns about it.
. "${GRE_SRCDIR:?}/tests/kernel/lib.sh"
umask 077

A=ttl-a R=ttl-r B=ttl-b
A_OUT=192.0.2.1 R_A=192.0.2.254 B_OUT=203.0.113.2 R_B=203.0.113.254
A_IN=198.51.100.1 B_IN=198.51.100.2

# link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: a veth between two namespaces, addresses, up.
link() {
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}
netns $A $R $B
link $A wan $A_OUT/24 $R ra $R_A/24
link $R rb $R_B/24 $B wan $B_OUT/24
ip -n $A route add default via $R_A
ip -n $B route add default via $R_B
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1

# write_ends [EXTRA-LINE]: ifcfg-gre1 for A and B (mirror images)
mkdir -p "$T/a" "$T/b"
write_ends() {
    printf 'DEVICE=gre1\nTYPE=gre\nMY_OUTER_IPADDR=%s\nPEER_OUTER_IPADDR=%s\nMY_INNER_IPADDR=%s/30\nPEER_INNER_IPADDR=%s\n%s\n' \
        $A_OUT $B_OUT $A_IN $B_IN "${1:-}" >"$T/a/ifcfg-gre1"
    printf 'DEVICE=gre1\nTYPE=gre\nMY_OUTER_IPADDR=%s\nPEER_OUTER_IPADDR=%s\nMY_INNER_IPADDR=%s/30\nPEER_INNER_IPADDR=%s\n%s\n' \
        $B_OUT $A_OUT $B_IN $A_IN "${1:-}" >"$T/b/ifcfg-gre1"
}
time_exceeded() { ip netns exec $R nstat -az IcmpOutTimeExcds | awk '$1 == "IcmpOutTimeExcds" { print $2 }'; }

# GRE (no key: the inner IPv4 header starts at byte 24 of the outer packet) carrying an ICMP echo
# request from A's inner address: outer TTL is ip[8], inner TTL ip[32], inner protocol ip[33].
FILTER="src host $A_OUT and ip proto 47 and ip[22:2] = 0x0800 and ip[33] = 1 and ip[44] = 8"
# ttl_seen FILE: "outer/inner" TTL pairs of the captured packets
ttl_seen() {
    packets "$1" | sed -nE 's/.*ttl ([0-9]+),.*proto GRE.*ttl ([0-9]+),.*proto ICMP.*/\1\/\2/p' | tr '\n' ' '
}

# ---------------------------------------------------------------- fixed TTL (default)
write_ends ""
check "A: gre-tunnel up (TTL default)" gt $A up "$T/a/ifcfg-gre1"
check "B: gre-tunnel up (TTL default)" gt $B up "$T/b/ifcfg-gre1"
dl=$(ip -n $A -d link show gre1)
expect "default TTL: ip -d link shows ttl 64" ' ttl 64 ' "$dl"
te0=$(time_exceeded)
capture $R ra "$FILTER" 1 "$T/cap64" -v
out=$(ip netns exec $A ping -n -c 1 -W 3 -t 1 $B_IN 2>&1)
capture_stop
expect "TTL 64: inner ping -t 1 to the far inner address gets its reply (the tunnel is one hop)" \
    ' bytes from 198\.51\.100\.2' "$out"
seen=$(ttl_seen "$T/cap64")
note "router saw (outer/inner TTL): ${seen:-nothing}"
expect_eq "TTL 64: the router sees the outer packet with TTL 64, inner TTL 1" "64/1 " "$seen"
te1=$(time_exceeded)
expect_eq "TTL 64: the router sent no time-exceeded" "$te0" "$te1"

# ---------------------------------------------------------------- TTL=inherit
check "A: gre-tunnel down" gt $A down gre1
check "B: gre-tunnel down" gt $B down gre1
write_ends "TTL=inherit"
check "A: gre-tunnel up (TTL=inherit)" gt $A up "$T/a/ifcfg-gre1"
check "B: gre-tunnel up (TTL=inherit)" gt $B up "$T/b/ifcfg-gre1"
dl=$(ip -n $A -d link show gre1)
expect "TTL=inherit: ip -d link shows ttl inherit" ' ttl inherit ' "$dl"
st=$(gt $A status gre1 2>&1)
expect "TTL=inherit: gre-tunnel status warns about inherit" 'warning: .*TTL inherit' "$st"
te0=$(time_exceeded)
capture $R ra "$FILTER" 2 "$T/capinh" -v
out1=$(ip netns exec $A ping -n -c 1 -W 2 -t 1 $B_IN 2>&1)
out2=$(ip netns exec $A ping -n -c 1 -W 3 -t 2 $B_IN 2>&1)
capture_stop
te1=$(time_exceeded)
expect_not "TTL=inherit: inner ping -t 1 dies at the router (translucent tunnel)" ' bytes from ' "$out1"
note "router IcmpOutTimeExcds: $te0 -> $te1"
check "TTL=inherit: the router's IcmpOutTimeExcds went up" test "${te1:-0}" -gt "${te0:-0}"
expect "TTL=inherit: inner ping -t 2 passes (the router costs the inner packet one hop)" \
    ' bytes from 198\.51\.100\.2' "$out2"
seen=$(ttl_seen "$T/capinh")
note "router saw (outer/inner TTL): ${seen:-nothing}"
expect_eq "TTL=inherit: the router sees outer TTL = inner TTL (1, then 2)" "1/1 2/2 " "$seen"
check "A: gre-tunnel down" gt $A down gre1
check "B: gre-tunnel down" gt $B down gre1
finish
