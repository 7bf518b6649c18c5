#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

int vet_fs_read(vet_buf *out, const char *path, size_t cap)
{
    int fd = -1, rc = 0;
    struct stat st;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? VET_ENOTFOUND : VET_EIO;
        vet_error_set(rc, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = vet_error_set(VET_EIO, "%s: is a directory", path);
        goto done;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > cap) {
        rc = vet_error_set(VET_ELIMIT, "%s: %lld bytes, over the %zu-byte limit", path,
                           (long long)st.st_size, cap);
        goto done;
    }
    if (S_ISREG(st.st_mode) && (rc = vet_buf_grow(out, (size_t)st.st_size)))
        goto done;
    for (size_t total = 0;;) {
        ssize_t n;
        if ((rc = vet_buf_grow(out, 65536)))
            goto done;
        n = read(fd, out->ptr + out->size, out->asize - out->size - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = vet_error_set(VET_EIO, "%s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        out->size += (size_t)n;
        total += (size_t)n;
        if (total > cap) {
            rc = vet_error_set(VET_ELIMIT, "%s: over the %zu-byte limit", path, cap);
            goto done;
        }
    }
    if (out->ptr)
        out->ptr[out->size] = '\0';
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

char *vet_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    if (!*b)
        return vet_strdupf("%.*s", (int)la, a);
    return vet_strdupf("%.*s%s%s", (int)la, a, (la == 1 && a[0] == '/') ? "" : "/", b);
}

int vet_fs_resolve(char **out, const char *root, const char *path)
{
    vet_buf done = VET_BUF_INIT; /* resolved part, relative to root, "" or "/a/b" */
    vet_buf todo = VET_BUF_INIT; /* what is left, '/'-separated */
    char *host = NULL, link[PATH_MAX];
    int rc = 0, hops = 0;
    size_t pos = 0;

    *out = NULL;
    if ((rc = vet_buf_puts(&todo, path)) || (rc = vet_buf_puts(&done, "")))
        goto done;
    while (pos < todo.size) {
        size_t start, len;
        struct stat st;
        while (pos < todo.size && todo.ptr[pos] == '/')
            pos++;
        start = pos;
        while (pos < todo.size && todo.ptr[pos] != '/')
            pos++;
        len = pos - start;
        if (len == 0 || (len == 1 && todo.ptr[start] == '.'))
            continue;
        if (len == 2 && !memcmp(todo.ptr + start, "..", 2)) {
            char *slash = strrchr(done.ptr, '/');
            if (!slash) {
                rc = vet_error_set(VET_EINPUT, "%s: points outside --root %s", path, root);
                goto done;
            }
            done.size = (size_t)(slash - done.ptr);
            done.ptr[done.size] = '\0';
            continue;
        }
        size_t keep = done.size;
        if ((rc = vet_buf_puts(&done, "/")) || (rc = vet_buf_put(&done, todo.ptr + start, len)))
            goto done;
        free(host);
        host = vet_path_join(root, done.ptr);
        if (!host) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if (lstat(host, &st) != 0 || !S_ISLNK(st.st_mode))
            continue; /* missing or not a link: open() will judge it */
        ssize_t n = readlink(host, link, sizeof link - 1);
        if (n < 0 || ++hops > 40) {
            rc = vet_error_set(VET_EINPUT, "%s: too many or unreadable symlinks", path);
            goto done;
        }
        link[n] = '\0';
        /* Splice the link target in front of what is left. */
        vet_buf rest = VET_BUF_INIT;
        if ((rc = vet_buf_puts(&rest, link)) || (rc = vet_buf_puts(&rest, "/")) ||
            (rc = vet_buf_put(&rest, todo.ptr + pos, todo.size - pos))) {
            vet_buf_free(&rest);
            goto done;
        }
        vet_buf_free(&todo);
        todo = rest;
        pos = 0;
        if (link[0] == '/')
            vet_buf_clear(&done);
        else {
            done.size = keep;
            done.ptr[keep] = '\0';
        }
    }
    *out = vet_path_join(root, done.size ? done.ptr : "/");
    if (!*out)
        rc = vet_error_set(VET_ENOMEM, "out of memory");
done:
    free(host);
    vet_buf_free(&done);
    vet_buf_free(&todo);
    return rc;
}

int vet_fs_read_in_root(vet_buf *out, const char *root, const char *path, size_t cap)
{
    char *host = NULL;
    int rc = vet_fs_resolve(&host, root, path);
    if (!rc)
        rc = vet_fs_read(out, host, cap);
    free(host);
    return rc;
}

int vet_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int vet_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static size_t dirset_slot(const uint64_t *v, size_t cap, uint64_t dev, uint64_t ino1)
{
    size_t i = (size_t)((dev * 0x9e3779b97f4a7c15u) ^ (ino1 * 0xc2b2ae3d27d4eb4fu)) & (cap - 1);
    while (v[2 * i + 1] && (v[2 * i] != dev || v[2 * i + 1] != ino1))
        i = (i + 1) & (cap - 1);
    return i;
}

int vet_fs_dirset_enter(vet_fs_dirset *s, const char *dir)
{
    struct stat st;
    uint64_t dev, ino1;
    size_t i;
    if (stat(dir, &st))
        return vet_error_set(VET_EIO, "%s: %s", dir, strerror(errno));
    dev = (uint64_t)st.st_dev;
    ino1 = (uint64_t)st.st_ino + 1;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *v = calloc(cap, 2 * sizeof *v);
        if (!v)
            return vet_error_set(VET_ENOMEM, "out of memory");
        for (size_t j = 0; j < s->cap; j++)
            if (s->v[2 * j + 1]) {
                size_t k = dirset_slot(v, cap, s->v[2 * j], s->v[2 * j + 1]);
                v[2 * k] = s->v[2 * j];
                v[2 * k + 1] = s->v[2 * j + 1];
            }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    i = dirset_slot(s->v, s->cap, dev, ino1);
    if (s->v[2 * i + 1])
        return 0;
    s->v[2 * i] = dev;
    s->v[2 * i + 1] = ino1;
    s->n++;
    return 1;
}

void vet_fs_dirset_free(vet_fs_dirset *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
