#!/bin/bash
# Ownership records per network namespace, in the default state directory as users have it (no
# GRE_TUNNEL_STATE_DIR; in the VM /run is a fresh tmpfs). Namespaces A and B each run a tunnel
# named gre1 with settings of their own (B's is A's mirror with TTL 100):
#  (a) up in both: neither takes the other's record; each record is in its namespace's directory
#      (named after the cookie the kernel gives a socket made there); A's kernel dump is the same
#      after B's up; a ping goes through both with ESP.
#  (b) status in each namespace shows its own tunnel and settings.
#  (c) down in A: A's dump is the one before anything; B's dump is identical before and after.
#  (d) the lock is per namespace: an up in B does not wait for a slowed-down up in A.
#  (e) crash recovery per namespace: up SIGKILLed in B; B's next up takes the leftovers over and
#      converges; a crash in A then down in A leaves nothing; A's and B's other tunnel untouched.
#  (f) a namespace deleted with its tunnel in it: status elsewhere calls its record stale; the
#      next up elsewhere removes it.
#  (g) a record an earlier version left in the host-wide directory: not taken by a namespace
#      whose gre1 is not the recorded one; adopted (and said so) by the one whose gre1 it is,
#      and `down` there removes the tunnel; in the VM, adopted by the initial namespace.
. "$(dirname "${BASH_SOURCE[0]}")/lib-apply.sh"

unset GRE_TUNNEL_STATE_DIR
RUN=/run/gre-tunnel
A=nsr-a B=nsr-b
apply_pair $A $B
cfg_gre1 "$T/a"
mkdir -p "$T/b"
"$G" mirror -o "$T/b" "$T/a/ifcfg-gre1" >/dev/null
sed -i '/^TTL=/d' "$T/b/ifcfg-gre1"
echo TTL=100 >>"$T/b/ifcfg-gre1"
CA=$T/a/ifcfg-gre1 CB=$T/b/ifcfg-gre1
dump $A >"$T/a.before"
dump $B >"$T/b.before"

# both_up: gre1 up in A, then in B, from nothing.
both_up() {
    up_to $A "$CA" "$T/up.a" && up_to $B "$CB" "$T/up.b"
}
# no_takeover OUT: an up's output says nothing of a previous instance.
no_takeover() { ! grep -E 'recreat|was:|changed|incomplete' "$1"; }
# link_of NS: gre1's outer addresses and TTL as the kernel has them.
link_of() { ip -n "$1" -d link show gre1 | grep -oE 'gre remote [0-9.]+ local [0-9.]+ ttl [0-9a-z]+'; }

# ---- (a) ----
check "(a) up in A" up_to $A "$CA" "$T/up.a"
dump $A | counters_only >"$T/a.up"
check "(a) up in B (same name, other settings) exits 0" up_to $B "$CB" "$T/up.b"
check "(a) B's up says nothing of a previous instance (it took no record of A's)" \
    no_takeover "$T/up.b"
dump $A | counters_only >"$T/a.now"
check "(a) A's dump is the same after B's up, ifindexes included (ESP counters masked)" \
    same_dump "$T/a.up" "$T/a.now"
expect "(a) kernel in A: gre1 remote 192.0.2.2 local 192.0.2.1 ttl 64" \
    '^gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ttl 64$' "$(link_of $A)"
expect "(a) kernel in B: gre1 remote 192.0.2.1 local 192.0.2.2 ttl 100" \
    '^gre remote 192\.0\.2\.1 local 192\.0\.2\.2 ttl 100$' "$(link_of $B)"
RA=$(record_of $A gre1) RB=$(record_of $B gre1)
check "(a) A's and B's namespaces have cookies of their own ($(netns_cookie $A), $(netns_cookie $B))" \
    test "$(netns_cookie $A)" != "$(netns_cookie $B)"
check "(a) A's record is in A's directory ($RA) and lists A's link" \
    grep -q '^step=link name=gre1 kind=gre local=192.0.2.1 remote=192.0.2.2 .* ttl=64 ' "$RA"
check "(a) B's record is in B's directory ($RB) and lists B's link" \
    grep -q '^step=link name=gre1 kind=gre local=192.0.2.2 remote=192.0.2.1 .* ttl=100 ' "$RB"
check_not "(a) no record in the host-wide directory" test -e "$RUN/gre1.state"
check "(a) both directories and the records are root's only (0700, 0600)" bash -c \
    "[ \$(stat -c %a '${RA%/*}') = 700 ] && [ \$(stat -c %a '${RB%/*}') = 700 ] &&
     [ \$(stat -c %a '$RA') = 600 ] && [ \$(stat -c %a '$RB') = 600 ]"
capture $A wire 'ip proto 50 or ip proto 47' 12 "$T/wire"
check "(a) ping A -> B through the tunnels" nsping $A 198.51.100.2
capture_stop
check "(a) ... as ESP on the wire, no GRE in the clear" \
    bash -c "grep -q 'ESP(spi=' '$T/wire' && ! grep -q GREv0 '$T/wire'"

# ---- (b) ----
gt $A status >"$T/st.a" 2>&1
gt $B status >"$T/st.b" 2>&1
expect "(b) status in A: A's gre1 (local 192.0.2.1 remote 192.0.2.2, ttl 64)" \
    '^  link gre1: gre, up, local 192\.0\.2\.1 remote 192\.0\.2\.2, mtu [0-9]+, ttl 64, ikey 42' \
    "$(cat "$T/st.a")"
expect "(b) status in B: B's gre1 (local 192.0.2.2 remote 192.0.2.1, ttl 100)" \
    '^  link gre1: gre, up, local 192\.0\.2\.2 remote 192\.0\.2\.1, mtu [0-9]+, ttl 100, ikey 42' \
    "$(cat "$T/st.b")"
expect_not "(b) status in A shows nothing of B's, nothing missing or stale" \
    'local 192\.0\.2\.2|missing|stale|not up' "$(cat "$T/st.a")"
expect_not "(b) status in B shows nothing of A's, nothing missing or stale" \
    'local 192\.0\.2\.1 remote|missing|stale|not up' "$(cat "$T/st.b")"

# ---- (c) ----
dump $B | counters_only >"$T/b.up"
gt $A down gre1 >"$T/down.a" 2>&1
check "(c) down in A exits 0" test $? = 0
dump $A >"$T/a.now"
check "(c) A's dump is the one before anything: down removed all of A's" \
    same_dump "$T/a.before" "$T/a.now"
dump $B | counters_only >"$T/b.now"
check "(c) B's dump is identical before and after A's down (ESP counters masked)" \
    same_dump "$T/b.up" "$T/b.now"
check "(c) B's record is still there" test -e "$RB"
check_not "(c) A's record is gone" test -e "$RA"
gt $B status >"$T/st.b" 2>&1
expect "(c) status in B still shows B's gre1" \
    '^  link gre1: gre, up, local 192\.0\.2\.2 remote 192\.0\.2\.1' "$(cat "$T/st.b")"
gt $B down gre1 >/dev/null
dump $B >"$T/b.now"
check "(c) down in B: B's dump is the one before anything" same_dump "$T/b.before" "$T/b.now"

note "(a)-(c) took ${SECONDS}s"
# ---- (d) ----
# A's up slowed down holds A's lock for seconds; B's up meanwhile. up sends its requests in a
# few batches and collects each batch's answers with one recvmmsg, so after its first ESP state
# only about three sendmsg and three recvmmsg are left: each is delayed 2 s, which leaves B's up
# a window of some 12 s even on a loaded machine.
ip netns exec $A strace -f -qq -o /dev/null -e trace=sendmsg,recvmmsg \
    -e inject=sendmsg,recvmmsg:delay_enter=2000000 "$G" up "$CA" >"$T/up.a" 2>&1 &
p1=$!
# Its first object in the kernel shows that it holds its lock (whatever the record layout).
for _ in $(seq 900); do ip -n $A xfrm state | grep -q '^src' && break; sleep 0.1; done
check "(d) the slow up in A is under way (its first ESP state is in the kernel)" \
    bash -c "ip -n $A xfrm state | grep -q '^src' && kill -0 $p1"
check "(d) ... and has written its record in A's directory" test -e "$RA"
up_to $B "$CB" "$T/up.b"
rb=$?
kill -0 $p1 2>/dev/null
still=$?
check "(d) B's up exits 0 while A's slow up is still running (it did not wait for A's lock)" \
    test "$rb/$still" = 0/0
wait $p1
check "(d) A's slow up exits 0 after it" test $? = 0
check "(d) neither up took over a previous instance" \
    bash -c "! grep -E 'recreat|was:' '$T/up.a' '$T/up.b'"
dump $A | norm >"$T/a.ref"
dump $B | norm >"$T/b.ref"
dump $A | counters_only >"$T/a.up"
expect "(d) kernel: A's gre1 is A's" '^gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ttl 64$' "$(link_of $A)"
expect "(d) kernel: B's gre1 is B's" '^gre remote 192\.0\.2\.1 local 192\.0\.2\.2 ttl 100$' "$(link_of $B)"

note "(d) took ${SECONDS}s"
# ---- (e) ----
# Where a clean up in B creates its link: the K-th sendmsg carries RTM_NEWLINK. Killed there, B
# is left with its SAs and policies but no link.
gt $B down gre1 >/dev/null
ip netns exec $B strace -f -o "$T/st.clean" -e trace=sendmsg "$G" up "$CB" >/dev/null 2>&1
gt $B down gre1 >/dev/null
# Only the main thread's sendmsg count: the kernel check of oseq-may-wrap sends from a thread of
# its own, and strace counts (and injects at when=K) each thread's calls apart.
K=$(awk 'NR == 1 { p = $1 } $1 == p' "$T/st.clean" | grep 'sendmsg(' |
    grep -n 'nlmsg_type=RTM_NEWLINK' | head -1 | cut -d: -f1)
check "(e) a clean up in B creates its link at sendmsg K=$K" test -n "$K"
# crash NS CONFIG: up in NS, SIGKILLed on entering its K-th sendmsg; the kill must have happened.
crash() {
    (
        ip netns exec $1 strace -f -s 0 -o "$T/st.kill" -e trace=sendmsg \
            -e inject=sendmsg:signal=SIGKILL:when=$K "$G" up "$2" >/dev/null 2>&1
        true
    ) 2>/dev/null
    grep -q 'killed by SIGKILL' "$T/st.kill"
}
check "(e) up in B SIGKILLed before it created its link" crash $B "$CB"
check "(e) ... leaving B with ESP states and no gre1" bash -c \
    "[ \$(ip -n $B xfrm state | grep -c '^src') = 2 ] && ! ip -n $B link show gre1"
dump $A | counters_only >"$T/a.now"
check "(e) A's dump is untouched by the crash in B" same_dump "$T/a.up" "$T/a.now"
up_to $B "$CB" "$T/up.b"
rc=$?
check "(e) the next up in B exits 0 and takes the leftovers over" \
    bash -c "[ $rc = 0 ] && grep -q 'gre1 was incomplete' '$T/up.b'"
dump $B | norm >"$T/b.now"
check "(e) B's dump is that of a clean up" same_dump "$T/b.ref" "$T/b.now"
dump $A | counters_only >"$T/a.now"
check "(e) A's dump is still untouched (ifindexes included)" same_dump "$T/a.up" "$T/a.now"
check "(e) ping A -> B through the tunnels" nsping $A 198.51.100.2
dump $B | counters_only >"$T/b.up"
gt $A down gre1 >/dev/null
check "(e) up in A SIGKILLed before it created its link" crash $A "$CA"
gt $A down gre1 >"$T/down.a" 2>&1
check "(e) down in A after the crash exits 0" test $? = 0
dump $A >"$T/a.now"
check "(e) ... and A's dump is the one before anything, with no record left" \
    bash -c "diff -u '$T/a.before' '$T/a.now' && [ ! -e '$RA' ]"
dump $B | counters_only >"$T/b.now"
check "(e) B's dump is untouched by A's crash and down" same_dump "$T/b.up" "$T/b.now"

note "(a)-(e) took ${SECONDS}s"
# ---- (f) ----
# Namespaces D and E, joined like A and B; D runs A's very settings, then both are deleted with
# the tunnel up: the kernel removes the link and everything with it.
check "(f) up in A" up_to $A "$CA" "$T/up.a"
D=nsr-d E=nsr-e
netns $D $E
wire $D 192.0.2.1/24 $E 192.0.2.2/24
ip -n $D addr add 2001:db8:1::1/64 dev wire nodad
check "(f) up in D of A's settings" up_to $D "$CA" "$T/up.d"
check "(f) ... says nothing of a previous instance (it took no record of A's)" no_takeover "$T/up.d"
RD=$(record_of $D gre1)
check "(f) D's record is in D's directory" test -e "$RD"
ip netns del $D
ip netns del $E
gt $A status >"$T/st.a" 2>&1
expect "(f) status in A calls D's record stale and names it" \
    "^gre1: stale: the network namespace it was brought up in no longer exists.*${RD//./\\.}" \
    "$(cat "$T/st.a")"
expect "(f) ... and shows A's own gre1 as up" '^  link gre1: gre, up, local 192\.0\.2\.1 remote' \
    "$(cat "$T/st.a")"
check "(f) status left D's record in place" test -e "$RD"
up_to $A "$CA" "$T/up.a"
rc=$?
check "(f) the next up in A exits 0 and says it removed D's stale record" \
    bash -c "[ $rc = 0 ] && grep -q 'removed the stale ownership records of gre1 in netns-$(netns_cookie $D):' '$T/up.a'"
check_not "(f) D's directory is gone" test -e "${RD%/*}"
check "(f) A's and B's records are still there" test -e "$RA" -a -e "$RB"
gt $A status >"$T/st.a" 2>&1
expect_not "(f) status in A: nothing stale any more" 'stale' "$(cat "$T/st.a")"

# ---- (g) ----
# As an earlier version left it: A's record at the top of the state directory. A namespace C
# with a gre1 of other settings (or none) must not take it.
netns nsr-c
ip -n nsr-c link add gre1 type gre local 192.0.2.9 remote 192.0.2.8 key 42
mv "$RA" "$RUN/gre1.state"
gt nsr-c status >"$T/st.c" 2>&1
expect "(g) status in C leaves the old record alone, and says so" \
    "^$RUN/gre1\\.state, written by an earlier version for the whole host, is left alone" \
    "$(cat "$T/st.c")"
check "(g) ... it is still at the top" test -e "$RUN/gre1.state"
gt nsr-c down gre1 >"$T/down.c" 2>&1
check "(g) down gre1 in C exits 0, removes nothing, leaves the record" bash -c \
    "grep -q 'no ownership record' '$T/down.c' && [ -e '$RUN/gre1.state' ] && ip -n nsr-c link show gre1"
dump $A | counters_only >"$T/a.up"
gt $A status >"$T/st.a" 2>&1
expect "(g) status in A adopts it: A's gre1 matches, and it says so" \
    "^$RUN/gre1\\.state, written by an earlier version for the whole host, matches the link gre1 of this network namespace: moved to ${RA//./\\.}" \
    "$(cat "$T/st.a")"
check "(g) ... the record is in A's directory now" \
    bash -c "[ -e '$RA' ] && [ ! -e '$RUN/gre1.state' ]"
gt $A down gre1 >"$T/down.a" 2>&1
dump $A >"$T/a.now"
check "(g) down in A then removes A's tunnel: the dump is the one before anything" \
    same_dump "$T/a.before" "$T/a.now"
if [ "${GRE_IN_VM:-}" = 1 ]; then
    # The initial namespace of the VM (not the host's own): a record whose link is nowhere is
    # the initial namespace's.
    # A's record copied to the top, then A's tunnel and record removed: an old record whose
    # link is in no namespace.
    up_to $A "$CA" "$T/up.a"
    cp -p "$RA" "$RUN/gre1.state"
    gt $A down gre1 >/dev/null
    "$G" status >"$T/st.init" 2>&1
    expect "(g) in the initial namespace an old record whose link is nowhere is adopted" \
        "^$RUN/gre1\\.state, written by an earlier version for the whole host, is taken as the initial network namespace's" \
        "$(cat "$T/st.init")"
    "$G" down gre1 >/dev/null 2>&1
    check_not "(g) ... and down there removes the record" bash -c "ls $RUN/{,netns-*/}gre1.state"
else
    note "(g) the initial namespace is the host's own here: that part runs in the VM only"
fi

finish
