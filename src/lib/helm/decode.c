/* Helm release record decoding: base64 + gzip unpacking, Helm 3 JSON, Helm 2 protobuf
 * (hapi.release.Release, decoded by hand for the few fields kubevet needs). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "jspan.h"
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

/* The string at [vs, ve), or "" when the value is not a string (Helm's Go structs read a wrong
 * type as an error; for a scan, an empty field is the safe reading). NULL: out of memory. */
static char *sstr(const char *p, size_t vs, size_t ve, size_t *n)
{
    char *v;
    if (ve > vs && p[vs] == '"' && (v = vet_jspan_string(p, vs, ve, n)))
        return v;
    if (n)
        *n = 0;
    return strdup("");
}

typedef struct {
    const char *p;
    size_t bad; /* offset of the first malformed byte */
} jdoc;

/* name, path and manifest of one hook object. */
static int v3_hook(vet_helm_hook *h, jdoc *d, size_t os, size_t oe)
{
    size_t it = 0, ks, ke, vs, ve;
    int m;
    while ((m = vet_jspan_member(d->p, os, oe, &it, &ks, &ke, &vs, &ve)) > 0) {
        char **dst = vet_jspan_key_is(d->p, ks, ke, "name")       ? &h->name
                     : vet_jspan_key_is(d->p, ks, ke, "path")     ? &h->path
                     : vet_jspan_key_is(d->p, ks, ke, "manifest") ? &h->manifest
                                                                  : NULL;
        if (!dst)
            continue;
        free(*dst);
        if (!(*dst = sstr(d->p, vs, ve, NULL)))
            return vet_error_set(VET_ENOMEM, "out of memory");
    }
    if (m < 0)
        return vet_error_set(VET_EINPUT, "helm 3 release JSON, byte %zu: malformed", it);
    if ((!h->name && !(h->name = strdup(""))) || (!h->path && !(h->path = strdup(""))) ||
        (!h->manifest && !(h->manifest = strdup(""))))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

static int v3_hooks(vet_helm_release *r, jdoc *d, size_t as, size_t ae)
{
    size_t n = 0, i = vet_jspan_ws(d->p, as + 1, ae), k = 0;
    int rc;
    if (d->p[as] != '[')
        return 0; /* not a list: no hooks */
    /* count first: one allocation */
    for (size_t j = i; j < ae - 1;) {
        size_t e = vet_jspan_skip(d->p, j, ae, &d->bad);
        if (!e)
            return vet_error_set(VET_EINPUT, "helm 3 release JSON, byte %zu: malformed", d->bad);
        n++;
        j = vet_jspan_ws(d->p, e, ae);
        if (j < ae - 1 && d->p[j] == ',')
            j = vet_jspan_ws(d->p, j + 1, ae);
    }
    if (!n)
        return 0;
    if (!(r->hooks = calloc(n, sizeof *r->hooks)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t j = i; k < n; k++) {
        size_t e = vet_jspan_skip(d->p, j, ae, &d->bad);
        vet_helm_hook *h = &r->hooks[r->nhooks++];
        if (d->p[j] != '{')
            return vet_error_set(VET_EINPUT, "helm 3 release JSON: hooks[%zu] is not an object", k);
        if ((rc = v3_hook(h, d, j, e)))
            return rc;
        j = vet_jspan_ws(d->p, e, ae);
        if (j < ae - 1 && d->p[j] == ',')
            j = vet_jspan_ws(d->p, j + 1, ae);
    }
    return 0;
}

/* Read in place (jspan): a release is mostly its manifest and, in real clusters, its chart's
 * files; only the fields scanned are copied. */
int vet_helm_decode_v3(vet_helm_release **out, const unsigned char *data, size_t len)
{
    jdoc d = {(const char *)data, 0};
    vet_helm_release *r = NULL;
    size_t os = vet_jspan_ws(d.p, 0, len), oe = len, it = 0, ks, ke, vs, ve;
    int rc = 0, m = 0;
    *out = NULL;
    if (os >= len || d.p[os] != '{') {
        rc = vet_error_set(VET_EINPUT, "helm 3 release JSON, byte %zu: not an object", os);
        goto done;
    }
    if (!(r = calloc(1, sizeof *r))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    r->helm = 3;
    while (!rc && (m = vet_jspan_member(d.p, os, oe, &it, &ks, &ke, &vs, &ve)) > 0) {
        char **dst = NULL;
        size_t *dlen = NULL;
        if (vet_jspan_key_is(d.p, ks, ke, "name")) {
            dst = &r->name;
        } else if (vet_jspan_key_is(d.p, ks, ke, "namespace")) {
            dst = &r->namespace;
        } else if (vet_jspan_key_is(d.p, ks, ke, "manifest")) {
            dst = &r->manifest;
            dlen = &r->manifest_len;
        } else if (vet_jspan_key_is(d.p, ks, ke, "version")) {
            long v = 0;
            for (size_t i = vs; i < ve && d.p[i] >= '0' && d.p[i] <= '9' && v < 100000000; i++)
                v = v * 10 + (d.p[i] - '0');
            r->revision = (int)v;
        } else if (vet_jspan_key_is(d.p, ks, ke, "info") && d.p[vs] == '{') {
            size_t it2 = 0, k2s, k2e, v2s, v2e;
            int m2;
            while ((m2 = vet_jspan_member(d.p, vs, ve, &it2, &k2s, &k2e, &v2s, &v2e)) > 0) {
                char **f = vet_jspan_key_is(d.p, k2s, k2e, "status")        ? &r->status
                           : vet_jspan_key_is(d.p, k2s, k2e, "description") ? &r->description
                                                                            : NULL;
                if (f) {
                    free(*f);
                    if (!(*f = sstr(d.p, v2s, v2e, NULL)))
                        rc = vet_error_set(VET_ENOMEM, "out of memory");
                }
            }
        } else if (vet_jspan_key_is(d.p, ks, ke, "hooks") && !r->hooks) {
            rc = v3_hooks(r, &d, vs, ve);
        }
        if (dst) {
            free(*dst);
            if (!(*dst = sstr(d.p, vs, ve, dlen)))
                rc = vet_error_set(VET_ENOMEM, "out of memory");
        }
    }
    if (rc)
        goto done;
    /* the walk over every member checked the object; nothing may follow it */
    if (m < 0 || vet_jspan_ws(d.p, it, len) != len) {
        rc = vet_error_set(VET_EINPUT, "helm 3 release JSON, byte %zu: malformed",
                           m < 0 ? it : vet_jspan_ws(d.p, it, len));
        goto done;
    }
    if ((!r->name && !(r->name = strdup(""))) || (!r->namespace && !(r->namespace = strdup(""))) ||
        (!r->manifest && !(r->manifest = strdup(""))) ||
        (!r->status && !(r->status = strdup(""))) ||
        (!r->description && !(r->description = strdup("")))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* a manifest holding \u0000 is cut there, as every C string reader would */
    r->manifest_len = strlen(r->manifest);
    *out = r;
    r = NULL;
done:
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

int helm_decode_value(vet_helm_release **out, const char *val, size_t n, int secret, int helm)
{
    unsigned char *body = NULL;
    size_t blen = 0;
    vet_blob once = {NULL, 0};
    int rc;
    *out = NULL;
    if (secret) {
        if ((rc = vet_base64_decode(&once, val, n)))
            return rc;
        rc = vet_helm_unpack(&body, &blen, (const char *)once.data, once.len, 0);
        free(once.data);
    } else {
        rc = vet_helm_unpack(&body, &blen, val, n, 0);
    }
    if (rc)
        return rc;
    rc = helm == 2 ? vet_helm_decode_v2(out, body, blen) : vet_helm_decode_v3(out, body, blen);
    free(body);
    return rc;
}

int vet_helm_decode_object(vet_helm_release **out, const json_t *obj)
{
    const char *owner = label(obj, "owner"), *tiller = label(obj, "OWNER");
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    json_t *rel = json_object_get(json_object_get(obj, "data"), "release");
    int v2 = tiller && !strcmp(tiller, "TILLER");
    int secret = json_object_get(obj, "type") != NULL || (kind && !strcmp(kind, "Secret"));
    *out = NULL;
    if (!v2 && !(owner && !strcmp(owner, "helm")))
        return vet_error_set(VET_ENOTFOUND, "not a Helm release record");
    if (!json_is_string(rel))
        return vet_error_set(VET_EINPUT, "release record without data.release");
    return helm_decode_value(out, json_string_value(rel), json_string_length(rel), secret,
                             v2 ? 2 : 3);
}
