/* Manifest scanning: find every Kubernetes object in files, folders or stdin (YAML, multi-document
 * YAML, JSON, `kind: List` and `*List` items, Helm chart templates) and record the facts the API
 * checks need: apiVersion, kind, name, namespace, file:line, and whether a workload's
 * spec.selector selects its pod template. A source, not a judge: severities are the checks'.
 *
 * Speed: a memchr line pre-scan of each mmap'd file finds the documents and their top-level
 * apiVersion/kind; only documents a rule needs (a catalog row, or a workload whose selector must
 * be checked) are looked at further, by an indentation-aware line extractor, and by libyaml when
 * the extractor meets anything it does not model (flow style, anchors, JSON, List items). Files
 * are processed by worker threads; results are ordered by input order, then position. */
#ifndef KUBEVET_MANIFEST_H
#define KUBEVET_MANIFEST_H

#include <stddef.h>

#include "strv.h"

struct vet_catalog;

/* How the object was read. */
typedef enum {
    VET_MF_YAML = 0,   /* YAML (pre-scan + extractor, or libyaml) */
    VET_MF_JSON,       /* JSON (libyaml) */
    VET_MF_TEMPLATE,   /* a Helm/Go template: found by the pre-scan; values may be unresolved */
    VET_MF_UNPARSEABLE /* libyaml rejected the document; facts from the pre-scan only */
} vet_mf_source;

/* spec.selector versus spec.template.metadata.labels, for the workload kinds (Deployment,
 * DaemonSet, StatefulSet, ReplicaSet in apps/v1, apps/v1beta1, apps/v1beta2, extensions/v1beta1).
 */
typedef enum {
    VET_SEL_NA = 0,   /* not a workload kind/group, or not evaluated */
    VET_SEL_OK,       /* selector present and selects the template labels */
    VET_SEL_MISSING,  /* no spec.selector (or null) */
    VET_SEL_EMPTY,    /* selector without matchLabels/matchExpressions: apps/v1 rejects it */
    VET_SEL_MISMATCH, /* selector does not select the template labels (detail says why) */
    VET_SEL_UNKNOWN   /* template directives decide it: cannot be evaluated from the source */
} vet_sel_state;

typedef struct {
    const char *file;        /* path as given/walked ("-" for stdin) */
    unsigned line;           /* 1-based line of the object's apiVersion (else its first line) */
    const char *api_version; /* NULL when absent */
    const char *kind;
    const char *name; /* NULL when absent; raw text in templates */
    const char *namespace;
    const char *list_kind; /* "List", "DeploymentList"... when the object is an item, else NULL */
    vet_mf_source source;
    vet_sel_state selector;
    unsigned selector_line;      /* line of spec.selector (or of spec / the object when missing) */
    const char *selector_detail; /* for MISMATCH: "matchLabels app=web: template has app=api" */
    /* Helm templates only: the apiVersions of an if/else switch (`semverCompare`,
     * `.Capabilities.APIVersions.Has`), space-separated in source order, api_version being the
     * last; NULL when the document has one apiVersion line. Which one renders depends on the
     * cluster, so a check judges the best of them. */
    const char *api_alternatives;
    /* Fields the object's own apiVersion rejects (a half-converted object): networking.k8s.io/v1
     * Ingress with serviceName/servicePort, backend or without pathType; apiextensions.k8s.io/v1
     * CustomResourceDefinition whose schema is missing or not structural. NULL when none seen. */
    const char *invalid_detail;
    unsigned invalid_line;
} vet_manifest_obj;

typedef struct {
    const struct vet_catalog *catalog; /* which apiVersion/kinds are of interest (may be NULL) */
    int all_files;   /* folders: read every regular file, not only .yaml/.yml/.json */
    int full_parse;  /* parse every document with libyaml (debug; slow, same findings) */
    int keep_all;    /* keep every object found, not only the ones a rule may need */
    int threads;     /* worker threads; 0 = $KUBEVET_THREADS, else the online cores */
    size_t max_size; /* skip (with a note) files larger than this; 0 = 64 MiB */
} vet_manifest_opts;

typedef struct vet_manifest_scan vet_manifest_scan;

int vet_manifest_scan_new(vet_manifest_scan **out, const vet_manifest_opts *opts);
void vet_manifest_scan_free(vet_manifest_scan *s);

/* Scan files and folders (recursively, in name order); "-" reads stdin. Inputs that cannot be
 * read and documents that cannot be parsed become scan errors (see below), not a failure of the
 * call; the call fails only for out-of-memory or when threads cannot be started. May be called
 * more than once; results accumulate. */
int vet_manifest_scan_paths(vet_manifest_scan *s, const char *const *paths, size_t n);
/* Scan a buffer as if it were the file `name` (tests, fuzzing, Helm release manifests). */
int vet_manifest_scan_buffer(vet_manifest_scan *s, const char *name, const unsigned char *data,
                             size_t len);

/* Objects in input order (file order, then position in the file). */
size_t vet_manifest_scan_count(const vet_manifest_scan *s);
const vet_manifest_obj *vet_manifest_scan_obj(const vet_manifest_scan *s, size_t i);

/* Errors: "file:line: what was wrong" for unreadable inputs and unparseable documents that
 * yielded no object (exit 3 material). Notes: skipped files (binary, over the size cap, not a
 * manifest extension when given explicitly...), documents read from an unparseable source. */
size_t vet_manifest_scan_nerrors(const vet_manifest_scan *s);
const char *vet_manifest_scan_error(const vet_manifest_scan *s, size_t i);
size_t vet_manifest_scan_nnotes(const vet_manifest_scan *s);
const char *vet_manifest_scan_note(const vet_manifest_scan *s, size_t i);

typedef struct {
    size_t files;     /* files read */
    size_t skipped;   /* files skipped (binary, size cap) */
    size_t bytes;     /* bytes read */
    size_t documents; /* non-empty YAML/JSON documents seen */
    size_t parsed;    /* documents handed to libyaml */
    size_t extracted; /* documents answered by the line extractor */
    size_t templates; /* documents read as templates */
    size_t yaml_bytes; /* bytes libyaml read (a document read twice counts twice) */
} vet_manifest_stats;

void vet_manifest_scan_stats(const vet_manifest_scan *s, vet_manifest_stats *out);

/* ---- convert (apis convert) ---- */
/* What happened to one object (a document, or an item of a List) whose apiVersion is
 * deprecated or removed at the target. */
typedef enum {
    VET_CONVERT_DONE = 0,    /* rewritten to `to`, nothing left for a person */
    VET_CONVERT_PARTIAL = 1, /* not produced any more: a template is converted or left as is */
    VET_CONVERT_STOPPED = 2, /* left byte-for-byte unchanged: a person must choose (`manual`) */
    VET_CONVERT_NO_REPLACEMENT = 3, /* no replacement served at the target: left unchanged */
    VET_CONVERT_UNSUPPORTED = 4     /* the catalog names a replacement kubevet has no rule for */
} vet_convert_status;

typedef struct {
    vet_convert_status status;
    const char *id;    /* "KV401" (from-version removed at the target) or "KV402"
                        * (deprecated) when status != DONE; NULL for DONE. Static. */
    size_t line;       /* 1-based line of the object's apiVersion in the input */
    char *kind, *name; /* name may be NULL */
    char *ns;          /* metadata.namespace or NULL */
    char *from;        /* apiVersion in the input */
    char *to;          /* apiVersion written, or the one a person should move to; may be NULL */
    char *changes;     /* "; "-separated list of what was changed (NULL when nothing) */
    char *manual;      /* what a person must do (NULL when nothing) */
} vet_convert_doc;

typedef struct {
    char *data; /* the converted file (NUL-terminated for convenience; len excludes it) */
    size_t len;
    int changed; /* data differs from the input */
    vet_convert_doc *docs;
    size_t ndocs;
} vet_convert_result;

/* Parse "1.29", "v1.29.3", "1.29.0-rc.1" into major*1000+minor. VET_EUSAGE when malformed. */
int vet_convert_target_parse(int *out, const char *target);

/* The default target: the catalog's newest release, else the newest the rule table knows. */
const char *vet_convert_default_target(const struct vet_catalog *catalog);

/* Convert every object in (data, len) whose apiVersion is deprecated or removed at `target`
 * (NULL = vet_convert_default_target()) to the newest version served there. Deprecation and
 * removal facts come from `catalog` when given (rows it lacks, and catalog NULL, fall back to the
 * rule table); the rule table supplies the replacements and field changes. Only the spans that
 * change are edited; every other byte (comments, order, quoting, other documents, template text)
 * is kept. A document that does not parse is an error (VET_EINPUT "name:line: ...") unless it
 * contains Helm template text ("{{"): then only line edits the text proves safe are made (the
 * top-level `apiVersion:` line of a kind whose fields do not change; for a workload with a
 * `selector:` line, that and the old defaults under `spec:`), else the object is left byte for
 * byte and reported VET_CONVERT_STOPPED with why. An if/else of apiVersion lines with a branch
 * served at the target needs nothing. `name` is used in messages.
 * *out is owned by the caller (vet_convert_result_free). */
int vet_manifest_convert(vet_convert_result **out, const unsigned char *data, size_t len,
                         const char *target, const struct vet_catalog *catalog, const char *name);
void vet_convert_result_free(vet_convert_result *r);

/* Options of vet_manifest_convert_opts(). */
typedef struct {
    const char *target;                /* NULL = vet_convert_default_target() */
    const struct vet_catalog *catalog; /* may be NULL */
    /* 0 (default): where the old API defaulted a field differently from the new one (a Deployment
     * from extensions/v1beta1 kept every ReplicaSet and had no progress deadline; DaemonSets and
     * apps/v1beta1 StatefulSets updated OnDelete), write the old default out so the object behaves
     * as before, and say so in `changes`. 1: leave the field unset (the new default applies). */
    int new_defaults;
    /* The selector the live object already has (helm map reads it from the cluster). Called for
     * a workload without spec.selector with the apiVersion it has in the input, kind, namespace
     * (NULL when the document names none) and name (NULL when none). Returns 1 and the
     * matchLabels in *labels (key, value, key, value, ...) when the object exists: apps/v1 makes
     * the selector immutable, so the manifest must carry that one (those of the template labels
     * it names); 0 when it does not exist: the old API's default, every template label, is used;
     * negative (error set) when it cannot be read: the object is left for a person. NULL: 0. */
    int (*live_selector)(void *arg, const char *api_version, const char *kind, const char *ns,
                         const char *name, vet_strv *labels);
    void *live_arg;
} vet_convert_opts;

/* vet_manifest_convert() with options. */
int vet_manifest_convert_opts(vet_convert_result **out, const unsigned char *data, size_t len,
                              const vet_convert_opts *opts, const char *name);

/* The apiVersion that `kind` at `api_version` converts to at `target` (static string), or NULL
 * when it is neither deprecated nor removed there, or has no replacement served there. */
const char *vet_convert_replacement(const char *api_version, const char *kind, const char *target,
                                    const struct vet_catalog *catalog);

#endif
