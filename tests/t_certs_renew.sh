#!/usr/bin/env bash
# t_certs_renew.sh - `kubevet certs renew` and `kubevet restore`, judged by independent tools:
# the openssl CLI (verify, SANs, subjects, key pairs), stat, cmp/diff, a real etcd 3.4 with TLS
# and etcdctl, openssl s_server + curl. Fixtures are built at test time (mknode.sh, mkcfssl.sh).
# ctest-label: online
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_certs_renew.sh
# KV_KEEP=1 keeps the work folder.
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KUBEVET=${KUBEVET:-${KV_BUILD:-$KV_SRC/build}/kubevet}
[ -x "$KUBEVET" ] || { echo "FAIL setup: no kubevet binary at $KUBEVET"; echo "0 passed, 1 failed"; exit 1; }
for t in openssl curl cmp diff stat; do
    command -v $t >/dev/null || { echo "FAIL setup: $t missing"; echo "0 passed, 1 failed"; exit 1; }
done

# shellcheck source=lib/mknode.sh
. "$KV_SRC/tests/lib/mknode.sh"
# shellcheck source=lib/mkcfssl.sh
. "$KV_SRC/tests/lib/mkcfssl.sh"
# shellcheck source=lib/etcd.sh
. "$KV_SRC/tests/lib/etcd.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/kv-renew.XXXXXX")
POOL_PID="" SSERVER_PID=""
cleanup() {
    [ -n "$POOL_PID" ] && kill "$POOL_PID" 2>/dev/null
    [ -n "$SSERVER_PID" ] && kill "$SSERVER_PID" 2>/dev/null
    etcd_cleanup
    [ -n "${KV_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
ETCD_TMP=$W/etcd
mkdir -p "$ETCD_TMP"
trap cleanup EXIT
export KV_KEY_POOL=$W/keypool
POOL_PID=$(kv_keypool_start "$KV_KEY_POOL" 60)

. "$KV_SRC/tests/lib/counts.sh"

# Same bytes, same modes, same symlinks (backup folders aside: they are the undo record).
same_tree() {
    diff -r --no-dereference -x 'kubevet-backup-*' "$1" "$2" >/dev/null 2>&1 &&
        [ "$(cd "$1" && find . -path '*kubevet-backup-*' -prune -o -printf '%p %m %l\n' | sort)" = \
          "$(cd "$2" && find . -path '*kubevet-backup-*' -prune -o -printf '%p %m %l\n' | sort)" ] &&
        [ -z "$(find "$2" -name '*.kubevet-tmp-*')" ]
}
pub_of_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }
pub_of_cert() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }
sans() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' '; }
# kubeconfig user cert/key -> files (embedded -data)
kc_extract() { # CONF OUTDIR
    sed -n 's/^ *client-certificate-data: //p' "$1" | base64 -d >"$2/c.crt"
    sed -n 's/^ *client-key-data: //p' "$1" | base64 -d >"$2/c.key"
}
current_pem() { _kv_current_pem "$1"; }

LEAVES="apiserver apiserver-kubelet-client apiserver-etcd-client front-proxy-client etcd/server etcd/peer etcd/healthcheck-client"
ca_of() { case $1 in etcd/*|apiserver-etcd-client) echo etcd/ca ;; front-proxy-client) echo front-proxy-ca ;; *) echo ca ;; esac; }
CAS="ca.crt ca.key front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key"

mknode "$W/base" --endpoint cp.example.com:6443 >"$W/mk.log" 2>&1 || { cat "$W/mk.log"; echo "FAIL setup: mknode"; echo "0 passed, 1 failed"; exit 1; }
P0=$W/base/etc/kubernetes/pki

# ---- 1. dry run writes nothing; the plan shows no key bytes -------------------------------
cp -a "$W/base" "$W/dry"
"$KUBEVET" certs renew all kubelet.conf --root "$W/dry" >"$W/dry.out" 2>&1
rc=$?
[ $rc = 0 ] && ok "dry run exits 0" || bad "dry run exits 0" "rc=$rc"
check "dry run changes nothing" same_tree "$W/base" "$W/dry"
check "dry run has no backup folder" test -z "$(find "$W/dry" -name 'kubevet-backup-*')"
if grep -q 'PRIVATE KEY-----' "$W/dry.out" || grep -q 'MII' "$W/dry.out"; then bad "dry run shows no key/PEM bytes"; else ok "dry run shows no key/PEM bytes"; fi
check "dry run says new private key (0600)" grep -q 'new private key (0600)' "$W/dry.out"
check "dry run table names the signer" grep -q 'etc/kubernetes/pki/front-proxy-ca.crt' "$W/dry.out"
"$KUBEVET" certs renew all --root "$W/dry" --keep-key -o json >"$W/dry.json" 2>/dev/null
check "dry run json parses and lists 11 renewals" \
    /usr/bin/python3 -c "import json,sys; d=json.load(open('$W/dry.json')); assert len(d['renewals'])==11 and d['plan']['actions']"

# ---- 2. renew all + kubelet.conf with a new SAN ---------------------------------------------
cp -a "$W/base" "$W/n1"
P=$W/n1/etc/kubernetes/pki
start=$(date +%s)
"$KUBEVET" certs renew all kubelet.conf --root "$W/n1" --add-san lb.example.com --add-san 10.0.0.100 --apply >"$W/n1.out" 2>&1
rc=$?
[ $rc = 0 ] && ok "renew all --apply exits 0" || { bad "renew all --apply exits 0" "rc=$rc: $(tail -3 "$W/n1.out")"; }
for f in $CAS; do
    check "CA file $f byte-identical" cmp "$P0/$f" "$P/$f"
done
for l in $LEAVES; do
    ca=$(ca_of "$l")
    check "$l verifies against the untouched $ca" openssl verify -CAfile "$P0/$ca.crt" "$P/$l.crt"
    check "$l changed" bash -c "! cmp -s '$P0/$l.crt' '$P/$l.crt'"
    check "$l key pairs with cert" test "$(pub_of_key "$P/$l.key")" = "$(pub_of_cert "$P/$l.crt")"
    check "$l new key" test "$(pub_of_key "$P/$l.key")" != "$(pub_of_key "$P0/$l.key")"
    check "$l key 0600" test "$(stat -c %a "$P/$l.key")" = 600
    check "$l key: openssl rsa -check" bash -c "openssl rsa -check -noout -in '$P/$l.key' 2>&1 | grep -qx 'RSA key ok'"
    check "$l subject kept" test "$(openssl x509 -in "$P/$l.crt" -noout -subject)" = "$(openssl x509 -in "$P0/$l.crt" -noout -subject)"
    check "$l usages kept" test "$(openssl x509 -in "$P/$l.crt" -noout -ext keyUsage,extendedKeyUsage,basicConstraints)" = \
        "$(openssl x509 -in "$P0/$l.crt" -noout -ext keyUsage,extendedKeyUsage,basicConstraints)"
    check "$l valid for 364 days" openssl x509 -in "$P/$l.crt" -noout -checkend $((364 * 86400))
    check "$l not valid past 366 days" bash -c "! openssl x509 -in '$P/$l.crt' -noout -checkend $((366 * 86400))"
done
# The new keys are FIPS 186-4 B.3.3 keys (src/lib/pki/rsagen.c), judged by python3-cryptography:
# 2048 bits, e = 65537, primes of 1024 bits each with their top two bits set (so p, q >=
# sqrt(2) * 2^1023), |p - q| > 2^(1024 - 100), 2^1024 < d < lcm(p - 1, q - 1).
keys=$(for l in $LEAVES; do printf '%s ' "$P/$l.key"; done)
check "new keys: FIPS 186-4 B.3.3 properties" /usr/bin/python3 - $keys <<'PY'
import math, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
for path in sys.argv[1:]:
    k = load_pem_private_key(open(path, "rb").read(), None).private_numbers()
    p, q, d, e = k.p, k.q, k.d, k.public_numbers.e
    lcm = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    ok = (e == 65537 and (p * q).bit_length() == 2048 and p.bit_length() == q.bit_length() == 1024
          and p >> 1022 == 3 and q >> 1022 == 3 and abs(p - q) > 2 ** 924
          and 2 ** 1024 < d < lcm and d * e % lcm == 1)
    if not ok:
        sys.exit("%s: not a B.3.3 key" % path)
PY
s=$(sans "$P/apiserver.crt")
for want in DNS:lb.example.com IPAddress:10.0.0.100 DNS:cp.example.com DNS:master-1 DNS:kubernetes.default.svc.cluster.local IPAddress:10.96.0.1 IPAddress:10.0.0.11; do
    case ",$s," in *",$want,"*) ok "apiserver SAN $want" ;; *) bad "apiserver SAN $want" "$s" ;; esac
done
check "etcd server SANs unchanged (no --add-san there)" test "$(sans "$P/etcd/server.crt")" = "$(sans "$P0/etcd/server.crt")"
for c in admin super-admin controller-manager scheduler; do
    mkdir -p "$W/kc/$c"
    kc_extract "$W/n1/etc/kubernetes/$c.conf" "$W/kc/$c"
    check "$c.conf cert verifies against ca.crt" openssl verify -CAfile "$P0/ca.crt" "$W/kc/$c/c.crt"
    check "$c.conf key pairs with cert" test "$(pub_of_key "$W/kc/$c/c.key")" = "$(pub_of_cert "$W/kc/$c/c.crt")"
    check "$c.conf still 0600" test "$(stat -c %a "$W/n1/etc/kubernetes/$c.conf")" = 600
    check "$c.conf server line kept" test "$(grep 'server:' "$W/n1/etc/kubernetes/$c.conf")" = "$(grep 'server:' "$W/base/etc/kubernetes/$c.conf")"
done
pem=$(current_pem "$W/n1")
check "kubelet client pem verifies" openssl verify -CAfile "$P0/ca.crt" "$pem"
check "kubelet client pem 0600" test "$(stat -c %a "$pem")" = 600
check "kubelet-client-current.pem still a symlink" test -L "$W/n1/var/lib/kubelet/pki/kubelet-client-current.pem"
check "kubelet key pairs" test "$(pub_of_key "$pem")" = "$(pub_of_cert "$pem")"
check "advice names kube-apiserver" grep -q 'manifests/kube-apiserver.yaml' "$W/n1.out"
check "advice names the kubelet" grep -q 'systemctl restart kubelet' "$W/n1.out"
B=$(find "$W/n1/etc/kubernetes" -maxdepth 1 -name 'kubevet-backup-*' | head -1)
check "backup folder exists" test -d "$B"
check "backup keeps apiserver.key 0600" test "$(stat -c %a "$B/etc/kubernetes/pki/apiserver.key")" = 600
check "backup holds the old bytes" cmp "$B/etc/kubernetes/pki/apiserver.crt" "$P0/apiserver.crt"
check "backup MANIFEST lists apiserver.key" grep -q '^saved 0600 .* etc/kubernetes/pki/apiserver.key$' "$B/MANIFEST"
"$KUBEVET" check --root "$W/n1" -o json >"$W/n1.check" 2>/dev/null
check "no KV104/KV105/KV106/KV107/KV108 after" /usr/bin/python3 -c "
import json; d=json.load(open('$W/n1.check')); ids={f['id'] for f in d['findings']}
assert not ids & {'KV104','KV105','KV106','KV107','KV108'}, ids"

# ---- 3. restore brings back the original bytes (on a copy: n1 stays renewed for 5 and 6) ---
cp -a "$W/n1" "$W/n1r"
B=$(find "$W/n1r/etc/kubernetes" -maxdepth 1 -name 'kubevet-backup-*' | head -1)
"$KUBEVET" restore "$B" >"$W/restore.out" 2>&1
check "restore dry run exits 0 and writes nothing" bash -c "! cmp -s '$P0/apiserver.crt' '$W/n1r/etc/kubernetes/pki/apiserver.crt'"
"$KUBEVET" restore "$B" --apply >"$W/restore.out" 2>&1
rc=$?
[ $rc = 0 ] && ok "restore --apply exits 0" || bad "restore --apply exits 0" "rc=$rc $(cat "$W/restore.out")"
check "restore: root byte-identical to before the renewal" same_tree "$W/base" "$W/n1r"

# ---- 4. --keep-key keeps every key -----------------------------------------------------------
cp -a "$W/base" "$W/kk"
"$KUBEVET" certs renew all --root "$W/kk" --keep-key --apply >"$W/kk.out" 2>&1
check "--keep-key exits 0" test $? = 0
for l in $LEAVES; do
    check "--keep-key: $l.key unchanged" cmp "$P0/$l.key" "$W/kk/etc/kubernetes/pki/$l.key"
    check "--keep-key: $l verifies" openssl verify -CAfile "$P0/$(ca_of "$l").crt" "$W/kk/etc/kubernetes/pki/$l.crt"
done

# ---- 4b. --restart-static-pods moves the manifests out and back -----------------------------
cp -a "$W/base" "$W/rs"
"$KUBEVET" certs renew front-proxy-client etcd-peer --root "$W/rs" --keep-key --apply --restart-static-pods --restart-wait 1 >"$W/rs.out" 2>&1
check "--restart-static-pods exits 0" test $? = 0
check "--restart-static-pods: kube-apiserver manifest back, same bytes" cmp "$W/base/etc/kubernetes/manifests/kube-apiserver.yaml" "$W/rs/etc/kubernetes/manifests/kube-apiserver.yaml"
check "--restart-static-pods: etcd manifest back, same bytes" cmp "$W/base/etc/kubernetes/manifests/etcd.yaml" "$W/rs/etc/kubernetes/manifests/etcd.yaml"
check "--restart-static-pods: says what it restarted" grep -q 'restarted static pod etcd' "$W/rs.out"
check "--restart-static-pods: no side folder left" test -z "$(find "$W/rs/etc/kubernetes" -maxdepth 1 -name 'kubevet-restart-*')"

# ---- 5. a renewed etcd set serves a real etcd; etcdctl health with the renewed client -------
if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
    E=$P
    cport=$(etcd_free_port) pport=$(etcd_free_port)
    etcd --name master-1 --data-dir "$ETCD_TMP/data" \
        --listen-client-urls "https://127.0.0.1:$cport" --advertise-client-urls "https://127.0.0.1:$cport" \
        --listen-peer-urls "https://127.0.0.1:$pport" --initial-advertise-peer-urls "https://127.0.0.1:$pport" \
        --initial-cluster "master-1=https://127.0.0.1:$pport" \
        --cert-file "$E/etcd/server.crt" --key-file "$E/etcd/server.key" --trusted-ca-file "$E/etcd/ca.crt" \
        --client-cert-auth --peer-cert-file "$E/etcd/peer.crt" --peer-key-file "$E/etcd/peer.key" \
        --peer-trusted-ca-file "$E/etcd/ca.crt" --peer-client-cert-auth >"$ETCD_TMP/log" 2>&1 &
    ETCD_PIDS+=($!)
    healthy=0
    for _ in $(seq 1 100); do
        if etcdctl --endpoints "https://127.0.0.1:$cport" --cacert "$E/etcd/ca.crt" \
            --cert "$E/etcd/healthcheck-client.crt" --key "$E/etcd/healthcheck-client.key" \
            endpoint health >/dev/null 2>&1; then healthy=1; break; fi
        sleep 0.2
    done
    [ $healthy = 1 ] && ok "etcd with renewed server/peer certs: etcdctl endpoint health (renewed healthcheck-client)" ||
        bad "etcd endpoint health" "$(tail -3 "$ETCD_TMP/log")"
    check "etcdctl put with the renewed apiserver-etcd-client" etcdctl --endpoints "https://127.0.0.1:$cport" \
        --cacert "$E/etcd/ca.crt" --cert "$E/apiserver-etcd-client.crt" --key "$E/apiserver-etcd-client.key" put k v
else
    skip "etcd TLS" "etcd/etcdctl not installed"
fi

# ---- 6. the renewed apiserver cert served by openssl s_server, reached by name with curl -----
sport=$(etcd_free_port)
openssl s_server -quiet -accept "127.0.0.1:$sport" -cert "$P/apiserver.crt" -key "$P/apiserver.key" -www >/dev/null 2>&1 &
SSERVER_PID=$!
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$sport) 2>/dev/null && break; sleep 0.1; done
for name in lb.example.com kubernetes.default.svc cp.example.com; do
    check "curl --cacert reaches the renewed apiserver cert as $name" \
        curl -sS -o /dev/null --max-time 5 --cacert "$P0/ca.crt" --resolve "$name:$sport:127.0.0.1" "https://$name:$sport/"
done
check "curl refuses a name not in the SANs" bash -c "! curl -sS -o /dev/null --max-time 5 --cacert '$P0/ca.crt' --resolve 'evil.example.com:$sport:127.0.0.1' 'https://evil.example.com:$sport/'"
kill "$SSERVER_PID" 2>/dev/null; SSERVER_PID=""

# ---- 7. incident 1: master-1 holding master-2's kubelet credentials ------------------------
cp -a "$W/base" "$W/i1"
mut_kubelet_other_node "$W/i1" master-2 >/dev/null 2>&1
"$KUBEVET" check --root "$W/i1" -o json >"$W/i1.before" 2>/dev/null
check "incident 1: KV106 before" grep -q '"KV106"' "$W/i1.before"
"$KUBEVET" certs renew kubelet.conf --root "$W/i1" --apply >"$W/i1.out" 2>&1
check "incident 1: renew kubelet.conf exits 0" test $? = 0
pem=$(current_pem "$W/i1")
subj=$(openssl x509 -in "$pem" -noout -subject -nameopt RFC2253)
case $subj in *"CN=system:node:master-1,O=system:nodes"*) ok "incident 1: CN=system:node:master-1, O=system:nodes" ;; *) bad "incident 1 subject" "$subj" ;; esac
check "incident 1: chains to the same CA" openssl verify -CAfile "$P0/ca.crt" "$pem"
check "incident 1: key pairs" test "$(pub_of_key "$pem")" = "$(pub_of_cert "$pem")"
# master-2's pem held an EC P-256 key (a TLS-bootstrapped node): the key type is kept, the key is new.
check "incident 1: key type kept (EC P-256)" bash -c "openssl x509 -in '$pem' -noout -text | grep -q 'ASN1 OID: prime256v1'"
"$KUBEVET" check --root "$W/i1" -o json >"$W/i1.after" 2>/dev/null
check "incident 1: no KV106 after" bash -c "! grep -q '\"KV106\"' '$W/i1.after'"

# ---- 8. incident 3: certs expiring in 3 days, renew all keeps both CAs ----------------------
mknode "$W/i3" --not-after +3d >/dev/null 2>&1
cp -a "$W/i3" "$W/i3.orig"
"$KUBEVET" certs renew all --root "$W/i3" --apply >"$W/i3.out" 2>&1
check "incident 3: renew all exits 0" test $? = 0
for f in $CAS; do check "incident 3: $f byte for byte" cmp "$W/i3.orig/etc/kubernetes/pki/$f" "$W/i3/etc/kubernetes/pki/$f"; done
"$KUBEVET" check --root "$W/i3" -o json >"$W/i3.after" 2>/dev/null
check "incident 3: no KV104/KV108 after" /usr/bin/python3 -c "
import json; d=json.load(open('$W/i3.after')); ids={f['id'] for f in d['findings']}
assert not ids & {'KV104','KV108','KV101'}, ids"
# kubeadm's "all" leaves kubelet.conf to the kubelet's rotation: only its cert may still expire.
check "incident 3: KV102 left only on the kubelet client cert" /usr/bin/python3 -c "
import json; d=json.load(open('$W/i3.after'))
left=[f['subject'] for f in d['findings'] if f['id']=='KV102']
assert all('kubelet' in s for s in left), left"

# ---- 9. incident 4: a cfssl pair given as a path ---------------------------------------------
if command -v cfssl >/dev/null; then
    mkcfssl "$W/cf" >/dev/null 2>&1
    C=$W/cf/cfssl
    cp -a "$C" "$W/cf.orig"
    "$KUBEVET" certs renew "$C/worker-1.pem" --apply >"$W/cf.out" 2>&1
    check "cfssl pair: exits 0" test $? = 0
    check "cfssl pair: verifies against ca.pem" openssl verify -CAfile "$C/ca.pem" "$C/worker-1.pem"
    check "cfssl pair: ca.pem unchanged" cmp "$W/cf.orig/ca.pem" "$C/ca.pem"
    check "cfssl pair: ca-key.pem unchanged" cmp "$W/cf.orig/ca-key.pem" "$C/ca-key.pem"
    check "cfssl pair: subject kept" test "$(openssl x509 -in "$C/worker-1.pem" -noout -subject)" = "$(openssl x509 -in "$W/cf.orig/worker-1.pem" -noout -subject)"
    check "cfssl pair: key pairs" test "$(pub_of_key "$C/worker-1-key.pem")" = "$(pub_of_cert "$C/worker-1.pem")"
    check "cfssl pair: key 0600" test "$(stat -c %a "$C/worker-1-key.pem")" = 600
    check "cfssl pair: backup beside it" test -f "$(find "$C" -maxdepth 1 -name 'kubevet-backup-*' | head -1)/MANIFEST"
else
    skip "cfssl pair" "cfssl not installed"
fi

# ---- 10. refusals: exit 3, one line, nothing written -----------------------------------------
refusal() { # NAME ROOT ARGS...
    local n=$1 r=$2; shift 2
    cp -a "$r" "$W/ref.before"
    "$KUBEVET" certs renew "$@" --root "$r" --apply >"$W/ref.out" 2>"$W/ref.err"
    local rc=$?
    [ $rc = 3 ] && ok "$n: exit 3" || bad "$n: exit 3" "rc=$rc"
    [ "$(wc -l <"$W/ref.err")" = 1 ] && ok "$n: one line" || bad "$n: one line" "$(cat "$W/ref.err")"
    check "$n: nothing written" same_tree "$W/ref.before" "$r"
    check "$n: no backup folder" test -z "$(find "$r" -name 'kubevet-backup-*')"
    rm -rf "$W/ref.before"
}
cp -a "$W/base" "$W/ext"; rm -f "$W/ext/etc/kubernetes/pki/ca.key"
refusal "external CA" "$W/ext" apiserver
check "external CA: CSR steps printed" grep -q 'openssl req -new -key' "$W/ref.out"
cp -a "$W/base" "$W/exp"; mut_ca_expiring "$W/exp" etcd/ca 100 >/dev/null 2>&1
refusal "CA expiring before the new notAfter" "$W/exp" etcd-server
check "CA expiring: names --days" grep -q -- '--days' "$W/ref.err"
cp -a "$W/base" "$W/unk"
refusal "unknown name" "$W/unk" apiserver apiserverx

# ---- 11. fault injection at every step of --apply ---------------------------------------------
# Every write, rename and fsync the executor makes (backup first, then the steps) fails once in
# turn; afterwards the root is byte-identical to before, or fully renewed.
fault_loop() { # OP LEAF ARGS...: LEAF (one of those renewed) proves a complete renewal
    local op=$1 leaf=$2 n=1 rc; shift 2
    while [ $n -le 200 ]; do
        rm -rf "$W/f"; cp -a "$W/base" "$W/f"
        KUBEVET_FAULT=$op:$n "$KUBEVET" certs renew "$@" --root "$W/f" --apply >/dev/null 2>"$W/f.err"
        rc=$?
        if [ $rc = 0 ]; then
            # the fault came after the last operation: a complete renewal
            if openssl verify -CAfile "$P0/$(ca_of "$leaf").crt" "$W/f/etc/kubernetes/pki/$leaf.crt" >/dev/null 2>&1 &&
                ! cmp -s "$P0/$leaf.crt" "$W/f/etc/kubernetes/pki/$leaf.crt"; then
                ok "fault $op:1..$((n - 1)) rolled back, $op:$n past the end renewed fully"
            else
                bad "fault $op:$n: exit 0 but not renewed"
            fi
            return
        fi
        if ! same_tree "$W/base" "$W/f"; then
            bad "fault $op:$n: root changed after a failed apply" "$(cat "$W/f.err")"
            return
        fi
        n=$((n + 1))
    done
    bad "fault $op: never succeeded"
}
# (every file kind: a PKI pair, an embedded kubeconfig, the kubelet's combined PEM)
fault_loop write apiserver all kubelet.conf --keep-key
fault_loop rename apiserver apiserver admin.conf kubelet.conf --keep-key
fault_loop fsync apiserver apiserver admin.conf kubelet.conf --keep-key
fault_loop write front-proxy-client front-proxy-client # with a new key

# ---- a new critical after writing -> every change undone -----------------------------------
# A real state: the cluster CA carries a name constraint (excluded DNS subtree example.com), as an
# enterprise policy CA can. The CA is re-signed by its own key with its dates kept (the leaves
# still verify) and the kubeconfigs' CA data follow. Renewing apiserver with a SAN under the
# excluded subtree produces a certificate OpenSSL rejects; the checks run after writing raise a
# new KV104, and the executor puts every file back.
mknode "$W/nc" --name master-1 --ip 127.0.0.2 >/dev/null 2>&1 || bad "nc: mknode"
NP=$W/nc/etc/kubernetes/pki
oldca=$(base64 -w0 "$NP/ca.crt")
printf '[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\nsubjectKeyIdentifier=hash\nnameConstraints=critical,excluded;DNS:example.com\n' >"$W/nc.cnf"
openssl x509 -in "$NP/ca.crt" -signkey "$NP/ca.key" -preserve_dates -clrext -extfile "$W/nc.cnf" \
    -extensions v3 -out "$W/nc-ca.crt" 2>/dev/null && cp "$W/nc-ca.crt" "$NP/ca.crt"
newca=$(base64 -w0 "$NP/ca.crt")
grep -rl "$oldca" "$W/nc/etc/kubernetes" | while read -r f; do sed -i "s|$oldca|$newca|" "$f"; done
if openssl verify -CAfile "$NP/ca.crt" "$NP/apiserver.crt" >/dev/null 2>&1; then
    ok "name-constrained CA: the node's apiserver.crt still verifies (openssl)"
else
    bad "name-constrained CA fixture" "apiserver.crt does not verify"
fi
# The premise, judged by openssl alone: a leaf for api.example.com from this CA does not verify.
openssl req -new -newkey rsa:2048 -nodes -keyout "$W/nc-leaf.key" -subj /CN=x -addext "subjectAltName=DNS:api.example.com" -out "$W/nc-leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:api.example.com\n' >"$W/nc-leaf.ext"
openssl x509 -req -in "$W/nc-leaf.csr" -CA "$NP/ca.crt" -CAkey "$NP/ca.key" -CAcreateserial -CAserial "$W/nc.srl" -days 1 -extfile "$W/nc-leaf.ext" -out "$W/nc-leaf.crt" 2>/dev/null
openssl verify -CAfile "$NP/ca.crt" "$W/nc-leaf.crt" 2>&1 | grep -q 'excluded subtree' &&
    ok "name-constrained CA: openssl rejects a leaf for api.example.com" ||
    bad "name-constrained CA premise" "$(openssl verify -CAfile "$NP/ca.crt" "$W/nc-leaf.crt" 2>&1 | tail -1)"
cp -a "$W/nc" "$W/nc-before"
"$KUBEVET" certs renew apiserver --root "$W/nc" --add-san api.example.com --apply >"$W/nc.out" 2>"$W/nc.err"
rc=$?
[ $rc = 3 ] && ok "new critical after writing: exit 3" || bad "new critical after writing: exit 3" "rc=$rc"
grep -q 'new critical finding: KV104 etc/kubernetes/pki/apiserver.crt' "$W/nc.err" &&
    grep -q 'every change was undone' "$W/nc.err" && ok "new critical: KV104 named, every change undone" ||
    bad "new critical: message" "$(head -2 "$W/nc.err")"
diff -r --no-dereference -x 'kubevet-backup-*' "$W/nc-before" "$W/nc" >/dev/null &&
    ok "new critical: the root is byte-identical to before" || bad "new critical: root changed"
stat -c %a "$NP/apiserver.key" | grep -qx 600 && ok "new critical: apiserver.key still 0600" || bad "new critical: key mode"
# The same renewal with a SAN outside the excluded subtree goes through and verifies.
"$KUBEVET" certs renew apiserver --root "$W/nc" --add-san api.example.org --apply >/dev/null 2>"$W/nc2.err" &&
    openssl verify -CAfile "$NP/ca.crt" "$NP/apiserver.crt" >/dev/null 2>&1 &&
    openssl x509 -in "$NP/apiserver.crt" -noout -ext subjectAltName | grep -q 'DNS:api.example.org' &&
    ok "a SAN the CA permits: renewed and verified by openssl" || bad "permitted SAN renewal" "$(cat "$W/nc2.err")"

echo "$pass passed, $fail failed${skipped:+, $skipped skipped}"
[ $fail = 0 ]
