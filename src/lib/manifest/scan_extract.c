/* The line extractor: the few fields the API rules need (metadata.name and .namespace,
 * spec.selector, spec.template.metadata.labels) read from block-style YAML line by line, without
 * building a tree. It models block style only; on anything else (flow collections, anchors, tags,
 * escapes, multi-line scalars where a field is read, irregular indentation) it gives up and the
 * document goes to libyaml, so its answers are those of a full parse. Helm templates ({{ ... }}
 * lines) are not YAML at all: it skips directive lines and marks what they could change as
 * unknown. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/yamlx.h"
#include "scan_int.h"

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

static int is_null_scalar(mf_span s)
{
    return mf_span_eq(s, "null") || mf_span_eq(s, "Null") || mf_span_eq(s, "NULL") ||
           mf_span_eq(s, "~");
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
    if (mf_scalar_value(v, n, val)) {
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
int mf_extract(const mf_doc *d, xfacts *x)
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
    fast_skip = !mf_has_template(d);

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
        n = mf_line_end(p, d->end, &next);
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

        if (mf_span_eq(key, "<<"))
            return -1; /* merge keys pull fields from anchors */
        switch (t) {
        case C_ROOT:
            if (mf_span_eq(key, "metadata")) {
                if (vt == V_EMPTY)
                    PUSH(C_META);
                else if (vt != V_EMPTYMAP)
                    return -1;
            } else if (mf_span_eq(key, "spec")) {
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
            if (mf_span_eq(key, "name") || mf_span_eq(key, "namespace")) {
                if (vt == V_TMPL)
                    x->tmpl = 1;
                else if (vt != V_SCALAR)
                    return -1;
                *(mf_span_eq(key, "name") ? &x->name : &x->ns) = val;
                PUSH(C_VAL);
            } else {
                SKIP_KEY();
            }
            break;
        case C_SPEC:
            if (mf_span_eq(key, "selector")) {
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
            } else if (mf_span_eq(key, "template")) {
                DESCEND(C_TPL);
            } else {
                SKIP_KEY();
            }
            break;
        case C_SEL:
            if (mf_span_eq(key, "matchLabels")) {
                x->ml_present = 1;
                DESCEND(C_ML);
            } else if (mf_span_eq(key, "matchExpressions")) {
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
            if (mf_span_eq(key, "metadata")) {
                DESCEND(C_TMETA);
            } else {
                SKIP_KEY();
            }
            break;
        case C_TMETA:
            if (mf_span_eq(key, "labels")) {
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
vet_sel_state mf_match_templated(xfacts *x, char *detail, size_t dsize)
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
