/* KV106, KV107, KV110, KV112 and the kubeconfig half of KV108: the node as a whole (its name and
 * addresses, its kubeconfigs, its kubelet). Facts come from ctx->node only; nothing here reads a
 * file. Fixes come from advice.c, with this node's values filled in. */
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "buf.h"
#include "checks.h"
#include "error.h"
#include "kubevet/node.h"

/* The InitConfiguration kubeadm needs to issue this node's per-node certificates (its name and
 * advertise address; without it kubeadm takes the host name and the default route's address). */
static int init_config(vet_buf *b, const vet_ctx *ctx, const char *ip, const char *file)
{
    return vet_buf_printf(
        b,
        "\n  printf -- '---\\napiVersion: %s\\nkind: "
        "InitConfiguration\\nlocalAPIEndpoint:\\n  advertiseAddress: %s\\nnodeRegistration:\\n  "
        "name: %s\\n' >> %s",
        vet_advice_kubeadm_api(ctx), ip ? ip : "<advertise-ip>", vet_advice_node_name(ctx), file);
}

/* Re-issue apiserver.crt for this node (kubeadm init phase certs apiserver), with `add` (comma
 * list, may be NULL) added to apiServer.certSANs and the config uploaded so upgrades keep them. */
static int apiserver_reissue(vet_buf *b, const vet_ctx *ctx, const char *add)
{
    const vet_node *n = ctx->node;
    const vet_cert_entry *ca = vet_node_role(n, "ca");
    int rc;
    if (ca && !ca->key)
        return vet_buf_printf(
            b,
            "/etc/kubernetes/pki/ca.key is not on this node (external CA), so kubeadm cannot "
            "sign: create a CSR for this node's apiserver certificate (kubeadm certs "
            "generate-csr --cert-dir /root/kv-csr/pki --kubeconfig-dir /root/kv-csr, with this "
            "node's name and address%s%s), have the CA sign /root/kv-csr/pki/apiserver.csr, "
            "install the certificate and key as /etc/kubernetes/pki/apiserver.{crt,key}, then "
            "restart kube-apiserver",
            add ? " plus " : "", add ? add : "");
    /* Adding names is what 'kubeadm certs renew' cannot do (it keeps the old SANs); kubevet's
     * renewal keeps them and adds the new ones, on any kubeadm version. A copied certificate
     * (add == NULL) is re-issued by kubeadm instead: its old SANs name the other node. */
    if (vet_advice_minor(ctx) && vet_advice_minor(ctx) < 13)
        /* kubeadm 1.9-1.12 has neither 'init phase' nor 'upload-config': kubevet alone. */
        return vet_buf_printf(
            b,
            "on this node (kubeadm 1.%d has no phase for this; kubevet keeps the certificate's "
            "SANs, adds this node's%s%s, backs up, writes atomically, verifies):\n  kubevet certs "
            "renew apiserver%s%s --apply --restart-static-pods\nverify:\n  openssl x509 -noout "
            "-ext subjectAltName -in /etc/kubernetes/pki/apiserver.crt",
            vet_advice_minor(ctx), add ? " and " : "", add ? add : "", add ? " --add-san " : "",
            add ? add : "");
    if (add)
        rc = vet_buf_printf(
            b,
            "on this node (kubevet keeps the certificate's SANs, adds %s, backs up, writes "
            "atomically, verifies):\n  kubevet certs renew apiserver --add-san %s --apply "
            "--restart-static-pods\nthen add %s under apiServer.certSANs in the kubeadm-config "
            "ConfigMap, so joins and upgrades keep %s:\n  kubectl "
            "--kubeconfig=/etc/kubernetes/admin.conf -n kube-system edit cm kubeadm-config\nor "
            "with kubeadm alone, ",
            add, add, add, strchr(add, ',') ? "them" : "it");
    else
        rc = 0;
    if (!rc)
        rc = vet_buf_printf(
            b, "on this node:\n  kubectl --kubeconfig=/etc/kubernetes/admin.conf -n kube-system "
               "get cm kubeadm-config -o "
               "jsonpath='{.data.ClusterConfiguration}' > /root/kv-cc.yaml");
    if (!rc && add)
        rc = vet_buf_printf(b, "\nedit /root/kv-cc.yaml: add %s under apiServer.certSANs", add);
    if (!rc)
        rc = init_config(b, ctx, n->advertise_address ? n->advertise_address : n->etcd_advertise_ip,
                         "/root/kv-cc.yaml");
    if (!rc)
        rc = vet_buf_printf(b,
                            "\n  mkdir -p /root/kv-backup && mv /etc/kubernetes/pki/apiserver.crt "
                            "/etc/kubernetes/pki/apiserver.key /root/kv-backup/\n  kubeadm init "
                            "phase certs apiserver --config /root/kv-cc.yaml");
    if (!rc)
        rc = vet_advice_restart(b, "kube-apiserver");
    if (!rc && add)
        rc = vet_buf_printf(b, "\n  kubeadm init phase upload-config kubeadm --config "
                               "/root/kv-cc.yaml");
    if (!rc)
        rc = vet_buf_printf(b, "\nverify:\n  openssl x509 -noout -ext subjectAltName -in "
                               "/etc/kubernetes/pki/apiserver.crt");
    if (!rc && (!n->node_name || !(n->advertise_address || n->etcd_advertise_ip)))
        rc = vet_buf_printf(b, "\n<node-name>, <advertise-ip>: this node's name and address");
    return rc;
}

static int kv106_identity(const vet_ctx *ctx, vet_report *r)
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
    {
        vet_buf b = VET_BUF_INIT;
        int rc = vet_advice_kubelet_rebootstrap(&b, ctx);
        if (!rc)
            rc = vet_finding_fix(f, "%s", b.ptr);
        vet_buf_free(&b);
        if (rc)
            return rc;
    }
    return 0;
}

/* A node error about this file (unreadable, malformed): then it is an input error, not missing. */
static int has_error(const vet_node *n, const char *rel)
{
    for (size_t i = 0; i < n->errors.n; i++)
        if (strstr(n->errors.v[i], rel))
            return 1;
    return 0;
}

/* A control-plane node runs the kubelet, the controller-manager and the scheduler with these
 * kubeconfigs; without one the component cannot authenticate (crash loop, or a kubelet that
 * never starts). kubelet.conf may be absent while bootstrap-kubelet.conf is there: the kubelet
 * writes it during its TLS bootstrap. */
static int kv106_missing(const vet_ctx *ctx, vet_report *r)
{
    static const struct {
        const char *file, *who, *phase, *pod;
    } want[] = {
        {"kubelet.conf", "the kubelet", "kubelet", NULL},
        {"controller-manager.conf", "kube-controller-manager", "controller-manager",
         "kube-controller-manager"},
        {"scheduler.conf", "kube-scheduler", "scheduler", "kube-scheduler"},
    };
    const vet_node *n = ctx->node;
    const vet_cert_entry *ca = vet_node_role(n, "ca");
    if (!vet_node_is_control_plane(n))
        return 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char rel[64];
        vet_buf b = VET_BUF_INIT;
        vet_finding *f;
        int rc;
        snprintf(rel, sizeof rel, "etc/kubernetes/%s", want[i].file);
        if (vet_node_kubeconfig_get(n, want[i].file) || has_error(n, rel) ||
            (i == 0 && vet_node_kubeconfig_get(n, "bootstrap-kubelet.conf")))
            continue;
        if (!(f = vet_check_emit(r, "KV106", rel)))
            return VET_ENOMEM;
        vet_finding_message(f,
                            "this is a control-plane node (static pods in "
                            "etc/kubernetes/manifests), but %s is missing: %s has no credentials "
                            "and %s",
                            rel, want[i].who,
                            i == 0 ? "cannot register or report the node"
                                   : "crash-loops ('stat /etc/kubernetes/...: no such file')");
        if (i == 0) {
            rc = vet_advice_kubelet_rebootstrap(&b, ctx);
        } else if (ca && !ca->key) {
            rc = vet_buf_printf(&b,
                                "/etc/kubernetes/pki/ca.key is not on this node (external CA): "
                                "create it from a CSR signed by the CA holder:\n  kubeadm certs "
                                "generate-csr --cert-dir /root/kv-csr/pki --kubeconfig-dir "
                                "/root/kv-csr\nput the signed certificate (base64) into "
                                "/root/kv-csr/%s as client-certificate-data, move it to "
                                "/etc/kubernetes/%s, then restart %s",
                                want[i].file, want[i].file, want[i].pod);
        } else {
            rc = vet_buf_printf(&b, "on this node:\n  kubeadm init phase kubeconfig %s",
                                want[i].phase);
            if (!rc && n->advertise_address)
                rc = vet_buf_printf(&b, " --apiserver-advertise-address %s", n->advertise_address);
            if (!rc)
                rc = vet_buf_printf(&b, "\nthen restart the %s static pod:", want[i].pod);
            if (!rc)
                rc = vet_advice_restart(&b, want[i].pod);
        }
        if (!rc)
            rc = vet_finding_fix(f, "%s", b.ptr);
        vet_buf_free(&b);
        if (rc)
            return rc;
    }
    return 0;
}

VET_CHECK_FN(vet_check_kv106)
{
    int rc = ctx->node ? kv106_missing(ctx, r) : 0;
    return rc ? rc : kv106_identity(ctx, r);
}

/* One finding per certificate, listing every missing name: one kubeadm re-issue adds them all. */
typedef struct {
    vet_strv names, why;
} san_need;

static int need_san(san_need *need, const vet_cert_entry *api, const char *name, const char *why)
{
    if (!name || !*name || vet_cert_covers(api->cert, name) ||
        vet_strv_find(&need->names, name, 1) >= 0)
        return 0;
    if (vet_strv_push(&need->names, name) || vet_strv_push(&need->why, why))
        return VET_ENOMEM;
    return 0;
}

VET_CHECK_FN(vet_check_kv107)
{
    const vet_node *n = ctx->node;
    const vet_cert_entry *api = vet_node_role(n, "apiserver");
    san_need need = {VET_STRV_INIT, VET_STRV_INIT};
    vet_buf m = VET_BUF_INIT, list = VET_BUF_INIT, fix = VET_BUF_INIT;
    vet_finding *f;
    json_t *arr;
    int rc = 0, has_fqdn = 0;
    if (!api)
        return 0;
    for (size_t i = 0; i < vet_cert_dns(api->cert)->n; i++)
        has_fqdn |= !strncmp(vet_cert_dns(api->cert)->v[i], "kubernetes.default.svc.", 23);
    if ((rc = need_san(&need, api, n->node_name, "the node name")) ||
        (rc = need_san(&need, api, n->advertise_address, "the advertise address")) ||
        (rc = need_san(&need, api, "kubernetes", "the kubernetes Service")) ||
        (rc = need_san(&need, api, "kubernetes.default", "the kubernetes Service")) ||
        (rc = need_san(&need, api, "kubernetes.default.svc", "the kubernetes Service")) ||
        (!has_fqdn && (rc = need_san(&need, api, "kubernetes.default.svc.cluster.local",
                                     "the kubernetes Service"))) ||
        (rc = need_san(&need, api, n->service_ip, "the kubernetes Service IP")))
        goto done;
    for (size_t i = 0; i < n->server_hosts.n; i++)
        if ((rc = need_san(&need, api, n->server_hosts.v[i],
                           "a kubeconfig on this node connects to it: the controlPlaneEndpoint")))
            goto done;
    for (size_t i = 0; ctx->expect_sans && i < ctx->expect_sans->n; i++)
        if ((rc = need_san(&need, api, ctx->expect_sans->v[i], "given with --expect-san")))
            goto done;
    if (!need.names.n)
        goto done;
    if (!(f = vet_check_emit(r, "KV107", api->subject)) || !(arr = json_array())) {
        rc = VET_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < need.names.n; i++) {
        json_array_append_new(arr, json_string(need.names.v[i]));
        vet_buf_printf(&m, "%s%s (%s)", i ? ", " : "", need.names.v[i], need.why.v[i]);
        vet_buf_printf(&list, "%s%s", i ? "," : "", need.names.v[i]);
    }
    if ((rc = vet_finding_set_str(f, "missing_san", need.names.v[0])) ||
        (rc = vet_finding_set_int(f, "missing_count", (long long)need.names.n))) {
        json_decref(arr);
        goto done;
    }
    json_object_set_new(f->fields, "missing_sans", arr);
    vet_finding_message(f,
                        "the apiserver certificate has no SAN for %s: clients connecting by %s "
                        "fail with 'x509: certificate is valid for ..., not %s'",
                        m.ptr, need.names.n > 1 ? "those names" : "that name", need.names.v[0]);
    if ((rc = apiserver_reissue(&fix, ctx, list.ptr)) || (rc = vet_finding_fix(f, "%s", fix.ptr)))
        goto done;
done:
    vet_strv_free(&need.names);
    vet_strv_free(&need.why);
    vet_buf_free(&m);
    vet_buf_free(&list);
    vet_buf_free(&fix);
    return rc;
}

int vet_check_kv108_kubeconfigs(const vet_ctx *ctx, vet_report *r)
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
        vet_finding_set_str(f, "kind", "kubeconfig-ca");
        vet_finding_set_str(f, "trusted_ca", vet_cert_subject(nk->ca[0]));
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

VET_CHECK_FN(vet_check_kv110)
{
    const vet_node *n = ctx->node;
    const vet_node_kubeconfig *k = vet_node_kubeconfig_get(n, "kubelet.conf");
    vet_finding *f;
    if (!n)
        return 0;
    if (n->kubelet_client_dangling) {
        vet_buf b = VET_BUF_INIT;
        int rc;
        if (!(f = vet_check_emit(r, "KV110", "var/lib/kubelet/pki/kubelet-client-current.pem")))
            return VET_ENOMEM;
        f->severity = VET_SEV_CRITICAL;
        vet_finding_set_str(f, "target", n->kubelet_client_link);
        vet_finding_message(f,
                            "kubelet-client-current.pem points at %s, which does not exist: the "
                            "kubelet has no client certificate and cannot start (or stays "
                            "'Unauthorized'); the file was deleted or the link was copied from "
                            "another node",
                            n->kubelet_client_link);
        rc = vet_buf_printf(&b,
                            "if a valid kubelet-client-<date>.pem of this node is still in "
                            "/var/lib/kubelet/pki (ls -l /var/lib/kubelet/pki), point the "
                            "link at it:\n  ln -sfn /var/lib/kubelet/pki/kubelet-client-<date>.pem "
                            "/var/lib/kubelet/pki/kubelet-client-current.pem && systemctl "
                            "restart kubelet\n<date>: the newest one; otherwise ");
        if (!rc)
            rc = vet_advice_kubelet_rebootstrap(&b, ctx);
        if (!rc)
            rc = vet_finding_fix(f, "%s", b.ptr);
        vet_buf_free(&b);
        if (rc)
            return rc;
    }
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

/* Names in a per-node certificate that belong to no shared endpoint: what says which node it was
 * issued for. */
static int shared_name(const vet_ctx *ctx, const char *s, int apiserver)
{
    const vet_node *n = ctx->node;
    static const char *const local[] = {"localhost", "127.0.0.1", "::1", NULL};
    for (int i = 0; local[i]; i++)
        if (!strcmp(s, local[i]))
            return 1;
    if (!apiserver)
        return 0;
    if (!strncmp(s, "kubernetes", 10) || (n->service_ip && !strcmp(s, n->service_ip)) ||
        vet_strv_find(&n->server_hosts, s, 1) >= 0 ||
        (ctx->expect_sans && vet_strv_find(ctx->expect_sans, s, 1) >= 0))
        return 1;
    return 0;
}

/* kubeadm issues etcd/server.crt, etcd/peer.crt and apiserver.crt for one node: CN/SANs carry its
 * name and advertise address. A copy from another master keeps that master's identity; etcd then
 * refuses peers ('remote error: tls: bad certificate') and clients reach the wrong name. */
VET_CHECK_FN(vet_check_kv112)
{
    static const char *const roles[] = {"etcd-server", "etcd-peer", "apiserver"};
    const vet_node *n = ctx->node;
    if (!n)
        return 0;
    for (size_t i = 0; i < 3; i++) {
        const vet_cert_entry *e = vet_node_role(n, roles[i]);
        int api = i == 2;
        const char *ip = api ? (n->advertise_address ? n->advertise_address : n->etcd_advertise_ip)
                             : (n->etcd_advertise_ip ? n->etcd_advertise_ip : n->advertise_address);
        const char *me = n->node_name;
        vet_strv other = VET_STRV_INIT;
        vet_buf m = VET_BUF_INIT, b = VET_BUF_INIT;
        const char *cn, *file = i == 0 ? "server" : "peer";
        vet_finding *f;
        int rc = 0;
        if (!e || (!ip && !me))
            continue;
        if ((!me || vet_cert_covers(e->cert, me)) && (!ip || vet_cert_covers(e->cert, ip)))
            continue;
        cn = vet_cert_cn(e->cert);
        if (!api && *cn && (!me || strcmp(cn, me)) && !shared_name(ctx, cn, 0))
            vet_strv_push(&other, cn);
        for (size_t k = 0; k < vet_cert_dns(e->cert)->n; k++) {
            const char *d = vet_cert_dns(e->cert)->v[k];
            if ((!me || strcasecmp(d, me)) && !shared_name(ctx, d, api) &&
                vet_strv_find(&other, d, 1) < 0)
                vet_strv_push(&other, d);
        }
        for (size_t k = 0; k < vet_cert_ips(e->cert)->n; k++) {
            const char *a = vet_cert_ips(e->cert)->v[k];
            if ((!ip || strcmp(a, ip)) && !shared_name(ctx, a, api))
                vet_strv_push(&other, a);
        }
        if (!other.n) {
            vet_strv_free(&other);
            continue;
        }
        for (size_t k = 0; k < other.n; k++)
            vet_buf_printf(&m, "%s%s", k ? ", " : "", other.v[k]);
        if (!(f = vet_check_emit(r, "KV112", e->subject))) {
            vet_strv_free(&other);
            vet_buf_free(&m);
            return VET_ENOMEM;
        }
        vet_finding_message(
            f,
            "%s is issued for another node (%s) and does not name this one (%s%s%s%s): it was "
            "copied from another master; %s",
            e->subject, m.ptr, me ? me : "", me && ip ? ", " : "", ip ? ip : "",
            api ? ", its advertise address" : ", the address etcd.yaml advertises",
            api ? "clients that reach this apiserver by its own name or address fail TLS "
                  "verification"
                : "etcd peers and clients reject it ('tls: bad certificate', 'certificate is "
                  "valid for ..., not ...'), so this member cannot join or serve");
        vet_buf_printf(&b, "re-issue it for this node (never copy per-node certificates between "
                           "masters; only ca, sa, front-proxy-ca and etcd/ca are shared): ");
        if (api) {
            rc = apiserver_reissue(&b, ctx, NULL);
        } else if (vet_advice_ca_key_missing(ctx, e)) {
            rc =
                vet_buf_printf(&b, "/etc/kubernetes/pki/etcd/ca.key is not on this node: create "
                                   "CSRs for etcd/server and etcd/peer with this node's name and "
                                   "address (kubeadm certs generate-csr --cert-dir "
                                   "/root/kv-csr/pki --kubeconfig-dir /root/kv-csr), have the etcd "
                                   "CA sign them, install them, then restart etcd");
        } else {
            rc = vet_buf_printf(&b, "on this node:\n  : > /root/kv-init.yaml");
            if (!rc)
                rc = init_config(&b, ctx, ip, "/root/kv-init.yaml");
            if (!rc)
                rc = vet_buf_printf(
                    &b,
                    "\n  mkdir -p /root/kv-backup && mv /etc/kubernetes/pki/etcd/%s.crt "
                    "/etc/kubernetes/pki/etcd/%s.key /root/kv-backup/\n  kubeadm init phase "
                    "certs %s --config /root/kv-init.yaml\nthen restart the etcd static pod:",
                    file, file, roles[i]);
            if (!rc)
                rc = vet_advice_restart(&b, "etcd");
            if (!rc && (!me || !ip))
                rc = vet_buf_printf(&b, "\n<node-name>, <advertise-ip>: this node's name and "
                                        "address");
        }
        if (!rc)
            rc = vet_finding_fix(f, "%s", b.ptr);
        vet_strv_free(&other);
        vet_buf_free(&m);
        vet_buf_free(&b);
        if (rc)
            return rc;
    }
    return 0;
}
