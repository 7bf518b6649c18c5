/* Internal to the etcd module: the HTTP client and the gateway JSON parsers (exposed so unit
 * tests can feed them recorded responses). */
#ifndef KV_ETCD_INT_H
#define KV_ETCD_INT_H

/* Types and constants only: the functions come from vet_curl() (curl_dl.c), loaded on first use. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef struct {
    int loaded;
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    CURLcode (*easy_perform)(CURL *h);
    void (*easy_reset)(CURL *h);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    curl_version_info_data *(*version_info)(CURLversion v);
} vet_curl_api;

/* The libcurl entry points (never NULL; when libcurl.so.4 is missing, easy_init returns NULL). */
const vet_curl_api *vet_curl(void);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*vet_curl()->global_init)
#define curl_easy_init (*vet_curl()->easy_init)
#define curl_easy_setopt (*vet_curl()->easy_setopt)
#define curl_easy_getinfo (*vet_curl()->easy_getinfo)
#define curl_easy_perform (*vet_curl()->easy_perform)
#define curl_easy_reset (*vet_curl()->easy_reset)
#define curl_easy_cleanup (*vet_curl()->easy_cleanup)
#define curl_easy_strerror (*vet_curl()->easy_strerror)
#define curl_slist_append (*vet_curl()->slist_append)
#define curl_slist_free_all (*vet_curl()->slist_free_all)
#define curl_version_info (*vet_curl()->version_info)
#include <jansson.h>

#include "buf.h"
#include "kubevet/etcd.h"

struct vet_etcd {
    CURL *curl;
    vet_strv endpoints;
    char *endpoint;            /* the one that answered */
    char *cacert, *cert, *key; /* host paths or NULL */
    long timeout_ms;
    vet_etcd_pod *pod;
};

/* POST base+path with a JSON body (GET when body is NULL). Transport failure: VET_ENET naming
 * the URL. A gateway error object ({"error","message","code"}): VET_ENET with the message, and
 * *grpc_code (optional) set; the HTTP status differs between etcd builds, so only `code` counts.
 * On success *out (optional) is the parsed JSON object. timeout_ms 0 = the client's. */
int etcd_request(vet_etcd *c, const char *base, const char *path, const char *body, long timeout_ms,
                 json_t **out, int *grpc_code);

/* Apply TLS and timeout options to a curl handle. */
void etcd_curl_setup(vet_etcd *c, CURL *h, long timeout_ms);

/* Gateway JSON: int64/uint64 arrive as decimal strings (also accept numbers); absent = 0. */
int etcd_json_u64(uint64_t *out, json_t *obj, const char *key);
int etcd_json_i64(int64_t *out, json_t *obj, const char *key);

/* Parse /v3/cluster/member/list (or member/add's "members") into f->members (appended). */
int etcd_parse_members(vet_etcd_facts *f, const unsigned char *data, size_t len);
int etcd_parse_members_json(vet_etcd_facts *f, json_t *root);
/* Parse /v3/maintenance/status into m. */
int etcd_parse_status(vet_etcd_member *m, const unsigned char *data, size_t len);
int etcd_parse_status_json(vet_etcd_member *m, json_t *root);
/* Parse /v3/maintenance/alarm into the members' alarm lists (unknown member IDs ignored). */
int etcd_parse_alarms_json(vet_etcd_facts *f, json_t *root);
/* Sort members: started by name, then unstarted by ID. */
void etcd_sort_members(vet_etcd_facts *f);
void etcd_member_clear(vet_etcd_member *m);

/* Split "a,b,c" into sv (empty items dropped). */
int etcd_split_csv(vet_strv *sv, const char *s);

#endif
