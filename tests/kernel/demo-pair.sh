#!/bin/bash
# The main job, end to end: two hosts (network namespaces over a veth "wire"), one ifcfg file
# written by hand, its keys made and its mirror written by gre-tunnel, both ends brought up with
# GRE-only IPsec.
# Shows the ping, the ESP on the wire (and the clear ping of the outer address), the MTU and
# status, then takes both ends down. Part 2 does the same with IKE keying (IPSEC=ike): a charon
# per host negotiates the ESP SAs (skipped, saying why, without charon-systemd; --manual-only
# skips it). Runs as root where the kernel has GRE and ESP.
set -euo pipefail
G=${GRE_TUNNEL:-${GRE_BUILDDIR:?}/plugin/gre-tunnel}
T=$(mktemp -d)
A=gre-demo-a B=gre-demo-b
. "$(dirname "${BASH_SOURCE[0]}")/lib-charon.sh"

cleanup() {
    stop_all_charons
    ip netns del $A 2>/dev/null || true
    ip netns del $B 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_a() { ip netns exec $A "$@"; }
in_b() { ip netns exec $B "$@"; }

say "two hosts joined by a wire: $A 192.0.2.1 <-> 192.0.2.2 $B (MTU 1500)"
ip netns add $A
ip netns add $B
ip link add wire netns $A type veth peer name wire netns $B
ip -n $A addr add 192.0.2.1/24 dev wire
ip -n $B addr add 192.0.2.2/24 dev wire
for ns in $A $B; do ip -n $ns link set lo up; ip -n $ns link set wire up; done
# A network behind B that A reaches through the tunnel.
ip -n $B link add lan type dummy
ip -n $B addr add 203.0.113.1/24 dev lan
ip -n $B link set lan up

say "A's settings (ifcfg-gre1), written by hand"
mkdir -p "$T/a" "$T/b"
cat >"$T/a/ifcfg-gre1" <<CFG
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
ROUTES="203.0.113.0/24"
KEY=42
IPSEC=manual
IPSEC_SUITE=aes256-sha256
CFG
cat "$T/a/ifcfg-gre1"

say "gre-tunnel keygen: fresh keys in keys-gre1 (mode 0600, never shown) and SPIs in ifcfg-gre1"
"$G" keygen "$T/a/ifcfg-gre1"
ls -l "$T/a/keys-gre1"
grep SPI_ESP "$T/a/ifcfg-gre1"

say "gre-tunnel mirror: B's files, then gre-tunnel check A B"
"$G" mirror -o "$T/b" "$T/a/ifcfg-gre1"
"$G" check "$T/a/ifcfg-gre1" "$T/b/ifcfg-gre1"

say "gre-tunnel plan (A): the kernel objects, as ip commands (keys masked)"
in_a "$G" plan "$T/a/ifcfg-gre1"

say "gre-tunnel up, on both ends"
in_a "$G" up "$T/a/ifcfg-gre1"
in_b "$G" up "$T/b/ifcfg-gre1"
ip -n $A -d link show gre1 | sed -n '1,3p'

say "ping through the tunnel while capturing the wire"
ip netns exec $B tcpdump -Z root -nn -l -i wire 'ip proto 50 or ip proto 47 or icmp' \
    2>"$T/wire.err" >"$T/wire.txt" &
cap=$!
# Wait until tcpdump really listens (a VM under TCG can take a few seconds).
for _ in $(seq 100); do
    grep -q 'listening on' "$T/wire.err" 2>/dev/null && break
    sleep 0.1
done
in_a ping -c 3 -i 0.2 -W 2 198.51.100.2
in_a ping -c 2 -i 0.2 -W 2 203.0.113.1
in_a ping -c 1 -W 2 192.0.2.2 >/dev/null
sleep 0.5
kill $cap 2>/dev/null || true
wait $cap 2>/dev/null || true
echo "-- on the wire (tunnel traffic is ESP; the ping of the outer address 192.0.2.2 is clear):"
cat "$T/wire.txt"

say "the exact MTU: $(in_a "$G" mtu "$T/a/ifcfg-gre1") (gre-tunnel mtu --explain)"
in_a "$G" mtu --explain "$T/a/ifcfg-gre1"
mtu=$(ip -n $A -o link show gre1 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
echo "-- a DF ping of exactly $mtu bytes passes:"
in_a ping -c 1 -W 2 -M do -s $((mtu - 28)) 198.51.100.2 | grep -E 'bytes from|transmitted'

say "gre-tunnel status (A)"
in_a "$G" status

say "gre-tunnel down, on both ends: nothing left"
in_a "$G" down gre1
in_b "$G" down gre1
echo "-- A: links: $(ip -n $A -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
echo "-- A: xfrm states: $(ip -n $A xfrm state | grep -c '^src' || true), policies: $(ip -n $A xfrm policy | grep -c '^src' || true)"

# ---------------------------------------------------------------- part 2: IKE keying
if [ "${1:-}" = --manual-only ]; then
    exit 0
fi
if [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null; then
    say "part 2 (IPSEC=ike) skipped: charon-systemd and strongswan-swanctl are not installed"
    exit 0
fi

# One charon per host, lib-charon.sh's start_charon (on a real host it is strongswan.service with
# /run/charon.vici). The demo's sw drops swanctl's notes about absent plugins.
sw() {
    local ns=$1
    shift
    ip netns exec "$ns" swanctl "$@" --uri "unix://$T/$ns/charon.vici" 2>&1 |
        grep -v "^plugin '.*': failed to load" || true
}

say "part 2: the same tunnel keyed by IKEv2 (IPSEC=ike); one charon per host"
start_charon $A
start_charon $B
sw $A --version

say "A's settings: IPSEC=ike instead of SPIs and keys (the default suite is AES-GCM here)"
mkdir -p "$T/ike-a" "$T/ike-b"
sed -e '/^IPSEC/d' -e '/^SPI_ESP/d' "$T/a/ifcfg-gre1" >"$T/ike-a/ifcfg-gre1"
cat >>"$T/ike-a/ifcfg-gre1" <<CFG
IPSEC=ike
IKE_VICI_SOCKET=$T/$A/charon.vici
CFG
cat "$T/ike-a/ifcfg-gre1"

say "gre-tunnel keygen: a fresh IKE_PSK in keys-gre1; mirror: B's files with the same PSK"
"$G" keygen "$T/ike-a/ifcfg-gre1"
"$G" mirror -o "$T/ike-b" "$T/ike-a/ifcfg-gre1"
# The socket is each host's own: mirror leaves it out of the peer's file.
echo "IKE_VICI_SOCKET=$T/$B/charon.vici" >>"$T/ike-b/ifcfg-gre1"
"$G" check "$T/ike-a/ifcfg-gre1" "$T/ike-b/ifcfg-gre1"

say "gre-tunnel plan (A): what is loaded into charon, as swanctl.conf (PSK masked), and the link"
in_a "$G" plan "$T/ike-a/ifcfg-gre1"

say "gre-tunnel up on A: B's end is not up yet, so A waits with the trap (GRE dropped, never clear)"
in_a "$G" up --ike-timeout 10 "$T/ike-a/ifcfg-gre1"
say "gre-tunnel up on B: the IKE_SA and the ESP CHILD_SA are negotiated"
in_b "$G" up --ike-timeout 120 "$T/ike-b/ifcfg-gre1"

say "swanctl --list-sas (A): the negotiated SAs, transport mode, GRE selectors only"
sw $A --list-sas

say "ping through the tunnel while capturing the wire"
ip netns exec $B tcpdump -Z root -nn -l -i wire 'ip proto 50 or ip proto 47' \
    2>"$T/ike-wire.err" >"$T/ike-wire.txt" &
cap=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$T/ike-wire.err" 2>/dev/null && break
    sleep 0.1
done
in_a ping -c 3 -i 0.2 -W 2 198.51.100.2
sleep 0.5
kill $cap 2>/dev/null || true
wait $cap 2>/dev/null || true
echo "-- on the wire (ESP with the SPIs above; no plain GRE):"
cat "$T/ike-wire.txt"
echo "-- the kernel's SAs on A (installed by charon):"
ip -n $A xfrm state | grep -E '^src|proto esp|mode'

say "gre-tunnel status (A): the kernel's objects and the SAs as charon reports them"
in_a "$G" status

say "gre-tunnel down, on both ends: the link gone, the connection and key unloaded"
in_a "$G" down gre1
in_b "$G" down gre1
echo "-- A's charon, connections: $(sw $A --list-conns | grep -c '^gre-' || true)," \
    "SAs: $(sw $A --list-sas | grep -c '^gre-' || true)"
echo "-- A: links: $(ip -n $A -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
