# For tests that play NetworkManager's part themselves on the build host: a network namespace
# and a D-Bus system bus of the test's own, open to everything.

# private_bus_netns "$0" "$@": runs the calling script again in a new network namespace (once),
# or skips it where that cannot be done (TAP "1..0 # SKIP").
private_bus_netns() {
    [ -z "${GRE_IN_NETNS:-}" ] || return 0
    local why=
    if [ "$(id -u)" != 0 ]; then why="needs root (a network namespace)"
    elif ! command -v dbus-daemon >/dev/null || ! command -v gdbus >/dev/null; then
        why="needs dbus-daemon and gdbus"
    elif ! unshare -n true 2>/dev/null; then why="cannot create a network namespace"
    fi
    if [ -n "$why" ]; then
        echo "1..0 # SKIP $why"
        exit 0
    fi
    exec env GRE_IN_NETNS=1 unshare -n bash "$@"
}

# private_bus_start DIR: the bus's socket and files go in DIR; sets bus_pid (for the caller's
# cleanup) and exports DBUS_SYSTEM_BUS_ADDRESS.
private_bus_start() {
    cat >"$1/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$1/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF
    # The forked daemon must not hold the caller's stdout (the TAP stream) open.
    dbus-daemon --config-file="$1/bus.conf" --fork --print-pid=3 3>"$1/bus.pid" \
        </dev/null >/dev/null 2>&1 || return 1
    bus_pid=$(cat "$1/bus.pid")
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$1/bus
}

# private_bus_setup: the test's temporary directory T, the bus started in it, and an exit trap
# that kills what the test left running (its service svc_pid, a monitor mon_pid), stops the bus
# and removes T (kept and named when KEEP_T is set).
private_bus_setup() {
    T=$(mktemp -d)
    bus_pid='' svc_pid='' mon_pid=''
    trap private_bus_cleanup EXIT
    private_bus_start "$T" || { echo "Bail out! cannot start dbus-daemon"; exit 1; }
}
private_bus_cleanup() {
    [ -n "$mon_pid" ] && kill "$mon_pid" 2>/dev/null
    [ -n "$svc_pid" ] && kill -KILL "$svc_pid" 2>/dev/null
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
    if [ -n "${KEEP_T:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
