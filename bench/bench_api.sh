#!/usr/bin/env bash
# bench_api.sh - the API source of `kubevet check` against the API stand-in holding 20,000 Secrets
# (50 namespaces) and 5,000 Nodes, side by side with kubectl 1.31 reading the same server:
#   kubevet check --kubeconfig K -o json        (/version, 5,000 Nodes in pages of 500, kubeadm
#                                                objects, kube-system token Secrets, CSRs, bindings)
#   kubectl get secrets -A -o json > /dev/null  (all 20,000 Secrets)
#   kubectl get nodes -o json > /dev/null       (the same 5,000 Nodes)
# Wall time and peak RSS: farm-bench (median of RUNS, paired with --vs) when it is installed, else
# /usr/bin/time -v, best of RUNS.
#
#   KUBEVET=build/kubevet bash bench/bench_api.sh [SECRETS] [NODES] [RUNS]
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
KUBEVET=$(cd "$(dirname "$KUBEVET")" && pwd)/$(basename "$KUBEVET")
SECRETS=${1:-20000}
NODES=${2:-5000}
RUNS=${3:-5}
. "$KV_SRC/tests/lib/apiserver.sh"
KDIR=$("$KV_SRC/scripts/k8s-clients" 2>/dev/null) || { echo "skip: no kubectl (scripts/k8s-clients)"; exit 0; }
KUBECTL=$KDIR/kubectl
apiserver_setup
mkdir -p "$API_TMP/empty"
echo "starting the stand-in with $SECRETS Secrets and $NODES Nodes ..."
apiserver_start BENCH --synthesize "secrets=$SECRETS,nodes=$NODES" \
    "$KV_SRC/tests/data/clusters/healthy-v1.31" || exit 1
K=$API_TMP/bench.conf
apiserver_kubeconfig BENCH "$K" cert admin
# The stand-in's request log would grow with every run: the figures are about the clients.
: >"$API_TMP/BENCH.requests"

"$KUBEVET" check --root "$API_TMP/empty" --kubeconfig "$K" -o json >"$API_TMP/check.json"
echo "kubevet check: exit $?, $(jq -r '.sources.api.detail' "$API_TMP/check.json")"
echo "kubectl: $("$KUBECTL" --kubeconfig "$K" get secrets -A -o json | jq '.items | length') Secrets," \
    "$("$KUBECTL" --kubeconfig "$K" get nodes -o json | jq '.items | length') Nodes"

KV="$KUBEVET check --root $API_TMP/empty --kubeconfig $K -o json"
KS="sh -c 'exec $KUBECTL --kubeconfig $K get secrets -A -o json >/dev/null'"
KN="sh -c 'exec $KUBECTL --kubeconfig $K get nodes -o json >/dev/null'"
if command -v farm-bench >/dev/null; then
    echo
    echo "== kubevet check (A) vs kubectl get secrets -A -o json (B)"
    eval farm-bench -n "$RUNS" --timeout 600 --vs "\"$KS\"" -- $KV
    echo
    echo "== kubevet check (A) vs kubectl get nodes -o json (B)"
    eval farm-bench -n "$RUNS" --timeout 600 --vs "\"$KN\"" -- $KV
else
    measure() { # name command...
        local name=$1
        shift
        /usr/bin/time -v "$@" >/dev/null 2>"$API_TMP/time" || { echo "$name failed"; return; }
        printf '  %-34s %6.2f s  peak %6.1f MB\n' "$name" \
            "$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=a[n]; if (n>1) s+=a[n-1]*60; print s}' "$API_TMP/time")" \
            "$(awk -F': ' '/Maximum resident/ {print $2/1024}' "$API_TMP/time")"
    }
    for r in $(seq 1 "$RUNS"); do
        echo "run $r"
        measure "kubevet check (API source)" $KV
        measure "kubectl get secrets -A -o json" sh -c "exec $KUBECTL --kubeconfig $K get secrets -A -o json >/dev/null"
        measure "kubectl get nodes -o json" sh -c "exec $KUBECTL --kubeconfig $K get nodes -o json >/dev/null"
    done
fi
