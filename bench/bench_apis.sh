#!/usr/bin/env bash
# Benchmark `kubevet apis scan` against the grep floor and a PyYAML (C loader) script doing the
# same detection, on a generated corpus (bench/gen_manifests.py; ~10,000 files x 8 documents).
#
#   bench/bench_apis.sh [KUBEVET] [CORPUS_DIR]      (env: FILES=10000 DOCS=8 TARGET=1.36)
#
# Prints one line per tool (wall seconds, CPU seconds, max RSS; kubevet with 1 and 2 worker
# threads, text and JSON output) and the ratios, then checks that
# kubevet and PyYAML count the same findings, and that kubevet's fast path and --full-parse
# report the same findings on a sample of the corpus.
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

run() { # name, command...: wall, cpu, rss into $out/<name>.time
    local name=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err" || true
    read -r wall user sys rss < <(tail -n 1 "$out/$name.time")
    printf '%-8s wall %7.2f s  cpu %7.2f s  max RSS %7d KB\n' "$name" "$wall" \
        "$(echo "$user + $sys" | bc)" "$rss"
    echo "$wall" >"$out/$name.wall"
}

# Warm the page cache the same way for everyone.
grep -rc '^apiVersion:' "$CORPUS" >/dev/null
run grep grep -rc '^apiVersion:' "$CORPUS"
run kv-t1 "$KUBEVET" apis scan "$CORPUS" --target "$TARGET" -o json --threads 1
run kv-t2 "$KUBEVET" apis scan "$CORPUS" --target "$TARGET" -o json --threads 2
run kv-text "$KUBEVET" apis scan "$CORPUS" --target "$TARGET"
run kubevet "$KUBEVET" apis scan "$CORPUS" --target "$TARGET" -o json
run pyyaml python3 "$here/pyyaml_scan.py" "$here/../data/apis.yaml" "$TARGET" "$CORPUS"

g=$(cat "$out/grep.wall") k=$(cat "$out/kubevet.wall") p=$(cat "$out/pyyaml.wall")
printf 'threads: 1 -> 2: %.2fx faster   text output / grep floor: %.2fx\n' \
    "$(echo "$(cat "$out/kv-t1.wall") / $(cat "$out/kv-t2.wall")" | bc -l)" \
    "$(echo "$(cat "$out/kv-text.wall") / $g" | bc -l)"
printf 'kubevet / grep floor: %.2fx (goal <= 5x)   PyYAML / kubevet: %.1fx (goal >= 20x)\n' \
    "$(echo "$k / $g" | bc -l)" "$(echo "$p / $k" | bc -l)"

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
