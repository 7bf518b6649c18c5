#!/usr/bin/env bash
# bench_helm.sh - `kubevet helm scan -A` against the API stand-in holding N Helm 3 release Secrets
# (default 10,000; manifests of 50-200 KB each, gzip'd and base64'd as Helm stores them; one release
# in 20 holds a removed apiVersion), side by side in one run with
#   floor:  curl fetching the same LIST pages (owner=helm, 500 a page, the continue tokens taken
#           beforehand): what serving and moving the bytes costs, whoever reads them;
#   script: `kubectl get secrets -A -l owner=helm -o json | python3 decoder` (base64 twice,
#           gunzip, JSON, every document's apiVersion by regex - less work than kubevet's scan,
#           which also checks selectors and the catalog).
# Each round runs the three once (/usr/bin/time -v); the best of RUNS rounds is kept, and the
# ratios are kubevet's wall time over the floor's and the script's over kubevet's. Peak RSS is the
# largest single process (for the script: python).
#
#   KUBEVET=build/kubevet bash bench/bench_helm.sh [RELEASES] [RUNS]
set -u
N=${1:-10000}
RUNS=${2:-3}
. "$(dirname "$0")/lib.sh"
bench_init
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
K=$API_TMP/bench.conf
API_START_STEPS=24000 bench_standin BENCH "$K" "$API_TMP/fx" # loading takes minutes

"$KUBEVET" helm scan -A --kubeconfig "$K" --target 1.25 -o json >"$API_TMP/scan.json"
echo "kubevet helm scan: exit $?, $(jq '.releases | length' "$API_TMP/scan.json") releases," \
    "$(jq '[.findings[] | .objects[] | select(.id == "KV401")] | length' "$API_TMP/scan.json") objects with removed APIs"
echo "script: $("$KUBECTL" --kubeconfig "$K" get secrets -A -l owner=helm -o json | /usr/bin/python3 "$API_TMP/decoder.py")"

# the floor's page list: the URLs kubevet fetches, continue tokens collected once, untimed
CURL="curl -sS --cacert $API_PKI/ca.crt --cert $API_PKI/admin.crt --key $API_PKI/admin.key"
: >"$API_TMP/pages.cfg"
cont=
pages=0
while :; do
    url="$BENCH_URL/api/v1/secrets?labelSelector=owner%3Dhelm&limit=500${cont:+&continue=$cont}"
    printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$API_TMP/pages.cfg"
    $CURL "$url" -o "$API_TMP/page" || exit 1
    pages=$((pages + 1))
    cont=$(/usr/bin/python3 -c '
import json, sys, urllib.parse
head = open(sys.argv[1], "rb").read(65536).decode("utf-8", "replace")
start = head.index("\"metadata\":") + len("\"metadata\":")
meta, _ = json.JSONDecoder().raw_decode(head[start:])
print(urllib.parse.quote(meta.get("continue", ""), safe=""))' "$API_TMP/page")
    [ -n "$cont" ] || break
done
echo "floor: $pages pages, $(stat -c %s "$API_TMP/page" | awk '{printf "%.0f", $1/1048576}') MB in the last"

KV="$KUBEVET helm scan -A --kubeconfig $K --target 1.25 -o json"
FLOOR="$CURL -K $API_TMP/pages.cfg"
SCRIPT="$KUBECTL --kubeconfig $K get secrets -A -l owner=helm -o json | /usr/bin/python3 $API_TMP/decoder.py"
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
bf= bk= bs= mk= ms=
for r in $(seq 1 "$RUNS"); do
    echo "round $r ($(uptime | sed 's/.*load/load/'))"
    bench_time "floor: curl, the same pages" "$FLOOR" && bf=$(best "$BENCH_S" "$bf")
    bench_time "kubevet helm scan -A" "$KV" && { bk=$(best "$BENCH_S" "$bk"); mk=$BENCH_MB; }
    bench_time "script: kubectl | python3 decoder" "$SCRIPT" && { bs=$(best "$BENCH_S" "$bs"); ms=$BENCH_MB; }
done
echo
echo "best of $RUNS: floor $bf s, kubevet $bk s (peak $mk MB), script $bs s (peak $ms MB)"
awk -v f="$bf" -v k="$bk" -v s="$bs" 'BEGIN {
    printf "kubevet / floor: %.2fx   script / kubevet: %.2fx   script / floor: %.2fx\n", k / f, s / k, s / f }'
