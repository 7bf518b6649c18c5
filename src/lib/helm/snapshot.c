/* Helm records in an etcd snapshot: Secrets and ConfigMaps as kube-apiserver stores them
 * ("k8s\0" + runtime.Unknown{typeMeta=1, raw=2} around the object's protobuf). Only the labels
 * and data["release"] are read. Values encrypted at rest ("k8s:enc:") cannot be read: the
 * release is listed with the provider so the report says so. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "helm_gather.h"
#include "helm_int.h"
#include "kubevet/helm.h"
#include "kubevet/snapshot.h"

#define LABEL_MAX 128

typedef struct {
    char owner[16], name[256], status[32], version[16];
    int tiller; /* OWNER=TILLER rather than owner=helm */
    char type[64];
    const unsigned char *release; /* data["release"] */
    size_t release_len;
} stored_rec;

static void copy_span(char *dst, size_t size, const unsigned char *v, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* A map entry {key=1, value=2}. */
static int map_entry(pb b, const unsigned char **k, size_t *kn, const unsigned char **v, size_t *vn)
{
    *k = *v = NULL;
    *kn = *vn = 0;
    while (b.p < b.end) {
        uint32_t f;
        const unsigned char *x;
        size_t n;
        uint64_t num;
        int rc = helm_pb_next(&b, &f, &x, &n, &num);
        if (rc)
            return rc;
        if (f == 1 && x) {
            *k = x;
            *kn = n;
        } else if (f == 2 && x) {
            *v = x;
            *vn = n;
        }
    }
    return *k ? 0 : VET_ENOTFOUND;
}

static int meta_labels(stored_rec *s, pb b)
{
    while (b.p < b.end) {
        uint32_t f;
        const unsigned char *x, *k, *v;
        size_t n, kn, vn;
        uint64_t num;
        int rc = helm_pb_next(&b, &f, &x, &n, &num);
        if (rc)
            return rc;
        if (f != 11 || !x)
            continue;
        if (map_entry(helm_pb_sub(&b, x, n), &k, &kn, &v, &vn) || !v)
            continue;
#define LBL(lit) (kn == sizeof lit - 1 && !memcmp(k, lit, kn))
        if (LBL("owner"))
            copy_span(s->owner, sizeof s->owner, v, vn);
        else if (LBL("OWNER")) {
            copy_span(s->owner, sizeof s->owner, v, vn);
            s->tiller = 1;
        } else if (LBL("name") || LBL("NAME"))
            copy_span(s->name, sizeof s->name, v, vn);
        else if (LBL("status") || LBL("STATUS"))
            copy_span(s->status, sizeof s->status, v, vn);
        else if (LBL("version") || LBL("VERSION"))
            copy_span(s->version, sizeof s->version, v, vn);
#undef LBL
    }
    return 0;
}

/* Secret {metadata=1, data=2 map<string,bytes>, type=3}; ConfigMap {metadata=1, data=2
 * map<string,string>}. */
static int parse_object(stored_rec *s, const unsigned char *val, size_t len)
{
    pb b, raw;
    const unsigned char *rp = NULL;
    size_t rn = 0;
    int rc;
    memset(s, 0, sizeof *s);
    if (len < 4 || memcmp(val, "k8s\0", 4))
        return VET_ENOTFOUND;
    b.start = b.p = val + 4;
    b.end = val + len;
    while (b.p < b.end) {
        uint32_t f;
        const unsigned char *x;
        size_t n;
        uint64_t num;
        if ((rc = helm_pb_next(&b, &f, &x, &n, &num)))
            return rc;
        if (f == 2 && x) {
            rp = x;
            rn = n;
        }
    }
    if (!rp)
        return VET_ENOTFOUND;
    raw = helm_pb_sub(&b, rp, rn);
    while (raw.p < raw.end) {
        uint32_t f;
        const unsigned char *x, *k, *v;
        size_t n, kn, vn;
        uint64_t num;
        if ((rc = helm_pb_next(&raw, &f, &x, &n, &num)))
            return rc;
        if (!x)
            continue;
        if (f == 1 && (rc = meta_labels(s, helm_pb_sub(&raw, x, n))))
            return rc;
        if (f == 2 && !map_entry(helm_pb_sub(&raw, x, n), &k, &kn, &v, &vn) && kn == 7 &&
            !memcmp(k, "release", 7) && v) {
            s->release = v;
            s->release_len = vn;
        }
        if (f == 3)
            copy_span(s->type, sizeof s->type, x, n);
    }
    return 0;
}

typedef struct {
    helm_acc *acc;
    stored_rec rec;
    int helm;
    int err;
} snap_ctx;

static int decode_stored(vet_helm_release **out, void *ud)
{
    snap_ctx *c = ud;
    unsigned char *body = NULL;
    size_t blen = 0;
    int rc = vet_helm_unpack(&body, &blen, (const char *)c->rec.release, c->rec.release_len, 0);
    if (rc)
        return rc;
    rc = c->helm == 2 ? vet_helm_decode_v2(out, body, blen) : vet_helm_decode_v3(out, body, blen);
    free(body);
    return rc;
}

static int on_object(const vet_snapshot_object *o, void *ud)
{
    snap_ctx *c = ud;
    int secret = !strcmp(o->resource, "secrets");
    helm_record r;
    char *pname = NULL, status[32];
    int prev = 0, rc;
    if (!secret && strcmp(o->resource, "configmaps"))
        return 0;
    memset(&r, 0, sizeof r);
    r.driver = secret ? VET_HELM_SECRET : VET_HELM_CONFIGMAP;
    r.storage_ns = o->ns;
    r.record = o->name;
    if (o->encoding == VET_SNAPSHOT_ENC_ENCRYPTED) {
        /* only the key is readable: Helm's record names say which release and revision */
        if (!helm_parse_record_name(o->name, 3, &pname, &prev))
            r.helm = 3;
        else if (!strcmp(o->ns, c->acc->o.tiller_ns) &&
                 !helm_parse_record_name(o->name, 2, &pname, &prev))
            r.helm = 2;
        else
            return 0;
        r.name = pname;
        r.revision = prev;
        r.status = "unknown";
        r.encrypted = *o->encryption ? o->encryption : "k8s:enc";
    } else {
        if (o->encoding != VET_SNAPSHOT_ENC_PROTOBUF || !o->value)
            return 0;
        if (parse_object(&c->rec, o->value, o->value_size))
            return 0; /* not decodable as an object: not a record Helm could read either */
        if (c->rec.tiller && !strcmp(c->rec.owner, "TILLER"))
            r.helm = 2;
        else if (!c->rec.tiller && !strcmp(c->rec.owner, "helm"))
            r.helm = 3;
        else
            return 0;
        if (r.helm == 3 && secret && strcmp(c->rec.type, "helm.sh/release.v1"))
            return 0;
        if ((r.helm == 2 && strcmp(o->ns, c->acc->o.tiller_ns)) ||
            (r.helm == 3 && c->acc->o.ns && strcmp(o->ns, c->acc->o.ns)))
            return 0;
        if (helm_parse_record_name(o->name, r.helm, &pname, &prev) == VET_ENOMEM)
            return VET_ENOMEM;
        r.name = *c->rec.name ? c->rec.name : pname;
        r.revision = *c->rec.version ? atoi(c->rec.version) : prev;
        snprintf(status, sizeof status, "%s", *c->rec.status ? c->rec.status : "unknown");
        for (char *p = status; *p; p++)
            *p = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (r.helm == 2 && !strcmp(status, "deleted"))
            snprintf(status, sizeof status, "uninstalled");
        r.status = status;
    }
    if ((r.helm == 2 && !c->acc->o.v2) || (r.helm == 3 && !c->acc->o.v3) || !r.name ||
        r.revision <= 0) {
        free(pname);
        return 0;
    }
    c->helm = r.helm;
    rc = helm_acc_add(c->acc, &r, decode_stored, c);
    free(pname);
    return rc;
}

int vet_helm_gather_snapshot(vet_helm_facts **out, const char *path, const vet_helm_opts *o)
{
    helm_acc a;
    snap_ctx c;
    vet_snapshot *s = NULL;
    int rc;
    *out = NULL;
    if ((rc = vet_snapshot_open(&s, path)))
        return rc;
    if ((rc = helm_acc_init(&a, o))) {
        vet_snapshot_close(s);
        return rc;
    }
    memset(&c, 0, sizeof c);
    c.acc = &a;
    rc = vet_snapshot_objects(s, on_object, &c, NULL);
    vet_snapshot_close(s);
    if (rc) {
        helm_acc_free(&a);
        return rc;
    }
    return helm_acc_finish(out, &a);
}
