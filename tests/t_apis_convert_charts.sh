#!/usr/bin/env bash
# t_apis_convert_charts.sh - `kubevet apis convert` on whole Helm charts, judged by the real
# helm 3 and an independent checker (tests/data/charts/check_objects.py, no kubevet code):
#  - the charts of tests/data/charts/ (our own, in the shapes of public charts: helpers with
#    define, quoted template labels, if/else apiVersion switches on semverCompare and
#    .Capabilities, NOTES.txt, .helmignore, subcharts, non-structural v1beta1 CRDs with
#    int-or-string anyOf, old Ingresses, workloads without a selector) are converted with
#    --output-dir at $TARGET;
#  - the output folder is the whole chart: same files, every file convert did not write is
#    byte-identical (values.yaml with top-level apiVersion/kind keys included);
#  - every object convert says needs a person is byte-identical, and the exit code is 1 then;
#  - comment lines of converted files all survive, in order;
#  - `helm template` renders the output and `helm lint` passes (or, for a chart that needs a
#    person, reports no error the input did not have);
#  - every rendered object is valid at the target (selectors, Ingress v1 fields, structural CRD
#    schemas), except objects from a file holding one that needs a person;
#  - a second convert of the output changes nothing;
#  - --in-place on a chart: no backup inside the chart, one backup folder next to it, the chart
#    still lints and renders; --new-defaults writes no old default and says so.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_apis_convert_charts.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
CHARTS=$KV_SRC/tests/data/charts
CHECK=$CHARTS/check_objects.py
PY=/usr/bin/python3
TARGET=1.25
TMP=$(mktemp -d)
[ "${KEEP_TMP:-}" = 1 ] || trap 'rm -rf "$TMP"' EXIT
FAILS=0
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    [ -n "${3:-}" ] && sed 's/^/    | /' "$3" | head -30
    FAILS=$((FAILS + 1))
}

command -v jq >/dev/null || { echo "skip: jq not installed"; exit 0; }
[ -x "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null || { echo "skip: $PY with PyYAML not available"; exit 0; }
if ! dir=$("$KV_SRC/scripts/k8s-clients" 2>"$TMP/clients.err"); then
    echo "skip: helm 3 unavailable: $(head -c 300 "$TMP/clients.err")"
    exit 0
fi
HELM=$dir/helm
# What a 1.25 cluster tells Helm: the kube version and the Ingress API it serves.
RENDER=(--kube-version "$TARGET" --api-versions networking.k8s.io/v1/Ingress --include-crds)

# expected exit code of convert per chart (1: something needs a person)
want_rc() {
    case $1 in
    legacy-web) echo 1 ;;
    *) echo 0 ;;
    esac
}

# doc_index FILE LINE: which YAML document (counting --- lines) holds LINE
doc_index() {
    awk -v L="$2" '/^---/ { d++ } NR == L { print d + 0; exit }' "$1"
}
# doc_n FILE N: document N of FILE, printed
doc_n() {
    awk -v N="$2" '/^---/ { d++ } d + 0 == N + 0 { print }' "$1"
}

# lint_errors DIR: the [ERROR] lines of helm lint, sorted
lint_errors() {
    "$HELM" lint "$1" --kube-version "$TARGET" 2>&1 | grep '^\[ERROR\]' | sed "s|$1|CHART|g" | sort
}

for chart in "$CHARTS"/*/; do
    c=$(basename "$chart")
    [ -f "$chart/Chart.yaml" ] || continue
    in=$TMP/in/$c
    out=$TMP/out/$c
    mkdir -p "$TMP/in"
    cp -a "$chart" "$in"
    "$KUBEVET" apis convert --target "$TARGET" -o json --output-dir "$out" "$in" \
        >"$TMP/$c.json" 2>"$TMP/$c.err"
    rc=$?
    if [ "$rc" != "$(want_rc "$c")" ]; then
        fail "$c convert" "exit $rc, want $(want_rc "$c")" "$TMP/$c.err"
        continue
    fi
    conv=$(jq '[.conversions[] | select(.status == "converted")] | length' "$TMP/$c.json")
    need=$(jq '.findings | length' "$TMP/$c.json")
    ok "$c convert (exit $rc: $conv converted, $need need a person)"

    # the whole chart, byte-identical where convert wrote nothing
    (cd "$in" && find . -type f | sort) >"$TMP/$c.files.in"
    (cd "$out" && find . -type f | sort) >"$TMP/$c.files.out"
    if ! cmp -s "$TMP/$c.files.in" "$TMP/$c.files.out"; then
        diff "$TMP/$c.files.in" "$TMP/$c.files.out" >"$TMP/d"
        fail "$c whole chart" "the output folder does not hold the same files" "$TMP/d"
    else
        ok "$c whole chart ($(wc -l <"$TMP/$c.files.in") files, helpers, NOTES.txt, .helmignore included)"
    fi
    jq -r '.conversions[] | select(.status == "converted") | .file' "$TMP/$c.json" |
        sed "s|^$in/|./|" | sort -u >"$TMP/$c.written"
    jq -r '.findings[] | .file' "$TMP/$c.json" | sed "s|^$in/|./|" | sort -u >"$TMP/$c.needs"
    same=0 differ=""
    while read -r f; do
        grep -qxF "$f" "$TMP/$c.written" && continue
        if cmp -s "$in/$f" "$out/$f"; then same=$((same + 1)); else differ="$differ $f"; fi
    done <"$TMP/$c.files.in"
    [ -z "$differ" ] && ok "$c untouched files byte-identical ($same)" ||
        fail "$c untouched files byte-identical" "changed:$differ"

    # needs a person: the object's document is byte-identical
    nbad=0
    while IFS=$'\t' read -r f line; do
        n=$(doc_index "$f" "$line")
        doc_n "$f" "$n" >"$TMP/a"
        doc_n "$out/${f#"$in"/}" "$n" >"$TMP/b"
        if [ ! -s "$TMP/a" ] || ! cmp -s "$TMP/a" "$TMP/b"; then
            nbad=$((nbad + 1))
            diff "$TMP/a" "$TMP/b" >"$TMP/d"
        fi
    done < <(jq -r '.findings[] | [.file, .line] | @tsv' "$TMP/$c.json")
    [ "$nbad" = 0 ] && ok "$c needs-a-person objects byte-identical ($need)" ||
        fail "$c needs-a-person objects byte-identical" "$nbad changed" "$TMP/d"

    # comments of converted files survive, in order
    cbad=""
    while read -r f; do
        grep -E '^[[:space:]]*#' "$in/$f" >"$TMP/ca"
        grep -E '^[[:space:]]*#' "$out/$f" >"$TMP/cb"
        cmp -s "$TMP/ca" "$TMP/cb" || cbad="$cbad $f"
    done <"$TMP/$c.written"
    [ -z "$cbad" ] && ok "$c comments kept" || fail "$c comments kept" "lost in$cbad"

    # helm renders and lints the output
    if ! "$HELM" template t "$out" "${RENDER[@]}" >"$TMP/$c.rendered" 2>"$TMP/h.err"; then
        fail "$c helm template" "failed" "$TMP/h.err"
        continue
    fi
    ok "$c helm template ($(grep -c '^kind:' "$TMP/$c.rendered") objects)"
    if [ "$(want_rc "$c")" = 0 ]; then
        "$HELM" lint "$out" --kube-version "$TARGET" >"$TMP/h.err" 2>&1 &&
            ok "$c helm lint" || fail "$c helm lint" "failed" "$TMP/h.err"
    else
        lint_errors "$in" >"$TMP/le.in"
        lint_errors "$out" | sed "s|$out|$in|g" >"$TMP/le.out"
        sed -i "s|$TMP/out/|$TMP/in/|g" "$TMP/le.out"
        if comm -13 "$TMP/le.in" "$TMP/le.out" | grep -q .; then
            comm -13 "$TMP/le.in" "$TMP/le.out" >"$TMP/d"
            fail "$c helm lint" "errors the input did not have" "$TMP/d"
        else
            ok "$c helm lint: no new error ($(wc -l <"$TMP/le.in") from the unconverted objects)"
        fi
    fi

    # every rendered object is valid at the target, but for files a person must finish
    "$PY" "$CHECK" "$TARGET" "$TMP/$c.rendered" >"$TMP/$c.problems" 2>/dev/null
    # helm names sources "<chart>/templates/x.yaml", "<chart>/charts/<sub>/templates/x.yaml"
    cut -f1 "$TMP/$c.problems" | sed "s|^$c/|./|" | sort -u >"$TMP/$c.badsrc"
    unexplained=$(comm -23 "$TMP/$c.badsrc" "$TMP/$c.needs")
    if [ -n "$unexplained" ]; then
        fail "$c rendered objects valid at $TARGET" "invalid objects from converted files:" \
            "$TMP/$c.problems"
    else
        ok "$c rendered objects valid at $TARGET ($(wc -l <"$TMP/$c.problems") problem(s), all in files that need a person)"
    fi

    # a second convert changes nothing
    "$KUBEVET" apis convert --target "$TARGET" --output-dir "$TMP/again/$c" "$out" \
        >/dev/null 2>"$TMP/again.err"
    rc2=$?
    if [ "$rc2" != "$rc" ]; then
        fail "$c second convert" "exit $rc2, the first was $rc" "$TMP/again.err"
    elif ! diff -r "$out" "$TMP/again/$c" >"$TMP/d"; then
        fail "$c second convert" "changed the output again" "$TMP/d"
    else
        ok "$c second convert changes nothing"
    fi
done

# values.yaml with top-level apiVersion/kind keys is a values file, not an object
if cmp -s "$CHARTS/legacy-web/values.yaml" "$TMP/out/legacy-web/values.yaml"; then
    ok "values.yaml with apiVersion/kind keys untouched"
else
    fail "values.yaml with apiVersion/kind keys untouched" "it changed"
fi

# ... also when given by name: a chart-root file is values, never converted
cp "$CHARTS/legacy-web/values.yaml" "$TMP/values.orig"
"$KUBEVET" apis convert --target "$TARGET" --in-place "$TMP/in/legacy-web/values.yaml" \
    >/dev/null 2>"$TMP/v.err"
if [ $? -eq 0 ] && cmp -s "$TMP/in/legacy-web/values.yaml" "$TMP/values.orig" &&
    grep -q "holds values, not objects" "$TMP/v.err"; then
    ok "values.yaml given by name: not converted, said so"
else
    fail "values.yaml given by name" "converted, or not said" "$TMP/v.err"
fi

# --in-place on a chart: backups go to one folder next to the chart, never into templates/
mkdir -p "$TMP/ip"
cp -a "$CHARTS/shop-api" "$TMP/ip/shop-api"
cp -a "$CHARTS/shop-api" "$TMP/ip.orig"
"$KUBEVET" apis convert --target "$TARGET" --in-place "$TMP/ip/shop-api" >/dev/null 2>"$TMP/ip.err"
rc=$?
bdir=$(ls -d "$TMP"/ip/kubevet-backup-* 2>/dev/null | head -1)
extra=$(cd "$TMP/ip/shop-api" && find . -type f | sort | comm -13 "$TMP/shop-api.files.in" -)
if [ $rc -ne 0 ]; then
    fail "in-place chart" "exit $rc" "$TMP/ip.err"
elif [ -n "$extra" ]; then
    fail "in-place chart" "files appeared inside the chart: $extra"
elif [ -z "$bdir" ] || ! grep -q "backup folder: $bdir" "$TMP/ip.err"; then
    fail "in-place chart" "no backup folder next to the chart named on stderr" "$TMP/ip.err"
elif ! cmp -s "$bdir/shop-api/templates/deployment.yaml" "$TMP/ip.orig/templates/deployment.yaml" ||
    ! cmp -s "$bdir/shop-api/charts/cache/templates/deployment.yaml" \
        "$TMP/ip.orig/charts/cache/templates/deployment.yaml"; then
    fail "in-place chart" "the backups do not hold the original bytes"
elif ! diff -r "$TMP/ip/shop-api" "$TMP/out/shop-api" >"$TMP/d"; then
    fail "in-place chart" "differs from the --output-dir conversion" "$TMP/d"
elif ! "$HELM" lint "$TMP/ip/shop-api" --kube-version "$TARGET" >"$TMP/d" 2>&1 ||
    ! "$HELM" template t "$TMP/ip/shop-api" "${RENDER[@]}" >/dev/null 2>"$TMP/d"; then
    fail "in-place chart" "helm lint/template fails on the rewritten chart" "$TMP/d"
else
    ok "in-place chart: backups in $(basename "$bdir") next to the chart, none inside; lints and renders"
fi

# --new-defaults: the old defaults are not written, and the plan says so per object
"$KUBEVET" apis convert --target "$TARGET" --new-defaults --output-dir "$TMP/nd" \
    "$CHARTS/shop-api" >/dev/null 2>"$TMP/nd.err"
if grep -q "updateStrategy" "$TMP/nd/templates/statefulset.yaml" ||
    grep -q "revisionHistoryLimit" "$TMP/nd/charts/cache/templates/deployment.yaml"; then
    fail "--new-defaults" "an old default was written"
elif [ "$(grep -c -- "--new-defaults: unset fields take the apps/v1 defaults" "$TMP/nd.err")" != 3 ]; then
    fail "--new-defaults" "want the choice said for the StatefulSet, DaemonSet and cache Deployment" "$TMP/nd.err"
else
    ok "--new-defaults: no old default written, said per object"
fi

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all ok"
