/* The plan engine in-process: a verify callback that fails rolls every step back, a refused
 * plan applies nothing, paths leaving the root are refused, the diff never shows key bytes nor
 * a Secret's data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kubevet/plan.h"

static char root[256];

static void put(const char *rel, const char *text, mode_t mode)
{
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", root, rel);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
}

static char *get(const char *rel)
{
    static char buf[4096];
    char p[512];
    size_t n;
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", root, rel);
    if (!(f = fopen(p, "r")))
        return NULL;
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    char p[512];
    (void)state;
    snprintf(root, sizeof root, "/tmp/kv-plan-unit.XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(p, sizeof p, "%s/etc", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/etc/kubernetes", root);
    mkdir(p, 0755);
    put("etc/kubernetes/a.conf", "server: https://10.0.0.1:6443\n", 0600);
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd);
}

static int fail_at_end(const vet_plan *p, size_t step, void *arg)
{
    (void)arg;
    return step == vet_plan_count(p) ? -3 : 0;
}

static void test_rollback_on_verify(void **state)
{
    vet_plan *p = NULL;
    vet_plan_result res;
    vet_plan_apply_opts o = {fail_at_end, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL};
    (void)state;
    assert_int_equal(vet_plan_new(&p, root, "test", NULL), 0);
    assert_int_equal(vet_plan_add_write(p, "etc/kubernetes/a.conf", "new\n", 4, 0600, 0, NULL,
                                        "KV205", "etc/kubernetes/a.conf", "why"),
                     0);
    assert_int_equal(vet_plan_add_write(p, "etc/kubernetes/b.key", "k\n", 2, 0600, VET_WRITE_SECRET,
                                        NULL, NULL, NULL, NULL),
                     0);
    assert_int_not_equal(vet_plan_apply(p, &o, &res), 0);
    assert_true(res.rolled_back);
    assert_false(res.rollback_failed);
    assert_string_equal(get("etc/kubernetes/a.conf"), "server: https://10.0.0.1:6443\n");
    assert_null(get("etc/kubernetes/b.key")); /* did not exist: removed again */
    assert_non_null(res.backup_dir);
    vet_plan_result_clear(&res);
    vet_plan_free(p);
}

static void test_refused_and_paths(void **state)
{
    vet_plan *p = NULL;
    vet_plan_result res;
    const char *alt[] = {"do the safe thing"};
    (void)state;
    assert_int_equal(vet_plan_new(&p, root, "test", NULL), 0);
    assert_int_not_equal(
        vet_plan_add_write(p, "etc/../../x", "x", 1, 0644, 0, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(
        vet_plan_add_write(p, "etc/kubernetes/a.conf", "x", 1, 0644, 0, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(vet_plan_refuse(p, "no", alt, 1), 0);
    assert_int_equal(vet_plan_count(p), 0);
    assert_string_equal(vet_plan_refused(p), "no");
    assert_int_not_equal(vet_plan_apply(p, NULL, &res), 0);
    assert_string_equal(get("etc/kubernetes/a.conf"), "server: https://10.0.0.1:6443\n");
    vet_plan_result_clear(&res);
    vet_plan_free(p);
}

static void test_json_hides_keys(void **state)
{
    vet_plan *p = NULL;
    json_t *j;
    char *s;
    static const char kc[] = "users:\n- user:\n    client-key-data: "
                             "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB"
                             "c2VjcmV0c2VjcmV0c2VjcmV0Cg==\n";
    (void)state;
    assert_int_equal(vet_plan_new(&p, root, "test", NULL), 0);
    assert_int_equal(vet_plan_add_write(p, "etc/kubernetes/a.conf", kc, sizeof kc - 1, 0600, 0,
                                        NULL, NULL, NULL, NULL),
                     0);
    j = vet_plan_to_json(p);
    s = json_dumps(j, 0);
    assert_non_null(strstr(s, "new private key, not shown"));
    assert_null(strstr(s, "c2VjcmV0"));
    free(s);
    json_decref(j);
    vet_plan_free(p);
}

/* A Secret's body (helm map: a release record, chart values and all) is shown by its size only;
 * a ConfigMap's is shown. */
static void test_json_hides_secret_bodies(void **state)
{
    static const char sec[] = "{\"kind\":\"Secret\",\"data\":{\"release\":\"c2VjcmV0\"}}";
    static const char cm[] = "{\"kind\":\"ConfigMap\",\"data\":{\"release\":\"cGxhaW4=\"}}";
    vet_plan *p = NULL;
    json_t *j, *acts;
    char *s;
    (void)state;
    assert_int_equal(vet_plan_new(&p, root, "test", NULL), 0);
    assert_int_equal(vet_plan_add_api_create(p, "Secret", "apps", "r.v2", sec, NULL, NULL, "new"),
                     0);
    assert_int_equal(vet_plan_add_api_update(p, "Secret", "apps", "r.v1", "7", sec, NULL, NULL,
                                             NULL, "superseded"),
                     0);
    assert_int_equal(vet_plan_add_api_update(p, "ConfigMap", "kube-system", "r.v1", "8", cm, NULL,
                                             NULL, NULL, "superseded"),
                     0);
    j = vet_plan_to_json(p);
    acts = json_object_get(j, "actions");
    assert_int_equal(json_array_size(acts), 3);
    for (size_t i = 0; i < 2; i++) {
        assert_null(json_object_get(json_array_get(acts, i), "body"));
        assert_int_equal(json_integer_value(json_object_get(json_array_get(acts, i), "body_bytes")),
                         sizeof sec - 1);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 2), "body")), cm);
    s = json_dumps(j, 0);
    assert_null(strstr(s, "c2VjcmV0"));
    free(s);
    json_decref(j);
    vet_plan_free(p);
}

/* A fake API: the Nth update fails; applied ones leave "undo:<name>" records. */
static char undone[256];
static int api_calls;

static int fake_api(const vet_action *a, char **undo, void *arg)
{
    int fail_at = *(int *)arg;
    char buf[64];
    if (++api_calls == fail_at)
        return -7;
    snprintf(buf, sizeof buf, "undo:%s", a->api_name);
    *undo = strdup(buf);
    return 0;
}

static int fake_undo(const vet_action *a, const char *undo, void *arg)
{
    (void)a;
    (void)arg;
    strncat(undone, undo, sizeof undone - strlen(undone) - 2);
    strcat(undone, ";");
    return 0;
}

static void test_rollback_api(void **state)
{
    vet_plan *p = NULL;
    vet_plan_result res;
    int fail_at = 3;
    vet_plan_apply_opts o = {NULL, fake_api, NULL, 0, fake_undo, &fail_at, NULL, NULL, NULL};
    (void)state;
    put("etc/kubernetes/a.conf", "old\n", 0600);
    undone[0] = '\0';
    api_calls = 0;
    assert_int_equal(vet_plan_new(&p, root, "test", NULL), 0);
    assert_int_equal(
        vet_plan_add_api_update(p, "ConfigMap", "ns", "one", "1", "{}", "cmd", NULL, NULL, NULL),
        0);
    assert_int_equal(
        vet_plan_add_write(p, "etc/kubernetes/a.conf", "new\n", 4, 0600, 0, NULL, NULL, NULL, NULL),
        0);
    assert_int_equal(
        vet_plan_add_api_update(p, "ConfigMap", "ns", "two", "1", "{}", "cmd", NULL, NULL, NULL),
        0);
    assert_int_equal(
        vet_plan_add_api_update(p, "ConfigMap", "ns", "three", "1", "{}", "cmd", NULL, NULL, NULL),
        0);
    /* The third update fails: the two applied are undone newest first, the file restored. */
    assert_int_equal(vet_plan_apply(p, &o, &res), -7);
    assert_int_equal(res.rolled_back, 1);
    assert_int_equal(res.rollback_failed, 0);
    assert_string_equal(undone, "undo:two;undo:one;");
    assert_string_equal(get("etc/kubernetes/a.conf"), "old\n");
    vet_plan_result_clear(&res);
    /* Nothing fails: nothing is undone. */
    undone[0] = '\0';
    api_calls = 0;
    fail_at = 0;
    assert_int_equal(vet_plan_apply(p, &o, &res), 0);
    assert_string_equal(undone, "");
    assert_string_equal(get("etc/kubernetes/a.conf"), "new\n");
    vet_plan_result_clear(&res);
    vet_plan_free(p);
}

static int fake_call(const vet_action *a, char **undo, void *arg)
{
    (void)undo;
    *(int *)arg += !strcmp(a->op, "op-1");
    return 0;
}

/* A call step needs its hook: without one nothing starts (not even the file before it). */
static void test_call_needs_hook(void **state)
{
    vet_plan *p = NULL;
    vet_plan_result res;
    int calls = 0;
    vet_plan_apply_opts o = {NULL, NULL, NULL, 0, NULL, NULL, fake_call, NULL, &calls};
    (void)state;
    assert_int_equal(vet_plan_new(&p, root, "test", NULL), 0);
    assert_int_equal(
        vet_plan_add_write(p, "etc/kubernetes/a.conf", "new\n", 4, 0600, 0, NULL, NULL, NULL, NULL),
        0);
    assert_int_equal(vet_plan_add_call(p, "op-1", "etcdctl member add x", "why"), 0);
    assert_int_not_equal(vet_plan_apply(p, NULL, &res), 0);
    assert_string_equal(get("etc/kubernetes/a.conf"), "server: https://10.0.0.1:6443\n");
    assert_null(res.backup_dir);
    vet_plan_result_clear(&res);
    assert_int_equal(vet_plan_apply(p, &o, &res), 0);
    assert_int_equal(calls, 1);
    assert_string_equal(get("etc/kubernetes/a.conf"), "new\n");
    vet_plan_result_clear(&res);
    vet_plan_free(p);
}

/* helm map's shape: a kept file (the way back) first, an API create, updates. A failure undoes
 * the updates and the create (newest first), keeps the file, makes no backup folder; a kept file
 * that exists already stops the plan before anything. The renderer shows the create's diff. */
static void test_create_and_keep(void **state)
{
    vet_plan *p = NULL;
    vet_plan_result res;
    int fail_at = 3;
    vet_plan_apply_opts o = {NULL, fake_api, NULL, 0, fake_undo, &fail_at, NULL, NULL, NULL};
    char buf[4096];
    FILE *f;
    (void)state;
    undone[0] = '\0';
    api_calls = 0;
    assert_int_equal(vet_plan_new(&p, root, "test", "."), 0);
    assert_int_equal(vet_plan_add_write(p, "saved.json", "{}\n", 3, 0600,
                                        VET_WRITE_SECRET | VET_WRITE_KEEP, "records", NULL, NULL,
                                        NULL),
                     0);
    assert_int_equal(vet_plan_add_api_create(p, "Secret", "ns", "new", "{}", NULL, NULL, "why"), 0);
    assert_int_equal(vet_plan_set_diff(p, "manifest", "a: 1\n", "a: 2\n"), 0);
    assert_int_equal(
        vet_plan_add_api_update(p, "Secret", "ns", "old", "7", "{}", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(
        vet_plan_add_api_update(p, "Secret", "ns", "older", "5", "{}", NULL, NULL, NULL, NULL), 0);
    f = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(vet_plan_render_text(p, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "2. create Secret ns/new  # why\n"));
    assert_non_null(strstr(buf, "   -a: 1\n   +a: 2\n"));
    assert_null(strstr(buf, "for the operator")); /* no fallback command: kubevet does them */
    assert_int_equal(vet_plan_apply(p, &o, &res), -7);
    assert_int_equal(res.rolled_back, 1);
    assert_null(res.backup_dir);
    assert_string_equal(undone, "undo:old;undo:new;");
    assert_string_equal(get("saved.json"), "{}\n");
    vet_plan_result_clear(&res);
    /* the kept file exists now: a second run refuses before any API call */
    api_calls = 0;
    assert_int_not_equal(vet_plan_apply(p, &o, &res), 0);
    assert_int_equal(api_calls, 0);
    vet_plan_result_clear(&res);
    /* without an API client a create cannot pass as done */
    snprintf(buf, sizeof buf, "%s/saved.json", root);
    unlink(buf);
    assert_int_not_equal(vet_plan_apply(p, NULL, &res), 0);
    vet_plan_result_clear(&res);
    vet_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_on_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_hides_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_hides_secret_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_needs_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_keep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
