/* kubevet apis convert PATH... [--target VERSION] [--in-place | --output-dir DIR]
 *
 * Rewrites removed/deprecated apiVersions (and the fields that changed with them) to the newest
 * version served at the target, editing only the bytes that change. Without --in-place or
 * --output-dir nothing is written: the converted files go to stdout and the plan to stderr.
 * Objects a person must decide about are left unchanged and reported (KV401 removed, KV402
 * deprecated) with what to choose. All inputs are converted in memory first; if any cannot be
 * read or parsed, nothing is written and the exit code is 3. */
#include "cmd_apis_convert.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"
#include "error.h"
#include "fs.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/manifest.h"

static const char synopsis[] =
    "  kubevet apis convert PATH...|- [--target VERSION] [--in-place | --output-dir DIR]";

static const char description[] =
    "Rewrite objects whose apiVersion is removed or deprecated at --target to the newest version\n"
    "served there, with the field changes that go with it (apps/v1 selectors copied from the\n"
    "template labels, Ingress backends and pathType, HPA metric targets, CRD per-version schemas,\n"
    "webhook and CSR defaults made explicit, ...). Only the changed bytes are edited: comments,\n"
    "key order, quoting and Helm template text stay as they are.\n"
    "Default: print the converted files to stdout (nothing is written). --in-place rewrites each\n"
    "changed file atomically after a backup (<file>.kubevet-<UTC stamp>.bak); --output-dir writes\n"
    "every input under DIR (folders keep their layout). Objects that need a person (a webhook\n"
    "without sideEffects, a CSR without signerName, an API with no replacement, a selector that\n"
    "does not match) are left unchanged and reported as KV401/KV402 with what to choose.";

typedef struct {
    char *path; /* as given or walked */
    char *rel;  /* path under --output-dir */
    unsigned mode;
    vet_convert_result *res;
} input;

typedef struct {
    input *v;
    size_t n, cap;
} inputs;

static int add_input(inputs *in, const char *path, const char *rel, unsigned mode)
{
    input *e;
    if (in->n == in->cap) {
        size_t n = in->cap ? in->cap * 2 : 16;
        input *v = realloc(in->v, n * sizeof *v);
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        in->v = v;
        in->cap = n;
    }
    e = &in->v[in->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    e->rel = strdup(rel);
    e->mode = mode;
    if (!e->path || !e->rel) {
        free(e->path);
        free(e->rel);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    in->n++;
    return 0;
}

static int manifest_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")) ||
           (l > 5 && !strcmp(n + l - 5, ".json"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Folders: every *.yaml, *.yml, *.json below, in name order. */
static int walk(inputs *in, vet_fs_dirset *seen, const char *dir, const char *rel, int depth)
{
    DIR *d;
    struct dirent *e;
    vet_strv names = VET_STRV_INIT;
    int rc = 0;
    if (depth > 64)
        return vet_error_set(VET_EINPUT, "%s: folders nested too deep", dir);
    if ((rc = vet_fs_dirset_enter(seen, dir)) <= 0)
        return rc; /* a folder reached twice through symlinks: once is enough */
    rc = 0;
    if (!(d = opendir(dir)))
        return vet_error_set(VET_EIO, "%s: %s", dir, strerror(errno));
    while (!rc && (e = readdir(d)))
        if (e->d_name[0] != '.')
            rc = vet_strv_push(&names, e->d_name);
    closedir(d);
    if (names.n > 1)
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; !rc && i < names.n; i++) {
        char *p = vet_path_join(dir, names.v[i]);
        char *r = *rel ? vet_path_join(rel, names.v[i]) : strdup(names.v[i]);
        struct stat st;
        if (!p || !r)
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        else if (stat(p, &st) != 0)
            rc = vet_error_set(VET_EIO, "%s: %s", p, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = walk(in, seen, p, r, depth + 1);
        else if (S_ISREG(st.st_mode) && manifest_name(names.v[i]))
            rc = add_input(in, p, r, (unsigned)st.st_mode & 07777);
        free(p);
        free(r);
    }
    vet_strv_free(&names);
    return rc;
}

static int collect(inputs *in, const vet_strv *pos)
{
    vet_fs_dirset seen = VET_FS_DIRSET_INIT;
    int rc = 0;
    for (size_t i = 0; !rc && i < pos->n; i++) {
        const char *p = pos->v[i], *base;
        struct stat st;
        if (!strcmp(p, "-")) {
            rc = add_input(in, "-", "stdin.yaml", 0644);
            continue;
        }
        if (stat(p, &st) != 0) {
            rc =
                vet_error_set(errno == ENOENT ? VET_EINPUT : VET_EIO, "%s: %s", p, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk(in, &seen, p, "", 0);
            continue;
        }
        base = strrchr(p, '/');
        rc = add_input(in, p, base ? base + 1 : p, (unsigned)st.st_mode & 07777);
    }
    vet_fs_dirset_free(&seen);
    return rc;
}

static int read_stdin(vet_buf *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        if (b->size + n > VET_FS_DEFAULT_CAP)
            return vet_error_set(VET_ELIMIT, "-: input over %u bytes", VET_FS_DEFAULT_CAP);
        if (vet_buf_put(b, chunk, n))
            return VET_ENOMEM;
    }
    if (ferror(stdin))
        return vet_error_set(VET_EIO, "-: read error");
    return 0;
}

/* mkdir -p for the folders of --output-dir (the files themselves go through atomic.c). */
static int make_dirs(const char *path)
{
    char *p = strdup(path);
    int rc = 0;
    if (!p)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (char *s = p + 1; !rc; s++) {
        if (*s != '/' && *s)
            continue;
        {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                rc = vet_error_set(VET_EIO, "%s: cannot create folder: %s", p, strerror(errno));
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return rc;
}

static char *subject(const input *in, const vet_convert_doc *d)
{
    if (d->name && d->ns)
        return vet_strdupf("%s/%s/%s", d->kind, d->ns, d->name);
    if (d->name)
        return vet_strdupf("%s/%s", d->kind, d->name);
    return vet_strdupf("%s (%s:%zu)", d->kind, in->path, d->line);
}

static const char *status_name(vet_convert_status s)
{
    switch (s) {
    case VET_CONVERT_DONE:
        return "converted";
    case VET_CONVERT_PARTIAL:
        return "template";
    case VET_CONVERT_STOPPED:
        return "needs-decision";
    case VET_CONVERT_NO_REPLACEMENT:
        return "no-replacement";
    case VET_CONVERT_UNSUPPORTED:
        return "no-rule";
    }
    return "?";
}

/* One finding per object a person must look at; a JSON "conversions" list of everything. */
static int build_report(vet_report *r, const inputs *in, const char *target)
{
    json_t *all = json_array();
    int rc = 0;
    if (!all)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < in->n; i++)
        for (size_t j = 0; !rc && j < in->v[i].res->ndocs; j++) {
            const vet_convert_doc *d = &in->v[i].res->docs[j];
            char *subj = subject(&in->v[i], d);
            vet_finding *f;
            json_t *o;
            if (!subj)
                return vet_error_set(VET_ENOMEM, "out of memory");
            o = json_pack("{s:s,s:I,s:s,s:s,s:s?,s:s?,s:s,s:s?,s:s?,s:s?}", "file", in->v[i].path,
                          "line", (json_int_t)d->line, "subject", subj, "kind", d->kind, "name",
                          d->name, "namespace", d->ns, "from", d->from, "to", d->to, "changes",
                          d->changes, "manual", d->manual);
            if (o)
                json_object_set_new(o, "status", json_string(status_name(d->status)));
            json_array_append_new(all, o);
            if (d->id) {
                f = vet_check_emit(r, d->id, subj);
                if (!f || vet_finding_message(f, "%s", d->manual ? d->manual : "convert by hand") ||
                    vet_finding_set_str(f, "file", in->v[i].path) ||
                    vet_finding_set_int(f, "line", (long long)d->line) ||
                    vet_finding_set_str(f, "api_version", d->from) ||
                    vet_finding_set_str(f, "kind", d->kind) ||
                    vet_finding_set_str(f, "replacement", d->to ? d->to : "") ||
                    vet_finding_set_str(f, "status", status_name(d->status)) ||
                    (d->changes && vet_finding_set_str(f, "changes", d->changes)))
                    rc = vet_error_set(VET_ENOMEM, "out of memory");
                else if (d->status == VET_CONVERT_PARTIAL)
                    rc = vet_finding_fix(f,
                                         "the apiVersion line was changed; finish by hand, "
                                         "then run kubevet apis scan --target %s",
                                         target);
            }
            free(subj);
        }
    if (!rc)
        rc = vet_report_set(r, "conversions", all);
    else
        json_decref(all);
    if (!rc)
        rc = vet_report_set(r, "target", json_string(target));
    return rc;
}

/* The plan on stderr: per file what changed, and what a person must do. */
static void print_plan(const inputs *in, const char *target, int mode, const vet_strv *backups)
{
    size_t conv = 0, manual = 0, files = 0;
    for (size_t i = 0; i < in->n; i++) {
        const vet_convert_result *res = in->v[i].res;
        if (!res->ndocs)
            continue;
        fprintf(stderr, "%s:%s\n", in->v[i].path,
                res->changed ? (mode == 1   ? " rewritten"
                                : mode == 2 ? " written"
                                            : " changes")
                             : " unchanged");
        files += res->changed;
        for (size_t j = 0; j < res->ndocs; j++) {
            const vet_convert_doc *d = &res->docs[j];
            fprintf(stderr, "  line %zu %s%s%s: ", d->line, d->kind, d->name ? "/" : "",
                    d->name ? d->name : "");
            if (d->changes)
                fprintf(stderr, "%s", d->changes);
            if (d->manual)
                fprintf(stderr, "%sNEEDS A PERSON: %s", d->changes ? "; " : "", d->manual);
            fputc('\n', stderr);
            conv += d->status == VET_CONVERT_DONE || d->status == VET_CONVERT_PARTIAL;
            manual += d->status != VET_CONVERT_DONE;
        }
    }
    for (size_t i = 0; backups && i < backups->n; i++)
        fprintf(stderr, "backup: %s\n", backups->v[i]);
    fprintf(stderr,
            "kubevet: target %s: %zu object(s) converted in %zu file(s), %zu need a "
            "person%s\n",
            target, conv, files, manual,
            mode == 0 && conv ? " (dry run: nothing written; use --in-place or --output-dir)" : "");
}

int cmd_apis_convert(int argc, char **argv, cli_globals *g)
{
    vet_strv catalogs = VET_STRV_INIT, pos = VET_STRV_INIT, errs = VET_STRV_INIT,
             backups = VET_STRV_INIT;
    int in_place = 0, ret = 0, rc, report_ok = 0;
    const char *out_dir = NULL, *target;
    const cli_opt own[] = {
        {"in-place", 'i', CLI_FLAG, &in_place, NULL,
         "rewrite the files (atomically, after a timestamped .bak backup)"},
        {"output-dir", 0, CLI_STR, &out_dir, "DIR", "write the converted files under DIR"},
        {"catalog", 0, CLI_MULTI, &catalogs, "FILE", "add or override catalog rows (repeatable)"},
        {"filename", 'f', CLI_POS, NULL, "FILE",
         "a manifest file or folder, as kubectl -f (repeatable; - for stdin)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_catalog *cat = NULL;
    inputs in = {NULL, 0, 0};
    vet_report r;
    int tv;

    if ((rc = cli_parse(argc, argv, own, g, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (g->help) {
        cli_usage(stdout, synopsis, description, own);
        goto done;
    }
    if (!pos.n) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "apis convert: no input: give files, folders or "
                                                 "- for stdin"));
        goto done;
    }
    if (in_place && out_dir) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "--in-place and --output-dir exclude each other"));
        goto done;
    }
    if (in_place && vet_strv_find(&pos, "-", 0) >= 0) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "--in-place cannot rewrite stdin"));
        goto done;
    }
    if ((rc = vet_catalog_load_builtin(&cat))) {
        ret = cli_fail(rc);
        goto done;
    }
    for (size_t i = 0; i < catalogs.n; i++)
        if ((rc = vet_catalog_load_file(cat, catalogs.v[i]))) {
            ret = cli_fail(rc);
            goto done;
        }
    target = g->target ? g->target : vet_convert_default_target(cat);
    if ((rc = vet_convert_target_parse(&tv, target)) || (rc = cli_target_check(g->target, cat)) ||
        (rc = collect(&in, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }

    /* 1. everything in memory; any bad input means nothing is written */
    for (size_t i = 0; i < in.n; i++) {
        vet_buf b = VET_BUF_INIT;
        rc = !strcmp(in.v[i].path, "-") ? read_stdin(&b)
                                        : vet_fs_read(&b, in.v[i].path, VET_FS_DEFAULT_CAP);
        if (!rc)
            rc = vet_manifest_convert(&in.v[i].res, (const unsigned char *)(b.ptr ? b.ptr : ""),
                                      b.size, target, cat, in.v[i].path);
        vet_buf_free(&b);
        if (rc == VET_ENOMEM) {
            ret = cli_fail(rc);
            goto done;
        }
        if (rc && vet_strv_push(&errs, vet_error_last())) {
            ret = cli_fail(VET_ENOMEM);
            goto done;
        }
    }
    if (errs.n) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "kubevet: %s\n", errs.v[i]);
        fprintf(stderr, "kubevet: nothing was %s\n", in_place || out_dir ? "written" : "converted");
        ret = 3;
        goto done;
    }

    /* 2. output */
    if (!in_place && !out_dir) {
        for (size_t i = 0; i < in.n; i++) {
            const vet_convert_result *res = in.v[i].res;
            if (in.n > 1) {
                if (i)
                    fputs("---\n", stdout);
                printf("# Source: %s\n", in.v[i].path);
            }
            fwrite(res->data, 1, res->len, stdout);
            if (in.n > 1 && res->len && res->data[res->len - 1] != '\n')
                fputc('\n', stdout);
        }
        fflush(stdout);
    } else {
        for (size_t i = 0; i < in.n; i++) {
            const vet_convert_result *res = in.v[i].res;
            char *bak = NULL, *dest = NULL;
            if (in_place && !res->changed)
                continue;
            if (out_dir) {
                const char *slash;
                dest = vet_path_join(out_dir, in.v[i].rel);
                if (!dest) {
                    ret = cli_fail(vet_error_set(VET_ENOMEM, "out of memory"));
                    goto done;
                }
                slash = strrchr(dest, '/');
                if (slash && slash != dest) {
                    char *dir = strndup(dest, (size_t)(slash - dest));
                    rc = dir ? make_dirs(dir) : vet_error_set(VET_ENOMEM, "out of memory");
                    free(dir);
                    if (rc) {
                        free(dest);
                        ret = cli_fail(rc);
                        goto done;
                    }
                }
            }
            rc = vet_atomic_write_file(dest ? dest : in.v[i].path, res->data, res->len,
                                       in.v[i].mode ? in.v[i].mode : 0644, VET_ATOMIC_BACKUP, &bak);
            free(dest);
            if (rc) {
                /* Not all-or-nothing until the plan engine lands: say exactly what changed. */
                ret = cli_fail(rc);
                for (size_t j = 0; j < in.n; j++)
                    if (!in_place || in.v[j].res->changed)
                        fprintf(stderr, "kubevet: %s: %s\n", j < i ? "written" : "not written",
                                out_dir ? in.v[j].rel : in.v[j].path);
                for (size_t j = 0; j < backups.n; j++)
                    fprintf(stderr, "kubevet: backup of a written file: %s\n", backups.v[j]);
                goto done;
            }
            if (bak)
                vet_strv_take(&backups, bak);
        }
    }
    /* a dry run with -o json keeps stderr for the JSON report (it has "conversions") */
    if (in_place || out_dir || !g->output || strcmp(g->output, "json"))
        print_plan(&in, target, in_place ? 1 : out_dir ? 2 : 0, &backups);

    /* 3. the report: on stdout when it is free, else on stderr */
    if ((rc = vet_report_init(&r, "apis convert", g->at))) {
        ret = cli_fail(rc);
        goto done;
    }
    report_ok = 1;
    if ((rc = build_report(&r, &in, target))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (in_place || out_dir) {
        ret = cli_emit(&r, g);
    } else {
        if (g->output && !strcmp(g->output, "json"))
            cli_render_json(&r, g, stderr);
        else if (r.nfindings)
            vet_report_render_text(&r, stderr, 0);
        ret = vet_report_exit_code(&r, g->fail_on);
    }
done:
    if (report_ok)
        vet_report_free(&r);
    for (size_t i = 0; i < in.n; i++) {
        free(in.v[i].path);
        free(in.v[i].rel);
        vet_convert_result_free(in.v[i].res);
    }
    free(in.v);
    vet_catalog_free(cat);
    vet_strv_free(&catalogs);
    vet_strv_free(&pos);
    vet_strv_free(&errs);
    vet_strv_free(&backups);
    return ret;
}
