/* report: causes first, "cause" in JSON and text, fixes wrapped without breaking command lines,
 * control characters escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cause_order),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
