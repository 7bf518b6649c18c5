/* data/releases.yaml: one row per Kubernetes minor (see the file's header for the sources).
 * Parsed with libyaml into a small array; a user file (--releases) replaces the built-in data
 * as a whole, so a plan never mixes two vintages of facts. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"
#include "fs.h"
#include "kubevet/catalog.h"

#define MAX_RELEASES 200

struct vet_releases {
    vet_release *rows; /* ascending minor */
    size_t n;
    vet_skew_policy skew;
    char updated[32];
    vet_strv strs; /* owns every string the rows point at */
};

static const char *keep(vet_releases *r, const char *s)
{
    if (!s || vet_strv_push(&r->strs, s))
        return NULL;
    return r->strs.v[r->strs.n - 1];
}

/* "1.13" -> 13. Versions must be strings: YAML reads 1.20 unquoted as the float 1.2. */
static int minor_of(const char *s, int *out)
{
    vet_version v;
    if (!s || vet_version_parse(&v, s) || v.major != 1)
        return -1;
    *out = v.minor;
    return 0;
}

static int int_field(vet_yaml *y, yaml_node_t *map, const char *key, int *out, const char *name)
{
    const char *s = vet_yaml_str(vet_yaml_get(y, map, key));
    char *end;
    long v;
    if (!s)
        return 0;
    v = strtol(s, &end, 10);
    if (*end || end == s || v < 0 || v > 100)
        return vet_error_set(VET_EINPUT, "%s:%zu: skew.%s: want a small number, not \"%s\"", name,
                             vet_yaml_line(map), key, s);
    *out = (int)v;
    return 0;
}

static int parse_row(vet_releases *r, vet_yaml *y, yaml_node_t *it, const char *name)
{
    vet_release *row = &r->rows[r->n];
    size_t line = vet_yaml_line(it);
    yaml_node_t *mn = vet_yaml_get(y, it, "minor");
    const char *minor = vet_yaml_str(mn);
    const char *newest = vet_yaml_str(vet_yaml_get(y, it, "newest"));
    const char *etcd = vet_yaml_str(vet_yaml_get(y, it, "etcd"));
    yaml_node_t *cfg = vet_yaml_get(y, it, "kubeadm-config");
    vet_version nv;
    int m;
    memset(row, 0, sizeof *row);
    row->line = line;
    /* A plain 1.20 is the float 1.2 to every other YAML reader of this file: quotes required. */
    if (!it || it->type != YAML_MAPPING_NODE || minor_of(minor, &m) ||
        mn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return vet_error_set(VET_EINPUT, "%s:%zu: a release needs minor: \"1.N\" (quoted)", name,
                             line);
    if (!newest || vet_version_parse(&nv, newest) || nv.major != 1 || nv.minor != m)
        return vet_error_set(VET_EINPUT, "%s:%zu: newest: want a 1.%d.N release", name, line, m);
    if (!etcd || !*etcd || (etcd[0] < '0' || etcd[0] > '9'))
        return vet_error_set(VET_EINPUT, "%s:%zu: etcd: want a version like \"3.5.6-0\"", name,
                             line);
    if (r->n && r->rows[r->n - 1].minor >= m)
        return vet_error_set(VET_EINPUT, "%s:%zu: releases must be in ascending order (1.%d)", name,
                             line, m);
    row->minor = m;
    if (!(row->newest = keep(r, newest[0] == 'v' ? newest + 1 : newest)) ||
        !(row->etcd = keep(r, etcd)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    row->cluster_status = vet_yaml_bool(vet_yaml_get(y, it, "cluster-status")) == 1;
    row->cri_socket = vet_yaml_bool(vet_yaml_get(y, it, "cri-socket")) == 1;
    if (cfg && cfg->type != YAML_SEQUENCE_NODE)
        return vet_error_set(VET_EINPUT, "%s:%zu: kubeadm-config: want a list", name, line);
    for (size_t i = 0; cfg && i < vet_yaml_len(cfg); i++) {
        const char *s = vet_yaml_str(vet_yaml_item(y, cfg, i));
        if (!s)
            return vet_error_set(VET_EINPUT, "%s:%zu: kubeadm-config: want strings", name, line);
        if (vet_strv_push(&row->kubeadm_config, s))
            return vet_error_set(VET_ENOMEM, "out of memory");
    }
    r->n++;
    return 0;
}

int vet_releases_parse(vet_releases **out, const unsigned char *data, size_t len, const char *name)
{
    vet_releases *r = NULL;
    vet_yaml *y = NULL;
    yaml_node_t *root, *list, *skew;
    const char *up;
    int rc;
    *out = NULL;
    if ((rc = vet_yaml_load(&y, data, len, name)))
        goto done;
    if (!(r = calloc(1, sizeof *r))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* FORMATS.md's policy, used when the file has no skew: block. */
    r->skew = (vet_skew_policy){3, 25, 2, 1, 1};
    root = vet_yaml_root(y, 0);
    list = root ? vet_yaml_get(y, root, "releases") : NULL;
    if (!list || list->type != YAML_SEQUENCE_NODE || !vet_yaml_len(list)) {
        rc = vet_error_set(VET_EINPUT, "%s:%zu: want a list under \"releases:\"", name,
                           root ? vet_yaml_line(root) : 1);
        goto done;
    }
    if (vet_yaml_len(list) > MAX_RELEASES) {
        rc = vet_error_set(VET_ELIMIT, "%s: more than %d releases", name, MAX_RELEASES);
        goto done;
    }
    if (!(r->rows = calloc(vet_yaml_len(list) + 1, sizeof *r->rows))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < vet_yaml_len(list); i++)
        if ((rc = parse_row(r, y, vet_yaml_item(y, list, i), name)))
            goto done;
    if ((skew = vet_yaml_get(y, root, "skew"))) {
        const char *since = vet_yaml_str(vet_yaml_get(y, skew, "kubelet-older-since"));
        if ((rc = int_field(y, skew, "kubelet-older", &r->skew.kubelet_older, name)) ||
            (rc =
                 int_field(y, skew, "kubelet-older-legacy", &r->skew.kubelet_older_legacy, name)) ||
            (rc = int_field(y, skew, "kubectl", &r->skew.kubectl, name)) ||
            (rc = int_field(y, skew, "apiserver-ha", &r->skew.apiserver_ha, name)))
            goto done;
        if (since && minor_of(since, &r->skew.kubelet_older_since)) {
            rc = vet_error_set(VET_EINPUT, "%s:%zu: skew.kubelet-older-since: want \"1.N\"", name,
                               vet_yaml_line(skew));
            goto done;
        }
    }
    up = vet_yaml_str(vet_yaml_get(y, root, "updated"));
    snprintf(r->updated, sizeof r->updated, "%s", up ? up : "unknown");
    *out = r;
    r = NULL;
done:
    vet_releases_free(r);
    vet_yaml_free(y);
    return rc;
}

int vet_releases_load_file(vet_releases **out, const char *path)
{
    vet_buf b = VET_BUF_INIT;
    int rc = vet_fs_read(&b, path, 1u << 20);
    if (!rc)
        rc = vet_releases_parse(out, (const unsigned char *)b.ptr, b.size, path);
    vet_buf_free(&b);
    return rc;
}

int vet_releases_load_builtin(vet_releases **out)
{
    size_t len;
    const unsigned char *d = vet_releases_builtin_data(&len);
    return vet_releases_parse(out, d, len, "data/releases.yaml");
}

void vet_releases_free(vet_releases *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->rows && i < r->n; i++)
        vet_strv_free(&r->rows[i].kubeadm_config);
    /* a row that failed half-way may hold kubeadm-config strings too (rows has n + 1 slots) */
    if (r->rows)
        vet_strv_free(&r->rows[r->n].kubeadm_config);
    free(r->rows);
    vet_strv_free(&r->strs);
    free(r);
}

const char *vet_releases_updated(const vet_releases *r)
{
    return r ? r->updated : "unknown";
}

size_t vet_releases_count(const vet_releases *r)
{
    return r ? r->n : 0;
}

const vet_release *vet_releases_at(const vet_releases *r, size_t i)
{
    return r && i < r->n ? &r->rows[i] : NULL;
}

const vet_release *vet_releases_find(const vet_releases *r, int minor)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (r->rows[i].minor == minor)
            return &r->rows[i];
    return NULL;
}

const vet_skew_policy *vet_releases_skew(const vet_releases *r)
{
    return &r->skew;
}

static vet_releases *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void load_builtin_once(void)
{
    if (vet_releases_load_builtin(&builtin))
        builtin = NULL;
}

const vet_releases *vet_releases_builtin(void)
{
    pthread_once(&builtin_once, load_builtin_once);
    return builtin;
}

int vet_skew_kubelet_allowed(const vet_skew_policy *p, int kubelet_minor)
{
    return kubelet_minor < p->kubelet_older_since ? p->kubelet_older_legacy : p->kubelet_older;
}
