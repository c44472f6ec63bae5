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

# gt NS ARGS...: gre-tunnel inside NS. Records go where they go for users: /run/gre-tunnel
# (a fresh tmpfs in the VM), in a directory of NS's own.
gt() {
    local ns=$1
    shift
    ip netns exec "$ns" "$G" "$@"
}

# dump NS: everything apply could touch, for before/after comparisons. It first waits (up to
# 10 s) until no address is tentative: a link-local address still in duplicate address
# detection would otherwise make a "before" dump differ from every later one. (-o: without it,
# `addr show tentative` prints every link's header line even when no address matches.)
dump() {
    local ns=$1 _
    for _ in $(seq 100); do
        [ -z "$(ip -n "$ns" -o addr show tentative 2>/dev/null)" ] && break
        sleep 0.1
    done
    {
        ip -n "$ns" -d link show | sed -E 's/ (qlen|qdisc|state|mode|group) [^ ]+//g'
        ip -n "$ns" addr show
        ip -n "$ns" route show table all
        ip -n "$ns" -6 route show table all
        ip -n "$ns" xfrm state
        ip -n "$ns" xfrm policy
    } 2>&1 | grep -v 'valid_lft'
}

# capture NS IFACE FILTER COUNT FILE [TCPDUMP_OPTION...]: tcpdump in the background; stop it
# with capture_stop. Extra options (e.g. -v for outer TTL and DF) go before the filter.
capture() {
    ip netns exec "$1" tcpdump -Z root -nn -l -i "$2" -c "$4" "${@:6}" "$3" >"$5" 2>"$5.err" &
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

# ---- assertions on text and small readers (added with test-pair/ipsec/ip6gre/interop) ----

# expect DESC ERE TEXT: ok when a line of TEXT matches the extended regular expression ERE.
# (Matched in bash, without a grep per assertion: exec is slow in the VM.)
_matching() { # ERE TEXT: print the lines of TEXT that match ERE; fail when none does
    local line found=1
    while IFS= read -r line; do
        if [[ $line =~ $1 ]]; then
            printf '%s\n' "$line"
            found=0
        fi
    done <<<"$2"
    return $found
}
expect() {
    if _matching "$2" "$3" >/dev/null; then
        ok "$1"
    else
        not_ok "$1"
        note "no line matches /$2/ in:"
        printf '%s\n' "$3" | head -20 | sed 's/^/#   /'
    fi
}
# expect_not DESC ERE TEXT: ok when no line of TEXT matches ERE.
expect_not() {
    local hits
    if hits=$(_matching "$2" "$3"); then
        not_ok "$1"
        note "unexpected match for /$2/:"
        printf '%s\n' "$hits" | head -10 | sed 's/^/#   /'
    else
        ok "$1"
    fi
}
# expect_eq DESC EXPECTED ACTUAL: ok when the two strings are equal.
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; note "expected '$2', got '$3'"; fi
}

# nsping NS ARGS...: ping from NS (3 probes, 0.2 s apart); succeeds when a reply came back.
nsping() {
    local ns=$1
    shift
    ip netns exec "$ns" ping -q -n -c 3 -i 0.2 -W 2 "$@"
}
# nsping_fails NS ARGS...: ping from NS (2 probes, 1 s wait); succeeds when NO reply came back.
nsping_fails() {
    local ns=$1
    shift
    ! ip netns exec "$ns" ping -q -n -c 2 -i 0.2 -W 1 "$@"
}

# link_mtu NS DEV: the MTU the kernel has for DEV.
link_mtu() { ip -n "$1" -o link show "$2" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }

# xfrm_stat NS FIELD: one counter of NS's /proc/net/xfrm_stat (e.g. XfrmInTmplMismatch).
xfrm_stat() { ip netns exec "$1" awk -v f="$2" '$1 == f { print $2 }' /proc/net/xfrm_stat; }

# sa_count NS SPI bytes|packets: the lifetime counter of the SA with SPI (any form: 0x1001,
# 4097), from `ip -s xfrm state`; empty when there is no such SA.
sa_count() {
    local want
    want=$(printf '0x%08x' "$2")
    ip -n "$1" -s xfrm state | awk -v spi="$want" -v what="$3" '
        /^src / { cur = 0 }
        $1 == "proto" && $2 == "esp" && $3 == "spi" { cur = (substr($4, 1, 10) == spi) }
        cur && /lifetime current:/ { getline; split($0, f, /[(),[:space:]]+/)
            print (what == "packets" ? f[4] : f[2]); exit }'
}

# packets FILE: a tcpdump -v capture with each packet on one line (continuation lines joined).
packets() { awk '/^[0-9]/ { if (p != "") print p; p = $0; next } { p = p " " $0 } END { if (p != "") print p }' "$1"; }

# oneline: stdin with its indented continuation lines joined to the line they continue, runs of
# blanks squeezed to one space (one record per line: `ip xfrm state | oneline`).
oneline() {
    awk '{ gsub(/[ \t]+/, " "); sub(/ $/, "") } /^ / { p = p $0; next } { if (NR > 1) print p; p = $0 }
        END { if (NR) print p }'
}
