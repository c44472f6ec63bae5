#!/bin/bash
# gre-tunnel up/down/plan --all without a kernel: argument errors, which files of a directory
# are read (network-scripts' rules: backups, aliases, ranges, ifcfg-lo and files of other device
# types are left alone), a broken file named with file, line and key while the others are still
# planned, the order, instances of gre-tunnel@.service that are enabled, and the unit
# gre-tunnel-all.service (systemd-analyze verify when it is there).
# Usage: test-all-cli.sh PATH-TO-gre-tunnel PATH-TO-gre-tunnel-all.service
set -uo pipefail
G=$1 UNIT=$2
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
        not_ok "$desc (rc=$rc, want $want_rc; output: ${out:0:400})"
    fi
}
has() { [[ "$2" == *"$1"* ]]; }

# ifcfg NAME [EXTRA-LINE...]: a plain GRE tunnel in $T/d, with a fixed local address so that no
# route is needed.
D=$T/d
mkdir -p "$D"
ifcfg() {
    local name=$1 i=$2
    shift 2
    {
        echo "DEVICE=$name"
        echo "TYPE=gre"
        echo "DEVICETYPE=gre"
        echo "MY_OUTER_IPADDR=192.0.2.1"
        echo "PEER_OUTER_IPADDR=192.0.2.$((100 + i))"
        echo "MY_INNER_IPADDR=198.51.100.$((2 * i))/31"
        echo "KEY=$((1000 + i))"
        for l in "$@"; do echo "$l"; done
    } >"$D/ifcfg-$name"
}

# ---- arguments ----
expect "up --all with two directories is a usage error" 2 "up --all takes at most one DIR" -- \
    "$G" up --all "$D" "$D"
expect "down --all with two directories is a usage error" 2 "down --all takes at most one DIR" -- \
    "$G" down --all "$D" "$D"
expect "plan --all with two directories is a usage error" 2 "wrong number of arguments" -- \
    "$G" plan --all "$D" "$D"
expect "plan --all --down is refused" 2 "--all and --down" -- "$G" plan --all --down "$D"
expect "up without CONFIG or --all is a usage error" 2 "up takes one CONFIG" -- "$G" up
expect "up --all of a missing directory names it" 1 "cannot read the directory $T/nope" -- \
    "$G" up --all "$T/nope"
expect "up --all checks --ike-timeout as up does" 2 "--ike-timeout takes 1 to 3600 seconds" -- \
    "$G" up --all --ike-timeout 0 "$T/nope"
expect "down --all of a missing directory names it" 1 "cannot read the directory $T/nope" -- \
    "$G" down --all "$T/nope"
expect "up --help shows --all" 0 "--all" -- "$G" up --help
expect "down --help shows --all" 0 "--all" -- "$G" down --help
expect "an empty directory: nothing to do" 0 "# 0 planned, 0 failed" -- "$G" plan --all "$D"

# ---- which files, in which order, and a broken one ----
ifcfg spoke1 1
ifcfg spoke2 2
ifcfg spoke10 10
ifcfg hub 20
ifcfg bad 30 "TTL=sixty"
ifcfg off 40 "ONBOOT=no"
ifcfg maybe 41 "ONBOOT=perhaps"
ifcfg zdup 42
sed -i 's/^DEVICE=.*/DEVICE=hub/' "$D/ifcfg-zdup" # the same device as ifcfg-hub
ifcfg keyed 43 "IPSEC=manual" "SPI_ESP_IN=0x1001" "SPI_ESP_OUT=0x1002"
printf 'KEY_ESP_IN=0x%064d\nKEY_ESP_OUT=0x%064d\nKEY_AESP_IN=0x%064d\nKEY_AESP_OUT=0x%064d\n' 1 2 3 4 \
    >"$D/keys-keyed"
chmod 644 "$D/keys-keyed" # others can read it: refused, as for a single up
# Not ours, each naming a device that must never be planned.
for f in ifcfg-spoke1.bak ifcfg-spoke1~ ifcfg-spoke1.old ifcfg-spoke1.orig ifcfg-spoke1.rpmnew \
    ifcfg-spoke1.rpmorig ifcfg-spoke1.rpmsave ifcfg-spoke1:0 ifcfg-spoke1-range0 ifcfg-lo; do
    sed "s/^DEVICE=.*/DEVICE=ghost${#f}/" "$D/ifcfg-spoke1" >"$D/$f"
done
printf 'DEVICE=eth0\nTYPE=Ethernet\nBOOTPROTO=dhcp\n' >"$D/ifcfg-eth0"
printf 'DEVICE=gre9\nTYPE=GRE\nPEER_OUTER_IPADDR=192.0.2.9\n' >"$D/ifcfg-gre9" # ifup-tunnel's
printf 'DEVICE=weird\nexport X=$(id)\n' >"$D/ifcfg-weird"                      # bash's
printf 'DEVICE=brokenq\nDEVICETYPE=gre\nTTL="64\n' >"$D/ifcfg-brokenq"          # ours, unreadable

# -u: the MTUs do not depend on this host's routes.
out=$("$G" plan -u 1500 --all "$D" 2>&1)
rc=$?
if [ "$rc" = 1 ]; then ok "plan --all with bad files exits 1"; else not_ok "plan --all exits $rc, not 1"; fi
if has "$D/ifcfg-bad:8: TTL: \"sixty\"" "$out"; then ok "the broken file is named with line and key"; else not_ok "broken file not named: ${out:0:600}"; fi
if has "$D/keys-keyed" "$out" && has "keyed" "$(grep 'failed:' <<<"$out")"; then
    ok "a keys file others can read is refused, named"
else
    not_ok "keys-keyed not refused: ${out:0:600}"
fi
if has "$D/ifcfg-zdup:1: DEVICE: hub is also the device of $D/ifcfg-hub" "$out"; then
    ok "a second file for the same device is named"
else
    not_ok "duplicate device not named"
fi
if has "$D/ifcfg-brokenq:3" "$out"; then ok "a file of ours our reader refuses is named"; else not_ok "brokenq not named"; fi
if has "ONBOOT: \"perhaps\" is neither yes nor no" "$out" && has "# maybe:" "$out"; then
    ok "ONBOOT neither yes nor no: a warning, taken as yes"
else
    not_ok "ONBOOT=perhaps: no warning or not taken"
fi
if grep -qE 'ghost|eth0|gre9|weird|# off:' <<<"$out"; then
    not_ok "a file that is not up --all's was read: $(grep -E 'ghost|eth0|gre9|weird|# off:' <<<"$out" | head -3)"
else
    ok "backups, aliases, ranges, ifcfg-lo, other types and ONBOOT=no are left alone"
fi
order=$(sed -n 's/^# \([a-z0-9]*\): gre .*/\1/p' <<<"$out" | tr '\n' ' ')
if [ "$order" = "hub maybe spoke1 spoke2 spoke10 " ]; then
    ok "network-scripts' order: hub maybe spoke1 spoke2 spoke10"
else
    not_ok "order: $order"
fi
if has "# 5 planned, 4 failed: bad, brokenq, keyed, zdup" "$out"; then
    ok "the summary counts and names the failures"
else
    not_ok "summary: $(tail -1 <<<"$out")"
fi
if grep -q '^ip link add spoke10 mtu 1472 type gre local 192.0.2.1 remote 192.0.2.110 ikey 1010 okey 1010 ' <<<"$out"; then
    ok "each tunnel's plan is the same as plan CONFIG gives"
else
    not_ok "spoke10's plan line missing"
fi
single=$("$G" plan -u 1500 "$D/ifcfg-spoke2" 2>&1)
if has "$single" "$out"; then ok "plan --all holds plan CONFIG's output verbatim"; else not_ok "plan --all differs from plan"; fi

# ---- one front end per tunnel: an enabled gre-tunnel@NAME ----
mkdir -p "$T/units/multi-user.target.wants"
ln -s /dev/null "$T/units/multi-user.target.wants/gre-tunnel@spoke2.service"
out=$(GRE_TUNNEL_UNIT_DIRS=$T/units "$G" plan --all "$D" 2>&1)
if has "spoke2: skipped: gre-tunnel@spoke2.service is enabled" "$out" && ! has "# spoke2:" "$out"; then
    ok "a tunnel enabled as gre-tunnel@spoke2 is skipped, and says so"
else
    not_ok "gre-tunnel@spoke2 not skipped: ${out:0:300}"
fi
# ---- with the bad files gone ----
rm -f "$D"/ifcfg-bad "$D"/ifcfg-brokenq "$D"/ifcfg-zdup "$D"/ifcfg-keyed
out=$("$G" plan --all "$D" 2>&1)
if [ "$(tail -1 <<<"$out")" = "# 5 planned, 0 failed" ]; then ok "all good: 0 failed"; else not_ok "summary: $(tail -1 <<<"$out")"; fi

# ---- the unit ----
unit=$(cat "$UNIT")
for want in "Type=oneshot" "RemainAfterExit=yes" "After=network-online.target" \
    "After=strongswan.service" "Wants=network-online.target" "WantedBy=multi-user.target"; do
    if grep -qxF "$want" <<<"$unit"; then ok "unit: $want"; else not_ok "unit lacks $want"; fi
done
if grep -qE '^ExecStart=/.*/gre-tunnel up --all /' <<<"$unit" &&
    grep -qE '^ExecStop=/.*/gre-tunnel down --all /' <<<"$unit"; then
    ok "unit: ExecStart up --all, ExecStop down --all, of one directory"
else
    not_ok "unit: ExecStart/ExecStop"
fi
# strongswan.service.d/gre-tunnel.conf reloads the unit when the IKE daemon starts again.
if grep -qE '^ExecReload=/.*/gre-tunnel up --all /' <<<"$unit"; then
    ok "unit: ExecReload up --all (loads what a restarted IKE daemon lacks)"
else
    not_ok "unit: ExecReload"
fi
if command -v systemd-analyze >/dev/null; then
    # Verified with this build's gre-tunnel in place of the installed path.
    sed -E "s#^(Exec[A-Za-z]*=)[^ ]*/gre-tunnel #\\1$(realpath "$G") #" "$UNIT" >"$T/gre-tunnel-all.service"
    vout=$(systemd-analyze verify --man=no "$T/gre-tunnel-all.service" 2>&1)
    if [ $? = 0 ] && [ -z "$vout" ]; then
        ok "systemd-analyze verify: clean"
    else
        not_ok "systemd-analyze verify: $vout"
    fi
else
    ok "systemd-analyze verify # SKIP not installed"
fi

echo "1..$n"
[ "$failed" = 0 ]
