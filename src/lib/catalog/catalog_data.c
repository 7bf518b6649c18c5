/* data/apis.yaml compiled in with the assembler's .incbin (gcc and clang, ELF targets). The
 * build defines KV_DATA_DIR as the absolute path of data/. A NUL follows the bytes so the text can
 * be handed to string functions, but the length excludes it.
 * Dependency: the compiler's depfile does not see .incbin, so the build must list data/apis.yaml
 * as an OBJECT_DEPENDS of this file (see docs: CMake lines in the apis report). */
#include "kubevet/catalog.h"

#ifndef KV_DATA_DIR
#error "KV_DATA_DIR must name the data/ folder"
#endif

__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        ".globl kv_catalog_apis_yaml\n"
        ".hidden kv_catalog_apis_yaml\n"
        "kv_catalog_apis_yaml:\n"
        ".incbin \"" KV_DATA_DIR "/apis.yaml\"\n"
        ".globl kv_catalog_apis_yaml_end\n"
        ".hidden kv_catalog_apis_yaml_end\n"
        "kv_catalog_apis_yaml_end:\n"
        ".byte 0\n"
        ".popsection\n");

extern const unsigned char kv_catalog_apis_yaml[] __attribute__((visibility("hidden")));
extern const unsigned char kv_catalog_apis_yaml_end[] __attribute__((visibility("hidden")));

const unsigned char *vet_catalog_builtin_data(size_t *len)
{
    *len = (size_t)(kv_catalog_apis_yaml_end - kv_catalog_apis_yaml);
    return kv_catalog_apis_yaml;
}
