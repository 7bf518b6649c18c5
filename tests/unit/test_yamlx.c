/* common/yamlx: the bounded composer builds the same node graph as libyaml's own loader (ids,
 * types, tags, values, styles, marks) on every YAML and JSON file of the repository, and stops
 * on nesting, self-referencing aliases and alias bombs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/yamlx.h"

static int same_mark(yaml_mark_t a, yaml_mark_t b)
{
    return a.index == b.index && a.line == b.line && a.column == b.column;
}

/* Compare the documents of data one by one; returns the number of documents compared. */
static size_t compare_loaders(const unsigned char *data, size_t len, const char *name)
{
    yaml_parser_t pa, pb;
    size_t ndocs = 0;
    assert_true(yaml_parser_initialize(&pa));
    assert_true(yaml_parser_initialize(&pb));
    yaml_parser_set_input_string(&pa, data, len);
    yaml_parser_set_input_string(&pb, data, len);
    for (;;) {
        yaml_document_t a, b;
        int ra = yaml_parser_load(&pa, &a), rb = vet_yaml_parser_load(&pb, &b);
        if (ra && !rb &&
            (vet_yaml_over_limit(&pb) || (pb.problem && strstr(pb.problem, "contains it")))) {
            yaml_document_delete(&a); /* a bound, or a cycle libyaml builds and we refuse */
            break;
        }
        if (ra != rb)
            fail_msg("%s: libyaml %d, vet %d (%s)", name, ra, rb, pb.problem ? pb.problem : "");
        if (!ra) {
            assert_true(same_mark(pa.problem_mark, pb.problem_mark));
            break;
        }
        yaml_node_t *ra_root = yaml_document_get_root_node(&a);
        yaml_node_t *rb_root = yaml_document_get_root_node(&b);
        size_t na = (size_t)(a.nodes.top - a.nodes.start),
               nb = (size_t)(b.nodes.top - b.nodes.start);
        if (na != nb)
            fail_msg("%s doc %zu: %zu nodes vs %zu", name, ndocs, na, nb);
        for (size_t i = 0; i < na; i++) {
            yaml_node_t *x = &a.nodes.start[i], *y = &b.nodes.start[i];
            assert_int_equal(x->type, y->type);
            assert_string_equal((char *)x->tag, (char *)y->tag);
            if (!same_mark(x->start_mark, y->start_mark) || !same_mark(x->end_mark, y->end_mark))
                fail_msg("%s doc %zu node %zu: marks differ", name, ndocs, i);
            if (x->type == YAML_SCALAR_NODE) {
                assert_int_equal(x->data.scalar.length, y->data.scalar.length);
                assert_memory_equal(x->data.scalar.value, y->data.scalar.value,
                                    x->data.scalar.length);
                assert_int_equal(x->data.scalar.style, y->data.scalar.style);
            } else if (x->type == YAML_SEQUENCE_NODE) {
                size_t n = (size_t)(x->data.sequence.items.top - x->data.sequence.items.start);
                assert_int_equal(n, y->data.sequence.items.top - y->data.sequence.items.start);
                assert_memory_equal(x->data.sequence.items.start, y->data.sequence.items.start,
                                    n * sizeof(yaml_node_item_t));
                assert_int_equal(x->data.sequence.style, y->data.sequence.style);
            } else {
                size_t n = (size_t)(x->data.mapping.pairs.top - x->data.mapping.pairs.start);
                assert_int_equal(n, y->data.mapping.pairs.top - y->data.mapping.pairs.start);
                assert_memory_equal(x->data.mapping.pairs.start, y->data.mapping.pairs.start,
                                    n * sizeof(yaml_node_pair_t));
                assert_int_equal(x->data.mapping.style, y->data.mapping.style);
            }
        }
        yaml_document_delete(&a);
        yaml_document_delete(&b);
        if (!ra_root) {
            assert_null(rb_root);
            break;
        }
        assert_non_null(rb_root);
        ndocs++;
    }
    yaml_parser_delete(&pa);
    yaml_parser_delete(&pb);
    return ndocs;
}

static size_t compare_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            n += compare_tree(path);
        } else if (S_ISREG(st.st_mode) && st.st_size < (1 << 22) &&
                   ((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) ||
                    (l > 4 && !strcmp(e->d_name + l - 4, ".yml")) ||
                    (l > 5 && !strcmp(e->d_name + l - 5, ".json")) ||
                    (l > 5 && !strcmp(e->d_name + l - 5, ".conf")))) {
            FILE *f = fopen(path, "rb");
            unsigned char *buf = malloc((size_t)st.st_size + 1);
            size_t got;
            assert_non_null(f);
            assert_non_null(buf);
            got = fread(buf, 1, (size_t)st.st_size, f);
            fclose(f);
            n += compare_loaders(buf, got, path);
            free(buf);
        }
    }
    closedir(d);
    return n;
}

/* Same graphs as yaml_parser_load on the repository's own YAML and JSON. */
static void test_same_as_libyaml(void **state)
{
    static const char *const snippets[] = {
        "a: &x {b: [1, 2]}\nc: *x\nd: !!str 3\ne: !custom {f: g}\n",
        "--- !tag\n- 'q'\n- \"d\"\n- |\n  lit\n- >\n  fold\n...\n--- x\n",
        "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\n!e!foo bar\n",
        "",
        "---\n",
        "# only a comment\n",
        "[a, {b: c}, [d]]",
        "key: [unclosed\n",
        "a: 1\n b: 2\n",
        "{\"a\": [1, 2.5, null, true, {\"b\": \"c\"}]}",
        "? complex\n: value\n? [a, b]\n: c\n",
    };
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof snippets / sizeof snippets[0]; i++)
        compare_loaders((const unsigned char *)snippets[i], strlen(snippets[i]), snippets[i]);
    n = compare_tree("tests/data") + compare_tree("data") + compare_tree("fuzz/corpus");
    assert_true(n > 50);
}

static int load_fails(const char *text, const char *problem, size_t line)
{
    yaml_parser_t p;
    yaml_document_t d;
    int ok = 1;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    for (;;) {
        if (!vet_yaml_parser_load(&p, &d))
            break;
        ok = yaml_document_get_root_node(&d) != NULL;
        yaml_document_delete(&d);
        if (!ok) {
            yaml_parser_delete(&p);
            fail_msg("no error for %.40s", text);
        }
    }
    if (!p.problem || !strstr(p.problem, problem))
        fail_msg("problem \"%s\", want \"%s\"", p.problem ? p.problem : "", problem);
    assert_int_equal(p.problem_mark.line + 1, line);
    yaml_parser_delete(&p);
    return 1;
}

static char *nested(size_t levels, const char *prefix, char open, char close)
{
    size_t pl = strlen(prefix);
    char *s = malloc(pl + 2 * levels + 2);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    memset(s + pl, open, levels);
    memset(s + pl + levels, close, levels);
    s[pl + 2 * levels] = '\n';
    s[pl + 2 * levels + 1] = '\0';
    return s;
}

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void test_depth(void **state)
{
    struct timespec t0;
    char *ok = nested(VET_YAML_MAX_DEPTH, "", '[', ']');
    char *deep = nested(200000, "a: 1\nb: ", '[', ']');
    char *deepmap = nested(200000, "a: 1\n\nb: ", '{', '}');
    yaml_parser_t p;
    yaml_document_t d;
    (void)state;
    /* exactly the limit loads */
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (unsigned char *)ok, strlen(ok));
    assert_int_equal(vet_yaml_parser_load(&p, &d), 1);
    assert_int_equal(d.nodes.top - d.nodes.start, VET_YAML_MAX_DEPTH);
    yaml_document_delete(&d);
    yaml_parser_delete(&p);
    /* 200k levels stop at once: linear work */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    load_fails(deep, "nesting deeper than 1000 levels", 2);
    load_fails(deepmap, "nesting deeper than 1000 levels", 3);
    assert_true(since(&t0) < 1.0);
    /* block nesting counts too */
    {
        size_t n = 1500;
        char *blk = malloc(2 * n + 4);
        assert_non_null(blk);
        for (size_t i = 0; i < n; i++)
            memcpy(blk + 2 * i, "- ", 2);
        strcpy(blk + 2 * n, "x\n");
        load_fails(blk, "nesting deeper", 1);
        free(blk);
    }
    free(ok);
    free(deep);
    free(deepmap);
}

static void test_aliases(void **state)
{
    vet_yaml *y = NULL;
    (void)state;
    /* an alias inside the collection it names would be a cycle */
    load_fails("a: &x [1, *x]\n", "contains it", 1);
    load_fails("a: *nope\n", "undefined alias", 1);
    /* a billion laughs: 10 levels of 10 aliases */
    {
        char buf[4096];
        size_t o = (size_t)snprintf(buf, sizeof buf, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) {
            o += (size_t)snprintf(buf + o, sizeof buf - o, "l%d: &l%d [", i, i);
            for (int j = 0; j < 10; j++)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "*l%d%s", i - 1, j < 9 ? ", " : "");
            o += (size_t)snprintf(buf + o, sizeof buf - o, "]\n");
        }
        load_fails(buf, "aliases expand to too many nodes", 6);
    }
    /* a redefined anchor: the latest definition wins (YAML 1.2) */
    assert_int_equal(vet_yaml_load(&y, (const unsigned char *)"- &a x\n- &a y\n- *a\n", 18, "t"),
                     0);
    assert_string_equal(vet_yaml_str(vet_yaml_item(y, vet_yaml_root(y, 0), 2)), "y");
    vet_yaml_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_libyaml),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_aliases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
