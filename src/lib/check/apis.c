/* KV401-KV404: removed/deprecated apiVersions and the apps/v1 selector rule, judged from the facts
 * the manifest scan gathered (ctx->manifests) against the API catalog (ctx->catalog) and the
 * target release (ctx->target, default: the newest release the catalog knows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/manifest.h"

/* Finding text must be valid UTF-8 for JSON; manifests are not always (Latin-1 comments, binary
 * garbage in a template). Invalid bytes become '?'. */
static char *clean(const char *s)
{
    size_t n = strlen(s), i = 0, o = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        size_t k;
        for (k = 1; len && k < len; k++)
            if (i + k >= n || ((unsigned char)s[i + k] & 0xC0) != 0x80)
                len = 0;
        if (!len || (len == 1 && c < 0x20 && c != '\t')) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, s + i, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    return out;
}

/* Nearly every string is printable ASCII already: no copy then (a scan sets ten per finding). */
static int plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

static int set_str(vet_finding *f, const char *key, const char *val)
{
    char *c;
    int rc;
    if (!val || plain(val))
        return vet_finding_set_str(f, key, val);
    if (!(c = clean(val)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    rc = vet_finding_set_str(f, key, c);
    free(c);
    return rc;
}

static char *subject_of(const vet_manifest_obj *o)
{
    char *s, *c;
    const char *kind = o->kind ? o->kind : "?";
    if (o->name && *o->name && o->namespace && *o->namespace)
        s = vet_strdupf("%s/%s/%s", kind, o->namespace, o->name);
    else if (o->name && *o->name)
        s = vet_strdupf("%s/%s", kind, o->name);
    else
        s = vet_strdupf("%s (%s:%u)", kind, o->file, o->line); /* unnamed: where it is */
    if (!s || plain(s))
        return s;
    c = clean(s);
    free(s);
    return c;
}

static const char *source_name(vet_mf_source s)
{
    switch (s) {
    case VET_MF_JSON:
        return "json";
    case VET_MF_TEMPLATE:
        return "template";
    case VET_MF_UNPARSEABLE:
        return "unparseable";
    default:
        return "yaml";
    }
}

static int target_of(const vet_ctx *ctx, vet_version *out)
{
    const char *t = ctx->target ? ctx->target : vet_catalog_newest(ctx->catalog);
    return vet_version_parse(out, t);
}

static int common_fields(vet_finding *f, const vet_manifest_obj *o, const vet_api *a, unsigned line)
{
    int rc;
    if ((rc = set_str(f, "file", o->file)) || (rc = vet_finding_set_int(f, "line", line)) ||
        (rc = set_str(f, "api_version", o->api_version ? o->api_version : "")) ||
        (rc = set_str(f, "kind", o->kind ? o->kind : "")) ||
        (rc = set_str(f, "object_name", o->name ? o->name : "")) ||
        (rc = set_str(f, "namespace", o->namespace ? o->namespace : "")) ||
        (rc = set_str(f, "replacement", a ? a->replacement : "")) ||
        (rc = set_str(f, "deprecated_in", a ? a->deprecated_in : "")) ||
        (rc = set_str(f, "removed_in", a ? a->removed_in : "")) ||
        (rc = set_str(f, "source", source_name(o->source))))
        return rc;
    if (o->list_kind && (rc = set_str(f, "list_kind", o->list_kind)))
        return rc;
    return 0;
}

static const char *where_note(const vet_manifest_obj *o)
{
    if (o->source == VET_MF_TEMPLATE)
        return " (read from a template: values come from the chart source, not a rendering)";
    if (o->source == VET_MF_UNPARSEABLE)
        return " (the document is not valid YAML: apiVersion/kind were read from the raw text)";
    return "";
}

/* The catalog row that judges o: its own, or for a template's apiVersion switch the least removed
 * alternative (one the catalog does not list is served: the switch then renders a served
 * version on a target cluster, so the old branch is dead text, not a finding). */
static const vet_api *best_alternative(const vet_ctx *ctx, const vet_manifest_obj *o,
                                       const vet_version *target)
{
    const vet_api *best = vet_catalog_lookup(ctx->catalog, o->api_version, o->kind);
    const char *p = o->api_alternatives;
    if (!p || !best || !o->kind)
        return best;
    while (*p) {
        size_t n = strcspn(p, " ");
        const vet_api *a = vet_catalog_lookupn(ctx->catalog, p, n, o->kind, strlen(o->kind));
        if (!a)
            return NULL;
        if (vet_api_status_at(a, target) < vet_api_status_at(best, target))
            best = a;
        p += n;
        p += strspn(p, " ");
    }
    return best;
}

static int api_check(const vet_ctx *ctx, vet_report *r, vet_api_status want, const char *id)
{
    vet_version target;
    char tv[32];
    int rc;
    /* findings come in runs of one catalog row: its convert rule is looked up once per run */
    const vet_api *last = NULL;
    int convertible = 0;
    if (!ctx->manifests || !ctx->catalog)
        return 0;
    if ((rc = target_of(ctx, &target)))
        return rc;
    vet_version_minor_str(tv, sizeof tv, &target);
    for (size_t i = 0, n = vet_manifest_scan_count(ctx->manifests); i < n; i++) {
        const vet_manifest_obj *o = vet_manifest_scan_obj(ctx->manifests, i);
        const vet_api *a = best_alternative(ctx, o, &target);
        vet_finding *f;
        char *subj;
        int is_kubeadm, is_apiserver;
        if (!a || vet_api_status_at(a, &target) != want)
            continue;
        is_kubeadm = !strcmp(a->component, "kubeadm");
        is_apiserver = !strcmp(a->component, "kube-apiserver");
        if (!(subj = subject_of(o)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        f = vet_check_emit(r, id, subj);
        free(subj);
        if (!f)
            return vet_error_set(VET_ENOMEM, "out of memory");
        if (want == VET_API_REMOVED && (is_kubeadm || is_apiserver))
            /* configuration files, not API objects: the program stops reading them */
            rc = vet_finding_message(f, "%s %s is no longer read by %s %s (target %s)%s%s%s%s.",
                                     a->api_version, a->kind,
                                     is_kubeadm ? "kubeadm" : "kube-apiserver", a->removed_in, tv,
                                     is_apiserver ? ": kube-apiserver does not start with it" : "",
                                     a->has_dep ? "; deprecated since " : "",
                                     a->has_dep ? a->deprecated_in : "", where_note(o));
        else if (want == VET_API_REMOVED)
            rc = vet_finding_message(
                f, "%s %s is no longer served as of Kubernetes %s (target %s)%s%s%s.",
                a->api_version, a->kind, a->removed_in, tv, a->has_dep ? "; deprecated since " : "",
                a->has_dep ? a->deprecated_in : "", where_note(o));
        else
            rc = vet_finding_message(
                f, "%s %s is deprecated since Kubernetes %s%s%s (target %s)%s.", a->api_version,
                a->kind, a->deprecated_in, a->has_rem ? " and removed in " : "",
                a->has_rem ? a->removed_in : "", tv, where_note(o));
        if (rc)
            return rc;
        if (!strcmp(a->replacement, "none"))
            rc = vet_finding_fix(f,
                                 "no replacement API%s%s; remove the object from %s:%u or migrate "
                                 "to the successor mechanism",
                                 *a->note ? ": " : "", a->note, o->file, o->line);
        else if (is_kubeadm)
            /* kubeadm reads its own config versions; only a kubeadm that reads both the old
             * and the new one can migrate the file (kubeadm config migrate). */
            rc = vet_finding_fix(f,
                                 "migrate %s to %s with `kubeadm config migrate --old-config %s "
                                 "--new-config <new-file>` run by a kubeadm %s%s that reads both "
                                 "versions, then use <new-file>",
                                 o->file, a->replacement, o->file, a->has_rem ? "older than " : "",
                                 a->has_rem ? a->removed_in : "release");
        else {
            if (a != last) {
                last = a;
                convertible =
                    vet_convert_replacement(a->api_version, a->kind, tv, ctx->catalog) != NULL;
            }
            rc = vet_finding_fix(f, "use %s%s%s in %s:%u%s", a->replacement,
                                 *a->replacement_available_in ? ", served since " : "",
                                 a->replacement_available_in, o->file, o->line,
                                 convertible ? " (kubevet apis convert rewrites it)" : "");
        }
        if (rc || (rc = common_fields(f, o, a, o->line)))
            return rc;
    }
    return 0;
}

static int half_converted(const vet_ctx *ctx, vet_report *r);

VET_CHECK_FN(vet_check_kv401)
{
    int rc = api_check(ctx, r, VET_API_REMOVED, "KV401");
    return rc ? rc : half_converted(ctx, r);
}

VET_CHECK_FN(vet_check_kv402)
{
    return api_check(ctx, r, VET_API_DEPRECATED, "KV402");
}

/* apps/v1 itself, or a group/version whose catalog replacement is apps/v1 (extensions/v1beta1,
 * apps/v1beta1, apps/v1beta2): the object must carry a valid apps/v1 selector once converted. */
static int becomes_apps_v1(const vet_ctx *ctx, const vet_manifest_obj *o, const vet_api **a)
{
    *a = vet_catalog_lookup(ctx->catalog, o->api_version, o->kind);
    if (o->api_version && !strcmp(o->api_version, "apps/v1"))
        return 1;
    return *a && !strncmp((*a)->replacement, "apps/v1", 7) &&
           ((*a)->replacement[7] == '\0' || (*a)->replacement[7] == ' ');
}

static int selector_check(const vet_ctx *ctx, vet_report *r, int mismatch, const char *id)
{
    int rc;
    if (!ctx->manifests)
        return 0;
    for (size_t i = 0, n = vet_manifest_scan_count(ctx->manifests); i < n; i++) {
        const vet_manifest_obj *o = vet_manifest_scan_obj(ctx->manifests, i);
        const vet_api *a;
        vet_finding *f;
        char *subj;
        int hit = mismatch ? o->selector == VET_SEL_MISMATCH
                           : (o->selector == VET_SEL_MISSING || o->selector == VET_SEL_EMPTY);
        if (!hit || !becomes_apps_v1(ctx, o, &a))
            continue;
        if (!(subj = subject_of(o)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        f = vet_check_emit(r, id, subj);
        free(subj);
        if (!f)
            return vet_error_set(VET_ENOMEM, "out of memory");
        if (mismatch)
            rc = vet_finding_message(
                f,
                "%s %s: spec.selector does not select the pod template (%s); apps/v1 rejects "
                "it (\"selector does not match template labels\")%s.",
                o->api_version, o->kind, o->selector_detail ? o->selector_detail : "mismatch",
                where_note(o));
        else
            rc = vet_finding_message(
                f,
                "%s %s has %s spec.selector; apps/v1 requires one (older versions defaulted it "
                "to the template labels), so conversion, upgrade or rollback fails%s.",
                o->api_version, o->kind, o->selector == VET_SEL_EMPTY ? "an empty" : "no",
                where_note(o));
        if (rc)
            return rc;
        rc = vet_finding_fix(f,
                             "set spec.selector.matchLabels in %s:%u to the labels the live object "
                             "selects on (kubectl get %s %s -o jsonpath='{.spec.selector}'): the "
                             "selector is immutable, so it must equal the live one and be a "
                             "subset of spec.template.metadata.labels",
                             o->file, o->selector_line, o->kind ? o->kind : "",
                             o->name ? o->name : "NAME");
        if (rc || (rc = common_fields(f, o, a, o->selector_line)))
            return rc;
        if ((rc = set_str(f, "detail",
                          mismatch ? (o->selector_detail ? o->selector_detail : "mismatch")
                          : o->selector == VET_SEL_EMPTY ? "empty spec.selector"
                                                         : "no spec.selector")))
            return rc;
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv403)
{
    return selector_check(ctx, r, 0, "KV403");
}

VET_CHECK_FN(vet_check_kv404)
{
    return selector_check(ctx, r, 1, "KV404");
}

/* The other half of KV401: the object's own apiVersion rejects fields it has (the scan says
 * which), typically an apiVersion line bumped by hand or by a tool with the body left in the
 * removed version's shape. It breaks at the target exactly as a removed apiVersion does, so it is
 * KV401 (CHECKS.md's IDs are a contract: no new ID for it), with a "detail" field saying which. */
static int half_converted(const vet_ctx *ctx, vet_report *r)
{
    int rc;
    if (!ctx->manifests)
        return 0;
    for (size_t i = 0, n = vet_manifest_scan_count(ctx->manifests); i < n; i++) {
        const vet_manifest_obj *o = vet_manifest_scan_obj(ctx->manifests, i);
        vet_finding *f;
        char *subj;
        if (!o->invalid_detail)
            continue;
        if (!(subj = subject_of(o)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        f = vet_check_emit(r, "KV401", subj);
        free(subj);
        if (!f)
            return vet_error_set(VET_ENOMEM, "out of memory");
        if ((rc = vet_finding_message(
                 f, "%s %s is not valid at %s: %s; kube-apiserver rejects it%s.", o->api_version,
                 o->kind, o->api_version, o->invalid_detail, where_note(o))) ||
            (rc =
                 vet_finding_fix(f,
                                 "rewrite the object in %s:%u to the %s shape (the apiVersion line "
                                 "alone does not convert it); re-run kubevet apis scan",
                                 o->file, o->invalid_line, o->api_version)) ||
            (rc = common_fields(f, o, NULL, o->invalid_line)) ||
            (rc = set_str(f, "detail", o->invalid_detail)))
            return rc;
    }
    return 0;
}
