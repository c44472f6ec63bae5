#!/bin/bash
# A symmetric pair: end A from an ifcfg file written here, end B from the file `gre-tunnel mirror`
# wrote, over a veth wire between two namespaces. Asserts what the kernel shows (ip -d link, ip
# route) and what the wire carries (tcpdump -v: outer TTL, DF, GRE key/seq/csum flags, inner
# source), pings both ways and to the networks behind each end. Then: a custom TTL, a pair with
# a wrong key that must NOT pass traffic, and an ifup-tunnel-era file (TYPE=GRE).
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-pair.sh
. "$(dirname "$0")/lib.sh"

A=pair-a B=pair-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
# A network behind each end: B's is routed by A's ROUTES, A's by the mirror's (LOCAL_NETWORKS).
ip -n $B link add lan type dummy
ip -n $B addr add 203.0.113.1/25 dev lan
ip -n $B link set lan up
ip -n $A link add lan type dummy
ip -n $A addr add 203.0.113.129/25 dev lan
ip -n $A link set lan up
mkdir -p "$T/a" "$T/b" "$T/bad"

# both_down NAME: take the tunnel down on both ends (each removes what it created).
both_down() {
    gt $A down "$1" >/dev/null
    gt $B down "$1" >/dev/null
    ! ip -n $A link show "$1" >/dev/null 2>&1 && ! ip -n $B link show "$1" >/dev/null 2>&1 ||
        note "down left $1 behind"
}

# ---------------------------------------------------------------- 1: IKEY != OKEY, SEQ, CSUM
note "pair 1: IKEY=1 OKEY=2 SEQ=yes CSUM=yes, TTL and PMTUDISC left at their defaults"
cat >"$T/a/ifcfg-gre1" <<'CFG'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
ROUTES="203.0.113.0/25 metric 10"
LOCAL_NETWORKS="203.0.113.128/25"
IKEY=1
OKEY=2
SEQ=yes
CSUM=yes
CFG
check "mirror writes B's file" "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1"
check "check A B: the files mirror each other" "$G" check "$T/a/ifcfg-gre1" "$T/b/ifcfg-gre1"
check "A up" gt $A up "$T/a/ifcfg-gre1"
check "B up (from the mirror)" gt $B up "$T/b/ifcfg-gre1"

la=$(ip -n $A -d link show gre1)
lb=$(ip -n $B -d link show gre1)
expect "A: gre between the outer addresses" 'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ' "$la"
expect "B: gre between the outer addresses" 'gre remote 192\.0\.2\.1 local 192\.0\.2\.2 ' "$lb"
expect "A: ttl 64 by default (not inherit)" ' ttl 64 ' "$la"
expect "B: ttl 64 by default (not inherit)" ' ttl 64 ' "$lb"
expect "A: ikey 1 okey 2" ' ikey 0\.0\.0\.1 okey 0\.0\.0\.2 ' "$la"
expect "B: keys swapped by the mirror: ikey 2 okey 1" ' ikey 0\.0\.0\.2 okey 0\.0\.0\.1 ' "$lb"
expect "A: iseq oseq" ' iseq oseq ' "$la"
expect "B: iseq oseq" ' iseq oseq ' "$lb"
expect "A: icsum ocsum" ' icsum ocsum ' "$la"
expect "B: icsum ocsum" ' icsum ocsum ' "$lb"
expect_not "A: pmtudisc on (no nopmtudisc)" 'nopmtudisc' "$la"
expect_not "B: pmtudisc on (no nopmtudisc)" 'nopmtudisc' "$lb"
expect_eq "A: MTU is gre-tunnel mtu" "$(gt $A mtu "$T/a/ifcfg-gre1")" "$(link_mtu $A gre1)"
expect_eq "B: MTU is gre-tunnel mtu" "$(gt $B mtu "$T/b/ifcfg-gre1")" "$(link_mtu $B gre1)"
expect_eq "A and B have the same MTU" "$(link_mtu $A gre1)" "$(link_mtu $B gre1)"
note "MTU $(link_mtu $A gre1) (1500 - 20 IP - 16 GRE with key, seq, csum)"

ra=$(ip -n $A route show dev gre1)
rb=$(ip -n $B route show dev gre1)
expect "A: ROUTES via gre1 with src = inner address, metric 10" \
    '^203\.0\.113\.0/25 .*src 198\.51\.100\.1 .*metric 10' "$ra"
expect "B: the mirror routes A's LOCAL_NETWORKS with src = its inner address" \
    '^203\.0\.113\.128/25 .*src 198\.51\.100\.2' "$rb"

capture $B wire 'ip proto 47 or icmp' 1000 "$T/cap1" -v
check "ping A -> B inner (inner TTL 7)" nsping $A -t 7 198.51.100.2
check "ping B -> A inner" nsping $B 198.51.100.1
check "ping A -> network behind B (ROUTES)" nsping $A 203.0.113.1
check "ping B -> network behind A (mirror's ROUTES)" nsping $B 203.0.113.129
capture_stop
w=$(packets "$T/cap1")
gre_ab=$(grep -E 'proto GRE .* 192\.0\.2\.1 > 192\.0\.2\.2: GREv0' <<<"$w")
gre_ba=$(grep -E 'proto GRE .* 192\.0\.2\.2 > 192\.0\.2\.1: GREv0' <<<"$w")
note "wire: $(wc -l <<<"$gre_ab") GRE packets A->B, $(wc -l <<<"$gre_ba") B->A"
expect "wire: A->B carries key 2, seq and csum" \
    'Flags \[checksum present, key present, sequence# present\].* key=0x2, seq [0-9]' "$gre_ab"
expect "wire: B->A carries key 1, seq and csum" \
    'Flags \[checksum present, key present, sequence# present\].* key=0x1, seq [0-9]' "$gre_ba"
expect_not "wire: no A->B GRE with another key" 'key=0x[^2],' "$gre_ab"
expect "wire: outer TTL 64 although the inner TTL is 7" \
    '^[0-9:.]+ IP \(tos [^,]*, ttl 64, .*proto GRE.* ttl 7, .*ICMP echo request' "$gre_ab"
expect_not "wire: the outer TTL is never the inner 7" '^[0-9:.]+ IP \(tos [^,]*, ttl 7, ' "$gre_ab"
expect_not "wire: pmtudisc: every outer GRE packet has DF" \
    '^[0-9:.]+ IP \([^)]*flags \[none\], proto GRE' "$w"
expect "wire: traffic to B's network has src = A's inner address" \
    'GREv0.* 198\.51\.100\.1 > 203\.0\.113\.1: ICMP echo request' "$gre_ab"
expect "wire: traffic to A's network has src = B's inner address" \
    'GREv0.* 198\.51\.100\.2 > 203\.0\.113\.129: ICMP echo request' "$gre_ba"
both_down gre1

# ---------------------------------------------------------------- 2: custom TTL, KEY
note "pair 2: KEY=7 TTL=99"
rm -f "$T/a"/* "$T/b"/*
cat >"$T/a/ifcfg-gre2" <<'CFG'
DEVICE=gre2
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.5/30
PEER_INNER_IPADDR=198.51.100.6
KEY=7
TTL=99
CFG
"$G" mirror -o "$T/b" "$T/a/ifcfg-gre2" >/dev/null
check "check A B (TTL=99)" "$G" check "$T/a/ifcfg-gre2" "$T/b/ifcfg-gre2"
check "A up" gt $A up "$T/a/ifcfg-gre2"
check "B up" gt $B up "$T/b/ifcfg-gre2"
la=$(ip -n $A -d link show gre2)
lb=$(ip -n $B -d link show gre2)
expect "A: ttl 99" ' ttl 99 ' "$la"
expect "B: ttl 99 (mirrored)" ' ttl 99 ' "$lb"
expect "A: KEY=7 is ikey 7 okey 7" ' ikey 0\.0\.0\.7 okey 0\.0\.0\.7 ' "$la"
expect "B: ikey 7 okey 7" ' ikey 0\.0\.0\.7 okey 0\.0\.0\.7 ' "$lb"
expect_not "A: no iseq/oseq/icsum/ocsum when SEQ/CSUM are not set" ' (i|o)(seq|csum) ' "$la"
expect_eq "A: MTU is gre-tunnel mtu" "$(gt $A mtu "$T/a/ifcfg-gre2")" "$(link_mtu $A gre2)"
capture $B wire 'ip proto 47' 1000 "$T/cap2" -v
check "ping A -> B inner" nsping $A 198.51.100.6
capture_stop
w=$(packets "$T/cap2")
expect "wire: outer TTL 99" '^[0-9:.]+ IP \(tos [^,]*, ttl 99, .*192\.0\.2\.1 > 192\.0\.2\.2: GREv0' "$w"
expect "wire: A->B GRE carries key 7 and no seq" 'GREv0, Flags \[key present\], key=0x7, length' "$w"

note "asymmetric pair: B's KEY is 8"
sed 's/^KEY=.*/KEY=8/' "$T/b/ifcfg-gre2" >"$T/bad/ifcfg-gre2"
exit_1() { "$@"; [ $? = 1 ]; }
check "check A B' names the mismatch (exit 1)" exit_1 "$G" check "$T/a/ifcfg-gre2" "$T/bad/ifcfg-gre2"
gt $B down gre2 >/dev/null
check "B' up" gt $B up "$T/bad/ifcfg-gre2"
expect "B': the kernel has the wrong key (ikey 8 okey 8)" ' ikey 0\.0\.0\.8 okey 0\.0\.0\.8 ' \
    "$(ip -n $B -d link show gre2)"
capture $B wire 'ip proto 47' 1000 "$T/cap3"
check "asymmetric: ping A -> B inner fails" nsping_fails $A 198.51.100.6
check "asymmetric: ping B -> A inner fails" nsping_fails $B 198.51.100.5
capture_stop
expect "asymmetric: A's GRE (key 7) did reach B's wire" '192\.0\.2\.1 > 192\.0\.2\.2: GREv0, key=0x7' "$(cat "$T/cap3")"
gt $B down gre2 >/dev/null
check "B up again with the mirrored file" gt $B up "$T/b/ifcfg-gre2"
check "symmetric again: ping A -> B inner works" nsping $A 198.51.100.6
both_down gre2

# ---------------------------------------------------------------- 3: ifup-tunnel-era file
note "pair 3: files written for network-scripts' ifup-tunnel (TYPE=GRE)"
cat >"$T/a/ifcfg-legacy" <<'CFG'
# Written for network-scripts' own ifup-tunnel.
DEVICE=legacy
BOOTPROTO=none
ONBOOT=no
TYPE=GRE
PEER_OUTER_IPADDR=192.0.2.2
MY_OUTER_IPADDR=192.0.2.1
PEER_INNER_IPADDR=198.51.100.201
MY_INNER_IPADDR=198.51.100.200
KEY=7
TTL=255
MTU=1400
CFG
cat >"$T/b/ifcfg-legacy" <<'CFG'
DEVICE=legacy
BOOTPROTO=none
ONBOOT=no
TYPE=GRE
PEER_OUTER_IPADDR=192.0.2.1
MY_OUTER_IPADDR=192.0.2.2
PEER_INNER_IPADDR=198.51.100.200
MY_INNER_IPADDR=198.51.100.201
KEY=7
TTL=255
MTU=1400
CFG
check "check A B (legacy files)" "$G" check "$T/a/ifcfg-legacy" "$T/b/ifcfg-legacy"
check "A up (legacy)" gt $A up "$T/a/ifcfg-legacy"
check "B up (legacy)" gt $B up "$T/b/ifcfg-legacy"
la=$(ip -n $A -d link show legacy)
expect "legacy: a gre device between the outer addresses" \
    'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ttl 255 .*ikey 0\.0\.0\.7 okey 0\.0\.0\.7' "$la"
expect_eq "legacy: MTU=1400 is set" 1400 "$(link_mtu $A legacy)"
expect "legacy: inner address with its peer" 'inet 198\.51\.100\.200 peer 198\.51\.100\.201/32' \
    "$(ip -n $A addr show dev legacy)"
check "legacy: ping A -> B inner" nsping $A 198.51.100.201
check "legacy: ping B -> A inner" nsping $B 198.51.100.200
both_down legacy

finish
