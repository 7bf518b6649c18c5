/* Issuing leaf certificates from the CA on disk, with OpenSSL 3's EVP/X509 APIs (no `openssl`
 * processes: a renewal of a whole node is a few milliseconds of signing plus key generation). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "pki_int.h"

int vet_key_generate(vet_key **out, const char *type)
{
    const pki_ctx *ctx = pki_ctx_get();
    EVP_PKEY *pk = NULL;
    *out = NULL;
    if (!strncmp(type, "RSA-", 4) && strncmp(type, "RSA-PSS", 7)) {
        long bits = strtol(type + 4, NULL, 10);
        /* Never weaker than kubeadm's default: a renewal must not add a KV111 finding. */
        if (bits < 2048)
            bits = 2048;
        if (bits > 8192 || bits % 2)
            return vet_error_set(VET_EINPUT,
                                 "key type %s: kubevet makes RSA keys of an even number of bits "
                                 "up to 8192",
                                 type);
        pk = pki_rsa_generate(ctx->lib, (int)bits); /* rsagen.c: why not EVP_PKEY_keygen */
    } else if (!strcmp(type, "EC-P256")) {
        pk = EVP_PKEY_Q_keygen(ctx->lib, NULL, "EC", "P-256");
    } else if (!strcmp(type, "EC-P384")) {
        pk = EVP_PKEY_Q_keygen(ctx->lib, NULL, "EC", "P-384");
    } else if (!strcmp(type, "Ed25519")) {
        pk = EVP_PKEY_Q_keygen(ctx->lib, NULL, "ED25519");
    } else {
        return vet_error_set(VET_EINPUT,
                             "key type %s: kubevet makes RSA, EC-P256, EC-P384 and "
                             "Ed25519 keys only",
                             type);
    }
    if (!pk) {
        const char *why = ERR_reason_error_string(ERR_get_error());
        return vet_error_set(VET_EIO, "key generation (%s) failed: %s", type,
                             why ? why : "no reason given by OpenSSL");
    }
    return pki_key_new(out, pk, 1);
}

static int bio_take(char **out, size_t *len, BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n <= 0 || !(*out = malloc((size_t)n + 1)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    memcpy(*out, p, (size_t)n);
    (*out)[n] = '\0';
    *len = (size_t)n;
    OPENSSL_cleanse(p, (size_t)n);
    return 0;
}

int vet_key_to_pem(char **out, size_t *len, const vet_key *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    int base, ok, rc;
    *out = NULL;
    *len = 0;
    if (!b)
        return vet_error_set(VET_ENOMEM, "out of memory");
    base = EVP_PKEY_get_base_id(k->pkey);
    /* kubeadm (keyutil) and cfssl write RSA as PKCS#1 and ECDSA as SEC1. */
    if (base == EVP_PKEY_RSA || base == EVP_PKEY_EC)
        ok = PEM_write_bio_PrivateKey_traditional(b, k->pkey, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL);
    rc = ok ? bio_take(out, len, b) : vet_error_set(VET_EIO, "cannot encode a %s key", k->type);
    BIO_free(b);
    return rc;
}

int vet_pki_base64(char **out, const void *data, size_t len)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (len > (size_t)1 << 30 || !(*out = malloc(need)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    EVP_EncodeBlock((unsigned char *)*out, data, (int)len);
    return 0;
}

int vet_cert_to_pem(char **out, size_t *len, const vet_cert *c)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc;
    *out = NULL;
    *len = 0;
    if (!b)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!c->x509) {
        BIO_free(b);
        return vet_error_set(VET_EINPUT, "%s: only its facts were kept (vet_cert_shed)",
                             vet_cert_subject(c));
    }
    rc = PEM_write_bio_X509(b, c->x509) ? bio_take(out, len, b)
                                        : vet_error_set(VET_EIO, "cannot encode a certificate");
    BIO_free(b);
    return rc;
}

/* Copy one extension of the old certificate as it was (criticality included). */
static int copy_ext(X509 *dst, const X509 *src, int nid)
{
    int at = X509_get_ext_by_NID(src, nid, -1);
    if (at < 0)
        return 1;
    return X509_add_ext(dst, X509_get_ext(src, at), -1);
}

static int add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *e;
    int ok;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    if (!(e = X509V3_EXT_conf_nid(NULL, &v3, nid, value)))
        return 0;
    ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

static int add_sans(X509 *x, const vet_strv *dns, const vet_strv *ips)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int ok = gens != NULL;
    for (size_t i = 0; ok && dns && i < dns->n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ok = g && s && ASN1_STRING_set(s, dns->v[i], (int)strlen(dns->v[i]));
        if (ok) {
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
            s = NULL;
            ok = sk_GENERAL_NAME_push(gens, g) > 0;
            if (ok)
                g = NULL;
        }
        ASN1_IA5STRING_free(s);
        GENERAL_NAME_free(g);
    }
    for (size_t i = 0; ok && ips && i < ips->n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(ips->v[i]);
        if (!ip) {
            GENERAL_NAME_free(g);
            sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free);
            return vet_error_set(VET_EINPUT, "\"%s\" is not an IP address", ips->v[i]);
        }
        ok = g != NULL;
        if (ok) {
            GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
            ip = NULL;
            ok = sk_GENERAL_NAME_push(gens, g) > 0;
            if (ok)
                g = NULL;
        }
        ASN1_OCTET_STRING_free(ip);
        GENERAL_NAME_free(g);
    }
    if (ok && sk_GENERAL_NAME_num(gens) > 0)
        ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE) == 1;
    sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free);
    return ok ? 0 : vet_error_set(VET_ENOMEM, "cannot build the SAN extension");
}

static int set_subject(X509 *x, const vet_issue_req *r)
{
    X509_NAME *n;
    int ok;
    if (!r->cn)
        return X509_set_subject_name(x, X509_get_subject_name(r->tmpl->x509));
    /* O before CN, as the kubelet's CSR and kubeadm write it. */
    if (!(n = X509_NAME_new()))
        return 0;
    ok = 1;
    for (size_t i = 0; ok && r->orgs && i < r->orgs->n; i++)
        ok = X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)r->orgs->v[i],
                                        -1, -1, 0);
    if (ok)
        ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)r->cn, -1,
                                        -1, 0);
    if (ok)
        ok = X509_set_subject_name(x, n);
    X509_NAME_free(n);
    return ok;
}

/* The public key X509_set_pubkey is given. OpenSSL 3.0 sets a provider-held key by encoding it
 * and decoding the result again, each through a fresh encoder or decoder context (0.4 ms, a
 * third of a --keep-key renewal's signing time); a built-in RSA key read by d2i_PublicKey from
 * the old certificate's SubjectPublicKeyInfo is set in microseconds. That is the same key
 * whenever the renewal keeps it. *tmp is what the caller frees. */
static EVP_PKEY *subject_key(const vet_issue_req *r, EVP_PKEY **tmp)
{
    X509_PUBKEY *xp = X509_get_X509_PUBKEY(r->tmpl->x509);
    ASN1_OBJECT *alg = NULL;
    const unsigned char *bits = NULL;
    int len = 0;
    *tmp = NULL;
    if (EVP_PKEY_get_base_id(r->key->pkey) == EVP_PKEY_RSA &&
        X509_PUBKEY_get0_param(&alg, &bits, &len, NULL, xp) &&
        OBJ_obj2nid(alg) == NID_rsaEncryption && vet_key_matches_cert(r->key, r->tmpl))
        *tmp = d2i_PublicKey(EVP_PKEY_RSA, NULL, &bits, len);
    return *tmp ? *tmp : r->key->pkey;
}

int vet_cert_issue(vet_cert **out, const vet_issue_req *r)
{
    X509 *x = NULL;
    BIGNUM *bn = NULL;
    BIO *scratch = NULL;
    unsigned char serial[16], *der = NULL;
    const EVP_MD *md = NULL;
    EVP_PKEY *pub_tmp = NULL;
    int rc = 0, len, cabase;
    *out = NULL;
    if (!r->ca->x509 || !r->tmpl->x509)
        return vet_error_set(VET_EINPUT, "%s: only its facts were kept (vet_cert_shed)",
                             vet_cert_subject(r->ca->x509 ? r->tmpl : r->ca));
    if (!vet_cert_is_ca(r->ca))
        return vet_error_set(VET_EINPUT, "signer %s is not a CA", vet_cert_subject(r->ca));
    if (!vet_key_matches_cert(r->ca_key, r->ca))
        return vet_error_set(VET_EINPUT, "the key given for CA %s is not that CA's key",
                             vet_cert_subject(r->ca));
    if (r->not_after > vet_cert_not_after(r->ca))
        return vet_error_set(VET_EINPUT, "CA %s expires before the requested notAfter",
                             vet_cert_subject(r->ca));
    if (!(x = X509_new()) || !(bn = BN_new()) || !(scratch = BIO_new(BIO_s_mem()))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* A positive 128-bit random serial (RFC 5280 allows up to 20 octets). */
    if (RAND_bytes(serial, sizeof serial) != 1) {
        rc = vet_error_set(VET_EIO, "no randomness for a serial number");
        goto done;
    }
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    if (!BN_bin2bn(serial, sizeof serial, bn) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, X509_VERSION_3) ||
        !X509_set_issuer_name(x, X509_get_subject_name(r->ca->x509)) || !set_subject(x, r) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)r->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)r->not_after) ||
        !X509_set_pubkey(x, subject_key(r, &pub_tmp)) ||
        !copy_ext(x, r->tmpl->x509, NID_basic_constraints) ||
        !copy_ext(x, r->tmpl->x509, NID_key_usage) ||
        !copy_ext(x, r->tmpl->x509, NID_ext_key_usage)) {
        rc = vet_error_set(VET_EIO, "cannot build the certificate: %s",
                           ERR_reason_error_string(ERR_get_error()));
        goto done;
    }
    /* Key identifiers only where the old certificate had them: kubeadm's leaves carry the
     * authority key id, and some verifiers (Go's among them) use it to pick the CA. */
    if ((X509_get_ext_by_NID(r->tmpl->x509, NID_subject_key_identifier, -1) >= 0 &&
         !add_conf_ext(x, r->ca->x509, NID_subject_key_identifier, "hash")) ||
        (X509_get_ext_by_NID(r->tmpl->x509, NID_authority_key_identifier, -1) >= 0 &&
         !add_conf_ext(x, r->ca->x509, NID_authority_key_identifier, "keyid:always"))) {
        rc = vet_error_set(VET_EIO, "cannot add key identifiers: %s",
                           ERR_reason_error_string(ERR_get_error()));
        goto done;
    }
    if ((rc = add_sans(x, r->dns, r->ips)))
        goto done;
    cabase = EVP_PKEY_get_base_id(r->ca_key->pkey);
    if (cabase != EVP_PKEY_ED25519 && cabase != EVP_PKEY_ED448)
        md = EVP_sha256();
    if (!X509_sign(x, r->ca_key->pkey, md)) {
        rc = vet_error_set(VET_EIO, "signing with CA %s failed: %s", vet_cert_subject(r->ca),
                           ERR_reason_error_string(ERR_get_error()));
        goto done;
    }
    if ((len = i2d_X509(x, &der)) <= 0) {
        rc = vet_error_set(VET_EIO, "cannot encode the new certificate");
        goto done;
    }
    /* The X509 built here is the certificate: it keeps the signing key's public half, so
     * nothing needs decoding again. */
    rc = pki_cert_from_x509(out, x, der, (size_t)len, scratch);
    x = NULL;
done:
    EVP_PKEY_free(pub_tmp);
    OPENSSL_free(der);
    BIO_free(scratch);
    BN_free(bn);
    X509_free(x);
    return rc;
}
