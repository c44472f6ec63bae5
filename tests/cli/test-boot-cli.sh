#!/bin/bash
# ifup-gre, ifdown-gre and the ifupdown hook without the kernel: every path that must stop
# before anything is created (bad files, private keys, ONBOOT at boot, stanzas that are not
# ours). The kernel side is tests/kernel/test-boot.sh.
# Usage: test-boot-cli.sh BUILDDIR
set -uo pipefail
B=$1/ifup-scripts
UP=$B/ifup-gre DOWN=$B/ifdown-gre HOOK=$B/ifupdown-hook-uninstalled
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 failed=0
# A state directory of this test's own: it runs on the build host, whose /run is not its to touch.
export GRE_NETWORK_SCRIPTS_DIR=$T GRE_TUNNEL_STATE_DIR=$T/state

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
expect_silent() { # expect_silent DESCRIPTION -- CMD...: exit 0 and no output at all
    local desc=$1 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" = 0 ] && [ -z "$out" ]; then ok "$desc"; else not_ok "$desc (rc=$rc: ${out:0:300})"; fi
}

tunnel() { # tunnel NAME EXTRA-LINES: an ifcfg file in $T
    printf 'DEVICE=%s\nTYPE=gre\nDEVICETYPE=gre\nPEER_OUTER_IPADDR=192.0.2.2\nMY_OUTER_IPADDR=192.0.2.1\nMY_INNER_IPADDR=198.51.100.1/30\nPEER_INNER_IPADDR=198.51.100.2\n%s\n' \
        "$1" "$2" >"$T/ifcfg-$1"
}

expect "ifup-gre without CONFIG" 2 "usage: ifup-gre CONFIG [boot]" -- "$UP"
expect "ifup-gre --help" 0 "ifup-\$DEVICETYPE" -- "$UP" --help
expect "ifdown-gre --help" 0 "Take down" -- "$DOWN" --help
expect "ifup-gre --version" 0 "ifup-gre 0." -- "$UP" --version
expect "messages in net_log's form" 1 "ERROR     : [ifup-gre] cannot open $T/ifcfg-nope" -- "$UP" nope
expect "NAME resolves to ifcfg-NAME in the scripts dir" 1 "$T/ifcfg-nope:" -- "$UP" ifcfg-nope

tunnel off "ONBOOT=no
PEER_OUTER_IPADDR=not-an-address"
expect_silent "boot with ONBOOT=no: nothing, exit 0 (even for a file that would not validate)" -- "$UP" ifcfg-off boot
expect "without boot, ONBOOT=no does not matter" 1 "$T/ifcfg-off:9: PEER_OUTER_IPADDR" -- "$UP" ifcfg-off

tunnel wrongtype "TYPE=Ethernet"
expect "a file of another type is refused" 1 'TYPE: "Ethernet" is not a GRE tunnel' -- "$UP" wrongtype

tunnel rt ""
printf '203.0.113.0/24 via 192.0.2.254\n' >"$T/route-rt"
expect "route-NAME: a foreign gateway is refused with FILE:LINE" 1 "$T/route-rt:1: via 192.0.2.254: the tunnel's only next hop is its inner peer 198.51.100.2" -- "$UP" rt boot
printf '# lab\n203.0.113.0/24 table 7\n' >"$T/route-rt"
expect "route-NAME: beyond the subset" 1 "$T/route-rt:2: \"table\" is not supported" -- "$UP" rt
printf 'ADDRESS0=203.0.113.0\nNETMASK0=255.255.255.0\nADDRESS2=198.51.100.128\n' >"$T/route-rt"
expect "route-NAME: a gap in ADDRESSn" 1 "$T/route-rt:3: ADDRESS2: never read" -- "$UP" rt
rm "$T/route-rt"
printf '2001:db8:2::/48\n' >"$T/route6-rt"
expect "route6-NAME needs an IPv6 inner address" 1 "$T/route6-rt:1: 2001:db8:2::/48 needs an IPv6 inner address" -- "$UP" rt
rm "$T/route6-rt"

tunnel sec "IPSEC=manual
SPI_ESP_IN=0x301
SPI_ESP_OUT=0x302"
printf 'KEY_ESP_IN=0x%s\nKEY_ESP_OUT=0x%s\nKEY_AESP_IN=0x%s\nKEY_AESP_OUT=0x%s\n' "$(printf '11%.0s' $(seq 32))" \
    "$(printf '22%.0s' $(seq 32))" "$(printf '33%.0s' $(seq 32))" "$(printf '44%.0s' $(seq 32))" >"$T/keys-sec"
chmod 644 "$T/keys-sec"
expect "keys-NAME readable by others is refused" 1 "$T/keys-sec" -- "$UP" sec boot
expect "... and the message says what to do" 1 "run: chmod 600 $T/keys-sec" -- "$UP" sec boot

expect "ifdown-gre with nothing recorded" 0 "nothing to remove" -- "$DOWN" ifcfg-rt
expect "ifdown-gre of a file that is gone takes NAME" 0 "gone1: nothing to remove" -- "$DOWN" ifcfg-gone1 boot
printf 'TYPE=gre\n' >"$T/ifcfg-nodev"
expect "ifdown-gre needs DEVICE" 1 "DEVICE: missing" -- "$DOWN" nodev

# ifupdown: the hook and --ifupdown, with the clean environment ifupdown gives its hooks.
hook() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin MODE=start PHASE=pre-up METHOD=manual ADDRFAM=inet "$@"; }
TUN="IFACE=gt1 IF_GRE_REMOTE=192.0.2.2 IF_GRE_INNER_ADDRESS=198.51.100.1/30"
ESP="IF_GRE_IPSEC=manual IF_GRE_SPI_IN=0x301 IF_GRE_SPI_OUT=0x302"
expect_silent "hook: a stanza without gre options is left alone" -- \
    hook IFACE=eth0 IF_ADDRESS=192.0.2.9 sh "$HOOK"
expect_silent "hook: and at ifdown too" -- hook MODE=stop PHASE=post-down IFACE=eth0 sh "$HOOK"
expect_silent "--ifupdown without gre options does nothing" -- hook IFACE=eth0 "$UP" --ifupdown
expect "--ifupdown outside ifupdown" 2 "--ifupdown is for ifupdown's hooks" -- \
    env -i "$UP" --ifupdown
expect "hook runs ifup-gre for a gre stanza" 1 "iface gt1: gre-remote: missing" -- \
    hook IFACE=gt1 IF_GRE_INNER_ADDRESS=198.51.100.1/30 sh "$HOOK"
expect "stanza: a misspelt option is named" 1 \
    "iface gt1: gre-remot: not an option of GRE tunnels; ignored" -- \
    hook IFACE=gt1 IF_GRE_REMOT=192.0.2.2 IF_GRE_INNER_ADDRESS=198.51.100.1/30 "$UP" --ifupdown
expect "stanza: bad value" 1 "iface gt1: gre-ttl: \"300\" is not inherit or a TTL from 1 to 255" -- \
    hook $TUN IF_GRE_TTL=300 "$UP" --ifupdown
expect "stanza: inet static is refused" 1 'write "iface gt1 inet manual" instead of static' -- \
    hook METHOD=static $TUN "$UP" --ifupdown
expect "stanza: keys in /etc/network/interfaces are refused" 1 \
    "esp-key-in: secrets do not belong in /etc/network/interfaces" -- \
    hook $TUN IF_ESP_KEY_IN=0x00 "$UP" --ifupdown
expect "stanza: IPsec without gre-keys-file" 1 "gre-ipsec manual needs gre-keys-file FILE" -- \
    hook $TUN $ESP "$UP" --ifupdown
expect "stanza: IPSEC=ike without gre-keys-file names IKE_PSK" 1 \
    "gre-ipsec ike needs gre-keys-file FILE: a file only root can read (mode 0600) holding IKE_PSK=" -- \
    hook $TUN IF_GRE_IPSEC=ike "$UP" --ifupdown
expect "stanza: gre-keys-file readable by others" 1 "$T/keys-sec: readable by group or others" -- \
    hook $TUN $ESP IF_GRE_KEYS_FILE="$T/keys-sec" "$UP" --ifupdown
chmod 600 "$T/keys-sec"
printf 'KEY_ESP_IN=0x11\nKEY_ESP_OUT=0x22\n' >"$T/short.keys"
chmod 600 "$T/short.keys"
expect "stanza: a short key names the keys file" 1 \
    "$T/short.keys:1 (KEY_ESP_IN): esp-key-in: aes256-sha256 needs a 32-byte cipher key" -- \
    hook $TUN $ESP IF_GRE_KEYS_FILE="$T/short.keys" "$UP" --ifupdown
expect "stanza: a counter-mode suite with manual keys is refused" 1 \
    "gre-ipsec-suite: aes128gcm16 is not safe with static keys: its nonce is the ESP packet counter" -- \
    hook $TUN $ESP IF_GRE_IPSEC_SUITE=aes128gcm16 IF_GRE_KEYS_FILE="$T/keys-sec" "$UP" --ifupdown
expect "stanza: ... with the way out" 1 "with gre-ipsec=manual use a CBC suite (aes128-sha256, " -- \
    hook $TUN $ESP IF_GRE_IPSEC_SUITE=aes128gcm16 IF_GRE_KEYS_FILE="$T/keys-sec" "$UP" --ifupdown
expect "stanza: gre-keys-file must be absolute" 1 'gre-keys-file: "short.keys" is not an absolute path' -- \
    hook $TUN IF_GRE_KEYS_FILE=short.keys "$UP" --ifupdown
expect "stanza: ifdown with nothing recorded" 0 "gt1: nothing to remove" -- \
    hook MODE=stop $TUN "$DOWN" --ifupdown

echo "1..$n"
[ "$failed" = 0 ]
