/* JSON read in place: the spans of values, without building a tree. For large documents of which
 * a few fields are needed (a LIST page of Helm records, a release whose manifest and chart files
 * are most of its bytes): a tree parser copies every string character by character, this walks
 * the text once and copies only what is asked for.
 *
 * Offsets index the text [0, len); a value's span [vs, ve) includes a string's quotes. The walk
 * checks the structure (nesting, strings and their escapes, commas and colons); numbers and
 * literals are checked for their characters only, and raw control bytes in strings are let
 * through. Nesting is iterative: deep input costs no stack. */
#ifndef VET_UTIL_JSPAN_H
#define VET_UTIL_JSPAN_H

#include <stddef.h>

/* First non-whitespace offset at or after i (len when none). */
size_t vet_jspan_ws(const char *p, size_t i, size_t len);

/* End of the value starting at i (no leading whitespace), or 0 when it is malformed; *bad (may
 * be NULL) receives the offset of the first bad byte. */
size_t vet_jspan_skip(const char *p, size_t i, size_t len, size_t *bad);

/* Members of the object at os (p[os] == '{'; oe bounds the walk: the object's end, or the text's
 * length): *it starts at 0; each call gives the next key's span (quotes included) and its value's
 * span and returns 1; 0 at the closing '}' (*it then is the offset after it); -1 when malformed
 * (*it then holds the bad offset). Walking every member checks the whole object. */
int vet_jspan_member(const char *p, size_t os, size_t oe, size_t *it, size_t *ks, size_t *ke,
                     size_t *vs, size_t *ve);

/* 1 when the key span [ks, ke) (quotes included) is `key` (no escapes in key). */
int vet_jspan_key_is(const char *p, size_t ks, size_t ke, const char *key);

/* The string value [s, e) (quotes included) unescaped: malloc'd, NUL-terminated, its length in
 * *n (may be NULL). NULL when it is not a well-formed string (errno EINVAL) or out of memory. */
char *vet_jspan_string(const char *p, size_t s, size_t e, size_t *n);

#endif
