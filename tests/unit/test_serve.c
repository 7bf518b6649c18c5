/* serve: label escaping per the exposition format, one series per certificate row, and a source
 * that is down keeps its last good series (findings and certificates) while source_up says 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kubevet/serve.h"

static void test_escape(void **state)
{
    vet_buf b = VET_BUF_INIT;
    (void)state;
    assert_int_equal(vet_serve_escape(&b, "a\\b\"c\nd\te"), 0);
    assert_string_equal(b.ptr, "a\\\\b\\\"c\\nd\te");
    vet_buf_free(&b);
}

static json_t *cert_row(const char *path, const char *subject, const char *not_after)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "path", path, "subject", subject, "issuer",
                     "CN=kubernetes", "source", "file", "not_after", not_after);
}

static void test_keep_last(void **state)
{
    vet_serve_blocks b;
    vet_serve_run run;
    vet_report r1, r2;
    json_t *rows = json_array();
    char *text = NULL;
    size_t len = 0;
    (void)state;
    memset(&b, 0, sizeof b);
    memset(&run, 0, sizeof run);
    assert_int_equal(vet_report_init(&r1, "serve", 0), 0);
    assert_non_null(vet_report_add(&r1, "KV106", "node-identity-mismatch", VET_SEV_CRITICAL,
                                   "etc/kubernetes/kubelet.conf"));
    json_array_append_new(rows, cert_row("a \"q\".crt", "CN=a", "2030-01-01T00:00:00Z"));
    /* the same names twice in one file (a bundle): one series */
    json_array_append_new(rows, cert_row("b.crt", "CN=b", "2030-01-02T00:00:00Z"));
    json_array_append_new(rows, cert_row("b.crt", "CN=b", "2031-01-02T00:00:00Z"));
    vet_report_set(&r1, "certificates", rows);
    run.up[VET_SERVE_NODE] = 1;
    run.report = &r1;
    run.finished = 100;
    assert_int_equal(vet_serve_render(&b, &run), 0);
    assert_int_equal(vet_serve_expose(&text, &len, &b, &run), 0);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text,
                           "kubevet_finding{id=\"KV106\",name=\"node-identity-mismatch\","
                           "severity=\"critical\",subject=\"etc/kubernetes/kubelet.conf\"} 1\n"));
    assert_non_null(strstr(text,
                           "{path=\"a \\\"q\\\".crt\",subject=\"CN=a\",issuer=\"CN=kubernetes\","
                           "source=\"file\"} 1893456000\n"));
    assert_non_null(strstr(
        text,
        "path=\"b.crt\",subject=\"CN=b\",issuer=\"CN=kubernetes\",source=\"file\"} 1893542400\n"));
    assert_null(strstr(text, "1925078400"));
    assert_non_null(strstr(text, "kubevet_source_up{source=\"node\"} 1\n"));
    free(text);

    /* the node is down: an empty report must not erase its findings or certificates */
    assert_int_equal(vet_report_init(&r2, "serve", 0), 0);
    memset(&run, 0, sizeof run);
    run.report = &r2;
    run.finished = 200;
    assert_int_equal(vet_serve_render(&b, &run), 0);
    assert_int_equal(vet_serve_expose(&text, &len, &b, &run), 0);
    assert_non_null(strstr(text, "kubevet_finding{id=\"KV106\""));
    assert_non_null(strstr(text, "1893456000\n"));
    assert_non_null(strstr(text, "kubevet_source_up{source=\"node\"} 0\n"));
    assert_non_null(strstr(text, "kubevet_last_run_timestamp_seconds 200\n"));
    free(text);

    /* up again with no findings: they go */
    run.up[VET_SERVE_NODE] = 1;
    assert_int_equal(vet_serve_render(&b, &run), 0);
    assert_int_equal(vet_serve_expose(&text, &len, &b, &run), 0);
    assert_null(strstr(text, "kubevet_finding{"));
    /* an empty block is empty: nothing between the family's TYPE and the next HELP */
    assert_non_null(strstr(text, "# TYPE kubevet_finding gauge\n# HELP "));
    assert_null(strstr(text, "1893456000"));
    free(text);
    vet_report_free(&r1);
    vet_report_free(&r2);
    vet_serve_blocks_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_keep_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
