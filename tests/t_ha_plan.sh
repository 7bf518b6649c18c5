#!/usr/bin/env bash
# t_ha_plan.sh - incident 5 replayed: `kubevet ha plan --apply` on a single-master root. The
# generated nginx and haproxy configurations pass `nginx -t` and `haproxy -c`, then really
# proxy: each LB runs on loopback in front of two `openssl s_server` backends serving the
# renewed apiserver certificate, and kubectl reaches them through the endpoint with the
# rewritten admin.conf. SANs and server lines are read back with openssl and grep.
# ctest-label: online
#   KUBEVET=build/kubevet bash tests/t_ha_plan.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KUBEVET=${KUBEVET:-${KV_BUILD:-$KV_SRC/build}/kubevet}
[ -x "$KUBEVET" ] || { echo "FAIL setup: no kubevet at $KUBEVET"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck source=lib/mknode.sh
. "$KV_SRC/tests/lib/mknode.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/kv-ha.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${KV_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
. "$KV_SRC/tests/lib/counts.sh"
free_port() { local p; while :; do p=$(( (RANDOM % 10000) + 20000 )); (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
wait_port() { local i; for i in $(seq 1 50); do (exec 3<>/dev/tcp/$1/$2) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# master-1 at 127.0.0.2; master-2 at 127.0.0.3 (loopback: the backends below listen there).
mknode "$W/base" --name master-1 --ip 127.0.0.2 >"$W/mk.log" 2>&1 || { cat "$W/mk.log"; echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }
LBPORT=$(free_port)
CP=(--control-plane master-1=127.0.0.2 --control-plane master-2=127.0.0.3)

# ---- refusal: the LB on 6443 on a control-plane host ----------------------------------------
cp -a "$W/base" "$W/r"
"$KUBEVET" ha plan --root "$W/r" --endpoint api.k8s.local:6443 "${CP[@]}" --apply >"$W/r.out" 2>"$W/r.err"
rc=$?
[ $rc = 3 ] && [ "$(wc -l <"$W/r.err")" = 1 ] && ok "port 6443 refused: exit 3, one line" || bad "port 6443 refused" "rc=$rc $(cat "$W/r.err")"
check "port 6443: nothing written" diff -r --no-dereference "$W/base" "$W/r"
check "port 6443: the safe alternative is printed" grep -q -- '--endpoint api.k8s.local:8443' "$W/r.out"
check "port 6443: no refused step printed" bash -c "! grep -q 'kubeadm join' '$W/r.out'"

# ---- --apply -o json offline: one report, what was done and what is left -------------------------
cp -a "$W/base" "$W/j"; mkdir -p "$W/j/lb"
"$KUBEVET" ha plan --root "$W/j" --endpoint api.k8s.local:8443 "${CP[@]}" --output-dir "$W/j/lb" --apply -o json >"$W/j.json" 2>"$W/j.err"
rc=$?
[ $rc = 0 ] && ok "--apply -o json: exit 0" || bad "--apply -o json" "rc=$rc $(cat "$W/j.err")"
check "--apply -o json: stdout is one report (applied, backup, no update, ConfigMap steps left)" /usr/bin/python3 - "$W/j.json" "$W/j" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
assert r["command"] == "ha plan" and r["applied"] is True, r
assert os.path.isfile(os.path.join(r["backup"], "MANIFEST")), r["backup"]
assert r["updated"] == [] and r["restart"] == ["kube-apiserver", "kubelet"], r
left = "\n".join(r["steps_left"])
for cm in ("kubeadm-config", "kube-proxy", "cluster-info"):
    assert cm in left, (cm, left)
assert any(a.get("path") == "etc/kubernetes/admin.conf" for a in r["plan"]["actions"]), r["plan"]
PY
check "--apply -o json: admin.conf dials the endpoint" grep -qx "    server: https://api.k8s.local:8443" "$W/j/etc/kubernetes/admin.conf"

# ---- dry run, then apply (nginx) --------------------------------------------------------------
cp -a "$W/base" "$W/n"
mkdir -p "$W/n/lb"
"$KUBEVET" ha plan --root "$W/n" --endpoint "127.0.0.1:$LBPORT" "${CP[@]}" --lb nginx --lb-bind 127.0.0.1 --output-dir "$W/n/lb" >"$W/n.dry" 2>&1
check "dry run exits 0" test $? = 0
check "dry run writes nothing" diff -r --no-dereference -x lb "$W/base" "$W/n"
check "dry run prints the ConfigMap commands" grep -q 'kubectl -n kube-public get configmap cluster-info' "$W/n.dry"
check "dry run fills the CA hash" grep -q "discovery-token-ca-cert-hash sha256:$(openssl x509 -in "$W/base/etc/kubernetes/pki/ca.crt" -noout -pubkey | openssl pkey -pubin -outform der 2>/dev/null | sha256sum | cut -d' ' -f1)" "$W/n.dry"
"$KUBEVET" ha plan --root "$W/n" --endpoint "127.0.0.1:$LBPORT" "${CP[@]}" --lb nginx --lb-bind 127.0.0.1 --output-dir "$W/n/lb" --apply >"$W/n.out" 2>&1
check "apply exits 0" test $? = 0
P=$W/n/etc/kubernetes/pki
s=$(openssl x509 -in "$P/apiserver.crt" -noout -ext subjectAltName | tail -n +2 | tr -d ' ')
for want in IPAddress:127.0.0.1 DNS:master-2 IPAddress:127.0.0.3 DNS:master-1 IPAddress:127.0.0.2 DNS:kubernetes; do
    case ",$s," in *",$want,"*) ok "apiserver SAN $want" ;; *) bad "apiserver SAN $want" "$s" ;; esac
done
check "apiserver cert verifies against ca.crt" openssl verify -CAfile "$W/base/etc/kubernetes/pki/ca.crt" "$P/apiserver.crt"
check "ca.crt unchanged" cmp "$W/base/etc/kubernetes/pki/ca.crt" "$P/ca.crt"
for f in admin kubelet controller-manager scheduler; do
    check "$f.conf dials the endpoint" grep -qx "    server: https://127.0.0.1:$LBPORT" "$W/n/etc/kubernetes/$f.conf"
done
NG=$W/n/lb/kubevet-lb-nginx.conf
check "nginx config written" test -f "$NG"
if command -v nginx >/dev/null; then
    mkdir -p "$W/ngx"
    # modules-enabled names modules relative to the prefix: give -p's prefix the same folder.
    ln -s /usr/lib/nginx/modules "$W/ngx/modules"
    nginx -t -q -c "$NG" -p "$W/ngx" -g "pid $W/ngx/nginx.pid; error_log stderr;" >"$W/ngx.t" 2>&1 &&
        ok "nginx -t accepts the config" || bad "nginx -t" "$(cat "$W/ngx.t")"
else
    skip "nginx -t" "nginx not installed"
fi

# ---- haproxy variant ---------------------------------------------------------------------------
cp -a "$W/base" "$W/h"; mkdir -p "$W/h/lb"
HPORT=$(free_port)
"$KUBEVET" ha plan --root "$W/h" --endpoint "127.0.0.1:$HPORT" "${CP[@]}" --lb haproxy --lb-bind 127.0.0.1 --output-dir "$W/h/lb" --apply >"$W/h.out" 2>&1
check "haproxy apply exits 0" test $? = 0
HA=$W/h/lb/kubevet-lb-haproxy.cfg
if command -v haproxy >/dev/null; then
    haproxy -c -q -f "$HA" >"$W/ha.c" 2>&1 && ok "haproxy -c accepts the config" || bad "haproxy -c" "$(cat "$W/ha.c")"
else
    skip "haproxy -c" "haproxy not installed"
fi

# ---- really proxy: two backends, each LB, kubectl through the endpoint ------------------------
KUBECTL=""
if d=$(bash "$KV_SRC/scripts/k8s-clients" 2>/dev/null) && [ -x "$d/kubectl" ]; then KUBECTL=$d/kubectl; fi
backends=1
for ip in 127.0.0.2 127.0.0.3; do
    if (exec 3<>/dev/tcp/$ip/6443) 2>/dev/null; then backends=0; fi
done
if [ -z "$KUBECTL" ]; then
    skip "proxying" "kubectl unavailable (scripts/k8s-clients failed)"
elif [ $backends = 0 ]; then
    skip "proxying" "something already listens on port 6443"
else
    for ip in 127.0.0.2 127.0.0.3; do
        openssl s_server -quiet -accept "$ip:6443" -cert "$P/apiserver.crt" -key "$P/apiserver.key" -www >/dev/null 2>&1 &
        PIDS+=($!)
        wait_port $ip 6443 || bad "backend $ip did not start"
    done
    if command -v nginx >/dev/null; then
        nginx -c "$NG" -p "$W/ngx" -g "daemon off; pid $W/ngx/nginx.pid; error_log stderr;" >"$W/ngx.log" 2>&1 &
        PIDS+=($!)
        if wait_port 127.0.0.1 "$LBPORT"; then
            "$KUBECTL" --kubeconfig "$W/n/etc/kubernetes/admin.conf" get --raw /readyz >"$W/k.out" 2>&1 &&
                grep -qi 'html\|cipher' "$W/k.out" && ok "kubectl through nginx with the rewritten admin.conf (TLS verified by name)" ||
                bad "kubectl through nginx" "$(head -3 "$W/k.out")"
        else
            bad "nginx did not listen" "$(cat "$W/ngx.log")"
        fi
    fi
    if command -v haproxy >/dev/null; then
        haproxy -db -f "$HA" >"$W/ha.log" 2>&1 &
        PIDS+=($!)
        if wait_port 127.0.0.1 "$HPORT"; then
            sleep 2.5 # the first /readyz checks mark the backends up
            "$KUBECTL" --kubeconfig "$W/h/etc/kubernetes/admin.conf" get --raw /readyz >"$W/k2.out" 2>&1 &&
                grep -qi 'html\|cipher' "$W/k2.out" && ok "kubectl through haproxy with the rewritten admin.conf" ||
                bad "kubectl through haproxy" "$(head -3 "$W/k2.out") $(tail -3 "$W/ha.log")"
        else
            bad "haproxy did not listen" "$(cat "$W/ha.log")"
        fi
    fi
fi

# ---- restore undoes the node's part -------------------------------------------------------------
B=$(find "$W/n/etc/kubernetes" -maxdepth 1 -name 'kubevet-backup-*' | head -1)
"$KUBEVET" restore "$B" --apply >/dev/null 2>&1
check "restore: root as before (the LB config removed)" diff -r --no-dereference -x 'kubevet-backup-*' -x lb "$W/base" "$W/n"
check "restore: the LB config did not exist before, so it is gone" test ! -e "$NG"

# ---- the cluster's part through the API (stand-in seeded with incident 5's single master) -------
# The ConfigMaps are read back with kubectl, never with kubevet.
# shellcheck source=lib/apiserver.sh
. "$KV_SRC/tests/lib/apiserver.sh"
if [ -z "$KUBECTL" ]; then
    skip "API part" "kubectl unavailable (scripts/k8s-clients failed)"
elif ! apiserver_setup || ! apiserver_pki >"$W/pki.log" 2>&1; then
    skip "API part" "the stand-in's PKI could not be made"
else
    trap 'apiserver_cleanup; cleanup' EXIT
    apiserver_start API --version v1.17.17 "$KV_SRC/tests/data/clusters/incident5-v1.17" >"$W/api.log" 2>&1 ||
        bad "stand-in did not start" "$(tail -3 "$W/api.log")"
    KC=$W/cluster.conf
    apiserver_kubeconfig API "$KC" cert
    kj() { "$KUBECTL" --kubeconfig "$KC" -n "$1" get configmap "$2" -o json; }
    kd() { "$KUBECTL" --kubeconfig "$KC" -n "$1" get configmap "$2" -o "jsonpath={.data.$3}"; }
    snap() { kj kube-system kubeadm-config | jq -S .; kj kube-system kube-proxy | jq -S .; kj kube-public cluster-info | jq -S .; }
    snap >"$W/cm.before"
    APORT=$(free_port)
    # A 500 on the 2nd API write (kube-proxy, after kubeadm-config): everything as before, exit 3.
    cp -a "$W/base" "$W/f"
    apiserver_admin API POST /_standin/faults '{"fail_write":[2]}' >/dev/null
    "$KUBEVET" ha plan --root "$W/f" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" --apply >"$W/f.out" 2>"$W/f.err"
    rc=$?
    [ $rc = 3 ] && ok "500 on the 2nd API write: exit 3" || bad "500 on the 2nd API write: exit 3" "rc=$rc $(cat "$W/f.err")"
    check "500 on the 2nd API write: the error says every change was undone" grep -q 'every change was undone' "$W/f.err"
    snap >"$W/cm.after-fail"
    check "500 on the 2nd API write: every ConfigMap as before (kubectl -o json, resourceVersion aside)" \
        diff <(jq -S 'del(.metadata.resourceVersion)' "$W/cm.before") <(jq -S 'del(.metadata.resourceVersion)' "$W/cm.after-fail")
    check "500 on the 2nd API write: the root's bytes as before" diff -r --no-dereference -x 'kubevet-backup-*' "$W/base" "$W/f"
    apiserver_admin API POST /_standin/reset >/dev/null
    # A ConfigMap that moves between the plan and the write is never overwritten: 409 -> exit 3.
    cp -a "$W/base" "$W/c"
    apiserver_admin API POST /_standin/faults '{"conflict_update":[1]}' >/dev/null
    "$KUBEVET" ha plan --root "$W/c" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" --apply >"$W/c.out" 2>"$W/c.err"
    rc=$?
    [ $rc = 3 ] && ok "409 on the 1st update: exit 3, not retried" || bad "409 on the 1st update" "rc=$rc $(cat "$W/c.err")"
    check "409: root as before" diff -r --no-dereference -x 'kubevet-backup-*' "$W/base" "$W/c"
    snap >"$W/cm.after-409"
    check "409: every ConfigMap as before" diff <(jq -S 'del(.metadata.resourceVersion)' "$W/cm.before") <(jq -S 'del(.metadata.resourceVersion)' "$W/cm.after-409")
    apiserver_admin API POST /_standin/reset >/dev/null
    # kube-proxy changes between the plan and its update (its 2nd GET, the executor's check, is
    # held 3 s while kubectl patches it): "changed since the plan was made", exit 3, and the
    # kubeadm-config update already done is put back.
    cp -a "$W/base" "$W/m"
    snap >"$W/cm.before-moved"
    apiserver_admin API POST /_standin/faults '{"rules":[{"method":"GET","path":"/configmaps/kube-proxy$","nth":2,"times":1,"delay_ms":3000}]}' >/dev/null
    "$KUBEVET" ha plan --root "$W/m" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" --apply >"$W/m.out" 2>"$W/m.err" &
    mpid=$!
    sleep 1.5
    "$KUBECTL" --kubeconfig "$KC" -n kube-system patch configmap kube-proxy --type merge -p '{"data":{"moved":"yes"}}' >/dev/null 2>&1
    wait $mpid
    rc=$?
    [ $rc = 3 ] && grep -q 'changed since the plan was made' "$W/m.err" && ok "moved object: exit 3, changed since the plan was made" ||
        bad "moved object" "rc=$rc $(cat "$W/m.err")"
    check "moved object: root as before" diff -r --no-dereference -x 'kubevet-backup-*' "$W/base" "$W/m"
    check "moved object: kubeadm-config put back (kubectl)" diff <(jq -S 'del(.metadata.resourceVersion)' <(kj kube-system kubeadm-config)) \
        <(jq -S 'select(.metadata.name == "kubeadm-config") | del(.metadata.resourceVersion)' "$W/cm.before-moved")
    check "moved object: the operator's change to kube-proxy kept" test "$(kd kube-system kube-proxy moved)" = yes
    apiserver_admin API POST /_standin/reset >/dev/null
    # Dry run with the cluster: nothing written anywhere, the updates named at their resourceVersion.
    cp -a "$W/base" "$W/a"
    rv=$(kj kube-system kube-proxy | jq -r .metadata.resourceVersion)
    snap >"$W/cm.before-dry"
    "$KUBEVET" ha plan --root "$W/a" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" >"$W/a.dry" 2>&1
    check "API dry run: exit 0" test $? = 0
    check "API dry run names kube-proxy at its resourceVersion" grep -q "update ConfigMap kube-system/kube-proxy at resourceVersion $rv" "$W/a.dry"
    snap >"$W/cm.after-dry"
    check "API dry run: ConfigMaps untouched" diff "$W/cm.before-dry" "$W/cm.after-dry"
    # With the cluster read, the ConfigMap steps are the API updates --apply makes, shown as a
    # diff of their data, not as kubectl commands (the offline plan above keeps those).
    check "API dry run: no kubectl fallback command" bash -c "! grep -q 'kubectl -n' '$W/a.dry'"
    check "API dry run: no operator step for the ConfigMaps" bash -c "! grep -q 'configmap' '$W/a.dry'"
    old_kp=$(kd kube-system kube-proxy 'kubeconfig\.conf' | grep -m1 'server:')
    old_ci=$(kd kube-public cluster-info kubeconfig | grep -m1 'server:')
    for cm in "kube-system/kubeadm-config data.ClusterConfiguration" "kube-system/kube-proxy data.kubeconfig.conf" "kube-public/cluster-info data.kubeconfig"; do
        check "API dry run: diff of ConfigMap $cm" grep -qF -- "+++ ConfigMap $cm" "$W/a.dry"
    done
    check "API dry run: kube-proxy's old server line removed" grep -qxF -- "   -$old_kp" "$W/a.dry"
    check "API dry run: cluster-info's old server line removed" grep -qxF -- "   -$old_ci" "$W/a.dry"
    check "API dry run: the endpoint's server line added" grep -qxF -- "   +    server: https://127.0.0.1:$APORT" "$W/a.dry"
    check "API dry run: controlPlaneEndpoint added" grep -qxE -- "   \+controlPlaneEndpoint: \"?127\.0\.0\.1:$APORT\"?" "$W/a.dry"
    "$KUBEVET" ha plan --root "$W/a" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" -o json >"$W/a.json" 2>/dev/null
    check "API dry run -o json: three api updates, each with a diff and its body" \
        test "$(jq '[.plan.actions[] | select(.object.kind == "ConfigMap" and (.diff | length) > 0 and (.body | length) > 0)] | length' "$W/a.json")" = 3
    # Apply.
    "$KUBEVET" ha plan --root "$W/a" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" --apply >"$W/a.out" 2>&1
    rc=$?
    [ $rc = 0 ] && ok "ha plan --apply with the cluster: exit 0" || bad "ha plan --apply with the cluster" "rc=$rc $(cat "$W/a.out")"
    CC=$(kd kube-system kubeadm-config ClusterConfiguration)
    cpe=$(printf '%s\n' "$CC" | /usr/bin/python3 -c 'import sys,yaml; print(yaml.safe_load(sys.stdin).get("controlPlaneEndpoint"))')
    [ "$cpe" = "127.0.0.1:$APORT" ] && ok "kubeadm-config controlPlaneEndpoint" || bad "controlPlaneEndpoint" "$cpe"
    sans=$(printf '%s\n' "$CC" | /usr/bin/python3 -c 'import sys,yaml; print(",".join(yaml.safe_load(sys.stdin)["apiServer"]["certSANs"]))')
    [ "$sans" = "127.0.0.1,master-1,127.0.0.2,master-2,127.0.0.3" ] && ok "kubeadm-config apiServer.certSANs" || bad "certSANs" "$sans"
    ae=$(printf '%s\n' "$CC" | /usr/bin/python3 -c 'import sys,yaml; print(yaml.safe_load(sys.stdin)["apiServer"]["extraArgs"]["authorization-mode"])')
    [ "$ae" = "Node,RBAC" ] && ok "kubeadm-config: the other apiServer fields kept" || bad "apiServer fields kept" "$ae"
    check "cluster-info server is the endpoint" bash -c "printf '%s' \"\$1\" | grep -qx '    server: https://127.0.0.1:$APORT'" _ "$(kd kube-public cluster-info kubeconfig)"
    check "kube-proxy server is the endpoint" bash -c "printf '%s' \"\$1\" | grep -qx '    server: https://127.0.0.1:$APORT'" _ "$(kd kube-system kube-proxy 'kubeconfig\.conf')"
    check "kube-proxy's config.conf kept" bash -c "printf '%s' \"\$1\" | grep -q 'mode: iptables'" _ "$(kd kube-system kube-proxy 'config\.conf')"
    check "admin.conf dials the endpoint" grep -qx "    server: https://127.0.0.1:$APORT" "$W/a/etc/kubernetes/admin.conf"
    check "no cluster step left as a kubectl command" bash -c "! grep -q 'kubectl -n' '$W/a.out'"
    # Again: the cluster already says so, so no API step is planned.
    "$KUBEVET" ha plan --root "$W/a" --kubeconfig "$KC" --endpoint "127.0.0.1:$APORT" "${CP[@]}" >"$W/a2.dry" 2>&1
    check "second plan: no ConfigMap update" bash -c "! grep -q 'update ConfigMap' '$W/a2.dry'"
fi

echo "$pass passed, $fail failed${skipped:+, $skipped skipped}"
[ $fail = 0 ]
