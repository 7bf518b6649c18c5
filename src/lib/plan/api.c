/* The executor's API hooks for the Kubernetes client: conditional update, read-back, undo. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "kubevet/k8s.h"
#include "kubevet/plan.h"

/* The REST path of the object an action names (its collection when `collection`); NULL (with
 * the error set) for a kind kubevet does not write. Only what plans change today: namespaced
 * core/v1 objects. */
static char *path_of(const vet_action *a, int collection)
{
    static const struct {
        const char *kind, *resource;
    } kinds[] = {{"ConfigMap", "configmaps"}, {"Secret", "secrets"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (a->api_kind && !strcmp(a->api_kind, kinds[i].kind)) {
            if (!a->api_namespace || !a->api_name || strchr(a->api_namespace, '/') ||
                strchr(a->api_name, '/')) {
                vet_error_set(VET_EINPUT, "%s: the plan names no namespace/name", a->api_kind);
                return NULL;
            }
            return collection ? vet_strdupf("/api/v1/namespaces/%s/%s", a->api_namespace,
                                            kinds[i].resource)
                              : vet_strdupf("/api/v1/namespaces/%s/%s/%s", a->api_namespace,
                                            kinds[i].resource, a->api_name);
        }
    vet_error_set(VET_EINPUT, "%s: kubevet does not update this kind through the API",
                  a->api_kind ? a->api_kind : "(no kind)");
    return NULL;
}

static char *object_path(const vet_action *a)
{
    return path_of(a, 0);
}

static const char *rv_of(const json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

static int set_rv(json_t *obj, const char *rv)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md) || json_object_set_new(md, "resourceVersion", json_string(rv)))
        return vet_error_set(VET_EINPUT, "object has no metadata");
    return 0;
}

/* Every field the body sets (other than metadata, status and the type) reads back equal. */
static const char *differs(const json_t *want, const json_t *got)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v)
    {
        if (!strcmp(k, "metadata") || !strcmp(k, "status") || !strcmp(k, "apiVersion") ||
            !strcmp(k, "kind"))
            continue;
        if (!json_equal(v, json_object_get(got, k)))
            return k;
    }
    return NULL;
}

/* A write whose answer was lost may have landed: it did when the object now reads back as
 * written (at another resourceVersion than `old_rv`, NULL for a create). */
static int landed(vet_k8s *c, const char *path, const json_t *body, const char *old_rv)
{
    json_t *now = NULL;
    const char *rv;
    int yes;
    if (vet_k8s_get(&now, c, path))
        return 0;
    rv = rv_of(now);
    yes = !differs(body, now) && (!old_rv || (rv && strcmp(rv, old_rv)));
    json_decref(now);
    return yes;
}

/* The write's error, kept while the object is looked up. */
static int lost_write(vet_k8s *c, const char *path, const json_t *body, const char *old_rv, int rc)
{
    char keep[1024];
    if (rc == VET_K8S_ECONFLICT || rc == VET_ENOTFOUND)
        return rc; /* the server answered: nothing landed */
    snprintf(keep, sizeof keep, "%s", vet_error_last());
    if (landed(c, path, body, old_rv))
        return 0;
    return vet_error_set(rc, "%s", keep);
}

/* The object reads back with every field the body sets. */
static int read_back(vet_k8s *c, const vet_action *a, const char *path, const json_t *body)
{
    json_t *back = NULL;
    const char *bad;
    int rc = vet_k8s_get(&back, c, path);
    if (!rc && (bad = differs(body, back)))
        rc = vet_error_set(VET_EIO, "%s %s/%s: %s read back differs from what was written",
                           a->api_kind, a->api_namespace, a->api_name, bad);
    json_decref(back);
    return rc;
}

/* The planned object: JSON, an object. */
static int planned(json_t **body, const vet_action *a)
{
    json_error_t jerr;
    if (!(*body = json_loads(a->api_body, 0, &jerr)) || !json_is_object(*body))
        return vet_error_set(VET_EINPUT, "%s %s/%s: the planned object is not JSON (offset %d): %s",
                             a->api_kind, a->api_namespace, a->api_name, jerr.position, jerr.text);
    return 0;
}

static int api_create(const vet_action *a, char **undo, vet_k8s *c)
{
    char *coll = path_of(a, 1), *path = object_path(a);
    json_t *body = NULL;
    int rc = 0;
    if (!coll || !path) {
        rc = VET_EINPUT;
        goto done;
    }
    if ((rc = planned(&body, a)))
        goto done;
    /* 409 AlreadyExists: someone else's object, never ours to delete */
    if ((rc = vet_k8s_create(NULL, c, coll, body)) && (rc = lost_write(c, path, body, NULL, rc)))
        goto done;
    if (!(*undo = strdup("delete"))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    rc = read_back(c, a, path, body);
done:
    json_decref(body);
    free(coll);
    free(path);
    return rc;
}

int vet_plan_api_k8s(const vet_action *a, char **undo, void *k8s)
{
    vet_k8s *c = k8s;
    char *path = NULL;
    json_t *body = NULL, *cur = NULL, *put = NULL;
    const char *rv;
    int rc = 0;
    *undo = NULL;
    if (a->kind == VET_ACT_API_CREATE)
        return api_create(a, undo, c);
    if (!(path = object_path(a)))
        return VET_EINPUT;
    if (!a->api_resource_version || !a->api_body) {
        rc = vet_error_set(VET_EINPUT, "%s %s/%s: the plan holds no object at a resourceVersion",
                           a->api_kind, a->api_namespace, a->api_name);
        goto done;
    }
    if ((rc = planned(&body, a)))
        goto done;
    if ((rc = vet_k8s_get(&cur, c, path)))
        goto done;
    rv = rv_of(cur);
    if (!rv || strcmp(rv, a->api_resource_version)) {
        rc = vet_error_set(VET_K8S_ECONFLICT,
                           "%s %s/%s changed since the plan was made (resourceVersion %s, planned "
                           "at %s): make the plan again",
                           a->api_kind, a->api_namespace, a->api_name, rv ? rv : "none",
                           a->api_resource_version);
        goto done;
    }
    /* The PUT is conditional on the plan's resourceVersion: a write that slipped in between the
     * GET above and here is a 409, never overwritten. */
    if ((rc = set_rv(body, a->api_resource_version)))
        goto done;
    if ((rc = vet_k8s_update(&put, c, path, body))) {
        if ((rc = lost_write(c, path, body, a->api_resource_version, rc)) ||
            (rc = vet_k8s_get(&put, c, path)))
            goto done;
    }
    /* From here the object is changed: whatever follows fails, the executor can put it back. */
    if (!(rv = rv_of(put))) {
        rc = vet_error_set(VET_EIO, "%s %s/%s: the update's answer has no resourceVersion",
                           a->api_kind, a->api_namespace, a->api_name);
        goto done;
    }
    if ((rc = set_rv(cur, rv)))
        goto done;
    json_object_del(json_object_get(cur, "metadata"), "managedFields");
    if (!(*undo = json_dumps(cur, JSON_COMPACT))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    rc = read_back(c, a, path, body);
done:
    json_decref(body);
    json_decref(cur);
    json_decref(put);
    free(path);
    return rc;
}

int vet_plan_api_k8s_undo(const vet_action *a, const char *undo, void *k8s)
{
    char *path = object_path(a);
    json_t *orig = NULL;
    json_error_t jerr;
    int rc = 0;
    if (!path)
        return VET_EINPUT;
    if (a->kind == VET_ACT_API_CREATE) {
        if ((rc = vet_k8s_delete(k8s, path)) == VET_ENOTFOUND) {
            vet_error_clear();
            rc = 0;
        } else if (rc) {
            char keep[512];
            snprintf(keep, sizeof keep, "%s", vet_error_last());
            rc = vet_error_set(rc, "%s %s/%s could not be deleted again (%s)", a->api_kind,
                               a->api_namespace, a->api_name, keep);
        }
        free(path);
        return rc;
    }
    if (!(orig = json_loads(undo, 0, &jerr))) {
        rc = vet_error_set(VET_EINPUT, "%s %s/%s: bad undo record", a->api_kind, a->api_namespace,
                           a->api_name);
    } else if ((rc = vet_k8s_update(NULL, k8s, path, orig))) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", vet_error_last());
        rc = vet_error_set(rc, "%s %s/%s could not be put back (%s)", a->api_kind, a->api_namespace,
                           a->api_name, keep);
    }
    json_decref(orig);
    free(path);
    return rc;
}
