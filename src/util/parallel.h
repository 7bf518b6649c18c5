/* A minimal parallel-for over the machine's cores (pthreads). The node has 2 cores and the
 * work (parsing keys, verifying chains, signing) is CPU-bound and independent per item. */
#ifndef VET_UTIL_PARALLEL_H
#define VET_UTIL_PARALLEL_H

#include <stddef.h>

/* Run fn(i, arg) for every i in [0, n), on up to `threads` threads (0 = online cores, capped by
 * KUBEVET_THREADS). Items are handed out one at a time from a shared counter, so uneven items
 * balance out. The caller is one of the threads; the others are workers kept for the process's
 * life. Runs inline when n is 1, on one core, and when called from inside another call. */
void vet_parallel_for(size_t n, unsigned threads, void (*fn)(size_t i, void *arg), void *arg);

#endif
