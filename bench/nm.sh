#!/bin/bash
# bench/nm.sh - NetworkManager with the plugin: how long `nmcli connection up` takes until the
# connection is activated (nmcli returns then), ours against NetworkManager's own GRE (an
# ip-tunnel connection) in the same run, and the memory of nm-gre-service while connected.
#   native   connection type ip-tunnel, mode gre, one inner address (NM makes the link itself)
#   gre      vpn-type gre, the same tunnel (KEY=5 so that both may exist at once)
#   gre+esp  vpn-type gre with GRE-only IPsec (AES-CBC + HMAC-SHA-256: 2 SAs, 2 policies)
# Alternating, median of BENCH_NM_REPS (default 7) ups and downs each. Runs directly where the
# kernel has GRE and ESP, otherwise in the VM (tests/vm/run), as root, in namespaces of its own
# with a NetworkManager and a D-Bus of its own (tests/nm/lib-nm.sh); only documentation
# addresses. Usage: bench/nm.sh  (GRE_BUILDDIR: the build directory, default _build)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${GRE_BENCH_NM_INSIDE:-}" ]; then
    export GRE_SRCDIR=${GRE_SRCDIR:-$(cd "$here/.." && pwd)}
    export GRE_BUILDDIR=${GRE_BUILDDIR:-$GRE_SRCDIR/_build}
    [ -x "$GRE_BUILDDIR/nm-plugin/nm-gre-service" ] || { echo "bench: build first" >&2; exit 2; }
    if [ "$(id -u)" = 0 ] && bash "$GRE_SRCDIR/tests/vm/kernel-has-gre" 2>/dev/null; then
        GRE_BENCH_NM_INSIDE=1 exec bash "$here/nm.sh"
    fi
    exec "$GRE_SRCDIR/tests/vm/run" -t "${BENCH_VM_TIMEOUT:-3600}" -e GRE_BUILDDIR -e GRE_SRCDIR \
        -e BENCH_NM_REPS -e GRE_BENCH_NM_INSIDE=1 bash "$here/nm.sh"
fi
. "$GRE_SRCDIR/tests/nm/lib-nm.sh"
REPS=${BENCH_NM_REPS:-7}

die() { echo "bench: $*" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.0f", u/1000}'; }

nm_install_plugin || die "the plugin is not built in $GRE_BUILDDIR"
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

# One up and one down of NAME, in microseconds, appended to the arrays up_NAME / down_NAME.
declare -A UP DOWN
once() {
    local name=$1 s e
    s=${EPOCHREALTIME/./}
    nmc connection up "$name" >/dev/null || die "nmcli connection up $name failed"
    e=${EPOCHREALTIME/./}
    [ "$(con_state "$name")" = activated ] || die "$name is not activated after up"
    UP[$name]+="$((e - s)) "
    s=${EPOCHREALTIME/./}
    nmc connection down "$name" >/dev/null || die "nmcli connection down $name failed"
    e=${EPOCHREALTIME/./}
    DOWN[$name]+="$((e - s)) "
    wait_con_state "$name" "" 30 >/dev/null || die "$name does not go down"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs," \
    "${GRE_IN_VM:+in the VM (qemu TCG), }NetworkManager $(NetworkManager --version)"
# A warm-up of each (first activation loads modules and crypto), not counted.
for c in native gre gre+esp; do once "$c"; done
UP=() DOWN=()
for ((r = 0; r < REPS; r++)); do
    for c in native gre gre+esp; do once "$c"; done
done
echo "== nmcli connection up until activated, and down; median of $REPS, alternating (ms)"
printf '%-10s %8s %8s   %s\n' connection up down "all ups"
for c in native gre gre+esp; do
    # shellcheck disable=SC2086 # the lists are space-separated numbers
    printf '%-10s %8s %8s   %s\n' "$c" "$(ms "$(median ${UP[$c]})")" \
        "$(ms "$(median ${DOWN[$c]})")" "$(for u in ${UP[$c]}; do printf '%s ' "$(ms "$u")"; done)"
done
# shellcheck disable=SC2086
n=$(median ${UP[native]}) g=$(median ${UP[gre]}) ge=$(median ${UP[gre+esp]})
awk -v n="$n" -v g="$g" -v e="$ge" \
    'BEGIN {printf "up, gre / native: %.2f; gre+esp / native: %.2f\n", g/n, e/n}'

echo "== memory while gre+esp is connected"
nmc connection up gre+esp >/dev/null || die "nmcli connection up gre+esp failed"
pid=$(service_pids)
[ -n "$pid" ] && [ "$(wc -w <<<"$pid")" = 1 ] || die "expected one nm-gre-service, got '$pid'"
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
anon=$(awk '/^Pss_Anon:/ {print $2}' "/proc/$pid/smaps_rollup")
nm_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$_nm_pid/status") # (exec chain: the same PID)
echo "nm-gre-service: RSS $rss KiB (peak $hwm KiB), PSS $pss KiB of which private anonymous $anon KiB"
echo "NetworkManager itself, for scale: RSS $nm_rss KiB"
nmc connection down gre+esp >/dev/null
wait_con_state gre+esp "" 30 >/dev/null
[ -z "$(service_pids)" ] || die "nm-gre-service still runs after down"
echo "nm-gre-service exits after down: yes"
