#!/usr/bin/env bash
# ctest-label: online
# t_upgrade_incident2.sh - incident 2 replayed for `kubevet upgrade plan` (INCIDENTS.md):
# v1.16.7 -> 1.19.3 with manifests and an etcd snapshot written by a real etcd 3.4 holding
# extensions/v1beta1 objects:
#   - three hops (1.17.17, 1.18.20, 1.19.3);
#   - KV401 (manifest) and KV406 (stored in etcd) for what 1.16 removed, on the first hop only;
#     KV401 for an API removed in 1.19 on the hop into 1.19 only; nothing for APIs removed later;
#   - KV403 for the DaemonSet without spec.selector;
#   - KV305 without --snapshot, not with the fresh verified one, again with --max-backup-age 0s
#     and for a damaged copy;
#   - etcd from the release data: the hop into 1.17 moves etcd 3.3 -> 3.4 (KV503, info); a
#     --releases file whose next kubeadm jumps two etcd minors is a critical KV503 that refuses
#     the hop;
#   - KV405 for the incident's Helm v2 record (image-manager, Tiller ConfigMaps written by
#     tests/lib/helmrec.py): from the snapshot (records put into the real etcd with
#     tests/lib/helmetcd.py), and from the API stand-in at v1.16.7 (no --from: the apiserver's
#     version): on the first hop only (its extensions/v1beta1 and apps/v1beta1 objects went in
#     1.16; its extensions/v1beta1 Ingress goes in 1.22, beyond the plan); a v3 release holding
#     an AuditSink (removed in 1.19) on the hop into 1.19 only; none for a healthy twin.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_upgrade_incident2.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
export ETCDCTL_API=3
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "skip: etcd/etcdctl not installed"
    exit 0
fi
. "$KV_SRC/tests/lib/etcd.sh"
. "$KV_SRC/tests/lib/apiserver.sh"
etcd_setup
apiserver_setup
T=$ETCD_TMP
FAILS=0
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    FAILS=$((FAILS + 1))
}
hops_of() { jq -r '.plan.hops | to_entries[] | .key as $k | .value.blockers[] |
    "hop\($k + 1) \(.id) \(.subject)"' "$1" | sort; }

# ---- manifests (ours, in the shapes of the incident's charts)
mkdir -p "$T/m"
cat >"$T/m/agent.yaml" <<'Y'
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: agent
  namespace: kube-system
spec:
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
        - name: agent
          image: registry.example.com/agent:2.1
Y
cat >"$T/m/web.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: web
spec:
  backend:
    serviceName: web
    servicePort: 80
---
apiVersion: auditregistration.k8s.io/v1alpha1
kind: AuditSink
metadata:
  name: audit
spec:
  webhook:
    clientConfig:
      url: https://audit.example.com/
Y

# ---- Helm records: the incident's v2 release (as tests/t_helm.sh has it), a v3 release whose
# AuditSink goes in 1.19, and the healthy twin of both (apps/v1, networking.k8s.io/v1beta1)
/usr/bin/python3 - "$KV_SRC/tests/data/helm/releases.yaml" "$T" <<'PY' || fail helm-specs python
import copy, sys, yaml
rels = yaml.safe_load(open(sys.argv[1]))
im = [r for r in rels if r["name"] == "image-manager"][0]
audit = {"name": "audit", "namespace": "ops", "helm": 3,
         "chart": {"name": "audit", "version": "1.0.0", "appVersion": "1.0"},
         "revisions": [{"status": "deployed", "manifest":
             "---\n# Source: audit/templates/sink.yaml\n"
             "apiVersion: auditregistration.k8s.io/v1alpha1\nkind: AuditSink\n"
             "metadata:\n  name: audit\nspec:\n  webhook:\n    clientConfig:\n"
             "      url: https://audit.example.com/\n"}]}
yaml.safe_dump([im], open(sys.argv[2] + "/helm-incident.yaml", "w"))
yaml.safe_dump([im, audit], open(sys.argv[2] + "/helm-bad.yaml", "w"))
good = copy.deepcopy(im)
m = good["revisions"][1]["manifest"]
m = m.replace("apiVersion: extensions/v1beta1\nkind: DaemonSet", "apiVersion: apps/v1\nkind: DaemonSet")
m = m.replace("apiVersion: apps/v1beta1\nkind: StatefulSet", "apiVersion: apps/v1\nkind: StatefulSet")
m = m.replace("apiVersion: extensions/v1beta1\nkind: Ingress", "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress")
for app in ("image-puller", "image-cache"):
    m = m.replace("spec:\n  template:\n    metadata:\n      labels:\n        app: %s" % app,
                  "spec:\n  selector:\n    matchLabels:\n      app: %s\n  template:\n"
                  "    metadata:\n      labels:\n        app: %s" % (app, app), 1)
    m = m.replace("spec:\n  serviceName: image-cache\n  template:\n    metadata:\n      labels:\n"
                  "        app: %s" % app,
                  "spec:\n  serviceName: image-cache\n  selector:\n    matchLabels:\n"
                  "      app: %s\n  template:\n    metadata:\n      labels:\n        app: %s"
                  % (app, app), 1)
assert "extensions/" not in m and "apps/v1beta1" not in m and m.count("matchLabels") == 2, m
good["revisions"][1]["manifest"] = m
yaml.safe_dump([good], open(sys.argv[2] + "/helm-good.yaml", "w"))
PY
for s in incident bad good; do
    /usr/bin/python3 "$KV_SRC/tests/lib/helmrec.py" "$T/helm-$s.yaml" "$T/fx-$s" || fail helmrec "$s"
done
/usr/bin/python3 "$KV_SRC/tests/lib/helmetcd.py" "$T/kv" "$T"/fx-incident/*.yaml || fail helmetcd python

# ---- a snapshot from a real etcd with objects stored at old versions, and the Helm v2 records
etcd_cluster E 1 || { echo "FAIL etcd did not start"; exit 1; }
put() { etcdctl --endpoints "$E_EP" put "$1" "$2" >/dev/null || fail put "$1"; }
obj() { printf '{"apiVersion":"%s","kind":"%s","metadata":{"name":"%s","namespace":"%s"}}' "$@"; }
put /registry/daemonsets/kube-system/agent "$(obj extensions/v1beta1 DaemonSet agent kube-system)"
put /registry/deployments/api/api "$(obj extensions/v1beta1 Deployment api api)"
put /registry/deployments/default/web "$(obj apps/v1 Deployment web default)"
put /registry/ingress/default/web "$(obj networking.k8s.io/v1beta1 Ingress web default)"
for k in "$T"/kv/*.key; do
    etcdctl --endpoints "$E_EP" put "$(cat "$k")" <"${k%.key}.val" >/dev/null || fail put "$(cat "$k")"
done
etcdctl --endpoints "$E_EP" snapshot save "$T/snap.db" >/dev/null 2>&1 || fail "snapshot save" etcdctl
etcdctl snapshot status "$T/snap.db" >/dev/null 2>&1 || fail "snapshot status" "etcdctl rejects it"

run() { # OUT args...
    local out=$1
    shift
    "$KUBEVET" upgrade plan --from 1.16.7 --to 1.19.3 "$@" -o json >"$T/$out.json" 2>"$T/$out.err"
    echo $? >"$T/$out.rc"
}
run with --snapshot "$T/snap.db" "$T/m"
got=$(hops_of "$T/with.json" | sed 's/ [^ ]*yaml:[0-9]*$//')
want="hop1 KV401 DaemonSet/kube-system/agent
hop1 KV403 DaemonSet/kube-system/agent
hop1 KV405 release image-manager (namespace imaging, revision 2, helm v2)
hop1 KV406 daemonsets (extensions/v1beta1 DaemonSet)
hop1 KV406 deployments (extensions/v1beta1 Deployment)
hop1 KV503 etcd 3.3.15-0 -> 3.4.3-0
hop3 KV401 AuditSink/audit"
if [ "$(jq -r '[.plan.hops[].to] | join(" ")' "$T/with.json")" = "1.17.17 1.18.20 1.19.3" ] &&
    [ "$got" = "$want" ] && [ "$(cat "$T/with.rc")" = 1 ]; then
    ok "incident 2: KV401/KV403/KV405 (snapshot's Helm v2 record)/KV406 on the first hop, AuditSink on the hop into 1.19, no KV305"
else fail "incident 2" "rc $(cat "$T/with.rc") got [$got] $(head -2 "$T/with.err")"; fi
if [ "$(jq -r '.plan.hops[0].refused != null' "$T/with.json")" = true ] &&
    [ "$(jq -r '.plan.hops[1].refused == null and (.plan.hops[1].steps | length > 5)' "$T/with.json")" = true ]; then
    ok "incident 2: first hop refused (KV401 critical), the next has steps"
else fail "refusal" "$(jq -c '[.plan.hops[].refused]' "$T/with.json")"; fi

run without "$T/m"
if hops_of "$T/without.json" | grep -qx "hop1 KV305 etcd" && ! hops_of "$T/without.json" | grep -q KV406; then
    ok "no --snapshot: KV305 on the first hop, no KV406"
else fail "no snapshot" "$(hops_of "$T/without.json" | tr '\n' ';')"; fi
run old --snapshot "$T/snap.db" --max-backup-age 0s
sleep 1
run old --snapshot "$T/snap.db" --max-backup-age 0s
hops_of "$T/old.json" | grep -q "^hop1 KV305 $T/snap.db" && ok "--max-backup-age 0s: KV305" ||
    fail "old snapshot" "$(hops_of "$T/old.json" | tr '\n' ';')"
cp "$T/snap.db" "$T/bad.db"
printf 'XXXX' | dd of="$T/bad.db" bs=1 seek=$(( $(stat -c %s "$T/bad.db") - 8 )) conv=notrunc 2>/dev/null
run bad --snapshot "$T/bad.db"
jq -e '.plan.hops[0].blockers[] | select(.id == "KV305") | .message | test("integrity")' \
    "$T/bad.json" >/dev/null && ok "damaged snapshot: KV305" || fail "damaged" "$(hops_of "$T/bad.json" | tr '\n' ';')"

# ---- etcd that would skip a minor (release data given by the test)
cat >"$T/rel.yaml" <<'Y'
releases-data: 1
updated: "2026-11-30"
releases:
  - {minor: "1.16", newest: "1.16.15", etcd: "3.3.15-0", kubeadm-config: [v1beta2]}
  - {minor: "1.17", newest: "1.17.17", etcd: "3.5.0-0", kubeadm-config: [v1beta2]}
Y
"$KUBEVET" upgrade plan --releases "$T/rel.yaml" --from 1.16.7 --to 1.17.17 --snapshot "$T/snap.db" \
    -o json >"$T/skip.json" 2>"$T/err"
if jq -e '.plan.hops[0].blockers[] | select(.id == "KV503" and .severity == "critical")' \
    "$T/skip.json" >/dev/null && [ "$(jq -r '.plan.hops[0].steps | length' "$T/skip.json")" = 0 ]; then
    ok "etcd 3.3 -> 3.5 in one hop: critical KV503, hop refused"
else fail "etcd skip" "$(jq -c '.plan.hops[0]' "$T/skip.json" | head -c 400)"; fi

# ---- the Helm records live: the API stand-in at v1.16.7 (the plan's --from comes from it)
if apiserver_start A --version v1.16.7 "$T/fx-bad" && apiserver_start B --version v1.16.7 "$T/fx-good"; then
    apiserver_kubeconfig A "$T/a.conf" cert admin
    apiserver_kubeconfig B "$T/b.conf" cert admin
    for s in a b; do
        "$KUBEVET" upgrade plan --kubeconfig "$T/$s.conf" --to 1.19.3 -o json >"$T/helm-$s.json" 2>"$T/helm-$s.err"
        echo $? >"$T/helm-$s.rc"
    done
    got=$(hops_of "$T/helm-a.json" | grep KV405)
    want="hop1 KV405 release image-manager (namespace imaging, revision 2, helm v2)
hop3 KV405 release audit (namespace ops, revision 1, helm v3)"
    if [ "$got" = "$want" ] && [ "$(jq -r '.plan.from' "$T/helm-a.json")" = 1.16.7 ] &&
        jq -e '.plan.hops[0].blockers[] | select(.id == "KV405") | .severity == "critical" and .helm == 2 and
            ([.objects[] | select(.id == "KV401") | .kind] == ["DaemonSet", "StatefulSet"]) and
            (.fix | test("kubevet helm map image-manager -n imaging --tiller-namespace kube-system"))' \
            "$T/helm-a.json" >/dev/null && [ "$(cat "$T/helm-a.rc")" = 1 ]; then
        ok "live Helm records: KV405 image-manager on the hop out of 1.16 only, audit on the hop into 1.19 only"
    else fail "live KV405" "rc $(cat "$T/helm-a.rc") got [$got] $(head -3 "$T/helm-a.err")"; fi
    if [ "$(jq -r '.plan.hops | length' "$T/helm-b.json")" = 3 ] && ! hops_of "$T/helm-b.json" | grep -q KV405; then
        ok "healthy twin (apps/v1, selectors): no KV405 on any hop"
    else fail "twin" "$(hops_of "$T/helm-b.json" | grep KV405 | tr '\n' ';') $(head -3 "$T/helm-b.err")"; fi
else
    fail stand-in "did not start"
fi

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
