/* The per-file diff of the plan renderer. Certificates, keys and kubeconfigs are mostly base64:
 * a line diff of that is noise, so a PEM block or a long base64 value becomes one line
 * ("[CERTIFICATE 3f9a12c0]") before diffing, and a private key is never shown at all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "hash.h"
#include "plan_int.h"

#define CONTEXT 3
#define MAX_CELLS (4u << 20) /* LCS table cap: beyond it the whole file is shown as replaced */

typedef struct {
    char *text; /* what is printed */
    uint64_t h; /* what is compared: a hash of the raw bytes */
} line;

typedef struct {
    line *v;
    size_t n, cap;
} lines;

static int push(lines *l, char *text, const char *raw, size_t rawlen)
{
    if (!text)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        line *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(text);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].text = text;
    l->v[l->n++].h = vet_fnv1a(VET_FNV1A_INIT, raw, rawlen);
    return 0;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].text);
    free(l->v);
}

static int is_b64(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/' || s[i] == '='))
            return 0;
    return 1;
}

/* `side` is 0 for the old file, 1 for the new one: a replaced key reads "new private key". */
static int split(lines *out, const char *d, size_t len, int side)
{
    size_t i = 0;
    int rc = 0;
    while (i < len && !rc) {
        const char *s = d + i, *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i, next = i + n + (nl ? 1 : 0);
        size_t tl = n && s[n - 1] == '\r' ? n - 1 : n;
        if (tl > 16 && !strncmp(s, "-----BEGIN ", 11) && !strncmp(s + tl - 5, "-----", 5)) {
            /* Take the block up to its END line as one. */
            char label[64];
            size_t ll = tl - 16 < sizeof label - 1 ? tl - 16 : sizeof label - 1;
            const char *end = NULL;
            memcpy(label, s + 11, ll);
            label[ll] = '\0';
            for (size_t j = next; j < len;) {
                const char *e = memchr(d + j, '\n', len - j);
                size_t el = e ? (size_t)(e - d - j) : len - j;
                if (el >= 9 && !strncmp(d + j, "-----END ", 9)) {
                    end = d + j + el;
                    next = e ? (size_t)(e - d) + 1 : len;
                    break;
                }
                j = e ? (size_t)(e - d) + 1 : len;
            }
            if (end) {
                size_t raw = (size_t)(end - s);
                if (strstr(label, "PRIVATE KEY"))
                    rc = push(out, vet_strdupf("[%s%s, not shown]", side ? "new " : "", label), s,
                              raw);
                else
                    rc = push(out,
                              vet_strdupf("[%s %08x]", label,
                                          (unsigned)vet_fnv1a(VET_FNV1A_INIT, s, raw)),
                              s, raw);
                i = next;
                continue;
            }
        }
        {
            /* "  client-certificate-data: <base64>" */
            const char *colon = memchr(s, ':', tl);
            if (colon && colon + 2 < s + tl && colon[1] == ' ' &&
                (size_t)(s + tl - colon - 2) > 64 &&
                is_b64(colon + 2, (size_t)(s + tl - colon - 2))) {
                int secret = (colon - s >= 8 && !strncmp(colon - 8, "key-data", 8)) ||
                             (colon - s >= 5 && !strncmp(colon - 5, "token", 5));
                size_t vl = (size_t)(s + tl - colon - 2);
                if (secret)
                    rc = push(out,
                              vet_strdupf("%.*s: [%sprivate key, not shown]", (int)(colon - s), s,
                                          side ? "new " : ""),
                              s, tl);
                else
                    rc = push(out,
                              vet_strdupf("%.*s: [base64, %zu bytes, %08x]", (int)(colon - s), s,
                                          vl / 4 * 3, (unsigned)vet_fnv1a(VET_FNV1A_INIT, s, tl)),
                              s, tl);
            } else {
                rc = push(out, vet_strdupf("%.*s", (int)(tl > 200 ? 200 : tl), s), s, tl);
            }
        }
        i = next;
    }
    return rc;
}

typedef struct {
    char op; /* ' ', '-', '+' */
    size_t a, b;
} edit;

/* Longest common subsequence over the line hashes; files here are small (kubeconfigs,
 * manifests, PEM files), so the quadratic table is fine up to MAX_CELLS. */
static int script(edit **out, size_t *nout, const lines *x, const lines *y)
{
    size_t n = x->n, m = y->n, k = 0, i = 0, j = 0;
    uint32_t *t = NULL;
    edit *e = malloc((n + m + 1) * sizeof *e);
    if (!e)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if ((n + 1) * (m + 1) <= MAX_CELLS && (t = calloc((n + 1) * (m + 1), sizeof *t))) {
        for (size_t a = n; a-- > 0;)
            for (size_t b = m; b-- > 0;)
                t[a * (m + 1) + b] = x->v[a].h == y->v[b].h
                                         ? t[(a + 1) * (m + 1) + b + 1] + 1
                                         : (t[(a + 1) * (m + 1) + b] > t[a * (m + 1) + b + 1]
                                                ? t[(a + 1) * (m + 1) + b]
                                                : t[a * (m + 1) + b + 1]);
        while (i < n && j < m) {
            if (x->v[i].h == y->v[j].h) {
                e[k++] = (edit){' ', i++, j++};
            } else if (t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
                e[k++] = (edit){'-', i++, j};
            } else {
                e[k++] = (edit){'+', i, j++};
            }
        }
    }
    free(t);
    while (i < n)
        e[k++] = (edit){'-', i++, j};
    while (j < m)
        e[k++] = (edit){'+', i, j++};
    *out = e;
    *nout = k;
    return 0;
}

int plan_diff(char **out, const char *label, const unsigned char *old, size_t oldlen,
              const unsigned char *neu, size_t newlen)
{
    lines x = {0}, y = {0};
    edit *e = NULL;
    size_t ne = 0;
    int changed = 0;
    vet_buf b = VET_BUF_INIT;
    int rc;
    *out = NULL;
    if ((rc = split(&x, (const char *)old, old ? oldlen : 0, 0)) ||
        (rc = split(&y, (const char *)neu, neu ? newlen : 0, 1)) || (rc = script(&e, &ne, &x, &y)))
        goto done;
    vet_buf_printf(&b, "   --- %s%s\n   +++ %s\n", old ? "a/" : "", old ? label : "/dev/null",
                   label);
    if (!old && !neu)
        vet_buf_puts(&b, "   (empty)\n");
    for (size_t i = 0; i < ne;) {
        size_t start, end, ca = 0, cb = 0;
        if (e[i].op == ' ') {
            i++;
            continue;
        }
        /* A hunk: from CONTEXT lines before this change to CONTEXT lines after the last change
         * that is at most 2*CONTEXT unchanged lines away. */
        start = i > CONTEXT ? i - CONTEXT : 0;
        end = i;
        for (size_t j = i, gap = 0; j < ne; j++) {
            if (e[j].op == ' ') {
                if (++gap > 2 * CONTEXT)
                    break;
            } else {
                gap = 0;
                end = j;
            }
        }
        end = end + CONTEXT + 1 < ne ? end + CONTEXT + 1 : ne;
        for (size_t j = start; j < end; j++) {
            ca += e[j].op != '+';
            cb += e[j].op != '-';
        }
        vet_buf_printf(&b, "   @@ -%zu,%zu +%zu,%zu @@\n", e[start].a + (ca ? 1 : 0), ca,
                       e[start].b + (cb ? 1 : 0), cb);
        for (size_t j = start; j < end; j++)
            vet_buf_printf(&b, "   %c%s\n", e[j].op,
                           e[j].op == '+' ? y.v[e[j].b].text : x.v[e[j].a].text);
        i = end;
        changed = 1;
    }
    if (!changed && (old || neu))
        vet_buf_puts(&b, "   (no change)\n");
    if (!b.ptr || !b.size)
        rc = vet_error_set(VET_ENOMEM, "out of memory");
    else
        *out = vet_buf_detach(&b);
done:
    vet_buf_free(&b);
    free(e);
    lines_free(&x);
    lines_free(&y);
    return rc;
}

/* A JSON object as indented text with its resourceVersion dropped (it always moves). */
static char *object_text(json_t *o)
{
    json_t *c = json_deep_copy(o);
    char *t;
    json_object_del(json_object_get(c, "metadata"), "resourceVersion");
    json_object_del(json_object_get(c, "metadata"), "managedFields");
    t = json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(c);
    return t;
}

int plan_api_diff(char **out, const vet_action *a)
{
    if (a->diff_label) {
        /* the caller said what to compare (helm map: the release manifests) */
        const char *b = a->diff_before, *n = a->diff_after;
        return plan_diff(out, a->diff_label, (const unsigned char *)b, b ? strlen(b) : 0,
                         (const unsigned char *)n, n ? strlen(n) : 0);
    }

    json_t *cur = json_loads(a->api_current, 0, NULL), *neu = json_loads(a->api_body, 0, NULL);
    json_t *cd = json_object_get(cur, "data"), *nd = json_object_get(neu, "data");
    vet_buf b = VET_BUF_INIT;
    char *label = NULL, *d = NULL;
    int rc = 0;
    *out = NULL;
    if (!cur || !neu) {
        rc = vet_error_set(VET_EINPUT, "%s %s: the object is not JSON", a->api_kind, a->api_name);
        goto done;
    }
    if (json_is_object(cd) && json_is_object(nd)) {
        /* ConfigMap-like: one diff per changed key, the values being documents themselves
         * (ClusterConfiguration, a kubeconfig). Keys in sorted order, removed ones too. */
        json_t *keys = json_object();
        const char *k;
        json_t *v;
        void *it;
        json_object_foreach(cd, k, v) json_object_set(keys, k, json_null());
        json_object_foreach(nd, k, v) json_object_set(keys, k, json_null());
        for (it = json_object_iter(keys); it && !rc; it = json_object_iter_next(keys, it)) {
            const char *key = json_object_iter_key(it);
            const char *o = json_string_value(json_object_get(cd, key));
            const char *n = json_string_value(json_object_get(nd, key));
            if ((o && n && !strcmp(o, n)) || (!o && !n))
                continue;
            free(label);
            label = vet_strdupf("%s %s%s%s data.%s", a->api_kind,
                                a->api_namespace ? a->api_namespace : "",
                                a->api_namespace ? "/" : "", a->api_name, key);
            free(d);
            d = NULL;
            if (!label)
                rc = vet_error_set(VET_ENOMEM, "out of memory");
            else if (!(rc = plan_diff(&d, label, (const unsigned char *)o, o ? strlen(o) : 0,
                                      (const unsigned char *)n, n ? strlen(n) : 0)))
                vet_buf_puts(&b, d);
        }
        json_decref(keys);
    }
    if (!rc && !b.size) {
        /* Not ConfigMap-like, or only metadata changed: the whole objects. */
        char *o = object_text(cur), *n = object_text(neu);
        free(label);
        label = vet_strdupf("%s %s%s%s", a->api_kind, a->api_namespace ? a->api_namespace : "",
                            a->api_namespace ? "/" : "", a->api_name);
        if (!o || !n || !label)
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        else if (!(rc = plan_diff(&d, label, (const unsigned char *)o, strlen(o),
                                  (const unsigned char *)n, strlen(n))))
            vet_buf_puts(&b, d);
        free(o);
        free(n);
    }
    if (!rc)
        *out = vet_buf_detach(&b);
done:
    vet_buf_free(&b);
    free(label);
    free(d);
    json_decref(cur);
    json_decref(neu);
    return rc;
}
