/* Certificates: decoding, the facts we report, comparisons and SAN matching. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "pki_int.h"
#include "vtime.h"

static const char hexl[] = "0123456789abcdef";
static const char hexu[] = "0123456789ABCDEF";

/* Strings from certificates end up in one-line reports and JSON: control bytes (and a NUL
 * that would silently shorten a CN or DNS name) become '?'. */
static char *dup_clean(const unsigned char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++)
        r[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
    r[n] = '\0';
    return r;
}

static char *asn1_utf8(const ASN1_STRING *s)
{
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, s);
    char *r;
    if (n < 0)
        return dup_clean((const unsigned char *)"", 0);
    r = dup_clean(u, (size_t)n);
    OPENSSL_free(u);
    return r;
}

/* RFC 2253 order (most specific first, like Go's pkix.Name.String), but UTF-8 kept as is
 * instead of OpenSSL's \XX escapes for bytes >= 0x80. */
static char *name_text(BIO *bio, const X509_NAME *name)
{
    char *mem = NULL;
    long n;
    (void)BIO_reset(bio);
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
        return NULL;
    n = BIO_get_mem_data(bio, &mem);
    if (n < 0)
        return NULL;
    return dup_clean((const unsigned char *)(mem ? mem : ""), (size_t)n);
}

static int name_values(const X509_NAME *name, int nid, vet_strv *all, char **last)
{
    int i = -1;
    while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0) {
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        char *s = asn1_utf8(v);
        if (!s)
            return VET_ENOMEM;
        if (last) {
            free(*last);
            *last = s;
        } else if (vet_strv_take(all, s) < 0) {
            return VET_ENOMEM;
        }
    }
    return 0;
}

static int load_sans(vet_cert *c)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(c->x509, NID_subject_alt_name, NULL, NULL);
    int rc = 0;
    if (!gens)
        return 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && rc == 0; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            const ASN1_STRING *s = g->d.dNSName;
            rc = vet_strv_take(&c->dns,
                               dup_clean(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)));
        } else if (g->type == GEN_IPADD) {
            const ASN1_STRING *s = g->d.iPAddress;
            char txt[INET6_ADDRSTRLEN];
            int n = ASN1_STRING_length(s);
            int af = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
            /* Other lengths are address+mask pairs (name constraints), not addresses. */
            if (af && inet_ntop(af, ASN1_STRING_get0_data(s), txt, sizeof txt))
                rc = vet_strv_push(&c->ips, txt);
        }
    }
    GENERAL_NAMES_free(gens);
    return rc < 0 ? VET_ENOMEM : 0;
}

static char *serial_hex(const ASN1_INTEGER *a)
{
    const unsigned char *d = ASN1_STRING_get0_data(a);
    size_t n = (size_t)ASN1_STRING_length(a);
    int neg = ASN1_STRING_type(a) == V_ASN1_NEG_INTEGER;
    char *r = malloc(2 * n + 4), *p = r;
    if (!r)
        return NULL;
    if (neg)
        *p++ = '-';
    if (n == 0) {
        *p++ = '0';
        *p++ = '0';
    }
    for (size_t i = 0; i < n; i++) {
        *p++ = hexl[d[i] >> 4];
        *p++ = hexl[d[i] & 15];
    }
    *p = '\0';
    return r;
}

static int asn1_epoch(int64_t *out, const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return -1;
    *out = vet_time_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                               tm.tm_sec);
    return 0;
}

static int is_weak_md(int md)
{
    return md == NID_sha1 || md == NID_md5 || md == NID_md5_sha1 || md == NID_md4 ||
           md == NID_md2 || md == NID_mdc2 || md == NID_ripemd160;
}

static void sig_facts(vet_cert *c)
{
    int nid = X509_get_signature_nid(c->x509);
    int md = NID_undef, pk = NID_undef, secbits = 0;
    uint32_t flags = 0;
    if (nid != NID_undef && OBJ_nid2ln(nid)) {
        snprintf(c->sig_alg, sizeof c->sig_alg, "%s", OBJ_nid2ln(nid));
    } else {
        const X509_ALGOR *alg = NULL;
        const ASN1_OBJECT *obj = NULL;
        X509_get0_signature(NULL, &alg, c->x509);
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
        if (!obj || OBJ_obj2txt(c->sig_alg, sizeof c->sig_alg, obj, 1) <= 0)
            snprintf(c->sig_alg, sizeof c->sig_alg, "unknown");
    }
    /* X509_get_signature_info also looks inside RSASSA-PSS parameters for the digest. */
    if (!X509_get_signature_info(c->x509, &md, &pk, &secbits, &flags))
        OBJ_find_sigid_algs(nid, &md, &pk);
    c->sig_weak = is_weak_md(md);
}

static void hex_colon(char *out, const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *out++ = hexu[d[i] >> 4];
        *out++ = hexu[d[i] & 15];
        if (i + 1 < n)
            *out++ = ':';
    }
    *out = '\0';
}

static int spki_facts(vet_cert *c, const EVP_MD *sha256)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->x509), &der);
    if (n <= 0)
        return VET_EINPUT;
    if (!EVP_Digest(der, (size_t)n, md, &mdlen, sha256, NULL) || mdlen != 32) {
        OPENSSL_free(der);
        return VET_EINPUT;
    }
    OPENSSL_free(der);
    memcpy(c->spki_hash, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++) {
        c->spki_hash[7 + 2 * i] = hexl[md[i] >> 4];
        c->spki_hash[8 + 2 * i] = hexl[md[i] & 15];
    }
    c->spki_hash[71] = '\0';
    return 0;
}

/* The facts of c->x509, whose DER encoding is der[0..len). On failure, what was wrong. */
static int cert_facts(vet_cert *c, const unsigned char *der, size_t len, BIO *scratch,
                      const EVP_MD *sha256, const char **what)
{
    unsigned int mdlen = 0;
    uint32_t exfl;
    /* The fingerprint is over the bytes as read: no re-encoding. */
    if (!EVP_Digest(der, len, c->der_sha256, &mdlen, sha256, NULL) || mdlen != 32) {
        *what = "SHA-256 failed";
        return VET_EINPUT;
    }
    hex_colon(c->sha256, c->der_sha256, 32);

    /* Caches the extensions in the X509 now, so that later concurrent verifications only
     * read it. */
    exfl = X509_get_extension_flags(c->x509);
    c->is_ca = (exfl & EXFLAG_BCONS) && (exfl & EXFLAG_CA);
    c->self_issued =
        X509_NAME_cmp(X509_get_issuer_name(c->x509), X509_get_subject_name(c->x509)) == 0;

    *what = "out of memory";
    c->subject = name_text(scratch, X509_get_subject_name(c->x509));
    c->issuer = name_text(scratch, X509_get_issuer_name(c->x509));
    c->serial = serial_hex(X509_get0_serialNumber(c->x509));
    if (!c->subject || !c->issuer || !c->serial)
        return VET_ENOMEM;
    if (name_values(X509_get_subject_name(c->x509), NID_commonName, NULL, &c->cn) < 0 ||
        name_values(X509_get_subject_name(c->x509), NID_organizationName, &c->orgs, NULL) < 0)
        return VET_ENOMEM;
    if (!c->cn && !(c->cn = strdup("")))
        return VET_ENOMEM;
    if (load_sans(c) < 0)
        return VET_ENOMEM;

    *what = "invalid validity time";
    if (asn1_epoch(&c->not_before, X509_get0_notBefore(c->x509)) < 0 ||
        asn1_epoch(&c->not_after, X509_get0_notAfter(c->x509)) < 0)
        return VET_EINPUT;
    *what = "unusable public key";
    if (spki_facts(c, sha256) < 0)
        return VET_EINPUT;
    pki_key_describe(X509_get0_pubkey(c->x509), c->key_type, &c->key_bits);
    if (!strcmp(c->key_type, "unknown")) {
        /* An algorithm OpenSSL cannot load (e.g. GOST): still name it. */
        const ASN1_OBJECT *obj = NULL;
        X509_PUBKEY_get0_param((ASN1_OBJECT **)&obj, NULL, NULL, NULL,
                               X509_get_X509_PUBKEY(c->x509));
        if (obj)
            OBJ_obj2txt(c->key_type, sizeof c->key_type, obj, 0);
    }
    sig_facts(c);
    return 0;
}

int pki_cert_from_der(vet_cert **out, const unsigned char **pp, long len, int aux, BIO *scratch)
{
    const unsigned char *start = *pp;
    const pki_ctx *ctx = pki_ctx_get();
    vet_cert *c = NULL;
    int rc = VET_EINPUT;
    const char *what = "not a DER certificate";

    *out = NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return vet_error_set(VET_ENOMEM, "out of memory");
    atomic_init(&c->refs, 1);
    /* Decoded in this thread's library context (its public key too): see ctx.c. */
    if (!(c->x509 = X509_new_ex(ctx->lib, NULL))) {
        rc = VET_ENOMEM;
        what = "out of memory";
        goto done;
    }
    if (!(aux ? d2i_X509_AUX(&c->x509, pp, len) : d2i_X509(&c->x509, pp, len))) {
        /* d2i_X509 freed and cleared c->x509; d2i_X509_AUX keeps it when only the aux part
         * fails. */
        X509_free(c->x509);
        c->x509 = NULL;
        goto done;
    }
    rc = cert_facts(c, start, (size_t)(*pp - start), scratch, pki_ctx_sha256(ctx), &what);

done:
    if (rc < 0) {
        vet_cert_free(c);
        return vet_error_set(rc, "%s", what);
    }
    *out = c;
    return 0;
}

int pki_cert_from_x509(vet_cert **out, X509 *x, const unsigned char *der, size_t len, BIO *scratch)
{
    const pki_ctx *ctx = pki_ctx_get();
    const char *what = "";
    vet_cert *c = calloc(1, sizeof *c);
    int rc;
    *out = NULL;
    if (!c) {
        X509_free(x);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    atomic_init(&c->refs, 1);
    c->x509 = x;
    if ((rc = cert_facts(c, der, len, scratch, pki_ctx_sha256(ctx), &what)) < 0) {
        vet_cert_free(c);
        return vet_error_set(rc, "%s", what);
    }
    *out = c;
    return 0;
}

void vet_cert_free(vet_cert *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    X509_free(c->x509);
    free(c->subject);
    free(c->issuer);
    free(c->cn);
    free(c->serial);
    vet_strv_free(&c->orgs);
    vet_strv_free(&c->dns);
    vet_strv_free(&c->ips);
    free(c);
}

void vet_cert_shed(vet_cert *c)
{
    /* Only the owner of the last reference may: others could be reading the X509. */
    if (c && atomic_load(&c->refs) == 1) {
        X509_free(c->x509);
        c->x509 = NULL;
    }
}

int vet_cert_shed_done(const vet_cert *c)
{
    return c && !c->x509;
}

vet_cert *vet_cert_ref(vet_cert *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

const char *vet_cert_subject(const vet_cert *c)
{
    return c->subject;
}
const char *vet_cert_issuer(const vet_cert *c)
{
    return c->issuer;
}
const char *vet_cert_cn(const vet_cert *c)
{
    return c->cn;
}
const vet_strv *vet_cert_orgs(const vet_cert *c)
{
    return &c->orgs;
}
const vet_strv *vet_cert_dns(const vet_cert *c)
{
    return &c->dns;
}
const vet_strv *vet_cert_ips(const vet_cert *c)
{
    return &c->ips;
}
const char *vet_cert_serial(const vet_cert *c)
{
    return c->serial;
}
int64_t vet_cert_not_before(const vet_cert *c)
{
    return c->not_before;
}
int64_t vet_cert_not_after(const vet_cert *c)
{
    return c->not_after;
}
int vet_cert_is_ca(const vet_cert *c)
{
    return c->is_ca;
}
const char *vet_cert_key_type(const vet_cert *c)
{
    return c->key_type;
}
int vet_cert_key_bits(const vet_cert *c)
{
    return c->key_bits;
}
const char *vet_cert_sig_alg(const vet_cert *c)
{
    return c->sig_alg;
}
int vet_cert_sig_weak(const vet_cert *c)
{
    return c->sig_weak;
}
const char *vet_cert_sha256(const vet_cert *c)
{
    return c->sha256;
}
const char *vet_cert_spki_hash(const vet_cert *c)
{
    return c->spki_hash;
}

int vet_cert_same_key(const vet_cert *a, const vet_cert *b)
{
    /* Same SPKI bytes is the common case; EVP_PKEY_eq also catches one EC point written
     * compressed and uncompressed. */
    if (!strcmp(a->spki_hash, b->spki_hash))
        return 1;
    if (!a->x509 || !b->x509)
        return 0; /* shed: the SPKI bytes are all that is left */
    const EVP_PKEY *ka = X509_get0_pubkey(a->x509), *kb = X509_get0_pubkey(b->x509);
    return ka && kb && pki_pkey_same(ka, kb);
}

int vet_cert_equal(const vet_cert *a, const vet_cert *b)
{
    return !memcmp(a->der_sha256, b->der_sha256, sizeof a->der_sha256);
}

int vet_cert_issued_by_name(const vet_cert *c, const vet_cert *ca)
{
    if (c == ca)
        return c->self_issued;
    /* A shed certificate keeps its names as text (RFC 2253), the same for equal DER names; the
     * canonical comparison (case, spaces) needs both X509s. */
    if (!c->x509 || !ca->x509)
        return !strcmp(c->issuer, ca->subject);
    return X509_NAME_cmp(X509_get_issuer_name(c->x509), X509_get_subject_name(ca->x509)) == 0;
}

/* IPv4 as its IPv4-mapped IPv6 form, so 10.0.0.1 and ::ffff:10.0.0.1 compare equal (Go's
 * net.IP.Equal, which kube components use for VerifyHostname, does the same). */
static int ip16(unsigned char out[16], const char *s)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        return 1;
    }
    return inet_pton(AF_INET6, s, out) == 1;
}

/* crypto/x509 rules: a wildcard is the whole left-most label and matches exactly one label;
 * comparison is case-insensitive and a trailing dot on the name is ignored. */
static int dns_match(const char *pattern, const char *host, size_t hlen)
{
    size_t plen = strlen(pattern);
    if (plen && pattern[plen - 1] == '.')
        plen--;
    if (plen == hlen && !strncasecmp(pattern, host, hlen))
        return 1;
    if (plen < 3 || pattern[0] != '*' || pattern[1] != '.')
        return 0;
    const char *dot = memchr(host, '.', hlen);
    if (!dot || dot == host)
        return 0;
    size_t rest = hlen - (size_t)(dot - host);
    return rest == plen - 1 && !strncasecmp(dot, pattern + 1, rest);
}

int vet_cert_covers(const vet_cert *c, const char *name)
{
    unsigned char want[16], have[16];
    char ipbuf[INET6_ADDRSTRLEN + 8];
    size_t n;
    if (!name || !*name)
        return 0;
    n = strlen(name);
    if (name[0] == '[' && n > 2 && name[n - 1] == ']' && n - 2 < sizeof ipbuf) {
        memcpy(ipbuf, name + 1, n - 2);
        ipbuf[n - 2] = '\0';
    } else if (n < sizeof ipbuf) {
        memcpy(ipbuf, name, n + 1);
    } else {
        ipbuf[0] = '\0';
    }
    if (ipbuf[0] && ip16(want, ipbuf)) {
        for (size_t i = 0; i < c->ips.n; i++)
            if (ip16(have, c->ips.v[i]) && !memcmp(want, have, 16))
                return 1;
        return 0;
    }
    if (name[n - 1] == '.')
        n--;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < c->dns.n; i++)
        if (dns_match(c->dns.v[i], name, n))
            return 1;
    return 0;
}
