/* kubevet serve: the schedule and the HTTP side (libmicrohttpd).
 *
 * One thread (the caller's) runs the checks and waits for signals; libmicrohttpd's threads
 * answer scrapes. They meet at one mutex guarding two immutable, reference-counted blobs (the
 * metric text and the report JSON): a scrape takes a reference and hands the bytes to
 * libmicrohttpd without copying, so 50 concurrent scrapers of a 2 MB exposition cost no more
 * memory than one, and a run that replaces the blobs never waits for a slow scraper. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "kubevet/serve.h"
#include "mhd_dl.h"
#include "vtime.h"

typedef struct blob {
    atomic_int refs;
    size_t len;
    char *data; /* owned, malloc'd */
} blob;

/* A blob owning data (taken also on failure): the metric text is published without a copy. */
static blob *blob_take(char *data, size_t len)
{
    blob *b = data ? malloc(sizeof *b) : NULL;
    if (!b) {
        free(data);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = data;
    return b;
}

static void blob_unref(void *p)
{
    blob *b = p;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b->data);
        free(b);
    }
}

/* The report is kept gzip-compressed (a 10,000-certificate inventory is 5 MB of JSON, 10x less
 * compressed): clients that accept gzip (browsers, curl --compressed) get it as is, the others
 * an inflated copy. It is compressed as it is written (vet_serve_report), so the JSON text never
 * exists whole. */
typedef struct {
    z_stream z;
    vet_buf out;
    int failed;
} gz;

static int gz_put(const char *data, size_t len, void *arg)
{
    gz *g = arg;
    int zr = Z_OK, flush = data ? Z_NO_FLUSH : Z_FINISH;
    g->z.next_in = (Bytef *)data;
    g->z.avail_in = (uInt)len;
    do {
        if (g->out.size + 16384 > g->out.asize && vet_buf_grow(&g->out, 65536))
            return g->failed = VET_ENOMEM;
        g->z.next_out = (Bytef *)g->out.ptr + g->out.size;
        g->z.avail_out = (uInt)(g->out.asize - g->out.size - 1);
        zr = deflate(&g->z, flush);
        g->out.size = g->out.asize - 1 - g->z.avail_out;
        if (zr == Z_STREAM_ERROR)
            return g->failed = VET_ENOMEM;
    } while (g->z.avail_in || (flush == Z_FINISH ? zr != Z_STREAM_END : g->z.avail_out == 0));
    return 0;
}

static blob *report_gzip(const vet_serve_run *run)
{
    gz g;
    blob *b = NULL;
    memset(&g, 0, sizeof g);
    if (deflateInit2(&g.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    if (!vet_serve_report(run, gz_put, &g) && !gz_put(NULL, 0, &g)) {
        size_t len = g.out.size;
        b = blob_take(vet_buf_detach(&g.out), len);
    }
    deflateEnd(&g.z);
    vet_buf_free(&g.out);
    return b;
}

static char *gunzip(const blob *b, size_t *out_len)
{
    z_stream z;
    char *out = NULL;
    size_t cap = b->len * 8 + 4096, used = 0;
    int zr = Z_OK;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return NULL;
    z.next_in = (Bytef *)b->data;
    z.avail_in = (uInt)b->len;
    while (zr == Z_OK) {
        char *t = realloc(out, cap);
        if (!t) {
            zr = Z_MEM_ERROR;
            break;
        }
        out = t;
        z.next_out = (Bytef *)out + used;
        z.avail_out = (uInt)(cap - used);
        zr = inflate(&z, Z_NO_FLUSH);
        used = z.total_out;
        cap *= 2;
    }
    inflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *out_len = used;
    return out;
}

typedef struct {
    pthread_mutex_t mu;
    blob *metrics, *report;
    pthread_t runner;
    double last_start; /* monotonic seconds of the last run's start; 0 before the first */
    int64_t min_gap;
    int running;
    unsigned long runs, failures;
} state;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype, blob *b,
                             const char *text)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (b)
        r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, blob_unref, b);
    else /* gcc -O3 cannot see that every caller passes b or text */
        r = MHD_create_response_from_buffer(text ? strlen(text) : 0, (void *)text,
                                            MHD_RESPMEM_PERSISTENT);
    if (!r) {
        blob_unref(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_TOO_MANY_REQUESTS)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "10");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static blob *take(state *s, blob **slot)
{
    blob *b;
    pthread_mutex_lock(&s->mu);
    if ((b = *slot))
        atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return b;
}

/* POST /run: an on-demand run, at most one per min_gap seconds (a scraper stuck in a loop must
 * not turn kubevet into a load generator against etcd and the API server). */
static enum MHD_Result trigger(state *s, struct MHD_Connection *c)
{
    int ok;
    pthread_mutex_lock(&s->mu);
    ok = !s->running && (s->last_start == 0 || mono() - s->last_start >= (double)s->min_gap);
    if (ok)
        s->running = 1; /* the runner clears it when the run ends */
    pthread_mutex_unlock(&s->mu);
    if (!ok)
        return reply(c, MHD_HTTP_TOO_MANY_REQUESTS, "text/plain", NULL,
                     "a run is under way or ran recently; try again later\n");
    pthread_kill(s->runner, SIGUSR1);
    return reply(c, MHD_HTTP_ACCEPTED, "text/plain", NULL, "run started\n");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int marker;
    state *s = cls;
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    (void)version;
    (void)upload;
    if (!strcmp(method, "POST") && !strcmp(url, "/run")) {
        /* libmicrohttpd calls again for each body chunk and once more at its end */
        if (!*con_cls) {
            *con_cls = &marker;
            return MHD_YES;
        }
        if (*upload_size) {
            *upload_size = 0;
            return MHD_YES;
        }
        return trigger(s, c);
    }
    if (!get)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", NULL, "method not allowed\n");
    if (!strcmp(url, "/metrics")) {
        blob *b = take(s, &s->metrics);
        if (!b)
            return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", NULL,
                         "the first run has not finished yet\n");
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b, NULL);
    }
    if (!strcmp(url, "/report")) {
        blob *b = take(s, &s->report);
        const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
        struct MHD_Response *r;
        enum MHD_Result ret;
        char *plain;
        size_t n = 0;
        if (!b)
            return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", NULL,
                         "the first run has not finished yet\n");
        if (ae && strstr(ae, "gzip")) {
            r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, blob_unref,
                                                                       b);
            if (!r) {
                blob_unref(b);
                return MHD_NO;
            }
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
        } else {
            plain = gunzip(b, &n);
            blob_unref(b);
            if (!plain)
                return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", NULL,
                             "out of memory\n");
            r = MHD_create_response_from_buffer(n, plain, MHD_RESPMEM_MUST_FREE);
            if (!r) {
                free(plain);
                return MHD_NO;
            }
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/healthz"))
        return reply(c, MHD_HTTP_OK, "text/plain", NULL, "ok\n");
    if (!strcmp(url, "/"))
        return reply(c, MHD_HTTP_OK, "text/html", NULL,
                     "<html><body><h1>kubevet</h1><p><a href=\"/metrics\">/metrics</a> "
                     "<a href=\"/report\">/report</a> <a href=\"/healthz\">/healthz</a></p>"
                     "</body></html>\n");
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", NULL, "not found\n");
}

static int parse_listen(struct sockaddr_storage *ss, socklen_t *sl, const char *listen)
{
    char host[256];
    const char *colon = strrchr(listen, ':'), *h = listen, *port;
    size_t hl;
    struct addrinfo hints, *res = NULL;
    int rc;
    if (!colon || !colon[1])
        return vet_error_set(VET_EUSAGE, "--listen %s: want ADDR:PORT, [IPv6]:PORT or :PORT",
                             listen);
    port = colon + 1;
    hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return vet_error_set(VET_EUSAGE, "--listen %s: address too long", listen);
    memcpy(host, h, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(hl ? host : NULL, port, &hints, &res)) || !res)
        return vet_error_set(VET_EUSAGE, "--listen %s: %s", listen,
                             rc ? gai_strerror(rc) : "no address");
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void publish(state *s, blob *metrics, blob *report)
{
    blob *om, *orp;
    pthread_mutex_lock(&s->mu);
    om = metrics ? s->metrics : NULL;
    orp = report ? s->report : NULL;
    if (metrics)
        s->metrics = metrics;
    if (report)
        s->report = report;
    pthread_mutex_unlock(&s->mu);
    blob_unref(om);
    blob_unref(orp);
}

/* One run: gather and check through the callback, render, publish. The blocks of sources that
 * failed stay as they were (vet_serve_render); a run that judged nothing publishes only
 * source_up 0 and its time, over the last good series. */
static void run_once(state *s, const vet_serve_opts *o, vet_serve_blocks *blocks)
{
    vet_serve_run run;
    char *text = NULL;
    size_t len = 0;
    blob *m = NULL, *rep = NULL;
    double t0 = mono();
    int rc;
    pthread_mutex_lock(&s->mu);
    s->running = 1;
    s->last_start = t0;
    pthread_mutex_unlock(&s->mu);
    memset(&run, 0, sizeof run);
    rc = o->run(&run, o->arg);
    run.finished = (int64_t)time(NULL);
    run.duration = mono() - t0;
    if (rc) {
        fprintf(stderr, "kubevet: serve: run failed, keeping the last metrics: %s\n",
                vet_error_last());
        memset(run.up, 0, sizeof run.up);
        run.report = NULL;
        s->failures++;
    } else if ((rc = vet_serve_render(blocks, &run))) {
        fprintf(stderr, "kubevet: serve: %s\n", vet_error_last());
        s->failures++;
    } else if (run.report && !(rep = report_gzip(&run))) {
        fprintf(stderr, "kubevet: serve: %s\n", vet_error_last());
    }
    if (!vet_serve_expose(&text, &len, blocks, &run))
        m = blob_take(text, len);
    publish(s, m, rep);
    s->runs++;
    fprintf(stderr,
            "kubevet: serve: run %lu in %.3fs: %zu findings; sources node=%d api=%d etcd=%d\n",
            s->runs, run.duration, run.report ? run.report->nfindings : (size_t)0,
            run.up[VET_SERVE_NODE], run.up[VET_SERVE_API], run.up[VET_SERVE_ETCD]);
    if (o->done)
        o->done(&run, o->arg);
    pthread_mutex_lock(&s->mu);
    s->running = 0;
    pthread_mutex_unlock(&s->mu);
    /* The run parsed every certificate; give those pages back so the resident size between runs
     * is the facts kept, not the high-water mark of the last parse. */
    malloc_trim(0);
}

int vet_serve_main(const vet_serve_opts *o)
{
    state s;
    vet_serve_blocks blocks;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    const union MHD_DaemonInfo *info;
    char addr[INET6_ADDRSTRLEN] = "?";
    double next;
    int rc;
    memset(&s, 0, sizeof s);
    memset(&blocks, 0, sizeof blocks);
    if ((rc = parse_listen(&ss, &sl, o->listen)))
        return rc;
    /* A fixed mmap threshold (glibc raises it after each large free otherwise) puts every large
     * buffer of a run (metric text, report JSON, certificate lists) in its own mapping, returned
     * to the kernel when freed; two arenas keep the parsing threads' leftovers few. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_ARENA_MAX, 2);
    pthread_mutex_init(&s.mu, NULL);
    s.runner = pthread_self();
    s.min_gap = o->min_gap;
    /* Blocked before libmicrohttpd starts its threads, so they inherit the mask and every one of
     * these signals comes to sigtimedwait below. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
        handle, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, 2U,
        MHD_OPTION_CONNECTION_LIMIT, 512U, MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_END);
    if (!d) {
        rc = vet_mhd()->loaded
                 ? vet_error_set(VET_EINPUT,
                                 "--listen %s: cannot listen there (in use, or not an "
                                 "address of this host?)",
                                 o->listen)
                 : vet_error_set(VET_EIO, "cannot load libmicrohttpd.so.12 (Debian: apt-get "
                                          "install libmicrohttpd12)");
        goto done;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
    fprintf(stderr, "kubevet: serve: listening on %s%s%s:%u, a run every %llds\n",
            ss.ss_family == AF_INET6 ? "[" : "", addr, ss.ss_family == AF_INET6 ? "]" : "",
            info ? info->port : 0, (long long)o->interval);
    next = mono();
    for (;;) {
        struct timespec ts;
        double wait = next - mono();
        int sig;
        if (wait <= 0) {
            run_once(&s, o, &blocks);
            next = mono() + (double)o->interval;
            continue;
        }
        ts.tv_sec = (time_t)wait;
        ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            fprintf(stderr, "kubevet: serve: %s, stopping\n",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (sig == SIGHUP) {
            fprintf(stderr, "kubevet: serve: SIGHUP, re-reading the configuration\n");
            if (o->reload && o->reload(o->arg))
                fprintf(stderr, "kubevet: serve: keeping the old configuration: %s\n",
                        vet_error_last());
            next = 0;
        } else if (sig == SIGUSR1) {
            next = 0;
        }
    }
    rc = 0;
done:
    if (d)
        MHD_stop_daemon(d);
    blob_unref(s.metrics);
    blob_unref(s.report);
    vet_serve_blocks_clear(&blocks);
    pthread_mutex_destroy(&s.mu);
    return rc;
}
