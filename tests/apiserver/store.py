"""Object storage for the stand-in: one sorted index per resource, objects pre-serialised.

Keys sort like etcd's (`<namespace>/<name>`, or `<name>` for cluster-scoped objects), so
pagination walks them in the order the real server does. Every write bumps one global
resourceVersion. Objects are stored as the JSON the real server would send for a list item
(no kind/apiVersion: the real server leaves them off list items of built-in types); a single
GET adds them back in front.
"""

import base64
import bisect
import collections
import copy
import datetime
import json
import os
import random
import re
import threading
import uuid

import yaml

from resources import CATALOG, lookup_kind

DEFAULT_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]


class ApiError(Exception):
    """An error the handler turns into a metav1.Status body."""

    def __init__(self, code, reason, message, details=None, headers=None, metadata=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}

    def body(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": self.metadata,
              "status": "Failure", "message": self.message, "reason": self.reason}
        if self.details:
            st["details"] = self.details
        st["code"] = self.code
        return st


def details_for(res, name=None):
    d = {}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified, name),
                    details_for(res, name))


def conflict(res, name):
    return ApiError(409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                    'please apply your changes to the latest version and try again'
                    % (res.qualified, name), details_for(res, name))


def invalid(res, name, field, detail):
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s: %s' % (res.kind, name, field, detail),
                    dict(details_for(res, name), kind=res.kind,
                         causes=[{"reason": "FieldValueInvalid", "message": detail,
                                  "field": field}]))


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_PLACEHOLDER = re.compile(r"\{\{\s*now((?:\s*[+-]\s*\d+\s*[smhdw])*)\s*\}\}")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


_VAR = re.compile(r"\{\{\s*var:([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def read_env(path):
    """KEY=VALUE lines of a cluster.env (comments and blank lines skipped)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, sep, v = line.partition("=")
            if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                raise ValueError("%s:%d: not KEY=VALUE" % (path, i))
            out[k] = v.strip().strip('"')
    return out


def expand_vars(text, variables, where):
    """`{{var:NAME}}` -> the value from --var or the folder's cluster.env."""

    def sub(m):
        if m.group(1) not in variables:
            raise ValueError("%s: {{var:%s}} is not set (cluster.env or --var %s=...)"
                             % (where, m.group(1), m.group(1)))
        return variables[m.group(1)]

    return _VAR.sub(sub, text)


def expand_placeholders(text, now):
    """`{{now}}`, `{{now+2h}}`, `{{now-400d}}`, `{{now-1d+3h}}` -> RFC 3339 UTC times."""

    def sub(m):
        secs = 0
        for sign, n, unit in re.findall(r"([+-])\s*(\d+)\s*([smhdw])", m.group(1)):
            secs += (1 if sign == "+" else -1) * int(n) * _UNIT[unit]
        return rfc3339(now + datetime.timedelta(seconds=secs))

    return _PLACEHOLDER.sub(sub, text)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _ordered(obj):
    """kind, apiVersion, metadata first, like the Go structs the real server encodes."""
    out = {}
    for k in ("kind", "apiVersion", "metadata"):
        if k in obj:
            out[k] = obj[k]
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    return out


class Entry:
    __slots__ = ("obj", "raw", "rv")

    def __init__(self, obj, rv):
        self.obj = obj
        self.rv = rv
        item = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
        self.raw = dumps(item)

    def full(self, res):
        """The object as a single GET returns it (kind/apiVersion in front)."""
        head = b'{"kind":"%s","apiVersion":"%s"' % (res.kind.encode(), res.api_version.encode())
        if self.raw == b"{}":
            return head + b"}"
        return head + b"," + self.raw[1:]


class ResTable:
    def __init__(self):
        self.by_key = {}
        self.keys = []


def _key(res, ns, name):
    return "%s/%s" % (ns, name) if res.namespaced else name


def encode_continue(rv, key):
    tok = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key + "\x00"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(tok.encode()).decode().rstrip("=")


def decode_continue(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        d = json.loads(base64.urlsafe_b64decode(tok + pad))
        if d.get("v") != "meta.k8s.io/v1" or not isinstance(d.get("rv"), int):
            raise ValueError("unknown version")
        start = d["start"]
        if not isinstance(start, str):
            raise ValueError("bad start")
        return d["rv"], start
    except (ValueError, KeyError, TypeError) as e:
        raise ApiError(400, "BadRequest", "continue key is not valid: %s" % e)


_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class Store:
    def __init__(self, now=None):
        self.lock = threading.RLock()
        self.rv = 1
        self.tables = {r.key: ResTable() for r in CATALOG}
        self.fixed_now = now
        # Watch events (rv, type, resource key, namespace, raw item); bounded like the watch cache.
        self.events = collections.deque(maxlen=10000)
        self.cond = threading.Condition(self.lock)
        # Continue tokens minted before this resourceVersion answer 410 Expired.
        self.compacted_rv = 0
        # owner uid -> {(resource key, namespace, name)} for the garbage collector
        self.owned = {}
        # resource key -> {(label, value): {object keys}} for equality label selectors
        self.lindex = {r.key: {} for r in CATALOG}

    def now(self):
        if self.fixed_now is not None:
            return self.fixed_now
        return datetime.datetime.now(datetime.timezone.utc)

    # ------------------------------------------------------------ loading
    def load_folder(self, folder, variables=None):
        """Load every *.yaml / *.yml file (multi-document, `kind: List` expanded), sorted by name.
        VARIABLES fill `{{var:NAME}}` (the caller merges cluster.env and --var)."""
        names = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
        for n in names:
            path = os.path.join(folder, n)
            with open(path, encoding="utf-8") as f:
                text = expand_vars(expand_placeholders(f.read(), self.now()), variables or {},
                                   path)
            try:
                docs = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader",
                                                               yaml.SafeLoader)))
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                where = "%s:%d" % (path, mark.line + 1) if mark else path
                raise ValueError("%s: %s" % (where, getattr(e, "problem", None) or
                                             str(e).replace("\n", " ")))
            for i, doc in enumerate(docs):
                if doc is None:
                    continue
                items = doc.get("items") if isinstance(doc, dict) and \
                    str(doc.get("kind", "")).endswith("List") else [doc]
                for obj in items or []:
                    self.seed(obj, "%s: document %d" % (path, i + 1))

    def seed(self, obj, where="object"):
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise ValueError("%s: not an object with apiVersion, kind and metadata" % where)
        res = lookup_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if res is None:
            raise ValueError("%s: the stand-in does not serve %s %s" %
                             (where, obj.get("apiVersion"), obj.get("kind")))
        meta = obj["metadata"]
        name = meta.get("name")
        if not name:
            raise ValueError("%s: metadata.name is required" % where)
        ns = meta.get("namespace") or ("default" if res.namespaced else None)
        with self.lock:
            if res.namespaced:
                self.ensure_namespace(ns)
            key = _key(res, ns, name)
            if key in self.tables[res.key].by_key:
                raise ValueError("%s: %s %s is defined twice" % (where, res.kind, key))
            self._put(res, ns, self._prepare_new(res, ns, obj), emit=False)

    def ensure_namespace(self, ns):
        from resources import BY_PATH
        res = BY_PATH[("", "v1", "namespaces")]
        if ns in self.tables[res.key].by_key:
            return
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        self._put(res, None, self._prepare_new(res, None, obj), emit=False)

    def synthesize(self, kind, count, version):
        """Bench data: COUNT Secrets (spread over 50 namespaces) or Nodes, with labels."""
        from resources import BY_PATH
        with self.lock:
            for i in range(count):
                if kind == "secrets":
                    ns = "bench-%02d" % (i % 50)
                    self.ensure_namespace(ns)
                    obj = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                           "metadata": {"name": "secret-%06d" % i, "namespace": ns,
                                        "labels": {"bench": "yes", "shard": str(i % 10)}},
                           "data": {"token": base64.b64encode(os.urandom(96)).decode(),
                                    "ca.crt": base64.b64encode(b"x" * 900).decode()}}
                    res = BY_PATH[("", "v1", "secrets")]
                elif kind == "nodes":
                    ns = None
                    obj = {"apiVersion": "v1", "kind": "Node",
                           "metadata": {"name": "node-%05d" % i,
                                        "labels": {"kubernetes.io/hostname": "node-%05d" % i,
                                                   "kubernetes.io/os": "linux"}},
                           "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                      "nodeInfo": {"kubeletVersion": version,
                                                   "kubeProxyVersion": version}}}
                    res = BY_PATH[("", "v1", "nodes")]
                else:
                    raise ValueError("--synthesize knows secrets and nodes, not %s" % kind)
                self._put(res, ns, self._prepare_new(res, ns, obj), emit=False)

    # ------------------------------------------------------------ helpers
    def _prepare_new(self, res, ns, obj):
        # OBJ is always fresh (parsed from a fixture or a request body): changed in place.
        obj = dict(obj)
        obj["metadata"] = dict(obj.get("metadata") or {})
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", rfc3339(self.now()))
        if res.group in ("apps", "batch") or res.kind in ("Deployment",):
            meta.setdefault("generation", 1)
        self._normalise(res, obj)
        return obj

    def _normalise(self, res, obj):
        if res.kind == "Secret":
            sd = obj.pop("stringData", None)
            if sd:
                data = obj.setdefault("data", {})
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
            obj.setdefault("type", "Opaque")
        elif res.kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
            obj["metadata"].setdefault("labels", {})
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = obj["metadata"]["name"]

    def _put(self, res, ns, obj, emit=True, etype="ADDED"):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        t = self.tables[res.key]
        key = _key(res, ns, obj["metadata"]["name"])
        e = Entry(_ordered(obj), self.rv)
        old = t.by_key.get(key)
        if old is None:
            bisect.insort(t.keys, key)
        else:
            self._unindex_owners(res, ns, old)
        t.by_key[key] = e
        for ref in obj["metadata"].get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("uid"):
                self.owned.setdefault(ref["uid"], set()).add((res.key, ns, obj["metadata"]["name"]))
        idx = self.lindex[res.key]
        for kv in (obj["metadata"].get("labels") or {}).items():
            idx.setdefault(kv, set()).add(key)
        if emit:
            self.events.append((self.rv, etype, res.key, ns, e))
            self.cond.notify_all()
        return e

    def _unindex_owners(self, res, ns, e):
        key = _key(res, ns, e.obj["metadata"]["name"])
        idx = self.lindex[res.key]
        for kv in (e.obj["metadata"].get("labels") or {}).items():
            if kv in idx:
                idx[kv].discard(key)
        for ref in e.obj["metadata"].get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("uid") in self.owned:
                self.owned[ref["uid"]].discard((res.key, ns, e.obj["metadata"]["name"]))

    def _collect(self, res, ns, gone):
        """What the namespace controller and the garbage collector would delete next: a
        namespace's objects, and objects whose ownerReferences name a deleted uid (kubeadm-certs
        goes when its bootstrap token goes). Done at once, not in the background."""
        from resources import BY_KEY
        todo = []
        if res.kind == "Namespace":
            name = gone.obj["metadata"]["name"]
            for r in CATALOG:
                if r.namespaced:
                    t = self.tables[r.key]
                    lo = bisect.bisect_left(t.keys, name + "/")
                    hi = bisect.bisect_left(t.keys, name + "0")
                    todo += [(r, name, k.split("/", 1)[1]) for k in t.keys[lo:hi]]
        for rkey, ons, oname in sorted(self.owned.pop(gone.obj["metadata"]["uid"], set()),
                                       key=lambda x: (x[0], x[1] or "", x[2])):
            todo.append((BY_KEY[rkey], ons, oname))
        for r, ons, oname in todo:
            if _key(r, ons, oname) in self.tables[r.key].by_key:
                self._collect(r, ons, self._drop(r, ons, oname))

    def _drop(self, res, ns, name):
        t = self.tables[res.key]
        key = _key(res, ns, name)
        e = t.by_key.pop(key)
        i = bisect.bisect_left(t.keys, key)
        del t.keys[i]
        self._unindex_owners(res, ns, e)
        self.rv += 1
        obj = copy.deepcopy(e.obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        gone = Entry(obj, self.rv)
        self.events.append((self.rv, "DELETED", res.key, ns, gone))
        self.cond.notify_all()
        return gone

    # ------------------------------------------------------------ reads
    def get(self, res, ns, name):
        with self.lock:
            e = self.tables[res.key].by_key.get(_key(res, ns, name))
        if e is None:
            raise not_found(res, name)
        return e

    def list(self, res, ns, label_reqs, field_reqs, limit, cont, match):
        """(entries, continue token or "", remainingItemCount or None, list resourceVersion)."""
        with self.lock:
            t = self.tables[res.key]
            keys = t.keys
            if ns is not None and res.namespaced:
                lo, hi = bisect.bisect_left(keys, ns + "/"), bisect.bisect_left(keys, ns + "0")
            else:
                lo, hi = 0, len(keys)
            list_rv = self.rv
            if cont:
                tok_rv, start = decode_continue(cont)
                if tok_rv < self.compacted_rv:
                    raise ApiError(
                        410, "Expired",
                        "The provided continue parameter is too old to display a consistent list "
                        "result. You can start a new list without the continue parameter, or use "
                        "the continue token in this response to retrieve the remainder of the "
                        "results. Continuing with the provided token results in an inconsistent "
                        "list - objects that were created, modified, or deleted between the time "
                        "the first chunk was returned and now may show up in the list.",
                        metadata={"continue": encode_continue(self.rv, start[:-1])})
                lo = max(lo, bisect.bisect_left(keys, start))
                list_rv = tok_rv
            out = []
            i = lo
            filtered = bool(label_reqs or field_reqs)
            eqs = [(k, v[0]) for k, op, v in label_reqs if op == "="]
            if eqs:
                # Equality on labels (owner=helm): walk the label index's few keys, not the range.
                idx = self.lindex[res.key]
                cand = set.intersection(*[idx.get(kv, set()) for kv in eqs])
                if len(cand) * 4 < hi - lo:
                    first = keys[lo] if lo < hi else None
                    prefix = ns + "/" if ns is not None and res.namespaced else ""
                    sub = sorted(k for k in cand if first is not None and k >= first and
                                 k.startswith(prefix))
                    j = 0
                    while j < len(sub):
                        e = t.by_key[sub[j]]
                        j += 1
                        if not match(e.obj):
                            continue
                        out.append(e)
                        if limit and len(out) >= limit:
                            break
                    more = limit and len(out) >= limit and j < len(sub)
                    token = encode_continue(list_rv, sub[j - 1]) if more else ""
                    return out, token, None, list_rv
            while i < hi:
                e = t.by_key[keys[i]]
                i += 1
                if filtered and not match(e.obj):
                    continue
                out.append(e)
                if limit and len(out) >= limit:
                    break
            more = limit and len(out) >= limit and i < hi
            token = encode_continue(list_rv, keys[i - 1]) if more else ""
            remaining = (hi - i) if more and not filtered else None
            return out, token, remaining, list_rv

    # ------------------------------------------------------------ writes
    def create(self, res, ns, obj, dry=False):
        meta = obj.get("metadata") or {}
        with self.lock:
            if res.namespaced:
                from resources import BY_PATH
                nsres = BY_PATH[("", "v1", "namespaces")]
                if ns not in self.tables[nsres.key].by_key:
                    raise not_found(nsres, ns)
            name = meta.get("name")
            if not name and meta.get("generateName"):
                for _ in range(20):
                    name = meta["generateName"] + "".join(random.choice(_GEN_CHARS)
                                                          for _ in range(5))
                    if _key(res, ns, name) not in self.tables[res.key].by_key:
                        break
                meta = dict(meta, name=name)
                obj = dict(obj, metadata=meta)
            if not name:
                raise invalid(res, "", "metadata.name",
                              "Required value: name or generateName is required")
            if _key(res, ns, name) in self.tables[res.key].by_key:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists'
                               % (res.qualified, name), details_for(res, name))
            meta = dict(meta)
            for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"):
                meta.pop(k, None)
            obj = dict(obj, metadata=meta)
            new = self._prepare_new(res, ns, obj)
            if dry:
                new["metadata"]["resourceVersion"] = ""
                return Entry(_ordered(new), self.rv)
            return self._put(res, ns, new)

    def update(self, res, ns, name, obj, dry=False, subresource=None, check_rv=True):
        with self.lock:
            old = self.get(res, ns, name)
            meta = obj.get("metadata") or {}
            if meta.get("name") and meta["name"] != name:
                raise ApiError(400, "BadRequest", "the name of the object (%s) does not match "
                               "the name on the URL (%s)" % (meta["name"], name))
            if res.namespaced and meta.get("namespace") and meta["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does "
                               "not match the namespace sent on the request")
            want = meta.get("resourceVersion")
            if check_rv and want and want != old.obj["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            new = copy.deepcopy(obj)
            new["apiVersion"] = res.api_version
            new["kind"] = res.kind
            nm = new.setdefault("metadata", {})
            om = old.obj["metadata"]
            for k in ("uid", "creationTimestamp", "name"):
                nm[k] = om[k]
            if res.namespaced:
                nm["namespace"] = ns
            if "deletionTimestamp" in om:
                nm["deletionTimestamp"] = om["deletionTimestamp"]
            if subresource in ("status", "approval"):
                # Status writes change status only (and the approval subresource only conditions).
                keep = copy.deepcopy(old.obj)
                if subresource == "status":
                    keep["status"] = new.get("status", {})
                else:
                    st = keep.setdefault("status", {})
                    st["conditions"] = (new.get("status") or {}).get("conditions", [])
                new = keep
            elif "status" in old.obj and res.subresources and "status" in res.subresources:
                # A write to the main resource leaves status alone where status is a subresource.
                new["status"] = copy.deepcopy(old.obj["status"])
            if "generation" in om:
                same_spec = old.obj.get("spec") == new.get("spec")
                nm["generation"] = om["generation"] + (0 if same_spec else 1)
            self._normalise(res, new)
            if dry:
                new["metadata"]["resourceVersion"] = om["resourceVersion"]
                return Entry(_ordered(new), old.rv)
            return self._put(res, ns, new, etype="MODIFIED")

    def delete(self, res, ns, name, precond=None, dry=False):
        with self.lock:
            old = self.get(res, ns, name)
            precond = precond or {}
            if precond.get("uid") and precond["uid"] != old.obj["metadata"]["uid"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": '
                               'Precondition failed: UID in precondition: %s, UID in object meta: '
                               '%s' % (res.qualified, name, precond["uid"],
                                       old.obj["metadata"]["uid"]), details_for(res, name))
            if precond.get("resourceVersion") and \
                    precond["resourceVersion"] != old.obj["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": '
                               'Precondition failed: ResourceVersion in precondition: %s, '
                               'ResourceVersion in object meta: %s'
                               % (res.qualified, name, precond["resourceVersion"],
                                  old.obj["metadata"]["resourceVersion"]),
                               details_for(res, name))
            if dry:
                return old
            gone = self._drop(res, ns, name)
            self._collect(res, ns, gone)
            return gone
