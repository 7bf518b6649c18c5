/* ClusterConfiguration (the YAML inside kube-system/kubeadm-config): read and set the
 * controlPlaneEndpoint and apiServer.certSANs that `kubevet ha plan` changes. The text is
 * edited line by line (kubeadm writes it in block style) so every other field keeps its bytes;
 * the result is parsed again and must say exactly what was asked. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"
#include "kubevet/k8s.h"

int vet_kubeadm_cc_read(const char *cc, char **endpoint, vet_strv *sans)
{
    vet_yaml *y = NULL;
    yaml_node_t *root, *n;
    int rc;
    *endpoint = NULL;
    if ((rc = vet_yaml_load(&y, (const unsigned char *)cc, strlen(cc),
                            "ConfigMap/kube-system/kubeadm-config ClusterConfiguration")))
        return rc;
    if (!(root = vet_yaml_root(y, 0)) || root->type != YAML_MAPPING_NODE) {
        rc = vet_error_set(VET_EINPUT,
                           "ConfigMap/kube-system/kubeadm-config: ClusterConfiguration is not a "
                           "mapping");
        goto done;
    }
    {
        const char *cpe = vet_yaml_str(vet_yaml_get(y, root, "controlPlaneEndpoint"));
        if (cpe && *cpe && !(*endpoint = strdup(cpe))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
    }
    n = vet_yaml_path(y, root, "apiServer", "certSANs", NULL);
    for (size_t i = 0; n && n->type == YAML_SEQUENCE_NODE && i < vet_yaml_len(n) && !rc; i++) {
        const char *s = vet_yaml_str(vet_yaml_item(y, n, i));
        if (s && vet_strv_push(sans, s))
            rc = vet_error_set(VET_ENOMEM, "out of memory");
    }
done:
    vet_yaml_free(y);
    if (rc) {
        free(*endpoint);
        *endpoint = NULL;
    }
    return rc;
}

static size_t indent_of(const char *s, size_t l)
{
    size_t i = 0;
    while (i < l && s[i] == ' ')
        i++;
    return i;
}

static int plain_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
            return 0;
    return 1;
}

static void put_sans(vet_buf *b, size_t ind, const vet_strv *sans)
{
    vet_buf_printf(b, "%*scertSANs:\n", (int)ind, "");
    for (size_t i = 0; i < sans->n; i++)
        vet_buf_printf(b, "%*s- \"%s\"\n", (int)ind, "", sans->v[i]);
}

int vet_kubeadm_cc_set(char **out, const char *cc, const char *endpoint, const vet_strv *sans)
{
    vet_buf b = VET_BUF_INIT;
    size_t len = strlen(cc), child = 0;
    int in_api = 0, skipping = 0, api_done = 0, rc = 0;
    char *got_ep = NULL;
    vet_strv got = VET_STRV_INIT;
    *out = NULL;
    if (!plain_safe(endpoint))
        return vet_error_set(VET_EINPUT, "controlPlaneEndpoint %s: not a plain host:port",
                             endpoint);
    for (size_t i = 0; i < sans->n; i++)
        if (!plain_safe(sans->v[i]))
            return vet_error_set(VET_EINPUT, "certSAN %s: not a plain name or address", sans->v[i]);
    for (size_t i = 0; i < len;) {
        const char *s = cc + i, *nl = memchr(s, '\n', len - i);
        size_t l = nl ? (size_t)(nl - s) : len - i, ind = indent_of(s, l);
        int blank = ind == l || s[ind] == '#';
        i += l + (nl ? 1 : 0);
        if (!blank && ind == 0) {
            in_api = skipping = 0;
            /* A top-level key: the old endpoint goes (the new one is appended), apiServer's
             * block gets the new certSANs first. */
            if (l >= 21 && !strncmp(s, "controlPlaneEndpoint:", 21))
                continue;
            if (l >= 10 && !strncmp(s, "apiServer:", 10)) {
                const char *rest = s + 10;
                size_t rl = l - 10, ri = indent_of(rest, rl);
                api_done = 1;
                if (ri < rl && !(rl - ri == 2 && !strncmp(rest + ri, "{}", 2))) {
                    rc = vet_error_set(VET_EINPUT,
                                       "ClusterConfiguration: apiServer is not a block mapping");
                    goto done;
                }
                /* The children's indent: the next non-blank line's, else two spaces. */
                child = 2;
                for (size_t j = i; j < len;) {
                    const char *t = cc + j, *tn = memchr(t, '\n', len - j);
                    size_t tl = tn ? (size_t)(tn - t) : len - j, ti = indent_of(t, tl);
                    if (ti < tl && t[ti] != '#') {
                        if (ti > 0)
                            child = ti;
                        break;
                    }
                    j += tl + (tn ? 1 : 0);
                }
                vet_buf_printf(&b, "apiServer:\n");
                put_sans(&b, child, sans);
                in_api = 1;
                continue;
            }
        } else if (!blank && in_api) {
            if (ind == child && l - ind >= 9 && !strncmp(s + ind, "certSANs:", 9)) {
                skipping = 1;
                continue;
            }
            if (skipping && (ind > child || (ind == child && s[ind] == '-')))
                continue;
            skipping = 0;
        } else if (blank && skipping) {
            continue;
        }
        vet_buf_put(&b, s, l);
        vet_buf_put(&b, "\n", 1);
    }
    if (!api_done) {
        vet_buf_printf(&b, "apiServer:\n");
        put_sans(&b, 2, sans);
    }
    vet_buf_printf(&b, "controlPlaneEndpoint: \"%s\"\n", endpoint);
    /* Read back: exactly the endpoint and SANs asked for. */
    if ((rc = vet_kubeadm_cc_read(b.ptr, &got_ep, &got)))
        goto done;
    if (!got_ep || strcmp(got_ep, endpoint) || got.n != sans->n) {
        rc = vet_error_set(VET_EINPUT, "ClusterConfiguration: the edited text does not read back "
                                       "as intended (unusual layout): edit it by hand");
        goto done;
    }
    for (size_t i = 0; i < got.n; i++)
        if (strcmp(got.v[i], sans->v[i])) {
            rc = vet_error_set(VET_EINPUT, "ClusterConfiguration: certSANs do not read back as "
                                           "intended: edit it by hand");
            goto done;
        }
    *out = vet_buf_detach(&b);
done:
    free(got_ep);
    vet_strv_free(&got);
    vet_buf_free(&b);
    return rc;
}
