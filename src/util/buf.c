#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vet_buf_grow(vet_buf *b, size_t extra)
{
    size_t need, n;
    char *p;
    if (extra > SIZE_MAX - b->size - 1)
        return vet_error_set(VET_ENOMEM, "buffer size overflow");
    need = b->size + extra + 1;
    if (need <= b->asize)
        return 0;
    n = b->asize ? b->asize : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    p = realloc(b->ptr, n);
    if (!p)
        return vet_error_set(VET_ENOMEM, "out of memory (%zu bytes)", n);
    b->ptr = p;
    b->asize = n;
    return 0;
}

int vet_buf_put(vet_buf *b, const void *data, size_t len)
{
    int rc = vet_buf_grow(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->ptr + b->size, data, len);
    b->size += len;
    b->ptr[b->size] = '\0';
    return 0;
}

int vet_buf_puts(vet_buf *b, const char *s)
{
    return vet_buf_put(b, s, strlen(s));
}

static int buf_vprintf(vet_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n, rc;
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return vet_error_set(VET_EINPUT, "bad format");
    if ((rc = vet_buf_grow(b, (size_t)n)))
        return rc;
    vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
    b->size += (size_t)n;
    return 0;
}

int vet_buf_printf(vet_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void vet_buf_clear(vet_buf *b)
{
    b->size = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

char *vet_buf_detach(vet_buf *b)
{
    char *p = b->ptr;
    if (!p)
        p = calloc(1, 1);
    b->ptr = NULL;
    b->size = b->asize = 0;
    return p;
}

void vet_buf_free(vet_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->size = b->asize = 0;
}

char *vet_strdupf(const char *fmt, ...)
{
    vet_buf b = VET_BUF_INIT;
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc) {
        vet_buf_free(&b);
        return NULL;
    }
    return vet_buf_detach(&b);
}
