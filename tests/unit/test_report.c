/* report: causes first, "cause" in JSON and text, fixes wrapped without breaking command lines,
 * control characters escaped; the report JSON writer writes what jansson's json_dumpf writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "kubevet/report.h"

static vet_finding *add(vet_report *r, const char *id, vet_severity sev, const char *subject)
{
    vet_finding *f = vet_report_add(r, id, "x", sev, subject);
    assert_non_null(f);
    vet_finding_message(f, "message of %s", subject);
    vet_finding_fix(f, "own fix of %s", subject);
    return f;
}

static void test_cause_order(void **state)
{
    vet_report r;
    json_t *o, *fs;
    (void)state;
    assert_int_equal(vet_report_init(&r, "check", 0), 0);
    add(&r, "KV104", VET_SEV_CRITICAL, "a.crt");
    add(&r, "KV101", VET_SEV_CRITICAL, "z.crt");
    add(&r, "KV104", VET_SEV_CRITICAL, "b.crt");
    add(&r, "KV108", VET_SEV_WARNING, "ca.crt"); /* a warning that explains criticals */
    for (size_t i = 0; i < r.nfindings; i++)
        if (!strcmp(r.findings[i].id, "KV104"))
            assert_int_equal(vet_finding_set_cause(&r.findings[i],
                                                   vet_report_find(&r, "KV108", NULL), "restore %s",
                                                   "ca.crt"),
                             0);
    /* first explanation wins; never its own cause */
    assert_int_equal(vet_finding_set_cause(&r.findings[0], &r.findings[1], NULL), 1);
    assert_int_equal(vet_finding_set_cause(&r.findings[3], &r.findings[3], NULL), 1);
    vet_report_sort(&r);
    assert_string_equal(r.findings[0].id, "KV108");
    assert_string_equal(r.findings[1].subject, "a.crt");
    assert_string_equal(r.findings[2].subject, "b.crt");
    assert_string_equal(r.findings[3].id, "KV101");
    assert_string_equal(r.findings[1].fix, "restore ca.crt");
    o = vet_report_to_json(&r);
    fs = json_object_get(o, "findings");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fs, 1), "cause")),
                        "KV108 ca.crt");
    assert_null(json_object_get(json_array_get(fs, 0), "cause"));
    json_decref(o);
    vet_report_free(&r);
}

static void test_text(void **state)
{
    vet_report r;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    vet_finding *f;
    (void)state;
    assert_non_null(out);
    assert_int_equal(vet_report_init(&r, "check", 0), 0);
    f = add(&r, "KV101", VET_SEV_CRITICAL, "evil\033[2J.crt");
    vet_finding_fix(f, "%s",
                    "word word word word word word word word word word word word word "
                    "word word word word word word word word:\n  a command line that is "
                    "longer than one hundred columns stays on one line when it is "
                    "printed, whatever happens");
    add(&r, "KV104", VET_SEV_CRITICAL, "leaf.crt");
    vet_finding_set_cause(&r.findings[1], &r.findings[0], NULL);
    vet_report_sort(&r);
    vet_report_render_text(&r, out, 0);
    fclose(out);
    assert_non_null(strstr(buf, "evil\\x1b[2J.crt"));
    assert_null(strchr(buf, '\033'));
    assert_non_null(strstr(buf, "caused by KV101 evil\\x1b[2J.crt"));
    assert_non_null(strstr(buf, "  a command line that is longer than one hundred columns stays on "
                                "one line when it is printed, whatever happens\n"));
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t n = strcspn(l, "\n");
        if (!strstr(l, "a command line") || strstr(l, "a command line") > l + n)
            assert_true(n <= 100);
        assert_false(n && l[n - 1] == ' '); /* no trailing blanks */
    }
    free(buf);
    vet_report_free(&r);
}

static char *dump_with(int ours, const json_t *j, size_t *len)
{
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    assert_non_null(m);
    if (ours)
        assert_int_equal(vet_json_dumpf(j, m), 0);
    else
        assert_int_equal(json_dumpf(j, m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII),
                         0);
    fclose(m);
    return buf;
}

/* Byte for byte jansson's format: every ASCII byte, non-ASCII in and above the BMP, empty and
 * nested containers, numbers, and a string longer than the writer's buffer. */
static void test_json_writer(void **state)
{
    char ascii[128], *big = malloc(200001);
    json_t *o = json_object(), *nested = json_array(), *inner = json_object();
    size_t la, lb;
    char *a, *b;
    (void)state;
    for (int i = 1; i < 128; i++)
        ascii[i - 1] = (char)i;
    ascii[127] = '\0';
    memset(big, 'x', 200000);
    big[200000] = '\0';
    big[100000] = '"';
    json_object_set_new(o, "ascii", json_string(ascii));
    json_object_set_new(o, "utf8", json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 /x"));
    json_object_set_new(o, "empty_obj", json_object());
    json_object_set_new(o, "empty_arr", json_array());
    json_object_set_new(o, "int", json_integer(-1234567890123LL));
    json_object_set_new(o, "real", json_real(0.1));
    json_object_set_new(o, "null", json_null());
    json_object_set_new(o, "t", json_true());
    json_object_set_new(o, "f", json_false());
    json_object_set_new(o, "", json_string(""));
    json_object_set_new(inner, "k\n\"ey", json_string(big));
    json_array_append_new(nested, inner);
    json_array_append_new(nested, json_array());
    for (int d = 0; d < 20; d++) { /* deeper than the writer's 32-space indentation chunk */
        json_t *a1 = json_array();
        json_array_append_new(a1, nested);
        nested = a1;
    }
    json_object_set_new(o, "nested", nested);
    json_object_set_new(o, "ascii", json_string("replaced in place")); /* order kept */
    a = dump_with(0, o, &la);
    b = dump_with(1, o, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    free(big);
    json_decref(o);
}

/* vet_report_render_json streams what json_dumpf(vet_report_to_json()) writes: fields that
 * replace fixed members in place, causes, extras that replace top-level members, strings
 * json_string() refuses, no findings at all. */
static void test_render_json_stream(void **state)
{
    for (int variant = 0; variant < 2; variant++) {
        vet_report r;
        vet_finding *f;
        json_t *o;
        size_t la, lb;
        char *a = NULL, *b = NULL;
        FILE *m;
        (void)state;
        assert_int_equal(vet_report_init(&r, "apis scan", 1700000000), 0);
        if (variant) {
            f = add(&r, "KV401", VET_SEV_CRITICAL, "Deployment/x");
            vet_finding_set_str(f, "file", "a.yaml");
            vet_finding_set_int(f, "line", 7);
            vet_finding_set_str(f, "name", "field-name"); /* replaces the fixed "name" */
            vet_finding_set_str(f, "cause", "KV000 y");   /* no cause: a field in its order */
            f = add(&r, "KV108", VET_SEV_WARNING, "ca.crt");
            vet_finding_message(f, "bad \xff byte"); /* json_string refuses it: member left out */
            add(&r, "KV104", VET_SEV_INFO, "b.crt");
            vet_finding_set_cause(&r.findings[2], &r.findings[1], "restore %s", "ca.crt");
            vet_report_error(&r, "e.yaml:3: broken");
            vet_report_error(&r, "bad \xc3 error");
            vet_report_set(&r, "command", json_string("replaced"));
            vet_report_set(&r, "target", json_string("1.30"));
            vet_report_set(&r, "notes", json_array());
            for (int i = 0; i < 300; i++) /* more members than a byte counts */
                add(&r, "KV402", VET_SEV_WARNING, "many");
        }
        o = vet_report_to_json(&r);
        m = open_memstream(&a, &la);
        json_dumpf(o, m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        fputc('\n', m);
        fclose(m);
        m = open_memstream(&b, &lb);
        assert_int_equal(vet_report_render_json(&r, m), 0);
        fclose(m);
        assert_string_equal(a, b);
        free(a);
        free(b);
        json_decref(o);
        vet_report_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cause_order),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_render_json_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
