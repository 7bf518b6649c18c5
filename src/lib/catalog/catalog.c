/* The API catalog: rows from data/apis.yaml (compiled in) plus user files, indexed by
 * apiVersion + kind in an open-addressing hash table so that the manifest scan can ask about
 * every document it meets without a string search. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"
#include "fs.h"
#include "hash.h"
#include "kubevet/catalog.h"

#define MAX_ROWS 100000

typedef struct {
    vet_api api;
    char *strs[8]; /* owned copies behind api's const pointers */
} row;

struct vet_catalog {
    row *rows;
    size_t n, cap;
    uint32_t *slots; /* 0 = empty, else row index + 1 */
    size_t nslots;   /* power of two */
    char newest[32];
    char updated[32]; /* "updated:" of the data: when its facts were last checked */
};

static uint64_t hash2(const char *a, size_t al, const char *b, size_t bl)
{
    /* 0xff never occurs in UTF-8: a separator no apiVersion or kind can contain. */
    return vet_fnv1a(vet_fnv1a(vet_fnv1a(VET_FNV1A_INIT, a, al), "\xff", 1), b, bl);
}

static int rebuild(vet_catalog *c)
{
    size_t want = 16;
    uint32_t *s;
    while (want < c->n * 2 + 1)
        want *= 2;
    s = calloc(want, sizeof *s);
    if (!s)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++) {
        const vet_api *a = &c->rows[i].api;
        size_t j =
            hash2(a->api_version, strlen(a->api_version), a->kind, strlen(a->kind)) & (want - 1);
        while (s[j])
            j = (j + 1) & (want - 1);
        s[j] = (uint32_t)(i + 1);
    }
    free(c->slots);
    c->slots = s;
    c->nslots = want;
    return 0;
}

const vet_api *vet_catalog_lookupn(const vet_catalog *c, const char *av, size_t avlen,
                                   const char *kind, size_t kindlen)
{
    size_t j;
    if (!c || !c->nslots)
        return NULL;
    j = hash2(av, avlen, kind, kindlen) & (c->nslots - 1);
    while (c->slots[j]) {
        const vet_api *a = &c->rows[c->slots[j] - 1].api;
        if (!strncmp(a->api_version, av, avlen) && !a->api_version[avlen] &&
            !strncmp(a->kind, kind, kindlen) && !a->kind[kindlen])
            return a;
        j = (j + 1) & (c->nslots - 1);
    }
    return NULL;
}

const vet_api *vet_catalog_lookup(const vet_catalog *c, const char *api_version, const char *kind)
{
    if (!api_version || !kind)
        return NULL;
    return vet_catalog_lookupn(c, api_version, strlen(api_version), kind, strlen(kind));
}

static void row_free(row *r)
{
    for (size_t i = 0; i < 8; i++)
        free(r->strs[i]);
}

int vet_catalog_new(vet_catalog **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

void vet_catalog_free(vet_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        row_free(&c->rows[i]);
    free(c->rows);
    free(c->slots);
    free(c);
}

size_t vet_catalog_count(const vet_catalog *c)
{
    return c ? c->n : 0;
}

const vet_api *vet_catalog_at(const vet_catalog *c, size_t i)
{
    return c && i < c->n ? &c->rows[i].api : NULL;
}

const char *vet_catalog_updated(const vet_catalog *c)
{
    return c && c->updated[0] ? c->updated : "unknown";
}

const char *vet_catalog_newest(const vet_catalog *c)
{
    return c && c->newest[0] ? c->newest : "1.36";
}

/* Scalar text of key in map, or NULL. Versions may be written as numbers (1.16 without quotes
 * is the float 1.16 to YAML, and 1.20 would lose its zero): those are refused, not guessed. */
static const char *field(vet_yaml *y, yaml_node_t *map, const char *k1, const char *k2)
{
    yaml_node_t *n = vet_yaml_get(y, map, k1);
    if (!n && k2)
        n = vet_yaml_get(y, map, k2);
    return vet_yaml_str(n);
}

static int version_field(const char *name, size_t line, const char *key, const char *s,
                         vet_version *v, int *has)
{
    *has = 0;
    if (!s || !*s)
        return 0;
    if (vet_version_parse(v, s))
        return vet_error_set(VET_EINPUT, "%s:%zu: %s: invalid version \"%s\"", name, line, key, s);
    *has = 1;
    return 0;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* "v1.9.0" -> "1.9", the form the catalog prints. */
static char *norm_version(const char *s, const vet_version *v, int has)
{
    char buf[32];
    if (!has)
        return dup_or_empty(s);
    if (v->patch || v->pre[0])
        return dup_or_empty(s[0] == 'v' ? s + 1 : s);
    vet_version_minor_str(buf, sizeof buf, v);
    return strdup(buf);
}

int vet_catalog_parse(vet_catalog *c, const unsigned char *data, size_t len, const char *name)
{
    vet_yaml *y = NULL;
    yaml_node_t *root, *list;
    row *add = NULL;
    size_t nadd = 0, nitems;
    int rc = 0;
    const char *newest = NULL;
    vet_version nv;

    if ((rc = vet_yaml_load(&y, data, len, name)))
        goto done;
    root = vet_yaml_root(y, 0);
    if (!root) /* an empty file adds nothing */
        goto done;
    list = vet_yaml_get(y, root, "apis");
    if (!list)
        list = vet_yaml_get(y, root, "deprecated-versions");
    if (!list || list->type != YAML_SEQUENCE_NODE) {
        rc = vet_error_set(VET_EINPUT, "%s:%zu: want a list under \"apis:\"", name,
                           vet_yaml_line(root));
        goto done;
    }
    if ((newest = vet_yaml_str(vet_yaml_get(y, root, "newest"))) &&
        vet_version_parse(&nv, newest)) {
        rc = vet_error_set(VET_EINPUT, "%s: newest: invalid version \"%s\"", name, newest);
        goto done;
    }
    nitems = vet_yaml_len(list);
    if (nitems > MAX_ROWS) {
        rc = vet_error_set(VET_ELIMIT, "%s: more than %d rows", name, MAX_ROWS);
        goto done;
    }
    add = calloc(nitems ? nitems : 1, sizeof *add);
    if (!add) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nitems; i++) {
        yaml_node_t *it = vet_yaml_item(y, list, i);
        size_t line = vet_yaml_line(it);
        const char *av = field(y, it, "apiVersion", "version"), *kind = field(y, it, "kind", NULL);
        const char *dep = field(y, it, "deprecated-in", NULL),
                   *rem = field(y, it, "removed-in", NULL);
        const char *repl = field(y, it, "replacement", "replacement-api");
        const char *avail = field(y, it, "replacement-available-in", NULL);
        const char *comp = field(y, it, "component", NULL), *note = field(y, it, "note", NULL);
        row *r = &add[nadd];
        if (!it || it->type != YAML_MAPPING_NODE || !av || !*av || !kind || !*kind) {
            rc = vet_error_set(VET_EINPUT, "%s:%zu: a row needs apiVersion and kind", name, line);
            goto done;
        }
        if ((rc = version_field(name, line, "deprecated-in", dep, &r->api.dep, &r->api.has_dep)) ||
            (rc = version_field(name, line, "removed-in", rem, &r->api.rem, &r->api.has_rem)))
            goto done;
        if (!r->api.has_dep && !r->api.has_rem) {
            rc = vet_error_set(VET_EINPUT, "%s:%zu: %s %s: needs deprecated-in or removed-in", name,
                               line, av, kind);
            goto done;
        }
        r->strs[0] = strdup(av);
        r->strs[1] = strdup(kind);
        r->strs[2] = norm_version(dep ? dep : "", &r->api.dep, r->api.has_dep);
        r->strs[3] = norm_version(rem ? rem : "", &r->api.rem, r->api.has_rem);
        r->strs[4] = strdup(repl && *repl ? repl : "none");
        r->strs[5] = dup_or_empty(avail && avail[0] == 'v' ? avail + 1 : avail);
        r->strs[6] = strdup(comp && *comp ? comp : "k8s");
        r->strs[7] = dup_or_empty(note);
        nadd++;
        for (size_t k = 0; k < 8; k++)
            if (!r->strs[k]) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        r->api.api_version = r->strs[0];
        r->api.kind = r->strs[1];
        r->api.deprecated_in = r->strs[2];
        r->api.removed_in = r->strs[3];
        r->api.replacement = r->strs[4];
        r->api.replacement_available_in = r->strs[5];
        r->api.component = r->strs[6];
        r->api.note = r->strs[7];
    }
    /* Commit: replace rows with the same key in place (keeps file order), append the others. */
    for (size_t i = 0; i < nadd; i++) {
        const vet_api *old = vet_catalog_lookup(c, add[i].api.api_version, add[i].api.kind);
        if (old) {
            row *o = (row *)((char *)old - offsetof(row, api));
            row_free(o);
            *o = add[i];
        } else {
            if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 64;
                row *nr = realloc(c->rows, cap * sizeof *nr);
                if (!nr) {
                    rc = vet_error_set(VET_ENOMEM, "out of memory");
                    for (size_t k = i; k < nadd; k++)
                        row_free(&add[k]);
                    nadd = 0;
                    goto done;
                }
                c->rows = nr;
                c->cap = cap;
            }
            c->rows[c->n++] = add[i];
            if ((rc = rebuild(c))) {
                for (size_t k = i + 1; k < nadd; k++)
                    row_free(&add[k]);
                nadd = 0;
                goto done;
            }
        }
        memset(&add[i], 0, sizeof add[i]);
    }
    nadd = 0;
    if (newest)
        vet_version_minor_str(c->newest, sizeof c->newest, &nv);
    {
        const char *up = vet_yaml_str(vet_yaml_get(y, root, "updated"));
        if (up)
            snprintf(c->updated, sizeof c->updated, "%s", up);
    }
done:
    for (size_t i = 0; i < nadd; i++)
        row_free(&add[i]);
    free(add);
    vet_yaml_free(y);
    return rc;
}

int vet_catalog_load_file(vet_catalog *c, const char *path)
{
    vet_buf b = VET_BUF_INIT;
    int rc = vet_fs_read(&b, path, 16u << 20);
    if (!rc)
        rc = vet_catalog_parse(c, (const unsigned char *)b.ptr, b.size, path);
    vet_buf_free(&b);
    return rc;
}

int vet_catalog_load_builtin(vet_catalog **out)
{
    size_t len;
    const unsigned char *d = vet_catalog_builtin_data(&len);
    int rc = vet_catalog_new(out);
    if (!rc && (rc = vet_catalog_parse(*out, d, len, "data/apis.yaml"))) {
        vet_catalog_free(*out);
        *out = NULL;
    }
    return rc;
}
