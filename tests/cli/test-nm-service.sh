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
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

if [ -z "${GRE_IN_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] || skip_all "needs root (a network namespace)"
    command -v dbus-daemon >/dev/null && command -v gdbus >/dev/null ||
        skip_all "needs dbus-daemon and gdbus"
    unshare -n true 2>/dev/null || skip_all "cannot create a network namespace"
    exec env GRE_IN_NETNS=1 unshare -n bash "$0" "$@"
fi

T=$(mktemp -d)
bus_pid= svc_pid=
cleanup() {
    [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF
# The forked daemon must not hold our stdout (the TAP stream) open.
dbus-daemon --config-file="$T/bus.conf" --fork --print-pid=3 3>"$T/bus.pid" </dev/null >/dev/null 2>&1
bus_pid=$(cat "$T/bus.pid")
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
mkdir "$T/state"
NAME=org.freedesktop.NetworkManager.gre.Connection_7

out=$("$S" --help 2>&1)
if [[ $? == 0 && $out == *--bus-name* && $out == *--persist* && $out == *--debug* ]]; then
    ok "--help lists --bus-name, --persist, --debug"
else
    not_ok "--help (${out:0:300})"
fi

GRE_TUNNEL_STATE_DIR=$T/state "$S" --debug --bus-name "$NAME" >"$T/log" 2>&1 &
svc_pid=$!
for _ in $(seq 50); do
    gdbus introspect --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" \
        --object-path /org/freedesktop/NetworkManager/VPN/Plugin >/dev/null 2>&1 && break
    sleep 0.1
done

call() { # call METHOD VPN-DATA [VPN-SECRETS]
    gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" --timeout 20 \
        --object-path /org/freedesktop/NetworkManager/VPN/Plugin \
        --method "org.freedesktop.NetworkManager.VPN.Plugin.$1" \
        "{'connection': {'id': <'t1'>, 'type': <'vpn'>}, 'vpn': {'service-type':
          <'org.freedesktop.NetworkManager.gre'>, 'data': <@a{ss} {$2}>, 'secrets': <@a{ss} {${3:-}}>}}" 2>&1
}
expect() { # expect DESCRIPTION WANT_SUBSTRING OUTPUT
    if [[ $3 == *"$2"* ]]; then ok "$1"; else not_ok "$1 (got: ${3:0:400})"; fi
}

BASE="'device': 't1', 'remote': '192.0.2.2', 'local': '192.0.2.1', 'inner-address': '198.51.100.1/31'"
K1=0x73b7a793e1c959c572212d427b0f547760bed9c6a81c45601a7f92042a15bab79a09d41f
K2=0x85cc207df4cfbc160b0931d6e4a2251f71c804a7bf08e8fa524818bcf44fe3aaa69e1c6a
IPSEC="'ipsec': 'manual', 'spi-in': '0x1001', 'spi-out': '0x1002'"

expect "NeedSecrets: manual IPsec without keys asks for the vpn setting" "('vpn',)" \
    "$(call NeedSecrets "$BASE, $IPSEC")"
expect "NeedSecrets: nothing needed without IPsec" "('',)" "$(call NeedSecrets "$BASE")"
expect "NeedSecrets: nothing needed with both keys" "('',)" \
    "$(call NeedSecrets "$BASE, $IPSEC" "'esp-key-in': '$K1', 'esp-key-out': '$K2'")"

out=$(call Connect "'device': 't1', 'remote': '192.0.2.2', 'ttl': '300', 'mtu': 'x'")
expect "Connect: invalid vpn.data is BadArguments" "VPN.Error.BadArguments" "$out"
expect "Connect: every problem named by its key (ttl)" 'vpn.data: ttl: "300" is not inherit' "$out"
expect "Connect: every problem named by its key (mtu)" 'vpn.data: mtu: "x" is not auto' "$out"

# A failed connect stops the service state machine from an idle; let it settle.
sleep 0.5
out=$(call Connect "$BASE, $IPSEC" "'esp-key-in': '$K1', 'esp-key-out': '$K2'")
if [[ $out == "()" ]]; then
    # This kernel has GRE: the link exists here, and Disconnect removes it.
    ip link show t1 >/dev/null 2>&1 && ok "Connect created t1" || not_ok "Connect: no t1"
    out=$(gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" --dest "$NAME" \
        --object-path /org/freedesktop/NetworkManager/VPN/Plugin \
        --method org.freedesktop.NetworkManager.VPN.Plugin.Disconnect 2>&1)
    expect "Disconnect" "()" "$out"
    ip link show t1 >/dev/null 2>&1 && not_ok "Disconnect left t1" || ok "Disconnect removed t1"
else
    expect "Connect: a kernel failure is LaunchFailed quoting the step" \
        'VPN.Error.LaunchFailed: creating "ip ' "$out"
    skip "Connect creates the tunnel" "this kernel cannot; the VM test covers it"
    skip "Disconnect removes it" "idem"
fi
ip link show t1 >/dev/null 2>&1 && not_ok "t1 left behind" || ok "nothing left behind"

kill "$svc_pid"
wait "$svc_pid" 2>/dev/null
svc_pid=
if grep -qi -e "${K1#0x}" -e "${K2#0x}" -e "${K1:2:16}" -r "$T/log" "$T/state"; then
    not_ok "key material in the log or the state directory"
else
    ok "no key material in the log or the state directory"
fi
expect "the plan was logged with keys masked" "<secret:36-bytes>" "$(cat "$T/log")"
expect "SIGTERM is handled" "signal received" "$(cat "$T/log")"

echo "1..$n"
[ "$failed" = 0 ]
