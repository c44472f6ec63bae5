#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nm-connection-editor itself editing a GRE tunnel: NetworkManager is python-dbusmock's mock on
# a private session bus (libnm is pointed at it with LIBNM_USE_SESSION_BUS), the plugin comes
# from a private NM_VPN_PLUGIN_DIR, keys are typed with xdotool and Save is clicked; the mock
# must then hold what was typed. Nothing outside this bus and a temporary directory is touched.
# Usage: dbus-run-session -- test-connection-editor.sh PLUGIN.so EDITOR.so (under xvfb-run)
set -euo pipefail

plugin=$1
editor=$2
logs=${GRE_BUILDDIR:-.}/meson-logs
NM=org.freedesktop.NetworkManager
uuid=2a9c4e5e-0000-4000-8000-000000000002

if ! /usr/bin/python3 -c 'import dbusmock' 2>/dev/null; then
    echo "1..0 # SKIP python3-dbusmock is not installed"
    exit 0
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

echo "1..5"

# The plugin finds the editor library beside itself.
mkdir "$work/vpn"
cp "$plugin" "$editor" "$work/vpn/"
cat >"$work/vpn/nm-gre-service.name" <<EOF
[VPN Connection]
name=gre
service=$NM.gre
program=/bin/false

[libnm]
plugin=$work/vpn/$(basename "$plugin")
EOF

/usr/bin/python3 -m dbusmock --session --template networkmanager >"$work/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    gdbus introspect --session -d $NM -o /org/freedesktop/NetworkManager >/dev/null 2>&1 && break
    sleep 0.1
done
mock() { gdbus call --session -d $NM "$@" >/dev/null; }
# The mock grants nothing by default, and lacks Update2, which libnm uses to save.
mock -o /org/freedesktop/NetworkManager -m org.freedesktop.DBus.Mock.AddMethod $NM \
    GetPermissions '' 'a{ss}' \
    "ret = {'$NM.settings.modify.system': 'yes', '$NM.settings.modify.own': 'yes'}"
# The keys are the agent's (flags 1): no key material anywhere in this test.
mock -o /org/freedesktop/NetworkManager -m $NM.Settings.SettingsAddConnection \
    "{'connection': {'id': <'gre-test'>, 'uuid': <'$uuid'>, 'type': <'vpn'>},
      'ipv4': {'method': <'auto'>}, 'ipv6': {'method': <'auto'>}, 'proxy': {'method': <@u 0>},
      'vpn': {'service-type': <'$NM.gre'>, 'secrets': <@a{ss} {}>,
              'data': <{'device': 'gre-test1', 'remote': '192.0.2.2',
                        'inner-address': '198.51.100.1/30', 'ipsec': 'manual',
                        'spi-in': '0x1000', 'spi-out': '0x1001',
                        'esp-key-in-flags': '1', 'esp-key-out-flags': '1',
                        'auth-key-in-flags': '1', 'auth-key-out-flags': '1'}>}}"
mock -o /org/freedesktop/NetworkManager/Settings/0 -m org.freedesktop.DBus.Mock.AddMethod \
    $NM.Settings.Connection Update2 'a{sa{sv}}ua{sv}' 'a{sv}' \
    'self.ConnectionUpdate(self, args[0]); ret = {}'
echo "ok 1 - mock NetworkManager holds a GRE connection"

LIBNM_USE_SESSION_BUS=1 NM_VPN_PLUGIN_DIR="$work/vpn" \
    nm-connection-editor --edit "$uuid" >"$work/nce.log" 2>&1 &
pids+=($!)
win=$(timeout 30 xdotool search --sync --onlyvisible --name 'Editing gre-test' | head -n1)
sleep 2
echo "ok 2 - nm-connection-editor opens the GRE page (window $win)"

# Keyboard only, so that the test does not depend on pixel positions: focus starts in the
# connection name; three tabs reach the remote address.
xdotool mousemove 0 0
xdotool windowfocus --sync "$win"
xdotool key --window "$win" Tab Tab Tab ctrl+a
xdotool type --window "$win" 192.0.2.300
sleep 1
import -window "$win" "$logs/connection-editor-invalid.png"
if grep -q 'vpn.data: remote: "192.0.2.300" is not' "$work/nce.log"; then
    echo "ok 3 - an invalid remote is refused as typed, naming the key"
else
    echo "not ok 3 - nm-connection-editor did not report the invalid remote"
    cat "$work/nce.log" | sed 's/^/# /'
    exit 1
fi

xdotool key --window "$win" ctrl+a
xdotool type --window "$win" 192.0.2.9
xdotool key --window "$win" shift+Tab ctrl+a
xdotool type --window "$win" gre-edited
sleep 1
import -window "$win" "$logs/connection-editor.png"
echo "# screenshots: $logs/connection-editor.png $logs/connection-editor-invalid.png"
echo "ok 4 - typed a valid remote and a new device name"

# Save is the last button of the window's bottom row.
eval "$(xdotool getwindowgeometry --shell "$win")"
xdotool mousemove --window "$win" -- $((WIDTH - 45)) $((HEIGHT - 22)) click 1
saved=
for _ in $(seq 50); do
    saved=$(gdbus call --session -d $NM -o /org/freedesktop/NetworkManager/Settings/0 \
        -m $NM.Settings.Connection.GetSettings)
    case $saved in *"'device': 'gre-edited'"*) break ;; esac
    sleep 0.1
done
for want in "'device': 'gre-edited'" "'remote': '192.0.2.9'" "'spi-in': '0x1000'" \
    "'esp-key-in-flags': '1'" "'service-type': <'$NM.gre'>"; do
    if [[ $saved != *"$want"* ]]; then
        echo "not ok 5 - saved connection lacks $want"
        echo "# $saved"
        exit 1
    fi
done
echo "ok 5 - Save wrote the typed values through update_connection into NetworkManager"
