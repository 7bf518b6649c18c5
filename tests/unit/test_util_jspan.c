/* jspan: JSON read in place. Table-driven: well-formed values end where a JSON parser says, bad
 * ones are refused at the right byte, members are walked in order, strings unescape as Go's
 * encoder escaped them (jansson is the independent judge of the well-formed rows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jspan.h"

static const struct {
    const char *text;
    size_t end; /* 0: malformed */
} skips[] = {
    {"\"abc\"", 5},
    {"\"a\\\"b\" ,", 6},
    {"\"a\\\\\"x", 5},
    {"\"\\u00e9\\ud83d\\ude00\"", 20},
    {"{\"a\":[1,2,{\"b\":null}],\"c\":\"}\"}", 30},
    {"[]", 2},
    {"{}", 2},
    {"-1.5e3]", 6},
    {"\"abc", 0},
    {"\"a\\x\"", 0},
    {"\"\\u12g4\"", 0},
    {"{\"a\" 1}", 0},
    {"{\"a\":1,}", 0},
    {"[1 2]", 0},
    {"{1:2}", 0},
    {"[1,", 0},
    {"}", 0},
};

static void test_skip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++) {
        size_t bad = (size_t)-1, len = strlen(skips[i].text);
        size_t e = vet_jspan_skip(skips[i].text, 0, len, &bad);
        if (e != skips[i].end)
            fail_msg("row %zu (%s): end %zu, want %zu", i, skips[i].text, e, skips[i].end);
        if (!e)
            if (bad > len)
                fail_msg("row %zu: bad offset %zu", i, bad);
        if (e) { /* the independent judge agrees that [0, e) is one JSON value */
            json_t *j = json_loadb(skips[i].text, e, JSON_DECODE_ANY, NULL);
            assert_non_null(j);
            json_decref(j);
        }
    }
    { /* deep nesting: iterative, no stack */
        size_t n = 5000;
        char *deep = malloc(2 * n + 2);
        assert_non_null(deep);
        memset(deep, '[', n);
        deep[n] = '1';
        memset(deep + n + 1, ']', n);
        deep[2 * n + 1] = '\0';
        assert_int_equal(vet_jspan_skip(deep, 0, 2 * n + 1, NULL), 2 * n + 1);
        assert_int_equal(vet_jspan_skip(deep, 0, 2 * n, NULL), 0);
        free(deep);
    }
}

static void test_members(void **state)
{
    const char *t = "{ \"kind\" : \"Secret\", \"data\":{\"release\":\"SDRz\"},\"n\":[1,{}] } ";
    size_t it = 0, ks, ke, vs, ve, len = strlen(t);
    const char *want[] = {"kind", "data", "n"};
    int m, k = 0;
    (void)state;
    while ((m = vet_jspan_member(t, 0, len, &it, &ks, &ke, &vs, &ve)) > 0) {
        assert_true(k < 3);
        assert_true(vet_jspan_key_is(t, ks, ke, want[k++]));
    }
    assert_int_equal(m, 0);
    assert_int_equal(k, 3);
    assert_int_equal(vet_jspan_ws(t, it, len), len); /* it: after the '}' */
    it = 0;
    assert_int_equal(vet_jspan_member("{\"a\":1 \"b\":2}", 0, 13, &it, &ks, &ke, &vs, &ve), 1);
    assert_int_equal(vet_jspan_member("{\"a\":1 \"b\":2}", 0, 13, &it, &ks, &ke, &vs, &ve), -1);
}

static void test_string(void **state)
{
    static const struct {
        const char *json, *want;
    } rows[] = {
        {"\"plain\"", "plain"},
        {"\"a\\nb\\tc\\\\d\\\"e\\/f\"", "a\nb\tc\\d\"e/f"},
        {"\"\\u003chtml\\u003e \\u00e9\"", "<html> \xc3\xa9"},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"},
        {"\"\\ud83d x\"", "\xef\xbf\xbd x"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n;
        char *s = vet_jspan_string(rows[i].json, 0, strlen(rows[i].json), &n);
        assert_non_null(s);
        assert_string_equal(s, rows[i].want);
        assert_int_equal(n, strlen(rows[i].want));
        free(s);
    }
    assert_null(vet_jspan_string("\"a", 0, 2, NULL));
    assert_null(vet_jspan_string("abc", 0, 3, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
