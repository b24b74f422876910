#!/usr/bin/env bash
# bench/fuzz.sh [EXECS]: the long fuzzing runs. Builds build-fuzz and the
# seed corpora as scripts/fuzz does (scripts/fuzz 0), then runs each
# harness for EXECS executions (default 10,000,000), one at a time (the
# machine's cores are shared), and prints per harness: executions,
# executions a second, coverage (edges, features) and crashes (inputs in
# build-fuzz/fuzz-crashes/NAME/). FUZZ_MAX_SECONDS bounds each run's time
# (default: none). The corpora grow in build-fuzz/fuzz-corpus/ from run to
# run. Exit 1 when a harness crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
execs=${1:-10000000}
build=${ODC_FUZZ_BUILD:-build-fuzz}
harnesses=(${FUZZ_HARNESSES:-snmp config csv imil xml portal})
scripts/fuzz 0 >/dev/null || true # build and seeds (a crash shows again below)
limit=()
[ -n "${FUZZ_MAX_SECONDS:-}" ] && limit=(-max_total_time="$FUZZ_MAX_SECONDS")
printf '%-8s %12s %9s %8s %8s %8s %s\n' harness executions exec/s cov ft crashes seconds
status=0
for h in "${harnesses[@]}"; do
    dirs=("$build/fuzz-corpus/$h" "$build/fuzz-seeds/$h")
    for d in "tests/fuzz/seeds/$h" "tests/fuzz/regressions/$h"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    mkdir -p "${dirs[@]:0:2}" "$build/fuzz-crashes/$h"
    log=$build/fuzz-crashes/$h.bench.log
    start=$(date +%s)
    "$build/fuzz_$h" -runs="$execs" "${limit[@]}" -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$h/" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    crashes=$(find "$build/fuzz-crashes/$h" -type f | wc -l)
    printf '%-8s %12s %9s %8s %8s %8s %s\n' "$h" "${runs:-?}" "${rate:-?}" \
        "$(echo "$cov" | awk '{print $2}')" "$(echo "$cov" | awk '{print $4}')" "$crashes" "$took"
    [ $rc -eq 0 ] || status=1
done
exit $status
