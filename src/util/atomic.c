#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fault.h"
#include "fs.h"
#include "vtime.h"

struct vet_atomic {
    int fd;
    char *path;
    char *tmp; /* NULL for a file written under its own name (vet_atomic_open_new) */
    int direct;
};

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return vet_strdupf(".");
    if (slash == path)
        return vet_strdupf("/");
    return vet_strdupf("%.*s", (int)(slash - path), path);
}

/* The file is open: give it its exact mode and hand it out, or drop it. O_CREAT's mode is
 * filtered by umask; keys must be exactly 0600, so it is set explicitly, and a file whose mode
 * cannot be set is not written at all (a key must never land 0644). */
static int opened(vet_atomic **out, vet_atomic *w, unsigned mode)
{
    if (fchmod(w->fd, (mode_t)mode) != 0) {
        int rc = vet_error_set(VET_EIO, "could not write %s: cannot set mode %04o: %s", w->path,
                               mode, strerror(errno));
        vet_atomic_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

int vet_atomic_open(vet_atomic **out, const char *path, unsigned mode)
{
    vet_atomic *w = calloc(1, sizeof *w);
    const char *slash = strrchr(path, '/');
    int rc = 0;
    *out = NULL;
    if (!w)
        return vet_error_set(VET_ENOMEM, "out of memory");
    w->fd = -1;
    w->path = vet_strdupf("%s", path);
    for (int i = 0; w->path && i < 100; i++) {
        free(w->tmp);
        /* A dot name: the kubelet reads every other file in its manifest folder as a pod,
         * and a plan may hold a staged file there while earlier steps run. */
        w->tmp = slash ? vet_strdupf("%.*s.%s.kubevet-tmp-%ld-%d", (int)(slash + 1 - path), path,
                                     slash + 1, (long)getpid(), i)
                       : vet_strdupf(".%s.kubevet-tmp-%ld-%d", path, (long)getpid(), i);
        if (!w->tmp)
            break;
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
        if (w->fd >= 0 || errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        rc = vet_error_set(VET_EIO, "could not write %s: cannot create a temporary file: %s", path,
                           w->tmp ? strerror(errno) : "out of memory");
        free(w->tmp);
        w->tmp = NULL;
        vet_atomic_abort(w);
        return rc;
    }
    return opened(out, w, mode);
}

int vet_atomic_open_new(vet_atomic **out, const char *path, unsigned mode)
{
    vet_atomic *w = calloc(1, sizeof *w);
    int rc;
    *out = NULL;
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    w->direct = 1;
    if ((w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode)) < 0) {
        rc = vet_error_set(VET_EIO, "could not write %s: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return rc;
    }
    return opened(out, w, mode);
}

int vet_atomic_write(vet_atomic *w, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = vet_fault_hit(VET_FAULT_WRITE) ? (errno = EIO, -1) : write(w->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return vet_error_set(VET_EIO, "could not write %s: %s", w->path, strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void vet_atomic_abort(vet_atomic *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    else if (w->direct && w->path)
        unlink(w->path); /* not committed: the new file goes */
    free(w->tmp);
    free(w->path);
    free(w);
}

static int backup(const char *path, char **backup_out)
{
    char stamp[32], *bak = NULL;
    struct stat st;
    vet_buf data = VET_BUF_INIT;
    int rc = 0;
    if (lstat(path, &st) != 0)
        return 0; /* nothing to keep */
    vet_time_format_compact(stamp, (int64_t)time(NULL));
    for (int i = 0; i < 100; i++) {
        free(bak);
        bak = i ? vet_strdupf("%s.kubevet-%s-%d.bak", path, stamp, i)
                : vet_strdupf("%s.kubevet-%s.bak", path, stamp);
        if (!bak)
            return vet_error_set(VET_ENOMEM, "out of memory");
        /* A hard link keeps the old inode, bytes and mode, at no cost; rename() then swaps the
         * name. */
        if (link(path, bak) == 0)
            goto done;
        if (errno != EEXIST)
            break;
    }
    /* Filesystems without hard links: copy the bytes, same mode. */
    {
        vet_atomic *w = NULL;
        if ((rc = vet_fs_read(&data, path, (size_t)-1)) ||
            (rc = vet_atomic_open(&w, bak, st.st_mode & 07777)))
            goto done;
        if ((rc = vet_atomic_write(w, data.ptr, data.size))) {
            vet_atomic_abort(w);
            goto done;
        }
        rc = vet_atomic_commit(w, 0, NULL); /* frees w whatever the outcome */
        if (rc)
            goto done;
    }
done:
    vet_buf_free(&data);
    if (rc) {
        free(bak);
        return rc;
    }
    if (backup_out)
        *backup_out = bak;
    else
        free(bak);
    return 0;
}

int vet_atomic_sync_dir_of(const char *path)
{
    char *dir = dir_of(path);
    int rc = 0, dfd;
    if (dir && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        /* A failed directory fsync leaves the rename possibly undone by a crash: report it. */
        if (vet_fault_hit(VET_FAULT_FSYNC) ? (errno = EIO, 1) : fsync(dfd) != 0)
            rc =
                vet_error_set(VET_EIO, "%s: fsync of its folder failed: %s", path, strerror(errno));
        close(dfd);
    }
    free(dir);
    return rc;
}

static int sync_one(vet_atomic *w)
{
    if (vet_fault_hit(VET_FAULT_FSYNC) ? (errno = EIO, 1) : fsync(w->fd) != 0)
        return vet_error_set(VET_EIO, "could not write %s: fsync: %s", w->path, strerror(errno));
    return 0;
}

int vet_atomic_sync_all(vet_atomic *const *w, size_t n, size_t *failed)
{
    int rc = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    /* Start every file's writeback first: the fsyncs below then wait on one queue of writes
     * instead of a write and a cache flush per file in turn (half the time for a dozen small
     * files). Only a hint: its failure leaves the fsync to do all the work. */
    for (size_t i = 0; i < n; i++)
        if (w[i])
            (void)sync_file_range(w[i]->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    for (size_t i = 0; i < n && !rc; i++)
        if (w[i] && (rc = sync_one(w[i])) && failed)
            *failed = i;
    return rc;
}

int vet_atomic_commit(vet_atomic *w, int flags, char **backup_out)
{
    int rc = 0;
    char *bak = NULL;
    if (backup_out)
        *backup_out = NULL;
    if (!(flags & VET_ATOMIC_SYNCED) && (rc = sync_one(w)))
        goto done;
    if (close(w->fd) != 0) {
        w->fd = -1;
        rc = vet_error_set(VET_EIO, "could not write %s: close: %s", w->path, strerror(errno));
        goto done;
    }
    w->fd = -1;
    if (w->direct) {
        w->direct = 0; /* committed: abort below only frees */
        if (!(flags & VET_ATOMIC_NO_DIRSYNC))
            rc = vet_atomic_sync_dir_of(w->path);
        goto done;
    }
    if ((flags & VET_ATOMIC_BACKUP) && (rc = backup(w->path, &bak)))
        goto done;
    if (vet_fault_hit(VET_FAULT_RENAME) ? (errno = EIO, 1) : rename(w->tmp, w->path) != 0) {
        rc = vet_error_set(VET_EIO, "could not write %s: rename: %s", w->path, strerror(errno));
        /* the old file is still in place: its backup would only mislead */
        if (bak)
            unlink(bak);
        goto done;
    }
    if (backup_out) {
        *backup_out = bak;
        bak = NULL;
    }
    free(w->tmp);
    w->tmp = NULL;
    if (!(flags & VET_ATOMIC_NO_DIRSYNC))
        rc = vet_atomic_sync_dir_of(w->path);
done:
    free(bak);
    vet_atomic_abort(w);
    return rc;
}

int vet_atomic_write_file(const char *path, const void *data, size_t len, unsigned mode, int flags,
                          char **backup_out)
{
    vet_atomic *w = NULL;
    int rc = vet_atomic_open(&w, path, mode);
    if (rc)
        return rc;
    if ((rc = vet_atomic_write(w, data, len))) {
        vet_atomic_abort(w);
        return rc;
    }
    return vet_atomic_commit(w, flags, backup_out);
}
