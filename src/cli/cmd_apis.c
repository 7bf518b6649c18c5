/* kubevet apis list|scan|convert: the API catalog, and removed/deprecated apiVersions plus the
 * apps/v1 selector rule in manifests (KV401-KV404). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_apis_convert.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/manifest.h"

/* ---- apis list ---- */

static const char *status_name(vet_api_status s)
{
    return s == VET_API_REMOVED ? "removed" : s == VET_API_DEPRECATED ? "deprecated" : "served";
}

static int apis_list(int argc, char **argv, cli_globals *g)
{
    vet_strv catalogs = VET_STRV_INIT, pos = VET_STRV_INIT;
    const cli_opt own[] = {
        {"catalog", 0, CLI_MULTI, &catalogs, "FILE", "add or override catalog rows (repeatable)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_catalog *c = NULL;
    vet_table *t = NULL;
    vet_version tv;
    char minor[32];
    int rc, ret = 0;
    const char *out = NULL;

    if ((rc = cli_parse(argc, argv, own, g, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (g->help) {
        cli_usage(stdout, "  kubevet apis list [--target VERSION] [--catalog FILE]",
                  "Print the API catalog: every built-in group/version/kind that Kubernetes "
                  "deprecated or removed,\nwith releases and replacements. With --target, the "
                  "STATUS column says what that release does.",
                  own);
        goto done;
    }
    if (pos.n) {
        ret =
            cli_fail(vet_error_set(VET_EUSAGE, "apis list: unexpected argument \"%s\"", pos.v[0]));
        goto done;
    }
    if ((rc = cli_catalog_load(&c, &catalogs)) ||
        (rc = cli_target_version(&tv, minor, sizeof minor, g->target, c))) {
        ret = cli_fail(rc);
        goto done;
    }
    out = g->output ? g->output : "text";
    if (!strcmp(out, "json")) {
        json_t *o = json_object(), *arr = json_array();
        for (size_t i = 0; i < vet_catalog_count(c); i++) {
            const vet_api *a = vet_catalog_at(c, i);
            json_t *e = json_pack(
                "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "apiVersion", a->api_version, "kind", a->kind,
                "deprecated-in", a->deprecated_in, "removed-in", a->removed_in, "replacement",
                a->replacement, "replacement-available-in", a->replacement_available_in,
                "component", a->component, "status", status_name(vet_api_status_at(a, &tv)));
            if (e && *a->note)
                json_object_set_new(e, "note", json_string(a->note));
            json_array_append_new(arr, e);
        }
        json_object_set_new(o, "target", json_string(minor));
        json_object_set_new(o, "newest", json_string(vet_catalog_newest(c)));
        json_object_set_new(o, "apis", arr);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        fputc('\n', stdout);
        json_decref(o);
        goto done;
    }
    {
        const char *hdr[] = {"APIVERSION",  "KIND",      "DEPRECATED", "REMOVED",
                             "REPLACEMENT", "AVAILABLE", "STATUS"};
        if ((rc = vet_table_new(&t, 7, hdr))) {
            ret = cli_fail(rc);
            goto done;
        }
        for (size_t i = 0; i < vet_catalog_count(c); i++) {
            const vet_api *a = vet_catalog_at(c, i);
            const char *row[] = {a->api_version,
                                 a->kind,
                                 *a->deprecated_in ? a->deprecated_in : "-",
                                 *a->removed_in ? a->removed_in : "-",
                                 a->replacement,
                                 *a->replacement_available_in ? a->replacement_available_in : "-",
                                 status_name(vet_api_status_at(a, &tv))};
            if ((rc = vet_table_row(t, row))) {
                ret = cli_fail(rc);
                goto done;
            }
        }
        printf("# catalog: %zu rows, newest release %s; STATUS at target %s\n",
               vet_catalog_count(c), vet_catalog_newest(c), minor);
        vet_table_print(t, stdout);
    }
done:
    vet_table_free(t);
    vet_catalog_free(c);
    vet_strv_free(&catalogs);
    vet_strv_free(&pos);
    return ret;
}

/* ---- apis scan ---- */

static const char *field_str(const vet_finding *f, const char *k)
{
    json_t *v = f->fields ? json_object_get(f->fields, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

static long long field_int(const vet_finding *f, const char *k)
{
    json_t *v = f->fields ? json_object_get(f->fields, k) : NULL;
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Severity, id, then file and line: a total order, so output never depends on thread timing
 * (the registry's sort leaves equal subjects in qsort's arbitrary order). The keys are read out of
 * the findings' JSON fields once, not in every comparison: ten thousands of findings are sorted. */
typedef struct {
    const vet_finding *f;
    const char *file;
    long long line;
} sort_key;

static int cmp_keys(const void *pa, const void *pb)
{
    const sort_key *ka = pa, *kb = pb;
    const vet_finding *a = ka->f, *b = kb->f;
    int c;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if ((c = strcmp(a->id, b->id)))
        return c;
    if ((c = strcmp(ka->file, kb->file)))
        return c;
    if (ka->line != kb->line)
        return ka->line < kb->line ? -1 : 1;
    return strcmp(a->subject, b->subject);
}

static int sort_findings(vet_report *r)
{
    sort_key *k;
    vet_finding *sorted;
    if (r->nfindings < 2)
        return 0;
    k = malloc(r->nfindings * sizeof *k);
    sorted = malloc(r->nfindings * sizeof *sorted);
    if (!k || !sorted) {
        free(k);
        free(sorted);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        k[i].f = &r->findings[i];
        k[i].file = field_str(&r->findings[i], "file");
        k[i].line = field_int(&r->findings[i], "line");
    }
    qsort(k, r->nfindings, sizeof *k, cmp_keys);
    for (size_t i = 0; i < r->nfindings; i++)
        sorted[i] = *k[i].f;
    memcpy(r->findings, sorted, r->nfindings * sizeof *sorted);
    free(sorted);
    free(k);
    return 0;
}

static void render_table(const vet_report *r, void *target)
{
    const char *hdr[] = {"ID",          "LEVEL",      "LOCATION", "OBJECT", "APIVERSION",
                         "REPLACEMENT", "DEPRECATED", "REMOVED",  "NOTE"};
    vet_table *t = NULL;
    size_t counts[3] = {0, 0, 0};
    int rc;
    if (r->nfindings) {
        if ((rc = vet_table_new(&t, 9, hdr)))
            goto summary;
        for (size_t i = 0; i < r->nfindings; i++) {
            const vet_finding *f = &r->findings[i];
            char loc[4096];
            const char *src = field_str(f, "source"), *note = field_str(f, "detail");
            const char *row[9];
            snprintf(loc, sizeof loc, "%s:%lld", field_str(f, "file"), field_int(f, "line"));
            if (!*note && !strcmp(f->id, "KV403"))
                note = "no spec.selector";
            if (!*note && strcmp(src, "yaml") && strcmp(src, "json"))
                note = src;
            row[0] = f->id;
            row[1] = vet_severity_name(f->severity);
            row[2] = loc;
            row[3] = f->subject;
            row[4] = field_str(f, "api_version");
            row[5] = *field_str(f, "replacement") ? field_str(f, "replacement") : "-";
            row[6] = *field_str(f, "deprecated_in") ? field_str(f, "deprecated_in") : "-";
            row[7] = *field_str(f, "removed_in") ? field_str(f, "removed_in") : "-";
            row[8] = *note ? note : "";
            if ((unsigned)f->severity < 3)
                counts[f->severity]++;
            if ((rc = vet_table_row(t, row))) {
                vet_table_free(t);
                goto summary;
            }
        }
        vet_table_print(t, stdout);
        vet_table_free(t);
        putchar('\n');
    }
summary:
    cli_text_summary(r, "target %s: %zu critical, %zu warning, %zu info", (const char *)target,
                     counts[2], counts[1], counts[0]);
}

static int apis_scan(int argc, char **argv, cli_globals *g)
{
    vet_strv catalogs = VET_STRV_INIT, pos = VET_STRV_INIT;
    int all_files = 0, full_parse = 0, stats = 0, ret = 0, rc;
    const char *max_size = NULL, *threads = NULL;
    const cli_opt own[] = {
        {"catalog", 0, CLI_MULTI, &catalogs, "FILE", "add or override catalog rows (repeatable)"},
        {"filename", 'f', CLI_POS, NULL, "FILE",
         "a manifest file or folder, as kubectl -f (repeatable; - for stdin)"},
        {"all-files", 0, CLI_FLAG, &all_files, NULL,
         "in folders, read every file (default: *.yaml, *.yml, *.json)"},
        {"max-size", 0, CLI_STR, &max_size, "BYTES",
         "skip files larger than this (default 64 MiB)"},
        {"threads", 0, CLI_STR, &threads, "N",
         "worker threads (default: $KUBEVET_THREADS, else one per online core)"},
        {"full-parse", 0, CLI_FLAG, &full_parse, NULL,
         "parse every document with libyaml (debug: slower, same findings)"},
        {"stats", 0, CLI_FLAG, &stats, NULL, "print scan statistics on stderr"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_catalog *c = NULL;
    vet_manifest_scan *s = NULL;
    vet_manifest_opts mo;
    vet_report r;
    vet_ctx ctx;
    vet_version tv;
    vet_manifest_stats st;
    char minor[32];
    const char *prefixes[] = {"KV401", "KV402", "KV403", "KV404", NULL};
    int report_ok = 0;

    memset(&mo, 0, sizeof mo);
    if ((rc = cli_parse(argc, argv, own, g, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (g->help) {
        cli_usage(stdout, "  kubevet apis scan [PATH...|-] [--target VERSION] [-o text|json|sarif]",
                  "Find objects whose apiVersion is removed (KV401) or deprecated (KV402) in the "
                  "target release,\nand Deployments/DaemonSets/StatefulSets/ReplicaSets whose "
                  "spec.selector apps/v1 would reject\n(KV403 missing, KV404 not matching the "
                  "template labels). PATH: files, folders (recursive),\nor - for stdin; YAML "
                  "(multi-document), JSON, List kinds and Helm chart templates.",
                  own);
        goto done;
    }
    if (!pos.n) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "apis scan: no input: give files, folders or - "
                                                 "for stdin"));
        goto done;
    }
    if (max_size) {
        char *end;
        unsigned long long v = strtoull(max_size, &end, 10);
        if (*end || !v) {
            ret = cli_fail(vet_error_set(VET_EUSAGE, "--max-size: want a number of bytes"));
            goto done;
        }
        mo.max_size = (size_t)v;
    }
    if (threads) {
        char *end;
        long v = strtol(threads, &end, 10);
        if (*end || v < 1 || v > 64) {
            ret = cli_fail(vet_error_set(VET_EUSAGE, "--threads: want 1..64"));
            goto done;
        }
        mo.threads = (int)v;
    }
    if ((rc = cli_catalog_load(&c, &catalogs)) ||
        (rc = cli_target_version(&tv, minor, sizeof minor, g->target, c))) {
        ret = cli_fail(rc);
        goto done;
    }
    mo.catalog = c;
    mo.all_files = all_files;
    mo.full_parse = full_parse;
    if ((rc = vet_manifest_scan_new(&s, &mo)) ||
        (rc = vet_manifest_scan_paths(s, (const char *const *)pos.v, pos.n))) {
        ret = cli_fail(rc);
        goto done;
    }
    if ((rc = vet_report_init(&r, "apis scan", g->at))) {
        ret = cli_fail(rc);
        goto done;
    }
    report_ok = 1;
    memset(&ctx, 0, sizeof ctx);
    ctx.now = g->at;
    ctx.target = minor;
    ctx.catalog = c;
    ctx.manifests = s;
    if ((rc = vet_check_run(&ctx, &r, VET_SRC_FILES, prefixes))) {
        ret = cli_fail(rc);
        goto done;
    }
    if ((rc = sort_findings(&r))) {
        ret = cli_fail(rc);
        goto done;
    }
    for (size_t i = 0; i < vet_manifest_scan_nerrors(s); i++)
        vet_report_error(&r, vet_manifest_scan_error(s, i));
    vet_manifest_scan_stats(s, &st);
    {
        json_t *notes = json_array();
        for (size_t i = 0; i < vet_manifest_scan_nnotes(s); i++) {
            fprintf(stderr, "kubevet: note: %s\n", vet_manifest_scan_note(s, i));
            json_array_append_new(notes, json_string(vet_manifest_scan_note(s, i)));
        }
        vet_report_set(&r, "target", json_string(minor));
        vet_report_set(&r, "notes", notes);
        vet_report_set(&r, "scanned",
                       json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "files", (json_int_t)st.files,
                                 "skipped", (json_int_t)st.skipped, "bytes", (json_int_t)st.bytes,
                                 "documents", (json_int_t)st.documents, "parsed",
                                 (json_int_t)st.parsed, "templates", (json_int_t)st.templates));
    }
    if (stats)
        fprintf(stderr,
                "kubevet: scanned %zu files (%zu bytes, %zu skipped), %zu documents: %zu by the "
                "line extractor, %zu by libyaml (%zu bytes read), %zu templates\n",
                st.files, st.bytes, st.skipped, st.documents, st.extracted, st.parsed,
                st.yaml_bytes, st.templates);
    ret = cli_render(&r, g, render_table, minor);
done:
    if (report_ok)
        vet_report_free(&r);
    vet_manifest_scan_free(s);
    vet_catalog_free(c);
    vet_strv_free(&catalogs);
    vet_strv_free(&pos);
    return ret;
}

int cmd_apis(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd sub[] = {
        {"list", apis_list, "print the API catalog"},
        {"scan", apis_scan, "removed/deprecated apiVersions and selector rules in manifests"},
        {"convert", cmd_apis_convert, "rewrite manifests to supported apiVersions"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(sub, "apis", argc, argv, g);
}
