#!/bin/bash
# Interoperation with a peer configured by hand: end A is brought up by `gre-tunnel up` from an
# ifcfg file; end B is made with plain ip(8) commands written out below (ip link add ... type
# gre, ip addr, ip xfrm state add, ip xfrm policy add; no reqids, a policy without a GRE key),
# the way an administrator on the other side would. For a plain GRE key tunnel and two CBC+HMAC
# suites (SHA-1 with a 96-bit ICV, SHA-256 with 128; manual keying takes no AEAD suite): pings
# both ways (small and MTU-sized), what the wire carries, and the hand-made SAs' counters.
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-interop.sh
. "$(dirname "$0")/lib.sh"

A=interop-a B=interop-b
netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
mkdir -p "$T/a"

# write_a [SUITE SPI_IN SPI_OUT]: A's ifcfg (KEY=5), with GRE-only IPsec when SUITE is given.
write_a() {
    rm -f "$T/a"/*
    cat >"$T/a/ifcfg-gre1" <<'CFG'
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
KEY=5
CFG
    if [ $# -gt 0 ]; then
        printf 'IPSEC=manual\nIPSEC_SUITE=%s\nSPI_ESP_IN=%s\nSPI_ESP_OUT=%s\n' "$1" "$2" "$3" \
            >>"$T/a/ifcfg-gre1"
        keys_for "$1" "$T/a" gre1
    fi
}
akey() { sed -n "s/^$1=//p" "$T/a/keys-gre1"; }

# B's GRE device, by hand.
b_gre() {
    ip -n $B link add gre1 type gre local 192.0.2.2 remote 192.0.2.1 key 5 ttl 64
    ip -n $B addr add 198.51.100.2/30 dev gre1
    ip -n $B link set gre1 up
}
b_clear() {
    ip -n $B link del gre1 2>/dev/null
    ip -n $B xfrm policy flush
    ip -n $B xfrm state flush
}
b_rx() { ip -n $B -s -j link show gre1 | sed -n 's/.*"rx":{"bytes":[0-9]*,"packets":\([0-9]*\).*/\1/p'; }

# traffic CASE [SPI_IN SPI_OUT]: pings both ways over the tunnel while capturing the wire.
traffic() {
    local c=$1 w mtu rx0 rx1
    mtu=$(link_mtu $A gre1)
    rx0=$(b_rx)
    capture $B wire 'ip proto 50 or ip proto 47' 1000 "$T/cap"
    check "$c: ping A -> B (by hand)" nsping $A 198.51.100.2
    check "$c: ping B (by hand) -> A" nsping $B 198.51.100.1
    check "$c: DF ping of A's MTU ($mtu) A -> B" nsping $A -M do -s $((mtu - 28)) 198.51.100.2
    capture_stop
    rx1=$(b_rx)
    check "$c: B's hand-made gre1 received packets ($rx0 -> $rx1)" test "${rx1:-0}" -gt "${rx0:-0}"
    w=$(cat "$T/cap")
    if [ $# -gt 1 ]; then
        expect "$c: wire: A -> B is ESP with A's outbound SPI" \
            "$(printf '192\\.0\\.2\\.1 > 192\\.0\\.2\\.2: ESP\\(spi=0x%08x,' "$3")" "$w"
        expect "$c: wire: B -> A is ESP with A's inbound SPI" \
            "$(printf '192\\.0\\.2\\.2 > 192\\.0\\.2\\.1: ESP\\(spi=0x%08x,' "$2")" "$w"
        expect_not "$c: wire: no plain GRE" 'GREv0' "$w"
    else
        expect "$c: wire: A -> B is GRE with key 5" '192\.0\.2\.1 > 192\.0\.2\.2: GREv0, key=0x5,' "$w"
        expect "$c: wire: B -> A is GRE with key 5" '192\.0\.2\.2 > 192\.0\.2\.1: GREv0, key=0x5,' "$w"
    fi
}

# ---------------------------------------------------------------- plain GRE with a key
note "plain GRE, KEY=5"
write_a
check "A up (gre-tunnel)" gt $A up "$T/a/ifcfg-gre1"
check "B by hand: ip link add gre1 type gre ... key 5; ip addr; ip link set up" b_gre
traffic "plain GRE"
gt $A down gre1 >/dev/null
b_clear

# ---------------------------------------------------------------- CBC + HMAC, by hand on B
# b_cbc HMAC ICV-BITS: B's SAs (A's keys, swapped) and GRE-only policies, then its gre1.
b_cbc() {
    ip -n $B xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi $spi_out mode transport \
        enc 'cbc(aes)' "$(akey KEY_ESP_OUT)" auth-trunc "hmac($1)" "$(akey KEY_AESP_OUT)" "$2" &&
        ip -n $B xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi $spi_in mode transport \
            enc 'cbc(aes)' "$(akey KEY_ESP_IN)" auth-trunc "hmac($1)" "$(akey KEY_AESP_IN)" "$2" &&
        ip -n $B xfrm policy add src 192.0.2.2/32 dst 192.0.2.1/32 proto gre dir out \
            tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode transport &&
        ip -n $B xfrm policy add src 192.0.2.1/32 dst 192.0.2.2/32 proto gre dir in \
            tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode transport &&
        b_gre
}
# cbc_case SUITE HMAC ICV-BITS SPI_IN SPI_OUT
cbc_case() {
    local suite=$1 b_out0 b_in0 b_out1 b_in1
    spi_in=$4 spi_out=$5
    note "GRE-only IPsec, $suite (B: enc 'cbc(aes)' ... auth-trunc 'hmac($2)' ... $3)"
    write_a "$suite" $spi_in $spi_out
    check "$suite: A up (gre-tunnel)" gt $A up "$T/a/ifcfg-gre1"
    check "$suite: B by hand: ip xfrm state/policy add, ip link add gre1" b_cbc "$2" "$3"
    b_out0=$(sa_count $B $spi_in bytes) b_in0=$(sa_count $B $spi_out bytes)
    traffic "$suite" $spi_in $spi_out
    b_out1=$(sa_count $B $spi_in bytes) b_in1=$(sa_count $B $spi_out bytes)
    check "$suite: B's hand-made inbound SA decrypted A's ESP (bytes $b_in0 -> $b_in1)" \
        test "${b_in1:-0}" -gt "${b_in0:-0}"
    check "$suite: B's hand-made outbound SA was used (bytes $b_out0 -> $b_out1)" \
        test "${b_out1:-0}" -gt "${b_out0:-0}"
    expect_eq "$suite: B: no ESP integrity failures" 0 \
        "$(ip -n $B -s xfrm state | awk '/replay-window [0-9]+ replay [0-9]+ failed/ { n += $6 } END { print n + 0 }')"
    gt $A down gre1 >/dev/null
    b_clear
}
cbc_case aes128-sha1 sha1 96 0x5001 0x5002
cbc_case aes256-sha256 sha256 128 0x5101 0x5102

finish
