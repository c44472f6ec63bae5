#!/bin/bash
# The exact MTU, measured: for every underlay MTU x IPsec suite x GRE header variant (and a subset
# with an IPv6 outer), bring a pair up with gre-tunnel (MTU=auto) and check what the kernel does.
# The AEAD suites, which manual keying refuses (they are for IKE), are measured too: gre-tunnel
# brings up the tunnel without IPsec at MTU = `gre-tunnel mtu --ipsec SUITE ...`, and the test
# adds the ESP SAs and GRE-only policies itself with ip xfrm, as the keying daemon would.
#   - the device MTU (dev->mtu, read from sysfs in each namespace) equals `gre-tunnel mtu CONFIG`
#     on both ends;
#   - the FIRST large packet of the fresh tunnel, a DF ping of exactly MTU bytes (-s MTU-28),
#     gets its reply, with no "message too long"/"Frag needed"/local error (both directions);
#   - MTU+1 does not fit: with the device MTU raised to the underlay MTU (so the device itself
#     does not refuse it), a DF ping of MTU+1 bytes is refused by the tunnel path and the kernel
#     reports mtu = MTU. So MTU is the largest DF packet that passes, exactly.
# On a mismatch, the largest passing size is searched for and shown.
#
# Speed: exec is slow in the TCG guest, so each namespace gets one long-lived bash (commands go
# through a FIFO; reads and writes of /sys and /proc are builtins there), both ends go up and
# down in parallel, and only the tunnel changes between cells; the wire MTU changes once per
# underlay. MTU_MATRIX=quick runs a small subset.
. "${GRE_SRCDIR:?}/tests/kernel/lib.sh"
umask 077 # keys files must be private; nothing else here needs to be shared

A=mtu-a B=mtu-b
PING_TO_B=198.51.100.2 PING_TO_A=198.51.100.1
T_START=$(date +%s)

# ---- one long-lived shell per namespace --------------------------------------------------------
declare -A SH_W SH_R SH_PID
SH_OUT="" SH_RC=0

sh_start() { # sh_start NS
    local ns=$1 w r
    mkfifo "$T/sh-$ns.in" "$T/sh-$ns.out"
    ip netns exec "$ns" bash --norc --noprofile \
        <"$T/sh-$ns.in" >"$T/sh-$ns.out" 2>&1 &
    SH_PID[$ns]=$!
    exec {w}>"$T/sh-$ns.in"
    exec {r}<"$T/sh-$ns.out"
    SH_W[$ns]=$w SH_R[$ns]=$r
}
sh_stop_all() { # EOF ends each shell; then reap it (by its own pid)
    local ns fd
    for ns in "${!SH_W[@]}"; do
        fd=${SH_W[$ns]}
        exec {fd}>&-
        fd=${SH_R[$ns]}
        exec {fd}<&-
    done
    for ns in "${!SH_PID[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "${SH_PID[$ns]}" 2>/dev/null || break
            sleep 0.2
        done
        kill "${SH_PID[$ns]}" 2>/dev/null
        wait "${SH_PID[$ns]}" 2>/dev/null
    done
    SH_W=() SH_R=() SH_PID=()
}
trap 'sh_stop_all; cleanup' EXIT

sh_send() { # sh_send NS COMMAND-LINE: start it (one line; stdin is /dev/null)
    printf '{ %s\n} </dev/null 2>&1; echo "@@rc=$?"\n' "$2" >&"${SH_W[$1]}"
}
sh_recv() { # sh_recv NS: wait for the command sent last; output in SH_OUT, status in SH_RC
    local line
    SH_OUT="" SH_RC=255
    while IFS= read -r -t 120 line <&"${SH_R[$1]}"; do
        if [[ $line =~ ^(.*)@@rc=([0-9]+)$ ]]; then # (output without a final newline ends here too)
            SH_RC=${BASH_REMATCH[2]}
            [ -n "${BASH_REMATCH[1]}" ] && SH_OUT+=${BASH_REMATCH[1]}$'\n'
            return 0
        fi
        SH_OUT+=$line$'\n'
    done
    SH_OUT+="(no answer from the shell in $1)"
    return 0
}
# both CMD_A CMD_B: run in parallel in A and B; results in OUT_A RC_A OUT_B RC_B
both() {
    sh_send $A "$1"
    sh_send $B "$2"
    sh_recv $A
    OUT_A=$SH_OUT RC_A=$SH_RC
    sh_recv $B
    OUT_B=$SH_OUT RC_B=$SH_RC
}
one() { # one NS CMD: run and wait
    sh_send "$1" "$2"
    sh_recv "$1"
}

# ---- key material: one read of /dev/urandom, sliced -----------------------------------------
RAND=$(od -An -tx1 -N4096 /dev/urandom | tr -d ' \n')
_roff=0
rhex() { # rhex BYTES: sets HEX=0x...
    local n=$(($1 * 2))
    ((_roff + n > ${#RAND})) && _roff=0
    HEX=0x${RAND:_roff:n}
    _roff=$((_roff + n))
}
suite_sizes() { # suite_sizes SUITE: ENC and AUTH key sizes in bytes; AEAD (ip xfrm) and ICV bits
    AEAD="" ICV=128
    case $1 in
    aes128gcm16 | aes128gcm12) ENC=20 AUTH=0 AEAD='rfc4106(gcm(aes))' ;;
    aes256gcm16 | aes256gcm12) ENC=36 AUTH=0 AEAD='rfc4106(gcm(aes))' ;;
    chacha20poly1305) ENC=36 AUTH=0 AEAD='rfc7539esp(chacha20,poly1305)' ;;
    aes128-sha256) ENC=16 AUTH=32 ;;
    aes256-sha256) ENC=32 AUTH=32 ;;
    aes128-sha1) ENC=16 AUTH=20 ;;
    aes256-sha1) ENC=32 AUTH=20 ;;
    esac
    [[ $1 == *gcm12 ]] && ICV=96
    return 0
}

# write_pair FAMILY SUITE KV ENCAP U: ifcfg-gre1 (+ keys-gre1) for A and B, by hand (symmetric: B's
# IN is A's OUT), in $T/{a,b}-{esp,plain}; sets CFG_A, CFG_B. KV: none | key | key+seq+csum.
# For an AEAD suite the files have no IPsec but gre-tunnel's MTU for it, and XFRM_A and XFRM_B
# hold the ip xfrm commands that add its SAs and policies; otherwise they are empty.
mkdir -p "$T/a-esp" "$T/b-esp" "$T/a-plain" "$T/b-plain"
write_pair() {
    local fam=$1 suite=$2 kv=$3 encap=$4 u=$5 end my peer mi pi spi_in spi_out extra="" k1 k2 a1 a2 d
    local flags=() ipsec=$suite
    case $kv in
    key) extra=$'KEY=4242\n' flags=(--key) ;;
    key+seq+csum) extra=$'KEY=4242\nSEQ=yes\nCSUM=yes\n' flags=(--key --seq --csum) ;;
    esac
    [ "$fam" = 6 ] && [ "$encap" = none ] && extra+=$'ENCAPLIMIT=none\n'
    [ "$fam" = 6 ] && flags+=(--ipv6)
    XFRM_A="" XFRM_B="" AEAD=""
    if [ "$suite" != none ]; then
        suite_sizes "$suite"
        rhex $ENC; k1=$HEX
        rhex $ENC; k2=$HEX
        if [ $AUTH != 0 ]; then rhex $AUTH; a1=$HEX; rhex $AUTH; a2=$HEX; fi
    fi
    if [ -n "$AEAD" ] && [ "$suite" != none ]; then
        # gre-tunnel computes the MTU; the SAs come from ip xfrm (A->B uses 0x1002 and k2).
        extra+="MTU=$("$G" mtu --ipsec "$suite" -u "$u" "${flags[@]}")"$'\n'
        ipsec=none
        if [ "$fam" = 6 ]; then my=2001:db8::1 peer=2001:db8::2; else my=192.0.2.1 peer=192.0.2.2; fi
        local sa="ip xfrm state add src $my dst $peer proto esp spi 0x1002 reqid 2 mode transport aead '$AEAD' $k2 $ICV && ip xfrm state add src $peer dst $my proto esp spi 0x1001 reqid 1 mode transport aead '$AEAD' $k1 $ICV"
        XFRM_A="$sa && ip xfrm policy add src $my dst $peer proto gre dir out tmpl src $my dst $peer proto esp reqid 2 mode transport && ip xfrm policy add src $peer dst $my proto gre dir in tmpl src $peer dst $my proto esp reqid 1 mode transport"
        XFRM_B="$sa && ip xfrm policy add src $peer dst $my proto gre dir out tmpl src $peer dst $my proto esp reqid 1 mode transport && ip xfrm policy add src $my dst $peer proto gre dir in tmpl src $my dst $peer proto esp reqid 2 mode transport"
    fi
    for end in a b; do
        if [ $end = a ]; then
            mi=198.51.100.1/30 pi=198.51.100.2 spi_in=0x1001 spi_out=0x1002
            if [ "$fam" = 6 ]; then my=2001:db8::1 peer=2001:db8::2; else my=192.0.2.1 peer=192.0.2.2; fi
        else
            mi=198.51.100.2/30 pi=198.51.100.1 spi_in=0x1002 spi_out=0x1001
            if [ "$fam" = 6 ]; then my=2001:db8::2 peer=2001:db8::1; else my=192.0.2.2 peer=192.0.2.1; fi
        fi
        d=$T/$end-esp
        [ "$ipsec" = none ] && d=$T/$end-plain
        {
            printf 'DEVICE=gre1\nTYPE=gre\nDEVICETYPE=gre\n'
            printf 'MY_OUTER_IPADDR=%s\nPEER_OUTER_IPADDR=%s\n' $my $peer
            printf 'MY_INNER_IPADDR=%s\nPEER_INNER_IPADDR=%s\n' $mi $pi
            printf '%s' "$extra"
            if [ "$ipsec" != none ]; then
                printf 'IPSEC=manual\nIPSEC_SUITE=%s\nSPI_ESP_IN=%s\nSPI_ESP_OUT=%s\n' \
                    "$suite" $spi_in $spi_out
            fi
        } >"$d/ifcfg-gre1"
        if [ "$ipsec" != none ]; then
            if [ $end = a ]; then
                printf 'KEY_ESP_IN=%s\nKEY_ESP_OUT=%s\n' $k1 $k2
                [ $AUTH != 0 ] && printf 'KEY_AESP_IN=%s\nKEY_AESP_OUT=%s\n' $a1 $a2
            else
                printf 'KEY_ESP_IN=%s\nKEY_ESP_OUT=%s\n' $k2 $k1
                [ $AUTH != 0 ] && printf 'KEY_AESP_IN=%s\nKEY_AESP_OUT=%s\n' $a2 $a1
            fi >"$d/keys-gre1"
        fi
        if [ $end = a ]; then CFG_A=$d/ifcfg-gre1; else CFG_B=$d/ifcfg-gre1; fi
    done
}

# ping output -> PASSED (0/1), REPORTED (mtu the kernel reported, or -), ERRLINE
parse_ping() {
    local out=$1
    PASSED=0 REPORTED=- ERRLINE=""
    [[ $out == *" bytes from "* ]] && PASSED=1
    if [[ $out =~ (Frag\ needed[^$'\n']*mtu\ =\ ([0-9]+)) ]]; then
        REPORTED=${BASH_REMATCH[2]} ERRLINE=${BASH_REMATCH[1]}
    elif [[ $out =~ (message\ too\ long,\ mtu=([0-9]+)) ]]; then
        REPORTED=${BASH_REMATCH[2]} ERRLINE=${BASH_REMATCH[1]}
    elif [[ $out =~ (local\ error[^$'\n']*|[Ff]rag[^$'\n']*|[Mm]essage\ too\ long[^$'\n']*) ]]; then
        ERRLINE=${BASH_REMATCH[1]}
    fi
}
pingcmd() { # pingcmd DST SIZE(IP packet bytes): the command line in PC (no subshell: forks are slow)
    PC="ping -n -c 1 -W 3 -M do -s $(($2 - 28)) $1"
}

# largest NS DST LO HI: binary search for the largest IP size that passes, device MTU raised,
# learned PMTU exceptions flushed before each probe. Sets LARGEST.
largest() {
    local ns=$1 dst=$2 lo=$3 hi=$4 mid
    pingcmd "$dst" "$lo"
    one "$ns" "echo 1 >/proc/sys/net/ipv4/route/flush; $PC"
    parse_ping "$SH_OUT"
    if [ $PASSED = 0 ]; then LARGEST="<$lo"; return; fi
    while ((hi - lo > 1)); do
        mid=$(((lo + hi) / 2))
        pingcmd "$dst" $mid
        one "$ns" "echo 1 >/proc/sys/net/ipv4/route/flush; $PC"
        parse_ping "$SH_OUT"
        if [ $PASSED = 1 ]; then lo=$mid; else hi=$mid; fi
    done
    LARGEST=$lo
}

# phase timing (builtin clock, no forks): tick NAME adds the time since the last tick to NAME
declare -A PHASE_MS
_tick_last=${EPOCHREALTIME/./}
tick() {
    local now=${EPOCHREALTIME/./}
    PHASE_MS[$1]=$((${PHASE_MS[$1]:-0} + (now - _tick_last) / 1000))
    _tick_last=$now
}

ROWS=()
CELLS=0 MATCHED=0
row() {
    local r
    printf -v r '%-5s %-4s %-17s %-13s %-5s %6s %5s %7s %6s %6s  %s' "$@"
    ROWS+=("$r")
}

# cell FAMILY UNDERLAY SUITE KV ENCAP
cell() {
    local fam=$1 u=$2 suite=$3 kv=$4 encap=$5 label why="" mtu_a dev_a dev_b first largest rep
    label="ip$fam-outer underlay $u, ${suite/none/no IPsec}, ${kv/none/no key}"
    [ "$fam" = 6 ] && label+=", encaplimit $encap"
    CELLS=$((CELLS + 1))
    tick other
    write_pair "$fam" "$suite" "$kv" "$encap" "$u"
    [ -n "$XFRM_A" ] && label+=" (SAs by ip xfrm)"
    tick write

    both "\"\$G\" up $CFG_A${XFRM_A:+ && $XFRM_A}" "\"\$G\" up $CFG_B${XFRM_B:+ && $XFRM_B}"
    if [ "$RC_A" != 0 ] || [ "$RC_B" != 0 ]; then
        not_ok "$label: gre-tunnel up failed"
        printf '%s\n%s' "$OUT_A" "$OUT_B" | sed 's/^/#   /'
        row "ip$fam" "$u" "$suite" "$kv" "$encap" - - - - FAIL "gre-tunnel up failed"
        both "\"\$G\" down gre1 >/dev/null 2>&1; ip xfrm state flush; ip xfrm policy flush" \
            "\"\$G\" down gre1 >/dev/null 2>&1; ip xfrm state flush; ip xfrm policy flush"
        return
    fi
    tick up
    # the kernel's device MTU and what gre-tunnel mtu computes, on both ends
    # (B's config mirrors A's over the same wire, so B's device must have A's number too)
    both 'read -r m </sys/class/net/gre1/mtu; echo "dev=$m"; "$G" mtu '"$CFG_A" \
        'read -r m </sys/class/net/gre1/mtu; echo "dev=$m"'
    { read -r dev_a; read -r mtu_a; } <<<"$OUT_A"
    read -r dev_b <<<"$OUT_B"
    dev_a=${dev_a#dev=} dev_b=${dev_b#dev=}
    [[ $dev_a =~ ^[0-9]+$ ]] || dev_a=0
    [[ $dev_b =~ ^[0-9]+$ ]] || dev_b=0
    [ "$dev_a" = "$mtu_a" ] || why+=" A: device mtu $dev_a != gre-tunnel mtu $mtu_a;"
    [ "$dev_b" = "$mtu_a" ] || why+=" B: device mtu $dev_b != $mtu_a;"
    tick mtu

    # the first large packet of the fresh tunnel: exactly dev MTU bytes, DF; A first, then B.
    # (One after the other: with SEQ=yes, two packets leaving one end at the same moment on two
    # CPUs can reach the peer out of order, and GRE drops the late one; not an MTU matter.)
    pingcmd $PING_TO_B "$dev_a"
    one $A "$PC"
    parse_ping "$SH_OUT"
    first=$PASSED
    [ $PASSED = 1 ] && [ -z "$ERRLINE" ] || why+=" A: first DF ping of $dev_a bytes: ${ERRLINE:-no reply};"
    pingcmd $PING_TO_A "$dev_b"
    one $B "$PC"
    parse_ping "$SH_OUT"
    [ $PASSED = 1 ] && [ -z "$ERRLINE" ] || why+=" B: first DF ping of $dev_b bytes: ${ERRLINE:-no reply};"
    if [ -n "$why" ]; then # what the receivers counted (GRE sequence drops are rx_fifo_errors)
        local c='for f in rx_errors rx_fifo_errors rx_crc_errors; do read -r v </sys/class/net/gre1/statistics/$f; printf "%s=%s " $f $v; done'
        both "$c" "$c"
        why+=" gre1 counters A: ${OUT_A%$'\n'}B: ${OUT_B%$'\n'};"
    fi

    # MTU+1 through a device that would take it: the tunnel path must refuse it
    # (A only: the path is symmetric, and exec is what costs)
    pingcmd $PING_TO_B $((dev_a + 1))
    one $A "echo $u >/sys/class/net/gre1/mtu; $PC"
    parse_ping "$SH_OUT"
    local plus_a=$PASSED
    rep=$REPORTED
    [ $plus_a = 0 ] || why+=" A: $((dev_a + 1)) bytes passed too;"
    # The kernel's own ESP figure ignores ip6gre's encapsulation limit option, which sits before
    # ESP: with a CBC suite it believes a few more bytes fit and drops MTU+1 silently (no "mtu ="
    # to report). Silence is accepted there only; any number it reports must be the MTU.
    if [ "$rep" = - ] && [ "$fam" = 6 ] && [ "$encap" = default ] && [[ $suite == *-sha* ]]; then
        note "$label: MTU+1 dropped without a report (the kernel's ESP MTU ignores the encap option)"
    else
        [ "$rep" = "$dev_a" ] || why+=" A: kernel reported mtu $rep for $((dev_a + 1)) bytes;"
    fi
    tick ping

    if [ $first = 1 ] && [ $plus_a = 0 ]; then
        largest=$dev_a
    else
        largest "$A" $PING_TO_B $((dev_a - 120)) $((u + 1))
        largest=$LARGEST
    fi
    if [ -z "$why" ]; then
        MATCHED=$((MATCHED + 1))
        ok "$label: mtu $dev_a, DF $dev_a passes first time, $((dev_a + 1)) refused (kernel: mtu $rep)"
        row "ip$fam" "$u" "$suite" "$kv" "$encap" "$mtu_a" "$dev_a" "$largest" "$rep" PASS
    else
        not_ok "$label:$why"
        row "ip$fam" "$u" "$suite" "$kv" "$encap" "$mtu_a" "$dev_a" "$largest" "$rep" FAIL "$why"
    fi
    tick search
    if [ -n "$XFRM_A" ]; then
        both "\"\$G\" down gre1 && ip xfrm state flush && ip xfrm policy flush" \
            "\"\$G\" down gre1 && ip xfrm state flush && ip xfrm policy flush"
    else
        both "\"\$G\" down gre1" "\"\$G\" down gre1"
    fi
    [ "$RC_A" = 0 ] && [ "$RC_B" = 0 ] || note "down: $OUT_A $OUT_B"
    tick down
}

set_wire_mtu() {
    both "echo $1 >/sys/class/net/wire/mtu; read -r m </sys/class/net/wire/mtu; echo \$m" \
        "echo $1 >/sys/class/net/wire/mtu; read -r m </sys/class/net/wire/mtu; echo \$m"
    if [ "${OUT_A%$'\n'}" != "$1" ] || [ "${OUT_B%$'\n'}" != "$1" ]; then
        not_ok "wire MTU $1 set on both ends (got ${OUT_A%$'\n'}/${OUT_B%$'\n'})"
        return 1
    fi
}

# ---- the matrix -------------------------------------------------------------------------------
SUITES="aes128gcm16 aes256gcm16 aes128gcm12 aes256gcm12 aes128-sha256 aes256-sha256 aes128-sha1 aes256-sha1 chacha20poly1305"
U4="1500 1492 1280"
KV="none key key+seq+csum"
U6="1500 1280"
# The AEAD suites with ip6gre: only with the default encapsulation limit, as gre-tunnel mtu has
# no flag for ENCAPLIMIT=none (and a config with an AEAD suite is refused).
SUITES6="aes256gcm16 aes128-sha1 aes256-sha256 chacha20poly1305"
KV6="key+seq+csum"
if [ "${MTU_MATRIX:-full}" = quick ]; then
    SUITES="aes128gcm16 aes128-sha256" U4="1492" KV="none key+seq+csum" U6="1280" SUITES6="aes128-sha1" KV6="key+seq+csum"
fi

netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
ip -n $A addr add 2001:db8::1/64 dev wire nodad
ip -n $B addr add 2001:db8::2/64 dev wire nodad
sh_start $A
sh_start $B
one $A "export G=$G; echo \$G"
one $B "export G=$G; echo \$G"
check "the namespace shells answer" test "${SH_OUT%$'\n'}" = "$G"
# the underlay itself works in both families (neighbours resolved once, for every cell)
both "ping -n -c 1 -W 2 192.0.2.2 && ping -n -c 1 -W 2 2001:db8::2" "true"
check "underlay: A reaches B over IPv4 and IPv6" test "$RC_A" = 0

for u in $U4; do
    set_wire_mtu "$u" || continue
    for suite in none $SUITES; do
        for kv in $KV; do
            cell 4 "$u" "$suite" "$kv" -
        done
    done
done
for u in $U6; do
    set_wire_mtu "$u" || continue
    for encap in default none; do
        for suite in none $SUITES6; do
            [ "$encap" = none ] && [[ $suite != *-sha* ]] && [ "$suite" != none ] && continue
            for kv in $KV6; do
                cell 6 "$u" "$suite" "$kv" "$encap"
            done
        done
    done
done

# ---- the table --------------------------------------------------------------------------------
note ""
note "MTU matrix (sizes are IP packet bytes; a DF ping -s N sends N+28):"
note "outer = outer family, U = underlay (veth) MTU, gt-mtu = gre-tunnel mtu CONFIG, dev = device"
note "MTU after up, largest = largest DF packet that passes, kernel = mtu the kernel reported for"
note "a DF packet of dev+1 bytes (device MTU raised to U)"
printf -v hdr '%-5s %-4s %-17s %-13s %-5s %6s %5s %7s %6s %6s' outer U suite gre encap gt-mtu dev largest kernel result
note "$hdr"
for r in "${ROWS[@]}"; do note "$r"; done
note ""
tick other
ph=""
for k in "${!PHASE_MS[@]}"; do ph+=" $k=$((PHASE_MS[$k] / 1000)).$((PHASE_MS[$k] % 1000 / 100))s"; done
note "time per phase (all cells):$ph"
note "cells: $CELLS, matched: $MATCHED, wall time in this run: $(($(date +%s) - T_START)) s"
finish
