/* Splitting PEM (RFC 7468) or a single DER object into certificates and keys.
 * We find the BEGIN/END boundaries ourselves so that errors can name a byte offset; the
 * base64 and every DER structure are decoded by OpenSSL. */
#include <ctype.h>
#include <pthread.h>
#include <unistd.h>
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

/* One PEM block of a known type, found by the scan. */
typedef struct {
    const unsigned char *body, *lab;
    size_t blen, llen;
    size_t off; /* of the BEGIN line */
    enum kind kind;
} block;

/* What one block became: a vet_cert or a vet_key (private or public, the key knows). */
typedef struct {
    void *obj;
    int is_cert;
} slot;

/* Per-thread decoding state, reused from block to block. */
typedef struct {
    BIO *scratch;
    EVP_ENCODE_CTX *b64;
    unsigned char *buf;
    size_t bufcap;
} decoder;

/* A contiguous run of blocks for one thread; the first failure stops it. */
typedef struct {
    const block *blocks;
    slot *slots;
    size_t from, to;
    const char *name;
    size_t err_at; /* index of the failing block, or SIZE_MAX */
    int rc;
    char msg[1024];
} job;

/* Bundles with many certificates are decoded by several threads: OpenSSL 3.0 spends ~100 us
 * per certificate in d2i_X509 (its public key goes through the provider decoders), so a
 * 10,000-certificate bundle would take a second on one core. Below this, one thread. */
#ifndef PAR_MIN_BLOCKS
#define PAR_MIN_BLOCKS 128
#endif
#define PAR_MAX_THREADS 8

static enum kind label_kind(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strlen(labels[i].label) == n && !memcmp(labels[i].label, s, n))
            return labels[i].kind;
    return K_UNKNOWN;
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

static int decoder_init(decoder *d)
{
    memset(d, 0, sizeof *d);
    if (!(d->scratch = BIO_new(BIO_s_mem())) || !(d->b64 = EVP_ENCODE_CTX_new()))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

static void decoder_free(decoder *d)
{
    if (d->buf)
        OPENSSL_cleanse(d->buf, d->bufcap); /* may have held a private key */
    free(d->buf);
    EVP_ENCODE_CTX_free(d->b64);
    BIO_free(d->scratch);
    memset(d, 0, sizeof *d);
}

/* The key type a PEM label or a PKCS#8 wrapper names, so the decoder need not guess. */
static EVP_PKEY *decode_typed(const char *label, const unsigned char *der, size_t len)
{
    const unsigned char *p = der, *inner;
    PKCS8_PRIV_KEY_INFO *p8;
    const ASN1_OBJECT *alg;
    EVP_PKEY *pk = NULL;
    int ilen;
    if (!label)
        return NULL;
    if (!strcmp(label, "RSA PRIVATE KEY"))
        return pki_ctx_decode_key("RSA", der, len);
    if (!strcmp(label, "EC PRIVATE KEY"))
        return pki_ctx_decode_key("EC", der, len);
    /* PKCS#8 holding an RSA key: its inner PKCS#1 bytes are the whole key. */
    if (strcmp(label, "PRIVATE KEY") || !(p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)))
        return NULL;
    if (PKCS8_pkey_get0(&alg, &inner, &ilen, NULL, p8) && OBJ_obj2nid(alg) == NID_rsaEncryption &&
        ilen > 0)
        pk = pki_ctx_decode_key("RSA", inner, (size_t)ilen);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return pk;
}

static EVP_PKEY *decode_key(enum kind k, const char *label, const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    OSSL_LIB_CTX *lib = pki_ctx_get()->lib; /* this thread's: see ctx.c */
    EVP_PKEY *pk = NULL;
    if (len > LONG_MAX)
        return NULL;
    ERR_set_mark();
    /* OpenSSL 3.0's d2i_AutoPrivateKey tries every decoder in turn: 0.34 ms for an RSA key,
     * against 0.02 ms when the PEM label names the type (a decoder each thread keeps). A node
     * holds a dozen keys. */
    if (k == K_PRIV && (pk = decode_typed(label, der, len)))
        ;
    else if (k == K_PRIV)
        /* PKCS#8, or the traditional PKCS#1 / SEC1 / DSA forms, told apart by structure. */
        pk = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, lib, NULL);
    else if (k == K_PUB)
        pk = d2i_PUBKEY_ex(NULL, &p, (long)len, lib, NULL);
    else if (k == K_PUB_RSA)
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    ERR_pop_to_mark();
    return pk;
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

/* Decode base64 into d->buf; returns the decoded length, -1 for bad base64, -2 for ENOMEM. */
static long b64_decode(decoder *d, const unsigned char *b, size_t n)
{
    int outl = 0, fin = 0;
    size_t need = n / 4 * 3 + 3 + 80;
    if (n > INT_MAX)
        return -1;
    if (need > d->bufcap) {
        unsigned char *nb = realloc(d->buf, need);
        if (!nb)
            return -2;
        d->buf = nb;
        d->bufcap = need;
    }
    EVP_DecodeInit(d->b64);
    if (EVP_DecodeUpdate(d->b64, d->buf, &outl, b, (int)n) < 0)
        return -1;
    if (EVP_DecodeFinal(d->b64, d->buf + outl, &fin) < 0)
        return -1;
    return (long)outl + fin;
}

static int decode_block(decoder *d, const block *b, slot *out, const char *name)
{
    char label[LABEL_MAX + 1];
    long hdr, dlen;
    EVP_PKEY *pk;
    vet_key *k = NULL;
    int rc;

    memcpy(label, b->lab, b->llen);
    label[b->llen] = '\0';
    if (b->kind == K_PRIV_ENCRYPTED)
        return vet_error_set(VET_EINPUT,
                             "%s: byte %zu: PEM block '%s' is encrypted (needs a passphrase; "
                             "kubeadm keys never are)",
                             name, b->off, label);
    hdr = skip_headers(b->body, b->blen);
    if (hdr < 0)
        return vet_error_set(VET_EINPUT,
                             "%s: byte %zu: PEM block '%s' is encrypted (Proc-Type ENCRYPTED)",
                             name, b->off, label);
    dlen = b64_decode(d, b->body + hdr, b->blen - (size_t)hdr);
    if (dlen == -2)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (dlen < 0)
        return vet_error_set(VET_EINPUT, "%s: byte %zu: bad base64 in PEM block '%s'", name, b->off,
                             label);
    if (dlen == 0)
        return vet_error_set(VET_EINPUT, "%s: byte %zu: empty PEM block '%s'", name, b->off, label);
    if (b->kind == K_CERT || b->kind == K_CERT_AUX) {
        const unsigned char *p = d->buf;
        vet_cert *c = NULL;
        char why[128];
        ERR_set_mark();
        rc = pki_cert_from_der(&c, &p, dlen, b->kind == K_CERT_AUX, d->scratch);
        ERR_pop_to_mark();
        if (rc == 0) {
            out->obj = c;
            out->is_cert = 1;
            return 0;
        }
        if (rc != VET_EINPUT)
            return rc;
        snprintf(why, sizeof why, "%s", vet_error_last());
        return vet_error_set(VET_EINPUT, "%s: byte %zu: PEM block '%s' is not %s (%s)", name,
                             b->off, label, kind_noun(b->kind), why);
    }
    pk = decode_key(b->kind, label, d->buf, (size_t)dlen);
    /* The decoded bytes may be a private key: do not leave them in a reused buffer. */
    OPENSSL_cleanse(d->buf, (size_t)dlen);
    if (!pk)
        return vet_error_set(VET_EINPUT, "%s: byte %zu: PEM block '%s' is not %s", name, b->off,
                             label, kind_noun(b->kind));
    if ((rc = pki_key_new(&k, pk, b->kind == K_PRIV)) < 0)
        return rc;
    out->obj = k;
    out->is_cert = 0;
    return 0;
}

static void *run_job(void *arg)
{
    job *j = arg;
    decoder d;
    int rc = decoder_init(&d);
    for (size_t i = j->from; i < j->to && rc == 0; i++) {
        rc = decode_block(&d, &j->blocks[i], &j->slots[i], j->name);
        if (rc < 0)
            j->err_at = i;
    }
    if (rc < 0) {
        if (j->err_at == SIZE_MAX)
            j->err_at = j->from; /* decoder_init failed */
        j->rc = rc;
        snprintf(j->msg, sizeof j->msg, "%s", vet_error_last());
    }
    decoder_free(&d);
    ERR_clear_error(); /* this thread's OpenSSL error queue */
    return NULL;
}

static size_t cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PAR_MAX_THREADS ? PAR_MAX_THREADS : (size_t)n;
}

/* Decode every block into slots, in parallel for big bundles. On failure the message of the
 * first failing block (in file order) is the thread's error, as a sequential run would give. */
static int decode_all(const block *blocks, slot *slots, size_t n, const char *name)
{
    job jobs[PAR_MAX_THREADS];
    pthread_t th[PAR_MAX_THREADS];
    int started[PAR_MAX_THREADS] = {0};
    size_t nj = 1;

    if (n >= PAR_MIN_BLOCKS)
        nj = cpu_count();
    if (nj > n / (PAR_MIN_BLOCKS / 2))
        nj = n / (PAR_MIN_BLOCKS / 2) ? n / (PAR_MIN_BLOCKS / 2) : 1;
    for (size_t t = 0; t < nj; t++)
        jobs[t] = (job){blocks, slots, n * t / nj, n * (t + 1) / nj, name, SIZE_MAX, 0, ""};
    /* Job 0 runs on the calling thread; a thread that cannot start runs here too. */
    for (size_t t = 1; t < nj; t++)
        started[t] = pthread_create(&th[t], NULL, run_job, &jobs[t]) == 0;
    run_job(&jobs[0]);
    for (size_t t = 1; t < nj; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            run_job(&jobs[t]);
    }
    for (size_t t = 0; t < nj; t++)
        if (jobs[t].err_at != SIZE_MAX)
            return vet_error_set(jobs[t].rc, "%s", jobs[t].msg);
    return 0;
}

typedef struct {
    block *v;
    size_t n, cap;
    size_t trunc_off; /* SIZE_MAX when every block has its END line */
    char trunc_label[LABEL_MAX + 1];
} scan;

static int scan_push(scan *s, const block *b)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        block *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *b;
    return 0;
}

/* Find the blocks of known types up to the first truncated one. */
static int scan_pem(scan *s, const unsigned char *data, size_t len)
{
    static const char begin[] = "-----BEGIN ";
    const size_t blen = sizeof begin - 1;
    size_t pos = 0;
    char endmark[LABEL_MAX + 16];

    s->trunc_off = SIZE_MAX;
    for (;;) {
        const unsigned char *b = find(data + pos, len - pos, begin);
        const unsigned char *lab, *e, *next, *end;
        size_t off, llen, body;
        block blk;
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
        if (llen == 0 || llen > LABEL_MAX || (size_t)(data + len - e) < 5 ||
            memcmp(e, "-----", 5)) {
            pos = off + 1; /* "-----BEGIN " in prose: not a boundary */
            continue;
        }
        body = (size_t)(e + 5 - data);
        memcpy(endmark, "-----END ", 9);
        memcpy(endmark + 9, lab, llen);
        memcpy(endmark + 9 + llen, "-----", 6);
        end = find(data + body, len - body, endmark);
        next = find(data + body, (end ? (size_t)(end - data) : len) - body, begin);
        if (!end || next) {
            s->trunc_off = off;
            memcpy(s->trunc_label, lab, llen);
            s->trunc_label[llen] = '\0';
            return 0;
        }
        blk = (block){data + body, lab, (size_t)(end - data) - body,
                      llen,        off, label_kind(lab, llen)};
        if (blk.kind != K_UNKNOWN && scan_push(s, &blk) < 0)
            return VET_ENOMEM;
        pos = (size_t)(end - data) + strlen(endmark);
    }
}

/* A single DER object: a certificate, else a private key, else a public key. */
static int parse_der(slot *out, const unsigned char *data, size_t len, const char *name)
{
    decoder d;
    EVP_PKEY *pk;
    const unsigned char *p = data;
    vet_cert *c = NULL;
    vet_key *k = NULL;
    int rc, priv;

    /* Every structure we accept is a SEQUENCE: do not feed a JPEG to three decoders. */
    if (data[0] != 0x30 || len > LONG_MAX)
        goto bad;
    if ((rc = decoder_init(&d)) == 0) {
        ERR_set_mark();
        rc = pki_cert_from_der(&c, &p, (long)len, 0, d.scratch);
        ERR_pop_to_mark();
    }
    decoder_free(&d);
    if (rc == 0) {
        if ((size_t)(p - data) != len) {
            vet_cert_free(c);
            return vet_error_set(VET_EINPUT, "%s: byte %zu: trailing data after DER certificate",
                                 name, (size_t)(p - data));
        }
        *out = (slot){c, 1};
        return 0;
    }
    if (rc != VET_EINPUT)
        return rc;
    priv = 1;
    if (!(pk = decode_key(K_PRIV, NULL, data, len))) {
        priv = 0;
        pk = decode_key(K_PUB, NULL, data, len);
    }
    if (!pk)
        goto bad;
    if ((rc = pki_key_new(&k, pk, priv)) < 0)
        return rc;
    *out = (slot){k, 0};
    return 0;
bad:
    return vet_error_set(
        VET_EINPUT, "%s: byte 0: neither PEM nor a DER certificate or key (%zu bytes)", name, len);
}

static void slot_free(slot *s)
{
    if (s->is_cert)
        vet_cert_free(s->obj);
    else
        vet_key_free(s->obj);
    s->obj = NULL;
}

/* Grow *arr to hold n + add pointers without publishing anything yet. */
static int reserve(void *arr, size_t n, size_t add)
{
    void **v, ***pa = arr;
    if (!add)
        return 0;
    if (n > SIZE_MAX / sizeof *v - add)
        return vet_error_set(VET_ENOMEM, "out of memory");
    v = realloc(*pa, (n + add) * sizeof *v);
    if (!v)
        return vet_error_set(VET_ENOMEM, "out of memory");
    *pa = v;
    return 0;
}

int vet_pki_parse(vet_pem *out, const unsigned char *data, size_t len, const char *name)
{
    scan sc = {0};
    slot *slots = NULL, one = {0};
    size_t nslots = 0, i, nc = 0, nk = 0, np = 0;
    int rc;

    if (!name)
        name = "input";
    for (i = 0; i < len && isspace(data[i]); i++)
        ;
    if (i == len)
        return vet_error_set(VET_EINPUT, "%s: byte 0: empty input", name);

    if (find(data, len, "-----BEGIN ")) {
        if ((rc = scan_pem(&sc, data, len)) < 0)
            goto done;
        nslots = sc.n;
        if (nslots && !(slots = calloc(nslots, sizeof *slots))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if (nslots && (rc = decode_all(sc.v, slots, nslots, name)) < 0)
            goto done;
        if (sc.trunc_off != SIZE_MAX) {
            rc = vet_error_set(VET_EINPUT, "%s: byte %zu: truncated PEM block '%s' (no END line)",
                               name, sc.trunc_off, sc.trunc_label);
            goto done;
        }
    } else {
        if ((rc = parse_der(&one, data, len, name)) < 0)
            goto done;
        slots = &one;
        nslots = 1;
    }

    for (i = 0; i < nslots; i++) {
        if (slots[i].is_cert)
            nc++;
        else if (vet_key_is_private(slots[i].obj))
            nk++;
        else
            np++;
    }
    /* Reserve all three first so that a failure cannot leave a half-merged result. */
    if ((rc = reserve(&out->certs, out->ncerts, nc)) < 0 ||
        (rc = reserve(&out->keys, out->nkeys, nk)) < 0 ||
        (rc = reserve(&out->pubkeys, out->npubkeys, np)) < 0)
        goto done;
    for (i = 0; i < nslots; i++) {
        if (slots[i].is_cert)
            out->certs[out->ncerts++] = slots[i].obj;
        else if (vet_key_is_private(slots[i].obj))
            out->keys[out->nkeys++] = slots[i].obj;
        else
            out->pubkeys[out->npubkeys++] = slots[i].obj;
        slots[i].obj = NULL;
    }
    rc = 0;

done:
    for (i = 0; i < nslots; i++)
        if (slots[i].obj)
            slot_free(&slots[i]);
    if (slots != &one)
        free(slots);
    free(sc.v);
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
            if (room >= ll + 5 && !memcmp(lab, labels[i].label, ll) &&
                !memcmp(lab + ll, "-----", 5))
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
