#!/bin/bash
# Crashes and restarts while a gre connection is up (nm-gre-service(8), CRASHES AND RESTARTS).
# In A, NetworkManager with our plugin from the build tree; peer B set up by `gre-tunnel up`
# with the files `gre-tunnel mirror` made from A's:
#   1. nm-gre-service SIGKILLed while an IPsec connection is up: NM shows it down, and its
#      watchdog removes the link, the SAs and the policies within seconds.
#   2. NetworkManager stopped (SIGTERM) while it is up, then started again.
#   3. NetworkManager SIGKILLed while two are up (one with IPsec, one without), started again.
#      In 2 and 3 the service sees NM leave the bus, takes its tunnel down and exits; NM does not
#      bring a VPN connection back by itself: afterwards everything is removed, and the
#      connection comes up again on request.
#   4. the service and its watchdog both SIGKILLed: the record is orphaned, `gre-tunnel status`
#      says so with what it holds, and `gre-tunnel down NAME` removes it all.
#   5. orphaned again: the next connect of another gre connection removes it.
# Every check reads the kernel (ip link/xfrm, dumps), NetworkManager (nmcli), the processes
# (/proc) or `gre-tunnel status`; after each case A must be exactly as before the first `up`.
# Processes: a service that held a tunnel (named owner by its record, with its watchdog) must
# end when the test says; a service that never held one is idle, and is allowed to stay only
# if NetworkManager gave up on a start (its fixed 5 s): that service takes its bus name later
# and idles until its quit timer (180 s). It must own nothing: no watchdog, no record.
# (Not the services' logs: NetworkManager tells them to use syslog, which the VM has not.)
# Slow under emulation on a busy host (30 min and more): run it with GRE_VM_TIMEOUT=3600.
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/nm/test-nm-crash.sh
. "$(dirname "$0")/lib-nm.sh"

nm_skip_without_plugin

A=nmx-a B=nmx-b
nm_pair $A $B
nm_start_underlay $A

# ---- the two connections, and B's ends of them. Both run between the same outer addresses,
# so gre2 has a GRE key: its policies then select only GRE with that key, and gre1's GRE (key 7)
# passes in the clear. (Without it B's policy would demand ESP of all GRE from A, and gre1 would
# work only while gre2's out policy in A happened to encrypt gre1's packets as well.)
cat >"$T/a/ifcfg-gre2" <<'CFG'
DEVICE=gre2
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.5/30
PEER_INNER_IPADDR=198.51.100.6
KEY=8
IPSEC=manual
IPSEC_SUITE=aes256-sha256
SPI_ESP_IN=0x2001
SPI_ESP_OUT=0x2002
CFG
keys_for aes256-sha256 "$T/a" gre2
cat >"$T/a/ifcfg-gre1" <<'CFG'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
KEY=7
CFG
for n in gre1 gre2; do
    check "mirror writes B's $n" "$G" mirror -o "$T/b" "$T/a/ifcfg-$n"
    check "B: $n up (gre-tunnel)" gt $B up "$T/b/ifcfg-$n"
done
check "import the IPsec connection (ifcfg-gre2 + keys-gre2)" \
    nmc connection import type gre file "$T/a/ifcfg-gre2"
check "... named sec-gre2" nmc connection modify "System gre2" connection.id sec-gre2 \
    connection.autoconnect no
check "add the plain connection plain-gre1 (vpn.data)" \
    nmc connection add type vpn con-name plain-gre1 vpn-type gre autoconnect no \
    vpn.data "device=gre1, local=192.0.2.1, remote=192.0.2.2, inner-address=198.51.100.1/30, inner-peer=198.51.100.2, key=7"

# The device of each connection, and the services that held a tunnel since the last
# all_ended (pids, from the records' owner lines).
declare -A dev_of=([sec-gre2]=gre2 [plain-gre1]=gre1)
served=
gave_up=0
# up_active NAME INNER_PEER: up, activated, and the peer answers through it. NetworkManager
# gives a VPN service 5 s (fixed) to appear on the bus; on a busy host it may need more, and
# then one more try is made (and noted; the service it gave up on may appear later, idle).
up_active() {
    local rc
    nmc connection up "$1" >"$T/up.out" 2>&1
    rc=$?
    if [ $rc != 0 ] && grep -q 'did not start in time' "$T/up.out"; then
        note "NetworkManager gave up waiting for the service to start (its fixed 5 s): once more"
        gave_up=$((gave_up + 1))
        nmc connection up "$1" >"$T/up.out" 2>&1
        rc=$?
    fi
    if [ $rc = 0 ]; then
        ok "nmcli connection up $1"
    else
        not_ok "nmcli connection up $1"
        sed 's/^/# /' "$T/up.out"
    fi
    check "$1 activated" wait_until 60 state_is "$1" activated
    # NM may set the addresses a moment after it says "activated" (seen once on a busy host).
    check "ping B's inner $2 through $1 (within 10 s)" wait_until 10 nsping $A "$2"
    svc=$(owner_of "${dev_of[$1]}")
    expect "the record of ${dev_of[$1]} names a running nm-gre-service as owner" '^[0-9]+$' "$svc"
    expect_eq "... and that service's watchdog runs" 1 "$(watchdog_of "$svc" | wc -l)"
    served="$served $svc"
}
# owner_of DEV: the pid of the running nm-gre-service that DEV's record names as its owner.
owner_of() {
    local p
    p=$(gt $A status "$1" 2>/dev/null | sed -n "1s/^$1: owned by nm-gre-service (pid \([0-9]*\))\$/\1/p")
    [ -n "$p" ] && alive "$p" && echo "$p"
}
# alive PID: PID runs (a zombie has ended: only its parent has not collected it).
alive() { [ -r "/proc/$1/stat" ] && ! sed -E 's/.*\) //' "/proc/$1/stat" | grep -q '^[ZX]'; }
# watchdog_of PID: the watchdog service PID started (its argument is --watchdog=PID:START).
watchdog_of() {
    local w
    [ -n "$1" ] || return 0
    for w in $(watchdog_pids); do
        tr '\0' ' ' <"/proc/$w/cmdline" 2>/dev/null | grep -q -- "--watchdog=$1:" && echo "$w"
    done
}
state_is() { [ "$(con_state "$1")" = "$2" ]; }
# gre_links NS: the tunnel links in NS other than the kernel's fallback devices.
gre_links() {
    ip -n "$1" -o link show type gre 2>/dev/null | grep -v ': gre0[:@]'
    ip -n "$1" -o link show type ip6gre 2>/dev/null | grep -v ': ip6gre0[:@]'
}
# nothing_left DESC: A has no gre link, SA or policy, no record (status), and is as before.
nothing_left() {
    expect_eq "$1: no gre link in A" "" "$(gre_links $A)"
    expect_eq "$1: no SA in A" "" "$(ip -n $A xfrm state)"
    expect_eq "$1: no policy in A" "" "$(ip -n $A xfrm policy)"
    expect_eq "$1: no ownership record in A" "" "$(gt $A status 2>&1)"
    same_dump "$1: A is as before the first up" "$before" "$(dump $A)"
}
# wait_until SECONDS CMD...: poll (0.2 s) until CMD succeeds, for SECONDS of wall-clock time
# (not a number of tries: under emulation on a busy host one `ip` call can take a second).
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while ((SECONDS < end)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@" >/dev/null 2>&1
}
no_link() { ! ip -n $A link show "$1" >/dev/null 2>&1; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
no_xfrm() { [ -z "$(ip -n $A xfrm state)$(ip -n $A xfrm policy)" ]; }
# all_ended: every service that held a tunnel has ended, and no watchdog runs.
all_ended() {
    local p
    for p in $served; do alive "$p" && return 1; done
    [ -z "$(watchdog_pids)" ]
}
# only_idle DESC: all_ended, and the services still running are idle ones NetworkManager gave up
# on: allowed only after it did, and owning nothing (all_ended: no watchdog; the records are
# checked by nothing_left). Starts a new round of served services.
only_idle() {
    local p idle=
    check "$1: the services that held a tunnel and every watchdog have ended (within 60 s)" \
        wait_until 60 all_ended
    for p in $(service_pids); do alive "$p" && idle="$idle $p"; done
    if [ -n "$idle" ] && [ "$gave_up" -gt 0 ]; then
        note "$1: idle nm-gre-service still running (NetworkManager gave up on a start):$idle"
        idle=
    fi
    expect_eq "$1: no other nm-gre-service runs" "" "${idle# }"
    served=
}
stop_nm() { # stop_nm SIGNAL: NetworkManager ends; wait for it
    kill -"$1" "$_nm_pid"
    for _ in $(seq 300); do kill -0 "$_nm_pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$_nm_pid" 2>/dev/null && wait "$_nm_pid" 2>/dev/null
    return 0
}
# restart_nm: NetworkManager started again, its underlay connection active again.
restart_nm() {
    check "NetworkManager starts again" nm_run $A
    check "the underlay is active again" wait_until 60 state_is underlay activated
}

# ---------------------------------------------------------------- 1: service SIGKILLed
note "1: nm-gre-service SIGKILLed while sec-gre2 (IPsec) is up"
up_active sec-gre2 198.51.100.6
expect_eq "one watchdog runs (one tunnel is up)" 1 "$(watchdog_pids | wc -l)"
expect "status: the record names the service as its owner" \
    "^gre2: owned by nm-gre-service \\(pid $svc\\)\$" "$(gt $A status gre2 2>&1)"
expect_eq "kernel: 2 SAs while up" 2 "$(ip -n $A xfrm state | grep -c '^src')"
t0=$(date +%s.%N)
kill -KILL $svc
check "kernel: gre2 is gone within 60 s" wait_until 60 no_link gre2
check "kernel: its SAs and policies are gone within 60 s" wait_until 60 no_xfrm
note "killed -> link, SAs and policies gone: $(since $t0) s"
check "NM: sec-gre2 is not active any more (within 60 s)" wait_until 60 state_is sec-gre2 ""
only_idle "after the service's SIGKILL"
nothing_left "after the service's SIGKILL"

# ---------------------------------------------------------------- 2: NM SIGTERM
note "2: NetworkManager stopped (SIGTERM) while sec-gre2 is up, then started again"
up_active sec-gre2 198.51.100.6
t0=$(date +%s.%N)
stop_nm TERM
check_not "NetworkManager has exited" kill -0 "$_nm_pid"
note "NetworkManager took $(since $t0) s to exit"
t0=$(date +%s.%N)
check "the service takes gre2 down when NM leaves (within 60 s)" wait_until 60 no_link gre2
check "... and its SAs and policies (within 60 s)" wait_until 60 no_xfrm
note "NM exited -> link, SAs and policies gone: $(since $t0) s"
only_idle "after NM's SIGTERM"
restart_nm
sleep 5
expect_eq "NM does not bring sec-gre2 back by itself (5 s later)" "" "$(con_state sec-gre2)"
nothing_left "after NM's SIGTERM and restart"
up_active sec-gre2 198.51.100.6
check "down" nmc connection down sec-gre2
check "down: not active" wait_until 60 state_is sec-gre2 ""
only_idle "after down on the restarted NM"
nothing_left "after up and down on the restarted NM"

# ---------------------------------------------------------------- 3: NM SIGKILL
note "3: NetworkManager SIGKILLed while sec-gre2 (IPsec) and plain-gre1 (no IPsec) are up"
up_active sec-gre2 198.51.100.6
up_active plain-gre1 198.51.100.2
expect_eq "two services hold a tunnel each" 2 "$({ owner_of gre1; owner_of gre2; } | sort -u | wc -l)"
expect_eq "two watchdogs run" 2 "$(watchdog_pids | wc -l)"
t0=$(date +%s.%N)
stop_nm KILL
check "the services take gre1 down when NM is gone (within 60 s)" wait_until 60 no_link gre1
check "... and gre2 (within 60 s)" wait_until 60 no_link gre2
check "... and the SAs and policies (within 60 s)" wait_until 60 no_xfrm
note "NM killed -> links, SAs and policies gone: $(since $t0) s"
only_idle "after NM's SIGKILL"
restart_nm
sleep 5
expect_eq "NM does not bring sec-gre2 back by itself (5 s later)" "" "$(con_state sec-gre2)"
expect_eq "plain-gre1 is not active either" "" "$(con_state plain-gre1)"
nothing_left "after NM's SIGKILL and restart"
up_active plain-gre1 198.51.100.2
check "down" nmc connection down plain-gre1
check "down: not active" wait_until 60 state_is plain-gre1 ""
only_idle "after down on the restarted NM"
nothing_left "after up and down on the restarted NM"

# ---------------------------------------------------------------- 4: orphaned record
# kill_both: the watchdog first, then the service: nothing is left to clean up.
kill_both() {
    svc=$(owner_of gre2)
    wd=$(watchdog_of "$svc")
    expect "gre2's service and its watchdog" '^[0-9]+ [0-9]+$' "$(echo $svc $wd)"
    kill -KILL $wd
    kill -KILL $svc
    check "NM: sec-gre2 is not active any more" wait_until 60 state_is sec-gre2 ""
    only_idle "both killed"
}
note "4: the service and its watchdog SIGKILLed while sec-gre2 is up"
up_active sec-gre2 198.51.100.6
kill_both
check "kernel: gre2 is still there (nothing could remove it)" ip -n $A link show gre2
expect_eq "kernel: and its 2 SAs" 2 "$(ip -n $A xfrm state | grep -c '^src')"
st=$(gt $A status 2>&1)
expect "status: gre2 is orphaned, its owner named" \
    "^gre2: orphaned: its owner nm-gre-service \\(pid $svc\\) is gone; .*gre-tunnel down gre2" "$st"
expect "status: what it holds: the link" '^  link gre2: gre, ' "$st"
expect "status: ... the outbound SA" '^  .*0x00002002.*: [0-9]+ bytes' "$st"
expect "status: ... the out policy" '^  xfrm policy out 192\.0\.2\.1 > 192\.0\.2\.2 proto gre key 8: present$' "$st"
check "gre-tunnel down gre2" gt $A down gre2
nothing_left "after down of the orphan"

# ---------------------------------------------------------------- 5: reclaimed at next connect
note "5: orphaned again; the next connect of another gre connection removes it"
up_active sec-gre2 198.51.100.6
kill_both
expect "status: gre2 is orphaned" '^gre2: orphaned: ' "$(gt $A status gre2 2>&1)"
up_active plain-gre1 198.51.100.2
check_not "kernel: gre2 is gone" ip -n $A link show gre2
expect_eq "kernel: no SA or policy of gre2 left" "" "$(ip -n $A xfrm state)$(ip -n $A xfrm policy)"
expect "status: gre1 is the only record, owned by its service" \
    '^gre1: owned by nm-gre-service \(pid [0-9]+\)$' "$(gt $A status 2>&1 | grep -v '^ ')"
check "down" nmc connection down plain-gre1
check "down: not active" wait_until 60 state_is plain-gre1 ""
only_idle "at the end"
nothing_left "at the end"
finish
