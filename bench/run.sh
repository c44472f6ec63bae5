#!/bin/bash
# bench/run.sh - how fast gre-tunnel brings tunnels up and down, measured in one run:
#  1. one tunnel with GRE-only IPsec, up + down: gre-tunnel (up, down) vs the same objects
#     through one `ip -batch` (the file is written from `gre-tunnel plan --show-secrets` and
#     `plan --down`) vs one `ip` process per object (the network-scripts way);
#  2. N = 1, 10, 100, 1000 tunnels up, then down, each with its own name, GRE key, ESP keys,
#     SPIs and remote (ip6gre over one dummy underlay, in one namespace): the cost per tunnel,
#     and the ratio of that cost at 1000 to that at 10; the same objects through `ip -batch`
#     for comparison (what the kernel alone costs). Sizes may repeat (default "10 1 100 1000
#     10": 10 is measured before and after 1000, so that a drift of the machine's speed shows);
#  3. where time goes, robust to a machine whose speed drifts: one more tunnel up + down among 9
#     and among 999 other tunnels (two namespaces, others made by ip -batch), alternating, with
#     the netlink traffic of one `down` (strace); optionally also for a second binary
#     (BENCH_COMPARE=path, e.g. the build before a change), interleaved;
#  4. N = 10, 100, 1000 tunnels as in 2, all in one process: `gre-tunnel up --all DIR` then
#     `down --all DIR`, against one `ip -batch` of the same objects (up file, down file), per
#     tunnel, alternating (and BENCH_COMPARE's --all, interleaved); then where the time of one
#     up --all and down --all of 100 goes (strace -c).
# Runs directly where the kernel has GRE and ESP (as root), otherwise in the VM (tests/vm/run).
# Only documentation addresses, only inside a namespace made here.
#
# Usage: bench/run.sh      Environment: GRE_BUILDDIR (default: _build), BENCH_REPS (single
# tunnel, default 9), BENCH_SIZES (default "10 1 100 1000 10"), BENCH_SCALE_REPS (default
# "1:5 10:3 100:2 1000:1": repetitions per size and pass; medians are reported), BENCH_OTHERS
# (part 3, default 999; 0 skips it), BENCH_REPS3 (default 15), BENCH_COMPARE, BENCH_PARTS
# (default "1 2 3 4"; "strace": only the system calls of up --all and down --all of 100, part
# 4's last step, untimed), BENCH_ALL_SIZES (part 4, default "10 100 1000"), BENCH_ALL_REPS (default
# "10:7 100:3 1000:1").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
export GRE_BUILDDIR=${GRE_BUILDDIR:-$src/_build}
G=$GRE_BUILDDIR/plugin/gre-tunnel
stage=${BENCH_STAGE:-launch}

case $stage in
launch)
    [ -x "$G" ] || { echo "bench: build first ($G is missing)" >&2; exit 2; }
    if [ "$(id -u)" = 0 ] && bash "$src/tests/vm/kernel-has-gre" 2>/dev/null; then
        BENCH_STAGE=host exec bash "$here/run.sh"
    fi
    exec "$src/tests/vm/run" -m 1536 -t "${BENCH_VM_TIMEOUT:-5400}" -e GRE_BUILDDIR \
        -e BENCH_STAGE=host -e BENCH_REPS -e BENCH_SIZES -e BENCH_SCALE_REPS -e BENCH_OTHERS -e BENCH_REPS3 -e BENCH_COMPARE \
        -e BENCH_PARTS -e BENCH_ALL_SIZES -e BENCH_ALL_REPS \
        bash "$here/run.sh"
    ;;
host)
    modprobe -a ip_gre ip6_gre esp4 esp6 xfrm_user dummy 2>/dev/null || true
    ns=gre-bench-$$
    ip netns add $ns
    trap 'ip netns del $ns 2>/dev/null' EXIT
    ip -n $ns link set lo up
    ip -n $ns link add under type dummy
    ip -n $ns addr add 192.0.2.1/24 dev under
    ip -n $ns addr add 2001:db8:ffff::1/48 dev under nodad
    ip -n $ns link set under up
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs," \
        "${GRE_IN_VM:+in the VM (qemu TCG), }gre-tunnel $("$G" --version | cut -d' ' -f2)"
    BENCH_STAGE=ns ip netns exec $ns bash "$here/run.sh"
    exit $?
    ;;
ns) ;;
*) echo "bench: bad BENCH_STAGE" >&2; exit 2 ;;
esac

# ---- inside the namespace ----
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# One state directory of the benchmark's own (it may run directly on a host with GRE).
export GRE_TUNNEL_STATE_DIR=$T/state
REPS=${BENCH_REPS:-9}
SIZES=${BENCH_SIZES:-10 1 100 1000 10}
SCALE_REPS=${BENCH_SCALE_REPS:-1:5 10:3 100:2 1000:1}
OTHERS=${BENCH_OTHERS:-999}
CMP=${BENCH_COMPARE:-}
PARTS=" ${BENCH_PARTS:-1 2 3 4} "
part() { [[ $PARTS == *" $1 "* ]]; }

die() { echo "bench: $*" >&2; exit 1; }
us() { _us=${EPOCHREALTIME/./}; }  # microseconds, into $_us, without a subshell
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
hex() { local n=$1 s=""; for ((j = 0; j < n; j += 4)); do s+=$(printf '%08x' $SRANDOM); done; echo "${s:0:$((2 * n))}"; }
count_links() { ip -o link show type "$1" | grep -vc "$1"0@ || true; }
count_sa() { ip xfrm state | grep -c '^src' || true; }

# ---- 1. one tunnel ----
if part 1; then
mkdir -p "$T/one"
cat >"$T/one/ifcfg-bench0" <<'EOF'
DEVICE=bench0
TYPE=gre
DEVICETYPE=gre
MY_OUTER_IPADDR=192.0.2.1
PEER_OUTER_IPADDR=192.0.2.20
MY_INNER_IPADDR=198.51.100.9/31
PEER_INNER_IPADDR=198.51.100.8
ROUTES="203.0.113.0/24 metric 10"
KEY=1001
IPSEC=manual
IPSEC_SUITE=aes256-sha256
SPI_ESP_IN=0x1001
SPI_ESP_OUT=0x1002
EOF
(umask 077; printf 'KEY_ESP_IN=0x%s\nKEY_ESP_OUT=0x%s\nKEY_AESP_IN=0x%s\nKEY_AESP_OUT=0x%s\n' \
    "$(hex 32)" "$(hex 32)" "$(hex 32)" "$(hex 32)" >"$T/one/keys-bench0")
ONE=$T/one/ifcfg-bench0
"$G" plan --show-secrets "$ONE" | grep -v '^#' >"$T/one/up.ip"
"$G" plan --down "$ONE" | grep -v '^#' >"$T/one/down.ip"
nobj=$(wc -l <"$T/one/up.ip")
# ip -batch takes the commands without "ip" and without options (the family follows from the
# addresses).
sed -E 's/^ip (-6 )?//' "$T/one/up.ip" "$T/one/down.ip" >"$T/one/batch"
mapfile -t PEROBJ < <(cat "$T/one/up.ip" "$T/one/down.ip")

run_gt() { "$G" up "$ONE" >/dev/null && "$G" down bench0 >/dev/null; }
run_batch() { ip -batch "$T/one/batch"; }
run_perobj() { local l; for l in "${PEROBJ[@]}"; do eval "$l" || return 1; done; }

# Warm-up, and proof that each way creates the objects and removes them again.
"$G" up "$ONE" >/dev/null || die "gre-tunnel up failed"
[ "$(count_sa)" = 2 ] && [ "$(count_links gre)" = 1 ] || die "gre-tunnel up: objects missing"
"$G" down bench0 >/dev/null || die "gre-tunnel down failed"
ip -batch <(sed -E 's/^ip (-6 )?//' "$T/one/up.ip") || die "ip -batch (up) failed"
[ "$(count_sa)" = 2 ] && [ "$(count_links gre)" = 1 ] || die "ip -batch: objects missing"
ip -batch <(sed -E 's/^ip (-6 )?//' "$T/one/down.ip") || die "ip -batch (down) failed"
run_perobj || die "ip per object failed"
[ "$(count_sa)" = 0 ] && [ "$(count_links gre)" = 0 ] || die "something was left over"

sed -E 's/^ip (-6 )?//' "$T/one/up.ip" >"$T/one/batch.up"
sed -E 's/^ip (-6 )?//' "$T/one/down.ip" >"$T/one/batch.down"
t_gt=() t_batch=() t_perobj=() t_xg=() t_xi=() t_gtu=() t_gtd=() t_bu=() t_bd=()
for ((r = 0; r < REPS; r++)); do
    us; s=$_us; run_gt || die "gre-tunnel failed"; us; t_gt+=($((_us - s)))
    us; s=$_us; run_batch || die "ip -batch failed"; us; t_batch+=($((_us - s)))
    us; s=$_us; "$G" up "$ONE" >/dev/null || die "up failed"; us; t_gtu+=($((_us - s)))
    us; s=$_us; "$G" down bench0 >/dev/null || die "down failed"; us; t_gtd+=($((_us - s)))
    us; s=$_us; ip -batch "$T/one/batch.up" || die "ip -batch up failed"; us; t_bu+=($((_us - s)))
    us; s=$_us; ip -batch "$T/one/batch.down" || die "ip -batch down failed"; us; t_bd+=($((_us - s)))
    us; s=$_us; run_perobj || die "ip per object failed"; us; t_perobj+=($((_us - s)))
    us; s=$_us; "$G" --version >/dev/null; us; t_xg+=($((_us - s)))
    us; s=$_us; ip -V >/dev/null; us; t_xi+=($((_us - s)))
done
[ "$(count_sa)" = 0 ] && [ "$(count_links gre)" = 0 ] || die "something was left over"
m_gt=$(median "${t_gt[@]}") m_batch=$(median "${t_batch[@]}") m_perobj=$(median "${t_perobj[@]}")
m_xg=$(median "${t_xg[@]}") m_xi=$(median "${t_xi[@]}")
m_gtu=$(median "${t_gtu[@]}") m_gtd=$(median "${t_gtd[@]}") m_bu=$(median "${t_bu[@]}") m_bd=$(median "${t_bd[@]}")
echo "== 1. one tunnel with GRE-only IPsec ($nobj objects), up then down, median of $REPS"
# The headline compares the same two operations done the same way: `up` at one time and `down`
# at another, each one process (gre-tunnel up / ip -batch of the up lines, then the down lines).
printf '%-44s %9s ms\n' "gre-tunnel up + gre-tunnel down (2 exec)" "$(ms $((m_gtu + m_gtd)))"
printf '%-44s %9s ms   gre-tunnel / ip -batch = %s\n' "ip -batch up + ip -batch down (2 exec)" \
    "$(ms $((m_bu + m_bd)))" "$(ratio $((m_gtu + m_gtd)) $((m_bu + m_bd)))"
printf '%-44s %9s ms   ip -batch (up lines)   %9s ms   ratio %s\n' "  gre-tunnel up" "$(ms $m_gtu)" \
    "$(ms $m_bu)" "$(ratio $m_gtu $m_bu)"
printf '%-44s %9s ms   ip -batch (down lines) %9s ms   ratio %s\n' "  gre-tunnel down" \
    "$(ms $m_gtd)" "$(ms $m_bd)" "$(ratio $m_gtd $m_bd)"
printf '%-44s %9s ms   (up; down back to back: %s ms; ratio %s)\n' \
    "one ip -batch of up and down lines (1 exec)" "$(ms $m_batch)" "$(ms $m_gt)" \
    "$(ratio $m_gt $m_batch)"
printf '%-44s %9s ms   gre-tunnel / per object = %s\n' "ip per object (${#PEROBJ[@]} exec)" \
    "$(ms $m_perobj)" "$(ratio $m_gt $m_perobj)"
printf '%-44s %9s ms\n' "exec alone: gre-tunnel --version" "$(ms $m_xg)" "exec alone: ip -V" "$(ms $m_xi)"
echo "   work beyond the process starts: gre-tunnel $(ms $((m_gt - 2 * m_xg))) ms, ip -batch $(ms $((m_batch - m_xi))) ms"
echo "   all runs (ms): gre-tunnel $(for v in "${t_gt[@]}"; do ms $v; printf ' '; done)"
echo "                  ip -batch $(for v in "${t_batch[@]}"; do ms $v; printf ' '; done)"
fi

# ---- 2. N tunnels (the functions are part 3's and 4's too) ----
# Tunnel i: bt<i>, remote 2001:db8:ffff::1:<i>, inner 2001:db8:<i>::1/64, GRE key i,
# SPIs 0x100000+2i (out) and +1 (in), its own random keys (aes256-sha256: AES-CBC and HMAC).
declare -a KO KI AO AI
make_tunnels() { # DIR N
    local dir=$1 n=$2 i x
    mkdir -p "$dir"
    for ((i = 1; i <= n; i++)); do
        printf -v x '%x' $i
        KO[i]=0x$(hex 32) KI[i]=0x$(hex 32) AO[i]=0x$(hex 32) AI[i]=0x$(hex 32)
        printf '%s\n' "DEVICE=bt$i" TYPE=gre DEVICETYPE=gre ONBOOT=yes MY_OUTER_IPADDR=2001:db8:ffff::1 \
            "PEER_OUTER_IPADDR=2001:db8:ffff::1:$x" "MY_INNER_IP6ADDR=2001:db8:$x::1/64" \
            "PEER_INNER_IP6ADDR=2001:db8:$x::2" "KEY=$i" IPSEC=manual IPSEC_SUITE=aes256-sha256 \
            "SPI_ESP_OUT=$(printf '0x%x' $((0x100000 + 2 * i)))" \
            "SPI_ESP_IN=$(printf '0x%x' $((0x100000 + 2 * i + 1)))" >"$dir/ifcfg-bt$i"
        (umask 077; printf 'KEY_ESP_OUT=%s\nKEY_ESP_IN=%s\nKEY_AESP_OUT=%s\nKEY_AESP_IN=%s\n' \
            "${KO[i]}" "${KI[i]}" "${AO[i]}" "${AI[i]}" >"$dir/keys-bt$i")
    done
}
# The same objects as ip -batch lines, written here for speed; checked against `plan` below.
batch_lines() { # DIR I up|down
    local dir=$1 i=$2 x ko=${KO[$2]} ki=${KI[$2]} ao=${AO[$2]} ai=${AI[$2]} so si ro ri
    printf -v x '%x' $i
    printf -v so '0x%08x' $((0x100000 + 2 * i)); printf -v si '0x%08x' $((0x100000 + 2 * i + 1))
    ro=$((0x100000 + 2 * i)) ri=$((0x100000 + 2 * i + 1))
    local l=2001:db8:ffff::1 r=2001:db8:ffff::1:$x
    if [ "$3" = up ]; then
        printf '%s\n' \
            "xfrm state add src $l dst $r proto esp spi $so reqid $ro mode transport enc 'cbc(aes)' $ko auth-trunc 'hmac(sha256)' $ao 128 extra-flag oseq-may-wrap" \
            "xfrm state add src $r dst $l proto esp spi $si reqid $ri mode transport enc 'cbc(aes)' $ki auth-trunc 'hmac(sha256)' $ai 128" \
            "xfrm policy add src $l/128 dst $r/128 proto gre key $i dir out tmpl src $l dst $r proto esp reqid $ro mode transport" \
            "xfrm policy add src $r/128 dst $l/128 proto gre key $i dir in tmpl src $r dst $l proto esp reqid $ri mode transport" \
            "link add bt$i mtu 1390 type ip6gre local $l remote $r ikey $i okey $i hoplimit 64 tclass inherit encaplimit 4" \
            "link set bt$i up" \
            "addr add 2001:db8:$x::1 peer 2001:db8:$x::2/64 dev bt$i nodad"
    else
        printf '%s\n' \
            "addr delete 2001:db8:$x::1 peer 2001:db8:$x::2/64 dev bt$i" \
            "link set bt$i down" \
            "link delete bt$i" \
            "xfrm policy delete src $r/128 dst $l/128 proto gre key $i dir in" \
            "xfrm policy delete src $l/128 dst $r/128 proto gre key $i dir out" \
            "xfrm state delete src $r dst $l proto esp spi $si" \
            "xfrm state delete src $l dst $r proto esp spi $so"
    fi
}

reps_for() { local p; for p in $SCALE_REPS; do [ "${p%%:*}" = "$1" ] && { echo "${p#*:}"; return; }; done; echo 1; }
declare -A PER_GT PER_BATCH ALL_GT ALL_BATCH SUP SDOWN MU MD TENTHS
# batch_files DIR N: DIR/batch.up and DIR/batch.down for tunnels 1..N, checked against plan.
batch_files() {
    local dir=$1 n=$2 i
    for i in 1 $n; do
        diff <("$G" plan --show-secrets "$dir/ifcfg-bt$i" | grep -v '^#' | sed 's/^ip //') \
            <(batch_lines "$dir" $i up) >&2 || die "batch lines for bt$i differ from plan"
        diff <("$G" plan --down "$dir/ifcfg-bt$i" | grep -v '^#' | sed 's/^ip //') \
            <(batch_lines "$dir" $i down) >/dev/null || die "down lines for bt$i differ from plan"
    done
    for ((i = 1; i <= n; i++)); do batch_lines "$dir" $i up; done >"$dir/batch.up"
    for ((i = 1; i <= n; i++)); do batch_lines "$dir" $i down; done >"$dir/batch.down"
}
if part 2; then
echo
echo "== 2. N tunnels (ip6gre, GRE-only IPsec, 7 objects each): all up, then all down (ms)"
for n in $SIZES; do
    dir=$T/scale$n
    make_tunnels "$dir" $n
    # The hand-written batch lines are exactly what plan says (first and last tunnel).
    batch_files "$dir" $n
    reps=$(reps_for $n)
    per=() per_b=()
    for ((r = 0; r < reps; r++)); do
        up_each=() down_each=()
        us; s=$_us
        for ((i = 1; i <= n; i++)); do
            us; a=$_us
            "$G" up "$dir/ifcfg-bt$i" >/dev/null || die "up bt$i failed"
            us; up_each+=($((_us - a)))
        done
        us; mid=$_us
        [ "$(count_links ip6gre)" = $n ] && [ "$(count_sa)" = $((2 * n)) ] ||
            die "after up of $n: $(count_links ip6gre) links, $(count_sa) SAs"
        us; mid2=$_us
        for ((i = 1; i <= n; i++)); do
            us; a=$_us
            "$G" down bt$i >/dev/null || die "down bt$i failed"
            us; down_each+=($((_us - a)))
        done
        us; e=$_us
        [ "$(count_links ip6gre)" = 0 ] && [ "$(count_sa)" = 0 ] || die "after down of $n: left over"
        per+=($(((mid - s + e - mid2) / n)))
        SUP[$n]+=" ${up_each[*]}" SDOWN[$n]+=" ${down_each[*]}"
        if [ $n -ge 100 ]; then
            # Medians by tenth, in order: ups with 0..n tunnels present, downs with n..0.
            tu="" td=""
            for ((q = 0; q < 10; q++)); do
                tu+=" $(ms "$(median "${up_each[@]:$((q * n / 10)):$((n / 10))}")")"
                td+=" $(ms "$(median "${down_each[@]:$((q * n / 10)):$((n / 10))}")")"
            done
            TENTHS[$n]+="        N=$n: median up by tenth (ms):$tu"$'\n'"        N=$n: median down by tenth (ms):$td"$'\n'
        fi
        us; s=$_us
        ip -batch "$dir/batch.up" || die "ip -batch up of $n failed"
        us; mid=$_us
        [ "$(count_links ip6gre)" = $n ] && [ "$(count_sa)" = $((2 * n)) ] || die "ip -batch: objects missing"
        us; mid2=$_us
        ip -batch "$dir/batch.down" || die "ip -batch down of $n failed"
        us; e=$_us
        per_b+=($(((mid - s + e - mid2) / n)))
    done
    ALL_GT[$n]+=" ${per[*]}" ALL_BATCH[$n]+=" ${per_b[*]}"
    echo "   pass N=$n ($reps reps): gre-tunnel $(ms "$(median "${per[@]}")") ms/tunnel," \
        "ip -batch $(ms "$(median "${per_b[@]}")") ms/tunnel"
    rm -rf "$dir"
done
echo "-- all passes: mean = (time of all ups + all downs) / N, median over repetitions;"
echo "   median single = median single up + median single down"
printf '%6s %5s | %10s %10s | %10s %10s %10s | %10s %8s\n' N reps "mean/tun" "gt/batch" \
    "med. up" "med. down" "med. sum" "ip -batch" ""
for n in $(printf '%s\n' $SIZES | sort -nu); do
    # shellcheck disable=SC2086
    PER_GT[$n]=$(median ${ALL_GT[$n]}) PER_BATCH[$n]=$(median ${ALL_BATCH[$n]})
    # shellcheck disable=SC2086
    MU[$n]=$(median ${SUP[$n]}) MD[$n]=$(median ${SDOWN[$n]})
    printf '%6s %5s | %10s %10s | %10s %10s %10s | %10s\n' $n "$(wc -w <<<"${ALL_GT[$n]}")" \
        "$(ms ${PER_GT[$n]})" "$(ratio ${PER_GT[$n]} ${PER_BATCH[$n]})" "$(ms ${MU[$n]})" \
        "$(ms ${MD[$n]})" "$(ms $((MU[$n] + MD[$n])))" "$(ms ${PER_BATCH[$n]})"
done
printf '%s' "${TENTHS[@]+"${TENTHS[@]}"}"
if [ -n "${PER_GT[10]:-}" ] && [ -n "${PER_GT[1000]:-}" ]; then
    echo "per-tunnel cost at 1000 / at 10: gre-tunnel mean $(ratio ${PER_GT[1000]} ${PER_GT[10]})," \
        "median single $(ratio $((MU[1000] + MD[1000])) $((MU[10] + MD[10])));" \
        "ip -batch $(ratio ${PER_BATCH[1000]} ${PER_BATCH[10]})"
fi
fi

# ---- 4. all tunnels in one process: up --all / down --all against ip -batch ----
if part 4; then
ALL_SIZES=${BENCH_ALL_SIZES:-10 100 1000}
ALL_REPS=${BENCH_ALL_REPS:-10:7 100:3 1000:1}
all_reps() { local p; for p in $ALL_REPS; do [ "${p%%:*}" = "$1" ] && { echo "${p#*:}"; return; }; done; echo 1; }
WAYS=(gt batch)
[ -n "$CMP" ] && WAYS+=(cmp)
declare -A A_UP A_DOWN A_SUM
# way_up WAY DIR / way_down WAY DIR: one process each.
way_up() {
    case $1 in
    gt) "$G" up --all -q "$2" ;;
    cmp) "$CMP" up --all -q "$2" ;;
    batch) ip -batch "$2/batch.up" ;;
    esac
}
way_down() {
    case $1 in
    gt) "$G" down --all -q "$2" ;;
    cmp) "$CMP" down --all -q "$2" ;;
    batch) ip -batch "$2/batch.down" ;;
    esac
}
echo
echo "== 4. N tunnels as in 2, in one process: up --all then down --all, against ip -batch of the" \
    "same objects (ms per tunnel; alternating; median over repetitions)"
for n in $ALL_SIZES; do
    dir=$T/all$n
    make_tunnels "$dir" $n
    batch_files "$dir" $n
    reps=$(all_reps $n)
    for ((r = 0; r < reps; r++)); do
        order=("${WAYS[@]}")
        # Each repetition in another order: every way is measured first, in the middle, last.
        for ((k = 0; k < r % ${#WAYS[@]}; k++)); do order=("${order[@]:1}" "${order[0]}"); done
        for w in "${order[@]}"; do
            us; s=$_us
            way_up $w "$dir" >/dev/null || die "$w: up of $n failed"
            us; m=$_us
            [ "$(count_links ip6gre)" = $n ] && [ "$(count_sa)" = $((2 * n)) ] ||
                die "$w: after up of $n: $(count_links ip6gre) links, $(count_sa) SAs"
            us; m2=$_us
            way_down $w "$dir" >/dev/null || die "$w: down of $n failed"
            us; e=$_us
            [ "$(count_links ip6gre)" = 0 ] && [ "$(count_sa)" = 0 ] || die "$w: after down of $n: left over"
            A_UP[$n.$w]+=" $(((m - s) / n))" A_DOWN[$n.$w]+=" $(((e - m2) / n))"
            A_SUM[$n.$w]+=" $(((m - s + e - m2) / n))"
        done
    done
    # shellcheck disable=SC2086
    echo "   N=$n ($reps reps): $(for w in "${WAYS[@]}"; do printf '%s %s ms/tunnel (up %s, down %s); ' $w \
        "$(ms "$(median ${A_SUM[$n.$w]})")" "$(ms "$(median ${A_UP[$n.$w]})")" "$(ms "$(median ${A_DOWN[$n.$w]})")"; done)"
    [ "$n" = 100 ] && cp -r "$dir" "$T/all-strace"
    rm -rf "$dir"
done
printf '%6s | %10s %10s %10s | %10s %10s %10s | %12s\n' N "--all" "(up" "down)" "ip -batch" "(up" "down)" \
    "--all/batch"
for n in $ALL_SIZES; do
    # shellcheck disable=SC2086
    printf '%6s | %10s %10s %10s | %10s %10s %10s | %12s\n' $n "$(ms "$(median ${A_SUM[$n.gt]})")" \
        "$(ms "$(median ${A_UP[$n.gt]})")" "$(ms "$(median ${A_DOWN[$n.gt]})")" \
        "$(ms "$(median ${A_SUM[$n.batch]})")" "$(ms "$(median ${A_UP[$n.batch]})")" \
        "$(ms "$(median ${A_DOWN[$n.batch]})")" \
        "$(ratio "$(median ${A_SUM[$n.gt]})" "$(median ${A_SUM[$n.batch]})")"
    if [ -n "$CMP" ]; then
        # shellcheck disable=SC2086
        printf '%6s | %10s %10s %10s | BENCH_COMPARE; this build / it: %s\n' "" \
            "$(ms "$(median ${A_SUM[$n.cmp]})")" "$(ms "$(median ${A_UP[$n.cmp]})")" \
            "$(ms "$(median ${A_DOWN[$n.cmp]})")" \
            "$(ratio "$(median ${A_SUM[$n.gt]})" "$(median ${A_SUM[$n.cmp]})")"
    fi
done
first=${ALL_SIZES%% *} last=${ALL_SIZES##* }
# shellcheck disable=SC2086
echo "per-tunnel cost at $last / at $first: --all $(ratio "$(median ${A_SUM[$last.gt]})" "$(median ${A_SUM[$first.gt]})")," \
    "ip -batch $(ratio "$(median ${A_SUM[$last.batch]})" "$(median ${A_SUM[$first.batch]})")"
fi

# Where the time of one up --all and one down --all of 100 goes: system calls by time, and the
# netlink calls counted. Part 4 leaves its 100 tunnels' files for it; BENCH_PARTS=strace makes
# them and runs this alone (untimed: meaningful on a loaded machine too).
if part strace && ! part 4; then
    make_tunnels "$T/all-strace" 100
fi
if [ -d "$T/all-strace" ] && command -v strace >/dev/null; then
    for op in up down; do
        strace -f -c -o "$T/strace-c" "$G" $op --all -q "$T/all-strace" >/dev/null 2>&1 ||
            die "strace -c $op --all failed"
        echo "   strace -c of $op --all, N=100 (seconds, calls; top 8 by time):"
        awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" { print }' "$T/strace-c" | sort -k2 -rn |
            head -8 | awk '{ printf "     %-12s %8s s %7s calls\n", $NF, $2, $4 }'
        echo "   netlink calls of $op --all per tunnel:" \
            "$(awk '$NF ~ /^(sendmsg|recvmsg|recvmmsg)$/ && $4 ~ /^[0-9]+$/ {
                        printf "%s %.1f  ", $NF, $4 / 100 }' "$T/strace-c")"
    done
    [ "$(count_links ip6gre)" = 0 ] && [ "$(count_sa)" = 0 ] || die "strace runs: left over"
fi

# ---- 3. one tunnel among 9 vs among 999 others, interleaved ----
# Two more namespaces, "few" with 9 other tunnels and "many" with $OTHERS (made by ip -batch),
# and one more tunnel brought up and down in each in turn: the machine's speed drifts (other
# VMs share it), and alternating every few hundred milliseconds cancels that out of the ratio.
{ part 3 && [ "$OTHERS" -gt 0 ]; } || exit 0
REPS3=${BENCH_REPS3:-15}
dir=$T/among
me=$((OTHERS + 1))
make_tunnels "$dir" $me
few=gre-bench-few-$$ many=gre-bench-many-$$
trap 'ip netns del $few 2>/dev/null; ip netns del $many 2>/dev/null; rm -rf "$T"' EXIT
for ns in $few $many; do
    ip netns add $ns
    ip -n $ns link set lo up
    ip -n $ns link add under type dummy
    ip -n $ns addr add 2001:db8:ffff::1/48 dev under nodad
    ip -n $ns link set under up
done
for ((i = 1; i <= 9; i++)); do batch_lines "$dir" $i up; done >"$dir/few.up"
for ((i = 1; i <= OTHERS; i++)); do batch_lines "$dir" $i up; done >"$dir/many.up"
ip -n $few -batch "$dir/few.up" || die "ip -batch (few) failed"
ip -n $many -batch "$dir/many.up" || die "ip -batch (many) failed"
out6() { _o6=$(ip netns exec "$1" awk '$1 == "Ip6OutRequests" {print $2}' /proc/net/snmp6); }
# New ip6gre links send router solicitations and MLD reports for some seconds, through their
# SAs (AES-CBC and HMAC-SHA-256, emulated under TCG): wait until that stops before measuring.
t0=$SECONDS
out6 $many
prev=$_o6 first=$_o6
while ((SECONDS - t0 < 120)); do
    sleep 3
    out6 $many
    ((_o6 - prev < 5)) && break
    prev=$_o6
done
waited=$((SECONDS - t0)) burst=$((_o6 - first))
BINS=("$G")
[ -n "$CMP" ] && BINS+=("$CMP")
declare -A T3
# A record directory per namespace although gre-tunnel keeps one per namespace by itself:
# BENCH_COMPARE may be a build from before it did.
in_ns() { GRE_TUNNEL_STATE_DIR=$T/state-$1 ip netns exec "$1" "${@:2}"; }
for ((r = 0; r < REPS3; r++)); do
    for k in "${!BINS[@]}"; do
        b=${BINS[k]}
        order=($few $many)
        ((r % 2)) && order=($many $few)
        for ns in "${order[@]}"; do
            [ $ns = $few ] && w=few || w=many
            us; s=$_us; in_ns $ns "$b" up "$dir/ifcfg-bt$me" >/dev/null || die "up in $w ($b) failed"
            us; m=$_us; in_ns $ns "$b" down bt$me >/dev/null || die "down in $w ($b) failed"
            us; T3[$w.$k.up]+=" $((m - s))" T3[$w.$k.down]+=" $((_us - m))"
            T3[$w.$k.sum]+=" $((_us - s))"
        done
    done
done
out6 $many
during=$((_o6 - prev))
netlink_of_down() { # NS BIN: recvmsg calls and bytes of one down
    in_ns $1 "$2" up "$dir/ifcfg-bt$me" >/dev/null
    in_ns $1 strace -f -o "$T/st" -e trace=recvmsg "$2" down bt$me >/dev/null 2>&1 || true
    awk '/recvmsg\(/ {n++; if ($NF ~ /^[0-9]+$/) b += $NF} END {printf "%d recvmsg, %d bytes", n, b}' "$T/st"
}
echo
echo "== 3. one more tunnel up + down among 9 and among $OTHERS others, alternating, median of $REPS3 (ms)"
echo "   (the others sent $burst IPv6 packets of their own after creation; waited ${waited}s for quiet;" \
    "$during more during the measurement)"
for k in "${!BINS[@]}"; do
    [ $k = 0 ] && label="this build" || label="BENCH_COMPARE"
    # shellcheck disable=SC2086
    printf '%-14s among 9: up %7s down %7s | among %s: up %7s down %7s | up+down many/few %s\n' \
        "$label" "$(ms "$(median ${T3[few.$k.up]})")" "$(ms "$(median ${T3[few.$k.down]})")" $OTHERS \
        "$(ms "$(median ${T3[many.$k.up]})")" "$(ms "$(median ${T3[many.$k.down]})")" \
        "$(ratio "$(median ${T3[many.$k.sum]})" "$(median ${T3[few.$k.sum]})")"
    if command -v strace >/dev/null; then
        echo "               netlink of one down: among 9 $(netlink_of_down $few "${BINS[k]}");" \
            "among $OTHERS $(netlink_of_down $many "${BINS[k]}")"
    fi
done
