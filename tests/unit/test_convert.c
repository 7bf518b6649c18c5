/* apis convert: golden files (tests/data/convert/<case>.in.yaml -> <case>.<target>.out.yaml,
 * byte for byte), idempotence, the rule choice per target, and bad input. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "kubevet/catalog.h"
#include "kubevet/manifest.h"

static vet_catalog *cat;

static const char *src_dir(void)
{
    const char *s = getenv("KV_SRC");
    return s && *s ? s : ".";
}

static vet_convert_result *conv(const char *text, const char *target)
{
    vet_convert_result *r = NULL;
    int rc =
        vet_manifest_convert(&r, (const unsigned char *)text, strlen(text), target, cat, "t.yaml");
    if (rc)
        fail_msg("convert: %s", vet_error_last());
    return r;
}

static void test_goldens(void **state)
{
    char *dir = vet_path_join(src_dir(), "tests/data/convert");
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    (void)state;
    assert_non_null(d);
    while ((e = readdir(d))) {
        char cas[256], target[32], *in_path, *out_path;
        const char *dot1, *dot2;
        vet_buf in = VET_BUF_INIT, want = VET_BUF_INIT, again = VET_BUF_INIT;
        vet_convert_result *r = NULL, *r2 = NULL;
        size_t l = strlen(e->d_name);
        if (l < 10 || strcmp(e->d_name + l - 9, ".out.yaml"))
            continue;
        /* <case>.<major>.<minor>.out.yaml */
        dot1 = strchr(e->d_name, '.');
        assert_non_null(dot1);
        dot2 = e->d_name + l - 9;
        snprintf(cas, sizeof cas, "%.*s", (int)(dot1 - e->d_name), e->d_name);
        snprintf(target, sizeof target, "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
        in_path = vet_strdupf("%s/%s.in.yaml", dir, cas);
        out_path = vet_strdupf("%s/%s", dir, e->d_name);
        assert_int_equal(vet_fs_read(&in, in_path, 1 << 20), 0);
        assert_int_equal(vet_fs_read(&want, out_path, 1 << 20), 0);
        if (vet_manifest_convert(&r, (const unsigned char *)in.ptr, in.size, target, cat, in_path))
            fail_msg("%s: %s", in_path, vet_error_last());
        if (r->len != want.size || memcmp(r->data, want.ptr, want.size)) {
            fprintf(stderr, "---- %s at %s: got\n%.*s\n", cas, target, (int)r->len, r->data);
            fail_msg("%s differs", out_path);
        }
        /* converting the output again changes nothing */
        assert_int_equal(vet_manifest_convert(&r2, (const unsigned char *)r->data, r->len, target,
                                              cat, out_path),
                         0);
        if (r2->len != r->len || memcmp(r2->data, r->data, r->len))
            fail_msg("%s: a second conversion changed it again", out_path);
        for (size_t i = 0; i < r2->ndocs; i++)
            assert_int_not_equal(r2->docs[i].status, VET_CONVERT_DONE);
        vet_convert_result_free(r);
        vet_convert_result_free(r2);
        vet_buf_free(&in);
        vet_buf_free(&want);
        vet_buf_free(&again);
        free(in_path);
        free(out_path);
        n++;
    }
    closedir(d);
    free(dir);
    assert_true(n >= 10);
}

static void test_untouched(void **state)
{
    const char *y = "# keep\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n---\n"
                    "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '{{ not a template }}'\n";
    vet_convert_result *r = conv(y, "1.29");
    (void)state;
    assert_int_equal(r->changed, 0);
    assert_int_equal(r->ndocs, 0);
    assert_int_equal(r->len, strlen(y));
    assert_memory_equal(r->data, y, r->len);
    vet_convert_result_free(r);
}

static void test_choice_per_target(void **state)
{
    const char *fs = "flowcontrol.apiserver.k8s.io/v1beta1";
    (void)state;
    assert_null(vet_convert_replacement(fs, "FlowSchema", "1.22", cat));
    assert_string_equal(vet_convert_replacement(fs, "FlowSchema", "1.23", cat),
                        "flowcontrol.apiserver.k8s.io/v1beta2");
    assert_string_equal(vet_convert_replacement(fs, "FlowSchema", "1.27", cat),
                        "flowcontrol.apiserver.k8s.io/v1beta3");
    assert_string_equal(vet_convert_replacement(fs, "FlowSchema", "v1.29.3", cat),
                        "flowcontrol.apiserver.k8s.io/v1");
    assert_string_equal(vet_convert_replacement("extensions/v1beta1", "Ingress", "1.16", cat),
                        "networking.k8s.io/v1beta1");
    assert_string_equal(vet_convert_replacement("extensions/v1beta1", "Ingress", "1.22", NULL),
                        "networking.k8s.io/v1");
    assert_null(vet_convert_replacement("policy/v1beta1", "PodSecurityPolicy", "1.25", cat));
    assert_null(vet_convert_replacement("apps/v1", "Deployment", "1.29", cat));
}

static void test_no_replacement(void **state)
{
    const char *y = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: p\n";
    vet_convert_result *r = conv(y, "1.25");
    (void)state;
    assert_int_equal(r->changed, 0);
    assert_int_equal(r->ndocs, 1);
    assert_int_equal(r->docs[0].status, VET_CONVERT_NO_REPLACEMENT);
    assert_string_equal(r->docs[0].id, "KV401");
    assert_non_null(strstr(r->docs[0].manual, "Pod Security Admission"));
    vet_convert_result_free(r);
    r = conv(y, "1.21"); /* deprecated, not removed: reported as KV402, still untouched */
    assert_int_equal(r->changed, 0);
    assert_string_equal(r->docs[0].id, "KV402");
    vet_convert_result_free(r);
}

static void test_bad_input(void **state)
{
    const char *y = "apiVersion: apps/v1beta1\nkind: Deployment\nspec:\n  a: [1, 2\n  b: 3\n";
    vet_convert_result *r = NULL;
    (void)state;
    assert_int_equal(
        vet_manifest_convert(&r, (const unsigned char *)y, strlen(y), "1.29", cat, "bad.yaml"),
        VET_EINPUT);
    assert_null(r);
    assert_non_null(strstr(vet_error_last(), "bad.yaml:"));
    assert_int_equal(vet_manifest_convert(&r, (const unsigned char *)"a: 1\n", 5, "next", cat, "x"),
                     VET_EUSAGE);
}

static void test_non_ascii_offsets(void **state)
{
    /* libyaml marks count characters; edits after multi-byte text must land on the right bytes */
    const char *y = "# déjà vu — ünïcödé\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n"
                    "  name: café\n  annotations: {note: \"naïve\"}\nspec:\n  template:\n"
                    "    metadata:\n      labels: {app: crème}\n";
    const char *want =
        "# déjà vu — ünïcödé\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        "  name: café\n  annotations: {note: \"naïve\"}\nspec:\n  selector:\n"
        "    matchLabels:\n      app: crème\n  revisionHistoryLimit: 2\n  template:\n"
        "    metadata:\n      labels: {app: crème}\n";
    vet_convert_result *r = conv(y, "1.16");
    (void)state;
    assert_int_equal(r->len, strlen(want));
    assert_memory_equal(r->data, want, r->len);
    assert_int_equal(r->docs[0].line, 2);
    vet_convert_result_free(r);
}

static void test_peer_fixtures(void **state)
{
    /* kube-no-trouble's fixtures: every one converts (or is reported) without an error, and a
     * second pass changes nothing */
    const char *dir = "../shared/peer-fixtures/kube-no-trouble";
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    (void)state;
    if (!d) {
        print_message("skip: %s absent (a clone without ../shared)\n", dir);
        skip();
    }
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        char *p;
        vet_buf in = VET_BUF_INIT;
        vet_convert_result *r = NULL, *r2 = NULL;
        if (l < 6 || (strcmp(e->d_name + l - 5, ".yaml") && strcmp(e->d_name + l - 5, ".json")))
            continue;
        p = vet_path_join(dir, e->d_name);
        assert_int_equal(vet_fs_read(&in, p, 1 << 20), 0);
        if (vet_manifest_convert(&r, (const unsigned char *)in.ptr, in.size, "1.29", cat, p))
            fail_msg("%s: %s", p, vet_error_last());
        assert_int_equal(
            vet_manifest_convert(&r2, (const unsigned char *)r->data, r->len, "1.29", cat, p), 0);
        assert_int_equal(r2->changed, 0);
        for (size_t i = 0; i < r->ndocs; i++)
            if (r->docs[i].status == VET_CONVERT_DONE)
                assert_null(r->docs[i].id);
            else
                assert_non_null(r->docs[i].manual);
        vet_convert_result_free(r);
        vet_convert_result_free(r2);
        vet_buf_free(&in);
        free(p);
        n++;
    }
    closedir(d);
    assert_true(n > 40);
}

static vet_convert_result *conv_opts(const char *text, const char *target, int new_defaults)
{
    vet_convert_result *r = NULL;
    vet_convert_opts o;
    memset(&o, 0, sizeof o);
    o.target = target;
    o.catalog = cat;
    o.new_defaults = new_defaults;
    if (vet_manifest_convert_opts(&r, (const unsigned char *)text, strlen(text), &o, "t.yaml"))
        fail_msg("convert: %s", vet_error_last());
    return r;
}

/* A template whose conversion needs a person stays byte for byte; the reason names what. */
static void test_template_stops_unchanged(void **state)
{
    const char *y = "{{- if .Values.ingress.enabled }}\n"
                    "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n"
                    "  name: {{ include \"x.fullname\" . }}\nspec:\n  rules:\n"
                    "  - http:\n      paths:\n      - backend:\n          serviceName: {{ $n }}\n"
                    "          servicePort: http\n{{- end }}\n---\n"
                    "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n"
                    "  name: \"{{ template \"x.name\" . }}\"\nspec:\n  template:\n    metadata:\n"
                    "      labels:\n        app: \"{{ template \"x.name\" . }}\"\n";
    vet_convert_result *r = conv(y, "1.22");
    (void)state;
    assert_int_equal(r->changed, 0);
    assert_memory_equal(r->data, y, r->len);
    assert_int_equal(r->ndocs, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(r->docs[i].status, VET_CONVERT_STOPPED);
        assert_string_equal(r->docs[i].id, "KV401");
    }
    assert_non_null(strstr(r->docs[0].manual, "serviceName/servicePort are templated"));
    assert_non_null(strstr(r->docs[1].manual, "labels is templated"));
    assert_string_equal(r->docs[1].name, "{{ template \"x.name\" . }}");
    vet_convert_result_free(r);
}

/* An if/else of apiVersion lines needs nothing when one branch is served at the target. */
static void test_template_switch(void **state)
{
    const char *y = "{{- if semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion }}\n"
                    "apiVersion: networking.k8s.io/v1\n{{- else }}\n"
                    "apiVersion: networking.k8s.io/v1beta1\n{{- end }}\nkind: Ingress\n"
                    "metadata:\n  name: {{ .Release.Name }}\n";
    const char *old = "{{- if .Capabilities.APIVersions.Has \"apps/v1beta2\" }}\n"
                      "apiVersion: apps/v1beta2\n{{- else }}\napiVersion: extensions/v1beta1\n"
                      "{{- end }}\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n";
    vet_convert_result *r = conv(y, "1.25");
    (void)state;
    assert_int_equal(r->changed, 0);
    assert_int_equal(r->ndocs, 0);
    vet_convert_result_free(r);
    r = conv(old, "1.16");
    assert_int_equal(r->changed, 0);
    assert_int_equal(r->ndocs, 1);
    assert_int_equal(r->docs[0].status, VET_CONVERT_STOPPED);
    assert_non_null(strstr(r->docs[0].manual, "none is served"));
    vet_convert_result_free(r);
}

/* Old defaults written out (and said), or not with new_defaults (and said). */
static void test_defaults(void **state)
{
    const char *y = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: d\n"
                    "spec:\n  selector:\n    matchLabels:\n      app: d\n  strategy:\n"
                    "    type: RollingUpdate\n  template:\n    metadata:\n      labels:\n"
                    "        app: d\n";
    const char *want = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
                       "spec:\n  selector:\n    matchLabels:\n      app: d\n  strategy:\n"
                       "    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 1\n"
                       "      maxSurge: 1\n  revisionHistoryLimit: 2147483647\n"
                       "  progressDeadlineSeconds: 2147483647\n  template:\n    metadata:\n"
                       "      labels:\n        app: d\n";
    const char *recreate = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n"
                           "  name: d\nspec:\n  revisionHistoryLimit: 3\n"
                           "  progressDeadlineSeconds: 60\n  selector:\n    matchLabels:\n"
                           "      app: d\n  strategy: {type: Recreate}\n  template:\n"
                           "    metadata:\n      labels: {app: d}\n";
    const char *ds = "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata:\n  name: a\n"
                     "spec:\n  updateStrategy:\n    rollingUpdate:\n      maxUnavailable: 2\n"
                     "  template:\n    metadata:\n      labels:\n        app: a\n";
    vet_convert_result *r = conv_opts(y, "1.16", 0);
    (void)state;
    assert_int_equal(r->len, strlen(want));
    assert_memory_equal(r->data, want, r->len);
    assert_non_null(strstr(r->docs[0].changes, "wrote the extensions/v1beta1 defaults"));
    vet_convert_result_free(r);
    r = conv_opts(y, "1.16", 1);
    assert_null(strstr(r->data, "revisionHistoryLimit"));
    assert_null(strstr(r->data, "maxSurge"));
    assert_non_null(strstr(r->docs[0].changes, "--new-defaults"));
    vet_convert_result_free(r);
    /* every default already set, or no rolling update: nothing but the apiVersion */
    r = conv_opts(recreate, "1.16", 0);
    assert_int_equal(r->docs[0].status, VET_CONVERT_DONE);
    assert_int_equal(r->len, strlen(recreate) - strlen("extensions/v1beta1") + strlen("apps/v1"));
    vet_convert_result_free(r);
    /* rollingUpdate without a type: OnDelete before, RollingUpdate after: a person decides */
    r = conv_opts(ds, "1.16", 0);
    assert_int_equal(r->docs[0].status, VET_CONVERT_STOPPED);
    assert_int_equal(r->changed, 0);
    assert_non_null(strstr(r->docs[0].manual, "OnDelete"));
    vet_convert_result_free(r);
}

/* Only what was written is claimed: failurePolicy: Fail stays and is not said to be Ignore. */
static void test_webhook_claims(void **state)
{
    const char *y = "apiVersion: admissionregistration.k8s.io/v1beta1\n"
                    "kind: ValidatingWebhookConfiguration\nmetadata:\n  name: v\nwebhooks:\n"
                    "- name: a.example.com\n  sideEffects: None\n  failurePolicy: Fail\n"
                    "  clientConfig:\n    url: https://a.example.com/\n";
    vet_convert_result *r = conv(y, "1.22");
    (void)state;
    assert_int_equal(r->docs[0].status, VET_CONVERT_DONE);
    assert_null(strstr(r->docs[0].changes, "failurePolicy"));
    assert_non_null(strstr(r->docs[0].changes, "matchPolicy Exact (1 webhook)"));
    assert_non_null(strstr(r->data, "failurePolicy: Fail"));
    assert_null(strstr(r->data, "Ignore"));
    vet_convert_result_free(r);
}

/* Actions that only wrap the object and fill values: read through a mask, converted in full;
 * a templated value is never judged. */
static void test_template_mask(void **state)
{
    const char *y = "{{- if .Values.webhook.enabled }}\n"
                    "apiVersion: admissionregistration.k8s.io/v1beta1\n"
                    "kind: ValidatingWebhookConfiguration\nmetadata:\n"
                    "  name: \"{{ template \"x.name\" . }}\"\nwebhooks:\n"
                    "  - name: v.example.org\n    sideEffects: None\n    clientConfig:\n"
                    "      service: {name: \"{{ .Release.Name }}\", namespace: default}\n"
                    "{{- end }}\n";
    const char *t = "{{- if .Values.webhook.enabled }}\n"
                    "apiVersion: admissionregistration.k8s.io/v1beta1\n"
                    "kind: ValidatingWebhookConfiguration\nmetadata:\n  name: w\nwebhooks:\n"
                    "  - name: v.example.org\n    sideEffects: {{ .Values.sideEffects }}\n"
                    "{{- end }}\n";
    vet_convert_result *r = conv(y, "1.22");
    (void)state;
    assert_int_equal(r->docs[0].status, VET_CONVERT_DONE);
    assert_string_equal(r->docs[0].name, "{{ template \"x.name\" . }}");
    assert_non_null(strstr(r->data, "admissionregistration.k8s.io/v1\n"));
    assert_non_null(strstr(r->data, "    timeoutSeconds: 30\n{{- end }}\n"));
    assert_non_null(strstr(r->data, "\"{{ template \"x.name\" . }}\""));
    vet_convert_result_free(r);
    r = conv(t, "1.22");
    assert_int_equal(r->docs[0].status, VET_CONVERT_STOPPED);
    assert_int_equal(r->changed, 0);
    assert_non_null(strstr(r->docs[0].manual, "rendered by the template"));
    vet_convert_result_free(r);
}

static int setup(void **state)
{
    (void)state;
    return vet_catalog_load_builtin(&cat);
}

static int teardown(void **state)
{
    (void)state;
    vet_catalog_free(cat);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens),           cmocka_unit_test(test_untouched),
        cmocka_unit_test(test_choice_per_target), cmocka_unit_test(test_no_replacement),
        cmocka_unit_test(test_bad_input),         cmocka_unit_test(test_non_ascii_offsets),
        cmocka_unit_test(test_peer_fixtures),     cmocka_unit_test(test_template_stops_unchanged),
        cmocka_unit_test(test_template_switch),   cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_webhook_claims),    cmocka_unit_test(test_template_mask),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
