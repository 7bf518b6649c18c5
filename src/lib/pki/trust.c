/* Chain verification with OpenSSL's verifier. One X509_STORE, built once and then only read;
 * each verification gets its own X509_STORE_CTX, which is what makes concurrent use safe. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "error.h"
#include "pki_int.h"

struct vet_trust {
    X509_STORE *store;
};

int vet_trust_new(vet_trust **out, vet_cert *const *cas, size_t ncas)
{
    vet_trust *t = NULL;
    int rc = VET_ENOMEM;

    *out = NULL;
    t = calloc(1, sizeof *t);
    if (!t || !(t->store = X509_STORE_new()))
        goto done;
    /* Expiry is a finding judged by the checks against their own clock, not a verify error;
     * partial chains let an intermediate (e.g. a front-proxy or etcd CA signed by a corporate
     * root) act as an anchor, as kube components accept any cert in their CA bundle. */
    if (!X509_STORE_set_flags(t->store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME))
        goto done;
    for (size_t i = 0; i < ncas; i++)
        if (cas[i] && cas[i]->x509 && !X509_STORE_add_cert(t->store, cas[i]->x509))
            goto done;
    rc = 0;

done:
    ERR_clear_error();
    if (rc < 0) {
        vet_trust_free(t);
        return vet_error_set(rc, "out of memory building the trust store");
    }
    *out = t;
    return 0;
}

int vet_trust_verify(const vet_trust *t, const vet_cert *leaf, vet_cert *const *untrusted,
                     size_t nuntrusted, char *why, size_t whylen)
{
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *chain = NULL;
    const char *reason = "out of memory";
    int ok = 0, err, depth = -1;

    if (why && whylen)
        why[0] = '\0';
    if (!t || !leaf || !leaf->x509) {
        reason = "no certificate or trust store";
        goto done;
    }
    if (nuntrusted) {
        if (nuntrusted > INT32_MAX || !(chain = sk_X509_new_reserve(NULL, (int)nuntrusted)))
            goto done;
        for (size_t i = 0; i < nuntrusted; i++)
            if (untrusted[i] && untrusted[i]->x509)
                sk_X509_push(chain, untrusted[i]->x509); /* reserved: cannot fail */
    }
    /* This thread's library context for what the verifier fetches (ctx.c); signatures are
     * checked in each certificate's own context. */
    if (!(ctx = X509_STORE_CTX_new_ex(pki_ctx_get()->lib, NULL)) ||
        !X509_STORE_CTX_init(ctx, t->store, leaf->x509, chain))
        goto done;
    if (X509_verify_cert(ctx) == 1) {
        ok = 1;
        goto done;
    }
    err = X509_STORE_CTX_get_error(ctx);
    depth = X509_STORE_CTX_get_error_depth(ctx);
    reason = err == X509_V_OK ? "verification failed" : X509_verify_cert_error_string(err);

done:
    if (!ok && why && whylen) {
        if (depth > 0)
            snprintf(why, whylen, "%s (depth %d)", reason, depth);
        else
            snprintf(why, whylen, "%s", reason);
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(chain); /* the certificates belong to their vet_cert */
    ERR_clear_error();
    return ok;
}

void vet_trust_free(vet_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    free(t);
}
