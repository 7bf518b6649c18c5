/* certs renew --restart-static-pods: the manifests go out and back through the plan module;
 * the waits watch the mirror pods the way kubeadm's upgrade does (its waiter polls
 * kube-system/<component>-<node name> until the kubernetes.io/config.hash annotation differs
 * from the one before). Without a usable kubeconfig the waits are fixed, and the output says
 * so. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_certs_renew.h"
#include "error.h"
#include "fs.h"
#include "kubevet/k8s.h"

#define HASH_ANNOTATION "kubernetes.io/config.hash"
#define POLL_MS 200

typedef struct {
    char *name;       /* mirror pod: "<component>-<node name>" */
    char *hash, *uid; /* before the restart ("" when the pod was not there) */
    int done;         /* this phase saw what it waits for */
    char *new_hash;   /* after */
    double took;      /* seconds from the manifest's return to the new pod */
} mirror;

typedef struct {
    vet_k8s *c;
    mirror *v;
    size_t n;
    unsigned out_wait, timeout;
    double t_back;
} watch;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
    struct timespec ts = {0, POLL_MS * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *str_or_empty(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* The mirror pod's config hash and uid: 0, VET_ENOTFOUND (no such pod), or an error. */
static int pod_state(char **hash, char **uid, vet_k8s *c, const char *pod)
{
    char *path = vet_strdupf("/api/v1/namespaces/kube-system/pods/%s", pod);
    json_t *o = NULL, *md;
    int rc;
    *hash = *uid = NULL;
    if (!path)
        return vet_error_set(VET_ENOMEM, "out of memory");
    rc = vet_k8s_get(&o, c, path);
    free(path);
    if (rc)
        return rc;
    md = json_object_get(o, "metadata");
    *hash =
        strdup(str_or_empty(json_object_get(json_object_get(md, "annotations"), HASH_ANNOTATION)));
    *uid = strdup(str_or_empty(json_object_get(md, "uid")));
    json_decref(o);
    if (!*hash || !*uid) {
        free(*hash);
        free(*uid);
        *hash = *uid = NULL;
        return vet_error_set(VET_ENOMEM, "out of memory");
    }
    return 0;
}

/* Phase 0 (manifests out): until every mirror pod is gone or changed, at most out_wait (the
 * kubelet's file check period: what the fixed wait was). Phase 1 (back): until every mirror
 * pod exists with another config hash (a changed manifest) or another uid (the kubelet
 * recreated it: the same manifest keeps its hash), at most `timeout`. */
static int wait_pods(void *arg, int back)
{
    watch *w = arg;
    double t0 = mono(), limit = back ? w->timeout : w->out_wait;
    if (back)
        w->t_back = t0;
    for (size_t i = 0; i < w->n; i++)
        w->v[i].done = 0;
    for (;;) {
        size_t left = 0;
        for (size_t i = 0; i < w->n; i++) {
            mirror *m = &w->v[i];
            char *h = NULL, *u = NULL;
            int rc;
            if (m->done)
                continue;
            rc = pod_state(&h, &u, w->c, m->name);
            if (rc == VET_ENOTFOUND)
                m->done = !back;
            else if (!rc && (strcmp(h, m->hash) || strcmp(u, m->uid))) {
                m->done = 1;
                if (back) {
                    m->new_hash = h;
                    h = NULL;
                    m->took = mono() - w->t_back;
                }
            }
            /* Other errors (a restarting apiserver answers nothing for a while): poll on. */
            vet_error_clear();
            free(h);
            free(u);
            left += !m->done;
        }
        if (!left)
            return 0;
        if (mono() - t0 >= limit)
            break;
        nap();
    }
    if (!back)
        return 0; /* the fixed bound passed: move the manifests back as before */
    for (size_t i = 0; i < w->n; i++)
        if (!w->v[i].done)
            return vet_error_set(VET_ENET,
                                 "pod kube-system/%s: the mirror pod's %s did not change within "
                                 "%us after its manifest came back (is the kubelet running? the "
                                 "certificates are renewed; the pod may still use the old ones)",
                                 w->v[i].name, HASH_ANNOTATION, w->timeout);
    return 0;
}

/* A client when a kubeconfig is usable: the one named (--kubeconfig/--context), else on the
 * node itself (root /) kubectl's, then kubeadm's admin.conf. A copy of a node under --root
 * never reaches a cluster by accident. NULL with *why set otherwise. */
static vet_k8s *connect_client(cli_globals *g, const renew_run *run, char **why)
{
    vet_k8s *c = NULL;
    const char *named = g->kubeconfig;
    *why = NULL;
    if (!named && !g->context && strcmp(run->root, "/")) {
        *why = strdup("no --kubeconfig for a node under --root");
        return NULL;
    }
    if (!cli_k8s_connect(&c, g))
        return c;
    if (!named && !g->context && vet_fs_exists("/etc/kubernetes/admin.conf")) {
        g->kubeconfig = "/etc/kubernetes/admin.conf";
        if (!cli_k8s_connect(&c, g)) {
            g->kubeconfig = NULL;
            return c;
        }
        g->kubeconfig = NULL;
    }
    *why = strdup(vet_error_last());
    vet_error_clear();
    return NULL;
}

int renew_restart_pods(cli_globals *g, const renew_run *run, const vet_strv *pods,
                       unsigned out_wait, unsigned timeout, int json)
{
    watch w;
    vet_strv present = VET_STRV_INIT;
    char *why = NULL;
    int rc = 0;
    memset(&w, 0, sizeof w);
    w.out_wait = out_wait;
    w.timeout = timeout;
    /* Only the pods whose manifest is here restart. */
    for (size_t i = 0; i < pods->n; i++) {
        char *m = vet_strdupf("%s/etc/kubernetes/manifests/%s.yaml",
                              strcmp(run->root, "/") ? run->root : "", pods->v[i]);
        if (m && vet_fs_exists(m))
            vet_strv_push(&present, pods->v[i]);
        free(m);
    }
    if (!present.n)
        goto done;
    if (!run->node_name)
        why = strdup("this node's name is unknown (give --node-name)");
    else
        w.c = connect_client(g, run, &why);
    if (w.c && !(w.v = calloc(present.n, sizeof *w.v)))
        rc = vet_error_set(VET_ENOMEM, "out of memory");
    for (size_t i = 0; w.c && !rc && i < present.n; i++) {
        mirror *m = &w.v[w.n++];
        int r;
        m->name = vet_strdupf("%s-%s", present.v[i], run->node_name);
        r = m->name ? pod_state(&m->hash, &m->uid, w.c, m->name) : VET_ENOMEM;
        if (r == VET_ENOTFOUND) {
            /* Not running now: any mirror pod that appears is the restarted one. */
            m->hash = strdup("");
            m->uid = strdup("");
            vet_error_clear();
        } else if (r) {
            free(why);
            why = vet_strdupf("pod kube-system/%s: %s", m->name ? m->name : "?", vet_error_last());
            vet_error_clear();
            break;
        }
    }
    if (why) {
        /* Without the API: the fixed wait, and the operator checks the pods. */
        for (size_t i = 0; i < w.n; i++) {
            free(w.v[i].name);
            free(w.v[i].hash);
            free(w.v[i].uid);
        }
        w.n = 0;
        fprintf(stderr,
                "kubevet: note: %s: the manifests stay out a fixed %us and nothing confirms "
                "the restart (check the pods)\n",
                why, out_wait);
        rc = vet_plan_restart_static_pods(run->root, (const char *const *)present.v, present.n,
                                          out_wait);
        if (!rc && !json)
            for (size_t i = 0; i < present.n; i++)
                printf("restarted static pod %s (manifest out for %us and back)\n", present.v[i],
                       out_wait);
        goto done;
    }
    if (rc)
        goto done;
    rc = vet_plan_restart_static_pods_wait(run->root, (const char *const *)present.v, present.n,
                                           out_wait, wait_pods, &w);
    if (!rc && !json)
        for (size_t i = 0; i < w.n; i++)
            printf("restarted static pod %s (mirror pod kube-system/%s: %s %s -> %s, %.1fs "
                   "after its manifest came back)\n",
                   present.v[i], w.v[i].name, HASH_ANNOTATION,
                   *w.v[i].hash ? w.v[i].hash : "(none)", w.v[i].new_hash, w.v[i].took);
done:
    for (size_t i = 0; i < w.n; i++) {
        free(w.v[i].name);
        free(w.v[i].hash);
        free(w.v[i].uid);
        free(w.v[i].new_hash);
    }
    free(w.v);
    vet_k8s_free(w.c);
    vet_strv_free(&present);
    free(why);
    return rc;
}
