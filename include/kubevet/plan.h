/* The plan/apply engine: every command that changes anything builds a plan (data), and hands
 * it either to the renderer (dry-run diff, JSON) or to the one executor (backup folder first,
 * atomic writes, verification after each step, rollback of what was done when a step fails).
 *
 * A plan is an ordered list of actions, each with the reason it exists (the finding it fixes):
 *   - write a file (bytes, mode, owner) under the plan's root,
 *   - remove a file (what `restore` does for files that did not exist before),
 *   - update a Kubernetes API object at a resourceVersion (applied through a hook when an API
 *     client is given; otherwise shown as the command the operator runs),
 *   - create a Kubernetes API object (undone by deleting it again),
 *   - a command for the operator to run.
 * A refused plan holds no actions: only the reason and the safe alternatives. */
#ifndef KUBEVET_PLAN_H
#define KUBEVET_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    VET_ACT_WRITE,      /* write path (bytes, mode, owner) atomically */
    VET_ACT_REMOVE,     /* remove path (a file that did not exist before a backup) */
    VET_ACT_API_UPDATE, /* update an API object at a resourceVersion */
    VET_ACT_COMMAND,    /* a command for the operator; never run by the executor */
    VET_ACT_CALL,       /* an operation outside files and the API (etcd member add/remove),
                         * performed by opts->call; `command` is its shell equivalent */
    VET_ACT_API_CREATE  /* create an API object (api_body); the undo deletes it */
} vet_action_kind;

enum {
    VET_WRITE_SECRET = 1, /* the file is a private key: never render its bytes */
    /* The file records the way back from the plan's API changes (helm map's saved records): it
     * must not exist yet, so there is nothing to save in the backup folder, and it stays when the
     * plan rolls back (an undo that failed leaves it as the way back). */
    VET_WRITE_KEEP = 2
};

typedef struct {
    vet_action_kind kind;
    /* Why: the finding it fixes (ID + subject; either may be NULL) and one line of text. */
    char *finding_id, *finding_subject, *why;
    /* write / remove */
    char *path;          /* relative to the plan's root, no "..", never a symlink when applied */
    unsigned char *data; /* bytes to write (owned) */
    size_t len;
    unsigned mode; /* permission bits */
    long uid, gid; /* owner; -1 keeps the existing file's owner (or the writer's for a new one) */
    int flags;     /* VET_WRITE_* */
    char *summary; /* one line describing the new content ("CN=kube-apiserver until ...") */
    /* API update */
    char *api_kind, *api_namespace, *api_name, *api_resource_version;
    char *api_body;    /* the object to PUT (JSON or YAML text) */
    char *api_current; /* the object as read when the plan was made (JSON), or NULL */
    /* API update (as the fallback) and command */
    char *command;
    /* call: what the hook performs ("etcd-member-add"); the hook's own data says with what */
    char *op;
    /* API create/update: what the object holds, in words, before and after (a manifest);
     * rendered as a diff under `diff_label`. NULL when not set. */
    char *diff_label, *diff_before, *diff_after;
} vet_action;

typedef struct vet_plan vet_plan;

/* A new empty plan for files under `root` ("/" for the host). `title` names the command
 * ("certs renew"). Backups go to <root>/<backup_parent>/kubevet-backup-<UTC time>/;
 * backup_parent NULL means "etc/kubernetes". */
int vet_plan_new(vet_plan **out, const char *root, const char *title, const char *backup_parent);
void vet_plan_free(vet_plan *p);

const char *vet_plan_root(const vet_plan *p);
size_t vet_plan_count(const vet_plan *p);
const vet_action *vet_plan_action(const vet_plan *p, size_t i);

/* Append actions. Strings and bytes are copied. path is relative to the root (a leading '/' is
 * dropped); one that climbs out ("..") is refused with VET_EINPUT. */
int vet_plan_add_write(vet_plan *p, const char *path, const void *data, size_t len, unsigned mode,
                       int flags, const char *summary, const char *finding_id,
                       const char *finding_subject, const char *why);
int vet_plan_add_remove(vet_plan *p, const char *path, const char *why);
/* Set the owner of the last action added (a write). */
void vet_plan_set_owner(vet_plan *p, long uid, long gid);
/* `command` is what the operator runs while no API client applies the update
 * (e.g. a kubectl replace with the body on stdin). */
int vet_plan_add_api_update(vet_plan *p, const char *kind, const char *ns, const char *name,
                            const char *resource_version, const char *body, const char *command,
                            const char *finding_id, const char *finding_subject, const char *why);
/* Create an object (kind ConfigMap or Secret for the Kubernetes hooks) from `body` (JSON). */
int vet_plan_add_api_create(vet_plan *p, const char *kind, const char *ns, const char *name,
                            const char *body, const char *finding_id, const char *finding_subject,
                            const char *why);
/* Show what the last action (an API create or update) changes as a diff of before -> after
 * (either may be NULL: nothing). Strings are copied. */
int vet_plan_set_diff(vet_plan *p, const char *label, const char *before, const char *after);
/* The object the last API update starts from (JSON, as read): the renderers then show the
 * update as a diff of its data (one per changed key), not as the fallback command. */
int vet_plan_set_api_current(vet_plan *p, const char *current);
/* command NULL: a step in words (`why`), such as "wait until ..." or a step on another node
 * that needs the operator's judgement; rendered as the sentence alone. */
int vet_plan_add_command(vet_plan *p, const char *command, const char *finding_id,
                         const char *finding_subject, const char *why);
/* An operation opts->call performs when the plan is applied (without it, apply fails before
 * changing anything); `command` is shown in the plan as what it amounts to. */
int vet_plan_add_call(vet_plan *p, const char *op, const char *command, const char *why);

/* Refuse the plan: every action is dropped; only `reason` (one line) and the alternatives
 * (commands or advice that are safe in this state) remain. */
int vet_plan_refuse(vet_plan *p, const char *reason, const char *const *alternatives, size_t n);
/* The refusal reason, or NULL when the plan is not refused. */
const char *vet_plan_refused(const vet_plan *p);

/* Text: per action its reason, and per file a unified diff against what is on disk now
 * (PEM blocks and long base64 values shown as one line each; private keys never shown, only
 * "new private key (0600)"). A refused plan prints the reason and the alternatives only. */
int vet_plan_render_text(const vet_plan *p, FILE *out);
/* {"title","root","refused","alternatives","actions":[{kind,path,mode,reason,diff,...}]}; an API
 * action carries the object's "body", except a Secret's: "body_bytes" (its length) instead. */
json_t *vet_plan_to_json(const vet_plan *p);

/* Called after each applied step (step index) and once after the last one (step ==
 * vet_plan_count). Non-zero (with vet_error_set) makes the executor roll back. */
typedef int (*vet_plan_verify_fn)(const vet_plan *p, size_t step, void *arg);
/* Applies an API update action; absent = such actions are left to the operator. Once the
 * object has been changed (even when a later check of it fails), *undo receives what puts it
 * back (malloc'd; for the Kubernetes client, the original object at the new resourceVersion),
 * which the executor hands to api_undo when a later step fails. */
typedef int (*vet_plan_api_fn)(const vet_action *a, char **undo, void *arg);
typedef int (*vet_plan_api_undo_fn)(const vet_action *a, const char *undo, void *arg);

typedef struct {
    vet_plan_verify_fn verify;
    vet_plan_api_fn api;
    void *arg;
    int64_t now; /* names the backup folder; 0 = time(NULL) */
    vet_plan_api_undo_fn api_undo;
    void *api_arg;        /* for api and api_undo (arg stays the verify hook's) */
    vet_plan_api_fn call; /* performs VET_ACT_CALL actions (undo: as for api) */
    vet_plan_api_undo_fn call_undo;
    void *call_arg;
} vet_plan_apply_opts;

typedef struct {
    char *backup_dir;    /* host path of the backup folder (NULL when none was made) */
    size_t applied;      /* steps applied and kept */
    int rolled_back;     /* 1 when a failure undid the steps already done */
    int rollback_failed; /* 1 when undoing failed too: the backup folder is the way back */
} vet_plan_result;

/* The API hooks for a Kubernetes client (pass the vet_k8s as opts->api_arg). Applying one
 * update: GET the object; its resourceVersion must still be the plan's (else VET_K8S_ECONFLICT,
 * "changed since the plan was made"); PUT the body at that resourceVersion (a 409 is an error,
 * never retried); GET it again and compare every field the body sets (data, spec, ...).
 * The undo text is the original object at the resourceVersion the PUT produced, so putting it
 * back fails (409) rather than overwrite someone else's later change. Creating one: POST the
 * body, GET it and compare the same way; the undo deletes it. A write whose answer was lost (a
 * dropped connection) is looked up: when the object reads back as written, it landed. Kinds:
 * ConfigMap, Secret (namespaced core/v1). */
struct vet_k8s;
int vet_plan_api_k8s(const vet_action *a, char **undo, void *k8s);
int vet_plan_api_k8s_undo(const vet_action *a, const char *undo, void *k8s);

/* Apply: back up every file the plan touches (bytes, mode, owner; MANIFEST lists them and
 * those that did not exist), then each action in order through the atomic writer, verifying
 * each (bytes and mode read back, then opts->verify). On any failure, the steps done are undone
 * (API updates through opts->api_undo, newest first, then files from the backup), the error
 * stays in vet_error_last() and is returned. Command actions and API
 * updates without opts->api are not run: the caller prints them. res is filled either way. */
int vet_plan_apply(vet_plan *p, const vet_plan_apply_opts *opts, vet_plan_result *res);
void vet_plan_result_clear(vet_plan_result *res);

/* A plan that puts the backup in `backup_dir` back: writes of the saved bytes, modes and owners,
 * removal of the files that did not exist then. The root is derived from the backup's location
 * unless `root` is given. VET_EINPUT when the folder is not a kubevet backup. */
int vet_plan_from_backup(vet_plan **out, const char *backup_dir, const char *root);

/* Restart static pods: move each manifest (<root>/etc/kubernetes/manifests/<name>.yaml) into a
 * side folder, wait `wait_seconds` for the kubelet to stop the pod, move it back. Manifests
 * that do not exist are skipped. */
int vet_plan_restart_static_pods(const char *root, const char *const *names, size_t n,
                                 unsigned wait_seconds);
/* The same with the waits given by the caller, the way kubeadm watches the mirror pods:
 * wait(arg, 0) runs while the manifests are out (instead of the fixed wait; it returns when
 * the kubelet stopped the pods), wait(arg, 1) once they are back (it returns when they run
 * again). The manifests are moved back whatever wait(arg, 0) returns; the first non-zero is
 * returned. wait NULL: the fixed wait. */
int vet_plan_restart_static_pods_wait(const char *root, const char *const *names, size_t n,
                                      unsigned wait_seconds, int (*wait)(void *arg, int back),
                                      void *arg);

#endif
