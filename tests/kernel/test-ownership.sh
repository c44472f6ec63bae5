#!/bin/bash
# Ownership: `down` removes exactly what `up` created and nothing that only looks like it;
# `up` is idempotent and recreates after a change; a SIGKILLed `up` is repaired by the next
# `up` or removed by `down`; concurrent `up`s of one tunnel are serialised.
#  (a) look-alikes (same prefix in another table or with another metric, a policy with the same
#      selector but a mark, other SAs, similarly named gre links) and same-identity objects
#      replaced by hand (a foreign link named gre1, a pin route of another protocol, a policy of
#      another priority, an SA of another reqid) survive `down`; everything of ours is gone.
#  (b) `up` of a running tunnel changes nothing (no kernel event, same dump incl. ifindexes);
#      after a change of TTL, MTU or keys, or an MTU changed by hand, the kernel shows the new
#      values and the dump is that of a clean `up` of the new settings.
#  (c) `up` SIGKILLed (strace -e inject=sendmsg:signal=SIGKILL:when=K) just before each object
#      is created: a new `up` converges to one correct tunnel (ping, dump as a clean up); in a
#      separate run `down` removes every leftover (dump as before).
#  (d) two `up`s at once, also with the first one slowed down while holding the lock.
. "$(dirname "${BASH_SOURCE[0]}")/lib-apply.sh"

A=own-a B=own-b
trap 'mon_stop; cleanup' EXIT

apply_pair $A $B
cfg_gre1 "$T/a"
mkdir -p "$T/b"
"$G" mirror -o "$T/b" "$T/a/ifcfg-gre1" >/dev/null
CFG=$T/a/ifcfg-gre1
dump $A >"$T/before"

mon_start $A

# back_to_before DESC: the dump equals the one taken before anything was brought up.
back_to_before() {
    dump $A >"$T/now"
    check "$1" same_dump "$T/before" "$T/now"
}
# del_all DESC CMD...: each CMD (an ip command line, evaluated) must succeed.
del_all() {
    local desc=$1 failed=""
    shift
    for c in "$@"; do eval "$c" >"$T/del.out" 2>&1 || failed+="[$c: $(head -1 "$T/del.out")] "; done
    [ -z "$failed" ] && ok "$desc" || not_ok "$desc: $failed"
}

check "B (the mirror end) comes up" up_to $B "$T/b/ifcfg-gre1" "$T/out.b"

# ---- (a) down leaves look-alikes alone ----
check "(a) up" up_to $A "$CFG" "$T/out"
LOOK=(
    "ip -n $A route add 203.0.113.0/24 dev wire metric 99 proto static"
    "ip -n $A route add 203.0.113.0/24 dev wire table 100 proto static"
    "ip -n $A route add 192.0.2.2/32 dev wire metric 5 proto static"
    "ip -n $A route add 192.0.2.2/32 dev wire table 100 proto static"
    "ip -n $A -6 route add 2001:db8:3::/48 dev wire metric 8 proto static"
    "ip -n $A xfrm policy add src 192.0.2.1/32 dst 192.0.2.2/32 proto gre key 42 dir out priority 5 mark 0x1 mask 0xffffffff tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 4097 mode transport"
    "ip -n $A xfrm policy add src 192.0.2.2/32 dst 192.0.2.1/32 proto gre dir in priority 9 tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 4098 mode transport"
    "ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1003 reqid 4097 mode transport enc 'cbc(aes)' $(hexkey 16) auth-trunc 'hmac(sha256)' $(hexkey 32) 128"
    "ip -n $A link add gre1x type gre local 192.0.2.1 remote 192.0.2.3 key 42"
    "ip -n $A link add gre10 type gre local 192.0.2.1 remote 192.0.2.2 key 43"
)
UNLOOK=(
    "ip -n $A route del 203.0.113.0/24 dev wire metric 99 proto static"
    "ip -n $A route del 203.0.113.0/24 dev wire table 100"
    "ip -n $A route del 192.0.2.2/32 dev wire metric 5"
    "ip -n $A route del 192.0.2.2/32 dev wire table 100"
    "ip -n $A -6 route del 2001:db8:3::/48 dev wire metric 8"
    "ip -n $A xfrm policy del src 192.0.2.1/32 dst 192.0.2.2/32 proto gre key 42 dir out mark 0x1 mask 0xffffffff"
    "ip -n $A xfrm policy del src 192.0.2.2/32 dst 192.0.2.1/32 proto gre dir in"
    "ip -n $A xfrm state del src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1003"
    "ip -n $A link del gre1x"
    "ip -n $A link del gre10"
)
del_all "(a) ${#LOOK[@]} look-alikes added by hand" "${LOOK[@]}"
dump $A >"$T/with-look"
gt $A down gre1 >"$T/out" 2>&1
check "(a) down exits 0" test $? = 0
dump $A >"$T/after-down"
check "(a) down changed the kernel" bash -c "! diff -q '$T/with-look' '$T/after-down'"
check "(a) the kernel has no gre1 after down" bash -c "! grep -q ' gre1[@:]' '$T/after-down'"
del_all "(a) every look-alike is still there (each removal by hand succeeds)" "${UNLOOK[@]}"
back_to_before "(a) without the look-alikes the dump is the one before up: down removed all of ours"

# Same identity as ours, replaced by hand: a pin route of protocol boot, a policy of another
# priority, an SA with our SPI but another reqid.
check "(a2) up" up_to $A "$CFG" "$T/out"
del_all "(a2) three of ours replaced by same-identity foreign objects" \
    "ip -n $A route del 192.0.2.2/32 dev wire proto static" \
    "ip -n $A route add 192.0.2.2/32 dev wire" \
    "ip -n $A xfrm policy del src 192.0.2.2/32 dst 192.0.2.1/32 proto gre key 42 dir in" \
    "ip -n $A xfrm policy add src 192.0.2.2/32 dst 192.0.2.1/32 proto gre key 42 dir in priority 77 tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 4098 mode transport" \
    "ip -n $A xfrm state del src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001" \
    "ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 reqid 77 mode transport enc 'cbc(aes)' $(hexkey 16) auth-trunc 'hmac(sha256)' $(hexkey 32) 128"
gt $A down gre1 >"$T/out" 2>&1
rc=$?
check "(a2) down exits 0 and notes 3 objects left alone" test $rc = 0 -a "$(grep -c 'left alone' "$T/out")" = 3
dump $A >"$T/after-down"
check "(a2) the kernel has no gre1 after down" bash -c "! grep -q ' gre1[@:]' '$T/after-down'"
del_all "(a2) the three foreign objects are still there" \
    "ip -n $A route del 192.0.2.2/32 dev wire proto boot" \
    "ip -n $A xfrm policy del src 192.0.2.2/32 dst 192.0.2.1/32 proto gre key 42 dir in" \
    "ip -n $A xfrm state del src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001"
back_to_before "(a2) without them the dump is the one before up"

# Our link replaced by hand with a foreign gre link of the same name (other remote).
check "(a3) up" up_to $A "$CFG" "$T/out"
del_all "(a3) gre1 replaced by hand" "ip -n $A link del gre1" \
    "ip -n $A link add gre1 type gre local 192.0.2.1 remote 192.0.2.99 key 42"
gt $A down gre1 >"$T/out" 2>&1
rc=$?
check "(a3) down exits 0 with a note about gre1" \
    bash -c "[ $rc = 0 ] && grep -q 'left alone: link gre1' '$T/out'"
check "(a3) the foreign gre1 is untouched (remote 192.0.2.99)" \
    bash -c "ip -n $A -d link show gre1 | grep -q 'gre remote 192.0.2.99 local 192.0.2.1'"
check "(a3) no record is left" test ! -e "$(record_of $A gre1)"
del_all "(a3) the foreign gre1 removed by hand" "ip -n $A link del gre1"
back_to_before "(a3) then the dump is the one before up: the rest of ours was removed"

note "(a) took ${SECONDS}s"
# ---- (b) up is idempotent; a change recreates ----
check "(b) up" up_to $A "$CFG" "$T/out"
dump $A | counters_only >"$T/d1"
mon_settle
mark=$(mon_mark)
gt $A up "$CFG" >"$T/out" 2>&1
check "(b) up again exits 0" test $? = 0
mon_settle
dump $A | counters_only >"$T/d2"
check "(b) up again: dump identical, ifindexes included (ESP counters masked)" same_dump "$T/d1" "$T/d2"
mon_since "$mark" >"$T/events"
check "(b) up again: the kernel reported no event at all" bash -c "! grep . '$T/events'"
ifindex() { ip -n $A -o link show gre1 | cut -d: -f1; }

# change SETTING=VALUE LABEL GREP: up with a changed copy of the config; the kernel must show
# GREP (in ip -d link show gre1 / ip xfrm state) and the dump must be that of a clean up of the
# changed config.
change() {
    local label=$1 grepfor=$2 cfg=$3 old
    old=$(ifindex)
    up_to $A "$cfg" "$T/out"
    check "(b) $label: up exits 0" test $? = 0
    check "(b) $label: the kernel shows it ($grepfor)" \
        bash -c "{ ip -n $A -d link show gre1; ip -n $A xfrm state; } | grep -qF -- '$grepfor'"
    check "(b) $label: gre1 was recreated (ifindex $old -> $(ifindex))" test "$old" != "$(ifindex)"
    dump $A | norm >"$T/changed"
    gt $A down gre1 >/dev/null
    up_to $A "$cfg" "$T/out"
    dump $A | norm >"$T/clean"
    check "(b) $label: the dump is that of a clean up of the new settings" \
        same_dump "$T/clean" "$T/changed"
}
mkdir -p "$T/ttl" "$T/mtu" "$T/keys"
sed 's/^TTL=64/TTL=100/' "$CFG" >"$T/ttl/ifcfg-gre1"
cp -p "$T/a/keys-gre1" "$T/ttl/"
change "TTL 64 -> 100" "gre remote 192.0.2.2 local 192.0.2.1 ttl 100 " "$T/ttl/ifcfg-gre1"
{ cat "$T/ttl/ifcfg-gre1"; echo MTU=1400; } >"$T/mtu/ifcfg-gre1"
cp -p "$T/a/keys-gre1" "$T/mtu/"
change "MTU planned -> 1400" "UP,LOWER_UP> mtu 1400 " "$T/mtu/ifcfg-gre1"
cp "$T/mtu/ifcfg-gre1" "$T/keys/"
keys_for aes128-sha256 "$T/keys" gre1
newkey=$(sed -n 's/^KEY_ESP_OUT=0x//p' "$T/keys/keys-gre1")
change "new ESP keys" "enc cbc(aes) 0x$newkey" "$T/keys/ifcfg-gre1"
ip -n $A link set gre1 mtu 1300
up_to $A "$T/keys/ifcfg-gre1" "$T/out"
check "(b) MTU changed by hand to 1300: up restores 1400" \
    bash -c "ip -n $A link show gre1 | grep -q ' mtu 1400 '"
gt $A down gre1 >/dev/null
back_to_before "(b) down: the dump is the one before"

note "(a)+(b) took ${SECONDS}s"
# ---- (c) SIGKILL in the middle of up ----
# The reference: a clean up, with what changes by itself masked.
up_to $A "$CFG" "$T/out"
dump $A | norm >"$T/ref"
gt $A down gre1 >/dev/null
# Where each object is created: the K-th sendmsg of a clean up carries its NEW* message.
ip netns exec $A strace -f -o "$T/st.clean" \
    -e trace=sendmsg "$G" up "$CFG" >/dev/null 2>&1
gt $A down gre1 >/dev/null
# Only the main thread's: the kernel check of oseq-may-wrap sends from a thread in a namespace
# of its own, and strace counts each thread's calls apart (inject when=K too).
main_sendmsg() { awk 'NR == 1 { p = $1 } $1 == p' "$T/st.clean" | grep 'sendmsg('; }
# up sends its requests in batches (several messages in one sendmsg): every message counts.
creating='nlmsg_type=(XFRM_MSG_NEWSA|XFRM_MSG_NEWPOLICY|RTM_NEWROUTE|RTM_NEWLINK|RTM_NEWADDR)'
mapfile -t KS < <(main_sendmsg | grep -n -E "$creating" | cut -d: -f1)
total=$(main_sendmsg | grep -c .)
msgs=$(main_sendmsg | grep -oE "$creating" | grep -c .)
steps=$(gt $A plan "$CFG" | grep -vc '^#')
check "(c) a clean up sends one creating message per step ($steps steps, $msgs such messages in ${#KS[@]} of $total sendmsg)" \
    test "$msgs" = "$steps"
back_to_before "(c) before the crashes the dump is the one before"

# crash K: up, SIGKILLed on entering its K-th sendmsg; the kill must really have happened.
crash() {
    # In a subshell that waits for it, so that bash's "Killed" goes to /dev/null.
    (
        ip netns exec $A strace -f -s 0 -o "$T/st.kill" \
            -e trace=sendmsg -e inject=sendmsg:signal=SIGKILL:when=$1 "$G" up "$CFG" >/dev/null 2>&1
        true
    ) 2>/dev/null
    grep -q 'killed by SIGKILL' "$T/st.kill"
}
for K in 1 "${KS[@]}"; do
    # A batched sendmsg carries several requests: their types joined with '+', on one line.
    what=$(main_sendmsg | sed -n "${K}p" | grep -oE 'nlmsg_type=[A-Z_]+' | cut -d= -f2 | paste -sd+)
    # Run 1: crash, then up again.
    check "(c) K=$K ($what): up was SIGKILLed" crash $K
    up_to $A "$CFG" "$T/out"
    rc=$?
    dump $A | norm >"$T/now"
    if [ $rc = 0 ] && same_dump "$T/ref" "$T/now" >"$T/diff"; then
        ok "(c) K=$K: after the crash up converges: dump as a clean up"
    else
        not_ok "(c) K=$K: up after the crash: rc=$rc"
        sed 's/^/#   /' "$T/out" "$T/diff" | head -30
    fi
    check "(c) K=$K: ping through the tunnel (IPv4 and IPv6)" bash -c \
        "ip netns exec $A ping -c 1 -W 3 198.51.100.2 && ip netns exec $A ping -6 -c 1 -W 3 2001:db8:2::2"
    gt $A down gre1 >/dev/null
    # Run 2 (starts from what this down left: any leftover would show in its comparison): crash, then down.
    crash $K || note "K=$K: second crash did not happen"
    # What the crash left: links named gre1 / ESP states (for the last K, both).
    left=$(ip -n $A -o link show gre1 2>/dev/null | grep -c gre1)/$(ip -n $A xfrm state | grep -c '^src')
    LEFT=$left
    gt $A down gre1 >"$T/out" 2>&1
    rc=$?
    dump $A >"$T/now"
    if [ $rc = 0 ] && same_dump "$T/before" "$T/now" >"$T/diff" && [ ! -e "$(record_of $A gre1)" ]; then
        ok "(c) K=$K: crash (left link/SAs: $left) then down: exit 0, the dump is the one before, no record"
    else
        not_ok "(c) K=$K: crash then down: rc=$rc"
        sed 's/^/#   /' "$T/out" "$T/diff" | head -30
    fi
done
check "(c) the last crash left objects behind (link/SAs $LEFT), so down had work to do" \
    test "$LEFT" = 1/2

note "(a)-(c) took ${SECONDS}s"
# ---- (d) concurrent ups ----
for round in 1 2; do
    mon_settle
    mark=$(mon_mark)
    gt $A up "$CFG" >"$T/o1" 2>&1 &
    p1=$!
    gt $A up "$CFG" >"$T/o2" 2>&1 &
    p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    mon_settle
    dump $A | norm >"$T/now"
    check "(d) round $round: two concurrent ups both exit 0 ($r1, $r2)" test "$r1$r2" = 00
    check "(d) round $round: the dump is that of one clean up" same_dump "$T/ref" "$T/now"
    mon_since "$mark" >"$T/events"
    check "(d) round $round: the kernel saw no removal" bash -c "! grep '^Deleted' '$T/events'"
    check "(d) round $round: ping" ip netns exec $A ping -c 1 -W 3 198.51.100.2
    gt $A down gre1 >/dev/null
    back_to_before "(d) round $round: down: the dump is the one before"
done
# The first up slowed down (each sendmsg delayed 1 s: up sends its requests in a few batches)
# while it holds the lock; the second starts in the middle of it.
mon_settle
mark=$(mon_mark)
ip netns exec $A strace -f -qq -o /dev/null \
    -e trace=sendmsg -e inject=sendmsg:delay_enter=1000000 "$G" up "$CFG" >"$T/o1" 2>&1 &
p1=$!
for _ in $(seq 300); do [ -e "$(record_of $A gre1)" ] && break; sleep 0.1; done
check "(d) the slow up has taken the lock and written its record" test -e "$(record_of $A gre1)"
gt $A up "$CFG" >"$T/o2" 2>&1
r2=$?
wait $p1
r1=$?
mon_settle
dump $A | norm >"$T/now"
check "(d) slow up + up in its middle: both exit 0 ($r1, $r2)" test "$r1$r2" = 00
check "(d) slow up + up in its middle: the dump is that of one clean up" same_dump "$T/ref" "$T/now"
mon_since "$mark" >"$T/events"
check "(d) slow up + up in its middle: the kernel saw no removal" bash -c "! grep '^Deleted' '$T/events'"
gt $A down gre1 >/dev/null
back_to_before "(d) down: the dump is the one before"

finish
