#!/bin/bash
# Our VICI client (plugin/gre-vici*.c) against a real charon (Debian's charon-systemd 5.9.8), driven
# by tests/kernel/gre-vici-tool. Each namespace runs its own charon with its own strongswan.conf
# (STRONGSWAN_CONF) and its own VICI socket; no other plugin socket, no pid file.
#   A alone: version; an administrator's connection loaded first by swanctl from its own file;
#     our GRE-only transport connection (start_action=trap) and its PSK loaded over VICI;
#     list-conns and `swanctl --list-conns` show it; the kernel has exactly its trap's proto gre
#     in/out policies; unload-conn and unload-shared remove exactly those, the administrator's
#     connection and its policies stay. CMD_UNKNOWN, EVENT_UNKNOWN and a refused command are
#     reported as such.
#   A and B: both ends loaded through our client, B waits for child-updown, A initiates; list-sas
#     shows the CHILD_SA in TRANSPORT mode; a plain iproute2 GRE link pings over it, and the wire
#     carries ESP with the SPIs list-sas reports; terminate removes the SAs, the trap stays.
# GRE_VICI_RECORD=DIR: the tool also writes every VICI segment to DIR/<step>/ (tests/data/vici/).
. "${GRE_SRCDIR:?}/tests/kernel/lib.sh"
. "$GRE_SRCDIR/tests/kernel/lib-charon.sh"
umask 077

TOOL=${GRE_BUILDDIR:?}/tests/kernel/gre-vici-tool
ike_skip_without_charon
A=vici-a B=vici-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 ADMIN_PEER=192.0.2.3
netns $A $B
wire $A $A_OUT/24 $B $B_OUT/24

trap 'stop_all_charons; cleanup' EXIT

# vt NS STEP ARGS...: the tool against NS's charon (recording STEP's segments when asked).
vt() {
    local ns=$1 step=$2
    shift 2
    local rec=()
    if [ -n "${GRE_VICI_RECORD:-}" ]; then
        mkdir -p "$GRE_VICI_RECORD/$ns-$step"
        rec=(--record "$GRE_VICI_RECORD/$ns-$step")
    fi
    ip netns exec "$ns" "$TOOL" "${rec[@]}" "unix://$T/$ns/charon.vici" "$@"
}
gre_policies() { ip -n "$1" xfrm policy | oneline | grep ' proto gre ' | sort; }
all_policies() { ip -n "$1" xfrm policy | oneline | sort; }

# ---------------------------------------------------------------- one charon
check "A: charon-systemd starts in its namespace with its own socket" start_charon $A

out=$(vt $A version version 2>&1)
expect "version: the daemon is charon-systemd" '^daemon = charon-systemd$' "$out"
expect "version: strongSwan 5.9.8" '^version = 5\.9\.8$' "$out"
sv=$(sw $A --version --daemon 2>&1)
expect "swanctl --version --daemon (independent view) names the same daemon" 'strongSwan 5\.9\.8 charon-systemd' "$sv"

# The administrator's own connection, loaded first from its own file by swanctl (which would
# unload connections not in its file: that is why it goes first).
cat >"$T/admin.conf" <<EOF
connections {
    admin {
        version = 2
        local_addrs = $A_OUT
        remote_addrs = $ADMIN_PEER
        local { auth = psk }
        remote { auth = psk }
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
check "A: swanctl --load-conns loads the administrator's connection" \
    sw $A --load-conns --file "$T/admin.conf"
admin_pol=$(all_policies $A)
expect "A: the administrator's trap policies are in the kernel" " proto udp dir out " "$admin_pol"
expect_eq "A: no GRE policy before ours is loaded" "" "$(gre_policies $A)"

check "A: load-conn gre-peer (GRE-only transport, start_action=trap) through our client" \
    vt $A load-conn load-conn gre-peer $A_OUT $B_OUT
PSK=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
# vt_psk NS STEP ARGS...: vt with the PSK on its stdin (never in argv or the environment).
vt_psk() { vt "$@" <<<"$PSK"; }
check "A: load-shared with owners through our client (PSK on stdin)" \
    vt_psk $A load-shared load-shared gre-peer-psk $A_OUT $B_OUT

out=$(vt $A get-conns get-conns 2>&1)
expect "get-conns lists gre-peer" '^gre-peer$' "$out"
expect "get-conns lists admin" '^admin$' "$out"
expect "get-shared lists gre-peer-psk" '^gre-peer-psk$' "$(vt $A get-shared get-shared 2>&1)"
lc=$(vt $A list-conns list-conns 2>&1)
# gre-peer's part of the dump (the administrator's connection is a transport one too)
lc_peer=$(printf '%s\n' "$lc" | awk '/^gre-peer \{$/, /^\}$/')
expect "list-conns streams list-conn events for admin and gre-peer" '^admin \{$' "$lc"
expect "list-conn: a section for gre-peer" '^gre-peer \{$' "$lc_peer"
expect "list-conn: gre-peer's child is in TRANSPORT mode" '^ +mode = TRANSPORT$' "$lc_peer"
expect "list-conn: local GRE selector" '^ +local-ts = \[ dynamic\[gre\] \]$' "$lc_peer"
expect "list-conn: remote GRE selector" '^ +remote-ts = \[ dynamic\[gre\] \]$' "$lc_peer"
expect "list-conn: remote addresses as loaded" "^  remote_addrs = \\[ ${B_OUT//./\\.} \\]$" "$lc_peer"
sl=$(sw $A --list-conns 2>&1)
expect "swanctl --list-conns (independent view) shows gre-peer" '^gre-peer: IKEv2' "$sl"
expect "swanctl --list-conns: gre-peer's child TRANSPORT with GRE selectors" \
    '^ +gre-peer: TRANSPORT' "$sl"
expect "swanctl --list-conns: local dynamic[gre]" '^ +local: +dynamic\[gre\]$' "$sl"

pol=$(gre_policies $A)
expect "kernel: trap policy out, GRE 192.0.2.1 -> 192.0.2.2, ESP transport" \
    '^src 192\.0\.2\.1/32 dst 192\.0\.2\.2/32 proto gre dir out .*tmpl src 0\.0\.0\.0 dst 0\.0\.0\.0 proto esp reqid [0-9]+ mode transport$' "$pol"
expect "kernel: trap policy in, GRE 192.0.2.2 -> 192.0.2.1, ESP transport" \
    '^src 192\.0\.2\.2/32 dst 192\.0\.2\.1/32 proto gre dir in .*tmpl src 0\.0\.0\.0 dst 0\.0\.0\.0 proto esp reqid [0-9]+ mode transport$' "$pol"
expect_eq "kernel: exactly two GRE policies (in, out; no fwd in transport mode)" 2 \
    "$(printf '%s\n' "$pol" | grep -c .)"

# ---- errors the daemon reports
out=$(vt $A unknown-command command no-such-command 2>&1)
expect "CMD_UNKNOWN: named as an unknown command" 'does not know the command "no-such-command"' "$out"
out=$(vt $A unknown-event register no-such-event 2>&1)
expect "EVENT_UNKNOWN: named as an unknown event" 'does not know the event "no-such-event"' "$out"
out=$(vt $A unload-missing unload-conn no-such-conn 2>&1)
expect "a refused command carries charon's errmsg" 'refused unload-conn: .*no-such-conn' "$out"

# ---- unload exactly what we loaded
check "A: unload-conn gre-peer" vt $A unload-conn unload-conn gre-peer
check "A: unload-shared gre-peer-psk" vt $A unload-shared unload-shared gre-peer-psk
expect_eq "kernel: the GRE policies are gone" "" "$(gre_policies $A)"
expect_eq "kernel: the administrator's policies are exactly as before" "$admin_pol" "$(all_policies $A)"
out=$(vt $A get-conns2 get-conns 2>&1)
expect "get-conns: admin stays" '^admin$' "$out"
expect_not "get-conns: gre-peer gone" '^gre-peer$' "$out"
expect_eq "get-shared: no key left" "" "$(vt $A get-shared2 get-shared 2>&1)"
sl=$(sw $A --list-conns 2>&1)
expect "swanctl --list-conns: admin stays" '^admin: IKEv2' "$sl"
expect_not "swanctl --list-conns: gre-peer gone" '^gre-peer:' "$sl"

# ---------------------------------------------------------------- two charons, one CHILD_SA
check "B: a second charon-systemd in B with its own socket" start_charon $B
check "A: load-conn gre-peer" vt $A load-conn2 load-conn gre-peer $A_OUT $B_OUT
check "B: load-conn gre-peer" vt $B load-conn2 load-conn gre-peer $B_OUT $A_OUT
for ns in $A $B; do
    check "$ns: load-shared" vt_psk $ns load-shared2 load-shared gre-peer-psk $A_OUT $B_OUT
done
vt $B child-updown wait-event child-updown 90000 >"$T/updown" 2>&1 &
wpid=$!
sleep 0.5
# Under emulation on a busy host an exchange can take many seconds: wait up to a minute.
check "A: initiate gre-peer (waits for the CHILD_SA)" vt $A initiate initiate gre-peer gre-peer 60000
wait $wpid
if [ "$_failed" != 0 ]; then
    for ns in $A $B; do
        note "$ns's charon.log (IKE and CFG lines):"
        grep -E '\[(IKE|CFG|NET)\]' "$T/$ns/charon.log" | tail -40 | awk '{ print "#   " $0 }'
    done
fi
updown=$(cat "$T/updown")
expect "B: child-updown event arrives, up" '^up = yes$' "$updown"
sas=$(vt $A list-sas list-sas 2>&1)
expect "list-sas: a list-sa event for gre-peer" '^event list-sa:$' "$sas"
expect "list-sas: CHILD_SA INSTALLED" '^ +state = INSTALLED$' "$sas"
expect "list-sas: CHILD_SA mode TRANSPORT" '^ +mode = TRANSPORT$' "$sas"
expect "list-sas: GRE selectors" '^ +local-ts = \[ 192\.0\.2\.1/32\[gre\] \]$' "$sas"
spi_out=$(printf '%s\n' "$sas" | sed -n 's/^ *spi-out = //p' | head -1)
spi_in=$(printf '%s\n' "$sas" | sed -n 's/^ *spi-in = //p' | head -1)
note "A's CHILD_SA: spi-in $spi_in spi-out $spi_out"

ip -n $A link add gre1 type gre local $A_OUT remote $B_OUT ttl 64
ip -n $B link add gre1 type gre local $B_OUT remote $A_OUT ttl 64
ip -n $A addr add 198.51.100.1/30 dev gre1
ip -n $B addr add 198.51.100.2/30 dev gre1
ip -n $A link set gre1 up
ip -n $B link set gre1 up
capture $B wire "host $A_OUT and (esp or proto 47)" 6 "$T/wire"
check "ping through a plain GRE link over the CHILD_SA" nsping $A 198.51.100.2
capture_stop
w=$(packets "$T/wire")
expect "wire: A -> B is ESP with list-sas' spi-out" \
    "192\\.0\\.2\\.1 > 192\\.0\\.2\\.2: ESP\\(spi=0x${spi_out#0x}," "$w"
expect "wire: B -> A is ESP with list-sas' spi-in" \
    "192\\.0\\.2\\.2 > 192\\.0\\.2\\.1: ESP\\(spi=0x${spi_in#0x}," "$w"
expect_not "wire: no plain GRE" 'GREv0' "$w"

# terminate through our client: the SAs go, the trap's policies stay (the connection is still
# loaded), so GRE between the two still needs ESP. The GRE links go first: their IPv6 link-local
# traffic would hit the trap and negotiate a new CHILD_SA at once.
ip -n $A link del gre1
ip -n $B link del gre1
check "A: terminate the IKE_SA gre-peer (waits for it)" vt $A terminate terminate gre-peer 20000
expect_eq "A: no ESP SA left in the kernel" "" "$(ip -n $A xfrm state)"
expect_eq "A: the trap's two GRE policies stay" 2 "$(gre_policies $A | grep -c .)"
expect_not "A: list-sas shows no IKE_SA" '^event list-sa:$' "$(vt $A list-sas2 list-sas 2>&1)"

# Why IPSEC=ike cannot use swanctl for its connections: --load-conns unloads every connection
# the daemon holds that is not in the file it read (here B's gre-peer, loaded over VICI).
check "B: swanctl --load-conns with only the administrator's file" \
    sw $B --load-conns --file "$T/admin.conf"
out=$(vt $B get-conns3 get-conns 2>&1)
expect_not "B: ... unloaded gre-peer, which was loaded over VICI" '^gre-peer$' "$out"
note "AppArmor in this kernel: $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo absent)"

stop_all_charons
finish
