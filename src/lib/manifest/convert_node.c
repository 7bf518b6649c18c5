/* `apis convert`: reading the parsed document. Node access (mappings, sequences, scalars),
 * where a node's bytes are in the input (libyaml's marks count characters, the edits count
 * bytes), whether template text touches a span, and the two messages an object collects (what
 * was changed; why a person must decide). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "convert_int.h"
#include "error.h"

void *cv_alloc(cv *c, size_t size)
{
    void *p;
    if (c->narena == c->carena) {
        size_t n = c->carena ? c->carena * 2 : 32;
        void **a = realloc(c->arena, n * sizeof *a);
        if (!a)
            return c->err = VET_ENOMEM, NULL;
        c->arena = a;
        c->carena = n;
    }
    p = calloc(1, size ? size : 1);
    if (!p)
        return c->err = VET_ENOMEM, NULL;
    c->arena[c->narena++] = p;
    return p;
}

char *cv_strndup(cv *c, const char *s, size_t n)
{
    char *p = cv_alloc(c, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

yaml_node_t *cv_node(cv *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

size_t cv_npairs(const yaml_node_t *m)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return 0;
    return (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
}

yaml_node_t *cv_key_at(cv *c, yaml_node_t *m, size_t i)
{
    return cv_node(c, m->data.mapping.pairs.start[i].key);
}

yaml_node_t *cv_val_at(cv *c, yaml_node_t *m, size_t i)
{
    return cv_node(c, m->data.mapping.pairs.start[i].value);
}

size_t cv_nitems(const yaml_node_t *s)
{
    if (!s || s->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(s->data.sequence.items.top - s->data.sequence.items.start);
}

yaml_node_t *cv_item(cv *c, yaml_node_t *s, size_t i)
{
    return cv_node(c, s->data.sequence.items.start[i]);
}

int cv_scalar_is(const yaml_node_t *n, const char *s)
{
    size_t l = strlen(s);
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == l &&
           !memcmp(n->data.scalar.value, s, l);
}

const char *cv_str(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Index of `key` in mapping m, or -1. */
long cv_find(cv *c, yaml_node_t *m, const char *key)
{
    size_t n = cv_npairs(m);
    for (size_t i = 0; i < n; i++)
        if (cv_scalar_is(cv_key_at(c, m, i), key))
            return (long)i;
    return -1;
}

yaml_node_t *cv_get(cv *c, yaml_node_t *m, const char *key)
{
    long i = cv_find(c, m, key);
    return i < 0 ? NULL : cv_val_at(c, m, (size_t)i);
}

int cv_is_map(const yaml_node_t *n)
{
    return n && n->type == YAML_MAPPING_NODE;
}

int cv_is_null(const yaml_node_t *n)
{
    const char *s = cv_str(n);
    return !n || (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                  (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
                   !strcmp(s, "NULL")));
}

/* Byte offset in the file of a libyaml mark. libyaml counts characters, not bytes, so a chunk
 * holding non-ASCII text goes through the character map built in load_chunk(). */
size_t cv_pos(cv *c, yaml_mark_t m)
{
    size_t i = m.index;
    if (c->cmap) {
        if (i > c->nchars)
            i = c->nchars;
        return c->base + c->cmap[i];
    }
    return c->base + (i > c->clen ? c->clen : i);
}

size_t cv_line_start(cv *c, size_t off)
{
    while (off > 0 && c->file[off - 1] != '\n')
        off--;
    return off;
}

size_t cv_col(cv *c, size_t off)
{
    return off - cv_line_start(c, off);
}

/* The node whose end mark ends `n` on the page: the last leaf of a block collection (a block
 * collection's own end mark sits at the next token, after comments and blank lines). */
static yaml_node_t *last_leaf(cv *c, yaml_node_t *n)
{
    for (int d = 0; n && d < CV_MAX_DEPTH; d++) {
        if (n->type == YAML_MAPPING_NODE && n->data.mapping.style != YAML_FLOW_MAPPING_STYLE &&
            cv_npairs(n))
            n = cv_val_at(c, n, cv_npairs(n) - 1);
        else if (n->type == YAML_SEQUENCE_NODE &&
                 n->data.sequence.style != YAML_FLOW_SEQUENCE_STYLE && cv_nitems(n))
            n = cv_item(c, n, cv_nitems(n) - 1);
        else
            return n;
    }
    return n;
}

size_t cv_end(cv *c, yaml_node_t *n)
{
    return cv_pos(c, last_leaf(c, n)->end_mark);
}

size_t cv_line(cv *c, const yaml_node_t *n)
{
    return c->line0 + n->start_mark.line + 1;
}

int cv_templated(cv *c, yaml_node_t *n)
{
    return n && cv_has_template(c, cv_pos(c, n->start_mark), cv_end(c, n));
}

int cv_has_template(cv *c, size_t a, size_t b)
{
    for (size_t i = a; i + 1 < b; i++)
        if (c->file[i] == '{' && c->file[i + 1] == '{')
            return 1;
    return 0;
}

/* Append one "; "-separated note to b; out of memory is remembered in c->err. */
static void note(cv *c, vet_buf *b, const char *fmt, va_list ap)
{
    char *s;
    if (vasprintf(&s, fmt, ap) < 0) {
        c->err = VET_ENOMEM;
        return;
    }
    if (b->size)
        vet_buf_puts(b, "; ");
    vet_buf_puts(b, s);
    free(s);
}

void cv_stop(cv *c, const char *fmt, ...)
{
    va_list ap;
    c->stop = 1;
    va_start(ap, fmt);
    note(c, &c->manual, fmt, ap);
    va_end(ap);
}

void cv_did(cv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note(c, &c->did, fmt, ap);
    va_end(ap);
}
