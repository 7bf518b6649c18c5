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

static int emit(vet_report *r, const vet_snapshot_stored *st, const vet_api *a, const char *target)
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
        (rc = vet_finding_fix(f,
                              "before upgrading, rewrite them at the current storage version: "
                              "'kubectl get %s --all-namespaces -o json | kubectl replace -f -' "
                              "(or run kube-storage-version-migrator), then take a new snapshot "
                              "and re-run 'kubevet etcd snapshot objects'",
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
        if ((rc = emit(r, st, a, t)))
            return rc;
    }
    return 0;
}
