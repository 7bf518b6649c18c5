/* Kubernetes version strings. kubectl and kubeadm print "v1.25.3"; release notes say "1.25";
 * pre-releases are "v1.25.0-rc.1" / "v1.26.0-alpha.0"; distributions add build metadata
 * ("v1.25.3+k3s1"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kubevet/catalog.h"

static int num(const char **p, int *out)
{
    long v = 0;
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return -1;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (*s - '0');
        if (v > 100000)
            return -1;
        s++;
    }
    *out = (int)v;
    *p = s;
    return 0;
}

int vet_version_parse(vet_version *out, const char *s)
{
    const char *p = s;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return vet_error_set(VET_EINPUT, "empty version");
    if (*p == 'v' || *p == 'V')
        p++;
    if (num(&p, &out->major) || *p != '.')
        goto bad;
    p++;
    if (num(&p, &out->minor))
        goto bad;
    if (*p == '.') {
        p++;
        if (num(&p, &out->patch))
            goto bad;
    }
    if (*p == '-') {
        p++;
        while (*p && *p != '+') {
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
                goto bad;
            if (n + 1 >= sizeof out->pre)
                goto bad;
            out->pre[n++] = *p++;
        }
        out->pre[n] = '\0';
        if (!n)
            goto bad;
    }
    if (*p == '+') {
        p++;
        if (!*p)
            goto bad;
        for (; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
                goto bad;
    }
    if (*p)
        goto bad;
    return 0;
bad:
    memset(out, 0, sizeof *out);
    return vet_error_set(VET_EINPUT, "invalid Kubernetes version \"%s\" (want e.g. 1.25, v1.25.3)",
                         s);
}

static int all_digits(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* semver 2.0 section 11: dot-separated identifiers, numeric ones compare numerically and sort
 * before alphanumeric ones; a longer list wins when all shared identifiers are equal. */
static int cmp_pre(const char *a, const char *b)
{
    if (!*a || !*b)
        return !*a && !*b ? 0 : (!*a ? 1 : -1);
    while (*a && *b) {
        size_t la = strcspn(a, "."), lb = strcspn(b, ".");
        int na = all_digits(a, la), nb = all_digits(b, lb);
        int c;
        if (na && nb) {
            while (la > 1 && *a == '0')
                a++, la--;
            while (lb > 1 && *b == '0')
                b++, lb--;
            c = la != lb ? (la < lb ? -1 : 1) : memcmp(a, b, la);
        } else if (na != nb) {
            c = na ? -1 : 1;
        } else {
            c = memcmp(a, b, la < lb ? la : lb);
            if (!c && la != lb)
                c = la < lb ? -1 : 1;
        }
        if (c)
            return c < 0 ? -1 : 1;
        a += la;
        b += lb;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return !*a && !*b ? 0 : (!*a ? -1 : 1);
}

int vet_version_cmp_minor(const vet_version *a, const vet_version *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    return 0;
}

int vet_version_cmp(const vet_version *a, const vet_version *b)
{
    int c = vet_version_cmp_minor(a, b);
    if (c)
        return c;
    if (a->patch != b->patch)
        return a->patch < b->patch ? -1 : 1;
    return cmp_pre(a->pre, b->pre);
}

char *vet_version_minor_str(char *buf, size_t size, const vet_version *v)
{
    snprintf(buf, size, "%d.%d", v->major, v->minor);
    return buf;
}

vet_api_status vet_api_status_at(const vet_api *a, const vet_version *target)
{
    if (a->has_rem && vet_version_cmp_minor(target, &a->rem) >= 0)
        return VET_API_REMOVED;
    if (a->has_dep && vet_version_cmp_minor(target, &a->dep) >= 0)
        return VET_API_DEPRECATED;
    return VET_API_SERVED;
}
