#include "yamlx.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

struct vet_yaml {
    yaml_document_t *docs;
    size_t n, cap;
};

#define MAX_DOCS 10000

/* The composer. libyaml 0.2.5's yaml_parser_load() recurses once per level (a deep document
 * exhausts the C stack after quadratic scanning) and lets an alias name the collection that
 * contains it (a cycle every recursive reader then follows forever). This one keeps its own
 * stack, bounded by VET_YAML_MAX_DEPTH, and registers an anchor only once its node is complete,
 * so the graph is acyclic; the node layout (ids, marks, styles, default tags) is libyaml's. */

typedef struct {
    int node;       /* id of the open collection */
    int key;        /* mapping: key waiting for its value, or 0 */
    char *anchor;   /* its anchor, registered when it closes */
    uint64_t nodes; /* nodes in it so far, aliases expanded */
} frame;

typedef struct {
    char *name;
    int node;
    uint64_t nodes;
} anchor;

typedef struct {
    yaml_parser_t *p;
    yaml_document_t *doc;
    frame *st;
    size_t depth, stcap;
    anchor *tab; /* open addressing, power-of-two size */
    size_t ntab, tabcap;
    uint64_t own, extra; /* nodes in the document; nodes aliases add */
} composer;

#define STR_(x) #x
#define STR(x) STR_(x)
static const char too_deep[] = "nesting deeper than " STR(VET_YAML_MAX_DEPTH) " levels";
static const char too_many_aliases[] = "aliases expand to too many nodes";

int vet_yaml_over_limit(const yaml_parser_t *p)
{
    return p->error == YAML_COMPOSER_ERROR &&
           (p->problem == too_deep || p->problem == too_many_aliases);
}

static int fail(composer *c, const char *problem, yaml_mark_t mark)
{
    c->p->error = YAML_COMPOSER_ERROR;
    c->p->problem = problem;
    c->p->problem_mark = mark;
    c->p->context = NULL;
    return 0;
}

static int oom(composer *c)
{
    c->p->error = YAML_MEMORY_ERROR;
    c->p->problem = "out of memory";
    c->p->context = NULL;
    return 0;
}

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static anchor *anchor_slot(anchor *tab, size_t cap, const char *name)
{
    size_t i = name_hash(name) & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

/* Takes ownership of name. The latest definition of a name wins (YAML 1.2, 3.2.2.2). */
static int anchor_add(composer *c, char *name, int node, uint64_t nodes)
{
    anchor *a;
    if (!name)
        return 1;
    if ((c->ntab + 1) * 2 > c->tabcap) {
        size_t cap = c->tabcap ? c->tabcap * 2 : 16;
        anchor *t = calloc(cap, sizeof *t);
        if (!t) {
            free(name);
            return oom(c);
        }
        for (size_t i = 0; i < c->tabcap; i++)
            if (c->tab[i].name)
                *anchor_slot(t, cap, c->tab[i].name) = c->tab[i];
        free(c->tab);
        c->tab = t;
        c->tabcap = cap;
    }
    a = anchor_slot(c->tab, c->tabcap, name);
    if (a->name) {
        free(a->name);
        c->ntab--;
    }
    a->name = name;
    a->node = node;
    a->nodes = nodes;
    c->ntab++;
    return 1;
}

/* Hang a finished node (nodes: its size with aliases expanded) under the open collection. */
static int attach(composer *c, int node, uint64_t nodes)
{
    frame *f;
    if (!c->depth)
        return 1; /* the root: node 1 */
    f = &c->st[c->depth - 1];
    f->nodes += nodes;
    if (c->doc->nodes.start[f->node - 1].type == YAML_SEQUENCE_NODE)
        return yaml_document_append_sequence_item(c->doc, f->node, node) ? 1 : oom(c);
    if (!f->key) {
        f->key = node;
        return 1;
    }
    if (!yaml_document_append_mapping_pair(c->doc, f->node, f->key, node))
        return oom(c);
    f->key = 0;
    return 1;
}

static const yaml_char_t *tag_or_default(yaml_char_t *tag, const char *dflt)
{
    return !tag || !strcmp((const char *)tag, "!") ? (const yaml_char_t *)dflt : tag;
}

/* One event of the document's body: 1 to go on, 0 on error. */
static int compose_event(composer *c, yaml_event_t *e)
{
    yaml_document_t *d = c->doc;
    int id;
    switch (e->type) {
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)e->data.alias.anchor;
        anchor *a = c->tabcap ? anchor_slot(c->tab, c->tabcap, name) : NULL;
        if (!a || !a->name) {
            for (size_t i = 0; i < c->depth; i++)
                if (c->st[i].anchor && !strcmp(c->st[i].anchor, name))
                    return fail(c, "alias refers to a collection that contains it", e->start_mark);
            return fail(c, "found undefined alias", e->start_mark);
        }
        c->extra += a->nodes;
        if (c->extra > VET_YAML_MAX_ALIAS_NODES)
            return fail(c, too_many_aliases, e->start_mark);
        return attach(c, a->node, a->nodes);
    }
    case YAML_SCALAR_EVENT:
        id = yaml_document_add_scalar(
            d, (yaml_char_t *)tag_or_default(e->data.scalar.tag, YAML_DEFAULT_SCALAR_TAG),
            e->data.scalar.value, (int)e->data.scalar.length, e->data.scalar.style);
        if (!id)
            return oom(c);
        d->nodes.start[id - 1].start_mark = e->start_mark;
        d->nodes.start[id - 1].end_mark = e->end_mark;
        c->own++;
        if (!anchor_add(c, (char *)e->data.scalar.anchor, id, 1))
            return 0;
        e->data.scalar.anchor = NULL;
        return attach(c, id, 1);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int seq = e->type == YAML_SEQUENCE_START_EVENT;
        frame *f;
        if (c->depth >= VET_YAML_MAX_DEPTH)
            return fail(c, too_deep, e->start_mark);
        if (c->depth == c->stcap) {
            size_t cap = c->stcap ? c->stcap * 2 : 32;
            frame *st = realloc(c->st, cap * sizeof *st);
            if (!st)
                return oom(c);
            c->st = st;
            c->stcap = cap;
        }
        id =
            seq ? yaml_document_add_sequence(
                      d,
                      (yaml_char_t *)tag_or_default(e->data.sequence_start.tag,
                                                    YAML_DEFAULT_SEQUENCE_TAG),
                      e->data.sequence_start.style)
                : yaml_document_add_mapping(d,
                                            (yaml_char_t *)tag_or_default(e->data.mapping_start.tag,
                                                                          YAML_DEFAULT_MAPPING_TAG),
                                            e->data.mapping_start.style);
        if (!id)
            return oom(c);
        d->nodes.start[id - 1].start_mark = e->start_mark;
        d->nodes.start[id - 1].end_mark = e->end_mark;
        c->own++;
        f = &c->st[c->depth++];
        f->node = id;
        f->key = 0;
        f->nodes = 1;
        if (seq) {
            f->anchor = (char *)e->data.sequence_start.anchor;
            e->data.sequence_start.anchor = NULL;
        } else {
            f->anchor = (char *)e->data.mapping_start.anchor;
            e->data.mapping_start.anchor = NULL;
        }
        return 1;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        frame f = c->st[--c->depth];
        d->nodes.start[f.node - 1].end_mark = e->end_mark;
        if (!anchor_add(c, f.anchor, f.node, f.nodes))
            return 0;
        return attach(c, f.node, f.nodes);
    }
    default:
        return fail(c, "unexpected event", e->start_mark);
    }
}

static void composer_free(composer *c)
{
    while (c->depth)
        free(c->st[--c->depth].anchor);
    free(c->st);
    for (size_t i = 0; i < c->tabcap; i++)
        free(c->tab[i].name);
    free(c->tab);
}

int vet_yaml_parser_load(yaml_parser_t *p, yaml_document_t *doc)
{
    composer c = {p, doc, NULL, 0, 0, NULL, 0, 0, 0, 0};
    yaml_event_t e;
    int ok = 0, have_doc = 0;
    memset(doc, 0, sizeof *doc);
    if (!p->stream_end_produced) {
        if (!yaml_parser_parse(p, &e))
            goto done;
        if (e.type == YAML_STREAM_START_EVENT) {
            yaml_event_delete(&e);
            if (!yaml_parser_parse(p, &e))
                goto done;
        }
        if (e.type == YAML_DOCUMENT_START_EVENT) {
            have_doc = yaml_document_initialize(doc, e.data.document_start.version_directive,
                                                e.data.document_start.tag_directives.start,
                                                e.data.document_start.tag_directives.end,
                                                e.data.document_start.implicit, 1);
            doc->start_mark = e.start_mark;
        }
        yaml_event_delete(&e); /* or STREAM-END: the parser guarantees the order */
        if (!have_doc && !p->stream_end_produced) {
            oom(&c);
            goto done;
        }
    }
    if (!have_doc) {
        /* the end of the stream: an empty document, as yaml_parser_load() returns */
        ok = yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1) ? 1 : oom(&c);
        goto done;
    }
    for (;;) {
        int r;
        if (!yaml_parser_parse(p, &e))
            goto done;
        if (e.type == YAML_DOCUMENT_END_EVENT) {
            doc->end_implicit = e.data.document_end.implicit;
            doc->end_mark = e.end_mark;
            yaml_event_delete(&e);
            break;
        }
        r = compose_event(&c, &e);
        yaml_event_delete(&e);
        if (!r)
            goto done;
    }
    ok = 1;
done:
    composer_free(&c);
    if (!ok && have_doc)
        yaml_document_delete(doc);
    if (!ok)
        memset(doc, 0, sizeof *doc);
    return ok;
}

int vet_yaml_compose_node(yaml_parser_t *p, yaml_event_t *first, yaml_document_t *doc)
{
    composer c = {p, doc, NULL, 0, 0, NULL, 0, 0, 0, 0};
    yaml_event_t e;
    int ok = 0;
    if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
        memset(doc, 0, sizeof *doc);
        return oom(&c);
    }
    doc->start_mark = first->start_mark;
    if (!compose_event(&c, first))
        goto done;
    while (c.depth) {
        int r;
        if (!yaml_parser_parse(p, &e))
            goto done;
        r = compose_event(&c, &e);
        yaml_event_delete(&e);
        if (!r)
            goto done;
    }
    ok = 1;
done:
    composer_free(&c);
    if (!ok) {
        yaml_document_delete(doc);
        memset(doc, 0, sizeof *doc);
    }
    return ok;
}

int vet_yaml_load(vet_yaml **out, const unsigned char *data, size_t len, const char *name)
{
    yaml_parser_t p;
    vet_yaml *y = calloc(1, sizeof *y);
    int rc = 0;
    *out = NULL;
    if (!y)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!yaml_parser_initialize(&p)) {
        free(y);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&p, data, len);
    for (;;) {
        yaml_document_t doc;
        if (!vet_yaml_parser_load(&p, &doc)) {
            rc = vet_error_set(VET_EINPUT, "%s:%zu:%zu: %s%s%s", name, p.problem_mark.line + 1,
                               p.problem_mark.column + 1, p.problem ? p.problem : "invalid YAML",
                               p.context ? " " : "", p.context ? p.context : "");
            goto done;
        }
        if (!yaml_document_get_root_node(&doc)) {
            yaml_document_delete(&doc); /* end of stream */
            break;
        }
        if (y->n == y->cap) {
            size_t cap = y->cap ? y->cap * 2 : 2;
            yaml_document_t *d = cap > MAX_DOCS ? NULL : realloc(y->docs, cap * sizeof *d);
            if (!d) {
                yaml_document_delete(&doc);
                rc = vet_error_set(VET_ELIMIT, "%s: too many YAML documents", name);
                goto done;
            }
            y->docs = d;
            y->cap = cap;
        }
        y->docs[y->n++] = doc;
    }
done:
    yaml_parser_delete(&p);
    if (rc) {
        vet_yaml_free(y);
        return rc;
    }
    *out = y;
    return 0;
}

void vet_yaml_free(vet_yaml *y)
{
    if (!y)
        return;
    for (size_t i = 0; i < y->n; i++)
        yaml_document_delete(&y->docs[i]);
    free(y->docs);
    free(y);
}

size_t vet_yaml_ndocs(const vet_yaml *y)
{
    return y ? y->n : 0;
}

yaml_node_t *vet_yaml_root(vet_yaml *y, size_t doc)
{
    return doc < y->n ? yaml_document_get_root_node(&y->docs[doc]) : NULL;
}

/* Nodes of one document live in one array; find which document owns n. */
static yaml_document_t *doc_of(vet_yaml *y, const yaml_node_t *n)
{
    for (size_t i = 0; i < y->n; i++)
        if (n >= y->docs[i].nodes.start && n < y->docs[i].nodes.top)
            return &y->docs[i];
    return NULL;
}

yaml_node_t *vet_yaml_get(vet_yaml *y, yaml_node_t *map, const char *key)
{
    yaml_document_t *d;
    if (!map || map->type != YAML_MAPPING_NODE || !(d = doc_of(y, map)))
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
            !memcmp(k->data.scalar.value, key, k->data.scalar.length))
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

yaml_node_t *vet_yaml_path(vet_yaml *y, yaml_node_t *n, ...)
{
    va_list ap;
    const char *k;
    va_start(ap, n);
    while (n && (k = va_arg(ap, const char *)))
        n = vet_yaml_get(y, n, k);
    va_end(ap);
    return n;
}

const char *vet_yaml_str(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

size_t vet_yaml_len(const yaml_node_t *n)
{
    if (!n)
        return 0;
    if (n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

yaml_node_t *vet_yaml_item(vet_yaml *y, yaml_node_t *seq, size_t i)
{
    yaml_document_t *d;
    if (!seq || seq->type != YAML_SEQUENCE_NODE || i >= vet_yaml_len(seq) || !(d = doc_of(y, seq)))
        return NULL;
    return yaml_document_get_node(d, seq->data.sequence.items.start[i]);
}

yaml_node_t *vet_yaml_key_at(vet_yaml *y, yaml_node_t *map, size_t i)
{
    yaml_document_t *d;
    if (!map || map->type != YAML_MAPPING_NODE || i >= vet_yaml_len(map) || !(d = doc_of(y, map)))
        return NULL;
    return yaml_document_get_node(d, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *vet_yaml_value_at(vet_yaml *y, yaml_node_t *map, size_t i)
{
    yaml_document_t *d;
    if (!map || map->type != YAML_MAPPING_NODE || i >= vet_yaml_len(map) || !(d = doc_of(y, map)))
        return NULL;
    return yaml_document_get_node(d, map->data.mapping.pairs.start[i].value);
}

size_t vet_yaml_line(const yaml_node_t *n)
{
    return n ? n->start_mark.line + 1 : 0;
}

int vet_yaml_bool(const yaml_node_t *n)
{
    const char *s = vet_yaml_str(n);
    static const char *const t[] = {"true", "yes", "on", "y"};
    static const char *const f[] = {"false", "no", "off", "n"};
    if (!s)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, t[i]))
            return 1;
        if (!strcasecmp(s, f[i]))
            return 0;
    }
    return -1;
}
