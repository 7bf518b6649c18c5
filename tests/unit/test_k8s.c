/* The API client's offline parts: LIST page and Status decoding from recorded JSON, kubectl's
 * configuration rules (merge, relative paths, in-cluster), and the API checks from fixture facts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/k8s.h"
#include "vtime.h"

/* ---- page decoding ---- */

typedef struct {
    int n;
    char names[8][64];
    int stop_at;
} seen;

static int on_item(void *ud, json_t *item)
{
    seen *s = ud;
    const char *name =
        json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
    if (s->n < 8)
        snprintf(s->names[s->n], sizeof s->names[0], "%s", name ? name : "?");
    s->n++;
    return s->stop_at && s->n == s->stop_at ? -42 : 0;
}

/* As kube-apiserver 1.31 answers GET /api/v1/namespaces/kube-system/secrets?limit=2 (trimmed). */
static const char page1[] =
    "{\"kind\":\"SecretList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1234\","
    "\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNCwic3RhcnQiOiJiXHUwMDAwIn0\","
    "\"remainingItemCount\":1},\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":"
    "\"kube-system\",\"annotations\":{\"x\":\"a ] } [ { \\\" \\\\\"}},\"data\":{\"k\":\"dg==\"},"
    "\"type\":\"Opaque\"},\n  {\"metadata\":{\"name\":\"b\"},\"type\":\"bootstrap.kubernetes.io/"
    "token\"}]}";

static void test_page(void **state)
{
    seen s;
    char *cont = NULL;
    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(vet_k8s_decode_page(page1, strlen(page1), on_item, &s, &cont), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "a");
    assert_string_equal(s.names[1], "b");
    assert_string_equal(cont,
                        "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNCwic3RhcnQiOiJiXHUwMDAwIn0");
    free(cont);

    /* The last page: continue absent (or ""), items may be empty or null. */
    memset(&s, 0, sizeof s);
    const char last[] = "{\"metadata\":{\"resourceVersion\":\"9\",\"continue\":\"\"},\"items\":[]}";
    assert_int_equal(vet_k8s_decode_page(last, strlen(last), on_item, &s, &cont), 0);
    assert_int_equal(s.n, 0);
    assert_null(cont);
    const char nul[] = "{\"kind\":\"NodeList\",\"items\":null,\"metadata\":{}}";
    assert_int_equal(vet_k8s_decode_page(nul, strlen(nul), on_item, &s, &cont), 0);
    assert_int_equal(s.n, 0);

    /* A callback error stops the walk with its code. */
    memset(&s, 0, sizeof s);
    s.stop_at = 1;
    assert_int_equal(vet_k8s_decode_page(page1, strlen(page1), on_item, &s, NULL), -42);
    assert_int_equal(s.n, 1);
}

static void test_page_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"items\":[{\"metadata\":{\"name\":\"a\"}}",      /* truncated */
        "{\"items\":[{\"metadata\":{\"name\":\"a\"}} {}]}", /* no comma */
        "{\"items\":[{\"metadata\":{\"name\":\"a\",}}]}",   /* jansson rejects the item */
        "{\"items\":[1,2]}",                                /* items are objects */
        "{\"items\":{}}",                                   /* not an array */
        "{\"items\":[\"\\\"]}",                             /* unterminated string */
        "{\"metadata\" {}}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen s;
        char *cont = NULL;
        memset(&s, 0, sizeof s);
        assert_int_equal(vet_k8s_decode_page(bad[i], strlen(bad[i]), on_item, &s, &cont),
                         VET_EINPUT);
        assert_non_null(strstr(vet_error_last(), "offset"));
        free(cont);
    }
}

/* As kube-apiserver answers a forbidden LIST and an expired continue token. */
static const char forbidden[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
    "\"secrets is forbidden: User \\\"viewer\\\" cannot list resource \\\"secrets\\\" in API group "
    "\\\"\\\" in the namespace "
    "\\\"kube-system\\\"\",\"reason\":\"Forbidden\",\"details\":{\"kind\":"
    "\"secrets\"},\"code\":403}\n";
static const char expired[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{\"continue\":\"abc\"},\"status\":"
    "\"Failure\",\"message\":\"The provided continue parameter is too old to display a consistent "
    "list result.\\nYou can start a new list without the continue parameter.\",\"reason\":"
    "\"Expired\",\"code\":410}";

static void test_status(void **state)
{
    long code;
    char *reason = NULL, *msg;
    seen s;
    char *cont = NULL;
    (void)state;
    msg = vet_k8s_status_message(forbidden, strlen(forbidden), &code, &reason);
    assert_int_equal(code, 403);
    assert_string_equal(reason, "Forbidden");
    assert_string_equal(msg, "secrets is forbidden: User \"viewer\" cannot list resource "
                             "\"secrets\" in API group \"\" in the namespace \"kube-system\"");
    free(msg);
    free(reason);
    msg = vet_k8s_status_message(expired, strlen(expired), &code, NULL);
    assert_int_equal(code, 410);
    assert_null(strchr(msg, '\n')); /* one line */
    free(msg);
    assert_null(vet_k8s_status_message(page1, strlen(page1), &code, NULL));
    assert_null(vet_k8s_status_message("nope", 4, &code, NULL));
    /* A Status where a list was expected is an error, and its continue is not followed. */
    memset(&s, 0, sizeof s);
    assert_int_equal(vet_k8s_decode_page(expired, strlen(expired), on_item, &s, &cont), VET_ENET);
    assert_null(cont);
    assert_non_null(strstr(vet_error_last(), "too old"));
}

/* ---- configuration ---- */

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

static int setup_tmp(void **state)
{
    char p[128];
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kv-test-k8s.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(p, sizeof p, "%s/home", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/home/.kube", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/sa", tmpdir);
    mkdir(p, 0700);
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("KUBEVET_SA_DIR");
    return 0;
}

static int teardown_tmp(void **state)
{
    char cmd[160];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_config_merge(void **state)
{
    vet_k8s_config *c = NULL;
    vet_k8s_opts o;
    char env[512], home[128];
    (void)state;
    memset(&o, 0, sizeof o);
    write_file("a.conf", "current-context: main\n"
                         "clusters: [{name: k, cluster: {server: 'https://a:6443/', "
                         "certificate-authority: pki/ca.crt, tls-server-name: api.internal}}]\n"
                         "users: [{name: u, user: {client-certificate: c.crt, client-key: "
                         "/abs/c.key}}]\n");
    write_file("b.conf", "current-context: other\n"
                         "contexts: [{name: main, context: {cluster: k, user: u, namespace: "
                         "kube-system}}, {name: other, context: {cluster: k2, user: u}}]\n"
                         "clusters: [{name: k, cluster: {server: http://b}}, {name: k2, cluster: "
                         "{server: 'b2:6443', proxy-url: 'http://proxy:3128'}}]\n"
                         "users: [{name: u, user: {token: t}}]\n");
    snprintf(env, sizeof env, "%s/missing.conf:%s/a.conf::%s/b.conf:%s/a.conf", tmpdir, tmpdir,
             tmpdir, tmpdir);
    setenv("KUBECONFIG", env, 1);
    assert_int_equal(vet_k8s_config_load(&c, &o), 0);
    assert_int_equal(c->origin, VET_K8S_FROM_ENV);
    assert_string_equal(c->context, "main");                 /* a.conf's current-context */
    assert_string_equal(c->server, "https://a:6443");        /* a.conf's cluster k, no '/' */
    assert_string_equal(c->ns, "kube-system");               /* from b.conf's context */
    assert_string_equal(c->tls_server_name, "api.internal"); /* the cluster's */
    snprintf(env, sizeof env, "%s/pki/ca.crt", tmpdir);
    assert_string_equal(c->ca_file, env); /* relative to a.conf's folder */
    snprintf(env, sizeof env, "%s/c.crt", tmpdir);
    assert_string_equal(c->cert_file, env);
    assert_string_equal(c->key_file, "/abs/c.key");
    assert_null(c->token); /* user u is a.conf's: b.conf's token loses */
    vet_k8s_config_free(c);

    /* --context and -n win; a bare host:port becomes https. */
    o.context = "other";
    o.ns = "team-a";
    assert_int_equal(vet_k8s_config_load(&c, &o), 0);
    assert_string_equal(c->server, "https://b2:6443");
    assert_string_equal(c->ns, "team-a");
    assert_string_equal(c->proxy_url, "http://proxy:3128");
    vet_k8s_config_free(c);

    /* An unknown context names itself and the files. */
    o.context = "nope";
    assert_int_equal(vet_k8s_config_load(&c, &o), VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "context \"nope\""));

    /* --kubeconfig alone, even with KUBECONFIG set; a missing one is an error. */
    memset(&o, 0, sizeof o);
    snprintf(env, sizeof env, "%s/b.conf", tmpdir);
    o.kubeconfig = env;
    assert_int_equal(vet_k8s_config_load(&c, &o), 0);
    assert_int_equal(c->origin, VET_K8S_FROM_FLAG);
    assert_string_equal(c->context, "other");
    assert_string_equal(c->token, "t");
    assert_string_equal(c->ns, "default");
    vet_k8s_config_free(c);
    snprintf(env, sizeof env, "%s/missing.conf", tmpdir);
    assert_int_equal(vet_k8s_config_load(&c, &o), VET_ENOTFOUND);

    /* Only http(s) servers. */
    write_file("bad.conf", "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
                           "clusters: [{name: k, cluster: {server: 'file:///etc/passwd'}}]\n");
    snprintf(env, sizeof env, "%s/bad.conf", tmpdir);
    assert_int_equal(vet_k8s_config_load(&c, &o), VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "only http:// and https://"));

    /* ~/.kube/config when KUBECONFIG is unset; nothing at all is VET_ENOTFOUND. */
    unsetenv("KUBECONFIG");
    memset(&o, 0, sizeof o);
    snprintf(home, sizeof home, "%s/home", tmpdir);
    setenv("HOME", home, 1);
    assert_int_equal(vet_k8s_config_load(&c, &o), VET_ENOTFOUND);
    write_file("home/.kube/config", "current-context: h\ncontexts: [{name: h, context: {cluster: "
                                    "k}}]\nclusters: [{name: k, cluster: {server: https://h, "
                                    "insecure-skip-tls-verify: true}}]\n");
    assert_int_equal(vet_k8s_config_load(&c, &o), 0);
    assert_int_equal(c->origin, VET_K8S_FROM_HOME);
    assert_int_equal(c->insecure, 1);
    vet_k8s_config_free(c);
}

static void test_config_incluster(void **state)
{
    vet_k8s_config *c = NULL;
    vet_k8s_opts o;
    char sa[128];
    (void)state;
    memset(&o, 0, sizeof o);
    unsetenv("KUBECONFIG");
    setenv("HOME", "/nonexistent", 1);
    snprintf(sa, sizeof sa, "%s/sa", tmpdir);
    write_file("sa/namespace", "monitoring\n");
    o.sa_dir = sa;
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(vet_k8s_config_load(&c, &o), 0);
    assert_int_equal(c->origin, VET_K8S_FROM_INCLUSTER);
    assert_string_equal(c->server, "https://[fd00::1]:443");
    assert_string_equal(c->ns, "monitoring");
    assert_non_null(strstr(c->token_file, "/sa/token"));
    assert_non_null(strstr(c->ca_file, "/sa/ca.crt"));
    vet_k8s_config_free(c);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
}

/* ---- checks from fixture facts ---- */

static vet_api_facts *facts(const char *version)
{
    vet_api_facts *f = calloc(1, sizeof *f);
    f->git_version = strdup(version);
    sscanf(version + 1, "%d.%d", &f->major, &f->minor);
    f->have_kubeadm_config = f->have_cluster_config = 1;
    return f;
}

static void add_node(vet_api_facts *f, const char *name, int cp, int annotated, const char *kv)
{
    f->nodes = realloc(f->nodes, (f->nnodes + 1) * sizeof *f->nodes);
    memset(&f->nodes[f->nnodes], 0, sizeof *f->nodes);
    f->nodes[f->nnodes].name = strdup(name);
    f->nodes[f->nnodes].control_plane = cp;
    f->nodes[f->nnodes].has_cri_socket = annotated;
    f->nodes[f->nnodes].kubelet_version = strdup(kv);
    f->nnodes++;
}

static int count(const vet_report *r, const char *id)
{
    int n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += !strcmp(r->findings[i].id, id);
    return n;
}

static int run(vet_api_facts *f, int64_t now, const char *id)
{
    vet_ctx ctx;
    vet_report r;
    int n;
    const char *pre[] = {id, NULL};
    memset(&ctx, 0, sizeof ctx);
    ctx.api = f;
    ctx.now = now;
    vet_report_init(&r, "check", now);
    assert_int_equal(vet_check_run(&ctx, &r, VET_SRC_API, pre), 0);
    n = count(&r, id);
    vet_report_free(&r);
    return n;
}

static void test_kv201_window(void **state)
{
    static const struct {
        const char *v;
        int fires;
    } rows[] = {{"v1.11.10", 0}, {"v1.12.10", 1}, {"v1.23.3", 1}, {"v1.33.1", 1}, {"v1.34.0", 0}};
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        vet_api_facts *f = facts(rows[i].v);
        add_node(f, "m1", 1, 0, rows[i].v);
        add_node(f, "w1", 0, 0, rows[i].v); /* workers are not judged */
        add_node(f, "m2", 1, 1, rows[i].v);
        assert_int_equal(run(f, 0, "KV201"), rows[i].fires);
        vet_api_facts_free(f);
    }
}

static void test_kv502_skew(void **state)
{
    static const struct {
        const char *api, *kubelet;
        int fires;
    } rows[] = {
        {"v1.28.2", "v1.25.0", 0}, /* 3 behind, kubelet >= 1.25 */
        {"v1.28.2", "v1.24.9", 1}, /* 4 behind */
        {"v1.26.0", "v1.24.0", 0}, /* 2 behind, kubelet < 1.25: the old limit */
        {"v1.27.0", "v1.24.0", 1}, /* 3 behind, kubelet < 1.25 */
        {"v1.28.2", "v1.29.0", 1}, /* newer than the apiserver */
        {"v1.28.2", "v1.28.9", 0}, {"v1.28.2", "garbage", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        vet_api_facts *f = facts(rows[i].api);
        add_node(f, "n", 0, 0, rows[i].kubelet);
        assert_int_equal(run(f, 0, "KV502"), rows[i].fires);
        vet_api_facts_free(f);
    }
}

/* The numbers come from the release data, not the code: a data file with a stricter policy
 * (kubelets two minors behind at most, one before 1.20) changes the verdicts. */
static void test_kv502_policy_from_data(void **state)
{
    static const char strict[] = "skew: {kubelet-older: 2, kubelet-older-since: \"1.20\", "
                                 "kubelet-older-legacy: 1}\n"
                                 "releases:\n  - {minor: \"1.28\", newest: \"1.28.15\", etcd: "
                                 "\"3.5.15-0\"}\n";
    static const struct {
        const char *api, *kubelet;
        int builtin, strict;
    } rows[] = {
        {"v1.28.2", "v1.25.0", 0, 1}, /* N-3: the official limit, not the stricter one */
        {"v1.27.0", "v1.24.0", 1, 1}, /* N-3 with a kubelet older than 1.25 */
        {"v1.28.2", "v1.26.3", 0, 0}, /* N-2 */
        {"v1.20.0", "v1.18.0", 0, 1}, /* N-2 with a kubelet older than the strict since */
    };
    vet_releases *rel = NULL;
    (void)state;
    assert_int_equal(vet_releases_parse(&rel, (const unsigned char *)strict, strlen(strict), "s"),
                     0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        vet_api_facts *f = facts(rows[i].api);
        vet_ctx ctx;
        vet_report r;
        const char *pre[] = {"KV502", NULL};
        add_node(f, "n", 0, 0, rows[i].kubelet);
        assert_int_equal(run(f, 0, "KV502"), rows[i].builtin);
        memset(&ctx, 0, sizeof ctx);
        ctx.api = f;
        ctx.releases = rel;
        vet_report_init(&r, "check", 0);
        assert_int_equal(vet_check_run(&ctx, &r, VET_SRC_API, pre), 0);
        if (count(&r, "KV502") != rows[i].strict)
            fail_msg("row %zu: %d KV502 with the strict data", i, count(&r, "KV502"));
        vet_report_free(&r);
        vet_api_facts_free(f);
    }
    vet_releases_free(rel);
}

static void test_kv207(void **state)
{
    vet_api_facts *f = facts("v1.23.3");
    int64_t now = 1800000000;
    (void)state;
    f->tokens = calloc(2, sizeof *f->tokens);
    f->tokens[0].id = strdup("abcdef");
    f->tokens[0].expiration = now + 3600;
    f->tokens[1].id = strdup("q7v2lm");
    f->tokens[1].expiration = now - 60;
    f->ntokens = 2;
    assert_int_equal(run(f, now, "KV207"), 1); /* the expired token */
    f->have_kubeadm_certs = 1;
    f->kubeadm_certs_owner = strdup("abcdef");
    assert_int_equal(run(f, now, "KV207"), 1); /* owner valid */
    free(f->kubeadm_certs_owner);
    f->kubeadm_certs_owner = strdup("q7v2lm");
    assert_int_equal(run(f, now, "KV207"), 2); /* owner expired */
    free(f->kubeadm_certs_owner);
    f->kubeadm_certs_owner = strdup("gone00");
    assert_int_equal(run(f, now, "KV207"), 2);        /* owner gone */
    assert_int_equal(run(f, now - 7200, "KV207"), 1); /* --at before the expiry */
    vet_api_facts_free(f);
}

static void test_kv304_nodes(void **state)
{
    vet_api_facts *f = facts("v1.23.3");
    vet_etcd_facts e;
    vet_etcd_member m[3];
    vet_ctx ctx;
    vet_report r;
    const char *pre[] = {"KV304", NULL};
    (void)state;
    memset(&e, 0, sizeof e);
    memset(m, 0, sizeof m);
    add_node(f, "master-1", 1, 1, "v1.23.3");
    add_node(f, "renamed", 1, 1, "v1.23.3");
    f->nodes[1].internal_ip = strdup("10.0.0.12");
    add_node(f, "worker-1", 0, 0, "v1.23.3");
    /* master-1 by name, master-2 by its peer address (the Node was renamed), master-3 by
     * nothing: a removed master whose member stayed. */
    const char *names[3] = {"master-1", "master-2", "master-3"};
    const char *peers[3] = {"https://10.0.0.11:2380", "https://10.0.0.12:2380",
                            "https://10.0.0.13:2380"};
    for (int i = 0; i < 3; i++) {
        m[i].id = 0x1000 + (uint64_t)i;
        m[i].name = (char *)names[i];
        m[i].started = 1;
        vet_strv_push(&m[i].peer_urls, peers[i]);
    }
    e.members = m;
    e.nmembers = 3;
    memset(&ctx, 0, sizeof ctx);
    ctx.api = f;
    ctx.etcd = &e;
    vet_report_init(&r, "check", 0);
    assert_int_equal(vet_check_run(&ctx, &r, VET_SRC_API | VET_SRC_ETCD, pre), 0);
    assert_int_equal(r.nfindings, 1);
    assert_string_equal(r.findings[0].subject, "master-3");
    vet_report_free(&r);
    /* Without the API, nothing to match against. */
    ctx.api = NULL;
    vet_report_init(&r, "check", 0);
    assert_int_equal(vet_check_run(&ctx, &r, VET_SRC_ETCD, pre), 0);
    assert_int_equal(r.nfindings, 0);
    vet_report_free(&r);
    for (int i = 0; i < 3; i++)
        vet_strv_free(&m[i].peer_urls);
    vet_api_facts_free(f);
}

/* ---- against a live server (t_api_client.sh sets KV_K8S_TEST_KUBECONFIG and arms the
 * stand-in: the first request is dropped, the first write fails with 500) ---- */

static int count_item(void *ud, json_t *item)
{
    (void)item;
    (*(int *)ud)++;
    return 0;
}

static void test_online(void **state)
{
    const char *kc = getenv("KV_K8S_TEST_KUBECONFIG");
    const char *path = "/api/v1/namespaces/default/configmaps";
    vet_k8s *c = NULL;
    vet_k8s_opts o;
    json_t *obj = NULL, *out = NULL, *stale = NULL, *patch;
    char objpath[128];
    int n = 0;
    (void)state;
    if (!kc) {
        skip();
        return;
    }
    memset(&o, 0, sizeof o);
    o.kubeconfig = kc;
    o.timeout_ms = 10000;
    assert_int_equal(vet_k8s_connect(&c, &o), 0);
    /* A read whose connection is dropped is retried. */
    assert_int_equal(vet_k8s_get(&out, c, "/api/v1/namespaces/default"), 0);
    json_decref(out);
    /* A write that fails is not: the error carries the server's Status message. */
    obj =
        json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                  "metadata", "name", "kv-test", "labels", "app", "kubevet", "data", "k", "v1");
    if (getenv("KV_K8S_FAIL_FIRST_WRITE")) {
        assert_int_equal(vet_k8s_create(&out, c, path, obj), VET_ENET);
        assert_non_null(strstr(vet_error_last(), "HTTP 500"));
    }
    assert_int_equal(vet_k8s_create(&out, c, path, obj), 0);
    assert_non_null(
        json_string_value(json_object_get(json_object_get(out, "metadata"), "resourceVersion")));
    stale = json_deep_copy(out);
    /* PUT at the current resourceVersion succeeds and moves it ... */
    json_object_set_new(json_object_get(out, "data"), "k", json_string("v2"));
    snprintf(objpath, sizeof objpath, "%s/kv-test", path);
    json_decref(obj);
    obj = out;
    out = NULL;
    assert_int_equal(vet_k8s_update(&out, c, objpath, obj), 0);
    json_decref(out);
    /* ... so the old one is a conflict, surfaced as its own code. */
    json_object_set_new(json_object_get(stale, "data"), "k", json_string("lost"));
    assert_int_equal(vet_k8s_update(&out, c, objpath, stale), VET_K8S_ECONFLICT);
    assert_non_null(strstr(vet_error_last(), "kv-test"));
    /* Merge patch. */
    patch = json_pack("{s:{s:s}}", "data", "k2", "patched");
    assert_int_equal(vet_k8s_patch(&out, c, objpath, patch), 0);
    json_decref(patch);
    json_decref(out);
    assert_int_equal(vet_k8s_get(&out, c, objpath), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "data"), "k")),
                        "v2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "data"), "k2")),
                        "patched");
    json_decref(out);
    /* Selectors. */
    assert_int_equal(vet_k8s_list(c, path, "app=kubevet", NULL, count_item, NULL, &n), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(vet_k8s_list(c, path, "app in (other,none)", NULL, count_item, NULL, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(vet_k8s_list(c, path, NULL, "metadata.name=kv-test", count_item, NULL, &n), 0);
    assert_int_equal(n, 1);
    /* 404 is VET_ENOTFOUND, naming the object. */
    assert_int_equal(vet_k8s_get(&out, c, "/api/v1/namespaces/default/configmaps/nope"),
                     VET_ENOTFOUND);
    assert_non_null(strstr(vet_error_last(), "configmaps/nope"));
    json_decref(obj);
    json_decref(stale);
    vet_k8s_free(c);
}

/* ---- a LIST restarted after 410 Expired (t_api_relist.sh: KV_K8S_TEST_RELIST_KUBECONFIG names
 * a stand-in holding more than 500 Nodes, KV_K8S_TEST_RELIST_ADMIN a kubeconfig with the token of
 * its admin endpoint, through which the faults are armed here) ---- */

typedef struct {
    vet_strv names; /* what the caller keeps: the names given since the last reset */
    int resets;
    vet_k8s *deleter; /* when set, the first item's Node is deleted through it (another client) */
    char deleted[256];
} relist;

static int relist_item(void *ud, json_t *item)
{
    relist *r = ud;
    const char *name =
        json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
    if (!name)
        return -1;
    if (r->deleter && !r->deleted[0]) {
        char path[320];
        snprintf(r->deleted, sizeof r->deleted, "%s", name);
        snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
        if (vet_k8s_delete(r->deleter, path))
            return -1;
    }
    return vet_strv_push(&r->names, name);
}

static int relist_raw(void *ud, const char *item, size_t len)
{
    json_t *o = json_loadb(item, len, 0, NULL);
    int rc = o ? relist_item(ud, o) : -1;
    json_decref(o);
    return rc;
}

static int relist_reset(void *ud)
{
    relist *r = ud;
    r->resets++;
    vet_strv_free(&r->names);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No name twice. */
static int unique(const vet_strv *v)
{
    char **s = malloc((v->n ? v->n : 1) * sizeof *s);
    int ok = 1;
    assert_non_null(s);
    memcpy(s, v->v, v->n * sizeof *s);
    qsort(s, v->n, sizeof *s, cmp_str);
    for (size_t i = 1; i < v->n; i++)
        if (!strcmp(s[i - 1], s[i]))
            ok = 0;
    free(s);
    return ok;
}

static void arm(vet_k8s *admin, const char *path, const char *faults)
{
    json_t *body = json_loads(faults, 0, NULL);
    assert_non_null(body);
    assert_int_equal(vet_k8s_create(NULL, admin, path, body), 0);
    json_decref(body);
}

static int list_nodes(vet_k8s *c, int raw, int with_reset, relist *r)
{
    vet_strv_free(&r->names);
    r->resets = 0;
    r->deleted[0] = '\0';
    return raw ? vet_k8s_list_raw(c, "/api/v1/nodes", NULL, NULL, relist_raw,
                                  with_reset ? relist_reset : NULL, r)
               : vet_k8s_list(c, "/api/v1/nodes", NULL, NULL, relist_item,
                              with_reset ? relist_reset : NULL, r);
}

static void test_relist(void **state)
{
    const char *kc = getenv("KV_K8S_TEST_RELIST_KUBECONFIG"),
               *akc = getenv("KV_K8S_TEST_RELIST_ADMIN");
    vet_k8s *c = NULL, *other = NULL, *admin = NULL;
    vet_k8s_opts o;
    relist r;
    (void)state;
    if (!kc || !akc) {
        skip();
        return;
    }
    memset(&o, 0, sizeof o);
    memset(&r, 0, sizeof r);
    o.timeout_ms = 30000;
    o.kubeconfig = kc;
    assert_int_equal(vet_k8s_connect(&c, &o), 0);
    assert_int_equal(vet_k8s_connect(&other, &o), 0);
    o.kubeconfig = akc;
    assert_int_equal(vet_k8s_connect(&admin, &o), 0);
    for (int raw = 0; raw < 2; raw++) {
        size_t n0, page = raw ? 250 : 500; /* RAW_PAGE_LIMIT, PAGE_LIMIT */
        arm(admin, "/_standin/reset", "{}");
        /* the full list, pages followed */
        assert_int_equal(list_nodes(c, raw, 1, &r), 0);
        n0 = r.names.n;
        assert_true(n0 > 2 * page);
        assert_int_equal(r.resets, 0);
        assert_true(unique(&r.names));
        /* page 2's token expires, and a Node listed on page 1 is deleted meanwhile: the caller is
         * told to forget page 1, and what it keeps is the list made after the deletion */
        arm(admin, "/_standin/faults", "{\"expire_continue\": true}");
        r.deleter = other;
        assert_int_equal(list_nodes(c, raw, 1, &r), 0);
        r.deleter = NULL;
        assert_int_equal(r.resets, 1);
        assert_int_equal(r.names.n, n0 - 1);
        assert_true(unique(&r.names));
        assert_true(r.deleted[0]);
        assert_int_equal(vet_strv_find(&r.names, r.deleted, 0), -1);
        /* a second 410 in the same list: an error naming the server, after one restart */
        arm(admin, "/_standin/faults",
            "{\"rules\": [{\"method\": \"GET\", \"path\": \"^/api/v1/nodes$\", \"nth\": 2, "
            "\"code\": 410}, {\"method\": \"GET\", \"path\": \"^/api/v1/nodes$\", \"nth\": 4, "
            "\"code\": 410}]}");
        assert_int_equal(list_nodes(c, raw, 1, &r), VET_ENET);
        assert_int_equal(r.resets, 1);
        assert_non_null(strstr(vet_error_last(), vet_k8s_cfg(c)->server));
        assert_non_null(strstr(vet_error_last(), "410"));
        assert_int_equal(r.names.n, page);
        vet_error_clear();
        /* no reset callback: no restart, the expired token is the error */
        arm(admin, "/_standin/reset", "{}");
        arm(admin, "/_standin/faults", "{\"expire_continue\": true}");
        assert_int_equal(list_nodes(c, raw, 0, &r), VET_ENET);
        assert_int_equal(r.resets, 0);
        assert_int_equal(r.names.n, page);
        assert_non_null(strstr(vet_error_last(), "410"));
        vet_error_clear();
    }
    vet_strv_free(&r.names);
    vet_k8s_free(c);
    vet_k8s_free(other);
    vet_k8s_free(admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_page_bad),
        cmocka_unit_test(test_status),
        cmocka_unit_test_setup_teardown(test_config_merge, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_config_incluster, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_kv201_window),
        cmocka_unit_test(test_kv502_skew),
        cmocka_unit_test(test_kv502_policy_from_data),
        cmocka_unit_test(test_kv207),
        cmocka_unit_test(test_kv304_nodes),
        cmocka_unit_test(test_online),
        cmocka_unit_test(test_relist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
