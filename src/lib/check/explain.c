/* Relations between findings: after every check ran, each row of vet_relations[] (registry.c)
 * looks at its (cause, consequence) pairs and marks the consequences it explains. The report
 * then lists causes first, and a consequence's fix points at its cause. */
#include <string.h>

#include "checks.h"
#include "error.h"
#include "kubevet/node.h"

static const char *field(const vet_finding *f, const char *key)
{
    const char *s = f->fields ? json_string_value(json_object_get(f->fields, key)) : NULL;
    return s ? s : "";
}

int vet_check_explain(const vet_ctx *ctx, vet_report *r)
{
    for (size_t k = 0; k < vet_relations_len; k++) {
        const vet_relation *rel = &vet_relations[k];
        for (size_t c = 0; c < r->nfindings; c++) {
            if (strcmp(r->findings[c].id, rel->cause_id))
                continue;
            for (size_t e = 0; e < r->nfindings; e++) {
                int rc;
                if (e == c || r->findings[e].cause || strcmp(r->findings[e].id, rel->effect_id))
                    continue;
                if ((rc = rel->explain(ctx, &r->findings[c], &r->findings[e])) < 0)
                    return rc;
            }
        }
    }
    return 0;
}

/* The DN of the CA certificate a finding's subject names ("etc/kubernetes/pki/ca.crt"). */
static const char *ca_dn(const vet_ctx *ctx, const char *subject)
{
    for (size_t i = 0; ctx->node && i < ctx->node->certs.n; i++)
        if (!strcmp(ctx->node->certs.v[i].subject, subject) && !ctx->node->certs.v[i].index)
            return vet_cert_subject(ctx->node->certs.v[i].cert);
    return NULL;
}

/* A CA replaced by a new one with the same name explains every certificate of the old one that no
 * longer verifies (KV104, and its expiry findings: renewing them now signs onto the wrong CA), and
 * every kubeconfig that still trusts a CA of that name (it holds the original). */
int vet_explain_ca_replaced(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect)
{
    const char *dn;
    int rc;
    if (strcmp(field(cause, "kind"), "ca-replaced"))
        return 0;
    if (!strcmp(effect->id, "KV108")) {
        if (strcmp(field(effect, "kind"), "kubeconfig-ca") || !(dn = ca_dn(ctx, cause->subject)) ||
            strcmp(field(effect, "trusted_ca"), dn))
            return 0;
        rc = vet_finding_set_cause(effect, cause,
                                   "nothing to change in this kubeconfig: it still trusts the "
                                   "original CA, which the fix of %s %s puts back",
                                   cause->id, cause->subject);
    } else {
        if (strcmp(field(effect, "ca"), cause->subject))
            return 0;
        rc = vet_finding_set_cause(
            effect, cause,
            "do not re-issue it from the new %s (every other node and client trusts the original): "
            "restore the original CA first (fix of %s %s); this certificate verifies again then%s",
            cause->subject, cause->id, cause->subject,
            strcmp(effect->id, "KV104") ? ", and renew it afterwards" : "");
    }
    return rc < 0 ? rc : 0;
}

/* A per-node certificate copied from another master lacks this node's names (KV107): its re-issue
 * for this node adds them, and certSANs must not keep the other node's identity. Copied without
 * its key, it does not match this node's key (KV105): the same re-issue makes a new pair. */
int vet_explain_cert_copied(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect)
{
    int rc;
    (void)ctx;
    if (strcmp(cause->subject, effect->subject))
        return 0;
    rc = vet_finding_set_cause(effect, cause,
                               !strcmp(effect->id, "KV107")
                                   ? "re-issue the certificate for this node (fix of %s %s) "
                                     "instead of adding names to a copy of another node's "
                                     "certificate"
                                   : "re-issue certificate and key for this node (fix of %s %s); "
                                     "do not look for the key of another node's certificate",
                               cause->id, cause->subject);
    return rc < 0 ? rc : 0;
}

/* kubeadm takes the node name from kubelet.conf's certificate (FORMATS.md): on a node that
 * carries another node's identity, upgrade and join look up the annotation and the apiEndpoint
 * of the wrong Node, so a missing annotation or endpoint is a symptom until the identity is
 * fixed (incident 1: annotating by hand only moved the failure to the next step). */
int vet_explain_identity(const vet_ctx *ctx, const vet_finding *cause, vet_finding *effect)
{
    size_t n = strlen(cause->subject);
    int rc;
    (void)ctx;
    if (n < 12 || strcmp(cause->subject + n - 12, "kubelet.conf"))
        return 0;
    rc = vet_finding_set_cause(effect, cause,
                               "fix this node's identity first (fix of %s %s), then run the "
                               "check again: kubeadm on this node acts as another node, so "
                               "annotating Nodes or editing ClusterStatus by hand only moves "
                               "the failure",
                               cause->id, cause->subject);
    return rc < 0 ? rc : 0;
}
