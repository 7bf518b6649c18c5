#!/usr/bin/env bash
# ctest-label: online
# t_upgrade_plan.sh - `kubevet upgrade plan` on the incidents (INCIDENTS.md):
#   incident 1: a v1.9.6 cluster (the incident1 fixture cluster re-versioned at test time: three
#               masters, master-2/3 without the cri-socket annotation, ClusterStatus with master-1
#               only) + master-1's node root whose kubelet.conf carries master-2's identity:
#               --to 1.13.4 is four hops (KV501), KV106 on every hop, KV201/KV202 only on the hop
#               into 1.13 and explained by KV106; every hop refused. The healthy twin (all
#               annotated, ClusterStatus complete, master-1's own kubelet.conf): no blocker but
#               KV305 (no snapshot given) and the informational etcd minor change (KV503).
#   incident 2: v1.16.7 -> 1.19.3 with manifests and a real etcd snapshot holding
#               extensions/v1beta1 objects: KV401/KV406 on the first hop only, KV403 for the
#               selector, KV305 without a snapshot and not with a fresh verified one, the etcd
#               3.3 -> 3.4 change from the release data on the hop into 1.17.
#   offline:    hops and usage errors (--to older, beyond the data), --releases override,
#               -o json shape, --from from the kube-apiserver image under --root, --window
#               (hop N's certificates judged at --at + N*window).
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_upgrade_plan.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
CLUSTERS=$KV_SRC/tests/data/clusters
FAILS=0
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    FAILS=$((FAILS + 1))
}
if [ ! -f "$KV_SRC/tests/lib/apiserver.sh" ] || [ ! -d "$CLUSTERS/incident1-v1.12" ]; then
    echo "skip: the API stand-in or tests/data/clusters is not in this checkout"
    exit 0
fi
. "$KV_SRC/tests/lib/apiserver.sh"
. "$KV_SRC/tests/lib/mknode.sh"
apiserver_setup
T=$API_TMP
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
export HOME=$T/nohome

# per-hop "ID subject" lines: hopN ID SUBJECT
hops_of() { jq -r '.plan.hops | to_entries[] | .key as $k | .value.blockers[] |
    "hop\($k + 1) \(.id) \(.subject)"' "$1" | sort; }

# ---- offline: hops, errors, json shape
"$KUBEVET" upgrade plan --from 1.9.6 --to 1.13.4 -o json >"$T/o.json" 2>"$T/err"
rc=$?
got=$(jq -r '[.plan.hops[].to] | join(" ")' "$T/o.json")
if [ "$rc" = 1 ] && [ "$got" = "1.10.13 1.11.10 1.12.10 1.13.4" ] &&
    [ "$(jq -r '.plan.from + " " + .plan.to' "$T/o.json")" = "1.9.6 1.13.4" ] &&
    [ "$(jq -r '[.findings[] | select(.id == "KV501")] | length' "$T/o.json")" = 1 ]; then
    ok "1.9.6 -> 1.13.4: four hops, KV501"
else fail "hops" "rc $rc hops [$got]"; fi
if jq -e '.plan.hops[0].steps | map(test("kubeadm upgrade apply -y v1.10.13")) | any' "$T/o.json" \
    >/dev/null && jq -e '.plan.hops[3].steps | map(test("kubeadm upgrade node experimental-control-plane")) | any' \
    "$T/o.json" >/dev/null; then ok "steps name kubeadm of each hop"; else fail "steps" "$(jq -c '.plan.hops[3].steps' "$T/o.json")"; fi
"$KUBEVET" upgrade plan --from 1.20.1 --to 1.20.15 -o json >"$T/o.json" 2>"$T/err"
if [ "$(jq -r '[.plan.hops[].to] | join(" ")' "$T/o.json")" = "1.20.15" ] &&
    [ "$(jq -r '[.findings[] | select(.id == "KV501")] | length' "$T/o.json")" = 0 ]; then
    ok "patch upgrade: one hop, no KV501"; else fail "patch" "$(jq -c .plan "$T/o.json")"; fi
"$KUBEVET" upgrade plan --from 1.11.2 --to v1.13 -o json >"$T/o.json" 2>"$T/err"
[ "$(jq -r '[.plan.hops[].to] | join(" ")' "$T/o.json")" = "1.12.10 1.13.12" ] &&
    ok "--to 1.13: the newest 1.13 the data knows" || fail "minor only" "$(jq -c .plan "$T/o.json")"
"$KUBEVET" upgrade plan --from 1.20.1 --to 1.19.3 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "does not downgrade" "$T/err" && ok "downgrade: exit 2" || fail downgrade "$(cat "$T/err")"
"$KUBEVET" upgrade plan --from 1.30.1 --to 1.40.0 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "beyond the release data" "$T/err" && ok "beyond the data: exit 2" || fail beyond "$(cat "$T/err")"
"$KUBEVET" upgrade plan --to 1.20.0 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "give --from" "$T/err" && ok "no --from, no source: exit 2" || fail nofrom "$(cat "$T/err")"
cat >"$T/rel.yaml" <<'Y'
releases-data: 1
updated: "2030-01-01"
releases:
  - {minor: "1.40", newest: "1.40.9", etcd: "3.7.1-0", kubeadm-config: [v1beta5]}
  - {minor: "1.41", newest: "1.41.2", etcd: "3.7.1-0", kubeadm-config: [v1beta5]}
Y
"$KUBEVET" upgrade plan --releases "$T/rel.yaml" --from 1.40.1 --to 1.41.2 -o json >"$T/o.json" 2>"$T/err"
[ "$(jq -r '.plan.hops[0].etcd' "$T/o.json")" = 3.7.1-0 ] && ok "--releases replaces the data" ||
    fail releases "$(cat "$T/err")"
printf 'releases:\n  - {minor: 1.2, newest: "1.2.0", etcd: "3.0.0"}\n' >"$T/bad.yaml"
"$KUBEVET" upgrade plan --releases "$T/bad.yaml" --from 1.40.1 --to 1.41.2 >/dev/null 2>"$T/err"
[ $? = 3 ] && grep -q "bad.yaml:2:" "$T/err" && ok "bad release data: exit 3 with file:line" ||
    fail "bad data" "$(cat "$T/err")"

# ---- incident 1
mkcluster() { # DEST VERSION: the incident 1 fixture at another version
    rm -rf "$1"
    cp -r "$CLUSTERS/incident1-v1.12" "$1"
    sed -i "s/v1\.12\.10/$2/g; s/kubeadm\.k8s\.io\/v1alpha3/kubeadm.k8s.io\/v1alpha1/g" "$1"/*.yaml "$1/cluster.env"
}
mkcluster "$T/c1" v1.9.6
mkcluster "$T/c1ok" v1.9.6
/usr/bin/python3 - "$T/c1ok" <<'PY'
import sys, re
d = sys.argv[1]
s = open(d + "/nodes.yaml").read()
# every master annotated, as kubeadm init/join of the era would not do but a healthy twin has
s = re.sub(r"(  name: (master-[23])\n(?:.*\n)*?  annotations:\n)",
           lambda m: m.group(1) + "    kubeadm.alpha.kubernetes.io/cri-socket: /var/run/dockershim.sock\n", s)
open(d + "/nodes.yaml", "w").write(s)
k = open(d + "/kubeadm.yaml").read()
k = k.replace("apiEndpoints:\\n  master-1:\\n    advertiseAddress: 10.0.0.11\\n    bindPort: 6443\\n",
              "apiEndpoints:\\n  master-1:\\n    advertiseAddress: 10.0.0.11\\n    bindPort: 6443\\n"
              "  master-2:\\n    advertiseAddress: 10.0.0.12\\n    bindPort: 6443\\n"
              "  master-3:\\n    advertiseAddress: 10.0.0.13\\n    bindPort: 6443\\n")
open(d + "/kubeadm.yaml", "w").write(k)
PY
mknode "$T/m1" --name master-1 --ip 10.0.0.11 --version v1.9.6 >/dev/null 2>&1 || fail mknode master-1
mknode "$T/m1ok" --name master-1 --ip 10.0.0.11 --version v1.9.6 >/dev/null 2>&1 || fail mknode m1ok
KV_FULL_OTHER=0 mut_kubelet_other_node "$T/m1" master-2 >/dev/null 2>&1 || fail mknode other
# plan ROOT CLUSTER OUT [args]
plan() {
    local root=$1 cluster=$2 out=$3
    shift 3
    apiserver_start API --var "CA_DATA=$(base64 -w0 <"$root/etc/kubernetes/pki/ca.crt")" "$cluster" ||
        { fail "$out" stand-in; return 1; }
    apiserver_kubeconfig API "$T/k.conf" cert admin
    timeout 120 "$KUBEVET" upgrade plan --to 1.13.4 --root "$root" --kubeconfig "$T/k.conf" "$@" \
        -o json >"$T/$out.json" 2>"$T/$out.err"
    echo $? >"$T/$out.rc"
    timeout 120 "$KUBEVET" upgrade plan --to 1.13.4 --root "$root" --kubeconfig "$T/k.conf" "$@" \
        >"$T/$out.txt" 2>&1
    apiserver_stop API
}
plan "$T/m1" "$T/c1" i1
want="hop1 KV106 etc/kubernetes/kubelet.conf
hop1 KV305 etcd
hop2 KV106 etc/kubernetes/kubelet.conf
hop2 KV503 etcd 3.1.12 -> 3.2.18
hop3 KV106 etc/kubernetes/kubelet.conf
hop4 KV106 etc/kubernetes/kubelet.conf
hop4 KV201 Node/master-2
hop4 KV201 Node/master-3
hop4 KV202 ConfigMap/kube-system/kubeadm-config
hop4 KV202 ConfigMap/kube-system/kubeadm-config"
got=$(hops_of "$T/i1.json")
if [ "$(cat "$T/i1.rc")" = 1 ] && [ "$got" = "$want" ] &&
    [ "$(jq -r '.plan.from' "$T/i1.json")" = 1.9.6 ]; then
    ok "incident 1: four hops, KV106 on each, KV201/KV202 on the hop into 1.13 (from the API's /version)"
else fail "incident 1" "rc $(cat "$T/i1.rc") got [$got] $(head -3 "$T/i1.err")"; fi
if [ "$(jq -r '[.plan.hops[3].blockers[] | select(.id == "KV201" or .id == "KV202") | .cause] | unique | join(",")' "$T/i1.json")" = \
    "KV106 etc/kubernetes/kubelet.conf" ] &&
    [ "$(jq -r '.plan.hops[3].blockers[0].id' "$T/i1.json")" = KV106 ]; then
    ok "incident 1: KV106 is the cause, listed first"
else fail "cause" "$(jq -c '[.plan.hops[3].blockers[] | [.id, .cause]]' "$T/i1.json")"; fi
if [ "$(jq -r '[.plan.hops[] | select(.refused) | .steps | length] | add' "$T/i1.json")" = 0 ] &&
    [ "$(jq -r '[.plan.hops[] | select(.refused)] | length' "$T/i1.json")" = 4 ] &&
    ! grep -q "kubeadm upgrade apply" "$T/i1.txt" && grep -q "^refused: " "$T/i1.txt"; then
    ok "incident 1: every hop refused, no step printed"
else fail "refused" "$(grep -c refused "$T/i1.txt")"; fi

plan "$T/m1ok" "$T/c1ok" i1ok
got=$(hops_of "$T/i1ok.json")
want="hop1 KV305 etcd
hop2 KV503 etcd 3.1.12 -> 3.2.18"
if [ "$got" = "$want" ] &&
    [ "$(jq -r '[.plan.hops[].blockers[] | select(.severity != "info" and .id != "KV305")] | length' "$T/i1ok.json")" = 0 ]; then
    ok "incident 1 healthy twin: nothing but KV305 and the etcd note"
else fail "healthy twin" "got [$got] $(head -3 "$T/i1ok.err")"; fi
if grep -q "kubectl drain master-2 --ignore-daemonsets" "$T/i1ok.txt" &&
    grep -q "on master-1: kubeadm upgrade apply -y v1.10.13" "$T/i1ok.txt" &&
    grep -q "kubectl uncordon worker-1" "$T/i1ok.txt"; then
    ok "healthy twin: steps with the cluster's node names"
else fail "node names" "$(grep -m3 drain "$T/i1ok.txt")"; fi
"$KUBEVET" upgrade plan --root "$T/m1ok" --to 1.10.13 -o json >"$T/fr.json" 2>"$T/err"
[ "$(jq -r .plan.from "$T/fr.json")" = 1.9.6 ] && ok "--from from --root's kube-apiserver image" ||
    fail "from root" "$(cat "$T/err")"

# ---- --window: each hop's certificates judged at its own date
mknode "$T/w" --name cp-1 --ip 10.0.0.11 --version v1.20.15 >/dev/null 2>&1 || fail mknode w
mut_expiring_leaf "$T/w" apiserver 40 >/dev/null 2>&1 || fail mknode expiring
"$KUBEVET" upgrade plan --root "$T/w" --to 1.23.17 --window 30d -o json >"$T/w.json" 2>"$T/err"
got=$(jq -r '.plan.hops | to_entries[] | .key as $k | .value.blockers[] |
    select(.id == "KV101" or .id == "KV102") | "hop\($k + 1) \(.id)"' "$T/w.json" | sort -u | tr '\n' ' ')
if [ "$got" = "hop2 KV102 hop3 KV101 " ]; then
    ok "--window 30d: a cert with 40 days left is KV102 on hop 2, KV101 on hop 3, fine on hop 1"
else fail "window" "got [$got] $(head -2 "$T/err")"; fi
"$KUBEVET" upgrade plan --root "$T/w" --to 1.23.17 -o json >"$T/w0.json" 2>"$T/err"
[ "$(jq -r '[.plan.hops[].blockers[] | select(.id == "KV101" or .id == "KV102")] | length' "$T/w0.json")" = 0 ] &&
    ok "without --window: every hop judged now" || fail "no window" "$(jq -c '[.findings[].id]' "$T/w0.json")"

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
