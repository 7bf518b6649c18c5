/* The in-place JSON reader (src/util/jspan): any input is walked or rejected, never read past
 * its end. Every member of every object is visited (depth bounded by the walk, not the stack),
 * every string unescaped, and a value jspan accepts must end inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jspan.h"

static void walk(const char *p, size_t vs, size_t ve, int depth)
{
    size_t it = 0, ks, ke, s, e;
    int r;
    if (ve > vs && p[vs] == '"') {
        char *str = vet_jspan_string(p, vs, ve, NULL);
        free(str);
        return;
    }
    if (ve <= vs || p[vs] != '{' || depth > 64)
        return;
    while ((r = vet_jspan_member(p, vs, ve, &it, &ks, &ke, &s, &e)) == 1) {
        if (ke > ve || e > ve || ks >= ke || s >= e)
            abort();
        (void)vet_jspan_key_is(p, ks, ke, "data");
        walk(p, s, e, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t i, end, bad = 0;
    if (size > (1u << 20))
        return 0;
    i = vet_jspan_ws(p, 0, size);
    if (i > size)
        abort();
    if (i == size)
        return 0;
    end = vet_jspan_skip(p, i, size, &bad);
    if (end > size || (!end && bad > size))
        abort();
    if (end)
        walk(p, i, end, 0);
    return 0;
}
