/* kubevet ha plan: the single-master -> HA conversion of incident 5 as one plan. The node's
 * part (apiserver certificate with every SAN, the L4 load balancer's configuration, the
 * kubeconfigs' server lines) is written by the plan engine with --apply; the cluster's part
 * (kubeadm-config, kube-proxy, cluster-info) is read from the cluster and applied through the
 * API by the same executor when a kubeconfig is given (--kubeconfig/--context, or one found on
 * a live node), and printed as the operator's commands otherwise; joining the new masters is
 * always the operator's. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "cmd_certs_renew.h"
#include "error.h"
#include "fs.h"
#include "kubevet/k8s.h"
#include "kubevet/plan.h"

static const char synopsis[] =
    "  kubevet ha plan --endpoint HOST:PORT --control-plane NAME=IP... [--lb nginx|haproxy] "
    "[--lb-bind ADDR] [--output-dir DIR] [--root DIR] [--apply]";

static const char description[] =
    "Plans the move from one control-plane node to several behind an L4 load balancer:\n"
    "the apiserver certificate re-issued with the endpoint and every master's name and IP\n"
    "(as 'certs renew apiserver --add-san'), the load balancer's configuration (nginx stream\n"
    "with least_conn, or haproxy mode tcp with /readyz checks) in --output-dir (default\n"
    "<root>/etc/kubernetes), the server line of admin.conf, kubelet.conf,\n"
    "controller-manager.conf and scheduler.conf switched to the endpoint, and the cluster\n"
    "steps: the kubeadm-config (controlPlaneEndpoint, certSANs), kube-proxy and cluster-info\n"
    "ConfigMaps are read and, with --apply, updated through the API when a kubeconfig is\n"
    "named (--kubeconfig, --context; or one is found and --root is /), else printed as commands;\n"
    "joining the masters is always printed. An endpoint on port 6443 is refused while the load "
    "balancer would share its\n"
    "host and port with an apiserver (give --lb-bind with the LB host's own address).";

typedef struct {
    char *name, *ip;
} cp;

static int parse_endpoint(char **host, char **port, const char *ep)
{
    const char *colon;
    if (ep[0] == '[') {
        const char *close = strchr(ep, ']');
        if (!close || close[1] != ':')
            return vet_error_set(VET_EUSAGE, "--endpoint %s: want HOST:PORT", ep);
        *host = vet_strdupf("%.*s", (int)(close - ep - 1), ep + 1);
        colon = close + 1;
    } else {
        colon = strrchr(ep, ':');
        if (!colon || colon == ep)
            return vet_error_set(VET_EUSAGE, "--endpoint %s: want HOST:PORT", ep);
        *host = vet_strdupf("%.*s", (int)(colon - ep), ep);
    }
    {
        char *end = NULL;
        long p = strtol(colon + 1, &end, 10);
        if (!end || *end || p < 1 || p > 65535)
            return vet_error_set(VET_EUSAGE, "--endpoint %s: bad port", ep);
        *port = vet_strdupf("%ld", p);
    }
    return 0;
}

static int is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static char *hostport(const char *host, const char *port)
{
    return strchr(host, ':') ? vet_strdupf("[%s]:%s", host, port)
                             : vet_strdupf("%s:%s", host, port);
}

/* nginx: stream module, least_conn, passive checks only (open-source nginx), no TLS. */
static void nginx_conf(vet_buf *b, const cp *cps, size_t n, const char *listen)
{
    vet_buf_printf(b, "# kubevet ha plan: L4 load balancer in front of the kube-apiservers.\n"
                      "# nginx passes TLS through (never terminates it); Debian needs libnginx-mod-"
                      "stream.\n"
                      "include /etc/nginx/modules-enabled/*.conf;\n"
                      "worker_processes auto;\n"
                      "events {\n    worker_connections 1024;\n}\n"
                      "stream {\n    upstream kube_apiserver {\n        least_conn;\n");
    for (size_t i = 0; i < n; i++) {
        char *hp = hostport(cps[i].ip, "6443");
        vet_buf_printf(b, "        server %s max_fails=3 fail_timeout=10s;  # %s\n", hp,
                       cps[i].name);
        free(hp);
    }
    vet_buf_printf(b,
                   "    }\n    server {\n        listen %s;\n        proxy_pass kube_apiserver;\n"
                   "        proxy_connect_timeout 1s;\n        proxy_timeout 10m;\n    }\n}\n",
                   listen);
}

/* haproxy: mode tcp, leastconn, active /readyz checks over TLS without verification. */
static void haproxy_cfg(vet_buf *b, const cp *cps, size_t n, const char *bind)
{
    vet_buf_printf(b,
                   "# kubevet ha plan: L4 load balancer in front of the kube-apiservers.\n"
                   "global\n    log stdout format raw local0\n\n"
                   "defaults\n    mode tcp\n    log global\n    option tcplog\n"
                   "    timeout connect 5s\n    timeout client 10m\n    timeout server 10m\n\n"
                   "frontend kube_apiserver\n    bind %s\n    default_backend kube_apiserver\n\n"
                   "backend kube_apiserver\n    balance leastconn\n"
                   "    option httpchk GET /readyz\n    http-check expect status 200\n",
                   bind);
    for (size_t i = 0; i < n; i++) {
        char *hp = hostport(cps[i].ip, "6443");
        vet_buf_printf(b, "    server %s %s check check-ssl verify none inter 2s fall 3 rise 2\n",
                       cps[i].name, hp);
        free(hp);
    }
}

/* Every `server:` line of a kubeconfig pointed at url; NULL when nothing changes. */
static char *switch_server(const char *in, size_t len, const char *url, size_t *outlen)
{
    vet_buf b = VET_BUF_INIT;
    int changed = 0;
    for (size_t i = 0; i < len;) {
        const char *s = in + i, *nl = memchr(s, '\n', len - i);
        size_t l = nl ? (size_t)(nl - s) : len - i, ind = strspn(s, " ");
        if (ind < l && !strncmp(s + ind, "server: ", 8)) {
            size_t vl = l - ind - 8;
            if (vl != strlen(url) || strncmp(s + ind + 8, url, vl))
                changed = 1;
            vet_buf_printf(&b, "%.*sserver: %s", (int)ind, s, url);
        } else {
            vet_buf_put(&b, s, l);
        }
        if (nl)
            vet_buf_put(&b, "\n", 1);
        i += l + (nl ? 1 : 0);
    }
    if (!changed) {
        vet_buf_free(&b);
        return NULL;
    }
    *outlen = b.size;
    return vet_buf_detach(&b);
}

static const char path_kubeadm[] = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config",
                  path_proxy[] = "/api/v1/namespaces/kube-system/configmaps/kube-proxy",
                  path_info[] = "/api/v1/namespaces/kube-public/configmaps/cluster-info";

/* The cluster as read when the plan was made: what the API updates start from. */
typedef struct {
    vet_k8s *c;
    json_t *kubeadm, *proxy, *info; /* NULL: absent (404) */
    char *endpoint;                 /* controlPlaneEndpoint, or NULL */
    vet_strv sans;                  /* apiServer.certSANs */
} live;

static void live_clear(live *l)
{
    vet_k8s_free(l->c);
    json_decref(l->kubeadm);
    json_decref(l->proxy);
    json_decref(l->info);
    free(l->endpoint);
    vet_strv_free(&l->sans);
    memset(l, 0, sizeof *l);
}

static int get_optional(json_t **out, vet_k8s *c, const char *path)
{
    int rc = vet_k8s_get(out, c, path);
    if (rc == VET_ENOTFOUND) {
        vet_error_clear();
        *out = NULL;
        return 0;
    }
    return rc;
}

/* Connect when told to (--kubeconfig/--context), or on a live node (root /) when a kubeconfig
 * is found; a copy of a node under --root never reaches a cluster by accident. Without a
 * cluster (*l stays empty) the cluster's part is printed as commands. */
static int live_read(live *l, cli_globals *g)
{
    int named = g->kubeconfig || g->context, rc;
    const char *cc;
    memset(l, 0, sizeof *l);
    if (!named && g->root && strcmp(g->root, "/"))
        return 0;
    if (!(rc = cli_k8s_connect(&l->c, g)))
        rc = vet_k8s_get(&l->kubeadm, l->c, path_kubeadm);
    if (rc && !named) {
        fprintf(stderr, "kubevet: ha plan: the cluster steps stay commands (%s)\n",
                vet_error_last());
        vet_error_clear();
        live_clear(l);
        return 0;
    }
    if (rc || (rc = get_optional(&l->proxy, l->c, path_proxy)) ||
        (rc = get_optional(&l->info, l->c, path_info)))
        return rc;
    cc = json_string_value(
        json_object_get(json_object_get(l->kubeadm, "data"), "ClusterConfiguration"));
    if (!cc)
        return vet_error_set(VET_EINPUT, "ConfigMap/kube-system/kubeadm-config: no "
                                         "ClusterConfiguration (not a kubeadm cluster?)");
    return vet_kubeadm_cc_read(cc, &l->endpoint, &l->sans);
}

/* The ConfigMap with data[key] = val, as the JSON the update PUTs; its resourceVersion. */
static char *cm_with(const json_t *cm, const char *key, const char *val, const char **rv)
{
    json_t *c = json_deep_copy(cm);
    char *out = NULL;
    json_t *md = json_object_get(c, "metadata");
    *rv = json_string_value(json_object_get(json_object_get(cm, "metadata"), "resourceVersion"));
    json_object_del(md, "managedFields");
    if (c && !json_object_set_new(json_object_get(c, "data"), key, json_string(val)))
        out = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return out;
}

/* A ConfigMap holding a kubeconfig (kube-proxy, cluster-info) pointed at url: the update's
 * body, or NULL when it already dials url. */
static char *cm_kubeconfig(const json_t *cm, const char *key, const char *url, const char **rv)
{
    const char *kc = json_string_value(json_object_get(json_object_get(cm, "data"), key));
    size_t nl = 0;
    char *neu = kc ? switch_server(kc, strlen(kc), url, &nl) : NULL, *body;
    *rv = NULL;
    if (!neu)
        return NULL;
    body = cm_with(cm, key, neu, rv);
    free(neu);
    return body;
}

/* The object an update starts from, for the plan's diff (the update itself is the body). */
static int set_current(vet_plan *plan, const json_t *obj)
{
    char *cur = json_dumps(obj, JSON_COMPACT);
    int rc = cur ? vet_plan_set_api_current(plan, cur) : vet_error_set(VET_ENOMEM, "out of memory");
    free(cur);
    return rc;
}

static void push_unique(vet_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->v[i], s))
            return;
    vet_strv_push(v, s);
}

static const renew_name api_name[] = {
    {"apiserver", "apiserver", NULL, "kube-apiserver", RENEW_SANS_APISERVER},
    {NULL, NULL, NULL, NULL, 0}};

static const renew_name *find_api(const char *s)
{
    return !strcmp(s, "apiserver") ? &api_name[0] : NULL;
}

static int ha_plan(int argc, char **argv, cli_globals *g)
{
    const char *endpoint = NULL, *lb = "nginx", *outdir = NULL, *lb_bind = NULL;
    vet_strv cps_s = VET_STRV_INIT, pos = VET_STRV_INIT;
    int apply = 0, code, rc = 0, json;
    char *host = NULL, *port = NULL, *url = NULL, *ep = NULL, *listen = NULL, *outrel = NULL;
    cp *cps = NULL;
    size_t ncp = 0;
    renew_run run;
    vet_plan *plan = NULL;
    vet_plan_result res;
    vet_buf conf = VET_BUF_INIT;
    live lv;
    const cli_opt opts[] = {
        {"endpoint", 0, CLI_STR, &endpoint, "HOST:PORT", "the load balancer's address"},
        {"control-plane", 0, CLI_MULTI, &cps_s, "NAME=IP", "a control-plane node (repeat)"},
        {"lb", 0, CLI_STR, &lb, "nginx|haproxy", "load balancer (default nginx)"},
        {"lb-bind", 0, CLI_STR, &lb_bind, "ADDR", "address the LB listens on (default: all)"},
        {"output-dir", 0, CLI_STR, &outdir, "DIR", "where the LB config goes"},
        {"apply", 0, CLI_FLAG, &apply, NULL, "write the node's part (default: show the plan)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    memset(&run, 0, sizeof run);
    memset(&res, 0, sizeof res);
    memset(&lv, 0, sizeof lv);
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto out;
    code = 0;
    json = g->output && !strcmp(g->output, "json");
    if (!endpoint || !cps_s.n || (strcmp(lb, "nginx") && strcmp(lb, "haproxy"))) {
        fprintf(stderr, "kubevet: ha plan: needs --endpoint HOST:PORT, at least one "
                        "--control-plane NAME=IP, and --lb nginx|haproxy\n");
        code = 2;
        goto out;
    }
    if ((rc = parse_endpoint(&host, &port, endpoint))) {
        code = cli_fail(rc);
        goto out;
    }
    if (!(cps = calloc(cps_s.n, sizeof *cps))) {
        code = cli_fail(vet_error_set(VET_ENOMEM, "out of memory"));
        goto out;
    }
    for (size_t i = 0; i < cps_s.n; i++) {
        char *eq = strchr(cps_s.v[i], '=');
        if (!eq || eq == cps_s.v[i] || !is_ip(eq + 1)) {
            fprintf(stderr, "kubevet: --control-plane %s: want NAME=IP\n", cps_s.v[i]);
            code = 2;
            goto out;
        }
        cps[ncp].name = vet_strdupf("%.*s", (int)(eq - cps_s.v[i]), cps_s.v[i]);
        cps[ncp++].ip = strdup(eq + 1);
    }
    ep = hostport(host, port);
    url = vet_strdupf("https://%s", ep);
    listen = lb_bind ? hostport(lb_bind, port) : strdup(port);
    /* The LB runs on the control-plane hosts (incident 5): on 6443 it would collide with the
     * apiserver, which binds every address by default. */
    if (!strcmp(port, "6443")) {
        int clash = !lb_bind || !strcmp(lb_bind, "0.0.0.0") || !strcmp(lb_bind, "::") ||
                    !strcmp(lb_bind, "127.0.0.1");
        for (size_t i = 0; lb_bind && i < ncp; i++)
            clash |= !strcmp(cps[i].ip, lb_bind);
        if (clash) {
            vet_buf alt = VET_BUF_INIT;
            vet_buf_printf(&alt, "kubevet ha plan --endpoint %s:8443",
                           strchr(host, ':') ? "" : host);
            for (size_t i = 0; i < ncp; i++)
                vet_buf_printf(&alt, " --control-plane %s=%s", cps[i].name, cps[i].ip);
            vet_buf_printf(&alt, " --lb %s%s%s", lb, g->root ? " --root " : "",
                           g->root ? g->root : "");
            fprintf(stderr, "kubevet: ha plan: the load balancer on port 6443 would share a "
                            "control-plane host's port with its kube-apiserver; nothing planned\n");
            if (!json)
                printf("What is safe instead (the LB on another port):\n  %s\n"
                       "or run the LB on its own host: --lb-bind <that host's address>\n",
                       alt.ptr);
            vet_buf_free(&alt);
            code = 3;
            goto out;
        }
    }
    if ((rc = live_read(&lv, g))) {
        code = cli_fail(rc);
        goto out;
    }
    /* 1. The apiserver certificate with every name clients will dial: the cluster's certSANs
     * and old endpoint too (a cert re-issued later by kubeadm would carry them). */
    run.keep_key = 1;
    run.days = 365;
    run.now = (int64_t)time(NULL);
    run.root = g->root ? g->root : "/";
    run.node_name_flag = g->node_name;
    run.node_mode = 1;
    for (size_t i = 0; i < lv.sans.n; i++)
        push_unique(&run.add_san, lv.sans.v[i]);
    if (lv.endpoint) {
        char *oh = NULL, *op = NULL;
        if (!parse_endpoint(&oh, &op, lv.endpoint))
            push_unique(&run.add_san, oh);
        vet_error_clear();
        free(oh);
        free(op);
    }
    push_unique(&run.add_san, host);
    for (size_t i = 0; i < ncp; i++) {
        push_unique(&run.add_san, cps[i].name);
        push_unique(&run.add_san, cps[i].ip);
    }
    {
        const char *names[] = {"apiserver"};
        if ((rc = renew_prepare(&run, names, 1, api_name, find_api)) ||
            (rc = renew_build_plan(&plan, &run))) {
            code = cli_fail(rc);
            goto out;
        }
    }
    /* 2. The load balancer's configuration. */
    {
        char *dflt = vet_path_join(run.root, "etc/kubernetes");
        char *dir = realpath(outdir ? outdir : dflt ? dflt : ".", NULL);
        char *file =
            dir ? vet_strdupf("%s/kubevet-lb-%s.%s", dir, lb, !strcmp(lb, "nginx") ? "conf" : "cfg")
                : NULL;
        char *absroot = realpath(run.root, NULL);
        size_t rl = absroot ? strlen(absroot) : 0;
        if (!file || !absroot ||
            (strcmp(absroot, "/") && (strncmp(file, absroot, rl) || file[rl] != '/'))) {
            rc =
                vet_error_set(VET_EINPUT, "--output-dir %s: not an existing folder under --root %s",
                              outdir ? outdir : "(default)", run.root);
        } else {
            outrel = strdup(file + (strcmp(absroot, "/") ? rl + 1 : 1));
            if (!strcmp(lb, "nginx"))
                nginx_conf(&conf, cps, ncp, listen);
            else {
                char *bind = lb_bind ? strdup(listen) : vet_strdupf("*:%s", port);
                haproxy_cfg(&conf, cps, ncp, bind ? bind : "*:8443");
                free(bind);
            }
            rc = vet_plan_add_write(plan, outrel, conf.ptr, conf.size, 0644, 0,
                                    "copy to /etc/nginx/nginx.conf or /etc/haproxy/haproxy.cfg "
                                    "on every control-plane node",
                                    "KV203", "ClusterConfiguration", "the L4 load balancer");
        }
        free(dflt);
        free(dir);
        free(file);
        free(absroot);
        if (rc) {
            code = cli_fail(rc);
            goto out;
        }
    }
    /* 3. The node's kubeconfigs dial the endpoint. */
    {
        static const char *const files[] = {"admin.conf", "kubelet.conf", "controller-manager.conf",
                                            "scheduler.conf"};
        for (size_t i = 0; i < 4 && !rc; i++) {
            char *rel = vet_strdupf("etc/kubernetes/%s", files[i]), *h = NULL, *neu;
            vet_buf cur = VET_BUF_INIT;
            size_t nl = 0;
            h = vet_path_join(run.root, rel);
            if (h && !vet_fs_read(&cur, h, 1 << 20) &&
                (neu = switch_server(cur.ptr, cur.size, url, &nl))) {
                rc = vet_plan_add_write(plan, rel, neu, nl, 0600, 0, NULL, "KV205", rel,
                                        "dial the load balancer, not one apiserver");
                memset(neu, 0, nl);
                free(neu);
            }
            vet_error_clear();
            if (cur.ptr)
                memset(cur.ptr, 0, cur.size);
            vet_buf_free(&cur);
            free(h);
            free(rel);
        }
    }
    /* 4. The cluster's part: API objects (commands until the API client lands), joins. */
    {
        vet_buf sans = VET_BUF_INIT;
        char *c1, *c2, *c3;
        vet_buf_printf(&sans, "%s", host);
        for (size_t i = 0; i < ncp; i++)
            vet_buf_printf(&sans, ", %s, %s", cps[i].name, cps[i].ip);
        c1 = vet_strdupf("kubectl -n kube-system edit configmap kubeadm-config   # in "
                         "ClusterConfiguration set controlPlaneEndpoint: %s and "
                         "apiServer.certSANs: [%s]",
                         ep, sans.ptr);
        c2 = vet_strdupf("kubectl -n kube-system get configmap kube-proxy -o yaml | sed "
                         "'s#server: https://.*#server: %s#' | kubectl apply -f -",
                         url);
        c3 = vet_strdupf("kubectl -n kube-public get configmap cluster-info -o yaml | sed "
                         "'s#server: https://.*#server: %s#' | kubectl apply -f -",
                         url);
        char *b1 = NULL, *b2 = NULL, *b3 = NULL;
        const char *rv1 = NULL, *rv2 = NULL, *rv3 = NULL;
        int have1 = 1, have2 = 1, have3 = 1;
        /* With the cluster read: the objects as they will be, at the resourceVersion read. */
        if (lv.c) {
            const char *cc = json_string_value(
                json_object_get(json_object_get(lv.kubeadm, "data"), "ClusterConfiguration"));
            vet_strv want = VET_STRV_INIT;
            char *ncc = NULL;
            for (size_t i = 0; i < lv.sans.n; i++)
                push_unique(&want, lv.sans.v[i]);
            push_unique(&want, host);
            for (size_t i = 0; i < ncp; i++) {
                push_unique(&want, cps[i].name);
                push_unique(&want, cps[i].ip);
            }
            rc = vet_kubeadm_cc_set(&ncc, cc, ep, &want);
            if (!rc && strcmp(ncc, cc))
                b1 = cm_with(lv.kubeadm, "ClusterConfiguration", ncc, &rv1);
            have1 = b1 != NULL;
            free(ncc);
            vet_strv_free(&want);
            if (lv.proxy)
                b2 = cm_kubeconfig(lv.proxy, "kubeconfig.conf", url, &rv2);
            if (lv.info)
                b3 = cm_kubeconfig(lv.info, "kubeconfig", url, &rv3);
            /* Absent objects (no kube-proxy) and ones already right need no step. */
            have2 = b2 != NULL;
            have3 = b3 != NULL;
        }
        {
            /* One API update each (the command is the fallback without the cluster), shown as
             * a diff against the object read when there is one. */
            const struct {
                const char *ns, *name, *id, *subject, *why, *rv;
                char *cmd, *body;
                int have;
                const json_t *cur;
            } cm[] = {
                {"kube-system", "kubeadm-config", "KV203", "ConfigMap/kube-system/kubeadm-config",
                 "controlPlaneEndpoint and certSANs, or the next kubeadm upgrade re-issues the "
                 "cert without them (KV204)",
                 rv1, c1, b1, have1, lv.kubeadm},
                {"kube-system", "kube-proxy", "KV205", "ConfigMap/kube-system/kube-proxy",
                 "kube-proxy dials the load balancer", rv2, c2, b2, have2, lv.proxy},
                {"kube-public", "cluster-info", "KV206", "ConfigMap/kube-public/cluster-info",
                 "joining nodes discover the load balancer", rv3, c3, b3, have3, lv.info},
            };
            for (size_t i = 0; !rc && i < sizeof cm / sizeof cm[0]; i++) {
                if (cm[i].have)
                    rc = vet_plan_add_api_update(plan, "ConfigMap", cm[i].ns, cm[i].name, cm[i].rv,
                                                 cm[i].body, cm[i].cmd, cm[i].id, cm[i].subject,
                                                 cm[i].why);
                if (!rc && cm[i].body)
                    rc = set_current(plan, cm[i].cur);
            }
        }
        free(b1);
        free(b2);
        free(b3);
        if (!rc)
            rc = vet_plan_add_command(
                plan,
                "kubeadm init phase upload-certs --upload-certs   # prints <certificate-key>, "
                "valid 2 h",
                NULL, NULL, "the key the new masters fetch the CAs with");
        for (size_t i = 0; !rc && i < ncp; i++) {
            char *j;
            if (run.node_name && !strcmp(cps[i].name, run.node_name))
                continue;
            char *why = vet_strdupf("on %s: kubeadm join adds its etcd member and writes its "
                                    "--initial-cluster (the existing members plus itself)",
                                    cps[i].name);
            j = vet_strdupf(
                "kubeadm join %s --token <token from 'kubeadm token create'> "
                "--discovery-token-ca-cert-hash %s --control-plane --certificate-key "
                "<certificate-key> --apiserver-advertise-address %s   # one master at a time: "
                "wait for 'etcdctl endpoint health --cluster' before the next",
                ep,
                vet_node_role(run.node, "ca")
                    ? vet_cert_spki_hash(vet_node_role(run.node, "ca")->cert)
                    : "sha256:<hash of ca.crt>",
                cps[i].ip);
            rc = vet_plan_add_command(plan, j, NULL, NULL, why);
            free(j);
            free(why);
        }
        vet_buf_free(&sans);
        free(c1);
        free(c2);
        free(c3);
        if (rc) {
            code = cli_fail(rc);
            goto out;
        }
    }
    if (!apply) {
        if (json) {
            cli_plan_emit_json(g, "ha plan",
                               json_pack("{s:o,s:b}", "plan", vet_plan_to_json(plan), "applied", 0),
                               NULL);
        } else {
            printf("HA plan for endpoint %s (%s), root %s (dry run: nothing is written without "
                   "--apply):\n",
                   ep, lb, run.root);
            vet_plan_render_text(plan, stdout);
        }
        goto out;
    }
    {
        vet_plan_apply_opts ao = {
            NULL, vet_plan_api_k8s, NULL, 0, vet_plan_api_k8s_undo, lv.c, NULL, NULL, NULL};
        if ((rc = vet_plan_apply(plan, lv.c ? &ao : NULL, &res))) {
            code = cli_fail(rc);
            if (res.backup_dir)
                fprintf(stderr, "kubevet: the backup made first stays in %s\n", res.backup_dir);
            goto out;
        }
    }
    if (json) {
        /* What was done and what is left to the operator, as the text says it. */
        json_t *o = json_pack("{s:o,s:b,s:s?}", "plan", vet_plan_to_json(plan), "applied", 1,
                              "backup", res.backup_dir);
        json_t *upd = json_array(), *left = json_array();
        for (size_t i = 0; i < vet_plan_count(plan); i++) {
            const vet_action *a = vet_plan_action(plan, i);
            if (a->kind == VET_ACT_API_UPDATE && lv.c)
                json_array_append_new(upd,
                                      json_pack("{s:s,s:s,s:s,s:s}", "kind", a->api_kind,
                                                "namespace", a->api_namespace, "name", a->api_name,
                                                "server", vet_k8s_cfg(lv.c)->server));
            else if (a->kind == VET_ACT_API_UPDATE || a->kind == VET_ACT_COMMAND)
                json_array_append_new(left, json_string(a->command));
        }
        json_object_set_new(o, "updated", upd);
        json_object_set_new(o, "restart", json_pack("[s,s]", "kube-apiserver", "kubelet"));
        json_object_set_new(o, "steps_left", left);
        cli_plan_emit_json(g, "ha plan", o, NULL);
        goto out;
    }
    printf("Wrote the node's part (backup: %s).\n", res.backup_dir ? res.backup_dir : "-");
    for (size_t i = 0; lv.c && i < vet_plan_count(plan); i++) {
        const vet_action *a = vet_plan_action(plan, i);
        if (a->kind == VET_ACT_API_UPDATE)
            printf("Updated %s %s/%s (%s).\n", a->api_kind, a->api_namespace, a->api_name,
                   vet_k8s_cfg(lv.c)->server);
    }
    printf("Restart kube-apiserver (new certificate) and the kubelet; then the cluster "
           "steps:\n");
    for (size_t i = 0; i < vet_plan_count(plan); i++) {
        const vet_action *a = vet_plan_action(plan, i);
        if ((a->kind == VET_ACT_API_UPDATE && !lv.c) || a->kind == VET_ACT_COMMAND)
            printf("  %s\n", a->command);
    }
out:
    live_clear(&lv);
    for (size_t i = 0; i < ncp; i++) {
        free(cps[i].name);
        free(cps[i].ip);
    }
    free(cps);
    vet_plan_result_clear(&res);
    vet_plan_free(plan);
    renew_run_clear(&run);
    vet_buf_free(&conf);
    vet_strv_free(&cps_s);
    vet_strv_free(&pos);
    free(host);
    free(port);
    free(url);
    free(ep);
    free(listen);
    free(outrel);
    return code;
}

int cmd_ha(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd sub[] = {
        {"plan", ha_plan, "single master -> HA behind an L4 load balancer (plan; --apply)"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(sub, "ha", argc, argv, g);
}
