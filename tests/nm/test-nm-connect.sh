#!/bin/bash
# The plugin under a real NetworkManager. Peer B is set up by the project's CLI (`gre-tunnel up`
# with the file `gre-tunnel mirror` made from A's); in A, NetworkManager with our plugin
# installed from the build tree activates:
#   1. a plain GRE connection made with `nmcli connection add type vpn vpn-type gre vpn.data ...`
#   2. an IPsec connection imported with `nmcli connection import type gre file ifcfg-gre2`
#      (keys from keys-gre2 next to it), and exported again with `nmcli connection export`
#   3. connection 2 again, with nm-gre-service killed (SIGKILL) while it is up.
# Every assertion reads the kernel (ip link/addr/route/xfrm, SA counters), the wire (tcpdump) or
# NetworkManager's own view (nmcli), never what our code says it did. After each `down` A must
# be exactly as before `up` (dumps of links, addresses, routes of all tables, xfrm states and
# policies); each time the dump is first shown to differ while the tunnel is up.
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/nm/test-nm-connect.sh
. "$(dirname "$0")/lib-nm.sh"

nm_skip_without_plugin

A=nmc-a B=nmc-b
nm_pair $A $B
nm_start_underlay $A

# up_timed NAME: nmcli connection up; on failure its output and the end of NM's log. The time
# it took goes to $T/up.time (check swallows the output of a command that succeeds).
up_timed() {
    local t0=$SECONDS rc
    nmc connection up "$1" >"$T/up.out" 2>&1
    rc=$?
    echo "nmcli connection up $1: $((SECONDS - t0)) s" >"$T/up.time"
    [ $rc = 0 ] || { cat "$T/up.out"; nm_log_tail 25; }
    return $rc
}
up_check() { check "$1" up_timed "$2"; note "$(cat "$T/up.time")"; }

# ---------------------------------------------------------------- 1: vpn.data, plain GRE
note "1: plain GRE from vpn.data (KEY=7), peer from the mirror of the same settings"
cat >"$T/a/ifcfg-gre1" <<'CFG'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
KEY=7
CFG
check "mirror writes B's file" "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1"
check "B up (gre-tunnel, from the mirror)" gt $B up "$T/b/ifcfg-gre1"
check "nmcli connection add type vpn vpn-type gre vpn.data ..." \
    nmc connection add type vpn con-name data-gre1 vpn-type gre autoconnect no \
    vpn.data "device=gre1, local=192.0.2.1, remote=192.0.2.2, inner-address=198.51.100.1/30, inner-peer=198.51.100.2, key=7"
expect "NM stored it as a gre VPN connection" '^org\.freedesktop\.NetworkManager\.gre$' \
    "$(nmc -g vpn.service-type connection show data-gre1 2>&1)"

up_check "nmcli connection up" data-gre1
check "state activated" wait_con_state data-gre1 activated 30
expect "NM's VPN state is connected" '^VPN\.VPN-STATE: +5 - VPN connected' "$(nmc connection show data-gre1 2>&1)"
expect "nmcli device lists the tunnel device gre1" '^gre1:' "$(nmc -t -f DEVICE,TYPE,STATE device 2>&1)"
la=$(ip -n $A -d link show gre1 2>&1)
expect "kernel: gre1 is GRE between the outer addresses" 'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ' "$la"
expect "kernel: KEY=7 in both directions" ' ikey 0\.0\.0\.7 okey 0\.0\.0\.7 ' "$la"
expect "kernel: gre1 is up" '<[^>]*UP[^>]*>' "$la"
expect "kernel: the inner address is on gre1" 'inet 198\.51\.100\.1(/30| peer 198\.51\.100\.2)' \
    "$(ip -n $A addr show dev gre1 2>&1)"
expect_eq "kernel: gre1's MTU is what gre-tunnel computes for the same file" \
    "$(gt $A mtu "$T/a/ifcfg-gre1" 2>&1)" "$(link_mtu $A gre1)"

capture $B wire 'ip proto 47' 100 "$T/cap1" -v
check "ping A -> B inner through the NM connection" nsping $A 198.51.100.2
check "ping B -> A inner" nsping $B 198.51.100.1
capture_stop
w=$(packets "$T/cap1")
expect "wire: A's GRE carries key 7 and the ICMP" \
    '192\.0\.2\.1 > 192\.0\.2\.2: GREv0, Flags \[key present\], key=0x7.* 198\.51\.100\.1 > 198\.51\.100\.2: ICMP echo request' "$w"
during=$(dump $A)
check_not "dump while up differs from before (the comparison can fail)" test "$before" = "$during"

t0=$SECONDS
check "nmcli connection down" nmc connection down data-gre1
note "nmcli connection down: $((SECONDS - t0)) s"
check "state: not active any more" wait_con_state data-gre1 "" 30
check "kernel: gre1 is gone" wait_gone $A gre1
same_dump "A after down is A before up" "$before" "$(dump $A)"
check "ping A -> B inner fails after down" nsping_fails $A 198.51.100.2
expect_eq "no nm-gre-service left running" "" "$(service_pids)"
gt $B down gre1 >/dev/null

# ---------------------------------------------------------------- 2: import, IPsec
note "2: GRE-only IPsec (aes256-sha256) imported from ifcfg-gre2 + keys-gre2"
cat >"$T/a/ifcfg-gre2" <<'CFG'
DEVICE=gre2
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.5/30
PEER_INNER_IPADDR=198.51.100.6
IPSEC=manual
IPSEC_SUITE=aes256-sha256
SPI_ESP_IN=0x2001
SPI_ESP_OUT=0x2002
CFG
keys_for aes256-sha256 "$T/a" gre2
# A file with a counter-mode suite and manual keys is refused by import with the core's message.
sed -e 's/^DEVICE=gre2/DEVICE=gre3/' -e 's/^IPSEC_SUITE=.*/IPSEC_SUITE=aes256gcm16/' \
    "$T/a/ifcfg-gre2" >"$T/a/ifcfg-gre3"
keys_for aes256gcm16 "$T/a" gre3
out=$(nmc connection import type gre file "$T/a/ifcfg-gre3" 2>&1)
expect "import of AES-GCM with manual keys is refused, naming file, line and IPSEC_SUITE" \
    'ifcfg-gre3:9: IPSEC_SUITE: aes256gcm16 is not safe with static keys: .*use a CBC suite' "$out"
check_not "... and no connection was made" nmc connection show "System gre3"
check "mirror writes B's file and keys" "$G" mirror -o "$T/b" "$T/a/ifcfg-gre2"
check "B up (gre-tunnel, IPsec)" gt $B up "$T/b/ifcfg-gre2"
check "nmcli connection import type gre file ifcfg-gre2" \
    nmc connection import type gre file "$T/a/ifcfg-gre2"
# Named as NetworkManager names an ifcfg file without NAME=: not "gre2", since while the tunnel
# is up NM lists the link gre2 under a connection of that name as well.
expect "the import is a gre VPN connection named \"System gre2\"" \
    '^org\.freedesktop\.NetworkManager\.gre$' \
    "$(nmc -g vpn.service-type connection show "System gre2" 2>&1)"
check "rename it to imp-gre2" nmc connection modify "System gre2" connection.id imp-gre2 \
    connection.autoconnect no
kf=$(grep -l '^id=imp-gre2$' "$NM_DIR"/connections/* 2>/dev/null | head -1)
expect "its keyfile is root-only (0600)" '^600$' "$(stat -c %a "$kf" 2>&1)"
keyout=$(sed -n 's/^KEY_ESP_OUT=0x//p' "$T/a/keys-gre2")
check "the imported secrets are stored (the keyfile has the outbound key)" grep -qi "$keyout" "$kf"
check_not "nmcli connection show does not print the key" \
    grep -qi "$keyout" <(nmc connection show imp-gre2 2>&1)
# Export goes back to network-scripts: the same tunnel, as gre-tunnel plans it from each file
# (keys masked; the exported file gets the original keys-gre2 next to it, since nmcli exports
# without secrets).
mkdir -p "$T/exp"
check "nmcli connection export imp-gre2 writes an ifcfg file" \
    nmc connection export imp-gre2 "$T/exp/ifcfg-gre2"
check_not "the exported file holds no key" grep -qi "$keyout" "$T/exp/ifcfg-gre2"
cp -p "$T/a/keys-gre2" "$T/exp/keys-gre2"
expect_eq "gre-tunnel plans the same tunnel from the exported file as from the original" \
    "$("$G" plan -u 1500 "$T/a/ifcfg-gre2" 2>&1 | grep -v '^#')" \
    "$("$G" plan -u 1500 "$T/exp/ifcfg-gre2" 2>&1 | grep -v '^#')"

up_check "nmcli connection up (IPsec)" imp-gre2
check "state activated" wait_con_state imp-gre2 activated 30
expect "nmcli device lists the tunnel device gre2" '^gre2:' "$(nmc -t -f DEVICE,TYPE,STATE device 2>&1)"
expect "kernel: gre2 is GRE between the outer addresses" 'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ' \
    "$(ip -n $A -d link show gre2 2>&1)"
xs=$(ip -n $A xfrm state | oneline)
expect "kernel: outbound ESP SA 0x2002 with hmac(sha256) and cbc(aes), transport" \
    'src 192\.0\.2\.1 dst 192\.0\.2\.2 proto esp spi 0x00002002 .*mode transport.*auth-trunc hmac\(sha256\) .* enc cbc\(aes\)' "$xs"
expect "kernel: inbound ESP SA 0x2001" 'src 192\.0\.2\.2 dst 192\.0\.2\.1 proto esp spi 0x00002001 ' "$xs"
xp=$(ip -n $A xfrm policy | oneline)
expect "kernel: an out policy selects GRE between the outer addresses" \
    'src 192\.0\.2\.1/32 dst 192\.0\.2\.2/32 proto gre .*dir out' "$xp"
expect_eq "exactly 2 policies (out, in)" 2 "$(ip -n $A xfrm policy | grep -c '^src')"

sa0=$(sa_count $A 0x2002 packets)
capture $B wire 'esp or ip proto 47' 100 "$T/cap2"
check "ping A -> B inner through the IPsec connection" nsping $A 198.51.100.6
check "ping B -> A inner" nsping $B 198.51.100.5
capture_stop
w=$(cat "$T/cap2")
expect "wire: ESP from A with SPI 0x2002" '192\.0\.2\.1 > 192\.0\.2\.2: ESP\(spi=0x00002002' "$w"
expect_not "wire: no plain GRE" 'GREv0' "$w"
sa1=$(sa_count $A 0x2002 packets)
check "the outbound SA counted the pings ($sa0 -> $sa1 packets)" test "${sa1:-0}" -ge $((${sa0:-0} + 3))
check_not "no ESP key in NetworkManager's log (which has the service's too) nor the bus's" \
    grep -qi "$keyout" "$NM_DIR"/*.log
during=$(dump $A)
check_not "dump while up differs from before" test "$before" = "$during"

check "nmcli connection down" nmc connection down imp-gre2
check "state: not active any more" wait_con_state imp-gre2 "" 30
check "kernel: gre2 is gone" wait_gone $A gre2
same_dump "A after down is A before up (no SA, no policy, no route left)" "$before" "$(dump $A)"

# ---------------------------------------------------------------- 3: SIGKILL
note "3: nm-gre-service killed while imp-gre2 is up"
up_check "nmcli connection up" imp-gre2
check "state activated" wait_con_state imp-gre2 activated 30
check "ping A -> B inner" nsping $A 198.51.100.6
pids=$(service_pids)
expect "one nm-gre-service runs" '^[0-9]+$' "$pids"
kill -KILL $pids 2>/dev/null
check "NM notices: the connection is not active any more" wait_con_state imp-gre2 "" 60
# A user's `down` goes activated -> deactivating -> disconnected; the service vanishing makes NM
# drop the VPN straight from activated.
expect "NM dropped the VPN straight from activated (not a user's deactivation)" \
    'vpn\[.*"imp-gre2".*set state: (disconnected|failed) \(was activated\)' \
    "$(grep -F 'vpn[' "$NM_DIR/NetworkManager.log" | tail -20)"
left=$(diff <(printf '%s\n' "$before") <(dump $A) | grep -c '^>')
note "after SIGKILL, $left dump lines differ (the watchdog removes them: test-nm-crash.sh)"
up_check "nmcli connection up again" imp-gre2
check "state activated again" wait_con_state imp-gre2 activated 30
check "ping A -> B inner again" nsping $A 198.51.100.6
expect_eq "exactly 2 SAs (the crashed instance's were replaced, not duplicated)" 2 \
    "$(ip -n $A xfrm state | grep -c '^src')"
check "nmcli connection down" nmc connection down imp-gre2
check "state: not active any more" wait_con_state imp-gre2 "" 30
check "kernel: gre2 is gone" wait_gone $A gre2
same_dump "after kill, up, down: A is as before" "$before" "$(dump $A)"
expect_eq "no nm-gre-service left running" "" "$(service_pids)"
finish
