#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "node_int.h"
#include "parallel.h"

int vet_certset_take(vet_certset *set, vet_pem *pem, const char *subject, const char *path,
                     const char *source, const char *role, const char *ca_role, vet_key *key,
                     const char *key_path)
{
    for (size_t i = 0; i < pem->ncerts; i++) {
        vet_cert_entry *e;
        if (set->n == set->cap) {
            size_t cap = set->cap ? set->cap * 2 : 32;
            vet_cert_entry *v = realloc(set->v, cap * sizeof *v);
            if (!v)
                return vet_error_set(VET_ENOMEM, "out of memory");
            set->v = v;
            set->cap = cap;
        }
        e = &set->v[set->n];
        memset(e, 0, sizeof *e);
        e->subject = i ? vet_strdupf("%s (certificate %zu)", subject, i + 1) : strdup(subject);
        e->path = strdup(path);
        e->source = strdup(source);
        e->role = i ? NULL : role;
        e->ca_role = i ? NULL : ca_role;
        e->index = i;
        e->cert = pem->certs[i];
        pem->certs[i] = NULL;
        if (i == 0 && key) {
            e->key = key;
            key = NULL;
            e->key_path = key_path ? strdup(key_path) : NULL;
        } else if (i == 0 && pem->nkeys && pem->keys[0]) {
            e->key = pem->keys[0];
            pem->keys[0] = NULL;
            e->key_path = strdup(path);
        }
        set->n++;
        if (!e->subject || !e->path || !e->source)
            return vet_error_set(VET_ENOMEM, "out of memory");
    }
    vet_key_free(key);
    return 0;
}

void vet_certset_clear(vet_certset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        vet_cert_entry *e = &set->v[i];
        free(e->subject);
        free(e->path);
        free(e->source);
        free(e->key_path);
        vet_cert_free(e->cert);
        vet_key_free(e->key);
    }
    free(set->v);
    vet_strv_free(&set->errors);
    memset(set, 0, sizeof *set);
}

/* ---- files and folders given as arguments ---- */

typedef struct {
    char *path;
    int kubeconfig; /* parse as kubeconfig */
    vet_pem pem;    /* results */
    vet_kubeconfig *kc;
    vet_pem *users; /* kubeconfig: one pem per user, then one per cluster */
    size_t nusers;
    char *err;
} item;

static int has_suffix(const char *s, const char *suf)
{
    size_t ls = strlen(s), lf = strlen(suf);
    return ls >= lf && !strcasecmp(s + ls - lf, suf);
}

static int is_cert_name(const char *n)
{
    static const char *const ext[] = {".pem", ".crt", ".cer", ".der", ".key", ".pub", NULL};
    for (int i = 0; ext[i]; i++)
        if (has_suffix(n, ext[i]))
            return 1;
    return 0;
}

static int is_kubeconfig_name(const char *n)
{
    static const char *const ext[] = {".conf", ".kubeconfig", ".yaml", ".yml", NULL};
    if (!strcmp(n, "config"))
        return 1;
    for (int i = 0; ext[i]; i++)
        if (has_suffix(n, ext[i]))
            return 1;
    return 0;
}

typedef struct {
    item *v;
    size_t n, cap;
} items;

static int push_item(items *it, const char *path, int kubeconfig)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 64;
        item *v = realloc(it->v, cap * sizeof *v);
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        it->v = v;
        it->cap = cap;
    }
    memset(&it->v[it->n], 0, sizeof it->v[0]);
    it->v[it->n].path = strdup(path);
    it->v[it->n].kubeconfig = kubeconfig;
    if (!it->v[it->n++].path)
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk a folder in name order (stable output); only certificate- or kubeconfig-looking names.
 * Symlinked folders are followed, each directory once (seen). */
static int walk(items *it, vet_fs_dirset *seen, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    vet_strv names = VET_STRV_INIT;
    int rc = 0;
    if (depth > 32 || (rc = vet_fs_dirset_enter(seen, dir)) <= 0)
        return rc;
    rc = 0;
    if (!(d = opendir(dir)))
        return vet_error_set(VET_EIO, "%s: cannot open folder", dir);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && (rc = vet_strv_push(&names, e->d_name)))
            break;
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; !rc && i < names.n; i++) {
        char *p = vet_path_join(dir, names.v[i]);
        struct stat st;
        if (!p) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            break;
        }
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(it, seen, p, depth + 1);
        else if (is_cert_name(names.v[i]))
            rc = push_item(it, p, 0);
        else if (is_kubeconfig_name(names.v[i]))
            rc = push_item(it, p, 1);
        free(p);
    }
    vet_strv_free(&names);
    return rc;
}

static void load_item(size_t i, void *arg)
{
    item *x = &((item *)arg)[i];
    vet_buf b = VET_BUF_INIT;
    int rc = vet_fs_read(&b, x->path, VET_FS_DEFAULT_CAP);
    if (!rc && !x->kubeconfig && !vet_pki_sniff((unsigned char *)b.ptr, b.size) && b.size &&
        memchr(b.ptr, ':', b.size))
        x->kubeconfig = 1; /* a YAML file given by name */
    if (!rc && x->kubeconfig) {
        rc = vet_kubeconfig_parse(&x->kc, (unsigned char *)b.ptr, b.size, x->path);
        if (!rc && x->kc->nusers + x->kc->nclusters) {
            x->nusers = x->kc->nusers + x->kc->nclusters;
            x->users = calloc(x->nusers, sizeof *x->users);
            if (!x->users)
                rc = vet_error_set(VET_ENOMEM, "out of memory");
        }
        for (size_t u = 0; !rc && u < x->nusers; u++) {
            const vet_blob *blob;
            char *ref = NULL, *dir = NULL, *full = NULL;
            vet_buf fb = VET_BUF_INIT;
            if (u < x->kc->nusers) {
                blob = &x->kc->users[u].cert;
                ref = x->kc->users[u].cert_path;
            } else {
                blob = &x->kc->clusters[u - x->kc->nusers].ca;
                ref = x->kc->clusters[u - x->kc->nusers].ca_path;
            }
            if (blob->data) {
                rc = vet_pki_parse(&x->users[u], blob->data, blob->len, x->path);
            } else if (ref) {
                /* Relative paths in a kubeconfig are relative to its own folder (clientcmd). */
                const char *slash = strrchr(x->path, '/');
                dir = slash ? vet_strdupf("%.*s", (int)(slash - x->path), x->path) : strdup(".");
                full = ref[0] == '/' ? strdup(ref) : vet_path_join(dir, ref);
                if (!full || !(rc = vet_fs_read(&fb, full, VET_FS_DEFAULT_CAP)))
                    rc = full ? vet_pki_parse(&x->users[u], (unsigned char *)fb.ptr, fb.size, full)
                              : vet_error_set(VET_ENOMEM, "out of memory");
                if (rc) {
                    /* Name the kubeconfig and the field that points at the broken file. */
                    char where[1024];
                    snprintf(where, sizeof where, "%s: %s", x->path,
                             u < x->kc->nusers ? "client-certificate" : "certificate-authority");
                    vet_error_prefix(where);
                }
            }
            vet_buf_free(&fb);
            free(dir);
            free(full);
        }
    } else if (!rc) {
        rc = vet_pki_parse(&x->pem, (unsigned char *)b.ptr, b.size, x->path);
    }
    if (rc)
        x->err = strdup(vet_error_last());
    vet_buf_free(&b);
}

static int cmp_item_path(const void *a, const void *b)
{
    return strcmp((*(item *const *)a)->path, (*(item *const *)b)->path);
}

/* cfssl writes x.pem + x-key.pem; openssl/kubeadm x.crt + x.key. keys[] holds the key-only
 * items sorted by path, so a 10,000-file folder pairs up in n log n, not n^2. */
static vet_key *partner_key(item **keys, size_t nkeys, const char *p, char **key_path)
{
    size_t l = strlen(p);
    char *want = NULL;
    item probe, *pp = &probe, **hit;
    if (has_suffix(p, ".pem"))
        want = vet_strdupf("%.*s-key.pem", (int)(l - 4), p);
    else if (has_suffix(p, ".crt"))
        want = vet_strdupf("%.*s.key", (int)(l - 4), p);
    if (!want)
        return NULL;
    probe.path = want;
    hit = nkeys ? bsearch(&pp, keys, nkeys, sizeof *keys, cmp_item_path) : NULL;
    free(want);
    if (!hit || !(*hit)->pem.nkeys || !(*hit)->pem.keys[0])
        return NULL;
    *key_path = (*hit)->path;
    vet_key *k = (*hit)->pem.keys[0];
    (*hit)->pem.keys[0] = NULL;
    return k;
}

static int is_key_name(const char *n)
{
    return has_suffix(n, ".key") || has_suffix(n, "-key.pem");
}

static void item_clear(item *x)
{
    free(x->err);
    x->err = NULL;
    vet_pem_clear(&x->pem);
    for (size_t u = 0; u < x->nusers; u++)
        vet_pem_clear(&x->users[u]);
    free(x->users);
    x->users = NULL;
    x->nusers = 0;
    vet_kubeconfig_free(x->kc);
    x->kc = NULL;
}

/* Move what item x held into set, in the order vet_certset_load_paths has always used. */
static int take_item(vet_certset *set, item *x, item **keys, size_t nkeys)
{
    int rc = 0;
    if (x->err)
        return vet_strv_push(&set->errors, x->err);
    if (x->kc) {
        for (size_t u = 0; u < x->nusers && !rc; u++) {
            int is_user = u < x->kc->nusers;
            const char *nm =
                is_user ? x->kc->users[u].name : x->kc->clusters[u - x->kc->nusers].name;
            char *subj = vet_strdupf("kubeconfig %s %s %s", x->path, is_user ? "user" : "cluster",
                                     nm ? nm : "");
            char *src = vet_strdupf("%s:%s", is_user ? "kubeconfig" : "kubeconfig-ca", nm ? nm : "");
            rc = subj && src ? vet_certset_take(set, &x->users[u], subj, x->path, src, NULL, NULL,
                                                NULL, NULL)
                             : vet_error_set(VET_ENOMEM, "out of memory");
            free(subj);
            free(src);
        }
    } else {
        char *kp = NULL;
        vet_key *k = x->pem.ncerts && !x->pem.nkeys ? partner_key(keys, nkeys, x->path, &kp) : NULL;
        rc = vet_certset_take(set, &x->pem, x->path, x->path, "file", NULL, NULL, k, kp);
    }
    return rc;
}

typedef struct {
    item *v;
    size_t *idx;
} subset;

static void load_some(size_t i, void *arg)
{
    subset *s = arg;
    load_item(s->idx[i], s->v);
}

/* Items per piece of vet_certset_load_facts: enough to keep both cores busy, few enough that
 * a piece of parsed certificates (about 4 KB each in OpenSSL) stays near a megabyte. */
#define PIECE 256

static int load(vet_certset *set, const char *const *paths, size_t npaths, int facts,
                const vet_node *scope)
{
    items it = {NULL, 0, 0};
    vet_fs_dirset seen = VET_FS_DIRSET_INIT;
    item **keys = NULL;
    size_t nkeys = 0, *idx = NULL, nidx = 0;
    char *loaded = NULL;
    int rc = 0;
    for (size_t i = 0; i < npaths && !rc; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            vet_error_set(VET_EIO, "%s: no such file or folder", paths[i]);
            rc = vet_strv_push(&set->errors, vet_error_last());
        } else if (S_ISDIR(st.st_mode)) {
            if ((rc = walk(&it, &seen, paths[i], 0)) == VET_EIO)
                rc = vet_strv_push(&set->errors, vet_error_last());
        } else {
            /* Named explicitly: read whatever it is; a kubeconfig by name or by content. */
            rc = push_item(&it, paths[i], is_kubeconfig_name(paths[i]) && !is_cert_name(paths[i]));
        }
    }
    if (rc)
        goto done;
    keys = calloc(it.n + 1, sizeof *keys);
    idx = calloc(it.n + 1, sizeof *idx);
    loaded = calloc(it.n + 1, 1);
    if (!keys || !idx || !loaded) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* Whole: every item at once. Facts: the key files first (a certificate pairs only with
     * x.key or x-key.pem, and may come before it), the rest a piece at a time. */
    for (size_t i = 0; i < it.n; i++)
        if (!facts || is_key_name(it.v[i].path)) {
            idx[nidx++] = i;
            loaded[i] = 1;
        }
    {
        subset sub = {it.v, idx};
        vet_parallel_for(nidx, 0, load_some, &sub);
    }
    for (size_t i = 0; i < it.n; i++)
        if (loaded[i] && !it.v[i].err && !it.v[i].kc && it.v[i].pem.nkeys && !it.v[i].pem.ncerts)
            keys[nkeys++] = &it.v[i];
    qsort(keys, nkeys, sizeof *keys, cmp_item_path);
    for (size_t at = 0; at < it.n && !rc;) {
        size_t end = facts ? (it.n - at > PIECE ? at + PIECE : it.n) : it.n, from = set->n;
        subset sub = {it.v, idx};
        nidx = 0;
        for (size_t i = at; i < end; i++)
            if (!loaded[i])
                idx[nidx++] = i;
        vet_parallel_for(nidx, 0, load_some, &sub);
        for (size_t i = at; i < end && !rc; i++) {
            rc = take_item(set, &it.v[i], keys, nkeys);
            /* a key file stays until the end: a later certificate may pair with it */
            if (facts && !loaded[i])
                item_clear(&it.v[i]);
        }
        if (!rc && facts)
            rc = vet_node_chains_piece(scope, set, from);
        at = end;
    }
done:
    vet_fs_dirset_free(&seen);
    for (size_t i = 0; i < it.n; i++) {
        free(it.v[i].path);
        item_clear(&it.v[i]);
    }
    free(it.v);
    free(keys);
    free(idx);
    free(loaded);
    return rc;
}

int vet_certset_load_paths(vet_certset *set, const char *const *paths, size_t npaths)
{
    return load(set, paths, npaths, 0, NULL);
}

int vet_certset_load_facts(vet_certset *set, const char *const *paths, size_t npaths,
                           const vet_node *scope)
{
    return load(set, paths, npaths, 1, scope);
}
