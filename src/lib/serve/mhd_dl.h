/* libmicrohttpd loaded on first use (mhd_dl.c), for the serve module only.
 * Include this instead of <microhttpd.h>: the MHD_* names below resolve to the loaded symbols. */
#ifndef KV_SERVE_MHD_DL_H
#define KV_SERVE_MHD_DL_H

/* Types and constants only: the functions come from vet_mhd() (mhd_dl.c), loaded on first use. */
#include <microhttpd.h>

typedef struct {
    int loaded;
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *d);
    const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *d,
                                                   enum MHD_DaemonInfoType info_type, ...);
    const char *(*lookup_connection_value)(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                           const char *key);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode);
    struct MHD_Response *(*create_response_from_buffer_with_free_callback_cls)(
        size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls);
    enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header,
                                           const char *content);
    enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status_code,
                                      struct MHD_Response *r);
    void (*destroy_response)(struct MHD_Response *r);
} vet_mhd_api;

/* The libmicrohttpd entry points (never NULL; when libmicrohttpd.so.12 is missing, start_daemon
 * returns NULL, and the others are never reached: they all need a daemon or its connection). */
const vet_mhd_api *vet_mhd(void);

#define MHD_start_daemon (*vet_mhd()->start_daemon)
#define MHD_stop_daemon (*vet_mhd()->stop_daemon)
#define MHD_get_daemon_info (*vet_mhd()->get_daemon_info)
#define MHD_lookup_connection_value (*vet_mhd()->lookup_connection_value)
#define MHD_create_response_from_buffer (*vet_mhd()->create_response_from_buffer)
#define MHD_create_response_from_buffer_with_free_callback_cls                                     \
    (*vet_mhd()->create_response_from_buffer_with_free_callback_cls)
#define MHD_add_response_header (*vet_mhd()->add_response_header)
#define MHD_queue_response (*vet_mhd()->queue_response)
#define MHD_destroy_response (*vet_mhd()->destroy_response)

#endif
