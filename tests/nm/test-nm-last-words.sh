#!/bin/bash
# nm-gre-service's last words: a connection whose kernel work fails (a foreign link already has
# the tunnel's name) must reach the caller as a Failure and the state "stopped" *before* the
# service's bus name goes away. libnm asks the service to quit from inside its change to
# "stopped", while those signals are still queued for GDBus's writer thread; a service that
# exits without flushing loses them, and NetworkManager, which takes the failure's reason from
# them, tells the user only "The VPN service stopped unexpectedly" (seen in test-nm-ike under
# load). ROUNDS services (default 20) are started one after another, each pinned to one CPU
# where taskset exists (the writer thread then has to wait for the main thread, which is when
# the race shows), on a private system bus in a network namespace of the build host: no VM,
# whatever the kernel (the link request fails with "File exists" with or without GRE).
# Usage (root): test-nm-last-words.sh NM-GRE-SERVICE LAST-WORDS
set -uo pipefail
S=$1 CLIENT=$2
ROUNDS=${ROUNDS:-20}

. "$(dirname "$0")/../lib-private-bus.sh"
private_bus_netns "$0" "$@"

private_bus_setup

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

# The underlay (a route to the remote from the local address) and the foreign link named lw1.
ip link set lo up
ip link add under type veth peer name under-p
ip addr add 192.0.2.1/24 dev under
ip link set under up
ip link set under-p up
ip link add lw1 type veth peer name lw1-p
mkdir "$T/state"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

owner_of() {
    gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.GetNameOwner "$1" >/dev/null 2>&1
}

lost=0 failures=0
for i in $(seq "$ROUNDS"); do
    name=org.freedesktop.NetworkManager.gre.Connection_$i
    GRE_TUNNEL_STATE_DIR=$T/state NM_VPN_LOG_LEVEL=3 "${pin[@]}" "$S" --bus-name "$name" \
        >"$T/log" 2>&1 &
    svc_pid=$!
    for _ in $(seq 100); do owner_of "$name" && break; sleep 0.1; done
    heard=$("$CLIENT" "$name" lw1)
    wait "$svc_pid"
    rc=$?
    svc_pid=
    echo "# round $i: $heard (service exit $rc)"
    case " $heard " in *" failure:"*) ;; *) failures=$((failures + 1)) ;; esac
    # Everything must come before "gone": the stop, and the failure reported with it.
    case " $heard " in *" state:6 gone "*) ;; *) lost=$((lost + 1)) ;; esac
done
[ "$failures" = 0 ] && ok "every round: the service reported a Failure" ||
    not_ok "$failures of $ROUNDS rounds: no Failure reached the caller"
[ "$lost" = 0 ] && ok "every round: \"stopped\" arrived before the service's name went away" ||
    not_ok "$lost of $ROUNDS rounds: the service quit before its last signals were sent"
if grep -q 'up failed: .*File exists' "$T/log"; then ok "the service's log: the kernel's refusal"
else
    not_ok "the service's log does not show the refused link"
    sed 's/^/# log: /' "$T/log" | tail -5
fi
if ip -d -o link show lw1 | grep -q " veth "; then ok "the foreign lw1 is untouched"; else
    not_ok "lw1 was changed or removed"
fi
echo "1..$n"
[ "$failed" = 0 ]
