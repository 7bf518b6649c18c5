/* The API client's decoding of untrusted server bytes: LIST pages (walked as text, each item
 * decoded alone), Status bodies, and the per-item reduction to facts that `check` does. */
#include <stdint.h>
#include <stdlib.h>

#include "kubevet/k8s.h"

static int on_item(void *ud, json_t *item)
{
    size_t *n = ud;
    (*n)++;
    /* Touch what the API source reads from an item, with the types the server may lie about. */
    json_t *meta = json_object_get(item, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    json_t *l = json_object_get(json_object_get(meta, "labels"), "node-role.kubernetes.io/master");
    if (name && l)
        (*n)++;
    return *n > 100000 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    long code = 0;
    char *cont = NULL, *reason = NULL, *msg;
    vet_k8s_decode_page((const char *)data, size, on_item, &n, &cont);
    free(cont);
    msg = vet_k8s_status_message((const char *)data, size, &code, &reason);
    free(msg);
    free(reason);
    return 0;
}
