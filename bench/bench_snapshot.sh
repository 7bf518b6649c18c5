#!/usr/bin/env bash
# Benchmark: `kubevet etcd snapshot status` against `etcdctl snapshot status` on a >= 500 MB
# snapshot written by a real etcd 3.4 (Debian's etcd-server), warm page cache, with the
# `cat FILE > /dev/null` floor, in one run; both must print the same figures.
#
#   KUBEVET=build/kubevet bench/bench_snapshot.sh [SIZE_MB]     (default 520)
#   SNAPSHOT=/path/to/existing.db bench/bench_snapshot.sh         (skip generation)
#   KEEP_SNAPSHOT=/tmp/big.db bench/bench_snapshot.sh             (keep the generated one)
#   RUNS=11 ...                                                  (rounds, default 7)
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

# RUNS rounds (default 7); each round runs the three commands one after the other (cat,
# kubevet, etcdctl), so a drift in the machine's speed hits all three alike. Per command: best and
# median wall and CPU (user + sys) seconds, bash's millisecond timer. Ratios: best against best,
# and the median of the per-round ratios. On a shared machine the CPU figures are the steadier
# ones (wall time includes waiting for a core, and kubevet uses two).
RUNS=${RUNS:-7}
run() { # label cmd...: one timed run appended to $work/<label>
    local label=$1 t
    shift
    t=$( { TIMEFORMAT='%3R %3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1 )
    echo "$t" >>"$work/$label"
}

cat "$snap" >/dev/null # warm the page cache
kv_json=$("$KUBEVET" etcd snapshot status -o json "$snap")
ec_json=$(etcdctl snapshot status -w json "$snap" 2>/dev/null)
echo "kubevet: $kv_json"
echo "etcdctl: $ec_json"
if [ "$kv_json" = "$ec_json" ]; then echo "figures: identical"; else echo "figures: DIFFER" >&2; exit 1; fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
    run cat cat "$snap"
    run kubevet "$KUBEVET" etcd snapshot status -o json "$snap"
    run etcdctl etcdctl snapshot status -w json "$snap"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

paste "$work/cat" "$work/kubevet" "$work/etcdctl" | awk -v runs="$RUNS" '
function med(a, n,   i, j, t) { # median of a[1..n] (sorts a)
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{
    n++
    for (c = 0; c < 3; c++) {
        w[c, n] = $(3*c+1); u[c, n] = $(3*c+2) + $(3*c+3)
    }
    rw_e[n] = $7 / $4; rc_e[n] = ($8 + $9) / ($5 + $6 + 0.0005)
    rw_c[n] = $4 / $1; rc_c[n] = ($5 + $6) / ($2 + $3 + 0.0005)
}
END {
    split("cat > /dev/null (floor)|kubevet snapshot status|etcdctl snapshot status", name, "|")
    printf "%-26s %9s %9s %9s %9s   (%d rounds)\n", "", "best wall", "med wall", "best cpu", "med cpu", runs
    for (c = 0; c < 3; c++) {
        bw[c] = 999; bc[c] = 999
        for (i = 1; i <= n; i++) {
            x[i] = w[c, i]; y[i] = u[c, i]
            if (x[i] < bw[c]) bw[c] = x[i]
            if (y[i] < bc[c]) bc[c] = y[i]
        }
        printf "%-26s %9.3f %9.3f %9.3f %9.3f\n", name[c+1], bw[c], med(x, n), bc[c], med(y, n)
    }
    printf "etcdctl / kubevet:  wall %.2fx best, %.2fx median of rounds;  cpu %.2fx best, %.2fx median\n",
        bw[2] / bw[1], med(rw_e, n), bc[2] / bc[1], med(rc_e, n)
    printf "kubevet / cat:      wall %.2fx best, %.2fx median of rounds;  cpu %.2fx best, %.2fx median\n",
        bw[1] / bw[0], med(rw_c, n), bc[1] / (bc[0] + 0.0005), med(rc_c, n)
}'
