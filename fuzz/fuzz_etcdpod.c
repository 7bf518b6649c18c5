/* The etcd static pod (etc/kubernetes/manifests/etcd.yaml): flags from command/args, volumes,
 * URL lists and quotas, on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "kubevet/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_etcd_pod *p = NULL;
    if (vet_etcd_pod_parse(&p, data, size, "etcd.yaml") == 0)
        vet_etcd_pod_free(p);
    return 0;
}
