#!/usr/bin/python3
"""Write Helm release records (v3 Secret/ConfigMap drivers, v2 Tiller ConfigMaps) as fixture YAML.

Formats (../shared/spec/FORMATS.md, "Helm release records"):
- v3: Secret `sh.helm.release.v1.<name>.v<rev>` (type helm.sh/release.v1) or ConfigMap of the same
  name, labels name/owner=helm/status/version; `release` = base64(gzip(JSON)), and in a Secret the
  API shows that base64 text base64-encoded once more.
- v2: ConfigMap (or Secret) `<name>.v<rev>` in the Tiller namespace, labels
  NAME/OWNER=TILLER/STATUS/VERSION;
  `release` = base64(gzip(protobuf hapi.release.Release)), encoded here by hand.

Usage:
  helmrec.py SPEC.yaml OUTDIR      one YAML file per release: OUTDIR/helm-<namespace>-<name>.yaml
The spec is a YAML list of releases:
  - name: web                      release name
    namespace: apps                v3: release namespace; v2: the release's target namespace
    helm: 3                        3 (default) or 2
    driver: secret                 v3: secret (default) or configmap; v2: configmap (default) or
                                   secret (Tiller's --storage=secret)
    tiller_namespace: kube-system  v2 only (default kube-system)
    chart: {name: web, version: 1.0.0, appVersion: "1.0"}
    gzip: true                     false writes the JSON/protobuf without gzip (v3 readers accept it)
    revisions:                     oldest first; revision numbers count from 1
      - status: superseded         v3 lower case (deployed, superseded, failed, pending-upgrade...);
                                   v2 names (DEPLOYED, SUPERSEDED, ...) in any case
        deployed: "2024-01-02T03:04:05Z"   optional (default: now minus (count - i) hours)
        description: Install complete
        manifest: |                the rendered manifest ("---\\n# Source: ..." documents)
          ...
        values: {replicas: 2}      optional user-supplied values (config)
        notes: ""                  optional NOTES.txt
        hooks:                     optional hooks: [{name, path, kind, manifest, events: [pre-install]}]
"""

import base64
import datetime
import gzip
import json
import os
import sys

import yaml

V2_CODES = {"UNKNOWN": 0, "DEPLOYED": 1, "DELETED": 2, "SUPERSEDED": 3, "FAILED": 4,
            "DELETING": 5, "PENDING_INSTALL": 6, "PENDING_UPGRADE": 7, "PENDING_ROLLBACK": 8}


# ---------------------------------------------------------------- protobuf, by hand
def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def pb_int(field, n):
    return _key(field, 0) + _varint(n) if n else b""


def pb_bytes(field, data, always=False):
    if isinstance(data, str):
        data = data.encode()
    if not data and not always:
        return b""
    return _key(field, 2) + _varint(len(data)) + data


def pb_msg(field, body):
    """An embedded message (written even when empty, as Go's proto.Marshal does for set pointers)."""
    return _key(field, 2) + _varint(len(body)) + body


def pb_timestamp(t):
    secs = int(t.timestamp())
    nanos = t.microsecond * 1000
    return pb_int(1, secs) + pb_int(2, nanos)


V2_EVENTS = {"unknown": 0, "pre-install": 1, "post-install": 2, "pre-delete": 3,
             "post-delete": 4, "pre-upgrade": 5, "post-upgrade": 6, "pre-rollback": 7,
             "post-rollback": 8, "test-success": 9, "test-failure": 10}


def v2_hook(h):
    """hapi.release.Hook: name=1, kind=2, path=3, manifest=4, events=5 (repeated enum)."""
    body = (pb_bytes(1, h.get("name", "")) + pb_bytes(2, h.get("kind", "")) +
            pb_bytes(3, h.get("path", "")) + pb_bytes(4, h.get("manifest", "")))
    for e in h.get("events", []):
        body += _key(5, 0) + _varint(V2_EVENTS[e])
    return pb_msg(6, body)


def v2_release(name, namespace, chart, rev, status, deployed, first, description, manifest,
               values_yaml, notes, hooks=()):
    """hapi.release.Release bytes."""
    status_msg = pb_int(1, V2_CODES[status.upper()]) + pb_bytes(4, notes)
    info = (pb_msg(1, status_msg) + pb_msg(2, pb_timestamp(first)) +
            pb_msg(3, pb_timestamp(deployed)) + pb_bytes(5, description))
    meta = (pb_bytes(1, chart["name"]) + pb_bytes(4, str(chart["version"])) +
            pb_bytes(5, chart.get("description", "")) + pb_bytes(10, "v1") +
            pb_bytes(13, str(chart.get("appVersion", ""))))
    chart_msg = pb_msg(1, meta) + pb_msg(4, pb_bytes(1, chart.get("values_yaml", "")))
    config = pb_bytes(1, values_yaml)
    return (pb_bytes(1, name) + pb_msg(2, info) + pb_msg(3, chart_msg) + pb_msg(4, config) +
            pb_bytes(5, manifest) + b"".join(v2_hook(h) for h in hooks) + pb_int(7, rev) +
            pb_bytes(8, namespace))


# ---------------------------------------------------------------- v3 JSON
def _gotime(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def v3_release(name, namespace, chart, rev, status, deployed, first, description, manifest,
               values, notes, hooks=()):
    meta = {"name": chart["name"], "version": str(chart["version"]),
            "description": chart.get("description", "A Helm chart"), "apiVersion": "v2",
            "appVersion": str(chart.get("appVersion", "")), "type": "application"}
    templates = []
    for i, doc in enumerate(d for d in manifest.split("\n---") if d.strip()):
        templates.append({"name": "templates/t%d.yaml" % i,
                          "data": base64.b64encode(doc.strip().encode()).decode()})
    return {"name": name,
            "info": {"first_deployed": _gotime(first), "last_deployed": _gotime(deployed),
                     "deleted": "", "description": description, "status": status,
                     "notes": notes},
            "chart": {"metadata": meta, "lock": None, "templates": templates,
                      "values": chart.get("values", {}), "schema": None, "files": []},
            "config": values or {}, "manifest": manifest,
            "hooks": [{"name": h.get("name", ""), "kind": h.get("kind", ""),
                       "path": h.get("path", ""), "manifest": h.get("manifest", ""),
                       "events": h.get("events", []),
                       "last_run": {"started_at": "", "completed_at": "", "phase": ""}}
                      for h in hooks],
            "version": rev,
            "namespace": namespace}


def _pack(data, use_gzip):
    if use_gzip:
        data = gzip.compress(data, mtime=0)
    return base64.b64encode(data).decode()


def _parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def records(spec, now=None):
    """Kubernetes objects (dicts) for one release spec."""
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = spec["name"]
    helm = int(spec.get("helm", 3))
    ns = spec.get("namespace", "default")
    chart = spec["chart"]
    use_gzip = spec.get("gzip", True)
    revs = spec["revisions"]
    out = []
    first = None
    for i, r in enumerate(revs, 1):
        deployed = _parse_time(r["deployed"]) if r.get("deployed") else \
            now - datetime.timedelta(hours=len(revs) - i + 1)
        first = first or deployed
        created = deployed.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        desc = r.get("description", "Install complete" if i == 1 else "Upgrade complete")
        manifest = r.get("manifest", "")
        if helm == 2:
            status = r["status"].upper()
            body = v2_release(name, ns, chart, i, status, deployed, first, desc, manifest,
                              yaml.safe_dump(r["values"]) if r.get("values") else "",
                              r.get("notes", ""), r.get("hooks", []))
            tns = spec.get("tiller_namespace", "kube-system")
            meta = {"name": "%s.v%d" % (name, i), "namespace": tns, "creationTimestamp": created,
                    "labels": {"NAME": name, "OWNER": "TILLER", "STATUS": status,
                               "VERSION": str(i)}}
            packed = _pack(body, use_gzip)
            if spec.get("driver", "configmap") == "secret":
                # Tiller's --storage=secret: the same text as Secret data (base64 once more).
                out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                            "metadata": meta,
                            "data": {"release": base64.b64encode(packed.encode()).decode()}})
            else:
                out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                            "data": {"release": packed}})
            continue
        status = r["status"].lower()
        body = json.dumps(v3_release(name, ns, chart, i, status, deployed, first, desc, manifest,
                                     r.get("values"), r.get("notes", ""),
                                     r.get("hooks", [])),
                          separators=(",", ":")).encode()
        packed = _pack(body, use_gzip)
        meta = {"name": "sh.helm.release.v1.%s.v%d" % (name, i), "namespace": ns,
                "creationTimestamp": created,
                "labels": {"name": name, "owner": "helm", "status": status, "version": str(i),
                           "createdAt": str(int(deployed.timestamp()))}}
        if spec.get("driver", "secret") == "configmap":
            out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                        "data": {"release": packed}})
        else:
            out.append({"apiVersion": "v1", "kind": "Secret", "metadata": meta,
                        "type": "helm.sh/release.v1",
                        "data": {"release": base64.b64encode(packed.encode()).decode()}})
    return out


def write(spec_list, outdir, now=None):
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for spec in spec_list:
        objs = records(spec, now)
        path = os.path.join(outdir, "helm-%s-%s.yaml" % (spec.get("namespace", "default"),
                                                         spec["name"]))
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump_all(objs, f, sort_keys=False)
        paths.append(path)
    return paths


def main(argv):
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            spec = yaml.safe_load(f)
        if not isinstance(spec, list):
            raise ValueError("the spec must be a YAML list of releases")
        write(spec, argv[1])
    except (OSError, ValueError, KeyError, yaml.YAMLError) as e:
        print("helmrec: %s: %s" % (argv[0], e), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
