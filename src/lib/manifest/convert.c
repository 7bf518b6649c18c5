/* `apis convert`: rewrite deprecated/removed apiVersions in manifests by editing spans.
 *
 * The file is never re-emitted. libyaml's node marks locate the bytes of the apiVersion value,
 * of keys to rename, of pairs to replace or delete and of the line after which a pair is
 * inserted; the edits (offset, bytes to delete, text to insert) are sorted and applied once, so
 * comments, key order, quoting, indentation, other documents and template text stay as they
 * were. The rule table (convert_rules.c) is data: one row per (from apiVersion, kind, to). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "common/yamlx.h"
#include "convert_int.h"
#include "error.h"

/* ---------------------------------------------------------------- the driver */

static int cmp_edit(const void *a, const void *b)
{
    const edit *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    /* an insertion at the offset where a deletion starts goes first: it is not inside it */
    if ((x->del > 0) != (y->del > 0))
        return x->del > 0 ? 1 : -1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void free_edits(editv *e, size_t from)
{
    for (size_t i = from; i < e->n; i++)
        free(e->v[i].ins);
    e->n = from;
}

void cv_sort_edits(editv *e)
{
    if (e->n > 1)
        qsort(e->v, e->n, sizeof *e->v, cmp_edit);
}

void cv_free_edits(editv *e)
{
    free_edits(e, 0);
    free(e->v);
    e->v = NULL;
    e->cap = 0;
}

static int to_served(cv *c, const rule *r)
{
    const vet_api *a;
    if (!r->to || r->since > c->target)
        return 0;
    if (c->cat && (a = vet_catalog_lookup(c->cat, r->to, r->kind)))
        return vet_api_status_at(a, &c->tv) != VET_API_REMOVED;
    return !(r->to_removed && c->target >= r->to_removed);
}

const rule *cv_choose(cv *c, const char *api, const char *kind, int *need, int *removed,
                      const vet_api **row)
{
    const rule *best = NULL;
    const vet_api *a = c->cat ? vet_catalog_lookup(c->cat, api, kind) : NULL;
    *need = *removed = 0;
    *row = a;
    if (a) {
        vet_api_status st = vet_api_status_at(a, &c->tv);
        *need = st != VET_API_SERVED;
        *removed = st == VET_API_REMOVED;
    }
    for (size_t i = 0; i < cv_nrules; i++) {
        const rule *r = &cv_rules[i];
        if (strcmp(r->from, api) || strcmp(r->kind, kind))
            continue;
        if (!a) {
            if ((r->deprecated && c->target >= r->deprecated) ||
                (r->removed && c->target >= r->removed))
                *need = 1;
            if (r->removed && c->target >= r->removed)
                *removed = 1;
        }
        if (to_served(c, r) && (!best || r->since > best->since))
            best = r;
    }
    return *need ? best : NULL;
}

static int setup_target(cv *c, const char *target, const vet_catalog *cat)
{
    int rc;
    c->cat = cat;
    if ((rc = vet_convert_target_parse(&c->target,
                                       target ? target : vet_convert_default_target(cat))))
        return rc;
    memset(&c->tv, 0, sizeof c->tv);
    c->tv.major = c->target / 1000;
    c->tv.minor = c->target % 1000;
    return 0;
}

const char *vet_convert_replacement(const char *api_version, const char *kind, const char *target,
                                    const vet_catalog *catalog)
{
    cv c;
    int need, removed;
    const vet_api *row;
    const rule *r;
    memset(&c, 0, sizeof c);
    if (!api_version || !kind || setup_target(&c, target, catalog) < 0)
        return NULL;
    r = cv_choose(&c, api_version, kind, &need, &removed, &row);
    return r ? r->to : NULL;
}

/* The replacement the table knows that is not served yet at the target (NULL when none). */
static const char *later_replacement(cv *c, const char *api, const char *kind)
{
    const char *to = NULL;
    int since = 0;
    for (size_t i = 0; i < cv_nrules; i++)
        if (!strcmp(cv_rules[i].from, api) && !strcmp(cv_rules[i].kind, kind) && cv_rules[i].to &&
            cv_rules[i].since > c->target && (!to || cv_rules[i].since < since)) {
            to = cv_rules[i].to;
            since = cv_rules[i].since;
        }
    return to;
}

int vet_convert_target_parse(int *out, const char *target)
{
    const char *p = target;
    unsigned long maj, min;
    char *end;
    if (!p)
        p = vet_convert_default_target(NULL);
    if (*p == 'v')
        p++;
    if (*p < '0' || *p > '9')
        goto bad;
    maj = strtoul(p, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9')
        goto bad;
    min = strtoul(end + 1, &end, 10);
    if ((*end && *end != '.' && *end != '-' && *end != '+') || maj > 99 || min > 999)
        goto bad;
    *out = (int)(maj * 1000 + min);
    return 0;
bad:
    return vet_error_set(VET_EUSAGE, "--target %s: expected a Kubernetes version such as 1.29",
                         target ? target : "");
}

const char *vet_convert_default_target(const vet_catalog *catalog)
{
    return catalog ? vet_catalog_newest(catalog) : "1.32";
}

static char *dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

int cv_add_doc(vet_convert_result *res, vet_convert_doc **out)
{
    vet_convert_doc *v;
    if ((res->ndocs & 15) == 0) {
        v = realloc(res->docs, (res->ndocs + 16) * sizeof *v);
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        res->docs = v;
    }
    *out = &res->docs[res->ndocs++];
    memset(*out, 0, sizeof **out);
    return 0;
}

static char *vfmt(const char *fmt, ...) VET_PRINTF(1, 2);
static char *vfmt(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static const char *no_replacement_advice(const char *kind)
{
    if (!strcmp(kind, "PodSecurityPolicy"))
        return "move the policy to Pod Security Admission (namespace labels "
               "pod-security.kubernetes.io/enforce) or a policy engine, then delete this object";
    return "remove the object or replace it with what the new release offers";
}

int cv_no_rule(cv *c, vet_convert_doc *d, const vet_api *row)
{
    const char *later = later_replacement(c, d->from, d->kind);
    int tmaj = c->target / 1000, tmin = c->target % 1000;
    if (later) {
        d->status = VET_CONVERT_NO_REPLACEMENT;
        d->to = dupn(later);
        d->manual =
            vfmt("%s is not served yet at %d.%d; move to it after the upgrade", later, tmaj, tmin);
    } else if (row && row->replacement[0] && strcmp(row->replacement, "none")) {
        d->status = VET_CONVERT_UNSUPPORTED;
        d->to = dupn(row->replacement);
        d->manual = vfmt("kubevet has no rule to convert %s %s: move it to %s%s%s by hand", d->from,
                         d->kind, row->replacement,
                         row->replacement_available_in[0] ? " (served from " : "",
                         row->replacement_available_in[0] ? row->replacement_available_in : "");
        if (d->manual && row->replacement_available_in[0]) {
            char *m = vfmt("%s)", d->manual);
            free(d->manual);
            d->manual = m;
        }
    } else {
        d->status = VET_CONVERT_NO_REPLACEMENT;
        d->manual = vfmt("%s %s has no replacement at %d.%d: %s", d->from, d->kind, tmaj, tmin,
                         no_replacement_advice(d->kind));
    }
    return d->manual ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

/* A scalar's value; for a templated one (read through a mask) its text in the file, as
 * apis scan reports it. */
static char *src_str(cv *c, yaml_node_t *n)
{
    size_t a, b;
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    if (!cv_templated(c, n))
        return dupn(cv_str(n));
    a = cv_pos(c, n->start_mark);
    b = cv_pos(c, n->end_mark);
    if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
        n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        a++;
        b = b > a ? b - 1 : a;
    }
    return b > a ? strndup((const char *)c->file + a, b - a) : NULL;
}

/* Convert one object (a document root or a List item). */
static int convert_object(cv *c, yaml_node_t *root, vet_convert_result *res, editv *all)
{
    yaml_node_t *av = cv_get(c, root, "apiVersion"), *kd = cv_get(c, root, "kind"), *md;
    const char *api = cv_str(av), *kind = cv_str(kd);
    const rule *r;
    const vet_api *row;
    int need, removed, rc;
    vet_convert_doc *d = NULL;
    size_t mark = c->ed.n;

    if (!api || !kind)
        return 0;
    r = cv_choose(c, api, kind, &need, &removed, &row);
    if (!need)
        return 0;
    if ((rc = cv_add_doc(res, &d)))
        return rc;
    md = cv_get(c, root, "metadata");
    d->line = cv_line(c, av);
    d->kind = dupn(kind);
    d->from = dupn(api);
    d->name = src_str(c, cv_get(c, md, "name"));
    d->ns = src_str(c, cv_get(c, md, "namespace"));
    d->id = removed ? "KV401" : "KV402";
    if (!d->kind || !d->from)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!r)
        return cv_no_rule(c, d, row);
    d->to = dupn(r->to);
    c->r = r;
    c->stop = 0;
    vet_buf_clear(&c->did);
    vet_buf_clear(&c->manual);
    cv_set_scalar(c, av, r->to);
    if (r->fix && !c->stop)
        r->fix(c, root);
    if (c->err)
        return vet_error_set(c->err, "out of memory");
    /* sort this object's edits and refuse overlaps: two rules touching one span means the
     * document is shaped in a way the rules did not foresee. */
    if (c->ed.n > mark)
        qsort(c->ed.v + mark, c->ed.n - mark, sizeof *c->ed.v, cmp_edit);
    for (size_t i = mark; !c->stop && i + 1 < c->ed.n; i++)
        if (c->ed.v[i].off + c->ed.v[i].del > c->ed.v[i + 1].off)
            cv_stop(c, "overlapping rewrites near byte %zu; convert this object by hand",
                    c->ed.v[i].off);
    if (c->stop) {
        free_edits(&c->ed, mark);
        d->status = VET_CONVERT_STOPPED;
        d->manual = c->manual.size ? strdup(c->manual.ptr) : NULL;
        return 0;
    }
    d->status = VET_CONVERT_DONE;
    d->id = NULL;
    d->changes = vfmt("apiVersion %s -> %s%s%s", api, r->to, c->did.size ? "; " : "",
                      c->did.size ? c->did.ptr : "");
    (void)all;
    return d->changes ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

static void detect_style(cv *c, yaml_node_t *n, int depth)
{
    if (depth > CV_MAX_DEPTH)
        return;
    if (n->type == YAML_MAPPING_NODE) {
        for (size_t i = 0; i < cv_npairs(n); i++) {
            yaml_node_t *k = cv_key_at(c, n, i), *v = cv_val_at(c, n, i);
            size_t kc = cv_col(c, cv_pos(c, k->start_mark));
            size_t vs = cv_pos(c, v->start_mark), kend = cv_pos(c, k->end_mark);
            if (vs >= kend && cv_is_block_coll(v)) {
                long d = (long)cv_col(c, vs) - (long)kc;
                if (v->type == YAML_MAPPING_NODE && d > 0 && (c->step == 0 || d < c->step))
                    c->step = (int)d;
                if (v->type == YAML_SEQUENCE_NODE && c->seq_off < 0 && d >= 0)
                    c->seq_off = (int)d;
                detect_style(c, v, depth + 1);
            }
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < cv_nitems(n); i++)
            detect_style(c, cv_item(c, n, i), depth + 1);
    }
}

static int is_list_kind(const char *k)
{
    size_t l = k ? strlen(k) : 0;
    return l >= 4 && !strcmp(k + l - 4, "List");
}

static int convert_doc(cv *c, vet_convert_result *res, editv *all)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc), *items;
    int rc = 0;
    if (!cv_is_map(root))
        return 0;
    c->step = 0;
    c->seq_off = -1;
    detect_style(c, root, 0);
    if (c->step <= 0)
        c->step = 2;
    if (c->seq_off < 0)
        c->seq_off = 0;
    c->ed.n = 0;
    items = cv_get(c, root, "items");
    if (is_list_kind(cv_str(cv_get(c, root, "kind"))) && items &&
        items->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; !rc && i < cv_nitems(items); i++)
            if (cv_is_map(cv_item(c, items, i)))
                rc = convert_object(c, cv_item(c, items, i), res, all);
    } else {
        rc = convert_object(c, root, res, all);
    }
    /* hand this document's edits to the file */
    for (size_t i = 0; !rc && i < c->ed.n; i++) {
        if (cv_edit_push(all, c->ed.v[i].off, c->ed.v[i].del, c->ed.v[i].ins, c->ed.v[i].seq))
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        c->ed.v[i].ins = NULL;
    }
    free_edits(&c->ed, 0);
    return rc;
}

static void cv_reset_arena(cv *c)
{
    for (size_t i = 0; i < c->narena; i++)
        free(c->arena[i]);
    c->narena = 0;
}

/* Character index -> byte offset for a chunk with non-ASCII bytes (UTF-8 lead bytes). */
static int build_cmap(cv *c, const unsigned char *p, size_t len)
{
    size_t n = 0, k = 0;
    free(c->cmap);
    c->cmap = NULL;
    c->nchars = 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] >= 0x80) {
            n = 1;
            break;
        }
    if (!n)
        return 0;
    n = 0;
    for (size_t i = 0; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            n++;
    c->cmap = malloc((n + 1) * sizeof *c->cmap);
    if (!c->cmap)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            c->cmap[k++] = i;
    c->cmap[k] = len;
    c->nchars = k;
    return 0;
}

/* A chunk runs from a line starting with "---" to the next one: the document boundaries
 * YAML itself uses. Each is parsed alone so that a Helm template that does not parse only
 * costs its own document. */
static size_t next_chunk(const unsigned char *p, size_t len, size_t from)
{
    size_t i = from;
    /* skip the current line (it may be the "---" that opened this chunk) */
    while (i < len && p[i] != '\n')
        i++;
    while (i < len) {
        i++; /* past '\n' */
        if (i + 3 <= len && !memcmp(p + i, "---", 3) &&
            (i + 3 == len || p[i + 3] == ' ' || p[i + 3] == '\t' || p[i + 3] == '\n' ||
             p[i + 3] == '\r'))
            return i;
        while (i < len && p[i] != '\n')
            i++;
    }
    return len;
}

static int parse_error(cv *c, yaml_parser_t *p, const char *name)
{
    return vet_error_set(VET_EINPUT, "%s:%zu: not valid YAML: %s%s%s", name ? name : "<input>",
                         c->line0 + p->problem_mark.line + 1,
                         p->problem ? p->problem : "parse error", p->context ? " " : "",
                         p->context ? p->context : "");
}

static int convert_chunk(cv *c, vet_convert_result *res, editv *all, const char *name)
{
    yaml_parser_t p;
    int rc = 0, done = 0;
    size_t start = c->base;
    const unsigned char *data = c->file + c->base;
    unsigned char *masked = NULL;
    if (c->clen >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        c->base += 3;
        c->clen -= 3;
        data += 3;
    }
    /* A template whose actions only wrap the object and fill values is read through a mask;
     * the rules see the masked values as templated (cv_templated) and leave them alone. */
    if (cv_has_template(c, c->base, c->base + c->clen) &&
        cv_count_api_lines(c, start, c->base + c->clen) <= 1) {
        masked = cv_template_mask(c, c->base, c->base + c->clen);
        if (c->err)
            return vet_error_set(VET_ENOMEM, "out of memory");
        if (masked)
            data = masked;
    }
    if ((rc = build_cmap(c, data, c->clen))) {
        free(masked);
        return rc;
    }
    if (!yaml_parser_initialize(&p)) {
        free(masked);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&p, data, c->clen);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    /* An if/else of apiVersion lines may even parse (as duplicate keys): read it as the template
     * it is, never as the first branch alone. */
    if (cv_has_template(c, start, c->base + c->clen) &&
        cv_count_api_lines(c, start, c->base + c->clen) > 1) {
        rc = cv_template_chunk(c, res, all, start, c->base + c->clen);
        done = 1;
    }
    while (!rc && !done) {
        yaml_document_t doc;
        if (!vet_yaml_parser_load(&p, &doc)) {
            if (cv_has_template(c, start, c->base + c->clen))
                rc = cv_template_chunk(c, res, all, start, c->base + c->clen);
            else
                rc = parse_error(c, &p, name);
            break;
        }
        if (!yaml_document_get_root_node(&doc)) {
            done = 1;
        } else {
            c->doc = &doc;
            rc = convert_doc(c, res, all);
            c->doc = NULL;
        }
        yaml_document_delete(&doc);
        cv_reset_arena(c);
    }
    yaml_parser_delete(&p);
    free(masked);
    return rc;
}

void vet_convert_result_free(vet_convert_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ndocs; i++) {
        vet_convert_doc *d = &r->docs[i];
        free(d->kind);
        free(d->name);
        free(d->ns);
        free(d->from);
        free(d->to);
        free(d->changes);
        free(d->manual);
    }
    free(r->docs);
    free(r->data);
    free(r);
}

int vet_manifest_convert(vet_convert_result **out, const unsigned char *data, size_t len,
                         const char *target, const vet_catalog *catalog, const char *name)
{
    vet_convert_opts o;
    memset(&o, 0, sizeof o);
    o.target = target;
    o.catalog = catalog;
    return vet_manifest_convert_opts(out, data, len, &o, name);
}

int vet_manifest_convert_opts(vet_convert_result **out, const unsigned char *data, size_t len,
                              const vet_convert_opts *opts, const char *name)
{
    const char *target = opts->target;
    const vet_catalog *catalog = opts->catalog;
    cv c;
    editv all = {NULL, 0, 0};
    vet_convert_result *res = NULL;
    vet_buf ob = VET_BUF_INIT;
    int rc = 0;
    size_t at = 0, prev = 0;

    *out = NULL;
    memset(&c, 0, sizeof c);
    if ((rc = setup_target(&c, target, catalog)))
        return rc;
    c.new_defaults = opts->new_defaults;
    c.opts = opts;
    if (len >= 2 && ((data[0] == 0xff && data[1] == 0xfe) || (data[0] == 0xfe && data[1] == 0xff)))
        return vet_error_set(VET_EINPUT, "%s:1: UTF-16 input is not supported; convert it to UTF-8",
                             name ? name : "<input>");
    res = calloc(1, sizeof *res);
    if (!res)
        return vet_error_set(VET_ENOMEM, "out of memory");
    c.file = data;
    c.flen = len;
    {
        const unsigned char *nl = memchr(data, '\n', len);
        c.crlf = nl && nl > data && nl[-1] == '\r';
    }
    while (at < len) {
        size_t nx = next_chunk(data, len, at);
        for (size_t i = prev; i < at; i++)
            if (data[i] == '\n')
                c.line0++;
        prev = at;
        c.base = at;
        c.clen = nx - at;
        if ((rc = convert_chunk(&c, res, &all, name)))
            goto done;
        at = nx;
    }
    /* apply: edits of different documents never overlap (each stays inside its own chunk) */
    if (all.n)
        qsort(all.v, all.n, sizeof *all.v, cmp_edit);
    at = 0;
    for (size_t i = 0; i < all.n; i++) {
        edit *e = &all.v[i];
        if (e->off < at || e->off + e->del > len) {
            rc = vet_error_set(VET_EINPUT, "%s: internal error: overlapping edits at byte %zu",
                               name ? name : "<input>", e->off);
            goto done;
        }
        if ((rc = vet_buf_put(&ob, data + at, e->off - at)) || (rc = vet_buf_puts(&ob, e->ins)))
            goto done;
        at = e->off + e->del;
    }
    if ((rc = vet_buf_put(&ob, data + at, len - at)))
        goto done;
    res->len = ob.size;
    res->data = vet_buf_detach(&ob);
    if (!res->data) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    res->changed = res->len != len || memcmp(res->data, data, len) != 0;
    *out = res;
    res = NULL;
done:
    free_edits(&all, 0);
    free(all.v);
    free_edits(&c.ed, 0);
    free(c.ed.v);
    cv_reset_arena(&c);
    free(c.arena);
    free(c.cmap);
    vet_buf_free(&c.did);
    vet_buf_free(&c.manual);
    vet_buf_free(&ob);
    vet_convert_result_free(res);
    return rc;
}
