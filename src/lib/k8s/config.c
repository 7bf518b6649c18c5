/* Finding the cluster the way kubectl does (client-go clientcmd loading rules):
 * --kubeconfig alone when given; else every file of KUBECONFIG (colon-separated, missing files
 * skipped) merged so that the first file to define a name (context, cluster, user) or the
 * current-context wins; else ~/.kube/config; else the in-cluster service account. Relative paths
 * inside a kubeconfig are relative to that file's folder (client-go ResolveLocalPaths). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "k8s_int.h"

#define KC_CAP (16u << 20)
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct {
    char *path;
    char *dir;
    vet_kubeconfig *kc;
} kc_file;

const char *vet_k8s_origin_str(vet_k8s_origin o)
{
    switch (o) {
    case VET_K8S_FROM_FLAG:
        return "--kubeconfig";
    case VET_K8S_FROM_ENV:
        return "KUBECONFIG";
    case VET_K8S_FROM_HOME:
        return "~/.kube/config";
    case VET_K8S_FROM_INCLUSTER:
        return "in-cluster service account";
    }
    return "?";
}

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s)
        return strdup(".");
    if (s == path)
        return strdup("/");
    return strndup(path, (size_t)(s - path));
}

/* A path as written in a kubeconfig, made absolute against its folder. */
static char *resolve(const char *dir, const char *p)
{
    if (!p || !*p)
        return NULL;
    if (p[0] == '/')
        return strdup(p);
    if (p[0] == '~' && p[1] == '/' && getenv("HOME"))
        return vet_path_join(getenv("HOME"), p + 2);
    return vet_path_join(dir, p);
}

static int load_file(kc_file *f, const char *path)
{
    vet_buf b = VET_BUF_INIT;
    int rc;
    if ((rc = vet_fs_read(&b, path, KC_CAP)))
        goto done;
    if (!(f->path = strdup(path)) || !(f->dir = dir_of(path))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    rc = vet_kubeconfig_parse(&f->kc, (const unsigned char *)(b.ptr ? b.ptr : ""), b.size, path);
done:
    vet_buf_free(&b);
    return rc;
}

static void free_files(kc_file *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].dir);
        vet_kubeconfig_free(v[i].kc);
    }
    free(v);
}

void vet_k8s_config_free(vet_k8s_config *c)
{
    if (!c)
        return;
    free(c->source);
    free(c->context);
    free(c->server);
    free(c->ns);
    free(c->user);
    free(c->ca_file);
    free(c->ca.data);
    free(c->ca_desc);
    free(c->tls_server_name);
    free(c->proxy_url);
    free(c->cert_file);
    free(c->key_file);
    free(c->cert.data);
    k8s_wipe(c->key.data, c->key.len);
    free(c->key.data);
    if (c->token)
        k8s_wipe(c->token, strlen(c->token));
    free(c->token);
    free(c->token_file);
    free(c->username);
    if (c->password)
        k8s_wipe(c->password, strlen(c->password));
    free(c->password);
    k8s_exec_free(c->exec);
    free(c->exec_dir);
    free(c);
}

static int dup_blob(vet_blob *dst, const vet_blob *src)
{
    if (!src->data)
        return 0;
    if (!(dst->data = malloc(src->len ? src->len : 1)))
        return VET_ENOMEM;
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
    return 0;
}

static int sdup(char **dst, const char *s)
{
    if (!s)
        return 0;
    return (*dst = strdup(s)) ? 0 : VET_ENOMEM;
}

/* The service account the pod runs as (client-go rest.InClusterConfig). */
static int in_cluster(vet_k8s_config *c, const char *sa_dir)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    vet_buf ns = VET_BUF_INIT;
    char *nsp = NULL;
    int rc = 0;
    if (!host || !*host || !port || !*port)
        return VET_ENOTFOUND;
    c->origin = VET_K8S_FROM_INCLUSTER;
    /* An IPv6 service host needs brackets in the URL. */
    c->server = vet_strdupf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
    c->token_file = vet_path_join(sa_dir, "token");
    c->ca_file = vet_path_join(sa_dir, "ca.crt");
    nsp = vet_path_join(sa_dir, "namespace");
    if (!c->server || !c->token_file || !c->ca_file || !nsp || sdup(&c->source, "in-cluster") ||
        sdup(&c->context, "") || sdup(&c->user, "serviceaccount")) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    c->ca_desc = vet_strdupf("%s", c->ca_file);
    if (!vet_fs_read(&ns, nsp, 4096) && ns.size) {
        size_t n = strcspn(ns.ptr, " \r\n\t");
        c->ns = strndup(ns.ptr, n);
    }
    vet_error_clear();
done:
    vet_buf_free(&ns);
    free(nsp);
    return rc;
}

/* Fill c from the merged files: first definition of each name wins. */
static int from_files(vet_k8s_config *c, kc_file *f, size_t n, const char *want_ctx)
{
    const char *ctxname = want_ctx, *cur_from = NULL;
    const vet_kc_context *cx = NULL;
    const vet_kc_cluster *cl = NULL;
    const vet_kc_user *us = NULL;
    const kc_file *clf = NULL, *usf = NULL;

    for (size_t i = 0; !ctxname && i < n; i++)
        if (f[i].kc->current_context && *f[i].kc->current_context) {
            ctxname = f[i].kc->current_context;
            cur_from = f[i].path;
        }
    if (!ctxname)
        return vet_error_set(VET_EINPUT,
                             "%s: no current-context set and no --context given (kubectl config "
                             "use-context NAME)",
                             c->source);
    for (size_t i = 0; !cx && i < n; i++)
        cx = vet_kubeconfig_context(f[i].kc, ctxname);
    if (!cx)
        return vet_error_set(VET_EINPUT, "%s: context \"%s\"%s%s does not exist", c->source,
                             ctxname, cur_from ? " (current-context in " : "",
                             cur_from ? cur_from : "");
    for (size_t i = 0; !cl && i < n; i++)
        if ((cl = vet_kubeconfig_cluster(f[i].kc, cx->cluster)))
            clf = &f[i];
    for (size_t i = 0; !us && cx->user && i < n; i++)
        if ((us = vet_kubeconfig_user(f[i].kc, cx->user)))
            usf = &f[i];
    if (!cl || !cl->server || !*cl->server)
        return vet_error_set(VET_EINPUT, "%s: context \"%s\": cluster \"%s\" %s", c->source,
                             ctxname, cx->cluster ? cx->cluster : "",
                             cl ? "has no server" : "does not exist");
    if (cx->user && *cx->user && !us)
        return vet_error_set(VET_EINPUT, "%s: context \"%s\": user \"%s\" does not exist",
                             c->source, ctxname, cx->user);
    if (sdup(&c->context, ctxname) || sdup(&c->server, cl->server) ||
        sdup(&c->ns, cx->ns && *cx->ns ? cx->ns : NULL) ||
        sdup(&c->user, cx->user ? cx->user : "") ||
        sdup(&c->tls_server_name, cl->tls_server_name) || sdup(&c->proxy_url, cl->proxy_url) ||
        dup_blob(&c->ca, &cl->ca))
        return vet_error_set(VET_ENOMEM, "out of memory");
    /* kubectl tunnels through http, https and socks5 proxies only; anything else would be
     * handed to libcurl, which knows many more schemes than a kubeconfig may name. */
    if (c->proxy_url && *c->proxy_url && strncmp(c->proxy_url, "http://", 7) &&
        strncmp(c->proxy_url, "https://", 8) && strncmp(c->proxy_url, "socks5://", 9))
        return vet_error_set(VET_EINPUT,
                             "%s: cluster \"%s\": proxy-url \"%s\" must start with http://, "
                             "https:// or socks5://",
                             clf->path, cl->name, c->proxy_url);
    while (strlen(c->server) > 1 && c->server[strlen(c->server) - 1] == '/')
        c->server[strlen(c->server) - 1] = '\0';
    c->insecure = cl->insecure;
    if (cl->ca.data)
        c->ca_desc =
            vet_strdupf("certificate-authority-data of cluster \"%s\" in %s", cl->name, clf->path);
    else if (cl->ca_path) {
        c->ca_file = resolve(clf->dir, cl->ca_path);
        c->ca_desc = vet_strdupf("%s (cluster \"%s\" in %s)", c->ca_file ? c->ca_file : "",
                                 cl->name, clf->path);
    } else
        c->ca_desc = strdup("the system CA bundle");
    if (!c->ca_desc)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!us)
        return 0;
    if (dup_blob(&c->cert, &us->cert) || dup_blob(&c->key, &us->key) ||
        sdup(&c->token, us->token) || sdup(&c->username, us->username) ||
        sdup(&c->password, us->password))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (us->cert_path && !us->cert.data)
        c->cert_file = resolve(usf->dir, us->cert_path);
    if (us->key_path && !us->key.data)
        c->key_file = resolve(usf->dir, us->key_path);
    if (us->token_file && !us->token)
        c->token_file = resolve(usf->dir, us->token_file);
    if (us->exec) {
        if (!(c->exec = k8s_exec_dup(us->exec)) || !(c->exec_dir = strdup(usf->dir)))
            return vet_error_set(VET_ENOMEM, "out of memory");
    }
    return 0;
}

static int push_file(kc_file **v, size_t *n, const char *path, int must_exist)
{
    kc_file *nv;
    int rc;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].path, path))
            return 0; /* client-go dedupes KUBECONFIG entries */
    if (!must_exist && !vet_fs_exists(path))
        return 0;
    if (!(nv = realloc(*v, (*n + 1) * sizeof *nv)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    *v = nv;
    memset(&nv[*n], 0, sizeof nv[*n]);
    rc = load_file(&nv[*n], path);
    (*n)++;
    return rc;
}

int vet_k8s_config_load(vet_k8s_config **out, const vet_k8s_opts *o)
{
    vet_k8s_config *c = NULL;
    kc_file *files = NULL;
    size_t nfiles = 0;
    vet_buf src = VET_BUF_INIT;
    const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
    const char *sa = o && o->sa_dir ? o->sa_dir : getenv("KUBEVET_SA_DIR");
    int rc = 0;

    *out = NULL;
    if (!(c = calloc(1, sizeof *c)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (o && o->kubeconfig) {
        c->origin = VET_K8S_FROM_FLAG;
        if ((rc = push_file(&files, &nfiles, o->kubeconfig, 1)))
            goto done;
    } else if (env && *env) {
        c->origin = VET_K8S_FROM_ENV;
        for (const char *p = env; *p;) {
            size_t len = strcspn(p, ":");
            char *one = strndup(p, len);
            if (!one) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
            rc = len ? push_file(&files, &nfiles, one, 0) : 0;
            free(one);
            if (rc)
                goto done;
            p += len + (p[len] == ':');
        }
    } else if (home && *home) {
        char *p = vet_path_join(home, ".kube/config");
        c->origin = VET_K8S_FROM_HOME;
        rc = p ? push_file(&files, &nfiles, p, 0) : vet_error_set(VET_ENOMEM, "out of memory");
        free(p);
        if (rc)
            goto done;
    }
    if (!nfiles) {
        /* Nothing loaded: the in-cluster service account, as client-go falls back to. */
        if ((rc = in_cluster(c, sa ? sa : SA_DIR)) == VET_ENOTFOUND)
            rc = vet_error_set(VET_ENOTFOUND,
                               "no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not "
                               "in a cluster");
        if (rc)
            goto done;
    } else {
        for (size_t i = 0; i < nfiles; i++)
            vet_buf_printf(&src, "%s%s", i ? ":" : "", files[i].path);
        if (!(c->source = vet_buf_detach(&src))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = from_files(c, files, nfiles, o ? o->context : NULL)))
            goto done;
    }
    if (o && o->ns && *o->ns) {
        free(c->ns);
        c->ns = strdup(o->ns);
    }
    if (!c->ns)
        c->ns = strdup("default");
    if (!c->ns) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (!strstr(c->server, "://")) {
        /* client-go defaults a bare host:port to https. */
        char *s = vet_strdupf("https://%s", c->server);
        if (!s) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        free(c->server);
        c->server = s;
    }
    if (strncmp(c->server, "https://", 8) && strncmp(c->server, "http://", 7)) {
        rc = vet_error_set(VET_EINPUT, "%s: server \"%s\": only http:// and https:// are supported",
                           c->source, c->server);
        goto done;
    }
    *out = c;
    c = NULL;
done:
    vet_buf_free(&src);
    free_files(files, nfiles);
    vet_k8s_config_free(c);
    return rc;
}
