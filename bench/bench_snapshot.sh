#!/usr/bin/env bash
# Benchmark: `kubevet etcd snapshot status` against `etcdctl snapshot status` on a >= 500 MB
# snapshot written by a real etcd 3.4 (Debian's etcd-server). Best of 5 each, warm page cache,
# with the `cat FILE > /dev/null` floor; both must print the same figures.
#
#   KUBEVET=build/kubevet bench/bench_snapshot.sh [SIZE_MB]     (default 520)
#   SNAPSHOT=/path/to/existing.db bench/bench_snapshot.sh         (skip generation)
#   KEEP_SNAPSHOT=/tmp/big.db bench/bench_snapshot.sh             (keep the generated one)
set -euo pipefail

KUBEVET=${KUBEVET:-build/kubevet}
SIZE_MB=${1:-520}
export ETCDCTL_API=3
command -v etcd >/dev/null && command -v etcdctl >/dev/null || { echo "needs etcd and etcdctl" >&2; exit 2; }
[ -x "$KUBEVET" ] || { echo "KUBEVET=$KUBEVET is not executable" >&2; exit 2; }

work=$(mktemp -d /tmp/kv-bench-snap.XXXXXX)
etcd_pid=
cleanup() {
    if [ -n "$etcd_pid" ]; then kill "$etcd_pid" 2>/dev/null || true; wait "$etcd_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

snap=${SNAPSHOT:-}
if [ -z "$snap" ]; then
    cport=$(free_port); pport=$(free_port)
    etcd --name bench --data-dir "$work/data" --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
        --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "bench=http://127.0.0.1:$pport" --unsafe-no-fsync >"$work/etcd.log" 2>&1 &
    etcd_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$cport/health" 2>/dev/null | grep -q true && break
        sleep 0.1
    done
    echo "filling etcd with ~${SIZE_MB} MB of 100 KB values ..."
    # The HTTP/JSON gateway (POST /v3/kv/put, base64 key and value), eight connections at once.
    python3 - "$cport" "$SIZE_MB" <<'PY'
import base64, http.client, os, sys, threading
port, size_mb = int(sys.argv[1]), int(sys.argv[2])
n = size_mb * 10  # 100 KB values
blobs = [base64.b64encode(os.urandom(100 * 1024)).decode() for _ in range(16)]
def worker(start, step):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(start, n, step):
        key = base64.b64encode(b"/bench/%08d" % i).decode()
        body = '{"key":"%s","value":"%s"}' % (key, blobs[i % 16])
        c.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 200:
            sys.exit("put failed: %d" % r.status)
ts = [threading.Thread(target=worker, args=(k, 8)) for k in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
    snap="$work/big.db"
    etcdctl --endpoints "http://127.0.0.1:$cport" snapshot save "$snap" >/dev/null 2>&1
    kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true; etcd_pid=
    if [ -n "${KEEP_SNAPSHOT:-}" ]; then cp "$snap" "$KEEP_SNAPSHOT"; fi
fi
echo "snapshot: $snap ($(( $(stat -c %s "$snap") / 1000000 )) MB)"

# Best of 5 runs: wall seconds and CPU (user + sys) seconds. On a shared machine the CPU
# figure is the steadier one: wall time includes waiting for a core.
best() {
    local bw=999 bc=999 line w c
    for _ in 1 2 3 4 5; do
        /usr/bin/time -o "$work/time" -f '%e %U %S' "$@" >/dev/null 2>&1
        line=$(tail -1 "$work/time")
        w=$(echo "$line" | awk '{print $1}')
        c=$(echo "$line" | awk '{print $2 + $3}')
        if (( $(echo "$w < $bw" | bc -l) )); then bw=$w; fi
        if (( $(echo "$c < $bc" | bc -l) )); then bc=$c; fi
    done
    echo "$bw $bc"
}

cat "$snap" >/dev/null # warm the page cache
kv_json=$("$KUBEVET" etcd snapshot status -o json "$snap")
ec_json=$(etcdctl snapshot status -w json "$snap" 2>/dev/null)
echo "kubevet: $kv_json"
echo "etcdctl: $ec_json"
if [ "$kv_json" = "$ec_json" ]; then echo "figures: identical"; else echo "figures: DIFFER" >&2; exit 1; fi

read -r fw fc < <(best cat "$snap")
read -r kw kc < <(best "$KUBEVET" etcd snapshot status -o json "$snap")
read -r ew ec < <(best etcdctl snapshot status -w json "$snap")
printf '%-26s %8s %8s\n' "best of 5" "wall s" "cpu s"
printf '%-26s %8s %8s\n' "cat > /dev/null (floor)" "$fw" "$fc"
printf '%-26s %8s %8s\n' "kubevet snapshot status" "$kw" "$kc"
printf '%-26s %8s %8s\n' "etcdctl snapshot status" "$ew" "$ec"
echo "speed-up (wall): $(echo "scale=2; $ew / $kw" | bc -l)x   (cpu): $(echo "scale=2; $ec / ($kc + 0.001)" | bc -l)x"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
