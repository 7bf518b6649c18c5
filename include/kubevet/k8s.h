/* The Kubernetes API client: configuration the way kubectl finds it (--kubeconfig, KUBECONFIG,
 * ~/.kube/config, in-cluster), requests over libcurl (TLS client certificates, bearer tokens,
 * exec credential plugins), paginated LIST with a per-item callback, and the API source of
 * `kubevet check` (vet_api_facts: facts only, the checks in src/lib/check/api.c judge them). */
#ifndef KUBEVET_K8S_H
#define KUBEVET_K8S_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kubevet/kubeconfig.h"
#include "strv.h"

/* A write lost a race: the object's resourceVersion moved (HTTP 409). Never retried. */
#define VET_K8S_ECONFLICT (-20)

typedef enum {
    VET_K8S_FROM_FLAG,      /* --kubeconfig FILE */
    VET_K8S_FROM_ENV,       /* KUBECONFIG (one or more files, merged) */
    VET_K8S_FROM_HOME,      /* ~/.kube/config */
    VET_K8S_FROM_INCLUSTER, /* service account of the pod we run in */
} vet_k8s_origin;

typedef struct vet_k8s_opts {
    const char *kubeconfig; /* --kubeconfig, or NULL */
    const char *context;    /* --context, or NULL (current-context) */
    const char *ns;         /* -n/--namespace, or NULL (the context's, else "default") */
    long timeout_ms;        /* --request-timeout; 0 = none (connect and stall limits still apply) */
    /* For tests: the service account folder (default /var/run/secrets/kubernetes.io/
     * serviceaccount; KUBEVET_SA_DIR overrides it too). */
    const char *sa_dir;
} vet_k8s_opts;

/* The resolved connection: where to, as whom, how. Owned by the client. */
typedef struct vet_k8s_config {
    vet_k8s_origin origin;
    char *source;  /* "FILE", "FILE1:FILE2" (KUBECONFIG) or "in-cluster" for messages */
    char *context; /* context name ("" in-cluster) */
    char *server;  /* https://host:port, no trailing slash */
    char *ns;      /* namespace in effect */
    char *user;    /* kubeconfig user name (or "serviceaccount") for 401/403 messages */
    char *ca_file; /* CA file (resolved path), or NULL */
    vet_blob ca;   /* CA bytes (certificate-authority-data), or empty */
    char *ca_desc; /* which CA is tried, for x509 messages */
    int insecure;
    char *tls_server_name, *proxy_url;
    char *cert_file, *key_file; /* client certificate/key paths (resolved) */
    vet_blob cert, key;         /* client certificate/key bytes (never printed) */
    char *token;                /* bearer token (never printed) */
    char *token_file;           /* re-read on every request, as client-go does */
    char *username, *password;  /* basic auth (never printed) */
    vet_kc_exec *exec;          /* exec plugin (borrowed copy, owned here) */
    char *exec_dir;             /* folder of the kubeconfig that named the plugin */
} vet_k8s_config;

/* Find and resolve the configuration as kubectl does. VET_ENOTFOUND when there is none at all
 * (no file, no in-cluster environment); VET_EINPUT/VET_EIO naming the file for a bad one, or a
 * context/cluster/user that does not exist. */
int vet_k8s_config_load(vet_k8s_config **out, const vet_k8s_opts *o);
void vet_k8s_config_free(vet_k8s_config *c);
const char *vet_k8s_origin_str(vet_k8s_origin o);

typedef struct vet_k8s vet_k8s;

/* A client for a resolved configuration (takes ownership of cfg, also on failure). */
int vet_k8s_new(vet_k8s **out, vet_k8s_config *cfg, long timeout_ms);
/* vet_k8s_config_load + vet_k8s_new. */
int vet_k8s_connect(vet_k8s **out, const vet_k8s_opts *o);
void vet_k8s_free(vet_k8s *c);
const vet_k8s_config *vet_k8s_cfg(const vet_k8s *c);

/* GET path ("/api/v1/namespaces/kube-system/configmaps/kubeadm-config"). 404 is VET_ENOTFOUND;
 * other failures VET_ENET with one line naming the server, the object and the cause. Reads are
 * retried (429 honouring Retry-After, 5xx, connection reset) a bounded number of times. */
int vet_k8s_get(json_t **out, vet_k8s *c, const char *path);

/* Called once per list item; a negative return stops the list with that code. The item is
 * borrowed: json_incref it to keep it. */
typedef int (*vet_k8s_item_fn)(void *ud, json_t *item);

/* Called when a list starts over: forget every item given so far, the next item is the first of
 * a new full list (items may then come again, changed, or not at all when deleted meanwhile).
 * A negative return stops the list with that code. */
typedef int (*vet_k8s_reset_fn)(void *ud);

/* LIST path with optional selectors (NULL = none), 500 items per page following `continue`.
 * A continue token that expired (410 Expired: etcd compacted past the list) restarts the list
 * from the top once, as client-go's pager falls back to a full list that replaces the pages read:
 * reset is called first, so what the caller keeps is one full list. A second 410, or any 410
 * when reset is NULL, is an error naming the server. Memory holds one page of text and one
 * decoded item at a time. */
int vet_k8s_list(vet_k8s *c, const char *path, const char *label_selector,
                 const char *field_selector, vet_k8s_item_fn fn, vet_k8s_reset_fn reset, void *ud);

/* The same, each item as its JSON text (borrowed, [item, item+len), valid during the call), for
 * callers that read a few fields of large items in place (helm's release Secrets). */
typedef int (*vet_k8s_raw_fn)(void *ud, const char *item, size_t len);
int vet_k8s_list_raw(vet_k8s *c, const char *path, const char *label_selector,
                     const char *field_selector, vet_k8s_raw_fn fn, vet_k8s_reset_fn reset,
                     void *ud);

/* Writes, never retried. POST (create) to a collection path, PUT (replace) the object at path
 * (its metadata.resourceVersion makes it conditional: a moved object is VET_K8S_ECONFLICT),
 * PATCH with application/merge-patch+json. out (may be NULL) receives the server's object. */
int vet_k8s_create(json_t **out, vet_k8s *c, const char *path, const json_t *obj);
int vet_k8s_update(json_t **out, vet_k8s *c, const char *path, const json_t *obj);
int vet_k8s_patch(json_t **out, vet_k8s *c, const char *path, const json_t *patch);
/* DELETE the object at path (never retried). 404 is VET_ENOTFOUND. */
int vet_k8s_delete(vet_k8s *c, const char *path);

/* ---- kubeadm's ClusterConfiguration (the YAML in kube-system/kubeadm-config) ---- */

/* controlPlaneEndpoint (NULL when unset) and apiServer.certSANs (appended to sans). */
int vet_kubeadm_cc_read(const char *cc, char **endpoint, vet_strv *sans);
/* The same text with controlPlaneEndpoint = endpoint and apiServer.certSANs = sans (every other
 * line kept); VET_EINPUT when the result would not read back exactly so. */
int vet_kubeadm_cc_set(char **out, const char *cc, const char *endpoint, const vet_strv *sans);

/* ---- decoding (exposed for tests and the fuzz target) ---- */

/* Walk one LIST page: each element of "items" is decoded alone and passed to fn; out_continue
 * (may be NULL) receives metadata.continue (NULL when absent or empty). VET_EINPUT with the byte
 * offset for malformed text; a Status object (kind: Status) is VET_ENET with its message. */
int vet_k8s_decode_page(const char *data, size_t len, vet_k8s_item_fn fn, void *ud,
                        char **out_continue);
/* One line from an API Status body ("configmaps \"x\" is forbidden: User ..."), or NULL when
 * the body is not a Status. *code receives .code (0 if absent). Caller frees. */
char *vet_k8s_status_message(const char *data, size_t len, long *code, char **reason);

/* ---- the API source of `kubevet check` ---- */

typedef struct {
    char *name;
    int control_plane;     /* node-role.kubernetes.io/control-plane or /master label */
    int has_cri_socket;    /* kubeadm.alpha.kubernetes.io/cri-socket annotation */
    char *kubelet_version; /* status.nodeInfo.kubeletVersion */
    char *internal_ip;     /* first InternalIP address */
    char *runtime;         /* status.nodeInfo.containerRuntimeVersion ("containerd://1.7.2") */
} vet_api_node;

typedef struct {
    char *id;           /* token id (Secret bootstrap-token-<id>) */
    int64_t expiration; /* 0 = never */
    int64_t created;
} vet_api_token;

typedef struct {
    char *name;
    char *username;  /* spec.username */
    char *signer;    /* spec.signerName ("" on v1beta1 clusters that have none) */
    int64_t created; /* metadata.creationTimestamp */
    int pending;     /* no Approved/Denied/Failed condition */
} vet_api_csr;

typedef struct vet_api_facts {
    char *server;      /* the API server kubevet talked to */
    char *git_version; /* /version gitVersion ("v1.23.3") */
    int minor, major;  /* parsed from it, 0 when unknown */

    vet_api_node *nodes;
    size_t nnodes;

    int have_kubeadm_config;      /* kube-system/kubeadm-config was read */
    int have_cluster_config;      /* it holds ClusterConfiguration */
    char *control_plane_endpoint; /* NULL when unset */
    char *kubernetes_version;     /* ClusterConfiguration kubernetesVersion */
    vet_strv cert_sans;           /* apiServer.certSANs */
    int have_cluster_status;      /* it holds ClusterStatus */
    vet_strv api_endpoint_nodes;  /* ClusterStatus.apiEndpoints keys */

    int have_cluster_info;     /* kube-public/cluster-info was read */
    char *cluster_info_server; /* server: of its kubeconfig */
    vet_blob cluster_info_ca;  /* its certificate-authority-data */

    vet_api_token *tokens;
    size_t ntokens;
    int have_kubeadm_certs;    /* kube-system/kubeadm-certs exists */
    char *kubeadm_certs_owner; /* owner token id (ownerReferences bootstrap-token-<id>), or NULL */
    int64_t kubeadm_certs_created;

    int have_csrs;
    vet_api_csr *csrs;
    size_t ncsrs;

    int have_crbs;
    int selfnode_binding;   /* selfnodeclient role bound to group system:nodes */
    int nodeclient_binding; /* nodeclient role bound to a bootstrappers group */
    int rotation_binding;   /* kubeadm:node-autoapprove-certificate-rotation exists */

    vet_strv skipped; /* "what: why" for facts that could not be read (e.g. forbidden) */
} vet_api_facts;

/* Gather the facts the API checks need. Only /version failing is an error (the cluster is not
 * reachable or not usable); a forbidden or failing read of one kind of object is noted in
 * skipped and gathering goes on. */
int vet_api_gather(vet_api_facts **out, vet_k8s *c);
void vet_api_facts_free(vet_api_facts *f);

#endif
