#!/bin/bash
# Path MTU relay through the tunnel: A --- R --- B, the tunnel between A and B across R.
# Both ends come up over 1500-byte links (tunnel MTU M); then the R-B link drops to 1404.
# A DF packet of M bytes from A's inner address now fails: R sends A an ICMP "frag needed"
# (mtu 1404) about the outer packet, A learns the outer path MTU, and the tunnel answers the
# inner sender with the REDUCED inner MTU (M - 96: the tunnel's overhead is unchanged, and 96 is
# a multiple of the ESP block, 16 for AES-CBC). Evidence: ping's own error
# text, R's ICMP on the wire (tcpdump), `ip route get` of the outer and inner peers showing the
# learned mtu; then a retry at the reduced size passes and one byte more does not.
# Plain GRE first, then GRE-only IPsec (aes256-sha256, the default suite).
. "${GRE_SRCDIR:?}/tests/kernel/lib.sh"
umask 077

A=pmtu-a R=pmtu-r B=pmtu-b
A_OUT=192.0.2.1 R_A=192.0.2.254 B_OUT=203.0.113.2 R_B=203.0.113.254
A_IN=198.51.100.1 B_IN=198.51.100.2
LOW=1404

link() { # link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: a veth between two namespaces, addresses, up
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}

# ends SUITE: ifcfg-gre1 (+ keys) for A and B, mirror images
mkdir -p "$T/a" "$T/b"
ends() {
    local suite=$1 side my peer mi pi spi_in spi_out
    for side in a b; do
        if [ $side = a ]; then
            my=$A_OUT peer=$B_OUT mi=$A_IN pi=$B_IN spi_in=0x2001 spi_out=0x2002
        else
            my=$B_OUT peer=$A_OUT mi=$B_IN pi=$A_IN spi_in=0x2002 spi_out=0x2001
        fi
        {
            printf 'DEVICE=gre1\nTYPE=gre\nMY_OUTER_IPADDR=%s\nPEER_OUTER_IPADDR=%s\n' $my $peer
            printf 'MY_INNER_IPADDR=%s/30\nPEER_INNER_IPADDR=%s\n' $mi $pi
            [ "$suite" = none ] ||
                printf 'IPSEC=manual\nIPSEC_SUITE=%s\nSPI_ESP_IN=%s\nSPI_ESP_OUT=%s\n' "$suite" $spi_in $spi_out
        } >"$T/$side/ifcfg-gre1"
    done
    if [ "$suite" != none ]; then
        keys_for "$suite" "$T/a" gre1
        sed -e 's/^KEY_ESP_IN=/X=/; s/^KEY_ESP_OUT=/KEY_ESP_IN=/; s/^X=/KEY_ESP_OUT=/' \
            -e 's/^KEY_AESP_IN=/Y=/; s/^KEY_AESP_OUT=/KEY_AESP_IN=/; s/^Y=/KEY_AESP_OUT=/' \
            "$T/a/keys-gre1" >"$T/b/keys-gre1"
    else
        rm -f "$T/a/keys-gre1" "$T/b/keys-gre1"
    fi
}

# run SUITE: one full round on a fresh topology
run() {
    local suite=$1 what=${1/none/plain GRE} m out one mtu_seen low_in rg i
    [ "$suite" != none ] && what="GRE-only IPsec $suite"
    netns $A $R $B
    link $A wan $A_OUT/24 $R ra $R_A/24
    link $R rb $R_B/24 $B wan $B_OUT/24
    ip -n $A route add default via $R_A
    ip -n $B route add default via $R_B
    ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
    ends "$suite"
    check "$what: A up" gt $A up "$T/a/ifcfg-gre1"
    check "$what: B up" gt $B up "$T/b/ifcfg-gre1"
    m=$(link_mtu $A gre1)
    note "$what: tunnel MTU $m over 1500-byte links"
    out=$(ip netns exec $A ping -n -c 1 -W 3 -M do -s $((m - 28)) $B_IN 2>&1)
    expect "$what: before: a DF packet of $m bytes passes" ' bytes from ' "$out"

    # the R-B link shrinks; neither end of the tunnel is told
    ip -n $R link set rb mtu $LOW
    ip -n $B link set wan mtu $LOW
    low_in=$((m - (1500 - LOW)))

    capture $R ra "icmp and dst host $A_OUT" 4 "$T/icmp-$suite" -v
    # first try: R drops it and tells A; the next ones are answered by A's tunnel
    out=""
    for i in 1 2 3; do
        one=$(ip netns exec $A ping -n -c 1 -W 2 -M do -s $((m - 28)) $B_IN 2>&1)
        out+=$one$'\n'
        if [[ $one =~ (From [^$'\n']*|ping: [^$'\n']*|[0-9]+ bytes from [^$'\n']*) ]]; then
            note "$what: try $i, DF ping of $m bytes: ${BASH_REMATCH[1]}"
        else
            note "$what: try $i, DF ping of $m bytes: no reply, no error (dropped on the path)"
        fi
        [[ $one == *"mtu = "* || $one == *"mtu="* ]] && break
    done
    capture_stop
    note "$what: R -> A on the wire:"
    packets "$T/icmp-$suite" | sed 's/^/#   /'
    expect "$what: R sent A an ICMP frag needed with mtu $LOW" \
        "192\.0\.2\.254 > 192\.0\.2\.1: ICMP 203\.0\.113\.2 unreachable - need to frag \(mtu $LOW\)" \
        "$(packets "$T/icmp-$suite")"
    mtu_seen=$(grep -oE '(mtu = |mtu=)[0-9]+' <<<"$out" | grep -oE '[0-9]+' | head -1)
    expect_eq "$what: the inner sender is told the reduced inner MTU ($m - $((1500 - LOW)))" \
        "$low_in" "${mtu_seen:-none}"
    rg=$(ip -n $A route get $B_OUT)
    note "$what: ip route get $B_OUT: $(tr '\n' ' ' <<<"$rg")"
    expect "$what: A learned the outer path MTU $LOW" "mtu $LOW" "$rg"
    rg=$(ip -n $A route get $B_IN)
    note "$what: ip route get $B_IN: $(tr '\n' ' ' <<<"$rg")"
    expect "$what: A's inner route to the peer carries mtu $low_in" "mtu $low_in( |$)" "$rg"
    out=$(ip netns exec $A ping -n -c 1 -W 3 -M do -s $((low_in - 28)) $B_IN 2>&1)
    expect "$what: a retry at $low_in bytes passes" ' bytes from ' "$out"
    out=$(ip netns exec $A ping -n -c 1 -W 2 -M do -s $((low_in - 27)) $B_IN 2>&1)
    expect_not "$what: $((low_in + 1)) bytes still do not" ' bytes from ' "$out"
    check "$what: A down" gt $A down gre1
    check "$what: B down" gt $B down gre1
}

run none
run aes256-sha256
finish
