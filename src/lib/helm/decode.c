/* Helm release record decoding: base64 + gzip unpacking, Helm 3 JSON, Helm 2 protobuf
 * (hapi.release.Release, decoded by hand for the few fields kubevet needs). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "kubevet/helm.h"
#include "kubevet/kubeconfig.h"
#include "helm_int.h"

void vet_helm_release_free(vet_helm_release *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->namespace);
    free(r->status);
    free(r->description);
    free(r->manifest);
    for (size_t i = 0; i < r->nhooks; i++) {
        free(r->hooks[i].name);
        free(r->hooks[i].path);
        free(r->hooks[i].manifest);
    }
    free(r->hooks);
    free(r);
}

static int gunzip(unsigned char **out, size_t *len, const unsigned char *in, size_t in_len,
                  size_t cap)
{
    z_stream z;
    unsigned char *buf = NULL;
    size_t size = 0, asize = in_len * 4 + 1024;
    int zr, rc = 0;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return vet_error_set(VET_ENOMEM, "gzip: cannot initialise zlib");
    if (asize > cap + 1)
        asize = cap + 1;
    if (!(buf = malloc(asize))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)in_len;
    for (;;) {
        if (size == asize - 1) {
            size_t n;
            unsigned char *nb;
            if (size >= cap) {
                rc = vet_error_set(VET_ELIMIT, "gzip: release decompresses to more than %zu bytes",
                                   cap);
                goto done;
            }
            n = asize * 2 > cap + 1 ? cap + 1 : asize * 2;
            if (!(nb = realloc(buf, n))) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
            buf = nb;
            asize = n;
        }
        z.next_out = buf + size;
        z.avail_out = (uInt)(asize - 1 - size);
        zr = inflate(&z, Z_NO_FLUSH);
        size = asize - 1 - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            rc = vet_error_set(VET_EINPUT, "gzip: truncated at byte %lu", z.total_in);
            goto done;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = vet_error_set(VET_EINPUT, "gzip: %s at byte %lu", z.msg ? z.msg : "corrupt data",
                               z.total_in);
            goto done;
        }
    }
    buf[size] = '\0';
    *out = buf;
    *len = size;
    buf = NULL;
done:
    inflateEnd(&z);
    free(buf);
    return rc;
}

int vet_helm_unpack(unsigned char **out, size_t *len, const char *text, size_t text_len, size_t cap)
{
    vet_blob b = {NULL, 0};
    int rc;
    *out = NULL;
    *len = 0;
    if (!cap)
        cap = VET_HELM_MAX_RELEASE;
    if (text_len / 4 * 3 > cap * 2 + 1024)
        return vet_error_set(VET_ELIMIT, "release record of %zu bytes is over the size cap",
                             text_len);
    if ((rc = vet_base64_decode(&b, text, text_len)))
        return rc;
    if (b.len >= 3 && b.data[0] == 0x1f && b.data[1] == 0x8b && b.data[2] == 0x08) {
        rc = gunzip(out, len, b.data, b.len, cap);
        free(b.data);
        return rc;
    }
    if (b.len > cap) {
        free(b.data);
        return vet_error_set(VET_ELIMIT, "release record of %zu bytes is over the size cap", b.len);
    }
    /* legacy: no gzip magic, the JSON/protobuf as is */
    {
        unsigned char *p = realloc(b.data, b.len + 1);
        if (!p) {
            free(b.data);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
        p[b.len] = '\0';
        *out = p;
        *len = b.len;
    }
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *jstr(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v))
        return dupn(json_string_value(v), json_string_length(v));
    return strdup("");
}

int vet_helm_decode_v3(vet_helm_release **out, const unsigned char *data, size_t len)
{
    json_error_t je;
    json_t *root = NULL, *info, *hooks;
    vet_helm_release *r = NULL;
    int rc = 0;
    *out = NULL;
    root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = vet_error_set(VET_EINPUT, "helm 3 release JSON, byte %d: %s", je.position, je.text);
        goto done;
    }
    if (!json_is_object(root)) {
        rc = vet_error_set(VET_EINPUT, "helm 3 release JSON, byte 0: not an object");
        goto done;
    }
    if (!(r = calloc(1, sizeof *r))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    r->helm = 3;
    info = json_object_get(root, "info");
    r->name = jstr(root, "name");
    r->namespace = jstr(root, "namespace");
    r->manifest = jstr(root, "manifest");
    r->status = json_is_object(info) ? jstr(info, "status") : strdup("");
    r->description = json_is_object(info) ? jstr(info, "description") : strdup("");
    if (json_is_integer(json_object_get(root, "version")))
        r->revision = (int)json_integer_value(json_object_get(root, "version"));
    if (!r->name || !r->namespace || !r->manifest || !r->status || !r->description) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    r->manifest_len = strlen(r->manifest);
    hooks = json_object_get(root, "hooks");
    if (json_is_array(hooks) && json_array_size(hooks)) {
        size_t n = json_array_size(hooks);
        if (!(r->hooks = calloc(n, sizeof *r->hooks))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *h = json_array_get(hooks, i);
            vet_helm_hook *d = &r->hooks[r->nhooks++];
            if (!json_is_object(h)) {
                rc = vet_error_set(VET_EINPUT, "helm 3 release JSON: hooks[%zu] is not an object",
                                   i);
                goto done;
            }
            d->name = jstr(h, "name");
            d->path = jstr(h, "path");
            d->manifest = jstr(h, "manifest");
            if (!d->name || !d->path || !d->manifest) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    *out = r;
    r = NULL;
done:
    json_decref(root);
    vet_helm_release_free(r);
    return rc;
}

/* ---- Helm 2: protobuf ---- */

static const char *const v2_codes[] = {"unknown",         "deployed",        "uninstalled",
                                       "superseded",      "failed",          "uninstalling",
                                       "pending-install", "pending-upgrade", "pending-rollback"};

static int v2_info(vet_helm_release *r, pb b)
{
    uint32_t f;
    const unsigned char *v;
    size_t n;
    uint64_t num;
    int rc;
    while (b.p < b.end) {
        if ((rc = helm_pb_next(&b, &f, &v, &n, &num)))
            return rc;
        if (f == 1 && v) {
            pb s = helm_pb_sub(&b, v, n);
            while (s.p < s.end) {
                uint32_t g;
                const unsigned char *w;
                size_t m;
                uint64_t code;
                if ((rc = helm_pb_next(&s, &g, &w, &m, &code)))
                    return rc;
                if (g == 1 && !w) {
                    free(r->status);
                    r->status = strdup(code < sizeof v2_codes / sizeof *v2_codes ? v2_codes[code]
                                                                                 : "unknown");
                    if (!r->status)
                        return vet_error_set(VET_ENOMEM, "out of memory");
                }
            }
        } else if (f == 5 && v) {
            free(r->description);
            if (!(r->description = dupn((const char *)v, n)))
                return vet_error_set(VET_ENOMEM, "out of memory");
        }
    }
    return 0;
}

static int v2_hook(vet_helm_hook *h, pb b)
{
    uint32_t f;
    const unsigned char *v;
    size_t n;
    uint64_t num;
    int rc;
    while (b.p < b.end) {
        char **dst = NULL;
        if ((rc = helm_pb_next(&b, &f, &v, &n, &num)))
            return rc;
        if (!v)
            continue;
        dst = f == 1 ? &h->name : f == 3 ? &h->path : f == 4 ? &h->manifest : NULL;
        if (!dst)
            continue;
        free(*dst);
        if (!(*dst = dupn((const char *)v, n)))
            return vet_error_set(VET_ENOMEM, "out of memory");
    }
    return 0;
}

int vet_helm_decode_v2(vet_helm_release **out, const unsigned char *data, size_t len)
{
    vet_helm_release *r = NULL;
    pb b;
    int rc = 0;
    size_t cap = 0;
    *out = NULL;
    b.p = b.start = data;
    b.end = data + len;
    if (!(r = calloc(1, sizeof *r)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    r->helm = 2;
    while (b.p < b.end) {
        uint32_t f;
        const unsigned char *v;
        size_t n;
        uint64_t num;
        char **dst = NULL;
        if ((rc = helm_pb_next(&b, &f, &v, &n, &num)))
            goto done;
        if (f == 7 && !v) {
            r->revision = num > 0x7fffffff ? 0x7fffffff : (int)num;
            continue;
        }
        if (!v)
            continue;
        if (f == 2) {
            if ((rc = v2_info(r, helm_pb_sub(&b, v, n))))
                goto done;
            continue;
        }
        if (f == 6) {
            if (r->nhooks == cap) {
                size_t nc = cap ? cap * 2 : 4;
                vet_helm_hook *nh = realloc(r->hooks, nc * sizeof *nh);
                if (!nh) {
                    rc = vet_error_set(VET_ENOMEM, "out of memory");
                    goto done;
                }
                r->hooks = nh;
                cap = nc;
            }
            memset(&r->hooks[r->nhooks], 0, sizeof *r->hooks);
            rc = v2_hook(&r->hooks[r->nhooks++], helm_pb_sub(&b, v, n));
            if (rc)
                goto done;
            continue;
        }
        dst = f == 1 ? &r->name : f == 5 ? &r->manifest : f == 8 ? &r->namespace : NULL;
        if (!dst)
            continue; /* chart, config: not needed to scan */
        free(*dst);
        if (!(*dst = dupn((const char *)v, n))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if (f == 5)
            r->manifest_len = n;
    }
    /* proto3 omits empty strings: fill them in */
    {
        char **fill[] = {&r->name, &r->manifest, &r->namespace, &r->status, &r->description};
        for (size_t i = 0; i < sizeof fill / sizeof *fill; i++)
            if (!*fill[i] && !(*fill[i] = strdup(i == 3 ? "unknown" : ""))) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        for (size_t i = 0; i < r->nhooks; i++) {
            vet_helm_hook *h = &r->hooks[i];
            if ((!h->name && !(h->name = strdup(""))) || (!h->path && !(h->path = strdup(""))) ||
                (!h->manifest && !(h->manifest = strdup("")))) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    *out = r;
    r = NULL;
done:
    if (rc && rc != VET_ENOMEM)
        vet_error_prefix("helm 2 release");
    vet_helm_release_free(r);
    return rc;
}

/* ---- whole API objects ---- */

static const char *label(const json_t *obj, const char *k)
{
    json_t *l = json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"), k);
    return json_is_string(l) ? json_string_value(l) : NULL;
}

int vet_helm_decode_object(vet_helm_release **out, const json_t *obj)
{
    const char *owner = label(obj, "owner"), *tiller = label(obj, "OWNER");
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    json_t *rel = json_object_get(json_object_get(obj, "data"), "release");
    int v2 = tiller && !strcmp(tiller, "TILLER");
    int secret = json_object_get(obj, "type") != NULL || (kind && !strcmp(kind, "Secret"));
    unsigned char *body = NULL;
    size_t blen = 0;
    vet_blob once = {NULL, 0};
    int rc;
    *out = NULL;
    if (!v2 && !(owner && !strcmp(owner, "helm")))
        return vet_error_set(VET_ENOTFOUND, "not a Helm release record");
    if (!json_is_string(rel))
        return vet_error_set(VET_EINPUT, "release record without data.release");
    if (secret) {
        if ((rc = vet_base64_decode(&once, json_string_value(rel), json_string_length(rel))))
            return rc;
        rc = vet_helm_unpack(&body, &blen, (const char *)once.data, once.len, 0);
        free(once.data);
    } else {
        rc = vet_helm_unpack(&body, &blen, json_string_value(rel), json_string_length(rel), 0);
    }
    if (rc)
        return rc;
    rc = v2 ? vet_helm_decode_v2(out, body, blen) : vet_helm_decode_v3(out, body, blen);
    free(body);
    return rc;
}
