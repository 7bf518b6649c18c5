/* Release data (--releases FILE) on arbitrary bytes: it parses or fails with a message; a parsed
 * set answers lookups for every minor without reading outside its rows. */
#include <stdint.h>
#include <stdlib.h>

#include "kubevet/upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_releases *r = NULL;
    if (size > (1u << 20))
        return 0;
    if (vet_releases_parse(&r, data, size, "fuzz") == 0) {
        for (int m = 0; m < 200; m++) {
            const vet_release *x = vet_releases_find(r, m);
            if (x && (!x->newest || !x->etcd))
                abort();
        }
        (void)vet_releases_skew(r);
    }
    vet_releases_free(r);
    return 0;
}
