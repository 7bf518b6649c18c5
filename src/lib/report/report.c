#include "kubevet/report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/jsonx.h"
#include "error.h"
#include "text.h"
#include "vtime.h"
#include "kv_version.h"

static const char *const sev_names[] = {"info", "warning", "critical", "never"};

const char *vet_severity_name(vet_severity s)
{
    return (unsigned)s < 4 ? sev_names[s] : "unknown";
}

int vet_severity_parse(vet_severity *out, const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, sev_names[i])) {
            *out = (vet_severity)i;
            return 0;
        }
    return vet_error_set(VET_EUSAGE, "invalid severity '%s' (want info, warning, critical, never)",
                         s ? s : "");
}

int vet_report_init(vet_report *r, const char *command, int64_t evaluated_at)
{
    memset(r, 0, sizeof *r);
    r->command = vet_strdupf("%s", command);
    r->evaluated_at = evaluated_at;
    r->extra = json_object();
    if (!r->command || !r->extra)
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

void vet_report_free(vet_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfindings; i++) {
        vet_finding *f = &r->findings[i];
        free(f->subject);
        free(f->message);
        free(f->fix);
        free(f->cause);
        json_decref(f->fields);
    }
    free(r->findings);
    free(r->command);
    json_decref(r->extra);
    vet_strv_free(&r->errors);
    memset(r, 0, sizeof *r);
}

vet_finding *vet_report_add(vet_report *r, const char *id, const char *name, vet_severity sev,
                            const char *subject)
{
    vet_finding *f;
    if (r->nfindings == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        vet_finding *v = realloc(r->findings, cap * sizeof *v);
        if (!v)
            return NULL;
        r->findings = v;
        r->cap = cap;
    }
    f = &r->findings[r->nfindings];
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    f->name = name;
    f->severity = sev;
    f->subject = vet_strdupf("%s", subject ? subject : "");
    if (!f->subject)
        return NULL;
    r->nfindings++;
    return f;
}

static int set_fmt(char **dst, const char *fmt, va_list ap)
{
    vet_buf b = VET_BUF_INIT;
    va_list cp;
    int n;
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || vet_buf_grow(&b, (size_t)n))
        return vet_error_set(VET_ENOMEM, "out of memory");
    vsnprintf(b.ptr, (size_t)n + 1, fmt, ap);
    b.size = (size_t)n;
    free(*dst);
    *dst = vet_buf_detach(&b);
    return 0;
}

int vet_finding_message(vet_finding *f, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = set_fmt(&f->message, fmt, ap);
    va_end(ap);
    return rc;
}

int vet_finding_fix(vet_finding *f, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = set_fmt(&f->fix, fmt, ap);
    va_end(ap);
    return rc;
}

int vet_finding_set_cause(vet_finding *f, const vet_finding *cause, const char *fix_fmt, ...)
{
    char *c;
    if (f->cause || f == cause ||
        (!strcmp(f->id, cause->id) && !strcmp(f->subject, cause->subject)))
        return 1;
    if (!(c = vet_strdupf("%s %s", cause->id, cause->subject)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (fix_fmt) {
        va_list ap;
        int rc;
        va_start(ap, fix_fmt);
        rc = set_fmt(&f->fix, fix_fmt, ap);
        va_end(ap);
        if (rc) {
            free(c);
            return rc;
        }
    }
    f->cause = c;
    return 0;
}

vet_finding *vet_report_find(vet_report *r, const char *id, const char *subject)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (!strcmp(r->findings[i].id, id) &&
            (!subject || !strcmp(r->findings[i].subject, subject)))
            return &r->findings[i];
    return NULL;
}

static int set_field(vet_finding *f, const char *key, json_t *v)
{
    if (!v)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!f->fields && !(f->fields = json_object())) {
        json_decref(v);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    return json_object_set_new(f->fields, key, v) ? vet_error_set(VET_ENOMEM, "out of memory") : 0;
}

int vet_finding_set_str(vet_finding *f, const char *key, const char *val)
{
    return set_field(f, key, val ? json_string(val) : json_null());
}

int vet_finding_set_int(vet_finding *f, const char *key, long long val)
{
    return set_field(f, key, json_integer(val));
}

int vet_report_error(vet_report *r, const char *msg)
{
    return vet_strv_push(&r->errors, msg ? msg : vet_error_last());
}

int vet_report_set(vet_report *r, const char *key, json_t *value)
{
    if (!value || json_object_set_new(r->extra, key, value))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

static const char *field_str(const vet_finding *f, const char *key)
{
    const char *s = f->fields ? json_string_value(json_object_get(f->fields, key)) : NULL;
    return s ? s : "";
}

static json_int_t field_int(const vet_finding *f, const char *key)
{
    return f->fields ? json_integer_value(json_object_get(f->fields, key)) : 0;
}

/* Severity descending, id, subject, then file and line (two objects with one name in two
 * files), then the order they were found: the output never depends on qsort's whims. */
typedef struct {
    vet_finding f;
    size_t seq;
} seq_finding;

static int cmp_finding(const void *pa, const void *pb)
{
    const seq_finding *x = pa, *y = pb;
    const vet_finding *a = &x->f, *b = &y->f;
    json_int_t la, lb;
    int c;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if ((c = strcmp(a->id, b->id)) || (c = strcmp(a->subject, b->subject)) ||
        (c = strcmp(field_str(a, "file"), field_str(b, "file"))))
        return c;
    la = field_int(a, "line");
    lb = field_int(b, "line");
    if (la != lb)
        return la < lb ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Does `f` name `c` as its cause ("<ID> <subject>")? */
static int caused_by(const vet_finding *f, const vet_finding *c)
{
    size_t l = strlen(c->id);
    return f->cause && !strncmp(f->cause, c->id, l) && f->cause[l] == ' ' &&
           !strcmp(f->cause + l + 1, c->subject);
}

/* Append `i` and, depth first, the findings it explains (sorted order) to `out`. Depth is bounded
 * by the number of findings, and `done` stops cycles. */
static void emit_tree(const seq_finding *v, size_t n, const size_t *parent, size_t i,
                      unsigned char *done, const unsigned char *explainer, vet_finding *out,
                      size_t *k)
{
    done[i] = 1;
    out[(*k)++] = v[i].f;
    for (size_t j = 0; explainer[i] && j < n; j++)
        if (!done[j] && parent[j] == i)
            emit_tree(v, n, parent, j, done, explainer, out, k);
}

void vet_report_sort(vet_report *r)
{
    size_t n = r->nfindings, k = 0, *parent = NULL;
    seq_finding *tmp = NULL;
    unsigned char *done = NULL, *explainer = NULL;
    int *rank = NULL;
    if (n < 2)
        return;
    tmp = malloc(n * sizeof *tmp);
    parent = malloc(n * sizeof *parent);
    done = calloc(n, 1);
    explainer = calloc(n, 1);
    rank = malloc(n * sizeof *rank);
    if (!tmp || !parent || !done || !explainer || !rank)
        goto done;
    for (size_t i = 0; i < n; i++) {
        tmp[i].f = r->findings[i];
        tmp[i].seq = i;
    }
    qsort(tmp, n, sizeof *tmp, cmp_finding);
    /* Each finding's cause, when it is in the report (the first finding it names). */
    for (size_t i = 0; i < n; i++) {
        parent[i] = n;
        for (size_t j = 0; tmp[i].f.cause && j < n; j++)
            if (j != i && caused_by(&tmp[i].f, &tmp[j].f)) {
                parent[i] = j;
                break;
            }
    }
    for (size_t i = 0; i < n; i++)
        if (parent[i] < n)
            explainer[parent[i]] = 1;
    /* A root (no cause in the report, or a cycle) ranks with its most severe descendant. */
    for (size_t i = 0; i < n; i++)
        rank[i] = (int)tmp[i].f.severity;
    for (size_t i = 0; i < n; i++) {
        size_t p = i, steps = 0;
        while (parent[p] < n && steps++ < n)
            p = parent[p];
        if ((int)tmp[i].f.severity > rank[p])
            rank[p] = (int)tmp[i].f.severity;
    }
    /* Roots by rank descending; at one rank, roots that explain others first (root cause
     * first), then sorted order. */
    for (int sev = VET_SEV_NEVER; sev >= 0; sev--)
        for (int explains = 1; explains >= 0; explains--)
            for (size_t i = 0; i < n; i++)
                if (parent[i] == n && rank[i] == sev && !done[i] && explainer[i] == explains)
                    emit_tree(tmp, n, parent, i, done, explainer, r->findings, &k);
    /* Whatever a cycle left out, in sorted order. */
    for (size_t i = 0; i < n; i++)
        if (!done[i])
            emit_tree(tmp, n, parent, i, done, explainer, r->findings, &k);
done: /* on allocation failure the findings keep the order they were found in */
    free(tmp);
    free(parent);
    free(done);
    free(explainer);
    free(rank);
}

int vet_report_exit_code(const vet_report *r, vet_severity fail_on)
{
    if (r->errors.n)
        return 3;
    if (fail_on == VET_SEV_NEVER)
        return 0;
    for (size_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].severity >= fail_on)
            return 1;
    return 0;
}

json_t *vet_report_to_json(const vet_report *r)
{
    char when[32];
    json_t *o = json_object(), *arr = json_array(), *sum = json_object(), *errs = json_array();
    size_t counts[3] = {0, 0, 0};
    const char *k;
    json_t *v;

    vet_time_format(when, r->evaluated_at);
    json_object_set_new(o, "kubevet", json_string(KV_VERSION));
    json_object_set_new(o, "command", json_string(r->command));
    json_object_set_new(o, "evaluated_at", json_string(when));
    for (size_t i = 0; i < r->nfindings; i++) {
        const vet_finding *f = &r->findings[i];
        json_t *jf = json_object();
        json_object_set_new(jf, "id", json_string(f->id));
        json_object_set_new(jf, "name", json_string(f->name ? f->name : ""));
        json_object_set_new(jf, "severity", json_string(vet_severity_name(f->severity)));
        json_object_set_new(jf, "subject", json_string(f->subject));
        json_object_set_new(jf, "message", json_string(f->message ? f->message : ""));
        json_object_set_new(jf, "fix", json_string(f->fix ? f->fix : ""));
        if (f->cause)
            json_object_set_new(jf, "cause", json_string(f->cause));
        if (f->fields)
            json_object_update_missing(jf, f->fields);
        json_array_append_new(arr, jf);
        if ((unsigned)f->severity < 3)
            counts[f->severity]++;
    }
    json_object_set_new(o, "findings", arr);
    json_object_set_new(sum, "critical", json_integer((json_int_t)counts[2]));
    json_object_set_new(sum, "warning", json_integer((json_int_t)counts[1]));
    json_object_set_new(sum, "info", json_integer((json_int_t)counts[0]));
    json_object_set_new(o, "summary", sum);
    for (size_t i = 0; i < r->errors.n; i++)
        json_array_append_new(errs, json_string(r->errors.v[i]));
    json_object_set_new(o, "errors", errs);
    json_object_foreach(r->extra, k, v) json_object_set(o, k, v);
    return o;
}

/* One finding as vet_report_to_json() has it: the fixed members (a field never replaces one:
 * json_object_update_missing), then the other fields in order. A string json_string() refuses
 * (not UTF-8) leaves its member out there: here too. */
static void finding_json(vet_json_writer *w, const vet_finding *f)
{
    static const char *const keys[] = {"id",      "name", "severity", "subject",
                                       "message", "fix",  "cause"};
    const char *vals[] = {f->id,      f->name ? f->name : "",       vet_severity_name(f->severity),
                          f->subject, f->message ? f->message : "", f->fix ? f->fix : "",
                          f->cause};
    size_t nkeys = f->cause ? 7 : 6;
    const char *k;
    json_t *v;
    vet_json_open(w, '{');
    for (size_t i = 0; i < nkeys; i++) {
        if (!vals[i] || !vet_json_utf8_ok(vals[i]))
            continue;
        vet_json_key(w, keys[i]);
        vet_json_string(w, vals[i]);
    }
    if (f->fields)
        json_object_foreach(f->fields, k, v)
        {
            size_t i = 0;
            while (i < nkeys && strcmp(k, keys[i]))
                i++;
            if (i < nkeys)
                continue;
            vet_json_key(w, k);
            vet_json_value(w, v);
        }
    vet_json_close(w);
}

/* A top-level member: r->extra's value of the same name replaces it in place, as
 * json_object_set() does in vet_report_to_json(). 1 when extra had it. */
static int extra_override(vet_json_writer *w, const vet_report *r, const char *key)
{
    json_t *v = json_object_get(r->extra, key);
    if (!v)
        return 0;
    vet_json_key(w, key);
    vet_json_value(w, v);
    return 1;
}

/* vet_report_to_json() written as it is built, byte for byte: the tree of a scan with ten
 * thousand findings took longer to build and free than the scan. */
int vet_report_render_json(const vet_report *r, FILE *out)
{
    static const char *const fixed[] = {"kubevet",  "command", "evaluated_at",
                                        "findings", "summary", "errors"};
    vet_json_writer *w = vet_json_writer_new(out);
    size_t counts[3] = {0, 0, 0};
    char when[32];
    const char *k;
    json_t *v;
    int rc;
    if (!w)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->nfindings; i++)
        if ((unsigned)r->findings[i].severity < 3)
            counts[r->findings[i].severity]++;
    vet_time_format(when, r->evaluated_at);
    vet_json_open(w, '{');
    if (!extra_override(w, r, "kubevet")) {
        vet_json_key(w, "kubevet");
        vet_json_string(w, KV_VERSION);
    }
    if (!extra_override(w, r, "command") && vet_json_utf8_ok(r->command)) {
        vet_json_key(w, "command");
        vet_json_string(w, r->command);
    }
    if (!extra_override(w, r, "evaluated_at")) {
        vet_json_key(w, "evaluated_at");
        vet_json_string(w, when);
    }
    if (!extra_override(w, r, "findings")) {
        vet_json_key(w, "findings");
        vet_json_open(w, '[');
        for (size_t i = 0; i < r->nfindings; i++)
            finding_json(w, &r->findings[i]);
        vet_json_close(w);
    }
    if (!extra_override(w, r, "summary")) {
        vet_json_key(w, "summary");
        vet_json_open(w, '{');
        for (int sev = 2; sev >= 0; sev--) {
            json_t *n = json_integer((json_int_t)counts[sev]);
            vet_json_key(w, vet_severity_name((vet_severity)sev));
            vet_json_value(w, n);
            json_decref(n);
        }
        vet_json_close(w);
    }
    if (!extra_override(w, r, "errors")) {
        vet_json_key(w, "errors");
        vet_json_open(w, '[');
        for (size_t i = 0; i < r->errors.n; i++)
            if (vet_json_utf8_ok(r->errors.v[i]))
                vet_json_string(w, r->errors.v[i]);
        vet_json_close(w);
    }
    json_object_foreach(r->extra, k, v)
    {
        size_t i = 0;
        while (i < sizeof fixed / sizeof *fixed && strcmp(k, fixed[i]))
            i++;
        if (i == sizeof fixed / sizeof *fixed) {
            vet_json_key(w, k);
            vet_json_value(w, v);
        }
    }
    vet_json_close(w);
    rc = vet_json_writer_free(w);
    fputc('\n', out);
    return rc ? vet_error_set(VET_EIO, "cannot write output") : 0;
}

/* Length of the next unbreakable word at text: up to a space or newline, except that a quoted
 * command ('...') stays whole when it fits in `room` (a command broken over two lines runs half of
 * itself when pasted). */
static size_t word_len(const char *text, int room)
{
    size_t wl = strcspn(text, " \n");
    const char *q = memchr(text, '\'', wl);
    if (q) {
        const char *end = strchr(q + 1, '\'');
        if (end && !memchr(q, '\n', (size_t)(end - q))) {
            size_t whole = (size_t)(end - text) + 1;
            whole += strcspn(text + whole, " \n");
            if ((int)whole <= room)
                return whole;
        }
    }
    return wl;
}

/* Wrap text at width, continuation lines under the first character after the label, so a message
 * or fix reads well in a terminal. A line of the text that starts with two spaces is a command: it
 * is printed whole, never wrapped, so it pastes as one line. Control characters are escaped. */
static void print_wrapped(FILE *out, const char *label, const char *raw, int indent, int width)
{
    char *esc = vet_text_escape(raw, VET_TEXT_KEEP_NL);
    const char *text = esc ? esc : "";
    int lead = indent + (int)strlen(label), col = lead, space = 0;
    fprintf(out, "%*s%s", indent, "", label);
    while (*text) {
        size_t wl;
        if (col == lead && !strncmp(text, "  ", 2)) {
            wl = strcspn(text, "\n");
            fwrite(text, 1, wl, out);
            text += wl;
        } else {
            wl = word_len(text, width - lead);
            if (col + space + (int)wl > width && col > lead) {
                fprintf(out, "\n%*s", lead, "");
                col = lead;
            } else if (space) {
                fputc(' ', out);
                col++;
            }
            space = 0;
            fwrite(text, 1, wl, out);
            col += (int)wl;
            text += wl;
            if (*text == ' ') {
                space = 1;
                text++;
                continue;
            }
        }
        if (*text == '\n') {
            fprintf(out, "\n%*s", lead, "");
            col = lead;
            space = 0;
            text++;
        }
    }
    fputc('\n', out);
    free(esc);
}

int vet_report_render_text(const vet_report *r, FILE *out, int color)
{
    static const char *const colors[] = {"\033[36m", "\033[33m", "\033[1;31m"};
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < r->nfindings; i++) {
        const vet_finding *f = &r->findings[i];
        const char *sev = vet_severity_name(f->severity);
        char up[16];
        size_t j;
        for (j = 0; sev[j] && j < sizeof up - 1; j++)
            up[j] = (char)(sev[j] >= 'a' && sev[j] <= 'z' ? sev[j] - 32 : sev[j]);
        up[j] = '\0';
        if ((unsigned)f->severity < 3)
            counts[f->severity]++;
        fprintf(out, "%s%-8s%s %s %s  ", color ? colors[f->severity % 3] : "", up,
                color ? "\033[0m" : "", f->id, f->name ? f->name : "");
        vet_text_fputs(f->subject, out, 0);
        fputc('\n', out);
        if (f->cause)
            print_wrapped(out, "caused by ", f->cause, 9, 100);
        if (f->message && *f->message)
            print_wrapped(out, "", f->message, 9, 100);
        if (f->fix && *f->fix)
            print_wrapped(out, "fix: ", f->fix, 9, 100);
    }
    for (size_t i = 0; i < r->errors.n; i++) {
        fprintf(out, "%sERROR%s    ", color ? "\033[1;31m" : "", color ? "\033[0m" : "");
        vet_text_fputs(r->errors.v[i], out, 0);
        fputc('\n', out);
    }
    fprintf(out, "%s%zu critical, %zu warning, %zu info", r->nfindings || r->errors.n ? "\n" : "",
            counts[2], counts[1], counts[0]);
    if (r->errors.n)
        fprintf(out, ", %zu input(s) could not be read", r->errors.n);
    fputc('\n', out);
    return 0;
}
