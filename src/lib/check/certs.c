/* KV101-KV111: the node PKI. Facts come from ctx->node (files under --root) and ctx->files
 * (certificates given as paths); nothing here reads a file. */
#include <stdlib.h>
#include <string.h>

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

/* How to re-issue a certificate, by kubeadm role: the exact command an operator runs. */
static const char *renew_cmd(const vet_cert_entry *e)
{
    static const struct {
        const char *role, *cmd;
    } t[] = {
        {"apiserver", "kubeadm certs renew apiserver"},
        {"apiserver-kubelet-client", "kubeadm certs renew apiserver-kubelet-client"},
        {"front-proxy-client", "kubeadm certs renew front-proxy-client"},
        {"etcd-server", "kubeadm certs renew etcd-server"},
        {"etcd-peer", "kubeadm certs renew etcd-peer"},
        {"etcd-healthcheck-client", "kubeadm certs renew etcd-healthcheck-client"},
        {"apiserver-etcd-client", "kubeadm certs renew apiserver-etcd-client"},
        {"ca",
         "a CA cannot be renewed in place: plan a CA rotation (kubeadm docs: 'Manual rotation of "
         "CA certificates'); until then every certificate it signed stops working when it expires"},
        {"front-proxy-ca",
         "rotate the front-proxy CA (kubeadm 'Manual rotation of CA certificates'), then update "
         "the extension-apiserver-authentication trust on every master"},
        {"etcd-ca",
         "rotate the etcd CA (kubeadm 'Manual rotation of CA certificates'), member by member"},
        {"kubelet-client",
         "let the kubelet rotate it: ensure rotateCertificates: true in "
         "/var/lib/kubelet/config.yaml and restart kubelet; if already expired: on a control-plane "
         "node run 'kubeadm kubeconfig user --client-name system:node:$(NODE) --org system:nodes > "
         "kubelet.conf' (kubeadm >= 1.20) or delete /etc/kubernetes/kubelet.conf and re-join, then "
         "approve the CSR (kubectl certificate approve)"},
        {"kubelet-serving",
         "delete /var/lib/kubelet/pki/kubelet.{crt,key} and restart kubelet (it self-signs a new "
         "one), or enable serverTLSBootstrap and approve the CSR"},
    };
    for (size_t i = 0; e->role && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(e->role, t[i].role))
            return t[i].cmd;
    if (!strncmp(e->source, "kubeconfig:", 11) && strstr(e->subject, "etc/kubernetes/")) {
        if (strstr(e->subject, "admin.conf"))
            return "kubeadm certs renew admin.conf (super-admin.conf likewise)";
        if (strstr(e->subject, "controller-manager.conf"))
            return "kubeadm certs renew controller-manager.conf, then restart the "
                   "kube-controller-manager static pod";
        if (strstr(e->subject, "scheduler.conf"))
            return "kubeadm certs renew scheduler.conf, then restart the kube-scheduler static pod";
    }
    return "re-issue this certificate from its CA with the same subject and SANs (openssl x509 "
           "-req ... or cfssl gencert -profile ...), then restart what uses it";
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
                "certificate '%s' expired on %s (%lld days ago): whatever presents it is refused "
                "('x509: certificate has expired or is not yet valid')",
                who(e), when, (long long)-vet_time_days_between(ctx->now, na));
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
        if (f)
            vet_finding_fix(f, "%s", renew_cmd(e));
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
        vet_finding_fix(f, "re-issue it from %s: %s", e->chain_ca->subject, renew_cmd(e));
    }
    return 0;
}

static int kv108_ca_data(const vet_ctx *ctx, vet_report *r)
{
    const vet_node *n = ctx->node;
    const vet_cert_entry *ca = vet_node_role(n, "ca");
    if (!ca)
        return 0;
    for (size_t k = 0; k < n->nkubeconfigs; k++) {
        const vet_node_kubeconfig *nk = &n->kubeconfigs[k];
        int found = 0;
        vet_finding *f;
        char *subj;
        if (!nk->nca)
            continue;
        for (size_t c = 0; c < nk->nca; c++)
            found |= vet_cert_equal(nk->ca[c], ca->cert);
        if (found)
            continue;
        subj = vet_strdupf("kubeconfig %s cluster %s", nk->path,
                           nk->cluster && nk->cluster->name ? nk->cluster->name : "");
        f = subj ? vet_check_emit(r, "KV108", subj) : NULL;
        free(subj);
        if (!f)
            return VET_ENOMEM;
        vet_finding_message(
            f,
            "%s trusts a CA ('%s', %s, from %s) that is not this node's %s: clients using it "
            "reject the apiserver, or were written for another cluster",
            nk->file, vet_cert_subject(nk->ca[0]), vet_cert_sha256(nk->ca[0]),
            nk->ca_source ? nk->ca_source : "?", ca->subject);
        vet_finding_fix(
            f,
            "set certificate-authority-data to base64 of /%s: kubectl config set-cluster %s "
            "--kubeconfig=/%s --certificate-authority=/%s --embed-certs; if %s is the one that "
            "changed, restore the old CA from backup instead (every node and client trusts it)",
            ca->subject, nk->cluster && nk->cluster->name ? nk->cluster->name : "kubernetes",
            nk->path, ca->subject, ca->subject);
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv108)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    int rc;
    const vet_node *n = ctx->node;
    if (n && (rc = kv108_ca_data(ctx, r)))
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
        vet_finding_message(
            f,
            "%s ('%s', key %s) is not the CA that signed %s, which carries the same issuer name%s: "
            "the CA was replaced by a new one with the same name, and everything the old one "
            "signed (on this and other nodes) no longer verifies",
            ca->subject, who(ca), vet_cert_spki_hash(ca->cert), e->subject,
            vet_cert_not_before(ca->cert) > vet_cert_not_before(e->cert)
                ? " and is older than this CA"
                : "");
        vet_finding_fix(f,
                        "restore the original %s and its key from backup (or from another master: "
                        "/etc/kubernetes/pki is the same on every control-plane node) rather than "
                        "re-issuing everything; if the new CA must stay, re-issue every "
                        "certificate it should sign and distribute it to every node",
                        ca->subject);
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
            if (!o || strcmp(vet_cert_cn(ca->cert), "kubernetes"))
                continue;
            d = vet_cert_not_before(o->cert) - vet_cert_not_before(ca->cert);
            if (d <= DAY)
                continue;
            vet_time_format(a, vet_cert_not_before(ca->cert));
            vet_time_format(b, vet_cert_not_before(o->cert));
            if (!(f = vet_check_emit(r, "KV108", o->subject)))
                return VET_ENOMEM;
            vet_finding_message(f,
                                "%s was created %s, %lld days after the cluster CA (%s): kubeadm "
                                "creates them together, so this CA was minted anew; other masters "
                                "and aggregated API servers still trust the old one (502s and "
                                "'x509: certificate signed by unknown authority' after restarts)",
                                o->subject, b, (long long)(d / DAY), a);
            vet_finding_fix(
                f,
                "compare with another master (sha256sum /etc/kubernetes/pki/%s.crt on each); "
                "restore the original %s.{crt,key} from a master or backup, re-issue its leaf "
                "(kubeadm certs renew %s), and restart the control-plane static pods",
                !strcmp(roles[i], "etcd-ca") ? "etcd/ca" : roles[i],
                !strcmp(roles[i], "etcd-ca") ? "etcd/ca" : roles[i],
                !strcmp(roles[i], "etcd-ca")
                    ? "etcd-server etcd-peer etcd-healthcheck-client apiserver-etcd-client"
                    : "front-proxy-client");
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
        vet_finding_fix(f,
                        "put the matching key back (from the backup taken with the certificate), "
                        "or re-issue both: %s",
                        renew_cmd(e));
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

VET_CHECK_FN(vet_check_kv106)
{
    const vet_node *n = ctx->node;
    const vet_node_kubeconfig *k = vet_node_kubeconfig_get(n, "kubelet.conf");
    const char *cn, *name;
    char want[300];
    int has_org;
    vet_finding *f;
    if (!k || !k->client || !n->node_name)
        return 0;
    cn = vet_cert_cn(k->client->cert);
    name = n->node_name;
    snprintf(want, sizeof want, "system:node:%s", name);
    has_org = vet_strv_find(vet_cert_orgs(k->client->cert), "system:nodes", 0) >= 0;
    if (!strcmp(cn, want) && has_org)
        return 0;
    if (!(f = vet_check_emit(r, "KV106", k->path)))
        return VET_ENOMEM;
    if (strcmp(cn, want))
        vet_finding_message(f,
                            "kubelet.conf authenticates as %s, but this node is %s (name from %s): "
                            "kubeadm takes the node name from this certificate, so upgrades act on "
                            "the wrong Node (cri-socket annotation, apiEndpoint, static pod hash "
                            "waits that never end) and the kubelet posts status for another node",
                            *cn ? cn : "(no CN)", name, vet_name_source_str(n->node_name_source));
    else
        vet_finding_message(f,
                            "kubelet.conf's certificate %s lacks O=system:nodes: the Node "
                            "authorizer rejects the kubelet",
                            cn);
    vet_finding_fix(
        f,
        "re-issue this node's kubelet credentials as %s: on this node run 'kubeadm kubeconfig user "
        "--org system:nodes --client-name system:node:%s > /etc/kubernetes/kubelet.conf' (kubeadm "
        ">= 1.20; older: 'kubeadm alpha kubeconfig user'), or move /etc/kubernetes/kubelet.conf "
        "and /var/lib/kubelet/pki/kubelet-client-* away and re-join with a bootstrap token; then "
        "'systemctl restart kubelet'. Never copy kubelet.conf or kubelet-client-*.pem between "
        "nodes",
        want, name);
    return 0;
}

static int need_san(vet_report *r, const vet_cert_entry *api, const char *name, const char *why,
                    const vet_strv *done)
{
    vet_finding *f;
    if (!name || !*name || vet_cert_covers(api->cert, name) || vet_strv_find(done, name, 1) >= 0)
        return 0;
    if (vet_strv_push((vet_strv *)done, name) || !(f = vet_check_emit(r, "KV107", api->subject)))
        return VET_ENOMEM;
    vet_finding_set_str(f, "missing_san", name);
    vet_finding_message(f,
                        "the apiserver certificate has no SAN for %s (%s): clients connecting by "
                        "that name fail with 'x509: certificate is valid for ..., not %s'",
                        name, why, name);
    vet_finding_fix(
        f,
        "add %s to apiServer.certSANs in the kubeadm ClusterConfiguration (kubectl -n kube-system "
        "get cm kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' > cc.yaml), then: mv "
        "/etc/kubernetes/pki/apiserver.{crt,key} /root/ && kubeadm init phase certs apiserver "
        "--config cc.yaml && restart the kube-apiserver static pod; upload the config back "
        "(kubeadm init phase upload-config kubeadm --config cc.yaml) so upgrades keep it. Verify: "
        "openssl x509 -noout -ext subjectAltName -in /etc/kubernetes/pki/apiserver.crt",
        name);
    return 0;
}

VET_CHECK_FN(vet_check_kv107)
{
    const vet_node *n = ctx->node;
    const vet_cert_entry *api = vet_node_role(n, "apiserver");
    vet_strv done = VET_STRV_INIT;
    int rc = 0, has_fqdn = 0;
    if (!api)
        return 0;
    for (size_t i = 0; i < vet_cert_dns(api->cert)->n; i++)
        has_fqdn |= !strncmp(vet_cert_dns(api->cert)->v[i], "kubernetes.default.svc.", 23);
    if ((rc = need_san(r, api, n->node_name, "the node name", &done)) ||
        (rc = need_san(r, api, n->advertise_address, "the advertise address", &done)) ||
        (rc = need_san(r, api, "kubernetes", "the kubernetes Service", &done)) ||
        (rc = need_san(r, api, "kubernetes.default", "the kubernetes Service", &done)) ||
        (rc = need_san(r, api, "kubernetes.default.svc", "the kubernetes Service", &done)) ||
        (!has_fqdn && (rc = need_san(r, api, "kubernetes.default.svc.cluster.local",
                                     "the kubernetes Service", &done))) ||
        (rc = need_san(r, api, n->service_ip, "the kubernetes Service IP", &done)))
        goto done;
    for (size_t i = 0; i < n->server_hosts.n; i++)
        if ((rc = need_san(r, api, n->server_hosts.v[i],
                           "a kubeconfig on this node connects to it: the controlPlaneEndpoint",
                           &done)))
            goto done;
    for (size_t i = 0; ctx->expect_sans && i < ctx->expect_sans->n; i++)
        if ((rc = need_san(r, api, ctx->expect_sans->v[i], "given with --expect-san", &done)))
            goto done;
done:
    vet_strv_free(&done);
    return rc;
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

VET_CHECK_FN(vet_check_kv110)
{
    const vet_node *n = ctx->node;
    const vet_node_kubeconfig *k = vet_node_kubeconfig_get(n, "kubelet.conf");
    vet_finding *f;
    if (!n)
        return 0;
    if (n->kubelet_config_present && n->rotate_certificates != 1 && n->rotate_flag != 1) {
        if (!(f = vet_check_emit(r, "KV110", "var/lib/kubelet/config.yaml")))
            return VET_ENOMEM;
        vet_finding_message(f,
                            "kubelet client certificate rotation is off (rotateCertificates is %s "
                            "and no --rotate-certificates flag): the kubelet's client certificate "
                            "expires after a year and the node goes NotReady ('Unauthorized')",
                            n->rotate_certificates == 0 ? "false" : "not set");
        vet_finding_fix(
            f, "set 'rotateCertificates: true' in /var/lib/kubelet/config.yaml (and in the "
               "kubelet-config ConfigMap so upgrades keep it), restart kubelet; make sure the "
               "ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation exists (KV209)");
    }
    if (k && k->client && !k->client_cert_path && !strcmp(k->file, "kubelet.conf")) {
        if (!(f = vet_check_emit(r, "KV110", k->path)))
            return VET_ENOMEM;
        vet_finding_message(
            f, "kubelet.conf embeds a static client certificate (client-certificate-data) instead "
               "of pointing at /var/lib/kubelet/pki/kubelet-client-current.pem: rotated "
               "certificates are never used, so it expires regardless of rotation");
        vet_finding_fix(f,
                        "point kubelet.conf at the rotated file (what kubeadm's kubelet-finalize "
                        "phase does since 1.17): kubectl config set-credentials %s "
                        "--kubeconfig=/etc/kubernetes/kubelet.conf "
                        "--client-certificate=/var/lib/kubelet/pki/kubelet-client-current.pem "
                        "--client-key=/var/lib/kubelet/pki/kubelet-client-current.pem, after "
                        "checking that file holds this node's certificate",
                        k->user && k->user->name ? k->user->name : "default-auth");
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv111)
{
    iter it = {ctx, 0, 0};
    const vet_cert_entry *e;
    while ((e = next_entry(&it))) {
        int bits = vet_cert_key_bits(e->cert);
        int rsa = !strncmp(vet_cert_key_type(e->cert), "RSA", 3);
        vet_finding *f;
        if (!(rsa && bits < 2048) && !vet_cert_sig_weak(e->cert))
            continue;
        if (!(f = vet_check_emit(r, "KV111", e->subject)))
            return VET_ENOMEM;
        if (rsa && bits < 2048)
            vet_finding_message(f,
                                "certificate '%s' has a %d-bit RSA key: breakable, and rejected by "
                                "current Go TLS stacks",
                                who(e), bits);
        else
            vet_finding_message(f,
                                "certificate '%s' is signed with %s: SHA-1/MD5 signatures are "
                                "rejected by Go >= 1.18 clients (kubectl, kubelet, apiserver)",
                                who(e), vet_cert_sig_alg(e->cert));
        vet_finding_fix(f, "re-issue with RSA-2048+ or ECDSA P-256 and SHA-256: %s", renew_cmd(e));
    }
    return 0;
}
