/* The manifest scan: documents, Lists, templates, odd formatting, the selector facts, and the
 * fast path (pre-scan + line extractor) agreeing with a libyaml parse of every document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kubevet/catalog.h"
#include "kubevet/manifest.h"

static vet_catalog *cat;

static vet_manifest_scan *scan(const char *text, int full, int keep)
{
    vet_manifest_opts o;
    vet_manifest_scan *s = NULL;
    memset(&o, 0, sizeof o);
    o.catalog = cat;
    o.full_parse = full;
    o.keep_all = keep;
    assert_int_equal(vet_manifest_scan_new(&s, &o), 0);
    assert_int_equal(
        vet_manifest_scan_buffer(s, "t.yaml", (const unsigned char *)text, strlen(text)), 0);
    return s;
}

static const char *nz(const char *s)
{
    return s ? s : "(null)";
}

/* One line per object: everything a check reads. */
static char *dump(const vet_manifest_scan *s)
{
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < vet_manifest_scan_count(s); i++) {
        const vet_manifest_obj *o = vet_manifest_scan_obj(s, i);
        n += (size_t)snprintf(out + n, cap - n, "%u %s %s %s %s sel=%d@%u %s\n", o->line,
                              nz(o->api_version), nz(o->kind), nz(o->name), nz(o->namespace),
                              (int)o->selector, o->selector_line, nz(o->selector_detail));
        assert_true(n < cap);
    }
    return out;
}

static const vet_manifest_obj *find(const vet_manifest_scan *s, const char *name)
{
    for (size_t i = 0; i < vet_manifest_scan_count(s); i++) {
        const vet_manifest_obj *o = vet_manifest_scan_obj(s, i);
        if (o->name && !strcmp(o->name, name))
            return o;
    }
    fail_msg("object %s not found", name);
    return NULL;
}

/* Inputs where the extractor must either answer exactly like libyaml or hand over. */
static const char *const same[] = {
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  namespace: n\nspec:\n"
    "  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n"
    "        app: a\n    spec:\n      containers:\n      - name: c\n        args: [\"x\",\n"
    "          \"y\"]\n",
    /* multi-line scalar in a field we read */
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: two\n    words\nspec: {}\n",
    /* sequence at the key's own indentation, block scalars, comments everywhere */
    "# c\nkind: DaemonSet # kind first\napiVersion: extensions/v1beta1\nmetadata:\n  name: ds\n"
    "  annotations:\n    note: |\n      selector:\n        matchLabels: {}\nspec:\n  template:\n"
    "    metadata:\n      labels:\n        app: x\n    spec:\n      containers:\n      - name: c\n"
    "        command:\n        - sh\n",
    /* quoted keys and values, selector null, empty selector */
    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: \"q\"\n  namespace: 'ns'\nspec:\n"
    "  selector: null\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: flow}\nspec:\n"
    "  selector:\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: e\nspec:\n"
    "  selector: {}\n  template:\n    metadata:\n      labels: {}\n",
    /* mismatch in value, missing label, no labels */
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: m1\nspec:\n  selector:\n"
    "    matchLabels:\n      'app': web\n      tier: \"a b\"\n  template:\n    metadata:\n"
    "      labels:\n        app: web\n        tier: a\n---\napiVersion: apps/v1\nkind: Deployment\n"
    "metadata:\n  name: m2\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n"
    "    spec: {}\n",
    /* anchors and merge keys force the full parse */
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: anch\nspec:\n  selector:\n"
    "    matchLabels: &l\n      app: z\n  template:\n    metadata:\n      labels:\n        <<: "
    "*l\n",
    /* CRLF and a BOM, document end markers */
    "\xef\xbb\xbf"
    "apiVersion: extensions/v1beta1\r\nkind: Ingress\r\nmetadata:\r\n  name: crlf\r\n...\r\n"
    "---\r\napiVersion: batch/v1beta1\r\nkind: CronJob\r\nmetadata:\r\n  name: c2\r\n",
    /* tabs, odd indentation */
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n   name: three\nspec:\n  selector:\n"
    "     matchLabels:\n       app: y\n  template:\n     metadata:\n        labels:\n"
    "          app: y\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n\tname: tab\n",
    /* matchExpressions */
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ex\nspec:\n  selector:\n"
    "    matchExpressions:\n    - key: app\n      operator: NotIn\n      values: [a]\n  template:\n"
    "    metadata:\n      labels:\n        app: a\n",
};

static void test_fast_equals_full(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        vet_manifest_scan *a = scan(same[i], 0, 0), *b = scan(same[i], 1, 0);
        char *da = dump(a), *db = dump(b);
        if (strcmp(da, db))
            fail_msg("case %zu:\nfast:\n%sfull:\n%s", i, da, db);
        free(da);
        free(db);
        vet_manifest_scan_free(a);
        vet_manifest_scan_free(b);
    }
}

static void test_facts(void **state)
{
    vet_manifest_scan *s;
    const vet_manifest_obj *o;
    (void)state;
    s = scan(same[4], 0, 0);
    o = find(s, "m1");
    assert_int_equal(o->selector, VET_SEL_MISMATCH);
    assert_string_equal(o->selector_detail, "matchLabels tier=a b: the template has tier=a");
    o = find(s, "m2");
    assert_int_equal(o->selector, VET_SEL_MISMATCH);
    assert_int_equal(o->selector_line, 21);
    vet_manifest_scan_free(s);

    s = scan(same[3], 0, 0);
    assert_int_equal(find(s, "q")->selector, VET_SEL_MISSING);
    assert_string_equal(find(s, "q")->namespace, "ns");
    assert_int_equal(find(s, "flow")->selector, VET_SEL_MISSING);
    assert_int_equal(find(s, "e")->selector, VET_SEL_EMPTY);
    vet_manifest_scan_free(s);

    s = scan(same[6], 0, 0);
    assert_int_equal(vet_manifest_scan_count(s), 2);
    assert_string_equal(find(s, "c2")->kind, "CronJob");
    assert_int_equal(find(s, "c2")->line, 7);
    vet_manifest_scan_free(s);

    s = scan(same[9], 0, 0);
    assert_int_equal(find(s, "ex")->selector, VET_SEL_MISMATCH);
    vet_manifest_scan_free(s);
}

static void test_lists(void **state)
{
    static const char text[] =
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: extensions/v1beta1\n  kind: Ingress\n"
        "  metadata: {name: i1}\n- apiVersion: v1\n  kind: List\n  items:\n"
        "  - {apiVersion: policy/v1beta1, kind: PodSecurityPolicy, metadata: {name: nested}}\n"
        "---\napiVersion: apps/v1beta2\nkind: DeploymentList\nitems:\n- metadata: {name: typed}\n"
        "  spec: {}\n";
    vet_manifest_scan *s = scan(text, 0, 0);
    const vet_manifest_obj *o;
    (void)state;
    o = find(s, "i1");
    assert_string_equal(o->list_kind, "List");
    assert_int_equal(o->line, 4);
    assert_string_equal(find(s, "nested")->kind, "PodSecurityPolicy");
    o = find(s, "typed");
    assert_string_equal(o->api_version, "apps/v1beta2");
    assert_string_equal(o->kind, "Deployment");
    assert_int_equal(o->selector, VET_SEL_MISSING);
    vet_manifest_scan_free(s);
}

static void test_json(void **state)
{
    static const char text[] =
        " {\"kind\": \"Deployment\",\n  \"apiVersion\": \"extensions/v1beta1\","
        "\n  \"metadata\": {\"name\": \"j\", \"namespace\": \"x\"}}\n";
    vet_manifest_scan *s = scan(text, 0, 0);
    const vet_manifest_obj *o = find(s, "j");
    (void)state;
    assert_int_equal(o->source, VET_MF_JSON);
    assert_int_equal(o->line, 2);
    assert_int_equal(o->selector, VET_SEL_MISSING);
    vet_manifest_scan_free(s);
}

static void test_templates_and_errors(void **state)
{
    static const char tpl[] =
        "{{- if .Values.x }}\napiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n"
        "  name: {{ include \"x.fullname\" . }}\nspec:\n  template:\n    metadata:\n      labels:\n"
        "        {{- include \"x.labels\" . | nindent 8 }}\n{{- end }}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: t2\nspec:\n"
        "{{- if .Values.replicas }}\n  replicas: 2\n{{- end }}\n  template: {}\n";
    static const char broken[] = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\n"
                                 "metadata:\n  name: [oops\n";
    static const char broken2[] = "a: b: c\n";
    vet_manifest_scan *s = scan(tpl, 0, 0);
    (void)state;
    if (vet_manifest_scan_count(s) != 2) {
        char *d = dump(s);
        fail_msg("%s", d);
    }
    assert_int_equal(vet_manifest_scan_obj(s, 0)->source, VET_MF_TEMPLATE);
    assert_int_equal(vet_manifest_scan_obj(s, 0)->selector, VET_SEL_MISSING);
    assert_string_equal(vet_manifest_scan_obj(s, 0)->name, "{{ include \"x.fullname\" . }}");
    assert_int_equal(vet_manifest_scan_obj(s, 1)->selector, VET_SEL_MISSING); /* col-0 if */
    assert_int_equal(vet_manifest_scan_nerrors(s), 0);
    vet_manifest_scan_free(s);

    s = scan(broken, 0, 0);
    assert_int_equal(vet_manifest_scan_count(s), 1);
    assert_int_equal(vet_manifest_scan_obj(s, 0)->source, VET_MF_UNPARSEABLE);
    assert_int_equal(vet_manifest_scan_nerrors(s), 0);
    assert_int_equal(vet_manifest_scan_nnotes(s), 1);
    vet_manifest_scan_free(s);

    s = scan(broken2, 0, 0);
    assert_int_equal(vet_manifest_scan_count(s), 0);
    assert_int_equal(vet_manifest_scan_nerrors(s), 1);
    assert_non_null(strstr(vet_manifest_scan_error(s, 0), "t.yaml:1:"));
    vet_manifest_scan_free(s);
}

/* Helm idioms: quoted template output with inner quotes, and apiVersion switches. */
static void test_helm_idioms(void **state)
{
    static const char quoted[] =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: q\nspec:\n  template:\n"
        "    metadata:\n      labels:\n        app: \"{{ template \"x.name\" . }}\"\n";
    static const char same_tpl[] =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: s\nspec:\n  selector:\n"
        "    matchLabels:\n      app: \"{{ template \"x.name\" . }}\"\n  template:\n"
        "    metadata:\n      labels:\n        app: \"{{ template \"x.name\" . }}\"\n"
        "        tier: web\n";
    static const char sw[] =
        "{{- if semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion -}}\n"
        "apiVersion: networking.k8s.io/v1\n{{- else -}}\napiVersion: extensions/v1beta1\n"
        "{{- end }}\nkind: Ingress\nmetadata:\n  name: sw\n";
    vet_manifest_scan *s = scan(quoted, 0, 0);
    (void)state;
    assert_int_equal(vet_manifest_scan_count(s), 1);
    assert_int_equal(vet_manifest_scan_obj(s, 0)->selector, VET_SEL_MISSING);
    vet_manifest_scan_free(s);

    s = scan(same_tpl, 0, 1);
    assert_int_equal(vet_manifest_scan_count(s), 1);
    assert_int_equal(vet_manifest_scan_obj(s, 0)->selector, VET_SEL_OK);
    vet_manifest_scan_free(s);

    s = scan(sw, 0, 0);
    assert_int_equal(vet_manifest_scan_count(s), 1);
    assert_string_equal(vet_manifest_scan_obj(s, 0)->api_version, "extensions/v1beta1");
    assert_string_equal(nz(vet_manifest_scan_obj(s, 0)->api_alternatives),
                        "networking.k8s.io/v1 extensions/v1beta1");
    vet_manifest_scan_free(s);
}

/* Half-converted objects: fields the object's own apiVersion rejects. */
static void test_invalid_fields(void **state)
{
    static const char ing[] =
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\nspec:\n"
        "  rules:\n    - http:\n        paths:\n          - path: /\n            pathType: Prefix\n"
        "            backend:\n              serviceName: web\n              servicePort: 80\n";
    static const char crd[] =
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: c\nspec:\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n"
        "          type: object\n          properties:\n            extra: {}\n";
    static const char crd_ok[] =
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: c\nspec:\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n"
        "          type: object\n          x-kubernetes-preserve-unknown-fields: true\n";
    vet_manifest_scan *s = scan(ing, 0, 0);
    (void)state;
    assert_int_equal(vet_manifest_scan_count(s), 1);
    assert_non_null(strstr(nz(vet_manifest_scan_obj(s, 0)->invalid_detail), "serviceName"));
    assert_int_equal(vet_manifest_scan_obj(s, 0)->invalid_line, 12);
    vet_manifest_scan_free(s);

    s = scan(crd, 0, 0);
    assert_int_equal(vet_manifest_scan_count(s), 1);
    assert_non_null(
        strstr(nz(vet_manifest_scan_obj(s, 0)->invalid_detail), ".extra: not structural"));
    vet_manifest_scan_free(s);

    s = scan(crd_ok, 0, 0);
    assert_int_equal(vet_manifest_scan_count(s), 0);
    vet_manifest_scan_free(s);
}

/* A List over the streaming threshold (1 MiB), in block YAML and in JSON, read item by item: the
 * same objects, lines and selector facts as the items scanned as separate documents. */
static void test_large_list(void **state)
{
    enum { N = 12000 };
    size_t cap = 6u << 20;
    char *list = malloc(cap), *docs = malloc(cap), *json = malloc(cap);
    size_t nl = 0, nd = 0, nj = 0;
    vet_manifest_scan *a, *b, *c;
    (void)state;
    nl += (size_t)snprintf(list + nl, cap - nl, "apiVersion: v1\nitems:\n");
    nj += (size_t)snprintf(json + nj, cap - nj, "{\"apiVersion\": \"v1\", \"items\": [\n");
    for (int i = 0; i < N; i++) {
        const char *av = i % 3 ? "extensions/v1beta1" : "apps/v1";
        const char *sel = i % 2 ? "  selector:\n    matchLabels:\n      app: a\n" : "";
        nl += (size_t)snprintf(list + nl, cap - nl,
                               "- apiVersion: %s\n  kind: Deployment\n  metadata:\n    name: d%d\n"
                               "  spec:\n%s    template:\n      metadata:\n        labels:\n"
                               "          app: %s\n",
                               av, i,
                               i % 2 ? "    selector:\n      matchLabels:\n        app: a\n" : "",
                               i % 5 ? "a" : "b");
        nd += (size_t)snprintf(
            docs + nd, cap - nd,
            "---\napiVersion: %s\nkind: Deployment\nmetadata:\n  name: d%d\n"
            "spec:\n%s  template:\n    metadata:\n      labels:\n        app: %s\n",
            av, i, sel, i % 5 ? "a" : "b");
        nj += (size_t)snprintf(
            json + nj, cap - nj,
            "%s{\"apiVersion\": \"%s\", \"kind\": \"Deployment\", \"metadata\": "
            "{\"name\": \"d%d\", \"annotations\": {\"note\": \"a JSON List item padded "
            "to a realistic size\"}}}\n",
            i ? "," : "", av, i);
        assert_true(nl < cap && nd < cap && nj < cap);
    }
    nl += (size_t)snprintf(list + nl, cap - nl, "kind: List\nmetadata: {}\n");
    nj += (size_t)snprintf(json + nj, cap - nj, "], \"kind\": \"List\"}\n");
    assert_true(nl > (1u << 20) && nj > (1u << 20));
    a = scan(list, 0, 0);
    b = scan(docs, 0, 0);
    assert_int_equal(vet_manifest_scan_count(a), vet_manifest_scan_count(b));
    for (size_t i = 0; i < vet_manifest_scan_count(a); i++) {
        const vet_manifest_obj *x = vet_manifest_scan_obj(a, i), *y = vet_manifest_scan_obj(b, i);
        assert_string_equal(x->name, y->name);
        assert_string_equal(nz(x->list_kind), "List");
        assert_int_equal(x->selector, y->selector);
        /* item i's apiVersion: line 3 + 9 lines per item (+3 with a selector) in the List */
        assert_int_equal(x->line, 3 + 9 * (unsigned)atoi(x->name + 1) +
                                      3 * (unsigned)(atoi(x->name + 1) / 2));
    }
    c = scan(json, 0, 0);
    assert_int_equal(vet_manifest_scan_count(c), N); /* apps/v1 ones: no selector */
    assert_int_equal(vet_manifest_scan_obj(c, 1)->line, 3);
    assert_int_equal(vet_manifest_scan_nerrors(c), 0);
    vet_manifest_scan_free(a);
    vet_manifest_scan_free(b);
    vet_manifest_scan_free(c);
    free(list);
    free(docs);
    free(json);
}

/* The benchmark corpus generator's output, scanned both ways (a small sample). */
static void test_generated_sample(void **state)
{
    char dir[] = "/tmp/kv-test-manifest-XXXXXX", cmd[512];
    vet_manifest_opts o;
    vet_manifest_scan *a = NULL, *b = NULL;
    const char *paths[1];
    char *da, *db;
    (void)state;
    if (!mkdtemp(dir))
        fail_msg("mkdtemp");
    snprintf(cmd, sizeof cmd, "python3 bench/gen_manifests.py %s --files 60 --seed 7 >/dev/null",
             dir);
    if (system(cmd)) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)system(cmd);
        print_message("skip: bench/gen_manifests.py failed (python3 with PyYAML?)\n");
        skip();
        return;
    }
    paths[0] = dir;
    memset(&o, 0, sizeof o);
    o.catalog = cat;
    o.keep_all = 1;
    assert_int_equal(vet_manifest_scan_new(&a, &o), 0);
    assert_int_equal(vet_manifest_scan_paths(a, paths, 1), 0);
    o.full_parse = 1;
    assert_int_equal(vet_manifest_scan_new(&b, &o), 0);
    assert_int_equal(vet_manifest_scan_paths(b, paths, 1), 0);
    assert_int_equal(vet_manifest_scan_count(a), 480);
    da = dump(a);
    db = dump(b);
    if (strcmp(da, db)) {
        size_t i = 0, ls = 0;
        while (da[i] == db[i]) {
            if (da[i] == '\n')
                ls = i + 1;
            i++;
        }
        fail_msg("fast and full differ:\nfast: %.200s\nfull: %.200s", da + ls, db + ls);
    }
    free(da);
    free(db);
    vet_manifest_scan_free(a);
    vet_manifest_scan_free(b);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
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
        cmocka_unit_test(test_fast_equals_full),
        cmocka_unit_test(test_facts),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_templates_and_errors),
        cmocka_unit_test(test_generated_sample),
        cmocka_unit_test(test_helm_idioms),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_large_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
