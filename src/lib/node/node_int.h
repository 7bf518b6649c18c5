/* Internal to the node module. */
#ifndef KV_NODE_INT_H
#define KV_NODE_INT_H

#include "kubevet/node.h"

/* Move every certificate of pem into set (pem keeps NULLs). The first certificate gets the
 * first private key when `key` is NULL and the file holds one (cert+key files like
 * kubelet-client-current.pem); otherwise `key` (ownership taken) goes with it. */
int vet_certset_take(vet_certset *set, vet_pem *pem, const char *subject, const char *path,
                     const char *source, const char *role, const char *ca_role, vet_key *key,
                     const char *key_path);

/* chains.c: judge the chains of set->v[from..n) that are not CAs against the CAs of scope and
 * of set->v[0..n), and shed the X509 of each judged one (vet_certset_load_facts). */
int vet_node_chains_piece(const vet_node *scope, vet_certset *set, size_t from);

/* pods.c: the static pods under etc/kubernetes/manifests (apiserver flags, etcd identity, which
 * control-plane components this node runs). */
void vet_node_load_pods(vet_node *n);

#endif
