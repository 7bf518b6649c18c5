/* kubevet: keeps self-managed Kubernetes control planes from falling over.
 * The subcommand table (libgit2's cli_cmds[]): one row per command, one file per command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/upgrade.h"
#include "kv_version.h"

static const cli_cmd commands[] = {
    {"check", cmd_check, "run every check the available sources allow (node files, etcd, ...)"},
    {"certs", cmd_certs, "certificate inventory and PKI checks: certs list|check [PATH...]"},
    {"apis", cmd_apis, "removed/deprecated APIs in manifests: apis list|scan|convert"},
    {"etcd", cmd_etcd, "etcd status, members, snapshots and safe plans"},
    {"ha", cmd_ha, "single master -> HA behind a load balancer: ha plan"},
    {"helm", cmd_helm, "Helm v2/v3 releases holding removed APIs: helm scan"},
    {"restore", cmd_restore, "put a kubevet backup folder back (plan; --apply)"},
    {"upgrade", cmd_upgrade, "upgrade plan --to VERSION: every kubeadm hop, its blockers, runbook"},
    {"join", cmd_join, "join plan: check a kubeadm join (token, certificate key, etcd) first"},
    {"serve", cmd_serve, "run the checks on an interval for Prometheus: /metrics, /report"},
    {"completion", cmd_completion, "shell completion: completion bash|zsh|fish"},
    {"version", cmd_version, "print version, git commit and catalog dates"},
    {"help", cmd_help, "help for a command, or 'help checks' for the check catalog"},
    {"__man", cmd_man, NULL}, /* hidden: the kubevet(1) page, generated at build time */
    {NULL, NULL, NULL},
};

static void overview(FILE *out)
{
    cli_wrap(out,
             "kubevet finds what takes self-managed Kubernetes control planes down (expired or "
             "foreign certificates, removed APIs, etcd quorum traps, unverified backups) before "
             "it happens, and plans the safe fix.",
             0);
    fprintf(out, "\nUsage: kubevet COMMAND [options]\n\nCommands:\n");
    for (const cli_cmd *c = commands; c->name; c++) {
        char line[256];
        if (!c->summary)
            continue;
        snprintf(line, sizeof line, "  %-9s %s", c->name, c->summary);
        cli_wrap(out, line, 12);
    }
    fprintf(out, "\nExamples:\n%s\n", cli_examples("kubevet"));
    fputc('\n', out);
    cli_wrap(out,
             "Run 'kubevet help COMMAND' or 'kubevet COMMAND --help' for details.\n"
             "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, 3 the command could "
             "not do its job (input unreadable or malformed, a source unreachable, a file that "
             "could not be written).",
             0);
}

int cmd_help(int argc, char **argv, cli_globals *g)
{
    if (argc < 2) {
        overview(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        cli_usage(stdout, "  kubevet help [COMMAND [SUBCOMMAND...]]",
                  "Help for kubevet, a command or a subcommand (the same text as "
                  "'kubevet COMMAND SUBCOMMAND --help'); 'kubevet help checks' lists every "
                  "check with its ID, severity and when it fires.",
                  NULL);
        return 0;
    }
    if (!strcmp(argv[1], "checks")) {
        printf("%-6s %-30s %-9s %s\n", "ID", "NAME", "SEVERITY", "FIRES WHEN");
        for (size_t i = 0; i < vet_checks_len; i++)
            printf("%-6s %-30s %-9s %s%s\n", vet_checks[i].id, vet_checks[i].name,
                   vet_severity_name(vet_checks[i].severity), vet_checks[i].title,
                   vet_checks[i].run ? "" : " (not yet implemented)");
        return 0;
    }
    for (const cli_cmd *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[1])) {
            /* `help etcd snapshot save` is `etcd snapshot save --help` */
            char *sub[16];
            int n = 0;
            for (int i = 1; i < argc && n < 14; i++)
                if (argv[i][0] != '-')
                    sub[n++] = argv[i];
            sub[n++] = "--help";
            sub[n] = NULL;
            return c->fn(n, sub, g);
        }
    fprintf(stderr, "kubevet: unknown help topic \"%s\"\nRun 'kubevet help' for usage.\n", argv[1]);
    return 2;
}

int cmd_version(int argc, char **argv, cli_globals *g)
{
    vet_strv pos = VET_STRV_INIT;
    int rc = cli_parse(argc, argv, NULL, g, &pos);
    vet_strv_free(&pos);
    if (rc)
        return cli_fail(rc);
    if (g->help) {
        cli_usage(stdout, "  kubevet version [-o json]",
                  "Print the version, git commit and the dates of the embedded catalogs.", NULL);
        return 0;
    }
    {
        vet_catalog *cat = NULL;
        int ok = vet_catalog_load_builtin(&cat) == 0;
        const char *upd = ok ? vet_catalog_updated(cat) : "unavailable";
        const char *newest = ok ? vet_catalog_newest(cat) : "?";
        size_t rows = ok ? vet_catalog_count(cat) : 0;
        vet_releases *rel = NULL;
        int rok = vet_releases_load_builtin(&rel) == 0;
        const char *rupd = rok ? vet_releases_updated(rel) : "unavailable";
        const vet_release *rlast = rok ? vet_releases_at(rel, vet_releases_count(rel) - 1) : NULL;
        const char *rnewest = rlast ? rlast->newest : "?";
        if (g->output && !strcmp(g->output, "json")) {
            json_t *o =
                json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:I}}", "kubevet", KV_VERSION, "git_commit",
                          KV_GIT_COMMIT, "openssl", OpenSSL_version(OPENSSL_VERSION), "api_catalog",
                          "updated", upd, "newest_kubernetes", newest, "rows", (json_int_t)rows);
            json_object_set_new(o, "release_data",
                                json_pack("{s:s,s:s,s:I}", "updated", rupd, "newest_release",
                                          rnewest, "minors", (json_int_t)vet_releases_count(rel)));
            json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            putchar('\n');
            json_decref(o);
        } else {
            printf(
                "kubevet %s (git %s)\nAPI catalog: updated %s, Kubernetes up to %s, %zu rows\n%s\n",
                KV_VERSION, KV_GIT_COMMIT, upd, newest, rows, OpenSSL_version(OPENSSL_VERSION));
            printf("release data: updated %s, newest release %s, %zu minors\n", rupd, rnewest,
                   vet_releases_count(rel));
        }
        vet_releases_free(rel);
        vet_catalog_free(cat);
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_globals g;
    const char *nc = getenv("NO_COLOR");
    const char *self = strrchr(argv[0], '/');
    memset(&g, 0, sizeof g);
    cli_cmds = commands;
    g.fail_on = VET_SEV_WARNING;
    g.at = (int64_t)time(NULL);
    g.color = isatty(STDOUT_FILENO) && !(nc && *nc);
    (void)self; /* as kubectl-vet the arguments are the same: kubectl strips the plugin name */

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        overview(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))
        return cmd_version(1, argv + 1, &g);
    for (const cli_cmd *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[1]))
            return c->fn(argc - 1, argv + 1, &g);
    fprintf(stderr, "kubevet: unknown command \"%s\"\nRun 'kubevet help' for usage.\n", argv[1]);
    return 2;
}
