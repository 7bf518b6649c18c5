#!/usr/bin/env bash
# ctest-label: online
# t_api_incidents.sh - `kubevet check` on the incident fixture clusters (tests/data/clusters/,
# served by the API stand-in), alone and joined with a node root built by tests/lib/mknode.sh:
#   incident 1 (v1.12): KV201 on master-2/3, KV202 for master-2/3; with master-1's node root whose
#                       kubelet.conf carries master-2's identity: KV106 too, and KV205 for
#                       kubeconfigs that bypass the controlPlaneEndpoint
#   incident 3 (v1.23): KV207 (kubeadm-certs whose owner token expired, and that token)
#   incident 4 (v1.20): KV208 for the four Pending node CSRs, KV209
#   incident 5 (v1.17): KV203, KV206 (cluster-info at master-1), no KV201/KV202
#   healthy (v1.31):    none of KV201-KV209/KV502, also with a matching node root; KV204 and
#                       KV206 (CA) once the node root disagrees with the cluster
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_api_incidents.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
CLUSTERS=$KV_SRC/tests/data/clusters
if [ ! -f "$KV_SRC/tests/lib/apiserver.sh" ] || [ ! -d "$CLUSTERS" ]; then
    echo "skip: the API stand-in or tests/data/clusters is not in this checkout"
    exit 0
fi
. "$KV_SRC/tests/lib/apiserver.sh"
. "$KV_SRC/tests/lib/mknode.sh"
apiserver_setup
T=$API_TMP
OUT=$T/out
ERR=$T/err
FAILS=0
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
export HOME=$T/nohome
mkdir -p "$T/empty"

ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$ERR" 2>/dev/null | head -20
    FAILS=$((FAILS + 1))
}
# check NAME CLUSTER ROOT WANT [standin flags...]: WANT is the sorted "ID subject" list of the
# KV2xx/KV502 findings (and KV106), one per line.
check() {
    local name=$1 cluster=$2 root=$3 want=$4
    shift 4
    apiserver_start API "$@" "$CLUSTERS/$cluster" || { fail "$name" "stand-in"; return; }
    apiserver_kubeconfig API "$T/k.conf" cert admin
    timeout 60 "$KUBEVET" check --root "$root" --kubeconfig "$T/k.conf" -o json >"$OUT" 2>"$ERR"
    local rc=$? got
    apiserver_stop API
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        fail "$name" "exit $rc"
        return
    fi
    got=$(jq -r '.findings[] | select(.id | test("^KV(2..|502|106)$")) | .id + " " + .subject' \
        "$OUT" | sort)
    if [ "$got" = "$(printf '%s' "$want" | sort)" ] &&
        [ "$(jq -r '.sources.api.used' "$OUT")" = true ]; then
        ok "$name"
    else
        fail "$name" "got [$got] want [$want]"
    fi
}

check "incident 1 (v1.12): KV201 master-2/3, KV202 for both" incident1-v1.12 "$T/empty" \
"KV201 Node/master-2
KV201 Node/master-3
KV202 ConfigMap/kube-system/kubeadm-config
KV202 ConfigMap/kube-system/kubeadm-config"
if [ "$(jq -r '[.findings[] | select(.id == "KV202") | .node] | sort | join(",")' "$OUT")" = \
    "master-2,master-3" ]; then ok "incident 1: KV202 names master-2 and master-3"; else
    fail "incident 1 KV202 nodes" "$(jq -c '[.findings[].node]' "$OUT")"; fi

check "incident 3 (v1.23): KV207 kubeadm-certs + its expired owner token" incident3-v1.23 "$T/empty" \
"KV207 Secret/kube-system/bootstrap-token-q7v2lm
KV207 Secret/kube-system/kubeadm-certs"

check "incident 4 (v1.20): KV208 x4 Pending node CSRs, KV209" incident4-v1.20 "$T/empty" \
"KV208 CertificateSigningRequest/csr-8x2kq
KV208 CertificateSigningRequest/csr-m4p7z
KV208 CertificateSigningRequest/csr-w3srv
KV208 CertificateSigningRequest/node-csr-Jq3aVb1
KV209 ClusterRoleBinding/kubeadm:node-autoapprove-certificate-rotation"
age=$(jq -r '.findings[] | select(.subject == "CertificateSigningRequest/csr-8x2kq") | .age_seconds' "$OUT")
if [ -n "$age" ] && [ "$age" -ge 259000 ] && [ "$age" -le 260000 ]; then
    ok "incident 4: csr-8x2kq is 3 days old"; else fail "csr age" "age_seconds $age"; fi

check "incident 5 (v1.17): KV203, KV206, no KV201/KV202" incident5-v1.17 "$T/empty" \
"KV203 ConfigMap/kube-system/kubeadm-config
KV206 ConfigMap/kube-public/cluster-info"

check "healthy v1.31: none of KV201-KV209/KV502" healthy-v1.31 "$T/empty" ""

# ---- joined with node roots
mknode "$T/m1" --name master-1 --ip 10.0.0.11 --version v1.12.10 >/dev/null 2>&1 ||
    fail mknode "master-1"
KV_FULL_OTHER=0 mut_kubelet_other_node "$T/m1" master-2 >/dev/null 2>&1 ||
    fail mknode "kubelet_other_node"
CA_M1=$(base64 -w0 <"$T/m1/etc/kubernetes/pki/ca.crt")
check "incident 1 + master-1's root: KV106 with KV201/KV202, KV205 on kubeconfigs at one apiserver" \
    incident1-v1.12 "$T/m1" \
"KV106 etc/kubernetes/kubelet.conf
KV201 Node/master-2
KV201 Node/master-3
KV202 ConfigMap/kube-system/kubeadm-config
KV202 ConfigMap/kube-system/kubeadm-config
KV205 etc/kubernetes/admin.conf
KV205 etc/kubernetes/controller-manager.conf
KV205 etc/kubernetes/kubelet.conf
KV205 etc/kubernetes/scheduler.conf" --var "CA_DATA=$CA_M1"
# The root cause first: KV106 explains the missing annotations and apiEndpoints (incident 1).
if [ "$(jq -r '.findings[0].id' "$OUT")" = KV106 ] &&
    [ "$(jq -r '[.findings[] | select(.id == "KV201" or .id == "KV202") | .cause] | unique | join(",")' "$OUT")" = \
        "KV106 etc/kubernetes/kubelet.conf" ]; then
    ok "incident 1 + master-1's root: KV106 listed first, the cause of every KV201/KV202"
else
    fail "incident 1 cause" "$(jq -c '[.findings[] | [.id, .cause]]' "$OUT")"
fi

mknode "$T/cp1" --name cp-1 --ip 10.0.0.11 --version v1.31.2 \
    --endpoint k8s-api.example.internal:6443 --cert-sans k8s-api.example.internal,10.0.0.10 \
    >/dev/null 2>&1 || fail mknode "cp-1"
CA_CP1=$(base64 -w0 <"$T/cp1/etc/kubernetes/pki/ca.crt")
check "healthy v1.31 + cp-1's matching root: none" healthy-v1.31 "$T/cp1" "" --var "CA_DATA=$CA_CP1"
check "healthy v1.31 + a root with another CA: KV206 (cluster-info CA differs)" healthy-v1.31 \
    "$T/cp1" "KV206 ConfigMap/kube-public/cluster-info"

mknode "$T/cp1x" --name cp-1 --ip 10.0.0.11 --version v1.31.2 \
    --endpoint k8s-api.example.internal:6443 \
    --cert-sans k8s-api.example.internal,10.0.0.10,api.old.example.com >/dev/null 2>&1 ||
    fail mknode "cp-1 extra SAN"
CA_CP1X=$(base64 -w0 <"$T/cp1x/etc/kubernetes/pki/ca.crt")
check "healthy v1.31 + apiserver cert with a SAN certSANs lacks: KV204" healthy-v1.31 "$T/cp1x" \
    "KV204 ConfigMap/kube-system/kubeadm-config" --var "CA_DATA=$CA_CP1X"
if jq -e '.findings[] | select(.id == "KV204") | .message | contains("api.old.example.com")' \
    "$OUT" >/dev/null; then ok "KV204 names the SAN"; else fail "KV204 message" "no SAN named"; fi

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
