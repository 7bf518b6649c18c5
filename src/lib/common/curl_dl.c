/* libcurl, loaded on first use. Linking it would map libcurl's ~30 dependencies (GnuTLS,
 * LDAP, Kerberos, ...) and run their constructors in every kubevet process: about 6 ms, which
 * is most of the 15 ms budget of an offline `kubevet check`. Only the commands that talk to
 * etcd pay for it now (git keeps libcurl out of its main binary for the same reason). */
/* CURLOPT_PROTOCOLS is the fallback for libcurl < 7.85 at run time: not a deprecation bug. */
#define CURL_DISABLE_DEPRECATION 1
#include <dlfcn.h>
#include <pthread.h>

#include "curl_dl.h"

static vet_curl_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Stand-ins when libcurl cannot be loaded: every handle fails to start, with a reason. */
static CURL *no_init(void)
{
    return NULL;
}

static CURLcode no_global(long flags)
{
    (void)flags;
    return CURLE_FAILED_INIT;
}

static void load(void)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    api.easy_init = no_init;
    api.global_init = no_global;
    if (!h)
        return;
#define SYM(field, name)                                                                           \
    if (!(*(void **)&api.field = dlsym(h, name)))                                                  \
        goto fail;
    SYM(global_init, "curl_global_init")
    SYM(easy_init, "curl_easy_init")
    SYM(easy_setopt, "curl_easy_setopt")
    SYM(easy_getinfo, "curl_easy_getinfo")
    SYM(easy_perform, "curl_easy_perform")
    SYM(easy_reset, "curl_easy_reset")
    SYM(easy_cleanup, "curl_easy_cleanup")
    SYM(easy_strerror, "curl_easy_strerror")
    SYM(slist_append, "curl_slist_append")
    SYM(slist_free_all, "curl_slist_free_all")
    SYM(version_info, "curl_version_info")
#undef SYM
    api.loaded = 1;
    return;
fail:
    api.easy_init = no_init;
    api.global_init = no_global;
}

const vet_curl_api *vet_curl(void)
{
    pthread_once(&once, load);
    return &api;
}

CURLcode vet_curl_restrict_protocols(CURL *h)
{
    CURLcode cc;
    if (!h)
        return CURLE_FAILED_INIT;
    cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (cc == CURLE_OK)
        return curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (cc != CURLE_UNKNOWN_OPTION)
        return cc;
    /* libcurl 7.19.4 - 7.84 (CURLOPT_*_STR came with 7.85) */
    cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    return cc;
}
