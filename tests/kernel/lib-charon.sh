# shellcheck shell=bash
# One charon-systemd per namespace for the IKE tests, the demo and bench/ike.sh: each with its own
# strongswan.conf, VICI socket ($T/NS/charon.vici) and timestamped log ($T/NS/charon.log);
# charon-systemd writes no pid file, so one runs per namespace. Needs $T when a function is
# called; uses lib.sh's note when it is there. Works under `set -eu` (the demo, the bench).
# Callers set the EXIT trap themselves, e.g.  trap 'stop_all_charons; cleanup' EXIT
# (tests under lib-nm.sh need none: its cleanup kills what runs in the namespaces).
#   CHARON_FILELOG=no   no charon.log (bench/ike.sh: logging would weigh on the timings)
#   CHARON_EXTRA=LINES  more settings for the charon section (e.g. retransmit_tries = 2)
CHARON=/usr/sbin/charon-systemd
declare -A CPID=()
declare -F note >/dev/null || note() { echo "# $*"; }

# ike_skip_without_charon [CMD...]: a TAP skip and exit 0 unless charon-systemd, swanctl and each
# CMD are installed.
ike_skip_without_charon() {
    local c what=charon-systemd
    for c in swanctl "$@"; do
        what+=", $c"
    done
    what=${what%, *}" and ${what##*, }"
    for c in swanctl "$@"; do
        if [ ! -x "$CHARON" ] || ! command -v "$c" >/dev/null; then
            echo "1..0 # SKIP $what are not installed (tests/deps.sh installs them)"
            exit 0
        fi
    done
}

# stop_charon NS [SIGNAL]: stops NS's daemon (TERM by default) and waits for it to be gone.
# test-ike-interop.sh also keeps its pluto in CPID.
stop_charon() {
    local p=${CPID[$1]:-} sig=${2:-TERM}
    [ -n "$p" ] || return 0
    kill -s "$sig" "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset "CPID[$1]"
}
# stop_all_charons: all of them at once (TERM), then waits for each.
stop_all_charons() {
    local ns
    for ns in "${!CPID[@]}"; do kill "${CPID[$ns]}" 2>/dev/null || true; done
    for ns in "${!CPID[@]}"; do stop_charon "$ns"; done
}

# charon_conf NS: writes $T/NS/strongswan.conf. The plugins are what the tests' suites need
# (PSK or certificates, AES-GCM/CBC with SHA-1/2, ECP/MODP) and nothing else: no stroke, no
# other socket than VICI.
charon_conf() {
    local d=$T/$1 log=
    if [ "${CHARON_FILELOG:-yes}" != no ]; then
        log="
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
    }"
    fi
    cat >"$d/strongswan.conf" <<EOF
charon {
    load = random nonce openssl gcm aes sha1 sha2 hmac kdf pem pkcs1 pkcs8 x509 pubkey constraints kernel-netlink socket-default vici
    install_routes = no${CHARON_EXTRA:+
    $CHARON_EXTRA}
    plugins {
        vici {
            socket = unix://$d/charon.vici
        }
    }$log
}
charon-systemd {
    journal {
        default = -1
    }
}
EOF
}

# start_charon NS: charon-systemd in NS with charon_conf's file, its output in $T/NS/stdout;
# waits (up to 30 s) for the VICI socket. On failure says why (note) and returns 1.
start_charon() {
    local ns=$1 d=$T/$1 _
    mkdir -p "$d"
    rm -f "$d/charon.vici"
    charon_conf "$ns"
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
sas() { sw "$1" --list-sas 2>&1; } # sas NS: swanctl --list-sas in NS, with its errors
# settle NS [WHEN]: asserts that NS holds no keyed SA (WHEN, e.g. "after down", goes into the
# check's name); a trap that met traffic may leave larval ACQUIRE states (spi 0), which the kernel
# drops after net.core.xfrm_acq_expires (charon sets 165 s): waits up to 180 s for those, by the
# clock (under emulation on a loaded host each `ip` takes a while).
settle() {
    local ns=$1 end=$((SECONDS + 180))
    expect_eq "$ns: no keyed SA left${2:+ $2} (larval ACQUIREs aside)" "" \
        "$(ip -n "$ns" xfrm state | oneline | grep -v ' spi 0x00000000 ')"
    while [ "$SECONDS" -lt "$end" ]; do
        [ -z "$(ip -n "$ns" xfrm state)" ] && return 0
        sleep 0.5
    done
}
charon_log() { # charon_log NS...: the last IKE/CFG/CHD/KNL lines of each NS's charon
    local ns
    for ns in "$@"; do
        note "$ns's charon.log (last IKE/CFG/CHD/KNL lines):"
        grep -E '\[(IKE|CFG|CHD|KNL)\]' "$T/$ns/charon.log" 2>/dev/null | tail -25 | sed 's/^/#   /'
    done
}
# child_spis: the SPIs (in and out) of the CHILD_SAs in `swanctl --list-sas` output on stdin,
# one a line, sorted.
child_spis() { sed -nE 's/^ +(in|out) +([0-9a-f]{8})[, ].*/\2/p' | sort -u; }
# wire_esp_spis: the ESP SPIs in tcpdump lines (lib.sh's packets) on stdin, one a line, sorted;
# to compare with child_spis.
wire_esp_spis() { sed -nE 's/.*ESP\(spi=0x([0-9a-f]{8}),.*/\1/p' | sort -u; }
# esp_on_wire [PREFIX]: after an establishment between A and B (the caller's A, B, A_OUT, B_OUT,
# A_IN, B_IN): pings both ways through the tunnel, then captures one more ping on A's wire: ESP
# both ways, no plain GRE. Check names start with PREFIX. Leaves the capture's lines in $w and
# its ESP SPIs in $wire_spis, for the caller to compare with the daemons'.
esp_on_wire() {
    local p=${1:-}
    check "${p}ping A -> B through the tunnel" nsping "$A" "$B_IN"
    check "${p}ping B -> A through the tunnel" nsping "$B" "$A_IN"
    capture "$A" wire "host $B_OUT and (esp or proto 47)" 8 "$T/wire"
    nsping "$A" "$B_IN" >/dev/null
    capture_stop
    w=$(packets "$T/wire")
    expect "${p}wire: A -> B is ESP" "${A_OUT//./\\.} > ${B_OUT//./\\.}: ESP\\(spi=0x" "$w"
    expect "${p}wire: B -> A is ESP" "${B_OUT//./\\.} > ${A_OUT//./\\.}: ESP\\(spi=0x" "$w"
    expect_not "${p}wire: no plain GRE" 'GREv0' "$w"
    wire_spis=$(wire_esp_spis <<<"$w")
}

# ike_ifcfg_a [LINE...]: writes $T/a/ifcfg-gre1, end A of the pair the IKE tests share (gre1
# between A_OUT and B_OUT, inner A_IN/30 and B_IN, IPSEC=ike, A's own charon's socket), with
# the LINEs (KEY=value) the test adds.
ike_ifcfg_a() {
    mkdir -p "$T/a"
    printf '%s\n' DEVICE=gre1 TYPE=gre DEVICETYPE=gre "MY_OUTER_IPADDR=$A_OUT" \
        "PEER_OUTER_IPADDR=$B_OUT" "MY_INNER_IPADDR=$A_IN/30" "PEER_INNER_IPADDR=$B_IN" \
        IPSEC=ike "$@" "IKE_VICI_SOCKET=$T/$A/charon.vici" >"$T/a/ifcfg-gre1"
}

# ike_mirror_b [LINE...]: B's files in $T/b from A's by `gre-tunnel mirror`, with the LINEs and
# B's own charon's socket added (mirror leaves the socket out: it is a host's own).
ike_mirror_b() {
    "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1" || return 1
    printf '%s\n' "$@" "IKE_VICI_SOCKET=$T/$B/charon.vici" >>"$T/b/ifcfg-gre1"
}
