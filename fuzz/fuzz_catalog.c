/* The API catalog as `--catalog FILE` reads it (kubevet's `apis:` rows and pluto's
 * `deprecated-versions:`), over the built-in rows, then every lookup the scanners make. */
#include <stddef.h>
#include <stdint.h>

#include "kubevet/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_catalog *c = NULL;
    vet_version t;
    if (vet_catalog_load_builtin(&c))
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
