#include "fault.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[VET_FAULT_NOPS] = {"write", "rename", "fsync"};
static atomic_long counts[VET_FAULT_NOPS];

/* The Nth operation of kind op that must fail, or 0. Parsed on every call: it is read only
 * when a file is written, and a test may change it between runs of one process. */
static long wanted(vet_fault_op op)
{
    const char *s = getenv("KUBEVET_FAULT");
    size_t nl = strlen(op_names[op]);
    while (s && *s) {
        if (!strncmp(s, op_names[op], nl) && s[nl] == ':')
            return strtol(s + nl + 1, NULL, 10);
        s = strchr(s, ',');
        s = s ? s + 1 : NULL;
    }
    return 0;
}

int vet_fault_hit(vet_fault_op op)
{
    long want;
    if (op >= VET_FAULT_NOPS || !getenv("KUBEVET_FAULT"))
        return 0;
    want = wanted(op);
    return want > 0 && atomic_fetch_add(&counts[op], 1) + 1 == want;
}
