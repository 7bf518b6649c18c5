/* Check functions, one per row of vet_checks[] (registry.c). Internal to the check module. */
#ifndef KV_CHECKS_H
#define KV_CHECKS_H

#include "kubevet/check.h"

#define VET_CHECK_FN(name) int name(const vet_ctx *ctx, vet_report *r)

struct vet_releases;
/* The release data a check judges with: ctx->releases, else the built-in data. *out NULL only
 * when the built-in data does not parse (VET_EINPUT, a build defect). */
int vet_check_releases(const struct vet_releases **out, const vet_ctx *ctx);

/* certs.c: the node PKI */
VET_CHECK_FN(vet_check_kv101);
VET_CHECK_FN(vet_check_kv102);
VET_CHECK_FN(vet_check_kv103);
VET_CHECK_FN(vet_check_kv104);
VET_CHECK_FN(vet_check_kv105);
VET_CHECK_FN(vet_check_kv106);
VET_CHECK_FN(vet_check_kv107);
VET_CHECK_FN(vet_check_kv108);
VET_CHECK_FN(vet_check_kv109);
VET_CHECK_FN(vet_check_kv110);
VET_CHECK_FN(vet_check_kv111);
/* certs_node.c: the node's identity, names and kubelet (KV106, KV107, KV110, KV112), and the
 * kubeconfig half of KV108 */
VET_CHECK_FN(vet_check_kv112);
int vet_check_kv108_kubeconfigs(const vet_ctx *ctx, vet_report *r);

/* explain.c: relations between findings (which finding explains which), run after every check */
typedef struct {
    const char *cause_id, *effect_id;
    /* Mark `effect` as explained by `cause` (vet_finding_set_cause) when it is; 0 or VET_ENOMEM. */
    int (*explain)(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect);
} vet_relation;
extern const vet_relation vet_relations[];
extern const size_t vet_relations_len;
int vet_check_explain(const vet_ctx *ctx, vet_report *r);
int vet_explain_ca_replaced(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect);
int vet_explain_cert_copied(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect);
int vet_explain_identity(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect);

/* apis.c: removed/deprecated APIs and the apps/v1 selector rule (manifests) */
VET_CHECK_FN(vet_check_kv401);
VET_CHECK_FN(vet_check_kv402);
VET_CHECK_FN(vet_check_kv403);
VET_CHECK_FN(vet_check_kv404);

/* helm.c: Helm releases (ctx->helm) */
VET_CHECK_FN(vet_check_kv405);

/* etcd.c: live etcd facts (ctx->etcd) */
VET_CHECK_FN(vet_check_kv301);
VET_CHECK_FN(vet_check_kv302);
VET_CHECK_FN(vet_check_kv303);
VET_CHECK_FN(vet_check_kv304);
VET_CHECK_FN(vet_check_kv306);
VET_CHECK_FN(vet_check_kv503);
VET_CHECK_FN(vet_check_kv406); /* snapshot.c: stored objects (ctx->snapshot) */

/* api.c: the Kubernetes API facts (ctx->api), with the node's files where needed */
VET_CHECK_FN(vet_check_kv201);
VET_CHECK_FN(vet_check_kv202);
VET_CHECK_FN(vet_check_kv203);
VET_CHECK_FN(vet_check_kv204);
VET_CHECK_FN(vet_check_kv205);
VET_CHECK_FN(vet_check_kv206);
VET_CHECK_FN(vet_check_kv207);
VET_CHECK_FN(vet_check_kv208);
VET_CHECK_FN(vet_check_kv209);
VET_CHECK_FN(vet_check_kv502);
VET_CHECK_FN(vet_check_kv304_all); /* KV304 from etcd.c, plus members matching no master */

#endif
