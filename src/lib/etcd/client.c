/* The etcd client: endpoint and TLS discovery, and JSON requests to the v3 HTTP gateway. */
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd_int.h"
#include "fs.h"
#include "text.h"
#include "url.h"

#define ETCD_BODY_CAP (64u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int etcd_split_csv(vet_strv *sv, const char *s)
{
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n && vet_strv_pushn(sv, s, n))
            return VET_ENOMEM;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

static size_t write_buf(char *ptr, size_t size, size_t nmemb, void *ud)
{
    vet_buf *b = ud;
    size_t n = size * nmemb;
    if (b->size + n > ETCD_BODY_CAP || vet_buf_put(b, ptr, n))
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    return n;
}

int etcd_curl_setup(vet_etcd *c, CURL *h, long timeout_ms)
{
    CURLcode cc = vet_curl_restrict_protocols(h);
    if (cc != CURLE_OK)
        return vet_error_set(VET_ENET, "libcurl: cannot limit requests to http/https: %s",
                             curl_easy_strerror(cc));
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 3000 ? c->timeout_ms : 3000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->cert)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
    if (c->key)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
    return 0;
}

/* The host part of an http(s) URL, for messages ("127.0.0.1", "[::1]"). */
static void url_host(char *out, size_t n, const char *url)
{
    const char *h = strstr(url, "://"), *e;
    size_t len;
    h = h ? h + 3 : url;
    if (*h == '[')
        e = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
    else
        e = h + strcspn(h, ":/?#");
    len = (size_t)(e - h) < n - 1 ? (size_t)(e - h) : n - 1;
    memcpy(out, h, len);
    out[len] = '\0';
}

/* Why the server's certificate was refused, in the operator's terms: the CA check and the host
 * name check fail for different reasons (wrong --etcd-cacert / a cert from another cluster, vs
 * an endpoint the certificate does not name) and have different fixes. libcurl's OpenSSL backend
 * checks the chain through OpenSSL (CURLINFO_SSL_VERIFYRESULT holds the X509_V_ERR_* code) and
 * the host name itself afterwards (verify result X509_V_OK, CURLE_PEER_FAILED_VERIFICATION). */
static void tls_cause(vet_buf *b, vet_etcd *c, CURL *h, CURLcode cc, const char *url)
{
    const char *ca = c->cacert_node ? c->cacert_node : c->cacert;
    char host[256];
    long v = 0;
    char cafile[600];
    snprintf(cafile, sizeof cafile, "%s%s%s", ca ? "the CA file " : "",
             ca ? ca
                : "the system CA store (no --etcd-cacert, no etc/kubernetes/pki/etcd/ca.crt "
                  "under --root)",
             "");
    url_host(host, sizeof host, url);
    if (cc == CURLE_SSL_CACERT_BADFILE) {
        vet_buf_printf(b, "TLS: cannot read %s", cafile);
        return;
    }
    if (cc == CURLE_SSL_CERTPROBLEM) {
        vet_buf_printf(b, "TLS: the client certificate or key (%s, %s) cannot be used",
                       c->cert_node ? c->cert_node
                       : c->cert    ? c->cert
                                    : "none",
                       c->key_node ? c->key_node
                       : c->key    ? c->key
                                   : "none");
        return;
    }
    /* The server refused us: TLS 1.3 reports a missing or untrusted client certificate as an
     * alert after the handshake, so it arrives as a receive error. */
    if (strstr(c->errbuf, "alert certificate required") ||
        strstr(c->errbuf, "alert bad certificate") || strstr(c->errbuf, "alert unknown ca")) {
        vet_buf_printf(b,
                       "TLS: the server refused %s%s: etcd wants a client certificate signed by "
                       "its CA (--etcd-cert/--etcd-key; kubeadm: "
                       "/etc/kubernetes/pki/etcd/healthcheck-client.crt/.key)",
                       c->cert ? "the client certificate "
                               : "the connection: no client certificate",
                       c->cert ? (c->cert_node ? c->cert_node : c->cert) : "");
        return;
    }
    /* Without the alert (it races with the socket closing) the symptom is only a connection
     * dropped during or right after the handshake. */
    if (!c->cert && vet_url_is_https(url) &&
        (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_SSL_CONNECT_ERROR)) {
        vet_buf_printf(b, "TLS: the server closed the connection and no client certificate was "
                          "given: etcd with --client-cert-auth wants one signed by its CA "
                          "(--etcd-cert/--etcd-key; kubeadm: "
                          "/etc/kubernetes/pki/etcd/healthcheck-client.crt/.key)");
        return;
    }
    if (cc != CURLE_PEER_FAILED_VERIFICATION)
        return;
    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &v);
    /* libcurl 7.88 leaves X509_V_ERR_UNSPECIFIED after its own host check fails; its message
     * ("no alternative certificate subject name matches target host name") says which. */
    if (v == X509_V_ERR_UNSPECIFIED &&
        (strstr(c->errbuf, "host name") || strstr(c->errbuf, "subject name")))
        v = X509_V_ERR_HOSTNAME_MISMATCH;
    switch (v) {
    case X509_V_OK:
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        vet_buf_printf(b,
                       "TLS: host name verification failed: the server certificate does not "
                       "name %s (its chain to %s was accepted); use an endpoint the certificate "
                       "names, or re-issue it with %s in its SANs",
                       host, cafile, host);
        return;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        vet_buf_printf(b,
                       "TLS: CA verification failed: the server certificate of %s is not signed "
                       "by %s (%s); give etcd's CA with --etcd-cacert (kubeadm: "
                       "/etc/kubernetes/pki/etcd/ca.crt)",
                       host, cafile, X509_verify_cert_error_string(v));
        return;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        vet_buf_printf(b, "TLS: CA verification failed: the server certificate of %s %s", host,
                       v == X509_V_ERR_CERT_HAS_EXPIRED
                           ? "has expired (renew it: kubeadm certs renew etcd-server)"
                           : "is not valid yet (check this machine's clock)");
        return;
    default:
        vet_buf_printf(b, "TLS: CA verification failed against %s: %s", cafile,
                       X509_verify_cert_error_string(v));
    }
}

int etcd_transport_error(vet_etcd *c, CURL *h, CURLcode cc, const char *url, const char *suffix)
{
    vet_buf b = VET_BUF_INIT;
    char *detail = c->errbuf[0] ? vet_text_escape(c->errbuf, 0) : NULL;
    int rc;
    tls_cause(&b, c, h, cc, url);
    rc = vet_error_set(VET_ENET, "etcd endpoint %s: %s%s%s%s%s", url,
                       b.ptr ? b.ptr : curl_easy_strerror(cc),
                       !b.ptr && detail  ? " ("
                       : b.ptr && detail ? " ["
                                         : "",
                       detail ? detail : "",
                       !b.ptr && detail  ? ")"
                       : b.ptr && detail ? "]"
                                         : "",
                       suffix ? suffix : "");
    free(detail);
    vet_buf_free(&b);
    return rc;
}

int etcd_request(vet_etcd *c, const char *base, const char *path, const char *body, long timeout_ms,
                 json_t **out, int *grpc_code)
{
    vet_buf resp = VET_BUF_INIT;
    struct curl_slist *hdr = NULL;
    char *url = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    CURLcode cc;
    long status = 0;
    int rc = 0;

    if (out)
        *out = NULL;
    if (grpc_code)
        *grpc_code = 0;
    {
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/')
            bl--;
        url = vet_strdupf("%.*s%s", (int)bl, base, path);
    }
    if (!url) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    curl_easy_reset(c->curl);
    if ((rc = etcd_curl_setup(c, c->curl, timeout_ms ? timeout_ms : c->timeout_ms)))
        goto done;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_buf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &resp);
    if (body) {
        hdr = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    }
    cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        rc = etcd_transport_error(c, c->curl, cc, url, NULL);
        goto done;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    root = json_loadb(resp.ptr ? resp.ptr : "", resp.size, 0, &jerr);
    if (!root || !json_is_object(root)) {
        /* The body is the server's: cut and escaped, never echoed raw to a terminal. */
        char head[81], *esc;
        size_t hn = resp.size < 80 ? resp.size : 80;
        memcpy(head, resp.ptr ? resp.ptr : "", hn);
        head[hn] = '\0';
        esc = vet_text_escape(head, 0);
        rc = vet_error_set(VET_ENET, "etcd endpoint %s: HTTP %ld, not a JSON object: %s", url,
                           status, esc ? esc : "");
        free(esc);
        goto done;
    }
    {
        /* Unary errors are {"error","message","code"}; stream errors {"error":{...}}. */
        json_t *e = json_object_get(root, "error");
        if (e) {
            json_t *inner = json_is_object(e) ? e : root;
            json_t *code =
                json_object_get(inner, json_object_get(inner, "grpc_code") ? "grpc_code" : "code");
            const char *msg = json_string_value(json_object_get(inner, "message"));
            if (!msg)
                msg = json_string_value(e);
            char *esc = vet_text_escape(msg ? msg : "error", 0);
            if (grpc_code)
                *grpc_code = json_is_integer(code) ? (int)json_integer_value(code) : 2;
            rc = vet_error_set(VET_ENET, "etcd endpoint %s: %.200s (gRPC code %d)", url,
                               esc ? esc : "error",
                               json_is_integer(code) ? (int)json_integer_value(code) : 2);
            free(esc);
            goto done;
        }
    }
    if (out) {
        *out = root;
        root = NULL;
    }
done:
    json_decref(root);
    curl_slist_free_all(hdr);
    vet_buf_free(&resp);
    free(url);
    return rc;
}

static char *in_root(const char *root, const char *rel)
{
    char *p = NULL;
    if (vet_fs_resolve(&p, root ? root : "/", rel))
        return NULL;
    if (!vet_fs_exists(p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* A file the client uses: the host path to open, and the path the node knows it by. */
static int take_file(char **host, char **node, const char *root, const char *flag, const char *rel)
{
    if (flag) {
        if (!(*host = strdup(flag)) || !(*node = strdup(flag)))
            return VET_ENOMEM;
        return 0;
    }
    if ((*host = in_root(root, rel)) && !(*node = vet_strdupf("/%s", rel)))
        return VET_ENOMEM;
    return 0;
}

/* kubeadm's clients of etcd: healthcheck-client (kubeadm >= 1.13 creates it for the liveness
 * probe) or apiserver-etcd-client, both signed by etcd/ca. */
static int discover_tls(vet_etcd *c, const vet_etcd_opts *o)
{
    static const char *const pairs[][2] = {
        {"etc/kubernetes/pki/etcd/healthcheck-client.crt",
         "etc/kubernetes/pki/etcd/healthcheck-client.key"},
        {"etc/kubernetes/pki/apiserver-etcd-client.crt",
         "etc/kubernetes/pki/apiserver-etcd-client.key"},
    };
    if (take_file(&c->cacert, &c->cacert_node, o->root, o->cacert,
                  "etc/kubernetes/pki/etcd/ca.crt"))
        return VET_ENOMEM;
    if ((o->cert && (!(c->cert = strdup(o->cert)) || !(c->cert_node = strdup(o->cert)))) ||
        (o->key && (!(c->key = strdup(o->key)) || !(c->key_node = strdup(o->key)))))
        return VET_ENOMEM;
    for (size_t i = 0; !c->cert && !c->key && i < sizeof pairs / sizeof pairs[0]; i++) {
        char *crt = in_root(o->root, pairs[i][0]), *key = in_root(o->root, pairs[i][1]);
        if (crt && key) {
            c->cert = crt;
            c->key = key;
            if (!(c->cert_node = vet_strdupf("/%s", pairs[i][0])) ||
                !(c->key_node = vet_strdupf("/%s", pairs[i][1])))
                return VET_ENOMEM;
        } else {
            free(crt);
            free(key);
        }
    }
    return 0;
}

int vet_etcd_connect(vet_etcd **out, const vet_etcd_opts *o)
{
    vet_etcd *c = NULL;
    vet_buf why = VET_BUF_INIT;
    int rc = 0, prc;

    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    if (!(c = calloc(1, sizeof *c)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
    if (!(c->curl = curl_easy_init())) {
        rc = vet_curl()->loaded
                 ? vet_error_set(VET_ENOMEM, "curl_easy_init failed")
                 : vet_error_set(VET_ENET,
                                 "cannot load libcurl.so.4 (Debian: apt-get install libcurl4)");
        goto done;
    }
    prc = vet_etcd_pod_load(&c->pod, o->root ? o->root : "/");
    if (prc && prc != VET_ENOTFOUND && !o->endpoints) {
        rc = prc;
        goto done;
    }
    if (o->endpoints) {
        if ((rc = etcd_split_csv(&c->endpoints, o->endpoints)))
            goto done;
        for (size_t i = 0; i < c->endpoints.n; i++)
            if ((rc = vet_url_check_http(c->endpoints.v[i], "--etcd-endpoints")))
                goto done;
    } else if (c->pod) {
        /* vet_etcd_pod_parse has checked these URLs' schemes. */
        for (size_t i = 0; i < c->pod->advertise_client_urls.n; i++)
            if ((rc = vet_strv_push(&c->endpoints, c->pod->advertise_client_urls.v[i])))
                goto done;
    }
    if (!c->endpoints.n) {
        rc = vet_error_set(VET_EUSAGE,
                           "no etcd endpoint: give --etcd-endpoints, or a --root with "
                           "etc/kubernetes/manifests/etcd.yaml (--advertise-client-urls)");
        goto done;
    }
    if ((rc = discover_tls(c, o)))
        goto done;
    for (size_t i = 0; i < c->endpoints.n; i++) {
        json_t *v = NULL;
        if (!etcd_request(c, c->endpoints.v[i], "/version", NULL, 0, &v, NULL)) {
            json_decref(v);
            c->endpoint = strdup(c->endpoints.v[i]);
            break;
        }
        vet_buf_printf(&why, "%s%s", why.size ? "; " : "", vet_error_last());
    }
    if (!c->endpoint) {
        rc = vet_error_set(VET_ENET, "%s", why.ptr ? why.ptr : "no etcd endpoint answered");
        goto done;
    }
    *out = c;
    c = NULL;
done:
    vet_buf_free(&why);
    vet_etcd_free(c);
    return rc;
}

void vet_etcd_free(vet_etcd *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    vet_strv_free(&c->endpoints);
    free(c->endpoint);
    free(c->cacert);
    free(c->cert);
    free(c->key);
    free(c->cacert_node);
    free(c->cert_node);
    free(c->key_node);
    vet_etcd_pod_free(c->pod);
    free(c);
}

const char *vet_etcd_endpoint(const vet_etcd *c)
{
    return c ? c->endpoint : NULL;
}

const vet_etcd_pod *vet_etcd_pod_of(const vet_etcd *c)
{
    return c ? c->pod : NULL;
}

int vet_etcd_member_add(uint64_t *id_out, char **ic_out, vet_etcd *c, const char *name,
                        const char *peer_url, int is_learner)
{
    json_t *req = NULL, *resp = NULL;
    char *body = NULL;
    vet_etcd_facts f;
    vet_buf ic = VET_BUF_INIT;
    uint64_t id = 0;
    int rc;

    memset(&f, 0, sizeof f);
    *id_out = 0;
    *ic_out = NULL;
    req = json_pack("{s:[s],s:b}", "peerURLs", peer_url, "isLearner", is_learner);
    if (!req || !(body = json_dumps(req, JSON_COMPACT))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = etcd_request(c, c->endpoint, "/v3/cluster/member/add", body, 0, &resp, NULL)))
        goto done;
    if ((rc = etcd_json_u64(&id, json_object_get(resp, "member"), "ID")))
        goto done;
    if ((rc = etcd_parse_members_json(&f, resp)))
        goto done;
    /* What etcdctl 3.4 `member add` prints as ETCD_INITIAL_CLUSTER: every member's peer URLs,
     * named, the new one by the given name (an unstarted member appears with an empty name). */
    for (size_t i = 0; i < f.nmembers; i++) {
        const vet_etcd_member *m = &f.members[i];
        const char *n = m->id == id ? name : m->name;
        for (size_t j = 0; j < m->peer_urls.n; j++)
            vet_buf_printf(&ic, "%s%s=%s", ic.size ? "," : "", n, m->peer_urls.v[j]);
    }
    *id_out = id;
    *ic_out = vet_buf_detach(&ic);
done:
    for (size_t i = 0; i < f.nmembers; i++)
        etcd_member_clear(&f.members[i]);
    free(f.members);
    vet_buf_free(&ic);
    json_decref(req);
    json_decref(resp);
    free(body);
    return rc;
}

int vet_etcd_member_remove(vet_etcd *c, uint64_t id)
{
    char body[64];
    json_t *resp = NULL;
    int rc;
    snprintf(body, sizeof body, "{\"ID\":\"%llu\"}", (unsigned long long)id);
    rc = etcd_request(c, c->endpoint, "/v3/cluster/member/remove", body, 0, &resp, NULL);
    json_decref(resp);
    return rc;
}
