#!/usr/bin/env bash
# ctest-label: online
# t_apiserver.sh - the API stand-in (tests/apiserver/) speaks the real protocol: checked with curl
# + jq for the wire shapes, then with the real kubectl 1.31 and helm 3.17 (scripts/k8s-clients;
# those parts skip with the reason when the clients cannot be had), and Helm v2 records with
# protoc --decode. Servers run on free ports on 127.0.0.1 and are killed on exit.
#
#   KV_SRC=. bash tests/t_apiserver.sh
# Prints "ok NAME" / "FAIL NAME: why" / "skip NAME: why"; exits 1 on any failure.
# KEEP_TMP=1 keeps the temp dir; BENCH=1 adds the 20,000 Secrets + 5,000 Nodes timing.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
. "$KV_SRC/tests/lib/apiserver.sh"

apiserver_begin
CL=$KV_SRC/tests/data/clusters

# api METHOD PATH [curl args]: admin-token request to server A; body in $OUT, status in $CODE
api() {
    local m=$1 p=$2
    shift 2
    CODE=$(curl -s -o "$OUT" -w '%{http_code}' -m 20 --cacert "$API_PKI/ca.crt" -X "$m" \
        -H "Authorization: Bearer admin-token" "$@" "$A_URL$p")
}

if /usr/bin/python3 "$KV_SRC/tests/apiserver/test_units.py" >"$OUT" 2>&1; then
    ok stand-in-unit-tests
else
    fail stand-in-unit-tests "tests/apiserver/test_units.py"
fi

apiserver_pki || { echo "FAIL could not make the PKI"; exit 1; }

# ---------------------------------------------------------------- wire shapes (curl)
HELMFX=$API_TMP/helmfx
cat >"$API_TMP/releases.yaml" <<'EOF'
- name: web
  namespace: apps
  chart: {name: web, version: 1.2.0, appVersion: "2.0"}
  revisions:
    - status: superseded
      manifest: "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  a: \"1\"\n"
    - status: deployed
      notes: thanks for installing web
      manifest: "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  a: \"2\"\n"
- name: db
  namespace: data
  driver: configmap
  chart: {name: db, version: 0.1.0, appVersion: "9.6"}
  revisions:
    - status: deployed
      manifest: "---\n# Source: db/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n"
- name: legacy
  helm: 2
  namespace: legacy
  chart: {name: legacy, version: 0.3.0, appVersion: "1.0"}
  revisions:
    - status: SUPERSEDED
      manifest: "---\n# Source: legacy/templates/ds.yaml\napiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata:\n  name: agent\n"
    - status: DEPLOYED
      manifest: "---\n# Source: legacy/templates/ds.yaml\napiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template: {}\n"
EOF
/usr/bin/python3 "$KV_SRC/tests/lib/helmrec.py" "$API_TMP/releases.yaml" "$HELMFX" ||
    { echo "FAIL helmrec.py"; exit 1; }

apiserver_start A --deny viewer:list:secrets:kube-system --deny viewer:patch:nodes \
    "$CL/incident1-v1.12" "$HELMFX" || { echo "FAIL could not start the stand-in"; exit 1; }

api GET /version
[ "$CODE" = 200 ] && check version '.gitVersion == "v1.12.10" and .major == "1" and .minor == "12"' ||
    fail version "HTTP $CODE"
api GET /api/v1
check discovery-core '.kind == "APIResourceList" and .groupVersion == "v1" and
    (.resources[] | select(.name == "nodes") | .namespaced == false and .kind == "Node" and
     .shortNames == ["no"] and (.verbs | index("list") != null))'
api GET /apis
check discovery-groups '.kind == "APIGroupList" and ([.groups[].name] | index("apps") != null and
    index("certificates.k8s.io") != null and index("rbac.authorization.k8s.io") != null)'
api GET /apis/certificates.k8s.io/v1
check discovery-csr '[.resources[] | select(.name == "certificatesigningrequests")][0].shortNames == ["csr"]
    and ([.resources[].name] | index("certificatesigningrequests/approval") != null)'

CODE=$(curl -s -o "$OUT" -w '%{http_code}' --cacert "$API_PKI/ca.crt" "$A_URL/api/v1/nodes")
[ "$CODE" = 401 ] && check unauthenticated-401 '.kind == "Status" and .reason == "Unauthorized" and .code == 401' ||
    fail unauthenticated-401 "HTTP $CODE"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' --cacert "$API_PKI/ca.crt" -H 'Authorization: Bearer nope' \
    "$A_URL/api/v1/nodes")
[ "$CODE" = 401 ] && ok unknown-token-401 || fail unknown-token-401 "HTTP $CODE"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' --cacert "$API_PKI/ca.crt" --cert "$API_PKI/viewer.crt" \
    --key "$API_PKI/viewer.key" "$A_URL/api/v1/namespaces/kube-system/secrets")
[ "$CODE" = 403 ] && check client-cert-403 '.reason == "Forbidden" and .message ==
    "secrets is forbidden: User \"viewer\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\""' ||
    fail client-cert-403 "HTTP $CODE"

api GET /api/v1/nodes/master-2
check get-node '.kind == "Node" and .apiVersion == "v1" and .metadata.name == "master-2" and
    (.metadata.annotations["kubeadm.alpha.kubernetes.io/cri-socket"] == null) and
    (.metadata.uid | length) == 36 and (.metadata.resourceVersion | tonumber) > 0'
api GET /api/v1/nodes/nope
[ "$CODE" = 404 ] && check not-found '.reason == "NotFound" and .message == "nodes \"nope\" not found" and
    .details.name == "nope" and .details.kind == "nodes"' || fail not-found "HTTP $CODE"

# Pagination: 1,200 Secrets in three pages of 500, 500 and 200.
for i in $(seq -w 1 1200); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: page-%s, namespace: paging, labels: {batch: "%s", tier: t%s}}\nstringData: {k: v}\n' \
        "$i" "$((10#$i % 3))" "$((10#$i % 2))"
done >"$API_TMP/paging.yaml"
curl -s -o "$OUT" --cacert "$API_PKI/ca.crt" -X POST -H "Authorization: Bearer $API_ADMIN_TOKEN" \
    -H 'Content-Type: application/yaml' --data-binary @"$API_TMP/paging.yaml" "$A_URL/_standin/objects"
check admin-add-objects '.added == 1200'
names=$API_TMP/names
: >"$names"
tok=""
pages=()
for p in 1 2 3 4; do
    api GET "/api/v1/namespaces/paging/secrets?limit=500${tok:+&continue=$tok}"
    pages+=("$(jq '.items | length' "$OUT"):$(jq -r '.metadata.remainingItemCount // "-"' "$OUT")")
    jq -r '.items[].metadata.name' "$OUT" >>"$names"
    tok=$(jq -r '.metadata.continue // ""' "$OUT")
    [ -z "$tok" ] && break
done
if [ "${pages[*]}" = "500:700 500:200 200:-" ] && [ "$(sort -u "$names" | wc -l)" = 1200 ] &&
    sort -c "$names" 2>/dev/null; then
    ok pagination-3-pages
else
    fail pagination-3-pages "pages (items:remaining) ${pages[*]}, $(sort -u "$names" | wc -l) names"
fi
api GET "/api/v1/namespaces/paging/secrets?limit=500"
tok=$(jq -r '.metadata.continue' "$OUT")
apiserver_admin A POST /_standin/faults '{"expire_continue": true}' >/dev/null
api GET "/api/v1/namespaces/paging/secrets?limit=500&continue=$tok"
[ "$CODE" = 410 ] && check continue-expired-410 '.reason == "Expired" and .code == 410 and
    (.metadata.continue | length) > 0' || fail continue-expired-410 "HTTP $CODE"
tok2=$(jq -r '.metadata.continue' "$OUT")
api GET "/api/v1/namespaces/paging/secrets?limit=500&continue=$tok"
c_old=$CODE
api GET "/api/v1/namespaces/paging/secrets?limit=500&continue=$tok2"
[ "$c_old" = 410 ] && [ "$CODE" = 200 ] && check continue-inconsistent-token \
    '.items[0].metadata.name == "page-0501"' || fail continue-inconsistent-token "HTTP $c_old $CODE"

# Selectors.
sel() {
    api GET "/api/v1/namespaces/paging/secrets?$1"
    local n
    n=$(jq '.items | length' "$OUT")
    [ "$CODE" = 200 ] && [ "$n" = "$2" ] && ok "selector $1" || fail "selector $1" "HTTP $CODE, $n items, want $2"
}
sel 'labelSelector=batch%3D1' 400
sel 'labelSelector=batch%3D%3D1%2Ctier%3Dt0' 200
sel 'labelSelector=batch!%3D1' 800
sel 'labelSelector=batch%20in%20(0%2C2)' 800
sel 'labelSelector=batch%20notin%20(0)%2Ctier' 800
sel 'labelSelector=!tier' 0
sel 'fieldSelector=metadata.name%3Dpage-0007' 1
sel 'fieldSelector=type%3DOpaque%2Cmetadata.name!%3Dpage-0007' 1199
api GET '/api/v1/secrets?fieldSelector=spec.nodeName%3Dx'
[ "$CODE" = 400 ] && check field-label-not-supported '.reason == "BadRequest" and
    (.message | contains("field label not supported: spec.nodeName"))' ||
    fail field-label-not-supported "HTTP $CODE"
api GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dmaster-2'
check pods-by-node '[.items[].metadata.name] == ["etcd-master-2", "kube-apiserver-master-2"]'

# Writes: create, stale update 409, patches, delete.
api POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-","labels":{"a":"1"}},"data":{"x":"1"}}'
[ "$CODE" = 201 ] && check create-generatename '(.metadata.name | test("^gen-[a-z0-9]{5}$")) and
    (.metadata.creationTimestamp | test("Z$"))' || fail create-generatename "HTTP $CODE"
GEN=$(jq -r .metadata.name "$OUT")
RV1=$(jq -r .metadata.resourceVersion "$OUT")
api PUT "/api/v1/namespaces/default/configmaps/$GEN" -H 'Content-Type: application/json' \
    -d "{\"metadata\":{\"name\":\"$GEN\",\"resourceVersion\":\"$RV1\"},\"data\":{\"x\":\"2\"}}"
RV2=$(jq -r .metadata.resourceVersion "$OUT")
[ "$CODE" = 200 ] && [ "$RV2" -gt "$RV1" ] && ok update-bumps-rv || fail update-bumps-rv "HTTP $CODE rv $RV1 -> $RV2"
api PUT "/api/v1/namespaces/default/configmaps/$GEN" -H 'Content-Type: application/json' \
    -d "{\"metadata\":{\"name\":\"$GEN\",\"resourceVersion\":\"$RV1\"},\"data\":{\"x\":\"3\"}}"
[ "$CODE" = 409 ] && check update-stale-409 ".reason == \"Conflict\" and .message ==
    \"Operation cannot be fulfilled on configmaps \\\"$GEN\\\": the object has been modified; please apply your changes to the latest version and try again\"" ||
    fail update-stale-409 "HTTP $CODE"
api PATCH "/api/v1/namespaces/default/configmaps/$GEN" -H 'Content-Type: application/merge-patch+json' \
    -d '{"metadata":{"labels":{"a":null,"b":"2"}},"data":{"y":"1"}}'
check merge-patch '.metadata.labels == {"b":"2"} and .data == {"x":"2","y":"1"}'
apiserver_admin A GET /_standin/requests >"$OUT"
check request-log-body '[.items[] | select(.method == "PATCH")][-1] | .body ==
    "{\"metadata\":{\"labels\":{\"a\":null,\"b\":\"2\"}},\"data\":{\"y\":\"1\"}}" and
    .content_type == "application/merge-patch+json" and .user == "kubernetes-admin"'
api PATCH "/api/v1/namespaces/default/configmaps/$GEN" -H 'Content-Type: application/json-patch+json' \
    -d '[{"op":"test","path":"/data/x","value":"2"},{"op":"add","path":"/metadata/annotations","value":{"k/x":"v"}},{"op":"remove","path":"/data/y"}]'
check json-patch '.metadata.annotations == {"k/x":"v"} and .data == {"x":"2"}'
api PATCH "/api/v1/namespaces/default/configmaps/$GEN" -H 'Content-Type: application/strategic-merge-patch+json' \
    -d '{"metadata":{"annotations":{"k/y":"w"}}}'
check strategic-merge-patch '.metadata.annotations == {"k/x":"v","k/y":"w"}'
api PATCH "/api/v1/namespaces/default/configmaps/$GEN" -H 'Content-Type: application/merge-patch+json' \
    -d "{\"metadata\":{\"resourceVersion\":\"$RV1\"}}"
[ "$CODE" = 409 ] && ok patch-stale-rv-409 || fail patch-stale-rv-409 "HTTP $CODE"
api DELETE "/api/v1/namespaces/default/configmaps/$GEN"
check delete-status '.kind == "Status" and .status == "Success" and .details.name == "'"$GEN"'"'
api POST /api/v1/namespaces/nowhere/configmaps -H 'Content-Type: application/json' \
    -d '{"metadata":{"name":"x"}}'
[ "$CODE" = 404 ] && check create-missing-namespace '.message == "namespaces \"nowhere\" not found"' ||
    fail create-missing-namespace "HTTP $CODE"

# Watch: events after a resourceVersion, then the stream ends at timeoutSeconds.
api GET /api/v1/namespaces/default/configmaps
RVW=$(jq -r .metadata.resourceVersion "$OUT")
curl -s -N -m 20 --cacert "$API_PKI/ca.crt" -H 'Authorization: Bearer admin-token' \
    "$A_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$RVW&timeoutSeconds=6" \
    >"$API_TMP/watch.out" &
wpid=$!
sleep 0.5
api POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' -d '{"metadata":{"name":"w1"}}'
api PATCH /api/v1/namespaces/default/configmaps/w1 -H 'Content-Type: application/merge-patch+json' -d '{"data":{"a":"b"}}'
api DELETE /api/v1/namespaces/default/configmaps/w1
wait $wpid
[ "$(jq -r '"\(.type) \(.object.kind) \(.object.metadata.name)"' "$API_TMP/watch.out" | tr '\n' ',')" = \
    "ADDED ConfigMap w1,MODIFIED ConfigMap w1,DELETED ConfigMap w1," ] && ok watch-events ||
    fail watch-events "$(tr '\n' ' ' <"$API_TMP/watch.out" | head -c 300)"
CODE=$(curl -s -o "$OUT" -w '%{http_code}' --cacert "$API_PKI/ca.crt" -H 'Authorization: Bearer nope' "$A_URL/version")
[ "$CODE" = 401 ] && ok bad-token-401-on-public-path || fail bad-token-401-on-public-path "HTTP $CODE"

# Faults.
apiserver_admin A POST /_standin/faults '{"fail_write": [1], "conflict_update": [1]}' >/dev/null
api POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' -d '{"metadata":{"name":"f1"}}'
c1=$CODE
api POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' -d '{"metadata":{"name":"f1"}}'
c2=$CODE
api PUT /api/v1/namespaces/default/configmaps/f1 -H 'Content-Type: application/json' -d '{"metadata":{"name":"f1"}}'
c3=$CODE
api PUT /api/v1/namespaces/default/configmaps/f1 -H 'Content-Type: application/json' -d '{"metadata":{"name":"f1"}}'
c4=$CODE
[ "$c1 $c2 $c3 $c4" = "500 201 409 200" ] && ok fault-write-500-update-409 ||
    fail fault-write-500-update-409 "codes $c1 $c2 $c3 $c4, want 500 201 409 200"
apiserver_admin A POST /_standin/faults '{"throttle_reads": 2, "retry_after": 3}' >/dev/null
codes=""
for i in 1 2 3; do
    CODE=$(curl -s -D "$API_TMP/h$i" -o "$OUT" -w '%{http_code}' --cacert "$API_PKI/ca.crt" \
        -H 'Authorization: Bearer admin-token' "$A_URL/api/v1/nodes")
    codes="$codes$CODE "
done
if [ "$codes" = "429 429 200 " ] && grep -qi '^Retry-After: 3' "$API_TMP/h1"; then
    ok fault-429-then-success
else
    fail fault-429-then-success "codes $codes"
fi
apiserver_admin A POST /_standin/faults \
    '{"rules": [{"method": "PUT", "path": "/configmaps/f1$", "nth": 2, "times": 2, "code": 503}]}' >/dev/null
codes=""
for i in 1 2 3 4; do
    api PUT /api/v1/namespaces/default/configmaps/f1 -H 'Content-Type: application/json' -d '{"metadata":{"name":"f1"}}'
    codes="$codes$CODE "
done
[ "$codes" = "200 503 503 200 " ] && ok fault-rule || fail fault-rule "codes $codes"
apiserver_admin A POST /_standin/faults '{"drop_request": [1]}' >/dev/null
curl -s -o /dev/null --cacert "$API_PKI/ca.crt" -H 'Authorization: Bearer admin-token' "$A_URL/api/v1/nodes"
rc=$?
[ "$rc" = 52 ] || [ "$rc" = 56 ] || [ "$rc" = 35 ] && ok fault-drop-connection ||
    fail fault-drop-connection "curl exit $rc, want 52/56 (connection closed)"
apiserver_admin A POST /_standin/faults '{"delay_paths": {"^/api/v1/nodes$": 700}}' >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' --cacert "$API_PKI/ca.crt" -H 'Authorization: Bearer admin-token' \
    "$A_URL/api/v1/nodes")
apiserver_admin A POST /_standin/reset >/dev/null
[ "$(echo "$t >= 0.7" | bc)" = 1 ] && ok "fault-delay-path (${t}s)" || fail fault-delay-path "took ${t}s"

# ---------------------------------------------------------------- kubectl 1.31
if ! CLIENTS=$("$KV_SRC/scripts/k8s-clients" 2>"$ERR"); then
    echo "skip kubectl/helm: $(head -c 300 "$ERR")"
    CLIENTS=""
fi
if [ -n "$CLIENTS" ]; then
    KUBECTL=$CLIENTS/kubectl
    HELM=$CLIENTS/helm
    apiserver_kubeconfig A "$API_TMP/admin.conf" cert admin
    apiserver_kubeconfig A "$API_TMP/admin-token.conf" token admin
    apiserver_kubeconfig A "$API_TMP/viewer.conf" cert viewer
    kc() { "$KUBECTL" --kubeconfig "$API_TMP/admin.conf" "$@"; }

    kc get nodes >"$OUT" 2>"$ERR"
    if head -1 "$OUT" | grep -Eq '^NAME +STATUS +ROLES +AGE +VERSION$' &&
        grep -Eq '^master-2 +Ready +master +400d +v1\.12\.10$' "$OUT" && [ "$(wc -l <"$OUT")" = 6 ]; then
        ok kubectl-get-nodes
    else
        fail kubectl-get-nodes "table"
    fi
    "$KUBECTL" --kubeconfig "$API_TMP/admin-token.conf" get nodes -o json >"$OUT" 2>"$ERR"
    check kubectl-get-nodes-json-token '.kind == "List" and ([.items[].metadata.name] | length) == 5 and
        ([.items[] | select(.metadata.annotations["kubeadm.alpha.kubernetes.io/cri-socket"] == null)
          | .metadata.name] == ["master-2", "master-3"]) and .items[0].kind == "Node"'
    for m in certfile tokenfile; do
        apiserver_kubeconfig A "$API_TMP/$m.conf" $m admin
        "$KUBECTL" --kubeconfig "$API_TMP/$m.conf" get nodes -o name >"$OUT" 2>"$ERR"
        [ "$(wc -l <"$OUT")" = 5 ] && ok "kubectl-kubeconfig-$m" || fail "kubectl-kubeconfig-$m" "nodes"
    done
    saved=$API_PKI
    apiserver_pki "$API_TMP/other-pki" && API_PKI=$saved &&
        API_KC_CA=$API_TMP/other-pki/ca.crt apiserver_kubeconfig A "$API_TMP/wrong-ca.conf" token admin
    API_PKI=$saved
    "$KUBECTL" --kubeconfig "$API_TMP/wrong-ca.conf" get nodes >"$OUT" 2>"$ERR"
    grep -q 'x509: certificate signed by unknown authority' "$ERR" && ok kubectl-wrong-ca ||
        fail kubectl-wrong-ca "no x509 error"
    kc get secrets -A -l owner=helm -o json >"$OUT" 2>"$ERR"
    check kubectl-helm-secrets '[.items[].metadata.name] == ["sh.helm.release.v1.web.v1", "sh.helm.release.v1.web.v2"]
        and .items[0].type == "helm.sh/release.v1" and .items[0].metadata.namespace == "apps"'
    kc annotate node master-2 kubeadm.alpha.kubernetes.io/cri-socket=/var/run/dockershim.sock >"$OUT" 2>"$ERR"
    api GET /api/v1/nodes/master-2
    check kubectl-annotate '.metadata.annotations["kubeadm.alpha.kubernetes.io/cri-socket"] == "/var/run/dockershim.sock"
        and .metadata.annotations["node.alpha.kubernetes.io/ttl"] == "0"'
    kc -n kube-system get cm kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' >"$OUT" 2>"$ERR"
    grep -q '^controlPlaneEndpoint: k8s-api.example.internal:6443$' "$OUT" &&
        grep -q '^kubernetesVersion: v1.12.10$' "$OUT" && ok kubectl-jsonpath-kubeadm-config ||
        fail kubectl-jsonpath-kubeadm-config "ClusterConfiguration"
    kc -n kube-system get cm kubeadm-config -o jsonpath='{.data.ClusterStatus}' >"$OUT" 2>"$ERR"
    /usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))
sys.exit(0 if list(d["apiEndpoints"]) == ["master-1"] else 1)' "$OUT" &&
        ok kubectl-cluster-status-one-endpoint || fail kubectl-cluster-status-one-endpoint "apiEndpoints"
    "$KUBECTL" --kubeconfig "$API_TMP/viewer.conf" -n kube-system get secrets >"$OUT" 2>"$ERR"
    rc=$?
    [ $rc = 1 ] && grep -qx 'Error from server (Forbidden): secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "kube-system"' "$ERR" &&
        ok kubectl-403-text || fail kubectl-403-text "exit $rc"
    "$KUBECTL" --kubeconfig "$API_TMP/viewer.conf" annotate node master-3 x=y >"$OUT" 2>"$ERR"
    grep -qx 'Error from server (Forbidden): nodes "master-3" is forbidden: User "viewer" cannot patch resource "nodes" in API group "" at the cluster scope' "$ERR" &&
        ok kubectl-403-named || fail kubectl-403-named "message"
    apiserver_admin A POST /_standin/faults '{"throttle_reads": 2, "retry_after": 1}' >/dev/null
    kc get nodes -o name >"$OUT" 2>"$ERR"
    rc=$?
    apiserver_admin A GET /_standin/faults >"$API_TMP/faults.json"
    [ $rc = 0 ] && [ "$(wc -l <"$OUT")" = 5 ] && [ "$(jq .fired.throttle_reads "$API_TMP/faults.json")" = 2 ] &&
        ok kubectl-retries-429 || fail kubectl-retries-429 "exit $rc"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, namespace: default}\ndata: {a: "1"}\n' \
        >"$API_TMP/applied.yaml"
    kc apply -f "$API_TMP/applied.yaml" >"$OUT" 2>"$ERR" && sed -i 's/"1"/"2"/' "$API_TMP/applied.yaml" &&
        kc apply -f "$API_TMP/applied.yaml" >>"$OUT" 2>>"$ERR" &&
        [ "$(kc get cm applied -o jsonpath='{.data.a}')" = 2 ] && ok kubectl-apply || fail kubectl-apply "exit $?"
    kc apply --server-side -f "$API_TMP/applied.yaml" >"$OUT" 2>"$ERR" && ok kubectl-apply-server-side ||
        fail kubectl-apply-server-side "exit $?"
    can_ks=$("$KUBECTL" --kubeconfig "$API_TMP/viewer.conf" auth can-i list secrets -n kube-system 2>&1)
    can_def=$("$KUBECTL" --kubeconfig "$API_TMP/viewer.conf" auth can-i list secrets -n default 2>&1)
    who=$("$KUBECTL" --kubeconfig "$API_TMP/admin.conf" auth whoami -o jsonpath='{.status.userInfo.username} {.status.userInfo.groups}' 2>&1)
    [ "${can_ks%% *}" = no ] && [ "$can_def" = yes ] &&
        [ "$who" = 'kubernetes-admin ["system:masters","system:authenticated"]' ] &&
        ok kubectl-auth-can-i-whoami || fail kubectl-auth-can-i-whoami "$can_ks / $can_def / $who"
    sed 's/admin-token/wrong-token/' "$API_TMP/admin-token.conf" >"$API_TMP/bad.conf"
    "$KUBECTL" --kubeconfig "$API_TMP/bad.conf" get nodes >"$OUT" 2>"$ERR"
    rc=$?
    [ $rc = 1 ] && grep -q 'error: You must be logged in to the server (Unauthorized)' "$ERR" &&
        ok kubectl-401-text || fail kubectl-401-text "exit $rc"
    kc get pods -n kube-system --field-selector spec.nodeName=master-1 -o name >"$OUT" 2>"$ERR"
    [ "$(tr '\n' ' ' <"$OUT")" = "pod/etcd-master-1 pod/kube-apiserver-master-1 " ] &&
        ok kubectl-field-selector || fail kubectl-field-selector "pods"
    kc get secrets -n paging --chunk-size=500 -o name >"$OUT" 2>"$ERR"
    [ "$(wc -l <"$OUT")" = 1200 ] && ok kubectl-chunked-list || fail kubectl-chunked-list "$(wc -l <"$OUT") lines"
    kc create configmap made-by-kubectl -n default --from-literal=a=b >"$OUT" 2>"$ERR" &&
        kc label configmap made-by-kubectl -n default x=y >>"$OUT" 2>"$ERR" &&
        kc delete configmap made-by-kubectl -n default >>"$OUT" 2>"$ERR" && ok kubectl-create-label-delete ||
        fail kubectl-create-label-delete "exit $?"

    # ------------------------------------------------------------ helm 3
    helm() { "$HELM" --kubeconfig "$API_TMP/admin.conf" "$@"; }
    helm list -A >"$OUT" 2>"$ERR"
    [ "$(awk -F'\t' 'NR > 1 {gsub(/ +/, ""); print $1, $2, $3, $5, $6, $7}' "$OUT")" = \
        "web apps 2 deployed web-1.2.0 2.0" ] && head -1 "$OUT" | grep -q '^NAME' && ok helm-list ||
        fail helm-list "table"
    helm history web -n apps -o json >"$OUT" 2>"$ERR"
    check helm-history '[.[] | [.revision, .status, .chart, .app_version]] ==
        [[1, "superseded", "web-1.2.0", "2.0"], [2, "deployed", "web-1.2.0", "2.0"]]'
    helm status web -n apps >"$OUT" 2>"$ERR"
    grep -qx 'STATUS: deployed' "$OUT" && grep -qx 'REVISION: 2' "$OUT" &&
        grep -qx 'thanks for installing web' "$OUT" && ok helm-status || fail helm-status "output"
    helm get manifest web -n apps >"$OUT" 2>"$ERR"
    grep -qx '  a: "2"' "$OUT" && grep -qx '# Source: web/templates/cm.yaml' "$OUT" && ok helm-get-manifest ||
        fail helm-get-manifest "manifest"
    HELM_DRIVER=configmap helm list -A -o json >"$OUT" 2>"$ERR"
    check helm-configmap-driver '[.[] | [.name, .namespace, .revision, .status, .chart]] ==
        [["db", "data", "1", "deployed", "db-0.1.0"]]'

    # helm writes its own release Secrets: install and upgrade a chart holding one ConfigMap.
    mkdir -p "$API_TMP/chart/templates"
    printf 'apiVersion: v2\nname: tiny\nversion: 0.1.0\nappVersion: "1.0"\n' >"$API_TMP/chart/Chart.yaml"
    printf 'greeting: hello\n' >"$API_TMP/chart/values.yaml"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n' \
        >"$API_TMP/chart/templates/cm.yaml"
    if helm install t1 "$API_TMP/chart" -n default >"$OUT" 2>"$ERR" &&
        helm upgrade t1 "$API_TMP/chart" -n default --set greeting=hi >>"$OUT" 2>>"$ERR"; then
        kc get secrets -n default -l owner=helm,name=t1 -o json >"$OUT" 2>"$ERR"
        check helm-install-upgrade '[.items[] | [.metadata.name, .metadata.labels.status]] ==
            [["sh.helm.release.v1.t1.v1", "superseded"], ["sh.helm.release.v1.t1.v2", "deployed"]]'
        kc get cm t1-cm -n default -o jsonpath='{.data.greeting}' >"$OUT" 2>"$ERR"
        [ "$(cat "$OUT")" = hi ] && ok helm-upgrade-patched-configmap || fail helm-upgrade-patched-configmap "greeting"
        helm uninstall t1 -n default >"$OUT" 2>"$ERR" &&
            [ -z "$(kc get secrets,cm -n default -l owner=helm,name=t1 -o name 2>/dev/null)" ] &&
            ! kc get cm t1-cm -n default >/dev/null 2>&1 && ok helm-uninstall || fail helm-uninstall "leftovers"
    else
        fail helm-install-upgrade "helm exit $?"
    fi
else
    echo "skip kubectl and helm cases: clients unavailable"
fi

# ---------------------------------------------------------------- Helm v2 records (protoc)
if command -v protoc >/dev/null; then
    /usr/bin/python3 - "$HELMFX/helm-legacy-legacy.yaml" >"$API_TMP/rel.bin" <<'EOF'
import base64, gzip, sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
sys.stdout.buffer.write(gzip.decompress(base64.b64decode(docs[1]["data"]["release"])))
EOF
    protoc -I "$KV_SRC/tests/apiserver" -I /usr/include --decode=hapi.release.Release \
        hapi-release.proto <"$API_TMP/rel.bin" >"$OUT" 2>"$ERR"
    grep -qx 'name: "legacy"' "$OUT" && grep -qx 'version: 2' "$OUT" && grep -q '    code: 1$' "$OUT" &&
        grep -q 'apiVersion: extensions/v1beta1' "$OUT" && grep -qx 'namespace: "legacy"' "$OUT" &&
        ok helm-v2-protobuf || fail helm-v2-protobuf "protoc --decode"
    api GET '/api/v1/namespaces/kube-system/configmaps?labelSelector=OWNER%3DTILLER%2CNAME%3Dlegacy'
    check helm-v2-configmaps '[.items[] | [.metadata.name, .metadata.labels.STATUS]] ==
        [["legacy.v1", "SUPERSEDED"], ["legacy.v2", "DEPLOYED"]]'
else
    echo "skip helm-v2-protobuf: protoc not installed (Debian protobuf-compiler)"
fi

# ---------------------------------------------------------------- incident clusters
apiserver_stop A
for c in incident2-v1.16 incident3-v1.23 incident4-v1.20 incident5-v1.17 healthy-v1.31; do
    apiserver_start A "$CL/$c" || { fail "cluster $c" "did not start"; continue; }
    api GET /version
    want=$(sed -n 's/^VERSION=//p' "$CL/$c/cluster.env")
    [ "$(jq -r .gitVersion "$OUT")" = "$want" ] && ok "cluster $c serves $want" || fail "cluster $c" "version"
    case $c in
    incident2-v1.16)
        api GET '/api/v1/namespaces/kube-system/configmaps?labelSelector=OWNER%3DTILLER%2CSTATUS%3DDEPLOYED'
        check incident2-tiller-deployed '[.items[].metadata.name] == ["agent.v2", "web.v1"]'
        if [ -n "$CLIENTS" ]; then
            apiserver_kubeconfig A "$API_TMP/i2.conf" cert admin
            "$HELM" --kubeconfig "$API_TMP/i2.conf" history api -n api -o json >"$OUT" 2>"$ERR"
            check incident2-helm3-history '[.[] | .status] == ["superseded", "deployed"]'
        fi
        ;;
    incident3-v1.23)
        api GET /api/v1/namespaces/kube-system/secrets/kubeadm-certs
        owner=$(jq -r '.metadata.ownerReferences[0].uid' "$OUT")
        api GET /api/v1/namespaces/kube-system/secrets/bootstrap-token-q7v2lm
        exp=$(jq -r '.data.expiration | @base64d' "$OUT")
        [ "$(jq -r .metadata.uid "$OUT")" = "$owner" ] &&
            [ "$(date -u -d "$exp" +%s)" -lt "$(date +%s)" ] && ok incident3-owner-token-expired ||
            fail incident3-owner-token-expired "owner $owner expiration $exp"
        # What the token cleaner would do next: the garbage collector takes kubeadm-certs along.
        api DELETE /api/v1/namespaces/kube-system/secrets/bootstrap-token-q7v2lm
        api GET /api/v1/namespaces/kube-system/secrets/kubeadm-certs
        [ "$CODE" = 404 ] && ok incident3-gc-kubeadm-certs || fail incident3-gc-kubeadm-certs "HTTP $CODE"
        ;;
    incident4-v1.20)
        api GET /apis/certificates.k8s.io/v1/certificatesigningrequests
        check incident4-pending-csrs '[.items[] | select((.status.conditions // []) | length == 0)
            | .spec.username] | sort == ["system:bootstrap:b0fa1c", "system:node:worker-1",
            "system:node:worker-2", "system:node:worker-3"]'
        api GET /apis/certificates.k8s.io/v1/certificatesigningrequests/csr-8x2kq
        jq -r .spec.request "$OUT" | base64 -d | openssl req -noout -subject 2>/dev/null |
            grep -q 'O = system:nodes, CN = system:node:worker-1' && ok incident4-csr-request-parses ||
            fail incident4-csr-request-parses "openssl req"
        if [ -n "$CLIENTS" ]; then
            apiserver_kubeconfig A "$API_TMP/i4.conf" cert admin
            "$KUBECTL" --kubeconfig "$API_TMP/i4.conf" get csr >"$OUT" 2>"$ERR"
            if head -1 "$OUT" | grep -Eq '^NAME +AGE +SIGNERNAME +REQUESTOR +REQUESTEDDURATION +CONDITION$' &&
                grep -Eq '^csr-8x2kq +3d +kubernetes.io/kube-apiserver-client-kubelet +system:node:worker-1 +<none> +Pending$' "$OUT" &&
                grep -Eq '^csr-old01 .* Approved,Issued$' "$OUT" && [ "$(grep -c ' Pending$' "$OUT")" = 4 ]; then
                ok kubectl-get-csr
            else
                fail kubectl-get-csr "table"
            fi
            "$KUBECTL" --kubeconfig "$API_TMP/i4.conf" certificate approve csr-8x2kq >"$OUT" 2>"$ERR"
            api GET /apis/certificates.k8s.io/v1/certificatesigningrequests/csr-8x2kq
            check kubectl-certificate-approve '.status.conditions[0].type == "Approved" and
                .status.conditions[0].status == "True"'
        fi
        api GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings
        check incident4-no-selfnodeclient '[.items[].roleRef.name | select(endswith(":selfnodeclient"))] == []'
        ;;
    incident5-v1.17)
        api GET /api/v1/namespaces/kube-public/configmaps/cluster-info
        jq -r .data.kubeconfig "$OUT" | grep -q 'server: https://10.0.0.11:6443' &&
            ok incident5-cluster-info-one-master || fail incident5-cluster-info-one-master "server"
        ;;
    healthy-v1.31)
        api GET /api/v1/namespaces/kube-public/configmaps/cluster-info
        jq -r .data.kubeconfig "$OUT" | sed -n 's/.*certificate-authority-data: //p' | base64 -d |
            openssl x509 -noout -subject 2>/dev/null | grep -q 'CN = kubernetes' &&
            ok healthy-cluster-info-ca || fail healthy-cluster-info-ca "CA data"
        ;;
    esac
    apiserver_stop A
done

# ---------------------------------------------------------------- scale (BENCH=1)
if [ -n "${BENCH:-}" ] && [ -n "$CLIENTS" ]; then
    t0=$(date +%s.%N)
    apiserver_start B --synthesize secrets=20000,nodes=5000 || fail bench "did not start"
    echo "bench: stand-in with 20000 Secrets + 5000 Nodes ready in $(echo "$(date +%s.%N) - $t0" | bc) s"
    apiserver_kubeconfig B "$API_TMP/bench.conf" token admin
    /usr/bin/time -f "bench: kubectl get secrets -A -o json: %e s, peak RSS %M KB" \
        "$KUBECTL" --kubeconfig "$API_TMP/bench.conf" get secrets -A -o json 2>&1 >"$OUT" | tail -1
    [ "$(jq '.items | length' "$OUT")" = 20000 ] && ok bench-20000-secrets || fail bench-20000-secrets "count"
    /usr/bin/time -f "bench: kubectl get nodes -o json: %e s, peak RSS %M KB" \
        "$KUBECTL" --kubeconfig "$API_TMP/bench.conf" get nodes -o json 2>&1 >"$OUT" | tail -1
    jq -r 'select(.path | test("/secrets\\?")) | .ms' "$API_TMP/B.requests" | sort -n |
        awk '{a[NR] = $1} END {printf "bench: stand-in time per page of 500 Secrets: median %s ms, max %s ms (%d pages)\n", a[int((NR + 1) / 2)], a[NR], NR}'
    echo "bench: stand-in peak RSS $(sed -n 's/VmHWM:\s*//p' /proc/"$B_PID"/status)"
fi

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all passed"
