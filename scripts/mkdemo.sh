#!/usr/bin/env bash
# mkdemo.sh [DIR] - build the two-master demo of issue 2 under DIR (default build/demo), with
# today's dates, using the openssl-only fixture builder (tests/lib/mknode.sh):
#   DIR/master-2  a healthy control-plane node of the cluster (joined: same CAs, its own certs);
#   DIR/master-1  the same cluster's first master, healthy except that
#                 - its kubelet.conf carries master-2's kubelet client certificate (incident 1,
#                   KV106: kubeadm would act as master-2 here), and
#                 - its apiserver certificate lacks the load-balancer name lb.example.com that
#                   every kubeconfig uses as controlPlaneEndpoint (incident 5, KV107).
# Prints the command to run afterwards. Only DIR/master-1 and DIR/master-2 are replaced.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-build/demo}
# shellcheck source=../tests/lib/mknode.sh
. "$src/tests/lib/mknode.sh"

mkdir -p "$dir"
rm -rf "$dir/master-1" "$dir/master-2" "$dir/.keypool"
export KV_KEY_POOL=$dir/.keypool
pool=$(kv_keypool_start "$KV_KEY_POOL" 16)
trap 'kill "$pool" 2>/dev/null || true; rm -rf "$KV_KEY_POOL"' EXIT

ep=lb.example.com
echo "mkdemo: building $dir/master-1 (10.0.0.11) and $dir/master-2 (10.0.0.12), controlPlaneEndpoint $ep" >&2
mknode "$dir/master-1" --name master-1 --ip 10.0.0.11 --endpoint "$ep"
KV_INITIAL_CLUSTER=master-1=https://10.0.0.11:2380,master-2=https://10.0.0.12:2380 \
    mknode "$dir/master-2" --name master-2 --ip 10.0.0.12 --endpoint "$ep" --ca-dir "$dir/master-1"

mut_kubelet_other_node "$dir/master-1" master-2 "$dir/master-2"
mut_apiserver_no_lb_san "$dir/master-1"

echo "kubevet check --root $dir/master-1"
