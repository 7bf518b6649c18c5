/* apiextensions.k8s.io/v1beta1 -> v1 CustomResourceDefinitions.
 *
 * v1 moves validation, subresources and additionalPrinterColumns into every spec.versions[]
 * entry, requires a schema per version, and requires it to be structural (Kubernetes docs,
 * "Extend the Kubernetes API with CustomResourceDefinitions", Specifying a structural schema;
 * apiextensions-apiserver pkg/apis/apiextensions/validation/validation.go):
 *  1. the root and every field (properties, additionalProperties, items) has a non-empty type,
 *     unless it says x-kubernetes-int-or-string: true or x-kubernetes-preserve-unknown-fields:
 *     true; the root is type: object;
 *  2. a field inside allOf/anyOf/oneOf/not is also specified outside of them;
 *  3. no description, type, default, additionalProperties or nullable inside allOf/anyOf/oneOf/
 *     not, except the int-or-string pattern anyOf [{type: integer}, {type: string}] under
 *     x-kubernetes-int-or-string: true;
 *  4. metadata restricts only metadata.name and metadata.generateName.
 * Also refused in any CRD schema: $ref, definitions, id, $schema, dependencies, additionalItems,
 * patternProperties, uniqueItems: true, items as a list, additionalProperties next to properties
 * (unless `true`), additionalProperties at the root.
 *
 * What the type of a node without one is follows from its keys: properties/additionalProperties
 * make an object, items an array, the int-or-string anyOf gets x-kubernetes-int-or-string; a
 * node that says nothing about its shape (`extra: {}`, a description only) accepted anything in
 * v1beta1 and keeps doing so with x-kubernetes-preserve-unknown-fields: true. v1 also prunes
 * what a schema does not declare, which v1beta1 did not do unless spec.preserveUnknownFields was
 * false: an object node that declares no field at all (type: object alone) would lose all its
 * content, so it gets x-kubernetes-preserve-unknown-fields: true too. Anything else that is not
 * structural is left for a person. */
#include <stdlib.h>
#include <string.h>

#include "convert_int.h"

#define SCHEMA_DEPTH 64

enum { AT_ROOT, AT_FIELD, AT_JUNCTOR };

typedef struct {
    int keep_unknown;  /* v1beta1 kept unknown fields (spec.preserveUnknownFields not false) */
    int typed;         /* nodes given a type */
    int preserved;     /* nodes given x-kubernetes-preserve-unknown-fields */
    int intstr;        /* nodes given x-kubernetes-int-or-string */
    yaml_node_t *root; /* openAPIV3Schema being walked */
} sctx;

static int is_true(const yaml_node_t *n)
{
    return cv_scalar_is(n, "true");
}

/* anyOf: [{type: integer}, {type: string}] (either order, nothing else in the branches). */
static int int_or_string(cv *c, yaml_node_t *any)
{
    int ni = 0, ns = 0;
    if (cv_nitems(any) != 2)
        return 0;
    for (size_t i = 0; i < 2; i++) {
        yaml_node_t *b = cv_item(c, any, i), *t = cv_get(c, b, "type");
        if (!cv_is_map(b) || cv_npairs(b) != 1)
            return 0;
        ni += cv_scalar_is(t, "integer");
        ns += cv_scalar_is(t, "string");
    }
    return ni == 1 && ns == 1;
}

/* Add pairs to schema node n: above its first key, or into its flow braces. */
static void add_keys(cv *c, yaml_node_t *n, const nkv *kv, size_t k)
{
    if (!k || c->stop)
        return;
    if (n->data.mapping.style == YAML_FLOW_MAPPING_STYLE && !cv_npairs(n)) {
        vet_buf b = VET_BUF_INIT;
        vet_buf_puts(&b, "{");
        for (size_t i = 0; i < k; i++)
            vet_buf_printf(&b, "%s%s: %s", i ? ", " : "", kv[i].key, kv[i].val->s);
        vet_buf_puts(&b, "}");
        if (b.ptr)
            cv_replace_node(c, n, b.ptr);
        vet_buf_free(&b);
        return;
    }
    if (n->data.mapping.style != YAML_FLOW_MAPPING_STYLE && !cv_first_key_starts_line(c, n)) {
        cv_stop(c,
                "line %zu: schema node needs %s and is not laid out one key per line; add it "
                "by hand",
                cv_line(c, n), kv[0].key);
        return;
    }
    cv_insert(c, n, 0, -1, kv, k);
}

static void walk(cv *c, yaml_node_t *n, int at, yaml_node_t *outer, int depth, sctx *s);

/* n is the schema of properties.apiVersion or properties.kind of the root `outer`. */
static int outer_root(cv *c, yaml_node_t *outer, yaml_node_t *n, const sctx *s)
{
    yaml_node_t *props = cv_get(c, outer, "properties");
    return outer == s->root &&
           (cv_get(c, props, "apiVersion") == n || cv_get(c, props, "kind") == n);
}

/* ios: the node is (or is being made) x-kubernetes-int-or-string */
static void walk_junctors(cv *c, yaml_node_t *n, int ios, int depth, sctx *s)
{
    static const char *const js[] = {"allOf", "anyOf", "oneOf"};
    for (size_t j = 0; j < 3 && !c->stop; j++) {
        yaml_node_t *l = cv_get(c, n, js[j]);
        if (!l)
            continue;
        if (ios && int_or_string(c, l))
            continue;
        if (l->type != YAML_SEQUENCE_NODE) {
            cv_stop(c, "line %zu: %s is not a list", cv_line(c, l), js[j]);
            return;
        }
        for (size_t i = 0; i < cv_nitems(l) && !c->stop; i++)
            walk(c, cv_item(c, l, i), AT_JUNCTOR, n, depth + 1, s);
    }
    if (!c->stop && cv_get(c, n, "not"))
        walk(c, cv_get(c, n, "not"), AT_JUNCTOR, n, depth + 1, s);
}

static void walk(cv *c, yaml_node_t *n, int at, yaml_node_t *outer, int depth, sctx *s)
{
    static const char *const forbidden[] = {"$ref",
                                            "definitions",
                                            "id",
                                            "$schema",
                                            "dependencies",
                                            "additionalItems",
                                            "patternProperties"};
    /* apiextensions-apiserver pkg/apiserver/schema/validation.go,
     * validateNestedValueValidation: what a junctor (and anything under it) may not say */
    static const char *const not_in_junctor[] = {"description",
                                                 "type",
                                                 "default",
                                                 "additionalProperties",
                                                 "nullable",
                                                 "title",
                                                 "x-kubernetes-preserve-unknown-fields",
                                                 "x-kubernetes-int-or-string",
                                                 "x-kubernetes-embedded-resource",
                                                 "x-kubernetes-list-type",
                                                 "x-kubernetes-list-map-keys",
                                                 "x-kubernetes-map-type"};
    yaml_node_t *type, *props, *items, *ap, *any;
    int ios, pres;
    nkv kv[2];
    size_t k = 0;

    if (c->stop)
        return;
    if (depth > SCHEMA_DEPTH) {
        cv_stop(c, "line %zu: schema nested deeper than %d levels", cv_line(c, n), SCHEMA_DEPTH);
        return;
    }
    if (!cv_is_map(n)) {
        cv_stop(c, "line %zu: a schema node that is not a mapping", cv_line(c, n));
        return;
    }
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
        if (cv_find(c, n, forbidden[i]) >= 0) {
            cv_stop(c, "line %zu: %s is not allowed in a CRD schema; inline or drop it",
                    cv_line(c, n), forbidden[i]);
            return;
        }
    if (is_true(cv_get(c, n, "uniqueItems"))) {
        cv_stop(c, "line %zu: uniqueItems: true is refused by the API server; drop it",
                cv_line(c, n));
        return;
    }
    type = cv_get(c, n, "type");
    props = cv_get(c, n, "properties");
    items = cv_get(c, n, "items");
    ap = cv_get(c, n, "additionalProperties");
    any = cv_get(c, n, "anyOf");
    ios = is_true(cv_get(c, n, "x-kubernetes-int-or-string"));
    pres = is_true(cv_get(c, n, "x-kubernetes-preserve-unknown-fields"));

    if (at == AT_JUNCTOR) {
        for (size_t i = 0; i < sizeof not_in_junctor / sizeof *not_in_junctor; i++)
            if (cv_find(c, n, not_in_junctor[i]) >= 0) {
                cv_stop(c,
                        "line %zu: %s inside allOf/anyOf/oneOf/not is not structural: move it "
                        "to the node that holds the junctor",
                        cv_line(c, n), not_in_junctor[i]);
                return;
            }
        /* rule 2: fields named here are specified outside too (checked one level deep) */
        for (size_t i = 0; i < cv_npairs(props); i++) {
            const char *f = cv_str(cv_key_at(c, props, i));
            if (f && !strcmp(f, "metadata")) {
                cv_stop(c, "line %zu: metadata inside allOf/anyOf/oneOf/not is refused",
                        cv_line(c, cv_key_at(c, props, i)));
                return;
            }
            if (outer && (!f || !cv_get(c, cv_get(c, outer, "properties"), f))) {
                cv_stop(c,
                        "line %zu: property %s is specified only inside allOf/anyOf/oneOf/not; "
                        "declare it (with its type) in the properties of the enclosing node",
                        cv_line(c, cv_key_at(c, props, i)), f ? f : "?");
                return;
            }
        }
        /* and nothing under a junctor says what a junctor may not */
        for (size_t i = 0; i < cv_npairs(props) && !c->stop; i++)
            walk(c, cv_val_at(c, props, i), AT_JUNCTOR, NULL, depth + 1, s);
        if (cv_is_map(items))
            walk(c, items, AT_JUNCTOR, NULL, depth + 1, s);
        return;
    }
    if (ap && cv_npairs(props) && !is_true(ap)) {
        cv_stop(c,
                "line %zu: properties next to additionalProperties: v1 refuses both (and prunes "
                "unknown fields instead of rejecting them): keep one",
                cv_line(c, ap));
        return;
    }
    if (ap && at == AT_ROOT) {
        cv_stop(c, "line %zu: additionalProperties at the root of a CRD schema is refused",
                cv_line(c, ap));
        return;
    }
    if (items && items->type == YAML_SEQUENCE_NODE) {
        cv_stop(c, "line %zu: items as a list (a tuple) is refused by v1: give one schema",
                cv_line(c, items));
        return;
    }
    if (at == AT_ROOT && type && !cv_scalar_is(type, "object")) {
        cv_stop(c, "line %zu: the root of a CRD schema must be type: object", cv_line(c, type));
        return;
    }
    if (cv_is_null(type) && cv_find(c, n, "type") >= 0) {
        cv_stop(c, "line %zu: an empty type; give the node its type", cv_line(c, n));
        return;
    }
    if (!type && !ios && !pres && at == AT_FIELD && outer && outer_root(c, outer, n, s)) {
        /* apiVersion and kind at the root must be strings (validateStructuralInvariants) */
        kv[k++] = (nkv){"type", 0, nv_word(c, "string")};
        s->typed++;
    } else if (!type && !ios && !pres) {
        if (props || cv_is_map(ap) || is_true(ap) || at == AT_ROOT) {
            kv[k++] = (nkv){"type", 0, nv_word(c, "object")};
            s->typed++;
        } else if (items) {
            kv[k++] = (nkv){"type", 0, nv_word(c, "array")};
            s->typed++;
        } else if (any && int_or_string(c, any)) {
            kv[k++] = (nkv){"x-kubernetes-int-or-string", 0, nv_raw(c, "true")};
            s->intstr++;
            ios = 1;
        } else if (!cv_get(c, n, "allOf") && !cv_get(c, n, "oneOf") && !any &&
                   !cv_get(c, n, "not")) {
            kv[k++] = (nkv){"x-kubernetes-preserve-unknown-fields", 0, nv_raw(c, "true")};
            s->preserved++;
            pres = 1;
        } else {
            cv_stop(c,
                    "line %zu: a node without type whose shape only allOf/anyOf/oneOf/not "
                    "describe: give it its type",
                    cv_line(c, n));
            return;
        }
    }
    /* an array must say what its items are; v1beta1 accepted any */
    if (!items && !ios && !pres &&
        (cv_scalar_is(type, "array") ||
         (k && !strcmp(kv[0].key, "type") && !strcmp(kv[0].val->s, "array")))) {
        kv[k++] = (nkv){"items", 0, nv_raw(c, "{x-kubernetes-preserve-unknown-fields: true}")};
        s->preserved++;
    }
    /* an object that declares no field: v1 would prune all of it, v1beta1 kept it */
    if (s->keep_unknown && !pres && !cv_npairs(props) && !ap &&
        (cv_scalar_is(type, "object") ||
         (k && !strcmp(kv[0].key, "type") && !strcmp(kv[0].val->s, "object")))) {
        kv[k++] = (nkv){"x-kubernetes-preserve-unknown-fields", 0, nv_raw(c, "true")};
        s->preserved++;
    }
    add_keys(c, n, kv, k);

    if (at == AT_ROOT) {
        yaml_node_t *md = cv_get(c, props, "metadata"), *mp = cv_get(c, md, "properties");
        if (md && !cv_is_map(md)) {
            cv_stop(c, "line %zu: the schema of metadata is not a mapping", cv_line(c, md));
            return;
        }
        /* metadata may say type: object and restrict name/generateName, nothing else
         * (validateStructuralMetadataInvariants); a description alone says nothing */
        for (size_t i = 0; md && i < cv_npairs(md); i++) {
            yaml_node_t *key = cv_key_at(c, md, i);
            if (!cv_scalar_is(key, "type") && !cv_scalar_is(key, "properties") &&
                !cv_scalar_is(key, "description")) {
                cv_stop(c,
                        "line %zu: the schema of metadata may only restrict name and "
                        "generateName; drop the rest",
                        cv_line(c, key));
                return;
            }
        }
        if (md && (cv_find(c, md, "description") >= 0 || !cv_npairs(md)) && !cv_npairs(mp)) {
            nkv t = {"metadata", 0, nv_raw(c, "{type: object}")};
            cv_replace(c, props, (size_t)cv_find(c, props, "metadata"), &t, 1);
            s->typed++;
        } else if (md && cv_find(c, md, "description") >= 0) {
            cv_stop(c,
                    "line %zu: the schema of metadata may say nothing but its type and "
                    "name/generateName restrictions: drop its description",
                    cv_line(c, md));
            return;
        } else if (md && cv_get(c, md, "type") && !cv_scalar_is(cv_get(c, md, "type"), "object")) {
            cv_stop(c, "line %zu: the schema of metadata must be type: object", cv_line(c, md));
            return;
        } else if (md && !cv_get(c, md, "type")) {
            nkv t = {"type", 0, nv_word(c, "object")};
            add_keys(c, md, &t, 1);
            s->typed++;
        }
        for (size_t i = 0; i < cv_npairs(mp); i++)
            if (!cv_scalar_is(cv_key_at(c, mp, i), "name") &&
                !cv_scalar_is(cv_key_at(c, mp, i), "generateName")) {
                cv_stop(c,
                        "line %zu: the schema of metadata may only restrict metadata.name and "
                        "metadata.generateName; drop the rest",
                        cv_line(c, cv_key_at(c, mp, i)));
                return;
            }
    }
    for (size_t i = 0; i < cv_npairs(props) && !c->stop; i++) {
        if (at == AT_ROOT && cv_scalar_is(cv_key_at(c, props, i), "metadata"))
            continue;
        walk(c, cv_val_at(c, props, i), AT_FIELD, n, depth + 1, s);
    }
    if (cv_is_map(items))
        walk(c, items, AT_FIELD, n, depth + 1, s);
    if (cv_is_map(ap))
        walk(c, ap, AT_FIELD, n, depth + 1, s);
    walk_junctors(c, n, ios, depth, s);
}

/* Make the openAPIV3Schema under `validation` (a spec.validation or versions[].schema node)
 * structural; the edits go wherever c->redirect says. */
static void structural(cv *c, yaml_node_t *validation, sctx *s)
{
    yaml_node_t *root = cv_get(c, validation, "openAPIV3Schema");
    if (!cv_is_map(root) || !cv_npairs(root)) {
        cv_stop(c, "line %zu: openAPIV3Schema is empty or not a mapping", cv_line(c, validation));
        return;
    }
    s->root = root;
    walk(c, root, AT_ROOT, NULL, 0, s);
}

static void said_structural(cv *c, const sctx *s)
{
    vet_buf b = VET_BUF_INIT;
    if (s->typed)
        vet_buf_printf(&b, "%d type%s where properties/items/the root imply it", s->typed,
                       s->typed == 1 ? "" : "s");
    if (s->intstr)
        vet_buf_printf(&b, "%s%d x-kubernetes-int-or-string (int-or-string anyOf)",
                       b.size ? ", " : "", s->intstr);
    if (s->preserved)
        vet_buf_printf(&b,
                       "%s%d x-kubernetes-preserve-unknown-fields (nodes that accepted any value, "
                       "or declare no field and would be pruned by v1)",
                       b.size ? ", " : "", s->preserved);
    if (b.size)
        cv_did(c, "made the schema structural: added %s", b.ptr);
    vet_buf_free(&b);
}

static const char *const apc_ren[] = {"JSONPath", "jsonPath", NULL};

static nv *open_schema(cv *c)
{
    nv *inner = nv_map(c, 2), *s = nv_map(c, 1);
    nv_put(inner, "type", nv_word(c, "object"));
    nv_put(inner, "x-kubernetes-preserve-unknown-fields", nv_raw(c, "true"));
    nv_put(s, "openAPIV3Schema", inner);
    return s;
}

/* apiextensions v1beta1 -> v1: the top-level validation, subresources and
 * additionalPrinterColumns become per-version fields; `version` becomes `versions`; every
 * version needs a structural schema. preserveUnknownFields: explicit false is kept (valid in
 * v1); explicit true is refused by v1 on create, so a person must mark the schema with
 * x-kubernetes-preserve-unknown-fields where fields must be kept. */
void cv_fix_crd(cv *c, yaml_node_t *o)
{
    yaml_node_t *spec = cv_get(c, o, "spec"), *conv;
    long vi, si, ai, ver, vers, pi;
    nv *schema = NULL, *sub = NULL, *apc = NULL;
    int opened = 0, moved = 0;
    editv patches = {NULL, 0, 0};
    sctx sc;
    memset(&sc, 0, sizeof sc);
    if (!cv_is_map(spec)) {
        cv_stop(c, "no spec");
        return;
    }
    vi = cv_find(c, spec, "validation");
    si = cv_find(c, spec, "subresources");
    ai = cv_find(c, spec, "additionalPrinterColumns");
    ver = cv_find(c, spec, "version");
    vers = cv_find(c, spec, "versions");
    pi = cv_find(c, spec, "preserveUnknownFields");
    conv = cv_get(c, spec, "conversion");
    if ((vi >= 0 && cv_templated(c, cv_val_at(c, spec, (size_t)vi))) ||
        (pi >= 0 && cv_templated(c, cv_val_at(c, spec, (size_t)pi))) ||
        (vers >= 0 && cv_templated(c, cv_val_at(c, spec, (size_t)vers)))) {
        cv_stop(c, "the schema, versions or preserveUnknownFields are rendered by the template: "
                   "convert the rendered CRD, or move it to apiextensions.k8s.io/v1 by hand");
        return;
    }
    sc.keep_unknown = !(pi >= 0 && cv_scalar_is(cv_val_at(c, spec, (size_t)pi), "false"));
    if (pi >= 0 && cv_scalar_is(cv_val_at(c, spec, (size_t)pi), "true")) {
        cv_stop(c, "spec.preserveUnknownFields: true is rejected by apiextensions.k8s.io/v1: add "
                   "x-kubernetes-preserve-unknown-fields: true to the schema where unknown fields "
                   "must be kept, then set it false");
        return;
    }
    if (cv_find(c, conv, "webhookClientConfig") >= 0) {
        cv_stop(c, "spec.conversion.webhookClientConfig moves to "
                   "spec.conversion.webhook.clientConfig and v1 requires "
                   "spec.conversion.webhook.conversionReviewVersions: choose the versions your "
                   "conversion webhook understands (v1beta1 sent v1beta1)");
        return;
    }
    if (vi >= 0) {
        yaml_node_t *v = cv_val_at(c, spec, (size_t)vi);
        if (!cv_is_map(v) || cv_find(c, v, "openAPIV3Schema") < 0) {
            cv_stop(c, "line %zu: spec.validation has no openAPIV3Schema", cv_line(c, v));
            return;
        }
        /* the copies into every version carry the structural fixes */
        c->redirect = &patches;
        structural(c, v, &sc);
        c->redirect = NULL;
        cv_sort_edits(&patches);
        schema = nv_src(c, v, cv_key_at(c, spec, (size_t)vi), NULL);
        if (schema && patches.n)
            schema->patches = &patches;
        moved++;
    }
    if (si >= 0) {
        sub = nv_src(c, cv_val_at(c, spec, (size_t)si), cv_key_at(c, spec, (size_t)si), NULL);
        moved++;
    }
    if (ai >= 0) {
        apc = nv_src(c, cv_val_at(c, spec, (size_t)ai), cv_key_at(c, spec, (size_t)ai), apc_ren);
        moved++;
    }
    if (c->stop)
        goto done;
    if (vers >= 0) {
        yaml_node_t *vs = cv_val_at(c, spec, (size_t)vers);
        if (!cv_nitems(vs)) {
            cv_stop(c, "spec.versions is not a list of versions");
            goto done;
        }
        for (size_t i = 0; i < cv_nitems(vs) && !c->stop; i++) {
            yaml_node_t *it = cv_item(c, vs, i), *cols, *own;
            nkv kv[3];
            size_t k = 0;
            if (!cv_is_map(it))
                continue;
            own = cv_get(c, it, "schema");
            if (own) {
                /* a per-version schema (v1beta1 allowed them without a top-level one) */
                if (!cv_is_map(own) || cv_find(c, own, "openAPIV3Schema") < 0) {
                    cv_stop(c, "line %zu: spec.versions[%zu].schema has no openAPIV3Schema",
                            cv_line(c, own), i);
                    goto done;
                }
                structural(c, own, &sc);
            } else {
                kv[k++] = (nkv){"schema", 0, schema ? schema : open_schema(c)};
                opened += !schema;
            }
            if (sub && cv_find(c, it, "subresources") < 0)
                kv[k++] = (nkv){"subresources", 0, sub};
            if (apc && cv_find(c, it, "additionalPrinterColumns") < 0)
                kv[k++] = (nkv){"additionalPrinterColumns", 0, apc};
            cols = cv_get(c, it, "additionalPrinterColumns");
            for (size_t j = 0; j < cv_nitems(cols); j++) {
                long jp = cv_find(c, cv_item(c, cols, j), "JSONPath");
                if (jp >= 0)
                    cv_rename(c, cv_item(c, cols, j), (size_t)jp, "jsonPath");
            }
            cv_insert(c, it, -1, -1, kv, k);
        }
        if (ver >= 0)
            cv_delete(c, spec, (size_t)ver);
    } else if (ver >= 0) {
        nv *it = nv_map(c, 6), *seq = nv_seq(c, 1);
        nkv kv;
        if (!it || !seq)
            goto done;
        nv_put(it, "name",
               nv_src(c, cv_val_at(c, spec, (size_t)ver), cv_key_at(c, spec, (size_t)ver), NULL));
        nv_put(it, "served", nv_raw(c, "true"));
        nv_put(it, "storage", nv_raw(c, "true"));
        nv_put(it, "schema", schema ? schema : open_schema(c));
        opened += !schema;
        if (sub)
            nv_put(it, "subresources", sub);
        if (apc)
            nv_put(it, "additionalPrinterColumns", apc);
        seq->items[seq->n++] = it;
        kv = (nkv){"versions", 0, seq};
        cv_replace(c, spec, (size_t)ver, &kv, 1);
    } else {
        cv_stop(c, "spec has neither version nor versions");
        goto done;
    }
    if (vi >= 0)
        cv_delete(c, spec, (size_t)vi);
    if (si >= 0)
        cv_delete(c, spec, (size_t)si);
    if (ai >= 0)
        cv_delete(c, spec, (size_t)ai);
    if (vers < 0)
        cv_did(c, "spec.version -> spec.versions");
    if (moved)
        cv_did(c, "moved %s%s%s%s%s into every version%s", vi >= 0 ? "spec.validation" : "",
               vi >= 0 && (si >= 0 || ai >= 0) ? ", " : "", si >= 0 ? "spec.subresources" : "",
               si >= 0 && ai >= 0 ? ", " : "", ai >= 0 ? "spec.additionalPrinterColumns" : "",
               ai >= 0 ? " (JSONPath -> jsonPath)" : "");
    said_structural(c, &sc);
    if (opened)
        cv_did(c, "no schema: inserted schema.openAPIV3Schema {type: object, "
                  "x-kubernetes-preserve-unknown-fields: true} (v1 requires one; it keeps every "
                  "field as v1beta1 did): replace it with a real structural schema");
    else if (sc.keep_unknown)
        cv_did(c, "note: v1 prunes fields the schema does not declare (v1beta1 kept them); "
                  "check the schema declares every field the custom resources use");
done:
    cv_free_edits(&patches);
}
