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

/* One field a rewrite sets. Strings and varints replace the field's first occurrence (later
 * ones are dropped) or are added at the end of the message when it has none; an empty string or a
 * zero varint is proto3's default: written as nothing. A message field has its own edits applied
 * inside it (added, built from them, when absent); with `each` > 0 the field repeats and the n-th
 * occurrence gets the n-th set of `nsub` edits (occurrences past `each` are copied, none added). */
typedef struct pb_edit {
    uint32_t field;
    enum { PB_STR, PB_INT, PB_MSG } kind;
    const char *s;
    uint64_t v;
    struct pb_edit *sub;
    size_t nsub, each;
    size_t seen; /* occurrences met so far */
} pb_edit;

static int put_edit(vet_buf *out, pb_edit *e, pb b);

/* Copy message b to out with the edits applied; every other field is copied byte for byte. */
static int rewrite(vet_buf *out, pb b, pb_edit *e, size_t n)
{
    int rc;
    while (b.p < b.end) {
        const unsigned char *start = b.p, *v;
        uint32_t f;
        size_t vn;
        uint64_t num;
        pb_edit *x = NULL;
        if ((rc = helm_pb_next(&b, &f, &v, &vn, &num)))
            return rc;
        for (size_t i = 0; i < n && !x; i++)
            if (e[i].field == f && (e[i].kind == PB_INT) == !v)
                x = &e[i];
        if (!x || (x->each && x->seen >= x->each)) {
            rc = vet_buf_put(out, start, (size_t)(b.p - start));
        } else {
            rc = x->seen && !x->each ? 0 : put_edit(out, x, helm_pb_sub(&b, v, vn));
            x->seen++;
        }
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (!e[i].seen && !e[i].each && (rc = put_edit(out, &e[i], helm_pb_sub(&b, b.end, 0))))
            return rc;
    return 0;
}

/* The edit's field, written; a message from `old` (empty when the field was absent). */
static int put_edit(vet_buf *out, pb_edit *e, pb old)
{
    vet_buf sub = VET_BUF_INIT;
    int rc;
    if (e->kind == PB_STR)
        return *e->s ? put_bytes(out, e->field, e->s, strlen(e->s)) : 0;
    if (e->kind == PB_INT)
        return e->v ? put_int(out, e->field, e->v) : 0;
    rc = rewrite(&sub, old, e->sub + (e->each ? e->seen * e->nsub : 0), e->nsub);
    if (!rc)
        rc = put_bytes(out, e->field, sub.ptr ? sub.ptr : "", sub.size);
    vet_buf_free(&sub);
    return rc;
}

int helm_v2_rewrite(vet_buf *out, const unsigned char *data, size_t len, const char *manifest,
                    const char *const *hooks, size_t nhooks, int version, int code,
                    const char *desc)
{
    /* hapi.release.Release: info=2 {status=1 {code=1}, description=5}, manifest=5, hooks=6
     * (repeated; Hook.manifest=4), version=7 */
    pb_edit status[] = {{1, PB_INT, NULL, (uint64_t)code, NULL, 0, 0, 0}};
    pb_edit info[] = {{1, PB_MSG, NULL, 0, status, 1, 0, 0}, {5, PB_STR, desc, 0, NULL, 0, 0, 0}};
    pb_edit top[4], *hk = NULL;
    size_t n = 0;
    pb b;
    int rc;
    b.p = b.start = data;
    b.end = data + len;
    top[n++] = (pb_edit){2, PB_MSG, NULL, 0, info, desc ? 2 : 1, 0, 0};
    if (manifest)
        top[n++] = (pb_edit){5, PB_STR, manifest, 0, NULL, 0, 0, 0};
    if (hooks && nhooks) {
        if (!(hk = calloc(nhooks, sizeof *hk)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        for (size_t i = 0; i < nhooks; i++)
            hk[i] = (pb_edit){4, PB_STR, hooks[i], 0, NULL, 0, 0, 0};
        top[n++] = (pb_edit){6, PB_MSG, NULL, 0, hk, 1, nhooks, 0};
    }
    if (version > 0)
        top[n++] = (pb_edit){7, PB_INT, NULL, (uint64_t)version, NULL, 0, 0, 0};
    rc = rewrite(out, b, top, n);
    free(hk);
    return rc;
}
