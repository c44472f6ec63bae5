#!/bin/bash
# IPSEC=ike, each suite IPSEC_SUITE allows with ike, over an IPv4 outer (gre) and an IPv6 outer
# (ip6gre, default encapsulation limit), one charon pair (test-ike.sh's set-up), `down`/`up` of
# both ends per cell (A first, which leaves it waiting with the trap; then B, which negotiates):
#   - the ESP states charon installed (ip xfrm state) carry exactly the suite's algorithms, key
#     lengths and ICV length, in transport mode;
#   - gre1's MTU equals `gre-tunnel mtu`'s figure, which equals manual keying's for the suite
#     (`gre-tunnel mtu` of the same file with IPSEC=manual for the CBC suites; `mtu --ipsec`
#     for the AEAD ones, which manual keying refuses);
#   - the largest DF packet through the negotiated SAs is that figure: a DF ping of exactly MTU
#     bytes passes (inner IPv4; with an IPv6 outer also inner IPv6, ping -6), and with gre1's MTU
#     raised to the underlay's, MTU+1 bytes is refused by the ESP path, the kernel reporting
#     mtu = MTU (ip6gre + CBC: the kernel drops it silently, see test-mtu-matrix.sh).
# Arguments: suites to run (default: all nine); IKE_MTU_FAMILIES="4 6" selects the outer families.
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-ike-pair.sh"
umask 077
ike_skip_without_charon
A=imtu-a B=imtu-b
U=1500
TMO=120
SUITES=${*:-aes128gcm16 aes256gcm16 aes128gcm12 aes256gcm12 aes128-sha256 aes256-sha256 aes128-sha1 aes256-sha1 chacha20poly1305}
T_START=$(date +%s)
apply_pair $A $B
trap 'stop_all_charons; cleanup' EXIT

# expected_algs SUITE: the kernel's view of the suite: "aead NAME KEYHEXLEN ICVBITS" or
# "auth-trunc NAME KEYHEXLEN ICVBITS enc NAME KEYHEXLEN" (ip's order; key lengths in hex digits, the GCM
# and ChaCha20 keys with their 4-byte salt).
expected_algs() {
    case $1 in
    aes128gcm16) echo "aead rfc4106(gcm(aes)) 40 128" ;;
    aes256gcm16) echo "aead rfc4106(gcm(aes)) 72 128" ;;
    aes128gcm12) echo "aead rfc4106(gcm(aes)) 40 96" ;;
    aes256gcm12) echo "aead rfc4106(gcm(aes)) 72 96" ;;
    aes128-sha256) echo "auth-trunc hmac(sha256) 64 128 enc cbc(aes) 32" ;;
    aes256-sha256) echo "auth-trunc hmac(sha256) 64 128 enc cbc(aes) 64" ;;
    aes128-sha1) echo "auth-trunc hmac(sha1) 40 96 enc cbc(aes) 32" ;;
    aes256-sha1) echo "auth-trunc hmac(sha1) 40 96 enc cbc(aes) 64" ;;
    chacha20poly1305) echo "aead rfc7539esp(chacha20,poly1305) 72 128" ;;
    esac
}
# kernel_algs NS: one line per keyed ESP state: "MODE ALGS" as expected_algs writes them.
kernel_algs() {
    ip -n "$1" xfrm state | oneline | grep ' proto esp ' | grep -v ' spi 0x00000000 ' | awk '{
        mode = "?"; algs = ""
        for (i = 1; i <= NF; i++) {
            if ($i == "mode") mode = $(i + 1)
            if ($i == "aead") algs = algs " aead " $(i + 1) " " (length($(i + 2)) - 2) " " $(i + 3)
            if ($i == "enc") algs = algs " enc " $(i + 1) " " (length($(i + 2)) - 2)
            if ($i == "auth-trunc") algs = algs " auth-trunc " $(i + 1) " " (length($(i + 2)) - 2) " " $(i + 3)
        }
        print mode algs }' | sort -u
}
# manual_mtu FAM SUITE: manual keying's figure for the same tunnel.
manual_mtu() {
    local fam=$1 suite=$2 flags=()
    case $suite in
    *-sha*)
        mkdir -p "$T/man"
        sed -e 's/^IPSEC=ike$/IPSEC=manual/' -e '/^IKE_/d' "$T/a/ifcfg-gre1" >"$T/man/ifcfg-gre1"
        printf 'SPI_ESP_IN=0x1001\nSPI_ESP_OUT=0x1002\n' >>"$T/man/ifcfg-gre1"
        keys_for "$suite" "$T/man" gre1
        "$G" mtu -u $U "$T/man/ifcfg-gre1"
        ;;
    *)
        [ "$fam" = 6 ] && flags=(--ipv6)
        "$G" mtu -u $U --ipsec "$suite" "${flags[@]}"
        ;;
    esac
}
# df_ping NS FAM(inner) DST SIZE(IP packet bytes): one DF ping; output in PING_OUT.
df_ping() {
    local hdr=28 v=()
    [ "$2" = 6 ] && hdr=48 v=(-6)
    PING_OUT=$(ip netns exec "$1" ping "${v[@]}" -n -c 1 -W 3 -M do -s $(($4 - hdr)) "$3" 2>&1)
}
reported_mtu() { # the mtu the kernel reported in PING_OUT, or -
    if [[ $PING_OUT =~ mtu\ ?=\ ?([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo -; fi
}

check "A: charon starts" start_charon $A
check "B: charon starts" start_charon $B
ROWS=()

# cell FAM SUITE
cell() {
    local fam=$1 suite=$2 label mtu man dev want got rep inner fams t0=$SECONDS
    label="ip$fam outer, $suite"
    if ! ike_files "$fam" "$suite"; then
        not_ok "$label: keygen/mirror"
        return
    fi
    gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >"$T/upa.out" 2>&1
    expect_eq "$label: A up first (exit 0)" 0 "$?"
    gt $B up --ike-timeout $TMO "$T/b/ifcfg-gre1" >"$T/upb.out" 2>&1
    local rc=$?
    expect_eq "$label: B up negotiates the CHILD_SA (exit 0, no warning)" "0:" \
        "$rc:$(grep -o 'warning.*' "$T/upb.out")"
    if [ $rc != 0 ]; then
        sed 's/^/#   /' "$T/upb.out"
        charon_log $A $B
    fi

    want="transport $(expected_algs "$suite")"
    got=$(kernel_algs $A)
    expect_eq "$label: A's ESP states are exactly the suite (transport mode)" "$want" "$got"
    expect_eq "$label: B's ESP states are exactly the suite (transport mode)" "$want" "$(kernel_algs $B)"
    expect_eq "$label: A has an inbound and an outbound keyed ESP state" 2 \
        "$(ip -n $A xfrm state | grep -c '^src')"

    mtu=$("$G" mtu -u $U "$T/a/ifcfg-gre1")
    man=$(manual_mtu "$fam" "$suite")
    expect_eq "$label: gre-tunnel mtu ($mtu) equals manual keying's figure" "$man" "$mtu"
    dev=$(link_mtu $A gre1)
    expect_eq "$label: A's gre1 has that MTU" "$mtu" "$dev"
    expect_eq "$label: B's gre1 has that MTU" "$mtu" "$(link_mtu $B gre1)"

    fams=4
    [ "$fam" = 6 ] && fams="4 6"
    for inner in $fams; do
        local dst=198.51.100.2
        [ "$inner" = 6 ] && dst=2001:db8:2::2
        df_ping $A $inner $dst "$mtu"
        expect "$label: inner IPv$inner DF packet of $mtu bytes passes" ' bytes from ' "$PING_OUT"
    done
    # MTU+1 through a device that would take it: the ESP path must refuse it.
    ip -n $A link set gre1 mtu $U
    for inner in $fams; do
        local dst=198.51.100.2
        [ "$inner" = 6 ] && dst=2001:db8:2::2
        df_ping $A $inner $dst $((mtu + 1))
        expect_not "$label: inner IPv$inner DF packet of $((mtu + 1)) bytes does not pass" \
            ' bytes from ' "$PING_OUT"
        rep=$(reported_mtu)
        if [ "$rep" = - ] && [ "$fam" = 6 ] && [[ $suite == *-sha* ]]; then
            note "$label: IPv$inner MTU+1 dropped without a report (the kernel's ESP MTU ignores the encapsulation limit option)"
        else
            expect_eq "$label: the kernel reports mtu $mtu for the IPv$inner packet" "$mtu" "$rep"
        fi
    done

    gt $A down gre1 >"$T/down.out" 2>&1 || { not_ok "$label: A down"; sed 's/^/#   /' "$T/down.out"; }
    gt $B down gre1 >"$T/down.out" 2>&1 || { not_ok "$label: B down"; sed 's/^/#   /' "$T/down.out"; }
    ROWS+=("$(printf '%-5s %-17s %5s %6s %5s %4s s' "ip$fam" "$suite" "$mtu" "$man" "$dev" $((SECONDS - t0)))")
}

for fam in ${IKE_MTU_FAMILIES:-4 6}; do
    for suite in $SUITES; do
        cell "$fam" "$suite"
    done
done

note "outer suite             mtu manual   dev time"
for r in "${ROWS[@]}"; do note "$r"; done
note "wall time: $(($(date +%s) - T_START)) s"
[ "$_failed" = 0 ] || charon_log $A $B
finish
