#!/usr/bin/env bash
# Memory and time of `kubevet apis scan` on single large manifests: `kubectl get -A -o json`
# and `-o yaml` shaped dumps (one List document holding every object), 20 MB and 80 MB.
# Goal: peak RSS under 2x the input + 64 MB, time linear in the input size (the s/MB column
# stays flat from 20 to 80 MB). The List is read in one pass (libyaml's events, each item composed
# on its own); --stats says how many bytes libyaml read (1x the input; the two-pass reader read 2x).
#
#   bench/bench_apis_memory.sh [KUBEVET [BASELINE_KUBEVET]]   (env: SIZES="20 80" in MB, RUNS=3)
# Peak RSS from /usr/bin/time -v ("Maximum resident set size"); wall time best of RUNS. With a
# baseline binary (an older build), it runs on the same input right after, and the ratio is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KUBEVET=${1:-${KUBEVET:-$here/../build/kubevet}}
BASELINE=${2:-${BASELINE:-}}
SIZES=${SIZES:-20 80}
RUNS=${RUNS:-3}
work=$(mktemp -d /tmp/kv-bench-mem.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A List of Deployments, Services and ConfigMaps with realistic bodies, some at removed
# apiVersions, until the file reaches SIZE MB. JSON (indent 4, like kubectl) or block YAML.
gen() { # size_mb format out
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
size, fmt, out = int(sys.argv[1]) * 1000000, sys.argv[2], sys.argv[3]
def dep(i):
    av = ["apps/v1", "extensions/v1beta1", "apps/v1beta2"][i % 3]
    return {"apiVersion": av, "kind": "Deployment",
            "metadata": {"name": f"web-{i}", "namespace": f"ns-{i % 40}",
                         "labels": {"app": f"web-{i}", "tier": "frontend"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": f"web-{i}"}},
                     "template": {"metadata": {"labels": {"app": f"web-{i}", "tier": "frontend"}},
                                  "spec": {"containers": [{"name": "app", "image": f"registry.example/web:{i}",
                                           "env": [{"name": f"VAR_{k}", "value": f"value-{k}-{i}"} for k in range(30)],
                                           "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}}}}
def svc(i):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"web-{i}", "namespace": f"ns-{i % 40}"},
            "spec": {"selector": {"app": f"web-{i}"}, "ports": [{"port": 80, "targetPort": 8080}]}}
def cm(i):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cfg-{i}", "namespace": f"ns-{i % 40}"},
            "data": {f"key{k}": "x" * 60 for k in range(20)}}
def ing(i):
    return {"apiVersion": "networking.k8s.io/v1beta1", "kind": "Ingress", "metadata": {"name": f"web-{i}"},
            "spec": {"rules": [{"host": f"web-{i}.example.com", "http": {"paths": [{"path": "/",
                     "backend": {"serviceName": f"web-{i}", "servicePort": 80}}]}}]}}
items, total, i = [], 0, 0
while total < size:
    o = [dep, svc, cm, ing][i % 4](i)
    items.append(o)
    total += len(json.dumps(o, indent=4)) * (1 if fmt == "json" else 0.75)
    i += 1
doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
with open(out, "w") as f:
    if fmt == "json":
        json.dump(doc, f, indent=4)
    else:
        def y(v, ind):  # minimal block YAML writer (kubectl's shape), no PyYAML needed
            pad = " " * ind
            if isinstance(v, dict):
                for k, x in v.items():
                    if isinstance(x, (dict, list)) and x:
                        f.write(f"{pad}{k}:\n"); y(x, ind + 2)
                    else:
                        f.write(f"{pad}{k}: {json.dumps(x) if isinstance(x, str) or not x else x}\n")
            else:
                for x in v:
                    f.write(f"{pad}-\n"); y(x, ind + 2)
        y(doc, 0)
PY
}

# best-of-RUNS wall and CPU seconds and the largest peak RSS (KB) of `apis scan FILE` by binary $1
measure() {
    local bin=$1 f=$2 best= cpu= rss=0
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$bin" apis scan "$f" \
            --max-size 1000000000 -o json >"$work/out.json" 2>/dev/null || true
        read -r w u sy m < <(tail -n 1 "$work/time.txt")
        c=$(echo "$u + $sy" | bc)
        if [ -z "$best" ] || [ "$(echo "$w < $best" | bc)" = 1 ]; then best=$w; fi
        if [ -z "$cpu" ] || [ "$(echo "$c < $cpu" | bc)" = 1 ]; then cpu=$c; fi
        if [ "$m" -gt "$rss" ]; then rss=$m; fi
    done
    echo "$best $cpu $rss"
}

printf '%-16s %10s %8s %7s %8s %12s %9s %s\n' input bytes wall_s cpu_s cpu_s/MB peak_rss_MB \
    limit_MB verdict
for mb in $SIZES; do
    for fmt in json yaml; do
        f="$work/list-$mb.$fmt"
        gen "$mb" "$fmt" "$f"
        bytes=$(stat -c %s "$f")
        read -r wall cpu rss_kb < <(measure "$KUBEVET" "$f")
        limit=$((2 * bytes / 1000000 + 64))
        rss=$((rss_kb / 1000))
        printf '%-16s %10d %8.2f %7.2f %8.3f %12d %9d %s\n' "list-$mb.$fmt" "$bytes" "$wall" "$cpu" \
            "$(echo "$cpu * 1000000 / $bytes" | bc -l)" "$rss" "$limit" \
            "$([ "$rss" -le "$limit" ] && echo ok || echo OVER)"
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('   findings:', len(d['findings']), 'errors:', len(d['errors']))" "$work/out.json"
        # (kubevet exits 1: there are findings)
        read_b=$("$KUBEVET" apis scan "$f" --max-size 1000000000 --stats -o json 2>&1 >/dev/null |
            sed -n 's/.*by libyaml (\([0-9]*\) bytes read).*/\1/p' || true)
        [ -n "$read_b" ] && printf '   libyaml read %d bytes: %.2fx the input\n' "$read_b" \
            "$(echo "$read_b / $bytes" | bc -l)"
        if [ -n "$BASELINE" ]; then
            read -r bwall bcpu brss_kb < <(measure "$BASELINE" "$f")
            printf '   baseline: wall %.2f s, cpu %.2f s, peak RSS %d MB; baseline / this: %.2fx wall, %.2fx cpu\n' \
                "$bwall" "$bcpu" $((brss_kb / 1000)) "$(echo "$bwall / $wall" | bc -l)" \
                "$(echo "$bcpu / $cpu" | bc -l)"
        fi
        rm -f "$f"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; best of $RUNS runs"
