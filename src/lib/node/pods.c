/* The node source, static pods: what kubeadm wrote under etc/kubernetes/manifests. Facts only:
 * the flags the checks need, and which control-plane components this node runs. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"
#include "fs.h"
#include "node_int.h"

#define MANIFESTS "etc/kubernetes/manifests/"

/* First address of a CIDR (the `kubernetes` Service takes it): 10.96.0.0/12 -> 10.96.0.1. */
static char *first_ip(const char *cidr)
{
    unsigned char a[16];
    char ip[64], out[64];
    size_t n = strcspn(cidr, "/,");
    int af;
    if (n >= sizeof ip)
        return NULL;
    memcpy(ip, cidr, n);
    ip[n] = '\0';
    af = strchr(ip, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, ip, a) != 1)
        return NULL;
    for (int i = af == AF_INET ? 3 : 15; i >= 0; i--)
        if (++a[i])
            break;
    return inet_ntop(af, a, out, sizeof out) ? strdup(out) : NULL;
}

/* Host of the first URL in a comma list: "https://10.0.0.12:2380,..." -> "10.0.0.12". */
static char *url_host(const char *urls)
{
    const char *p = strstr(urls, "://"), *end;
    p = p ? p + 3 : urls;
    if (*p == '[') {
        end = strchr(p, ']');
        return end ? vet_strdupf("%.*s", (int)(end - p - 1), p + 1) : NULL;
    }
    end = p + strcspn(p, ":/,");
    return end > p ? vet_strdupf("%.*s", (int)(end - p), p) : NULL;
}

/* "registry.k8s.io/kube-apiserver:v1.23.5@sha256:..." -> "1.23.5": what this node runs, so
 * advice can name the kubeadm commands of that version. NULL for a tag that is not a version. */
static char *image_version(const char *image)
{
    const char *slash = strrchr(image, '/'), *tag = strchr(slash ? slash : image, ':');
    size_t n;
    if (!tag || tag[1] != 'v' || tag[2] < '0' || tag[2] > '9')
        return NULL;
    tag += 2;
    n = strspn(tag, "0123456789.");
    return vet_strdupf("%.*s", (int)n, tag);
}

typedef struct {
    const char *flag;
    size_t off; /* char * field of vet_node */
} want_flag;

/* Read one static pod; 1 when present and parsed. Flags of its first container (command, then
 * args) fill the fields in `want` (first occurrence wins, as the component's flag parser keeps
 * the last but kubeadm never repeats one). */
static int read_pod(vet_node *n, const char *rel, const want_flag *want, size_t nwant,
                    char **version)
{
    vet_buf b = VET_BUF_INIT;
    vet_yaml *y = NULL;
    yaml_node_t *c;
    int rc = vet_fs_read_in_root(&b, n->root, rel, 4 << 20), ok = 0;
    if (rc) {
        if (rc != VET_ENOTFOUND)
            vet_strv_push(&n->errors, vet_error_last());
        goto done;
    }
    if (vet_yaml_load(&y, (unsigned char *)b.ptr, b.size, rel)) {
        vet_strv_push(&n->errors, vet_error_last());
        goto done;
    }
    ok = 1;
    c = vet_yaml_item(y, vet_yaml_path(y, vet_yaml_root(y, 0), "spec", "containers", NULL), 0);
    if (version && !*version && vet_yaml_str(vet_yaml_get(y, c, "image")))
        *version = image_version(vet_yaml_str(vet_yaml_get(y, c, "image")));
    for (int pass = 0; pass < 2; pass++) {
        yaml_node_t *list = vet_yaml_get(y, c, pass ? "args" : "command");
        for (size_t i = 0; i < vet_yaml_len(list); i++) {
            const char *s = vet_yaml_str(vet_yaml_item(y, list, i));
            for (size_t w = 0; s && w < nwant; w++) {
                size_t l = strlen(want[w].flag);
                char **dst = (char **)((char *)n + want[w].off);
                if (!strncmp(s, want[w].flag, l) && !*dst)
                    *dst = strdup(s + l);
            }
        }
    }
done:
    vet_yaml_free(y);
    vet_buf_free(&b);
    return ok;
}

void vet_node_load_pods(vet_node *n)
{
    static const want_flag api[] = {
        {"--advertise-address=", offsetof(vet_node, advertise_address)},
        {"--service-cluster-ip-range=", offsetof(vet_node, service_cidr)},
        {"--tls-cert-file=", offsetof(vet_node, tls_cert_file)},
        {"--client-ca-file=", offsetof(vet_node, client_ca_file)},
        {"--requestheader-client-ca-file=", offsetof(vet_node, requestheader_ca_file)},
        {"--proxy-client-cert-file=", offsetof(vet_node, proxy_client_cert_file)},
    };
    static const want_flag etcd[] = {
        {"--name=", offsetof(vet_node, etcd_name)},
        {"--initial-advertise-peer-urls=", offsetof(vet_node, etcd_peer_urls)},
        {"--advertise-client-urls=", offsetof(vet_node, etcd_client_urls)},
    };
    n->apiserver_present = read_pod(n, MANIFESTS "kube-apiserver.yaml", api, 6, &n->version);
    if (n->apiserver_present) {
        /* kubeadm's default when the flag is absent. */
        if (!n->service_cidr)
            n->service_cidr = strdup("10.96.0.0/12");
        n->service_ip = first_ip(n->service_cidr);
    }
    n->etcd_present = read_pod(n, MANIFESTS "etcd.yaml", etcd, 3, NULL);
    if (n->etcd_peer_urls)
        n->etcd_advertise_ip = url_host(n->etcd_peer_urls);
    if (!n->etcd_advertise_ip && n->etcd_client_urls)
        n->etcd_advertise_ip = url_host(n->etcd_client_urls);
    n->controller_manager_present = read_pod(n, MANIFESTS "kube-controller-manager.yaml", NULL, 0, &n->version);
    n->scheduler_present = read_pod(n, MANIFESTS "kube-scheduler.yaml", NULL, 0, &n->version);
}
