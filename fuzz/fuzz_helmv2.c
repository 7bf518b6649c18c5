/* Helm 2 release records: the input is what a Tiller ConfigMap's `release` value holds (base64
 * of gzip'd or plain protobuf hapi.release.Release); first unpacked, then decoded. Bytes that do
 * not unpack are also decoded directly as protobuf. Any input is decoded or rejected, never a
 * crash, and the decompressed size stays under the cap. */
#include <stdint.h>
#include <stdlib.h>

#include "kubevet/helm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *body = NULL;
    size_t len = 0;
    vet_helm_release *r = NULL;
    if (size > (1u << 20))
        return 0;
    if (vet_helm_unpack(&body, &len, (const char *)data, size, 1u << 22) == 0) {
        if (len > (1u << 22))
            abort();
        if (vet_helm_decode_v2(&r, body, len) == 0 && !r->status)
            abort();
        vet_helm_release_free(r);
        r = NULL;
        free(body);
    }
    if (vet_helm_decode_v2(&r, data, size) == 0 && (!r->name || !r->manifest))
        abort();
    vet_helm_release_free(r);
    return 0;
}
