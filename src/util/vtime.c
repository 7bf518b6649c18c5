#include "vtime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t vet_time_from_civil(int y, int mon, int d, int h, int mi, int s)
{
    int64_t yy = y - (mon <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int vet_time_parse(int64_t *out, const char *s)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    const char *p = s;
    int64_t off = 0;
    if (!s || strlen(s) < 10 || digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) ||
        p[7] != '-' || digits(p + 8, 2, &d))
        goto bad;
    p += 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (strlen(p) < 9 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) ||
            p[6] != ':' || digits(p + 7, 2, &se))
            goto bad;
        p += 9;
        if (*p == '.')
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (strlen(p) < 6 || digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
                goto bad;
            off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
            p += 6;
        } else {
            goto bad;
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        goto bad;
    *out = vet_time_from_civil(y, mo, d, h, mi, se) - off;
    return 0;
bad:
    return vet_error_set(VET_EUSAGE, "invalid time '%s' (want RFC 3339 or YYYY-MM-DD)", s ? s : "");
}

int vet_duration_parse(int64_t *out, const char *s)
{
    int64_t total = 0;
    const char *p = s;
    if (!s || !*s)
        goto bad;
    while (*p) {
        char *end;
        long long v;
        if (!isdigit((unsigned char)*p))
            goto bad;
        v = strtoll(p, &end, 10);
        if (v < 0 || v > 1000000000LL)
            goto bad;
        switch (*end) {
        case 'd':
            total += v * 86400;
            end++;
            break;
        case 'h':
            total += v * 3600;
            end++;
            break;
        case 'm':
            total += v * 60;
            end++;
            break;
        case 's':
            total += v;
            end++;
            break;
        case '\0':
            if (p != s)
                goto bad;
            total += v * 86400; /* a bare number means days, as --warn-within 30 reads */
            break;
        default:
            goto bad;
        }
        p = end;
    }
    *out = total;
    return 0;
bad:
    return vet_error_set(VET_EUSAGE, "invalid duration '%s' (want e.g. 30d, 720h)", s ? s : "");
}

static void split(int64_t t, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
}

void vet_time_format(char out[32], int64_t t)
{
    int y, mo, d, h, mi, s;
    split(t, &y, &mo, &d, &h, &mi, &s);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
}

void vet_time_format_compact(char out[32], int64_t t)
{
    int y, mo, d, h, mi, s;
    split(t, &y, &mo, &d, &h, &mi, &s);
    snprintf(out, 32, "%04d%02d%02dT%02d%02d%02dZ", y, mo, d, h, mi, s);
}

int64_t vet_time_days_between(int64_t now, int64_t t)
{
    int64_t diff = t - now, days = diff / 86400;
    /* Whole days, truncated; anything already past shows at least -1, never "0 days left". */
    return diff < 0 && days == 0 ? -1 : days;
}
