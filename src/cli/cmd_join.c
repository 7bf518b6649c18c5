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

static int render(const void *p, FILE *out, int color)
{
    return vet_join_plan_render_text(p, out, color);
}

static int plan(int argc, char **argv, cli_globals *g)
{
    const char *name = NULL, *address = NULL, *key = NULL, *token = NULL, *margin = NULL;
    int cp = 0, rc, code, have_r = 0;
    vet_strv pos = VET_STRV_INIT;
    json_t *secret = NULL;
    vet_join_plan *p = NULL;
    vet_buf ca = VET_BUF_INIT;
    vet_join_opts jo;
    vet_report r;
    vet_ctx ctx;
    cli_plan_src src;
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
    memset(&src, 0, sizeof src);
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    jo.certs_margin = 15 * 60;
    if (pos.n) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "join plan takes no paths"));
        goto out;
    }
    if ((rc = cli_duration_arg(&jo.certs_margin, "certs-margin", margin)) ||
        (rc = vet_report_init(&r, "join plan", g->at)))
        goto fail;
    have_r = 1;
    if ((rc = cli_plan_sources(&src, g, CLI_PLAN_API_DEFAULT, &ctx, &r)))
        goto fail;
    if (g->root && !vet_fs_read_in_root(&ca, g->root, "etc/kubernetes/pki/ca.crt", 1u << 20)) {
        jo.ca_pem = (const unsigned char *)ca.ptr;
        jo.ca_len = ca.size;
        jo.ca_source = "etc/kubernetes/pki/ca.crt";
    }
    if (src.api) {
        if (!jo.ca_pem && src.api->cluster_info_ca.len) {
            jo.ca_pem = src.api->cluster_info_ca.data;
            jo.ca_len = src.api->cluster_info_ca.len;
            jo.ca_source = "kube-public/cluster-info";
        }
        if (cp && key &&
            (rc = vet_k8s_get(&secret, src.k8s,
                              "/api/v1/namespaces/kube-system/secrets/kubeadm-certs")) &&
            rc != VET_ENOTFOUND)
            goto fail;
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
    code = cli_plan_emit(&r, g, render, p);
    goto out;
fail:
    code = cli_fail(rc);
out:
    vet_join_plan_free(p);
    json_decref(secret);
    cli_plan_sources_free(&src);
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
