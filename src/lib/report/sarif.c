/* SARIF 2.1.0 (OASIS) for CI code scanning (GitHub, GitLab): one run, tool.driver "kubevet" with
 * a rule per finding ID present, one result per finding. A result gets a physical location when
 * the finding carries the `file` (and `line`) fields, as the manifest checks do; findings about
 * other subjects are results without locations, which SARIF allows. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonx.h"
#include "buf.h"
#include "error.h"
#include "kubevet/report.h"
#include "kv_version.h"

static const char *level_of(vet_severity s)
{
    return s == VET_SEV_CRITICAL ? "error" : s == VET_SEV_WARNING ? "warning" : "note";
}

/* RFC 3986 URI reference for a path: relative paths stay relative (resolved against the
 * repository root by code-scanning services), absolute ones become file:// URIs. */
static char *path_uri(const char *path)
{
    vet_buf b = VET_BUF_INIT;
    if (path[0] == '/' && vet_buf_puts(&b, "file://"))
        goto oom;
    if (path[0] == '.' && path[1] == '/')
        path += 2;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int ok = isalnum(*p) || strchr("/-._~!$&'()*+,;=:@", *p);
        if (ok ? vet_buf_put(&b, p, 1) : vet_buf_printf(&b, "%%%02X", *p))
            goto oom;
    }
    return vet_buf_detach(&b);
oom:
    vet_buf_free(&b);
    return NULL;
}

int vet_report_render_sarif(const vet_report *r, FILE *out)
{
    json_t *root = json_object(), *run = json_object(), *driver = json_object();
    json_t *rules = json_array(), *results = json_array(), *inv = json_object();
    json_t *notes = json_array();
    int rc = 0;
    if (!root || !run || !driver || !rules || !results || !inv || !notes) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set_new(driver, "name", json_string("kubevet"));
    json_object_set_new(driver, "version", json_string(KV_VERSION));
    json_object_set_new(driver, "informationUri",
                        json_string("https://github.com/kubevet/kubevet"));
    for (size_t i = 0; i < r->nfindings; i++) {
        const vet_finding *f = &r->findings[i];
        json_t *res = json_object(), *msg = json_object(), *file, *line;
        size_t ri;
        /* rule index: first occurrence order */
        for (ri = 0; ri < json_array_size(rules); ri++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(rules, ri), "id")), f->id))
                break;
        if (ri == json_array_size(rules)) {
            json_t *rule = json_object(), *sd = json_object(), *cfg = json_object();
            json_object_set_new(rule, "id", json_string(f->id));
            json_object_set_new(rule, "name", json_string(f->name ? f->name : f->id));
            json_object_set_new(sd, "text", json_string(f->name ? f->name : f->id));
            json_object_set_new(rule, "shortDescription", sd);
            json_object_set_new(cfg, "level", json_string(level_of(f->severity)));
            json_object_set_new(rule, "defaultConfiguration", cfg);
            json_array_append_new(rules, rule);
        }
        json_object_set_new(res, "ruleId", json_string(f->id));
        json_object_set_new(res, "ruleIndex", json_integer((json_int_t)ri));
        json_object_set_new(res, "level", json_string(level_of(f->severity)));
        {
            vet_buf t = VET_BUF_INIT;
            vet_buf_printf(&t, "%s: %s", f->subject, f->message ? f->message : "");
            if (f->cause)
                vet_buf_printf(&t, " (caused by %s)", f->cause);
            if (f->fix && *f->fix)
                vet_buf_printf(&t, " Fix: %s", f->fix);
            json_object_set_new(msg, "text", json_string(t.ptr ? t.ptr : f->subject));
            vet_buf_free(&t);
        }
        json_object_set_new(res, "message", msg);
        file = f->fields ? json_object_get(f->fields, "file") : NULL;
        line = f->fields ? json_object_get(f->fields, "line") : NULL;
        if (json_is_string(file)) {
            char *uri = path_uri(json_string_value(file));
            json_t *loc = json_object(), *phys = json_object(), *art = json_object();
            json_object_set_new(art, "uri", json_string(uri ? uri : ""));
            free(uri);
            json_object_set_new(phys, "artifactLocation", art);
            if (json_is_integer(line) && json_integer_value(line) > 0) {
                json_t *region = json_object();
                json_object_set_new(region, "startLine", json_integer(json_integer_value(line)));
                json_object_set_new(phys, "region", region);
            }
            json_object_set_new(loc, "physicalLocation", phys);
            json_object_set_new(res, "locations", json_pack("[o]", loc));
        }
        {
            /* stable identity across runs for de-duplication by code-scanning services */
            json_t *fp = json_object();
            vet_buf t = VET_BUF_INIT;
            vet_buf_printf(&t, "%s:%s", f->id, f->subject);
            json_object_set_new(fp, "kubevet/v1", json_string(t.ptr ? t.ptr : f->id));
            vet_buf_free(&t);
            json_object_set_new(res, "partialFingerprints", fp);
        }
        json_array_append_new(results, res);
    }
    json_object_set_new(driver, "rules", rules);
    rules = NULL;
    json_object_set_new(run, "tool", json_pack("{s:o}", "driver", driver));
    driver = NULL;
    json_object_set_new(run, "results", results);
    results = NULL;
    for (size_t i = 0; i < r->errors.n; i++) {
        json_t *n = json_object(), *m = json_object();
        json_object_set_new(m, "text", json_string(r->errors.v[i]));
        json_object_set_new(n, "message", m);
        json_object_set_new(n, "level", json_string("error"));
        json_array_append_new(notes, n);
    }
    json_object_set_new(inv, "executionSuccessful", json_boolean(r->errors.n == 0));
    json_object_set_new(inv, "toolExecutionNotifications", notes);
    notes = NULL;
    json_object_set_new(run, "invocations", json_pack("[o]", inv));
    inv = NULL;
    json_object_set_new(root, "$schema",
                        json_string("https://json.schemastore.org/sarif-2.1.0.json"));
    json_object_set_new(root, "version", json_string("2.1.0"));
    json_object_set_new(root, "runs", json_pack("[o]", run));
    run = NULL;
    if (vet_json_dumpf(root, out))
        rc = vet_error_set(VET_EIO, "cannot write output");
    fputc('\n', out);
done:
    json_decref(root);
    json_decref(run);
    json_decref(driver);
    json_decref(rules);
    json_decref(results);
    json_decref(inv);
    json_decref(notes);
    return rc;
}
