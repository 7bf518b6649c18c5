/* URLs that kubevet will open: only http:// and https://. libcurl speaks many more protocols
 * (file://, ftp://, gopher://, ...): a URL taken from a flag, a manifest or a server's answer
 * must not make kubevet read a local file or talk another protocol, so every such URL is checked
 * here before it is stored or used, and the curl handles are restricted as well
 * (vet_curl_restrict_protocols in src/lib/common/curl_dl.h). */
#ifndef VET_UTIL_URL_H
#define VET_UTIL_URL_H

#include <stddef.h>

#define VET_URL_MAX 2048 /* longer URLs are refused */

/* 0 when url is an http:// or https:// URL (scheme case-insensitive) with a non-empty host, no
 * user info, and no whitespace or control characters. Otherwise VET_EINPUT with a one-line
 * message "<what>: <url, escaped and cut at 80 bytes>: <why>"; what names where the URL came from
 * ("--etcd-endpoints", "etc/kubernetes/manifests/etcd.yaml:12", ...). */
int vet_url_check_http(const char *url, const char *what);

/* 1 when url starts with "https://" (any case), else 0. */
int vet_url_is_https(const char *url);

#endif
