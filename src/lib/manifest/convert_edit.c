/* `apis convert`, the span editor: edits (offset, bytes deleted, text inserted) of the current
 * document, and new content rendered in the style of the place it goes to (block or flow, JSON
 * quoting, the document's indentation step, CRLF). Only convert.c applies the edits. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "convert_int.h"
#include "error.h"

#define MAX_DEPTH 200

/* Only blanks (or "- " sequence indicators when dash) between the line start and off. */
static int only_blanks_before(cv *c, size_t off, int dash)
{
    for (size_t i = cv_line_start(c, off); i < off; i++)
        if (c->file[i] != ' ' && !(dash && c->file[i] == '-'))
            return 0;
    return 1;
}

/* End of pair i's value; 0 (and a stop) when it does not follow its key (an alias). */
static size_t pair_end(cv *c, yaml_node_t *m, size_t i)
{
    yaml_node_t *k = cv_key_at(c, m, i), *v = cv_val_at(c, m, i);
    size_t ke = cv_pos(c, k->end_mark), ve = cv_end(c, v);
    if (ve < ke || cv_pos(c, v->start_mark) < ke) {
        if (cv_is_null(v) && v->type == YAML_SCALAR_NODE)
            return ke;
        cv_stop(c, "line %zu: an alias or merge key where a value is rewritten; edit by hand",
                cv_line(c, k));
        return 0;
    }
    return ve;
}

/* Start of the line after off (off itself when it already starts a line). */
static size_t eol_after(cv *c, size_t off)
{
    if (off > 0 && c->file[off - 1] == '\n')
        return off;
    while (off < c->flen && c->file[off] != '\n')
        off++;
    return off < c->flen ? off + 1 : off;
}

/* ---------------------------------------------------------------- edits */

/* Append an edit; takes ins (freed on failure). */
int cv_edit_push(editv *ev, size_t off, size_t del, char *ins, size_t seq)
{
    edit *e;
    if (!ins)
        return VET_ENOMEM;
    if (ev->n == ev->cap) {
        size_t n = ev->cap ? ev->cap * 2 : 16;
        edit *v = realloc(ev->v, n * sizeof *v);
        if (!v) {
            free(ins);
            return VET_ENOMEM;
        }
        ev->v = v;
        ev->cap = n;
    }
    e = &ev->v[ev->n++];
    e->off = off;
    e->del = del;
    e->ins = ins;
    e->seq = seq;
    return 0;
}

/* Inserted text follows the file's line breaks: CRLF files get CRLF. */
static char *crlf(char *s)
{
    size_t n = 0, l;
    char *o, *q;
    if (!s)
        return NULL;
    for (size_t i = 0; s[i]; i++)
        n += s[i] == '\n' && (i == 0 || s[i - 1] != '\r');
    if (!n)
        return s;
    l = strlen(s);
    o = malloc(l + n + 1);
    if (!o) {
        free(s);
        return NULL;
    }
    q = o;
    for (size_t i = 0; i < l; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            *q++ = '\r';
        *q++ = s[i];
    }
    *q = '\0';
    free(s);
    return o;
}

static void ed_add(cv *c, size_t off, size_t del, char *ins)
{
    if (c->crlf)
        ins = crlf(ins);
    if (cv_edit_push(c->redirect ? c->redirect : &c->ed, off, del, ins, c->seq++))
        c->err = VET_ENOMEM;
}

static char *buf_take(cv *c, vet_buf *b)
{
    char *s;
    if (c->err) {
        vet_buf_free(b);
        return NULL;
    }
    s = vet_buf_detach(b);
    if (!s)
        c->err = VET_ENOMEM;
    return s;
}

/* Replace a scalar's text, keeping its quotes. */
void cv_set_scalar(cv *c, yaml_node_t *n, const char *text)
{
    size_t a = cv_pos(c, n->start_mark), b = cv_pos(c, n->end_mark);
    yaml_scalar_style_t st;
    if (n->type != YAML_SCALAR_NODE || b < a) {
        cv_stop(c, "line %zu: expected a plain value", cv_line(c, n));
        return;
    }
    st = n->data.scalar.style;
    if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE ||
        memchr(c->file + a, '\n', b - a)) {
        cv_stop(c, "line %zu: a multi-line value where a one-line value was expected",
                cv_line(c, n));
        return;
    }
    if ((st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
        b - a >= 2) {
        a++;
        b--;
    }
    ed_add(c, a, b - a, strdup(text));
}

/* ---------------------------------------------------------------- new content */

nv *nv_word(cv *c, const char *s)
{
    nv *v = cv_alloc(c, sizeof *v);
    if (v) {
        v->t = NV_WORD;
        v->s = s;
    }
    return v;
}

nv *nv_raw(cv *c, const char *s)
{
    nv *v = nv_word(c, s);
    if (v)
        v->t = NV_RAW;
    return v;
}

nv *nv_src(cv *c, yaml_node_t *src, yaml_node_t *srckey, const char *const *ren)
{
    nv *v = cv_alloc(c, sizeof *v);
    if (v) {
        v->t = NV_SRC;
        v->src = src;
        v->srckeycol = cv_col(c, cv_pos(c, srckey->start_mark));
        v->ren = ren;
    }
    return v;
}

nv *nv_map(cv *c, size_t n)
{
    nv *v = cv_alloc(c, sizeof *v);
    if (v) {
        v->t = NV_MAP;
        v->kv = cv_alloc(c, (n ? n : 1) * sizeof *v->kv);
        if (!v->kv)
            return NULL;
    }
    return v;
}

nv *nv_seq(cv *c, size_t n)
{
    nv *v = cv_alloc(c, sizeof *v);
    if (v) {
        v->t = NV_SEQ;
        v->items = cv_alloc(c, (n ? n : 1) * sizeof *v->items);
        if (!v->items)
            return NULL;
    }
    return v;
}

void nv_put(nv *m, const char *key, nv *val)
{
    if (!m || !val)
        return;
    m->kv[m->n].key = key;
    m->kv[m->n].raw = 0;
    m->kv[m->n++].val = val;
}

void nv_put_raw(nv *m, const char *key, nv *val)
{
    if (!m || !val)
        return;
    m->kv[m->n].key = key;
    m->kv[m->n].raw = 1;
    m->kv[m->n++].val = val;
}

/* Source text of node n with the keys named in ren (old, new, ..., NULL) renamed inside it. */
static int ren_walk(cv *c, yaml_node_t *n, const char *const *ren, vet_buf *b, size_t *at,
                    size_t end, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    if (n->type == YAML_MAPPING_NODE) {
        for (size_t i = 0; i < cv_npairs(n); i++) {
            yaml_node_t *k = cv_key_at(c, n, i);
            for (const char *const *r = ren; r && r[0]; r += 2)
                if (cv_scalar_is(k, r[0]) && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
                    size_t a = cv_pos(c, k->start_mark), e = cv_pos(c, k->end_mark);
                    if (a < *at || e > end)
                        continue;
                    vet_buf_put(b, c->file + *at, a - *at);
                    vet_buf_puts(b, r[1]);
                    *at = e;
                }
            ren_walk(c, cv_val_at(c, n, i), ren, b, at, end, depth + 1);
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < cv_nitems(n); i++)
            ren_walk(c, cv_item(c, n, i), ren, b, at, end, depth + 1);
    }
    return 0;
}

int cv_is_block_coll(const yaml_node_t *n)
{
    return (n->type == YAML_MAPPING_NODE && n->data.mapping.style != YAML_FLOW_MAPPING_STYLE &&
            cv_npairs(n)) ||
           (n->type == YAML_SEQUENCE_NODE && n->data.sequence.style != YAML_FLOW_SEQUENCE_STYLE &&
            cv_nitems(n));
}

/* Append text, shifting every line after the first by delta columns. */
static void put_reindented(vet_buf *b, const char *t, size_t len, long delta)
{
    for (size_t i = 0; i < len; i++) {
        vet_buf_put(b, t + i, 1);
        if (t[i] != '\n' || i + 1 >= len)
            continue;
        if (delta > 0) {
            if (t[i + 1] != '\n' && t[i + 1] != '\r')
                for (long k = 0; k < delta; k++)
                    vet_buf_put(b, " ", 1);
        } else {
            for (long k = 0; k < -delta && i + 1 < len && t[i + 1] == ' '; k++)
                i++;
        }
    }
}

static void pad(vet_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vet_buf_put(b, " ", 1);
}

static void src_text(cv *c, nv *v, vet_buf *out)
{
    size_t a = cv_pos(c, v->src->start_mark), e = cv_end(c, v->src), at = a;
    if (e < a) {
        cv_stop(c, "line %zu: cannot copy an aliased value", cv_line(c, v->src));
        return;
    }
    /* A copy ending in a block scalar carries its line break; the caller adds its own. */
    while (e > a && (c->file[e - 1] == '\n' || c->file[e - 1] == '\r'))
        e--;
    if (v->patches) {
        for (size_t i = 0; i < v->patches->n; i++) {
            const edit *p = &v->patches->v[i];
            if (p->off < at || p->off + p->del > e) {
                cv_stop(c,
                        "line %zu: a change inside a copied value falls outside it; edit by hand",
                        cv_line(c, v->src));
                return;
            }
            vet_buf_put(out, c->file + at, p->off - at);
            vet_buf_puts(out, p->ins);
            at = p->off + p->del;
        }
        vet_buf_put(out, c->file + at, e - at);
        return;
    }
    ren_walk(c, v->src, v->ren, out, &at, e, 0);
    vet_buf_put(out, c->file + at, e - at);
}

static void rblock_val(cv *c, vet_buf *b, nv *v, size_t col);

static void rblock_pairs(cv *c, vet_buf *b, nv *m, size_t col, int first_inline)
{
    for (size_t i = 0; i < m->n; i++) {
        if (i || !first_inline) {
            vet_buf_puts(b, "\n");
            pad(b, col);
        }
        vet_buf_puts(b, m->kv[i].key);
        vet_buf_puts(b, ":");
        rblock_val(c, b, m->kv[i].val, col);
    }
}

/* Render ":"'s right-hand side for a key at column col, block style. */
static void rblock_val(cv *c, vet_buf *b, nv *v, size_t col)
{
    switch (v->t) {
    case NV_WORD:
    case NV_RAW:
        vet_buf_puts(b, " ");
        vet_buf_puts(b, v->s);
        break;
    case NV_SRC: {
        vet_buf t = VET_BUF_INIT;
        long delta = (long)col - (long)v->srckeycol;
        src_text(c, v, &t);
        if (cv_is_block_coll(v->src)) {
            long sc = (long)cv_col(c, cv_pos(c, v->src->start_mark)) + delta;
            vet_buf_puts(b, "\n");
            pad(b, sc > 0 ? (size_t)sc : 0);
        } else {
            vet_buf_puts(b, " ");
        }
        put_reindented(b, t.ptr ? t.ptr : "", t.size, delta);
        vet_buf_free(&t);
        break;
    }
    case NV_MAP:
        if (!v->n)
            vet_buf_puts(b, " {}");
        else
            rblock_pairs(c, b, v, col + (size_t)c->step, 0);
        break;
    case NV_SEQ:
        if (!v->n) {
            vet_buf_puts(b, " []");
            break;
        }
        for (size_t i = 0; i < v->n; i++) {
            nv *it = v->items[i];
            vet_buf_puts(b, "\n");
            pad(b, col + (size_t)c->seq_off);
            vet_buf_puts(b, "-");
            if (it->t == NV_MAP && it->n) {
                vet_buf_puts(b, " ");
                rblock_pairs(c, b, it, col + (size_t)c->seq_off + 2, 1);
            } else {
                rblock_val(c, b, it, col + (size_t)c->seq_off + 2);
            }
        }
        break;
    }
}

static void rflow(cv *c, vet_buf *b, nv *v, int json)
{
    switch (v->t) {
    case NV_WORD:
        vet_buf_printf(b, json ? "\"%s\"" : "%s", v->s);
        break;
    case NV_RAW:
        vet_buf_puts(b, v->s);
        break;
    case NV_SRC:
        if (cv_is_block_coll(v->src)) {
            cv_stop(c, "line %zu: cannot move a block value into a flow mapping; edit by hand",
                    cv_line(c, v->src));
            break;
        }
        src_text(c, v, b);
        break;
    case NV_MAP:
    case NV_SEQ:
        vet_buf_puts(b, v->t == NV_MAP ? "{" : "[");
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                vet_buf_puts(b, ", ");
            if (v->t == NV_MAP) {
                vet_buf_printf(b, json && !v->kv[i].raw ? "\"%s\": " : "%s: ", v->kv[i].key);
                rflow(c, b, v->kv[i].val, json);
            } else {
                rflow(c, b, v->items[i], json);
            }
        }
        vet_buf_puts(b, v->t == NV_MAP ? "}" : "]");
        break;
    }
}

static int map_is_flow(const yaml_node_t *m)
{
    return m->data.mapping.style == YAML_FLOW_MAPPING_STYLE;
}

static int map_is_json(cv *c, yaml_node_t *m)
{
    return cv_npairs(m) && cv_key_at(c, m, 0)->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

/* Separator between pairs of a flow mapping in the style of its existing pairs: ", " on one
 * line, or ",\n" + the indentation of the last key for pretty-printed JSON. */
static void flow_sep(cv *c, vet_buf *b, yaml_node_t *m)
{
    size_t n = cv_npairs(m);
    yaml_node_t *k = n ? cv_key_at(c, m, n - 1) : NULL;
    if (k && k->start_mark.line != m->start_mark.line) {
        vet_buf_puts(b, ",\n");
        pad(b, cv_col(c, cv_pos(c, k->start_mark)));
    } else {
        vet_buf_puts(b, ", ");
    }
}

static void rflow_pairs(cv *c, vet_buf *b, yaml_node_t *m, const nkv *kv, size_t n)
{
    int json = map_is_json(c, m);
    for (size_t i = 0; i < n; i++) {
        if (i)
            flow_sep(c, b, m);
        vet_buf_printf(b, json && !kv[i].raw ? "\"%s\": " : "%s: ", kv[i].key);
        rflow(c, b, kv[i].val, json);
    }
}

/* Insert pairs into mapping m: before pair `before` when it starts its line (after the comments
 * just above it), else after pair `after` (default the last pair). */
void cv_insert(cv *c, yaml_node_t *m, long before, long after, const nkv *kv, size_t n)
{
    vet_buf b = VET_BUF_INIT;
    size_t np = cv_npairs(m), off, col;
    nv tmp;
    if (!n || c->stop || c->err)
        return;
    if (!np) {
        cv_stop(c, "line %zu: cannot add to an empty mapping; edit by hand",
                c->line0 + m->start_mark.line + 1);
        return;
    }
    tmp.t = NV_MAP;
    tmp.kv = (nkv *)kv;
    tmp.n = n;
    col = cv_col(c, cv_pos(c, cv_key_at(c, m, 0)->start_mark));
    if (map_is_flow(m)) {
        off = pair_end(c, m, np - 1);
        if (!off)
            return;
        flow_sep(c, &b, m);
        rflow_pairs(c, &b, m, kv, n);
        ed_add(c, off, 0, buf_take(c, &b));
        return;
    }
    if (before >= 0 && (size_t)before < np) {
        size_t ks = cv_pos(c, cv_key_at(c, m, (size_t)before)->start_mark);
        if (only_blanks_before(c, ks, 0)) {
            off = cv_line_start(c, ks);
            /* keep the comment lines just above the key with the key */
            while (off > c->base) {
                size_t p = cv_line_start(c, off - 1), q = p;
                while (q < off && c->file[q] == ' ')
                    q++;
                if (q >= off || c->file[q] != '#')
                    break;
                off = p;
            }
            pad(&b, col);
            rblock_pairs(c, &b, &tmp, col, 1);
            vet_buf_puts(&b, "\n");
            ed_add(c, off, 0, buf_take(c, &b));
            return;
        }
    }
    if (after < 0 || (size_t)after >= np)
        after = (long)np - 1;
    off = pair_end(c, m, (size_t)after);
    if (!off)
        return;
    off = eol_after(c, off);
    if (off == c->flen && (!off || c->file[off - 1] != '\n'))
        vet_buf_puts(&b, "\n");
    pad(&b, col);
    rblock_pairs(c, &b, &tmp, col, 1);
    vet_buf_puts(&b, "\n");
    ed_add(c, off, 0, buf_take(c, &b));
}

/* Replace pair i of m (key and value) with the given pairs, at the same place. */
void cv_replace(cv *c, yaml_node_t *m, size_t i, const nkv *kv, size_t n)
{
    vet_buf b = VET_BUF_INIT;
    size_t ks = cv_pos(c, cv_key_at(c, m, i)->start_mark), ve;
    nv tmp;
    if (c->stop || c->err)
        return;
    ve = pair_end(c, m, i);
    if (!ve)
        return;
    tmp.t = NV_MAP;
    tmp.kv = (nkv *)kv;
    tmp.n = n;
    if (map_is_flow(m)) {
        rflow_pairs(c, &b, m, kv, n);
    } else {
        rblock_pairs(c, &b, &tmp, cv_col(c, ks), 1);
        if (ve > ks && c->file[ve - 1] == '\n')
            vet_buf_puts(&b, "\n");
    }
    ed_add(c, ks, ve - ks, buf_take(c, &b));
}

/* Delete pair i of m. */
void cv_delete(cv *c, yaml_node_t *m, size_t i)
{
    size_t np = cv_npairs(m), ks = cv_pos(c, cv_key_at(c, m, i)->start_mark), ve, a, e;
    if (c->stop || c->err)
        return;
    ve = pair_end(c, m, i);
    if (!ve)
        return;
    if (map_is_flow(m)) {
        if (i + 1 < np) {
            a = ks;
            e = cv_pos(c, cv_key_at(c, m, i + 1)->start_mark);
        } else if (i > 0) {
            a = pair_end(c, m, i - 1);
            e = ve;
            if (!a)
                return;
        } else {
            a = ks;
            e = ve;
        }
    } else if (only_blanks_before(c, ks, 0)) {
        a = cv_line_start(c, ks);
        e = eol_after(c, ve);
    } else if (i + 1 < np) {
        /* "- key: v" followed by more pairs: the next key moves up behind the dash */
        a = ks;
        e = cv_pos(c, cv_key_at(c, m, i + 1)->start_mark);
    } else {
        cv_stop(c, "line %zu: cannot delete the only key of a list item; edit by hand",
                cv_line(c, cv_key_at(c, m, i)));
        return;
    }
    ed_add(c, a, e - a, strdup(""));
}

void cv_rename(cv *c, yaml_node_t *m, size_t i, const char *name)
{
    cv_set_scalar(c, cv_key_at(c, m, i), name);
}

void cv_replace_node(cv *c, yaml_node_t *n, const char *text)
{
    size_t a = cv_pos(c, n->start_mark), b = cv_end(c, n);
    if (c->stop || c->err)
        return;
    if (b < a || memchr(c->file + a, '\n', b - a)) {
        cv_stop(c, "line %zu: a multi-line value where a one-line value was expected",
                cv_line(c, n));
        return;
    }
    ed_add(c, a, b - a, strdup(text));
}

int cv_first_key_starts_line(cv *c, yaml_node_t *m)
{
    return cv_npairs(m) && only_blanks_before(c, cv_pos(c, cv_key_at(c, m, 0)->start_mark), 0);
}
