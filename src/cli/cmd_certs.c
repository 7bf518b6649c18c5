/* kubevet certs list|check [PATH...]: the certificate inventory and the PKI checks. */
#include "cli.h"
#include "cmd_certs_renew.h"
#include "kubevet/check.h"

/* The help takes the command's name (and examples) from the synopsis's first line. */
static const char list_synopsis[] =
    "  kubevet certs list  [PATH...] [--root DIR] [-o json]\n"
    "  kubevet certs check [PATH...] [--root DIR] [--warn-within 30d] [--expect-san NAME]...";
static const char check_synopsis[] =
    "  kubevet certs check [PATH...] [--root DIR] [--warn-within 30d] [--expect-san NAME]...\n"
    "  kubevet certs list  [PATH...] [--root DIR] [-o json]";

static const char description[] =
    "Reads the node's PKI under --root (etc/kubernetes/pki, the kubeconfigs in etc/kubernetes,\n"
    "var/lib/kubelet/pki) and any files or folders given as PATH (PEM or DER certificates and\n"
    "keys, bundles, cfssl output folders, kubeconfigs), read as given.\n"
    "'list' prints one row per certificate, soonest expiry first. 'check' reports KV101-KV111.\n"
    "With PATHs and no --root, only the PATHs are read.";

static int certs_list(int argc, char **argv, cli_globals *g)
{
    return cli_pki_command(argc, argv, g, "certs list", 1, list_synopsis, description, NULL, 0);
}

static int certs_check(int argc, char **argv, cli_globals *g)
{
    static const char *const kv1[] = {"KV1", NULL};
    return cli_pki_command(argc, argv, g, "certs check", 0, check_synopsis, description, kv1,
                           VET_SRC_NODE | VET_SRC_FILES);
}

int cmd_certs(int argc, char **argv, cli_globals *g)
{
    static const cli_cmd sub[] = {
        {"list", certs_list,
         "one row per certificate (files and kubeconfig users), soonest expiry first"},
        {"check", certs_check, "PKI findings KV101-KV111"},
        {"renew", cmd_certs_renew, "re-issue certificates from the CA on disk (plan; --apply)"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(sub, "certs", argc, argv, g);
}
