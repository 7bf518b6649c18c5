#!/usr/bin/env bash
# bench_helm.sh - `kubevet helm scan -A` against the API stand-in holding N Helm 3 release Secrets
# (default 10,000; manifests of 50-200 KB each, gzip'd and base64'd as Helm stores them; one release
# in 20 holds a removed apiVersion), side by
# side with the usual script: `kubectl get secrets -A -l owner=helm -o json | python3 decoder`
# (base64 twice, gunzip, JSON, every document's apiVersion/kind by regex - less work than
# kubevet's scan, which also checks selectors and the catalog).
# Wall time and peak RSS: farm-bench (median of RUNS, paired with --vs) when installed, else
# /usr/bin/time -v, best of RUNS. The script's peak RSS is the largest single process (python).
#
#   KUBEVET=build/kubevet bash bench/bench_helm.sh [RELEASES] [RUNS]
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
KUBEVET=$(cd "$(dirname "$KUBEVET")" && pwd)/$(basename "$KUBEVET")
N=${1:-10000}
RUNS=${2:-3}
. "$KV_SRC/tests/lib/apiserver.sh"
KDIR=$("$KV_SRC/scripts/k8s-clients" 2>/dev/null) || { echo "skip: no kubectl (scripts/k8s-clients)"; exit 0; }
KUBECTL=$KDIR/kubectl
apiserver_setup
mkdir -p "$API_TMP/fx"

echo "writing $N release Secrets ..."
/usr/bin/python3 - "$N" "$API_TMP/fx/releases.yaml" <<'PY'
import base64, gzip, json, random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(42)
def doc(i, rel, k):
    # one release in 20 still has a Deployment at a removed apiVersion (its first document)
    api = "extensions/v1beta1" if i % 20 == 0 and k == 0 else "apps/v1"
    env = "\n".join("            - name: VAR_%d\n              value: \"%016x\"" % (j, rnd.getrandbits(64))
                    for j in range(rnd.randint(10, 40)))
    return ("---\n# Source: %s/templates/deploy-%d.yaml\napiVersion: %s\nkind: Deployment\n"
            "metadata:\n  name: %s-%d\n  labels:\n    app: %s\nspec:\n  replicas: 2\n"
            "  selector:\n    matchLabels:\n      app: %s-%d\n  template:\n    metadata:\n"
            "      labels:\n        app: %s-%d\n    spec:\n      containers:\n        - name: app\n"
            "          image: registry.local/%s:%d\n          env:\n%s\n"
            % (rel, k, api, rel, k, rel, rel, k, rel, k, rel, i, env))
with open(out, "w") as f:
    for i in range(n):
        rel = "rel%05d" % i
        target = rnd.randint(50_000, 200_000)
        parts, size, k = [], 0, 0
        while size < target:
            d = doc(i, rel, k); parts.append(d); size += len(d); k += 1
        body = json.dumps({"name": rel, "info": {"status": "deployed", "description": "Install complete"},
                           "chart": {"metadata": {"name": rel, "version": "1.0.0"}}, "config": {},
                           "manifest": "".join(parts), "hooks": [], "version": 1,
                           "namespace": "ns%03d" % (i % 100)}, separators=(",", ":")).encode()
        val = base64.b64encode(base64.b64encode(gzip.compress(body, 6, mtime=0))).decode()
        f.write(json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
                            "metadata": {"name": "sh.helm.release.v1.%s.v1" % rel,
                                         "namespace": "ns%03d" % (i % 100),
                                         "labels": {"name": rel, "owner": "helm",
                                                    "status": "deployed", "version": "1"}},
                            "data": {"release": val}}) + "\n---\n")
PY
ls -l "$API_TMP/fx/releases.yaml" | awk '{printf "fixture: %.0f MB of Secrets\n", $5/1048576}'
cat >"$API_TMP/decoder.py" <<'PY'
import base64, gzip, json, re, sys
API = re.compile(r"^apiVersion:\s*(\S+)\s*$", re.M)
KIND = re.compile(r"^kind:\s*(\S+)\s*$", re.M)
removed = {"extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"}
hits = 0
items = json.load(sys.stdin)["items"]
for it in items:
    rel = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(it["data"]["release"]))))
    for d in rel["manifest"].split("\n---"):
        a, k = API.search(d), KIND.search(d)
        if a and a.group(1) in removed:
            hits += 1
print(len(items), "releases,", hits, "objects with removed APIs")
PY
echo "starting the stand-in ..."
API_START_STEPS=24000 apiserver_start BENCH "$API_TMP/fx" || exit 1 # loading takes minutes
K=$API_TMP/bench.conf
apiserver_kubeconfig BENCH "$K" cert admin
: >"$API_TMP/BENCH.requests"

"$KUBEVET" helm scan -A --kubeconfig "$K" --target 1.25 -o json >"$API_TMP/scan.json"
echo "kubevet helm scan: exit $?, $(jq '.releases | length' "$API_TMP/scan.json") releases," \
    "$(jq '[.findings[] | .objects[] | select(.id == "KV401")] | length' "$API_TMP/scan.json") objects with removed APIs"
echo "script: $("$KUBECTL" --kubeconfig "$K" get secrets -A -l owner=helm -o json | /usr/bin/python3 "$API_TMP/decoder.py")"

KV="$KUBEVET helm scan -A --kubeconfig $K --target 1.25 -o json"
PYS="sh -c 'exec $KUBECTL --kubeconfig $K get secrets -A -l owner=helm -o json | /usr/bin/python3 $API_TMP/decoder.py >/dev/null'"
if command -v farm-bench >/dev/null; then
    echo
    echo "== kubevet helm scan -A (A) vs kubectl get secrets -A -l owner=helm -o json | python3 decoder (B)"
    eval farm-bench -n "$RUNS" --timeout 1800 --vs "\"$PYS\"" -- $KV
else
    measure() { # name command...
        local name=$1
        shift
        /usr/bin/time -v "$@" >/dev/null 2>"$API_TMP/time" || { echo "$name failed"; return; }
        printf '  %-40s %6.2f s  peak %6.1f MB\n' "$name" \
            "$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=a[n]; if (n>1) s+=a[n-1]*60; print s}' "$API_TMP/time")" \
            "$(awk -F': ' '/Maximum resident/ {print $2/1024}' "$API_TMP/time")"
    }
    for r in $(seq 1 "$RUNS"); do
        echo "run $r"
        measure "kubevet helm scan -A" $KV
        measure "kubectl | python3 decoder (python)" sh -c "exec $KUBECTL --kubeconfig $K get secrets -A -l owner=helm -o json | /usr/bin/python3 $API_TMP/decoder.py"
    done
fi
