#!/usr/bin/env bash
# make fuzz: run every libFuzzer target of a KV_FUZZ build for FUZZ_SECONDS each (default 20).
# The checked-in corpus (fuzz/corpus/<name>) is read, never written: new inputs go to
# BUILD/corpus-new/<name>, crashes/timeouts/leaks to BUILD/artifacts/. Exit 1 if any target failed.
#   fuzz/run.sh BUILD [name...]
set -u
build=${1:?usage: fuzz/run.sh BUILD [name...]}
shift
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-20}
names=("$@")
if [ ${#names[@]} = 0 ]; then
    for f in "$src"/fuzz/fuzz_*.c; do
        n=${f##*/fuzz_}
        names+=("${n%.c}")
    done
fi
mkdir -p "$build/artifacts"
failed=()
for n in "${names[@]}"; do
    bin=$build/fuzz/fuzz_$n
    [ -x "$bin" ] || { echo "fuzz: $bin missing (build with -DKV_FUZZ=ON)"; failed+=("$n"); continue; }
    mkdir -p "$build/corpus-new/$n"
    log=$build/artifacts/$n.log
    # -timeout: an input slower than 10 s is a hang; -rss_limit_mb: memory growth is a finding too
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$n-" "$build/corpus-new/$n" "$src/fuzz/corpus/$n" \
        >"$log" 2>&1
    rc=$?
    cov=$(grep -o 'inline 8-bit counters): [0-9]*' "$log" | head -1 | grep -o '[0-9]*$')
    fin=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/]+[a-zA-Z]*')
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ $rc = 0 ]; then
        printf 'ok   %-12s %ss  counters %s  %s  runs %s\n' "$n" "$secs" "${cov:-?}" "${fin:-?}" "${runs:-?}"
    else
        printf 'FAIL %-12s exit %s: see %s\n' "$n" "$rc" "$log"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
        failed+=("$n")
    fi
done
[ ${#failed[@]} = 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
