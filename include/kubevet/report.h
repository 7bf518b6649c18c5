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
    char *cause;    /* "<ID> <subject>" of the finding that explains this one, or NULL */
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

/* Findings that explain others (root cause first).
 *
 * A finding whose reason is another finding (every KV104 after the CA was replaced, KV201/KV202
 * after kubelet.conf took another node's identity) is a consequence: repairing it on its own is
 * useless or harmful (`kubeadm certs renew` would sign the leaves onto the wrong CA). Mark it:
 *
 *     vet_finding_set_cause(leaf, ca_replaced, "restore the original CA first (see %s)", ...);
 *
 * - f->cause becomes "<cause id> <cause subject>": JSON key "cause", text line "caused by ...";
 * - vet_report_sort lists every explained finding right after its cause (a cause ranks with the
 *   most severe finding it explains, so causes always come first);
 * - f's fix is replaced by fix_fmt (printf; NULL keeps f's fix): it must point at the cause's
 *   repair, not at f's own.
 * The first explanation wins: a finding that has a cause keeps it (returns 1); a finding is never
 * its own cause (returns 1, nothing changed). 0 on success, VET_ENOMEM.
 * `cause` and `f` must both belong to the same report; pointers into r->findings stay valid until
 * the next vet_report_add. Checks mark consequences in a pass after every check ran (see
 * vet_check_run and the relation table in src/lib/check/registry.c). */
int vet_finding_set_cause(vet_finding *f, const vet_finding *cause, const char *fix_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first finding with this id (and subject, when not NULL), or NULL. */
vet_finding *vet_report_find(vet_report *r, const char *id, const char *subject);

/* Record an input error (the current vet_error_last() when msg is NULL). */
int vet_report_error(vet_report *r, const char *msg);
/* Set a command-specific top-level JSON key; steals the reference to value. */
int vet_report_set(vet_report *r, const char *key, json_t *value);

/* Causes first: each finding another explains follows its cause (vet_finding_set_cause); among
 * causes and unexplained findings, severity descending (a cause counts with the most severe
 * finding it explains; at one severity, causes before unexplained findings), then id, then
 * subject: stable output for diffs and tests. */
void vet_report_sort(vet_report *r);
/* 3 if any input error, else 1 if any finding at or above fail_on, else 0. */
int vet_report_exit_code(const vet_report *r, vet_severity fail_on);

/* The CLI.md JSON object: kubevet, command, evaluated_at, findings, summary, errors, + extra. */
json_t *vet_report_to_json(const vet_report *r);
int vet_report_render_json(const vet_report *r, FILE *out);
/* Findings as text; colour only when `color` (the CLI decides: TTY and no NO_COLOR). Message and
 * fix wrap at 100 columns (a quoted command stays on one line when it fits); control characters
 * from inputs are escaped (util/text.h). */
int vet_report_render_text(const vet_report *r, FILE *out, int color);
/* SARIF 2.1.0 (one run, rules for the KV ids, results with file/line locations) for CI. */
int vet_report_render_sarif(const vet_report *r, FILE *out);

/* Aligned text tables, for inventories (`certs list`, `etcd members`). Cells are printed with
 * control characters escaped (a file name can hold an ESC). */
typedef struct vet_table vet_table;
int vet_table_new(vet_table **out, size_t ncols, const char *const *headers);
int vet_table_row(vet_table *t, const char *const *cells);
int vet_table_print(const vet_table *t, FILE *out);
void vet_table_free(vet_table *t);

#endif
