/* Internal to the helm module. */
#ifndef KV_HELM_INT_H
#define KV_HELM_INT_H

#include <stddef.h>
#include <stdint.h>

/* A protobuf message being read: p moves from start towards end. start is the outermost
 * message's first byte (offsets in messages count from it). */
typedef struct {
    const unsigned char *p, *end, *start;
} pb;

int helm_pb_varint(pb *b, uint64_t *v);
/* Next field: number, and either (val, vlen) for length-delimited fields or num for varints. */
int helm_pb_next(pb *b, uint32_t *field, const unsigned char **val, size_t *vlen, uint64_t *num);
/* A sub-message of parent at (v, n). */
pb helm_pb_sub(const pb *parent, const unsigned char *v, size_t n);

#endif
