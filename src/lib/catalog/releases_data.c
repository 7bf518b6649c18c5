/* data/releases.yaml compiled in with .incbin, like data/apis.yaml (catalog_data.c); the build
 * lists the file as an OBJECT_DEPENDS of this source, since the depfile does not see .incbin. */
#include "kubevet/catalog.h"

#ifndef KV_DATA_DIR
#error "KV_DATA_DIR must name the data/ folder"
#endif

__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        ".globl kv_releases_yaml\n"
        ".hidden kv_releases_yaml\n"
        "kv_releases_yaml:\n"
        ".incbin \"" KV_DATA_DIR "/releases.yaml\"\n"
        ".globl kv_releases_yaml_end\n"
        ".hidden kv_releases_yaml_end\n"
        "kv_releases_yaml_end:\n"
        ".byte 0\n"
        ".popsection\n");

extern const unsigned char kv_releases_yaml[] __attribute__((visibility("hidden")));
extern const unsigned char kv_releases_yaml_end[] __attribute__((visibility("hidden")));

const unsigned char *vet_releases_builtin_data(size_t *len)
{
    *len = (size_t)(kv_releases_yaml_end - kv_releases_yaml);
    return kv_releases_yaml;
}
