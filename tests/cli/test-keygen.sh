#!/bin/bash
# gre-tunnel keygen as a user meets it: keys of the suite's sizes in keys-NAME (0600, the
# caller's), fresh valid SPIs in CONFIG and every other byte of CONFIG kept, its mode too; keys
# never printed; mirror carries the keys to the peer swapped; refusals leave both files as they
# were (also when replacing CONFIG fails after keys-NAME was replaced: FAIL_RENAME is a preload
# shim that makes chosen renames fail). Usage: test-keygen.sh PATH-TO-gre-tunnel [FAIL_RENAME]
set -uo pipefail
G=$1
FAIL_RENAME=${2:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION CMD...
    local desc=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}
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
hexlen() { local v; v=$(sed -n "s/^$2=0x//p" "$1"); echo "${#v}"; }
val() { sed -n "s/^$2=//p" "$1"; }
spi() { sed -n "s/^[[:space:]]*$2=\([^[:space:]]*\).*/\1/p" "$1" | tail -1; }
state() { # the bytes, modes and types of the given paths, for "nothing changed" checks
    local f
    for f in "$@"; do
        if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
        elif [ -e "$f" ]; then echo "$f $(stat -c '%F %a %u' "$f") $( [ -f "$f" ] && sha256sum <"$f")"
        else echo "$f absent"; fi
    done
}
mkcfg() { # mkcfg DIR SUITE [IPSEC LINE]: an end with comments, indent and one SPI already set
    mkdir -p "$1"
    cat >"$1/ifcfg-k" <<CFG
# branch office; keys in keys-k
DEVICE=k
TYPE=gre
DEVICETYPE=gre
  MY_OUTER_IPADDR=192.0.2.1    # ours
PEER_OUTER_IPADDR="192.0.2.2"
MY_INNER_IPADDR=198.51.100.1/30

PEER_INNER_IPADDR=198.51.100.2
${3-IPSEC=manual}
IPSEC_SUITE=$2
	SPI_ESP_IN=0x1001   # the peer's SPI_ESP_OUT
ROUTES='203.0.113.0/24 metric 5'
CFG
    chmod 640 "$1/ifcfg-k"
}

expect "keygen --help" 0 "gre-tunnel keygen" -- "$G" keygen --help
expect "gre-tunnel --help lists keygen" 0 "keygen" -- "$G" --help
expect "keygen without CONFIG" 2 "wrong number of arguments" -- "$G" keygen
expect "keygen of a missing file" 1 "$T/nope" -- "$G" keygen "$T/nope"

# ---------------------------------------------------------------- a first run
A=$T/a
mkcfg "$A" aes256-sha256
cp -p "$A/ifcfg-k" "$T/before"
out=$("$G" keygen "$A/ifcfg-k" 2>&1)
rc=$?
[ "$rc" = 0 ] && ok "keygen succeeds" || not_ok "keygen succeeds (rc=$rc: $out)"
[[ $out == *"$A/keys-k"* && $out == *aes256-sha256* && $out == *SPI_ESP_IN=* && $out == *SPI_ESP_OUT=* ]] &&
    ok "it names the keys file, the suite and the SPIs" || not_ok "output: $out"
[[ $out == *"gre-tunnel mirror"* && $out == *"up"* ]] && ok "it says what to do next" || not_ok "next steps: $out"
[ "$(stat -c %a "$A/keys-k")" = 600 ] && ok "keys-k is mode 0600" || not_ok "keys-k mode $(stat -c %a "$A/keys-k")"
[ "$(stat -c %u "$A/keys-k")" = "$(id -u)" ] && ok "keys-k is the caller's" || not_ok "keys-k owner"
[ "$(stat -c %a "$A/ifcfg-k")" = 640 ] && ok "ifcfg-k keeps mode 0640" || not_ok "ifcfg-k mode $(stat -c %a "$A/ifcfg-k")"
[ "$(hexlen "$A/keys-k" KEY_ESP_IN)/$(hexlen "$A/keys-k" KEY_ESP_OUT)/$(hexlen "$A/keys-k" KEY_AESP_IN)/$(hexlen "$A/keys-k" KEY_AESP_OUT)" = 64/64/64/64 ] &&
    ok "aes256-sha256: 32-byte cipher and 32-byte HMAC keys" || not_ok "key sizes: $(cat "$A/keys-k" | sed 's/=0x.*//')"
leaked=0
for k in KEY_ESP_IN KEY_ESP_OUT KEY_AESP_IN KEY_AESP_OUT; do
    v=$(val "$A/keys-k" $k)
    [[ $out == *"${v#0x}"* ]] && leaked=1
done
[ $leaked = 0 ] && ok "no key on stdout or stderr" || not_ok "a key was printed"
in1=$(spi "$A/ifcfg-k" SPI_ESP_IN) out1=$(spi "$A/ifcfg-k" SPI_ESP_OUT)
if [[ $in1 =~ ^0x[0-9a-f]+$ && $out1 =~ ^0x[0-9a-f]+$ ]] && ((in1 >= 256 && out1 >= 256 && in1 != out1 && in1 != 0x1001)); then
    ok "fresh SPIs: $in1 and $out1 (>= 256, distinct, SPI_ESP_IN changed)"
else
    not_ok "SPIs: in '$in1' out '$out1'"
fi
expected=$(sed "s/^\tSPI_ESP_IN=0x1001   #/\tSPI_ESP_IN=$in1   #/" "$T/before"; echo "SPI_ESP_OUT=$out1")
[ "$(cat "$A/ifcfg-k")" = "$expected" ] && ok "every other byte of ifcfg-k is kept (indent, comments, quotes, blank line, order); SPI_ESP_OUT appended" ||
    { not_ok "ifcfg-k changed more than the SPIs"; diff <(echo "$expected") "$A/ifcfg-k" | sed 's/^/# /'; }
check "the result is a valid end (plan)" "$G" plan -u 1500 "$A/ifcfg-k"

# ---------------------------------------------------------------- mirror carries the keys
mkdir -p "$T/peer"
check "mirror -o of the keygen result" "$G" mirror -o "$T/peer" "$A/ifcfg-k"
expect "A and its mirror check as mirrors" 0 "mirror each other" -- "$G" check "$A/ifcfg-k" "$T/peer/ifcfg-k"
[ "$(stat -c %a "$T/peer/keys-k")" = 600 ] && ok "the peer's keys-k is mode 0600" || not_ok "peer keys mode"
if [ "$(val "$T/peer/keys-k" KEY_ESP_IN)" = "$(val "$A/keys-k" KEY_ESP_OUT)" ] &&
    [ "$(val "$T/peer/keys-k" KEY_ESP_OUT)" = "$(val "$A/keys-k" KEY_ESP_IN)" ] &&
    [ "$(val "$T/peer/keys-k" KEY_AESP_IN)" = "$(val "$A/keys-k" KEY_AESP_OUT)" ] &&
    [ "$(val "$T/peer/keys-k" KEY_AESP_OUT)" = "$(val "$A/keys-k" KEY_AESP_IN)" ] &&
    [ "$(spi "$T/peer/ifcfg-k" SPI_ESP_IN)" = "$out1" ] && [ "$(spi "$T/peer/ifcfg-k" SPI_ESP_OUT)" = "$in1" ]; then
    ok "the peer's keys and SPIs are A's, in and out swapped"
else
    not_ok "the peer's keys or SPIs are not A's swapped"
fi

# ---------------------------------------------------------------- again: everything fresh
k1=$(cat "$A/keys-k")
check "keygen again" "$G" keygen "$A/ifcfg-k"
in2=$(spi "$A/ifcfg-k" SPI_ESP_IN) out2=$(spi "$A/ifcfg-k" SPI_ESP_OUT)
[ "$in2" != "$in1" ] && [ "$out2" != "$out1" ] && ok "the second run has new SPIs" || not_ok "SPIs reused"
for k in KEY_ESP_IN KEY_ESP_OUT KEY_AESP_IN KEY_AESP_OUT; do
    [[ $k1 == *"$(val "$A/keys-k" $k)"* ]] && { not_ok "$k reused"; continue 2; }
done
ok "the second run has four new keys"
[ "$(grep -c '^[[:space:]]*SPI_ESP_OUT=' "$A/ifcfg-k")" = 1 ] && ok "SPI_ESP_OUT is replaced, not appended twice" || not_ok "SPI_ESP_OUT twice"

# ---------------------------------------------------------------- sizes of the other CBC suites
for s in aes128-sha256:32/64 aes128-sha1:32/40 aes256-sha1:64/40; do
    suite=${s%%:*} want=${s#*:}
    mkcfg "$T/s-$suite" "$suite"
    "$G" keygen "$T/s-$suite/ifcfg-k" >/dev/null 2>&1
    got=$(hexlen "$T/s-$suite/keys-k" KEY_ESP_IN)/$(hexlen "$T/s-$suite/keys-k" KEY_AESP_OUT)
    [ "$got" = "$want" ] && ok "$suite: key sizes (hex digits) $want" || not_ok "$suite: key sizes $got, want $want"
done

# ---------------------------------------------------------------- a symlinked CONFIG stays a symlink
mkcfg "$T/real" aes128-sha1
mkdir -p "$T/link"
ln -s "$T/real/ifcfg-k" "$T/link/ifcfg-k"
check "keygen through a symlinked CONFIG" "$G" keygen "$T/link/ifcfg-k"
[ -L "$T/link/ifcfg-k" ] && grep -q '^SPI_ESP_OUT=0x' "$T/real/ifcfg-k" && [ -f "$T/link/keys-k" ] &&
    ok "the link's target got the SPIs; keys-k beside the link" || not_ok "symlinked CONFIG"

# ---------------------------------------------------------------- an old keys file is replaced
mkcfg "$T/old" aes256-sha256
printf 'KEY_ESP_IN=zz not even hex\n' >"$T/old/keys-k"
chmod 644 "$T/old/keys-k"
check "keygen replaces a broken, world-readable keys file" "$G" keygen "$T/old/ifcfg-k"
[ "$(stat -c %a "$T/old/keys-k")" = 600 ] && [ "$(hexlen "$T/old/keys-k" KEY_ESP_IN)" = 64 ] &&
    ok "the new keys file is 0600 with new keys" || not_ok "old keys file not replaced"
[ -z "$(find "$T/old" -name '*.??????')" ] && ok "no temporary file left behind" || not_ok "temporary files: $(ls "$T/old")"

# ---------------------------------------------------------------- IPSEC=ike: a fresh PSK
mkcfg "$T/ike" aes256gcm16 "IPSEC=ike"
cfg_before=$(sha256sum <"$T/ike/ifcfg-k")
out=$("$G" keygen "$T/ike/ifcfg-k" 2>&1)
psk=$(val "$T/ike/keys-k" IKE_PSK)
[ ${#psk} -ge 40 ] && ok "ike: keys-k holds a long IKE_PSK" || not_ok "ike: IKE_PSK '${#psk}' chars"
[ "$(stat -c %a "$T/ike/keys-k")" = 600 ] && ok "ike: keys-k is 0600" || not_ok "ike: keys-k mode"
[ "$(sha256sum <"$T/ike/ifcfg-k")" = "$cfg_before" ] && ok "ike: CONFIG untouched (no SPIs)" ||
    not_ok "ike: CONFIG changed"
[[ $out != *"$psk"* ]] && [[ $out == *"IKE pre-shared key"* ]] && ok "ike: says what it made, never the PSK" ||
    not_ok "ike: output: $out"
"$G" keygen "$T/ike/ifcfg-k" >/dev/null 2>&1
[ "$(val "$T/ike/keys-k" IKE_PSK)" != "$psk" ] && ok "ike: a second keygen makes another PSK" ||
    not_ok "ike: the PSK did not change"

# ---------------------------------------------------------------- refusals: nothing changes
refuse() { # refuse DESCRIPTION WANT_OUTPUT DIR
    local before after
    before=$(state "$3/ifcfg-k" "$3/keys-k" "$3"/*)
    expect "$1" 1 "$2" -- "$G" keygen "$3/ifcfg-k"
    after=$(state "$3/ifcfg-k" "$3/keys-k" "$3"/*)
    [ "$before" = "$after" ] && ok "$1: both files unchanged, nothing left behind" ||
        { not_ok "$1: files changed"; diff <(echo "$before") <(echo "$after") | sed 's/^/# /'; }
}
mkcfg "$T/r1" aes256-sha256 "IPSEC=none"
refuse "IPSEC=none" "$T/r1/ifcfg-k:10: IPSEC: is none" "$T/r1"
mkcfg "$T/r2" aes256-sha256 ""
refuse "no IPSEC line" "$T/r2/ifcfg-k: IPSEC: is none" "$T/r2"
mkcfg "$T/r3" aes256-sha256
printf 'MTU=1400\nUNDERLAY_MTU=1380\n' >>"$T/r3/ifcfg-k"
refuse "invalid settings are named as validation names them" "$T/r3/ifcfg-k:14: MTU: 1400 does not fit" "$T/r3"
mkcfg "$T/r4" aes256-sha256
echo "KEY_ESP_IN=0x00" >>"$T/r4/ifcfg-k"
refuse "a key in CONFIG itself" "KEY_ESP_IN: secrets do not belong in" "$T/r4"
mkcfg "$T/r5" aes256-sha256
echo "secret" >"$T/r5/target"
ln -s "$T/r5/target" "$T/r5/keys-k"
refuse "keys-k is a symlink" "$T/r5/keys-k: is a symbolic link" "$T/r5"
mkcfg "$T/r6" aes256-sha256
mkfifo "$T/r6/keys-k"
refuse "keys-k is a FIFO" "$T/r6/keys-k: is a FIFO" "$T/r6"
mkcfg "$T/r7" aes256-sha256
mkdir "$T/r7/keys-k"
refuse "keys-k is a directory" "$T/r7/keys-k: is a directory" "$T/r7"
mkcfg "$T/r8" aes256-sha256
echo 'BAD=$(reboot)' >>"$T/r8/ifcfg-k"
refuse "a CONFIG that does not parse" "$T/r8/ifcfg-k:14: BAD: command substitution" "$T/r8"
# CONFIG cannot be replaced after keys-k was: keys-k is put back (swapped back, or, where the
# file system cannot swap, restored from a second link), or removed again if it was new.
if [ -n "$FAIL_RENAME" ]; then
    for how in swap link new; do
        mkcfg "$T/f-$how" aes256-sha256
        [ $how = new ] || "$G" keygen "$T/f-$how/ifcfg-k" >/dev/null
        before=$(state "$T/f-$how/ifcfg-k" "$T/f-$how/keys-k" "$T/f-$how"/*)
        extra=GRE_TEST_NOTHING=1
        [ $how = link ] && extra=GRE_TEST_NO_EXCHANGE=1
        out=$(env LD_PRELOAD="$FAIL_RENAME" GRE_TEST_FAIL_RENAME=/ifcfg-k "$extra" \
            "$G" keygen "$T/f-$how/ifcfg-k" 2>&1)
        rc=$?
        after=$(state "$T/f-$how/ifcfg-k" "$T/f-$how/keys-k" "$T/f-$how"/*)
        [ $rc = 1 ] && [[ $out == *"cannot write $T/f-$how/ifcfg-k: Input/output error"* ]] &&
            ok "CONFIG not replaceable ($how keys file): refused, naming CONFIG" ||
            not_ok "CONFIG not replaceable ($how): rc=$rc: $out"
        [ "$before" = "$after" ] && ok "CONFIG not replaceable ($how keys file): both files as they were" ||
            { not_ok "CONFIG not replaceable ($how): files changed"; diff <(echo "$before") <(echo "$after") | sed 's/^/# /'; }
    done
fi
if [ "$(id -u)" != 0 ]; then
    mkcfg "$T/r9" aes256-sha256
    chmod 555 "$T/r9"
    refuse "a directory the caller cannot write" "cannot write" "$T/r9"
    chmod 755 "$T/r9"
fi

echo "1..$n"
[ "$failed" = 0 ]
