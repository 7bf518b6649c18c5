/* Inputs of the manifest scan: files, folders (walked in name order), stdin. The walking thread
 * numbers every file it queues; worker threads mmap and scan one file at a time, so memory is
 * bounded by the largest file (times the number of workers), never by the tree. Results are
 * merged by that number, so output does not depend on thread timing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "scan_int.h"

#define QCAP 256
#define DEFAULT_CAP (64u << 20)
#define MAX_DIR_DEPTH 64

typedef struct {
    char *path;
    size_t seq;
    int explicit_arg;
} qitem;

struct vet_manifest_scan {
    vet_manifest_opts o;
    /* merged results */
    mf_file *files;
    size_t nfiles, capfiles;
    int sorted;
    vet_manifest_obj **objs; /* flattened view, built on first access */
    size_t nobjs;
    vet_strv errors, notes; /* flattened */
    vet_manifest_stats st;
    size_t next_seq;
    int oom;
    /* work queue */
    pthread_mutex_t mu;
    pthread_cond_t can_put, can_get;
    qitem q[QCAP];
    size_t qhead, qlen;
    int closed;
};

int vet_manifest_scan_new(vet_manifest_scan **out, const vet_manifest_opts *opts)
{
    vet_manifest_scan *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (opts)
        s->o = *opts;
    if (s->o.threads <= 0) {
        /* KUBEVET_THREADS caps every pool (util/parallel.c); else one worker per online core */
        const char *env = getenv("KUBEVET_THREADS");
        long c = env && atoi(env) > 0 ? atoi(env) : sysconf(_SC_NPROCESSORS_ONLN);
        s->o.threads = c > 0 ? (int)(c < 64 ? c : 64) : 2;
    }
    if (s->o.threads > 64)
        s->o.threads = 64;
    if (!s->o.max_size)
        s->o.max_size = DEFAULT_CAP;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->can_put, NULL);
    pthread_cond_init(&s->can_get, NULL);
    *out = s;
    return 0;
}

void vet_manifest_scan_free(vet_manifest_scan *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++)
        mf_file_free(&s->files[i]);
    free(s->files);
    free(s->objs);
    /* flattened strv entries are borrowed from the files: free only the arrays */
    free(s->errors.v);
    free(s->notes.v);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->can_put);
    pthread_cond_destroy(&s->can_get);
    free(s);
}

/* Keep a file's result if it has anything to say; called with s->mu held. */
static void merge(vet_manifest_scan *s, mf_file *f)
{
    s->st.files += f->st.files;
    s->st.skipped += f->st.skipped;
    s->st.bytes += f->st.bytes;
    s->st.documents += f->st.documents;
    s->st.parsed += f->st.parsed;
    s->st.extracted += f->st.extracted;
    s->st.templates += f->st.templates;
    s->st.yaml_bytes += f->st.yaml_bytes;
    if (f->oom)
        s->oom = 1;
    if (!f->n && !f->errors.n && !f->notes.n) {
        mf_file_free(f);
        return;
    }
    if (s->nfiles == s->capfiles) {
        size_t cap = s->capfiles ? s->capfiles * 2 : 64;
        mf_file *nf = realloc(s->files, cap * sizeof *nf);
        if (!nf) {
            s->oom = 1;
            mf_file_free(f);
            return;
        }
        s->files = nf;
        s->capfiles = cap;
    }
    s->files[s->nfiles++] = *f;
    s->sorted = 0;
}

static int has_manifest_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot &&
           (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml") || !strcasecmp(dot, ".json"));
}

/* Small files are read into the worker's own buffer (reused, so it grows to the largest file it
 * met); only large ones are mapped. munmap in a multi-threaded process flushes the TLB of every
 * core running it: with ~10^5 small files that cost more than the scan itself. */
#define MMAP_MIN (16u << 20)

/* A file met while walking a folder and skipped is a note; a file the user named is an input
 * error (exit 3): a scan that silently read nothing of it would look clean. */
static void skipped(mf_file *f, const char *why)
{
    if (f->explicit_arg)
        mf_error(f, "%s: not scanned: %s", f->path, why);
    else
        mf_note(f, "%s: skipped: %s", f->path, why);
    f->st.skipped++;
}

/* Helm chart values (values*.yaml beside Chart.yaml, and the chart's ci/ values) are inputs to
 * templates: a top-level apiVersion/kind there is a chart setting, not an object. */
static int is_chart_values(const char *path)
{
    const char *base = strrchr(path, '/'), *dot;
    char *dir;
    size_t dlen;
    struct stat st;
    int found, in_ci;
    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    if (strncmp(base, "values", 6) || !dot || (strcasecmp(dot, ".yaml") && strcasecmp(dot, ".yml")))
        return 0;
    dlen = (size_t)(base - path);
    if (!(dir = malloc(dlen + sizeof "../Chart.yaml")))
        return 0;
    in_ci = (dlen >= 4 && !memcmp(path + dlen - 4, "/ci/", 4)) ||
            (dlen == 3 && !memcmp(path, "ci/", 3));
    memcpy(dir, path, dlen);
    strcpy(dir + dlen, "Chart.yaml");
    found = !stat(dir, &st) && S_ISREG(st.st_mode);
    if (!found && in_ci) {
        strcpy(dir + dlen, "../Chart.yaml");
        found = !stat(dir, &st) && S_ISREG(st.st_mode);
    }
    free(dir);
    return found;
}

static void scan_bytes(mf_file *f, const vet_manifest_opts *o, const unsigned char *data,
                       size_t len)
{
    f->st.bytes += len;
    if (memchr(data, 0, len < 8192 ? len : 8192)) {
        skipped(f, "binary file");
        return;
    }
    mf_scan_data(f, o, data, len);
}

static void scan_fd(mf_file *f, const vet_manifest_opts *o, int fd, const struct stat *st,
                    vet_buf *buf)
{
    size_t len = (size_t)st->st_size;
    unsigned char *data;
    ssize_t r;
    if (!len)
        return;
    if (len >= MMAP_MIN) {
        data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data != MAP_FAILED) {
            madvise(data, len, MADV_SEQUENTIAL);
            scan_bytes(f, o, data, len);
            munmap(data, len);
            return;
        }
    }
    buf->size = 0;
    if (buf->asize < len + 1 && vet_buf_grow(buf, len)) {
        f->oom = 1;
        return;
    }
    while (buf->size < len && (r = read(fd, buf->ptr + buf->size, len - buf->size)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mf_error(f, "%s: read failed: %s", f->path, strerror(errno));
            return;
        }
        buf->size += (size_t)r;
    }
    scan_bytes(f, o, (const unsigned char *)buf->ptr, buf->size);
}

static void scan_path(vet_manifest_scan *s, qitem *it, vet_buf *buf)
{
    mf_file f;
    struct stat st;
    int fd;
    memset(&f, 0, sizeof f);
    f.path = it->path;
    f.seq = it->seq;
    f.explicit_arg = it->explicit_arg;
    it->path = NULL;
    if (is_chart_values(f.path)) {
        if (f.explicit_arg)
            mf_note(&f, "%s: Helm chart values, not manifests: not scanned", f.path);
        pthread_mutex_lock(&s->mu);
        merge(s, &f);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    fd = open(f.path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        mf_error(&f, "%s: cannot open: %s", f.path, strerror(errno));
    } else if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (it->explicit_arg)
            mf_error(&f, "%s: not a regular file", f.path);
    } else if ((size_t)st.st_size > s->o.max_size) {
        char why[128];
        snprintf(why, sizeof why, "%lld bytes, over the %zu-byte cap (--max-size)",
                 (long long)st.st_size, s->o.max_size);
        skipped(&f, why);
    } else {
        f.st.files++;
        scan_fd(&f, &s->o, fd, &st, buf);
    }
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&s->mu);
    merge(s, &f);
    pthread_mutex_unlock(&s->mu);
}

static void *worker(void *arg)
{
    vet_manifest_scan *s = arg;
    vet_buf buf = VET_BUF_INIT;
    for (;;) {
        qitem it;
        pthread_mutex_lock(&s->mu);
        while (!s->qlen && !s->closed)
            pthread_cond_wait(&s->can_get, &s->mu);
        if (!s->qlen) {
            pthread_mutex_unlock(&s->mu);
            vet_buf_free(&buf);
            return NULL;
        }
        it = s->q[s->qhead];
        s->qhead = (s->qhead + 1) % QCAP;
        s->qlen--;
        pthread_cond_signal(&s->can_put);
        pthread_mutex_unlock(&s->mu);
        scan_path(s, &it, &buf);
        free(it.path);
    }
}

static void enqueue(vet_manifest_scan *s, char *path, int explicit_arg)
{
    pthread_mutex_lock(&s->mu);
    while (s->qlen == QCAP)
        pthread_cond_wait(&s->can_put, &s->mu);
    s->q[(s->qhead + s->qlen) % QCAP] = (qitem){path, s->next_seq++, explicit_arg};
    s->qlen++;
    pthread_cond_signal(&s->can_get);
    pthread_mutex_unlock(&s->mu);
}

static void add_error(vet_manifest_scan *s, const char *path, const char *what, int err)
{
    mf_file f;
    memset(&f, 0, sizeof f);
    f.path = strdup(path);
    pthread_mutex_lock(&s->mu);
    f.seq = s->next_seq++;
    pthread_mutex_unlock(&s->mu);
    if (!f.path) {
        s->oom = 1;
        return;
    }
    mf_error(&f, "%s: %s: %s", path, what, strerror(err));
    pthread_mutex_lock(&s->mu);
    merge(s, &f);
    pthread_mutex_unlock(&s->mu);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Depth-first, entries in byte order of their names. Symlinked folders are not followed (loops),
 * symlinked files are. */
static void walk(vet_manifest_scan *s, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    vet_strv names = VET_STRV_INIT;
    if (depth > MAX_DIR_DEPTH) {
        add_error(s, dir, "folder nesting too deep", ELOOP);
        return;
    }
    if (!(d = opendir(dir))) {
        add_error(s, dir, "cannot read folder", errno);
        return;
    }
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char *name;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        /* "name\0<d_type>": sorted by name, the type kept for the loop below */
        if (!(name = malloc(n + 2)) || vet_strv_take(&names, name)) {
            s->oom = 1;
            continue;
        }
        memcpy(name, e->d_name, n + 1);
        name[n + 1] = (char)e->d_type;
    }
    closedir(d);
    if (names.n > 1)
        qsort(names.v, names.n, sizeof *names.v, cmp_name);
    for (size_t i = 0; i < names.n; i++) {
        /* the entry's type rides after its name (see below): no lstat on file systems that
         * report it, which is one system call less per file on the thread that feeds the workers */
        unsigned char type = (unsigned char)names.v[i][strlen(names.v[i]) + 1];
        char *p = vet_path_join(dir, names.v[i]);
        struct stat st;
        if (!p) {
            s->oom = 1;
            break;
        }
        if (type == DT_UNKNOWN) {
            if (lstat(p, &st)) {
                add_error(s, p, "cannot stat", errno);
                free(p);
                continue;
            }
            type = S_ISDIR(st.st_mode)   ? DT_DIR
                   : S_ISREG(st.st_mode) ? DT_REG
                   : S_ISLNK(st.st_mode) ? DT_LNK
                                         : DT_UNKNOWN;
        }
        if (type == DT_DIR) {
            walk(s, p, depth + 1);
            free(p);
        } else if ((type == DT_REG || type == DT_LNK) &&
                   (s->o.all_files || has_manifest_ext(names.v[i]))) {
            enqueue(s, p, 0);
        } else {
            free(p);
        }
    }
    vet_strv_free(&names);
}

static void scan_stdin(vet_manifest_scan *s)
{
    vet_buf b = VET_BUF_INIT;
    mf_file f;
    char chunk[65536];
    ssize_t r;
    memset(&f, 0, sizeof f);
    f.path = strdup("-");
    pthread_mutex_lock(&s->mu);
    f.seq = s->next_seq++;
    pthread_mutex_unlock(&s->mu);
    if (!f.path) {
        s->oom = 1;
        return;
    }
    while ((r = read(0, chunk, sizeof chunk)) > 0) {
        if (b.size + (size_t)r > s->o.max_size) {
            mf_error(&f, "-: standard input is over the %zu-byte cap", s->o.max_size);
            break;
        }
        if (vet_buf_put(&b, chunk, (size_t)r)) {
            f.oom = 1;
            break;
        }
    }
    if (r < 0)
        mf_error(&f, "-: cannot read standard input: %s", strerror(errno));
    else if (!f.errors.n) {
        f.st.files++;
        f.st.bytes += b.size;
        mf_scan_data(&f, &s->o, (const unsigned char *)(b.ptr ? b.ptr : ""), b.size);
    }
    vet_buf_free(&b);
    pthread_mutex_lock(&s->mu);
    merge(s, &f);
    pthread_mutex_unlock(&s->mu);
}

int vet_manifest_scan_paths(vet_manifest_scan *s, const char *const *paths, size_t n)
{
    pthread_t th[64];
    int nth = 0, rc = 0;
    s->closed = 0;
    for (; nth < s->o.threads; nth++)
        if (pthread_create(&th[nth], NULL, worker, s))
            break;
    if (!nth)
        return vet_error_set(VET_ENOMEM, "cannot start scan threads");
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        char *p;
        if (!strcmp(paths[i], "-")) {
            scan_stdin(s);
            continue;
        }
        if (stat(paths[i], &st)) {
            add_error(s, paths[i], "cannot read", errno);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(s, paths[i], 0);
            continue;
        }
        if (!(p = strdup(paths[i]))) {
            s->oom = 1;
            break;
        }
        enqueue(s, p, 1);
    }
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_cond_broadcast(&s->can_get);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    s->sorted = 0;
    if (s->oom)
        rc = vet_error_set(VET_ENOMEM, "out of memory while scanning manifests");
    return rc;
}

int vet_manifest_scan_buffer(vet_manifest_scan *s, const char *name, const unsigned char *data,
                             size_t len)
{
    mf_file f;
    memset(&f, 0, sizeof f);
    if (!(f.path = strdup(name ? name : "-")))
        return vet_error_set(VET_ENOMEM, "out of memory");
    f.seq = s->next_seq++;
    f.st.files = 1;
    f.st.bytes = len;
    mf_scan_data(&f, &s->o, data, len);
    merge(s, &f);
    s->sorted = 0;
    return s->oom ? vet_error_set(VET_ENOMEM, "out of memory while scanning manifests") : 0;
}

static int cmp_seq(const void *a, const void *b)
{
    const mf_file *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flatten(const vet_manifest_scan *cs)
{
    vet_manifest_scan *s = (vet_manifest_scan *)cs; /* lazily built view */
    size_t n = 0, ne = 0, nn = 0, k = 0;
    if (s->sorted)
        return;
    if (s->nfiles > 1)
        qsort(s->files, s->nfiles, sizeof *s->files, cmp_seq);
    for (size_t i = 0; i < s->nfiles; i++) {
        n += s->files[i].n;
        ne += s->files[i].errors.n;
        nn += s->files[i].notes.n;
    }
    free(s->objs);
    free(s->errors.v);
    free(s->notes.v);
    s->objs = malloc((n ? n : 1) * sizeof *s->objs);
    s->errors.v = malloc((ne ? ne : 1) * sizeof(char *));
    s->notes.v = malloc((nn ? nn : 1) * sizeof(char *));
    s->nobjs = s->errors.n = s->notes.n = 0;
    if (!s->objs || !s->errors.v || !s->notes.v) {
        s->oom = 1;
        return;
    }
    for (size_t i = 0; i < s->nfiles; i++) {
        mf_file *f = &s->files[i];
        for (size_t j = 0; j < f->n; j++)
            s->objs[k++] = &f->objs[j];
        for (size_t j = 0; j < f->errors.n; j++)
            s->errors.v[s->errors.n++] = f->errors.v[j];
        for (size_t j = 0; j < f->notes.n; j++)
            s->notes.v[s->notes.n++] = f->notes.v[j];
    }
    s->nobjs = k;
    s->errors.cap = ne;
    s->notes.cap = nn;
    s->sorted = 1;
}

size_t vet_manifest_scan_count(const vet_manifest_scan *s)
{
    flatten(s);
    return s->nobjs;
}

const vet_manifest_obj *vet_manifest_scan_obj(const vet_manifest_scan *s, size_t i)
{
    flatten(s);
    return i < s->nobjs ? s->objs[i] : NULL;
}

size_t vet_manifest_scan_nerrors(const vet_manifest_scan *s)
{
    flatten(s);
    return s->errors.n;
}

const char *vet_manifest_scan_error(const vet_manifest_scan *s, size_t i)
{
    flatten(s);
    return i < s->errors.n ? s->errors.v[i] : NULL;
}

size_t vet_manifest_scan_nnotes(const vet_manifest_scan *s)
{
    flatten(s);
    return s->notes.n;
}

const char *vet_manifest_scan_note(const vet_manifest_scan *s, size_t i)
{
    flatten(s);
    return i < s->notes.n ? s->notes.v[i] : NULL;
}

void vet_manifest_scan_stats(const vet_manifest_scan *s, vet_manifest_stats *out)
{
    *out = s->st;
}
