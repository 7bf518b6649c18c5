/* RSA key generation for renewals: FIPS 186-4 appendix B.3.3 ("random probable primes"),
 * with OpenSSL's own prime generator and key import.
 *
 * Why not EVP_PKEY_keygen: OpenSSL 3.0 makes every two-prime key of 2048 bits or more with
 * FIPS 186-4 B.3.6 (primes derived from auxiliary primes, SP 800-56B), which costs about three
 * times as much: 290-350 ms a key on the 2-core build machine against 105 ms here, and a
 * renewal of a kubeadm node makes eleven. B.3.3 is the other method FIPS 186-4 approves and
 * the one Go's crypto/rsa uses, so the keys are of the kind kubeadm itself makes.
 *
 * What B.3.3 asks, and where it is met:
 *  - p and q random primes of nlen/2 bits, at least sqrt(2) * 2^(nlen/2 - 1): BN_generate_prime_ex2
 *    sets the two top bits (p >= 1.5 * 2^(nlen/2 - 1)) and runs 64 Miller-Rabin rounds at
 *    these sizes (FIPS asks for 5);
 *  - gcd(p - 1, e) = gcd(q - 1, e) = 1, and |p - q| > 2^(nlen/2 - 100);
 *  - d = e^-1 mod lcm(p - 1, q - 1) with 2^(nlen/2) < d (SP 800-56B 6.2.1).
 * The key is imported with EVP_PKEY_fromdata and must pass a sign/verify round before it is
 * used (the pairwise consistency test of FIPS 140). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "pki_int.h"

/* Secret numbers are cleared when freed and never used in variable-time arithmetic. */
static BIGNUM *secret(BN_CTX *bc)
{
    BIGNUM *b = BN_CTX_get(bc);
    if (b)
        BN_set_flags(b, BN_FLG_CONSTTIME);
    return b;
}

/* One prime of `bits` bits with gcd(p - 1, e) = 1; pm1 receives p - 1. */
static int prime_for(BIGNUM *p, BIGNUM *pm1, int bits, const BIGNUM *e, BIGNUM *tmp, BN_CTX *bc)
{
    for (int tries = 0; tries < 100; tries++) {
        if (!BN_generate_prime_ex2(p, bits, 0, NULL, NULL, NULL, bc) ||
            !BN_sub(pm1, p, BN_value_one()) || !BN_gcd(tmp, pm1, e, bc))
            return 0;
        if (BN_is_one(tmp))
            return 1;
    }
    return 0;
}

/* The pairwise consistency test: a signature made with the new key verifies with it. */
static int pairwise_ok(EVP_PKEY *pk, OSSL_LIB_CTX *lib)
{
    unsigned char md[32], sig[1024];
    size_t siglen = sizeof sig;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(lib, pk, NULL);
    int ok = c && RAND_bytes(md, sizeof md) == 1 && EVP_PKEY_sign_init(c) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
             EVP_PKEY_sign(c, sig, &siglen, md, sizeof md) == 1 && EVP_PKEY_verify_init(c) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
             EVP_PKEY_verify(c, sig, siglen, md, sizeof md) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

static EVP_PKEY *import(OSSL_LIB_CTX *lib, BIGNUM *const v[8])
{
    static const char *const names[8] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = NULL;
    EVP_PKEY *pk = NULL;
    int ok = b != NULL;
    for (int i = 0; ok && i < 8; i++)
        ok = OSSL_PARAM_BLD_push_BN(b, names[i], v[i]);
    if (ok && (params = OSSL_PARAM_BLD_to_param(b)) &&
        (c = EVP_PKEY_CTX_new_from_name(lib, "RSA", NULL)) && EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, &pk, EVP_PKEY_KEYPAIR, params) == 1 && !pairwise_ok(pk, lib)) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params); /* the secret numbers are in its secure-heap part, cleared */
    OSSL_PARAM_BLD_free(b);
    return pk;
}

EVP_PKEY *pki_rsa_generate(OSSL_LIB_CTX *lib, int bits)
{
    BN_CTX *bc = BN_CTX_secure_new_ex(lib);
    BIGNUM *p, *q, *pm1, *qm1, *n, *e, *d, *dp, *dq, *qinv, *lcm, *g, *t, *minpq, *mind;
    EVP_PKEY *pk = NULL;
    int half = bits / 2;
    if (!bc || bits % 2 || bits < 1024)
        goto done;
    BN_CTX_start(bc);
    p = secret(bc), q = secret(bc), pm1 = secret(bc), qm1 = secret(bc), n = BN_CTX_get(bc);
    e = BN_CTX_get(bc), d = secret(bc), dp = secret(bc), dq = secret(bc), qinv = secret(bc);
    lcm = secret(bc), g = secret(bc), t = secret(bc), minpq = BN_CTX_get(bc), mind = BN_CTX_get(bc);
    if (!mind || !BN_set_word(e, RSA_F4) || !BN_lshift(minpq, BN_value_one(), half - 100) ||
        !BN_lshift(mind, BN_value_one(), half))
        goto end;
    for (int tries = 0; tries < 100 && !pk; tries++) {
        if (!prime_for(p, pm1, half, e, t, bc) || !prime_for(q, qm1, half, e, t, bc) ||
            !BN_sub(t, p, q))
            goto end;
        BN_set_negative(t, 0);
        if (BN_cmp(t, minpq) <= 0)
            continue; /* p and q too close: B.3.3 step 5.4 */
        /* lcm(p - 1, q - 1) = (p - 1)(q - 1) / gcd(p - 1, q - 1) */
        if (!BN_mul(n, p, q, bc) || !BN_gcd(g, pm1, qm1, bc) || !BN_mul(t, pm1, qm1, bc) ||
            !BN_div(lcm, NULL, t, g, bc) || !BN_mod_inverse(d, e, lcm, bc))
            goto end;
        if (BN_num_bits(n) != bits || BN_cmp(d, mind) <= 0)
            continue;
        if (!BN_mod(dp, d, pm1, bc) || !BN_mod(dq, d, qm1, bc) || !BN_mod_inverse(qinv, q, p, bc))
            goto end;
        {
            BIGNUM *const v[8] = {n, e, d, p, q, dp, dq, qinv};
            if (!(pk = import(lib, v)))
                goto end;
        }
    }
end : {
    BIGNUM *const secrets[] = {p, q, pm1, qm1, d, dp, dq, qinv, lcm, g, t};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (secrets[i])
            BN_clear(secrets[i]);
}
    BN_CTX_end(bc);
done:
    BN_CTX_free(bc);
    return pk;
}
