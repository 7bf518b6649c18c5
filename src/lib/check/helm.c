/* KV405: the revision Helm acts on (the highest deployed one) holds an apiVersion the target
 * removes, so `helm upgrade`, `rollback` and `status` fail once the cluster is upgraded (Helm
 * decodes the stored manifest against the live API). The object-level rules are KV401-KV404,
 * run over the release's manifest and hooks; their findings become the `objects` of the KV405. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/helm.h"

static const char *fstr(const vet_finding *f, const char *k)
{
    json_t *v = f->fields ? json_object_get(f->fields, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The object-level findings of one release, as a JSON array; *removed counts KV401. */
static int release_objects(json_t **out, const vet_ctx *ctx, const vet_helm_rel *rel,
                           size_t *removed, vet_buf *first)
{
    vet_ctx sub = *ctx;
    vet_report tmp;
    int rc;
    json_t *arr = NULL;
    static const char *const ids[] = {"KV401", "KV402", "KV403", "KV404"};
    *out = NULL;
    *removed = 0;
    sub.manifests = rel->scan;
    sub.helm = NULL;
    if ((rc = vet_report_init(&tmp, "helm", ctx->now)))
        return rc;
    if ((rc = vet_check_kv401(&sub, &tmp)) || (rc = vet_check_kv402(&sub, &tmp)) ||
        (rc = vet_check_kv403(&sub, &tmp)) || (rc = vet_check_kv404(&sub, &tmp)))
        goto done;
    if (!(arr = json_array())) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* in id order, then position: KV401 first */
    for (size_t k = 0; k < sizeof ids / sizeof *ids; k++)
        for (size_t i = 0; i < tmp.nfindings; i++) {
            const vet_finding *f = &tmp.findings[i];
            json_t *o;
            if (strcmp(f->id, ids[k]))
                continue;
            o = f->fields ? json_deep_copy(f->fields) : json_object();
            if (!o || json_object_set_new(o, "id", json_string(f->id)) ||
                json_object_set_new(o, "object", json_string(f->subject)) ||
                json_object_set_new(o, "message", json_string(f->message ? f->message : "")) ||
                json_array_append_new(arr, o)) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
            if (k == 0) { /* KV402-KV404 are detail: KV405 is about removed APIs */
                if (!*removed || first->size < 400)
                    vet_buf_printf(
                        first, "%s%s %s (%s line %lld)", *removed ? "; " : "", f->subject,
                        fstr(f, "api_version"), fstr(f, "file"),
                        (long long)json_integer_value(json_object_get(f->fields, "line")));
                (*removed)++;
            }
        }
    *out = arr;
    arr = NULL;
done:
    json_decref(arr);
    vet_report_free(&tmp);
    return rc;
}

VET_CHECK_FN(vet_check_kv405)
{
    const vet_helm_facts *h = ctx->helm;
    int rc = 0;
    if (!h || !ctx->catalog)
        return 0;
    for (size_t i = 0; i < h->nrels; i++) {
        const vet_helm_rel *rel = &h->rels[i];
        json_t *objs = NULL;
        size_t removed = 0;
        vet_buf what = VET_BUF_INIT;
        vet_finding *f;
        char *subj;
        if (!rel->scan)
            continue;
        if ((rc = release_objects(&objs, ctx, rel, &removed, &what)))
            return rc;
        if (!removed) {
            json_decref(objs);
            vet_buf_free(&what);
            continue;
        }
        subj = vet_helm_subject(rel);
        f = subj ? vet_check_emit(r, "KV405", subj) : NULL;
        free(subj);
        if (!f) {
            json_decref(objs);
            vet_buf_free(&what);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
        rc = vet_finding_message(
            f,
            "Helm %s revision %d of release %s holds %zu object(s) the target %s no longer "
            "accepts: %s. helm upgrade, rollback and status fail on this release once the "
            "cluster is upgraded.%s%s",
            rel->helm == 2 ? "2 (Tiller)" : "3", rel->acted_on, rel->name, removed,
            ctx->target ? ctx->target : "release", what.ptr ? what.ptr : "",
            rel->notes.n ? " Also: " : "", rel->notes.n ? rel->notes.v[0] : "");
        vet_buf_free(&what);
        if (!rc)
            rc = vet_finding_fix(
                f,
                "kubevet helm map %s -n %s%s%s --target %s (dry run; then "
                "--apply) before upgrading the cluster",
                rel->name, rel->namespace, rel->helm == 2 ? " --tiller-namespace " : "",
                rel->helm == 2 ? rel->storage_ns : "", ctx->target ? ctx->target : "<version>");
        if (!rc && !(rc = vet_finding_set_str(f, "release", rel->name)) &&
            !(rc = vet_finding_set_str(f, "namespace", rel->namespace)) &&
            !(rc = vet_finding_set_int(f, "revision", rel->acted_on)) &&
            !(rc = vet_finding_set_int(f, "helm", rel->helm)) &&
            !(rc = vet_finding_set_str(f, "storage",
                                       rel->driver == VET_HELM_SECRET ? "secret" : "configmap")) &&
            !(rc = vet_finding_set_str(f, "storage_namespace", rel->storage_ns))) {
            json_t *notes = json_array();
            for (size_t k = 0; notes && k < rel->notes.n; k++)
                json_array_append_new(notes, json_string(rel->notes.v[k]));
            if (!notes || json_object_set_new(f->fields, "notes", notes) ||
                json_object_set_new(f->fields, "objects", objs))
                rc = vet_error_set(VET_ENOMEM, "out of memory");
            objs = NULL;
        }
        json_decref(objs);
        if (rc)
            return rc;
    }
    return 0;
}
