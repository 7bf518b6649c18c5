/* kubevet restore BACKUP_DIR [--apply]: put a backup folder made by the plan engine back.
 * The restore is a plan itself: the dry run shows the diff, --apply makes a backup of the
 * current state first (so a restore can be undone the same way). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "kubevet/plan.h"

static const char synopsis[] = "  kubevet restore BACKUP_DIR [--root DIR] [--apply] [-o json]";

static const char description[] =
    "BACKUP_DIR is a kubevet-backup-<time> folder (its MANIFEST lists the files saved, with\n"
    "modes and owners, and those that did not exist before). Without --apply, prints what\n"
    "would change; with --apply, writes the saved bytes back and removes the files that did\n"
    "not exist. The node root is the folder the backup lies in (<root>/etc/kubernetes/...)\n"
    "unless --root says otherwise.";

int cmd_restore(int argc, char **argv, cli_globals *g)
{
    vet_strv pos = VET_STRV_INIT;
    vet_plan *p = NULL;
    vet_plan_result res;
    int apply = 0, code, rc, json;
    const cli_opt opts[] = {
        {"apply", 0, CLI_FLAG, &apply, NULL, "write (default: show the plan)"},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    memset(&res, 0, sizeof res);
    if ((code = cli_begin(argc, argv, opts, g, &pos, synopsis, description)) >= 0)
        goto done;
    code = 0;
    json = g->output && !strcmp(g->output, "json");
    if (pos.n != 1) {
        fprintf(stderr, "kubevet: restore: give one BACKUP_DIR\n");
        code = 2;
        goto done;
    }
    if ((rc = vet_plan_from_backup(&p, pos.v[0], g->root))) {
        code = cli_fail(rc);
        goto done;
    }
    if (!apply) {
        if (json) {
            cli_plan_emit_json(g, "restore",
                               json_pack("{s:o,s:b}", "plan", vet_plan_to_json(p), "applied", 0),
                               NULL);
        } else {
            printf("Restore %s into %s (dry run: nothing is written without --apply):\n", pos.v[0],
                   vet_plan_root(p));
            vet_plan_render_text(p, stdout);
        }
        goto done;
    }
    if ((rc = vet_plan_apply(p, NULL, &res))) {
        code = cli_fail(rc);
        goto done;
    }
    if (json) {
        cli_plan_emit_json(g, "restore",
                           json_pack("{s:b,s:I,s:s}", "applied", 1, "restored",
                                     (json_int_t)res.applied, "backup",
                                     res.backup_dir ? res.backup_dir : ""),
                           NULL);
    } else
        printf("Restored %zu file(s) from %s. The state before the restore is in %s\n", res.applied,
               pos.v[0], res.backup_dir ? res.backup_dir : "-");
done:
    vet_plan_result_clear(&res);
    vet_plan_free(p);
    vet_strv_free(&pos);
    return code;
}
