/* Internal to the k8s module: the client's state and helpers shared by its files. */
#ifndef KV_K8S_INT_H
#define KV_K8S_INT_H

#include "buf.h"
#include "common/curl_dl.h"
#include "kubevet/k8s.h"

/* An exec plugin's credential, cached until its expirationTimestamp. */
typedef struct {
    int valid;
    char *token;
    vet_blob cert, key;
    int64_t expiry; /* 0 = none given: valid for the life of the process */
} k8s_cred;

struct vet_k8s {
    vet_k8s_config *cfg;
    CURL *curl;
    long timeout_ms;
    char *host, *port; /* parsed from cfg->server, for tls-server-name */
    k8s_cred cred;
    char errbuf[CURL_ERROR_SIZE];
};

void k8s_wipe(void *p, size_t n);
vet_kc_exec *k8s_exec_dup(const vet_kc_exec *e);
void k8s_exec_free(vet_kc_exec *e);
void k8s_cred_clear(k8s_cred *cr);
/* Run cfg's exec plugin and fill cr (VET_EINPUT/VET_EIO with the command's name on failure). */
int k8s_exec_run(k8s_cred *cr, const vet_k8s_config *cfg, long timeout_ms);

/* One request with the client's TLS and credentials (client.c). Reads (GET) are retried on
 * 429/5xx/connection resets; 2xx leaves the body in resp, anything else is an error naming the
 * server and `what`. */
int k8s_request(vet_k8s *c, const char *method, const char *path_query, const char *body,
                const char *ctype, vet_buf *resp, long *out_status, const char *what);

#endif
