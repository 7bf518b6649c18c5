/* KV406 for an API with no newer version (PodSecurityPolicy): the fix migrates to Pod Security
 * Admission and deletes the objects; it never says to rewrite them. Facts built in memory. */
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
    {"podsecuritypolicies.policy", "policy/v1beta1", "PodSecurityPolicy", 2, 0, {"restricted"}, 1},
    {"podsecuritypolicies.extensions", "extensions/v1beta1", "PodSecurityPolicy", 1, 0, {"old"}, 1},
    {"deployments", "extensions/v1beta1", "Deployment", 1, 0, {"default/a"}, 1},
};

static const vet_snapshot_facts facts = {.stored = stored,
                                         .nstored = sizeof stored / sizeof stored[0]};

static void test_psp_fix(void **state)
{
    vet_catalog *cat = NULL;
    vet_report r;
    vet_ctx ctx;
    size_t psp = 0;
    (void)state;
    assert_int_equal(vet_catalog_load_builtin(&cat), 0);
    memset(&ctx, 0, sizeof ctx);
    ctx.target = "1.29";
    ctx.catalog = cat;
    ctx.snapshot = (vet_snapshot_facts *)&facts;
    assert_int_equal(vet_report_init(&r, "test", 0), 0);
    assert_int_equal(vet_check_run(&ctx, &r, VET_SRC_ETCD, (const char *const[]){"KV406", NULL}),
                     0);
    for (size_t i = 0; i < r.nfindings; i++) {
        const vet_finding *f = &r.findings[i];
        if (strstr(f->subject, "PodSecurityPolicy")) {
            psp++;
            assert_non_null(strstr(f->fix, "no newer version"));
            assert_non_null(strstr(f->fix, "Pod Security Admission"));
            assert_non_null(strstr(f->fix, "kubectl delete podsecuritypolicies"));
            assert_null(strstr(f->fix, "kubectl replace"));
            assert_null(strstr(f->fix, "rewrite them"));
        } else {
            assert_non_null(strstr(f->fix, "kubectl replace")); /* a Deployment has apps/v1 */
        }
    }
    assert_int_equal(psp, 2);
    vet_report_free(&r);
    vet_catalog_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_psp_fix)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
