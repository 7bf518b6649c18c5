/* KV406: objects that an etcd snapshot stores at an apiVersion the target release no longer
 * serves, judged from the snapshot facts (ctx->snapshot) against the API catalog (ctx->catalog)
 * and the target (ctx->target, default: the newest release the catalog knows).
 *
 * kube-apiserver decodes a stored object with the codec of the version it was written at and
 * rewrites it at the current storage version only when the object is updated. Once a release
 * drops that version, objects nobody touched since cannot be read: they must be rewritten
 * (storage migration) before the upgrade. Nothing here reads the snapshot file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/snapshot.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")

static int emit(vet_report *r, const vet_snapshot_stored *st, const vet_api *a, const char *target,
                int no_successor)
{
    vet_buf ex = VET_BUF_INIT;
    vet_finding *f;
    json_t *exs = NULL;
    char *subject = NULL;
    long long n = (long long)st->count;
    int rc = 0;

    if (!(subject = vet_strdupf("%s (%s %s)", st->resource, st->api_version, st->kind)) ||
        !(f = vet_check_emit(r, "KV406", subject)) || !(exs = json_array())) {
        rc = OOM();
        goto done;
    }
    for (size_t j = 0; j < st->nexamples; j++) {
        vet_buf_printf(&ex, "%s%s", j ? ", " : "", st->examples[j]);
        if (json_array_append_new(exs, json_string(st->examples[j]))) {
            rc = OOM();
            goto done;
        }
    }
    if ((rc =
             vet_finding_message(f,
                                 "%lld %s object%s %s stored in etcd as %s %s, which Kubernetes "
                                 "%s no longer serves (target %s): e.g. %s%s",
                                 n, st->resource, n == 1 ? "" : "s", n == 1 ? "is" : "are",
                                 st->api_version, st->kind, a->removed_in, target,
                                 ex.ptr ? ex.ptr : "", st->count > st->nexamples ? ", ..." : "")) ||
        (rc =
             no_successor
                 ? vet_finding_fix(
                       f,
                       "no newer version of %s exists, so rewriting cannot help: %s%s"
                       "move to its successor before upgrading, then delete the "
                       "objects:\n  kubectl delete %s --all --all-namespaces%s\nthen take a new "
                       "snapshot and re-run 'kubevet etcd snapshot objects'",
                       st->kind, *a->note ? a->note : "", *a->note ? "; " : "", st->resource,
                       st->kind && !strcmp(st->kind, "PodSecurityPolicy")
                           ? "\n(PodSecurityPolicy: label each namespace with "
                             "pod-security.kubernetes.io/enforce=<level> for Pod "
                             "Security Admission first, and remove PodSecurityPolicy "
                             "from the apiserver's --enable-admission-plugins; "
                             "<level>: privileged, baseline or restricted)"
                           : "")
                 : vet_finding_fix(f,
                                   "before upgrading, rewrite them at the current storage version: "
                                   "'kubectl get %s --all-namespaces -o json | kubectl replace -f "
                                   "-' (or run kube-storage-version-migrator), then take a new "
                                   "snapshot and re-run 'kubevet etcd snapshot objects'",
                                   st->resource)) ||
        (rc = vet_finding_set_str(f, "resource", st->resource)) ||
        (rc = vet_finding_set_str(f, "api_version", st->api_version)) ||
        (rc = vet_finding_set_str(f, "kind", st->kind)) ||
        (rc = vet_finding_set_str(f, "removed_in", a->removed_in)) ||
        (rc = vet_finding_set_int(f, "count", n)))
        goto done;
    /* fields exists now (set above) */
    if (json_object_set_new(f->fields, "examples", exs)) {
        exs = NULL;
        rc = OOM();
        goto done;
    }
    exs = NULL;
    if (!ex.ptr && st->nexamples)
        rc = OOM();
done:
    json_decref(exs);
    vet_buf_free(&ex);
    free(subject);
    return rc;
}

/* A removed version whose replacement is "none", or is itself removed at the target
 * (extensions/v1beta1 PodSecurityPolicy -> policy/v1beta1, gone in 1.25): a storage rewrite has
 * nothing to rewrite to. */
static int no_successor(const vet_ctx *ctx, const vet_api *a, const char *kind,
                        const vet_version *target)
{
    char gv[128], k[128] = "";
    const vet_api *next;
    if (!strcmp(a->replacement, "none") || !*a->replacement)
        return 1;
    if (sscanf(a->replacement, "%127s %127s", gv, k) < 1)
        return 0;
    next = vet_catalog_lookup(ctx->catalog, gv, *k ? k : kind);
    return next && vet_api_status_at(next, target) == VET_API_REMOVED &&
           (!strcmp(next->replacement, "none") || !*next->replacement);
}

VET_CHECK_FN(vet_check_kv406)
{
    const vet_snapshot_facts *sf = ctx->snapshot;
    const char *t;
    vet_version target;
    int rc;

    if (!sf || !ctx->catalog)
        return 0;
    t = ctx->target ? ctx->target : vet_catalog_newest(ctx->catalog);
    if ((rc = vet_version_parse(&target, t)))
        return rc;
    for (size_t i = 0; i < sf->nstored; i++) {
        const vet_snapshot_stored *st = &sf->stored[i];
        const vet_api *a;
        /* encrypted values: the stored version cannot be read without the key */
        if (!*st->api_version || !*st->kind)
            continue;
        a = vet_catalog_lookup(ctx->catalog, st->api_version, st->kind);
        if (!a || vet_api_status_at(a, &target) != VET_API_REMOVED)
            continue;
        if ((rc = emit(r, st, a, t, no_successor(ctx, a, st->kind, &target))))
            return rc;
    }
    return 0;
}
