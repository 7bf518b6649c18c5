/* Growable byte buffer (curl's dynbuf). Always NUL-terminated after the data. */
#ifndef VET_UTIL_BUF_H
#define VET_UTIL_BUF_H

#include <stddef.h>

#include "error.h"

typedef struct {
    char *ptr;
    size_t size;  /* bytes used, not counting the terminating NUL */
    size_t asize; /* bytes allocated */
} vet_buf;

#define VET_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

int vet_buf_grow(vet_buf *b, size_t extra);
int vet_buf_put(vet_buf *b, const void *data, size_t len);
int vet_buf_puts(vet_buf *b, const char *s);
int vet_buf_printf(vet_buf *b, const char *fmt, ...) VET_PRINTF(2, 3);
void vet_buf_clear(vet_buf *b);
/* Hand the allocation to the caller (never NULL on success; "" for an empty buffer). */
char *vet_buf_detach(vet_buf *b);
void vet_buf_free(vet_buf *b);

/* printf into a fresh heap string; NULL on allocation failure. */
char *vet_strdupf(const char *fmt, ...) VET_PRINTF(1, 2);

#endif
