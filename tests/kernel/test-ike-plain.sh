#!/bin/bash
# IPSEC=ike never accepts plaintext GRE from the peer. A is brought up with gre-tunnel; B's
# plain iproute2 GRE link (no IPsec at all) then sends GRE to A, and A's gre1 must receive none
# of it, while the wire shows the GRE arriving and A's kernel counts it refused by a policy
# (XfrmInTmplMismatch, XfrmInNoStates or XfrmInPolBlock in /proc/net/xfrm_stat):
#   a. before negotiation completed: B's daemon silent (not running), A up with its trap;
#   b. A's daemon stopped (SIGTERM) while A's tunnel is up with an established CHILD_SA;
#   c. A's daemon killed (SIGKILL) likewise;
#   d. after a failed negotiation: B comes up with the wrong PSK and fails.
# After each, `down` on A leaves no GRE policy and no link behind.
# Arguments: the cases to run (a b c d; default all).
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-ike-pair.sh"
umask 077
ike_skip_without_charon
CASES=" ${*:-a b c d} "
case_on() { [[ $CASES == *" $1 "* ]]; }
A=plain-a B=plain-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 A_IN=198.51.100.1 B_IN=198.51.100.2
TMO=120
apply_pair $A $B
trap 'stop_all_charons; cleanup' EXIT

refused() { # refused NS: the inbound packets NS's kernel dropped for want of IPsec so far
    local n=0 f v
    for f in XfrmInTmplMismatch XfrmInNoStates XfrmInPolBlock XfrmInNoPols; do
        v=$(xfrm_stat "$1" $f)
        n=$((n + ${v:-0}))
    done
    echo $n
}
gre_policies() { ip -n "$1" xfrm policy | oneline | grep ' proto gre ' | grep -v ' socket '; }

# plain_refused LABEL: B's plain GRE link sends to A; A's gre1 must take none of it.
plain_refused() {
    local label=$1 rx0 rx1 r0 r1
    ip -n $B link add pgre type gre local $B_OUT remote $A_OUT ttl 64 &&
        ip -n $B addr add $B_IN/30 dev pgre && ip -n $B link set pgre up
    check "$label: B's plain GRE link is up" ip -n $B link show pgre
    rx0=$(rx_packets $A gre1)
    check "$label: A's gre1 is there to count (rx ${rx0:-none})" test -n "$rx0"
    r0=$(refused $A)
    capture $A wire "proto 47 and src $B_OUT" 3 "$T/plain"
    ip netns exec $B ping -q -n -c 3 -i 0.2 -W 1 $A_IN >"$T/plain.ping" 2>&1
    capture_stop
    expect "$label: wire: B's plain GRE reached A" \
        "${B_OUT//./\\.} > ${A_OUT//./\\.}: GREv0" "$(packets "$T/plain")"
    rx1=$(rx_packets $A gre1)
    expect_eq "$label: A's gre1 received none of it" "$rx0" "$rx1"
    r1=$(refused $A)
    note "$label: A's xfrm refusals $r0 -> $r1; gre1 rx $rx0 -> $rx1; B's ping: $(grep -o '[0-9]* received' "$T/plain.ping")"
    check "$label: A's kernel counts them refused for want of IPsec" test "$r1" -gt "$r0"
    ip -n $B link del pgre
}
# down_clean LABEL: down on A; no GRE link and no GRE policy of ours left (charon's own
# leftovers after SIGKILL aside, which the caller flushes first).
down_clean() {
    gt $A down gre1 >"$T/down.out" 2>&1
    expect_eq "$1: A's down succeeds" 0 "$?"
    check_not "$1: no gre1 left in A" ip -n $A link show gre1
    expect_eq "$1: no GRE policy left in A" "" "$(gre_policies $A)"
}
# established: B brings its end up against A's (already up); ping through.
established() {
    gt $B up --ike-timeout $TMO "$T/b/ifcfg-gre1" >"$T/upb.out" 2>&1
    expect_eq "$1: B's up establishes the CHILD_SA (exit 0, no warning)" "0:" "$?:$(grep warning "$T/upb.out")"
    check "$1: ping A -> B through the tunnel" nsping $A $B_IN
}

check "files for A and B (keygen, mirror)" ike_files 4 aes256gcm16

if case_on a; then
# ---------------------------------------------------------------- a. peer silent
check "A: charon starts" start_charon $A
gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >"$T/upa.out" 2>&1
expect_eq "a: A up, the peer silent (exit 0)" 0 "$?"
expect "a: A warns that no SA is there yet" 'without an IPsec SA yet' "$(cat "$T/upa.out")"
plain_refused "a (peer silent)"
down_clean a
fi

if case_on b || case_on c; then
[ -n "${CPID[$A]:-}" ] || check "A: charon starts" start_charon $A
check "B: charon starts" start_charon $B
fi
for c in b c; do
    case_on $c || continue
    sig=TERM
    [ $c = c ] && sig=KILL
    # ------------------------------------------------------------ b/c. A's daemon stops/dies
    [ -n "${CPID[$A]:-}" ] || check "$c: A's charon starts again" start_charon $A
    gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >"$T/upa.out" 2>&1
    expect_eq "$c: A up (exit 0)" 0 "$?"
    established $c
    stop_charon $A $sig
    note "$c: after SIG$sig, A's GRE policies: $(gre_policies $A | sed -E 's/ (tmpl|src [^ ]+ dst [^ ]+ proto esp).*//' | tr '\n' ';')"
    note "$c: A's ESP states: $(ip -n $A xfrm state | grep -c '^src')"
    # Whatever charon left, gre-tunnel's own block policies (mark 0/1 and 1/1 each way) stay.
    expect_eq "$c: gre-tunnel's four block policies outlive the daemon" 4 \
        "$(gre_policies $A | grep -cE ' action block priority 1000000 .*mark (0|0x1)/0x1')"
    gt $B down gre1 >/dev/null 2>&1
    plain_refused "$c (A's daemon SIG$sig)"
    # charon's own policies and SAs survive SIGKILL; nobody owns them any more: removed here,
    # as an administrator would (charon's carry no mark; ours stay for `down`).
    if [ $c = c ]; then
        ip -n $A xfrm state flush
        ip -n $A xfrm policy delete src $A_OUT/32 dst $B_OUT/32 proto gre dir out
        ip -n $A xfrm policy delete src $B_OUT/32 dst $A_OUT/32 proto gre dir in
    fi
    down_clean $c
done

if case_on d; then
# ---------------------------------------------------------------- d. failed negotiation
[ -n "${CPID[$A]:-}" ] || check "A: charon starts" start_charon $A
[ -n "${CPID[$B]:-}" ] || check "B: charon starts" start_charon $B
gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >"$T/upa.out" 2>&1
expect_eq "d: A up, B not yet (exit 0)" 0 "$?"
mkdir -p "$T/bbad"
cp "$T/b/ifcfg-gre1" "$T/b/keys-gre1" "$T/bbad/"
"$G" keygen "$T/bbad/ifcfg-gre1" >/dev/null
check_not "d: B's wrong PSK differs from A's" cmp -s "$T/a/keys-gre1" "$T/bbad/keys-gre1"
out=$(gt $B up --ike-timeout $TMO "$T/bbad/ifcfg-gre1" 2>&1)
expect_eq "d: B's up with the wrong PSK fails (exit 1)" 1 "$?"
expect "d: ... saying authentication failed" 'IKE authentication failed' "$out"
expect_not "d: no IKE_SA of ours established in A's daemon" 'ESTABLISHED' "$(sw $A --list-sas 2>&1)"
plain_refused "d (after a failed negotiation)"
down_clean d
fi

[ "$_failed" = 0 ] || charon_log $A $B
finish
