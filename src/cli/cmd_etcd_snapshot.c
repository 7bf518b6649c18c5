/* kubevet etcd snapshot verify|status|objects FILE: offline judgement of an etcd snapshot (or a
 * raw member/snap/db). `snapshot save` talks to a live etcd and lives with the etcd commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "cmd_etcd_snapshot.h"
#include "error.h"
#include "text.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/report.h"
#include "kubevet/snapshot.h"

#define ERRORS_IN_MESSAGE 5

static int is_json(const cli_globals *g)
{
    return g->output && !strcmp(g->output, "json");
}

/* go-humanize's Bytes, as etcdctl prints total size: SI units, one decimal under 10.
 * Written without libm: the exponent is found by integer division, which is what
 * floor(log(s)/log(1000)) means for sizes that are not exact powers of 1000. */
static void human_bytes(char *out, size_t n, uint64_t s)
{
    static const char *const sizes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int e = 0;
    double base = 1;
    if (s < 10) {
        snprintf(out, n, "%llu B", (unsigned long long)s);
        return;
    }
    for (uint64_t t = s; t >= 1000; t /= 1000) {
        e++;
        base *= 1000;
    }
    double x = (double)s / base * 10 + 0.5;
    double val = (double)(uint64_t)x / 10; /* floor: x is positive */
    snprintf(out, n, val < 10 ? "%.1f %s" : "%.0f %s", val, sizes[e]);
}

static const char *trailer_name(vet_snapshot_trailer t)
{
    switch (t) {
    case VET_SNAPSHOT_TRAILER_OK:
        return "ok";
    case VET_SNAPSHOT_TRAILER_MISMATCH:
        return "mismatch";
    case VET_SNAPSHOT_TRAILER_UNCHECKED:
        return "present";
    default:
        return "absent";
    }
}

static json_t *info_json(const char *path, const vet_snapshot_info *in)
{
    json_t *o = json_object(), *errs = json_array();
    if (!o || !errs) {
        json_decref(o);
        json_decref(errs);
        return NULL;
    }
    for (size_t i = 0; in->errors && i < in->errors->n; i++)
        json_array_append_new(errs, json_string(in->errors->v[i]));
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "file_size", json_integer((json_int_t)in->file_size));
    json_object_set_new(o, "page_size", json_integer(in->page_size));
    json_object_set_new(o, "pgid", json_integer((json_int_t)in->pgid));
    json_object_set_new(o, "txid", json_integer((json_int_t)in->txid));
    json_object_set_new(o, "meta_page", json_integer(in->meta_used));
    json_object_set_new(o, "freelist_synced", json_boolean(in->freelist != UINT64_MAX));
    json_object_set_new(o, "free_pages", json_integer((json_int_t)in->free_pages));
    json_object_set_new(o, "hash", json_integer(in->hash));
    json_object_set_new(o, "revision", json_integer(in->revision));
    json_object_set_new(o, "totalKey", json_integer(in->total_key));
    json_object_set_new(o, "totalSize", json_integer(in->total_size));
    json_object_set_new(o, "trailer", json_string(trailer_name(in->trailer)));
    json_object_set_new(o, "sha256_stored", json_string(in->sha256_stored));
    json_object_set_new(o, "sha256_computed", json_string(in->sha256_computed));
    json_object_set_new(o, "structure_ok", json_boolean(in->nerrors == 0));
    json_object_set_new(o, "errors_total", json_integer((json_int_t)in->nerrors));
    json_object_set_new(o, "errors", errs);
    return o;
}

/* KV305 with the first structural errors and the trailer verdict in the message. */
static int add_kv305(vet_report *r, const char *path, const vet_snapshot_info *in,
                     const char *context)
{
    vet_buf m = VET_BUF_INIT;
    vet_finding *f = vet_check_emit(r, "KV305", path);
    int rc = 0;
    if (!f)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (in->nerrors) {
        vet_buf_printf(&m, "snapshot file integrity check failed: %zu error%s found:", in->nerrors,
                       in->nerrors == 1 ? "" : "s");
        for (size_t i = 0; in->errors && i < in->errors->n && i < ERRORS_IN_MESSAGE; i++)
            vet_buf_printf(&m, "%s %s", i ? ";" : "", in->errors->v[i]);
        if (in->nerrors > ERRORS_IN_MESSAGE)
            vet_buf_printf(&m, "; ... (%zu more)", in->nerrors - ERRORS_IN_MESSAGE);
        vet_buf_puts(&m, ".");
    }
    if (in->trailer == VET_SNAPSHOT_TRAILER_MISMATCH)
        vet_buf_printf(&m,
                       "%sthe SHA-256 trailer does not match the data (stored %.16s..., "
                       "computed %.16s...): etcdctl snapshot restore will refuse it.",
                       m.size ? " " : "", in->sha256_stored, in->sha256_computed);
    else if (in->trailer == VET_SNAPSHOT_TRAILER_ABSENT && in->nerrors)
        vet_buf_puts(&m, " The file has no SHA-256 trailer (a raw member/snap/db, or cut short).");
    if (context)
        vet_buf_printf(&m, " %s", context);
    if (!m.ptr || (rc = vet_finding_message(f, "%s", m.ptr)))
        rc = rc ? rc : vet_error_set(VET_ENOMEM, "out of memory");
    if (!rc)
        rc = vet_finding_fix(f, "do not rely on this backup: take a new one with 'ETCDCTL_API=3 "
                                "etcdctl snapshot save FILE' (or 'kubevet etcd snapshot save') "
                                "and check it with 'kubevet etcd snapshot verify FILE'");
    if (!rc) {
        vet_finding_set_int(f, "errors", (long long)in->nerrors);
        vet_finding_set_str(f, "trailer", trailer_name(in->trailer));
    }
    vet_buf_free(&m);
    return rc;
}

static int open_one(vet_snapshot **s, int argc, char **argv, cli_globals *g, const char *syn,
                    const char *desc, const cli_opt *own, char **path)
{
    vet_strv pos = VET_STRV_INIT;
    int rc = cli_parse(argc, argv, own, g, &pos);
    if (rc)
        goto done;
    if (g->help) {
        cli_usage(stdout, syn, desc, own);
        rc = 1; /* handled */
        goto done;
    }
    if (pos.n != 1) {
        rc = vet_error_set(VET_EUSAGE, "%s: expected one snapshot FILE", argv[0]);
        goto done;
    }
    if (!(*path = strdup(pos.v[0]))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    rc = vet_snapshot_open(s, *path);
done:
    vet_strv_free(&pos);
    return rc;
}

static int cmd_status(int argc, char **argv, cli_globals *g)
{
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    vet_report r;
    char *path = NULL;
    int rc, have_r = 0, ret = 0;
    rc = open_one(&s, argc, argv, g, "  kubevet etcd snapshot status FILE [-o json]",
                  "Print what 'etcdctl snapshot status' prints for FILE (hash, revision, total "
                  "keys, total size), after the same bbolt consistency check. With -o json the "
                  "output is etcdctl's own object. A file that fails the check is finding KV305.",
                  NULL, &path);
    if (rc == 1 && g->help)
        return 0;
    if (rc) {
        free(path);
        return cli_fail(rc);
    }
    if ((rc = vet_snapshot_status(s, &in)))
        goto fail;
    if (in.status_ok) {
        char size[32];
        human_bytes(size, sizeof size, (uint64_t)in.total_size);
        if (is_json(g)) {
            /* etcdctl -w json: Go's json.Marshal of snapshot.Status, compact, fields in order */
            json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "hash", (json_int_t)in.hash, "revision",
                                  (json_int_t)in.revision, "totalKey", (json_int_t)in.total_key,
                                  "totalSize", (json_int_t)in.total_size);
            if (!o) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto fail;
            }
            json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(o);
        } else {
            char hash[16], rev[24], keys[24];
            const char *hdr[] = {"HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"};
            const char *row[] = {hash, rev, keys, size};
            vet_table *t = NULL;
            snprintf(hash, sizeof hash, "%x", in.hash);
            snprintf(rev, sizeof rev, "%lld", (long long)in.revision);
            snprintf(keys, sizeof keys, "%lld", (long long)in.total_key);
            if ((rc = vet_table_new(&t, 4, hdr)) || (rc = vet_table_row(t, row)))
                goto fail_table;
            vet_table_print(t, stdout);
            printf("\nbbolt: %u-byte pages, high-water mark %llu, txid %llu, %llu free pages; "
                   "SHA-256 trailer %s\n",
                   in.page_size, (unsigned long long)in.pgid, (unsigned long long)in.txid,
                   (unsigned long long)in.free_pages,
                   in.trailer == VET_SNAPSHOT_TRAILER_ABSENT
                       ? "absent (raw bbolt file)"
                       : "present (checked by 'kubevet etcd snapshot verify')");
        fail_table:
            vet_table_free(t);
            if (rc)
                goto fail;
        }
        fflush(stdout);
        goto done;
    }
    /* Like etcdctl, no figures for a file that fails the check: the report says why. */
    if ((rc = vet_report_init(&r, "etcd snapshot status", g->at)))
        goto fail;
    have_r = 1;
    if ((rc = add_kv305(&r, path, &in, NULL)) ||
        (rc = vet_report_set(&r, "snapshot", info_json(path, &in))))
        goto fail;
    ret = cli_emit(&r, g);
    goto done;
fail:
    ret = cli_fail(rc);
done:
    if (have_r)
        vet_report_free(&r);
    vet_snapshot_close(s);
    free(path);
    return ret;
}

static int cmd_verify(int argc, char **argv, cli_globals *g)
{
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    vet_report r;
    char *path = NULL;
    int rc, ok = 0, have_r = 0, ret = 0;
    rc = open_one(&s, argc, argv, g, "  kubevet etcd snapshot verify FILE [-o json]",
                  "Check an etcd snapshot before trusting it: the SHA-256 trailer that 'etcdctl "
                  "snapshot save' appends (restore checks it), and the whole bbolt structure "
                  "(meta pages, page bounds, every page reached exactly once or free, element "
                  "offsets, page types, inline buckets). A raw member/snap/db has no trailer: "
                  "its structure is verified and the missing trailer noted. Damage is finding "
                  "KV305 (exit 1).",
                  NULL, &path);
    if (rc == 1 && g->help)
        return 0;
    if (rc) {
        free(path);
        return cli_fail(rc);
    }
    if ((rc = vet_snapshot_verify(s, &in, &ok)) ||
        (rc = vet_report_init(&r, "etcd snapshot verify", g->at)))
        goto fail;
    have_r = 1;
    json_t *info = info_json(path, &in);
    if (info) {
        json_object_set_new(info, "verified", json_boolean(ok));
        if (ok && in.trailer == VET_SNAPSHOT_TRAILER_ABSENT)
            json_object_set_new(info, "note",
                                json_string("no SHA-256 trailer (raw bbolt file such as "
                                            "member/snap/db): the structure is verified, the "
                                            "contents are not checksummed"));
    }
    if ((rc = vet_report_set(&r, "snapshot", info)))
        goto fail;
    if (!ok && (rc = add_kv305(&r, path, &in, NULL)))
        goto fail;
    if (!is_json(g)) {
        vet_text_fputs(path, stdout, 0);
        printf(": %s\n", ok ? "verified" : "FAILED");
        printf("  sha256 trailer: %s%s\n", trailer_name(in.trailer),
               in.trailer == VET_SNAPSHOT_TRAILER_ABSENT
                   ? " (raw bbolt file: structure verified, contents not checksummed)"
                   : "");
        printf("  structure: %s", in.nerrors ? "" : "ok");
        if (in.nerrors)
            printf("%zu error%s", in.nerrors, in.nerrors == 1 ? "" : "s");
        printf(" (%u-byte pages, %llu pages, txid %llu, revision %lld, %lld keys)\n", in.page_size,
               (unsigned long long)in.pgid, (unsigned long long)in.txid, (long long)in.revision,
               (long long)in.total_key);
        for (size_t i = 0; in.errors && i < in.errors->n; i++) {
            printf("    ");
            vet_text_fputs(in.errors->v[i], stdout, 0);
            printf("\n");
        }
        if (in.errors && in.nerrors > in.errors->n)
            printf("    ... %zu more\n", in.nerrors - in.errors->n);
        printf("\n");
    }
    ret = cli_emit(&r, g);
    goto done;
fail:
    ret = cli_fail(rc);
done:
    if (have_r)
        vet_report_free(&r);
    vet_snapshot_close(s);
    free(path);
    return ret;
}

/* The object listing for -o json. removed_in is the catalog's row for the stored version (a
 * lookup, not a judgement: whether the target is past it is KV406's call). */
static json_t *objects_json(const vet_snapshot_facts *f, const vet_catalog *cat)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < f->nobjects; i++) {
        const vet_snapshot_object *o = &f->objects[i];
        const vet_api *a = vet_catalog_lookup(cat, o->api_version, o->kind);
        json_t *ob = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "key", o->key, "resource",
            o->resource, "namespace", o->ns, "name", o->name, "apiVersion", o->api_version, "kind",
            o->kind, "encoding", vet_snapshot_encoding_name(o->encoding), "mod_revision",
            (json_int_t)o->mod_revision, "create_revision", (json_int_t)o->create_revision,
            "value_size", (json_int_t)o->value_size);
        if (ob && *o->encryption)
            json_object_set_new(ob, "encryption", json_string(o->encryption));
        if (ob && a && a->has_rem)
            json_object_set_new(ob, "removed_in", json_string(a->removed_in));
        if (!ob || json_array_append_new(arr, ob)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *groups_json(const vet_snapshot_facts *f)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < f->ngroups; i++) {
        const vet_snapshot_group *gr = &f->groups[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "resource", gr->resource, "namespace",
                      gr->ns, "apiVersion", gr->api_version, "kind", gr->kind, "encoding",
                      vet_snapshot_encoding_name(gr->encoding), "count", (json_int_t)gr->count);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Resource, namespace, apiVersion and kind come from the keys and values stored in etcd: a
 * hostile value must not reach the terminal raw (one that cleared the screen did). */
static int print_groups(const vet_snapshot_facts *f, const char *target)
{
    const char *hdr[] = {"RESOURCE", "NAMESPACE", "STORED AS", "ENCODING", "COUNT"};
    vet_table *t = NULL;
    int rc;
    if ((rc = vet_table_new(&t, 5, hdr)))
        return rc;
    for (size_t i = 0; i < f->ngroups && !rc; i++) {
        const vet_snapshot_group *gr = &f->groups[i];
        char stored[256], cnt[24];
        char *res = NULL, *ns = NULL, *st = NULL;
        const char *av = gr->api_version;
        snprintf(stored, sizeof stored, "%s%s%s", *av ? av : "?", *av ? " " : "", gr->kind);
        snprintf(cnt, sizeof cnt, "%zu", gr->count);
        if (!(res = vet_text_escape(gr->resource, 0)) ||
            !(ns = vet_text_escape(*gr->ns ? gr->ns : "-", 0)) ||
            !(st = vet_text_escape(stored, 0))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        } else {
            const char *row[] = {res, ns, st, vet_snapshot_encoding_name(gr->encoding), cnt};
            rc = vet_table_row(t, row);
        }
        free(res);
        free(ns);
        free(st);
    }
    if (!rc) {
        vet_table_print(t, stdout);
        printf("\n%zu objects, %zu other keys; target ", f->nobjects, f->nother);
        vet_text_fputs(target, stdout, 0);
        printf("\n\n");
    }
    vet_table_free(t);
    return rc;
}

static int cmd_objects(int argc, char **argv, cli_globals *g)
{
    vet_snapshot *s = NULL;
    vet_snapshot_facts *facts = NULL;
    vet_catalog *cat = NULL;
    vet_snapshot_info in;
    vet_report r;
    vet_ctx ctx;
    vet_version tv;
    vet_strv catalogs = VET_STRV_INIT;
    char *path = NULL;
    const char *target;
    int rc, have_r = 0, ret = 0;
    const cli_opt own[] = {
        {"catalog", 0, CLI_MULTI, &catalogs, "FILE",
         "add or override API catalog rows (repeatable)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    rc = open_one(&s, argc, argv, g,
                  "  kubevet etcd snapshot objects FILE [--target VERSION] [--catalog FILE]",
                  "List the Kubernetes objects in an etcd snapshot (latest revision of each key, "
                  "deleted keys skipped) by resource and namespace, with the apiVersion and kind "
                  "each is stored at (protobuf typeMeta, JSON for CRDs and custom resources; "
                  "encrypted values are reported as encrypted). Objects stored at a version that "
                  "the --target release (default: the newest the API catalog knows) removes are "
                  "finding KV406: rewrite them (storage migration) before upgrading. Reads go on "
                  "despite structural damage (KV305), as far as the pages can be read.",
                  own, &path);
    if (rc == 1 && g->help) {
        vet_strv_free(&catalogs);
        return 0;
    }
    if (rc) {
        vet_strv_free(&catalogs);
        free(path);
        return cli_fail(rc);
    }
    if ((rc = cli_catalog_load(&cat, &catalogs)) ||
        (rc = cli_target_version(&tv, NULL, 0, g->target, cat)))
        goto fail;
    target = g->target ? g->target : vet_catalog_newest(cat);
    if ((rc = vet_report_init(&r, "etcd snapshot objects", g->at)))
        goto fail;
    have_r = 1;
    if ((rc = vet_snapshot_status(s, &in)) || (rc = vet_snapshot_facts_load(&facts, s)))
        goto fail;
    if (in.nerrors &&
        (rc = add_kv305(&r, path, &in,
                        in.meta_used >= 0 ? "The objects listed were read from the pages that "
                                            "could be read; some may be missing."
                                          : "No object could be read.")))
        goto fail;
    memset(&ctx, 0, sizeof ctx);
    ctx.now = g->at;
    ctx.target = target;
    ctx.catalog = cat;
    ctx.snapshot = facts;
    if ((rc = vet_check_run(&ctx, &r, VET_SRC_ETCD, (const char *const[]){"KV406", NULL})))
        goto fail;
    if (!is_json(g) && (rc = print_groups(facts, target)))
        goto fail;
    if ((rc = vet_report_set(&r, "target", json_string(target))) ||
        (rc = vet_report_set(&r, "resources", groups_json(facts))) ||
        (rc = vet_report_set(&r, "objects", objects_json(facts, cat))) ||
        (rc = vet_report_set(&r, "other_keys", json_integer((json_int_t)facts->nother))))
        goto fail;
    ret = cli_emit(&r, g);
    goto done;
fail:
    ret = cli_fail(rc);
done:
    if (have_r)
        vet_report_free(&r);
    vet_snapshot_facts_free(facts);
    vet_catalog_free(cat);
    vet_snapshot_close(s);
    vet_strv_free(&catalogs);
    free(path);
    return ret;
}

int cmd_etcd_snapshot(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd cmds[] = {
        {"save", cmd_etcd_snapshot_save, "save a snapshot from a live etcd (then verify it)"},
        {"verify", cmd_verify, "SHA-256 trailer and full bbolt structure check of FILE"},
        {"status", cmd_status, "hash, revision, total keys and size, as etcdctl prints them"},
        {"objects", cmd_objects, "Kubernetes objects in FILE and the versions they are stored at"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(cmds, "etcd snapshot", argc, argv, g);
}
