#include "url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "text.h"

static int refuse(const char *url, const char *what, const char *why)
{
    char cut[81];
    char *esc;
    int rc;
    size_t n = strlen(url);
    memcpy(cut, url, n < 80 ? n : 80);
    cut[n < 80 ? n : 80] = '\0';
    esc = vet_text_escape(cut, 0);
    rc = vet_error_set(VET_EINPUT, "%s: \"%s%s\": %s", what ? what : "URL", esc ? esc : "?",
                       n > 80 ? "..." : "", why);
    free(esc);
    return rc;
}

int vet_url_is_https(const char *url)
{
    return url && !strncasecmp(url, "https://", 8);
}

int vet_url_check_http(const char *url, const char *what)
{
    size_t skip, n;
    const char *host, *end;

    if (!url || !*url)
        return vet_error_set(VET_EINPUT, "%s: empty URL", what ? what : "URL");
    n = strlen(url);
    if (n > VET_URL_MAX)
        return refuse(url, what, "URL too long");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f)
            return refuse(url, what, "whitespace or control character in URL");
    }
    if (!strncasecmp(url, "http://", 7))
        skip = 7;
    else if (!strncasecmp(url, "https://", 8))
        skip = 8;
    else
        return refuse(url, what, "only http:// and https:// URLs are accepted");
    host = url + skip;
    end = host + strcspn(host, "/?#");
    if (end == host)
        return refuse(url, what, "no host in URL");
    if (memchr(host, '@', (size_t)(end - host)))
        return refuse(url, what, "user info in URL is not accepted");
    return 0;
}
