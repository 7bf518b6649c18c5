/* KV406 (src/lib/check/snapshot.c) on fixture snapshot facts built in memory, judged against
 * the built-in API catalog: no snapshot file is opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/checks.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/snapshot.h"

static const vet_snapshot_stored stored[] = {
    {"deployments",
     "extensions/v1beta1",
     "Deployment",
     5,
     0,
     {"default/a", "default/b", "kube-system/c"},
     3},
    {"deployments", "apps/v1", "Deployment", 2, 0, {"default/new"}, 1},
    {"ingresses", "networking.k8s.io/v1beta1", "Ingress", 1, 0, {"web/ing"}, 1},
    {"customresourcedefinitions.apiextensions.k8s.io",
     "apiextensions.k8s.io/v1beta1",
     "CustomResourceDefinition",
     1,
     0,
     {"widgets.example.com"},
     1},
    {"secrets", "", "", 4, 4, {"default/s1", "default/s2", "default/s3"}, 3},
    {"widgets.example.com", "example.com/v1", "Widget", 1, 0, {"default/w1"}, 1},
};

static const vet_snapshot_facts facts = {
    .stored = stored,
    .nstored = sizeof stored / sizeof stored[0],
};

typedef struct {
    vet_catalog *cat;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx || vet_catalog_load_builtin(&fx->cat))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    vet_catalog_free(fx->cat);
    free(fx);
    return 0;
}

static void run(vet_report *r, const fixture *fx, const char *target)
{
    vet_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.target = target;
    ctx.catalog = fx->cat;
    ctx.snapshot = (vet_snapshot_facts *)&facts;
    assert_int_equal(vet_report_init(r, "test", 0), 0);
    assert_int_equal(vet_check_run(&ctx, r, VET_SRC_ETCD, (const char *const[]){"KV406", NULL}), 0);
}

static const vet_finding *find(const vet_report *r, const char *api_version, const char *kind)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const vet_finding *f = &r->findings[i];
        if (!strcmp(json_string_value(json_object_get(f->fields, "api_version")), api_version) &&
            !strcmp(json_string_value(json_object_get(f->fields, "kind")), kind))
            return f;
    }
    return NULL;
}

static void test_target_1_15_none(void **state)
{
    vet_report r;
    run(&r, *state, "1.15");
    assert_int_equal(r.nfindings, 0);
    vet_report_free(&r);
}

static void test_target_1_22(void **state)
{
    vet_report r;
    const vet_finding *f;
    run(&r, *state, "1.22");
    assert_int_equal(r.nfindings, 3);
    f = find(&r, "extensions/v1beta1", "Deployment");
    assert_non_null(f);
    assert_string_equal(f->id, "KV406");
    assert_string_equal(f->name, "stored-version-outdated");
    assert_int_equal(f->severity, VET_SEV_WARNING);
    assert_string_equal(f->subject, "deployments (extensions/v1beta1 Deployment)");
    assert_string_equal(f->message,
                        "5 deployments objects are stored in etcd as extensions/v1beta1 "
                        "Deployment, which Kubernetes 1.16 no longer serves (target 1.22): e.g. "
                        "default/a, default/b, kube-system/c, ...");
    assert_non_null(strstr(f->fix, "kubectl get deployments --all-namespaces -o json"));
    assert_string_equal(json_string_value(json_object_get(f->fields, "removed_in")), "1.16");
    assert_string_equal(json_string_value(json_object_get(f->fields, "resource")), "deployments");
    assert_int_equal(json_integer_value(json_object_get(f->fields, "count")), 5);
    assert_int_equal(json_array_size(json_object_get(f->fields, "examples")), 3);

    f = find(&r, "networking.k8s.io/v1beta1", "Ingress");
    assert_non_null(f);
    assert_string_equal(f->message, "1 ingresses object is stored in etcd as "
                                    "networking.k8s.io/v1beta1 Ingress, which Kubernetes 1.22 no "
                                    "longer serves (target 1.22): e.g. web/ing");
    assert_non_null(find(&r, "apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"));
    assert_null(find(&r, "apps/v1", "Deployment"));
    vet_report_free(&r);
}

/* 1.21.9 and 1.22.0-rc.1: removals count per minor release line. */
static void test_target_minor_lines(void **state)
{
    vet_report r;
    run(&r, *state, "v1.21.9");
    assert_int_equal(r.nfindings, 1); /* extensions/v1beta1 Deployment (1.16) only */
    vet_report_free(&r);
    run(&r, *state, "1.22.0-rc.1");
    assert_int_equal(r.nfindings, 3);
    vet_report_free(&r);
}

/* No --target: the newest release the catalog knows. */
static void test_default_target(void **state)
{
    const fixture *fx = *state;
    vet_report r;
    char want[64];
    run(&r, fx, NULL);
    assert_int_equal(r.nfindings, 3);
    snprintf(want, sizeof want, "(target %s)", vet_catalog_newest(fx->cat));
    assert_non_null(strstr(r.findings[0].message, want));
    vet_report_free(&r);
}

static void test_no_facts_or_bad_target(void **state)
{
    const fixture *fx = *state;
    vet_ctx ctx;
    vet_report r;
    memset(&ctx, 0, sizeof ctx);
    ctx.catalog = fx->cat;
    assert_int_equal(vet_report_init(&r, "test", 0), 0);
    assert_int_equal(vet_check_kv406(&ctx, &r), 0); /* no snapshot source: nothing to judge */
    ctx.snapshot = (vet_snapshot_facts *)&facts;
    ctx.target = "junk";
    assert_true(vet_check_kv406(&ctx, &r) < 0);
    assert_int_equal(r.nfindings, 0);
    vet_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_1_15_none),       cmocka_unit_test(test_target_1_22),
        cmocka_unit_test(test_target_minor_lines),     cmocka_unit_test(test_default_target),
        cmocka_unit_test(test_no_facts_or_bad_target),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
