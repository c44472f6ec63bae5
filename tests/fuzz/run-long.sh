#!/bin/bash
# Runs every harness long, one after the other (the machine's other work goes first: nice 19),
# and prints per harness the executions, the coverage libFuzzer reached (cov: edges, ft:
# features), the corpus and the crashes. Usage, from the source tree:
#
#   tests/fuzz/run-long.sh [SECONDS_EACH] [HARNESS...]     (default: 3600 s, every harness)
#
# GRE_FUZZ_PARALLEL=N runs N harnesses at a time (default 1), one core each.
#
# Builds _build-fuzz first if needed (clang, ASan+UBSan). The corpus grows in
# _build-fuzz/tests/fuzz/corpus/HARNESS and carries over to the next run; a crash leaves its input
# in _build-fuzz/tests/fuzz/artifacts/ and the run goes on with the next harness. Extra libFuzzer
# options go in GRE_FUZZ_ARGS (e.g. "-jobs=2 -workers=2" on a machine with cores to spare).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

seconds=${1:-3600}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(ifcfg keys routes check nm-data nm-import ifupdown vici)
build=_build-fuzz

if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Dfuzzing=true -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null || exit 1
fi
meson compile -C "$build" >/dev/null || exit 1

parallel=${GRE_FUZZ_PARALLEL:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run_one() {
    # shellcheck disable=SC2086
    GRE_SRCDIR=$PWD tests/fuzz/run-fuzz.sh "$build" "$1" "$seconds" ${GRE_FUZZ_ARGS:-} \
        >"$out/$1" 2>&1
    echo $? >"$out/$1.rc"
    head -1 "$out/$1"
}
running=0
for h in "${harnesses[@]}"; do
    if [ "$running" -ge "$parallel" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$h" &
    running=$((running + 1))
done
wait

failed=0
summary=()
for h in "${harnesses[@]}"; do
    [ "$(cat "$out/$h.rc")" = 0 ] || failed=1
    summary+=("$(head -1 "$out/$h")")
done
echo
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), ${seconds} s each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${summary[@]}"
exit $failed
