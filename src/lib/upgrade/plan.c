/* `kubevet upgrade plan`: the hops kubeadm allows and the blockers of each.
 *
 * kubeadm upgrades one minor at a time ("Specified version to upgrade to ... is too high;
 * kubeadm can upgrade only 1 minor version at a time"), so 1.9.6 -> 1.13.4 is four hops, each to
 * the newest patch of its minor, the last to the version asked for. Each hop is judged as the
 * cluster will be when it starts: the checks of the registry run with the hop's target
 * (ctx->target), the cluster version the hop starts from (what kubeadm of that hop reads
 * depends on it), and the hop's date when the operator gives --window. A blocker is an ordinary
 * finding; a hop with a critical blocker is refused and prints why, never its steps. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "kubevet/k8s.h"
#include "kubevet/upgrade.h"
#include "upgrade_int.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")

static int same(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* One finding per id, subject and message (KV202 names kubeadm-config once per missing node);
 * with_message 0 matches id and subject only (a baseline run words its target differently). */
static int has_finding(const vet_report *r, const vet_finding *f, int with_message)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (!strcmp(r->findings[i].id, f->id) && same(r->findings[i].subject, f->subject) &&
            (!with_message || same(r->findings[i].message, f->message)))
            return 1;
    return 0;
}

int vet_upgrade_copy_finding(vet_report *dst, const vet_finding *f)
{
    vet_finding *n;
    if (has_finding(dst, f, 1))
        return 0;
    if (!(n = vet_report_add(dst, f->id, f->name, f->severity, f->subject)))
        return OOM();
    if ((f->message && !(n->message = strdup(f->message))) ||
        (f->fix && !(n->fix = strdup(f->fix))) || (f->cause && !(n->cause = strdup(f->cause))) ||
        (f->fields && !(n->fields = json_deep_copy(f->fields))))
        return OOM();
    return 0;
}

/* Whether f, found at a hop's target, is new against `base`, the same checks at the hop's start:
 * one finding per id and subject (a baseline run words its target differently). */
typedef int (*new_fn)(const vet_finding *f, const vet_report *base);

static int not_in_base(const vet_finding *f, const vet_report *base)
{
    return !has_finding(base, f, 0);
}

/* Copy the findings of src that are new against `except` (NULL: all). */
static int copy_new(vet_report *dst, const vet_report *src, const vet_report *except, new_fn is_new)
{
    int rc;
    for (size_t i = 0; i < src->nfindings; i++) {
        const vet_finding *f = &src->findings[i];
        if (except && !is_new(f, except))
            continue;
        if ((rc = vet_upgrade_copy_finding(dst, f)))
            return rc;
    }
    return 0;
}

/* Run the checks `ids` (exact IDs) on ctx into a fresh report and copy into dst what is new
 * against a run at baseline_target (the hop's start), judged by is_new; NULL baseline: all. */
static int run_new(vet_report *dst, const vet_ctx *ctx, unsigned sources, const char *const *ids,
                   const char *baseline_target, new_fn is_new)
{
    vet_report t, base;
    int rc, have_base = 0;
    if ((rc = vet_report_init(&t, "upgrade", ctx->now)))
        return rc;
    if ((rc = vet_check_run(ctx, &t, sources, ids)))
        goto done;
    if (baseline_target) {
        vet_ctx b = *ctx;
        b.target = baseline_target;
        if ((rc = vet_report_init(&base, "upgrade", ctx->now)))
            goto done;
        have_base = 1;
        if ((rc = vet_check_run(&b, &base, sources, ids)))
            goto done;
    }
    rc = copy_new(dst, &t, have_base ? &base : NULL, is_new);
done:
    if (have_base)
        vet_report_free(&base);
    vet_report_free(&t);
    return rc;
}

static int run_into(vet_report *dst, const vet_ctx *ctx, unsigned sources, const char *const *ids,
                    const char *baseline_target)
{
    return run_new(dst, ctx, sources, ids, baseline_target, not_in_base);
}

static int etcd_minor(const char *v, int *maj, int *min)
{
    if (!v || !*v)
        return -1;
    if (*v == 'v')
        v++;
    return sscanf(v, "%d.%d", maj, min) == 2 ? 0 : -1;
}

/* a is a newer etcd than b by major.minor.patch; kubeadm's image suffix ("-0") and a missing
 * patch do not count. 0 when either does not parse. */
static int etcd_newer(const char *a, const char *b)
{
    int x[3] = {0, 0, 0}, y[3] = {0, 0, 0};
    if (!a || !b || sscanf(a + (*a == 'v'), "%d.%d.%d", &x[0], &x[1], &x[2]) < 2 ||
        sscanf(b + (*b == 'v'), "%d.%d.%d", &y[0], &y[1], &y[2]) < 2)
        return 0;
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i])
            return x[i] > y[i];
    return 0;
}

/* KV503 from the release data: etcd can only move one minor at a time, and never back. The hop's
 * kubeadm replaces a stacked etcd with its SupportedEtcdVersion; the operator must know the hop
 * changes etcd's minor (a rollback is then a snapshot restore), and must not let it skip one. */
static int etcd_blocker(vet_upgrade_hop *h, const vet_release *to)
{
    int bmaj, bmin, amaj, amin;
    vet_finding *f;
    char sub[64];
    if (etcd_minor(h->etcd_before, &bmaj, &bmin) || etcd_minor(to->etcd, &amaj, &amin))
        return 0;
    if (bmaj == amaj && bmin == amin)
        return 0;
    snprintf(sub, sizeof sub, "etcd %s -> %s", h->etcd_before, to->etcd);
    if (amaj < bmaj || (amaj == bmaj && amin < bmin))
        return 0; /* a newer etcd than kubeadm ships: kubeadm keeps it (it never downgrades) */
    if (!(f = vet_check_emit(&h->blockers, "KV503", sub)))
        return OOM();
    if (amaj != bmaj || amin - bmin > 1) {
        f->severity = VET_SEV_CRITICAL;
        vet_finding_message(f,
                            "kubeadm %s deploys etcd %s, but etcd runs %s: etcd upgrades one minor "
                            "at a time and this would skip %d.%d",
                            h->to, to->etcd, h->etcd_before, bmaj, bmin + 1);
        vet_finding_fix(f,
                        "upgrade etcd to the newest %d.%d first, one member at a time, after "
                        "'kubevet etcd snapshot save'; then re-run this plan",
                        bmaj, bmin + 1);
    } else {
        f->severity = VET_SEV_INFO;
        vet_finding_message(f,
                            "this hop upgrades etcd %s -> %s (kubeadm %s's etcd): etcd cannot be "
                            "downgraded, so rolling this hop back means restoring the snapshot "
                            "taken before it",
                            h->etcd_before, to->etcd, h->to);
        vet_finding_fix(f, "take and verify the snapshot of step 1 of this hop; with an external "
                           "etcd, upgrade it yourself to this version before the hop");
    }
    vet_finding_set_str(f, "etcd_before", h->etcd_before);
    vet_finding_set_str(f, "etcd_after", to->etcd);
    return 0;
}

/* KV305: the hop's first step is a backup, but the plan starts only from a verified one. */
static int backup_blocker(vet_upgrade_hop *h, const vet_upgrade_opts *o)
{
    vet_finding *f;
    const char *sub = o->snapshot_name ? o->snapshot_name : "etcd";
    int64_t age = o->snapshot_given ? o->ctx->now - o->snapshot_time : 0;
    if (o->snapshot_given && o->snapshot_ok && age <= o->max_backup_age)
        return 0;
    if (!(f = vet_check_emit(&h->blockers, "KV305", sub)))
        return OOM();
    if (!o->snapshot_given)
        vet_finding_message(f, "no etcd snapshot was given (--snapshot): there is no way back "
                               "from a failed hop without one");
    else if (!o->snapshot_ok)
        vet_finding_message(f, "snapshot %s fails its integrity check", sub);
    else
        vet_finding_message(f, "snapshot %s is %lld hours old (--max-backup-age %lld hours)", sub,
                            (long long)(age / 3600), (long long)(o->max_backup_age / 3600));
    vet_finding_fix(f,
                    "kubevet etcd snapshot save /var/backups/etcd-before-%s.db && kubevet etcd "
                    "snapshot verify /var/backups/etcd-before-%s.db, then re-run with --snapshot "
                    "/var/backups/etcd-before-%s.db",
                    h->to, h->to, h->to);
    return 0;
}

/* KV106 explains KV201/KV202: kubeadm takes the node name from kubelet.conf's certificate, so it
 * looked up the annotation and the apiEndpoint of another node (incident 1). */
static void explain_identity(vet_report *r)
{
    vet_finding *id = vet_report_find(r, "KV106", NULL);
    if (!id)
        return;
    for (size_t i = 0; i < r->nfindings; i++) {
        vet_finding *f = &r->findings[i];
        if (strcmp(f->id, "KV201") && strcmp(f->id, "KV202"))
            continue;
        vet_finding_set_cause(f, id,
                              "first give this node its own kubelet.conf identity (see KV106 %s): "
                              "kubeadm acts as the node named in that certificate, then re-run "
                              "this plan",
                              id->subject);
    }
}

/* One object of a KV405's list: the check (KV401 = removed API), and which object where. */
static int same_object(const json_t *a, const json_t *b)
{
    static const char *const keys[] = {"id", "kind", "object_name", "api_version", "file"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (!json_equal(json_object_get(a, keys[k]), json_object_get(b, keys[k])))
            return 0;
    return 1;
}

/* Does f (a KV405) list a removed object (KV401) that base, the same release judged at the
 * hop's start, does not? */
static int removes_more(const vet_finding *f, const vet_finding *base)
{
    json_t *objs = f->fields ? json_object_get(f->fields, "objects") : NULL;
    json_t *bobjs = base->fields ? json_object_get(base->fields, "objects") : NULL;
    size_t i, k;
    json_t *o, *b;
    json_array_foreach(objs, i, o)
    {
        int seen = 0;
        const char *id = json_string_value(json_object_get(o, "id"));
        if (!id || strcmp(id, "KV401"))
            continue;
        json_array_foreach(bobjs, k, b) seen |= same_object(o, b);
        if (!seen)
            return 1;
    }
    return 0;
}

/* KV405 is one finding per release: at a later hop it is new when the hop removes more of the
 * release's objects than its start did (a release can hold APIs removed at different hops). */
static int helm_new(const vet_finding *f, const vet_report *base)
{
    for (size_t k = 0; k < base->nfindings; k++)
        if (!strcmp(base->findings[k].id, f->id) && same(base->findings[k].subject, f->subject))
            return removes_more(f, &base->findings[k]);
    return 1;
}

static int hop_checks(vet_upgrade_hop *h, const vet_upgrade_opts *o, const vet_release *from,
                      const vet_release *to, size_t index)
{
    static const char *const node_ids[] = {"KV101", "KV102", "KV103", "KV104", "KV105", "KV106",
                                           "KV107", "KV108", "KV109", "KV110", "KV111", NULL};
    static const char *const api_ids[] = {"KV204", "KV207", NULL};
    static const char *const kv201[] = {"KV201", NULL}, *const kv202[] = {"KV202", NULL};
    static const char *const kv502[] = {"KV502", NULL}, *const kv301[] = {"KV301", NULL};
    static const char *const removed[] = {"KV401", "KV406", NULL};
    static const char *const selectors[] = {"KV403", "KV404", NULL};
    static const char *const kv405[] = {"KV405", NULL};
    vet_ctx c = *o->ctx;
    vet_api_facts api;
    char from_v[40];
    int rc;
    c.now = h->date;
    c.target = h->to;
    snprintf(from_v, sizeof from_v, "v%s", h->from);
    if (o->ctx->api) {
        /* The cluster as it will be when the hop starts: kubeadm of the previous hop wrote it. */
        api = *o->ctx->api;
        api.major = 1;
        api.minor = from->minor;
        api.git_version = from_v;
        c.api = &api;
    }
    if ((o->sources & (VET_SRC_NODE | VET_SRC_FILES)) &&
        (rc = run_into(&h->blockers, &c, VET_SRC_NODE | VET_SRC_FILES, node_ids, NULL)))
        return rc;
    if (c.api) {
        if ((rc = run_into(&h->blockers, &c, VET_SRC_API, api_ids, NULL)))
            return rc;
        /* kubeadm 1.13-1.33 reads the cri-socket annotation of the node it upgrades. */
        if (to->cri_socket && (rc = run_into(&h->blockers, &c, VET_SRC_API, kv201, NULL)))
            return rc;
        /* ClusterStatus exists only once kubeadm 1.12+ wrote it, and is read until 1.21. */
        if (to->cluster_status && from->cluster_status &&
            (rc = run_into(&h->blockers, &c, VET_SRC_API, kv202, NULL)))
            return rc;
        if (index == 0) {
            /* Skew before the hop (the cluster now) and after it (apiserver at the hop's
             * version, kubelets not yet upgraded); later hops start from upgraded kubelets. */
            vet_api_facts after = api;
            char to_v[40];
            if ((rc = run_into(&h->blockers, &c, VET_SRC_API, kv502, NULL)))
                return rc;
            snprintf(to_v, sizeof to_v, "v%s", h->to);
            after.minor = to->minor;
            after.git_version = to_v;
            c.api = &after;
            rc = run_into(&h->blockers, &c, VET_SRC_API, kv502, NULL);
            c.api = &api;
            if (rc)
                return rc;
        }
    }
    if (c.etcd && (rc = run_into(&h->blockers, &c, VET_SRC_ETCD | VET_SRC_NODE, kv301, NULL)))
        return rc;
    if ((rc = etcd_blocker(h, to)))
        return rc;
    if (index == 0 && (rc = backup_blocker(h, o)))
        return rc;
    /* APIs removed by this hop: what the hop's target removes that its start still had. The first
     * hop carries everything already removed too (the objects are there now). */
    if (c.manifests || c.snapshot) {
        char base[40];
        snprintf(base, sizeof base, "%s", h->from);
        if ((rc = run_into(&h->blockers, &c, VET_SRC_FILES | VET_SRC_ETCD, removed,
                           index == 0 ? NULL : base)))
            return rc;
    }
    if (index == 0 && c.manifests &&
        (rc = run_into(&h->blockers, &c, VET_SRC_FILES, selectors, NULL)))
        return rc;
    /* KV405: Helm decodes a release's stored manifest against the live API, so `helm upgrade`
     * and `rollback` fail from the hop that removes an API its acted-on revision holds; the
     * first hop carries what is already removed (the records hold it now). */
    if (c.helm && (rc = run_new(&h->blockers, &c, VET_SRC_HELM, kv405, index == 0 ? NULL : h->from,
                                helm_new)))
        return rc;
    explain_identity(&h->blockers);
    vet_report_sort(&h->blockers);
    return 0;
}

static int add_kv501(vet_report *r, const vet_upgrade_plan *p)
{
    vet_buf b = VET_BUF_INIT;
    vet_finding *f;
    char sub[80];
    if (p->nhops < 2)
        return 0;
    snprintf(sub, sizeof sub, "%s -> %s", p->from, p->to);
    if (!(f = vet_check_emit(r, "KV501", sub)))
        return OOM();
    vet_buf_printf(&b, "%s", p->from);
    for (size_t i = 0; i < p->nhops; i++)
        vet_buf_printf(&b, " -> %s", p->hops[i].to);
    vet_finding_message(f,
                        "kubeadm upgrades one minor at a time: %s is %zu hops (%s), each with its "
                        "own backup, kubeadm, kubelet and checks",
                        p->to, p->nhops, b.ptr ? b.ptr : "");
    vet_finding_fix(f, "follow the hops in order; never start a hop before the previous one's "
                       "checks pass");
    vet_finding_set_int(f, "hops", (long long)p->nhops);
    vet_buf_free(&b);
    return 0;
}

static void strip_v(char *out, size_t n, const char *s)
{
    snprintf(out, n, "%s", s[0] == 'v' ? s + 1 : s);
}

int vet_upgrade_plan_build(vet_upgrade_plan **out, const vet_upgrade_opts *o, vet_report *r)
{
    vet_upgrade_plan *p = NULL;
    vet_version fv, tv;
    const vet_release *fr, *tr, *last;
    size_t n;
    int rc = 0, to_minor_only;
    *out = NULL;
    if (!o->from || vet_version_parse(&fv, o->from) || fv.major != 1)
        return vet_error_set(VET_EUSAGE, "--from: not a Kubernetes 1.x version: \"%s\"",
                             o->from ? o->from : "");
    if (!o->to || vet_version_parse(&tv, o->to) || tv.major != 1)
        return vet_error_set(VET_EUSAGE, "--to: not a Kubernetes 1.x version: \"%s\"",
                             o->to ? o->to : "");
    last = vet_releases_at(o->releases, vet_releases_count(o->releases) - 1);
    if (vet_version_cmp_minor(&tv, &fv) < 0)
        return vet_error_set(VET_EUSAGE,
                             "--to %s is not newer than the cluster's %s: kubeadm "
                             "does not downgrade (restore a backup instead)",
                             o->to, o->from);
    if (!(fr = vet_releases_find(o->releases, fv.minor)))
        return vet_error_set(VET_EUSAGE, "no release data for 1.%d (the data covers 1.%d to 1.%d)",
                             fv.minor, vet_releases_at(o->releases, 0)->minor, last->minor);
    if (!(tr = vet_releases_find(o->releases, tv.minor)))
        return vet_error_set(VET_EUSAGE,
                             "--to %s is beyond the release data (newest 1.%d, updated %s): pass "
                             "newer data with --releases FILE",
                             o->to, last->minor, vet_releases_updated(o->releases));
    /* "--to 1.13" means the newest 1.13 the data knows, as the intermediate hops do */
    to_minor_only = !strchr(strchr(o->to, '.') + 1, '.') && !strchr(o->to, '-');
    if (to_minor_only && vet_version_parse(&tv, tr->newest))
        return vet_error_set(VET_EINPUT, "release data: 1.%d newest: bad version", tv.minor);
    if (vet_version_cmp(&tv, &fv) <= 0)
        return vet_error_set(VET_EUSAGE,
                             "--to %s is not newer than the cluster's %s: kubeadm "
                             "does not downgrade (restore a backup instead)",
                             o->to, o->from);
    n = (size_t)(tv.minor - fv.minor) + (tv.minor == fv.minor);
    if (!(p = calloc(1, sizeof *p)) || !(p->hops = calloc(n, sizeof *p->hops)))
        goto oom;
    strip_v(p->from, sizeof p->from, o->from);
    strip_v(p->to, sizeof p->to, to_minor_only ? tr->newest : o->to);
    for (size_t i = 0; i < n; i++) {
        vet_upgrade_hop *h = &p->hops[i];
        const vet_release *hf = i ? vet_releases_find(o->releases, fv.minor + (int)i) : fr;
        const vet_release *ht =
            vet_releases_find(o->releases, fv.minor + (int)i + (tv.minor > fv.minor));
        if (!hf || !ht) {
            rc = vet_error_set(VET_EINPUT, "release data has no 1.%d", fv.minor + (int)i + 1);
            goto fail;
        }
        if ((rc = vet_report_init(&h->blockers, "upgrade", o->ctx->now)))
            goto fail;
        p->nhops = i + 1;
        snprintf(h->from, sizeof h->from, "%s", i ? p->hops[i - 1].to : p->from);
        if (i + 1 == n)
            snprintf(h->to, sizeof h->to, "%s", p->to);
        else
            snprintf(h->to, sizeof h->to, "%s", ht->newest);
        h->date = o->ctx->now + (int64_t)i * o->window;
        /* etcd before the first hop: what a live etcd reports, else what kubeadm deployed. */
        snprintf(h->etcd_before, sizeof h->etcd_before, "%s",
                 i ? p->hops[i - 1].etcd_after
                   : (o->have_etcd_version && o->etcd_version ? o->etcd_version : hf->etcd));
        snprintf(h->etcd_after, sizeof h->etcd_after, "%s", ht->etcd);
        /* kubeadm never downgrades etcd, not even a patch ("the desired etcd version is older
         * than the currently installed"): a newer one stays (1.29's 3.5.16 into 1.30's 3.5.15). */
        if (etcd_newer(h->etcd_before, ht->etcd))
            snprintf(h->etcd_after, sizeof h->etcd_after, "%s", h->etcd_before);
        if ((rc = hop_checks(h, o, hf, ht, i)))
            goto fail;
        {
            size_t ncrit = 0, first = 0;
            for (size_t k = 0; k < h->blockers.nfindings; k++)
                if (h->blockers.findings[k].severity >= VET_SEV_CRITICAL && !ncrit++)
                    first = k;
            /* the list is sorted causes first: the first critical one is where to start */
            if (ncrit &&
                !(h->refused = vet_strdupf(
                      "refused: %s is blocked by %zu critical finding%s above; fix %s %s "
                      "first, then re-run 'kubevet upgrade plan'",
                      h->to, ncrit, ncrit == 1 ? "" : "s", h->blockers.findings[first].id,
                      h->blockers.findings[first].subject ? h->blockers.findings[first].subject
                                                          : "")))
                goto oom;
        }
        if (!h->refused && (rc = vet_upgrade_steps(h, o, hf, ht, i, n)))
            goto fail;
    }
    if ((rc = add_kv501(r, p)))
        goto fail;
    for (size_t i = 0; i < p->nhops; i++)
        if ((rc = copy_new(r, &p->hops[i].blockers, NULL, NULL)))
            goto fail;
    vet_report_sort(r);
    *out = p;
    return 0;
oom:
    rc = OOM();
fail:
    vet_upgrade_plan_free(p);
    return rc;
}

void vet_upgrade_plan_free(vet_upgrade_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nhops; i++) {
        vet_report_free(&p->hops[i].blockers);
        vet_strv_free(&p->hops[i].steps);
        free(p->hops[i].refused);
    }
    free(p->hops);
    free(p);
}

json_t *vet_upgrade_plan_json(const vet_upgrade_plan *p)
{
    json_t *o = json_object(), *hops = json_array();
    json_object_set_new(o, "from", json_string(p->from));
    json_object_set_new(o, "to", json_string(p->to));
    for (size_t i = 0; i < p->nhops; i++) {
        const vet_upgrade_hop *h = &p->hops[i];
        json_t *hj = json_object(), *rep = vet_report_to_json(&h->blockers), *steps = json_array();
        json_object_set_new(hj, "from", json_string(h->from));
        json_object_set_new(hj, "to", json_string(h->to));
        json_object_set_new(hj, "etcd", json_string(h->etcd_after));
        json_object_set(hj, "blockers", json_object_get(rep, "findings"));
        for (size_t k = 0; k < h->steps.n; k++)
            json_array_append_new(steps, json_string(h->steps.v[k]));
        json_object_set_new(hj, "steps", steps);
        if (h->refused)
            json_object_set_new(hj, "refused", json_string(h->refused));
        json_decref(rep);
        json_array_append_new(hops, hj);
    }
    json_object_set_new(o, "hops", hops);
    return o;
}

int vet_upgrade_plan_render_text(const vet_upgrade_plan *p, FILE *out, int color)
{
    const char *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
    fprintf(out, "%supgrade plan %s -> %s: %zu hop%s%s\n", bold, p->from, p->to, p->nhops,
            p->nhops == 1 ? "" : "s", off);
    for (size_t i = 0; i < p->nhops; i++) {
        const vet_upgrade_hop *h = &p->hops[i];
        fprintf(out, "\n%s== hop %zu/%zu: %s -> %s (etcd %s) ==%s\n", bold, i + 1, p->nhops,
                h->from, h->to, h->etcd_after, off);
        if (h->blockers.nfindings) {
            fprintf(out, "blockers (root cause first):\n");
            vet_report_render_text(&h->blockers, out, color);
        } else {
            fprintf(out, "blockers: none\n");
        }
        if (h->refused) {
            fprintf(out, "%s\n", h->refused);
            continue;
        }
        fprintf(out, "steps:\n");
        for (size_t k = 0; k < h->steps.n; k++)
            fprintf(out, "%2zu. %s\n", k + 1, h->steps.v[k]);
    }
    return 0;
}
