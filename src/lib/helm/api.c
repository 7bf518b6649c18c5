/* Helm records through the Kubernetes API: the LISTs Helm itself makes (owner=helm for Helm 3,
 * OWNER=TILLER in Tiller's namespace for Helm 2), one page at a time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "helm_gather.h"
#include "helm_int.h"
#include "jspan.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"

typedef struct {
    helm_acc *acc;
    int helm;
    vet_helm_driver driver;
    const char *item;    /* the record's text */
    size_t rel_s, rel_e; /* its data.release value's span (0, 0: none) */
} list_ctx;

/* The string at [vs, ve) when it is one: copied into a small buffer (names, labels). */
static const char *small_str(char *buf, size_t cap, const char *p, size_t vs, size_t ve)
{
    char *v;
    size_t n;
    if (ve <= vs || p[vs] != '"')
        return NULL;
    if (!memchr(p + vs, '\\', ve - vs)) { /* no escapes: the usual case */
        if (ve - vs - 2 >= cap)
            return NULL;
        memcpy(buf, p + vs + 1, ve - vs - 2);
        buf[ve - vs - 2] = '\0';
        return buf;
    }
    if (!(v = vet_jspan_string(p, vs, ve, &n)))
        return NULL;
    if (n >= cap) {
        free(v);
        return NULL;
    }
    memcpy(buf, v, n + 1);
    free(v);
    return buf;
}

/* Only the record Helm acts on gets here: its release value, read in place when it holds no
 * escapes (base64 never does). */
static int decode_item(vet_helm_release **out, void *ud)
{
    list_ctx *c = ud;
    const char *p = c->item;
    size_t vs = c->rel_s, ve = c->rel_e, n;
    char *v;
    int rc;
    if (ve < vs + 2 || p[vs] != '"')
        return vet_error_set(VET_EINPUT, "release record without data.release");
    if (!memchr(p + vs, '\\', ve - vs))
        return helm_decode_value(out, p + vs + 1, ve - vs - 2, c->driver == VET_HELM_SECRET,
                                 c->helm);
    if (!(v = vet_jspan_string(p, vs, ve, &n)))
        return vet_error_set(VET_EINPUT, "data.release is not a JSON string");
    rc = helm_decode_value(out, v, n, c->driver == VET_HELM_SECRET, c->helm);
    free(v);
    return rc;
}

/* One record of a LIST page, read in place: only metadata, labels and type are looked at until
 * the record turns out to be the one Helm acts on. */
static int on_item(void *ud, const char *p, size_t len)
{
    list_ctx *c = ud;
    char rec_b[256], ns_b[256], ln_b[256], ls_b[64], lv_b[32], type_b[64], status[32];
    const char *rec = NULL, *ns = NULL, *ln = NULL, *ls = NULL, *lv = NULL, *type = NULL;
    const char *k_name = c->helm == 2 ? "NAME" : "name",
               *k_status = c->helm == 2 ? "STATUS" : "status";
    const char *k_version = c->helm == 2 ? "VERSION" : "version";
    size_t it = 0, ks, ke, vs, ve;
    char *pname = NULL;
    helm_record r;
    int prev = 0, rc, m;
    c->item = p;
    c->rel_s = c->rel_e = 0;
    while ((m = vet_jspan_member(p, 0, len, &it, &ks, &ke, &vs, &ve)) > 0) {
        if (vet_jspan_key_is(p, ks, ke, "type")) {
            type = small_str(type_b, sizeof type_b, p, vs, ve);
        } else if (vet_jspan_key_is(p, ks, ke, "data") && p[vs] == '{') {
            size_t it2 = 0, k2s, k2e, v2s, v2e;
            while (vet_jspan_member(p, vs, ve, &it2, &k2s, &k2e, &v2s, &v2e) > 0)
                if (vet_jspan_key_is(p, k2s, k2e, "release")) {
                    c->rel_s = v2s;
                    c->rel_e = v2e;
                }
        } else if (vet_jspan_key_is(p, ks, ke, "metadata") && p[vs] == '{') {
            size_t it2 = 0, k2s, k2e, v2s, v2e;
            while (vet_jspan_member(p, vs, ve, &it2, &k2s, &k2e, &v2s, &v2e) > 0) {
                if (vet_jspan_key_is(p, k2s, k2e, "name"))
                    rec = small_str(rec_b, sizeof rec_b, p, v2s, v2e);
                else if (vet_jspan_key_is(p, k2s, k2e, "namespace"))
                    ns = small_str(ns_b, sizeof ns_b, p, v2s, v2e);
                else if (vet_jspan_key_is(p, k2s, k2e, "labels") && p[v2s] == '{') {
                    size_t it3 = 0, k3s, k3e, v3s, v3e;
                    while (vet_jspan_member(p, v2s, v2e, &it3, &k3s, &k3e, &v3s, &v3e) > 0) {
                        if (vet_jspan_key_is(p, k3s, k3e, k_name))
                            ln = small_str(ln_b, sizeof ln_b, p, v3s, v3e);
                        else if (vet_jspan_key_is(p, k3s, k3e, k_status))
                            ls = small_str(ls_b, sizeof ls_b, p, v3s, v3e);
                        else if (vet_jspan_key_is(p, k3s, k3e, k_version))
                            lv = small_str(lv_b, sizeof lv_b, p, v3s, v3e);
                    }
                }
            }
        }
    }
    if (m < 0)
        return vet_error_set(VET_EINPUT, "list item, byte %zu: malformed", it);
    if (!rec || !ns)
        return 0;
    if (c->driver == VET_HELM_SECRET && c->helm == 3 && type && strcmp(type, "helm.sh/release.v1"))
        return 0;
    if (helm_parse_record_name(rec, c->helm, &pname, &prev) == VET_ENOMEM)
        return VET_ENOMEM;
    memset(&r, 0, sizeof r);
    r.helm = c->helm;
    r.driver = c->driver;
    r.storage_ns = ns;
    r.record = rec;
    r.name = ln ? ln : pname;
    r.revision = lv ? atoi(lv) : prev;
    /* Helm 2 labels are upper case with underscores: PENDING_UPGRADE */
    snprintf(status, sizeof status, "%s", ls ? ls : "unknown");
    for (char *q = status; *q; q++)
        *q = *q == '_' ? '-' : (char)tolower((unsigned char)*q);
    if (c->helm == 2 && !strcmp(status, "deleted"))
        snprintf(status, sizeof status, "uninstalled");
    r.status = status;
    if (!r.name || r.revision <= 0) {
        free(pname);
        return 0; /* not a record Helm itself would read */
    }
    rc = helm_acc_add(c->acc, &r, decode_item, c);
    free(pname);
    return rc;
}

/* The list starts over (its continue token expired, 410): the records of its first pages come
 * again, so what they added is dropped; the releases of the lists before are in another
 * accumulator and stay. */
static int on_reset(void *ud)
{
    list_ctx *c = ud;
    vet_helm_opts o = c->acc->o;
    helm_acc_free(c->acc);
    return helm_acc_init(c->acc, &o);
}

static int list_one(helm_acc *a, vet_k8s *k, int helm, vet_helm_driver driver, const char *ns)
{
    list_ctx c;
    helm_acc part; /* this list's releases, merged into a at the end */
    char *path;
    const char *res = driver == VET_HELM_SECRET ? "secrets" : "configmaps";
    int rc;
    memset(&c, 0, sizeof c);
    c.acc = &part;
    c.helm = helm;
    c.driver = driver;
    path = ns ? vet_strdupf("/api/v1/namespaces/%s/%s", ns, res) : vet_strdupf("/api/v1/%s", res);
    if (!path)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if ((rc = helm_acc_init(&part, &a->o))) {
        free(path);
        return rc;
    }
    rc = vet_k8s_list_raw(k, path, helm == 2 ? "OWNER=TILLER" : "owner=helm", NULL, on_item,
                          on_reset, &c);
    free(path);
    if (rc && rc != VET_ENOMEM) {
        /* what the pages before the failure gave is kept, with the error */
        char *e = vet_strdupf("helm %d %s in %s: %s", helm, res, ns ? ns : "all namespaces",
                              vet_error_last());
        rc = !e || vet_strv_take(&a->f->errors, e) ? vet_error_set(VET_ENOMEM, "out of memory") : 0;
    }
    if (rc) {
        helm_acc_free(&part);
        return rc;
    }
    return helm_acc_merge(a, &part);
}

int vet_helm_gather_api(vet_helm_facts **out, vet_k8s *c, const vet_helm_opts *o)
{
    helm_acc a;
    int rc;
    *out = NULL;
    if ((rc = helm_acc_init(&a, o)))
        return rc;
    if (a.o.v3 && ((rc = list_one(&a, c, 3, VET_HELM_SECRET, a.o.ns)) ||
                   (rc = list_one(&a, c, 3, VET_HELM_CONFIGMAP, a.o.ns))))
        goto fail;
    if (a.o.v2 && ((rc = list_one(&a, c, 2, VET_HELM_CONFIGMAP, a.o.tiller_ns)) ||
                   (rc = list_one(&a, c, 2, VET_HELM_SECRET, a.o.tiller_ns))))
        goto fail;
    return helm_acc_finish(out, &a);
fail:
    helm_acc_free(&a);
    return rc;
}
