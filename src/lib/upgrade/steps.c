/* The runbook of one hop, with this cluster's node names when the API gave them (else
 * <node> placeholders), in the order kubeadm's upgrade documentation of each release gives:
 * backup, kubeadm on the first control-plane node, the other control-plane nodes, then every
 * node's kubelet, then the checks that must pass before the next hop. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "upgrade_int.h"

static int step(vet_upgrade_hop *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int step(vet_upgrade_hop *h, const char *fmt, ...)
{
    vet_buf b = VET_BUF_INIT;
    va_list ap;
    char *s;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || vet_buf_grow(&b, (size_t)n + 1))
        return vet_error_set(VET_ENOMEM, "out of memory");
    va_start(ap, fmt);
    vsnprintf(b.ptr, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b.size = (size_t)n;
    s = vet_buf_detach(&b);
    return s && !vet_strv_take(&h->steps, s) ? 0 : vet_error_set(VET_ENOMEM, "out of memory");
}

/* The command that upgrades the other control-plane nodes changed twice: kubeadm <= 1.12 ran
 * `upgrade apply` on each master, 1.13-1.14 had `upgrade node experimental-control-plane`,
 * 1.15+ `upgrade node`. Workers: `upgrade node config` 1.11-1.14, `upgrade node` 1.15+. */
static const char *other_cp_cmd(int minor)
{
    if (minor <= 12)
        return "kubeadm upgrade apply -y v%s";
    if (minor <= 14)
        return "kubeadm upgrade node experimental-control-plane";
    return "kubeadm upgrade node";
}

static int node_steps(vet_upgrade_hop *h, const char *node, int minor, int worker)
{
    int rc;
    if (worker && minor >= 15 && (rc = step(h, "on %s: kubeadm upgrade node", node)))
        return rc;
    if (worker && minor >= 11 && minor <= 14 &&
        (rc = step(h, "on %s: kubeadm upgrade node config --kubelet-version v%s", node, h->to)))
        return rc;
    if ((rc = step(h, "kubectl drain %s --ignore-daemonsets", node)) ||
        (rc = step(h,
                   "on %s: apt-get install -y kubelet='%s-*' kubectl='%s-*' (or your package "
                   "manager), then systemctl daemon-reload && systemctl restart kubelet",
                   node, h->to, h->to)) ||
        (rc = step(h, "kubectl uncordon %s", node)))
        return rc;
    return 0;
}

int vet_upgrade_steps(vet_upgrade_hop *h, const vet_upgrade_opts *o, const vet_release *from,
                      const vet_release *to, size_t i, size_t n)
{
    const char *first = o->cp_nodes.n ? o->cp_nodes.v[0] : "<first control-plane node>";
    char snap[128], cmd[128];
    int rc, m = to->minor;
    (void)from;
    (void)n;
    snprintf(snap, sizeof snap, "/var/backups/etcd-before-%s.db", h->to);
    if ((rc = step(h,
                   "backup: kubevet etcd snapshot save %s && kubevet etcd snapshot verify %s "
                   "(copy it off the node)",
                   snap, snap)) ||
        (rc = step(h,
                   "on %s: apt-get install -y kubeadm='%s-*' (or your package manager); "
                   "kubeadm version must print v%s",
                   first, h->to, h->to)) ||
        (rc = step(h, "on %s: kubeadm upgrade plan v%s (read it: it must offer v%s)", first, h->to,
                   h->to)) ||
        (rc = step(h, "on %s: kubeadm upgrade apply -y v%s", first, h->to)))
        return rc;
    if (o->cp_nodes.n > 1) {
        for (size_t k = 1; k < o->cp_nodes.n; k++) {
            snprintf(cmd, sizeof cmd, other_cp_cmd(m), h->to);
            if ((rc = step(h, "on %s: apt-get install -y kubeadm='%s-*', then %s", o->cp_nodes.v[k],
                           h->to, cmd)))
                return rc;
        }
    } else if (!o->cp_nodes.n) {
        snprintf(cmd, sizeof cmd, other_cp_cmd(m), h->to);
        if ((rc = step(h,
                       "on every other control-plane node <node>, one at a time: apt-get install "
                       "-y kubeadm='%s-*', then %s",
                       h->to, cmd)))
            return rc;
    }
    if (o->cp_nodes.n || o->worker_nodes.n) {
        for (size_t k = 0; k < o->cp_nodes.n; k++)
            if ((rc = node_steps(h, o->cp_nodes.v[k], m, 0)))
                return rc;
        for (size_t k = 0; k < o->worker_nodes.n; k++)
            if ((rc = node_steps(h, o->worker_nodes.v[k], m, 1)))
                return rc;
    } else if ((rc = step(h, "for every node <node>, control plane first, one at a time:")) ||
               (rc = node_steps(h, "<node>", m, 1)))
        return rc;
    if ((rc = step(h,
                   "check before the next hop: kubectl get nodes (every node Ready, "
                   "VERSION v%s), kubevet check --kubeconfig /etc/kubernetes/admin.conf (no "
                   "critical finding), kubevet etcd status (every member healthy, etcd %s)",
                   h->to, h->etcd_after)) ||
        (rc = step(h,
                   "rollback: kubeadm does not downgrade. Static pod manifests of the previous "
                   "version are in /etc/kubernetes/tmp/kubeadm-backup-manifests-*; if the "
                   "control plane cannot be brought back, restore %s on every member "
                   "(kubevet etcd plan restore --snapshot %s --member NAME=PEERURL ...) and "
                   "reinstall the v%s packages",
                   snap, snap, h->from)))
        return rc;
    (void)i;
    return 0;
}
