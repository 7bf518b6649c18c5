/* Fuzz target: any bytes as an etcd snapshot / bbolt file. The walk, the trailer check and the
 * object listing must never crash, hang or read out of bounds, whatever the pages claim. */
#include <stddef.h>
#include <stdint.h>

#include "kubevet/snapshot.h"

static int count(const vet_snapshot_object *o, void *ud)
{
    size_t *n = ud;
    *n += o->value_size > 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_snapshot *s = NULL;
    vet_snapshot_info in;
    size_t n = 0, other = 0;
    int ok = 0;
    if (vet_snapshot_open_mem(&s, data, size, "fuzz"))
        return 0;
    (void)vet_snapshot_status(s, &in);
    (void)vet_snapshot_verify(s, &in, &ok);
    (void)vet_snapshot_objects(s, count, &n, &other);
    vet_snapshot_close(s);
    return 0;
}
