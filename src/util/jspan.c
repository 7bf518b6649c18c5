/* JSON read in place (jspan.h). */
#include "jspan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t vet_jspan_ws(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* End of the string at i (p[i] == '"'), 0 when malformed (*bad set). memchr finds the quote
 * and the backslashes (base64 values have none, manifests one per line), so long strings cost
 * little more than a memory scan. Bytes below 0x20 are not looked for: Go's encoder, which
 * wrote what is read here, never leaves them raw. */
static size_t skip_string(const char *p, size_t i, size_t len, size_t *bad)
{
    i++;
    for (;;) {
        const char *q = i < len ? memchr(p + i, '"', len - i) : NULL, *b;
        size_t end;
        unsigned h;
        if (!q) {
            *bad = len;
            return 0;
        }
        end = (size_t)(q - p);
        while ((b = i < end ? memchr(p + i, '\\', end - i) : NULL)) {
            size_t k = (size_t)(b - p);
            char c = k + 1 < len ? p[k + 1] : '\0';
            if (c == 'u') {
                if (k + 5 >= len || hex4(p + k + 2, &h))
                    goto fail;
                i = k + 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                i = k + 2;
            } else {
                goto fail;
            }
            if (i > end)
                break; /* \" : that quote was not the end */
        }
        if (i <= end)
            return end + 1;
        continue;
    fail:
        *bad = (size_t)(b - p);
        return 0;
    }
}

size_t vet_jspan_skip(const char *p, size_t i, size_t len, size_t *bad)
{
    /* expect: 0 a value, 1 a key or '}', 2 ',' or the close; stack of open brackets as bits
     * would cap the depth: a counter and the last bracket's kind found by rescanning is slow,
     * so keep a small byte stack that grows. */
    char small[64], *stack = small, *big = NULL;
    size_t depth = 0, cap = sizeof small, dummy;
    int want_key = 0;
    size_t end = 0;
    if (!bad)
        bad = &dummy;
    for (;;) {
        i = vet_jspan_ws(p, i, len);
        if (i >= len)
            goto fail;
        /* a value (or a key when want_key) */
        if (want_key) {
            if (p[i] != '"')
                goto fail;
            if (!(i = skip_string(p, i, len, bad)))
                goto out;
            i = vet_jspan_ws(p, i, len);
            if (i >= len || p[i] != ':')
                goto fail;
            i = vet_jspan_ws(p, i + 1, len);
            if (i >= len)
                goto fail;
        }
        if (p[i] == '{' || p[i] == '[') {
            char open = p[i];
            if (depth == cap) {
                char *n = realloc(big, cap * 2);
                if (!n)
                    goto fail;
                if (!big)
                    memcpy(n, small, depth);
                stack = big = n;
                cap *= 2;
            }
            stack[depth++] = open;
            i = vet_jspan_ws(p, i + 1, len);
            if (i < len && p[i] == (open == '{' ? '}' : ']')) {
                depth--;
                i++;
                goto closed;
            }
            want_key = open == '{';
            continue;
        }
        if (p[i] == '"') {
            if (!(i = skip_string(p, i, len, bad)))
                goto out;
        } else {
            size_t s = i;
            while (i < len && strchr("0123456789+-.eEtruefalsn", p[i]) && p[i])
                i++;
            if (i == s)
                goto fail;
        }
    closed:
        /* after a value: the close of its container(s), a comma, or the end */
        for (;;) {
            if (!depth) {
                end = i;
                goto out;
            }
            i = vet_jspan_ws(p, i, len);
            if (i >= len)
                goto fail;
            if (p[i] == ',') {
                want_key = stack[depth - 1] == '{';
                i++;
                break;
            }
            if (p[i] != (stack[depth - 1] == '{' ? '}' : ']'))
                goto fail;
            depth--;
            i++;
        }
    }
fail:
    *bad = i;
out:
    free(big);
    return end;
}

int vet_jspan_member(const char *p, size_t os, size_t oe, size_t *it, size_t *ks, size_t *ke,
                     size_t *vs, size_t *ve)
{
    size_t i = *it ? *it : os + 1, bad = 0;
    if (os >= oe || p[os] != '{') {
        *it = os;
        return -1;
    }
    i = vet_jspan_ws(p, i, oe);
    if (i < oe && *it && p[i] == ',') {
        i = vet_jspan_ws(p, i + 1, oe);
    } else if (i < oe && p[i] == '}') {
        *it = i + 1;
        return 0;
    } else if (*it) {
        goto fail; /* members are separated by commas */
    }
    if (i >= oe || p[i] != '"' || !(*ke = skip_string(p, i, oe, &bad)))
        goto fail;
    *ks = i;
    i = vet_jspan_ws(p, *ke, oe);
    if (i >= oe || p[i] != ':')
        goto fail;
    *vs = vet_jspan_ws(p, i + 1, oe);
    if (!(*ve = vet_jspan_skip(p, *vs, oe, &bad))) {
        i = bad;
        goto fail;
    }
    *it = *ve;
    return 1;
fail:
    *it = bad > i ? bad : i;
    return -1;
}

int vet_jspan_key_is(const char *p, size_t ks, size_t ke, const char *key)
{
    size_t n = strlen(key);
    return ke - ks == n + 2 && !memcmp(p + ks + 1, key, n);
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

char *vet_jspan_string(const char *p, size_t s, size_t e, size_t *n)
{
    size_t bad, o = 0;
    char *out;
    if (e < s + 2 || p[s] != '"' || skip_string(p, s, e, &bad) != e) {
        errno = EINVAL;
        return NULL;
    }
    /* unescaped text is never longer than the escaped one (\u escapes: 6 bytes -> at most 3;
     * a surrogate pair: 12 -> 4) */
    if (!(out = malloc(e - s - 1)))
        return NULL;
    for (size_t i = s + 1; i < e - 1;) {
        const char *bs = memchr(p + i, '\\', e - 1 - i);
        size_t run = bs ? (size_t)(bs - (p + i)) : e - 1 - i;
        unsigned cp = 0, lo = 0;
        memcpy(out + o, p + i, run);
        o += run;
        i += run;
        if (!bs)
            break;
        switch (p[i + 1]) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u':
            hex4(p + i + 2, &cp); /* checked by skip_string */
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 7 < e - 1 && p[i + 2] == '\\' &&
                p[i + 3] == 'u' && !hex4(p + i + 4, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd; /* a lone surrogate: what Go's decoder makes of it */
            }
            o += put_utf8(out + o, cp);
            break;
        default: /* " \ / */
            out[o++] = p[i + 1];
        }
        i += 2;
    }
    out[o] = '\0';
    if (n)
        *n = o;
    return out;
}
