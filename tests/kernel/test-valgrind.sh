#!/bin/bash
# Leaks over many cycles of a tunnel with GRE-only IPsec (manual keys, aes256-sha256), under
# valgrind memcheck: no memcheck error and 0 bytes definitely or indirectly lost
# (--error-exitcode); suppressions only for named library internals (tests/valgrind.supp).
#  1. The CLI as users run it: `gre-tunnel up CONFIG` and `gre-tunnel down NAME`, each a process
#     under memcheck; the kernel shows the link and both SAs, pings cross the tunnel, and after
#     down the namespace is exactly as before.
#  2. CYCLES up/down cycles (default 5 for CI; CYCLES=100 for the recorded run, tests/leaks.md)
#     through gre-tunnel's own main() in one process (gre-tunnel-cycles), so that what a cycle
#     leaks adds up in one report: memcheck starts in minutes under the emulated CPU, which
#     2 x 100 separate runs cannot afford. Afterwards the namespace is exactly as before.
#  3. Growth: memory still allocated at exit (reachable, so not a leak memcheck reports) after
#     CYCLES cycles may exceed that after one cycle by less than 16 bytes a cycle.
# Usage (root): [VM_ENV=CYCLES=100] [CYCLES=100] GRE_BUILDDIR=... GRE_SRCDIR=... \
#     tests/kernel/run-test tests/kernel/test-valgrind.sh   (VM_ENV carries CYCLES into the VM)
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null; then
    echo "1..0 # SKIP valgrind is not installed (tests/deps.sh)"
    exit 0
fi
CYCLES=${CYCLES:-5}

A=vg-a B=vg-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
mkdir -p "$T/a" "$T/b" "$T/vg"
cat >"$T/a/ifcfg-gre1" <<'CFG'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
ROUTES="203.0.113.0/24 metric 10"
KEY=5
IPSEC=manual
IPSEC_SUITE=aes256-sha256
SPI_ESP_IN=0x3001
SPI_ESP_OUT=0x3002
CFG
keys_for aes256-sha256 "$T/a" gre1
check "mirror writes B's files" "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1"
check "B up (without valgrind)" gt $B up "$T/b/ifcfg-gre1"
before=$(dump $A)

# vg NS LOG PROGRAM ARGS...: PROGRAM in NS under memcheck, its report in LOG. Exit 99 is
# memcheck's (an error or a definite/indirect leak), anything else the program's own.
# G_SLICE/G_DEBUG: GLib's allocator hands each block to malloc, so valgrind sees every one.
vg() {
    local ns=$1 log=$2
    shift 2
    ip netns exec "$ns" env G_SLICE=always-malloc G_DEBUG=gc-friendly \
        valgrind --tool=memcheck --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 --num-callers=20 --keep-stacktraces=alloc \
        --suppressions="$SRC/tests/valgrind.supp" --log-file="$log" "$@"
}

# lost LOG: "DEFINITE INDIRECT" bytes lost from LOG's leak summary ("0 0" when every block
# was freed: memcheck then prints no summary).
lost() {
    awk '/definitely lost:/ { gsub(",", "", $4); d = $4 }
         /indirectly lost:/ { gsub(",", "", $4); i = $4 }
         END { print (d == "" ? 0 : d), (i == "" ? 0 : i) }' "$1"
}
# in_use LOG: bytes still allocated at exit (reachable: GLib's and libnl's one-time state).
in_use() { sed -n 's/.*in use at exit: \([0-9,]*\) bytes.*/\1/p' "$1" | tr -d ,; }

# memcheck_clean DESC RC LOG: ok when the run exited 0 with no memcheck error; else its report.
definite=0 indirect=0
memcheck_clean() {
    local d i
    read -r d i < <(lost "$3")
    definite=$((definite + d)) indirect=$((indirect + i))
    if [ "$2" = 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$3"; then
        ok "$1"
    else
        not_ok "$1 (exit $2)"
        grep -v '^==[0-9]*== *$' "$3" | sed 's/^/#   /' | head -100
    fi
}

# ---- 1: the CLI, one process per command
t0=$SECONDS
vg $A "$T/vg-up.log" "$G" up "$T/a/ifcfg-gre1" >"$T/up.out" 2>&1
memcheck_clean "gre-tunnel up under memcheck: exit 0, no error, nothing lost" $? "$T/vg-up.log"
note "gre-tunnel up under valgrind: $((SECONDS - t0)) s"
expect "kernel: gre1 is GRE between the outer addresses, key 5" \
    'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 .*ikey 0\.0\.0\.5' \
    "$(ip -n $A -d link show gre1 2>&1 | oneline)"
xs=$(ip -n $A xfrm state | oneline)
expect "kernel: the outbound ESP SA 0x3002" 'spi 0x00003002 .*mode transport' "$xs"
expect "kernel: the inbound ESP SA 0x3001" 'spi 0x00003001 .*mode transport' "$xs"
check "ping across the tunnel" nsping $A 198.51.100.2
t0=$SECONDS
vg $A "$T/vg-down.log" "$G" down gre1 >"$T/down.out" 2>&1
memcheck_clean "gre-tunnel down under memcheck: exit 0, no error, nothing lost" $? "$T/vg-down.log"
note "gre-tunnel down under valgrind: $((SECONDS - t0)) s"
same_dump() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        not_ok "$1"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -30 | sed 's/^/#   /'
    fi
}
same_dump "after down the namespace is exactly as before up" "$before" "$(dump $A)"

# ---- 2: CYCLES cycles in one process
t0=$SECONDS
vg $A "$T/vg-cycles.log" "$GRE_BUILDDIR/tests/kernel/gre-tunnel-cycles" "$CYCLES" \
    "$T/a/ifcfg-gre1" gre1 >"$T/cycles.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/#   /' "$T/cycles.out" | tail -20
memcheck_clean "$CYCLES up/down cycles in one process under memcheck: exit 0, no error, nothing lost" \
    $rc "$T/vg-cycles.log"
expect "... and all $CYCLES cycles ran (the kernel had gre1 after each up, not after each down)" \
    "^$CYCLES cycles of up and down\$" "$(cat "$T/cycles.out")"
note "$CYCLES cycles under valgrind: $((SECONDS - t0)) s"
same_dump "after the cycles the namespace is exactly as before" "$before" "$(dump $A)"
# ---- 3: growth: what is still allocated at exit after CYCLES cycles against after one.
# (Memcheck's count of live blocks, not malloc's statistics: glibc keeps freed chunks in
# per-thread caches and arenas, which mallinfo counts as in use and which grew by about
# 50-200 bytes a cycle in trials while the live heap stayed the same.)
vg $A "$T/vg-one.log" "$GRE_BUILDDIR/tests/kernel/gre-tunnel-cycles" 1 "$T/a/ifcfg-gre1" gre1 \
    >"$T/one.out" 2>&1
memcheck_clean "1 up/down cycle in one process under memcheck (the baseline)" $? "$T/vg-one.log"
u1=$(in_use "$T/vg-one.log") un=$(in_use "$T/vg-cycles.log")
if [ -n "$u1" ] && [ -n "$un" ] && [ $((un - u1)) -lt $((16 * CYCLES)) ]; then
    ok "no growth: in use at exit after $CYCLES cycles $un bytes, after 1 cycle $u1 bytes"
else
    not_ok "growth: in use at exit after $CYCLES cycles ${un:-?} bytes, after 1 cycle ${u1:-?} bytes"
fi
same_dump "after the baseline cycle the namespace is exactly as before" "$before" "$(dump $A)"
check "the tunnel still works afterwards (up, ping, down; without valgrind)" \
    bash -c "ip netns exec $A '$G' up '$T/a/ifcfg-gre1' && ip netns exec $A ping -q -n -c 3 -i 0.2 -W 2 198.51.100.2 && ip netns exec $A '$G' down gre1"
note "figures: cycles=$CYCLES definitely-lost=$definite indirectly-lost=$indirect" \
    "in-use-at-exit: up=$(in_use "$T/vg-up.log") down=$(in_use "$T/vg-down.log")" \
    "one-cycle=${u1:-?} cycles=${un:-?} bytes"
finish
