/* kubevet check: every check the available sources allow. This source is the node;
 * the etcd and API sources join as they land. */
#include "cli.h"
#include "kubevet/check.h"

static const char synopsis[] =
    "  kubevet check [--root DIR] [--node-name NAME] [--at TIME] [--warn-within 30d]\n"
    "                [--expect-san NAME|IP]... [--fail-on LEVEL] [-o text|json]";

static const char description[] =
    "Runs every check whose source is available: the node's files under --root (default /):\n"
    "PKI, kubeconfigs, kubelet and static pods. See 'kubevet help checks' for the catalog.";

int cmd_check(int argc, char **argv, cli_globals *g)
{
    return cli_pki_command(argc, argv, g, "check", 0, synopsis, description, NULL, VET_SRC_NODE);
}
