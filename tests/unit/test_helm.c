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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unpack),
        cmocka_unit_test(test_v2_decode),
        cmocka_unit_test(test_v2_rewrite),
        cmocka_unit_test(test_v3_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
