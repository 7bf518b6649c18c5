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
#     the hop.
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
etcd_setup
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

# ---- a snapshot from a real etcd with objects stored at old versions
etcd_cluster E 1 || { echo "FAIL etcd did not start"; exit 1; }
put() { etcdctl --endpoints "$E_EP" put "$1" "$2" >/dev/null || fail put "$1"; }
obj() { printf '{"apiVersion":"%s","kind":"%s","metadata":{"name":"%s","namespace":"%s"}}' "$@"; }
put /registry/daemonsets/kube-system/agent "$(obj extensions/v1beta1 DaemonSet agent kube-system)"
put /registry/deployments/api/api "$(obj extensions/v1beta1 Deployment api api)"
put /registry/deployments/default/web "$(obj apps/v1 Deployment web default)"
put /registry/ingress/default/web "$(obj networking.k8s.io/v1beta1 Ingress web default)"
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
hop1 KV406 daemonsets (extensions/v1beta1 DaemonSet)
hop1 KV406 deployments (extensions/v1beta1 Deployment)
hop1 KV503 etcd 3.3.15-0 -> 3.4.3-0
hop3 KV401 AuditSink/audit"
if [ "$(jq -r '[.plan.hops[].to] | join(" ")' "$T/with.json")" = "1.17.17 1.18.20 1.19.3" ] &&
    [ "$got" = "$want" ] && [ "$(cat "$T/with.rc")" = 1 ]; then
    ok "incident 2: KV401/KV403/KV406 on the first hop, AuditSink on the hop into 1.19, no KV305"
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

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
