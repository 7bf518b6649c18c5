#!/usr/bin/env bash
# ctest-label: online
# `kubevet etcd snapshot status|verify|objects` against snapshots written by a real etcd 3.4
# (Debian's etcd-server): status -o json must equal `etcdctl snapshot status -w json` for every
# stage (empty cluster, puts, overwrites, deletes, compaction, 100 KB values on overflow pages,
# 20k keys on branch pages); damaged copies are KV305 (exit 1), never a crash; Kubernetes-shaped
# values are listed with the version they are stored at, and KV406 fires at a target that
# removes that version.
set -uo pipefail

KUBEVET=${KUBEVET:-build/kubevet}
export ETCDCTL_API=3
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "SKIP: etcd/etcdctl not installed"
    exit 0
fi

work=$(mktemp -d /tmp/kv-t-snapshot.XXXXXX)
etcd_pid=
cleanup() {
    if [ -n "$etcd_pid" ]; then
        kill "$etcd_pid" 2>/dev/null
        wait "$etcd_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
cport=$(free_port)
pport=$(free_port)
url="http://127.0.0.1:$cport"
etcd --name t1 --data-dir "$work/data" --listen-client-urls "$url" --advertise-client-urls "$url" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "t1=http://127.0.0.1:$pport" --unsafe-no-fsync >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
    curl -fs "$url/health" 2>/dev/null | grep -q true && break
    sleep 0.1
done
curl -fs "$url/health" | grep -q true || { echo "etcd did not start"; cat "$work/etcd.log"; exit 1; }

ec() { etcdctl --endpoints "$url" "$@"; }
snap() { ec snapshot save "$work/$1.db" >/dev/null 2>&1 || fail "snapshot save $1"; }

# Puts through the HTTP gateway: binary values, and many keys quickly.
# usage: gw_put < lines of "key<TAB>base64value"
cat >"$work/gw.py" <<'PY'
import base64, http.client, sys, threading, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
lines = [l.rstrip("\n").split("\t", 1) for l in sys.stdin if l.strip()]
def work(chunk):
    c = http.client.HTTPConnection(u.hostname, u.port)
    for k, v in chunk:
        body = '{"key":"%s","value":"%s"}' % (base64.b64encode(k.encode()).decode(), v)
        c.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 200:
            sys.exit("put %s: HTTP %d" % (k, r.status))
ts = [threading.Thread(target=work, args=(lines[i::4],)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
gw_put() { python3 "$work/gw.py" "$url" || fail "gateway put"; }

# --- stages ---------------------------------------------------------------------------------
snap empty
for i in $(seq 1 50); do ec put "/t/k$i" "v$i" >/dev/null; done
snap puts
for i in $(seq 1 20); do ec put "/t/k$i" "overwritten-$i" >/dev/null; done
snap overwrites
for i in $(seq 30 40); do ec del "/t/k$i" >/dev/null; done
snap deletes
rev=$(ec get /t/k1 -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
ec compact "$((rev - 5))" >/dev/null
snap compacted
python3 -c '
import base64, os
for i in range(12):
    print("/t/big%d\t%s" % (i, base64.b64encode(os.urandom(100 * 1024)).decode()))' | gw_put
snap large
python3 -c '
import base64
for i in range(20000):
    print("/t/many/%06d\t%s" % (i, base64.b64encode(b"value-%d" % i).decode()))' | gw_put
snap many

# Kubernetes-shaped values: protobuf behind "k8s\0" (runtime.Unknown typeMeta + raw object with
# ObjectMeta name/namespace), JSON custom resources, an encrypted Secret, an old stored version.
python3 - >"$work/k8s.tsv" <<'PY'
import base64, json
def vi(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n: return out
def fld(num, data): return vi(num << 3 | 2) + vi(len(data)) + data
def obj(av, kind, name, ns):
    meta = fld(1, name.encode()) + (fld(3, ns.encode()) if ns else b"")
    raw = fld(1, meta) + fld(2, b"\x0a\x00")   # ObjectMeta, then some spec bytes
    unk = fld(1, fld(1, av.encode()) + fld(2, kind.encode())) + fld(2, raw) + fld(3, b"") + fld(4, b"")
    return b"k8s\x00" + unk
rows = [
    ("/registry/pods/default/web-1", obj("v1", "Pod", "web-1", "default")),
    ("/registry/pods/kube-system/etcd-m1", obj("v1", "Pod", "etcd-m1", "kube-system")),
    ("/registry/deployments/default/old-app", obj("extensions/v1beta1", "Deployment", "old-app", "default")),
    ("/registry/deployments/default/new-app", obj("apps/v1", "Deployment", "new-app", "default")),
    ("/registry/ingress/default/old-ing", obj("networking.k8s.io/v1beta1", "Ingress", "old-ing", "default")),
    ("/registry/namespaces/default", obj("v1", "Namespace", "default", "")),
    ("/registry/minions/m1", obj("v1", "Node", "m1", "")),
    ("/registry/services/specs/default/kubernetes", obj("v1", "Service", "kubernetes", "default")),
    ("/registry/pods/default/deleted-pod", obj("v1", "Pod", "deleted-pod", "default")),
    ("/registry/example.com/widgets/default/w1",
     json.dumps({"apiVersion": "example.com/v1", "kind": "Widget",
                 "metadata": {"name": "w1", "namespace": "default"}}).encode()),
    ("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
     json.dumps({"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition",
                 "metadata": {"name": "widgets.example.com"}}).encode()),
    ("/registry/secrets/default/db-pass", b"k8s:enc:aescbc:v1:key1:" + bytes(range(48))),
    ("compact_rev_key", b"12345"),
]
for k, v in rows:
    print("%s\t%s" % (k, base64.b64encode(v).decode()))
PY
gw_put <"$work/k8s.tsv"
ec put /registry/pods/default/web-1 "$(printf 'k8s')" >/dev/null # overwritten below again
grep -P '^/registry/pods/default/web-1\t' "$work/k8s.tsv" | gw_put
ec del /registry/pods/default/deleted-pod >/dev/null
snap k8s

# --- status equals etcdctl -------------------------------------------------------------------
for s in empty puts overwrites deletes compacted large many k8s; do
    f="$work/$s.db"
    kv=$("$KUBEVET" etcd snapshot status -o json "$f" 2>"$work/err")
    rc=$?
    want=$(etcdctl snapshot status -w json "$f" 2>/dev/null)
    if [ $rc -eq 0 ] && python3 -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
keys = ("hash", "revision", "totalKey", "totalSize")
sys.exit(0 if all(a[k] == b[k] for k in keys) and set(a) == set(keys) else 1)' "$kv" "$want"; then
        pass "status $s: $kv"
    else
        fail "status $s: kubevet rc=$rc '$kv' $(cat "$work/err") vs etcdctl '$want'"
    fi
    [ "$kv" = "$want" ] || fail "status $s: output not byte-identical to etcdctl's"
    "$KUBEVET" etcd snapshot verify -o json "$f" >"$work/v.json"
    rc=$?
    [ $rc -eq 0 ] && pass "verify $s" || fail "verify $s: exit $rc: $(cat "$work/v.json")"
done
"$KUBEVET" etcd snapshot status "$work/large.db" | grep -Eq '(1\.[0-9]|[0-9]+) MB' &&
    pass "text status shows etcdctl's humanized size" || fail "text status size"
want_size=$(etcdctl snapshot status "$work/many.db" 2>/dev/null | awk -F', ' '{print $4}')
"$KUBEVET" etcd snapshot status "$work/many.db" | grep -q "  $want_size" &&
    pass "text size '$want_size' as etcdctl" || fail "text size differs from etcdctl '$want_size'"

# raw member/snap/db (no trailer): status works, verify passes with a note
cp "$work/many.db" "$work/raw.db"
truncate -s -32 "$work/raw.db"
"$KUBEVET" etcd snapshot verify -o json "$work/raw.db" >"$work/v.json"
rc=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["snapshot"]; sys.exit(0 if s["trailer"]=="absent" and s["verified"] and "note" in s else 1)' "$work/v.json" &&
    [ $rc -eq 0 ] && pass "raw db: verified, trailer absent noted" || fail "raw db: exit $rc $(cat "$work/v.json")"

# --- damage: KV305, exit 1, never a crash ----------------------------------------------------
damage() { # name file
    "$KUBEVET" etcd snapshot verify -o json "$2" >"$work/d.json" 2>"$work/d.err"
    rc=$?
    if [ $rc -ge 128 ]; then
        fail "$1: crashed (exit $rc)"
    elif [ $rc -eq 1 ] && grep -q '"KV305"' "$work/d.json"; then
        pass "$1: KV305 exit 1"
    else
        fail "$1: exit $rc: $(head -c 400 "$work/d.json") $(cat "$work/d.err")"
    fi
    "$KUBEVET" etcd snapshot status -o json "$2" >/dev/null 2>&1
    rc=$?
    [ $rc -lt 128 ] || fail "$1: status crashed (exit $rc)"
    "$KUBEVET" etcd snapshot objects -o json "$2" >/dev/null 2>&1
    rc=$?
    [ $rc -lt 128 ] || fail "$1: objects crashed (exit $rc)"
}
for s in many large k8s; do
    f="$work/$s.db"
    size=$(stat -c %s "$f")
    head -c $((size / 2)) "$f" >"$work/trunc.db"
    damage "$s truncated" "$work/trunc.db"
    cp "$f" "$work/flip.db"
    python3 -c '
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x10]))' "$work/flip.db" $((size / 3))
    damage "$s bit-flipped" "$work/flip.db"
    cp "$f" "$work/sha.db"
    python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(-1, 2); b = f.read(1); f.seek(-1, 2); f.write(bytes([b[0] ^ 1]))' "$work/sha.db"
    damage "$s bad sha" "$work/sha.db"
    # structural damage under a recomputed trailer: the page walk alone must catch it
    python3 - "$f" "$work/struct.db" <<'PY'
import hashlib, struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
ps = struct.unpack_from("<I", d, 16 + 8)[0]
root = struct.unpack_from("<Q", d, 16 + 16)[0]
struct.pack_into("<H", d, root * ps + 10, 0xFFFF)   # root leaf claims 65535 elements
body = bytes(d[:-32])
open(sys.argv[2], "wb").write(body + hashlib.sha256(body).digest())
PY
    damage "$s structure (valid sha)" "$work/struct.db"
done

# --- objects ---------------------------------------------------------------------------------
"$KUBEVET" etcd snapshot objects -o json --target 1.15 "$work/k8s.db" >"$work/o15.json"
rc15=$?
"$KUBEVET" etcd snapshot objects -o json --target 1.22 "$work/k8s.db" >"$work/o22.json"
rc22=$?
"$KUBEVET" etcd snapshot objects -o json "$work/k8s.db" >"$work/o.json"
rc=$?
# The default target is the embedded catalog's newest release.
newest=$("$KUBEVET" apis list -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["newest"])')
python3 - "$work/o15.json" "$work/o22.json" "$work/o.json" "$rc15" "$rc22" "$rc" "$newest" <<'PY'
import json, sys
o15, o22, o = (json.load(open(p)) for p in sys.argv[1:4])
rc15, rc22, rc = map(int, sys.argv[4:7])
bad = []
objs = {x["key"]: x for x in o["objects"]}
def want(key, **kv):
    x = objs.get(key)
    if not x:
        bad.append("missing " + key); return
    for k, v in kv.items():
        if x.get(k) != v:
            bad.append("%s: %s=%r, want %r" % (key, k, x.get(k), v))
want("/registry/pods/default/web-1", resource="pods", namespace="default", name="web-1",
     apiVersion="v1", kind="Pod", encoding="protobuf")
want("/registry/pods/kube-system/etcd-m1", namespace="kube-system", kind="Pod")
want("/registry/deployments/default/old-app", apiVersion="extensions/v1beta1", kind="Deployment",
     removed_in="1.16")
want("/registry/deployments/default/new-app", apiVersion="apps/v1", kind="Deployment")
want("/registry/ingress/default/old-ing", apiVersion="networking.k8s.io/v1beta1", kind="Ingress")
want("/registry/namespaces/default", resource="namespaces", namespace="", kind="Namespace")
want("/registry/minions/m1", resource="nodes", kind="Node")
want("/registry/services/specs/default/kubernetes", resource="services", kind="Service")
want("/registry/example.com/widgets/default/w1", resource="widgets.example.com",
     namespace="default", apiVersion="example.com/v1", kind="Widget", encoding="json")
want("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
     resource="customresourcedefinitions.apiextensions.k8s.io", kind="CustomResourceDefinition",
     encoding="json", namespace="")
want("/registry/secrets/default/db-pass", resource="secrets", encoding="encrypted",
     encryption="aescbc:v1:key1", apiVersion="")
if "/registry/pods/default/deleted-pod" in objs:
    bad.append("deleted (tombstoned) key listed")
if "compact_rev_key" in objs:
    bad.append("compact_rev_key listed as an object")
if len(objs) != 11:
    bad.append("want 11 objects, got %d: %s" % (len(objs), sorted(objs)))
if o.get("other_keys") != 20000 + 50 - 11 + 12 + 1:  # /t/many, /t/k* left, /t/big*, compact_rev_key
    bad.append("other_keys %r" % o.get("other_keys"))
def kv406(rep):
    return sorted((f["api_version"], f["kind"]) for f in rep["findings"] if f["id"] == "KV406")
if kv406(o15) or rc15 != 0:
    bad.append("target 1.15: %r exit %d" % (kv406(o15), rc15))
w22 = [("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"), ("extensions/v1beta1", "Deployment"),
       ("networking.k8s.io/v1beta1", "Ingress")]
if kv406(o22) != w22 or rc22 != 1:
    bad.append("target 1.22: %r exit %d" % (kv406(o22), rc22))
if kv406(o) != w22 or rc != 1 or o.get("target") != sys.argv[7]:
    bad.append("default target: %r exit %d target %r" % (kv406(o), rc, o.get("target")))
res = {(r["resource"], r["namespace"], r["apiVersion"], r["kind"]): r["count"] for r in o["resources"]}
if res.get(("pods", "default", "v1", "Pod")) != 1:
    bad.append("resources aggregate: %r" % res)
for b in bad:
    print("FAIL objects:", b)
sys.exit(1 if bad else 0)
PY
[ $? -eq 0 ] && pass "objects: resources, stored versions, tombstones, KV406 by target" || fails=$((fails + 1))

# usage and unreadable input
"$KUBEVET" etcd snapshot status >/dev/null 2>&1
[ $? -eq 2 ] && pass "missing FILE: exit 2" || fail "missing FILE: not exit 2"
"$KUBEVET" etcd snapshot verify "$work/does-not-exist.db" >/dev/null 2>&1
[ $? -eq 3 ] && pass "missing file: exit 3" || fail "missing file: not exit 3"

echo "$fails failure(s)"
[ $fails -eq 0 ]
