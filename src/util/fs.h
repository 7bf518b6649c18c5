/* Reading files, confined to a node root. The only writer is atomic.h. */
#ifndef VET_UTIL_FS_H
#define VET_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define VET_FS_DEFAULT_CAP (64u << 20) /* refuse single inputs over 64 MiB unless told */

/* Read a whole file into out (appending). Missing file -> VET_ENOTFOUND; unreadable -> VET_EIO;
 * larger than cap -> VET_ELIMIT. The message names the path. */
int vet_fs_read(vet_buf *out, const char *path, size_t cap);

/* Resolve `path` (absolute or relative to root) inside `root` the way the node itself would see it:
 * absolute symlink targets are taken under root, and a ".." that would climb above root is an
 * error (VET_EINPUT: "points outside --root"). *out is a malloc'd host path. A missing final
 * component is not an error here (open() will say so). */
int vet_fs_resolve(char **out, const char *root, const char *path);

/* vet_fs_resolve + vet_fs_read. */
int vet_fs_read_in_root(vet_buf *out, const char *root, const char *path, size_t cap);

/* Join a and b with one '/'; malloc'd. */
char *vet_path_join(const char *a, const char *b);
/* 1 when path exists (following symlinks), 0 otherwise. */
int vet_fs_exists(const char *path);
/* 1 when path is a directory. */
int vet_fs_is_dir(const char *path);

/* Directories already visited, by device and inode: a walk that follows symlinks (kubeadm
 * roots often link pki folders) enters each directory once, so `a -> .` and `b -> .` cost one
 * visit, not 2^depth. */
typedef struct {
    uint64_t *v; /* pairs (dev, ino + 1); ino + 1 == 0 marks a free slot */
    size_t n, cap;
} vet_fs_dirset;
#define VET_FS_DIRSET_INIT                                                                         \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
/* stat() dir (following links) and add it: 1 when new, 0 when already visited, VET_EIO
 * (message names dir) when it cannot be stat'ed, VET_ENOMEM. */
int vet_fs_dirset_enter(vet_fs_dirset *s, const char *dir);
void vet_fs_dirset_free(vet_fs_dirset *s);

#endif
