#!/bin/bash
# Key rotation for manual keying, as gre-tunnel-settings(5) documents it: keygen on A, mirror,
# the peer's files copied to B, `up` on A, then on B, while a ping crosses the tunnel every
# 50 ms. The kernel must then hold exactly the new SAs on both ends (new SPIs, new keys from the
# new keys files, none of the old SPIs), and traffic must flow again; the loss the rotation
# caused is reported (packets and ms) as a TAP comment.
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-rekey.sh
. "$(dirname "$0")/lib.sh"

A=rekey-a B=rekey-b
INTERVAL_MS=50
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
mkdir -p "$T/a" "$T/b" "$T/peer"

# A's end, without SPIs or keys: keygen makes them. An AES-CBC suite (safe with static keys).
cat >"$T/a/ifcfg-gre1" <<'CFG'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
IPSEC=manual
IPSEC_SUITE=aes256-sha256
CFG

keyval() { sed -n "s/^$2=0x//p" "$1"; }
spival() { printf '0x%08x' "$(sed -n "s/^$2=//p" "$1")"; }
nstates() { ip -n "$1" xfrm state | grep -c '^src'; }
# rotate: the documented steps; B's "copy over a secure channel" is a copy between directories.
rotate() {
    "$G" keygen "$T/a/ifcfg-gre1" >"$T/keygen.out" 2>&1 &&
        "$G" mirror -f -o "$T/peer" "$T/a/ifcfg-gre1" >/dev/null &&
        cp -p "$T/peer/ifcfg-gre1" "$T/peer/keys-gre1" "$T/b/"
}

# ---------------------------------------------------------------- first keys, both ends up
check "keygen A and mirror it to B" rotate
check "A up" gt $A up "$T/a/ifcfg-gre1"
check "B up" gt $B up "$T/b/ifcfg-gre1"
check "ping A -> B through the tunnel" nsping $A 198.51.100.2
old_in=$(spival "$T/a/ifcfg-gre1" SPI_ESP_IN) old_out=$(spival "$T/a/ifcfg-gre1" SPI_ESP_OUT)
old_enc=$(keyval "$T/a/keys-gre1" KEY_ESP_OUT) old_auth=$(keyval "$T/a/keys-gre1" KEY_AESP_OUT)
note "before: SPI in $old_in, out $old_out"
expect "A's outbound SA has the first keys" \
    "spi $old_out[( ].*auth-trunc hmac\(sha256\) 0x$old_auth (\([0-9]+ bits\) )?128 .*enc cbc\(aes\) 0x$old_enc( |$)" \
    "$(ip -n $A -s xfrm state | oneline)"

# ---------------------------------------------------------------- rotation under a running ping
ip netns exec $A ping -n -i "$(printf '%d.%03d' $((INTERVAL_MS / 1000)) $((INTERVAL_MS % 1000)))" -W 1 \
    198.51.100.2 >"$T/ping.out" 2>&1 &
pinger=$!
sleep 2
t0=$(date +%s%N)
check "rotation: keygen A, mirror to B" rotate
t1=$(date +%s%N)
check "rotation: A up" gt $A up "$T/a/ifcfg-gre1"
t2=$(date +%s%N)
check "rotation: B up" gt $B up "$T/b/ifcfg-gre1"
t3=$(date +%s%N)
sleep 3
kill -INT $pinger
wait $pinger 2>/dev/null
note "steps: keygen+mirror+copy $(((t1 - t0) / 1000000)) ms, up A $(((t2 - t1) / 1000000)) ms, up B $(((t3 - t2) / 1000000)) ms"
expect "keygen named the suite and the SPIs, and said what to do next" \
    'gre-tunnel mirror' "$(cat "$T/keygen.out")"
expect_not "keygen printed no key" \
    "$(keyval "$T/a/keys-gre1" KEY_ESP_IN)|$(keyval "$T/a/keys-gre1" KEY_ESP_OUT)" "$(cat "$T/keygen.out")"

# ---------------------------------------------------------------- the kernel has the new SAs only
new_in=$(spival "$T/a/ifcfg-gre1" SPI_ESP_IN) new_out=$(spival "$T/a/ifcfg-gre1" SPI_ESP_OUT)
new_enc_out=$(keyval "$T/a/keys-gre1" KEY_ESP_OUT) new_auth_out=$(keyval "$T/a/keys-gre1" KEY_AESP_OUT)
new_enc_in=$(keyval "$T/a/keys-gre1" KEY_ESP_IN) new_auth_in=$(keyval "$T/a/keys-gre1" KEY_AESP_IN)
note "after: SPI in $new_in, out $new_out"
check "the SPIs changed" test "$new_in" != "$old_in" -a "$new_out" != "$old_out" -a "$new_in" != "$old_out" -a "$new_out" != "$old_in"
check "the keys changed" test "$new_enc_out" != "$old_enc" -a "$new_auth_out" != "$old_auth"
sa=$(ip -n $A -s xfrm state | oneline)
sb=$(ip -n $B -s xfrm state | oneline)
expect_eq "A has exactly 2 SAs" 2 "$(nstates $A)"
expect_eq "B has exactly 2 SAs" 2 "$(nstates $B)"
expect "A's outbound SA: new SPI, new keys" \
    "^src 192\.0\.2\.1 dst 192\.0\.2\.2 .*spi $new_out[( ].*auth-trunc hmac\(sha256\) 0x$new_auth_out (\([0-9]+ bits\) )?128 .*enc cbc\(aes\) 0x$new_enc_out( |$)" "$sa"
expect "A's inbound SA: new SPI, new keys" \
    "^src 192\.0\.2\.2 dst 192\.0\.2\.1 .*spi $new_in[( ].*auth-trunc hmac\(sha256\) 0x$new_auth_in (\([0-9]+ bits\) )?128 .*enc cbc\(aes\) 0x$new_enc_in( |$)" "$sa"
expect "B's inbound SA is A's outbound (same SPI and keys)" \
    "^src 192\.0\.2\.1 dst 192\.0\.2\.2 .*spi $new_out[( ].*auth-trunc hmac\(sha256\) 0x$new_auth_out (\([0-9]+ bits\) )?128 .*enc cbc\(aes\) 0x$new_enc_out( |$)" "$sb"
expect "B's outbound SA is A's inbound (same SPI and keys)" \
    "^src 192\.0\.2\.2 dst 192\.0\.2\.1 .*spi $new_in[( ].*auth-trunc hmac\(sha256\) 0x$new_auth_in (\([0-9]+ bits\) )?128 .*enc cbc\(aes\) 0x$new_enc_in( |$)" "$sb"
expect_not "A: the old SAs are gone" "spi ($old_in|$old_out)[( ]" "$sa"
expect_not "B: the old SAs are gone" "spi ($old_in|$old_out)[( ]" "$sb"
expect_not "A: the old keys are gone" "0x($old_enc|$old_auth)( |$)" "$sa"

# ---------------------------------------------------------------- traffic resumed; the loss
b_out0=$(sa_count $A "$new_out" packets)
check "ping A -> B through the tunnel after the rotation" nsping $A 198.51.100.2
check "ping B -> A through the tunnel after the rotation" nsping $B 198.51.100.1
b_out1=$(sa_count $A "$new_out" packets)
check "the new outbound SA carries the traffic ($b_out0 -> $b_out1 packets)" test "${b_out1:-0}" -gt "${b_out0:-0}"
# Replies by sequence number: lost = sent - answered; the outage is the longest run of
# unanswered sequence numbers, times the interval.
read -r sent answered last_ok gap < <(awk '
    / bytes from .*icmp_seq=/ { match($0, /icmp_seq=[0-9]+/); s = substr($0, RSTART + 9, RLENGTH - 9) + 0
        if (!(s in ok)) n++; ok[s] = 1; if (s > max) max = s }
    /packets transmitted/ { sent = $1 }
    END { run = 0; best = 0; for (i = 1; i <= max; i++) { if (i in ok) run = 0; else if (++run > best) best = run }
          print sent + 0, n + 0, max + 0, best }' "$T/ping.out")
lost=$((sent - answered))
note "rotation: $lost of $sent pings lost (every ${INTERVAL_MS} ms), longest outage $gap packets = $((gap * INTERVAL_MS)) ms"
check "the running ping got replies after the rotation (last answered $last_ok of $sent)" \
    test "$sent" -gt 20 -a "$last_ok" -ge $((sent - 3))
check "the running ping lost something while the ends disagreed (the measurement sees the gap)" \
    test "$gap" -ge 1
finish
