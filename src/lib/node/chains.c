/* Chain facts: which CA each certificate must verify against, and OpenSSL's verdict.
 * Computed once, on all cores, because 10,000-certificate folders are a real input. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "node_int.h"
#include "parallel.h"

typedef struct {
    vet_cert_entry **e; /* every entry in scope */
    size_t n;
    vet_cert_entry **ca; /* the CA entries among them (few) */
    size_t nca;
    long *which;       /* per entry: index into ca[], or -1 */
    vet_trust **trust; /* per CA */
} job;

static void verify_one(size_t i, void *arg)
{
    job *j = arg;
    vet_cert_entry *e = j->e[i];
    long c = j->which[i];
    if (c < 0 || !j->trust[c])
        return;
    e->chain_ok =
        vet_trust_verify(j->trust[c], e->cert, NULL, 0, e->chain_why, sizeof e->chain_why);
    e->chain_same_name = !e->chain_ok && vet_cert_issued_by_name(e->cert, e->chain_ca->cert);
}

static int verify(vet_node *n, vet_certset *files, vet_cert_entry *const *only, size_t nonly)
{
    job j;
    size_t nn = n ? n->certs.n : 0, nf = files ? files->n : 0, total = nn + nf + nonly + 1;
    size_t first = 0;
    int rc = 0;
    memset(&j, 0, sizeof j);
    j.e = calloc(total, sizeof *j.e);
    j.ca = calloc(total, sizeof *j.ca);
    j.which = calloc(total, sizeof *j.which);
    if (!j.e || !j.ca || !j.which) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn; i++)
        j.e[j.n++] = &n->certs.v[i];
    for (size_t i = 0; i < nf; i++)
        j.e[j.n++] = &files->v[i];
    for (size_t i = 0; i < j.n; i++)
        if (vet_cert_is_ca(j.e[i]->cert))
            j.ca[j.nca++] = j.e[i];
    /* Only some entries (their certificates were just replaced): the CAs stay every CA in
     * scope; the entries judged are those, listed after the others. */
    if (only) {
        first = j.n;
        for (size_t i = 0; i < nonly; i++)
            j.e[j.n++] = only[i];
    }
    if (!(j.trust = calloc(j.nca + 1, sizeof *j.trust))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }

    for (size_t i = first; i < j.n; i++) {
        vet_cert_entry *e = j.e[i];
        const vet_cert_entry *want = e->ca_role && n ? vet_node_role(n, e->ca_role) : NULL;
        int root =
            vet_cert_is_ca(e->cert) && !strcmp(vet_cert_subject(e->cert), vet_cert_issuer(e->cert));
        j.which[i] = -1;
        if (e->facts_only) {
            /* judged while loading (vet_node_chains_piece); only the pointer was unstable */
            e->chain_ca = e->facts_ca ? j.e[e->facts_ca - 1] : NULL;
            continue;
        }
        e->chain_ok = -1;
        e->chain_ca = NULL;
        for (size_t c = 0; c < j.nca; c++) {
            if (j.ca[c] == e)
                continue;
            /* The layout names the CA; otherwise a CA in scope whose subject is the issuer. */
            if (want ? j.ca[c] == want
                     : (!root && vet_cert_issued_by_name(e->cert, j.ca[c]->cert))) {
                j.which[i] = (long)c;
                e->chain_ca = j.ca[c];
                break;
            }
        }
        if (j.which[i] >= 0 && !j.trust[j.which[i]]) {
            vet_cert *anchor = j.ca[j.which[i]]->cert;
            if ((rc = vet_trust_new(&j.trust[j.which[i]], &anchor, 1)))
                goto done;
        }
    }
    if (only) {
        /* A handful of entries: one thread (starting others costs more than they save). */
        for (size_t i = first; i < j.n; i++)
            verify_one(i, &j);
    } else {
        vet_parallel_for(j.n, 0, verify_one, &j);
    }
done:
    for (size_t c = 0; j.trust && c < j.nca; c++)
        vet_trust_free(j.trust[c]);
    free(j.trust);
    free(j.which);
    free(j.ca);
    free(j.e);
    return rc;
}

/* A piece of vet_certset_load_facts. Only certificates that are not CAs are judged here (CAs
 * stay whole: few, and the anchors of the rest), against the first CA in the order
 * vet_node_verify_chains uses (the node's entries, then the set's): the CAs met so far are a
 * prefix of that order, so a match among them is the match the whole set would give. */
typedef struct {
    vet_cert_entry **e; /* the piece's leaves that found a CA */
    const vet_cert_entry **ca;
    const vet_trust **trust;
} piece;

static void verify_piece_one(size_t i, void *arg)
{
    piece *p = arg;
    vet_cert_entry *e = p->e[i];
    e->chain_ok =
        vet_trust_verify(p->trust[i], e->cert, NULL, 0, e->chain_why, sizeof e->chain_why);
    e->chain_same_name = !e->chain_ok && vet_cert_issued_by_name(e->cert, p->ca[i]->cert);
}

int vet_node_chains_piece(const vet_node *scope, vet_certset *set, size_t from)
{
    size_t nn = scope ? scope->certs.n : 0, nca = 0, nleaf = 0;
    size_t *cas = NULL; /* positions (node entries, then set entries) of the CAs */
    vet_trust **trust = NULL;
    piece p;
    int rc = 0;
    memset(&p, 0, sizeof p);
    cas = calloc(nn + set->n + 1, sizeof *cas);
    trust = calloc(nn + set->n + 1, sizeof *trust);
    p.e = calloc(set->n - from + 1, sizeof *p.e);
    p.ca = calloc(set->n - from + 1, sizeof *p.ca);
    p.trust = calloc(set->n - from + 1, sizeof *p.trust);
    if (!cas || !trust || !p.e || !p.ca || !p.trust) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn + set->n; i++) {
        const vet_cert_entry *c = i < nn ? &scope->certs.v[i] : &set->v[i - nn];
        if (vet_cert_is_ca(c->cert))
            cas[nca++] = i;
    }
    for (size_t i = from; i < set->n; i++) {
        vet_cert_entry *e = &set->v[i];
        if (vet_cert_is_ca(e->cert) || e->facts_only)
            continue;
        for (size_t k = 0; k < nca; k++) {
            size_t at = cas[k];
            const vet_cert_entry *ca = at < nn ? &scope->certs.v[at] : &set->v[at - nn];
            if (!vet_cert_issued_by_name(e->cert, ca->cert))
                continue;
            if (!trust[k]) {
                vet_cert *anchor = ca->cert;
                if ((rc = vet_trust_new(&trust[k], &anchor, 1)))
                    goto done;
            }
            e->facts_ca = at + 1;
            p.e[nleaf] = e;
            p.ca[nleaf] = ca;
            p.trust[nleaf++] = trust[k];
            break;
        }
    }
    vet_parallel_for(nleaf, 0, verify_piece_one, &p);
    for (size_t i = 0; i < nleaf; i++) {
        p.e[i]->facts_only = 1;
        vet_cert_shed(p.e[i]->cert);
    }
done:
    for (size_t k = 0; trust && k < nca; k++)
        vet_trust_free(trust[k]);
    free(trust);
    free(cas);
    free(p.e);
    free(p.ca);
    free(p.trust);
    return rc;
}

int vet_node_verify_chains(vet_node *n, vet_certset *files)
{
    return verify(n, files, NULL, 0);
}

int vet_node_verify_entries(vet_node *n, vet_certset *files, vet_cert_entry *const *only,
                            size_t nonly)
{
    return nonly ? verify(n, files, only, nonly) : 0;
}
