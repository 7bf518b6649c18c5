/* The floor of a renewal that keeps its keys: one process that loads OpenSSL, reads each CA's
 * certificate and key and each leaf certificate of a kubeadm node, and signs a copy of every
 * leaf with its CA (new serial and dates), on two threads (one per CA group, as kubevet signs).
 * It writes nothing and checks nothing: what is left of a renewal when everything kubevet adds
 * (reading the whole node, checks before and after, backup, durable writes) is taken away.
 *   cc -O2 bench/sign_floor.c -o sign_floor -lcrypto -lpthread && ./sign_floor ROOT */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

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
        X509_free(x);
    }
    X509_free(ca);
    EVP_PKEY_free(key);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[2];
    if (argc != 2) {
        fprintf(stderr, "usage: sign_floor ROOT\n");
        return 2;
    }
    root = argv[1];
    /* the cluster CA's group on one thread, the two others on the second */
    pthread_create(&t[0], NULL, sign_group, (void *)&groups[0]);
    pthread_create(&t[1], NULL, sign_group, (void *)&groups[1]);
    pthread_join(t[1], NULL);
    sign_group((void *)&groups[2]);
    pthread_join(t[0], NULL);
    return 0;
}
