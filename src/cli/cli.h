/* CLI plumbing shared by the subcommands: global options, option tables, output. */
#ifndef KV_CLI_H
#define KV_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "kubevet/catalog.h"
#include "error.h"
#include "kubevet/report.h"
#include "strv.h"

typedef struct {
    const char *output; /* "text" (default), "json", "sarif" where a command supports it */
    const char *at_str;
    int64_t at; /* --at, else the current time */
    const char *fail_on_str;
    vet_severity fail_on;  /* default warning */
    const char *root;      /* --root; NULL when not given (means "/") */
    const char *node_name; /* --node-name or NULL */
    const char *kubeconfig;
    const char *context;
    const char *etcd_endpoints;
    const char *etcd_cacert, *etcd_cert, *etcd_key;
    const char *target; /* --target or NULL */
    int color;          /* text on a TTY without NO_COLOR */
    int help;           /* --help / -h was given */
    const char *ns;     /* -n/--namespace or NULL (the context's) */
    const char *request_timeout_str;
    long request_timeout_ms; /* --request-timeout (kubectl syntax); 0 = none */
    int yaml;                /* -o yaml: the command renders JSON, cli_yaml_finish converts it */
} cli_globals;

typedef enum { CLI_STR, CLI_FLAG, CLI_MULTI, CLI_POS } cli_opt_kind;

/* One option of a command. dest: const char ** (CLI_STR), int * (CLI_FLAG), vet_strv * (CLI_MULTI,
 * repeatable; also splits on commas when split_commas). CLI_POS (dest NULL): each value is a
 * positional argument, as kubectl's `-f FILE` names a manifest. */
typedef struct {
    const char *lng; /* "warn-within" (without --) */
    char shrt;       /* 0 for none */
    cli_opt_kind kind;
    void *dest;
    const char *arg; /* placeholder for help, e.g. "DURATION" */
    const char *help;
} cli_opt;

typedef struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv, cli_globals *g); /* argv[0] is the command name */
    const char *summary;                              /* one line for `kubevet help` */
} cli_cmd;

/* Parse argv[1..] into globals and the command's own options; positional arguments go to pos.
 * `--` ends options. Returns 0, or VET_EUSAGE with a message (unknown flag, missing value).
 * Sets g->help on -h/--help. Applies --at/--fail-on/-o validation. */
int cli_parse(int argc, char **argv, const cli_opt *own, cli_globals *g, vet_strv *pos);

/* cli_parse plus --help: returns -1 to go on, else the exit code to return now (0 after
 * printing the usage, 2 after a usage error, reported). */
int cli_begin(int argc, char **argv, const cli_opt *own, cli_globals *g, vet_strv *pos,
              const char *synopsis, const char *description);

/* Print usage for a command: the synopsis line(s), description, examples (from cli.c's table,
 * by the command named in the synopsis), then own and global options; wrapped to the terminal
 * width (80 when not a terminal). */
void cli_usage(FILE *out, const char *synopsis, const char *description, const cli_opt *own);
/* Introspection for `kubevet completion` and the man page (cmd_completion.c): when set, cli_usage
 * hands its arguments (the command's own option table) here instead of printing. */
extern void (*cli_usage_hook)(const char *synopsis, const char *description, const cli_opt *own);
/* ... and when this is set, cli_dispatch hands a group's subcommand table here on --help. */
extern void (*cli_dispatch_hook)(const struct cli_cmd *cmds, const char *group);
/* The i-th global option ({NULL...} past the end); dest points into a dummy. */
cli_opt cli_global_opt(size_t i);
/* The command table of main.c, for the same. */
extern const cli_cmd *cli_cmds;
/* Print text wrapped at the terminal width; continuation lines indented by `indent`. */
void cli_wrap(FILE *out, const char *text, size_t indent);
/* The examples of a command ("apis scan", "etcd snapshot save"), or NULL. */
const char *cli_examples(const char *command);
/* The output width for help: $COLUMNS, the terminal's, else 80 (40..200). */
size_t cli_width(void);

/* -o yaml: cli_parse sends stdout to a buffer; at exit cli_yaml_finish parses it as the JSON
 * document the command wrote and prints it as YAML (libyaml's emitter) on the real stdout;
 * text that is not JSON passes through unchanged. */
void cli_yaml_finish(void);
int cli_yaml_emit(FILE *out, const char *json, size_t len);
/* The JSON report on another stream than stdout (apis convert's dry run: stderr), as YAML
 * under -o yaml. */
void cli_render_json(const vet_report *r, const cli_globals *g, FILE *out);

/* --target beyond the newest release the catalog knows: VET_EUSAGE naming the newest. */
struct vet_catalog;
int cli_target_check(const char *target, const struct vet_catalog *c);
/* The built-in catalog plus each --catalog FILE (NULL on failure). */
int cli_catalog_load(struct vet_catalog **out, const vet_strv *files);
/* --target (or the catalog's newest) parsed and bounded by the catalog; minor (optional) gets
 * "1.N". VET_EUSAGE with a message when malformed or beyond the catalog. */
int cli_target_version(vet_version *out, char *minor, size_t size, const char *target,
                       const struct vet_catalog *c);

/* Print the CLI.md JSON report of a plan command (kubevet, command, evaluated_at, findings,
 * summary) with every key of `keys` added (the reference is stolen) and `errors` (may be NULL)
 * as its input errors. */
void cli_plan_emit_json(cli_globals *g, const char *command, json_t *keys, const vet_strv *errors);

/* Render a report per -o and return the exit code (0/1/3 per CLI.md). */
int cli_emit(const vet_report *r, cli_globals *g);

/* -o text through the command's own renderer `text` (a table, a list), other formats through
 * cli_emit; returns the exit code for the findings. */
typedef void (*cli_text_fn)(const vet_report *r, void *arg);
int cli_render(const vet_report *r, cli_globals *g, cli_text_fn text, void *arg);
/* The last line of such a text rendering: the summary (printf-style) and ", N input error(s)",
 * then every input error on stderr ("kubevet: ..."). */
void cli_text_summary(const vet_report *r, const char *fmt, ...) VET_PRINTF(2, 3);

/* Print "kubevet: <message>" for rc (from vet_error_last) and return the exit code for it. */
int cli_fail(int rc);

/* Dispatch argv[1] among subcommands (for nested commands such as `etcd snapshot status`). */
int cli_dispatch(const cli_cmd *cmds, const char *group, int argc, char **argv, cli_globals *g);

/* Node and certificate sources shared by `check` and `certs`. */
struct vet_node;
struct vet_certset;
struct vet_ctx;
typedef struct {
    vet_strv expect_sans;      /* --expect-san */
    const char *warn_within;   /* --warn-within */
    struct vet_node *node;     /* loaded when --root was given or no paths were */
    struct vet_certset *files; /* loaded from positional paths */
    int facts; /* serve: paths load as facts (vet_certset_load_facts), and the "certificates"
                  key of the report is a null placeholder for rows streamed by cli_pki_row */
} cli_pki;

/* Load the node under --root (when given, or when there are no paths) and the paths; verify
 * chains; fill ctx (now, warn window, sources). Input errors are recorded in r->errors. */
int cli_pki_load(cli_pki *p, const vet_strv *paths, cli_globals *g, struct vet_ctx *ctx,
                 vet_report *r);
void cli_pki_free(cli_pki *p);
/* Whether the node's inputs can give an answer at all; else one line on stderr (and the caller
 * exits 3), so neither an empty report ("0 critical") nor one error per file passes for a verdict:
 * several "Permission denied" (run as root), or no Kubernetes files under --root while no other
 * source (certificate paths, etcd, API) answers on its own. */
int cli_pki_unusable(const cli_pki *p, const vet_report *r, size_t npaths, unsigned sources);
/* Add the "node" and "certificates" keys to the report. */
int cli_pki_describe(const cli_pki *p, vet_report *r, int64_t now);
/* The rows of "certificates" one at a time (the node's, then the paths'): how many, and row i
 * as a new JSON object. */
size_t cli_pki_count(const cli_pki *p);
json_t *cli_pki_row(const cli_pki *p, size_t i, int64_t now);

/* Connect to etcd from the flags, else the static pod and kubeadm client certs under --root. */
struct vet_etcd;
int cli_etcd_connect(struct vet_etcd **out, cli_globals *g);

/* Shared body of `check` and `certs list|check`: parse, load, run checks with the given ID
 * prefixes (NULL = all) and sources, render. */
int cli_pki_command(int argc, char **argv, cli_globals *g, const char *command, int list,
                    const char *syn, const char *desc, const char *const *prefixes,
                    unsigned sources);

/* The sources of `kubevet check` (node, api, etcd) and what they gave: one run of `check`, or one
 * of `serve`'s runs. */
struct vet_api_facts;
struct vet_etcd_facts;
typedef struct {
    const char *name; /* "node", "api", "etcd" */
    int used;
    char *detail; /* what was used, or why not */
} cli_check_source;
typedef struct {
    cli_pki pki; /* options (warn window, SANs) + what was loaded */
    struct vet_api_facts *api;
    struct vet_etcd_facts *etcd;
    cli_check_source src[3]; /* node, api, etcd */
    unsigned sources;        /* VET_SRC_* used */
    int lenient; /* serve: a source that fails (even one named by a flag, or a node root that
                    cannot be read) is "not used" with the reason, never an error */
} cli_check;
/* Gather every available source (paths too, as certificate files of the node source), run every
 * check into r (initialised by the caller) and add the "sources", "node" and "certificates"
 * keys. Exit-3 errors as `check` has them, unless c->lenient. */
int cli_check_gather(cli_check *c, const vet_strv *paths, cli_globals *g, vet_report *r);
/* Free what one gather loaded (facts, certificates), keeping the options for the next. */
void cli_check_reset(cli_check *c);

/* The Kubernetes API client from --kubeconfig/--context/-n/--request-timeout and the environment,
 * the way kubectl finds it. VET_ENOTFOUND when nothing is configured. */
struct vet_k8s;
int cli_k8s_connect(struct vet_k8s **out, cli_globals *g);
/* kubectl's --request-timeout: "0" (none), "10s", "1m30s", "500ms", or bare seconds. */
int cli_parse_request_timeout(long *out_ms, const char *s);

/* The sources of the plan commands (`upgrade plan`, `join plan`), each loaded only when named:
 * --root (certificates: pki), the API (client kept open for further reads, and its facts) and
 * --etcd-endpoints. */
typedef struct {
    cli_pki pki;
    struct vet_k8s *k8s;
    struct vet_api_facts *api;
    struct vet_etcd_facts *etcd;
    unsigned sources; /* VET_SRC_* loaded */
} cli_plan_src;
enum {
    CLI_PLAN_API_NAMED = 0,  /* the API only with --kubeconfig or --context */
    CLI_PLAN_API_DEFAULT = 1 /* also as kubectl finds it; nothing configured = no API source */
};
/* Load the sources into s (zeroed by the caller; pki options set) and ctx (now, node, api, etcd);
 * node input errors go to r->errors. A source that was named and fails is an error. */
int cli_plan_sources(cli_plan_src *s, cli_globals *g, int api_mode, struct vet_ctx *ctx,
                     vet_report *r);
void cli_plan_sources_free(cli_plan_src *s);
/* The tail of a plan command: text = the plan's own rendering, then r's input errors; other -o
 * formats = the report (which holds the plan). Returns the exit code. */
int cli_plan_emit(vet_report *r, cli_globals *g,
                  int (*render)(const void *plan, FILE *out, int color), const void *plan);
/* Parse a duration option's text into *out (left as is when text is NULL); VET_EUSAGE naming
 * --flag. */
int cli_duration_arg(int64_t *out, const char *flag, const char *text);

/* Commands (one file each: src/cli/cmd_<name>.c). */
int cmd_check(int argc, char **argv, cli_globals *g);
int cmd_serve(int argc, char **argv, cli_globals *g);
int cmd_completion(int argc, char **argv, cli_globals *g);
int cmd_man(int argc, char **argv, cli_globals *g);
int cmd_certs(int argc, char **argv, cli_globals *g);
int cmd_apis(int argc, char **argv, cli_globals *g);
int cmd_etcd(int argc, char **argv, cli_globals *g);
int cmd_ha(int argc, char **argv, cli_globals *g);
int cmd_restore(int argc, char **argv, cli_globals *g);
int cmd_upgrade(int argc, char **argv, cli_globals *g);
int cmd_join(int argc, char **argv, cli_globals *g);
int cmd_helm(int argc, char **argv, cli_globals *g);
int cmd_version(int argc, char **argv, cli_globals *g);
int cmd_help(int argc, char **argv, cli_globals *g);

#endif
