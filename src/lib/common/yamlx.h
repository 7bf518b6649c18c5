/* A thin layer over libyaml's document API for small configuration files (kubeconfigs,
 * static pod manifests, kubelet config, data files): load all documents, look keys up,
 * and report line numbers from the parser's marks. Internal to src/lib. */
#ifndef KV_YAMLX_H
#define KV_YAMLX_H

#include <stddef.h>
#include <yaml.h>

typedef struct vet_yaml vet_yaml;

/* Deepest nesting of collections any kubevet YAML or JSON reader accepts. Kubernetes refuses
 * documents nested deeper than 10000 (gopkg.in/yaml.v2 >= 2.2.8 max_flow_level and max_indents,
 * Go encoding/json maxNestingDepth); libyaml 0.2.5's scanner spends O(depth^2) on flow
 * nesting (10000 levels take about a second), so kubevet stops at 1000, which no manifest,
 * CRD schema or configuration file comes near (the deepest CRD schemas nest about 40). */
#define VET_YAML_MAX_DEPTH 1000
/* Nodes that aliases may add to one document beyond its own: a walker that follows aliases
 * ("billion laughs") stays linear in the input. */
#define VET_YAML_MAX_ALIAS_NODES 1000000

/* The one entry point to libyaml's document loading: a drop-in for yaml_parser_load() that
 * composes the next document from parser events and stops as soon as nesting passes
 * VET_YAML_MAX_DEPTH (the scanner reads ahead at most 1024 bytes, so the work stays linear).
 * An alias must name a complete node (no cycles), and aliases may add at most
 * VET_YAML_MAX_ALIAS_NODES nodes. Returns 1 (doc filled; no root node at the end of the
 * stream; free with yaml_document_delete) or 0 with p->problem and p->problem_mark set, like
 * libyaml's own errors. */
int vet_yaml_parser_load(yaml_parser_t *p, yaml_document_t *doc);
/* The same composer for one node in the middle of an event stream: `first` (a scalar, or the
 * start of a collection; the caller still deletes it) and the events up to that node's end
 * become a new document (doc; marks are the parser's, so lines count from the stream's start).
 * The parser is left after the node. An alias to an anchor outside the node is an error. Returns
 * 1, or 0 with p->problem set. */
int vet_yaml_compose_node(yaml_parser_t *p, yaml_event_t *first, yaml_document_t *doc);
/* 1 when vet_yaml_parser_load() failed on one of its bounds (depth, aliases), not on syntax:
 * such input is hostile or broken beyond what Kubernetes accepts, never a note-and-go-on. */
int vet_yaml_over_limit(const yaml_parser_t *p);

/* Parse every document. Errors: VET_EINPUT "name:line:col: problem". Caps depth and size. */
int vet_yaml_load(vet_yaml **out, const unsigned char *data, size_t len, const char *name);
void vet_yaml_free(vet_yaml *y);

size_t vet_yaml_ndocs(const vet_yaml *y);
/* Root node of document i, or NULL (empty document). */
yaml_node_t *vet_yaml_root(vet_yaml *y, size_t doc);
/* Value of key in a mapping node (NULL if absent or n is not a mapping). */
yaml_node_t *vet_yaml_get(vet_yaml *y, yaml_node_t *map, const char *key);
/* Follow a path of keys: vet_yaml_path(y, root, "spec", "template", "metadata", NULL). */
yaml_node_t *vet_yaml_path(vet_yaml *y, yaml_node_t *n, ...);
/* Scalar text (NUL-terminated by libyaml), or NULL if n is not a scalar. */
const char *vet_yaml_str(const yaml_node_t *n);
/* Sequence length / item; mapping size / key and value by index. */
size_t vet_yaml_len(const yaml_node_t *n);
yaml_node_t *vet_yaml_item(vet_yaml *y, yaml_node_t *seq, size_t i);
yaml_node_t *vet_yaml_key_at(vet_yaml *y, yaml_node_t *map, size_t i);
yaml_node_t *vet_yaml_value_at(vet_yaml *y, yaml_node_t *map, size_t i);
/* 1-based line of a node. */
size_t vet_yaml_line(const yaml_node_t *n);
/* 1 for true/True/TRUE/yes/on, 0 for false..., -1 when absent or not a boolean. */
int vet_yaml_bool(const yaml_node_t *n);

#endif
