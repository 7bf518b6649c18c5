/* Internals shared by the snapshot module's files (not installed). */
#ifndef KV_SNAPSHOT_INT_H
#define KV_SNAPSHOT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kubevet/snapshot.h"
#include "strv.h"

/* The handle (bolt.c walks it, file.c opens, maps and closes it). */
struct vet_snapshot {
    const unsigned char *data;
    size_t len;
    int fd; /* -1 for memory handles */
    void *map;
    size_t maplen;
    char *name;
    int walked;
    int populated; /* the mapping's page tables are filled (snap_populate) */
    int sha_done;
    vet_snapshot_info info;
    vet_strv errors;
    size_t nerrors, nstrict;
};

/* bbolt is native-endian; etcd runs on little-endian hosts, and so do we. */
static inline uint16_t rd16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Called for every entry of the top-level `key` bucket, in key order. Non-zero stops the walk. */
typedef int (*snap_key_fn)(void *ud, const unsigned char *k, size_t klen, const unsigned char *v,
                           size_t vlen);

/* Walk the file (see bolt.c); records the results in the handle the first time. */
int snap_walk(vet_snapshot *s, snap_key_fn fn, void *ud);

/* vet_snapshot_objects over entries handed to fn by feed (for fuzzing the value decoding
 * without a bbolt file); vet_snapshot_objects is this with the file's `key` bucket. */
typedef int (*snap_feed_fn)(void *fud, snap_key_fn fn, void *ud);
int snap_objects_from(snap_feed_fn feed, void *fud, const char *name,
                      int (*fn)(const vet_snapshot_object *o, void *ud), void *ud, size_t *nother);

/* Fill the page tables of a file handle's mapping before a walk (no-op for memory handles and
 * after the first call); see file.c. */
void snap_populate(vet_snapshot *s);

/* 32 bytes as 64 hex digits and a NUL. */
void snap_hex(char out[65], const unsigned char *p);

/* Run f(a) on the calling thread and f(b) on a helper thread, both finished on return (both on
 * the caller, one after the other, when no thread can be started). */
void snap_run2(void *(*f)(void *), void *a, void *b);

/* The bytes etcdctl's hash covers, in its order, as ranges of the handle's data. */
typedef struct {
    const unsigned char *p;
    size_t n;
} snap_span;

typedef struct {
    snap_span *v;
    size_t n, cap;
    uint64_t bytes; /* sum of n */
} snap_spans;

/* Append a range (merged with the last one when adjacent). -1 when out of memory. */
int snap_spans_add(snap_spans *sp, const unsigned char *p, size_t n);

/* CRC-32C of the spans' bytes in order: on two threads for large inputs (halves joined with
 * vet_crc32c_combine). */
uint32_t snap_spans_crc(const snap_spans *sp);

/* For tests: 1 forces the table CRC path, 0 restores detection. */
void vet_crc32c_force_sw(int on);

#endif
