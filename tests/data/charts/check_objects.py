#!/usr/bin/python3
"""Independent check of rendered Kubernetes objects for a target release (used by
tests/t_apis_convert_charts.sh; it shares no code with kubevet).

    check_objects.py TARGET FILE...   (FILE: multi-document YAML, e.g. `helm template` output)

Prints one line per problem, "SOURCE\tKind/name\tproblem", where SOURCE is the template named by
Helm's "# Source:" comment (or the file); exits 1 when there is any. Facts: the Kubernetes
deprecated API migration guide (removals) and the CRD structural-schema rules of the
"Extend the Kubernetes API with CustomResourceDefinitions" page."""
import re
import sys

import yaml

# (apiVersion, kind or None for every kind) -> first release that no longer serves it
REMOVED = {
    ("extensions/v1beta1", None): (1, 16),
    ("apps/v1beta1", None): (1, 16),
    ("apps/v1beta2", None): (1, 16),
    ("extensions/v1beta1", "Ingress"): (1, 22),
    ("networking.k8s.io/v1beta1", None): (1, 22),
    ("apiextensions.k8s.io/v1beta1", None): (1, 22),
    ("admissionregistration.k8s.io/v1beta1", None): (1, 22),
    ("rbac.authorization.k8s.io/v1beta1", None): (1, 22),
    ("rbac.authorization.k8s.io/v1alpha1", None): (1, 22),
    ("scheduling.k8s.io/v1beta1", None): (1, 22),
    ("certificates.k8s.io/v1beta1", None): (1, 22),
    ("storage.k8s.io/v1beta1", "StorageClass"): (1, 22),
    ("coordination.k8s.io/v1beta1", None): (1, 22),
    ("batch/v1beta1", None): (1, 25),
    ("policy/v1beta1", None): (1, 25),
    ("autoscaling/v2beta1", None): (1, 25),
    ("autoscaling/v2beta2", None): (1, 26),
}
WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"}
JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
FORBIDDEN = ("$ref", "definitions", "id", "$schema", "dependencies", "additionalItems",
             "patternProperties")


def removed(api, kind, target):
    for key in ((api, kind), (api, None)):
        if key in REMOVED and target >= REMOVED[key]:
            return True
    return False


def workload(o, out):
    spec = o.get("spec") or {}
    sel = spec.get("selector")
    labels = (((spec.get("template") or {}).get("metadata") or {}).get("labels")) or {}
    if not isinstance(sel, dict) or not (sel.get("matchLabels") or sel.get("matchExpressions")):
        out.append("apps/v1 needs spec.selector with matchLabels or matchExpressions")
        return
    for k, v in (sel.get("matchLabels") or {}).items():
        if str(labels.get(k)) != str(v):
            out.append("selector %s=%s does not select the pod template labels" % (k, v))


def backend(b, where, out):
    if not isinstance(b, dict):
        out.append("%s: no backend" % where)
        return
    if "serviceName" in b or "servicePort" in b:
        out.append("%s: serviceName/servicePort are not networking.k8s.io/v1" % where)
    svc = b.get("service")
    if "resource" in b:
        return
    if not isinstance(svc, dict) or not svc.get("name"):
        out.append("%s: no service.name" % where)
        return
    port = svc.get("port")
    if not isinstance(port, dict) or not (("number" in port) ^ ("name" in port)):
        out.append("%s: service.port needs exactly one of number and name" % where)


def ingress(o, out):
    spec = o.get("spec") or {}
    if "backend" in spec:
        out.append("spec.backend is spec.defaultBackend in networking.k8s.io/v1")
    if "defaultBackend" in spec:
        backend(spec["defaultBackend"], "spec.defaultBackend", out)
    for i, r in enumerate(spec.get("rules") or []):
        for j, p in enumerate(((r or {}).get("http") or {}).get("paths") or []):
            where = "rules[%d].http.paths[%d]" % (i, j)
            if p.get("pathType") not in ("Exact", "Prefix", "ImplementationSpecific"):
                out.append("%s: pathType missing or invalid" % where)
            backend(p.get("backend"), where + ".backend", out)


def schema(node, path, at, out, outer=None):
    """The structural rules, recursively. at: root, field or junctor."""
    if not isinstance(node, dict):
        out.append("%s: not a schema object" % path)
        return
    for k in FORBIDDEN:
        if k in node:
            out.append("%s: %s is forbidden" % (path, k))
    if node.get("uniqueItems") is True:
        out.append("%s: uniqueItems: true is forbidden" % path)
    ios = node.get("x-kubernetes-int-or-string") is True
    pres = node.get("x-kubernetes-preserve-unknown-fields") is True
    if at == "junctor":
        for k in ("description", "type", "default", "additionalProperties", "nullable", "title",
                  "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
                  "x-kubernetes-embedded-resource", "x-kubernetes-list-type",
                  "x-kubernetes-list-map-keys", "x-kubernetes-map-type"):
            if k in node:
                out.append("%s: %s inside a junctor" % (path, k))
        for f, sub in (node.get("properties") or {}).items():
            if f == "metadata":
                out.append("%s: metadata inside a junctor" % path)
            if outer is not None and f not in (outer.get("properties") or {}):
                out.append("%s: property %s only inside a junctor" % (path, f))
            schema(sub, "%s.properties.%s" % (path, f), "junctor", out, None)
        if isinstance(node.get("items"), dict):
            schema(node["items"], path + ".items", "junctor", out, None)
        return
    if at == "root" and node.get("type") != "object":
        out.append("%s: the root must be type: object" % path)
    if not node.get("type") and not ios and not pres:
        out.append("%s: no type" % path)
    if node.get("type") == "array" and "items" not in node:
        out.append("%s: an array needs items" % path)
    if ios and pres:
        out.append("%s: int-or-string with preserve-unknown-fields" % path)
    props = node.get("properties") or {}
    ap = node.get("additionalProperties")
    if at == "root":
        for f in ("apiVersion", "kind"):
            if f in props and (props[f] or {}).get("type") != "string":
                out.append("%s.properties.%s: must be type: string" % (path, f))
        if ap is not None:
            out.append("%s: additionalProperties at the root" % path)
    if props and ap is not None and ap is not True:
        out.append("%s: properties and additionalProperties together" % path)
    for f, sub in props.items():
        if at == "root" and f == "metadata":
            # only type: object and restrictions of name/generateName
            if not isinstance(sub, dict) or sub.get("type") != "object":
                out.append("%s.properties.metadata: must be type: object" % path)
            elif set(sub) - {"type", "properties"} or \
                    set((sub.get("properties") or {})) - {"name", "generateName"}:
                out.append("%s.properties.metadata: says more than name/generateName" % path)
            continue
        schema(sub, "%s.properties.%s" % (path, f), "field", out)
    items = node.get("items")
    if isinstance(items, list):
        out.append("%s.items: a list is not allowed" % path)
    elif items is not None:
        schema(items, path + ".items", "field", out)
    if isinstance(ap, dict):
        schema(ap, path + ".additionalProperties", "field", out)
    for j in JUNCTORS:
        subs = node.get(j)
        if subs is None:
            continue
        if j == "anyOf" and ios and sorted(
                (s or {}).get("type", "") for s in subs) == ["integer", "string"]:
            continue
        for i, sub in enumerate(subs if isinstance(subs, list) else [subs]):
            schema(sub, "%s.%s[%d]" % (path, j, i), "junctor", out, node)


def crd(o, out):
    spec = o.get("spec") or {}
    for k in ("validation", "version", "subresources", "additionalPrinterColumns"):
        if k in spec:
            out.append("spec.%s is not apiextensions.k8s.io/v1" % k)
    if spec.get("preserveUnknownFields") is True:
        out.append("spec.preserveUnknownFields: true is refused by v1")
    vs = spec.get("versions") or []
    if not vs:
        out.append("no spec.versions")
    for v in vs:
        s = ((v or {}).get("schema") or {}).get("openAPIV3Schema")
        if s is None:
            out.append("versions[%s]: no schema.openAPIV3Schema" % v.get("name"))
            continue
        schema(s, "versions[%s].schema.openAPIV3Schema" % v.get("name"), "root", out)
        for c in v.get("additionalPrinterColumns") or []:
            if "JSONPath" in c or "jsonPath" not in c:
                out.append("versions[%s]: printer column %s needs jsonPath" % (v.get("name"),
                                                                              c.get("name")))


def webhook(o, out):
    for w in o.get("webhooks") or []:
        if w.get("sideEffects") not in ("None", "NoneOnDryRun"):
            out.append("webhook %s: sideEffects must be None or NoneOnDryRun" % w.get("name"))
        if not w.get("admissionReviewVersions"):
            out.append("webhook %s: admissionReviewVersions is required" % w.get("name"))


def check(o, target):
    out = []
    api, kind = o.get("apiVersion"), o.get("kind")
    if removed(api, kind, target):
        out.append("%s %s is not served at %d.%d" % (api, kind, target[0], target[1]))
    elif api == "apps/v1" and kind in WORKLOADS:
        workload(o, out)
    elif api == "networking.k8s.io/v1" and kind == "Ingress":
        ingress(o, out)
    elif api == "apiextensions.k8s.io/v1" and kind == "CustomResourceDefinition":
        crd(o, out)
    elif api == "admissionregistration.k8s.io/v1":
        webhook(o, out)
    return out


def main():
    t = re.match(r"v?(\d+)\.(\d+)", sys.argv[1])
    target = (int(t.group(1)), int(t.group(2)))
    bad = n = 0
    for path in sys.argv[2:]:
        text = open(path, encoding="utf-8").read()
        for chunk in re.split(r"(?m)^---\s*$", text):
            m = re.search(r"(?m)^# Source: (\S+)", chunk)
            src = m.group(1) if m else path
            o = yaml.safe_load(chunk)
            if not isinstance(o, dict) or "kind" not in o:
                continue
            n += 1
            name = "%s/%s" % (o.get("kind"), (o.get("metadata") or {}).get("name"))
            for p in check(o, target):
                print("%s\t%s\t%s" % (src, name, p))
                bad += 1
    print("checked %d object(s), %d problem(s)" % (n, bad), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
