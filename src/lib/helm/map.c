/* helm map: store revision N+1 of a release with its manifest and hooks converted to APIs the
 * target serves (the `apis convert` converter), marked deployed with Helm's "DO NOT rollback"
 * description, then mark N superseded. The order and the undo make sure the release never has
 * zero or two deployed revisions: backup file first; create N+1; read it back and decode it;
 * update N at its resourceVersion; any failure after the create deletes N+1 again (after
 * checking whether an update that seemed to fail did land). helm restore puts the backup back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "atomic.h"
#include "buf.h"
#include "error.h"
#include "fs.h"
#include "helm_int.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"
#include "kubevet/kubeconfig.h"
#include "kubevet/manifest.h"
#include "kubevet/pki.h"
#include "kubevet/plan.h"

void vet_helm_map_free(vet_helm_map *m)
{
    if (!m)
        return;
    free(m->release);
    free(m->ns);
    free(m->storage_ns);
    vet_strv_free(&m->changes);
    vet_strv_free(&m->manual);
    free(m->old_text);
    free(m->new_text);
    json_decref(m->originals);
    json_decref(m->create);
    json_decref(m->supersede);
    free(m);
}

static const char *label_of(const json_t *obj, const char *k)
{
    json_t *l = json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"), k);
    return json_is_string(l) ? json_string_value(l) : NULL;
}

static int collect(void *ud, json_t *item)
{
    return json_array_append(ud, item) ? vet_error_set(VET_ENOMEM, "out of memory") : 0;
}

/* The list starts over (410 Expired): the records it gave so far come again. The array holds
 * this list's records only (each caller lists into an empty one). */
static int collect_reset(void *ud)
{
    json_array_clear(ud);
    return 0;
}

static const char *resource(vet_helm_driver d)
{
    return d == VET_HELM_SECRET ? "secrets" : "configmaps";
}

/* The release body (JSON or protobuf) of a record object. */
static int unpack_object(unsigned char **body, size_t *len, const json_t *obj, int secret)
{
    json_t *rel = json_object_get(json_object_get(obj, "data"), "release");
    vet_blob once = {NULL, 0};
    int rc;
    if (!json_is_string(rel))
        return vet_error_set(VET_EINPUT, "release record without data.release");
    if (!secret)
        return vet_helm_unpack(body, len, json_string_value(rel), json_string_length(rel), 0);
    if ((rc = vet_base64_decode(&once, json_string_value(rel), json_string_length(rel))))
        return rc;
    rc = vet_helm_unpack(body, len, (const char *)once.data, once.len, 0);
    free(once.data);
    return rc;
}

/* data.release for a body: base64(gzip) and, in a Secret, base64 once more for the API. */
static json_t *release_value(const void *body, size_t n, int secret)
{
    char *packed = NULL, *twice = NULL;
    json_t *v = NULL;
    if (helm_pack(&packed, body, n))
        return NULL;
    if (secret) {
        if (!vet_pki_base64(&twice, packed, strlen(packed)))
            v = json_string(twice);
    } else {
        v = json_string(packed);
    }
    free(packed);
    free(twice);
    return v;
}

static int list_release(vet_helm_map *m, vet_k8s *c, const vet_helm_map_opts *o)
{
    const char *tns = o->tiller_ns ? o->tiller_ns : "kube-system";
    for (int pass = 0; pass < 4; pass++) {
        int helm = pass < 2 ? 3 : 2;
        vet_helm_driver d = pass == 0 || pass == 3 ? VET_HELM_SECRET : VET_HELM_CONFIGMAP;
        const char *ns = helm == 3 ? o->ns : tns;
        char *path = vet_strdupf("/api/v1/namespaces/%s/%s", ns, resource(d));
        char *sel =
            vet_strdupf(helm == 3 ? "owner=helm,name=%s" : "OWNER=TILLER,NAME=%s", o->release);
        int rc = path && sel
                     ? vet_k8s_list(c, path, sel, NULL, collect, collect_reset, m->originals)
                     : vet_error_set(VET_ENOMEM, "out of memory");
        free(path);
        free(sel);
        if (rc)
            return rc;
        if (json_array_size(m->originals)) {
            m->helm = helm;
            m->driver = d;
            if (!(m->storage_ns = strdup(ns)))
                return vet_error_set(VET_ENOMEM, "out of memory");
            return 0;
        }
    }
    return vet_error_set(VET_ENOTFOUND,
                         "release %s: no Helm 3 records in namespace %s, no Helm 2 "
                         "records in Tiller's namespace %s",
                         o->release, o->ns, tns);
}

typedef struct {
    vet_k8s *c;
    const char *ns; /* the release's namespace: where objects without one go */
} live_ctx;

/* The selector of the live workload: the old API defaulted a missing selector to the template
 * labels when the object was created, and a later upgrade may have added labels to the template
 * (the selector stays as it was). apps/v1 makes it immutable, so the new revision must carry the
 * live one. The object is read at the group the manifest names and at apps/v1 (the API server
 * serves it at both while both exist; the old one may be gone). */
static int live_selector(void *arg, const char *api_version, const char *kind, const char *ns,
                         const char *name, vet_strv *labels)
{
    live_ctx *lc = arg;
    const char *groups[] = {api_version, "apps/v1"};
    char res[64];
    json_t *obj = NULL, *sel, *ml, *v;
    const char *k;
    int rc = VET_ENOTFOUND;
    size_t n = strlen(kind);
    if (!lc || !lc->c || n + 2 > sizeof res)
        return 0;
    for (size_t i = 0; i <= n; i++)
        res[i] = (char)((kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] - 'A' + 'a' : kind[i]);
    strcat(res, "s"); /* deployments, daemonsets, statefulsets, replicasets */
    for (size_t i = 0; i < 2 && rc == VET_ENOTFOUND; i++) {
        char *path;
        if (i && !strcmp(api_version, groups[1]))
            break;
        if (!(path = vet_strdupf("/apis/%s/namespaces/%s/%s/%s", groups[i], ns ? ns : lc->ns, res,
                                 name)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        rc = vet_k8s_get(&obj, lc->c, path);
        free(path);
    }
    if (rc == VET_ENOTFOUND) {
        vet_error_clear();
        return 0;
    }
    if (rc)
        return rc;
    sel = json_object_get(json_object_get(obj, "spec"), "selector");
    ml = json_object_get(sel, "matchLabels");
    if (json_array_size(json_object_get(sel, "matchExpressions")) || !json_object_size(ml)) {
        json_decref(obj);
        return vet_error_set(VET_EINPUT,
                             "its spec.selector has %s: write it into the manifest "
                             "by hand",
                             json_object_size(ml) ? "matchExpressions" : "no matchLabels");
    }
    json_object_foreach(ml, k, v)
    {
        if (vet_strv_push(labels, k) ||
            vet_strv_push(labels, json_is_string(v) ? json_string_value(v) : "")) {
            json_decref(obj);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
    }
    json_decref(obj);
    return 1;
}

static int convert_text(vet_helm_map *m, vet_k8s *c, char **out, const char *text, const char *name,
                        const vet_helm_map_opts *o)
{
    vet_convert_result *res = NULL;
    vet_convert_opts co;
    live_ctx lc = {c, m->ns};
    int rc;
    memset(&co, 0, sizeof co);
    co.target = o->target;
    co.catalog = o->catalog;
    co.live_selector = live_selector;
    co.live_arg = &lc;
    if ((rc =
             vet_manifest_convert_opts(&res, (const unsigned char *)text, strlen(text), &co, name)))
        return rc;
    for (size_t i = 0; i < res->ndocs; i++) {
        const vet_convert_doc *d = &res->docs[i];
        char *line;
        if (d->status == VET_CONVERT_DONE)
            line = vet_strdupf("%s line %zu: %s/%s %s -> %s%s%s%s", name, d->line, d->kind,
                               d->name ? d->name : "?", d->from, d->to ? d->to : "?",
                               d->changes ? " (" : "", d->changes ? d->changes : "",
                               d->changes ? ")" : "");
        else if (d->id && !strcmp(d->id, "KV401"))
            line = vet_strdupf("%s line %zu: %s/%s %s: %s", name, d->line, d->kind,
                               d->name ? d->name : "?", d->from,
                               d->manual ? d->manual : "no automatic conversion");
        else
            continue;
        if (!line ||
            vet_strv_take(d->status == VET_CONVERT_DONE ? &m->changes : &m->manual, line)) {
            vet_convert_result_free(res);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
    }
    m->changed |= res->changed;
    *out = res->data;
    res->data = NULL;
    vet_convert_result_free(res);
    return 0;
}

static json_t *clean_labels(const json_t *obj, int helm, const char *status, int version)
{
    json_t *l = json_deep_copy(json_object_get(json_object_get(obj, "metadata"), "labels"));
    char num[16];
    if (!l)
        l = json_object();
    snprintf(num, sizeof num, "%d", version);
    /* Helm 3 stamps modifiedAt on updates: a new record must not carry the old one's */
    json_object_del(l, "modifiedAt");
    json_object_set_new(l, helm == 2 ? "STATUS" : "status", json_string(status));
    json_object_set_new(l, helm == 2 ? "VERSION" : "version", json_string(num));
    return l;
}

/* The record of revision rev with body `body`, shaped after `like`. */
static json_t *new_record(const vet_helm_map *m, const json_t *like, const void *body, size_t n,
                          int rev, int64_t now)
{
    int secret = m->driver == VET_HELM_SECRET;
    char *name = m->helm == 3 ? vet_strdupf("sh.helm.release.v1.%s.v%d", m->release, rev)
                              : vet_strdupf("%s.v%d", m->release, rev);
    json_t *labels = clean_labels(like, m->helm, m->helm == 2 ? "DEPLOYED" : "deployed", rev);
    json_t *val = release_value(body, n, secret), *o = NULL;
    char created[32];
    snprintf(created, sizeof created, "%lld", (long long)now);
    if (m->helm == 3 && json_object_get(labels, "createdAt"))
        json_object_set_new(labels, "createdAt", json_string(created));
    if (name && labels && val)
        o = json_pack("{s:s,s:s,s:{s:s,s:s,s:O},s:{s:O}}", "apiVersion", "v1", "kind",
                      secret ? "Secret" : "ConfigMap", "metadata", "name", name, "namespace",
                      m->storage_ns, "labels", labels, "data", "release", val);
    if (o && secret)
        json_object_set(o, "type",
                        json_object_get(like, "type") ? json_object_get(like, "type")
                                                      : json_string("Opaque"));
    free(name);
    json_decref(labels);
    json_decref(val);
    return o;
}

/* A deployed record rewritten as superseded (body and status label), at its resourceVersion. */
static int superseded(json_t **out, const vet_helm_map *m, const json_t *rec)
{
    int secret = m->driver == VET_HELM_SECRET;
    unsigned char *body = NULL;
    size_t blen = 0;
    json_t *o = NULL, *root = NULL, *val = NULL, *md;
    char *text = NULL;
    vet_buf enc = VET_BUF_INIT;
    json_error_t je;
    int rc;
    *out = NULL;
    if ((rc = unpack_object(&body, &blen, rec, secret)))
        goto done;
    if (m->helm == 3) {
        if (!(root = json_loadb((const char *)body, blen, 0, &je)) ||
            !json_is_object(json_object_get(root, "info"))) {
            rc = vet_error_set(
                VET_EINPUT, "release %s: record %s: %s", m->release,
                json_string_value(json_object_get(json_object_get(rec, "metadata"), "name")),
                root ? "no info" : je.text);
            goto done;
        }
        json_object_set_new(json_object_get(root, "info"), "status", json_string("superseded"));
        text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        val = text ? release_value(text, strlen(text), secret) : NULL;
    } else {
        if ((rc = helm_v2_rewrite(&enc, body, blen, NULL, NULL, 0, 0, 3, NULL)))
            goto done;
        val = release_value(enc.ptr ? enc.ptr : "", enc.size, secret);
    }
    if (!val || !(o = json_deep_copy(rec))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set(json_object_get(o, "data"), "release", val);
    md = json_object_get(o, "metadata");
    json_object_set_new(json_object_get(md, "labels"), m->helm == 2 ? "STATUS" : "status",
                        json_string(m->helm == 2 ? "SUPERSEDED" : "superseded"));
    json_object_del(md, "managedFields");
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(root);
    json_decref(val);
    free(text);
    free(body);
    vet_buf_free(&enc);
    return rc;
}

static int add_superseded(vet_helm_map *m, const json_t *rec)
{
    json_t *sup = NULL;
    int rc = superseded(&sup, m, rec);
    if (!rc && json_array_append_new(m->supersede, sup))
        rc = vet_error_set(VET_ENOMEM, "out of memory");
    return rc;
}

static int rev_of(const vet_helm_map *m, const json_t *rec)
{
    const char *vs = label_of(rec, m->helm == 2 ? "VERSION" : "version");
    return vs ? atoi(vs) : 0;
}

int vet_helm_map_superseded(const vet_helm_map *m, size_t i)
{
    const json_t *rec = m ? json_array_get(m->supersede, i) : NULL;
    return rec ? rev_of(m, rec) : 0;
}

int vet_helm_map_prepare(vet_helm_map **out, vet_k8s *c, const vet_helm_map_opts *o)
{
    vet_helm_map *m = calloc(1, sizeof *m);
    vet_helm_release *d = NULL;
    unsigned char *body = NULL;
    size_t blen = 0, idx;
    json_t *rec_n = NULL, *item, *root = NULL;
    char *new_manifest = NULL, **new_hooks = NULL;
    vet_buf before = VET_BUF_INIT, after = VET_BUF_INIT, enc = VET_BUF_INIT;
    int rc = 0, latest = 0;
    int64_t now = (int64_t)time(NULL);
    *out = NULL;
    if (!m || !(m->originals = json_array()) || !(m->supersede = json_array()) ||
        !(m->release = strdup(o->release))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = list_release(m, c, o)))
        goto done;
    json_array_foreach(m->originals, idx, item)
    {
        const char *st = label_of(item, m->helm == 2 ? "STATUS" : "status");
        const char *vs = label_of(item, m->helm == 2 ? "VERSION" : "version");
        int v = vs ? atoi(vs) : 0;
        if (v > latest)
            latest = v;
        if (st && !strcasecmp(st, "deployed") && v > m->from_rev) {
            m->from_rev = v;
            rec_n = item;
        }
    }
    if (!rec_n) {
        rc = vet_error_set(VET_ENOTFOUND, "release %s: no revision is marked deployed", o->release);
        goto done;
    }
    m->to_rev = latest + 1;
    if ((rc = vet_helm_decode_object(&d, rec_n)) ||
        (rc = unpack_object(&body, &blen, rec_n, m->driver == VET_HELM_SECRET)))
        goto done;
    if (!(m->ns = strdup(*d->namespace ? d->namespace : m->storage_ns))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (m->helm == 2 && o->ns && strcmp(o->ns, m->ns)) {
        rc = vet_error_set(VET_ENOTFOUND, "release %s: its objects go to namespace %s, not %s",
                           o->release, m->ns, o->ns);
        goto done;
    }
    if ((rc = convert_text(m, c, &new_manifest, d->manifest, "manifest", o)))
        goto done;
    vet_buf_puts(&before, d->manifest);
    vet_buf_puts(&after, new_manifest);
    if (d->nhooks && !(new_hooks = calloc(d->nhooks, sizeof *new_hooks))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < d->nhooks; i++) {
        char *nm = vet_strdupf("hook %s", *d->hooks[i].path ? d->hooks[i].path : d->hooks[i].name);
        rc = nm ? convert_text(m, c, &new_hooks[i], d->hooks[i].manifest, nm, o)
                : vet_error_set(VET_ENOMEM, "out of memory");
        if (!rc) {
            vet_buf_printf(&before, "\n# %s\n%s", nm, d->hooks[i].manifest);
            vet_buf_printf(&after, "\n# %s\n%s", nm, new_hooks[i]);
        }
        free(nm);
        if (rc)
            goto done;
    }
    m->old_text = vet_buf_detach(&before);
    m->new_text = vet_buf_detach(&after);
    m->blocked = m->manual.n && !o->force;
    if (!m->changed || m->blocked)
        goto ready;

    /* revision N+1 */
    if (m->helm == 3) {
        json_t *info, *hooks;
        json_error_t je;
        if (!(root = json_loadb((const char *)body, blen, 0, &je))) {
            rc = vet_error_set(VET_EINPUT, "release %s: %s", o->release, je.text);
            goto done;
        }
        info = json_object_get(root, "info");
        json_object_set_new(root, "manifest", json_string(new_manifest));
        json_object_set_new(root, "version", json_integer(m->to_rev));
        if (json_is_object(info)) {
            json_object_set_new(info, "status", json_string("deployed"));
            json_object_set_new(info, "description", json_string(VET_HELM_MAP_DESCRIPTION));
        }
        hooks = json_object_get(root, "hooks");
        for (size_t i = 0; i < d->nhooks && i < json_array_size(hooks); i++)
            json_object_set_new(json_array_get(hooks, i), "manifest", json_string(new_hooks[i]));
        {
            char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
            m->create = text ? new_record(m, rec_n, text, strlen(text), m->to_rev, now) : NULL;
            free(text);
        }
    } else {
        if ((rc = helm_v2_rewrite(&enc, body, blen, new_manifest, (const char *const *)new_hooks,
                                  d->nhooks, m->to_rev, 1, VET_HELM_MAP_DESCRIPTION)))
            goto done;
        m->create = new_record(m, rec_n, enc.ptr ? enc.ptr : "", enc.size, m->to_rev, now);
    }
    if (!m->create) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* N, then every older revision also marked deployed: Helm expects one deployed revision,
     * and after the map that is N+1 */
    if ((rc = add_superseded(m, rec_n)))
        goto done;
    json_array_foreach(m->originals, idx, item)
    {
        const char *st = label_of(item, m->helm == 2 ? "STATUS" : "status");
        if (item == rec_n || !st || strcasecmp(st, "deployed"))
            continue;
        if ((rc = add_superseded(m, item)))
            goto done;
    }
ready:
    *out = m;
    m = NULL;
done:
    if (new_hooks)
        for (size_t i = 0; d && i < d->nhooks; i++)
            free(new_hooks[i]);
    free(new_hooks);
    free(new_manifest);
    free(body);
    json_decref(root);
    vet_buf_free(&before);
    vet_buf_free(&after);
    vet_buf_free(&enc);
    vet_helm_release_free(d);
    vet_helm_map_free(m);
    return rc;
}

static char *backup_text(const vet_helm_map *m)
{
    json_t *o = json_pack("{s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:i,s:O}", "kind", "KubevetHelmBackup",
                          "version", 1, "helm", m->helm, "release", m->release, "namespace", m->ns,
                          "storage_namespace", m->storage_ns, "resource", resource(m->driver),
                          "revision", m->from_rev, "records", m->originals);
    char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

static const char *name_of(const json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

int vet_helm_map_plan(vet_plan **out, const vet_helm_map *m, const char *backup_path)
{
    const char *kind = m->driver == VET_HELM_SECRET ? "Secret" : "ConfigMap";
    char *dir = NULL, *text = NULL, *body = NULL, *why = NULL, *summary = NULL;
    const char *slash = strrchr(backup_path, '/'), *base = slash ? slash + 1 : backup_path;
    vet_plan *p = NULL;
    size_t i;
    json_t *rec;
    int rc;
    *out = NULL;
    if (!m->create || m->blocked)
        return vet_error_set(VET_EUSAGE, "release %s: nothing to map", m->release);
    dir = slash ? (slash == backup_path
                       ? strdup("/")
                       : vet_strdupf("%.*s", (int)(slash - backup_path), backup_path))
                : strdup(".");
    if (!dir || !*base) {
        rc = dir ? vet_error_set(VET_EUSAGE, "%s: the backup names no file", backup_path)
                 : vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vet_plan_new(&p, dir, "helm map", ".")))
        goto done;
    /* 1. the records as they are, before anything changes: helm restore's input */
    text = backup_text(m);
    summary = vet_strdupf("every record of release %s (%zu %s%s), for kubevet helm restore",
                          m->release, json_array_size(m->originals),
                          m->driver == VET_HELM_SECRET ? "Secret" : "ConfigMap",
                          json_array_size(m->originals) == 1 ? "" : "s");
    why = vet_strdupf("save the records first (they hold Secrets: 0600)");
    if (!text || !summary || !why) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vet_plan_add_write(p, base, text, strlen(text), 0600,
                                 VET_WRITE_SECRET | VET_WRITE_KEEP, summary, NULL, NULL, why)))
        goto done;
    /* 2. N+1, read back and decoded by the verify hook before anything else changes */
    free(why);
    why = vet_strdupf("revision %d, deployed, \"%s\"; read back and decoded before going on",
                      m->to_rev, VET_HELM_MAP_DESCRIPTION);
    body = json_dumps(m->create, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!why || !body) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vet_plan_add_api_create(p, kind, m->storage_ns, name_of(m->create), body, NULL, NULL,
                                      why)) ||
        (rc = vet_plan_set_diff(p, "manifest", m->old_text, m->new_text)))
        goto done;
    /* 3. N superseded (and older revisions wrongly left deployed) at their resourceVersions */
    json_array_foreach(m->supersede, i, rec)
    {
        free(body);
        free(why);
        why = i ? vet_strdupf("revision %d is marked deployed too (several are): superseded",
                              rev_of(m, rec))
                : vet_strdupf("revision %d: superseded by %d", m->from_rev, m->to_rev);
        body = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!why || !body) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = vet_plan_add_api_update(p, kind, m->storage_ns, name_of(rec),
                                          json_string_value(json_object_get(
                                              json_object_get(rec, "metadata"), "resourceVersion")),
                                          body, NULL, NULL, NULL, why)))
            goto done;
    }
    *out = p;
    p = NULL;
done:
    vet_plan_free(p);
    free(dir);
    free(text);
    free(body);
    free(why);
    free(summary);
    return rc;
}

typedef struct {
    vet_k8s *c;
    const vet_helm_map *m;
} verify_ctx;

/* After the create: the stored record must decode as revision N+1, deployed, before any other
 * record changes (a record Helm cannot read would leave the release without a usable one). */
static int verify_created(const vet_plan *p, size_t step, void *arg)
{
    verify_ctx *v = arg;
    const vet_action *a = vet_plan_action(p, step);
    json_t *got = NULL;
    vet_helm_release *d = NULL;
    char *path;
    int rc;
    if (!a || a->kind != VET_ACT_API_CREATE)
        return 0;
    if (!(path = vet_strdupf("/api/v1/namespaces/%s/%s/%s", a->api_namespace,
                             resource(v->m->driver), a->api_name)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!(rc = vet_k8s_get(&got, v->c, path)) && !(rc = vet_helm_decode_object(&d, got)) &&
        (d->revision != v->m->to_rev || strcmp(d->status, "deployed")))
        rc = vet_error_set(VET_EINPUT, "revision %d read back as revision %d, %s", v->m->to_rev,
                           d->revision, d->status);
    if (rc)
        vet_error_prefix("reading back the new revision");
    json_decref(got);
    vet_helm_release_free(d);
    free(path);
    return rc;
}

int vet_helm_map_apply(vet_plan *p, const vet_helm_map *m, vet_k8s *c, vet_plan_result *res)
{
    verify_ctx v = {c, m};
    vet_plan_apply_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.verify = verify_created;
    ao.arg = &v;
    ao.api = vet_plan_api_k8s;
    ao.api_undo = vet_plan_api_k8s_undo;
    ao.api_arg = c;
    return vet_plan_apply(p, &ao, res);
}

/* ---- restore ---- */

static json_t *for_write(const json_t *saved, const char *rv)
{
    json_t *o = json_deep_copy(saved), *md = json_object_get(o, "metadata");
    if (!o)
        return NULL;
    json_object_del(md, "managedFields");
    json_object_del(md, "uid");
    json_object_del(md, "creationTimestamp");
    if (rv)
        json_object_set_new(md, "resourceVersion", json_string(rv));
    else
        json_object_del(md, "resourceVersion");
    return o;
}

int vet_helm_restore(vet_k8s *c, const char *backup_path, int apply, vet_strv *what)
{
    vet_buf text = VET_BUF_INIT;
    json_t *b = NULL, *recs, *item, *live = NULL;
    json_error_t je;
    const char *ns, *res, *rel;
    int helm, rc;
    size_t i;
    char *coll = NULL, *sel = NULL;
    if ((rc = vet_fs_read(&text, backup_path, 256u << 20)))
        return rc;
    b = json_loadb(text.ptr ? text.ptr : "", text.size, 0, &je);
    recs = json_object_get(b, "records");
    ns = json_string_value(json_object_get(b, "storage_namespace"));
    res = json_string_value(json_object_get(b, "resource"));
    rel = json_string_value(json_object_get(b, "release"));
    helm = (int)json_integer_value(json_object_get(b, "helm"));
    if (!b || !json_is_array(recs) || !ns || !res || !rel || (helm != 2 && helm != 3) ||
        (strcmp(res, "secrets") && strcmp(res, "configmaps"))) {
        rc = vet_error_set(VET_EINPUT, "%s:%d: not a kubevet helm backup%s%s", backup_path,
                           b ? 1 : je.line, b ? "" : ": ", b ? "" : je.text);
        goto done;
    }
    coll = vet_strdupf("/api/v1/namespaces/%s/%s", ns, res);
    sel = vet_strdupf(helm == 3 ? "owner=helm,name=%s" : "OWNER=TILLER,NAME=%s", rel);
    if (!coll || !sel || !(live = json_array())) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vet_k8s_list(c, coll, sel, NULL, collect, collect_reset, live)))
        goto done;
    /* records created since (revision N+1): deleted */
    json_array_foreach(live, i, item)
    {
        const char *name =
            json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
        int saved = 0;
        size_t k;
        json_t *s;
        char *line;
        json_array_foreach(recs, k, s)
        {
            const char *sn =
                json_string_value(json_object_get(json_object_get(s, "metadata"), "name"));
            if (name && sn && !strcmp(name, sn))
                saved = 1;
        }
        if (saved || !name)
            continue;
        line = vet_strdupf("delete %s/%s/%s (not in the backup)", res, ns, name);
        if (!line || vet_strv_take(what, line)) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if (apply) {
            char *p = vet_strdupf("%s/%s", coll, name);
            rc = p ? vet_k8s_delete(c, p) : VET_ENOMEM;
            free(p);
            if (rc && rc != VET_ENOTFOUND)
                goto done;
            rc = 0;
        }
    }
    json_array_foreach(recs, i, item)
    {
        const char *name =
            json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
        char *p, *line;
        json_t *cur = NULL, *w;
        if (!name)
            continue;
        if (!(p = vet_strdupf("%s/%s", coll, name))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        rc = vet_k8s_get(&cur, c, p);
        if (rc && rc != VET_ENOTFOUND) {
            free(p);
            goto done;
        }
        w = for_write(item, rc ? NULL
                               : json_string_value(json_object_get(json_object_get(cur, "metadata"),
                                                                   "resourceVersion")));
        line = vet_strdupf("%s %s/%s/%s as saved", rc ? "create" : "replace", res, ns, name);
        if (!w || !line || vet_strv_take(what, line)) {
            json_decref(w);
            json_decref(cur);
            free(p);
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if (apply)
            rc = rc ? vet_k8s_create(NULL, c, coll, w) : vet_k8s_update(NULL, c, p, w);
        else
            rc = 0;
        json_decref(w);
        json_decref(cur);
        free(p);
        if (rc)
            goto done;
    }
done:
    json_decref(b);
    json_decref(live);
    free(coll);
    free(sel);
    vet_buf_free(&text);
    return rc;
}
