/* The full path: libyaml's document loader on one document's bytes (or a whole JSON file), with
 * the parser's marks for line numbers. Used for everything the line extractor does not model:
 * JSON, flow style, anchors, `kind: List` / `*List` items, and for every document under
 * --full-parse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/yamlx.h"
#include "scan_int.h"

#define MAX_LIST_DEPTH 4

typedef struct {
    mf_file *f;
    const vet_manifest_opts *o;
    yaml_document_t *doc;
    unsigned line0;
    vet_mf_source src;
} yctx;

static mf_span sspan(const yaml_node_t *n)
{
    mf_span s = {NULL, 0};
    if (n && n->type == YAML_SCALAR_NODE) {
        s.p = (const char *)n->data.scalar.value;
        s.n = n->data.scalar.length;
    }
    return s;
}

static yaml_node_t *get(yctx *c, yaml_node_t *map, const char *key, yaml_node_t **keynode)
{
    return mf_map_get(c->doc, map, key, keynode);
}

static unsigned line_of(yctx *c, const yaml_node_t *n)
{
    return c->line0 + (unsigned)n->start_mark.line;
}

/* null in YAML: an empty plain scalar, null, Null, NULL, ~ (the core schema). */
static int is_null(const yaml_node_t *n)
{
    mf_span s;
    if (!n)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    s = sspan(n);
    return s.n == 0 ||
           (s.n == 4 &&
            (!memcmp(s.p, "null", 4) || !memcmp(s.p, "Null", 4) || !memcmp(s.p, "NULL", 4))) ||
           (s.n == 1 && s.p[0] == '~');
}

static void labels_of(yctx *c, yaml_node_t *map, mf_labels *l)
{
    l->n = 0;
    if (!map || map->type != YAML_MAPPING_NODE)
        return;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (l->n == MF_MAX_LABELS)
            return;
        if (!k || k->type != YAML_SCALAR_NODE || !v || v->type != YAML_SCALAR_NODE)
            continue;
        l->k[l->n] = sspan(k);
        l->v[l->n] = sspan(v);
        l->n++;
    }
}

static int span_in(mf_span s, const mf_labels *l, mf_span *val)
{
    for (size_t j = l->n; j-- > 0;)
        if (l->k[j].n == s.n && !memcmp(l->k[j].p, s.p, s.n)) {
            if (val)
                *val = l->v[j];
            return 1;
        }
    return 0;
}

/* matchExpressions (In, NotIn, Exists, DoesNotExist) against the template labels. */
static vet_sel_state match_exprs(yctx *c, yaml_node_t *seq, const mf_labels *labels, char *detail,
                                 size_t dsize)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return VET_SEL_OK;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(c->doc, *it);
        mf_span key = sspan(get(c, e, "key", NULL)), op = sspan(get(c, e, "operator", NULL)), val;
        yaml_node_t *vals = get(c, e, "values", NULL);
        int present, in = 0;
        if (!key.p || !op.p) {
            snprintf(detail, dsize, "matchExpressions: an entry without key or operator");
            return VET_SEL_MISMATCH;
        }
        present = span_in(key, labels, &val);
        if (present && vals && vals->type == YAML_SEQUENCE_NODE)
            for (yaml_node_item_t *v = vals->data.sequence.items.start;
                 v < vals->data.sequence.items.top; v++) {
                mf_span s = sspan(yaml_document_get_node(c->doc, *v));
                if (s.p && s.n == val.n && !memcmp(s.p, val.p, s.n))
                    in = 1;
            }
#define OP(lit) (op.n == strlen(lit) && !memcmp(op.p, lit, op.n))
        if (OP("In")             ? !(present && in)
            : OP("NotIn")        ? (present && in)
            : OP("Exists")       ? !present
            : OP("DoesNotExist") ? present
                                 : 1) {
            if (OP("In") || OP("NotIn") || OP("Exists") || OP("DoesNotExist"))
                snprintf(detail, dsize, "matchExpressions %.*s %.*s: %s", (int)key.n, key.p,
                         (int)op.n, op.p,
                         present ? "the template label does not satisfy it"
                                 : "the template has no such label");
            else
                snprintf(detail, dsize, "matchExpressions %.*s: unknown operator %.*s", (int)key.n,
                         key.p, (int)op.n, op.p);
            return VET_SEL_MISMATCH;
        }
#undef OP
    }
    return VET_SEL_OK;
}

static size_t seq_len(const yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE
               ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
               : 0;
}

static void selector(yctx *c, yaml_node_t *obj, mf_facts *fx)
{
    yaml_node_t *speck, *selk, *spec = get(c, obj, "spec", &speck), *sel, *ml, *me, *labels;
    mf_labels *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    if (!a || !b) {
        c->f->oom = 1;
        goto done;
    }
    sel = get(c, spec, "selector", &selk);
    fx->sel_line = selk ? line_of(c, selk) : speck ? line_of(c, speck) : fx->line;
    if (is_null(sel)) {
        fx->sel = VET_SEL_MISSING;
        goto done;
    }
    ml = get(c, sel, "matchLabels", NULL);
    me = get(c, sel, "matchExpressions", NULL);
    labels_of(c, ml, a);
    labels = get(c, get(c, get(c, spec, "template", NULL), "metadata", NULL), "labels", NULL);
    labels_of(c, labels, b);
    if (!a->n && !seq_len(me)) {
        fx->sel = VET_SEL_EMPTY;
        goto done;
    }
    fx->sel = mf_match_labels(a, b, b->n > 0, fx->detail, sizeof fx->detail);
    if (fx->sel == VET_SEL_OK)
        fx->sel = match_exprs(c, me, b, fx->detail, sizeof fx->detail);
done:
    free(a);
    free(b);
}

static void object(yctx *c, yaml_node_t *obj, mf_span list_av, mf_span list_kind, int depth)
{
    yaml_node_t *avk, *kindk, *meta, *items;
    mf_facts fx;
    if (!obj || obj->type != YAML_MAPPING_NODE)
        return;
    memset(&fx, 0, sizeof fx);
    fx.av = sspan(get(c, obj, "apiVersion", &avk));
    fx.kind = sspan(get(c, obj, "kind", &kindk));
    if (list_kind.p && list_kind.n > 4 && !fx.kind.p && !fx.av.p) {
        /* items of a typed list (DeploymentList) may leave out their own type */
        fx.av = list_av;
        fx.kind.p = list_kind.p;
        fx.kind.n = list_kind.n - 4;
    }
    fx.line = avk ? line_of(c, avk) : line_of(c, obj);
    fx.list_kind = list_kind;
    fx.source = c->src;
    meta = get(c, obj, "metadata", NULL);
    fx.name = sspan(get(c, meta, "name", NULL));
    fx.ns = sspan(get(c, meta, "namespace", NULL));
    if (mf_is_workload(fx.av, fx.kind))
        selector(c, obj, &fx);
    else if (mf_needs_fields(fx.av, fx.kind))
        mf_fields_check(c->doc, obj, c->line0, &fx);
    if (fx.av.p || fx.kind.p)
        mf_emit(c->f, c->o, &fx);
    items = get(c, obj, "items", NULL);
    if (mf_is_list(fx.kind) && items && items->type == YAML_SEQUENCE_NODE && depth < MAX_LIST_DEPTH)
        for (yaml_node_item_t *it = items->data.sequence.items.start;
             it < items->data.sequence.items.top; it++)
            object(c, yaml_document_get_node(c->doc, *it), fx.av, fx.kind, depth + 1);
}

int mf_yaml_doc(mf_file *f, const vet_manifest_opts *o, const unsigned char *p, size_t n,
                unsigned line0, vet_mf_source src, char *err, size_t errsize)
{
    yaml_parser_t parser;
    yctx c = {f, o, NULL, line0, src};
    int rc = 0;
    if (!yaml_parser_initialize(&parser)) {
        f->oom = 1;
        return 0;
    }
    yaml_parser_set_input_string(&parser, p, n);
    f->st.yaml_bytes += n;
    for (;;) {
        yaml_document_t doc;
        yaml_node_t *root;
        mf_span none = {NULL, 0};
        if (!vet_yaml_parser_load(&parser, &doc)) {
            snprintf(err, errsize, "%u:%zu: %s%s%s", line0 + (unsigned)parser.problem_mark.line,
                     parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
            rc = vet_yaml_over_limit(&parser) ? -2 : -1;
            break;
        }
        root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        c.doc = &doc;
        object(&c, root, none, none, 0);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return rc;
}

void mf_yaml_tree_item(mf_file *f, const vet_manifest_opts *o, yaml_document_t *doc,
                       unsigned line0, vet_mf_source src, mf_span list_av, mf_span list_kind)
{
    yctx c = {f, o, doc, line0, src};
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (root)
        object(&c, root, list_av, list_kind, 1);
}
