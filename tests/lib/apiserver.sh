# shellcheck shell=bash
# Shell helpers for tests that talk to the API stand-in (tests/apiserver/standin.py). Source it:
#   apiserver_setup                 temp dir ($API_TMP) + EXIT trap that stops what was started here
#   apiserver_pki [DIR]             CA, server cert (127.0.0.1, localhost; API_SERVER_SAN=... sets
#                                   other SANs) and client certs with the openssl CLI: admin (CN
#                                   kubernetes-admin, O system:masters) and viewer (CN viewer, no
#                                   O); sets API_PKI (save and restore it to make a second PKI)
#   apiserver_client_cert NAME CN [O,O...]   one more client cert/key in $API_PKI (NAME.crt/.key)
#   apiserver_start NAME [standin flags...] [FOLDER...]
#                                   start a stand-in over HTTPS (client certs + tokens
#                                   admin-token=kubernetes-admin:system:masters and
#                                   viewer-token=viewer; admin endpoint token standin-admin).
#                                   Sets NAME_URL, NAME_PORT, NAME_PID; waits for /readyz.
#   apiserver_start_http NAME [flags...] [FOLDER...]   the same over plain http (tokens only)
#   apiserver_kubeconfig NAME FILE cert|certfile|token|tokenfile|none [USER]
#                                   kubeconfig for the stand-in NAME: client cert USER (default
#                                   admin) inline or as paths, token USER-token inline or in a file
#   apiserver_admin NAME METHOD PATH [JSON]            call /_standin/... (faults, requests)
#   apiserver_stop NAME             stop one stand-in
#   apiserver_need [TOOL...]        skip the test (exit 0) without openssl, curl, jq, PyYAML or TOOL
#   apiserver_begin                 apiserver_need + apiserver_setup + a private HOME (kubectl's
#                                   discovery cache, helm's config) + apiserver_report
#   apiserver_report                FAILS=0, OUT and ERR in $API_TMP, for ok / fail / check:
#     ok NAME; fail NAME WHY (shows the last $OUT and $ERR); check NAME JQ (JQ prints true for $OUT)
# Every server listens on 127.0.0.1 on a free port; each is killed by its pid on exit.

API_KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
API_PY=/usr/bin/python3
API_STANDIN=$API_KV_SRC/tests/apiserver/standin.py
API_PIDS=()
API_ADMIN_TOKEN=standin-admin
export PYTHONDONTWRITEBYTECODE=1

apiserver_cleanup()
{
    local p
    for p in "${API_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${API_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    API_PIDS=()
    [ -n "${API_TMP:-}" ] && [ -z "${KEEP_TMP:-}" ] && rm -rf "$API_TMP"
}

apiserver_setup()
{
    API_TMP=$(mktemp -d /tmp/kv-api.XXXXXX)
    # Keep an EXIT trap set before us (tests/lib/etcd.sh's etcd_setup): run both.
    local prev
    prev=$(trap -p EXIT | sed -n "s/^trap -- '\(.*\)' EXIT\$/\1/p")
    case "$prev" in
    *apiserver_cleanup*) prev="" ;;
    esac
    trap "apiserver_cleanup${prev:+; $prev}" EXIT
}

# apiserver_client_cert NAME CN [ORGS]: client cert signed by the PKI's CA (ORGS comma-separated).
apiserver_client_cert()
{
    local d=$API_PKI name=$1 cn=$2 orgs=${3:-} subj="" o
    local IFS_OLD=$IFS
    IFS=,
    for o in $orgs; do
        subj="$subj/O=$o"
    done
    IFS=$IFS_OLD
    subj="$subj/CN=$cn"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/$name.key" -out "$d/$name.csr" \
        -subj "$subj" 2>/dev/null || return 1
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
        >"$d/$name.ext"
    openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/$name.crt" -days 2 -extfile "$d/$name.ext" 2>/dev/null || return 1
    chmod 600 "$d/$name.key"
}

apiserver_pki()
{
    local d=${1:-$API_TMP/pki}
    mkdir -p "$d"
    API_PKI=$d
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
        -subj "/CN=kubernetes" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null || return 1
    chmod 600 "$d/ca.key"
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=kube-apiserver" 2>/dev/null || return 1
    printf '%s\n' "subjectAltName=${API_SERVER_SAN:-IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default}" \
        "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" \
        >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>/dev/null || return 1
    chmod 600 "$d/server.key"
    apiserver_client_cert admin kubernetes-admin system:masters || return 1
    apiserver_client_cert viewer viewer || return 1
}

# apiserver_wait URL [curl args...]: /readyz answers ok within 20 s.
apiserver_wait()
{
    local url=$1 i
    shift
    for i in $(seq 1 200); do
        if [ "$(curl -s -m 2 "$@" "$url/readyz" 2>/dev/null)" = ok ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "API stand-in at $url did not become ready" >&2
    return 1
}

_apiserver_launch()
{
    local name=$1 scheme=$2
    shift 2
    local pf=$API_TMP/$name.port log=$API_TMP/$name.log args=()
    rm -f "$pf"
    args=(--port 0 --port-file "$pf" --admin-token "$API_ADMIN_TOKEN"
          --token "admin-token=kubernetes-admin:system:masters" --token "viewer-token=viewer"
          --log "$API_TMP/$name.requests")
    if [ "$scheme" = https ]; then
        args+=(--tls-cert "$API_PKI/server.crt" --tls-key "$API_PKI/server.key"
               --client-ca "$API_PKI/ca.crt")
    fi
    "$API_PY" "$API_STANDIN" "${args[@]}" "$@" >"$log" 2>&1 &
    local pid=$!
    API_PIDS+=("$pid")
    local i
    # API_START_STEPS (of 50 ms, default 300): big fixtures (benchmarks) take longer to load
    for i in $(seq 1 "${API_START_STEPS:-300}"); do
        [ -s "$pf" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "API stand-in $name exited: $(head -c 500 "$log")" >&2
            return 1
        fi
        sleep 0.05
    done
    [ -s "$pf" ] || { echo "API stand-in $name wrote no port file" >&2; return 1; }
    local port
    port=$(cat "$pf")
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$pid"
    printf -v "${name}_URL" '%s' "$scheme://127.0.0.1:$port"
    if [ "$scheme" = https ]; then
        apiserver_wait "$scheme://127.0.0.1:$port" --cacert "$API_PKI/ca.crt"
    else
        apiserver_wait "$scheme://127.0.0.1:$port"
    fi
}

apiserver_start()
{
    [ -n "${API_PKI:-}" ] || apiserver_pki || return 1
    local name=$1
    shift
    _apiserver_launch "$name" https "$@"
}

apiserver_start_http()
{
    local name=$1
    shift
    _apiserver_launch "$name" http "$@"
}

apiserver_stop()
{
    local v="${1}_PID" p
    p=${!v:-}
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    printf -v "$v" '%s' ""
}

# apiserver_kubeconfig NAME FILE MODE [USER]
#   MODE cert: client-certificate-data/client-key-data of $API_PKI/USER.crt/.key (default admin)
#        certfile: client-certificate/client-key/certificate-authority as absolute file paths
#        token: token USER-token;  tokenfile: tokenFile FILE.token holding USER-token
#        none: no credentials
#   API_KC_CA=/path/ca.crt embeds another CA (wrong-CA tests); API_KC_SERVER overrides the URL.
apiserver_kubeconfig()
{
    local name=$1 file=$2 mode=$3 user=${4:-admin} v="${1}_URL"
    local url=${API_KC_SERVER:-${!v}} ca_line="" user_block ca=${API_KC_CA:-$API_PKI/ca.crt}
    case "$url" in
    https://*)
        if [ "$mode" = certfile ]; then
            ca_line="    certificate-authority: $ca"
        else
            ca_line="    certificate-authority-data: $(base64 -w0 <"$ca")"
        fi
        ;;
    esac
    case $mode in
    cert)
        user_block="    client-certificate-data: $(base64 -w0 <"$API_PKI/$user.crt")
    client-key-data: $(base64 -w0 <"$API_PKI/$user.key")"
        ;;
    certfile)
        user_block="    client-certificate: $API_PKI/$user.crt
    client-key: $API_PKI/$user.key"
        ;;
    token) user_block="    token: $user-token" ;;
    tokenfile)
        (umask 077 && printf '%s\n' "$user-token" >"$file.token")
        user_block="    tokenFile: $file.token"
        ;;
    none) user_block="" ;;
    *)
        echo "apiserver_kubeconfig: unknown mode $mode" >&2
        return 1
        ;;
    esac
    local user_yaml="  user: {}"
    if [ "$mode" != none ]; then
        user_yaml="  user:
$user_block"
    fi
    (
        umask 077
        cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: $url
$ca_line
contexts:
- name: $user@standin
  context:
    cluster: standin
    user: $user
current-context: $user@standin
users:
- name: $user
$user_yaml
preferences: {}
EOF
    )
}

# apiserver_admin NAME METHOD PATH [JSON]: the stand-in's admin endpoint (faults, requests).
apiserver_admin()
{
    local name=$1 method=$2 path=$3 data=${4:-} v="${1}_URL" args=()
    [ -n "${API_PKI:-}" ] && args+=(--cacert "$API_PKI/ca.crt")
    [ -n "$data" ] && args+=(-H "Content-Type: application/json" --data "$data")
    curl -s -m 10 "${args[@]}" -X "$method" -H "Authorization: Bearer $API_ADMIN_TOKEN" \
        "${!v}$path"
}

apiserver_need()
{
    local t
    for t in openssl curl jq "$@"; do
        command -v "$t" >/dev/null || { echo "skip: $t not installed"; exit 0; }
    done
    $API_PY -c 'import yaml' 2>/dev/null || { echo "skip: python3-yaml missing"; exit 0; }
}

apiserver_report()
{
    FAILS=0
    OUT=$API_TMP/out
    ERR=$API_TMP/err
    # defined here, not when sourced: other tests that source this file keep their own
    ok() { echo "ok $1"; }
    fail()
    {
        echo "FAIL $1: $2"
        sed 's/^/    | /' "$OUT" "$ERR" 2>/dev/null | head -40
        FAILS=$((FAILS + 1))
    }
    check()
    {
        if [ "$(jq -r "$2" "$OUT" 2>/dev/null)" = true ]; then ok "$1"; else fail "$1" "jq: $2"; fi
    }
}

apiserver_begin()
{
    apiserver_need
    apiserver_setup
    export HOME=$API_TMP/home
    mkdir -p "$HOME"
    apiserver_report
}
