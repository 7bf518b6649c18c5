#!/usr/bin/env bash
# ctest-label: online
# t_etcd_live.sh - `kubevet etcd` against real etcd 3.4 clusters on 127.0.0.1 (free ports, temp
# data dirs, killed on exit): 1 member, 3 members, TLS with client-certificate auth, the 1 -> 2
# trap, snapshots compared byte for byte with etcdctl's, and restore IDs checked against a real
# `etcdctl snapshot restore`.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_etcd_live.sh
# Prints "ok NAME" / "FAIL NAME: why"; exits 1 on any failure. KEEP_TMP=1 keeps the temp dir.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
. "$KV_SRC/tests/lib/etcd.sh"

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "skip: etcd/etcdctl not installed"
    exit 0
fi
export ETCDCTL_API=3
etcd_setup
etcd_harness

# ---------------------------------------------------------------- 1 member
etcd_cluster A 1 || { echo "FAIL could not start etcd"; exit 1; }
# 50 keys of 2.7 kB in one transaction (one etcdctl process instead of fifty)
{
    printf '\n'
    for i in $(seq 1 50); do
        printf 'put /registry/k%s %s\n' "$i" "$(head -c 2000 /dev/urandom | base64 -w0)"
    done
    printf '\n\n'
} | etcdctl --endpoints "$A_EP" txn >/dev/null
A_ID=$(etcdctl --endpoints "$A_EP" member list -w json | python3 -c \
    'import json,sys; print("%x" % json.load(sys.stdin)["members"][0]["ID"])')

run members-1 0 etcd members --etcd-endpoints "$A_EP" -o json &&
    jqt members-1-json '.etcd.members[0].name == "A1" and .etcd.members[0].id == "'"$A_ID"'"
        and .etcd.verdict == "1 voter, quorum 1, 1 started: can lose 0" and (.findings|length) == 0'

run status-1 0 etcd status --etcd-endpoints "$A_EP" -o json &&
    jqt status-1-json '.etcd.members[0].version == "3.4.23" and .etcd.members[0].is_leader
        and .etcd.members[0].healthy and .etcd.members[0].db_size > 0 and .etcd.alarms_known
        and .etcd.verdict == "1 voter, quorum 1, 1 healthy: can lose 0"'

run status-1-text 0 etcd status --etcd-endpoints "$A_EP" &&
    grep -q "^A1  *$A_ID  *false  *3.4.23 " "$OUT" && ok status-1-text ||
    fail status-1-text "table row"

run kv503-target 1 etcd status --etcd-endpoints "$A_EP" --target 1.26 -o json &&
    jqt kv503-target '[.findings[].id] == ["KV503"]'

# snapshot save: byte-identical to etcdctl, both transports, mode 0600
etcdctl --endpoints "$A_EP" snapshot save "$ETCD_TMP/ref.db" >/dev/null 2>&1
for tr in grpc gateway auto; do
    run "save-$tr" 0 etcd snapshot save "$ETCD_TMP/kv-$tr.db" --transport "$tr" \
        --etcd-endpoints "$A_EP" || continue
    if cmp -s "$ETCD_TMP/kv-$tr.db" "$ETCD_TMP/ref.db" &&
        [ "$(stat -c %a "$ETCD_TMP/kv-$tr.db")" = 600 ] &&
        grep -q "SHA-256 trailer verified" "$OUT"; then
        ok "save-$tr-cmp"
    else
        fail "save-$tr-cmp" "differs from etcdctl snapshot save, or mode not 0600"
    fi
done
run save-json 0 etcd snapshot save "$ETCD_TMP/kv-json.db" --etcd-endpoints "$A_EP" -o json &&
    jqt save-json '.snapshot.size == '"$(stat -c %s "$ETCD_TMP/ref.db")"' and
        .snapshot.revision >= 2 and .snapshot.transport == "grpc-h2"'
run save-unreachable 3 etcd snapshot save "$ETCD_TMP/x.db" --etcd-endpoints http://127.0.0.1:1 &&
    grep -q "127.0.0.1:1" "$ERR" && [ ! -e "$ETCD_TMP/x.db" ] && ok save-unreachable ||
    fail save-unreachable "message or file"

run unreachable 3 etcd status --etcd-endpoints http://127.0.0.1:1 &&
    [ "$(wc -l <"$ERR")" = 1 ] && grep -q "http://127.0.0.1:1" "$ERR" && ok unreachable ||
    fail unreachable "one-line message naming the endpoint"

# the trap, refused before it happens
NEWPEER=http://127.0.0.1:$(etcd_free_port)
run plan-add-voter 1 etcd plan add-member --name A2 --peer-url "$NEWPEER" \
    --etcd-endpoints "$A_EP" -o json &&
    jqt plan-add-voter '.plan.refused and .plan.before.quorum == 1 and .plan.after.quorum == 2
        and ([.findings[].id] | index("KV301")) != null
        and .plan.steps == []
        and (.plan.alternatives | map(test("member add A2 --peer-urls=.* --learner")) | any)
        and (.plan.alternatives | map(test("--initial-cluster-state=existing")) | any)'
run plan-add-text 1 etcd plan add-member --name A2 --peer-url "$NEWPEER" --etcd-endpoints "$A_EP" &&
    grep -q "^Refused: " "$OUT" && ! grep -qE '^[0-9]+\. ' "$OUT" && grep -q -- "--initial-cluster=A1=${A_PEER1},A2=$NEWPEER" "$OUT" &&
    ok plan-add-text ||
    fail plan-add-text "refusal and --initial-cluster line"
run plan-add-learner 0 etcd plan add-member --name A2 --peer-url "$NEWPEER" --learner \
    --etcd-endpoints "$A_EP" -o json && jqt plan-add-learner '.plan.refused == false'

# --apply: the learner add for real; the cluster stays writable. etcd lists members by ID, so
# the order of --initial-cluster entries is not fixed (etcd does not care either).
run plan-add-apply 0 etcd plan add-member --name A2 --peer-url "$NEWPEER" --apply \
    --etcd-endpoints "$A_EP" -o json &&
    jqt plan-add-apply '(.plan.applied.initial_cluster | split(",") | sort) == (["A1='"$A_PEER1"'", "A2='"$NEWPEER"'"] | sort)'
if etcdctl --endpoints "$A_EP" member list | grep -q "unstarted, , $NEWPEER, , true" &&
    timeout 10 etcdctl --endpoints "$A_EP" put after-learner-add 1 >/dev/null; then
    ok learner-added-writable
else
    fail learner-added-writable "member list / put"
fi
run status-learner-stuck 1 etcd status --etcd-endpoints "$A_EP" -o json &&
    jqt status-learner-stuck '([.findings[] | select(.id=="KV301")] | length) == 1 and
        .etcd.verdict == "1 voter + 1 learner, quorum 1, 1 healthy: can lose 0"'

# restore plan: IDs must equal what a real restore derives
run plan-restore 0 etcd plan restore --snapshot "$ETCD_TMP/ref.db" --member "r1=http://127.0.0.1:$(etcd_free_port)" \
    --initial-cluster-token kv-restore -o json
if [ "$RC" = 0 ]; then
    RPEER=$(jq -r '.plan.members[0].peer_url' "$OUT")
    WANT_MID=$(jq -r '.plan.members[0].id' "$OUT")
    WANT_CID=$(jq -r '.plan.cluster_id' "$OUT")
    etcdctl snapshot restore "$ETCD_TMP/ref.db" --name r1 --initial-cluster "r1=$RPEER" \
        --initial-cluster-token kv-restore --initial-advertise-peer-urls "$RPEER" \
        --data-dir "$ETCD_TMP/data-r1" >"$ETCD_TMP/restore.log" 2>&1 ||
        fail restore-ids "etcdctl snapshot restore: $(tail -1 "$ETCD_TMP/restore.log")"
    RC_PORT=$(etcd_free_port)
    etcd_start_member r1 "$RC_PORT" "${RPEER##*:}" "r1=$RPEER" new ""
    etcd_wait_healthy "http://127.0.0.1:$RC_PORT"
    GOT=$(curl -s -XPOST "http://127.0.0.1:$RC_PORT/v3/cluster/member/list" -d '{}' |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("%x %x" % (int(d["members"][0]["ID"]), int(d["header"]["cluster_id"])))')
    if [ "$GOT" = "$WANT_MID $WANT_CID" ]; then
        ok restore-ids
    else
        fail restore-ids "restored etcd has '$GOT', plan said '$WANT_MID $WANT_CID'"
    fi
    etcd_stop_member r1
fi
printf 'garbage' >"$ETCD_TMP/bad.db"
run plan-restore-bad 1 etcd plan restore --snapshot "$ETCD_TMP/bad.db" --member r1=http://127.0.0.1:1 -o json &&
    jqt plan-restore-bad '[.findings[].id] == ["KV305"] and .plan == null'

# ---------------------------------------------------------------- the 1 -> 2 trap, for real
etcd_cluster T 1 || exit 1
TRAP_PEER=http://127.0.0.1:$(etcd_free_port)
etcdctl --endpoints "$T_EP" member add T2 --peer-urls="$TRAP_PEER" >/dev/null 2>&1
run trap-status 1 etcd status --etcd-endpoints "$T_EP" -o json &&
    jqt trap-status '([.findings[] | select(.id=="KV301")] | length) >= 2 and
        (.findings | map(select(.id=="KV301") | .message) | map(test("never started")) | any) and
        (.findings | map(select(.id=="KV301") | .message) | map(test("quorum lost")) | any) and
        .etcd.quorum == 2 and .etcd.healthy_voters < 2'
run trap-remove-plan 1 etcd plan remove-member --id "$(etcdctl --endpoints "$T_EP" member list |
    awk -F', ' '$2=="unstarted"{print $1}')" --etcd-endpoints "$T_EP" -o json &&
    jqt trap-remove-plan '.plan.refused and (.plan.refusal | test("needs quorum")) and
        .plan.steps == [] and (.plan.alternatives | map(test("member remove")) | any | not) and
        (.plan.alternatives | map(test("force-new-cluster")) | any) and
        (.plan.alternatives | map(test("--initial-cluster-state=existing")) | any)'

# ---------------------------------------------------------------- 3 members
etcd_cluster B 3 || exit 1
run status-3 0 etcd status --etcd-endpoints "$B_EP" -o json &&
    jqt status-3 '.etcd.verdict == "3 voters, quorum 2, 3 healthy: can lose 1" and
        ([.etcd.members[] | select(.is_leader)] | length) == 1 and (.findings|length) == 0'
etcd_stop_member B3
run status-3-down 1 etcd status --etcd-endpoints "$B_EP1" -o json &&
    jqt status-3-down '.etcd.verdict == "3 voters, quorum 2, 2 healthy: can lose 0" and
        [.findings[].id] == ["KV302"] and .findings[0].subject == "B3"'
run remove-healthy-refused 1 etcd plan remove-member --name B1 --etcd-endpoints "$B_EP1" -o json &&
    jqt remove-healthy-refused '.plan.refused and .plan.after.voters == 2 and .plan.after.healthy_voters == 1'
run remove-dead-ok 1 etcd plan remove-member --name B3 --etcd-endpoints "$B_EP1" -o json &&
    jqt remove-dead-ok '.plan.refused == false and .plan.after.verdict == "2 voters, quorum 2, 2 healthy: can lose 0"'

# ---------------------------------------------------------------- TLS + client-cert auth
etcd_tls_certs "$ETCD_TMP/certs" || { echo "FAIL openssl"; exit 1; }
etcd_cluster S 1 tls || exit 1
run tls-flags 0 etcd status --etcd-endpoints "$S_EP" --etcd-cacert "$ETCD_CERTS/ca.crt" \
    --etcd-cert "$ETCD_CERTS/client.crt" --etcd-key "$ETCD_CERTS/client.key" -o json &&
    jqt tls-flags '.etcd.members[0].healthy and .etcd.members[0].name == "S1"'
run tls-nocert 3 etcd status --etcd-endpoints "$S_EP" --etcd-cacert "$ETCD_CERTS/ca.crt" \
    --root "$ETCD_TMP/empty-root" && grep -q "$S_EP" "$ERR" &&
    grep -q "no client certificate" "$ERR" && [ "$(wc -l <"$ERR")" = 1 ] && ok tls-nocert ||
    fail tls-nocert "one line naming the endpoint and the missing client certificate"
etcdctl_tls --endpoints "$S_EP" snapshot save "$ETCD_TMP/tls-ref.db" >/dev/null 2>&1
run tls-save 0 etcd snapshot save "$ETCD_TMP/tls-kv.db" --etcd-endpoints "$S_EP" \
    --etcd-cacert "$ETCD_CERTS/ca.crt" --etcd-cert "$ETCD_CERTS/client.crt" \
    --etcd-key "$ETCD_CERTS/client.key" && cmp -s "$ETCD_TMP/tls-kv.db" "$ETCD_TMP/tls-ref.db" &&
    ok tls-save-cmp || fail tls-save-cmp "TLS snapshot differs"

# a kubeadm-like --root: endpoints and client certs from the static pod and pki/etcd
R=$ETCD_TMP/root
mkdir -p "$R/etc/kubernetes/manifests" "$R/etc/kubernetes/pki/etcd"
cp "$ETCD_CERTS/ca.crt" "$R/etc/kubernetes/pki/etcd/ca.crt"
cp "$ETCD_CERTS/client.crt" "$R/etc/kubernetes/pki/etcd/healthcheck-client.crt"
cp "$ETCD_CERTS/client.key" "$R/etc/kubernetes/pki/etcd/healthcheck-client.key"
cat >"$R/etc/kubernetes/manifests/etcd.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=$S_EP
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=$S_PEER1
    - --initial-cluster=S1=$S_PEER1,gone=http://127.0.0.1:9
    - --name=S1
    - --quota-backend-bytes=24000
    image: registry.k8s.io/etcd:3.4.13-0
    name: etcd
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
  volumes:
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
EOF
run root-discovery 1 etcd status --root "$R" -o json &&
    jqt root-discovery '.etcd.endpoint == "'"$S_EP"'" and
        ([.findings[].id] | sort) == ["KV303", "KV306"] and
        (.findings[] | select(.id=="KV303") | .subject) == "etc/kubernetes/manifests/etcd.yaml"'

echo
if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failed"
    exit 1
fi
echo "all passed"
