/* The node source: everything kubevet learns from a control-plane node's files under --root
 * (kubeadm layout), and from certificate files or folders given as paths. Facts only; the
 * checks judge them. */
#ifndef KUBEVET_NODE_H
#define KUBEVET_NODE_H

#include <stddef.h>

#include "kubevet/kubeconfig.h"
#include "kubevet/pki.h"
#include "strv.h"

/* One certificate the inventory lists (`certs list` row), wherever it came from. */
typedef struct vet_cert_entry_s {
    char *subject;       /* how findings name it: "etc/kubernetes/pki/apiserver.crt",
                            "kubeconfig etc/kubernetes/kubelet.conf user default-auth" */
    char *path;          /* file it was read from (relative to --root for node files) */
    char *source;        /* "file", "kubeconfig:<user>", "kubeconfig-ca:<cluster>" */
    const char *role;    /* kubeadm role ("apiserver", "ca", "kubelet-client", ...) or NULL */
    const char *ca_role; /* role of the CA that must have signed it, or NULL (unknown) */
    size_t index;        /* position in its file (0 for the first certificate) */
    vet_cert *cert;      /* owned reference */
    vet_key *key;        /* private key that belongs with it, if one was found (owned ref) */
    char *key_path;      /* where that key came from */
    /* Filled by vet_node_verify_chains: the CA it must verify against (layout role, else a CA
     * in scope whose subject is its issuer), and OpenSSL's verdict. */
    const struct vet_cert_entry_s *chain_ca;
    int chain_ok;        /* 1 verified, 0 failed, -1 not judged (no CA known, or a root) */
    int chain_same_name; /* failed although the issuer name is the CA's: the CA was re-minted */
    char chain_why[128];
    /* vet_certset_load_facts: the chain was judged while loading and the X509 shed (cert holds
     * facts only); chain_ca is then set by vet_node_verify_chains from facts_ca (1 + position
     * among the node's entries then the set's, 0 none) */
    int facts_only;
    size_t facts_ca;
} vet_cert_entry;

typedef struct vet_certset {
    vet_cert_entry *v;
    size_t n, cap;
    vet_strv errors; /* "file: what was wrong" for inputs that could not be read */
} vet_certset;

/* Load files or folders (recursive) as given (not under --root): PEM/DER certs and keys
 * (*.pem, *.crt, *.cer, *.der, *.key; cfssl's x.pem + x-key.pem and x.crt + x.key pair up),
 * kubeconfigs (*.conf, *.kubeconfig, *.yaml, *.yml holding clusters/users). Parses on all
 * cores. Unreadable or malformed inputs go to set->errors. */
int vet_certset_load_paths(vet_certset *set, const char *const *paths, size_t npaths);
struct vet_node;
/* The same for a long-running reader of huge folders (`serve`): the folder is parsed a piece at
 * a time, each certificate that is not a CA is verified against the CAs of `scope` (may be
 * NULL) and of the folder met so far, then keeps its facts only (vet_cert_shed), so the peak
 * holds one piece of parsed certificates, not 10,000. The same entries, verdicts and errors
 * as vet_certset_load_paths; a leaf whose CA comes later in path order keeps its X509 until
 * vet_node_verify_chains judges it (which must be called with the same scope). */
int vet_certset_load_facts(vet_certset *set, const char *const *paths, size_t npaths,
                           const struct vet_node *scope);
void vet_certset_clear(vet_certset *set);

typedef enum {
    VET_NAME_FLAG,              /* --node-name */
    VET_NAME_HOSTNAME_OVERRIDE, /* kubelet --hostname-override in kubeadm-flags.env */
    VET_NAME_ETC_HOSTNAME,      /* etc/hostname under --root */
    VET_NAME_HOST,              /* gethostname(), only when --root is / */
    VET_NAME_UNKNOWN
} vet_name_source;

const char *vet_name_source_str(vet_name_source s);

/* A kubeconfig found on the node. */
typedef struct {
    char *path;       /* "etc/kubernetes/kubelet.conf" */
    const char *file; /* basename: "kubelet.conf" */
    vet_kubeconfig *kc;
    const vet_kc_context *ctx; /* current context, or NULL */
    const vet_kc_cluster *cluster;
    const vet_kc_user *user;
    vet_cert **ca; /* the cluster's CA certificates (data or file) */
    size_t nca;
    char *ca_source;        /* where the CA came from (file path or "certificate-authority-data") */
    vet_cert_entry *client; /* current user's client certificate entry in node->certs, or NULL */
    char *client_cert_path; /* client-certificate as written, NULL when embedded */
} vet_node_kubeconfig;

typedef struct vet_node {
    char *root;
    char *node_name;
    vet_name_source node_name_source;

    vet_certset certs; /* every certificate on the node, with roles */

    /* Keys that must pair with a public key (sa.key / sa.pub). */
    vet_key *sa_key, *sa_pub;

    vet_node_kubeconfig *kubeconfigs;
    size_t nkubeconfigs;

    /* kubelet */
    int kubelet_config_present;
    int rotate_certificates; /* var/lib/kubelet/config.yaml rotateCertificates: 1/0/-1 absent */
    int server_tls_bootstrap;
    int rotate_flag; /* --rotate-certificates in kubeadm-flags.env: 1/0/-1 absent */
    char *hostname_override;
    char *kubelet_client_link;   /* target of kubelet-client-current.pem, when a symlink */
    int kubelet_client_dangling; /* ...and that target does not exist (the kubelet cannot start) */

    /* kube-apiserver static pod */
    int apiserver_present;
    char *advertise_address;
    char *service_cidr;
    char *service_ip; /* first address of the service CIDR: the `kubernetes` Service */
    char *version;    /* "1.23.5": the kube-apiserver image tag, NULL when not a version */
    char *tls_cert_file, *client_ca_file, *requestheader_ca_file, *proxy_client_cert_file;
    vet_strv
        server_hosts; /* host of every kubeconfig `server:` (controlPlaneEndpoint shows here) */

    /* etcd static pod */
    int etcd_present;
    char *etcd_name; /* --name */
    char *etcd_peer_urls,
        *etcd_client_urls;   /* --initial-advertise-peer-urls, --advertise-client-urls */
    char *etcd_advertise_ip; /* host of the first peer (else client) URL */
    /* the other control-plane static pods: present and parsed */
    int controller_manager_present, scheduler_present;

    vet_strv errors; /* unreadable or malformed node files */
} vet_node;

/* Read every kubeadm file under root. Missing files are normal (not every node has all);
 * unreadable or malformed ones are recorded in node->errors, and loading continues.
 * Returns an error only for allocation failure or an unusable root. */
int vet_node_load(vet_node **out, const char *root, const char *node_name_flag);
void vet_node_free(vet_node *n);

/* Verify every certificate of the node and of `files` (either may be NULL) against its CA,
 * on all cores, once; the checks read the verdicts. */
int vet_node_verify_chains(vet_node *n, vet_certset *files);
/* The same for a few entries of n or files whose certificates were replaced in memory (a
 * renewal judged before anything is re-read): only `only` are verified, against the CAs of
 * n and files. Total entries in scope stay the bound: `only` must point into n or files. */
int vet_node_verify_entries(vet_node *n, vet_certset *files, vet_cert_entry *const *only,
                            size_t nonly);

/* A control-plane node: it runs a control-plane static pod (kube-apiserver, etcd,
 * kube-controller-manager or kube-scheduler). */
int vet_node_is_control_plane(const vet_node *n);
/* Does the node hold any Kubernetes file at all (certificate, kubeconfig, static pod, kubelet
 * config, or a file that exists but could not be read)? 0 means --root is probably wrong. */
int vet_node_has_files(const vet_node *n);

/* kubeadm's name for a certificate of the node, as `kubeadm certs check-expiration` lists it
 * ("apiserver", "etcd-server", "admin.conf", "ca"), "kubelet-client"/"kubelet-serving" for the
 * kubelet's own, or NULL (not part of kubeadm's layout). */
const char *vet_node_cert_name(const vet_cert_entry *e);
/* The name of the CA that signs e ("ca", "etcd-ca", "front-proxy-ca"), or NULL when unknown. */
const char *vet_node_cert_ca_name(const vet_node *n, const vet_cert_entry *e);
/* 1 when e's CA key is not on the node: kubeadm's "externally managed" (it cannot renew e). */
int vet_node_cert_external(const vet_node *n, const vet_cert_entry *e);

/* The entry of a kubeadm role ("apiserver", "ca", "front-proxy-ca", ...), or NULL. */
const vet_cert_entry *vet_node_role(const vet_node *n, const char *role);
/* The node's kubeconfig with this basename ("kubelet.conf"), or NULL. */
const vet_node_kubeconfig *vet_node_kubeconfig_get(const vet_node *n, const char *file);

#endif
