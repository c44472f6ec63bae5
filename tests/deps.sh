#!/bin/bash
# Installs what building and testing NetworkManager-gre needs on Debian 12 (as root).
# Idempotent: packages already present are not touched, and apt-get update runs only when
# something is missing.
set -euo pipefail

packages=(
    meson ninja-build pkg-config gcc clang-format
    libglib2.0-dev libnl-3-dev libnl-route-3-dev libnl-xfrm-3-dev
    # the NetworkManager VPN plugin
    libnm-dev
    # the service's D-Bus test: a private bus, gdbus
    dbus-daemon libglib2.0-bin
    iproute2 iputils-ping tcpdump kmod strace groff-base
    # systemd-analyze verify, for the units
    systemd
    # translations: msgfmt at build time, xgettext and msgmerge for po/
    gettext
    # the AppStream metainfo test
    appstream
    # Debian ifupdown, for the boot-script tests (the VM runs the host's programs)
    ifupdown
    # the NetworkManager plugin: editor (GTK3 and GTK4), auth dialog, and the gui suite under Xvfb
    libnm-dev libnma-dev libnma-gtk4-dev libgtk-3-dev libgtk-4-dev xvfb xauth
    network-manager-gnome imagemagick xdotool
    # nm-connection-editor against a mock NetworkManager on a private bus
    python3-dbusmock dbus-daemon libglib2.0-bin
    # tests/fuzz: libFuzzer harnesses built with clang (its fuzzer and sanitizer runtimes)
    clang-14 libclang-rt-14-dev
    # the VM harness: Debian's kernel under qemu, for hosts whose kernel lacks GRE or ESP
    qemu-system-x86 busybox-static cpio xz-utils zstd
    # the nm suite: a real NetworkManager and a private system bus, which the tests start only
    # in the VM or in namespaces of their own (the host's own daemon is masked below)
    network-manager dbus-daemon
    # bench/nm.sh compares nm-gre-service's memory with another libnm VPN service's, started the
    # same way; it never connects it (pulls in openvpn, whose Debian unit does nothing by itself)
    network-manager-openvpn
    # IPSEC=ike's daemon, for the VICI client's kernel test: charon-systemd and swanctl; the
    # standard plugins bring openssl (ECP groups) and gcm (AES-GCM). Not libreswan: it conflicts.
    charon-systemd strongswan-swanctl libstrongswan-standard-plugins strongswan-pki
    # test-ike-interop's libreswan peer: pluto's libraries and certutil (its NSS database).
    # libreswan itself conflicts with strongSwan: it is unpacked below, never installed.
    libldns3 libevent-pthreads-2.1-7 libnss3-tools
    # memcheck for the leak tests (kernel valgrind, nm-leaks, nm-dbus-face); glibc's symbols
    valgrind libc6-dbg
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages: ${missing[*]}; run as root (or install them)" >&2
        exit 1
    fi
    # The tests start NetworkManager only in the VM or in namespaces of their own (the gui suite
    # talks to a mock). Where the daemon is new on a host that runs systemd, mask it before
    # installing, so that it never starts and takes over the host's networking.
    if [ -d /run/systemd/system ] &&
        ! dpkg-query -W -f='${Status}' network-manager 2>/dev/null | grep -q 'install ok installed'; then
        echo "deps: masking NetworkManager.service (installed for the tests, never run here)"
        systemctl mask NetworkManager.service
    fi
    # Likewise strongSwan's service: the tests start their own charons in namespaces.
    if [ -d /run/systemd/system ] &&
        ! dpkg-query -W -f='${Status}' charon-systemd 2>/dev/null | grep -q 'install ok installed'; then
        echo "deps: masking strongswan.service (installed for the tests, never run here)"
        systemctl mask strongswan.service
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's libreswan for test-ike-interop.sh: the package Conflicts with strongswan-libcharon, so
# it is fetched with apt-get download and unpacked (dpkg-deb -x) into a private root, never
# installed; the test runs its pluto from there. Done once per version.
lsw_root=${GRE_LIBRESWAN_ROOT:-/var/cache/gre-tunnel-tests/libreswan}
lsw_ver=$(apt-cache policy libreswan 2>/dev/null | sed -n 's/^ *Candidate: //p')
if [ -n "$lsw_ver" ] && [ "$lsw_ver" != "(none)" ] &&
    [ "$(cat "$lsw_root/VERSION" 2>/dev/null)" != "$lsw_ver" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: libreswan is not unpacked in $lsw_root; run as root" >&2
        exit 1
    fi
    echo "deps: unpacking libreswan $lsw_ver into $lsw_root (not installed: it conflicts)"
    lsw_tmp=$(mktemp -d)
    # (as root into a root-only directory apt warns that it cannot drop privileges: harmless)
    (cd "$lsw_tmp" && apt-get download -qq "libreswan=$lsw_ver")
    rm -rf "$lsw_root"
    mkdir -p "$lsw_root"
    dpkg-deb -x "$lsw_tmp"/libreswan_*.deb "$lsw_root"
    echo "$lsw_ver" >"$lsw_root/VERSION"
    rm -rf "$lsw_tmp"
fi
