/* The node layout as `check --root` reads it: the input becomes a kubeadm root (a temp folder,
 * removed at exit), its sections split at NUL bytes going to the kube-apiserver static pod, the
 * kubelet config, kubeadm-flags.env, kubelet.conf, etc/hostname and admin.conf in that order.
 * Test code: the files are fixtures written here, not by kubevet. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubevet/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {
    "etc/kubernetes/manifests/kube-apiserver.yaml",
    "var/lib/kubelet/config.yaml",
    "var/lib/kubelet/kubeadm-flags.env",
    "etc/kubernetes/kubelet.conf",
    "etc/hostname",
    "etc/kubernetes/admin.conf",
};
static const char *const dirs[] = {"etc", "etc/kubernetes", "etc/kubernetes/manifests",
                                   "var", "var/lib",        "var/lib/kubelet"};
#define NFILES (sizeof files / sizeof files[0])
#define NDIRS (sizeof dirs / sizeof dirs[0])

static char root[64];

static void cleanup(void)
{
    char p[256];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        unlink(p);
    }
    for (size_t i = NDIRS; i-- > 0;) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        rmdir(p);
    }
    rmdir(root);
}

static int setup(void)
{
    char p[256];
    strcpy(root, "/tmp/kv-fuzz-node-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    atexit(cleanup);
    for (size_t i = 0; i < NDIRS; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        if (mkdir(p, 0700))
            return -1;
    }
    return 0;
}

static void put(const char *rel, const uint8_t *p, size_t n, int present)
{
    char path[256];
    int fd;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    unlink(path);
    if (!present)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            break;
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready = -2;
    vet_node *n = NULL;
    size_t off = 0;
    if (ready == -2)
        ready = setup();
    if (ready)
        return 0;
    for (size_t i = 0; i < NFILES; i++) {
        const uint8_t *nul = off < size ? memchr(data + off, 0, size - off) : NULL;
        size_t end = nul ? (size_t)(nul - data) : size;
        put(files[i], data + off, end - off, off < size || i == 0);
        off = nul ? end + 1 : size;
    }
    if (vet_node_load(&n, root, NULL) == 0)
        vet_node_free(n);
    return 0;
}
