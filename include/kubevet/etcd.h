/* Live etcd: members, status, snapshots and membership plans, over etcd's HTTP/JSON gateway
 * (etcd >= 3.4: POST /v3/<service>/<method>) with libcurl. No gRPC library: the snapshot stream
 * can also be read as raw gRPC frames over HTTP/2 (libcurl + nghttp2), which is what makes
 * `etcd snapshot save` as fast as etcdctl; both transports give byte-identical files.
 *
 * Sources gather facts (struct vet_etcd_facts); checks in src/lib/check/etcd.c judge them. */
#ifndef KUBEVET_ETCD_H
#define KUBEVET_ETCD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

/* ---- the etcd static pod of a kubeadm node (etc/kubernetes/manifests/etcd.yaml) ---- */

typedef struct vet_etcd_pod {
    char *path; /* relative to --root */
    char *name; /* --name */
    vet_strv advertise_client_urls;
    vet_strv initial_advertise_peer_urls;
    char *initial_cluster;       /* --initial-cluster, verbatim */
    char *initial_cluster_state; /* --initial-cluster-state ("new" when absent) */
    char *initial_cluster_token; /* --initial-cluster-token ("etcd-cluster" when absent) */
    char *data_dir;              /* --data-dir */
    char *data_host_path;        /* hostPath of the volume mounted at data_dir, or NULL */
    int64_t quota_backend_bytes; /* --quota-backend-bytes; 0 when absent */
    char *cert_file, *key_file, *trusted_ca_file; /* server-side TLS flags, as written */
    char *image;                                  /* container image */
} vet_etcd_pod;

/* Parse a static pod manifest (YAML; the first container's command/args). out is NULL and the
 * result VET_EINPUT when it is not an etcd pod; the message names path and line. */
int vet_etcd_pod_parse(vet_etcd_pod **out, const unsigned char *data, size_t len, const char *path);
/* Read etc/kubernetes/manifests/etcd.yaml under root. VET_ENOTFOUND when absent. */
int vet_etcd_pod_load(vet_etcd_pod **out, const char *root);
void vet_etcd_pod_free(vet_etcd_pod *p);

/* ---- the client ---- */

typedef struct vet_etcd vet_etcd;

typedef struct vet_etcd_opts {
    const char
        *endpoints;     /* comma-separated client URLs (--etcd-endpoints), or NULL: from the pod */
    const char *cacert; /* --etcd-cacert (host path), or NULL */
    const char *cert;   /* --etcd-cert */
    const char *key;    /* --etcd-key */
    const char *root;   /* --root: static pod and kubeadm client certs are read under it */
    long timeout_ms;    /* per request; 0 = 5000 */
} vet_etcd_opts;

/* Resolve endpoints and TLS files (flags first, then the static pod and kubeadm's
 * pki/etcd/{ca.crt, healthcheck-client.*, or apiserver-etcd-client.*} under root), then GET
 * /version on the endpoints in order until one answers. VET_ENET with a message naming the
 * endpoint when none does; VET_EUSAGE when no endpoint is known. */
int vet_etcd_connect(vet_etcd **out, const vet_etcd_opts *opts);
void vet_etcd_free(vet_etcd *c);
/* The endpoint that answered; valid while c lives. */
const char *vet_etcd_endpoint(const vet_etcd *c);
/* The static pod read during connect (NULL when none); owned by c. */
const vet_etcd_pod *vet_etcd_pod_of(const vet_etcd *c);

/* ---- facts ---- */

typedef struct vet_etcd_member {
    uint64_t id; /* member IDs exceed 2^53: always uint64 */
    char *name;  /* "" for a member that was added but never started */
    vet_strv peer_urls;
    vet_strv client_urls;
    int is_learner;
    int started; /* has a name (etcd's Member.IsStarted) */
    /* per-member status (vet_etcd_status only) */
    int status_ok;      /* /v3/maintenance/status answered */
    char *status_error; /* why not, or NULL */
    char *version;
    int64_t db_size, db_size_in_use;
    uint64_t leader; /* 0 = this member sees no leader */
    uint64_t raft_term, raft_index;
    vet_strv errors; /* status errors[] ("etcdserver: no leader") */
    int health_checked;
    int healthy;        /* GET /health said {"health":"true"} */
    char *health_error; /* body or transport error when not healthy */
    vet_strv alarms;    /* "NOSPACE", "CORRUPT" raised for this member */
} vet_etcd_member;

typedef struct vet_etcd_quorum {
    int voters, learners, started_voters, healthy_voters, quorum;
    int tolerance;    /* healthy_voters - quorum; negative when quorum is lost */
    int health_known; /* 0: "healthy" means started (member list only) */
} vet_etcd_quorum;

/* A membership change being planned, so KV301 can judge it before it happens. */
typedef struct vet_etcd_planned_add {
    char *name, *peer_url;
    int is_learner;
} vet_etcd_planned_add;

struct vet_etcd_facts {
    char *endpoint; /* the endpoint the facts came from */
    uint64_t cluster_id;
    uint64_t member_id; /* the member that answered */
    int64_t revision;   /* header.revision of the status call, 0 when unknown */
    vet_etcd_member *members;
    size_t nmembers;
    int have_status;  /* per-member status/health were gathered */
    int alarms_known; /* /v3/maintenance/alarm answered (it needs quorum) */
    char *alarms_error;
    uint64_t leader;               /* 0 when no reachable member sees one */
    vet_etcd_pod *pod;             /* the static pod under --root when it is a member; owned */
    int pod_is_member;             /* pod's peer URL or name matches a live member */
    int64_t quota_bytes;           /* --quota-backend-bytes or etcd's default 2 GiB */
    vet_etcd_planned_add *planned; /* set by plan add-member, else NULL */
    /* TLS files the client used, as the node names them (kubeadm's paths under --root, or the
     * --etcd-* flags as given); NULL when none. For commands printed to operators. */
    char *tls_cacert, *tls_cert, *tls_key;
};
typedef struct vet_etcd_facts vet_etcd_facts;

#define VET_ETCD_DEFAULT_QUOTA ((int64_t)2 << 30) /* etcd 3.4 DefaultQuotaBytes */

/* Member list only (/v3/cluster/member/list). Members sorted by name, unstarted last. */
int vet_etcd_members(vet_etcd_facts **out, vet_etcd *c);
/* Member list + per-member /v3/maintenance/status and /health on each member's client URLs,
 * + /v3/maintenance/alarm. A member that does not answer is a fact, not an error; only the
 * member list failing is (VET_ENET). */
int vet_etcd_status(vet_etcd_facts **out, vet_etcd *c);
void vet_etcd_facts_free(vet_etcd_facts *f);

/* Quorum arithmetic over the facts (learners do not vote). With have_status == 0, started
 * voters count as healthy. */
void vet_etcd_quorum_of(vet_etcd_quorum *out, const vet_etcd_facts *f);
/* Majority of n voters: n/2 + 1 (0 for n <= 0). */
int vet_etcd_quorum_size(int voters);
/* "3 voters, quorum 2, 3 healthy: can lose 1" / "... 1 healthy: quorum lost". Malloc'd. */
char *vet_etcd_verdict(const vet_etcd_quorum *q);
/* Member ID as etcdctl prints it: unpadded lower-case hex. buf >= 17 bytes. */
const char *vet_etcd_id_hex(char *buf, uint64_t id);
int vet_etcd_id_parse(uint64_t *out, const char *hex);
/* The member by name, hex ID or peer URL; NULL when none. */
const vet_etcd_member *vet_etcd_member_find(const vet_etcd_facts *f, const char *key);

/* members array + cluster_id + verdict as JSON for -o json (new reference). */
json_t *vet_etcd_facts_to_json(const vet_etcd_facts *f);

/* ---- IDs etcd derives at bootstrap (etcdserver/api/membership, etcd 3.x) ----
 * member ID = first 8 bytes (big-endian) of SHA-1(sorted peer URLs concatenated || token);
 * cluster ID = first 8 bytes of SHA-1(member IDs sorted ascending, 8 bytes big-endian each). */
int vet_etcd_member_id(uint64_t *out, const char *const *peer_urls, size_t n, const char *token);
int vet_etcd_cluster_id(uint64_t *out, const uint64_t *member_ids, size_t n);

/* ---- snapshot save ---- */

typedef enum {
    VET_ETCD_TRANSPORT_AUTO = 0, /* gRPC frames over HTTP/2 when libcurl has it, else gateway */
    VET_ETCD_TRANSPORT_GATEWAY,  /* /v3/maintenance/snapshot, NDJSON + base64 */
    VET_ETCD_TRANSPORT_GRPC      /* /etcdserverpb.Maintenance/Snapshot, gRPC frames over h2 */
} vet_etcd_transport;

typedef struct vet_etcd_save_result {
    uint64_t size;    /* bytes written, incl. the 32-byte SHA-256 trailer */
    int64_t revision; /* header.revision just before the snapshot began */
    double seconds;
    const char *transport; /* "grpc-h2" or "gateway" (static) */
    unsigned char sha256[32];
} vet_etcd_save_result;

/* Stream a snapshot to path (atomic write, mode 0600), decoding as it arrives, and check etcd's
 * trailing SHA-256 over everything before it. On any failure the file is not created.
 * VET_EINPUT when the trailer does not match; VET_ENET for transport errors. */
int vet_etcd_snapshot_save(vet_etcd_save_result *out, vet_etcd *c, const char *path,
                           vet_etcd_transport transport);

/* Check a snapshot file's trailer without the bbolt reader: size % 512 == 32 and SHA-256 of
 * all but the last 32 bytes equals them. *ok = 1/0; a read error is VET_EIO. reason gets a
 * malloc'd explanation when *ok == 0. */
int vet_etcd_snapshot_check_trailer(int *ok, char **reason, uint64_t *size, const char *path);

/* ---- plans: steps to print; nothing changes unless the CLI applies them ---- */

typedef struct vet_etcd_plan {
    vet_etcd_quorum before, after;
    int refused;           /* the change would stop the cluster or cannot complete: KV301 */
    char *refusal;         /* why, in words */
    vet_strv steps;        /* numbered by the renderer; commands verbatim. Empty when refused */
    char *initial_cluster; /* the --initial-cluster string the new/restored members use */
    json_t *extra;         /* plan-specific JSON (expected IDs, ...) or NULL */
    /* Refused plans: the safe ways forward, preferred first; each line is printed as is
     * (headers "A. ...", their steps indented). Never the refused operation itself. */
    vet_strv alternatives;
    char *fix; /* refused plans: one line for KV301's fix, naming the first alternative */
} vet_etcd_plan;

void vet_etcd_plan_free(vet_etcd_plan *p);
json_t *vet_etcd_plan_to_json(const vet_etcd_plan *p);

/* add-member: quorum before and right after `member add` (the new member not started yet;
 * learners do not vote). Refused when quorum is already lost (member add needs it), when a voting
 * add would make quorum unreachable (the 1 -> 2 trap), or when a learner add meets etcd 3.4's
 * one-learner limit; the alternatives then say what to do instead. Otherwise the steps are the
 * learner path (3.4+): add --learner, start with --initial-cluster-state existing and the
 * printed --initial-cluster, promote, wait. name and peer_url are checked (VET_EINPUT). */
int vet_etcd_plan_add_member(vet_etcd_plan **out, const vet_etcd_facts *f, const char *name,
                             const char *peer_url, int as_learner);
/* remove-member by name or hex ID. Refused when quorum is already lost (the removal would hang:
 * the alternatives bring members back, recover from the survivor's data with
 * --force-new-cluster, or restore a verified snapshot), when removing a healthy voter would leave
 * fewer healthy voters than the new quorum, or when it is the last voter. No plan ever tells the
 * operator to empty the data dir of a member that holds data. */
int vet_etcd_plan_remove_member(vet_etcd_plan **out, const vet_etcd_facts *f, const char *key);

typedef struct vet_etcd_restore_member {
    const char *name, *peer_url;
} vet_etcd_restore_member;

/* restore: per-member `etcdctl snapshot restore` commands and the kubeadm steps around them, with
 * the member and cluster IDs etcd will derive. pod (may be NULL) supplies data dir and image.
 * Names must be plain (no ',', '=', spaces or controls) and peer URLs http(s): VET_EINPUT. */
int vet_etcd_plan_restore(vet_etcd_plan **out, const char *snapshot,
                          const vet_etcd_restore_member *members, size_t n, const char *token,
                          const char *data_dir, const vet_etcd_pod *pod);

/* Apply the learner add: POST /v3/cluster/member/add {peerURLs, isLearner: true}. *id_out gets the
 * new member's ID; *ic_out (malloc'd) the --initial-cluster line the new member must start with. */
int vet_etcd_member_add(uint64_t *id_out, char **ic_out, vet_etcd *c, const char *name,
                        const char *peer_url, int is_learner);

/* POST /v3/cluster/member/remove {ID}. Needs quorum: etcd waits for it (timeout applies). */
int vet_etcd_member_remove(vet_etcd *c, uint64_t id);

#endif
