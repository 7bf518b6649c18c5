/* Membership plans: what a change does to quorum, and the safe way to make it. Pure functions
 * of the facts, so tests can feed them fixture clusters. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd_int.h"

#define STEP(...)                                                                                  \
    do {                                                                                           \
        char *s_ = vet_strdupf(__VA_ARGS__);                                                       \
        if (!s_ || vet_strv_take(&p->steps, s_)) {                                                 \
            rc = vet_error_set(VET_ENOMEM, "out of memory");                                       \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

void vet_etcd_plan_free(vet_etcd_plan *p)
{
    if (!p)
        return;
    free(p->refusal);
    vet_strv_free(&p->steps);
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

json_t *vet_etcd_plan_to_json(const vet_etcd_plan *p)
{
    json_t *o = json_object(), *steps = json_array();
    if (!o || !steps) {
        json_decref(o);
        json_decref(steps);
        return NULL;
    }
    json_object_set_new(o, "before", quorum_json(&p->before));
    json_object_set_new(o, "after", quorum_json(&p->after));
    json_object_set_new(o, "refused", json_boolean(p->refused));
    if (p->refusal)
        json_object_set_new(o, "refusal", json_string(p->refusal));
    for (size_t i = 0; i < p->steps.n; i++)
        json_array_append_new(steps, json_string(p->steps.v[i]));
    json_object_set_new(o, "steps", steps);
    if (p->initial_cluster)
        json_object_set_new(o, "initial_cluster", json_string(p->initial_cluster));
    if (p->extra)
        json_object_update(o, p->extra);
    return o;
}

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

static void recompute(vet_etcd_quorum *q)
{
    q->quorum = vet_etcd_quorum_size(q->voters);
    q->tolerance = q->healthy_voters - q->quorum;
}

/* name=url for every member (etcdctl's ETCD_INITIAL_CLUSTER), plus an extra one. */
static char *initial_cluster(const vet_etcd_facts *f, const char *skip_name, uint64_t skip_id,
                             const char *add_name, const char *add_url)
{
    vet_buf b = VET_BUF_INIT;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->id == skip_id && skip_name)
            continue;
        for (size_t j = 0; j < m->peer_urls.n; j++)
            vet_buf_printf(&b, "%s%s=%s", b.size ? "," : "", m->name, m->peer_urls.v[j]);
    }
    if (add_name)
        vet_buf_printf(&b, "%s%s=%s", b.size ? "," : "", add_name, add_url);
    return vet_buf_detach(&b);
}

static const char *cluster_endpoints(const vet_etcd_facts *f)
{
    return f->endpoint ? f->endpoint : "https://127.0.0.1:2379";
}

#define ETCDCTL_TLS                                                                                \
    "--cacert /etc/kubernetes/pki/etcd/ca.crt --cert "                                             \
    "/etc/kubernetes/pki/etcd/healthcheck-client.crt "                                             \
    "--key /etc/kubernetes/pki/etcd/healthcheck-client.key"

int vet_etcd_plan_add_member(vet_etcd_plan **out, const vet_etcd_facts *f, const char *name,
                             const char *peer_url, int as_learner)
{
    vet_etcd_plan *p = calloc(1, sizeof *p);
    const char *ep = cluster_endpoints(f);
    size_t nlearners = 0, nunstarted = 0;
    int rc = 0;

    *out = NULL;
    if (!p)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!name || !*name || !peer_url || !*peer_url) {
        rc = vet_error_set(VET_EUSAGE, "plan add-member needs --name and --peer-url");
        goto done;
    }
    if (vet_etcd_member_find(f, name) || vet_etcd_member_find(f, peer_url)) {
        rc = vet_error_set(VET_EUSAGE, "a member named %s or with peer URL %s already exists", name,
                           peer_url);
        goto done;
    }
    for (size_t i = 0; i < f->nmembers; i++) {
        nlearners += f->members[i].is_learner;
        nunstarted += !f->members[i].started;
    }
    vet_etcd_quorum_of(&p->before, f);
    /* Judge the voting add as if the new member never starts: that is what the cluster lives
     * with from `member add` until the new etcd has joined and caught up. */
    p->after = p->before;
    p->after.voters++;
    recompute(&p->after);
    if (!as_learner && p->after.tolerance < 0) {
        p->refused = 1;
        p->refusal = vet_strdupf(
            "adding %s as a voting member raises quorum from %d to %d voters, but only %d are "
            "healthy until %s has started and caught up: from `member add` on, writes time out "
            "(gRPC code 14), /health turns false, the kube-apiserver stops, and removing the "
            "member again hangs because that needs quorum too (the %d -> %d trap). Add it as a "
            "learner instead: learners do not vote, so quorum stays %d.",
            name, p->before.quorum, p->after.quorum, p->after.healthy_voters, name,
            p->before.voters, p->after.voters, p->before.quorum);
        if (!p->refusal) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (!(p->initial_cluster = initial_cluster(f, NULL, 0, name, peer_url))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (nunstarted)
        STEP("First deal with the %zu member(s) that never started (see `kubevet etcd plan "
             "remove-member`): a new member's --initial-cluster must list them, and they already "
             "count against quorum.",
             nunstarted);
    if (nlearners)
        STEP("etcd 3.4 allows one learner at a time: promote or remove the existing learner "
             "first (etcdctl member list shows isLearner).");
    STEP("Take a snapshot first: kubevet etcd snapshot save /var/lib/etcd-backup/before-add-%s.db",
         name);
    STEP("Add the member as a learner (etcd >= 3.4), one member at a time: etcdctl --endpoints "
         "%s " ETCDCTL_TLS
         " member add %s --peer-urls=%s --learner   (or: kubevet etcd plan add-member "
         "--name %s --peer-url %s --apply)",
         ep, name, peer_url, name, peer_url);
    STEP("On the new node, start etcd with an empty data dir and exactly: --name=%s "
         "--initial-advertise-peer-urls=%s --initial-cluster-state=existing "
         "--initial-cluster=%s  (kubeadm: these go into etc/kubernetes/manifests/etcd.yaml; "
         "kubeadm >= 1.27 can add the learner itself with the EtcdLearnerMode feature gate)",
         name, peer_url, p->initial_cluster);
    STEP("Wait until the learner has caught up (etcdctl endpoint status: its RAFT INDEX close to "
         "the leader's), then promote it: etcdctl --endpoints %s " ETCDCTL_TLS
         " member promote <ID printed by member add>  (promote fails while it lags; retry)",
         ep);
    STEP("Wait healthy: kubevet etcd status should then read \"%d voters, quorum %d, %d healthy\"; "
         "only then add the next member.",
         p->before.voters + 1, vet_etcd_quorum_size(p->before.voters + 1),
         p->before.healthy_voters + 1);
    STEP("Update --initial-cluster in every member's static pod to list all members (KV303).");
    if ((p->before.voters + 1) % 2 == 0)
        STEP("Note: %d voters is an even size; it tolerates no more failures than %d. Plan the "
             "next member too.",
             p->before.voters + 1, p->before.voters);
    p->extra =
        json_pack("{s:s,s:s,s:b}", "name", name, "peer_url", peer_url, "is_learner", as_learner);
done:
    if (rc) {
        vet_etcd_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int vet_etcd_plan_remove_member(vet_etcd_plan **out, const vet_etcd_facts *f, const char *key)
{
    vet_etcd_plan *p = calloc(1, sizeof *p);
    const vet_etcd_member *m = vet_etcd_member_find(f, key);
    const char *ep = cluster_endpoints(f);
    char hex[17];
    const char *label;
    int rc = 0;

    *out = NULL;
    if (!p)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!m) {
        rc = vet_error_set(VET_EUSAGE, "no etcd member named or with ID %s", key ? key : "");
        goto done;
    }
    vet_etcd_id_hex(hex, m->id);
    label = m->started ? m->name : hex;
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
    if (!(p->initial_cluster = initial_cluster(f, "", m->id, NULL, NULL))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }

    if (p->before.tolerance < 0 && !m->is_learner) {
        /* Membership changes go through raft: without quorum `member remove` waits for ever. */
        p->refused = 1;
        p->refusal = vet_strdupf(
            "quorum is already lost (%d of %d voters healthy, quorum %d): removing %s is a raft "
            "change that needs quorum itself, so `etcdctl member remove` hangs. Restore quorum "
            "first.",
            p->before.healthy_voters, p->before.voters, p->before.quorum, label);
        STEP("Recovery A (keeps the data, preferred): start the missing member%s so quorum "
             "returns, then remove it cleanly.",
             m->started ? "" : " that never started");
        for (size_t i = 0; i < f->nmembers; i++) {
            const vet_etcd_member *u = &f->members[i];
            vet_buf ic = VET_BUF_INIT;
            if (u->is_learner || counted(f, u) || !u->peer_urls.n)
                continue;
            for (size_t j = 0; j < f->nmembers; j++)
                for (size_t k = 0; k < f->members[j].peer_urls.n; k++)
                    vet_buf_printf(&ic, "%s%s=%s", ic.size ? "," : "",
                                   f->members[j].id == u->id ? (u->started ? u->name : "NEW_NAME")
                                                             : f->members[j].name,
                                   f->members[j].peer_urls.v[k]);
            STEP("  on the node for %s: etcd --name=%s --initial-advertise-peer-urls=%s "
                 "--listen-peer-urls=%s --initial-cluster-state=existing --initial-cluster=%s "
                 "(empty --data-dir; NEW_NAME is the name the member add was meant for)",
                 u->started ? u->name : vet_etcd_id_hex(hex, u->id),
                 u->started ? u->name : "NEW_NAME", u->peer_urls.v[0], u->peer_urls.v[0],
                 ic.ptr ? ic.ptr : "");
            vet_buf_free(&ic);
        }
        STEP("  then: etcdctl --endpoints %s " ETCDCTL_TLS " member remove %s", ep,
             vet_etcd_id_hex(hex, m->id));
        STEP("Recovery B (if the member cannot be started): on the surviving member, snapshot "
             "first: kubevet etcd snapshot save /var/lib/etcd-backup/before-force-new-cluster.db "
             "(the snapshot is served locally, without quorum)");
        STEP("  stop etcd: mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/; wait until "
             "crictl ps shows no etcd");
        STEP("  add --force-new-cluster to the command in /etc/kubernetes/etcd.yaml, move it "
             "back, wait until etcdctl endpoint health is true: the member now forms a "
             "1-member cluster with the same data");
        STEP("  remove --force-new-cluster again (mv out, edit, mv back) so a restart does not "
             "repeat it; then add members back one at a time as learners (kubevet etcd plan "
             "add-member).");
        goto extra;
    }
    if (!m->is_learner && counted(f, m) && p->after.tolerance < 0) {
        p->refused = 1;
        p->refusal = vet_strdupf(
            "%s is a healthy voter; without it %d of %d voters would be healthy, below the new "
            "quorum of %d: the cluster would stop. Bring the unhealthy members back (or remove "
            "those first).",
            label, p->after.healthy_voters, p->after.voters, p->after.quorum);
    }
    STEP("Take a snapshot first: kubevet etcd snapshot save /var/lib/etcd-backup/before-remove.db");
    STEP("etcdctl --endpoints %s " ETCDCTL_TLS " member remove %s", ep,
         vet_etcd_id_hex(hex, m->id));
    if (m->started)
        STEP("On %s's node: mv /etc/kubernetes/manifests/etcd.yaml "
             "/etc/kubernetes/etcd.yaml.removed "
             "and move its data dir away (it must not start again with the old member ID); for a "
             "control-plane node leaving for good: kubeadm reset, kubectl delete node.",
             label);
    STEP("Update --initial-cluster in the remaining static pods to: %s (KV303)",
         p->initial_cluster[0] ? p->initial_cluster : "(the remaining members)");
    if (p->after.voters > 0 && p->after.voters % 2 == 0)
        STEP("Note: %d voters is an even size; it tolerates no more failures than %d.",
             p->after.voters, p->after.voters - 1);
extra:
    p->extra = json_pack("{s:s,s:s,s:b,s:b}", "member", m->name, "id", vet_etcd_id_hex(hex, m->id),
                         "is_learner", m->is_learner, "started", m->started);
done:
    if (rc) {
        vet_etcd_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int vet_etcd_plan_restore(vet_etcd_plan **out, const char *snapshot,
                          const vet_etcd_restore_member *members, size_t n, const char *token,
                          const char *data_dir, const vet_etcd_pod *pod)
{
    vet_etcd_plan *p = calloc(1, sizeof *p);
    uint64_t *ids = NULL, cid = 0;
    vet_buf ic = VET_BUF_INIT;
    json_t *jm = NULL;
    char hex[17];
    const char *dir;
    int rc = 0;

    *out = NULL;
    if (!p)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!n) {
        rc = vet_error_set(VET_EUSAGE, "plan restore needs at least one --member name=peerURL");
        goto done;
    }
    if (!token || !*token)
        token = pod && pod->initial_cluster_token ? pod->initial_cluster_token : "etcd-cluster";
    dir = data_dir ? data_dir : "/var/lib/etcd-restored";
    if (!(ids = calloc(n, sizeof *ids)) || !(jm = json_array())) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *u = members[i].peer_url;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(members[j].name, members[i].name) ||
                !strcmp(members[j].peer_url, members[i].peer_url)) {
                rc = vet_error_set(VET_EUSAGE, "--member %s=%s repeats a name or peer URL",
                                   members[i].name, members[i].peer_url);
                goto done;
            }
        if ((rc = vet_etcd_member_id(&ids[i], &u, 1, token)))
            goto done;
        vet_buf_printf(&ic, "%s%s=%s", ic.size ? "," : "", members[i].name, u);
        json_array_append_new(jm, json_pack("{s:s,s:s,s:s}", "name", members[i].name, "peer_url", u,
                                            "id", vet_etcd_id_hex(hex, ids[i])));
    }
    if ((rc = vet_etcd_cluster_id(&cid, ids, n)))
        goto done;
    p->initial_cluster = vet_buf_detach(&ic);
    p->before.voters = p->after.voters = (int)n;
    p->before.health_known = p->after.health_known = 0;
    p->after.healthy_voters = p->after.started_voters = (int)n;
    recompute(&p->before);
    recompute(&p->after);

    STEP("On every control-plane node, stop the apiserver first, then etcd (kubelet stops static "
         "pods whose manifest disappears): mkdir -p /etc/kubernetes/manifests-stopped && mv "
         "/etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/manifests/etcd.yaml "
         "/etc/kubernetes/manifests-stopped/ ; wait until crictl ps shows neither");
    STEP("Copy %s to every member node (all members restore the same file).", snapshot);
    for (size_t i = 0; i < n; i++)
        STEP("On %s: etcdctl snapshot restore %s --name %s --initial-cluster %s "
             "--initial-cluster-token %s --initial-advertise-peer-urls %s --data-dir %s   "
             "(a fresh directory; expect member ID %s)",
             members[i].name, snapshot, members[i].name, p->initial_cluster, token,
             members[i].peer_url, dir, vet_etcd_id_hex(hex, ids[i]));
    STEP("On every member, point /etc/kubernetes/manifests-stopped/etcd.yaml at the restored "
         "directory: --data-dir=%s and the etcd-data volume's hostPath path: %s (was %s); or keep "
         "the manifest and swap directories: mv %s %s.old && mv %s %s",
         dir, dir, pod && pod->data_host_path ? pod->data_host_path : "/var/lib/etcd",
         pod && pod->data_host_path ? pod->data_host_path : "/var/lib/etcd",
         pod && pod->data_host_path ? pod->data_host_path : "/var/lib/etcd", dir,
         pod && pod->data_host_path ? pod->data_host_path : "/var/lib/etcd");
    STEP("Start etcd on every member: mv /etc/kubernetes/manifests-stopped/etcd.yaml "
         "/etc/kubernetes/manifests/ ; wait until kubevet etcd status reads \"%zu voters, quorum "
         "%d, %zu healthy\", cluster ID %s",
         n, vet_etcd_quorum_size((int)n), n, vet_etcd_id_hex(hex, cid));
    STEP("Then the apiservers: mv /etc/kubernetes/manifests-stopped/kube-apiserver.yaml "
         "/etc/kubernetes/manifests/ ; then restart kube-controller-manager, kube-scheduler and "
         "kubelet so no component keeps state newer than the snapshot.");
    STEP("Objects changed after the snapshot (Secrets, tokens, leases) are back at their old "
         "values: check them.");
    p->extra = json_pack("{s:s,s:s,s:s,s:o}", "snapshot", snapshot, "token", token, "cluster_id",
                         vet_etcd_id_hex(hex, cid), "members", jm);
    jm = NULL;
done:
    json_decref(jm);
    vet_buf_free(&ic);
    free(ids);
    if (rc) {
        vet_etcd_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int vet_etcd_snapshot_check_trailer(int *ok, char **reason, uint64_t *size, const char *path)
{
    FILE *fp = fopen(path, "rb");
    EVP_MD_CTX *sha = NULL;
    unsigned char *buf = NULL, tail[32], md[32];
    unsigned int mdlen = 0;
    uint64_t total = 0;
    size_t tl = 0, n;
    int rc = 0;

    *ok = 0;
    *reason = NULL;
    *size = 0;
    if (!fp)
        return vet_error_set(VET_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (!(buf = malloc(1u << 20)) || !(sha = EVP_MD_CTX_new()) ||
        !EVP_DigestInit_ex(sha, EVP_sha256(), NULL)) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    while ((n = fread(buf, 1, 1u << 20, fp)) > 0) {
        total += n;
        if (n >= 32) {
            EVP_DigestUpdate(sha, tail, tl);
            EVP_DigestUpdate(sha, buf, n - 32);
            memcpy(tail, buf + n - 32, 32);
            tl = 32;
        } else if (tl + n <= 32) {
            memcpy(tail + tl, buf, n);
            tl += n;
        } else {
            size_t o = tl + n - 32;
            EVP_DigestUpdate(sha, tail, o);
            memmove(tail, tail + o, tl - o);
            memcpy(tail + tl - o, buf, n);
            tl = 32;
        }
    }
    if (ferror(fp)) {
        rc = vet_error_set(VET_EIO, "%s: read error at byte %llu", path, (unsigned long long)total);
        goto done;
    }
    *size = total;
    EVP_DigestFinal_ex(sha, md, &mdlen);
    if (total % 512 != 32)
        *reason = vet_strdupf("%llu bytes: not a saved snapshot (size %% 512 != 32: no SHA-256 "
                              "trailer; a raw member/snap/db?)",
                              (unsigned long long)total);
    else if (memcmp(md, tail, 32))
        *reason = vet_strdupf("SHA-256 of the first %llu bytes does not match the trailer: the "
                              "file is damaged or truncated",
                              (unsigned long long)(total - 32));
    else
        *ok = 1;
done:
    EVP_MD_CTX_free(sha);
    free(buf);
    fclose(fp);
    return rc;
}
