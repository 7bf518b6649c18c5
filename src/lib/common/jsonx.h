/* Writing reports as JSON, fast. Internal to src/lib. */
#ifndef KV_JSONX_H
#define KV_JSONX_H

#include <jansson.h>
#include <stdio.h>

/* Write j to out exactly as json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
 * JSON_ENSURE_ASCII) does (the format of every kubevet report), through one buffer. jansson's
 * dumper makes an fwrite and a loop-check hash insertion per value: on a report of ten thousand
 * findings it took longer than scanning the manifests. j must not contain itself (kubevet builds
 * trees, never cycles). Returns 0, or -1 when out fails. */
int vet_json_dumpf(const json_t *j, FILE *out);

#endif
