#!/usr/bin/env bash
# bench_etcd_save.sh - `kubevet etcd snapshot save` vs `etcdctl snapshot save`, same server, same
# database (default ~300 MB), best of N (default 3), runs interleaved so load hits all alike.
#
#   KUBEVET=build/kubevet bash bench/bench_etcd_save.sh [MB] [RUNS]
# Every kubevet file is compared with etcdctl's (cmp). Times include fsync and rename.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
MB=${1:-300}
RUNS=${2:-3}
. "$KV_SRC/tests/lib/etcd.sh"
export ETCDCTL_API=3
etcd_setup
etcd_cluster BENCH 1 || exit 1
EP=$BENCH_EP

echo "loading ~${MB} MB into etcd at $EP ..."
head -c 750000 /dev/urandom | base64 -w0 >"$ETCD_TMP/val"   # 1 MB of text per key
for i in $(seq 1 "$MB"); do
    etcdctl --endpoints "$EP" put "/registry/bench/$i" <"$ETCD_TMP/val" >/dev/null || exit 1
done
etcdctl --endpoints "$EP" endpoint status -w table

now() { date +%s.%N; }
declare -A best
measure() { # name command...
    local name=$1 t0 t1 dt
    shift
    t0=$(now)
    "$@" >/dev/null 2>&1 || { echo "$name failed"; exit 1; }
    t1=$(now)
    dt=$(echo "$t1 - $t0" | bc -l)
    printf '  %-16s %6.2f s\n' "$name" "$dt"
    if [ -z "${best[$name]:-}" ] || [ "$(echo "$dt < ${best[$name]}" | bc -l)" = 1 ]; then
        best[$name]=$dt
    fi
}
for r in $(seq 1 "$RUNS"); do
    echo "run $r"
    rm -f "$ETCD_TMP"/*.db
    measure etcdctl etcdctl --endpoints "$EP" snapshot save "$ETCD_TMP/etcdctl.db"
    measure kubevet-grpc "$KUBEVET" etcd snapshot save "$ETCD_TMP/grpc.db" --transport grpc \
        --etcd-endpoints "$EP"
    measure kubevet-gateway "$KUBEVET" etcd snapshot save "$ETCD_TMP/gw.db" --transport gateway \
        --etcd-endpoints "$EP"
    cmp "$ETCD_TMP/etcdctl.db" "$ETCD_TMP/grpc.db" && cmp "$ETCD_TMP/etcdctl.db" "$ETCD_TMP/gw.db" ||
        { echo "snapshot files differ"; exit 1; }
done
SIZE=$(stat -c %s "$ETCD_TMP/etcdctl.db")
echo
echo "best of $RUNS, $SIZE bytes (files identical):"
for n in etcdctl kubevet-grpc kubevet-gateway; do
    printf '  %-16s %6.2f s  %7.1f MB/s\n' "$n" "${best[$n]}" \
        "$(echo "$SIZE / 1000000 / ${best[$n]}" | bc -l)"
done
