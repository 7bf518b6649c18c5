/* The conversion table and the field changes that go with some rows.
 *
 * Facts come from the Kubernetes deprecated API migration guide
 * (kubernetes.io/docs/reference/using-api/deprecation-guide) and the API conversion code of
 * each group (pkg/apis/<group>/<version>/conversion.go, defaults.go): what the old version
 * defaulted is written out explicitly so that the object behaves as it did. */
#include <stdlib.h>
#include <string.h>

#include "convert_int.h"

/* ---------------------------------------------------------------- workloads */

static void check_selector(cv *c, yaml_node_t *sel, yaml_node_t *labels)
{
    yaml_node_t *ml = cv_get(c, sel, "matchLabels"), *me = cv_get(c, sel, "matchExpressions");
    if (!cv_is_map(sel)) {
        cv_stop(c, "line %zu: spec.selector is not a mapping", cv_line(c, sel));
        return;
    }
    if (!cv_npairs(ml) && !cv_nitems(me)) {
        cv_stop(c,
                "line %zu: spec.selector is empty: apps/v1 rejects it; set "
                "spec.selector.matchLabels to the labels the live object selects",
                cv_line(c, sel));
        return;
    }
    for (size_t i = 0; i < cv_npairs(ml); i++) {
        const char *k = cv_str(cv_key_at(c, ml, i)), *v = cv_str(cv_val_at(c, ml, i));
        const char *lv = k ? cv_str(cv_get(c, labels, k)) : NULL;
        if (!k || !v || !lv || strcmp(v, lv)) {
            cv_stop(c,
                    "line %zu: spec.selector.matchLabels %s=%s is not among "
                    "spec.template.metadata.labels: apps/v1 requires the selector to match "
                    "the template (KV404) and makes it immutable; make the template labels "
                    "include the live selector",
                    cv_line(c, cv_key_at(c, ml, i)), k ? k : "?", v ? v : "?");
            return;
        }
    }
}

/* The old APIs' defaults that apps/v1 changed. apps/v1 (pkg/apis/apps/v1/defaults.go) defaults
 * a Deployment to revisionHistoryLimit 10, progressDeadlineSeconds 600 and rollingUpdate
 * maxUnavailable/maxSurge 25%, and DaemonSets and StatefulSets to updateStrategy RollingUpdate.
 * - extensions/v1beta1 Deployment (pkg/apis/extensions/v1beta1/defaults.go,
 *   SetDefaults_Deployment): revisionHistoryLimit and progressDeadlineSeconds math.MaxInt32
 *   (keep every ReplicaSet, no deadline), maxUnavailable 1 and maxSurge 1 when the strategy is
 *   RollingUpdate (or unset) or rollingUpdate is given;
 * - extensions/v1beta1 DaemonSet (SetDefaults_DaemonSet): updateStrategy OnDelete
 *   (revisionHistoryLimit 10 as in apps/v1);
 * - apps/v1beta1 Deployment (pkg/apis/apps/v1beta1/defaults.go): revisionHistoryLimit 2 (25%/25%
 *   and 600 as in apps/v1);
 * - apps/v1beta1 StatefulSet (SetDefaults_StatefulSet): updateStrategy OnDelete
 *   (podManagementPolicy OrderedReady and revisionHistoryLimit 10 as in apps/v1);
 * - apps/v1beta2 (pkg/apis/apps/v1beta2/defaults.go) defaults every kind as apps/v1 does, and
 *   ReplicaSets only default replicas (1) in every version: nothing to write. */
size_t cv_workload_defaults(const char *from, const char *kind, cv_default *out,
                            const char **max_unavailable, const char **max_surge,
                            const char **update)
{
    size_t n = 0;
    *max_unavailable = *max_surge = *update = NULL;
    if (!strcmp(from, "extensions/v1beta1") && !strcmp(kind, "Deployment")) {
        out[n++] = (cv_default){"revisionHistoryLimit", "2147483647"};
        out[n++] = (cv_default){"progressDeadlineSeconds", "2147483647"};
        *max_unavailable = "1";
        *max_surge = "1";
    } else if (!strcmp(from, "apps/v1beta1") && !strcmp(kind, "Deployment")) {
        out[n++] = (cv_default){"revisionHistoryLimit", "2"};
    } else if ((!strcmp(from, "extensions/v1beta1") && !strcmp(kind, "DaemonSet")) ||
               (!strcmp(from, "apps/v1beta1") && !strcmp(kind, "StatefulSet"))) {
        *update = "OnDelete";
    }
    return n;
}

static void said(vet_buf *b, const char *fmt, const char *a, const char *v)
{
    if (b->size)
        vet_buf_puts(b, ", ");
    vet_buf_printf(b, fmt, a, v);
}

static nv *rolling(cv *c, const char *mu, const char *ms, long have_mu, long have_ms)
{
    nv *m = nv_map(c, 2);
    if (have_mu < 0)
        nv_put(m, "maxUnavailable", nv_raw(c, mu));
    if (have_ms < 0)
        nv_put(m, "maxSurge", nv_raw(c, ms));
    return m;
}

/* spec.strategy of an extensions/v1beta1 Deployment: write the rolling-update defaults where
 * the old API would have set them. Appends what it wrote to `what`; may add to kv (new spec
 * keys). */
static void strategy_defaults(cv *c, yaml_node_t *spec, const char *mu, const char *ms, nkv *kv,
                              size_t *k, vet_buf *what)
{
    long si = cv_find(c, spec, "strategy"), ri, mi = -1, xi = -1;
    yaml_node_t *st = si >= 0 ? cv_val_at(c, spec, (size_t)si) : NULL, *type, *ru;
    nv *m, *r;
    if (si < 0 || cv_is_null(st) || (cv_is_map(st) && !cv_npairs(st))) {
        m = nv_map(c, 2);
        r = rolling(c, mu, ms, -1, -1);
        nv_put(m, "type", nv_word(c, "RollingUpdate"));
        nv_put(m, "rollingUpdate", r);
        if (!m)
            return;
        if (si < 0) {
            kv[(*k)++] = (nkv){"strategy", 0, m};
        } else {
            nkv one = {"strategy", 0, m};
            cv_replace(c, spec, (size_t)si, &one, 1);
        }
        said(what, "strategy.rollingUpdate maxUnavailable %s, maxSurge %s", mu, ms);
        return;
    }
    if (!cv_is_map(st) || cv_has_template(c, cv_pos(c, st->start_mark), cv_end(c, st))) {
        cv_stop(c,
                "line %zu: spec.strategy is templated or not a mapping: where it renders "
                "RollingUpdate, write rollingUpdate.maxUnavailable: %s and maxSurge: %s (the "
                "extensions/v1beta1 defaults; apps/v1 would take 25%%), or pass --new-defaults",
                cv_line(c, st), mu, ms);
        return;
    }
    type = cv_get(c, st, "type");
    ri = cv_find(c, st, "rollingUpdate");
    if (ri < 0 && !cv_is_null(type) && !cv_scalar_is(type, "RollingUpdate"))
        return; /* Recreate: no rolling-update parameters */
    ru = ri >= 0 ? cv_val_at(c, st, (size_t)ri) : NULL;
    if (cv_is_map(ru) && cv_npairs(ru)) {
        mi = cv_find(c, ru, "maxUnavailable");
        xi = cv_find(c, ru, "maxSurge");
        if (mi >= 0 && xi >= 0)
            return;
        r = rolling(c, mu, ms, mi, xi);
        if (r)
            cv_insert(c, ru, -1, -1, r->kv, r->n);
    } else {
        nkv one = {"rollingUpdate", 0, rolling(c, mu, ms, -1, -1)};
        if (ri >= 0)
            cv_replace(c, st, (size_t)ri, &one, 1);
        else
            cv_insert(c, st, -1, -1, &one, 1);
    }
    if (mi < 0)
        said(what, "strategy.rollingUpdate.%s %s", "maxUnavailable", mu);
    if (xi < 0)
        said(what, "strategy.rollingUpdate.%s %s", "maxSurge", ms);
}

/* spec.updateStrategy of an extensions/v1beta1 DaemonSet or apps/v1beta1 StatefulSet. */
static void update_defaults(cv *c, yaml_node_t *spec, const char *up, nkv *kv, size_t *k,
                            vet_buf *what)
{
    long ui = cv_find(c, spec, "updateStrategy");
    yaml_node_t *us = ui >= 0 ? cv_val_at(c, spec, (size_t)ui) : NULL;
    nv *m;
    if (ui >= 0 && cv_is_map(us) && cv_npairs(us)) {
        if (cv_find(c, us, "type") >= 0)
            return;
        if (cv_find(c, us, "rollingUpdate") >= 0) {
            cv_stop(c,
                    "line %zu: spec.updateStrategy has rollingUpdate but no type: %s treated it "
                    "as %s, apps/v1 as RollingUpdate; set the type you mean",
                    cv_line(c, us), c->r->from, up);
            return;
        }
        {
            nkv one = {"type", 0, nv_word(c, up)};
            cv_insert(c, us, -1, -1, &one, 1);
        }
        said(what, "%s %s", "updateStrategy.type", up);
        return;
    }
    if (ui >= 0 && !cv_is_null(us) && !cv_is_map(us)) {
        cv_stop(c,
                "line %zu: spec.updateStrategy is not a mapping: make sure it renders type: %s "
                "(the %s default; apps/v1 would take RollingUpdate), or pass --new-defaults",
                cv_line(c, us), up, c->r->from);
        return;
    }
    m = nv_map(c, 1);
    nv_put(m, "type", nv_word(c, up));
    if (!m)
        return;
    if (ui < 0) {
        kv[(*k)++] = (nkv){"updateStrategy", 0, m};
    } else {
        nkv one = {"updateStrategy", 0, m};
        cv_replace(c, spec, (size_t)ui, &one, 1);
    }
    said(what, "%s %s", "updateStrategy.type", up);
}

/* Write the old API's defaults where the object leaves them unset, so that it behaves after the
 * conversion as it did (unless --new-defaults). */
static void write_defaults(cv *c, yaml_node_t *spec)
{
    cv_default d[4];
    const char *mu, *ms, *up;
    size_t n = cv_workload_defaults(c->r->from, c->r->kind, d, &mu, &ms, &up), k = 0;
    nkv kv[6];
    vet_buf what = VET_BUF_INIT;
    if (!n && !mu && !up)
        return;
    if (c->new_defaults) {
        cv_did(c, "--new-defaults: unset fields take the apps/v1 defaults, not %s's", c->r->from);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (cv_find(c, spec, d[i].key) < 0) {
            kv[k++] = (nkv){d[i].key, 0, nv_raw(c, d[i].value)};
            said(&what, "%s %s", d[i].key, d[i].value);
        }
    if (mu)
        strategy_defaults(c, spec, mu, ms, kv, &k, &what);
    if (up)
        update_defaults(c, spec, up, kv, &k, &what);
    if (k)
        cv_insert(c, spec, cv_find(c, spec, "template"), -1, kv, k);
    if (what.size && !c->stop)
        cv_did(c,
               "wrote the %s defaults explicitly so the object behaves as before: %s "
               "(--new-defaults takes the apps/v1 ones)",
               c->r->from, what.ptr);
    vet_buf_free(&what);
}

/* extensions/v1beta1 and apps/v1beta1 defaulted a missing spec.selector to the template labels;
 * apps/v1 requires it and it is immutable, so the manifest must carry the selector the live
 * object already has (FORMATS.md, incident 2). */
/* The live object's matchLabels (opts->live_selector): 1 found, 0 none, -1 stopped. */
static int live_selector(cv *c, yaml_node_t *o, vet_strv *want)
{
    yaml_node_t *md = cv_get(c, o, "metadata");
    const char *name = cv_str(cv_get(c, md, "name")), *ns = cv_str(cv_get(c, md, "namespace"));
    int rc;
    if (!c->opts || !c->opts->live_selector)
        return 0;
    if (cv_templated(c, cv_get(c, md, "name")) || cv_templated(c, cv_get(c, md, "namespace")))
        name = NULL; /* a templated name names no object */
    if (!name)
        return 0;
    rc = c->opts->live_selector(c->opts->live_arg, c->r->from, c->r->kind, ns, name, want);
    if (rc < 0) {
        cv_stop(c, "reading the live %s %s: %s", c->r->kind, name, vet_error_last());
        return -1;
    }
    return rc > 0;
}

/* 1 when the pair is in the live selector (crossed out there: what remains is missing). */
static int wants(vet_strv *want, const char *k, const char *v)
{
    for (size_t i = 0; k && v && i + 1 < want->n; i += 2)
        if (want->v[i] && !strcmp(want->v[i], k) && !strcmp(want->v[i + 1], v)) {
            free(want->v[i]);
            want->v[i] = NULL;
            return 1;
        }
    return 0;
}

static void fix_workload(cv *c, yaml_node_t *o)
{
    yaml_node_t *spec = cv_get(c, o, "spec"), *labels, *sel;
    size_t n;
    nv *ml, *selm;
    nkv kv;
    vet_strv want = VET_STRV_INIT;
    int live = 0;
    if (!cv_is_map(spec)) {
        cv_stop(c, "no spec: apps/v1 requires spec.selector and spec.template");
        return;
    }
    labels = cv_get(c, cv_get(c, cv_get(c, spec, "template"), "metadata"), "labels");
    sel = cv_get(c, spec, "selector");
    if (sel && !cv_is_null(sel)) {
        check_selector(c, sel, labels);
        if (!c->stop)
            write_defaults(c, spec);
        return;
    }
    n = cv_npairs(labels);
    if (!n) {
        cv_stop(c, "no spec.selector and no spec.template.metadata.labels to derive it from: "
                   "apps/v1 requires both, matching; add pod labels and the same "
                   "spec.selector.matchLabels");
        return;
    }
    if ((live = live_selector(c, o, &want)) < 0)
        goto out;
    ml = nv_map(c, n);
    for (size_t i = 0; ml && i < n; i++) {
        yaml_node_t *k = cv_key_at(c, labels, i), *v = cv_val_at(c, labels, i);
        size_t ks = cv_pos(c, k->start_mark), ke = cv_pos(c, k->end_mark);
        if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE || ke < ks ||
            cv_has_template(c, ks, cv_end(c, v)) || memchr(c->file + ks, '\n', ke - ks)) {
            cv_stop(c,
                    "line %zu: spec.template.metadata.labels is templated or not plain "
                    "key: value pairs; add spec.selector.matchLabels by hand",
                    cv_line(c, k));
            goto out;
        }
        /* the live selector names the labels: the template's text of those is copied */
        if (live && !wants(&want, cv_str(k), cv_str(v)))
            continue;
        nv_put_raw(ml, cv_strndup(c, (const char *)c->file + ks, ke - ks), nv_src(c, v, k, NULL));
    }
    for (size_t i = 0; live && i + 1 < want.n; i += 2)
        if (want.v[i]) {
            cv_stop(c,
                    "the live object selects %s=%s, which spec.template.metadata.labels lacks: "
                    "apps/v1 requires the selector to match the template and keeps the live "
                    "one; add that label to the template",
                    want.v[i], want.v[i + 1]);
            goto out;
        }
    selm = nv_map(c, 1);
    nv_put(selm, "matchLabels", ml);
    kv.key = "selector";
    kv.raw = 0;
    kv.val = selm;
    if (!selm)
        goto out;
    cv_insert(c, spec, cv_find(c, spec, "template"), -1, &kv, 1);
    if (live)
        cv_did(c, "added spec.selector.matchLabels as the live object has it (apps/v1 keeps it "
                  "immutable)");
    else
        cv_did(c,
               "added spec.selector.matchLabels copied from spec.template.metadata.labels (what "
               "%s defaulted, so it equals the live selector)",
               c->r->from);
    write_defaults(c, spec);
out:
    vet_strv_free(&want);
}

/* ---------------------------------------------------------------- networking */

static int all_digits(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int fix_backend(cv *c, yaml_node_t *b, const char *where)
{
    long si = cv_find(c, b, "serviceName"), pi = cv_find(c, b, "servicePort");
    yaml_node_t *sn, *sp;
    nv *svc, *port;
    nkv kv;
    if (!cv_is_map(b) || (si < 0 && pi < 0))
        return 0;
    if (si < 0 || pi < 0) {
        cv_stop(c,
                "line %zu: %s has only %s: networking.k8s.io/v1 needs service.name and "
                "service.port",
                cv_line(c, b), where, si < 0 ? "servicePort" : "serviceName");
        return 0;
    }
    sn = cv_val_at(c, b, (size_t)si);
    sp = cv_val_at(c, b, (size_t)pi);
    if (sn->type != YAML_SCALAR_NODE || sp->type != YAML_SCALAR_NODE ||
        cv_has_template(c, cv_pos(c, sn->start_mark), cv_end(c, sn)) ||
        cv_has_template(c, cv_pos(c, sp->start_mark), cv_end(c, sp))) {
        cv_stop(c,
                "line %zu: %s serviceName/servicePort are templated; rewrite them to "
                "service.name and service.port.number|name by hand",
                cv_line(c, b), where);
        return 0;
    }
    svc = nv_map(c, 2);
    port = nv_map(c, 1);
    if (!svc || !port)
        return 0;
    nv_put(svc, "name", nv_src(c, sn, cv_key_at(c, b, (size_t)si), NULL));
    /* IntOrString: digits are a port number (a quoted "80" is no valid port name either) */
    if (all_digits(cv_str(sp)))
        nv_put(port, "number", nv_raw(c, cv_str(sp)));
    else
        nv_put(port, "name", nv_src(c, sp, cv_key_at(c, b, (size_t)pi), NULL));
    nv_put(svc, "port", port);
    kv.key = "service";
    kv.raw = 0;
    kv.val = svc;
    cv_replace(c, b, (size_t)si, &kv, 1);
    cv_delete(c, b, (size_t)pi);
    return 1;
}

static void fix_ingress(cv *c, yaml_node_t *o)
{
    yaml_node_t *spec = cv_get(c, o, "spec"), *rules;
    long bi = cv_find(c, spec, "backend");
    int nb = 0, np = 0;
    if (!cv_is_map(spec))
        return;
    if (bi >= 0) {
        cv_rename(c, spec, (size_t)bi, "defaultBackend");
        nb += fix_backend(c, cv_val_at(c, spec, (size_t)bi), "spec.backend");
        cv_did(c, "spec.backend -> spec.defaultBackend");
    }
    rules = cv_get(c, spec, "rules");
    for (size_t i = 0; i < cv_nitems(rules); i++) {
        yaml_node_t *paths = cv_get(c, cv_get(c, cv_item(c, rules, i), "http"), "paths");
        for (size_t j = 0; j < cv_nitems(paths); j++) {
            yaml_node_t *p = cv_item(c, paths, j);
            if (!cv_is_map(p))
                continue;
            nb += fix_backend(c, cv_get(c, p, "backend"), "backend");
            if (cv_find(c, p, "pathType") < 0) {
                nkv kv = {"pathType", 0, nv_word(c, "ImplementationSpecific")};
                cv_insert(c, p, -1, cv_find(c, p, "path"), &kv, 1);
                np++;
            }
        }
    }
    if (nb)
        cv_did(c, "serviceName/servicePort -> service.name/service.port (%d backend%s)", nb,
               nb > 1 ? "s" : "");
    if (np)
        cv_did(c, "added pathType: ImplementationSpecific (the v1beta1 behaviour) to %d path%s", np,
               np > 1 ? "s" : "");
}

/* ---------------------------------------------------------------- autoscaling */

/* autoscaling/v2beta1 metric sources -> the v2beta2/v2 shape (MetricIdentifier + MetricTarget),
 * as in pkg/apis/autoscaling/v2beta1/conversion.go. */
static int fix_metric(cv *c, yaml_node_t *s, const char *type)
{
    int object = !strcmp(type, "object"), external = !strcmp(type, "external");
    long mn = cv_find(c, s, "metricName");
    long sel = cv_find(c, s, external ? "metricSelector" : "selector");
    long tau = cv_find(c, s, "targetAverageUtilization");
    long tav = cv_find(c, s, "targetAverageValue");
    long tv = cv_find(c, s, "targetValue");
    long av = object ? cv_find(c, s, "averageValue") : -1;
    long tg = object ? cv_find(c, s, "target") : -1;
    long old[6], first = -1;
    nkv kv[2];
    size_t n = 0;
    nv *t;
    old[0] = mn;
    old[1] = sel;
    old[2] = tau;
    old[3] = tav;
    old[4] = tv;
    old[5] = av;
    for (int i = 0; i < 6; i++)
        if (old[i] >= 0 && (first < 0 || old[i] < first))
            first = old[i];
    if (first < 0)
        return 0;
    if (mn >= 0) {
        nv *m = nv_map(c, 2);
        nv_put(m, "name",
               nv_src(c, cv_val_at(c, s, (size_t)mn), cv_key_at(c, s, (size_t)mn), NULL));
        if (sel >= 0)
            nv_put(m, "selector",
                   nv_src(c, cv_val_at(c, s, (size_t)sel), cv_key_at(c, s, (size_t)sel), NULL));
        kv[n].key = "metric";
        kv[n].raw = 0;
        kv[n++].val = m;
    } else if (sel >= 0 && strcmp(type, "resource")) {
        cv_stop(c, "line %zu: %s metric has a selector but no metricName", cv_line(c, s), type);
        return 0;
    }
    t = nv_map(c, 2);
    if (!t)
        return 0;
#define TARGET(idx, ty, field)                                                                     \
    do {                                                                                           \
        nv_put(t, "type", nv_word(c, ty));                                                         \
        nv_put(t, field,                                                                           \
               nv_src(c, cv_val_at(c, s, (size_t)idx), cv_key_at(c, s, (size_t)idx), NULL));       \
    } while (0)
    if (tau >= 0)
        TARGET(tau, "Utilization", "averageUtilization");
    else if (tav >= 0)
        TARGET(tav, "AverageValue", "averageValue");
    else if (av >= 0)
        TARGET(av, "AverageValue", "averageValue");
    else if (tv >= 0)
        TARGET(tv, "Value", "value");
    else {
        cv_stop(c,
                "line %zu: %s metric has no target (targetValue, targetAverageValue or "
                "targetAverageUtilization)",
                cv_line(c, s), type);
        return 0;
    }
#undef TARGET
    kv[n].key = "target";
    kv[n].raw = 0;
    kv[n++].val = t;
    /* v2beta1 object.target is the object described; v2 calls it describedObject */
    if (tg >= 0) {
        yaml_node_t *ref = cv_val_at(c, s, (size_t)tg);
        if (cv_is_map(ref) && cv_find(c, ref, "type") < 0)
            cv_rename(c, s, (size_t)tg, "describedObject");
    }
    cv_replace(c, s, (size_t)first, kv, n);
    for (int i = 0; i < 6; i++)
        if (old[i] >= 0 && old[i] != first)
            cv_delete(c, s, (size_t)old[i]);
    return 1;
}

static void fix_hpa(cv *c, yaml_node_t *o)
{
    static const char *const kinds[] = {"resource", "pods", "object", "external",
                                        "containerResource"};
    yaml_node_t *metrics = cv_get(c, cv_get(c, o, "spec"), "metrics");
    int n = 0;
    for (size_t i = 0; i < cv_nitems(metrics); i++) {
        yaml_node_t *m = cv_item(c, metrics, i);
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
            yaml_node_t *s = cv_get(c, m, kinds[k]);
            if (cv_is_map(s))
                n += fix_metric(c, s, kinds[k]);
        }
    }
    if (n)
        cv_did(c,
               "spec.metrics: target* -> target {type, ...}, metricName/selector -> metric "
               "(%d metric%s)",
               n, n > 1 ? "s" : "");
}

/* ---------------------------------------------------------------- admission, certificates */

/* admissionregistration v1beta1 defaults (pkg/apis/admissionregistration/v1beta1/defaults.go):
 * failurePolicy Ignore, matchPolicy Exact, timeoutSeconds 30, sideEffects Unknown,
 * admissionReviewVersions [v1beta1]. v1 changed the first three defaults and requires the last
 * two; Unknown is not a valid v1 value, so only a person can say whether the webhook has side
 * effects. */
static void fix_webhook(cv *c, yaml_node_t *o)
{
    static const char *const keys[] = {"admissionReviewVersions", "failurePolicy", "matchPolicy",
                                       "timeoutSeconds"};
    static const char *const said_as[] = {"admissionReviewVersions [v1beta1]",
                                          "failurePolicy Ignore", "matchPolicy Exact",
                                          "timeoutSeconds 30"};
    yaml_node_t *whs = cv_get(c, o, "webhooks");
    size_t wrote[4] = {0, 0, 0, 0};
    vet_buf what = VET_BUF_INIT;
    for (size_t i = 0; i < cv_nitems(whs); i++) {
        yaml_node_t *w = cv_item(c, whs, i), *se;
        const char *name, *s;
        nkv kv[4];
        size_t k = 0, idx[4];
        if (!cv_is_map(w))
            continue;
        name = cv_str(cv_get(c, w, "name"));
        se = cv_get(c, w, "sideEffects");
        s = cv_str(se);
        if (cv_templated(c, se)) {
            cv_stop(c,
                    "line %zu: webhook sideEffects is rendered by the template: "
                    "admissionregistration.k8s.io/v1 accepts only None or NoneOnDryRun; make "
                    "sure it renders one of them, then convert",
                    cv_line(c, w));
            continue;
        }
        if (cv_is_null(se) || !s || !strcmp(s, "Unknown") || !strcmp(s, "Some")) {
            cv_stop(c,
                    "line %zu: webhook %s: sideEffects is %s%s; admissionregistration.k8s.io/v1 "
                    "accepts only None or NoneOnDryRun: set None if the webhook changes "
                    "nothing outside the admission review, NoneOnDryRun if it skips its side "
                    "effects for dryRun requests",
                    cv_line(c, w), name ? name : "(unnamed)", cv_is_null(se) ? "absent" : s,
                    cv_is_null(se) ? " (v1beta1 defaulted it to Unknown)" : "");
            continue;
        }
        if (cv_find(c, w, keys[0]) < 0)
            idx[k] = 0, kv[k++] = (nkv){keys[0], 0, nv_raw(c, "[\"v1beta1\"]")};
        if (cv_find(c, w, keys[1]) < 0)
            idx[k] = 1, kv[k++] = (nkv){keys[1], 0, nv_word(c, "Ignore")};
        if (cv_find(c, w, keys[2]) < 0)
            idx[k] = 2, kv[k++] = (nkv){keys[2], 0, nv_word(c, "Exact")};
        if (cv_find(c, w, keys[3]) < 0)
            idx[k] = 3, kv[k++] = (nkv){keys[3], 0, nv_raw(c, "30")};
        if (k)
            cv_insert(c, w, -1, -1, kv, k);
        for (size_t j = 0; j < k; j++)
            wrote[idx[j]]++;
    }
    /* claim only what was written: a webhook that already says failurePolicy: Fail keeps it */
    for (size_t j = 0; j < 4; j++)
        if (wrote[j])
            vet_buf_printf(&what, "%s%s (%zu webhook%s)", what.size ? ", " : "", said_as[j],
                           wrote[j], wrote[j] > 1 ? "s" : "");
    if (what.size && !c->stop)
        cv_did(c, "wrote the v1beta1 defaults explicitly where unset: %s", what.ptr);
    vet_buf_free(&what);
}

static void fix_csr(cv *c, yaml_node_t *o)
{
    yaml_node_t *spec = cv_get(c, o, "spec"), *sn = cv_get(c, spec, "signerName");
    const char *s = cv_str(sn);
    if (!cv_is_map(spec))
        return;
    if (cv_templated(c, sn)) {
        cv_stop(c, "spec.signerName is rendered by the template: certificates.k8s.io/v1 requires a "
                   "real signer; make sure it renders one, then convert");
        return;
    }
    if (cv_is_null(sn) || !s || !strcmp(s, "kubernetes.io/legacy-unknown")) {
        cv_stop(c,
                "spec.signerName is %s: certificates.k8s.io/v1 requires a signer: choose "
                "kubernetes.io/kube-apiserver-client (client certificates for the API server), "
                "kubernetes.io/kube-apiserver-client-kubelet (kubelet client certificates), "
                "kubernetes.io/kubelet-serving (kubelet serving certificates) or your own "
                "signer",
                cv_is_null(sn) ? "absent" : s);
        return;
    }
    if (cv_find(c, spec, "usages") < 0) {
        nkv kv = {"usages", 0, nv_raw(c, "[\"digital signature\", \"key encipherment\"]")};
        cv_insert(c, spec, -1, -1, &kv, 1);
        cv_did(c, "wrote the v1beta1 default usages explicitly (digital signature, key "
                  "encipherment)");
    }
}

/* ---------------------------------------------------------------- smaller changes */

/* policy/v1beta1 matched no pods with an empty selector, policy/v1 matches every pod of the
 * namespace: converting `selector: {}` would silently widen the budget. */
static void fix_pdb(cv *c, yaml_node_t *o)
{
    yaml_node_t *sel = cv_get(c, cv_get(c, o, "spec"), "selector");
    if (cv_is_map(sel) && !cv_npairs(cv_get(c, sel, "matchLabels")) &&
        !cv_nitems(cv_get(c, sel, "matchExpressions")))
        cv_stop(c,
                "line %zu: spec.selector is empty: policy/v1beta1 matched no pods with it, "
                "policy/v1 matches every pod in the namespace; remove the selector to keep "
                "matching none, or list the labels to match",
                cv_line(c, sel));
}

static void fix_endpointslice(cv *c, yaml_node_t *o)
{
    yaml_node_t *eps = cv_get(c, o, "endpoints");
    int n = 0;
    for (size_t i = 0; i < cv_nitems(eps); i++) {
        yaml_node_t *e = cv_item(c, eps, i);
        long t = cv_find(c, e, "topology");
        if (t >= 0 && cv_find(c, e, "deprecatedTopology") < 0) {
            cv_rename(c, e, (size_t)t, "deprecatedTopology");
            n++;
        }
    }
    if (n)
        cv_did(c, "endpoints[].topology -> deprecatedTopology (%d endpoint%s)", n,
               n > 1 ? "s" : "");
}

/* authorization v1beta1 spelled the groups field `group` (json tag), v1 `groups`. */
static void fix_sar(cv *c, yaml_node_t *o)
{
    yaml_node_t *spec = cv_get(c, o, "spec");
    long g = cv_find(c, spec, "group");
    if (g >= 0 && cv_find(c, spec, "groups") < 0) {
        cv_rename(c, spec, (size_t)g, "groups");
        cv_did(c, "spec.group -> spec.groups");
    }
}

/* flowcontrol v1beta3 renamed assuredConcurrencyShares to nominalConcurrencyShares. */
static void fix_plc(cv *c, yaml_node_t *o)
{
    yaml_node_t *lim = cv_get(c, cv_get(c, o, "spec"), "limited");
    long a = cv_find(c, lim, "assuredConcurrencyShares");
    if (a >= 0 && cv_find(c, lim, "nominalConcurrencyShares") < 0) {
        cv_rename(c, lim, (size_t)a, "nominalConcurrencyShares");
        cv_did(c, "spec.limited.assuredConcurrencyShares -> nominalConcurrencyShares");
    }
}

/* ---------------------------------------------------------------- the table */

#define M_WORKLOAD                                                                                 \
    "apps/v1 requires spec.selector matching spec.template.metadata.labels (the old API "          \
    "defaulted it to the template labels): make sure the template renders it"
#define M_INGRESS                                                                                  \
    "rewrite serviceName/servicePort to service.name and service.port.number|name, spec.backend "  \
    "to spec.defaultBackend, and give every path a pathType (ImplementationSpecific keeps the "    \
    "old "                                                                                         \
    "behaviour)"
#define M_HPA                                                                                      \
    "rewrite spec.metrics: targetAverageUtilization/targetAverageValue/targetValue -> target "     \
    "{type, averageUtilization|averageValue|value}, metricName/metricSelector -> metric {name, "   \
    "selector}"
#define M_WEBHOOK                                                                                  \
    "set sideEffects (None or NoneOnDryRun) and admissionReviewVersions on every webhook; write "  \
    "failurePolicy: Ignore, matchPolicy: Exact, timeoutSeconds: 30 to keep the v1beta1 behaviour"
#define M_CSR "set spec.signerName (v1 requires it)"
#define M_CRD                                                                                      \
    "move validation/subresources/additionalPrinterColumns into every spec.versions[] entry "      \
    "(schema.openAPIV3Schema, JSONPath -> jsonPath) and give each version a structural schema"
#define M_PDB "an empty spec.selector matches every pod in policy/v1 (none in v1beta1)"
#define M_ES "rename endpoints[].topology to deprecatedTopology"
#define M_SAR "rename spec.group to spec.groups"
#define M_PLC "rename spec.limited.assuredConcurrencyShares to nominalConcurrencyShares"

#define WL(from, kind)                                                                             \
    {                                                                                              \
        from, kind, KV(1, 9), KV(1, 16), "apps/v1", KV(1, 9), 0, fix_workload, M_WORKLOAD          \
    }
#define SAME(from, kind, dep, rem, to, since)                                                      \
    {                                                                                              \
        from, kind, dep, rem, to, since, 0, NULL, NULL                                             \
    }

const rule cv_rules[] = {
    WL("extensions/v1beta1", "Deployment"),
    WL("extensions/v1beta1", "DaemonSet"),
    WL("extensions/v1beta1", "ReplicaSet"),
    WL("extensions/v1beta1", "StatefulSet"),
    WL("apps/v1beta1", "Deployment"),
    WL("apps/v1beta1", "StatefulSet"),
    WL("apps/v1beta1", "DaemonSet"),
    WL("apps/v1beta1", "ReplicaSet"),
    WL("apps/v1beta2", "Deployment"),
    WL("apps/v1beta2", "DaemonSet"),
    WL("apps/v1beta2", "StatefulSet"),
    WL("apps/v1beta2", "ReplicaSet"),
    SAME("extensions/v1beta1", "NetworkPolicy", KV(1, 9), KV(1, 16), "networking.k8s.io/v1",
         KV(1, 8)),
    {"extensions/v1beta1", "PodSecurityPolicy", KV(1, 11), KV(1, 16), "policy/v1beta1", KV(1, 10),
     KV(1, 25), NULL, NULL},
    {"policy/v1beta1", "PodSecurityPolicy", KV(1, 21), KV(1, 25), NULL, 0, 0, NULL, NULL},
    {"extensions/v1beta1", "Ingress", KV(1, 14), KV(1, 22), "networking.k8s.io/v1beta1", KV(1, 14),
     KV(1, 22), NULL, NULL},
    {"extensions/v1beta1", "Ingress", KV(1, 14), KV(1, 22), "networking.k8s.io/v1", KV(1, 19), 0,
     fix_ingress, M_INGRESS},
    {"networking.k8s.io/v1beta1", "Ingress", KV(1, 19), KV(1, 22), "networking.k8s.io/v1",
     KV(1, 19), 0, fix_ingress, M_INGRESS},
    SAME("networking.k8s.io/v1beta1", "IngressClass", KV(1, 19), KV(1, 22), "networking.k8s.io/v1",
         KV(1, 19)),
    SAME("batch/v1beta1", "CronJob", KV(1, 21), KV(1, 25), "batch/v1", KV(1, 21)),
    {"policy/v1beta1", "PodDisruptionBudget", KV(1, 21), KV(1, 25), "policy/v1", KV(1, 21), 0,
     fix_pdb, M_PDB},
    {"discovery.k8s.io/v1beta1", "EndpointSlice", KV(1, 21), KV(1, 25), "discovery.k8s.io/v1",
     KV(1, 21), 0, fix_endpointslice, M_ES},
    SAME("events.k8s.io/v1beta1", "Event", KV(1, 19), KV(1, 25), "events.k8s.io/v1", KV(1, 19)),
    {"autoscaling/v2beta1", "HorizontalPodAutoscaler", KV(1, 22), KV(1, 25), "autoscaling/v2beta2",
     KV(1, 12), KV(1, 26), fix_hpa, M_HPA},
    {"autoscaling/v2beta1", "HorizontalPodAutoscaler", KV(1, 22), KV(1, 25), "autoscaling/v2",
     KV(1, 23), 0, fix_hpa, M_HPA},
    SAME("autoscaling/v2beta2", "HorizontalPodAutoscaler", KV(1, 23), KV(1, 26), "autoscaling/v2",
         KV(1, 23)),
    SAME("rbac.authorization.k8s.io/v1beta1", "Role", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1beta1", "ClusterRole", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1beta1", "RoleBinding", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1alpha1", "Role", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1alpha1", "ClusterRole", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1alpha1", "RoleBinding", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("rbac.authorization.k8s.io/v1alpha1", "ClusterRoleBinding", KV(1, 17), KV(1, 22),
         "rbac.authorization.k8s.io/v1", KV(1, 8)),
    SAME("scheduling.k8s.io/v1beta1", "PriorityClass", KV(1, 14), KV(1, 22), "scheduling.k8s.io/v1",
         KV(1, 14)),
    SAME("scheduling.k8s.io/v1alpha1", "PriorityClass", KV(1, 14), KV(1, 22),
         "scheduling.k8s.io/v1", KV(1, 14)),
    SAME("storage.k8s.io/v1beta1", "StorageClass", KV(1, 19), KV(1, 22), "storage.k8s.io/v1",
         KV(1, 6)),
    SAME("storage.k8s.io/v1beta1", "VolumeAttachment", KV(1, 19), KV(1, 22), "storage.k8s.io/v1",
         KV(1, 13)),
    SAME("storage.k8s.io/v1beta1", "CSIDriver", KV(1, 19), KV(1, 22), "storage.k8s.io/v1",
         KV(1, 18)),
    SAME("storage.k8s.io/v1beta1", "CSINode", KV(1, 19), KV(1, 22), "storage.k8s.io/v1", KV(1, 17)),
    SAME("storage.k8s.io/v1beta1", "CSIStorageCapacity", KV(1, 24), KV(1, 27), "storage.k8s.io/v1",
         KV(1, 24)),
    SAME("coordination.k8s.io/v1beta1", "Lease", KV(1, 14), KV(1, 22), "coordination.k8s.io/v1",
         KV(1, 14)),
    /* flowcontrol: the newest served at the target wins (v1beta2 1.23, v1beta3 1.26, v1 1.29) */
    SAME("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", KV(1, 23), KV(1, 26),
         "flowcontrol.apiserver.k8s.io/v1beta2", KV(1, 23)),
    SAME("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", KV(1, 23), KV(1, 26),
         "flowcontrol.apiserver.k8s.io/v1beta3", KV(1, 26)),
    SAME("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", KV(1, 23), KV(1, 26),
         "flowcontrol.apiserver.k8s.io/v1", KV(1, 29)),
    SAME("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", KV(1, 26), KV(1, 29),
         "flowcontrol.apiserver.k8s.io/v1beta3", KV(1, 26)),
    SAME("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", KV(1, 26), KV(1, 29),
         "flowcontrol.apiserver.k8s.io/v1", KV(1, 29)),
    SAME("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", KV(1, 29), KV(1, 32),
         "flowcontrol.apiserver.k8s.io/v1", KV(1, 29)),
    SAME("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", KV(1, 23), KV(1, 26),
         "flowcontrol.apiserver.k8s.io/v1beta2", KV(1, 23)),
    {"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", KV(1, 23), KV(1, 26),
     "flowcontrol.apiserver.k8s.io/v1beta3", KV(1, 26), 0, fix_plc, M_PLC},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", KV(1, 23), KV(1, 26),
     "flowcontrol.apiserver.k8s.io/v1", KV(1, 29), 0, fix_plc, M_PLC},
    {"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", KV(1, 26), KV(1, 29),
     "flowcontrol.apiserver.k8s.io/v1beta3", KV(1, 26), 0, fix_plc, M_PLC},
    {"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", KV(1, 26), KV(1, 29),
     "flowcontrol.apiserver.k8s.io/v1", KV(1, 29), 0, fix_plc, M_PLC},
    {"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", KV(1, 29), KV(1, 32),
     "flowcontrol.apiserver.k8s.io/v1", KV(1, 29), 0, fix_plc, M_PLC},
    {"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", KV(1, 16), KV(1, 22),
     "admissionregistration.k8s.io/v1", KV(1, 16), 0, fix_webhook, M_WEBHOOK},
    {"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", KV(1, 16), KV(1, 22),
     "admissionregistration.k8s.io/v1", KV(1, 16), 0, fix_webhook, M_WEBHOOK},
    {"certificates.k8s.io/v1beta1", "CertificateSigningRequest", KV(1, 19), KV(1, 22),
     "certificates.k8s.io/v1", KV(1, 19), 0, fix_csr, M_CSR},
    {"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", KV(1, 16), KV(1, 22),
     "apiextensions.k8s.io/v1", KV(1, 16), 0, cv_fix_crd, M_CRD},
    SAME("apiregistration.k8s.io/v1beta1", "APIService", KV(1, 19), KV(1, 22),
         "apiregistration.k8s.io/v1", KV(1, 10)),
    SAME("authentication.k8s.io/v1beta1", "TokenReview", KV(1, 19), KV(1, 22),
         "authentication.k8s.io/v1", KV(1, 6)),
    {"authorization.k8s.io/v1beta1", "SubjectAccessReview", KV(1, 19), KV(1, 22),
     "authorization.k8s.io/v1", KV(1, 6), 0, fix_sar, M_SAR},
    {"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", KV(1, 19), KV(1, 22),
     "authorization.k8s.io/v1", KV(1, 6), 0, fix_sar, M_SAR},
    SAME("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", KV(1, 19), KV(1, 22),
         "authorization.k8s.io/v1", KV(1, 6)),
    SAME("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", KV(1, 19), KV(1, 22),
         "authorization.k8s.io/v1", KV(1, 6)),
    SAME("node.k8s.io/v1beta1", "RuntimeClass", KV(1, 22), KV(1, 25), "node.k8s.io/v1", KV(1, 20)),
};

const size_t cv_nrules = sizeof cv_rules / sizeof *cv_rules;
