/* The check registry: one table row per finding ID of CHECKS.md, one function per check.
 * A check reads only the context (facts gathered by sources) and appends findings; it never
 * opens a file or a socket, so every check is testable from a fixture context. */
#ifndef KUBEVET_CHECK_H
#define KUBEVET_CHECK_H

#include <stdint.h>

#include "kubevet/report.h"
#include "strv.h"

enum {
    VET_SRC_NODE = 1 << 0,
    VET_SRC_FILES = 1 << 1,
    VET_SRC_API = 1 << 2,
    VET_SRC_ETCD = 1 << 3,
    VET_SRC_HELM = 1 << 4,
    VET_SRC_UPGRADE = 1 << 5
};

struct vet_node;
struct vet_certset;
struct vet_catalog;
struct vet_manifest_scan;
struct vet_etcd_facts;
struct vet_snapshot_facts;
struct vet_api_facts;
struct vet_helm_facts;
struct vet_releases;

typedef struct vet_ctx {
    int64_t now;                 /* evaluation time (--at) */
    int64_t warn_within;         /* seconds (--warn-within) */
    const vet_strv *expect_sans; /* --expect-san */
    const char *target;          /* --target Kubernetes version, or NULL */
    struct vet_node *node;       /* node source (--root), or NULL */
    struct vet_certset *files;   /* certificates given as paths, or NULL */
    const struct vet_catalog *catalog;
    struct vet_manifest_scan *manifests;
    struct vet_etcd_facts *etcd;
    struct vet_snapshot_facts *snapshot;
    struct vet_api_facts *api;   /* the Kubernetes API source, or NULL */
    struct vet_helm_facts *helm; /* Helm releases (API or snapshot), or NULL */
    /* release data (skew policy for KV502, kubeadm's etcd for KV503); NULL = the built-in */
    const struct vet_releases *releases;
} vet_ctx;

typedef struct vet_check {
    const char *id;
    const char *name;
    vet_severity severity; /* default; a check may raise it (KV102 under 7 days) */
    unsigned sources;      /* VET_SRC_* it can draw on */
    int (*run)(const vet_ctx *ctx, vet_report *r);
    const char *title; /* one line: what fires it */
} vet_check;

extern const vet_check vet_checks[];
extern const size_t vet_checks_len;

const vet_check *vet_check_find(const char *id);

/* Add a finding for `id` with the table's name and default severity. */
vet_finding *vet_check_emit(vet_report *r, const char *id, const char *subject);

/* Run every implemented check whose sources intersect `sources`; ids (NULL = all) limits the set
 * to ids with one of the given prefixes ("KV1" for the PKI checks). */
int vet_check_run(const vet_ctx *ctx, vet_report *r, unsigned sources, const char *const *prefixes);

#endif
