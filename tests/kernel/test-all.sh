#!/bin/bash
# gre-tunnel up --all / down --all on a directory of 50 tunnels in one namespace: 47 plain GRE
# and 3 with GRE-only IPsec (keys made by gre-tunnel keygen), among them one broken file (a bad
# TTL), one with ONBOOT=no and one whose device name is taken by a foreign link when up --all
# runs; beside them files that are not ours (another DEVICETYPE, a file for bash, a backup, an
# alias), which must be left alone. Asserted on what the kernel shows:
#  - up --all exits non-zero, names the broken file (file, line, key) and the conflicting
#    tunnel, and the other 47 are there (ip -d link: kind, remote, key, MTU; ip addr); the
#    conflicting one is rolled back (the foreign link untouched, nothing else of it);
#  - once the foreign link is gone, up --all again: 48 up, the broken one still named;
#  - the whole run uses one netlink route socket and one xfrm socket for all tunnels, plus the
#    oseq-may-wrap probe's own (strace);
#  - down --all takes down every one of them, also one whose file was deleted in between, and
#    leaves a tunnel brought up from another directory alone; then the namespace's ip -d link,
#    ip addr, ip route and ip xfrm dumps equal those from before.
. "$(dirname "${BASH_SOURCE[0]}")/lib-apply.sh"

A=all-a B=all-b
N=50 BROKEN=t13 OFF=t27 CLASH=t31 GONE=t20
IPSEC_ONES="t05 t10 t40"
D=$T/scripts
apply_pair $A $B
mkdir -p "$D"

# MTUs worked out by hand for a 1500-byte wire, with a GRE key (8 bytes of GRE):
#  plain: 1500 - 20 (IPv4) - 8 = 1472;
#  aes256-sha256: ESP adds 8 (header) + 16 (IV) + 16 (ICV) to an IPv4 packet of 20, leaving
#  1440, a multiple of the 16-byte block, of which 2 are ESP's trailer: 1438 - 8 = 1430.
mtu_of() { case " $IPSEC_ONES " in *" $1 "*) echo 1430 ;; *) echo 1472 ;; esac; }

for i in $(seq 1 $N); do
    name=$(printf 't%02d' "$i")
    {
        echo "DEVICE=$name"
        echo "TYPE=gre"
        echo "DEVICETYPE=gre"
        echo "ONBOOT=$([ "$name" = $OFF ] && echo no || echo yes)"
        echo "PEER_OUTER_IPADDR=192.0.2.$((100 + i))"
        echo "MY_INNER_IPADDR=198.51.100.$((2 * i))/31"
        echo "PEER_INNER_IPADDR=198.51.100.$((2 * i + 1))"
        echo "ROUTES=203.0.113.$i/32"
        echo "KEY=$((1000 + i))"
        [ "$name" = $BROKEN ] && echo "TTL=sixty"
        case " $IPSEC_ONES " in *" $name "*) echo "IPSEC=manual" ;; esac
    } >"$D/ifcfg-$name"
done
for name in $IPSEC_ONES; do
    "$G" keygen "$D/ifcfg-$name" >"$T/keygen.out" 2>&1 || { cat "$T/keygen.out"; exit 1; }
done
# Not ours: another device type, a file only bash can read, a backup and an alias of a gre
# file (network-scripts skip both), each naming a device that must never appear.
printf 'DEVICE=ghost1\nTYPE=Ethernet\nONBOOT=yes\n' >"$D/ifcfg-eth9"
printf 'DEVICE=ghost2\nONBOOT=yes\nexport PATH=$(pwd)\n' >"$D/ifcfg-weird"
sed 's/^DEVICE=.*/DEVICE=ghost3/' "$D/ifcfg-t01" >"$D/ifcfg-t01.bak"
sed 's/^DEVICE=.*/DEVICE=ghost4/' "$D/ifcfg-t01" >"$D/ifcfg-t01~"
sed 's/^DEVICE=.*/DEVICE=ghost5/' "$D/ifcfg-t01" >"$D/ifcfg-t01:1"
# A tunnel of the same namespace brought up from another directory: not down --all's.
mkdir -p "$T/elsewhere"
sed -e 's/^DEVICE=.*/DEVICE=other/' -e 's/^KEY=.*/KEY=7/' -e 's/^ROUTES=.*//' \
    -e 's/^MY_INNER_IPADDR=.*/MY_INNER_IPADDR=198.51.100.200\/31/' \
    -e 's/^PEER_INNER_IPADDR=.*/PEER_INNER_IPADDR=198.51.100.201/' "$D/ifcfg-t02" \
    >"$T/elsewhere/ifcfg-other"

dump $A >"$T/before"

# ---- first up --all: the clash is there ----
ip -n $A link add $CLASH type dummy
ip -n $A -d link show $CLASH >"$T/clash.before"
if command -v strace >/dev/null; then
    ip netns exec $A strace -f -qq -e trace=socket -o "$T/strace" "$G" up --all "$D" \
        >"$T/up1.out" 2>"$T/up1.err"
else
    gt $A up --all "$D" >"$T/up1.out" 2>"$T/up1.err"
fi
rc=$?
out=$(cat "$T/up1.out" "$T/up1.err")
check "up --all with a broken file and a clash exits 1 or 3, not 0 (rc=$rc)" test "$rc" -ne 0
expect "the broken file is named with its line and key" \
    "ifcfg-$BROKEN:[0-9]+: TTL: \"sixty\"" "$out"
expect "the clashing tunnel is named with the kernel's reason" \
    "^gre-tunnel: $CLASH: creating \"ip link add $CLASH .*File exists" "$out"
expect "the summary counts 47 up and names both failures" \
    "^47 up, 2 failed: $BROKEN, $CLASH\$" "$out"
expect "one progress line per tunnel, with objects and MTU" \
    "^t01: up: 4 objects created, MTU 1472\$" "$out"
expect "an IPsec tunnel's line says so" \
    "^t05: up: 8 objects created, MTU 1430, GRE-only IPsec\$" "$out"
expect_not "files that are not ours are not mentioned" "ghost|eth9|weird|t01\.bak|t01~|t01:1" "$out"
expect_not "ONBOOT=no is skipped quietly" "$OFF" "$out"
# The order is network-scripts' (t02 after t01, t10 after t09).
order=$(sed -n 's/^\(t[0-9]*\): up:.*/\1/p' "$T/up1.out" | tr '\n' ' ')
expect_eq "progress in name order" \
    "$(for i in $(seq 1 $N); do printf 't%02d ' "$i"; done | sed "s/$BROKEN //; s/$OFF //; s/$CLASH //")" \
    "$order"

ip -n $A -d link show $CLASH >"$T/clash.after"
check "the foreign link named $CLASH is untouched" same_dump "$T/clash.before" "$T/clash.after"
expect_not "nothing else of $CLASH: no address, route or record" \
    "198\.51\.100\.62/|203\.0\.113\.31 " "$(ip -n $A addr; ip -n $A route)"
check "no record for $CLASH" test ! -e "$(record_of $A $CLASH)"

if [ -s "$T/strace" ]; then
    # NETLINK_ROUTE is protocol 0, NETLINK_XFRM 6. Without sharing, every tunnel would open a
    # route socket for its route lookup and one for apply: 100 and more.
    rt=$(grep -c 'socket(AF_NETLINK, [^,]*, NETLINK_ROUTE)' "$T/strace")
    xf=$(grep -c 'socket(AF_NETLINK, [^,]*, NETLINK_XFRM)' "$T/strace")
    # The oseq-may-wrap probe opens one of each in a namespace of its own, once per IPsec tunnel
    # (at most 3 here).
    check "50 tunnels, one process: at most 4 route sockets ($rt) and 4 xfrm sockets ($xf)" \
        test "$rt" -le 4 -a "$xf" -le 4 -a "$rt" -ge 1 -a "$xf" -ge 1
else
    note "no strace here: socket sharing not checked"
fi

# ---- second up --all: the clash is gone ----
ip -n $A link del $CLASH
gt $A up --all "$D" >"$T/up2.out" 2>"$T/up2.err"
rc=$?
out=$(cat "$T/up2.out" "$T/up2.err")
check "up --all again still fails for the broken file (rc=$rc)" test "$rc" -eq 1
expect "48 up now, the broken one named" "^48 up, 1 failed: $BROKEN\$" "$out"
expect "the tunnels already up are left as they are" \
    "^t01: already up as configured; nothing changed\$" "$out"
expect "$CLASH comes up now" "^$CLASH: up: 4 objects created, MTU 1472\$" "$out"
expect_not "one line per tunnel: no note repeating it" "already up as planned" "$out"
# -q: only the error and the summary line.
gt $A up -q --all "$D" >"$T/up3.out" 2>&1
expect_eq "up -q --all: only the broken file's error and the summary" \
    "2 $BROKEN" "$(grep -c . "$T/up3.out") $(sed -n 's/^47 up, 1 failed: //p; s/^48 up, 1 failed: //p' "$T/up3.out")"

# ---- what the kernel shows ----
links=$(ip -n $A -d -o link show type gre)
expect_eq "48 gre links (ip -d link)" 48 "$(grep -c '^[0-9]*: t[0-9]*@' <<<"$links")"
addrs=$(ip -n $A -o -4 addr show)
routes=$(ip -n $A route show)
bad=""
for i in $(seq 1 $N); do
    name=$(printf 't%02d' "$i")
    line=$(grep "^[0-9]*: $name@" <<<"$links")
    if [ "$name" = $BROKEN ] || [ "$name" = $OFF ]; then
        [ -z "$line" ] || bad+="$name exists; "
        continue
    fi
    [[ $line == *" mtu $(mtu_of $name) "* ]] || bad+="$name mtu; "
    [[ $line == *"gre remote 192.0.2.$((100 + i)) local 192.0.2.1 "* ]] || bad+="$name ends; "
    key=0.0.$(((1000 + i) >> 8)).$(((1000 + i) & 255))
    [[ $line == *" ikey $key okey $key "* ]] || bad+="$name key; "
    grep -q " $name * inet 198\.51\.100\.$((2 * i)) peer 198\.51\.100\.$((2 * i + 1))/31 " <<<"$addrs" ||
        bad+="$name addr; "
    grep -q "^203\.0\.113\.$i dev $name .*src 198\.51\.100\.$((2 * i))" <<<"$routes" || bad+="$name route; "
done
expect_eq "each of the 48: kind, ends, key, MTU, inner address and route as its file says" "" "$bad"
states=$(ip -n $A xfrm state | grep -c '^src ')
policies=$(ip -n $A xfrm policy | grep -c '^src ')
expect_eq "the 3 IPsec tunnels: 6 SAs" 6 "$states"
expect_eq "the 3 IPsec tunnels: 6 policies" 6 "$policies"
check "a ghost of a file that is not ours never appears" \
    test -z "$(ip -n $A -o link show | grep ghost)"

# ---- down --all ----
gt $A up "$T/elsewhere/ifcfg-other" >"$T/other.out" 2>&1 || cat "$T/other.out"
rm "$D/ifcfg-$GONE" "$D/keys-$GONE" 2>/dev/null
gt $A down --all "$D" >"$T/down.out" 2>&1
rc=$?
out=$(cat "$T/down.out")
check "down --all succeeds (rc=$rc)" test "$rc" -eq 0
expect "48 down" "^48 down, 0 failed\$" "$out"
expect "the tunnel whose file was deleted comes down too" "^$GONE: down: [0-9]+ objects? removed\$" "$out"
order=$(sed -n 's/^\(t[0-9]*\): down:.*/\1/p' "$T/down.out" | head -3 | tr '\n' ' ')
expect_eq "down in reverse name order" "t50 t49 t48 " "$order"
check "the tunnel from another directory is left up" ip -n $A link show other
gt $A down other >/dev/null 2>&1
dump $A >"$T/after"
check "after down --all the namespace is as before (link, addr, route, xfrm)" \
    same_dump "$T/before" "$T/after"
expect_eq "no records left" "" "$(ls "$(dirname "$(record_of $A t01)")" 2>/dev/null | grep '\.state$')"

finish
