/* exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), as client-go runs them:
 * the command with its args, the caller's environment plus the plugin's env and
 * KUBERNETES_EXEC_INFO (an ExecCredential with spec.interactive false, and spec.cluster when
 * provideClusterInfo is set), stdout parsed as an ExecCredential whose status holds a token or a
 * client certificate and key, valid until expirationTimestamp. stderr passes through. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "k8s_int.h"
#include "vtime.h"

#define CRED_CAP (1u << 20)

extern char **environ;

void k8s_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

static char **dup_strs(char **v, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    return out;
}

vet_kc_exec *k8s_exec_dup(const vet_kc_exec *e)
{
    vet_kc_exec *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->nargs = e->nargs;
    d->nenv = e->nenv;
    d->provide_cluster_info = e->provide_cluster_info;
    if ((e->api_version && !(d->api_version = strdup(e->api_version))) ||
        (e->command && !(d->command = strdup(e->command))) ||
        !(d->args = dup_strs(e->args, e->nargs)) || !(d->env = dup_strs(e->env, e->nenv))) {
        k8s_exec_free(d);
        return NULL;
    }
    return d;
}

void k8s_exec_free(vet_kc_exec *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->args && e->args[i]; i++)
        free(e->args[i]);
    for (size_t i = 0; e->env && e->env[i]; i++)
        free(e->env[i]);
    free(e->args);
    free(e->env);
    free(e->api_version);
    free(e->command);
    free(e);
}

void k8s_cred_clear(k8s_cred *cr)
{
    if (cr->token)
        k8s_wipe(cr->token, strlen(cr->token));
    free(cr->token);
    free(cr->cert.data);
    k8s_wipe(cr->key.data, cr->key.len);
    free(cr->key.data);
    memset(cr, 0, sizeof *cr);
}

static char *exec_info(const vet_k8s_config *cfg)
{
    json_t *o = json_object(), *spec = json_object();
    char *s;
    json_object_set_new(o, "apiVersion", json_string(cfg->exec->api_version));
    json_object_set_new(o, "kind", json_string("ExecCredential"));
    json_object_set_new(spec, "interactive", json_false());
    if (cfg->exec->provide_cluster_info) {
        json_t *cl = json_object();
        json_object_set_new(cl, "server", json_string(cfg->server));
        if (cfg->tls_server_name)
            json_object_set_new(cl, "tls-server-name", json_string(cfg->tls_server_name));
        if (cfg->insecure)
            json_object_set_new(cl, "insecure-skip-tls-verify", json_true());
        if (cfg->ca.data) {
            /* ExecCredential carries the CA as base64 text ([]byte in Go's JSON). */
            unsigned char *b64 = malloc(4 * ((cfg->ca.len + 2) / 3) + 1);
            if (b64) {
                EVP_EncodeBlock(b64, cfg->ca.data, (int)cfg->ca.len);
                json_object_set_new(cl, "certificate-authority-data", json_string((char *)b64));
                free(b64);
            }
        }
        json_object_set_new(spec, "cluster", cl);
    }
    json_object_set_new(o, "spec", spec);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spawn the plugin and collect its stdout, killing it past the deadline. */
static int run_plugin(vet_buf *out, const vet_k8s_config *cfg, const char *cmd, long timeout_ms)
{
    const vet_kc_exec *e = cfg->exec;
    char **argv = NULL, **envp = NULL, *info = NULL;
    size_t nenv = 0, k = 0;
    int pipefd[2] = {-1, -1}, rc = 0, status = 0;
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 60000);

    posix_spawn_file_actions_init(&fa);
    while (environ && environ[nenv])
        nenv++;
    argv = calloc(e->nargs + 2, sizeof *argv);
    envp = calloc(nenv + e->nenv + 2, sizeof *envp);
    info = exec_info(cfg);
    if (!argv || !envp || !info) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    argv[0] = (char *)cmd;
    for (size_t i = 0; i < e->nargs; i++)
        argv[i + 1] = e->args[i];
    /* The plugin's env entries override the caller's of the same name. */
    for (size_t i = 0; i < nenv; i++) {
        size_t nl = strcspn(environ[i], "=");
        int shadowed = !strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21);
        for (size_t j = 0; j < e->nenv && !shadowed; j++)
            shadowed = !strncmp(e->env[j], environ[i], nl + 1);
        if (!shadowed)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < e->nenv; j++)
        envp[k++] = e->env[j];
    {
        char *kv = vet_strdupf("KUBERNETES_EXEC_INFO=%s", info);
        free(info);
        info = kv;
        if (!info) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        envp[k++] = info;
    }
    if (pipe2(pipefd, O_CLOEXEC)) {
        rc = vet_error_set(VET_EIO, "exec plugin %s: pipe: %s", cmd, strerror(errno));
        goto done;
    }
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if ((errno = posix_spawnp(&pid, cmd, &fa, NULL, argv, envp))) {
        rc = vet_error_set(VET_EIO, "exec plugin %s (user \"%s\" in %s): %s", cmd, cfg->user,
                           cfg->source, strerror(errno));
        pid = -1;
        goto done;
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    for (;;) {
        char chunk[4096];
        struct pollfd pfd = {pipefd[0], POLLIN, 0};
        int64_t left = deadline - now_ms();
        ssize_t n;
        if (left <= 0) {
            rc = vet_error_set(VET_EIO, "exec plugin %s: no credential within %ld ms", cmd,
                               timeout_ms > 0 ? timeout_ms : 60000L);
            goto done;
        }
        if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR) {
            rc = vet_error_set(VET_EIO, "exec plugin %s: %s", cmd, strerror(errno));
            goto done;
        }
        if (!pfd.revents)
            continue;
        n = read(pipefd[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out->size + (size_t)n > CRED_CAP) {
            rc = vet_error_set(VET_ELIMIT, "exec plugin %s: output over %u bytes", cmd, CRED_CAP);
            goto done;
        }
        if ((rc = vet_buf_put(out, chunk, (size_t)n)))
            goto done;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        rc = vet_error_set(VET_EIO, "exec plugin %s (user \"%s\" in %s) failed: %s %d", cmd,
                           cfg->user, cfg->source, WIFEXITED(status) ? "exit status" : "signal",
                           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
done:
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    free(envp);
    free(info);
    return rc;
}

static int pem_blob(vet_blob *dst, const char *s)
{
    size_t n = strlen(s);
    if (!(dst->data = malloc(n + 1)))
        return VET_ENOMEM;
    memcpy(dst->data, s, n + 1);
    dst->len = n;
    return 0;
}

int k8s_exec_run(k8s_cred *cr, const vet_k8s_config *cfg, long timeout_ms)
{
    const vet_kc_exec *e = cfg->exec;
    vet_buf out = VET_BUF_INIT;
    char *cmd = NULL;
    json_t *root = NULL, *st;
    json_error_t jerr;
    const char *tok, *crt, *key, *exp, *av, *kind;
    int rc = 0;

    k8s_cred_clear(cr);
    if (!e->command || !*e->command)
        return vet_error_set(VET_EINPUT, "%s: user \"%s\": exec plugin without a command",
                             cfg->source, cfg->user);
    if (!e->api_version || (strcmp(e->api_version, "client.authentication.k8s.io/v1") &&
                            strcmp(e->api_version, "client.authentication.k8s.io/v1beta1")))
        return vet_error_set(VET_EINPUT,
                             "%s: user \"%s\": exec apiVersion \"%s\" is not supported (want "
                             "client.authentication.k8s.io/v1 or v1beta1)",
                             cfg->source, cfg->user, e->api_version ? e->api_version : "");
    /* client-go: a command with a path separator is relative to the kubeconfig's folder. */
    if (strchr(e->command, '/') && e->command[0] != '/' && cfg->exec_dir)
        cmd = vet_path_join(cfg->exec_dir, e->command);
    else
        cmd = strdup(e->command);
    if (!cmd)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if ((rc = run_plugin(&out, cfg, cmd, timeout_ms)))
        goto done;
    root = json_loadb(out.ptr ? out.ptr : "", out.size, 0, &jerr);
    if (!root || !json_is_object(root)) {
        rc = vet_error_set(VET_EINPUT, "exec plugin %s: output is not JSON (offset %d: %s)", cmd,
                           jerr.position, jerr.text);
        goto done;
    }
    kind = json_string_value(json_object_get(root, "kind"));
    av = json_string_value(json_object_get(root, "apiVersion"));
    if (!kind || strcmp(kind, "ExecCredential") || !av || strcmp(av, e->api_version)) {
        rc = vet_error_set(VET_EINPUT,
                           "exec plugin %s: output is %s %s, want an ExecCredential of %s", cmd,
                           av ? av : "(no apiVersion)", kind ? kind : "(no kind)", e->api_version);
        goto done;
    }
    st = json_object_get(root, "status");
    tok = json_string_value(json_object_get(st, "token"));
    crt = json_string_value(json_object_get(st, "clientCertificateData"));
    key = json_string_value(json_object_get(st, "clientKeyData"));
    exp = json_string_value(json_object_get(st, "expirationTimestamp"));
    if (!tok && !(crt && key)) {
        rc = vet_error_set(VET_EINPUT,
                           "exec plugin %s: ExecCredential status has neither a token nor a "
                           "client certificate and key",
                           cmd);
        goto done;
    }
    if ((tok && !(cr->token = strdup(tok))) || (crt && key && pem_blob(&cr->cert, crt)) ||
        (crt && key && pem_blob(&cr->key, key))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (exp && (rc = vet_time_parse(&cr->expiry, exp))) {
        vet_error_prefix("exec plugin: expirationTimestamp");
        goto done;
    }
    cr->valid = 1;
done:
    if (rc)
        k8s_cred_clear(cr);
    if (root) {
        /* The credential's text is in the JSON tree too: wipe what we can reach. */
        json_t *s2 = json_object_get(json_object_get(root, "status"), "clientKeyData");
        if (json_is_string(s2))
            k8s_wipe((char *)json_string_value(s2), json_string_length(s2));
    }
    json_decref(root);
    k8s_wipe(out.ptr, out.size);
    vet_buf_free(&out);
    free(cmd);
    return rc;
}
