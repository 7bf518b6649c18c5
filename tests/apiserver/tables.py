"""meta.k8s.io/v1 Table responses: what `kubectl get` asks for and prints as columns.

kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...,application/json`;
the real server answers a Table whose columns come from its printers. These are the columns of
kube-apiserver's printers for the resources the stand-in serves; others get the default
table (Name, Created At), as the real server gives resources it has no printer for.
"""

import datetime

_DESC = {"Name": "Name must be unique within a namespace. Is required when creating resources, "
                 "although some resources may allow a client to request the generation of an "
                 "appropriate name automatically. Name is primarily intended for creation "
                 "idempotence and configuration definition. Cannot be updated. More info: "
                 "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
         "Age": "CreationTimestamp is a timestamp representing the server time when this object "
                "was created."}


def human_duration(secs):
    """apimachinery's duration.HumanDuration (the AGE column)."""
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    s = int(secs)
    if s < 60 * 2:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 60 * 3:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (h // 24, h % 24) if h % 24 else "%dd" % (h // 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return "%dy%dd" % (h // 24 // 365, dy) if dy else "%dy" % (h // 24 // 365)
    return "%dy" % (h // 24 // 365)


def _age(obj, now):
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return "<unknown>"
    return human_duration((now - t).total_seconds())


def _node_status(o):
    conds = {c.get("type"): c.get("status") for c in (o.get("status") or {}).get("conditions", [])}
    # kubectl's printer: Ready when the condition is True, NotReady for False or Unknown,
    # Unknown only when the node never reported a Ready condition.
    ready = conds.get("Ready")
    st = "Unknown" if ready is None else ("Ready" if ready == "True" else "NotReady")
    if (o.get("spec") or {}).get("unschedulable"):
        st += ",SchedulingDisabled"
    return st


def _node_roles(o):
    roles = []
    for k, v in ((o.get("metadata") or {}).get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.append(k.split("/", 1)[1])
        elif k == "kubernetes.io/role":
            roles.append(v)
    return ",".join(sorted(set(r for r in roles if r))) or "<none>"


def _addr(o, kind):
    for a in (o.get("status") or {}).get("addresses", []):
        if a.get("type") == kind:
            return a.get("address", "")
    return "<none>"


def _csr_condition(o):
    conds = [c.get("type") for c in (o.get("status") or {}).get("conditions", [])]
    if (o.get("status") or {}).get("certificate"):
        conds.append("Issued")
    return ",".join(conds) or "Pending"


def _pod_ready(o):
    cs = (o.get("status") or {}).get("containerStatuses", [])
    total = len((o.get("spec") or {}).get("containers", []))
    return "%d/%d" % (sum(1 for c in cs if c.get("ready")), total)


def _pod_restarts(o):
    return sum(int(c.get("restartCount", 0))
               for c in (o.get("status") or {}).get("containerStatuses", []))


def _svc_ports(o):
    ports = []
    for p in (o.get("spec") or {}).get("ports", []):
        s = "%s/%s" % (p.get("port"), p.get("protocol", "TCP"))
        if p.get("nodePort"):
            s = "%s:%s/%s" % (p.get("port"), p["nodePort"], p.get("protocol", "TCP"))
        ports.append(s)
    return ",".join(ports) or "<none>"


def _workload(kind):
    def ready(o):
        st = o.get("status") or {}
        spec = o.get("spec") or {}
        if kind == "daemonsets":
            return None
        return "%d/%d" % (st.get("readyReplicas", 0), spec.get("replicas", 1))
    return ready


def _s(o, *path, default="<none>"):
    cur = o
    for p in path:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(p)
    return default if cur is None else cur


# (name, type, priority, function(obj, now)) per plural.
COLUMNS = {
    "nodes": [("Status", "string", 0, lambda o, n: _node_status(o)),
              ("Roles", "string", 0, lambda o, n: _node_roles(o)),
              ("Age", "string", 0, _age),
              ("Version", "string", 0, lambda o, n: _s(o, "status", "nodeInfo", "kubeletVersion",
                                                      default="")),
              ("Internal-IP", "string", 1, lambda o, n: _addr(o, "InternalIP")),
              ("External-IP", "string", 1, lambda o, n: _addr(o, "ExternalIP")),
              ("OS-Image", "string", 1, lambda o, n: _s(o, "status", "nodeInfo", "osImage",
                                                       default="<unknown>")),
              ("Kernel-Version", "string", 1,
               lambda o, n: _s(o, "status", "nodeInfo", "kernelVersion", default="<unknown>")),
              ("Container-Runtime", "string", 1,
               lambda o, n: _s(o, "status", "nodeInfo", "containerRuntimeVersion",
                               default="<unknown>"))],
    "namespaces": [("Status", "string", 0, lambda o, n: _s(o, "status", "phase", default="")),
                   ("Age", "string", 0, _age)],
    "secrets": [("Type", "string", 0, lambda o, n: o.get("type", "")),
                ("Data", "integer", 0, lambda o, n: len(o.get("data") or {})),
                ("Age", "string", 0, _age)],
    "configmaps": [("Data", "integer", 0,
                    lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                   ("Age", "string", 0, _age)],
    "serviceaccounts": [("Secrets", "string", 0, lambda o, n: len(o.get("secrets") or [])),
                        ("Age", "string", 0, _age)],
    "pods": [("Ready", "string", 0, lambda o, n: _pod_ready(o)),
             ("Status", "string", 0, lambda o, n: _s(o, "status", "phase", default="Unknown")),
             ("Restarts", "string", 0, lambda o, n: str(_pod_restarts(o))),
             ("Age", "string", 0, _age),
             ("IP", "string", 1, lambda o, n: _s(o, "status", "podIP")),
             ("Node", "string", 1, lambda o, n: _s(o, "spec", "nodeName"))],
    "services": [("Type", "string", 0, lambda o, n: _s(o, "spec", "type", default="ClusterIP")),
                 ("Cluster-IP", "string", 0, lambda o, n: _s(o, "spec", "clusterIP")),
                 ("External-IP", "string", 0, lambda o, n: "<none>"),
                 ("Port(s)", "string", 0, lambda o, n: _svc_ports(o)),
                 ("Age", "string", 0, _age)],
    "certificatesigningrequests": [
        ("Age", "string", 0, _age),
        ("SignerName", "string", 0, lambda o, n: _s(o, "spec", "signerName")),
        ("Requestor", "string", 0, lambda o, n: _s(o, "spec", "username")),
        ("RequestedDuration", "string", 0,
         lambda o, n: human_duration(o["spec"]["expirationSeconds"])
         if (o.get("spec") or {}).get("expirationSeconds") else "<none>"),
        ("Condition", "string", 0, lambda o, n: _csr_condition(o))],
    "deployments": [("Ready", "string", 0, _workload("deployments")),
                    ("Up-to-date", "integer", 0,
                     lambda o, n: _s(o, "status", "updatedReplicas", default=0)),
                    ("Available", "integer", 0,
                     lambda o, n: _s(o, "status", "availableReplicas", default=0)),
                    ("Age", "string", 0, _age)],
    "statefulsets": [("Ready", "string", 0, _workload("statefulsets")),
                     ("Age", "string", 0, _age)],
    "daemonsets": [("Desired", "integer", 0,
                    lambda o, n: _s(o, "status", "desiredNumberScheduled", default=0)),
                   ("Current", "integer", 0,
                    lambda o, n: _s(o, "status", "currentNumberScheduled", default=0)),
                   ("Ready", "integer", 0, lambda o, n: _s(o, "status", "numberReady", default=0)),
                   ("Up-to-date", "integer", 0,
                    lambda o, n: _s(o, "status", "updatedNumberScheduled", default=0)),
                   ("Available", "integer", 0,
                    lambda o, n: _s(o, "status", "numberAvailable", default=0)),
                   ("Age", "string", 0, _age)],
    "replicasets": [("Desired", "integer", 0, lambda o, n: _s(o, "spec", "replicas", default=1)),
                    ("Current", "integer", 0, lambda o, n: _s(o, "status", "replicas", default=0)),
                    ("Ready", "integer", 0,
                     lambda o, n: _s(o, "status", "readyReplicas", default=0)),
                    ("Age", "string", 0, _age)],
    "leases": [("Holder", "string", 0, lambda o, n: _s(o, "spec", "holderIdentity", default="")),
               ("Age", "string", 0, _age)],
    "endpoints": [("Endpoints", "string", 0, lambda o, n: "<none>"), ("Age", "string", 0, _age)],
}


def _default_created(o, now):
    return (o.get("metadata") or {}).get("creationTimestamp", "")


def table(res, entries, now, list_meta, include_object="Metadata"):
    """The Table for ENTRIES (stored Entry objects), rows in the order given."""
    cols = COLUMNS.get(res.plural)
    defs = [{"name": "Name", "type": "string", "format": "name", "description": _DESC["Name"],
             "priority": 0}]
    if cols is None:
        cols = [("Created At", "date", 0, _default_created)]
    for name, typ, prio, _ in cols:
        defs.append({"name": name, "type": typ, "format": "", "description":
                     _DESC.get(name, name), "priority": prio})
    rows = []
    for e in entries:
        o = e.obj
        cells = [o["metadata"]["name"]] + [fn(o, now) for _, _, _, fn in cols]
        row = {"cells": cells}
        if include_object == "Object":
            row["object"] = dict(o, apiVersion=res.api_version, kind=res.kind)
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": defs, "rows": rows}
