"""HTTP request handling: authentication, authorisation, faults, routing, verbs."""

import base64
import copy
import json
import socket
import struct
import sys
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler

import yaml

import kproto
import kselect
import patch as kpatch
import resources
import tables
from faults import REASONS
from store import ApiError, conflict, details_for, dumps

MAX_BODY = 32 << 20
PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")
READ_VERBS = ("get", "list", "watch")


def injected(code, retry_after):
    """The Status a fault rule answers with: the real reason for CODE."""
    reason = REASONS[code]
    if code == 429:
        return ApiError(429, reason, "Too many requests, please try again later.",
                        {"retryAfterSeconds": retry_after},
                        headers={"Retry-After": str(retry_after)})
    if code == 500:
        return ApiError(500, reason, "Internal error occurred: injected fault (standin rule)",
                        {"causes": [{"message": "injected fault (standin rule)"}]})
    if code == 409:
        return ApiError(409, reason, "Operation cannot be fulfilled: the object has been "
                        "modified; please apply your changes to the latest version and try again "
                        "(injected by a standin rule)")
    return ApiError(code, reason, "injected by a standin rule (HTTP %d)" % code)


def _unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def _forbidden(user, verb, res, sub, name, ns):
    resource = res.plural + ("/" + sub if sub else "")
    where = ('in the namespace "%s"' % ns) if res.namespaced and ns else "at the cluster scope"
    subject = '%s "%s"' % (res.qualified, name) if name else res.qualified
    return ApiError(403, "Forbidden", '%s is forbidden: User "%s" cannot %s resource "%s" in API '
                    'group "%s" %s' % (subject, user, verb, resource, res.group, where),
                    details_for(res, name))


def route(parts):
    """(resource, namespace, name, subresource, watch-path?) for a resource path, else None."""
    watch = False
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
    if not rest:
        return None
    ns = None
    if rest[0] == "namespaces" and group == "" and len(rest) >= 3 and \
            (group, version, rest[2]) in resources.BY_PATH:
        ns, rest = rest[1], rest[2:]
    elif rest[0] == "namespaces" and group != "" and len(rest) >= 3:
        ns, rest = rest[1], rest[2:]
    res = resources.BY_PATH.get((group, version, rest[0]))
    if res is None or len(rest) > 3:
        return None
    if ns is not None and not res.namespaced:
        return None
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) == 3 else None
    if sub is not None and sub not in res.subresources:
        return None
    return res, ns, name, sub, watch


def make_handler(cfg, store, faults, reqlog, want_format):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "kube-apiserver-standin"
        sys_version = ""
        timeout = 600

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.dispatch()

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

        # ------------------------------------------------------------ plumbing
        def send_body(self, code, body, ctype="application/json", headers=None):
            if isinstance(body, (dict, list)):
                body = dumps(body)
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Audit-Id", "standin-%d" % faults.counts["request"])
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.code = code

        def send_obj(self, code, obj_bytes_or_dict):
            fmt = self.fmt
            if fmt == "yaml":
                obj = obj_bytes_or_dict
                if isinstance(obj, bytes):
                    obj = json.loads(obj)
                self.send_body(code, yaml.safe_dump(obj, sort_keys=False).encode(),
                               "application/yaml")
            else:
                self.send_body(code, obj_bytes_or_dict)

        def send_error_status(self, e):
            self.send_body(e.code, e.body(), headers=e.headers)

        def read_body(self):
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = MAX_BODY + 1
            if n > MAX_BODY:
                self.close_connection = True  # the unread body would poison the next request
                raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is "
                               "%d" % MAX_BODY)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                total = 0
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    total += size
                    if total > MAX_BODY:
                        raise ApiError(413, "RequestEntityTooLarge", "Request entity too large")
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(n) if n else b""

        def drop(self):
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass

        def authenticate(self):
            """(user, groups) or None."""
            auth = self.headers.get("Authorization", "")
            if hasattr(self.connection, "getpeercert"):
                try:
                    cert = self.connection.getpeercert()
                except ValueError:
                    cert = None
                if cert:
                    cn, orgs = None, []
                    for rdn in cert.get("subject", ()):
                        for k, v in rdn:
                            if k == "commonName":
                                cn = v
                            elif k == "organizationName":
                                orgs.append(v)
                    if cn:
                        return cn, orgs + ["system:authenticated"]
            if auth.startswith("Bearer "):
                who = cfg.tokens.get(auth[7:].strip())
                if who:
                    return who[0], who[1] + ["system:authenticated"]
                return None
            if cfg.args.anonymous:
                return "system:anonymous", ["system:unauthenticated"]
            return None

        # ------------------------------------------------------------ entry
        def dispatch(self):
            t0 = time.time()
            self.code = 0
            self.body = b""
            self.user = ""
            self.fmt = "json"
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query,
                                                                keep_blank_values=True).items()}
            drop, delay, code = faults.on_request(self.command, path)
            if drop:
                self.drop()
                self.record(t0, dropped=True)
                return
            if delay:
                time.sleep(delay)
            body = b""
            try:
                body = self.read_body()
                self.body = body
                if code is not None:
                    raise injected(code, faults.retry_after)
                self.handle_request(path, query, body)
            except ApiError as e:
                self.send_error_status(e)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            except Exception as e:  # a stand-in bug: say so loudly, answer like the real server
                traceback.print_exc(file=sys.stderr)
                self.close_connection = True
                try:
                    self.send_error_status(ApiError(500, "InternalError", "Internal error occurred:"
                                                    " standin bug: %s" % e))
                except OSError:
                    pass
            self.record(t0)

        def record(self, t0, dropped=False):
            rec = {"method": self.command, "path": self.path, "user": self.user,
                   "code": self.code, "dropped": dropped,
                   "accept": self.headers.get("Accept", ""),
                   "content_type": self.headers.get("Content-Type", ""),
                   "user_agent": self.headers.get("User-Agent", ""),
                   "ms": round((time.time() - t0) * 1000, 2)}
            body = getattr(self, "body", b"")
            if body and not self.path.startswith("/_standin/"):
                # What a client wrote (plan/apply tests assert on it): text, or base64 for
                # protobuf; the first 64 KiB.
                if rec["content_type"].startswith("application/vnd.kubernetes.protobuf"):
                    rec["body_base64"] = base64.b64encode(body[:65536]).decode()
                else:
                    rec["body"] = body[:65536].decode("utf-8", "replace")
            reqlog.add(rec)

        def handle_request(self, path, query, body):
            parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
            who = self.authenticate()
            if path.startswith("/_standin/"):
                return self.admin(path, body)
            # No credentials: 401 except on the public paths. Bad credentials: 401 everywhere,
            # as authentication fails before any authorisation is considered.
            if who is None and (path not in PUBLIC_PATHS or
                                self.headers.get("Authorization")):
                raise _unauthorized()
            self.user, groups = who if who else ("system:anonymous", [])
            self.groups = groups
            self.fmt = want_format(self.headers.get("Accept", ""))
            if self.fmt is None:
                raise ApiError(406, "NotAcceptable", "only the following media types are "
                               "accepted: application/json, application/yaml, "
                               "application/json;as=Table;v=v1;g=meta.k8s.io")
            r = route(parts)
            if r is None:
                if self.command not in ("GET", "HEAD"):
                    raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                                   "method on the requested resource")
                return self.nonresource(path, parts)
            res, ns, name, sub, watch_path = r
            verb = self.verb_for(name, query, watch_path)
            if res.virtual and verb != "create":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if verb in READ_VERBS:
                ra = faults.on_read()
                if ra is not None:
                    raise ApiError(429, "TooManyRequests", "Too many requests, please try again "
                                   "later.", {"retryAfterSeconds": ra},
                                   headers={"Retry-After": str(ra)})
            rname = res.plural + ("/" + sub if sub else "")
            if not cfg.allowed(self.user, groups, verb, rname, ns):
                raise _forbidden(self.user, verb, res, sub, name, ns)
            getattr(self, "v_" + verb)(res, ns, name, sub, query, body)

        def verb_for(self, name, query, watch_path):
            m = self.command
            if m in ("GET", "HEAD"):
                if watch_path or query.get("watch") in ("1", "true"):
                    return "watch"
                return "get" if name else "list"
            if m == "POST":
                return "create"
            if m == "PUT":
                return "update"
            if m == "PATCH":
                return "patch"
            if m == "DELETE":
                return "delete" if name else "deletecollection"
            raise ApiError(405, "MethodNotAllowed", "method %s not allowed" % m)

        # ------------------------------------------------------------ non-resource
        def nonresource(self, path, parts):
            if path in ("/healthz", "/livez", "/readyz"):
                return self.send_body(200, b"ok", "text/plain; charset=utf-8")
            if path == "/version":
                return self.send_body(200, json.dumps(cfg.version, indent=2).encode())
            if parts == ["api"]:
                host = self.connection.getsockname()
                return self.send_obj(200, {"kind": "APIVersions", "versions": ["v1"],
                                           "serverAddressByClientCIDRs": [
                                               {"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "%s:%d" % host[:2]}]})
            if parts == ["apis"]:
                groups = [self.group_body(g, vs) for g, vs in resources.group_versions().items()]
                return self.send_obj(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                           "groups": groups})
            if len(parts) == 2 and parts[0] == "apis":
                vs = resources.group_versions().get(parts[1])
                if vs:
                    return self.send_obj(200, self.group_body(parts[1], vs))
            if parts == ["openapi", "v3"]:
                return self.send_body(200, resources.openapi_v3_root())
            if parts[:2] == ["openapi", "v3"]:
                doc = resources.openapi_v3_doc("/".join(parts[2:]), cfg.version["gitVersion"])
                if doc:
                    return self.send_body(200, doc)
            if parts == ["api", "v1"]:
                return self.send_obj(200, resources.resource_list("", "v1"))
            if len(parts) == 3 and parts[0] == "apis":
                rl = resources.resource_list(parts[1], parts[2])
                if rl:
                    return self.send_obj(200, rl)
            raise ApiError(404, "NotFound", "the server could not find the requested resource")

        @staticmethod
        def group_body(g, vs):
            versions = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in vs]
            return {"kind": "APIGroup", "apiVersion": "v1", "name": g, "versions": versions,
                    "preferredVersion": versions[0]}

        # ------------------------------------------------------------ reads
        def v_get(self, res, ns, name, sub, query, body):
            e = store.get(res, ns, name)
            if sub == "log":
                return self.send_body(200, b"", "text/plain")
            if sub == "scale":
                spec = e.obj.get("spec") or {}
                sel = (spec.get("selector") or {}).get("matchLabels") or {}
                return self.send_obj(200, {
                    "kind": "Scale", "apiVersion": "autoscaling/v1",
                    "metadata": {k: e.obj["metadata"][k] for k in
                                 ("name", "namespace", "uid", "resourceVersion",
                                  "creationTimestamp") if k in e.obj["metadata"]},
                    "spec": {"replicas": spec.get("replicas", 1)},
                    "status": {"replicas": (e.obj.get("status") or {}).get("replicas", 0),
                               "selector": ",".join("%s=%s" % kv for kv in sorted(sel.items()))}})
            if sub not in (None, "status", "approval"):
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if self.fmt == "table":
                return self.send_body(200, tables.table(res, [e], store.now(),
                                                        {"resourceVersion": str(e.rv)},
                                                        query.get("includeObject", "Metadata")))
            if self.fmt == "pom":
                return self.send_body(200, {"kind": "PartialObjectMetadata",
                                            "apiVersion": "meta.k8s.io/v1",
                                            "metadata": e.obj["metadata"]})
            return self.send_obj(200, e.full(res))

        def matcher(self, res, query):
            try:
                lreqs = kselect.parse_labels(query.get("labelSelector", ""))
                freqs = kselect.parse_fields(query.get("fieldSelector", ""), res.fields)
            except kselect.SelectorError as e:
                raise ApiError(400, "BadRequest", str(e))

            eqs = [(k, v[0]) for k, op, v in lreqs if op == "="]
            if len(eqs) == len(lreqs) and not freqs:
                # The common case (helm's owner=helm,name=X): equality only, no generic walk.
                def match(o):
                    labels = o["metadata"].get("labels") or {}
                    for k, v in eqs:
                        if labels.get(k) != v:
                            return False
                    return True
            else:
                def match(o):
                    return kselect.match_labels(lreqs, (o.get("metadata") or {}).get("labels")) \
                        and kselect.match_fields(freqs, o)
            return lreqs, freqs, match

        def v_list(self, res, ns, name, sub, query, body):
            lreqs, freqs, match = self.matcher(res, query)
            try:
                limit = int(query.get("limit") or 0)
            except ValueError:
                raise ApiError(400, "BadRequest", "limit: invalid value")
            cont = query.get("continue", "")
            if cont and faults.take_expire_continue():
                with store.lock:
                    store.compacted_rv = store.rv + 1
                    store.rv += 1
            entries, token, remaining, list_rv = store.list(res, ns, lreqs, freqs, max(limit, 0),
                                                           cont, match)
            meta = {"resourceVersion": str(list_rv)}
            if token:
                meta["continue"] = token
            if remaining is not None:
                meta["remainingItemCount"] = remaining
            if self.fmt == "table":
                return self.send_body(200, tables.table(res, entries, store.now(), meta,
                                                        query.get("includeObject", "Metadata")))
            if self.fmt == "pom":
                return self.send_body(200, {
                    "kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                               "metadata": e.obj["metadata"]} for e in entries]})
            head = b'{"kind":"%sList","apiVersion":"%s","metadata":%s,"items":[' % (
                res.kind.encode(), res.api_version.encode(), dumps(meta))
            out = head + b",".join(e.raw for e in entries) + b"]}"
            if self.fmt == "yaml":
                return self.send_obj(200, out)
            return self.send_body(200, out)

        def v_watch(self, res, ns, name, sub, query, body):
            from watch import serve_watch
            serve_watch(self, store, res, ns, name, query, self.matcher(res, query)[2])

        # ------------------------------------------------------------ writes
        def parse_body(self, body):
            ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0]
            if ctype == "application/vnd.kubernetes.protobuf":
                try:
                    return kproto.decode(body)
                except (kproto.ProtoError, UnicodeDecodeError) as e:
                    raise ApiError(415, "UnsupportedMediaType", str(e))
            try:
                if ctype in ("application/yaml", "text/yaml", "application/apply-patch+yaml"):
                    return yaml.safe_load(body.decode())
                return json.loads(body.decode() or "null")
            except (ValueError, yaml.YAMLError, UnicodeDecodeError) as e:
                raise ApiError(400, "BadRequest", "the body of the request was in an unknown "
                               "format - accepted media types include: application/json, "
                               "application/yaml (%s)" % str(e).splitlines()[0])

        def write_fault(self, res, name, is_update):
            f = faults.on_write(is_update)
            if f == "fail":
                raise ApiError(500, "InternalError", "Internal error occurred: injected fault "
                               "(standin --fail-write)",
                               {"causes": [{"message": "injected fault (standin --fail-write)"}]})
            if f == "conflict":
                raise conflict(res, name or "")

        def check_kind(self, res, obj):
            if not isinstance(obj, dict):
                raise ApiError(400, "BadRequest", "the body of the request must be an object")
            av, kind = obj.get("apiVersion"), obj.get("kind")
            if av and av != res.api_version:
                raise ApiError(400, "BadRequest", "the API version in the data (%s) does not "
                               "match the expected API version (%s)" % (av, res.api_version))
            if kind and kind != res.kind:
                raise ApiError(400, "BadRequest", "the kind in the data (%s) does not match "
                               "the expected kind (%s)" % (kind, res.kind))

        def review(self, res, body):
            obj = self.parse_body(body)
            self.check_kind(res, obj)
            user, groups = self.user, self.groups
            if res.kind == "SelfSubjectReview":
                status = {"userInfo": {"username": user, "groups": groups}}
            else:
                spec = obj.get("spec") or {}
                ra = spec.get("resourceAttributes")
                if ra:
                    rname = ra.get("resource", "") + ("/" + ra["subresource"]
                                                      if ra.get("subresource") else "")
                    allowed = cfg.allowed(user, groups, ra.get("verb", ""), rname,
                                          ra.get("namespace"))
                else:
                    allowed = True  # non-resource URLs: every authenticated user may
                status = {"allowed": allowed}
                if not allowed:
                    status["reason"] = "denied by a standin --deny/--allow-file rule"
            out = dict(obj, apiVersion=res.api_version, kind=res.kind, status=status)
            out.setdefault("metadata", {})["creationTimestamp"] = None
            return self.send_obj(201, out)

        def v_create(self, res, ns, name, sub, query, body):
            if res.virtual:
                return self.review(res, body)
            if sub == "eviction" and name:
                # kubectl drain: an Eviction deletes the pod (no PodDisruptionBudgets checked).
                self.write_fault(res, name, False)
                store.delete(res, ns, name, dry=query.get("dryRun") == "All")
                return self.send_obj(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                           "status": "Success", "code": 201})
            if name or sub:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            obj = self.parse_body(body)
            self.check_kind(res, obj)
            meta = obj.get("metadata") or {}
            if res.namespaced and meta.get("namespace") and meta["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not "
                               "match the namespace sent on the request")
            self.write_fault(res, meta.get("name"), False)
            e = store.create(res, ns, obj, dry=query.get("dryRun") == "All")
            self.send_obj(201, e.full(res))

        def v_update(self, res, ns, name, sub, query, body):
            obj = self.parse_body(body)
            self.check_kind(res, obj)
            self.write_fault(res, name, True)
            e = store.update(res, ns, name, obj, dry=query.get("dryRun") == "All",
                             subresource=sub)
            self.send_obj(200, e.full(res))

        def v_patch(self, res, ns, name, sub, query, body):
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            p = self.parse_body(body)
            self.write_fault(res, name, True)
            with store.lock:
                if ctype == "application/apply-patch+yaml":
                    return self.server_side_apply(res, ns, name, sub, query, p)
                cur = copy.deepcopy(store.get(res, ns, name).obj)
                try:
                    if ctype == "application/merge-patch+json":
                        new = kpatch.merge_patch(cur, p)
                    elif ctype == "application/strategic-merge-patch+json":
                        new = kpatch.strategic_merge_patch(cur, p)
                    elif ctype == "application/json-patch+json":
                        new = kpatch.json_patch(cur, p)
                    else:
                        raise ApiError(415, "UnsupportedMediaType", "the body of the request was "
                                       "in an unknown format - accepted media types include: "
                                       "application/json-patch+json, "
                                       "application/merge-patch+json, "
                                       "application/apply-patch+yaml, "
                                       "application/strategic-merge-patch+json")
                except kpatch.PatchError as e:
                    if e.code == 400:
                        raise ApiError(400, "BadRequest", str(e))
                    raise ApiError(422, "Invalid", str(e), details_for(res, name))
                if not isinstance(new, dict):
                    raise ApiError(422, "Invalid", "the patch did not produce an object",
                                   details_for(res, name))
                e = store.update(res, ns, name, new, dry=query.get("dryRun") == "All",
                                 subresource=sub)
            self.send_obj(200, e.full(res))

        def server_side_apply(self, res, ns, name, sub, query, p):
            """An approximation of server-side apply: create when absent, else merge the applied
            configuration in (no managedFields, no field ownership, fields are never removed)."""
            self.check_kind(res, p)
            if not query.get("fieldManager"):
                raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: "
                               "fieldManager: Required value: is required for apply patch")
            dry = query.get("dryRun") == "All"
            try:
                cur = copy.deepcopy(store.get(res, ns, name).obj)
            except ApiError as e:
                if e.code != 404 or sub:
                    raise
                p = dict(p, metadata=dict(p.get("metadata") or {}, name=name))
                e = store.create(res, ns, p, dry=dry)
                return self.send_obj(201, e.full(res))
            new = kpatch.merge_patch(cur, p)
            e = store.update(res, ns, name, new, dry=dry, subresource=sub)
            return self.send_obj(200, e.full(res))

        def v_delete(self, res, ns, name, sub, query, body):
            opts = self.parse_body(body) if body else {}
            self.write_fault(res, name, False)
            e = store.delete(res, ns, name, (opts or {}).get("preconditions"),
                             dry=query.get("dryRun") == "All")
            if res.kind == "Pod":
                return self.send_obj(200, e.full(res))
            d = details_for(res, name)
            d["uid"] = e.obj["metadata"]["uid"]
            self.send_obj(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Success", "details": d})

        def v_deletecollection(self, res, ns, name, sub, query, body):
            lreqs, freqs, match = self.matcher(res, query)
            self.write_fault(res, None, False)
            with store.lock:
                entries, _, _, _ = store.list(res, ns, lreqs, freqs, 0, "", match)
                gone = []
                for e in entries:
                    m = e.obj["metadata"]
                    gone.append(store.delete(res, m.get("namespace"), m["name"]))
                rv = store.rv
            head = b'{"kind":"%sList","apiVersion":"%s","metadata":{"resourceVersion":"%d"},' \
                   b'"items":[' % (res.kind.encode(), res.api_version.encode(), rv)
            self.send_body(200, head + b",".join(e.raw for e in gone) + b"]}")

        # ------------------------------------------------------------ admin
        def admin(self, path, body):
            tok = cfg.args.admin_token
            auth = self.headers.get("Authorization", "")
            if not tok or auth != "Bearer " + tok:
                raise _unauthorized()
            self.user = "standin-admin"
            m = self.command
            if path == "/_standin/faults" and m == "GET":
                return self.send_body(200, faults.state())
            if path == "/_standin/faults" and m in ("POST", "PUT"):
                try:
                    faults.arm(json.loads(body.decode() or "{}"))
                except (ValueError, TypeError) as e:
                    raise ApiError(400, "BadRequest", str(e))
                return self.send_body(200, faults.state())
            if path == "/_standin/reset" and m == "POST":
                faults.reset()
                return self.send_body(200, faults.state())
            if path == "/_standin/requests" and m == "GET":
                with reqlog.lock:
                    items = list(reqlog.items)
                return self.send_body(200, {"items": items})
            if path == "/_standin/requests" and m == "DELETE":
                with reqlog.lock:
                    reqlog.items.clear()
                return self.send_body(200, {"items": []})
            if path == "/_standin/objects" and m == "POST":
                try:
                    docs = list(yaml.safe_load_all(body.decode()))
                    n = 0
                    for d in docs:
                        if d is None:
                            continue
                        items = d.get("items") if str(d.get("kind", "")).endswith("List") \
                            else [d]
                        for o in items or []:
                            store.seed(o, "POST /_standin/objects")
                            n += 1
                except (ValueError, yaml.YAMLError, AttributeError) as e:
                    raise ApiError(400, "BadRequest", str(e).replace("\n", " "))
                return self.send_body(200, {"added": n, "resourceVersion": str(store.rv)})
            if path == "/_standin/state" and m == "GET":
                with store.lock:
                    counts = {"%s/%s" % k if k[0] else k[1]: len(t.keys)
                              for k, t in store.tables.items() if t.keys}
                    rv = store.rv
                return self.send_body(200, {"resourceVersion": str(rv), "objects": counts})
            raise ApiError(404, "NotFound", "no such admin endpoint: %s %s" % (m, path))

    return Handler
