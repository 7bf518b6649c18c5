#!/usr/bin/env bash
# ctest-label: online
# t_api_relist.sh - a LIST whose continue token expires (410 Expired: etcd compacted past it)
# starts over once, and what the first pages gave is forgotten: the result is one full list, as
# client-go's pager (FullListIfExpired) makes it. Against the API stand-in:
#   helm scan over 400 Helm 3 releases (536 record Secrets, 3 pages of 250) answers exactly as
#     without the fault: releases, deployed counts, notes, KV405 findings, the record count;
#   a second 410 in the same list is an error naming the server;
#   check with the API source over 1,201 Nodes (3 pages of 500): the same findings;
#   the unit binary (test_k8s, test_relist) for both list variants, with a Node deleted between
#     the first pages and the restart.
#   KUBEVET=build/kubevet KV_SRC=. KV_BUILD=build bash tests/t_api_relist.sh
# Prints "ok NAME" / "FAIL NAME: why"; exits 1 on any failure.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KV_SRC=$(cd "$KV_SRC" && pwd)
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
KUBEVET=$(cd "$(dirname "$KUBEVET")" && pwd)/$(basename "$KUBEVET")
. "$KV_SRC/tests/lib/apiserver.sh"
apiserver_begin
T=$API_TMP
mkdir -p "$T/empty"
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT KUBEVET_SA_DIR
# requests NAME JQ: the stand-in's request log (one JSON object a line) as an array
requests() { jq -rs "$2" "$T/$1.requests"; }

# ---------------------------------------------------------------- fixtures
# 400 Helm 3 releases in 4 namespaces: every third has two revisions (superseded, deployed), every
# fifth deploys an extensions/v1beta1 DaemonSet (KV405 at 1.25), r-001 has two revisions marked
# deployed (noted), r-398 a stuck pending-upgrade. The expected answer is computed here from the
# spec, not from kubevet.
/usr/bin/python3 - "$T/spec.yaml" "$T/expect.json" <<'PY'
import json, sys, yaml
OLD = "---\n# Source: c/templates/ds.yaml\napiVersion: extensions/v1beta1\nkind: DaemonSet\n" \
      "metadata:\n  name: ds\nspec:\n  template:\n    metadata:\n      labels: {app: ds}\n"
NEW = "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n" \
      "  name: cm\ndata:\n  a: \"1\"\n"
spec, records, kv405, rels = [], 0, [], []
for i in range(400):
    name, ns = "r-%03d" % i, "rl-%d" % (i % 4)
    man = OLD if i % 5 == 0 else NEW
    if i == 1:
        revs = [{"status": "deployed", "manifest": man}, {"status": "deployed", "manifest": man}]
    elif i == 398:
        revs = [{"status": "deployed", "manifest": man}, {"status": "pending-upgrade", "manifest": man}]
    elif i % 3 == 0:
        revs = [{"status": "superseded", "manifest": NEW}, {"status": "deployed", "manifest": man}]
    else:
        revs = [{"status": "deployed", "manifest": man}]
    spec.append({"name": name, "namespace": ns, "chart": {"name": "c", "version": "1.0.0"},
                 "revisions": revs})
    records += len(revs)
    acted = max(k + 1 for k, r in enumerate(revs) if r["status"] == "deployed")
    ndep = sum(r["status"] == "deployed" for r in revs)
    rels.append([name, ns, acted, len(revs), ndep])
    if i % 5 == 0:
        kv405.append("release %s (namespace %s, revision %d, helm v3)" % (name, ns, acted))
yaml.safe_dump(spec, open(sys.argv[1], "w"))
json.dump({"records": records, "kv405": sorted(kv405), "releases": sorted(rels)},
          open(sys.argv[2], "w"))
PY
/usr/bin/python3 "$KV_SRC/tests/lib/helmrec.py" "$T/spec.yaml" "$T/helmfx" ||
    { echo "FAIL helmrec.py"; exit 1; }
RECORDS=$(jq .records "$T/expect.json")

apiserver_pki || { echo "FAIL could not make the PKI"; exit 1; }
API_START_STEPS=1200 apiserver_start A --version v1.24.17 --synthesize nodes=1200 "$T/helmfx" ||
    { echo "FAIL the stand-in did not start"; exit 1; }
apiserver_kubeconfig A "$T/admin.conf" cert admin
# the admin endpoint's token, for the unit binary that arms faults itself
cat >"$T/standin-admin.conf" <<EOF
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "$A_URL", certificate-authority-data: $(base64 -w0 <"$API_PKI/ca.crt")}}]
users: [{name: u, user: {token: $API_ADMIN_TOKEN}}]
EOF

# scan NAME: helm scan -A --target 1.25 -o json into $T/NAME.json (text summary in NAME.txt)
scan() {
    : >"$T/A.requests"
    "$KUBEVET" helm scan -A --target 1.25 --kubeconfig "$T/admin.conf" -o json >"$T/$1.json" \
        2>"$T/$1.err"
    RC=$?
    cp "$T/$1.json" "$OUT"
    cp "$T/$1.err" "$ERR"
}
# the secrets LISTs' HTTP codes, in order
secret_codes() { requests A '[.[] | select(.path | test("^/api/v1/secrets\\?")) | .code | tostring] | join(",")'; }
# what a scan says, in one normalised document (findings and releases sorted)
norm() {
    jq -S '{findings: ([.findings[] | {id, subject, objects: [.objects[]? | [.id, .kind,
        .object_name, .api_version]]}] | sort_by(.subject)), releases: (.releases | sort_by(.name)),
        errors}' "$T/$1.json"
}

# ---------------------------------------------------------------- helm scan, no fault
scan clean
codes=$(secret_codes)
[ "$RC" = 1 ] && [ "$codes" = "200,200,200" ] && ok "helm scan: $RECORDS record Secrets in 3 pages, exit 1 (KV405)" ||
    fail "clean pages" "exit $RC, secret LIST codes $codes"
/usr/bin/python3 - "$T/clean.json" "$T/expect.json" >"$T/clean.check" 2>&1 <<'PY'
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rels = sorted([r["name"], r["namespace"], r["revision"], r["latest"], r["deployed"]]
              for r in got["releases"])
kv405 = sorted(f["subject"] for f in got["findings"] if f["id"] == "KV405")
assert got["errors"] == [], got["errors"]
assert rels == want["releases"], [x for x in rels if x not in want["releases"]][:5]
assert kv405 == want["kv405"], (len(kv405), len(want["kv405"]))
notes = {r["name"]: r["notes"] for r in got["releases"] if r["notes"]}
assert notes["r-001"] == ["2 revisions are marked deployed (1, 2); Helm acts on the highest, 2"], notes
assert sorted(notes) == ["r-001", "r-398"], sorted(notes)
PY
[ $? = 0 ] && ok "helm scan without the fault: 400 releases, 80 KV405, the notes (checked from the spec)" ||
    { cp "$T/clean.check" "$ERR"; fail "clean scan" "differs from the spec"; }
"$KUBEVET" helm scan -A --target 1.25 --kubeconfig "$T/admin.conf" >"$T/clean.txt" 2>/dev/null
grep -q "400 release(s), $RECORDS record(s)" "$T/clean.txt" && ok "text summary: 400 releases, $RECORDS records" ||
    { cp "$T/clean.txt" "$OUT"; fail "clean summary" "no '400 release(s), $RECORDS record(s)'"; }

# ---------------------------------------------------------------- helm scan, continue expires once
apiserver_admin A POST /_standin/faults '{"expire_continue": true}' >/dev/null
scan expired
codes=$(secret_codes)
[ "$RC" = 1 ] && [ "$codes" = "200,410,200,200,200" ] &&
    ok "helm scan: page 2's continue token expired, the list restarted once" ||
    fail "410 restart" "exit $RC, secret LIST codes $codes"
if cmp -s <(norm clean) <(norm expired); then
    ok "helm scan after a 410 restart: findings, releases (deployed counts, notes), errors as without the fault"
else
    diff <(norm clean) <(norm expired) | head -20 >"$ERR"
    fail "410 result" "differs from the run without the fault"
fi
apiserver_admin A POST /_standin/faults '{"expire_continue": true}' >/dev/null
"$KUBEVET" helm scan -A --target 1.25 --kubeconfig "$T/admin.conf" >"$OUT" 2>"$ERR"
grep -q "400 release(s), $RECORDS record(s)" "$OUT" && ok "text summary after the restart: $RECORDS records, not more" ||
    fail "410 summary" "no '400 release(s), $RECORDS record(s)'"

# ---------------------------------------------------------------- a second 410: an error
apiserver_admin A POST /_standin/reset >/dev/null
# (rules see the path without the query: the 2nd request is page 2, the 4th page 2 again)
apiserver_admin A POST /_standin/faults '{"rules": [
    {"method": "GET", "path": "^/api/v1/secrets$", "nth": 2, "code": 410},
    {"method": "GET", "path": "^/api/v1/secrets$", "nth": 4, "code": 410}]}' >/dev/null
scan twice
codes=$(secret_codes)
[ "$RC" = 3 ] && [ "$codes" = "200,410,200,410" ] &&
    jq -e --arg s "$A_URL" '(.errors | length) == 1 and (.errors[0] | contains($s) and
        contains("410") and contains("helm 3 secrets in all namespaces"))' "$T/twice.json" >/dev/null &&
    ok "a second 410 in one list is not retried: exit 3, one error naming the server and the list" ||
    fail "second 410" "exit $RC, codes $codes, errors $(jq -c .errors "$T/twice.json" 2>/dev/null)"
apiserver_admin A POST /_standin/reset >/dev/null

# ---------------------------------------------------------------- check, API source
# check NAME: kubevet check with only the API source; findings as sorted "ID subject" lines
check() {
    : >"$T/A.requests"
    "$KUBEVET" check --root "$T/empty" --kubeconfig "$T/admin.conf" -o json >"$T/$1.json" 2>"$T/$1.err"
    RC=$?
    jq -r '.findings[] | .id + " " + .subject' "$T/$1.json" | sort >"$T/$1.ids"
}
check chk-clean
apiserver_admin A POST /_standin/faults '{"expire_continue": true}' >/dev/null
check chk-expired
codes=$(requests A '[.[] | select(.path | test("^/api/v1/nodes\\?")) | .code | tostring] | join(",")')
if [ "$RC" = 1 ] && [ "$codes" = "200,410,200,200,200" ] &&
    jq -e '.sources.api.used' "$T/chk-expired.json" >/dev/null &&
    [ -s "$T/chk-clean.ids" ] && cmp -s "$T/chk-clean.ids" "$T/chk-expired.ids"; then
    ok "check (API source, 1201 Nodes): the 410 restart gives the same $(wc -l <"$T/chk-clean.ids") findings"
else
    diff "$T/chk-clean.ids" "$T/chk-expired.ids" | head >"$ERR"
    fail "check 410" "exit $RC, node LIST codes $codes"
fi
apiserver_admin A POST /_standin/reset >/dev/null

# ---------------------------------------------------------------- the unit binary
TEST_K8S=${KV_BUILD:-$KV_SRC/build}/tests/test_k8s
if [ -x "$TEST_K8S" ]; then
    KV_K8S_TEST_RELIST_KUBECONFIG="$T/admin.conf" KV_K8S_TEST_RELIST_ADMIN="$T/standin-admin.conf" \
        "$TEST_K8S" >"$OUT" 2>"$ERR"
    rc=$?
    [ $rc = 0 ] && grep -q '^\[       OK \] test_relist$' "$OUT" &&
        ok "test_relist: both list variants reset before the restart; a deleted Node is gone" ||
        fail "test_relist" "exit $rc"
else
    echo "skip test_relist: $TEST_K8S not built"
fi

[ $FAILS = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all passed"
