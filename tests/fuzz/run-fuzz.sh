#!/bin/bash
# Runs one harness for a bounded time: run-fuzz.sh BUILDDIR HARNESS [SECONDS] [libFuzzer args...]
# (SECONDS: GRE_FUZZ_SECONDS, else 30). The seeds are made from tests/data by gre-fuzz-corpus
# on each run (they follow the data); what libFuzzer finds beyond them is kept in
# BUILDDIR/tests/fuzz/corpus/HARNESS for the next run, and a crashing input in
# BUILDDIR/tests/fuzz/artifacts/. Prints executions, coverage and crashes; fails on a crash.
set -euo pipefail

build=$1
harness=$2
seconds=${3:-${GRE_FUZZ_SECONDS:-30}}
shift $(($# < 3 ? $# : 3))
src=${GRE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fz=$build/tests/fuzz
exe=$fz/fuzz-$harness

[ -x "$exe" ] || { echo "run-fuzz: $exe is not built (meson setup with -Dfuzzing=true)" >&2; exit 2; }
# Seeds of this run's own: harnesses may run side by side (GRE_FUZZ_PARALLEL, run-long.sh).
seeds=$(mktemp -d "$fz/seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT
ASAN_OPTIONS=detect_leaks=0 "$fz/gre-fuzz-corpus" seeds "$src" "$seeds" >/dev/null
corpus=$fz/corpus/$harness
mkdir -p "$corpus" "$fz/artifacts"
log=$fz/log-$harness.txt

# Leaks are bugs too: LeakSanitizer runs at the end of each input libFuzzer checks for them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
before=$(ls "$fz/artifacts" | grep -c "^$harness-" || true)
start=$SECONDS
rc=0
nice -n 19 "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$fz/gre.dict" -artifact_prefix="$fz/artifacts/$harness-" -print_final_stats=1 \
    "$@" "$corpus" "$seeds/$harness" >"$log" 2>&1 || rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
crashes=$(($(ls "$fz/artifacts" | grep -c "^$harness-" || true) - before))
echo "$harness: ${execs:-0} executions in $((SECONDS - start)) s, cov ${cov:-?}, ft ${ft:-?}," \
    "corpus $(ls "$corpus" | wc -l) files, crashes ${crashes}"
if [ "$rc" != 0 ]; then
    echo "run-fuzz: $harness failed (exit $rc); the end of $log:"
    tail -60 "$log"
    exit 1
fi
