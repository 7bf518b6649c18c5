/* etcd snapshot files, offline: a bounds-checked bbolt page reader with etcd's semantics on top.
 *
 * A snapshot is `pgid * pageSize` bytes of bbolt followed, when written by `etcdctl snapshot
 * save`, by a 32-byte SHA-256 of those bytes (file size % 512 == 32). A raw member/snap/db has
 * no trailer. Every page id, offset and count read from it is checked, so a hostile file
 * yields structural errors, never a crash. Walks read a read-only mapping of the file, its page
 * tables filled on two threads first; the SHA-256 reads the file through one reused buffer.
 *
 * One walk does everything `etcdctl snapshot status` (3.4) does: bbolt's consistency check
 * (tx.Check) and the CRC-32C hash, revision and key count. The result is cached in the handle. */
#ifndef KUBEVET_SNAPSHOT_H
#define KUBEVET_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "strv.h"

typedef struct vet_snapshot vet_snapshot;

typedef enum {
    VET_SNAPSHOT_TRAILER_ABSENT = 0, /* size % 512 != 32: a raw bbolt file (member/snap/db) */
    VET_SNAPSHOT_TRAILER_OK,         /* SHA-256 trailer matches the data */
    VET_SNAPSHOT_TRAILER_MISMATCH,   /* trailer present, data does not match it */
    VET_SNAPSHOT_TRAILER_UNCHECKED   /* present, not computed (vet_snapshot_status) */
} vet_snapshot_trailer;

/* What a walk found. Strings and the error list belong to the handle. */
typedef struct {
    /* etcdctl snapshot status (meaningful when status_ok) */
    uint32_t hash;      /* CRC-32C over top-level bucket names, keys and values, in order */
    int64_t revision;   /* main revision of the last key in the `key` bucket */
    int64_t total_key;  /* entries in all top-level buckets */
    int64_t total_size; /* meta pgid * pageSize */
    int status_ok;      /* 1 when etcdctl would print figures: no structural errors */

    /* bbolt facts (0 when no valid meta page was found) */
    uint32_t page_size;
    uint64_t pgid; /* high-water mark */
    uint64_t txid;
    uint64_t root;       /* root bucket page */
    uint64_t freelist;   /* UINT64_MAX: not synced (etcd on Linux) */
    int meta_used;       /* 0 or 1, -1 when neither is valid */
    uint64_t free_pages; /* pages in the freelist, or unreachable ones when it is not synced */
    size_t file_size;
    size_t data_size; /* bytes of bbolt: file size minus the trailer */

    /* SHA-256 trailer */
    vet_snapshot_trailer trailer;
    char sha256_stored[65];   /* hex, "" when absent */
    char sha256_computed[65]; /* hex, "" unless verified */

    /* Structural errors, bbolt's wording where bbolt has one ("page 3: already freed",
     * "page 4: unreachable unfreed"), page ids in every message; first 200 kept. */
    const vet_strv *errors;
    size_t nerrors; /* total, including those not kept */
    /* Errors only a snapshot judge cares about (an invalid second meta page, bytes after the
     * high-water mark of a trailed snapshot): verify fails on them, status (like etcdctl)
     * does not. Also counted in nerrors and listed in errors. */
    size_t nstrict;
} vet_snapshot_info;

/* Open and map `path` read-only. VET_ENOTFOUND / VET_EIO when it cannot be opened (message names
 * the path); an empty or short file still opens (its walk reports the damage). *out is freed with
 * vet_snapshot_close. */
int vet_snapshot_open(vet_snapshot **out, const char *path);

/* Same over caller memory, which must outlive the handle (not copied). `name` is used in
 * messages and copied; NULL means "<memory>". */
int vet_snapshot_open_mem(vet_snapshot **out, const unsigned char *data, size_t len,
                          const char *name);

/* NULL is a no-op. */
void vet_snapshot_close(vet_snapshot *s);

const char *vet_snapshot_name(const vet_snapshot *s);

/* The one-pass walk (cached): structural check, hash, revision, counts. The trailer is
 * detected but not hashed (like etcdctl, which leaves the SHA-256 to restore). Returns 0 with
 * out filled even when the structure is bad (findings are data); negative only on allocation
 * failure. */
int vet_snapshot_status(vet_snapshot *s, vet_snapshot_info *out);

/* vet_snapshot_status plus the SHA-256 trailer check. *ok is 1 when the structure has no
 * errors (strict ones included) and the trailer is absent or matches. */
int vet_snapshot_verify(vet_snapshot *s, vet_snapshot_info *out, int *ok);

/* How an object's value is stored. */
typedef enum {
    VET_SNAPSHOT_ENC_PROTOBUF = 0, /* "k8s\0" + runtime.Unknown */
    VET_SNAPSHOT_ENC_JSON,         /* CRDs, custom resources, APIServices */
    VET_SNAPSHOT_ENC_ENCRYPTED,    /* "k8s:enc:<provider>:<v>:<key>:" */
    VET_SNAPSHOT_ENC_UNKNOWN       /* a value under /registry/ that is none of the above */
} vet_snapshot_encoding;

const char *vet_snapshot_encoding_name(vet_snapshot_encoding e); /* "protobuf", "json", ... */

/* One Kubernetes object: the latest revision of its key. Strings are NUL-terminated copies that
 * live until the callback returns. api_version/kind are "" when unknown (encrypted values). */
typedef struct {
    const char *key;      /* "/registry/pods/default/pi-dqtsw" */
    const char *resource; /* from the key: "pods"; "widgets.example.com" for the
                             group-prefixed keys of CRs; minions -> nodes, services/specs ->
                             services, services/endpoints -> endpoints */
    const char *ns;       /* "" for cluster-scoped */
    const char *name;
    const char *api_version;
    const char *kind;
    const char *encryption; /* "aescbc:v1:key1" when encrypted, else "" */
    vet_snapshot_encoding encoding;
    int64_t create_revision, mod_revision, version;
    size_t value_size;
    const unsigned char *value; /* the stored bytes (value_size of them), valid in the callback */
} vet_snapshot_object;

/* Call fn for every live Kubernetes object in the `key` bucket (latest revision of each key,
 * tombstoned keys skipped; keys sorted bytewise; values that are not objects, such as
 * compact_rev_key, skipped). Reads go through the same bounds-checked walk, so they work on a
 * file with structural errors (e.g. a freelist naming a leaf page) as far as the pages are
 * readable; check vet_snapshot_status first to know. A non-zero return from fn stops the
 * iteration and is returned. *nother (optional) receives the count of skipped live keys. */
int vet_snapshot_objects(vet_snapshot *s, int (*fn)(const vet_snapshot_object *o, void *ud),
                         void *ud, size_t *nother);

/* ---- stored objects, summarised for the checks (ctx->snapshot) ----
 * A source: the facts say what is stored and at which apiVersion/kind, never whether that is a
 * problem. KV406 (src/lib/check/snapshot.c) judges them against the API catalog. */

#define VET_SNAPSHOT_EXAMPLES 3

/* Objects of one resource stored at one apiVersion/kind. Encrypted values cannot be decoded:
 * they are summarised under api_version "" and kind "". */
typedef struct {
    const char *resource;    /* "deployments", "widgets.example.com" */
    const char *api_version; /* "extensions/v1beta1", or "" */
    const char *kind;        /* "Deployment", or "" */
    size_t count;
    size_t encrypted;                            /* how many of count are encrypted at rest */
    const char *examples[VET_SNAPSHOT_EXAMPLES]; /* "ns/name" ("name" when cluster-scoped),
                                                    the first ones in key order */
    size_t nexamples;
} vet_snapshot_stored;

/* The inventory: objects of one resource in one namespace at one apiVersion/kind/encoding. */
typedef struct {
    const char *resource, *ns, *api_version, *kind;
    vet_snapshot_encoding encoding;
    size_t count;
} vet_snapshot_group;

struct vet_snapshot_facts {
    const vet_snapshot_object *objects; /* every object, in key order */
    size_t nobjects;
    const vet_snapshot_group *groups; /* in order of first appearance (key order) */
    size_t ngroups;
    const vet_snapshot_stored *stored; /* per resource + apiVersion + kind, first appearance */
    size_t nstored;
    size_t nother; /* live keys that are not Kubernetes objects */
    void *owned;   /* the loader's memory, released by vet_snapshot_facts_free; NULL in fixtures */
};
typedef struct vet_snapshot_facts vet_snapshot_facts;

/* One vet_snapshot_objects pass summarised into *out (freed with vet_snapshot_facts_free).
 * Works on a damaged file as far as its pages can be read, like vet_snapshot_objects; negative
 * only on allocation failure. */
int vet_snapshot_facts_load(vet_snapshot_facts **out, vet_snapshot *s);
/* NULL is a no-op. Only for facts made by vet_snapshot_facts_load. */
void vet_snapshot_facts_free(vet_snapshot_facts *f);

/* CRC-32C (Castagnoli), continuing from crc (0 to start): hardware SSE4.2 when the CPU has
 * it, else slicing-by-8 tables. Exposed for tests. */
uint32_t vet_crc32c(uint32_t crc, const void *data, size_t len);

/* The CRC-32C of A followed by B from crc1 = CRC of A and crc2 = CRC of B (len2 bytes), without
 * the bytes: how the status hash joins pieces computed in parallel. */
uint32_t vet_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

#endif
