/* A bounds-checked protobuf wire-format reader: Helm 2 releases and the Kubernetes objects
 * etcd stores. Lengths are checked against the enclosing message; nothing is trusted. */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "helm_int.h"

int helm_pb_varint(pb *b, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->end)
            return vet_error_set(VET_EINPUT, "protobuf, byte %zu: truncated varint",
                                 (size_t)(b->p - b->start));
        x |= (uint64_t)(*b->p & 0x7f) << shift;
        if (!(*b->p++ & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return vet_error_set(VET_EINPUT, "protobuf, byte %zu: varint too long",
                         (size_t)(b->p - b->start));
}

/* Next field: number, wire type, and for length-delimited fields the bytes. Unknown wire types
 * 3/4 (groups, unused by hapi) and 6/7 are errors. */
int helm_pb_next(pb *b, uint32_t *field, const unsigned char **val, size_t *vlen, uint64_t *num)
{
    uint64_t key = 0, n = 0; /* gcc -O2 cannot see helm_pb_varint sets them on success */
    int rc;
    size_t off = (size_t)(b->p - b->start);
    if ((rc = helm_pb_varint(b, &key)))
        return rc;
    *field = (uint32_t)(key >> 3);
    *val = NULL;
    *vlen = 0;
    *num = 0;
    if (!*field || key >> 3 > 0x1fffffff)
        return vet_error_set(VET_EINPUT, "protobuf, byte %zu: bad field number", off);
    switch (key & 7) {
    case 0:
        return helm_pb_varint(b, num);
    case 1:
        n = 8;
        break;
    case 5:
        n = 4;
        break;
    case 2:
        if ((rc = helm_pb_varint(b, &n)))
            return rc;
        break;
    default:
        return vet_error_set(VET_EINPUT, "protobuf, byte %zu: wire type %u", off,
                             (unsigned)(key & 7));
    }
    if (n > (uint64_t)(b->end - b->p))
        return vet_error_set(VET_EINPUT, "protobuf, byte %zu: field %u runs past the end", off,
                             *field);
    if ((key & 7) == 2) {
        *val = b->p;
        *vlen = (size_t)n;
    }
    b->p += n;
    return 0;
}

pb helm_pb_sub(const pb *parent, const unsigned char *v, size_t n)
{
    pb s;
    s.p = v;
    s.end = v + n;
    s.start = parent->start;
    return s;
}
