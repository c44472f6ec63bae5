#!/bin/bash
# IPSEC=ike under rekeying: a pair with IKE_REKEY_TIME of seconds (charon rekeys each CHILD_SA
# then, its hard lifetime 10 % later) carries a ping every 50 ms from A to B's inner address
# while the CHILD_SA is rekeyed at least three times, and the IKE_SA once (swanctl --rekey
# --ike, as IKE_SA lifetimes are charon's default of hours and not a setting of ours):
#   - each CHILD_SA rekey puts new SPIs into the kernel (ip xfrm monitor on A: at least four
#     outbound and four inbound SPIs in all), and the wire carries ESP under at least four SPIs
#     each way, every one of them an SA A's kernel had; never plain GRE;
#   - the IKE_SA rekey gives new IKE SPIs (swanctl --list-sas), the CHILD_SA stays installed;
#   - the ping's loss is reported (packets, ms, and when against the rekeys); the target is none.
# Two rounds: (1) only A rekeys by time (B's IKE_REKEY_TIME is 600 s, which `check` only warns
# about): the loss must be at most LOSS_MAX (default 0); the IKE_SA is rekeyed here. (2) both
# ends have the same IKE_REKEY_TIME, as `mirror` writes them: with lifetimes this short both
# start each rekey within charon's jitter (10 % of the time) and the exchanges collide; the loss
# is reported, and above LOSS_MAX marked TODO (TAP), not failed: charon 5.9.8 drops traffic
# while it resolves a collision (see the report in the test's output).
# IKE_REKEY_TIME (default 15 s here) can be set in the environment.
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-ike-pair.sh"
umask 077
ike_skip_without_charon
A=rekey-a B=rekey-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 B_IN=198.51.100.2
REKEY=${IKE_REKEY_TIME:-15}
LOSS_MAX=${LOSS_MAX:-0}
INTERVAL_MS=50
TMO=120
apply_pair $A $B
MON=""
trap 'kill $MON 2>/dev/null; stop_all_charons; cleanup' EXIT

# spis FILE: "DST SPI" for every keyed ESP SA in an `ip xfrm state` or `ip xfrm monitor` text.
spis() {
    awk '/^(Deleted |Updated |Expired )?src / { for (i = 1; i < NF; i++) if ($i == "dst") d = $(i + 1) }
         $1 == "proto" && $2 == "esp" && $3 == "spi" && $4 != "0x00000000" { print d, substr($4, 3) }' "$1" | sort -u
}
n_spis() { spis "$1" | awk -v d="$2" '$1 == d' | wc -l; }
ike_spis() { sw $A --list-sas --ike gre-gre1 2>&1 | sed -nE 's/^gre-gre1: #[0-9]+, ESTABLISHED, IKEv2, ([0-9a-f]+_i\*? [0-9a-f]+_r\*?).*/\1/p'; }

# wire_spis SRC DST: the ESP SPIs seen so far from SRC to DST in the capture.
wire_spis() {
    sed -nE "s/.* ${1//./\\.} > ${2//./\\.}: ESP\\(spi=0x([0-9a-f]{8}),.*/\\1/p" "$T/wire" | sort -u
}
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
xstats() { # xstats NS: the non-zero counters of /proc/net/xfrm_stat, "Name N" a line
    ip netns exec "$1" awk '$2 != 0' /proc/net/xfrm_stat
}
# round LABEL B_REKEY COLLIDE IKE_REKEY: one pair up, the ping across three CHILD_SA rekeys
# (and the IKE_SA rekey when IKE_REKEY is yes), the checks, both ends down.
round() {
    local R=$1 b_rekey=$2 collide=$3 ike_rekey=$4
    check "$R: files with IKE_REKEY_TIME=$REKEY (keygen, mirror)" ike_files 4 aes256gcm16 "IKE_REKEY_TIME=$REKEY"
    [ "$b_rekey" != "$REKEY" ] && sed -i "s/^IKE_REKEY_TIME=.*/IKE_REKEY_TIME=$b_rekey/" "$T/b/ifcfg-gre1"
    expect "$R: plan: the CHILD_SA's rekey_time is ${REKEY}s" "rekey_time = ${REKEY}s" \
        "$("$G" plan "$T/a/ifcfg-gre1" 2>&1)"

    gt $A up --ike-timeout 8 "$T/a/ifcfg-gre1" >"$T/upa.out" 2>&1
    expect_eq "$R: A up first (exit 0)" 0 "$?"
    gt $B up --ike-timeout $TMO "$T/b/ifcfg-gre1" >"$T/upb.out" 2>&1
    rc=$?
    expect_eq "$R: B up negotiates the CHILD_SA (exit 0, no warning)" "0:" "$rc:$(grep -o 'warning.*' "$T/upb.out")"
    [ "$rc" = 0 ] || sed 's/^/# B up: /' "$T/upb.out"
    check "$R: ping A -> B through the tunnel" nsping $A $B_IN

    xstats $A >"$T/xs-a0"
    xstats $B >"$T/xs-b0"
    ip -n $A xfrm state >"$T/state0"
    ip -n $A xfrm monitor SA >"$T/mon" 2>&1 &
    MON=$!
    capture $A wire "host $B_OUT and (esp or proto 47)" 100000 "$T/wire"
    ping_t0=$(now_ms)
    ip netns exec $A ping -n -O -i "$(printf '0.%03d' $INTERVAL_MS)" $B_IN >"$T/ping" 2>&1 &
    PING=$!

    ike0=$(ike_spis)
    ike1=""
    t0=$SECONDS
    seen=1 rekeys=0 events=""
    # Until three CHILD_SA rekeys have put new outbound SAs into A's kernel (or 10 rekey times). A
    # rekey is a poll that finds new outbound SPIs (a rekey collision adds two pairs at once).
    while [ $((SECONDS - t0)) -lt $((REKEY * 10)) ]; do
        sleep 0.5
        cat "$T/state0" "$T/mon" >"$T/all"
        n=$(n_spis "$T/all" $B_OUT)
        if [ "$n" -gt "$seen" ]; then
            rekeys=$((rekeys + 1)) seen=$n
            events+=" $((($(now_ms) - ping_t0) / 100))"
        fi
        if [ $rekeys -ge 1 ] && [ -z "$ike1" ] && [ "$ike_rekey" = yes ]; then
            ike1=$((($(now_ms) - ping_t0) / 100))
            check "$R: the IKE_SA is rekeyed on request (swanctl --rekey --ike)" \
                sw $A --rekey --ike gre-gre1
        fi
        # A CHILD_SA of A's own trap can add a pair just after B's: go on until the wire, too,
        # shows four SPIs each way (three rekeys).
        [ $rekeys -ge 3 ] && [ "$(wire_spis "$A_OUT" "$B_OUT" | grep -c .)" -ge 4 ] &&
            [ "$(wire_spis "$B_OUT" "$A_OUT" | grep -c .)" -ge 4 ] && break
    done
    note "$R: CHILD_SA rekeys seen: $rekeys in $((SECONDS - t0)) s; $seen outbound SPIs in all"
    sleep 2 # a few more pings after the last rekey
    kill -INT $PING
    wait $PING
    check "$R: three CHILD_SA rekeys seen in A's kernel ($rekeys)" test "$rekeys" -ge 3
    # When the losses were, against the rekeys (tenths of a second since the first ping).
    lost_seqs=$(awk '/ bytes from / { for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) got[substr($i, 10)] = 1 }
        / packets transmitted/ { tx = $1 }
        END { for (s = 1; s <= tx; s++) if (!(s in got)) print s }' "$T/ping")
    bursts=$(printf '%s\n' $lost_seqs | awk -v ms=$INTERVAL_MS 'NF {
            if ($1 != last + 1) { if (n) printf "%d (%d lost at %.1f s) ", first, n, first * ms / 1000; first = $1; n = 0 }
            n++; last = $1 }
        END { if (n) printf "%d (%d lost at %.1f s)", first, n, first * ms / 1000 }')
    note "$R: rekeys of the CHILD_SA seen at (s):$(for e in $events; do printf ' %d.%d' $((e / 10)) $((e % 10)); done); IKE_SA rekey asked at $((${ike1:-0} / 10)).$((${ike1:-0} % 10)) s"
    note "$R: lost pings: ${bursts:-none}"
    for ns in $A $B; do
        f=$T/xs-a0
        [ $ns = $B ] && f=$T/xs-b0
        note "$ns: xfrm_stat counters that moved: $(xstats $ns | awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "%s +%d ", $1, $2 - b[$1] }' "$f" -)"
    done
    capture_stop
    kill $MON 2>/dev/null
    wait $MON 2>/dev/null
    MON=""

    cat "$T/state0" "$T/mon" >"$T/all"
    k_out=$(n_spis "$T/all" $B_OUT)
    k_in=$(n_spis "$T/all" $A_OUT)
    check "$R: A's kernel: at least 4 outbound SPIs (3 rekeys; $k_out)" test "$k_out" -ge 4
    check "$R: A's kernel: at least 4 inbound SPIs (3 rekeys; $k_in)" test "$k_in" -ge 4
    w=$(packets "$T/wire")
    expect_not "$R: wire: no plain GRE while rekeying" 'GREv0' "$w"
    wire_out=$(printf '%s\n' "$w" | sed -nE "s/.* ${A_OUT//./\\.} > ${B_OUT//./\\.}: ESP\\(spi=0x([0-9a-f]{8}),.*/\\1/p" | sort -u)
    wire_in=$(printf '%s\n' "$w" | sed -nE "s/.* ${B_OUT//./\\.} > ${A_OUT//./\\.}: ESP\\(spi=0x([0-9a-f]{8}),.*/\\1/p" | sort -u)
    note "$R: wire SPIs A -> B: $(echo $wire_out); B -> A: $(echo $wire_in)"
    check "$R: wire: ESP A -> B under at least 4 SPIs" test "$(printf '%s\n' "$wire_out" | grep -c .)" -ge 4
    check "$R: wire: ESP B -> A under at least 4 SPIs" test "$(printf '%s\n' "$wire_in" | grep -c .)" -ge 4
    known=$(spis "$T/all" | awk '{ print $2 }' | sort -u)
    expect_eq "$R: wire: every SPI is one A's kernel had" "" \
        "$(comm -23 <(printf '%s\n' $wire_out $wire_in | sort -u) <(printf '%s\n' "$known"))"

    if [ "$ike_rekey" = yes ]; then
        ike2=$(ike_spis)
        note "$R: IKE SPIs before: ${ike0:-none}; after: ${ike2:-none}"
        check "$R: the IKE_SA was rekeyed: new IKE SPIs, still established" \
            test -n "$ike2" -a -n "$ike0" -a "$ike2" != "$ike0"
    fi
    expect "$R: the CHILD_SA is still installed in transport mode" \
        '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$(sw $A --list-sas 2>&1)"

    summary=$(grep -E 'packets transmitted' "$T/ping")
    tx=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' <<<"$summary")
    rx=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$summary")
    note "$R: ping every ${INTERVAL_MS} ms across $rekeys CHILD_SA rekeys: $summary"
    lost=$((${tx:-0} - ${rx:-0}))
    note "$R: lost: $lost packets (~$((lost * INTERVAL_MS)) ms)"
    check "$R: ping: packets were sent ($tx)" test "${tx:-0}" -gt 100
    if [ "$collide" = no ] || [ "$lost" -le "$LOSS_MAX" ]; then
        check "$R: ping: at most $LOSS_MAX lost ($lost)" test "$lost" -le "$LOSS_MAX"
    else
        _n=$((_n + 1))
        echo "not ok $_n - $R: ping: at most $LOSS_MAX lost ($lost) # TODO rekey collisions lose traffic in charon 5.9.8"
    fi
    if [ "$lost" -gt 0 ]; then
        for ns in $A $B; do
            note "$ns's charon on rekeying (time, thread, message):"
            grep -iE 'rekey|collision|redundant|CHILD_SA .*(established|delet)|(adding|deleting) SAD|updating SAD' \
                "$T/$ns/charon.log" | cut -c1-170 | tail -40 | sed 's/^/#   /'
        done
    fi
    check "$R: the tunnel still carries traffic after the last rekey" nsping $A $B_IN

    gt $A down gre1 >/dev/null 2>&1
    gt $B down gre1 >/dev/null 2>&1
    expect_eq "$R: after down: no keyed SA left on A" "" \
        "$(ip -n $A xfrm state | oneline | grep ' proto esp ' | grep -v ' spi 0x00000000 ')"
}

check "A: charon starts" start_charon $A
check "B: charon starts" start_charon $B
round "1 (A rekeys)" 600 no yes
round "2 (both rekey)" "$REKEY" yes no
[ "$_failed" = 0 ] || charon_log $A $B
finish
