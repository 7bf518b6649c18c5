/* Internals shared by the snapshot module's files (not installed). */
#ifndef KV_SNAPSHOT_INT_H
#define KV_SNAPSHOT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kubevet/snapshot.h"

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

/* For tests: 1 forces the table CRC path, 0 restores detection. */
void vet_crc32c_force_sw(int on);

#endif
