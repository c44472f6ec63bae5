#!/bin/bash
# `gre-tunnel up` is all or nothing. For a gre plan with every kind of step (ESP states with
# CBC + HMAC keys, policies, a pinned remote, link, link up, inner IPv4 and IPv6 addresses,
# IPv4 and IPv6 routes) and for an ip6gre plan:
#  - a failure forced at every step N (GRE_TUNNEL_FAULT_STEP=N, N = 0 .. steps-1), and
#  - real kernel conflicts: a foreign object placed beforehand makes a step fail with EEXIST,
# must each end with exit status 3, a message naming the failing step, the full dump (lib.sh
# dump) byte-identical to the one taken before, and no ownership record. A kernel event
# monitor shows that the steps before the failing one were really created (and removed again),
# so the identical dumps are not vacuous.
. "$(dirname "${BASH_SOURCE[0]}")/lib-apply.sh"

A=rb-a B=rb-b
trap 'mon_stop; cleanup' EXIT

apply_pair $A $B
cfg_gre1 "$T/cfg"
cfg_tun6 "$T/cfg"
# Everything the kernel tells about A's links, addresses, routes and xfrm objects, as events.
mon_start $A

# expect_rolled_back DESC RC OUT BEFORE NAME PATTERN: exit 3, OUT matches PATTERN (grep -F),
# dump identical to BEFORE, no record for NAME.
expect_rolled_back() {
    local desc=$1 rc=$2 out=$3 before=$4 name=$5 pattern=$6 why=""
    dump $A >"$T/after"
    [ "$rc" = 3 ] || why+="exit status $rc, not 3; "
    grep -qF -- "$pattern" "$out" || why+="the message does not name the step ($pattern); "
    same_dump "$before" "$T/after" >"$T/diff" || why+="the dump differs; "
    [ ! -e "$(record_of $A "$name")" ] || why+="a record is left; "
    if [ -z "$why" ]; then
        ok "$desc"
    else
        not_ok "$desc: $why"
        sed 's/^/#   out: /' "$out" | head -5
        sed 's/^/#   /' "$T/diff" | head -30
    fi
}

for name in gre1 tun6; do
    cfg=$T/cfg/ifcfg-$name
    plan_steps $A "$cfg" "$T/steps.$name"
    n=$(wc -l <"$T/steps.$name")
    note "$name: $n steps"
    dump $A >"$T/before.$name"

    # The plan really has every kind of step, as the kernel shows after a complete up.
    mon_settle
    mark=$(mon_mark)
    up_to $A "$cfg" "$T/out"
    rc=$?
    [ $rc = 0 ] && ok "$name: a complete up succeeds (control)" ||
        { not_ok "$name: a complete up succeeds (control): rc=$rc"; sed 's/^/#   /' "$T/out"; }
    dump $A >"$T/full.$name"
    mon_settle
    # The inner IPv6 address must be usable (not "tentative") as soon as it is added, since the
    # routes that follow use it as their source. The kernel announces it tentative when it is
    # added without nodad; the route with src then races the kernel's DAD worker.
    if mon_since "$mark" | grep -E "inet6 2001:db8:[0-9]+::1 peer .* tentative" >"$T/tent"; then
        not_ok "$name: the inner IPv6 address is added tentative (without nodad): $(head -1 "$T/tent" | sed 's/ *$//'); the route with src after it can fail \"Invalid source address\""
    else
        ok "$name: the inner IPv6 address is never tentative"
    fi
    check_not "$name: after a complete up the dump differs (the comparison can fail)" \
        same_dump "$T/before.$name" "$T/full.$name"
    mtu=$(sed -n "s/^ip link add $name mtu \([0-9]*\) .*/\1/p" "$T/steps.$name") # as planned
    if [ $name = gre1 ]; then
        kinds=('auth-trunc hmac(sha256) 0x' 'enc cbc(aes) 0x' 'proto gre key 42 ' 'dir in priority'
            'dir out priority' '192.0.2.2 dev wire proto static scope link'
            'gre remote 192.0.2.2 local 192.0.2.1 ttl 64' "UP,LOWER_UP> mtu $mtu "
            'inet 198.51.100.1 peer 198.51.100.2/30' 'inet6 2001:db8:2::1 peer 2001:db8:2::2/64'
            '192.0.2.0/24 dev gre1 proto static scope link src 198.51.100.1 metric 50'
            '203.0.113.0/24 dev gre1 proto static scope link src 198.51.100.1'
            '2001:db8:3::/48 dev gre1 proto static src 2001:db8:2::1 metric 7')
    else
        kinds=('auth-trunc hmac(sha1) 0x' 'enc cbc(aes) 0x' 'proto gre key 7 ' 'dir in priority'
            'dir out priority' '2001:db8:1::2 dev wire proto static metric 1024'
            'ip6gre remote 2001:db8:1::2 local 2001:db8:1::1 hoplimit 64' "UP,LOWER_UP> mtu $mtu "
            'inet 198.51.100.5 peer 198.51.100.6/30' 'inet6 2001:db8:4::1 peer 2001:db8:4::2/64'
            '2001:db8:1::/48 dev tun6 proto static src 2001:db8:4::1 metric 20'
            '203.0.113.128/25 dev tun6 proto static scope link src 198.51.100.5 metric 5')
    fi
    missing=""
    for k in "${kinds[@]}"; do grep -qF -- "$k" "$T/full.$name" || missing+="[$k] "; done
    if [ -z "$missing" ]; then ok "$name: the kernel shows every kind of object the plan has"; else
        not_ok "$name: the kernel lacks $missing"
    fi
    check "$name: down after the control up" gt $A down $name
    dump $A >"$T/after"
    check "$name: down restores the dump" same_dump "$T/before.$name" "$T/after"

    # A failure at every step.
    mon_settle
    for ((i = 0; i < n; i++)); do
        mark=$(mon_mark)
        GRE_TUNNEL_FAULT_STEP=$i up_to $A "$cfg" "$T/out"
        rc=$?
        expect_rolled_back "$name: fault at step $i ($(sed -n "$((i + 1))p" "$T/steps.$name" | cut -c1-60)...)" \
            $rc "$T/out" "$T/before.$name" $name "step $i"
        mon_settle
        events=$(mon_since "$mark" | grep -c .)
        deleted=$(mon_since "$mark" | grep -c '^Deleted')
        if [ $i = 0 ]; then
            [ "$events" = 0 ] && ok "$name: fault at step 0: the kernel saw no event" ||
                { not_ok "$name: fault at step 0: $events kernel events"; mon_since "$mark" | sed 's/^/#   /' | head; }
        else
            [ "$deleted" -ge 1 ] && ok "$name: fault at step $i: the kernel saw $events events, $deleted removals" ||
                { not_ok "$name: fault at step $i: no removal seen ($events events)"; mon_since "$mark" | sed 's/^/#   /' | head; }
        fi
    done
    # The hook is positional: past the last step, up completes.
    GRE_TUNNEL_FAULT_STEP=$n up_to $A "$cfg" "$T/out"
    rc=$?
    dump $A | norm >"$T/after"
    norm <"$T/full.$name" >"$T/full.norm"
    if [ $rc = 0 ] && same_dump "$T/full.norm" "$T/after" >/dev/null; then
        ok "$name: fault step $n (past the end): up completes, same dump as the control (modulo ifindex, counters)"
    else
        not_ok "$name: fault step $n: rc=$rc"
        same_dump "$T/full.norm" "$T/after" | sed 's/^/#   /' | head -20
    fi
    gt $A down $name >/dev/null
done

# Real conflicts: a foreign object with the identity of one of the plan's objects exists.
# conflict NAME STEP DESC SETUP REMOVE: SETUP (an ip command, evaluated) places the object, the
# plan's step STEP (0-based) must fail with "File exists", then REMOVE takes it away again.
conflict() {
    local name=$1 step=$2 desc=$3 setup=$4 remove=$5 line
    line=$(sed -n "$((step + 1))p" "$T/steps.$name")
    if ! eval "$setup" >"$T/setup.out" 2>&1; then
        not_ok "$name conflict ($desc): the foreign object cannot be placed"
        sed 's/^/#   /' "$T/setup.out"
        return
    fi
    dump $A >"$T/before.c"
    check "$name conflict ($desc): the foreign object is in the dump" \
        bash -c "! diff -q '$T/before.$name' '$T/before.c'"
    up_to $A "$T/cfg/ifcfg-$name" "$T/out"
    rc=$?
    expect_rolled_back "$name conflict ($desc): step $step fails, rolled back" $rc "$T/out" \
        "$T/before.c" $name "creating \"$line\": File exists"
    check "$name conflict ($desc): the foreign object is removed by hand" eval "$remove"
    dump $A >"$T/after"
    check "$name conflict ($desc): afterwards the dump is the clean one" \
        same_dump "$T/before.$name" "$T/after"
}

k16=$(hexkey 16) k32=$(hexkey 32) k20=$(hexkey 20)
conflict gre1 1 "ESP state with our SPI" \
    "ip -n $A xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1002 reqid 9 mode transport enc 'cbc(aes)' $k16 auth-trunc 'hmac(sha256)' $k32 128" \
    "ip -n $A xfrm state delete src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1002"
conflict gre1 3 "xfrm policy with our selector" \
    "ip -n $A xfrm policy add src 192.0.2.2/32 dst 192.0.2.1/32 proto gre key 42 dir in priority 100 action block" \
    "ip -n $A xfrm policy delete src 192.0.2.2/32 dst 192.0.2.1/32 proto gre key 42 dir in"
conflict gre1 4 "host route to the remote" \
    "ip -n $A route add 192.0.2.2/32 dev wire" \
    "ip -n $A route del 192.0.2.2/32 dev wire"
conflict gre1 5 "a dummy link named gre1" \
    "ip -n $A link add gre1 type dummy" \
    "ip -n $A link del gre1"
conflict gre1 10 "IPv4 route with our prefix and metric on the underlay" \
    "ip -n $A route add 203.0.113.0/24 dev wire" \
    "ip -n $A route del 203.0.113.0/24 dev wire"
conflict gre1 11 "IPv6 route with our prefix and metric on the underlay (the last step)" \
    "ip -n $A -6 route add 2001:db8:3::/48 dev wire metric 7" \
    "ip -n $A -6 route del 2001:db8:3::/48 dev wire metric 7"
conflict tun6 0 "ESP state with our outbound SPI" \
    "ip -n $A xfrm state add src 2001:db8:1::1 dst 2001:db8:1::2 proto esp spi 0x2001 reqid 9 mode transport enc 'cbc(aes)' $k32 auth-trunc 'hmac(sha1)' $k20 96" \
    "ip -n $A xfrm state delete src 2001:db8:1::1 dst 2001:db8:1::2 proto esp spi 0x2001"
conflict tun6 9 "IPv6 route with our prefix and metric on the underlay" \
    "ip -n $A -6 route add 2001:db8:1::/48 dev wire metric 20" \
    "ip -n $A -6 route del 2001:db8:1::/48 dev wire metric 20"
conflict tun6 10 "IPv4 route with our prefix and metric (the last step)" \
    "ip -n $A route add 203.0.113.128/25 dev wire metric 5" \
    "ip -n $A route del 203.0.113.128/25 dev wire metric 5"

finish
