/* Unit tests for the pki module. Fixtures: tests/data/pki (regenerate with gen.sh there; they
 * are valid until 2126, and nothing here depends on the current time) and the upstream test
 * files under ../shared/peer-fixtures (skipped when that folder is absent). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "kubevet/pki.h"
#include "pki/pki_int.h" /* the per-thread library contexts: which provider holds a key */

static char *src_path(const char *rel)
{
    const char *src = getenv("KV_SRC");
    return vet_strdupf("%s/%s", src && *src ? src : ".", rel);
}

static char *data_path(const char *name)
{
    char buf[512];
    snprintf(buf, sizeof buf, "tests/data/pki/%s", name);
    return src_path(buf);
}

static char *peer_path(const char *rel)
{
    char buf[512];
    snprintf(buf, sizeof buf, "../shared/peer-fixtures/%s", rel);
    return src_path(buf);
}

static int read_path(vet_buf *b, const char *path)
{
    vet_buf_clear(b);
    return vet_fs_read(b, path, VET_FS_DEFAULT_CAP);
}

/* Parse a file (tests/data/pki/<name>) into p; returns vet_pki_parse's code. */
static int parse_at(vet_pem *p, const char *path)
{
    vet_buf b = VET_BUF_INIT;
    int rc = read_path(&b, path);
    assert_int_equal(rc, 0);
    rc = vet_pki_parse(p, (const unsigned char *)b.ptr, b.size, path);
    vet_buf_free(&b);
    return rc;
}

static void parse_ok(vet_pem *p, const char *name)
{
    char *path = data_path(name);
    int rc = parse_at(p, path);
    if (rc != 0)
        fail_msg("%s: %s", name, vet_error_last());
    free(path);
}

/* A peer fixture, or skip the test when ../shared is not there (e.g. a CI checkout). */
static char *peer_or_skip(const char *rel)
{
    char *path = peer_path(rel);
    if (!vet_fs_exists(path)) {
        print_message("skip: %s absent (a clone without ../shared)\n", path);
        free(path);
        skip();
    }
    return path;
}

static vet_cert *one_cert(const char *name)
{
    vet_pem p = {0};
    vet_cert *c;
    parse_ok(&p, name);
    assert_true(p.ncerts >= 1);
    c = vet_cert_ref(p.certs[0]);
    vet_pem_clear(&p);
    return c;
}

static vet_key *take_key(vet_pem *p, int priv)
{
    vet_key *k;
    if (priv) {
        assert_int_equal(p->nkeys, 1);
        k = p->keys[0];
        p->nkeys = 0;
    } else {
        assert_int_equal(p->npubkeys, 1);
        k = p->pubkeys[0];
        p->npubkeys = 0;
    }
    return k;
}

static vet_key *one_key(const char *name, int priv)
{
    vet_pem p = {0};
    vet_key *k;
    parse_ok(&p, name);
    k = take_key(&p, priv);
    vet_pem_clear(&p);
    return k;
}

static void test_bundle(void **state)
{
    vet_pem p = {0};
    (void)state;
    /* Text before the first block, an EC PARAMETERS block and a CSR are skipped. */
    parse_ok(&p, "bundle.pem");
    assert_int_equal(p.ncerts, 2);
    assert_int_equal(p.nkeys, 1);
    assert_int_equal(p.npubkeys, 0);
    assert_string_equal(vet_cert_cn(p.certs[0]), "kube-apiserver");
    assert_string_equal(vet_cert_cn(p.certs[1]), "kubernetes");
    assert_true(vet_key_matches_cert(p.keys[0], p.certs[0]));
    assert_false(vet_key_matches_cert(p.keys[0], p.certs[1]));
    assert_true(vet_cert_issued_by_name(p.certs[0], p.certs[1]));
    vet_pem_clear(&p);
    vet_pem_clear(&p); /* idempotent */
    vet_pem_clear(NULL);
}

static void test_append(void **state)
{
    vet_pem p = {0};
    (void)state;
    parse_ok(&p, "bundle.pem");
    parse_ok(&p, "ca.crt");
    parse_ok(&p, "sa.pub");
    assert_int_equal(p.ncerts, 3);
    assert_int_equal(p.nkeys, 1);
    assert_int_equal(p.npubkeys, 1);
    assert_string_equal(vet_cert_cn(p.certs[2]), "kubernetes");
    vet_pem_clear(&p);
}

static void test_der_cert(void **state)
{
    vet_cert *pem = one_cert("apiserver.crt"), *der = one_cert("apiserver.der");
    (void)state;
    assert_true(vet_cert_equal(pem, der));
    assert_string_equal(vet_cert_sha256(der), "E8:76:0C:9C:0A:A2:23:46:63:61:9A:1D:3E:68:FD:6B:44:"
                                              "C0:6F:83:9B:64:4F:E0:1D:BB:0B:9C:58:18:78:5B");
    assert_string_equal(vet_cert_sha256(pem), vet_cert_sha256(der));
    vet_cert_free(pem);
    vet_cert_free(der);
}

struct cert_case {
    const char *file, *subject, *issuer, *cn, *serial, *key_type;
    int bits;
    const char *sig_alg;
    int weak, is_ca;
};

static const struct cert_case cert_cases[] = {
    {"apiserver.crt", "CN=kube-apiserver", "CN=kubernetes", "kube-apiserver", "1a2b3c", "RSA-2048",
     2048, "sha256WithRSAEncryption", 0, 0},
    {"ca.crt", "CN=kubernetes", "CN=kubernetes", "kubernetes", NULL, "RSA-2048", 2048,
     "sha256WithRSAEncryption", 0, 1},
    {"client.crt", "CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins,O=system:masters",
     "CN=kubernetes", "kube-apiserver-kubelet-client", "02", "EC-P256", 256,
     "sha256WithRSAEncryption", 0, 0},
    {"ec.crt", "CN=ec-ca", "CN=ec-ca", "ec-ca", "0d006b658e731b73c0ac074ba81d4e3295175094",
     "EC-P256", 256, "ecdsa-with-SHA256", 0, 1},
    {"ec384.crt", "CN=ec384", "CN=ec384", "ec384", NULL, "EC-P384", 384, "ecdsa-with-SHA384", 0,
     1}, /* req -x509 adds CA:TRUE by default */
    {"ed25519.crt", "CN=ed25519", "CN=ed25519", "ed25519", NULL, "Ed25519", 256, "ED25519", 0, 1},
    {"sha1.crt", "CN=sha1-leaf", "CN=kubernetes", "sha1-leaf", "03", "RSA-2048", 2048,
     "sha1WithRSAEncryption", 1, 0},
    {"intermediate.crt", "O=kubevet,CN=intermediate", "CN=kubernetes", "intermediate", "04",
     "EC-P256", 256, "sha256WithRSAEncryption", 0, 1},
    {"peer.crt", "CN=etcd-peer", "O=kubevet,CN=intermediate", "etcd-peer", "05", "Ed25519", 256,
     "ecdsa-with-SHA256", 0, 0},
};

static void test_cert_facts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cert_cases / sizeof cert_cases[0]; i++) {
        const struct cert_case *t = &cert_cases[i];
        vet_cert *c = one_cert(t->file);
        print_message("%s\n", t->file);
        assert_string_equal(vet_cert_subject(c), t->subject);
        assert_string_equal(vet_cert_issuer(c), t->issuer);
        assert_string_equal(vet_cert_cn(c), t->cn);
        if (t->serial)
            assert_string_equal(vet_cert_serial(c), t->serial);
        assert_string_equal(vet_cert_key_type(c), t->key_type);
        assert_int_equal(vet_cert_key_bits(c), t->bits);
        assert_string_equal(vet_cert_sig_alg(c), t->sig_alg);
        assert_int_equal(vet_cert_sig_weak(c), t->weak);
        assert_int_equal(vet_cert_is_ca(c), t->is_ca);
        /* Generated with -days 36500: valid for a century. */
        assert_true(vet_cert_not_after(c) - vet_cert_not_before(c) == 36500LL * 86400);
        assert_int_equal(strlen(vet_cert_sha256(c)), 95);
        assert_int_equal(strlen(vet_cert_spki_hash(c)), 71);
        vet_cert_free(c);
    }
}

static void test_orgs(void **state)
{
    vet_cert *c = one_cert("client.crt"), *a = one_cert("apiserver.crt");
    const vet_strv *o = vet_cert_orgs(c);
    (void)state;
    assert_int_equal(o->n, 2);
    assert_string_equal(o->v[0], "system:masters");
    assert_string_equal(o->v[1], "kubeadm:cluster-admins");
    assert_int_equal(vet_cert_orgs(a)->n, 0);
    assert_int_equal(vet_cert_dns(c)->n, 0);
    assert_int_equal(vet_cert_ips(c)->n, 0);
    vet_cert_free(c);
    vet_cert_free(a);
}

static void test_sans(void **state)
{
    static const char *dns[] = {"kubernetes", "kubernetes.default", "*.svc.example.com"};
    static const char *ips[] = {"10.96.0.1", "::1", "2001:db8::10", "192.168.1.10"};
    vet_cert *c = one_cert("apiserver.crt");
    const vet_strv *d = vet_cert_dns(c), *ip = vet_cert_ips(c);
    (void)state;
    assert_int_equal(d->n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(d->v[i], dns[i]);
    assert_int_equal(ip->n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(ip->v[i], ips[i]);
    vet_cert_free(c);
}

static void test_covers(void **state)
{
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        {"kubernetes", 1},
        {"KUBERNETES.Default", 1},
        {"kubernetes.default.", 1},
        {"kubernetes.default.svc", 0},
        {"a.svc.example.com", 1},
        {"A.SVC.EXAMPLE.COM", 1},
        {"*.svc.example.com", 1},
        {"svc.example.com", 0},
        {"a.b.svc.example.com", 0},
        {".svc.example.com", 0},
        {"10.96.0.1", 1},
        {"::ffff:10.96.0.1", 1},
        {"10.96.0.2", 0},
        {"::1", 1},
        {"0:0:0:0:0:0:0:1", 1},
        {"[::1]", 1},
        {"2001:DB8:0:0::10", 1},
        {"2001:db8::11", 0},
        {"192.168.1.10", 1},
        {"127.0.0.1", 0},
        {"", 0},
        {".", 0},
        {"example.com", 0},
    };
    vet_cert *c = one_cert("apiserver.crt");
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (vet_cert_covers(c, cases[i].name) != cases[i].want)
            fail_msg("covers(%s) != %d", cases[i].name, cases[i].want);
    }
    assert_false(vet_cert_covers(c, NULL));
    vet_cert_free(c);
}

struct key_case {
    const char *file;
    int priv;
    const char *type;
    int bits;
};

static const struct key_case key_cases[] = {
    {"apiserver.key", 1, "RSA-2048", 2048},       /* PKCS#1 */
    {"apiserver-pkcs8.key", 1, "RSA-2048", 2048}, /* PKCS#8 */
    {"ec.key", 1, "EC-P256", 256},                /* SEC1 after an EC PARAMETERS block */
    {"ec-pkcs8.key", 1, "EC-P256", 256},
    {"ec384.key", 1, "EC-P384", 384},
    {"client.key", 1, "EC-P256", 256},
    {"ed25519.key", 1, "Ed25519", 256},     /* PKCS#8 */
    {"ed25519-key.der", 1, "Ed25519", 256}, /* DER PKCS#8 */
    {"sa.pub", 0, "RSA-2048", 2048},        /* SubjectPublicKeyInfo */
    {"sa-pkcs1.pub", 0, "RSA-2048", 2048},  /* RSA PUBLIC KEY */
    {"sa-pub.der", 0, "RSA-2048", 2048},    /* DER SubjectPublicKeyInfo */
};

static void test_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const struct key_case *t = &key_cases[i];
        vet_pem p = {0};
        print_message("%s\n", t->file);
        parse_ok(&p, t->file);
        assert_int_equal(p.ncerts, 0);
        assert_int_equal(p.nkeys, t->priv ? 1 : 0);
        assert_int_equal(p.npubkeys, t->priv ? 0 : 1);
        vet_key *k = t->priv ? p.keys[0] : p.pubkeys[0];
        assert_string_equal(vet_key_type(k), t->type);
        assert_int_equal(vet_key_bits(k), t->bits);
        assert_int_equal(vet_key_is_private(k), t->priv);
        vet_pem_clear(&p);
    }
}

/* Keys kubevet makes (rsagen.c for RSA): the type and size asked for, PKCS#1 / SEC1 PEM that
 * decodes to the same type; an odd or oversized RSA size is refused, not made. The keys' numbers
 * are judged by openssl rsa -check and python3-cryptography in t_certs_renew. */
static void test_generate(void **state)
{
    static const struct {
        const char *type, *label;
        int bits;
    } cases[] = {
        {"RSA-2048", "-----BEGIN RSA PRIVATE KEY-----", 2048},
        {"RSA-3072", "-----BEGIN RSA PRIVATE KEY-----", 3072},
        {"RSA-1024", "-----BEGIN RSA PRIVATE KEY-----", 2048}, /* never weaker than kubeadm's */
        {"EC-P256", "-----BEGIN EC PRIVATE KEY-----", 256},
    };
    vet_key *k = NULL;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vet_pem p = {0};
        char *pem = NULL;
        size_t len = 0;
        print_message("%s\n", cases[i].type);
        assert_int_equal(vet_key_generate(&k, cases[i].type), 0);
        assert_int_equal(vet_key_bits(k), cases[i].bits);
        assert_int_equal(vet_key_to_pem(&pem, &len, k), 0);
        assert_true(!strncmp(pem, cases[i].label, strlen(cases[i].label)));
        assert_int_equal(vet_pki_parse(&p, (const unsigned char *)pem, len, "gen.key"), 0);
        assert_int_equal(p.nkeys, 1);
        assert_string_equal(vet_key_type(p.keys[0]), vet_key_type(k));
        vet_pem_clear(&p);
        free(pem);
        vet_key_free(k);
        k = NULL;
    }
    /* The key decoder a thread keeps (ctx.c) still decodes after bytes that are not a key. */
    {
        vet_pem p = {0};
        char *pem = NULL, *bad;
        size_t len = 0;
        assert_int_equal(vet_key_generate(&k, "RSA-2048"), 0);
        assert_int_equal(vet_key_to_pem(&pem, &len, k), 0);
        bad = strdup(pem);
        assert_non_null(bad);
        /* the DER's first byte: 0x30 (SEQUENCE) becomes 0x34 */
        bad[strlen("-----BEGIN RSA PRIVATE KEY-----\n")] = 'N';
        assert_int_not_equal(vet_pki_parse(&p, (const unsigned char *)bad, len, "bad.key"), 0);
        vet_pem_clear(&p);
        assert_int_equal(vet_pki_parse(&p, (const unsigned char *)pem, len, "good.key"), 0);
        assert_int_equal(p.nkeys, 1);
        vet_pem_clear(&p);
        free(bad);
        free(pem);
        vet_key_free(k);
        k = NULL;
    }
    assert_int_not_equal(vet_key_generate(&k, "RSA-2049"), 0);
    assert_null(k);
    assert_int_not_equal(vet_key_generate(&k, "RSA-16384"), 0);
    assert_null(k);
}

static void test_key_matches_cert(void **state)
{
    static const struct {
        const char *key, *cert;
        int want;
    } cases[] = {
        {"apiserver.key", "apiserver.crt", 1},
        {"apiserver-pkcs8.key", "apiserver.crt", 1},
        {"apiserver.key", "sha1.crt", 1},
        {"apiserver.key", "ca.crt", 0},
        {"ca.key", "ca.crt", 1},
        {"other-ca.key", "ca.crt", 0},
        {"other-ca.key", "other-ca.crt", 1},
        {"ec.key", "ec.crt", 1},
        {"ec-pkcs8.key", "intermediate.crt", 1},
        {"ec.key", "client.crt", 0},
        {"client.key", "client.crt", 1},
        {"ec384.key", "ec384.crt", 1},
        {"ed25519.key", "ed25519.crt", 1},
        {"ed25519.key", "peer.crt", 1},
        {"ed25519.key", "ec.crt", 0},
        {"ec.key", "apiserver.crt", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vet_key *k = one_key(cases[i].key, 1);
        vet_cert *c = one_cert(cases[i].cert);
        if (vet_key_matches_cert(k, c) != cases[i].want)
            fail_msg("%s vs %s != %d", cases[i].key, cases[i].cert, cases[i].want);
        vet_key_free(k);
        vet_cert_free(c);
    }
}

static void test_sa_pair(void **state)
{
    vet_key *sa = one_key("sa.key", 1), *pub = one_key("sa.pub", 0);
    vet_key *pub1 = one_key("sa-pkcs1.pub", 0), *pubder = one_key("sa-pub.der", 0);
    vet_key *other = one_key("other.pub", 0), *ec = one_key("ec.key", 1);
    (void)state;
    assert_true(vet_key_is_private(sa));
    assert_false(vet_key_is_private(pub));
    assert_true(vet_key_matches_pub(sa, pub));
    assert_true(vet_key_matches_pub(sa, pub1));
    assert_true(vet_key_matches_pub(sa, pubder));
    assert_false(vet_key_matches_pub(sa, other));
    assert_false(vet_key_matches_pub(ec, pub));
    vet_key_free(sa);
    vet_key_free(pub);
    vet_key_free(pub1);
    vet_key_free(pubder);
    vet_key_free(other);
    vet_key_free(ec);
    vet_key_free(NULL);
}

static void test_compare(void **state)
{
    vet_cert *api = one_cert("apiserver.crt"), *sha1 = one_cert("sha1.crt");
    vet_cert *ca = one_cert("ca.crt"), *other = one_cert("other-ca.crt"), *ec = one_cert("ec.crt");
    (void)state;
    assert_true(vet_cert_same_key(api, sha1));
    assert_false(vet_cert_equal(api, sha1));
    assert_false(vet_cert_same_key(ca, other));
    assert_true(vet_cert_equal(ca, ca));
    assert_string_equal(vet_cert_spki_hash(api), vet_cert_spki_hash(sha1));
    assert_true(vet_cert_issued_by_name(api, ca));
    assert_true(vet_cert_issued_by_name(api, other)); /* name only */
    assert_false(vet_cert_issued_by_name(api, ec));
    assert_false(vet_cert_issued_by_name(ca, api));
    vet_cert_free(api);
    vet_cert_free(sha1);
    vet_cert_free(ca);
    vet_cert_free(other);
    vet_cert_free(ec);
}

static void test_ref(void **state)
{
    vet_cert *c = one_cert("ca.crt");
    vet_cert *r = vet_cert_ref(c);
    (void)state;
    assert_ptr_equal(c, r);
    vet_cert_free(c);
    assert_string_equal(vet_cert_cn(r), "kubernetes");
    vet_cert_free(r);
    vet_cert_free(NULL);
    assert_null(vet_cert_ref(NULL));
}

struct verify_case {
    const char *leaf, *anchors[2], *untrusted[2];
    int want;
    const char *why; /* substring of the reason when want == 0 */
};

static const struct verify_case verify_cases[] = {
    {"apiserver.crt", {"ca.crt"}, {NULL}, 1, NULL},
    /* Same name, other key: with an authorityKeyIdentifier (kubeadm's certs have one) the
     * impostor is not even a candidate issuer; without, the signature check fails. */
    {"apiserver.crt", {"other-ca.crt"}, {NULL}, 0, "unable to get local issuer certificate"},
    {"noakid.crt", {"other-ca.crt"}, {NULL}, 0, "certificate signature failure"},
    {"noakid.crt", {"ca.crt"}, {NULL}, 1, NULL},
    {"apiserver.crt", {"other-ca.crt", "ca.crt"}, {NULL}, 1, NULL},
    {"apiserver.crt", {"ec.crt"}, {NULL}, 0, "issuer"},
    {"apiserver.crt", {NULL}, {NULL}, 0, "issuer"},
    {"sha1.crt", {"ca.crt"}, {NULL}, 1, NULL},           /* weak, but judged by sig_weak */
    {"peer.crt", {"intermediate.crt"}, {NULL}, 1, NULL}, /* partial chain */
    {"peer.crt", {"ca.crt"}, {"intermediate.crt"}, 1, NULL},
    {"peer.crt", {"ca.crt"}, {NULL}, 0, "issuer"},
    {"peer.crt", {"other-ca.crt"}, {"intermediate.crt"}, 0, "(depth 1)"},
    {"ca.crt", {"ca.crt"}, {NULL}, 1, NULL},
    {"ed25519.crt", {"ed25519.crt"}, {NULL}, 1, NULL},
};

static vet_cert **certs_of(const char *const names[2], size_t *n)
{
    vet_cert **v = calloc(2, sizeof *v);
    *n = 0;
    for (size_t i = 0; i < 2 && names[i]; i++)
        v[(*n)++] = one_cert(names[i]);
    return v;
}

static void free_certs(vet_cert **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vet_cert_free(v[i]);
    free(v);
}

static void test_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof verify_cases / sizeof verify_cases[0]; i++) {
        const struct verify_case *t = &verify_cases[i];
        size_t na, nu;
        vet_cert **anchors = certs_of(t->anchors, &na), **unt = certs_of(t->untrusted, &nu);
        vet_cert *leaf = one_cert(t->leaf);
        vet_trust *trust = NULL;
        char why[256] = "sentinel";
        int got;
        assert_int_equal(vet_trust_new(&trust, anchors, na), 0);
        got = vet_trust_verify(trust, leaf, unt, nu, why, sizeof why);
        if (got != t->want)
            fail_msg("case %zu (%s): got %d (%s)", i, t->leaf, got, why);
        if (t->want)
            assert_string_equal(why, "");
        else if (!strstr(why, t->why))
            fail_msg("case %zu: reason '%s' lacks '%s'", i, why, t->why);
        vet_trust_free(trust);
        vet_cert_free(leaf);
        free_certs(anchors, na);
        free_certs(unt, nu);
    }
    vet_trust_free(NULL);
}

struct thread_arg {
    const vet_trust *trust;
    vet_cert *good, *bad;
    int failures;
};

static void *verify_loop(void *p)
{
    struct thread_arg *a = p;
    char why[128];
    for (int i = 0; i < 300; i++) {
        if (vet_trust_verify(a->trust, a->good, NULL, 0, why, sizeof why) != 1)
            a->failures++;
        if (vet_trust_verify(a->trust, a->bad, NULL, 0, why, sizeof why) != 0)
            a->failures++;
        if (!vet_cert_covers(a->good, "kubernetes.default") || vet_cert_key_bits(a->good) != 2048)
            a->failures++;
    }
    return NULL;
}

static void test_verify_threads(void **state)
{
    vet_cert *ca = one_cert("ca.crt"), *good = one_cert("apiserver.crt");
    vet_cert *bad = one_cert("peer.crt");
    vet_trust *trust = NULL;
    pthread_t th[2];
    struct thread_arg args[2];
    (void)state;
    assert_int_equal(vet_trust_new(&trust, &ca, 1), 0);
    for (int i = 0; i < 2; i++) {
        args[i] = (struct thread_arg){trust, good, bad, 0};
        assert_int_equal(pthread_create(&th[i], NULL, verify_loop, &args[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    vet_trust_free(trust);
    vet_cert_free(ca);
    vet_cert_free(good);
    vet_cert_free(bad);
}

/* Objects decoded by different threads live in different OpenSSL library contexts (ctx.c):
 * pairing, same-key and chain verification must work across them. */
struct ctx_arg {
    const char *const *names;
    vet_pem pem[6];
    pthread_barrier_t *bar;
    int rc;
};

static void *parse_files(void *p)
{
    struct ctx_arg *a = p;
    for (size_t i = 0; a->names[i]; i++) {
        char *path = data_path(a->names[i]);
        vet_buf b = VET_BUF_INIT;
        if (read_path(&b, path) < 0 ||
            vet_pki_parse(&a->pem[i], (const unsigned char *)b.ptr, b.size, path) < 0)
            a->rc = -1;
        vet_buf_free(&b);
        free(path);
    }
    /* Both threads hold their context until both have parsed: they get different ones. */
    pthread_barrier_wait(a->bar);
    return NULL;
}

static const EVP_PKEY *cert_pkey(const vet_cert *c)
{
    return X509_get0_pubkey(c->x509);
}

static void test_cross_context(void **state)
{
    static const char *const a_names[] = {"apiserver.crt", "peer.crt", "sa.key", "ec.crt", NULL};
    static const char *const b_names[] = {"apiserver.key", "ec.key",           "sa.pub",
                                          "ed25519.key",   "intermediate.crt", NULL};
    vet_cert *ca = one_cert("ca.crt"), *sha1 = one_cert("sha1.crt"); /* main thread's context */
    vet_cert *inter = one_cert("intermediate.crt");
    vet_key *sa_pub_main = one_key("sa.pub", 0);
    struct ctx_arg a = {a_names, {{0}}, NULL, 0}, b = {b_names, {{0}}, NULL, 0};
    pthread_barrier_t bar;
    pthread_t ta, tb;
    vet_trust *trust = NULL, *trust_b = NULL;
    char why[256];
    (void)state;

    assert_int_equal(pthread_barrier_init(&bar, NULL, 2), 0);
    a.bar = b.bar = &bar;
    assert_int_equal(pthread_create(&ta, NULL, parse_files, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, parse_files, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);

    vet_cert *api = a.pem[0].certs[0], *peer = a.pem[1].certs[0], *ec = a.pem[3].certs[0];
    vet_key *sa = a.pem[2].keys[0];
    vet_key *api_key = b.pem[0].keys[0], *ec_key = b.pem[1].keys[0];
    vet_key *sa_pub = b.pem[2].pubkeys[0], *ed_key = b.pem[3].keys[0];
    vet_cert *inter_b = b.pem[4].certs[0];

    /* Three threads, three contexts, three provider instances. */
    const OSSL_PROVIDER *pa = EVP_PKEY_get0_provider(cert_pkey(api));
    const OSSL_PROVIDER *pb = EVP_PKEY_get0_provider(api_key->pkey);
    const OSSL_PROVIDER *pm = EVP_PKEY_get0_provider(cert_pkey(ca));
    assert_non_null(pa);
    assert_non_null(pb);
    assert_non_null(pm);
    assert_ptr_not_equal(pa, pb);
    assert_ptr_not_equal(pa, pm);
    assert_ptr_not_equal(pb, pm);

    /* Private key (B) against certificate (A). */
    assert_true(vet_key_matches_cert(api_key, api));
    assert_true(vet_key_matches_cert(ec_key, ec));
    assert_true(vet_key_matches_cert(ed_key, peer));
    assert_false(vet_key_matches_cert(ec_key, api));
    assert_false(vet_key_matches_cert(api_key, ca));
    assert_true(vet_key_matches_cert(api_key, sha1)); /* B against main */
    /* Private key (A) against public keys (B, main). */
    assert_true(vet_key_matches_pub(sa, sa_pub));
    assert_true(vet_key_matches_pub(sa, sa_pub_main));
    assert_false(vet_key_matches_pub(ec_key, sa_pub_main));
    assert_false(vet_key_matches_pub(api_key, sa_pub));
    /* Same key across contexts, both through the SPKI hash and through EVP_PKEY_eq. */
    assert_true(vet_cert_same_key(api, sha1));
    assert_false(vet_cert_same_key(api, ca));
    assert_true(vet_cert_same_key(ec, inter_b)); /* intermediate.crt reuses ec.key */
    assert_false(vet_cert_same_key(ec, ca));
    /* OpenSSL 3.0 exports across providers itself; pki_pkey_same's DER fallback is a spare. */
    assert_int_equal(EVP_PKEY_eq(cert_pkey(api), cert_pkey(sha1)), 1);
    assert_int_equal(EVP_PKEY_eq(api_key->pkey, cert_pkey(api)), 1);
    assert_true(pki_pkey_same(cert_pkey(api), cert_pkey(sha1)));
    assert_true(pki_pkey_same(cert_pkey(ec), cert_pkey(ec)));
    assert_false(pki_pkey_same(cert_pkey(api), cert_pkey(ca)));

    /* Chains: leaf from A, anchor from main, intermediate from main or B. */
    assert_int_equal(vet_trust_new(&trust, &ca, 1), 0);
    if (vet_trust_verify(trust, api, NULL, 0, why, sizeof why) != 1)
        fail_msg("apiserver (A) under ca (main): %s", why);
    if (vet_trust_verify(trust, peer, &inter, 1, why, sizeof why) != 1)
        fail_msg("peer (A) via intermediate (main): %s", why);
    if (vet_trust_verify(trust, peer, &inter_b, 1, why, sizeof why) != 1)
        fail_msg("peer (A) via intermediate (B): %s", why);
    assert_int_equal(vet_trust_verify(trust, peer, NULL, 0, why, sizeof why), 0);
    assert_int_equal(vet_trust_new(&trust_b, &inter_b, 1), 0);
    if (vet_trust_verify(trust_b, peer, NULL, 0, why, sizeof why) != 1)
        fail_msg("peer (A) under intermediate (B): %s", why);
    assert_int_equal(vet_trust_verify(trust_b, api, NULL, 0, why, sizeof why), 0);

    vet_trust_free(trust);
    vet_trust_free(trust_b);
    for (int i = 0; i < 6; i++) {
        vet_pem_clear(&a.pem[i]);
        vet_pem_clear(&b.pem[i]);
    }
    vet_cert_free(ca);
    vet_cert_free(sha1);
    vet_cert_free(inter);
    vet_key_free(sa_pub_main);
}

static void test_spki_hash(void **state)
{
    char *path = peer_or_skip("kubernetes/test-cert.pem");
    vet_pem p = {0};
    (void)state;
    assert_int_equal(parse_at(&p, path), 0);
    assert_int_equal(p.ncerts, 1);
    assert_string_equal(vet_cert_spki_hash(p.certs[0]),
                        "sha256:345959acb2c3b2feb87d281961c893f62a314207ef02599f1cc4a5fb255480b3");
    assert_true(vet_cert_sig_weak(p.certs[0]));
    assert_string_equal(vet_cert_sig_alg(p.certs[0]), "sha1WithRSAEncryption");
    vet_pem_clear(&p);
    free(path);
}

static void test_exporter_fixtures(void **state)
{
    char *basic = peer_or_skip("x509-certificate-exporter/basic.pem");
    char *dbl = peer_path("x509-certificate-exporter/double.pem");
    char *bad = peer_path("x509-certificate-exporter/corrupted.pem");
    vet_pem p = {0};
    (void)state;
    assert_int_equal(parse_at(&p, basic), 0);
    assert_int_equal(p.ncerts, 1);
    assert_int_equal(p.nkeys, 1);
    assert_string_equal(vet_key_type(p.keys[0]), "RSA-1024");
    assert_false(vet_key_matches_cert(p.keys[0], p.certs[0])); /* unrelated upstream fixture */
    assert_string_equal(vet_cert_sha256(p.certs[0]),
                        "FA:8B:97:96:16:A1:91:1A:14:0F:86:D8:1C:94:5F:A3:2B:94:15:53:4B:74:30:68:"
                        "57:0D:72:2E:AE:78:CA:AD");
    assert_string_equal(vet_cert_serial(p.certs[0]), "00");
    assert_int_equal(vet_cert_not_before(p.certs[0]), 1545830854);
    assert_int_equal(vet_cert_not_after(p.certs[0]), 1861190854);
    assert_true(vet_cert_is_ca(p.certs[0]));
    vet_pem_clear(&p);

    assert_int_equal(parse_at(&p, dbl), 0);
    assert_int_equal(p.ncerts, 2);
    assert_int_equal(p.nkeys, 0);

    /* A failed parse appends nothing. */
    assert_int_equal(parse_at(&p, bad), VET_EINPUT);
    assert_int_equal(p.ncerts, 2);
    assert_non_null(strstr(vet_error_last(), "corrupted.pem"));
    assert_non_null(strstr(vet_error_last(), "byte"));
    vet_pem_clear(&p);
    free(basic);
    free(dbl);
    free(bad);
}

static void test_jpeg(void **state)
{
    char *path = peer_or_skip("x509-certificate-exporter/image.jpg");
    vet_buf b = VET_BUF_INIT;
    vet_pem p = {0};
    (void)state;
    assert_int_equal(read_path(&b, path), 0);
    assert_false(vet_pki_sniff((const unsigned char *)b.ptr, b.size));
    assert_int_equal(vet_pki_parse(&p, (const unsigned char *)b.ptr, b.size, "image.jpg"),
                     VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "image.jpg"));
    assert_non_null(strstr(vet_error_last(), "byte"));
    assert_int_equal(p.ncerts + p.nkeys + p.npubkeys, 0);
    vet_buf_free(&b);
    free(path);
}

#define CERT_BODY "MIIBRjCB7aADAgECAgEBMAoGCCqGSM49BAMCMBAxDjAMBgNVBAMMBWVjLWNhMCAXDTAw"

static const struct {
    const char *input;
    const char *msg; /* exact message, or a substring when starting with '~' */
} error_cases[] = {
    {"", "t.pem: byte 0: empty input"},
    {" \n\t\r\n", "t.pem: byte 0: empty input"},
    {"hello\n-----BEGIN CERTIFICATE-----\n" CERT_BODY "\n",
     "t.pem: byte 6: truncated PEM block 'CERTIFICATE' (no END line)"},
    {"-----BEGIN CERTIFICATE-----\n" CERT_BODY "\n-----END CERTIFICATE-----\n"
     "-----BEGIN CERTIFICATE-----\n" CERT_BODY "\n",
     "t.pem: byte 0: PEM block 'CERTIFICATE' is not a certificate (not a DER certificate)"},
    {"-----BEGIN CERTIFICATE-----\n" CERT_BODY "\n-----BEGIN CERTIFICATE-----\n" CERT_BODY
     "\n-----END CERTIFICATE-----\n",
     "t.pem: byte 0: truncated PEM block 'CERTIFICATE' (no END line)"},
    {"-----BEGIN CERTIFICATE-----\nMIIB!@#$\n-----END CERTIFICATE-----\n",
     "t.pem: byte 0: bad base64 in PEM block 'CERTIFICATE'"},
    {"-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n",
     "t.pem: byte 0: empty PEM block 'CERTIFICATE'"},
    {"-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n-----END RSA PRIVATE "
     "KEY-----\n",
     "t.pem: byte 0: PEM block 'RSA PRIVATE KEY' is not a private key"},
    {"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
     "-----END RSA PRIVATE KEY-----\n",
     "~is encrypted"},
    {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
     "t.pem: byte 0: PEM block 'PUBLIC KEY' is not a public key"},
    {"just some text\n", "t.pem: byte 0: neither PEM nor a DER certificate or key (15 bytes)"},
    {"\x30\x03\x02\x01\x00", "~neither PEM nor a DER"},
};

/* Enough blocks for the multi-threaded decoder: order, counts and the first error in file
 * order must be what a sequential parse gives. */
static void test_big_bundle(void **state)
{
    char *pa = data_path("apiserver.crt"), *pc = data_path("ca.crt"), *pk = data_path("ec.key");
    vet_buf a = VET_BUF_INIT, c = VET_BUF_INIT, k = VET_BUF_INIT, big = VET_BUF_INIT;
    vet_pem p = {0};
    size_t bad_off = 0;
    (void)state;
    assert_int_equal(read_path(&a, pa), 0);
    assert_int_equal(read_path(&c, pc), 0);
    assert_int_equal(read_path(&k, pk), 0);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(vet_buf_put(&big, a.ptr, a.size), 0);
        assert_int_equal(vet_buf_put(&big, c.ptr, c.size), 0);
        if (i == 200)
            assert_int_equal(vet_buf_put(&big, k.ptr, k.size), 0);
    }
    assert_int_equal(vet_pki_parse(&p, (const unsigned char *)big.ptr, big.size, "big"), 0);
    assert_int_equal(p.ncerts, 600);
    assert_int_equal(p.nkeys, 1);
    for (size_t i = 0; i < p.ncerts; i++)
        assert_string_equal(vet_cert_cn(p.certs[i]), i % 2 ? "kubernetes" : "kube-apiserver");
    vet_pem_clear(&p);

    /* Corrupt two certificates (blocks 401 and 501): the earlier one is reported. */
    for (int n = 0; n < 2; n++) {
        size_t blk = n ? 501 : 401, seen = 0;
        for (size_t i = 0; i + 11 < big.size; i++)
            if (!memcmp(big.ptr + i, "-----BEGIN ", 11) && seen++ == blk + (blk > 401)) {
                /* + the EC PARAMETERS and EC PRIVATE KEY blocks before it */
                if (n == 0)
                    bad_off = i;
                big.ptr[i + 40] = '!';
                break;
            }
    }
    assert_int_equal(vet_pki_parse(&p, (const unsigned char *)big.ptr, big.size, "big"),
                     VET_EINPUT);
    char want[128];
    snprintf(want, sizeof want, "big: byte %zu: bad base64 in PEM block 'CERTIFICATE'", bad_off);
    assert_string_equal(vet_error_last(), want);
    assert_int_equal(p.ncerts, 0);

    /* A truncated last block after hundreds of good ones. */
    big.size = big.size - 100;
    assert_int_equal(vet_pki_parse(&p, (const unsigned char *)big.ptr, big.size, "big"),
                     VET_EINPUT);
    assert_string_equal(vet_error_last(), want); /* the earlier error still wins */
    vet_buf_free(&a);
    vet_buf_free(&c);
    vet_buf_free(&k);
    vet_buf_free(&big);
    free(pa);
    free(pc);
    free(pk);
}

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const char *in = error_cases[i].input, *want = error_cases[i].msg;
        vet_pem p = {0};
        int rc = vet_pki_parse(&p, (const unsigned char *)in, strlen(in), "t.pem");
        if (rc != VET_EINPUT)
            fail_msg("case %zu: rc %d", i, rc);
        assert_int_equal(p.ncerts + p.nkeys + p.npubkeys, 0);
        if (want[0] == '~' ? !strstr(vet_error_last(), want + 1)
                           : strcmp(vet_error_last(), want) != 0)
            fail_msg("case %zu: message '%s', want '%s'", i, vet_error_last(), want);
        /* Never the key material. */
        assert_null(strstr(vet_error_last(), "c2VjcmV0"));
        vet_pem_clear(&p);
    }
}

static void test_encrypted_file(void **state)
{
    char *path = data_path("encrypted.key");
    vet_pem p = {0};
    (void)state;
    assert_int_equal(parse_at(&p, path), VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "'ENCRYPTED PRIVATE KEY' is encrypted"));
    assert_non_null(strstr(vet_error_last(), "byte 0"));
    free(path);
}

static void test_unknown_blocks_only(void **state)
{
    static const char csr[] = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
                              "-----END EC PARAMETERS-----\n";
    vet_pem p = {0};
    (void)state;
    assert_int_equal(vet_pki_parse(&p, (const unsigned char *)csr, strlen(csr), "x"), 0);
    assert_int_equal(p.ncerts + p.nkeys + p.npubkeys, 0);
    assert_false(vet_pki_sniff((const unsigned char *)csr, strlen(csr)));
    vet_pem_clear(&p);
}

static void test_sniff(void **state)
{
    static const struct {
        const char *file;
        int want;
    } cases[] = {
        {"bundle.pem", 1}, {"apiserver.der", 1}, {"ed25519-key.der", 1},
        {"sa-pub.der", 1}, {"sa.pub", 1},        {"gen.sh", 0},
    };
    vet_buf b = VET_BUF_INIT;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = data_path(cases[i].file);
        assert_int_equal(read_path(&b, path), 0);
        if (vet_pki_sniff((const unsigned char *)b.ptr, b.size) != cases[i].want)
            fail_msg("sniff(%s) != %d", cases[i].file, cases[i].want);
        free(path);
    }
    assert_false(vet_pki_sniff((const unsigned char *)"", 0));
    assert_false(vet_pki_sniff((const unsigned char *)"-----BEGIN CERT", 15));
    vet_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_der_cert),
        cmocka_unit_test(test_cert_facts),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_sans),
        cmocka_unit_test(test_covers),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_key_matches_cert),
        cmocka_unit_test(test_sa_pair),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_ref),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_threads),
        cmocka_unit_test(test_cross_context),
        cmocka_unit_test(test_spki_hash),
        cmocka_unit_test(test_exporter_fixtures),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_big_bundle),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_encrypted_file),
        cmocka_unit_test(test_unknown_blocks_only),
        cmocka_unit_test(test_sniff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
