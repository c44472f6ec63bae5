#!/bin/bash
# IPSEC=ike under a real NetworkManager, as a user meets it: a peer that does not answer, and a
# connection that went out with `nmcli connection export` (which never writes the PSK) and comes
# back with `nmcli connection import`. Namespaces A and B on a veth wire; A is NetworkManager's
# (its ifcfg file imported), B is `gre-tunnel up` from the mirror; one charon-systemd each
# (lib-charon.sh), B's started only for part 2.
#   1. Silent peer: while nm-gre-service waits for the CHILD_SA (up to vpn.timeout - 10 s),
#      `nmcli connection down` returns at once, and within DOWN_MAX s nothing is left in A's
#      kernel nor in A's daemon (connections, IKE_SAs): the service's main loop is free, so
#      Disconnect ends the wait (on main it stayed blocked, and the trap policies, the
#      connection and its IKE_SA stayed until the wait was over); the activation fails.
#   2. Export, delete, import of the exported file (no PSK in it, no keys file): the import
#      succeeds, saying the PSK is a secret to be supplied later; `up` without it fails for want
#      of secrets with nothing changed; with the PSK set (nmcli connection modify vpn.secrets):
#      up, CHILD_SA in transport mode, pings both ways, down leaves A as before.
# Every assertion reads the kernel, the daemon (swanctl) or NetworkManager (nmcli).
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/nm/test-nm-ike-wait.sh
. "$(dirname "$0")/lib-nm.sh"
. "$(dirname "$0")/../kernel/lib-charon.sh"

nm_skip_without_plugin
ike_skip_without_charon
umask 077

A=nmw-a B=nmw-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 A_IN=198.51.100.1 B_IN=198.51.100.2
# The service waits vpn.timeout - 10 s for the CHILD_SA: long enough that a Disconnect that has
# to wait for it is told from one that does not.
VPN_TMO=90
DOWN_MAX=30 # seconds the down may take, the unloading included (the wait lasts 80 s)
nm_pair $A $B

conns() { sw "$1" --list-conns 2>&1; }
up_out() { # up_out NAME: nmcli connection up, its output in $T/up.out, its exit status
    nmc --wait $((VPN_TMO + 30)) connection up "$1" >"$T/up.out" 2>&1
}

# The service logs to syslog; the VM has none: busybox syslogd catches it (as test-nm-ike.sh).
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
# ike_trying NS: NS's daemon has our IKE_SA and it is not established (the peer is silent).
ike_trying() { sas "$1" | grep -qE '^gre-gre1: #[0-9]+, CONNECTING'; }
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
    local end=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -lt "$end" ]; do
        "$@" && return 0
        sleep 0.5
    done
    return 1
}

check "A: charon-systemd starts" start_charon $A
nm_start_underlay $A
conns_before=$(conns $A)

ike_ifcfg_a
check "keygen writes A's IKE_PSK" "$G" keygen "$T/a/ifcfg-gre1"
check "mirror writes B's files" ike_mirror_b
PSK=$(sed -n 's/^IKE_PSK=//p' "$T/a/keys-gre1")
check "nmcli connection import (with keys-gre1)" nmc connection import type gre file "$T/a/ifcfg-gre1"
C="System gre1"
check "autoconnect off, vpn.timeout $VPN_TMO" nmc connection modify "$C" \
    connection.autoconnect no vpn.timeout $VPN_TMO

# ---------------------------------------------------------------- 1. silent peer, Disconnect
note "1: B's daemon is not running: A's daemon tries; nmcli connection down meanwhile"
nmc --wait $((VPN_TMO + 30)) connection up "$C" >"$T/up1.out" 2>&1 &
up_pid=$!
check "A's daemon tries to reach B (IKE_SA CONNECTING)" wait_for 60 ike_trying $A
check "NetworkManager: the connection is activating" test "$(con_state "$C")" = activating
t0=$SECONDS
timeout $((VPN_TMO + 30)) nmcli --colors no connection down "$C" >"$T/down1.out" 2>&1
rc=$?
el=$((SECONDS - t0))
expect_eq "nmcli connection down succeeds" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/down1.out"
check "... and returns promptly (took $el s, at most $DOWN_MAX s)" test "$el" -le $DOWN_MAX
# NetworkManager does not wait for the service's answer to Disconnect: nmcli returns at once
# either way. What tells is the service ending the wait and unloading at once; one blocked in
# the wait does so only when the wait is over (vpn.timeout - 10 s = 80 s later).
a_clean() {
    [ "$(conns $A)" = "$conns_before" ] && ! sas $A | grep -q '^gre-gre1:' &&
        [ "$(dump $A)" = "$before" ]
}
if wait_for $DOWN_MAX a_clean; then
    ok "A's daemon and kernel as before $((SECONDS - t0)) s after the down (at most $DOWN_MAX s)"
else
    not_ok "A's daemon and kernel as before within $DOWN_MAX s of the down"
fi
wait "$up_pid"
rc=$?
check_not "the nmcli connection up that was waiting fails (exit $rc)" test "$rc" = 0
check "state: not active" wait_con_state "$C" "" 30
check "kernel: no gre1 in A" wait_gone $A gre1
same_dump "A as before (links, addresses, routes, xfrm)" "$before" "$(dump $A)"
expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"
expect_not "A's daemon: no IKE_SA of ours" '^gre-gre1:' "$(sas $A)"
service_log_has "the service's log: the wait was given up, nothing left" \
    'gre1: the wait for the CHILD_SA given up; nothing of it is left'

# ---------------------------------------------------------------- 2. export, import, PSK later
note "2: export, delete, import the exported file; the PSK supplied later"
check "B: charon-systemd starts" start_charon $B
gt $B up "$T/b/ifcfg-gre1" >"$T/upb.out" 2>&1
expect "B up: the tunnel waits for A (warning, exit 0)" 'up without an IPsec SA yet' \
    "$(cat "$T/upb.out")"
mkdir -p "$T/exp"
check "nmcli connection export" nmc connection export "$C" "$T/exp/ifcfg-gre1"
expect "the export: IPSEC=ike" '^IPSEC=ike$' "$(cat "$T/exp/ifcfg-gre1" 2>&1)"
check_not "the export holds no PSK" grep -qF "$PSK" "$T/exp/ifcfg-gre1"
check_not "the export wrote no keys file" test -e "$T/exp/keys-gre1"
check "nmcli connection delete" nmc connection delete "$C"
nmc connection import type gre file "$T/exp/ifcfg-gre1" >"$T/imp.out" 2>&1
rc=$?
expect_eq "nmcli connection import of the exported file succeeds" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/imp.out"
expect "the import says the PSK is to be supplied later" \
    'IKE_PSK: not there, so it is a secret to be supplied later' "$(cat "$T/imp.out")"
check "autoconnect off, vpn.timeout $VPN_TMO" nmc connection modify "$C" \
    connection.autoconnect no vpn.timeout $VPN_TMO
data=$(nmc -g vpn.data connection show "$C" 2>&1 | tr ',' '\n' | sed 's/^ *//')
expect "the import keeps ipsec = ike" '^ipsec = ike$' "$data"
kf=$(grep -lx "id=$C" "$NM_DIR"/connections/* 2>/dev/null | head -1)
check_not "NetworkManager's store holds no PSK" grep -qF "$PSK" "$kf"

up_out "$C"
rc=$?
check_not "nmcli connection up without the PSK fails (exit $rc)" test "$rc" = 0
note "nmcli: $(tr '\n' ' ' <"$T/up.out")"
expect "nmcli: the activation failed for want of secrets" \
    'Connection activation failed.*([Ss]ecrets|no secrets)' "$(cat "$T/up.out")"
check "state: not active" wait_con_state "$C" "" 30
same_dump "A as before (links, addresses, routes, xfrm)" "$before" "$(dump $A)"
expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"

check "the PSK set with nmcli connection modify vpn.secrets" \
    nmc connection modify "$C" vpn.secrets "ike-psk=$PSK"
up_out "$C"
rc=$?
expect_eq "nmcli connection up succeeds" 0 "$rc"
[ "$rc" = 0 ] || { sed 's/^/#   /' "$T/up.out"; nm_log_tail 25; charon_log $A; }
check "state activated" wait_con_state "$C" activated 30
expect "swanctl A: CHILD_SA gre INSTALLED, TRANSPORT" \
    '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$(sas $A)"
check "ping A -> B through the tunnel" nsping $A $B_IN
check "ping B -> A through the tunnel" nsping $B $A_IN
check "nmcli connection down" nmc connection down "$C"
check "state: not active any more" wait_con_state "$C" "" 30
check "kernel: gre1 is gone" wait_gone $A gre1
settle $A
same_dump "A after down is A before up" "$before" "$(dump $A)"
expect_eq "A's daemon: connections as before" "$conns_before" "$(conns $A)"
expect_not "A's daemon: no IKE_SA of ours" '^gre-gre1:' "$(sas $A)"

gt $B down gre1 >/dev/null 2>&1
for ns in "${!CPID[@]}"; do kill "${CPID[$ns]}" 2>/dev/null; done
finish
