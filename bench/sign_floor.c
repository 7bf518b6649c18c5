/* The floor of a renewal that keeps its keys: one process that loads OpenSSL, reads each CA's
 * certificate and key and each leaf certificate of a kubeadm node, and signs a copy of every
 * leaf with its CA (new serial and dates), on two threads (one per CA group, as kubevet signs).
 * It checks nothing: what is left of a renewal when everything kubevet adds (reading the whole
 * node, checks before and after, the backup) is taken away. Alone it writes nothing; with -w it
 * also writes the 11 certificates durably, the cheapest way that survives a crash: each to a
 * temporary file in ROOT/floor/, one round of fsyncs (writeback started for all first), the
 * renames, one fsync of the folder.
 *   cc -O2 bench/sign_floor.c -o sign_floor -lcrypto -lpthread && ./sign_floor [-w] ROOT */
#define _GNU_SOURCE /* sync_file_range */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *ca;
    const char *leaves[8];
} group;

/* The 7 PKI leaves; the 4 kubeconfig client certificates are signed by the cluster CA too and
 * are counted as 4 more copies of apiserver-kubelet-client (same size, same CA). */
static const group groups[] = {
    {"ca",
     {"apiserver", "apiserver-kubelet-client", "apiserver-kubelet-client",
      "apiserver-kubelet-client", "apiserver-kubelet-client", "apiserver-kubelet-client"}},
    {"etcd/ca",
     {"etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client"}},
    {"front-proxy-ca", {"front-proxy-client"}},
};

static const char *root;
static int write_out;
static unsigned char *pem[24]; /* the signed certificates, PEM, when -w */
static long pem_len[24];

static void *load(const char *rel, const char *ext, int key)
{
    char path[4096];
    FILE *f;
    void *v;
    snprintf(path, sizeof path, "%s/etc/kubernetes/pki/%s.%s", root, rel, ext);
    if (!(f = fopen(path, "r"))) {
        perror(path);
        exit(1);
    }
    v = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL) : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!v) {
        fprintf(stderr, "%s: not PEM\n", path);
        exit(1);
    }
    return v;
}

static void *sign_group(void *arg)
{
    const group *g = arg;
    int slot = (int)(g - groups) * 8; /* where this group's certificates go in pem[] */
    EVP_PKEY *key = load(g->ca, "key", 1);
    X509 *ca = load(g->ca, "crt", 0);
    for (int i = 0; i < 8 && g->leaves[i]; i++) {
        X509 *x = load(g->leaves[i], "crt", 0);
        unsigned char serial[16];
        BIGNUM *bn;
        if (RAND_bytes(serial, sizeof serial) != 1 || !(bn = BN_bin2bn(serial, sizeof serial, NULL)) ||
            !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
            !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) || !X509_sign(x, key, EVP_sha256()))
            exit(1);
        BN_free(bn);
        if (write_out) {
            BIO *b = BIO_new(BIO_s_mem());
            char *d;
            if (!b || !PEM_write_bio_X509(b, x))
                exit(1);
            pem_len[slot + i] = BIO_get_mem_data(b, &d);
            pem[slot + i] = malloc((size_t)pem_len[slot + i]);
            memcpy(pem[slot + i], d, (size_t)pem_len[slot + i]);
            BIO_free(b);
        }
        X509_free(x);
    }
    X509_free(ca);
    EVP_PKEY_free(key);
    return NULL;
}

/* Temporary files, one round of fsyncs, the renames, the folder's fsync. */
static void write_all(void)
{
    char dir[4096], tmp[4200], fin[4200];
    int fd[24], n = 0;
    snprintf(dir, sizeof dir, "%s/floor", root);
    mkdir(dir, 0755);
    for (int i = 0; i < 24; i++) {
        if (!pem[i])
            continue;
        snprintf(tmp, sizeof tmp, "%s/.%d.tmp", dir, i);
        if ((fd[n] = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
            write(fd[n], pem[i], (size_t)pem_len[i]) != pem_len[i])
            exit(1);
        n++;
    }
    for (int k = 0; k < n; k++) /* start every writeback, then wait: one queue, not 11 */
        sync_file_range(fd[k], 0, 0, SYNC_FILE_RANGE_WRITE);
    for (int k = 0; k < n; k++)
        if (fsync(fd[k]) != 0 || close(fd[k]) != 0)
            exit(1);
    for (int i = 0; i < 24; i++) {
        if (!pem[i])
            continue;
        snprintf(tmp, sizeof tmp, "%s/.%d.tmp", dir, i);
        snprintf(fin, sizeof fin, "%s/%d.crt", dir, i);
        if (rename(tmp, fin) != 0)
            exit(1);
        free(pem[i]);
    }
    if ((fd[0] = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || fsync(fd[0]) != 0)
        exit(1);
    close(fd[0]);
}

int main(int argc, char **argv)
{
    pthread_t t[2];
    if (argc == 3 && !strcmp(argv[1], "-w")) {
        write_out = 1;
        argv++;
        argc--;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: sign_floor [-w] ROOT\n");
        return 2;
    }
    root = argv[1];
    /* the cluster CA's group on one thread, the two others on the second */
    pthread_create(&t[0], NULL, sign_group, (void *)&groups[0]);
    pthread_create(&t[1], NULL, sign_group, (void *)&groups[1]);
    pthread_join(t[1], NULL);
    sign_group((void *)&groups[2]);
    pthread_join(t[0], NULL);
    if (write_out)
        write_all();
    return 0;
}
