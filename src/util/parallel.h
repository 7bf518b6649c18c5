/* A minimal parallel-for over the machine's cores (pthreads). The node has 2 cores and the
 * work (parsing keys, verifying chains) is CPU-bound and independent per item. */
#ifndef VET_UTIL_PARALLEL_H
#define VET_UTIL_PARALLEL_H

#include <stddef.h>

/* Run fn(i, arg) for every i in [0, n), on up to `threads` threads (0 = online cores).
 * Items are handed out one at a time from a shared counter, so uneven items balance out.
 * Runs inline when n is small or only one core is present. */
void vet_parallel_for(size_t n, unsigned threads, void (*fn)(size_t i, void *arg), void *arg);

#endif
