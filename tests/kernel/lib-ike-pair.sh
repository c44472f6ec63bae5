# The charon pair of test-ike-mtu.sh, test-ike-rekey.sh and test-ike-plain.sh: lib-charon.sh's
# daemons (one per namespace) and the two ends' files. Sourced after lib-apply.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib-charon.sh"

rx_packets() { ip -n "$1" -s -j link show "$2" | sed -n 's/.*"rx":{"bytes":[0-9]*,"packets":\([0-9]*\).*/\1/p'; }
# ike_files FAMILY SUITE [EXTRA-LINES]: A's ifcfg-gre1 in $T/a (IPSEC=ike, the suite, PSK by
# keygen, the socket of A's charon) and B's by mirror in $T/b. FAMILY 4: outer 192.0.2.1/.2;
# 6: 2001:db8:1::1/::2 (apply_pair's wire addresses). Inner 198.51.100.1/.2 and 2001:db8:2::1/::2.
ike_files() {
    local fam=$1 suite=$2 extra=${3:-} my=192.0.2.1 peer=192.0.2.2
    [ "$fam" = 6 ] && my=2001:db8:1::1 peer=2001:db8:1::2
    rm -rf "$T/a" "$T/b"
    mkdir -p "$T/a" "$T/b"
    cat >"$T/a/ifcfg-gre1" <<EOF
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=$my
PEER_OUTER_IPADDR=$peer
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
MY_INNER_IP6ADDR=2001:db8:2::1/64
PEER_INNER_IP6ADDR=2001:db8:2::2
TTL=64
IPSEC=ike
IPSEC_SUITE=$suite
IKE_VICI_SOCKET=$T/$A/charon.vici
$extra
EOF
    "$G" keygen "$T/a/ifcfg-gre1" >/dev/null &&
        "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1" >/dev/null &&
        echo "IKE_VICI_SOCKET=$T/$B/charon.vici" >>"$T/b/ifcfg-gre1"
}
