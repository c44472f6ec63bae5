#!/bin/bash
# bench/ike.sh - from `gre-tunnel up` on both ends to the first ping through the tunnel, IKE
# keying (IPSEC=ike, two charon-systemd, one per end) against manual keying (IPSEC=manual), in
# alternating rounds in one run. Two namespaces over a veth wire; in each round both ends' `up`
# start at the same moment, with a ping (every 50 ms) from A to B's inner address; the time is
# that of the first reply. Also each end's `up` alone, and `down` of both. Between rounds the
# namespaces' xfrm states are flushed (a trap that met a peer not yet configured leaves a larval
# ACQUIRE state for 165 s, which would hold back the next round's negotiation).
# Runs directly where the kernel has GRE and ESP (as root), otherwise in the VM (tests/vm/run).
# Only documentation addresses, only inside namespaces made here.
#
# Usage: bench/ike.sh      Environment: GRE_BUILDDIR (default: _build), BENCH_IKE_ROUNDS
# (rounds of each kind, default 7).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
export GRE_BUILDDIR=${GRE_BUILDDIR:-$src/_build}
G=$GRE_BUILDDIR/plugin/gre-tunnel
# One charon-systemd per namespace, as the IKE tests start them; without a log file, which would
# weigh on the timings.
. "$src/tests/kernel/lib-charon.sh"
# shellcheck disable=SC2034 # read by lib-charon.sh
CHARON_FILELOG=no
stage=${BENCH_STAGE:-launch}

case $stage in
launch)
    [ -x "$G" ] || { echo "bench: build first ($G is missing)" >&2; exit 2; }
    [ -x "$CHARON" ] || { echo "bench: charon-systemd is not installed (tests/deps.sh)" >&2; exit 2; }
    echo "# host: $(nproc) CPUs, load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
    rc=0
    if [ "$(id -u)" = 0 ] && bash "$src/tests/vm/kernel-has-gre" 2>/dev/null; then
        BENCH_STAGE=host bash "$here/ike.sh" || rc=$?
    else
        "$src/tests/vm/run" -t "${BENCH_VM_TIMEOUT:-1800}" -e GRE_BUILDDIR -e BENCH_STAGE=host \
            -e BENCH_IKE_ROUNDS bash "$here/ike.sh" || rc=$?
    fi
    echo "# host: load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit $rc
    ;;
host) ;;
*) echo "bench: bad BENCH_STAGE" >&2; exit 2 ;;
esac

ROUNDS=${BENCH_IKE_ROUNDS:-7}
T=$(mktemp -d)
A=ike-bench-a B=ike-bench-b
cleanup() {
    stop_all_charons
    ip netns del $A 2>/dev/null || true
    ip netns del $B 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
die() { echo "bench: $*" >&2; exit 1; }
us() { _us=${EPOCHREALTIME/./}; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.0f", u/1000}'; }
all_ms() { local v; for v in "$@"; do ms "$v"; printf ' '; done; }

modprobe -a ip_gre esp4 xfrm_user veth 2>/dev/null || true
for ns in $A $B; do
    ip netns add $ns
    ip -n $ns link set lo up
done
ip link add wire netns $A type veth peer name wire netns $B
ip -n $A addr add 192.0.2.1/24 dev wire
ip -n $B addr add 192.0.2.2/24 dev wire
ip -n $A link set wire up
ip -n $B link set wire up
# charon-systemd has no --version (given one, it starts the daemon): its version comes from dpkg.
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs," \
    "${GRE_IN_VM:+in the VM (qemu TCG), }gre-tunnel $("$G" --version | cut -d' ' -f2)," \
    "charon-systemd $(dpkg-query -W -f='${Version}' charon-systemd 2>/dev/null || echo "?")"

start_charon $A || die "charon in $A made no socket"
start_charon $B || die "charon in $B made no socket"

# The two kinds of files: A's written here, B's by mirror; keys by keygen.
for kind in manual ike; do
    mkdir -p "$T/$kind-a" "$T/$kind-b"
    {
        printf '%s\n' DEVICE=gre1 TYPE=gre DEVICETYPE=gre MY_OUTER_IPADDR=192.0.2.1 \
            PEER_OUTER_IPADDR=192.0.2.2 MY_INNER_IPADDR=198.51.100.1/30 \
            PEER_INNER_IPADDR=198.51.100.2 UNDERLAY_MTU=1500
        if [ $kind = manual ]; then
            printf '%s\n' IPSEC=manual IPSEC_SUITE=aes256-sha256
        else
            printf '%s\n' IPSEC=ike "IKE_VICI_SOCKET=$T/$A/charon.vici"
        fi
    } >"$T/$kind-a/ifcfg-gre1"
    "$G" keygen "$T/$kind-a/ifcfg-gre1" >/dev/null
    "$G" mirror -o "$T/$kind-b" "$T/$kind-a/ifcfg-gre1" >/dev/null
    [ $kind = ike ] && echo "IKE_VICI_SOCKET=$T/$B/charon.vici" >>"$T/$kind-b/ifcfg-gre1"
done

# round KIND: both ends' up at once, a ping every 50 ms from A until the first reply; then down.
declare -A FIRST UPA UPB DOWN
round() {
    local kind=$1 s e ea eb p pa pb
    us; s=$_us
    ( ip netns exec $A "$G" up -q "$T/$kind-a/ifcfg-gre1" 2>/dev/null; us; echo "$_us" >"$T/ea" ) &
    pa=$!
    ( ip netns exec $B "$G" up -q "$T/$kind-b/ifcfg-gre1" 2>/dev/null; us; echo "$_us" >"$T/eb" ) &
    pb=$!
    # ping gives up at once while no route reaches the inner address (gre1 not there yet): wait
    # for the route first, then -w keeps it sending every 50 ms until one reply or 120 s.
    until ip -n $A route get 198.51.100.2 2>/dev/null | grep -q ' dev gre1 '; do
        [ $(((_us - s) / 1000000)) -lt 120 ] || die "$kind: no route over gre1 within 120 s"
        sleep 0.02
        us
    done
    ip netns exec $A ping -n -q -c 1 -i 0.05 -w 120 198.51.100.2 >/dev/null 2>&1 ||
        die "$kind: no ping through the tunnel within 120 s"
    us; e=$_us
    wait $pa $pb || die "$kind: up failed"
    ea=$(cat "$T/ea") eb=$(cat "$T/eb")
    [ "$kind" = manual ] || ip -n $A xfrm state | grep -q 'proto esp spi 0x[0-9a-f]*[1-9a-f]' ||
        die "$kind: no keyed ESP state in A"
    FIRST[$kind]+=" $((e - s))" UPA[$kind]+=" $((ea - s))" UPB[$kind]+=" $((eb - s))"
    us; s=$_us
    ip netns exec $A "$G" down -q gre1 & p=$!
    ip netns exec $B "$G" down -q gre1 || die "$kind: down B failed"
    wait $p || die "$kind: down A failed"
    us; DOWN[$kind]+=" $((_us - s))"
    ip -n $A xfrm state flush
    ip -n $B xfrm state flush
}

round manual # warm-up: page cache, the oseq-wrap check (once per boot), charon's first IKE_SA
round ike
FIRST=() UPA=() UPB=() DOWN=()
for ((r = 0; r < ROUNDS; r++)); do
    round manual
    round ike
done

echo "== from \`gre-tunnel up\` on both ends (started together) to the first ping reply through"
echo "   the tunnel (a ping every 50 ms from A), median of $ROUNDS, alternating rounds (ms)"
printf '%-8s %14s %14s %14s %16s\n' keying "first ping" "up A returns" "up B returns" "down (both)"
for kind in manual ike; do
    # shellcheck disable=SC2086
    printf '%-8s %14s %14s %14s %16s\n' $kind "$(ms "$(median ${FIRST[$kind]})")" \
        "$(ms "$(median ${UPA[$kind]})")" "$(ms "$(median ${UPB[$kind]})")" \
        "$(ms "$(median ${DOWN[$kind]})")"
done
# shellcheck disable=SC2086
awk -v i="$(median ${FIRST[ike]})" -v m="$(median ${FIRST[manual]})" \
    'BEGIN {printf "ike / manual, first ping: %.2f\n", i / m}'
# shellcheck disable=SC2086
echo "all first-ping times (ms): manual $(all_ms ${FIRST[manual]}); ike $(all_ms ${FIRST[ike]})"
echo "# guest load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
