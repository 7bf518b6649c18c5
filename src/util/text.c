#include "text.h"

#include <stdlib.h>
#include <string.h>

/* Length of the escapable sequence at s (1 for a C0/DEL byte, 2 for a UTF-8 C1), or 0. */
static size_t bad_at(const unsigned char *s, size_t left, int flags)
{
    if (s[0] == '\t' || (s[0] == '\n' && (flags & VET_TEXT_KEEP_NL)))
        return 0;
    if (s[0] < 0x20 || s[0] == 0x7f)
        return 1;
    if (s[0] == 0xc2 && left > 1 && s[1] >= 0x80 && s[1] <= 0x9f)
        return 2;
    return 0;
}

int vet_text_needs_escape(const char *s, size_t len, int flags)
{
    for (size_t i = 0; i < len; i++)
        if (bad_at((const unsigned char *)s + i, len - i, flags))
            return 1;
    return 0;
}

/* Write s escaped through emit(ctx, bytes, n); the one loop both entry points share. */
static void walk(const char *s, int flags, void (*emit)(void *, const char *, size_t), void *ctx)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), run = 0;
    for (size_t i = 0; i < len;) {
        size_t n = bad_at(p + i, len - i, flags);
        if (!n) {
            i++;
            run++;
            continue;
        }
        if (run)
            emit(ctx, (const char *)p + i - run, run);
        run = 0;
        for (size_t k = 0; k < n; k++) {
            char e[4] = {'\\', 'x', hex[p[i + k] >> 4], hex[p[i + k] & 15]};
            emit(ctx, e, 4);
        }
        i += n;
    }
    if (run)
        emit(ctx, (const char *)p + len - run, run);
}

typedef struct {
    char *out;
    size_t n;
} sink;

static void to_mem(void *ctx, const char *b, size_t n)
{
    sink *k = ctx;
    if (k->out)
        memcpy(k->out + k->n, b, n);
    k->n += n;
}

static void to_file(void *ctx, const char *b, size_t n)
{
    fwrite(b, 1, n, ctx);
}

char *vet_text_escape(const char *s, int flags)
{
    sink k = {NULL, 0};
    walk(s, flags, to_mem, &k); /* measure, then fill */
    if (!(k.out = malloc(k.n + 1)))
        return NULL;
    k.n = 0;
    walk(s, flags, to_mem, &k);
    k.out[k.n] = '\0';
    return k.out;
}

int vet_text_fputs(const char *s, FILE *out, int flags)
{
    walk(s, flags, to_file, out);
    return ferror(out) ? EOF : 0;
}
