/* `kubevet apis convert`: rewrites manifests to supported apiVersions (written by the convert
 * engineer; cmd_apis.c dispatches to it). */
#ifndef KV_CMD_APIS_CONVERT_H
#define KV_CMD_APIS_CONVERT_H

#include "cli.h"

int cmd_apis_convert(int argc, char **argv, cli_globals *g);

#endif
