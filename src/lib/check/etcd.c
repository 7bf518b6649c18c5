/* etcd checks (KV301-KV304, KV306, KV503): judge the facts the etcd source gathered
 * (struct vet_etcd_facts, ctx->etcd). Nothing here talks to etcd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/etcd.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")

static const char *subject_of(const vet_etcd_member *m, char *buf, size_t n)
{
    char hex[17];
    if (m->started)
        return m->name;
    snprintf(buf, n, "member %s (never started)", vet_etcd_id_hex(hex, m->id));
    return buf;
}

static const char *first_peer(const vet_etcd_member *m)
{
    return m->peer_urls.n ? m->peer_urls.v[0] : "(no peer URL)";
}

/* Would a member count toward quorum? Same rule as vet_etcd_quorum_of. */
static int counts(const vet_etcd_facts *f, const vet_etcd_member *m)
{
    if (!f->have_status)
        return m->started;
    return m->healthy || (m->status_ok && m->leader && m->alarms.n);
}

int vet_check_kv301(const vet_ctx *ctx, vet_report *r)
{
    const vet_etcd_facts *f = ctx->etcd;
    vet_etcd_quorum q;
    vet_finding *fi;
    char *verdict = NULL, sub[64], hex[17];
    int rc = 0;

    if (!f)
        return 0;
    vet_etcd_quorum_of(&q, f);
    if (!(verdict = vet_etcd_verdict(&q)))
        return OOM();

    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->started || m->is_learner)
            continue;
        if (!(fi = vet_check_emit(r, "KV301", subject_of(m, sub, sizeof sub)))) {
            rc = OOM();
            goto done;
        }
        vet_finding_message(
            fi,
            "voting member %s (peer %s) was added but never started: it counts toward quorum "
            "(%d of %d voters) without being able to vote. %s.%s",
            vet_etcd_id_hex(hex, m->id), first_peer(m), q.quorum, q.voters, verdict,
            q.tolerance < 0 ? " This is the 1 -> 2 trap: writes time out and the kube-apiserver "
                              "stops until the member starts or quorum is restored."
                            : "");
        if (q.tolerance < 0)
            vet_finding_fix(fi,
                            "start it for the first time on the node it was added for (it holds no "
                            "data) with --initial-cluster-state=existing; removing it needs quorum "
                            "and would hang now: `kubevet etcd plan remove-member --id %s` prints "
                            "the recovery paths",
                            hex);
        else
            vet_finding_fix(fi,
                            "start it on the node it was added for (--initial-cluster-state="
                            "existing), or remove it while quorum still holds: kubevet etcd plan "
                            "remove-member --id %s",
                            hex);
        vet_finding_set_str(fi, "member_id", hex);
    }
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        const char *why = NULL;
        if (!m->is_learner)
            continue;
        if (!m->started)
            why = "was added as a learner but never started";
        else if (f->have_status && !m->status_ok)
            why = "does not answer its status endpoint";
        if (!why)
            continue;
        if (!(fi = vet_check_emit(r, "KV301", subject_of(m, sub, sizeof sub)))) {
            rc = OOM();
            goto done;
        }
        vet_finding_message(fi,
                            "learner %s %s: it cannot be promoted, and etcd 3.4 allows only one "
                            "learner, so no other member can be added safely.",
                            vet_etcd_id_hex(hex, m->id), why);
        vet_finding_fix(fi,
                        "start it (--initial-cluster-state=existing) or remove it%s: kubevet etcd "
                        "plan remove-member --id %s",
                        q.tolerance < 0 ? " once quorum is back" : "", hex);
        vet_finding_set_str(fi, "member_id", hex);
    }
    if (q.voters > 0 && q.voters % 2 == 0) {
        if (!(fi = vet_check_emit(r, "KV301", "etcd cluster"))) {
            rc = OOM();
            goto done;
        }
        vet_finding_message(fi,
                            "%d voting members: quorum is %d, so it survives %d failure%s, no "
                            "more than %d member%s would%s. %s.",
                            q.voters, q.quorum, q.voters - q.quorum,
                            q.voters - q.quorum == 1 ? "" : "s", q.voters - 1,
                            q.voters - 1 == 1 ? "" : "s",
                            q.voters == 2 ? ", and either member alone can stop it" : "", verdict);
        vet_finding_fix(fi, "run an odd number of voting members: add one more (as a learner, "
                            "then promote: `kubevet etcd plan add-member`) or remove one");
    }
    if (f->have_status && q.voters > 0 && q.tolerance < 0) {
        vet_buf names = VET_BUF_INIT, down = VET_BUF_INIT;
        int ndown = 0, ran = 0;
        for (size_t i = 0; i < f->nmembers; i++) {
            const vet_etcd_member *m = &f->members[i];
            if (!m->is_learner && !counts(f, m)) {
                vet_buf_printf(&names, "%s%s", names.size ? ", " : "",
                               subject_of(m, sub, sizeof sub));
                /* one that answers without a leader recovers by itself with the others */
                if (!(m->started && m->status_ok)) {
                    vet_buf_printf(&down, "%s%s", down.size ? ", " : "",
                                   subject_of(m, sub, sizeof sub));
                    ndown++;
                    ran += m->started;
                }
            }
        }
        fi = vet_check_emit(r, "KV301", "etcd cluster");
        if (!fi) {
            vet_buf_free(&names);
            vet_buf_free(&down);
            rc = OOM();
            goto done;
        }
        vet_finding_message(fi,
                            "%s: only %d of %d voting members %s healthy, quorum needs %d. etcd "
                            "rejects writes and the kube-apiserver stops. Not healthy: %s.",
                            verdict, q.healthy_voters, q.voters,
                            q.healthy_voters == 1 ? "is" : "are", q.quorum,
                            names.ptr ? names.ptr : "?");
        vet_finding_fix(fi,
                        "bring %s %s, until %d %s healthy; until then leave membership and data "
                        "directories alone (a removal needs quorum). If %s cannot be started: "
                        "`kubevet etcd plan remove-member --id <its ID>` prints the recovery "
                        "from a survivor's data (--force-new-cluster) or from a verified snapshot",
                        down.ptr ? down.ptr : "the members that do not answer",
                        ran == ndown ? (ndown == 1 ? "back with its data directory as it is"
                                                   : "back with their data directories as they are")
                        : !ran       ? "up for the first time (never started: no data yet)"
                                     : "back (those that ran with their data directories as they "
                                       "are, the never-started ones for the first time)",
                        q.quorum, q.quorum == 1 ? "is" : "are", ndown == 1 ? "it" : "they");
        vet_buf_free(&names);
        vet_buf_free(&down);
    }
    if (f->planned && !f->planned->is_learner) {
        int after = vet_etcd_quorum_size(q.voters + 1);
        if (q.healthy_voters < after) {
            if (!(fi = vet_check_emit(r, "KV301", f->planned->name))) {
                rc = OOM();
                goto done;
            }
            vet_finding_message(
                fi,
                "adding %s (%s) as a voting member makes %d voters with quorum %d, but only %d "
                "%s healthy until it has started: the cluster would lose quorum at `member add` "
                "(the %d -> %d trap), and the new member's removal would hang.",
                f->planned->name, f->planned->peer_url, q.voters + 1, after, q.healthy_voters,
                q.healthy_voters == 1 ? "is" : "are", q.voters, q.voters + 1);
            vet_finding_fix(fi, "add it as a learner (etcd >= 3.4), start it, then promote: the "
                                "steps printed by `kubevet etcd plan add-member`");
        }
    }
done:
    free(verdict);
    return rc;
}

int vet_check_kv302(const vet_ctx *ctx, vet_report *r)
{
    const vet_etcd_facts *f = ctx->etcd;
    vet_finding *fi;
    if (!f || !f->have_status)
        return 0;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (!m->started)
            continue; /* KV301/KV304 */
        if (m->health_checked && !m->healthy) {
            if (!(fi = vet_check_emit(r, "KV302", m->name)))
                return OOM();
            vet_finding_message(fi, "member %s (%s) is not healthy: %s", m->name,
                                m->client_urls.n ? m->client_urls.v[0] : "no client URL",
                                m->health_error ? m->health_error
                                                : (m->status_error ? m->status_error : "unknown"));
            vet_finding_fix(fi,
                            "check the member's logs (crictl logs on its node) and "
                            "etcdctl endpoint status --cluster; a member without a leader "
                            "usually means the others are down or unreachable on the peer port");
        }
        for (size_t j = 0; j < m->alarms.n; j++) {
            if (!(fi = vet_check_emit(r, "KV302", m->name)))
                return OOM();
            vet_finding_message(
                fi,
                "member %s has the %s alarm raised: etcd 3.4 reports "
                "/health false while any alarm is active%s.",
                m->name, m->alarms.v[j],
                !strcmp(m->alarms.v[j], "NOSPACE") ? " and accepts only reads and deletes" : "");
            vet_finding_fix(fi, "%s",
                            !strcmp(m->alarms.v[j], "NOSPACE")
                                ? "compact and defragment (etcdctl compact <rev>; etcdctl defrag), "
                                  "raise --quota-backend-bytes if needed, then etcdctl alarm disarm"
                                : "treat the member's data as damaged: remove it and re-add it "
                                  "empty (plan remove-member, plan add-member)");
            vet_finding_set_str(fi, "alarm", m->alarms.v[j]);
        }
    }
    return 0;
}

/* name=url,name=url -> parallel lists. */
static int split_ic(vet_strv *names, vet_strv *urls, const char *ic)
{
    vet_strv items = VET_STRV_INIT;
    int rc = 0;
    const char *s = ic;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n && (rc = vet_strv_pushn(&items, s, n)))
            break;
        s = e ? e + 1 : NULL;
    }
    for (size_t i = 0; !rc && i < items.n; i++) {
        char *eq = strchr(items.v[i], '=');
        if (!eq)
            continue;
        if ((rc = vet_strv_pushn(names, items.v[i], (size_t)(eq - items.v[i]))) ||
            (rc = vet_strv_push(urls, eq + 1)))
            break;
    }
    vet_strv_free(&items);
    return rc;
}

/* The member the static pod under --root runs. */
static const vet_etcd_member *local_member(const vet_etcd_facts *f)
{
    const vet_etcd_member *m = NULL;
    for (size_t i = 0; !m && i < f->pod->initial_advertise_peer_urls.n; i++)
        m = vet_etcd_member_find(f, f->pod->initial_advertise_peer_urls.v[i]);
    if (!m && f->pod->name)
        m = vet_etcd_member_find(f, f->pod->name);
    return m;
}

/* kubeadm init and every kubeadm upgrade write --initial-cluster with the local member alone;
 * kubeadm join --control-plane writes the members of that moment. etcd reads the flag only
 * when its data dir is empty (first start, restore, re-bootstrap), so a list that is short is
 * normal. What is worth a warning is a list that would mislead that next bootstrap: entries
 * naming members that no longer exist, or peer URLs other than the member advertises. */
int vet_check_kv303(const vet_ctx *ctx, vet_report *r)
{
    const vet_etcd_facts *f = ctx->etcd;
    vet_strv names = VET_STRV_INIT, urls = VET_STRV_INIT;
    vet_buf bad = VET_BUF_INIT, want = VET_BUF_INIT;
    const vet_etcd_member *self;
    vet_finding *fi;
    int rc = 0, nbad = 0;

    if (!f || !f->pod || !f->pod_is_member || !f->pod->initial_cluster)
        return 0;
    if ((rc = split_ic(&names, &urls, f->pod->initial_cluster)))
        goto done;
    self = local_member(f);
    for (size_t i = 0; i < names.n; i++) {
        const vet_etcd_member *by_name = NULL, *by_url = NULL;
        for (size_t j = 0; j < f->nmembers; j++) {
            const vet_etcd_member *m = &f->members[j];
            if (m->started && !strcmp(m->name, names.v[i]))
                by_name = m;
            if (vet_strv_find(&m->peer_urls, urls.v[i], 0) >= 0)
                by_url = m;
        }
        if (!by_name && !by_url) {
            vet_buf_printf(&bad, "%s%s=%s is no member", bad.size ? "; " : "", names.v[i],
                           urls.v[i]);
            nbad++;
        } else if (by_name && by_name != by_url) {
            vet_buf_printf(&bad, "%s%s=%s, but %s advertises %s", bad.size ? "; " : "", names.v[i],
                           urls.v[i], by_name->name,
                           by_name->peer_urls.n ? by_name->peer_urls.v[0] : "no peer URL");
            nbad++;
        } else if (!by_name && by_url->started) {
            vet_buf_printf(&bad, "%s%s=%s is the peer URL of member %s", bad.size ? "; " : "",
                           names.v[i], urls.v[i], by_url->name);
            nbad++;
        }
    }
    if (self && self->started && vet_strv_find(&names, self->name, 0) < 0) {
        vet_buf_printf(&bad, "%sthis member (%s) is not in it", bad.size ? "; " : "", self->name);
        nbad++;
    }
    if (!nbad)
        goto done; /* the local member alone, or an older but correct list: what kubeadm writes */
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        for (size_t j = 0; m->started && j < m->peer_urls.n; j++)
            vet_buf_printf(&want, "%s%s=%s", want.size ? "," : "", m->name, m->peer_urls.v[j]);
    }
    if (!(fi = vet_check_emit(r, "KV303", f->pod->path))) {
        rc = OOM();
        goto done;
    }
    vet_finding_message(fi,
                        "--initial-cluster in %s does not match the live members: %s. etcd "
                        "ignores the flag while this member's data directory exists, so nothing "
                        "is wrong now; it matters when the member bootstraps from this manifest "
                        "again (a restore, or a re-join with a new data directory), which would "
                        "then fail or try to reach the wrong peers.",
                        f->pod->path, bad.ptr ? bad.ptr : "");
    vet_finding_fix(fi,
                    "before a restore or re-join of this member, set --initial-cluster=%s in %s "
                    "(the kubelet restarts etcd when the manifest changes: one member at a time, "
                    "waiting until it is healthy)",
                    want.ptr ? want.ptr : "", f->pod->path);
    vet_finding_set_int(fi, "entries_wrong", nbad);
done:
    vet_strv_free(&names);
    vet_strv_free(&urls);
    vet_buf_free(&bad);
    vet_buf_free(&want);
    return rc;
}

int vet_check_kv304(const vet_ctx *ctx, vet_report *r)
{
    const vet_etcd_facts *f = ctx->etcd;
    vet_etcd_quorum q;
    vet_finding *fi;
    char sub[64], hex[17];

    if (!f)
        return 0;
    vet_etcd_quorum_of(&q, f);
    /* Only members that never started. No guess from --initial-cluster: kubeadm writes the local
     * member alone (init, upgrade) or the members of the moment (join), so a member missing
     * there is normal, and one that does not answer is KV302. "Matches no control-plane node"
     * needs the API source. */
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        vet_etcd_id_hex(hex, m->id);
        if (!m->started) {
            if (!(fi = vet_check_emit(r, "KV304", subject_of(m, sub, sizeof sub))))
                return OOM();
            vet_finding_message(fi,
                                "member %s (peer %s) was added but never started: a "
                                "leftover of a failed join, or a join still in progress.",
                                hex, first_peer(m));
            if (q.tolerance < 0)
                vet_finding_fix(fi,
                                "quorum is lost, so it cannot be removed now: start it on the "
                                "node it was added for, or see `kubevet etcd plan remove-member "
                                "--id %s` for the recovery paths",
                                hex);
            else
                vet_finding_fix(fi,
                                "if no node is about to start it, remove it while quorum holds: "
                                "kubevet etcd plan remove-member --id %s",
                                hex);
            vet_finding_set_str(fi, "member_id", hex);
        }
    }
    return 0;
}

int vet_check_kv306(const vet_ctx *ctx, vet_report *r)
{
    const vet_etcd_facts *f = ctx->etcd;
    vet_finding *fi;
    if (!f || !f->have_status)
        return 0;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        int nospace = vet_strv_find(&m->alarms, "NOSPACE", 0) >= 0;
        int over =
            m->status_ok && f->quota_bytes > 0 && (double)m->db_size > 0.8 * (double)f->quota_bytes;
        if (!nospace && !over)
            continue;
        if (!(fi = vet_check_emit(r, "KV306", m->started ? m->name : "etcd member")))
            return OOM();
        vet_finding_message(
            fi,
            "%s%sdb size %lld bytes is %.0f%% of the %lld-byte quota%s (in use: "
            "%lld bytes).",
            nospace ? "NOSPACE alarm raised: the cluster accepts only reads and "
                      "deletes. "
                    : "",
            "", (long long)m->db_size, 100.0 * (double)m->db_size / (double)f->quota_bytes,
            (long long)f->quota_bytes,
            f->pod && f->pod->quota_backend_bytes ? " (--quota-backend-bytes)"
                                                  : " (etcd's default; no --quota-backend-bytes)",
            (long long)m->db_size_in_use);
        /* Pasteable: this cluster's revision and this member's endpoint; the TLS flags are the
         * node's (kubeadm: --cacert/--cert/--key under /etc/kubernetes/pki/etcd). */
        {
            char rev[32];
            if (f->revision > 0)
                snprintf(rev, sizeof rev, "%lld", (long long)f->revision);
            vet_finding_fix(
                fi,
                "compact old revisions, then defragment one member at a time: etcdctl "
                "--endpoints=%s compact %s ; etcdctl --endpoints=%s defrag ; if it is still above "
                "80%%, raise --quota-backend-bytes in etcd.yaml (8 GiB at most is advised); then "
                "etcdctl --endpoints=%s alarm disarm (https endpoints: add the node's --cacert, "
                "--cert and --key%s)",
                m->client_urls.n ? m->client_urls.v[0]
                : f->endpoint    ? f->endpoint
                                 : "<endpoint>",
                f->revision > 0 ? rev : "<current revision>",
                m->client_urls.n ? m->client_urls.v[0]
                : f->endpoint    ? f->endpoint
                                 : "<endpoint>",
                f->endpoint ? f->endpoint : "<endpoint>",
                f->revision > 0 ? ""
                                : "; <current revision>: the revision etcdctl endpoint "
                                  "status -w json prints");
        }
        vet_finding_set_int(fi, "db_size", (long long)m->db_size);
        vet_finding_set_int(fi, "quota_bytes", (long long)f->quota_bytes);
    }
    return 0;
}

/* The floor kubevet warns below: conservative, from the etcd each release line was tested with
 * (kubeadm moved to 3.5 with 1.22; 3.4 left the supported matrix with 1.26). */
static const struct {
    int from_minor;
    int major, minor;
} etcd_floor[] = {{26, 3, 5}, {22, 3, 4}};

static int parse_minor(const char *v, int *major, int *minor, int *patch)
{
    *major = *minor = *patch = 0;
    if (!v)
        return -1;
    if (*v == 'v')
        v++;
    if (sscanf(v, "%d.%d.%d", major, minor, patch) < 2)
        return -1;
    return 0;
}

int vet_check_kv503(const vet_ctx *ctx, vet_report *r)
{
    const vet_etcd_facts *f = ctx->etcd;
    int kmaj, kmin, kpat, fmaj = 0, fmin = -1, rc;
    const char *rec = NULL;
    const vet_releases *rel;
    const vet_release *row;
    vet_finding *fi;

    if (!f || !f->have_status || !ctx->target || parse_minor(ctx->target, &kmaj, &kmin, &kpat) ||
        kmaj != 1)
        return 0;
    for (size_t i = 0; i < sizeof etcd_floor / sizeof etcd_floor[0]; i++)
        if (kmin >= etcd_floor[i].from_minor) {
            fmaj = etcd_floor[i].major;
            fmin = etcd_floor[i].minor;
            break;
        }
    if (fmin < 0)
        return 0;
    /* the etcd kubeadm of that minor deploys: SupportedEtcdVersion, from the release data */
    if ((rc = vet_check_releases(&rel, ctx)))
        return rc;
    if ((row = vet_releases_find(rel, kmin)))
        rec = row->etcd;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        int emaj, emin, epat;
        if (!m->status_ok || parse_minor(m->version, &emaj, &emin, &epat))
            continue;
        if (emaj > fmaj || (emaj == fmaj && emin >= fmin))
            continue;
        if (!(fi = vet_check_emit(r, "KV503", m->name)))
            return OOM();
        if (rec)
            vet_finding_message(fi,
                                "etcd %s on %s is older than %d.%d, the oldest etcd for "
                                "Kubernetes 1.%d (kubeadm 1.%d deploys etcd %s).",
                                m->version, m->name, fmaj, fmin, kmin, kmin, rec);
        else
            vet_finding_message(fi,
                                "etcd %s on %s is older than %d.%d, the oldest etcd for "
                                "Kubernetes 1.%d.",
                                m->version, m->name, fmaj, fmin, kmin);
        vet_finding_fix(fi,
                        "upgrade etcd before Kubernetes, one minor at a time (%d.%d -> %d.%d), "
                        "one member at a time, after `kubevet etcd snapshot save`; kubeadm "
                        "upgrades its static-pod etcd during `kubeadm upgrade apply`",
                        emaj, emin, emaj, emin + 1);
        vet_finding_set_str(fi, "etcd_version", m->version);
    }
    return 0;
}
