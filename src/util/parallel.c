#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    atomic_size_t next;
    size_t n;
    void (*fn)(size_t, void *);
    void *arg;
} job;

static void *worker(void *p)
{
    job *j = p;
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;)
        j->fn(i, j->arg);
    return NULL;
}

void vet_parallel_for(size_t n, unsigned threads, void (*fn)(size_t i, void *arg), void *arg)
{
    pthread_t tid[16];
    unsigned started = 0;
    job j;
    if (threads == 0) {
        /* KUBEVET_THREADS caps the pool (benchmarks, or a node where kubevet must stay small). */
        const char *env = getenv("KUBEVET_THREADS");
        long c = env && atoi(env) > 0 ? atoi(env) : sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    if (threads > 16)
        threads = 16;
    if (threads > n)
        threads = (unsigned)n;
    atomic_init(&j.next, 0);
    j.n = n;
    j.fn = fn;
    j.arg = arg;
    /* The calling thread is one of the workers; start the others. */
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tid[started], NULL, worker, &j) == 0)
            started++;
    worker(&j);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}
