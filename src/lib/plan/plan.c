/* The plan as data: actions with their reasons, refusals, and the JSON form. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "fs.h"
#include "plan_int.h"

static char *dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

int vet_plan_new(vet_plan **out, const char *root, const char *title, const char *backup_parent)
{
    vet_plan *p = calloc(1, sizeof *p);
    size_t l;
    *out = NULL;
    if (!p)
        return vet_error_set(VET_ENOMEM, "out of memory");
    p->root = strdup(root && *root ? root : "/");
    p->title = strdup(title ? title : "plan");
    p->backup_parent = strdup(backup_parent ? backup_parent : "etc/kubernetes");
    if (!p->root || !p->title || !p->backup_parent) {
        vet_plan_free(p);
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    l = strlen(p->root);
    while (l > 1 && p->root[l - 1] == '/')
        p->root[--l] = '\0';
    *out = p;
    return 0;
}

static void action_clear(vet_action *a)
{
    free(a->finding_id);
    free(a->finding_subject);
    free(a->why);
    free(a->path);
    if (a->data && (a->flags & VET_WRITE_SECRET))
        memset(a->data, 0, a->len); /* key bytes do not linger in freed memory */
    free(a->data);
    free(a->summary);
    free(a->api_kind);
    free(a->api_namespace);
    free(a->api_name);
    free(a->api_resource_version);
    free(a->api_body);
    free(a->api_current);
    free(a->op);
    free(a->command);
    free(a->diff_label);
    free(a->diff_before);
    free(a->diff_after);
    memset(a, 0, sizeof *a);
}

void vet_plan_free(vet_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        action_clear(&p->v[i]);
    free(p->v);
    free(p->root);
    free(p->title);
    free(p->backup_parent);
    free(p->refused);
    vet_strv_free(&p->alternatives);
    free(p);
}

const char *vet_plan_root(const vet_plan *p)
{
    return p->root;
}

size_t vet_plan_count(const vet_plan *p)
{
    return p ? p->n : 0;
}

const vet_action *vet_plan_action(const vet_plan *p, size_t i)
{
    return p && i < p->n ? &p->v[i] : NULL;
}

char *plan_host_path(const vet_plan *p, const char *rel)
{
    if (!strcmp(rel, ".")) /* the root itself (a backup parent at the root) */
        return strdup(p->root);
    if (!strcmp(p->root, "/"))
        return vet_strdupf("/%s", rel);
    return vet_strdupf("%s/%s", p->root, rel);
}

static vet_action *push(vet_plan *p, vet_action_kind kind, const char *id, const char *subject,
                        const char *why)
{
    vet_action *a;
    if (p->refused) {
        vet_error_set(VET_EINPUT, "%s: the plan was refused; no action can be added", p->title);
        return NULL;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        vet_action *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            vet_error_set(VET_ENOMEM, "out of memory");
            return NULL;
        }
        p->v = v;
        p->cap = cap;
    }
    a = &p->v[p->n];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->uid = a->gid = -1;
    a->finding_id = dup0(id);
    a->finding_subject = dup0(subject);
    a->why = dup0(why);
    return a;
}

/* Paths are relative to the root and never climb out of it: the executor writes exactly where
 * the plan says, and a plan built from hostile input must not reach /etc/shadow. */
static int check_rel(char **out, const char *path)
{
    const char *s = path;
    while (*s == '/')
        s++;
    if (!*s || strchr(s, '\n'))
        return vet_error_set(VET_EINPUT, "plan: invalid path \"%s\"", path);
    for (const char *c = s; *c;) {
        size_t l = strcspn(c, "/");
        if ((l == 2 && !strncmp(c, "..", 2)) || (l == 1 && *c == '.'))
            return vet_error_set(VET_EINPUT, "plan: path %s leaves the root", path);
        c += l;
        while (*c == '/')
            c++;
    }
    if (!(*out = strdup(s)))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

int vet_plan_add_write(vet_plan *p, const char *path, const void *data, size_t len, unsigned mode,
                       int flags, const char *summary, const char *finding_id,
                       const char *finding_subject, const char *why)
{
    char *rel = NULL;
    vet_action *a;
    int rc = check_rel(&rel, path);
    if (rc)
        return rc;
    if (!(a = push(p, VET_ACT_WRITE, finding_id, finding_subject, why))) {
        free(rel);
        return VET_ENOMEM;
    }
    a->path = rel;
    a->data = malloc(len ? len : 1);
    a->summary = dup0(summary);
    a->len = len;
    a->mode = mode & 07777;
    a->flags = flags;
    p->n++;
    if (!a->data)
        return vet_error_set(VET_ENOMEM, "out of memory");
    memcpy(a->data, data, len);
    return 0;
}

int vet_plan_add_remove(vet_plan *p, const char *path, const char *why)
{
    char *rel = NULL;
    vet_action *a;
    int rc = check_rel(&rel, path);
    if (rc)
        return rc;
    if (!(a = push(p, VET_ACT_REMOVE, NULL, NULL, why))) {
        free(rel);
        return VET_ENOMEM;
    }
    a->path = rel;
    p->n++;
    return 0;
}

void vet_plan_set_owner(vet_plan *p, long uid, long gid)
{
    if (p->n && p->v[p->n - 1].kind == VET_ACT_WRITE) {
        p->v[p->n - 1].uid = uid;
        p->v[p->n - 1].gid = gid;
    }
}

/* An API action naming kind ns/name with body (counted in the plan once its fields are set). */
static vet_action *api_push(vet_plan *p, vet_action_kind k, const char *kind, const char *ns,
                            const char *name, const char *body, const char *finding_id,
                            const char *finding_subject, const char *why)
{
    vet_action *a = push(p, k, finding_id, finding_subject, why);
    if (!a)
        return NULL;
    a->api_kind = dup0(kind);
    a->api_namespace = dup0(ns);
    a->api_name = dup0(name);
    a->api_body = dup0(body);
    p->n++;
    return a;
}

int vet_plan_add_api_update(vet_plan *p, const char *kind, const char *ns, const char *name,
                            const char *resource_version, const char *body, const char *command,
                            const char *finding_id, const char *finding_subject, const char *why)
{
    vet_action *a =
        api_push(p, VET_ACT_API_UPDATE, kind, ns, name, body, finding_id, finding_subject, why);
    if (!a)
        return VET_ENOMEM;
    a->api_resource_version = dup0(resource_version);
    a->command = dup0(command);
    return 0;
}

int vet_plan_add_api_create(vet_plan *p, const char *kind, const char *ns, const char *name,
                            const char *body, const char *finding_id, const char *finding_subject,
                            const char *why)
{
    vet_action *a =
        api_push(p, VET_ACT_API_CREATE, kind, ns, name, body, finding_id, finding_subject, why);
    if (!a)
        return VET_ENOMEM;
    if (!a->api_kind || !a->api_name || !a->api_body)
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

int vet_plan_set_diff(vet_plan *p, const char *label, const char *before, const char *after)
{
    vet_action *a = p->n ? &p->v[p->n - 1] : NULL;
    if (!a || (a->kind != VET_ACT_API_CREATE && a->kind != VET_ACT_API_UPDATE))
        return vet_error_set(VET_EINPUT, "plan: a diff belongs to an API action");
    a->diff_label = dup0(label ? label : a->api_name);
    a->diff_before = dup0(before);
    a->diff_after = dup0(after);
    if (!a->diff_label || (before && !a->diff_before) || (after && !a->diff_after))
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

int vet_plan_set_api_current(vet_plan *p, const char *current)
{
    vet_action *a = p->n ? &p->v[p->n - 1] : NULL;
    if (!a || a->kind != VET_ACT_API_UPDATE)
        return vet_error_set(VET_EINPUT, "plan: no API update to attach the current object to");
    free(a->api_current);
    if (!(a->api_current = dup0(current)) && current)
        return vet_error_set(VET_ENOMEM, "out of memory");
    return 0;
}

int vet_plan_add_command(vet_plan *p, const char *command, const char *finding_id,
                         const char *finding_subject, const char *why)
{
    vet_action *a = push(p, VET_ACT_COMMAND, finding_id, finding_subject, why);
    if (!a)
        return VET_ENOMEM;
    a->command = dup0(command);
    p->n++;
    return a->command || !command ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

int vet_plan_add_call(vet_plan *p, const char *op, const char *command, const char *why)
{
    vet_action *a = push(p, VET_ACT_CALL, NULL, NULL, why);
    if (!a)
        return VET_ENOMEM;
    a->op = dup0(op);
    a->command = dup0(command);
    p->n++;
    return a->op && (a->command || !command) ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

int vet_plan_refuse(vet_plan *p, const char *reason, const char *const *alternatives, size_t n)
{
    for (size_t i = 0; i < p->n; i++)
        action_clear(&p->v[i]);
    p->n = 0;
    free(p->refused);
    vet_strv_free(&p->alternatives);
    if (!(p->refused = strdup(reason ? reason : "refused")))
        return vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (vet_strv_push(&p->alternatives, alternatives[i]))
            return VET_ENOMEM;
    return 0;
}

const char *vet_plan_refused(const vet_plan *p)
{
    return p ? p->refused : NULL;
}

static const char *kind_name(vet_action_kind k)
{
    switch (k) {
    case VET_ACT_WRITE:
        return "write";
    case VET_ACT_REMOVE:
        return "remove";
    case VET_ACT_API_UPDATE:
        return "api-update";
    case VET_ACT_COMMAND:
        return "command";
    case VET_ACT_CALL:
        return "call";
    case VET_ACT_API_CREATE:
        return "api-create";
    }
    return "?";
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

static char *read_current(const vet_plan *p, const char *rel, vet_buf *b)
{
    char *host = plan_host_path(p, rel);
    if (host && vet_fs_read(b, host, VET_FS_DEFAULT_CAP) != 0) {
        vet_error_clear();
        vet_buf_free(b);
        free(host);
        return NULL;
    }
    free(host);
    return b->ptr ? b->ptr : "";
}

json_t *vet_plan_to_json(const vet_plan *p)
{
    json_t *o = json_object(), *acts = json_array(), *alts = json_array();
    set_str(o, "title", p->title);
    set_str(o, "root", p->root);
    json_object_set_new(o, "refused", p->refused ? json_string(p->refused) : json_null());
    for (size_t i = 0; i < p->alternatives.n; i++)
        json_array_append_new(alts, json_string(p->alternatives.v[i]));
    json_object_set_new(o, "alternatives", alts);
    for (size_t i = 0; i < p->n; i++) {
        const vet_action *a = &p->v[i];
        json_t *j = json_object(), *reason = json_object();
        json_object_set_new(j, "kind", json_string(kind_name(a->kind)));
        set_str(reason, "finding", a->finding_id);
        set_str(reason, "subject", a->finding_subject);
        set_str(reason, "why", a->why);
        json_object_set_new(j, "reason", reason);
        set_str(j, "path", a->path);
        if (a->kind == VET_ACT_WRITE) {
            char mode[8];
            vet_buf cur = VET_BUF_INIT;
            char *diff = NULL;
            const char *old = read_current(p, a->path, &cur);
            snprintf(mode, sizeof mode, "%04o", a->mode);
            json_object_set_new(j, "mode", json_string(mode));
            json_object_set_new(j, "size", json_integer((json_int_t)a->len));
            json_object_set_new(j, "exists", json_boolean(old != NULL));
            if (a->uid >= 0)
                json_object_set_new(j, "uid", json_integer(a->uid));
            if (a->gid >= 0)
                json_object_set_new(j, "gid", json_integer(a->gid));
            json_object_set_new(j, "private_key", json_boolean(a->flags & VET_WRITE_SECRET));
            set_str(j, "summary", a->summary);
            if (!(a->flags & VET_WRITE_SECRET) &&
                !plan_diff(&diff, a->path, (const unsigned char *)old, old ? cur.size : 0, a->data,
                           a->len))
                set_str(j, "diff", diff);
            free(diff);
            vet_buf_free(&cur);
        }
        if (a->kind == VET_ACT_API_UPDATE || a->kind == VET_ACT_API_CREATE) {
            json_t *obj = json_object();
            char *diff = NULL;
            set_str(obj, "kind", a->api_kind);
            set_str(obj, "namespace", a->api_namespace);
            set_str(obj, "name", a->api_name);
            set_str(obj, "resourceVersion", a->api_resource_version);
            json_object_set_new(j, "object", obj);
            /* A Secret's data is shown by no renderer (helm map's release records hold the
             * chart's values, passwords included): its size only, as for a private key. */
            if (a->api_kind && !strcmp(a->api_kind, "Secret"))
                json_object_set_new(
                    j, "body_bytes",
                    json_integer(a->api_body ? (json_int_t)strlen(a->api_body) : 0));
            else
                set_str(j, "body", a->api_body);
            if ((a->diff_label || (a->api_body && a->api_current)) && !plan_api_diff(&diff, a))
                set_str(j, "diff", diff);
            free(diff);
        }
        set_str(j, "command", a->command);
        set_str(j, "op", a->op);
        json_array_append_new(acts, j);
    }
    json_object_set_new(o, "actions", acts);
    return o;
}

int vet_plan_render_text(const vet_plan *p, FILE *out)
{
    size_t cmds = 0;
    if (p->refused) {
        fputs("Refused: ", out);
        vet_text_fputs(p->refused, out, 0);
        fputc('\n', out);
        if (p->alternatives.n)
            fprintf(out, "\nWhat is safe instead:\n");
        for (size_t i = 0; i < p->alternatives.n; i++) {
            fputs("  ", out);
            vet_text_fputs(p->alternatives.v[i], out, 0);
            fputc('\n', out);
        }
        return 0;
    }
    if (!p->n) {
        fprintf(out, "Nothing to change.\n");
        return 0;
    }
    for (size_t i = 0; i < p->n; i++) {
        const vet_action *a = &p->v[i];
        fprintf(out, "%zu. ", i + 1);
        if (a->kind == VET_ACT_WRITE) {
            vet_buf cur = VET_BUF_INIT;
            const char *old = read_current(p, a->path, &cur);
            fprintf(out, "%s %s (%04o)", old ? "rewrite" : "create", a->path, a->mode);
            vet_buf_free(&cur);
        } else if (a->kind == VET_ACT_API_CREATE) {
            fprintf(out, "create %s %s%s%s", a->api_kind, a->api_namespace ? a->api_namespace : "",
                    a->api_namespace ? "/" : "", a->api_name);
        } else if (a->kind == VET_ACT_REMOVE) {
            fprintf(out, "remove %s", a->path);
        } else if (a->kind == VET_ACT_API_UPDATE) {
            fprintf(out, "update %s %s%s%s at resourceVersion %s", a->api_kind,
                    a->api_namespace ? a->api_namespace : "", a->api_namespace ? "/" : "",
                    a->api_name,
                    a->api_resource_version ? a->api_resource_version : "(the current one)");
        } else if (a->kind == VET_ACT_COMMAND && !a->command) {
            /* A step in words: the sentence is the step. */
            vet_text_fputs(a->why ? a->why : "", out, 0);
            fputc('\n', out);
            cmds++;
            continue;
        } else {
            fprintf(out, "%s", a->kind == VET_ACT_CALL ? "kubevet runs (with --apply)" : "run");
        }
        if (a->why) {
            fputs("  # ", out);
            vet_text_fputs(a->why, out, 0);
        }
        if (a->finding_id)
            fprintf(out, "%s(fixes %s%s%s)", a->why ? " " : "  # ", a->finding_id,
                    a->finding_subject ? " " : "", a->finding_subject ? a->finding_subject : "");
        fputc('\n', out);
        if (a->summary && !(a->flags & VET_WRITE_SECRET))
            fprintf(out, "   %s\n", a->summary);
        if (a->kind == VET_ACT_WRITE) {
            vet_buf cur = VET_BUF_INIT;
            const char *old = read_current(p, a->path, &cur);
            char *diff = NULL;
            if (a->flags & VET_WRITE_SECRET) {
                if (old && cur.size == a->len && !memcmp(old, a->data, a->len))
                    fprintf(out, "   private key unchanged (%04o)\n", a->mode);
                else if (a->summary)
                    fprintf(out, "   %s (%04o)\n", a->summary, a->mode);
                else
                    fprintf(out, "   new private key (%04o)\n", a->mode);
            } else if (!plan_diff(&diff, a->path, (const unsigned char *)old, old ? cur.size : 0,
                                  a->data, a->len)) {
                fputs(diff, out);
            }
            free(diff);
            vet_buf_free(&cur);
        }
        if (a->diff_label || (a->kind == VET_ACT_API_UPDATE && a->api_body && a->api_current)) {
            /* kubevet makes this change itself with --apply: show what changes, not the
             * command an operator would type without it. */
            char *diff = NULL;
            if (!plan_api_diff(&diff, a))
                fputs(diff, out);
            free(diff);
            if (!a->diff_label)
                continue;
        }
        if (a->command && a->kind != VET_ACT_WRITE && a->kind != VET_ACT_REMOVE) {
            fputs("   $ ", out);
            vet_text_fputs(a->command, out, 0);
            fputc('\n', out);
        }
        /* an API update is the operator's when it comes with the command that does it */
        if (a->kind == VET_ACT_COMMAND || (a->kind == VET_ACT_API_UPDATE && a->command))
            cmds++;
    }
    if (cmds)
        fprintf(out,
                "\n%zu step(s) are for the operator: kubevet prints them, it does not run "
                "them.\n",
                cmds);
    return 0;
}
