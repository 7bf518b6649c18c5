/* kubevet upgrade plan: every hop kubeadm needs to reach --to, each hop's blockers from every
 * source given (node root, API, etcd, manifests, an etcd snapshot) and its runbook. Changes
 * nothing. Sources are used only when named (--root, --kubeconfig, --etcd-endpoints,
 * --snapshot, paths): a plan must say what it judged. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"
#include "kubevet/manifest.h"
#include "kubevet/node.h"
#include "kubevet/snapshot.h"
#include "kubevet/upgrade.h"
#include "vtime.h"

static const char synopsis[] =
    "  kubevet upgrade plan --to VERSION [--from V] [--root DIR] [--kubeconfig FILE]\n"
    "      [--etcd-endpoints URLS] [--snapshot FILE] [--max-backup-age 24h]\n"
    "      [--at TIME] [--window DURATION] [--releases FILE] [PATH...]";

static const char description[] =
    "Lists the hops kubeadm needs to reach VERSION (one minor at a time, each to the newest "
    "patch the release data knows, the last to VERSION) and, for each hop, its blockers as "
    "findings, root cause first, then the runbook: backup, kubeadm on the first control-plane "
    "node, the other control-plane nodes, drain/upgrade/uncordon per node, the checks to pass "
    "before the next hop, and how to roll back. A hop with a critical blocker is refused: it "
    "prints why, not its steps.\n"
    "Sources: --root (a node's files), --kubeconfig (the cluster and its Helm v2/v3 release "
    "records), --etcd-endpoints, --snapshot (an etcd snapshot: objects stored at removed "
    "versions, the Helm records when there is no --kubeconfig, and the backup itself), PATH "
    "(manifests). --from defaults to the apiserver's version, else the kube-apiserver static "
    "pod's under --root. Changes nothing. Exit 1 when a hop has a blocker at or above --fail-on.";

typedef struct {
    const char *to, *from, *releases, *snapshot, *max_age, *window, *warn_within;
} upgrade_opts;

static int load_snapshot(vet_snapshot **s, vet_snapshot_facts **facts, vet_upgrade_opts *uo,
                         const char *path)
{
    vet_snapshot_info in;
    struct stat st;
    int ok = 0, rc;
    if ((rc = vet_snapshot_open(s, path)) || (rc = vet_snapshot_verify(*s, &in, &ok)) ||
        (rc = vet_snapshot_facts_load(facts, *s)))
        return rc;
    if (stat(path, &st))
        return vet_error_set(VET_EIO, "%s: cannot stat", path);
    uo->snapshot_given = 1;
    uo->snapshot_ok = ok;
    uo->snapshot_time = (int64_t)st.st_mtime;
    uo->snapshot_name = path;
    return 0;
}

/* Helm release records (KV405 per hop): the live ones when the API is a source, else those
 * stored in the snapshot. Gathered once for the final target: an API the last hop still serves
 * is served by every hop before it (APIs are removed, never re-added), so releases that keep no
 * scan need none on any hop. Lists that failed (forbidden) are input errors of the report. */
static int load_helm(vet_helm_facts **out, const cli_plan_src *src, const char *snapshot,
                     const upgrade_opts *a, const vet_catalog *cat, vet_report *r)
{
    vet_helm_opts ho;
    int rc;
    memset(&ho, 0, sizeof ho);
    ho.catalog = cat;
    ho.target = a->to;
    if (src->k8s)
        rc = vet_helm_gather_api(out, src->k8s, &ho);
    else if (snapshot)
        rc = vet_helm_gather_snapshot(out, snapshot, &ho);
    else
        return 0;
    for (size_t i = 0; !rc && i < (*out)->errors.n; i++)
        rc = vet_report_error(r, (*out)->errors.v[i]);
    return rc;
}

static int render(const void *p, FILE *out, int color)
{
    return vet_upgrade_plan_render_text(p, out, color);
}

static int plan(int argc, char **argv, cli_globals *g)
{
    upgrade_opts a;
    vet_upgrade_opts uo;
    vet_strv pos = VET_STRV_INIT;
    vet_releases *rel = NULL;
    vet_catalog *cat = NULL;
    vet_manifest_scan *scan = NULL;
    vet_snapshot *snap = NULL;
    vet_snapshot_facts *sfacts = NULL;
    vet_helm_facts *helm = NULL;
    vet_upgrade_plan *p = NULL;
    vet_report r;
    vet_ctx ctx;
    cli_plan_src src;
    char from_buf[64];
    int rc, code, have_r = 0;
    memset(&a, 0, sizeof a);
    memset(&uo, 0, sizeof uo);
    memset(&ctx, 0, sizeof ctx);
    memset(&src, 0, sizeof src);
    const cli_opt opts[] = {
        {"to", 0, CLI_STR, &a.to, "VERSION", "the version to reach (required)"},
        {"from", 0, CLI_STR, &a.from, "VERSION",
         "the cluster's version (default: the apiserver's, else --root's kube-apiserver)"},
        {"releases", 0, CLI_STR, &a.releases, "FILE",
         "release data replacing the built-in data/releases.yaml"},
        {"snapshot", 0, CLI_STR, &a.snapshot, "FILE",
         "an etcd snapshot: the backup (KV305), the objects (KV406) and, without the API, the "
         "Helm records (KV405) it stores"},
        {"max-backup-age", 0, CLI_STR, &a.max_age, "DURATION",
         "the snapshot must be younger than this (default 24h)"},
        {"window", 0, CLI_STR, &a.window, "DURATION",
         "time between hops: date-dependent checks of hop N are judged at --at + N*DURATION"},
        {"warn-within", 0, CLI_STR, &a.warn_within, "DURATION",
         "warn about expiry within this window (default 30d)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    if (!a.to) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "upgrade plan needs --to VERSION"));
        goto out;
    }
    uo.max_backup_age = 24 * 3600;
    if ((rc = cli_duration_arg(&uo.max_backup_age, "max-backup-age", a.max_age)) ||
        (rc = cli_duration_arg(&uo.window, "window", a.window)) ||
        (rc = vet_report_init(&r, "upgrade plan", g->at)))
        goto fail;
    have_r = 1;
    if ((rc = a.releases ? vet_releases_load_file(&rel, a.releases)
                         : vet_releases_load_builtin(&rel)) ||
        (rc = vet_catalog_load_builtin(&cat)))
        goto fail;
    ctx.catalog = cat;
    ctx.releases = rel; /* KV502's skew policy and KV503's etcd come from the same data */
    src.pki.warn_within = a.warn_within;
    if ((rc = cli_plan_sources(&src, g, CLI_PLAN_API_NAMED, &ctx, &r)))
        goto fail;
    uo.sources = src.sources;
    for (size_t i = 0; src.api && i < src.api->nnodes; i++)
        if ((rc = vet_strv_push(src.api->nodes[i].control_plane ? &uo.cp_nodes : &uo.worker_nodes,
                                src.api->nodes[i].name)))
            goto fail;
    for (size_t i = 0; src.etcd && i < src.etcd->nmembers; i++)
        if (src.etcd->members[i].status_ok && src.etcd->members[i].version) {
            uo.have_etcd_version = 1;
            uo.etcd_version = src.etcd->members[i].version;
            break;
        }
    if (a.snapshot) {
        if ((rc = load_snapshot(&snap, &sfacts, &uo, a.snapshot)))
            goto fail;
        ctx.snapshot = sfacts;
    }
    if ((rc = load_helm(&helm, &src, a.snapshot, &a, cat, &r)))
        goto fail;
    if (helm) {
        ctx.helm = helm;
        uo.sources |= VET_SRC_HELM;
    }
    if (pos.n) {
        vet_manifest_opts mo;
        memset(&mo, 0, sizeof mo);
        mo.catalog = cat;
        if ((rc = vet_manifest_scan_new(&scan, &mo)) ||
            (rc = vet_manifest_scan_paths(scan, (const char *const *)pos.v, pos.n)))
            goto fail;
        for (size_t i = 0; i < vet_manifest_scan_nerrors(scan); i++)
            vet_report_error(&r, vet_manifest_scan_error(scan, i));
        ctx.manifests = scan;
        uo.sources |= VET_SRC_FILES;
    }
    uo.from = a.from;
    if (!uo.from && src.api && src.api->git_version)
        uo.from = src.api->git_version;
    if (!uo.from && g->root && !vet_upgrade_version_from_root(from_buf, sizeof from_buf, g->root))
        uo.from = from_buf;
    if (!uo.from) {
        rc = vet_error_set(VET_EUSAGE, "cannot tell the cluster's version: give --from, "
                                       "--kubeconfig, or --root of a control-plane node");
        goto fail;
    }
    uo.releases = rel;
    uo.ctx = &ctx;
    uo.to = a.to;
    if ((rc = vet_upgrade_plan_build(&p, &uo, &r)))
        goto fail;
    vet_report_set(&r, "plan", vet_upgrade_plan_json(p));
    code = cli_plan_emit(&r, g, render, p);
    goto out;
fail:
    code = cli_fail(rc);
out:
    vet_upgrade_plan_free(p);
    vet_strv_free(&uo.cp_nodes);
    vet_strv_free(&uo.worker_nodes);
    vet_manifest_scan_free(scan);
    vet_helm_facts_free(helm);
    vet_snapshot_facts_free(sfacts);
    vet_snapshot_close(snap);
    cli_plan_sources_free(&src);
    vet_catalog_free(cat);
    vet_releases_free(rel);
    if (have_r)
        vet_report_free(&r);
    vet_strv_free(&pos);
    return code;
}

int cmd_upgrade(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd sub[] = {
        {"plan", plan, "hops, blockers per hop and the runbook to reach --to VERSION"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(sub, "upgrade", argc, argv, g);
}
