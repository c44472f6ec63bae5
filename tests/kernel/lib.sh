# Shared by the kernel tests (sourced). TAP output; every assertion reads what the kernel or the
# wire shows (ip, ping, tcpdump, /proc), never what gre-tunnel says it did.
# Only documentation addresses are used, inside namespaces the test makes.
set -uo pipefail
G=${GRE_TUNNEL:-${GRE_BUILDDIR:?}/plugin/gre-tunnel}
SRC=${GRE_SRCDIR:?}
T=$(mktemp -d)
NS_LIST=()
_n=0
_failed=0

cleanup() {
    for ns in "${NS_LIST[@]+"${NS_LIST[@]}"}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
check() { # check DESCRIPTION CMD...: ok when CMD succeeds
    local desc=$1
    shift
    if "$@" >"$T/check.out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/# /' "$T/check.out" | head -20; fi
}
check_not() { # check_not DESCRIPTION CMD...: ok when CMD fails
    local desc=$1
    shift
    if "$@" >"$T/check.out" 2>&1; then not_ok "$desc"; sed 's/^/# /' "$T/check.out" | head -20; else ok "$desc"; fi
}
note() { echo "# $*"; }
finish() {
    echo "1..$_n"
    [ "$_failed" = 0 ]
    exit $?
}

# netns NAME...: fresh namespaces with lo up, removed at exit.
netns() {
    for ns in "$@"; do
        ip netns del "$ns" 2>/dev/null
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        NS_LIST+=("$ns")
    done
}

# wire NS_A ADDR_A NS_B ADDR_B [MTU]: a veth "wire" named wire in both namespaces.
wire() {
    local a=$1 aa=$2 b=$3 ba=$4 mtu=${5:-1500}
    ip link add wire netns "$a" mtu "$mtu" type veth peer name wire netns "$b" mtu "$mtu"
    ip -n "$a" addr add "$aa" dev wire nodad 2>/dev/null || ip -n "$a" addr add "$aa" dev wire
    ip -n "$b" addr add "$ba" dev wire nodad 2>/dev/null || ip -n "$b" addr add "$ba" dev wire
    ip -n "$a" link set wire up
    ip -n "$b" link set wire up
}

# hexkey BYTES: random key material as 0x...
hexkey() { printf '0x%s' "$(od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n')"; }

# keys_for SUITE DIR NAME: a keys file with random keys of the right sizes for SUITE.
keys_for() {
    local suite=$1 dir=$2 name=$3 enc auth=0
    case $suite in
    aes128gcm16 | aes128gcm12) enc=20 ;;
    aes256gcm16 | aes256gcm12 | chacha20poly1305) enc=36 ;;
    aes128-sha256) enc=16 auth=32 ;;
    aes256-sha256) enc=32 auth=32 ;;
    aes128-sha1) enc=16 auth=20 ;;
    aes256-sha1) enc=32 auth=20 ;;
    *) echo "keys_for: unknown suite $suite" >&2; return 1 ;;
    esac
    (
        umask 077
        {
            echo "KEY_ESP_IN=$(hexkey $enc)"
            echo "KEY_ESP_OUT=$(hexkey $enc)"
            if [ "$auth" != 0 ]; then
                echo "KEY_AESP_IN=$(hexkey $auth)"
                echo "KEY_AESP_OUT=$(hexkey $auth)"
            fi
        } >"$dir/keys-$name"
    )
}

# gt NS ARGS...: gre-tunnel inside NS, with an ownership-record directory per namespace.
gt() {
    local ns=$1
    shift
    mkdir -p "$T/state-$ns"
    GRE_TUNNEL_STATE_DIR=$T/state-$ns ip netns exec "$ns" "$G" "$@"
}

# dump NS: everything apply could touch, for before/after comparisons.
dump() {
    local ns=$1
    {
        ip -n "$ns" -d link show | sed -E 's/ (qlen|qdisc|state|mode|group) [^ ]+//g'
        ip -n "$ns" addr show
        ip -n "$ns" route show table all
        ip -n "$ns" -6 route show table all
        ip -n "$ns" xfrm state
        ip -n "$ns" xfrm policy
    } 2>&1 | grep -v 'valid_lft'
}

# capture NS IFACE FILTER COUNT FILE: tcpdump in the background; stop it with capture_stop.
capture() {
    ip netns exec "$1" tcpdump -Z root -nn -l -i "$2" -c "$4" "$3" >"$5" 2>"$5.err" &
    _cap=$!
    # Wait until tcpdump really listens; a slow VM may need more than a second.
    for _ in $(seq 100); do
        grep -q 'listening on' "$5.err" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "# tcpdump did not start: $(cat "$5.err")"
}
capture_stop() {
    sleep 0.5
    kill "$_cap" 2>/dev/null
    wait "$_cap" 2>/dev/null
    return 0
}
