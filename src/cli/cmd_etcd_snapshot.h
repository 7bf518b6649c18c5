/* `kubevet etcd snapshot ...`: dispatched from cmd_etcd.c with argv[0] == "snapshot". */
#ifndef KV_CMD_ETCD_SNAPSHOT_H
#define KV_CMD_ETCD_SNAPSHOT_H

#include "cli.h"

/* verify | status | objects FILE; `save` goes to cmd_etcd_snapshot_save (live etcd, cmd_etcd.c). */
int cmd_etcd_snapshot(int argc, char **argv, cli_globals *g);

/* Defined with the live etcd commands. */
int cmd_etcd_snapshot_save(int argc, char **argv, cli_globals *g);

#endif
