/* Internal to the manifest module: per-file results built by one worker thread, merged in input
 * order by scan.c. */
#ifndef KV_MANIFEST_SCAN_INT_H
#define KV_MANIFEST_SCAN_INT_H

#include <stddef.h>

#include "kubevet/catalog.h"
#include "kubevet/manifest.h"
#include "strv.h"

typedef struct mf_chunk {
    struct mf_chunk *next;
    size_t used, cap;
    char data[];
} mf_chunk;

/* What one file produced. Strings of objs live in `arena`; obj.file points at `path`. */
typedef struct {
    char *path;
    size_t seq;
    vet_manifest_obj *objs;
    size_t n, cap;
    vet_strv errors, notes;
    mf_chunk *arena;
    vet_manifest_stats st;
    int oom;
    int explicit_arg; /* named on the command line: a skip is an error, not a note */
} mf_file;

typedef struct {
    const char *p;
    size_t n;
} mf_span;

#define MF_MAX_ALTS 8

/* Facts about one object, before they are copied into an mf_file. */
typedef struct {
    mf_span av, kind, name, ns, list_kind;
    unsigned line, sel_line;
    vet_mf_source source;
    vet_sel_state sel;
    char detail[256];
    mf_span alts[MF_MAX_ALTS]; /* apiVersion alternatives of a template switch */
    unsigned nalts;
    char invalid[256]; /* what the apiVersion rejects (see vet_manifest_obj.invalid_detail) */
    unsigned invalid_line;
} mf_facts;

/* Label pairs (matchLabels, template labels) for the selector rule. */
#define MF_MAX_LABELS 256
typedef struct {
    mf_span k[MF_MAX_LABELS], v[MF_MAX_LABELS];
    size_t n;
} mf_labels;

/* One YAML document as the pre-scan saw it (scan_doc.c). */
typedef struct {
    const unsigned char *start, *end; /* bytes of the document (from its "---" line, if any) */
    unsigned line0;                   /* line number of `start` */
    mf_span av, kind;
    unsigned av_line, kind_line;
    int content;               /* any line that is not blank, a comment or a directive */
    int odd;                   /* something the extractor does not model at top level */
    int dup;                   /* apiVersion or kind twice */
    mf_span alts[MF_MAX_ALTS]; /* every apiVersion line's value (template switches) */
    unsigned nalts;
} mf_doc;

/* What the line extractor read from a document (scan_extract.c). */
typedef struct {
    mf_span name, ns;
    int spec, sel_present, sel_null, sel_block, sel_children, ml_present, labels_present;
    int spec_tmpl, sel_tmpl, tmpl, label_tmpl;
    unsigned spec_line, sel_line;
    mf_labels ml, labels;
} xfacts;

/* Length of the line at p (without its line break, and a CR before it); *next gets the next
 * line's start. */
size_t mf_line_end(const unsigned char *p, const unsigned char *e, const unsigned char **next);
/* A scalar value after "key:" (v[0..n)), plain or simply quoted. 0 ok, -1 not modelled. */
int mf_scalar_value(const unsigned char *v, size_t n, mf_span *out);
/* The document holds Helm template text ("{{"). */
int mf_has_template(const mf_doc *d);
/* The line extractor. 0: x filled; -1: not modelled, use libyaml. */
int mf_extract(const mf_doc *d, xfacts *x);
/* The selector rule when values may be template text (x's matchLabels are narrowed). */
vet_sel_state mf_match_templated(xfacts *x, char *detail, size_t dsize);
/* s holds exactly lit. */
int mf_span_eq(mf_span s, const char *lit);

/* Scan one file's bytes (BOM, CRLF handled). */
void mf_scan_data(mf_file *f, const vet_manifest_opts *o, const unsigned char *data, size_t len);

/* A copy of s in f's arena (NULL for a NULL span, or out of memory: f->oom). */
const char *mf_span_dup(mf_file *f, mf_span s);
/* Add an object / a message to f (copies). */
void mf_emit(mf_file *f, const vet_manifest_opts *o, const mf_facts *x);
void mf_error(mf_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mf_note(mf_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mf_file_free(mf_file *f);

/* Workload kinds whose selector the apps/v1 rule concerns. */
int mf_is_workload(mf_span av, mf_span kind);
/* Kinds whose fields the scan checks against their own apiVersion (Ingress v1, CRD v1). */
int mf_needs_fields(mf_span av, mf_span kind);
/* Check obj (a yaml_node_t of doc, the libyaml tree) for mf_needs_fields kinds; fills fx->invalid.
 */
struct yaml_document_s;
struct yaml_node_s;
void mf_fields_check(struct yaml_document_s *doc, struct yaml_node_s *obj, unsigned line0,
                     mf_facts *fx);
/* Value (and key) of `key` in a mapping of doc; the last duplicate wins, like a JSON decoder. */
struct yaml_node_s *mf_map_get(struct yaml_document_s *doc, const struct yaml_node_s *map,
                               const char *key, struct yaml_node_s **keynode);
/* The same check on template text (libyaml cannot read it): Ingress v1 by lines, CRD v1 on the
 * text with its directives neutralized. */
void mf_template_fields(const unsigned char *p, size_t n, unsigned line0, mf_facts *fx);
/* kind == "List" or ends in "List". */
int mf_is_list(mf_span kind);

/* matchLabels subset rule; returns VET_SEL_OK or VET_SEL_MISMATCH (detail filled). */
vet_sel_state mf_match_labels(const mf_labels *sel, const mf_labels *labels, int have_labels,
                              char *detail, size_t dsize);

/* libyaml path for doc bytes [p, p+n) starting at 1-based line `line0`. Returns 0 when parsed
 * (objects emitted), else -1 with a message in err ("line:col: problem"), -2 when the
 * document is over a bound of vet_yaml_parser_load (nesting, aliases). */
int mf_yaml_doc(mf_file *f, const vet_manifest_opts *o, const unsigned char *p, size_t n,
                unsigned line0, vet_mf_source src, char *err, size_t errsize);

/* One item of a List, composed on its own (doc; marks count from line0): its object and the
 * objects of nested Lists, with the enclosing List's apiVersion/kind for typed-list items (both
 * NULL when not known yet: the item's object then has no list_kind). */
struct yaml_document_s;
void mf_yaml_tree_item(mf_file *f, const vet_manifest_opts *o, struct yaml_document_s *doc,
                       unsigned line0, vet_mf_source src, mf_span list_av, mf_span list_kind);

/* Large documents: a List read item by item from libyaml's event stream in one pass, so memory
 * follows the largest item, not the document. 0 handled; 1 not a List or not modelled (nothing
 * added: use mf_yaml_doc); -1 invalid YAML (message in err). */
#define MF_STREAM_MIN (1u << 20)
int mf_stream_doc(mf_file *f, const vet_manifest_opts *o, const unsigned char *p, size_t n,
                  unsigned line0, vet_mf_source src, char *err, size_t errsize);

#endif
