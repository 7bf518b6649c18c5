/* Fields an object's own apiVersion rejects: what a conversion that only bumped the apiVersion
 * line leaves behind. kube-apiserver refuses these objects, so a scan must not call them clean.
 *  - networking.k8s.io/v1 Ingress (1.19+): a backend is `service: {name, port}` (serviceName and
 *    servicePort are v1beta1), spec.backend became spec.defaultBackend, and every path needs a
 *    pathType.
 *  - apiextensions.k8s.io/v1 CustomResourceDefinition (1.16+): every version carries
 *    schema.openAPIV3Schema, spec.validation is gone, spec.preserveUnknownFields may not be
 *    true, and the schema must be structural: a type on the root (object) and on every node
 *    under properties, items and additionalProperties, except nodes marked
 *    x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields; no type inside
 *    anyOf/oneOf/allOf/not (the int-or-string pair excepted).
 * Only the first problem is reported, with its line: enough to stop a clean verdict. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <yaml.h>

#include "common/yamlx.h"
#include "scan_int.h"

#define MAX_SCHEMA_DEPTH 64

typedef struct {
    yaml_document_t *doc;
    unsigned line0;
    mf_facts *fx;
    int certain_only; /* template text that includes content: report only what no include fixes */
} fctx;

static int is_key(const yaml_node_t *k, const char *lit)
{
    size_t n = strlen(lit);
    return k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
           !memcmp(k->data.scalar.value, lit, n);
}

yaml_node_t *mf_map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key,
                        yaml_node_t **keynode)
{
    yaml_node_t *v = NULL;
    if (keynode)
        *keynode = NULL;
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (is_key(k, key)) {
            v = yaml_document_get_node(doc, p->value);
            if (keynode)
                *keynode = k;
        }
    }
    return v;
}

static yaml_node_t *get(fctx *c, const yaml_node_t *map, const char *key, yaml_node_t **keynode)
{
    return mf_map_get(c->doc, map, key, keynode);
}

static int is_true(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == 4 &&
           !strncasecmp((const char *)n->data.scalar.value, "true", 4);
}

static int is_null(const yaml_node_t *n)
{
    if (!n)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return !n->data.scalar.length ||
           (n->data.scalar.length == 4 &&
            !strncasecmp((const char *)n->data.scalar.value, "null", 4)) ||
           (n->data.scalar.length == 1 && n->data.scalar.value[0] == '~');
}

/* First problem wins. */
__attribute__((format(printf, 3, 4))) static void problem(fctx *c, const yaml_node_t *at,
                                                          const char *fmt, ...)
{
    va_list ap;
    if (c->fx->invalid[0])
        return;
    va_start(ap, fmt);
    vsnprintf(c->fx->invalid, sizeof c->fx->invalid, fmt, ap);
    va_end(ap);
    c->fx->invalid_line = c->line0 + (unsigned)at->start_mark.line;
}

#define FOR_ITEMS(c, seq, it)                                                                      \
    for (yaml_node_item_t *it =                                                                    \
             (seq) && (seq)->type == YAML_SEQUENCE_NODE ? (seq)->data.sequence.items.start : NULL; \
         it && it < (seq)->data.sequence.items.top; it++)

/* ---- Ingress v1 ---- */

static void ingress_backend(fctx *c, yaml_node_t *be, const char *where)
{
    yaml_node_t *k;
    if (!be || be->type != YAML_MAPPING_NODE)
        return;
    if (get(c, be, "serviceName", &k) || get(c, be, "servicePort", &k)) {
        if (!k)
            get(c, be, "servicePort", &k);
        problem(c, k ? k : be,
                "%s: serviceName/servicePort are networking.k8s.io/v1beta1 fields; v1 wants "
                "backend.service.name and service.port.number or .name",
                where);
    } else if (!get(c, be, "service", NULL) && !get(c, be, "resource", NULL)) {
        problem(c, be, "%s: a v1 backend needs service (name, port) or resource", where);
    }
}

static void ingress_v1(fctx *c, yaml_node_t *obj)
{
    yaml_node_t *k, *spec = get(c, obj, "spec", NULL);
    if (!spec || spec->type != YAML_MAPPING_NODE)
        return;
    if (get(c, spec, "backend", &k))
        problem(c, k,
                "spec.backend is a networking.k8s.io/v1beta1 field; v1 calls it "
                "spec.defaultBackend");
    ingress_backend(c, get(c, spec, "defaultBackend", NULL), "spec.defaultBackend");
    FOR_ITEMS(c, get(c, spec, "rules", NULL), r)
    {
        yaml_node_t *rule = yaml_document_get_node(c->doc, *r);
        FOR_ITEMS(c, get(c, get(c, rule, "http", NULL), "paths", NULL), pi)
        {
            yaml_node_t *path = yaml_document_get_node(c->doc, *pi);
            if (!path || path->type != YAML_MAPPING_NODE)
                continue;
            if (is_null(get(c, path, "pathType", NULL)))
                problem(c, path,
                        "spec.rules[].http.paths[]: pathType is required in networking.k8s.io/v1 "
                        "(Prefix, Exact or ImplementationSpecific)");
            ingress_backend(c, get(c, path, "backend", NULL), "spec.rules[].http.paths[]");
        }
    }
}

/* ---- CustomResourceDefinition v1: structural schemas ---- */

static int has_int_or_string(fctx *c, const yaml_node_t *n)
{
    return is_true(get(c, n, "x-kubernetes-int-or-string", NULL));
}

static void schema_node(fctx *c, yaml_node_t *n, const char *path, int root, int depth);

static void schema_children(fctx *c, yaml_node_t *n, const char *path, int depth)
{
    yaml_node_t *props = get(c, n, "properties", NULL), *items, *addl;
    char sub[160];
    if (props && props->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *p = props->data.mapping.pairs.start;
             p < props->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE)
                continue;
            snprintf(sub, sizeof sub, "%s.%.*s", path,
                     (int)(k->data.scalar.length > 60 ? 60 : k->data.scalar.length),
                     (const char *)k->data.scalar.value);
            schema_node(c, yaml_document_get_node(c->doc, p->value), sub, 0, depth + 1);
        }
    items = get(c, n, "items", NULL);
    if (items && items->type == YAML_MAPPING_NODE) {
        snprintf(sub, sizeof sub, "%s[]", path);
        schema_node(c, items, sub, 0, depth + 1);
    }
    addl = get(c, n, "additionalProperties", NULL);
    if (addl && addl->type == YAML_MAPPING_NODE) {
        snprintf(sub, sizeof sub, "%s.*", path);
        schema_node(c, addl, sub, 0, depth + 1);
    }
}

static void schema_node(fctx *c, yaml_node_t *n, const char *path, int root, int depth)
{
    static const char *const junctors[] = {"anyOf", "oneOf", "allOf"};
    yaml_node_t *type;
    int ios, pres;
    if (c->fx->invalid[0] || depth > MAX_SCHEMA_DEPTH)
        return;
    if (!n || n->type != YAML_MAPPING_NODE) {
        if (n)
            problem(c, n, "%s: a schema node must be a mapping", path);
        return;
    }
    type = get(c, n, "type", NULL);
    ios = has_int_or_string(c, n);
    pres = is_true(get(c, n, "x-kubernetes-preserve-unknown-fields", NULL));
    if (root && !(type && type->type == YAML_SCALAR_NODE && type->data.scalar.length == 6 &&
                  !memcmp(type->data.scalar.value, "object", 6))) {
        problem(c, n, "%s: not structural: the root must have type: object", path);
        return;
    }
    if (!type && !ios && !pres) {
        if (get(c, n, "anyOf", NULL) || get(c, n, "oneOf", NULL))
            problem(c, n,
                    "%s: not structural: no type (an int-or-string anyOf needs "
                    "x-kubernetes-int-or-string: true)",
                    path);
        else
            problem(c, n,
                    "%s: not structural: no type (add one, or "
                    "x-kubernetes-preserve-unknown-fields: true)",
                    path);
        return;
    }
    /* inside a junctor only value validations may appear: no type, except the int-or-string
     * pair under x-kubernetes-int-or-string */
    for (size_t j = 0; j < sizeof junctors / sizeof *junctors; j++)
        FOR_ITEMS(c, get(c, n, junctors[j], NULL), it)
        {
            yaml_node_t *m = yaml_document_get_node(c->doc, *it), *k;
            if (get(c, m, "type", &k) && !ios)
                problem(c, k, "%s: not structural: type inside %s", path, junctors[j]);
        }
    schema_children(c, n, path, depth);
}

static void crd_v1(fctx *c, yaml_node_t *obj)
{
    yaml_node_t *k, *spec = get(c, obj, "spec", NULL), *versions;
    size_t i = 0;
    if (!spec || spec->type != YAML_MAPPING_NODE)
        return;
    if (get(c, spec, "validation", &k))
        problem(c, k,
                "spec.validation is an apiextensions.k8s.io/v1beta1 field; v1 wants "
                "spec.versions[].schema.openAPIV3Schema");
    if (is_true(get(c, spec, "preserveUnknownFields", &k)))
        problem(c, k,
                "spec.preserveUnknownFields: true is rejected in apiextensions.k8s.io/v1; set "
                "x-kubernetes-preserve-unknown-fields: true in the schema");
    if (c->certain_only)
        return;
    versions = get(c, spec, "versions", &k);
    if (!versions || versions->type != YAML_SEQUENCE_NODE) {
        problem(c, k ? k : spec, "spec.versions is required in apiextensions.k8s.io/v1");
        return;
    }
    FOR_ITEMS(c, versions, it)
    {
        yaml_node_t *v = yaml_document_get_node(c->doc, *it);
        yaml_node_t *schema = get(c, get(c, v, "schema", NULL), "openAPIV3Schema", NULL);
        char path[64];
        snprintf(path, sizeof path, "spec.versions[%zu].schema.openAPIV3Schema", i++);
        if (!v || v->type != YAML_MAPPING_NODE)
            continue;
        if (!schema) {
            problem(c, v, "%s is required in apiextensions.k8s.io/v1", path);
            continue;
        }
        schema_node(c, schema, path, 1, 0);
    }
}

void mf_fields_check(struct yaml_document_s *doc, struct yaml_node_s *obj, unsigned line0,
                     mf_facts *fx)
{
    fctx c = {doc, line0, fx, 0};
    if (fx->kind.n == 7 && !memcmp(fx->kind.p, "Ingress", 7))
        ingress_v1(&c, obj);
    else
        crd_v1(&c, obj);
}

/* ---- the same for templates, on the text ---- */

static int line_key(const unsigned char *p, size_t n, const char *key)
{
    size_t i = 0, k = strlen(key);
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i + 1 < n && p[i] == '-' && p[i + 1] == ' ')
        for (i += 2; i < n && p[i] == ' '; i++)
            ;
    return n - i > k && !memcmp(p + i, key, k) && p[i + k] == ':';
}

/* Ingress: a line scan (the body is mostly templated: ranges over hosts and paths). */
static void template_ingress(const unsigned char *p, size_t n, unsigned line0, mf_facts *fx)
{
    const unsigned char *e = p + n, *nl;
    unsigned line = line0, paths = 0, path_types = 0, first_path = 0;
    for (; p < e; p = nl ? nl + 1 : e, line++) {
        size_t len;
        nl = memchr(p, '\n', (size_t)(e - p));
        len = (size_t)((nl ? nl : e) - p);
        if (!fx->invalid[0] &&
            (line_key(p, len, "serviceName") || line_key(p, len, "servicePort"))) {
            snprintf(fx->invalid, sizeof fx->invalid,
                     "backend: serviceName/servicePort are networking.k8s.io/v1beta1 fields; v1 "
                     "wants backend.service.name and service.port.number or .name");
            fx->invalid_line = line;
        }
        if (line_key(p, len, "path") && !paths++)
            first_path = line;
        if (line_key(p, len, "pathType"))
            path_types++;
    }
    if (!fx->invalid[0] && paths > path_types) {
        snprintf(fx->invalid, sizeof fx->invalid,
                 "spec.rules[].http.paths[]: pathType is required in networking.k8s.io/v1 "
                 "(Prefix, Exact or ImplementationSpecific)");
        fx->invalid_line = first_path;
    }
}

/* A directive that only steers rendering (if, end, range, with, define, comments) and adds no
 * text of its own. */
static int is_control(const unsigned char *d, size_t n)
{
    static const char *const words[] = {"if ", "else", "end", "range ", "with ", "define ", "/*"};
    size_t i = 2;
    if (i < n && d[i] == '-')
        i++;
    while (i < n && d[i] == ' ')
        i++;
    for (size_t w = 0; w < sizeof words / sizeof *words; w++)
        if (n - i >= strlen(words[w]) && !memcmp(d + i, words[w], strlen(words[w])))
            return 1;
    return 0;
}

/* An own-line directive that emits text lands where `indent N`/`nindent N` puts it: indented,
 * before the top-level spec: line, it adds to metadata only. */
static int reaches_spec(const unsigned char *d, size_t n, int in_spec)
{
    const unsigned char *i = memmem(d, n, "indent ", 7);
    if (in_spec || !i)
        return 1;
    i += 7;
    return !(i < d + n && *i >= '1' && *i <= '9');
}

/* The template text made YAML, line for line and column for column: a line holding only
 * directives becomes blank, a directive inside a value becomes a same-length placeholder.
 * *includes is set when an own-line directive may emit text into spec (include, toYaml,
 * .Files.Get...): what it adds is unknown. Returns 0, or -1 when only a rendering can tell (an
 * else branch: both forms are in the text; a directive over several lines). */
static int neutralize(unsigned char *b, size_t n, int *includes)
{
    unsigned char *e = b + n, *nl;
    int in_spec = 0;
    *includes = 0;
    for (unsigned char *p = b; p < e; p = nl ? nl + 1 : e) {
        unsigned char *q, *end = (nl = memchr(p, '\n', (size_t)(e - p))) ? nl : e;
        int own_line = 1;
        if (end - p >= 5 && !memcmp(p, "spec:", 5))
            in_spec = 1;
        for (q = p; q < end; q++)
            if (*q != ' ' && *q != '\t' && *q != '\r' && !(*q == '{' && q + 1 < end && q[1] == '{'))
                break;
            else if (*q == '{') {
                unsigned char *c = memmem(q, (size_t)(end - q), "}}", 2);
                if (!c)
                    return -1;
                q = c + 1;
            }
        own_line = q == end;
        for (q = p; q + 1 < end; q++) {
            unsigned char *c;
            size_t dn;
            if (q[0] != '{' || q[1] != '{')
                continue;
            if (!(c = memmem(q, (size_t)(end - q), "}}", 2)))
                return -1;
            dn = (size_t)(c + 2 - q);
            if (is_control(q, dn) && memmem(q, dn, "else", 4))
                return -1;
            if (own_line && !is_control(q, dn) && reaches_spec(q, dn, in_spec))
                *includes = 1;
            memset(q, own_line ? ' ' : 'x', dn);
            q = c + 1;
        }
    }
    return 0;
}

/* CustomResourceDefinition: the text with its directives neutralized is read by libyaml and
 * judged like any CRD; when directives include text, only what they cannot fix is reported (a
 * v1beta1 spec.validation stays one whatever an include adds). Unreadable text: say nothing. */
static void template_crd(const unsigned char *p, size_t n, unsigned line0, mf_facts *fx)
{
    unsigned char *b = malloc(n ? n : 1);
    yaml_parser_t parser;
    yaml_document_t doc;
    int includes, parser_ok = 0, doc_ok = 0;
    if (!b)
        return;
    memcpy(b, p, n);
    if (neutralize(b, n, &includes) || !(parser_ok = yaml_parser_initialize(&parser)))
        goto done;
    yaml_parser_set_input_string(&parser, b, n);
    if ((doc_ok = vet_yaml_parser_load(&parser, &doc))) {
        fctx c = {&doc, line0, fx, includes};
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && root->type == YAML_MAPPING_NODE)
            crd_v1(&c, root);
    }
done:
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    free(b);
}

/* A template may switch fields on the cluster version itself; then the text holds both forms and
 * only a rendering can tell: say nothing. */
void mf_template_fields(const unsigned char *p, size_t n, unsigned line0, mf_facts *fx)
{
    if (memmem(p, n, "Capabilities", 12) || memmem(p, n, "semverCompare", 13))
        return;
    if (fx->kind.n == 7 && !memcmp(fx->kind.p, "Ingress", 7))
        template_ingress(p, n, line0, fx);
    else
        template_crd(p, n, line0, fx);
}
