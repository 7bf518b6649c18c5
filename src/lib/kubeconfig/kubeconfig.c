#include "kubevet/kubeconfig.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"

int vet_base64_decode(vet_blob *out, const char *text, size_t len)
{
    unsigned char *clean = NULL, *dec = NULL;
    size_t n = 0, pad = 0;
    int got, rc = 0;
    out->data = NULL;
    out->len = 0;
    if (!(clean = malloc(len + 1)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            clean[n++] = (unsigned char)text[i];
    if (n % 4) {
        rc = vet_error_set(VET_EINPUT, "invalid base64 (%zu characters, not a multiple of 4)", n);
        goto done;
    }
    if (!(dec = malloc(n / 4 * 3 + 1))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    /* EVP_DecodeBlock keeps the padding bytes as zeros: count '=' and trim. */
    got = n ? EVP_DecodeBlock(dec, clean, (int)n) : 0;
    if (got < 0) {
        rc = vet_error_set(VET_EINPUT, "invalid base64");
        goto done;
    }
    if (n && clean[n - 1] == '=')
        pad++;
    if (n > 1 && clean[n - 2] == '=')
        pad++;
    out->data = dec;
    out->len = (size_t)got - pad;
    dec = NULL;
done:
    free(clean);
    free(dec);
    return rc;
}

static int dup_str(char **dst, vet_yaml *y, yaml_node_t *map, const char *key)
{
    const char *s = vet_yaml_str(vet_yaml_get(y, map, key));
    if (!s)
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

static int get_blob(vet_blob *dst, vet_yaml *y, yaml_node_t *map, const char *key, const char *name)
{
    yaml_node_t *n = vet_yaml_get(y, map, key);
    const char *s = vet_yaml_str(n);
    int rc;
    if (!s)
        return 0;
    if ((rc = vet_base64_decode(dst, s, strlen(s)))) {
        char where[512];
        snprintf(where, sizeof where, "%s:%zu: %s", name, vet_yaml_line(n), key);
        vet_error_prefix(where);
    }
    return rc;
}

static int push_str(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 2) * sizeof *nv);
    if (!nv)
        return vet_error_set(VET_ENOMEM, "out of memory");
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    nv[++*n] = NULL;
    return 0;
}

static void free_strs(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void free_exec(vet_kc_exec *e)
{
    if (!e)
        return;
    free(e->api_version);
    free(e->command);
    free_strs(e->args);
    free_strs(e->env);
    free(e);
}

/* exec: {apiVersion, command, args: [..], env: [{name, value}], provideClusterInfo} */
static int parse_exec(vet_kc_exec **out, vet_yaml *y, yaml_node_t *n)
{
    vet_kc_exec *e;
    yaml_node_t *l;
    int rc = 0;
    *out = NULL;
    if (!n || n->type != YAML_MAPPING_NODE)
        return 0;
    if (!(e = calloc(1, sizeof *e)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if ((rc = dup_str(&e->api_version, y, n, "apiVersion")) ||
        (rc = dup_str(&e->command, y, n, "command")))
        goto done;
    l = vet_yaml_get(y, n, "args");
    for (size_t i = 0; l && l->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(l); i++) {
        const char *a = vet_yaml_str(vet_yaml_item(y, l, i));
        if (a && (rc = push_str(&e->args, &e->nargs, a)))
            goto done;
    }
    l = vet_yaml_get(y, n, "env");
    for (size_t i = 0; l && l->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(l); i++) {
        yaml_node_t *it = vet_yaml_item(y, l, i);
        const char *k = vet_yaml_str(vet_yaml_get(y, it, "name"));
        const char *v = vet_yaml_str(vet_yaml_get(y, it, "value"));
        char *kv;
        if (!k || !*k || strchr(k, '='))
            continue;
        if (!(kv = vet_strdupf("%s=%s", k, v ? v : ""))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        rc = push_str(&e->env, &e->nenv, kv);
        free(kv);
        if (rc)
            goto done;
    }
    e->provide_cluster_info = vet_yaml_bool(vet_yaml_get(y, n, "provideClusterInfo")) == 1;
    *out = e;
    e = NULL;
done:
    free_exec(e);
    return rc;
}

/* Each list entry is {name: X, <kind>: {...}}: return the inner mapping. */
static yaml_node_t *entry(vet_yaml *y, yaml_node_t *item, const char *kind, const char **name)
{
    *name = vet_yaml_str(vet_yaml_get(y, item, "name"));
    return vet_yaml_get(y, item, kind);
}

int vet_kubeconfig_parse(vet_kubeconfig **out, const unsigned char *data, size_t len,
                         const char *name)
{
    vet_yaml *y = NULL;
    vet_kubeconfig *kc = NULL;
    yaml_node_t *root, *list;
    int rc = 0;

    *out = NULL;
    if ((rc = vet_yaml_load(&y, data, len, name)))
        goto done;
    if (!(kc = calloc(1, sizeof *kc)) || !(kc->name = strdup(name))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    root = vet_yaml_root(y, 0);
    if (!root) {
        *out = kc; /* empty file: a valid, empty kubeconfig */
        kc = NULL;
        goto done;
    }
    if (root->type != YAML_MAPPING_NODE) {
        rc = vet_error_set(VET_EINPUT, "%s:%zu: not a kubeconfig (top level is not a mapping)",
                           name, vet_yaml_line(root));
        goto done;
    }
    if ((rc = dup_str(&kc->current_context, y, root, "current-context")))
        goto done;

    list = vet_yaml_get(y, root, "clusters");
    if (vet_yaml_len(list) && list->type == YAML_SEQUENCE_NODE &&
        !(kc->clusters = calloc(vet_yaml_len(list), sizeof *kc->clusters))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; list && list->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(list); i++) {
        yaml_node_t *item = vet_yaml_item(y, list, i);
        const char *nm;
        yaml_node_t *c = entry(y, item, "cluster", &nm);
        vet_kc_cluster *cl = &kc->clusters[kc->nclusters++];
        cl->line = vet_yaml_line(item);
        if (nm && !(cl->name = strdup(nm))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = dup_str(&cl->server, y, c, "server")) ||
            (rc = dup_str(&cl->ca_path, y, c, "certificate-authority")) ||
            (rc = get_blob(&cl->ca, y, c, "certificate-authority-data", name)))
            goto done;
        cl->insecure = vet_yaml_bool(vet_yaml_get(y, c, "insecure-skip-tls-verify")) == 1;
        if ((rc = dup_str(&cl->tls_server_name, y, c, "tls-server-name")) ||
            (rc = dup_str(&cl->proxy_url, y, c, "proxy-url")))
            goto done;
    }

    list = vet_yaml_get(y, root, "users");
    if (vet_yaml_len(list) && list->type == YAML_SEQUENCE_NODE &&
        !(kc->users = calloc(vet_yaml_len(list), sizeof *kc->users))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; list && list->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(list); i++) {
        yaml_node_t *item = vet_yaml_item(y, list, i);
        const char *nm;
        yaml_node_t *u = entry(y, item, "user", &nm);
        vet_kc_user *us = &kc->users[kc->nusers++];
        us->line = vet_yaml_line(item);
        if (nm && !(us->name = strdup(nm))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = dup_str(&us->cert_path, y, u, "client-certificate")) ||
            (rc = dup_str(&us->key_path, y, u, "client-key")) ||
            (rc = dup_str(&us->token, y, u, "token")) ||
            (rc = dup_str(&us->token_file, y, u, "tokenFile")) ||
            (rc = get_blob(&us->cert, y, u, "client-certificate-data", name)) ||
            (rc = get_blob(&us->key, y, u, "client-key-data", name)))
            goto done;
        us->has_exec = vet_yaml_get(y, u, "exec") || vet_yaml_get(y, u, "auth-provider");
        if ((rc = dup_str(&us->username, y, u, "username")) ||
            (rc = dup_str(&us->password, y, u, "password")) ||
            (rc = parse_exec(&us->exec, y, vet_yaml_get(y, u, "exec"))))
            goto done;
    }

    list = vet_yaml_get(y, root, "contexts");
    if (vet_yaml_len(list) && list->type == YAML_SEQUENCE_NODE &&
        !(kc->contexts = calloc(vet_yaml_len(list), sizeof *kc->contexts))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; list && list->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(list); i++) {
        yaml_node_t *item = vet_yaml_item(y, list, i);
        const char *nm;
        yaml_node_t *c = entry(y, item, "context", &nm);
        vet_kc_context *cx = &kc->contexts[kc->ncontexts++];
        cx->line = vet_yaml_line(item);
        if ((nm && !(cx->name = strdup(nm))) || (rc = dup_str(&cx->cluster, y, c, "cluster")) ||
            (rc = dup_str(&cx->user, y, c, "user")) || (rc = dup_str(&cx->ns, y, c, "namespace"))) {
            if (!rc)
                rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
    }
    *out = kc;
    kc = NULL;
done:
    vet_kubeconfig_free(kc);
    vet_yaml_free(y);
    return rc;
}

static void wipe(vet_blob *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->len);
    free(b->data);
}

void vet_kubeconfig_free(vet_kubeconfig *kc)
{
    if (!kc)
        return;
    for (size_t i = 0; i < kc->nclusters; i++) {
        free(kc->clusters[i].name);
        free(kc->clusters[i].server);
        free(kc->clusters[i].ca_path);
        free(kc->clusters[i].ca.data);
        free(kc->clusters[i].tls_server_name);
        free(kc->clusters[i].proxy_url);
    }
    for (size_t i = 0; i < kc->nusers; i++) {
        vet_kc_user *u = &kc->users[i];
        free(u->name);
        free(u->cert_path);
        free(u->key_path);
        free(u->cert.data);
        wipe(&u->key);
        if (u->token)
            OPENSSL_cleanse(u->token, strlen(u->token));
        free(u->token);
        free(u->token_file);
        free_exec(u->exec);
        free(u->username);
        if (u->password)
            OPENSSL_cleanse(u->password, strlen(u->password));
        free(u->password);
    }
    for (size_t i = 0; i < kc->ncontexts; i++) {
        free(kc->contexts[i].name);
        free(kc->contexts[i].cluster);
        free(kc->contexts[i].user);
        free(kc->contexts[i].ns);
    }
    free(kc->clusters);
    free(kc->users);
    free(kc->contexts);
    free(kc->current_context);
    free(kc->name);
    free(kc);
}

const vet_kc_context *vet_kubeconfig_context(const vet_kubeconfig *kc, const char *name)
{
    if (!name)
        name = kc->current_context;
    for (size_t i = 0; name && i < kc->ncontexts; i++)
        if (kc->contexts[i].name && !strcmp(kc->contexts[i].name, name))
            return &kc->contexts[i];
    return NULL;
}

const vet_kc_cluster *vet_kubeconfig_cluster(const vet_kubeconfig *kc, const char *name)
{
    for (size_t i = 0; name && i < kc->nclusters; i++)
        if (kc->clusters[i].name && !strcmp(kc->clusters[i].name, name))
            return &kc->clusters[i];
    return NULL;
}

const vet_kc_user *vet_kubeconfig_user(const vet_kubeconfig *kc, const char *name)
{
    for (size_t i = 0; name && i < kc->nusers; i++)
        if (kc->users[i].name && !strcmp(kc->users[i].name, name))
            return &kc->users[i];
    return NULL;
}
