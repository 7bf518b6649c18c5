/* `kubevet completion bash|zsh|fish` and the hidden `kubevet __man` (the kubevet(1) page, made
 * at build time). Both are generated from the same tables the commands parse with: every
 * command and subcommand is asked for its --help with cli.c's hooks set, which hand over the
 * option table instead of printing it, so neither can go stale. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "kubevet/check.h"
#include "kv_version.h"

const cli_cmd *cli_cmds;

#define MAX_NODES 96
#define MAX_OPTS 48

typedef struct {
    char path[96];       /* "certs list" */
    const char *summary; /* from the parent's table */
    const char *synopsis, *description;
    cli_opt opts[MAX_OPTS];
    size_t nopts;
    const char *subs[24]; /* a group's subcommands */
    size_t nsubs;
} node;

static node nodes[MAX_NODES];
static size_t nnodes;
static char cur_path[96];
static const char *cur_summary;

static node *current(void)
{
    for (size_t i = 0; i < nnodes; i++)
        if (!strcmp(nodes[i].path, cur_path))
            return &nodes[i];
    if (nnodes == MAX_NODES)
        return NULL;
    snprintf(nodes[nnodes].path, sizeof nodes[nnodes].path, "%s", cur_path);
    nodes[nnodes].summary = cur_summary;
    return &nodes[nnodes++];
}

static void usage_hook(const char *synopsis, const char *description, const cli_opt *own)
{
    node *n = current();
    if (!n)
        return;
    n->synopsis = synopsis;
    n->description = description;
    for (size_t i = 0; own && own[i].lng && n->nopts < MAX_OPTS; i++)
        n->opts[n->nopts++] = own[i];
}

static void ask(const cli_cmd *c);

static void dispatch_hook(const cli_cmd *cmds, const char *group)
{
    node *n = current();
    char saved[64];
    const char *saved_summary = cur_summary;
    (void)group;
    if (!n)
        return;
    if (strlen(cur_path) >= sizeof saved)
        return;
    memcpy(saved, cur_path, strlen(cur_path) + 1);
    for (const cli_cmd *c = cmds; c->name; c++) {
        if (n->nsubs < sizeof n->subs / sizeof *n->subs)
            n->subs[n->nsubs++] = c->name;
        if (strlen(saved) + strlen(c->name) + 2 > sizeof cur_path)
            continue;
        snprintf(cur_path, sizeof cur_path, "%.63s %.30s", saved, c->name);
        cur_summary = c->summary;
        ask(c);
    }
    snprintf(cur_path, sizeof cur_path, "%s", saved);
    cur_summary = saved_summary;
}

static void ask(const cli_cmd *c)
{
    cli_globals g;
    char *argv[3] = {(char *)c->name, "--help", NULL};
    memset(&g, 0, sizeof g);
    c->fn(2, argv, &g);
}

/* Walk every command once; the hooks fill nodes[]. Commands print nothing while the hooks are
 * set, but stdout goes to /dev/null all the same (a command may print around its usage). */
static void collect(void)
{
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
    node *top;
    fflush(stdout);
    if (null >= 0)
        dup2(null, STDOUT_FILENO);
    cli_usage_hook = usage_hook;
    cli_dispatch_hook = dispatch_hook;
    nnodes = 0;
    cur_path[0] = '\0';
    top = current(); /* "" : kubevet itself */
    for (const cli_cmd *c = cli_cmds; c && c->name; c++) {
        if (!c->summary || !strcmp(c->name, "help"))
            continue;
        top->subs[top->nsubs++] = c->name;
        snprintf(cur_path, sizeof cur_path, "%s", c->name);
        cur_summary = c->summary;
        ask(c);
        top = &nodes[0];
    }
    top->subs[top->nsubs++] = "help";
    cur_path[0] = '\0';
    cli_usage_hook = NULL;
    cli_dispatch_hook = NULL;
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    if (null >= 0)
        close(null);
}

static void opt_words(const node *n, const char *sep)
{
    for (size_t i = 0; i < n->nopts; i++)
        printf("%s--%s", sep, n->opts[i].lng);
    for (size_t i = 0; cli_global_opt(i).lng; i++)
        printf("%s--%s", sep, cli_global_opt(i).lng);
}

static void bash(void)
{
    printf("# bash completion for kubevet (kubevet completion bash; generated from its tables)\n"
           "# source <(kubevet completion bash)\n_kubevet_words() {\n    case \"$1\" in\n");
    for (size_t i = 0; i < nnodes; i++) {
        if (!nodes[i].nsubs)
            continue;
        printf("    \"%s\") echo \"", nodes[i].path);
        for (size_t k = 0; k < nodes[i].nsubs; k++)
            printf("%s%s", k ? " " : "", nodes[i].subs[k]);
        printf("\" ;;\n");
    }
    printf("    esac\n}\n_kubevet_opts() {\n    case \"$1\" in\n");
    for (size_t i = 0; i < nnodes; i++) {
        printf("    \"%s\") echo \"", nodes[i].path);
        opt_words(&nodes[i], " ");
        printf("\" ;;\n");
    }
    printf("    esac\n}\n_kubevet_takes_arg() {\n    case \"$1\" in\n        ");
    {
        int first = 1;
        for (size_t i = 0; i < nnodes; i++)
            for (size_t k = 0; k < nodes[i].nopts; k++)
                if (nodes[i].opts[k].kind == CLI_STR || nodes[i].opts[k].kind == CLI_MULTI) {
                    printf("%s--%s", first ? "" : "|", nodes[i].opts[k].lng);
                    first = 0;
                }
        for (size_t i = 0; cli_global_opt(i).lng; i++)
            if (cli_global_opt(i).kind == CLI_STR)
                printf("%s--%s", first ? "" : "|", cli_global_opt(i).lng), first = 0;
    }
    printf(
        ") return 0 ;;\n    esac\n    return 1\n}\n"
        "_kubevet() {\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path= i w\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        w=${COMP_WORDS[i]}\n"
        "        [[ $w == -* ]] && continue\n"
        "        [[ \" $(_kubevet_words \"$path\") \" == *\" $w \"* ]] && path=${path:+$path }$w\n"
        "    done\n"
        "    if _kubevet_takes_arg \"$prev\"; then\n"
        "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
        "    elif [[ $cur == -* ]]; then\n"
        "        COMPREPLY=($(compgen -W \"$(_kubevet_opts \"$path\")\" -- \"$cur\"))\n"
        "    else\n"
        "        COMPREPLY=($(compgen -W \"$(_kubevet_words \"$path\")\" -- \"$cur\"))\n"
        "        [[ ${#COMPREPLY[@]} == 0 ]] && COMPREPLY=($(compgen -f -- \"$cur\"))\n"
        "    fi\n"
        "}\n"
        "complete -o filenames -F _kubevet kubevet kubectl-vet\n");
}

/* fish: single quotes escape only \\ and ' */
static void fish_str(const char *s)
{
    putchar('\'');
    for (; s && *s; s++) {
        if (*s == '\'' || *s == '\\')
            putchar('\\');
        putchar(*s == '\n' ? ' ' : *s);
    }
    putchar('\'');
}

static void fish(void)
{
    printf("# fish completion for kubevet (kubevet completion fish | source)\ncomplete -c kubevet "
           "-f\n");
    for (size_t i = 0; cli_global_opt(i).lng; i++) {
        cli_opt o = cli_global_opt(i);
        printf("complete -c kubevet -l %s%s -d ", o.lng, o.kind == CLI_STR ? " -r" : "");
        fish_str(o.help);
        putchar('\n');
    }
    for (size_t i = 0; i < nnodes; i++) {
        const node *n = &nodes[i];
        char cond[256];
        /* "certs list": after certs, before any of certs' subcommands */
        const char *sp = strrchr(n->path, ' ');
        int w = !*n->path ? snprintf(cond, sizeof cond, "__fish_use_subcommand")
                          : snprintf(cond, sizeof cond, "__fish_seen_subcommand_from %s",
                                     sp ? sp + 1 : n->path);
        if (w < 0 || (size_t)w >= sizeof cond)
            continue; /* command paths are short: never in practice */
        for (size_t k = 0; k < n->nsubs; k++) {
            const char *sum = NULL;
            char sub[128];
            int sw = snprintf(sub, sizeof sub, "%s%s%s", n->path, *n->path ? " " : "", n->subs[k]);
            if (sw < 0 || (size_t)sw >= sizeof sub)
                continue;
            for (size_t j = 0; j < nnodes; j++)
                if (!strcmp(nodes[j].path, sub))
                    sum = nodes[j].summary;
            printf("complete -c kubevet -n '%s' -a %s -d ", cond, n->subs[k]);
            fish_str(sum ? sum : "");
            putchar('\n');
        }
        for (size_t k = 0; *n->path && k < n->nopts; k++) {
            printf("complete -c kubevet -n '%s' -l %s%s -d ", cond, n->opts[k].lng,
                   n->opts[k].kind == CLI_FLAG ? "" : " -r");
            fish_str(n->opts[k].help);
            putchar('\n');
        }
    }
}

static const char completion_syn[] = "  kubevet completion bash|zsh|fish";
static const char completion_desc[] =
    "Print a shell completion script for kubevet (and kubectl-vet), made from kubevet's own "
    "command and option tables:\n"
    "  bash  source <(kubevet completion bash)\n"
    "  zsh   source <(kubevet completion zsh)\n"
    "  fish  kubevet completion fish | source";

int cmd_completion(int argc, char **argv, cli_globals *g)
{
    vet_strv pos = VET_STRV_INIT;
    int code;
    if ((code = cli_begin(argc, argv, NULL, g, &pos, completion_syn, completion_desc)) >= 0)
        goto out;
    if (pos.n != 1 ||
        (strcmp(pos.v[0], "bash") && strcmp(pos.v[0], "zsh") && strcmp(pos.v[0], "fish"))) {
        code = cli_fail(vet_error_set(VET_EUSAGE, "completion takes one shell: bash, zsh or fish"));
        goto out;
    }
    collect();
    if (!strcmp(pos.v[0], "fish")) {
        fish();
    } else {
        if (!strcmp(pos.v[0], "zsh"))
            printf("# zsh completion for kubevet: zsh runs the bash one\n"
                   "autoload -U +X bashcompinit && bashcompinit\n");
        bash();
    }
    code = 0;
out:
    vet_strv_free(&pos);
    return code;
}

/* roff text: a backslash is \e, a line must not start with . or ' (a request), - is \- */
static void roff(const char *s)
{
    int bol = 1;
    for (; s && *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", stdout);
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
        bol = *s == '\n';
    }
}

static void man_opts(const cli_opt *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf(".TP\n");
        if (o[i].shrt)
            printf("\\fB\\-%c\\fR, ", o[i].shrt);
        printf("\\fB\\-\\-");
        roff(o[i].lng);
        printf("\\fR");
        if (o[i].arg) {
            printf(" \\fI");
            roff(o[i].arg);
            printf("\\fR");
        }
        putchar('\n');
        roff(o[i].help);
        putchar('\n');
    }
}

int cmd_man(int argc, char **argv, cli_globals *g)
{
    cli_opt globals[64];
    size_t ng = 0;
    (void)argc;
    (void)argv;
    (void)g;
    collect();
    while (ng < 64 && cli_global_opt(ng).lng) {
        globals[ng] = cli_global_opt(ng);
        ng++;
    }
    printf(".\\\" kubevet(1), generated by `kubevet __man` from the command and check tables\n"
           ".TH KUBEVET 1 \"\" \"kubevet %s\" \"User Commands\"\n.SH NAME\nkubevet, kubectl\\-vet "
           "\\- find what takes self\\-managed Kubernetes control planes down, and plan the safe "
           "fix\n.SH SYNOPSIS\n\\fBkubevet\\fR \\fICOMMAND\\fR [\\fIoptions\\fR]\n.br\n"
           "\\fBkubectl vet\\fR \\fICOMMAND\\fR [\\fIoptions\\fR]\n.SH DESCRIPTION\n"
           "kubevet finds expired or foreign certificates, removed APIs, etcd quorum traps and "
           "unverified backups on kubeadm control planes before they cause an outage, and plans "
           "the fix with this node's values filled in.\n.SH COMMANDS\n",
           KV_VERSION);
    for (size_t i = 1; i < nnodes; i++) {
        const node *n = &nodes[i];
        printf(".SS \"kubevet ");
        roff(n->path);
        printf("\"\n");
        if (n->summary) {
            roff(n->summary);
            printf("\n.PP\n");
        }
        if (n->synopsis) {
            printf(".nf\n");
            roff(n->synopsis);
            printf("\n.fi\n.PP\n");
        }
        if (n->description) {
            printf(".nf\n");
            roff(n->description);
            printf("\n.fi\n");
        }
        if (n->nsubs) {
            printf(".PP\nSubcommands:");
            for (size_t k = 0; k < n->nsubs; k++)
                printf(" \\fB%s\\fR", n->subs[k]);
            printf(".\n");
        }
        man_opts(n->opts, n->nopts);
    }
    printf(".SH GLOBAL OPTIONS\nAccepted after any command.\n");
    man_opts(globals, ng);
    printf(".SH CHECKS\nEvery finding carries one of these IDs (stable: alerts and scripts key on "
           "them). Default severity in parentheses.\n");
    for (size_t i = 0; i < vet_checks_len; i++) {
        printf(".TP\n\\fB%s\\fR ", vet_checks[i].id);
        roff(vet_checks[i].name);
        printf(" (%s)\n", vet_severity_name(vet_checks[i].severity));
        roff(vet_checks[i].title);
        printf("%s\n", vet_checks[i].run ? "" : " (not yet implemented)");
    }
    printf(".SH EXIT STATUS\n.TP\n0\nclean\n.TP\n1\nfindings at or above \\fB\\-\\-fail\\-on\\fR\n"
           ".TP\n2\nusage error\n.TP\n3\nthe command could not do its job (input unreadable or "
           "malformed, a source unreachable, a file that could not be written)\n"
           ".SH FILES\n.TP\n/etc/kubernetes, /var/lib/kubelet\nthe node's files, read under "
           "\\fB\\-\\-root\\fR\n.SH SEE ALSO\n\\fBkubectl\\fR(1), \\fBkubeadm\\fR(1), "
           "\\fBetcdctl\\fR(1), \\fBprometheus\\fR(1)\n");
    return 0;
}
