"""The three PATCH flavours kube-apiserver accepts for built-in types.

- application/merge-patch+json (RFC 7386): maps merge, null deletes, lists replace.
- application/strategic-merge-patch+json: like merge patch, plus the `$patch`,
  `$deleteFromPrimitiveList/...`, `$setElementOrder/...` and `$retainKeys` directives, and lists
  of objects that merge by their key (containers and volumes by name, ports by containerPort...).
- application/json-patch+json (RFC 6902): add, remove, replace, move, copy, test.
"""

import copy


class PatchError(Exception):
    """Patch cannot apply; code is the HTTP status the real server answers (422 or 400)."""

    def __init__(self, msg, code=422):
        super().__init__(msg)
        self.code = code


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# Lists of objects that strategic merge patch merges element by element, and their merge key.
# (The real server takes these from the Go struct tags; these are the ones clients touch.)
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "volumeMounts": "mountPath", "env": "name", "ports": None,
    "imagePullSecrets": "name", "conditions": "type", "tolerations": None,
    "ownerReferences": "uid", "finalizers": None, "addresses": None, "taints": "key",
    "hostAliases": "ip", "volumeDevices": "devicePath",
}


def _port_key(item):
    if "containerPort" in item:
        return "containerPort"
    if "port" in item:
        return "port"
    return None


def strategic_merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out = dict(target)
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [x for x in out[field] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = _merge_list(k, out[k], v)
        else:
            merged = strategic_merge_patch(out.get(k), v)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(name, cur, patch):
    if name not in _MERGE_KEYS or not all(isinstance(x, dict) for x in patch + cur):
        if name in ("finalizers",):
            return list(cur) + [x for x in patch if x not in cur]
        if patch and isinstance(patch[0], dict) and patch[0].get("$patch") == "replace":
            return [x for x in patch[1:]]
        return copy.deepcopy(patch)
    key = _MERGE_KEYS[name]
    out = [copy.deepcopy(x) for x in cur]
    for item in patch:
        if item.get("$patch") == "replace":
            return [x for x in patch if x is not item]
        k = key or _port_key(item)
        if k is None:
            out.append(copy.deepcopy(item))
            continue
        idx = next((i for i, x in enumerate(out) if x.get(k) == item.get(k)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append({a: b for a, b in item.items() if not a.startswith("$")})
        else:
            out[idx] = strategic_merge_patch(out[idx], item)
    return out


def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def _walk(doc, pointer):
    """(parent, last token) for a JSON pointer."""
    if pointer == "":
        return None, None
    if not pointer.startswith("/"):
        raise PatchError("json pointer %r does not start with '/'" % pointer)
    toks = [_unescape(t) for t in pointer[1:].split("/")]
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, list):
            try:
                cur = cur[int(t)]
            except (ValueError, IndexError):
                raise PatchError("doc is missing path: \"%s\": missing value" % pointer)
        elif isinstance(cur, dict) and t in cur:
            cur = cur[t]
        else:
            raise PatchError('doc is missing path: "%s": missing value' % pointer)
    return cur, toks[-1]


def _get(doc, pointer):
    parent, tok = _walk(doc, pointer)
    if parent is None:
        return doc
    if isinstance(parent, list):
        try:
            return parent[int(tok)]
        except (ValueError, IndexError):
            raise PatchError('doc is missing path: "%s": missing value' % pointer)
    if not isinstance(parent, dict) or tok not in parent:
        raise PatchError('doc is missing path: "%s": missing value' % pointer)
    return parent[tok]


def _remove(doc, pointer):
    parent, tok = _walk(doc, pointer)
    if isinstance(parent, list):
        try:
            return parent.pop(int(tok))
        except (ValueError, IndexError):
            raise PatchError("unable to remove nonexistent key: %s: missing value" % tok)
    if not isinstance(parent, dict) or tok not in parent:
        raise PatchError("unable to remove nonexistent key: %s: missing value" % tok)
    return parent.pop(tok)


def _add(doc, pointer, value):
    parent, tok = _walk(doc, pointer)
    if parent is None:
        return value
    if isinstance(parent, list):
        if tok == "-":
            parent.append(value)
        else:
            try:
                i = int(tok)
            except ValueError:
                raise PatchError("invalid array index %r" % tok)
            if i < 0 or i > len(parent):
                raise PatchError("add operation does not apply: doc is missing path: %s" %
                                 pointer)
            parent.insert(i, value)
    elif isinstance(parent, dict):
        parent[tok] = value
    else:
        raise PatchError('doc is missing path: "%s": missing value' % pointer)
    return doc


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations", 400)
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("unexpected kind of operation: %r" % (op,), 400)
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            parent, tok = _walk(doc, path)
            if parent is None:
                doc = copy.deepcopy(op.get("value"))
            elif isinstance(parent, list):
                parent[int(tok)] = copy.deepcopy(op.get("value"))
            else:
                parent[tok] = copy.deepcopy(op.get("value"))
        elif kind == "move":
            v = _remove(doc, op["from"])
            doc = _add(doc, path, v)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise PatchError("Unexpected kind: %s" % kind, 400)
    return doc
