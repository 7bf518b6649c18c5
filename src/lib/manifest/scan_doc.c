/* The fast path: a line pre-scan that splits a file into YAML documents and reads their top-level
 * apiVersion/kind, then per document the cheapest reader that answers what the rules need: none
 * (a kind no rule concerns), the line extractor (scan_extract.c), or libyaml (scan_yaml.c, and
 * scan_stream.c for large Lists). The extractor's answers are those of a full parse
 * (tests/unit/test_manifest.c and `apis scan --full-parse` compare the two). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scan_int.h"

/* ---- the pre-scan ---- */

size_t mf_line_end(const unsigned char *p, const unsigned char *e, const unsigned char **next)
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
int mf_scalar_value(const unsigned char *v, size_t n, mf_span *out)
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

/* ---- per document ---- */

int mf_has_template(const mf_doc *d)
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
    if ((size_t)(d->end - d->start) >= MF_STREAM_MIN && !mf_has_template(d)) {
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
    if (mf_has_template(d)) {
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
    if (mf_extract(d, &x)) {
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
        fx.sel = mf_match_templated(&x, fx.detail, sizeof fx.detail);
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
        n = mf_line_end(p, e, &next);
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
                if (mf_scalar_value(p + 11, n - 11, &d.av)) {
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
                if (mf_scalar_value(p + 5, n - 5, &d.kind)) {
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
