/* Checks on what the Kubernetes API shows (ctx->api), joined with the node's files (ctx->node)
 * where a finding needs both: kubeadm's bookkeeping objects (Node annotations, kubeadm-config,
 * cluster-info, bootstrap tokens, kubeadm-certs), node CSRs and their auto-approval, and the
 * version skew between kubelets and the apiserver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/etcd.h"
#include "kubevet/k8s.h"
#include "kubevet/node.h"
#include "kubevet/pki.h"
#include "vtime.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")
#define KUBEADM_CONFIG "ConfigMap/kube-system/kubeadm-config"

/* The cluster's minor version: /version, else ClusterConfiguration's kubernetesVersion. */
static int cluster_minor(const vet_api_facts *a)
{
    int maj = 0, min = 0;
    if (a->minor)
        return a->minor;
    if (a->kubernetes_version &&
        sscanf(a->kubernetes_version + (a->kubernetes_version[0] == 'v'), "%d.%d", &maj, &min) == 2)
        return min;
    return 0;
}

static int minor_of(const char *v)
{
    int maj = 0, min = 0;
    if (!v || sscanf(v + (v[0] == 'v'), "%d.%d", &maj, &min) != 2 || maj != 1)
        return -1;
    return min;
}

/* The oldest kubelet minor the skew policy accepts against an apiserver of 1.<api>. */
static int oldest_kubelet(const vet_skew_policy *p, int api)
{
    for (int m = api - p->kubelet_older; m < api; m++)
        if (m >= 0 && api - m <= vet_skew_kubelet_allowed(p, m))
            return m;
    return api;
}

static size_t control_planes(const vet_api_facts *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nnodes; i++)
        n += a->nodes[i].control_plane != 0;
    return n;
}

/* host[:port] of a URL or of "host:port", lower-cased into out; default port 6443. */
static void host_port(char *out, size_t n, const char *s)
{
    const char *p = strstr(s, "://");
    size_t len;
    p = p ? p + 3 : s;
    len = strcspn(p, "/?#");
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
    for (char *q = out; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    /* A bare host (no port): kubeadm's controlPlaneEndpoint defaults the port to 6443. */
    if (!strchr(out[0] == '[' ? strchr(out, ']') ? strchr(out, ']') : out : out, ':') &&
        strlen(out) + 6 < n)
        strcat(out, ":6443");
}

static void host_only(char *out, size_t n, const char *s)
{
    char hp[512];
    char *c;
    host_port(hp, sizeof hp, s);
    if (hp[0] == '[' && (c = strchr(hp, ']')))
        *c = '\0', memmove(hp, hp + 1, strlen(hp));
    else if ((c = strrchr(hp, ':')))
        *c = '\0';
    snprintf(out, n, "%s", hp);
}

/* The runtime socket kubeadm would have written for this node's runtime. */
static const char *cri_socket_for(const char *runtime, int minor)
{
    int prefix = minor >= 24; /* kubeadm 1.24+ writes sockets as unix:// URLs */
    if (runtime && !strncmp(runtime, "docker://", 9))
        return minor < 24 ? "/var/run/dockershim.sock" : "unix:///var/run/cri-dockerd.sock";
    if (runtime && !strncmp(runtime, "cri-o://", 8))
        return prefix ? "unix:///var/run/crio/crio.sock" : "/var/run/crio/crio.sock";
    if (runtime && !strncmp(runtime, "containerd://", 13))
        return prefix ? "unix:///var/run/containerd/containerd.sock"
                      : "/run/containerd/containerd.sock";
    return "<the node's CRI socket, e.g. unix:///var/run/containerd/containerd.sock>";
}

/* kubeadm 1.13+ reads the annotation on upgrade and join; 1.34 (NodeLocalCRISocket, beta and on
 * by default) moved it to /var/lib/kubelet/instance-config.yaml. A 1.12 cluster needs it for its
 * next upgrade, to 1.13. */
VET_CHECK_FN(vet_check_kv201)
{
    const vet_api_facts *a = ctx->api;
    int minor;
    if (!a || !a->have_kubeadm_config)
        return 0;
    minor = cluster_minor(a);
    if (minor < 12 || minor > 33)
        return 0;
    for (size_t i = 0; i < a->nnodes; i++) {
        const vet_api_node *n = &a->nodes[i];
        char sub[300];
        vet_finding *f;
        if (!n->control_plane || n->has_cri_socket)
            continue;
        snprintf(sub, sizeof sub, "Node/%s", n->name);
        if (!(f = vet_check_emit(r, "KV201", sub)))
            return OOM();
        vet_finding_message(
            f,
            "control-plane node %s lacks the kubeadm.alpha.kubernetes.io/cri-socket "
            "annotation: kubeadm upgrade on it fails with \"node doesn't have "
            "kubeadm.alpha.kubernetes.io/cri-socket annotation\"",
            n->name);
        vet_finding_fix(f, "kubectl annotate node %s kubeadm.alpha.kubernetes.io/cri-socket=%s",
                        n->name, cri_socket_for(n->runtime, minor));
        vet_finding_set_str(f, "node", n->name);
    }
    return 0;
}

/* ClusterStatus.apiEndpoints: written by kubeadm 1.12 to 1.21, read by upgrade and join. */
VET_CHECK_FN(vet_check_kv202)
{
    const vet_api_facts *a = ctx->api;
    int minor;
    if (!a || !a->have_cluster_status)
        return 0;
    minor = cluster_minor(a);
    if (minor && (minor < 12 || minor > 21))
        return 0;
    for (size_t i = 0; i < a->nnodes; i++) {
        const vet_api_node *n = &a->nodes[i];
        vet_finding *f;
        if (!n->control_plane || vet_strv_find(&a->api_endpoint_nodes, n->name, 0) >= 0)
            continue;
        if (!(f = vet_check_emit(r, "KV202", KUBEADM_CONFIG)))
            return OOM();
        vet_finding_message(f,
                            "kubeadm-config ClusterStatus.apiEndpoints has no entry for "
                            "control-plane node %s: kubeadm upgrade on it fails with \"failed to "
                            "get APIEndpoint information for this node\"",
                            n->name);
        vet_finding_fix(f,
                        "kubectl -n kube-system edit configmap kubeadm-config and add under "
                        "ClusterStatus apiEndpoints: '%s: {advertiseAddress: %s, bindPort: 6443}' "
                        "(use the node's --advertise-address and port if they differ)",
                        n->name, n->internal_ip ? n->internal_ip : "<advertise address>");
        vet_finding_set_str(f, "node", n->name);
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv203)
{
    const vet_api_facts *a = ctx->api;
    size_t cps;
    vet_finding *f;
    if (!a || !a->have_cluster_config || a->control_plane_endpoint)
        return 0;
    if ((cps = control_planes(a)) < 2)
        return 0;
    if (!(f = vet_check_emit(r, "KV203", KUBEADM_CONFIG)))
        return OOM();
    vet_finding_message(f,
                        "%zu control-plane nodes but ClusterConfiguration has no "
                        "controlPlaneEndpoint: kubeconfigs, cluster-info and joins all name one "
                        "apiserver, which is a single point of failure",
                        cps);
    vet_finding_fix(f,
                    "put an L4 load balancer in front of every apiserver (kubevet ha plan), then "
                    "set controlPlaneEndpoint: <lb-host>:<port> in ClusterConfiguration "
                    "(kubectl -n kube-system edit configmap kubeadm-config) and point the "
                    "kubeconfigs and kube-public/cluster-info at it");
    return 0;
}

/* A SAN kubeadm puts on every apiserver certificate by itself: renewals keep it anyway. */
static int kubeadm_default_san(const vet_ctx *ctx, const char *san)
{
    const vet_node *n = ctx->node;
    const vet_api_facts *a = ctx->api;
    char cpe[256];
    if (!strcmp(san, "kubernetes") || !strcmp(san, "kubernetes.default") ||
        !strcmp(san, "kubernetes.default.svc") || !strncmp(san, "kubernetes.default.svc.", 23))
        return 1;
    if ((n->node_name && !strcasecmp(san, n->node_name)) ||
        (n->advertise_address && !strcmp(san, n->advertise_address)) ||
        (n->service_ip && !strcmp(san, n->service_ip)))
        return 1;
    if (a->control_plane_endpoint) {
        host_only(cpe, sizeof cpe, a->control_plane_endpoint);
        if (!strcasecmp(cpe, san))
            return 1;
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv204)
{
    const vet_api_facts *a = ctx->api;
    const vet_cert_entry *api;
    vet_buf missing = VET_BUF_INIT;
    const vet_strv *lists[2];
    vet_finding *f;
    int rc = 0;
    if (!a || !a->have_cluster_config || !ctx->node ||
        !(api = vet_node_role(ctx->node, "apiserver")))
        return 0;
    lists[0] = vet_cert_dns(api->cert);
    lists[1] = vet_cert_ips(api->cert);
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
            const char *san = lists[l]->v[i];
            if (kubeadm_default_san(ctx, san) || vet_strv_find(&a->cert_sans, san, 1) >= 0)
                continue;
            if (vet_buf_printf(&missing, "%s%s", missing.size ? ", " : "", san)) {
                rc = OOM();
                goto done;
            }
        }
    if (!missing.size)
        goto done;
    if (!(f = vet_check_emit(r, "KV204", KUBEADM_CONFIG))) {
        rc = OOM();
        goto done;
    }
    vet_finding_message(f,
                        "%s carries SANs that ClusterConfiguration apiServer.certSANs does not "
                        "list (%s): the next kubeadm upgrade re-issues the certificate without "
                        "them",
                        api->path, missing.ptr);
    vet_finding_fix(f,
                    "kubectl -n kube-system get configmap kubeadm-config -o "
                    "jsonpath='{.data.ClusterConfiguration}' > cluster.yaml; add under apiServer: "
                    "certSANs: [%s] (keep any already listed); upload it back with kubectl -n "
                    "kube-system edit configmap kubeadm-config (kubeadm < 1.22: kubeadm config "
                    "upload from-file --config cluster.yaml)",
                    missing.ptr);
    vet_finding_set_str(f, "certificate", api->path);
done:
    vet_buf_free(&missing);
    return rc;
}

/* Which node kubeconfigs must go through the endpoint. kubeadm 1.19.1+/1.20 points
 * controller-manager.conf and scheduler.conf at the local apiserver on purpose, and 1.33
 * (ControlPlaneKubeletLocalMode, on by default) does the same for a control-plane kubelet.conf. */
static int must_use_endpoint(const char *file, int minor, int is_cp)
{
    /* super-admin.conf (1.29+) is break-glass, used on the node itself: not judged. */
    if (!strcmp(file, "admin.conf"))
        return 1;
    if (!strcmp(file, "kubelet.conf"))
        return !is_cp || !minor || minor < 33;
    if (!strcmp(file, "controller-manager.conf") || !strcmp(file, "scheduler.conf"))
        return minor && minor < 19;
    return 0;
}

VET_CHECK_FN(vet_check_kv205)
{
    const vet_api_facts *a = ctx->api;
    const vet_node *n = ctx->node;
    char want[512], have[512];
    int is_cp;
    if (!a || !n || !a->control_plane_endpoint)
        return 0;
    is_cp = n->apiserver_present;
    host_port(want, sizeof want, a->control_plane_endpoint);
    for (size_t i = 0; i < n->nkubeconfigs; i++) {
        const vet_node_kubeconfig *k = &n->kubeconfigs[i];
        vet_finding *f;
        if (!k->cluster || !k->cluster->server ||
            !must_use_endpoint(k->file, cluster_minor(a), is_cp))
            continue;
        host_port(have, sizeof have, k->cluster->server);
        if (!strcmp(have, want))
            continue;
        if (!(f = vet_check_emit(r, "KV205", k->path)))
            return OOM();
        vet_finding_message(f,
                            "%s talks to %s, not to the controlPlaneEndpoint %s: when that "
                            "apiserver is down, so is this client",
                            k->path, k->cluster->server, a->control_plane_endpoint);
        vet_finding_fix(f,
                        "kubectl --kubeconfig /%s config set-cluster %s --server=https://%s, "
                        "then restart what uses it (kubelet: systemctl restart kubelet)",
                        k->path, k->cluster->name ? k->cluster->name : "kubernetes", want);
        vet_finding_set_str(f, "server", k->cluster->server);
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv206)
{
    const vet_api_facts *a = ctx->api;
    const char *sub = "ConfigMap/kube-public/cluster-info";
    char have[512], want[512], host[512];
    vet_finding *f;
    if (!a || !a->have_cluster_info || !a->cluster_info_server)
        return 0;
    host_port(have, sizeof have, a->cluster_info_server);
    if (a->control_plane_endpoint) {
        host_port(want, sizeof want, a->control_plane_endpoint);
        if (strcmp(have, want)) {
            if (!(f = vet_check_emit(r, "KV206", sub)))
                return OOM();
            vet_finding_message(f,
                                "cluster-info tells joining nodes to use %s, not the "
                                "controlPlaneEndpoint %s",
                                a->cluster_info_server, a->control_plane_endpoint);
            vet_finding_fix(f,
                            "kubectl -n kube-public edit configmap cluster-info and set the "
                            "kubeconfig's server: https://%s",
                            want);
        }
    } else if (control_planes(a) > 1) {
        host_only(host, sizeof host, a->cluster_info_server);
        for (size_t i = 0; i < a->nnodes; i++) {
            const vet_api_node *n = &a->nodes[i];
            if (!n->control_plane ||
                (strcasecmp(n->name, host) && (!n->internal_ip || strcmp(n->internal_ip, host))))
                continue;
            if (!(f = vet_check_emit(r, "KV206", sub)))
                return OOM();
            vet_finding_message(f,
                                "cluster-info tells joining nodes to use %s, the apiserver of "
                                "control-plane node %s alone: joins fail while it is down",
                                a->cluster_info_server, n->name);
            vet_finding_fix(f, "set a controlPlaneEndpoint (load balancer) first (KV203), then "
                               "kubectl -n kube-public edit configmap cluster-info and set the "
                               "kubeconfig's server: https://<lb-host>:<port>");
            break;
        }
    }
    if (ctx->node && a->cluster_info_ca.data) {
        const vet_cert_entry *ca = vet_node_role(ctx->node, "ca");
        vet_pem p;
        int same = 0;
        memset(&p, 0, sizeof p);
        if (!ca)
            return 0;
        if (!vet_pki_parse(&p, a->cluster_info_ca.data, a->cluster_info_ca.len, sub))
            for (size_t i = 0; i < p.ncerts && !same; i++)
                same = vet_cert_equal(p.certs[i], ca->cert);
        vet_error_clear();
        vet_pem_clear(&p);
        if (!same) {
            if (!(f = vet_check_emit(r, "KV206", sub)))
                return OOM();
            vet_finding_message(f,
                                "cluster-info's certificate-authority-data is not %s: joining "
                                "nodes will reject the apiserver (or trust the wrong CA)",
                                ca->path);
            vet_finding_fix(f, "kubeadm init phase bootstrap-token on a control-plane node "
                               "re-uploads cluster-info with the CA in /etc/kubernetes/pki/ca.crt "
                               "(check KV108 first: the CA itself may have been replaced)");
        }
    }
    return 0;
}

static const vet_api_token *token_by_id(const vet_api_facts *a, const char *id)
{
    for (size_t i = 0; i < a->ntokens; i++)
        if (!strcmp(a->tokens[i].id, id))
            return &a->tokens[i];
    return NULL;
}

/* In `check`, a missing kubeadm-certs Secret is normal (upload-certs keeps it two hours); a
 * Secret whose owner token expired or is gone holds a key no join will get to use. */
VET_CHECK_FN(vet_check_kv207)
{
    const vet_api_facts *a = ctx->api;
    vet_finding *f;
    char sub[300], when[32];
    if (!a)
        return 0;
    for (size_t i = 0; i < a->ntokens; i++) {
        const vet_api_token *t = &a->tokens[i];
        if (!t->expiration || t->expiration > ctx->now)
            continue;
        snprintf(sub, sizeof sub, "Secret/kube-system/bootstrap-token-%s", t->id);
        vet_time_format(when, t->expiration);
        if (!(f = vet_check_emit(r, "KV207", sub)))
            return OOM();
        vet_finding_message(f,
                            "bootstrap token %s expired at %s: joins with it fail (and the token "
                            "cleaner, which should have deleted it, may not be running)",
                            t->id, when);
        vet_finding_fix(f,
                        "kubeadm token create --print-join-command (on a control-plane node); "
                        "kubectl -n kube-system delete secret bootstrap-token-%s",
                        t->id);
        vet_finding_set_str(f, "expiration", when);
    }
    if (a->have_kubeadm_certs && a->kubeadm_certs_owner) {
        const vet_api_token *t = token_by_id(a, a->kubeadm_certs_owner);
        if (t && (!t->expiration || t->expiration > ctx->now))
            return 0;
        if (!(f = vet_check_emit(r, "KV207", "Secret/kube-system/kubeadm-certs")))
            return OOM();
        if (t) {
            vet_time_format(when, t->expiration);
            vet_finding_message(f,
                                "the kubeadm-certs Secret belongs to bootstrap token %s, which "
                                "expired at %s: the Secret is about to be garbage-collected and "
                                "any --certificate-key handed out for it will not work",
                                t->id, when);
        } else
            vet_finding_message(f,
                                "the kubeadm-certs Secret belongs to bootstrap token %s, which is "
                                "gone: the Secret is being garbage-collected and any "
                                "--certificate-key handed out for it will not work",
                                a->kubeadm_certs_owner);
        vet_finding_fix(f, "right before joining a control-plane node: kubeadm init phase "
                           "upload-certs --upload-certs (prints a new certificate key, valid 2 h)");
        vet_finding_set_str(f, "owner_token", a->kubeadm_certs_owner);
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv208)
{
    const vet_api_facts *a = ctx->api;
    if (!a || !a->have_csrs)
        return 0;
    for (size_t i = 0; i < a->ncsrs; i++) {
        const vet_api_csr *c = &a->csrs[i];
        char sub[300];
        long long age_min;
        vet_finding *f;
        if (!c->pending || (strncmp(c->username, "system:node:", 12) &&
                            strncmp(c->username, "system:bootstrap:", 17)))
            continue;
        age_min = c->created ? (long long)(ctx->now - c->created) / 60 : -1;
        snprintf(sub, sizeof sub, "CertificateSigningRequest/%s", c->name);
        if (!(f = vet_check_emit(r, "KV208", sub)))
            return OOM();
        if (age_min >= 0)
            vet_finding_message(f, "CSR %s from %s has been Pending for %lldh%02lldm", c->name,
                                c->username, age_min / 60, age_min % 60);
        else
            vet_finding_message(f, "CSR %s from %s is Pending", c->name, c->username);
        vet_finding_fix(f,
                        "check that %s is a node you run, then: kubectl certificate approve %s; "
                        "for good, restore the auto-approval bindings (KV209)",
                        c->username, c->name);
        vet_finding_set_str(f, "username", c->username);
        if (age_min >= 0)
            vet_finding_set_int(f, "age_seconds", (long long)(ctx->now - c->created));
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv209)
{
    const vet_api_facts *a = ctx->api;
    vet_finding *f;
    if (!a || !a->have_crbs || a->selfnode_binding || a->rotation_binding)
        return 0;
    if (!(f = vet_check_emit(r, "KV209",
                             "ClusterRoleBinding/kubeadm:node-autoapprove-certificate-rotation")))
        return OOM();
    vet_finding_message(f,
                        "no ClusterRoleBinding grants group system:nodes the selfnodeclient "
                        "role: kubelets' renewal CSRs stay Pending and their client certificates "
                        "expire");
    vet_finding_fix(
        f,
        "kubectl create clusterrolebinding kubeadm:node-autoapprove-certificate-rotation "
        "--clusterrole=system:certificates.k8s.io:certificatesigningrequests:"
        "selfnodeclient --group=system:nodes%s",
        a->nodeclient_binding
            ? ""
            : "; and for joins: kubectl create clusterrolebinding "
              "kubeadm:node-autoapprove-bootstrap --clusterrole=system:certificates."
              "k8s.io:certificatesigningrequests:nodeclient "
              "--group=system:bootstrappers:kubeadm:default-node-token");
    return 0;
}

/* Version skew policy (kubernetes.io/releases/version-skew-policy), with the numbers of the
 * release data (skew: in data/releases.yaml): a kubelet is never newer than the apiserver and
 * trails it by at most kubelet-older minors (kubelet-older-legacy for kubelets older than
 * kubelet-older-since). */
VET_CHECK_FN(vet_check_kv502)
{
    const vet_api_facts *a = ctx->api;
    const vet_releases *rel;
    const vet_skew_policy *p;
    int rc;
    if (!a || !a->minor || a->major != 1)
        return 0;
    if ((rc = vet_check_releases(&rel, ctx)))
        return rc;
    p = vet_releases_skew(rel);
    for (size_t i = 0; i < a->nnodes; i++) {
        const vet_api_node *n = &a->nodes[i];
        int km = minor_of(n->kubelet_version), allowed;
        char sub[300];
        vet_finding *f;
        if (km < 0)
            continue;
        allowed = vet_skew_kubelet_allowed(p, km);
        if (km <= a->minor && a->minor - km <= allowed)
            continue;
        snprintf(sub, sizeof sub, "Node/%s", n->name);
        if (!(f = vet_check_emit(r, "KV502", sub)))
            return OOM();
        if (km > a->minor)
            vet_finding_message(f, "kubelet %s on %s is newer than the apiserver %s",
                                n->kubelet_version, n->name, a->git_version);
        else
            vet_finding_message(f,
                                "kubelet %s on %s is %d minors behind the apiserver %s (at most %d "
                                "allowed for a kubelet 1.%d)",
                                n->kubelet_version, n->name, a->minor - km, a->git_version, allowed,
                                km);
        /* the oldest minor that is allowed against this apiserver, whatever the legacy rule */
        vet_finding_fix(f,
                        "%s the kubelet on %s to 1.%d: kubectl drain %s --ignore-daemonsets, "
                        "install the kubelet package, systemctl restart kubelet, kubectl uncordon "
                        "%s",
                        km > a->minor ? "downgrade" : "upgrade", n->name,
                        km > a->minor ? a->minor : oldest_kubelet(p, a->minor), n->name, n->name);
        vet_finding_set_str(f, "kubelet_version", n->kubelet_version);
        vet_finding_set_str(f, "apiserver_version", a->git_version);
        vet_finding_set_int(f, "allowed_minors", allowed);
    }
    return 0;
}

/* KV304 with the API: a started member whose name and peer host match no control-plane Node. */
static int member_matches_cp(const vet_api_facts *a, const vet_etcd_member *m)
{
    for (size_t i = 0; i < a->nnodes; i++) {
        const vet_api_node *n = &a->nodes[i];
        if (!n->control_plane)
            continue;
        if (!strcasecmp(n->name, m->name))
            return 1;
        for (size_t u = 0; n->internal_ip && u < m->peer_urls.n; u++) {
            char h[256];
            host_only(h, sizeof h, m->peer_urls.v[u]);
            if (!strcmp(h, n->internal_ip))
                return 1;
        }
    }
    return 0;
}

static int reported(const vet_report *r, const char *id, const char *subject)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (!strcmp(r->findings[i].id, id) && !strcmp(r->findings[i].subject, subject))
            return 1;
    return 0;
}

VET_CHECK_FN(vet_check_kv304_all)
{
    const vet_etcd_facts *e = ctx->etcd;
    const vet_api_facts *a = ctx->api;
    int rc;
    if ((rc = vet_check_kv304(ctx, r)) || !e || !a || !control_planes(a))
        return rc;
    for (size_t i = 0; i < e->nmembers; i++) {
        const vet_etcd_member *m = &e->members[i];
        char hex[17];
        vet_finding *f;
        if (!m->started || member_matches_cp(a, m) || reported(r, "KV304", m->name))
            continue;
        vet_etcd_id_hex(hex, m->id);
        if (!(f = vet_check_emit(r, "KV304", m->name)))
            return OOM();
        vet_finding_message(f,
                            "etcd member %s (%s, peer %s) matches no control-plane Node by name "
                            "or address: probably a removed master whose member stayed",
                            m->name, hex, m->peer_urls.n ? m->peer_urls.v[0] : "(none)");
        vet_finding_fix(f,
                        "if that machine is gone: etcdctl member remove %s (see `kubevet etcd "
                        "plan remove-member --id %s`)",
                        hex, hex);
        vet_finding_set_str(f, "member_id", hex);
    }
    return 0;
}
