/* A growable list of owned strings. */
#ifndef VET_UTIL_STRV_H
#define VET_UTIL_STRV_H

#include <stddef.h>

typedef struct {
    char **v;
    size_t n, cap;
} vet_strv;

#define VET_STRV_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Append a copy of s (len bytes, or strlen when len is (size_t)-1). */
int vet_strv_pushn(vet_strv *sv, const char *s, size_t len);
int vet_strv_push(vet_strv *sv, const char *s);
/* Append s without copying; sv takes ownership (freed on failure too). */
int vet_strv_take(vet_strv *sv, char *s);
/* Index of s, or -1. Case-sensitive unless nocase. */
long vet_strv_find(const vet_strv *sv, const char *s, int nocase);
void vet_strv_free(vet_strv *sv);

#endif
