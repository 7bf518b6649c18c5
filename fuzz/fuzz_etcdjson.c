/* etcd's JSON gateway answers (member list, status, alarms) as the client parses them, then the
 * quorum arithmetic over what they yield. The first byte picks the response. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "etcd/etcd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vet_etcd_facts *f;
    vet_etcd_member m = {0};
    vet_etcd_quorum q;
    json_t *root;
    if (!size)
        return 0;
    if (!(f = calloc(1, sizeof *f)))
        return 0;
    switch (data[0] % 3) {
    case 0:
        if (etcd_parse_members(f, data + 1, size - 1) == 0) {
            etcd_sort_members(f);
            vet_etcd_quorum_of(&q, f);
        }
        break;
    case 1:
        (void)etcd_parse_status(&m, data + 1, size - 1);
        break;
    default:
        /* alarms name members: give it a member list first (the same bytes) */
        root = json_loadb((const char *)data + 1, size - 1, 0, NULL);
        if (root) {
            (void)etcd_parse_members_json(f, root);
            (void)etcd_parse_alarms_json(f, root);
            vet_etcd_quorum_of(&q, f);
        }
        json_decref(root);
    }
    etcd_member_clear(&m);
    vet_etcd_facts_free(f);
    return 0;
}
