/* `etcd snapshot save`'s stream parsers: the gateway's newline-delimited JSON with base64 blobs,
 * and gRPC frames of SnapshotResponse after HTTP/2 header lines, in chunks the size libcurl
 * might hand over. First byte: bit 0 picks gRPC, the rest the chunk size. */
#include <stddef.h>
#include <stdint.h>

#include "etcd/etcd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    (void)etcd_save_parse_stream(data + 1, size - 1, data[0] & 1, (size_t)(data[0] >> 1) * 7 + 1);
    return 0;
}
