/* The node, path and etcd sources of `check` and `certs`, the inventory, and their shared
 * command body (load -> checks -> render). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "fs.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/node.h"
#include "vtime.h"

int cli_pki_load(cli_pki *p, const vet_strv *paths, cli_globals *g, vet_ctx *ctx, vet_report *r)
{
    int64_t warn = 30 * 86400;
    int rc;
    if (p->warn_within && (rc = vet_duration_parse(&warn, p->warn_within)))
        return rc;
    ctx->now = g->at;
    ctx->warn_within = warn;
    ctx->expect_sans = &p->expect_sans;
    ctx->target = g->target;
    /* Paths alone (a cfssl folder in CI) do not drag in the host's own /etc/kubernetes. */
    if (g->root || !paths->n) {
        if ((rc = vet_node_load(&p->node, g->root ? g->root : "/", g->node_name)))
            return rc;
        for (size_t i = 0; i < p->node->errors.n; i++)
            if (vet_strv_find(&r->errors, p->node->errors.v[i], 0) < 0)
                vet_report_error(r, p->node->errors.v[i]);
        ctx->node = p->node;
    }
    if (paths->n) {
        if (!(p->files = calloc(1, sizeof *p->files)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        if ((rc = vet_certset_load_paths(p->files, (const char *const *)paths->v, paths->n)))
            return rc;
        for (size_t i = 0; i < p->files->errors.n; i++)
            vet_report_error(r, p->files->errors.v[i]);
        ctx->files = p->files;
    }
    return vet_node_verify_chains(p->node, p->files);
}

void cli_pki_free(cli_pki *p)
{
    vet_node_free(p->node);
    if (p->files)
        vet_certset_clear(p->files);
    free(p->files);
    vet_strv_free(&p->expect_sans);
    memset(p, 0, sizeof *p);
}

static json_t *strv_json(const vet_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

static json_t *cert_row(const vet_cert_entry *e, int64_t now)
{
    char nb[32], na[32];
    json_t *o = json_object();
    vet_time_format(nb, vet_cert_not_before(e->cert));
    vet_time_format(na, vet_cert_not_after(e->cert));
    json_object_set_new(o, "path", json_string(e->path));
    json_object_set_new(o, "source", json_string(e->source));
    if (e->role)
        json_object_set_new(o, "role", json_string(e->role));
    json_object_set_new(o, "subject", json_string(vet_cert_subject(e->cert)));
    json_object_set_new(o, "issuer", json_string(vet_cert_issuer(e->cert)));
    json_object_set_new(o, "serial", json_string(vet_cert_serial(e->cert)));
    json_object_set_new(o, "not_before", json_string(nb));
    json_object_set_new(o, "not_after", json_string(na));
    json_object_set_new(o, "days_left",
                        json_integer(vet_time_days_between(now, vet_cert_not_after(e->cert))));
    json_object_set_new(o, "is_ca", json_boolean(vet_cert_is_ca(e->cert)));
    json_object_set_new(o, "dns_names", strv_json(vet_cert_dns(e->cert)));
    json_object_set_new(o, "ip_addresses", strv_json(vet_cert_ips(e->cert)));
    json_object_set_new(o, "key_type", json_string(vet_cert_key_type(e->cert)));
    json_object_set_new(o, "signature_algorithm", json_string(vet_cert_sig_alg(e->cert)));
    json_object_set_new(o, "sha256_fingerprint", json_string(vet_cert_sha256(e->cert)));
    return o;
}

int cli_pki_describe(const cli_pki *p, vet_report *r, int64_t now)
{
    json_t *rows = json_array();
    const vet_certset *sets[2] = {p->node ? &p->node->certs : NULL, p->files};
    if (p->node) {
        json_t *n = json_object();
        json_object_set_new(n, "root", json_string(p->node->root));
        json_object_set_new(n, "name",
                            p->node->node_name ? json_string(p->node->node_name) : json_null());
        json_object_set_new(n, "name_source",
                            json_string(vet_name_source_str(p->node->node_name_source)));
        vet_report_set(r, "node", n);
    }
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; sets[s] && i < sets[s]->n; i++)
            json_array_append_new(rows, cert_row(&sets[s]->v[i], now));
    return vet_report_set(r, "certificates", rows);
}

/* ---- the shared body of `check` and `certs list|check` ---- */

typedef struct {
    const vet_cert_entry *e;
    int64_t na;
} row;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->na != y->na)
        return x->na < y->na ? -1 : 1;
    return strcmp(x->e->subject, y->e->subject);
}

static void print_inventory(const cli_pki *p, int64_t now)
{
    const vet_certset *sets[2] = {p->node ? &p->node->certs : NULL, p->files};
    size_t n = 0, k = 0;
    row *rows;
    vet_table *t = NULL;
    const char *hdr[] = {"DAYS LEFT", "EXPIRES", "CN", "KEY", "CA", "WHERE"};
    for (int s = 0; s < 2; s++)
        n += sets[s] ? sets[s]->n : 0;
    if (!(rows = calloc(n ? n : 1, sizeof *rows)) || vet_table_new(&t, 6, hdr)) {
        free(rows);
        return;
    }
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; sets[s] && i < sets[s]->n; i++) {
            rows[k].e = &sets[s]->v[i];
            rows[k++].na = vet_cert_not_after(sets[s]->v[i].cert);
        }
    qsort(rows, n, sizeof *rows, cmp_row);
    for (size_t i = 0; i < n; i++) {
        char days[32], when[32];
        const char *cells[6];
        snprintf(days, sizeof days, "%lld", (long long)vet_time_days_between(now, rows[i].na));
        vet_time_format(when, rows[i].na);
        when[10] = '\0';
        cells[0] = days;
        cells[1] = when;
        cells[2] = *vet_cert_cn(rows[i].e->cert) ? vet_cert_cn(rows[i].e->cert)
                                                 : vet_cert_subject(rows[i].e->cert);
        cells[3] = vet_cert_key_type(rows[i].e->cert);
        cells[4] = vet_cert_is_ca(rows[i].e->cert) ? "yes" : "no";
        cells[5] = rows[i].e->subject;
        vet_table_row(t, cells);
    }
    vet_table_print(t, stdout);
    vet_table_free(t);
    free(rows);
}

static void print_node_line(const cli_pki *p)
{
    if (!p->node)
        return;
    printf("node %s (name from %s), root %s\n\n",
           p->node->node_name ? p->node->node_name : "(unknown)",
           vet_name_source_str(p->node->node_name_source), p->node->root);
    if (!p->node->certs.n && !p->node->nkubeconfigs)
        fprintf(stderr,
                "kubevet: no certificates or kubeconfigs under %s/etc/kubernetes: is --root a "
                "control-plane node (or a copy of one)?\n",
                strcmp(p->node->root, "/") ? p->node->root : "");
}

/* `check` draws on etcd when it is configured (--etcd-endpoints: required) or when this is a live
 * control-plane node (--root / with an etcd static pod: best effort, skipped with a note when
 * unreachable, so an offline copy of a node's files still gets its PKI checked). */
static int gather_etcd(vet_etcd_facts **out, cli_globals *g, vet_report *r, unsigned *sources)
{
    vet_etcd *c = NULL;
    int rc, live = (!g->root || !strcmp(g->root, "/")) &&
                   vet_fs_exists("/etc/kubernetes/manifests/etcd.yaml");
    *out = NULL;
    if (!g->etcd_endpoints && !live)
        return 0;
    rc = cli_etcd_connect(&c, g);
    if (!rc)
        rc = vet_etcd_status(out, c);
    vet_etcd_free(c);
    if (rc && !g->etcd_endpoints) {
        vet_report_set(r, "etcd_skipped", json_string(vet_error_last()));
        return 0;
    }
    if (!rc)
        *sources |= VET_SRC_ETCD;
    return rc;
}

int cli_pki_command(int argc, char **argv, cli_globals *g, const char *command, int list,
                    const char *syn, const char *desc, const char *const *prefixes,
                    unsigned sources)
{
    cli_pki p;
    vet_etcd_facts *etcd = NULL;
    vet_strv pos = VET_STRV_INIT;
    vet_report r;
    vet_ctx ctx;
    int rc, code;
    memset(&p, 0, sizeof p);
    memset(&ctx, 0, sizeof ctx);
    const cli_opt opts[] = {
        {"warn-within", 0, CLI_STR, &p.warn_within, "DURATION",
         "warn about expiry within this window (default 30d; e.g. 720h)"},
        {"expect-san", 0, CLI_MULTI, &p.expect_sans, "NAME|IP",
         "a SAN the apiserver certificate must carry (repeatable)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    if ((rc = cli_parse(argc, argv, opts, g, &pos))) {
        vet_strv_free(&p.expect_sans);
        vet_strv_free(&pos);
        return cli_fail(rc);
    }
    if (g->help) {
        cli_usage(stdout, syn, desc, list ? NULL : opts);
        vet_strv_free(&p.expect_sans);
        vet_strv_free(&pos);
        return 0;
    }
    if ((rc = vet_report_init(&r, command, g->at)))
        return cli_fail(rc);
    if (!(rc = cli_pki_load(&p, &pos, g, &ctx, &r)) && !list && !prefixes)
        rc = gather_etcd(&etcd, g, &r, &sources);
    ctx.etcd = etcd;
    if (rc || (!list && (rc = vet_check_run(&ctx, &r, sources, prefixes))) ||
        (rc = cli_pki_describe(&p, &r, g->at))) {
        code = cli_fail(rc);
        goto done;
    }
    if (list && (!g->output || !strcmp(g->output, "text"))) {
        print_node_line(&p);
        print_inventory(&p, g->at);
        for (size_t i = 0; i < r.errors.n; i++)
            fprintf(stderr, "kubevet: %s\n", r.errors.v[i]);
        code = vet_report_exit_code(&r, g->fail_on);
    } else {
        if (!g->output || !strcmp(g->output, "text"))
            print_node_line(&p);
        /* The inventory is for `certs list`; check's JSON keeps it for tooling all the same. */
        code = cli_emit(&r, g);
    }
done:
    vet_etcd_facts_free(etcd);
    vet_report_free(&r);
    cli_pki_free(&p);
    vet_strv_free(&pos);
    return code;
}
