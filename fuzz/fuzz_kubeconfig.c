/* Kubeconfig + the PEM inside it: what `certs` does with an untrusted kubeconfig. */
#include <stdint.h>
#include <stdlib.h>

#include "kubevet/kubeconfig.h"
#include "kubevet/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_kubeconfig *kc = NULL;
    if (vet_kubeconfig_parse(&kc, data, size, "fuzz") == 0) {
        for (size_t i = 0; i < kc->nusers; i++) {
            vet_pem p = {0};
            if (kc->users[i].cert.data)
                vet_pki_parse(&p, kc->users[i].cert.data, kc->users[i].cert.len, "fuzz");
            vet_pem_clear(&p);
        }
        for (size_t i = 0; i < kc->nclusters; i++) {
            vet_pem p = {0};
            if (kc->clusters[i].ca.data)
                vet_pki_parse(&p, kc->clusters[i].ca.data, kc->clusters[i].ca.len, "fuzz");
            vet_pem_clear(&p);
        }
        vet_kubeconfig_context(kc, NULL);
        vet_kubeconfig_free(kc);
    }
    return 0;
}
