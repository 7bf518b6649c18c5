# Shell helpers for tests that need a real etcd (Debian etcd 3.4). Source this file, then:
#   etcd_setup                      temp dir + EXIT trap that kills every member started here
#   etcd_free_port                  prints a free TCP port on 127.0.0.1
#   etcd_tls_certs DIR              CA, server and client certs made with the openssl CLI
#   etcd_cluster NAME N [tls]       start an N-member cluster; sets NAME_EP (client URLs, comma
#                                   separated), NAME_EP1..N, NAME_PEER1..N, NAME_IC (--initial-cluster)
#   etcd_cluster_start/_wait ...    the same in two halves: start several clusters, then wait
#   etcd_start_member ...           start one member (used by etcd_cluster and by trap tests)
#   etcd_wait_healthy URL [tls]     wait until /health answers true
#   etcd_stop_member NAME           stop one member started by etcd_start_member
#   etcdctl_tls                     etcdctl with the TLS client flags of etcd_tls_certs
# Members listen on 127.0.0.1 only; every process started is killed by pid on exit.

ETCD_PIDS=()
declare -A ETCD_PID_OF

etcd_cleanup()
{
    local p
    # SIGKILL: the data dirs go away with the temp dir, and a graceful stop of a member that has
    # lost its quorum takes seconds (leadership transfer attempts).
    for p in "${ETCD_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    for p in "${ETCD_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    [ -n "${ETCD_TMP:-}" ] && [ -z "${KEEP_TMP:-}" ] && rm -rf "$ETCD_TMP"
}

etcd_setup()
{
    ETCD_TMP=$(mktemp -d /tmp/kv-etcd.XXXXXX)
    trap etcd_cleanup EXIT
}

# A port nobody listens on now; skips ports handed out earlier in this run.
etcd_free_port()
{
    # Below Linux's ephemeral range (32768+), so a client socket cannot take the port between
    # this check and etcd's bind; and remembered in a file, since callers run us in $(...).
    local p used="${ETCD_TMP:-/tmp}/.ports"
    while :; do
        p=$(( (RANDOM % 12000) + 20000 ))
        grep -qx "$p" "$used" 2>/dev/null && continue
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
            echo "$p" >>"$used"
            echo "$p"
            return 0
        fi
    done
}

# etcd_tls_certs DIR: ca.crt/ca.key, server.crt/key (SAN 127.0.0.1, localhost; not 127.0.0.2),
# client.crt/key
# (CN kube-etcd-healthcheck-client, O system:masters, like kubeadm's healthcheck client).
etcd_tls_certs()
{
    local d=$1
    mkdir -p "$d"
    # ECDSA P-256 (kubeadm's alternative to RSA-2048): three RSA keys cost seconds per test run.
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    openssl req -x509 "${ec[@]}" -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
        -subj "/CN=etcd-ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || return 1
    openssl req "${ec[@]}" -nodes -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=localhost" 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
        >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>/dev/null || return 1
    openssl req "${ec[@]}" -nodes -keyout "$d/client.key" -out "$d/client.csr" \
        -subj "/O=system:masters/CN=kube-etcd-healthcheck-client" 2>/dev/null || return 1
    printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/client.crt" -days 2 -extfile "$d/client.ext" 2>/dev/null || return 1
    ETCD_CERTS=$d
}

etcdctl_tls()
{
    etcdctl --cacert "$ETCD_CERTS/ca.crt" --cert "$ETCD_CERTS/client.crt" \
        --key "$ETCD_CERTS/client.key" "$@"
}

# etcd_wait_healthy URL [tls]: up to 20 s.
etcd_wait_healthy()
{
    local url=$1 tls=${2:-} i args=()
    [ -n "$tls" ] && args=(--cacert "$ETCD_CERTS/ca.crt" --cert "$ETCD_CERTS/client.crt"
                          --key "$ETCD_CERTS/client.key")
    for i in $(seq 1 600); do
        if curl -s -m 2 "${args[@]}" "$url/health" 2>/dev/null | grep -q '"true"'; then
            return 0
        fi
        sleep 0.1
    done
    echo "etcd at $url did not become healthy" >&2
    return 1
}

# etcd_start_member NAME CLIENT_PORT PEER_PORT INITIAL_CLUSTER STATE [tls] [extra etcd flags...]
etcd_start_member()
{
    local name=$1 cport=$2 pport=$3 ic=$4 state=$5 tls=${6:-}
    shift 6 2>/dev/null || shift $#
    local scheme=http args=()
    if [ "$tls" = tls ]; then
        scheme=https
        args=(--cert-file "$ETCD_CERTS/server.crt" --key-file "$ETCD_CERTS/server.key"
              --trusted-ca-file "$ETCD_CERTS/ca.crt" --client-cert-auth)
    fi
    etcd --name "$name" --data-dir "$ETCD_TMP/data-$name" \
        --listen-client-urls "$scheme://127.0.0.1:$cport" \
        --advertise-client-urls "$scheme://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$ic" --initial-cluster-state "$state" \
        --initial-cluster-token "kv-$name-tok" "${args[@]}" "$@" \
        >"$ETCD_TMP/log-$name" 2>&1 &
    ETCD_PIDS+=($!)
    ETCD_PID_OF[$name]=$!
}

etcd_stop_member()
{
    local p=${ETCD_PID_OF[$1]:-}
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    unset "ETCD_PID_OF[$1]"
}

# etcd_cluster NAME N [tls]: members NAME1..NAMEN, one token per cluster ("kv-NAME"); started in
# parallel, then waited for. etcd_cluster_start + etcd_cluster_wait do the same in two halves, so
# a test can start several clusters at once. TLS clusters also listen on 127.0.0.2 (still
# loopback), a host name their server certificate does not name.
etcd_cluster()
{
    etcd_cluster_start "$@" && etcd_cluster_wait "$@"
}

etcd_cluster_start()
{
    local cl=$1 n=$2 tls=${3:-} i ic="" eps="" scheme=http
    [ "$tls" = tls ] && scheme=https
    local cports=() pports=()
    for i in $(seq 1 "$n"); do
        cports[$i]=$(etcd_free_port)
        pports[$i]=$(etcd_free_port)
        ic="$ic${ic:+,}$cl$i=http://127.0.0.1:${pports[$i]}"
        eps="$eps${eps:+,}$scheme://127.0.0.1:${cports[$i]}"
        printf -v "${cl}_EP$i" '%s' "$scheme://127.0.0.1:${cports[$i]}"
        printf -v "${cl}_PEER$i" '%s' "http://127.0.0.1:${pports[$i]}"
        printf -v "${cl}_PEERPORT$i" '%s' "${pports[$i]}"
        printf -v "${cl}_CPORT$i" '%s' "${cports[$i]}"
    done
    printf -v "${cl}_EP" '%s' "$eps"
    printf -v "${cl}_IC" '%s' "$ic"
    for i in $(seq 1 "$n"); do
        local listen="$scheme://127.0.0.1:${cports[$i]}"
        [ "$tls" = tls ] && listen="$listen,$scheme://127.0.0.2:${cports[$i]}"
        etcd --name "$cl$i" --data-dir "$ETCD_TMP/data-$cl$i" \
            --listen-client-urls "$listen" \
            --advertise-client-urls "$scheme://127.0.0.1:${cports[$i]}" \
            --listen-peer-urls "http://127.0.0.1:${pports[$i]}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${pports[$i]}" \
            --initial-cluster "$ic" --initial-cluster-state new --initial-cluster-token "kv-$cl" \
            $( [ "$tls" = tls ] && echo --cert-file "$ETCD_CERTS/server.crt" \
                --key-file "$ETCD_CERTS/server.key" --trusted-ca-file "$ETCD_CERTS/ca.crt" \
                --client-cert-auth ) \
            >"$ETCD_TMP/log-$cl$i" 2>&1 &
        ETCD_PIDS+=($!)
        ETCD_PID_OF[$cl$i]=$!
    done
}

etcd_cluster_wait()
{
    local cl=$1 n=$2 tls=${3:-} i
    for i in $(seq 1 "$n"); do
        local v="${cl}_EP$i"
        etcd_wait_healthy "${!v}" "$tls" || return 1
    done
}

# The assertions the etcd scenario scripts share (t_etcd_live, t_etcd_quorum): call after
# etcd_setup. Output of the last `run` is in $OUT/$ERR, its exit code in $RC; FAILS counts.
etcd_harness() {
    FAILS=0
    OUT=$ETCD_TMP/out
    ERR=$ETCD_TMP/err
}
ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$OUT" "$ERR" 2>/dev/null | head -60
    FAILS=$((FAILS + 1))
}
# run NAME EXPECTED_RC kubevet-args...
run() {
    local name=$1 want=$2
    shift 2
    timeout 60 "$KUBEVET" "$@" >"$OUT" 2>"$ERR"
    RC=$?
    if [ "$RC" != "$want" ]; then
        fail "$name" "exit $RC, want $want"
        return 1
    fi
    return 0
}
# jqt NAME FILTER [FILE]: the jq filter must print true (for $OUT by default)
jqt() {
    if [ "$(jq -r "$2" "${3:-$OUT}" 2>/dev/null)" != true ]; then
        fail "$1" "jq: $2"
        return 1
    fi
    ok "$1"
}
