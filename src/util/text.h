/* Text for terminals: bytes that came from inputs (etcd keys, file names, manifest values) are
 * printed with control characters escaped, so a hostile value cannot move the cursor, clear the
 * screen or retitle the terminal (ESC, CSI and the C1 controls are what such sequences use). */
#ifndef VET_UTIL_TEXT_H
#define VET_UTIL_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Flags for vet_text_escape. */
#define VET_TEXT_KEEP_NL 1 /* keep '\n' (multi-line messages); '\t' is always kept */

/* True when s[0..len) holds a byte that vet_text_escape would rewrite. */
int vet_text_needs_escape(const char *s, size_t len, int flags);

/* A newly allocated copy of s (NUL-terminated) with C0 controls (but '\t', and '\n' with
 * VET_TEXT_KEEP_NL), DEL and UTF-8-encoded C1 controls written as \xNN. NULL on allocation failure.
 */
char *vet_text_escape(const char *s, int flags);

/* fputs through vet_text_escape without allocating. Returns what fputs returns. */
int vet_text_fputs(const char *s, FILE *out, int flags);

#endif
