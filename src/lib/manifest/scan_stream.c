/* Large documents, a List item by item. `kubectl get -A -o json|yaml` dumps are one document
 * holding every object; libyaml's document loader builds a node per scalar, about 15 times the
 * input in memory. Here one pass over libyaml's events notes the root's apiVersion, kind and
 * metadata, and composes each item of the root `items` on its own as it comes (memory: the
 * largest item) and judges it. kubectl writes `kind: List` after `items`: items met before the
 * root's kind are judged without it and get their list kind when it comes; if the root turns out
 * not to be a List (or a typed list whose items leave their type out), what they produced is taken
 * back and the whole-document path decides. Results equal the whole-document path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/yamlx.h"
#include "scan_int.h"

#define MAX_EVENT_DEPTH 512

typedef struct {
    char *av, *kind, *name, *ns;
    unsigned av_line, root_line;
    int items_seen, other;
    int deferred; /* items were judged before the root's kind was known */
    int typeless; /* ... one of them without apiVersion and kind (a typed list's shorthand) */
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
}

static mf_span span_of(const char *s)
{
    mf_span sp = {s, s ? strlen(s) : 0};
    return sp;
}

/* One item, composed from the events that follow its start event e. 0, or as pass(). */
static int item(mf_file *f, const vet_manifest_opts *o, yaml_parser_t *parser, yaml_event_t *e,
                unsigned line0, vet_mf_source src, root_facts *r, char *err, size_t errsize)
{
    yaml_document_t doc;
    yaml_node_t *root;
    mf_span none = {NULL, 0}, kind = span_of(r->kind);
    int typeless;
    if (!vet_yaml_compose_node(parser, e, &doc)) {
        if (parser->error == YAML_COMPOSER_ERROR || parser->error == YAML_MEMORY_ERROR)
            return 1; /* an alias across items, a bound: the whole-document path */
        snprintf(err, errsize, "%u:%zu: %s%s%s", line0 + (unsigned)parser->problem_mark.line,
                 parser->problem_mark.column + 1,
                 parser->problem ? parser->problem : "invalid YAML", parser->context ? " " : "",
                 parser->context ? parser->context : "");
        return -1;
    }
    root = yaml_document_get_root_node(&doc);
    typeless = !mf_map_get(&doc, root, "apiVersion", NULL) && !mf_map_get(&doc, root, "kind", NULL);
    if (r->kind && (r->av || !typeless)) {
        mf_yaml_tree_item(f, o, &doc, line0, src, span_of(r->av), kind);
    } else {
        /* judged now without the List's type; a typed list's typeless item needs it: then the
         * whole-document path */
        r->deferred = 1;
        r->typeless |= typeless;
        mf_yaml_tree_item(f, o, &doc, line0, src, none, none);
    }
    yaml_document_delete(&doc);
    return 0;
}

/* The pass. Returns 0, or -1 with err filled (invalid YAML), or 1 (not modelled: anchors outside
 * an item, several documents, too deep, a root that is not a List). */
static int pass(mf_file *f, const vet_manifest_opts *o, const unsigned char *p, size_t n,
                unsigned line0, vet_mf_source src, root_facts *r, char *err, size_t errsize)
{
    yaml_parser_t parser;
    yaml_event_t e;
    int depth = 0, rc = 0, docs = 0, done = 0;
    /* at depth 1 (root mapping) and 2 (metadata): is the next scalar a key? which key? */
    int root_key = 1, meta_key = 1, in_meta = 0, in_items = 0;
    enum { K_NONE, K_AV, K_KIND, K_META, K_ITEMS, K_NAME, K_NS } pending = K_NONE;
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
                /* the item whole, up to its end event: depth is back at 2 after it */
                if (r->kind && !mf_is_list(span_of(r->kind)))
                    rc = 1;
                else
                    rc = item(f, o, &parser, &e, line0, src, r, err, errsize);
                break;
            } else if (depth == 2 && in_meta) {
                meta_key = !meta_key; /* a collection as a metadata value */
                pending = K_NONE;
            }
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
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
    size_t base = f->n, before;
    int rc;
    memset(&r, 0, sizeof r);
    f->st.yaml_bytes += n;
    rc = pass(f, o, p, n, line0, src, &r, err, errsize);
    if (rc)
        goto done;
    memset(&fx, 0, sizeof fx);
    fx.kind = span_of(r.kind);
    if (r.other || !r.items_seen || !mf_is_list(fx.kind) || (r.typeless && fx.kind.n > 4)) {
        rc = 1;
        goto done;
    }
    fx.av = span_of(r.av);
    fx.name = span_of(r.name);
    fx.ns = span_of(r.ns);
    fx.line = r.av ? r.av_line : r.root_line;
    fx.source = src;
    if (r.deferred) {
        /* items judged before `kind:` came: theirs is this List (nested lists' items have their
         * own already) */
        const char *lk = NULL;
        for (size_t i = base; i < f->n; i++)
            if (!f->objs[i].list_kind && (lk || (lk = mf_span_dup(f, fx.kind))))
                f->objs[i].list_kind = lk;
    }
    /* the List itself comes before its items, as in the whole-document path */
    before = f->n;
    mf_emit(f, o, &fx);
    if (f->n > before && before > base) {
        vet_manifest_obj list = f->objs[before];
        memmove(&f->objs[base + 1], &f->objs[base], (before - base) * sizeof *f->objs);
        f->objs[base] = list;
    }
done:
    if (rc)
        f->n = base; /* what the items produced is taken back: the caller decides again */
    root_free(&r);
    return rc;
}
