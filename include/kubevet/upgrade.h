/* Upgrade planning on top of the release data (kubevet/catalog.h: per Kubernetes minor its newest
 * patch, the etcd kubeadm deploys, which kubeadm-config facts kubeadm reads, the skew policy):
 * `kubevet upgrade plan`: the hops kubeadm allows, the blockers of each hop (ordinary findings
 * from the check registry, judged as the cluster will be at that hop) and the runbook. */
#ifndef KUBEVET_UPGRADE_H
#define KUBEVET_UPGRADE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/report.h"
#include "strv.h"

/* ---- upgrade plan ---- */

typedef struct {
    const vet_releases *releases;
    const vet_ctx *ctx;    /* sources: node, api, etcd, manifests, snapshot, catalog */
    unsigned sources;      /* VET_SRC_* available in ctx */
    const char *from;      /* current version ("1.9.6"); required */
    const char *to;        /* target version */
    int64_t window;        /* seconds between hops for date-dependent checks; 0 = all at now */
    int snapshot_given;    /* --snapshot was given */
    int snapshot_ok;       /* ...and it passed its integrity check */
    int64_t snapshot_time; /* ...taken at (file mtime) */
    const char *snapshot_name;
    int64_t max_backup_age; /* seconds */
    int have_etcd_version;  /* a live etcd answered */
    const char *etcd_version;
    vet_strv cp_nodes;     /* control-plane node names (API), first = the one to run apply on */
    vet_strv worker_nodes; /* worker node names (API) */
} vet_upgrade_opts;

typedef struct {
    char from[32], to[32];
    int64_t date;         /* when its date-dependent checks were judged */
    char etcd_before[32]; /* etcd version running before the hop ("" unknown) */
    char etcd_after[32];  /* etcd the hop's kubeadm deploys */
    vet_report blockers;  /* its findings, causes first */
    vet_strv steps;       /* the runbook (empty when refused) */
    char *refused;        /* why the hop cannot start, or NULL */
} vet_upgrade_hop;

typedef struct {
    char from[32], to[32];
    vet_upgrade_hop *hops;
    size_t nhops;
} vet_upgrade_plan;

/* Build the plan. Usage errors (target older than from, beyond the data, unparseable) are
 * VET_EUSAGE with a message. Every blocker is also added once to `r` (the command's report),
 * with KV501 when there is more than one hop. */
int vet_upgrade_plan_build(vet_upgrade_plan **out, const vet_upgrade_opts *o, vet_report *r);
void vet_upgrade_plan_free(vet_upgrade_plan *p);
/* {"from", "to", "hops": [{"to", "from", "etcd", "blockers": [...], "steps": [...],
 * "refused"?}]} (new reference). */
json_t *vet_upgrade_plan_json(const vet_upgrade_plan *p);
/* The 3 a.m. text: per hop a header, blockers (causes first), then steps or why refused. */
int vet_upgrade_plan_render_text(const vet_upgrade_plan *p, FILE *out, int color);

/* The Kubernetes version a node root runs: the kube-apiserver static pod's image tag
 * (etc/kubernetes/manifests/kube-apiserver.yaml), into out. VET_ENOTFOUND when absent. */
int vet_upgrade_version_from_root(char *out, size_t n, const char *root);

/* ---- join plan ---- */

typedef struct {
    const vet_ctx *ctx;          /* api (required for credentials), etcd, node; now */
    int control_plane;           /* --control-plane */
    const char *name;            /* the new node's name, or NULL */
    const char *address;         /* its advertise IP, or NULL */
    const char *token;           /* --token as given (printed only then), or NULL */
    const char *certificate_key; /* --certificate-key as given, or NULL */
    const unsigned char *ca_pem; /* the cluster CA (ca.crt under --root, else cluster-info) */
    size_t ca_len;
    const char *ca_source;
    const json_t *kubeadm_certs; /* the kube-system/kubeadm-certs Secret as read, or NULL */
    int64_t certs_margin;        /* a Secret whose owner token expires sooner is KV207 */
} vet_join_opts;

typedef struct {
    char *endpoint;   /* controlPlaneEndpoint, else cluster-info's server host:port */
    char ca_hash[80]; /* "sha256:<hex>", "" when no CA was available */
    char *command;    /* the kubeadm join command (NULL when refused) */
    char *refused;    /* why the join must not run now, or NULL */
    int members_before, members_after; /* etcd voting members (-1 unknown) */
    vet_strv before;                   /* steps before the join (fixes of blockers, learner path) */
    vet_strv after;                    /* checks to run after it */
    vet_report findings;
} vet_join_plan;

/* "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo of the first certificate in pem
 * (kubeadm's --discovery-token-ca-cert-hash). VET_EINPUT naming `name` when it does not parse. */
int vet_join_ca_hash(char out[80], const unsigned char *pem, size_t len, const char *name);
/* Decrypt every data value of the kubeadm-certs Secret with the 64-hex-digit key (AES-256-GCM,
 * nonce 12 || ciphertext || tag 16, no AAD). *ok = 1 when all decrypt; *bad names the first that
 * does not (static, or NULL). VET_EUSAGE for a key that is not 64 hex digits. */
int vet_join_certs_decrypt(int *ok, const char **bad, const json_t *secret, const char *key_hex);
/* Build the plan; its findings are also added to r. */
int vet_join_plan_build(vet_join_plan **out, const vet_join_opts *o, vet_report *r);
void vet_join_plan_free(vet_join_plan *p);
json_t *vet_join_plan_json(const vet_join_plan *p);
int vet_join_plan_render_text(const vet_join_plan *p, FILE *out, int color);

#endif
