/* kubevet join plan: the credentials, etcd arithmetic, endpoint and SANs a `kubeadm join` needs,
 * checked against the cluster before the join runs, and the exact command. Changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "fs.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/k8s.h"
#include "kubevet/upgrade.h"
#include "vtime.h"

static const char synopsis[] =
    "  kubevet join plan [--control-plane] [--name NAME --address IP]\n"
    "      [--certificate-key KEY] [--token TOKEN] [--kubeconfig FILE] [--root DIR]\n"
    "      [--etcd-endpoints URLS]";

static const char description[] =
    "Checks what a kubeadm join needs before it runs: a valid bootstrap token (given, or the "
    "live ones), for --control-plane the kubeadm-certs Secret (present, not about to expire, "
    "and decrypted by --certificate-key), the etcd member count before and after (a voting add "
    "that can lose quorum is KV301, with the learner path), controlPlaneEndpoint (KV203) and the "
    "apiserver SANs (KV107/KV204); computes --discovery-token-ca-cert-hash from ca.crt (--root) "
    "or cluster-info. Prints the exact kubeadm join command, or why it is refused, and the checks "
    "to run after. A token or key is printed only when it was given as a flag.";

static int plan(int argc, char **argv, cli_globals *g)
{
    const char *name = NULL, *address = NULL, *key = NULL, *token = NULL, *margin = NULL;
    int cp = 0, rc, code, have_r = 0;
    vet_strv pos = VET_STRV_INIT;
    vet_k8s *k = NULL;
    vet_api_facts *api = NULL;
    vet_etcd_facts *etcd = NULL;
    json_t *secret = NULL;
    vet_join_plan *p = NULL;
    vet_buf ca = VET_BUF_INIT;
    vet_join_opts jo;
    vet_report r;
    vet_ctx ctx;
    cli_pki pki;
    const cli_opt opts[] = {
        {"control-plane", 0, CLI_FLAG, &cp, NULL, "the new node joins the control plane"},
        {"name", 0, CLI_STR, &name, "NAME", "the new node's name"},
        {"address", 0, CLI_STR, &address, "IP", "the new node's advertise address"},
        {"certificate-key", 0, CLI_STR, &key, "KEY",
         "the key from 'kubeadm init phase upload-certs --upload-certs' (checked by decrypting)"},
        {"token", 0, CLI_STR, &token, "TOKEN", "the bootstrap token to use (else the live ones)"},
        {"certs-margin", 0, CLI_STR, &margin, "DURATION",
         "a kubeadm-certs Secret expiring sooner is KV207 (default 15m)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    memset(&jo, 0, sizeof jo);
    memset(&ctx, 0, sizeof ctx);
    memset(&pki, 0, sizeof pki);
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    jo.certs_margin = 15 * 60;
    if (pos.n || (margin && vet_duration_parse(&jo.certs_margin, margin))) {
        code = cli_fail(vet_error_set(VET_EUSAGE, pos.n ? "join plan takes no paths"
                                                        : "--certs-margin: want a duration"));
        goto out;
    }
    if ((rc = vet_report_init(&r, "join plan", g->at)))
        goto fail;
    have_r = 1;
    ctx.now = g->at;
    if (g->root) {
        vet_strv none = VET_STRV_INIT;
        if ((rc = cli_pki_load(&pki, &none, g, &ctx, &r)))
            goto fail;
        if (!vet_fs_read_in_root(&ca, g->root, "etc/kubernetes/pki/ca.crt", 1u << 20)) {
            jo.ca_pem = (const unsigned char *)ca.ptr;
            jo.ca_len = ca.size;
            jo.ca_source = "etc/kubernetes/pki/ca.crt";
        }
    }
    if ((rc = cli_k8s_connect(&k, g)) && rc != VET_ENOTFOUND)
        goto fail;
    if (k) {
        if ((rc = vet_api_gather(&api, k)))
            goto fail;
        ctx.api = api;
        if (!jo.ca_pem && api->cluster_info_ca.len) {
            jo.ca_pem = api->cluster_info_ca.data;
            jo.ca_len = api->cluster_info_ca.len;
            jo.ca_source = "kube-public/cluster-info";
        }
        if (cp && key &&
            (rc =
                 vet_k8s_get(&secret, k, "/api/v1/namespaces/kube-system/secrets/kubeadm-certs")) &&
            rc != VET_ENOTFOUND)
            goto fail;
    }
    if (g->etcd_endpoints) {
        vet_etcd *c = NULL;
        if (!(rc = cli_etcd_connect(&c, g)))
            rc = vet_etcd_status(&etcd, c);
        vet_etcd_free(c);
        if (rc)
            goto fail;
        ctx.etcd = etcd;
    }
    jo.ctx = &ctx;
    jo.control_plane = cp;
    jo.name = name;
    jo.address = address;
    jo.token = token;
    jo.certificate_key = key;
    jo.kubeadm_certs = secret;
    if ((rc = vet_join_plan_build(&p, &jo, &r)))
        goto fail;
    vet_report_set(&r, "join", vet_join_plan_json(p));
    if (!g->output || !strcmp(g->output, "text")) {
        vet_join_plan_render_text(p, stdout, g->color);
        code = vet_report_exit_code(&r, g->fail_on);
    } else
        code = cli_emit(&r, g);
    goto out;
fail:
    code = cli_fail(rc);
out:
    vet_join_plan_free(p);
    json_decref(secret);
    vet_api_facts_free(api);
    vet_etcd_facts_free(etcd);
    vet_k8s_free(k);
    cli_pki_free(&pki);
    vet_buf_free(&ca);
    if (have_r)
        vet_report_free(&r);
    vet_strv_free(&pos);
    return code;
}

int cmd_join(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd sub[] = {
        {"plan", plan, "check a kubeadm join before it runs and print the exact command"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(sub, "join", argc, argv, g);
}
