/* Internal to the helm module: the record accumulator shared by the API and snapshot sources. */
#ifndef KV_HELM_GATHER_H
#define KV_HELM_GATHER_H

#include "kubevet/helm.h"

#define HELM_MAX_DEPLOYED 8 /* deployed revision numbers quoted in a note */

typedef struct {
    vet_helm_opts o;
    vet_helm_facts *f;
    size_t cap;
    size_t *table; /* open addressing over f->rels, (size_t)-1 = empty */
    size_t tcap;
} helm_acc;

/* What the labels (or, for encrypted values, the key) of one record say. */
typedef struct {
    int helm;
    vet_helm_driver driver;
    const char *storage_ns;
    const char *record; /* object name */
    const char *name;   /* release name */
    int revision;
    const char *status;    /* lower case */
    const char *encrypted; /* provider when encrypted at rest, else NULL */
} helm_record;

/* Decode the record being added (called only when it is the revision Helm acts on so far). */
typedef int (*helm_decode_fn)(vet_helm_release **out, void *ud);

int helm_acc_init(helm_acc *a, const vet_helm_opts *o);
int helm_acc_add(helm_acc *a, const helm_record *rec, helm_decode_fn decode, void *ud);
/* Move the releases of src into a, a release both hold combined as if src's records had come
 * after a's (one accumulator per LIST, so that a LIST that starts over can drop its own); frees
 * src, also on failure. */
int helm_acc_merge(helm_acc *a, helm_acc *src);
/* Hands the facts over (and frees the accumulator, also on failure). */
int helm_acc_finish(vet_helm_facts **out, helm_acc *a);
void helm_acc_free(helm_acc *a);

int helm_parse_record_name(const char *rec, int helm, char **name, int *rev);

#endif
