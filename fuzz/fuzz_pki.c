/* Fuzz target for the pki parser: arbitrary bytes through vet_pki_parse, then every accessor
 * on whatever came out, pairings, SAN matching and a chain verification. Must never crash,
 * leak or trip a sanitizer; errors are fine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kubevet/pki.h"

static size_t sink;

static void touch(const char *s)
{
    sink += strlen(s);
}

static void touch_strv(const vet_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        touch(v->v[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_pem p = {0};
    vet_trust *trust = NULL;
    char why[256];

    sink += (size_t)vet_pki_sniff(data, size);
    if (vet_pki_parse(&p, data, size, "fuzz") < 0) {
        vet_pem_clear(&p);
        return 0;
    }
    for (size_t i = 0; i < p.ncerts; i++) {
        vet_cert *c = p.certs[i];
        touch(vet_cert_subject(c));
        touch(vet_cert_issuer(c));
        touch(vet_cert_cn(c));
        touch_strv(vet_cert_orgs(c));
        touch_strv(vet_cert_dns(c));
        touch_strv(vet_cert_ips(c));
        touch(vet_cert_serial(c));
        sink += (size_t)vet_cert_not_before(c) + (size_t)vet_cert_not_after(c);
        sink += (size_t)vet_cert_is_ca(c) + (size_t)vet_cert_key_bits(c);
        touch(vet_cert_key_type(c));
        touch(vet_cert_sig_alg(c));
        sink += (size_t)vet_cert_sig_weak(c);
        touch(vet_cert_sha256(c));
        touch(vet_cert_spki_hash(c));
        sink += (size_t)vet_cert_covers(c, "kubernetes.default.svc");
        sink += (size_t)vet_cert_covers(c, "10.96.0.1");
        sink += (size_t)vet_cert_covers(c, "::1");
        for (size_t j = 0; j < vet_cert_dns(c)->n; j++)
            sink += (size_t)vet_cert_covers(c, vet_cert_dns(c)->v[j]);
        for (size_t j = 0; j < vet_cert_ips(c)->n; j++)
            sink += (size_t)vet_cert_covers(c, vet_cert_ips(c)->v[j]);
        vet_cert *r = vet_cert_ref(c);
        sink += (size_t)vet_cert_same_key(c, p.certs[0]) + (size_t)vet_cert_equal(r, p.certs[0]);
        sink += (size_t)vet_cert_issued_by_name(c, p.certs[0]);
        vet_cert_free(r);
        for (size_t k = 0; k < p.nkeys; k++)
            sink += (size_t)vet_key_matches_cert(p.keys[k], c);
    }
    for (size_t k = 0; k < p.nkeys; k++) {
        touch(vet_key_type(p.keys[k]));
        sink += (size_t)vet_key_bits(p.keys[k]) + (size_t)vet_key_is_private(p.keys[k]);
        for (size_t j = 0; j < p.npubkeys; j++)
            sink += (size_t)vet_key_matches_pub(p.keys[k], p.pubkeys[j]);
    }
    for (size_t j = 0; j < p.npubkeys; j++) {
        touch(vet_key_type(p.pubkeys[j]));
        sink += (size_t)vet_key_bits(p.pubkeys[j]) + (size_t)vet_key_is_private(p.pubkeys[j]);
    }
    /* Every certificate as an anchor, the first as leaf, the rest as untrusted. */
    if (p.ncerts && vet_trust_new(&trust, p.certs, p.ncerts) == 0) {
        sink +=
            (size_t)vet_trust_verify(trust, p.certs[0], p.certs + 1, p.ncerts - 1, why, sizeof why);
        vet_trust_free(trust);
    }
    vet_pem_clear(&p);
    return 0;
}
