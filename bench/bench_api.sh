#!/usr/bin/env bash
# bench_api.sh - the API source of `kubevet check` against the API stand-in holding 20,000 Secrets
# (50 namespaces) and 5,000 Nodes, side by side with kubectl 1.31 reading the same server:
#   kubevet check --kubeconfig K -o json        (/version, 5,000 Nodes in pages of 500, kubeadm
#                                                objects, kube-system token Secrets, CSRs, bindings)
#   kubectl get secrets -A -o json > /dev/null  (all 20,000 Secrets)
#   kubectl get nodes -o json > /dev/null       (the same 5,000 Nodes)
# Wall time and peak RSS: farm-bench (median of RUNS, paired with --vs) when it is installed, else
# /usr/bin/time -v, RUNS rounds (bench/lib.sh).
#
#   KUBEVET=build/kubevet bash bench/bench_api.sh [SECRETS] [NODES] [RUNS]
set -u
SECRETS=${1:-20000}
NODES=${2:-5000}
RUNS=${3:-5}
. "$(dirname "$0")/lib.sh"
bench_init
mkdir -p "$API_TMP/empty"
echo "starting the stand-in with $SECRETS Secrets and $NODES Nodes ..."
K=$API_TMP/bench.conf
bench_standin BENCH "$K" --synthesize "secrets=$SECRETS,nodes=$NODES" \
    "$KV_SRC/tests/data/clusters/healthy-v1.31"

"$KUBEVET" check --root "$API_TMP/empty" --kubeconfig "$K" -o json >"$API_TMP/check.json"
echo "kubevet check: exit $?, $(jq -r '.sources.api.detail' "$API_TMP/check.json")"
echo "kubectl: $("$KUBECTL" --kubeconfig "$K" get secrets -A -o json | jq '.items | length') Secrets," \
    "$("$KUBECTL" --kubeconfig "$K" get nodes -o json | jq '.items | length') Nodes"

KV="$KUBEVET check --root $API_TMP/empty --kubeconfig $K -o json"
bench_vs "kubevet check (A) vs kubectl get secrets -A -o json (B)" "$RUNS" 600 "$KV" \
    "$KUBECTL --kubeconfig $K get secrets -A -o json"
bench_vs "kubevet check (A) vs kubectl get nodes -o json (B)" "$RUNS" 600 "$KV" \
    "$KUBECTL --kubeconfig $K get nodes -o json"
