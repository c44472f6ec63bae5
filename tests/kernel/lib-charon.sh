# One charon-systemd per namespace, each with its own strongswan.conf, VICI socket and log
# under $T/NS (test-ike.sh's recipe; charon-systemd writes no pid file, so one runs per
# namespace). Source after lib-apply.sh; needs $T. Callers set the EXIT trap themselves:
#   trap 'stop_all_charons; cleanup' EXIT
CHARON=/usr/sbin/charon-systemd
declare -A CPID=()
stop_charon() { # stop_charon NS
    local p=${CPID[$1]:-}
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null
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
    load = random nonce openssl gcm aes sha2 hmac kdf pem pkcs1 pkcs8 x509 pubkey constraints kernel-netlink socket-default vici
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
            default = 1
            cfg = 2
            ike = 2
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
charon_log() { # charon_log NS...: the last IKE/CFG/CHD/KNL lines of each
    for ns in "$@"; do
        note "$ns's charon.log (last IKE/CFG/CHD lines):"
        grep -E '\[(IKE|CFG|CHD|KNL)\]' "$T/$ns/charon.log" 2>/dev/null | tail -25 | sed 's/^/#   /'
    done
}
