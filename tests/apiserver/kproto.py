"""Decode the protobuf request bodies that client-go typed clients send (helm's release storage).

client-go clients configured for `application/vnd.kubernetes.protobuf` (helm 3 is) send
POST/PUT bodies as `k8s\\0` + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2}, raw=2,
contentEncoding=3, contentType=4}, where raw is the object's own message. The stand-in answers
JSON (the clients accept it), so only decoding is needed, and only for the kinds such clients
write here: Secret, ConfigMap, and DeleteOptions. Field numbers from k8s.io/api generated.proto.
"""

import base64
import datetime

MAGIC = b"k8s\x00"


class ProtoError(Exception):
    pass


def _varint(b, i):
    shift = n = 0
    while True:
        if i >= len(b):
            raise ProtoError("truncated varint at offset %d" % i)
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        if not c & 0x80:
            return n, i
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long at offset %d" % i)


def fields(b):
    """(field number, wire type, value) for each field; value is int or bytes."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 2:
            n, i = _varint(b, i)
            if i + n > len(b):
                raise ProtoError("field %d runs past the end (offset %d)" % (num, i))
            v, i = b[i:i + n], i + n
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ProtoError("unsupported wire type %d at offset %d" % (wire, i))
        yield num, wire, v


def _time(b):
    secs = 0
    for num, _, v in fields(b):
        if num == 1:
            secs = v if v < 1 << 63 else v - (1 << 64)
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _map(b, as_bytes):
    k = v = None
    for num, _, val in fields(b):
        if num == 1:
            k = val.decode()
        elif num == 2:
            v = val
    v = v or b""
    return k or "", base64.b64encode(v).decode() if as_bytes else v.decode()


OWNERREF = {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"), 5: ("apiVersion", "str"),
            6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
OBJECTMETA = {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
              5: ("uid", "str"), 6: ("resourceVersion", "str"), 7: ("generation", "int"),
              8: ("creationTimestamp", "time"), 9: ("deletionTimestamp", "time"),
              10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", "map"),
              12: ("annotations", "map"), 13: ("ownerReferences", "rep", OWNERREF),
              14: ("finalizers", "repstr")}
SCHEMAS = {
    "Secret": {1: ("metadata", "msg", OBJECTMETA), 2: ("data", "mapbytes"), 3: ("type", "str"),
               4: ("stringData", "map"), 5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", "msg", OBJECTMETA), 2: ("data", "map"),
                  3: ("binaryData", "mapbytes"), 4: ("immutable", "bool")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int"),
                      2: ("preconditions", "msg", {1: ("uid", "str"),
                                                   2: ("resourceVersion", "str")}),
                      3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "str"),
                      5: ("dryRun", "repstr")},
}


def decode_msg(b, schema):
    out = {}
    for num, _, v in fields(b):
        spec = schema.get(num)
        if spec is None:
            continue
        name, kind = spec[0], spec[1]
        if kind == "str":
            out[name] = v.decode()
        elif kind == "int":
            out[name] = v if v < 1 << 63 else v - (1 << 64)
        elif kind == "bool":
            out[name] = bool(v)
        elif kind == "time":
            out[name] = _time(v)
        elif kind in ("map", "mapbytes"):
            k, val = _map(v, kind == "mapbytes")
            out.setdefault(name, {})[k] = val
        elif kind == "msg":
            out[name] = decode_msg(v, spec[2])
        elif kind == "rep":
            out.setdefault(name, []).append(decode_msg(v, spec[2]))
        elif kind == "repstr":
            out.setdefault(name, []).append(v.decode())
    return out


def decode(body):
    """A JSON-shaped dict for a `k8s\\0` protobuf body; raises ProtoError for other kinds."""
    if not body.startswith(MAGIC):
        raise ProtoError("protobuf body without the k8s\\0 prefix")
    api_version = kind = ""
    raw = b""
    for num, _, v in fields(body[len(MAGIC):]):
        if num == 1:
            for n2, _, v2 in fields(v):
                if n2 == 1:
                    api_version = v2.decode()
                elif n2 == 2:
                    kind = v2.decode()
        elif num == 2:
            raw = v
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtoError("the stand-in decodes protobuf for %s only, not %r" %
                         (", ".join(sorted(SCHEMAS)), kind))
    obj = decode_msg(raw, schema)
    if kind != "DeleteOptions":
        obj = dict({"apiVersion": api_version, "kind": kind}, **obj)
    return obj
