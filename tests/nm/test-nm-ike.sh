#!/bin/bash
# IPSEC=ike under a real NetworkManager. Two namespaces on a veth wire, one charon-systemd each
# (own strongswan.conf and VICI socket, as tests/kernel/test-ike.sh runs them). End A is
# NetworkManager's: its ifcfg file (IPSEC=ike, PSK in keys-gre1 made by `gre-tunnel keygen`) is
# imported with `nmcli connection import type gre`; end B is `gre-tunnel up` from the mirror.
#   1. B's daemon runs but B's end is not up: the activation fails (NetworkManager is activated
#      only once the CHILD_SA is installed, never with the trap alone), the daemon's reason in
#      NetworkManager's log; A and A's daemon as before.
#   2. PSK saved: up once B is up; the daemon shows the CHILD_SA INSTALLED in TRANSPORT mode;
#      pings both ways; ESP on the wire, no plain GRE; the PSK is in neither log; down leaves A's
#      links, addresses, routes, xfrm state and policies, and A's daemon as before.
#   3. PSK never saved (ike-psk-flags=2): not in NetworkManager's store; `nmcli --ask` asks for it
#      on its terminal (through nm-gre-auth-dialog's external UI) and the tunnel comes up.
#   4. A wrong PSK: the activation fails; nmcli says the secrets were invalid, NetworkManager's
#      log has the daemon's reason (authentication failed) and every signal the service sent
#      before it quit; nothing left in A or A's daemon.
# Every assertion reads the kernel, the wire, the daemon (swanctl) or NetworkManager (nmcli).
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/nm/test-nm-ike.sh
. "$(dirname "$0")/lib-nm.sh"
. "$(dirname "$0")/../kernel/lib-charon.sh"

nm_skip_without_plugin
ike_skip_without_charon
umask 077

A=nmi-a B=nmi-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 A_IN=198.51.100.1 B_IN=198.51.100.2
# NetworkManager's vpn.timeout for the connections: the service waits that minus 10 s for the
# CHILD_SA. Under emulation on a loaded host one IKE exchange can take several seconds.
VPN_TMO=150
nm_pair $A $B # A_OUT and B_OUT on the wire

# ---- the daemons (lib-charon.sh's; NetworkManager is stopped by lib-nm's cleanup, which also
# kills what runs in the namespaces)
conns() { sw "$1" --list-conns 2>&1; }
# up_out NAME [NMCLI OPTIONS]: nmcli connection up, its output in $T/up.out, its exit status.
up_out() {
    local name=$1
    shift
    nmc --wait $((VPN_TMO + 30)) "$@" connection up "$name" >"$T/up.out" 2>&1
}

# The service logs to syslog (NetworkManager tells it to: NM_VPN_LOG_SYSLOG=1 whenever NM runs as
# a daemon, --debug or not), where the journal keeps it beside NetworkManager's own lines. The VM
# has no syslog: busybox syslogd catches it in $SYSLOG. On a host with a syslog of its own, the
# checks that read the service's lines are skipped.
SYSLOG=$NM_DIR/syslog.log _syslogd=
if [ ! -e /dev/log ] && busybox syslogd --help 2>&1 | grep -q -- '-O FILE'; then
    mkdir -p "$NM_DIR"
    busybox syslogd -n -O "$SYSLOG" &
    _syslogd=$!
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
fi
stop_syslogd() {
    [ -n "$_syslogd" ] || return 0
    kill "$_syslogd" 2>/dev/null
    wait "$_syslogd" 2>/dev/null
    rm -f /dev/log
}
trap '_rc=$?; stop_syslogd; (exit $_rc); nm_cleanup' EXIT
# nm_logs: NetworkManager's log and the service's.
nm_logs() { cat "$NM_DIR/NetworkManager.log" "$SYSLOG" 2>/dev/null; }
# service_log_has DESC ERE: the service logged a line matching ERE.
service_log_has() {
    if [ -z "$_syslogd" ]; then
        ok "$1 # SKIP the service logs to this host's syslog"
    elif grep -qE "$2" "$SYSLOG"; then
        ok "$1"
    else
        not_ok "$1"
        note "no line matches /$2/; the service's last lines:"
        tail -8 "$SYSLOG" | sed 's/^/#   /'
    fi
}

check "A: charon-systemd starts" start_charon $A
check "B: charon-systemd starts" start_charon $B
nm_start_underlay $A
conns_before=$(conns $A)

ike_ifcfg_a
check "keygen writes A's IKE_PSK" "$G" keygen "$T/a/ifcfg-gre1"
check "mirror writes B's files" ike_mirror_b
PSK=$(sed -n 's/^IKE_PSK=//p' "$T/a/keys-gre1")
check "A's PSK is there (${#PSK} characters)" test "${#PSK}" -ge 16

check "nmcli connection import type gre file ifcfg-gre1 (IPSEC=ike)" \
    nmc connection import type gre file "$T/a/ifcfg-gre1"
C="System gre1"
check "autoconnect off, vpn.timeout $VPN_TMO" nmc connection modify "$C" \
    connection.autoconnect no vpn.timeout $VPN_TMO
data=$(nmc -g vpn.data connection show "$C" 2>&1 | tr ',' '\n' | sed 's/^ *//')
expect "the import keeps ipsec = ike" '^ipsec = ike$' "$data"
expect "the import keeps the VICI socket" "^ike-vici-socket = $T/$A/charon\\.vici$" "$data"
kf=$(grep -lx "id=$C" "$NM_DIR"/connections/* 2>/dev/null | head -1)
check "the PSK is in NetworkManager's store (saved, root-only keyfile)" grep -qF "$PSK" "$kf"

# ---------------------------------------------------------------- 1. B's end not up
note "1: B's daemon runs, B's end is not up: no CHILD_SA, so no activation"
up_out "$C"
rc=$?
check_not "nmcli connection up fails (exit $rc)" test "$rc" = 0
note "nmcli: $(tr '\n' ' ' <"$T/up.out")"
expect "nmcli: the activation failed" 'Connection activation failed' "$(cat "$T/up.out")"
service_log_has "the service's log: the daemon's reason (B has no IKE configuration for A)" \
    'gre1: up failed: .*has no IKE configuration that matches this end'
check "state: not active" wait_con_state "$C" "" 30
check "kernel: no gre1 in A" wait_gone $A gre1
same_dump "A as before (links, addresses, routes, xfrm)" "$before" "$(dump $A)"
expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"
expect_not "A's daemon: no IKE_SA of ours" '^gre-gre1:' "$(sas $A)"

# ---------------------------------------------------------------- 2. PSK saved
note "2: B up, then A through NetworkManager with the PSK saved"
gt $B up "$T/b/ifcfg-gre1" >"$T/upb.out" 2>&1
expect "B up: the tunnel waits for A (warning, exit 0)" 'up without an IPsec SA yet' \
    "$(cat "$T/upb.out")"
t0=$SECONDS
up_out "$C"
rc=$?
expect_eq "nmcli connection up succeeds" 0 "$rc"
[ "$rc" = 0 ] || { sed 's/^/#   /' "$T/up.out"; nm_log_tail 25; charon_log $A; }
note "nmcli connection up took $((SECONDS - t0)) s"
check "state activated" wait_con_state "$C" activated 30
sa_a=$(sas $A)
expect "swanctl A: IKE_SA gre-gre1 ESTABLISHED" '^gre-gre1: #[0-9]+, ESTABLISHED, IKEv2' "$sa_a"
expect "swanctl A: CHILD_SA gre INSTALLED, TRANSPORT" \
    '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$sa_a"
expect "kernel: gre1 is GRE between the outer addresses" \
    "gre remote ${B_OUT//./\\.} local ${A_OUT//./\\.} " "$(ip -n $A -d link show gre1 2>&1)"
expect "kernel: NetworkManager put the inner address on gre1" \
    "inet ${A_IN//./\\.} peer ${B_IN//./\\.}/30 " \
    "$(ip -n $A addr show gre1 2>&1)"
capture $B wire "host $A_OUT and (esp or proto 47)" 8 "$T/wire"
check "ping A -> B through the tunnel" nsping $A $B_IN
check "ping B -> A through the tunnel" nsping $B $A_IN
capture_stop
w=$(packets "$T/wire")
expect "wire: A -> B is ESP" "${A_OUT//./\\.} > ${B_OUT//./\\.}: ESP\\(spi=0x" "$w"
expect "wire: B -> A is ESP" "${B_OUT//./\\.} > ${A_OUT//./\\.}: ESP\\(spi=0x" "$w"
expect_not "wire: no plain GRE" 'GREv0' "$w"
logged=0
nm_logs | grep -qF "$PSK" && logged=1
grep -qF "$PSK" "$T/$A/charon.log" && logged=1
expect_eq "the PSK is in neither NetworkManager's log (with the service's) nor A's daemon's" 0 "$logged"

check "nmcli connection down" nmc connection down "$C"
check "state: not active any more" wait_con_state "$C" "" 30
check "kernel: gre1 is gone" wait_gone $A gre1
settle $A
same_dump "A after down is A before up" "$before" "$(dump $A)"
expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"
expect_not "A's daemon: no IKE_SA of ours" '^gre-gre1:' "$(sas $A)"

# ---------------------------------------------------------------- 3. PSK asked
note "3: the PSK never saved (flags 2): nmcli --ask asks for it"
if ! command -v script >/dev/null || [ ! -x "$NM_AUTH_DIALOG" ]; then
    note "SKIP part 3: script(1) or the auth dialog ($NM_AUTH_DIALOG) is missing"
else
    check "ike-psk-flags=2 (not saved)" nmc connection modify "$C" +vpn.data ike-psk-flags=2
    check_not "NetworkManager's store no longer holds the PSK" grep -qF "$PSK" "$kf"
    check_not "nmcli connection up without --ask fails (nobody to ask)" up_out "$C"
    check "state: not active" wait_con_state "$C" "" 30
    same_dump "A after the failed up is A before" "$before" "$(dump $A)"
    # feed: type the PSK once nmcli shows the dialog's label, then keep the terminal open until
    # nmcli has said how it went.
    feed() {
        for _ in $(seq 600); do
            grep -q 'IKE pre-shared key' "$T/ask.out" 2>/dev/null && break
            sleep 0.1
        done
        printf '%s\n' "$PSK"
        for _ in $(seq $((VPN_TMO * 10))); do
            grep -qE 'successfully activated|Error' "$T/ask.out" 2>/dev/null && break
            sleep 0.1
        done
    }
    : >"$T/ask.out"
    feed | timeout $((VPN_TMO + 60)) script -qec \
        "nmcli --colors no --ask --wait $((VPN_TMO + 30)) connection up '$C'" /dev/null \
        >"$T/ask.out" 2>&1
    rc=$?
    asked=$(tr -d '\r' <"$T/ask.out")
    expect "nmcli asked on its terminal for the IKE pre-shared key" 'IKE pre-shared key' "$asked"
    if [ "$(con_state "$C")" = activated ]; then
        ok "nmcli --ask connection up succeeds with the PSK typed in (exit $rc)"
    else
        not_ok "nmcli --ask connection up: exit $rc"
        tail -15 <<<"$asked" | sed 's/^/#   /'
        nm_log_tail 20
    fi
    expect "swanctl A: CHILD_SA gre INSTALLED, TRANSPORT" \
        '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$(sas $A)"
    check "ping A -> B through the tunnel" nsping $A $B_IN
    check "ping B -> A through the tunnel" nsping $B $A_IN
    check_not "the store still holds no PSK" grep -qF "$PSK" "$kf"
    check_not "the PSK is not in NetworkManager's log nor the service's" grep -qF "$PSK" \
        <(nm_logs)
    check "nmcli connection down" nmc connection down "$C"
    check "state: not active any more" wait_con_state "$C" "" 30
    check "kernel: gre1 is gone" wait_gone $A gre1
    settle $A
    same_dump "A after down is A before up" "$before" "$(dump $A)"
    expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"
fi

# ---------------------------------------------------------------- 4. wrong PSK
note "4: a wrong PSK (another connection from a file with a fresh key)"
mkdir -p "$T/bad"
{ echo 'NAME=ike-wrong'; cat "$T/a/ifcfg-gre1"; } >"$T/bad/ifcfg-gre1"
check "keygen writes another PSK" "$G" keygen "$T/bad/ifcfg-gre1"
check_not "the wrong PSK differs from B's" cmp -s "$T/bad/keys-gre1" "$T/b/keys-gre1"
check "nmcli connection import (NAME=ike-wrong)" nmc connection import type gre file "$T/bad/ifcfg-gre1"
check "autoconnect off, vpn.timeout $VPN_TMO" nmc connection modify ike-wrong \
    connection.autoconnect no vpn.timeout $VPN_TMO
t0=$SECONDS
up_out ike-wrong
rc=$?
el=$((SECONDS - t0))
check_not "nmcli connection up fails (exit $rc)" test "$rc" = 0
check "... within NetworkManager's timeout ($el s < $VPN_TMO s)" test "$el" -lt $VPN_TMO
note "nmcli: $(tr '\n' ' ' <"$T/up.out")"
expect "nmcli's message: the secrets were invalid" \
    'Connection activation failed: (Invalid secrets|.*[Ll]ogin)' "$(cat "$T/up.out")"
service_log_has "the service's log: the daemon's reason (IKE authentication failed)" \
    'gre1: up failed: .*IKE authentication failed with 192\.0\.2\.2'
expect "NetworkManager's log: the service reported a login failure" \
    '"ike-wrong"\]: dbus: failure: login-failed' "$(grep 'dbus: failure' "$NM_DIR/NetworkManager.log")"
# The service quits right after it stops; signals still queued then were lost (nmcli said
# "The VPN service stopped unexpectedly").
expect "NetworkManager's log: the service's own \"stopped\" arrived before it quit" \
    '"ike-wrong"\]: dbus: state changed: stopped' \
    "$(grep 'dbus: state changed' "$NM_DIR/NetworkManager.log")"
[ "$rc" != 0 ] || charon_log $A
check "state: not active" wait_con_state ike-wrong "" 30
check "kernel: no gre1 in A" wait_gone $A gre1
same_dump "A as before (links, addresses, routes, xfrm)" "$before" "$(dump $A)"
expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"
expect_not "A's daemon: no IKE_SA of ours" '^gre-gre1:' "$(sas $A)"
check_not "neither PSK is in NetworkManager's log nor the service's" \
    grep -qF -e "$PSK" -e "$(sed -n 's/^IKE_PSK=//p' "$T/bad/keys-gre1")" <(nm_logs)
service_log_has "the service's log names the wait for the CHILD_SA" \
    "gre1: waiting up to $((VPN_TMO - 10)) s for the IKE daemon's CHILD_SA"

gt $B down gre1 >/dev/null 2>&1
for ns in "${!CPID[@]}"; do kill "${CPID[$ns]}" 2>/dev/null; done
finish
