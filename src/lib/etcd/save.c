/* `etcd snapshot save`: stream Maintenance.Snapshot to a file as it arrives, never holding more
 * than one message, and check the SHA-256 etcd appends (etcd >= 3.2 sends the bbolt file and
 * then 32 bytes of SHA-256 over it; etcdctl's file is exactly the concatenated blobs).
 *
 * Two transports, same bytes:
 *  - gateway: POST /v3/maintenance/snapshot, newline-delimited JSON, each line
 *    {"result":{"remaining_bytes":"N","blob":"<base64>"}} (zero values omitted). The server
 *    spends most of the time in its JSON encoder: about 1.5x etcdctl's time on etcd 3.4.
 *  - grpc-h2: the same RPC as etcdctl, /etcdserverpb.Maintenance/Snapshot, as gRPC frames over
 *    HTTP/2 (h2c prior knowledge for http://, ALPN h2 for https://) with libcurl; the protobuf
 *    is three fields (header=1, remaining_bytes=2, blob=3), decoded here by hand. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "atomic.h"
#include "error.h"
#include "text.h"
#include "etcd_int.h"

#define LINE_CAP (16u << 20) /* one gateway line / gRPC message; etcd sends 32 KiB chunks */

typedef struct {
    vet_etcd *c;
    vet_atomic *w;
    const char *path;
    const char *url;
    EVP_MD_CTX *sha;
    unsigned char tail[32]; /* the last 32 bytes seen: the trailer, once the stream ends */
    size_t tail_len;
    uint64_t total;
    uint64_t remaining; /* remaining_bytes of the last message */
    int saw_last;       /* a message with remaining_bytes == 0 arrived */
    vet_buf line;       /* partial gateway line or gRPC message */
    unsigned char *dec; /* base64 decode scratch */
    size_t dec_cap;
    int rc; /* error from inside a callback */
    /* grpc-h2 */
    int grpc_status; /* -1 until the trailer arrives */
    char grpc_message[256];
    int content_type_ok;
} save_ctx;

/* Everything except the final 32 bytes goes into the hash; those 32 are the trailer. */
static int consume(save_ctx *s, const unsigned char *p, size_t n)
{
    int rc;
    if (!n)
        return 0;
    if (s->w && (rc = vet_atomic_write(s->w, p, n))) /* no writer: etcd_save_parse_stream */
        return rc;
    s->total += n;
    if (n >= 32) {
        if (!EVP_DigestUpdate(s->sha, s->tail, s->tail_len) || !EVP_DigestUpdate(s->sha, p, n - 32))
            return vet_error_set(VET_ENOMEM, "SHA-256 failed");
        memcpy(s->tail, p + n - 32, 32);
        s->tail_len = 32;
    } else if (s->tail_len + n <= 32) {
        memcpy(s->tail + s->tail_len, p, n);
        s->tail_len += n;
    } else {
        size_t out = s->tail_len + n - 32;
        if (!EVP_DigestUpdate(s->sha, s->tail, out))
            return vet_error_set(VET_ENOMEM, "SHA-256 failed");
        memmove(s->tail, s->tail + out, s->tail_len - out);
        memcpy(s->tail + s->tail_len - out, p, n);
        s->tail_len = 32;
    }
    return 0;
}

/* ---- gateway ---- */

static int gw_line(save_ctx *s, const char *l, size_t n)
{
    static const char key[] = "\"blob\":\"";
    const char *b, *e;
    json_t *rest = NULL;
    vet_buf tmp = VET_BUF_INIT;
    json_error_t jerr;
    int rc = 0;

    while (n && (l[n - 1] == '\r' || l[n - 1] == ' '))
        n--;
    if (!n)
        return 0;
    b = memmem(l, n, key, sizeof key - 1);
    e = b ? memchr(b + sizeof key - 1, '"', n - (size_t)(b + sizeof key - 1 - l)) : NULL;
    if (b && !e)
        return vet_error_set(VET_EINPUT, "%s: snapshot stream: unterminated blob at byte %llu",
                             s->url, (unsigned long long)s->total);
    /* Everything but the blob is small: parse it as JSON (errors, remaining_bytes). */
    if (b) {
        if (vet_buf_put(&tmp, l, (size_t)(b - l) + sizeof key - 1) ||
            vet_buf_put(&tmp, e, n - (size_t)(e - l)))
            return vet_error_set(VET_ENOMEM, "out of memory");
    } else if (vet_buf_put(&tmp, l, n)) {
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    rest = json_loadb(tmp.ptr, tmp.size, 0, &jerr);
    if (!rest) {
        char *esc = vet_text_escape(jerr.text, 0);
        rc = vet_error_set(VET_EINPUT, "%s: snapshot stream: not JSON near byte %llu: %s", s->url,
                           (unsigned long long)s->total, esc ? esc : "");
        free(esc);
        goto done;
    }
    if (json_object_get(rest, "error")) {
        json_t *er = json_object_get(rest, "error");
        const char *msg = json_string_value(json_object_get(er, "message"));
        if (!msg)
            msg = json_string_value(json_object_get(rest, "message"));
        char *esc = vet_text_escape(msg ? msg : "error", 0);
        rc = vet_error_set(VET_ENET, "%s: snapshot failed after %llu bytes: %.200s", s->url,
                           (unsigned long long)s->total, esc ? esc : "error");
        free(esc);
        goto done;
    }
    {
        json_t *res = json_object_get(rest, "result");
        if (!res) {
            rc =
                vet_error_set(VET_EINPUT, "%s: snapshot stream: a line without \"result\"", s->url);
            goto done;
        }
        if ((rc = etcd_json_u64(&s->remaining, res, "remaining_bytes")))
            goto done;
        if (s->remaining == 0)
            s->saw_last = 1;
    }
    if (b) {
        const char *src = b + sizeof key - 1;
        size_t blen = (size_t)(e - src), need = blen / 4 * 3 + 3;
        int dn, pad = 0;
        if (blen % 4) {
            rc = vet_error_set(VET_EINPUT, "%s: snapshot stream: base64 length %zu at byte %llu",
                               s->url, blen, (unsigned long long)s->total);
            goto done;
        }
        if (need > s->dec_cap) {
            unsigned char *d = realloc(s->dec, need);
            if (!d) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
            s->dec = d;
            s->dec_cap = need;
        }
        /* Each line's blob is encoded on its own, so EVP_DecodeBlock per line; it counts '='
         * padding as zero bytes, which are not data. */
        dn = blen ? EVP_DecodeBlock(s->dec, (const unsigned char *)src, (int)blen) : 0;
        if (dn < 0) {
            rc = vet_error_set(VET_EINPUT, "%s: snapshot stream: bad base64 at byte %llu", s->url,
                               (unsigned long long)s->total);
            goto done;
        }
        if (blen && src[blen - 1] == '=')
            pad = blen > 1 && src[blen - 2] == '=' ? 2 : 1;
        rc = consume(s, s->dec, (size_t)dn - (size_t)pad);
    }
done:
    json_decref(rest);
    vet_buf_free(&tmp);
    return rc;
}

static size_t gw_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    save_ctx *s = ud;
    size_t n = size * nmemb, off = 0;
    while (off < n) {
        const char *nl = memchr(ptr + off, '\n', n - off);
        size_t take = nl ? (size_t)(nl - (ptr + off)) : n - off;
        if (!nl || s->line.size) {
            if (s->line.size + take > LINE_CAP) {
                s->rc = vet_error_set(VET_ELIMIT, "%s: snapshot stream: a line over %u bytes",
                                      s->url, LINE_CAP);
                return 0;
            }
            if (vet_buf_put(&s->line, ptr + off, take)) {
                s->rc = VET_ENOMEM;
                return 0;
            }
            if (nl) {
                s->rc = gw_line(s, s->line.ptr, s->line.size);
                vet_buf_clear(&s->line);
            }
        } else {
            s->rc = gw_line(s, ptr + off, take); /* whole line in this block: no copy */
        }
        if (s->rc)
            return 0;
        off += take + (nl ? 1 : 0);
    }
    return n;
}

/* ---- gRPC over HTTP/2 ---- */

static int varint(uint64_t *v, const unsigned char **p, const unsigned char *end)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* SnapshotResponse { ResponseHeader header = 1; uint64 remaining_bytes = 2; bytes blob = 3; } */
static int grpc_msg(save_ctx *s, const unsigned char *p, size_t n)
{
    const unsigned char *end = p + n;
    const unsigned char *blob = NULL;
    uint64_t blen = 0, remaining = 0;
    while (p < end) {
        uint64_t tag, v;
        if (varint(&tag, &p, end))
            goto bad;
        switch (tag & 7) {
        case 0:
            if (varint(&v, &p, end))
                goto bad;
            if ((tag >> 3) == 2)
                remaining = v;
            break;
        case 1:
            if (end - p < 8)
                goto bad;
            p += 8;
            break;
        case 2:
            if (varint(&v, &p, end) || v > (uint64_t)(end - p))
                goto bad;
            if ((tag >> 3) == 3) {
                blob = p;
                blen = v;
            }
            p += v;
            break;
        case 5:
            if (end - p < 4)
                goto bad;
            p += 4;
            break;
        default:
            goto bad;
        }
    }
    s->remaining = remaining;
    if (remaining == 0)
        s->saw_last = 1;
    return blob ? consume(s, blob, (size_t)blen) : 0;
bad:
    return vet_error_set(VET_EINPUT, "%s: snapshot stream: malformed message at byte %llu", s->url,
                         (unsigned long long)s->total);
}

static int grpc_drain(save_ctx *s)
{
    size_t off = 0;
    int rc = 0;
    while (s->line.size - off >= 5) {
        const unsigned char *h = (const unsigned char *)s->line.ptr + off;
        uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
        if (h[0] != 0)
            return vet_error_set(VET_EINPUT, "%s: compressed gRPC message (not requested)", s->url);
        if (len > LINE_CAP)
            return vet_error_set(VET_ELIMIT, "%s: gRPC message of %u bytes", s->url, len);
        if (s->line.size - off - 5 < len)
            break;
        if ((rc = grpc_msg(s, h + 5, len)))
            return rc;
        off += 5 + (size_t)len;
    }
    if (off) {
        memmove(s->line.ptr, s->line.ptr + off, s->line.size - off);
        s->line.size -= off;
    }
    return 0;
}

static size_t grpc_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    save_ctx *s = ud;
    size_t n = size * nmemb;
    if (!s->content_type_ok) {
        s->rc = vet_error_set(VET_ENET, "%s: not a gRPC response", s->url);
        return 0;
    }
    if (vet_buf_put(&s->line, ptr, n)) {
        s->rc = VET_ENOMEM;
        return 0;
    }
    if ((s->rc = grpc_drain(s)))
        return 0;
    return n;
}

static void pct_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '%' && r[1] && r[2]) {
            char hx[3] = {r[1], r[2], 0};
            *w++ = (char)strtol(hx, NULL, 16);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Headers and (HTTP/2) trailers both come here. */
static size_t grpc_header(char *buf, size_t size, size_t nitems, void *ud)
{
    save_ctx *s = ud;
    size_t n = size * nitems;
    char line[300];
    size_t l = n < sizeof line - 1 ? n : sizeof line - 1;
    memcpy(line, buf, l);
    while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
        l--;
    line[l] = '\0';
    if (!strncasecmp(line, "content-type:", 13)) {
        const char *v = line + 13;
        while (*v == ' ')
            v++;
        s->content_type_ok = !strncasecmp(v, "application/grpc", 16);
    } else if (!strncasecmp(line, "grpc-status:", 12)) {
        s->grpc_status = atoi(line + 12);
    } else if (!strncasecmp(line, "grpc-message:", 13)) {
        const char *v = line + 13;
        while (*v == ' ')
            v++;
        size_t vl = strlen(v) < sizeof s->grpc_message - 1 ? strlen(v) : sizeof s->grpc_message - 1;
        memcpy(s->grpc_message, v, vl);
        s->grpc_message[vl] = '\0';
        pct_decode(s->grpc_message);
    }
    return n;
}

static int run_transfer(save_ctx *s, int grpc)
{
    vet_etcd *c = s->c;
    CURL *h = c->curl;
    struct curl_slist *hdr = NULL;
    static const char empty_req[5] = {0, 0, 0, 0, 0}; /* SnapshotRequest{}: flag 0, length 0 */
    char *url = NULL;
    long status = 0, httpver = 0;
    CURLcode cc;
    int rc = 0;
    size_t bl = strlen(c->endpoint);

    while (bl && c->endpoint[bl - 1] == '/')
        bl--;
    url = vet_strdupf("%.*s%s", (int)bl, c->endpoint,
                      grpc ? "/etcdserverpb.Maintenance/Snapshot" : "/v3/maintenance/snapshot");
    if (!url)
        return vet_error_set(VET_ENOMEM, "out of memory");
    s->url = url;
    curl_easy_reset(h);
    /* no overall timeout: a big database takes as long as it takes */
    if ((rc = etcd_curl_setup(c, h, 0))) {
        s->url = NULL;
        free(url);
        return rc;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    /* ...but a stalled stream must not hang for ever. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    if (grpc) {
        /* A fresh connection: the handle's cached one is HTTP/1.1 from the JSON calls, and
         * libcurl 7.88 would reuse it for a prior-knowledge HTTP/2 request. */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        hdr = curl_slist_append(hdr, "Content-Type: application/grpc");
        hdr = curl_slist_append(hdr, "TE: trailers");
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         !strncmp(url, "https:", 6) ? (long)CURL_HTTP_VERSION_2TLS
                                                    : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, empty_req);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 5L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grpc_write);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, grpc_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    } else {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gw_write);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &httpver);
    if (s->rc) {
        rc = s->rc;
    } else if (cc != CURLE_OK) {
        char after[48];
        snprintf(after, sizeof after, " after %llu bytes", (unsigned long long)s->total);
        rc = etcd_transport_error(c, h, cc, url, after);
    } else if (grpc && httpver != CURL_HTTP_VERSION_2_0) {
        rc = vet_error_set(VET_ENET, "etcd endpoint %s: server did not speak HTTP/2", url);
    } else if (grpc && s->grpc_status != 0) {
        char *esc = vet_text_escape(s->grpc_message[0] ? s->grpc_message : "snapshot failed", 0);
        rc = vet_error_set(VET_ENET, "etcd endpoint %s: %s (gRPC code %d)", url,
                           esc ? esc : "snapshot failed", s->grpc_status < 0 ? 2 : s->grpc_status);
        free(esc);
    } else if (grpc && s->line.size) {
        rc = vet_error_set(VET_EINPUT, "%s: snapshot stream: %zu bytes of a truncated message", url,
                           s->line.size);
    } else if (!grpc && s->line.size && (rc = gw_line(s, s->line.ptr, s->line.size))) {
        /* a last line without its newline */
    } else if (status != 200 && !s->total) {
        rc = vet_error_set(VET_ENET, "etcd endpoint %s: HTTP %ld", url, status);
    }
    curl_slist_free_all(hdr);
    s->url = NULL;
    free(url);
    return rc;
}

static int save_once(vet_etcd_save_result *out, vet_etcd *c, const char *path, int grpc)
{
    save_ctx s;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int rc;

    memset(&s, 0, sizeof s);
    s.c = c;
    s.path = path;
    s.grpc_status = -1;
    if (!(s.sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(s.sha, EVP_sha256(), NULL)) {
        rc = vet_error_set(VET_ENOMEM, "SHA-256 init failed");
        goto done;
    }
    if ((rc = vet_atomic_open(&s.w, path, 0600)))
        goto done;
    if ((rc = run_transfer(&s, grpc)))
        goto done;
    if (!s.saw_last) {
        rc = vet_error_set(VET_ENET,
                           "etcd endpoint %s: snapshot stream ended early (%llu bytes, "
                           "%llu remaining)",
                           c->endpoint, (unsigned long long)s.total,
                           (unsigned long long)s.remaining);
        goto done;
    }
    if (s.total < 32 || !EVP_DigestFinal_ex(s.sha, md, &mdlen)) {
        rc = vet_error_set(VET_EINPUT,
                           "etcd endpoint %s: snapshot of %llu bytes has no SHA-256 "
                           "trailer",
                           c->endpoint, (unsigned long long)s.total);
        goto done;
    }
    if (memcmp(md, s.tail, 32)) {
        rc = vet_error_set(VET_EINPUT,
                           "etcd endpoint %s: snapshot SHA-256 mismatch: the data "
                           "(%llu bytes) does not hash to the trailer etcd sent; not saved",
                           c->endpoint, (unsigned long long)(s.total - 32));
        goto done;
    }
    rc = vet_atomic_commit(s.w, 0, NULL);
    s.w = NULL;
    if (rc)
        goto done;
    out->size = s.total;
    out->transport = grpc ? "grpc-h2" : "gateway";
    memcpy(out->sha256, md, 32);
done:
    vet_atomic_abort(s.w);
    EVP_MD_CTX_free(s.sha);
    vet_buf_free(&s.line);
    free(s.dec);
    if (rc && !s.total)
        return rc == VET_ENET ? 1 : rc; /* 1: nothing arrived, the caller may try the gateway */
    return rc;
}

int vet_etcd_snapshot_save(vet_etcd_save_result *out, vet_etcd *c, const char *path,
                           vet_etcd_transport transport)
{
    json_t *st = NULL;
    struct timespec t0, t1;
    int rc, grpc;
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

    memset(out, 0, sizeof *out);
    /* The revision the snapshot will contain at least: the member's header before it starts. */
    if (!etcd_request(c, c->endpoint, "/v3/maintenance/status", "{}", 0, &st, NULL)) {
        json_t *h = json_object_get(st, "header");
        etcd_json_i64(&out->revision, h, "revision");
    }
    json_decref(st);
    vet_error_clear();
    grpc = transport == VET_ETCD_TRANSPORT_GRPC ||
           (transport == VET_ETCD_TRANSPORT_AUTO && vi && (vi->features & CURL_VERSION_HTTP2));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = save_once(out, c, path, grpc);
    if (rc == 1 && grpc && transport == VET_ETCD_TRANSPORT_AUTO)
        rc = save_once(out, c, path, 0);
    if (rc == 1)
        rc = VET_ENET;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

int etcd_save_parse_stream(const unsigned char *data, size_t len, int grpc, size_t chunk)
{
    save_ctx s;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int rc = 0;
    memset(&s, 0, sizeof s);
    s.url = "stream";
    s.content_type_ok = 1;
    if (!chunk)
        chunk = 1;
    if (!(s.sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(s.sha, EVP_sha256(), NULL)) {
        rc = vet_error_set(VET_ENOMEM, "SHA-256 init failed");
        goto done;
    }
    if (grpc) { /* header lines up to an empty one, as libcurl hands them over */
        const unsigned char *nl;
        while (len && (nl = memchr(data, '\n', len)) && nl != data) {
            grpc_header((char *)data, 1, (size_t)(nl - data + 1), &s);
            len -= (size_t)(nl - data + 1);
            data = nl + 1;
        }
        if (len && data[0] == '\n') {
            data++;
            len--;
        }
    }
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if ((grpc ? grpc_write : gw_write)((char *)data + off, 1, n, &s) != n) {
            rc = s.rc ? s.rc : vet_error_set(VET_EINPUT, "stream: refused");
            goto done;
        }
    }
    if (grpc && s.line.size)
        rc = vet_error_set(VET_EINPUT, "stream: truncated message");
    else if (!grpc && s.line.size)
        rc = gw_line(&s, s.line.ptr, s.line.size);
    if (!rc && (!s.saw_last || s.total < 32 || !EVP_DigestFinal_ex(s.sha, md, &mdlen) ||
                memcmp(md, s.tail, 32)))
        rc = vet_error_set(VET_EINPUT, "stream: incomplete or trailer mismatch");
done:
    EVP_MD_CTX_free(s.sha);
    vet_buf_free(&s.line);
    free(s.dec);
    return rc;
}
