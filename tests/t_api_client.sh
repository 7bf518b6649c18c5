#!/usr/bin/env bash
# ctest-label: online
# t_api_client.sh - kubevet's Kubernetes API client against the API stand-in (tests/apiserver/):
# where the configuration comes from (--kubeconfig, KUBECONFIG with two merged files,
# ~/.kube/config, the in-cluster service account), every way to log in (client certificate as
# data and as relative files, token, tokenFile, exec plugin with its cache), TLS failures (wrong
# CA, wrong host name), 401, 403, timeouts, 429 then success, pagination over 3 pages, a 410
# Expired continue token, and a found-but-stale kubeconfig that must not stop the node source.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_api_client.sh
# Prints "ok NAME" / "FAIL NAME: why"; exits 1 on any failure. KEEP_TMP=1 keeps the temp dir.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
KUBEVET=$(cd "$(dirname "$KUBEVET")" && pwd)/$(basename "$KUBEVET")
if [ ! -f "$KV_SRC/tests/lib/apiserver.sh" ]; then
    echo "skip: tests/lib/apiserver.sh (the API stand-in) is not in this checkout"
    exit 0
fi
. "$KV_SRC/tests/lib/apiserver.sh"
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    echo "skip: /usr/bin/python3 with PyYAML is needed for the API stand-in"
    exit 0
fi
apiserver_setup
apiserver_pki || { echo "FAIL could not make the test PKI"; exit 1; }
T=$API_TMP
OUT=$T/out
ERR=$T/err
FAILS=0
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT KUBEVET_SA_DIR
export HOME=$T/nohome
EMPTY=$T/empty
mkdir -p "$EMPTY"

ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$OUT" "$ERR" 2>/dev/null | head -30
    FAILS=$((FAILS + 1))
}
# run NAME WANT_RC [env...] -- kubevet-args...: WANT_RC "ok" means 0 or 1 (a report, no error)
run() {
    local name=$1 want=$2 envs=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    env "${envs[@]}" timeout 60 "$KUBEVET" "$@" >"$OUT" 2>"$ERR"
    RC=$?
    if [ "$want" = ok ] && { [ "$RC" = 0 ] || [ "$RC" = 1 ]; }; then
        return 0
    fi
    if [ "$RC" != "$want" ]; then
        fail "$name" "exit $RC, want $want"
        return 1
    fi
    return 0
}
jqt() {
    if [ "$(jq -r "$2" "$OUT" 2>/dev/null)" != true ]; then
        fail "$1" "jq: $2"
        return 1
    fi
    ok "$1"
}
errhas() {
    local name=$1
    shift
    for s in "$@"; do
        if ! grep -qF -- "$s" "$ERR"; then
            fail "$name" "stderr lacks: $s"
            return 1
        fi
    done
    if [ "$(wc -l <"$ERR")" -gt 3 ]; then
        fail "$name" "more than 3 lines on stderr"
        return 1
    fi
    ok "$name"
}
# requests NAME JQ: the stand-in's request log (one JSON object a line) as an array
requests() { jq -rs "$2" "$T/$1.requests"; }

# A small healthy cluster: one control-plane node with the annotation, the rotation binding.
FX=$T/fx
mkdir -p "$FX"
cat >"$FX/cluster.yaml" <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: cp-1
  labels: {node-role.kubernetes.io/control-plane: ""}
  annotations: {kubeadm.alpha.kubernetes.io/cri-socket: unix:///var/run/containerd/containerd.sock}
status:
  nodeInfo: {kubeletVersion: v1.31.2, containerRuntimeVersion: containerd://1.7.2}
  addresses: [{type: InternalIP, address: 10.0.0.11}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeadm:node-autoapprove-certificate-rotation}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole,
          name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes}]
EOF
apiserver_start API --version v1.31.2 --deny viewer:list:nodes "$FX" ||
    { echo "FAIL could not start the stand-in"; exit 1; }
apiserver_kubeconfig API "$T/admin.conf" cert
apiserver_kubeconfig API "$T/token.conf" token admin
apiserver_kubeconfig API "$T/viewer.conf" cert viewer
CA64=$(base64 -w0 <"$API_PKI/ca.crt")

# kc FILE SERVER USER-YAML [CLUSTER-EXTRA-YAML]: a one-context kubeconfig
kc() {
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters:
- name: k
  cluster:
    server: $2
${4:-    certificate-authority-data: $CA64}
users:
- name: u
  user:
$3
EOF
}

# ---------------------------------------------------------------- authentication
run cert ok -- check --root "$EMPTY" --kubeconfig "$T/admin.conf" -o json &&
    jqt "client certificate (data)" '.sources.api.used and (.sources.api.detail | contains("'"$API_URL"'"))'

mkdir -p "$T/rel/pki"
cp "$API_PKI/admin.crt" "$API_PKI/admin.key" "$API_PKI/ca.crt" "$T/rel/pki/"
kc "$T/rel/kubeconfig" "$API_URL" "    client-certificate: pki/admin.crt
    client-key: pki/admin.key" "    certificate-authority: pki/ca.crt"
(cd / && run relfiles ok -- check --root "$EMPTY" --kubeconfig "$T/rel/kubeconfig" -o json) &&
    jqt "client certificate + CA as paths relative to the kubeconfig" '.sources.api.used'

run token ok -- check --root "$EMPTY" --kubeconfig "$T/token.conf" -o json &&
    jqt "bearer token" '.sources.api.used'

printf 'admin-token\n' >"$T/rel/tok"
kc "$T/rel/tokfile.conf" "$API_URL" "    tokenFile: tok"
run tokenfile ok -- check --root "$EMPTY" --kubeconfig "$T/rel/tokfile.conf" -o json &&
    jqt "tokenFile (relative)" '.sources.api.used'

cat >"$T/rel/plugin.sh" <<'EOF'
#!/bin/sh
echo "$*" >>"$COUNT_FILE"
printf '%s' "$KUBERNETES_EXEC_INFO" >"$COUNT_FILE.info"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"admin-token","expirationTimestamp":"%s"}}\n' "$EXPIRES"
EOF
chmod +x "$T/rel/plugin.sh"
for exp in 2099-01-01T00:00:00Z 2001-01-01T00:00:00Z; do
    rm -f "$T/count"
    kc "$T/rel/exec.conf" "$API_URL" "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      args: [--cluster, test]
      env: [{name: COUNT_FILE, value: $T/count}, {name: EXPIRES, value: $exp}]
      interactiveMode: Never"
    run "exec $exp" ok -- check --root "$EMPTY" --kubeconfig "$T/rel/exec.conf" -o json || continue
    n=$(wc -l <"$T/count")
    if [ "$exp" = 2099-01-01T00:00:00Z ]; then
        [ "$n" = 1 ] && grep -qx -- "--cluster test" "$T/count" &&
            [ "$(jq -r '.kind + " " + .apiVersion + " " + (.spec.interactive|tostring)' "$T/count.info")" = \
                "ExecCredential client.authentication.k8s.io/v1 false" ] &&
            ok "exec plugin: args, env, KUBERNETES_EXEC_INFO, run once (cached until expiry)" ||
            fail "exec plugin cached" "ran $n times; $(cat "$T/count.info")"
    else
        [ "$n" -gt 1 ] && ok "exec plugin: an expired credential is fetched again ($n runs)" ||
            fail "exec plugin expired" "ran $n times"
    fi
done

# ---------------------------------------------------------------- requests (the unit binary)
TEST_K8S=${KV_BUILD:-$KV_SRC/build}/tests/test_k8s
if [ -x "$TEST_K8S" ]; then
    apiserver_admin API POST /_standin/faults '{"drop_request":[1],"fail_write":[1]}' >/dev/null
    : >"$T/API.requests"
    if KV_K8S_TEST_KUBECONFIG="$T/admin.conf" KV_K8S_FAIL_FIRST_WRITE=1 "$TEST_K8S" \
        >"$OUT" 2>"$ERR" && cat "$OUT" "$ERR" | grep -q "PASSED" &&
        grep -q '^\[       OK \] test_online$' "$OUT"; then
        log=$(requests API '[.[] | select(.path | startswith("/api/v1/namespaces/default")) |
            .method + " " + (.code|tostring) + (if .dropped then " dropped" else "" end)] | join(",")')
        case "$log" in
        "GET 0 dropped,GET 200,POST 500,POST 201,PUT 200,PUT 409,PATCH 200,GET 200,"*)
            ok "GET retried after a dropped connection; POST 500 not retried; PUT at resourceVersion, 409 Conflict; merge PATCH; selectors" ;;
        *) fail "requests" "request log: $log" ;;
        esac
    else
        fail "requests" "test_k8s against the stand-in"
    fi
    apiserver_admin API POST /_standin/reset >/dev/null
else
    echo "skip requests: $TEST_K8S not built"
fi

# ---------------------------------------------------------------- TLS failures
mkdir -p "$T/other"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other/ca.key" -out "$T/other/ca.crt" \
    -days 2 -subj "/CN=other-ca" 2>/dev/null
kc "$T/wrongca.conf" "$API_URL" "    token: admin-token" \
    "    certificate-authority-data: $(base64 -w0 <"$T/other/ca.crt")"
run "wrong CA" 3 -- check --root "$EMPTY" --kubeconfig "$T/wrongca.conf" &&
    errhas "wrong CA: exit 3 naming the server and the CA tried" "$API_URL" "x509" \
        "certificate-authority-data of cluster \"k\" in $T/wrongca.conf"
kc "$T/wrongcafile.conf" "$API_URL" "    token: admin-token" \
    "    certificate-authority: $T/other/ca.crt"
run "wrong CA file" 3 -- check --root "$EMPTY" --kubeconfig "$T/wrongcafile.conf" &&
    errhas "wrong CA file: names the file" "$T/other/ca.crt" "unknown authority"
kc "$T/sni.conf" "$API_URL" "    token: admin-token" "    certificate-authority-data: $CA64
    tls-server-name: wrong.example.com"
run "host name" 3 -- check --root "$EMPTY" --kubeconfig "$T/sni.conf" &&
    errhas "wrong host name: says the host name failed, not the CA" "wrong.example.com" "host name"
kc "$T/sni-ok.conf" "$API_URL" "    token: admin-token" "    certificate-authority-data: $CA64
    tls-server-name: kubernetes"
run "tls-server-name" ok -- check --root "$EMPTY" --kubeconfig "$T/sni-ok.conf" -o json &&
    jqt "tls-server-name verifies the certificate for that name" '.sources.api.used'
kc "$T/insecure.conf" "$API_URL" "    token: admin-token" "    insecure-skip-tls-verify: true"
run "insecure" ok -- check --root "$EMPTY" --kubeconfig "$T/insecure.conf" -o json &&
    jqt "insecure-skip-tls-verify when the kubeconfig says so" '.sources.api.used'

# ---------------------------------------------------------------- 401, 403
kc "$T/badtoken.conf" "$API_URL" "    token: not-a-token"
run 401 3 -- check --root "$EMPTY" --kubeconfig "$T/badtoken.conf" &&
    errhas "401: exit 3 naming the server and the user" "$API_URL" "401 Unauthorized" 'user "u"'
run 403 3 -- check --root "$EMPTY" --kubeconfig "$T/viewer.conf" &&
    errhas "403: exit 3 naming the user" "$API_URL" "403 Forbidden" 'User "viewer"' 'user "viewer"'

# ---------------------------------------------------------------- timeouts, unreachable
apiserver_start_http SLOW --anonymous --delay-path '^/(api|version)=5000' "$FX" || { echo "FAIL slow stand-in"; exit 1; }
kc "$T/slow.conf" "$SLOW_URL" "    token: admin-token" "    insecure-skip-tls-verify: false"
t0=$(date +%s%N)
run timeout 3 -- check --root "$EMPTY" --kubeconfig "$T/slow.conf" --request-timeout 1s
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$RC" = 3 ] && [ "$ms" -lt 3000 ] && grep -q "timed out" "$ERR" &&
    ok "--request-timeout 1s: exit 3 after ${ms} ms" || fail "timeout" "rc $RC after $ms ms"
apiserver_stop SLOW
kc "$T/down.conf" "http://127.0.0.1:1" "    token: admin-token" "    insecure-skip-tls-verify: false"
t0=$(date +%s%N)
run unreachable 3 -- check --root "$EMPTY" --kubeconfig "$T/down.conf"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$RC" = 3 ] && errhas "unreachable server: exit 3 in ${ms} ms naming it" "http://127.0.0.1:1"
run "bad timeout" 2 -- check --root "$EMPTY" --kubeconfig "$T/admin.conf" --request-timeout 10x &&
    ok "--request-timeout 10x is a usage error"

# Like kubectl, no credentials over plain http (kubectl issue 744).
apiserver_start_http PLAIN "$FX" || { echo "FAIL plain stand-in"; exit 1; }
kc "$T/plain.conf" "$PLAIN_URL" "    token: admin-token" "    insecure-skip-tls-verify: false"
run "http no token" 3 -- check --root "$EMPTY" --kubeconfig "$T/plain.conf" &&
    errhas "a token is never sent over http: 401 says so" "$PLAIN_URL" "https only"
[ "$(requests PLAIN '[.[] | select(.user != "" and .user != "system:anonymous")] | length')" = 0 ] ||
    fail "http no token" "the stand-in saw a user"
apiserver_stop PLAIN

# ---------------------------------------------------------------- proxy-url
# A cluster's proxy-url is honoured as kubectl does: the TLS connection to the API server is
# tunnelled through the proxy (HTTP CONNECT), which logs each tunnel it opens.
/usr/bin/python3 "$KV_SRC/tests/lib/connect_proxy.py" "$T/proxy.port" "$T/proxy.log" &
PROXY_PID=$!
for _ in $(seq 50); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
PROXY_URL="http://127.0.0.1:$(cat "$T/proxy.port" 2>/dev/null)"
kc "$T/proxy.conf" "$API_URL" "    token: admin-token" "    certificate-authority-data: $CA64
    proxy-url: $PROXY_URL"
run "proxy-url" ok -- check --root "$EMPTY" --kubeconfig "$T/proxy.conf" -o json &&
    jqt "proxy-url: the API source is reached" '.sources.api.used' &&
    if grep -qx "CONNECT ${API_URL#https://}" "$T/proxy.log" 2>/dev/null; then
        ok "proxy-url: the connection went through the proxy"
    else
        fail "proxy-url" "the proxy saw no CONNECT to ${API_URL#https://}"
    fi
kill "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
kc "$T/proxy-dead.conf" "$API_URL" "    token: admin-token" "    certificate-authority-data: $CA64
    proxy-url: http://127.0.0.1:1"
run "proxy-url down" 3 -- check --root "$EMPTY" --kubeconfig "$T/proxy-dead.conf" &&
    errhas "proxy-url down: exit 3 naming the server and the proxy" "$API_URL" "through proxy http://127.0.0.1:1"
kc "$T/proxy-ftp.conf" "$API_URL" "    token: admin-token" "    certificate-authority-data: $CA64
    proxy-url: ftp://127.0.0.1:21"
run "proxy-url scheme" 3 -- check --root "$EMPTY" --kubeconfig "$T/proxy-ftp.conf" &&
    errhas "proxy-url ftp://: exit 3 naming the kubeconfig" "$T/proxy-ftp.conf" "proxy-url"

# ---------------------------------------------------------------- 429, pagination, 410
apiserver_admin API POST /_standin/faults '{"throttle_reads":2,"retry_after":1}' >/dev/null
: >"$T/API.requests"
run 429 ok -- check --root "$EMPTY" --kubeconfig "$T/admin.conf" -o json &&
    [ "$(requests API '[.[] | select(.code == 429)] | length')" = 2 ] &&
    jqt "429 twice (Retry-After honoured), then success" '.sources.api.used'

apiserver_start_http BIG --anonymous --synthesize nodes=1200 "$FX" || { echo "FAIL big stand-in"; exit 1; }
kc "$T/big.conf" "$BIG_URL" "    token: admin-token" "    insecure-skip-tls-verify: false"
run pages ok -- check --root "$EMPTY" --kubeconfig "$T/big.conf" -o json
pages=$(requests BIG '[.[] | select(.path | startswith("/api/v1/nodes?"))] | length')
conts=$(requests BIG '[.[] | select(.path | startswith("/api/v1/nodes?")) | select(.path | test("continue="))] | length')
limit=$(requests BIG '[.[] | select(.path | startswith("/api/v1/nodes?")) | (.path | test("limit=500"))] | all')
[ "$pages" = 3 ] && [ "$conts" = 2 ] && [ "$limit" = true ] &&
    ok "1201 nodes in 3 pages of limit=500 following continue" ||
    fail "pagination" "pages $pages, continued $conts, limit=500 on all: $limit"

apiserver_admin BIG POST /_standin/faults '{"expire_continue":true}' >/dev/null
: >"$T/BIG.requests"
run 410 ok -- check --root "$EMPTY" --kubeconfig "$T/big.conf" -o json
codes=$(requests BIG '[.[] | select(.path | startswith("/api/v1/nodes?")) | .code] | map(tostring) | join(",")')
[ "$codes" = "200,410,200,200,200" ] && jqt "410 Expired continue restarts the list once" '.sources.api.used' ||
    fail "410 restart" "node list codes: $codes"

# ---------------------------------------------------------------- where the config comes from
kc "$T/stale.conf" "http://127.0.0.1:1" "    token: admin-token" "    insecure-skip-tls-verify: false"
run "flag beats KUBECONFIG" ok KUBECONFIG="$T/stale.conf" -- check --root "$EMPTY" \
    --kubeconfig "$T/admin.conf" -o json &&
    jqt "--kubeconfig beats KUBECONFIG" '.sources.api.detail | contains("from '"$T"'/admin.conf)")'

# Two files merged: A sets current-context and a cluster "k"; B's current-context and its own "k"
# lose; the context and the user come from B.
cat >"$T/a.conf" <<EOF
apiVersion: v1
kind: Config
current-context: main
clusters: [{name: k, cluster: {server: "$API_URL", certificate-authority-data: $CA64}}]
EOF
cat >"$T/b.conf" <<EOF
apiVersion: v1
kind: Config
current-context: other
contexts:
- {name: main, context: {cluster: k, user: u}}
- {name: other, context: {cluster: k, user: nobody}}
clusters: [{name: k, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: {token: admin-token}}]
EOF
mkdir -p "$T/home/.kube"
cp "$T/stale.conf" "$T/home/.kube/config"
run "KUBECONFIG merged" ok KUBECONFIG="$T/missing.conf:$T/a.conf:$T/b.conf" HOME="$T/home" -- \
    check -o json &&
    jqt "KUBECONFIG: two files merged, first definition wins, beats ~/.kube/config" \
        '.sources.api.used and (.sources.api.detail | contains("'"$API_URL"'")) and (.sources.api.detail | contains("from '"$T/a.conf:$T/b.conf"'"))'

mkdir -p "$T/home2/.kube"
cp "$T/token.conf" "$T/home2/.kube/config"
run "home" ok HOME="$T/home2" -- check -o json &&
    jqt "~/.kube/config when KUBECONFIG is unset" '.sources.api.detail | contains("'"$T"'/home2/.kube/config")'

mkdir -p "$T/sa"
printf 'admin-token' >"$T/sa/token"
cp "$API_PKI/ca.crt" "$T/sa/ca.crt"
printf 'kube-system' >"$T/sa/namespace"
run "in-cluster" ok KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$API_PORT" \
    KUBEVET_SA_DIR="$T/sa" -- check -o json &&
    jqt "in-cluster service account when no kubeconfig exists" \
        '.sources.api.used and (.sources.api.detail | contains("in-cluster"))'

run "context flag" 3 -- check --root "$EMPTY" --kubeconfig "$T/admin.conf" --context nope &&
    errhas "--context that does not exist: exit 3 naming it" 'context "nope"' "$T/admin.conf"

# A found kubeconfig that is stale does not stop the node source; a named one does.
. "$KV_SRC/tests/lib/mknode.sh"
mknode "$T/node" --name master-1 >/dev/null 2>&1 || fail "mknode" "could not build a node root"
run "stale found" ok KUBECONFIG="$T/stale.conf" -- check --root "$T/node" -o json &&
    jqt "stale KUBECONFIG: api not used (reason names the server), node findings still print" \
        '.sources.node.used and (.sources.api.used | not) and (.sources.api.reason | contains("127.0.0.1:1"))'
run "stale named" 3 -- check --root "$T/node" --kubeconfig "$T/stale.conf" &&
    errhas "stale --kubeconfig: exit 3" "127.0.0.1:1"
run "no files" 3 -- check --root "$EMPTY" &&
    errhas "empty --root and no other source: exit 3" "no Kubernetes files under $EMPTY: wrong --root?"

if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
