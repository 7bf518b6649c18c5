/* What one file produced: its objects (strings in a per-file arena), errors and notes, and the
 * selector rule both readers (the line extractor and libyaml) use, so they explain a mismatch the
 * same way. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"

/* ---- per-file output ---- */

static char *arena_dup(mf_file *f, const char *p, size_t n)
{
    mf_chunk *c = f->arena;
    char *out;
    if (!c || c->cap - c->used < n + 1) {
        /* start small (most files keep a few objects, and every kept file holds its arena until
         * the report is written), double up to 16 KiB */
        size_t cap = c ? (c->cap < 8192 ? c->cap * 2 : 16384) : 512;
        if (cap < n + 1)
            cap = n + 1;
        c = malloc(sizeof *c + cap);
        if (!c) {
            f->oom = 1;
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        c->next = f->arena;
        f->arena = c;
    }
    out = c->data + c->used;
    memcpy(out, p, n);
    out[n] = '\0';
    c->used += n + 1;
    return out;
}

const char *mf_span_dup(mf_file *f, mf_span s)
{
    return s.p ? arena_dup(f, s.p, s.n) : NULL;
}

int mf_span_eq(mf_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.n == n && !memcmp(s.p, lit, n);
}

int mf_is_list(mf_span kind)
{
    return kind.p && kind.n >= 4 && !memcmp(kind.p + kind.n - 4, "List", 4);
}

int mf_needs_fields(mf_span av, mf_span kind)
{
    return (mf_span_eq(av, "networking.k8s.io/v1") && mf_span_eq(kind, "Ingress")) ||
           (mf_span_eq(av, "apiextensions.k8s.io/v1") &&
            mf_span_eq(kind, "CustomResourceDefinition"));
}

int mf_is_workload(mf_span av, mf_span kind)
{
    if (!(mf_span_eq(kind, "Deployment") || mf_span_eq(kind, "DaemonSet") ||
          mf_span_eq(kind, "StatefulSet") || mf_span_eq(kind, "ReplicaSet")))
        return 0;
    return mf_span_eq(av, "apps/v1") || mf_span_eq(av, "apps/v1beta1") ||
           mf_span_eq(av, "apps/v1beta2") || mf_span_eq(av, "extensions/v1beta1");
}

void mf_emit(mf_file *f, const vet_manifest_opts *o, const mf_facts *x)
{
    vet_manifest_obj *ob;
    int keep = o->keep_all;
    if (!keep && x->av.p && x->kind.p &&
        vet_catalog_lookupn(o->catalog, x->av.p, x->av.n, x->kind.p, x->kind.n))
        keep = 1;
    for (unsigned i = 0; !keep && x->kind.p && i < x->nalts; i++)
        keep = vet_catalog_lookupn(o->catalog, x->alts[i].p, x->alts[i].n, x->kind.p, x->kind.n) !=
               NULL;
    if (!keep &&
        (x->sel == VET_SEL_MISSING || x->sel == VET_SEL_EMPTY || x->sel == VET_SEL_MISMATCH))
        keep = 1;
    if (x->invalid[0])
        keep = 1;
    if (!keep)
        return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        vet_manifest_obj *no = realloc(f->objs, cap * sizeof *no);
        if (!no) {
            f->oom = 1;
            return;
        }
        f->objs = no;
        f->cap = cap;
    }
    ob = &f->objs[f->n++];
    memset(ob, 0, sizeof *ob);
    ob->file = f->path;
    ob->line = x->line;
    ob->api_version = mf_span_dup(f, x->av);
    ob->kind = mf_span_dup(f, x->kind);
    ob->name = mf_span_dup(f, x->name);
    ob->namespace = mf_span_dup(f, x->ns);
    ob->list_kind = mf_span_dup(f, x->list_kind);
    ob->source = x->source;
    ob->selector = x->sel;
    ob->selector_line = x->sel_line;
    ob->selector_detail = x->detail[0] ? arena_dup(f, x->detail, strlen(x->detail)) : NULL;
    if (x->invalid[0]) {
        ob->invalid_detail = arena_dup(f, x->invalid, strlen(x->invalid));
        ob->invalid_line = x->invalid_line;
    }
    if (x->nalts > 1) {
        char buf[1024];
        size_t used = 0;
        for (unsigned i = 0; i < x->nalts && used + x->alts[i].n + 1 < sizeof buf; i++) {
            if (used)
                buf[used++] = ' ';
            memcpy(buf + used, x->alts[i].p, x->alts[i].n);
            used += x->alts[i].n;
        }
        ob->api_alternatives = arena_dup(f, buf, used);
    }
}

static void vpush(mf_file *f, vet_strv *sv, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (vet_strv_push(sv, buf))
        f->oom = 1;
}

void mf_error(mf_file *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(f, &f->errors, fmt, ap);
    va_end(ap);
}

void mf_note(mf_file *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(f, &f->notes, fmt, ap);
    va_end(ap);
}

void mf_file_free(mf_file *f)
{
    mf_chunk *c = f->arena;
    while (c) {
        mf_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(f->objs);
    free(f->path);
    vet_strv_free(&f->errors);
    vet_strv_free(&f->notes);
    memset(f, 0, sizeof *f);
}

/* ---- selector rule (shared with the libyaml path, so both explain a mismatch the same way) ----
 */

vet_sel_state mf_match_labels(const mf_labels *sel, const mf_labels *labels, int have_labels,
                              char *detail, size_t dsize)
{
    for (size_t i = 0; i < sel->n; i++) {
        size_t j;
        for (j = labels->n; j-- > 0;) /* the last duplicate wins, as in a map */
            if (labels->k[j].n == sel->k[i].n && !memcmp(labels->k[j].p, sel->k[i].p, sel->k[i].n))
                break;
        if (j == (size_t)-1) {
            snprintf(detail, dsize, "matchLabels %.*s=%.*s: %s", (int)sel->k[i].n, sel->k[i].p,
                     (int)sel->v[i].n, sel->v[i].p,
                     have_labels ? "the template has no such label" : "the template has no labels");
            return VET_SEL_MISMATCH;
        }
        if (labels->v[j].n != sel->v[i].n || memcmp(labels->v[j].p, sel->v[i].p, sel->v[i].n)) {
            snprintf(detail, dsize, "matchLabels %.*s=%.*s: the template has %.*s=%.*s",
                     (int)sel->k[i].n, sel->k[i].p, (int)sel->v[i].n, sel->v[i].p,
                     (int)labels->k[j].n, labels->k[j].p, (int)labels->v[j].n, labels->v[j].p);
            return VET_SEL_MISMATCH;
        }
    }
    return VET_SEL_OK;
}
