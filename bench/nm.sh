#!/bin/bash
# bench/nm.sh - NetworkManager with the plugin: how long `nmcli connection up` takes until the
# connection is activated (nmcli returns then), ours against the floor of a VPN plugin and against
# NetworkManager's own GRE (an ip-tunnel connection) in the same run, and the memory of the VPN
# services.
#   native   connection type ip-tunnel, mode gre, one inner address (NM makes the link itself)
#   floor    vpn-type grefloor: bench/nm-floor/nm-grefloor-service, a VPN service that makes the
#            same GRE link as ours (name, endpoints, key, MTU, up) by one rtnetlink request and
#            reports the same configuration, with nothing else: what any VPN plugin pays
#   gre      vpn-type gre, the same tunnel (KEY=5 so that it may exist beside native)
#   gre+esp  vpn-type gre with GRE-only IPsec (AES-CBC + HMAC-SHA-256: 2 SAs, 2 policies)
# Alternating, median of BENCH_NM_REPS (default 9) ups and downs each; before them the memory
# (/proc/PID/smaps_rollup) of nm-gre-service idle and connected, of the floor, and of Debian's
# nm-openvpn-service (network-manager-openvpn) when installed, each idle-registered the way
# NetworkManager starts it (see mem_idle). Runs directly where the kernel has GRE and ESP,
# otherwise in the VM (tests/vm/run), as root, in namespaces of its own with a NetworkManager and
# a D-Bus of its own (tests/nm/lib-nm.sh); only documentation addresses.
# Usage: bench/nm.sh  (GRE_BUILDDIR: the build directory, default _build)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${GRE_BENCH_NM_INSIDE:-}" ]; then
    export GRE_SRCDIR=${GRE_SRCDIR:-$(cd "$here/.." && pwd)}
    export GRE_BUILDDIR=${GRE_BUILDDIR:-$GRE_SRCDIR/_build}
    for p in nm-plugin/nm-gre-service bench/nm-floor/nm-grefloor-service; do
        [ -x "$GRE_BUILDDIR/$p" ] || { echo "bench: build first ($p)" >&2; exit 2; }
    done
    if [ "$(id -u)" = 0 ] && bash "$GRE_SRCDIR/tests/vm/kernel-has-gre" 2>/dev/null; then
        GRE_BENCH_NM_INSIDE=1 exec bash "$here/nm.sh"
    fi
    # The guest's load says nothing about the host's CPUs, which the VM shares.
    echo "# host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
    exec "$GRE_SRCDIR/tests/vm/run" -t "${BENCH_VM_TIMEOUT:-3600}" \
        -e GRE_BUILDDIR -e GRE_SRCDIR -e BENCH_NM_REPS -e GRE_BENCH_NM_INSIDE=1 \
        bash "$here/nm.sh"
fi
. "$GRE_SRCDIR/tests/nm/lib-nm.sh"
REPS=${BENCH_NM_REPS:-9}
FLOOR=$GRE_BUILDDIR/bench/nm-floor

die() { echo "bench: $*" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.0f", u/1000}'; }

nm_install_plugin || die "the plugin is not built in $GRE_BUILDDIR"
# The floor, like ours: its .name file into the private VPN directory, its policy into the bus.
cp "$FLOOR/nm-grefloor-service.name" /usr/lib/NetworkManager/VPN/
cp "$SRC/bench/nm-floor/nm-grefloor-service.conf" "$NM_DIR/system.d/"
A=nmb-a B=nmb-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
nm_start $A >/dev/null || die "NetworkManager did not start"
nm_underlay $A 192.0.2.1 >"$T/underlay.tap"
grep -q '^not ok' "$T/underlay.tap" && die "the underlay connection failed: $(cat "$T/underlay.tap")"

nmc connection add type ip-tunnel con-name native ifname nmgre1 autoconnect no \
    ip-tunnel.mode gre ip-tunnel.local 192.0.2.1 ip-tunnel.remote 192.0.2.2 ip-tunnel.ttl 64 \
    ipv4.method manual ipv4.addresses 198.51.100.1/30 ipv6.method disabled >/dev/null ||
    die "cannot add the native connection"
nmc connection add type vpn con-name gre vpn-type gre autoconnect no vpn.data \
    "device=gre5, local=192.0.2.1, remote=192.0.2.2, inner-address=198.51.100.5/30, inner-peer=198.51.100.6, key=5" \
    >/dev/null || die "cannot add the gre connection"
# The floor trusts its data: the MTU is the one nm-gre-service computes for this tunnel (checked
# below against the kernel's view of both links).
floor_data="device=gre5, local=192.0.2.1, remote=192.0.2.2, inner-address=198.51.100.5/30"
floor_data+=", inner-peer=198.51.100.6, key=5, mtu=1472"
nmc connection add type vpn con-name floor vpn-type grefloor autoconnect no \
    vpn.data "$floor_data" >/dev/null || die "cannot add the floor connection"
mkdir -p "$T/esp"
cat >"$T/esp/ifcfg-gre6" <<'CFG'
DEVICE=gre6
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.9/30
PEER_INNER_IPADDR=198.51.100.10
KEY=6
IPSEC=manual
IPSEC_SUITE=aes128-sha256
SPI_ESP_IN=0x6001
SPI_ESP_OUT=0x6002
CFG
keys_for aes128-sha256 "$T/esp" gre6
nmc connection import type gre file "$T/esp/ifcfg-gre6" >/dev/null || die "cannot import gre6"
nmc connection modify "System gre6" connection.id gre+esp connection.autoconnect no >/dev/null

CONS="native floor gre gre+esp"

# view: what the kernel shows of gre5 while it is up (the link without its index, its addresses
# and routes), so that the floor is seen to do the same kernel work as ours.
view() {
    ip -n $A -d link show gre5 | sed '1s/^[0-9]*: //'
    ip -n $A addr show dev gre5 | sed '1s/^[0-9]*: //'
    ip -n $A route show dev gre5
}

# One up and one down of NAME, in microseconds, appended to UP[NAME] and DOWN[NAME]; with
# SNAP set, the kernel's view while it is up goes to VIEW[NAME].
# An up that fails is not timed but counted in FAILED[NAME] and tried again, four times at most:
# on a loaded host NetworkManager's 5 s for a VPN service to take its D-Bus name can run out.
declare -A UP DOWN VIEW FAILED
once() {
    local name=$1 s e try
    for try in 1 2 3 4 5; do
        s=${EPOCHREALTIME/./}
        nmc connection up "$name" >"$T/up.out" 2>&1 && break
        FAILED[$name]=$((${FAILED[$name]:-0} + 1))
        echo "# $name: up failed ($try): $(head -1 "$T/up.out")" >&2
        wait_con_state "$name" "" 30 >/dev/null
        [ "$try" = 5 ] && die "nmcli connection up $name failed five times"
    done
    e=${EPOCHREALTIME/./}
    [ "$(con_state "$name")" = activated ] || die "$name is not activated after up"
    UP[$name]+="$((e - s)) "
    [ -n "${SNAP:-}" ] && [[ $name == floor || $name == gre ]] && VIEW[$name]=$(view)
    s=${EPOCHREALTIME/./}
    nmc connection down "$name" >/dev/null || die "nmcli connection down $name failed"
    e=${EPOCHREALTIME/./}
    DOWN[$name]+="$((e - s)) "
    wait_con_state "$name" "" 30 >/dev/null || die "$name does not go down"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs," \
    "${GRE_IN_VM:+in the VM (qemu TCG), }NetworkManager $(NetworkManager --version)," \
    "load inside $(cut -d' ' -f1-3 /proc/loadavg)"
# A warm-up of each (first activation loads modules and crypto), not counted.
SNAP=1
for c in $CONS; do once "$c"; done
SNAP=
FAILED=()
if [ "${VIEW[floor]}" != "${VIEW[gre]}" ]; then
    diff <(echo "${VIEW[gre]}") <(echo "${VIEW[floor]}") | sed 's/^/#   /' >&2
    die "the floor's gre5 is not ours (above: < ours, > the floor)"
fi
echo "the floor's gre5 as the kernel shows it (link, addresses, routes) is ours: yes"
# ---- memory ----

# pids_of COMM: the processes whose comm (the first 15 bytes of the program's name) is COMM.
pids_of() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
    done
}
# mem LABEL PID: one line of the memory table, in KiB. Private and shared are the pages mapped
# only by this process and those also mapped elsewhere; PSS counts shared pages divided by the
# number of processes mapping them.
printf '%-40s %7s %7s %7s %7s %9s\n' "process (KiB)" RSS PSS private shared anon >"$T/mem"
mem() {
    awk -v l="$1" '
        /^Rss:/ {rss = $2} /^Pss:/ {pss = $2} /^Pss_Anon:/ {anon = $2}
        /^Private_(Clean|Dirty):/ {priv += $2} /^Shared_(Clean|Dirty):/ {shr += $2}
        END {printf "%-40s %7d %7d %7d %7d %9d\n", l, rss, pss, priv, shr, anon}' \
        "/proc/$2/smaps_rollup" >>"$T/mem"
}
# mem_idle LABEL PROGRAM SERVICE: PROGRAM started as NetworkManager starts a VPN service (in its
# namespace, on its bus, with --bus-name SERVICE.Connection_N and NM_VPN_LOG_* in the
# environment), measured once it owns its name and waits for Connect, then stopped.
owned() {
    [ "$(gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null)" = "(true,)" ]
}
mem_idle() {
    local label=$1 prog=$2 name=$3.Connection_99 pid i
    ip netns exec $A env NM_VPN_LOG_LEVEL=5 NM_VPN_LOG_SYSLOG=0 "$prog" --bus-name "$name" \
        >>"$T/idle.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 300; i++)); do
        owned "$name" && break
        sleep 0.1
    done
    owned "$name" || die "$prog did not take $name"
    sleep 1 # settled: nothing left of the start in flight
    mem "$label" "$pid"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
}
# The service NM started for CON is the one that was not running before: instances whose start
# NM gave up on (its 5 s) take their name later and linger, idle.
connected() { # connected CON COMM LABEL
    local try before pid
    before=" $(pids_of "$2" | tr '\n' ' ') "
    for try in 1 2 3 4 5; do
        nmc connection up "$1" >/dev/null 2>&1 && break
        wait_con_state "$1" "" 30 >/dev/null
        [ "$try" = 5 ] && die "nmcli connection up $1 failed five times"
    done
    sleep 1
    pid=$(for p in $(pids_of "$2"); do [[ $before == *" $p "* ]] || echo "$p"; done)
    [ -n "$pid" ] && [ "$(wc -w <<<"$pid")" = 1 ] || die "expected one new $2, got '$pid'"
    mem "$3" "$pid"
    nmc connection down "$1" >/dev/null
    wait_con_state "$1" "" 30 >/dev/null
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    die "$2 ($pid) still runs after down"
}

connected gre+esp nm-gre-service "nm-gre-service, connected (gre+esp)"
connected gre nm-gre-service "nm-gre-service, connected (gre)"
connected floor nm-grefloor-ser "nm-grefloor-service, connected"
mem_idle "nm-gre-service, idle" "$GRE_BUILDDIR/nm-plugin/nm-gre-service" \
    org.freedesktop.NetworkManager.gre
mem_idle "nm-grefloor-service, idle" "$FLOOR/nm-grefloor-service" \
    org.freedesktop.NetworkManager.grefloor
ovpn=/usr/lib/NetworkManager/nm-openvpn-service
if [ -x "$ovpn" ] && [ -f /usr/share/dbus-1/system.d/nm-openvpn-service.conf ]; then
    mem_idle "nm-openvpn-service, idle" "$ovpn" org.freedesktop.NetworkManager.openvpn
else
    echo "(nm-openvpn-service not installed: apt-get install network-manager-openvpn)" >>"$T/mem"
fi
mem "NetworkManager itself, for scale" "$_nm_pid" # (exec chain: the same PID)
echo "== memory (/proc/PID/smaps_rollup)"
cat "$T/mem"
echo "nm-gre-service exits after down: yes"

# Each round is printed as it ends, so that a run cut short still leaves its figures.
UP=() DOWN=()
log_from=$(wc -l <"$NM_DIR/NetworkManager.log")
for ((r = 1; r <= REPS; r++)); do
    line=
    for c in $CONS; do
        once "$c"
        read -ra up <<<"${UP[$c]}"
        read -ra down <<<"${DOWN[$c]}"
        line+=" $c $(ms "${up[-1]}")/$(ms "${down[-1]}")"
    done
    echo "round $r (up/down ms):$line"
done
log_to=$(wc -l <"$NM_DIR/NetworkManager.log")
echo "== nmcli connection up until activated, and down; median of $REPS, alternating (ms)"
printf '%-10s %8s %8s   %s\n' connection up down "all ups"
for c in $CONS; do
    # shellcheck disable=SC2086 # the lists are space-separated numbers
    printf '%-10s %8s %8s   %s%s\n' "$c" "$(ms "$(median ${UP[$c]})")" \
        "$(ms "$(median ${DOWN[$c]})")" \
        "$(for u in ${UP[$c]}; do printf '%s ' "$(ms "$u")"; done)" \
        "${FAILED[$c]:+(and ${FAILED[$c]} failed, not timed)}"
done
# shellcheck disable=SC2086
n=$(median ${UP[native]}) f=$(median ${UP[floor]})
# shellcheck disable=SC2086
g=$(median ${UP[gre]}) ge=$(median ${UP[gre+esp]})
# shellcheck disable=SC2086
fd=$(median ${DOWN[floor]}) gd=$(median ${DOWN[gre]})
awk -v n="$n" -v f="$f" -v g="$g" -v e="$ge" -v fd="$fd" -v gd="$gd" 'BEGIN {
    printf "up, gre / floor: %.2f (target 1.10); gre+esp / floor: %.2f; floor / native: %.2f\n",
        g/f, e/f, f/n
    printf "down, gre / floor: %.2f\n", gd/fd }'

# Where an activation of a VPN connection spends its time, from NetworkManager's own log of the
# timed rounds (debug level, timestamps in seconds): the median of each step over the rounds.
echo "== VPN activation step by step, from NetworkManager's log; median of $REPS (ms)"
sed -n "$((log_from + 1)),${log_to}p" "$NM_DIR/NetworkManager.log" |
    awk -v cons="floor gre gre+esp" '
    function med(list,   a, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) {
            t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
    BEGIN {
        ns = split("start pid name secrets connect config started activated", step, " ")
        pat["start"] = "]: starting gre"; pat["pid"] = "VPN service has PID"
        pat["name"] = "set state: need-auth"; pat["secrets"] = "no additional secrets required"
        pat["connect"] = "dbus: state changed: starting"; pat["config"] = "config: reply received"
        pat["started"] = "dbus: state changed: started"; pat["activated"] = "set state: activated"
        split("NM spawns it|exec until it owns its name|NeedSecrets|Connect returns|" \
              "the kernel work until SetConfig|SetIp4Config until started|NM until activated",
              what, "|")
    }
    match($0, /vpn\[[^]]*"[^"]*"/) {
        con = substr($0, RSTART, RLENGTH); sub(/.*,"/, "", con); sub(/"$/, "", con)
        ts = $2; gsub(/[][]/, "", ts)
        for (i = 1; i <= ns; i++) if (index($0, pat[step[i]])) {
            if (i == 1) delete at
            at[con, i] = ts
            if (i > 1 && (con, i - 1) in at) d[con, i] = d[con, i] " " (ts - at[con, i - 1]) * 1000
            if (i == ns && (con, 1) in at) d[con, 0] = d[con, 0] " " (ts - at[con, 1]) * 1000
        }
    }
    END {
        n = split(cons, c, " ")
        printf "%-38s", "step"; for (k = 1; k <= n; k++) printf " %8s", c[k]; printf "\n"
        for (i = 2; i <= ns; i++) {
            printf "%-38s", what[i-1]
            for (k = 1; k <= n; k++) printf " %8.0f", med(d[c[k], i]); printf "\n"
        }
        printf "%-38s", "in all (NM log)"
        for (k = 1; k <= n; k++) printf " %8.0f", med(d[c[k], 0]); printf "\n"
    }'

