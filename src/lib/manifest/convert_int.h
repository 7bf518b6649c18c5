/* Internal to the convert*.c files: the driver (convert.c), reading the parsed document
 * (convert_node.c), the span editor and renderer (convert_edit.c), the rule table and field
 * transforms (convert_rules.c), CRDs and their structural schemas (convert_crd.c) and Helm
 * templates (convert_helm.c). */
#ifndef KV_MANIFEST_CONVERT_INT_H
#define KV_MANIFEST_CONVERT_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

#include "buf.h"
#include "kubevet/catalog.h"
#include "kubevet/manifest.h"

/* Kubernetes minor versions as major*1000+minor. */
#define KV(maj, min) ((maj)*1000 + (min))
/* Deepest nesting the converter walks (libyaml's tree is bounded by vet_yaml_parser_load). */
#define CV_MAX_DEPTH 200

typedef struct cv cv;

typedef struct rule {
    const char *from; /* apiVersion converted from */
    const char *kind;
    int deprecated;                       /* `from` deprecated in (0: not known) */
    int removed;                          /* `from` no longer served from (0: still served) */
    const char *to;                       /* replacement apiVersion, NULL: none */
    int since;                            /* `to` served from */
    int to_removed;                       /* `to` no longer served from (0: still served) */
    void (*fix)(cv *c, yaml_node_t *obj); /* field changes beyond apiVersion, or NULL */
    const char *manual; /* what a person checks when only the apiVersion line could change */
} rule;

extern const rule cv_rules[];
extern const size_t cv_nrules;

typedef struct {
    size_t off, del;
    char *ins;
    size_t seq; /* insertion order: edits at one offset apply in the order they were made */
} edit;

typedef struct {
    edit *v;
    size_t n, cap;
} editv;

/* New content to render in the style of the place it goes to. */
typedef enum { NV_WORD, NV_RAW, NV_SRC, NV_MAP, NV_SEQ } nv_type;
typedef struct nv nv;
typedef struct {
    const char *key;
    int raw; /* key is source text (keeps its quotes), never re-quoted */
    nv *val;
} nkv;
struct nv {
    nv_type t;
    const char *s;          /* NV_WORD: a string (quoted in JSON); NV_RAW: text as is */
    yaml_node_t *src;       /* NV_SRC: copy this node's source text */
    size_t srckeycol;       /* NV_SRC: column of the key that held it (to re-indent) */
    const char *const *ren; /* NV_SRC: keys renamed inside the copy: old, new, ..., NULL */
    const editv *patches;   /* NV_SRC: edits applied to the copy (sorted; file offsets) */
    nkv *kv;                /* NV_MAP */
    nv **items;             /* NV_SEQ */
    size_t n;
};

struct cv {
    const unsigned char *file; /* the whole input */
    size_t flen;
    size_t base, clen; /* current chunk */
    size_t line0;      /* lines before the chunk */
    size_t *cmap;      /* char index -> byte offset in the chunk, NULL when ASCII */
    size_t nchars;
    yaml_document_t *doc;
    int step;    /* indentation step of nested mappings in this document */
    int seq_off; /* indentation of a block sequence under its key (0 or step) */
    int target;
    vet_version tv;         /* target as the catalog compares it */
    const vet_catalog *cat; /* deprecation facts, or NULL */
    const rule *r;
    editv ed; /* edits of the current document */
    size_t seq;
    vet_buf did;      /* what was changed */
    vet_buf manual;   /* what a person must do */
    int stop;         /* leave the current object unchanged */
    int crlf;         /* the file breaks lines with CRLF */
    int err;          /* VET_ENOMEM */
    int new_defaults; /* --new-defaults: do not write the old API's defaults out */
    const vet_convert_opts *opts;
    editv *redirect; /* when set, edits go here (patches of a copied node), not to ed */
    void **arena;    /* nv nodes and strings of the current document */
    size_t narena, carena;
};

void *cv_alloc(cv *c, size_t size);
char *cv_strndup(cv *c, const char *s, size_t n);
yaml_node_t *cv_node(cv *c, int id);
size_t cv_npairs(const yaml_node_t *m);
yaml_node_t *cv_key_at(cv *c, yaml_node_t *m, size_t i);
yaml_node_t *cv_val_at(cv *c, yaml_node_t *m, size_t i);
size_t cv_nitems(const yaml_node_t *s);
yaml_node_t *cv_item(cv *c, yaml_node_t *s, size_t i);
int cv_scalar_is(const yaml_node_t *n, const char *s);
const char *cv_str(const yaml_node_t *n);
long cv_find(cv *c, yaml_node_t *m, const char *key);
yaml_node_t *cv_get(cv *c, yaml_node_t *m, const char *key);
int cv_is_map(const yaml_node_t *n);
int cv_is_null(const yaml_node_t *n);
size_t cv_pos(cv *c, yaml_mark_t m);
size_t cv_line_start(cv *c, size_t off);
size_t cv_col(cv *c, size_t off);
size_t cv_end(cv *c, yaml_node_t *n);
size_t cv_line(cv *c, const yaml_node_t *n);
int cv_has_template(cv *c, size_t a, size_t b);
void cv_stop(cv *c, const char *fmt, ...) VET_PRINTF(2, 3);
void cv_did(cv *c, const char *fmt, ...) VET_PRINTF(2, 3);

nv *nv_word(cv *c, const char *s);
nv *nv_raw(cv *c, const char *s);
nv *nv_src(cv *c, yaml_node_t *src, yaml_node_t *srckey, const char *const *ren);
nv *nv_map(cv *c, size_t cap);
nv *nv_seq(cv *c, size_t cap);
void nv_put(nv *m, const char *key, nv *val);
void nv_put_raw(nv *m, const char *key, nv *val);

/* Edits. All are no-ops once the object is stopped. */
void cv_set_scalar(cv *c, yaml_node_t *n, const char *text);
void cv_rename(cv *c, yaml_node_t *m, size_t i, const char *name);
void cv_insert(cv *c, yaml_node_t *m, long before, long after, const nkv *kv, size_t n);
void cv_replace(cv *c, yaml_node_t *m, size_t i, const nkv *kv, size_t n);
void cv_delete(cv *c, yaml_node_t *m, size_t i);
/* Replace the bytes of node n (a scalar or a flow collection on one line) with text. */
void cv_replace_node(cv *c, yaml_node_t *n, const char *text);
/* 1 when pair 0 of block mapping m starts its line (an insertion can go above it). */
int cv_first_key_starts_line(cv *c, yaml_node_t *m);
void cv_sort_edits(editv *e);
/* A block mapping or sequence with entries (its end mark is not where its text ends). */
int cv_is_block_coll(const yaml_node_t *n);
void cv_free_edits(editv *e);

/* apiextensions.k8s.io/v1beta1 -> v1 CustomResourceDefinition (convert_crd.c). */
void cv_fix_crd(cv *c, yaml_node_t *o);

/* Helm fallback for a chunk [a, b) that does not parse (convert_helm.c). */
int cv_template_chunk(cv *c, vet_convert_result *res, editv *all, size_t a, size_t b);
/* A copy of [a, b) that libyaml can read when the template text is only actions wrapping the
 * object ({{- if }} ... {{- end }} lines, masked as comments) and {{ }} inside values on
 * "key: value" / "- value" lines (masked as letters); same length, same offsets. NULL when the
 * template shapes the YAML itself (actions between keys, multi-line actions). Free it. */
unsigned char *cv_template_mask(cv *c, size_t a, size_t b);
/* 1 when node n's source text holds template text: its parsed value is a mask. */
int cv_templated(cv *c, yaml_node_t *n);
/* Column-0 `apiVersion:` lines in [a, b): more than one is a Helm if/else switch. */
size_t cv_count_api_lines(cv *c, size_t a, size_t b);

/* The old API's defaults that differ from the new one's, for a workload converted from `from`
 * (convert_rules.c). Used by both the YAML path and the template fallback. */
typedef struct {
    const char *key;   /* spec.<key> */
    const char *value; /* YAML text written, one line ("2147483647") */
} cv_default;
/* Fills out (up to 4) with the scalar spec fields whose old default differs; returns the count.
 * *strategy: the Deployment rolling-update defaults "maxUnavailable, maxSurge" (NULL when the
 * same); *update: the DaemonSet/StatefulSet updateStrategy type default (NULL when the same). */
size_t cv_workload_defaults(const char *from, const char *kind, cv_default *out,
                            const char **max_unavailable, const char **max_surge,
                            const char **update);
/* Shared with the fallback: add a result row. */
int cv_add_doc(vet_convert_result *res, vet_convert_doc **out);
/* The newest replacement served at the target for (api, kind), or NULL. *need: deprecated or
 * removed at the target; *removed: removed; *row: the catalog row, if any. */
const rule *cv_choose(cv *c, const char *api, const char *kind, int *need, int *removed,
                      const vet_api **row);
/* Fill d for an object that needs a person: no replacement served, or no rule. */
int cv_no_rule(cv *c, vet_convert_doc *d, const vet_api *row);
int cv_edit_push(editv *e, size_t off, size_t del, char *ins, size_t seq);

#endif
