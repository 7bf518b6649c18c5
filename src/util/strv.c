#include "strv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

int vet_strv_take(vet_strv *sv, char *s)
{
    if (!s)
        return vet_error_set(VET_ENOMEM, "out of memory");
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    return 0;
}

int vet_strv_pushn(vet_strv *sv, const char *s, size_t len)
{
    char *c;
    if (len == (size_t)-1)
        len = strlen(s);
    c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return vet_strv_take(sv, c);
}

int vet_strv_push(vet_strv *sv, const char *s)
{
    return vet_strv_pushn(sv, s, (size_t)-1);
}

long vet_strv_find(const vet_strv *sv, const char *s, int nocase)
{
    for (size_t i = 0; i < sv->n; i++)
        if (nocase ? !strcasecmp(sv->v[i], s) : !strcmp(sv->v[i], s))
            return (long)i;
    return -1;
}

void vet_strv_free(vet_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}
