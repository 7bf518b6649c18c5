"""The API catalog the stand-in serves: which groups, versions and resources exist.

Each row is what discovery (/api/v1, /apis/G/V) advertises and what the router accepts.
Adding a resource is one row here (and, if kubectl should print more than NAME/AGE for it,
a column function in tables.py).
"""

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class Resource:
    """One API resource: plural name, Kind, scope, short names, field selectors, subresources."""

    def __init__(self, group, version, plural, kind, namespaced, short=(), fields=(),
                 subresources=(), singular=None, categories=(), verbs=None):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        # Field selectors this resource accepts besides metadata.name / metadata.namespace
        # (the real server rejects any other with 400 "field label not supported").
        self.fields = ["metadata.name", "metadata.namespace"] + list(fields)
        self.subresources = list(subresources)
        self.singular = singular or kind.lower()
        self.categories = list(categories)
        # Review resources (SelfSubjectAccessReview...) are create-only and never stored.
        self.verbs = list(verbs or VERBS)
        self.virtual = verbs is not None

    @property
    def api_version(self):
        return self.version if not self.group else "%s/%s" % (self.group, self.version)

    @property
    def key(self):
        """Store key: group and plural (one version per group here)."""
        return (self.group, self.plural)

    @property
    def qualified(self):
        """How error messages name it: `secrets`, `deployments.apps`."""
        return self.plural if not self.group else "%s.%s" % (self.plural, self.group)


def _r(*a, **kw):
    return Resource(*a, **kw)


CATALOG = [
    # core/v1
    _r("", "v1", "namespaces", "Namespace", False, ["ns"], ["status.phase"],
       ["status", "finalize"]),
    _r("", "v1", "nodes", "Node", False, ["no"], ["spec.unschedulable"], ["status", "proxy"]),
    _r("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    _r("", "v1", "secrets", "Secret", True, [], ["type"]),
    _r("", "v1", "pods", "Pod", True, ["po"],
       ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
       ["status", "log", "eviction", "binding"], categories=["all"]),
    _r("", "v1", "services", "Service", True, ["svc"], [], ["status", "proxy"],
       categories=["all"]),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"], [], ["token"]),
    _r("", "v1", "endpoints", "Endpoints", True, ["ep"], singular="endpoints"),
    _r("", "v1", "events", "Event", True, ["ev"],
       ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], [],
       ["status"]),
    # apps/v1
    _r("apps", "v1", "deployments", "Deployment", True, ["deploy"], [], ["status", "scale"],
       categories=["all"]),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], [], ["status"],
       categories=["all"]),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], [], ["status", "scale"],
       categories=["all"]),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], [], ["status", "scale"],
       categories=["all"]),
    _r("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    # batch/v1
    _r("batch", "v1", "jobs", "Job", True, [], ["status.successful"], ["status"],
       categories=["all"]),
    _r("batch", "v1", "cronjobs", "CronJob", True, ["cj"], [], ["status"],
       categories=["all"]),
    # certificates.k8s.io/v1
    _r("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest",
       False, ["csr"], ["spec.signerName"], ["status", "approval"]),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "leases", "Lease", True),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    # policy/v1 (kubectl drain reads PodDisruptionBudgets)
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], [],
       ["status"]),
    # `kubectl auth can-i` and `kubectl auth whoami`: answered from the stand-in's own rules.
    _r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
       False, verbs=["create"]),
    _r("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
       verbs=["create"]),
]

# The order kube-apiserver lists its groups in /apis (core first, then by priority).
GROUP_ORDER = ["apps", "authentication.k8s.io", "authorization.k8s.io", "batch",
               "certificates.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io", "policy"]

BY_PATH = {(r.group, r.version, r.plural): r for r in CATALOG}
BY_KIND = {(r.group, r.kind): r for r in CATALOG}
BY_KEY = {r.key: r for r in CATALOG}


def lookup_kind(api_version, kind):
    """The resource for an object's apiVersion/kind, or None (fixture loader, POST bodies)."""
    group, _, version = api_version.rpartition("/")
    r = BY_KIND.get((group, kind))
    if r is None or r.version != version:
        return None
    return r


def group_versions():
    """{group: [version, ...]} for the named groups, in discovery order."""
    out = {}
    for g in GROUP_ORDER:
        out[g] = sorted({r.version for r in CATALOG if r.group == g})
    return out


def resource_list(group, version):
    """The APIResourceList body for /api/v1 or /apis/G/V, or None when the pair is unknown."""
    rows = []
    for r in CATALOG:
        if r.group != group or r.version != version:
            continue
        row = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
               "kind": r.kind, "verbs": list(r.verbs)}
        if r.short:
            row["shortNames"] = list(r.short)
        if r.categories:
            row["categories"] = list(r.categories)
        rows.append(row)
        for sub in r.subresources:
            verbs = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
                     "approval": ["get", "patch", "update"], "log": ["get"],
                     "eviction": ["create"], "binding": ["create"], "token": ["create"],
                     "finalize": ["update"], "proxy": ["create", "delete", "get", "patch",
                                                       "update"]}.get(sub, ["get"])
            kind = {"scale": "Scale", "eviction": "Eviction", "binding": "Binding",
                    "token": "TokenRequest", "log": "Pod"}.get(sub, r.kind)
            sub_row = {"name": "%s/%s" % (r.plural, sub), "singularName": "",
                       "namespaced": r.namespaced, "kind": kind, "verbs": verbs}
            if sub == "scale":
                sub_row["group"] = "autoscaling"
                sub_row["version"] = "v1"
            rows.append(sub_row)
    if not rows:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": version if not group else "%s/%s" % (group, version),
            "resources": rows}


def _gv_path(group, version):
    return "api/v1" if not group else "apis/%s/%s" % (group, version)


def openapi_v3_root():
    """/openapi/v3: one entry per group-version, as the real server lists them."""
    gvs = sorted({(r.group, r.version) for r in CATALOG})
    return {"paths": {_gv_path(g, v): {"serverRelativeURL": "/openapi/v3/%s?hash=standin%d"
                                       % (_gv_path(g, v), len(CATALOG))} for g, v in gvs}}


def openapi_v3_doc(gv_path, git_version):
    """A skeleton OpenAPI v3 document for one group-version: the PATCH operation of every resource
    with its x-kubernetes-group-version-kind and the fieldValidation parameter. kubectl and helm
    read exactly that to decide that the server validates fields itself (cli-runtime's
    queryParamVerifierV3), instead of downloading schemas to validate on the client. No schemas:
    `kubectl explain` will not work against the stand-in."""
    paths = {}
    for r in CATALOG:
        if _gv_path(r.group, r.version) != gv_path or r.virtual:
            continue
        base = "/" + gv_path + ("/namespaces/{namespace}" if r.namespaced else "")
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                  for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
        paths["%s/%s/{name}" % (base, r.plural)] = {
            "patch": {"operationId": "patch" + r.kind, "x-kubernetes-action": "patch",
                      "x-kubernetes-group-version-kind": gvk, "parameters": params,
                      "responses": {"200": {"description": "OK"}}}}
    if not paths:
        return None
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": git_version},
            "paths": paths, "components": {"schemas": {}}}
