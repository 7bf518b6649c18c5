/* kubevet helm map|restore: rewrite a release's deployed revision to APIs the target serves
 * (as revision N+1, N superseded), and put the saved records back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"
#include "kubevet/manifest.h"
#include "kubevet/plan.h"

int cmd_helm_map(int argc, char **argv, cli_globals *g);
int cmd_helm_restore(int argc, char **argv, cli_globals *g);

static int load_catalog(vet_catalog **out)
{
    return vet_catalog_load_builtin(out);
}

static void put_strv(json_t *o, const char *key, const vet_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < v->n; i++)
        json_array_append_new(a, json_string(v->v[i]));
    json_object_set_new(o, key, a);
}

/* One row of "releases" as prepared: the outcome (status, plan, applied) is filled in as the
 * text would print it. A map with nothing to write has no to_revision. */
static json_t *release_json(const vet_helm_map *m)
{
    json_t *o = json_object(), *sup = json_array();
    json_object_set_new(o, "release", json_string(m->release));
    json_object_set_new(o, "namespace", json_string(m->ns));
    json_object_set_new(o, "storage_namespace", json_string(m->storage_ns));
    json_object_set_new(o, "storage",
                        json_string(m->driver == VET_HELM_SECRET ? "secret" : "configmap"));
    json_object_set_new(o, "helm_version", json_integer(m->helm));
    json_object_set_new(o, "from_revision", json_integer(m->from_rev));
    json_object_set_new(o, "to_revision", json_null());
    json_object_set_new(o, "status", json_string("nothing-to-map"));
    put_strv(o, "changes", &m->changes);
    put_strv(o, "needs_person", &m->manual);
    for (size_t i = 0; sup && i < json_array_size(m->supersede); i++)
        json_array_append_new(sup, json_integer(vet_helm_map_superseded(m, i)));
    json_object_set_new(o, "superseded", sup);
    json_object_set_new(o, "plan", json_null());
    json_object_set_new(o, "applied", json_false());
    return o;
}

/* Map one release. rels NULL: text on stdout as it goes; else one row appended to rels and
 * nothing printed (a release that fails is a row too: status "failed" and the error). */
static int map_one(vet_k8s *k, const vet_helm_map_opts *mo, int apply, const char *backup,
                   int64_t now, int *blocked, json_t *rels)
{
    vet_helm_map *m = NULL;
    vet_plan *p = NULL;
    vet_plan_result res;
    char *bpath = NULL;
    json_t *row = NULL; /* borrowed: rels holds it */
    int rc = vet_helm_map_prepare(&m, k, mo);
    memset(&res, 0, sizeof res);
    if (rc)
        goto done;
    if (rels && json_array_append_new(rels, row = release_json(m))) {
        row = NULL;
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if (!rels)
        printf("release %s (namespace %s, revision %d, helm v%d): ", m->release, m->ns, m->from_rev,
               m->helm);
    if (!m->changed && !m->manual.n) {
        if (!rels)
            printf("nothing to map at target %s\n", mo->target);
        goto done;
    }
    if (!rels) {
        if (m->blocked)
            printf("NOT mapped: a person must decide first; no revision %d\n", m->to_rev);
        else if (!m->changed) /* --force, and nothing but what a person must decide */
            printf("nothing to map at target %s; left as it is (--force):\n", mo->target);
        else
            printf("map to revision %d\n", m->to_rev);
        for (size_t i = 0; i < m->changes.n; i++)
            printf("  change: %s\n", m->changes.v[i]);
        for (size_t i = 0; i < m->manual.n; i++)
            printf("  needs a person: %s\n", m->manual.v[i]);
        if (json_array_size(m->supersede) > 1 && (m->changed || m->blocked))
            printf("  note: %zu revisions are marked deployed; every one becomes superseded, only "
                   "revision %d stays deployed\n",
                   json_array_size(m->supersede), m->to_rev);
    }
    if (m->blocked) {
        if (row)
            json_object_set_new(row, "status", json_string("needs-a-person"));
        else
            printf("  (--force maps the rest and leaves these objects as they are)\n");
        *blocked = 1;
        goto done;
    }
    if (!m->changed)
        goto done; /* --force, and nothing but what a person must decide */
    if (!backup) {
        char stamp[32];
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        bpath = vet_strdupf("kubevet-helm-backup-%s-%s-%s.json", m->storage_ns, m->release, stamp);
        if (!bpath) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
        backup = bpath;
    }
    if ((rc = vet_helm_map_plan(&p, m, backup)))
        goto done;
    if (row) {
        json_object_set_new(row, "to_revision", json_integer(m->to_rev));
        json_object_set_new(row, "status", json_string("would-map"));
        json_object_set_new(row, "plan", vet_plan_to_json(p));
    } else {
        vet_plan_render_text(p, stdout);
    }
    if (!apply) {
        if (!rels)
            printf("dry run: nothing written; run again with --apply\n");
        goto done;
    }
    fflush(stdout);
    if ((rc = vet_helm_map_apply(p, m, k, &res))) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", vet_error_last());
        if (row)
            json_object_set_new(row, "rolled_back", json_boolean(res.rolled_back));
        if (res.rollback_failed) {
            /* the records are as the failure left them: the backup is the way back */
            if (row)
                json_object_set_new(row, "backup", json_string(backup));
            rc = vet_error_set(rc, "%s: run kubevet helm restore %s --apply", keep, backup);
        } else if (res.rolled_back) {
            rc = vet_error_set(rc, "%s: the release is as before", keep);
        }
        goto done;
    }
    if (row) {
        json_object_set_new(row, "status", json_string("mapped"));
        json_object_set_new(row, "applied", json_true());
        json_object_set_new(row, "backup", json_string(backup));
    } else {
        printf("mapped: revision %d is deployed, revision %d superseded; undo with: kubevet helm "
               "restore %s --apply\n",
               m->to_rev, m->from_rev, backup);
    }
done:
    if (rc && rels) {
        /* a release that could not be read has no row yet */
        if (!row) {
            json_t *o = json_object();
            json_object_set_new(o, "release", json_string(mo->release));
            if (mo->ns)
                json_object_set_new(o, "namespace", json_string(mo->ns));
            json_object_set_new(o, "applied", json_false());
            if (!json_array_append_new(rels, o))
                row = o;
        }
        if (row) {
            json_object_set_new(row, "status", json_string("failed"));
            json_object_set_new(row, "error", json_string(vet_error_last()));
        }
    }
    fflush(stdout);
    free(bpath);
    vet_plan_result_clear(&res);
    vet_plan_free(p);
    vet_helm_map_free(m);
    return rc;
}

int cmd_helm_map(int argc, char **argv, cli_globals *g)
{
    vet_strv pos = VET_STRV_INIT;
    int all = 0, apply = 0, force = 0, allns = 0, ret = 0, rc, blocked = 0;
    const char *tiller = NULL, *backup = NULL;
    const cli_opt own[] = {
        {"all", 0, CLI_FLAG, &all, NULL, "every release whose deployed revision needs it"},
        {"all-namespaces", 'A', CLI_FLAG, &allns, NULL, "with --all: releases of every namespace"},
        {"tiller-namespace", 0, CLI_STR, &tiller, "NS", "Tiller's namespace (default kube-system)"},
        {"apply", 0, CLI_FLAG, &apply, NULL, "write (default: dry run)"},
        {"force", 0, CLI_FLAG, &force, NULL,
         "map even when some objects need a person (they stay as they are)"},
        {"backup", 0, CLI_STR, &backup, "FILE",
         "where the original records go (default ./kubevet-helm-backup-NS-RELEASE-TIME.json)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_catalog *c = NULL;
    vet_k8s *k = NULL;
    vet_helm_facts *h = NULL;
    vet_helm_map_opts mo;
    vet_version tv;
    char minor[32];
    const char *t;
    json_t *rels = NULL; /* -o json: the rows of "releases" */

    memset(&mo, 0, sizeof mo);
    if ((rc = cli_parse(argc, argv, own, g, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (g->help) {
        cli_usage(stdout,
                  "  kubevet helm map RELEASE [-n NS] [--tiller-namespace NS] --target VERSION "
                  "[--apply] [--force]\n  kubevet helm map --all [-A | -n NS] --target VERSION "
                  "[--apply]",
                  "Convert the manifest and hooks of the revision Helm acts on with the "
                  "converter of 'apis convert',\nstore them as revision N+1 (deployed, "
                  "\"" VET_HELM_MAP_DESCRIPTION "\")\nand mark N superseded. The original records "
                  "are saved to a local file first; a failure after the\nfirst write deletes "
                  "revision N+1 again. 'kubevet helm restore FILE --apply' puts them back.",
                  own);
        goto done;
    }
    if ((all && pos.n) || (!all && pos.n != 1)) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "helm map: give one RELEASE, or --all"));
        goto done;
    }
    if (all && backup) {
        ret = cli_fail(
            vet_error_set(VET_EUSAGE, "helm map: --backup names one file: not with --all"));
        goto done;
    }
    if ((rc = load_catalog(&c))) {
        ret = cli_fail(rc);
        goto done;
    }
    t = g->target ? g->target : vet_catalog_newest(c);
    if (vet_version_parse(&tv, t) || cli_target_check(g->target, c)) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "--target: invalid Kubernetes version \"%s\"", t));
        goto done;
    }
    vet_version_minor_str(minor, sizeof minor, &tv);
    if ((rc = cli_k8s_connect(&k, g))) {
        ret = cli_fail(rc);
        goto done;
    }
    mo.tiller_ns = tiller;
    mo.target = minor;
    mo.catalog = c;
    mo.force = force;
    if (g->output && !strcmp(g->output, "json") && !(rels = json_array())) {
        ret = cli_fail(vet_error_set(VET_ENOMEM, "out of memory"));
        goto done;
    }
    if (!all) {
        mo.release = pos.v[0];
        mo.ns = vet_k8s_cfg(k)->ns;
        rc = map_one(k, &mo, apply, backup, g->at, &blocked, rels);
    } else {
        vet_helm_opts ho;
        memset(&ho, 0, sizeof ho);
        ho.ns = allns ? NULL : vet_k8s_cfg(k)->ns;
        ho.tiller_ns = tiller;
        ho.catalog = c;
        ho.target = minor; /* keeps only the releases with something to convert */
        if ((rc = vet_helm_gather_api(&h, k, &ho)))
            goto fail;
        for (size_t i = 0; i < h->nrels && !rc; i++) {
            const vet_helm_rel *r = &h->rels[i];
            if (!r->scan || !vet_manifest_scan_count(r->scan))
                continue; /* nothing deprecated or removed in it */
            mo.release = r->name;
            mo.ns = r->helm == 3 ? r->storage_ns : r->namespace;
            rc = map_one(k, &mo, apply, NULL, g->at, &blocked, rels);
        }
    }
fail:
    if (rc)
        ret = cli_fail(rc);
    else if (h && h->errors.n) {
        /* A list that failed (a forbidden namespace) hides releases that may need mapping: the
         * run is incomplete, not clean (exit 3, each list named on stderr). */
        for (size_t i = 0; i < h->errors.n; i++)
            fprintf(stderr, "kubevet: %s\n", h->errors.v[i]);
        ret = 3;
    } else if (blocked)
        ret = 1;
    /* Once releases were looked at, the report says what happened to each, the one that failed
     * included (--all --apply may have mapped some before it: their backups are named there). */
    if (rels && (!rc || json_array_size(rels))) {
        json_t *keys = json_object();
        json_object_set_new(keys, "target", json_string(minor));
        json_object_set_new(keys, "dry_run", json_boolean(!apply));
        json_object_set_new(keys, "releases", json_incref(rels));
        cli_plan_emit_json(g, "helm map", keys, h ? &h->errors : NULL);
    }
done:
    json_decref(rels);
    vet_helm_facts_free(h);
    vet_k8s_free(k);
    vet_catalog_free(c);
    vet_strv_free(&pos);
    return ret;
}

int cmd_helm_restore(int argc, char **argv, cli_globals *g)
{
    vet_strv pos = VET_STRV_INIT, what = VET_STRV_INIT;
    int apply = 0, ret = 0, rc;
    const cli_opt own[] = {
        {"apply", 0, CLI_FLAG, &apply, NULL, "write (default: dry run)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_k8s *k = NULL;
    if ((rc = cli_parse(argc, argv, own, g, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (g->help) {
        cli_usage(stdout, "  kubevet helm restore FILE [--apply]",
                  "Put back the release records a 'kubevet helm map' saved in FILE: each "
                  "saved record replaces the\nlive one, and records of the release that are not "
                  "in FILE (the mapped revision) are deleted.",
                  own);
        goto done;
    }
    if (pos.n != 1) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "helm restore: give the backup FILE"));
        goto done;
    }
    if ((rc = cli_k8s_connect(&k, g)) || (rc = vet_helm_restore(k, pos.v[0], apply, &what))) {
        for (size_t i = 0; i < what.n; i++)
            printf("%s %s\n", apply ? "done:" : "would", what.v[i]);
        ret = cli_fail(rc);
        goto done;
    }
    for (size_t i = 0; i < what.n; i++)
        printf("%s %s\n", apply ? "done:" : "would", what.v[i]);
    if (!apply)
        printf("dry run: nothing written; run again with --apply\n");
done:
    vet_k8s_free(k);
    vet_strv_free(&what);
    vet_strv_free(&pos);
    return ret;
}
