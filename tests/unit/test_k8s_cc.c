/* ClusterConfiguration edits for `ha plan`: controlPlaneEndpoint and apiServer.certSANs set,
 * every other line kept, in the layouts kubeadm writes (block style, items at the key's indent
 * or deeper, `apiServer: {}`, no apiServer at all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "kubevet/k8s.h"

static void set_and_read(const char *in, const char *want)
{
    vet_strv sans = VET_STRV_INIT, got = VET_STRV_INIT;
    char *out = NULL, *ep = NULL;
    vet_strv_push(&sans, "lb.example.com");
    vet_strv_push(&sans, "10.0.0.12");
    assert_int_equal(vet_kubeadm_cc_set(&out, in, "lb.example.com:8443", &sans), 0);
    assert_string_equal(out, want);
    assert_int_equal(vet_kubeadm_cc_read(out, &ep, &got), 0);
    assert_string_equal(ep, "lb.example.com:8443");
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[1], "10.0.0.12");
    free(out);
    free(ep);
    vet_strv_free(&sans);
    vet_strv_free(&got);
}

static void test_replace_existing(void **state)
{
    (void)state;
    set_and_read("apiServer:\n  certSANs:\n  - old.example.com\n  extraArgs:\n    a: b\n"
                 "controlPlaneEndpoint: old:6443\nkind: ClusterConfiguration\n",
                 "apiServer:\n  certSANs:\n  - \"lb.example.com\"\n  - \"10.0.0.12\"\n"
                 "  extraArgs:\n    a: b\nkind: ClusterConfiguration\n"
                 "controlPlaneEndpoint: \"lb.example.com:8443\"\n");
    /* items deeper than the key */
    set_and_read("apiServer:\n    certSANs:\n        - x\n    timeoutForControlPlane: 4m0s\n",
                 "apiServer:\n    certSANs:\n    - \"lb.example.com\"\n    - \"10.0.0.12\"\n"
                 "    timeoutForControlPlane: 4m0s\n"
                 "controlPlaneEndpoint: \"lb.example.com:8443\"\n");
}

static void test_absent_and_empty(void **state)
{
    (void)state;
    set_and_read("kind: ClusterConfiguration\n",
                 "kind: ClusterConfiguration\napiServer:\n  certSANs:\n  - \"lb.example.com\"\n"
                 "  - \"10.0.0.12\"\ncontrolPlaneEndpoint: \"lb.example.com:8443\"\n");
    set_and_read("apiServer: {}\nkind: ClusterConfiguration\n",
                 "apiServer:\n  certSANs:\n  - \"lb.example.com\"\n  - \"10.0.0.12\"\n"
                 "kind: ClusterConfiguration\ncontrolPlaneEndpoint: \"lb.example.com:8443\"\n");
}

static void test_refused(void **state)
{
    vet_strv sans = VET_STRV_INIT;
    char *out = NULL;
    (void)state;
    vet_strv_push(&sans, "a\"b");
    assert_int_equal(vet_kubeadm_cc_set(&out, "kind: X\n", "h:1", &sans), VET_EINPUT);
    assert_null(out);
    vet_strv_free(&sans);
    /* flow-style apiServer: not edited by line */
    assert_int_equal(vet_kubeadm_cc_set(&out, "apiServer: {certSANs: [a]}\n", "h:1", &sans),
                     VET_EINPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_existing),
        cmocka_unit_test(test_absent_and_empty),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
