#!/bin/bash
# Baseline without our plugin: NetworkManager's own GRE (connection type ip-tunnel, mode gre) in
# namespace A against a peer B set up with plain `ip link add ... type gre`. Proves the harness
# (private bus, NM in a namespace, nmcli) and gives the bench its reference: activation reaches
# "activated", the kernel has the GRE link NM asked for, pings cross it and the wire carries
# GRE; deactivation leaves A exactly as before (and the comparison is shown to be able to fail).
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/nm/test-nm-native.sh
. "$(dirname "$0")/lib-nm.sh"

A=nm-a B=nm-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
# B: a plain GRE link, no key, the other end of what NM will make in A.
ip -n $B link add gre1 type gre local 192.0.2.2 remote 192.0.2.1 ttl 64
ip -n $B addr add 198.51.100.2/30 dev gre1
ip -n $B link set gre1 up

t0=$SECONDS
check "NetworkManager starts in $A and answers nmcli" nm_start $A wire
note "NetworkManager up after $((SECONDS - t0)) s"
expect "nmcli general: NM is running" '^(connected|disconnected|connecting|connected \(site only\)|connected \(local only\)|asleep):' \
    "$(nmc -t -f STATE,NETWORKING general status 2>&1)"
expect "nmcli device: wire is unmanaged as configured" '^wire:ethernet:unmanaged' \
    "$(nmc -t -f DEVICE,TYPE,STATE device 2>&1)"

before=$(dump $A)
check "nmcli connection add type ip-tunnel mode gre" \
    nmc connection add type ip-tunnel con-name native-gre ifname nmgre1 \
    ip-tunnel.mode gre ip-tunnel.local 192.0.2.1 ip-tunnel.remote 192.0.2.2 ip-tunnel.ttl 64 \
    ipv4.method manual ipv4.addresses 198.51.100.1/30 ipv6.method disabled \
    connection.autoconnect no
expect "the keyfile NM wrote is root-only (0600)" '^600$' \
    "$(stat -c %a "$NM_DIR/connections/native-gre.nmconnection" 2>&1)"

t0=$SECONDS
check "nmcli connection up" nmc connection up native-gre
note "activation took $((SECONDS - t0)) s"
check "state activated" wait_con_state native-gre activated 30
expect "nmcli device lists nmgre1 as connected (iptunnel)" '^nmgre1:iptunnel:connected:native-gre$' \
    "$(nmc -t -f DEVICE,TYPE,STATE,CONNECTION device)"
la=$(ip -n $A -d link show nmgre1 2>&1)
expect "kernel: nmgre1 is GRE between the outer addresses" 'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ttl 64' "$la"
expect "kernel: nmgre1 is up" '<[^>]*UP[^>]*>' "$la"
expect "kernel: inner address on nmgre1" 'inet 198\.51\.100\.1/30 ' "$(ip -n $A addr show dev nmgre1 2>&1)"

capture $B wire 'ip proto 47' 100 "$T/cap" -v
check "ping A -> B inner through NM's tunnel" nsping $A 198.51.100.2
check "ping B -> A inner" nsping $B 198.51.100.1
capture_stop
expect "wire: GRE from A carries the ICMP" \
    '192\.0\.2\.1 > 192\.0\.2\.2: GREv0.* 198\.51\.100\.1 > 198\.51\.100\.2: ICMP echo request' \
    "$(packets "$T/cap")"

# The comparison can fail: while the tunnel is up, A differs from "before".
during=$(dump $A)
check_not "dump while up differs from before (the comparison can fail)" test "$before" = "$during"

t0=$SECONDS
check "nmcli connection down" nmc connection down native-gre
note "deactivation took $((SECONDS - t0)) s"
check "state: not active any more" wait_con_state native-gre "" 30
check "kernel: nmgre1 is gone" wait_gone $A nmgre1
same_dump "A after down is A before up (links, addresses, routes, xfrm)" "$before" "$(dump $A)"
check "ping A -> B inner fails after down" nsping_fails $A 198.51.100.2
check "nmcli connection delete" nmc connection delete native-gre
check "its keyfile is gone" test ! -e "$NM_DIR/connections/native-gre.nmconnection"
finish
