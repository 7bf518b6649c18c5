/* Requests to the API server over libcurl: TLS and credentials from the resolved configuration,
 * bounded retries for reads, and errors turned into one line naming the server, the object and
 * the cause (which CA was tried, which user was refused). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "k8s_int.h"

#define BODY_CAP (256u << 20) /* one response (a LIST page of 500 is far below) */
#define CONNECT_MS 10000L     /* kubectl dials for 30 s; a diagnosis should not wait that long */
#define STALL_S 30L           /* with no --request-timeout: give up on a server that stops */
#define READ_TRIES 4          /* first try + 3 retries, reads only */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct {
    vet_buf *body;
    long retry_after; /* seconds, -1 when absent */
} sink;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->body->size + n > BODY_CAP || vet_buf_put(s->body, ptr, n))
        return 0;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (n > 12 && !strncasecmp(ptr, "Retry-After:", 12)) {
        char tmp[32];
        size_t k = n - 12 < sizeof tmp - 1 ? n - 12 : sizeof tmp - 1;
        memcpy(tmp, ptr + 12, k);
        tmp[k] = '\0';
        s->retry_after = strtol(tmp, NULL, 10);
    }
    return n;
}

/* host and port of the server URL, for tls-server-name's connect-to mapping. */
static int split_server(vet_k8s *c)
{
    const char *s = strstr(c->cfg->server, "://") + 3, *end = s + strcspn(s, "/?#");
    const char *colon = NULL;
    int https = !strncmp(c->cfg->server, "https", 5);
    if (*s == '[') {
        const char *rb = memchr(s, ']', (size_t)(end - s));
        colon = rb && rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    } else
        colon = memchr(s, ':', (size_t)(end - s));
    c->host = strndup(s, (size_t)((colon ? colon : end) - s));
    c->port = colon ? strndup(colon + 1, (size_t)(end - colon - 1)) : strdup(https ? "443" : "80");
    return c->host && c->port ? 0 : VET_ENOMEM;
}

int vet_k8s_new(vet_k8s **out, vet_k8s_config *cfg, long timeout_ms)
{
    vet_k8s *c = NULL;
    int rc = 0;
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    if (!(c = calloc(1, sizeof *c))) {
        vet_k8s_config_free(cfg);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    c->cfg = cfg;
    c->timeout_ms = timeout_ms;
    if (split_server(c)) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (!(c->curl = curl_easy_init())) {
        rc = vet_curl()->loaded
                 ? vet_error_set(VET_ENOMEM, "curl_easy_init failed")
                 : vet_error_set(VET_ENET,
                                 "cannot load libcurl.so.4 (Debian: apt-get install libcurl4)");
        goto done;
    }
    *out = c;
    c = NULL;
done:
    vet_k8s_free(c);
    return rc;
}

int vet_k8s_connect(vet_k8s **out, const vet_k8s_opts *o)
{
    vet_k8s_config *cfg = NULL;
    int rc;
    *out = NULL;
    if ((rc = vet_k8s_config_load(&cfg, o)))
        return rc;
    return vet_k8s_new(out, cfg, o ? o->timeout_ms : 0);
}

void vet_k8s_free(vet_k8s *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    k8s_cred_clear(&c->cred);
    vet_k8s_config_free(c->cfg);
    free(c->host);
    free(c->port);
    free(c);
}

const vet_k8s_config *vet_k8s_cfg(const vet_k8s *c)
{
    return c->cfg;
}

static int64_t wall_now(void)
{
    return (int64_t)time(NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts))
        ;
}

/* The bearer token for this request: static, re-read from tokenFile (client-go re-reads it so a
 * rotated service account token keeps working), or the exec plugin's cached credential. */
static int credentials(vet_k8s *c, char **token)
{
    const vet_k8s_config *cfg = c->cfg;
    int rc;
    *token = NULL;
    /* client-go sets the user's credentials only for TLS connections: a plain http:// server
     * gets none (kubectl issue 744), so a token never crosses the network in the clear. */
    if (!strncmp(cfg->server, "http://", 7))
        return 0;
    if (cfg->token)
        return (*token = strdup(cfg->token)) ? 0 : VET_ENOMEM;
    if (cfg->token_file) {
        vet_buf b = VET_BUF_INIT;
        size_t n;
        if ((rc = vet_fs_read(&b, cfg->token_file, 1u << 20))) {
            vet_error_prefix(cfg->source);
            return rc;
        }
        n = b.ptr ? strcspn(b.ptr, "\r\n") : 0;
        *token = strndup(b.ptr ? b.ptr : "", n);
        k8s_wipe(b.ptr, b.size);
        vet_buf_free(&b);
        return *token ? 0 : VET_ENOMEM;
    }
    if (cfg->exec) {
        if (!c->cred.valid || (c->cred.expiry && c->cred.expiry <= wall_now()))
            if ((rc = k8s_exec_run(&c->cred, cfg, c->timeout_ms)))
                return rc;
        if (c->cred.token)
            return (*token = strdup(c->cred.token)) ? 0 : VET_ENOMEM;
    }
    return 0;
}

static void set_blob(CURL *h, CURLoption opt, const vet_blob *b)
{
    struct curl_blob blob = {b->data, b->len, CURL_BLOB_COPY};
    curl_easy_setopt(h, opt, &blob);
}

static void setup_tls(vet_k8s *c, CURL *h)
{
    const vet_k8s_config *cfg = c->cfg;
    const vet_blob *cert = &cfg->cert, *key = &cfg->key;
    if (cfg->insecure) {
        /* Only because the kubeconfig says so (insecure-skip-tls-verify: true). */
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (cfg->ca.data) {
        set_blob(h, CURLOPT_CAINFO_BLOB, &cfg->ca);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    } else if (cfg->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    if (c->cred.valid && c->cred.cert.data) {
        cert = &c->cred.cert;
        key = &c->cred.key;
    }
    if (cert->data)
        set_blob(h, CURLOPT_SSLCERT_BLOB, cert);
    else if (cfg->cert_file)
        curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
    if (key->data)
        set_blob(h, CURLOPT_SSLKEY_BLOB, key);
    else if (cfg->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
}

/* One line for a failed transfer. */
static int transport_error(vet_k8s *c, CURLcode cc, const char *method, const char *what)
{
    const vet_k8s_config *cfg = c->cfg;
    const char *eb = *c->errbuf ? c->errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_SSL_CACERT_BADFILE:
        return vet_error_set(VET_ENET, "%s: cannot use the CA %s: %s", cfg->server,
                             cfg->ca_desc ? cfg->ca_desc : "?", eb);
    case CURLE_PEER_FAILED_VERIFICATION:
        if (strstr(eb, "host name") || strstr(eb, "subject name"))
            return vet_error_set(VET_ENET,
                                 "%s: x509: the server's certificate is not valid for host name "
                                 "\"%s\" (its CA, %s, was accepted): %s",
                                 cfg->server, cfg->tls_server_name ? cfg->tls_server_name : c->host,
                                 cfg->ca_desc ? cfg->ca_desc : "?", eb);
        return vet_error_set(VET_ENET,
                             "%s: x509: certificate signed by unknown authority: the CA tried was "
                             "%s: %s",
                             cfg->server, cfg->ca_desc ? cfg->ca_desc : "?", eb);
    case CURLE_SSL_CERTPROBLEM:
        return vet_error_set(VET_ENET, "%s: client certificate of user \"%s\" (%s) unusable: %s",
                             cfg->server, cfg->user, cfg->source, eb);
    case CURLE_OPERATION_TIMEDOUT:
        return vet_error_set(VET_ENET, "%s: %s %s: timed out (%s)", cfg->server, method, what, eb);
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
        return vet_error_set(VET_ENET, "%s: %s %s: proxy %s (proxy-url in %s): %s", cfg->server,
                             method, what, cfg->proxy_url ? cfg->proxy_url : "?", cfg->source, eb);
    case CURLE_COULDNT_CONNECT:
        if (cfg->proxy_url && *cfg->proxy_url)
            return vet_error_set(VET_ENET, "%s: %s %s: through proxy %s (proxy-url in %s): %s",
                                 cfg->server, method, what, cfg->proxy_url, cfg->source, eb);
        return vet_error_set(VET_ENET, "%s: %s %s: %s", cfg->server, method, what, eb);
    default:
        return vet_error_set(VET_ENET, "%s: %s %s: %s", cfg->server, method, what, eb);
    }
}

/* One line for an HTTP error status, from the Status body when there is one. */
static int status_error(vet_k8s *c, long status, const vet_buf *body, const char *method,
                        const char *what)
{
    const vet_k8s_config *cfg = c->cfg;
    long code = 0;
    char *reason = NULL;
    char *msg = vet_k8s_status_message(body->ptr ? body->ptr : "", body->size, &code, &reason);
    int rc;
    const char *how = cfg->token || cfg->token_file      ? "bearer token"
                      : cfg->cert.data || cfg->cert_file ? "client certificate"
                      : cfg->exec                        ? "exec plugin credential"
                      : cfg->username                    ? "basic auth"
                                                         : "no credentials";
    if (status == 401 && !strncmp(cfg->server, "http://", 7))
        rc = vet_error_set(VET_ENET,
                           "%s: 401 Unauthorized: no credentials were sent for user \"%s\" (%s): "
                           "like kubectl, kubevet sends them over https only",
                           cfg->server, cfg->user, cfg->source);
    else if (status == 401)
        rc =
            vet_error_set(VET_ENET, "%s: 401 Unauthorized: the server refused user \"%s\" (%s, %s)",
                          cfg->server, cfg->user, how, cfg->source);
    else if (status == 403)
        rc =
            vet_error_set(VET_ENET, "%s: 403 Forbidden: %s %s as user \"%s\" (%s): %s", cfg->server,
                          method, what, cfg->user, cfg->source, msg ? msg : "forbidden");
    else if (status == 404)
        rc = vet_error_set(VET_ENOTFOUND, "%s: %s not found", cfg->server, what);
    else if (status == 409)
        rc = vet_error_set(VET_K8S_ECONFLICT, "%s: %s %s: conflict: %s", cfg->server, method, what,
                           msg ? msg : "the object changed (resourceVersion moved)");
    else
        rc = vet_error_set(VET_ENET, "%s: %s %s: HTTP %ld%s%s", cfg->server, method, what, status,
                           msg ? ": " : "", msg ? msg : "");
    free(msg);
    free(reason);
    return rc;
}

static int retryable(CURLcode cc, long status)
{
    if (cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
        cc == CURLE_PARTIAL_FILE)
        return 1;
    return cc == CURLE_OK &&
           (status == 429 || status == 500 || status == 502 || status == 503 || status == 504);
}

/* Perform method on path?query; on success (2xx) body holds the response. Reads (GET) are
 * retried; writes never are: the server may have applied them. `what` names the object. */
int k8s_request(vet_k8s *c, const char *method, const char *path_query, const char *body,
                const char *ctype, vet_buf *resp, long *out_status, const char *what)
{
    const vet_k8s_config *cfg = c->cfg;
    struct curl_slist *hdr = NULL;
    char *url = NULL, *token = NULL, *auth = NULL, *connect_to = NULL, *hosthdr = NULL;
    struct curl_slist *cto = NULL;
    int read = !strcmp(method, "GET"), rc = 0;
    long status = 0, backoff = 250;
    sink s = {resp, -1};
    CURLcode cc = CURLE_OK;

    int64_t deadline = c->timeout_ms > 0 ? mono_ms() + c->timeout_ms : 0;
    if (!what)
        what = path_query;
    for (int attempt = 0; attempt < (read ? READ_TRIES : 1); attempt++) {
        CURL *h = c->curl;
        vet_buf_clear(resp);
        s.retry_after = -1;
        free(url);
        free(auth);
        k8s_wipe(token, token ? strlen(token) : 0);
        free(token);
        url = auth = token = NULL;
        curl_slist_free_all(hdr);
        curl_slist_free_all(cto);
        hdr = cto = NULL;
        free(connect_to);
        free(hosthdr);
        connect_to = hosthdr = NULL;
        if ((rc = credentials(c, &token)))
            goto done;
        if (cfg->tls_server_name) {
            /* Verify (and send SNI for) tls-server-name while connecting to the server's host. */
            int v6 = strchr(c->host, ':') && c->host[0] != '[';
            url = vet_strdupf("%.*s://%s:%s%s", (int)(strstr(cfg->server, "://") - cfg->server),
                              cfg->server, cfg->tls_server_name, c->port, path_query);
            connect_to = vet_strdupf("%s:%s:%s%s%s:%s", cfg->tls_server_name, c->port,
                                     v6 ? "[" : "", c->host, v6 ? "]" : "", c->port);
            hosthdr = vet_strdupf("Host: %s:%s", c->host, c->port);
            if (!connect_to || !hosthdr || !(cto = curl_slist_append(NULL, connect_to)) ||
                !(hdr = curl_slist_append(hdr, hosthdr))) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        } else
            url = vet_strdupf("%s%s", cfg->server, path_query);
        if (!url || !(hdr = curl_slist_append(hdr, "Accept: application/json"))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        if (token) {
            auth = vet_strdupf("Authorization: Bearer %s", token);
            if (!auth || !(hdr = curl_slist_append(hdr, auth))) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
        if (ctype) {
            char ct[96];
            snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
            if (!(hdr = curl_slist_append(hdr, ct))) {
                rc = vet_error_set(VET_ENOMEM, "out of memory");
                goto done;
            }
        }
        curl_easy_reset(h);
        c->errbuf[0] = '\0';
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "kubevet");
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         c->timeout_ms > 0 && c->timeout_ms < CONNECT_MS ? c->timeout_ms
                                                                         : CONNECT_MS);
        /* --request-timeout bounds the request with its retries, not each try. */
        if (deadline) {
            int64_t left = deadline - mono_ms();
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
        } else {
            curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, STALL_S);
        }
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        if (cto)
            curl_easy_setopt(h, CURLOPT_CONNECT_TO, cto);
        if (cfg->proxy_url)
            curl_easy_setopt(h, CURLOPT_PROXY, cfg->proxy_url);
        if (cfg->username && !token && strncmp(cfg->server, "http://", 7)) {
            curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username);
            curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
        }
        setup_tls(c, h);
        if (!read) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        }
        cc = curl_easy_perform(h);
        status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        /* An exec credential the server refuses may have been revoked early: run it again once. */
        if (cc == CURLE_OK && status == 401 && cfg->exec && c->cred.valid && attempt == 0 && read) {
            k8s_cred_clear(&c->cred);
            continue;
        }
        if (!read || !retryable(cc, status) || attempt + 1 == READ_TRIES)
            break;
        {
            long wait = backoff;
            if (status == 429 && s.retry_after >= 0)
                wait = (s.retry_after > 10 ? 10 : s.retry_after) * 1000L;
            if (deadline && mono_ms() + wait >= deadline)
                break;
            sleep_ms(wait);
            backoff *= 2;
        }
    }
    if (out_status)
        *out_status = status;
    if (cc != CURLE_OK)
        rc = transport_error(c, cc, method, what);
    else if (status < 200 || status > 299)
        rc = status_error(c, status, resp, method, what);
done:
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdr);
    curl_slist_free_all(cto);
    k8s_wipe(token, token ? strlen(token) : 0);
    free(token);
    if (auth)
        k8s_wipe(auth, strlen(auth));
    free(auth);
    free(url);
    free(connect_to);
    free(hosthdr);
    return rc;
}
