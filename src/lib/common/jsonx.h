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

/* The same format written piece by piece, for documents too large to build as a tree first (a
 * report's findings): open a container, then per member a key (objects only) and a value or a
 * nested container, then close it. Commas, line breaks and indentation are the writer's. */
typedef struct vet_json_writer vet_json_writer;
vet_json_writer *vet_json_writer_new(FILE *out);      /* NULL: out of memory */
void vet_json_open(vet_json_writer *w, char bracket); /* '{' or '[' */
void vet_json_close(vet_json_writer *w);
void vet_json_key(vet_json_writer *w, const char *key);
void vet_json_value(vet_json_writer *w, const json_t *v);
void vet_json_string(vet_json_writer *w, const char *s);
/* 1 when s is valid UTF-8 (what json_string() accepts). */
int vet_json_utf8_ok(const char *s);
/* Flush and free; 0, or -1 when a write failed (or the nesting went over 64 levels). */
int vet_json_writer_free(vet_json_writer *w);

#endif
