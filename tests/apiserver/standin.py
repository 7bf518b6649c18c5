#!/usr/bin/python3
"""kube-apiserver stand-in for kubevet's tests: see --help and README.md beside this file."""

import argparse
import datetime
import json
import os
import re
import ssl
import sys
import threading
from http.server import ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree the tests run from
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults import KNOBS, Faults  # noqa: E402
from handler import make_handler  # noqa: E402
from store import Store, read_env  # noqa: E402

HELP_EPILOG = """
Fixtures: every *.yaml / *.yml file of each FOLDER, in name order; multi-document; `kind: List`
  is expanded. Objects need apiVersion, kind and metadata.name; namespaced objects without a
  namespace go to "default"; namespaces that objects use are created. uid and creationTimestamp
  given in a fixture are kept (ownerReferences can point at them); resourceVersion is assigned.
  Secret `stringData` is folded into `data` as the real server does.
  A folder's cluster.env (KEY=VALUE lines) sets variables for {{var:KEY}} placeholders, and
  VERSION there is the default --version; --var NAME=VALUE overrides.
  Times relative to start-up: {{now}}, {{now+2h}}, {{now-400d}}, {{now-1d+3h}} (units s m h d w)
  become RFC 3339 UTC strings before the YAML is parsed (--now fixes "now").

Auth: with --tls-cert/--tls-key the server speaks HTTPS. --client-ca verifies client certificates
  (user = CN, groups = every O). --token TOKEN=USER[:GROUP,GROUP] adds bearer tokens. Requests
  without valid credentials get 401 (health and /version excepted), unless --anonymous maps them
  to system:anonymous. Authorisation: everything is allowed, except what --deny rules name;
  with --allow-file, only what its lines allow. A rule is USER:VERB:RESOURCE[:NAMESPACE]
  (file lines may use spaces instead of colons); any part may be *, USER may be group:NAME,
  RESOURCE may name a subresource (nodes/status). Denials answer 403 Forbidden with the real
  server's message.

Faults (flags at start-up; or at run time with the admin token):
  --fail-write N        500 InternalError on the Nth write (POST/PUT/PATCH/DELETE), repeatable
  --conflict-update N   409 Conflict on the Nth update (PUT/PATCH), repeatable
  --drop-request N      close the connection unanswered on the Nth request, repeatable
  --delay-ms MS         delay every request; --delay-path REGEX=MS for matching paths only
  --throttle-reads K    429 TooManyRequests (Retry-After: --retry-after, default 1) on the next K
                        reads (GET/LIST/WATCH), then success
  --expire-continue     the next LIST carrying a continue token answers 410 Expired
  --fault-rule JSON     a per-request rule, repeatable: {"method": "PUT", "path": "kubeadm-config",
                        "nth": 2, "times": 1, "code": 500} (or "drop": true, or "delay_ms": N);
                        the nth..nth+times-1 requests matching method and path regex get it

Admin endpoint (needs --admin-token T; send `Authorization: Bearer T`):
  GET  /_standin/faults            armed faults, counters and how often each fired
  POST /_standin/faults            arm faults from a JSON object: %s
  POST /_standin/reset             disarm every fault (counters keep counting)
  GET  /_standin/requests          the last 2000 requests (method, path, user, code, headers,
                                   the body a client wrote: "body", or "body_base64" for protobuf)
  DELETE /_standin/requests        forget them
  POST /_standin/objects           add objects (YAML, multi-document) as if loaded from a fixture
  GET  /_standin/state             resourceVersion and object counts per resource

Example:
  /usr/bin/python3 tests/apiserver/standin.py --port 0 --port-file /tmp/port \\
      --token secret-token=admin:system:masters --version v1.31.2 tests/data/clusters/healthy-v1.31
""" % ", ".join(sorted(KNOBS))


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="standin.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A stand-in for kube-apiserver that kubectl, helm and kubevet can talk to: "
                    "discovery, CRUD with resourceVersions, list pagination, label and field "
                    "selectors, Table output for kubectl get, TLS client certificates and bearer "
                    "tokens, fault injection. Prints nothing on success; errors go to stderr "
                    "(exit 2 for bad flags, 3 for bad fixtures).",
        epilog=HELP_EPILOG)
    p.add_argument("folders", nargs="*", metavar="FOLDER", help="YAML fixture folders to seed")
    p.add_argument("--address", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="listen port; 0 picks a free one")
    p.add_argument("--port-file", help="write the port here once listening (atomically)")
    p.add_argument("--version", dest="kversion",
                   help="gitVersion for /version (major/minor derived); default: VERSION from "
                        "the first folder's cluster.env, else v1.31.2")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="value for {{var:NAME}} in fixtures (overrides cluster.env), repeatable")
    p.add_argument("--tls-cert", help="serving certificate (PEM); HTTPS when given")
    p.add_argument("--tls-key", help="serving key (PEM)")
    p.add_argument("--client-ca", help="CA bundle that client certificates must chain to")
    p.add_argument("--token", action="append", default=[], metavar="TOKEN=USER[:GROUPS]",
                   help="bearer token for USER (GROUPS comma-separated), repeatable")
    p.add_argument("--anonymous", action="store_true",
                   help="treat requests without credentials as system:anonymous (not 401)")
    p.add_argument("--deny", action="append", default=[], metavar="USER:VERB:RESOURCE[:NS]",
                   help="forbid a user/verb/resource (repeatable, * wildcards)")
    p.add_argument("--allow-file", help="only what its lines USER VERB RESOURCE [NS] allow")
    p.add_argument("--admin-token", help="bearer token for /_standin/ (disabled without it)")
    p.add_argument("--now", help="RFC 3339 time used for {{now}} placeholders and new objects")
    p.add_argument("--synthesize", metavar="secrets=N,nodes=M",
                   help="add N generated Secrets (50 namespaces) and M Nodes (benchmarks)")
    p.add_argument("--no-default-namespaces", action="store_true",
                   help="do not create default, kube-system, kube-public, kube-node-lease")
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--fail-write", action="append", default=[], type=int, metavar="N")
    p.add_argument("--conflict-update", action="append", default=[], type=int, metavar="N")
    p.add_argument("--drop-request", action="append", default=[], type=int, metavar="N")
    p.add_argument("--delay-ms", type=int, default=0, metavar="MS")
    p.add_argument("--delay-path", action="append", default=[], metavar="REGEX=MS")
    p.add_argument("--throttle-reads", type=int, default=0, metavar="K")
    p.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    p.add_argument("--expire-continue", action="store_true")
    p.add_argument("--fault-rule", action="append", default=[], metavar="JSON")
    a = p.parse_args(argv)
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if a.client_ca and not a.tls_cert:
        p.error("--client-ca needs --tls-cert/--tls-key")
    a.variables = {}
    for folder in a.folders:
        env = os.path.join(folder, "cluster.env")
        if os.path.isfile(env):
            try:
                vals = read_env(env)
            except (OSError, ValueError) as e:
                p.error(str(e))
            for k, v in vals.items():
                a.variables.setdefault(k, v)
    for kv in a.var:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            p.error("--var wants NAME=VALUE, got %r" % kv)
        a.variables[k] = v
    if not a.kversion:
        a.kversion = a.variables.get("VERSION", "v1.31.2")
    if not re.match(r"^v\d+\.\d+\.\d+", a.kversion):
        p.error("--version wants vMAJOR.MINOR.PATCH, got %r" % a.kversion)
    return a


class Rule:
    def __init__(self, text, where):
        parts = re.split(r"[:\s]+", text.strip()) if " " in text.strip() else None
        if parts is None:
            # USER may be group:NAME, so split from the right when colons are the separator.
            parts = text.strip().split(":")
            if parts and parts[0] == "group" and len(parts) >= 4:
                parts = ["group:" + parts[1]] + parts[2:]
        elif parts[0] == "group" and len(parts) >= 4:
            parts = ["group:" + parts[1]] + parts[2:]
        if len(parts) not in (3, 4):
            raise ValueError("%s: rule %r is not USER:VERB:RESOURCE[:NAMESPACE]" % (where, text))
        self.user, self.verb, self.resource = parts[:3]
        self.ns = parts[3] if len(parts) == 4 else "*"

    def matches(self, user, groups, verb, resource, ns):
        if self.user != "*":
            if self.user.startswith("group:"):
                if self.user[6:] not in groups:
                    return False
            elif self.user != user:
                return False
        if self.verb not in ("*", verb):
            return False
        if self.resource not in ("*", resource):
            return False
        return self.ns in ("*", ns or "")


class Config:
    def __init__(self, a):
        self.args = a
        self.tokens = {}
        for t in a.token:
            tok, sep, who = t.partition("=")
            if not sep or not tok or not who:
                raise ValueError("--token %r is not TOKEN=USER[:GROUP,...]" % t)
            user, _, groups = who.partition(":")
            self.tokens[tok] = (user, [g for g in groups.split(",") if g])
        self.deny = [Rule(r, "--deny") for r in a.deny]
        self.allow = None
        if a.allow_file:
            self.allow = []
            with open(a.allow_file, encoding="utf-8") as f:
                for i, line in enumerate(f, 1):
                    line = line.split("#", 1)[0].strip()
                    if line:
                        self.allow.append(Rule(line, "%s:%d" % (a.allow_file, i)))
        m = re.match(r"^v(\d+)\.(\d+)\.(\d+)", a.kversion)
        self.version = {"major": m.group(1), "minor": m.group(2), "gitVersion": a.kversion,
                        "gitCommit": "0000000000000000000000000000000000000000",
                        "gitTreeState": "clean", "buildDate": "2024-10-22T20:28:14Z",
                        "goVersion": "go1.22.8", "compiler": "gc", "platform": "linux/amd64"}

    def allowed(self, user, groups, verb, resource, ns):
        if any(r.matches(user, groups, verb, resource, ns) for r in self.deny):
            return False
        if self.allow is not None:
            return any(r.matches(user, groups, verb, resource, ns) for r in self.allow)
        return True


class RequestLog:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.items = []
        self.fh = open(path, "a", encoding="utf-8") if path else None

    def add(self, rec):
        with self.lock:
            self.items.append(rec)
            if len(self.items) > 2000:
                del self.items[:-2000]
            if self.fh:
                self.fh.write(json.dumps(rec) + "\n")
                self.fh.flush()


def want_format(accept):
    """'table', 'pom' (PartialObjectMetadata), 'json', 'yaml', or None (406) for an Accept header."""
    if not accept:
        return "json"
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        if mt in ("application/json", "*/*", "application/*"):
            as_ = params.get("as")
            if as_ is None:
                return "json"
            if as_ == "Table" and params.get("g") == "meta.k8s.io" and \
                    params.get("v") in ("v1", "v1beta1"):
                return "table"
            if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList") and \
                    params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
                return "pom"
            # Aggregated discovery (as=APIGroupDiscoveryList) and anything else: not offered;
            # clients fall back to the next type they listed.
            continue
        if mt in ("application/yaml", "text/yaml"):
            return "yaml"
    return None


def main(argv):
    a = parse_args(argv)
    try:
        cfg = Config(a)
    except (ValueError, OSError) as e:
        print("standin: %s" % e, file=sys.stderr)
        return 2
    now = None
    if a.now:
        try:
            now = datetime.datetime.strptime(a.now, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            print("standin: --now wants YYYY-MM-DDTHH:MM:SSZ, got %r" % a.now, file=sys.stderr)
            return 2
    store = Store(now)
    try:
        if not a.no_default_namespaces:
            for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
                store.ensure_namespace(ns)
        for folder in a.folders:
            if not os.path.isdir(folder):
                raise ValueError("%s: not a folder" % folder)
            store.load_folder(folder, a.variables)
        if a.synthesize:
            for part in a.synthesize.split(","):
                kind, _, n = part.partition("=")
                store.synthesize(kind.strip(), int(n), a.kversion)
    except (ValueError, OSError) as e:
        print("standin: %s" % e, file=sys.stderr)
        return 3
    faults = Faults()
    try:
        faults.arm({"fail_write": a.fail_write, "conflict_update": a.conflict_update,
                    "drop_request": a.drop_request, "delay_ms": a.delay_ms,
                    "delay_paths": dict(d.rsplit("=", 1) for d in a.delay_path),
                    "throttle_reads": a.throttle_reads, "retry_after": a.retry_after,
                    "expire_continue": a.expire_continue,
                    "rules": [json.loads(r) for r in a.fault_rule]})
    except (ValueError, re.error) as e:
        print("standin: %s" % e, file=sys.stderr)
        return 2

    ctx = None
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(a.tls_cert, a.tls_key)
            if a.client_ca:
                ctx.load_verify_locations(a.client_ca)
                ctx.verify_mode = ssl.CERT_OPTIONAL
        except (ssl.SSLError, OSError) as e:
            print("standin: TLS files: %s" % e, file=sys.stderr)
            return 2
        ctx.set_alpn_protocols(["http/1.1"])

    handler = make_handler(cfg, store, faults, RequestLog(a.log), want_format)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def get_request(self):
            sock, addr = self.socket.accept()
            if ctx is not None:
                # The handshake runs in the handler's thread, so one slow client cannot stall
                # the accept loop.
                sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            return sock, addr

        def handle_error(self, request, client_address):
            pass  # TLS handshake failures and resets are the client's business, not ours.

    try:
        srv = Server((a.address, a.port), handler)
    except OSError as e:
        print("standin: listen %s:%d: %s" % (a.address, a.port, e), file=sys.stderr)
        return 2
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
