/* jansson's indented, ASCII-only JSON format (JSON_INDENT(2) | JSON_PRESERVE_ORDER |
 * JSON_ENSURE_ASCII), written through one 64 KiB buffer. The format, as jansson 2.x writes it:
 * "{" or "[", then each member on its own line indented two spaces per level, members separated by
 * ",", "key": value with one space after the colon, the closing bracket on its own line at the
 * parent's indentation; empty containers are {} and []. Strings escape \\ and \" and the controls
 * (\b \f \n \r \t by name, the rest \u00XX), and every non-ASCII character as \uXXXX (upper-case
 * hex; UTF-16 surrogate pairs above the BMP). Object members in insertion order. */
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define OUT_CAP 65536

#define MAX_OPEN 64

typedef struct vet_json_writer {
    FILE *out;
    size_t n;
    int err;
    /* streaming: open containers, and whether each has a member yet */
    int depth, after_key;
    char close[MAX_OPEN];
    unsigned char members[MAX_OPEN];
    char b[OUT_CAP];
} wbuf;

static void flush(wbuf *w)
{
    if (w->n && fwrite(w->b, 1, w->n, w->out) != w->n)
        w->err = 1;
    w->n = 0;
}

static void put(wbuf *w, const char *p, size_t n)
{
    if (n > OUT_CAP - w->n) {
        flush(w);
        if (n > OUT_CAP) {
            if (fwrite(p, 1, n, w->out) != n)
                w->err = 1;
            return;
        }
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void putc1(wbuf *w, char c)
{
    if (w->n == OUT_CAP)
        flush(w);
    w->b[w->n++] = c;
}

static void newline(wbuf *w, int depth)
{
    static const char spaces[] = "                                ";
    size_t n = (size_t)depth * 2;
    putc1(w, '\n');
    while (n) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        put(w, spaces, k);
        n -= k;
    }
}

static void u16(wbuf *w, unsigned v)
{
    static const char hex[] = "0123456789ABCDEF";
    char s[6];
    s[0] = '\\';
    s[1] = 'u';
    for (int i = 0; i < 4; i++)
        s[2 + i] = hex[(v >> (12 - 4 * i)) & 15];
    put(w, s, 6);
}

/* Length of the UTF-8 sequence at p (at most n bytes) and its code point; 0 when invalid. jansson
 * strings are valid UTF-8 (json_string checks), so 0 means a string made with *_nocheck. */
static size_t utf8(const unsigned char *p, size_t n, unsigned *cp)
{
    size_t len = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    unsigned v;
    if (!len || len > n || p[0] >= 0xF5)
        return 0;
    v = p[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return len;
}

int vet_json_utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    unsigned cp;
    for (size_t i = 0; i < n;) {
        size_t k = s[i] < 0x80 ? 1 : utf8(s + i, n - i, &cp);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static void string(wbuf *w, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + len, *run = s;
    putc1(w, '"');
    while (s < e) {
        unsigned char c = *s;
        unsigned cp;
        size_t n;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            s++;
            continue;
        }
        put(w, (const char *)run, (size_t)(s - run));
        if (c < 0x80) {
            const char *esc = c == '"'    ? "\\\""
                              : c == '\\' ? "\\\\"
                              : c == '\b' ? "\\b"
                              : c == '\f' ? "\\f"
                              : c == '\n' ? "\\n"
                              : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t"
                                          : NULL;
            if (esc)
                put(w, esc, 2);
            else
                u16(w, c);
            s++;
        } else if (!(n = utf8(s, (size_t)(e - s), &cp))) {
            w->err = 1; /* jansson refuses to write it too */
            return;
        } else {
            if (cp < 0x10000) {
                u16(w, cp);
            } else {
                cp -= 0x10000;
                u16(w, 0xD800 | (cp >> 10));
                u16(w, 0xDC00 | (cp & 0x3FF));
            }
            s += n;
        }
        run = s;
    }
    put(w, (const char *)run, (size_t)(s - run));
    putc1(w, '"');
}

static void value(wbuf *w, const json_t *j, int depth)
{
    char num[32];
    switch (json_typeof(j)) {
    case JSON_NULL:
        put(w, "null", 4);
        break;
    case JSON_TRUE:
        put(w, "true", 4);
        break;
    case JSON_FALSE:
        put(w, "false", 5);
        break;
    case JSON_INTEGER: {
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        put(w, num, (size_t)n);
        break;
    }
    case JSON_REAL: {
        /* jansson's own shortest round-trip form (rare in reports: not worth redoing) */
        char *s = json_dumps(j, JSON_ENCODE_ANY);
        if (!s) {
            w->err = 1;
            break;
        }
        put(w, s, strlen(s));
        free(s);
        break;
    }
    case JSON_STRING:
        string(w, json_string_value(j), json_string_length(j));
        break;
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        putc1(w, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                putc1(w, ',');
            newline(w, depth + 1);
            value(w, json_array_get(j, i), depth + 1);
        }
        if (n)
            newline(w, depth);
        putc1(w, ']');
        break;
    }
    case JSON_OBJECT: {
        void *it = json_object_iter((json_t *)j);
        int first = 1;
        putc1(w, '{');
        for (; it; it = json_object_iter_next((json_t *)j, it)) {
            if (!first)
                putc1(w, ',');
            first = 0;
            newline(w, depth + 1);
            string(w, json_object_iter_key(it), json_object_iter_key_len(it));
            put(w, ": ", 2);
            value(w, json_object_iter_value(it), depth + 1);
        }
        if (!first)
            newline(w, depth);
        putc1(w, '}');
        break;
    }
    }
}

vet_json_writer *vet_json_writer_new(FILE *out)
{
    wbuf *w = malloc(sizeof *w);
    if (w) {
        w->out = out;
        w->n = 0;
        w->err = w->depth = w->after_key = 0;
    }
    return w;
}

int vet_json_writer_free(vet_json_writer *w)
{
    int err;
    flush(w);
    err = w->err || w->depth;
    free(w);
    return err ? -1 : 0;
}

/* Before a member: the separator and the indentation of the enclosing container. */
static void member(wbuf *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->depth)
        return;
    if (w->members[w->depth - 1])
        putc1(w, ',');
    w->members[w->depth - 1] = 1;
    newline(w, w->depth);
}

void vet_json_open(vet_json_writer *w, char bracket)
{
    member(w);
    if (w->depth == MAX_OPEN) {
        w->err = 1;
        return;
    }
    putc1(w, bracket);
    w->close[w->depth] = bracket == '{' ? '}' : ']';
    w->members[w->depth++] = 0;
}

void vet_json_close(vet_json_writer *w)
{
    if (!w->depth) {
        w->err = 1;
        return;
    }
    w->depth--;
    if (w->members[w->depth])
        newline(w, w->depth);
    putc1(w, w->close[w->depth]);
}

void vet_json_key(vet_json_writer *w, const char *key)
{
    member(w);
    string(w, key, strlen(key));
    put(w, ": ", 2);
    w->after_key = 1;
}

void vet_json_value(vet_json_writer *w, const json_t *v)
{
    member(w);
    if (v)
        value(w, v, w->depth);
    else
        put(w, "null", 4);
}

void vet_json_string(vet_json_writer *w, const char *s)
{
    member(w);
    string(w, s, strlen(s));
}

int vet_json_dumpf(const json_t *j, FILE *out)
{
    wbuf *w = vet_json_writer_new(out);
    if (!w)
        return json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    value(w, j, 0);
    return vet_json_writer_free(w);
}
