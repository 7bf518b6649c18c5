/* A thin layer over libyaml's document API for small configuration files (kubeconfigs,
 * static pod manifests, kubelet config, data files): load all documents, look keys up,
 * and report line numbers from the parser's marks. Internal to src/lib. */
#ifndef KV_YAMLX_H
#define KV_YAMLX_H

#include <stddef.h>
#include <yaml.h>

typedef struct vet_yaml vet_yaml;

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
