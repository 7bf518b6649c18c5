/* apis convert on arbitrary bytes: the first byte picks the target (1.14 .. 1.33), the rest is
 * the manifest. Any input either converts or fails with an error; a successful result is
 * converted again to check that the second pass never fails where the first succeeded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kubevet/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char target[16];
    vet_convert_result *r = NULL, *r2 = NULL;
    if (size < 1 || size > (1u << 20))
        return 0;
    snprintf(target, sizeof target, "1.%u", 14u + data[0] % 20u);
    if (vet_manifest_convert(&r, data + 1, size - 1, target, NULL, "fuzz") == 0) {
        if (vet_manifest_convert(&r2, (const unsigned char *)r->data, r->len, target, NULL,
                                 "fuzz2") != 0 &&
            r->changed)
            abort(); /* our own output must parse */
        vet_convert_result_free(r2);
    }
    vet_convert_result_free(r);
    return 0;
}
