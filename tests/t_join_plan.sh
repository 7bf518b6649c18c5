#!/usr/bin/env bash
# ctest-label: online
# t_join_plan.sh - `kubevet join plan` on incident 3 (INCIDENTS.md) against the API stand-in
# (tests/data/clusters/incident3-v1.23, re-dated at test time where a case needs it) and a real
# etcd (tests/lib/etcd.sh):
#   - the fixture's kubeadm-certs values were encrypted with CERTIFICATE_KEY by
#     tests/data/clusters/mkclusters.py (python3-cryptography); tests/lib/kubeadm_certs.py
#     encrypts a fresh Secret with a key the test picks (same primitive, not kubevet's code);
#   - right key with a live owner token: no KV207; wrong key: KV207 "does not decrypt"; the
#     fixture's expired owner token: KV207 with the exact upload-certs step;
#   - a one-member etcd (real): the voting join is KV301, refused, with the learner steps;
#     a two-member etcd: no KV301 and the exact kubeadm join command;
#   - --discovery-token-ca-cert-hash equals the openssl CLI's sha256 of the CA's DER public key;
#   - no secret that was not given is printed (token secret, certificate key);
#   - certSANs that name the masters but not the new one: KV204;
#   - incident 5's cluster (no controlPlaneEndpoint): a control-plane join is KV203, refused.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_join_plan.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
CLUSTERS=$KV_SRC/tests/data/clusters
FAILS=0
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    FAILS=$((FAILS + 1))
}
if [ ! -f "$KV_SRC/tests/lib/apiserver.sh" ] || [ ! -d "$CLUSTERS/incident3-v1.23" ]; then
    echo "skip: the API stand-in or tests/data/clusters is not in this checkout"
    exit 0
fi
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "skip: etcd/etcdctl not installed"
    exit 0
fi
. "$KV_SRC/tests/lib/apiserver.sh"
. "$KV_SRC/tests/lib/etcd.sh"
apiserver_setup
etcd_setup
T=$API_TMP
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
export HOME=$T/nohome
KEY=$(sed -n 's/^CERTIFICATE_KEY=//p' "$CLUSTERS/incident3-v1.23/cluster.env")
WRONG=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

# cluster variants
cp -r "$CLUSTERS/incident3-v1.23" "$T/expired"
cp -r "$CLUSTERS/incident3-v1.23" "$T/live"
sed -i "s/expiration: '{{now-50m}}'/expiration: '{{now+1h}}'/" "$T/live/tokens.yaml"

# join NAME CLUSTER [args]: json to $T/NAME.json, text to $T/NAME.txt
join() {
    local name=$1 cluster=$2
    shift 2
    apiserver_start API "$cluster" || { fail "$name" stand-in; return 1; }
    apiserver_kubeconfig API "$T/k.conf" cert admin
    timeout 60 "$KUBEVET" join plan --kubeconfig "$T/k.conf" "$@" -o json >"$T/$name.json" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
    timeout 60 "$KUBEVET" join plan --kubeconfig "$T/k.conf" "$@" >"$T/$name.txt" 2>&1
    apiserver_stop API
}
ids() { jq -r '.findings[] | .id + " " + .subject' "$1" | sort | tr '\n' ';'; }

# master-3 joins the "live" cluster as a second control-plane Node (stacked etcd: 2 members)
/usr/bin/python3 - "$T/live/nodes.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
m1 = next(d for d in docs if "name: master-1\n" in d)
docs.append(m1.replace("master-1", "master-3").replace("10.0.0.11", "10.0.0.13"))
open(p, "w").write("\n---\n".join(docs) + "\n")
PY
# etcd members named as the control-plane Nodes, so KV304 matches them
start_etcd() { # VAR MEMBER...: one cluster, client URLs in VAR
    local var=$1 ic="" m eps=""
    shift
    declare -A cp pp
    for m in "$@"; do
        cp[$m]=$(etcd_free_port)
        pp[$m]=$(etcd_free_port)
        ic="$ic${ic:+,}$m=http://127.0.0.1:${pp[$m]}"
        eps="$eps${eps:+,}http://127.0.0.1:${cp[$m]}"
    done
    for m in "$@"; do
        etcd --name "$m" --data-dir "$ETCD_TMP/data-$var-$m" \
            --listen-client-urls "http://127.0.0.1:${cp[$m]}" \
            --advertise-client-urls "http://127.0.0.1:${cp[$m]}" \
            --listen-peer-urls "http://127.0.0.1:${pp[$m]}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${pp[$m]}" \
            --initial-cluster "$ic" --initial-cluster-state new --initial-cluster-token "kv-$var" \
            >"$ETCD_TMP/log-$var-$m" 2>&1 &
        ETCD_PIDS+=($!)
    done
    for m in "$@"; do etcd_wait_healthy "http://127.0.0.1:${cp[$m]}" || return 1; done
    printf -v "$var" '%s' "$eps"
}
start_etcd ONE_EP master-1 || { echo "FAIL etcd"; exit 1; }
start_etcd TWO_EP master-1 master-3 || { echo "FAIL etcd 2"; exit 1; }

# ---- certificate key
join right "$T/live" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$KEY" \
    --etcd-endpoints "$TWO_EP"
if [ "$(ids "$T/right.json")" = "" ] && [ "$(cat "$T/right.rc")" = 0 ] &&
    grep -q "^  kubeadm join k8s-api.example.internal:6443 --token <token> --discovery-token-ca-cert-hash sha256:[0-9a-f]\{64\} --control-plane --certificate-key $KEY --apiserver-advertise-address 10.0.0.12 --node-name master-2$" "$T/right.txt"; then
    ok "right key, live owner token, 2-member etcd: no finding, the exact join command"
else fail "right key" "rc $(cat "$T/right.rc") [$(ids "$T/right.json")] $(grep -A1 'run on' "$T/right.txt")"; fi
join wrong "$T/live" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$WRONG" \
    --etcd-endpoints "$TWO_EP"
if [ "$(ids "$T/wrong.json")" = "KV207 Secret/kube-system/kubeadm-certs;" ] &&
    jq -e '.findings[0] | (.message | test("does not decrypt")) and (.fix | test("kubeadm init phase upload-certs --upload-certs"))' \
        "$T/wrong.json" >/dev/null; then
    ok "wrong key: KV207 with the upload-certs step"
else fail "wrong key" "$(ids "$T/wrong.json")"; fi
join expired "$T/expired" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$KEY" \
    --etcd-endpoints "$TWO_EP"
if ids "$T/expired.json" | grep -q "KV207 Secret/kube-system/kubeadm-certs" &&
    jq -e '[.findings[] | select(.subject == "Secret/kube-system/kubeadm-certs") | .fix] | any(test("upload-certs --upload-certs"))' \
        "$T/expired.json" >/dev/null; then
    ok "expired owner token: KV207 on kubeadm-certs"
else fail "expired owner" "$(ids "$T/expired.json")"; fi

# a Secret the test encrypts itself, with a key it picks
NEWKEY=$(openssl rand -hex 32)
cp -r "$T/live" "$T/fresh"
/usr/bin/python3 - "$T/fresh/tokens.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
open(p, "w").write("\n---\n".join(d for d in docs if "name: kubeadm-certs" not in d) + "\n")
PY
if "$KV_SRC/tests/lib/kubeadm_certs.py" "$NEWKEY" q7v2lm 5c1e4c8e-0b7a-4f43-9e3e-3b2f1d0c9a11 \
    '{{now-10m}}' >"$T/fresh/certs.yaml"; then
    join fresh "$T/fresh" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$NEWKEY" \
        --etcd-endpoints "$TWO_EP"
    join fresh_old "$T/fresh" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$KEY" \
        --etcd-endpoints "$TWO_EP"
    if [ "$(ids "$T/fresh.json")" = "" ] && ids "$T/fresh_old.json" | grep -q KV207; then
        ok "a Secret encrypted by the test helper: its key decrypts, the fixture's key does not"
    else fail "fresh secret" "[$(ids "$T/fresh.json")] [$(ids "$T/fresh_old.json")]"; fi
else
    echo "skip: python3-cryptography missing, no fresh kubeadm-certs Secret"
fi

# ---- etcd: the 1 -> 2 trap on a real one-member etcd
join one "$T/live" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$KEY" \
    --etcd-endpoints "$ONE_EP"
if [ "$(ids "$T/one.json")" = "KV301 master-2;" ] && [ "$(cat "$T/one.rc")" = 1 ] &&
    [ "$(jq -r '.join.command' "$T/one.json")" = null ] &&
    [ "$(jq -r '.join.etcd_members_before, .join.etcd_members_after' "$T/one.json" | tr '\n' ' ')" = "1 2 " ] &&
    jq -e '.join.before | any(test("member add master-2 --peer-urls=https://10.0.0.12:2380 --learner"))' \
        "$T/one.json" >/dev/null &&
    jq -e '.join.before | any(test("member promote"))' "$T/one.json" >/dev/null &&
    ! grep -q "^  kubeadm join" "$T/one.txt" && grep -q "^refused: KV301" "$T/one.txt"; then
    ok "one-member etcd: voting join is KV301, refused, learner steps (add --learner, promote)"
else fail "one member" "rc $(cat "$T/one.rc") [$(ids "$T/one.json")] $(jq -c .join.before "$T/one.json" | head -c 300)"; fi

# ---- discovery hash against the openssl CLI; no secret printed that was not given
base64 -d <<<"$(sed -n 's/^CA_DATA=//p' "$CLUSTERS/incident3-v1.23/cluster.env")" >"$T/ca.crt"
want="sha256:$(openssl x509 -in "$T/ca.crt" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)"
got=$(jq -r .join.discovery_token_ca_cert_hash "$T/right.json")
[ "$got" = "$want" ] && ok "discovery hash = openssl's sha256 of the DER public key" ||
    fail hash "got $got want $want"
if ! grep -q "0123456789abcdef\|c2x8r1k9w3p0z6ya" "$T/right.txt" "$T/right.json" &&
    grep -q "bootstrap token abcdef" "$T/right.txt"; then
    ok "token secret never printed when not given (placeholder names the token id)"
else fail "secret printed" "$(grep -n 0123456789abcdef "$T/right.txt" | head -2)"; fi
join worker "$T/live" --token abcdef.0123456789abcdef
if grep -q -- "--token abcdef.0123456789abcdef " "$T/worker.txt" && ! grep -q -- "--certificate-key\|$KEY" "$T/worker.txt" &&
    [ "$(ids "$T/worker.json")" = "" ]; then
    ok "worker join with a given token: token printed, no certificate key"
else fail "worker" "[$(ids "$T/worker.json")] $(grep -A1 'run on' "$T/worker.txt")"; fi
join cpnokey "$T/live" --control-plane --name master-2 --address 10.0.0.12 --etcd-endpoints "$TWO_EP"
if grep -q -- "--certificate-key <certificate-key>" "$T/cpnokey.txt" && ! grep -q "$KEY" "$T/cpnokey.txt" &&
    grep -q "<certificate-key>: on a control-plane node, right before the join: kubeadm init phase upload-certs --upload-certs" "$T/cpnokey.txt"; then
    ok "no --certificate-key: placeholder and how to get it"
else fail "no key" "$(grep -n certificate-key "$T/cpnokey.txt")"; fi
join badtoken "$T/live" --token abcdef.0123456789abcdeX
[ "$(cat "$T/badtoken.rc")" = 2 ] && ok "malformed --token: exit 2" || fail "bad token" "rc $(cat "$T/badtoken.rc")"
join gone "$T/live" --token zzzzzz.0123456789abcdef
ids "$T/gone.json" | grep -q "KV207 Secret/kube-system/bootstrap-token-zzzzzz" && ok "unknown token: KV207" ||
    fail "unknown token" "$(ids "$T/gone.json")"

# ---- certSANs that list the masters must list the new one
cp -r "$T/live" "$T/sans"
sed -i 's/certSANs:\\n  - k8s-api.example.internal/certSANs:\\n  - k8s-api.example.internal\\n  - master-1\\n  - 10.0.0.11/' "$T/sans/kubeadm.yaml"
join sans "$T/sans" --control-plane --name master-2 --address 10.0.0.12 --certificate-key "$KEY" \
    --etcd-endpoints "$TWO_EP"
if [ "$(ids "$T/sans.json")" = "KV204 ConfigMap/kube-system/kubeadm-config;" ] &&
    jq -e '.findings[0].fix | test("add master-2, 10.0.0.12 under")' "$T/sans.json" >/dev/null; then
    ok "certSANs naming the masters but not the new one: KV204"
else fail "certSANs" "$(ids "$T/sans.json") $(grep -o 'certSANs[^a-z]*[^\\]*' "$T/sans/kubeadm.yaml")"; fi

# ---- incident 5: no controlPlaneEndpoint
join noep "$CLUSTERS/incident5-v1.17" --control-plane --name master-4 --address 10.0.0.14
if jq -e '.findings[] | select(.id == "KV203" and .severity == "critical")' "$T/noep.json" >/dev/null &&
    [ "$(jq -r .join.command "$T/noep.json")" = null ]; then
    ok "no controlPlaneEndpoint: KV203, refused"
else fail "KV203" "$(ids "$T/noep.json")"; fi

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
