#!/usr/bin/env bash
# ctest-label: online
# t_etcd_urls.sh - every URL kubevet's etcd client takes is http(s) only, wherever it enters:
# --etcd-endpoints, the etcd static pod under --root, and the member list a server returns (an
# etcd stand-in on 127.0.0.1: a real etcd refuses such URLs itself). A file:// URL must give
# exit 3 with one line and never make kubevet read the file: the file's bytes appear nowhere.
# The stand-in also serves member names and versions with terminal escapes: text output shows
# them escaped.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_etcd_urls.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KUBEVET=${KUBEVET:-$KV_SRC/build/kubevet}
. "$KV_SRC/tests/lib/etcd.sh"
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "skip: /usr/bin/python3 not installed (the etcd stand-in)"
    exit 0
fi
etcd_setup
FAILS=0
OUT=$ETCD_TMP/out
ERR=$ETCD_TMP/err
# A folder laid out like the paths kubevet asks an endpoint for (/version, /health,
# /v3/maintenance/status), each file starting with a mark: a client that follows file:// URLs
# reads them and puts their first bytes into its messages.
SECRET=$ETCD_TMP/secret
MARK=kv-secret-$RANDOM$RANDOM
mkdir -p "$SECRET/v3/maintenance"
for f in version health v3/maintenance/status; do
    printf '%s: the first bytes of a local file\n' "$MARK" >"$SECRET/$f"
done

ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$OUT" "$ERR" 2>/dev/null | head -30
    FAILS=$((FAILS + 1))
}
# refused NAME kubevet-args...: exit 3, one line on stderr, the file's bytes nowhere
refused() {
    local name=$1
    shift
    timeout 30 "$KUBEVET" "$@" >"$OUT" 2>"$ERR"
    local rc=$?
    if [ "$rc" != 3 ]; then
        fail "$name" "exit $rc, want 3"
    elif [ "$(wc -l <"$ERR")" != 1 ]; then
        fail "$name" "want one line on stderr"
    elif grep -q "$MARK" "$OUT" "$ERR"; then
        fail "$name" "the file's content was echoed"
    elif ! grep -q "http:// and https://" "$ERR"; then
        fail "$name" "the message does not say why"
    else
        ok "$name"
    fi
}

# ---------------------------------------------------------------- --etcd-endpoints
refused endpoints-file etcd status --etcd-endpoints "file://$SECRET"
refused endpoints-file-json etcd members --etcd-endpoints "file://$SECRET" -o json
refused endpoints-file-in-list etcd status --etcd-endpoints "http://127.0.0.1:1,file://$SECRET"
refused endpoints-file-save etcd snapshot save "$ETCD_TMP/x.db" --etcd-endpoints "file://$SECRET"
refused endpoints-file-plan etcd plan remove-member --name a --etcd-endpoints "FILE://$SECRET"
refused endpoints-gopher etcd status --etcd-endpoints "gopher://127.0.0.1:70/"
[ ! -e "$ETCD_TMP/x.db" ] && ok endpoints-file-save-nofile || fail endpoints-file-save-nofile "file"

# ---------------------------------------------------------------- the static pod under --root
R=$ETCD_TMP/root
mkdir -p "$R/etc/kubernetes/manifests"
pod() { # pod FLAG=VALUE: etcd.yaml with that flag on line 10
    cat >"$R/etc/kubernetes/manifests/etcd.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - $1
    - --name=cp1
    image: registry.k8s.io/etcd:3.4.13-0
    name: etcd
EOF
}
pod "--advertise-client-urls=file://$SECRET"
refused pod-advertise etcd status --root "$R"
grep -q "etc/kubernetes/manifests/etcd.yaml:10" "$ERR" && ok pod-advertise-line ||
    fail pod-advertise-line "file and line"
pod "--listen-client-urls=https://127.0.0.1:2379,file://$SECRET"
refused pod-listen etcd members --root "$R" -o json
pod "--advertise-client-urls=file://$SECRET"
timeout 30 "$KUBEVET" check --root "$R" -o json >"$OUT" 2>"$ERR"
grep -q "$MARK" "$OUT" "$ERR" && fail pod-check "the file's content was echoed" || ok pod-check

# ---------------------------------------------------------------- a server's member list
cat >"$ETCD_TMP/standin.py" <<'EOF'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, mode, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
me = "http://127.0.0.1:%d" % port
ESC = "\x1b[2J"

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, obj):
        b = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        if self.path == "/version":
            self.reply({"etcdserver": "3.4.23", "etcdcluster": "3.4.0"})
        else:
            self.reply({"health": "true"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        hdr = {"cluster_id": "7", "member_id": "1", "revision": "1", "raft_term": "2"}
        if self.path == "/v3/cluster/member/list":
            client = "file://" + secret if mode == "file" else me
            name = "a" if mode == "file" else "cp1" + ESC + "\x07"
            self.reply({"header": hdr, "members": [
                {"ID": "1", "name": name, "peerURLs": ["http://127.0.0.1:2380"],
                 "clientURLs": [client]}]})
        elif self.path == "/v3/maintenance/status":
            self.reply({"header": hdr, "version": "3.4.23" + "\x1b]0;pwned\x07", "dbSize": "4096",
                        "leader": "1", "raftIndex": "5", "raftTerm": "2", "dbSizeInUse": "4096"})
        else:
            self.reply({"header": hdr})

HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
P1=$(etcd_free_port)
P2=$(etcd_free_port)
"$PY" "$ETCD_TMP/standin.py" "$P1" file "$SECRET" &
ETCD_PIDS+=($!)
"$PY" "$ETCD_TMP/standin.py" "$P2" esc "$SECRET" &
ETCD_PIDS+=($!)
for p in "$P1" "$P2"; do
    for i in $(seq 1 50); do
        curl -s -m 1 "http://127.0.0.1:$p/version" >/dev/null && break
        sleep 0.1
    done
done
refused members-file-url etcd status --etcd-endpoints "http://127.0.0.1:$P1"
grep -q "clientURLs\[0\]" "$ERR" && ok members-file-url-names ||
    fail members-file-url-names "the message names the member list field"
refused members-file-url-json etcd members --etcd-endpoints "http://127.0.0.1:$P1" -o json

for cmd in members status; do
    timeout 30 "$KUBEVET" etcd "$cmd" --etcd-endpoints "http://127.0.0.1:$P2" >"$OUT" 2>"$ERR"
    rc=$?
    if [ "$rc" -gt 1 ]; then
        fail "escapes-$cmd" "exit $rc"
    elif grep -q "$(printf '[\033\007]')" "$OUT" "$ERR"; then
        fail "escapes-$cmd" "raw ESC or BEL in text output"
    elif ! grep -qF 'cp1\x1b[2J\x07' "$OUT"; then
        fail "escapes-$cmd" "the name is not shown escaped"
    else
        ok "escapes-$cmd"
    fi
done

echo
if [ "$FAILS" -gt 0 ]; then
    echo "$FAILS failed"
    exit 1
fi
echo "all passed"
