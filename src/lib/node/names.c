/* How `kubeadm certs check-expiration` names the node's certificates, for inventories. */
#include <string.h>

#include "kubevet/node.h"

const char *vet_node_cert_name(const vet_cert_entry *e)
{
    static const char *const kubeconfigs[] = {
        "admin.conf",     "super-admin.conf", "controller-manager.conf",
        "scheduler.conf", "kubelet.conf",     "bootstrap-kubelet.conf"};
    if (!strncmp(e->source, "kubeconfig:", 11) &&
        !strncmp(e->subject, "kubeconfig etc/kubernetes/", 26)) {
        const char *file = e->subject + 26;
        for (size_t i = 0; i < sizeof kubeconfigs / sizeof kubeconfigs[0]; i++) {
            size_t l = strlen(kubeconfigs[i]);
            if (!strncmp(file, kubeconfigs[i], l) && file[l] == ' ')
                return kubeconfigs[i];
        }
    }
    if (e->role && strcmp(e->role, "kubeconfig-client"))
        return e->role; /* kubeadm's names: apiserver, etcd-server, front-proxy-ca, ... */
    return NULL;
}

const char *vet_node_cert_ca_name(const vet_node *n, const vet_cert_entry *e)
{
    const vet_cert_entry *ca = e->ca_role ? vet_node_role(n, e->ca_role) : e->chain_ca;
    if (e->ca_role)
        return e->ca_role;
    if (ca && ca->role)
        return ca->role;
    return NULL;
}

int vet_node_cert_external(const vet_node *n, const vet_cert_entry *e)
{
    const vet_cert_entry *ca;
    if (!n || !e->ca_role || !(ca = vet_node_role(n, e->ca_role)))
        return 0;
    return ca->key == NULL;
}
