/* `kubevet join plan`: everything a `kubeadm join` needs, checked before it runs.
 *
 * Incident 3: a certificate key for a kubeadm-certs Secret that had already expired (it lives
 * as long as its owner bootstrap token: 2 h), then a voting etcd member added to a one-member
 * cluster that never started, which took quorum and the only apiserver with it. So: the
 * credentials are checked against the cluster (the key by decrypting the Secret), the etcd
 * arithmetic is done before the add, and the join command is printed only when nothing critical
 * stands in its way. Secrets the operator did not pass in are never printed: placeholders and
 * the command that produces them instead. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "error.h"
#include "kubevet/etcd.h"
#include "kubevet/k8s.h"
#include "kubevet/kubeconfig.h"
#include "upgrade_int.h"
#include "vtime.h"

#define OOM() vet_error_set(VET_ENOMEM, "out of memory")
#define CERTS_SECRET "Secret/kube-system/kubeadm-certs"

int vet_join_ca_hash(char out[80], const unsigned char *pem, size_t len, const char *name)
{
    BIO *bio = NULL;
    X509 *x = NULL;
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int n, rc = 0;
    out[0] = '\0';
    if (len > (1u << 20) || !(bio = BIO_new_mem_buf(pem, (int)len))) {
        rc = vet_error_set(VET_EINPUT, "%s: CA certificate too large or unreadable", name);
        goto done;
    }
    if (!(x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        rc = vet_error_set(VET_EINPUT, "%s: no PEM certificate", name);
        goto done;
    }
    if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0 ||
        !EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)) {
        rc = vet_error_set(VET_EINPUT, "%s: cannot encode the public key", name);
        goto done;
    }
    strcpy(out, "sha256:");
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
done:
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    return rc;
}

static int gcm_open(const unsigned char key[32], const unsigned char *in, size_t len)
{
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *pt = NULL;
    int outl = 0, ok = 0;
    if (len < 28 || len > (64u << 20) || !(pt = malloc(len)) || !(c = EVP_CIPHER_CTX_new()))
        goto done;
    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
        EVP_DecryptInit_ex(c, NULL, NULL, key, in) != 1 ||
        EVP_DecryptUpdate(c, pt, &outl, in + 12, (int)(len - 28)) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + len - 16)) != 1)
        goto done;
    ok = EVP_DecryptFinal_ex(c, pt + outl, &outl) == 1;
done:
    EVP_CIPHER_CTX_free(c);
    if (pt)
        OPENSSL_cleanse(pt, len);
    free(pt);
    return ok;
}

int vet_join_certs_decrypt(int *ok, const char **bad, const json_t *secret, const char *key_hex)
{
    unsigned char key[32];
    json_t *data = json_object_get(secret, "data");
    const char *k;
    json_t *v;
    *ok = 0;
    *bad = NULL;
    if (!key_hex || strlen(key_hex) != 64)
        return vet_error_set(VET_EUSAGE, "--certificate-key: want 64 hex digits (32 bytes), as "
                                         "kubeadm init phase upload-certs prints it");
    for (int i = 0; i < 32; i++) {
        unsigned hi, lo;
        if (!isxdigit((unsigned char)key_hex[2 * i]) ||
            !isxdigit((unsigned char)key_hex[2 * i + 1]))
            return vet_error_set(VET_EUSAGE, "--certificate-key: want 64 hex digits");
        sscanf(key_hex + 2 * i, "%1x%1x", &hi, &lo);
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    if (!json_is_object(data) || !json_object_size(data)) {
        *bad = "data";
        goto done;
    }
    json_object_foreach(data, k, v)
    {
        vet_blob b = {NULL, 0};
        const char *s = json_string_value(v);
        int good = s && !vet_base64_decode(&b, s, strlen(s)) && gcm_open(key, b.data, b.len);
        free(b.data);
        if (!good) {
            *bad = k;
            goto done;
        }
    }
    *ok = 1;
done:
    OPENSSL_cleanse(key, sizeof key);
    return 0;
}

static int step(vet_strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int step(vet_strv *sv, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;
    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0 || vet_strv_take(sv, s))
        return OOM();
    return 0;
}

static const vet_api_token *find_token(const vet_api_facts *a, const char *id, size_t idlen)
{
    for (size_t i = 0; a && i < a->ntokens; i++)
        if (strlen(a->tokens[i].id) == idlen && !strncmp(a->tokens[i].id, id, idlen))
            return &a->tokens[i];
    return NULL;
}

static int valid_token_syntax(const char *t)
{
    size_t i;
    for (i = 0; i < 23; i++) {
        char c = t[i];
        if (i == 6 ? c != '.' : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return t[i] == '\0';
}

/* Which upload-certs flag this kubeadm knows: --experimental-upload-certs until 1.14. */
static const char *upload_certs_cmd(const vet_api_facts *a)
{
    return a && a->minor && a->minor < 15
               ? "kubeadm init phase upload-certs --experimental-upload-certs"
               : "kubeadm init phase upload-certs --upload-certs";
}

static int token_part(vet_join_plan *p, const vet_join_opts *o, const char **tok, char *hint,
                      size_t hn)
{
    const vet_api_facts *a = o->ctx->api;
    const vet_api_token *best = NULL;
    vet_finding *f;
    char when[32], sub[128];
    *tok = "<token>";
    if (o->token) {
        const vet_api_token *t;
        if (!valid_token_syntax(o->token))
            return vet_error_set(VET_EUSAGE, "--token: want [a-z0-9]{6}.[a-z0-9]{16}");
        *tok = o->token;
        t = find_token(a, o->token, 6);
        snprintf(sub, sizeof sub, "Secret/kube-system/bootstrap-token-%.6s", o->token);
        if (a && !t) {
            if (!(f = vet_check_emit(&p->findings, "KV207", sub)))
                return OOM();
            vet_finding_message(f,
                                "bootstrap token %.6s is not in the cluster (expired and "
                                "cleaned up, or never created): the join would fail",
                                o->token);
            vet_finding_fix(f, "on a control-plane node: kubeadm token create (valid 24 h); use "
                               "the token it prints");
        } else if (t && t->expiration && t->expiration <= o->ctx->now &&
                   !vet_report_find(&p->findings, "KV207", sub)) {
            vet_time_format(when, t->expiration);
            if (!(f = vet_check_emit(&p->findings, "KV207", sub)))
                return OOM();
            vet_finding_message(f, "bootstrap token %.6s expired at %s", o->token, when);
            vet_finding_fix(f, "on a control-plane node: kubeadm token create");
        }
        return 0;
    }
    for (size_t i = 0; a && i < a->ntokens; i++) {
        const vet_api_token *t = &a->tokens[i];
        if (t->expiration && t->expiration <= o->ctx->now)
            continue;
        if (!best || !t->expiration || (best->expiration && t->expiration > best->expiration))
            best = t;
    }
    if (best) {
        if (best->expiration)
            vet_time_format(when, best->expiration);
        snprintf(hint, hn,
                 "<token>: bootstrap token %s (%s%s); its secret is not printed here: 'kubeadm "
                 "token list' on a control-plane node shows it",
                 best->id, best->expiration ? "expires " : "never expires",
                 best->expiration ? when : "");
        return 0;
    }
    if (!(f = vet_check_emit(&p->findings, "KV207", "bootstrap tokens")))
        return OOM();
    vet_finding_message(f, "no valid bootstrap token in the cluster: a join needs one");
    vet_finding_fix(f, "on a control-plane node: kubeadm token create (valid 24 h); use the "
                       "token it prints as --token");
    snprintf(hint, hn, "<token>: from 'kubeadm token create' on a control-plane node");
    return 0;
}

static int certs_part(vet_join_plan *p, const vet_join_opts *o)
{
    const vet_api_facts *a = o->ctx->api;
    vet_finding *f;
    char when[32];
    if (!a)
        return 0;
    if (!a->have_kubeadm_certs) {
        if (!(f = vet_check_emit(&p->findings, "KV207", CERTS_SECRET)))
            return OOM();
        vet_finding_message(f, "the kubeadm-certs Secret is gone (it lives 2 h after upload): a "
                               "control-plane join cannot fetch the certificates");
        vet_finding_fix(f,
                        "on a control-plane node, right before the join: %s (prints the "
                        "certificate key, valid 2 h)",
                        upload_certs_cmd(a));
        return 0;
    }
    if (a->kubeadm_certs_owner) {
        const vet_api_token *t =
            find_token(a, a->kubeadm_certs_owner, strlen(a->kubeadm_certs_owner));
        if (t && t->expiration > o->ctx->now && t->expiration - o->ctx->now < o->certs_margin) {
            vet_time_format(when, t->expiration);
            if (!(f = vet_check_emit(&p->findings, "KV207", CERTS_SECRET)))
                return OOM();
            vet_finding_message(f,
                                "the kubeadm-certs Secret expires at %s with its owner token %s, "
                                "in less than %lld minutes: a join started now may not finish "
                                "fetching it",
                                when, t->id, (long long)(o->certs_margin / 60));
            vet_finding_fix(f, "on a control-plane node, right before the join: %s",
                            upload_certs_cmd(a));
        }
    }
    if (o->certificate_key && o->kubeadm_certs) {
        int ok;
        const char *bad;
        int rc = vet_join_certs_decrypt(&ok, &bad, o->kubeadm_certs, o->certificate_key);
        if (rc)
            return rc;
        if (!ok) {
            if (!(f = vet_check_emit(&p->findings, "KV207", CERTS_SECRET)))
                return OOM();
            vet_finding_message(f,
                                "the given --certificate-key does not decrypt the kubeadm-certs "
                                "Secret (%s fails AES-256-GCM authentication): it belongs to "
                                "another upload, and the join would fail fetching the certificates",
                                bad);
            vet_finding_fix(f,
                            "on a control-plane node: %s, and pass the key it prints as "
                            "--certificate-key",
                            upload_certs_cmd(a));
        }
    }
    return 0;
}

/* KV301: the add as etcd will see it right after `member add`, before the new member runs. */
static int etcd_part(vet_join_plan *p, const vet_join_opts *o)
{
    const vet_etcd_facts *e = o->ctx->etcd;
    const vet_api_facts *a = o->ctx->api;
    vet_etcd_quorum q;
    vet_finding *f;
    int voters, healthy, after_q, rc;
    const char *src = "etcd";
    if (e) {
        vet_etcd_quorum_of(&q, e);
        voters = q.voters;
        healthy = q.healthy_voters;
    } else if (a) {
        /* kubeadm's stacked etcd: one member per control-plane node */
        voters = healthy = 0;
        for (size_t i = 0; i < a->nnodes; i++)
            voters += a->nodes[i].control_plane != 0;
        healthy = voters;
        src = "control-plane Nodes (stacked etcd assumed; give --etcd-endpoints for the members)";
    } else
        return 0;
    p->members_before = voters;
    p->members_after = voters + 1;
    after_q = vet_etcd_quorum_size(voters + 1);
    if (healthy >= after_q && (voters + 1) % 2)
        return 0;
    if (!(f = vet_check_emit(&p->findings, "KV301", o->name ? o->name : "new control-plane node")))
        return OOM();
    if (healthy < after_q)
        vet_finding_message(f,
                            "a control-plane join adds a voting etcd member: %d -> %d voters "
                            "(from %s), quorum %d -> %d, but only %d healthy until the new member "
                            "starts and catches up; if it never starts, writes stop and the "
                            "apiserver with them (incident 3)",
                            voters, voters + 1, src, vet_etcd_quorum_size(voters), after_q,
                            healthy);
    else {
        f->severity = VET_SEV_WARNING;
        vet_finding_message(f,
                            "after the join etcd has %d voters (even): it tolerates no more "
                            "failures than %d did, and until the new member runs, one failure "
                            "stops it",
                            voters + 1, voters);
    }
    vet_finding_fix(f,
                    "add the new member as a learner first (learners do not vote), start it, "
                    "promote it: kubevet etcd plan add-member --name %s --peer-url "
                    "https://%s:2380 --learner",
                    o->name ? o->name : "<name>", o->address ? o->address : "<address>");
    if (e && o->name && o->address) {
        vet_etcd_plan *ep = NULL;
        char url[300];
        snprintf(url, sizeof url, "https://%s:2380", o->address);
        if (!(rc = vet_etcd_plan_add_member(&ep, e, o->name, url, 1))) {
            if ((rc = step(&p->before, "etcd learner path (instead of the voting add):")))
                goto ep_done;
            for (size_t i = 0; i < ep->steps.n && !rc; i++)
                rc = step(&p->before, "  %zu. %s", i + 1, ep->steps.v[i]);
            for (size_t i = 0; i < ep->alternatives.n && !rc; i++)
                rc = step(&p->before, "  %s", ep->alternatives.v[i]);
        }
    ep_done:
        vet_etcd_plan_free(ep);
        return rc == VET_EUSAGE ? 0 : rc;
    }
    return step(&p->before,
                "etcd learner path: kubevet etcd plan add-member --name %s --peer-url "
                "https://%s:2380 --learner --etcd-endpoints URL (prints the steps); kubeadm >= "
                "1.27 joins as a learner itself with the EtcdLearnerMode feature gate",
                o->name ? o->name : "<name>", o->address ? o->address : "<address>");
}

/* kubeadm refuses a control-plane join without controlPlaneEndpoint ("unable to add a new
 * control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint"). */
static int endpoint_part(vet_join_plan *p, const vet_join_opts *o)
{
    const vet_api_facts *a = o->ctx->api;
    vet_finding *f;
    if (a && a->control_plane_endpoint)
        p->endpoint = strdup(a->control_plane_endpoint);
    else if (a && a->cluster_info_server) {
        const char *s = a->cluster_info_server;
        s += !strncmp(s, "https://", 8) ? 8 : 0;
        p->endpoint = strndup(s, strcspn(s, "/"));
    } else
        p->endpoint = strdup("<control-plane-endpoint>");
    if (!p->endpoint)
        return OOM();
    if (!o->control_plane || !a || !a->have_cluster_config || a->control_plane_endpoint)
        return 0;
    if (!(f = vet_check_emit(&p->findings, "KV203", "ConfigMap/kube-system/kubeadm-config")))
        return OOM();
    f->severity = VET_SEV_CRITICAL;
    vet_finding_message(f, "ClusterConfiguration has no controlPlaneEndpoint: kubeadm refuses a "
                           "control-plane join (\"unable to add a new control plane instance to "
                           "a cluster that doesn't have a stable controlPlaneEndpoint address\")");
    vet_finding_fix(f, "put a load balancer in front of the apiservers and set "
                       "controlPlaneEndpoint first: kubevet ha plan --endpoint HOST:PORT "
                       "--control-plane NAME=IP ...");
    return 0;
}

/* KV204 for the new master: when certSANs already lists control-plane nodes by name or IP (the
 * HA conversion of incident 5 does), the new one belongs there too, or the next certificate
 * re-issued from certSANs on another node leaves it out. */
static int sans_part(vet_join_plan *p, const vet_join_opts *o)
{
    const vet_api_facts *a = o->ctx->api;
    int listed = 0, has_name, has_ip;
    vet_finding *f;
    if (!a || !a->cert_sans.n || (!o->name && !o->address))
        return 0;
    for (size_t i = 0; i < a->nnodes && !listed; i++)
        listed = a->nodes[i].control_plane &&
                 (vet_strv_find(&a->cert_sans, a->nodes[i].name, 1) >= 0 ||
                  (a->nodes[i].internal_ip &&
                   vet_strv_find(&a->cert_sans, a->nodes[i].internal_ip, 0) >= 0));
    has_name = !o->name || vet_strv_find(&a->cert_sans, o->name, 1) >= 0;
    has_ip = !o->address || vet_strv_find(&a->cert_sans, o->address, 0) >= 0;
    if (!listed || (has_name && has_ip))
        return 0;
    if (!(f = vet_check_emit(&p->findings, "KV204", "ConfigMap/kube-system/kubeadm-config")))
        return OOM();
    vet_finding_message(f,
                        "apiServer.certSANs lists the control-plane nodes but not %s%s%s: "
                        "certificates re-issued from it will not name the new master",
                        has_name ? "" : o->name, !has_name && !has_ip ? " and " : "",
                        has_ip ? "" : o->address);
    vet_finding_fix(f,
                    "kubectl -n kube-system edit configmap kubeadm-config: add %s%s%s under "
                    "ClusterConfiguration apiServer.certSANs",
                    has_name ? "" : o->name, !has_name && !has_ip ? ", " : "",
                    has_ip ? "" : o->address);
    return 0;
}

int vet_join_plan_build(vet_join_plan **out, const vet_join_opts *o, vet_report *r)
{
    static const char *const cur[] = {"KV304", NULL}, *const api_ids[] = {"KV207", NULL};
    static const char *const san_ids[] = {"KV107", "KV204", NULL};
    vet_join_plan *p = calloc(1, sizeof *p);
    const char *tok;
    char hint[300] = "";
    vet_buf cmd = VET_BUF_INIT;
    int rc;
    *out = NULL;
    if (!p)
        return OOM();
    p->members_before = p->members_after = -1;
    if ((rc = vet_report_init(&p->findings, "join plan", o->ctx->now)))
        goto fail;
    /* Stale or never-started members first: they already count against quorum. The cluster's
     * own KV301 is not repeated: the add is judged below, with those members counted. */
    if (o->ctx->etcd && (rc = vet_check_run(o->ctx, &p->findings, VET_SRC_ETCD | VET_SRC_API, cur)))
        goto fail;
    if (o->ctx->api && (rc = vet_check_run(o->ctx, &p->findings, VET_SRC_API, api_ids)))
        goto fail;
    if ((rc = token_part(p, o, &tok, hint, sizeof hint)) || (rc = endpoint_part(p, o)))
        goto fail;
    if (o->control_plane) {
        unsigned src = (o->ctx->node ? VET_SRC_NODE : 0) | (o->ctx->api ? VET_SRC_API : 0);
        if ((rc = certs_part(p, o)) || (rc = etcd_part(p, o)) || (rc = sans_part(p, o)) ||
            (src && (rc = vet_check_run(o->ctx, &p->findings, src, san_ids))))
            goto fail;
    }
    if (o->ca_pem && (rc = vet_join_ca_hash(p->ca_hash, o->ca_pem, o->ca_len, o->ca_source)))
        goto fail;
    vet_report_sort(&p->findings);
    for (size_t i = 0; i < p->findings.nfindings; i++) {
        const vet_finding *f = &p->findings.findings[i];
        if (f->fix && f->severity >= VET_SEV_WARNING && strcmp(f->id, "KV301") &&
            (rc = step(&p->before, "%s %s: %s", f->id, f->subject ? f->subject : "", f->fix)))
            goto fail;
        if (f->severity >= VET_SEV_CRITICAL && !p->refused &&
            !(p->refused = vet_strdupf("refused: %s %s must be fixed first (see above); the "
                                       "kubeadm join command is not printed until it is",
                                       f->id, f->subject ? f->subject : "")))
            goto oom;
    }
    if (!p->refused) {
        vet_buf_printf(&cmd, "kubeadm join %s --token %s --discovery-token-ca-cert-hash %s",
                       p->endpoint, tok, p->ca_hash[0] ? p->ca_hash : "sha256:<hash>");
        if (o->control_plane)
            vet_buf_printf(&cmd, " --control-plane --certificate-key %s",
                           o->certificate_key ? o->certificate_key : "<certificate-key>");
        if (o->control_plane && o->address)
            vet_buf_printf(&cmd, " --apiserver-advertise-address %s", o->address);
        if (o->name)
            vet_buf_printf(&cmd, " --node-name %s", o->name);
        if (!(p->command = vet_buf_detach(&cmd)))
            goto oom;
        if (hint[0] && (rc = step(&p->before, "%s", hint)))
            goto fail;
        if (!p->ca_hash[0] &&
            (rc = step(&p->before, "sha256:<hash>: give --root of a control-plane node (its "
                                   "etc/kubernetes/pki/ca.crt) or --kubeconfig (cluster-info)")))
            goto fail;
        if (o->control_plane && !o->certificate_key &&
            (rc = step(&p->before,
                       "<certificate-key>: on a control-plane node, right before the "
                       "join: %s (prints it; valid 2 h)",
                       upload_certs_cmd(o->ctx->api))))
            goto fail;
    }
    if ((rc =
             step(&p->after, "kubectl get nodes: %s is Ready", o->name ? o->name : "the new node")))
        goto fail;
    if (o->control_plane &&
        ((rc = step(&p->after, "kubevet etcd status: %d members, all healthy, none a learner",
                    p->members_after > 0 ? p->members_after : 0)) ||
         (rc = step(&p->after, "kubevet check --kubeconfig /etc/kubernetes/admin.conf on the new "
                               "node (KV106/KV107: its own identity and SANs)"))))
        goto fail;
    for (size_t i = 0; i < p->findings.nfindings; i++)
        if ((rc = vet_upgrade_copy_finding(r, &p->findings.findings[i])))
            goto fail;
    vet_report_sort(r);
    *out = p;
    return 0;
oom:
    rc = OOM();
fail:
    vet_buf_free(&cmd);
    vet_join_plan_free(p);
    return rc;
}

void vet_join_plan_free(vet_join_plan *p)
{
    if (!p)
        return;
    free(p->endpoint);
    free(p->command);
    free(p->refused);
    vet_strv_free(&p->before);
    vet_strv_free(&p->after);
    vet_report_free(&p->findings);
    free(p);
}

static json_t *strv_json(const vet_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

json_t *vet_join_plan_json(const vet_join_plan *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "endpoint", json_string(p->endpoint));
    json_object_set_new(o, "discovery_token_ca_cert_hash",
                        p->ca_hash[0] ? json_string(p->ca_hash) : json_null());
    json_object_set_new(o, "command", p->command ? json_string(p->command) : json_null());
    if (p->refused)
        json_object_set_new(o, "refused", json_string(p->refused));
    json_object_set_new(o, "etcd_members_before", json_integer(p->members_before));
    json_object_set_new(o, "etcd_members_after", json_integer(p->members_after));
    json_object_set_new(o, "before", strv_json(&p->before));
    json_object_set_new(o, "after", strv_json(&p->after));
    return o;
}

int vet_join_plan_render_text(const vet_join_plan *p, FILE *out, int color)
{
    const char *b = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
    fprintf(out, "%sjoin plan%s: endpoint %s", b, off, p->endpoint);
    if (p->members_before >= 0)
        fprintf(out, ", etcd members %d -> %d", p->members_before, p->members_after);
    fprintf(out, "\n\n");
    if (p->findings.nfindings) {
        fprintf(out, "blockers (root cause first):\n");
        vet_report_render_text(&p->findings, out, color);
    } else
        fprintf(out, "blockers: none\n");
    if (p->before.n) {
        fprintf(out, "\nbefore the join:\n");
        for (size_t i = 0; i < p->before.n; i++)
            fprintf(out, "  %s\n", p->before.v[i]);
    }
    if (p->refused)
        fprintf(out, "\n%s\n", p->refused);
    else
        fprintf(out, "\nrun on the new node:\n  %s\n", p->command);
    fprintf(out, "\nafter the join:\n");
    for (size_t i = 0; i < p->after.n; i++)
        fprintf(out, "  %s\n", p->after.v[i]);
    return 0;
}
