/* The node and path sources of `check` and `certs`, the inventory, and their shared
 * command body (load -> checks -> render). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "fs.h"
#include "kubevet/check.h"
#include "kubevet/node.h"
#include "text.h"
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
        rc = p->facts ? vet_certset_load_facts(p->files, (const char *const *)paths->v, paths->n,
                                               p->node)
                      : vet_certset_load_paths(p->files, (const char *const *)paths->v, paths->n);
        if (rc)
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

static json_t *cert_row(const vet_node *n, const vet_cert_entry *e, int64_t now)
{
    char nb[32], na[32];
    json_t *o = json_object();
    vet_time_format(nb, vet_cert_not_before(e->cert));
    vet_time_format(na, vet_cert_not_after(e->cert));
    json_object_set_new(o, "path", json_string(e->path));
    json_object_set_new(o, "name",
                        vet_node_cert_name(e) ? json_string(vet_node_cert_name(e)) : json_null());
    json_object_set_new(o, "ca",
                        vet_node_cert_ca_name(n, e) ? json_string(vet_node_cert_ca_name(n, e))
                                                    : json_null());
    json_object_set_new(o, "externally_managed", json_boolean(vet_node_cert_external(n, e)));
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
    if (p->facts) {
        json_decref(rows);
        return vet_report_set(r, "certificates", json_null());
    }
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; sets[s] && i < sets[s]->n; i++)
            json_array_append_new(rows, cert_row(s ? NULL : p->node, &sets[s]->v[i], now));
    return vet_report_set(r, "certificates", rows);
}

size_t cli_pki_count(const cli_pki *p)
{
    return (p->node ? p->node->certs.n : 0) + (p->files ? p->files->n : 0);
}

json_t *cli_pki_row(const cli_pki *p, size_t i, int64_t now)
{
    size_t nn = p->node ? p->node->certs.n : 0;
    if (i < nn)
        return cert_row(p->node, &p->node->certs.v[i], now);
    if (p->files && i - nn < p->files->n)
        return cert_row(NULL, &p->files->v[i - nn], now);
    return NULL;
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

/* The columns of `kubeadm certs check-expiration` (CERTIFICATE, EXPIRES, RESIDUAL TIME,
 * CERTIFICATE AUTHORITY, EXTERNALLY MANAGED), plus the key and where the certificate was found. */
static void print_inventory(const cli_pki *p, int64_t now)
{
    const vet_certset *sets[2] = {p->node ? &p->node->certs : NULL, p->files};
    size_t n = 0, k = 0;
    row *rows;
    vet_table *t = NULL;
    const char *hdr[] = {"CERTIFICATE",        "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY",
                         "EXTERNALLY MANAGED", "KEY",     "WHERE"};
    for (int s = 0; s < 2; s++)
        n += sets[s] ? sets[s]->n : 0;
    if (!(rows = calloc(n ? n : 1, sizeof *rows)) || vet_table_new(&t, 7, hdr)) {
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
        const vet_cert_entry *e = rows[i].e;
        const vet_node *node =
            p->node && e >= p->node->certs.v && e < p->node->certs.v + p->node->certs.n ? p->node
                                                                                        : NULL;
        const char *name = vet_node_cert_name(e), *ca = vet_node_cert_ca_name(node, e);
        char left[32], iso[32], when[40], cabuf[256];
        const char *cells[7];
        int64_t secs = rows[i].na - now, days = vet_time_days_between(now, rows[i].na);
        vet_time_format(iso, rows[i].na);
        /* "2027-01-02T03:04:05Z" -> "2027-01-02 03:04 UTC" */
        snprintf(when, sizeof when, "%.10s %.5s UTC", iso, iso + 11);
        if (secs < 0)
            snprintf(left, sizeof left, "expired");
        else if (days >= 365)
            snprintf(left, sizeof left, "%lldy %lldd", (long long)(days / 365),
                     (long long)(days % 365));
        else if (days >= 1)
            snprintf(left, sizeof left, "%lldd", (long long)days);
        else
            snprintf(left, sizeof left, "%lldh", (long long)(secs / 3600));
        if (!ca && vet_cert_is_ca(e->cert) && vet_cert_issued_by_name(e->cert, e->cert))
            ca = "";
        if (!ca) {
            const char *iss = vet_cert_issuer(e->cert);
            snprintf(cabuf, sizeof cabuf, "%s", !strncmp(iss, "CN=", 3) ? iss + 3 : iss);
            cabuf[strcspn(cabuf, ",")] = '\0';
            ca = cabuf;
        }
        cells[0] = name                    ? name
                   : *vet_cert_cn(e->cert) ? vet_cert_cn(e->cert)
                                           : vet_cert_subject(e->cert);
        cells[1] = when;
        cells[2] = left;
        cells[3] = *ca ? ca : "-";
        cells[4] = vet_node_cert_external(node, e) ? "yes" : "no";
        cells[5] = vet_cert_key_type(e->cert);
        cells[6] = e->subject;
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
    printf("node ");
    vet_text_fputs(p->node->node_name ? p->node->node_name : "(unknown)", stdout, 0);
    printf(" (name from %s), root ", vet_name_source_str(p->node->node_name_source));
    vet_text_fputs(p->node->root, stdout, 0);
    printf("\n\n");
}

int cli_pki_unusable(const cli_pki *p, const vet_report *r, size_t npaths, unsigned sources)
{
    const char *root = p->node ? p->node->root : NULL;
    size_t denied = 0;
    const char *first = NULL;
    if (!p->node)
        return 0;
    for (size_t i = 0; i < r->errors.n; i++)
        if (strstr(r->errors.v[i], "Permission denied")) {
            if (!denied++)
                first = r->errors.v[i];
        }
    /* One unreadable file is that file's problem (reported with the rest); several mean kubevet
     * lacks the rights to look. */
    if (denied >= 2) {
        char *esc = vet_text_escape(first, 0);
        fprintf(stderr,
                "kubevet: cannot read %zu files under %s (permission denied, first: %s): run as "
                "root (or with read access to %s/etc/kubernetes and %s/var/lib/kubelet)\n",
                denied, root, esc ? esc : "?", strcmp(root, "/") ? root : "",
                strcmp(root, "/") ? root : "");
        free(esc);
        return 1;
    }
    if (!npaths && !(sources & (VET_SRC_ETCD | VET_SRC_API)) && !vet_node_has_files(p->node)) {
        char *esc = vet_text_escape(root, 0);
        fprintf(stderr, "kubevet: no Kubernetes files under %s: wrong --root?\n", esc ? esc : "?");
        free(esc);
        return 1;
    }
    return 0;
}

int cli_pki_command(int argc, char **argv, cli_globals *g, const char *command, int list,
                    const char *syn, const char *desc, const char *const *prefixes,
                    unsigned sources)
{
    cli_pki p;
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
    rc = cli_pki_load(&p, &pos, g, &ctx, &r);
    if (!rc && cli_pki_unusable(&p, &r, pos.n, sources)) {
        code = 3;
        goto done;
    }
    if (rc || (!list && (rc = vet_check_run(&ctx, &r, sources, prefixes))) ||
        (rc = cli_pki_describe(&p, &r, g->at))) {
        code = cli_fail(rc);
        goto done;
    }
    if (list && (!g->output || !strcmp(g->output, "text"))) {
        print_node_line(&p);
        print_inventory(&p, g->at);
        for (size_t i = 0; i < r.errors.n; i++) {
            fputs("kubevet: ", stderr);
            vet_text_fputs(r.errors.v[i], stderr, 0);
            fputc('\n', stderr);
        }
        code = vet_report_exit_code(&r, g->fail_on);
    } else {
        if (!g->output || !strcmp(g->output, "text"))
            print_node_line(&p);
        /* The inventory is for `certs list`; check's JSON keeps it for tooling all the same. */
        code = cli_emit(&r, g);
    }
done:
    vet_report_free(&r);
    cli_pki_free(&p);
    vet_strv_free(&pos);
    return code;
}
