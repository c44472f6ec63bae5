#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nm-gre-auth-dialog's own GTK dialog, under Xvfb: started as an agent starts it (-i, the
# connection on stdin), screenshot, a key typed in with xdotool, Return; the answer on stdout
# must hold the agent's known key and the typed one, and the dialog must wait for QUIT.
# Usage: test-auth-dialog-gui.sh PATH-TO-nm-gre-auth-dialog (run under xvfb-run)
set -euo pipefail

dialog=$1
logs=${GRE_BUILDDIR:-.}/meson-logs
# Test patterns, not secrets.
key_in=0x000102030405060708090a0b0c0d0e0f10111213
key_out=0x101112131415161718191a1b1c1d1e1f20212223

work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
chmod 700 "$work"
mkfifo "$work/in"

echo "1..3"
"$dialog" -u 2a9c4e5e-0000-4000-8000-000000000001 -n "office tunnel" \
    -s org.freedesktop.NetworkManager.gre -i <"$work/in" >"$work/out" &
pid=$!
exec 3>"$work/in"
# esp-key-in is the agent's and known; esp-key-out is never saved, so it is asked for.
printf 'DATA_KEY=%s\nDATA_VAL=%s\n\n' ipsec manual esp-key-in-flags 1 esp-key-out-flags 2 >&3
printf 'SECRET_KEY=esp-key-in\nSECRET_VAL=%s\n\n' "$key_in" >&3
printf 'DONE\n\n' >&3

win=$(timeout 20 xdotool search --sync --onlyvisible --name 'Authenticate GRE tunnel' | head -n1)
echo "ok 1 - the dialog opens (window $win)"

sleep 0.5
import -window "$win" "$logs/auth-dialog-gtk3.png"
echo "# screenshot: $logs/auth-dialog-gtk3.png"
echo "ok 2 - screenshot"

# Typed from a file, so that even a test key is not in any command line.
printf '%s' "$key_out" >"$work/typed"
xdotool windowfocus --sync "$win"
xdotool type --window "$win" --delay 40 --file "$work/typed"
xdotool key --window "$win" Return

# The answer comes before QUIT; the dialog is still running until QUIT arrives.
for _ in $(seq 50); do
    [ "$(wc -l <"$work/out")" -ge 6 ] && break
    sleep 0.1
done
kill -0 "$pid"
printf 'QUIT\n\n' >&3
exec 3>&-
wait "$pid"
pid=
expected=$(printf 'esp-key-in\n%s\nesp-key-out\n%s\n\n\n' "$key_in" "$key_out")
if [ "$(cat "$work/out")" = "$expected" ]; then
    echo "ok 3 - answer holds the known and the typed key, then ends at QUIT"
else
    # Line lengths only: even test keys stay out of logs.
    echo "not ok 3 - unexpected answer, line lengths: $(awk '{ printf "%d ", length }' "$work/out")"
    exit 1
fi
