/* kubevet helm scan: Helm v2/v3 release records (live, or in an etcd snapshot) whose deployed
 * revision holds an apiVersion the target removes (KV405, KV401-KV404 detail in its fields). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "kubevet/catalog.h"
#include "kubevet/check.h"
#include "kubevet/helm.h"
#include "kubevet/k8s.h"

int cmd_helm_map(int argc, char **argv, cli_globals *g);
int cmd_helm_restore(int argc, char **argv, cli_globals *g);

typedef struct {
    const vet_helm_facts *h;
    const char *target;
} text_arg;

static void render_text(const vet_report *r, void *arg)
{
    const vet_helm_facts *h = ((text_arg *)arg)->h;
    size_t crit = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        const vet_finding *f = &r->findings[i];
        json_t *objs = f->fields ? json_object_get(f->fields, "objects") : NULL;
        json_t *o;
        size_t k;
        crit += f->severity == VET_SEV_CRITICAL;
        printf("%s %s %s\n", f->id, vet_severity_name(f->severity), f->subject);
        json_array_foreach(objs, k, o)
        {
            const char *rep = json_string_value(json_object_get(o, "replacement"));
            const char *det = json_string_value(json_object_get(o, "detail"));
            printf("  %s %s %s in %s line %lld%s%s%s%s\n",
                   json_string_value(json_object_get(o, "id")),
                   json_string_value(json_object_get(o, "object")),
                   json_string_value(json_object_get(o, "api_version")),
                   json_string_value(json_object_get(o, "file")),
                   (long long)json_integer_value(json_object_get(o, "line")),
                   rep && *rep ? " -> " : "", rep && *rep ? rep : "", det && *det ? ": " : "",
                   det && *det ? det : "");
        }
        for (k = 0; f->fields && k < json_array_size(json_object_get(f->fields, "notes")); k++)
            printf("  note: %s\n",
                   json_string_value(json_array_get(json_object_get(f->fields, "notes"), k)));
        if (f->fix)
            printf("  fix: %s\n", f->fix);
    }
    /* notes of releases without a finding (several deployed, stuck pending, encrypted) */
    for (size_t i = 0; i < h->nrels; i++) {
        const vet_helm_rel *rel = &h->rels[i];
        char *subj;
        if (!rel->notes.n && !rel->error)
            continue;
        if (!(subj = vet_helm_subject(rel)))
            break; /* out of memory: the summary still ends the output */
        if (!vet_report_find((vet_report *)r, "KV405", subj)) {
            for (size_t k = 0; k < rel->notes.n; k++)
                printf("note: %s: %s\n", subj, rel->notes.v[k]);
        }
        if (rel->error)
            printf("note: %s: cannot decode: %s\n", subj, rel->error);
        free(subj);
    }
    cli_text_summary(r, "target %s: %zu release(s), %zu record(s), %zu critical",
                     ((text_arg *)arg)->target, h->nrels, h->records, crit);
}

static json_t *releases_json(const vet_helm_facts *h)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < h->nrels; i++) {
        const vet_helm_rel *rel = &h->rels[i];
        json_t *notes = json_array();
        for (size_t k = 0; notes && k < rel->notes.n; k++)
            json_array_append_new(notes, json_string(rel->notes.v[k]));
        json_array_append_new(
            arr,
            json_pack("{s:s,s:s,s:i,s:s,s:s,s:i,s:i,s:s,s:i,s:o,s:s?,s:s?}", "name", rel->name,
                      "namespace", rel->namespace, "helm", rel->helm, "storage",
                      rel->driver == VET_HELM_SECRET ? "secret" : "configmap", "storage_namespace",
                      rel->storage_ns, "revision", rel->acted_on, "latest", rel->latest,
                      "latest_status", rel->latest_status ? rel->latest_status : "", "deployed",
                      rel->ndeployed, "notes", notes ? notes : json_array(), "encrypted",
                      rel->encrypted, "error", rel->error));
    }
    return arr;
}

static int helm_scan(int argc, char **argv, cli_globals *g)
{
    vet_strv catalogs = VET_STRV_INIT, pos = VET_STRV_INIT;
    int all = 0, ret = 0, rc, report_ok = 0;
    const char *tiller = NULL, *snapshot = NULL;
    const cli_opt own[] = {
        {"all-namespaces", 'A', CLI_FLAG, &all, NULL, "releases of every namespace"},
        {"tiller-namespace", 0, CLI_STR, &tiller, "NS",
         "where Tiller (Helm 2) keeps its records (default kube-system)"},
        {"snapshot", 0, CLI_STR, &snapshot, "FILE",
         "read the records from an etcd snapshot instead of the cluster"},
        {"catalog", 0, CLI_MULTI, &catalogs, "FILE", "add or override catalog rows (repeatable)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    vet_catalog *c = NULL;
    vet_k8s *k = NULL;
    vet_helm_facts *h = NULL;
    vet_helm_opts ho;
    vet_report r;
    vet_ctx ctx;
    vet_version tv;
    char minor[32];
    const char *prefixes[] = {"KV405", NULL};

    memset(&ho, 0, sizeof ho);
    if ((rc = cli_parse(argc, argv, own, g, &pos))) {
        ret = cli_fail(rc);
        goto done;
    }
    if (g->help) {
        cli_usage(stdout,
                  "  kubevet helm scan [-A | -n NS] [--tiller-namespace NS] --target VERSION "
                  "[-o text|json|sarif]\n  kubevet helm scan --snapshot FILE --target VERSION",
                  "Read every Helm release record (Helm 3 Secrets and ConfigMaps, Helm 2 Tiller "
                  "ConfigMaps and Secrets) and\nscan the revision Helm acts on (the highest "
                  "deployed one): manifest and hooks. A release holding\nan apiVersion the "
                  "target removes is KV405 (helm upgrade/rollback/status fail after the "
                  "upgrade),\nwith each object's KV401-KV404 detail. Several deployed revisions "
                  "and stuck pending operations\nare noted. --snapshot answers the same from an "
                  "etcd snapshot, with no cluster access.",
                  own);
        goto done;
    }
    if (pos.n) {
        ret =
            cli_fail(vet_error_set(VET_EUSAGE, "helm scan: unexpected argument \"%s\"", pos.v[0]));
        goto done;
    }
    if (all && g->ns) {
        ret = cli_fail(vet_error_set(VET_EUSAGE, "helm scan: -A and -n exclude each other"));
        goto done;
    }
    if ((rc = cli_catalog_load(&c, &catalogs)) ||
        (rc = cli_target_version(&tv, minor, sizeof minor, g->target, c))) {
        ret = cli_fail(rc);
        goto done;
    }
    ho.catalog = c;
    ho.tiller_ns = tiller;
    ho.target = minor;
    if (snapshot) {
        ho.ns = all ? NULL : g->ns;
        rc = vet_helm_gather_snapshot(&h, snapshot, &ho);
    } else {
        if ((rc = cli_k8s_connect(&k, g))) {
            ret = cli_fail(rc);
            goto done;
        }
        ho.ns = all ? NULL : vet_k8s_cfg(k)->ns;
        rc = vet_helm_gather_api(&h, k, &ho);
    }
    if (rc) {
        ret = cli_fail(rc);
        goto done;
    }
    if ((rc = vet_report_init(&r, "helm scan", g->at))) {
        ret = cli_fail(rc);
        goto done;
    }
    report_ok = 1;
    memset(&ctx, 0, sizeof ctx);
    ctx.now = g->at;
    ctx.target = minor;
    ctx.catalog = c;
    ctx.helm = h;
    if ((rc = vet_check_run(&ctx, &r, VET_SRC_HELM, prefixes))) {
        ret = cli_fail(rc);
        goto done;
    }
    for (size_t i = 0; i < h->errors.n; i++)
        vet_report_error(&r, h->errors.v[i]);
    vet_report_set(&r, "target", json_string(minor));
    vet_report_set(&r, "source", json_string(snapshot ? snapshot : vet_k8s_cfg(k)->server));
    vet_report_set(&r, "releases", releases_json(h));
    {
        text_arg ta = {h, minor};
        ret = cli_render(&r, g, render_text, &ta);
    }
done:
    if (report_ok)
        vet_report_free(&r);
    vet_helm_facts_free(h);
    vet_k8s_free(k);
    vet_catalog_free(c);
    vet_strv_free(&catalogs);
    vet_strv_free(&pos);
    return ret;
}

int cmd_helm(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd sub[] = {
        {"scan", helm_scan, "Helm releases whose deployed revision uses removed APIs (KV405)"},
        {"map", cmd_helm_map, "store a revision converted to supported APIs (dry run; --apply)"},
        {"restore", cmd_helm_restore, "put the records saved by helm map back (--apply)"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(sub, "helm", argc, argv, g);
}
