#!/usr/bin/env bash
# Benchmark of `kubevet certs renew all --apply` on a kubeadm node root, side by side in one run
# with the same renewals done the way operators script them with the openssl CLI
# (`openssl req` + `openssl x509 -req` per certificate: the 7 PKI leaves and the 4 kubeconfig
# client certificates).
#  1. new keys:    kubevet vs the openssl script                       goal: kubevet >= 5x faster
#                  and vs OpenSSL's own key generation: as many RSA-2048 keys made by
#                  `openssl genpkey` in 2 parallel streams. Key generation dominates; OpenSSL
#                  3.0 makes them by FIPS 186-4 B.3.6, kubevet by B.3.3 (src/lib/pki/rsagen.c,
#                  a third of the time), so kubevet goes below what OpenSSL's generator allows.
#  2. --keep-key:  kubevet vs a process that only loads OpenSSL         goal: within 3x
#                  (`openssl version`), with the openssl script reusing keys for reference,
#                  against the floor of the same 11 signatures in one process (sign_floor.c),
#                  the floors themselves against `openssl version` (the signatures alone, and
#                  with the 11 files written durably: `sign_floor -w`), and on tmpfs, where
#                  the writes' fsyncs cost nothing (the disk's share).
# Runs alternate A B A B ... (the machine is shared: medians and pairwise ratios are quoted).
# The fixture is made with the openssl CLI (tests/lib/mknode.sh), cached in $KV_BENCH_DIR.
#   KUBEVET=build-rel/kubevet bash bench/bench_renew.sh   [KV_BENCH_RUNS=7] [KV_BENCH_PART=keep-key]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KUBEVET=${KUBEVET:-$here/build/kubevet}
data=${KV_BENCH_DIR:-$here/build/bench-data}
runs=${KV_BENCH_RUNS:-7}
mkdir -p "$data"
if [[ ! -d $data/renew-node ]]; then
    bash "$here/tests/lib/mknode.sh" "$data/renew-node" --name master-1 --ip 10.0.0.11 \
        --endpoint lb.example.com >/dev/null 2>&1
fi
w=$(mktemp -d)
shm=$(mktemp -d -p "${KV_BENCH_TMPFS:-/dev/shm}" 2>/dev/null || true)
trap 'rm -rf "$w" ${shm:+"$shm"}' EXIT
cp -a "$data/renew-node" "$w/kv"
cp -a "$data/renew-node" "$w/os"
[[ -n $shm ]] && cp -a "$data/renew-node" "$shm/kv"
if [[ ! -x $data/sign_floor || $here/bench/sign_floor.c -nt $data/sign_floor ]]; then
    cc -O2 "$here/bench/sign_floor.c" -o "$data/sign_floor" -lcrypto -lpthread
fi

# The operator's script: one req + one x509 -req per certificate, subjects/SANs/usages as
# kubeadm issues them; KEEP=1 reuses each key (openssl req -key) instead of -newkey.
cat >"$w/renew-openssl.sh" <<'SH'
set -e
root=$1 keep=${KEEP:-0}
pki=$root/etc/kubernetes/pki
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
out=$t/kc; mkdir -p "$out"
one() { # NAME-PATH CA SUBJ EXT
    local f=$1 ca=$2 subj=$3 ext=$4
    printf '%b\n' "$ext" >"$t/ext"
    if [ "$keep" = 1 ] && [ -f "$f.key" ]; then
        openssl req -new -key "$f.key" -subj "$subj" -out "$t/csr" 2>/dev/null
    else
        openssl req -new -newkey rsa:2048 -nodes -keyout "$f.key" -subj "$subj" -out "$t/csr" 2>/dev/null
        chmod 600 "$f.key"
    fi
    openssl x509 -req -in "$t/csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
        -CAserial "$t/serial" -days 365 -sha256 -extfile "$t/ext" -out "$f.crt" 2>/dev/null
}
srv='keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth'
cli='keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'
both='keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth'
one "$pki/apiserver" ca /CN=kube-apiserver "$srv\nsubjectAltName=DNS:master-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:lb.example.com,IP:10.96.0.1,IP:10.0.0.11"
one "$pki/apiserver-kubelet-client" ca "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" "$cli"
one "$pki/apiserver-etcd-client" etcd/ca "/O=system:masters/CN=kube-apiserver-etcd-client" "$cli"
one "$pki/front-proxy-client" front-proxy-ca /CN=front-proxy-client "$cli"
one "$pki/etcd/server" etcd/ca /CN=master-1 "$both\nsubjectAltName=DNS:master-1,DNS:localhost,IP:10.0.0.11,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1"
one "$pki/etcd/peer" etcd/ca /CN=master-1 "$both\nsubjectAltName=DNS:master-1,DNS:localhost,IP:10.0.0.11,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1"
one "$pki/etcd/healthcheck-client" etcd/ca "/O=system:masters/CN=kube-etcd-healthcheck-client" "$cli"
one "$out/admin" ca "/O=kubeadm:cluster-admins/CN=kubernetes-admin" "$cli"
one "$out/super-admin" ca "/O=system:masters/CN=kubernetes-super-admin" "$cli"
one "$out/controller-manager" ca /CN=system:kube-controller-manager "$cli"
one "$out/scheduler" ca /CN=system:kube-scheduler "$cli"
SH

# pairs RUNS "A CMD" "B CMD": alternate, print median A, median B, median and min/max of A/B.
pairs() {
    python3 - "$@" "$w" "${shm:-$w}" <<'PY'
import glob, shlex, shutil, statistics, subprocess, sys, time
runs, a, b = int(sys.argv[1]), shlex.split(sys.argv[2]), shlex.split(sys.argv[3])
def once(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    d = time.perf_counter() - t
    if r.returncode:
        sys.exit("failed: %s: %s" % (" ".join(cmd), r.stderr.decode()[-300:]))
    for d2 in glob.glob(sys.argv[4] + "/kv/etc/kubernetes/kubevet-backup-*") + \
            glob.glob(sys.argv[5] + "/kv/etc/kubernetes/kubevet-backup-*"):
        shutil.rmtree(d2)  # not timed: keeps every run's work the same
    return d
once(a); once(b)  # warm-up
ta, tb = [], []
for _ in range(runs):
    ta.append(once(a)); tb.append(once(b))
r = sorted(y / x for x, y in zip(ta, tb))
q = sorted(x / y for x, y in zip(ta, tb))
print("A %.1f ms  B %.1f ms  B/A median %.2fx (min %.2fx, max %.2fx)  A/B median %.1fx" % (
    statistics.median(ta) * 1e3, statistics.median(tb) * 1e3, statistics.median(r), r[0], r[-1],
    statistics.median(q)))
PY
}

# OpenSSL's generator: as many RSA-2048 key generations as kubevet makes, in 2 parallel streams.
nkeys=$(grep -c '^one ' "$w/renew-openssl.sh")
cat >"$w/keygen-floor.sh" <<SH
stream() { i=0; while [ \$i -lt \$1 ]; do openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /dev/null 2>/dev/null; i=\$((i + 1)); done; }
stream $(( (nkeys + 1) / 2 )) & stream $(( nkeys / 2 )); wait
SH

echo "load: $(uptime | sed 's/.*load average/load average/')"
if [[ ${KV_BENCH_PART:-all} != keep-key ]]; then
    echo "certs renew all --apply, new keys (A = kubevet, B = openssl req + x509 -req script):"
    echo "  $(pairs "$runs" "$KUBEVET certs renew all --root $w/kv --apply" "bash $w/renew-openssl.sh $w/os")   goal B/A >= 5x"
    echo "OpenSSL's generator: $nkeys RSA-2048 keys on 2 cores (A = kubevet, B = openssl genpkey, 2 streams):"
    echo "  $(pairs "$runs" "$KUBEVET certs renew all --root $w/kv --apply" "bash $w/keygen-floor.sh")   (B/A > 1: B.3.3 beats OpenSSL's B.3.6)"
    echo "the openssl script against OpenSSL's generator alone (A = genpkey streams, B = script):"
    echo "  $(pairs "$runs" "bash $w/keygen-floor.sh" "bash $w/renew-openssl.sh $w/os")"
fi
echo "certs renew all --apply --keep-key (A = kubevet, B = openssl version):"
echo "  $(pairs "$runs" "$KUBEVET certs renew all --root $w/kv --apply --keep-key" "openssl version")   goal A/B <= 3x"
echo "the floor of the same 11 signatures, one process, 2 threads, nothing written (A = kubevet --keep-key, B = sign_floor):"
echo "  $(pairs "$runs" "$KUBEVET certs renew all --root $w/kv --apply --keep-key" "$data/sign_floor $w/kv")   (B/A: the share of the signatures)"
echo "the floors against the goal's yardstick (A = openssl version, B = sign_floor; then B = sign_floor -w, which also writes the 11 files durably):"
echo "  $(pairs "$runs" "openssl version" "$data/sign_floor $w/kv")   (B/A: what the signatures alone cost, in units of the yardstick)"
echo "  $(pairs "$runs" "openssl version" "$data/sign_floor -w $w/kv")   (B/A: the same with durable writes: no backup, no checks)"
if [[ -n $shm ]]; then
    echo "on tmpfs, where fsync costs nothing (A = kubevet --keep-key on tmpfs, B = openssl version):"
    echo "  $(pairs "$runs" "$KUBEVET certs renew all --root $shm/kv --apply --keep-key" "openssl version")"
fi
echo "for reference, the openssl script keeping keys (A = kubevet --keep-key, B = script):"
echo "  $(KEEP=1 pairs "$runs" "$KUBEVET certs renew all --root $w/kv --apply --keep-key" "env KEEP=1 bash $w/renew-openssl.sh $w/os")"
