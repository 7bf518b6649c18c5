/* The API source of `kubevet check`: the objects the API checks judge (Nodes, kubeadm-config,
 * cluster-info, bootstrap tokens, kubeadm-certs, CSRs, ClusterRoleBindings, /version), reduced
 * to facts as they stream by. Nothing here decides severity. */
#include <stdlib.h>
#include <string.h>

#include "common/yamlx.h"
#include "error.h"
#include "k8s_int.h"
#include "vtime.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_t *jpath(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    return b ? json_object_get(x, b) : x;
}

static int64_t jtime(json_t *o, const char *key)
{
    int64_t t = 0;
    const char *s = jstr(o, key);
    if (s && vet_time_parse(&t, s))
        t = 0;
    vet_error_clear();
    return t;
}

static int sdup(char **dst, const char *s)
{
    if (!s)
        return 0;
    free(*dst);
    return (*dst = strdup(s)) ? 0 : OOM();
}

/* A read that failed for a reason other than the cluster being gone: note it and go on. */
static int skip(vet_api_facts *f, const char *what)
{
    char *line = vet_strdupf("%s: %s", what, vet_error_last());
    vet_error_clear();
    if (!line)
        return OOM();
    return vet_strv_take(&f->skipped, line);
}

/* The reset callbacks: a list that starts over (410 Expired) gives every item again, and
 * deleted ones not at all, so what its first pages gave is dropped. */
static int reset_nodes(void *ud)
{
    vet_api_facts *f = ud;
    for (size_t i = 0; i < f->nnodes; i++) {
        free(f->nodes[i].name);
        free(f->nodes[i].kubelet_version);
        free(f->nodes[i].internal_ip);
        free(f->nodes[i].runtime);
    }
    free(f->nodes);
    f->nodes = NULL;
    f->nnodes = 0;
    return 0;
}

static int reset_tokens(void *ud)
{
    vet_api_facts *f = ud;
    for (size_t i = 0; i < f->ntokens; i++)
        free(f->tokens[i].id);
    free(f->tokens);
    f->tokens = NULL;
    f->ntokens = 0;
    return 0;
}

static int reset_csrs(void *ud)
{
    vet_api_facts *f = ud;
    for (size_t i = 0; i < f->ncsrs; i++) {
        free(f->csrs[i].name);
        free(f->csrs[i].username);
        free(f->csrs[i].signer);
    }
    free(f->csrs);
    f->csrs = NULL;
    f->ncsrs = 0;
    return 0;
}

static int reset_crbs(void *ud)
{
    vet_api_facts *f = ud;
    f->selfnode_binding = f->nodeclient_binding = f->rotation_binding = 0;
    return 0;
}

void vet_api_facts_free(vet_api_facts *f)
{
    if (!f)
        return;
    free(f->server);
    free(f->git_version);
    reset_nodes(f);
    free(f->control_plane_endpoint);
    free(f->kubernetes_version);
    vet_strv_free(&f->cert_sans);
    vet_strv_free(&f->api_endpoint_nodes);
    free(f->cluster_info_server);
    free(f->cluster_info_ca.data);
    reset_tokens(f);
    free(f->kubeadm_certs_owner);
    reset_csrs(f);
    vet_strv_free(&f->skipped);
    free(f);
}

static void parse_version(vet_api_facts *f)
{
    const char *v = f->git_version;
    if (!v)
        return;
    if (*v == 'v')
        v++;
    if (sscanf(v, "%d.%d", &f->major, &f->minor) != 2)
        f->major = f->minor = 0;
}

static int on_node(void *ud, json_t *item)
{
    vet_api_facts *f = ud;
    json_t *labels = jpath(item, "metadata", "labels"),
           *ann = jpath(item, "metadata", "annotations");
    json_t *addrs = jpath(item, "status", "addresses");
    const char *name = jstr(json_object_get(item, "metadata"), "name");
    vet_api_node *n, *nv;
    size_t i;
    json_t *a;
    if (!name)
        return 0;
    if (!(nv = realloc(f->nodes, (f->nnodes + 1) * sizeof *nv)))
        return OOM();
    f->nodes = nv;
    n = &nv[f->nnodes];
    memset(n, 0, sizeof *n);
    if (!(n->name = strdup(name)))
        return OOM();
    f->nnodes++;
    /* kubeadm labels masters node-role.kubernetes.io/master up to 1.19, control-plane from 1.20
     * (both 1.20-1.23). */
    n->control_plane = json_object_get(labels, "node-role.kubernetes.io/control-plane") ||
                       json_object_get(labels, "node-role.kubernetes.io/master");
    n->has_cri_socket = json_object_get(ann, "kubeadm.alpha.kubernetes.io/cri-socket") != NULL;
    if (sdup(&n->kubelet_version, jstr(jpath(item, "status", "nodeInfo"), "kubeletVersion")) ||
        sdup(&n->runtime, jstr(jpath(item, "status", "nodeInfo"), "containerRuntimeVersion")))
        return VET_ENOMEM;
    json_array_foreach(addrs, i, a)
    {
        const char *t = jstr(a, "type");
        if (t && !strcmp(t, "InternalIP") && !n->internal_ip)
            if (sdup(&n->internal_ip, jstr(a, "address")))
                return VET_ENOMEM;
    }
    return 0;
}

/* kubeadm-config: ClusterConfiguration and (1.12-1.21) ClusterStatus, YAML inside the ConfigMap. */
static int kubeadm_config(vet_api_facts *f, json_t *cm)
{
    json_t *data = json_object_get(cm, "data");
    const char *cc = jstr(data, "ClusterConfiguration"), *cs = jstr(data, "ClusterStatus");
    vet_yaml *y = NULL;
    yaml_node_t *root, *n;
    int rc = 0;
    f->have_kubeadm_config = 1;
    if (cc &&
        !(rc = vet_yaml_load(&y, (const unsigned char *)cc, strlen(cc),
                             "ConfigMap/kube-system/kubeadm-config ClusterConfiguration")) &&
        (root = vet_yaml_root(y, 0)) && root->type == YAML_MAPPING_NODE) {
        const char *cpe = vet_yaml_str(vet_yaml_get(y, root, "controlPlaneEndpoint"));
        f->have_cluster_config = 1;
        if ((cpe && *cpe && sdup(&f->control_plane_endpoint, cpe)) ||
            sdup(&f->kubernetes_version, vet_yaml_str(vet_yaml_get(y, root, "kubernetesVersion"))))
            goto oom;
        n = vet_yaml_path(y, root, "apiServer", "certSANs", NULL);
        for (size_t i = 0; n && n->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(n); i++) {
            const char *s = vet_yaml_str(vet_yaml_item(y, n, i));
            if (s && vet_strv_push(&f->cert_sans, s))
                goto oom;
        }
    } else if (rc && (rc = skip(f, "kubeadm-config ClusterConfiguration")))
        goto done;
    vet_yaml_free(y);
    y = NULL;
    if (cs &&
        !(rc = vet_yaml_load(&y, (const unsigned char *)cs, strlen(cs),
                             "ConfigMap/kube-system/kubeadm-config ClusterStatus")) &&
        (root = vet_yaml_root(y, 0)) && root->type == YAML_MAPPING_NODE) {
        f->have_cluster_status = 1;
        n = vet_yaml_get(y, root, "apiEndpoints");
        for (size_t i = 0; n && n->type == YAML_MAPPING_NODE && i < vet_yaml_len(n); i++) {
            const char *s = vet_yaml_str(vet_yaml_key_at(y, n, i));
            if (s && vet_strv_push(&f->api_endpoint_nodes, s))
                goto oom;
        }
    } else if (rc && (rc = skip(f, "kubeadm-config ClusterStatus")))
        goto done;
    rc = 0;
    goto done;
oom:
    rc = OOM();
done:
    vet_yaml_free(y);
    return rc;
}

static int cluster_info(vet_api_facts *f, json_t *cm)
{
    const char *kc = jstr(json_object_get(cm, "data"), "kubeconfig");
    vet_kubeconfig *k = NULL;
    int rc;
    f->have_cluster_info = 1;
    if (!kc)
        return 0;
    if ((rc = vet_kubeconfig_parse(&k, (const unsigned char *)kc, strlen(kc),
                                   "ConfigMap/kube-public/cluster-info kubeconfig")))
        return skip(f, "cluster-info");
    if (k->nclusters) {
        const vet_kc_cluster *cl = &k->clusters[0];
        if (sdup(&f->cluster_info_server, cl->server)) {
            vet_kubeconfig_free(k);
            return VET_ENOMEM;
        }
        if (cl->ca.data) {
            f->cluster_info_ca = cl->ca;
            k->clusters[0].ca.data = NULL;
        }
    }
    vet_kubeconfig_free(k);
    return 0;
}

static char *b64_field(json_t *data, const char *key)
{
    const char *s = jstr(data, key);
    vet_blob b = {NULL, 0};
    char *out;
    if (!s || vet_base64_decode(&b, s, strlen(s))) {
        vet_error_clear();
        return NULL;
    }
    out = strndup((const char *)b.data, b.len);
    free(b.data);
    return out;
}

static int on_token(void *ud, json_t *item)
{
    vet_api_facts *f = ud;
    json_t *meta = json_object_get(item, "metadata"), *data = json_object_get(item, "data");
    const char *type = jstr(item, "type"), *name = jstr(meta, "name");
    char *id = NULL, *exp = NULL;
    vet_api_token *nv;
    if (!type || strcmp(type, "bootstrap.kubernetes.io/token") || !name)
        return 0;
    if (!(id = b64_field(data, "token-id")) &&
        !(id = strdup(strncmp(name, "bootstrap-token-", 16) ? name : name + 16)))
        return OOM();
    if (!(nv = realloc(f->tokens, (f->ntokens + 1) * sizeof *nv))) {
        free(id);
        return OOM();
    }
    f->tokens = nv;
    memset(&nv[f->ntokens], 0, sizeof *nv);
    nv[f->ntokens].id = id;
    nv[f->ntokens].created = jtime(meta, "creationTimestamp");
    if ((exp = b64_field(data, "expiration"))) {
        if (vet_time_parse(&nv[f->ntokens].expiration, exp))
            nv[f->ntokens].expiration = 0;
        vet_error_clear();
        free(exp);
    }
    f->ntokens++;
    return 0;
}

static int kubeadm_certs(vet_api_facts *f, json_t *s)
{
    json_t *refs = jpath(s, "metadata", "ownerReferences"), *r;
    size_t i;
    f->have_kubeadm_certs = 1;
    f->kubeadm_certs_created = jtime(json_object_get(s, "metadata"), "creationTimestamp");
    json_array_foreach(refs, i, r)
    {
        const char *n = jstr(r, "name");
        if (n && !strncmp(n, "bootstrap-token-", 16))
            return sdup(&f->kubeadm_certs_owner, n + 16);
    }
    return 0;
}

static int on_csr(void *ud, json_t *item)
{
    vet_api_facts *f = ud;
    json_t *meta = json_object_get(item, "metadata"), *spec = json_object_get(item, "spec");
    json_t *conds = jpath(item, "status", "conditions"), *c;
    const char *name = jstr(meta, "name");
    vet_api_csr *nv, *x;
    size_t i;
    if (!name)
        return 0;
    if (!(nv = realloc(f->csrs, (f->ncsrs + 1) * sizeof *nv)))
        return OOM();
    f->csrs = nv;
    x = &nv[f->ncsrs];
    memset(x, 0, sizeof *x);
    f->ncsrs++;
    if (!(x->name = strdup(name)) ||
        !(x->username = strdup(jstr(spec, "username") ? jstr(spec, "username") : "")) ||
        !(x->signer = strdup(jstr(spec, "signerName") ? jstr(spec, "signerName") : "")))
        return OOM();
    x->created = jtime(meta, "creationTimestamp");
    x->pending = 1;
    json_array_foreach(conds, i, c)
    {
        const char *t = jstr(c, "type");
        if (t && (!strcmp(t, "Approved") || !strcmp(t, "Denied") || !strcmp(t, "Failed")))
            x->pending = 0;
    }
    return 0;
}

static int on_crb(void *ud, json_t *item)
{
    vet_api_facts *f = ud;
    const char *name = jstr(json_object_get(item, "metadata"), "name");
    const char *role = jstr(json_object_get(item, "roleRef"), "name");
    json_t *subs = json_object_get(item, "subjects"), *s;
    size_t i;
    if (name && !strcmp(name, "kubeadm:node-autoapprove-certificate-rotation"))
        f->rotation_binding = 1;
    if (!role)
        return 0;
    json_array_foreach(subs, i, s)
    {
        const char *k = jstr(s, "kind"), *n = jstr(s, "name");
        if (!k || !n || strcmp(k, "Group"))
            continue;
        if (!strcmp(role, "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient") &&
            !strcmp(n, "system:nodes"))
            f->selfnode_binding = 1;
        if (!strcmp(role, "system:certificates.k8s.io:certificatesigningrequests:nodeclient") &&
            !strncmp(n, "system:bootstrappers", 20))
            f->nodeclient_binding = 1;
    }
    return 0;
}

/* Run one optional read: VET_ENOTFOUND is "absent", a forbidden or failing read is noted. */
#define OPTIONAL(call, what)                                                                       \
    do {                                                                                           \
        int orc_ = (call);                                                                         \
        if (orc_ == VET_ENOMEM) {                                                                  \
            rc = orc_;                                                                             \
            goto done;                                                                             \
        }                                                                                          \
        if (orc_ && orc_ != VET_ENOTFOUND && (rc = skip(f, what)))                                 \
            goto done;                                                                             \
        ok_ = !orc_;                                                                               \
        vet_error_clear();                                                                         \
    } while (0)

int vet_api_gather(vet_api_facts **out, vet_k8s *c)
{
    vet_api_facts *f = calloc(1, sizeof *f);
    json_t *o = NULL;
    int rc = 0, ok_ = 0;
    *out = NULL;
    if (!f)
        return OOM();
    if ((rc = sdup(&f->server, c->cfg->server)))
        goto done;
    /* /version answers anyone allowed to talk to the cluster: failing here means the cluster is
     * unreachable or refuses us, which the caller reports as the source being unusable. */
    if ((rc = vet_k8s_get(&o, c, "/version")))
        goto done;
    if ((rc = sdup(&f->git_version, jstr(o, "gitVersion"))))
        goto done;
    parse_version(f);
    json_decref(o);
    o = NULL;

    /* Nodes are what most API checks judge: a user that may not list them cannot check this
     * cluster (403 names the user), so this read is not optional. */
    if ((rc = vet_k8s_list(c, "/api/v1/nodes", NULL, NULL, on_node, reset_nodes, f)))
        goto done;
    OPTIONAL(vet_k8s_get(&o, c, "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"),
             "ConfigMap/kube-system/kubeadm-config");
    if (ok_ && (rc = kubeadm_config(f, o)))
        goto done;
    json_decref(o);
    o = NULL;
    OPTIONAL(vet_k8s_get(&o, c, "/api/v1/namespaces/kube-public/configmaps/cluster-info"),
             "ConfigMap/kube-public/cluster-info");
    if (ok_ && (rc = cluster_info(f, o)))
        goto done;
    json_decref(o);
    o = NULL;
    /* Only kube-system's token Secrets: the field selector keeps the other thousands away. */
    OPTIONAL(vet_k8s_list(c, "/api/v1/namespaces/kube-system/secrets", NULL,
                          "type=bootstrap.kubernetes.io/token", on_token, reset_tokens, f),
             "bootstrap token Secrets");
    OPTIONAL(vet_k8s_get(&o, c, "/api/v1/namespaces/kube-system/secrets/kubeadm-certs"),
             "Secret/kube-system/kubeadm-certs");
    if (ok_ && (rc = kubeadm_certs(f, o)))
        goto done;
    json_decref(o);
    o = NULL;
    OPTIONAL(vet_k8s_list(c, "/apis/certificates.k8s.io/v1/certificatesigningrequests", NULL, NULL,
                          on_csr, reset_csrs, f),
             "CertificateSigningRequests");
    if (!ok_ && !f->ncsrs) /* clusters before 1.19 serve v1beta1 only */
        OPTIONAL(vet_k8s_list(c, "/apis/certificates.k8s.io/v1beta1/certificatesigningrequests",
                              NULL, NULL, on_csr, reset_csrs, f),
                 "CertificateSigningRequests (v1beta1)");
    f->have_csrs = ok_;
    OPTIONAL(vet_k8s_list(c, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", NULL, NULL,
                          on_crb, reset_crbs, f),
             "ClusterRoleBindings");
    f->have_crbs = ok_;
    *out = f;
    f = NULL;
done:
    json_decref(o);
    vet_api_facts_free(f);
    return rc;
}
