/* FNV-1a 64: bbolt's meta page checksum, and the key hash of our small lookup tables. */
#ifndef VET_UTIL_HASH_H
#define VET_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define VET_FNV1A_INIT 0xcbf29ce484222325ull

/* Continue hash h over n bytes at p (start with VET_FNV1A_INIT). */
static inline uint64_t vet_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

#endif
