/* kubevet apis convert PATH... [--target VERSION] [--in-place | --output-dir DIR] [--new-defaults]
 *
 * Rewrites removed/deprecated apiVersions (and the fields that changed with them) to the newest
 * version served at the target, editing only the bytes that change. Without --in-place or
 * --output-dir nothing is written: the converted files go to stdout and the plan to stderr.
 * Objects a person must decide about are left unchanged and reported (KV401 removed, KV402
 * deprecated) with what to choose. All inputs are converted in memory first; if any cannot be
 * read or parsed, nothing is written and the exit code is 3.
 *
 * Folders: a Helm chart (a folder with Chart.yaml) is converted in its templates/ and crds/
 * only (values.yaml may well have top-level apiVersion/kind keys: it is not an object), and
 * --output-dir writes the whole folder (helpers, NOTES.txt, .helmignore, charts/, ...), the
 * converted files replaced, so the output renders like the input did. --in-place backs every
 * replaced file up into one timestamped folder outside any chart: Helm renders and lints every
 * file under templates/, a backup there would be rendered too. A symlinked file is written
 * through its link (the link stays) and its real bytes are backed up. */
#include "cmd_apis_convert.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "vtime.h"
#include "buf.h"
#include "error.h"
#include "fs.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/manifest.h"
#include "kubevet/plan.h"

static const char synopsis[] =
    "  kubevet apis convert PATH...|- [--target VERSION] [--in-place | --output-dir DIR]\n"
    "                       [--new-defaults]";

static const char description[] =
    "Rewrite objects whose apiVersion is removed or deprecated at --target to the newest version\n"
    "served there, with the field changes that go with it (apps/v1 selectors copied from the\n"
    "template labels, Ingress backends and pathType, HPA metric targets, CRD per-version schemas,\n"
    "webhook and CSR defaults made explicit, ...). Only the changed bytes are edited: comments,\n"
    "key order, quoting and Helm template text stay as they are.\n"
    "Where the old API defaulted a field differently (extensions/v1beta1 Deployments kept every\n"
    "ReplicaSet, DaemonSets and apps/v1beta1 StatefulSets updated OnDelete, ...), the old default\n"
    "is written out so the object behaves as before, unless --new-defaults.\n"
    "Default: print the converted files to stdout (nothing is written). --in-place rewrites each\n"
    "changed file atomically (through symlinks) after backing it up into one folder,\n"
    "kubevet-backup-<UTC stamp>, next to the chart (or the file) and never inside templates/;\n"
    "--output-dir writes every input under DIR: a folder keeps its layout and every file (a Helm\n"
    "chart stays whole: helpers, NOTES.txt, .helmignore, charts/), converted files replaced. In a\n"
    "Helm chart only templates/ and crds/ are converted. Objects that need a person (a webhook\n"
    "without sideEffects, a CSR without signerName, an API with no replacement, a selector that\n"
    "does not match, a Helm template whose fields cannot be rewritten as text, a CRD schema that\n"
    "cannot be made structural) are left byte for byte unchanged and reported as KV401/KV402\n"
    "with why and what to choose; the exit code is then 1.";

typedef struct {
    char *path; /* as given or walked */
    char *rel;  /* path under --output-dir */
    unsigned mode;
    int copy; /* not a manifest to convert: --output-dir copies it as it is */
    vet_convert_result *res;
    vet_buf orig; /* the bytes read (kept for --in-place backups and copies) */
} input;

typedef struct {
    input *v;
    size_t n, cap;
} inputs;

static int add_input(inputs *in, const char *path, const char *rel, unsigned mode, int copy)
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
    e->copy = copy;
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

typedef struct {
    int all;     /* --output-dir: every file, not only manifests */
    int has_out; /* out_dev/out_ino name the output folder (never walked into) */
    dev_t out_dev;
    ino_t out_ino;
    vet_strv *notes;
} walk_opts;

/* Folders, in name order: every *.yaml, *.yml, *.json below to convert and, with --output-dir,
 * every other file to copy. In a Helm chart (a folder holding Chart.yaml) only templates/ and
 * crds/ hold objects; subcharts under charts/ are charts of their own. chart: 0 outside a chart,
 * 1 at a chart's root, 2 inside its templates/ or crds/, 3 elsewhere in it. Symlinked folders
 * are not followed (a loop would never end); symlinked files are read through. */
static int walk(inputs *in, const char *dir, const char *rel, int depth, int chart,
                const walk_opts *wo)
{
    DIR *d;
    struct dirent *e;
    vet_strv names = VET_STRV_INIT;
    int rc = 0;
    if (depth > 64)
        return vet_error_set(VET_EINPUT, "%s: folders nested too deep", dir);
    if (!(d = opendir(dir)))
        return vet_error_set(VET_EIO, "%s: %s", dir, strerror(errno));
    while (!rc && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".git"))
            rc = vet_strv_push(&names, e->d_name);
    closedir(d);
    if (names.n > 1)
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    if (chart != 2 && vet_strv_find(&names, "Chart.yaml", 0) >= 0)
        chart = 1;
    for (size_t i = 0; !rc && i < names.n; i++) {
        const char *nm = names.v[i];
        char *p = vet_path_join(dir, nm);
        char *r = *rel ? vet_path_join(rel, nm) : strdup(nm);
        struct stat st, lst;
        int conv;
        if (!p || !r)
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        else if (lstat(p, &lst) != 0 || stat(p, &st) != 0)
            rc = vet_error_set(VET_EIO, "%s: %s", p, strerror(errno));
        else if (wo->has_out && st.st_dev == wo->out_dev && st.st_ino == wo->out_ino)
            ; /* the output folder inside the input */
        else if (S_ISDIR(st.st_mode) && S_ISLNK(lst.st_mode))
            rc = wo->notes ? vet_strv_take(wo->notes,
                                           vet_strdupf("%s: a symlinked folder, not followed", p))
                           : 0;
        else if (S_ISDIR(st.st_mode))
            rc = walk(in, p, r, depth + 1,
                      chart == 1 ? (!strcmp(nm, "templates") || !strcmp(nm, "crds") ? 2
                                    : !strcmp(nm, "charts")                         ? 0
                                                                                    : 3)
                                 : chart,
                      wo);
        else if (S_ISREG(st.st_mode)) {
            conv = nm[0] != '.' && manifest_name(nm) && (chart == 0 || chart == 2);
            if (conv || wo->all)
                rc = add_input(in, p, r, (unsigned)st.st_mode & 07777, !conv);
        }
        free(p);
        free(r);
    }
    vet_strv_free(&names);
    return rc;
}

static int collect(inputs *in, const vet_strv *pos, const walk_opts *wo)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < pos->n; i++) {
        const char *p = pos->v[i], *base;
        struct stat st;
        if (!strcmp(p, "-")) {
            rc = add_input(in, "-", "stdin.yaml", 0644, 0);
            continue;
        }
        if (stat(p, &st) != 0) {
            rc =
                vet_error_set(errno == ENOENT ? VET_EINPUT : VET_EIO, "%s: %s", p, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk(in, p, "", 0, 0, wo);
            continue;
        }
        base = strrchr(p, '/');
        {
            /* a file at a chart's root (values.yaml, Chart.yaml) holds values, not objects,
             * whatever top-level keys it has */
            char *dir = base ? strndup(p, (size_t)(base - p)) : strdup(".");
            char *cy = dir ? vet_path_join(dir, "Chart.yaml") : NULL;
            int chart_root = cy && vet_fs_exists(cy);
            free(dir);
            free(cy);
            if (chart_root && wo->notes &&
                (rc =
                     vet_strv_take(wo->notes, vet_strdupf("%s: a file at a Helm chart's root holds "
                                                          "values, not objects: not converted",
                                                          p))))
                break;
            rc = add_input(in, p, base ? base + 1 : p, (unsigned)st.st_mode & 07777, chart_root);
        }
    }
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

/* Objects already at the new apiVersion whose body is still in the old shape (an apiVersion line
 * bumped by hand): convert has nothing to rewrite by version, but the result must not pass for
 * clean, so the same field rules `apis scan` applies (KV401, half-converted) run on the output. */
static int half_converted(vet_report *r, const inputs *in, const vet_catalog *cat, vet_strv *plan)
{
    vet_manifest_opts mo;
    int rc = 0;
    memset(&mo, 0, sizeof mo);
    mo.catalog = cat;
    mo.threads = 1;
    for (size_t i = 0; !rc && i < in->n; i++) {
        const input *e = &in->v[i];
        vet_manifest_scan *s = NULL;
        if (e->copy || !e->res)
            continue;
        if ((rc = vet_manifest_scan_new(&s, &mo)) ||
            (rc = vet_manifest_scan_buffer(s, e->path, (const unsigned char *)e->res->data,
                                           e->res->len))) {
            vet_manifest_scan_free(s);
            break;
        }
        for (size_t k = 0; !rc && k < vet_manifest_scan_count(s); k++) {
            const vet_manifest_obj *o = vet_manifest_scan_obj(s, k);
            char *subj;
            vet_finding *f;
            if (!o->invalid_detail)
                continue;
            /* an unnamed object (a template's name is often a directive) is named by place */
            subj = o->name && o->namespace ? vet_strdupf("%s/%s/%s", o->kind, o->namespace, o->name)
                   : o->name               ? vet_strdupf("%s/%s", o->kind, o->name)
                                           : vet_strdupf("%s (%s:%u)", o->kind, e->path, o->line);
            if (!subj ||
                vet_strv_take(plan, vet_strdupf("%s: unchanged\n  line %u %s: NEEDS A PERSON (left "
                                                "unchanged): half-converted: %s",
                                                e->path, o->line, subj, o->invalid_detail)) ||
                !(f = vet_check_emit(r, "KV401", subj)) ||
                vet_finding_message(f,
                                    "%s %s is half-converted: %s; kube-apiserver rejects it, and "
                                    "convert rewrites only objects whose apiVersion is old",
                                    o->api_version, o->kind, o->invalid_detail) ||
                vet_finding_fix(f, "rewrite the object in %s:%u to the %s shape by hand", e->path,
                                o->invalid_line, o->api_version) ||
                vet_finding_set_str(f, "file", e->path) ||
                vet_finding_set_int(f, "line", (long long)o->invalid_line) ||
                vet_finding_set_str(f, "api_version", o->api_version) ||
                vet_finding_set_str(f, "kind", o->kind) ||
                vet_finding_set_str(f, "status", "half-converted") ||
                vet_finding_set_str(f, "detail", o->invalid_detail))
                rc = vet_error_set(VET_ENOMEM, "out of memory");
            free(subj);
        }
        vet_manifest_scan_free(s);
    }
    return rc;
}

/* One finding per object a person must look at; a JSON "conversions" list of everything. */
static int build_report(vet_report *r, const inputs *in, const char *target)
{
    json_t *all = json_array();
    int rc = 0;
    if (!all)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < in->n; i++)
        for (size_t j = 0; !rc && in->v[i].res && j < in->v[i].res->ndocs; j++) {
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
static void print_plan(const inputs *in, const char *target, int mode, const char *backup_dir,
                       const vet_strv *notes, const vet_strv *half)
{
    size_t conv = 0, manual = 0, files = 0, copied = 0;
    for (size_t i = 0; i < in->n; i++) {
        const vet_convert_result *res = in->v[i].res;
        copied += in->v[i].copy;
        if (!res || !res->ndocs)
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
                fprintf(stderr, "%sNEEDS A PERSON (left unchanged): %s", d->changes ? "; " : "",
                        d->manual);
            fputc('\n', stderr);
            conv += d->status == VET_CONVERT_DONE || d->status == VET_CONVERT_PARTIAL;
            manual += d->status != VET_CONVERT_DONE;
        }
    }
    /* objects convert leaves alone whose body their own apiVersion rejects need a person too */
    for (size_t i = 0; half && i < half->n; i++)
        fprintf(stderr, "%s\n", half->v[i]);
    manual += half ? half->n : 0;
    for (size_t i = 0; notes && i < notes->n; i++)
        fprintf(stderr, "note: %s\n", notes->v[i]);
    if (backup_dir)
        fprintf(stderr, "backup folder: %s (the replaced files, as they were)\n", backup_dir);
    if (mode == 2 && copied)
        fprintf(stderr, "copied %zu other file(s) as they are\n", copied);
    fprintf(stderr,
            "kubevet: target %s: %zu object(s) converted in %zu file(s), %zu need a "
            "person%s\n",
            target, conv, files, manual,
            mode == 0 && conv ? " (dry run: nothing written; use --in-place or --output-dir)" : "");
}

static char *dir_name(const char *p)
{
    const char *s = strrchr(p, '/');
    if (!s)
        return strdup(".");
    if (s == p)
        return strdup("/");
    return strndup(p, (size_t)(s - p));
}

/* Where the backup folder goes for a file (its real path): next to the outermost chart that
 * holds it (a folder under a chart's charts/ would be read as a subchart), else next to it. */
static char *backup_base(const char *real)
{
    char *dir = dir_name(real), *top = NULL;
    for (int i = 0; dir && i < 64 && strcmp(dir, "/") && strcmp(dir, "."); i++) {
        char *cy = vet_path_join(dir, "Chart.yaml"), *up;
        if (cy && vet_fs_exists(cy)) {
            free(top);
            top = strdup(dir);
        }
        free(cy);
        up = dir_name(dir);
        free(dir);
        dir = up;
    }
    free(dir);
    if (top) {
        char *p = dir_name(top);
        free(top);
        return p;
    }
    return dir_name(real);
}

/* Write one file under --output-dir (its folders first). */
static int write_out(const char *out_dir, const input *in)
{
    char *dest = vet_path_join(out_dir, in->rel), *dir;
    const void *data = in->copy ? (const void *)in->orig.ptr : (const void *)in->res->data;
    size_t len = in->copy ? in->orig.size : in->res->len;
    int rc;
    if (!dest)
        return vet_error_set(VET_ENOMEM, "out of memory");
    dir = dir_name(dest);
    rc = dir ? make_dirs(dir) : vet_error_set(VET_ENOMEM, "out of memory");
    if (!rc)
        rc =
            vet_atomic_write_file(dest, data ? data : "", len, in->mode ? in->mode : 0644, 0, NULL);
    free(dir);
    free(dest);
    return rc;
}

/* The longest folder prefix of a and b (both absolute, no trailing '/'), shortening a in place. */
static void common_dir(char *a, const char *b)
{
    size_t i = 0, cut = 0;
    for (; a[i] && a[i] == b[i]; i++)
        if (a[i] == '/')
            cut = i;
    if (!a[i] && (b[i] == '/' || !b[i]))
        return; /* a is b or one of b's folders */
    a[cut ? cut : 1] = '\0';
}

/* --in-place is a plan like every other change (include/kubevet/plan.h): all files or none.
 * Each changed file is written at its real path (a symlink stays a symlink); the engine backs up
 * the real bytes first into one kubevet-backup-<stamp>/ folder next to the outermost chart (never
 * inside templates/, which Helm renders), and a failed write rolls back the files already done. */
static int write_in_place(const inputs *in, char **backup_dir)
{
    vet_plan *plan = NULL;
    vet_plan_result res;
    vet_plan_apply_opts opts;
    vet_strv reals = VET_STRV_INIT;
    char *base = NULL, *root = NULL;
    size_t rl;
    int rc = 0;
    memset(&res, 0, sizeof res);
    memset(&opts, 0, sizeof opts);
    *backup_dir = NULL;
    for (size_t i = 0; !rc && i < in->n; i++) {
        const input *e = &in->v[i];
        char *real;
        if (e->copy || !e->res->changed)
            continue;
        if (!(real = realpath(e->path, NULL)))
            rc = vet_error_set(VET_EIO, "%s: %s", e->path, strerror(errno));
        else if (!base && !(base = backup_base(real)))
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        if (!rc && !root && !(root = strdup(base)))
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        if (!rc)
            common_dir(root, real);
        if (real && !rc)
            rc = vet_strv_take(&reals, real);
        else
            free(real);
    }
    if (rc || !reals.n)
        goto done;
    /* root holds every file and the backup's parent; paths in the plan are relative to it */
    rl = strcmp(root, "/") ? strlen(root) : 0;
    if ((rc = vet_plan_new(&plan, root, "apis convert --in-place", base[rl] ? base + rl + 1 : ".")))
        goto done;
    for (size_t i = 0, k = 0; !rc && i < in->n; i++) {
        const input *e = &in->v[i];
        if (e->copy || !e->res->changed)
            continue;
        rc = vet_plan_add_write(plan, reals.v[k++] + rl + 1, e->res->data, e->res->len,
                                e->mode ? e->mode : 0644, 0, NULL, NULL, e->path,
                                "converted to the target's API versions");
    }
    if (!rc) {
        rc = vet_plan_apply(plan, &opts, &res);
        *backup_dir = res.backup_dir;
        res.backup_dir = NULL;
    }
done:
    vet_plan_result_clear(&res);
    vet_plan_free(plan);
    vet_strv_free(&reals);
    free(root);
    free(base);
    return rc;
}

int cmd_apis_convert(int argc, char **argv, cli_globals *g)
{
    vet_strv catalogs = VET_STRV_INIT, pos = VET_STRV_INIT, errs = VET_STRV_INIT,
             notes = VET_STRV_INIT, half = VET_STRV_INIT;
    int in_place = 0, new_defaults = 0, ret = 0, rc, report_ok = 0;
    const char *out_dir = NULL, *target;
    char *backup_dir = NULL;
    const cli_opt own[] = {
        {"in-place", 'i', CLI_FLAG, &in_place, NULL,
         "rewrite the files atomically (through symlinks); backups in kubevet-backup-<stamp>/"},
        {"output-dir", 0, CLI_STR, &out_dir, "DIR",
         "write converted files, and every other file of a folder, under DIR"},
        {"new-defaults", 0, CLI_FLAG, &new_defaults, NULL,
         "let unset fields take the new API's defaults (not the old ones)"},
        {"catalog", 0, CLI_MULTI, &catalogs, "FILE", "add or override catalog rows (repeatable)"},
        {"filename", 'f', CLI_POS, NULL, "FILE",
         "a manifest file or folder, as kubectl -f (repeatable; - for stdin)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_catalog *cat = NULL;
    inputs in = {NULL, 0, 0};
    vet_report r;
    vet_convert_opts co;
    walk_opts wo;
    int tv;

    memset(&wo, 0, sizeof wo);
    memset(&co, 0, sizeof co);
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
    wo.all = out_dir != NULL;
    wo.notes = &notes;
    if (out_dir) {
        struct stat st;
        if (stat(out_dir, &st) == 0) {
            wo.has_out = 1;
            wo.out_dev = st.st_dev;
            wo.out_ino = st.st_ino;
        }
    }
    if ((rc = vet_convert_target_parse(&tv, target)) || (rc = cli_target_check(g->target, cat)) ||
        (rc = collect(&in, &pos, &wo))) {
        ret = cli_fail(rc);
        goto done;
    }
    co.target = target;
    co.catalog = cat;
    co.new_defaults = new_defaults;

    /* 1. everything in memory; any bad input means nothing is written */
    for (size_t i = 0; i < in.n; i++) {
        vet_buf *b = &in.v[i].orig;
        rc = !strcmp(in.v[i].path, "-") ? read_stdin(b)
                                        : vet_fs_read(b, in.v[i].path, VET_FS_DEFAULT_CAP);
        if (!rc && !in.v[i].copy)
            rc = vet_manifest_convert_opts(&in.v[i].res,
                                           (const unsigned char *)(b->ptr ? b->ptr : ""), b->size,
                                           &co, in.v[i].path);
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
        size_t shown = 0;
        for (size_t i = 0; i < in.n; i++) {
            const vet_convert_result *res = in.v[i].res;
            if (!res)
                continue;
            if (in.n > 1) {
                if (shown++)
                    fputs("---\n", stdout);
                printf("# Source: %s\n", in.v[i].path);
            }
            fwrite(res->data, 1, res->len, stdout);
            if (in.n > 1 && res->len && res->data[res->len - 1] != '\n')
                fputc('\n', stdout);
        }
        fflush(stdout);
    } else if (out_dir) {
        for (size_t i = 0; i < in.n; i++)
            if ((rc = write_out(out_dir, &in.v[i]))) {
                ret = cli_fail(rc);
                for (size_t j = 0; j < in.n; j++)
                    fprintf(stderr, "kubevet: %s: %s\n", j < i ? "written" : "not written",
                            in.v[j].rel);
                goto done;
            }
    } else if ((rc = write_in_place(&in, &backup_dir))) {
        if (backup_dir)
            fprintf(stderr, "kubevet: backup folder: %s\n", backup_dir);
        ret = cli_fail(rc);
        goto done;
    }
    /* 3. the report: on stdout when it is free, else on stderr */
    if ((rc = vet_report_init(&r, "apis convert", g->at))) {
        ret = cli_fail(rc);
        goto done;
    }
    report_ok = 1;
    if ((rc = build_report(&r, &in, target)) || (rc = half_converted(&r, &in, cat, &half)) ||
        (backup_dir && (rc = vet_report_set(&r, "backup_dir", json_string(backup_dir))))) {
        ret = cli_fail(rc);
        goto done;
    }
    /* a dry run with -o json keeps stderr for the JSON report (it has "conversions") */
    if (in_place || out_dir || !g->output || strcmp(g->output, "json"))
        print_plan(&in, target, in_place ? 1 : out_dir ? 2 : 0, backup_dir, &notes, &half);
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
        vet_buf_free(&in.v[i].orig);
        vet_convert_result_free(in.v[i].res);
    }
    free(in.v);
    free(backup_dir);
    vet_catalog_free(cat);
    vet_strv_free(&catalogs);
    vet_strv_free(&pos);
    vet_strv_free(&errs);
    vet_strv_free(&notes);
    vet_strv_free(&half);
    return ret;
}
