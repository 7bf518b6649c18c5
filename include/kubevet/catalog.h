/* The API catalog: built-in (and operator CRD) group/version/kinds that Kubernetes deprecated or
 * removed, with the release of each step and the replacement. data/apis.yaml is compiled into the
 * binary; a user file (`--catalog FILE`) adds rows or overrides rows with the same apiVersion and
 * kind. Also: Kubernetes version strings ("v1.25", "1.25.3", "1.25.0-rc.1") and their order, and
 * the release data (data/releases.yaml: per minor its newest patch and kubeadm's etcd, and the
 * version-skew policy), the one source the checks and the upgrade planner read them from. */
#ifndef KUBEVET_CATALOG_H
#define KUBEVET_CATALOG_H

#include <stddef.h>

#include "strv.h"

/* A parsed Kubernetes version. Missing parts are 0; pre is "" for a release. */
typedef struct {
    int major, minor, patch;
    char pre[32]; /* "rc.1", "alpha.0", ... (build metadata after '+' is dropped) */
} vet_version;

/* Parse "[v]MAJOR.MINOR[.PATCH][-PRE][+BUILD]". 0, or VET_EINPUT naming the string. */
int vet_version_parse(vet_version *out, const char *s);
/* Semantic-version order: <0, 0, >0. A pre-release sorts before its release (1.25.0-rc.1 < 1.25.0);
 * pre-release identifiers compare numerically when both are numeric, else as ASCII. */
int vet_version_cmp(const vet_version *a, const vet_version *b);
/* Order of the MAJOR.MINOR release lines only (1.25.0-rc.1 and 1.25.9 are both "1.25"). APIs are
 * removed per minor release: a 1.25 release candidate already lacks what 1.25 removes. */
int vet_version_cmp_minor(const vet_version *a, const vet_version *b);
/* "1.25" form of a version into buf; returns buf. */
char *vet_version_minor_str(char *buf, size_t size, const vet_version *v);

/* One catalog row. Strings are owned by the catalog; "" when the field is empty. */
typedef struct {
    const char *api_version;   /* "extensions/v1beta1" */
    const char *kind;          /* "Deployment" */
    const char *deprecated_in; /* "1.8", or "" */
    const char *removed_in;    /* "1.16", or "" (never / not scheduled) */
    const char *replacement;   /* "apps/v1", "discovery.k8s.io/v1 EndpointSlice", or "none" */
    const char *replacement_available_in;
    const char *component; /* "k8s", "cert-manager", ... */
    const char *note;      /* "" when none */
    vet_version dep, rem;  /* parsed deprecated_in / removed_in */
    int has_dep, has_rem;
} vet_api;

typedef enum { VET_API_SERVED = 0, VET_API_DEPRECATED = 1, VET_API_REMOVED = 2 } vet_api_status;

/* Status of a row in the release line of `target` (compared per minor, see vet_version_cmp_minor).
 */
vet_api_status vet_api_status_at(const vet_api *a, const vet_version *target);

typedef struct vet_catalog vet_catalog;

/* An empty catalog. */
int vet_catalog_new(vet_catalog **out);
/* A catalog holding the compiled-in data/apis.yaml. */
int vet_catalog_load_builtin(vet_catalog **out);
/* Add rows from YAML text (kubevet's format: `apis:` list of apiVersion/kind/deprecated-in/
 * removed-in/replacement/replacement-available-in/component/note; pluto's `deprecated-versions:`
 * with `version`/`replacement-api` is accepted too). A row with the same apiVersion and kind as an
 * existing one replaces it. Errors: VET_EINPUT "name:line: ..." (nothing is changed then). */
int vet_catalog_parse(vet_catalog *c, const unsigned char *data, size_t len, const char *name);
/* vet_catalog_parse on a file (capped at 16 MiB). */
int vet_catalog_load_file(vet_catalog *c, const char *path);
void vet_catalog_free(vet_catalog *c);

size_t vet_catalog_count(const vet_catalog *c);
/* Row i in file order (built-in rows first, then added ones). */
const vet_api *vet_catalog_at(const vet_catalog *c, size_t i);
/* Row for apiVersion + kind, or NULL. The n-variant takes lengths (no NUL needed); thread-safe
 * for concurrent readers once loading is done. */
const vet_api *vet_catalog_lookup(const vet_catalog *c, const char *api_version, const char *kind);
const vet_api *vet_catalog_lookupn(const vet_catalog *c, const char *api_version, size_t avlen,
                                   const char *kind, size_t kindlen);
/* The newest Kubernetes release the catalog knows ("newest:" key, else the highest
 * deprecated-in/removed-in not in the future); the default --target. Never NULL. */
const char *vet_catalog_newest(const vet_catalog *c);

/* The date the catalog's facts were last checked ("updated:" key), or "unknown". */
const char *vet_catalog_updated(const vet_catalog *c);

/* The compiled-in data/apis.yaml bytes. */
const unsigned char *vet_catalog_builtin_data(size_t *len);

/* ---- release data: data/releases.yaml ---- */

/* One Kubernetes minor. Strings are owned by the release set. */
typedef struct {
    int minor;               /* 13 for "1.13" (major is always 1) */
    const char *newest;      /* "1.13.12": the newest patch the data knows */
    const char *etcd;        /* "3.2.24": kubeadm's SupportedEtcdVersion for this minor */
    int cluster_status;      /* kubeadm of this minor keeps/reads ClusterStatus.apiEndpoints */
    int cri_socket;          /* kubeadm of this minor reads the cri-socket Node annotation */
    vet_strv kubeadm_config; /* accepted kubeadm.k8s.io versions ("v1beta1", ...) */
    size_t line;             /* line in the data file */
} vet_release;

typedef struct {
    int kubelet_older;        /* minors a kubelet may trail the apiserver */
    int kubelet_older_since;  /* ... when the kubelet is at least this minor */
    int kubelet_older_legacy; /* ... else this many */
    int kubectl;              /* kubectl within this many minors */
    int apiserver_ha;         /* apiservers of one cluster within this many minors */
} vet_skew_policy;

typedef struct vet_releases vet_releases;

/* The compiled-in data/releases.yaml. */
int vet_releases_load_builtin(vet_releases **out);
/* A release data file (replaces the built-in data; capped at 1 MiB). Errors: VET_EINPUT
 * "name:line: ...", VET_EIO. */
int vet_releases_load_file(vet_releases **out, const char *path);
int vet_releases_parse(vet_releases **out, const unsigned char *data, size_t len, const char *name);
void vet_releases_free(vet_releases *r);

/* "updated:" of the data, or "unknown". */
const char *vet_releases_updated(const vet_releases *r);
size_t vet_releases_count(const vet_releases *r);
/* Rows in ascending minor order. */
const vet_release *vet_releases_at(const vet_releases *r, size_t i);
/* The row of 1.<minor>, or NULL. */
const vet_release *vet_releases_find(const vet_releases *r, int minor);
const vet_skew_policy *vet_releases_skew(const vet_releases *r);
/* The compiled-in bytes. */
const unsigned char *vet_releases_builtin_data(size_t *len);
/* The compiled-in data parsed once per process (thread-safe) and kept for its lifetime: what the
 * checks read when their context names no release data. NULL only if it failed to parse. */
const vet_releases *vet_releases_builtin(void);
/* Minors a kubelet of 1.<kubelet_minor> may trail the apiserver under the policy (kubelet-older,
 * or kubelet-older-legacy for a kubelet older than kubelet-older-since). */
int vet_skew_kubelet_allowed(const vet_skew_policy *p, int kubelet_minor);

#endif
