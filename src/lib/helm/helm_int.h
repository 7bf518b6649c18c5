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

#include "buf.h"
#include "kubevet/helm.h"
/* A record's data.release value (the Secret's API base64 still on when secret) unpacked and
 * decoded as a Helm 2 or 3 release. */
int helm_decode_value(vet_helm_release **out, const char *val, size_t n, int secret, int helm);
/* gzip (zlib, gzip framing) of data. */
int helm_gzip(unsigned char **out, size_t *len, const void *data, size_t n);
/* base64(gzip(body)). */
int helm_pack(char **out, const void *body, size_t n);
/* Rewrite a hapi.release.Release: manifest (NULL keeps), hook manifests in order (NULL keeps),
 * version (0 keeps), info.status.code, info.description (NULL keeps). Everything else is
 * copied byte for byte. */
int helm_v2_rewrite(vet_buf *out, const unsigned char *data, size_t len, const char *manifest,
                    const char *const *hooks, size_t nhooks, int version, int code,
                    const char *desc);

#endif
