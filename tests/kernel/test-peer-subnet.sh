#!/bin/bash
# Routing the peer's own subnet over the tunnel. Routed topology:
#
#   A wan 192.0.2.1/24 --- 192.0.2.254 R 203.0.113.126 --- 203.0.113.2/25 wan B lan 203.0.113.129/25 --- H
#                                                                                        203.0.113.130
# A's ROUTES="203.0.113.0/24": that prefix holds B's outer address 203.0.113.2 and H behind B.
#   PIN_REMOTE=auto: `gre-tunnel up` pins 203.0.113.2/32 to the underlay. The kernel's route to B's
#     outer address leaves through wan (not gre1), the inner peer and H answer through the tunnel,
#     and R sees only GRE between the outer addresses carrying the ping to H.
#   PIN_REMOTE=no: the route to B's outer address is the tunnel itself. Pings fail, and the gre
#     device's collisions and TX errors counters go up (the kernel refuses to route the tunnel
#     into itself and counts each packet).
. "${GRE_SRCDIR:?}/tests/kernel/lib.sh"
umask 077

A=ps-a R=ps-r B=ps-b H=ps-h
A_OUT=192.0.2.1 R_A=192.0.2.254 R_B=203.0.113.126 B_OUT=203.0.113.2 B_LAN=203.0.113.129 H_IP=203.0.113.130
A_IN=198.51.100.1 B_IN=198.51.100.2

link() { # link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: a veth between two namespaces, addresses, up
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}
netns $A $R $B $H
link $A wan $A_OUT/24 $R ra $R_A/24
link $R rb $R_B/25 $B wan $B_OUT/25
link $B lan $B_LAN/25 $H eth $H_IP/25
ip -n $A route add default via $R_A
ip -n $B route add default via $R_B
ip -n $H route add default via $B_LAN
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip netns exec $B sysctl -qw net.ipv4.ip_forward=1

check "underlay: A reaches B's outer address through R" nsping $A $B_OUT

mkdir -p "$T/a" "$T/b"
write_a() { # write_a PIN_REMOTE-value
    printf 'DEVICE=gre1\nTYPE=gre\nMY_OUTER_IPADDR=%s\nPEER_OUTER_IPADDR=%s\nMY_INNER_IPADDR=%s/30\nPEER_INNER_IPADDR=%s\nROUTES="203.0.113.0/24"\nPIN_REMOTE=%s\n' \
        $A_OUT $B_OUT $A_IN $B_IN "$1" >"$T/a/ifcfg-gre1"
}
printf 'DEVICE=gre1\nTYPE=gre\nMY_OUTER_IPADDR=%s\nPEER_OUTER_IPADDR=%s\nMY_INNER_IPADDR=%s/30\nPEER_INNER_IPADDR=%s\n' \
    $B_OUT $A_OUT $B_IN $A_IN >"$T/b/ifcfg-gre1"
stat_of() { ip netns exec $A cat /sys/class/net/gre1/statistics/"$1"; }

# ---------------------------------------------------------------- PIN_REMOTE=auto
write_a auto
check "PIN_REMOTE=auto: A up" gt $A up "$T/a/ifcfg-gre1"
check "B up" gt $B up "$T/b/ifcfg-gre1"
note "A's routes: $(ip -n $A route show | tr '\n' ';')"
rg=$(ip -n $A route get $B_OUT)
note "ip route get $B_OUT: $(tr '\n' ' ' <<<"$rg")"
expect "PIN_REMOTE=auto: the route to B's outer address leaves through the underlay (wan via R)" \
    "^$B_OUT via $R_A dev wan " "$rg"
expect "PIN_REMOTE=auto: A has a /32 host route for $B_OUT" "^$B_OUT via $R_A dev wan" \
    "$(ip -n $A route show $B_OUT/32)"
rg=$(ip -n $A route get $H_IP)
expect "PIN_REMOTE=auto: the rest of 203.0.113.0/24 goes into the tunnel" "^$H_IP dev gre1 src $A_IN" "$rg"
col0=$(stat_of collisions) err0=$(stat_of tx_errors)
capture $R ra "host $A_OUT and (ip proto 47 or icmp)" 20 "$T/wire-auto"
check "PIN_REMOTE=auto: ping the inner peer $B_IN" nsping $A $B_IN
check "PIN_REMOTE=auto: ping H $H_IP, a host in the routed subnet behind B" nsping $A $H_IP
capture_stop
wire_seen=$(cat "$T/wire-auto")
note "R's side towards A:"
sed 's/^/#   /' "$T/wire-auto"
expect "PIN_REMOTE=auto: on the underlay the ping to H travels as GRE between the outer addresses" \
    "$A_OUT > $B_OUT: GREv0.*: IP $A_IN > $H_IP: ICMP echo request" "$wire_seen"
expect_not "PIN_REMOTE=auto: and never in the clear" "IP $A_IN > $H_IP: ICMP echo request|IP [0-9.]+ > $H_IP: ICMP" \
    "$(grep -v GRE "$T/wire-auto")"
col1=$(stat_of collisions) err1=$(stat_of tx_errors)
expect_eq "PIN_REMOTE=auto: gre1 collisions stay at 0" "0 0" "$col0 $col1"
expect_eq "PIN_REMOTE=auto: gre1 TX errors stay at 0" "0 0" "$err0 $err1"

# ---------------------------------------------------------------- PIN_REMOTE=no
check "A down" gt $A down gre1
write_a no
check "PIN_REMOTE=no: A up" gt $A up "$T/a/ifcfg-gre1"
note "A's routes: $(ip -n $A route show | tr '\n' ';')"
rg=$(ip -n $A route get $B_OUT)
note "ip route get $B_OUT: $(tr '\n' ' ' <<<"$rg")"
expect "PIN_REMOTE=no: the route to B's outer address is the tunnel itself" "^$B_OUT dev gre1 " "$rg"
col0=$(stat_of collisions) err0=$(stat_of tx_errors)
check_not "PIN_REMOTE=no: the inner peer does not answer" nsping $A $B_IN
check_not "PIN_REMOTE=no: H does not answer" nsping $A $H_IP
col1=$(stat_of collisions) err1=$(stat_of tx_errors)
note "gre1 collisions $col0 -> $col1, TX errors $err0 -> $err1"
ip -n $A -s link show gre1 | sed 's/^/#   /'
check "PIN_REMOTE=no: gre1 collisions went up (the tunnel routed into itself)" test "${col1:-0}" -gt "${col0:-0}"
check "PIN_REMOTE=no: gre1 TX errors went up" test "${err1:-0}" -gt "${err0:-0}"
check "A down" gt $A down gre1
check "B down" gt $B down gre1
finish
