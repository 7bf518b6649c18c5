/* The releases of a cluster: every Helm record, grouped by release, and the revision Helm acts
 * on decoded and scanned. Records arrive one at a time (a LIST page, a snapshot key) and only
 * the ones marked deployed are decoded; a release keeps the manifest facts of its highest
 * deployed revision only, so memory follows the number of releases, not their size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "hash.h"
#include "helm_gather.h"
#include "kubevet/catalog.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"
#include "kubevet/manifest.h"

void vet_helm_facts_free(vet_helm_facts *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nrels; i++) {
        vet_helm_rel *r = &f->rels[i];
        free(r->name);
        free(r->namespace);
        free(r->storage_ns);
        free(r->latest_status);
        free(r->encrypted);
        free(r->error);
        vet_strv_free(&r->notes);
        vet_manifest_scan_free(r->scan);
    }
    free(f->rels);
    vet_strv_free(&f->errors);
    free(f);
}

char *vet_helm_subject(const vet_helm_rel *r)
{
    return vet_strdupf("release %s (namespace %s, revision %d, helm v%d)", r->name,
                       r->namespace && *r->namespace ? r->namespace : r->storage_ns,
                       r->acted_on ? r->acted_on : r->latest, r->helm);
}

/* ---- the accumulator ---- */

int helm_acc_init(helm_acc *a, const vet_helm_opts *o)
{
    memset(a, 0, sizeof *a);
    if (o)
        a->o = *o;
    if (!a->o.v2 && !a->o.v3)
        a->o.v2 = a->o.v3 = 1;
    if (!a->o.tiller_ns)
        a->o.tiller_ns = "kube-system";
    if (!(a->f = calloc(1, sizeof *a->f)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

static uint64_t key_hash(int helm, const char *ns, const char *name)
{
    uint64_t h = vet_fnv1a(VET_FNV1A_INIT, &helm, sizeof helm);
    h = vet_fnv1a(h, ns, strlen(ns) + 1);
    return vet_fnv1a(h, name, strlen(name));
}

static int rehash(helm_acc *a)
{
    size_t n = a->tcap ? a->tcap * 2 : 256;
    size_t *t = malloc(n * sizeof *t);
    if (!t)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        t[i] = (size_t)-1;
    for (size_t i = 0; i < a->f->nrels; i++) {
        vet_helm_rel *r = &a->f->rels[i];
        size_t k = (size_t)key_hash(r->helm, r->storage_ns, r->name) & (n - 1);
        while (t[k] != (size_t)-1)
            k = (k + 1) & (n - 1);
        t[k] = i;
    }
    free(a->table);
    a->table = t;
    a->tcap = n;
    return 0;
}

static int find_rel(vet_helm_rel **out, helm_acc *a, int helm, const char *storage_ns,
                    const char *name, vet_helm_driver driver)
{
    size_t k;
    vet_helm_rel *r;
    if ((a->f->nrels + 1) * 2 > a->tcap && rehash(a))
        return VET_ENOMEM;
    k = (size_t)key_hash(helm, storage_ns, name) & (a->tcap - 1);
    while (a->table[k] != (size_t)-1) {
        r = &a->f->rels[a->table[k]];
        if (r->helm == helm && !strcmp(r->storage_ns, storage_ns) && !strcmp(r->name, name)) {
            *out = r;
            return 0;
        }
        k = (k + 1) & (a->tcap - 1);
    }
    if (a->f->nrels == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        vet_helm_rel *nr = realloc(a->f->rels, nc * sizeof *nr);
        if (!nr)
            return vet_error_set(VET_ENOMEM, "out of memory");
        a->f->rels = nr;
        a->cap = nc;
    }
    r = &a->f->rels[a->f->nrels];
    memset(r, 0, sizeof *r);
    r->helm = helm;
    r->driver = driver;
    if (!(r->name = strdup(name)) || !(r->storage_ns = strdup(storage_ns))) {
        free(r->name);
        free(r->storage_ns);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    a->table[k] = a->f->nrels++;
    *out = r;
    return 0;
}

/* Any object deprecated or removed at the target, or a workload selector apps/v1 rejects. */
static int needs_attention(const vet_manifest_scan *s, const vet_helm_opts *o)
{
    vet_version tv;
    if (vet_version_parse(&tv, o->target))
        return 1;
    for (size_t i = 0, n = vet_manifest_scan_count(s); i < n; i++) {
        const vet_manifest_obj *ob = vet_manifest_scan_obj(s, i);
        const vet_api *a = vet_catalog_lookup(o->catalog, ob->api_version, ob->kind);
        if (a && vet_api_status_at(a, &tv) != VET_API_SERVED)
            return 1;
        if (ob->selector != VET_SEL_NA && ob->selector != VET_SEL_OK)
            return 1;
    }
    return 0;
}

static int scan_release(vet_helm_rel *r, const vet_helm_release *d, const vet_helm_opts *o)
{
    vet_manifest_opts mo;
    vet_manifest_scan *s = NULL;
    int rc;
    memset(&mo, 0, sizeof mo);
    mo.catalog = o->catalog;
    mo.threads = 1;
    if ((rc = vet_manifest_scan_new(&s, &mo)))
        return rc;
    if ((rc = vet_manifest_scan_buffer(s, "manifest", (const unsigned char *)d->manifest,
                                       d->manifest_len)))
        goto done;
    for (size_t i = 0; i < d->nhooks; i++) {
        char *nm = vet_strdupf("hook %s", *d->hooks[i].path ? d->hooks[i].path : d->hooks[i].name);
        if (!nm) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        rc = vet_manifest_scan_buffer(s, nm, (const unsigned char *)d->hooks[i].manifest,
                                      strlen(d->hooks[i].manifest));
        free(nm);
        if (rc)
            goto done;
    }
    vet_manifest_scan_free(r->scan);
    r->scan = NULL;
    r->manifest_bytes = d->manifest_len;
    if (o->target && o->catalog && !needs_attention(s, o))
        goto done; /* nothing any check would report: do not keep it */
    r->scan = s;
    s = NULL;
done:
    vet_manifest_scan_free(s);
    return rc;
}

static int set_str(char **dst, const char *s)
{
    char *c = strdup(s ? s : "");
    if (!c)
        return vet_error_set(VET_ENOMEM, "out of memory");
    free(*dst);
    *dst = c;
    return 0;
}

int helm_acc_add(helm_acc *a, const helm_record *rec, helm_decode_fn decode, void *ud)
{
    vet_helm_rel *r = NULL;
    vet_helm_release *d = NULL;
    int rc;
    a->f->records++;
    if ((rc = find_rel(&r, a, rec->helm, rec->storage_ns, rec->name, rec->driver)))
        return rc;
    if (rec->revision > r->latest) {
        r->latest = rec->revision;
        if ((rc = set_str(&r->latest_status, rec->status)))
            return rc;
    }
    if (rec->encrypted) {
        /* the status is inside the ciphertext: the release cannot be judged, only named */
        return r->encrypted ? 0 : set_str(&r->encrypted, rec->encrypted);
    }
    if (strcmp(rec->status, "deployed"))
        return 0;
    r->ndeployed++;
    {
        /* remember every deployed revision number for the note (a few suffice) */
        char num[16];
        snprintf(num, sizeof num, "%d", rec->revision);
        if (r->notes.n < HELM_MAX_DEPLOYED && (rc = vet_strv_push(&r->notes, num)))
            return rc;
    }
    if (rec->revision <= r->acted_on)
        return 0;
    r->acted_on = rec->revision;
    free(r->error);
    r->error = NULL;
    vet_manifest_scan_free(r->scan);
    r->scan = NULL;
    rc = decode(&d, ud);
    if (rc == VET_ENOMEM)
        return rc;
    if (rc) {
        char *e = vet_strdupf("%s/%s: %s", rec->storage_ns, rec->record, vet_error_last());
        if (!e)
            return vet_error_set(VET_ENOMEM, "out of memory");
        r->error = e;
        return 0;
    }
    a->f->decoded++;
    if (d->helm == 2 || !r->namespace) {
        if ((rc = set_str(&r->namespace, *d->namespace ? d->namespace : rec->storage_ns)))
            goto done;
    }
    rc = scan_release(r, d, &a->o);
done:
    vet_helm_release_free(d);
    return rc;
}

static void take_str(char **dst, char **src)
{
    free(*dst);
    *dst = *src;
    *src = NULL;
}

int helm_acc_merge(helm_acc *a, helm_acc *src)
{
    int rc = 0;
    a->f->records += src->f->records;
    a->f->decoded += src->f->decoded;
    for (size_t i = 0; i < src->f->nrels; i++) {
        vet_helm_rel *s = &src->f->rels[i], *r;
        size_t had = a->f->nrels;
        int newer;
        if ((rc = find_rel(&r, a, s->helm, s->storage_ns, s->name, s->driver)))
            goto done;
        if (a->f->nrels > had) { /* a new release: taken whole (same name and storage_ns) */
            free(r->name);
            free(r->storage_ns);
            *r = *s;
            memset(s, 0, sizeof *s);
            continue;
        }
        /* what helm_acc_add would have made of src's records arriving after a's */
        if (s->latest > r->latest) {
            r->latest = s->latest;
            take_str(&r->latest_status, &s->latest_status);
        }
        if (!r->encrypted && s->encrypted)
            take_str(&r->encrypted, &s->encrypted);
        r->ndeployed += s->ndeployed;
        for (size_t k = 0; k < s->notes.n && r->notes.n < HELM_MAX_DEPLOYED; k++)
            if ((rc = vet_strv_push(&r->notes, s->notes.v[k])))
                goto done;
        newer = s->acted_on > r->acted_on;
        if (newer) {
            vet_manifest_scan *scan = r->scan;
            r->acted_on = s->acted_on;
            take_str(&r->error, &s->error);
            r->scan = s->scan;
            s->scan = scan;
            r->manifest_bytes = s->manifest_bytes;
        }
        /* v2 takes the namespace from the acted-on record, v3 from the first decoded */
        if (s->namespace && (!r->namespace || (newer && s->helm == 2)))
            take_str(&r->namespace, &s->namespace);
    }
done:
    helm_acc_free(src);
    return rc;
}

static int cmp_rel(const void *pa, const void *pb)
{
    const vet_helm_rel *x = pa, *y = pb;
    int c;
    if (x->helm != y->helm)
        return x->helm < y->helm ? -1 : 1;
    if ((c = strcmp(x->namespace, y->namespace)))
        return c;
    if ((c = strcmp(x->name, y->name)))
        return c;
    return strcmp(x->storage_ns, y->storage_ns);
}

/* Turn the deployed revision numbers collected in notes into the sentences an operator reads,
 * drop v2 releases of other namespaces (-n), and sort. */
int helm_acc_finish(vet_helm_facts **out, helm_acc *a)
{
    size_t keep = 0;
    int rc = 0;
    for (size_t i = 0; i < a->f->nrels; i++) {
        vet_helm_rel *r = &a->f->rels[i];
        vet_strv nums = r->notes;
        vet_buf b = VET_BUF_INIT;
        memset(&r->notes, 0, sizeof r->notes);
        if (!r->namespace && (rc = set_str(&r->namespace, r->storage_ns))) {
            vet_strv_free(&nums);
            goto done;
        }
        if (r->ndeployed > 1) {
            vet_buf_printf(&b, "%d revisions are marked deployed (", r->ndeployed);
            for (size_t k = 0; k < nums.n; k++)
                vet_buf_printf(&b, "%s%s", k ? ", " : "", nums.v[k]);
            vet_buf_printf(&b, "%s); Helm acts on the highest, %d",
                           nums.n < (size_t)r->ndeployed ? ", ..." : "", r->acted_on);
            if (!b.ptr || vet_strv_take(&r->notes, vet_buf_detach(&b))) {
                vet_strv_free(&nums);
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
        vet_strv_free(&nums);
        if (r->encrypted) {
            char *s = vet_strdupf("records encrypted at rest (%s): kubevet cannot read them from "
                                  "the snapshot; scan the live cluster (kubevet helm scan) instead",
                                  r->encrypted);
            if (!s || vet_strv_take(&r->notes, s)) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
        if (r->latest > r->acted_on && r->latest_status && strcmp(r->latest_status, "deployed") &&
            strcmp(r->latest_status, "unknown")) {
            char *s;
            int pending = !strncmp(r->latest_status, "pending-", 8);
            if (r->acted_on)
                s = vet_strdupf("the latest revision, %d, is %s; Helm acts on revision %d%s",
                                r->latest, r->latest_status, r->acted_on,
                                pending ? ": a stuck pending operation makes every helm "
                                          "upgrade/rollback fail with \"another operation "
                                          "(install/upgrade/rollback) is in progress\""
                                        : "");
            else
                s = vet_strdupf("no revision is deployed: the latest, %d, is %s%s", r->latest,
                                r->latest_status,
                                pending ? " (a stuck pending operation blocks helm upgrade)" : "");
            if (!s || vet_strv_take(&r->notes, s)) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    /* -n for v2: Tiller keeps every namespace's releases in its own */
    for (size_t i = 0; i < a->f->nrels; i++) {
        vet_helm_rel *r = &a->f->rels[i];
        if (a->o.ns && r->helm == 2 && strcmp(r->namespace, a->o.ns)) {
            free(r->name);
            free(r->namespace);
            free(r->storage_ns);
            free(r->latest_status);
            free(r->encrypted);
            free(r->error);
            vet_strv_free(&r->notes);
            vet_manifest_scan_free(r->scan);
            continue;
        }
        a->f->rels[keep++] = *r;
    }
    a->f->nrels = keep;
    if (keep > 1)
        qsort(a->f->rels, keep, sizeof *a->f->rels, cmp_rel);
    *out = a->f;
    a->f = NULL;
done:
    helm_acc_free(a);
    return rc;
}

void helm_acc_free(helm_acc *a)
{
    free(a->table);
    a->table = NULL;
    vet_helm_facts_free(a->f);
    a->f = NULL;
}

/* Record names: v3 "sh.helm.release.v1.NAME.vN", v2 "NAME.vN". */
int helm_parse_record_name(const char *rec, int helm, char **name, int *rev)
{
    const char *p = rec, *v;
    char *end;
    long n;
    if (helm == 3) {
        if (strncmp(rec, "sh.helm.release.v1.", 19))
            return VET_ENOTFOUND;
        p = rec + 19;
    }
    v = strrchr(p, '.');
    if (!v || v == p || v[1] != 'v')
        return VET_ENOTFOUND;
    n = strtol(v + 2, &end, 10);
    if (*end || n <= 0 || n > 0x7fffffff)
        return VET_ENOTFOUND;
    if (!(*name = malloc((size_t)(v - p) + 1)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    memcpy(*name, p, (size_t)(v - p));
    (*name)[v - p] = '\0';
    *rev = (int)n;
    return 0;
}
