/* Unit tests for the helm module: unpacking (base64, gzip, legacy, caps), the Helm 2 protobuf and
 * Helm 3 JSON decoders, and the Helm 2 rewrite keeping unknown fields byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "helm/helm_gather.h"
#include "helm/helm_int.h"
#include "kubevet/helm.h"
#include "kubevet/kubeconfig.h"
#include "kubevet/pki.h"

static void put_varint(vet_buf *b, uint64_t v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        vet_buf_put(b, &c, 1);
    } while (v);
}

static void put_str(vet_buf *b, uint32_t f, const void *s, size_t n)
{
    put_varint(b, (uint64_t)f << 3 | 2);
    put_varint(b, n);
    vet_buf_put(b, s, n);
}

static void put_int(vet_buf *b, uint32_t f, uint64_t v)
{
    put_varint(b, (uint64_t)f << 3);
    put_varint(b, v);
}

/* A Release: name, info{status{code}, description}, chart (opaque bytes), manifest, one hook,
 * version, namespace, and an unknown field 99. */
static void v2_release(vet_buf *out, int code)
{
    vet_buf st = VET_BUF_INIT, info = VET_BUF_INIT, hook = VET_BUF_INIT;
    put_int(&st, 1, (uint64_t)code);
    put_str(&st, 4, "notes", 5);
    put_str(&info, 1, st.ptr, st.size);
    put_str(&info, 5, "Upgrade complete", 16);
    put_str(&hook, 1, "pre", 3);
    put_str(&hook, 3, "c/templates/job.yaml", 20);
    put_str(&hook, 4, "apiVersion: batch/v1beta1\n", 26);
    put_int(&hook, 5, 5);
    put_str(out, 1, "web", 3);
    put_str(out, 2, info.ptr, info.size);
    put_str(out, 3, "\x0a\x03\x0a\x01x", 5); /* chart: kept as is */
    put_str(out, 5, "apiVersion: extensions/v1beta1\n", 31);
    put_str(out, 6, hook.ptr, hook.size);
    put_int(out, 7, 4);
    put_str(out, 8, "apps", 4);
    put_str(out, 99, "future", 6);
    vet_buf_free(&st);
    vet_buf_free(&info);
    vet_buf_free(&hook);
}

static char *pack(const void *data, size_t n, int gz)
{
    char *out = NULL;
    if (gz)
        assert_int_equal(helm_pack(&out, data, n), 0);
    else
        assert_int_equal(vet_pki_base64(&out, data, n), 0);
    return out;
}

static void test_unpack(void **state)
{
    unsigned char *body = NULL;
    size_t len = 0;
    char *t;
    (void)state;
    t = pack("{\"a\":1}", 7, 1);
    assert_int_equal(vet_helm_unpack(&body, &len, t, strlen(t), 0), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(body, "{\"a\":1}", 7);
    free(body);
    free(t);
    /* legacy: no gzip magic */
    t = pack("{\"a\":1}", 7, 0);
    assert_int_equal(vet_helm_unpack(&body, &len, t, strlen(t), 0), 0);
    assert_memory_equal(body, "{\"a\":1}", 7);
    free(body);
    free(t);
    assert_int_equal(vet_helm_unpack(&body, &len, "abc", 3, 0), VET_EINPUT);
    /* over the cap */
    {
        char *big = calloc(1, 1 << 20);
        t = pack(big, 1 << 20, 1);
        assert_int_equal(vet_helm_unpack(&body, &len, t, strlen(t), 1000), VET_ELIMIT);
        assert_null(body);
        free(t);
        free(big);
    }
    /* truncated gzip */
    t = pack("hello hello hello", 17, 1);
    {
        vet_blob b = {NULL, 0};
        char *cut;
        assert_int_equal(vet_base64_decode(&b, t, strlen(t)), 0);
        assert_int_equal(vet_pki_base64(&cut, b.data, b.len - 6), 0);
        assert_int_equal(vet_helm_unpack(&body, &len, cut, strlen(cut), 0), VET_EINPUT);
        assert_non_null(strstr(vet_error_last(), "gzip"));
        free(cut);
        free(b.data);
    }
    free(t);
}

static void test_v2_decode(void **state)
{
    vet_buf b = VET_BUF_INIT;
    vet_helm_release *r = NULL;
    (void)state;
    v2_release(&b, 7);
    assert_int_equal(vet_helm_decode_v2(&r, (unsigned char *)b.ptr, b.size), 0);
    assert_int_equal(r->helm, 2);
    assert_string_equal(r->name, "web");
    assert_string_equal(r->namespace, "apps");
    assert_string_equal(r->status, "pending-upgrade");
    assert_string_equal(r->description, "Upgrade complete");
    assert_int_equal(r->revision, 4);
    assert_string_equal(r->manifest, "apiVersion: extensions/v1beta1\n");
    assert_int_equal(r->nhooks, 1);
    assert_string_equal(r->hooks[0].path, "c/templates/job.yaml");
    assert_string_equal(r->hooks[0].manifest, "apiVersion: batch/v1beta1\n");
    vet_helm_release_free(r);
    /* every truncation is an error naming a byte offset, never a crash */
    for (size_t n = 1; n < b.size; n++) {
        int rc = vet_helm_decode_v2(&r, (unsigned char *)b.ptr, n);
        if (rc == 0) {
            vet_helm_release_free(r);
            continue;
        }
        assert_int_equal(rc, VET_EINPUT);
        assert_non_null(strstr(vet_error_last(), "byte"));
    }
    vet_buf_free(&b);
}

static void test_v2_rewrite(void **state)
{
    vet_buf b = VET_BUF_INIT, out = VET_BUF_INIT;
    vet_helm_release *r = NULL;
    const char *hooks[] = {"apiVersion: batch/v1\n"};
    (void)state;
    v2_release(&b, 1);
    assert_int_equal(helm_v2_rewrite(&out, (unsigned char *)b.ptr, b.size, "apiVersion: apps/v1\n",
                                     hooks, 1, 5, 1, VET_HELM_MAP_DESCRIPTION),
                     0);
    assert_int_equal(vet_helm_decode_v2(&r, (unsigned char *)out.ptr, out.size), 0);
    assert_int_equal(r->revision, 5);
    assert_string_equal(r->status, "deployed");
    assert_string_equal(r->description, VET_HELM_MAP_DESCRIPTION);
    assert_string_equal(r->manifest, "apiVersion: apps/v1\n");
    assert_string_equal(r->hooks[0].manifest, "apiVersion: batch/v1\n");
    assert_string_equal(r->hooks[0].path, "c/templates/job.yaml");
    assert_string_equal(r->namespace, "apps");
    vet_helm_release_free(r);
    /* chart, the unknown field 99, the status notes and the hook events: byte for byte */
    assert_non_null(memmem(out.ptr, out.size, "\x1a\x05\x0a\x03\x0a\x01x", 7));
    assert_non_null(memmem(out.ptr, out.size,
                           "\x9a\x06\x06"
                           "future",
                           9));
    assert_non_null(memmem(out.ptr, out.size, "\x22\x05notes", 7));
    assert_non_null(memmem(out.ptr, out.size, "\x28\x05", 2));
    /* superseded: only the status code changes */
    vet_buf_clear(&out);
    assert_int_equal(
        helm_v2_rewrite(&out, (unsigned char *)b.ptr, b.size, NULL, NULL, 0, 0, 3, NULL), 0);
    assert_int_equal(out.size, b.size);
    assert_int_equal(vet_helm_decode_v2(&r, (unsigned char *)out.ptr, out.size), 0);
    assert_string_equal(r->status, "superseded");
    assert_string_equal(r->description, "Upgrade complete");
    vet_helm_release_free(r);
    vet_buf_free(&b);
    vet_buf_free(&out);
}

static void test_v3_decode(void **state)
{
    const char *j = "{\"name\":\"web\",\"info\":{\"status\":\"failed\",\"description\":\"d\"},"
                    "\"manifest\":\"a: b\\n\",\"hooks\":[{\"name\":\"h\",\"path\":\"p\","
                    "\"manifest\":\"x: y\"}],\"version\":3,\"namespace\":\"n\"}";
    vet_helm_release *r = NULL;
    (void)state;
    assert_int_equal(vet_helm_decode_v3(&r, (const unsigned char *)j, strlen(j)), 0);
    assert_string_equal(r->status, "failed");
    assert_int_equal(r->revision, 3);
    assert_string_equal(r->manifest, "a: b\n");
    assert_string_equal(r->hooks[0].manifest, "x: y");
    vet_helm_release_free(r);
    assert_int_equal(vet_helm_decode_v3(&r, (const unsigned char *)"{\"hooks\":[1]}", 13),
                     VET_EINPUT);
    assert_int_equal(vet_helm_decode_v3(&r, (const unsigned char *)"{\"name\":", 8), VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "byte"));
}

/* ---- the accumulator: one per LIST, merged (a LIST that starts over drops its own) ---- */

typedef struct {
    int helm;
    const char *storage_ns, *record, *name;
    int revision;
    const char *status;
    const char *body_ns;  /* the namespace the decoded record names */
    const char *manifest; /* NULL: the record does not decode */
} acc_rec;

/* In the order a cluster's LISTs give them (revisions ascending, as the record names sort). */
static const acc_rec acc_recs[] = {
    {3, "apps", "sh.helm.release.v1.web.v1", "web", 1, "deployed", "apps", "a: 1\n"},
    {3, "apps", "sh.helm.release.v1.web.v2", "web", 2, "deployed", "apps", "a: 22\n"},
    {3, "apps", "sh.helm.release.v1.web.v3", "web", 3, "failed", "apps", "a: 333\n"},
    {3, "apps", "sh.helm.release.v1.db.v1", "db", 1, "deployed", "apps", NULL},
    {3, "apps", "sh.helm.release.v1.db.v2", "db", 2, "superseded", "apps", "b: 1\n"},
    {3, "web", "sh.helm.release.v1.web.v1", "web", 1, "pending-install", "web", "c: 1\n"},
    {2, "kube-system", "tool.v1", "tool", 1, "deployed", "old", "d: 1\n"},
    {2, "kube-system", "tool.v2", "tool", 2, "deployed", "new", "d: 4444\n"},
    {3, "apps", "sh.helm.release.v1.web.v4", "web", 4, "deployed", "apps", "a: 55555\n"},
    {3, "apps", "sh.helm.release.v1.db.v3", "db", 3, "deployed", "apps", "b: 666666\n"},
};
#define NACC (sizeof acc_recs / sizeof acc_recs[0])

static int acc_decode(vet_helm_release **out, void *ud)
{
    const acc_rec *r = ud;
    vet_helm_release *d;
    if (!r->manifest)
        return vet_error_set(VET_EINPUT, "%s: not gzip", r->record);
    assert_non_null(d = calloc(1, sizeof *d));
    d->helm = r->helm;
    d->revision = r->revision;
    assert_non_null(d->name = strdup(r->name));
    assert_non_null(d->namespace = strdup(r->body_ns));
    assert_non_null(d->status = strdup(r->status));
    assert_non_null(d->manifest = strdup(r->manifest));
    d->manifest_len = strlen(r->manifest);
    *out = d;
    return 0;
}

static void acc_feed(helm_acc *a, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const acc_rec *r = &acc_recs[i];
        helm_record rec = {r->helm, VET_HELM_SECRET, r->storage_ns, r->record,
                           r->name, r->revision,     r->status,     NULL};
        assert_int_equal(helm_acc_add(a, &rec, acc_decode, (void *)r), 0);
    }
}

static void test_acc_merge(void **state)
{
    vet_helm_facts *one = NULL;
    helm_acc a;
    (void)state;
    assert_int_equal(helm_acc_init(&a, NULL), 0);
    acc_feed(&a, 0, NACC);
    assert_int_equal(helm_acc_finish(&one, &a), 0);
    assert_int_equal(one->nrels, 4);
    /* each split: records [0, k) in one LIST's accumulator, [k, n) in the next one's */
    for (size_t k = 0; k <= NACC; k++) {
        vet_helm_facts *two = NULL;
        helm_acc b;
        assert_int_equal(helm_acc_init(&a, NULL), 0);
        assert_int_equal(helm_acc_init(&b, NULL), 0);
        acc_feed(&a, 0, k);
        acc_feed(&b, k, NACC);
        assert_int_equal(helm_acc_merge(&a, &b), 0);
        assert_int_equal(helm_acc_finish(&two, &a), 0);
        assert_int_equal(two->nrels, one->nrels);
        assert_int_equal(two->records, one->records);
        assert_int_equal(two->decoded, one->decoded);
        for (size_t i = 0; i < one->nrels; i++) {
            const vet_helm_rel *x = &one->rels[i], *y = &two->rels[i];
            assert_int_equal(y->helm, x->helm);
            assert_string_equal(y->name, x->name);
            assert_string_equal(y->namespace, x->namespace);
            assert_string_equal(y->storage_ns, x->storage_ns);
            assert_int_equal(y->acted_on, x->acted_on);
            assert_int_equal(y->latest, x->latest);
            assert_string_equal(y->latest_status, x->latest_status);
            assert_int_equal(y->ndeployed, x->ndeployed);
            assert_int_equal(y->notes.n, x->notes.n);
            for (size_t j = 0; j < x->notes.n; j++)
                assert_string_equal(y->notes.v[j], x->notes.v[j]);
            assert_int_equal(!y->error, !x->error);
            if (x->error)
                assert_string_equal(y->error, x->error);
            assert_int_equal(!y->scan, !x->scan);
            assert_int_equal(y->manifest_bytes, x->manifest_bytes);
        }
        vet_helm_facts_free(two);
    }
    /* what the whole list says (sorted: v2 first, then by namespace and name) */
    assert_string_equal(one->rels[0].name, "tool");
    assert_string_equal(one->rels[0].namespace, "new"); /* v2: the acted-on record's */
    assert_int_equal(one->rels[0].ndeployed, 2);
    assert_string_equal(one->rels[1].name, "db");
    assert_int_equal(one->rels[1].acted_on, 3);
    assert_null(one->rels[1].error); /* revision 1 did not decode; 3 did */
    assert_int_equal(one->rels[1].manifest_bytes, strlen("b: 666666\n"));
    assert_string_equal(one->rels[2].name, "web");
    assert_int_equal(one->rels[2].acted_on, 4);
    assert_int_equal(one->rels[2].ndeployed, 3);
    assert_int_equal(one->rels[2].manifest_bytes, strlen("a: 55555\n"));
    assert_string_equal(one->rels[3].storage_ns, "web");
    assert_int_equal(one->rels[3].acted_on, 0);
    vet_helm_facts_free(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unpack),     cmocka_unit_test(test_v2_decode),
        cmocka_unit_test(test_v2_rewrite), cmocka_unit_test(test_v3_decode),
        cmocka_unit_test(test_acc_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
