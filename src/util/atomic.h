/* The one module that writes files: temp file in the same directory (O_EXCL), write, fsync,
 * timestamped backup of the old file, rename over it, fsync the directory. A crash at any point
 * leaves either the old file or the new one, never a mix. */
#ifndef VET_UTIL_ATOMIC_H
#define VET_UTIL_ATOMIC_H

#include <stddef.h>

typedef struct vet_atomic vet_atomic;

enum {
    VET_ATOMIC_BACKUP = 1,    /* keep the replaced file as <path>.kubevet-<UTC stamp>.bak */
    VET_ATOMIC_NO_DIRSYNC = 2, /* the caller fsyncs the folder (vet_atomic_sync_dir) once for
                                  several files: until then a crash may keep the old file */
    VET_ATOMIC_SYNCED = 4      /* the data is on disk already (vet_atomic_sync_all) */
};

/* Start writing `path` with permission `mode` (e.g. 0600 for keys). */
int vet_atomic_open(vet_atomic **out, const char *path, unsigned mode);
/* Write a new file under its own name (no temporary file; it must not exist): for a folder only
 * this process writes, where a half-written file is harmless until the caller says otherwise.
 * Commit then only makes it durable (unless VET_ATOMIC_SYNCED) and closes it; abort removes it. */
int vet_atomic_open_new(vet_atomic **out, const char *path, unsigned mode);
int vet_atomic_write(vet_atomic *w, const void *data, size_t len);
/* Finish: fsync, optional backup, rename, fsync dir. Frees w whatever the outcome.
 * *backup_out (if not NULL) receives the backup path, or NULL when there was nothing to back up. */
int vet_atomic_commit(vet_atomic *w, int flags, char **backup_out);
/* Make the written data of several writers durable at once (before committing them with
 * VET_ATOMIC_SYNCED): cheaper than an fsync per commit. NULL entries are skipped. On failure
 * *failed (if not NULL) is the failing entry's index, and the writers are left to the caller
 * (commit or abort each). */
int vet_atomic_sync_all(vet_atomic *const *w, size_t n, size_t *failed);
/* Drop the temp file. Frees w. NULL is a no-op. */
void vet_atomic_abort(vet_atomic *w);

/* fsync the folder holding `path` (a file written with VET_ATOMIC_NO_DIRSYNC). */
int vet_atomic_sync_dir_of(const char *path);

/* Whole-buffer convenience. */
int vet_atomic_write_file(const char *path, const void *data, size_t len, unsigned mode, int flags,
                          char **backup_out);

#endif
