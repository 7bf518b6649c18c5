#!/usr/bin/env bash
# t_apis_convert.sh - `kubevet apis convert`:
#  - golden files: tests/data/convert/<case>.in.yaml converted at <target> must equal
#    <case>.<target>.out.yaml byte for byte (stdout of the dry run);
#  - round trip: `apis scan` of every output at the same target finds no KV401/KV403/KV404
#    except for the objects convert reported as needing a person (matched by subject);
#  - the kube-no-trouble fixtures, converted as a folder with --output-dir at 1.29: same check;
#  - --in-place: the file is rewritten, <file>.kubevet-<stamp>.bak holds the original bytes;
#  - bad input: exit 3, one line naming file:line, the file unchanged; usage errors exit 2.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_apis_convert.sh
# Prints "ok NAME" / "FAIL NAME: why"; exits 1 on any failure. KEEP_TMP=1 keeps the temp dir.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
DATA=$KV_SRC/tests/data/convert
PEER=${KV_PEER_FIXTURES:-${KV_SRC:-.}/../shared/peer-fixtures}/kube-no-trouble
TMP=$(mktemp -d)
[ "${KEEP_TMP:-}" = 1 ] || trap 'rm -rf "$TMP"' EXIT
FAILS=0
OUT=$TMP/out
ERR=$TMP/err

ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$OUT" "$ERR" 2>/dev/null | head -40
    FAILS=$((FAILS + 1))
}

if ! command -v jq >/dev/null; then
    echo "skip: jq not installed"
    exit 0
fi

# round_trip NAME TARGET CONVERT_JSON SCAN_PATH...: every KV401/403/404 that `apis scan` finds in
# the converted output must belong to an object convert reported as needing a person.
round_trip() {
    local name=$1 target=$2 cjson=$3
    shift 3
    "$KUBEVET" apis scan --target "$target" -o json "$@" >"$TMP/scan.json" 2>"$ERR"
    local rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        fail "$name round trip" "apis scan exit $rc"
        return
    fi
    jq -r '.findings[] | select(.id == "KV401" or .id == "KV403" or .id == "KV404") | .subject' \
        "$TMP/scan.json" | sort -u >"$TMP/left"
    jq -r '.findings[] | .subject' "$cjson" | sort -u >"$TMP/reported"
    comm -23 "$TMP/left" "$TMP/reported" >"$OUT"
    if [ -s "$OUT" ]; then
        fail "$name round trip" "scan still finds KV401/403/404 that convert did not report"
    else
        ok "$name round trip ($(wc -l <"$TMP/left") left, all reported)"
    fi
}

# 1. golden files and their round trip
for want in "$DATA"/*.out.yaml; do
    base=$(basename "$want" .out.yaml) # <case>.<major>.<minor>
    case_=${base%%.*}
    target=${base#*.}
    in=$DATA/$case_.in.yaml
    "$KUBEVET" apis convert --target "$target" "$in" >"$OUT" 2>"$ERR"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        fail "golden $case_ $target" "exit $rc"
        continue
    fi
    if ! cmp -s "$OUT" "$want"; then
        diff -u "$want" "$OUT" >"$ERR"
        fail "golden $case_ $target" "output differs from $(basename "$want")"
        continue
    fi
    ok "golden $case_ $target"
    "$KUBEVET" apis convert --target "$target" -o json "$in" 2>"$TMP/convert.json" >/dev/null
    cp "$OUT" "$TMP/$case_.yaml"
    round_trip "$case_ $target" "$target" "$TMP/convert.json" "$TMP/$case_.yaml"
done

# 2. kube-no-trouble's fixtures, a folder at 1.29
if [ -d "$PEER" ]; then
    mkdir -p "$TMP/peer"
    cp "$PEER"/*.yaml "$PEER"/*.json "$TMP/peer/"
    "$KUBEVET" apis convert --target 1.29 -o json --output-dir "$TMP/peer-out" "$TMP/peer" \
        >"$TMP/peer.json" 2>"$ERR"
    rc=$?
    n_in=$(ls "$TMP/peer" | wc -l)
    n_out=$(ls "$TMP/peer-out" 2>/dev/null | wc -l)
    if [ $rc -ne 1 ]; then
        cp "$TMP/peer.json" "$OUT"
        fail "kube-no-trouble convert" "exit $rc (want 1: some objects need a person)"
    elif [ "$n_in" != "$n_out" ]; then
        fail "kube-no-trouble convert" "$n_in inputs, $n_out outputs"
    else
        ok "kube-no-trouble convert ($(jq '[.conversions[] | select(.status == "converted")] | length' "$TMP/peer.json") converted, $(jq '.findings | length' "$TMP/peer.json") need a person)"
        # the inputs themselves are untouched by --output-dir
        if diff -r "$PEER" "$TMP/peer" >/dev/null 2>&1 || cmp -s "$PEER/ingress-v1beta1.yaml" "$TMP/peer/ingress-v1beta1.yaml"; then
            ok "kube-no-trouble inputs unchanged"
        else
            fail "kube-no-trouble inputs unchanged" "an input changed"
        fi
        round_trip "kube-no-trouble 1.29" 1.29 "$TMP/peer.json" "$TMP/peer-out"
    fi
else
    echo "skip peers: $PEER absent (a clone without ../shared)"
fi

# 3. --in-place with a backup folder (one per run, next to the file, named on stderr)
mkdir -p "$TMP/ip"
cp "$DATA/workload-selector.in.yaml" "$TMP/ip/inplace.yaml"
"$KUBEVET" apis convert --target 1.16 --in-place "$TMP/ip/inplace.yaml" >"$OUT" 2>"$ERR"
rc=$?
bdir=$(ls -d "$TMP"/ip/kubevet-backup-* 2>/dev/null | head -1)
if [ $rc -ne 1 ]; then
    fail "in-place" "exit $rc (want 1: the StatefulSet needs a person)"
elif [ -z "$bdir" ] || [ ! -f "$bdir/inplace.yaml" ]; then
    fail "in-place" "no backup folder kubevet-backup-<stamp>/inplace.yaml"
elif ! cmp -s "$bdir/inplace.yaml" "$DATA/workload-selector.in.yaml"; then
    fail "in-place" "backup differs from the original"
elif ! cmp -s "$TMP/ip/inplace.yaml" "$DATA/workload-selector.1.16.out.yaml"; then
    fail "in-place" "rewritten file differs from the golden output"
elif ! grep -q "rewritten" "$ERR" || ! grep -q "backup folder: $bdir" "$ERR"; then
    fail "in-place" "no plan naming the backup folder on stderr"
else
    ok "in-place (backup $(basename "$bdir"))"
fi
case $(basename "${bdir:-x}") in
kubevet-backup-[0-9]*T[0-9]*Z) ok "backup folder name" ;;
*) fail "backup folder name" "unexpected backup folder ${bdir:-none}" ;;
esac
# a second run changes nothing and makes no second backup
"$KUBEVET" apis convert --target 1.16 --in-place "$TMP/ip/inplace.yaml" >"$OUT" 2>"$ERR"
if [ "$(ls -d "$TMP"/ip/kubevet-backup-* | wc -l)" = 1 ] &&
    cmp -s "$TMP/ip/inplace.yaml" "$DATA/workload-selector.1.16.out.yaml"; then
    ok "in-place again is a no-op"
else
    fail "in-place again is a no-op" "file or backups changed"
fi

# 3b. --in-place through a symlink: the link stays a link, its target is rewritten, the backup
# holds the real bytes (not a link)
mkdir -p "$TMP/sl/real" "$TMP/sl/links"
cp "$DATA/csr.in.yaml" "$TMP/sl/real/csr.yaml"
ln -s ../real/csr.yaml "$TMP/sl/links/csr.yaml"
"$KUBEVET" apis convert --target 1.22 --in-place "$TMP/sl/links/csr.yaml" >"$OUT" 2>"$ERR"
sbak=$(ls "$TMP"/sl/real/kubevet-backup-*/csr.yaml 2>/dev/null | head -1)
if [ ! -L "$TMP/sl/links/csr.yaml" ]; then
    fail "in-place symlink" "the symlink was replaced"
elif ! cmp -s "$TMP/sl/real/csr.yaml" "$DATA/csr.1.22.out.yaml"; then
    fail "in-place symlink" "the link target was not converted"
elif [ -z "$sbak" ] || [ -L "$sbak" ] || ! cmp -s "$sbak" "$DATA/csr.in.yaml"; then
    fail "in-place symlink" "no backup of the real bytes (${sbak:-none})"
else
    ok "in-place symlink: written through the link, real bytes backed up"
fi

# 4. bad input: exit 3, one line naming file:line, the file unchanged
printf 'apiVersion: apps/v1beta1\nkind: Deployment\nspec:\n  a: [1, 2\n  b: 3\n' >"$TMP/bad.yaml"
cp "$TMP/bad.yaml" "$TMP/bad.orig"
cp "$DATA/csr.in.yaml" "$TMP/good.yaml"
"$KUBEVET" apis convert --target 1.22 --in-place "$TMP/good.yaml" "$TMP/bad.yaml" >"$OUT" 2>"$ERR"
rc=$?
if [ $rc -ne 3 ]; then
    fail "bad input" "exit $rc, want 3"
elif ! grep -q "^kubevet: $TMP/bad.yaml:[0-9][0-9]*: " "$ERR"; then
    fail "bad input" "no 'kubevet: FILE:LINE: ...' line"
elif [ "$(grep -c "bad.yaml" "$ERR")" != 1 ]; then
    fail "bad input" "want exactly one line about the file"
elif ! cmp -s "$TMP/bad.yaml" "$TMP/bad.orig" || ! cmp -s "$TMP/good.yaml" "$DATA/csr.in.yaml"; then
    fail "bad input" "a file was changed"
elif ls -d "$TMP"/kubevet-backup-* >/dev/null 2>&1; then
    fail "bad input" "a backup was made"
else
    ok "bad input: exit 3, $(head -1 "$ERR" | cut -c1-60)..., nothing written"
fi

# 4b. half-converted objects (an apiVersion line bumped by hand, body in the old shape): convert
# agrees with apis scan (KV401, exit 1), counts them as needing a person, leaves them byte for byte
CASES=$KV_SRC/tests/data/apis-cases
mkdir -p "$TMP/half" && cp -R "$CASES/crd-chart" "$TMP/half/chart" && cp "$CASES/crd-v1.yaml" "$TMP/half/"
"$KUBEVET" apis convert --target 1.25 -o json --in-place "$TMP/half/chart" "$TMP/half/crd-v1.yaml" >"$OUT" 2>"$ERR"
rc=$?
if [ $rc -ne 1 ]; then
    fail "half-converted" "exit $rc, want 1"
elif ! grep -q 'target 1.25: 0 object(s) converted in 0 file(s), 4 need a person' "$ERR"; then
    fail "half-converted" "summary: $(grep 'need a person' "$ERR")"
elif [ "$(grep -c 'NEEDS A PERSON (left unchanged): half-converted' "$ERR")" != 4 ]; then
    fail "half-converted" "want one plan line per half-converted object"
elif ! diff -r "$CASES/crd-chart" "$TMP/half/chart" >/dev/null || ! cmp -s "$CASES/crd-v1.yaml" "$TMP/half/crd-v1.yaml"; then
    fail "half-converted" "an input was changed"
elif [ "$(jq -r '[.findings[] | select(.id == "KV401") | (.file | split("/") | last) + ":" + (.line | tostring) + (if .detail then "" else "-nodetail" end)] | sort | join(" ")' "$OUT")" != \
    "crd-v1.yaml:15 crd-v1.yaml:41 issuer-crd.yaml:17 order-crd.yaml:21" ]; then
    fail "half-converted" "KV401 findings differ from apis scan's: $(jq -c '[.findings[] | .file + ":" + (.line | tostring)]' "$OUT")"
else
    ok "half-converted (templated) CRDs: KV401, exit 1, 4 need a person, bytes unchanged"
fi

# 5. usage
"$KUBEVET" apis convert --in-place --output-dir "$TMP/x" "$TMP/good.yaml" >"$OUT" 2>"$ERR"
[ $? -eq 2 ] && ok "usage: --in-place with --output-dir" || fail "usage: --in-place with --output-dir" "want exit 2"
"$KUBEVET" apis convert --target banana "$TMP/good.yaml" >"$OUT" 2>"$ERR"
[ $? -eq 2 ] && ok "usage: bad --target" || fail "usage: bad --target" "want exit 2"
"$KUBEVET" apis convert --target 1.22 - <"$DATA/csr.in.yaml" >"$OUT" 2>"$ERR"
cmp -s "$OUT" "$DATA/csr.1.22.out.yaml" && ok "stdin" || fail "stdin" "stdin output differs"

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all ok"
