#!/usr/bin/env bash
# Benchmarks for the node PKI doctor (issue: foundation). Prints figures side by side:
#  1. `kubevet check` on a kubeadm node root: best of 20 runs (goal < 15 ms), next to a process
#     that only initialises OpenSSL (`openssl version`).
#  2. 10,000 certificates with chain verification, as files in a folder and as one bundle (goal
#     < 1 s), next to `openssl crl2pkcs7 -nocrl -certfile bundle | openssl pkcs7 -print_certs -noout`
#     (parses without verifying; goal: kubevet at least 2x faster).
# Fixtures are made with the openssl CLI only, cached in $KV_BENCH_DIR (default build/bench-data).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KUBEVET=${KUBEVET:-$here/build/kubevet}
data=${KV_BENCH_DIR:-$here/build/bench-data}
n=${KV_BENCH_CERTS:-10000}
mkdir -p "$data"

best_of() { # best_of RUNS CMD... -> best wall seconds (timed in-process: no fork of date/bc)
    python3 - "$@" <<'PY'
import subprocess, sys, time
runs, cmd, best = int(sys.argv[1]), sys.argv[2:], float("inf")
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = min(best, time.perf_counter() - t)
print("%.4f" % best)
PY
}

# --- 1. node root -----------------------------------------------------------------------
if [[ ! -d $data/node ]]; then
    bash "$here/tests/lib/mknode.sh" "$data/node" --name master-1 --ip 10.0.0.11 \
        --endpoint lb.example.com >/dev/null 2>&1
fi
t_node=$(best_of 20 "$KUBEVET" check --root "$data/node" --fail-on never)
t_ossl=$(best_of 20 openssl version)
printf 'node root check (best of 20):      kubevet %6.1f ms   openssl-version floor %5.1f ms   goal < 15 ms\n' \
    "$(echo "$t_node * 1000" | bc -l)" "$(echo "$t_ossl * 1000" | bc -l)"

# --- 2. 10,000 certificates -------------------------------------------------------------
if [[ ! -f $data/bundle-$n.pem ]]; then
    echo "generating $n certificates with openssl ca (one-time, cached in $data)..." >&2
    ca=$data/ca; rm -rf "$ca" "$data/certs-$n"; mkdir -p "$ca/out" "$data/certs-$n"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$ca/ca.key" -out "$ca/ca.crt" -days 3650 \
        -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$ca/leaf.key" -out "$ca/leaf.csr" \
        -subj /CN=bench-leaf 2>/dev/null
    : >"$ca/index.txt"; echo 1000 >"$ca/serial"
    cat >"$ca/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $ca/index.txt
serial = $ca/serial
new_certs_dir = $ca/out
certificate = $ca/ca.crt
private_key = $ca/ca.key
default_md = sha256
default_days = 365
policy = p
unique_subject = no
copy_extensions = copy
[p]
commonName = supplied
CNF
    # One openssl process signs a batch; two batches run at once (both cores).
    half=$((n / 2))
    for part in 0 1; do
        cnt=$half; ((part == 1)) && cnt=$((n - half))
        mkdir -p "$ca/p$part"; : >"$ca/p$part/index.txt"; echo $((1000 + part * 100000)) >"$ca/p$part/serial"
        sed -e "s#$ca/index.txt#$ca/p$part/index.txt#" -e "s#$ca/serial#$ca/p$part/serial#" \
            -e "s#$ca/out#$ca/p$part#" "$ca/ca.cnf" >"$ca/p$part.cnf"
        yes "$ca/leaf.csr" | head -n "$cnt" | xargs openssl ca -batch -notext -config "$ca/p$part.cnf" \
            -infiles >/dev/null 2>&1 &
    done
    wait
    cp "$ca/ca.crt" "$data/certs-$n/ca.crt"
    i=0
    for f in "$ca"/p0/*.pem "$ca"/p1/*.pem; do
        i=$((i + 1)); mv "$f" "$data/certs-$n/leaf-$i.crt"
    done
    cat "$data/certs-$n"/*.crt >"$data/bundle-$n.pem.tmp" && mv "$data/bundle-$n.pem.tmp" "$data/bundle-$n.pem"
fi
count=$(ls "$data/certs-$n" | wc -l)
check_json() { "$KUBEVET" certs check "$@" -o json --fail-on never; }
# Sanity: every certificate was parsed and verified (no KV104), or the timing means nothing.
got=$(check_json "$data/certs-$n" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["certificates"]), sum(f["id"]=="KV104" for f in d["findings"]))')
[[ $got == "$count 0" ]] || { echo "bench: unexpected result '$got' for $count files" >&2; exit 1; }

t_dir=$(best_of 5 "$KUBEVET" certs check "$data/certs-$n" --fail-on never)
t_bun=$(best_of 5 "$KUBEVET" certs check "$data/bundle-$n.pem" --fail-on never)
t_pipe=$(best_of 3 sh -c "openssl crl2pkcs7 -nocrl -certfile '$data/bundle-$n.pem' | openssl pkcs7 -print_certs -noout")
t_cat=$(best_of 3 cat "$data/bundle-$n.pem")
printf '%d certs, folder (parse+verify):     kubevet %6.3f s   goal < 1 s\n' "$count" "$t_dir"
printf '%d certs, one bundle (parse+verify): kubevet %6.3f s   openssl crl2pkcs7|pkcs7 (parse only) %6.3f s   ratio %.1fx   cat floor %.3f s\n' \
    "$count" "$t_bun" "$t_pipe" "$(echo "$t_pipe / $t_bun" | bc -l)" "$t_cat"
