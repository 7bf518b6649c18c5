/* kubevet etcd members|status|snapshot|plan: the live etcd, over its v3 HTTP gateway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cmd_etcd_snapshot.h"
#include "error.h"
#include "text.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/plan.h"
#include "kubevet/snapshot.h"

static const char *const etcd_checks[] = {"KV301", "KV302", "KV303", "KV304",
                                          "KV306", "KV503", NULL};

static int is_text(const cli_globals *g)
{
    return !g->output || !strcmp(g->output, "text");
}

/* go-humanize Bytes (what etcdctl prints): SI units. */
static const char *human(char *buf, size_t n, long long b)
{
    static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)b;
    int i = 0;
    if (b < 10) {
        snprintf(buf, n, "%lld B", b);
        return buf;
    }
    while (v >= 1000 && i < 5) {
        v /= 1000;
        i++;
    }
    snprintf(buf, n, v < 10 ? "%.1f %s" : "%.0f %s", v, u[i]);
    return buf;
}

int cli_etcd_connect(vet_etcd **out, cli_globals *g)
{
    vet_etcd_opts o;
    memset(&o, 0, sizeof o);
    o.endpoints = g->etcd_endpoints;
    o.cacert = g->etcd_cacert;
    o.cert = g->etcd_cert;
    o.key = g->etcd_key;
    o.root = g->root ? g->root : "/";
    return vet_etcd_connect(out, &o);
}

static void join(char *buf, size_t n, const vet_strv *sv)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sv->n && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? "," : "", sv->v[i]);
}

/* A table cell from etcd data, control characters escaped; the copy lives in arena. */
static const char *esc(vet_strv *arena, const char *s)
{
    char *e;
    if (!vet_text_needs_escape(s, strlen(s), 0))
        return s;
    if (!(e = vet_text_escape(s, 0)) || vet_strv_take(arena, e))
        return "?";
    return arena->v[arena->n - 1];
}

static void print_members(const vet_etcd_facts *f, int status)
{
    vet_strv ar = VET_STRV_INIT;
    static const char *const h1[] = {"NAME", "ID", "STATUS", "PEER URLS", "CLIENT URLS", "LEARNER"};
    static const char *const h2[] = {"NAME",       "ID",     "LEARNER", "VERSION",
                                     "DB SIZE",    "IN USE", "LEADER",  "RAFT TERM",
                                     "RAFT INDEX", "HEALTH", "ALARMS",  "CLIENT URLS"};
    vet_table *t = NULL;
    vet_etcd_quorum q;
    char *verdict;
    char hex[17];
    if (vet_table_new(&t, status ? 12 : 6, status ? h2 : h1))
        return;

    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        char peers[512], clients[512], db[32], use[32], term[24], idx[24], al[128];
        join(peers, sizeof peers, &m->peer_urls);
        join(clients, sizeof clients, &m->client_urls);
        vet_etcd_id_hex(hex, m->id);
        if (!status) {
            const char *c[] = {m->started ? esc(&ar, m->name) : "",
                               hex,
                               m->started ? "started" : "unstarted",
                               esc(&ar, peers),
                               esc(&ar, clients),
                               m->is_learner ? "true" : "false"};
            vet_table_row(t, c);
            continue;
        }
        join(al, sizeof al, &m->alarms);
        snprintf(term, sizeof term, "%llu", (unsigned long long)m->raft_term);
        snprintf(idx, sizeof idx, "%llu", (unsigned long long)m->raft_index);
        {
            const char *c[] = {m->started ? esc(&ar, m->name) : "(unstarted)",
                               hex,
                               m->is_learner ? "true" : "false",
                               m->status_ok ? esc(&ar, m->version) : "-",
                               m->status_ok ? human(db, sizeof db, m->db_size) : "-",
                               m->status_ok ? human(use, sizeof use, m->db_size_in_use) : "-",
                               m->status_ok ? (m->leader == m->id ? "true" : "false") : "-",
                               m->status_ok ? term : "-",
                               m->status_ok ? idx : "-",
                               m->healthy ? "healthy" : "unhealthy",
                               al[0] ? esc(&ar, al) : "-",
                               clients[0] ? esc(&ar, clients) : "-"};
            vet_table_row(t, c);
        }
    }
    printf("etcd cluster %s (via %s)\n", vet_etcd_id_hex(hex, f->cluster_id), f->endpoint);
    vet_table_print(t, stdout);
    vet_table_free(t);
    vet_etcd_quorum_of(&q, f);
    verdict = vet_etcd_verdict(&q);
    printf("\n%s\n", verdict ? verdict : "");
    if (status && !f->alarms_known) {
        printf("alarms unknown: ");
        vet_text_fputs(f->alarms_error ? f->alarms_error : "no answer", stdout, 0);
        printf("\n");
    }
    free(verdict);
    vet_strv_free(&ar);
}

static int run_checks(vet_etcd_facts *f, cli_globals *g, vet_report *r)
{
    vet_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.now = g->at;
    ctx.target = g->target;
    ctx.etcd = f;
    return vet_check_run(&ctx, r, VET_SRC_ETCD | VET_SRC_NODE, etcd_checks);
}

static int members_or_status(int argc, char **argv, cli_globals *g, int status)
{
    static const cli_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    vet_strv pos = VET_STRV_INIT;
    vet_etcd *c = NULL;
    vet_etcd_facts *f = NULL;
    vet_report r;
    int rc, code, have_r = 0;

    if ((code = cli_begin(
             argc, argv, opts, g, &pos,
             status ? "  kubevet etcd status [--etcd-endpoints URLS] [-o json]"
                    : "  kubevet etcd members [--etcd-endpoints URLS] [-o json]",
             status ? "Every member's status, health and alarms, the quorum verdict, and the "
                      "etcd checks\n(KV301-KV304, KV306, KV503 with --target). Endpoints and "
                      "TLS files default to the etcd\nstatic pod and kubeadm's client "
                      "certificates under --root."
                    : "The member list (name, ID as etcdctl prints it, peer and client URLs, "
                      "learner, started)\nand the quorum verdict, with the checks the list "
                      "alone allows.")) >= 0)
        goto done;
    if (pos.n) {
        code = cli_fail(
            vet_error_set(VET_EUSAGE, "etcd %s takes no arguments", status ? "status" : "members"));
        goto done;
    }
    if ((rc = cli_etcd_connect(&c, g)) ||
        (rc = status ? vet_etcd_status(&f, c) : vet_etcd_members(&f, c))) {
        code = cli_fail(rc);
        goto done;
    }
    if ((rc = vet_report_init(&r, status ? "etcd status" : "etcd members", g->at))) {
        code = cli_fail(rc);
        goto done;
    }
    have_r = 1;
    if ((rc = run_checks(f, g, &r))) {
        code = cli_fail(rc);
        goto done;
    }
    vet_report_sort(&r);
    vet_report_set(&r, "etcd", vet_etcd_facts_to_json(f));
    if (is_text(g)) {
        print_members(f, status);
        printf("\n");
    }
    code = cli_emit(&r, g);
done:
    if (have_r)
        vet_report_free(&r);
    vet_etcd_facts_free(f);
    vet_etcd_free(c);
    vet_strv_free(&pos);
    return code;
}

static int etcd_members(int argc, char **argv, cli_globals *g)
{
    return members_or_status(argc, argv, g, 0);
}

static int etcd_status(int argc, char **argv, cli_globals *g)
{
    return members_or_status(argc, argv, g, 1);
}

int cmd_etcd_snapshot_save(int argc, char **argv, cli_globals *g)
{
    const char *transport = NULL;
    const cli_opt opts[] = {
        {"transport", 0, CLI_STR, &transport, "auto|grpc|gateway",
         "grpc: gRPC frames over HTTP/2 (fast, etcdctl's wire); gateway: the v3 JSON gateway; "
         "auto (default): grpc when libcurl has HTTP/2, else gateway"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_strv pos = VET_STRV_INIT;
    vet_etcd *c = NULL;
    vet_etcd_save_result res;
    vet_etcd_transport tr = VET_ETCD_TRANSPORT_AUTO;
    vet_report r;
    int rc, code, have_r = 0;
    char hex[65], sz[32];

    if ((code =
             cli_begin(argc, argv, opts, g, &pos,
                       "  kubevet etcd snapshot save FILE [--etcd-endpoints URLS] [-o json]",
                       "Stream a snapshot from one etcd member into FILE (written atomically, mode "
                       "0600), byte for\nbyte what 'etcdctl snapshot save' writes, after checking "
                       "the SHA-256 etcd appends.")) >= 0)
        goto done;
    if (pos.n != 1) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "etcd snapshot save needs exactly one FILE"));
        goto done;
    }
    if (transport && !strcmp(transport, "grpc"))
        tr = VET_ETCD_TRANSPORT_GRPC;
    else if (transport && !strcmp(transport, "gateway"))
        tr = VET_ETCD_TRANSPORT_GATEWAY;
    else if (transport && strcmp(transport, "auto")) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "--transport: want auto, grpc or gateway"));
        goto done;
    }
    if ((rc = cli_etcd_connect(&c, g)) || (rc = vet_etcd_snapshot_save(&res, c, pos.v[0], tr))) {
        code = cli_fail(rc);
        goto done;
    }
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", res.sha256[i]);
    if ((rc = vet_report_init(&r, "etcd snapshot save", g->at))) {
        code = cli_fail(rc);
        goto done;
    }
    have_r = 1;
    vet_report_set(&r, "snapshot",
                   json_pack("{s:s,s:s,s:I,s:I,s:f,s:f,s:s,s:s}", "path", pos.v[0], "endpoint",
                             vet_etcd_endpoint(c), "size", (json_int_t)res.size, "revision",
                             (json_int_t)res.revision, "seconds", res.seconds, "mb_per_s",
                             res.seconds > 0 ? (double)res.size / 1e6 / res.seconds : 0.0, "sha256",
                             hex, "transport", res.transport));
    if (is_text(g)) {
        printf("Snapshot saved at ");
        vet_text_fputs(pos.v[0], stdout, 0);
        printf(": %s (%llu bytes), revision %lld, from %s\n",
               human(sz, sizeof sz, (long long)res.size), (unsigned long long)res.size,
               (long long)res.revision, vet_etcd_endpoint(c));
        printf("%.2f s, %.1f MB/s via %s; SHA-256 trailer verified (%s)\n", res.seconds,
               res.seconds > 0 ? (double)res.size / 1e6 / res.seconds : 0.0, res.transport, hex);
        code = vet_report_exit_code(&r, g->fail_on);
    } else {
        code = cli_emit(&r, g);
    }
done:
    if (have_r)
        vet_report_free(&r);
    vet_etcd_free(c);
    vet_strv_free(&pos);
    return code;
}

/* The etcd plan as the engine's plan: each step an operator step (sentences and commands
 * verbatim, for this cluster), or, refused, only the reason and the safe alternatives. */
static int engine_plan(vet_plan **out, const vet_etcd_plan *ep, const char *title, cli_globals *g)
{
    vet_plan *p = NULL;
    int rc = vet_plan_new(&p, g->root ? g->root : "/", title, NULL);
    if (!rc && ep->refused)
        rc = vet_plan_refuse(p, ep->refusal ? ep->refusal : "refused",
                             (const char *const *)ep->alternatives.v, ep->alternatives.n);
    for (size_t i = 0; !rc && !ep->refused && i < ep->steps.n; i++)
        rc = vet_plan_add_command(p, NULL, NULL, NULL, ep->steps.v[i]);
    if (rc) {
        vet_plan_free(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

/* The plan's JSON: the etcd facts of the plan (quorum before/after, steps, alternatives, IDs)
 * plus the engine's actions. */
static json_t *plan_json(const vet_etcd_plan *ep, const vet_plan *p)
{
    json_t *o = vet_etcd_plan_to_json(ep), *e = p ? vet_plan_to_json(p) : NULL;
    if (o && e)
        json_object_update_missing(o, e);
    json_decref(e);
    return o;
}

/* Quorum before/after, then the plan through the one renderer. Names and URLs from etcd are
 * printed with control characters escaped (the renderer does the same). */
static void print_plan(const char *title, const vet_etcd_plan *p, const vet_plan *ep,
                       const char *after_label)
{
    char *b = vet_etcd_verdict(&p->before), *a = vet_etcd_verdict(&p->after);
    vet_text_fputs(title, stdout, 0);
    printf("\n");
    if (p->before.voters || p->before.learners) /* a restore has no "before" */
        printf("  %-14s %s\n", "quorum now:", b ? b : "");
    printf("  %-14s %s\n\n", after_label, a ? a : "");
    vet_plan_render_text(ep, stdout);
    if (!p->refused && p->initial_cluster && *p->initial_cluster) {
        printf("\n--initial-cluster=");
        vet_text_fputs(p->initial_cluster, stdout, 0);
        printf("\n");
    }
    printf("\n");
    free(b);
    free(a);
}

/* --apply: the membership change as the engine's one step, performed through this hook. */
typedef struct {
    vet_etcd *c;
    const char *name, *peer;
    uint64_t id;
    char *ic;
} member_call;

static int call_member(const vet_action *a, char **undo, void *arg)
{
    member_call *m = arg;
    *undo = NULL;
    if (!strcmp(a->op, "etcd-member-add"))
        return vet_etcd_member_add(&m->id, &m->ic, m->c, m->name, m->peer, 1);
    if (!strcmp(a->op, "etcd-member-remove"))
        return vet_etcd_member_remove(m->c, m->id);
    return vet_error_set(VET_EINPUT, "%s: not an etcd operation", a->op);
}

static int apply_member(member_call *m, const char *op, const char *command, const char *why,
                        cli_globals *g)
{
    vet_plan *p = NULL;
    vet_plan_result res;
    vet_plan_apply_opts o = {NULL, NULL, NULL, 0, NULL, NULL, call_member, NULL, m};
    int rc;
    memset(&res, 0, sizeof res);
    if (!(rc = vet_plan_new(&p, g->root ? g->root : "/", "etcd plan", NULL)) &&
        !(rc = vet_plan_add_call(p, op, command, why)))
        rc = vet_plan_apply(p, &o, &res);
    vet_plan_result_clear(&res);
    vet_plan_free(p);
    return rc;
}

/* A refused plan is a KV301 finding (exit 1) whose fix names the first safe alternative. */
static int emit_refusal(vet_report *r, const vet_etcd_plan *p, const char *subject,
                        const char *what)
{
    vet_finding *fi;
    if (!p->refused)
        return 0;
    for (size_t i = 0; i < r->nfindings; i++)
        if (!strcmp(r->findings[i].id, "KV301") && r->findings[i].subject &&
            !strcmp(r->findings[i].subject, subject))
            return 0; /* the check already judged this change (the planned voting add) */
    if (!(fi = vet_check_emit(r, "KV301", subject)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    vet_finding_message(fi, "%s refused: %s", what, p->refusal ? p->refusal : "");
    vet_finding_fix(fi, "%s", p->fix ? p->fix : "see the safe alternatives printed with the plan");
    return 0;
}

/* The report of a membership plan: the checks of the cluster as it is, then KV301 when the plan
 * is refused. Once the report is made, *have_r says it must be freed. */
static int judge(vet_report *r, int *have_r, const char *command, vet_etcd_facts *f,
                 const vet_etcd_plan *p, const char *subject, const char *what, cli_globals *g)
{
    int rc = vet_report_init(r, command, g->at);
    if (rc)
        return rc;
    *have_r = 1;
    if ((rc = run_checks(f, g, r)) || (rc = emit_refusal(r, p, subject, what)))
        return rc;
    vet_report_sort(r);
    return 0;
}

/* The plan and the cluster as read go into the report, printed per -o; the exit code. */
static int finish(vet_report *r, const vet_etcd_plan *p, const vet_plan *ep,
                  const vet_etcd_facts *f, cli_globals *g)
{
    vet_report_set(r, "plan", plan_json(p, ep));
    vet_report_set(r, "etcd", vet_etcd_facts_to_json(f));
    return cli_emit(r, g);
}

static int plan_add(int argc, char **argv, cli_globals *g)
{
    const char *name = NULL, *peer = NULL;
    int apply = 0, learner = 0;
    const cli_opt opts[] = {
        {"name", 0, CLI_STR, &name, "NAME", "the new member's name (its node name, for kubeadm)"},
        {"peer-url", 0, CLI_STR, &peer, "URL", "its peer URL, e.g. https://10.0.0.12:2380"},
        {"learner", 0, CLI_FLAG, &learner, NULL, "judge a learner add instead of a voting add"},
        {"apply", 0, CLI_FLAG, &apply, NULL, "perform the learner add (member add --learner)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_strv pos = VET_STRV_INIT;
    vet_etcd *c = NULL;
    vet_etcd_facts *f = NULL;
    vet_etcd_plan *p = NULL;
    vet_plan *ep = NULL;
    vet_report r;
    int rc, code, have_r = 0;

    if ((code = cli_begin(
             argc, argv, opts, g, &pos,
             "  kubevet etcd plan add-member --name NAME --peer-url URL [--apply]",
             "Quorum before and after adding a member, judged as if the new member never "
             "starts. A voting\nadd that would lose quorum (1 -> 2) is refused with KV301. "
             "Prints the learner path; --apply\nperforms its first step (member add "
             "--learner) and prints the --initial-cluster to start with.")) >= 0)
        goto done;
    if (!name || !peer) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "plan add-member needs --name and --peer-url"));
        goto done;
    }
    if ((rc = cli_etcd_connect(&c, g)) || (rc = vet_etcd_status(&f, c)) ||
        (rc = vet_etcd_plan_add_member(&p, f, name, peer, learner || apply)) ||
        (rc = engine_plan(&ep, p, "etcd plan add-member", g))) {
        code = cli_fail(rc);
        goto done;
    }
    if (!(f->planned = calloc(1, sizeof *f->planned)) || !(f->planned->name = strdup(name)) ||
        !(f->planned->peer_url = strdup(peer))) {
        code = cli_fail(vet_error_set(VET_ENOMEM, "out of memory"));
        goto done;
    }
    f->planned->is_learner = learner || apply;
    if ((rc = judge(&r, &have_r, "etcd plan add-member", f, p, name, "adding this member", g))) {
        code = cli_fail(rc);
        goto done;
    }
    if (is_text(g)) {
        char title[512];
        snprintf(title, sizeof title, "Plan: add %s (%s) as a %s to the etcd cluster via %s", name,
                 peer, learner || apply ? "learner" : "voting member", vet_etcd_endpoint(c));
        print_plan(title, p, ep, "after add:");
        if (apply && p->refused)
            printf("Nothing was changed: the plan is refused.\n\n");
    }
    if (apply && !p->refused) {
        member_call m = {c, name, peer, 0, NULL};
        char *cmd = vet_strdupf("etcdctl member add %s --peer-urls=%s --learner", name, peer), *ic,
             hex[17];
        uint64_t id;
        rc = apply_member(&m, "etcd-member-add", cmd, "add the new member as a learner", g);
        free(cmd);
        id = m.id;
        ic = m.ic;
        if (rc) {
            free(ic);
            code = cli_fail(rc);
            goto done;
        }
        if (is_text(g)) {
            printf("Added learner ");
            vet_text_fputs(name, stdout, 0);
            printf(" (ID %s). Start it with --initial-cluster-state=existing --initial-cluster=",
                   vet_etcd_id_hex(hex, id));
            vet_text_fputs(ic ? ic : "", stdout, 0);
            printf("\n\n");
        }
        json_object_set_new(
            p->extra ? p->extra : (p->extra = json_object()), "applied",
            json_pack("{s:s,s:s}", "id", vet_etcd_id_hex(hex, id), "initial_cluster", ic));
        free(ic);
    }
    code = finish(&r, p, ep, f, g);
done:
    if (have_r)
        vet_report_free(&r);
    vet_plan_free(ep);
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);
    vet_etcd_free(c);
    vet_strv_free(&pos);
    return code;
}

static int plan_remove(int argc, char **argv, cli_globals *g)
{
    const char *name = NULL, *id = NULL;
    int apply = 0;
    const cli_opt opts[] = {
        {"name", 0, CLI_STR, &name, "NAME", "the member to remove"},
        {"id", 0, CLI_STR, &id, "HEX", "the member's ID as etcdctl prints it"},
        {"apply", 0, CLI_FLAG, &apply, NULL, "remove it (only when the plan is not refused)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_strv pos = VET_STRV_INIT;
    vet_etcd *c = NULL;
    vet_etcd_facts *f = NULL;
    vet_etcd_plan *p = NULL;
    vet_plan *ep = NULL;
    vet_report r;
    int rc, code, have_r = 0;

    if ((code = cli_begin(
             argc, argv, opts, g, &pos,
             "  kubevet etcd plan remove-member --name NAME | --id HEX [--apply]",
             "Quorum before and after removing a member. Refuses to remove a healthy voter "
             "when the rest\nwould be below quorum, and explains the recovery when quorum "
             "is already lost (removal hangs).")) >= 0)
        goto done;
    if (!!name == !!id) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "plan remove-member needs --name or --id"));
        goto done;
    }
    if ((rc = cli_etcd_connect(&c, g)) || (rc = vet_etcd_status(&f, c)) ||
        (rc = vet_etcd_plan_remove_member(&p, f, name ? name : id)) ||
        (rc = engine_plan(&ep, p, "etcd plan remove-member", g))) {
        code = cli_fail(rc);
        goto done;
    }
    if ((rc = judge(&r, &have_r, "etcd plan remove-member", f, p, name ? name : id,
                    "removing this member", g))) {
        code = cli_fail(rc);
        goto done;
    }
    if (is_text(g)) {
        char title[256];
        snprintf(title, sizeof title, "Plan: remove %s from the etcd cluster via %s",
                 name ? name : id, vet_etcd_endpoint(c));
        print_plan(title, p, ep, "after remove:");
    }
    if (apply && p->refused && is_text(g))
        printf("Nothing was changed: the plan is refused.\n\n");
    if (apply && !p->refused) {
        const vet_etcd_member *m = vet_etcd_member_find(f, name ? name : id);
        if (m) {
            member_call mc = {c, m->name, NULL, m->id, NULL};
            char hex[17];
            char *cmd = vet_strdupf("etcdctl member remove %s", vet_etcd_id_hex(hex, m->id));
            rc = apply_member(&mc, "etcd-member-remove", cmd, "remove the member", g);
            free(cmd);
            if (rc) {
                code = cli_fail(rc);
                goto done;
            }
        }
        if (is_text(g)) {
            printf("Removed ");
            vet_text_fputs(name ? name : id, stdout, 0);
            printf(".\n\n");
        }
    }
    code = finish(&r, p, ep, f, g);
done:
    if (have_r)
        vet_report_free(&r);
    vet_plan_free(ep);
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);
    vet_etcd_free(c);
    vet_strv_free(&pos);
    return code;
}

static int plan_restore(int argc, char **argv, cli_globals *g)
{
    const char *snap = NULL, *token = NULL, *dir = NULL;
    vet_strv mem = VET_STRV_INIT;
    const cli_opt opts[] = {
        {"snapshot", 0, CLI_STR, &snap, "FILE", "the snapshot to restore (verified first)"},
        {"member", 0, CLI_MULTI, &mem, "NAME=PEERURL", "a member of the restored cluster (repeat)"},
        {"initial-cluster-token", 0, CLI_STR, &token, "TOKEN",
         "default: the static pod's, else etcd's default etcd-cluster"},
        {"data-dir", 0, CLI_STR, &dir, "DIR",
         "fresh directory to restore into (default "
         "/var/lib/etcd-restored)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_strv pos = VET_STRV_INIT;
    vet_etcd_restore_member *ms = NULL;
    vet_etcd_pod *pod = NULL;
    vet_etcd_plan *p = NULL;
    vet_plan *ep = NULL;
    vet_snapshot *s = NULL;
    vet_snapshot_info info;
    vet_report r;
    int rc, code, have_r = 0, ok = 0;

    if ((code = cli_begin(
             argc, argv, opts, g, &pos,
             "  kubevet etcd plan restore --snapshot FILE --member NAME=PEERURL...",
             "Verify the snapshot, then print the per-member 'etcdctl snapshot restore' "
             "commands, the\nkubeadm steps around them, and the member and cluster IDs the "
             "restored cluster will have.")) >= 0)
        goto done;
    if (!snap || !mem.n) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "plan restore needs --snapshot and --member"));
        goto done;
    }
    if (!(ms = calloc(mem.n, sizeof *ms))) {
        code = cli_fail(vet_error_set(VET_ENOMEM, "out of memory"));
        goto done;
    }
    for (size_t i = 0; i < mem.n; i++) {
        char *eq = strchr(mem.v[i], '=');
        if (!eq || eq == mem.v[i] || !eq[1]) {
            code = cli_fail(vet_error_set(VET_EUSAGE, "--member %s: want NAME=PEERURL", mem.v[i]));
            goto done;
        }
        *eq = '\0';
        ms[i].name = mem.v[i];
        ms[i].peer_url = eq + 1;
    }
    if ((rc = vet_report_init(&r, "etcd plan restore", g->at))) {
        code = cli_fail(rc);
        goto done;
    }
    have_r = 1;
    vet_etcd_pod_load(&pod, g->root ? g->root : "/");
    vet_error_clear();
    if ((rc = vet_snapshot_open(&s, snap))) {
        code = cli_fail(rc);
        goto done;
    }
    if ((rc = vet_snapshot_verify(s, &info, &ok))) {
        code = cli_fail(rc);
        goto done;
    }
    if (!ok || info.trailer != VET_SNAPSHOT_TRAILER_OK) {
        vet_finding *fi = vet_check_emit(&r, "KV305", snap);
        if (fi) {
            vet_finding_message(fi,
                                "%s fails verification (%s%s): restoring it would fail or "
                                "restore damaged data.",
                                snap,
                                info.trailer == VET_SNAPSHOT_TRAILER_ABSENT
                                    ? "no SHA-256 trailer: not written by snapshot save"
                                : info.trailer == VET_SNAPSHOT_TRAILER_MISMATCH
                                    ? "SHA-256 trailer mismatch"
                                    : "bbolt structure errors",
                                info.nerrors && info.errors && info.errors->n ? "" : "");
            vet_finding_fix(fi,
                            "take a new snapshot (kubevet etcd snapshot save), or see "
                            "kubevet etcd snapshot verify %s",
                            snap);
        }
        if (is_text(g)) {
            printf("Snapshot ");
            vet_text_fputs(snap, stdout, 0);
            printf(" FAILED verification: no restore plan.\n\n");
        }
        code = cli_emit(&r, g);
        goto done;
    }
    if ((rc = vet_etcd_plan_restore(&p, snap, ms, mem.n, token, dir, pod)) ||
        (rc = engine_plan(&ep, p, "etcd plan restore", g))) {
        code = cli_fail(rc);
        goto done;
    }
    json_object_set_new(p->extra, "snapshot_revision", json_integer(info.revision));
    if (is_text(g)) {
        char title[512];
        const char *cid = json_string_value(json_object_get(p->extra, "cluster_id"));
        snprintf(title, sizeof title,
                 "Plan: restore %s (verified: SHA-256 trailer and bbolt structure ok, revision "
                 "%lld) into %zu member%s; expected cluster ID %s",
                 snap, (long long)info.revision, mem.n, mem.n == 1 ? "" : "s", cid ? cid : "?");
        print_plan(title, p, ep, "after restore:");
    }
    vet_report_set(&r, "plan", plan_json(p, ep));
    code = cli_emit(&r, g);
done:
    if (have_r)
        vet_report_free(&r);
    vet_plan_free(ep);
    vet_snapshot_close(s);
    vet_etcd_plan_free(p);
    vet_etcd_pod_free(pod);
    free(ms);
    vet_strv_free(&mem);
    vet_strv_free(&pos);
    return code;
}

static int etcd_plan(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd cmds[] = {
        {"add-member", plan_add, "quorum before/after adding a member; the learner path"},
        {"remove-member", plan_remove, "quorum before/after removing a member; recoveries"},
        {"restore", plan_restore, "verify a snapshot, print per-member restore steps and IDs"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(cmds, "etcd plan", argc, argv, g);
}

int cmd_etcd(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd cmds[] = {
        {"members", etcd_members, "member list and the quorum verdict"},
        {"status", etcd_status, "per-member status, health, alarms; KV301-KV306, KV503"},
        {"snapshot", cmd_etcd_snapshot, "snapshot save | verify | status | objects"},
        {"plan", etcd_plan, "add-member | remove-member | restore: safe membership plans"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(cmds, "etcd", argc, argv, g);
}
