/* libmicrohttpd, loaded on first use. Linking it would map GnuTLS and its dependencies (p11-kit,
 * nettle, hogweed, gmp, idn2, unistring, tasn1, ffi) and run their constructors in every kubevet
 * process: about 3.5 ms, nearly half of a `kubevet certs renew --help` (7.6 ms, 4.1 without).
 * Only `kubevet serve` needs an HTTP server, so only it pays for one (libcurl is kept out the
 * same way: common/curl_dl.c). */
#include <dlfcn.h>
#include <pthread.h>

#include "mhd_dl.h"

static vet_mhd_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Stand-in when libmicrohttpd cannot be loaded: no daemon starts (vet_serve_main says why). */
static struct MHD_Daemon *no_start(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                   void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    (void)flags;
    return NULL;
}

static void load(void)
{
    void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    api.start_daemon = no_start;
    if (!h)
        return;
#define SYM(field, name)                                                                           \
    if (!(*(void **)&api.field = dlsym(h, name)))                                                  \
        goto fail;
    SYM(start_daemon, "MHD_start_daemon")
    SYM(stop_daemon, "MHD_stop_daemon")
    SYM(get_daemon_info, "MHD_get_daemon_info")
    SYM(lookup_connection_value, "MHD_lookup_connection_value")
    SYM(create_response_from_buffer, "MHD_create_response_from_buffer")
    SYM(create_response_from_buffer_with_free_callback_cls,
        "MHD_create_response_from_buffer_with_free_callback_cls")
    SYM(add_response_header, "MHD_add_response_header")
    SYM(queue_response, "MHD_queue_response")
    SYM(destroy_response, "MHD_destroy_response")
#undef SYM
    api.loaded = 1;
    return;
fail:
    api.start_daemon = no_start;
}

const vet_mhd_api *vet_mhd(void)
{
    pthread_once(&once, load);
    return &api;
}
