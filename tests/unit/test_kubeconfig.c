/* kubeconfig parsing and the node source's facts that need no certificates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "kubevet/kubeconfig.h"
#include "kubevet/node.h"

static int parse(vet_kubeconfig **kc, const char *text)
{
    return vet_kubeconfig_parse(kc, (const unsigned char *)text, strlen(text), "test.conf");
}

static void test_embedded_and_paths(void **state)
{
    vet_kubeconfig *kc = NULL;
    const char *text = "apiVersion: v1\nkind: Config\ncurrent-context: a@k\n"
                       "clusters:\n- name: k\n  cluster:\n    server: https://lb.example.com:6443\n"
                       "    certificate-authority-data: aGVsbG8=\n"
                       "contexts:\n- name: a@k\n  context: {cluster: k, user: a}\n"
                       "users:\n- name: a\n  user:\n    client-certificate: "
                       "/var/lib/kubelet/pki/kubelet-client-current.pem\n"
                       "    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
                       "- name: b\n  user:\n    token: abc\n";
    (void)state;
    assert_int_equal(parse(&kc, text), 0);
    assert_string_equal(kc->current_context, "a@k");
    assert_int_equal(kc->nclusters, 1);
    assert_int_equal(kc->clusters[0].ca.len, 5);
    assert_memory_equal(kc->clusters[0].ca.data, "hello", 5);
    assert_string_equal(vet_kubeconfig_context(kc, NULL)->user, "a");
    assert_string_equal(vet_kubeconfig_user(kc, "a")->cert_path,
                        "/var/lib/kubelet/pki/kubelet-client-current.pem");
    assert_null(vet_kubeconfig_user(kc, "a")->cert.data);
    assert_string_equal(vet_kubeconfig_user(kc, "b")->token, "abc");
    assert_string_equal(vet_kubeconfig_cluster(kc, "k")->server, "https://lb.example.com:6443");
    vet_kubeconfig_free(kc);
}

static void test_bad_inputs(void **state)
{
    vet_kubeconfig *kc = NULL;
    (void)state;
    /* Garbage base64 names the file and line of the user. */
    assert_int_equal(
        parse(&kc, "users:\n- name: u\n  user:\n    client-certificate-data: '!!!notbase64'\n"),
        VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "test.conf:4"));
    assert_non_null(strstr(vet_error_last(), "client-certificate-data"));
    /* Not a multiple of 4 (x509-certificate-exporter's bad/yaml-bad-base64.conf). */
    assert_int_equal(
        parse(&kc, "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: abcde\n"),
        VET_EINPUT);
    /* Not YAML at all. */
    assert_int_equal(parse(&kc, "bad: {\n"), VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "test.conf:"));
    /* A scalar document is not a kubeconfig. */
    assert_int_equal(parse(&kc, "just text\n"), VET_EINPUT);
    /* Empty is a valid, empty kubeconfig. */
    assert_int_equal(parse(&kc, ""), 0);
    assert_int_equal(kc->nusers, 0);
    vet_kubeconfig_free(kc);
    /* Misspelled sections (peer kubeconfig-corrupted.yml) leave nothing to read, no crash. */
    assert_int_equal(parse(&kc, "clustersxxxx:\n- name: c\nusersxxxxx: []\ncontexts: []\n"), 0);
    assert_int_equal(kc->nclusters + kc->nusers, 0);
    vet_kubeconfig_free(kc);
}

static void test_base64(void **state)
{
    vet_blob b;
    (void)state;
    assert_int_equal(vet_base64_decode(&b, "aGk=\n", 5), 0);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "hi", 2);
    free(b.data);
    assert_int_equal(vet_base64_decode(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    free(b.data);
    assert_int_equal(vet_base64_decode(&b, "a$==", 4), VET_EINPUT);
}

/* ---- node-name resolution: --node-name > --hostname-override > etc/hostname ---- */

static char root[] = "/tmp/kv-node-XXXXXX";

/* `make check` leaves no temp folders behind: the group teardown removes it. */
static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(p);
}

static int remove_root(void **state)
{
    (void)state;
    if (!strstr(root, "XXXXXX")) /* mkdtemp ran */
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void mk(const char *rel, const char *text)
{
    char p[512], *slash;
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (slash = p + strlen(root) + 1; (slash = strchr(slash, '/')); slash++) {
        *slash = '\0';
        mkdir(p, 0755);
        *slash = '/';
    }
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_node_name(void **state)
{
    vet_node *n = NULL;
    (void)state;
    assert_non_null(mkdtemp(root));
    mk("etc/hostname", "Master-1.Example.com\n");
    assert_int_equal(vet_node_load(&n, root, NULL), 0);
    assert_string_equal(n->node_name, "master-1.example.com");
    assert_int_equal(n->node_name_source, VET_NAME_ETC_HOSTNAME);
    vet_node_free(n);

    mk("var/lib/kubelet/kubeadm-flags.env",
       "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock "
       "--hostname-override=cp-a --pod-infra-container-image=registry.k8s.io/pause:3.9\"\n");
    assert_int_equal(vet_node_load(&n, root, NULL), 0);
    assert_string_equal(n->node_name, "cp-a");
    assert_int_equal(n->node_name_source, VET_NAME_HOSTNAME_OVERRIDE);
    vet_node_free(n);

    assert_int_equal(vet_node_load(&n, root, "flagged"), 0);
    assert_string_equal(n->node_name, "flagged");
    assert_int_equal(n->node_name_source, VET_NAME_FLAG);
    assert_int_equal(n->errors.n, 0);
    vet_node_free(n);
}

static void test_node_kubelet_and_apiserver(void **state)
{
    vet_node *n = NULL;
    (void)state;
    mk("var/lib/kubelet/config.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: "
                                      "KubeletConfiguration\nrotateCertificates: false\n");
    mk("etc/kubernetes/manifests/kube-apiserver.yaml",
       "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n"
       "    - --advertise-address=10.0.0.11\n    - "
       "--service-cluster-ip-range=fd00:10:96::/112,10.96.0.0/12\n");
    assert_int_equal(vet_node_load(&n, root, NULL), 0);
    assert_int_equal(n->rotate_certificates, 0);
    assert_string_equal(n->advertise_address, "10.0.0.11");
    assert_string_equal(n->service_ip, "fd00:10:96::1");
    vet_node_free(n);
    /* Broken YAML is an input error naming the file and line, and loading goes on. */
    mk("var/lib/kubelet/config.yaml", "rotateCertificates: [\n");
    assert_int_equal(vet_node_load(&n, root, NULL), 0);
    assert_int_equal(n->errors.n, 1);
    assert_non_null(strstr(n->errors.v[0], "var/lib/kubelet/config.yaml:"));
    vet_node_free(n);
    /* Not a folder. */
    assert_int_equal(vet_node_load(&n, "/nonexistent-root", NULL), VET_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_and_paths),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_node_name),
        cmocka_unit_test(test_node_kubelet_and_apiserver),
    };
    return cmocka_run_group_tests(tests, NULL, remove_root);
}
