/* libcurl loaded on first use (curl_dl.c), shared by every module that speaks HTTP (etcd, k8s).
 * Include this instead of <curl/curl.h>: the curl_* names below resolve to the loaded symbols. */
#ifndef KV_COMMON_CURL_DL_H
#define KV_COMMON_CURL_DL_H

/* Types and constants only: the functions come from vet_curl() (curl_dl.c), loaded on first use. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef struct {
    int loaded;
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    CURLcode (*easy_perform)(CURL *h);
    void (*easy_reset)(CURL *h);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    curl_version_info_data *(*version_info)(CURLversion v);
} vet_curl_api;

/* The libcurl entry points (never NULL; when libcurl.so.4 is missing, easy_init returns NULL). */
const vet_curl_api *vet_curl(void);

/* Limit h to http and https, for requests and redirects (CURLOPT_PROTOCOLS_STR and
 * CURLOPT_REDIR_PROTOCOLS_STR, or the bitmask options of libcurl < 7.85). Call it on every handle
 * after curl_easy_reset: a file:// or gopher:// URL must never be followed. CURLE_OK, or the
 * error of the option that could not be set (then do not perform the request). */
CURLcode vet_curl_restrict_protocols(CURL *h);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*vet_curl()->global_init)
#define curl_easy_init (*vet_curl()->easy_init)
#define curl_easy_setopt (*vet_curl()->easy_setopt)
#define curl_easy_getinfo (*vet_curl()->easy_getinfo)
#define curl_easy_perform (*vet_curl()->easy_perform)
#define curl_easy_reset (*vet_curl()->easy_reset)
#define curl_easy_cleanup (*vet_curl()->easy_cleanup)
#define curl_easy_strerror (*vet_curl()->easy_strerror)
#define curl_slist_append (*vet_curl()->slist_append)
#define curl_slist_free_all (*vet_curl()->slist_free_all)
#define curl_version_info (*vet_curl()->version_info)

#endif
