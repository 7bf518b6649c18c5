/* The restore plan (every member from one snapshot, with the IDs etcd will derive) and the
 * snapshot trailer check it relies on. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd_int.h"
#include "url.h"

#define STEP(...)                                                                                  \
    do {                                                                                           \
        char *s_ = vet_strdupf(__VA_ARGS__);                                                       \
        if (!s_ || vet_strv_take(&p->steps, s_)) {                                                 \
            rc = vet_error_set(VET_ENOMEM, "out of memory");                                       \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

int etcd_check_name(const char *name, const char *what)
{
    if (!name || !*name)
        return vet_error_set(VET_EUSAGE, "%s: empty member name", what);
    if (strlen(name) > 253)
        return vet_error_set(VET_EINPUT, "%s: member name over 253 bytes", what);
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c <= 0x20 || *c == 0x7f || *c == ',' || *c == '=' || *c == '\'' || *c == '"' ||
            *c == '\\' || *c == '$' || *c == '`')
            return vet_error_set(VET_EINPUT,
                                 "%s: a member name holds no blanks, controls, quotes, '$', '`', "
                                 "'\\', ',' or '='",
                                 what);
    return 0;
}

static void recompute(vet_etcd_quorum *q)
{
    q->quorum = vet_etcd_quorum_size(q->voters);
    q->tolerance = q->healthy_voters - q->quorum;
}

int vet_etcd_plan_restore(vet_etcd_plan **out, const char *snapshot,
                          const vet_etcd_restore_member *members, size_t n, const char *token,
                          const char *data_dir, const vet_etcd_pod *pod)
{
    vet_etcd_plan *p = calloc(1, sizeof *p);
    uint64_t *ids = NULL, cid = 0;
    vet_buf ic = VET_BUF_INIT;
    json_t *jm = NULL;
    vet_strv ar = VET_STRV_INIT;
    char hex[17];
    const char *dir, *live, *snap;
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
    if ((rc = etcd_check_name(token, "--initial-cluster-token")))
        goto done;
    dir = data_dir ? data_dir : "/var/lib/etcd-restored";
    live = pod && pod->data_host_path ? pod->data_host_path : "/var/lib/etcd";
    /* etcdctl snapshot restore refuses an existing directory; the live one must never be it. */
    if (!strcmp(dir, live) || !strcmp(dir, "/") || dir[0] != '/' || strpbrk(dir, " \t'\"$`\\")) {
        rc = vet_error_set(VET_EUSAGE,
                           "--data-dir %s: want a new absolute directory, not the live data "
                           "directory %s (its data stays until the restore is verified)",
                           dir, live);
        goto done;
    }
    if (!(ids = calloc(n, sizeof *ids)) || !(jm = json_array())) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *u = members[i].peer_url;
        if ((rc = etcd_check_name(members[i].name, "--member")) ||
            (rc = vet_url_check_http(u, "--member")))
            goto done;
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
    snap = etcd_sh(&ar, snapshot);
    p->initial_cluster = vet_buf_detach(&ic);
    /* No "before": the cluster being restored is stopped, or gone. */
    p->after.voters = (int)n;
    p->after.health_known = 0;
    p->after.healthy_voters = p->after.started_voters = (int)n;
    recompute(&p->after);

    STEP("On every control-plane node, stop the kube-apiserver and etcd (the kubelet stops a "
         "static pod whose manifest leaves the folder): mkdir -p /etc/kubernetes/manifests-stopped "
         "&& mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/manifests/etcd.yaml "
         "/etc/kubernetes/manifests-stopped/ ; wait until crictl ps shows neither.");
    STEP("Copy %s to every member's node: all members restore the same file.", snap);
    for (size_t i = 0; i < n; i++)
        STEP("On %s: etcdctl snapshot restore %s --name %s --initial-cluster %s "
             "--initial-cluster-token %s --initial-advertise-peer-urls %s --data-dir %s   "
             "(a new directory: etcdctl refuses an existing one; expect member ID %s)",
             members[i].name, snap, members[i].name, p->initial_cluster, token, members[i].peer_url,
             dir, vet_etcd_id_hex(hex, ids[i]));
    STEP("On every member, put the restored directory where etcd.yaml expects its data, keeping "
         "the old data aside until the restore is verified: mv %s %s.before-restore && mv %s %s",
         live, live, dir, live);
    STEP("Use each node's own name: the --name in each etcd.yaml must equal the name restored "
         "there. Optional (etcd ignores it while the data directory exists, KV303): "
         "--initial-cluster=%s",
         p->initial_cluster);
    STEP("Start etcd on every member: mv /etc/kubernetes/manifests-stopped/etcd.yaml "
         "/etc/kubernetes/manifests/ ; wait until kubevet etcd status reads \"%zu voter%s, quorum "
         "%d, %zu healthy\" and cluster ID %s",
         n, n == 1 ? "" : "s", vet_etcd_quorum_size((int)n), n, vet_etcd_id_hex(hex, cid));
    STEP("Then the kube-apiservers: mv /etc/kubernetes/manifests-stopped/kube-apiserver.yaml "
         "/etc/kubernetes/manifests/ ; then restart kube-controller-manager, kube-scheduler and "
         "the kubelets, so no component keeps state newer than the snapshot.");
    STEP("Objects changed after the snapshot (Secrets, tokens, leases) are back at their old "
         "values: check them. Keep %s.before-restore until the cluster is verified.",
         live);
    p->extra = json_pack("{s:s,s:s,s:s,s:o}", "snapshot", snapshot, "token", token, "cluster_id",
                         vet_etcd_id_hex(hex, cid), "members", jm);
    jm = NULL;
done:
    json_decref(jm);
    vet_strv_free(&ar);
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
