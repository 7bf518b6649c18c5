#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kubevet/report.h"
#include "strv.h"
#include "text.h"

struct vet_table {
    size_t ncols;
    vet_strv cells; /* row-major, the header row first */
};

int vet_table_new(vet_table **out, size_t ncols, const char *const *headers)
{
    vet_table *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return vet_error_set(VET_ENOMEM, "out of memory");
    t->ncols = ncols;
    if (vet_table_row(t, headers)) {
        vet_table_free(t);
        return VET_ENOMEM;
    }
    *out = t;
    return 0;
}

int vet_table_row(vet_table *t, const char *const *cells)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (vet_strv_push(&t->cells, cells[i] ? cells[i] : ""))
            return VET_ENOMEM;
    return 0;
}

int vet_table_print(const vet_table *t, FILE *out)
{
    size_t *w = calloc(t->ncols, sizeof *w);
    if (!w)
        return vet_error_set(VET_ENOMEM, "out of memory");
    vet_strv esc = VET_STRV_INIT;
    /* Escape first, so widths are measured on what is printed. */
    for (size_t i = 0; i < t->cells.n; i++) {
        char *e = vet_text_escape(t->cells.v[i], 0);
        if (!e || vet_strv_take(&esc, e)) {
            free(w);
            vet_strv_free(&esc);
            return vet_error_set(VET_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < esc.n; i++) {
        size_t l = strlen(esc.v[i]);
        if (l > w[i % t->ncols])
            w[i % t->ncols] = l;
    }
    for (size_t i = 0; i < esc.n; i++) {
        size_t c = i % t->ncols;
        if (c + 1 == t->ncols)
            fprintf(out, "%s\n", esc.v[i]);
        else
            fprintf(out, "%-*s  ", (int)w[c], esc.v[i]);
    }
    free(w);
    vet_strv_free(&esc);
    return 0;
}

void vet_table_free(vet_table *t)
{
    if (!t)
        return;
    vet_strv_free(&t->cells);
    free(t);
}
