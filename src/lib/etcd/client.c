/* The etcd client: endpoint and TLS discovery, and JSON requests to the v3 HTTP gateway. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd_int.h"
#include "fs.h"

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

void etcd_curl_setup(vet_etcd *c, CURL *h, long timeout_ms)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 3000 ? c->timeout_ms : 3000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->cert)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
    if (c->key)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
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
    etcd_curl_setup(c, c->curl, timeout_ms ? timeout_ms : c->timeout_ms);
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
        rc = vet_error_set(VET_ENET, "etcd endpoint %s: %s", url, curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    root = json_loadb(resp.ptr ? resp.ptr : "", resp.size, 0, &jerr);
    if (!root || !json_is_object(root)) {
        rc = vet_error_set(VET_ENET, "etcd endpoint %s: HTTP %ld, not a JSON object: %.80s", url,
                           status, resp.ptr ? resp.ptr : "");
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
            if (grpc_code)
                *grpc_code = json_is_integer(code) ? (int)json_integer_value(code) : 2;
            rc = vet_error_set(VET_ENET, "etcd endpoint %s: %s (gRPC code %d)", url,
                               msg ? msg : "error",
                               json_is_integer(code) ? (int)json_integer_value(code) : 2);
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
    if (o->cacert && !(c->cacert = strdup(o->cacert)))
        return VET_ENOMEM;
    if (o->cert && !(c->cert = strdup(o->cert)))
        return VET_ENOMEM;
    if (o->key && !(c->key = strdup(o->key)))
        return VET_ENOMEM;
    if (!c->cacert)
        c->cacert = in_root(o->root, "etc/kubernetes/pki/etcd/ca.crt");
    for (size_t i = 0; !c->cert && !c->key && i < sizeof pairs / sizeof pairs[0]; i++) {
        char *crt = in_root(o->root, pairs[i][0]), *key = in_root(o->root, pairs[i][1]);
        if (crt && key) {
            c->cert = crt;
            c->key = key;
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
    } else if (c->pod) {
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
