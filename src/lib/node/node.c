/* The node source: kubeadm's files under --root. Reads and parses, never judges. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"
#include "fs.h"
#include "node_int.h"
#include "parallel.h"

#define PKI "etc/kubernetes/pki/"

/* kubeadm's PKI layout (cmd/kubeadm/app/constants): role, cert, key, signing CA role. */
static const struct {
    const char *role, *crt, *key, *ca_role;
} pki_files[] = {
    {"ca", "ca.crt", "ca.key", NULL},
    {"apiserver", "apiserver.crt", "apiserver.key", "ca"},
    {"apiserver-kubelet-client", "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key",
     "ca"},
    {"front-proxy-ca", "front-proxy-ca.crt", "front-proxy-ca.key", NULL},
    {"front-proxy-client", "front-proxy-client.crt", "front-proxy-client.key", "front-proxy-ca"},
    {"etcd-ca", "etcd/ca.crt", "etcd/ca.key", NULL},
    {"etcd-server", "etcd/server.crt", "etcd/server.key", "etcd-ca"},
    {"etcd-peer", "etcd/peer.crt", "etcd/peer.key", "etcd-ca"},
    {"etcd-healthcheck-client", "etcd/healthcheck-client.crt", "etcd/healthcheck-client.key",
     "etcd-ca"},
    {"apiserver-etcd-client", "apiserver-etcd-client.crt", "apiserver-etcd-client.key", "etcd-ca"},
};
#define NPKI (sizeof pki_files / sizeof pki_files[0])

static const char *const kubeconfig_files[] = {
    "admin.conf",     "super-admin.conf", "controller-manager.conf",
    "scheduler.conf", "kubelet.conf",     "bootstrap-kubelet.conf",
};
#define NKC (sizeof kubeconfig_files / sizeof kubeconfig_files[0])

const char *vet_name_source_str(vet_name_source s)
{
    switch (s) {
    case VET_NAME_FLAG:
        return "--node-name";
    case VET_NAME_HOSTNAME_OVERRIDE:
        return "kubelet --hostname-override (var/lib/kubelet/kubeadm-flags.env)";
    case VET_NAME_ETC_HOSTNAME:
        return "etc/hostname";
    case VET_NAME_HOST:
        return "host name";
    default:
        return "unknown";
    }
}

/* ---- one task per file, parsed on all cores ---- */

enum { T_PEM, T_KEYPAIR, T_KUBECONFIG, T_EXTRA };

typedef struct {
    int kind;
    size_t pki;          /* index in pki_files for T_KEYPAIR */
    char *rel;           /* certificate (or only) file, relative to root */
    char *key_rel;       /* T_KEYPAIR: the key file */
    const char *kc_file; /* T_KUBECONFIG: basename */
    const char *root;
    /* results */
    int missing, key_missing;
    vet_pem pem, key_pem;
    vet_kubeconfig *kc;
    vet_pem *user_pem; /* per user: client certificate (+ key) */
    size_t nusers;
    char **user_cert_src; /* per user: path the cert was read from (relative to root) or NULL */
    vet_pem ca_pem;       /* current cluster's CA */
    char *ca_src;
    vet_strv errors;
} task;

static void note(task *t, int rc)
{
    if (rc && rc != VET_ENOTFOUND)
        vet_strv_push(&t->errors, vet_error_last());
}

/* Read rel (relative to root, or absolute as the node sees it) and parse PEM/DER. */
static int read_pem(vet_pem *out, const char *root, const char *rel, int *missing)
{
    vet_buf b = VET_BUF_INIT;
    char *host = NULL;
    int rc = vet_fs_resolve(&host, root, rel);
    if (!rc)
        rc = vet_fs_read(&b, host, VET_FS_DEFAULT_CAP);
    if (rc == VET_ENOTFOUND) {
        if (missing)
            *missing = 1;
    } else if (rc) {
        /* Name the file relative to the root, as the report does. */
        vet_error_set(rc, "%s: %s", rel,
                      strstr(vet_error_last(), ": ") ? strstr(vet_error_last(), ": ") + 2
                                                     : vet_error_last());
    } else {
        rc = vet_pki_parse(out, (unsigned char *)b.ptr, b.size, rel);
    }
    vet_buf_free(&b);
    free(host);
    return rc;
}

/* Path written in a kubeconfig: absolute paths are the node's (under --root); relative ones are
 * relative to the kubeconfig's folder (clientcmd resolves them that way). */
static char *kc_path(const char *kc_rel, const char *p)
{
    const char *slash;
    if (p[0] == '/')
        return strdup(p + 1);
    slash = strrchr(kc_rel, '/');
    return slash ? vet_strdupf("%.*s/%s", (int)(slash - kc_rel), kc_rel, p) : strdup(p);
}

static void load_kubeconfig(task *t)
{
    vet_buf b = VET_BUF_INIT;
    int rc = vet_fs_read_in_root(&b, t->root, t->rel, VET_FS_DEFAULT_CAP);
    const vet_kc_context *cx;
    const vet_kc_cluster *cl;
    if (rc == VET_ENOTFOUND) {
        t->missing = 1;
        goto done;
    }
    if (rc || (rc = vet_kubeconfig_parse(&t->kc, (unsigned char *)b.ptr, b.size, t->rel))) {
        if (rc != VET_EINPUT)
            vet_error_set(rc, "%s: cannot read", t->rel);
        note(t, rc);
        goto done;
    }
    t->user_pem = calloc(t->kc->nusers + 1, sizeof *t->user_pem);
    t->user_cert_src = calloc(t->kc->nusers + 1, sizeof *t->user_cert_src);
    if (!t->user_pem || !t->user_cert_src)
        goto done;
    t->nusers = t->kc->nusers;
    for (size_t u = 0; u < t->kc->nusers; u++) {
        const vet_kc_user *us = &t->kc->users[u];
        if (us->cert.data) {
            char where[300];
            rc = vet_pki_parse(&t->user_pem[u], us->cert.data, us->cert.len, t->rel);
            if (rc) {
                snprintf(where, sizeof where, "user %s client-certificate-data",
                         us->name ? us->name : "");
                vet_error_prefix(where);
            }
            note(t, rc);
        } else if (us->cert_path) {
            t->user_cert_src[u] = kc_path(t->rel, us->cert_path);
            if (t->user_cert_src[u])
                note(t, read_pem(&t->user_pem[u], t->root, t->user_cert_src[u], NULL));
            if (t->user_cert_src[u] && !t->user_pem[u].ncerts &&
                !vet_fs_exists(t->user_cert_src[u])) {
                /* A kubeconfig pointing at a missing file is broken input for this node. */
                char *host = NULL;
                if (!vet_fs_resolve(&host, t->root, t->user_cert_src[u]) && !vet_fs_exists(host))
                    vet_strv_take(&t->errors,
                                  vet_strdupf("%s: user %s: client-certificate %s does not exist",
                                              t->rel, us->name ? us->name : "", us->cert_path));
                free(host);
            }
        }
        /* The key: embedded, or a file (often the same cert+key file). */
        /* The key: embedded, or a file (often the same cert+key file, already read). Parsing
         * appends, so it lands next to the certificate; a broken key is KV105's business only
         * when it parses, so its errors are not input errors here. */
        if (us->key.data) {
            vet_pki_parse(&t->user_pem[u], us->key.data, us->key.len, t->rel);
        } else if (us->key_path && !t->user_pem[u].nkeys) {
            char *kr = kc_path(t->rel, us->key_path);
            if (kr)
                read_pem(&t->user_pem[u], t->root, kr, NULL);
            free(kr);
        }
    }
    cx = vet_kubeconfig_context(t->kc, NULL);
    cl = cx ? vet_kubeconfig_cluster(t->kc, cx->cluster)
            : (t->kc->nclusters ? &t->kc->clusters[0] : NULL);
    if (cl && cl->ca.data) {
        rc = vet_pki_parse(&t->ca_pem, cl->ca.data, cl->ca.len, t->rel);
        if (rc)
            vet_error_prefix("certificate-authority-data");
        note(t, rc);
        t->ca_src = strdup("certificate-authority-data");
    } else if (cl && cl->ca_path) {
        t->ca_src = kc_path(t->rel, cl->ca_path);
        if (t->ca_src)
            note(t, read_pem(&t->ca_pem, t->root, t->ca_src, NULL));
    }
done:
    vet_buf_free(&b);
}

static void run_task(size_t i, void *arg)
{
    task *t = &((task *)arg)[i];
    switch (t->kind) {
    case T_KEYPAIR:
    case T_PEM:
    case T_EXTRA:
        note(t, read_pem(&t->pem, t->root, t->rel, &t->missing));
        if (t->key_rel)
            note(t, read_pem(&t->key_pem, t->root, t->key_rel, &t->key_missing));
        break;
    case T_KUBECONFIG:
        load_kubeconfig(t);
        break;
    }
}

/* ---- small text files: kubelet config and flags, static pod manifests ---- */

static char *flag_value(const char *args, const char *flag)
{
    /* "--flag=value" or "--flag value", whitespace separated, quotes stripped. */
    size_t fl = strlen(flag);
    for (const char *p = args; (p = strstr(p, flag)); p += fl) {
        const char *v;
        size_t n;
        if (p != args && p[-1] != ' ' && p[-1] != '"' && p[-1] != '\t')
            continue;
        v = p + fl;
        if (*v == '=')
            v++;
        else if (*v == ' ')
            while (*v == ' ')
                v++;
        else if (*v == '"' || *v == '\0' || *v == '\n')
            return strdup("true"); /* bare boolean flag */
        else
            continue;
        n = strcspn(v, " \t\"\n");
        return vet_strdupf("%.*s", (int)n, v);
    }
    return NULL;
}

static void load_kubelet(vet_node *n)
{
    vet_buf b = VET_BUF_INIT;
    vet_yaml *y = NULL;
    int rc = vet_fs_read_in_root(&b, n->root, "var/lib/kubelet/config.yaml", 1 << 20);
    n->rotate_certificates = n->server_tls_bootstrap = n->rotate_flag = -1;
    if (!rc) {
        n->kubelet_config_present = 1;
        if (vet_yaml_load(&y, (unsigned char *)b.ptr, b.size, "var/lib/kubelet/config.yaml"))
            vet_strv_push(&n->errors, vet_error_last());
        else {
            yaml_node_t *root = vet_yaml_root(y, 0);
            n->rotate_certificates = vet_yaml_bool(vet_yaml_get(y, root, "rotateCertificates"));
            n->server_tls_bootstrap = vet_yaml_bool(vet_yaml_get(y, root, "serverTLSBootstrap"));
        }
    } else if (rc != VET_ENOTFOUND) {
        vet_strv_push(&n->errors, vet_error_last());
    }
    vet_yaml_free(y);
    vet_buf_clear(&b);
    rc = vet_fs_read_in_root(&b, n->root, "var/lib/kubelet/kubeadm-flags.env", 1 << 20);
    if (!rc) {
        char *rot = flag_value(b.ptr, "--rotate-certificates");
        n->hostname_override = flag_value(b.ptr, "--hostname-override");
        if (rot)
            n->rotate_flag = strcmp(rot, "false") != 0;
        free(rot);
    } else if (rc != VET_ENOTFOUND) {
        vet_strv_push(&n->errors, vet_error_last());
    }
    vet_buf_free(&b);
    /* kubelet-client-current.pem is a symlink the kubelet re-points at each rotation. */
    {
        char *host = NULL, link[4096];
        if (!vet_fs_resolve(&host, n->root, "var/lib/kubelet/pki")) {
            char *p = vet_path_join(host, "kubelet-client-current.pem");
            ssize_t l = p ? readlink(p, link, sizeof link - 1) : -1;
            if (l > 0) {
                char *target = NULL;
                link[l] = '\0';
                n->kubelet_client_link = strdup(link);
                /* Resolved the way the node sees it (absolute targets under --root). */
                if (!vet_fs_resolve(&target, n->root,
                                    "var/lib/kubelet/pki/kubelet-client-current.pem") &&
                    !vet_fs_exists(target))
                    n->kubelet_client_dangling = 1;
                free(target);
            }
            free(p);
        }
        free(host);
    }
}

static void resolve_name(vet_node *n, const char *flag)
{
    vet_buf b = VET_BUF_INIT;
    if (flag && *flag) {
        n->node_name = strdup(flag);
        n->node_name_source = VET_NAME_FLAG;
        return;
    }
    if (n->hostname_override && *n->hostname_override) {
        n->node_name = strdup(n->hostname_override);
        n->node_name_source = VET_NAME_HOSTNAME_OVERRIDE;
        return;
    }
    if (!vet_fs_read_in_root(&b, n->root, "etc/hostname", 4096) && b.size) {
        size_t l = strcspn(b.ptr, " \t\r\n");
        if (l) {
            /* kubelet lower-cases the host name it registers under. */
            for (size_t i = 0; i < l; i++)
                if (b.ptr[i] >= 'A' && b.ptr[i] <= 'Z')
                    b.ptr[i] = (char)(b.ptr[i] + 32);
            n->node_name = vet_strdupf("%.*s", (int)l, b.ptr);
            n->node_name_source = VET_NAME_ETC_HOSTNAME;
        }
    }
    vet_buf_free(&b);
    if (!n->node_name && !strcmp(n->root, "/")) {
        char h[256];
        if (gethostname(h, sizeof h) == 0) {
            h[sizeof h - 1] = '\0';
            for (char *p = h; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
            n->node_name = strdup(h);
            n->node_name_source = VET_NAME_HOST;
        }
    }
    if (!n->node_name)
        n->node_name_source = VET_NAME_UNKNOWN;
}

/* Other files under pki/ (hand-built clusters, sa keys, extra certs), in name order; each
 * folder once however many symlinks lead to it (seen). */
static int list_extra(vet_strv *out, vet_fs_dirset *seen, const char *root, const char *rel,
                      int depth)
{
    char *host = NULL;
    DIR *d = NULL;
    struct dirent *e;
    vet_strv names = VET_STRV_INIT;
    int rc = 0;
    if (depth > 4 || vet_fs_resolve(&host, root, rel) || vet_fs_dirset_enter(seen, host) <= 0 ||
        !(d = opendir(host)))
        goto done;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            vet_strv_push(&names, e->d_name);
    for (size_t i = 0; i < names.n; i++)
        for (size_t j = i + 1; j < names.n; j++)
            if (strcmp(names.v[i], names.v[j]) > 0) {
                char *t = names.v[i];
                names.v[i] = names.v[j];
                names.v[j] = t;
            }
    for (size_t i = 0; i < names.n; i++) {
        char *sub = vet_strdupf("%s%s", rel, names.v[i]), *h = NULL;
        if (!sub)
            continue;
        if (!vet_fs_resolve(&h, root, sub) && vet_fs_is_dir(h)) {
            char *subdir = vet_strdupf("%s/", sub);
            if (subdir)
                list_extra(out, seen, root, subdir, depth + 1);
            free(subdir);
        } else {
            vet_strv_push(out, sub);
        }
        free(h);
        free(sub);
    }
done:
    if (d)
        closedir(d);
    vet_strv_free(&names);
    free(host);
    return rc;
}

static int is_kubeadm_file(const char *rel)
{
    const char *name = rel + strlen(PKI);
    if (!strncmp(rel, PKI, strlen(PKI))) {
        for (size_t i = 0; i < NPKI; i++)
            if (!strcmp(name, pki_files[i].crt) || !strcmp(name, pki_files[i].key))
                return 1;
        if (!strcmp(name, "sa.key") || !strcmp(name, "sa.pub"))
            return 1;
    }
    return 0;
}

static int want_extra(const char *rel)
{
    static const char *const ext[] = {".crt", ".pem", ".cer", ".der", NULL};
    size_t l = strlen(rel);
    for (int i = 0; ext[i]; i++)
        if (l > strlen(ext[i]) && !strcmp(rel + l - strlen(ext[i]), ext[i]))
            return 1;
    return 0;
}

static void free_task(task *t)
{
    free(t->rel);
    free(t->key_rel);
    vet_pem_clear(&t->pem);
    vet_pem_clear(&t->key_pem);
    for (size_t u = 0; u < t->nusers; u++) {
        vet_pem_clear(&t->user_pem[u]);
        free(t->user_cert_src[u]);
    }
    free(t->user_pem);
    free(t->user_cert_src);
    vet_pem_clear(&t->ca_pem);
    free(t->ca_src);
    vet_kubeconfig_free(t->kc);
    vet_strv_free(&t->errors);
}

static int host_of(vet_strv *hosts, const char *server)
{
    const char *p = strstr(server, "://"), *end;
    char *h;
    p = p ? p + 3 : server;
    if (*p == '[') {
        end = strchr(p, ']');
        if (!end)
            return 0;
        h = vet_strdupf("%.*s", (int)(end - p - 1), p + 1);
    } else {
        end = p + strcspn(p, ":/");
        h = vet_strdupf("%.*s", (int)(end - p), p);
    }
    if (!h || !*h || vet_strv_find(hosts, h, 1) >= 0) {
        free(h);
        return 0;
    }
    return vet_strv_take(hosts, h);
}

int vet_node_load(vet_node **out, const char *root, const char *node_name_flag)
{
    vet_node *n = calloc(1, sizeof *n);
    task *tasks = NULL;
    vet_strv extra = VET_STRV_INIT;
    size_t nt = 0, cap;
    int rc = 0;

    *out = NULL;
    if (!n)
        return vet_error_set(VET_ENOMEM, "out of memory");
    n->root = strdup(root);
    if (!vet_fs_is_dir(root)) {
        rc = vet_error_set(VET_EIO, "%s: --root is not a folder", root);
        goto done;
    }
    load_kubelet(n);
    vet_node_load_pods(n);
    {
        vet_fs_dirset seen = VET_FS_DIRSET_INIT;
        list_extra(&extra, &seen, root, PKI, 0);
        vet_fs_dirset_free(&seen);
    }

    cap = NPKI + 2 + NKC + 3 + extra.n;
    if (!(tasks = calloc(cap, sizeof *tasks))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < NPKI; i++) {
        task *t = &tasks[nt++];
        t->kind = T_KEYPAIR;
        t->pki = i;
        t->rel = vet_strdupf(PKI "%s", pki_files[i].crt);
        t->key_rel = vet_strdupf(PKI "%s", pki_files[i].key);
        /* A hand-built apiserver may serve another file: follow the static pod. */
        if (!strcmp(pki_files[i].role, "apiserver") && n->tls_cert_file &&
            strcmp(n->tls_cert_file, "/" PKI "apiserver.crt")) {
            free(t->rel);
            t->rel = strdup(n->tls_cert_file + (n->tls_cert_file[0] == '/'));
        }
    }
    tasks[nt].kind = T_PEM;
    tasks[nt++].rel = strdup(PKI "sa.key");
    tasks[nt].kind = T_PEM;
    tasks[nt++].rel = strdup(PKI "sa.pub");
    for (size_t i = 0; i < NKC; i++) {
        tasks[nt].kind = T_KUBECONFIG;
        tasks[nt].kc_file = kubeconfig_files[i];
        tasks[nt++].rel = vet_strdupf("etc/kubernetes/%s", kubeconfig_files[i]);
    }
    tasks[nt].kind = T_EXTRA;
    tasks[nt++].rel = strdup("var/lib/kubelet/pki/kubelet.crt");
    tasks[nt].kind = T_EXTRA;
    tasks[nt++].rel = strdup("var/lib/kubelet/pki/kubelet-client-current.pem");
    for (size_t i = 0; i < extra.n; i++)
        if (!is_kubeadm_file(extra.v[i]) && want_extra(extra.v[i]) &&
            (!n->tls_cert_file || strcmp(extra.v[i], n->tls_cert_file + 1))) {
            tasks[nt].kind = T_EXTRA;
            tasks[nt++].rel = strdup(extra.v[i]);
        }
    for (size_t i = 0; i < nt; i++)
        tasks[i].root = n->root;

    vet_parallel_for(nt, 0, run_task, tasks);

    /* Assemble in table order so output is stable. */
    for (size_t i = 0; i < nt && !rc; i++) {
        task *t = &tasks[i];
        for (size_t e = 0; e < t->errors.n; e++) {
            /* A dangling kubelet-client-current.pem is a finding about the node (KV110), not
             * an input kubevet failed to read. */
            if (n->kubelet_client_dangling &&
                strstr(t->errors.v[e], "kubelet-client-current.pem does not exist"))
                continue;
            vet_strv_push(&n->errors, t->errors.v[e]);
        }
        if (t->kind == T_KEYPAIR) {
            vet_key *k = NULL;
            if (t->key_pem.nkeys) {
                k = t->key_pem.keys[0];
                t->key_pem.keys[0] = NULL;
            }
            rc =
                vet_certset_take(&n->certs, &t->pem, t->rel, t->rel, "file", pki_files[t->pki].role,
                                 pki_files[t->pki].ca_role, k, k ? t->key_rel : NULL);
        } else if (t->kind == T_PEM) {
            if (strstr(t->rel, "sa.key") && t->pem.nkeys) {
                n->sa_key = t->pem.keys[0];
                t->pem.keys[0] = NULL;
            } else if (strstr(t->rel, "sa.pub") && t->pem.npubkeys) {
                n->sa_pub = t->pem.pubkeys[0];
                t->pem.pubkeys[0] = NULL;
            }
        } else if (t->kind == T_EXTRA) {
            int client = strstr(t->rel, "kubelet-client-current.pem") != NULL;
            int serving = strstr(t->rel, "var/lib/kubelet/pki/kubelet.crt") != NULL;
            rc = vet_certset_take(&n->certs, &t->pem, t->rel, t->rel, "file",
                                  client    ? "kubelet-client"
                                  : serving ? "kubelet-serving"
                                            : NULL,
                                  client ? "ca" : NULL, NULL, NULL);
        } else if (t->kind == T_KUBECONFIG && t->kc) {
            vet_node_kubeconfig *nk;
            vet_node_kubeconfig *v = realloc(n->kubeconfigs, (n->nkubeconfigs + 1) * sizeof *v);
            if (!v) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                break;
            }
            n->kubeconfigs = v;
            nk = &v[n->nkubeconfigs++];
            memset(nk, 0, sizeof *nk);
            nk->path = t->rel;
            t->rel = NULL;
            nk->file = t->kc_file;
            nk->kc = t->kc;
            t->kc = NULL;
            nk->ctx = vet_kubeconfig_context(nk->kc, NULL);
            nk->cluster = nk->ctx ? vet_kubeconfig_cluster(nk->kc, nk->ctx->cluster) : NULL;
            nk->user = nk->ctx ? vet_kubeconfig_user(nk->kc, nk->ctx->user) : NULL;
            if (nk->cluster && nk->cluster->server)
                host_of(&n->server_hosts, nk->cluster->server);
            nk->ca = t->ca_pem.certs;
            nk->nca = t->ca_pem.ncerts;
            t->ca_pem.certs = NULL;
            t->ca_pem.ncerts = 0;
            nk->ca_source = t->ca_src;
            t->ca_src = NULL;
            for (size_t u = 0; u < nk->kc->nusers && !rc; u++) {
                const vet_kc_user *us = &nk->kc->users[u];
                char *subj =
                    vet_strdupf("kubeconfig %s user %s", nk->path, us->name ? us->name : "");
                char *src = vet_strdupf("kubeconfig:%s", us->name ? us->name : "");
                const char *from = t->user_cert_src[u] ? t->user_cert_src[u] : nk->path;
                int is_kubelet = !strcmp(nk->file, "kubelet.conf") ||
                                 !strcmp(nk->file, "bootstrap-kubelet.conf");
                if (us == nk->user && t->user_cert_src[u])
                    nk->client_cert_path = strdup(us->cert_path);
                rc = subj && src
                         ? vet_certset_take(&n->certs, &t->user_pem[u], subj, from, src,
                                            is_kubelet ? "kubelet-client" : "kubeconfig-client",
                                            "ca", NULL, NULL)
                         : vet_error_set(VET_ENOMEM, "out of memory");
                free(subj);
                free(src);
            }
        }
    }
    if (rc)
        goto done;
    /* Point each kubeconfig at its current user's entry (entries no longer move). */
    for (size_t k = 0; k < n->nkubeconfigs; k++) {
        vet_node_kubeconfig *nk = &n->kubeconfigs[k];
        char *want;
        if (!nk->user)
            continue;
        want = vet_strdupf("kubeconfig %s user %s", nk->path, nk->user->name ? nk->user->name : "");
        for (size_t e = 0; want && e < n->certs.n; e++)
            if (!strcmp(n->certs.v[e].subject, want)) {
                nk->client = &n->certs.v[e];
                break;
            }
        free(want);
    }
    resolve_name(n, node_name_flag);
done:
    for (size_t i = 0; i < nt; i++)
        free_task(&tasks[i]);
    free(tasks);
    vet_strv_free(&extra);
    if (rc) {
        vet_node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

void vet_node_free(vet_node *n)
{
    if (!n)
        return;
    vet_certset_clear(&n->certs);
    vet_key_free(n->sa_key);
    vet_key_free(n->sa_pub);
    for (size_t k = 0; k < n->nkubeconfigs; k++) {
        vet_node_kubeconfig *nk = &n->kubeconfigs[k];
        free(nk->path);
        vet_kubeconfig_free(nk->kc);
        for (size_t c = 0; c < nk->nca; c++)
            vet_cert_free(nk->ca[c]);
        free(nk->ca);
        free(nk->ca_source);
        free(nk->client_cert_path);
    }
    free(n->kubeconfigs);
    free(n->hostname_override);
    free(n->kubelet_client_link);
    free(n->advertise_address);
    free(n->version);
    free(n->service_cidr);
    free(n->service_ip);
    free(n->tls_cert_file);
    free(n->client_ca_file);
    free(n->requestheader_ca_file);
    free(n->proxy_client_cert_file);
    free(n->etcd_name);
    free(n->etcd_peer_urls);
    free(n->etcd_client_urls);
    free(n->etcd_advertise_ip);
    vet_strv_free(&n->server_hosts);
    vet_strv_free(&n->errors);
    free(n->node_name);
    free(n->root);
    free(n);
}

const vet_cert_entry *vet_node_role(const vet_node *n, const char *role)
{
    for (size_t i = 0; n && i < n->certs.n; i++)
        if (n->certs.v[i].role && !strcmp(n->certs.v[i].role, role) && n->certs.v[i].index == 0)
            return &n->certs.v[i];
    return NULL;
}

const vet_node_kubeconfig *vet_node_kubeconfig_get(const vet_node *n, const char *file)
{
    for (size_t i = 0; n && i < n->nkubeconfigs; i++)
        if (!strcmp(n->kubeconfigs[i].file, file))
            return &n->kubeconfigs[i];
    return NULL;
}

int vet_node_is_control_plane(const vet_node *n)
{
    return n && (n->apiserver_present || n->etcd_present || n->controller_manager_present ||
                 n->scheduler_present);
}

int vet_node_has_files(const vet_node *n)
{
    return n && (n->certs.n || n->nkubeconfigs || vet_node_is_control_plane(n) ||
                 n->kubelet_config_present || n->kubelet_client_link || n->sa_key || n->sa_pub ||
                 n->errors.n);
}
