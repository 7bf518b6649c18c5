/* Internals of the plan module (plan.c model, render.c, apply.c, backup.c). Not installed. */
#ifndef KV_PLAN_INT_H
#define KV_PLAN_INT_H

#include "kubevet/plan.h"
#include "strv.h"

struct vet_plan {
    char *root; /* host path, no trailing slash ("/" kept) */
    char *title;
    char *backup_parent; /* relative to root */
    vet_action *v;
    size_t n, cap;
    char *refused;
    vet_strv alternatives;
};

/* Host path of a plan-relative path. */
char *plan_host_path(const vet_plan *p, const char *rel);

/* The unified diff of old -> new (either may be NULL: absent file) as text lines, with PEM
 * blocks and long base64 values collapsed and private keys never shown. */
int plan_diff(char **out, const char *label, const unsigned char *old, size_t oldlen,
              const unsigned char *neu, size_t newlen);

/* The diff of an API action: what the caller gave (vet_plan_set_diff), else the current object
 * (a->api_current) against the body, per changed key of `data` ("ConfigMap
 * kube-system/kube-proxy data.kubeconfig.conf"), or of the whole objects (indented JSON,
 * resourceVersion aside) when they are not ConfigMap-like. */
int plan_api_diff(char **out, const vet_action *a);

#define PLAN_MANIFEST "MANIFEST"

#endif
