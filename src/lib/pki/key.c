/* Private and public keys: description and pairing. Key material never leaves OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "error.h"
#include "pki_int.h"

void pki_key_describe(const EVP_PKEY *pkey, char type[PKI_TYPE_MAX], int *bits)
{
    char group[64]; /* curve names are short; PKI_TYPE_MAX leaves room for "EC-" */
    size_t glen = 0;
    *bits = 0;
    if (!pkey) {
        snprintf(type, PKI_TYPE_MAX, "unknown");
        return;
    }
    *bits = EVP_PKEY_get_bits(pkey);
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        snprintf(type, PKI_TYPE_MAX, "RSA-%d", *bits);
        return;
    case EVP_PKEY_RSA_PSS:
        snprintf(type, PKI_TYPE_MAX, "RSA-PSS-%d", *bits);
        return;
    case EVP_PKEY_DSA:
        snprintf(type, PKI_TYPE_MAX, "DSA-%d", *bits);
        return;
    case EVP_PKEY_ED25519:
        snprintf(type, PKI_TYPE_MAX, "Ed25519");
        return;
    case EVP_PKEY_ED448:
        snprintf(type, PKI_TYPE_MAX, "Ed448");
        return;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) && glen) {
            /* "prime256v1" -> NIST "P-256" -> "EC-P256"; other curves keep their name. */
            const char *nist = EC_curve_nid2nist(OBJ_txt2nid(group));
            if (nist && !strncmp(nist, "P-", 2))
                snprintf(type, PKI_TYPE_MAX, "EC-P%s", nist + 2);
            else
                snprintf(type, PKI_TYPE_MAX, "EC-%s", group);
        } else {
            snprintf(type, PKI_TYPE_MAX, "EC");
        }
        return;
    default: {
        const char *tn = EVP_PKEY_get0_type_name(pkey);
        snprintf(type, PKI_TYPE_MAX, "%s", tn ? tn : "unknown");
        return;
    }
    }
}

int pki_key_new(vet_key **out, EVP_PKEY *pkey, int is_private)
{
    vet_key *k = calloc(1, sizeof *k);
    *out = NULL;
    if (!k) {
        EVP_PKEY_free(pkey);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    k->pkey = pkey;
    k->is_private = is_private;
    pki_key_describe(pkey, k->type, &k->bits);
    *out = k;
    return 0;
}

void vet_key_free(vet_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const char *vet_key_type(const vet_key *k)
{
    return k->type;
}
int vet_key_bits(const vet_key *k)
{
    return k->bits;
}
int vet_key_is_private(const vet_key *k)
{
    return k->is_private;
}

static int spki_der_equal(const EVP_PKEY *a, const EVP_PKEY *b)
{
    unsigned char *da = NULL, *db = NULL;
    int na = i2d_PUBKEY(a, &da), nb = i2d_PUBKEY(b, &db);
    int eq = na > 0 && na == nb && !memcmp(da, db, (size_t)na);
    OPENSSL_free(da);
    OPENSSL_free(db);
    return eq;
}

/* 1 when the public half of `k` has this "sha256:<hex>" SubjectPublicKeyInfo hash. */
static int spki_hash_equal(const EVP_PKEY *k, const char *want)
{
    static const char hexl[] = "0123456789abcdef";
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char got[72];
    int n = i2d_PUBKEY((EVP_PKEY *)k, &der), ok;
    ok = n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32;
    OPENSSL_free(der);
    if (!ok)
        return 0;
    memcpy(got, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++) {
        got[7 + 2 * i] = hexl[md[i] >> 4];
        got[8 + 2 * i] = hexl[md[i] & 15];
    }
    got[71] = '\0';
    return !strcmp(got, want);
}

int pki_pkey_same(const EVP_PKEY *a, const EVP_PKEY *b)
{
    /* EVP_PKEY_eq compares the public halves only (OpenSSL 3 selection "public key"), and
     * exports a key to the other's provider when they differ (keys decoded in different
     * library contexts, see ctx.c). Should it find the two not comparable (negative), the
     * SubjectPublicKeyInfo bytes decide: that is what "same key" means. */
    int r;
    ERR_set_mark();
    r = EVP_PKEY_eq(a, b);
    if (r < 0)
        r = spki_der_equal(a, b);
    ERR_pop_to_mark();
    return r == 1;
}

int vet_key_matches_cert(const vet_key *k, const vet_cert *c)
{
    const EVP_PKEY *pub = c->x509 ? X509_get0_pubkey(c->x509) : NULL;
    if (!c->x509)
        return spki_hash_equal(k->pkey, vet_cert_spki_hash(c)); /* shed: its SPKI hash */
    return pub && pki_pkey_same(k->pkey, pub);
}

int vet_key_matches_pub(const vet_key *k, const vet_key *pub)
{
    return pki_pkey_same(k->pkey, pub->pkey);
}
