#!/bin/bash
# Boot integration on a real kernel (run with tests/kernel/run-test):
#  1. Debian's ifupdown: `ifup`/`ifdown` of an /etc/network/interfaces stanza with GRE-only IPsec,
#     through the installed hook; the peer is `gre-tunnel up`; ESP on the wire, nothing left.
#  2. network-scripts: `ifup-gre ifcfg-NAME boot` with route-NAME in both forms (and
#     route6-NAME): routes with the inner source address, gone after `ifdown-gre`.
#  3. A file written for ifup-tunnel (TYPE=GRE) brings up a working tunnel.
#  4. A keys file readable by others is refused and nothing is created.
#  5. The network service's boot loop over three ifcfg files, one with ONBOOT=no.
#  6. A tunnel brought up before its underlay: refused with advice, or up when it needs no route.
# Every assertion reads the kernel (ip, ping, tcpdump). Host A is namespace A, the peer B.
. "$(dirname "$0")/lib.sh"
BIN=$GRE_BUILDDIR/ifup-scripts
UP=$BIN/ifup-gre DOWN=$BIN/ifdown-gre HOOK=$BIN/ifupdown-hook-uninstalled
A=gbt-a-$$ B=gbt-b-$$
S=$T/network-scripts

boot_cleanup() {
    [ -n "${_syslog:-}" ] && kill "$_syslog" 2>/dev/null
    [ -n "${_devlog:-}" ] && rm -f /dev/log
    rm -rf "/etc/netns/$A"
    cleanup
}
trap boot_cleanup EXIT

# in_a CMD...: as network-scripts would run it on host A, with this test's directories.
in_a() { GRE_NETWORK_SCRIPTS_DIR=$S ip netns exec "$A" "$@"; }
# same DESCRIPTION FILE: the kernel state of A is what FILE recorded.
same() {
    dump "$A" >"$T/now"
    if diff -u "$2" "$T/now" >"$T/diff"; then ok "$1"; else not_ok "$1"; sed 's/^/# /' "$T/diff" | head -30; fi
}
# shows DESCRIPTION PATTERN CMD...: CMD's output matches the extended regex PATTERN.
shows() {
    local desc=$1 pat=$2
    shift 2
    if "$@" >"$T/shows" 2>&1 && grep -Eq -- "$pat" "$T/shows"; then ok "$desc"; else
        not_ok "$desc"
        echo "# wanted /$pat/ in: $*"
        sed 's/^/# /' "$T/shows" | head -15
    fi
}
# ping_ok DESCRIPTION NS ADDR: a few tries, for addresses that are still settling (IPv6 DAD).
ping_ok() {
    local desc=$1 ns=$2 addr=$3
    for _ in $(seq 10); do
        if ip netns exec "$ns" ping -c 2 -i 0.2 -W 2 "$addr" >"$T/ping" 2>&1; then ok "$desc"; return; fi
        sleep 0.3
    done
    not_ok "$desc"
    sed 's/^/# /' "$T/ping"
}
key() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; } # aes256-sha256, the default suite

# The system log: where there is none (the test VM), listen on /dev/log to see what the
# binaries send there. Unix sockets with a path are reachable from every network namespace.
if [ "${GRE_IN_VM:-}" = 1 ] && [ ! -e /dev/log ] && command -v python3 >/dev/null; then
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("/dev/log")
with open(sys.argv[1], "ab", buffering=0) as out:
    while True: out.write(s.recv(4096) + b"\n")' "$T/syslog" &
    _syslog=$! _devlog=1
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
fi

# Load the tunnel modules first: loading one adds its fallback devices (gre0, ...) to every
# namespace, which would differ between the "before" and "after" dumps.
modprobe -a ip_gre ip6_gre esp4 esp6 xfrm_user 2>/dev/null
netns "$A" "$B"
wire "$A" 192.0.2.1/24 "$B" 192.0.2.2/24
# Networks behind B that A reaches through its tunnels.
ip -n "$B" link add lan type dummy
ip -n "$B" addr add 203.0.113.1/24 dev lan
ip -n "$B" addr add 2001:db8:2::1/48 dev lan nodad
ip -n "$B" link set lan up
mkdir -p "$S" "$T/b"
dump "$A" >"$T/base"
dump "$B" >"$T/base-b"

# ---------------------------------------------------------------- 1. ifupdown

# Part 1 needs Debian's ifupdown on the host (the VM sees the host's root).
part_ifupdown() {
note "1. ifupdown: ifup/ifdown of a stanza with IPsec"
# `ip netns exec` bind-mounts /etc/netns/NS/* over /etc, so ifup in A finds its own
# /etc/network: only the hook under test runs, and the host's /etc/network stays untouched.
E=/etc/netns/$A/network
mkdir -p "$E"/if-pre-up.d "$E"/if-up.d "$E"/if-down.d "$E"/if-post-down.d
install -m 755 "$HOOK" "$E/if-pre-up.d/gre-tunnel"
install -m 755 "$HOOK" "$E/if-post-down.d/gre-tunnel"
K1=$(key) K2=$(key) K3=$(key) K4=$(key)
(
    umask 077
    printf 'KEY_ESP_IN=0x%s\nKEY_ESP_OUT=0x%s\nKEY_AESP_IN=0x%s\nKEY_AESP_OUT=0x%s\n' \
        "$K1" "$K2" "$K3" "$K4" >"$T/gbt-ifud.keys"
    printf 'KEY_ESP_IN=0x%s\nKEY_ESP_OUT=0x%s\nKEY_AESP_IN=0x%s\nKEY_AESP_OUT=0x%s\n' \
        "$K2" "$K1" "$K4" "$K3" >"$T/b/keys-gbt-ifud"
)
cat >"$T/interfaces" <<EOF
# A GRE tunnel with GRE-only IPsec: the gre-* options are ifup-gre's.
iface gbt-ifud inet manual
    gre-local 192.0.2.1
    gre-remote 192.0.2.2
    gre-inner-address 198.51.100.1/30
    gre-inner-peer 198.51.100.2
    gre-routes 203.0.113.0/24
    gre-key 101
    gre-ipsec manual
    gre-spi-in 0x1101
    gre-spi-out 0x1102
    gre-keys-file $T/gbt-ifud.keys

# Not a tunnel: the hook must leave it alone.
iface plain0 inet manual
EOF
cat >"$T/b/ifcfg-gbt-ifud" <<EOF
DEVICE=gbt-ifud
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.2
PEER_OUTER_IPADDR=192.0.2.1
MY_INNER_IPADDR=198.51.100.2/30
PEER_INNER_IPADDR=198.51.100.1
KEY=101
IPSEC=manual
SPI_ESP_IN=0x1102
SPI_ESP_OUT=0x1101
EOF
ifupdown() { ip netns exec "$A" "$@" -i "$T/interfaces" --state-dir "$T/ifstate"; }

ip -n "$A" link add plain0 type dummy
check "ifup of a stanza without gre options succeeds" ifupdown ifup plain0
shows "... and leaves the device as it was (a dummy, no tunnel)" 'dummy' ip -n "$A" -d link show plain0
check_not "... and creates no record" bash -c "ls /run/gre-tunnel/{,netns-*/}plain0.state"
check "ifdown of it succeeds too" ifupdown ifdown plain0
ip -n "$A" link del plain0

t0=$(date +%s%N)
check "ifup gbt-ifud (Debian ifupdown, hook, ifup-gre --ifupdown)" ifupdown ifup gbt-ifud
note "ifup took $((($(date +%s%N) - t0) / 1000000)) ms"
shows "kernel: GRE device with the stanza's outer addresses, TTL 64 and key" \
    'gre remote 192.0.2.2 local 192.0.2.1 ttl 64 .*key 0\.0\.0\.101' ip -n "$A" -d link show gbt-ifud
shows "kernel: the link is up" '<POINTOPOINT,NOARP,UP,LOWER_UP>' ip -n "$A" link show gbt-ifud
shows "kernel: inner address with its peer" 'inet 198\.51\.100\.1 peer 198\.51\.100\.2/30' \
    ip -n "$A" addr show dev gbt-ifud
shows "kernel: gre-routes with src = the inner address" '^203\.0\.113\.0/24 .*src 198\.51\.100\.1' \
    ip -n "$A" route show dev gbt-ifud
shows "kernel: two ESP SAs" '^2$' sh -c "ip -n $A xfrm state | grep -c '^src'"
shows "kernel: two policies, for GRE only" '^2$' sh -c "ip -n $A xfrm policy | grep -c 'proto gre'"
shows "ifupdown records the interface as up" '^gbt-ifud=gbt-ifud' ifupdown ifquery --state

check "peer B: gre-tunnel up" gt "$B" up "$T/b/ifcfg-gbt-ifud"
capture "$B" wire 'ip proto 50 or ip proto 47' 40 "$T/wire"
ping_ok "ping the inner peer through the tunnel" "$A" 198.51.100.2
ping_ok "ping the network behind B through the tunnel" "$A" 203.0.113.1
capture_stop
esp=$(grep -c 'ESP(spi=' "$T/wire")
gre=$(grep -c 'GREv0' "$T/wire")
note "on the wire: $esp ESP, $gre GRE in the clear"
check "ESP on the wire (at least 8 packets for 4 pings)" test "$esp" -ge 8
check "no GRE in the clear" test "$gre" = 0

check "ifdown gbt-ifud" ifupdown ifdown gbt-ifud
same "after ifdown, A is exactly as before (dump before == after)" "$T/base"
check_not "... and the ownership record is gone" bash -c "ls /run/gre-tunnel/{,netns-*/}gbt-ifud.state"
check_not "ifupdown no longer lists it" sh -c "ip netns exec $A ifquery --state-dir $T/ifstate --state | grep -q gbt-ifud"

chmod 644 "$T/gbt-ifud.keys"
check_not "ifup with a gre-keys-file others can read fails" ifupdown ifup gbt-ifud
shows "... saying why" 'gbt-ifud.keys: readable by group or others' cat "$T/check.out"
same "... and creates nothing" "$T/base"
chmod 600 "$T/gbt-ifud.keys"
check "peer B: gre-tunnel down" gt "$B" down gbt-ifud
}
if command -v ifup >/dev/null; then
    part_ifupdown
else
    ok "# SKIP Debian's ifupdown is not installed (apt-get install ifupdown)"
fi

# ---------------------------------------------------------------- 2. route files

note "2. ifup-gre ifcfg-NAME boot with route-NAME (both forms) and route6-NAME"
cat >"$S/ifcfg-gbt-rt" <<EOF
DEVICE=gbt-rt
TYPE=gre
DEVICETYPE=gre
ONBOOT=yes
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.5/30
PEER_INNER_IPADDR=198.51.100.6
MY_INNER_IP6ADDR=2001:db8:1::1/64
PEER_INNER_IP6ADDR=2001:db8:1::2
KEY=102
EOF
cat >"$T/b/ifcfg-gbt-rt" <<EOF
DEVICE=gbt-rt
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.2
PEER_OUTER_IPADDR=192.0.2.1
MY_INNER_IPADDR=198.51.100.6/30
PEER_INNER_IPADDR=198.51.100.5
MY_INNER_IP6ADDR=2001:db8:1::2/64
PEER_INNER_IP6ADDR=2001:db8:1::1
KEY=102
EOF
check "peer B: gre-tunnel up" gt "$B" up "$T/b/ifcfg-gbt-rt"
printf '2001:db8:2::/48 metric 5\n' >"$S/route6-gbt-rt"

route_form() { # route_form NAME METRIC: bring up with route-gbt-rt as written, check, take down
    local form=$1 metric=$2
    check "$form: ifup-gre ifcfg-gbt-rt boot" in_a "$UP" ifcfg-gbt-rt boot
    shows "$form: 203.0.113.0/25 (metric $metric) with src 198.51.100.5" \
        "^203\.0\.113\.0/25 .*src 198\.51\.100\.5 metric $metric" ip -n "$A" route show dev gbt-rt
    shows "$form: 203.0.113.128/25 with src 198.51.100.5" '^203\.0\.113\.128/25 .*src 198\.51\.100\.5' \
        ip -n "$A" route show dev gbt-rt
    shows "$form: route6-NAME: 2001:db8:2::/48 with src 2001:db8:1::1" \
        '^2001:db8:2::/48 .*src 2001:db8:1::1 metric 5' ip -n "$A" -6 route show dev gbt-rt
    shows "$form: the kernel picks the tunnel and the inner source for 203.0.113.1" \
        'dev gbt-rt src 198\.51\.100\.5' ip -n "$A" route get 203.0.113.1
    ping_ok "$form: ping 203.0.113.1 behind B" "$A" 203.0.113.1
    ping_ok "$form: ping 2001:db8:2::1 behind B" "$A" 2001:db8:2::1
    check "$form: ifdown-gre ifcfg-gbt-rt" in_a "$DOWN" ifcfg-gbt-rt
    check_not "$form: no route to 203.0.113.0/25 is left" \
        sh -c "ip -n $A route show | grep -q '^203\.0\.113\.'"
    check_not "$form: no route to 2001:db8:2::/48 is left" \
        sh -c "ip -n $A -6 route show | grep -q '^2001:db8:2::'"
    same "$form: A is exactly as before" "$T/base"
}
cat >"$S/route-gbt-rt" <<EOF
# ip route arguments, one route per line
203.0.113.0/25 via 198.51.100.6 metric 10
203.0.113.128/25 dev gbt-rt
EOF
route_form "ip form" 10
cat >"$S/route-gbt-rt" <<EOF
ADDRESS0=203.0.113.0
NETMASK0=255.255.255.128
GATEWAY0=198.51.100.6
METRIC0=20
ADDRESS1=203.0.113.128
NETMASK1=255.255.255.128
EOF
route_form "ADDRESSn form" 20

printf '203.0.113.0/24 via 192.0.2.254\n' >"$S/route-gbt-rt"
check_not "a route via another gateway is refused" in_a "$UP" ifcfg-gbt-rt boot
shows "... naming FILE:LINE" "route-gbt-rt:1: via 192\.0\.2\.254" cat "$T/check.out"
same "... and nothing is created" "$T/base"
rm "$S/route-gbt-rt" "$S/route6-gbt-rt"
check "peer B: gre-tunnel down" gt "$B" down gbt-rt

# ---------------------------------------------------------------- 3. ifup-tunnel's files

note "3. a file written for ifup-tunnel (TYPE=GRE), unchanged"
cat >"$S/ifcfg-gbt-old" <<EOF
DEVICE=gbt-old
TYPE=GRE
ONBOOT=yes
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.9
PEER_INNER_IPADDR=198.51.100.10
KEY=103
EOF
cat >"$T/b/ifcfg-gbt-old" <<EOF
DEVICE=gbt-old
TYPE=gre
MY_OUTER_IPADDR=192.0.2.2
PEER_OUTER_IPADDR=192.0.2.1
MY_INNER_IPADDR=198.51.100.10
PEER_INNER_IPADDR=198.51.100.9
KEY=103
EOF
check "peer B: gre-tunnel up" gt "$B" up "$T/b/ifcfg-gbt-old"
check "ifup-gre ifcfg-gbt-old boot" in_a "$UP" ifcfg-gbt-old boot
cp "$T/check.out" "$T/old.out"
shows "it says TTL changes: 'TTL: not set; using 64 (ifup-tunnel would inherit)'" \
    'TTL: not set; using 64 \(ifup-tunnel would inherit\)' cat "$T/old.out"
shows "it says the outer address is bound: 'MY_OUTER_IPADDR: not set; using 192.0.2.1'" \
    'MY_OUTER_IPADDR: not set; using 192\.0\.2\.1' cat "$T/old.out"
shows "kernel: TTL 64 and the local address bound" 'gre remote 192\.0\.2\.2 local 192\.0\.2\.1 ttl 64' \
    ip -n "$A" -d link show gbt-old
ping_ok "ping the peer through it" "$A" 198.51.100.10
sed 's/^/#   /' "$T/old.out"
check "ifdown-gre gbt-old" in_a "$DOWN" gbt-old
same "A is exactly as before" "$T/base"
# A device of that name that ifup-gre did not create (say, ifup-tunnel's) is not ours to delete.
ip -n "$A" link add gbt-old type gre remote 192.0.2.2 local 192.0.2.1 ttl 64 key 103
check "ifdown-gre on a tunnel it did not bring up exits 0" in_a "$DOWN" ifcfg-gbt-old
shows "... saying it is left alone, unlike with ifdown-tunnel" \
    'left alone \(ifdown-tunnel would delete any device of that name\)' cat "$T/check.out"
check "... and the device is still there" ip -n "$A" link show gbt-old
ip -n "$A" link del gbt-old
check "peer B: gre-tunnel down" gt "$B" down gbt-old

# ---------------------------------------------------------------- 4. private keys

note "4. a keys file others can read"
cat >"$S/ifcfg-gbt-sec" <<EOF
DEVICE=gbt-sec
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.13/30
KEY=104
IPSEC=manual
SPI_ESP_IN=0x1401
SPI_ESP_OUT=0x1402
EOF
printf 'KEY_ESP_IN=0x%s\nKEY_ESP_OUT=0x%s\nKEY_AESP_IN=0x%s\nKEY_AESP_OUT=0x%s\n' "$(key)" "$(key)" \
    "$(key)" "$(key)" >"$S/keys-gbt-sec"
chmod 644 "$S/keys-gbt-sec"
check_not "ifup-gre refuses keys-gbt-sec with mode 0644" in_a "$UP" ifcfg-gbt-sec boot
shows "... and says how to fix it" "keys-gbt-sec: readable by group or others \(mode 0644\); run: chmod 600" \
    cat "$T/check.out"
same "... and nothing is created (dump identical)" "$T/base"
check_not "... not even a record (in any namespace's directory)" \
    bash -c "ls ${GRE_TUNNEL_STATE_DIR:-/run/gre-tunnel}/{,netns-*/}gbt-sec.state"
chmod 600 "$S/keys-gbt-sec"
check "with mode 0600 the same file comes up" in_a "$UP" ifcfg-gbt-sec boot
shows "kernel: its SAs are there" '^2$' sh -c "ip -n $A xfrm state | grep -c '^src'"
check "ifdown-gre ifcfg-gbt-sec" in_a "$DOWN" ifcfg-gbt-sec
same "A is exactly as before" "$T/base"
rm "$S"/*

# ---------------------------------------------------------------- 5. boot order

note "5. the network service's loop: ifup-gre ifcfg-X boot for each file"
boot_file() { # boot_file NAME N ONBOOT-LINE
    printf 'DEVICE=%s\nTYPE=gre\nDEVICETYPE=gre\n%s\nMY_OUTER_IPADDR=192.0.2.1\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.%s/30\nKEY=%s\n' \
        "$1" "$3" "$((16 + 4 * $2 + 1))" "$((110 + $2))" >"$S/ifcfg-$1"
}
boot_file gbt-b1 1 ONBOOT=yes
boot_file gbt-b2 2 "# no ONBOOT: network-scripts bring it up"
boot_file gbt-b3 3 ONBOOT=no
rcs=""
for f in "$S"/ifcfg-*; do
    in_a "$UP" "${f##*/}" boot >>"$T/boot.out" 2>&1
    rcs="$rcs $?"
done
check "every ifup-gre ... boot exits 0 (ONBOOT=no too)" test "$rcs" = " 0 0 0"
shows "gbt-b1 (ONBOOT=yes) is up" '<POINTOPOINT,NOARP,UP,LOWER_UP>' ip -n "$A" link show gbt-b1
shows "gbt-b2 (no ONBOOT) is up" '<POINTOPOINT,NOARP,UP,LOWER_UP>' ip -n "$A" link show gbt-b2
check_not "gbt-b3 (ONBOOT=no) is not" ip -n "$A" link show gbt-b3
shows "exactly two GRE devices" '^2$' sh -c "ip -n $A -o link show type gre | grep -vc ' gre0@'"
check "without boot, ifup-gre brings up gbt-b3 anyway (ONBOOT is for boot)" in_a "$UP" gbt-b3
rcs=""
for f in "$S"/ifcfg-*; do
    in_a "$DOWN" "${f##*/}" boot >>"$T/boot.out" 2>&1
    rcs="$rcs $?"
done
check "shutdown: every ifdown-gre exits 0" test "$rcs" = " 0 0 0"
same "after shutdown, A is exactly as before" "$T/base"
same_b() { dump "$B" >"$T/now-b"; diff -u "$T/base-b" "$T/now-b" >"$T/diff" && ok "$1" || { not_ok "$1"; sed 's/^/# /' "$T/diff" | head; }; }
same_b "B is exactly as before too"

# ---------------------------------------------------------------- 6. no underlay yet

note "6. a tunnel whose underlay is not up yet (no route to the remote)"
printf 'DEVICE=gbt-nr\nTYPE=gre\nDEVICETYPE=gre\nPEER_OUTER_IPADDR=203.0.113.99\nMY_INNER_IPADDR=198.51.100.33/30\n' \
    >"$S/ifcfg-gbt-nr"
check_not "ifup-gre ... boot fails when it needs the route" in_a "$UP" ifcfg-gbt-nr boot
shows "... and says how to order the boot" \
    'there is no route to 203\.0\.113\.99 yet; at boot, network-scripts bring up TYPE=gre files' \
    cat "$T/check.out"
same "... and creates nothing" "$T/base"
printf 'MY_OUTER_IPADDR=192.0.2.1\nUNDERLAY_MTU=1492\n' >>"$S/ifcfg-gbt-nr"
check "with MY_OUTER_IPADDR and UNDERLAY_MTU it comes up without the route" \
    in_a "$UP" ifcfg-gbt-nr boot
shows "kernel: MTU from UNDERLAY_MTU (1492 - 20 - 4)" ' mtu 1468 ' ip -n "$A" link show gbt-nr
check "ifdown-gre ifcfg-gbt-nr" in_a "$DOWN" ifcfg-gbt-nr
same "A is exactly as before" "$T/base"

# ---------------------------------------------------------------- the system log

if [ -n "${_syslog:-}" ]; then
    sleep 0.2
    # <PRI> = facility * 8 + severity: daemon (3) * 8 + err (3) = 27, + info (6) = 30.
    shows "syslog: errors as daemon.err with ident ifup-gre" '^<27>.* ifup-gre: .*keys-gbt-sec: readable' \
        cat "$T/syslog"
    shows "syslog: progress as daemon.info" '^<30>.* ifup-gre: gbt-rt: up' cat "$T/syslog"
    shows "syslog: ifdown-gre has its own ident" '^<30>.* ifdown-gre: gbt-rt: down' cat "$T/syslog"
    shows "syslog: the hook's ifup-gre logs too" '^<30>.* ifup-gre: gbt-ifud: up' cat "$T/syslog"
else
    note "no /dev/log listener (not in the test VM, or no python3): syslog not checked"
fi
note "test-boot.sh took ${SECONDS} s"
finish
