/* kubevet serve: `kubevet check` on an interval, for Prometheus (src/lib/serve). Each run is
 * check's own code path (cli_check_gather) in its lenient mode: a source that fails is reported
 * down and keeps its last series instead of ending the service. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "error.h"
#include "kubevet/serve.h"
#include "vtime.h"

static const char synopsis[] =
    "  kubevet serve --listen ADDR:PORT [--interval 5m] [--min-gap 10s] [--root DIR] "
    "[--snapshot-dir DIR] [PATH...] [check options]";

static const char description[] =
    "Runs the checks of 'kubevet check' every --interval and serves the results over HTTP:\n"
    "  /metrics  Prometheus text format 0.0.4 (names and labels: docs/metrics.md)\n"
    "  /report   the last report as the JSON of 'kubevet check -o json'\n"
    "  /healthz  200 while the process serves\n"
    "  POST /run a run now (at most one per --min-gap; 429 otherwise); SIGUSR1 does the same\n\n"
    "PATHs are certificate files or folders, as for 'certs check'. A source that fails a run\n"
    "(an unreadable root, etcd down) shows kubevet_source_up 0 and keeps its last good series.\n\n"
    "Every run re-reads the node's files, kubeconfig and etcd client certificates; SIGHUP runs\n"
    "at once. SIGTERM or SIGINT stop it (exit 0). Needs read access to the files only: root is\n"
    "not required where the certificates and keys are readable.";

typedef struct {
    cli_globals *g;
    const vet_strv *paths;
    const char *snapshot_dir;
    int fixed_at; /* --at given: every run judges that instant */
    cli_check c;
    vet_report r;
    int have_report;
} serve_state;

/* The newest etcd snapshot (*.db) in dir: the backup the CronJob of deploy/ keeps there. */
static int64_t newest_snapshot(const char *dir)
{
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    int64_t best = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        struct stat st;
        char *p;
        if (n < 4 || strcmp(e->d_name + n - 3, ".db"))
            continue;
        if (!(p = vet_strdupf("%s/%s", dir, e->d_name)))
            break;
        if (!stat(p, &st) && S_ISREG(st.st_mode) && (int64_t)st.st_mtime > best)
            best = (int64_t)st.st_mtime;
        free(p);
    }
    closedir(d);
    return best;
}

static void run_done(vet_serve_run *run, void *arg)
{
    serve_state *s = arg;
    (void)run;
    cli_check_reset(&s->c);
    if (s->have_report)
        vet_report_free(&s->r);
    s->have_report = 0;
}

static json_t *cert_row(size_t i, void *arg)
{
    serve_state *s = arg;
    return cli_pki_row(&s->c.pki, i, s->g->at);
}

static int run_checks(vet_serve_run *out, void *arg)
{
    serve_state *s = arg;
    int rc;
    if (!s->fixed_at)
        s->g->at = (int64_t)time(NULL);
    if ((rc = vet_report_init(&s->r, "serve", s->g->at)))
        return rc;
    s->have_report = 1;
    s->c.lenient = 1;
    if ((rc = cli_check_gather(&s->c, s->paths, s->g, &s->r))) {
        run_done(out, s);
        return rc;
    }
    for (int i = 0; i < VET_SERVE_NSRC; i++)
        out->up[i] = s->c.src[i].used;
    out->report = &s->r;
    out->ncerts = cli_pki_count(&s->c.pki);
    out->cert_row = cert_row;
    out->cert_arg = s;
    out->etcd = s->c.etcd;
    out->snapshot_time = newest_snapshot(s->snapshot_dir);
    return 0;
}

int cmd_serve(int argc, char **argv, cli_globals *g)
{
    serve_state s;
    vet_strv pos = VET_STRV_INIT;
    vet_serve_opts o;
    const char *listen = NULL, *interval = NULL, *min_gap = NULL;
    int64_t every = 300, gap = 10;
    int rc, code;
    memset(&s, 0, sizeof s);
    memset(&o, 0, sizeof o);
    const cli_opt opts[] = {
        {"listen", 0, CLI_STR, &listen, "ADDR:PORT",
         "where to serve (127.0.0.1:9641, [::]:9641, :9641 for every address; port 0: any)"},
        {"interval", 0, CLI_STR, &interval, "DURATION", "time between runs (default 5m)"},
        {"min-gap", 0, CLI_STR, &min_gap, "DURATION",
         "least time between on-demand runs (default 10s)"},
        {"snapshot-dir", 0, CLI_STR, &s.snapshot_dir, "DIR",
         "folder of etcd snapshots (*.db): kubevet_etcd_snapshot_age_seconds"},
        {"warn-within", 0, CLI_STR, &s.c.pki.warn_within, "DURATION",
         "warn about expiry within this window (default 30d; e.g. 720h)"},
        {"expect-san", 0, CLI_MULTI, &s.c.pki.expect_sans, "NAME|IP",
         "a SAN the apiserver certificate must carry (repeatable)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    if (!listen) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "serve needs --listen ADDR:PORT"));
        goto out;
    }
    if ((interval && (rc = vet_duration_parse(&every, interval))) ||
        (min_gap && (rc = vet_duration_parse(&gap, min_gap)))) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "%s", vet_error_last()));
        goto out;
    }
    if (every < 1 || gap < 0) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "--interval must be at least 1s"));
        goto out;
    }
    s.g = g;
    s.paths = &pos;
    s.fixed_at = g->at_str != NULL;
    s.c.pki.facts = 1; /* 10,000 certificates: facts between runs, a piece parsed at a time */
    o.listen = listen;
    o.interval = every;
    o.min_gap = gap;
    o.run = run_checks;
    o.done = run_done;
    o.arg = &s;
    rc = vet_serve_main(&o);
    code = rc ? cli_fail(rc) : 0;
out:
    cli_check_reset(&s.c);
    cli_pki_free(&s.c.pki);
    vet_strv_free(&pos);
    return code;
}
