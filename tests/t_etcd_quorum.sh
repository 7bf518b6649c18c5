#!/usr/bin/env bash
# ctest-label: online
# t_etcd_quorum.sh - the advice `kubevet etcd plan` gives when members are down, against real
# etcd 3.4 clusters on 127.0.0.1 (free ports, temp data dirs, killed on exit): 2 members with one
# stopped (quorum lost), 3 members with one stopped, a 1-member TLS cluster (learner arithmetic,
# TLS error causes), and KV303 on kubeadm's self-only --initial-cluster.
#
# What a refused plan must never print: the refused operation (`member remove`, a voting
# `member add`) or a step that empties a data dir (`--data-dir`, "empty"). Where a plan prints a
# command, the test runs that command (etcdctl) and checks the cluster with etcdctl.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_etcd_quorum.sh
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
JS=$ETCD_TMP/json
# absent NAME REGEX: no line of $OUT matches (grep -E, case-insensitive)
absent() {
    if grep -qiE -- "$2" "$OUT"; then
        fail "$1" "output contains /$2/: $(grep -iE -- "$2" "$OUT" | head -1 | cut -c1-160)"
        return 1
    fi
    ok "$1"
}
present() {
    if ! grep -qE -- "$2" "$OUT"; then
        fail "$1" "output lacks /$2/"
        return 1
    fi
    ok "$1"
}
# refused_text NAME [EXTRA]: the text of a refused plan (the plan engine's renderer) names the
# refusal, prints alternatives, no numbered steps, and nothing that removes a member or sets a data dir (EXTRA: a further forbidden regex)
refused_text() {
    present "$1-refused" '^Refused: ' &&
        present "$1-alternatives" '^What is safe instead:' &&
        absent "$1-no-steps" '^(Steps:|[0-9]+\. )' &&
        absent "$1-no-member-remove" 'member remove' &&
        absent "$1-no-data-dir" "data-dir${2:+|$2}"
}

etcd_tls_certs "$ETCD_TMP/certs" || { echo "FAIL openssl"; exit 1; }
# All clusters start at once; each member is a separate etcd process.
etcd_cluster_start D 2
etcd_cluster_start C 3
etcd_cluster_start S 1 tls
etcd_cluster_wait D 2 && etcd_cluster_wait C 3 && etcd_cluster_wait S 1 tls ||
    { echo "FAIL could not start etcd"; exit 1; }
TLS=(--etcd-cacert "$ETCD_CERTS/ca.crt" --etcd-cert "$ETCD_CERTS/client.crt"
     --etcd-key "$ETCD_CERTS/client.key")
# A value with a terminal escape, for the text-output checks: the screen-clearing CSI 2J.
ESC=$(printf '\033[2J')
etcdctl --endpoints "$C_EP1" put "/registry/configmaps/kube-system/evil$ESC" \
    '{"apiVersion":"v1","kind":"ConfigMap\u001b[2J","metadata":{"name":"evil"}}' >/dev/null
etcdctl --endpoints "$C_EP1" snapshot save "$ETCD_TMP/c.db" >/dev/null 2>&1
etcd_stop_member D2
etcd_stop_member C3
# D1 notices it has lost its peer after an election timeout; judge it after that, as an operator
# would (before, a quorum read still waits for the old leader).
for i in $(seq 1 100); do
    curl -s -m 1 -XPOST "$D_EP1/v3/maintenance/status" -d '{}' | grep -q '"leader"' || break
    sleep 0.1
done

# ---------------------------------------------------------------- 2 members, D2 stopped
for who in D2 D1; do
    run "d-remove-$who" 1 etcd plan remove-member --name "$who" --etcd-endpoints "$D_EP1" -o json &&
        cp "$OUT" "$JS" &&
        jqt "d-remove-$who-json" '.plan.refused and .plan.steps == [] and
            (.plan.refusal | test("0 of 2 voting members are healthy")) and
            (.findings | map(select(.id == "KV301" and .subject == "'"$who"'")) | length) == 1 and
            (.findings[] | select(.id == "KV301" and .subject == "'"$who"'") | .fix |
                test("bring D2 back") and (test("D1 back") | not)) and
            (.plan.alternatives | map(test("member remove|data-dir|empty"; "i")) | any | not) and
            (.plan.alternatives | map(test("rebuild from D1")) | any) and
            (.plan.alternatives | map(test("--force-new-cluster")) | any)'
    run "d-remove-$who-text" 1 etcd plan remove-member --name "$who" --etcd-endpoints "$D_EP1" &&
        refused_text "d-remove-$who-text" 'empty'
done
# the survivor can be snapshotted without quorum, as alternative B's first step says
run d-survivor-snapshot 0 etcd snapshot save "$ETCD_TMP/d1.db" --etcd-endpoints "$D_EP1" &&
    ETCDCTL_API=3 etcdctl snapshot status "$ETCD_TMP/d1.db" >/dev/null 2>&1 &&
    ok d-survivor-snapshot || fail d-survivor-snapshot "snapshot or etcdctl snapshot status"
run d-status 1 etcd status --etcd-endpoints "$D_EP1" -o json &&
    jqt d-status '(.findings | map(select(.id == "KV301")) | map(.message) |
            map(test("only 0 of 2 voting members are healthy")) | any) and
        (.findings | map(select(.id == "KV301")) | map(.fix) | map(test("bring D2 back")) | any) and
        (.findings | map(.fix) | map(test("bring D1|D1, D2 back")) | any | not)'
run d-add-learner 1 etcd plan add-member --name D3 --peer-url "http://127.0.0.1:$(etcd_free_port)" \
    --learner --etcd-endpoints "$D_EP1" &&
    refused_text d-add-learner empty && absent d-add-learner-no-add 'etcdctl[^|]*member add'

# ---------------------------------------------------------------- 3 members, C3 stopped
run c-remove-healthy 1 etcd plan remove-member --name C1 --etcd-endpoints "$C_EP1" -o json &&
    jqt c-remove-healthy '.plan.refused and .plan.steps == [] and
        (.plan.refusal | test("1 of 2 voting members would be healthy")) and
        (.plan.alternatives | map(test("Bring C3 back")) | any) and
        (.plan.alternatives | map(test("member remove|data-dir|empty"; "i")) | any | not)'
run c-remove-healthy-text 1 etcd plan remove-member --name C1 --etcd-endpoints "$C_EP1" &&
    refused_text c-remove-healthy-text empty
run c-add-voter 1 etcd plan add-member --name C4 --peer-url "http://127.0.0.1:$(etcd_free_port)" \
    --etcd-endpoints "$C_EP1" &&
    refused_text c-add-voter && absent c-add-voter-no-voting-add 'member add [^ ]+ --peer-urls=[^ ]+ *$' &&
    present c-add-voter-quorum 'after add: +4 voters, quorum 3, 2 healthy: quorum lost'
# ---------------------------------------------------------------- KV303 on kubeadm's lists
R=$ETCD_TMP/root
mkdir -p "$R/etc/kubernetes/manifests"
pod() { # pod INITIAL_CLUSTER: a kubeadm-shaped etcd.yaml for C1
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
    - --advertise-client-urls=$C_EP1
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=$C_PEER1
    - --initial-cluster=$1
    - --listen-client-urls=$C_EP1
    - --name=C1
    image: registry.k8s.io/etcd:3.4.13-0
    name: etcd
EOF
}
pod "C1=$C_PEER1"
# C3 is down: KV302 for it, nothing else; above all no KV303 (nor KV304) for kubeadm's list
run kv303-self-only 1 etcd status --root "$R" -o json &&
    jqt kv303-self-only '.etcd.endpoint == "'"$C_EP1"'" and [.findings[].id] == ["KV302"]'
# what kubeadm join wrote (a list of the members of that moment, C2 missing): no KV303 either
pod "C1=$C_PEER1,C3=$C_PEER3"
run kv303-join-list 1 etcd status --root "$R" -o json &&
    jqt kv303-join-list '[.findings[].id] == ["KV302"]'
pod "C1=$C_PEER1,gone=http://127.0.0.1:9"
run kv303-removed-member 1 etcd status --root "$R" -o json &&
    jqt kv303-removed-member '[.findings[].id] == ["KV302", "KV303"] and
        .findings[1].severity == "warning" and
        (.findings[1].message | test("gone=http://127.0.0.1:9 is no member"))'
pod "C1=$C_PEER1,C2=http://127.0.0.1:1"
run kv303-wrong-url 1 etcd status --root "$R" -o json &&
    jqt kv303-wrong-url '[.findings[].id] == ["KV302", "KV303"] and
        (.findings[1].message | test("but C2 advertises"))'

# the removal of the stopped member is allowed; its printed command works as printed
C3_ID=$(etcdctl --endpoints "$C_EP1" member list | awk -F', ' '$3=="C3"{print $1}')
run c-remove-down 1 etcd plan remove-member --name C3 --etcd-endpoints "$C_EP1" -o json &&
    cp "$OUT" "$JS" &&
    jqt c-remove-down '.plan.refused == false and
        ([.findings[].id] == ["KV302"]) and
        (.plan.after.verdict == "2 voters, quorum 2, 2 healthy: can lose 0") and
        (.plan.steps | map(test("--cacert|--etcd-cacert")) | any | not) and
        (.plan.steps | map(test("empty"; "i")) | any | not)'
CMD=$(jq -r '.plan.steps[] | select(test("^etcdctl .* member remove "))' "$JS" 2>/dev/null)
case "$CMD" in
"etcdctl --endpoints=$C_EP1,$C_EP2 member remove $C3_ID" | \
    "etcdctl --endpoints=$C_EP2,$C_EP1 member remove $C3_ID")
    if timeout 20 bash -c "$CMD" >/dev/null 2>&1 &&
        [ "$(etcdctl --endpoints "$C_EP1" member list | wc -l)" = 2 ]; then
        ok c-remove-pasted
    else
        fail c-remove-pasted "the printed command failed: $CMD"
    fi
    ;;
*) fail c-remove-pasted "printed command: '$CMD', want the healthy endpoints and $C3_ID" ;;
esac
run c-after-remove 1 etcd status --etcd-endpoints "$C_EP1" -o json &&
    jqt c-after-remove '.etcd.verdict == "2 voters, quorum 2, 2 healthy: can lose 0" and
        [.findings[].id] == ["KV301"] and (.findings[0].message | test("2 voting members"))'

# ---------------------------------------------------------------- 1 member + TLS
NEWPEER=https://127.0.0.1:$(etcd_free_port)
run s-add-learner 0 etcd plan add-member --name S2 --peer-url "$NEWPEER" --learner \
    --etcd-endpoints "$S_EP" "${TLS[@]}" &&
    present s-add-learner-quorum 'after add: +1 voter \+ 1 learner, quorum 1, 1 healthy: can lose 0' &&
    absent s-add-learner-not-lost 'quorum lost' &&
    present s-add-learner-tls "--cacert=$ETCD_CERTS/ca.crt --cert=$ETCD_CERTS/client.crt --key=$ETCD_CERTS/client.key"
run s-add-voter 1 etcd plan add-member --name S2 --peer-url "$NEWPEER" --etcd-endpoints "$S_EP" \
    "${TLS[@]}" &&
    present s-add-voter-grammar 'only 1 voting member is healthy' && refused_text s-add-voter

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other-ca \
    -keyout "$ETCD_TMP/other.key" -out "$ETCD_TMP/other.crt" 2>/dev/null
run tls-wrong-ca 3 etcd status --etcd-endpoints "$S_EP" --etcd-cacert "$ETCD_TMP/other.crt" \
    --etcd-cert "$ETCD_CERTS/client.crt" --etcd-key "$ETCD_CERTS/client.key" &&
    [ "$(wc -l <"$ERR")" = 1 ] && grep -q "CA verification failed" "$ERR" &&
    grep -qF "$ETCD_TMP/other.crt" "$ERR" && ! grep -q "host name" "$ERR" &&
    ok tls-wrong-ca || fail tls-wrong-ca "one line naming the CA check and the CA file"
run tls-wrong-host 3 etcd status --etcd-endpoints "https://127.0.0.2:$S_CPORT1" "${TLS[@]}" &&
    [ "$(wc -l <"$ERR")" = 1 ] && grep -q "host name verification failed" "$ERR" &&
    grep -q "127.0.0.2" "$ERR" && ! grep -q "CA verification" "$ERR" &&
    ok tls-wrong-host || fail tls-wrong-host "one line naming the host name check"

# ---------------------------------------------------------------- control characters
run objects-escaped 0 etcd snapshot objects "$ETCD_TMP/c.db" --target 1.25 &&
    if grep -q "$(printf '\033')" "$OUT"; then
        fail objects-escaped "raw ESC in text output"
    else
        grep -qF 'ConfigMap\x1b[2J' "$OUT" && ok objects-escaped ||
            fail objects-escaped "escaped kind not shown"
    fi

echo
if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failed"
    exit 1
fi
echo "all passed"
