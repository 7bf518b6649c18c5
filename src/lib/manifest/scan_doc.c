/* The fast path: a line pre-scan that splits a file into YAML documents and reads their top-level
 * apiVersion/kind, and a line extractor for the few fields the API rules need (metadata.name and
 * .namespace, spec.selector, spec.template.metadata.labels). The extractor models block-style
 * YAML only; on anything else (flow collections, anchors, tags, escapes, multi-line scalars where
 * a field is read, irregular indentation) it gives up and the document goes to libyaml, so its
 * answers are those of a full parse (tests/unit/test_manifest.c and `apis scan --full-parse`
 * compare the two). Helm templates ({{ ... }} lines) are not YAML at all: the extractor skips
 * directive lines and marks what they could change as unknown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/yamlx.h"
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

static int span_eq(mf_span s, const char *lit)
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
    return (span_eq(av, "networking.k8s.io/v1") && span_eq(kind, "Ingress")) ||
           (span_eq(av, "apiextensions.k8s.io/v1") && span_eq(kind, "CustomResourceDefinition"));
}

int mf_is_workload(mf_span av, mf_span kind)
{
    if (!(span_eq(kind, "Deployment") || span_eq(kind, "DaemonSet") ||
          span_eq(kind, "StatefulSet") || span_eq(kind, "ReplicaSet")))
        return 0;
    return span_eq(av, "apps/v1") || span_eq(av, "apps/v1beta1") || span_eq(av, "apps/v1beta2") ||
           span_eq(av, "extensions/v1beta1");
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

/* ---- the pre-scan ---- */

typedef struct {
    const unsigned char *start, *end; /* bytes of the document (from its "---" line, if any) */
    unsigned line0;                   /* line number of `start` */
    mf_span av, kind;
    unsigned av_line, kind_line;
    int content;               /* any line that is not blank, a comment or a directive */
    int odd;                   /* something the extractor does not model at top level */
    int dup;                   /* apiVersion or kind twice */
    mf_span alts[MF_MAX_ALTS]; /* every apiVersion line's value (template switches) */
    unsigned nalts;
} mf_doc;

static size_t line_end(const unsigned char *p, const unsigned char *e, const unsigned char **next)
{
    const unsigned char *nl = memchr(p, '\n', (size_t)(e - p));
    size_t n;
    if (nl) {
        *next = nl + 1;
        n = (size_t)(nl - p);
    } else {
        *next = e;
        n = (size_t)(e - p);
    }
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

/* A scalar value after "key:", for the pre-scan (top-level apiVersion/kind). 0 ok, -1 odd. */
static int scalar_value(const unsigned char *v, size_t n, mf_span *out)
{
    size_t i = 0, end;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    if (i == n || v[i] == '#')
        return -1;
    if (v[i] == '"' || v[i] == '\'') {
        unsigned char q = v[i];
        size_t j = i + 1;
        while (j < n && v[j] != q) {
            if (v[j] == '\\' && q == '"')
                return -1;
            j++;
        }
        if (j >= n || (q == '\'' && j + 1 < n && v[j + 1] == '\''))
            return -1;
        out->p = (const char *)v + i + 1;
        out->n = j - i - 1;
        for (j++; j < n; j++) {
            if (v[j] == '#' && (v[j - 1] == ' ' || v[j - 1] == '\t'))
                break;
            if (v[j] != ' ' && v[j] != '\t')
                return -1;
        }
        return 0;
    }
    if (strchr("{[&*!|>%@`", v[i]))
        return -1;
    end = i;
    for (size_t j = i; j < n; j++) {
        if (v[j] == '#' && (v[j - 1] == ' ' || v[j - 1] == '\t'))
            break;
        if (v[j] == ':' && (j + 1 == n || v[j + 1] == ' '))
            return -1;
        if (v[j] != ' ' && v[j] != '\t')
            end = j + 1;
    }
    out->p = (const char *)v + i;
    out->n = end - i;
    return 0;
}

/* ---- the extractor ---- */

enum { C_ROOT, C_META, C_SPEC, C_SEL, C_ML, C_TPL, C_TMETA, C_LABELS, C_SKIP, C_VAL };

enum {
    V_EMPTY,    /* nothing after the colon: a block follows (or null) */
    V_EMPTYMAP, /* {} */
    V_EMPTYSEQ, /* [] */
    V_SCALAR,   /* one-line plain or simply quoted scalar */
    V_TMPL,     /* a template expression {{ ... }} (or a scalar containing one) */
    V_OTHER     /* block scalar, flow collection, anchor, alias, tag, escapes, multi-line */
};

typedef struct {
    int key_indent, child_indent, t;
} frame;

typedef struct {
    mf_span name, ns;
    int spec, sel_present, sel_null, sel_block, sel_children, ml_present, labels_present;
    int spec_tmpl, sel_tmpl, tmpl, label_tmpl;
    unsigned spec_line, sel_line;
    mf_labels ml, labels;
} xfacts;

static int is_null_scalar(mf_span s)
{
    return span_eq(s, "null") || span_eq(s, "Null") || span_eq(s, "NULL") || span_eq(s, "~");
}

/* Classify the value text v[0..n) of a key; *val gets a scalar's text. */
static int classify(const unsigned char *v, size_t n, mf_span *val, int *flow_open)
{
    size_t i = 0;
    *flow_open = 0;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    if (i == n || v[i] == '#')
        return V_EMPTY;
    if (v[i] == '{' && i + 1 < n && v[i + 1] == '{') {
        val->p = (const char *)v + i;
        val->n = n - i;
        while (val->n && (val->p[val->n - 1] == ' ' || val->p[val->n - 1] == '\t'))
            val->n--;
        return V_TMPL;
    }
    if (v[i] == '{' || v[i] == '[') {
        /* balanced on this line (ignoring quotes)? Unbalanced flow collections may continue at
         * any indentation, which would break the line model. */
        int depth = 0, only_empty = (i + 1 < n && v[i + 1] == (v[i] == '{' ? '}' : ']'));
        for (size_t j = i; j < n; j++) {
            if (v[j] == '{' || v[j] == '[') {
                if (++depth > VET_YAML_MAX_DEPTH) {
                    *flow_open = 1; /* libyaml reports it */
                    return V_OTHER;
                }
            } else if (v[j] == '}' || v[j] == ']')
                depth--;
            else if (v[j] == '"' || v[j] == '\'') {
                *flow_open = 1;
                return V_OTHER;
            }
        }
        if (depth != 0)
            *flow_open = 1;
        if (only_empty && depth == 0) {
            size_t j = i + 2;
            while (j < n && (v[j] == ' ' || v[j] == '\t'))
                j++;
            if (j == n || v[j] == '#')
                return v[i] == '{' ? V_EMPTYMAP : V_EMPTYSEQ;
        }
        return V_OTHER;
    }
    if (scalar_value(v, n, val)) {
        /* `"{{ template "x.name" . }}"`: Helm charts quote template output that itself contains
         * quotes. Not YAML until rendered, but plainly a templated value, not a structure. */
        if ((v[i] == '"' || v[i] == '\'') && n - i > 3 && memmem(v + i, n - i, "{{", 2)) {
            val->p = (const char *)v + i;
            val->n = n - i;
            while (val->n && (val->p[val->n - 1] == ' ' || val->p[val->n - 1] == '\t'))
                val->n--;
            return V_TMPL;
        }
        return V_OTHER;
    }
    /* A quote that does not close on this line is a multi-line scalar: scalar_value refused it.
     * A template expression inside a scalar makes its value unknown. */
    for (size_t j = 0; j + 1 < val->n; j++)
        if (val->p[j] == '{' && val->p[j + 1] == '{')
            return V_TMPL;
    return V_SCALAR;
}

static int add_label(mf_labels *l, mf_span k, mf_span v)
{
    if (l->n == MF_MAX_LABELS)
        return -1;
    l->k[l->n] = k;
    l->v[l->n] = v;
    l->n++;
    return 0;
}

/* `nindent N` / `indent N` in a directive: where the included text will land. */
static int directive_indent(const unsigned char *p, size_t n, int dflt)
{
    for (size_t i = 0; i + 7 < n; i++) {
        size_t k = 0;
        if (!memcmp(p + i, "nindent ", 8))
            k = i + 8;
        else if (!memcmp(p + i, "indent ", 7) && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '|'))
            k = i + 7;
        if (k) {
            int v = 0;
            while (k < n && p[k] == ' ')
                k++;
            if (k < n && p[k] >= '0' && p[k] <= '9') {
                while (k < n && p[k] >= '0' && p[k] <= '9' && v < 1000)
                    v = v * 10 + (p[k++] - '0');
                return v;
            }
        }
    }
    return dflt;
}

#define MAX_DEPTH 64

static int has_template(const mf_doc *d);

/* From p (a line start), past every line indented more than `indent` columns (spaces); *nl gets
 * the lines passed. */
static const unsigned char *skip_deeper(const unsigned char *p, const unsigned char *e, int indent,
                                        unsigned *nl)
{
    size_t need = (size_t)indent + 1;
    *nl = 0;
    while ((size_t)(e - p) > need) {
        const unsigned char *q;
        for (size_t j = 0; j < need; j++)
            if (p[j] != ' ')
                return p;
        q = memchr(p + need, '\n', (size_t)(e - p) - need);
        (*nl)++;
        if (!q)
            return e;
        p = q + 1;
    }
    return p;
}

/* 0: facts filled; -1: not modelled, use libyaml. */
static int extract(const mf_doc *d, xfacts *x)
{
    frame st[MAX_DEPTH];
    int sp = 0, fast_skip;
    const unsigned char *p = d->start, *next;
    unsigned line = d->line0 - 1;
    /* not the label arrays (16 KiB): clearing them per workload was an eighth of the scan */
    memset(x, 0, offsetof(xfacts, ml));
    x->ml.n = x->labels.n = 0;
    st[0].key_indent = -1;
    st[0].child_indent = -1;
    st[0].t = C_ROOT;
    fast_skip = !has_template(d);

    for (; p < d->end; p = next) {
        size_t n, i = 0, ke;
        int dash, t, vt, flow_open;
        const unsigned char *k;
        mf_span key, val = {NULL, 0};
        if (fast_skip && sp > 0 && st[sp].t == C_SKIP) {
            /* lines indented deeper than a skipped key (env lists, volumes, probes...) are
             * not read at all; directive lines would be, so documents with "{{" take the
             * line-by-line path below */
            unsigned skipped;
            next = skip_deeper(p, d->end, st[sp].key_indent, &skipped);
            if (next != p) {
                line += skipped;
                continue;
            }
        }
        n = line_end(p, d->end, &next);
        line++;
        if (n >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)) &&
            (n == 3 || p[3] == ' ' || p[3] == '\t'))
            continue; /* the pre-scan put markers at document edges */
        while (i < n && p[i] == ' ')
            i++;
        if (i < n && p[i] == '\t') {
            /* a tab may separate tokens, never indent; inside skipped blocks it is harmless */
            if (sp > 0 && st[sp].t == C_SKIP && (int)i > st[sp].key_indent)
                continue;
            return -1;
        }
        if (i == n || p[i] == '#')
            continue;
        if (p[i] == '{' && i + 1 < n && p[i + 1] == '{') {
            int ei = directive_indent(p + i, n - i, (int)i), f = sp;
            x->tmpl = 1;
            while (f > 0 && st[f].key_indent >= ei)
                f--;
            if (st[f].t == C_SPEC)
                x->spec_tmpl = 1;
            else if (st[f].t == C_SEL || st[f].t == C_ML || st[f].t == C_TPL ||
                     st[f].t == C_TMETA || st[f].t == C_LABELS)
                x->sel_tmpl = 1;
            continue;
        }
        dash = p[i] == '-' && (i + 1 == n || p[i + 1] == ' ' || p[i + 1] == '\t');
        while (sp > 0) {
            if (st[sp].key_indent < (int)i)
                break;
            if (st[sp].key_indent == (int)i && dash) {
                if (st[sp].t == C_SKIP)
                    break; /* "key:\n- item" at the key's own indentation */
                return -1;
            }
            sp--;
        }
        t = st[sp].t;
        if (t == C_SKIP)
            continue;
        if (t == C_VAL)
            return -1; /* a scalar we read continues on this line */
        if (t == C_SEL)
            x->sel_children++;
        if (dash)
            return -1;
        if (st[sp].child_indent < 0)
            st[sp].child_indent = (int)i;
        else if (st[sp].child_indent != (int)i)
            return -1;

        /* the key */
        k = p + i;
        if (*k == '"' || *k == '\'') {
            size_t j = 1;
            while (i + j < n && k[j] != *k && k[j] != '\\')
                j++;
            if (i + j >= n || k[j] != *k || i + j + 1 >= n || k[j + 1] != ':' ||
                (i + j + 2 < n && k[j + 2] != ' ' && k[j + 2] != '\t'))
                return -1;
            if (*k == '\'' && i + j + 1 < n && k[j + 1] == '\'')
                return -1;
            key.p = (const char *)k + 1;
            key.n = j - 1;
            ke = i + j + 2;
        } else {
            size_t j;
            if (strchr("?:,[]{}#&*!|>'\"%@`", *k))
                return -1;
            for (j = i; j < n; j++) {
                if (p[j] == ':' && (j + 1 == n || p[j + 1] == ' ' || p[j + 1] == '\t'))
                    break;
                if (p[j] == '#' && (p[j - 1] == ' ' || p[j - 1] == '\t'))
                    return -1;
            }
            if (j >= n)
                return -1;
            ke = j;
            while (ke > i && (p[ke - 1] == ' ' || p[ke - 1] == '\t'))
                ke--;
            key.p = (const char *)k;
            key.n = ke - i;
            ke = j + 1;
        }
        vt = classify(p + ke, n - ke, &val, &flow_open);

        /* Keys outside the paths we read: skip their whole block. An unclosed flow collection
         * may continue at any indentation, so it ends the fast path. */
#define SKIP_KEY()                                                                                 \
    do {                                                                                           \
        if (flow_open || sp + 1 >= MAX_DEPTH)                                                      \
            return -1;                                                                             \
        sp++;                                                                                      \
        st[sp].key_indent = (int)i;                                                                \
        st[sp].child_indent = -1;                                                                  \
        st[sp].t = C_SKIP;                                                                         \
    } while (0)
/* A block mapping the selector rule reads: descend into it; a templated value makes the
 * rule "unknown"; an empty map has nothing to read; anything else goes to libyaml. */
#define DESCEND(ty)                                                                                \
    do {                                                                                           \
        if (vt == V_EMPTY)                                                                         \
            PUSH(ty);                                                                              \
        else if (vt == V_TMPL)                                                                     \
            x->sel_tmpl = x->tmpl = 1;                                                             \
        else if (vt != V_EMPTYMAP)                                                                 \
            return -1;                                                                             \
    } while (0)
#define PUSH(ty)                                                                                   \
    do {                                                                                           \
        if (sp + 1 >= MAX_DEPTH)                                                                   \
            return -1;                                                                             \
        sp++;                                                                                      \
        st[sp].key_indent = (int)i;                                                                \
        st[sp].child_indent = -1;                                                                  \
        st[sp].t = (ty);                                                                           \
    } while (0)

        if (span_eq(key, "<<"))
            return -1; /* merge keys pull fields from anchors */
        switch (t) {
        case C_ROOT:
            if (span_eq(key, "metadata")) {
                if (vt == V_EMPTY)
                    PUSH(C_META);
                else if (vt != V_EMPTYMAP)
                    return -1;
            } else if (span_eq(key, "spec")) {
                x->spec = 1;
                x->spec_line = line;
                if (vt == V_EMPTY)
                    PUSH(C_SPEC);
                else if (vt != V_EMPTYMAP)
                    return -1;
            } else {
                SKIP_KEY();
            }
            break;
        case C_META:
            if (span_eq(key, "name") || span_eq(key, "namespace")) {
                if (vt == V_TMPL)
                    x->tmpl = 1;
                else if (vt != V_SCALAR)
                    return -1;
                *(span_eq(key, "name") ? &x->name : &x->ns) = val;
                PUSH(C_VAL);
            } else {
                SKIP_KEY();
            }
            break;
        case C_SPEC:
            if (span_eq(key, "selector")) {
                x->sel_present = 1;
                x->sel_line = line;
                if (vt == V_EMPTY) {
                    x->sel_block = 1;
                    PUSH(C_SEL);
                } else if (vt == V_TMPL) {
                    x->sel_tmpl = x->tmpl = 1;
                } else if (vt == V_SCALAR && is_null_scalar(val)) {
                    x->sel_null = 1;
                    PUSH(C_VAL);
                } else if (vt != V_EMPTYMAP)
                    return -1;
            } else if (span_eq(key, "template")) {
                DESCEND(C_TPL);
            } else {
                SKIP_KEY();
            }
            break;
        case C_SEL:
            if (span_eq(key, "matchLabels")) {
                x->ml_present = 1;
                DESCEND(C_ML);
            } else if (span_eq(key, "matchExpressions")) {
                if (vt != V_EMPTYSEQ)
                    return -1;
            } else {
                SKIP_KEY();
            }
            break;
        case C_ML:
        case C_LABELS:
            /* A templated value is kept as its source text: the same text renders to the same
             * value, so a selector can still be seen to match; a difference is only "unknown". */
            if (vt == V_TMPL)
                x->tmpl = x->label_tmpl = 1;
            else if (vt != V_SCALAR)
                return -1;
            if (add_label(t == C_ML ? &x->ml : &x->labels, key, val))
                return -1;
            PUSH(C_VAL);
            break;
        case C_TPL:
            if (span_eq(key, "metadata")) {
                DESCEND(C_TMETA);
            } else {
                SKIP_KEY();
            }
            break;
        case C_TMETA:
            if (span_eq(key, "labels")) {
                x->labels_present = 1;
                DESCEND(C_LABELS);
            } else {
                SKIP_KEY();
            }
            break;
        default:
            return -1;
        }
#undef SKIP_KEY
#undef PUSH
#undef DESCEND
    }
    if (x->sel_block && !x->sel_children)
        x->sel_null = 1; /* "selector:" with nothing under it is null */
    return 0;
}

static int has_tmpl(mf_span s)
{
    return s.n >= 2 && memmem(s.p, s.n, "{{", 2) != NULL;
}

/* The selector rule when values may be template text: a pair whose text is templated on either
 * side is set aside (equal text renders equally: a match; different text: unknown); the rest
 * decides a definite mismatch. */
static vet_sel_state match_templated(xfacts *x, char *detail, size_t dsize)
{
    mf_labels *ml = &x->ml;
    size_t keep = 0;
    int unknown = 0;
    vet_sel_state st;
    if (x->label_tmpl)
        for (size_t i = 0; i < ml->n; i++) {
            mf_span lv = {NULL, 0};
            for (size_t j = x->labels.n; j-- > 0;)
                if (x->labels.k[j].n == ml->k[i].n &&
                    !memcmp(x->labels.k[j].p, ml->k[i].p, ml->k[i].n)) {
                    lv = x->labels.v[j];
                    break;
                }
            if (has_tmpl(ml->v[i]) || (lv.p && has_tmpl(lv))) {
                if (!lv.p || lv.n != ml->v[i].n || memcmp(lv.p, ml->v[i].p, lv.n))
                    unknown = 1;
                continue;
            }
            ml->k[keep] = ml->k[i];
            ml->v[keep] = ml->v[i];
            keep++;
        }
    else
        keep = ml->n;
    ml->n = keep;
    st = mf_match_labels(ml, &x->labels, x->labels_present && x->labels.n, detail, dsize);
    return st == VET_SEL_OK && unknown ? VET_SEL_UNKNOWN : st;
}

/* ---- per document ---- */

static int has_template(const mf_doc *d)
{
    /* memchr, not memmem: glibc's memmem takes several times longer on a 2-byte needle, and '{'
     * is rare in block YAML */
    const unsigned char *p = d->start, *e = d->end;
    while (p < e && (p = memchr(p, '{', (size_t)(e - p))) != NULL) {
        if (p + 1 < e && p[1] == '{')
            return 1;
        p++;
    }
    return 0;
}

static void prescan_facts(const mf_doc *d, mf_facts *fx, vet_mf_source src)
{
    memset(fx, 0, sizeof *fx);
    fx->av = d->av;
    fx->kind = d->kind;
    fx->line = d->av.p ? d->av_line : d->line0;
    fx->source = src;
    fx->sel = mf_is_workload(d->av, d->kind) ? VET_SEL_UNKNOWN : VET_SEL_NA;
    fx->sel_line = fx->sel == VET_SEL_NA ? 0 : fx->line;
    if (src == VET_MF_TEMPLATE && d->nalts > 1) {
        memcpy(fx->alts, d->alts, d->nalts * sizeof *d->alts);
        fx->nalts = d->nalts;
    }
}

static void unparseable(mf_file *f, const vet_manifest_opts *o, const mf_doc *d, vet_mf_source src,
                        const char *err);

static void yaml_or_prescan(mf_file *f, const vet_manifest_opts *o, const mf_doc *d,
                            vet_mf_source src)
{
    char err[256];
    int rc;
    f->st.parsed++;
    if ((size_t)(d->end - d->start) >= MF_STREAM_MIN && !has_template(d)) {
        rc = mf_stream_doc(f, o, d->start, (size_t)(d->end - d->start), d->line0, src, err,
                           sizeof err);
        if (!rc)
            return;
        if (rc < 0) {
            if (rc == -2) /* over a nesting bound: hostile, not a template */
                mf_error(f, "%s:%s", f->path, err);
            else
                unparseable(f, o, d, src, err);
            return;
        }
    }
    rc = mf_yaml_doc(f, o, d->start, (size_t)(d->end - d->start), d->line0, src, err, sizeof err);
    if (!rc)
        return;
    if (rc == -2) { /* over a nesting bound: hostile, not a template */
        mf_error(f, "%s:%s", f->path, err);
        return;
    }
    unparseable(f, o, d, src, err);
}

/* libyaml refused the document: a template (what the pre-scan saw is what we know), or a
 * broken document (its pre-scan pair, if any, with a note; else an input error). */
static void unparseable(mf_file *f, const vet_manifest_opts *o, const mf_doc *d, vet_mf_source src,
                        const char *err)
{
    mf_facts fx;
    if (has_template(d)) {
        /* Go templates are not YAML: what the pre-scan saw is what we know. */
        f->st.templates++;
        if (d->av.p && d->kind.p) {
            prescan_facts(d, &fx, VET_MF_TEMPLATE);
            if (fx.nalts <= 1 && mf_needs_fields(d->av, d->kind))
                mf_template_fields(d->start, (size_t)(d->end - d->start), d->line0, &fx);
            mf_emit(f, o, &fx);
        }
        return;
    }
    if (d->av.p && d->kind.p) {
        mf_note(f, "%s:%s: not valid YAML; apiVersion %.*s kind %.*s read from the raw text",
                f->path, err, (int)d->av.n, d->av.p, (int)d->kind.n, d->kind.p);
        prescan_facts(d, &fx, VET_MF_UNPARSEABLE);
        mf_emit(f, o, &fx);
        return;
    }
    mf_error(f, "%s:%s", f->path, err);
}

static void finish_doc(mf_file *f, const vet_manifest_opts *o, const mf_doc *d, vet_mf_source src)
{
    xfacts x;
    mf_facts fx;
    int wl;
    if (!d->content)
        return;
    f->st.documents++;
    if (o->full_parse || d->odd || d->dup || !d->av.p || !d->kind.p || mf_is_list(d->kind) ||
        src == VET_MF_JSON) {
        yaml_or_prescan(f, o, d, src);
        return;
    }
    if (mf_needs_fields(d->av, d->kind)) {
        /* the field rules read sequences (paths, versions): libyaml's tree, not the extractor */
        yaml_or_prescan(f, o, d, src);
        return;
    }
    wl = mf_is_workload(d->av, d->kind);
    if (!wl && !o->keep_all &&
        !vet_catalog_lookupn(o->catalog, d->av.p, d->av.n, d->kind.p, d->kind.n))
        return;
    if (extract(d, &x)) {
        yaml_or_prescan(f, o, d, src);
        return;
    }
    f->st.extracted++;
    memset(&fx, 0, sizeof fx);
    fx.av = d->av;
    fx.kind = d->kind;
    fx.name = x.name;
    fx.ns = x.ns;
    fx.line = d->av_line;
    fx.source = x.tmpl ? VET_MF_TEMPLATE : src;
    if (x.tmpl)
        f->st.templates++;
    if (!wl)
        fx.sel = VET_SEL_NA;
    else if (!x.sel_present || x.sel_null)
        fx.sel = x.spec_tmpl ? VET_SEL_UNKNOWN : VET_SEL_MISSING;
    else if (x.sel_tmpl)
        fx.sel = VET_SEL_UNKNOWN;
    else if (!x.ml.n)
        fx.sel = VET_SEL_EMPTY;
    else
        fx.sel = match_templated(&x, fx.detail, sizeof fx.detail);
    fx.sel_line = !wl ? 0 : x.sel_present ? x.sel_line : x.spec ? x.spec_line : fx.line;
    mf_emit(f, o, &fx);
}

/* The start of the next line that does not begin with a space, from p (the start of a line that
 * does); *nl gets the line breaks passed. Most lines of a manifest are indented and the pre-scan
 * needs none of them once a document is known to have content: eight bytes at a time instead of a
 * memchr call and a look at every line. */
static const unsigned char *skip_indented(const unsigned char *p, const unsigned char *e,
                                          unsigned *nl)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    *nl = 0;
    while (e - p >= 8) {
        uint64_t w, x, m;
        memcpy(&w, p, 8);
        x = w ^ (ones * '\n');
        m = (x - ones) & ~x & highs; /* a set high bit for each '\n' (and maybe false ones above) */
        while (m) {
            const unsigned char *q = p + (__builtin_ctzll(m) >> 3);
            m &= m - 1;
            if (*q != '\n')
                continue;
            (*nl)++;
            if (q + 1 >= e || q[1] != ' ')
                return q + 1;
        }
        p += 8;
    }
    for (; p < e; p++)
        if (*p == '\n') {
            (*nl)++;
            if (p + 1 >= e || p[1] != ' ')
                return p + 1;
        }
    return e;
}

void mf_scan_data(mf_file *f, const vet_manifest_opts *o, const unsigned char *data, size_t len)
{
    const unsigned char *p = data, *e = data + len, *next;
    mf_doc d;
    unsigned line = 0;
    vet_mf_source src = VET_MF_YAML;

    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        p += 3;
    for (const unsigned char *q = p; q < e; q++) {
        if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            continue;
        if (*q == '{' || *q == '[')
            src = (q + 1 < e && q[1] == '{') ? VET_MF_YAML : VET_MF_JSON;
        break;
    }
    if (src == VET_MF_JSON) {
        /* JSON has no document markers and no line structure to pre-scan. */
        memset(&d, 0, sizeof d);
        d.start = p;
        d.end = e;
        d.line0 = 1;
        d.content = 1;
        finish_doc(f, o, &d, src);
        return;
    }
    memset(&d, 0, sizeof d);
    d.start = p;
    d.line0 = 1;
    for (; p < e; p = next) {
        size_t n;
        if (d.content && *p == ' ') {
            unsigned skipped;
            next = skip_indented(p, e, &skipped);
            line += skipped;
            continue;
        }
        n = line_end(p, e, &next);
        line++;
        if (!n)
            continue;
        if (n >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)) &&
            (n == 3 || p[3] == ' ' || p[3] == '\t')) {
            size_t j = 3;
            d.end = p;
            finish_doc(f, o, &d, src);
            memset(&d, 0, sizeof d);
            d.start = p[0] == '-' ? p : next;
            d.line0 = p[0] == '-' ? line : line + 1;
            while (j < n && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j < n && p[j] != '#') /* "--- !tag", "--- {json}", "--- |" */
                d.content = d.odd = 1;
            continue;
        }
        switch (p[0]) {
        case ' ':
        case '\t': {
            size_t j = 0;
            while (j < n && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j < n && p[j] != '#' && !(p[j] == '{' && j + 1 < n && p[j + 1] == '{'))
                d.content = 1;
            break;
        }
        case '#':
            break;
        case '%':
            d.odd = 1; /* directives belong to the next document: libyaml handles them */
            break;
        case '{':
            if (n > 1 && p[1] == '{')
                break; /* template directive */
            d.content = d.odd = 1;
            break;
        case 'a':
            d.content = 1;
            if (n >= 11 && !memcmp(p, "apiVersion:", 11)) {
                if (d.av.p)
                    d.dup = 1;
                if (scalar_value(p + 11, n - 11, &d.av)) {
                    d.av.p = NULL;
                    d.odd = 1;
                } else if (d.nalts < MF_MAX_ALTS) {
                    d.alts[d.nalts++] = d.av;
                }
                d.av_line = line;
            }
            break;
        case 'k':
            d.content = 1;
            if (n >= 5 && !memcmp(p, "kind:", 5)) {
                if (d.kind.p)
                    d.dup = 1;
                if (scalar_value(p + 5, n - 5, &d.kind)) {
                    d.kind.p = NULL;
                    d.odd = 1;
                }
                d.kind_line = line;
            }
            break;
        default:
            d.content = 1;
            if (p[0] == '[' || p[0] == '&' || p[0] == '*' || p[0] == '!' || p[0] == '?' ||
                p[0] == '"' || p[0] == '\'' || p[0] == '|' || p[0] == '>' ||
                (p[0] == '-' && (n == 1 || p[1] == ' ')))
                d.odd = 1;
            break;
        }
    }
    d.end = e;
    finish_doc(f, o, &d, src);
}
