/* The API catalog as `--catalog FILE` reads it (kubevet's `apis:` rows and pluto's
 * `deprecated-versions:`), then every lookup the scanners make. Into an empty catalog: loading
 * the built-in rows each time would cost 0.2 s per input under ASan. */
#include <stddef.h>
#include <stdint.h>

#include "kubevet/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_catalog *c = NULL;
    vet_version t;
    if (vet_catalog_new(&c))
        return 0;
    if (vet_catalog_parse(c, data, size, "fuzz") == 0) {
        (void)vet_version_parse(&t, "1.30");
        for (size_t i = 0; i < vet_catalog_count(c); i++) {
            const vet_api *a = vet_catalog_at(c, i);
            (void)vet_api_status_at(a, &t);
            (void)vet_catalog_lookup(c, a->api_version, a->kind);
        }
        (void)vet_catalog_newest(c);
    }
    vet_catalog_free(c);
    return 0;
}
