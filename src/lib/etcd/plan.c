/* Membership plans: what a change does to quorum, and the safe way to make it. Pure functions
 * of the facts, so tests can feed them fixture clusters.
 *
 * Rules every plan keeps (they are why the branches below look the way they do):
 * - A refused plan has no steps: only why, and the safe alternatives. The refused operation is
 *   never printed, not even as "then run ...".
 * - No plan tells an operator to empty or move the data dir of a member that still holds the
 *   cluster's data. Recovery without quorum starts from a survivor's data (--force-new-cluster)
 *   or from a verified snapshot.
 * - Learners do not vote: quorum is voters/2 + 1, whatever the learners do.
 * - Commands are pasteable: this cluster's endpoints and the node's TLS files, TLS flags only for
 *   https endpoints, values shell-quoted when they need it, placeholders as <...> with a note. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd_int.h"
#include "url.h"

#define BACKUP_DIR "/var/lib/etcd-backup"
#define KUBEADM_DATA_DIR "/var/lib/etcd"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")

#define ADD(list, ...)                                                                             \
    do {                                                                                           \
        char *s_ = vet_strdupf(__VA_ARGS__);                                                       \
        if (!s_ || vet_strv_take(&p->list, s_)) {                                                  \
            rc = OOM();                                                                            \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)
#define STEP(...) ADD(steps, __VA_ARGS__)
#define ALT(...) ADD(alternatives, __VA_ARGS__)

void vet_etcd_plan_free(vet_etcd_plan *p)
{
    if (!p)
        return;
    free(p->refusal);
    vet_strv_free(&p->steps);
    vet_strv_free(&p->alternatives);
    free(p->fix);
    free(p->initial_cluster);
    json_decref(p->extra);
    free(p);
}

static json_t *quorum_json(const vet_etcd_quorum *q)
{
    char *v = vet_etcd_verdict(q);
    json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:s}", "voters", q->voters, "learners", q->learners,
                          "quorum", q->quorum, "healthy_voters", q->healthy_voters, "tolerance",
                          q->tolerance, "verdict", v ? v : "");
    free(v);
    return o;
}

static json_t *strv_json(const vet_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

json_t *vet_etcd_plan_to_json(const vet_etcd_plan *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "before", quorum_json(&p->before));
    json_object_set_new(o, "after", quorum_json(&p->after));
    json_object_set_new(o, "refused", json_boolean(p->refused));
    if (p->refusal)
        json_object_set_new(o, "refusal", json_string(p->refusal));
    json_object_set_new(o, "steps", strv_json(&p->steps));
    if (p->refused)
        json_object_set_new(o, "alternatives", strv_json(&p->alternatives));
    if (p->initial_cluster && !p->refused)
        json_object_set_new(o, "initial_cluster", json_string(p->initial_cluster));
    if (p->extra)
        json_object_update(o, p->extra);
    return o;
}

/* ---- facts about members ---- */

/* Counts toward quorum: the rule of vet_etcd_quorum_of, for one member. */
static int counted(const vet_etcd_facts *f, const vet_etcd_member *m)
{
    vet_etcd_facts one;
    vet_etcd_quorum q;
    memset(&one, 0, sizeof one);
    one.members = (vet_etcd_member *)m;
    one.nmembers = 1;
    one.have_status = f->have_status;
    vet_etcd_quorum_of(&q, &one);
    return q.healthy_voters;
}

/* Answers its status endpoint: it runs and holds data, with or without a leader. */
static int reachable(const vet_etcd_facts *f, const vet_etcd_member *m)
{
    return m->started && (f->have_status ? m->status_ok : 1);
}

static void recompute(vet_etcd_quorum *q)
{
    q->quorum = vet_etcd_quorum_size(q->voters);
    q->tolerance = q->healthy_voters - q->quorum;
}

/* The member the static pod under --root runs. */
static int is_local(const vet_etcd_facts *f, const vet_etcd_member *m)
{
    if (!f->pod || !f->pod_is_member)
        return 0;
    for (size_t i = 0; i < f->pod->initial_advertise_peer_urls.n; i++)
        if (vet_strv_find(&m->peer_urls, f->pod->initial_advertise_peer_urls.v[i], 0) >= 0)
            return 1;
    return m->started && f->pod->name && !strcmp(f->pod->name, m->name);
}

/* The reachable voter with the most of the log: the one to rebuild from. */
static const vet_etcd_member *best_survivor(const vet_etcd_facts *f)
{
    const vet_etcd_member *best = NULL;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->is_learner || !reachable(f, m))
            continue;
        if (!best || m->raft_index > best->raft_index)
            best = m;
    }
    return best;
}

static const char *plural(int n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* ---- pasteable text ---- */

const char *etcd_sh(vet_strv *arena, const char *s)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "._:/=,@%+-";
    vet_buf b = VET_BUF_INIT;
    if (*s && strspn(s, safe) == strlen(s))
        return s;
    vet_buf_puts(&b, "'");
    for (const char *c = s; *c; c++)
        vet_buf_puts(&b, *c == '\'' ? "'\\''" : (char[]){*c, 0});
    vet_buf_puts(&b, "'");
    if (!b.ptr || vet_strv_take(arena, b.ptr)) {
        vet_buf_free(&b);
        return "''";
    }
    return arena->v[arena->n - 1];
}

/* A formatted string that lives in arena. */
static const char *tmpf(vet_strv *arena, const char *fmt, ...) VET_PRINTF(2, 3);
static const char *tmpf(vet_strv *arena, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        return "";
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (vet_strv_take(arena, s))
        return "";
    return arena->v[arena->n - 1];
}

static const char *label_of(vet_strv *arena, const vet_etcd_member *m)
{
    char hex[17];
    char *s;
    if (m->started)
        return m->name;
    s = vet_strdupf("member %s (never started)", vet_etcd_id_hex(hex, m->id));
    if (!s || vet_strv_take(arena, s))
        return "member (never started)";
    return arena->v[arena->n - 1];
}

/* Client URLs of the voters that count toward quorum, but skip; else the endpoint that answered. */
static const char *endpoints(vet_strv *arena, const vet_etcd_facts *f, uint64_t skip)
{
    vet_buf b = VET_BUF_INIT;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->id == skip || m->is_learner || !counted(f, m) || !m->client_urls.n)
            continue;
        vet_buf_printf(&b, "%s%s", b.size ? "," : "", m->client_urls.v[0]);
    }
    if (!b.size)
        vet_buf_puts(&b, f->endpoint ? f->endpoint : "https://127.0.0.1:2379");
    if (!b.ptr || vet_strv_take(arena, b.ptr)) {
        vet_buf_free(&b);
        return f->endpoint ? f->endpoint : "https://127.0.0.1:2379";
    }
    return arena->v[arena->n - 1];
}

static int any_https(const char *eps)
{
    for (const char *s = eps; s && *s;) {
        if (vet_url_is_https(s))
            return 1;
        s = strchr(s, ',');
        s = s ? s + 1 : NULL;
    }
    return 0;
}

/* "etcdctl --endpoints=... [TLS flags]" or "kubevet etcd ... --etcd-endpoints=... [flags]": the
 * TLS flags only for https endpoints, with the node's files; placeholders (and *ph = 1) when
 * kubevet itself had none. */
static const char *client(vet_strv *arena, const vet_etcd_facts *f, const char *eps, int kubevet,
                          int *ph)
{
    const char *ca = f->tls_cacert, *crt = f->tls_cert, *key = f->tls_key;
    char *s;
    if (!any_https(eps))
        s = vet_strdupf(kubevet ? "--etcd-endpoints=%s" : "etcdctl --endpoints=%s",
                        etcd_sh(arena, eps));
    else {
        if (!ca || !crt || !key)
            *ph = 1;
        s = vet_strdupf(kubevet ? "--etcd-endpoints=%s --etcd-cacert=%s --etcd-cert=%s "
                                  "--etcd-key=%s"
                                : "etcdctl --endpoints=%s --cacert=%s --cert=%s --key=%s",
                        etcd_sh(arena, eps), ca ? etcd_sh(arena, ca) : "<etcd-ca.crt>",
                        crt ? etcd_sh(arena, crt) : "<client.crt>",
                        key ? etcd_sh(arena, key) : "<client.key>");
    }
    if (!s || vet_strv_take(arena, s))
        return kubevet ? "" : "etcdctl";
    return arena->v[arena->n - 1];
}

#define PLACEHOLDER_NOTE                                                                           \
    "<etcd-ca.crt>, <client.crt>, <client.key>: kubevet found no etcd client certificate for "     \
    "these https endpoints; on a kubeadm node they are /etc/kubernetes/pki/etcd/ca.crt and "       \
    "/etc/kubernetes/pki/etcd/healthcheck-client.crt/.key"

/* The tail every plan shares: a refusal must carry its reason and fix, and a plan that printed a
 * <placeholder> says how to fill it, under the alternatives or the steps it belongs to. */
static int finish(vet_etcd_plan *p, int ph)
{
    int rc = 0;
    if (p->refused && (!p->refusal || !p->fix))
        return OOM();
    if (ph) {
        if (p->refused)
            ALT("Note: %s", PLACEHOLDER_NOTE);
        else
            STEP("Note: %s", PLACEHOLDER_NOTE);
    }
done:
    return rc;
}

/* name=url for every member (etcdctl's ETCD_INITIAL_CLUSTER), but skip, plus an added one. */
static char *initial_cluster(const vet_etcd_facts *f, uint64_t skip, int skipping,
                             const char *add_name, const char *add_url)
{
    vet_buf b = VET_BUF_INIT;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (skipping && m->id == skip)
            continue;
        for (size_t j = 0; j < m->peer_urls.n; j++)
            vet_buf_printf(&b, "%s%s=%s", b.size ? "," : "", m->started ? m->name : "NEW_NAME",
                           m->peer_urls.v[j]);
    }
    if (add_name)
        vet_buf_printf(&b, "%s%s=%s", b.size ? "," : "", add_name, add_url);
    return vet_buf_detach(&b);
}

/* ---- alternatives when quorum is lost ---- */

/* Bring members back (no data lost), rebuild from the survivor (--force-new-cluster), or
 * restore a snapshot. Shared by every plan that meets a cluster without quorum. */
static int alt_quorum_lost(vet_etcd_plan *p, const vet_etcd_facts *f, vet_strv *ar, int *ph)
{
    const vet_etcd_member *s = best_survivor(f);
    vet_buf down = VET_BUF_INIT, others = VET_BUF_INIT, members = VET_BUF_INIT;
    int need = p->before.quorum, rc = 0, n = 1, ran = 0, fresh = 0;
    const char *back;
    char *ic = initial_cluster(f, 0, 0, NULL, NULL);
    const char *all = endpoints(ar, f, 0);
    char hex[17];

    if (!ic)
        return OOM();
    /* Members that answer but have no leader come back by themselves once enough of the others
     * do: only the ones that do not run are "down". */
    for (size_t i = 0; i < f->nmembers; i++)
        if (!f->members[i].is_learner &&
            (counted(f, &f->members[i]) || reachable(f, &f->members[i])))
            need--;
    if (need < 1)
        need = 1;
    ALT("A. Bring %d more voting member%s back: the only way that loses no data.", need,
        plural(need, "", "s"));
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->is_learner || counted(f, m) || reachable(f, m))
            continue;
        vet_buf_printf(&down, "%s%s", down.size ? ", " : "", label_of(ar, m));
        ran += m->started;
        fresh += !m->started;
        if (m->started)
            ALT("   - %s (peer %s): start etcd again on its node with its data directory as it "
                "is. On a kubeadm node the kubelet runs it from "
                "/etc/kubernetes/manifests/etcd.yaml; why it stopped: crictl ps -a --name etcd, "
                "then crictl logs <container ID>.",
                m->name, m->peer_urls.n ? m->peer_urls.v[0] : "?");
        else
            ALT("   - member %s (peer %s) was added but never started, so it holds no data: start "
                "it for the first time on the node that owns %s, as a new member: etcd "
                "--name=NEW_NAME --initial-advertise-peer-urls=%s --initial-cluster-state=existing "
                "--initial-cluster=%s  (NEW_NAME: the name it was added for).",
                vet_etcd_id_hex(hex, m->id), m->peer_urls.n ? m->peer_urls.v[0] : "?",
                m->peer_urls.n ? m->peer_urls.v[0] : "?",
                m->peer_urls.n ? etcd_sh(ar, m->peer_urls.v[0]) : "?", etcd_sh(ar, ic));
    }
    ALT("   Quorum is back when kubevet etcd status %s reads \"%d healthy\" or more.",
        client(ar, f, all, 1, ph), p->before.quorum);
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->started && !m->is_learner)
            vet_buf_printf(&members, " --member %s",
                           etcd_sh(ar, tmpf(ar, "%s=%s", m->name,
                                            m->peer_urls.n ? m->peer_urls.v[0] : "<peer URL>")));
        if (s && m != s && reachable(f, m))
            vet_buf_printf(&others, "%s%s", others.size ? ", " : "", m->name);
    }
    if (s) {
        const char *sep = s->client_urls.n ? s->client_urls.v[0] : all;
        ALT("B. If %s cannot be brought back: rebuild from %s, the reachable member with the most "
            "of the log (raft index %llu). It keeps its data and restarts as a one-member "
            "cluster (--force-new-cluster); the other members are added back afterwards. Writes "
            "that only the lost members had are lost.",
            down.ptr ? down.ptr : "they", s->name, (unsigned long long)s->raft_index);
        ALT("   %d. Snapshot %s first (a member serves it from its own data, without quorum): "
            "mkdir -p " BACKUP_DIR " && kubevet etcd snapshot save %s " BACKUP_DIR
            "/%s-before-force-new-cluster.db",
            n++, s->name, client(ar, f, sep, 1, ph), s->name);
        if (others.size)
            ALT("   %d. Stop etcd on %s and keep it stopped (on each node: mv "
                "/etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml.stopped): they "
                "come back as new members in the last step.",
                n++, others.ptr);
        ALT("   %d. On %s's node, stop etcd: mv /etc/kubernetes/manifests/etcd.yaml "
            "/etc/kubernetes/etcd.yaml.recover ; wait until crictl ps --name etcd lists nothing.",
            n++, s->name);
        ALT("   %d. Add the item \"- --force-new-cluster\" to the etcd command in "
            "/etc/kubernetes/etcd.yaml.recover, then start it again: mv "
            "/etc/kubernetes/etcd.yaml.recover /etc/kubernetes/manifests/etcd.yaml",
            n++);
        ALT("   %d. Wait until %s member list shows %s alone and endpoint health says healthy.",
            n++, client(ar, f, sep, 0, ph), s->name);
        ALT("   %d. Take --force-new-cluster out again the same way (move the manifest out, edit, "
            "move it back): left in, every restart would repeat it.",
            n++);
        ALT("   %d. Add the other members back one at a time, each as a new member and a learner "
            "first: kubevet etcd plan add-member --name NAME --peer-url URL --learner %s",
            n++, client(ar, f, sep, 1, ph));
    } else {
        ALT("B. No member answers, so there is no member to rebuild from: see C.");
    }
    ALT("C. Or restore all members from a verified snapshot (loses the writes made after it was "
        "taken): kubevet etcd snapshot verify FILE, then kubevet etcd plan restore --snapshot "
        "FILE%s",
        members.ptr ? members.ptr : " --member NAME=PEER_URL");
    back = !fresh ? (ran == 1 ? "back with its data directory as it is"
                              : "back with their data directories as they are")
           : !ran ? "up for the first time (it never ran, so it holds no data)"
                  : "back (those that ran with their data directories as they are, the "
                    "never-started ones for the first time)";
    free(p->fix);
    p->fix = s ? vet_strdupf("bring %s %s; if that is impossible, rebuild from %s with "
                             "--force-new-cluster, or restore a verified snapshot (the "
                             "alternatives printed with the plan)",
                             down.ptr ? down.ptr : "the missing members", back, s->name)
               : vet_strdupf("bring %s %s, or restore a verified snapshot (the alternatives "
                             "printed with the plan)",
                             down.ptr ? down.ptr : "the missing members", back);
done:
    free(ic);
    vet_buf_free(&down);
    vet_buf_free(&others);
    vet_buf_free(&members);
    return rc;
}

/* ---- remove-member ---- */

static int remove_refused_healthy(vet_etcd_plan *p, const vet_etcd_facts *f,
                                  const vet_etcd_member *m, vet_strv *ar, int *ph)
{
    vet_buf down = VET_BUF_INIT;
    const vet_etcd_member *first_down = NULL;
    int rc = 0, h = p->after.healthy_voters;
    char hex[17];

    p->refusal = vet_strdupf(
        "%s is a healthy voting member; without it %d of %d voting %s would be healthy, below "
        "the new quorum of %d: the cluster would stop accepting writes and the kube-apiserver "
        "with it.",
        m->name, h, p->after.voters, h == 1 && p->after.voters == 1 ? "member" : "members",
        p->after.quorum);
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *d = &f->members[i];
        if (d->is_learner || counted(f, d))
            continue;
        if (!first_down)
            first_down = d;
        vet_buf_printf(&down, "%s%s", down.size ? ", " : "", label_of(ar, d));
    }
    if (first_down) {
        ALT("A. Bring %s back first (with %s data directory as it is), then plan this removal "
            "again.",
            down.ptr, down.size && strchr(down.ptr, ',') ? "their" : "its");
        ALT("B. Or, if %s is gone for good, remove it first (the cluster keeps quorum while it "
            "does), then plan this removal again: kubevet etcd plan remove-member --id %s %s",
            label_of(ar, first_down), vet_etcd_id_hex(hex, first_down->id),
            client(ar, f, endpoints(ar, f, 0), 1, ph));
    }
    ALT("%s. Or add a member first (as a learner, then promote it), so that %s can leave with "
        "quorum kept: kubevet etcd plan add-member --name NAME --peer-url URL --learner %s",
        first_down ? "C" : "A", m->name, client(ar, f, endpoints(ar, f, 0), 1, ph));
    p->fix = first_down ? vet_strdupf("bring %s back first, or remove it first if it is gone for "
                                      "good; then plan the removal of %s again",
                                      down.ptr, m->name)
                        : vet_strdupf("add a member first (learner, then promote); then plan the "
                                      "removal of %s again",
                                      m->name);
done:
    vet_buf_free(&down);
    return rc;
}

static int remove_steps(vet_etcd_plan *p, const vet_etcd_facts *f, const vet_etcd_member *m,
                        vet_strv *ar, int *ph)
{
    const char *eps = endpoints(ar, f, m->id);
    const char *label = label_of(ar, m);
    int local = is_local(f, m), rc = 0;
    char hex[17];
    char *after = vet_etcd_verdict(&p->after);
    const char *dir = local && f->pod && f->pod->data_host_path ? f->pod->data_host_path
                      : local && f->pod && f->pod->data_dir     ? f->pod->data_dir
                                                                : KUBEADM_DATA_DIR;

    if (!after)
        return OOM();
    vet_etcd_id_hex(hex, m->id);
    STEP("Snapshot first: mkdir -p " BACKUP_DIR " && kubevet etcd snapshot save %s " BACKUP_DIR
         "/before-remove-%s.db",
         client(ar, f, eps, 1, ph), m->started ? m->name : hex);
    if (m->started && counted(f, m) && !m->is_learner)
        STEP("If %s runs on a kubeadm control-plane node, take that node's kube-apiserver out of "
             "the load balancer first: it reads its local etcd and fails once %s is removed.%s",
             label, label, local ? " This is the member of the node under --root." : "");
    STEP("%s member remove %s", client(ar, f, eps, 0, ph), hex);
    if (m->started)
        STEP("On %s's node, keep etcd from starting again as the removed member: mv "
             "/etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml.removed . Its data "
             "directory (%s) belongs to the removed member: leave it as it is and never start "
             "etcd on it again; to bring the node back later, follow kubevet etcd plan "
             "add-member.",
             label, dir);
    else
        STEP("%s never started, so no node holds data for it; if a node is still trying to join "
             "as it (peer %s), stop etcd there.",
             label, m->peer_urls.n ? m->peer_urls.v[0] : "?");
    STEP("Check: kubevet etcd status %s should read \"%s\".", client(ar, f, eps, 1, ph), after);
    if (!m->is_learner && p->after.voters > 0 && p->after.voters % 2 == 0)
        STEP("Note: %d voting members tolerate no more failures than %d did%s; add one back "
             "(kubevet etcd plan add-member) to return to an odd size.",
             p->after.voters, p->after.voters - 1,
             p->after.tolerance == 0 ? ", and right now none at all" : "");
    else if (!m->is_learner && p->after.tolerance == 0)
        STEP("Note: afterwards the cluster cannot lose another member; replace %s soon.", label);
    if (p->initial_cluster && *p->initial_cluster)
        STEP("Optional, for a later restore or re-bootstrap only (etcd ignores --initial-cluster "
             "while its data directory exists, KV303): the remaining members are %s",
             p->initial_cluster);
    if (m->started && !m->is_learner)
        STEP("Note: for a kubeadm control-plane node leaving for good, kubeadm reset on that node "
             "removes its own etcd member (phase remove-etcd-member) and cleans the node; then "
             "kubectl delete node %s.",
             etcd_sh(ar, m->name));
done:
    free(after);
    return rc;
}

int vet_etcd_plan_remove_member(vet_etcd_plan **out, const vet_etcd_facts *f, const char *key)
{
    vet_etcd_plan *p = calloc(1, sizeof *p);
    const vet_etcd_member *m = vet_etcd_member_find(f, key);
    vet_strv ar = VET_STRV_INIT;
    char hex[17];
    int rc = 0, ph = 0;

    *out = NULL;
    if (!p)
        return OOM();
    if (!m) {
        rc = vet_error_set(VET_EUSAGE, "no etcd member named or with ID %s", key ? key : "");
        goto done;
    }
    vet_etcd_quorum_of(&p->before, f);
    p->after = p->before;
    if (m->is_learner) {
        p->after.learners--;
    } else {
        p->after.voters--;
        p->after.started_voters -= m->started;
        p->after.healthy_voters -= counted(f, m);
    }
    recompute(&p->after);
    if (!(p->initial_cluster = initial_cluster(f, m->id, 1, NULL, NULL))) {
        rc = OOM();
        goto done;
    }
    if (p->before.voters > 0 && p->before.tolerance < 0) {
        /* Membership changes go through raft: without quorum `member remove` never commits. */
        int h = p->before.healthy_voters;
        p->refused = 1;
        p->refusal = vet_strdupf(
            "quorum is already lost: %d of %d voting members %s healthy, quorum is %d. Removing "
            "%s is a membership change that needs quorum itself, so etcd would not complete it "
            "(etcdctl waits until it times out). Restore quorum first.",
            h, p->before.voters, plural(h, "is", "are"), p->before.quorum, label_of(&ar, m));
        rc = alt_quorum_lost(p, f, &ar, &ph);
    } else if (!m->is_learner && p->before.voters == 1) {
        p->refused = 1;
        p->refusal = vet_strdupf("%s is the only voting member: removing it would leave no "
                                 "cluster at all.",
                                 label_of(&ar, m));
        p->fix = vet_strdupf("to retire this etcd, take a snapshot and stop it; do not remove "
                             "its only member");
        {
            const char *eps = endpoints(&ar, f, 0);
            ALT("A. To retire this etcd: snapshot it (mkdir -p " BACKUP_DIR
                " && kubevet etcd snapshot save %s " BACKUP_DIR "/%s-final.db), then stop it "
                "(mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml.stopped) and "
                "keep its data directory.",
                client(&ar, f, eps, 1, &ph), m->started ? m->name : "etcd");
            ALT("B. To replace it: add the new member first (kubevet etcd plan add-member ... "
                "--learner), promote it, then plan this removal again.");
        }
    } else if (!m->is_learner && counted(f, m) && p->after.tolerance < 0) {
        p->refused = 1;
        rc = remove_refused_healthy(p, f, m, &ar, &ph);
    } else {
        rc = remove_steps(p, f, m, &ar, &ph);
    }
    if (rc || (rc = finish(p, ph)))
        goto done;
    p->extra =
        json_pack("{s:s,s:s,s:b,s:b,s:b}", "member", m->name, "id", vet_etcd_id_hex(hex, m->id),
                  "is_learner", m->is_learner, "started", m->started, "local", is_local(f, m));
done:
    vet_strv_free(&ar);
    if (rc) {
        vet_etcd_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- add-member ---- */

/* The learner path, as the plan's steps or (alt) as the lines of an alternative. */
static int learner_path(vet_etcd_plan *p, const vet_etcd_facts *f, const char *name,
                        const char *url, int alt, vet_strv *ar, int *ph)
{
    const char *eps = endpoints(ar, f, 0);
    vet_strv *dst = alt ? &p->alternatives : &p->steps;
    vet_etcd_quorum fin = p->before;
    char *verdict;
    int rc = 0, n = 1;
    const char *lines[6];
    size_t nl = 0;

    fin.voters++;
    fin.healthy_voters++;
    recompute(&fin);
    if (!(verdict = vet_etcd_verdict(&fin)))
        return OOM();
    lines[nl++] = tmpf(ar,
                       "Snapshot first: mkdir -p " BACKUP_DIR " && kubevet etcd snapshot save "
                       "%s " BACKUP_DIR "/before-add-%s.db",
                       client(ar, f, eps, 1, ph), name);
    lines[nl++] = tmpf(ar,
                       "Add it as a learner: %s member add %s --peer-urls=%s --learner   (or: "
                       "kubevet etcd plan add-member --name %s --peer-url %s --apply %s)",
                       client(ar, f, eps, 0, ph), etcd_sh(ar, name), etcd_sh(ar, url),
                       etcd_sh(ar, name), etcd_sh(ar, url), client(ar, f, eps, 1, ph));
    lines[nl++] = tmpf(
        ar,
        "On %s's node, start etcd as a new member: --name=%s --initial-advertise-peer-urls=%s "
        "--initial-cluster-state=existing --initial-cluster=%s . It starts from a new, empty "
        "data directory on that node; a directory an earlier member left there "
        "(kubeadm: " KUBEADM_DATA_DIR ") is moved aside first, on that new node only. kubeadm join "
        "--control-plane writes this etcd.yaml itself, but adds a voting member unless the "
        "EtcdLearnerMode feature gate is on (kubeadm >= 1.27).",
        name, etcd_sh(ar, name), etcd_sh(ar, url), etcd_sh(ar, p->initial_cluster));
    lines[nl++] = tmpf(ar,
                       "When its raft index has caught up with the leader's (%s endpoint status "
                       "--cluster), promote it: %s member promote <ID printed by member add>  "
                       "(etcd refuses while it lags; retry)",
                       client(ar, f, eps, 0, ph), client(ar, f, eps, 0, ph));
    lines[nl++] = tmpf(ar,
                       "Check: kubevet etcd status %s should read \"%s\"; only then add the next "
                       "member.",
                       client(ar, f, eps, 1, ph), verdict);
    if (fin.voters % 2 == 0)
        lines[nl++] = tmpf(ar,
                           "Note: %d voting members tolerate no more failures than %d; plan the "
                           "next member too.",
                           fin.voters, fin.voters - 1);
    for (size_t i = 0; i < nl; i++) {
        char *s = alt && !strncmp(lines[i], "Note:", 5) ? vet_strdupf("   %s", lines[i])
                  : alt                                 ? vet_strdupf("   %d. %s", n++, lines[i])
                                                        : strdup(lines[i]);
        if (!s || vet_strv_take(dst, s)) {
            rc = OOM();
            break;
        }
    }
    free(verdict);
    return rc;
}

int vet_etcd_plan_add_member(vet_etcd_plan **out, const vet_etcd_facts *f, const char *name,
                             const char *peer_url, int as_learner)
{
    vet_etcd_plan *p = calloc(1, sizeof *p);
    const vet_etcd_member *learner = NULL;
    vet_strv ar = VET_STRV_INIT;
    size_t nunstarted = 0;
    int rc = 0, ph = 0;
    char hex[17];

    *out = NULL;
    if (!p)
        return OOM();
    if (!name || !*name || !peer_url || !*peer_url) {
        rc = vet_error_set(VET_EUSAGE, "plan add-member needs --name and --peer-url");
        goto done;
    }
    if ((rc = etcd_check_name(name, "--name")) || (rc = vet_url_check_http(peer_url, "--peer-url")))
        goto done;
    if (vet_etcd_member_find(f, name) || vet_etcd_member_find(f, peer_url)) {
        rc = vet_error_set(VET_EUSAGE, "a member named %s or with peer URL %s already exists", name,
                           peer_url);
        goto done;
    }
    for (size_t i = 0; i < f->nmembers; i++) {
        if (f->members[i].is_learner && !learner)
            learner = &f->members[i];
        nunstarted += !f->members[i].started && !f->members[i].is_learner;
    }
    vet_etcd_quorum_of(&p->before, f);
    /* Judged right after `member add`, before the new member has started: that is what the
     * cluster lives with until the new etcd has joined and caught up. */
    p->after = p->before;
    if (as_learner)
        p->after.learners++;
    else
        p->after.voters++;
    recompute(&p->after);
    if (!(p->initial_cluster = initial_cluster(f, 0, 0, name, peer_url))) {
        rc = OOM();
        goto done;
    }

    if (p->before.voters > 0 && p->before.tolerance < 0) {
        int h = p->before.healthy_voters;
        p->refused = 1;
        p->refusal =
            vet_strdupf("quorum is already lost: %d of %d voting members %s healthy, "
                        "quorum is %d. Adding %s is a membership change that needs "
                        "quorum, so etcd would not complete it. Restore quorum first.",
                        h, p->before.voters, plural(h, "is", "are"), p->before.quorum, name);
        rc = alt_quorum_lost(p, f, &ar, &ph);
    } else if (as_learner && learner) {
        p->refused = 1;
        p->refusal = vet_strdupf(
            "etcd 3.4 accepts one learner at a time, and %s already is one: a second `member add "
            "--learner` fails (\"too many learner members in cluster\").",
            label_of(&ar, learner));
        vet_etcd_id_hex(hex, learner->id);
        if (reachable(f, learner))
            ALT("A. Promote %s once it has caught up (%s member promote %s), then plan this add "
                "again.",
                learner->name, client(&ar, f, endpoints(&ar, f, 0), 0, &ph), hex);
        else
            ALT("A. %s does not run: start it, or remove it (kubevet etcd plan remove-member --id "
                "%s), then plan this add again.",
                label_of(&ar, learner), hex);
        p->fix = vet_strdupf("promote or remove the existing learner %s first", hex);
    } else if (!as_learner && p->after.tolerance < 0) {
        int h = p->after.healthy_voters;
        p->refused = 1;
        p->refusal = vet_strdupf(
            "adding %s as a voting member raises quorum from %d to %d, but only %d voting %s "
            "healthy until %s has started and caught up: from `member add` on, writes time out "
            "(gRPC code 14), /health turns false, the kube-apiserver stops, and taking the "
            "member out again hangs, because that needs quorum too (the %d -> %d trap). "
            "Learners do not vote: as a learner, quorum stays %d.",
            name, p->before.quorum, p->after.quorum, h, h == 1 ? "member is" : "members are", name,
            p->before.voters, p->after.voters, p->before.quorum);
        if (learner) {
            ALT("A. First promote or remove the learner %s (etcd 3.4 allows one), then plan this "
                "add again with --learner.",
                label_of(&ar, learner));
        } else {
            ALT("A. Add %s as a learner instead (quorum stays %d while it catches up):", name,
                p->before.quorum);
            rc = learner_path(p, f, name, peer_url, 1, &ar, &ph);
        }
        p->fix = vet_strdupf("add %s as a learner, start it, then promote it (kubevet etcd plan "
                             "add-member --learner)",
                             name);
    } else {
        if (nunstarted)
            STEP("First: %zu voting member%s never started and already count%s against quorum: "
                 "start %s or remove %s (kubevet etcd plan remove-member --id ID) before adding "
                 "another.",
                 nunstarted, nunstarted == 1 ? "" : "s", nunstarted == 1 ? "s" : "",
                 nunstarted == 1 ? "it" : "them", nunstarted == 1 ? "it" : "them");
        if (!as_learner)
            STEP("Added as a voter, %s would leave the cluster able to lose %d until it has "
                 "started; these steps add it as a learner, which keeps quorum at %d.",
                 name, p->after.tolerance, p->before.quorum);
        rc = learner_path(p, f, name, peer_url, 0, &ar, &ph);
    }
    if (rc || (rc = finish(p, ph)))
        goto done;
    p->extra =
        json_pack("{s:s,s:s,s:b}", "name", name, "peer_url", peer_url, "is_learner", as_learner);
done:
    vet_strv_free(&ar);
    if (rc) {
        vet_etcd_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
