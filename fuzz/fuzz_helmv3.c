/* Helm 3 release records: the input is a whole record object as the API returns it (JSON of a
 * Secret or ConfigMap), decoded with vet_helm_decode_object; then the same bytes as a release
 * JSON body (vet_helm_decode_v3). Any input is decoded or rejected, never a crash. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "kubevet/helm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_helm_release *r = NULL;
    json_t *obj;
    if (size > (1u << 20))
        return 0;
    obj = json_loadb((const char *)data, size, 0, NULL);
    if (obj) {
        if (vet_helm_decode_object(&r, obj) == 0 && (!r->name || !r->manifest || !r->status))
            abort();
        vet_helm_release_free(r);
        r = NULL;
        json_decref(obj);
    }
    if (vet_helm_decode_v3(&r, data, size) == 0 && (!r->namespace || !r->description))
        abort();
    vet_helm_release_free(r);
    return 0;
}
