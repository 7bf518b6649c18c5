#!/usr/bin/env bash
# ctest-label: online
# t_helm.sh - kubevet helm scan against the API stand-in seeded with Helm v2/v3 release records
# written by tests/lib/helmrec.py (tests/data/helm/releases.yaml), and against records the real
# helm 3 writes itself (scripts/k8s-clients; skipped with the reason when unavailable).
#   KV_SRC=. KUBEVET=build/kubevet bash tests/t_helm.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
. "$KV_SRC/tests/lib/apiserver.sh"
for t in openssl curl jq; do
    command -v $t >/dev/null || { echo "skip: $t not installed"; exit 0; }
done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { echo "skip: python3-yaml missing"; exit 0; }

apiserver_setup
export HOME=$API_TMP/home
mkdir -p "$HOME"
FAILS=0
OUT=$API_TMP/out
ERR=$API_TMP/err
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$OUT" "$ERR" 2>/dev/null | head -40
    FAILS=$((FAILS + 1))
}
check() {
    if [ "$(jq -r "$2" "$OUT" 2>/dev/null)" = true ]; then ok "$1"; else fail "$1" "jq: $2"; fi
}

FX=$API_TMP/helmfx
/usr/bin/python3 "$KV_SRC/tests/lib/helmrec.py" "$KV_SRC/tests/data/helm/releases.yaml" "$FX" ||
    { echo "FAIL helmrec.py"; exit 1; }
apiserver_pki || { echo "FAIL could not make the PKI"; exit 1; }
apiserver_start A --version v1.24.17 "$FX" || { echo "FAIL stand-in did not start"; exit 1; }
apiserver_kubeconfig A "$API_TMP/admin.conf" cert admin
kv() { local c=$1 s=$2; shift 2; "$KUBEVET" "$c" "$s" --kubeconfig "$API_TMP/admin.conf" "$@"; }

# ---------------------------------------------------------------- helm scan -A
kv helm scan -A --target 1.25 -o json >"$OUT" 2>"$ERR"
rc=$?
[ $rc = 1 ] && ok scan-exit-1 || fail scan-exit-1 "exit $rc"
cp "$OUT" "$API_TMP/live.json"
check scan-kv405-set '[.findings[] | select(.id == "KV405") | .subject] | sort ==
    ["release failing (namespace web, revision 1, helm v3)",
     "release hooked (namespace jobs, revision 1, helm v3)",
     "release image-manager (namespace imaging, revision 2, helm v2)",
     "release legacy (namespace old, revision 1, helm v3)",
     "release nosel (namespace apps, revision 1, helm v3)",
     "release twice (namespace apps, revision 2, helm v3)"]'
check scan-kv405-critical '[.findings[] | .severity] | unique == ["critical"]'
check incident2-objects '.findings[] | select(.subject | startswith("release image-manager")) |
    [.objects[] | select(.id == "KV401") | [.kind, .name, .api_version, .replacement, .file]] ==
    [["DaemonSet", "image-puller", "extensions/v1beta1", "apps/v1", "manifest"],
     ["StatefulSet", "image-cache", "apps/v1beta1", "apps/v1", "manifest"],
     ["Ingress", "image-manager", "extensions/v1beta1", "networking.k8s.io/v1", "manifest"]]'
# lines of the apiVersion keys in the manifest, counted from the fixture text by python
LINES=$(/usr/bin/python3 -c '
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))[0]["revisions"][1]["manifest"]
print(",".join(str(i + 1) for i, l in enumerate(m.split("\n")) if l.startswith("apiVersion:")))
' "$KV_SRC/tests/data/helm/releases.yaml")
check incident2-lines ".findings[] | select(.subject | startswith(\"release image-manager\")) |
    ([.objects[] | select(.id == \"KV401\") | .line] | map(tostring) | join(\",\")) == \"$LINES\""
check incident2-selectors '.findings[] | select(.subject | startswith("release image-manager")) |
    [.objects[] | select(.id == "KV403") | .name] == ["image-puller", "image-cache"]'
check incident2-storage '.findings[] | select(.subject | startswith("release image-manager")) |
    .helm == 2 and .storage == "configmap" and .storage_namespace == "kube-system" and .namespace == "imaging"'
check nosel-kv403 '.findings[] | select(.subject | startswith("release nosel")) |
    [.objects[] | .id] == ["KV401", "KV403"]'
check twice-note '.findings[] | select(.subject | startswith("release twice")) |
    (.notes[0] | test("2 revisions are marked deployed \\(1, 2\\); Helm acts on the highest, 2"))'
check failing-note '.findings[] | select(.subject | startswith("release failing")) |
    (.notes[0] | test("latest revision, 2, is failed; Helm acts on revision 1"))'
check hook-file '.findings[] | select(.subject | startswith("release hooked")) |
    [.objects[] | [.id, .kind, .file, .line]] == [["KV401", "CronJob", "hook hooked/templates/migrate.yaml", 2]]'
check stuck-pending '.releases[] | select(.name == "stuck") |
    .revision == 1 and .latest == 2 and .latest_status == "pending-upgrade" and
    (.notes[0] | test("another operation"))'
check clean-release '(.releases | map(.name) | index("clean")) != null and
    ([.findings[] | select(.subject | startswith("release clean"))] == [])'

# tiller-sec is not the default Tiller namespace: without the flag vault-ui is not seen
kv helm scan -A --target 1.25 -o json >"$OUT" 2>"$ERR"
check tiller-default '[.releases[] | .name] | index("vault-ui") == null'
kv helm scan -A --tiller-namespace tiller-sec --target 1.25 -o json >"$OUT" 2>"$ERR"
check tiller-namespace-flag '[.releases[] | select(.helm == 2) | .name] == ["vault-ui"]'
check vault-ui-v2-secret '.findings[] | select(.subject | startswith("release vault-ui")) |
    .storage == "secret" and .storage_namespace == "tiller-sec" and .objects[0].api_version == "apps/v1beta2"'

# -n: v3 records of that namespace, v2 releases whose objects go there
kv helm scan -n imaging --target 1.25 -o json >"$OUT" 2>"$ERR"
check namespace-v2 '[.releases[] | .name] == ["image-manager"]'
kv helm scan -n apps --target 1.25 -o json >"$OUT" 2>"$ERR"
check namespace-v3 '[.releases[] | .name] | sort == ["clean", "nosel", "twice"]'

# text output and a target where nothing is removed yet
kv helm scan -A --target 1.25 >"$OUT" 2>"$ERR"
grep -q '^KV405 critical release image-manager (namespace imaging, revision 2, helm v2)$' "$OUT" &&
    grep -q 'note: release stuck (namespace web, revision 1, helm v3): the latest revision, 2, is pending-upgrade' "$OUT" &&
    ok scan-text || fail scan-text "text lines"
kv helm scan -A --target 1.15 -o json >"$OUT" 2>"$ERR"
rc=$?
check target-1.15 '[.findings[] | select(.id == "KV405")] == []'

# sarif renders
kv helm scan -A --target 1.25 -o sarif >"$OUT" 2>"$ERR"
check sarif '.version == "2.1.0" and ([.runs[0].results[] | .ruleId] | unique == ["KV405"])'

# the real helm 3 writes its own records: a chart with a removed API
if CLIENTS=$("$KV_SRC/scripts/k8s-clients" 2>"$ERR"); then
    HELM=$CLIENTS/helm
    mkdir -p "$API_TMP/chart/templates"
    printf 'apiVersion: v2\nname: pdb\nversion: 0.1.0\n' >"$API_TMP/chart/Chart.yaml"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  a: "1"\n' \
        >"$API_TMP/chart/templates/cm.yaml"
    printf 'apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    "helm.sh/hook": post-install\nspec:\n  schedule: "@daily"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n' \
        >"$API_TMP/chart/templates/hook.yaml"
    if "$HELM" --kubeconfig "$API_TMP/admin.conf" install real "$API_TMP/chart" -n realns \
        --create-namespace --no-hooks >"$OUT" 2>"$ERR"; then
        kv helm scan -n realns --target 1.25 -o json >"$OUT" 2>"$ERR"
        check helm3-written '[.findings[] | .subject] == ["release real (namespace realns, revision 1, helm v3)"] and
            [.findings[0].objects[] | [.kind, .file]] == [["CronJob", "hook pdb/templates/hook.yaml"]]'
    else
        fail helm3-install "helm install against the stand-in"
    fi
else
    echo "skip helm3-written: $(head -c 200 "$ERR")"
fi

# ---------------------------------------------------------------- bad input: exit 3, one line
apiserver_admin A POST /_standin/objects "$(jq -n '{apiVersion: "v1", kind: "Secret",
    type: "helm.sh/release.v1", metadata: {name: "sh.helm.release.v1.broken.v1", namespace: "apps",
    labels: {owner: "helm", name: "broken", status: "deployed", version: "1"}},
    data: {release: ("H4sIAAAA" | @base64)}}')" >/dev/null 2>&1
kv helm scan -n apps --target 1.25 -o json >"$OUT" 2>"$ERR"
check broken-record-noted '.releases[] | select(.name == "broken") | .error | test("gzip")'

[ $FAILS = 0 ] || exit 1
