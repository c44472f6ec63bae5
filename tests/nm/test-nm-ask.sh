#!/bin/bash
# Agent-owned IPsec keys under a real NetworkManager: the keys live with the user's agent, not in
# NetworkManager's store, and `nmcli --ask connection up` gets them through nm-gre-auth-dialog in
# nmcli's external UI mode (the dialog describes which keys to ask, nmcli asks on the terminal).
# Peer B is set up by the project's CLI from the mirror of A's file; A's connection is imported
# into NetworkManager, then its four keys (AES-CBC + HMAC-SHA-256: ESP and HMAC keys each way) are
# made agent-owned. Asserted from the kernel (the SAs carry exactly the keys typed in), the wire
# (ESP) and NetworkManager's store and logs (no key kept, none logged).
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/nm/test-nm-ask.sh
. "$(dirname "$0")/lib-nm.sh"

if ! nm_install_plugin || [ ! -x "$NM_AUTH_DIALOG" ]; then
    echo "1..0 # SKIP the NetworkManager plugin or its auth dialog is not built (${NM_AUTH_DIALOG:-$NM_PLUGIN_BUILD})"
    exit 0
fi
if ! command -v script >/dev/null; then
    echo "1..0 # SKIP script(1) is needed to give nmcli a terminal"
    exit 0
fi

A=nma-a B=nma-b
nm_pair $A $B
nm_start_underlay $A

cat >"$T/a/ifcfg-gre4" <<'CFG'
DEVICE=gre4
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.9/30
PEER_INNER_IPADDR=198.51.100.10
IPSEC=manual
IPSEC_SUITE=aes128-sha256
SPI_ESP_IN=0x4001
SPI_ESP_OUT=0x4002
CFG
keys_for aes128-sha256 "$T/a" gre4
key() { sed -n "s/^$1=0x//p" "$T/a/keys-gre4"; }
ein=$(key KEY_ESP_IN) eout=$(key KEY_ESP_OUT) ain=$(key KEY_AESP_IN) aout=$(key KEY_AESP_OUT)
check "mirror writes B's file and keys" "$G" mirror -o "$T/b" "$T/a/ifcfg-gre4"
check "B up (gre-tunnel, IPsec)" gt $B up "$T/b/ifcfg-gre4"

check "nmcli connection import type gre file ifcfg-gre4" \
    nmc connection import type gre file "$T/a/ifcfg-gre4"
# Used under the name the import gave it ("System gre4", as NetworkManager names an ifcfg file
# without NAME=): the device name stays free for NetworkManager's own view of the link.
C="System gre4"
check "the import is named \"$C\"" nmc connection modify "$C" connection.autoconnect no
# Agent-owned (flag 1): NetworkManager drops the stored keys and asks an agent at each up.
check "make the four keys agent-owned" nmc connection modify "$C" \
    +vpn.data esp-key-in-flags=1 +vpn.data esp-key-out-flags=1 \
    +vpn.data auth-key-in-flags=1 +vpn.data auth-key-out-flags=1
kf=$(grep -lx "id=$C" "$NM_DIR"/connections/* 2>/dev/null | head -1)
check "the connection is stored ($kf)" test -f "$kf"
stored=0
for k in "$ein" "$eout" "$ain" "$aout"; do grep -qi "$k" "$kf" && stored=$((stored + 1)); done
expect_eq "NetworkManager's store keeps none of the four keys" 0 "$stored"
expect "the flags are in vpn.data" 'esp-key-in-flags = 1' \
    "$(nmc -g vpn.data connection show "$C" 2>&1 | tr ',' '\n' | sed 's/^ *//')"

# Without an agent there is nobody to give the keys: up fails and nothing is left.
check_not "nmcli connection up without --ask fails (no agent has the keys)" \
    nmc connection up "$C"
check "state: not active" wait_con_state "$C" "" 30
same_dump "A after the failed up is A before" "$before" "$(dump $A)"

# The external UI: what the dialog tells nmcli to ask, as nmcli would run it.
ui=$(printf 'DATA_KEY=ipsec\nDATA_VAL=manual\nDATA_KEY=ipsec-suite\nDATA_VAL=aes128-sha256\nDATA_KEY=esp-key-in-flags\nDATA_VAL=1\nDATA_KEY=esp-key-out-flags\nDATA_VAL=1\nDATA_KEY=auth-key-in-flags\nDATA_VAL=1\nDATA_KEY=auth-key-out-flags\nDATA_VAL=1\nDONE\n\n' |
    "$NM_AUTH_DIALOG" -u 00000000-0000-0000-0000-000000000000 -n "$C" \
        -s org.freedesktop.NetworkManager.gre --external-ui-mode -i 2>&1)
expect_eq "the dialog asks for all four keys" 4 "$(grep -c '^ShouldAsk=true' <<<"$ui")"
order=$(sed -n 's/^\[\(.*-key-.*\)\]$/\1/p' <<<"$ui" | tr '\n' ' ')
note "asked in this order: $order"

# nmcli --ask asks for each key on its terminal (a pty from script(1)); the answers come in the
# order the dialog listed them.
answers=
for name in $order; do
    case $name in
    esp-key-in) answers+="0x$ein"$'\n' ;;
    esp-key-out) answers+="0x$eout"$'\n' ;;
    auth-key-in) answers+="0x$ain"$'\n' ;;
    auth-key-out) answers+="0x$aout"$'\n' ;;
    esac
done
# feed: type the answers once nmcli shows its first prompt (the dialog's label for a key), as a
# user would; then keep the terminal open until nmcli has said how it went.
feed() {
    for _ in $(seq 600); do
        grep -q 'key (hex)' "$T/ask.out" 2>/dev/null && break
        sleep 0.1
    done
    printf '%s' "$answers"
    for _ in $(seq 900); do
        grep -qE 'successfully activated|Error' "$T/ask.out" 2>/dev/null && break
        sleep 0.1
    done
}
ask_up() {
    : >"$T/ask.out"
    feed | timeout 120 script -qec "nmcli --colors no --ask --wait 60 connection up '$C'" \
        /dev/null >"$T/ask.out" 2>&1
}
ask_up
rc=$?
if [ $rc = 0 ] || [ "$(con_state "$C")" = activated ]; then
    ok "nmcli --ask connection up succeeds with the keys typed in"
else
    not_ok "nmcli --ask connection up: exit $rc"
    tr -d '\r' <"$T/ask.out" | tail -15 | sed 's/^/#   /'
    nm_log_tail 20
fi
check "state activated" wait_con_state "$C" activated 30
asked=$(tr -d '\r' <"$T/ask.out")
for label in "Inbound ESP key (hex)" "Outbound ESP key (hex)" "Inbound HMAC key (hex)" \
    "Outbound HMAC key (hex)"; do
    check "nmcli asked on its terminal for \"$label\" (the dialog's label)" grep -qF "$label" <<<"$asked"
done

xs=$(ip -n $A xfrm state)
expect "kernel: outbound SA 0x4002 has the ESP key typed in" "enc cbc\\(aes\\) 0x$eout" \
    "$(awk '/spi 0x00004002/,/sel/' <<<"$xs")"
expect "kernel: outbound SA 0x4002 has the HMAC key typed in" "auth-trunc hmac\\(sha256\\) 0x$aout 128" \
    "$(awk '/spi 0x00004002/,/sel/' <<<"$xs")"
expect "kernel: inbound SA 0x4001 has the ESP key typed in" "enc cbc\\(aes\\) 0x$ein" \
    "$(awk '/spi 0x00004001/,/sel/' <<<"$xs")"
expect "kernel: inbound SA 0x4001 has the HMAC key typed in" "auth-trunc hmac\\(sha256\\) 0x$ain 128" \
    "$(awk '/spi 0x00004001/,/sel/' <<<"$xs")"
capture $B wire 'esp or ip proto 47' 100 "$T/cap"
check "ping A -> B inner (the peer holds the same keys)" nsping $A 198.51.100.10
check "ping B -> A inner" nsping $B 198.51.100.9
capture_stop
expect "wire: ESP from A with SPI 0x4002" '192\.0\.2\.1 > 192\.0\.2\.2: ESP\(spi=0x00004002' "$(cat "$T/cap")"

stored=0
for k in "$ein" "$eout" "$ain" "$aout"; do grep -qi "$k" "$kf" && stored=$((stored + 1)); done
expect_eq "after the up the store still keeps none of the keys" 0 "$stored"
logged=0
for k in "$ein" "$eout" "$ain" "$aout"; do grep -qi "$k" "$NM_DIR"/*.log && logged=$((logged + 1)); done
expect_eq "no key in NetworkManager's log (which has the service's too) nor the bus's" 0 "$logged"

check "nmcli connection down" nmc connection down "$C"
check "state: not active any more" wait_con_state "$C" "" 30
check "kernel: gre4 is gone" wait_gone $A gre4
same_dump "A after down is A before up" "$before" "$(dump $A)"
finish
