#!/usr/bin/env bash
# ctest-label: online
# t_helm_snapshot.sh - `kubevet helm scan --snapshot`: the Helm records of tests/data/helm
# (tests/lib/helmrec.py) stored in a real etcd 3.4 as kube-apiserver stores them (protobuf
# Secrets/ConfigMaps from tests/lib/helmetcd.py, `etcdctl put`), plus one encrypted-at-rest
# record; `etcdctl snapshot save`; then the snapshot scan must find the same KV405 as the live
# scan of the stand-in seeded with the same records.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
. "$KV_SRC/tests/lib/etcd.sh"
. "$KV_SRC/tests/lib/apiserver.sh"
apiserver_need etcd etcdctl
etcd_setup
apiserver_setup
trap 'apiserver_cleanup; etcd_cleanup' EXIT
apiserver_report

FX=$API_TMP/helmfx
/usr/bin/python3 "$KV_SRC/tests/lib/helmrec.py" "$KV_SRC/tests/data/helm/releases.yaml" "$FX" ||
    { echo "FAIL helmrec.py"; exit 1; }
/usr/bin/python3 "$KV_SRC/tests/lib/helmetcd.py" "$API_TMP/kv" "$FX"/*.yaml ||
    { echo "FAIL helmetcd.py"; exit 1; }

etcd_cluster E 1 || { echo "FAIL etcd did not start"; exit 1; }
put_fail=0
for k in "$API_TMP"/kv/*.key; do
    etcdctl --endpoints "$E_EP" put "$(cat "$k")" <"${k%.key}.val" >/dev/null 2>"$ERR" || put_fail=1
done
# a record encrypted at rest: only its key is readable
printf 'k8s:enc:aescbc:v1:key1:\x01\x02\x03garbage' |
    etcdctl --endpoints "$E_EP" put /registry/secrets/vault/sh.helm.release.v1.secretive.v1 >/dev/null 2>>"$ERR" ||
    put_fail=1
[ $put_fail = 0 ] && ok etcdctl-put || fail etcdctl-put "put"
# etcdctl get must return the bytes unchanged (binary values through stdin)
k1=$(ls "$API_TMP"/kv/*.key | head -1)
etcdctl --endpoints "$E_EP" get "$(cat "$k1")" --print-value-only | head -c "$(stat -c %s "${k1%.key}.val")" |
    cmp -s - "${k1%.key}.val" && ok etcd-value-bytes || fail etcd-value-bytes "value differs"
etcdctl --endpoints "$E_EP" snapshot save "$API_TMP/snap.db" >"$OUT" 2>"$ERR" && ok snapshot-save ||
    fail snapshot-save "etcdctl"

"$KUBEVET" helm scan --snapshot "$API_TMP/snap.db" --target 1.25 -o json >"$OUT" 2>"$ERR"
rc=$?
[ $rc = 1 ] && ok snapshot-exit-1 || fail snapshot-exit-1 "exit $rc"
cp "$OUT" "$API_TMP/snap.json"
check snapshot-encrypted '.releases[] | select(.name == "secretive") |
    .encrypted == "aescbc:v1:key1" and .namespace == "vault" and (.notes[0] | test("encrypted at rest"))'

# the live scan of the same records
apiserver_pki || { echo "FAIL could not make the PKI"; exit 1; }
apiserver_start A --version v1.24.17 "$FX" || { echo "FAIL stand-in did not start"; exit 1; }
apiserver_kubeconfig A "$API_TMP/admin.conf" cert admin
"$KUBEVET" helm scan -A --kubeconfig "$API_TMP/admin.conf" --target 1.25 -o json >"$API_TMP/live.json" 2>"$ERR"
# same findings: id, subject, objects (id, kind, name, apiVersion, file, line), notes
norm='[.findings[] | {id, subject, notes, objects: [.objects[] | {id, kind, object_name, api_version, file, line}]}]'
if [ "$(jq -S "$norm" "$API_TMP/snap.json")" = "$(jq -S "$norm" "$API_TMP/live.json")" ] &&
    [ "$(jq '.findings | length' "$API_TMP/live.json")" -ge 6 ]; then
    ok snapshot-equals-live
else
    diff <(jq -S "$norm" "$API_TMP/snap.json") <(jq -S "$norm" "$API_TMP/live.json") >"$OUT"
    fail snapshot-equals-live "diff"
fi
"$KUBEVET" helm scan --snapshot "$API_TMP/snap.db" --tiller-namespace tiller-sec --target 1.25 -o json >"$OUT" 2>"$ERR"
check snapshot-tiller-namespace '[.findings[] | .subject] | index("release vault-ui (namespace security, revision 1, helm v2)") != null'
"$KUBEVET" helm scan --snapshot "$API_TMP/nonexistent.db" --target 1.25 >"$OUT" 2>"$ERR"
rc=$?
[ $rc = 3 ] && [ "$(wc -l <"$ERR")" = 1 ] && ok snapshot-missing-exit-3 || fail snapshot-missing-exit-3 "exit $rc"
[ $FAILS = 0 ] || exit 1
