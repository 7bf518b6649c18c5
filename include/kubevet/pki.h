/* X.509 certificates and keys (OpenSSL 3 underneath; no OpenSSL types here).
 * Parsing accepts PEM with any number of blocks (text around them ignored) or one DER
 * object; keys in PKCS#1, PKCS#8 (also encrypted-less), SEC1, RSA/EC/Ed25519. */
#ifndef KUBEVET_PKI_H
#define KUBEVET_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "strv.h"

typedef struct vet_cert vet_cert; /* one certificate, immutable after parsing: thread-safe reads */
typedef struct vet_key vet_key;   /* a private key, or a public key (sa.pub) */

/* What one file or blob held. */
typedef struct {
    vet_cert **certs;
    size_t ncerts;
    vet_key **keys; /* private keys */
    size_t nkeys;
    vet_key **pubkeys; /* PUBLIC KEY / RSA PUBLIC KEY blocks */
    size_t npubkeys;
} vet_pem;

/* Parse data (PEM or DER) into out (appending). `name` is used in messages.
 * Errors (VET_EINPUT), one line naming name and the byte offset: empty input, a BEGIN without
 * END (truncated), bad base64, a block whose DER does not parse, nothing recognisable.
 * Unknown PEM block types (e.g. "EC PARAMETERS") are skipped. Private key bytes are never
 * copied into messages. */
int vet_pki_parse(vet_pem *out, const unsigned char *data, size_t len, const char *name);
/* 1 when data looks like PEM or DER certificate/key material at all (sniffing folders). */
int vet_pki_sniff(const unsigned char *data, size_t len);
void vet_pem_clear(vet_pem *p);

void vet_cert_free(vet_cert *c);
void vet_key_free(vet_key *k);
/* Drop the parsed X509 of a certificate nobody else holds, keeping every fact the accessors
 * give (a 10,000-certificate folder under `serve` keeps facts, not 35 MB of OpenSSL objects).
 * Afterwards: vet_trust_verify and vet_cert_to_pem fail; name and key comparisons use the
 * facts (issuer/subject text, SPKI hash). No-op while other references exist. */
void vet_cert_shed(vet_cert *c);
int vet_cert_shed_done(const vet_cert *c); /* 1 when c no longer holds its X509 */
/* Another reference to the same certificate (refcounted; free each with vet_cert_free). */
vet_cert *vet_cert_ref(vet_cert *c);

/* Accessors: strings are owned by the certificate, computed once at parse time. */
const char *
vet_cert_subject(const vet_cert *c); /* "CN=kube-apiserver" / "CN=x,O=y" (RFC 2253 order) */
const char *vet_cert_issuer(const vet_cert *c);
const char *vet_cert_cn(const vet_cert *c);       /* "" when absent */
const vet_strv *vet_cert_orgs(const vet_cert *c); /* every O= value */
const vet_strv *vet_cert_dns(const vet_cert *c);  /* SAN DNS names */
const vet_strv *vet_cert_ips(const vet_cert *c);  /* SAN IPs, canonical text (10.96.0.1, ::1) */
const char *vet_cert_serial(const vet_cert *c);   /* lower-case hex, no colons */
int64_t vet_cert_not_before(const vet_cert *c);
int64_t vet_cert_not_after(const vet_cert *c);
int vet_cert_is_ca(const vet_cert *c);            /* basicConstraints CA:TRUE */
const char *vet_cert_key_type(const vet_cert *c); /* "RSA-2048", "EC-P256", "EC-P384", "Ed25519" */
int vet_cert_key_bits(const vet_cert *c);
const char *
vet_cert_sig_alg(const vet_cert *c);      /* "sha256WithRSAEncryption", "ecdsa-with-SHA256" */
int vet_cert_sig_weak(const vet_cert *c); /* 1 for SHA-1 or MD5 (or MD2/MD4) signatures */
const char *
vet_cert_sha256(const vet_cert *c); /* "FA:8B:..." upper-case, colon-separated (openssl style) */
/* kubeadm's --discovery-token-ca-cert-hash: "sha256:" + hex SHA-256 of the DER
 * SubjectPublicKeyInfo. */
const char *vet_cert_spki_hash(const vet_cert *c);
/* 1 when both certificates carry the same public key / the same DER bytes. */
int vet_cert_same_key(const vet_cert *a, const vet_cert *b);
int vet_cert_equal(const vet_cert *a, const vet_cert *b);
/* 1 when subject of `ca` equals issuer of `c` (name match only, no signature check). */
int vet_cert_issued_by_name(const vet_cert *c, const vet_cert *ca);
/* 1 when `name` (DNS name, wildcard-aware, case-insensitive; or an IP literal in any form)
 * is covered by the SANs. */
int vet_cert_covers(const vet_cert *c, const char *name);

/* Trust anchors for chain verification with OpenSSL's verifier. Time is NOT checked
 * (expiry is judged separately by the checks). Partial chains are accepted, so an
 * intermediate given as an anchor works. Safe to use from several threads at once. */
typedef struct vet_trust vet_trust;
int vet_trust_new(vet_trust **out, vet_cert *const *cas, size_t ncas);
/* 1 when leaf verifies up to an anchor; 0 otherwise with the verifier's reason in why. */
int vet_trust_verify(const vet_trust *t, const vet_cert *leaf, vet_cert *const *untrusted,
                     size_t nuntrusted, char *why, size_t whylen);
void vet_trust_free(vet_trust *t);

/* Keys. */
const char *vet_key_type(const vet_key *k); /* as vet_cert_key_type */
int vet_key_bits(const vet_key *k);
int vet_key_is_private(const vet_key *k);
/* 1 when the private key k belongs to certificate c (public halves equal). */
int vet_key_matches_cert(const vet_key *k, const vet_cert *c);
/* 1 when private key k and public key pub pair (sa.key / sa.pub). */
int vet_key_matches_pub(const vet_key *k, const vet_key *pub);

/* ---- Issuing leaf certificates from a CA already on disk (sign.c) ---- */

/* A new private key: type "RSA-2048" (any "RSA-<bits>", at least 2048), "EC-P256", "EC-P384" or
 * "Ed25519". Thread-safe (use vet_parallel_for to make several at once). */
int vet_key_generate(vet_key **out, const char *type);
/* PEM of a private key in the form kubeadm and cfssl write it: "RSA PRIVATE KEY" (PKCS#1),
 * "EC PRIVATE KEY" (SEC1), PKCS#8 for the rest. *out is malloc'd: wipe and free it. */
int vet_key_to_pem(char **out, size_t *len, const vet_key *k);
/* Standard base64 of data, one line (kubeconfig *-data fields). *out is malloc'd. */
int vet_pki_base64(char **out, const void *data, size_t len);
/* PEM of a certificate ("CERTIFICATE"). *out is malloc'd. */
int vet_cert_to_pem(char **out, size_t *len, const vet_cert *c);

typedef struct {
    const vet_cert *tmpl;          /* the certificate being renewed: its subject, key usage,
                                      extended key usage and key identifiers are copied */
    const vet_key *key;            /* private key of the new certificate (new or kept) */
    const vet_cert *ca;            /* signer: must be a CA (basicConstraints CA:TRUE) */
    const vet_key *ca_key;         /* the CA's private key (checked to belong to ca) */
    const char *cn;                /* non-NULL: subject becomes O=<orgs...>,CN=<cn> */
    const vet_strv *orgs;          /* with cn */
    const vet_strv *dns, *ips;     /* the complete SAN list (none: no SAN extension) */
    int64_t not_before, not_after; /* validity, Unix seconds */
} vet_issue_req;

/* Sign a new X.509 v3 certificate (random 128-bit serial, SHA-256, or pure EdDSA for an
 * Ed25519 CA). VET_EINPUT for a signer that is not a CA, a CA key that is not the CA's, an
 * unparseable IP, or not_after past the CA's notAfter. */
int vet_cert_issue(vet_cert **out, const vet_issue_req *req);

#endif
