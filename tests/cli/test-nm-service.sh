#!/bin/bash
# nm-gre-service over real D-Bus, as NetworkManager drives it: a private bus, the service in a
# throwaway network namespace, and its methods called with gdbus. Proves the D-Bus side
# (options, NeedSecrets, errors NetworkManager shows, no secrets in logs); the tunnel itself
# under a real NetworkManager is the VM test's job.
# Usage: test-nm-service.sh PATH-TO-nm-gre-service
set -uo pipefail
S=$1
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

. "$(dirname "$0")/../lib-private-bus.sh"
private_bus_netns "$0" "$@"

private_bus_setup
mkdir "$T/state"
NAME=org.freedesktop.NetworkManager.gre.Connection_7

out=$("$S" --help 2>&1)
if [[ $? == 0 && $out == *--bus-name* && $out == *--persist* && $out == *--debug* ]]; then
    ok "--help lists --bus-name, --persist, --debug"
else
    not_ok "--help (${out:0:300})"
fi

start_service() { # start_service LOG [OPTION...]: a new instance, logging to LOG
    LOG=$1
    shift
    # A state directory of this test's own: it runs on the build host, whose /run is not its own.
    GRE_TUNNEL_STATE_DIR=$T/state "$S" "$@" --bus-name "$NAME" >"$LOG" 2>&1 &
    svc_pid=$!
    for _ in $(seq 50); do
        gdbus introspect --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" \
            --object-path /org/freedesktop/NetworkManager/VPN/Plugin >/dev/null 2>&1 && break
        sleep 0.1
    done
}
stop_service() { # stop_service SIGNAL
    kill -"$1" "$svc_pid"
    wait "$svc_pid" 2>/dev/null
    svc_pid=
}
start_service "$T/log" --debug

call() { # call METHOD VPN-DATA [VPN-SECRETS]
    # Generous: under an emulated VM, loading the GRE and ESP modules takes a while.
    gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" --timeout 120 \
        --object-path /org/freedesktop/NetworkManager/VPN/Plugin \
        --method "org.freedesktop.NetworkManager.VPN.Plugin.$1" \
        "{'connection': {'id': <'t1'>, 'type': <'vpn'>}, 'vpn': {'service-type':
          <'org.freedesktop.NetworkManager.gre'>, 'data': <@a{ss} {$2}>,
          'secrets': <@a{ss} {${3:-}}>}}" 2>&1
}
expect() { # expect DESCRIPTION WANT_SUBSTRING OUTPUT
    if [[ $3 == *"$2"* ]]; then ok "$1"; else not_ok "$1 (got: ${3:0:400})"; fi
}
expect_empty() { # expect_empty DESCRIPTION OUTPUT
    if [ -z "$2" ]; then ok "$1"; else not_ok "$1 (got: ${2:0:400})"; fi
}

BASE="'device': 't1', 'remote': '192.0.2.2', 'local': '192.0.2.1',"
BASE+=" 'inner-address': '198.51.100.1/31'"
# aes256-sha256, the default suite: 32-byte cipher and HMAC keys.
K1=0x8bd93b56af0fa35dbdf05c7f48d5f7d387b60d78edb64675d2ea63ca5344ea53
K2=0xf291ef846fcb08755c4ffd379ae999d2fe36b2e8342f636ee31bd8c9e9d9bc05
K3=0x4c56fabe30ac49085e7e8f7428314bcff7328ae79704661550d60692820a28a0
K4=0x2dbc8af14db71feedb961ced5a81bf8225671f75f5c4cf25a95de4095216aece
KEYS="'esp-key-in': '$K1', 'esp-key-out': '$K2', 'auth-key-in': '$K3', 'auth-key-out': '$K4'"
IPSEC="'ipsec': 'manual', 'spi-in': '0x1001', 'spi-out': '0x1002'"

expect "NeedSecrets: manual IPsec without keys asks for the vpn setting" "('vpn',)" \
    "$(call NeedSecrets "$BASE, $IPSEC")"
expect "NeedSecrets: nothing needed without IPsec" "('',)" "$(call NeedSecrets "$BASE")"
expect "NeedSecrets: nothing needed with both keys" "('',)" \
    "$(call NeedSecrets "$BASE, $IPSEC" "$KEYS")"

out=$(call Connect "'device': 't1', 'remote': '192.0.2.2', 'ttl': '300', 'mtu': 'x'")
expect "Connect: invalid vpn.data is BadArguments" "VPN.Error.BadArguments" "$out"
expect "Connect: every problem named by its key (ttl)" 'vpn.data: ttl: "300" is not inherit' "$out"
expect "Connect: every problem named by its key (mtu)" 'vpn.data: mtu: "x" is not auto' "$out"
# Counter-mode suites are refused with static keys, as every front end refuses them.
out=$(call Connect "$BASE, $IPSEC, 'ipsec-suite': 'aes256gcm16'" \
    "'esp-key-in': '${K1}00000000', 'esp-key-out': '${K2}00000000'")
expect "Connect: AES-GCM with manual keys is BadArguments" "VPN.Error.BadArguments" "$out"
expect "Connect: ... naming the suite" \
    "vpn.data: ipsec-suite: aes256gcm16 is not safe with static keys: its nonce is" "$out"
expect "Connect: ... and the way out" "with ipsec=manual use a CBC suite (aes128-sha256, " "$out"
expect "NeedSecrets: no keys asked for a refused suite" "('',)" \
    "$(call NeedSecrets "$BASE, $IPSEC, 'ipsec-suite': 'chacha20poly1305'")"

# The same error in the user's language: NetworkManager shows it to them. The catalog comes from
# the build tree next to the service.
po=$(cd "$(dirname "$S")/../po" 2>/dev/null && pwd)
if [ -f "$po/de/LC_MESSAGES/NetworkManager-gre.mo" ] && locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then
    stop_service TERM
    LANGUAGE=de LC_ALL=C.UTF-8 GRE_LOCALEDIR=$po start_service "$T/log-de" --debug
    out=$(call Connect "'device': 't1', 'remote': '192.0.2.2', 'ttl': '300'")
    expect "Connect: the problem in the service's language (LANGUAGE=de)" 'ttl: »300« ist weder' "$out"
    stop_service TERM
    start_service "$T/log" --debug
else
    skip "Connect: the problem in the service's language" "no catalog in the build tree or no C.UTF-8"
fi

# A failed connect stops the service state machine from an idle; let it settle.
sleep 0.5
gdbus monitor --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" >"$T/signals" 2>&1 &
mon_pid=$!
sleep 0.5
# wait_for FILE ERE: up to 30 s, until a line of FILE matches.
wait_for() {
    for _ in $(seq 300); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# Connect checks the settings and returns; the kernel work follows, ending in the
# configuration signals or in Failure.
out=$(call Connect "$BASE, $IPSEC, 'routes': '203.0.113.0/24 metric 20'" \
    "$KEYS")
expect "Connect with valid settings returns at once" "()" "$out"
wait_for "$T/signals" 'Ip4Config|Failure' || not_ok "neither Ip4Config nor Failure came"
if grep -q Ip4Config "$T/signals"; then
    # This kernel has GRE and ESP: the tunnel exists here, it is reported, and Disconnect
    # removes it.
    ip link show t1 >/dev/null 2>&1 && ok "Connect created t1" || not_ok "Connect: no t1"
    expect "Connect created the outbound ESP SA" "spi 0x00001002" "$(ip xfrm state)"
    expect_empty "Connect left the addresses to NetworkManager" \
        "$(ip -o addr show dev t1 scope global)"
    sig=$(cat "$T/signals")
    # Not /sys/class/net: sysfs shows the namespace it was mounted in, not ours.
    mtu=$(ip -o link show t1 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
    [ -n "$mtu" ] || mtu=unknown
    # gdbus shows "u" values as host-order numbers: 192.0.2.2 read little-endian is 33685696.
    expect "Config: tundev" "'tundev': <'t1'>" "$sig"
    expect "Config: gateway (u, network order)" "'gateway': <uint32 33685696>" "$sig"
    expect "Config: mtu is the link's" "'mtu': <uint32 $mtu>" "$sig"
    expect "Config: has-ip4" "'has-ip4': <true>" "$sig"
    expect "Config: no ip6" "'has-ip6': <false>" "$sig"
    expect "Ip4Config: address 198.51.100.1" "'address': <uint32 23344070>" "$sig"
    expect "Ip4Config: prefix" "'prefix': <uint32 31>" "$sig"
    expect "Ip4Config: route 203.0.113.0/24 metric 20" "[[uint32 7405771, 24, 0, 20]]" "$sig"
    expect "Ip4Config: never-default" "'never-default': <true>" "$sig"
    out=$(gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" \
        --object-path /org/freedesktop/NetworkManager/VPN/Plugin \
        --method org.freedesktop.NetworkManager.VPN.Plugin.Disconnect 2>&1)
    expect "Disconnect" "()" "$out"
    ip link show t1 >/dev/null 2>&1 && not_ok "Disconnect left t1" || ok "Disconnect removed t1"
    expect_empty "Disconnect removed the SAs" "$(ip xfrm state)"
    expect_empty "Disconnect removed the policies" "$(ip xfrm policy)"

    # IPv6 outside: an ip6gre link, the gateway reported as "ay".
    : >"$T/signals"
    out=$(call Connect "'device': 't6', 'remote': '2001:db8:b::1', 'local': '2001:db8:a::1',
        'inner-address': '198.51.100.5/31', 'inner-address6': '2001:db8:ffff::1/64'")
    expect "Connect over IPv6" "()" "$out"
    expect "an ip6gre link" "ip6gre" "$(ip -d link show t6 2>&1)"
    for _ in $(seq 50); do
        grep -q Ip6Config "$T/signals" && break
        sleep 0.1
    done
    sig=$(cat "$T/signals")
    expect "Config: IPv6 gateway as ay" \
        "'gateway': <[byte 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0b," "$sig"
    expect "Config: has-ip6" "'has-ip6': <true>" "$sig"
    expect "Ip6Config: prefix 64" "'prefix': <uint32 64>" "$sig"
    expect "Disconnect (IPv6)" "()" "$(gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" \
        --dest "$NAME" --object-path /org/freedesktop/NetworkManager/VPN/Plugin \
        --method org.freedesktop.NetworkManager.VPN.Plugin.Disconnect 2>&1)"
    ip link show t6 >/dev/null 2>&1 && not_ok "Disconnect left t6" || ok "Disconnect removed t6"

    # A crashed service leaves the tunnel and its record; the next connect takes them over
    # (the same settings) and a later disconnect removes them.
    expect "Connect again" "()" \
        "$(call Connect "$BASE, $IPSEC" "$KEYS")"
    wait_for "$LOG" 't1: up' || not_ok "the second connect did not bring t1 up"
    stop_service KILL
    ip link show t1 >/dev/null 2>&1 && ok "a killed service leaves t1" || not_ok "t1 vanished"
    start_service "$T/log-2" --debug
    expect "Connect after a crash" "()" \
        "$(call Connect "$BASE, $IPSEC" "$KEYS")"
    wait_for "$T/log-2" 'already up|up failed'
    expect "the leftover was taken over" "already up exactly as planned" "$(cat "$T/log-2")"
    [ "$(ip xfrm state | grep -c 'spi 0x00001002')" = 1 ] && ok "one outbound SA, not two" ||
        not_ok "outbound SAs: $(ip xfrm state | grep -c 'spi 0x00001002')"

    # SIGTERM takes the tunnel down.
    stop_service TERM
    ip link show t1 >/dev/null 2>&1 && not_ok "SIGTERM left t1" || ok "SIGTERM removed t1"
    expect_empty "SIGTERM removed the SAs" "$(ip xfrm state)"
    expect "SIGTERM is logged" "signal received" "$(cat "$T/log-2")"
    expect "the taken-over objects were removed" "down, 5 objects removed" "$(cat "$T/log-2")"

    # As NetworkManager starts it (no --debug): when the peer that connected goes away (here
    # gdbus, which exits after the call), the tunnel goes down.
    NM_VPN_LOG_LEVEL=7 NM_VPN_LOG_SYSLOG=0 start_service "$T/log-3"
    expect "Connect from a peer that then exits" "()" \
        "$(call Connect "$BASE, $IPSEC" "$KEYS")"
    wait_for "$T/log-3" 't1: up' && ok "the tunnel came up" || not_ok "t1 did not come up"
    for _ in $(seq 100); do
        ip link show t1 >/dev/null 2>&1 || break
        sleep 0.1
    done
    ip link show t1 >/dev/null 2>&1 && not_ok "the peer went away, t1 stayed" ||
        ok "the peer going away took the tunnel down"
    expect "NM_VPN_LOG_LEVEL=7 logs debug lines" "<debug>" "$(cat "$T/log-3")"
    # With its peer gone the service quits by itself, possibly already.
    for _ in $(seq 20); do
        kill -0 "$svc_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$svc_pid" 2>/dev/null; then
        stop_service TERM
    else
        wait "$svc_pid" 2>/dev/null
        svc_pid=
    fi
else
    expect "a kernel failure is the Failure signal, connect-failed" \
        'VPN.Plugin.Failure (uint32 1,)' "$(cat "$T/signals")"
    expect "the log quotes the failing step" 'up failed: creating "ip ' "$(cat "$LOG")"
    stopped_after_failure() { grep -A5 Failure "$T/signals" | grep -q 'StateChanged (uint32 6,)'; }
    for _ in $(seq 100); do stopped_after_failure && break; sleep 0.1; done
    if stopped_after_failure; then
        ok "after Failure the service state goes to stopped (6)"
    else
        not_ok "after Failure the service state goes to stopped: $(tail -3 "$T/signals")"
    fi
    skip "Connect creates the tunnel" "this kernel cannot; the VM test covers it"
    skip "Disconnect removes it" "idem"
fi
ip link show t1 >/dev/null 2>&1 && not_ok "t1 left behind" || ok "nothing left behind"

if [ -n "$svc_pid" ]; then
    stop_service TERM
    expect "SIGTERM is handled" "signal received" "$(cat "$LOG")"
fi
if grep -qi -e "${K1#0x}" -e "${K2#0x}" -e "${K1:2:16}" -r "$T"/log* "$T/state"; then
    not_ok "key material in a log or the state directory"
else
    ok "no key material in the logs or the state directory"
fi
expect "the plan was logged with keys masked" "<secret:32-bytes>" "$(cat "$T/log")"

if [ "$failed" != 0 ]; then
    for f in "$T"/log*; do sed "s/^/# ${f##*/}: /" "$f"; done
    sed 's/^/# signals: /' "$T/signals"
fi
echo "1..$n"
[ "$failed" = 0 ]
