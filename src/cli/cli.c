#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "kubevet/k8s.h"
#include "kubevet/catalog.h"
#include "vtime.h"

/* Global options: accepted after any subcommand, with kubectl's names where they overlap. */
static cli_opt global_opts(cli_globals *g, size_t i)
{
    const cli_opt all[] = {
        {"output", 'o', CLI_STR, &g->output, "FORMAT",
         "text (default), json or yaml (some commands: sarif)"},
        {"at", 0, CLI_STR, &g->at_str, "TIME",
         "evaluate as if now were TIME (RFC 3339 or YYYY-MM-DD)"},
        {"fail-on", 0, CLI_STR, &g->fail_on_str, "LEVEL",
         "info, warning (default), critical, never"},
        {"root", 0, CLI_STR, &g->root, "DIR", "filesystem root of the node to inspect (default /)"},
        {"node-name", 0, CLI_STR, &g->node_name, "NAME", "the node's Kubernetes name"},
        {"kubeconfig", 0, CLI_STR, &g->kubeconfig, "FILE",
         "kubeconfig (flag, KUBECONFIG, ~/.kube/config)"},
        {"context", 0, CLI_STR, &g->context, "NAME", "kubeconfig context"},
        {"etcd-endpoints", 0, CLI_STR, &g->etcd_endpoints, "URLS",
         "etcd client URLs, comma-separated"},
        {"etcd-cacert", 0, CLI_STR, &g->etcd_cacert, "FILE", "CA bundle for etcd"},
        {"etcd-cert", 0, CLI_STR, &g->etcd_cert, "FILE", "client certificate for etcd"},
        {"etcd-key", 0, CLI_STR, &g->etcd_key, "FILE", "client key for etcd"},
        {"target", 0, CLI_STR, &g->target, "VERSION", "Kubernetes version being prepared for"},
        {"namespace", 'n', CLI_STR, &g->ns, "NS", "namespace (default: the context's)"},
        {"request-timeout", 0, CLI_STR, &g->request_timeout_str, "DURATION",
         "give up on an API request after this long (0 = never; e.g. 10s, 1m)"},
        {"help", 'h', CLI_FLAG, &g->help, NULL, "show help"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    return all[i];
}

static size_t nglobals(void)
{
    size_t n = 0;
    cli_globals dummy;
    while (global_opts(&dummy, n).lng)
        n++;
    return n;
}

static int assign(const cli_opt *o, const char *val, const char *flag)
{
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_STR:
        if (!val)
            return vet_error_set(VET_EUSAGE, "%s needs a value", flag);
        *(const char **)o->dest = val;
        return 0;
    case CLI_MULTI:
        if (!val)
            return vet_error_set(VET_EUSAGE, "%s needs a value", flag);
        return vet_strv_push((vet_strv *)o->dest, val);
    case CLI_POS:
        break; /* cli_parse pushes it to the positionals */
    }
    return 0;
}

static const cli_opt *find_opt(const cli_opt *own, const cli_opt *globals, size_t ng,
                               const char *lng, size_t len, char shrt)
{
    for (const cli_opt *o = own; o && o->lng; o++)
        if (lng ? (strlen(o->lng) == len && !strncmp(o->lng, lng, len)) : o->shrt == shrt)
            return o;
    for (size_t i = 0; i < ng; i++)
        if (lng ? (strlen(globals[i].lng) == len && !strncmp(globals[i].lng, lng, len))
                : globals[i].shrt == shrt)
            return &globals[i];
    return NULL;
}

/* -o yaml: stdout goes to a memory stream until exit. */
static FILE *real_stdout;
static char *captured;
static size_t captured_len;

static int yaml_capture(void)
{
    FILE *m;
    fflush(stdout);
    if (!(m = open_memstream(&captured, &captured_len)))
        return 0;
    real_stdout = stdout;
    stdout = m;
    atexit(cli_yaml_finish);
    return 1;
}

void cli_yaml_finish(void)
{
    if (!real_stdout)
        return;
    fclose(stdout);
    stdout = real_stdout;
    real_stdout = NULL;
    if (captured_len && cli_yaml_emit(stdout, captured, captured_len))
        fwrite(captured, 1, captured_len, stdout); /* not one JSON document: as it was */
    fflush(stdout);
    free(captured);
    captured = NULL;
    captured_len = 0;
}

int cli_parse(int argc, char **argv, const cli_opt *own, cli_globals *g, vet_strv *pos)
{
    size_t ng = nglobals();
    cli_opt *globals = calloc(ng, sizeof *globals);
    int rc = 0, only_pos = 0;
    if (!globals)
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < ng; i++)
        globals[i] = global_opts(g, i);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        const cli_opt *o;
        if (only_pos || a[0] != '-' || !strcmp(a, "-")) {
            if ((rc = vet_strv_push(pos, a)))
                goto done;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            o = find_opt(own, globals, ng, a + 2, len, 0);
            if (!o) {
                rc = vet_error_set(VET_EUSAGE, "unknown flag: --%.*s", (int)len, a + 2);
                goto done;
            }
            if (eq)
                val = eq + 1;
            else if (o->kind != CLI_FLAG && i + 1 < argc)
                val = argv[++i];
        } else {
            o = find_opt(own, globals, ng, NULL, 0, a[1]);
            if (!o) {
                rc = vet_error_set(VET_EUSAGE, "unknown shorthand flag: '%c' in %s", a[1], a);
                goto done;
            }
            if (o->kind != CLI_FLAG)
                val = a[2] ? a + 2 + (a[2] == '=') : (i + 1 < argc ? argv[++i] : NULL);
        }
        if (o->kind == CLI_POS) {
            if (!val) {
                rc = vet_error_set(VET_EUSAGE, "%s needs a value", a);
                goto done;
            }
            if ((rc = vet_strv_push(pos, val)))
                goto done;
            continue;
        }
        if ((rc = assign(o, val, a)))
            goto done;
    }

    if (g->output && strcmp(g->output, "text") && strcmp(g->output, "json") &&
        strcmp(g->output, "sarif") && strcmp(g->output, "yaml")) {
        rc = vet_error_set(VET_EUSAGE, "invalid output format '%s' (want text, json or yaml)",
                           g->output);
        goto done;
    }
    if (g->output && !strcmp(g->output, "yaml") && !g->help) {
        /* every command that renders JSON renders YAML: the same document, converted at exit */
        g->output = "json";
        if (!g->yaml && yaml_capture())
            g->yaml = 1;
    }
    if (g->at_str && (rc = vet_time_parse(&g->at, g->at_str)))
        goto done;
    if (g->fail_on_str && (rc = vet_severity_parse(&g->fail_on, g->fail_on_str)))
        goto done;
    if (g->request_timeout_str &&
        (rc = cli_parse_request_timeout(&g->request_timeout_ms, g->request_timeout_str)))
        goto done;
done:
    free(globals);
    return rc;
}

int cli_begin(int argc, char **argv, const cli_opt *own, cli_globals *g, vet_strv *pos,
              const char *synopsis, const char *description)
{
    int rc = cli_parse(argc, argv, own, g, pos);
    if (rc)
        return cli_fail(rc);
    if (g->help) {
        cli_usage(stdout, synopsis, description, own);
        return 0;
    }
    return -1;
}

size_t cli_width(void)
{
    const char *c = getenv("COLUMNS");
    struct winsize ws;
    size_t w = 80;
    if (c && atoi(c) > 0)
        w = (size_t)atoi(c);
    else if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
        w = ws.ws_col;
    return w < 40 ? 40 : w > 200 ? 200 : w;
}

/* Where to break p within `room` columns: the last space outside brackets, so that a synopsis
 * keeps "[--lb nginx|haproxy]" on one line; else the last space; 0 if there is none. */
static size_t break_at(const char *p, size_t room)
{
    size_t any = 0, outside = 0;
    int depth = 0;
    for (size_t i = 1; i <= room && p[i]; i++) {
        depth += p[i - 1] == '[' ? 1 : p[i - 1] == ']' && depth > 0 ? -1 : 0;
        if (p[i] == ' ') {
            any = i;
            if (!depth)
                outside = i;
        }
    }
    return outside ? outside : any;
}

/* One output line of at most width columns from s (continuation lines get `indent` spaces). */
void cli_wrap(FILE *out, const char *text, size_t indent)
{
    size_t width = cli_width(), col = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        while (n) {
            size_t room = width > col ? width - col : 0, cut = n;
            if (n > room) {
                cut = break_at(p, room);
                if (!cut) /* one word longer than the line: keep it whole */
                    for (cut = room; cut < n && p[cut] != ' '; cut++)
                        ;
            }
            fwrite(p, 1, cut, out);
            p += cut;
            n -= cut;
            while (n && *p == ' ') {
                p++;
                n--;
            }
            if (n) {
                fprintf(out, "\n%*s", (int)indent, "");
                col = indent;
            } else {
                col += cut;
            }
        }
        if (!nl)
            break;
        p = nl + 1;
        fputc('\n', out);
        col = 0;
    }
    if (col)
        fputc('\n', out);
}

static void print_opts(FILE *out, const cli_opt *o)
{
    for (; o && o->lng; o++) {
        char left[64], line[512];
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", o->shrt ? "-" : "", o->shrt ? o->shrt : ' ',
                 o->shrt ? ", " : "  ", o->lng, o->arg ? " " : "", o->arg ? o->arg : "");
        snprintf(line, sizeof line, "  %-30s %s", o->shrt ? left : left + 2, o->help);
        cli_wrap(out, line, 33);
    }
}

/* Examples for every command's --help: how kubectl users expect to start. */
static const struct {
    const char *command;
    const char *text;
} examples[] = {
    {"kubevet", "  kubevet check                  # this node: PKI, kubeconfigs, kubelet, pods\n"
                "  kubevet apis scan -f deploy.yaml --target 1.32\n"
                "  kubevet etcd status --root /\n"
                "  kubevet help certs list"},
    {"check", "  kubevet check\n"
              "  kubevet check --root /mnt/cp-1 --node-name cp-1 -o json\n"
              "  kubevet check --warn-within 60d --fail-on critical"},
    {"certs", "  kubevet certs list\n"
              "  kubevet certs check /etc/kubernetes/pki --warn-within 90d"},
    {"certs list", "  kubevet certs list                     # the node's certificates (--root /)\n"
                   "  kubevet certs list /etc/kubernetes/pki/etcd -o yaml"},
    {"certs check", "  kubevet certs check\n"
                    "  kubevet certs check --root /mnt/cp-1 --expect-san lb.example.com"},
    {"apis", "  kubevet apis scan -f ./manifests --target 1.32\n"
             "  helm template my-chart | kubevet apis scan -f -"},
    {"apis list", "  kubevet apis list --target 1.25\n"
                  "  kubevet apis list -o yaml"},
    {"apis scan", "  kubevet apis scan -f deploy.yaml -f ingress.yaml --target 1.32\n"
                  "  kubevet apis scan ./charts --target 1.29 -o sarif > apis.sarif\n"
                  "  helm template my-chart | kubevet apis scan -f -"},
    {"apis convert", "  kubevet apis convert -f old.yaml --target 1.22 > new.yaml\n"
                     "  kubevet apis convert ./manifests --in-place --target 1.25\n"
                     "  kubevet apis convert ./manifests --output-dir ./converted"},
    {"etcd", "  kubevet etcd status\n"
             "  kubevet etcd snapshot save /var/backups/etcd.db"},
    {"etcd status", "  kubevet etcd status                    # endpoints and certs from --root /\n"
                    "  kubevet etcd status --etcd-endpoints https://10.0.0.11:2379 -o yaml"},
    {"etcd members", "  kubevet etcd members\n"
                     "  kubevet etcd members -o json"},
    {"etcd plan", "  kubevet etcd plan add-member --name cp-4 --peer-url https://10.0.0.14:2380\n"
                  "  kubevet etcd plan remove-member --name cp-3"},
    {"etcd plan restore",
     "  kubevet etcd plan restore --snapshot /var/backups/etcd.db \\\n"
     "      --member cp-1=https://10.0.0.11:2380 --member cp-2=https://10.0.0.12:2380"},
    {"etcd snapshot objects", "  kubevet etcd snapshot objects /var/backups/etcd.db --target 1.32\n"
                              "  kubevet etcd snapshot objects /var/backups/etcd.db -o yaml"},
    {"etcd snapshot verify", "  kubevet etcd snapshot verify /var/backups/etcd.db"},
    {"etcd snapshot", "  kubevet etcd snapshot save /var/backups/etcd.db\n"
                      "  kubevet etcd snapshot status /var/backups/etcd.db"},
    {"certs renew",
     "  kubevet certs renew all                # show the plan: nothing is written\n"
     "  kubevet certs renew all --keep-key --apply --restart-static-pods\n"
     "  kubevet certs renew apiserver --add-san lb.example.com --apply\n"
     "  kubevet certs renew kubelet.conf --node-name cp-1 --apply\n"
     "  kubevet certs renew /etc/kubernetes/pki/etcd/server.pem --apply  # cfssl pair"},
    {"helm", "  kubevet helm scan -A --target 1.22\n"
             "  kubevet helm map my-release -n web --target 1.22"},
    {"helm scan",
     "  kubevet helm scan -A --target 1.22\n"
     "  kubevet helm scan -n web --tiller-namespace kube-system --target 1.16 -o json\n"
     "  kubevet helm scan --snapshot /var/backups/etcd.db --target 1.22"},
    {"helm map", "  kubevet helm map my-release -n web --target 1.22   # the diff, no writes\n"
                 "  kubevet helm map my-release -n web --target 1.22 --apply\n"
                 "  kubevet helm map --all -A --target 1.22 --apply\n"
                 "  kubevet helm map --all -A --target 1.22 -o json   # one report, no writes"},
    {"helm restore", "  kubevet helm restore kubevet-helm-backup-web-app-20261130T101500Z.json\n"
                     "  kubevet helm restore kubevet-helm-backup-web-app-20261130T101500Z.json \\\n"
                     "      --apply"},
    {"ha", "  kubevet ha plan --endpoint lb.example.com:6443 --control-plane cp-1=10.0.0.11"},
    {"ha plan", "  kubevet ha plan --endpoint lb.example.com:6443 \\\n"
                "      --control-plane cp-1=10.0.0.11 --control-plane cp-2=10.0.0.12 --lb haproxy\n"
                "  kubevet ha plan --endpoint 10.0.0.100:8443 --control-plane cp-1=10.0.0.11 \\\n"
                "      --output-dir /root/lb --apply"},
    {"restore", "  kubevet restore /etc/kubernetes/kubevet-backup-20261130T101500Z\n"
                "  kubevet restore /etc/kubernetes/kubevet-backup-20261130T101500Z --apply"},
    {"upgrade", "  kubevet upgrade plan --to 1.31.9"},
    {"upgrade plan",
     "  kubevet upgrade plan --to 1.31.9              # this node and its cluster\n"
     "  kubevet upgrade plan --from 1.16.7 --to 1.19.3 \\\n"
     "      --snapshot /var/backups/etcd.db ./manifests\n"
     "  kubevet upgrade plan --to 1.13.4 --kubeconfig /etc/kubernetes/admin.conf \\\n"
     "      -o json"},
    {"join", "  kubevet join plan --control-plane --name cp-2 --address 10.0.0.12"},
    {"join plan", "  kubevet join plan                   # a worker: token and discovery\n"
                  "  kubevet join plan --control-plane --name cp-2 --address 10.0.0.12 \\\n"
                  "      --certificate-key \"$KEY\""},
    {"serve", "  kubevet serve --listen 127.0.0.1:9943\n"
              "  kubevet serve --listen :9943 --root /host --interval 10m /etc/ssl/certs"},
    {"completion", "  source <(kubevet completion bash)\n"
                   "  source <(kubevet completion zsh)\n"
                   "  kubevet completion fish | source"},
    {"version", "  kubevet version\n"
                "  kubevet version -o json"},
    {"help", "  kubevet help check\n"
             "  kubevet help certs list\n"
             "  kubevet help checks"},
};

const char *cli_examples(const char *command)
{
    const char *best = NULL;
    size_t bestlen = 0;
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        size_t l = strlen(examples[i].command);
        /* the longest row naming a prefix of the command: "etcd plan add-member" -> "etcd plan" */
        if (!strncmp(command, examples[i].command, l) && (!command[l] || command[l] == ' ') &&
            l > bestlen) {
            best = examples[i].text;
            bestlen = l;
        }
    }
    return best;
}

/* "  kubevet apis scan [PATH...] ..." -> "apis scan": the words up to the first argument. */
static void command_of(char *out, size_t size, const char *synopsis)
{
    const char *p = strstr(synopsis, "kubevet ");
    size_t n = 0;
    out[0] = '\0';
    if (!p)
        return;
    p += 8;
    while (*p && n + 1 < size) {
        const char *e = p;
        while (*e && *e != ' ' && *e != '\n')
            e++;
        if (e == p || !((*p >= 'a' && *p <= 'z')) || (size_t)(e - p) + n + 2 > size)
            break;
        if (n)
            out[n++] = ' ';
        memcpy(out + n, p, (size_t)(e - p));
        n += (size_t)(e - p);
        out[n] = '\0';
        if (*e != ' ')
            break;
        p = e + 1;
    }
}

/* Descriptions are hard-wrapped in the source at about 95 columns: a line break inside a
 * sentence becomes a space so that cli_wrap can fill to the terminal's width. A break stays where
 * a sentence ends before a capital, before an indented or quoted line, or at a blank line. */
static char *reflow(const char *text)
{
    char *d = strdup(text);
    for (char *p = d; p && *p; p++) {
        char prev = p > d ? p[-1] : '\n', next = p[1];
        if (*p != '\n' || prev == '\n' || !next || next == '\n' || next == ' ' || next == '\'' ||
            next == '"' || next == '-')
            continue;
        if ((next >= 'a' && next <= 'z') || next == '(' || (next >= '0' && next <= '9') ||
            !strchr(".:;!?", prev))
            *p = ' ';
    }
    return d;
}

/* A synopsis line indented past the usual two spaces continues the usage above it (sources
 * keep them under 100 columns): joined, so that cli_wrap breaks the usage once, at the width. */
static char *join_usages(const char *synopsis)
{
    char *d = strdup(synopsis), *w = d;
    for (const char *p = synopsis; d && *p; p++) {
        if (*p == '\n' && p[1] == ' ' && p[2] == ' ' && p[3] == ' ') {
            while (p[1] == ' ')
                p++;
            *w++ = ' ';
            continue;
        }
        *w++ = *p;
    }
    if (d)
        *w = '\0';
    return d;
}

void (*cli_usage_hook)(const char *synopsis, const char *description, const cli_opt *own);

cli_opt cli_global_opt(size_t i)
{
    static cli_globals dummy;
    return i < nglobals() ? global_opts(&dummy, i) : (cli_opt){NULL, 0, 0, NULL, NULL, NULL};
}

void cli_usage(FILE *out, const char *synopsis, const char *description, const cli_opt *own)
{
    cli_globals dummy;
    size_t ng = nglobals();
    char cmd[128];
    const char *ex;
    if (cli_usage_hook) {
        cli_usage_hook(synopsis, description, own);
        return;
    }
    fprintf(out, "Usage:\n");
    {
        char *u = join_usages(synopsis);
        cli_wrap(out, u ? u : synopsis, 6);
        free(u);
    }
    if (description) {
        char *d = reflow(description);
        fputc('\n', out);
        cli_wrap(out, d ? d : description, 0);
        free(d);
    }
    command_of(cmd, sizeof cmd, synopsis);
    if ((ex = cli_examples(cmd)))
        fprintf(out, "\nExamples:\n%s\n", ex);
    if (own && own->lng) {
        fprintf(out, "\nOptions:\n");
        print_opts(out, own);
    }
    fprintf(out, "\nGlobal options:\n");
    for (size_t i = 0; i < ng; i++) {
        cli_opt o[2] = {global_opts(&dummy, i), {NULL, 0, 0, NULL, NULL, NULL}};
        print_opts(out, o);
    }
}

int cli_target_check(const char *target, const vet_catalog *c)
{
    vet_version t, newest;
    const char *nw = c ? vet_catalog_newest(c) : NULL;
    if (!target || !nw || vet_version_parse(&t, target) || vet_version_parse(&newest, nw))
        return 0; /* an invalid version is the caller's error to word */
    if (vet_version_cmp_minor(&t, &newest) > 0)
        return vet_error_set(VET_EUSAGE,
                             "--target %s: newer than the newest Kubernetes release kubevet knows "
                             "(%s); a newer kubevet or --catalog FILE knows more",
                             target, nw);
    return 0;
}

void cli_render_json(const vet_report *r, const cli_globals *g, FILE *out)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = g->yaml ? open_memstream(&buf, &n) : NULL;
    if (!m) {
        vet_report_render_json(r, out);
        return;
    }
    vet_report_render_json(r, m);
    fclose(m);
    if (cli_yaml_emit(out, buf, n))
        fwrite(buf, 1, n, out);
    free(buf);
}

void cli_plan_emit_json(cli_globals *g, const char *command, json_t *keys, const vet_strv *errors)
{
    vet_report r;
    const char *k;
    json_t *v;
    if (vet_report_init(&r, command, g->at)) {
        json_decref(keys);
        return;
    }
    json_object_foreach(keys, k, v) vet_report_set(&r, k, json_incref(v));
    json_decref(keys);
    for (size_t i = 0; errors && i < errors->n; i++)
        vet_report_error(&r, errors->v[i]);
    vet_report_render_json(&r, stdout);
    vet_report_free(&r);
}

int cli_emit(const vet_report *r, cli_globals *g)
{
    const char *o = g->output ? g->output : "text";
    if (!strcmp(o, "json"))
        vet_report_render_json(r, stdout);
    else if (!strcmp(o, "sarif"))
        vet_report_render_sarif(r, stdout);
    else
        vet_report_render_text(r, stdout, g->color);
    fflush(stdout);
    /* Input errors go to stderr as well, one line each, so scripts see them without parsing. */
    for (size_t i = 0; i < r->errors.n; i++)
        fprintf(stderr, "kubevet: %s\n", r->errors.v[i]);
    return vet_report_exit_code(r, g->fail_on);
}

int cli_render(const vet_report *r, cli_globals *g, cli_text_fn text, void *arg)
{
    if (g->output && strcmp(g->output, "text"))
        return cli_emit(r, g);
    text(r, arg);
    return vet_report_exit_code(r, g->fail_on);
}

void cli_text_summary(const vet_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (r->errors.n)
        printf(", %zu input error(s)", r->errors.n);
    putchar('\n');
    fflush(stdout);
    for (size_t i = 0; i < r->errors.n; i++)
        fprintf(stderr, "kubevet: %s\n", r->errors.v[i]);
}

int cli_fail(int rc)
{
    const char *msg = vet_error_last();
    fprintf(stderr, "kubevet: %s\n", *msg ? msg : "failed");
    if (rc == VET_EUSAGE)
        fprintf(stderr, "See 'kubevet help'.\n");
    return vet_error_exit_code(rc);
}

void (*cli_dispatch_hook)(const cli_cmd *cmds, const char *group);

int cli_dispatch(const cli_cmd *cmds, const char *group, int argc, char **argv, cli_globals *g)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (cli_dispatch_hook && (!sub || !strcmp(sub, "--help"))) {
        cli_dispatch_hook(cmds, group);
        return 0;
    }
    if (sub && (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")))
        sub = NULL;
    for (const cli_cmd *c = cmds; sub && c->name; c++)
        if (!strcmp(c->name, sub))
            return c->fn(argc - 1, argv + 1, g);
    if (sub) {
        fprintf(stderr, "kubevet: unknown command \"%s %s\"\n", group, sub);
    }
    fprintf(sub ? stderr : stdout, "Usage: kubevet %s COMMAND [options]\n\nCommands:\n", group);
    for (const cli_cmd *c = cmds; c->name; c++)
        fprintf(sub ? stderr : stdout, "  %-18s %s\n", c->name, c->summary);
    if (cli_examples(group))
        fprintf(sub ? stderr : stdout, "\nExamples:\n%s\n", cli_examples(group));
    fprintf(sub ? stderr : stdout, "\nRun 'kubevet %s COMMAND --help' for details.\n", group);
    return sub || argc <= 1 ? 2 : 0;
}

int cli_parse_request_timeout(long *out_ms, const char *s)
{
    const char *p = s;
    double total = 0;
    /* Go's time.ParseDuration, as kubectl uses it; a bare number is seconds. */
    if (!*s)
        return vet_error_set(VET_EUSAGE, "--request-timeout: empty duration");
    while (*p) {
        char *end;
        double v = strtod(p, &end), unit;
        if (end == p || v < 0)
            return vet_error_set(VET_EUSAGE, "--request-timeout: invalid duration \"%s\"", s);
        p = end;
        if (!*p && p == s + strlen(s) && total == 0 && !strpbrk(s, "hmsun")) {
            total = v * 1000; /* bare seconds */
            break;
        }
        if (!strncmp(p, "ms", 2))
            unit = 1, p += 2;
        else if (!strncmp(p, "us", 2))
            unit = 0.001, p += 2;
        else if (!strncmp(p, "ns", 2))
            unit = 0.000001, p += 2;
        else if (*p == 'h')
            unit = 3600000, p++;
        else if (*p == 'm')
            unit = 60000, p++;
        else if (*p == 's')
            unit = 1000, p++;
        else
            return vet_error_set(VET_EUSAGE,
                                 "--request-timeout: invalid duration \"%s\" (want e.g. 10s, 1m, "
                                 "0 for none)",
                                 s);
        total += v * unit;
    }
    if (total > 86400000.0 * 365)
        return vet_error_set(VET_EUSAGE, "--request-timeout: \"%s\" is too long", s);
    *out_ms = (long)total;
    if (total > 0 && *out_ms == 0)
        *out_ms = 1;
    return 0;
}

int cli_k8s_connect(struct vet_k8s **out, cli_globals *g)
{
    vet_k8s_opts o;
    memset(&o, 0, sizeof o);
    o.kubeconfig = g->kubeconfig;
    o.context = g->context;
    o.ns = g->ns;
    o.timeout_ms = g->request_timeout_ms;
    return vet_k8s_connect(out, &o);
}

int cli_catalog_load(vet_catalog **out, const vet_strv *files)
{
    int rc = vet_catalog_load_builtin(out);
    for (size_t i = 0; !rc && i < files->n; i++)
        rc = vet_catalog_load_file(*out, files->v[i]);
    if (rc) {
        vet_catalog_free(*out);
        *out = NULL;
    }
    return rc;
}

int cli_target_version(vet_version *out, char *minor, size_t size, const char *target,
                       const vet_catalog *c)
{
    const char *t = target ? target : vet_catalog_newest(c);
    int rc;
    if (vet_version_parse(out, t))
        return vet_error_set(VET_EUSAGE,
                             "--target: invalid Kubernetes version \"%s\" (want e.g. "
                             "1.25 or v1.25.3)",
                             t);
    if ((rc = cli_target_check(target, c)))
        return rc;
    if (minor)
        vet_version_minor_str(minor, size, out);
    return 0;
}
