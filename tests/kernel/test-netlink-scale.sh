#!/bin/bash
# One tunnel's netlink traffic does not grow with the number of other tunnels. gre1 (lib-apply's
# cfg_gre1: ESP, pinned remote, IPv4 and IPv6 addresses and routes) in namespace A, first among
# 2 other GRE links, then among 60 (made by ip -batch, each with an IPv4 and an IPv6 address and
# a route of its own). For `status gre1`, a second `up` (which finds the tunnel up as planned and
# probes every object) and `down`, the bytes gre-tunnel reads from netlink (recvmsg and recvmmsg,
# counted by strace) must be the same among 60 as among 2, within 1 KiB: whole-table dumps of
# addresses or routes read ~0.5 KiB more per other tunnel. Each result is also checked against
# the kernel (status shows gre1's addresses, down leaves nothing of gre1).
# `down` of this one ESP tunnel (2 states, 2 policies, the pinned route, the link) probes and
# removes its objects in batches: at most DOWN_SENDS sendmsg and DOWN_RECVS recvmsg/recvmmsg
# (one round trip per object, probe and removal apart, took 11 and about 30).
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-netlink-scale.sh
. "$(dirname "$0")/lib-apply.sh"

export GRE_TUNNEL_STATE_DIR=$T/state
A=nls-a B=nls-b
apply_pair $A $B
cfg_gre1 "$T/a"
CFG=$T/a/ifcfg-gre1
SLACK=1024
DOWN_SENDS=6 DOWN_RECVS=12

# others FROM TO: GRE links o<FROM>..o<TO> in A, each with two addresses and two routes.
others() {
    local i
    for ((i = $1; i <= $2; i++)); do
        echo "link add o$i type gre local 192.0.2.1 remote 192.0.2.2 key $((1000 + i))"
        echo "addr add 198.51.100.$((64 + i))/32 dev o$i"
        echo "addr add 2001:db8:100::$i/128 dev o$i nodad"
        echo "link set o$i up"
        echo "route add 203.0.113.$i/32 dev o$i metric 9"
        echo "route add 2001:db8:200:$i::/64 dev o$i"
    done >"$T/batch"
    ip -n $A -batch "$T/batch"
}

# nlbytes OUT CMD...: runs gre-tunnel CMD in A under strace; OUT gets its output; prints the
# bytes it read from netlink sockets (recvmsg results, recvmmsg message lengths). OUT.calls gets
# the number of sendmsg calls and of recvmsg and recvmmsg calls.
nlbytes() {
    local out=$1
    shift
    ip netns exec $A strace -f -qq -o "$T/st" -e trace=sendmsg,recvmsg,recvmmsg -e abbrev=none \
        "$G" "$@" >"$out" 2>&1
    echo "$(grep -c 'sendmsg(' "$T/st") $(grep -c -E 'recvm?msg\(' "$T/st")" >"$out.calls"
    awk '/recvmsg\(/ && $NF ~ /^[0-9]+$/ { n += $NF }
         /recvmmsg\(/ { while (match($0, /msg_len=[0-9]+/)) {
                            n += substr($0, RSTART + 8, RLENGTH - 8); $0 = substr($0, RSTART + RLENGTH) } }
         END { print n + 0 }' "$T/st"
}

# measure TAG: bytes of status, a second up and down of gre1, into $T/TAG.{status,reup,down}.
measure() {
    local tag=$1
    check "($tag) up" up_to $A "$CFG" "$T/up.$tag"
    nlbytes "$T/out.status.$tag" status gre1 >"$T/$tag.status"
    expect "($tag) status shows gre1's inner addresses as the kernel has them" \
        '^  address 2001:db8:2::1 peer 2001:db8:2::2/64$' "$(cat "$T/out.status.$tag")"
    expect "($tag) status: the IPv4 address too, and no other tunnel's" \
        '^  address 198\.51\.100\.1 peer 198\.51\.100\.2/30$' "$(cat "$T/out.status.$tag")"
    expect_not "($tag) status names no address of the other links" \
        '198\.51\.100\.(6[5-9]|[7-9][0-9]|1[0-9][0-9])|2001:db8:100::' "$(cat "$T/out.status.$tag")"
    nlbytes "$T/out.reup.$tag" up "$CFG" >"$T/$tag.reup"
    expect "($tag) the second up found gre1 up as planned (every object probed)" \
        'already up as configured' "$(cat "$T/out.reup.$tag")"
    nlbytes "$T/out.down.$tag" down gre1 >"$T/$tag.down"
    expect_eq "($tag) down: no link gre1 left" "" "$(ip -n $A -o link show gre1 2>/dev/null)"
    expect_eq "($tag) down: no ESP state or policy left" "" \
        "$(ip -n $A xfrm state; ip -n $A xfrm policy)"
    expect_eq "($tag) down: the pinned route to 192.0.2.2 is gone" "" \
        "$(ip -n $A route show 192.0.2.2/32 proto static)"
    read -r sends recvs <"$T/out.down.$tag.calls"
    check "($tag) down of one ESP tunnel: $sends sendmsg (at most $DOWN_SENDS)" \
        test "$sends" -le $DOWN_SENDS
    check "($tag) down of one ESP tunnel: $recvs recvmsg/recvmmsg (at most $DOWN_RECVS)" \
        test "$recvs" -le $DOWN_RECVS
    note "($tag) netlink bytes read: status $(cat "$T/$tag.status"), second up" \
        "$(cat "$T/$tag.reup"), down $(cat "$T/$tag.down")"
}

others 1 2
measure few
others 3 60
expect_eq "60 other GRE links in A" 60 "$(ip -n $A -o link show type gre | grep -c ' o[0-9]*@')"
measure many

for op in status reup down; do
    few=$(cat "$T/few.$op") many=$(cat "$T/many.$op")
    check "$op of gre1 reads as much netlink among 60 other tunnels as among 2 ($many vs $few bytes)" \
        test "$many" -le $((few + SLACK))
done
finish
