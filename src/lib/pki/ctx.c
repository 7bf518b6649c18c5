/* Per-thread OpenSSL library contexts.
 *
 * OpenSSL 3.0 decodes every certificate's public key (and every key file) through
 * OSSL_DECODER_CTX_new_for_pkey, which takes the read/write lock of its library context's
 * method store several times per call. With one shared (default) context, two decoding threads
 * spend a third of their time on that lock and are slower than one. Each thread that decodes
 * therefore gets a context of its own from a small pool: a context is created on first use, with
 * the "default" provider and SHA-256 fetched once, handed to the live thread with the fewest
 * users (threads beyond the pool share), returned when the thread exits, and freed at exit.
 *
 * Objects from different contexts mix freely: verification and key comparison export keys to
 * the provider they need (see pkey_same in key.c for the one place that needs a fallback). */
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/provider.h>

#include "pki_int.h"

#define POOL 8

typedef struct {
    pki_ctx c;
    OSSL_PROVIDER *prov;
    int made;  /* creation attempted (c.lib may still be NULL if it failed) */
    int users; /* live threads holding this slot */
} slot;

static slot pool[POOL];
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t slot_key; /* value: slot index + 1, so the destructor runs */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok, atexit_done;
static atomic_int closed;

/* The process default context: used when a context cannot be made, and after exit began. */
static pki_ctx fallback;
static pthread_once_t fallback_once = PTHREAD_ONCE_INIT;

static _Thread_local const pki_ctx *mine;

/* This thread's private-key decoders, one per key type (see pki_ctx_decode_key). */
typedef struct {
    OSSL_DECODER_CTX *d;
    EVP_PKEY *out; /* where d puts what it decoded */
    int failed;    /* creation failed: decode without a cached context */
} kdec;

static const char *const kdec_types[] = {"RSA", "EC"};
static _Thread_local kdec kdecs[sizeof kdec_types / sizeof kdec_types[0]];

static void kdecs_free(void)
{
    for (size_t i = 0; i < sizeof kdecs / sizeof kdecs[0]; i++) {
        OSSL_DECODER_CTX_free(kdecs[i].d);
        EVP_PKEY_free(kdecs[i].out);
        memset(&kdecs[i], 0, sizeof kdecs[i]);
    }
}

static void fallback_init(void)
{
    fallback.lib = NULL;
    fallback.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const pki_ctx *default_ctx(void)
{
    pthread_once(&fallback_once, fallback_init);
    return &fallback;
}

const EVP_MD *pki_ctx_sha256(const pki_ctx *c)
{
    return c->sha256 ? c->sha256 : EVP_sha256();
}

static void release(void *v)
{
    uintptr_t i = (uintptr_t)v;
    kdecs_free(); /* runs in the exiting thread: its own decoders, made in its slot's context */
    if (!i || i > POOL)
        return;
    pthread_mutex_lock(&pool_mu);
    pool[i - 1].users--;
    pthread_mutex_unlock(&pool_mu);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&slot_key, release) == 0;
}

/* Runs before OpenSSL's own atexit cleanup: registered after the first OSSL_LIB_CTX_new, which
 * initialises OpenSSL (and registers that cleanup) if nothing did before. Objects decoded in a
 * context must be gone by now; kubevet frees everything before returning from main. */
static void pool_free(void)
{
    atomic_store(&closed, 1);
    kdecs_free(); /* the exiting thread's (other threads have been joined) */
    pthread_mutex_lock(&pool_mu);
    for (int i = 0; i < POOL; i++) {
        slot *s = &pool[i];
        EVP_MD_free(s->c.sha256);
        if (s->prov)
            OSSL_PROVIDER_unload(s->prov);
        OSSL_LIB_CTX_free(s->c.lib);
        s->c.sha256 = NULL;
        s->c.lib = NULL;
        s->prov = NULL;
    }
    pthread_mutex_unlock(&pool_mu);
    EVP_MD_free(fallback.sha256);
    fallback.sha256 = NULL;
}

static void slot_make(slot *s)
{
    s->made = 1;
    if (!(s->c.lib = OSSL_LIB_CTX_new()))
        return;
    if (!atexit_done)
        atexit_done = atexit(pool_free) == 0 ? 1 : -1;
    if (!(s->prov = OSSL_PROVIDER_load(s->c.lib, "default"))) {
        OSSL_LIB_CTX_free(s->c.lib);
        s->c.lib = NULL;
        return;
    }
    s->c.sha256 = EVP_MD_fetch(s->c.lib, "SHA256", NULL);
}

const pki_ctx *pki_ctx_get(void)
{
    int best = -1;
    if (mine && !atomic_load_explicit(&closed, memory_order_relaxed))
        return mine;
    if (atomic_load(&closed))
        return default_ctx();
    pthread_once(&key_once, make_key);
    if (!key_ok)
        return default_ctx();
    pthread_mutex_lock(&pool_mu);
    for (int i = 0; i < POOL; i++)
        if ((!pool[i].made || pool[i].c.lib) && (best < 0 || pool[i].users < pool[best].users))
            best = i; /* the first free slot, else the least shared; failed slots are skipped */
    if (best >= 0 && !pool[best].made)
        slot_make(&pool[best]);
    /* Without an atexit handler the contexts could not be freed: use the default one. */
    if (best < 0 || !pool[best].c.lib || atexit_done != 1) {
        pthread_mutex_unlock(&pool_mu);
        return default_ctx();
    }
    pool[best].users++;
    pthread_mutex_unlock(&pool_mu);
    if (pthread_setspecific(slot_key, (void *)(uintptr_t)(best + 1)) != 0) {
        release((void *)(uintptr_t)(best + 1));
        return default_ctx();
    }
    mine = &pool[best].c;
    return mine;
}

/* OpenSSL 3.0 builds a decoder chain for every d2i_PrivateKey_ex call (0.2 ms: most of loading
 * a key); a context made once per thread and key type decodes a key in 20 us. */
EVP_PKEY *pki_ctx_decode_key(const char *type, const unsigned char *der, size_t len)
{
    const pki_ctx *c = pki_ctx_get();
    size_t i = 0;
    kdec *k;
    EVP_PKEY *pk;
    while (i < sizeof kdec_types / sizeof kdec_types[0] && strcmp(kdec_types[i], type))
        i++;
    k = i < sizeof kdecs / sizeof kdecs[0] ? &kdecs[i] : NULL;
    if (k && !k->d && !k->failed && mine == c)
        k->failed = !(k->d = OSSL_DECODER_CTX_new_for_pkey(&k->out, "DER", "type-specific", type,
                                                           EVP_PKEY_KEYPAIR, c->lib, NULL));
    if (!k || !k->d || mine != c) {
        const unsigned char *p = der;
        return len > LONG_MAX ? NULL
                              : d2i_PrivateKey_ex(strcmp(type, "EC") ? EVP_PKEY_RSA : EVP_PKEY_EC,
                                                  NULL, &p, (long)len, c->lib, NULL);
    }
    EVP_PKEY_free(k->out);
    k->out = NULL;
    if (!OSSL_DECODER_from_data(k->d, &der, &len)) {
        EVP_PKEY_free(k->out);
        k->out = NULL;
        return NULL;
    }
    pk = k->out;
    k->out = NULL;
    return pk;
}
