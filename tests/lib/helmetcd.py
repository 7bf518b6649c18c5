#!/usr/bin/python3
"""Turn Secret/ConfigMap fixture YAML (as tests/lib/helmrec.py writes them) into the bytes
kube-apiserver stores in etcd, for `etcdctl put`: "k8s\\0" + runtime.Unknown{typeMeta=1
{apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4} around the object's protobuf.
Secret = {metadata=1, data=2 map<string,bytes>, type=3}; ConfigMap = {metadata=1,
data=2 map<string,string>}; ObjectMeta: name=1, namespace=3, uid=5, creationTimestamp=8
{seconds=1}, labels=11 (map entries {key=1, value=2}). (../shared/spec/FORMATS.md)

Usage: helmetcd.py OUTDIR FILE.yaml...   writes OUTDIR/N.key (the etcd key) and OUTDIR/N.val
"""
import base64
import datetime
import os
import sys
import uuid

import yaml


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fld(num, data):
    if isinstance(data, str):
        data = data.encode()
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def fint(num, n):
    return _varint(num << 3) + _varint(n)


def entry(num, k, v):
    return fld(num, fld(1, k) + fld(2, v))


def object_meta(m):
    out = fld(1, m["name"]) + fld(3, m["namespace"]) + fld(5, str(uuid.uuid4()))
    ts = m.get("creationTimestamp")
    if ts:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        out += fld(8, fint(1, int(t.timestamp())))
    for k, v in sorted((m.get("labels") or {}).items()):
        out += entry(11, k, str(v))
    return out


def encode(obj):
    kind = obj["kind"]
    body = fld(1, object_meta(obj["metadata"]))
    for k, v in sorted((obj.get("data") or {}).items()):
        val = base64.b64decode(v) if kind == "Secret" else v
        body += entry(2, k, val)
    if kind == "Secret":
        body += fld(3, obj.get("type", "Opaque"))
    unknown = fld(1, fld(1, "v1") + fld(2, kind)) + fld(2, body)
    return b"k8s\x00" + unknown


def main(argv):
    outdir = argv[0]
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for path in argv[1:]:
        with open(path, encoding="utf-8") as f:
            for obj in yaml.safe_load_all(f):
                if not obj or obj.get("kind") not in ("Secret", "ConfigMap"):
                    continue
                res = "secrets" if obj["kind"] == "Secret" else "configmaps"
                key = "/registry/%s/%s/%s" % (res, obj["metadata"]["namespace"],
                                              obj["metadata"]["name"])
                n += 1
                with open(os.path.join(outdir, "%d.key" % n), "w") as f:
                    f.write(key)
                with open(os.path.join(outdir, "%d.val" % n), "wb") as f:
                    f.write(encode(obj))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
