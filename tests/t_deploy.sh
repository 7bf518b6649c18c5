#!/usr/bin/env bash
# ctest-label: online
# deploy/ judged by the real tools: promtool check rules and promtool test rules (the 30-day alert
# fires at 29 days left, not at 31; KV106; backup age), the PrometheusRule and the chart carry the
# same groups as the rule file, kubectl 1.31 `create --dry-run=client` against the API stand-in
# (discovery and OpenAPI from it), helm 3 lint and template, and `kubevet apis scan` clean at the
# newest target the catalog knows.
set -uo pipefail

KUBEVET=${KUBEVET:-build/kubevet}
KV_SRC=${KV_SRC:-.}
cd "$KV_SRC" || exit 1
fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
PY=/usr/bin/python3

# --- Prometheus rules ---
if command -v promtool >/dev/null; then
    promtool check rules deploy/prometheus/kubevet.rules.yaml >/tmp/kv-t-deploy.$$ 2>&1 &&
        pass "promtool check rules" || fail "promtool check rules: $(cat /tmp/kv-t-deploy.$$)"
    (cd tests/deploy && promtool test rules kubevet.rules.test.yaml) >/tmp/kv-t-deploy.$$ 2>&1 &&
        pass "promtool test rules (29 days fires, 31 does not; KV106; backup age)" ||
        fail "promtool test rules: $(cat /tmp/kv-t-deploy.$$)"
    rm -f /tmp/kv-t-deploy.$$
else
    echo "skip promtool: not installed"
fi
$PY - <<'PY' && pass "PrometheusRule and chart rules = deploy/prometheus/kubevet.rules.yaml" || fail "rule copies differ"
import yaml, sys
base = yaml.safe_load(open("deploy/prometheus/kubevet.rules.yaml"))
pr = yaml.safe_load(open("deploy/prometheus-operator/prometheusrule.yaml"))
chart = yaml.safe_load(open("deploy/chart/kubevet/files/kubevet.rules.yaml"))
sys.exit(0 if pr["spec"] == base and chart == base else 1)
PY
# Every finding ID an alert keys on exists in the binary's check table.
ids=$(grep -o 'id="KV[0-9]*"' deploy/prometheus/kubevet.rules.yaml | sort -u | grep -o 'KV[0-9]*')
known=$("$KUBEVET" help checks | awk '{print $1}')
missing=
for i in $ids; do grep -qx "$i" <<<"$known" || missing="$missing $i"; done
[ -z "$missing" ] && pass "alert IDs exist: $(echo $ids)" || fail "alerts on unknown IDs:$missing"

# --- helm ---
if dir=$(scripts/k8s-clients 2>/dev/null) && [ -x "$dir/helm" ]; then
    helm=$dir/helm
    kubectl=$dir/kubectl
else
    echo "skip helm/kubectl: scripts/k8s-clients failed"
    helm= kubectl=
fi
work=$(mktemp -d /tmp/kv-t-deploy.XXXXXX)
all_on=serviceMonitor.enabled=true,prometheusRule.enabled=true,etcdBackup.enabled=true,kubeSystemSecrets.enabled=true
if [ -n "$helm" ]; then
    "$helm" lint --strict deploy/chart/kubevet >"$work/lint" 2>&1 && pass "helm lint --strict" || fail "helm lint: $(cat "$work/lint")"
    "$helm" lint --strict deploy/chart/kubevet --set "$all_on" >"$work/lint" 2>&1 &&
        pass "helm lint --strict, every option on" || fail "helm lint (all on): $(cat "$work/lint")"
    "$helm" template kv deploy/chart/kubevet -n kubevet >"$work/default.yaml" 2>"$work/err" &&
        "$helm" template kv deploy/chart/kubevet -n kubevet --set "$all_on" >"$work/all.yaml" 2>>"$work/err" &&
        pass "helm template" || fail "helm template: $(cat "$work/err")"
    kinds=$(grep '^kind:' "$work/all.yaml" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    for k in DaemonSet Service ServiceAccount ClusterRole ClusterRoleBinding CronJob ServiceMonitor PrometheusRule; do
        grep -q "^kind: $k\$" "$work/all.yaml" || fail "chart renders no $k ($kinds)"
    done
    grep -q 'resources: \["secrets"\]' "$work/default.yaml" && fail "Secrets readable by default" || pass "Secrets only as an opt-in"
    grep -q 'resources: \["secrets"\]' "$work/all.yaml" && pass "kubeSystemSecrets.enabled grants them" || fail "opt-in renders no Secrets role"
    $PY - "$work/all.yaml" <<'PY' && pass "chart PrometheusRule = the rule file" || fail "chart PrometheusRule differs"
import yaml, sys
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
pr = [d for d in docs if d["kind"] == "PrometheusRule"][0]
sys.exit(0 if pr["spec"] == yaml.safe_load(open("deploy/prometheus/kubevet.rules.yaml")) else 1)
PY
    $PY - "$work/all.yaml" <<'PY' && pass "DaemonSet: control-plane only, read-only mounts and root fs, no capabilities, limits" || fail "DaemonSet shape"
import yaml, sys
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d["kind"] == "DaemonSet"][0]["spec"]["template"]["spec"]
c = ds["containers"][0]
ok = ds["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
ok &= any(t["key"] == "node-role.kubernetes.io/control-plane" for t in ds["tolerations"])
ok &= all(m.get("readOnly") for m in c["volumeMounts"])
paths = {v["hostPath"]["path"] for v in ds["volumes"] if "hostPath" in v}
ok &= {"/etc/kubernetes", "/var/lib/kubelet"} <= paths
ok &= c["securityContext"]["readOnlyRootFilesystem"] and c["securityContext"]["capabilities"]["drop"] == ["ALL"]
ok &= not c["securityContext"]["allowPrivilegeEscalation"]
ok &= "--root=/host" in c["args"] and "limits" in c["resources"]
sys.exit(0 if ok else 1)
PY
fi

# --- kubectl create --dry-run=client against the stand-in ---
if [ -n "$kubectl" ]; then
    . tests/lib/apiserver.sh
    apiserver_setup
    apiserver_pki >/dev/null 2>&1
    if apiserver_start api >/dev/null 2>&1; then
        apiserver_kubeconfig api "$API_TMP/kc" cert
        k() { "$kubectl" --kubeconfig "$API_TMP/kc" create --dry-run=client -o name "$@"; }
        k -f deploy/ -f deploy/optional/ >"$work/out" 2>&1 &&
            pass "kubectl create --dry-run=client -f deploy/ ($(wc -l <"$work/out") objects)" ||
            fail "kubectl dry-run deploy/: $(cat "$work/out")"
        if [ -n "$helm" ]; then
            # the CRD kinds need their CRDs in discovery: the core objects are checked here
            $PY - "$work/all.yaml" "$work/core.yaml" <<'PY'
import yaml, sys
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["apiVersion"] != "monitoring.coreos.com/v1"]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
            k -f "$work/core.yaml" >"$work/out" 2>&1 &&
                pass "kubectl dry-run of the chart's objects ($(wc -l <"$work/out"))" ||
                fail "kubectl dry-run chart: $(cat "$work/out")"
        fi
        # (The stand-in's OpenAPI documents do not hold every field schema, so a misspelt field
        # is not caught here; kinds, API versions, names and YAML shape are.)
    else
        fail "API stand-in did not start"
    fi
fi

# --- kubevet apis scan: clean at the newest target ---
newest=$("$KUBEVET" version -o json | jq -r .api_catalog.newest_kubernetes)
"$KUBEVET" apis scan deploy/ --target "$newest" -o json >"$work/scan.json"
rc=$?
[ $rc = 0 ] && jq -e '(.findings | length) == 0 and .scanned.documents > 20' "$work/scan.json" >/dev/null &&
    pass "apis scan deploy/ clean at $newest ($(jq .scanned.documents "$work/scan.json") documents)" ||
    fail "apis scan deploy/ rc=$rc: $(jq -c .findings "$work/scan.json")"
if [ -n "$helm" ]; then
    "$KUBEVET" apis scan "$work/all.yaml" --target "$newest" >"$work/out" 2>&1 &&
        pass "apis scan of the rendered chart clean at $newest" || fail "apis scan chart: $(cat "$work/out")"
fi
rm -rf "$work"

[ $fails = 0 ] && echo "all passed" || echo "$fails failed"
[ $fails = 0 ]
