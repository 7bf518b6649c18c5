/* kubevet serve: the checks of `kubevet check` on an interval, published for Prometheus.
 *
 * The library owns the HTTP side (libmicrohttpd: /metrics, /healthz, /report, POST /run), the
 * schedule (interval, rate-limited on-demand runs, SIGTERM/SIGINT/SIGHUP) and the metric text.
 * It does not gather anything itself: a run callback (the CLI's, which is `kubevet check`'s
 * code path) fills a vet_serve_run per run. Between runs only facts are kept: the rendered
 * metric text per source and the last report as JSON text, never parsed certificates, so the
 * resident size does not grow with runs. Metric names are a contract: docs/metrics.md. */
#ifndef KUBEVET_SERVE_H
#define KUBEVET_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "kubevet/report.h"

struct vet_etcd_facts;

/* The sources of `kubevet check`, in kubevet_source_up's order. */
typedef enum { VET_SERVE_NODE = 0, VET_SERVE_API, VET_SERVE_ETCD, VET_SERVE_NSRC } vet_serve_src;

/* What one run produced; filled by the run callback, read by vet_serve_render. */
typedef struct vet_serve_run {
    int up[VET_SERVE_NSRC];   /* 1 the source answered this run, 0 it did not */
    const vet_report *report; /* findings, "certificates" and "sources" keys (CLI.md's JSON) */
    /* When set, the rows of "certificates" (whose value in report is then a placeholder):
     * cert_row(i, cert_arg) returns row i < ncerts as a new JSON object. /report and the expiry
     * series are written from them one row at a time, so 10,000 rows never exist as JSON at
     * once. */
    size_t ncerts;
    json_t *(*cert_row)(size_t i, void *arg);
    void *cert_arg;
    const struct vet_etcd_facts *etcd; /* when the etcd source is up, else NULL */
    int64_t snapshot_time; /* newest backup's mtime (--snapshot-dir), or 0 when unknown */
    int64_t finished;      /* Unix seconds */
    double duration;       /* seconds the run took */
} vet_serve_run;

/* The metric text of one run, by source: each block holds sample lines only (no HELP/TYPE),
 * so blocks of sources that failed this run can be kept from an earlier run. */
typedef struct vet_serve_blocks {
    char *findings[VET_SERVE_NSRC]; /* kubevet_finding lines of checks drawing on the source */
    char *certs;                    /* kubevet_certificate_expiry_timestamp_seconds (node) */
    char *etcd_db, *etcd_members;   /* kubevet_etcd_db_size_bytes, kubevet_etcd_members */
} vet_serve_blocks;

/* Render the sample lines of every source that is up in `run` into `b`, replacing what b held
 * for that source; a source that is down keeps b's lines from its last good run.
 * 0, VET_ENOMEM, or VET_EINPUT for a certificate row without a parseable not_after. */
int vet_serve_render(vet_serve_blocks *b, const vet_serve_run *run);
/* The whole exposition (text format 0.0.4): HELP/TYPE per family, b's lines, source_up from
 * run, the run time and duration. *out is malloc'd. */
int vet_serve_expose(char **out, size_t *len, const vet_serve_blocks *b, const vet_serve_run *run);
void vet_serve_blocks_clear(vet_serve_blocks *b);
/* The report of `run` as compact JSON (CLI.md), written in pieces to put(data, len, arg) with
 * the certificate rows streamed from run->cert_row when set. 0 or the first non-zero put. */
int vet_serve_report(const vet_serve_run *run, int (*put)(const char *data, size_t len, void *arg),
                     void *arg);
/* Append `s` as a label value escaped per the exposition format (\\, \", \n); exposed for
 * tests. 0 or VET_ENOMEM. */
int vet_serve_escape(vet_buf *b, const char *s);

/* The run callback: gather, check, fill *out (out->report stays owned by the callback until
 * done is called). Returns 0 even when sources failed (they are down in out->up); an error code
 * only when nothing could be judged, and then the last metrics stay as they are. */
typedef int (*vet_serve_run_fn)(vet_serve_run *out, void *arg);
/* Releases what the run callback made for one run (the report, the facts). */
typedef void (*vet_serve_done_fn)(vet_serve_run *run, void *arg);

typedef struct vet_serve_opts {
    const char *listen; /* "ADDR:PORT", "[v6]:PORT", ":PORT" (every address); port 0 = any */
    int64_t interval;   /* seconds between runs */
    int64_t min_gap;    /* seconds an on-demand run (POST /run, SIGUSR1) waits after the last */
    vet_serve_run_fn run;
    vet_serve_done_fn done;
    void *arg;
    /* SIGHUP: called before the next run so the callback re-reads its configuration; may be
     * NULL. A non-zero return keeps the old configuration (logged). */
    int (*reload)(void *arg);
} vet_serve_opts;

/* Serve until SIGTERM or SIGINT (0), or until the listener cannot be opened (VET_EINPUT naming
 * the address). Logs one line per run to stderr. Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in
 * the calling thread (and the server threads it starts) and waits for them synchronously. */
int vet_serve_main(const vet_serve_opts *o);

#endif
