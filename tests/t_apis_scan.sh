#!/usr/bin/env bash
# apis scan: the corpus in tests/data/apis (every catalog row in YAML and JSON, Lists, a Helm
# chart, odd formatting, selector cases) against checked-in KV401 sets for several targets;
# exit codes; SARIF shape; fast path == --full-parse; the peers' fixtures (docs/peers.md "APIs").
set -u
KUBEVET=${KUBEVET:-build/kubevet}
KV_SRC=${KV_SRC:-.}
D=$KV_SRC/tests/data/apis
P=${KV_PEER_FIXTURES:-${KV_SRC:-.}/../shared/peer-fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
expect_rc() { # want, description, command...
    local want=$1 what=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" = "$want" ] && ok "$what (exit $rc)" || { bad "$what: exit $rc, want $want"; head -5 "$tmp/err"; }
}
# "ID file:line apiVersion kind name" per finding of the given IDs, sorted
ids() { # json-file id...
    python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = set(sys.argv[2:])
rows = sorted(f"{f['id']} {f['file']}:{f['line']} {f['api_version']} {f['kind']} {f['object_name']}"
              for f in d['findings'] if f['id'] in want)
print('\n'.join(rows))
PY
}

cd "$D" || exit 1
# 1. KV401 sets per target, against the checked-in expectations
for t in 1.16 1.22 1.25 1.26 1.29 1.32; do
    "$KUBEVET" apis scan . --target "$t" -o json --at 2026-01-01 >"$tmp/$t.json" 2>/dev/null
    ids "$tmp/$t.json" KV401 >"$tmp/$t.kv401"
    if [ "${KV_REGEN:-}" = 1 ]; then cp "$tmp/$t.kv401" "expected/kv401-$t.txt"; fi
    if diff -u "expected/kv401-$t.txt" "$tmp/$t.kv401" >"$tmp/diff"; then
        ok "target $t: KV401 set ($(wc -l <"$tmp/$t.kv401") findings)"
    else
        bad "target $t: KV401 set differs"; head -20 "$tmp/diff"
    fi
    # independent count: every catalog row removed by $t appears once in rows.yaml and once in
    # rows-list.json
    want=$(python3 - "$KV_SRC/data/apis.yaml" "$t" <<'PY'
import sys, yaml
t = tuple(map(int, sys.argv[2].split('.')))
rows = yaml.safe_load(open(sys.argv[1]))['apis']
print(sum(1 for r in rows if r['removed-in'] and tuple(map(int, r['removed-in'].split('.'))) <= t))
PY
)
    got=$(grep -c ' \./rows\.yaml:' "$tmp/$t.kv401"; true)
    gotj=$(grep -c ' \./rows-list\.json:' "$tmp/$t.kv401"; true)
    [ "$got" = "$want" ] && [ "$gotj" = "$want" ] && ok "target $t: all $want removed rows found (YAML and JSON)" ||
        bad "target $t: rows.yaml $got, rows-list.json $gotj, catalog says $want"
done

# 2. selector rule and odd inputs
"$KUBEVET" apis scan . --target 1.16 -o json >"$tmp/s.json" 2>/dev/null
ids "$tmp/s.json" KV403 KV404 | grep -v rows-list >"$tmp/sel"
for want in "KV403 ./selector/workloads.yaml:7 extensions/v1beta1 DaemonSet no-selector" \
    "KV403 ./selector/workloads.yaml:68 apps/v1 ReplicaSet empty-selector" \
    "KV404 ./selector/workloads.yaml:20 apps/v1 Deployment mismatch" \
    "KV404 ./selector/workloads.yaml:53 apps/v1 StatefulSet expressions" \
    "KV403 ./odd/bom-crlf.yaml:8 extensions/v1beta1 Deployment bom-crlf" \
    "KV403 ./chart/templates/deployment.yaml:8 extensions/v1beta1 Deployment {{ include \"demo.fullname\" . }}"; do
    grep -qxF "$want" "$tmp/sel" && ok "selector: $want" || bad "selector: missing $want"
done
[ "$(wc -l <"$tmp/sel")" = 6 ] && ok "selector: nothing else" || { bad "selector: extra findings"; cat "$tmp/sel"; }
"$KUBEVET" apis scan . --target 1.36 -o json >"$tmp/a.json" 2>/dev/null
ids "$tmp/a.json" KV401 KV402 | grep -v 'rows' >"$tmp/odd"
for want in "KV401 ./odd/flow.yaml:2 policy/v1beta1 PodDisruptionBudget flow-pdb" \
    "KV401 ./odd/flow.yaml:4 batch/v1beta1 CronJob quoted-cron" \
    "KV401 ./odd/flow.yaml:8 autoscaling/v2beta2 HorizontalPodAutoscaler anchored-hpa" \
    "KV401 ./odd/kind-first.yml:5 networking.k8s.io/v1beta1 Ingress kind-first" \
    "KV401 ./odd/indented.json:3 apiextensions.k8s.io/v1beta1 CustomResourceDefinition things.example.com" \
    "KV401 ./lists/lists.yaml:12 rbac.authorization.k8s.io/v1beta1 ClusterRole nested-in-list" \
    "KV401 ./chart/templates/selector.yaml:14 policy/v1beta1 PodSecurityPolicy {{ .Release.Name }}-psp"; do
    grep -qxF "$want" "$tmp/odd" && ok "odd: $want" || bad "odd: missing $want"
done
python3 - "$tmp/a.json" <<'PY' && ok "templates are labelled source=template" || bad "template source"
import json, sys
d = json.load(open(sys.argv[1]))
t = [f for f in d['findings'] if 'chart/templates' in f['file']]
sys.exit(0 if t and all(f['source'] == 'template' for f in t) else 1)
PY

# 3. fast path == --full-parse (templates excepted: libyaml cannot read them)
"$KUBEVET" apis scan rows.yaml rows-list.json odd lists selector --target 1.25 -o json --at 2026-01-01 >"$tmp/f1.json" 2>/dev/null
"$KUBEVET" apis scan rows.yaml rows-list.json odd lists selector --target 1.25 -o json --at 2026-01-01 --full-parse >"$tmp/f2.json" 2>/dev/null
python3 -c "import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(a['findings']!=b['findings'])" "$tmp/f1.json" "$tmp/f2.json" &&
    ok "fast path and --full-parse: same findings" || bad "fast path and --full-parse differ"

# 4. exit codes, errors, stdin
expect_rc 1 "findings at/above --fail-on" "$KUBEVET" apis scan . --target 1.22
expect_rc 0 "--fail-on never" "$KUBEVET" apis scan . --target 1.22 --fail-on never
expect_rc 0 "--fail-on critical, only warnings" "$KUBEVET" apis scan odd/flow.yaml --target 1.21 --fail-on critical
expect_rc 3 "unparseable document without apiVersion/kind" "$KUBEVET" apis scan ../apis-bad --target 1.16
grep -q 'apis-bad/unparseable.yaml:3:' "$tmp/err" && ok "error names file:line" || bad "error message: $(cat "$tmp/err")"
expect_rc 1 "unparseable document with a pre-scan pair: finding + note" "$KUBEVET" apis scan ../apis-bad/unparseable-with-pair.yaml --target 1.16
grep -q 'note: .*unparseable-with-pair.yaml:5:.*not valid YAML' "$tmp/err" && ok "note for the unparseable source" || bad "note: $(cat "$tmp/err")"
expect_rc 3 "missing file" "$KUBEVET" apis scan /nonexistent/file.yaml
expect_rc 2 "unknown flag" "$KUBEVET" apis scan --bogus .
expect_rc 2 "bad --target" "$KUBEVET" apis scan . --target one.two
expect_rc 2 "no input" "$KUBEVET" apis scan
expect_rc 1 "stdin" sh -c "'$KUBEVET' apis scan - --target 1.16 < selector/workloads.yaml"
grep -q '^KV401 .*-:2 ' "$tmp/out" && ok "stdin findings name '-'" || bad "stdin output"
expect_rc 0 "apis list" "$KUBEVET" apis list --target 1.25
grep -q '^flowcontrol.apiserver.k8s.io/v1beta1 .*FlowSchema .*1.23 .*1.26 ' "$tmp/out" && ok "list: flowcontrol v1beta1 removed in 1.26" || bad "list row"
expect_rc 0 "apis list --catalog example" "$KUBEVET" apis list --catalog "$KV_SRC/data/catalog-crds.example.yaml" -o json
printf '\x00\x01binary' >"$tmp/bin.yaml"
# a file named on the command line and not scanned is an input error; met in a folder, a note
expect_rc 3 "named binary file: not scanned, exit 3" "$KUBEVET" apis scan "$tmp/bin.yaml"
grep -q 'bin.yaml: not scanned: binary file' "$tmp/err" && ok "binary error" || bad "binary error"
expect_rc 0 "binary file in a folder: skipped with a note" "$KUBEVET" apis scan "$tmp"
grep -q 'note: .*bin.yaml: skipped: binary' "$tmp/err" && ok "binary note" || bad "binary note"
rm -f "$tmp/bin.yaml"
expect_rc 3 "named file over --max-size: exit 3" "$KUBEVET" apis scan rows.yaml --max-size 100
grep -q 'rows.yaml: not scanned: .*over the 100-byte cap' "$tmp/err" && ok "size cap error" || bad "size cap error"
expect_rc 0 "folder file over --max-size: a note" "$KUBEVET" apis scan selector --max-size 100 --fail-on never
grep -q 'note: .*skipped: .*over the 100-byte cap' "$tmp/err" && ok "size cap note" || bad "size cap note"

# 4b. cases (tests/data/apis-cases): catalog facts, Helm idioms, half-converted objects
C=$KV_SRC/tests/data/apis-cases
at() { # target, id, path...: "ID file:line kind name" of one ID
    local t=$1 id=$2
    shift 2
    "$KUBEVET" apis scan "$@" --target "$t" -o json 2>/dev/null |
        python3 -c "import json,sys; [print(f['id'], f['file'].rsplit('/',1)[-1]+':'+str(f['line']), f['api_version'], f['kind']) for f in json.load(sys.stdin)['findings'] if f['id']=='$id']"
}
[ "$(at 1.26 KV401 "$C/kubeadm-config.yaml")" = "" ] && ok "kubeadm v1beta2 config read by 1.26" || bad "kubeadm 1.26"
[ "$(at 1.27 KV401 "$C/kubeadm-config.yaml" | wc -l)" = 2 ] && ok "kubeadm v1beta2 config: KV401 at 1.27" || bad "kubeadm 1.27"
"$KUBEVET" apis scan "$C/kubeadm-config.yaml" --target 1.27 -o json 2>/dev/null | grep -q 'kubeadm config migrate --old-config' &&
    ok "kubeadm advice: kubeadm config migrate" || bad "kubeadm advice"
[ "$(at 1.23 KV401 "$C/audit-policy.yaml")" = "" ] && [ "$(at 1.24 KV401 "$C/audit-policy.yaml")" = "KV401 audit-policy.yaml:2 audit.k8s.io/v1beta1 Policy" ] &&
    ok "audit.k8s.io/v1beta1 Policy removed in 1.24" || bad "audit policy"
[ "$(at 1.36 KV401 "$C/admission-review.json")" = "" ] && ok "admission.k8s.io/v1beta1 AdmissionReview is not KV401" || bad "AdmissionReview"
# the quoted template idiom no longer hides the document from the selector rule
[ "$(at 1.16 KV403 "$C/chart")" = "KV403 deploy.yaml:7 apps/v1 Deployment" ] && ok "KV403 with \"{{ template \"x\" . }}\" labels" || bad "quoted template KV403: $(at 1.16 KV403 "$C/chart")"
[ "$(at 1.16 KV404 "$C/chart")" = "KV404 selectors.yaml:19 apps/v1 Deployment" ] && ok "KV404 only where static labels differ" || bad "templated selectors: $(at 1.16 KV404 "$C/chart")"
# capability switches: the dead old branch is not critical when the new one is served
[ "$(at 1.25 KV401 "$C/chart/templates/ingress.yaml")" = "" ] && ok "semverCompare Ingress switch: not KV401 at 1.25" || bad "Ingress switch"
[ "$(at 1.25 KV401 "$C/chart/templates/pdb.yaml")" = "KV401 pdb.yaml:15 batch/v2alpha1 CronJob" ] &&
    ok "APIVersions.Has switches: PDB clean, all-removed CronJob KV401" || bad "Has switch: $(at 1.25 KV401 "$C/chart/templates/pdb.yaml")"
# values.yaml (and ci/ values) beside Chart.yaml are not objects
[ "$(at 1.25 KV401 "$C/chart" | grep -c values)" = 0 ] && ok "chart values files are not objects" || bad "values.yaml scanned"
# half-converted objects
half() { at 1.25 KV401 "$@" | grep -E ' (networking|apiextensions)\.k8s\.io/v1 ' | sort; }
[ "$(half "$C/ingress-v1.yaml" "$C/crd-v1.yaml" "$C/chart")" = "KV401 crd-v1.yaml:15 apiextensions.k8s.io/v1 CustomResourceDefinition
KV401 crd-v1.yaml:41 apiextensions.k8s.io/v1 CustomResourceDefinition
KV401 ingress-half.yaml:13 networking.k8s.io/v1 Ingress
KV401 ingress-v1.yaml:10 networking.k8s.io/v1 Ingress
KV401 ingress-v1.yaml:44 networking.k8s.io/v1 Ingress" ] && ok "KV401: v1 Ingress without pathType / with serviceName, non-structural v1 CRDs" ||
    bad "KV401: $(half "$C/ingress-v1.yaml" "$C/crd-v1.yaml" "$C/chart")"
# the rendered chart (real helm) agrees with the source scan on the switch and the half Ingress
if dir=$("$KV_SRC/scripts/k8s-clients" 2>/dev/null) && [ -x "$dir/helm" ]; then
    "$dir/helm" template r "$C/chart" --kube-version 1.25.0 >"$tmp/rendered.yaml" 2>"$tmp/helm.err" || bad "helm template: $(cat "$tmp/helm.err")"
    r=$(half "$tmp/rendered.yaml" | wc -l)
    [ "$r" = 1 ] && ok "helm-rendered chart: the half-converted Ingress is KV401" || bad "rendered KV401: $r"
    grep -q '^apiVersion: networking.k8s.io/v1$' "$tmp/rendered.yaml" && [ "$(at 1.25 KV401 "$tmp/rendered.yaml" | grep Ingress | grep -vc ' networking\.k8s\.io/v1 ')" = 0 ] &&
        ok "helm-rendered switch picks networking.k8s.io/v1, as the scan assumed" || bad "rendered switch"
else
    echo "skip helm rendering: scripts/k8s-clients gave no helm"
fi

# templated CRDs (Helm): a v1 CRD still in the v1beta1 shape, or with a schema that is not
# structural, is KV401 with a detail, as the same CRD without directives is; a valid one is clean;
# the real helm's rendering of the chart gets the same verdicts
crdt() { "$KUBEVET" apis scan "$@" --target 1.25 -o json 2>/dev/null | python3 -c "import json,sys; [print(f['id'], f['file'].rsplit('/',1)[-1]+':'+str(f['line']), f['detail'].split(':')[0]) for f in json.load(sys.stdin)['findings'] if f['id']=='KV401' and f.get('detail')]"; }
[ "$(crdt "$C/crd-chart")" = "KV401 issuer-crd.yaml:17 spec.validation is an apiextensions.k8s.io/v1beta1 field; v1 wants spec.versions[].schema.openAPIV3Schema
KV401 order-crd.yaml:21 spec.versions[0].schema.openAPIV3Schema" ] && ok "templated v1 CRDs: v1beta1 validation / no root type are KV401 with detail" ||
    bad "templated CRDs: $(crdt "$C/crd-chart")"
if dir=$("$KV_SRC/scripts/k8s-clients" 2>/dev/null) && [ -x "$dir/helm" ]; then
    "$dir/helm" template r "$C/crd-chart" >"$tmp/crds.yaml" 2>"$tmp/helm.err" || bad "helm template crd-chart: $(cat "$tmp/helm.err")"
    [ "$(crdt "$tmp/crds.yaml" | cut -d' ' -f3-)" = "$(crdt "$C/crd-chart" | cut -d' ' -f3-)" ] &&
        ok "helm-rendered CRDs: the same KV401 details as the template scan" || bad "rendered CRDs: $(crdt "$tmp/crds.yaml")"
fi

# 4c. bounded memory: a kubectl-style List dump is read item by item (peak RSS < 2x input + 64 MB)
python3 - "$tmp/big.json" <<'PY'
import json, sys
items = [{"apiVersion": ["apps/v1", "extensions/v1beta1"][i % 2], "kind": "Deployment",
          "metadata": {"name": f"d{i}", "namespace": "n"},
          "spec": {"selector": {"matchLabels": {"app": f"d{i}"}},
                   "template": {"metadata": {"labels": {"app": f"d{i}"}},
                                "spec": {"containers": [{"name": "c", "image": "i",
                                         "env": [{"name": f"V{k}", "value": "x" * 20} for k in range(8)]}]}}}}
         for i in range(12000)]
json.dump({"apiVersion": "v1", "items": items, "kind": "List"}, open(sys.argv[1], "w"), indent=4)
PY
if ldd "$KUBEVET" 2>/dev/null | grep -q libasan; then
    echo "skip memory bound: a sanitizer build (its shadow memory is in the RSS)"
elif [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$tmp/rss" "$KUBEVET" apis scan "$tmp/big.json" --target 1.16 -o json >"$tmp/big.out" 2>/dev/null
    size=$(stat -c %s "$tmp/big.json") rss=$(tail -1 "$tmp/rss")
    n=$(grep -c '"KV401"' "$tmp/big.out")
    [ "$n" = 6000 ] && [ "$rss" -lt $(( (2 * size) / 1024 + 65536 )) ] &&
        ok "$((size / 1000000)) MB List: 6000 KV401, peak RSS $((rss / 1024)) MB" ||
        bad "big List: $n KV401, peak RSS $rss KB for $size bytes"
else
    echo "skip memory bound: no /usr/bin/time"
fi
# ... in one pass: libyaml reads the List's bytes once (the two-pass reader read them twice)
"$KUBEVET" apis scan "$tmp/big.json" --target 1.16 --stats -o json >/dev/null 2>"$tmp/stats"
read_b=$(sed -n 's/.*by libyaml (\([0-9]*\) bytes read).*/\1/p' "$tmp/stats")
size=$(stat -c %s "$tmp/big.json")
[ -n "$read_b" ] && [ "$read_b" -le "$size" ] && ok "big List read in one pass ($read_b of $size bytes through libyaml)" ||
    bad "big List passes: libyaml read ${read_b:-?} bytes of $size ($(cat "$tmp/stats"))"
# the same List with its kind first and as YAML, and a typed list whose items leave their type
# out (kind after the items): the one pass gives what the whole-document reader gives
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
items = [{"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": f"d{i}", "namespace": "n"},
          "spec": {"template": {"metadata": {"labels": {"app": "a" * 400}}}}} for i in range(3000)]
json.dump({"kind": "List", "apiVersion": "v1", "items": items}, open(f"{d}/kindfirst.json", "w"), indent=2)
typed = [{"metadata": {"name": f"t{i}", "annotations": {"pad": "p" * 400}}, "spec": {}} for i in range(3000)]
json.dump({"apiVersion": "extensions/v1beta1", "items": typed, "kind": "DeploymentList"}, open(f"{d}/typed.json", "w"), indent=2)
json.dump({"apiVersion": "v1", "items": items, "kind": "Bundle"}, open(f"{d}/notalist.json", "w"), indent=2)
PY
lst() { "$KUBEVET" apis scan "$@" --target 1.16 -o json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin)['findings']; print(len(d), sorted(set((f['id'], f.get('list_kind',''), f['kind']) for f in d)))"; }
[ "$(lst "$tmp/kindfirst.json")" = "6000 [('KV401', 'List', 'Deployment'), ('KV403', 'List', 'Deployment')]" ] &&
    [ "$(lst "$tmp/typed.json")" = "6001 [('KV401', '', 'DeploymentList'), ('KV401', 'DeploymentList', 'Deployment'), ('KV403', 'DeploymentList', 'Deployment')]" ] &&
    [ "$(lst "$tmp/notalist.json")" = "0 []" ] && ok "List kind first, typed list shorthand, not a List: as the whole-document reader" ||
    bad "List shapes: $(lst "$tmp/kindfirst.json") / $(lst "$tmp/typed.json") / $(lst "$tmp/notalist.json")"
rm -f "$tmp/big.json" "$tmp/big.out" "$tmp"/kindfirst.json "$tmp"/typed.json "$tmp"/notalist.json

# 5. SARIF
"$KUBEVET" apis scan selector --target 1.16 -o sarif >"$tmp/sarif.json" 2>/dev/null
python3 - "$tmp/sarif.json" <<'PY' && ok "SARIF 2.1.0 shape" || bad "SARIF"
import json, sys
s = json.load(open(sys.argv[1]))
assert s['version'] == '2.1.0' and len(s['runs']) == 1
run = s['runs'][0]
assert run['tool']['driver']['name'] == 'kubevet'
rules = [r['id'] for r in run['tool']['driver']['rules']]
assert {'KV401', 'KV403', 'KV404'} <= set(rules)
for r in run['results']:
    assert r['ruleId'] in rules and rules[r['ruleIndex']] == r['ruleId']
    assert r['level'] in ('error', 'warning', 'note') and r['message']['text']
    loc = r['locations'][0]['physicalLocation']
    assert loc['artifactLocation']['uri'].startswith('selector/') and loc['region']['startLine'] > 0
PY

# 6. peers (docs/peers.md "APIs")
if [ -d "$P/kube-no-trouble" ]; then
    K=$P/kube-no-trouble
    # each rule fixture: exactly the kinds kubent expects, as KV401 or KV402 at 1.36
    while read -r file kinds; do
        got=$("$KUBEVET" apis scan "$K/$file" --target 1.36 -o json 2>/dev/null |
            python3 -c "import json,sys; print(','.join(f['kind'] for f in sorted(json.load(sys.stdin)['findings'], key=lambda f: f['line'])))")
        [ "$got" = "$kinds" ] && ok "kube-no-trouble $file: $kinds" || bad "kube-no-trouble $file: got '$got', want '$kinds'"
    done <<'EOF2'
apiservice-v1beta1.yaml APIService
autoscaler-v2beta1.yaml HorizontalPodAutoscaler
autoscaler-v2beta2.yaml HorizontalPodAutoscaler
certificatesigningrequest-v1beta1.yaml CertificateSigningRequest
clusterrole-v1beta1.yaml ClusterRole
clusterrolebinding-v1beta1.yaml ClusterRoleBinding
cronjob-v1beta1.yaml CronJob
csidriver-v1beta1.yaml CSIDriver
csinode-v1beta1.yaml CSINode
csistoragecapacity-v1beta1.yaml CSIStorageCapacity
customresourcedefinition-v1beta1.yaml CustomResourceDefinition
deployment-v1beta1-and-ingress-v1beta1.yaml Deployment,Ingress
deployment-v1beta1.json Deployment
deployment-v1beta1.yaml Deployment
endpointslice-v1beta1.yaml EndpointSlice
fake-tokenReview-deprecated.yaml TokenReview
flowschema-v1beta1.yaml FlowSchema
flowschema-v1beta2.yaml FlowSchema
flowschema-v1beta3.yaml FlowSchema
ingress-v1beta1.yaml Ingress
ingressclass-v1beta1.yaml IngressClass
lease-v1beta1.yaml Lease
localsubjectaccessreview-v1beta1.yaml LocalSubjectAccessReview
mutatingwebhookconfiguration-v1beta1.yaml MutatingWebhookConfiguration
poddisruptionbudget-v1beta1.yaml PodDisruptionBudget
podsecuritypolicy-v1beta1.yaml PodSecurityPolicy
priorityclass-v1beta1.yaml PriorityClass
prioritylevelconfiguration-v1beta1.yaml PriorityLevelConfiguration
prioritylevelconfiguration-v1beta2.yaml PriorityLevelConfiguration
prioritylevelconfiguration-v1beta3.yaml PriorityLevelConfiguration
role-v1beta1.yaml Role
rolebinding-v1beta1.yaml RoleBinding
runtimeclass-v1beta1.yaml RuntimeClass
selfsubjectaccessreview-v1beta1.yaml SelfSubjectAccessReview
storageclass-v1beta1.yaml StorageClass
subjectaccessreview-v1beta1.yaml SubjectAccessReview
tokenreview-v1beta1.yaml TokenReview
validatingwebhookconfiguration-v1beta1.yaml ValidatingWebhookConfiguration
volumeattachment-v1beta1.yaml VolumeAttachment
EOF2
    # the removal release of each group: KV401 at it, not before (kubent's rules_1xx tests)
    for pair in flowschema-v1beta1.yaml:1.26 flowschema-v1beta2.yaml:1.29 flowschema-v1beta3.yaml:1.32 \
        csistoragecapacity-v1beta1.yaml:1.27 autoscaler-v2beta2.yaml:1.26 cronjob-v1beta1.yaml:1.25 \
        ingress-v1beta1.yaml:1.22 deployment-v1beta1.yaml:1.16; do
        f=${pair%%:*} v=${pair##*:} prev=1.$((${v#1.} - 1))
        a=$("$KUBEVET" apis scan "$K/$f" --target "$v" -o json 2>/dev/null | grep -c '"KV401"')
        b=$("$KUBEVET" apis scan "$K/$f" --target "$prev" -o json 2>/dev/null | grep -c '"KV401"')
        [ "$a" = 1 ] && [ "$b" = 0 ] && ok "kube-no-trouble $f removed in $v" || bad "kube-no-trouble $f: removal release"
    done
    expect_rc 0 "kube-no-trouble meow.txt: no error, nothing found" "$KUBEVET" apis scan "$K/meow.txt"
    out=$("$KUBEVET" apis scan "$K/issuer-v1alpha2.yaml" --catalog "$KV_SRC/data/catalog-crds.example.yaml" --target 1.6 -o json 2>/dev/null | grep -c '"kind": "Issuer"')
    [ "$out" = 1 ] && ok "kube-no-trouble issuer-v1alpha2.yaml with a custom catalog row" || bad "custom catalog Issuer"
    out=$("$KUBEVET" apis scan "$K/volumesnapshot-v1beta1.yaml" --target 1.36 -o json 2>/dev/null | grep -c '"id"')
    [ "$out" = 0 ] && ok "kube-no-trouble volumesnapshot: not a built-in API (differs on purpose, docs/peers.md)" || bad "volumesnapshot"
    expect_rc 1 "kube-no-trouble stdin" sh -c "'$KUBEVET' apis scan - --target 1.16 < '$K/deployment-v1beta1.yaml'"
else
    echo "skip peers (kube-no-trouble): $P/kube-no-trouble absent (a clone without ../shared)"
fi
# A finding's "name" is its check's (CHECKS.md), never the object's: that is "object_name".
printf 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec: {}\n' >"$tmp/name.yaml"
"$KUBEVET" apis scan -f "$tmp/name.yaml" --target 1.22 -o json >"$tmp/name.json"
[ "$(jq -c '[.findings[] | select(.id == "KV401") | [.name, .object_name]]' "$tmp/name.json")" = '[["api-removed","web"]]' ] &&
    ok "JSON: name is the check's, object_name the object's" || bad "JSON finding name: $(jq -c '.findings[0]' "$tmp/name.json")"

if [ -d "$P/pluto" ]; then
    A=$P/pluto/e2e-assets
    "$KUBEVET" apis scan "$A" --target 1.15 -o json >"$tmp/p15.json" 2>/dev/null
    echo $? >"$tmp/p15.rc"
    python3 - "$tmp/p15.json" <<'PY' && ok "pluto e2e static files at 1.15: utilities deprecated, not removed" || bad "pluto 1.15"
import json, sys
d = json.load(open(sys.argv[1]))
f = [x for x in d['findings'] if x['object_name'] == 'utilities']
assert f and all(x['id'] == 'KV402' and x['api_version'] == 'extensions/v1beta1' and x['replacement'] == 'apps/v1' for x in f)
assert not d['errors']
assert any(x['file'].endswith('deprecated116/deployment-extensions-v1beta1.yaml') for x in f)
assert not any(x['api_version'] == 'apps/v1' for x in d['findings'])
PY
    expect_rc 0 "pluto non-deprecated at 1.16" "$KUBEVET" apis scan "$A/non-deprecated" --target 1.16
    expect_rc 1 "pluto single file removed at 1.16" "$KUBEVET" apis scan "$A/deprecated116/deployment-extensions-v1beta1.yaml" --target 1.16
    grep -q 'extensions/v1beta1' "$tmp/out" && ok "pluto: removed apiVersion printed" || bad "pluto output"
    n=$("$KUBEVET" apis scan "$A/chart" --target 1.16 -o json 2>/dev/null | grep -c '"source": "template"')
    [ "$n" -ge 1 ] && ok "pluto chart templates: found in the template source (#317)" || bad "pluto chart templates"
    "$KUBEVET" apis scan "$P/pluto/finder-testdata" --target v1.16.0 -o json 2>/dev/null |
        python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(sorted((f['object_name'],f['namespace']) for f in d['findings'])!=[('utilities','json-namespace'),('utilities','yaml-namespace')])" &&
        ok "pluto finder-testdata: yaml-namespace and json-namespace" || bad "pluto finder-testdata"
else
    echo "skip peers (pluto): $P/pluto absent (a clone without ../shared)"
fi
exit $fail
