/* Helm records through the Kubernetes API: the LISTs Helm itself makes (owner=helm for Helm 3,
 * OWNER=TILLER in Tiller's namespace for Helm 2), one page at a time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "helm_gather.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"

typedef struct {
    helm_acc *acc;
    int helm;
    vet_helm_driver driver;
    const json_t *item;
} list_ctx;

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int decode_item(vet_helm_release **out, void *ud)
{
    list_ctx *c = ud;
    return vet_helm_decode_object(out, c->item);
}

static int on_item(void *ud, json_t *item)
{
    list_ctx *c = ud;
    json_t *labels = json_object_get(json_object_get(item, "metadata"), "labels");
    const char *rec = str_at(item, "metadata", "name"), *ns = str_at(item, "metadata", "namespace");
    const char *ln = json_string_value(json_object_get(labels, c->helm == 2 ? "NAME" : "name"));
    const char *ls = json_string_value(json_object_get(labels, c->helm == 2 ? "STATUS" : "status"));
    const char *lv =
        json_string_value(json_object_get(labels, c->helm == 2 ? "VERSION" : "version"));
    const char *type = str_at(item, "type", NULL);
    char *pname = NULL, status[32];
    helm_record r;
    int prev = 0, rc;
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
    for (char *p = status; *p; p++)
        *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    if (c->helm == 2 && !strcmp(status, "deleted"))
        snprintf(status, sizeof status, "uninstalled");
    r.status = status;
    if (!r.name || r.revision <= 0) {
        free(pname);
        return 0; /* not a record Helm itself would read */
    }
    c->item = item;
    rc = helm_acc_add(c->acc, &r, decode_item, c);
    free(pname);
    return rc;
}

static int list_one(helm_acc *a, vet_k8s *k, int helm, vet_helm_driver driver, const char *ns)
{
    list_ctx c;
    char *path;
    const char *res = driver == VET_HELM_SECRET ? "secrets" : "configmaps";
    int rc;
    memset(&c, 0, sizeof c);
    c.acc = a;
    c.helm = helm;
    c.driver = driver;
    path = ns ? vet_strdupf("/api/v1/namespaces/%s/%s", ns, res) : vet_strdupf("/api/v1/%s", res);
    if (!path)
        return vet_error_set(VET_ENOMEM, "out of memory");
    rc = vet_k8s_list(k, path, helm == 2 ? "OWNER=TILLER" : "owner=helm", NULL, on_item, &c);
    free(path);
    if (rc == VET_ENOMEM)
        return rc;
    if (rc) {
        char *e = vet_strdupf("helm %d %s in %s: %s", helm, res, ns ? ns : "all namespaces",
                              vet_error_last());
        if (!e || vet_strv_take(&a->f->errors, e))
            return vet_error_set(VET_ENOMEM, "out of memory");
    }
    return 0;
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
