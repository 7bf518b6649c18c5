/* etcd and Kubernetes semantics over the `key` bucket: the latest revision of every key, and
 * how each Kubernetes object is stored.
 *
 * etcd 3 (mvcc) keys the `key` bucket by revision: main int64 BE, '_', sub int64 BE, plus a
 * trailing 't' for a tombstone (delete). Values are mvccpb.KeyValue {key=1, create_revision=2,
 * mod_revision=3, version=4, value=5, lease=6}. A key's current state is its highest revision;
 * compaction keeps only the latest revision (and the tombstone) of each key, so older revisions
 * may or may not be present.
 *
 * kube-apiserver stores most objects as protobuf: "k8s\0" + runtime.Unknown {typeMeta=1
 * {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4}, raw being the object whose
 * field 1 is ObjectMeta {name=1, namespace=3}. CRDs, custom resources and APIServices are
 * JSON. With encryption at rest a value is "k8s:enc:<provider>:<v>:<key name>:" + ciphertext. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "hash.h"
#include "snap_int.h"

/* ---- protobuf, only what the values above need ---- */

typedef struct {
    const unsigned char *p, *end;
} pb;

static int pb_varint(pb *b, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->end)
            return -1;
        unsigned char c = *b->p++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Next field: 1 with the field number and wire type and either *v (varint) or *ptr, *len
 * (bytes); 0 at the end; -1 on malformed input. Fixed-width fields are skipped (*v = 0). */
static int pb_next(pb *b, uint32_t *field, int *wt, uint64_t *v, const unsigned char **ptr,
                   size_t *len)
{
    uint64_t tag, n;
    if (b->p >= b->end)
        return 0;
    if (pb_varint(b, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return -1;
    *field = (uint32_t)(tag >> 3);
    *wt = (int)(tag & 7);
    *v = 0;
    *ptr = NULL;
    *len = 0;
    switch (*wt) {
    case 0:
        return pb_varint(b, v) ? -1 : 1;
    case 1:
        if (b->end - b->p < 8)
            return -1;
        b->p += 8;
        return 1;
    case 5:
        if (b->end - b->p < 4)
            return -1;
        b->p += 4;
        return 1;
    case 2:
        if (pb_varint(b, &n) || n > (uint64_t)(b->end - b->p))
            return -1;
        *ptr = b->p;
        *len = (size_t)n;
        b->p += n;
        return 1;
    }
    return -1;
}

typedef struct {
    const unsigned char *key, *val;
    size_t klen, vlen;
    int64_t create_rev, mod_rev, version;
    int tomb;
} entry;

/* mvccpb.KeyValue */
static int parse_kv(entry *e, const unsigned char *v, size_t vlen)
{
    pb b = {v, v + vlen};
    uint32_t f;
    int wt, r;
    uint64_t x;
    const unsigned char *p;
    size_t n;
    memset(e, 0, sizeof *e);
    e->val = (const unsigned char *)"";
    while ((r = pb_next(&b, &f, &wt, &x, &p, &n)) == 1) {
        if (f == 1 && wt == 2) {
            e->key = p;
            e->klen = n;
        } else if (f == 5 && wt == 2) {
            e->val = p;
            e->vlen = n;
        } else if (wt == 0 && f == 2) {
            e->create_rev = (int64_t)x;
        } else if (wt == 0 && f == 3) {
            e->mod_rev = (int64_t)x;
        } else if (wt == 0 && f == 4) {
            e->version = (int64_t)x;
        }
    }
    return r < 0 || !e->key ? -1 : 0;
}

/* ---- latest revision of each key: open addressing over entries ---- */

typedef struct {
    entry *v;
    size_t n, cap;
    size_t *slot; /* index + 1; 0 = empty */
    size_t nslot;
    int oom;
} collect;

static uint64_t khash(const unsigned char *p, size_t n)
{
    return vet_fnv1a(VET_FNV1A_INIT, p, n);
}

static int grow(collect *c)
{
    size_t ns = c->nslot ? c->nslot * 2 : 1024;
    size_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        size_t h = (size_t)khash(c->v[i].key, c->v[i].klen) & (ns - 1);
        while (slot[h])
            h = (h + 1) & (ns - 1);
        slot[h] = i + 1;
    }
    free(c->slot);
    c->slot = slot;
    c->nslot = ns;
    return 0;
}

static int on_key(void *ud, const unsigned char *k, size_t klen, const unsigned char *v,
                  size_t vlen)
{
    collect *c = ud;
    entry e;
    if (parse_kv(&e, v, vlen))
        return 0; /* not a KeyValue: the key bucket of something else */
    e.tomb = klen == 18 && k[17] == 't';
    if ((c->n + 1) * 2 > c->nslot && grow(c)) {
        c->oom = 1;
        return 1;
    }
    size_t h = (size_t)khash(e.key, e.klen) & (c->nslot - 1);
    while (c->slot[h]) {
        entry *o = &c->v[c->slot[h] - 1];
        if (o->klen == e.klen && !memcmp(o->key, e.key, e.klen)) {
            *o = e; /* revisions arrive in order: the later one wins */
            return 0;
        }
        h = (h + 1) & (c->nslot - 1);
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        entry *nv = realloc(c->v, nc * sizeof *nv);
        if (!nv) {
            c->oom = 1;
            return 1;
        }
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n] = e;
    c->slot[h] = ++c->n;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int r = memcmp(x->key, y->key, n);
    return r ? r : (x->klen > y->klen) - (x->klen < y->klen);
}

/* ---- one object ---- */

typedef struct {
    const unsigned char *p;
    size_t n;
} span;

static void proto_meta(span raw, span *name, span *ns)
{
    pb b = {raw.p, raw.p + raw.n}, m;
    uint32_t f;
    int wt;
    uint64_t x;
    const unsigned char *p;
    size_t n;
    while (pb_next(&b, &f, &wt, &x, &p, &n) == 1) {
        if (f != 1 || wt != 2)
            continue;
        m.p = p;
        m.end = p + n;
        while (pb_next(&m, &f, &wt, &x, &p, &n) == 1) {
            if (f == 1 && wt == 2)
                *name = (span){p, n};
            else if (f == 3 && wt == 2)
                *ns = (span){p, n};
        }
        return;
    }
}

/* runtime.Unknown after the magic */
static int proto_unknown(const unsigned char *v, size_t vlen, span *av, span *kind, span *name,
                         span *ns)
{
    pb b = {v, v + vlen}, t;
    uint32_t f;
    int wt, r, got = 0;
    uint64_t x;
    const unsigned char *p;
    size_t n;
    while ((r = pb_next(&b, &f, &wt, &x, &p, &n)) == 1) {
        if (f == 1 && wt == 2) {
            t.p = p;
            t.end = p + n;
            while (pb_next(&t, &f, &wt, &x, &p, &n) == 1) {
                if (f == 1 && wt == 2)
                    *av = (span){p, n};
                else if (f == 2 && wt == 2)
                    *kind = (span){p, n};
            }
            got = 1;
        } else if (f == 2 && wt == 2) {
            proto_meta((span){p, n}, name, ns);
        }
    }
    return got ? 0 : -1;
}

static char *dup_span(span s)
{
    char *r = malloc(s.n + 1);
    if (r) {
        if (s.n)
            memcpy(r, s.p, s.n);
        r[s.n] = 0;
    }
    return r;
}

static int printable(span s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < 0x20 || s.p[i] == 0x7f)
            return 0;
    return 1;
}

typedef struct {
    char *key, *resource, *ns, *name, *av, *kind, *enc;
} strs;

static void strs_free(strs *s)
{
    free(s->key);
    free(s->resource);
    free(s->ns);
    free(s->name);
    free(s->av);
    free(s->kind);
    free(s->enc);
    memset(s, 0, sizeof *s);
}

/* /registry/<resource>/[<ns>/]<name>, /registry/<group>/<resource>/..., with the historical
 * exceptions: nodes under minions, services under services/specs, endpoints under
 * services/endpoints. */
static int key_parts(strs *o, const char *key)
{
    const char *rest = key, *segs[8];
    size_t lens[8], nseg = 0, idx = 1;
    if (!strncmp(key, "/registry/", 10))
        rest = key + 10;
    else if (key[0] == '/' && strchr(key + 1, '/'))
        rest = strchr(key + 1, '/') + 1; /* another --etcd-prefix */
    while (*rest && nseg < 8) {
        const char *sl = strchr(rest, '/');
        segs[nseg] = rest;
        if (!sl || nseg == 7) {
            lens[nseg++] = strlen(rest);
            break;
        }
        lens[nseg++] = (size_t)(sl - rest);
        rest = sl + 1;
    }
    if (!nseg)
        return (o->resource = strdup("")) && (o->ns = strdup("")) && (o->name = strdup("")) ? 0
                                                                                            : -1;
    if (nseg >= 2 && memchr(segs[0], '.', lens[0])) {
        o->resource = vet_strdupf("%.*s.%.*s", (int)lens[1], segs[1], (int)lens[0], segs[0]);
        idx = 2;
    } else if (nseg >= 2 && lens[0] == 8 && !memcmp(segs[0], "services", 8) &&
               ((lens[1] == 5 && !memcmp(segs[1], "specs", 5)) ||
                (lens[1] == 9 && !memcmp(segs[1], "endpoints", 9)))) {
        o->resource = strdup(lens[1] == 5 ? "services" : "endpoints");
        idx = 2;
    } else if (lens[0] == 7 && !memcmp(segs[0], "minions", 7)) {
        o->resource = strdup("nodes");
    } else {
        o->resource = vet_strdupf("%.*s", (int)lens[0], segs[0]);
    }
    if (nseg - idx >= 2) {
        o->ns = vet_strdupf("%.*s", (int)lens[idx], segs[idx]);
        o->name = strdup(segs[idx + 1]);
    } else {
        o->ns = strdup("");
        o->name = strdup(nseg > idx ? segs[idx] : "");
    }
    return o->resource && o->ns && o->name ? 0 : -1;
}

static int decode(vet_snapshot_object *ob, strs *o, const entry *e)
{
    span av = {0}, kind = {0}, name = {0}, ns = {0};
    const unsigned char *v = e->val;
    size_t n = e->vlen;
    int have_meta = 0;

    if (!(o->key = dup_span((span){e->key, e->klen})))
        return -1;
    /* keys are bytes; keep what prints */
    for (char *c = o->key; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (key_parts(o, o->key))
        return -1;
    ob->encoding = VET_SNAPSHOT_ENC_UNKNOWN;

    if (n >= 4 && !memcmp(v, "k8s\0", 4)) {
        if (!proto_unknown(v + 4, n - 4, &av, &kind, &name, &ns)) {
            ob->encoding = VET_SNAPSHOT_ENC_PROTOBUF;
            have_meta = name.n > 0;
        }
    } else if (n >= 8 && !memcmp(v, "k8s:enc:", 8)) {
        /* provider, format version, key name: each up to the next ':' */
        const unsigned char *p = v + 8, *end = v + n;
        const unsigned char *c1 = memchr(p, ':', (size_t)(end - p));
        const unsigned char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        const unsigned char *c3 = c2 ? memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) : NULL;
        span enc = {p, c3 ? (size_t)(c3 - p) : c1 ? (size_t)(c1 - p) : 0};
        if (enc.n > 200 || !printable(enc))
            enc.n = 0;
        ob->encoding = VET_SNAPSHOT_ENC_ENCRYPTED;
        if (!(o->enc = dup_span(enc)))
            return -1;
    } else {
        size_t i = 0;
        while (i < n && (v[i] == ' ' || v[i] == '\n' || v[i] == '\r' || v[i] == '\t'))
            i++;
        if (i < n && v[i] == '{') {
            json_t *j = json_loadb((const char *)v, n, JSON_DECODE_ANY, NULL);
            const char *a = json_string_value(json_object_get(j, "apiVersion"));
            const char *k = json_string_value(json_object_get(j, "kind"));
            json_t *md = json_object_get(j, "metadata");
            const char *nm = json_string_value(json_object_get(md, "name"));
            const char *nsp = json_string_value(json_object_get(md, "namespace"));
            if (a || k) {
                ob->encoding = VET_SNAPSHOT_ENC_JSON;
                o->av = strdup(a ? a : "");
                o->kind = strdup(k ? k : "");
                if (nm && *nm) {
                    have_meta = 1;
                    free(o->name);
                    free(o->ns);
                    o->name = strdup(nm);
                    o->ns = strdup(nsp ? nsp : "");
                }
            }
            json_decref(j);
            if (a || k) {
                if (!o->av || !o->kind || !o->name || !o->ns)
                    return -1;
            }
        }
    }
    if (ob->encoding == VET_SNAPSHOT_ENC_PROTOBUF) {
        if (!printable(av))
            av.n = 0;
        if (!printable(kind))
            kind.n = 0;
        if (!(o->av = dup_span(av)) || !(o->kind = dup_span(kind)))
            return -1;
        if (have_meta && printable(name) && printable(ns)) {
            free(o->name);
            free(o->ns);
            if (!(o->name = dup_span(name)) || !(o->ns = dup_span(ns)))
                return -1;
        }
    }
    if ((!o->av && !(o->av = strdup(""))) || (!o->kind && !(o->kind = strdup(""))) ||
        (!o->enc && !(o->enc = strdup(""))))
        return -1;
    ob->key = o->key;
    ob->resource = o->resource;
    ob->ns = o->ns;
    ob->name = o->name;
    ob->api_version = o->av;
    ob->kind = o->kind;
    ob->encryption = o->enc;
    ob->create_revision = e->create_rev;
    ob->mod_revision = e->mod_rev;
    ob->version = e->version;
    ob->value_size = e->vlen;
    ob->value = e->val;
    return 0;
}

const char *vet_snapshot_encoding_name(vet_snapshot_encoding e)
{
    switch (e) {
    case VET_SNAPSHOT_ENC_PROTOBUF:
        return "protobuf";
    case VET_SNAPSHOT_ENC_JSON:
        return "json";
    case VET_SNAPSHOT_ENC_ENCRYPTED:
        return "encrypted";
    default:
        return "unknown";
    }
}

static int walk_file(void *s, snap_key_fn fn, void *ud)
{
    return snap_walk(s, fn, ud);
}

int vet_snapshot_objects(vet_snapshot *s, int (*fn)(const vet_snapshot_object *o, void *ud),
                         void *ud, size_t *nother)
{
    return snap_objects_from(walk_file, s, vet_snapshot_name(s), fn, ud, nother);
}

int snap_objects_from(snap_feed_fn feed, void *fud, const char *name,
                      int (*fn)(const vet_snapshot_object *o, void *ud), void *ud, size_t *nother)
{
    collect c;
    int rc = 0;
    size_t other = 0;
    memset(&c, 0, sizeof c);
    if (grow(&c)) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    rc = feed(fud, on_key, &c);
    if (rc < 0)
        goto done;
    rc = 0;
    if (c.oom) {
        rc = vet_error_set(VET_ENOMEM, "%s: out of memory collecting keys", name);
        goto done;
    }
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, cmp_entry);
    for (size_t i = 0; i < c.n && !rc; i++) {
        const entry *e = &c.v[i];
        vet_snapshot_object ob;
        strs o = {0};
        if (e->tomb)
            continue;
        memset(&ob, 0, sizeof ob);
        if (decode(&ob, &o, e)) {
            strs_free(&o);
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            break;
        }
        if (ob.encoding == VET_SNAPSHOT_ENC_UNKNOWN && strncmp(o.key, "/registry/", 10))
            other++;
        else
            rc = fn(&ob, ud);
        strs_free(&o);
    }
done:
    if (nother)
        *nother = other;
    free(c.v);
    free(c.slot);
    return rc;
}
