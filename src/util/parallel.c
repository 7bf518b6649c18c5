#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* The workers live as long as the process once started. A command runs several short parallel
 * phases in a row (load the node, sign, verify the chains), and on the 2-core test machine a
 * thread made for each phase often began its work milliseconds late (up to 3 ms, measured while
 * its creator computed), where a worker asleep on a condition variable woke in 40-150 us. */

#define MAX_THREADS 16

typedef struct {
    void (*fn)(size_t, void *);
    void *arg;
    size_t n;
    atomic_size_t next;
    unsigned want;   /* workers that may join besides the caller */
    unsigned joined; /* under mu */
    unsigned done;   /* under mu */
} job;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static job *cur;          /* the job workers may join; NULL once its caller stops waiting for joins */
static unsigned long gen; /* one more per job, so a worker joins each job at most once */
static unsigned nworkers;
static int busy; /* a call is running: a nested or concurrent one runs inline */

static void run(job *j)
{
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;)
        j->fn(i, j->arg);
}

static void *worker(void *unused)
{
    unsigned long seen = 0;
    (void)unused;
    pthread_mutex_lock(&mu);
    for (;;) {
        job *j;
        while (!cur || gen == seen)
            pthread_cond_wait(&work_cv, &mu);
        seen = gen;
        j = cur;
        if (j->joined >= j->want)
            continue;
        j->joined++;
        pthread_mutex_unlock(&mu);
        run(j);
        pthread_mutex_lock(&mu);
        if (++j->done == j->joined)
            pthread_cond_signal(&done_cv);
    }
    return NULL;
}

static unsigned threads_for(unsigned threads)
{
    if (threads == 0) {
        /* KUBEVET_THREADS caps the pool (benchmarks, or a node where kubevet must stay small). */
        const char *env = getenv("KUBEVET_THREADS");
        long c = env && atoi(env) > 0 ? atoi(env) : sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    return threads > MAX_THREADS ? MAX_THREADS : threads;
}

/* Under mu: make workers up to want (fewer if the system refuses threads). */
static void grow(unsigned want)
{
    pthread_attr_t a;
    if (pthread_attr_init(&a) != 0)
        return;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    while (nworkers < want) {
        pthread_t t;
        if (pthread_create(&t, &a, worker, NULL) != 0)
            break;
        nworkers++;
    }
    pthread_attr_destroy(&a);
}

void vet_parallel_for(size_t n, unsigned threads, void (*fn)(size_t i, void *arg), void *arg)
{
    job j = {fn, arg, n, 0, 0, 0, 0};
    threads = threads_for(threads);
    if (threads > n)
        threads = (unsigned)n;
    if (threads > 1) {
        pthread_mutex_lock(&mu);
        if (busy) {
            threads = 1; /* called from a worker, or from another thread meanwhile */
        } else {
            busy = 1;
            grow(threads - 1);
            j.want = threads - 1 < nworkers ? threads - 1 : nworkers;
            cur = &j;
            gen++;
            pthread_cond_broadcast(&work_cv);
        }
        pthread_mutex_unlock(&mu);
    }
    /* The calling thread is one of the workers. */
    run(&j);
    if (threads <= 1)
        return;
    pthread_mutex_lock(&mu);
    cur = NULL; /* no more joins: j lives on this stack */
    while (j.done < j.joined)
        pthread_cond_wait(&done_cv, &mu);
    busy = 0;
    pthread_mutex_unlock(&mu);
}
