#!/bin/bash
# Installs the .debs build-deb.sh made, inside a throwaway VM (tests/vm/run: the host's root
# read-only under a tmpfs overlay, so the host's dpkg database and /etc are never touched),
# and uses them as installed: the programs where the packages put them, NetworkManager's
# .name file pointing at programs that exist, a GRE tunnel from an ifupdown stanza through
# the installed hook, NetworkManager's connect and --ask tests against the installed plugin,
# then a purge that leaves nothing behind.
#
# Usage: tests/vm/run packaging/test-debs-in-vm.sh DEBDIR     (TAP on stdout)
set -uo pipefail
DIR=$(realpath "$1")
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@" >/tmp/check.out 2>&1; then ok "$what"; else not_ok "$what"; sed 's/^/# /' /tmp/check.out; fi; }

[ "${GRE_IN_VM:-}" = 1 ] || { echo "Bail out! run this through tests/vm/run, never on a host"; exit 1; }

pkgs=(network-manager-gre network-manager-gre-gnome gre-tunnel-ifupdown)
debs=()
for p in "${pkgs[@]}"; do
    f=$(ls "$DIR"/"${p}"_*.deb 2>/dev/null | head -n 1)
    [ -n "$f" ] || { echo "Bail out! no ${p}_*.deb in $DIR"; exit 1; }
    debs+=("$f")
done

check "dpkg -i of the three packages succeeds" dpkg -i "${debs[@]}"
for p in "${pkgs[@]}"; do
    check "$p is installed and configured" sh -c "dpkg-query -W -f='\${Status}' $p | grep -qx 'install ok installed'"
done
check "gre-tunnel --version runs from /usr/sbin" /usr/sbin/gre-tunnel --version
name=/usr/lib/NetworkManager/VPN/nm-gre-service.name
for key in program auth-dialog; do
    prog=$(sed -n "s/^$key=//p" "$name")
    check "$key= in nm-gre-service.name is an installed program ($prog)" test -x "$prog"
done
plugin=$(sed -n 's/^plugin=//p' "$name")
check "plugin= ($plugin) is in NetworkManager's plugin directory" \
    test -f "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/NetworkManager/$plugin"
check "the libnm plugin and both editors resolve all their libraries" sh -c \
    '! ldd /usr/lib/*/NetworkManager/libnm-*gre*.so | grep -q "not found"'

# A tunnel from an ifupdown stanza, through the hooks the package installed in /etc/network.
modprobe ip_gre 2>/dev/null
ip link add under0 type dummy && ip addr add 192.0.2.1/24 dev under0 && ip link set under0 up
cat >/tmp/interfaces <<'STANZA'
iface gre-deb inet manual
    gre-local 192.0.2.1
    gre-remote 192.0.2.2
    gre-inner-address 198.51.100.1/30
    gre-inner-peer 198.51.100.2
    gre-routes 203.0.113.0/24
STANZA
check "ifup gre-deb runs the installed hook and /usr/lib/gre-tunnel/ifup-gre" \
    ifup -i /tmp/interfaces --state-dir /tmp/ifstate gre-deb
kernel=$( { ip -d link show gre-deb; ip addr show gre-deb; ip route show 203.0.113.0/24; } 2>&1)
if grep -q 'gre remote 192.0.2.2 local 192.0.2.1' <<<"$kernel" &&
    grep -q 'inet 198.51.100.1 peer 198.51.100.2/30' <<<"$kernel" && grep -q '^203.0.113.0/24 .*dev gre-deb' <<<"$kernel"; then
    ok "... and the kernel has the GRE device with the stanza's addresses and route"
else
    not_ok "... and the kernel has the GRE device with the stanza's addresses and route"
    printf '%s\n' "$kernel" | sed 's/^/# /'
fi
check "ifdown gre-deb removes it" ifdown -i /tmp/interfaces --state-dir /tmp/ifstate gre-deb
check "... and the device is gone" sh -c '! ip link show gre-deb 2>/dev/null'

# NetworkManager with the installed plugin: the nm suite's connect test (vpn.data, import with
# IPsec, a killed service) and its agent-owned-keys test (nmcli --ask through the installed auth
# dialog), run against what the packages installed instead of the build tree.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for t in connect ask; do
    out=$(GRE_NM_INSTALLED=1 GRE_TUNNEL=/usr/sbin/gre-tunnel GRE_SRCDIR="$SRC" GRE_BUILDDIR=/nonexistent \
        bash "$SRC/tests/nm/test-nm-$t.sh" 2>&1)
    rc=$?
    total=$(grep -cE '^(not )?ok ' <<<"$out")
    bad=$(grep -c '^not ok ' <<<"$out")
    if [ "$rc" = 0 ] && [ "$total" -gt 0 ] && [ "$bad" = 0 ]; then
        ok "tests/nm/test-nm-$t.sh against the installed packages: $total checks"
    else
        not_ok "tests/nm/test-nm-$t.sh against the installed packages: exit $rc, $bad of $total not ok"
        { grep -E '^not ok |SKIP' <<<"$out"; tail -n 15 <<<"$out"; } | sed 's/^/# /'
    fi
done

check "dpkg --purge of the three packages succeeds" dpkg --purge "${pkgs[@]}"
left=$(for f in /usr/sbin/gre-tunnel /usr/lib/gre-tunnel /etc/network/if-pre-up.d/gre-tunnel \
        /etc/network/if-post-down.d/gre-tunnel "$name" /usr/lib/NetworkManager/nm-gre-service \
        /usr/share/dbus-1/system.d/nm-gre-service.conf; do [ -e "$f" ] && echo "$f"; done)
if [ -z "$left" ]; then ok "nothing of the packages is left after the purge"; else
    not_ok "nothing of the packages is left after the purge"; printf '# left: %s\n' $left; fi

echo "1..$n"
[ "$failed" = 0 ]
