#!/bin/bash
# nm-gre-service's watchdog (`nm-gre-service --watchdog=PID:START`, started by the service
# itself), run here by hand in a throwaway network namespace, with a stand-in for the service:
# a process that holds the only write end of the watchdog's pipe. When that process is SIGKILLed
# the watchdog removes the objects of the records it owned (a route on lo: a kernel object any
# kernel has) and those records, and nothing of anyone else's. Runs without GRE or ESP; the
# watchdog under a real NetworkManager is tests/nm/test-nm-crash.sh.
# Usage: test-nm-watchdog.sh PATH-TO-nm-gre-service PATH-TO-gre-tunnel
set -uo pipefail
S=$1 G=$2
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
check() { # check DESCRIPTION CMD...
    local desc=$1
    shift
    if "$@" >"$T/check.out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/# /' "$T/check.out" | head -10; fi
}
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "# expected '$2', got '$3'"; fi; }

if [ -z "${GRE_IN_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] || skip_all "needs root (a network namespace)"
    unshare -n true 2>/dev/null || skip_all "cannot create a network namespace"
    exec env GRE_IN_NETNS=1 unshare -n bash "$0" "$@"
fi

T=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
export GRE_TUNNEL_STATE_DIR=$T/state
ip link set lo up

# start_of PID: field 22 of /proc/PID/stat (after the command name, which may hold blanks).
start_of() { sed -E 's/.*\) //' "/proc/$1/stat" | cut -d' ' -f20; }
# record NAME METRIC OWNER-LINE-OR-EMPTY: a record of one route 203.0.113.0/24 dev lo, and that
# route in the kernel.
record() {
    ip route add 203.0.113.0/24 dev lo proto static metric "$2"
    {
        printf 'version=1\nname=%s\nsecrets=none\n' "$1"
        [ -n "$3" ] && printf 'owner=%s\n' "$3"
        printf 'step=route dst=203.0.113.0/24 dev=lo via=- src=- metric=%s table=main proto=static pin=no\n' "$2"
    } >"$D/$1.state"
    chmod 600 "$D/$1.state"
}
owner_of() { # owner_of PID: the owner line nm-gre-service would write for PID
    echo "nm-gre-service pid=$1 start=$(start_of "$1") boot=$(cat /proc/sys/kernel/random/boot_id) pidns=$(stat -L -c %i /proc/self/ns/pid)"
}
routes() { ip route show 203.0.113.0/24 | sed -n 's/.* metric \([0-9]*\).*/\1/p' | sort -n | tr '\n' ' '; }
wait_until() { # wait_until SECONDS CMD...
    local i secs=$1
    shift
    for ((i = 0; i < secs * 10; i++)); do "$@" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

"$G" down nothing >/dev/null 2>&1 # makes this namespace's record directory
D=$(ls -d "$GRE_TUNNEL_STATE_DIR"/netns-* 2>/dev/null | head -1)
[ -d "$D" ] || { echo "Bail out! no record directory under $GRE_TUNNEL_STATE_DIR"; exit 1; }

# The stand-in service: it holds the pipe's write end (opening a FIFO waits for the other end).
mkfifo "$T/pipe"
sleep 1000 3>"$T/pipe" &
svc=$!
pids+=("$svc")
until [ -e "/proc/$svc/stat" ]; do sleep 0.05; done
record mine 10 "$(owner_of "$svc")"
record admin 20 ""
record other 30 "$(owner_of $$)"
"$S" --watchdog="$svc:$(start_of "$svc")" 3<"$T/pipe" 2>"$T/wd.log" &
wd=$!
pids+=("$wd")
expect_eq "three routes, one per record" "10 20 30 " "$(routes)"
wait_until 10 test "$(cat "/proc/$wd/comm" 2>/dev/null)" = nm-gre-watchdog
expect_eq "the watchdog is called nm-gre-watchdog" nm-gre-watchdog "$(cat "/proc/$wd/comm" 2>/dev/null)"
kill -TERM "$wd" 2>/dev/null
sleep 0.5
check "it ignores SIGTERM (it ends when its service does)" kill -0 "$wd"
expect_eq "while the service runs, nothing is removed" "10 20 30 " "$(routes)"
expect_eq "status: the service's record is owned by it" "mine: owned by nm-gre-service (pid $svc)" \
    "$("$G" status mine 2>&1 | head -1)"

kill -KILL "$svc"
wait "$svc" 2>/dev/null
check "the watchdog ends within 10 s of the service's SIGKILL" wait_until 10 test ! -e "/proc/$wd"
wait "$wd"
expect_eq "... with status 0" 0 "$?"
expect_eq "its service's route is gone, the others stay" "20 30 " "$(routes)"
check "its service's record is gone" test ! -e "$D/mine.state"
check "the admin's record stays" test -e "$D/admin.state"
check "another owner's record stays" test -e "$D/other.state"
check "its log names what it removed" \
    grep -q 'watchdog: mine: removed what it held: its owner nm-gre-service (pid [0-9]*) is gone' "$T/wd.log"

# Run by hand without the pipe: refused, nothing removed.
sleep 1000 &
svc=$!
pids+=("$svc")
until [ -e "/proc/$svc/stat" ]; do sleep 0.05; done
record mine 10 "$(owner_of "$svc")"
kill -KILL "$svc"
wait "$svc" 2>/dev/null
out=$("$S" --watchdog="$svc:$(start_of $$)" 3</dev/null 2>&1)
rc=$?
if [ $rc = 1 ] && [[ $out == *"descriptor 3 is not the pipe"* ]]; then
    ok "--watchdog without the service's pipe is refused"
else
    not_ok "--watchdog without the service's pipe is refused (rc=$rc: ${out:0:200})"
fi
out=$("$S" --watchdog=12x 2>&1)
rc=$?
if [ $rc = 1 ] && [[ $out == *"not PID:START"* ]]; then ok "--watchdog=12x is refused"; else not_ok "--watchdog=12x (rc=$rc: ${out:0:200})"; fi
expect_eq "... and nothing was removed" "10 20 30 " "$(routes)"
# What the watchdog would have done is left to status and down: an orphan.
st=$("$G" status mine 2>&1)
if [[ $st == "mine: orphaned: its owner nm-gre-service (pid $svc) is gone;"*"gre-tunnel down mine"* &&
    $st == *"route 203.0.113.0/24 dev lo: present"* ]]; then
    ok "status: the record is orphaned, with its route present"
else
    not_ok "status: orphaned (${st:0:300})"
fi
check "gre-tunnel down mine" "$G" down mine
expect_eq "down removed its route" "20 30 " "$(routes)"
check "... and its record" test ! -e "$D/mine.state"

echo "1..$n"
[ "$failed" = 0 ]
