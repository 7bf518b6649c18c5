/* The one executor: backup first, atomic writes, verification after each step, rollback. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"
#include "error.h"
#include "fs.h"
#include "plan_int.h"
#include "vtime.h"

/* What one touched path held before the plan ran. */
typedef struct {
    const char *rel; /* borrowed from the action */
    char *host;
    int existed;
    vet_buf data;
    unsigned mode;
    long uid, gid;
    dev_t dev; /* the file as read: a backup links it only while it is still this one */
    ino_t ino;
    nlink_t nlink;
    struct timespec mtime;
    int touched; /* a step has changed it (or may have: a failed step counts) */
    int keep;    /* VET_WRITE_KEEP: new, not saved, not rolled back */
} orig;

typedef struct {
    orig *v;
    size_t n;
} origs;

static void origs_free(origs *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].host);
        if (o->v[i].data.ptr)
            memset(o->v[i].data.ptr, 0, o->v[i].data.size);
        vet_buf_free(&o->v[i].data);
    }
    free(o->v);
}

static orig *find_orig(origs *o, const char *rel)
{
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].rel, rel))
            return &o->v[i];
    return NULL;
}

/* Read every path the plan touches, refusing what the executor must not write through. */
static int snapshot(origs *o, const vet_plan *p)
{
    if (!(o->v = calloc(p->n ? p->n : 1, sizeof *o->v)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        const vet_action *a = &p->v[i];
        struct stat st;
        orig *g;
        char *dir, *slash;
        if ((a->kind != VET_ACT_WRITE && a->kind != VET_ACT_REMOVE) || find_orig(o, a->path))
            continue;
        g = &o->v[o->n++];
        g->rel = a->path;
        g->uid = g->gid = -1;
        g->keep = a->kind == VET_ACT_WRITE && (a->flags & VET_WRITE_KEEP);
        if (!(g->host = plan_host_path(p, a->path)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        /* the record of the way back never replaces an older one */
        if (g->keep && lstat(g->host, &st) == 0)
            return vet_error_set(VET_EINPUT, "%s: exists already; name another file", g->host);
        if (lstat(g->host, &st) == 0) {
            /* rename() over a symlink replaces the link, not the file the node reads. */
            if (S_ISLNK(st.st_mode))
                return vet_error_set(VET_EINPUT, "%s: is a symlink; the plan must name its target",
                                     g->host);
            if (!S_ISREG(st.st_mode))
                return vet_error_set(VET_EINPUT, "%s: not a regular file", g->host);
            g->existed = 1;
            g->mode = st.st_mode & 07777;
            g->uid = (long)st.st_uid;
            g->gid = (long)st.st_gid;
            g->dev = st.st_dev;
            g->ino = st.st_ino;
            g->nlink = st.st_nlink;
            g->mtime = st.st_mtim;
            if (vet_fs_read(&g->data, g->host, (size_t)1 << 30))
                return VET_EIO;
        } else if (errno != ENOENT) {
            return vet_error_set(VET_EIO, "%s: %s", g->host, strerror(errno));
        }
        /* New files go into folders that exist: the executor creates none it would have to
         * remove on rollback. */
        if (!(dir = strdup(g->host)))
            return vet_error_set(VET_ENOMEM, "out of memory");
        slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        if (a->kind == VET_ACT_WRITE && !vet_fs_is_dir(dir)) {
            vet_error_set(VET_EINPUT, "%s: folder does not exist", dir);
            free(dir);
            return VET_EINPUT;
        }
        free(dir);
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Owners are kept where the writer may set them; an unprivileged run (tests, a copy of a node
 * owned by the user) keeps its own. */
static int set_owner(const char *host, long uid, long gid)
{
    if (uid < 0 && gid < 0)
        return 0;
    if (lchown(host, (uid_t)uid, (gid_t)gid) != 0 && !(errno == EPERM && geteuid() != 0))
        return vet_error_set(VET_EIO, "%s: cannot set owner %ld:%ld: %s", host, uid, gid,
                             strerror(errno));
    return 0;
}

/* Folders whose fsync was deferred (files written with VET_ATOMIC_NO_DIRSYNC): one entry per
 * folder, named by one file in it. A plan of 11 files in 3 folders syncs 3 folders, not 11
 * times, which is most of an apply's time on a disk where fsync costs milliseconds. */
static int note_dir(vet_strv *dirs, const char *file)
{
    const char *slash = strrchr(file, '/');
    size_t dl = slash ? (size_t)(slash - file) : 0;
    for (size_t i = 0; i < dirs->n; i++)
        if (!strncmp(dirs->v[i], file, dl) && strrchr(dirs->v[i], '/') == dirs->v[i] + dl)
            return 0;
    return vet_strv_push(dirs, file);
}

/* mkdir -p inside the backup folder, whose name is path's first `known` bytes (it exists: only
 * the folders below it are tried); each folder made is noted in `dirs`, so that the entry naming
 * it (in its parent) is made durable with the files. */
static int mkdirs(const char *path, size_t known, vet_strv *dirs)
{
    char *d;
    int rc = 0;
    if (strlen(path) <= known)
        return 0;
    if (!(d = strdup(path)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (char *s = d + known + 1; !rc; s++) {
        int last = !*s;
        if (!last && *s != '/')
            continue;
        *s = '\0';
        if (mkdir(d, 0700) == 0)
            rc = note_dir(dirs, d);
        else if (errno != EEXIST)
            rc = vet_error_set(VET_EIO, "%s: cannot create folder: %s", d, strerror(errno));
        if (last)
            break;
        *s = '/';
    }
    free(d);
    return rc;
}

static int sync_dirs(const vet_strv *dirs)
{
    int rc = 0;
    for (size_t i = 0; i < dirs->n && !rc; i++)
        rc = vet_atomic_sync_dir_of(dirs->v[i]);
    return rc;
}

/* The backup in the making. Each saved file is a hard link to the file as it is (the same
 * inode: bytes, mode, owner and times kept at no cost; the rename that replaces the file then
 * leaves the old inode to the backup alone), or a copy where no link can be made. The links, the
 * folders and the MANIFEST (written under its own name: the folder is new and only this process
 * writes it) exist before the one round of flushes that also makes the plan's new files durable,
 * so the folders' fsyncs afterwards find their entries committed already. Copies are staged
 * (temporary names) in that round and take their names after it, which costs one more commit.
 * Until the first step, a crash leaves the node as it was and at worst a backup with files
 * missing (restore then refuses it), never a truncated copy under a saved file's name. */
typedef struct {
    char *dir;          /* the backup folder (host path) */
    vet_strv dirs;      /* folders whose entries must be durable before any step */
    vet_atomic **w;     /* per orig: its copy when not linked; [o->n]: the MANIFEST */
    char **names;       /* path of each saved file in the backup; [o->n]: the MANIFEST */
    size_t n;           /* o->n + 1 */
} backup;

static void backup_drop(backup *b)
{
    for (size_t i = 0; b->w && i < b->n; i++)
        vet_atomic_abort(b->w[i]);
    for (size_t i = 0; b->names && i < b->n; i++)
        free(b->names[i]);
    free(b->w);
    free(b->names);
    vet_strv_free(&b->dirs);
    if (b->dir) /* a half-made backup is no backup: remove it (the name is ours) */
        nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(b->dir);
    memset(b, 0, sizeof *b);
}

/* rc, with the message saying the backup failed and nothing changed (the step is not reached). */
static int backup_failed(const backup *b, int rc)
{
    char keep[1024];
    snprintf(keep, sizeof keep, "%s", vet_error_last());
    return vet_error_set(rc, "backup to %s failed, nothing was changed: %s", b->dir, keep);
}

/* Link `host` into the backup as `name` when it is still the file the snapshot read; its data
 * is written out (if the page cache still held it dirty) before the folders' fsync commits the
 * link. 0 when linked; -1 when the caller must copy instead. */
static int link_saved(const orig *g, const char *name)
{
    struct stat st;
    int fd;
    if (g->nlink != 1 || link(g->host, name) != 0)
        return -1; /* another name shares the inode (it could change in place), or no links */
    if (lstat(name, &st) != 0 || st.st_ino != g->ino || st.st_dev != g->dev ||
        (size_t)st.st_size != g->data.size || st.st_mtim.tv_sec != g->mtime.tv_sec ||
        st.st_mtim.tv_nsec != g->mtime.tv_nsec) {
        unlink(name); /* changed since it was read: the copy holds what was read */
        return -1;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    if ((fd = open(name, O_RDONLY | O_CLOEXEC)) >= 0) {
        (void)sync_file_range(fd, 0, 0,
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                  SYNC_FILE_RANGE_WAIT_AFTER);
        close(fd);
    }
#else
    (void)fd;
#endif
    return 0;
}

/* Make the folder, the links or staged copies, and the MANIFEST (not yet durable). */
static int backup_stage(backup *b, const vet_plan *p, origs *o, int64_t now)
{
    char stamp[32], *parent = NULL, *made = NULL;
    vet_buf man = VET_BUF_INIT;
    int rc = 0;
    memset(b, 0, sizeof *b);
    vet_time_format_compact(stamp, now);
    if (!(parent = plan_host_path(p, p->backup_parent)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (!vet_fs_is_dir(parent)) {
        rc = vet_error_set(VET_EIO, "%s: backup folder's parent does not exist", parent);
        goto done;
    }
    for (int i = 0; i < 100; i++) {
        free(b->dir);
        b->dir = i ? vet_strdupf("%s/kubevet-backup-%s-%d", parent, stamp, i)
                   : vet_strdupf("%s/kubevet-backup-%s", parent, stamp);
        if (!b->dir || mkdir(b->dir, 0700) == 0 || errno != EEXIST)
            break;
    }
    if (!b->dir || !vet_fs_is_dir(b->dir)) {
        rc = vet_error_set(VET_EIO, "%s: cannot create backup folder: %s", parent,
                           b->dir ? strerror(errno) : "out of memory");
        free(b->dir);
        b->dir = NULL;
        goto done;
    }
    b->n = o->n + 1;
    if (!(b->w = calloc(b->n, sizeof *b->w)) || !(b->names = calloc(b->n, sizeof *b->names))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    vet_buf_printf(&man,
                   "# kubevet backup (%s), made before applying a plan.\n"
                   "# Put it back with: kubevet restore <this folder> --apply\n"
                   "backup-parent %s\ncreated %s\n",
                   p->title, p->backup_parent, stamp);
    /* The backup folder's own entry is made durable with the rest (its parent is synced). */
    rc = note_dir(&b->dirs, b->dir);
    for (size_t i = 0; i < o->n && !rc; i++) {
        orig *g = &o->v[i];
        char *name, *slash;
        if (g->keep)
            continue;
        if (!g->existed) {
            vet_buf_printf(&man, "absent %s\n", g->rel);
            continue;
        }
        if (!(name = vet_strdupf("%s/%s", b->dir, g->rel))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            break;
        }
        slash = strrchr(name, '/');
        *slash = '\0';
        if (!made || strcmp(made, name)) {
            free(made);
            made = (rc = mkdirs(name, strlen(b->dir), &b->dirs)) ? NULL : strdup(name);
        }
        *slash = '/';
        b->names[i] = name;
        if (!rc && !(rc = note_dir(&b->dirs, name)) && link_saved(g, name) != 0 &&
            !(rc = vet_atomic_open(&b->w[i], name, g->mode)))
            rc = vet_atomic_write(b->w[i], g->data.ptr ? g->data.ptr : "", g->data.size);
        vet_buf_printf(&man, "saved %04o %ld %ld %s\n", g->mode, g->uid, g->gid, g->rel);
    }
    if (!rc && (b->names[o->n] = vet_strdupf("%s/%s", b->dir, PLAN_MANIFEST)) == NULL)
        rc = vet_error_set(VET_ENOMEM, "out of memory");
    if (!rc && !(rc = vet_atomic_open_new(&b->w[o->n], b->names[o->n], 0600)))
        rc = vet_atomic_write(b->w[o->n], man.ptr, man.size);
done:
    if (rc) {
        if (b->dir)
            backup_failed(b, rc);
        backup_drop(b);
    }
    free(made);
    vet_buf_free(&man);
    free(parent);
    return rc;
}

/* The staged copies (their data durable already) take their names with their owners, the
 * MANIFEST is closed, and every folder of the backup is synced: after this the backup is
 * complete on disk. */
static int backup_finish(backup *b, origs *o)
{
    int rc = 0;
    for (size_t i = 0; i < b->n && !rc; i++) {
        if (!b->w[i])
            continue;
        rc = vet_atomic_commit(b->w[i], VET_ATOMIC_NO_DIRSYNC | VET_ATOMIC_SYNCED, NULL);
        b->w[i] = NULL;
        if (!rc && i < o->n)
            rc = set_owner(b->names[i], o->v[i].uid, o->v[i].gid);
    }
    if (!rc)
        rc = sync_dirs(&b->dirs);
    return rc ? backup_failed(b, rc) : 0;
}

static int verify_write(const vet_action *a, const char *host)
{
    vet_buf b = VET_BUF_INIT;
    struct stat st;
    int rc = 0;
    if (stat(host, &st) != 0 || (st.st_mode & 07777) != a->mode)
        rc = vet_error_set(VET_EIO, "%s: mode is not %04o after writing", host, a->mode);
    else if (vet_fs_read(&b, host, (size_t)1 << 30) || b.size != a->len ||
             memcmp(b.ptr ? b.ptr : "", a->data, a->len))
        rc = vet_error_set(VET_EIO, "%s: bytes read back differ from those written", host);
    if (b.ptr)
        memset(b.ptr, 0, b.size);
    vet_buf_free(&b);
    return rc;
}

static int run_step(const vet_plan *p, const vet_action *a, origs *o,
                    const vet_plan_apply_opts *opts, char **undo, vet_strv *dirs,
                    vet_atomic **staged)
{
    orig *g =
        (a->kind == VET_ACT_WRITE || a->kind == VET_ACT_REMOVE) ? find_orig(o, a->path) : NULL;
    int rc;
    if (g)
        g->touched = 1;
    switch (a->kind) {
    case VET_ACT_WRITE:
        rc = vet_atomic_commit(*staged, VET_ATOMIC_NO_DIRSYNC | VET_ATOMIC_SYNCED, NULL);
        *staged = NULL;
        if (rc || (rc = note_dir(dirs, g->host)))
            return rc;
        if ((rc = set_owner(g->host, a->uid >= 0 ? a->uid : (g->existed ? g->uid : -1),
                            a->gid >= 0 ? a->gid : (g->existed ? g->gid : -1))))
            return rc;
        return verify_write(a, g->host);
    case VET_ACT_REMOVE:
        if (unlink(g->host) != 0 && errno != ENOENT)
            return vet_error_set(VET_EIO, "%s: cannot remove: %s", g->host, strerror(errno));
        return 0;
    case VET_ACT_API_UPDATE:
        return opts && opts->api ? opts->api(a, undo, opts->api_arg) : 0;
    case VET_ACT_API_CREATE:
        /* no operator fallback: a create the plan cannot make must not pass as done */
        return opts && opts->api ? opts->api(a, undo, opts->api_arg)
                                 : vet_error_set(VET_EINPUT, "create %s %s: no API client",
                                                 a->api_kind, a->api_name);
    case VET_ACT_COMMAND:
        return 0;
    case VET_ACT_CALL:
        return opts->call(a, undo, opts->call_arg);
    }
    (void)p;
    return 0;
}

/* A step that failed before its rename left the file as it was: nothing to undo (and a write
 * into the folder that just refused one would only fail again). */
static int unchanged(const orig *g)
{
    vet_buf b = VET_BUF_INIT;
    struct stat st;
    int same;
    if (!g->existed)
        return lstat(g->host, &st) != 0 && errno == ENOENT;
    if (stat(g->host, &st) != 0 || (st.st_mode & 07777) != g->mode)
        return 0;
    same = !vet_fs_read(&b, g->host, (size_t)1 << 30) && b.size == g->data.size &&
           !memcmp(b.ptr ? b.ptr : "", g->data.ptr ? g->data.ptr : "", b.size);
    if (b.ptr)
        memset(b.ptr, 0, b.size);
    vet_buf_free(&b);
    return same;
}

/* Undo the API updates applied (newest first: a later step may have built on an earlier one),
 * then every touched path from what was read before (the backup folder holds the same). The
 * objects go first: they are what a half-converted node would otherwise be talking to. */
static int rollback(origs *o, const vet_plan *p, char **undo, const vet_plan_apply_opts *opts)
{
    int rc = 0;
    for (size_t i = p->n; undo && i-- > 0;) {
        int r;
        if (!undo[i])
            continue;
        if (p->v[i].kind == VET_ACT_CALL)
            r = opts->call_undo ? opts->call_undo(&p->v[i], undo[i], opts->call_arg)
                                : vet_error_set(VET_EINPUT, "%s: no way to undo it", p->v[i].op);
        else
            r = opts && opts->api_undo
                    ? opts->api_undo(&p->v[i], undo[i], opts->api_arg)
                    : vet_error_set(VET_EINPUT, "%s %s: no way to undo the update",
                                    p->v[i].api_kind, p->v[i].api_name);
        if (r && !rc)
            rc = r;
    }
    for (size_t i = o->n; i-- > 0;) {
        orig *g = &o->v[i];
        int r = 0;
        if (!g->touched || g->keep || unchanged(g))
            continue;
        if (g->existed) {
            r = vet_atomic_write_file(g->host, g->data.ptr ? g->data.ptr : "", g->data.size,
                                      g->mode, 0, NULL);
            if (!r)
                r = set_owner(g->host, g->uid, g->gid);
        } else if (unlink(g->host) != 0 && errno != ENOENT) {
            r = vet_error_set(VET_EIO, "%s: %s", g->host, strerror(errno));
        }
        if (r && !rc)
            rc = r;
    }
    return rc;
}

/* Every file the plan writes goes to its temporary name first; they are made durable together
 * (with the backup, see sync_staged) and a step then only renames. A write that fails here
 * changes nothing. *at is the step of the failing file. */
static int stage_writes(vet_atomic **staged, const vet_plan *p, origs *o, size_t *at)
{
    int rc = 0;
    for (size_t i = 0; i < p->n && !rc; i++) {
        const vet_action *a = &p->v[i];
        *at = i;
        if (a->kind == VET_ACT_WRITE &&
            !(rc = vet_atomic_open(&staged[i], find_orig(o, a->path)->host, a->mode)))
            rc = vet_atomic_write(staged[i], a->data, a->len);
    }
    return rc;
}

/* One round of flushes for the backup's staged files and the plan's: *at is the failing step
 * (or p->n when the backup's part failed). */
static int sync_staged(backup *b, vet_atomic **staged, size_t nsteps, size_t *at)
{
    vet_atomic **all = calloc(b->n + nsteps + 1, sizeof *all);
    size_t failed = 0;
    int rc;
    if (!all)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (b->n)
        memcpy(all, b->w, b->n * sizeof *all);
    if (nsteps)
        memcpy(all + b->n, staged, nsteps * sizeof *all);
    if ((rc = vet_atomic_sync_all(all, b->n + nsteps, &failed))) {
        *at = failed >= b->n ? failed - b->n : nsteps;
        if (failed < b->n)
            backup_failed(b, rc);
    }
    free(all);
    return rc;
}

int vet_plan_apply(vet_plan *p, const vet_plan_apply_opts *opts, vet_plan_result *res)
{
    origs o = {0};
    backup bk;
    vet_strv dirs = VET_STRV_INIT;
    vet_atomic **staged = NULL;
    char **undo = NULL;
    int rc;
    size_t i = 0, saved = 0;
    memset(res, 0, sizeof *res);
    memset(&bk, 0, sizeof bk);
    if (p->refused)
        return vet_error_set(VET_EINPUT, "%s: refused: %s", p->title, p->refused);
    if (!(undo = calloc(p->n ? p->n : 1, sizeof *undo)) ||
        !(staged = calloc(p->n ? p->n : 1, sizeof *staged))) {
        free(undo);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    /* An operation only a hook can perform: without the hook, nothing may start. */
    for (size_t k = 0; k < p->n; k++)
        if (p->v[k].kind == VET_ACT_CALL && !(opts && opts->call)) {
            free(undo);
            free(staged);
            return vet_error_set(VET_EINPUT, "%s: step %zu (%s) needs a caller that performs it",
                                 p->title, k + 1, p->v[k].op);
        }
    if ((rc = snapshot(&o, p)))
        goto done;
    for (size_t k = 0; k < o.n; k++)
        saved += !o.v[k].keep;
    if (saved && (rc = backup_stage(&bk, p, &o,
                                    opts && opts->now ? opts->now : (int64_t)time(NULL))))
        goto done;
    /* Until the backup is finished nothing has changed: a failure removes it and stops. */
    rc = stage_writes(staged, p, &o, &i);
    if (!rc)
        rc = sync_staged(&bk, staged, p->n, &i);
    if (!rc && bk.dir) {
        i = p->n;
        rc = backup_finish(&bk, &o);
    }
    if (rc) {
        if (i < p->n) {
            char keep[1024];
            snprintf(keep, sizeof keep, "%s", vet_error_last());
            vet_error_set(rc, "%s (step %zu of %zu); nothing was changed", keep, i + 1, p->n);
        }
        goto done;
    }
    res->backup_dir = bk.dir;
    bk.dir = NULL; /* kept */
    for (i = 0; i < p->n; i++) {
        if ((rc = run_step(p, &p->v[i], &o, opts, &undo[i], &dirs, &staged[i])) ||
            (opts && opts->verify && (rc = opts->verify(p, i, opts->arg))))
            break;
    }
    /* The renames made durable, each folder once (a failure undoes every step, as a failed
     * step does). */
    if (!rc)
        rc = sync_dirs(&dirs);
    if (!rc && opts && opts->verify)
        rc = opts->verify(p, p->n, opts->arg);
    if (rc) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", vet_error_last());
        res->rolled_back = 1;
        if (rollback(&o, p, undo, opts)) {
            res->rollback_failed = 1;
            if (res->backup_dir)
                vet_error_set(rc,
                              "%s (step %zu); undoing failed too (%s): restore with kubevet "
                              "restore %s --apply",
                              keep, i + 1, vet_error_last(), res->backup_dir);
            else /* the caller knows its own way back (a file the plan kept) */
                vet_error_set(rc, "%s (step %zu); undoing failed too (%s)", keep, i + 1,
                              vet_error_last());
        } else {
            vet_error_set(rc, "%s (step %zu of %zu); every change was undone", keep,
                          i < p->n ? i + 1 : p->n, p->n);
        }
        goto done;
    }
    res->applied = p->n;
done:
    for (size_t k = 0; k < p->n; k++) {
        vet_atomic_abort(staged[k]); /* a step not reached: its temporary file goes */
        free(undo[k]);
    }
    free(staged);
    free(undo);
    backup_drop(&bk);
    vet_strv_free(&dirs);
    origs_free(&o);
    return rc;
}

void vet_plan_result_clear(vet_plan_result *res)
{
    free(res->backup_dir);
    memset(res, 0, sizeof *res);
}
