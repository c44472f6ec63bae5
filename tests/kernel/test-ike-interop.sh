#!/bin/bash
# IPSEC=ike against peers we did not configure, and restarts. End A is always ours (`gre-tunnel
# up` against a charon-systemd of its own); end B is, in turn:
#   1. strongSwan configured by hand: B's own charon-systemd with a swanctl.conf this test writes
#      (transport, [gre] selectors, PSK), loaded with swanctl --load-all on B's own socket. Once
#      with A initiating (up with B's connection loaded), once with B initiating (B's connection
#      loaded only after A's up warned that its peer is not ready, then swanctl --initiate in
#      B). Plaintext GRE from B is refused by A while no SA exists.
#   2. Debian's libreswan pluto (unpacked by tests/deps.sh beside strongSwan, which it conflicts
#      with as a package): type=transport, leftprotoport/rightprotoport=gre, PSK, its own
#      ipsec.conf, ipsec.secrets, NSS database and control socket in a private directory. The same
#      checks, each side initiating once; what libreswan's end does with plaintext GRE is
#      recorded (its business), that ours refuses it is asserted.
#   3. Restarts (issue 10, test 5), A untouched each time; the time until a ping passes and until
#      both daemons hold the same fresh CHILD_SA is measured, printed and bounded:
#      a. B's charon SIGKILLed (its kernel SAs left behind) and started again, its swanctl.conf
#         loaded with start_action = trap|start: B starts a new IKE_SA, A must take it;
#      b. B's pluto SIGKILLed, B's xfrm state flushed (as Debian's ipsec.service does after
#         pluto dies) and pluto started again, only answering (auto=add): A must notice by
#         itself (dead peer detection) and start again. For this case A runs with
#         IKE_DPD_DELAY=5 and its charon with shorter retransmissions (see DPD_CHARON), else
#         charon's defaults (30 s, then 165 s of retransmissions) would make it 3.5 minutes;
#      c. an our<->our pair (two charons, files from `gre-tunnel mirror`): `down` + `up` at one
#         end, the other untouched; then the other way round;
#      d. the same pair, A's own charon SIGKILLed and started again: it has forgotten what `up`
#         loaded; `gre-tunnel up` again at A loads only that (A's gre1 is the same link before
#         and after: its ifindex; the block policies are unchanged, though a recreation gets the
#         same policy index back, so only the ifindex tells a reload from one), B untouched.
# B's GRE link is made by hand with ip(8), as the administrator of a foreign peer would. Every
# check after each establishment: pings both ways; the wire carries ESP whose SPIs both daemons
# report (swanctl --list-sas, whack --status) and no plain GRE; the largest DF ping is
# `gre-tunnel mtu` - 28 and one byte more fails; a ping of B's outer address stays clear ICMP;
# which end initiated, as A's daemon reports it. Arguments: section numbers (1-3) to run only
# those; without arguments all three.
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-charon.sh"
umask 077

LSW=${GRE_LIBRESWAN_ROOT:-/var/cache/gre-tunnel-tests/libreswan}
ike_skip_without_charon
SECTIONS=" ${*:-1 2 3} "
section() { [[ $SECTIONS == *" $1 "* ]]; }
A=ikx-a B=ikx-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2
A_IN=198.51.100.1 B_IN=198.51.100.2
GREKEY=42
# Under emulation on a loaded host one IKE exchange can take several seconds.
TMO=120
# How long a restart may take until traffic passes again: one new exchange, with charon's
# retransmissions (165 s in all) should packets get lost, with room for an emulated CPU on a
# loaded host (measured in the VM: 0.7 to 24 s).
RESTART_BOUND=300
# Case b: dead peer detection after 5 to 10 s without inbound traffic, then 3 retransmissions
# 3 s, 4.2 s, 5.9 s and 8.2 s apart (21.3 s), then a new exchange: about 35 s (measured in the
# VM: see the note); bounded with room for a loaded host.
DPD_DELAY=5
DPD_CHARON="retransmit_timeout = 3
    retransmit_base = 1.4
    retransmit_tries = 3"
DPD_BOUND=150
apply_pair $A $B

# CPID holds B's pluto, too: stop_charon stops either daemon.
trap 'stop_all_charons; cleanup' EXIT

daemon_logs() {
    local f
    for f in "$T/$A/charon.log" "$T/$B/charon.log" "$T/lsw/pluto.log"; do
        [ -s "$f" ] || continue
        note "${f#"$T"/}, last lines:"
        grep -vE '\[(ENC|NET|LIB|JOB)\]' "$f" | tail -30 | sed 's/^/#   /'
    done
}
rx_packets() { ip -n "$1" -s -j link show "$2" | sed -n 's/.*"rx":{"bytes":[0-9]*,"packets":\([0-9]*\).*/\1/p'; }

# ---- libreswan: pluto from the unpacked package, everything of it under $T/lsw
LD=$T/lsw
LSW_BIN=$LSW/usr/libexec/ipsec
whack() { ip netns exec $B "$LSW_BIN/whack" --ctlsocket "$LD/run/pluto.ctl" "$@"; }
# start_pluto: pluto in B, in a mount namespace of its own where /usr/libexec is the unpacked
# package's (pluto runs its addconn helper from that fixed path); waits for its socket.
start_pluto() {
    local _
    mkdir -p "$LD/run" "$LD/nss"
    rm -f "$LD/run/pluto.ctl" "$LD/run/pluto.pid"
    [ -e "$LD/nss/cert9.db" ] || certutil -N -d "sql:$LD/nss" --empty-password >/dev/null
    # PATH: pluto runs its updown script as `ipsec _updown` (the package's /usr/sbin/ipsec).
    ip netns exec $B env PATH="$LSW/usr/sbin:$PATH" unshare -m sh -c \
        'mount --bind "$1/usr/libexec" /usr/libexec && shift && exec "$@"' sh "$LSW" "$LSW_BIN/pluto" --config "$LD/ipsec.conf" --rundir "$LD/run" \
        --nssdir "$LD/nss" --secretsfile "$LD/ipsec.secrets" --ipsecdir "$LD" --nofork \
        --logfile "$LD/pluto.log" >>"$LD/stdout" 2>&1 &
    CPID[$B]=$!
    for _ in $(seq 300); do
        [ -S "$LD/run/pluto.ctl" ] && whack --listen >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    note "pluto did not make its socket; its output:"
    sed 's/^/#   /' "$LD/stdout" "$LD/pluto.log" 2>/dev/null | tail -20
    return 1
}
lsw_add() { ip netns exec $B "$LSW_BIN/addconn" --config "$LD/ipsec.conf" --ctlsocket "$LD/run/pluto.ctl" gre; }
# The SPIs pluto reports for its established CHILD_SAs (esp.SPI@host), sorted.
lsw_spis() { whack --status 2>&1 | grep -oE 'esp\.[0-9a-f]+@' | sed -E 's/esp\.0*([0-9a-f]+)@/\1/' |
    while read -r s; do printf '%08x\n' "0x$s"; done | sort -u; }

# ---- our end's files; B's GRE link by hand
mkdir -p "$T/a" "$T/b" "$T/ssw"
PSK="interop-$(hexkey 16)"
ike_ifcfg_a KEY=$GREKEY TTL=64
echo "IKE_PSK=$PSK" >"$T/a/keys-gre1"
MTU=$("$G" mtu -u 1500 "$T/a/ifcfg-gre1")
note "gre-tunnel mtu (underlay 1500, aes256gcm16, key): $MTU"
hand_gre() { # B's GRE link, as the foreign peer's administrator makes it
    ip -n $B link add gre1 type gre local $B_OUT remote $A_OUT key $GREKEY ttl 64 &&
        ip -n $B link set gre1 mtu "$MTU" &&
        ip -n $B addr add $B_IN/30 dev gre1 &&
        ip -n $B link set gre1 up
}

# established LABEL PEER_SPIS_CMD INITIATOR: the checks after each establishment; PEER_SPIS_CMD
# prints the SPIs B's daemon reports (read after the capture, as A's); INITIATOR is A or B.
established() {
    local label=$1 peer_spis who=$3 sa_a spis w wire_spis raw
    sa_a=$(sas $A)
    expect "$label: A's IKE_SA ESTABLISHED" '^gre-gre1: #[0-9]+, ESTABLISHED, IKEv2' "$sa_a"
    expect "$label: A's CHILD_SA INSTALLED, TRANSPORT" \
        '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$sa_a"
    raw=$(sw $A --list-sas --raw 2>&1)
    if [ "$who" = A ]; then
        expect "$label: A's daemon reports A as the initiator" 'initiator=yes' "$raw"
    else
        expect_not "$label: A's daemon reports B as the initiator" 'initiator=yes' "$raw"
    fi
    esp_on_wire "$label: "
    spis=$(sas $A | child_spis)
    peer_spis=$($2)
    note "$label: SPIs on the wire: $(echo $wire_spis); A's charon: $(echo $spis); B's daemon: $(echo $peer_spis)"
    expect_not "$label: wire: ESP seen at all" '^$' "$wire_spis"
    expect_eq "$label: every SPI on the wire is one A's charon reports" "" \
        "$(comm -23 <(printf '%s\n' "$wire_spis") <(printf '%s\n' "$spis"))"
    expect_eq "$label: every SPI on the wire is one B's daemon reports" "" \
        "$(comm -23 <(printf '%s\n' "$wire_spis") <(printf '%s\n' "$peer_spis"))"
    expect_eq "$label: A's gre1 MTU is gre-tunnel mtu's figure" "$MTU" "$(link_mtu $A gre1)"
    check "$label: largest DF ping (-s $((MTU - 28))) passes" nsping $A -M do -s $((MTU - 28)) $B_IN
    check_not "$label: one byte more (-s $((MTU - 27))) fails" nsping $A -M do -s $((MTU - 27)) $B_IN
    capture $A wire "icmp and host $B_OUT" 2 "$T/clear"
    nsping $A $B_OUT >/dev/null
    capture_stop
    expect "$label: a ping of B's outer address stays clear ICMP" \
        "${A_OUT//./\\.} > ${B_OUT//./\\.}: ICMP echo request" "$(packets "$T/clear")"
    expect_not "$label: A: no ESP state in tunnel mode" ' mode tunnel ' "$(ip -n $A xfrm state | oneline)"
}

# refuses_plain LABEL: B (no IPsec policy for GRE) sends plain GRE to A while A is up: A's gre1
# counts none of it, and A's kernel counts the refusal.
refuses_plain() {
    local rx0 mm0 nb0 mm1 nb1
    check "$1: B has no GRE policy (its GRE leaves in the clear)" \
        test -z "$(ip -n $B xfrm policy | oneline | grep ' proto gre ')"
    rx0=$(rx_packets $A gre1)
    mm0=$(xfrm_stat $A XfrmInTmplMismatch)
    nb0=$(xfrm_stat $A XfrmInNoStates)
    capture $A wire "proto 47" 3 "$T/plain"
    check "$1: plaintext GRE from B gets no answer" nsping_fails $B $A_IN
    capture_stop
    expect "$1: wire: B's plain GRE did reach A" "${B_OUT//./\\.} > ${A_OUT//./\\.}: GREv0" \
        "$(packets "$T/plain")"
    expect_eq "$1: A's gre1 received none of it" "$rx0" "$(rx_packets $A gre1)"
    mm1=$(xfrm_stat $A XfrmInTmplMismatch)
    nb1=$(xfrm_stat $A XfrmInNoStates)
    note "$1: A's XfrmInTmplMismatch $mm0 -> $mm1, XfrmInNoStates $nb0 -> $nb1"
    check "$1: A's kernel counts the refused packets against its policy" \
        test $((mm1 + nb1)) -gt $((mm0 + nb0))
}

# up_a LABEL EXPECT: gre-tunnel up in A; EXPECT = up (the CHILD_SA came up, no warning) or
# pending (exit 0 with the warning that the peer is not ready).
up_a() {
    gt $A up --ike-timeout $TMO "$T/a/ifcfg-gre1" >"$T/up.out" 2>"$T/up.err"
    local rc=$?
    if [ "$2" = up ]; then
        expect_eq "$1: up succeeds without a warning" "0:" "$rc:$(cat "$T/up.err")"
    else
        expect_eq "$1: up succeeds (exit 0)" 0 "$rc"
        expect "$1: up warns that the tunnel waits for IKE" \
            'the tunnel is up without an IPsec SA yet' "$(cat "$T/up.err")"
    fi
    [ "$rc" = 0 ] || daemon_logs
}
down_a() { gt $A down gre1 >/dev/null 2>&1; }

# took PART: section 3's PART (3a ...) ran since p0; its seconds are added up for the last note.
S3=0 S3_PARTS=
took() {
    S3=$((S3 + SECONDS - p0))
    S3_PARTS+=" $1 $((SECONDS - p0)) s"
}

# wait_fresh LABEL T0 PEER_SPIS_CMD [BOUND]: after a restart at time T0 (seconds, date +%s.%N),
# waits (up to BOUND, RESTART_BOUND by default) until a ping passes, and until A's charon and B's
# daemon report the same installed CHILD_SA (an SPI of A's among B's); prints both times.
wait_fresh() {
    local label=$1 t0=$2 cmd=$3 RESTART_BOUND=${4:-$RESTART_BOUND} t_ping="" t_sa="" now spis_a spis_b
    while :; do
        now=$(date +%s.%N)
        if [ -z "$t_ping" ] && ip netns exec $A ping -q -n -c 1 -W 1 $B_IN >/dev/null 2>&1; then
            t_ping=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
        fi
        if [ -z "$t_sa" ]; then
            spis_a=$(sas $A | child_spis)
            spis_b=$($cmd)
            if [ -n "$spis_b" ] && [ -n "$(comm -12 <(printf '%s\n' "$spis_a") <(printf '%s\n' "$spis_b"))" ]; then
                t_sa=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
            fi
        fi
        [ -n "$t_ping" ] && [ -n "$t_sa" ] && break
        awk -v a="$t0" -v b="$now" -v m=$RESTART_BOUND 'BEGIN { exit !(b - a > m) }' && break
        sleep 1
    done
    note "$label: traffic through the tunnel after ${t_ping:-more than $RESTART_BOUND} s;" \
        "the same CHILD_SA in both daemons after ${t_sa:-more than $RESTART_BOUND} s"
    check "$label: traffic resumes within $RESTART_BOUND s (${t_ping:-never} s)" test -n "$t_ping"
    check "$label: both daemons hold one fresh CHILD_SA within $RESTART_BOUND s (${t_sa:-never} s)" \
        test -n "$t_sa"
    check "$label: a ping passes both ways afterwards" nsping $B $A_IN
}

check "A: charon-systemd starts" start_charon $A
check "B: its GRE link made by hand (ip link add ... key $GREKEY)" hand_gre

# ---- B: strongSwan configured by hand
cat >"$T/ssw/swanctl.conf" <<EOF
connections {
    to-a {
        version = 2
        local_addrs = $B_OUT
        remote_addrs = $A_OUT
        proposals = aes256-sha256-ecp256
        dpd_delay = 30s
        local {
            auth = psk
            id = $B_OUT
        }
        remote {
            auth = psk
            id = $A_OUT
        }
        children {
            gre {
                mode = transport
                local_ts = dynamic[gre]
                remote_ts = dynamic[gre]
                esp_proposals = aes256gcm16-ecp256
                start_action = trap
                dpd_action = restart
            }
        }
    }
}
secrets {
    ike-a {
        id-1 = $A_OUT
        id-2 = $B_OUT
        secret = "$PSK"
    }
}
EOF
printf 'connections {\n}\nsecrets {\n}\n' >"$T/ssw/empty.conf"
ssw_load() { sw $B --load-all --noprompt --file "$T/ssw/$1.conf"; }
ssw_spis() { sas $B | child_spis; }

if section 1 || section 3; then
# ---------------------------------------------------------------- 1. strongSwan by hand
check "B: charon-systemd starts" start_charon $B
if section 1; then
check "strongSwan B: its swanctl.conf loaded with swanctl --load-all" ssw_load swanctl
up_a "strongSwan B, A initiating" up
established "strongSwan B, A initiating" ssw_spis A
down_a
# B's child selecting other traffic (UDP between the same addresses): charon answers
# TS_UNACCEPTABLE, and up says what that means.
sed 's/dynamic\[gre\]/dynamic[udp]/' "$T/ssw/swanctl.conf" >"$T/ssw/udp.conf"
check "strongSwan B: a child selecting UDP loaded instead" ssw_load udp
gt $A up --ike-timeout $TMO "$T/a/ifcfg-gre1" >/dev/null 2>"$T/up.err"
expect_eq "strongSwan B selecting UDP: up fails (exit 1)" 1 "$?"
note "strongSwan B selecting UDP: up said: $(cat "$T/up.err")"
expect "strongSwan B selecting UDP: up names the selectors B refused and what B selects" \
    "refused the traffic selectors of this end, GRE \\(IP protocol 47\\) between ${A_OUT//./\\.} and ${B_OUT//./\\.} only: its IPsec configuration for this connection selects other traffic" \
    "$(cat "$T/up.err")"
expect_eq "strongSwan B selecting UDP: A has no gre1 afterwards" "" "$(ip -n $A -o link show gre1 2>/dev/null)"
check "strongSwan B: its connection unloaded (swanctl --load-all of an empty file)" ssw_load empty
sleep 1
up_a "strongSwan B, B initiating" pending
expect_not "strongSwan B, B initiating: A's daemon has no IKE_SA before B starts one" \
    '^gre-gre1: ' "$(sas $A)"
refuses_plain "strongSwan B, before any SA"
check "strongSwan B: its swanctl.conf loaded again" ssw_load swanctl
check "strongSwan B: swanctl --initiate in B" sw $B --initiate --child gre --ike to-a --timeout $TMO
established "strongSwan B, B initiating" ssw_spis B
fi

if section 3; then
# ---------------------------------------------------------------- 3a. B's charon restarts
p0=$SECONDS
if ! section 1; then
    ssw_load swanctl >/dev/null
    up_a "strongSwan B (restart)" up
fi
check "restart strongSwan B: traffic passes before" nsping $A $B_IN
stop_charon $B KILL
note "restart strongSwan B: B's kernel after SIGKILL: $(ip -n $B xfrm state | grep -c '^src') states," \
    "$(ip -n $B xfrm policy | grep -c '^src') policies (left as they are)"
t0=$(date +%s.%N)
check "restart strongSwan B: charon-systemd starts again" start_charon $B
# As strongswan.service does after a crash (ExecStartPost: swanctl --load-all), with the child
# started at load, as an administrator who wants either end to start it writes.
sed 's/start_action = trap/start_action = trap|start/' "$T/ssw/swanctl.conf" >"$T/ssw/start.conf"
check "restart strongSwan B: its swanctl.conf (start_action = trap|start) loaded again" \
    ssw_load start
wait_fresh "restart strongSwan B" "$t0" ssw_spis
took 3a
fi
down_a
stop_charon $B
ip -n $B xfrm state flush
ip -n $B xfrm policy flush
fi

# ---- B: libreswan
mkdir -p "$LD"
cat >"$LD/ipsec.conf" <<EOF
config setup
    logtime=yes
    plutodebug=none
    dumpdir=$LD/run

conn gre
    type=transport
    left=$B_OUT
    right=$A_OUT
    leftprotoport=gre
    rightprotoport=gre
    authby=secret
    ikev2=insist
    ike=aes256-sha2_256-dh19
    esp=aes_gcm256
    pfs=yes
    dpddelay=30
    auto=ignore
EOF
echo "$B_OUT $A_OUT : PSK \"$PSK\"" >"$LD/ipsec.secrets"

if section 2 || section 3; then
if [ ! -x "$LSW_BIN/pluto" ]; then
    not_ok "libreswan's pluto is unpacked in $LSW (run tests/deps.sh as root)"
else
    note "libreswan: $(cat "$LSW/VERSION" 2>/dev/null), $LSW_BIN/pluto"
check "libreswan B: pluto starts (own config, secrets, NSS database, control socket)" start_pluto
if section 2; then
# ---------------------------------------------------------------- 2. libreswan
check "libreswan B: its connection added (addconn)" lsw_add
up_a "libreswan B, A initiating" up
lst=$(whack --status 2>&1)
expect "libreswan B, A initiating: pluto's CHILD_SA is established" 'ESTABLISHED_CHILD_SA' "$lst"
st_b=$(ip -n $B xfrm state | oneline)
expect "libreswan B, A initiating: B's kernel has ESP states in transport mode" \
    ' proto esp spi .* mode transport' "$st_b"
expect_not "libreswan B, A initiating: and none in tunnel mode" ' mode tunnel' "$st_b"
note "libreswan B: pluto's SAs: $(whack --status 2>&1 | grep -E 'STATE_V2_ESTABLISHED|esp\.' | tr '\n' '|')"
established "libreswan B, A initiating" lsw_spis A

# What libreswan's end does with plaintext GRE (recorded, not asserted: the peer's business).
down_a
sleep 1
ip -n $A link add pgre type gre local $A_OUT remote $B_OUT key $GREKEY ttl 64
ip -n $A addr add $A_IN/30 dev pgre
ip -n $A link set pgre up
rx0=$(rx_packets $B gre1)
if nsping $A $B_IN >/dev/null 2>&1; then r="answered"; else r="not answered"; fi
note "libreswan B, conn added, no SA (A's end down): plaintext GRE from A: $r;" \
    "B's gre1 received $(($(rx_packets $B gre1) - rx0)) packets;" \
    "B's GRE policies: $(ip -n $B xfrm policy | oneline | grep ' proto gre ' | grep -oE 'dir [a-z]+' | tr '\n' ' ')"
whack --name gre --route >/dev/null 2>&1
rx0=$(rx_packets $B gre1)
if nsping $A $B_IN >/dev/null 2>&1; then r="answered"; else r="not answered"; fi
note "libreswan B, conn routed (trap), no SA: plaintext GRE from A: $r;" \
    "B's gre1 received $(($(rx_packets $B gre1) - rx0)) packets;" \
    "B's GRE policies: $(ip -n $B xfrm policy | oneline | grep ' proto gre ' | grep -oE 'dir [a-z]+' | tr '\n' ' ')"
ip -n $A link del pgre
whack --name gre --delete >/dev/null 2>&1
sleep 1

up_a "libreswan B, B initiating" pending
expect_not "libreswan B, B initiating: A's daemon has no IKE_SA before B starts one" \
    '^gre-gre1: ' "$(sas $A)"
refuses_plain "libreswan B, before any SA"
check "libreswan B: its connection added again" lsw_add
check "libreswan B: whack --initiate in B" timeout $TMO "$LSW_BIN/whack" --ctlsocket "$LD/run/pluto.ctl" --name gre --initiate
# (whack runs in the root namespace: it only talks to the control socket)
note "libreswan B: pluto's SAs: $(whack --status 2>&1 | grep -E 'STATE_V2_ESTABLISHED|esp\.' | tr '\n' '|')"
established "libreswan B, B initiating" lsw_spis B
fi

if section 3; then
# ---------------------------------------------------------------- 3b. pluto restarts
p0=$SECONDS
# A with a short DPD delay, its charon with short retransmissions (DPD_CHARON).
down_a
stop_charon $A
echo "IKE_DPD_DELAY=$DPD_DELAY" >>"$T/a/ifcfg-gre1"
CHARON_EXTRA=$DPD_CHARON
check "restart libreswan B: A's charon starts again with short retransmissions" start_charon $A
unset CHARON_EXTRA
ip -n $B xfrm state flush
ip -n $B xfrm policy flush
whack --name gre --delete >/dev/null 2>&1
lsw_add >/dev/null
up_a "libreswan B (restart), A with IKE_DPD_DELAY=$DPD_DELAY" up
check "restart libreswan B: traffic passes before" nsping $A $B_IN
stop_charon $B KILL
# What Debian's ipsec.service does when pluto dies (ExecStopPost): B's SAs are gone, and the
# restarted pluto only answers (auto=add): our end has to notice by itself (dead peer detection)
# and start again (dpd_action=trap, then the trap on the next GRE packet).
note "restart libreswan B: B's kernel after SIGKILL: $(ip -n $B xfrm state | grep -c '^src') states," \
    "$(ip -n $B xfrm policy | grep -c '^src') policies; flushed as ipsec.service's ExecStopPost does"
ip -n $B xfrm state flush
ip -n $B xfrm policy flush
t0=$(date +%s.%N)
check "restart libreswan B: pluto starts again" start_pluto
check "restart libreswan B: its connection added again" lsw_add
wait_fresh "restart libreswan B" "$t0" lsw_spis $DPD_BOUND
down_a
sed -i '/^IKE_DPD_DELAY=/d' "$T/a/ifcfg-gre1"
stop_charon $A
check "restart libreswan B: A's charon starts again with its usual settings" start_charon $A
took 3b
fi
down_a
stop_charon $B
ip -n $B xfrm state flush
ip -n $B xfrm policy flush
fi
fi

if section 3; then
# ---------------------------------------------------------------- 3c. our<->our: down + up
p0=$SECONDS
ip -n $B link del gre1
check "our B: charon-systemd starts" start_charon $B
check "our B: mirror writes B's files" ike_mirror_b
gt $B up "$T/b/ifcfg-gre1" >/dev/null 2>&1
up_a "our<->our" up
check "our<->our: ping A -> B" nsping $A $B_IN
for end in $A $B; do
    other=$([ $end = $A ] && echo $B || echo $A)
    dir=$([ $end = $A ] && echo a || echo b)
    gt $end down gre1 >/dev/null 2>&1
    t0=$(date +%s.%N)
    out=$(gt $end up --ike-timeout $TMO "$T/$dir/ifcfg-gre1" 2>&1 >/dev/null)
    expect_eq "our<->our, down+up at $end: up succeeds without a warning" "0:" "$?:$out"
    wait_fresh "our<->our, down+up at $end, $other untouched" "$t0" ssw_spis
done

# ---------------------------------------------------------------- 3d. our own charon restarts
# A's charon SIGKILLed and started again has forgotten the PSK and connection `up` loaded; the
# kernel's SAs it installed are left behind. `up` again at A loads what the daemon lacks and
# nothing else: A's link and block policies stay the same objects; B is not touched.
ifindex() { ip -n "$1" -o link show "$2" | cut -d: -f1; }
blocks() { ip -n "$1" xfrm policy | oneline | grep ' action block' | sort; }
idx0=$(ifindex $A gre1)
blk0=$(blocks $A)
check "our charon restarts: A's block policies are there" test -n "$blk0"
stop_charon $A KILL
check "our charon restarts: A's charon-systemd starts again" start_charon $A
expect_not "our charon restarts: A's charon has forgotten the connection" '^gre-gre1: ' \
    "$(sw $A --list-conns 2>&1)"
if nsping $A $B_IN >/dev/null 2>&1; then r="passes"; else r="does not pass"; fi
note "our charon restarts: before up, a ping $r (the dead charon's kernel SAs:" \
    "$(ip -n $A xfrm state | grep -c '^src'))"
t0=$(date +%s.%N)
gt $A up --ike-timeout $TMO "$T/a/ifcfg-gre1" >"$T/up.out" 2>"$T/up.err"
expect_eq "our charon restarts: up at A again succeeds without a warning" "0:" \
    "$?:$(cat "$T/up.err")"
note "our charon restarts: up said: $(tr '\n' '|' <"$T/up.out")"
expect "our charon restarts: A's charon holds the connection again" '^gre-gre1: IKEv2' \
    "$(sw $A --list-conns 2>&1)"
expect_eq "our charon restarts: A's gre1 is the same link (ifindex $idx0)" "$idx0" "$(ifindex $A gre1)"
expect_eq "our charon restarts: A's block policies are the same (index included)" "$blk0" \
    "$(blocks $A)"
wait_fresh "our charon restarts, up again at A, B untouched" "$t0" ssw_spis
esp_on_wire "our charon restarts: "
gt $A up --ike-timeout $TMO "$T/a/ifcfg-gre1" >/dev/null 2>&1
expect_eq "our charon restarts: a second up leaves A's daemon with one IKE_SA" 1 \
    "$(sas $A | grep -c '^gre-gre1: ')"
expect_eq "our charon restarts: and A's gre1 as it was" "$idx0" "$(ifindex $A gre1)"
took 3c+d
note "section 3 took $S3 s in the VM:$S3_PARTS"
gt $A down gre1 >/dev/null 2>&1
gt $B down gre1 >/dev/null 2>&1
fi

note "the whole test took $SECONDS s in the VM"
[ "$_failed" = 0 ] || daemon_logs
finish
