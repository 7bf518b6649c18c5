/* The IDs etcd derives when a cluster is bootstrapped (`etcd --initial-cluster-state new` and
 * `etcdctl snapshot restore`), etcd 3.x etcdserver/api/membership:
 *   newMember:  sort.Strings(peerURLs); SHA-1(concat(peerURLs) || clusterToken) -> first 8 bytes
 *               big-endian (members added at runtime also mix in the time: not derivable);
 *   genID:      SHA-1(each member ID ascending, 8 bytes big-endian) -> first 8 bytes big-endian.
 * Verified against etcd 3.4.23 (tests/t_etcd_live.sh compares with a real restore). */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kubevet/etcd.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int sha1_parts(unsigned char md[20], const void *const *parts, const size_t *lens, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : vet_error_set(VET_ENOMEM, "SHA-1 failed");
}

int vet_etcd_member_id(uint64_t *out, const char *const *peer_urls, size_t n, const char *token)
{
    const char **sorted = NULL;
    const void **parts = NULL;
    size_t *lens = NULL;
    unsigned char md[20];
    int rc = 0;

    *out = 0;
    sorted = calloc(n + 1, sizeof *sorted);
    parts = calloc(n + 1, sizeof *parts);
    lens = calloc(n + 1, sizeof *lens);
    if (!sorted || !parts || !lens) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(sorted, peer_urls, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    for (size_t i = 0; i < n; i++) {
        parts[i] = sorted[i];
        lens[i] = strlen(sorted[i]);
    }
    parts[n] = token ? token : "";
    lens[n] = token ? strlen(token) : 0;
    if ((rc = sha1_parts(md, parts, lens, n + 1)))
        goto done;
    *out = be64(md);
done:
    free(sorted);
    free(parts);
    free(lens);
    return rc;
}

int vet_etcd_cluster_id(uint64_t *out, const uint64_t *member_ids, size_t n)
{
    uint64_t *ids = NULL;
    unsigned char *b = NULL, md[20];
    int rc = 0;

    *out = 0;
    ids = calloc(n + 1, sizeof *ids);
    b = calloc(n + 1, 8);
    if (!ids || !b) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(ids, member_ids, n * sizeof *ids);
    qsort(ids, n, sizeof *ids, cmp_u64);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 8; j++)
            b[8 * i + (size_t)j] = (unsigned char)(ids[i] >> (56 - 8 * j));
    {
        const void *parts[1] = {b};
        size_t lens[1] = {8 * n};
        if ((rc = sha1_parts(md, parts, lens, 1)))
            goto done;
    }
    *out = be64(md);
done:
    free(ids);
    free(b);
    return rc;
}
