/* Internal to src/lib/upgrade. */
#ifndef KV_UPGRADE_INT_H
#define KV_UPGRADE_INT_H

#include "kubevet/upgrade.h"

/* Copy f into dst unless dst already has its id + subject. */
int vet_upgrade_copy_finding(vet_report *dst, const vet_finding *f);
/* The runbook of hop h (index i of n), appended to h->steps. */
int vet_upgrade_steps(vet_upgrade_hop *h, const vet_upgrade_opts *o, const vet_release *from,
                      const vet_release *to, size_t i, size_t n);

#endif
