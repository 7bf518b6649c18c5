/* Catalog lookups, the compiled-in data, overrides, and Kubernetes version order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kubevet/catalog.h"

static vet_version V(const char *s)
{
    vet_version v;
    assert_int_equal(vet_version_parse(&v, s), 0);
    return v;
}

static void test_version_parse(void **state)
{
    static const char *const ok[] = {"1.25",         "v1.25",          "1.25.3", "v1.25.0-rc.1",
                                     "v1.25.3+k3s1", "1.26.0-alpha.0", "V1.9"};
    static const char *const bad[] = {"",        "1",       "v",     "1.",       "1.x", "one.two",
                                      "1.25.3-", "1.25.3+", "1.25 ", "1.25.3.4", "-1.2"};
    vet_version v;
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_int_equal(vet_version_parse(&v, ok[i]), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_not_equal(vet_version_parse(&v, bad[i]), 0);
    v = V("v1.25.0-rc.1+build.7");
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 25);
    assert_int_equal(v.patch, 0);
    assert_string_equal(v.pre, "rc.1");
}

static void test_version_order(void **state)
{
    /* each is lower than the next, per semver */
    static const char *const chain[] = {
        "1.9",           "v1.16.0",     "1.22.17",     "1.25.0-alpha.0", "1.25.0-alpha.1",
        "1.25.0-beta.0", "1.25.0-rc.1", "1.25.0-rc.2", "1.25.0-rc.10",   "v1.25.0",
        "1.25.1",        "1.100"};
    (void)state;
    for (size_t i = 0; i + 1 < sizeof chain / sizeof *chain; i++) {
        vet_version a = V(chain[i]), b = V(chain[i + 1]);
        assert_true(vet_version_cmp(&a, &b) < 0);
        assert_true(vet_version_cmp(&b, &a) > 0);
        assert_int_equal(vet_version_cmp(&a, &a), 0);
    }
    {
        vet_version a = V("v1.25.0"), b = V("1.25"), c = V("1.25.0+k3s1"), rc = V("1.25.0-rc.1");
        assert_int_equal(vet_version_cmp(&a, &b), 0);
        assert_int_equal(vet_version_cmp(&a, &c), 0); /* build metadata does not order */
        assert_int_equal(vet_version_cmp_minor(&rc, &a), 0);
    }
}

static void test_builtin_lookups(void **state)
{
    vet_catalog *c = NULL;
    const vet_api *a;
    vet_version t;
    (void)state;
    assert_int_equal(vet_catalog_load_builtin(&c), 0);
    assert_true(vet_catalog_count(c) > 150);
    assert_string_equal(vet_catalog_newest(c), "1.36");

    a = vet_catalog_lookup(c, "extensions/v1beta1", "Deployment");
    assert_non_null(a);
    assert_string_equal(a->removed_in, "1.16");
    assert_string_equal(a->replacement, "apps/v1");
    assert_non_null(vet_catalog_lookup(c, "extensions/v1beta1", "DeploymentList"));
    assert_non_null(vet_catalog_lookup(c, "apps/v1beta2", "StatefulSet"));
    assert_null(vet_catalog_lookup(c, "apps/v1", "Deployment"));
    assert_null(vet_catalog_lookup(c, "extensions/v1beta1", "deployment")); /* case matters */
    assert_null(vet_catalog_lookupn(c, "extensions/v1beta1", 11, "Deployment", 10));

    /* flowcontrol v1beta1 stopped being served in 1.26, not 1.29 */
    a = vet_catalog_lookup(c, "flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema");
    assert_non_null(a);
    assert_string_equal(a->removed_in, "1.26");
    t = V("1.25.9");
    assert_int_equal(vet_api_status_at(a, &t), VET_API_DEPRECATED);
    t = V("v1.26.0-rc.1"); /* a 1.26 pre-release already lacks it */
    assert_int_equal(vet_api_status_at(a, &t), VET_API_REMOVED);
    t = V("1.22");
    assert_int_equal(vet_api_status_at(a, &t), VET_API_SERVED);

    /* the four authorization.k8s.io/v1beta1 review kinds */
    assert_non_null(vet_catalog_lookup(c, "authorization.k8s.io/v1beta1", "SubjectAccessReview"));
    assert_non_null(
        vet_catalog_lookup(c, "authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"));
    assert_non_null(
        vet_catalog_lookup(c, "authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"));
    assert_non_null(
        vet_catalog_lookup(c, "authorization.k8s.io/v1beta1", "SelfSubjectRulesReview"));

    a = vet_catalog_lookup(c, "policy/v1beta1", "PodSecurityPolicy");
    assert_non_null(a);
    assert_string_equal(a->replacement, "none");
    a = vet_catalog_lookup(c, "v1", "ComponentStatus");
    assert_non_null(a);
    assert_false(a->has_rem);
    t = V("1.36");
    assert_int_equal(vet_api_status_at(a, &t), VET_API_DEPRECATED);
    vet_catalog_free(c);
}

/* Rows checked against the sources cited in data/apis.yaml: the last release that still serves
 * (or, for kubeadm, reads) each version, and the first that does not. */
static void test_removal_releases(void **state)
{
    static const struct {
        const char *av, *kind, *last, *gone; /* gone NULL: never removed */
    } rows[] = {
        {"audit.k8s.io/v1beta1", "Policy", "1.23", "1.24"},
        {"audit.k8s.io/v1alpha1", "Policy", "1.23", "1.24"},
        {"rbac.authorization.k8s.io/v1alpha1", "ClusterRole", "1.22", "1.23"},
        {"scheduling.k8s.io/v1alpha1", "PriorityClass", "1.22", "1.23"},
        {"networking.k8s.io/v1alpha1", "ClusterCIDR", "1.28", "1.29"},
        {"resource.k8s.io/v1alpha3", "DeviceClass", "1.33", "1.34"},
        {"resource.k8s.io/v1alpha3", "ResourceClaim", "1.33", "1.34"},
        {"resource.k8s.io/v1alpha3", "PodSchedulingContext", "1.31", "1.32"},
        {"storagemigration.k8s.io/v1alpha1", "StorageVersionMigration", "1.34", "1.35"},
        {"kubeadm.k8s.io/v1alpha1", "MasterConfiguration", "1.11", "1.12"},
        {"kubeadm.k8s.io/v1alpha2", "NodeConfiguration", "1.12", "1.13"},
        {"kubeadm.k8s.io/v1alpha3", "InitConfiguration", "1.14", "1.15"},
        {"kubeadm.k8s.io/v1beta1", "ClusterConfiguration", "1.21", "1.22"},
        {"kubeadm.k8s.io/v1beta2", "JoinConfiguration", "1.26", "1.27"},
        {"kubeadm.k8s.io/v1beta3", "InitConfiguration", "1.36", NULL},
        {"admission.k8s.io/v1beta1", "AdmissionReview", "1.36", NULL},
    };
    vet_catalog *c = NULL;
    (void)state;
    assert_int_equal(vet_catalog_load_builtin(&c), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const vet_api *a = vet_catalog_lookup(c, rows[i].av, rows[i].kind);
        vet_version t;
        if (!a)
            fail_msg("no row for %s %s", rows[i].av, rows[i].kind);
        t = V(rows[i].last);
        if (vet_api_status_at(a, &t) == VET_API_REMOVED)
            fail_msg("%s %s already removed at %s", rows[i].av, rows[i].kind, rows[i].last);
        if (rows[i].gone) {
            t = V(rows[i].gone);
            if (vet_api_status_at(a, &t) != VET_API_REMOVED)
                fail_msg("%s %s not removed at %s", rows[i].av, rows[i].kind, rows[i].gone);
        } else if (a->has_rem) {
            fail_msg("%s %s has a removal release", rows[i].av, rows[i].kind);
        }
    }
    /* kubeadm v1beta3 is deprecated since v1beta4 (1.31), still read */
    {
        const vet_api *a = vet_catalog_lookup(c, "kubeadm.k8s.io/v1beta3", "ClusterConfiguration");
        vet_version t = V("1.31");
        assert_non_null(a);
        assert_string_equal(a->component, "kubeadm");
        assert_int_equal(vet_api_status_at(a, &t), VET_API_DEPRECATED);
    }
    vet_catalog_free(c);
}

static void test_override(void **state)
{
    static const char add[] = "apis:\n"
                              "- apiVersion: cert-manager.io/v1alpha2\n"
                              "  kind: Issuer\n"
                              "  deprecated-in: v1.4.0\n"
                              "  removed-in: v1.6.0\n"
                              "  replacement: cert-manager.io/v1\n"
                              "  component: cert-manager\n"
                              "- apiVersion: extensions/v1beta1\n"
                              "  kind: Deployment\n"
                              "  deprecated-in: '1.9'\n"
                              "  removed-in: '1.17'\n"
                              "  replacement: apps/v1\n";
    static const char pluto[] = "deprecated-versions:\n"
                                "- version: someother/v1beta1\n"
                                "  kind: AnotherCRD\n"
                                "  deprecated-in: v1.9.0\n"
                                "  removed-in: v1.16.0\n"
                                "  replacement-api: apps/v1\n"
                                "  component: other\n";
    static const char bad[] = "apis:\n- apiVersion: x/v1\n  kind: Y\n  removed-in: soon\n";
    vet_catalog *c = NULL;
    const vet_api *a;
    size_t n;
    (void)state;
    assert_int_equal(vet_catalog_load_builtin(&c), 0);
    n = vet_catalog_count(c);
    assert_int_equal(vet_catalog_parse(c, (const unsigned char *)add, sizeof add - 1, "t"), 0);
    assert_int_equal(vet_catalog_count(c), n + 1);
    a = vet_catalog_lookup(c, "cert-manager.io/v1alpha2", "Issuer");
    assert_non_null(a);
    assert_string_equal(a->removed_in, "1.6");
    assert_string_equal(a->component, "cert-manager");
    a = vet_catalog_lookup(c, "extensions/v1beta1", "Deployment");
    assert_string_equal(a->removed_in, "1.17");
    assert_int_equal(vet_catalog_parse(c, (const unsigned char *)pluto, sizeof pluto - 1, "p"), 0);
    assert_non_null(vet_catalog_lookup(c, "someother/v1beta1", "AnotherCRD"));
    n = vet_catalog_count(c);
    assert_int_not_equal(vet_catalog_parse(c, (const unsigned char *)bad, sizeof bad - 1, "b"), 0);
    assert_int_equal(vet_catalog_count(c), n); /* nothing committed */
    vet_catalog_free(c);
}

static void test_example_file(void **state)
{
    vet_catalog *c = NULL;
    (void)state;
    assert_int_equal(vet_catalog_load_builtin(&c), 0);
    assert_int_equal(vet_catalog_load_file(c, "data/catalog-crds.example.yaml"), 0);
    assert_non_null(vet_catalog_lookup(c, "cert-manager.io/v1alpha2", "Certificate"));
    vet_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_parse),   cmocka_unit_test(test_version_order),
        cmocka_unit_test(test_builtin_lookups), cmocka_unit_test(test_override),
        cmocka_unit_test(test_example_file),    cmocka_unit_test(test_removal_releases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
