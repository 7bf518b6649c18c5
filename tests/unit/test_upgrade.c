/* Release data parsing (table-driven: good, bad with file:line), hop computation from a fixture
 * context with no sources, and the kubeadm-certs decryption against a vector made with
 * python3-cryptography's AESGCM (key 00..1f, nonce 07 x 12, no AAD). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "kubevet/upgrade.h"

static const char good[] = "releases-data: 1\n"
                           "updated: \"2030-01-02\"\n"
                           "skew: {kubelet-older: 3, kubectl: 1}\n"
                           "releases:\n"
                           "  - {minor: \"1.20\", newest: \"1.20.15\", etcd: \"3.4.13-0\", "
                           "cluster-status: true, cri-socket: true, kubeadm-config: [v1beta2]}\n"
                           "  - {minor: \"1.21\", newest: \"v1.21.14\", etcd: \"3.4.13-0\"}\n"
                           "  - {minor: \"1.22\", newest: \"1.22.17\", etcd: \"3.5.6-0\"}\n";

static void test_parse_good(void **state)
{
    vet_releases *r = NULL;
    (void)state;
    assert_int_equal(vet_releases_parse(&r, (const unsigned char *)good, strlen(good), "g"), 0);
    assert_int_equal(vet_releases_count(r), 3);
    assert_string_equal(vet_releases_updated(r), "2030-01-02");
    assert_int_equal(vet_releases_at(r, 0)->minor, 20);
    assert_true(vet_releases_at(r, 0)->cluster_status);
    assert_false(vet_releases_at(r, 1)->cri_socket);
    assert_string_equal(vet_releases_find(r, 21)->newest, "1.21.14");
    assert_null(vet_releases_find(r, 23));
    assert_int_equal(vet_releases_skew(r)->kubelet_older, 3);
    assert_int_equal(vet_releases_skew(r)->kubelet_older_legacy, 2); /* default kept */
    vet_releases_free(r);
}

static void test_parse_bad(void **state)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "want a list"},
        {"releases: 3\n", "want a list"},
        {"releases:\n  - {minor: 1.20, newest: \"1.20.1\", etcd: \"3.4.1\"}\n", "b:2:"},
        {"releases:\n  - {minor: \"1.20\", newest: \"1.21.1\", etcd: \"3.4.1\"}\n", "b:2: newest"},
        {"releases:\n  - {minor: \"1.20\", newest: \"1.20.1\"}\n", "b:2: etcd"},
        {"releases:\n  - {minor: \"1.21\", newest: \"1.21.1\", etcd: \"3\"}\n"
         "  - {minor: \"1.20\", newest: \"1.20.1\", etcd: \"3\"}\n",
         "ascending"},
        {"releases:\n  - {minor: \"1.20\", newest: \"1.20.1\", etcd: \"3\", kubeadm-config: x}\n",
         "kubeadm-config"},
        {"skew: {kubectl: many}\nreleases:\n  - {minor: \"1.20\", newest: \"1.20.1\", etcd: "
         "\"3\"}\n",
         "skew.kubectl"},
        {"releases: [\n", "b:"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vet_releases *r = NULL;
        int rc =
            vet_releases_parse(&r, (const unsigned char *)bad[i].text, strlen(bad[i].text), "b");
        assert_true(rc < 0);
        assert_null(r);
        if (!strstr(vet_error_last(), bad[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, vet_error_last(), bad[i].want);
    }
}

static void test_builtin(void **state)
{
    vet_releases *r = NULL;
    (void)state;
    assert_int_equal(vet_releases_load_builtin(&r), 0);
    assert_int_equal(vet_releases_at(r, 0)->minor, 9);
    assert_string_equal(vet_releases_find(r, 13)->etcd, "3.2.24");
    assert_true(vet_releases_find(r, 13)->cri_socket && vet_releases_find(r, 13)->cluster_status);
    vet_releases_free(r);
}

static void test_hops(void **state)
{
    vet_releases *rel = NULL;
    vet_upgrade_plan *p = NULL;
    vet_upgrade_opts o;
    vet_report r;
    vet_ctx ctx;
    (void)state;
    memset(&o, 0, sizeof o);
    memset(&ctx, 0, sizeof ctx);
    ctx.now = 1700000000;
    assert_int_equal(vet_releases_load_builtin(&rel), 0);
    assert_int_equal(vet_report_init(&r, "upgrade plan", ctx.now), 0);
    o.releases = rel;
    o.ctx = &ctx;
    o.from = "v1.9.6";
    o.to = "1.13.4";
    o.max_backup_age = 86400;
    assert_int_equal(vet_upgrade_plan_build(&p, &o, &r), 0);
    assert_int_equal(p->nhops, 4);
    assert_string_equal(p->hops[0].to, "1.10.13");
    assert_string_equal(p->hops[3].from, "1.12.10");
    assert_string_equal(p->hops[3].to, "1.13.4");
    assert_non_null(vet_report_find(&r, "KV501", "1.9.6 -> 1.13.4"));
    assert_non_null(vet_report_find(&p->hops[0].blockers, "KV305", NULL)); /* no snapshot */
    assert_null(vet_report_find(&p->hops[1].blockers, "KV305", NULL));
    vet_upgrade_plan_free(p);
    o.to = "1.9.1";
    assert_int_equal(vet_upgrade_plan_build(&p, &o, &r), VET_EUSAGE);
    o.to = "1.99.0";
    assert_int_equal(vet_upgrade_plan_build(&p, &o, &r), VET_EUSAGE);
    vet_report_free(&r);
    vet_releases_free(rel);
}

static void test_decrypt(void **state)
{
    static const char key[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    static const char wrong[] = "100102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    json_t *s = json_pack("{s:{s:s}}", "data", "ca.crt",
                          "BwcHBwcHBwcHBwcHZB/EORlqo9Sz83r0oCWR6NVmrRDp2eJrips8g3C7QRHIWFTUIDX+"
                          "ya/4leK75FVa");
    const char *bad;
    int ok;
    (void)state;
    assert_int_equal(vet_join_certs_decrypt(&ok, &bad, s, key), 0);
    assert_true(ok);
    assert_int_equal(vet_join_certs_decrypt(&ok, &bad, s, wrong), 0);
    assert_false(ok);
    assert_string_equal(bad, "ca.crt");
    assert_int_equal(vet_join_certs_decrypt(&ok, &bad, s, "abc"), VET_EUSAGE);
    json_object_set_new(json_object_get(s, "data"), "ca.crt", json_string("AAAA"));
    assert_int_equal(vet_join_certs_decrypt(&ok, &bad, s, key), 0);
    assert_false(ok); /* shorter than nonce + tag */
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good), cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_builtin),    cmocka_unit_test(test_hops),
        cmocka_unit_test(test_decrypt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
