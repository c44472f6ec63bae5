# Shared by the nm tests (sourced): a real NetworkManager, with a D-Bus system bus of its own, in
# a network namespace of its own. Runs inside the project's VM (tests/kernel/run-test), or
# directly on a host whose kernel has GRE and ESP.
#
# Isolation: the whole test re-executes itself in a private mount namespace and covers every
# place NetworkManager or dbus-daemon would write (/run, /etc/NetworkManager,
# /var/lib/NetworkManager, the VPN plugin directory) with a tmpfs. So nothing reaches the host
# even in direct mode, a NetworkManager the host may run is neither seen nor disturbed (its bus
# socket in /run is hidden), and everything mounted vanishes with the namespace when the test
# ends. `ip netns add` then keeps its namespaces under our /run too.
#
# Usage in a test:  . "$(dirname "$0")/lib-nm.sh";  nm_start A;  nmc ...;  finish
if [ -z "${GRE_NM_PRIVATE_MOUNTS:-}" ]; then
    if ! command -v NetworkManager >/dev/null || ! command -v dbus-daemon >/dev/null ||
        ! command -v nmcli >/dev/null; then
        echo "1..0 # SKIP NetworkManager, nmcli or dbus-daemon not installed (tests/deps.sh)"
        exit 0
    fi
    export GRE_NM_PRIVATE_MOUNTS=1
    exec unshare --mount --propagation private bash "$0" "$@"
fi

# The mounts first: lib.sh's mktemp and later `ip netns add` must already see them.
_nm_private_mounts() {
    local d
    mount -t tmpfs -o mode=0755 nm-test-run /run || return 1
    local hide=(/etc/NetworkManager /var/lib/NetworkManager /usr/lib/NetworkManager/VPN)
    # Against installed packages (GRE_NM_INSTALLED=1, in a VM) their .name file must stay seen.
    [ "${GRE_NM_INSTALLED:-}" = 1 ] && hide=(/etc/NetworkManager /var/lib/NetworkManager)
    for d in "${hide[@]}"; do
        [ -d "$d" ] || continue # nothing there to hide (and nothing reads it)
        mount -t tmpfs -o mode=0755 nm-test "$d" || return 1
    done
    # The VPN plugin directory that NM and libnm read besides /usr/lib/NetworkManager/VPN.
    mkdir -p /etc/NetworkManager/VPN
}
if ! _nm_private_mounts; then
    echo "1..0 # SKIP cannot make private mounts for NetworkManager"
    exit 0
fi

. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"

# Loading ip_gre (or ip6_gre) adds fallback devices (gre0, gretap0, ...) to every namespace:
# load them before the test's namespaces exist, so that a "before" dump already has them.
modprobe -a -q ip_gre ip6_gre 2>/dev/null

NM_DIR=$T/nm
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$NM_DIR/system_bus_socket
_nm_pid= _dbus_pid=

# Stop NetworkManager first (it may still talk to the plugin), then every process left in the
# test's namespaces (a VPN service NM started, a tcpdump), then the bus; lib.sh's cleanup removes
# the namespaces and $T. On failure the logs go to $VM_JOB_DIR, which the VM harness keeps.
nm_cleanup() {
    local rc=$? ns pid
    if [ -n "$_nm_pid" ]; then
        kill -TERM "$_nm_pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$_nm_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$_nm_pid" 2>/dev/null
        wait "$_nm_pid" 2>/dev/null
    fi
    for ns in "${NS_LIST[@]+"${NS_LIST[@]}"}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    if [ -n "$_dbus_pid" ]; then
        kill -TERM "$_dbus_pid" 2>/dev/null
        wait "$_dbus_pid" 2>/dev/null
    fi
    if [ "$rc" != 0 ] && [ -n "${VM_JOB_DIR:-}" ] && [ -d "$VM_JOB_DIR" ] && [ -d "$NM_DIR" ]; then
        cp "$NM_DIR"/*.log "$VM_JOB_DIR/" 2>/dev/null
    fi
    cleanup
    exit "$rc"
}
trap nm_cleanup EXIT

# dbus_start: a system bus of our own. The policy is the stock system bus's (deny by default;
# names may be owned only where a policy file in system.d allows it), reading the same
# system.d directories, so the plugin's own policy file is exercised; plus $NM_DIR/system.d
# for files a test installs. No service directories: nothing gets D-Bus activated (NM spawns a
# VPN service itself, from the .name file's program=).
dbus_start() {
    mkdir -p "$NM_DIR/system.d"
    cat >"$NM_DIR/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$NM_DIR/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>/etc/dbus-1/system.d</includedir>
  <includedir>$NM_DIR/system.d</includedir>
</busconfig>
EOF
    dbus-daemon --config-file="$NM_DIR/bus.conf" --nofork --nopidfile >"$NM_DIR/dbus.log" 2>&1 &
    _dbus_pid=$!
    for _ in $(seq 100); do
        [ -S "$NM_DIR/system_bus_socket" ] && return 0
        sleep 0.1
    done
    echo "# dbus-daemon did not start: $(cat "$NM_DIR/dbus.log")"
    return 1
}

# nm_start NS [UNMANAGED...]: NetworkManager in namespace NS, on our bus, with the keyfile plugin
# only and a configuration of its own. It creates no connection by itself (no-auto-default),
# leaves DNS alone, asks no polkit (root clients only), and does not manage the kernel's fallback
# tunnel devices nor the interfaces named in UNMANAGED (e.g. the veth "wire" when the test
# configures it with ip itself).
# Logs (debug level) go to $NM_DIR/NetworkManager.log. Waits until nmcli gets an answer.
nm_start() {
    local ns=$1 spec d
    shift
    mkdir -p "$NM_DIR/conf.d" "$NM_DIR/system-conf.d" "$NM_DIR/connections"
    chmod 0700 "$NM_DIR/connections"
    spec=
    for d in gre0 gretap0 erspan0 ip_vti0 ip6_vti0 ip6gre0 ip6tnl0 sit0 "$@"; do
        spec+="${spec:+;}interface-name:$d"
    done
    cat >"$NM_DIR/NetworkManager.conf" <<EOF
[main]
plugins=keyfile
no-auto-default=*
auth-polkit=false
dns=none
rc-manager=unmanaged
systemd-resolved=false
dhcp=internal

[keyfile]
path=$NM_DIR/connections
unmanaged-devices=$spec

[logging]
level=DEBUG
domains=ALL,VPN_PLUGIN:TRACE
EOF
    dbus_start || return 1
    nm_run "$ns"
}

# nm_run NS: NetworkManager (again) in NS with the configuration nm_start wrote, on the same bus,
# e.g. to restart it after the test stopped or killed $_nm_pid. Its log is appended to.
nm_run() {
    local ns=$1
    # /sys read-only: NM then does not use udev (there is no udevd here) and treats the links
    # as initialized; with a writable /sys it would wait for udev forever.
    ip netns exec "$ns" unshare --mount --propagation private bash -c '
        mount -o remount,bind,ro /sys 2>/dev/null || mount -o remount,ro /sys
        exec NetworkManager --debug "$@"' nm \
        --config="$NM_DIR/NetworkManager.conf" --config-dir="$NM_DIR/conf.d" \
        --system-config-dir="$NM_DIR/system-conf.d" \
        --intern-config="$NM_DIR/NetworkManager-intern.conf" \
        --state-file="$NM_DIR/NetworkManager.state" \
        --pid-file="$NM_DIR/NetworkManager.pid" \
        >>"$NM_DIR/NetworkManager.log" 2>&1 &
    _nm_pid=$!
    NM_NS=$ns
    for _ in $(seq 600); do
        if ! kill -0 "$_nm_pid" 2>/dev/null; then
            echo "# NetworkManager exited:"
            tail -20 "$NM_DIR/NetworkManager.log" | sed 's/^/#   /'
            return 1
        fi
        nmcli -t general status >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "# NetworkManager did not answer on D-Bus within 60 s"
    tail -20 "$NM_DIR/NetworkManager.log" | sed 's/^/#   /'
    return 1
}

# nmc ARGS...: nmcli (terse, no colours) against our NetworkManager. nmcli only talks D-Bus,
# so it can run in any network namespace.
nmc() { nmcli --colors no "$@"; }

# con_state NAME: the connection's activation state as NM reports it (GENERAL.STATE:
# activating, activated, deactivating; empty when it is not active).
con_state() { nmc -g GENERAL.STATE connection show "$1" 2>/dev/null; }

# wait_con_state NAME STATE [SECONDS]: wait (default 60 s) until con_state is STATE ("" = not
# active any more).
wait_con_state() {
    local name=$1 want=$2 secs=${3:-60} end
    # Bounded by the clock: each look runs nmcli, which takes seconds under emulation.
    end=$((SECONDS + secs))
    while :; do
        [ "$(con_state "$name")" = "$want" ] && return 0
        [ "$SECONDS" -lt "$end" ] || break
        sleep 0.2
    done
    echo "connection $name: state '$(con_state "$name")', wanted '$want'"
    return 1
}

# nm_log_tail [N]: the last N (default 30) lines of NetworkManager's log, as TAP comments.
nm_log_tail() { tail -n "${1:-30}" "$NM_DIR/NetworkManager.log" | sed 's/^/#   /'; }

# same_dump DESC BEFORE AFTER: ok when the two dumps are equal, else the difference as comments.
same_dump() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -30 | sed 's/^/#   /'
    fi
}

# wait_gone NS DEV [SECONDS]: wait (default 10 s) until the kernel has no link DEV in NS.
wait_gone() {
    local i
    for ((i = 0; i < ${3:-10} * 10; i++)); do
        ip -n "$1" link show "$2" >/dev/null 2>&1 || return 0
        sleep 0.1
    done
    ip -n "$1" -d link show "$2"
    return 1
}

# nm_install_plugin: make NetworkManager, nmcli and the bus know our VPN plugin, from the build
# tree: the built .name file (its service name, capabilities, ...) with program= and plugin=
# (and the auth dialog's path) pointing into the build tree, in the VPN plugin directory (a tmpfs of ours), and the plugin's
# D-Bus policy from the source tree in the bus's configuration. Call it before nm_start.
# Fails (so that a test can skip) when the plugin is not built.
# With GRE_NM_INSTALLED=1 the plugin is the one installed by the packages: nothing is copied,
# and it fails when the installed .name file is missing. Either way NM_AUTH_DIALOG is then the
# auth dialog NetworkManager's agents will run.
NM_PLUGIN_BUILD=${GRE_BUILDDIR:-}/nm-plugin
NM_AUTH_DIALOG=
nm_install_plugin() {
    local b=$NM_PLUGIN_BUILD installed=/usr/lib/NetworkManager/VPN/nm-gre-service.name
    if [ "${GRE_NM_INSTALLED:-}" = 1 ]; then
        [ -f "$installed" ] || return 1
        NM_AUTH_DIALOG=$(sed -n 's/^auth-dialog=//p' "$installed")
        return 0
    fi
    NM_AUTH_DIALOG=$b/auth-dialog/nm-gre-auth-dialog
    local name=$b/nm-gre-service.name svc=$b/nm-gre-service so=$b/libnm-vpn-plugin-gre.so
    local conf=$SRC/nm-plugin/nm-gre-service.conf
    [ -f "$name" ] && [ -x "$svc" ] && [ -f "$so" ] && [ -f "$conf" ] || return 1
    mkdir -p "$NM_DIR/system.d"
    sed -e "s|^program=.*|program=$svc|" -e "s|^plugin=.*|plugin=$so|" \
        -e "s|^auth-dialog=.*|auth-dialog=$b/auth-dialog/nm-gre-auth-dialog|" "$name" \
        >/usr/lib/NetworkManager/VPN/nm-gre-service.name
    cp "$conf" "$NM_DIR/system.d/"
}

# service_pids: the nm-gre-service processes running (NM starts one per active connection).
service_pids() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = nm-gre-service ] && echo "${p#/proc/}"
    done
}

# watchdog_pids: the watchdogs nm-gre-service starts (one per service that brought a tunnel up).
watchdog_pids() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = nm-gre-watchdog ] && echo "${p#/proc/}"
    done
}

# nm_underlay NS ADDR: NM manages NS's end of the wire as it would a LAN (ethernet connection
# "underlay", ADDR/24), with a default route via a gateway that exists nowhere (the peer is
# on-link; nothing leaves the namespaces): a VPN connection rides on the base connection that
# has the default route. TAP checks.
nm_underlay() {
    local ns=$1 addr=$2
    check "underlay: NM activates an ethernet connection on wire" \
        nmc connection add type ethernet con-name underlay ifname wire autoconnect no \
        ipv4.method manual ipv4.addresses "$addr/24" ipv4.gateway 192.0.2.254 ipv6.method disabled
    check "underlay up" nmc connection up underlay
    check "underlay activated" wait_con_state underlay activated 30
    expect "underlay: NM's default route via wire" '^default via 192\.0\.2\.254 dev wire ' \
        "$(ip -n "$ns" route show default)"
}

# nm_pair A B: namespaces A and B joined by a veth wire (192.0.2.1/24 in A, 192.0.2.2/24 in B),
# $T/a and $T/b for their files.
nm_pair() {
    netns "$1" "$2"
    wire "$1" 192.0.2.1/24 "$2" 192.0.2.2/24
    mkdir -p "$T/a" "$T/b"
}
# nm_start_underlay A: NetworkManager started in nm_pair's A with the plugin (a TAP check, its
# start-up time noted) and the underlay activated (nm_underlay); A's dump from then in $before,
# for the comparisons after each `down`.
nm_start_underlay() {
    local t0=$SECONDS
    check "NetworkManager starts in $1 with the plugin installed" nm_start "$1"
    note "NetworkManager up after $((SECONDS - t0)) s"
    nm_underlay "$1" 192.0.2.1
    # shellcheck disable=SC2034 # the caller's
    before=$(dump "$1")
}
# nm_skip_without_plugin: a TAP skip and exit 0 unless the plugin is built (installs it if so).
nm_skip_without_plugin() {
    if ! nm_install_plugin; then
        echo "1..0 # SKIP the NetworkManager plugin is not built ($NM_PLUGIN_BUILD)"
        exit 0
    fi
}
