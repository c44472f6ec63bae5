#!/bin/bash
# nm-gre-service's D-Bus face under hostile callers (issue 11): the service on a private system
# bus, in a network namespace of its own, as NetworkManager starts it (no --debug); dbus-face
# calls its methods with wrong types, missing and unknown keys, 1 MB strings, NUL bytes, a
# thousand routes and keys, invalid UTF-8 (see dbus-face.c). Bad input never reaches the kernel
# work, so no VM is needed; the namespace must still hold nothing but lo afterwards, and the
# service must be alive. GLib criticals abort the service (G_DEBUG=fatal-criticals): a check
# that libnm or GLib had to make for us is a crash here. With valgrind installed the service
# runs under memcheck, so every error path is also checked for leaks (definite, indirect).
# Usage (root): test-nm-dbus-face.sh PATH-TO-nm-gre-service PATH-TO-dbus-face SRCDIR
set -uo pipefail
S=$1 CLIENT=$2 SRCDIR=$3

. "$(dirname "$0")/../lib-private-bus.sh"
private_bus_netns "$0" "$@"

private_bus_setup
NAME=org.freedesktop.NetworkManager.gre.Connection_9
links_before=$(ip -o link show)

wrap=()
# Not for a sanitizer build (run-all.sh runs the unit suite under ASan too): the two do not mix.
if command -v valgrind >/dev/null && [ "${GRE_DBUS_FACE_VALGRIND:-1}" = 1 ] &&
    ! grep -qa __asan_init "$S"; then
    wrap=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30
        --suppressions="$SRCDIR/tests/valgrind.supp" --log-file="$T/valgrind.log")
fi
# As NetworkManager starts it (its peer watched, logging at NM_VPN_LOG_LEVEL to stderr), but with
# --persist: without it, libnm ends the service after every failed Connect (NetworkManager starts
# a fresh one per attempt), and here one instance must take every call.
mkdir "$T/state"
GRE_TUNNEL_STATE_DIR=$T/state G_DEBUG=fatal-criticals G_SLICE=always-malloc \
    NM_VPN_LOG_LEVEL=7 NM_VPN_LOG_SYSLOG=0 "${wrap[@]}" "$S" --persist --bus-name "$NAME" \
    >"$T/log" 2>&1 &
svc_pid=$!
for _ in $(seq 300); do
    "$CLIENT" --probe "$NAME" 2>/dev/null && break
    kill -0 "$svc_pid" 2>/dev/null || break
    sleep 0.1
done

"$CLIENT" "$NAME" | tee "$T/tap" | grep -v '^1\.\.'
n=$(grep -c '^\(not \)\?ok ' "$T/tap")
failed=$(grep -c '^not ok ' "$T/tap")
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

if kill -0 "$svc_pid" 2>/dev/null; then ok "nm-gre-service is still running"; else
    wait "$svc_pid"
    not_ok "nm-gre-service died (exit $?)"
    svc_pid=
fi
links_after=$(ip -o link show)
if [ "$links_before" = "$links_after" ]; then ok "the kernel: no link was added"; else
    not_ok "the kernel: links changed"
    diff <(echo "$links_before") <(echo "$links_after") | sed 's/^/#   /'
fi
if [ -z "$(ip xfrm state)$(ip xfrm policy)" ]; then ok "the kernel: no SA, no policy"; else
    not_ok "the kernel: SAs or policies were added"
fi
if grep -q 'up failed\|objects created' "$T/log"; then not_ok "the log shows kernel work"; else
    ok "the log shows no kernel work"
fi
long=$(awk 'length > 8192 { n++ } END { print n + 0 }' "$T/log")
if [ "$long" = 0 ]; then ok "no log line of the service is over 8 KiB"; else
    not_ok "$long log lines of the service are over 8 KiB (1 MB values logged whole)"
fi
if [ -n "$svc_pid" ]; then
    kill -TERM "$svc_pid"
    wait "$svc_pid"
    rc=$?
    svc_pid=
    if [ ${#wrap[@]} -gt 0 ]; then
        if [ $rc = 0 ]; then ok "memcheck: no error and no leak on any of these paths"; else
            not_ok "memcheck or the service failed (exit $rc)"
            sed 's/^/#   /' "$T/valgrind.log" | head -80
        fi
        lost=$(grep -E 'definitely lost:|indirectly lost:' "$T/valgrind.log" | sed 's/^==[0-9]*== *//')
        echo "# ${lost:-memcheck: all heap blocks were freed}" | tr '\n' ' '
        echo
    else
        [ $rc = 0 ] && ok "SIGTERM: the service exits 0" || not_ok "SIGTERM: exit $rc"
    fi
fi
if [ "$failed" != 0 ]; then
    tail -c 6000 "$T/log" | cut -c1-300 | sed 's/^/# log: /'
fi
echo "1..$n"
[ "$failed" = 0 ]
