/* GET, paginated LIST and writes on top of k8s_request, and the decoding of LIST pages and
 * Status bodies. A LIST page is walked as text and each item decoded alone, so memory holds one
 * page of bytes and one decoded object however many thousands of objects the cluster holds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "k8s_int.h"

#define PAGE_LIMIT 500

/* ---- decoding ---- */

static size_t skip_ws(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* End of the string starting at p[i] == '"' (index after the closing quote), or 0. */
static size_t skip_string(const char *p, size_t i, size_t len)
{
    /* memchr to each quote: one preceded by an odd run of backslashes is escaped (Secret values
     * are long base64 runs: this is a memory scan) */
    for (i++; i < len;) {
        const char *q = memchr(p + i, '"', len - i);
        size_t k, end;
        if (!q)
            return 0;
        end = k = (size_t)(q - p);
        while (k > i && p[k - 1] == '\\')
            k--;
        if ((end - k) % 2 == 0)
            return end + 1;
        i = end + 1;
    }
    return 0;
}

/* End of the JSON value at p[i] (no validation beyond bracket and string structure: the items
 * are validated by jansson one by one), or 0 when it runs off the end. */
static size_t skip_value(const char *p, size_t i, size_t len)
{
    size_t depth = 0;
    if (i >= len)
        return 0;
    if (p[i] == '"')
        return skip_string(p, i, len);
    if (p[i] != '{' && p[i] != '[') {
        while (i < len && !strchr(",}] \t\r\n", p[i]))
            i++;
        return i;
    }
    for (; i < len; i++) {
        if (p[i] == '"') {
            size_t e = skip_string(p, i, len);
            if (!e)
                return 0;
            i = e - 1;
        } else if (p[i] == '{' || p[i] == '[')
            depth++;
        else if (p[i] == '}' || p[i] == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

char *vet_k8s_status_message(const char *data, size_t len, long *code, char **reason)
{
    json_t *root = json_loadb(data, len, 0, NULL);
    const char *kind, *msg, *rs;
    char *out = NULL;
    *code = 0;
    if (reason)
        *reason = NULL;
    if (!json_is_object(root))
        goto done;
    kind = json_string_value(json_object_get(root, "kind"));
    if (!kind || strcmp(kind, "Status"))
        goto done;
    *code = json_is_integer(json_object_get(root, "code"))
                ? (long)json_integer_value(json_object_get(root, "code"))
                : 0;
    msg = json_string_value(json_object_get(root, "message"));
    rs = json_string_value(json_object_get(root, "reason"));
    if (reason && rs)
        *reason = strdup(rs);
    out = strdup(msg && *msg ? msg : rs ? rs : "(Status without a message)");
    /* One line: a message spanning lines would break the CLI's contract. */
    for (char *q = out; q && *q; q++)
        if (*q == '\n' || *q == '\r' || (unsigned char)*q < 0x20)
            *q = ' ';
done:
    json_decref(root);
    return out;
}

static int page_error(size_t off, const char *what)
{
    return vet_error_set(VET_EINPUT, "list response: offset %zu: %s", off, what);
}

/* Each item goes to raw (its text) or, decoded, to fn. */
static int decode_page(const char *p, size_t len, vet_k8s_item_fn fn, vet_k8s_raw_fn raw, void *ud,
                       char **out_continue)
{
    size_t i = skip_ws(p, 0, len);
    int rc = 0, is_status = 0;
    if (out_continue)
        *out_continue = NULL;
    if (i >= len || p[i] != '{')
        return page_error(i, "not a JSON object");
    i = skip_ws(p, i + 1, len);
    while (i < len && p[i] != '}') {
        size_t ks = i, ke, vs, ve;
        if (p[i] != '"' || !(ke = skip_string(p, i, len)))
            return page_error(i, "expected a key");
        i = skip_ws(p, ke, len);
        if (i >= len || p[i] != ':')
            return page_error(i, "expected ':'");
        vs = skip_ws(p, i + 1, len);
        if (!(ve = skip_value(p, vs, len)) || ve == vs)
            return page_error(vs, "truncated value");
        if (ke - ks == 7 && !memcmp(p + ks, "\"items\"", 7)) {
            size_t j = vs;
            /* Go encodes a nil slice as null: an empty page. */
            if (ve - vs == 4 && !memcmp(p + vs, "null", 4))
                goto next;
            if (p[j] != '[')
                return page_error(j, "items is not an array");
            j = skip_ws(p, j + 1, ve);
            while (j < ve - 1) {
                size_t e = skip_value(p, j, ve);
                json_error_t jerr;
                json_t *item;
                if (!e || e == j)
                    return page_error(j, "bad item");
                if (raw) {
                    if (p[j] != '{')
                        return page_error(j, "item is not an object");
                    if ((rc = raw(ud, p + j, e - j)))
                        return rc;
                    goto next_item;
                }
                if (!(item = json_loadb(p + j, e - j, 0, &jerr)))
                    return vet_error_set(VET_EINPUT, "list response: offset %zu: %s",
                                         j + (size_t)(jerr.position > 0 ? jerr.position : 0),
                                         jerr.text);
                rc = json_is_object(item) ? fn(ud, item) : page_error(j, "item is not an object");
                json_decref(item);
                if (rc)
                    return rc;
            next_item:
                j = skip_ws(p, e, ve);
                if (j < ve - 1 && p[j] == ',')
                    j = skip_ws(p, j + 1, ve);
                else if (j != ve - 1)
                    return page_error(j, "expected ',' between items");
            }
        } else if (ke - ks == 10 && !memcmp(p + ks, "\"metadata\"", 10) && out_continue) {
            json_t *m = json_loadb(p + vs, ve - vs, 0, NULL);
            const char *cont = json_string_value(json_object_get(m, "continue"));
            free(*out_continue);
            *out_continue = cont && *cont ? strdup(cont) : NULL;
            json_decref(m);
        } else if (ke - ks == 6 && !memcmp(p + ks, "\"kind\"", 6)) {
            is_status = ve - vs == 8 && !memcmp(p + vs, "\"Status\"", 8);
        }
    next:
        i = skip_ws(p, ve, len);
        if (i < len && p[i] == ',')
            i = skip_ws(p, i + 1, len);
        else if (i >= len || p[i] != '}')
            return page_error(i, "expected ',' or '}'");
    }
    if (i >= len)
        return page_error(i, "truncated object");
    if (is_status) {
        long code;
        char *msg = vet_k8s_status_message(p, len, &code, NULL);
        rc = vet_error_set(VET_ENET, "Status %ld: %s", code, msg ? msg : "?");
        free(msg);
        if (out_continue) {
            free(*out_continue);
            *out_continue = NULL;
        }
    }
    return rc;
}

int vet_k8s_decode_page(const char *p, size_t len, vet_k8s_item_fn fn, void *ud,
                        char **out_continue)
{
    return decode_page(p, len, fn, NULL, ud, out_continue);
}

/* ---- requests ---- */

int vet_k8s_get(json_t **out, vet_k8s *c, const char *path)
{
    vet_buf b = VET_BUF_INIT;
    json_error_t jerr;
    int rc;
    *out = NULL;
    if ((rc = k8s_request(c, "GET", path, NULL, NULL, &b, NULL, path)))
        goto done;
    if (!(*out = json_loadb(b.ptr ? b.ptr : "", b.size, 0, &jerr)))
        rc = vet_error_set(VET_ENET, "%s: GET %s: response is not JSON (offset %d: %s)",
                           c->cfg->server, path, jerr.position, jerr.text);
done:
    vet_buf_free(&b);
    return rc;
}

static int append_query(vet_buf *q, const char *key, const char *val)
{
    vet_buf tmp = VET_BUF_INIT;
    const char *esc;
    int rc = 0;
    /* Percent-encode by hand: curl_easy_escape is not among the loaded entry points. */
    for (const unsigned char *s = (const unsigned char *)val; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("-_.~", *s))
            rc = vet_buf_put(&tmp, s, 1);
        else
            rc = vet_buf_printf(&tmp, "%%%02X", *s);
        if (rc) {
            vet_buf_free(&tmp);
            return rc;
        }
    }
    esc = tmp.ptr ? tmp.ptr : "";
    rc = vet_buf_printf(q, "%c%s=%s", q->size && strchr(q->ptr, '?') ? '&' : '?', key, esc);
    vet_buf_free(&tmp);
    return rc;
}

static int page_url(vet_buf *q, const char *path, const char *label_selector,
                    const char *field_selector, const char *cont, int limit)
{
    int rc;
    vet_buf_clear(q);
    if ((rc = vet_buf_puts(q, path)) ||
        (label_selector && *label_selector &&
         (rc = append_query(q, "labelSelector", label_selector))) ||
        (field_selector && *field_selector &&
         (rc = append_query(q, "fieldSelector", field_selector))) ||
        (rc = vet_buf_printf(q, "%climit=%d", strchr(q->ptr, '?') ? '&' : '?', limit)) ||
        (cont && (rc = append_query(q, "continue", cont))))
        return rc;
    return 0;
}

static int list(vet_k8s *c, const char *path, const char *label_selector,
                const char *field_selector, vet_k8s_item_fn fn, vet_k8s_reset_fn reset, void *ud)
{
    vet_buf q = VET_BUF_INIT, body = VET_BUF_INIT;
    char *cont = NULL;
    int rc = 0, restarted = 0;
    long status = 0;
    for (;;) {
        if ((rc = page_url(&q, path, label_selector, field_selector, cont, PAGE_LIMIT)))
            goto done;
        rc = k8s_request(c, "GET", q.ptr, NULL, NULL, &body, &status, path);
        if (rc && status == 410 && cont && !restarted && reset) {
            /* The continue token expired: etcd compacted past the resourceVersion the first
             * page was read at. client-go's pager then lists again from the top and that list
             * replaces the pages it had read (tools/pager, FullListIfExpired): the caller
             * forgets what it was given, and the list starts over, once. */
            restarted = 1;
            free(cont);
            cont = NULL;
            vet_error_clear();
            if ((rc = reset(ud)))
                goto done;
            continue;
        }
        if (rc)
            goto done;
        free(cont);
        cont = NULL;
        if ((rc = decode_page(body.ptr ? body.ptr : "", body.size, fn, NULL, ud, &cont))) {
            if (rc == VET_EINPUT || rc == VET_ENET)
                vet_error_prefix(c->cfg->server);
            goto done;
        }
        if (!cont)
            break;
    }
done:
    free(cont);
    vet_buf_free(&q);
    vet_buf_free(&body);
    return rc;
}

/* One page request, run on the fetch thread while the caller's thread reads the page before. */
typedef struct {
    vet_k8s *c;
    const char *path;
    vet_buf url, body;
    long status;
    int rc;
    char err[1024]; /* the error is thread-local: carried over by hand */
} fetch;

static void *fetch_run(void *arg)
{
    fetch *f = arg;
    vet_buf_clear(&f->body);
    f->status = 0;
    f->rc = k8s_request(f->c, "GET", f->url.ptr, NULL, NULL, &f->body, &f->status, f->path);
    if (f->rc)
        snprintf(f->err, sizeof f->err, "%s", vet_error_last());
    return NULL;
}

/* metadata.continue of a page, read without walking its items' insides. */
static int page_continue(const char *p, size_t len, char **out)
{
    size_t i = skip_ws(p, 0, len);
    *out = NULL;
    if (i >= len || p[i] != '{')
        return 0; /* decode_page says what is wrong with it */
    i = skip_ws(p, i + 1, len);
    while (i < len && p[i] == '"') {
        size_t ke = skip_string(p, i, len), vs, ve;
        if (!ke)
            return 0;
        vs = skip_ws(p, ke, len);
        if (vs >= len || p[vs] != ':')
            return 0;
        vs = skip_ws(p, vs + 1, len);
        if (!(ve = skip_value(p, vs, len)))
            return 0;
        if (ke - i == 10 && !memcmp(p + i, "\"metadata\"", 10)) {
            json_t *m = json_loadb(p + vs, ve - vs, 0, NULL);
            const char *cont = json_string_value(json_object_get(m, "continue"));
            int rc = 0;
            if (cont && *cont && !(*out = strdup(cont)))
                rc = vet_error_set(VET_ENOMEM, "out of memory");
            json_decref(m);
            return rc;
        }
        i = skip_ws(p, ve, len);
        if (i < len && p[i] == ',')
            i = skip_ws(p, i + 1, len);
    }
    return 0;
}

/* The raw list reads page N+1 on a second thread while the caller reads page N: the server's
 * time (serialising, TLS) and the caller's (decoding large items) overlap, on two cores. Pages
 * are half the usual size so that two of them cost what one did. */
#define RAW_PAGE_LIMIT (PAGE_LIMIT / 2)

static int list_raw(vet_k8s *c, const char *path, const char *label_selector,
                    const char *field_selector, vet_k8s_raw_fn raw, vet_k8s_reset_fn reset,
                    void *ud)
{
    fetch f[2];
    fetch *cur = &f[0], *next = &f[1];
    char *cont = NULL;
    int rc = 0, restarted = 0, running = 0, continued = 0; /* cur was asked with a token */
    pthread_t t;
    memset(f, 0, sizeof f);
    for (int k = 0; k < 2; k++) {
        f[k].c = c;
        f[k].path = path;
    }
    if ((rc = page_url(&cur->url, path, label_selector, field_selector, NULL, RAW_PAGE_LIMIT)))
        goto done;
    fetch_run(cur);
    for (;;) {
        if (cur->rc && cur->status == 410 && continued && !restarted && reset) {
            /* as in list(): an expired continue token restarts the list once, the caller
             * having forgotten the pages before */
            restarted = 1;
            continued = 0;
            if ((rc = reset(ud)) || (rc = page_url(&cur->url, path, label_selector, field_selector,
                                                   NULL, RAW_PAGE_LIMIT)))
                goto done;
            fetch_run(cur);
            continue;
        }
        if (cur->rc) {
            rc = vet_error_set(cur->rc, "%s", cur->err);
            goto done;
        }
        free(cont);
        if ((rc = page_continue(cur->body.ptr ? cur->body.ptr : "", cur->body.size, &cont)))
            goto done;
        if (cont) {
            if ((rc = page_url(&next->url, path, label_selector, field_selector, cont,
                               RAW_PAGE_LIMIT)))
                goto done;
            running = pthread_create(&t, NULL, fetch_run, next) == 0;
            if (!running)
                fetch_run(next); /* no thread: the same, one after the other */
        }
        rc = decode_page(cur->body.ptr ? cur->body.ptr : "", cur->body.size, NULL, raw, ud, NULL);
        if (running) {
            pthread_join(t, NULL);
            running = 0;
        }
        if (rc) {
            if (rc == VET_EINPUT || rc == VET_ENET)
                vet_error_prefix(c->cfg->server);
            goto done;
        }
        if (!cont)
            break;
        {
            fetch *x = cur;
            cur = next;
            next = x;
            continued = 1;
        }
    }
done:
    if (running)
        pthread_join(t, NULL);
    free(cont);
    for (int k = 0; k < 2; k++) {
        vet_buf_free(&f[k].url);
        vet_buf_free(&f[k].body);
    }
    return rc;
}

int vet_k8s_list(vet_k8s *c, const char *path, const char *label_selector,
                 const char *field_selector, vet_k8s_item_fn fn, vet_k8s_reset_fn reset, void *ud)
{
    return list(c, path, label_selector, field_selector, fn, reset, ud);
}

int vet_k8s_list_raw(vet_k8s *c, const char *path, const char *label_selector,
                     const char *field_selector, vet_k8s_raw_fn fn, vet_k8s_reset_fn reset,
                     void *ud)
{
    return list_raw(c, path, label_selector, field_selector, fn, reset, ud);
}

static int write_obj(json_t **out, vet_k8s *c, const char *method, const char *path,
                     const json_t *obj, const char *ctype)
{
    vet_buf b = VET_BUF_INIT;
    char *text = json_dumps(obj, JSON_COMPACT);
    int rc;
    if (out)
        *out = NULL;
    if (!text)
        return vet_error_set(VET_ENOMEM, "out of memory");
    rc = k8s_request(c, method, path, text, ctype, &b, NULL, path);
    if (!rc && out && !(*out = json_loadb(b.ptr ? b.ptr : "", b.size, 0, NULL)))
        rc = vet_error_set(VET_ENET, "%s: %s %s: response is not JSON", c->cfg->server, method,
                           path);
    free(text);
    vet_buf_free(&b);
    return rc;
}

int vet_k8s_create(json_t **out, vet_k8s *c, const char *path, const json_t *obj)
{
    return write_obj(out, c, "POST", path, obj, "application/json");
}

int vet_k8s_update(json_t **out, vet_k8s *c, const char *path, const json_t *obj)
{
    return write_obj(out, c, "PUT", path, obj, "application/json");
}

int vet_k8s_patch(json_t **out, vet_k8s *c, const char *path, const json_t *patch)
{
    return write_obj(out, c, "PATCH", path, patch, "application/merge-patch+json");
}

int vet_k8s_delete(vet_k8s *c, const char *path)
{
    vet_buf b = VET_BUF_INIT;
    int rc = k8s_request(c, "DELETE", path, NULL, NULL, &b, NULL, path);
    vet_buf_free(&b);
    return rc;
}
