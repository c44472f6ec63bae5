#!/bin/bash
# Manually keyed SAs past 2^32 packets. A pair with IPSEC=manual (aes256-sha256): the outbound SA
# of each end must carry extra_flag oseq-may-wrap, the inbound SAs must not. Then the counters of
# the outbound SAs gre-tunnel made are set, in place (XFRM_MSG_NEWAE, tests/kernel/xfrm-set-oseq),
# to 2^32-21, and 40 pings each way must all come back: the wire shows each SPI's sequence number
# go from 0xffffffff to 0x1, the counters end small, and XfrmOutStateSeqError stays 0 in both
# namespaces. (Without the flag, the kernel stops each outbound SA at 2^32-1: about 20 pings of
# the first 40 come back, none after, and XfrmOutStateSeqError counts the drops.)
# Usage (root): GRE_BUILDDIR=... GRE_SRCDIR=... tests/kernel/run-test tests/kernel/test-oseq-wrap.sh
. "$(dirname "$0")/lib.sh"

SET_OSEQ=${GRE_BUILDDIR:?}/tests/kernel/xfrm-set-oseq
A=wrap-a B=wrap-b
SPI_IN=0x1201 SPI_OUT=0x1202 # A's; B's are the other way round (mirror)
START=$((0xffffffff - 20))
COUNT=40

netns $A $B
wire $A 192.0.2.1/24 $B 192.0.2.2/24
mkdir -p "$T/a" "$T/b"
cat >"$T/a/ifcfg-gre1" <<CFG
DEVICE=gre1
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.2
MY_INNER_IPADDR=198.51.100.1/30
PEER_INNER_IPADDR=198.51.100.2
IPSEC=manual
IPSEC_SUITE=aes256-sha256
SPI_ESP_IN=$SPI_IN
SPI_ESP_OUT=$SPI_OUT
CFG
keys_for aes256-sha256 "$T/a" gre1
"$G" mirror -o "$T/b" "$T/a/ifcfg-gre1" >/dev/null
VERDICT=${GRE_TUNNEL_STATE_DIR:-/run/gre-tunnel}/kernel-oseq-wrap
rm -f "$VERDICT"
check "A up" gt $A up "$T/a/ifcfg-gre1"
# The kernel check ran for A's up and found the flag honoured: remembered for this boot and
# kernel, so B's up (another process) makes no test namespace (strace sees no unshare).
boot=$(cat /proc/sys/kernel/random/boot_id)
expect "A's up remembered the verdict for this boot ($boot) and kernel ($(uname -r))" \
    "^boot $boot kernel $(uname -r) .*: oseq-may-wrap honoured\$" "$(cat "$VERDICT" 2>/dev/null)"
check "... in a file only root can read or write" test "$(stat -c %a "$VERDICT" 2>/dev/null)" = 600
ip netns exec $B strace -f -qq -o "$T/st.b" -e trace=unshare "$G" up "$T/b/ifcfg-gre1" >"$T/up.b" 2>&1
check "B up (mirror)" test $? = 0
check_not "B's up made no namespace for the check (no unshare(CLONE_NEWNET))" \
    grep CLONE_NEWNET "$T/st.b"

# ---- the flag: on the outbound SA of each end, not on the inbound ones
# (iproute2 6.1 prints extra flags with -s only: "flag extra_flag oseq-may-wrap".)
sa=$(ip -n $A -s xfrm state | oneline)
sb=$(ip -n $B -s xfrm state | oneline)
expect "A's outbound SA (spi $SPI_OUT) has extra_flag oseq-may-wrap" \
    '^src 192\.0\.2\.1 dst 192\.0\.2\.2 .*spi 0x00001202.*extra_flag oseq-may-wrap' "$sa"
expect_not "A's inbound SA has no oseq-may-wrap" '^src 192\.0\.2\.2 .*oseq-may-wrap' "$sa"
expect "B's outbound SA (spi $SPI_IN) has extra_flag oseq-may-wrap" \
    '^src 192\.0\.2\.2 dst 192\.0\.2\.1 .*spi 0x00001201.*extra_flag oseq-may-wrap' "$sb"
expect_not "B's inbound SA has no oseq-may-wrap" '^src 192\.0\.2\.1 .*oseq-may-wrap' "$sb"
st=$(gt $A status gre1 2>&1)
expect "status shows the flag on A's outbound SA" "spi 0x00001202 \\(cbc\\(aes\\), oseq-may-wrap\\)" "$st"
expect "status shows the inbound SA without it" "spi 0x00001201 \\(cbc\\(aes\\)\\)" "$st"
# The kernel check ran in a namespace of its own: nothing of it is left here.
expect_eq "A has exactly its 2 SAs" 2 "$(ip -n $A xfrm state | grep -c '^src')"
check "ping A -> B through the tunnel" nsping $A 198.51.100.2

# ---- counters near 2^32, set in place on the SAs gre-tunnel made
# oseq NS SPI: the outbound counter of the SA with SPI, as `ip -s xfrm state` shows it (hex).
oseq() {
    ip -n "$1" -s xfrm state | awk -v spi="$(printf '0x%08x' "$2")" '
        /^src / { cur = 0 }
        $1 == "proto" && $2 == "esp" && $3 == "spi" { cur = (substr($4, 1, 10) == spi) }
        cur && /oseq/ { for (i = 1; i < NF; i++) if ($i == "oseq") { v = $(i + 1); sub(/,$/, "", v); print v; exit } }'
}
check "A's outbound counter set to $(printf '0x%x' $START)" \
    ip netns exec $A "$SET_OSEQ" 192.0.2.2 $SPI_OUT $START
check "B's outbound counter set to $(printf '0x%x' $START)" \
    ip netns exec $B "$SET_OSEQ" 192.0.2.1 $SPI_IN $START
# (Exactly START unless the tunnel sent something of its own meanwhile, e.g. IPv6 router
# solicitations on gre1.)
o=$(oseq $A $SPI_OUT)
check "the kernel shows A's outbound counter at $(printf '0x%x' $START) or just above (${o:-none})" \
    test $((${o:-0})) -ge $START -a $((${o:-0})) -le $((START + 5))
check "A's outbound SA still has the flag after the counter change" \
    grep -q 'oseq-may-wrap' <<<"$(ip -n $A -s xfrm state | oneline | grep 'spi 0x00001202')"

# ---- traffic through the wrap, both ways
e0a=$(xfrm_stat $A XfrmOutStateSeqError) e0b=$(xfrm_stat $B XfrmOutStateSeqError)
capture $B wire 'ip proto 50' $((4 * COUNT)) "$T/cap"
# received NS DST: how many of COUNT pings came back.
received() {
    ip netns exec "$1" ping -n -q -c $COUNT -i 0.02 -W 2 "$2" 2>&1 |
        sed -n 's/.* \([0-9]*\) received.*/\1/p'
}
ra=$(received $A 198.51.100.2)
rb=$(received $B 198.51.100.1)
capture_stop
e1a=$(xfrm_stat $A XfrmOutStateSeqError) e1b=$(xfrm_stat $B XfrmOutStateSeqError)
note "replies: A -> B $ra/$COUNT, B -> A $rb/$COUNT; XfrmOutStateSeqError A $e0a -> $e1a, B $e0b -> $e1b"
expect_eq "ping A -> B: $COUNT of $COUNT came back through the wrap" $COUNT "${ra:-0}"
expect_eq "ping B -> A: $COUNT of $COUNT came back through the wrap" $COUNT "${rb:-0}"
expect_eq "A: XfrmOutStateSeqError stayed 0" 0 "$e1a"
expect_eq "B: XfrmOutStateSeqError stayed 0" 0 "$e1b"
w=$(cat "$T/cap")
note "wire: $(grep -c 'ESP(' <<<"$w") ESP packets"
for spi in 0x00001202 0x00001201; do
    expect "wire: spi $spi sent sequence number 0xffffffff" "ESP\(spi=$spi,seq=0xffffffff\)" "$w"
    expect "wire: spi $spi went on after the wrap (seq 0x1)" "ESP\(spi=$spi,seq=0x1\)" "$w"
done
oa=$(oseq $A $SPI_OUT) ob=$(oseq $B $SPI_IN)
note "counters after: A $oa, B $ob"
# (No counter shown counts as not wrapped.)
check "A's outbound counter wrapped (${oa:-none})" test $((${oa:-0xffffffff})) -lt 1000
check "B's outbound counter wrapped (${ob:-none})" test $((${ob:-0xffffffff})) -lt 1000

# ---- the probe of existing objects: a second `up` finds the SAs as planned; an outbound SA
# without the flag (as an older gre-tunnel made it) is drift, and `up` replaces it
out=$(gt $A up "$T/a/ifcfg-gre1" 2>&1)
expect "second up: nothing to do" 'already up as planned' "$out"
keyval() { sed -n "s/^$1=//p" "$T/a/keys-gre1"; }
ip -n $A xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi $SPI_OUT
ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi $SPI_OUT reqid $((SPI_OUT)) \
    mode transport enc 'cbc(aes)' "$(keyval KEY_ESP_OUT)" \
    auth-trunc 'hmac(sha256)' "$(keyval KEY_AESP_OUT)" 128
line=$(ip -n $A -s xfrm state | oneline | grep 'spi 0x00001202')
check "A's outbound SA re-added by hand" test -n "$line"
expect_not "the hand-made outbound SA has no flag" 'oseq-may-wrap' "$line"
out=$(gt $A up "$T/a/ifcfg-gre1" 2>&1)
expect "up names the missing flag" 'lacks the flag oseq-may-wrap' "$out"
check "up put the flag back on A's outbound SA" \
    grep -q 'extra_flag oseq-may-wrap' <<<"$(ip -n $A -s xfrm state | oneline | grep 'spi 0x00001202')"
check "ping A -> B after the repair" nsping $A 198.51.100.2

# A verdict of another boot is not believed: the check runs again and the file is renewed.
gt $B down gre1 >/dev/null
sed -i 's/^boot [^ ]* /boot 00000000-0000-0000-0000-000000000000 /' "$VERDICT"
ip netns exec $B strace -f -qq -o "$T/st.b" -e trace=unshare "$G" up "$T/b/ifcfg-gre1" >"$T/up.b" 2>&1
check "B up again, with the verdict file of another boot" test $? = 0
check "... the check ran again (unshare(CLONE_NEWNET) in a thread)" grep -q CLONE_NEWNET "$T/st.b"
expect "... and the file names this boot again" "^boot $boot " "$(cat "$VERDICT")"

# Within one process the verdict is found once: up --all of two manually keyed tunnels, with no
# verdict remembered, makes one test namespace, not two.
gt $B down gre1 >/dev/null
rm -f "$VERDICT"
mkdir -p "$T/b2"
cp "$T/b/ifcfg-gre1" "$T/b/keys-gre1" "$T/b2/"
sed -e 's/^DEVICE=.*/DEVICE=gre2/' -e "s/^SPI_ESP_IN=.*/SPI_ESP_IN=0x1301/" \
    -e "s/^SPI_ESP_OUT=.*/SPI_ESP_OUT=0x1302/" "$T/b/ifcfg-gre1" >"$T/b2/ifcfg-gre2"
echo KEY=77 >>"$T/b2/ifcfg-gre2"
cp "$T/b/keys-gre1" "$T/b2/keys-gre2"
ip netns exec $B strace -f -qq -o "$T/st.all" -e trace=unshare "$G" up --all "$T/b2" >"$T/up.all" 2>&1
check "up --all of gre1 and gre2 (both IPSEC=manual) in B" test $? = 0
expect_eq "... both outbound SAs carry the flag" 2 \
    "$(ip -n $B -s xfrm state | oneline | grep -c '^src 192\.0\.2\.2 .*oseq-may-wrap')"
expect_eq "... one test namespace for the two (unshare(CLONE_NEWNET) calls)" 1 \
    "$(grep -c CLONE_NEWNET "$T/st.all")"
gt $B down --all "$T/b2" >/dev/null

gt $A down gre1 >/dev/null
gt $B down gre1 >/dev/null
expect_eq "A: no SA left after down" 0 "$(ip -n $A xfrm state | grep -c '^src')"
expect_eq "B: no SA left after down" 0 "$(ip -n $B xfrm state | grep -c '^src')"
finish
