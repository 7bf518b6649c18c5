/* The check table: one row per ID of CHECKS.md. IDs are stable; a row without a function is a
 * check that a later source will implement (the table still documents it for `kubevet help
 * checks`). */
#include <string.h>

#include "checks.h"
#include "error.h"
#include "kubevet/catalog.h"

#define N VET_SRC_NODE
#define F VET_SRC_FILES
#define A VET_SRC_API
#define E VET_SRC_ETCD
#define H VET_SRC_HELM
#define U VET_SRC_UPGRADE
#define C VET_SEV_CRITICAL
#define W VET_SEV_WARNING
#define I VET_SEV_INFO

const vet_check vet_checks[] = {
    {"KV101", "cert-expired", C, N | F, vet_check_kv101, "a certificate is past notAfter"},
    {"KV102", "cert-expiring", W, N | F, vet_check_kv102,
     "notAfter within --warn-within (critical under 7 days)"},
    {"KV103", "cert-not-yet-valid", C, N | F, vet_check_kv103,
     "notBefore is after the evaluation time"},
    {"KV104", "cert-chain-broken", C, N | F, vet_check_kv104,
     "a certificate does not verify against its CA"},
    {"KV105", "key-mismatch", C, N | F, vet_check_kv105,
     "a private key does not belong to its certificate"},
    {"KV106", "node-identity-mismatch", C, N, vet_check_kv106,
     "kubelet.conf authenticates as another node"},
    {"KV107", "apiserver-san-missing", C, N | A, vet_check_kv107,
     "the apiserver cert lacks a needed SAN"},
    {"KV108", "ca-drift", C, N | A, vet_check_kv108,
     "two places that must hold the same CA differ"},
    {"KV109", "ca-expiring", C, N | F, vet_check_kv109, "a CA expires within 365 days"},
    {"KV110", "kubelet-rotation-off", W, N, vet_check_kv110,
     "kubelet client certificate rotation is not in effect"},
    {"KV111", "weak-crypto", W, N | F, vet_check_kv111,
     "RSA under 2048 bits, or a SHA-1/MD5 signature"},
    {"KV112", "node-cert-copied", C, N, vet_check_kv112,
     "a per-node serving cert names another node, not this one"},
    {"KV201", "cri-socket-annotation-missing", C, A, vet_check_kv201,
     "a control-plane node lacks the cri-socket annotation"},
    {"KV202", "api-endpoint-missing", C, A, vet_check_kv202,
     "ClusterStatus.apiEndpoints lacks a control-plane node"},
    {"KV203", "control-plane-endpoint-unset", W, N | A, vet_check_kv203,
     "several control-plane nodes but no controlPlaneEndpoint"},
    {"KV204", "certsans-not-persisted", W, N | A, vet_check_kv204,
     "apiserver cert SANs missing from apiServer.certSANs"},
    {"KV205", "kubeconfig-server-bypasses-lb", W, N | A, vet_check_kv205,
     "a kubeconfig points at one apiserver despite an endpoint"},
    {"KV206", "cluster-info-server-mismatch", W, A, vet_check_kv206,
     "cluster-info server or CA differs"},
    {"KV207", "join-credentials-expired", W, A, vet_check_kv207,
     "kubeadm-certs Secret or bootstrap token expired"},
    {"KV208", "csr-pending", W, A, vet_check_kv208, "node CSRs are pending"},
    {"KV209", "csr-autoapprove-missing", W, A, vet_check_kv209,
     "no auto-approval bindings for node CSRs"},
    {"KV301", "etcd-quorum-risk", C, E | N, vet_check_kv301,
     "even size, unstarted member, or healthy voters below quorum"},
    {"KV302", "etcd-member-unhealthy", C, E, vet_check_kv302,
     "an endpoint fails /health or reports an alarm"},
    {"KV303", "etcd-initial-cluster-drift", W, N | E, vet_check_kv303,
     "--initial-cluster does not list the current members"},
    {"KV304", "etcd-stale-member", W, E | A, vet_check_kv304_all,
     "a member matches no control-plane node, or never started"},
    {"KV305", "etcd-backup-unverified", W, E, NULL,
     "no snapshot, or it fails its integrity check, or it is old"},
    {"KV306", "etcd-db-quota", W, E, vet_check_kv306,
     "NOSPACE alarm, or db size above 80% of the quota"},
    {"KV401", "api-removed", C, F | H | E, vet_check_kv401,
     "an object uses an apiVersion removed in the target"},
    {"KV402", "api-deprecated", W, F | H | E, vet_check_kv402,
     "an object uses an apiVersion deprecated in the target"},
    {"KV403", "selector-missing", C, F | H, vet_check_kv403,
     "an apps/v1 workload has no spec.selector"},
    {"KV404", "selector-mismatch", C, F | H, vet_check_kv404,
     "spec.selector does not match the template labels"},
    {"KV405", "helm-release-removed-api", C, H, vet_check_kv405,
     "a deployed Helm release holds a removed apiVersion"},
    {"KV406", "stored-version-outdated", W, E, vet_check_kv406,
     "objects stored in etcd at a version the target removes"},
    {"KV501", "upgrade-skips-minor", I, U, NULL, "the target is more than one minor away"},
    {"KV502", "version-skew", C, A | N, vet_check_kv502,
     "component versions outside the skew policy"},
    {"KV503", "etcd-version-unsupported", W, E, vet_check_kv503,
     "etcd older than the target Kubernetes expects"},
};

const size_t vet_checks_len = sizeof vet_checks / sizeof vet_checks[0];

const vet_check *vet_check_find(const char *id)
{
    /* every finding looks its check up (vet_check_emit), and findings come in runs of one ID:
     * the last answer first, per thread */
    static _Thread_local const vet_check *last;
    if (last && !strcmp(last->id, id))
        return last;
    for (size_t i = 0; i < vet_checks_len; i++)
        if (!strcmp(vet_checks[i].id, id))
            return last = &vet_checks[i];
    return NULL;
}

int vet_check_releases(const vet_releases **out, const vet_ctx *ctx)
{
    *out = ctx->releases ? ctx->releases : vet_releases_builtin();
    if (!*out)
        return vet_error_set(VET_EINPUT, "data/releases.yaml (built in) does not parse: rebuild");
    return 0;
}

vet_finding *vet_check_emit(vet_report *r, const char *id, const char *subject)
{
    const vet_check *c = vet_check_find(id);
    return vet_report_add(r, id, c ? c->name : "", c ? c->severity : VET_SEV_WARNING, subject);
}

/* Which finding explains which: one row per (cause, consequence) pair; the function decides for
 * one pair and marks the consequence (vet_finding_set_cause), so the report lists the cause first
 * and the consequence's fix points at it. Rows run in order; the first explanation wins. */
const vet_relation vet_relations[] = {
    {"KV108", "KV104", vet_explain_ca_replaced}, /* leaves of a replaced CA */
    {"KV108", "KV101", vet_explain_ca_replaced}, /* ... expired: renewing signs onto the new CA */
    {"KV108", "KV102", vet_explain_ca_replaced},
    {"KV108", "KV108", vet_explain_ca_replaced}, /* kubeconfigs still trusting the original */
    {"KV112", "KV107", vet_explain_cert_copied}, /* a copied apiserver cert lacks this node */
    {"KV112", "KV105", vet_explain_cert_copied}, /* ... copied without its key */
    {"KV106", "KV201", vet_explain_identity},    /* kubeadm acts as another node (incident 1) */
    {"KV106", "KV202", vet_explain_identity},
};
const size_t vet_relations_len = sizeof vet_relations / sizeof vet_relations[0];

int vet_check_run(const vet_ctx *ctx, vet_report *r, unsigned sources, const char *const *prefixes)
{
    int rc;
    for (size_t i = 0; i < vet_checks_len; i++) {
        const vet_check *c = &vet_checks[i];
        int match = !prefixes;
        if (!c->run || !(c->sources & sources))
            continue;
        for (size_t p = 0; prefixes && prefixes[p]; p++)
            if (!strncmp(c->id, prefixes[p], strlen(prefixes[p])))
                match = 1;
        if (!match)
            continue;
        if ((rc = c->run(ctx, r)) < 0)
            return rc;
    }
    if ((rc = vet_check_explain(ctx, r)) < 0)
        return rc;
    vet_report_sort(r);
    return 0;
}
