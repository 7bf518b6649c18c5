/* The ways back and around that are not a plan's steps: a plan that puts a backup folder back
 * (read from its MANIFEST), and the static pod restarts that follow a renewal. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "plan_int.h"
#include "vtime.h"

/* ---- restore ---- */

int vet_plan_from_backup(vet_plan **out, const char *backup_dir, const char *root)
{
    vet_buf man = VET_BUF_INIT;
    char *mpath = NULL, *real = NULL, *parent = NULL, *derived = NULL;
    vet_plan *p = NULL;
    int rc = 0;
    size_t lineno = 0;
    *out = NULL;
    if (!(mpath = vet_strdupf("%s/%s", backup_dir, PLAN_MANIFEST)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if ((rc = vet_fs_read(&man, mpath, 1 << 20))) {
        if (rc == VET_ENOTFOUND)
            rc = vet_error_set(VET_EINPUT, "%s: not a kubevet backup (no %s)", backup_dir,
                               PLAN_MANIFEST);
        goto done;
    }
    /* backup-parent comes first: it says where the root is relative to the folder. */
    for (char *s = man.ptr; s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        if (!strncmp(s, "backup-parent ", 14) && !parent)
            parent = strdup(s + 14);
        if (nl)
            *nl = '\n';
        s = nl ? nl + 1 : NULL;
    }
    if (!parent) {
        rc = vet_error_set(VET_EINPUT, "%s: no backup-parent line", mpath);
        goto done;
    }
    /* The restore's own backup goes there: it must stay under the root. */
    if (parent[0] == '/' || strstr(parent, "..") || strchr(parent, '\n')) {
        rc = vet_error_set(VET_EINPUT, "%s: backup-parent %s leaves the root", mpath, parent);
        goto done;
    }
    if (!root) {
        size_t rl, pl = strlen(parent);
        char *slash;
        if (!(real = realpath(backup_dir, NULL))) {
            rc = vet_error_set(VET_EIO, "%s: %s", backup_dir, strerror(errno));
            goto done;
        }
        if ((slash = strrchr(real, '/')))
            *slash = '\0';
        rl = strlen(real);
        if (rl < pl + 1 || strcmp(real + rl - pl, parent) || real[rl - pl - 1] != '/') {
            rc = vet_error_set(VET_EINPUT,
                               "%s: the backup is not in <root>/%s: say where the root is with "
                               "--root",
                               backup_dir, parent);
            goto done;
        }
        real[rl - pl - 1] = '\0';
        derived = strdup(*real ? real : "/");
        root = derived;
    }
    if ((rc = vet_plan_new(&p, root, "restore", parent)))
        goto done;
    lineno = 0;
    for (char *s = man.ptr; s && *s && !rc;) {
        char *nl = strchr(s, '\n');
        unsigned mode;
        long uid, gid;
        int off = 0;
        if (nl)
            *nl = '\0';
        lineno++;
        if (!strncmp(s, "absent ", 7)) {
            char *why = vet_strdupf("did not exist before %s", backup_dir);
            rc = vet_plan_add_remove(p, s + 7, why);
            free(why);
        } else if (sscanf(s, "saved %o %ld %ld %n", &mode, &uid, &gid, &off) == 3 && off > 0) {
            vet_buf data = VET_BUF_INIT;
            char *src = NULL, *why = NULL;
            struct stat st;
            if (strstr(s + off, "..") || !(src = vet_strdupf("%s/%s", backup_dir, s + off))) {
                rc = vet_error_set(VET_EINPUT, "%s:%zu: bad path", mpath, lineno);
            } else if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
                rc = vet_error_set(VET_EINPUT, "%s:%zu: %s is missing from the backup", mpath,
                                   lineno, s + off);
            } else if (!(rc = vet_fs_read(&data, src, (size_t)1 << 30))) {
                int secret = data.ptr && strstr(data.ptr, "PRIVATE KEY-----") != NULL;
                why = vet_strdupf("as saved in %s", backup_dir);
                rc = vet_plan_add_write(p, s + off, data.ptr ? data.ptr : "", data.size, mode,
                                        secret ? VET_WRITE_SECRET : 0,
                                        secret ? "the saved private key" : NULL, NULL, NULL, why);
                if (!rc)
                    vet_plan_set_owner(p, uid, gid);
            }
            if (data.ptr)
                memset(data.ptr, 0, data.size);
            vet_buf_free(&data);
            free(src);
            free(why);
        } else if (*s && *s != '#' && strncmp(s, "backup-parent ", 14) &&
                   strncmp(s, "created ", 8)) {
            rc = vet_error_set(VET_EINPUT, "%s:%zu: unknown line", mpath, lineno);
        }
        if (nl)
            *nl = '\n';
        s = nl ? nl + 1 : NULL;
    }
done:
    vet_buf_free(&man);
    free(mpath);
    free(real);
    free(parent);
    free(derived);
    if (rc) {
        vet_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- static pod restarts ---- */

int vet_plan_restart_static_pods(const char *root, const char *const *names, size_t n,
                                 unsigned wait_seconds)
{
    return vet_plan_restart_static_pods_wait(root, names, n, wait_seconds, NULL, NULL);
}

int vet_plan_restart_static_pods_wait(const char *root, const char *const *names, size_t n,
                                      unsigned wait_seconds, int (*wait)(void *arg, int back),
                                      void *arg)
{
    char stamp[32], *side = NULL;
    int rc = 0;
    size_t moved = 0;
    char **from = calloc(n ? n : 1, sizeof *from), **to = calloc(n ? n : 1, sizeof *to);
    if (!from || !to) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    vet_time_format_compact(stamp, (int64_t)time(NULL));
    side =
        vet_strdupf("%s/etc/kubernetes/kubevet-restart-%s", strcmp(root, "/") ? root : "", stamp);
    if (!side || (mkdir(side, 0700) != 0 && errno != EEXIST)) {
        rc = vet_error_set(VET_EIO, "%s: cannot create: %s", side ? side : "?", strerror(errno));
        goto done;
    }
    /* The kubelet stops a static pod whose manifest leaves staticPodPath, and starts it again
     * when it comes back (what kubeadm's docs have operators do after `certs renew`). */
    for (size_t i = 0; i < n && !rc; i++) {
        from[moved] = vet_strdupf("%s/etc/kubernetes/manifests/%s.yaml",
                                  strcmp(root, "/") ? root : "", names[i]);
        to[moved] = vet_strdupf("%s/%s.yaml", side, names[i]);
        if (!from[moved] || !to[moved]) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
        } else if (!vet_fs_exists(from[moved])) {
            free(from[moved]);
            free(to[moved]);
            from[moved] = to[moved] = NULL;
        } else if (rename(from[moved], to[moved]) != 0) {
            rc = vet_error_set(VET_EIO, "%s: cannot move aside: %s", from[moved], strerror(errno));
            free(from[moved]);
            free(to[moved]);
            from[moved] = to[moved] = NULL;
        } else {
            moved++;
        }
    }
    if (moved && !rc) {
        if (wait)
            rc = wait(arg, 0);
        else
            sleep(wait_seconds);
    }
    for (size_t i = 0; i < moved; i++)
        if (rename(to[i], from[i]) != 0 && !rc)
            rc = vet_error_set(VET_EIO, "%s: cannot move back to %s: %s (move it by hand)", to[i],
                               from[i], strerror(errno));
    if (!rc)
        rmdir(side);
    if (moved && !rc && wait)
        rc = wait(arg, 1);
done:
    for (size_t i = 0; i < n && from && to; i++) {
        free(from[i]);
        free(to[i]);
    }
    free(from);
    free(to);
    free(side);
    return rc;
}
