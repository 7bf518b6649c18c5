/* Internal to the etcd module: the HTTP client and the gateway JSON parsers (exposed so unit
 * tests can feed them recorded responses). */
#ifndef KV_ETCD_INT_H
#define KV_ETCD_INT_H

#include "common/curl_dl.h"
#include <jansson.h>

#include "buf.h"
#include "kubevet/etcd.h"

struct vet_etcd {
    CURL *curl;
    vet_strv endpoints;
    char *endpoint;            /* the one that answered */
    char *cacert, *cert, *key; /* host paths or NULL */
    /* The same files as the node names them (the path under --root, or the flag as given), for
     * commands printed to operators. */
    char *cacert_node, *cert_node, *key_node;
    long timeout_ms;
    vet_etcd_pod *pod;
    char errbuf[CURL_ERROR_SIZE];
};

/* POST base+path with a JSON body (GET when body is NULL). Transport failure: VET_ENET naming
 * the URL. A gateway error object ({"error","message","code"}): VET_ENET with the message, and
 * *grpc_code (optional) set; the HTTP status differs between etcd builds, so only `code` counts.
 * On success *out (optional) is the parsed JSON object. timeout_ms 0 = the client's. */
int etcd_request(vet_etcd *c, const char *base, const char *path, const char *body, long timeout_ms,
                 json_t **out, int *grpc_code);

/* Apply protocol limits (http/https only), TLS and timeout options to a curl handle, after
 * curl_easy_reset. VET_ENET when the protocol limit cannot be set: do not perform then. The
 * handle gets c->errbuf as CURLOPT_ERRORBUFFER. */
int etcd_curl_setup(vet_etcd *c, CURL *h, long timeout_ms);

/* Set the error for a failed transfer of url: libcurl's reason, and for TLS failures which check
 * failed (the CA chain, with the CA file tried, or the host name). suffix (may be NULL) is
 * appended. Returns VET_ENET. */
int etcd_transport_error(vet_etcd *c, CURL *h, CURLcode cc, const char *url, const char *suffix);

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

/* A member name that etcd and --initial-cluster can carry and a shell can paste: no blanks,
 * controls, quotes, ',' or '=' (VET_EINPUT naming what). */
int etcd_check_name(const char *name, const char *what);
/* The snapshot stream parsers of save.c on a recorded response body (fuzzing, tests): gateway
 * NDJSON, or (grpc) header lines, an empty line and gRPC frames, fed in chunks of `chunk`
 * bytes with no file and no network. 0 when the stream is complete and its SHA-256 trailer
 * matches, else VET_E*. */
int etcd_save_parse_stream(const unsigned char *data, size_t len, int grpc, size_t chunk);

/* s as one shell word for printed commands: as is when it holds only safe characters, else
 * single-quoted. A copy made here lives in arena (freed by the caller). */
const char *etcd_sh(vet_strv *arena, const char *s);

/* Split "a,b,c" into sv (empty items dropped). */
int etcd_split_csv(vet_strv *sv, const char *s);

#endif
