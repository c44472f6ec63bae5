#!/bin/bash
# GRE-only IPsec with manual keys. First the counter-mode AEAD suites: refused, naming the file,
# line and IPSEC_SUITE, with nothing reaching the kernel. Then every CBC + HMAC suite: A from an
# ifcfg file written here, B from its mirror. The kernel must hold two ESP transport SAs with the suite's algorithms and key sizes (the keys of
# the keys file), and exactly two policies selecting GRE between the outer /32s (dir out, dir in);
# the wire must show ESP and never plain GRE for tunnel traffic, while a ping of the peer's outer
# address stays clear; the SA counters must grow. Then: plaintext GRE from a peer without SAs
# is refused (XfrmInTmplMismatch), and with B's SAs flushed nothing falls back to clear text.
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-ipsec.sh
. "$(dirname "$0")/lib.sh"

A=ipsec-a B=ipsec-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
mkdir -p "$T/a" "$T/b" "$T/clear"

SUITES=(aes128-sha256 aes256-sha256 aes128-sha1 aes256-sha1)
# Not safe with static keys: refused by gre-tunnel with IPSEC=manual.
REFUSED=(aes128gcm16 aes256gcm16 aes128gcm12 aes256gcm12 chacha20poly1305)

# write_a SUITE SPI_IN SPI_OUT [EXTRA LINE]: A's ifcfg-gre1 and keys-gre1.
write_a() {
    rm -f "$T/a"/* "$T/b"/*
    cat >"$T/a/ifcfg-gre1" <<CFG
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
IPSEC=manual
IPSEC_SUITE=$1
SPI_ESP_IN=$2
SPI_ESP_OUT=$3
${4:-}
CFG
    keys_for "$1" "$T/a" gre1
    # (A refused suite has no mirror: its error stays out of the TAP stream.)
    "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1" >/dev/null 2>"$T/mirror.err"
}
keyval() { sed -n "s/^$2=0x//p" "$1"; }
both_down() {
    gt $A down gre1 >/dev/null
    gt $B down gre1 >/dev/null
}
nstates() { ip -n "$1" xfrm state | grep -c '^src'; }
npolicies() { ip -n "$1" xfrm policy | grep -c '^src'; }
rx_packets() { ip -n "$1" -s -j link show "$2" | sed -n 's/.*"rx":{"bytes":[0-9]*,"packets":\([0-9]*\).*/\1/p'; }

# ---------------------------------------------------------------- counter-mode suites: refused
before=$(dump $A)
for suite in "${REFUSED[@]}"; do
    write_a "$suite" 0x1f01 0x1f02
    out=$(gt $A up "$T/a/ifcfg-gre1" 2>&1)
    expect_eq "$suite: up with manual keys is refused (exit 1)" 1 "$?"
    expect "$suite: the error names the file, line and IPSEC_SUITE, and the way out" \
        "ifcfg-gre1:9: IPSEC_SUITE: $suite is not safe with static keys: .* use a CBC suite \(aes128-sha256, aes256-sha256, aes128-sha1, aes256-sha1\)" "$out"
done
expect_eq "refused suites: the kernel state of A is unchanged (links, addresses, routes, xfrm)" \
    "$before" "$(dump $A)"
expect_eq "refused suites: A has no SA" 0 "$(nstates $A)"

i=0
for suite in "${SUITES[@]}"; do
    i=$((i + 1))
    spi_in=$((0x1000 + 16 * i + 1)) spi_out=$((0x1000 + 16 * i + 2))
    # Every other suite with a GRE key: the policies then select the key as well.
    if [ $((i % 2)) = 1 ]; then gkey=42 extra="KEY=42"; else gkey= extra=; fi
    note "suite $suite (SPI in $spi_in, out $spi_out${gkey:+, GRE key $gkey})"
    write_a "$suite" "$spi_in" "$spi_out" "$extra"
    check "$suite: check A B" "$G" check "$T/a/ifcfg-gre1" "$T/b/ifcfg-gre1"
    check "$suite: A up" gt $A up "$T/a/ifcfg-gre1"
    check "$suite: B up (mirror)" gt $B up "$T/b/ifcfg-gre1"

    # ---- the SAs: algorithms, key sizes, keys, transport mode
    case $suite in
    aes128-sha256) alg='auth-trunc hmac\(sha256\) 0x[0-9a-f]{64} 128 .*enc cbc\(aes\) 0x[0-9a-f]{32}( |$)' ;;
    aes256-sha256) alg='auth-trunc hmac\(sha256\) 0x[0-9a-f]{64} 128 .*enc cbc\(aes\) 0x[0-9a-f]{64}( |$)' ;;
    aes128-sha1) alg='auth-trunc hmac\(sha1\) 0x[0-9a-f]{40} 96 .*enc cbc\(aes\) 0x[0-9a-f]{32}( |$)' ;;
    aes256-sha1) alg='auth-trunc hmac\(sha1\) 0x[0-9a-f]{40} 96 .*enc cbc\(aes\) 0x[0-9a-f]{64}( |$)' ;;
    esac
    sa=$(ip -n $A xfrm state | oneline)
    sb=$(ip -n $B xfrm state | oneline)
    expect_eq "$suite: A has exactly 2 SAs" 2 "$(nstates $A)"
    expect_eq "$suite: B has exactly 2 SAs" 2 "$(nstates $B)"
    out_re=$(printf '^src 192\\.0\\.2\\.1 dst 192\\.0\\.2\\.2 .*proto esp spi 0x%08x .*mode transport .*' $spi_out)
    in_re=$(printf '^src 192\\.0\\.2\\.2 dst 192\\.0\\.2\\.1 .*proto esp spi 0x%08x .*mode transport .*' $spi_in)
    expect "$suite: A's outbound SA: transport, $suite algorithms and key sizes" "$out_re$alg" "$sa"
    expect "$suite: A's inbound SA: transport, $suite algorithms and key sizes" "$in_re$alg" "$sa"
    expect "$suite: B's SAs are the same two" "$out_re$alg" "$sb"
    expect "$suite: A's outbound SA has the keys file's KEY_ESP_OUT" \
        "$(printf 'spi 0x%08x .* 0x%s' $spi_out "$(keyval "$T/a/keys-gre1" KEY_ESP_OUT)")" "$sa"
    expect "$suite: B's inbound SA has the same key" \
        "$(printf 'spi 0x%08x .* 0x%s' $spi_out "$(keyval "$T/a/keys-gre1" KEY_ESP_OUT)")" "$sb"

    # ---- the policies: GRE only, between the outer /32s, out and in, ESP transport required
    pa=$(ip -n $A xfrm policy | oneline)
    expect_eq "$suite: A has exactly 2 policies" 2 "$(npolicies $A)"
    expect_eq "$suite: B has exactly 2 policies" 2 "$(npolicies $B)"
    expect "$suite: A: policy out selects GRE 192.0.2.1/32 -> 192.0.2.2/32, requires ESP" \
        "^src 192\.0\.2\.1/32 dst 192\.0\.2\.2/32 proto gre ${gkey:+key $gkey }dir out .*tmpl src 192\.0\.2\.1 dst 192\.0\.2\.2 .*proto esp .*mode transport" "$pa"
    expect "$suite: A: policy in selects GRE 192.0.2.2/32 -> 192.0.2.1/32, requires ESP" \
        "^src 192\.0\.2\.2/32 dst 192\.0\.2\.1/32 proto gre ${gkey:+key $gkey }dir in .*tmpl src 192\.0\.2\.2 dst 192\.0\.2\.1 .*proto esp .*mode transport" "$pa"
    expect_not "$suite: A: no policy selects anything but GRE" '^src' "$(grep -v ' proto gre ' <<<"$pa")"
    expect_not "$suite: A: no optional template (level use)" 'level use' "$pa"

    # ---- traffic: ESP on the wire for the tunnel, clear ICMP for the outer address
    b_out0=$(sa_count $A $spi_out bytes) b_in0=$(sa_count $A $spi_in bytes)
    capture $B wire 'ip proto 50 or ip proto 47 or icmp' 1000 "$T/cap"
    check "$suite: ping A -> B through the tunnel" nsping $A 198.51.100.2
    check "$suite: ping B -> A through the tunnel" nsping $B 198.51.100.1
    check "$suite: ping A -> B's outer address" nsping $A 192.0.2.2
    capture_stop
    w=$(cat "$T/cap")
    expect "$suite: wire: A -> B is ESP with A's outbound SPI" \
        "$(printf '192\\.0\\.2\\.1 > 192\\.0\\.2\\.2: ESP\\(spi=0x%08x,' $spi_out)" "$w"
    expect "$suite: wire: B -> A is ESP with A's inbound SPI" \
        "$(printf '192\\.0\\.2\\.2 > 192\\.0\\.2\\.1: ESP\\(spi=0x%08x,' $spi_in)" "$w"
    expect_not "$suite: wire: no plain GRE" 'GRE|proto 47|198\.51\.100\.' "$w"
    expect "$suite: wire: the ping of the outer address is clear ICMP" \
        '192\.0\.2\.1 > 192\.0\.2\.2: ICMP echo request' "$w"
    note "$suite: wire: $(grep -c ESP <<<"$w") ESP, $(grep -c ICMP <<<"$w") clear ICMP packets"
    b_out1=$(sa_count $A $spi_out bytes) b_in1=$(sa_count $A $spi_in bytes)
    check "$suite: A's outbound SA bytes went up ($b_out0 -> $b_out1)" test "${b_out1:-0}" -gt "${b_out0:-0}"
    check "$suite: A's inbound SA bytes went up ($b_in0 -> $b_in1)" test "${b_in1:-0}" -gt "${b_in0:-0}"
    # The last suite stays up for what follows.
    [ "$suite" = "${SUITES[-1]}" ] || both_down
done

# ---------------------------------------------------------------- B without SAs: refused
note "B brings GRE up without IPsec while A requires ESP (last suite, $suite)"
gt $B down gre1 >/dev/null
sed -e '/^IPSEC/d' -e '/^SPI_/d' "$T/b/ifcfg-gre1" >"$T/clear/ifcfg-gre1"
check "B up with IPSEC=none" gt $B up "$T/clear/ifcfg-gre1"
expect_eq "B has no SAs" 0 "$(nstates $B)"
tm0=$(xfrm_stat $A XfrmInTmplMismatch) np0=$(xfrm_stat $A XfrmInNoPols) rx0=$(rx_packets $A gre1)
capture $B wire 'ip proto 50 or ip proto 47' 1000 "$T/cap"
check "clear peer: ping B -> A through the tunnel fails" nsping_fails $B 198.51.100.1
capture_stop
tm1=$(xfrm_stat $A XfrmInTmplMismatch) np1=$(xfrm_stat $A XfrmInNoPols) rx1=$(rx_packets $A gre1)
expect "clear peer: B did send plain GRE to A" '192\.0\.2\.2 > 192\.0\.2\.1: GREv0' "$(cat "$T/cap")"
note "A: XfrmInTmplMismatch $tm0 -> $tm1, XfrmInNoPols $np0 -> $np1, gre1 rx packets $rx0 -> $rx1"
check "clear peer: A's XfrmInTmplMismatch went up ($tm0 -> $tm1)" test "$tm1" -gt "$tm0"
expect_eq "clear peer: A's gre1 received nothing" "$rx0" "$rx1"
check "clear peer: ping A -> B's outer address still works" nsping $A 192.0.2.2

# ---------------------------------------------------------------- SAs flushed on B: no fallback
note "B up with IPsec again, then its SAs flushed"
gt $B down gre1 >/dev/null
check "B up with IPsec" gt $B up "$T/b/ifcfg-gre1"
check "ping A -> B through the tunnel works" nsping $A 198.51.100.2
ip -n $B xfrm state flush
expect_eq "B's SAs are gone" 0 "$(nstates $B)"
expect_eq "B's policies are still there" 2 "$(npolicies $B)"
ons0=$(xfrm_stat $B XfrmOutNoStates) ins0=$(xfrm_stat $B XfrmInNoStates)
capture $B wire 'ip proto 50 or ip proto 47' 1000 "$T/cap"
check "flushed: ping A -> B through the tunnel fails" nsping_fails $A 198.51.100.2
check "flushed: ping B -> A through the tunnel fails" nsping_fails $B 198.51.100.1
capture_stop
ons1=$(xfrm_stat $B XfrmOutNoStates) ins1=$(xfrm_stat $B XfrmInNoStates)
w=$(cat "$T/cap")
note "B: XfrmOutNoStates $ons0 -> $ons1, XfrmInNoStates $ins0 -> $ins1"
expect "flushed: A still sends ESP" '192\.0\.2\.1 > 192\.0\.2\.2: ESP' "$w"
expect_not "flushed: B sends nothing, in particular no plain GRE" '192\.0\.2\.2 > 192\.0\.2\.1' "$w"
check "flushed: B's XfrmOutNoStates went up ($ons0 -> $ons1)" test "$ons1" -gt "$ons0"
check "flushed: B's XfrmInNoStates went up ($ins0 -> $ins1)" test "$ins1" -gt "$ins0"
check "flushed: ping B -> A's outer address still works" nsping $B 192.0.2.1
both_down

finish
