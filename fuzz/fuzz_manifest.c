/* Fuzz the manifest scan: pre-scan, line extractor and libyaml path on arbitrary bytes, both in
 * the fast mode and with every document parsed. Nothing may crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>

#include "kubevet/catalog.h"
#include "kubevet/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vet_catalog *cat;
    if (!cat && vet_catalog_load_builtin(&cat))
        return 0;
    for (int mode = 0; mode < 3; mode++) {
        vet_manifest_opts o = {0};
        vet_manifest_scan *s = NULL;
        o.catalog = cat;
        o.full_parse = mode == 1;
        o.keep_all = mode == 2;
        if (vet_manifest_scan_new(&s, &o))
            return 0;
        vet_manifest_scan_buffer(s, "fuzz.yaml", data, size);
        for (size_t i = 0; i < vet_manifest_scan_count(s); i++)
            (void)vet_manifest_scan_obj(s, i)->line;
        vet_manifest_scan_free(s);
    }
    return 0;
}
