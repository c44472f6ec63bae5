#!/bin/bash
# The generated man pages against the settings table: gre-tunnel-settings(5) documents every key
# once (under its ifcfg name, with its NetworkManager and ifupdown names), and nothing else;
# gre-tunnel(8) documents every command of gre-tunnel --help.
# Usage: test-man.sh GRE-MAN GRE-TUNNEL SETTINGS-PAGE GRE-TUNNEL-PAGE
set -uo pipefail
MAN=$1 G=$2 SETTINGS=$3 PAGE=$4
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# troff escapes as gre-man writes them: "\-" for "-", and "\%" in front of bold names.
plain() { sed -e 's/\\%//g' -e 's/\\-/-/g' "$1"; }

mapfile -t keys < <("$MAN" --keys)
[ "${#keys[@]}" -gt 0 ] || { echo "Bail out! gre-man --keys printed nothing"; exit 1; }

# The entries of the SETTINGS section: the ".B NAME" line after each ".TP".
mapfile -t documented < <(plain "$SETTINGS" | awk '
    /^\.SH / { in_settings = ($2 == "SETTINGS") }
    in_settings && prev == ".TP" && /^\.B / { print $2 }
    { prev = $0 }')

if [ "${#documented[@]}" = "${#keys[@]}" ]; then
    ok "gre-tunnel-settings(5) has ${#keys[@]} entries, as many as the settings table has keys"
else
    not_ok "gre-tunnel-settings(5) has ${#documented[@]} entries, the settings table ${#keys[@]} keys"
fi
missing=() extra=()
for k in "${keys[@]}"; do
    c=$(printf '%s\n' "${documented[@]}" | grep -cx -- "$k")
    [ "$c" = 1 ] || missing+=("$k($c)")
done
for d in "${documented[@]}"; do
    grep -qx -- "$d" <<<"$(printf "%s\n" "${keys[@]}")" || extra+=("$d")
done
if [ ${#missing[@]} = 0 ] && [ ${#extra[@]} = 0 ]; then
    ok "every key is documented exactly once, and nothing else"
else
    not_ok "keys not documented exactly once: ${missing[*]:-none}; entries that are not keys: ${extra[*]:-none}"
fi

# Every entry names the key for NetworkManager and ifupdown.
bad=$(plain "$SETTINGS" | awk '
    /^\.SH / { in_settings = ($2 == "SETTINGS") }
    in_settings && prev == ".TP" && /^\.B / { if (key != "" && !seen) print key; key = $2; seen = 0 }
    in_settings && /^NetworkManager: \\fB[a-z0-9-]+\\fR .*; ifupdown: / { seen = 1 }
    { prev = $0 }
    END { if (key != "" && !seen) print key }')
if [ -z "$bad" ]; then
    ok "every entry gives the NetworkManager and ifupdown names"
else
    not_ok "entries without NetworkManager or ifupdown names: $bad"
fi

# gre-tunnel(8): each command of "gre-tunnel --help" has an entry under COMMANDS.
mapfile -t commands < <(LC_ALL=C LANGUAGE= "$G" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
page=$(plain "$PAGE")
missing=()
for c in "${commands[@]}"; do
    grep -Eq "^\.(B|BI|BR) $c( |\$)" <<<"$page" || missing+=("$c")
done
if [ ${#commands[@]} -ge 7 ] && [ ${#missing[@]} = 0 ]; then
    ok "gre-tunnel(8) documents all ${#commands[@]} commands (${commands[*]})"
else
    not_ok "gre-tunnel(8): commands ${commands[*]:-none}; undocumented: ${missing[*]:-none}"
fi

echo "1..$n"
[ "$failed" = 0 ]
