/* Re-encoding release records for `helm map`: Helm 3 JSON edited in place (key order kept),
 * Helm 2 protobuf rewritten field by field with every field kubevet does not change copied byte
 * for byte (chart, config, unknown fields), then gzip + base64 as Helm stores them. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "helm_int.h"
#include "kubevet/helm.h"
#include "kubevet/pki.h"

int helm_gzip(unsigned char **out, size_t *len, const void *data, size_t n)
{
    z_stream z;
    uLong bound;
    unsigned char *buf;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return vet_error_set(VET_ENOMEM, "gzip: cannot initialise zlib");
    bound = deflateBound(&z, (uLong)n) + 32;
    if (!(buf = malloc(bound))) {
        deflateEnd(&z);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(buf);
        return vet_error_set(VET_ENOMEM, "gzip: deflate failed");
    }
    *len = z.total_out;
    *out = buf;
    deflateEnd(&z);
    return 0;
}

/* base64(gzip(body)): the `release` value of a ConfigMap (and of a Secret before the API's own
 * base64). */
int helm_pack(char **out, const void *body, size_t n)
{
    unsigned char *gz = NULL;
    size_t gzlen = 0;
    int rc = helm_gzip(&gz, &gzlen, body, n);
    if (rc)
        return rc;
    rc = vet_pki_base64(out, gz, gzlen);
    free(gz);
    return rc;
}

static int put_varint(vet_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return vet_buf_put(b, tmp, n);
}

static int put_bytes(vet_buf *b, uint32_t field, const void *v, size_t n)
{
    int rc;
    if ((rc = put_varint(b, (uint64_t)field << 3 | 2)) || (rc = put_varint(b, n)))
        return rc;
    return n ? vet_buf_put(b, v, n) : 0;
}

static int put_int(vet_buf *b, uint32_t field, uint64_t v)
{
    int rc = put_varint(b, (uint64_t)field << 3);
    return rc ? rc : put_varint(b, v);
}

/* Copy message b to out, replacing or adding: field `f_str` with a string (NULL: keep) and field
 * `f_int` with a varint (-1: keep). Other fields are copied byte for byte. */
static int rewrite_simple(vet_buf *out, pb b, uint32_t f_str, const char *s, uint32_t f_int,
                          long long iv)
{
    int rc, seen_s = 0, seen_i = 0;
    while (b.p < b.end) {
        const unsigned char *start = b.p, *v;
        uint32_t f;
        size_t n;
        uint64_t num;
        if ((rc = helm_pb_next(&b, &f, &v, &n, &num)))
            return rc;
        if (s && f == f_str && v) {
            if (!seen_s && (rc = put_bytes(out, f, s, strlen(s))))
                return rc;
            seen_s = 1;
        } else if (iv >= 0 && f == f_int && !v) {
            if (!seen_i && iv && (rc = put_int(out, f, (uint64_t)iv)))
                return rc;
            seen_i = 1;
        } else if ((rc = vet_buf_put(out, start, (size_t)(b.p - start)))) {
            return rc;
        }
    }
    if (s && !seen_s && *s && (rc = put_bytes(out, f_str, s, strlen(s))))
        return rc;
    if (iv > 0 && !seen_i && (rc = put_int(out, f_int, (uint64_t)iv)))
        return rc;
    return 0;
}

/* info (Release field 2): status{code=1} and description=5. */
static int rewrite_info(vet_buf *out, pb b, int code, const char *desc)
{
    int rc, seen = 0;
    vet_buf sub = VET_BUF_INIT;
    vet_buf info = VET_BUF_INIT;
    while (b.p < b.end) {
        const unsigned char *start = b.p, *v;
        uint32_t f;
        size_t n;
        uint64_t num;
        if ((rc = helm_pb_next(&b, &f, &v, &n, &num)))
            goto done;
        if (f == 1 && v) {
            vet_buf_clear(&sub);
            if ((rc = rewrite_simple(&sub, helm_pb_sub(&b, v, n), 0, NULL, 1, code)) ||
                (rc = put_bytes(&info, 1, sub.ptr ? sub.ptr : "", sub.size)))
                goto done;
            seen = 1;
        } else if (!(f == 5 && v && desc) &&
                   (rc = vet_buf_put(&info, start, (size_t)(b.p - start)))) {
            goto done;
        }
    }
    if (!seen) {
        vet_buf_clear(&sub);
        if ((rc = put_int(&sub, 1, (uint64_t)code)) ||
            (rc = put_bytes(&info, 1, sub.ptr, sub.size)))
            goto done;
    }
    if (desc && *desc && (rc = put_bytes(&info, 5, desc, strlen(desc))))
        goto done;
    rc = put_bytes(out, 2, info.ptr ? info.ptr : "", info.size);
done:
    vet_buf_free(&sub);
    vet_buf_free(&info);
    return rc;
}

int helm_v2_rewrite(vet_buf *out, const unsigned char *data, size_t len, const char *manifest,
                    const char *const *hooks, size_t nhooks, int version, int code,
                    const char *desc)
{
    pb b;
    size_t hi = 0;
    int rc, seen_info = 0, seen_manifest = 0, seen_version = 0;
    b.p = b.start = data;
    b.end = data + len;
    while (b.p < b.end) {
        const unsigned char *start = b.p, *v;
        uint32_t f;
        size_t n;
        uint64_t num;
        if ((rc = helm_pb_next(&b, &f, &v, &n, &num)))
            return rc;
        if (f == 2 && v) {
            rc = rewrite_info(out, helm_pb_sub(&b, v, n), code, desc);
            seen_info = 1;
        } else if (f == 5 && v && manifest) {
            rc = seen_manifest ? 0 : put_bytes(out, 5, manifest, strlen(manifest));
            seen_manifest = 1;
        } else if (f == 6 && v && hooks && hi < nhooks) {
            vet_buf h = VET_BUF_INIT;
            rc = rewrite_simple(&h, helm_pb_sub(&b, v, n), 4, hooks[hi++], 0, -1);
            if (!rc)
                rc = put_bytes(out, 6, h.ptr ? h.ptr : "", h.size);
            vet_buf_free(&h);
        } else if (f == 7 && !v && version > 0) {
            rc = seen_version ? 0 : put_int(out, 7, (uint64_t)version);
            seen_version = 1;
        } else {
            rc = vet_buf_put(out, start, (size_t)(b.p - start));
        }
        if (rc)
            return rc;
    }
    if (!seen_info && (rc = rewrite_info(out, helm_pb_sub(&b, b.end, 0), code, desc)))
        return rc;
    if (manifest && !seen_manifest && *manifest &&
        (rc = put_bytes(out, 5, manifest, strlen(manifest))))
        return rc;
    if (version > 0 && !seen_version && (rc = put_int(out, 7, (uint64_t)version)))
        return rc;
    return 0;
}
