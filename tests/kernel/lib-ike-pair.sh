# Helpers for the IKE tests that need a charon pair (test-ike-mtu.sh, test-ike-rekey.sh,
# test-ike-plain.sh), sourced after lib-apply.sh. One charon-systemd per namespace with its own
# strongswan.conf and VICI socket under $T/NS, as test-ike.sh starts them (copied from there,
# with the signal to stop with and the CHILD_SA lifetimes as options).
CHARON=/usr/sbin/charon-systemd
ike_skip_without_charon() {
    if [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null; then
        echo "1..0 # SKIP charon-systemd and swanctl are not installed (tests/deps.sh installs them)"
        exit 0
    fi
}

declare -A CPID=()
# stop_charon NS [SIGNAL]: stops NS's charon (TERM by default) and waits for it to be gone.
stop_charon() {
    local p=${CPID[$1]:-} sig=${2:-TERM}
    [ -n "$p" ] || return 0
    kill -s "$sig" "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    unset "CPID[$1]"
}
stop_all_charons() { for ns in "${!CPID[@]}"; do stop_charon "$ns"; done; }

# start_charon NS: charon-systemd in NS with $T/NS/strongswan.conf, VICI socket
# $T/NS/charon.vici, log $T/NS/charon.log; waits (up to 30 s) for the socket.
start_charon() {
    local ns=$1 d=$T/$1 _
    mkdir -p "$d"
    rm -f "$d/charon.vici"
    cat >"$d/strongswan.conf" <<EOF
charon {
    load = random nonce openssl gcm aes sha1 sha2 hmac kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici
    install_routes = no
    plugins {
        vici {
            socket = unix://$d/charon.vici
        }
    }
    filelog {
        log {
            path = $d/charon.log
            flush_line = yes
            time_format = %T
            time_add_ms = yes
            default = 1
            cfg = 2
            ike = 2
            chd = 2
            knl = 2
        }
    }
}
charon-systemd {
    journal {
        default = -1
    }
}
EOF
    ip netns exec "$ns" env STRONGSWAN_CONF="$d/strongswan.conf" "$CHARON" >>"$d/stdout" 2>&1 &
    CPID[$ns]=$!
    for _ in $(seq 300); do
        [ -S "$d/charon.vici" ] && return 0
        sleep 0.1
    done
    note "charon in $ns did not make its socket; its output:"
    sed 's/^/#   /' "$d/stdout" "$d/charon.log" 2>/dev/null | tail -20
    return 1
}
sw() { # sw NS ARGS...: swanctl against NS's charon
    local ns=$1
    shift
    ip netns exec "$ns" swanctl "$@" --uri "unix://$T/$ns/charon.vici"
}
charon_log() { # charon_log NS...: the last IKE/CFG/CHD/KNL lines of each NS's charon
    for ns in "$@"; do
        note "$ns's charon.log (last IKE/CFG/CHD/KNL lines):"
        grep -E '\[(IKE|CFG|CHD|KNL)\]' "$T/$ns/charon.log" 2>/dev/null | tail -25 | sed 's/^/#   /'
    done
}
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
