/* The Prometheus text exposition (format 0.0.4) of a run: findings, certificate expiry, etcd,
 * source health. Names and labels are a contract (docs/metrics.md): dashboards and the alert
 * rules in deploy/ key on them. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kubevet/check.h"
#include "kubevet/etcd.h"
#include "kubevet/serve.h"
#include "vtime.h"

static const char *const src_names[VET_SERVE_NSRC] = {"node", "api", "etcd"};

int vet_serve_escape(vet_buf *b, const char *s)
{
    /* The exposition format escapes exactly these three in label values; anything else
     * (UTF-8 in a subject, a tab) is carried as is. */
    for (; s && *s; s++) {
        const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        int rc = e ? vet_buf_puts(b, e) : vet_buf_put(b, s, 1);
        if (rc)
            return rc;
    }
    return vet_buf_put(b, "", 0);
}

/* One sample: name{k="v",...} value. labels: NULL-terminated key, value pairs. */
static int sample(vet_buf *b, const char *name, const char *const *labels, const char *value)
{
    int rc = vet_buf_puts(b, name);
    for (size_t i = 0; !rc && labels && labels[i]; i += 2) {
        rc = vet_buf_printf(b, "%s%s=\"", i ? "," : "{", labels[i]);
        if (!rc)
            rc = vet_serve_escape(b, labels[i + 1] ? labels[i + 1] : "");
        if (!rc)
            rc = vet_buf_puts(b, "\"");
    }
    if (!rc && labels && labels[0])
        rc = vet_buf_puts(b, "}");
    if (!rc)
        rc = vet_buf_printf(b, " %s\n", value);
    return rc;
}

/* Which source a finding belongs to, by the sources its check draws on: a check that reads the
 * node's files goes with the node (its findings stay when the node cannot be read). */
static int finding_source(const char *id)
{
    const vet_check *c = vet_check_find(id);
    unsigned s = c ? c->sources : VET_SRC_NODE;
    if (s & (VET_SRC_NODE | VET_SRC_FILES))
        return VET_SERVE_NODE;
    if (s & VET_SRC_API)
        return VET_SERVE_API;
    if (s & VET_SRC_ETCD)
        return VET_SERVE_ETCD;
    return VET_SERVE_NODE;
}

/* Row i of the certificates, a new reference: streamed from the run's facts, else from the
 * report's "certificates" array. */
static json_t *cert_row(const vet_serve_run *run, json_t *rows, size_t i)
{
    if (run->cert_row)
        return run->cert_row(i, run->cert_arg);
    return json_incref(json_array_get(rows, i));
}

static int render_certs(vet_buf *b, const vet_serve_run *run)
{
    const vet_report *r = run->report;
    json_t *rows = !run->cert_row && r && r->extra ? json_object_get(r->extra, "certificates") : NULL;
    size_t n = run->cert_row ? run->ncerts : json_array_size(rows), mark, file_start = 0;
    json_t *prev_row = NULL, *row = NULL;
    const char *prev = NULL;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *na, *labels[9];
        int64_t t;
        char v[32];
        if (!(row = cert_row(run, rows, i))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            break;
        }
        na = json_string_value(json_object_get(row, "not_after"));
        labels[0] = "path";
        labels[1] = json_string_value(json_object_get(row, "path"));
        labels[2] = "subject";
        labels[3] = json_string_value(json_object_get(row, "subject"));
        labels[4] = "issuer";
        labels[5] = json_string_value(json_object_get(row, "issuer"));
        labels[6] = "source";
        labels[7] = json_string_value(json_object_get(row, "source"));
        labels[8] = NULL;
        if (!na || vet_time_parse(&t, na)) {
            rc = vet_error_set(VET_EINPUT, "certificate row %zu: no parseable not_after", i);
            break;
        }
        snprintf(v, sizeof v, "%lld", (long long)t);
        /* One file can hold two certificates with the same names (a CA bundle during a
         * rotation): one series per label set, or Prometheus drops the scrape's duplicates. */
        mark = b->size;
        if ((rc = sample(b, "kubevet_certificate_expiry_timestamp_seconds", labels, v)))
            break;
        if (prev && labels[1] && !strcmp(prev, labels[1])) {
            const char *line = b->ptr + mark, *sp = strrchr(line, ' ');
            size_t keylen = (size_t)(sp - line) + 1;
            for (const char *q = b->ptr + file_start; q < line; q = strchr(q, '\n') + 1)
                if (!strncmp(q, line, keylen)) {
                    b->size = mark; /* the first one stays */
                    b->ptr[mark] = '\0';
                    break;
                }
        } else {
            file_start = mark;
        }
        /* the previous row holds the path compared with the next one */
        json_decref(prev_row);
        prev_row = row;
        row = NULL;
        prev = labels[1];
    }
    json_decref(row);
    json_decref(prev_row);
    return rc;
}

typedef struct {
    int (*put)(const char *data, size_t len, void *arg);
    void *arg;
} sink;

static int sink_put(const char *data, size_t len, void *arg)
{
    const sink *k = arg;
    return k->put(data, len, k->arg) ? -1 : 0;
}

int vet_serve_report(const vet_serve_run *run, int (*put)(const char *data, size_t len, void *arg),
                     void *arg)
{
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
    json_t *o = vet_report_to_json(run->report), *v;
    sink k = {put, arg};
    const char *key;
    int rc = 0, first = 1;
    if (!o)
        return vet_error_set(VET_ENOMEM, "out of memory");
    /* The bytes json_dumps(JSON_COMPACT) gives for the whole object, key by key. */
    rc = put("{", 1, arg);
    json_object_foreach(o, key, v)
    {
        json_t *jk = json_string(key);
        if (!rc && !first)
            rc = put(",", 1, arg);
        first = 0;
        if (!rc)
            rc = !jk || json_dump_callback(jk, sink_put, &k, flags) ? VET_ENOMEM : put(":", 1, arg);
        json_decref(jk);
        if (rc)
            break;
        if (strcmp(key, "certificates") || !run->cert_row) {
            if (json_dump_callback(v, sink_put, &k, flags))
                rc = VET_ENOMEM;
            continue;
        }
        rc = put("[", 1, arg);
        for (size_t i = 0; !rc && i < run->ncerts; i++) {
            json_t *row = run->cert_row(i, run->cert_arg);
            if (i)
                rc = put(",", 1, arg);
            if (!rc && (!row || json_dump_callback(row, sink_put, &k, flags)))
                rc = VET_ENOMEM;
            json_decref(row);
        }
        if (!rc)
            rc = put("]", 1, arg);
    }
    if (!rc)
        rc = put("}", 1, arg);
    json_decref(o);
    return rc ? vet_error_set(VET_ENOMEM, "the report could not be written (out of memory)") : 0;
}

static int render_etcd(vet_buf *b, vet_buf *mb, const vet_etcd_facts *f)
{
    /* Exclusive states, so sum(kubevet_etcd_members) is the member count: "started" is a started
     * member whose health was not asked (member list only). */
    static const char *const states[] = {"healthy", "unhealthy", "started", "unstarted"};
    long count[4] = {0, 0, 0, 0};
    int rc = 0;
    for (size_t i = 0; f && i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        int st = !m->started ? 3 : !m->health_checked ? 2 : m->healthy ? 0 : 1;
        count[st]++;
        if (m->status_ok && m->started) {
            const char *labels[] = {"member", m->name, NULL};
            char v[32];
            snprintf(v, sizeof v, "%lld", (long long)m->db_size);
            if ((rc = sample(b, "kubevet_etcd_db_size_bytes", labels, v)))
                return rc;
        }
    }
    for (int s = 0; f && s < 4; s++) {
        const char *labels[] = {"state", states[s], NULL};
        char v[32];
        snprintf(v, sizeof v, "%ld", count[s]);
        if ((rc = sample(mb, "kubevet_etcd_members", labels, v)))
            return rc;
    }
    return 0;
}

static void set_block(char **slot, vet_buf *b)
{
    free(*slot);
    *slot = vet_buf_detach(b);
}

int vet_serve_render(vet_serve_blocks *out, const vet_serve_run *run)
{
    vet_buf f[VET_SERVE_NSRC] = {VET_BUF_INIT, VET_BUF_INIT, VET_BUF_INIT};
    vet_buf certs = VET_BUF_INIT, etcd = VET_BUF_INIT, members = VET_BUF_INIT;
    const vet_report *r = run->report;
    int rc = 0;
    for (size_t i = 0; r && !rc && i < r->nfindings; i++) {
        const vet_finding *x = &r->findings[i];
        const char *labels[] = {"id",      x->id,      "name",
                                x->name,   "severity", vet_severity_name(x->severity),
                                "subject", x->subject, NULL};
        rc = sample(&f[finding_source(x->id)], "kubevet_finding", labels, "1");
    }
    if (!rc && run->up[VET_SERVE_NODE])
        rc = render_certs(&certs, run);
    if (!rc && run->up[VET_SERVE_ETCD])
        rc = render_etcd(&etcd, &members, run->etcd);
    /* Every buffer must hold an allocation (NUL-terminated: an empty run is "") before any block
     * is replaced: all or nothing. */
    for (int s = 0; !rc && s < VET_SERVE_NSRC; s++)
        rc = vet_buf_put(&f[s], "", 0);
    if (!rc && !(rc = vet_buf_put(&certs, "", 0)) && !(rc = vet_buf_put(&etcd, "", 0)))
        rc = vet_buf_put(&members, "", 0);
    if (rc)
        goto done;
    for (int s = 0; s < VET_SERVE_NSRC; s++)
        if (run->up[s])
            set_block(&out->findings[s], &f[s]);
    if (run->up[VET_SERVE_NODE])
        set_block(&out->certs, &certs);
    if (run->up[VET_SERVE_ETCD]) {
        set_block(&out->etcd_db, &etcd);
        set_block(&out->etcd_members, &members);
    }
done:
    for (int s = 0; s < VET_SERVE_NSRC; s++)
        vet_buf_free(&f[s]);
    vet_buf_free(&certs);
    vet_buf_free(&etcd);
    vet_buf_free(&members);
    return rc;
}

static int family(vet_buf *b, const char *name, const char *help, const char *const *blocks,
                  size_t n)
{
    int rc = vet_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (size_t i = 0; !rc && i < n; i++)
        if (blocks[i])
            rc = vet_buf_puts(b, blocks[i]);
    return rc;
}

int vet_serve_expose(char **out, size_t *len, const vet_serve_blocks *b, const vet_serve_run *run)
{
    vet_buf o = VET_BUF_INIT;
    int rc;
    *out = NULL;
    rc = family(&o, "kubevet_finding",
                "1 for each current finding of kubevet's checks (docs/checks.md).",
                (const char *const *)b->findings, VET_SERVE_NSRC);
    if (!rc)
        rc = family(&o, "kubevet_certificate_expiry_timestamp_seconds",
                    "notAfter of each certificate found, Unix seconds.",
                    (const char *const *)&b->certs, 1);
    if (!rc)
        rc = family(&o, "kubevet_etcd_db_size_bytes", "Backend database size of each etcd member.",
                    (const char *const *)&b->etcd_db, 1);
    if (!rc)
        rc = family(&o, "kubevet_etcd_members", "etcd members by state.",
                    (const char *const *)&b->etcd_members, 1);
    if (!rc && run->snapshot_time > 0) {
        rc = family(&o, "kubevet_etcd_snapshot_age_seconds",
                    "Age of the newest etcd snapshot in --snapshot-dir at the last run.", NULL, 0);
        if (!rc)
            rc = vet_buf_printf(&o, "kubevet_etcd_snapshot_age_seconds %lld\n",
                                (long long)(run->finished - run->snapshot_time));
    }
    if (!rc)
        rc = family(&o, "kubevet_source_up",
                    "1 when the source answered at the last run; 0 keeps its last good series.",
                    NULL, 0);
    for (int s = 0; !rc && s < VET_SERVE_NSRC; s++)
        rc = vet_buf_printf(&o, "kubevet_source_up{source=\"%s\"} %d\n", src_names[s],
                            run->up[s] ? 1 : 0);
    if (!rc)
        rc = family(&o, "kubevet_last_run_timestamp_seconds", "When the last run ended.", NULL, 0);
    if (!rc)
        rc = vet_buf_printf(&o, "kubevet_last_run_timestamp_seconds %lld\n",
                            (long long)run->finished);
    if (!rc)
        rc = family(&o, "kubevet_run_duration_seconds", "How long the last run took.", NULL, 0);
    if (!rc)
        rc = vet_buf_printf(&o, "kubevet_run_duration_seconds %.6f\n", run->duration);
    if (!rc) {
        *len = o.size;
        *out = vet_buf_detach(&o);
    }
    vet_buf_free(&o);
    return rc;
}

void vet_serve_blocks_clear(vet_serve_blocks *b)
{
    if (!b)
        return;
    for (int s = 0; s < VET_SERVE_NSRC; s++)
        free(b->findings[s]);
    free(b->certs);
    free(b->etcd_db);
    free(b->etcd_members);
    memset(b, 0, sizeof *b);
}
