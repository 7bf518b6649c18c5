/* kubevet certs renew [NAME...|all]: re-issue leaf certificates from the CA already on disk,
 * as a plan (dry-run table + diff) that --apply hands to the plan engine.
 *
 * What kubeadm's own `certs renew` does not: kubelet.conf (issued as this node, whatever it
 * held: incident 1), cfssl pairs given as paths (incident 4), new SANs (incident 5), and never
 * a new CA (incident 3's outage came from `kubeadm init phase certs all` minting one). */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "error.h"
#include "fs.h"
#include "kubevet/check.h"
#include "kubevet/node.h"
#include "kubevet/plan.h"
#include "parallel.h"
#include "cmd_certs_renew.h"
#include "vtime.h"

static const char synopsis[] =
    "  kubevet certs renew NAME...|all [--root DIR] [--add-san NAME|IP]... [--days N]\n"
    "                      [--keep-key] [--apply [--restart-static-pods]]";

static const char description[] =
    "Re-issues certificates from the CA already on disk (never a new CA). NAMEs are kubeadm's:\n"
    "apiserver, apiserver-kubelet-client, apiserver-etcd-client, front-proxy-client,\n"
    "etcd-server, etcd-peer, etcd-healthcheck-client, admin.conf, super-admin.conf,\n"
    "controller-manager.conf, scheduler.conf ('all' is these), plus kubelet.conf (issued as\n"
    "system:node:<this node>, O=system:nodes) and any PEM certificate given as a path (its key\n"
    "beside it: x.pem + x-key.pem or x.crt + x.key; its CA in the same folder).\n"
    "Subject, key usages and key type are kept; SANs are the old ones, what kubeadm would put\n"
    "and --add-san. Without --apply, prints a table and the plan and changes nothing. With\n"
    "--apply: backup folder, atomic writes, the PKI checks re-run on the result, and rollback\n"
    "if a new critical finding appears. Exit 3 (nothing written) for an unknown NAME, a CA\n"
    "without its key (external CA: the CSR steps are printed), or a CA that expires first.";

/* kubeadm's `certs renew` names (cmd/kubeadm/app/phases/certs/renewal), in its order. */
static const renew_name kubeadm_names[] = {
    {"apiserver", "apiserver", NULL, "kube-apiserver", RENEW_SANS_APISERVER},
    {"apiserver-kubelet-client", "apiserver-kubelet-client", NULL, "kube-apiserver", 0},
    {"apiserver-etcd-client", "apiserver-etcd-client", NULL, "kube-apiserver", 0},
    {"front-proxy-client", "front-proxy-client", NULL, "kube-apiserver", 0},
    {"etcd-server", "etcd-server", NULL, "etcd", RENEW_SANS_ETCD},
    {"etcd-peer", "etcd-peer", NULL, "etcd", RENEW_SANS_ETCD},
    {"etcd-healthcheck-client", "etcd-healthcheck-client", NULL, NULL, 0},
    {"admin.conf", NULL, "admin.conf", NULL, 0},
    {"super-admin.conf", NULL, "super-admin.conf", NULL, 0},
    {"controller-manager.conf", NULL, "controller-manager.conf", "kube-controller-manager", 0},
    {"scheduler.conf", NULL, "scheduler.conf", "kube-scheduler", 0},
    {NULL, NULL, NULL, NULL, 0},
};
static const renew_name kubelet_name = {"kubelet.conf", NULL, "kubelet.conf", NULL,
                                        RENEW_NODE_IDENTITY};

static const renew_name *find_name(const char *s)
{
    for (const renew_name *n = kubeadm_names; n->name; n++)
        if (!strcmp(n->name, s))
            return n;
    return !strcmp(s, kubelet_name.name) ? &kubelet_name : NULL;
}

static int is_path(const char *s)
{
    struct stat st;
    return strchr(s, '/') || (stat(s, &st) == 0 && S_ISREG(st.st_mode));
}

/* ---- after writing: the PKI checks must not find a new critical ---- */

/* The facts the checks judged before the change. After writing, the executor has read every
 * file back byte for byte, so the renewed files hold exactly the certificates in memory: the
 * re-check swaps them into these facts and judges again, re-verifying only their chains,
 * instead of loading the node a second time. */
typedef struct {
    renew_run *run;
    vet_certset files; /* the certificate files given as paths, loaded once */
    vet_strv before;   /* "KV104 subject" of every critical before the change */
} verify_arg;

/* One entry whose certificate (and key, when new) a renewal replaced, and what it held. */
typedef struct {
    vet_cert_entry *e;
    vet_cert_entry saved;
} swapped;

/* Critical KV1xx findings of the facts as they are in memory: pairs "ID subject", message. */
static int criticals(vet_strv *out, renew_run *run, vet_certset *files)
{
    vet_report r;
    vet_ctx ctx;
    static const char *const kv1[] = {"KV1", NULL};
    int rc;
    memset(&ctx, 0, sizeof ctx);
    if ((rc = vet_report_init(&r, "certs renew", run->now)))
        return rc;
    ctx.now = run->now;
    ctx.warn_within = 30 * 86400;
    ctx.node = run->node;
    ctx.files = files && files->n ? files : NULL;
    rc = vet_check_run(&ctx, &r, VET_SRC_NODE | VET_SRC_FILES, kv1);
    for (size_t i = 0; !rc && i < r.nfindings; i++)
        if (r.findings[i].severity == VET_SEV_CRITICAL) {
            char *k = vet_strdupf("%s %s", r.findings[i].id, r.findings[i].subject);
            char *m = vet_strdupf("%s %s: %s", r.findings[i].id, r.findings[i].subject,
                                  r.findings[i].message ? r.findings[i].message : "");
            rc = k && m && !vet_strv_take(out, k) ? vet_strv_take(out, m) : VET_ENOMEM;
            if (!k || !m) {
                free(k);
                free(m);
            }
        }
    vet_report_free(&r);
    return rc;
}

/* Before the change: the given files loaded (the node was loaded by renew_prepare), every
 * chain verified once, and the criticals noted. */
static int verify_before(verify_arg *va)
{
    renew_run *run = va->run;
    int rc = 0;
    if (run->paths.n &&
        (rc = vet_certset_load_paths(&va->files, (const char *const *)run->paths.v, run->paths.n)))
        return rc;
    if ((rc = vet_node_verify_chains(run->node, run->paths.n ? &va->files : NULL)))
        return rc;
    return criticals(&va->before, run, &va->files);
}

/* Put each renewed certificate where the facts held the old one. Node targets borrow the
 * node's own entry; path targets parsed their file apart from the certset, so the entry is
 * the one holding the same certificate. */
static size_t swap_in(swapped *sw, verify_arg *va)
{
    renew_run *run = va->run;
    size_t n = 0;
    for (size_t i = 0; i < run->n; i++) {
        renew_target *t = &run->v[i];
        vet_certset *set = t->name ? (run->node ? &run->node->certs : NULL) : &va->files;
        for (size_t k = 0; set && k < set->n; k++) {
            vet_cert_entry *e = &set->v[k];
            if (!(t->name ? e->cert == t->old : vet_cert_equal(e->cert, t->old)))
                continue;
            sw[n].e = e;
            sw[n].saved = *e;
            e->cert = t->issued;
            if (t->new_key)
                e->key = t->new_key;
            n++;
        }
    }
    return n;
}

static void swap_out(swapped *sw, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *sw[i].e = sw[i].saved;
}

static int verify_after(const vet_plan *p, size_t step, void *arg)
{
    verify_arg *va = arg;
    renew_run *run = va->run;
    vet_strv after = VET_STRV_INIT;
    size_t cap = (run->node ? run->node->certs.n : 0) + va->files.n, n = 0;
    swapped *sw = NULL;
    vet_cert_entry **only = NULL;
    int rc;
    if (step < vet_plan_count(p))
        return 0; /* the executor read each file back; the checks judge the whole result */
    sw = calloc(cap + 1, sizeof *sw);
    only = calloc(cap + 1, sizeof *only);
    if (!sw || !only) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    n = swap_in(sw, va);
    for (size_t i = 0; i < n; i++)
        only[i] = sw[i].e;
    if (!(rc = vet_node_verify_entries(run->node, run->paths.n ? &va->files : NULL, only, n)))
        rc = criticals(&after, run, &va->files);
    /* after holds pairs: key, message */
    for (size_t i = 0; !rc && i + 1 < after.n; i += 2)
        if (vet_strv_find(&va->before, after.v[i], 0) < 0) {
            rc = vet_error_set(VET_EINPUT, "the renewed files raise a new critical finding: %s",
                               after.v[i + 1]);
            break;
        }
done:
    swap_out(sw, n);
    free(sw);
    free(only);
    vet_strv_free(&after);
    return rc;
}

/* ---- output ---- */

static void print_table(const renew_run *run)
{
    vet_table *t = NULL;
    const char *hdr[] = {"NAME", "OLD NOT AFTER", "NEW NOT AFTER", "SANS ADDED",
                         "KEY",  "SIGNER",        "RESTART"};
    if (vet_table_new(&t, 7, hdr))
        return;
    for (size_t i = 0; i < run->n; i++) {
        const renew_target *tg = &run->v[i];
        char oa[32], na[32];
        vet_buf sans = VET_BUF_INIT;
        const char *cells[7];
        vet_time_format(oa, vet_cert_not_after(tg->old));
        vet_time_format(na, vet_cert_not_after(tg->issued));
        for (size_t s = 0; s < tg->added.n; s++)
            vet_buf_printf(&sans, "%s%s", s ? "," : "", tg->added.v[s]);
        cells[0] = tg->label;
        cells[1] = oa;
        cells[2] = na;
        cells[3] = sans.size ? sans.ptr : "-";
        cells[4] = tg->new_key ? "new" : "kept";
        cells[5] = tg->ca_label;
        cells[6] = tg->restart ? tg->restart : "-";
        vet_table_row(t, cells);
        vet_buf_free(&sans);
    }
    vet_table_print(t, stdout);
    vet_table_free(t);
}

static json_t *renewals_json(const renew_run *run)
{
    json_t *a = json_array();
    for (size_t i = 0; i < run->n; i++) {
        const renew_target *tg = &run->v[i];
        char oa[32], na[32], nb[32];
        json_t *o = json_object(), *sans = json_array();
        vet_time_format(oa, vet_cert_not_after(tg->old));
        vet_time_format(na, vet_cert_not_after(tg->issued));
        vet_time_format(nb, vet_cert_not_before(tg->issued));
        for (size_t s = 0; s < tg->added.n; s++)
            json_array_append_new(sans, json_string(tg->added.v[s]));
        json_object_set_new(o, "name", json_string(tg->label));
        json_object_set_new(o, "path", json_string(tg->cert_rel));
        json_object_set_new(o, "subject", json_string(vet_cert_subject(tg->issued)));
        json_object_set_new(o, "old_not_after", json_string(oa));
        json_object_set_new(o, "new_not_before", json_string(nb));
        json_object_set_new(o, "new_not_after", json_string(na));
        json_object_set_new(o, "sans_added", sans);
        json_object_set_new(o, "key_type", json_string(vet_cert_key_type(tg->issued)));
        json_object_set_new(o, "new_key", json_boolean(tg->new_key != NULL));
        json_object_set_new(o, "signer", json_string(tg->ca_label));
        json_object_set_new(o, "restart", tg->restart ? json_string(tg->restart) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* The static pods (and the kubelet) that read the renewed files, each once. */
static void restarts(vet_strv *pods, int *kubelet, const renew_run *run)
{
    *kubelet = 0;
    for (size_t i = 0; i < run->n; i++) {
        if (run->v[i].name && (run->v[i].name->flags & RENEW_NODE_IDENTITY))
            *kubelet = 1;
        if (run->v[i].restart && strcmp(run->v[i].restart, "kubelet") &&
            vet_strv_find(pods, run->v[i].restart, 0) < 0)
            vet_strv_push(pods, run->v[i].restart);
    }
}

static void print_restart_advice(const renew_run *run, const vet_strv *pods, int kubelet)
{
    const char *r = strcmp(run->root, "/") ? run->root : "";
    if (!pods->n && !kubelet)
        return;
    printf("\nRestart what reads the new files (the kubelet restarts a static pod whose manifest "
           "leaves its folder and comes back; it checks every 20s):\n");
    for (size_t i = 0; i < pods->n; i++)
        printf("  mv %s/etc/kubernetes/manifests/%s.yaml %s/etc/kubernetes/ && sleep 20 && "
               "mv %s/etc/kubernetes/%s.yaml %s/etc/kubernetes/manifests/\n",
               r, pods->v[i], r, r, pods->v[i], r);
    if (kubelet)
        printf("  systemctl restart kubelet\n");
    if (pods->n)
        printf("(or run again with --apply --restart-static-pods)\n");
}

int cmd_certs_renew(int argc, char **argv, cli_globals *g)
{
    renew_run run;
    vet_strv pos = VET_STRV_INIT, pods = VET_STRV_INIT;
    const char *days_s = NULL, *wait_s = NULL, *timeout_s = NULL;
    int apply = 0, restart = 0, keep_key = 0, code = 0, rc, kubelet = 0, json;
    vet_plan *plan = NULL;
    vet_plan_result res;
    verify_arg va;
    vet_strv add_san = VET_STRV_INIT;
    memset(&run, 0, sizeof run);
    memset(&res, 0, sizeof res);
    memset(&va, 0, sizeof va);
    const cli_opt opts[] = {
        {"add-san", 0, CLI_MULTI, &add_san, "NAME|IP",
         "a SAN for the serving certificates renewed (repeatable, or comma-separated)"},
        {"days", 0, CLI_STR, &days_s, "N", "validity in days (default 365; never past the CA's)"},
        {"keep-key", 0, CLI_FLAG, &keep_key, NULL, "keep each private key (kubeadm's way)"},
        {"apply", 0, CLI_FLAG, &apply, NULL, "write the plan (default: show it)"},
        {"restart-static-pods", 0, CLI_FLAG, &restart, NULL,
         "after --apply, move the affected static pod manifests out and back"},
        {"restart-wait", 0, CLI_STR, &wait_s, "SECONDS",
         "how long manifests stay out at most (default 20: the kubelet's file check period); "
         "with a kubeconfig, until the mirror pods are gone"},
        {"restart-timeout", 0, CLI_STR, &timeout_s, "SECONDS",
         "with a kubeconfig, how long to wait for each mirror pod's kubernetes.io/config.hash "
         "(or uid) to change once its manifest is back (default 300)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    code = 0;
    json = g->output && !strcmp(g->output, "json");
    run.days = 365;
    if (days_s) {
        char *end = NULL;
        long d = strtol(days_s, &end, 10);
        if (!end || *end || d < 1 || d > 36500) {
            fprintf(stderr, "kubevet: --days %s: want a number of days from 1 to 36500\n", days_s);
            code = 2;
            goto out;
        }
        run.days = (int)d;
    }
    if (!pos.n) {
        fprintf(stderr, "kubevet: certs renew: name the certificates (or 'all'); see --help\n");
        code = 2;
        goto out;
    }
    run.keep_key = keep_key;
    run.now = (int64_t)time(NULL);
    run.root = g->root ? g->root : "/";
    run.node_name_flag = g->node_name;
    for (size_t i = 0; i < add_san.n; i++)
        for (char *s = add_san.v[i]; *s;) {
            size_t l = strcspn(s, ",");
            if (l)
                vet_strv_pushn(&run.add_san, s, l);
            s += l + (s[l] == ',');
        }
    /* Every name is judged before anything is read or written. */
    for (size_t i = 0; i < pos.n; i++) {
        if (!strcmp(pos.v[i], "all")) {
            run.node_mode = 1;
            continue;
        }
        if (find_name(pos.v[i])) {
            run.node_mode = 1;
            continue;
        }
        if (is_path(pos.v[i])) {
            vet_strv_push(&run.paths, pos.v[i]);
            continue;
        }
        fprintf(stderr,
                "kubevet: certs renew: unknown certificate name \"%s\" (kubeadm's names, "
                "kubelet.conf, 'all', or a path to a PEM certificate)\n",
                pos.v[i]);
        code = 3;
        goto out;
    }
    if (g->root)
        run.node_mode = 1;
    if ((rc = renew_prepare(&run, (const char *const *)pos.v, pos.n, kubeadm_names, find_name))) {
        code = cli_fail(rc);
        if (run.refusal.n && !json) {
            /* The CSR steps: safe with an external CA, and what to do instead. */
            printf("kubevet never signs without the CA's key. With an external CA, renew "
                   "through it:\n");
            for (size_t i = 0; i < run.refusal.n; i++)
                printf("  %s\n", run.refusal.v[i]);
        }
        goto out;
    }
    if ((rc = renew_build_plan(&plan, &run))) {
        code = cli_fail(rc);
        goto out;
    }
    if (!apply) {
        if (json) {
            json_t *o = json_pack("{s:s,s:b}", "root", run.root, "applied", 0);
            json_object_set_new(o, "renewals", renewals_json(&run));
            json_object_set_new(o, "plan", vet_plan_to_json(plan));
            cli_plan_emit_json(g, "certs renew", o, NULL);
        } else {
            if (run.node_name)
                printf("node %s, root %s\n\n", run.node_name, run.root);
            print_table(&run);
            printf("\nPlan (dry run: nothing is written without --apply):\n");
            vet_plan_render_text(plan, stdout);
            for (size_t i = 0; i < run.notes.n; i++)
                printf("note: %s\n", run.notes.v[i]);
        }
        goto out;
    }
    /* --apply */
    va.run = &run;
    if ((rc = verify_before(&va))) {
        code = cli_fail(rc);
        goto out;
    }
    {
        vet_plan_apply_opts ao = {verify_after, NULL, &va, 0, NULL, NULL, NULL, NULL, NULL};
        rc = vet_plan_apply(plan, &ao, &res);
    }
    if (rc) {
        code = cli_fail(rc);
        if (res.backup_dir)
            fprintf(stderr, "kubevet: the backup made first stays in %s\n", res.backup_dir);
        goto out;
    }
    restarts(&pods, &kubelet, &run);
    if (json) {
        json_t *o = json_pack("{s:s,s:b,s:s}", "root", run.root, "applied", 1, "backup",
                              res.backup_dir ? res.backup_dir : "");
        json_t *pj = json_array();
        for (size_t i = 0; i < pods.n; i++)
            json_array_append_new(pj, json_string(pods.v[i]));
        json_object_set_new(o, "renewals", renewals_json(&run));
        json_object_set_new(o, "restart_static_pods", pj);
        json_object_set_new(o, "restart_kubelet", json_boolean(kubelet));
        cli_plan_emit_json(g, "certs renew", o, NULL);
    } else {
        print_table(&run);
        printf("\nRenewed %zu certificate(s). Backup: %s\n(undo with: kubevet restore %s "
               "--apply)\n",
               run.n, res.backup_dir ? res.backup_dir : "-", res.backup_dir ? res.backup_dir : "-");
    }
    if (restart && pods.n) {
        unsigned wait = wait_s ? (unsigned)strtoul(wait_s, NULL, 10) : 20;
        unsigned limit = timeout_s ? (unsigned)strtoul(timeout_s, NULL, 10) : 300;
        if ((rc = renew_restart_pods(g, &run, &pods, wait, limit, json))) {
            code = cli_fail(rc);
            goto out;
        }
        if (kubelet && !json)
            printf("\nRestart the kubelet too:\n  systemctl restart kubelet\n");
    } else if (!json) {
        print_restart_advice(&run, &pods, kubelet);
    }
out:
    vet_plan_result_clear(&res);
    vet_plan_free(plan);
    renew_run_clear(&run);
    vet_strv_free(&va.before);
    vet_certset_clear(&va.files);
    vet_strv_free(&pos);
    vet_strv_free(&pods);
    vet_strv_free(&add_san);
    return code;
}
