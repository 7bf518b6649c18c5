/* Fix text for the node PKI, picked from this node's state (internal to the check module).
 * Every fix is pasteable: this node's values filled in, or <placeholder> with a note saying what
 * goes there; command lines start with two spaces so the text renderer never wraps them. */
#ifndef KV_ADVICE_H
#define KV_ADVICE_H

#include "buf.h"
#include "kubevet/check.h"
#include "kubevet/node.h"

/* kubeadm's name for the certificate of e ("apiserver", "etcd-server", "admin.conf") or NULL. */
const char *vet_advice_kubeadm_name(const vet_cert_entry *e);
/* Static pods that must restart to use e's renewed certificate ("kube-apiserver etcd"), or NULL. */
const char *vet_advice_pods(const vet_cert_entry *e);
/* 1 when the key of the CA that signs e (ca.key, etcd/ca.key, front-proxy-ca.key) is absent from
 * this node: kubeadm cannot sign (external CA mode, or a node the key was never copied to). */
int vet_advice_ca_key_missing(const vet_ctx *ctx, const vet_cert_entry *e);
/* Minor version of the Kubernetes this node runs (its kube-apiserver image), 0 when unknown:
 * kubeadm's commands changed names over the versions kubevet supports. */
int vet_advice_minor(const vet_ctx *ctx);
/* The kubeadm config API version that node's kubeadm reads ("kubeadm.k8s.io/v1beta3"). */
const char *vet_advice_kubeadm_api(const vet_ctx *ctx);
/* This node's name, or "<node-name>" (the note says so). */
const char *vet_advice_node_name(const vet_ctx *ctx);

/* Append how to renew e on this node: kubeadm certs renew + the static pods to restart, a CSR for
 * the holder of the CA key when it is not here, the kubelet's own rotation or re-bootstrap, or a
 * generic re-issue for certificates outside kubeadm's layout. */
int vet_advice_renew(vet_buf *out, const vet_ctx *ctx, const vet_cert_entry *e);
/* Append how to give the kubelet of this node a new client credential (expired, foreign CA, copied
 * from another node, or missing): kubeadm on a control-plane node with ca.key, else a bootstrap
 * token. */
int vet_advice_kubelet_rebootstrap(vet_buf *out, const vet_ctx *ctx);
/* Set f's fix to `prefix` (may be NULL) followed by vet_advice_renew. */
int vet_advice_fix(vet_finding *f, const vet_ctx *ctx, const vet_cert_entry *e, const char *prefix);
/* Append the command line restarting the static pods in `pods` (space-separated). */
int vet_advice_restart(vet_buf *out, const char *pods);

#endif
