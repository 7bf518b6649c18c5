/* Splitting PEM (RFC 7468) or a single DER object into certificates and keys.
 * We find the BEGIN/END boundaries ourselves so that errors can name a byte offset; the
 * base64 and every DER structure are decoded by OpenSSL. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "error.h"
#include "pki_int.h"

#define LABEL_MAX 64

enum kind { K_UNKNOWN, K_CERT, K_CERT_AUX, K_PRIV, K_PRIV_ENCRYPTED, K_PUB, K_PUB_RSA };

static const struct {
    const char *label;
    enum kind kind;
} labels[] = {
    {"CERTIFICATE", K_CERT},
    {"X509 CERTIFICATE", K_CERT},
    {"TRUSTED CERTIFICATE", K_CERT_AUX},
    {"PRIVATE KEY", K_PRIV},
    {"RSA PRIVATE KEY", K_PRIV},
    {"EC PRIVATE KEY", K_PRIV},
    {"DSA PRIVATE KEY", K_PRIV},
    {"ENCRYPTED PRIVATE KEY", K_PRIV_ENCRYPTED},
    {"PUBLIC KEY", K_PUB},
    {"RSA PUBLIC KEY", K_PUB_RSA},
};

/* What one call collects; merged into the caller's vet_pem only on success, so a failed
 * parse leaves it untouched. */
typedef struct {
    void **v;
    size_t n, cap;
} list;

typedef struct {
    list certs, keys, pubs;
    BIO *scratch;
    EVP_ENCODE_CTX *b64;
    unsigned char *buf;
    size_t bufcap;
} state;

static int list_push(list *l, void *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        void **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = p;
    return 0;
}

static enum kind label_kind(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strlen(labels[i].label) == n && !memcmp(labels[i].label, s, n))
            return labels[i].kind;
    return K_UNKNOWN;
}

static int add_cert(state *st, const unsigned char *der, size_t len, int aux)
{
    vet_cert *c = NULL;
    const unsigned char *p = der;
    int rc;
    if (len > LONG_MAX)
        return vet_error_set(VET_ELIMIT, "object too large");
    ERR_set_mark();
    rc = pki_cert_from_der(&c, &p, (long)len, aux, st->scratch);
    ERR_pop_to_mark();
    if (rc < 0)
        return rc;
    if ((rc = list_push(&st->certs, c)) < 0)
        vet_cert_free(c);
    return rc;
}

static EVP_PKEY *decode_key(enum kind k, const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *pk = NULL;
    if (len > LONG_MAX)
        return NULL;
    ERR_set_mark();
    if (k == K_PRIV)
        /* PKCS#8, or the traditional PKCS#1 / SEC1 / DSA forms, told apart by structure. */
        pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
    else if (k == K_PUB)
        pk = d2i_PUBKEY(NULL, &p, (long)len);
    else if (k == K_PUB_RSA)
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    ERR_pop_to_mark();
    return pk;
}

static int add_key(state *st, EVP_PKEY *pk, int priv)
{
    vet_key *k = NULL;
    int rc = pki_key_new(&k, pk, priv);
    if (rc == 0 && (rc = list_push(priv ? &st->keys : &st->pubs, k)) < 0)
        vet_key_free(k);
    return rc;
}

static const char *kind_noun(enum kind k)
{
    switch (k) {
    case K_CERT:
    case K_CERT_AUX:
        return "a certificate";
    case K_PRIV:
        return "a private key";
    default:
        return "a public key";
    }
}

static const unsigned char *find(const unsigned char *h, size_t hlen, const char *needle)
{
    return memmem(h, hlen, needle, strlen(needle));
}

/* RFC 1421 headers ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ...") sit between the BEGIN line
 * and a blank line. Returns the offset of the base64, or -1 when the block is encrypted. */
static long skip_headers(const unsigned char *b, size_t n)
{
    size_t i = 0, eol;
    const unsigned char *nl;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    nl = memchr(b + i, '\n', n - i);
    eol = nl ? (size_t)(nl - b) : n;
    if (!memchr(b + i, ':', eol - i))
        return (long)i;
    /* Header lines up to the first empty line; base64 never holds a ':'. */
    for (;;) {
        if (find(b + i, eol - i, "ENCRYPTED"))
            return -1;
        if (eol >= n)
            return (long)n;
        i = eol + 1;
        size_t j = i;
        while (j < n && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r'))
            j++;
        if (j >= n)
            return (long)n;
        if (b[j] == '\n')
            return (long)(j + 1);
        nl = memchr(b + i, '\n', n - i);
        eol = nl ? (size_t)(nl - b) : n;
    }
}

/* Decode base64 into st->buf; returns the decoded length or -1. */
static long b64_decode(state *st, const unsigned char *b, size_t n)
{
    int outl = 0, fin = 0;
    size_t need = n / 4 * 3 + 3 + 80;
    if (n > INT_MAX)
        return -1;
    if (need > st->bufcap) {
        unsigned char *nb = realloc(st->buf, need);
        if (!nb)
            return -2;
        st->buf = nb;
        st->bufcap = need;
    }
    EVP_DecodeInit(st->b64);
    if (EVP_DecodeUpdate(st->b64, st->buf, &outl, b, (int)n) < 0)
        return -1;
    if (EVP_DecodeFinal(st->b64, st->buf + outl, &fin) < 0)
        return -1;
    return (long)outl + fin;
}

static int parse_block(state *st, enum kind k, const unsigned char *body, size_t blen,
                       const char *name, size_t off, const char *label)
{
    long hdr, dlen;
    EVP_PKEY *pk;
    int rc;

    if (k == K_PRIV_ENCRYPTED)
        return vet_error_set(VET_EINPUT,
                             "%s: byte %zu: PEM block '%s' is encrypted (needs a passphrase; "
                             "kubeadm keys never are)",
                             name, off, label);
    hdr = skip_headers(body, blen);
    if (hdr < 0)
        return vet_error_set(VET_EINPUT,
                             "%s: byte %zu: PEM block '%s' is encrypted (Proc-Type ENCRYPTED)",
                             name, off, label);
    dlen = b64_decode(st, body + hdr, blen - (size_t)hdr);
    if (dlen == -2)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (dlen < 0)
        return vet_error_set(VET_EINPUT, "%s: byte %zu: bad base64 in PEM block '%s'", name, off,
                             label);
    if (dlen == 0)
        return vet_error_set(VET_EINPUT, "%s: byte %zu: empty PEM block '%s'", name, off, label);
    if (k == K_CERT || k == K_CERT_AUX) {
        char why[128];
        rc = add_cert(st, st->buf, (size_t)dlen, k == K_CERT_AUX);
        if (rc != VET_EINPUT)
            return rc;
        snprintf(why, sizeof why, "%s", vet_error_last());
        return vet_error_set(VET_EINPUT, "%s: byte %zu: PEM block '%s' is not %s (%s)", name,
                             off, label, kind_noun(k), why);
    }
    pk = decode_key(k, st->buf, (size_t)dlen);
    /* The decoded bytes may be a private key: do not leave them in a reused buffer. */
    OPENSSL_cleanse(st->buf, (size_t)dlen);
    if (!pk)
        return vet_error_set(VET_EINPUT, "%s: byte %zu: PEM block '%s' is not %s", name, off,
                             label, kind_noun(k));
    return add_key(st, pk, k == K_PRIV);
}

static int parse_pem(state *st, const unsigned char *data, size_t len, const char *name)
{
    static const char begin[] = "-----BEGIN ";
    const size_t blen = sizeof begin - 1;
    size_t pos = 0;
    char endmark[LABEL_MAX + 16];

    for (;;) {
        const unsigned char *b = find(data + pos, len - pos, begin);
        const unsigned char *lab, *e, *next, *end;
        size_t off, llen, body;
        if (!b)
            return 0;
        off = (size_t)(b - data);
        lab = b + blen;
        /* The label runs to the closing "-----" on the same line. */
        for (e = lab; e < data + len && (size_t)(e - lab) <= LABEL_MAX &&
                      (isupper(*e) || isdigit(*e) || *e == ' ');
             e++)
            ;
        llen = (size_t)(e - lab);
        if (llen == 0 || llen > LABEL_MAX || (size_t)(data + len - e) < 5 || memcmp(e, "-----", 5)) {
            pos = off + 1; /* "-----BEGIN " in prose: not a boundary */
            continue;
        }
        body = (size_t)(e + 5 - data);
        memcpy(endmark, "-----END ", 9);
        memcpy(endmark + 9, lab, llen);
        memcpy(endmark + 9 + llen, "-----", 6);
        char label[LABEL_MAX + 1];
        memcpy(label, lab, llen);
        label[llen] = '\0';

        end = find(data + body, len - body, endmark);
        next = find(data + body, len - body, begin);
        if (!end || (next && next < end))
            return vet_error_set(VET_EINPUT, "%s: byte %zu: truncated PEM block '%s' (no END line)",
                                 name, off, label);
        enum kind k = label_kind(lab, llen);
        if (k != K_UNKNOWN) {
            int rc = parse_block(st, k, data + body, (size_t)(end - data) - body, name, off, label);
            if (rc < 0)
                return rc;
        }
        pos = (size_t)(end - data) + strlen(endmark);
    }
}

static int parse_der(state *st, const unsigned char *data, size_t len, const char *name)
{
    EVP_PKEY *pk;
    const unsigned char *p = data;
    vet_cert *c = NULL;
    int rc;

    /* Every structure we accept is a SEQUENCE: do not feed a JPEG to three decoders. */
    if (data[0] != 0x30 || len > LONG_MAX)
        goto bad;
    ERR_set_mark();
    rc = pki_cert_from_der(&c, &p, (long)len, 0, st->scratch);
    ERR_pop_to_mark();
    if (rc == 0) {
        if ((size_t)(p - data) != len) {
            vet_cert_free(c);
            return vet_error_set(VET_EINPUT, "%s: byte %zu: trailing data after DER certificate",
                                 name, (size_t)(p - data));
        }
        if ((rc = list_push(&st->certs, c)) < 0)
            vet_cert_free(c);
        return rc;
    }
    if (rc != VET_EINPUT)
        return rc;
    if ((pk = decode_key(K_PRIV, data, len)))
        return add_key(st, pk, 1);
    if ((pk = decode_key(K_PUB, data, len)))
        return add_key(st, pk, 0);
bad:
    return vet_error_set(VET_EINPUT,
                         "%s: byte 0: neither PEM nor a DER certificate or key (%zu bytes)", name,
                         len);
}

/* Grow dst for n + src->n entries without publishing anything yet. */
static int reserve(void ***dst, size_t n, const list *src)
{
    void **v;
    if (!src->n)
        return 0;
    if (n > SIZE_MAX / sizeof *v - src->n)
        return vet_error_set(VET_ENOMEM, "out of memory");
    v = realloc(*dst, (n + src->n) * sizeof *v);
    if (!v)
        return vet_error_set(VET_ENOMEM, "out of memory");
    *dst = v;
    return 0;
}

static void publish(void **dst, size_t *n, list *src)
{
    if (src->n)
        memcpy(dst + *n, src->v, src->n * sizeof *dst);
    *n += src->n;
    src->n = 0;
}

int vet_pki_parse(vet_pem *out, const unsigned char *data, size_t len, const char *name)
{
    state st = {0};
    size_t i;
    int rc = VET_ENOMEM;

    if (!name)
        name = "input";
    for (i = 0; i < len && isspace(data[i]); i++)
        ;
    if (i == len) {
        rc = vet_error_set(VET_EINPUT, "%s: byte 0: empty input", name);
        goto done;
    }
    if (!(st.scratch = BIO_new(BIO_s_mem())) || !(st.b64 = EVP_ENCODE_CTX_new())) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (find(data, len, "-----BEGIN "))
        rc = parse_pem(&st, data, len, name);
    else
        rc = parse_der(&st, data, len, name);
    if (rc < 0)
        goto done;
    /* Reserve all three first so that a failure cannot leave a half-merged result. */
    {
        void **c = (void **)out->certs, **k = (void **)out->keys, **p = (void **)out->pubkeys;
        rc = reserve(&c, out->ncerts, &st.certs);
        out->certs = (vet_cert **)c;
        if (rc == 0)
            rc = reserve(&k, out->nkeys, &st.keys);
        out->keys = (vet_key **)k;
        if (rc == 0)
            rc = reserve(&p, out->npubkeys, &st.pubs);
        out->pubkeys = (vet_key **)p;
        if (rc < 0)
            goto done;
        publish(c, &out->ncerts, &st.certs);
        publish(k, &out->nkeys, &st.keys);
        publish(p, &out->npubkeys, &st.pubs);
    }
    rc = 0;

done:
    for (i = 0; i < st.certs.n; i++)
        vet_cert_free(st.certs.v[i]);
    for (i = 0; i < st.keys.n; i++)
        vet_key_free(st.keys.v[i]);
    for (i = 0; i < st.pubs.n; i++)
        vet_key_free(st.pubs.v[i]);
    free(st.certs.v);
    free(st.keys.v);
    free(st.pubs.v);
    if (st.buf)
        OPENSSL_cleanse(st.buf, st.bufcap);
    free(st.buf);
    EVP_ENCODE_CTX_free(st.b64);
    BIO_free(st.scratch);
    ERR_clear_error();
    return rc;
}

static int der_sniff(const unsigned char *d, size_t len)
{
    size_t n, hdr;
    if (len < 4 || d[0] != 0x30)
        return 0;
    if (d[1] < 0x80) {
        n = d[1];
        hdr = 2;
    } else {
        size_t nb = d[1] & 0x7f;
        if (nb == 0 || nb > 4 || len < 2 + nb)
            return 0;
        n = 0;
        for (size_t i = 0; i < nb; i++)
            n = n << 8 | d[2 + i];
        hdr = 2 + nb;
    }
    /* A certificate or SPKI starts with another SEQUENCE, a PKCS#1/#8 or SEC1 key with
     * its version INTEGER. */
    return n == len - hdr && len > hdr && (d[hdr] == 0x30 || d[hdr] == 0x02);
}

int vet_pki_sniff(const unsigned char *data, size_t len)
{
    static const char begin[] = "-----BEGIN ";
    size_t pos = 0;
    const unsigned char *b;
    if (!data || !len)
        return 0;
    while ((b = find(data + pos, len - pos, begin))) {
        const unsigned char *lab = b + sizeof begin - 1;
        size_t room = (size_t)(data + len - lab);
        for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
            size_t ll = strlen(labels[i].label);
            if (room >= ll + 5 && !memcmp(lab, labels[i].label, ll) && !memcmp(lab + ll, "-----", 5))
                return 1;
        }
        pos = (size_t)(b - data) + 1;
    }
    return der_sniff(data, len);
}

void vet_pem_clear(vet_pem *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncerts; i++)
        vet_cert_free(p->certs[i]);
    for (size_t i = 0; i < p->nkeys; i++)
        vet_key_free(p->keys[i]);
    for (size_t i = 0; i < p->npubkeys; i++)
        vet_key_free(p->pubkeys[i]);
    free(p->certs);
    free(p->keys);
    free(p->pubkeys);
    memset(p, 0, sizeof *p);
}
