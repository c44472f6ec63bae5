#!/bin/bash
# ip6gre (IPv6 outer) pairs with GRE-only IPsec: A from an ifcfg file written here, B from its
# mirror, over a veth wire with only IPv6 on it. For an AEAD and two CBC suites, with the default
# encapsulation limit, ENCAPLIMIT=none and a custom one: the kernel's ip6gre device (hoplimit,
# encaplimit), IPv6 SAs and GRE-only policies, pings with IPv4 and IPv6 inside, ESP on the wire
# (outer hop limit, destination options header or none), and the exact MTU: a DF ping of exactly
# the MTU passes, as an unfragmented ESP frame, while one of MTU+1 fails even with the device MTU
# raised by one by hand.
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-ip6gre.sh
. "$(dirname "$0")/lib.sh"

A=ip6gre-a B=ip6gre-b
netns $A $B
wire $A 2001:db8:1::1/64 $B 2001:db8:1::2/64
mkdir -p "$T/a" "$T/b"

# run_case SUITE ENCAPLIMIT(4|none|N|"" for the default) TTL(""=default 64) SPI_BASE
run_case() {
    local suite=$1 encap=$2 ttl=$3 spi_in=$(($4 + 1)) spi_out=$(($4 + 2))
    local c="$suite/encaplimit ${encap:-default}" want_el=${encap:-4} want_hl=${ttl:-64}
    local la pa w mtu pmtu big
    note "case $c, hoplimit $want_hl"
    rm -f "$T/a"/* "$T/b"/*
    {
        cat <<CFG
DEVICE=gre6
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=2001:db8:1::1
PEER_OUTER_IPADDR=2001:db8:1::2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
MY_INNER_IP6ADDR=2001:db8:ffff::1/64
PEER_INNER_IP6ADDR=2001:db8:ffff::2
KEY=9
IPSEC=manual
IPSEC_SUITE=$suite
SPI_ESP_IN=$spi_in
SPI_ESP_OUT=$spi_out
CFG
        [ -z "$encap" ] || echo "ENCAPLIMIT=$encap"
        [ -z "$ttl" ] || echo "TTL=$ttl"
    } >"$T/a/ifcfg-gre6"
    keys_for "$suite" "$T/a" gre6
    "$G" mirror -o "$T/b" "$T/a/ifcfg-gre6" >/dev/null
    check "$c: check A B" "$G" check "$T/a/ifcfg-gre6" "$T/b/ifcfg-gre6"
    check "$c: A up" gt $A up "$T/a/ifcfg-gre6"
    check "$c: B up (mirror)" gt $B up "$T/b/ifcfg-gre6"

    la=$(ip -n $A -d link show gre6)
    expect "$c: A: ip6gre between the outer addresses, hoplimit $want_hl, encaplimit $want_el" \
        "ip6gre remote 2001:db8:1::2 local 2001:db8:1::1 hoplimit $want_hl encaplimit $want_el " "$la"
    expect "$c: B: ip6gre mirrored, hoplimit $want_hl, encaplimit $want_el" \
        "ip6gre remote 2001:db8:1::1 local 2001:db8:1::2 hoplimit $want_hl encaplimit $want_el " \
        "$(ip -n $B -d link show gre6)"
    pa=$(ip -n $A xfrm policy | oneline)
    expect "$c: A: policy out selects GRE between the outer /128s, requires ESP transport" \
        '^src 2001:db8:1::1/128 dst 2001:db8:1::2/128 proto gre (key 9 )?dir out .*tmpl src 2001:db8:1::1 dst 2001:db8:1::2 proto esp .*mode transport' "$pa"
    expect "$c: A: policy in selects GRE between the outer /128s, requires ESP transport" \
        '^src 2001:db8:1::2/128 dst 2001:db8:1::1/128 proto gre (key 9 )?dir in .*tmpl src 2001:db8:1::2 dst 2001:db8:1::1 proto esp .*mode transport' "$pa"
    expect_eq "$c: A: exactly 2 IPv6 ESP SAs" 2 \
        "$(ip -n $A xfrm state | grep -c '^src 2001:db8:1::[12] dst 2001:db8:1::[12]$')"

    capture $B wire ip6 1000 "$T/cap" -v
    check "$c: ping A -> B, IPv4 inside" nsping $A 198.51.100.2
    check "$c: ping A -> B, IPv6 inside" nsping $A 2001:db8:ffff::2
    check "$c: ping B -> A, IPv4 inside" nsping $B 198.51.100.1
    check "$c: ping B -> A, IPv6 inside" nsping $B 2001:db8:ffff::1
    check "$c: ping A -> B's outer address" nsping $A 2001:db8:1::2
    capture_stop
    w=$(packets "$T/cap")
    note "$c: wire: $(grep -c 'ESP(' <<<"$w") ESP, $(grep -c 'GREv0' <<<"$w") GRE packets"
    if [ "$want_el" = none ]; then
        expect "$c: wire: A -> B is ESP, hop limit $want_hl, no destination options header" \
            "hlim $want_hl, next-header ESP \(50\).* 2001:db8:1::1 > 2001:db8:1::2: ESP\(spi=$(printf '0x%08x' $spi_out)," "$w"
        expect_not "$c: wire: no destination options header" 'DSTOPT|next-header DSTOPT' "$w"
    else
        expect "$c: wire: A -> B is ESP after a destination options header (encap limit $want_el), hop limit $want_hl" \
            "hlim $want_hl, next-header [^(]*\(60\).* 2001:db8:1::1 > 2001:db8:1::2: DSTOPT \(opt_type 0x04: .*ESP\(spi=$(printf '0x%08x' $spi_out)," "$w"
    fi
    expect "$c: wire: B -> A is ESP" "2001:db8:1::2 > 2001:db8:1::1: .*ESP\(spi=$(printf '0x%08x' $spi_in)," "$w"
    expect_not "$c: wire: no plain GRE, no inner addresses" 'GREv0|198\.51\.100\.|2001:db8:ffff::' "$w"
    expect "$c: wire: the ping of the outer address is clear ICMPv6" \
        '2001:db8:1::1 > 2001:db8:1::2: .*ICMP6, echo request' "$w"

    # ---- the exact MTU
    mtu=$(link_mtu $A gre6)
    expect_eq "$c: A's MTU is gre-tunnel mtu" "$(gt $A mtu "$T/a/ifcfg-gre6")" "$mtu"
    expect_eq "$c: B's MTU is the same" "$mtu" "$(link_mtu $B gre6)"
    note "$c: MTU $mtu"
    capture $B wire ip6 1000 "$T/cap" -v
    local failed=$_failed bug=
    check "$c: DF ping of exactly $mtu bytes (IPv4 inside) passes" \
        nsping $A -M do -s $((mtu - 28)) 198.51.100.2
    if [ $_failed != $failed ] && [ -n "$encap" ] && [ "$encap" != none ]; then
        note "KNOWN BUG (plugin/gre-mtu.c esp_net_adj): with ENCAPLIMIT the 8-byte destination"
        note "options header sits between the IPv6 header and ESP, outside ESP's padding; with a"
        note "16-byte cipher block the MTU-sized packet becomes an ESP frame over the underlay MTU"
        note "and is dropped. The alignment must use 48, not 40, as the unpadded outer part."
        bug=1
    fi
    check "$c: ping of exactly $mtu bytes (IPv6 inside) passes" \
        nsping $A -M do -s $((mtu - 48)) 2001:db8:ffff::2
    check "$c: DF ping of $((mtu + 1)) bytes fails" \
        nsping_fails $A -M do -s $((mtu + 1 - 28)) 198.51.100.2
    capture_stop
    w=$(packets "$T/cap")
    big=$(grep -E "2001:db8:1::1 > 2001:db8:1::2: .*ESP\(spi=" <<<"$w" |
        sed -n 's/.*payload length: \([0-9]*\)).*/\1/p' | sort -n | tail -1)
    note "$c: largest A -> B ESP frame: $((${big:-0} + 40)) bytes on a 1500-byte wire"
    check "$c: wire: the $mtu-byte packets went out as ESP (IPv6 payload >= $mtu)" \
        test "${big:-0}" -ge "$mtu"
    if [ -n "$bug" ]; then
        if nsping $A -M do -s $((mtu - 8 - 28)) 198.51.100.2 >/dev/null; then
            note "diagnosis: a DF ping of $((mtu - 8)) bytes passes"
        else
            note "diagnosis: a DF ping of $((mtu - 8)) bytes fails too"
        fi
    fi
    expect_not "$c: wire: and unfragmented (no IPv6 fragment header)" \
        'frag \(|next-header Fragment' "$w"
    # The MTU is the largest that works: with the device MTU raised by one by hand (so the
    # device itself no longer refuses it), a DF packet of MTU+1 still does not get through.
    ip -n $A link set gre6 mtu $((mtu + 1))
    check "$c: with the device at $((mtu + 1)) by hand, a DF ping of $((mtu + 1)) still fails" \
        nsping_fails $A -M do -s $((mtu + 1 - 28)) 198.51.100.2
    pmtu=$(ip -n $A route get 198.51.100.2 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
    note "$c: path MTU the kernel then reports for the tunnel: ${pmtu:-none}"
    ip -n $A link set gre6 mtu "$mtu"
    gt $A down gre6 >/dev/null
    gt $B down gre6 >/dev/null
}

run_case aes256-sha256 "" 50 0x6100
run_case aes128-sha256 none "" 0x6200
run_case aes256-sha1 2 "" 0x6300

finish
