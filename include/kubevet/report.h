/* Findings and reports: the data every command produces, and its renderers (text, JSON).
 * A renderer never computes: everything it prints is already in the report. */
#ifndef KUBEVET_REPORT_H
#define KUBEVET_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "strv.h"

typedef enum {
    VET_SEV_INFO = 0,
    VET_SEV_WARNING = 1,
    VET_SEV_CRITICAL = 2,
    VET_SEV_NEVER = 3 /* only as a --fail-on threshold */
} vet_severity;

const char *vet_severity_name(vet_severity s);
/* "info", "warning", "critical", "never" -> 0 or VET_EUSAGE. */
int vet_severity_parse(vet_severity *out, const char *s);

typedef struct {
    char id[8];       /* "KV106" */
    const char *name; /* "node-identity-mismatch" (static) */
    vet_severity severity;
    char *subject;  /* path relative to --root, "Kind/ns/name", member name... */
    char *message;  /* one or two sentences for a tired operator */
    char *fix;      /* the exact commands */
    json_t *fields; /* extra keys for JSON (file, line, api_version, ...); NULL if none */
} vet_finding;

typedef struct {
    char *command;
    int64_t evaluated_at;
    vet_finding *findings;
    size_t nfindings, cap;
    json_t *extra;   /* command-specific top-level keys ("certificates": [...]) */
    vet_strv errors; /* inputs that could not be read: "file: what was wrong" -> exit 3 */
} vet_report;

int vet_report_init(vet_report *r, const char *command, int64_t evaluated_at);
void vet_report_free(vet_report *r);

/* Append a finding. subject is copied. Returns NULL only on allocation failure. */
vet_finding *vet_report_add(vet_report *r, const char *id, const char *name, vet_severity sev,
                            const char *subject);
int vet_finding_message(vet_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vet_finding_fix(vet_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vet_finding_set_str(vet_finding *f, const char *key, const char *val);
int vet_finding_set_int(vet_finding *f, const char *key, long long val);

/* Record an input error (the current vet_error_last() when msg is NULL). */
int vet_report_error(vet_report *r, const char *msg);
/* Set a command-specific top-level JSON key; steals the reference to value. */
int vet_report_set(vet_report *r, const char *key, json_t *value);

/* Severity descending, then id, then subject: stable output for diffs and tests. */
void vet_report_sort(vet_report *r);
/* 3 if any input error, else 1 if any finding at or above fail_on, else 0. */
int vet_report_exit_code(const vet_report *r, vet_severity fail_on);

/* The CLI.md JSON object: kubevet, command, evaluated_at, findings, summary, errors, + extra. */
json_t *vet_report_to_json(const vet_report *r);
int vet_report_render_json(const vet_report *r, FILE *out);
/* Findings as text; colour only when `color` (the CLI decides: TTY and no NO_COLOR). */
int vet_report_render_text(const vet_report *r, FILE *out, int color);
/* SARIF 2.1.0 (one run, rules for the KV ids, results with file/line locations) for CI. */
int vet_report_render_sarif(const vet_report *r, FILE *out);

/* Aligned text tables, for inventories (`certs list`, `etcd members`). */
typedef struct vet_table vet_table;
int vet_table_new(vet_table **out, size_t ncols, const char *const *headers);
int vet_table_row(vet_table *t, const char *const *cells);
int vet_table_print(const vet_table *t, FILE *out);
void vet_table_free(vet_table *t);

#endif
