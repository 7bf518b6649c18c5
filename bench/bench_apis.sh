#!/usr/bin/env bash
# Benchmark `kubevet apis scan` against the grep floor and a PyYAML (C loader) script doing the
# same detection, on a generated corpus (bench/gen_manifests.py; ~10,000 files x 8 documents).
#
#   bench/bench_apis.sh [KUBEVET] [CORPUS_DIR]      (env: FILES=10000 DOCS=8 TARGET=1.36 RUNS=3)
#
# The fast tools run side by side in RUNS rounds (grep, kubevet with 1 and 2 worker threads, text
# output, default threads, in turn each round), so a machine shared with other work slows them
# alike; each prints its best wall time, CPU seconds and max RSS, then the ratios: 1 -> 2 threads
# (goal: near 2x on 2 idle cores), kubevet / grep floor (goal <= 5x), PyYAML / kubevet (one run).
# Then it checks that kubevet and PyYAML count the same findings, and that kubevet's fast path and
# --full-parse report the same findings on a sample of the corpus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KUBEVET=${1:-${KUBEVET:-$here/../build/kubevet}}
CORPUS=${2:-${CORPUS:-/tmp/kubevet-bench-corpus}}
TARGET=${TARGET:-1.36}
FILES=${FILES:-10000}
DOCS=${DOCS:-8}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -d "$CORPUS" ]; then
    python3 "$here/gen_manifests.py" "$CORPUS" --files "$FILES" --docs "$DOCS"
fi
bytes=$(du -sb "$CORPUS" | cut -f1)
nfiles=$(find "$CORPUS" -type f | wc -l)
echo "corpus: $CORPUS: $nfiles files, $((bytes / 1000000)) MB; target $TARGET; $(nproc) cores"

run() { # name, command...: keeps the best wall (and its cpu, rss) in $out/<name>.best
    local name=$1 wall user sys rss
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err" || true
    read -r wall user sys rss < <(tail -n 1 "$out/$name.time")
    if [ ! -f "$out/$name.best" ] || [ "$(echo "$wall < $(cut -d' ' -f1 "$out/$name.best")" | bc)" = 1 ]; then
        echo "$wall $(echo "$user + $sys" | bc) $rss" >"$out/$name.best"
    fi
}
show() {
    local wall cpu rss
    read -r wall cpu rss <"$out/$1.best"
    printf '%-8s wall %7.2f s  cpu %7.2f s  max RSS %7d KB\n' "$1" "$wall" "$cpu" "$rss"
}
wall() { cut -d' ' -f1 "$out/$1.best"; }

# Warm the page cache the same way for everyone.
grep -rc '^apiVersion:' "$CORPUS" >/dev/null
for _ in $(seq "${RUNS:-3}"); do
    run grep grep -rc '^apiVersion:' "$CORPUS"
    run kv-t1 "$KUBEVET" apis scan "$CORPUS" --target "$TARGET" -o json --threads 1
    run kv-t2 "$KUBEVET" apis scan "$CORPUS" --target "$TARGET" -o json --threads 2
    run kv-text "$KUBEVET" apis scan "$CORPUS" --target "$TARGET"
    run kubevet "$KUBEVET" apis scan "$CORPUS" --target "$TARGET" -o json
done
run pyyaml python3 "$here/pyyaml_scan.py" "$here/../data/apis.yaml" "$TARGET" "$CORPUS"
for t in grep kv-t1 kv-t2 kv-text kubevet pyyaml; do show $t; done

g=$(wall grep) k=$(wall kubevet) p=$(wall pyyaml)
printf 'threads: 1 -> 2: %.2fx faster (wall), cpu %.2f -> %.2f s\n' \
    "$(echo "$(wall kv-t1) / $(wall kv-t2)" | bc -l)" "$(cut -d' ' -f2 "$out/kv-t1.best")" \
    "$(cut -d' ' -f2 "$out/kv-t2.best")"
printf 'grep floor ratios: kubevet -o json %.2fx, 1 thread %.2fx, 2 threads %.2fx, text %.2fx (goal <= 5x)\n' \
    "$(echo "$k / $g" | bc -l)" "$(echo "$(wall kv-t1) / $g" | bc -l)" \
    "$(echo "$(wall kv-t2) / $g" | bc -l)" "$(echo "$(wall kv-text) / $g" | bc -l)"
printf 'PyYAML / kubevet: %.1fx (goal >= 20x)\n' "$(echo "$p / $k" | bc -l)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); best of ${RUNS:-3} rounds"

kv=$(python3 - "$out/kubevet.out" <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
c = collections.Counter(f['id'] for f in d['findings'])
print(' '.join(f'{k}={c.get(k, 0)}' for k in ('KV401', 'KV402', 'KV403', 'KV404')))
PY
)
py=$(cut -d' ' -f1-4 "$out/pyyaml.out")
echo "kubevet: $kv"
echo "pyyaml:  $py"
[ "$kv" = "$py" ] && echo "findings: same counts" || { echo "findings: DIFFER"; exit 1; }

# Fast path versus a libyaml parse of every document, on a sample (same findings, same order).
sample=$(find "$CORPUS" -mindepth 1 -maxdepth 1 -type d | sort | head -5)
"$KUBEVET" apis scan $sample --target "$TARGET" -o json --at 2026-01-01 >"$out/fast.json" || true
"$KUBEVET" apis scan $sample --target "$TARGET" -o json --at 2026-01-01 --full-parse \
    >"$out/full.json" || true
same=$(python3 - "$out/fast.json" "$out/full.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print('yes' if a['findings'] == b['findings'] and a['errors'] == b['errors'] else 'no')
PY
)
if [ "$same" = yes ]; then
    echo "fast path == --full-parse on $(echo $sample | wc -w) folders" \
        "($(grep -c '"id"' "$out/fast.json") findings)"
else
    echo "fast path and --full-parse DIFFER"
    diff "$out/fast.json" "$out/full.json" | head -20
    exit 1
fi
