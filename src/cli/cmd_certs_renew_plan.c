/* certs renew: from names to targets (old certificate, key, signer, SANs), keys made on all
 * cores, certificates issued, and the plan that writes them. */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "cmd_certs_renew.h"
#include "error.h"
#include "fs.h"
#include "parallel.h"
#include "vtime.h"

static int is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int add_san(renew_target *t, const char *s)
{
    vet_strv *list;
    if (!s || !*s)
        return 0;
    list = is_ip(s) ? &t->ips : &t->dns;
    if (vet_strv_find(list, s, !is_ip(s)) >= 0)
        return 0;
    if (vet_strv_find(vet_cert_dns(t->old), s, 1) < 0 &&
        vet_strv_find(vet_cert_ips(t->old), s, 0) < 0)
        vet_strv_push(&t->added, s);
    return vet_strv_push(list, s);
}

/* kubeadm's SANs (cmd/kubeadm/app/util/pkiutil: GetAPIServerAltNames, getEtcdAltNames). The
 * controlPlaneEndpoint is not on disk; the kubeconfigs' server hosts carry it. */
static int kubeadm_sans(renew_target *t, const renew_run *run)
{
    const vet_node *n = run->node;
    int rc = 0;
    if (!n || !t->name)
        return 0;
    if (t->name->flags & RENEW_SANS_APISERVER) {
        static const char *const svc[] = {"kubernetes", "kubernetes.default",
                                          "kubernetes.default.svc",
                                          "kubernetes.default.svc.cluster.local"};
        rc = add_san(t, n->node_name);
        for (size_t i = 0; !rc && i < 4; i++)
            rc = add_san(t, svc[i]);
        if (!rc)
            rc = add_san(t, n->service_ip);
        if (!rc)
            rc = add_san(t, n->advertise_address);
        for (size_t i = 0; !rc && i < n->server_hosts.n; i++)
            if (strcmp(n->server_hosts.v[i], "127.0.0.1") && strcmp(n->server_hosts.v[i], "::1") &&
                strcmp(n->server_hosts.v[i], "localhost"))
                rc = add_san(t, n->server_hosts.v[i]);
    }
    if (t->name->flags & RENEW_SANS_ETCD) {
        const char *v[] = {n->node_name, "localhost", n->advertise_address, "127.0.0.1", "::1"};
        for (size_t i = 0; !rc && i < 5; i++)
            rc = add_san(t, v[i]);
    }
    return rc;
}

static char *rel_of(const char *root, const char *host)
{
    size_t rl = strlen(root);
    if (!strcmp(root, "/"))
        return strdup(host + (host[0] == '/'));
    if (!strncmp(host, root, rl) && host[rl] == '/')
        return strdup(host + rl + 1);
    return NULL;
}

static int parse_file(vet_pem *into, const char *host, const char *label)
{
    vet_buf b = VET_BUF_INIT;
    int rc = vet_fs_read(&b, host, 1 << 20);
    if (!rc)
        rc = vet_pki_parse(into, (const unsigned char *)b.ptr, b.size, label);
    if (b.ptr)
        memset(b.ptr, 0, b.size);
    vet_buf_free(&b);
    return rc;
}

static unsigned mode_of(const char *host, unsigned dflt)
{
    struct stat st;
    return stat(host, &st) == 0 ? (unsigned)(st.st_mode & 07777) : dflt;
}

/* A CA with its key in `dir` whose subject names old's issuer and that verifies old:
 * cfssl's ca.pem + ca-key.pem, or ca.crt + ca.key. */
static int find_ca_in_dir(renew_target *t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        vet_pem pem;
        char *host, *keyhost = NULL;
        if (de->d_name[0] == '.' ||
            !((l > 4 && !strcmp(de->d_name + l - 4, ".pem") && !strstr(de->d_name, "-key")) ||
              (l > 4 && !strcmp(de->d_name + l - 4, ".crt"))))
            continue;
        memset(&pem, 0, sizeof pem);
        host = vet_strdupf("%s/%s", dir, de->d_name);
        if (host && !parse_file(&pem, host, host) && pem.ncerts && vet_cert_is_ca(pem.certs[0]) &&
            vet_cert_issued_by_name(t->old, pem.certs[0]) &&
            !vet_cert_equal(pem.certs[0], t->old)) {
            keyhost = !strcmp(de->d_name + l - 4, ".pem")
                          ? vet_strdupf("%s/%.*s-key.pem", dir, (int)(l - 4), de->d_name)
                          : vet_strdupf("%s/%.*s.key", dir, (int)(l - 4), de->d_name);
            t->ca = vet_cert_ref(pem.certs[0]);
            t->ca_label = strdup(host);
            found = 1;
            /* The key is optional here: without it the renewal is refused (external CA). */
            if (keyhost && vet_fs_exists(keyhost) && !parse_file(&t->hold, keyhost, keyhost) &&
                t->hold.nkeys)
                t->ca_key = t->hold.keys[t->hold.nkeys - 1];
            vet_error_clear();
        }
        vet_pem_clear(&pem);
        free(host);
        free(keyhost);
    }
    closedir(d);
    return found;
}

static int target_from_path(renew_target *t, const char *given)
{
    char *real = realpath(given, NULL), *dir = NULL, *keyhost = NULL, *slash;
    size_t l;
    int rc = 0;
    if (!real)
        return vet_error_set(VET_EIO, "%s: cannot read: no such file", given);
    if ((rc = parse_file(&t->hold, real, given)))
        goto done;
    if (!t->hold.ncerts) {
        rc = vet_error_set(VET_EINPUT, "%s: holds no certificate", given);
        goto done;
    }
    t->old = t->hold.certs[0];
    if (vet_cert_is_ca(t->old)) {
        rc = vet_error_set(VET_EINPUT, "%s: is a CA; kubevet never re-issues a CA", given);
        goto done;
    }
    t->cert_rel = strdup(real + 1);
    t->cert_mode = mode_of(real, 0644);
    l = strlen(real);
    if (t->hold.nkeys) {
        t->old_key = t->hold.keys[0];
        t->key_rel = strdup(real + 1);
    } else {
        if (l > 4 && !strcmp(real + l - 4, ".pem"))
            keyhost = vet_strdupf("%.*s-key.pem", (int)(l - 4), real);
        else if (l > 4 && !strcmp(real + l - 4, ".crt"))
            keyhost = vet_strdupf("%.*s.key", (int)(l - 4), real);
        if (!keyhost || !vet_fs_exists(keyhost)) {
            rc = vet_error_set(VET_EINPUT, "%s: no private key beside it (x-key.pem or x.key)",
                               given);
            goto done;
        }
        if ((rc = parse_file(&t->hold, keyhost, keyhost)))
            goto done;
        if (!t->hold.nkeys) {
            rc = vet_error_set(VET_EINPUT, "%s: holds no private key", keyhost);
            goto done;
        }
        t->old_key = t->hold.keys[0];
        t->key_rel = strdup(keyhost + 1);
    }
    dir = strdup(real);
    slash = strrchr(dir, '/');
    *slash = '\0';
    if (!find_ca_in_dir(t, *dir ? dir : "/"))
        rc = vet_error_set(VET_EINPUT, "%s: its CA (%s) is not in %s", given,
                           vet_cert_issuer(t->old), *dir ? dir : "/");
done:
    free(real);
    free(dir);
    free(keyhost);
    return rc;
}

static int target_from_node(renew_target *t, renew_run *run)
{
    const vet_node *n = run->node;
    const vet_cert_entry *e, *ca;
    const char *ca_role = "ca";
    if (t->name->role) {
        if (!(e = vet_node_role(n, t->name->role)))
            return vet_error_set(VET_EINPUT, "%s: no %s certificate under %s/etc/kubernetes/pki",
                                 t->name->name, t->name->role, run->root);
        t->old = e->cert;
        t->old_key = e->key;
        t->cert_rel = strdup(e->path);
        t->key_rel = e->key_path ? strdup(e->key_path) : NULL;
        if (!t->key_rel && strlen(e->path) > 4)
            t->key_rel = vet_strdupf("%.*s.key", (int)(strlen(e->path) - 4), e->path);
        t->finding_subject = strdup(e->subject);
        ca_role = e->ca_role ? e->ca_role : "ca";
    } else {
        const vet_node_kubeconfig *k = vet_node_kubeconfig_get(n, t->name->kubeconfig);
        if (!k || !k->client || !k->user)
            return vet_error_set(VET_EINPUT, "%s: no client certificate in %s/etc/kubernetes/%s",
                                 t->name->name, strcmp(run->root, "/") ? run->root : "",
                                 t->name->kubeconfig);
        t->old = k->client->cert;
        t->finding_subject = strdup(k->client->subject);
        if (k->user->cert_path) {
            /* kubelet.conf after kubelet-finalize: the file kubelet-client-current.pem points
             * at is rewritten, so the link and the kubelet's rotation keep working. */
            char *ch = NULL, *kh = NULL;
            int rc = vet_fs_resolve(&ch, run->root, k->user->cert_path);
            if (!rc)
                rc = vet_fs_resolve(&kh, run->root,
                                    k->user->key_path ? k->user->key_path : k->user->cert_path);
            if (!rc && !(rc = parse_file(&t->hold, kh, kh)) && t->hold.nkeys)
                t->old_key = t->hold.keys[0];
            if (!rc) {
                t->cert_rel = rel_of(run->root, ch);
                t->key_rel = rel_of(run->root, kh);
                t->cert_mode = mode_of(ch, 0600);
            }
            free(ch);
            free(kh);
            if (rc)
                return rc;
            if (!t->cert_rel || !t->key_rel)
                return vet_error_set(VET_EINPUT, "%s: client certificate path leaves --root",
                                     t->name->name);
        } else {
            int rc;
            t->kc_rel = strdup(k->path);
            t->cert_rel = strdup(k->path);
            t->kc_cert = &k->user->cert;
            t->kc_key = &k->user->key;
            /* The node paired the embedded key with its certificate already. */
            if (k->client->key)
                t->old_key = k->client->key;
            else if (k->user->key.data &&
                     !(rc =
                           vet_pki_parse(&t->hold, k->user->key.data, k->user->key.len, k->path)) &&
                     t->hold.nkeys)
                t->old_key = t->hold.keys[0];
            vet_error_clear();
        }
    }
    if (!(ca = vet_node_role(n, ca_role)))
        return vet_error_set(VET_EINPUT, "%s: its CA (%s) is not under %s/etc/kubernetes/pki",
                             t->name->name, ca_role, run->root);
    t->ca = ca->cert;
    t->ca_key = ca->key;
    t->ca_label = strdup(ca->path);
    if (!t->cert_mode) {
        char *h = vet_path_join(run->root, t->cert_rel);
        t->cert_mode = h ? mode_of(h, 0644) : 0644;
        free(h);
    }
    t->restart = t->name->restart;
    return 0;
}

/* The CSR steps for a CA whose key is not here (an external CA). */
static void csr_steps(renew_run *run, const renew_target *t)
{
    vet_buf subj = VET_BUF_INIT, sans = VET_BUF_INIT;
    const char *r = strcmp(run->root, "/") ? run->root : "";
    const vet_strv *orgs = t->cn ? &t->orgs : vet_cert_orgs(t->old);
    for (size_t i = 0; i < orgs->n; i++)
        vet_buf_printf(&subj, "/O=%s", orgs->v[i]);
    vet_buf_printf(&subj, "/CN=%s", t->cn ? t->cn : vet_cert_cn(t->old));
    for (size_t i = 0; i < t->dns.n; i++)
        vet_buf_printf(&sans, "%sDNS:%s", sans.size ? "," : "", t->dns.v[i]);
    for (size_t i = 0; i < t->ips.n; i++)
        vet_buf_printf(&sans, "%sIP:%s", sans.size ? "," : "", t->ips.v[i]);
    if (t->key_rel && !t->kc_rel) {
        vet_strv_take(&run->refusal,
                      vet_strdupf("openssl req -new -key %s/%s -subj '%s'%s%s%s -out %s.csr", r,
                                  t->key_rel, subj.ptr,
                                  sans.size ? " -addext 'subjectAltName=" : "",
                                  sans.size ? sans.ptr : "", sans.size ? "'" : "", t->label));
        vet_strv_take(&run->refusal,
                      vet_strdupf("# have the CA of %s sign %s.csr (same key usages, %d days), "
                                  "then: install -m %04o %s.crt %s/%s",
                                  t->ca_label, t->label, run->days, t->cert_mode, t->label, r,
                                  t->cert_rel));
    } else {
        vet_strv_take(&run->refusal,
                      vet_strdupf("kubeadm certs generate-csr --kubeconfig-dir %s/etc/kubernetes "
                                  "--cert-dir %s/etc/kubernetes/pki   # %s: sign its CSR with "
                                  "the CA of %s",
                                  r, r, t->label, t->ca_label));
    }
    vet_buf_free(&subj);
    vet_buf_free(&sans);
}

/* --add-san is for the name clients dial: the apiserver's certificate, or serving certificates
 * given as paths. Only when neither is renewed does it go to the etcd serving certificates. */
static int wants_add_san(const renew_run *run, const renew_target *t)
{
    int front = 0;
    if (!vet_cert_dns(t->old)->n && !vet_cert_ips(t->old)->n)
        return 0;
    for (size_t i = 0; i < run->n; i++)
        if (!run->v[i].name || (run->v[i].name->flags & RENEW_SANS_APISERVER))
            front = 1;
    return !front || !t->name || (t->name->flags & RENEW_SANS_APISERVER);
}

typedef struct {
    renew_target *v;
    size_t n;
    int64_t not_before, not_after;
    const int *new_key; /* 1: make a new key; 0: keep the old one */
    size_t *group;      /* the signing CA's group, largest group first */
    int *rc;            /* 0, or the error of the target's key or signature */
    char (*err)[256];
} issue_job;

static void issue_fail(issue_job *j, size_t i, int rc)
{
    j->rc[i] = rc;
    snprintf(j->err[i], sizeof j->err[i], "%s: %s", j->v[i].label, vet_error_last());
}

/* New keys on every core: RSA generation dominates a renewal. */
static void keygen_one(size_t i, void *arg)
{
    issue_job *j = arg;
    int rc;
    if (j->new_key[i] && (rc = vet_key_generate(&j->v[i].new_key, vet_cert_key_type(j->v[i].old))))
        issue_fail(j, i, rc);
}

/* The certificates of one CA, signed on one thread: OpenSSL sets up an RSA key's blinding once
 * per thread that signs with it, at 1.5 ms more than a signature. */
static void sign_group(size_t g, void *arg)
{
    issue_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        renew_target *t = &j->v[i];
        vet_issue_req req = {t->old,        t->new_key ? t->new_key : t->old_key,
                             t->ca,         t->ca_key,
                             t->cn,         &t->orgs,
                             &t->dns,       &t->ips,
                             j->not_before, j->not_after};
        int rc;
        if (j->group[i] == g && !j->rc[i] && (rc = vet_cert_issue(&t->issued, &req)))
            issue_fail(j, i, rc);
    }
}

/* Group the targets by signing key, numbered largest group first (the longest job starts
 * first); returns the number of groups. */
static size_t group_by_ca(size_t *group, const renew_target *v, size_t n)
{
    size_t ng = 0, *first = calloc(n ? n : 1, sizeof *first),
           *size = calloc(n ? n : 1, sizeof *size);
    if (!first || !size) {
        free(first);
        free(size);
        for (size_t i = 0; i < n; i++)
            group[i] = 0;
        return n ? 1 : 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t g = 0;
        while (g < ng && v[first[g]].ca_key != v[i].ca_key)
            g++;
        if (g == ng)
            first[ng++] = i;
        group[i] = g;
        size[g]++;
    }
    for (size_t i = 0; i < n; i++) { /* rank: groups larger, or as large and seen earlier */
        size_t g = group[i], rank = 0;
        for (size_t h = 0; h < ng; h++)
            rank += size[h] > size[g] || (size[h] == size[g] && h < g);
        group[i] = rank;
    }
    free(first);
    free(size);
    return ng;
}

static int add_target(renew_run *run, const renew_name *name, const char *label)
{
    renew_target *v;
    for (size_t i = 0; i < run->n; i++)
        if (!strcmp(run->v[i].label, label))
            return 0;
    if (!(v = realloc(run->v, (run->n + 1) * sizeof *v)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    run->v = v;
    memset(&v[run->n], 0, sizeof *v);
    v[run->n].name = name;
    if (!(v[run->n++].label = strdup(label)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

int renew_prepare(renew_run *run, const char *const *names, size_t n,
                  const renew_name *kubeadm_names, const renew_name *(*find)(const char *))
{
    int rc = 0, ext_ca = 0;
    int64_t nb = run->now - 300, na = run->now + (int64_t)run->days * 86400;
    int *krc = NULL, *newk = NULL;
    size_t *group = NULL;
    char(*kerr)[256] = NULL;
    if (run->node_mode) {
        if ((rc = vet_node_load(&run->node, run->root, run->node_name_flag)))
            return rc;
        run->node_name = run->node->node_name;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (!strcmp(names[i], "all")) {
            /* kubeadm's set, those this node has (super-admin.conf is 1.29+). */
            for (const renew_name *k = kubeadm_names; k->name && !rc; k++)
                if (k->role ? vet_node_role(run->node, k->role) != NULL
                            : vet_node_kubeconfig_get(run->node, k->kubeconfig) != NULL)
                    rc = add_target(run, k, k->name);
        } else {
            rc = add_target(run, find(names[i]), names[i]);
        }
    }
    for (size_t i = 0; i < run->n && !rc; i++) {
        renew_target *t = &run->v[i];
        rc = t->name ? target_from_node(t, run) : target_from_path(t, t->label);
        if (rc)
            break;
        if (t->name && (t->name->flags & RENEW_NODE_IDENTITY)) {
            if (!run->node_name)
                return vet_error_set(VET_EINPUT, "kubelet.conf: this node's name is unknown: "
                                                 "give --node-name");
            t->cn = vet_strdupf("system:node:%s", run->node_name);
            vet_strv_push(&t->orgs, "system:nodes");
            t->restart = "kubelet";
            if (strcmp(vet_cert_cn(t->old), t->cn) ||
                vet_strv_find(vet_cert_orgs(t->old), "system:nodes", 0) < 0)
                t->finding = "KV106";
        }
        if (!t->finding && vet_cert_not_after(t->old) <= run->now)
            t->finding = "KV101";
        else if (!t->finding && vet_cert_not_after(t->old) <= run->now + 30 * 86400)
            t->finding = "KV102";
        if (!t->finding_subject)
            t->finding_subject = strdup(t->cert_rel);
        /* SANs: the old ones, kubeadm's, and --add-san on serving certificates. */
        for (size_t s = 0; !rc && s < vet_cert_dns(t->old)->n; s++)
            rc = add_san(t, vet_cert_dns(t->old)->v[s]);
        for (size_t s = 0; !rc && s < vet_cert_ips(t->old)->n; s++)
            rc = add_san(t, vet_cert_ips(t->old)->v[s]);
        if (!rc)
            rc = kubeadm_sans(t, run);
        if (!rc && wants_add_san(run, t))
            for (size_t s = 0; !rc && s < run->add_san.n; s++)
                rc = add_san(t, run->add_san.v[s]);
        if (rc)
            break;
        if (!t->ca_key) {
            ext_ca = 1;
            csr_steps(run, t);
            continue;
        }
        if (vet_cert_not_after(t->ca) < na) {
            char when[32];
            int64_t left = vet_time_days_between(run->now, vet_cert_not_after(t->ca));
            vet_time_format(when, vet_cert_not_after(t->ca));
            return left >= 1
                       ? vet_error_set(VET_EINPUT,
                                       "%s: its CA %s expires %s, before the new notAfter: renew "
                                       "with --days %lld at most, and plan the CA's rotation",
                                       t->label, t->ca_label, when, (long long)left)
                       : vet_error_set(VET_EINPUT,
                                       "%s: its CA %s expired %s: nothing it signs is valid; "
                                       "rotate the CA first",
                                       t->label, t->ca_label, when);
        }
        if (!t->old_key && run->keep_key)
            return vet_error_set(VET_EINPUT, "%s: --keep-key: the old private key was not found",
                                 t->label);
    }
    if (rc)
        return rc;
    if (ext_ca) {
        for (size_t i = 0; i < run->n; i++)
            if (!run->v[i].ca_key)
                return vet_error_set(VET_EINPUT,
                                     "%s: the key of its CA %s is not here (external CA): "
                                     "kubevet signs only with the CA's own key; nothing written",
                                     run->v[i].label, run->v[i].ca_label);
    }
    /* Keys, then signatures, on every core. */
    if (!(krc = calloc(run->n ? run->n : 1, sizeof *krc)) ||
        !(newk = calloc(run->n ? run->n : 1, sizeof *newk)) ||
        !(group = calloc(run->n ? run->n : 1, sizeof *group)) ||
        !(kerr = calloc(run->n ? run->n : 1, sizeof *kerr)))
        rc = vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < run->n; i++) {
        renew_target *t = &run->v[i];
        /* Another node's key is never kept (incident 1: master-2's key on master-1). */
        newk[i] = !run->keep_key || !t->old_key || (t->finding && !strcmp(t->finding, "KV106"));
        if (newk[i] && run->keep_key)
            vet_strv_take(&run->notes, vet_strdupf("%s: a new key despite --keep-key (the old "
                                                   "one belongs to another identity)",
                                                   t->label));
    }
    if (!rc) {
        issue_job job = {run->v, run->n, nb, na, newk, group, krc, kerr};
        size_t groups = group_by_ca(group, run->v, run->n);
        size_t fresh = 0;
        for (size_t i = 0; i < run->n; i++)
            fresh += newk[i] != 0;
        if (fresh)
            vet_parallel_for(run->n, 0, keygen_one, &job);
        vet_parallel_for(groups, 0, sign_group, &job);
        for (size_t i = 0; i < run->n && !rc; i++)
            if (krc[i])
                rc = vet_error_set(krc[i], "%s", kerr[i]);
    }
    /* kubeadm copies the CA's NotBefore into its leaves; kubevet starts 5 minutes back, which
     * covers the same clock skew without a lifetime that looks decades long. */
    if (!rc && run->n)
        vet_strv_push(&run->notes, "notBefore is 5 minutes ago (kubeadm would copy the CA's "
                                   "notBefore); judge the certificates by notAfter");
    free(krc);
    free(newk);
    free(group);
    free(kerr);
    return rc;
}

/* Replace the value of `field` whose decoded bytes are `old` by base64(new). */
static int swap_data(vet_buf *out, const char *in, size_t len, const char *field,
                     const vet_blob *old, const char *neu, size_t nlen)
{
    size_t fl = strlen(field);
    int n = 0, rc = 0;
    char *b64 = NULL;
    if ((rc = vet_pki_base64(&b64, neu, nlen)))
        return rc;
    for (size_t i = 0; i < len && !rc;) {
        const char *s = in + i, *nl = memchr(s, '\n', len - i);
        size_t l = nl ? (size_t)(nl - s) : len - i;
        const char *f = memmem(s, l, field, fl);
        int hit = 0;
        if (f && f + fl < s + l && f[fl] == ':' && old && old->data) {
            const char *v = f + fl + 1;
            vet_blob dec = {NULL, 0};
            while (v < s + l && *v == ' ')
                v++;
            if (!vet_base64_decode(&dec, v, (size_t)(s + l - v)) && dec.len == old->len &&
                !memcmp(dec.data, old->data, old->len)) {
                vet_buf_put(out, s, (size_t)(v - s));
                vet_buf_puts(out, b64);
                hit = 1;
                n++;
            }
            vet_error_clear();
            free(dec.data);
        }
        if (!hit)
            vet_buf_put(out, s, l);
        if (nl)
            vet_buf_put(out, "\n", 1);
        i += l + (nl ? 1 : 0);
    }
    free(b64);
    return n ? 0 : vet_error_set(VET_EINPUT, "%s not found where expected", field);
}

static int plan_target(vet_plan *p, renew_run *run, renew_target *t)
{
    char *cpem = NULL, *kpem = NULL, *summary = NULL, *why = NULL, na[32];
    size_t clen = 0, klen = 0;
    vet_buf b = VET_BUF_INIT, kc = VET_BUF_INIT;
    int rc;
    vet_time_format(na, vet_cert_not_after(t->issued));
    if ((rc = vet_cert_to_pem(&cpem, &clen, t->issued)) ||
        (t->new_key && (rc = vet_key_to_pem(&kpem, &klen, t->new_key))))
        goto done;
    {
        vet_buf added = VET_BUF_INIT;
        for (size_t i = 0; i < t->added.n; i++)
            vet_buf_printf(&added, "%s%s", i ? "," : ", SANs added: ", t->added.v[i]);
        summary =
            vet_strdupf("%s, %s, until %s, signed by %s%s", vet_cert_subject(t->issued),
                        vet_cert_key_type(t->issued), na, t->ca_label, added.ptr ? added.ptr : "");
        vet_buf_free(&added);
    }
    why = vet_strdupf("renew %s%s", t->label,
                      t->finding && !strcmp(t->finding, "KV106") ? " as this node" : "");
    if (t->kc_rel) {
        char *host = vet_path_join(strcmp(run->plan_root, "/") ? run->plan_root : "/", t->kc_rel);
        if (!host || (rc = vet_fs_read(&kc, host, 1 << 20))) {
            free(host);
            goto done;
        }
        rc = swap_data(&b, kc.ptr, kc.size, "client-certificate-data", t->kc_cert, cpem, clen);
        if (!rc && kpem) {
            vet_buf_clear(&kc);
            vet_buf_put(&kc, b.ptr, b.size);
            vet_buf_clear(&b);
            rc = swap_data(&b, kc.ptr, kc.size, "client-key-data", t->kc_key, kpem, klen);
        }
        if (!rc)
            rc = vet_plan_add_write(p, t->kc_rel, b.ptr, b.size, mode_of(host, 0600), 0, summary,
                                    t->finding, t->finding_subject, why);
        free(host);
        if (rc)
            vet_error_prefix(t->kc_rel);
    } else if (t->key_rel && !strcmp(t->key_rel, t->cert_rel)) {
        /* One file with the certificate then its key, as the kubelet's store writes it. */
        vet_buf_put(&b, cpem, clen);
        if (kpem)
            vet_buf_put(&b, kpem, klen);
        else if ((rc = vet_key_to_pem(&kpem, &klen, t->old_key)) == 0)
            vet_buf_put(&b, kpem, klen);
        if (!rc)
            rc = vet_plan_add_write(p, t->cert_rel, b.ptr, b.size, 0600, 0, summary, t->finding,
                                    t->finding_subject, why);
    } else {
        rc = vet_plan_add_write(p, t->cert_rel, cpem, clen, t->cert_mode ? t->cert_mode : 0644, 0,
                                summary, t->finding, t->finding_subject, why);
        if (!rc && kpem)
            rc = vet_plan_add_write(p, t->key_rel, kpem, klen, 0600, VET_WRITE_SECRET, NULL,
                                    t->finding, t->finding_subject, why);
    }
done:
    if (kpem)
        memset(kpem, 0, klen);
    if (b.ptr)
        memset(b.ptr, 0, b.size);
    if (kc.ptr)
        memset(kc.ptr, 0, kc.size);
    free(cpem);
    free(kpem);
    free(summary);
    free(why);
    vet_buf_free(&b);
    vet_buf_free(&kc);
    return rc;
}

int renew_build_plan(vet_plan **out, renew_run *run)
{
    vet_plan *p = NULL;
    int rc;
    *out = NULL;
    /* Paths alone: the plan's root is "/", backups beside the first file. Otherwise the node. */
    if (!run->node_mode && run->n) {
        const char *c = run->v[0].cert_rel;
        const char *slash = strrchr(c, '/');
        run->plan_root = strdup("/");
        run->backup_parent = slash ? vet_strdupf("%.*s", (int)(slash - c), c) : strdup("");
    } else {
        run->plan_root = strdup(run->root);
        run->backup_parent = strdup("etc/kubernetes");
        /* Paths given with --root are host paths: they must lie under it. */
        for (size_t i = 0; i < run->n; i++)
            if (!run->v[i].name) {
                char *abs = vet_strdupf("/%s", run->v[i].cert_rel);
                char *rel = abs ? rel_of(run->root, abs) : NULL;
                for (int k = 0; rel && k < 2; k++) {
                    char **f = k ? &run->v[i].key_rel : &run->v[i].cert_rel;
                    char *a2 = vet_strdupf("/%s", *f), *r2 = a2 ? rel_of(run->root, a2) : NULL;
                    free(a2);
                    if (!r2) {
                        free(abs);
                        free(rel);
                        return vet_error_set(VET_EINPUT, "%s: not under --root %s", run->v[i].label,
                                             run->root);
                    }
                    free(*f);
                    *f = r2;
                }
                if (!rel) {
                    free(abs);
                    return vet_error_set(VET_EINPUT, "%s: not under --root %s", run->v[i].label,
                                         run->root);
                }
                free(abs);
                free(rel);
            }
    }
    if ((rc = vet_plan_new(&p, run->plan_root, "certs renew", run->backup_parent)))
        return rc;
    for (size_t i = 0; i < run->n && !rc; i++)
        rc = plan_target(p, run, &run->v[i]);
    if (rc) {
        vet_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void renew_run_clear(renew_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        renew_target *t = &run->v[i];
        if (!t->name)
            vet_cert_free((vet_cert *)t->ca); /* referenced by find_ca_in_dir */
        vet_pem_clear(&t->hold);
        free(t->label);
        free(t->ca_label);
        free(t->cert_rel);
        free(t->key_rel);
        free(t->kc_rel);
        free(t->finding_subject);
        free(t->cn);
        vet_strv_free(&t->orgs);
        vet_strv_free(&t->dns);
        vet_strv_free(&t->ips);
        vet_strv_free(&t->added);
        vet_key_free(t->new_key);
        vet_cert_free(t->issued);
    }
    free(run->v);
    vet_node_free(run->node);
    vet_strv_free(&run->add_san);
    vet_strv_free(&run->paths);
    vet_strv_free(&run->notes);
    vet_strv_free(&run->refusal);
    free(run->plan_root);
    free(run->backup_parent);
    memset(run, 0, sizeof *run);
}
