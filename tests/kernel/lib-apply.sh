# Helpers for the apply tests (test-rollback.sh, test-ownership.sh), sourced after lib.sh.
# Two "hosts" joined by a wire, tunnel configurations that use every kind of plan step, and
# dump comparisons. Only documentation addresses, only in namespaces made here.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Loading ip_gre/ip6_gre creates fallback devices (gre0, ip6gre0, ...) in every namespace that
# exists then or later: load them before any namespace is made, so that a dump taken before the
# first tunnel already has them.
apply_modules() {
    modprobe -a ip_gre ip6_gre esp4 esp6 xfrm_user xfrm_algo veth dummy 2>/dev/null || true
}

# apply_pair A B: namespaces A (192.0.2.1, 2001:db8:1::1) and B (.2, ::2) on a wire. DAD off,
# so that no address is "tentative" in one dump and not in the next.
apply_pair() {
    local a=$1 b=$2 ns
    apply_modules
    netns "$a" "$b"
    for ns in "$a" "$b"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0
    done
    wire "$a" 192.0.2.1/24 "$b" 192.0.2.2/24
    ip -n "$a" addr add 2001:db8:1::1/64 dev wire nodad
    ip -n "$b" addr add 2001:db8:1::2/64 dev wire nodad
}

# cfg_gre1 DIR: gre over IPv4, every kind of step: two ESP states with a CBC suite (so they
# carry auth keys), two policies, the remote pinned (ROUTES has 192.0.2.0/24, which covers the
# remote), the link, link up, an IPv4 and an IPv6 inner address, IPv4 and IPv6 routes.
cfg_gre1() {
    local dir=$1
    mkdir -p "$dir"
    cat >"$dir/ifcfg-gre1" <<'EOF'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
MY_INNER_IP6ADDR=2001:db8:2::1/64
PEER_INNER_IP6ADDR=2001:db8:2::2
ROUTES="192.0.2.0/24 metric 50 203.0.113.0/24 2001:db8:3::/48 metric 7"
KEY=42
TTL=64
IPSEC=manual
IPSEC_SUITE=aes128-sha256
SPI_ESP_IN=0x1002
SPI_ESP_OUT=0x1001
EOF
    keys_for aes128-sha256 "$dir" gre1
}

# cfg_tun6 DIR: ip6gre, inner IPv4 and IPv6, remote pinned (2001:db8:1::/48 covers it), ESP
# with AES-CBC + HMAC-SHA1.
cfg_tun6() {
    local dir=$1
    mkdir -p "$dir"
    cat >"$dir/ifcfg-tun6" <<'EOF'
DEVICE=tun6
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=2001:db8:1::1
PEER_OUTER_IPADDR=2001:db8:1::2
MY_INNER_IPADDR=198.51.100.5/30
PEER_INNER_IPADDR=198.51.100.6
MY_INNER_IP6ADDR=2001:db8:4::1/64
PEER_INNER_IP6ADDR=2001:db8:4::2
ROUTES="2001:db8:1::/48 metric 20 203.0.113.128/25 metric 5"
KEY=7
IPSEC=manual
IPSEC_SUITE=aes256-sha1
SPI_ESP_IN=0x2002
SPI_ESP_OUT=0x2001
EOF
    keys_for aes256-sha1 "$dir" tun6
}

# plan_steps NS CONFIG FILE: the plan's steps (ip commands, keys masked), one a line.
plan_steps() {
    gt "$1" plan "$2" | grep -v '^#' >"$3"
}

# netns_cookie NS: the cookie the kernel gives a socket made in NS (SO_NETNS_COOKIE), read once
# and kept in $T (python3: the shell has no getsockopt).
netns_cookie() {
    [ -s "$T/cookie-$1" ] || ip netns exec "$1" python3 -c 'import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])' >"$T/cookie-$1"
    cat "$T/cookie-$1"
}
# record_of NS NAME: the path of NAME's ownership record: NS's own directory in the default
# state directory, named after NS's cookie.
record_of() { echo "${GRE_TUNNEL_STATE_DIR:-/run/gre-tunnel}/netns-$(netns_cookie "$1")/$2.state"; }

# same_dump FILE1 FILE2: identical, else the diff (for check's output).
same_dump() { diff -u "$1" "$2"; }

# norm: a dump with what changes by itself masked, lines sorted (masking reorders routes):
# ifindexes ("12: gre1@NONE:", "@if12"), the random permaddr of an ip6gre link and the
# link-local address derived from it, and the ESP counters that the kernel's own traffic moves
# (IPv6 router solicitations and MLD reports go through the tunnel, hence through the SA:
# anti-replay oseq, lastused).
norm() {
    sed -E -e 's/^[0-9]+: /N: /' -e 's/@if[0-9]+/@ifN/' -e 's/ permaddr [0-9a-f:]+/ permaddr P/' \
        -e 's/(anti-replay context: seq) 0x[0-9a-f]+, oseq 0x[0-9a-f]+, bitmap 0x[0-9a-f]+/\1 S, oseq S, bitmap B/' \
        -e '/^\s+lastused /d' -e 's/fe80::[0-9a-f:]+/fe80::L/g' | sort
}

# counters_only: a dump with only the ESP counters masked (ifindexes kept).
counters_only() {
    sed -E -e 's/(anti-replay context: seq) 0x[0-9a-f]+, oseq 0x[0-9a-f]+, bitmap 0x[0-9a-f]+/\1 S, oseq S, bitmap B/' \
        -e '/^\s+lastused /d'
}

# Kernel event monitors on a namespace (links, addresses, routes; xfrm states and policies),
# for "what did the kernel see" assertions. Bookkeeping without exec (TCG makes exec dear).
MON_PIDS=()
exec {_SLEEPFD}<> <(:)
nap() { read -r -t "$1" -u $_SLEEPFD _ || true; } # sleep without exec
mon_start() { # NS
    ip -n "$1" monitor link address route >"$T/mon.rt" 2>&1 &
    MON_PIDS+=($!)
    ip -n "$1" xfrm monitor SA policy >"$T/mon.xfrm" 2>&1 &
    MON_PIDS+=($!)
    nap 1
}
mon_stop() {
    for p in "${MON_PIDS[@]+"${MON_PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
    MON_PIDS=()
}
_mon_lines() { # FILE: its line count, into $_ml
    local -a l
    mapfile -t l <"$1"
    _ml=${#l[@]}
}
mon_mark() { # prints "RT/XFRM" line counts
    local a
    _mon_lines "$T/mon.rt"
    a=$_ml
    _mon_lines "$T/mon.xfrm"
    echo "$a/$_ml"
}
mon_since() { # MARK: the event lines reported since MARK
    local -a l
    mapfile -t l <"$T/mon.rt"
    printf '%s\n' "${l[@]:${1%/*}}"
    mapfile -t l <"$T/mon.xfrm"
    printf '%s\n' "${l[@]:${1#*/}}"
}
mon_settle() { # until the monitors have written what they got (no growth for 0.3 s)
    local m0 m1
    m1=$(mon_mark)
    for ((_k = 0; _k < 40; _k++)); do
        nap 0.3
        m0=$m1
        m1=$(mon_mark)
        [ "$m0" = "$m1" ] && return 0
    done
}

# up_to NS CONFIG OUT: gre-tunnel up, its output in OUT; returns up's exit status.
up_to() { gt "$1" up "$2" >"$3" 2>&1; }
