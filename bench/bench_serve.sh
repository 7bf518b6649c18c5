#!/usr/bin/env bash
# Benchmark of `kubevet serve` (issue 13): resident size serving 10,000 certificates across
# several runs (goal: under 32 MB, peak included, flat from run to run), and scrape latency of
# /metrics alone and under 50 concurrent scrapers for 30 s (the issue's load test; a run falls
# inside it). Certificates are made with the openssl CLI only and cached in $KV_BENCH_DIR
# (default build/bench-data, shared with bench_certs.sh).
#
# x509-certificate-exporter (the usual tool for this) is a Go binary that is not packaged for
# Debian and cannot be fetched here: no side-by-side figure; its users report OOM kills on large
# clusters, which is the figure this bench answers.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KUBEVET=${KUBEVET:-$here/build/kubevet}
data=${KV_BENCH_DIR:-$here/build/bench-data}
n=${KV_BENCH_CERTS:-10000}
runs=${KV_BENCH_RUNS:-6}
mkdir -p "$data"

if [[ ! -d $data/certs-$n ]] || [[ $(ls "$data/certs-$n" | wc -l) -lt $n ]]; then
    echo "generating $n certificates with openssl ca (one-time, cached in $data)..." >&2
    ca=$data/ca-serve
    rm -rf "$ca" "$data/certs-$n"
    mkdir -p "$ca" "$data/certs-$n"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$ca/ca.key" -out "$ca/ca.crt" -days 3650 \
        -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$ca/leaf.key" -out "$ca/leaf.csr" \
        -subj /CN=bench-leaf 2>/dev/null
    for part in 0 1; do
        cnt=$((n / 2))
        ((part == 1)) && cnt=$((n - n / 2))
        mkdir -p "$ca/p$part"
        : >"$ca/p$part/index.txt"
        echo $((1000 + part * 100000)) >"$ca/p$part/serial"
        cat >"$ca/p$part.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $ca/p$part/index.txt
serial = $ca/p$part/serial
new_certs_dir = $ca/p$part
certificate = $ca/ca.crt
private_key = $ca/ca.key
default_md = sha256
default_days = 365
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
        yes "$ca/leaf.csr" | head -n "$cnt" | xargs openssl ca -batch -notext \
            -config "$ca/p$part.cnf" -infiles >/dev/null 2>&1 &
    done
    wait
    cp "$ca/ca.crt" "$data/certs-$n/ca.crt"
    i=0
    for f in "$ca"/p0/*.pem "$ca"/p1/*.pem; do
        i=$((i + 1))
        mv "$f" "$data/certs-$n/leaf-$i.crt"
    done
fi
count=$(ls "$data/certs-$n" | wc -l)

log=$(mktemp /tmp/kv-bench-serve.XXXXXX)
"$KUBEVET" serve --listen 127.0.0.1:0 --interval "${KV_BENCH_INTERVAL:-20s}" "$data/certs-$n" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log" "$log.lat"' EXIT
until grep -q 'listening on' "$log"; do sleep 0.1; done
addr=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | sed 's/listening on //')
status() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }

echo "kubevet serve over $count certificates (files in one folder); RSS between runs, peak = VmHWM (during the parse)"
printf '%-5s %-10s %-12s %-12s %-12s\n' run seconds RSS_kB peak_kB series
for r in $(seq "$runs"); do
    until grep -q "run $r in" "$log"; do sleep 0.1; done
    sleep 6 # the run's certificates are freed and trimmed after its log line (slow on a busy host)
    secs=$(grep -o "run $r in [0-9.]*" "$log" | awk '{print $4}')
    series=$(curl -s "http://$addr/metrics" | grep -c '^kubevet_certificate_expiry_timestamp_seconds{')
    printf '%-5s %-10s %-12s %-12s %-12s\n' "$r" "$secs" "$(status VmRSS)" "$(status VmHWM)" "$series"
done

bytes=$(curl -s -o /dev/null -w '%{size_download}' "http://$addr/metrics")
lat=$(for _ in $(seq 30); do curl -s -o /dev/null -w '%{time_total}\n' "http://$addr/metrics"; done |
    sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, max %.1f ms", a[int((NR+1)/2)]*1000, a[NR]*1000}')
echo "/metrics: $bytes bytes; one scraper: $lat"
# The issue's load: 50 concurrent scrapers for 30 s (KV_BENCH_LOAD_SECS), RSS sampled throughout.
load_secs=${KV_BENCH_LOAD_SECS:-30}
urls=()
for _ in $(seq 200); do urls+=(-o /dev/null "http://$addr/metrics"); done
rss0=$(status VmRSS) rmax=$rss0 rmin=$rss0
t0=$(date +%s.%N)
end=$((SECONDS + load_secs))
: >"$log.lat"
while [ $SECONDS -lt $end ]; do
    curl -s --parallel --parallel-max 50 -w '%{http_code} %{time_total}\n' "${urls[@]}" 2>/dev/null >>"$log.lat"
    r=$(status VmRSS)
    [ "$r" -gt "$rmax" ] && rmax=$r
    [ "$r" -lt "$rmin" ] && rmin=$r
done
t1=$(date +%s.%N)
sort -k2 -n "$log.lat" | awk -v t="$(echo "$t1 - $t0" | bc -l)" '
    {n++; if ($1 != 200) bad++; d[n]=$2}
    END {printf "50 concurrent scrapers for %.0f s: %d scrapes (%.0f/s), %d errors, median %.1f ms, p99 %.1f ms\n",
         t, n, n/t, bad, d[int(n/2)]*1000, d[int(n*0.99)]*1000}'
rm -f "$log.lat"
echo "RSS under the load: ${rss0} kB before, ${rmin}-${rmax} kB during, $(status VmRSS) kB after (peak VmHWM $(status VmHWM) kB)"
