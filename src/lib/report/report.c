#include "kubevet/report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
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

void vet_report_sort(vet_report *r)
{
    seq_finding *tmp;
    if (r->nfindings < 2 || !(tmp = malloc(r->nfindings * sizeof *tmp)))
        return;
    for (size_t i = 0; i < r->nfindings; i++) {
        tmp[i].f = r->findings[i];
        tmp[i].seq = i;
    }
    qsort(tmp, r->nfindings, sizeof *tmp, cmp_finding);
    for (size_t i = 0; i < r->nfindings; i++)
        r->findings[i] = tmp[i].f;
    free(tmp);
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
        if (f->fields)
            json_object_update(jf, f->fields);
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

int vet_report_render_json(const vet_report *r, FILE *out)
{
    json_t *o = vet_report_to_json(r);
    int rc;
    if (!o)
        return vet_error_set(VET_ENOMEM, "out of memory");
    rc = json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    fputc('\n', out);
    json_decref(o);
    return rc ? vet_error_set(VET_EIO, "cannot write output") : 0;
}

/* Wrap text at width, indenting continuation lines, so a message reads well in a terminal. */
static void print_wrapped(FILE *out, const char *label, const char *text, int indent, int width)
{
    int col = indent;
    fprintf(out, "%*s%s", indent, "", label);
    col += (int)strlen(label);
    while (*text) {
        size_t wl = strcspn(text, " \n");
        if (col + (int)wl > width && col > indent + (int)strlen(label)) {
            fprintf(out, "\n%*s", indent + (int)strlen(label), "");
            col = indent + (int)strlen(label);
        }
        fwrite(text, 1, wl, out);
        col += (int)wl;
        text += wl;
        if (*text == '\n') {
            fprintf(out, "\n%*s", indent + (int)strlen(label), "");
            col = indent + (int)strlen(label);
            text++;
        } else if (*text == ' ') {
            fputc(' ', out);
            col++;
            text++;
        }
    }
    fputc('\n', out);
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
        fprintf(out, "%s%-8s%s %s %s  %s\n", color ? colors[f->severity % 3] : "", up,
                color ? "\033[0m" : "", f->id, f->name ? f->name : "", f->subject);
        if (f->message && *f->message)
            print_wrapped(out, "", f->message, 9, 100);
        /* Not wrapped: a fix holds commands, and a wrapped command breaks when pasted. */
        if (f->fix && *f->fix)
            fprintf(out, "%9sfix: %s\n", "", f->fix);
    }
    for (size_t i = 0; i < r->errors.n; i++)
        fprintf(out, "%sERROR%s    %s\n", color ? "\033[1;31m" : "", color ? "\033[0m" : "",
                r->errors.v[i]);
    fprintf(out, "%s%zu critical, %zu warning, %zu info", r->nfindings || r->errors.n ? "\n" : "",
            counts[2], counts[1], counts[0]);
    if (r->errors.n)
        fprintf(out, ", %zu input(s) could not be read", r->errors.n);
    fputc('\n', out);
    return 0;
}
