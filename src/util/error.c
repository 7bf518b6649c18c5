#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last[1024];

int vet_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last, sizeof last, fmt, ap);
    va_end(ap);
    /* One line, always: an operator greps logs for it. */
    for (char *p = last; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

void vet_error_prefix(const char *prefix)
{
    char tmp[sizeof last];
    size_t pl;
    if (!prefix || !*prefix)
        return;
    pl = strlen(prefix);
    if (pl > sizeof tmp - 3)
        pl = sizeof tmp - 3;
    memcpy(tmp, prefix, pl);
    memcpy(tmp + pl, ": ", 2);
    /* Truncation is fine: the message stays one readable line. */
    size_t rest = strnlen(last, sizeof last - 1);
    if (rest > sizeof tmp - pl - 3)
        rest = sizeof tmp - pl - 3;
    memcpy(tmp + pl + 2, last, rest);
    tmp[pl + 2 + rest] = '\0';
    memcpy(last, tmp, sizeof last);
}

const char *vet_error_last(void)
{
    return last;
}

void vet_error_clear(void)
{
    last[0] = '\0';
}

int vet_error_exit_code(int code)
{
    if (code == 0)
        return 0;
    return code == VET_EUSAGE ? 2 : 3;
}
