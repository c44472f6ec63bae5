#!/bin/bash
# IPSEC=ike at boot and in `up --all`, against two charon-systemd (one per namespace, own
# strongswan.conf and VICI socket, as test-ike.sh runs them). Every assertion reads the kernel
# (ip link/xfrm), the wire (tcpdump), the daemon (swanctl, gre-vici-tool) or the clock.
#   1. ifup-gre ifcfg-NAME boot, B's end already loaded: exit 0, the CHILD_SA in transport mode,
#      pings through the tunnel, ESP on the wire and no plain GRE; ifdown-gre unloads from A's
#      charon the connection and the key ifup-gre loaded, and nothing else.
#   2. ifup-gre with a silent peer: returns within its bound (30 s + slack), exit 0, says what
#      it left (WARN: up without an IPsec SA; the wait announced); the link is up with the
#      trap's GRE policies and no keyed SA; GRE does not leave in the clear; ifdown-gre unloads.
#   3. The ifupdown hook: a stanza with gre-ipsec ike and no gre-keys-file is refused naming
#      IKE_PSK, nothing created; with the keys file and a silent peer, ifup returns within its
#      bound and says what it left; ifdown unloads from charon.
#   4. up --all of a directory with four IKE tunnels (B's end up; three silent peers) and two
#      manual ones: the whole run within --ike-timeout + 2 s per further silent tunnel + slack
#      (not 30 s per silent tunnel), "6 up, 0 failed", the silent ones named as waiting; with
#      --ike-timeout 3 likewise; with --wait-peer the silent ones fail, named, nothing of theirs
#      left. down --all unloads every connection.
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-charon.sh"
umask 077

ike_skip_without_charon
BIN=$GRE_BUILDDIR/ifup-scripts
UP=$BIN/ifup-gre DOWN=$BIN/ifdown-gre HOOK=$BIN/ifupdown-hook-uninstalled
TOOL=$GRE_BUILDDIR/tests/kernel/gre-vici-tool
A=gbi-a B=gbi-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2
SILENT1=192.0.2.9 SILENT2=192.0.2.10 SILENT3=192.0.2.13 # nothing answers there
S=$T/network-scripts
apply_pair $A $B
# Outer addresses of A for the manual tunnels of part 4 (their policies must not overlap the
# IKE tunnel's, which are A_OUT <-> B_OUT).
ip -n $A addr add 192.0.2.11/24 dev wire
ip -n $A addr add 192.0.2.12/24 dev wire

trap 'stop_all_charons; rm -rf "/etc/netns/$A"; cleanup' EXIT

# loaded NS: the connections and keys loaded over VICI in NS's charon, sorted, one a line.
loaded() {
    {
        "$TOOL" "unix://$T/$1/charon.vici" get-conns
        "$TOOL" "unix://$T/$1/charon.vici" get-shared
    } 2>&1 | sort
}
# child_installed NS CONN: CONN's CHILD_SA is INSTALLED in TRANSPORT mode (waits up to 120 s:
# under emulation on a loaded host one IKE exchange can take several seconds).
child_installed() {
    local end=$((SECONDS + 120))
    while [ $SECONDS -lt $end ]; do
        sw "$1" --list-sas --ike "$2" 2>/dev/null | grep -Eq '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' &&
            return 0
        sleep 1
    done
    return 1
}
# ike_cfg DIR NAME LOCAL REMOTE INNER PEER_INNER: an IPSEC=ike ifcfg file (A's socket) and
# its keys file (keygen's IKE_PSK).
ike_cfg() {
    mkdir -p "$1"
    cat >"$1/ifcfg-$2" <<EOF
DEVICE=$2
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=$3
PEER_OUTER_IPADDR=$4
MY_INNER_IPADDR=$5/30
PEER_INNER_IPADDR=$6
UNDERLAY_MTU=1500
IPSEC=ike
IKE_VICI_SOCKET=$T/$A/charon.vici
EOF
    "$G" keygen "$1/ifcfg-$2" >/dev/null
}
# mirror_to_b DIR NAME: B's end of DIR/ifcfg-NAME, on B's socket, in $T/b.
mirror_to_b() {
    mkdir -p "$T/b"
    "$G" mirror -f -o "$T/b" "$1/ifcfg-$2" >/dev/null &&
        echo "IKE_VICI_SOCKET=$T/$B/charon.vici" >>"$T/b/ifcfg-$2"
}
elapsed() { echo $((($(date +%s%N) - $1) / 1000000)); } # ms since $1 (date +%s%N)
# within DESC MS LIMIT_MS
within() {
    if [ "$2" -le "$3" ]; then ok "$1 ($2 ms <= $3 ms)"; else not_ok "$1 ($2 ms > $3 ms)"; fi
}

check "A: charon-systemd starts" start_charon $A
check "B: charon-systemd starts" start_charon $B
loaded_a0=$(loaded $A)
before_a=$(dump $A)

# ---------------------------------------------------------------- 1. ifup-gre, peer there
note "1. ifup-gre ifcfg-gbi1 boot, the peer's end loaded"
ike_cfg "$S" gbi1 $A_OUT $B_OUT 198.51.100.1 198.51.100.2
mirror_to_b "$S" gbi1
# B's end first: A has no configuration yet, so B stays up with the trap.
gt $B up --ike-timeout 10 "$T/b/ifcfg-gbi1" >/dev/null 2>"$T/upb.err"
expect "B: up with A not configured yet leaves the trap (warning)" 'without an IPsec SA yet' \
    "$(cat "$T/upb.err")"
t0=$(date +%s%N)
GRE_NETWORK_SCRIPTS_DIR=$S ip netns exec $A "$UP" ifcfg-gbi1 boot >"$T/up1.out" 2>&1
expect_eq "ifup-gre gbi1 boot: exit 0" 0 "$?"
note "ifup-gre took $(elapsed "$t0") ms"
expect "ifup-gre announces its bounded wait" 'INFO .*gre-gbi1: IPSEC=ike: waiting up to 30 s' \
    "$(cat "$T/up1.out")"
expect_not "ifup-gre: no warning (the CHILD_SA came up)" 'WARN' "$(cat "$T/up1.out")"
check "swanctl A: gre-gbi1's CHILD_SA INSTALLED, TRANSPORT" child_installed $A gre-gbi1
check "ping A -> B through gbi1" nsping $A 198.51.100.2
check "ping B -> A through gbi1" nsping $B 198.51.100.1
capture $A wire "host $B_OUT and (esp or proto 47)" 4 "$T/wire1"
nsping $A 198.51.100.2 >/dev/null
capture_stop
w=$(packets "$T/wire1")
expect "wire: A -> B is ESP" "${A_OUT//./\\.} > ${B_OUT//./\\.}: ESP\\(spi=0x" "$w"
expect_not "wire: no plain GRE" 'GREv0' "$w"
expect "A's charon holds gre-gbi1's connection and key" 'gre-gbi1' "$(loaded $A)"
# What ifup-gre(8) says of `systemctl reload strongswan` (swanctl --load-all): swanctl unloads
# every connection that is not in its file, ours included; ifup-gre again loads it back, and the
# IKE_SA and CHILD_SA that outlived it go on (charon starts no duplicate of them).
echo 'connections { }' >"$T/empty.conf"
sw $A --load-conns --file "$T/empty.conf" >/dev/null 2>&1
expect_not "swanctl --load-conns of another file unloads gre-gbi1" 'gre-gbi1' \
    "$("$TOOL" "unix://$T/$A/charon.vici" get-conns 2>&1)"
GRE_NETWORK_SCRIPTS_DIR=$S ip netns exec $A "$UP" ifcfg-gbi1 boot >"$T/up1b.out" 2>&1
expect_eq "ifup-gre gbi1 again: exit 0" 0 "$?"
expect "ifup-gre gbi1 again: loads only what the daemon lost" 'loading it again' "$(cat "$T/up1b.out")"
expect_not "ifup-gre gbi1 again: the kernel's objects left as they are" 'recreated' "$(cat "$T/up1b.out")"
check "ifup-gre gbi1 again: CHILD_SA INSTALLED, TRANSPORT" child_installed $A gre-gbi1
check "ifup-gre gbi1 again: ping A -> B" nsping $A 198.51.100.2
GRE_NETWORK_SCRIPTS_DIR=$S ip netns exec $A "$DOWN" ifcfg-gbi1 >"$T/down1.out" 2>&1
expect_eq "ifdown-gre gbi1: exit 0" 0 "$?"
expect_eq "ifdown-gre: A's charon holds what it held before ifup-gre" "$loaded_a0" "$(loaded $A)"
expect_eq "ifdown-gre: no IKE_SA gre-gbi1 left in A's charon" "" \
    "$(sw $A --list-sas --ike gre-gbi1 2>/dev/null | grep '^gre-gbi1:')"
check_not "ifdown-gre: the link is gone" ip -n $A link show gbi1
expect_eq "ifdown-gre: no GRE policy left in A" "" "$(ip -n $A xfrm policy | oneline | grep ' proto gre ')"
gt $B down gbi1 >/dev/null 2>&1

# ---------------------------------------------------------------- 2. ifup-gre, silent peer
note "2. ifup-gre with a silent peer"
ike_cfg "$S" gbi2 $A_OUT $SILENT1 198.51.100.5 198.51.100.6
t0=$(date +%s%N)
GRE_NETWORK_SCRIPTS_DIR=$S ip netns exec $A "$UP" ifcfg-gbi2 boot >"$T/up2.out" 2>&1
rc=$?
ms=$(elapsed "$t0")
expect_eq "ifup-gre, silent peer: exit 0 (the tunnel is left up)" 0 "$rc"
within "ifup-gre, silent peer: returns within its bound (30 s + 30 s slack)" "$ms" 60000
expect "ifup-gre, silent peer: says what it left (WARN, no IPsec SA yet, GRE dropped)" \
    'WARN .*gre-gbi2: the tunnel is up without an IPsec SA yet: .*did not answer IKE.*GRE to and from the peer is dropped' \
    "$(cat "$T/up2.out")"
expect "kernel: gbi2 is up" '<POINTOPOINT,NOARP,UP,LOWER_UP>' "$(ip -n $A link show gbi2 2>&1)"
pol=$(ip -n $A xfrm policy | oneline)
expect "kernel: the trap's GRE policy out to the silent peer" \
    "src ${A_OUT//./\\.}/32 dst ${SILENT1//./\\.}/32 proto gre .*dir out" "$pol"
expect "kernel: the trap's GRE policy in from the silent peer" \
    "src ${SILENT1//./\\.}/32 dst ${A_OUT//./\\.}/32 proto gre .*dir in" "$pol"
expect_eq "kernel: no keyed SA with the silent peer" "" \
    "$(ip -n $A xfrm state | oneline | grep "${SILENT1//./\\.}" | grep -v ' spi 0x00000000 ')"
ip -n $A neigh replace $SILENT1 lladdr 02:00:00:00:00:09 dev wire # so that packets would leave
capture $A wire "host $SILENT1 and proto 47" 1 "$T/wire2"
nsping_fails $A 198.51.100.6 >/dev/null
sleep 1
capture_stop
expect_eq "wire: no plain GRE to the silent peer" 0 "$(grep -c 'GRE' "$T/wire2")"
GRE_NETWORK_SCRIPTS_DIR=$S ip netns exec $A "$DOWN" ifcfg-gbi2 >"$T/down2.out" 2>&1
expect_eq "ifdown-gre gbi2: exit 0" 0 "$?"
expect_eq "ifdown-gre gbi2: A's charon holds what it held before" "$loaded_a0" "$(loaded $A)"
check_not "ifdown-gre gbi2: the link is gone" ip -n $A link show gbi2
expect_eq "ifdown-gre gbi2: no GRE policy left" "" "$(ip -n $A xfrm policy | oneline | grep ' proto gre ')"

# ---------------------------------------------------------------- 3. the ifupdown hook
note "3. the ifupdown hook, silent peer"
E=/etc/netns/$A/network
mkdir -p "$E"/if-pre-up.d "$E"/if-up.d "$E"/if-down.d "$E"/if-post-down.d
install -m 755 "$HOOK" "$E/if-pre-up.d/gre-tunnel"
install -m 755 "$HOOK" "$E/if-post-down.d/gre-tunnel"
grep '^IKE_PSK=' "$S/keys-gbi2" >"$T/gbi3.keys"
cat >"$T/interfaces" <<EOF
iface gbi3 inet manual
    gre-local $A_OUT
    gre-remote $SILENT2
    gre-inner-address 198.51.100.9/30
    gre-inner-peer 198.51.100.10
    gre-underlay-mtu 1500
    gre-ipsec ike
    gre-ike-vici-socket $T/$A/charon.vici
    gre-keys-file $T/gbi3.keys

iface gbi4 inet manual
    gre-local $A_OUT
    gre-remote $SILENT2
    gre-inner-address 198.51.100.13/30
    gre-ipsec ike
    gre-ike-vici-socket $T/$A/charon.vici
EOF
ifupdown() { ip netns exec $A "$@" -i "$T/interfaces" --state-dir "$T/ifstate"; }
ifupdown ifup gbi4 >"$T/up4.out" 2>&1
expect_eq "hook, no gre-keys-file: ifup fails" 1 "$?"
expect "hook, no gre-keys-file: the message names what ike needs (IKE_PSK)" \
    'iface gbi4: gre-ipsec ike needs gre-keys-file FILE: .*IKE_PSK=' "$(cat "$T/up4.out")"
expect_not "hook, no gre-keys-file: not the manual keys" 'KEY_ESP_IN' "$(cat "$T/up4.out")"
check_not "hook, no gre-keys-file: no link" ip -n $A link show gbi4
t0=$(date +%s%N)
ifupdown ifup gbi3 >"$T/up3.out" 2>&1
rc=$?
ms=$(elapsed "$t0")
expect_eq "hook, silent peer: ifup exit 0" 0 "$rc"
within "hook, silent peer: ifup returns within its bound (30 s + 30 s slack)" "$ms" 60000
expect "hook, silent peer: says what it left" \
    'WARN .*gre-gbi3: the tunnel is up without an IPsec SA yet' "$(cat "$T/up3.out")"
expect "hook: gre-gbi3 loaded in A's charon" 'gre-gbi3' "$(loaded $A)"
expect "kernel: the trap's GRE policy out" \
    "src ${A_OUT//./\\.}/32 dst ${SILENT2//./\\.}/32 proto gre .*dir out" \
    "$(ip -n $A xfrm policy | oneline)"
check "hook: ifdown gbi3" ifupdown ifdown gbi3
expect_eq "hook: ifdown unloads from A's charon what ifup loaded" "$loaded_a0" "$(loaded $A)"
check_not "hook: the link is gone" ip -n $A link show gbi3

# ---------------------------------------------------------------- 4. up --all
note "4. up --all: four IKE tunnels (three silent peers) and two manual ones"
D=$T/all
ike_cfg "$D" ik1 $A_OUT $B_OUT 198.51.100.17 198.51.100.18
ike_cfg "$D" ik2 $A_OUT $SILENT1 198.51.100.21 198.51.100.22
ike_cfg "$D" ik3 $A_OUT $SILENT2 198.51.100.25 198.51.100.26
ike_cfg "$D" ik4 $A_OUT $SILENT3 198.51.100.29 198.51.100.30
for i in 1 2; do
    cat >"$D/ifcfg-mn$i" <<EOF
DEVICE=mn$i
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1$i
PEER_OUTER_IPADDR=192.0.2.2$i
MY_INNER_IPADDR=198.51.100.3$i/31
UNDERLAY_MTU=1500
IPSEC=manual
SPI_ESP_IN=0x20$i
SPI_ESP_OUT=0x30$i
EOF
    keys_for aes256-sha256 "$D" mn$i
done
mirror_to_b "$D" ik1
gt $B up --ike-timeout 10 "$T/b/ifcfg-ik1" >/dev/null 2>&1

# all_up DESC LIMIT_MS ARGS...: up --all ARGS in A, timed; output in $T/all.out, .err, rc in $rc.
all_up() {
    local desc=$1 limit=$2 t0
    shift 2
    t0=$(date +%s%N)
    gt $A up --all "$@" "$D" >"$T/all.out" 2>"$T/all.err"
    rc=$?
    ms=$(elapsed "$t0")
    within "$desc: the whole run within its bound" "$ms" "$limit"
    sed 's/^/#   /' "$T/all.out" "$T/all.err"
}
# Default --ike-timeout (30 s): ik1 establishes, then ik2 waits out what is left of the 30 s,
# ik3 and ik4 2 s more each: 34 s of waiting. One wait per tunnel would be 90 s and more. The
# rest is the work of six tunnels under emulation on a loaded host (25 s measured).
all_up "up --all" 75000
expect_eq "up --all: exit 0" 0 "$rc"
expect "up --all: summary 6 up, 0 failed" '^6 up, 0 failed$' "$(cat "$T/all.out")"
expect "up --all: the silent ones named as waiting for IKE" \
    'tunnels are up without their IPsec SA yet .*: ik2, ik3, ik4$' "$(cat "$T/all.err")"
expect "up --all: a warning for ik2" 'warning: gre-ik2: the tunnel is up without an IPsec SA yet' \
    "$(cat "$T/all.err")"
check "swanctl A: ik1's CHILD_SA INSTALLED, TRANSPORT" child_installed $A gre-ik1
check "ping A -> B through ik1" nsping $A 198.51.100.18
for n in ik2 ik3 ik4 mn1 mn2; do
    expect "kernel: $n is up" '<POINTOPOINT,NOARP,UP,LOWER_UP>' "$(ip -n $A link show $n 2>&1)"
done
expect_eq "kernel: the manual tunnels' four ESP states" 4 \
    "$(ip -n $A xfrm state | oneline | grep -cE '^src 192\.0\.2\.1[12] | dst 192\.0\.2\.1[12] ')"
expect "A's charon holds ik1 to ik4" 'gre-ik1.*gre-ik2.*gre-ik3.*gre-ik4' "$(loaded $A | tr '\n' ' ')"
check "down --all" gt $A down --all "$D"
expect_eq "down --all: A's charon holds what it held before" "$loaded_a0" "$(loaded $A)"

# --ike-timeout 3: about 3 + 2 + 2 s of waiting (ignored, the default would make it 90 s).
all_up "up --all --ike-timeout 3" 50000 --ike-timeout 3
expect_eq "up --all --ike-timeout 3: exit 0" 0 "$rc"
expect "up --all --ike-timeout 3: summary 6 up, 0 failed" '^6 up, 0 failed$' "$(cat "$T/all.out")"
expect "up --all --ike-timeout 3: ik2 to ik4 named as waiting" '(ik1, )?ik2, ik3, ik4$' \
    "$(cat "$T/all.err")"
check "down --all" gt $A down --all "$D"

all_up "up --all --wait-peer --ike-timeout 3" 50000 --wait-peer --ike-timeout 3
expect_eq "up --all --wait-peer: exit 3 (the silent peers)" 3 "$rc"
expect "up --all --wait-peer: summary names the silent ones" \
    '^[0-9] up, [34] failed: (ik1, )?ik2, ik3, ik4$' "$(cat "$T/all.err")"
check_not "up --all --wait-peer: ik2's link removed" ip -n $A link show ik2
expect_not "up --all --wait-peer: ik2 to ik4 unloaded from A's charon" 'gre-ik[234]' "$(loaded $A)"
check "up --all --wait-peer: the manual ones are up" ip -n $A link show mn2
check "down --all" gt $A down --all "$D"
expect_eq "down --all: A's charon holds what it held before" "$loaded_a0" "$(loaded $A)"
check_not "down --all: no tunnel link left" ip -n $A link show ik1
gt $B down ik1 >/dev/null 2>&1
finish
