/* Internals shared by the pki sources (pem.c, cert.c, key.c, trust.c). Not installed. */
#ifndef KV_PKI_INT_H
#define KV_PKI_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kubevet/pki.h"
#include "strv.h"

#define PKI_TYPE_MAX 80 /* "RSA-PSS-16384", "EC-brainpoolP512r1", or an algorithm OID */

struct vet_cert {
    atomic_int refs;
    X509 *x509;
    /* Everything below is computed once in pki_cert_from_der and never changes: the
     * accessors hand these out without locks. */
    char *subject, *issuer, *cn, *serial;
    vet_strv orgs, dns, ips;
    int64_t not_before, not_after;
    int is_ca, key_bits, sig_weak;
    int self_issued; /* issuer name == subject name (X509_NAME_cmp), for vet_cert_shed */
    char key_type[PKI_TYPE_MAX];
    char sig_alg[96];
    unsigned char der_sha256[32];
    char sha256[96];    /* 32 * "XX:" - 1 + NUL */
    char spki_hash[72]; /* "sha256:" + 64 hex + NUL */
};

struct vet_key {
    EVP_PKEY *pkey;
    int is_private, bits;
    char type[PKI_TYPE_MAX];
};

/* The calling thread's OpenSSL library context (ctx.c): decode with it, so that threads do not
 * contend on one method store. `lib` NULL means the default context. Never NULL; lives until
 * exit. sha256 is fetched once per context (an implicit fetch per digest costs a lock and a
 * lookup); use pki_ctx_sha256, which falls back to EVP_sha256() if the fetch failed. */
typedef struct {
    OSSL_LIB_CTX *lib;
    EVP_MD *sha256;
} pki_ctx;

const pki_ctx *pki_ctx_get(void);

/* A DER private key of `type` ("RSA": PKCS#1, "EC": SEC1) decoded in this thread's context by a
 * decoder the thread keeps (ctx.c); NULL when the bytes are not such a key. */
EVP_PKEY *pki_ctx_decode_key(const char *type, const unsigned char *der, size_t len);
const EVP_MD *pki_ctx_sha256(const pki_ctx *c);

/* Decode one DER certificate from *pp (advancing it), len bytes available. `aux` selects the
 * OpenSSL "TRUSTED CERTIFICATE" form. `scratch` is a memory BIO reused for name printing.
 * VET_EINPUT when the DER is not a certificate; the message has no file name or offset. */
int pki_cert_from_der(vet_cert **out, const unsigned char **pp, long len, int aux, BIO *scratch);

/* A vet_cert of a certificate built in memory (x taken, also on failure), der being its
 * encoding: the facts without decoding it again (OpenSSL 3.0 decodes the public key of every
 * d2i_X509 through a fresh provider decoder context). */
int pki_cert_from_x509(vet_cert **out, X509 *x, const unsigned char *der, size_t len,
                       BIO *scratch);

/* Same public key: EVP_PKEY_eq, or equal SubjectPublicKeyInfo DER when the keys cannot be
 * compared directly (e.g. held by providers of different library contexts). */
int pki_pkey_same(const EVP_PKEY *a, const EVP_PKEY *b);

/* Wrap pkey (ownership taken, also on failure). */
int pki_key_new(vet_key **out, EVP_PKEY *pkey, int is_private);

/* A new RSA key of `bits` bits (even, >= 1024), e = 65537, made by FIPS 186-4 B.3.3 and checked
 * by a sign/verify round (rsagen.c); NULL on failure, with OpenSSL's error queue. */
EVP_PKEY *pki_rsa_generate(OSSL_LIB_CTX *lib, int bits);

/* "RSA-2048", "EC-P256", "Ed25519", ... and the size in bits; pkey may be NULL. */
void pki_key_describe(const EVP_PKEY *pkey, char type[PKI_TYPE_MAX], int *bits);

#endif
