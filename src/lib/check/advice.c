/* Fix text for the node PKI, from the node's state: the same finding needs another fix on a node
 * without ca.key, on a worker, or once a credential has expired. */
#include "advice.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

#include "kubevet/pki.h"

/* kubeadm's certificate names (kubeadm certs check-expiration / renew) and who uses each: kubeadm
 * >= 1.20 prints after a renewal that kube-apiserver, kube-controller-manager, kube-scheduler and
 * etcd must restart; each certificate needs only the pods that load it. */
static const struct {
    const char *role, *name, *pods;
} kubeadm_certs[] = {
    {"apiserver", "apiserver", "kube-apiserver"},
    {"apiserver-kubelet-client", "apiserver-kubelet-client", "kube-apiserver"},
    {"front-proxy-client", "front-proxy-client", "kube-apiserver"},
    {"apiserver-etcd-client", "apiserver-etcd-client", "kube-apiserver"},
    {"etcd-server", "etcd-server", "etcd"},
    {"etcd-peer", "etcd-peer", "etcd"},
    {"etcd-healthcheck-client", "etcd-healthcheck-client", "etcd"},
    {"ca", "ca", NULL},
    {"front-proxy-ca", "front-proxy-ca", NULL},
    {"etcd-ca", "etcd-ca", NULL},
};

static const struct {
    const char *file, *pods;
} kubeconfigs[] = {
    {"admin.conf", NULL},
    {"super-admin.conf", NULL},
    {"controller-manager.conf", "kube-controller-manager"},
    {"scheduler.conf", "kube-scheduler"},
};

static int kubeconfig_index(const vet_cert_entry *e)
{
    const char *slash;
    if (strncmp(e->source, "kubeconfig:", 11) || strncmp(e->path, "etc/kubernetes/", 15))
        return -1;
    slash = strrchr(e->path, '/');
    for (size_t i = 0; i < sizeof kubeconfigs / sizeof kubeconfigs[0]; i++)
        if (!strcmp(slash + 1, kubeconfigs[i].file))
            return (int)i;
    return -1;
}

const char *vet_advice_kubeadm_name(const vet_cert_entry *e)
{
    int k;
    for (size_t i = 0; e->role && i < sizeof kubeadm_certs / sizeof kubeadm_certs[0]; i++)
        if (!strcmp(e->role, kubeadm_certs[i].role))
            return kubeadm_certs[i].name;
    if ((k = kubeconfig_index(e)) >= 0)
        return kubeconfigs[k].file;
    return NULL;
}

const char *vet_advice_pods(const vet_cert_entry *e)
{
    int k;
    for (size_t i = 0; e->role && i < sizeof kubeadm_certs / sizeof kubeadm_certs[0]; i++)
        if (!strcmp(e->role, kubeadm_certs[i].role))
            return kubeadm_certs[i].pods;
    if ((k = kubeconfig_index(e)) >= 0)
        return kubeconfigs[k].pods;
    return NULL;
}

int vet_advice_ca_key_missing(const vet_ctx *ctx, const vet_cert_entry *e)
{
    const vet_cert_entry *ca;
    if (!ctx->node || !e->ca_role)
        return 0;
    ca = vet_node_role(ctx->node, e->ca_role);
    return ca && !ca->key;
}

int vet_advice_minor(const vet_ctx *ctx)
{
    const char *v = ctx->node ? ctx->node->version : NULL;
    return v && !strncmp(v, "1.", 2) ? atoi(v + 2) : 0;
}

const char *vet_advice_kubeadm_api(const vet_ctx *ctx)
{
    /* kubeadm reads v1beta1 from 1.13, v1beta2 from 1.15, v1beta3 from 1.22 (and still in the
     * newest releases); an unknown version gets v1beta3. */
    int minor = vet_advice_minor(ctx);
    return minor && minor < 15   ? "kubeadm.k8s.io/v1beta1"
           : minor && minor < 22 ? "kubeadm.k8s.io/v1beta2"
                                 : "kubeadm.k8s.io/v1beta3";
}

const char *vet_advice_node_name(const vet_ctx *ctx)
{
    return ctx->node && ctx->node->node_name ? ctx->node->node_name : "<node-name>";
}

int vet_advice_restart(vet_buf *out, const char *pods)
{
    /* The kubelet restarts a static pod when its manifest leaves and comes back (kubeadm's
     * documented way); 20 s lets it notice the removal. */
    if (!strchr(pods, ' '))
        return vet_buf_printf(
            out,
            "\n  mv /etc/kubernetes/manifests/%s.yaml /etc/kubernetes/ && sleep 20 "
            "&& mv /etc/kubernetes/%s.yaml /etc/kubernetes/manifests/",
            pods, pods);
    return vet_buf_printf(out,
                          "\n  for p in %s; do mv /etc/kubernetes/manifests/$p.yaml "
                          "/etc/kubernetes/ && sleep 20 && mv /etc/kubernetes/$p.yaml "
                          "/etc/kubernetes/manifests/; done",
                          pods);
}

static const char *ca_file(const char *ca_role)
{
    if (!ca_role)
        return "its CA";
    if (!strcmp(ca_role, "etcd-ca"))
        return "/etc/kubernetes/pki/etcd/ca.key";
    if (!strcmp(ca_role, "front-proxy-ca"))
        return "/etc/kubernetes/pki/front-proxy-ca.key";
    return "/etc/kubernetes/pki/ca.key";
}

static const char *server_of(const vet_ctx *ctx)
{
    const vet_node_kubeconfig *k = vet_node_kubeconfig_get(ctx->node, "kubelet.conf");
    if (!k)
        k = vet_node_kubeconfig_get(ctx->node, "bootstrap-kubelet.conf");
    if (!k)
        k = vet_node_kubeconfig_get(ctx->node, "admin.conf");
    return k && k->cluster && k->cluster->server ? k->cluster->server : NULL;
}

int vet_advice_kubelet_rebootstrap(vet_buf *out, const vet_ctx *ctx)
{
    const vet_node *n = ctx->node;
    const vet_cert_entry *ca = vet_node_role(n, "ca");
    const char *name = vet_advice_node_name(ctx), *server = server_of(ctx);
    int cp = vet_node_is_control_plane(n) && ca && ca->key, rc, minor = vet_advice_minor(ctx);
    /* With the CA key here, kubevet's own renewal works for every kubeadm version (the phase
     * below is kubeadm 1.13+; 1.9-1.12 spelled it 'kubeadm alpha phase kubeconfig kubelet') and
     * goes through the plan engine: backup, atomic write, verify, roll back. */
    if (cp && !strcmp(name, "<node-name>"))
        rc = vet_buf_printf(out, "give this node's kubelet a new client credential of its own; "
                                 "on this node:");
    else if (cp)
        rc = vet_buf_printf(out,
                            "give this node's kubelet a new client credential of its own; on "
                            "this node (kubevet backs up, writes atomically, verifies):\n"
                            "  kubevet certs renew kubelet.conf --node-name %s --apply\n"
                            "  systemctl restart kubelet\n%s",
                            name,
                            minor && minor < 13
                                ? "(kubeadm 1.9-1.12 has no phase for kubelet.conf alone)\n"
                            : minor ? "or with kubeadm:"
                                    : "or with kubeadm 1.13+:");
    else
        rc = vet_buf_printf(out, "give this node's kubelet a new client credential of its own; "
                                 "on this node:");
    if (!rc && cp && minor && minor < 13 && strcmp(name, "<node-name>"))
        return vet_buf_printf(out, "never copy kubelet.conf or kubelet-client-*.pem from another "
                                   "node");
    if (!rc)
        rc = vet_buf_printf(out, "\n  mkdir -p /root/kv-backup && "
                                 "mv /etc/kubernetes/kubelet.conf /var/lib/kubelet/pki/"
                                 "kubelet-client-* /root/kv-backup/");
    if (rc)
        return rc;
    if (cp) {
        rc = vet_buf_printf(out, "\n  kubeadm init phase kubeconfig kubelet --node-name %s", name);
        if (!rc && n->advertise_address)
            rc = vet_buf_printf(out, " --apiserver-advertise-address %s", n->advertise_address);
        if (!rc && server && n->advertise_address && !strstr(server, n->advertise_address)) {
            const char *ep = strstr(server, "://");
            rc = vet_buf_printf(out, " --control-plane-endpoint %s", ep ? ep + 3 : server);
        }
        if (!rc)
            rc = vet_buf_printf(out, "\n  systemctl restart kubelet");
    } else {
        rc = vet_buf_printf(
            out,
            "\n  kubectl --kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf config set-cluster "
            "kubernetes --server=%s --certificate-authority=/etc/kubernetes/pki/ca.crt "
            "--embed-certs\n  kubectl --kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf config "
            "set-credentials kubelet-bootstrap --token=<token>\n  kubectl "
            "--kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf config set-context default "
            "--cluster=kubernetes --user=kubelet-bootstrap\n  kubectl "
            "--kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf config use-context default\n  "
            "systemctl restart kubelet\n<token>: from 'kubeadm token create --ttl 1h' on a "
            "control-plane node%s; approve the node's CSR if it stays Pending (kubectl get csr; "
            "kubectl certificate approve <csr-name>)",
            server ? server : "<apiserver-url>",
            server ? "" : "; <apiserver-url>: the controlPlaneEndpoint, https://host:port");
    }
    if (!rc && !strcmp(name, "<node-name>"))
        rc = vet_buf_printf(out, "\n<node-name>: this node's name as 'kubectl get nodes' shows it");
    return rc ? rc
              : vet_buf_printf(out, "\nnever copy kubelet.conf or kubelet-client-*.pem "
                                    "from another node");
}

static int kubelet_client(vet_buf *out, const vet_ctx *ctx, const vet_cert_entry *e)
{
    /* Rotation renews with the current credential: only while it is valid and trusted. */
    if (vet_cert_not_after(e->cert) > ctx->now && vet_cert_not_before(e->cert) <= ctx->now &&
        e->chain_ok == 1)
        return vet_buf_printf(
            out, "let the kubelet rotate it (it renews at about 70-90%% of the lifetime): "
                 "rotateCertificates: true in /var/lib/kubelet/config.yaml (KV110 says when it is "
                 "off), then\n  systemctl restart kubelet\nthe new certificate needs its CSR "
                 "approved (automatic with kubeadm's bindings, KV209)");
    if (vet_buf_puts(out, "rotation cannot renew it (it needs a valid credential the cluster "
                          "trusts): "))
        return VET_ENOMEM;
    return vet_advice_kubelet_rebootstrap(out, ctx);
}

int vet_advice_renew(vet_buf *out, const vet_ctx *ctx, const vet_cert_entry *e)
{
    const char *name = vet_advice_kubeadm_name(e), *pods = vet_advice_pods(e);
    int rc;
    if (e->role && !strcmp(e->role, "kubelet-client") && ctx->node)
        return kubelet_client(out, ctx, e);
    if (e->role && !strcmp(e->role, "kubelet-serving"))
        return vet_buf_printf(
            out, "the kubelet re-creates its self-signed serving pair when it is gone:\n  mkdir -p "
                 "/root/kv-backup && mv /var/lib/kubelet/pki/kubelet.crt "
                 "/var/lib/kubelet/pki/kubelet.key /root/kv-backup/ && systemctl restart "
                 "kubelet\n(or set serverTLSBootstrap: true and approve its CSR)");
    if (e->role && (!strcmp(e->role, "ca") || !strcmp(e->role, "front-proxy-ca") ||
                    !strcmp(e->role, "etcd-ca")))
        return vet_buf_printf(out,
                              "a CA cannot be renewed in place: plan a CA rotation (kubeadm docs: "
                              "'Manual rotation of CA certificates'): new CA added to every trust "
                              "bundle first, leaves re-issued, old CA removed last");
    if (!name || !ctx->node)
        return vet_buf_printf(out,
                              "re-issue it from its CA with the same subject and SANs "
                              "(openssl x509 -req ... or cfssl gencert ...), then restart what "
                              "uses it");
    if (vet_advice_ca_key_missing(ctx, e)) {
        rc = vet_buf_printf(
            out,
            "%s is not on this node (external CA mode, or never copied here), so kubeadm cannot "
            "sign a renewal: get a new %s certificate from whoever holds that key:\n  kubeadm "
            "certs generate-csr --cert-dir /root/kv-csr/pki --kubeconfig-dir /root/kv-csr%s\nhave "
            "the CA sign /root/kv-csr/%s%s.csr with the same subject and SANs, install the "
            "certificate and its new key in place of /%s",
            ca_file(e->ca_role), name,
            !strcmp(name, "apiserver") || !strncmp(name, "etcd-", 5)
                ? " --config <kubeadm-config>\n<kubeadm-config>: this node's kubeadm configuration "
                  "(ClusterConfiguration from the kubeadm-config ConfigMap plus an "
                  "InitConfiguration with this node's name and address), so the SANs are right"
                : "",
            strstr(name, ".conf") ? "" : "pki/",
            !strcmp(name, "etcd-server")               ? "etcd/server"
            : !strcmp(name, "etcd-peer")               ? "etcd/peer"
            : !strcmp(name, "etcd-healthcheck-client") ? "etcd/healthcheck-client"
                                                       : name,
            e->path);
    } else {
        /* kubeadm 1.15 renews certificates and kubeconfigs under 'alpha', 1.20 made it GA;
         * before 1.15 there is no renewal of both, and kubevet's does the same job. */
        int minor = vet_advice_minor(ctx);
        if (minor && minor < 15)
            rc = vet_buf_printf(out,
                                "on this node (kubeadm 1.%d cannot renew it; kubevet signs with "
                                "the same CA, keeps subject and SANs, backs up):\n  kubevet certs "
                                "renew %s --keep-key --apply",
                                minor, name);
        else
            rc = vet_buf_printf(out, "on this node:\n  kubeadm %scerts renew %s",
                                minor && minor < 20 ? "alpha " : "", name);
    }
    if (!rc && pods) {
        rc = vet_buf_printf(out, "\nthen restart the %s static pod%s:", pods,
                            strchr(pods, ' ') ? "s" : "");
        if (!rc)
            rc = vet_advice_restart(out, pods);
    }
    if (!rc && !strcmp(name, "admin.conf"))
        rc = vet_buf_printf(out, "\nthen copy it to the admins' ~/.kube/config");
    return rc;
}

int vet_advice_fix(vet_finding *f, const vet_ctx *ctx, const vet_cert_entry *e, const char *prefix)
{
    vet_buf b = VET_BUF_INIT;
    int rc = prefix ? vet_buf_puts(&b, prefix) : 0;
    if (!rc)
        rc = vet_advice_renew(&b, ctx, e);
    if (!rc)
        rc = vet_finding_fix(f, "%s", b.ptr ? b.ptr : "");
    vet_buf_free(&b);
    return rc;
}
