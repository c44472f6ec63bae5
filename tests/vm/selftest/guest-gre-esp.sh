#!/bin/bash
# Runs in the VM (tests/vm/selftest/run-all): GRE between two network
# namespaces over veth, then GRE-only ESP (transport mode) on the same
# tunnel; captures the underlay with tcpdump into $VM_JOB_DIR.
set -euo pipefail

A=192.0.2.1 B=192.0.2.2            # underlay (veth)
IA=198.51.100.1 IB=198.51.100.2    # inside the tunnel
KEY_AB=0x$(printf '%02x' {1..20})
KEY_BA=0x$(printf '%02x' {21..40})
out=${VM_JOB_DIR:?}

if command -v ping >/dev/null; then PING=(ping); else PING=(busybox ping); fi

step() { echo "== $*"; }

ping_b() { ip netns exec a "${PING[@]}" -c "${1:-3}" -W 2 "$IB"; }

# capture FILE FILTER...: start tcpdump on vb (namespace b), wait until it
# listens; the pid is in $cap_pid
capture() {
	local file=$1
	shift
	ip netns exec b timeout 20 tcpdump -Z root -n -i vb -c 4 -w "$out/$file" \
		"$@" 2>"$out/$file.err" &
	cap_pid=$!
	for _ in {1..100}; do
		grep -q 'listening on' "$out/$file.err" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "tcpdump did not start:"; cat "$out/$file.err"
	return 1
}

step "namespaces and veth"
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add $A/24 dev va
ip -n b addr add $B/24 dev vb
for n in a b; do ip -n $n link set lo up; done
ip -n a link set va up
ip -n b link set vb up
ip netns exec a "${PING[@]}" -c 1 -W 2 $B

step "GRE"
ip -n a link add gre1 type gre local $A remote $B ttl 64
ip -n b link add gre1 type gre local $B remote $A ttl 64
ip -n a addr add $IA/30 dev gre1
ip -n b addr add $IB/30 dev gre1
ip -n a link set gre1 up
ip -n b link set gre1 up
ip -n a -d link show gre1
capture gre.pcap 'ip proto 47'
ping_b 3
wait "$cap_pid"
tcpdump -n -r "$out/gre.pcap" 2>/dev/null | tee "$out/gre.txt"
grep -q "GREv0" "$out/gre.txt"

step "ESP (rfc4106(gcm(aes)), transport mode, GRE only)"
for n in a b; do
	ip -n $n xfrm state add src $A dst $B proto esp spi 0x1001 reqid 1 \
		mode transport aead 'rfc4106(gcm(aes))' "$KEY_AB" 128
	ip -n $n xfrm state add src $B dst $A proto esp spi 0x1002 reqid 2 \
		mode transport aead 'rfc4106(gcm(aes))' "$KEY_BA" 128
done
ip -n a xfrm policy add src $A dst $B proto gre dir out \
	tmpl src $A dst $B proto esp reqid 1 mode transport
ip -n a xfrm policy add src $B dst $A proto gre dir in \
	tmpl src $B dst $A proto esp reqid 2 mode transport
ip -n b xfrm policy add src $B dst $A proto gre dir out \
	tmpl src $B dst $A proto esp reqid 2 mode transport
ip -n b xfrm policy add src $A dst $B proto gre dir in \
	tmpl src $A dst $B proto esp reqid 1 mode transport
ip -n a xfrm state
capture esp.pcap 'ip proto 47 or ip proto 50'
ping_b 3
wait "$cap_pid"
tcpdump -n -r "$out/esp.pcap" 2>/dev/null | tee "$out/esp.txt"
grep -q "ESP(spi=0x00001001" "$out/esp.txt"
if grep -q "GREv0" "$out/esp.txt"; then
	echo "plain GRE on the wire despite the ESP policies"
	exit 1
fi

step "modules loaded on demand"
lsmod | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' '
echo
echo "GRE+ESP OK"
