/* The snapshot handle: opening and mapping the file, the SHA-256 trailer, and the entry points
 * that run the walk (bolt.c).
 *
 * Where the time of `etcd snapshot status` goes on a 670 MB snapshot with warm cache: filling
 * the page tables of the mapping is the largest part (the kernel's work per 4 KiB page, about as
 * much as cat's copy), then the CRC-32C over every key and value. Both are split over two threads:
 * the mapping is populated in two halves, the hash in two halves of its byte stream joined with
 * vet_crc32c_combine. The mapping starts on a 2 MiB boundary so that a page cache holding 2 MiB
 * folios (ext4 on Linux >= 6.x after readahead) is mapped a PMD at a time: populating then costs
 * milliseconds instead of a tenth of a second. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "snap_int.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux >= 5.14 */
#endif

#define HUGE (2u << 20)         /* a PMD on x86-64 and arm64 with 4 KiB pages */
#define SPLIT_MIN (16u << 20)   /* below this one thread populates: a thread costs ~50 us */

const char *vet_snapshot_name(const vet_snapshot *s)
{
    return s ? s->name : "";
}

int vet_snapshot_open_mem(vet_snapshot **out, const unsigned char *data, size_t len,
                          const char *name)
{
    vet_snapshot *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->name = strdup(name ? name : "<memory>"))) {
        free(s);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    s->data = len ? data : (const unsigned char *)"";
    s->len = len;
    s->fd = -1;
    *out = s;
    return 0;
}

/* A read-only mapping of the file at a 2 MiB-aligned address (see the top of the file): reserve
 * len + 2 MiB of address space, map the file over the aligned part, give back the rest. */
static void *map_aligned(int fd, size_t len)
{
    if (len < HUGE || len > SIZE_MAX - HUGE)
        return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    unsigned char *r = mmap(NULL, len + HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    unsigned char *a = (unsigned char *)(((uintptr_t)r + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
    void *m = mmap(a, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (m == MAP_FAILED) {
        munmap(r, len + HUGE);
        return MAP_FAILED;
    }
    if (a > r)
        munmap(r, (size_t)(a - r));
    if (r + len + HUGE > a + len)
        munmap(a + len, (size_t)(r + len + HUGE - (a + len)));
    return m;
}

int vet_snapshot_open(vet_snapshot **out, const char *path)
{
    vet_snapshot *s = NULL;
    struct stat st;
    void *map = NULL;
    int fd = -1, rc = 0;
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = vet_error_set(errno == ENOENT ? VET_ENOTFOUND : VET_EIO, "%s: %s", path,
                           strerror(errno));
        goto done;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = vet_error_set(VET_EIO, "%s: not a regular file", path);
        goto done;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        rc = vet_error_set(VET_EIO, "%s: too large to map", path);
        goto done;
    }
    if (st.st_size > 0 && (map = map_aligned(fd, (size_t)st.st_size)) == MAP_FAILED) {
        map = NULL;
        rc = vet_error_set(VET_EIO, "%s: mmap: %s", path, strerror(errno));
        goto done;
    }
    if ((rc = vet_snapshot_open_mem(&s, map, (size_t)st.st_size, path)))
        goto done;
    s->map = map;
    s->maplen = (size_t)st.st_size;
    s->fd = fd;
    map = NULL;
    fd = -1;
    *out = s;
done:
    if (map)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return rc;
}

typedef struct {
    const unsigned char *p;
    size_t n;
} range;

static void *unpopulate(void *arg)
{
    range *r = arg;
    (void)madvise((void *)r->p, r->n, MADV_DONTNEED);
    return NULL;
}

void vet_snapshot_close(vet_snapshot *s)
{
    if (!s)
        return;
    if (s->map && s->populated && s->maplen >= SPLIT_MIN) {
        /* Tearing down the page tables costs a third of filling them: in two halves at once
         * (munmap alone would zap them on one thread, and so would exit). */
        range a = {s->map, (s->maplen / 2) & ~(size_t)(HUGE - 1)};
        range b = {a.p + a.n, s->maplen - a.n};
        snap_run2(unpopulate, &a, &b);
    }
    if (s->map)
        munmap(s->map, s->maplen);
    if (s->fd >= 0)
        close(s->fd);
    vet_strv_free(&s->errors);
    free(s->name);
    free(s);
}

static void *populate(void *arg)
{
    range *r = arg;
    if (madvise((void *)r->p, r->n, MADV_POPULATE_READ) != 0) {
        /* older kernels: one read per page faults it in (with its neighbours, fault-around) */
        const volatile unsigned char *v = r->p;
        long ps = sysconf(_SC_PAGESIZE);
        size_t step = ps > 0 ? (size_t)ps : 4096;
        for (size_t o = 0; o < r->n; o += step)
            (void)v[o];
    }
    return NULL;
}

void snap_populate(vet_snapshot *s)
{
    if (!s->map || s->populated)
        return;
    s->populated = 1;
    range a = {s->map, s->maplen}, b = {NULL, 0};
    if (s->maplen < SPLIT_MIN) {
        populate(&a);
        return;
    }
    /* split on a 2 MiB boundary so that neither half splits a huge mapping */
    a.n = (s->maplen / 2) & ~(size_t)(HUGE - 1);
    b.p = a.p + a.n;
    b.n = s->maplen - a.n;
    snap_run2(populate, &a, &b);
}

void snap_run2(void *(*f)(void *), void *a, void *b)
{
    pthread_t t;
    int started = pthread_create(&t, NULL, f, b) == 0;
    f(a);
    if (started)
        pthread_join(t, NULL);
    else
        f(b);
}

int vet_snapshot_status(vet_snapshot *s, vet_snapshot_info *out)
{
    int rc = 0;
    if (!s->walked && (rc = snap_walk(s, NULL, NULL)) < 0)
        return rc;
    *out = s->info;
    return 0;
}

void snap_hex(char out[65], const unsigned char *p)
{
    static const char dig[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = dig[p[i] >> 4];
        out[2 * i + 1] = dig[p[i] & 15];
    }
    out[64] = 0;
}

/* SHA-256 of the bbolt bytes, straight from the mapping: verify walks first, which populates it. */
static int sha256(vet_snapshot *s, unsigned char md[32])
{
    unsigned int mdlen = 0;
    if (!EVP_Digest(s->data, s->info.data_size, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return vet_error_set(VET_ENOMEM, "%s: SHA-256 failed", s->name);
    return 0;
}

int vet_snapshot_verify(vet_snapshot *s, vet_snapshot_info *out, int *ok)
{
    int rc = 0;
    if (!s->walked && (rc = snap_walk(s, NULL, NULL)) < 0)
        return rc;
    if (!s->sha_done && s->info.trailer != VET_SNAPSHOT_TRAILER_ABSENT) {
        unsigned char md[32];
        if ((rc = sha256(s, md)))
            return rc;
        snap_hex(s->info.sha256_computed, md);
        s->info.trailer = memcmp(md, s->data + s->info.data_size, 32)
                              ? VET_SNAPSHOT_TRAILER_MISMATCH
                              : VET_SNAPSHOT_TRAILER_OK;
    }
    s->sha_done = 1;
    *out = s->info;
    *ok = s->info.meta_used >= 0 && s->info.nerrors == 0 &&
          s->info.trailer != VET_SNAPSHOT_TRAILER_MISMATCH;
    return 0;
}
