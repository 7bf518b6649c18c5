# shellcheck shell=bash
# Shared set-up of the benchmarks that talk to the API stand-in. Source it after setting nothing:
#   bench_init                      KV_SRC, KUBEVET (absolute), KUBECTL (scripts/k8s-clients; exits
#                                   0 with "skip:" when unavailable), $API_TMP with its EXIT trap
#   bench_standin NAME CONF [standin flags...] [FOLDER...]
#                                   start the stand-in NAME, write an admin kubeconfig to CONF, and
#                                   empty its request log (the figures are about the clients)
#   bench_vs TITLE RUNS TIMEOUT "A" "B"
#                                   time shell command lines A and B side by side: farm-bench
#                                   (median of RUNS, A/B paired) when installed, else
#                                   /usr/bin/time -v, RUNS rounds; peak RSS is the largest process
#   bench_time NAME "CMD"           one /usr/bin/time -v run: "NAME  S s  peak M MB"; sets
#                                   BENCH_S (wall seconds) and BENCH_MB (peak RSS)

bench_init()
{
    KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
    KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
    KUBEVET=$(cd "$(dirname "$KUBEVET")" && pwd)/$(basename "$KUBEVET")
    # shellcheck source=../tests/lib/apiserver.sh
    . "$KV_SRC/tests/lib/apiserver.sh"
    local kdir
    kdir=$("$KV_SRC/scripts/k8s-clients" 2>/dev/null) ||
        { echo "skip: no kubectl (scripts/k8s-clients)"; exit 0; }
    KUBECTL=$kdir/kubectl
    apiserver_setup
}

bench_standin()
{
    local name=$1 conf=$2
    shift 2
    apiserver_start "$name" "$@" || exit 1
    apiserver_kubeconfig "$name" "$conf" cert admin
    : >"$API_TMP/$name.requests"
}

bench_time()
{
    local name=$1 cmd=$2
    BENCH_S=
    BENCH_MB=
    /usr/bin/time -v sh -c "$cmd" >/dev/null 2>"$API_TMP/time"
    # 1 is a scan that found something; more is a failure
    [ $? -le 1 ] || { echo "  $name failed: $(tail -n 30 "$API_TMP/time" | head -3)"; return 1; }
    BENCH_S=$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=a[n]; if (n>1) s+=a[n-1]*60; if (n>2) s+=a[n-2]*3600; print s}' "$API_TMP/time")
    BENCH_MB=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2/1024}' "$API_TMP/time")
    printf '  %-44s %7.2f s  peak %7.1f MB\n' "$name" "$BENCH_S" "$BENCH_MB"
}

bench_vs()
{
    local title=$1 runs=$2 timeout=$3 a=$4 b=$5 r
    echo
    echo "== $title"
    if command -v farm-bench >/dev/null; then
        farm-bench -n "$runs" --timeout "$timeout" --vs "sh -c 'exec $b'" -- sh -c "exec $a"
    else
        for r in $(seq 1 "$runs"); do
            echo "run $r"
            bench_time A "exec $a"
            bench_time B "exec $b"
        done
    fi
}
