/* Helm templates that are not YAML until rendered ({{- if }} lines, {{ include }} blocks).
 *
 * Without a parse, an edit is safe only where the text alone proves the object needs nothing
 * else: the top-level `apiVersion:` line of a kind whose conversion changes no field, and, for
 * workloads, that line plus the old API's defaults written under `spec:` when `spec.selector:`
 * is there. Everything else (Ingress backends, webhooks, CRD schemas, a workload without a
 * selector line, ...) is left byte for byte as it was and reported for a person: a template
 * with its apiVersion bumped and its body left old renders objects the new API rejects. An
 * if/else switch of apiVersion lines (semverCompare, .Capabilities.APIVersions.Has) needs
 * nothing when one branch is served at the target: Helm picks it there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "convert_int.h"
#include "error.h"

#define MAX_API_LINES 8

typedef struct {
    size_t vs, ve; /* value span (no quotes, blanks, comment) */
    size_t line;   /* 0-based line in the chunk */
} kline;

static size_t line_end(cv *c, size_t ls, size_t b)
{
    while (ls < b && c->file[ls] != '\n')
        ls++;
    return ls;
}

/* "key:" at column 0 on the line [ls, le): the value span after it. */
static int col0_key(cv *c, size_t ls, size_t le, const char *key, kline *out)
{
    size_t kl = strlen(key), p, e;
    if (le - ls <= kl || memcmp(c->file + ls, key, kl) || c->file[ls + kl] != ':')
        return 0;
    p = ls + kl + 1;
    while (p < le && (c->file[p] == ' ' || c->file[p] == '\t'))
        p++;
    if (p < le && (c->file[p] == '"' || c->file[p] == '\'')) {
        unsigned char q = c->file[p++];
        for (e = p; e < le && c->file[e] != q; e++)
            ;
        if (e >= le)
            return 0;
    } else {
        for (e = p; e < le && !(c->file[e] == '#' && e > p && c->file[e - 1] == ' '); e++)
            ;
        while (e > p && (c->file[e - 1] == ' ' || c->file[e - 1] == '\t' || c->file[e - 1] == '\r'))
            e--;
    }
    out->vs = p;
    out->ve = e;
    return 1;
}

/* Every column-0 "key:" line of [a, b), up to max. */
static size_t find_lines(cv *c, size_t a, size_t b, const char *key, kline *out, size_t max)
{
    size_t n = 0, ln = 0;
    for (size_t ls = a; ls < b; ln++) {
        size_t le = line_end(c, ls, b);
        kline k;
        if (col0_key(c, ls, le, key, &k)) {
            k.line = ln;
            if (n < max)
                out[n] = k;
            n++;
        }
        ls = le + 1;
    }
    return n;
}

/* [s, e) trimmed of blanks is one template action: starts with "{{", ends with "}}". */
static int directive_line(const unsigned char *p, size_t s, size_t e)
{
    while (s < e && (p[s] == ' ' || p[s] == '\t'))
        s++;
    while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\r'))
        e--;
    return e - s >= 4 && p[s] == '{' && p[s + 1] == '{' && p[e - 1] == '}' && p[e - 2] == '}';
}

static int blank_or_comment(const unsigned char *p, size_t s, size_t e)
{
    while (s < e && (p[s] == ' ' || p[s] == '\t' || p[s] == '\r'))
        s++;
    return s == e || p[s] == '#';
}

unsigned char *cv_template_mask(cv *c, size_t a, size_t b)
{
    const unsigned char *f = c->file;
    size_t first = b, last = a; /* the YAML body: [first, last) */
    unsigned char *m;
    /* leading and trailing lines that are template actions only ({{- if }}, {{- end }}, ...) */
    for (size_t ls = a; ls < b;) {
        size_t le = line_end(c, ls, b);
        if (!directive_line(f, ls, le) && !blank_or_comment(f, ls, le)) {
            first = ls;
            break;
        }
        ls = le + 1;
    }
    for (size_t ls = first; ls < b;) {
        size_t le = line_end(c, ls, b);
        if (!directive_line(f, ls, le) && !blank_or_comment(f, ls, le))
            last = le;
        ls = le + 1;
    }
    if (first >= last)
        return NULL;
    m = malloc(b - a);
    if (!m) {
        c->err = VET_ENOMEM;
        return NULL;
    }
    memcpy(m, f + a, b - a);
    for (size_t ls = a; ls < b;) {
        size_t le = line_end(c, ls, b);
        if (ls < first || ls > last) {
            if (directive_line(f, ls, le)) {
                /* a comment of the same length: offsets stay those of the file */
                m[ls - a] = '#';
                for (size_t i = ls + 1; i < le; i++)
                    if (f[i] != '\r')
                        m[i - a] = ' ';
            }
        } else if (directive_line(f, ls, le)) {
            goto no; /* an action between keys: the YAML shape is the template's to decide */
        } else if (!blank_or_comment(f, ls, le)) {
            /* {{ ... }} inside a value on this line: after "key: " or "- " */
            for (size_t i = ls; i + 1 < le; i++) {
                size_t j, k;
                if (f[i] != '{' || f[i + 1] != '{')
                    continue;
                for (k = ls; k < i && f[k] != ':' && f[k] != '-'; k++)
                    ;
                if (k >= i)
                    goto no;
                for (j = i + 2; j + 1 < le && !(f[j] == '}' && f[j + 1] == '}'); j++)
                    ;
                if (j + 1 >= le)
                    goto no; /* an action over several lines */
                /* letters derived from the action's bytes: the same text masks the same */
                for (size_t x = i; x <= j + 1; x++)
                    m[x - a] = (unsigned char)('a' + f[x] % 26);
                i = j + 1;
            }
        }
        ls = le + 1;
    }
    return m;
no:
    free(m);
    return NULL;
}

size_t cv_count_api_lines(cv *c, size_t a, size_t b)
{
    kline k[1];
    return find_lines(c, a, b, "apiVersion", k, 1);
}

static int has_text(cv *c, size_t a, size_t b, const char *w)
{
    size_t l = strlen(w);
    for (size_t i = a; i + l <= b; i++)
        if (c->file[i] == (unsigned char)w[0] && !memcmp(c->file + i, w, l))
            return 1;
    return 0;
}

/* A line of [a, b) that is `ind` blanks then "key:". */
static int has_key_at(cv *c, size_t a, size_t b, size_t ind, const char *key)
{
    size_t kl = strlen(key);
    for (size_t ls = a; ls < b;) {
        size_t le = line_end(c, ls, b), i = ls;
        while (i < le && c->file[i] == ' ')
            i++;
        if (i - ls == ind && le - i > kl && !memcmp(c->file + i, key, kl) && c->file[i + kl] == ':')
            return 1;
        ls = le + 1;
    }
    return 0;
}

typedef struct {
    vet_buf why; /* why a person must look (empty: convertible) */
    vet_buf did; /* what the line edits did */
    vet_buf ins; /* lines inserted after `spec:` */
    size_t at;   /* where they go */
} tpl;

static void tpl_why(tpl *t, const char *s)
{
    if (t->why.size)
        vet_buf_puts(&t->why, "; ");
    vet_buf_puts(&t->why, s);
}

static void tpl_line(cv *c, tpl *t, size_t ind, const char *key, const char *val)
{
    for (size_t i = 0; i < ind; i++)
        vet_buf_puts(&t->ins, " ");
    vet_buf_printf(&t->ins, "%s:%s%s%s", key, val ? " " : "", val ? val : "",
                   c->crlf ? "\r\n" : "\n");
}

/* A workload template: the selector must be there (apps/v1 requires it; only the template knows
 * what it renders), and the old API's defaults go under `spec:` as plain lines. */
static void tpl_workload(cv *c, const rule *r, size_t a, size_t b, tpl *t)
{
    size_t ln = 0, spec_end = 0, body = 0, end = b, ind = 0;
    cv_default d[4];
    const char *mu, *ms, *up;
    size_t nd;
    vet_buf what = VET_BUF_INIT;

    for (size_t ls = a; ls < b && !body; ln++) {
        size_t le = line_end(c, ls, b);
        kline k;
        if (col0_key(c, ls, le, "spec", &k) && k.vs == k.ve) {
            spec_end = le;
            body = le < b ? le + 1 : b;
        }
        ls = le + 1;
    }
    if (!body) {
        tpl_why(t, "no column-0 `spec:` line to check spec.selector under");
        return;
    }
    /* the spec body runs to the next column-0 key; template directive lines do not end it */
    for (size_t ls = body; ls < b;) {
        size_t le = line_end(c, ls, b);
        unsigned char ch = c->file[ls];
        if (ls < le && ch != ' ' && ch != '\t' && ch != '#' && ch != '{' && ch != '\r') {
            end = ls;
            break;
        }
        if (!ind) {
            size_t i = ls;
            while (i < le && c->file[i] == ' ')
                i++;
            if (i < le && i > ls && c->file[i] != '#' && c->file[i] != '{' && c->file[i] != '\r')
                ind = i - ls;
        }
        ls = le + 1;
    }
    if (!ind) {
        tpl_why(t, "spec: has no plain keys to check spec.selector among");
        return;
    }
    if (!has_key_at(c, body, end, ind, "selector")) {
        tpl_why(t, "spec.selector is missing: apps/v1 requires it (the old API defaulted it to "
                   "the pod template labels); add spec.selector.matchLabels with the labels the "
                   "live object selects (usually the chart's selector-labels helper)");
        return;
    }
    vet_buf_puts(&t->did, "; spec.selector is rendered by the template (check it matches the "
                          "pod labels: kubevet apis scan on the rendered chart)");
    nd = cv_workload_defaults(r->from, r->kind, d, &mu, &ms, &up);
    if (!nd && !mu && !up)
        return;
    if (c->new_defaults) {
        vet_buf_printf(
            &t->did, "; --new-defaults: unset fields take the apps/v1 defaults, not %s's", r->from);
        return;
    }
    t->at = spec_end < b ? spec_end + 1 : b;
    for (size_t i = 0; i < nd; i++)
        if (!has_text(c, a, b, d[i].key)) {
            tpl_line(c, t, ind, d[i].key, d[i].value);
            vet_buf_printf(&what, "%s%s %s", what.size ? ", " : "", d[i].key, d[i].value);
        }
    if (mu && !has_key_at(c, body, end, ind, "strategy")) {
        tpl_line(c, t, ind, "strategy", NULL);
        tpl_line(c, t, 2 * ind, "type", "RollingUpdate");
        tpl_line(c, t, 2 * ind, "rollingUpdate", NULL);
        tpl_line(c, t, 3 * ind, "maxUnavailable", mu);
        tpl_line(c, t, 3 * ind, "maxSurge", ms);
        vet_buf_printf(&what, "%sstrategy.rollingUpdate maxUnavailable %s, maxSurge %s",
                       what.size ? ", " : "", mu, ms);
    } else if (mu && !(has_text(c, a, b, "maxUnavailable") && has_text(c, a, b, "maxSurge")) &&
               !has_text(c, a, b, "Recreate")) {
        vet_buf m = VET_BUF_INIT;
        vet_buf_printf(&m,
                       "spec.strategy is rendered by the template: where it renders RollingUpdate, "
                       "write rollingUpdate.maxUnavailable: %s and maxSurge: %s (the %s defaults; "
                       "apps/v1 takes 25%%), or pass --new-defaults",
                       mu, ms, r->from);
        tpl_why(t, m.ptr ? m.ptr : "spec.strategy is rendered by the template");
        vet_buf_free(&m);
    }
    if (up && !has_key_at(c, body, end, ind, "updateStrategy")) {
        tpl_line(c, t, ind, "updateStrategy", NULL);
        tpl_line(c, t, 2 * ind, "type", up);
        vet_buf_printf(&what, "%supdateStrategy.type %s", what.size ? ", " : "", up);
    } else if (up && !has_text(c, a, b, "OnDelete") && !has_text(c, a, b, "RollingUpdate")) {
        vet_buf m = VET_BUF_INIT;
        vet_buf_printf(&m,
                       "spec.updateStrategy is rendered by the template: make sure it renders "
                       "type: %s (the %s default; apps/v1 takes RollingUpdate), or pass "
                       "--new-defaults",
                       up, r->from);
        tpl_why(t, m.ptr ? m.ptr : "spec.updateStrategy is rendered by the template");
        vet_buf_free(&m);
    }
    if (what.size)
        vet_buf_printf(&t->did,
                       "; wrote the %s defaults explicitly so the object behaves as before: %s "
                       "(--new-defaults takes the apps/v1 ones)",
                       r->from, what.ptr);
    vet_buf_free(&what);
}

/* Kinds whose rule only renames a field or refuses a shape: convertible when the text shows the
 * field is not there. */
static void tpl_other(cv *c, const rule *r, size_t a, size_t b, tpl *t)
{
    const char *k = r->kind;
    if (!strcmp(k, "SubjectAccessReview") || !strcmp(k, "LocalSubjectAccessReview")) {
        if (has_text(c, a, b, "group:"))
            tpl_why(t, "spec.group must become spec.groups");
    } else if (!strcmp(k, "PriorityLevelConfiguration")) {
        if (has_text(c, a, b, "assuredConcurrencyShares"))
            tpl_why(t,
                    "spec.limited.assuredConcurrencyShares must become nominalConcurrencyShares");
    } else if (!strcmp(k, "EndpointSlice")) {
        if (has_text(c, a, b, "topology:"))
            tpl_why(t, "endpoints[].topology must become deprecatedTopology");
    } else if (!strcmp(k, "PodDisruptionBudget")) {
        if (!has_text(c, a, b, "matchLabels") && !has_text(c, a, b, "matchExpressions"))
            tpl_why(t, "spec.selector is rendered by the template: an empty selector matched no "
                       "pods in policy/v1beta1 and matches every pod in policy/v1");
    } else if (!strcmp(k, "HorizontalPodAutoscaler")) {
        if (has_text(c, a, b, "metrics"))
            tpl_why(t, "spec.metrics must be rewritten to the v2 shape");
    } else {
        tpl_why(t, "its fields change with the apiVersion and the template text cannot be "
                   "rewritten safely");
    }
}

static char *dup_span(cv *c, size_t s, size_t e)
{
    return strndup((const char *)c->file + s, e - s);
}

/* metadata.name as the template text says it (what apis scan reports as the subject). */
static char *tpl_name(cv *c, size_t a, size_t b)
{
    int in_md = 0;
    for (size_t ls = a; ls < b;) {
        size_t le = line_end(c, ls, b), i = ls;
        kline k;
        if (col0_key(c, ls, le, "metadata", &k)) {
            in_md = 1;
        } else if (in_md && ls < le && c->file[ls] != ' ' && c->file[ls] != '{' &&
                   c->file[ls] != '#') {
            return NULL;
        } else if (in_md) {
            while (i < le && c->file[i] == ' ')
                i++;
            if (i > ls && le - i > 5 && !memcmp(c->file + i, "name:", 5)) {
                /* the whole value: `"{{ template "x.name" . }}"` holds inner quotes */
                size_t vs = i + 5, ve = le;
                while (vs < ve && c->file[vs] == ' ')
                    vs++;
                while (ve > vs && (c->file[ve - 1] == ' ' || c->file[ve - 1] == '\r'))
                    ve--;
                if (ve - vs >= 2 && (c->file[vs] == '"' || c->file[vs] == '\'') &&
                    c->file[ve - 1] == c->file[vs]) {
                    vs++;
                    ve--;
                }
                return ve > vs ? dup_span(c, vs, ve) : NULL;
            }
        }
        ls = le + 1;
    }
    return NULL;
}

/* An if/else switch of apiVersion lines: nothing to do when a branch is served at the target. */
static int tpl_switch(cv *c, vet_convert_result *res, const kline *api, size_t n, const char *kind,
                      size_t a, size_t b)
{
    const rule *r = NULL;
    const vet_api *row;
    int need = 1, removed = 0, rc;
    vet_convert_doc *d;
    vet_buf m = VET_BUF_INIT;
    char *last = NULL;
    for (size_t i = 0; i < n && i < MAX_API_LINES; i++) {
        char *v = dup_span(c, api[i].vs, api[i].ve);
        int nd, rm;
        const rule *ri;
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        if (strstr(v, "{{")) {
            free(v);
            free(last);
            return 0;
        }
        ri = cv_choose(c, v, kind, &nd, &rm, &row);
        if (!nd) {
            free(v);
            free(last);
            return 0;
        }
        if (ri)
            r = ri;
        removed |= rm;
        free(last);
        last = v;
    }
    (void)need;
    if ((rc = cv_add_doc(res, &d))) {
        free(last);
        return rc;
    }
    d->status = VET_CONVERT_STOPPED;
    d->line = c->line0 + api[0].line + 1;
    d->kind = strdup(kind);
    d->name = tpl_name(c, a, b);
    d->from = last;
    d->to = r ? strdup(r->to) : NULL;
    d->id = removed ? "KV401" : "KV402";
    vet_buf_printf(&m,
                   "a Helm if/else chooses the apiVersion (%zu branches) and none is served at "
                   "%d.%d; left unchanged: add a branch for %s with the fields that version needs",
                   n, c->target / 1000, c->target % 1000, r ? r->to : "the replacement");
    d->manual = vet_buf_detach(&m);
    return d->kind && d->manual ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

int cv_template_chunk(cv *c, vet_convert_result *res, editv *all, size_t a, size_t b)
{
    kline api[MAX_API_LINES], kd[1];
    size_t napi;
    char *apiv = NULL, *kind = NULL;
    const rule *r;
    const vet_api *row;
    int need, removed, rc = 0;
    vet_convert_doc *d;
    tpl t = {VET_BUF_INIT, VET_BUF_INIT, VET_BUF_INIT, 0};

    napi = find_lines(c, a, b, "apiVersion", api, MAX_API_LINES);
    if (!napi || !find_lines(c, a, b, "kind", kd, 1))
        return 0;
    kind = dup_span(c, kd[0].vs, kd[0].ve);
    if (!kind)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (strstr(kind, "{{") || kd[0].vs == kd[0].ve)
        goto done;
    if (napi > 1) {
        rc = tpl_switch(c, res, api, napi, kind, a, b);
        goto done;
    }
    apiv = dup_span(c, api[0].vs, api[0].ve);
    if (!apiv) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (strstr(apiv, "{{") || !*apiv)
        goto done;
    r = cv_choose(c, apiv, kind, &need, &removed, &row);
    if (!need)
        goto done;
    if ((rc = cv_add_doc(res, &d)))
        goto done;
    d->line = c->line0 + api[0].line + 1;
    d->name = tpl_name(c, a, b);
    d->kind = kind;
    d->from = apiv;
    kind = apiv = NULL;
    d->id = removed ? "KV401" : "KV402";
    if (!r) {
        rc = cv_no_rule(c, d, row);
        goto done;
    }
    d->to = strdup(r->to);
    if (!d->to) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (r->fix && !strcmp(r->to, "apps/v1"))
        tpl_workload(c, r, a, b, &t);
    else if (r->fix)
        tpl_other(c, r, a, b, &t);
    if (t.why.size) {
        /* left byte for byte as it was */
        d->status = VET_CONVERT_STOPPED;
        if (asprintf(&d->manual,
                     "a Helm template that does not parse as YAML, left unchanged: %s%s%s",
                     t.why.ptr, strcmp(r->to, "apps/v1") && r->manual ? "; " : "",
                     strcmp(r->to, "apps/v1") && r->manual ? r->manual : "") < 0)
            d->manual = NULL;
        if (!d->manual)
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (cv_edit_push(all, api[0].vs, api[0].ve - api[0].vs, strdup(r->to), c->seq++) ||
        (t.ins.size && cv_edit_push(all, t.at, 0, vet_buf_detach(&t.ins), c->seq++))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (asprintf(&d->changes, "apiVersion %s -> %s (Helm template: line edits)%s", d->from, r->to,
                 t.did.size ? t.did.ptr : "") < 0)
        d->changes = NULL;
    if (!d->changes)
        rc = vet_error_set(VET_ENOMEM, "out of memory");
    d->status = VET_CONVERT_DONE;
    d->id = NULL;
done:
    vet_buf_free(&t.why);
    vet_buf_free(&t.did);
    vet_buf_free(&t.ins);
    free(apiv);
    free(kind);
    return rc;
}
