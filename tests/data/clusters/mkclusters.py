#!/usr/bin/python3
"""Regenerate the incident fixture clusters in this folder (run by hand, output committed).

    /usr/bin/python3 tests/data/clusters/mkclusters.py [OUTDIR]

Writes one folder per cluster (objects.yaml per area, cluster.env) and ca.crt. Needs the openssl
CLI (CSR requests, the test CA) and python3-cryptography (AES-GCM for the kubeadm-certs Secret).
Times are `{{now...}}` placeholders that the stand-in expands at start-up, so expiry-dependent
facts (tokens, the 2 h kubeadm-certs lifetime, CSR ages) stay true whenever the tests run.
See README.md beside this script for what each cluster holds and which findings it must raise.
"""

import base64
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# The --certificate-key that decrypts incident3's kubeadm-certs Secret (64 hex chars = 32 bytes).
CERT_KEY = "6f0f1d3c5b0a8e7d2c4b6a8f0e1d3c5b7a9e8d6c4b2a0f1e3d5c7b9a8e6d4c2b"
LB = "k8s-api.example.internal:6443"


def sh(args, inp=None):
    return subprocess.run(args, input=inp, capture_output=True, check=True).stdout


def make_ca(tmp):
    key, crt = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.crt")
    sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
        "-days", "3650", "-subj", "/CN=kubernetes", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign"])
    return open(crt, "rb").read(), open(key, "rb").read()


def csr_pem(tmp, cn, orgs):
    key = os.path.join(tmp, "k.pem")
    sh(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
    subj = "".join("/O=%s" % o for o in orgs) + "/CN=%s" % cn
    return sh(["openssl", "req", "-new", "-key", key, "-subj", subj])


def sign(tmp, req_pem):
    """The kubelet client certificate a signer would issue for an approved CSR."""
    rq, ext = os.path.join(tmp, "r.csr"), os.path.join(tmp, "r.ext")
    with open(rq, "wb") as f:
        f.write(req_pem)
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    return sh(["openssl", "x509", "-req", "-in", rq, "-CA", os.path.join(tmp, "ca.crt"),
               "-CAkey", os.path.join(tmp, "ca.key"), "-CAcreateserial", "-days", "365",
               "-extfile", ext])


def b64(b):
    return base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()


def kubeconfig(server, ca_var="{{var:CA_DATA}}"):
    return ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n"
            "    server: https://%s\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\n"
            "kind: Config\npreferences: {}\nusers: null\n" % (ca_var, server))


def node(name, ip, version, cp, labels_style, cri=None, ready=True, age="{{now-400d}}",
         os_image="Ubuntu 22.04.4 LTS", runtime="containerd://1.7.12"):
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
              "kubernetes.io/os": "linux"}
    taints = []
    if cp:
        if labels_style in ("master", "both"):
            labels["node-role.kubernetes.io/master"] = ""
        if labels_style in ("control-plane", "both"):
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        key = "node-role.kubernetes.io/master" if labels_style == "master" else \
            "node-role.kubernetes.io/control-plane"
        taints = [{"effect": "NoSchedule", "key": key}]
    ann = {"node.alpha.kubernetes.io/ttl": "0",
           "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    if cri:
        ann["kubeadm.alpha.kubernetes.io/cri-socket"] = cri
    cond = {"type": "Ready", "status": "True" if ready else "Unknown",
            "reason": "KubeletReady" if ready else "NodeStatusUnknown",
            "message": "kubelet is posting ready status" if ready else
            "Kubelet stopped posting node status.",
            "lastHeartbeatTime": "{{now-1m}}" if ready else "{{now-3d}}",
            "lastTransitionTime": age if ready else "{{now-3d}}"}
    obj = {"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": name, "creationTimestamp": age, "labels": labels,
                        "annotations": ann, "uid": node_uid(ip)},
           "spec": {"podCIDR": "10.244.%s.0/24" % ip.split(".")[-1]},
           "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                    {"type": "Hostname", "address": name}],
                      "conditions": [cond],
                      "nodeInfo": {"architecture": "amd64", "bootID": "", "machineID": "",
                                   "systemUUID": "", "containerRuntimeVersion": runtime,
                                   "kernelVersion": "5.15.0-105-generic",
                                   "kubeProxyVersion": version, "kubeletVersion": version,
                                   "operatingSystem": "linux", "osImage": os_image}}}
    if taints:
        obj["spec"]["taints"] = taints
    return obj


def node_uid(ip):
    """Fixed Node uids, so mirror pods' ownerReferences point at their Node."""
    return "00000000-0000-4000-8000-0000000000%02d" % int(ip.split(".")[-1])


def static_pod(component, node_name, ip, version, image_repo, extra_ann=None, args=()):
    name = "%s-%s" % (component, node_name)
    ann = {"kubernetes.io/config.source": "file", "kubernetes.io/config.hash": "0" * 32,
           "kubernetes.io/config.mirror": "0" * 32}
    ann.update(extra_ann or {})
    image = "%s/%s:%s" % (image_repo, component, version if component != "etcd" else
                          {"v1.12": "3.2.24", "v1.17": "3.4.3-0", "v1.23": "3.5.1-0",
                           "v1.31": "3.5.15-0", "v1.20": "3.4.13-0"}[version.rsplit(".", 1)[0]])
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "kube-system",
                         "creationTimestamp": "{{now-30d}}",
                         "labels": {"component": component, "tier": "control-plane"},
                         "annotations": ann,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node",
                                              "name": node_name, "controller": True,
                                              "uid": node_uid(ip)}]},
            "spec": {"nodeName": node_name, "hostNetwork": True, "priorityClassName":
                     "system-node-critical",
                     "containers": [{"name": component, "image": image,
                                     "command": [component] + list(args)}]},
            "status": {"phase": "Running", "hostIP": ip, "podIP": ip,
                       "containerStatuses": [{"name": component, "ready": True,
                                              "restartCount": 0, "image": image}]}}


def apiserver_pod(n, ip, version, repo, annotate):
    ann = {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "%s:6443" % ip} \
        if annotate else {}
    return static_pod("kube-apiserver", n, ip, version, repo, ann,
                      ["--advertise-address=%s" % ip, "--secure-port=6443",
                       "--etcd-servers=https://127.0.0.1:2379",
                       "--client-ca-file=/etc/kubernetes/pki/ca.crt"])


def etcd_pod(n, ip, version, repo, initial, state="new", annotate=True):
    ann = {"kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://%s:2379" % ip} \
        if annotate else {}
    return static_pod("etcd", n, ip, version, repo, ann,
                      ["--name=%s" % n, "--advertise-client-urls=https://%s:2379" % ip,
                       "--initial-advertise-peer-urls=https://%s:2380" % ip,
                       "--initial-cluster=%s" % initial, "--initial-cluster-state=%s" % state,
                       "--data-dir=/var/lib/etcd"])


def cm(ns, name, data, labels=None, created="{{now-400d}}"):
    o = {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": name, "namespace": ns, "creationTimestamp": created},
         "data": data}
    if labels:
        o["metadata"]["labels"] = labels
    return o


def crb(name, role, subjects, labels=None):
    o = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": name, "creationTimestamp": "{{now-400d}}"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": role},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": k, "name": n}
                      for k, n in subjects]}
    if labels:
        o["metadata"]["labels"] = labels
    return o


def csr_roles():
    """The bootstrap ClusterRoles every apiserver creates (auto-approval targets)."""
    out = []
    for suffix, sub in (("nodeclient", "nodeclient"), ("selfnodeclient", "selfnodeclient")):
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": "system:certificates.k8s.io:certificatesigningrequests:"
                                 + suffix, "creationTimestamp": "{{now-400d}}",
                                 "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                                 "annotations": {"rbac.authorization.kubernetes.io/autoupdate":
                                                 "true"}},
                    "rules": [{"apiGroups": ["certificates.k8s.io"],
                               "resources": ["certificatesigningrequests/" + sub],
                               "verbs": ["create"]}]})
    out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "system:node-bootstrapper",
                             "creationTimestamp": "{{now-400d}}",
                             "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                "rules": [{"apiGroups": ["certificates.k8s.io"],
                           "resources": ["certificatesigningrequests"],
                           "verbs": ["create", "get", "list", "watch"]}]})
    return out


def kubeadm_bindings(version_minor):
    g = "system:bootstrappers:kubeadm:default-node-token"
    out = [crb("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", [("Group", g)]),
           crb("kubeadm:node-autoapprove-bootstrap",
               "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
               [("Group", g)]),
           crb("kubeadm:node-autoapprove-certificate-rotation",
               "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
               [("Group", "system:nodes")]),
           crb("kubeadm:node-proxier", "system:node-proxier",
               [("ServiceAccount", "kube-proxy")])]
    for b in out[3:]:
        b["subjects"][0].pop("apiGroup")
        b["subjects"][0]["namespace"] = "kube-system"
    if version_minor >= 29:
        out.append(crb("kubeadm:cluster-admins", "cluster-admin",
                       [("Group", "kubeadm:cluster-admins")]))
    return out


def bootstrap_token(tid, secret, expiration, created, usages=True, description=None,
                    uid=None):
    data = {"token-id": tid, "token-secret": secret}
    if expiration:
        data["expiration"] = expiration
    if usages:
        data.update({"usage-bootstrap-authentication": "true",
                     "usage-bootstrap-signing": "true",
                     "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"})
    if description:
        data["description"] = description
    meta = {"name": "bootstrap-token-" + tid, "namespace": "kube-system",
            "creationTimestamp": created}
    if uid:
        meta["uid"] = uid
    return {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": meta, "stringData": data}


def csr(name, username, groups, request_pem, signer, usages, created, approved=False,
        cert=None):
    o = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
         "metadata": {"name": name, "creationTimestamp": created},
         "spec": {"request": b64(request_pem), "signerName": signer, "usages": usages,
                  "username": username, "groups": groups + ["system:authenticated"]},
         "status": {}}
    if approved:
        o["status"] = {"conditions": [{"type": "Approved", "status": "True",
                                       "reason": "AutoApproved",
                                       "message": "Auto approving kubelet client certificate "
                                                  "after SubjectAccessReview.",
                                       "lastUpdateTime": created,
                                       "lastTransitionTime": created}],
                       "certificate": b64(cert or b"")}
    return o


def cluster_config(api, version, lb, cert_sans, pod_subnet="10.244.0.0/16", initial=None):
    """ClusterConfiguration text in the kubeadm API version of that release."""
    minor = int(version.split(".")[1])
    if minor <= 12:
        doc = {"apiVersion": "kubeadm.k8s.io/v1alpha3", "kind": "ClusterConfiguration",
               "apiServerCertSANs": cert_sans, "apiServerExtraArgs":
               {"authorization-mode": "Node,RBAC"}, "certificatesDir": "/etc/kubernetes/pki",
               "clusterName": "kubernetes", "controlPlaneEndpoint": lb or "",
               "etcd": {"local": {"dataDir": "/var/lib/etcd", "image": ""}},
               "imageRepository": "k8s.gcr.io", "kubernetesVersion": version,
               "networking": {"dnsDomain": "cluster.local", "podSubnet": pod_subnet,
                              "serviceSubnet": "10.96.0.0/12"},
               "unifiedControlPlaneImage": ""}
        if not lb:
            del doc["controlPlaneEndpoint"]
        return yaml.safe_dump(doc, sort_keys=True)
    gv = {16: "v1beta2", 17: "v1beta2", 20: "v1beta2", 23: "v1beta3", 31: "v1beta4"}[minor]
    doc = {"apiServer": {"certSANs": cert_sans, "extraArgs":
                         {"authorization-mode": "Node,RBAC"} if gv != "v1beta4" else
                         [{"name": "authorization-mode", "value": "Node,RBAC"}],
                         "timeoutForControlPlane": "4m0s"},
           "apiVersion": "kubeadm.k8s.io/" + gv, "certificatesDir": "/etc/kubernetes/pki",
           "clusterName": "kubernetes", "controllerManager": {}, "dns": {} if minor >= 23 else
           {"type": "CoreDNS"}, "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
           "imageRepository": "k8s.gcr.io" if minor < 25 else "registry.k8s.io",
           "kind": "ClusterConfiguration", "kubernetesVersion": version,
           "networking": {"dnsDomain": "cluster.local", "podSubnet": pod_subnet,
                          "serviceSubnet": "10.96.0.0/12"}, "scheduler": {}}
    if not cert_sans:
        del doc["apiServer"]["certSANs"]
    if gv == "v1beta4":
        del doc["apiServer"]["timeoutForControlPlane"]
        doc["caCertificateValidityPeriod"] = "87600h0m0s"
        doc["certificateValidityPeriod"] = "8760h0m0s"
        doc["encryptionAlgorithm"] = "RSA-2048"
    if lb:
        doc["controlPlaneEndpoint"] = lb
    return yaml.safe_dump(doc, sort_keys=True)


def cluster_status(gv, endpoints):
    return yaml.safe_dump({"apiEndpoints": {n: {"advertiseAddress": ip, "bindPort": 6443}
                                            for n, ip in endpoints},
                           "apiVersion": "kubeadm.k8s.io/" + gv, "kind": "ClusterStatus"},
                          sort_keys=True)


def kube_proxy_cm(server):
    conf = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: "
            "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://%s\n"
            "  name: default\ncontexts:\n- context:\n    cluster: default\n    namespace: "
            "default\n    user: default\n  name: default\ncurrent-context: default\nusers:\n"
            "- name: default\n  user:\n    tokenFile: /var/run/secrets/kubernetes.io/"
            "serviceaccount/token\n" % server)
    return cm("kube-system", "kube-proxy", {"kubeconfig.conf": conf,
                                            "config.conf": "apiVersion: kubeproxy.config.k8s.io"
                                                           "/v1alpha1\nkind: "
                                                           "KubeProxyConfiguration\nmode: "
                                                           "iptables\n"},
              {"app": "kube-proxy"})


def write(outdir, name, version, groups, env_extra=None):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".yaml"):
            os.unlink(os.path.join(d, f))
    for fname, objs in groups.items():
        with open(os.path.join(d, fname + ".yaml"), "w") as f:
            f.write("# Generated by tests/data/clusters/mkclusters.py; see README.md there.\n")
            yaml.safe_dump_all(objs, f, sort_keys=False, width=100)
    with open(os.path.join(d, "cluster.env"), "w") as f:
        f.write("# The stand-in reads this: VERSION is its default --version, the rest fill {{var:NAME}} "
                "placeholders)\nVERSION=%s\n" % version)
        for k, v in (env_extra or {}).items():
            f.write("%s=%s\n" % (k, v))


def main(outdir):
    with tempfile.TemporaryDirectory() as tmp:
        ca_crt, ca_key = make_ca(tmp)
        with open(os.path.join(outdir, "ca.crt"), "wb") as f:
            f.write(ca_crt)
        ca_env = {"CA_DATA": b64(ca_crt)}
        req = {k: csr_pem(tmp, cn, orgs) for k, cn, orgs in (
            ("w1", "system:node:worker-1", ["system:nodes"]),
            ("w2", "system:node:worker-2", ["system:nodes"]),
            ("w3", "system:node:worker-3", ["system:nodes"]),
            ("w4", "system:node:worker-4", ["system:nodes"]),
            ("cp1", "system:node:cp-1", ["system:nodes"]),
            ("wk1", "system:node:worker-1", ["system:nodes"]))}
        issued = {k: sign(tmp, req[k]) for k in ("w3", "cp1", "wk1")}
        clusters(outdir, ca_env, ca_crt, ca_key, req, issued)


def clusters(outdir, ca_env, ca_crt, ca_key, req, issued):
    # ---------------------------------------------------------------- incident 1, v1.12
    v = "v1.12.10"
    masters = [("master-1", "10.0.0.11"), ("master-2", "10.0.0.12"), ("master-3", "10.0.0.13")]
    workers = [("worker-1", "10.0.0.21"), ("worker-2", "10.0.0.22")]
    ic = ",".join("%s=https://%s:2380" % m for m in masters)
    write(outdir, "incident1-v1.12", v, {
        "nodes": [node(n, ip, v, True, "master",
                       cri="/var/run/dockershim.sock" if n == "master-1" else None,
                       runtime="docker://18.6.1") for n, ip in masters] +
                 [node(n, ip, v, False, "master", cri="/var/run/dockershim.sock",
                       runtime="docker://18.6.1") for n, ip in workers],
        "kubeadm": [cm("kube-system", "kubeadm-config", {
                        "ClusterConfiguration": cluster_config(None, v, LB,
                                                               ["k8s-api.example.internal"]),
                        "ClusterStatus": cluster_status("v1alpha3", masters[:1])}),
                    cm("kube-system", "kubelet-config-1.12", {
                        "kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: "
                                   "KubeletConfiguration\nrotateCertificates: true\n"}),
                    cm("kube-public", "cluster-info", {"kubeconfig": kubeconfig(LB)}),
                    kube_proxy_cm(LB)],
        "rbac": csr_roles() + kubeadm_bindings(12),
        "pods": [apiserver_pod(n, ip, v, "k8s.gcr.io", False) for n, ip in masters] +
                [etcd_pod(n, ip, v, "k8s.gcr.io", ic, "existing" if n != "master-1" else "new",
                          annotate=False) for n, ip in masters]}, ca_env)

    # ---------------------------------------------------------------- incident 2, v1.16
    v = "v1.16.7"
    write(outdir, "incident2-v1.16", v, {
        "nodes": [node(n, ip, v, True, "master", cri="/var/run/dockershim.sock",
                       runtime="docker://19.3.5") for n, ip in masters] +
                 [node(n, ip, v, False, "master", cri="/var/run/dockershim.sock",
                       runtime="docker://19.3.5") for n, ip in workers],
        "kubeadm": [cm("kube-system", "kubeadm-config", {
                        "ClusterConfiguration": cluster_config(None, v, LB,
                                                               ["k8s-api.example.internal"]),
                        "ClusterStatus": cluster_status("v1beta2", masters)}),
                    cm("kube-public", "cluster-info", {"kubeconfig": kubeconfig(LB)}),
                    kube_proxy_cm(LB)],
        "rbac": csr_roles() + kubeadm_bindings(16),
        "helm": helm_releases()}, ca_env)

    # ---------------------------------------------------------------- incident 3, v1.23
    v = "v1.23.3"
    certs_tok_uid = "5c1e4c8e-0b7a-4f43-9e3e-3b2f1d0c9a11"
    write(outdir, "incident3-v1.23", v, {
        "nodes": [node("master-1", "10.0.0.11", v, True, "both",
                       cri="/run/containerd/containerd.sock"),
                  node("worker-1", "10.0.0.21", v, False, "both",
                       cri="/run/containerd/containerd.sock"),
                  node("worker-2", "10.0.0.22", v, False, "both",
                       cri="/run/containerd/containerd.sock")],
        "kubeadm": [cm("kube-system", "kubeadm-config", {
                        "ClusterConfiguration": cluster_config(None, v, LB,
                                                               ["k8s-api.example.internal"])}),
                    cm("kube-system", "kubelet-config-1.23", {
                        "kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: "
                                   "KubeletConfiguration\nrotateCertificates: true\n"}),
                    cm("kube-public", "cluster-info", {"kubeconfig": kubeconfig(LB)}),
                    kube_proxy_cm(LB)],
        "tokens": [bootstrap_token("q7v2lm", "c2x8r1k9w3p0z6ya", "{{now-50m}}",
                                   "{{now-2h-50m}}", usages=False,
                                   description="Proxy for managing TTL for the kubeadm-certs "
                                               "secret", uid=certs_tok_uid),
                   bootstrap_token("abcdef", "0123456789abcdef", "{{now+20h}}", "{{now-4h}}",
                                   description="join token for the new control-plane nodes"),
                   kubeadm_certs(ca_crt, ca_key, "q7v2lm", certs_tok_uid)],
        "rbac": csr_roles() + kubeadm_bindings(23),
        "pods": [apiserver_pod("master-1", "10.0.0.11", v, "k8s.gcr.io", True),
                 etcd_pod("master-1", "10.0.0.11", v, "k8s.gcr.io",
                          "master-1=https://10.0.0.11:2380")]},
        dict(ca_env, ETCD_MEMBERS="1", CERTIFICATE_KEY=CERT_KEY))

    # ---------------------------------------------------------------- incident 4, v1.20
    v = "v1.20.15"
    ws = [("worker-1", "10.0.0.21", False), ("worker-2", "10.0.0.22", False),
          ("worker-3", "10.0.0.23", True), ("worker-4", "10.0.0.24", True)]
    kc = ["digital signature", "key encipherment", "client auth"]
    write(outdir, "incident4-v1.20", v, {
        "nodes": [node(n, ip, v, False, "both", ready=r, age="{{now-380d}}",
                       runtime="docker://20.10.7") for n, ip, r in ws],
        "csr": [csr("csr-8x2kq", "system:node:worker-1", ["system:nodes"], req["w1"],
                    "kubernetes.io/kube-apiserver-client-kubelet", kc, "{{now-3d}}"),
                csr("csr-m4p7z", "system:node:worker-2", ["system:nodes"], req["w2"],
                    "kubernetes.io/kube-apiserver-client-kubelet", kc, "{{now-2d-4h}}"),
                csr("node-csr-Jq3aVb1", "system:bootstrap:b0fa1c",
                    ["system:bootstrappers", "system:bootstrappers:workers"], req["w4"],
                    "kubernetes.io/kube-apiserver-client-kubelet", kc, "{{now-1h}}"),
                csr("csr-w3srv", "system:node:worker-3", ["system:nodes"], req["w3"],
                    "kubernetes.io/kubelet-serving",
                    ["digital signature", "key encipherment", "server auth"], "{{now-20m}}"),
                csr("csr-old01", "system:node:worker-3", ["system:nodes"], req["w3"],
                    "kubernetes.io/kube-apiserver-client-kubelet", kc, "{{now-370d}}",
                    approved=True, cert=issued["w3"])],
        "rbac": csr_roles() + [
            crb("auto-approve-csrs-for-group",
                "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                [("Group", "system:bootstrappers")]),
            crb("kubelet-bootstrap", "system:node-bootstrapper",
                [("User", "kubelet-bootstrap")])],
        "config": [cm("kube-public", "cluster-info",
                      {"kubeconfig": kubeconfig("10.0.0.10:6443")})]}, ca_env)

    # ---------------------------------------------------------------- incident 5, v1.17
    v = "v1.17.17"
    masters = [("master-1", "10.0.0.11"), ("master-2", "10.0.0.12"), ("master-3", "10.0.0.13")]
    write(outdir, "incident5-v1.17", v, {
        "nodes": [node(n, ip, v, True, "master", cri="/var/run/dockershim.sock",
                       runtime="docker://19.3.15") for n, ip in masters] +
                 [node("worker-1", "10.0.0.21", v, False, "master",
                       cri="/var/run/dockershim.sock", runtime="docker://19.3.15")],
        "kubeadm": [cm("kube-system", "kubeadm-config", {
                        "ClusterConfiguration": cluster_config(None, v, None, []),
                        "ClusterStatus": cluster_status("v1beta2", masters)}),
                    cm("kube-system", "kubelet-config-1.17", {
                        "kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: "
                                   "KubeletConfiguration\nrotateCertificates: true\n"}),
                    cm("kube-public", "cluster-info", {"kubeconfig":
                                                       kubeconfig("10.0.0.11:6443")}),
                    kube_proxy_cm("10.0.0.11:6443")],
        "rbac": csr_roles() + kubeadm_bindings(17),
        "pods": [apiserver_pod(n, ip, v, "k8s.gcr.io", True) for n, ip in masters] +
                [etcd_pod(n, ip, v, "k8s.gcr.io", "master-1=https://10.0.0.11:2380" if
                          n == "master-1" else ",".join("%s=https://%s:2380" % m for m in
                                                        masters[:int(n[-1])]),
                          "new" if n == "master-1" else "existing") for n, ip in masters]},
        ca_env)

    # ---------------------------------------------------------------- healthy, v1.31
    v = "v1.31.2"
    cps = [("cp-1", "10.0.0.11"), ("cp-2", "10.0.0.12"), ("cp-3", "10.0.0.13")]
    sock = "unix:///var/run/containerd/containerd.sock"
    write(outdir, "healthy-v1.31", v, {
        "nodes": [node(n, ip, v, True, "control-plane", cri=sock, age="{{now-200d}}",
                       runtime="containerd://1.7.22") for n, ip in cps] +
                 [node("worker-1", "10.0.0.21", v, False, "control-plane", cri=sock,
                       age="{{now-200d}}", runtime="containerd://1.7.22"),
                  node("worker-2", "10.0.0.22", "v1.30.6", False, "control-plane", cri=sock,
                       age="{{now-200d}}", runtime="containerd://1.7.22")],
        "kubeadm": [cm("kube-system", "kubeadm-config", {
                        "ClusterConfiguration": cluster_config(
                            None, v, LB, ["k8s-api.example.internal", "10.0.0.10"])}),
                    cm("kube-system", "kubelet-config", {
                        "kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: "
                                   "KubeletConfiguration\nrotateCertificates: true\n"}),
                    cm("kube-public", "cluster-info", {"kubeconfig": kubeconfig(LB)}),
                    kube_proxy_cm(LB)],
        "tokens": [bootstrap_token("k3v9xw", "q8w2e4r6t1y3u5i7", "{{now+20h}}", "{{now-4h}}",
                                   description="join token")],
        "csr": [csr("csr-cp1ok", "system:node:cp-1", ["system:nodes"], req["cp1"],
                    "kubernetes.io/kube-apiserver-client-kubelet",
                    ["digital signature", "client auth"], "{{now-40d}}", approved=True,
                    cert=issued["cp1"]),
                csr("csr-wk1ok", "system:node:worker-1", ["system:nodes"], req["wk1"],
                    "kubernetes.io/kube-apiserver-client-kubelet",
                    ["digital signature", "client auth"], "{{now-40d}}", approved=True,
                    cert=issued["wk1"])],
        "rbac": csr_roles() + kubeadm_bindings(31),
        "pods": [apiserver_pod(n, ip, v, "registry.k8s.io", True) for n, ip in cps] +
                [etcd_pod(n, ip, v, "registry.k8s.io",
                          ",".join("%s=https://%s:2380" % m for m in cps[:int(n[-1])]),
                          "new" if n == "cp-1" else "existing") for n, ip in cps]},
        ca_env)


def helm_releases():
    """Incident 2's release records: Helm v2 (Tiller ConfigMaps in kube-system) whose deployed
    revisions still hold workloads at API versions 1.16 removed, and Helm v3 releases."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
    import helmrec
    ds_old = ("---\n# Source: agent/templates/daemonset.yaml\napiVersion: extensions/v1beta1\n"
              "kind: DaemonSet\nmetadata:\n  name: agent\n  namespace: monitoring\nspec:\n"
              "  template:\n    metadata:\n      labels:\n        app: agent\n    spec:\n"
              "      containers:\n      - name: agent\n        image: example/agent:%s\n")
    web = ("---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\n"
           "metadata:\n  name: web\n  namespace: web\nspec:\n  selector:\n    app: web\n"
           "  ports:\n  - port: 80\n---\n# Source: web/templates/deployment.yaml\n"
           "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata:\n  name: web\n"
           "  namespace: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n"
           "      app: web-v1\n  template:\n    metadata:\n      labels:\n        app: web\n"
           "    spec:\n      containers:\n      - name: web\n        image: example/web:1.4\n")
    api_dep = ("---\n# Source: api/templates/deployment.yaml\napiVersion: %s\nkind: Deployment\n"
               "metadata:\n  name: api\n  namespace: api\nspec:\n  selector:\n"
               "    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n"
               "        app: api\n    spec:\n      containers:\n      - name: api\n"
               "        image: example/api:%s\n")
    specs = [
        {"name": "agent", "helm": 2, "namespace": "monitoring",
         "chart": {"name": "agent", "version": "1.3.0", "appVersion": "0.18"},
         "revisions": [{"status": "SUPERSEDED", "deployed": "2020-03-02T10:00:00Z",
                        "manifest": ds_old % "0.17"},
                       {"status": "DEPLOYED", "deployed": "2020-06-11T09:30:00Z",
                        "description": "Upgrade complete", "manifest": ds_old % "0.18"}]},
        {"name": "web", "helm": 2, "namespace": "web",
         "chart": {"name": "web", "version": "2.0.1", "appVersion": "1.4"},
         "revisions": [{"status": "DEPLOYED", "deployed": "2020-05-20T14:00:00Z",
                        "manifest": web}]},
        {"name": "api", "namespace": "api",
         "chart": {"name": "api", "version": "3.1.0", "appVersion": "5.2"},
         "revisions": [{"status": "superseded", "deployed": "2020-02-01T08:00:00Z",
                        "manifest": api_dep % ("extensions/v1beta1", "5.1")},
                       {"status": "deployed", "deployed": "2020-07-01T08:00:00Z",
                        "manifest": api_dep % ("apps/v1", "5.2")}]},
    ]
    out = []
    for spec in specs:
        out += helmrec.records(spec)
    return out


def kubeadm_certs(ca_crt, ca_key, token_id, token_uid):
    """The upload-certs Secret: each value AES-256-GCM(key=CERT_KEY), nonce || ct || tag."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    aes = AESGCM(bytes.fromhex(CERT_KEY))
    files = {"ca.crt": ca_crt, "ca.key": ca_key, "front-proxy-ca.crt": ca_crt,
             "front-proxy-ca.key": ca_key, "sa.key": ca_key, "sa.pub": b"sa-public-key\n",
             "etcd-ca.crt": ca_crt, "etcd-ca.key": ca_key}
    data = {}
    for i, (k, v) in enumerate(sorted(files.items())):
        nonce = bytes([i + 1]) * 12
        data[k] = b64(nonce + aes.encrypt(nonce, v, None))
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "kubeadm-certs", "namespace": "kube-system",
                         "creationTimestamp": "{{now-2h-50m}}",
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Secret",
                                              "name": "bootstrap-token-" + token_id,
                                              "uid": token_uid, "controller": True,
                                              "blockOwnerDeletion": True}]},
            "data": data}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
