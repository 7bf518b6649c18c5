/* certs renew: the targets and the plan they make (cmd_certs_renew_plan.c), shared with the
 * command body (cmd_certs_renew.c). */
#ifndef KV_CMD_CERTS_RENEW_H
#define KV_CMD_CERTS_RENEW_H

#include <stdint.h>

#include "cli.h"
#include "kubevet/node.h"
#include "kubevet/pki.h"
#include "kubevet/plan.h"
#include "strv.h"

enum {
    RENEW_SANS_APISERVER = 1, /* kubeadm's apiserver SANs */
    RENEW_SANS_ETCD = 2,      /* kubeadm's etcd server/peer SANs */
    RENEW_NODE_IDENTITY = 4   /* kubelet.conf: CN=system:node:<node>, O=system:nodes */
};

typedef struct {
    const char *name;       /* as the operator types it */
    const char *role;       /* node PKI role (etc/kubernetes/pki), or NULL */
    const char *kubeconfig; /* basename in etc/kubernetes, or NULL */
    const char *restart;    /* static pod reading it, or NULL */
    int flags;
} renew_name;

typedef struct {
    const renew_name *name; /* NULL for a path */
    vet_pem hold;           /* what this target parsed itself (path targets, kubeconfig keys) */
    char *label;            /* name, or the path as given */
    const vet_cert *old;    /* borrowed from the node or from hold */
    const vet_key *old_key;
    const vet_cert *ca;
    const vet_key *ca_key;
    const vet_blob *kc_cert, *kc_key; /* the kubeconfig's *-data values being replaced */
    char *ca_label;                   /* where the CA is ("etc/kubernetes/pki/ca.crt") */
    char *cert_rel;                   /* file to write, relative to the plan root */
    char *key_rel; /* same as cert_rel for a combined PEM; NULL for an embedded kubeconfig */
    char *kc_rel;  /* kubeconfig with *-data fields to rewrite, or NULL */
    unsigned cert_mode;
    const char *restart;
    const char *finding; /* KV101/KV102/KV106 the renewal fixes, or NULL */
    char *finding_subject;
    char *cn; /* subject override */
    vet_strv orgs, dns, ips, added;
    vet_key *new_key; /* NULL with --keep-key */
    vet_cert *issued;
} renew_target;

typedef struct {
    const char *root;
    const char *node_name_flag;
    const char *node_name;
    vet_node *node;
    int node_mode; /* a node root is involved (kubeadm names, or --root) */
    int keep_key, days;
    int64_t now;
    vet_strv add_san, paths, notes;
    vet_strv refusal; /* CSR steps when a CA key is missing */
    renew_target *v;
    size_t n;
    char *plan_root;     /* "/" for paths given alone */
    char *backup_parent; /* relative to plan_root */
} renew_run;

/* Resolve names into targets, make keys (on all cores), issue certificates. */
int renew_prepare(renew_run *run, const char *const *names, size_t n,
                  const renew_name *kubeadm_names, const renew_name *(*find)(const char *));
/* The plan writing every target. */
int renew_build_plan(vet_plan **out, renew_run *run);
void renew_run_clear(renew_run *run);

/* --restart-static-pods: move the manifests of `pods` out and back, waiting on their mirror
 * pods through the API when a kubeconfig is usable (at most out_wait s for them to stop,
 * `timeout` s to come back), else a fixed out_wait (said on stderr). 0, or a VET_E* code
 * with the message naming the pod. */
int renew_restart_pods(cli_globals *g, const renew_run *run, const vet_strv *pods,
                       unsigned out_wait, unsigned timeout, int json);

int cmd_certs_renew(int argc, char **argv, cli_globals *g);

#endif
