#!/usr/bin/env bash
# t_certs_renew_restart.sh - `certs renew --apply --restart-static-pods` waits on the mirror pod
# the way kubeadm does: kube-system/<component>-<node name>'s kubernetes.io/config.hash must
# change after the manifest comes back. The API stand-in holds incident 5's mirror pods; a
# background step (kubectl, not kubevet) changes the annotation once the manifest reappears.
# The command must return right after that change, and time out with one line and exit 3 when
# nothing changes. Without a kubeconfig the fixed wait stays, and is said.
# ctest-label: online
#   KUBEVET=build/kubevet bash tests/t_certs_renew_restart.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KUBEVET=${KUBEVET:-${KV_BUILD:-$KV_SRC/build}/kubevet}
[ -x "$KUBEVET" ] || { echo "FAIL setup: no kubevet at $KUBEVET"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck source=lib/mknode.sh
. "$KV_SRC/tests/lib/mknode.sh"
# shellcheck source=lib/apiserver.sh
. "$KV_SRC/tests/lib/apiserver.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/kv-restart.XXXXXX")
BG=()
cleanup() {
    local p
    for p in "${BG[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    apiserver_cleanup
    [ -n "${KV_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
. "$KV_SRC/tests/lib/counts.sh"
now() { date +%s.%N; }
# Seconds between two `now` stamps, 2 decimals.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

KUBECTL=""
if d=$(bash "$KV_SRC/scripts/k8s-clients" 2>/dev/null) && [ -x "$d/kubectl" ]; then KUBECTL=$d/kubectl; fi
mknode "$W/base" --name master-1 --ip 10.0.0.11 >"$W/mk.log" 2>&1 || { cat "$W/mk.log"; echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }
MAN=etc/kubernetes/manifests/kube-apiserver.yaml
POD=kube-apiserver-master-1

# ---- without a kubeconfig: the fixed wait, said -----------------------------------------------
cp -a "$W/base" "$W/f"
"$KUBEVET" certs renew front-proxy-client --root "$W/f" --keep-key --apply --restart-static-pods --restart-wait 1 >"$W/f.out" 2>"$W/f.err"
check "no kubeconfig: exit 0" test $? = 0
check "no kubeconfig: the fixed wait is said" grep -q 'a fixed 1s and nothing confirms the restart' "$W/f.err"
check "no kubeconfig: manifest back, same bytes" cmp "$W/base/$MAN" "$W/f/$MAN"

if [ -z "$KUBECTL" ]; then
    skip "API part" "kubectl unavailable (scripts/k8s-clients failed)"
elif ! apiserver_setup || ! apiserver_pki >"$W/pki.log" 2>&1; then
    skip "API part" "the stand-in's PKI could not be made"
else
    apiserver_start API --version v1.17.17 "$KV_SRC/tests/data/clusters/incident5-v1.17" >"$W/api.log" 2>&1 ||
        bad "stand-in did not start" "$(tail -3 "$W/api.log")"
    KC=$W/cluster.conf
    apiserver_kubeconfig API "$KC" cert
    hash() { "$KUBECTL" --kubeconfig "$KC" -n kube-system get pod "$POD" -o 'jsonpath={.metadata.annotations.kubernetes\.io/config\.hash}'; }
    # The stand-in answers pods as kube-apiserver does (kubectl judges): the mirror pod with a
    # uid and its annotation, NotFound for a pod that is not there.
    check "stand-in: the mirror pod has a uid" test -n "$("$KUBECTL" --kubeconfig "$KC" -n kube-system get pod "$POD" -o 'jsonpath={.metadata.uid}')"
    h0=$(hash)
    check "stand-in: the mirror pod has its config.hash" test -n "$h0"
    "$KUBECTL" --kubeconfig "$KC" -n kube-system get pod no-such-pod >/dev/null 2>"$W/nf.err"
    check "stand-in: a missing pod is NotFound" grep -q 'NotFound' "$W/nf.err"

    # The manifest leaves, comes back; 1 s later kubectl changes the annotation (what the
    # kubelet's new mirror pod carries). kubevet must return right after, not before.
    cp -a "$W/base" "$W/a"
    (
        # bounded: 60 s at most for each wait, whatever kubevet does
        i=0; while [ -e "$W/a/$MAN" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
        i=0; while [ ! -e "$W/a/$MAN" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
        [ $i -lt 1200 ] || exit 0
        sleep 1
        # the time the change starts: kubevet may see it before kubectl itself has exited
        now >"$W/changed"
        "$KUBECTL" --kubeconfig "$KC" -n kube-system annotate pod "$POD" --overwrite \
            kubernetes.io/config.hash=1111aaaa2222bbbb3333cccc4444dddd >/dev/null 2>&1
    ) &
    BG+=($!)
    t0=$(now)
    "$KUBEVET" certs renew front-proxy-client --kubeconfig "$KC" --root "$W/a" --keep-key --apply \
        --restart-static-pods --restart-wait 1 --restart-timeout 30 >"$W/a.out" 2>"$W/a.err"
    rc=$?
    t1=$(now)
    wait "${BG[-1]}" 2>/dev/null
    [ $rc = 0 ] && ok "mirror pod changed: exit 0" || bad "mirror pod changed: exit 0" "rc=$rc $(cat "$W/a.err")"
    if [ -s "$W/changed" ]; then
        tc=$(cat "$W/changed")
        lt "$tc" "$t1" && ok "returns after the annotation changed" || bad "returns after the change" "changed $(secs "$t0" "$tc")s, returned $(secs "$t0" "$t1")s"
        lt "$(secs "$tc" "$t1")" 5 && ok "returns as soon as it changed ($(secs "$tc" "$t1")s after)" || bad "returns as soon as it changed" "$(secs "$tc" "$t1")s after"
    else
        bad "the background step changed the annotation" "never saw the manifest go and come back"
    fi
    check "says the hash it saw change" grep -q "$POD: kubernetes.io/config.hash $h0 -> 1111aaaa2222bbbb3333cccc4444dddd" "$W/a.out"
    check "no fixed-wait note with the API" bash -c "! grep -q 'fixed' '$W/a.err'"
    check "manifest back, same bytes" cmp "$W/base/$MAN" "$W/a/$MAN"

    # Nothing changes: a one-line error naming the pod after --restart-timeout, exit 3.
    cp -a "$W/base" "$W/t"
    t0=$(now)
    "$KUBEVET" certs renew front-proxy-client --kubeconfig "$KC" --root "$W/t" --keep-key --apply \
        --restart-static-pods --restart-wait 1 --restart-timeout 2 >"$W/t.out" 2>"$W/t.err"
    rc=$?
    t1=$(now)
    [ $rc = 3 ] && ok "no change: exit 3" || bad "no change: exit 3" "rc=$rc"
    check "no change: one line on stderr" test "$(wc -l <"$W/t.err")" = 1
    check "no change: the line names the pod and the timeout" grep -q "pod kube-system/$POD: .*did not change within 2s" "$W/t.err"
    lt 2 "$(secs "$t0" "$t1")" && lt "$(secs "$t0" "$t1")" 15 && ok "no change: waited the timeout ($(secs "$t0" "$t1")s)" || bad "no change: waited the timeout" "$(secs "$t0" "$t1")s"
    check "no change: manifest back all the same" cmp "$W/base/$MAN" "$W/t/$MAN"
    check "no change: the renewal stays (front-proxy-client.crt rewritten)" bash -c "! cmp -s '$W/base/etc/kubernetes/pki/front-proxy-client.crt' '$W/t/etc/kubernetes/pki/front-proxy-client.crt'"
fi

echo "$pass passed, $fail failed${skipped:+, $skipped skipped}"
[ $fail = 0 ]
