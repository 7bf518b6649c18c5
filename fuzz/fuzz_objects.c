/* Snapshot object decoding without a bbolt file: the input is a list of `key` bucket values
 * (mvccpb.KeyValue holding Kubernetes protobuf, JSON or encrypted values), each prefixed with a
 * 2-byte little-endian length whose top bit marks a tombstone revision. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snapshot/snap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *p;
    size_t n;
} input;

static int feed(void *fud, snap_key_fn fn, void *ud)
{
    input *in = fud;
    size_t off = 0;
    uint64_t rev = 0;
    while (off + 2 <= in->n) {
        unsigned len = (unsigned)in->p[off] | (unsigned)in->p[off + 1] << 8;
        int tomb = (len & 0x8000) != 0;
        unsigned char key[18];
        len &= 0x7fff;
        off += 2;
        if (len > in->n - off)
            len = (unsigned)(in->n - off);
        /* revision keys: main revision big-endian, '_', sub revision, 't' for a tombstone */
        memset(key, 0, sizeof key);
        rev++;
        for (int i = 0; i < 8; i++)
            key[7 - i] = (unsigned char)(rev >> (8 * i));
        key[8] = '_';
        key[17] = 't';
        if (fn(ud, key, tomb ? 18 : 17, in->p + off, len))
            return 0;
        off += len;
    }
    return 0;
}

static int count(const vet_snapshot_object *o, void *ud)
{
    size_t *n = ud;
    *n += strlen(o->key) + strlen(o->resource) + strlen(o->ns) + strlen(o->name) +
          strlen(o->api_version) + strlen(o->kind) + strlen(o->encryption);
    (void)vet_snapshot_encoding_name(o->encoding);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    size_t n = 0, other = 0;
    (void)snap_objects_from(feed, &in, "fuzz", count, &n, &other);
    return 0;
}
