/* What `upgrade plan` and `join plan` read before they judge anything, and how they print. Both
 * commands plan a change to a running cluster from the same sources: the node under --root, the
 * cluster through its API (the client stays open: join reads kubeadm-certs, upgrade the Helm
 * records), and live etcd. A plan must say what it judged, so each source is loaded only when it
 * was named (the API may also come from kubectl's defaults, for join). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/k8s.h"
#include "vtime.h"

int cli_duration_arg(int64_t *out, const char *flag, const char *text)
{
    if (text && vet_duration_parse(out, text))
        return vet_error_set(VET_EUSAGE, "--%s: want a duration such as 15m, 24h or 7d, not \"%s\"",
                             flag, text);
    return 0;
}

int cli_plan_sources(cli_plan_src *s, cli_globals *g, int api_mode, vet_ctx *ctx, vet_report *r)
{
    int rc;
    ctx->now = g->at;
    if (g->root) {
        vet_strv none = VET_STRV_INIT;
        if ((rc = cli_pki_load(&s->pki, &none, g, ctx, r)))
            return rc;
        s->sources |= VET_SRC_NODE;
    }
    if (api_mode == CLI_PLAN_API_DEFAULT || g->kubeconfig || g->context) {
        rc = cli_k8s_connect(&s->k8s, g);
        /* kubectl's defaults found nothing: the plan goes on without the cluster */
        if (rc == VET_ENOTFOUND && api_mode == CLI_PLAN_API_DEFAULT && !g->kubeconfig &&
            !g->context)
            rc = 0;
        if (rc)
            return rc;
        if (s->k8s) {
            if ((rc = vet_api_gather(&s->api, s->k8s)))
                return rc;
            ctx->api = s->api;
            s->sources |= VET_SRC_API;
        }
    }
    if (g->etcd_endpoints) {
        vet_etcd *c = NULL;
        if (!(rc = cli_etcd_connect(&c, g)))
            rc = vet_etcd_status(&s->etcd, c);
        vet_etcd_free(c);
        if (rc)
            return rc;
        ctx->etcd = s->etcd;
        s->sources |= VET_SRC_ETCD;
    }
    return 0;
}

void cli_plan_sources_free(cli_plan_src *s)
{
    vet_api_facts_free(s->api);
    vet_etcd_facts_free(s->etcd);
    vet_k8s_free(s->k8s);
    cli_pki_free(&s->pki);
    memset(s, 0, sizeof *s);
}

int cli_plan_emit(vet_report *r, cli_globals *g,
                  int (*render)(const void *plan, FILE *out, int color), const void *plan)
{
    if (g->output && strcmp(g->output, "text"))
        return cli_emit(r, g);
    render(plan, stdout, g->color);
    for (size_t i = 0; i < r->errors.n; i++)
        printf("ERROR    %s\n", r->errors.v[i]);
    return vet_report_exit_code(r, g->fail_on);
}
