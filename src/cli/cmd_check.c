/* kubevet check: every check the available sources allow, joined in one report. The sources:
 * - node: the files under --root (default /) when they hold a Kubernetes node;
 * - api:  the cluster of --kubeconfig, else KUBECONFIG, ~/.kube/config or the in-cluster service
 *         account (those last two only for the live node: a copy under --root DIR is offline);
 * - etcd: --etcd-endpoints, else the etcd static pod of the live node.
 * A source named by a flag must work (exit 3 otherwise); one only found is best effort and the
 * report says why it was not used. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "fs.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/k8s.h"
#include "kubevet/node.h"

static const char synopsis[] =
    "  kubevet check [PATH...] [--root DIR] [--node-name NAME] [--at TIME] [--warn-within 30d]\n"
    "                [--expect-san NAME|IP]... [--kubeconfig FILE] [--context NAME]\n"
    "                [--request-timeout 10s] [--etcd-endpoints URLS] [--fail-on LEVEL] [-o json]";

static const char description[] =
    "Runs every check whose source is available and joins the findings in one report:\n"
    "  node  the node's files under --root (default /): PKI, kubeconfigs, kubelet, static pods\n"
    "  api   the cluster: --kubeconfig, else KUBECONFIG, ~/.kube/config or the in-cluster\n"
    "        service account (the last two only when --root is the live node)\n"
    "  etcd  --etcd-endpoints, else the etcd static pod of the live node\n"
    "The report header says which sources were used, and why the others were not. A source\n"
    "named by a flag that cannot be reached is exit 3. See 'kubevet help checks'.";

/* A found (not flagged) cluster gets this long to answer before it is reported as not used. */
#define FOUND_TIMEOUT_MS 5000L

typedef cli_check_source source;

static int set_source(source *s, int used, const char *fmt, const char *arg)
{
    free(s->detail);
    s->used = used;
    s->detail = vet_strdupf(fmt, arg);
    return s->detail ? 0 : VET_ENOMEM;
}

static int live_root(const cli_globals *g)
{
    return !g->root || !strcmp(g->root, "/");
}

static int gather_api(vet_api_facts **out, cli_globals *g, source *s, int lenient)
{
    vet_k8s *c = NULL;
    vet_k8s_config *cfg = NULL;
    vet_k8s_opts o;
    /* Only flags make the API mandatory: KUBECONFIG and ~/.kube/config are found, not named. */
    int rc, named = g->kubeconfig || g->context;
    long timeout = g->request_timeout_ms;
    *out = NULL;
    memset(&o, 0, sizeof o);
    o.kubeconfig = g->kubeconfig;
    o.context = g->context;
    o.ns = g->ns;
    if (!named && !live_root(g) && !getenv("KUBECONFIG"))
        return set_source(s, 0,
                          "not used: --root %s is a copy of a node; add --kubeconfig to "
                          "check its cluster too",
                          g->root);
    rc = vet_k8s_config_load(&cfg, &o);
    if (rc == VET_ENOTFOUND && !named)
        return set_source(s, 0, "not used: %s", vet_error_last());
    if (rc)
        goto fail;
    if (!named && !g->request_timeout_str)
        timeout = FOUND_TIMEOUT_MS;
    {
        char *what = vet_strdupf("%s (context \"%s\", user \"%s\", from %s)", cfg->server,
                                 cfg->context, cfg->user, cfg->source);
        if (!what || (rc = vet_k8s_new(&c, cfg, timeout))) {
            free(what);
            if (!what)
                vet_k8s_config_free(cfg);
            rc = rc ? rc : vet_error_set(VET_ENOMEM, "out of memory");
            goto fail;
        }
        cfg = NULL;
        rc = vet_api_gather(out, c);
        if (!rc) {
            char *v = vet_strdupf("%s, Kubernetes %s", what,
                                  (*out)->git_version ? (*out)->git_version : "?");
            rc = v ? set_source(s, 1, "%s", v) : VET_ENOMEM;
            free(v);
        }
        free(what);
    }
    vet_k8s_free(c);
    if (!rc)
        return 0;
fail:
    /* A kubeconfig only found (a stale ~/.kube/config) does not stop the other sources; nor
     * does any under serve, which reports the source down and keeps its last findings. */
    if ((!named || lenient) && rc != VET_ENOMEM) {
        char *why = strdup(vet_error_last());
        rc = why ? set_source(s, 0, "not used: %s", why) : VET_ENOMEM;
        free(why);
        return rc;
    }
    return rc;
}

static int gather_etcd(vet_etcd_facts **out, cli_globals *g, source *s, int lenient)
{
    vet_etcd *c = NULL;
    int rc, live = live_root(g) && vet_fs_exists("/etc/kubernetes/manifests/etcd.yaml");
    *out = NULL;
    if (!g->etcd_endpoints && !live)
        return set_source(s, 0, "%s",
                          live_root(g) ? "not used: no --etcd-endpoints and no etcd static pod "
                                         "on this node"
                                       : "not used: --root is a copy of a node; add "
                                         "--etcd-endpoints to check its etcd too");
    rc = cli_etcd_connect(&c, g);
    if (!rc)
        rc = vet_etcd_status(out, c);
    if (!rc)
        rc = set_source(s, 1, "%s", vet_etcd_endpoint(c));
    vet_etcd_free(c);
    if (rc && (!g->etcd_endpoints || lenient) && rc != VET_ENOMEM) {
        char *why = strdup(vet_error_last());
        rc = why ? set_source(s, 0, "not used: %s", why) : VET_ENOMEM;
        free(why);
    }
    return rc;
}

static void print_header(const cli_pki *p, const source *src, size_t n)
{
    if (p->node && src[0].used)
        printf("node %s (name from %s), root %s\n",
               p->node->node_name ? p->node->node_name : "(unknown)",
               vet_name_source_str(p->node->node_name_source), p->node->root);
    for (size_t i = 0; i < n; i++)
        printf("source %-5s %s\n", src[i].name, src[i].detail ? src[i].detail : "");
    printf("\n");
}

static json_t *sources_json(const source *src, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "used", json_boolean(src[i].used));
        json_object_set_new(s, src[i].used ? "detail" : "reason",
                            json_string(src[i].detail ? src[i].detail : ""));
        json_object_set_new(o, src[i].name, s);
    }
    return o;
}

/* Serve keeps a source's last findings when it cannot be read: a node root that turned
 * unreadable (permissions, a remount) would otherwise look like a node without findings. */
static int node_denied(const vet_report *r)
{
    for (size_t i = 0; i < r->errors.n; i++)
        if (strstr(r->errors.v[i], "Permission denied"))
            return 1;
    return 0;
}

int cli_check_gather(cli_check *c, const vet_strv *paths, cli_globals *g, vet_report *r)
{
    cli_pki *p = &c->pki;
    vet_ctx ctx;
    const char *root = g->root ? g->root : "/";
    int rc;
    memset(&ctx, 0, sizeof ctx);
    c->src[0].name = "node";
    c->src[1].name = "api";
    c->src[2].name = "etcd";
    c->sources = 0;
    rc = cli_pki_load(p, paths, g, &ctx, r);
    if (rc && c->lenient && rc != VET_ENOMEM) {
        if ((rc = set_source(&c->src[0], 0, "not used: %s", vet_error_last())))
            return rc;
        ctx.node = NULL;
        ctx.files = NULL;
    } else if (rc) {
        return rc;
    } else if (c->lenient && node_denied(r)) {
        ctx.node = NULL;
        ctx.files = NULL;
        if ((rc = set_source(&c->src[0], 0, "not used: files under %s cannot be read", root)))
            return rc;
    } else if (vet_node_has_files(p->node) || (p->files && p->files->n)) {
        c->sources |= VET_SRC_NODE | (p->files ? VET_SRC_FILES : 0);
        if ((rc = set_source(&c->src[0], 1, "%s", p->node ? p->node->root : "certificate paths")))
            return rc;
    } else {
        ctx.node = NULL;
        if ((rc = set_source(&c->src[0], 0, "not used: no Kubernetes files under %s", root)))
            return rc;
    }
    if ((rc = gather_api(&c->api, g, &c->src[1], c->lenient)))
        return rc;
    if (c->api) {
        c->sources |= VET_SRC_API;
        ctx.api = c->api;
    }
    if ((rc = gather_etcd(&c->etcd, g, &c->src[2], c->lenient)))
        return rc;
    if (c->etcd) {
        c->sources |= VET_SRC_ETCD;
        ctx.etcd = c->etcd;
    }
    /* several "Permission denied", or no Kubernetes files and no other source: one line, exit 3 */
    if (!c->lenient && cli_pki_unusable(p, r, paths->n, c->sources))
        return 1;
    for (size_t i = 0; c->api && i < c->api->skipped.n; i++) {
        char *line = vet_strdupf("api: not read: %s", c->api->skipped.v[i]);
        if (line)
            fprintf(stderr, "kubevet: %s\n", line);
        free(line);
    }
    if ((rc = vet_check_run(&ctx, r, c->sources, NULL)))
        return rc;
    if ((rc = cli_pki_describe(p, r, g->at)))
        return rc;
    return vet_report_set(r, "sources", sources_json(c->src, 3));
}

void cli_check_reset(cli_check *c)
{
    for (int i = 0; i < 3; i++) {
        free(c->src[i].detail);
        c->src[i].detail = NULL;
        c->src[i].used = 0;
    }
    vet_api_facts_free(c->api);
    vet_etcd_facts_free(c->etcd);
    c->api = NULL;
    c->etcd = NULL;
    /* the parsed certificates go; the options (warn window, expected SANs) stay */
    vet_node_free(c->pki.node);
    if (c->pki.files)
        vet_certset_clear(c->pki.files);
    free(c->pki.files);
    c->pki.node = NULL;
    c->pki.files = NULL;
}

int cmd_check(int argc, char **argv, cli_globals *g)
{
    cli_check c;
    vet_strv pos = VET_STRV_INIT;
    vet_report r;
    int rc, code, have_report = 0;
    memset(&c, 0, sizeof c);
    const cli_opt opts[] = {
        {"warn-within", 0, CLI_STR, &c.pki.warn_within, "DURATION",
         "warn about expiry within this window (default 30d; e.g. 720h)"},
        {"expect-san", 0, CLI_MULTI, &c.pki.expect_sans, "NAME|IP",
         "a SAN the apiserver certificate must carry (repeatable)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    if ((rc = vet_report_init(&r, "check", g->at))) {
        code = cli_fail(rc);
        goto out;
    }
    have_report = 1;
    if ((rc = cli_check_gather(&c, &pos, g, &r)) > 0) {
        code = 3; /* cli_pki_unusable said why */
        goto out;
    }
    if (rc)
        goto fail;
    if (!g->output || !strcmp(g->output, "text"))
        print_header(&c.pki, c.src, 3);
    code = cli_emit(&r, g);
    goto out;
fail:
    code = cli_fail(rc);
out:
    cli_check_reset(&c);
    if (have_report)
        vet_report_free(&r);
    cli_pki_free(&c.pki);
    vet_strv_free(&pos);
    return code;
}
