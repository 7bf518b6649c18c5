/* The node and path sources for `check` and `certs`, and the certificate inventory rows. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "kubevet/check.h"
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
