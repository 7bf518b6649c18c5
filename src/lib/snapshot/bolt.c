/* The bbolt page reader: meta pages, freelist, and one walk that does bbolt's consistency check
 * (tx.Check, as `etcdctl snapshot status` 3.4 runs it) and etcdctl's hash together.
 *
 * Layout facts (bbolt 1.3, the version etcd 3.4 ships): every page starts with a 16-byte header
 * {id u64, flags u16, count u16, overflow u32}; a page spans (overflow + 1) * pageSize bytes.
 * Pages 0 and 1 are metas; the one with the higher txid whose magic, version and FNV-1a
 * checksum hold is used. Branch elements are {pos u32, ksize u32, pgid u64}, leaf elements
 * {flags u32, pos u32, ksize u32, vsize u32}, pos counted from the element itself. A leaf
 * element with flag 1 is a sub-bucket whose value starts {root u64, sequence u64}; root 0 means
 * the bucket's single leaf page follows inline in the value.
 *
 * tx.Check's rules, kept with its wording: freelist ids listed twice ("already freed"); a page
 * past the high-water mark ("out of bounds"); a page reached twice ("multiple references"); a
 * reached page that is also free ("reachable freed"); a reached page that is neither branch nor
 * leaf ("invalid type"); a page below the high-water mark that is neither reached nor free
 * ("unreachable unfreed"). Pages 0, 1 and the freelist's pages count as reached. When the
 * freelist is not synced (etcd on Linux sets NoFreelistSync), bbolt derives it as "every page
 * not reached", so the last two rules cannot fire. Beyond bbolt: every offset, count and id is
 * bounds-checked before use (bbolt trusts them and faults), a page is never walked twice
 * (a cycle would recurse for ever), and depth is capped.
 *
 * The walk reads the handle's bytes in place (file.c maps and populates them) and only records
 * which ranges the hash covers; the CRC runs afterwards over those ranges on two threads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"
#include "snap_int.h"

#define PAGE_HDR 16
#define ELEM 16
#define F_BRANCH 0x01
#define F_LEAF 0x02
#define F_META 0x04
#define F_FREELIST 0x10
#define BUCKET_LEAF 0x01
#define MAGIC 0xED0CDAEDu
#define NO_FREELIST UINT64_MAX
#define MAX_DEPTH 64 /* a B+tree of 4 KiB pages is a handful of levels deep */
#define MAX_NEST 16  /* buckets within buckets (etcd uses one level) */
#define MAX_KEPT 200 /* error messages kept */

typedef struct {
    vet_snapshot *s;
    const unsigned char *d;
    int oom;
    uint64_t psize, pgid, npages;
    unsigned char *reach, *freed;
    int freed_known; /* a valid synced freelist was read */
    int record;      /* store errors and figures in the handle */
    snap_spans spans; /* what the hash covers, in order (hashed after the walk) */
    int64_t total_key, revision;
    snap_key_fn fn;
    void *ud;
    int stop;
    /* Every element of a real file has its own 16-byte header, so a walk that meets more
     * elements than the file has room for is being led over the same bytes again (inline
     * buckets whose elements share one value): stop it instead of multiplying the work. */
    uint64_t elems, max_elems;
    int overlap;
} walker;

static void err_add(walker *w, int strict, const char *fmt, ...) VET_PRINTF(3, 4);
static void err_add(walker *w, int strict, const char *fmt, ...)
{
    vet_snapshot *s = w->s;
    va_list ap;
    char msg[512];
    if (!w->record)
        return;
    s->nerrors++;
    if (strict)
        s->nstrict++;
    if (s->errors.n >= MAX_KEPT)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (void)vet_strv_push(&s->errors, msg); /* on allocation failure the count still tells */
}

static inline int bit(const unsigned char *bm, uint64_t i)
{
    return (bm[i >> 3] >> (i & 7)) & 1;
}
static inline void setbit(unsigned char *bm, uint64_t i)
{
    bm[i >> 3] |= (unsigned char)(1u << (i & 7));
}

static const char *ptype(uint16_t flags, char buf[16])
{
    /* bbolt's page.typ() names */
    switch (flags) {
    case F_BRANCH:
        return "branch";
    case F_LEAF:
        return "leaf";
    case F_META:
        return "meta";
    case F_FREELIST:
        return "freelist";
    }
    snprintf(buf, 16, "unknown<%02x>", flags);
    return buf;
}

/* Bytes in etcdctl's order, as ranges of the mapping: the CRC runs after the walk, on two
 * threads (snap_spans_crc). Only the recording walk hashes. */
static inline void hash(walker *w, const unsigned char *p, size_t n)
{
    if (w->record && snap_spans_add(&w->spans, p, n))
        w->oom = w->stop = 1;
}

/* Pages `id`..: the caller has checked id + n <= npages. */
static inline const unsigned char *page_get(walker *w, uint64_t id)
{
    return w->d + id * w->psize;
}

static void walk_tree(walker *w, uint64_t id, int depth, int level, int iskey);

static void leaf(walker *w, const unsigned char *p, size_t span, uint64_t id, int level, int iskey,
                 const char *what);

/* A sub-bucket's value: {root, sequence} then, for root 0, an inline leaf page. */
static void sub_bucket(walker *w, const unsigned char *v, size_t vlen, uint64_t id, int level,
                       int iskey, const unsigned char *name, size_t nlen)
{
    char show[40];
    size_t n = nlen < 24 ? nlen : 24;
    for (size_t i = 0; i < n; i++)
        show[i] = (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"') ? (char)name[i] : '?';
    show[n] = 0;
    if (level > MAX_NEST) {
        err_add(w, 0, "page %llu: bucket \"%s\" nested deeper than %d levels",
                (unsigned long long)id, show, MAX_NEST);
        return;
    }
    if (vlen < 16) {
        err_add(w, 0,
                "page %llu: bucket \"%s\": value of %zu bytes is shorter than a bucket "
                "header",
                (unsigned long long)id, show, vlen);
        return;
    }
    uint64_t root = rd64(v);
    if (root) {
        walk_tree(w, root, 0, level, iskey);
        return;
    }
    if (vlen < 16 + PAGE_HDR) {
        err_add(w, 0, "page %llu: inline bucket \"%s\": %zu bytes cannot hold a page",
                (unsigned long long)id, show, vlen);
        return;
    }
    const unsigned char *ip = v + 16;
    uint16_t fl = rd16(ip + 8);
    if (fl != F_LEAF) {
        char b[16];
        err_add(w, 0, "page %llu: inline bucket \"%s\": invalid type: %s", (unsigned long long)id,
                show, ptype(fl, b));
        return;
    }
    leaf(w, ip, vlen - 16, id, level, iskey, "inline bucket");
}

static void elem(walker *w, uint64_t id, int level, int iskey, const unsigned char *k, size_t ks,
                 const unsigned char *v, size_t vs, uint32_t flags)
{
    if (w->stop)
        return;
    if (level == 0) {
        /* top level: every entry must be a bucket (etcdctl: "cannot get hash of bucket") */
        if (!(flags & BUCKET_LEAF)) {
            err_add(w, 0, "page %llu: top-level key \"%.*s\" is not a bucket",
                    (unsigned long long)id, (int)(ks > 40 ? 40 : ks), (const char *)k);
            return;
        }
        hash(w, k, ks);
        sub_bucket(w, v, vs, id, 1, ks == 3 && !memcmp(k, "key", 3), k, ks);
        return;
    }
    if (level == 1) {
        /* etcdctl's b.ForEach: a nested bucket's value reads as nil */
        hash(w, k, ks);
        w->total_key++;
        if (flags & BUCKET_LEAF) {
            sub_bucket(w, v, vs, id, level + 1, 0, k, ks);
            return;
        }
        hash(w, v, vs);
        if (iskey) {
            /* etcd's revision key: main int64 BE, '_', sub int64 BE[, 't'] */
            if (ks < 17) {
                err_add(w, 0, "page %llu: key bucket: key of %zu bytes is not a revision",
                        (unsigned long long)id, ks);
                return;
            }
            w->revision = (int64_t)__builtin_bswap64(rd64(k));
            if (w->fn && w->fn(w->ud, k, ks, v, vs))
                w->stop = 1;
        }
        return;
    }
    if (flags & BUCKET_LEAF)
        sub_bucket(w, v, vs, id, level + 1, 0, k, ks);
}

static void leaf(walker *w, const unsigned char *p, size_t span, uint64_t id, int level, int iskey,
                 const char *what)
{
    uint64_t count = rd16(p + 10);
    if (w->stop)
        return;
    if (PAGE_HDR + count * ELEM > span) {
        err_add(w, 0, "page %llu: %s: %llu elements do not fit in %zu bytes",
                (unsigned long long)id, what, (unsigned long long)count, span);
        return;
    }
    if (count > w->max_elems - w->elems) {
        err_add(w, 0, "page %llu: %s: more elements than the file can hold (elements overlap)",
                (unsigned long long)id, what);
        w->stop = w->overlap = 1;
        return;
    }
    w->elems += count;
    for (uint64_t i = 0; i < count && !w->stop; i++) {
        const unsigned char *e = p + PAGE_HDR + i * ELEM;
        uint32_t flags = rd32(e);
        uint64_t off = PAGE_HDR + i * ELEM + (uint64_t)rd32(e + 4);
        uint64_t ks = rd32(e + 8), vs = rd32(e + 12);
        if (off + ks + vs > span) {
            err_add(w, 0,
                    "page %llu: %s: element %llu (offset %llu, %llu+%llu bytes) lies "
                    "outside the page",
                    (unsigned long long)id, what, (unsigned long long)i, (unsigned long long)off,
                    (unsigned long long)ks, (unsigned long long)vs);
            continue;
        }
        elem(w, id, level, iskey, p + off, ks, p + off + ks, vs, flags);
    }
}

static void walk_tree(walker *w, uint64_t id, int depth, int level, int iskey)
{
    char tb[16];
    if (w->stop)
        return;
    if (depth > MAX_DEPTH) {
        err_add(w, 0, "page %llu: tree deeper than %d levels", (unsigned long long)id, MAX_DEPTH);
        return;
    }
    if (id >= w->pgid) {
        err_add(w, 0, "page %llu: out of bounds: %llu", (unsigned long long)id,
                (unsigned long long)w->pgid);
        return;
    }
    if (id >= w->npages) {
        err_add(w, 0, "page %llu: past the end of the file", (unsigned long long)id);
        return;
    }
    const unsigned char *p = page_get(w, id);
    uint64_t hid = rd64(p), ovf = rd32(p + 12);
    uint16_t flags = rd16(p + 8);
    int dup = 0;
    if (hid != id && !bit(w->reach, id)) {
        setbit(w->reach, id);
        err_add(w, 0, "page %llu: header names page %llu", (unsigned long long)id,
                (unsigned long long)hid);
        return;
    }
    if (id + ovf >= w->pgid) {
        err_add(w, 0, "page %llu: out of bounds: %llu (overflow %llu)", (unsigned long long)id,
                (unsigned long long)w->pgid, (unsigned long long)ovf);
        return;
    }
    if (id + ovf >= w->npages) {
        err_add(w, 0, "page %llu: overflow of %llu pages runs past the end of the file",
                (unsigned long long)id, (unsigned long long)ovf);
        return;
    }
    for (uint64_t i = 0; i <= ovf; i++) {
        if (bit(w->reach, id + i)) {
            err_add(w, 0, "page %llu: multiple references", (unsigned long long)(id + i));
            dup = 1;
        }
        setbit(w->reach, id + i);
    }
    if (dup)
        return; /* bbolt walks it again; a cycle would never end */
    if (w->freed_known && bit(w->freed, id))
        err_add(w, 0, "page %llu: reachable freed", (unsigned long long)id);
    size_t span = (size_t)((ovf + 1) * w->psize);
    if (flags == F_LEAF) {
        leaf(w, p, span, id, level, iskey, "leaf");
        return;
    }
    if (flags != F_BRANCH) {
        err_add(w, 0, "page %llu: invalid type: %s", (unsigned long long)id, ptype(flags, tb));
        return;
    }
    uint64_t count = rd16(p + 10);
    if (!count)
        err_add(w, 0, "page %llu: branch page without elements", (unsigned long long)id);
    if (PAGE_HDR + count * ELEM > span) {
        err_add(w, 0, "page %llu: branch: %llu elements do not fit in %zu bytes",
                (unsigned long long)id, (unsigned long long)count, span);
        return;
    }
    for (uint64_t i = 0; i < count && !w->stop; i++) {
        const unsigned char *e = p + PAGE_HDR + i * ELEM;
        uint64_t off = PAGE_HDR + i * ELEM + (uint64_t)rd32(e), ks = rd32(e + 4);
        if (off + ks > span) {
            err_add(w, 0,
                    "page %llu: branch: element %llu key (offset %llu, %llu bytes) lies "
                    "outside the page",
                    (unsigned long long)id, (unsigned long long)i, (unsigned long long)off,
                    (unsigned long long)ks);
            continue;
        }
        walk_tree(w, rd64(e + 8), depth + 1, level, iskey);
    }
}

typedef struct {
    int valid;
    const char *why;
    uint32_t psize;
    uint64_t root, freelist, pgid, txid;
    uint16_t pflags;
} meta;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    return vet_fnv1a(VET_FNV1A_INIT, p, n);
}

static int sane_psize(uint32_t ps)
{
    return ps >= 512 && ps <= (1u << 20) && !(ps & (ps - 1));
}

/* Meta at page offset 16: magic u32, version u32, pageSize u32, flags u32, root {pgid u64,
 * sequence u64}, freelist u64, pgid u64, txid u64, checksum u64 = FNV-1a 64 of the 56 before. */
static void read_meta(meta *m, const unsigned char *d, size_t len, uint64_t off)
{
    memset(m, 0, sizeof *m);
    if (off > len || len - off < PAGE_HDR + 64) {
        m->why = "page missing (file too short)";
        return;
    }
    const unsigned char *p = d + off, *q = p + PAGE_HDR;
    m->pflags = rd16(p + 8);
    m->psize = rd32(q + 8);
    m->root = rd64(q + 16);
    m->freelist = rd64(q + 32);
    m->pgid = rd64(q + 40);
    m->txid = rd64(q + 48);
    if (rd32(q) != MAGIC)
        m->why = "invalid magic";
    else if (rd32(q + 4) != 2)
        m->why = "invalid version";
    else if (rd64(q + 56) != fnv1a(q, 56))
        m->why = "checksum error";
    else if (!sane_psize(m->psize))
        m->why = "unsupported page size";
    else
        m->valid = 1;
}

/* Freelist page: ids u64 after the header; count 0xFFFF means the first u64 holds the count. */
static void load_freelist(walker *w, uint64_t fl)
{
    char tb[16];
    if (fl == NO_FREELIST)
        return;
    if (fl < 2 || fl >= w->pgid || fl >= w->npages) {
        err_add(w, 0, "page %llu: invalid freelist page: out of bounds", (unsigned long long)fl);
        return;
    }
    const unsigned char *p = page_get(w, fl);
    uint16_t flags = rd16(p + 8);
    uint64_t ovf = rd32(p + 12), count = rd16(p + 10), off = PAGE_HDR;
    if (flags != F_FREELIST) {
        /* bbolt panics here: "invalid freelist page: 2, page type is leaf" */
        err_add(w, 0, "page %llu: invalid freelist page: page type is %s", (unsigned long long)fl,
                ptype(flags, tb));
        return;
    }
    if (rd64(p) != fl) {
        err_add(w, 0, "page %llu: freelist header names page %llu", (unsigned long long)fl,
                (unsigned long long)rd64(p));
        return;
    }
    if (fl + ovf >= w->pgid || fl + ovf >= w->npages) {
        err_add(w, 0, "page %llu: freelist overflow of %llu pages out of bounds",
                (unsigned long long)fl, (unsigned long long)ovf);
        return;
    }
    size_t span = (size_t)((ovf + 1) * w->psize);
    if (count == 0xFFFF) {
        count = rd64(p + PAGE_HDR);
        off += 8;
    }
    if (count > (span - off) / 8) {
        err_add(w, 0, "page %llu: freelist count %llu does not fit in the page",
                (unsigned long long)fl, (unsigned long long)count);
        return;
    }
    for (uint64_t i = 0; i <= ovf; i++)
        setbit(w->reach, fl + i);
    w->freed_known = 1;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t id = rd64(p + off + i * 8);
        if (id < 2 || id >= w->pgid) {
            err_add(w, 0, "page %llu: freed page out of bounds: %llu", (unsigned long long)id,
                    (unsigned long long)w->pgid);
            continue;
        }
        if (id >= w->npages)
            continue;
        if (bit(w->freed, id))
            err_add(w, 0, "page %llu: already freed", (unsigned long long)id);
        setbit(w->freed, id);
    }
}

int snap_walk(vet_snapshot *s, snap_key_fn fn, void *ud)
{
    walker w;
    meta m0, m1, *m = NULL;
    vet_snapshot_info *in = &s->info;
    int rc = 0;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.d = s->data;
    w.record = !s->walked;
    snap_populate(s);
    w.fn = fn;
    w.ud = ud;

    if (w.record) {
        memset(in, 0, sizeof *in);
        in->file_size = s->len;
        in->data_size = s->len;
        in->meta_used = -1;
        in->freelist = NO_FREELIST;
        if (s->len >= 32 && s->len % 512 == 32) {
            in->trailer = VET_SNAPSHOT_TRAILER_UNCHECKED;
            in->data_size = s->len - 32;
            snap_hex(in->sha256_stored, s->data + in->data_size);
        }
    }
    size_t dlen = in->data_size;

    /* bbolt takes the page size from meta 0, else tries the OS page size; trying every
     * supported size finds meta 1 on files from hosts with other page sizes as well. */
    read_meta(&m0, s->data, dlen, 0);
    uint32_t psize = m0.valid ? m0.psize : 0;
    if (!m0.valid)
        for (uint32_t ps = 512; ps <= (1u << 20) && !psize; ps <<= 1) {
            read_meta(&m1, s->data, dlen, ps);
            if (m1.valid && m1.psize == ps)
                psize = ps;
        }
    if (psize)
        read_meta(&m1, s->data, dlen, psize);
    else
        memset(&m1, 0, sizeof m1);
    if (!m0.valid && !m1.valid) {
        err_add(&w, 0, "page 0: invalid meta page: %s; page 1: %s", m0.why,
                psize ? m1.why : "no valid meta page at any supported page size");
        goto finish;
    }
    m = (m0.valid && (!m1.valid || m1.txid <= m0.txid)) ? &m0 : &m1;
    /* etcdctl snapshot save writes both metas (bbolt's tx.WriteTo): one invalid meta means
     * the file was damaged, although bbolt would fall back to the other one. */
    if (!m0.valid)
        err_add(&w, 1, "page 0: invalid meta page: %s", m0.why);
    if (!m1.valid)
        err_add(&w, 1, "page 1: invalid meta page: %s", m1.why);
    if (m0.valid && m1.valid && m0.psize != m1.psize)
        err_add(&w, 1, "page 1: meta page size %u differs from page 0's %u", m1.psize, m0.psize);
    if (m0.valid && m0.pflags != F_META)
        err_add(&w, 1, "page 0: meta page flagged %#x", m0.pflags);
    if (m1.valid && m1.pflags != F_META)
        err_add(&w, 1, "page 1: meta page flagged %#x", m1.pflags);

    w.psize = m->psize;
    w.pgid = m->pgid;
    if (w.pgid > UINT64_MAX / w.psize || w.pgid * w.psize > (uint64_t)INT64_MAX) {
        err_add(&w, 0, "page %d: high-water mark %llu is impossible", m == &m0 ? 0 : 1,
                (unsigned long long)w.pgid);
        goto finish;
    }
    if (w.record) {
        in->meta_used = m == &m0 ? 0 : 1;
        in->page_size = m->psize;
        in->pgid = m->pgid;
        in->txid = m->txid;
        in->root = m->root;
        in->freelist = m->freelist;
        in->total_size = (int64_t)(w.pgid * w.psize);
    }
    w.npages = dlen / w.psize;
    w.max_elems = dlen / ELEM;
    if (w.npages > w.pgid)
        w.npages = w.pgid;
    if (w.pgid < 2)
        err_add(&w, 0, "page %d: high-water mark %llu is below the meta pages", m == &m0 ? 0 : 1,
                (unsigned long long)w.pgid);
    if (w.npages < w.pgid)
        err_add(&w, 0,
                "page %llu: past the end of the file: %zu bytes hold %llu of %llu pages "
                "(truncated?)",
                (unsigned long long)w.npages, dlen, (unsigned long long)w.npages,
                (unsigned long long)w.pgid);
    else if (in->trailer != VET_SNAPSHOT_TRAILER_ABSENT && dlen != w.pgid * w.psize)
        err_add(&w, 1,
                "page %llu: %llu bytes between the high-water mark and the SHA-256 "
                "trailer",
                (unsigned long long)w.pgid, (unsigned long long)(dlen - w.pgid * w.psize));

    size_t bm = (size_t)((w.npages + 8) / 8);
    w.reach = calloc(bm, 1);
    w.freed = calloc(bm, 1);
    if (!w.reach || !w.freed) {
        rc = vet_error_set(VET_ENOMEM, "%s: out of memory for %llu pages", s->name,
                           (unsigned long long)w.npages);
        goto finish;
    }
    for (uint64_t i = 0; i < 2 && i < w.npages; i++)
        setbit(w.reach, i);
    load_freelist(&w, m->freelist);
    walk_tree(&w, m->root, 0, 0, 0);
    if (w.oom) {
        rc = vet_error_set(VET_ENOMEM, "%s: out of memory", s->name);
        goto finish;
    }

    uint64_t nfree = 0;
    for (uint64_t i = 0; i < w.npages && w.record; i++) {
        int r = bit(w.reach, i);
        if (w.freed_known) {
            if (bit(w.freed, i))
                nfree++;
            else if (!r)
                err_add(&w, 0, "page %llu: unreachable unfreed", (unsigned long long)i);
        } else if (!r && i >= 2) {
            nfree++;
        }
    }
    if (w.record) {
        in->free_pages = nfree;
        in->hash = snap_spans_crc(&w.spans);
        in->revision = w.revision;
        in->total_key = w.total_key;
    }

finish:
    if (w.record) {
        s->walked = 1;
        in->errors = &s->errors;
        in->nerrors = s->nerrors;
        in->nstrict = s->nstrict;
        in->status_ok = in->meta_used >= 0 && s->nerrors == s->nstrict;
    }
    free(w.spans.v);
    free(w.reach);
    free(w.freed);
    if (!rc && w.overlap && fn)
        /* not a stop the reader of objects asked for: it must not take it for the end (status
         * and verify have the error in their list) */
        rc = vet_error_set(VET_EINPUT, "%s: bbolt elements overlap (a crafted or damaged file)",
                           vet_snapshot_name(s));
    return rc ? rc : (w.stop ? 1 : 0);
}
