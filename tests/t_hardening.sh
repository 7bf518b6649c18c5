#!/usr/bin/env bash
# Hostile and broken inputs (issue 7, "Hardening"): every YAML reader stops at the nesting bound
# with one line naming the file and line and exit 3, fast; directory walks end on symlink loops;
# write failures say what was and was not written.
set -u
KUBEVET=${KUBEVET:-build/kubevet}
KUBEVET=$(cd "$(dirname "$KUBEVET")" && pwd)/$(basename "$KUBEVET")
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
now_ms() { date +%s%3N; }

# run WANT_RC MAX_MS PATTERN DESCRIPTION COMMAND...: exit code, wall time, a one-line error
# on stderr that matches PATTERN (file and line)
run() {
    local want=$1 max=$2 pat=$3 what=$4
    shift 4
    local t0 rc ms
    t0=$(now_ms)
    timeout 20 "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ms=$(($(now_ms) - t0))
    if [ "$rc" != "$want" ]; then
        bad "$what: exit $rc, want $want"
        head -3 "$tmp/err"
    elif [ "$ms" -gt "$max" ]; then
        bad "$what: ${ms} ms, want under $max ms"
    elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$tmp/err"; then
        bad "$what: stderr does not match /$pat/"
        head -3 "$tmp/err"
    else
        ok "$what (exit $rc, ${ms} ms)"
    fi
}

# 1. Nesting: 200000 levels of flow collections. libyaml 0.2.5 alone takes minutes on this
#    (quadratic scanner); the bound is 1000 levels, checked as the parser's events arrive.
N=200000
$PY - "$tmp" "$N" <<'PY'
import sys, os
d, n = sys.argv[1], int(sys.argv[2])
flow = '[' * n + ']' * n
fmap = '{a: ' * n + '1' + '}' * n
def w(p, s):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, 'w').write(s)
# a kind the catalog knows (so scan reads it) with the nesting on one line, in YAML and JSON
w(f'{d}/m/ingress.yaml', 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: x\n'
  f'spec:\n  rules: {flow}\n')
w(f'{d}/m/map.yaml', f'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: x\nspec: {fmap}\n')
w(f'{d}/m/ingress.json', '{"apiVersion": "extensions/v1beta1", "kind": "Ingress",\n "spec": '
  + flow + '}\n')
w(f'{d}/m/configmap.json', '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + flow + '}\n')
w(f'{d}/catalog.yaml', f'apis: {flow}\n')
w(f'{d}/r1/etc/kubernetes/manifests/kube-apiserver.yaml',
  f'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\nspec: {flow}\n')
w(f'{d}/r2/etc/kubernetes/admin.conf', f'apiVersion: v1\nkind: Config\nclusters: {flow}\n')
w(f'{d}/r3/var/lib/kubelet/config.yaml', f'apiVersion: kubelet.config.k8s.io/v1beta1\n'
  f'kind: KubeletConfiguration\nauthentication: {fmap}\n')
w(f'{d}/ok.yaml', 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: ok\nspec:\n'
  '  rules: ' + '[' * 990 + ']' * 990 + '\n')
PY
deep='nesting deeper than 1000 levels'
# The bound is on the work the input causes: 1 s beyond what the same command costs on a tiny
# input (process start and the catalog load, slow under ASan on a busy machine).
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tiny\n' >"$tmp/tiny.yaml"
base=0
for c in "apis scan $tmp/tiny.yaml" "apis convert $tmp/tiny.yaml" "check --root $tmp/m"; do
    t0=$(now_ms)
    # shellcheck disable=SC2086
    "$KUBEVET" $c >/dev/null 2>&1
    t=$(($(now_ms) - t0))
    [ "$t" -gt "$base" ] && base=$t
done
lim=$((1000 + base))
echo "     (bound: 1000 ms + $base ms for a tiny input)"
run 3 "$lim" "ingress\.yaml:6:[0-9]+: $deep" "apis scan: 200k-level flow sequence" "$KUBEVET" apis scan "$tmp/m/ingress.yaml"
run 3 "$lim" "map\.yaml:5:[0-9]+: $deep" "apis scan: 200k-level flow mapping" "$KUBEVET" apis scan "$tmp/m/map.yaml"
run 3 "$lim" "ingress\.json:2:[0-9]+: $deep" "apis scan: 200k-level JSON" "$KUBEVET" apis scan "$tmp/m/ingress.json"
run 3 "$lim" "configmap\.json:1:[0-9]+: $deep" "apis scan: JSON of a kind the catalog does not list" "$KUBEVET" apis scan "$tmp/m/configmap.json"
run 3 "$lim" "ingress\.yaml:6: .*$deep" "apis convert: 200k-level flow sequence" "$KUBEVET" apis convert "$tmp/m/ingress.yaml"
run 3 "$lim" "ingress\.json:2: .*$deep" "apis convert: 200k-level JSON" "$KUBEVET" apis convert "$tmp/m/ingress.json"
run 3 "$lim" "kube-apiserver\.yaml:5:[0-9]+: $deep" "check --root: hostile kube-apiserver.yaml" "$KUBEVET" check --root "$tmp/r1"
run 3 "$lim" "admin\.conf:3:[0-9]+: $deep" "check --root: hostile kubeconfig" "$KUBEVET" check --root "$tmp/r2"
run 3 "$lim" "config\.yaml:3:[0-9]+: $deep" "check --root: hostile kubelet config" "$KUBEVET" check --root "$tmp/r3"
run 3 "$lim" "catalog\.yaml:1:[0-9]+: $deep" "apis scan --catalog: hostile catalog" "$KUBEVET" apis scan --catalog "$tmp/catalog.yaml" "$tmp/ok.yaml"
run 3 "$lim" "catalog\.yaml:1:[0-9]+: $deep" "apis convert --catalog: hostile catalog" "$KUBEVET" apis convert --catalog "$tmp/catalog.yaml" "$tmp/ok.yaml"
# 990 levels are legal YAML (and under Kubernetes' own 10000): a finding, not an error
run 1 "$lim" "" "apis scan: 990 levels are read" "$KUBEVET" apis scan "$tmp/ok.yaml"
grep -q KV401 "$tmp/out" && ok "990 levels: KV401 reported" || bad "990 levels: no KV401"

# 2. Directory walks that follow symlinks visit each directory once (device + inode): two links
#    to "." used to cost 2^33 paths.
mkdir -p "$tmp/loop/pki/sub"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/loop/pki/sub/ca.key" -out "$tmp/loop/pki/sub/ca.crt" \
    -subj /CN=loop-ca -days 30 2>/dev/null
ln -s . "$tmp/loop/pki/a"
ln -s . "$tmp/loop/pki/b"
ln -s .. "$tmp/loop/pki/sub/up"
ln -s "$tmp/loop" "$tmp/loop/pki/sub/abs"
run 0 2000 "" "certs list: a -> . and b -> ." "$KUBEVET" certs list "$tmp/loop/pki"
n=$(grep -c 'loop-ca' "$tmp/out")
[ "$n" = 1 ] && ok "certs list: the certificate listed once" || bad "certs list: listed $n times"
run 0 2000 "" "certs check: a -> . and b -> ." "$KUBEVET" certs check --fail-on never "$tmp/loop/pki"
printf 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: a\n' >"$tmp/loop/ing.yaml"
run 0 2000 "" "apis convert DIR: a -> . and b -> ." "$KUBEVET" apis convert "$tmp/loop"
n=$(grep -c '^apiVersion: networking.k8s.io/v1' "$tmp/out")
[ "$n" = 1 ] && ok "apis convert: the manifest converted once" || bad "apis convert: $n copies"
mkdir -p "$tmp/r4/etc/kubernetes/pki"
cp "$tmp/loop/pki/sub/ca.crt" "$tmp/loop/pki/sub/ca.key" "$tmp/r4/etc/kubernetes/pki/"
ln -s . "$tmp/r4/etc/kubernetes/pki/a"
ln -s . "$tmp/r4/etc/kubernetes/pki/b"
ln -s /etc/kubernetes/pki "$tmp/r4/etc/kubernetes/pki/c"
t0=$(now_ms)
timeout 20 "$KUBEVET" check --root "$tmp/r4" --fail-on never >"$tmp/out" 2>"$tmp/err"
rc=$? ms=$(($(now_ms) - t0))
[ "$rc" -le 3 ] && [ "$ms" -lt 3000 ] && ok "check --root: pki loops end (exit $rc, $ms ms)" ||
    bad "check --root with pki loops: exit $rc, $ms ms"

# 3. Write failures (apis convert --in-place goes through the plan/apply engine): the second file
#    cannot be written. Every file is staged before any is renamed, so the message says "could not
#    write FILE" and that nothing was changed, exit 3: the first file keeps its bytes (all or
#    nothing), nothing is left in the read-only folder, and no backup folder is left (there is
#    nothing to put back). Root ignores directory permissions: as root
#    the test drops to nobody (setpriv).
AS=()
[ "$(id -u)" = 0 ] && AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
w=$tmp/w
mkdir -p "$w/a" "$w/ro"
ing='apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: x\nspec:\n  backend:\n    serviceName: s\n    servicePort: 80\n'
printf "$ing" >"$w/a/a.yaml"
printf "$ing" >"$w/ro/b.yaml"
chmod 755 "$tmp" "$w"
chmod 777 "$w/a"
chmod 666 "$w/a/a.yaml" "$w/ro/b.yaml"
chmod 555 "$w/ro"
cp "$w/ro/b.yaml" "$tmp/b.orig"
if "${AS[@]}" sh -c 'test -w "$0"' "$w/ro"; then
    echo "skip write failures: $w/ro is writable for this user (no way to make a write fail)"
else
    run 3 3000 "could not write .*ro/b\.yaml" "convert --in-place: second file in a read-only folder" \
        "${AS[@]}" "$KUBEVET" apis convert --in-place "$w/a/a.yaml" "$w/ro/b.yaml"
    grep -q "(step 2 of 2); nothing was changed" "$tmp/err" && ok "the failure says nothing was changed" ||
        { bad "no message that nothing was changed"; cat "$tmp/err"; }
    cmp -s "$w/a/a.yaml" "$tmp/b.orig" && ok "a.yaml keeps its bytes (all or nothing)" || bad "a.yaml left rewritten"
    [ -z "$(ls -d "$w"/a/kubevet-backup-* 2>/dev/null)" ] && ok "no half-made backup folder is left" ||
        bad "a backup folder was left though nothing changed"
    cmp -s "$w/ro/b.yaml" "$tmp/b.orig" && [ "$(ls "$w/ro")" = b.yaml ] &&
        ok "b.yaml unchanged, nothing left in its folder" || bad "read-only folder: $(ls "$w/ro")"
fi
# rename fails after the backup was made: a sticky folder (1777) owned by root, the file root's
if [ "$(id -u)" = 0 ] && [ "$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)" = 1 ]; then
    mkdir -p "$w/sticky"
    chmod 1777 "$w/sticky"
    printf "$ing" >"$w/sticky/c.yaml"
    chmod 644 "$w/sticky/c.yaml"
    run 3 3000 "could not write .*sticky/c\.yaml: rename" "convert --in-place: rename refused" \
        "${AS[@]}" "$KUBEVET" apis convert --in-place "$w/sticky/c.yaml"
    left=$(ls "$w/sticky" | grep -v '^kubevet-backup-')
    [ "$left" = c.yaml ] && cmp -s "$w/sticky/c.yaml" "$tmp/b.orig" &&
        ok "failed rename: c.yaml unchanged, no .bak and no temp file" ||
        bad "failed rename left: $(ls "$w/sticky")"
else
    echo "skip rename failure: needs root (to act as two users) and fs.protected_hardlinks=1"
fi

# 4. kubectl habits
run 0 2000 "" "help help" "$KUBEVET" help help
grep -q '^Examples:' "$tmp/out" && ok "help help has examples" || bad "help help: no examples"
run 0 2000 "" "help certs list" "$KUBEVET" help certs list
grep -q 'kubevet certs list' "$tmp/out" && ok "help certs list is the certs list help" || bad "help certs list: wrong text"
for c in "check" "certs list" "certs check" "apis list" "apis scan" "apis convert" "etcd status" \
    "etcd members" "etcd plan add-member" "etcd plan remove-member" "etcd plan restore" \
    "etcd snapshot save" "etcd snapshot verify" "etcd snapshot status" "etcd snapshot objects" "version" \
    "certs renew" "helm scan" "helm map" "helm restore" "ha plan" "restore" "upgrade plan" "join plan" \
    "serve" "completion"; do
    # shellcheck disable=SC2086
    COLUMNS=80 "$KUBEVET" $c --help >"$tmp/h" 2>&1
    long=$(awk 'length > 80' "$tmp/h" | wc -l)
    # the examples are this command's own (not its group's)
    own=$(sed -n '/^Examples:/,/^$/p' "$tmp/h" | grep -c "kubevet $c")
    if grep -q '^Examples:' "$tmp/h" && [ "$long" = 0 ] && [ "$own" -gt 0 ]; then ok "$c --help: examples, 80 columns"
    else bad "$c --help: examples $(grep -c '^Examples:' "$tmp/h"), $long lines over 80"; fi
    # a usage line never ends inside a bracket ("[--lb" / "nginx|haproxy]")
    split=$(awk '/^Usage:/ {u = 1; next} /^$/ {u = 0} u {o = gsub(/\[/, "["); c = gsub(/\]/, "]"); if (o != c) print}' "$tmp/h")
    [ -z "$split" ] && ok "$c --help: no option split across usage lines" || bad "$c --help: split option" "$split"
done
COLUMNS=80 "$KUBEVET" --help | awk 'length > 80 {n++} END {exit n > 0}' && ok "kubevet --help fits 80 columns" || bad "kubevet --help over 80 columns"
printf "$ing" >"$tmp/i.yaml"
run 1 2000 "" "apis scan -f FILE -f - (kubectl style)" sh -c "\"\$0\" apis scan -f '$tmp/i.yaml' -f - -o json <'$tmp/i.yaml'" "$KUBEVET"
n=$(grep -c '"id": "KV401"' "$tmp/out")
[ "$n" = 2 ] && ok "-f FILE -f -: both inputs scanned" || bad "-f: $n findings, want 2"
run 0 2000 "" "apis convert -f FILE" "$KUBEVET" apis convert -f "$tmp/i.yaml"
grep -q '^apiVersion: networking.k8s.io/v1' "$tmp/out" && ok "convert -f: converted" || bad "convert -f: no output"
for c in "version" "apis list --target 1.25" "apis scan $tmp/i.yaml --fail-on never"; do
    # shellcheck disable=SC2086
    "$KUBEVET" $c -o json >"$tmp/j" 2>/dev/null
    # shellcheck disable=SC2086
    "$KUBEVET" $c -o yaml >"$tmp/y" 2>/dev/null
    if $PY -c 'import json, sys, yaml
a = json.load(open(sys.argv[1])); b = yaml.safe_load(open(sys.argv[2]))
a.pop("evaluated_at", None); b.pop("evaluated_at", None)
sys.exit(a != b)' "$tmp/j" "$tmp/y"; then ok "$c: -o yaml is the -o json document"; else bad "$c: -o yaml differs from -o json"; fi
done
run 2 2000 "--target 1\.99: newer than the newest .*\(1\.[0-9]+\)" "apis scan --target beyond the catalog" "$KUBEVET" apis scan --target 1.99 "$tmp/i.yaml"
run 2 2000 "--target 1\.99: newer than the newest" "apis convert --target beyond the catalog" "$KUBEVET" apis convert --target 1.99 "$tmp/i.yaml"
run 2 2000 "--target 1\.99: newer than the newest" "apis list --target beyond the catalog" "$KUBEVET" apis list --target 1.99

exit $fail
