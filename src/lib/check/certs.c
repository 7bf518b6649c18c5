/* KV101-KV105, KV108 (replaced CAs), KV109, KV111: the node PKI, certificate by certificate.
 * Facts come from ctx->node (files under --root) and ctx->files (certificates given as paths);
 * nothing here reads a file. The node-level checks (KV106, KV107, KV110, KV112) are in
 * certs_node.c; the fixes come from advice.c. */
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/node.h"
#include "vtime.h"

#define DAY 86400

/* Every certificate entry in scope: the node's, then the ones given as paths. */
typedef struct {
    const vet_ctx *ctx;
    size_t i, nnode;
} iter;

static const vet_cert_entry *next_entry(iter *it)
{
    const vet_certset *node = it->ctx->node ? &it->ctx->node->certs : NULL;
    const vet_certset *files = it->ctx->files;
    size_t nn = node ? node->n : 0, nf = files ? files->n : 0;
    size_t i = it->i++;
    if (i < nn)
        return &node->v[i];
    if (i - nn < nf)
        return &files->v[i - nn];
    return NULL;
}

static const char *who(const vet_cert_entry *e)
{
    const char *cn = vet_cert_cn(e->cert);
    return *cn ? cn : vet_cert_subject(e->cert);
}

static int expiry_check(const vet_ctx *ctx, vet_report *r, int which)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    while ((e = next_entry(&it))) {
        int64_t na = vet_cert_not_after(e->cert), nb = vet_cert_not_before(e->cert);
        char when[32];
        vet_finding *f = NULL;
        if (which == 101 && na < ctx->now) {
            vet_time_format(when, na);
            f = vet_check_emit(r, "KV101", e->subject);
            if (!f)
                return VET_ENOMEM;
            vet_finding_message(
                f,
                "certificate '%s' expired on %s (%lld day%s ago): whatever presents it is "
                "refused ('x509: certificate has expired or is not yet valid')",
                who(e), when, (long long)-vet_time_days_between(ctx->now, na),
                vet_time_days_between(ctx->now, na) == -1 ? "" : "s");
        } else if (which == 102 && na >= ctx->now && na < ctx->now + ctx->warn_within &&
                   !(vet_cert_is_ca(e->cert) && na < ctx->now + 365 * DAY && ctx->node)) {
            int64_t days = vet_time_days_between(ctx->now, na);
            vet_time_format(when, na);
            f = vet_check_emit(r, "KV102", e->subject);
            if (!f)
                return VET_ENOMEM;
            if (na < ctx->now + 7 * DAY)
                f->severity = VET_SEV_CRITICAL;
            vet_finding_message(f, "certificate '%s' expires on %s, in %lld day%s", who(e), when,
                                (long long)days, days == 1 ? "" : "s");
        } else if (which == 103 && nb > ctx->now) {
            vet_time_format(when, nb);
            f = vet_check_emit(r, "KV103", e->subject);
            if (!f)
                return VET_ENOMEM;
            vet_finding_message(
                f,
                "certificate '%s' is not valid until %s: this node's clock is behind, or the "
                "certificate was issued by a host whose clock runs ahead",
                who(e), when);
            vet_finding_fix(f, "check clock sync on every node first (timedatectl; chronyc "
                               "tracking); if the clocks are right, re-issue the certificate");
            continue;
        }
        if (f && vet_advice_fix(f, ctx, e, NULL))
            return VET_ENOMEM;
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv101)
{
    return expiry_check(ctx, r, 101);
}

VET_CHECK_FN(vet_check_kv102)
{
    return expiry_check(ctx, r, 102);
}

VET_CHECK_FN(vet_check_kv103)
{
    return expiry_check(ctx, r, 103);
}

VET_CHECK_FN(vet_check_kv104)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    while ((e = next_entry(&it))) {
        vet_finding *f;
        if (e->chain_ok != 0)
            continue;
        if (!(f = vet_check_emit(r, "KV104", e->subject)))
            return VET_ENOMEM;
        vet_finding_message(f, "certificate '%s' does not verify against %s (%s)%s", who(e),
                            e->chain_ca->subject, e->chain_why,
                            e->chain_same_name ? ": it was signed by a different CA with the same "
                                                 "name, so that CA was re-created since"
                                               : "");
        vet_finding_set_str(f, "ca", e->chain_ca->subject);
        if (vet_advice_fix(f, ctx, e, "re-issue it from its CA: "))
            return VET_ENOMEM;
    }
    return 0;
}

/* Which static pods load a CA (and so must restart once it is restored). */
static const char *ca_pods(const char *role)
{
    if (role && !strcmp(role, "etcd-ca"))
        return "etcd kube-apiserver";
    if (role && !strcmp(role, "front-proxy-ca"))
        return "kube-apiserver";
    return "kube-apiserver kube-controller-manager kube-scheduler";
}

/* The fix of a replaced CA: the original goes back, nothing is re-issued from the new one. */
static int replaced_fix(vet_finding *f, const vet_cert_entry *ca, const char *leaf)
{
    vet_buf b = VET_BUF_INIT;
    size_t l = strlen(ca->subject);
    int rc, etc_ca = ca->role && !strcmp(ca->role, "ca");
    /* ".../ca.crt" -> ".../ca" */
    int stem = (int)(l > 4 && !strcmp(ca->subject + l - 4, ".crt") ? l - 4 : l);
    rc = vet_buf_printf(
        &b,
        "restore the original CA (certificate and key: every node and client still trusts it) "
        "instead of re-issuing anything from the new one:\n  mkdir -p /root/kv-backup && mv "
        "/%.*s.crt /%.*s.key /root/kv-backup/\n  scp <other-master>:/%.*s.crt "
        "<other-master>:/%.*s.key /%.*s/\n<other-master>: a control-plane node whose copy still "
        "verifies this node's certificates (or copy both files from a backup); check with\n  "
        "openssl verify -CAfile /%s /%s\nthen restart the static pods that load it:",
        stem, ca->subject, stem, ca->subject, stem, ca->subject, stem, ca->subject,
        (int)(strrchr(ca->subject, '/') ? strrchr(ca->subject, '/') - ca->subject : 0), ca->subject,
        ca->subject, leaf);
    if (!rc)
        rc = vet_advice_restart(&b, ca_pods(ca->role));
    if (!rc && etc_ca)
        rc = vet_buf_printf(&b, "\n  systemctl restart kubelet");
    if (!rc)
        rc = vet_buf_printf(&b, "\nonly if the new CA must stay: re-issue every certificate and "
                                "kubeconfig it signs on every node, workers included");
    if (!rc)
        rc = vet_finding_fix(f, "%s", b.ptr);
    vet_buf_free(&b);
    return rc;
}

VET_CHECK_FN(vet_check_kv108)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    int rc;
    const vet_node *n = ctx->node;
    if (n && (rc = vet_check_kv108_kubeconfigs(ctx, r)))
        return rc;
    /* A certificate whose issuer name is its CA's, but whose signature is not, is KV104. It
     * means the CA itself was minted anew with the same name (incident 3: `kubeadm init phase
     * certs all` after moving the old files away) when the CA is younger than the certificate
     * it supposedly signed (a CA cannot sign before it exists; kubeadm even copies the CA's
     * notBefore into its leaves), or when it verifies none of several certificates. One leaf
     * signed by some other same-named CA is just a bad leaf: re-issue it, keep the CA. */
    while ((e = next_entry(&it))) {
        const vet_cert_entry *ca = e->chain_ca, *o;
        iter all = {ctx, 0, 0};
        size_t signed_by = 0, failed = 0;
        vet_finding *f;
        if (e->chain_ok != 0 || !e->chain_same_name)
            continue;
        while ((o = next_entry(&all)))
            if (o->chain_ca == ca) {
                signed_by++;
                failed += o->chain_ok == 0 && o->chain_same_name;
                if (o != e && o->chain_ok == 0 && o->chain_same_name && o < e)
                    break; /* reported with an earlier certificate already */
            }
        if (o)
            continue;
        if (vet_cert_not_before(ca->cert) <= vet_cert_not_before(e->cert) &&
            !(signed_by >= 2 && failed == signed_by))
            continue;
        if (!(f = vet_check_emit(r, "KV108", ca->subject)))
            return VET_ENOMEM;
        vet_finding_set_str(f, "kind", "ca-replaced");
        vet_finding_message(
            f,
            "%s ('%s', key %s) is not the CA that signed %s, which carries the same issuer name%s: "
            "the CA was replaced by a new one with the same name, and everything the old one "
            "signed (%zu of %zu certificates here, and every other node) no longer verifies",
            ca->subject, who(ca), vet_cert_spki_hash(ca->cert), e->subject,
            vet_cert_not_before(ca->cert) > vet_cert_not_before(e->cert)
                ? " and is older than this CA"
                : "",
            failed, signed_by);
        if (replaced_fix(f, ca, e->subject))
            return VET_ENOMEM;
    }
    /* Both CAs come from `kubeadm init` within seconds of each other; a front-proxy or etcd CA
     * born much later was minted anew, and the other masters, metrics-server and aggregated
     * APIs still trust the old one (extension-apiserver-authentication ConfigMap). */
    if (n) {
        const vet_cert_entry *ca = vet_node_role(n, "ca");
        const char *roles[] = {"front-proxy-ca", "etcd-ca"};
        for (size_t i = 0; ca && i < 2; i++) {
            const vet_cert_entry *o = vet_node_role(n, roles[i]);
            int64_t d;
            vet_finding *f;
            char a[32], b[32];
            if (!o || strcmp(vet_cert_cn(ca->cert), "kubernetes") ||
                vet_report_find(r, "KV108", o->subject))
                continue;
            d = vet_cert_not_before(o->cert) - vet_cert_not_before(ca->cert);
            if (d <= DAY)
                continue;
            vet_time_format(a, vet_cert_not_before(ca->cert));
            vet_time_format(b, vet_cert_not_before(o->cert));
            if (!(f = vet_check_emit(r, "KV108", o->subject)))
                return VET_ENOMEM;
            vet_finding_set_str(f, "kind", "ca-replaced");
            vet_finding_message(f,
                                "%s was created %s, %lld days after the cluster CA (%s): kubeadm "
                                "creates them together, so this CA was minted anew; other masters "
                                "and aggregated API servers still trust the old one (502s and "
                                "'x509: certificate signed by unknown authority' after restarts)",
                                o->subject, b, (long long)(d / DAY), a);
            if (replaced_fix(f, o,
                             !strcmp(roles[i], "etcd-ca")
                                 ? "etc/kubernetes/pki/etcd/server.crt"
                                 : "etc/kubernetes/pki/front-proxy-client.crt"))
                return VET_ENOMEM;
        }
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv105)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    while ((e = next_entry(&it))) {
        vet_finding *f;
        if (!e->key || vet_key_matches_cert(e->key, e->cert))
            continue;
        if (!(f = vet_check_emit(r, "KV105", e->subject)))
            return VET_ENOMEM;
        vet_finding_message(f,
                            "the private key in %s does not belong to certificate '%s': TLS "
                            "handshakes with it fail",
                            e->key_path ? e->key_path : "its key file", who(e));
        if (vet_advice_fix(f, ctx, e,
                           "put the matching key back (from the backup taken with the "
                           "certificate), or re-issue both: "))
            return VET_ENOMEM;
    }
    if (ctx->node && ctx->node->sa_key && ctx->node->sa_pub &&
        !vet_key_matches_pub(ctx->node->sa_key, ctx->node->sa_pub)) {
        vet_finding *f = vet_check_emit(r, "KV105", "etc/kubernetes/pki/sa.key");
        if (!f)
            return VET_ENOMEM;
        vet_finding_message(f, "sa.key and sa.pub do not pair: the apiserver rejects the "
                               "service-account tokens the controller-manager signs");
        vet_finding_fix(f, "copy sa.key and sa.pub together from another master (they must be "
                           "identical on every control-plane node)");
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv109)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    while ((e = next_entry(&it))) {
        int64_t na = vet_cert_not_after(e->cert);
        char when[32];
        vet_finding *f;
        if (!vet_cert_is_ca(e->cert) || na < ctx->now || na >= ctx->now + 365 * DAY)
            continue;
        /* The kubelet's self-signed serving pair carries a 1-year CA that it re-creates itself. */
        if (e->role && !strcmp(e->role, "kubelet-serving"))
            continue;
        if (!e->role && !strncmp(e->path, "var/lib/kubelet/pki/kubelet.crt", 31))
            continue;
        if (!(f = vet_check_emit(r, "KV109", e->subject)))
            return VET_ENOMEM;
        vet_time_format(when, na);
        vet_finding_message(f,
                            "CA '%s' expires on %s (in %lld days): every certificate it signed "
                            "stops working then, and renewing leaves does not help",
                            who(e), when, (long long)vet_time_days_between(ctx->now, na));
        vet_finding_fix(
            f,
            "plan a CA rotation now (kubeadm docs: 'Manual rotation of CA certificates'): add the "
            "new CA to the trust bundles first, re-issue the leaves, then remove the old CA");
    }
    return 0;
}

/* Go's crypto/x509 (>= 1.18) refuses SHA-1 signatures on every certificate it verifies, and MD5
 * long before; a self-signed root's own signature is never checked, so a SHA-1 root only warns.
 * RSA keys: Go >= 1.24 refuses under 1024 bits; 1024 itself is accepted, but breakable. */
VET_CHECK_FN(vet_check_kv111)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    while ((e = next_entry(&it))) {
        int bits = vet_cert_key_bits(e->cert);
        int rsa = !strncmp(vet_cert_key_type(e->cert), "RSA", 3) && bits < 2048;
        int sig = vet_cert_sig_weak(e->cert);
        int root = sig && vet_cert_is_ca(e->cert) && vet_cert_issued_by_name(e->cert, e->cert);
        vet_buf m = VET_BUF_INIT;
        vet_finding *f;
        if (!rsa && !sig)
            continue;
        if (!(f = vet_check_emit(r, "KV111", e->subject)))
            return VET_ENOMEM;
        if ((sig && !root) || (rsa && bits < 1024))
            f->severity = VET_SEV_CRITICAL;
        vet_buf_printf(&m, "certificate '%s'", who(e));
        if (sig && !root)
            vet_buf_printf(&m,
                           " is signed with %s: Go >= 1.18 clients (kubectl, kubelet, "
                           "kube-apiserver, etcd) reject SHA-1/MD5 signatures ('x509: certificate "
                           "signed by unknown authority'/'insecure algorithm')",
                           vet_cert_sig_alg(e->cert));
        else if (sig)
            vet_buf_printf(&m,
                           " (a self-signed CA) is signed with %s: Go does not check a root's own "
                           "signature, but everything it signs must use SHA-256",
                           vet_cert_sig_alg(e->cert));
        if (rsa)
            vet_buf_printf(&m, "%s has a %d-bit RSA key: %s", sig ? "; it also" : "", bits,
                           bits < 1024 ? "Go >= 1.24 rejects RSA keys under 1024 bits outright"
                                       : "breakable (use 2048 bits or more); Go still accepts "
                                         "it, OpenSSL at security level 2 does not");
        vet_finding_set_str(f, "signature_algorithm", vet_cert_sig_alg(e->cert));
        vet_finding_set_int(f, "key_bits", bits);
        vet_finding_message(f, "%s", m.ptr ? m.ptr : "");
        vet_buf_free(&m);
        if (vet_advice_fix(f, ctx, e,
                           "re-issue with a new RSA-2048+ or ECDSA P-256 key and SHA-256: "))
            return VET_ENOMEM;
    }
    return 0;
}
