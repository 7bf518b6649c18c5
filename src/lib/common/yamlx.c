#include "yamlx.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

struct vet_yaml {
    yaml_document_t *docs;
    size_t n, cap;
};

#define MAX_DOCS 10000

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
        if (!yaml_parser_load(&p, &doc)) {
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
