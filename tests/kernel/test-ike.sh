#!/bin/bash
# IPSEC=ike through gre-tunnel up/down: two namespaces A and B on a veth wire, one charon-systemd
# each (own strongswan.conf, own VICI socket, as test-vici.sh runs them), files made by
# `gre-tunnel keygen` (PSK) and `gre-tunnel mirror`. Every assertion reads the kernel
# (ip link/xfrm, counters), the wire (tcpdump) or the daemon through swanctl, never gre-tunnel.
#   1. The daemon not running: up fails naming the package and the socket; nothing changed.
#   2. up A then B: A's peer has no configuration yet (the tunnel stays up with the trap, a
#      warning on stderr), B establishes the CHILD_SA. Pings both ways; the wire carries ESP
#      with the SPIs swanctl --list-sas reports and no plain GRE; a ping of the outer address
#      stays clear ICMP; only proto gre policies are ours; the SAs are in transport mode; the
#      largest DF ping is `gre-tunnel mtu`'s figure and one byte more fails; status shows them.
#   3. down on each end: each namespace's links and xfrm state/policy equal the dumps taken
#      before; the administrator's connection (loaded with swanctl) stays, ours are gone.
#   4. up B then A: pings both ways; down again leaves the dumps as before.
#   5. Plaintext GRE refused: B's charon stopped; `up --wait-peer` fails and leaves nothing;
#      plain `up` stays up with the trap and warns; a plain iproute2 GRE link in B reaches
#      nothing on A (A's gre1 counts no packet, the kernel counts the policy mismatch).
#   6. Wrong PSK: up fails within the timeout, saying authentication failed; nothing left; the
#      administrator's connection stays.
#   7. A peer configured for tunnel mode (a swanctl.conf the test writes, loaded on B): charon
#      falls back to tunnel mode; up refuses the CHILD_SA and leaves nothing.
# After a trap met a peer that did not complete IKE, the kernel keeps a larval ACQUIRE state
# (spi 0, no keys, passes nothing) until net.core.xfrm_acq_expires: the comparisons after `down`
# first check that nothing else is left, then wait (up to 180 s) for it to expire.
#   8. down with the daemon gone: a warning naming its socket; the link is removed all the same.
#   9. (run before 8) a record owned by an nm-gre-service that is SIGKILLed: its watchdog
#      (nm-gre-service --watchdog, run by hand beside a stand-in service) unloads the connection
#      and the key from the daemon and removes the link, as down does.
# Arguments: section numbers (2-9) to run only those (setup and 1 always run), e.g. for a build
# with a check disabled: run-test tests/kernel/test-ike.sh 6 7.
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-charon.sh"
umask 077

ike_skip_without_charon
SECTIONS=" ${*:-2 3 4 5 6 7 8 9} "
section() { [[ $SECTIONS == *" $1 "* ]]; }
A=ike-a B=ike-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 ADMIN_PEER=192.0.2.3
A_IN=198.51.100.1 B_IN=198.51.100.2
# Under emulation on a loaded host one IKE exchange can take several seconds.
TMO=120
apply_pair $A $B

trap 'stop_all_charons; cleanup' EXIT

# dump_ns NS: links (without counters or state) and the xfrm state and policies.
dump_ns() {
    dump "$1" >/dev/null # waits for tentative addresses
    {
        ip -n "$1" -d link show | sed -E 's/ (qlen|qdisc|state|mode|group) [^ ]+//g'
        ip -n "$1" xfrm state
        ip -n "$1" xfrm policy
    } 2>&1
}
ours() { sw "$1" --list-conns 2>&1 | grep -c '^gre-gre1:'; }
rx_packets() { ip -n "$1" -s -j link show "$2" | sed -n 's/.*"rx":{"bytes":[0-9]*,"packets":\([0-9]*\).*/\1/p'; }

# ---- the two ends' files: keygen makes A's PSK, mirror writes B's files
mkdir -p "$T/a" "$T/b"
ike_ifcfg_a TTL=64
check "keygen writes A's IKE_PSK" "$G" keygen "$T/a/ifcfg-gre1"
check "mirror writes B's files" ike_mirror_b
expect_eq "A's and B's keys files hold the same IKE_PSK" \
    "$(grep '^IKE_PSK=' "$T/a/keys-gre1")" "$(grep '^IKE_PSK=' "$T/b/keys-gre1")"
MTU=$("$G" mtu -u 1500 "$T/a/ifcfg-gre1")
note "gre-tunnel mtu (underlay 1500, aes256gcm16): $MTU"

# ---------------------------------------------------------------- 1. no daemon
before_a0=$(dump_ns $A)
out=$(gt $A up "$T/a/ifcfg-gre1" 2>&1)
expect_eq "no daemon: up fails with exit 3 (system)" 3 "$?"
expect "no daemon: the error names the package to install" 'charon-systemd' "$out"
expect "no daemon: the error names the socket" "IKE daemon at $T/$A/charon\\.vici" "$out"
expect_eq "no daemon: A's links and xfrm objects are as before" "$before_a0" "$(dump_ns $A)"
check_not "no daemon: no ownership record left" test -e "/run/gre-tunnel/netns-"*"/gre1.state"

# ---------------------------------------------------------------- the daemons
check "A: charon-systemd starts" start_charon $A
check "B: charon-systemd starts" start_charon $B
cat >"$T/admin.conf" <<EOF
connections {
    admin {
        version = 2
        local_addrs = $A_OUT
        remote_addrs = $ADMIN_PEER
        local {
            auth = psk
        }
        remote {
            auth = psk
        }
        children {
            admin-udp {
                mode = transport
                local_ts = dynamic[udp]
                remote_ts = dynamic[udp]
                start_action = trap
            }
        }
    }
}
EOF
check "A: the administrator's own connection, loaded with swanctl" \
    sw $A --load-conns --file "$T/admin.conf"
admin_pol=$(ip -n $A xfrm policy | oneline | sort)
expect "A: the administrator's trap policies are in the kernel" ' proto udp dir out ' "$admin_pol"
before_a=$(dump_ns $A)
before_b=$(dump_ns $B)

if section 2; then
# ---------------------------------------------------------------- 2. up A, then B
gt $A up "$T/a/ifcfg-gre1" >"$T/upa.out" 2>"$T/upa.err"
expect_eq "A first: up succeeds (exit 0)" 0 "$?"
expect "A first: a warning on stderr says the peer has no configuration yet" \
    'warning: gre-gre1: the tunnel is up without an IPsec SA yet: .*no IKE configuration' \
    "$(cat "$T/upa.err")"
expect "A first: the GRE link exists" 'gre1@NONE' "$(ip -n $A link show gre1 2>&1)"
t0=$(date +%s)
gt $B up --ike-timeout $TMO "$T/b/ifcfg-gre1" >"$T/upb.out" 2>"$T/upb.err"
rc=$?
expect_eq "B second: up succeeds (exit 0)" 0 "$rc"
expect_eq "B second: no warning (the CHILD_SA came up)" "" "$(cat "$T/upb.err")"
note "B's up took $(($(date +%s) - t0)) s"
[ "$rc" = 0 ] || charon_log $A $B

sa_a=$(sas $A)
expect "swanctl A: IKE_SA gre-gre1 ESTABLISHED" '^gre-gre1: #[0-9]+, ESTABLISHED, IKEv2' "$sa_a"
expect "swanctl A: CHILD_SA gre INSTALLED, TRANSPORT" '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$sa_a"
expect "swanctl A: local selector GRE from A" "^ +local +${A_OUT//./\\.}/32\\[gre\\]$" "$sa_a"
expect "swanctl B: CHILD_SA INSTALLED, TRANSPORT" '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$(sas $B)"
# Every SPI of A's CHILD_SAs (in and out), as swanctl shows them.
spis=$(child_spis <<<"$sa_a")
note "SPIs swanctl reports on A: $(echo $spis)"

esp_on_wire
unknown=$(comm -23 <(printf '%s\n' "$wire_spis") <(printf '%s\n' "$spis"))
expect_eq "wire: every ESP SPI is one swanctl --list-sas reports" "" "$unknown"
expect_not "wire: ESP seen at all" '^$' "$wire_spis"
capture $A wire "icmp and host $B_OUT" 2 "$T/clear"
nsping $A $B_OUT >/dev/null
capture_stop
expect "wire: a ping of B's outer address stays clear ICMP" \
    "${A_OUT//./\\.} > ${B_OUT//./\\.}: ICMP echo request" "$(packets "$T/clear")"

pol_a=$(ip -n $A xfrm policy | oneline | sort)
expect_eq "A: besides the administrator's, only proto gre policies" "$admin_pol" \
    "$(printf '%s\n' "$pol_a" | grep -v ' proto gre ')"
expect_eq "A: two GRE policies with an ESP template (charon's: in, out)" 2 \
    "$(printf '%s\n' "$pol_a" | grep ' proto gre ' | grep -c ' tmpl ')"
# ours beside them: block, mark 0/1 and 1/1 each way, a lower priority (a larger number)
expect_eq "A: four block policies of ours under them" 4 \
    "$(printf '%s\n' "$pol_a" | grep -cE ' proto gre .*dir (in|out) .*action block .*priority 1000000.* mark (0|0x1)/0x1')"
# (charon's per-socket policies, which let its IKE packets bypass IPsec, select nothing)
pol_b=$(ip -n $B xfrm policy | oneline | grep -v ' socket \(in\|out\) ')
expect_eq "B: only proto gre policies (besides charon's socket bypass)" "" \
    "$(printf '%s\n' "$pol_b" | grep -v ' proto gre ')"
expect_eq "B: two GRE policies with an ESP template (in, out)" 2 \
    "$(printf '%s\n' "$pol_b" | grep ' proto gre ' | grep -c ' tmpl ')"
st_a=$(ip -n $A xfrm state | oneline)
expect "A: ESP states in transport mode" ' proto esp spi .* mode transport ' "$st_a"
expect_not "A: no ESP state in tunnel mode" ' mode tunnel ' "$st_a"
expect_not "B: no ESP state in tunnel mode" ' mode tunnel ' "$(ip -n $B xfrm state | oneline)"

expect_eq "A: gre1's MTU is gre-tunnel mtu's figure" "$MTU" "$(link_mtu $A gre1)"
check "largest DF ping (-s $((MTU - 28))) passes" nsping $A -M do -s $((MTU - 28)) $B_IN
check_not "one byte more (-s $((MTU - 27))) fails" nsping $A -M do -s $((MTU - 27)) $B_IN

st=$(gt $A status gre1 2>&1)
expect "status: the IKE_SA as the daemon reports it" '^  IKE_SA gre-gre1 #[0-9]+: ESTABLISHED' "$st"
expect "status: the CHILD_SA installed in transport mode" \
    '^  CHILD_SA gre #[0-9]+: INSTALLED, TRANSPORT, ESP' "$st"
first_spi=$(printf '%s\n' "$spis" | head -1)
expect "status: an SPI swanctl reports" "spi in 0x[0-9a-f]+ out 0x[0-9a-f]+" "$st"
expect "status: ... which is one swanctl reports" "(spi in|out) 0x$first_spi[, ]" "$st"
expect "status: the link beside it" '^  link gre1: gre, up' "$st"

fi

if section 3; then
# ---------------------------------------------------------------- 3. down
out=$(gt $A down gre1 2>&1)
expect_eq "A: down succeeds" 0 "$?"
out=$(gt $B down gre1 2>&1)
expect_eq "B: down succeeds" 0 "$?"
settle $A "after down"
settle $B "after down"
expect_eq "A: links and xfrm state/policy as before up" "$before_a" "$(dump_ns $A)"
expect_eq "B: links and xfrm state/policy as before up" "$before_b" "$(dump_ns $B)"
lc=$(sw $A --list-conns 2>&1)
expect "A: the administrator's connection is still loaded" '^admin: IKEv2' "$lc"
expect_not "A: our connection is gone" '^gre-gre1:' "$lc"
expect_not "A: no IKE_SA of ours" '^gre-gre1:' "$(sas $A)"
expect_eq "B: no connection of ours" 0 "$(ours $B)"
expect_not "B: no IKE_SA of ours" '^gre-gre1:' "$(sas $B)"

fi
gt $A down gre1 >/dev/null 2>&1
gt $B down gre1 >/dev/null 2>&1

if section 4; then
# ---------------------------------------------------------------- 4. the other order
gt $B up "$T/b/ifcfg-gre1" >"$T/upb2.out" 2>"$T/upb2.err"
expect_eq "B first: up succeeds" 0 "$?"
gt $A up --ike-timeout $TMO "$T/a/ifcfg-gre1" >"$T/upa2.out" 2>"$T/upa2.err"
expect_eq "A second: up succeeds without a warning" "0:" "$?:$(cat "$T/upa2.err")"
check "other order: ping A -> B" nsping $A $B_IN
check "other order: ping B -> A" nsping $B $A_IN
expect "other order: swanctl A: CHILD_SA INSTALLED, TRANSPORT" \
    '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$(sas $A)"
gt $B down gre1 >/dev/null 2>&1
gt $A down gre1 >/dev/null 2>&1
settle $A "after down"
settle $B "after down"
expect_eq "other order, after down: A as before" "$before_a" "$(dump_ns $A)"
expect_eq "other order, after down: B as before" "$before_b" "$(dump_ns $B)"

fi

if section 5; then
# ---------------------------------------------------------------- 5. plaintext GRE refused
stop_charon $B
t0=$(date +%s)
out=$(gt $A up --wait-peer --ike-timeout 8 "$T/a/ifcfg-gre1" 2>&1)
rc=$?
el=$(($(date +%s) - t0))
expect_eq "silent peer, --wait-peer: up fails (exit 3)" 3 "$rc"
expect "silent peer, --wait-peer: the error says the peer did not answer" \
    "${B_OUT//./\\.} did not answer IKE within 8 s" "$out"
check "silent peer, --wait-peer: within the timeout and some ($el s)" test "$el" -lt 40
expect_eq "silent peer, --wait-peer: A as before" "$before_a" "$(dump_ns $A)"
expect_eq "silent peer, --wait-peer: no connection of ours left in A's daemon" 0 "$(ours $A)"

gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >"$T/upa3.out" 2>"$T/upa3.err"
expect_eq "silent peer: up stays up (exit 0)" 0 "$?"
expect "silent peer: a warning on stderr says so" \
    'warning: gre-gre1: the tunnel is up without an IPsec SA yet: .* did not answer IKE' \
    "$(cat "$T/upa3.err")"
pol_a=$(ip -n $A xfrm policy | oneline)
expect "silent peer: the trap's inbound GRE policy is in A's kernel" \
    "^src ${B_OUT//./\\.}/32 dst ${A_OUT//./\\.}/32 proto gre dir in .* tmpl " "$pol_a"
# A plain iproute2 GRE link in B, with no IPsec at all (B's daemon is stopped).
ip -n $B link add pgre type gre local $B_OUT remote $A_OUT ttl 64
ip -n $B addr add $B_IN/30 dev pgre
ip -n $B link set pgre up
rx0=$(rx_packets $A gre1)
check "A's gre1 is there to count (${rx0:-none})" test -n "$rx0"
mm0=$(xfrm_stat $A XfrmInTmplMismatch)
nb0=$(xfrm_stat $A XfrmInNoStates)
capture $A wire "proto 47" 3 "$T/plain"
check "plaintext GRE from B gets no answer" nsping_fails $B $A_IN
capture_stop
expect "wire: B's plain GRE did reach A" "${B_OUT//./\\.} > ${A_OUT//./\\.}: GREv0" "$(packets "$T/plain")"
expect_eq "A's gre1 received none of it" "$rx0" "$(rx_packets $A gre1)"
mm1=$(xfrm_stat $A XfrmInTmplMismatch)
nb1=$(xfrm_stat $A XfrmInNoStates)
note "A: XfrmInTmplMismatch $mm0 -> $mm1, XfrmInNoStates $nb0 -> $nb1"
check "A's kernel counts the refused packets against the policy" \
    test $((mm1 + nb1)) -gt $((mm0 + nb0))
ip -n $B link del pgre
gt $A down gre1 >/dev/null 2>&1
settle $A "after down"
expect_eq "after the silent-peer round: A as before" "$before_a" "$(dump_ns $A)"
fi

if section 6; then

# ---------------------------------------------------------------- 6. wrong PSK
[ -n "${CPID[$B]:-}" ] || check "B: charon-systemd starts again" start_charon $B
before_b=$(dump_ns $B)
gt $B up "$T/b/ifcfg-gre1" >/dev/null 2>&1
mkdir -p "$T/abad"
cp "$T/a/ifcfg-gre1" "$T/a/keys-gre1" "$T/abad/"
"$G" keygen "$T/abad/ifcfg-gre1" >/dev/null
check_not "the wrong PSK differs from the right one" cmp -s "$T/a/keys-gre1" "$T/abad/keys-gre1"
t0=$(date +%s)
out=$(gt $A up --ike-timeout $TMO "$T/abad/ifcfg-gre1" 2>&1)
rc=$?
el=$(($(date +%s) - t0))
expect_eq "wrong PSK: up fails (exit 1: the ends differ)" 1 "$rc"
expect "wrong PSK: the message says authentication failed" 'IKE authentication failed' "$out"
check "wrong PSK: fails within the timeout ($el s)" test "$el" -lt $TMO
expect_eq "wrong PSK: A as before (no link, no policy, no state)" "$before_a" "$(dump_ns $A)"
lc=$(sw $A --list-conns 2>&1)
expect_not "wrong PSK: no connection of ours in A's daemon" '^gre-gre1:' "$lc"
expect "wrong PSK: the administrator's connection stays" '^admin: IKEv2' "$lc"
expect_not "wrong PSK: no IKE_SA of ours in A's daemon" '^gre-gre1:' "$(sas $A)"
[ "$rc" = 1 ] || charon_log $A $B
gt $B down gre1 >/dev/null 2>&1
settle $B "after down"
expect_eq "B after down: as before" "$before_b" "$(dump_ns $B)"
fi

if section 7; then
[ -n "${CPID[$B]:-}" ] || check "B: charon-systemd starts again" start_charon $B

# ---------------------------------------------------------------- 7. peer in tunnel mode
psk=$(sed -n 's/^IKE_PSK=//p' "$T/b/keys-gre1")
cat >"$T/tunnel.conf" <<EOF
connections {
    tunnel-peer {
        version = 2
        local_addrs = $B_OUT
        remote_addrs = $A_OUT
        local {
            auth = psk
        }
        remote {
            auth = psk
        }
        children {
            gre {
                mode = tunnel
                local_ts = $B_OUT/32[gre]
                remote_ts = $A_OUT/32[gre]
                esp_proposals = aes256gcm16-ecp256
            }
        }
    }
}
secrets {
    ike-tunnel-peer {
        id-1 = $A_OUT
        id-2 = $B_OUT
        secret = "$psk"
    }
}
EOF
check "B: a tunnel-mode peer loaded with swanctl" sw $B --load-all --file "$T/tunnel.conf"
rm -f "$T/tunnel.conf"
out=$(gt $A up --ike-timeout $TMO "$T/a/ifcfg-gre1" 2>&1)
rc=$?
expect_eq "tunnel-mode peer: up fails (exit 1)" 1 "$rc"
expect "tunnel-mode peer: the message says the CHILD_SA is not in transport mode" \
    'not in TRANSPORT mode' "$out"
expect_eq "tunnel-mode peer: A as before" "$before_a" "$(dump_ns $A)"
expect_not "tunnel-mode peer: no IKE_SA of ours in A's daemon" '^gre-gre1:' "$(sas $A)"
expect_eq "tunnel-mode peer: no connection of ours in A's daemon" 0 "$(ours $A)"
[ "$rc" = 1 ] || charon_log $A $B
fi

SVC=${GRE_BUILDDIR:-}/nm-plugin/nm-gre-service
if section 9 && [ ! -x "$SVC" ]; then
    ok "# SKIP 9: nm-gre-service is not built"
elif section 9; then
# ---------------------------------------------------------------- 9. the watchdog's removal
# A stand-in for the service holds the only write end of the watchdog's pipe, and the record
# names it as owner (the line nm-gre-service writes); its SIGKILL lets the watchdog act.
stop_charon $B
gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >/dev/null 2>&1
expect "watchdog: A is up with the trap" ' proto gre dir in ' "$(ip -n $A xfrm policy | oneline)"
expect_eq "watchdog: our connection is loaded in A's daemon" 1 "$(ours $A)"
# A's record: the one whose link has A's outer address (B's directory may hold a gre1 too).
rec=$(grep -l "^step=link name=gre1 .*local=${A_OUT//./\\.} " /run/gre-tunnel/netns-*/gre1.state 2>/dev/null)
expect "watchdog: A's record found" '^/run/gre-tunnel/netns-[^ ]*/gre1\.state$' "$rec"
rm -f "$T/pipe"
mkfifo "$T/pipe"
sleep 1000 3>"$T/pipe" &
svc=$!
until [ -e "/proc/$svc/stat" ]; do sleep 0.05; done
start=$(sed -E 's/.*\) //' "/proc/$svc/stat" | cut -d' ' -f20)
owner="nm-gre-service pid=$svc start=$start boot=$(cat /proc/sys/kernel/random/boot_id) pidns=$(stat -L -c %i /proc/self/ns/pid)"
sed -i "/^name=/a owner=$owner" "$rec"
ip netns exec $A "$SVC" --watchdog="$svc:$start" 3<"$T/pipe" 2>"$T/wd.log" &
wd=$!
expect "watchdog: status names the stand-in as owner" "^gre1: owned by nm-gre-service \\(pid $svc\\)\$" \
    "$(gt $A status gre1 2>&1 | head -1)"
kill -KILL $svc
wait $svc 2>/dev/null
end=$((SECONDS + 60))
while [ -e "/proc/$wd" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
wait $wd
expect_eq "watchdog: it ends with status 0 within 60 s of the service's SIGKILL" 0 "$?"
check_not "watchdog: the GRE link is gone" ip -n $A link show gre1
expect_eq "watchdog: our connection is unloaded from A's daemon" 0 "$(ours $A)"
expect_not "watchdog: our key is unloaded from A's daemon" '^gre-gre1$' \
    "$(ip netns exec $A "$GRE_BUILDDIR/tests/kernel/gre-vici-tool" "unix://$T/$A/charon.vici" get-shared 2>&1)"
expect "watchdog: the administrator's connection stays" '^admin: IKEv2' "$(sw $A --list-conns 2>&1)"
check_not "watchdog: the record is gone" test -e "$rec"
expect "watchdog: its log names what it removed" 'watchdog: gre1: removed what it held' "$(cat "$T/wd.log")"
settle $A "after down"
expect_eq "watchdog: A as before" "$before_a" "$(dump_ns $A)"
fi

if section 8; then
# ---------------------------------------------------------------- 8. down without the daemon
stop_charon $B
gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >/dev/null 2>&1
expect "daemon gone: A is up with the trap first" ' proto gre dir in ' "$(ip -n $A xfrm policy | oneline)"
stop_charon $A
gt $A down gre1 >"$T/down.out" 2>"$T/down.err"
expect_eq "daemon gone: down succeeds (exit 0)" 0 "$?"
expect "daemon gone: a warning names the daemon's socket" \
    "warning: gre-gre1 was not unloaded: .*$T/$A/charon\\.vici" "$(cat "$T/down.err")"
check_not "daemon gone: the GRE link is removed all the same" ip -n $A link show gre1
# charon's own policies are charon's business: shown, not asserted.
note "daemon gone: GRE policies left in A's kernel: $(ip -n $A xfrm policy | oneline | grep -c ' proto gre ')"
check_not "daemon gone: no ownership record left" ip netns exec $A sh -c 'test -e /run/gre-tunnel/netns-*/gre1.state'
fi

note "net.core.xfrm_acq_expires in A: $(ip netns exec $A sysctl -n net.core.xfrm_acq_expires)"
[ "$_failed" = 0 ] || charon_log $A $B
finish
