#!/bin/bash
# One nm-gre-service (--persist) through many NetworkManager connect/disconnect cycles of a GRE
# connection with manual IPsec, in two passes (the recorded run is in tests/leaks.md; VM_ENV
# carries CYCLES and RSS_CYCLES into the VM):
#   1. the service under valgrind memcheck, 1 + CYCLES cycles (default 5): at its exit no
#      memcheck error and 0 bytes definitely or indirectly lost (suppressions only for named
#      library internals, tests/valgrind.supp);
#   2. the service alone, RSS_CYCLES cycles (default 10; 100 recorded): its resident set (VmRSS)
#      after the last cycle within 5 % of after cycle RSS_FROM (3; 10 from 20 cycles on).
#      Valgrind's own RSS says nothing.
# NM_LEAKS_VALGRIND=0 skips pass 1 (memcheck needs 5-15 min to start the service on a busy host).
# NetworkManager must find the service running: the test's .name file has
# supports-multiple-connections=false, so NetworkManager talks to the one bus name
# org.freedesktop.NetworkManager.gre and starts nothing while it is owned; its program= is a
# wrapper that runs the service under valgrind all the same, should NetworkManager start one.
# (A service NetworkManager starts must own its name within 5 s, too short for memcheck under
# an emulated CPU: so the test starts it, and gives the connection vpn.timeout 300.)
# In every cycle the kernel must show the link and both SAs after up, and nothing after down.
# Usage (root): [VM_ENV="CYCLES=20 RSS_CYCLES=100"] GRE_BUILDDIR=... GRE_SRCDIR=... \
#     tests/kernel/run-test tests/nm/test-nm-leaks.sh
. "$(dirname "$0")/lib-nm.sh"

if ! nm_install_plugin; then
    echo "1..0 # SKIP the NetworkManager plugin is not built ($NM_PLUGIN_BUILD)"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    echo "1..0 # SKIP valgrind is not installed (tests/deps.sh)"
    exit 0
fi
CYCLES=${CYCLES:-5}
RSS_CYCLES=${RSS_CYCLES:-10}
if [ -z "${RSS_FROM:-}" ]; then
    if [ "$RSS_CYCLES" -ge 20 ]; then RSS_FROM=10; else RSS_FROM=3; fi
fi
SVC=$NM_PLUGIN_BUILD/nm-gre-service
BUS_NAME=org.freedesktop.NetworkManager.gre

# The wrapper, and the .name file pointing at it, for one long-lived service.
cat >"$T/nm-gre-service-vg" <<EOF
#!/bin/sh
exec env G_SLICE=always-malloc G_DEBUG=gc-friendly valgrind --tool=memcheck --leak-check=full \\
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
    --error-exitcode=99 --num-callers=20 --keep-stacktraces=alloc \\
    --suppressions="$SRC/tests/valgrind.supp" --log-file="$T/vg-service.log" \\
    "$SVC" --persist "\$@"
EOF
chmod +x "$T/nm-gre-service-vg"
sed -i -e "s|^program=.*|program=$T/nm-gre-service-vg|" \
    -e 's|^supports-multiple-connections=.*|supports-multiple-connections=false|' \
    /usr/lib/NetworkManager/VPN/nm-gre-service.name

# The bus gives a client 30 s to authenticate; memcheck under an emulated CPU may need more.
cat >"$NM_DIR/system.d/leaks-limits.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <limit name="auth_timeout">600000</limit>
</busconfig>
EOF

A=nml-a B=nml-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
mkdir -p "$T/a" "$T/b"
check "NetworkManager starts in $A" nm_start $A
nm_underlay $A 192.0.2.1
cat >"$T/a/ifcfg-lk1" <<'CFG'
DEVICE=lk1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
ROUTES="203.0.113.0/24 metric 10"
IPSEC=manual
IPSEC_SUITE=aes256-sha256
SPI_ESP_IN=0x4001
SPI_ESP_OUT=0x4002
CFG
keys_for aes256-sha256 "$T/a" lk1
check "mirror writes B's files" "$G" mirror -o "$T/b" "$T/a/ifcfg-lk1"
check "B up (gre-tunnel)" gt $B up "$T/b/ifcfg-lk1"
check "import the connection (IPsec, keys from keys-lk1)" \
    nmc connection import type gre file "$T/a/ifcfg-lk1"
check "rename it to leaks, vpn.timeout 300 (memcheck is slow)" \
    nmc connection modify "System lk1" connection.id leaks connection.autoconnect no \
    vpn.timeout 300
before=$(dump $A)

# service_start LOG PROGRAM...: the service in A on our bus; waits (up to 10 min: memcheck under
# an emulated CPU) until it owns its name. Sets SVC_PID.
service_start() {
    local log=$1 i
    shift
    ip netns exec $A "$@" >"$log" 2>&1 &
    SVC_PID=$!
    for ((i = 0; i < 1200; i++)); do
        [ "$(gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
            --method org.freedesktop.DBus.NameHasOwner $BUS_NAME 2>/dev/null)" = "(true,)" ] &&
            return 0
        kill -0 "$SVC_PID" 2>/dev/null || break
        sleep 0.5
    done
    echo "the service did not own $BUS_NAME:"
    cat "$log"
    return 1
}

# cycle N: up (activated, the kernel has the link and both SAs), down (not active, no link, no
# SA). Prints what failed; returns 1 then.
cycle() {
    local out
    if ! out=$(nmc --wait 300 connection up leaks 2>&1); then
        echo "cycle $1: up: $out"
        nm_log_tail 15
        return 1
    fi
    wait_con_state leaks activated 300 >/dev/null || { echo "cycle $1: not activated"; return 1; }
    ip -n $A link show lk1 >/dev/null 2>&1 || { echo "cycle $1: no lk1 after up"; return 1; }
    [ "$(ip -n $A xfrm state | grep -c '^src')" = 2 ] ||
        { echo "cycle $1: SAs after up: $(ip -n $A xfrm state | grep -c '^src')"; return 1; }
    out=$(nmc connection down leaks 2>&1) || { echo "cycle $1: down: $out"; return 1; }
    wait_con_state leaks "" 300 >/dev/null || { echo "cycle $1: still active"; return 1; }
    wait_gone $A lk1 60 >/dev/null || { echo "cycle $1: lk1 left after down"; return 1; }
    [ -z "$(ip -n $A xfrm state)" ] || { echo "cycle $1: SAs left after down"; return 1; }
    return 0
}

# run_cycles DESC N: N cycles, one TAP line; RSS_AT (cycle -> VmRSS kB) filled as it goes.
declare -A RSS_AT
run_cycles() {
    local c t0=$SECONDS
    for ((c = 1; c <= $2; c++)); do
        if ! cycle $c >"$T/cycle.out" 2>&1; then
            not_ok "$1: cycle $c of $2"
            sed 's/^/#   /' "$T/cycle.out" | head -30
            return 1
        fi
        RSS_AT[$c]=$(awk '/^VmRSS:/ { print $2 }' /proc/"$SVC_PID"/status 2>/dev/null)
    done
    ok "$1: $2 cycles of connect and disconnect ($((SECONDS - t0)) s)"
}

# owner_pid: the process that owns the service's bus name, as the bus knows it.
owner_pid() {
    gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.GetConnectionUnixProcessID $BUS_NAME 2>&1 |
        sed -n 's/^(uint32 \([0-9]*\),)$/\1/p'
}

# ---- pass 1: under valgrind
if [ "${NM_LEAKS_VALGRIND:-1}" != 0 ]; then
    check "pass 1: the service starts under valgrind and owns $BUS_NAME" \
        service_start "$T/svc-vg.log" "$T/nm-gre-service-vg"
    vg_pid=$SVC_PID
    # One cycle by hand, with pings: the tunnel works while memcheck watches.
    check "first connect under valgrind" nmc --wait 300 connection up leaks
    check "activated" wait_con_state leaks activated 300
    check "ping across the tunnel" nsping $A 198.51.100.2
    expect "kernel: outbound ESP SA 0x4002" 'spi 0x00004002 .*mode transport' \
        "$(ip -n $A xfrm state | oneline)"
    check "disconnect" nmc connection down leaks
    check "not active" wait_con_state leaks "" 300
    check "lk1 gone" wait_gone $A lk1 60
    run_cycles "pass 1 (valgrind)" "$CYCLES"
    expect_eq "the one service under valgrind owned the bus name throughout" "$vg_pid" "$(owner_pid)"
    kill -TERM "$vg_pid"
    t0=$SECONDS
    wait "$vg_pid"
    rc=$?
    note "memcheck's exit report took $((SECONDS - t0)) s"
    if [ $rc = 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg-service.log"; then
        ok "memcheck: nm-gre-service exits 0, no error, nothing definitely or indirectly lost"
    else
        not_ok "memcheck: nm-gre-service exit $rc"
        grep -v '^==[0-9]*== *$' "$T/vg-service.log" | sed 's/^/#   /' | head -120
        sed 's/^/#   svc: /' "$T/svc-vg.log" | tail -20
    fi
    lost=$(grep -E 'definitely lost:|indirectly lost:|in use at exit:' "$T/vg-service.log" |
        sed 's/^==[0-9]*== *//' | tr '\n' ' ')
    note "pass 1 figures: $((CYCLES + 1)) cycles; ${lost:-all heap blocks were freed}"
    same_dump "after pass 1 the namespace is exactly as before" "$before" "$(dump $A)"
fi

# ---- pass 2: RSS without valgrind
check "pass 2: the service starts alone and owns $BUS_NAME" \
    service_start "$T/svc.log" "$SVC" --persist
run_cycles "pass 2 (RSS)" "$RSS_CYCLES"
expect_eq "the one service owned the bus name throughout" "$SVC_PID" "$(owner_pid)"
r0=${RSS_AT[$RSS_FROM]:-} r1=${RSS_AT[$RSS_CYCLES]:-}
note "pass 2 figures: VmRSS after cycle $RSS_FROM: ${r0:-?} kB, after cycle $RSS_CYCLES:" \
    "${r1:-?} kB; all: $(for c in $(seq 1 "$RSS_CYCLES"); do printf '%s ' "${RSS_AT[$c]:-?}"; done)"
if [ -n "$r0" ] && [ -n "$r1" ] && [ $((r1 * 100)) -le $((r0 * 105)) ]; then
    ok "RSS after cycle $RSS_CYCLES ($r1 kB) within 5 % of after cycle $RSS_FROM ($r0 kB)"
else
    not_ok "RSS after cycle $RSS_CYCLES (${r1:-?} kB) not within 5 % of after cycle $RSS_FROM" \
        "(${r0:-?} kB)"
fi
kill -TERM "$SVC_PID"
wait "$SVC_PID"
expect_eq "SIGTERM: the service exits 0" 0 "$?"
same_dump "after pass 2 the namespace is exactly as before" "$before" "$(dump $A)"
finish
