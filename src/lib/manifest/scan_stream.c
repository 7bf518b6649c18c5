/* Large documents, a List item by item. `kubectl get -A -o json|yaml` dumps are one document
 * holding every object; libyaml's document loader builds a node per scalar, about 15 times the
 * input in memory. Here a first pass over libyaml's events (memory: the nesting depth) notes the
 * root's apiVersion, kind, metadata and the byte range of each item of the root `items`; kubectl
 * writes `kind: List` after `items`, so the items are read in a second step, each range loaded
 * on its own (memory: the largest item). Results equal the whole-document path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scan_int.h"

#define MAX_EVENT_DEPTH 512

typedef struct {
    size_t start, end; /* byte offsets in the document */
    unsigned line, col;
} range;

typedef struct {
    char *av, *kind, *name, *ns;
    unsigned av_line, root_line;
    range *items;
    size_t n, cap;
    int items_seen, other;
} root_facts;

static char *scalar_dup(const yaml_event_t *e)
{
    char *s = malloc(e->data.scalar.length + 1);
    if (s) {
        memcpy(s, e->data.scalar.value, e->data.scalar.length);
        s[e->data.scalar.length] = '\0';
    }
    return s;
}

static int scalar_is(const yaml_event_t *e, const char *lit)
{
    size_t n = strlen(lit);
    return e->type == YAML_SCALAR_EVENT && e->data.scalar.length == n &&
           !memcmp(e->data.scalar.value, lit, n);
}

static void root_free(root_facts *r)
{
    free(r->av);
    free(r->kind);
    free(r->name);
    free(r->ns);
    free(r->items);
}

/* Pass 1. Returns 0, or -1 with err filled (invalid YAML), or 1 (not modelled: anchors, several
 * documents, too deep). */
static int pass1(const unsigned char *p, size_t n, unsigned line0, root_facts *r, char *err,
                 size_t errsize)
{
    yaml_parser_t parser;
    yaml_event_t e;
    int depth = 0, rc = 0, docs = 0, done = 0;
    /* at depth 1 (root mapping) and 2 (metadata): is the next scalar a key? which key? */
    int root_key = 1, meta_key = 1, in_meta = 0, in_items = 0;
    enum { K_NONE, K_AV, K_KIND, K_META, K_ITEMS, K_NAME, K_NS } pending = K_NONE;
    size_t item_depth_start = 0;
    if (!yaml_parser_initialize(&parser))
        return 1;
    yaml_parser_set_input_string(&parser, p, n);
    while (!done) {
        if (!yaml_parser_parse(&parser, &e)) {
            snprintf(err, errsize, "%u:%zu: %s%s%s", line0 + (unsigned)parser.problem_mark.line,
                     parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
            rc = -1;
            break;
        }
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = 1;
            break;
        case YAML_ALIAS_EVENT:
            rc = 1; /* an alias may point into another item: the whole-document path */
            break;
        case YAML_SCALAR_EVENT:
            if (e.data.scalar.anchor) {
                rc = 1;
                break;
            }
            if (depth == 1) {
                if (root_key) {
                    pending = scalar_is(&e, "apiVersion") ? K_AV
                              : scalar_is(&e, "kind")     ? K_KIND
                              : scalar_is(&e, "items")    ? K_ITEMS
                              : scalar_is(&e, "metadata") ? K_META
                                                          : K_NONE;
                    if (pending == K_AV)
                        r->av_line = line0 + (unsigned)e.start_mark.line;
                } else {
                    char **slot = pending == K_AV ? &r->av : pending == K_KIND ? &r->kind : NULL;
                    if (slot) {
                        free(*slot);
                        *slot = scalar_dup(&e);
                    }
                    pending = K_NONE;
                }
                root_key = !root_key;
            } else if (depth == 2 && in_meta) {
                if (meta_key) {
                    pending = scalar_is(&e, "name")        ? K_NAME
                              : scalar_is(&e, "namespace") ? K_NS
                                                           : K_NONE;
                } else {
                    char **slot = pending == K_NAME ? &r->name : pending == K_NS ? &r->ns : NULL;
                    if (slot) {
                        free(*slot);
                        *slot = scalar_dup(&e);
                    }
                    pending = K_NONE;
                }
                meta_key = !meta_key;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if ((e.type == YAML_SEQUENCE_START_EVENT ? e.data.sequence_start.anchor
                                                     : e.data.mapping_start.anchor) ||
                depth >= MAX_EVENT_DEPTH) {
                rc = 1;
                break;
            }
            if (depth == 0 && e.type != YAML_MAPPING_START_EVENT)
                r->other = 1;
            if (depth == 0)
                r->root_line = line0 + (unsigned)e.start_mark.line;
            if (depth == 1) {
                /* a collection as a root value */
                in_meta = pending == K_META && e.type == YAML_MAPPING_START_EVENT;
                in_items = pending == K_ITEMS && e.type == YAML_SEQUENCE_START_EVENT;
                if (in_items)
                    r->items_seen = 1;
                meta_key = 1;
                pending = K_NONE;
                root_key = 1;
            } else if (depth == 2 && in_items && e.type == YAML_MAPPING_START_EVENT) {
                if (r->n == r->cap) {
                    size_t cap = r->cap ? r->cap * 2 : 256;
                    range *nr = realloc(r->items, cap * sizeof *nr);
                    if (!nr) {
                        rc = 1;
                        break;
                    }
                    r->items = nr;
                    r->cap = cap;
                }
                r->items[r->n].start = e.start_mark.index;
                r->items[r->n].line = (unsigned)e.start_mark.line;
                r->items[r->n].col = (unsigned)e.start_mark.column;
                item_depth_start = 1;
            } else if (depth == 2 && in_meta) {
                meta_key = !meta_key; /* a collection as a metadata value */
                pending = K_NONE;
            }
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            if (depth == 2 && in_items && item_depth_start && e.type == YAML_MAPPING_END_EVENT) {
                r->items[r->n++].end = e.end_mark.index;
                item_depth_start = 0;
            }
            if (depth == 1)
                in_meta = in_items = 0;
            break;
        default:
            break;
        }
        yaml_event_delete(&e);
        if (rc)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

int mf_stream_doc(mf_file *f, const vet_manifest_opts *o, const unsigned char *p, size_t n,
                  unsigned line0, vet_mf_source src, char *err, size_t errsize)
{
    root_facts r;
    mf_facts fx;
    unsigned char *buf = NULL;
    size_t bufcap = 0;
    int rc;
    memset(&r, 0, sizeof r);
    rc = pass1(p, n, line0, &r, err, errsize);
    if (rc)
        goto done;
    memset(&fx, 0, sizeof fx);
    fx.kind.p = r.kind;
    fx.kind.n = r.kind ? strlen(r.kind) : 0;
    if (r.other || !r.items_seen || !mf_is_list(fx.kind)) {
        rc = 1;
        goto done;
    }
    fx.av.p = r.av;
    fx.av.n = r.av ? strlen(r.av) : 0;
    fx.name.p = r.name;
    fx.name.n = r.name ? strlen(r.name) : 0;
    fx.ns.p = r.ns;
    fx.ns.n = r.ns ? strlen(r.ns) : 0;
    fx.line = r.av ? r.av_line : r.root_line;
    fx.source = src;
    mf_emit(f, o, &fx);
    for (size_t i = 0; i < r.n; i++) {
        const range *it = &r.items[i];
        size_t len = it->end - it->start, need = it->col + len;
        if (it->end < it->start || it->end > n)
            continue;
        if (need > bufcap) {
            unsigned char *nb = realloc(buf, need);
            if (!nb) {
                f->oom = 1;
                break;
            }
            buf = nb;
            bufcap = need;
        }
        /* the item's first key keeps its column: the lines after it are indented to match */
        memset(buf, ' ', it->col);
        memcpy(buf + it->col, p + it->start, len);
        mf_yaml_item(f, o, buf, need, line0 + it->line, src, fx.av, fx.kind);
    }
done:
    free(buf);
    root_free(&r);
    return rc;
}
