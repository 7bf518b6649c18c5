/* The etcd static pod kubeadm writes (etc/kubernetes/manifests/etcd.yaml): its flags are where
 * a control-plane node keeps --advertise-client-urls, --initial-cluster and the quota. kubeadm
 * writes every flag as one `--key=value` item of `command`; `--key value` pairs and `args` are
 * accepted too for hand-edited manifests. */
#include <stdlib.h>
#include <string.h>

#include "common/yamlx.h"
#include "error.h"
#include "etcd_int.h"
#include "fs.h"
#include "url.h"

#define POD_PATH "etc/kubernetes/manifests/etcd.yaml"

void vet_etcd_pod_free(vet_etcd_pod *p)
{
    if (!p)
        return;
    free(p->path);
    free(p->name);
    vet_strv_free(&p->advertise_client_urls);
    vet_strv_free(&p->initial_advertise_peer_urls);
    free(p->initial_cluster);
    free(p->initial_cluster_state);
    free(p->initial_cluster_token);
    free(p->data_dir);
    free(p->data_host_path);
    free(p->cert_file);
    free(p->key_file);
    free(p->trusted_ca_file);
    free(p->image);
    free(p);
}

static int set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

static int parse_quota(int64_t *out, const char *v, const char *path, size_t line)
{
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < 0)
        return vet_error_set(VET_EINPUT,
                             "%s:%zu: --quota-backend-bytes: not a byte count: \"%.40s\"", path,
                             line, v);
    *out = (int64_t)x;
    return 0;
}

/* Every URL of a URL-list flag must be http(s): kubevet connects to the client URLs, and prints
 * the peer URLs into commands. name=url items (--initial-cluster) are checked after the '='. */
static int check_urls(const char *v, int named, const char *flag, const char *path, size_t line)
{
    vet_strv items = VET_STRV_INIT;
    char what[512];
    int rc = etcd_split_csv(&items, v);
    snprintf(what, sizeof what, "%s:%zu: --%s", path, line, flag);
    for (size_t i = 0; !rc && i < items.n; i++) {
        const char *u = items.v[i];
        if (named) {
            const char *eq = strchr(u, '=');
            if (!eq) {
                rc = vet_error_set(VET_EINPUT, "%s: item %zu is not NAME=URL", what, i + 1);
                break;
            }
            u = eq + 1;
        }
        rc = vet_url_check_http(u, what);
    }
    vet_strv_free(&items);
    return rc;
}

static int apply_flag(vet_etcd_pod *p, const char *key, size_t klen, const char *v,
                      const char *path, size_t line)
{
    int rc;
#define IS(k) (klen == sizeof(k) - 1 && !memcmp(key, k, klen))
    if (IS("name"))
        return set_str(&p->name, v);
    if (IS("advertise-client-urls"))
        return (rc = check_urls(v, 0, "advertise-client-urls", path, line))
                   ? rc
                   : etcd_split_csv(&p->advertise_client_urls, v);
    if (IS("listen-client-urls"))
        return check_urls(v, 0, "listen-client-urls", path, line);
    if (IS("initial-advertise-peer-urls"))
        return (rc = check_urls(v, 0, "initial-advertise-peer-urls", path, line))
                   ? rc
                   : etcd_split_csv(&p->initial_advertise_peer_urls, v);
    if (IS("initial-cluster"))
        return (rc = check_urls(v, 1, "initial-cluster", path, line))
                   ? rc
                   : set_str(&p->initial_cluster, v);
    if (IS("initial-cluster-state"))
        return set_str(&p->initial_cluster_state, v);
    if (IS("initial-cluster-token"))
        return set_str(&p->initial_cluster_token, v);
    if (IS("data-dir"))
        return set_str(&p->data_dir, v);
    if (IS("quota-backend-bytes"))
        return parse_quota(&p->quota_backend_bytes, v, path, line);
    if (IS("cert-file"))
        return set_str(&p->cert_file, v);
    if (IS("key-file"))
        return set_str(&p->key_file, v);
    if (IS("trusted-ca-file"))
        return set_str(&p->trusted_ca_file, v);
#undef IS
    return 0;
}

/* Flags that take no value in etcd (so "--flag next" must not eat "next"). */
static int is_bool_flag(const char *key, size_t klen)
{
    static const char *const b[] = {"client-cert-auth",  "peer-client-cert-auth",
                                    "force-new-cluster", "strict-reconfig-check",
                                    "enable-pprof",      "debug"};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        if (strlen(b[i]) == klen && !memcmp(b[i], key, klen))
            return 1;
    return 0;
}

static int apply_list(vet_etcd_pod *p, vet_yaml *y, yaml_node_t *seq, const char *path,
                      int *saw_etcd)
{
    size_t n = vet_yaml_len(seq);
    int rc;
    for (size_t i = 0; seq && seq->type == YAML_SEQUENCE_NODE && i < n; i++) {
        yaml_node_t *it = vet_yaml_item(y, seq, i);
        const char *s = vet_yaml_str(it), *eq, *key;
        size_t klen;
        if (!s)
            continue;
        if (i == 0 && saw_etcd) {
            const char *base = strrchr(s, '/');
            if (!strcmp(base ? base + 1 : s, "etcd"))
                *saw_etcd = 1;
        }
        if (strncmp(s, "--", 2) && strncmp(s, "-", 1))
            continue;
        key = s + (s[1] == '-' ? 2 : 1);
        eq = strchr(key, '=');
        klen = eq ? (size_t)(eq - key) : strlen(key);
        if (eq) {
            rc = apply_flag(p, key, klen, eq + 1, path, vet_yaml_line(it));
        } else if (!is_bool_flag(key, klen) && i + 1 < n &&
                   vet_yaml_str(vet_yaml_item(y, seq, i + 1)) &&
                   vet_yaml_str(vet_yaml_item(y, seq, i + 1))[0] != '-') {
            rc = apply_flag(p, key, klen, vet_yaml_str(vet_yaml_item(y, seq, i + 1)), path,
                            vet_yaml_line(it));
            i++;
        } else {
            rc = 0;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int vet_etcd_pod_parse(vet_etcd_pod **out, const unsigned char *data, size_t len, const char *path)
{
    vet_etcd_pod *p = NULL;
    vet_yaml *y = NULL;
    yaml_node_t *root, *containers, *c0 = NULL, *vols, *mounts;
    int rc = 0, saw_etcd = 0;

    *out = NULL;
    if ((rc = vet_yaml_load(&y, data, len, path)))
        goto done;
    root = vet_yaml_ndocs(y) ? vet_yaml_root(y, 0) : NULL;
    containers = root ? vet_yaml_path(y, root, "spec", "containers", NULL) : NULL;
    for (size_t i = 0; i < vet_yaml_len(containers); i++) {
        yaml_node_t *c = vet_yaml_item(y, containers, i);
        const char *nm = vet_yaml_str(vet_yaml_get(y, c, "name"));
        if (!c0 || (nm && !strcmp(nm, "etcd")))
            c0 = c;
    }
    if (!c0) {
        rc = vet_error_set(VET_EINPUT, "%s: not a pod manifest (no spec.containers)", path);
        goto done;
    }
    if (!(p = calloc(1, sizeof *p)) || !(p->path = strdup(path))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = apply_list(p, y, vet_yaml_get(y, c0, "command"), path, &saw_etcd)) ||
        (rc = apply_list(p, y, vet_yaml_get(y, c0, "args"), path, NULL)))
        goto done;
    if (!saw_etcd && !p->advertise_client_urls.n && !p->initial_cluster) {
        rc = vet_error_set(VET_EINPUT, "%s:%zu: not an etcd pod (command does not run etcd)", path,
                           vet_yaml_line(c0));
        goto done;
    }
    {
        const char *img = vet_yaml_str(vet_yaml_get(y, c0, "image"));
        if (img && (rc = set_str(&p->image, img)))
            goto done;
    }
    if (!p->initial_cluster_state && (rc = set_str(&p->initial_cluster_state, "new")))
        goto done;
    if (!p->initial_cluster_token && (rc = set_str(&p->initial_cluster_token, "etcd-cluster")))
        goto done;
    /* The hostPath behind --data-dir: kubeadm mounts volume etcd-data at the data dir. */
    vols = vet_yaml_path(y, root, "spec", "volumes", NULL);
    mounts = vet_yaml_get(y, c0, "volumeMounts");
    for (size_t i = 0; p->data_dir && i < vet_yaml_len(mounts); i++) {
        yaml_node_t *m = vet_yaml_item(y, mounts, i);
        const char *mp = vet_yaml_str(vet_yaml_get(y, m, "mountPath"));
        const char *vn = vet_yaml_str(vet_yaml_get(y, m, "name"));
        if (!mp || !vn || strcmp(mp, p->data_dir))
            continue;
        for (size_t j = 0; j < vet_yaml_len(vols); j++) {
            yaml_node_t *v = vet_yaml_item(y, vols, j);
            const char *n = vet_yaml_str(vet_yaml_get(y, v, "name"));
            const char *hp = vet_yaml_str(vet_yaml_path(y, v, "hostPath", "path", NULL));
            if (n && hp && !strcmp(n, vn) && (rc = set_str(&p->data_host_path, hp)))
                goto done;
        }
    }
    *out = p;
    p = NULL;
done:
    vet_yaml_free(y);
    vet_etcd_pod_free(p);
    return rc;
}

int vet_etcd_pod_load(vet_etcd_pod **out, const char *root)
{
    vet_buf b = VET_BUF_INIT;
    int rc;
    *out = NULL;
    if ((rc = vet_fs_read_in_root(&b, root ? root : "/", POD_PATH, 1u << 20)))
        goto done;
    rc = vet_etcd_pod_parse(out, (const unsigned char *)(b.ptr ? b.ptr : ""), b.size, POD_PATH);
done:
    vet_buf_free(&b);
    return rc;
}
