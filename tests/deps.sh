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
    # Debian ifupdown, for the boot-script tests (the VM runs the host's programs)
    ifupdown
    # the VM harness: Debian's kernel under qemu, for hosts whose kernel lacks GRE or ESP
    qemu-system-x86 busybox-static cpio xz-utils zstd
    # the nm suite: a real NetworkManager and a private system bus, which the tests start only
    # in the VM or in namespaces of their own (on a host that runs systemd, installing
    # network-manager also enables the host's own daemon: stop it there if it is not wanted)
    network-manager dbus-daemon
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
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
