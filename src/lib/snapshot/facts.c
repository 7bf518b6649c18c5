/* The snapshot source for the checks: one pass over the objects of a snapshot, kept as a list
 * and summarised per resource + namespace + apiVersion/kind/encoding (the inventory) and per
 * resource + apiVersion/kind (what KV406 judges). No judgement here: which versions are gone is
 * the API catalog's business, read by the check.
 *
 * A cluster snapshot holds up to millions of objects in a few thousand groups, so the groups are
 * found through a hash table, and every string lives in a chunked arena (stable pointers, a
 * handful of allocations instead of seven per object). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"
#include "snap_int.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")
#define CHUNK ((size_t)64 * 1024)

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

/* Key -> index into an array; open addressing, linear probing, at most half full. */
typedef struct {
    const char *k; /* in the arena; NULL: empty slot */
    size_t n;
    uint64_t h;
    size_t val;
} slot;

typedef struct {
    slot *v;
    size_t cap, used;
} map;

typedef struct {
    chunk *arena;
    vet_snapshot_object *objects;
    size_t nobjects, capobjects;
    vet_snapshot_group *groups;
    size_t ngroups, capgroups;
    vet_snapshot_stored *stored;
    size_t nstored, capstored;
} owned;

typedef struct {
    vet_snapshot_facts *f;
    owned *o;
    map groups, stored;
} loader;

static char *arena_alloc(owned *o, size_t n)
{
    chunk *c = o->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;
        if (!(c = malloc(sizeof *c + cap)))
            return NULL;
        c->next = o->arena;
        c->used = 0;
        c->cap = cap;
        o->arena = c;
    }
    c->used += n;
    return c->data + c->used - n;
}

static const char *arena_str(owned *o, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(o, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static int grow_array(void **v, size_t *cap, size_t n, size_t size)
{
    size_t nc = *cap ? *cap * 2 : 64;
    void *p;
    if (n < *cap)
        return 0;
    if (nc > SIZE_MAX / size)
        return -1;
    if (!(p = realloc(*v, nc * size)))
        return -1;
    *v = p;
    *cap = nc;
    return 0;
}

/* FNV-1a, 64-bit. */
static uint64_t hash(const char *k, size_t n)
{
    return vet_fnv1a(VET_FNV1A_INIT, k, n);
}

static int map_grow(map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 256;
    slot *v = calloc(cap, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;
        if (!m->v[i].k)
            continue;
        for (j = m->v[i].h & (cap - 1); v[j].k; j = (j + 1) & (cap - 1))
            ;
        v[j] = m->v[i];
    }
    free(m->v);
    m->v = v;
    m->cap = cap;
    return 0;
}

/* The slot of key k (n bytes, NULs allowed), or the empty slot where it belongs (k NULL). */
static slot *map_find(map *m, const char *k, size_t n, uint64_t h)
{
    size_t j = h & (m->cap - 1);
    for (; m->v[j].k; j = (j + 1) & (m->cap - 1))
        if (m->v[j].h == h && m->v[j].n == n && !memcmp(m->v[j].k, k, n))
            break;
    return &m->v[j];
}

/* Fields joined with NUL separators (strings from the file may hold any other byte). */
static char *join(owned *o, size_t *n, const char *const *parts, size_t nparts)
{
    size_t len = 0;
    char *k, *p;
    for (size_t i = 0; i < nparts; i++)
        len += strlen(parts[i]) + 1;
    if (!(k = arena_alloc(o, len)))
        return NULL;
    p = k;
    for (size_t i = 0; i < nparts; i++) {
        size_t l = strlen(parts[i]) + 1;
        memcpy(p, parts[i], l);
        p += l;
    }
    *n = len;
    return k;
}

/* Index of the entry for parts in m, or SIZE_MAX when new (*sl is then its empty slot, filled
 * with the key). */
static int map_get(map *m, owned *o, const char *const *parts, size_t nparts, slot **sl)
{
    size_t n;
    const char *k;
    char *nk;
    uint64_t h;
    if ((m->used + 1) * 2 > m->cap && map_grow(m))
        return -1;
    /* Build the key in the arena only when new; look it up from a stack copy first. */
    {
        char buf[512];
        size_t len = 0;
        for (size_t i = 0; i < nparts; i++)
            len += strlen(parts[i]) + 1;
        if (len <= sizeof buf) {
            char *p = buf;
            for (size_t i = 0; i < nparts; i++) {
                size_t l = strlen(parts[i]) + 1;
                memcpy(p, parts[i], l);
                p += l;
            }
            h = hash(buf, len);
            *sl = map_find(m, buf, len, h);
            if ((*sl)->k)
                return 0;
            if (!(nk = arena_alloc(o, len)))
                return -1;
            memcpy(nk, buf, len);
            k = nk;
            n = len;
        } else {
            if (!(k = join(o, &n, parts, nparts)))
                return -1;
            h = hash(k, n);
            *sl = map_find(m, k, n, h);
            if ((*sl)->k)
                return 0;
        }
    }
    (*sl)->k = k;
    (*sl)->n = n;
    (*sl)->h = h;
    (*sl)->val = SIZE_MAX;
    m->used++;
    return 0;
}

static int on_object(const vet_snapshot_object *ob, void *ud)
{
    loader *l = ud;
    owned *o = l->o;
    const char *enc = vet_snapshot_encoding_name(ob->encoding);
    vet_snapshot_object *c;
    slot *sl;

    if (grow_array((void **)&o->objects, &o->capobjects, o->nobjects, sizeof *o->objects))
        return OOM();
    c = &o->objects[o->nobjects];
    *c = *ob;
    if (!(c->key = arena_str(o, ob->key)) || !(c->resource = arena_str(o, ob->resource)) ||
        !(c->ns = arena_str(o, ob->ns)) || !(c->name = arena_str(o, ob->name)) ||
        !(c->api_version = arena_str(o, ob->api_version)) || !(c->kind = arena_str(o, ob->kind)) ||
        !(c->encryption = arena_str(o, ob->encryption)))
        return OOM();
    o->nobjects++;

    {
        const char *parts[] = {c->resource, c->ns, c->api_version, c->kind, enc};
        if (map_get(&l->groups, o, parts, 5, &sl))
            return OOM();
        if (sl->val == SIZE_MAX) {
            vet_snapshot_group *g;
            if (grow_array((void **)&o->groups, &o->capgroups, o->ngroups, sizeof *o->groups))
                return OOM();
            g = &o->groups[o->ngroups];
            memset(g, 0, sizeof *g);
            g->resource = c->resource;
            g->ns = c->ns;
            g->api_version = c->api_version;
            g->kind = c->kind;
            g->encoding = c->encoding;
            sl->val = o->ngroups++;
        }
        o->groups[sl->val].count++;
    }
    {
        const char *parts[] = {c->resource, c->api_version, c->kind};
        vet_snapshot_stored *st;
        if (map_get(&l->stored, o, parts, 3, &sl))
            return OOM();
        if (sl->val == SIZE_MAX) {
            if (grow_array((void **)&o->stored, &o->capstored, o->nstored, sizeof *o->stored))
                return OOM();
            st = &o->stored[o->nstored];
            memset(st, 0, sizeof *st);
            st->resource = c->resource;
            st->api_version = c->api_version;
            st->kind = c->kind;
            sl->val = o->nstored++;
        }
        st = &o->stored[sl->val];
        st->count++;
        if (c->encoding == VET_SNAPSHOT_ENC_ENCRYPTED)
            st->encrypted++;
        if (st->nexamples < VET_SNAPSHOT_EXAMPLES) {
            const char *ex = c->name;
            if (*c->ns) {
                size_t a = strlen(c->ns), b = strlen(c->name);
                char *p = arena_alloc(o, a + b + 2);
                if (!p)
                    return OOM();
                memcpy(p, c->ns, a);
                p[a] = '/';
                memcpy(p + a + 1, c->name, b + 1);
                ex = p;
            }
            st->examples[st->nexamples++] = ex;
        }
    }
    return 0;
}

static void owned_free(owned *o)
{
    if (!o)
        return;
    for (chunk *c = o->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(o->objects);
    free(o->groups);
    free(o->stored);
    free(o);
}

int vet_snapshot_facts_load(vet_snapshot_facts **out, vet_snapshot *s)
{
    loader l;
    vet_snapshot_facts *f = NULL;
    owned *o = NULL;
    size_t other = 0;
    int rc = 0;

    *out = NULL;
    memset(&l, 0, sizeof l);
    if (!(f = calloc(1, sizeof *f)) || !(o = calloc(1, sizeof *o))) {
        rc = OOM();
        goto done;
    }
    l.f = f;
    l.o = o;
    if ((rc = vet_snapshot_objects(s, on_object, &l, &other)))
        goto done;
    f->objects = o->objects;
    f->nobjects = o->nobjects;
    f->groups = o->groups;
    f->ngroups = o->ngroups;
    f->stored = o->stored;
    f->nstored = o->nstored;
    f->nother = other;
    f->owned = o;
    o = NULL;
    *out = f;
    f = NULL;
done:
    free(l.groups.v);
    free(l.stored.v);
    owned_free(o);
    free(f);
    return rc;
}

void vet_snapshot_facts_free(vet_snapshot_facts *f)
{
    if (!f)
        return;
    owned_free(f->owned);
    free(f);
}
