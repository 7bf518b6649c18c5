#!/usr/bin/env bash
# t_upgrade_releases.sh - data/releases.yaml against kubeadm's own constants for a sample of
# releases, read with an independent YAML reader (python3-yaml), and through kubevet (the etcd of
# each hop in `upgrade plan -o json`, the date in `kubevet version`).
#
# The expected values below were written down from upstream kubernetes source files:
#  - cmd/kubeadm/app/constants/constants.go of kubeadm 1.10 (MinimumControlPlaneVersion v1.9.0):
#      SupportedEtcdVersion = {9: "3.1.12", 10: "3.1.12", 11: "3.1.12"}   -> 1.10 deploys 3.1.12
#  - the same file of kubeadm 1.13 (MinimumControlPlaneVersion v1.12.0, DefaultEtcdVersion 3.2.24):
#      {10: "3.1.12", 11: "3.2.18", 12: "3.2.24", 13: "3.2.24"}
#  - cmd/kubeadm/app/phases/upgrade (policy/plan tests, kubeadm 1.22 line), TestGetSuggestedEtcdVersion:
#      {17: "3.4.3-0", 18: "3.4.3-0", 19: "3.4.13-0", 20: "3.4.13-0", 21: "3.4.13-0"}
#  - constants.go of kubeadm 1.34 (later patches): {31: "3.5.24-0", 32: "3.5.24-0", 33: "3.5.24-0"}
#  - the etcd bump of the 1.36 line (DefaultEtcdVersion 3.6.9-0): {34, 35, 36: "3.6.9-0"}
# and, per release branch, the constants.go changes of kubernetes/kubernetes pull requests (the
# diffs of SupportedEtcdVersion in the cherry-picks, merged or closed unmerged):
#  - release-1.22: moved to etcd 3.5.6 (#113101's closing note)                 -> 1.22 3.5.6-0
#  - release-1.26, release-1.27: 3.5.10 picks #121803, #121804 merged; 3.5.12/3.5.13 for 1.27
#    (#123197, #124788) closed                                                 -> 3.5.10-0
#  - release-1.28: 3.5.15 pick #126399 sets {22..28: "3.5.15-0"}                  -> 1.28 3.5.15-0
#  - release-1.30: 3.5.15 pick #126395 {28, 29, 30, 31: "3.5.15-0"}; 3.5.16 #127953 closed
#                                                                                -> 1.30 3.5.15-0
#  - release-1.31..1.33: 3.5.24 picks #135020, #135019, #135018                -> 3.5.24-0
# Newest patches: CHANGELOG/CHANGELOG-1.34.md tops at v1.34.3; CHANGELOG-1.38.md (v1.38.0-alpha.1)
# counts from v1.37.0, so 1.37 is released and is the newest minor.
# The kubeadm-config and annotation facts: ClusterStatus in kubeadm 1.12-1.21 and the cri-socket
# annotation read by upgrades 1.13-1.33 (FORMATS.md), v1beta3 from 1.22, v1beta4 from 1.31.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_upgrade_releases.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
FAILS=0
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    FAILS=$((FAILS + 1))
}
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    echo "skip: /usr/bin/python3 lacks yaml (python3-yaml)"
    exit 0
fi
out=$(/usr/bin/python3 - "$KV_SRC/data/releases.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
rows = {r["minor"]: r for r in d["releases"]}
upstream_etcd = {
    "1.10": "3.1.12", "1.16": "3.3.15-0",
    "1.11": "3.2.18", "1.12": "3.2.24", "1.13": "3.2.24",
    "1.17": "3.4.3-0", "1.18": "3.4.3-0", "1.19": "3.4.13-0", "1.20": "3.4.13-0", "1.21": "3.4.13-0",
    "1.22": "3.5.6-0", "1.26": "3.5.10-0", "1.27": "3.5.10-0", "1.28": "3.5.15-0", "1.30": "3.5.15-0",
    "1.31": "3.5.24-0", "1.32": "3.5.24-0", "1.33": "3.5.24-0",
    "1.34": "3.6.9-0", "1.35": "3.6.9-0", "1.36": "3.6.9-0",
}
bad = []
for m, e in upstream_etcd.items():
    if rows.get(m, {}).get("etcd") != e:
        bad.append("%s etcd %s != upstream %s" % (m, rows.get(m, {}).get("etcd"), e))
minors = [int(m.split(".")[1]) for m in rows]
if minors != list(range(9, 38)):
    bad.append("minors not 1.9..1.37 in order: %s" % minors)
# newest patches known to exist upstream: the data may not be older
for m, p in {"1.34": 3, "1.37": 0}.items():
    if m not in rows or int(str(rows[m]["newest"]).split(".")[2]) < p:
        bad.append("%s newest %s older than upstream 1.%s.%d" % (m, rows.get(m, {}).get("newest"), m[2:], p))
for m, r in rows.items():
    n = int(m.split(".")[1])
    if not str(r["newest"]).startswith(m + "."):
        bad.append("%s newest %s" % (m, r["newest"]))
    if r["cluster-status"] != (12 <= n <= 21):
        bad.append("%s cluster-status" % m)
    if r["cri-socket"] != (13 <= n <= 33):
        bad.append("%s cri-socket" % m)
    cfg = r["kubeadm-config"]
    if ("v1beta3" in cfg) != (n >= 22) or ("v1beta4" in cfg) != (n >= 31):
        bad.append("%s kubeadm-config %s" % (m, cfg))
sk = d["skew"]
if (sk["kubelet-older"], sk["kubelet-older-legacy"], sk["kubectl"]) != (3, 2, 1):
    bad.append("skew %s" % sk)
print("\n".join(bad) if bad else "OK %s" % d["updated"])
PY
)
case $out in
OK*) ok "release data matches the sampled kubeadm constants" ;;
*) fail "release data" "$out" ;;
esac
updated=${out#OK }

"$KUBEVET" version | grep -q "^release data: updated $updated, newest release 1.37" &&
    ok "kubevet version prints the data's date" || fail version "$("$KUBEVET" version)"
[ "$("$KUBEVET" version -o json | jq -r .release_data.updated)" = "$updated" ] &&
    ok "version -o json: release_data.updated" || fail "version json" ""

# The etcd of each hop as kubevet reads the compiled-in data: 1.16 -> 1.22.
"$KUBEVET" upgrade plan --from 1.16.7 --to 1.22.17 -o json >/tmp/kv-rel.$$ 2>/dev/null
got=$(jq -r '[.plan.hops[] | .to + "=" + .etcd] | join(" ")' /tmp/kv-rel.$$)
rm -f /tmp/kv-rel.$$
want="1.17.17=3.4.3-0 1.18.20=3.4.3-0 1.19.16=3.4.13-0 1.20.15=3.4.13-0 1.21.14=3.4.13-0 1.22.17=3.5.6-0"
[ "$got" = "$want" ] && ok "hops 1.16 -> 1.22 carry kubeadm's etcd" || fail "hop etcd" "$got"
# ... and 1.25 -> 1.31, where kubeadm's cherry-picks moved etcd per branch (1.29 is ahead of
# 1.30: kubeadm never downgrades etcd, so the hop into 1.30 keeps 3.5.16-0)
"$KUBEVET" upgrade plan --from 1.25.16 --to 1.31 -o json >/tmp/kv-rel.$$ 2>/dev/null
got=$(jq -r '[.plan.hops[] | .to + "=" + .etcd] | join(" ")' /tmp/kv-rel.$$)
rm -f /tmp/kv-rel.$$
want="1.26.15=3.5.10-0 1.27.16=3.5.10-0 1.28.15=3.5.15-0 1.29.15=3.5.16-0 1.30.14=3.5.16-0 1.31.14=3.5.24-0"
[ "$got" = "$want" ] && ok "hops 1.25 -> 1.31 carry each branch's etcd" || fail "hop etcd 1.25" "$got"
"$KUBEVET" upgrade plan --from 1.36.4 --to 1.37 -o json >/tmp/kv-rel.$$ 2>/dev/null
got=$(jq -r '[.plan.hops[] | .to + "=" + .etcd] | join(" ")' /tmp/kv-rel.$$)
rm -f /tmp/kv-rel.$$
[ "$got" = "1.37.0=3.7.0-0" ] && ok "--to 1.37: the newest minor, etcd 3.7" || fail "1.37" "$got"

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
