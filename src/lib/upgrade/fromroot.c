/* The version a node root runs, for --from: kubeadm writes kube-apiserver's image with the
 * cluster's kubernetesVersion as its tag (k8s.gcr.io/kube-apiserver:v1.9.6), so the static pod
 * manifest says what the control plane runs without asking the API. */
#include <string.h>

#include "buf.h"
#include "common/yamlx.h"
#include "error.h"
#include "fs.h"
#include "kubevet/upgrade.h"

int vet_upgrade_version_from_root(char *out, size_t n, const char *root)
{
    static const char manifest[] = "etc/kubernetes/manifests/kube-apiserver.yaml";
    vet_buf b = VET_BUF_INIT;
    vet_yaml *y = NULL;
    yaml_node_t *cs;
    int rc;
    if ((rc = vet_fs_read_in_root(&b, root, manifest, 1u << 20)))
        goto done;
    if ((rc = vet_yaml_load(&y, (const unsigned char *)b.ptr, b.size, manifest)))
        goto done;
    cs = vet_yaml_path(y, vet_yaml_root(y, 0), "spec", "containers", NULL);
    rc = vet_error_set(VET_ENOTFOUND, "%s: no kube-apiserver image with a version tag", manifest);
    for (size_t i = 0; cs && i < vet_yaml_len(cs); i++) {
        const char *img = vet_yaml_str(vet_yaml_get(y, vet_yaml_item(y, cs, i), "image"));
        const char *tag = img ? strrchr(img, ':') : NULL;
        vet_version v;
        if (!img || !strstr(img, "kube-apiserver") || !tag || vet_version_parse(&v, tag + 1))
            continue;
        snprintf(out, n, "%s", tag[1] == 'v' ? tag + 2 : tag + 1);
        rc = 0;
        break;
    }
done:
    vet_yaml_free(y);
    vet_buf_free(&b);
    return rc;
}
