/* kubeconfig files (clientcmd v1): clusters, users, contexts, the current context.
 * Embedded *-data fields are base64-decoded here; file paths are kept as written so the
 * caller can resolve them (under --root, or against the kubeconfig's folder). */
#ifndef KUBEVET_KUBECONFIG_H
#define KUBEVET_KUBECONFIG_H

#include <stddef.h>

typedef struct {
    unsigned char *data; /* decoded bytes, NULL when the field is absent */
    size_t len;
} vet_blob;

typedef struct {
    char *name;
    char *server;
    char *ca_path; /* certificate-authority */
    vet_blob ca;   /* certificate-authority-data */
    int insecure;  /* insecure-skip-tls-verify */
    size_t line;
    char *tls_server_name; /* tls-server-name: the name to verify (and send as SNI) */
    char *proxy_url;       /* proxy-url */
} vet_kc_cluster;

/* An exec credential plugin (client.authentication.k8s.io v1 / v1beta1). */
typedef struct {
    char *api_version; /* "client.authentication.k8s.io/v1" */
    char *command;     /* as written: resolved against the kubeconfig's folder when it has a '/' */
    char **args;       /* NULL-terminated */
    size_t nargs;
    char **env; /* "NAME=value", NULL-terminated */
    size_t nenv;
    int provide_cluster_info; /* provideClusterInfo */
} vet_kc_exec;

typedef struct {
    char *name;
    char *cert_path; /* client-certificate */
    char *key_path;  /* client-key */
    vet_blob cert;   /* client-certificate-data */
    vet_blob key;    /* client-key-data (never printed) */
    char *token;     /* never printed */
    char *token_file;
    int has_exec; /* exec or auth-provider plugin */
    size_t line;
    vet_kc_exec *exec; /* the exec plugin, or NULL (auth-provider alone sets has_exec only) */
    char *username, *password; /* basic auth (never printed) */
} vet_kc_user;

typedef struct {
    char *name, *cluster, *user, *ns;
    size_t line;
} vet_kc_context;

typedef struct {
    char *name; /* as given to the parser, for messages */
    char *current_context;
    vet_kc_cluster *clusters;
    size_t nclusters;
    vet_kc_user *users;
    size_t nusers;
    vet_kc_context *contexts;
    size_t ncontexts;
} vet_kubeconfig;

/* Parse a kubeconfig. Errors (VET_EINPUT) name the file and line: not YAML, not a mapping,
 * bad base64 in a *-data field. Missing sections are fine (an empty kubeconfig is valid). */
int vet_kubeconfig_parse(vet_kubeconfig **out, const unsigned char *data, size_t len,
                         const char *name);
void vet_kubeconfig_free(vet_kubeconfig *kc);

/* Lookups by name; NULL when absent. `name` NULL selects the current context. */
const vet_kc_context *vet_kubeconfig_context(const vet_kubeconfig *kc, const char *name);
const vet_kc_cluster *vet_kubeconfig_cluster(const vet_kubeconfig *kc, const char *name);
const vet_kc_user *vet_kubeconfig_user(const vet_kubeconfig *kc, const char *name);

/* Decode standard base64 (whitespace ignored). VET_EINPUT on bad input, with what was wrong. */
int vet_base64_decode(vet_blob *out, const char *text, size_t len);

#endif
