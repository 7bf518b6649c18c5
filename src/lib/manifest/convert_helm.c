/* Helm templates that are not YAML until rendered ({{- if }} lines, {{ include }} blocks): the
 * only safe edit is the value of a top-level `apiVersion:` line, found by its text. Field
 * changes that a rule would make are reported for a person instead. */
#include <stdlib.h>
#include <string.h>

#include "convert_int.h"
#include "error.h"

/* Value span of a column-0 "key:" line in [a, b): the text after the colon without quotes,
 * blanks or a trailing comment. 0 when absent. */
static int find_line(cv *c, size_t a, size_t b, const char *key, size_t *vs, size_t *ve,
                     size_t *line)
{
    size_t kl = strlen(key), ln = 0;
    for (size_t ls = a; ls < b;) {
        size_t le = ls;
        while (le < b && c->file[le] != '\n')
            le++;
        if (le - ls > kl && !memcmp(c->file + ls, key, kl) && c->file[ls + kl] == ':') {
            size_t p = ls + kl + 1, e;
            while (p < le && (c->file[p] == ' ' || c->file[p] == '\t'))
                p++;
            if (p < le && (c->file[p] == '"' || c->file[p] == '\'')) {
                unsigned char q = c->file[p++];
                for (e = p; e < le && c->file[e] != q; e++)
                    ;
                if (e >= le)
                    return 0;
            } else {
                for (e = p; e < le && !(c->file[e] == '#' && e > p && c->file[e - 1] == ' '); e++)
                    ;
                while (e > p &&
                       (c->file[e - 1] == ' ' || c->file[e - 1] == '\t' || c->file[e - 1] == '\r'))
                    e--;
            }
            if (e == p)
                return 0;
            *vs = p;
            *ve = e;
            *line = ln;
            return 1;
        }
        ls = le + 1;
        ln++;
    }
    return 0;
}

int cv_template_chunk(cv *c, vet_convert_result *res, editv *all, size_t a, size_t b)
{
    size_t avs, ave, aln, kvs, kve, kln;
    char *api = NULL, *kind = NULL;
    const rule *r;
    const vet_api *row;
    int need, removed, rc = 0;
    vet_convert_doc *d;

    if (!find_line(c, a, b, "apiVersion", &avs, &ave, &aln) ||
        !find_line(c, a, b, "kind", &kvs, &kve, &kln))
        return 0;
    api = strndup((const char *)c->file + avs, ave - avs);
    kind = strndup((const char *)c->file + kvs, kve - kvs);
    if (!api || !kind) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (strstr(api, "{{") || strstr(kind, "{{"))
        goto done;
    r = cv_choose(c, api, kind, &need, &removed, &row);
    if (!need)
        goto done;
    if ((rc = cv_add_doc(res, &d)))
        goto done;
    d->line = c->line0 + aln + 1;
    d->kind = kind;
    d->from = api;
    kind = api = NULL;
    d->id = removed ? "KV401" : "KV402";
    if (!r) {
        rc = cv_no_rule(c, d, row);
        goto done;
    }
    d->to = strdup(r->to);
    if (!d->to || cv_edit_push(all, avs, ave - avs, strdup(r->to), c->seq++)) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (asprintf(&d->changes, "apiVersion %s -> %s (template: line edit only)", d->from, r->to) < 0)
        d->changes = NULL;
    if (r->fix) {
        d->status = VET_CONVERT_PARTIAL;
        if (asprintf(&d->manual, "the document is a template that does not parse as YAML; %s",
                     r->manual) < 0)
            d->manual = NULL;
    } else {
        d->status = VET_CONVERT_DONE;
        d->id = NULL;
    }
done:
    free(api);
    free(kind);
    return rc;
}
