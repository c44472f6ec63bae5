#!/bin/bash
# The gre-tunnel CLI as a user meets it: exit codes, --help on every command, bad input refused
# with the file, line and key named, and mirror/check round trips on the examples.
# Usage: test-cli.sh PATH-TO-gre-tunnel
set -uo pipefail
G=$1
SRC=${GRE_SRCDIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
expect() { # expect DESCRIPTION WANT_RC WANT_OUTPUT_SUBSTRING -- CMD...
    local desc=$1 want_rc=$2 want_out=$3 out rc
    shift 4
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" = "$want_rc" ] && [[ "$out" == *"$want_out"* ]]; then
        ok "$desc"
    else
        not_ok "$desc (rc=$rc, want $want_rc; output: ${out:0:300})"
    fi
}

cp "$SRC"/tests/data/examples/* "$T"/
chmod 600 "$T"/keys-*

expect "no arguments is a usage error" 2 "Usage: gre-tunnel COMMAND" -- "$G"
expect "--help" 0 "Commands:" -- "$G" --help
expect "unknown command" 2 'unknown command "frobnicate"' -- "$G" frobnicate
for cmd in up down status plan check mirror mtu; do
    expect "$cmd --help" 0 "gre-tunnel $cmd" -- "$G" "$cmd" --help
done
expect "plan without CONFIG" 2 "wrong number of arguments" -- "$G" plan
expect "plan with an unknown option" 2 "Unknown option" -- "$G" plan --frob "$T/ifcfg-office"
expect "plan of a missing file" 1 "$T/ifcfg-nope" -- "$G" plan "$T/ifcfg-nope"
expect "plan masks keys" 0 "<secret:32-bytes>" -- "$G" plan -u 1500 "$T/ifcfg-branch"
expect "plan for a given path MTU" 0 "MTU 1418 (underlay 1492)" -- "$G" plan -u 1492 "$T/ifcfg-pppoe"
expect "plan: explicit MTU too big for the path" 1 "MTU 1400 does not fit: the underlay MTU is 1380" -- "$G" plan -u 1380 "$T/ifcfg-legacy"
key=$(sed -n 's/^KEY_ESP_OUT=0x//p' "$T/keys-branch")
if "$G" plan -u 1500 "$T/ifcfg-branch" | grep -q "$key"; then not_ok "masked plan leaks a key"; else ok "masked plan leaks no key"; fi
expect "plan --show-secrets shows them" 0 "$key" -- "$G" plan -u 1500 --show-secrets "$T/ifcfg-branch"
expect "plan --down" 0 "ip link delete office" -- "$G" plan --down "$T/ifcfg-office"
# IPSEC=ike: the plan loads a PSK and a connection into charon, masked; no xfrm objects of ours.
psk=$(sed -n 's/^IKE_PSK=//p' "$T/keys-ike")
expect "ike plan masks the PSK" 0 "secret = <secret:${#psk}-bytes>" -- "$G" plan -u 1500 "$T/ifcfg-ike"
# Both need a plan that was made: an empty output would pass them.
if ike_plan=$("$G" plan -u 1500 "$T/ifcfg-ike") && [[ "$ike_plan" != *"$psk"* ]]; then ok "ike plan leaks no PSK"; else not_ok "ike plan leaks the PSK, or failed"; fi
expect "ike plan --show-secrets shows the PSK" 0 "secret = \"$psk\"" -- "$G" plan -u 1500 --show-secrets "$T/ifcfg-ike"
# The daemon owns the SAs and their policies; ours are only the block policies under them.
if [[ "$ike_plan" == *"load-conn"* && "$ike_plan" != *"ip xfrm state"* && "$ike_plan" != *" tmpl "* ]]; then ok "ike plan has no SAs or ESP policies of its own"; else not_ok "ike plan has SAs or ESP policies of its own, or no connection"; fi
expect "ike plan: block policies that outlive the daemon" 0 "dir in mark 1 mask 1 priority 1000000 action block" -- "$G" plan -u 1500 "$T/ifcfg-ike"
expect "ike plan: a GRE-only transport child, trapped" 0 "local_ts = 192.0.2.30/32[gre]" -- "$G" plan -u 1500 "$T/ifcfg-ike"
expect "ike plan --down unloads what it loads" 0 "unload-shared gre-hq" -- "$G" plan --down "$T/ifcfg-ike"
# The same exact MTU as manual keying with the same suite (aes256gcm16, the ike default).
want_mtu=$("$G" mtu --ipsec aes256gcm16 --key -u 1492)
expect "ike mtu equals manual's with its suite ($want_mtu)" 0 "$want_mtu" -- "$G" mtu -u 1492 "$T/ifcfg-ike"
# up without the IKE daemon: a system error (3) naming the socket and the package to install.
expect "ike up without charon names the package" 3 "charon-systemd" -- "$G" up "$T/ifcfg-ike"
expect "ike up without charon names the socket" 3 "IKE daemon at /run/charon.vici" -- "$G" up "$T/ifcfg-ike"
if ip link show hq >/dev/null 2>&1; then not_ok "ike up left a link"; else ok "ike up left no link"; fi
expect "mtu of a config" 0 "1418" -- "$G" mtu "$T/ifcfg-pppoe"
expect "mtu --explain" 0 "ESP trailer" -- "$G" mtu --explain "$T/ifcfg-pppoe"
expect "mtu from flags" 0 "1418" -- "$G" mtu --ipsec aes256-sha256 --underlay-mtu 1492
# Every suite is computed, the AEAD ones too (for IKE keying), and --explain says so.
expect "mtu from flags, an AEAD suite" 0 "1434" -- "$G" mtu --ipsec aes128gcm16 --underlay-mtu 1492
expect "mtu --explain of an AEAD suite says what it is for" 0 \
    "chacha20poly1305 is for IKE keying: with IPSEC=manual (static keys) only aes128-sha256," -- \
    "$G" mtu --explain --ipsec chacha20poly1305
expect "mtu with a key" 0 "1464" -- "$G" mtu --key -u 1492
expect "mtu for ip6gre" 0 "1448" -- "$G" mtu --ipv6
expect "mtu unknown suite" 2 "unknown suite" -- "$G" mtu --ipsec des
expect "mtu underlay out of range" 2 "from 68 to 65535" -- "$G" mtu -u 20
expect "mtu flags with CONFIG" 2 "without CONFIG" -- "$G" mtu --key "$T/ifcfg-office"
expect "check of mismatched ends" 1 "mismatch: MY_OUTER_IPADDR" -- "$G" check "$T/ifcfg-branch" "$T/ifcfg-office"

# Every example: its mirror checks out, and the mirror of the mirror is the example again.
for f in "$T"/ifcfg-*; do
    name=${f##*/ifcfg-}
    mkdir -p "$T/m-$name" "$T/mm-$name"
    dev=$(sed -n 's/^DEVICE=//p' "$f")
    # Plans are made for a 1500-byte path whatever this host's own route to the remote has.
    if "$G" mirror -o "$T/m-$name" "$f" >/dev/null && "$G" check "$f" "$T/m-$name/ifcfg-$dev" >/dev/null \
        && "$G" mirror -o "$T/mm-$name" "$T/m-$name/ifcfg-$dev" >/dev/null \
        && "$G" plan -u 1500 --show-secrets "$f" >"$T/p1" \
        && "$G" plan -u 1500 --show-secrets "$T/mm-$name/ifcfg-$dev" >"$T/p2" \
        && diff "$T/p1" "$T/p2" >/dev/null; then
        ok "mirror round trip of $name"
    else
        not_ok "mirror round trip of $name"
    fi
    if [ -f "$T/m-$name/keys-$dev" ]; then
        mode=$(stat -c %a "$T/m-$name/keys-$dev")
        [ "$mode" = 600 ] && ok "mirror keys file of $name is 0600" || not_ok "keys mode $mode"
    fi
done
# The peer's PSK is this end's, in its keys file only.
if grep -qxF "IKE_PSK=$psk" "$T/m-ike/keys-hq" && ! grep -q IKE_PSK "$T/m-ike/ifcfg-hq"; then
    ok "mirror of ike puts the PSK into the peer's keys file only"
else
    not_ok "mirror of ike: PSK not (only) in keys-hq"
fi
expect "mirror of ike swaps the identities" 0 "IKE_REMOTE_ID=lab-a.example.org" -- cat "$T/m-ike-v6/ifcfg-lab6"
expect "mirror does not overwrite" 1 "already exists" -- "$G" mirror -o "$T/m-branch" "$T/ifcfg-branch"
expect "mirror --force overwrites" 0 "wrote" -- "$G" mirror --force -o "$T/m-branch" "$T/ifcfg-branch"
expect "mirror prints without -o, no secrets" 0 "# keys-branch holds the IPsec keys" -- "$G" mirror "$T/ifcfg-branch"

# A keys file others can read is refused, and nothing else happens.
chmod 644 "$T/keys-branch"
expect "keys file mode 0644 refused" 1 "readable by group or others (mode 0644); run: chmod 600" -- "$G" plan "$T/ifcfg-branch"
chmod 600 "$T/keys-branch"

# The bad corpus through the CLI: exit 1, and the message starts with the file it names.
mkdir "$T/bad"
cp "$SRC"/tests/data/bad/* "$T/bad/"
for f in "$T"/bad/keys-*; do case $f in *perm*) ;; *) chmod 600 "$f" ;; esac; done
bad_total=0 bad_ok=0
for f in "$T"/bad/ifcfg-*; do
    bad_total=$((bad_total + 1))
    out=$("$G" plan "$f" 2>&1)
    rc=$?
    if [ "$rc" = 1 ] && [[ "$out" == "gre-tunnel: $T/bad/"* ]]; then
        bad_ok=$((bad_ok + 1))
    else
        echo "# $f: rc=$rc: $out"
    fi
done
[ "$bad_ok" = "$bad_total" ] && [ "$bad_total" -ge 50 ] && ok "$bad_total bad files refused with exit 1" \
    || not_ok "bad files: $bad_ok of $bad_total refused properly"

# route-NAME and route6-NAME beside the ifcfg file are the tunnel's too, as ifup-gre reads them:
# `up`, `plan` and `--all` must not make a tunnel without the routes the boot scripts would add.
R=$T/routes
mkdir "$R"
cp "$T/ifcfg-office" "$R/"
printf '# far office printers\n192.0.2.128/26 via 203.0.113.2\n' >"$R/route-office"
expect "plan adds route-NAME's routes" 0 "ip route add 192.0.2.128/26 dev office" -- "$G" plan -u 1500 "$R/ifcfg-office"
expect "plan keeps ROUTES too" 0 "ip route add 203.0.113.128/25 dev office" -- "$G" plan -u 1500 "$R/ifcfg-office"
expect "plan --all adds route-NAME's routes" 0 "ip route add 192.0.2.128/26 dev office" -- "$G" plan --all -u 1500 "$R"
printf '192.0.2.128/26 table 7\n' >"$R/route-office"
expect "plan: a bad route-NAME is named by file and line" 1 "$R/route-office:1: \"table\" is not supported" -- "$G" plan -u 1500 "$R/ifcfg-office"
expect "up: a bad route-NAME fails before the kernel" 1 "$R/route-office:1:" -- "$G" up "$R/ifcfg-office"
if ip link show office >/dev/null 2>&1; then not_ok "up with a bad route-NAME left a link"; else ok "up with a bad route-NAME left no link"; fi

echo "1..$n"
[ "$failed" = 0 ]
