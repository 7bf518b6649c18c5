/* Unit tests for the snapshot module: CRC-32C, the bbolt walk against files written by a real
 * etcd 3.4.23 (fuzz/corpus/snapshot/etcd-*.db, figures from `etcdctl snapshot status -w json`),
 * the peers' fixtures, hostile mutations, and the Kubernetes object decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "fs.h"
#include "kubevet/snapshot.h"
#include "snapshot/snap_int.h"

#define CORPUS "fuzz/corpus/snapshot/"
#define PEER "../shared/peer-fixtures/"
#define PS 4096

/* The peers' fixtures live beside the repository (../shared); a fresh clone has none. */
#define NEED_PEERS()                                                                               \
    do {                                                                                           \
        if (!vet_fs_is_dir(PEER)) {                                                                \
            print_message("skip: %s absent (a clone without ../shared)\n", PEER);                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static unsigned char *load(const char *path, size_t *len)
{
    vet_buf b = VET_BUF_INIT;
    assert_int_equal(vet_fs_read(&b, path, 1u << 26), 0);
    *len = b.size;
    return (unsigned char *)vet_buf_detach(&b);
}

static int has_error(const vet_snapshot_info *in, const char *needle)
{
    for (size_t i = 0; i < in->errors->n; i++)
        if (strstr(in->errors->v[i], needle))
            return 1;
    return 0;
}

static void test_crc32c(void **state)
{
    (void)state;
    unsigned char *buf = malloc(100000);
    assert_non_null(buf);
    assert_int_equal(vet_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(vet_crc32c(0, "", 0), 0);
    for (size_t i = 0; i < 100000; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 11);
    /* the three-stream path (>= 12 KiB), odd alignments and split updates agree with tables */
    static const size_t lens[] = {1, 7, 8, 9, 63, 4096, 12287, 12288, 12289, 40000, 99990};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
        for (size_t off = 0; off < 4; off++) {
            uint32_t hw, sw, split;
            vet_crc32c_force_sw(0);
            hw = vet_crc32c(0, buf + off, lens[k]);
            split = vet_crc32c(vet_crc32c(0, buf + off, lens[k] / 3), buf + off + lens[k] / 3,
                               lens[k] - lens[k] / 3);
            vet_crc32c_force_sw(1);
            sw = vet_crc32c(0, buf + off, lens[k]);
            assert_int_equal(hw, sw);
            assert_int_equal(split, sw);
        }
    vet_crc32c_force_sw(0);
    free(buf);
}

/* vet_crc32c_combine against a straight computation: every split point of short inputs,
 * lengths around powers of two, an empty second part; snap_spans_crc (two threads past 16 MiB,
 * the split falling inside a span) against one vet_crc32c over the same bytes. */
static void test_crc32c_combine(void **state)
{
    (void)state;
    size_t big = (40u << 20) + 12345;
    unsigned char *buf = malloc(big);
    assert_non_null(buf);
    for (size_t i = 0; i < big; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    for (size_t n = 0; n <= 70; n++)
        for (size_t k = 0; k <= n; k++)
            assert_int_equal(vet_crc32c_combine(vet_crc32c(0, buf, k), vet_crc32c(0, buf + k, n - k),
                                                n - k),
                             vet_crc32c(0, buf, n));
    static const size_t lens[] = {255, 256, 257, 4095, 4096, 65537, 1u << 20, (1u << 24) + 3};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint32_t a = vet_crc32c(0, buf, 1000), b = vet_crc32c(0, buf + 1000, lens[i]);
        assert_int_equal(vet_crc32c_combine(a, b, lens[i]), vet_crc32c(0, buf, 1000 + lens[i]));
    }
    assert_int_equal(vet_crc32c_combine(0x12345678u, 0, 0), 0x12345678u);

    /* spans: out of order pieces of buf, adjacent ones merged */
    snap_spans sp = {0};
    vet_buf want = VET_BUF_INIT;
    static const size_t cuts[][2] = {{5 << 20, 7 << 20}, {0, 3 << 20}, {3 << 20, 9 << 20},
                                     {30 << 20, 40 << 20}, {100, 101}, {20 << 20, 29 << 20}};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(snap_spans_add(&sp, buf + cuts[i][0], cuts[i][1] - cuts[i][0]), 0);
        assert_int_equal(vet_buf_put(&want, buf + cuts[i][0], cuts[i][1] - cuts[i][0]), 0);
    }
    assert_int_equal(sp.n, 5); /* {0,3M} and {3M,9M} merged */
    assert_int_equal(sp.bytes, want.size);
    assert_int_equal(snap_spans_crc(&sp), vet_crc32c(0, want.ptr, want.size));
    sp.n = 2; /* under the two-thread threshold */
    sp.bytes = (2u << 20) + (9u << 20);
    assert_int_equal(snap_spans_crc(&sp), vet_crc32c(0, want.ptr, sp.bytes));
    free(sp.v);
    vet_buf_free(&want);
    free(buf);
}

/* Figures printed by `etcdctl snapshot status -w json` (3.4.23) for the same files. */
static void test_etcd_files(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        uint32_t hash;
        int64_t rev, keys, size;
    } cases[] = {
        {CORPUS "etcd-empty.db", 2164779977u, 0, 3, 20480},
        {CORPUS "etcd-small.db", 3441607238u, 23, 26, 20480},
        {CORPUS "etcd-mixed.db", 959435789u, 326, 328, 86016},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vet_snapshot *s = NULL;
        vet_snapshot_info in;
        int ok = 0;
        assert_int_equal(vet_snapshot_open(&s, cases[i].file), 0);
        assert_int_equal(vet_snapshot_status(s, &in), 0);
        assert_true(in.status_ok);
        assert_int_equal(in.hash, cases[i].hash);
        assert_int_equal(in.revision, cases[i].rev);
        assert_int_equal(in.total_key, cases[i].keys);
        assert_int_equal(in.total_size, cases[i].size);
        assert_int_equal(in.trailer, VET_SNAPSHOT_TRAILER_UNCHECKED);
        assert_int_equal(in.freelist, UINT64_MAX); /* etcd never syncs the freelist */
        assert_int_equal(vet_snapshot_verify(s, &in, &ok), 0);
        assert_true(ok);
        assert_int_equal(in.trailer, VET_SNAPSHOT_TRAILER_OK);
        assert_string_equal(in.sha256_stored, in.sha256_computed);
        vet_snapshot_close(s);
    }
}

/* Same bytes from memory; a raw db (trailer cut off) verifies with the trailer absent. */
static void test_mem_and_raw(void **state)
{
    (void)state;
    size_t len;
    unsigned char *d = load(CORPUS "etcd-mixed.db", &len);
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    int ok = 0;
    assert_int_equal(vet_snapshot_open_mem(&s, d, len - 32, "raw"), 0);
    assert_int_equal(vet_snapshot_verify(s, &in, &ok), 0);
    assert_true(ok);
    assert_int_equal(in.trailer, VET_SNAPSHOT_TRAILER_ABSENT);
    assert_int_equal(in.hash, 959435789u);
    assert_string_equal(vet_snapshot_name(s), "raw");
    vet_snapshot_close(s);

    /* wrong trailer: structure fine, verify fails, status (like etcdctl) still answers */
    d[len - 1] ^= 1;
    assert_int_equal(vet_snapshot_open_mem(&s, d, len, NULL), 0);
    assert_int_equal(vet_snapshot_verify(s, &in, &ok), 0);
    assert_false(ok);
    assert_true(in.status_ok);
    assert_int_equal(in.trailer, VET_SNAPSHOT_TRAILER_MISMATCH);
    vet_snapshot_close(s);
    free(d);
}

/* etcd's clientv3/snapshot/testdata/corrupted_backup.db: etcdctl prints exactly these two. */
static void test_peer_corrupted_backup(void **state)
{
    (void)state;
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    int ok = 1;
    NEED_PEERS();
    assert_int_equal(vet_snapshot_open(&s, PEER "etcd/corrupted_backup.db"), 0);
    assert_int_equal(vet_snapshot_verify(s, &in, &ok), 0);
    assert_false(ok);
    assert_false(in.status_ok);
    assert_int_equal(in.nerrors, 2);
    assert_string_equal(in.errors->v[0], "page 3: already freed");
    assert_string_equal(in.errors->v[1], "page 4: unreachable unfreed");
    assert_int_equal(in.page_size, 4096);
    assert_int_equal(in.pgid, 5);
    assert_int_equal(in.freelist, 3);
    assert_int_equal(in.trailer, VET_SNAPSHOT_TRAILER_ABSENT);
    vet_snapshot_close(s);
}

typedef struct {
    char key[64][96], av[64][32], kind[64][32], ns[64][32], name[64][64], res[64][48];
    int enc[64];
    size_t n;
} seen;

static int collect(const vet_snapshot_object *o, void *ud)
{
    seen *sn = ud;
    if (sn->n >= 64)
        return 0;
    snprintf(sn->key[sn->n], 96, "%s", o->key);
    snprintf(sn->av[sn->n], 32, "%s", o->api_version);
    snprintf(sn->kind[sn->n], 32, "%s", o->kind);
    snprintf(sn->ns[sn->n], 32, "%s", o->ns);
    snprintf(sn->name[sn->n], 64, "%s", o->name);
    snprintf(sn->res[sn->n], 48, "%s", o->resource);
    sn->enc[sn->n] = (int)o->encoding;
    sn->n++;
    return 0;
}

/* auger's boltdb/db: both metas name leaf page 2 as the freelist (etcdctl panics). We report a
 * structural error and still read the objects: the freelist plays no part in reading. */
static void test_peer_auger(void **state)
{
    (void)state;
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    seen *sn;
    size_t other = 0;
    NEED_PEERS();
    sn = calloc(1, sizeof *sn);
    assert_non_null(sn);
    assert_int_equal(vet_snapshot_open(&s, PEER "auger/boltdb/db"), 0);
    assert_int_equal(vet_snapshot_status(s, &in), 0);
    assert_false(in.status_ok);
    assert_true(has_error(&in, "page 2: invalid freelist page: page type is leaf"));
    assert_int_equal(in.revision, 232274);
    assert_int_equal(vet_snapshot_objects(s, collect, sn, &other), 0);
    assert_int_equal(sn->n, 3);
    assert_int_equal(other, 1); /* compact_rev_key */
    assert_string_equal(sn->key[0], "/registry/jobs/default/pi");
    assert_string_equal(sn->av[0], "batch/v1");
    assert_string_equal(sn->kind[0], "Job");
    assert_string_equal(sn->ns[0], "default");
    assert_string_equal(sn->name[0], "pi");
    assert_string_equal(sn->res[0], "jobs");
    assert_string_equal(sn->key[1], "/registry/namespaces/default");
    assert_string_equal(sn->kind[1], "Namespace");
    assert_string_equal(sn->ns[1], "");
    assert_string_equal(sn->key[2], "/registry/pods/default/pi-dqtsw");
    assert_string_equal(sn->av[2], "v1");
    assert_string_equal(sn->kind[2], "Pod");
    assert_string_equal(sn->name[2], "pi-dqtsw");
    assert_int_equal(sn->enc[2], VET_SNAPSHOT_ENC_PROTOBUF);
    vet_snapshot_close(s);
    free(sn);
}

static vet_snapshot_info walk_mutated(const unsigned char *orig, size_t len, size_t at,
                                      const void *bytes, size_t n, int *ok)
{
    unsigned char *d = malloc(len);
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    assert_non_null(d);
    memcpy(d, orig, len);
    if (n)
        memcpy(d + at, bytes, n);
    assert_int_equal(vet_snapshot_open_mem(&s, d, len, "mut"), 0);
    assert_int_equal(vet_snapshot_verify(s, &in, ok), 0);
    /* the error list dies with the handle: keep what the caller checks */
    static vet_strv keep;
    vet_strv_free(&keep);
    for (size_t i = 0; i < in.errors->n; i++)
        vet_strv_push(&keep, in.errors->v[i]);
    in.errors = &keep;
    vet_snapshot_close(s);
    free(d);
    return in;
}

/* Hand-made damage to etcd-small.db (pages: 0,1 meta; 2 free; 3 `key` leaf; 4 root leaf). */
static void test_mutations(void **state)
{
    (void)state;
    size_t len;
    unsigned char *d = load(CORPUS "etcd-small.db", &len);
    vet_snapshot_info in;
    int ok;
    uint64_t v64;
    uint32_t v32;
    uint16_t v16;

    /* one meta checksum broken: bbolt would use the other, verify fails (strict) */
    v32 = 0x12345678;
    in = walk_mutated(d, len, 16 + 8 * 7, &v32, 4, &ok);
    assert_false(ok);
    assert_true(in.status_ok);
    assert_int_equal(in.nstrict, 1);
    assert_true(has_error(&in, "page 0: invalid meta page: checksum error"));

    /* both metas: nothing can be read */
    {
        unsigned char *e = malloc(len);
        memcpy(e, d, len);
        e[16] ^= 1;
        e[PS + 16] ^= 1;
        in = walk_mutated(e, len, 0, NULL, 0, &ok);
        assert_false(ok);
        assert_false(in.status_ok);
        assert_int_equal(in.meta_used, -1);
        assert_true(has_error(&in, "invalid magic"));
        free(e);
    }

    /* root leaf says 65535 elements */
    v16 = 0xFFFF;
    in = walk_mutated(d, len, 4 * PS + 10, &v16, 2, &ok);
    assert_false(in.status_ok);
    assert_true(has_error(&in, "page 4: leaf: 65535 elements do not fit"));

    /* an element's pos points far outside the page */
    v32 = 0x7FFFFFF0;
    in = walk_mutated(d, len, 3 * PS + 16 + 4, &v32, 4, &ok);
    assert_false(in.status_ok);
    assert_true(has_error(&in, "page 3: leaf: element 0"));

    /* page type: the key bucket's leaf flagged as a meta page */
    v16 = 0x04;
    in = walk_mutated(d, len, 3 * PS + 8, &v16, 2, &ok);
    assert_true(has_error(&in, "page 3: invalid type: meta"));
    v16 = 0x03;
    in = walk_mutated(d, len, 3 * PS + 8, &v16, 2, &ok);
    assert_true(has_error(&in, "page 3: invalid type: unknown<03>"));

    /* header id wrong */
    v64 = 9;
    in = walk_mutated(d, len, 3 * PS, &v64, 8, &ok);
    assert_true(has_error(&in, "page 3: header names page 9"));

    /* overflow running past the high-water mark */
    v32 = 7;
    in = walk_mutated(d, len, 3 * PS + 12, &v32, 4, &ok);
    assert_true(has_error(&in, "page 3: out of bounds"));

    /* every byte of both metas' root pgid rewritten to page 1 (a meta page): multiple refs */
    {
        unsigned char *e = malloc(len);
        memcpy(e, d, len);
        for (int m = 0; m < 2; m++) {
            unsigned char *q = e + m * PS + 16;
            uint64_t root = 1, sum = 0xcbf29ce484222325ull;
            memcpy(q + 16, &root, 8);
            for (int i = 0; i < 56; i++) {
                sum ^= q[i];
                sum *= 0x100000001b3ull;
            }
            memcpy(q + 56, &sum, 8);
        }
        in = walk_mutated(e, len, 0, NULL, 0, &ok);
        assert_true(has_error(&in, "page 1: multiple references"));
        assert_false(in.status_ok);
        free(e);
    }

    /* truncation anywhere never crashes, and is an error below the high-water mark */
    for (size_t cut = 0; cut < len; cut += 509) {
        vet_snapshot *s = NULL;
        int k = 1;
        assert_int_equal(vet_snapshot_open_mem(&s, d, cut, "cut"), 0);
        assert_int_equal(vet_snapshot_verify(s, &in, &k), 0);
        assert_false(k);
        vet_snapshot_close(s);
    }
    free(d);
}

/* A branch page whose child is itself, in a synthetic file: reported, and the walk ends. */
static void test_cycle(void **state)
{
    (void)state;
    size_t len;
    unsigned char *d = load(CORPUS "etcd-small.db", &len);
    vet_snapshot_info in;
    int ok;
    /* page 3 becomes a branch with one element pointing at page 3 */
    unsigned char br[32] = {0};
    uint64_t id = 3, child = 3;
    uint16_t flags = 0x01, count = 1;
    uint32_t pos = 16, ks = 1;
    memcpy(br, &id, 8);
    memcpy(br + 8, &flags, 2);
    memcpy(br + 10, &count, 2);
    memcpy(br + 16, &pos, 4);
    memcpy(br + 20, &ks, 4);
    memcpy(br + 24, &child, 8);
    in = walk_mutated(d, len, 3 * PS, br, sizeof br, &ok);
    assert_false(ok);
    assert_true(has_error(&in, "page 3: multiple references"));
    free(d);
}

/* Inline buckets whose elements all share one value, nested 14 deep with 8 elements a level:
 * 8^14 visits if the walk believed them. It must stop at once with an error instead. */
static void test_overlapping_inline_buckets(void **state)
{
    (void)state;
    size_t len;
    unsigned char *d = load(CORPUS "etcd-small.db", &len);
    unsigned char pg[PS];
    vet_snapshot_info in;
    int ok = 1;
    enum { C = 8, LEVELS = 14, LVL = 1 + 16 + 16 + 16 * C };
    size_t top = 16 + 16 * C, end = top + (size_t)LEVELS * LVL;
    uint16_t leaf = 0x02, count = C;
    memset(pg, 0, sizeof pg);
    assert_true(end <= sizeof pg);
    memcpy(pg, &(uint64_t){4}, 8);
    memcpy(pg + 8, &leaf, 2);
    memcpy(pg + 10, &count, 2);
    /* elements of the page (at 16) and of each level's inline page point at the next level */
    for (int l = -1; l < LEVELS; l++) {
        size_t elems = l < 0 ? 16 : top + (size_t)l * LVL + 1 + 16 + 16;
        size_t next = top + (size_t)(l + 1) * LVL; /* the next level's key byte */
        if (l >= 0) {
            uint16_t n = l == LEVELS - 1 ? 0 : C;
            memcpy(pg + elems - 16 + 8, &leaf, 2);
            memcpy(pg + elems - 16 + 10, &n, 2);
            if (!n)
                break;
        }
        for (int i = 0; i < C; i++) {
            size_t e = elems + (size_t)i * 16;
            uint32_t flags = 1, pos = (uint32_t)(next - e), ks = 1, vs = (uint32_t)(end - next - 1);
            memcpy(pg + e, &flags, 4);
            memcpy(pg + e + 4, &pos, 4);
            memcpy(pg + e + 8, &ks, 4);
            memcpy(pg + e + 12, &vs, 4);
        }
        pg[next] = 'k';
    }
    in = walk_mutated(d, len, 4 * PS, pg, sizeof pg, &ok);
    assert_false(ok);
    assert_true(has_error(&in, "elements overlap"));
    free(d);
}

/* The source for the checks: auger's objects summarised, no judgement (no removed_in here). */
static void test_facts_auger(void **state)
{
    (void)state;
    vet_snapshot *s = NULL;
    vet_snapshot_facts *f = NULL;
    NEED_PEERS();
    assert_int_equal(vet_snapshot_open(&s, PEER "auger/boltdb/db"), 0);
    assert_int_equal(vet_snapshot_facts_load(&f, s), 0);
    vet_snapshot_close(s); /* the facts own their strings */
    assert_int_equal(f->nobjects, 3);
    assert_int_equal(f->nother, 1);
    assert_string_equal(f->objects[0].key, "/registry/jobs/default/pi");
    assert_string_equal(f->objects[2].name, "pi-dqtsw");
    assert_int_equal(f->ngroups, 3);
    assert_string_equal(f->groups[0].resource, "jobs");
    assert_string_equal(f->groups[0].ns, "default");
    assert_int_equal(f->groups[0].encoding, VET_SNAPSHOT_ENC_PROTOBUF);
    assert_int_equal(f->groups[0].count, 1);
    assert_int_equal(f->nstored, 3);
    assert_string_equal(f->stored[0].resource, "jobs");
    assert_string_equal(f->stored[0].api_version, "batch/v1");
    assert_string_equal(f->stored[0].kind, "Job");
    assert_int_equal(f->stored[0].count, 1);
    assert_int_equal(f->stored[0].encrypted, 0);
    assert_int_equal(f->stored[0].nexamples, 1);
    assert_string_equal(f->stored[0].examples[0], "default/pi");
    assert_string_equal(f->stored[1].resource, "namespaces");
    assert_string_equal(f->stored[1].examples[0], "default"); /* cluster-scoped: no "ns/" */
    assert_string_equal(f->stored[2].kind, "Pod");
    vet_snapshot_facts_free(f);
    vet_snapshot_facts_free(NULL);
}

static void test_open_errors(void **state)
{
    (void)state;
    vet_snapshot *s = (vet_snapshot *)1;
    vet_snapshot_info in;
    int ok = 1;
    assert_int_equal(vet_snapshot_open(&s, "/nonexistent/snap.db"), VET_ENOTFOUND);
    assert_null(s);
    vet_snapshot_close(NULL);
    assert_int_equal(vet_snapshot_open_mem(&s, NULL, 0, "empty"), 0);
    assert_int_equal(vet_snapshot_verify(s, &in, &ok), 0);
    assert_false(ok);
    assert_true(has_error(&in, "page 0: invalid meta page"));
    vet_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),      cmocka_unit_test(test_crc32c_combine),      cmocka_unit_test(test_etcd_files),
        cmocka_unit_test(test_mem_and_raw), cmocka_unit_test(test_peer_corrupted_backup),
        cmocka_unit_test(test_peer_auger),  cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_cycle), cmocka_unit_test(test_overlapping_inline_buckets),       cmocka_unit_test(test_facts_auger),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
