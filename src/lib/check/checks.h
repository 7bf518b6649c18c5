/* Check functions, one per row of vet_checks[] (registry.c). Internal to the check module. */
#ifndef KV_CHECKS_H
#define KV_CHECKS_H

#include "kubevet/check.h"

#define VET_CHECK_FN(name) int name(const vet_ctx *ctx, vet_report *r)

/* certs.c: the node PKI */
VET_CHECK_FN(vet_check_kv101);
VET_CHECK_FN(vet_check_kv102);
VET_CHECK_FN(vet_check_kv103);
VET_CHECK_FN(vet_check_kv104);
VET_CHECK_FN(vet_check_kv105);
VET_CHECK_FN(vet_check_kv106);
VET_CHECK_FN(vet_check_kv107);
VET_CHECK_FN(vet_check_kv108);
VET_CHECK_FN(vet_check_kv109);
VET_CHECK_FN(vet_check_kv110);
VET_CHECK_FN(vet_check_kv111);

/* apis.c: removed/deprecated APIs and the apps/v1 selector rule (manifests) */
VET_CHECK_FN(vet_check_kv401);
VET_CHECK_FN(vet_check_kv402);
VET_CHECK_FN(vet_check_kv403);
VET_CHECK_FN(vet_check_kv404);
VET_CHECK_FN(vet_check_kv407);

/* etcd.c: live etcd facts (ctx->etcd) */
VET_CHECK_FN(vet_check_kv301);
VET_CHECK_FN(vet_check_kv302);
VET_CHECK_FN(vet_check_kv303);
VET_CHECK_FN(vet_check_kv304);
VET_CHECK_FN(vet_check_kv306);
VET_CHECK_FN(vet_check_kv503);
VET_CHECK_FN(vet_check_kv406); /* snapshot.c: stored objects (ctx->snapshot) */

#endif
