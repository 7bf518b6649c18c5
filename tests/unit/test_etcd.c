/* etcd module: gateway JSON shapes (recorded from etcd 3.4.23), quorum arithmetic, the IDs etcd
 * derives at bootstrap, verdicts, plans and the KV3xx checks on fixture facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/checks.h"
#include "etcd/etcd_int.h"
#include "kubevet/catalog.h"
#include "kubevet/etcd.h"
#include "url.h"

#define S(x) (const unsigned char *)(x), strlen(x)

/* etcd 3.4.23, `member add` of a voter to a 1-member cluster that never started (the trap). */
static const char trap_list[] =
    "{\"header\":{\"cluster_id\":\"17368989521238926805\",\"member_id\":\"17628310501313495538\","
    "\"raft_term\":\"2\"},\"members\":[{\"ID\":\"161916674252148758\",\"peerURLs\":"
    "[\"http://127.0.0.1:24802\"]},{\"ID\":\"17628310501313495538\",\"name\":\"a\",\"peerURLs\":"
    "[\"http://127.0.0.1:24801\"],\"clientURLs\":[\"http://127.0.0.1:24791\"]}]}";

static vet_etcd_facts *facts_from(const char *json)
{
    vet_etcd_facts *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->quota_bytes = VET_ETCD_DEFAULT_QUOTA;
    assert_int_equal(etcd_parse_members(f, S(json)), 0);
    etcd_sort_members(f);
    return f;
}

static void test_members_big_ids(void **st)
{
    vet_etcd_facts *f = facts_from(trap_list);
    char hex[17];
    (void)st;
    assert_int_equal(f->nmembers, 2);
    /* 17628310501313495538 > 2^63 > 2^53: must survive exactly */
    assert_true(f->cluster_id == 17368989521238926805ULL);
    assert_true(f->member_id == 17628310501313495538ULL);
    assert_string_equal(f->members[0].name, "a");
    assert_true(f->members[0].id == 17628310501313495538ULL);
    assert_string_equal(vet_etcd_id_hex(hex, f->members[0].id), "f4a457008d1441f2");
    assert_true(f->members[0].started);
    assert_false(f->members[1].started);
    assert_int_equal(f->members[1].client_urls.n, 0);
    /* unpadded, as etcdctl prints: 161916674252148758 = 0x23f3e5b7c031016 (15 digits) */
    assert_string_equal(vet_etcd_id_hex(hex, f->members[1].id), "23f3e5b7c031016");
    assert_ptr_equal(vet_etcd_member_find(f, "23f3e5b7c031016"), &f->members[1]);
    assert_ptr_equal(vet_etcd_member_find(f, "http://127.0.0.1:24802"), &f->members[1]);
    vet_etcd_facts_free(f);
}

static void test_json_u64(void **st)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:s}", "a", "18446744073709551615", "b", "-1", "c",
                          "12x", "d", 42, "e", "");
    uint64_t v;
    (void)st;
    assert_int_equal(etcd_json_u64(&v, o, "a"), 0);
    assert_true(v == UINT64_MAX);
    assert_int_not_equal(etcd_json_u64(&v, o, "b"), 0);
    assert_int_not_equal(etcd_json_u64(&v, o, "c"), 0);
    assert_int_equal(etcd_json_u64(&v, o, "d"), 0);
    assert_true(v == 42);
    assert_int_not_equal(etcd_json_u64(&v, o, "e"), 0);
    assert_int_equal(etcd_json_u64(&v, o, "absent"), 0); /* zero values are omitted */
    assert_true(v == 0);
    json_decref(o);
}

static void test_status_shape(void **st)
{
    static const char js[] =
        "{\"header\":{\"cluster_id\":\"17368989521238926805\",\"member_id\":"
        "\"17628310501313495538\",\"revision\":\"1\",\"raft_term\":\"2\"},\"version\":\"3.4.23\","
        "\"dbSize\":\"20480\",\"raftIndex\":\"5\",\"raftTerm\":\"2\",\"raftAppliedIndex\":\"5\","
        "\"errors\":[\"etcdserver: no leader\"],\"dbSizeInUse\":\"16384\"}";
    vet_etcd_member m;
    (void)st;
    memset(&m, 0, sizeof m);
    assert_int_equal(etcd_parse_status(&m, S(js)), 0);
    assert_string_equal(m.version, "3.4.23");
    assert_true(m.db_size == 20480 && m.db_size_in_use == 16384);
    assert_true(m.leader == 0); /* omitted: no leader */
    assert_true(m.raft_index == 5 && m.raft_term == 2);
    assert_int_equal(m.errors.n, 1);
    assert_string_equal(m.errors.v[0], "etcdserver: no leader");
    etcd_member_clear(&m);
    assert_int_not_equal(etcd_parse_status(&m, S("{\"dbSize\":\"x\"}")), 0);
    etcd_member_clear(&m);
    assert_int_not_equal(etcd_parse_status(&m, S("{not json")), 0);
    etcd_member_clear(&m);
}

static void test_alarms(void **st)
{
    vet_etcd_facts *f = facts_from(trap_list);
    json_t *a = json_loads("{\"alarms\":[{\"memberID\":\"17628310501313495538\",\"alarm\":"
                           "\"NOSPACE\"},{\"memberID\":\"1\",\"alarm\":\"CORRUPT\"}]}",
                           0, NULL);
    (void)st;
    assert_int_equal(etcd_parse_alarms_json(f, a), 0);
    assert_int_equal(f->members[0].alarms.n, 1);
    assert_string_equal(f->members[0].alarms.v[0], "NOSPACE");
    json_decref(a);
    vet_etcd_facts_free(f);
}

static void test_quorum_and_verdicts(void **st)
{
    static const struct {
        int voters, learners, healthy;
        const char *verdict;
    } t[] = {
        {3, 0, 3, "3 voters, quorum 2, 3 healthy: can lose 1"},
        {3, 0, 2, "3 voters, quorum 2, 2 healthy: can lose 0"},
        {2, 0, 1, "2 voters, quorum 2, 1 healthy: quorum lost"},
        {1, 1, 1, "1 voter + 1 learner, quorum 1, 1 healthy: can lose 0"},
        {5, 0, 5, "5 voters, quorum 3, 5 healthy: can lose 2"},
        {4, 0, 4, "4 voters, quorum 3, 4 healthy: can lose 1"},
    };
    (void)st;
    assert_int_equal(vet_etcd_quorum_size(0), 0);
    assert_int_equal(vet_etcd_quorum_size(1), 1);
    assert_int_equal(vet_etcd_quorum_size(2), 2);
    assert_int_equal(vet_etcd_quorum_size(3), 2);
    assert_int_equal(vet_etcd_quorum_size(4), 3);
    assert_int_equal(vet_etcd_quorum_size(7), 4);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vet_etcd_facts f;
        vet_etcd_member m[8];
        vet_etcd_quorum q;
        char *v;
        memset(&f, 0, sizeof f);
        memset(m, 0, sizeof m);
        f.members = m;
        f.nmembers = (size_t)(t[i].voters + t[i].learners);
        f.have_status = 1;
        for (int j = 0; j < t[i].voters + t[i].learners; j++) {
            m[j].started = 1;
            m[j].is_learner = j >= t[i].voters;
            m[j].healthy = j < t[i].healthy || j >= t[i].voters;
        }
        vet_etcd_quorum_of(&q, &f);
        v = vet_etcd_verdict(&q);
        assert_string_equal(v, t[i].verdict);
        free(v);
    }
}

/* Verified against etcd 3.4.23: `etcd --initial-cluster m1=http://127.0.0.1:23801
 * --initial-cluster-token tok1` -> member 5485ed9a2f08260c, cluster f68a727a17953d73
 * (17765137548823575923). */
static void test_member_and_cluster_ids(void **st)
{
    const char *u1[] = {"http://127.0.0.1:23801"};
    const char *u2[] = {"https://b:2380", "https://a:2380"};
    const char *u2s[] = {"https://a:2380", "https://b:2380"};
    uint64_t id, id2, cid, ids[3];
    (void)st;
    assert_int_equal(vet_etcd_member_id(&id, u1, 1, "tok1"), 0);
    assert_true(id == 0x5485ed9a2f08260cULL);
    assert_int_equal(vet_etcd_cluster_id(&cid, &id, 1), 0);
    assert_true(cid == 17765137548823575923ULL);
    /* peer URLs are sorted before hashing */
    assert_int_equal(vet_etcd_member_id(&id, u2, 2, "t"), 0);
    assert_int_equal(vet_etcd_member_id(&id2, u2s, 2, "t"), 0);
    assert_true(id == id2);
    /* member IDs are sorted for the cluster ID */
    ids[0] = 3;
    ids[1] = 1;
    ids[2] = 2;
    assert_int_equal(vet_etcd_cluster_id(&cid, ids, 3), 0);
    ids[0] = 1;
    ids[1] = 2;
    ids[2] = 3;
    assert_int_equal(vet_etcd_cluster_id(&id2, ids, 3), 0);
    assert_true(cid == id2);
}

static vet_etcd_facts *one_healthy(void)
{
    vet_etcd_facts *f = facts_from(
        "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{\"ID\":\"6090535317558273548\","
        "\"name\":\"m1\",\"peerURLs\":[\"http://127.0.0.1:23801\"],\"clientURLs\":"
        "[\"http://127.0.0.1:23791\"]}]}");
    f->have_status = 1;
    f->members[0].healthy = 1;
    f->members[0].status_ok = 1;
    f->members[0].leader = f->members[0].id;
    return f;
}

/* No line of a plan (steps or alternatives) contains needle. */
static int plan_has(const vet_etcd_plan *p, const char *needle)
{
    for (size_t i = 0; i < p->steps.n; i++)
        if (strstr(p->steps.v[i], needle))
            return 1;
    for (size_t i = 0; i < p->alternatives.n; i++)
        if (strstr(p->alternatives.v[i], needle))
            return 1;
    return 0;
}

static void test_plan_add_trap(void **st)
{
    vet_etcd_facts *f = one_healthy();
    vet_etcd_plan *p = NULL;
    (void)st;
    assert_int_equal(vet_etcd_plan_add_member(&p, f, "m2", "http://127.0.0.1:23802", 0), 0);
    assert_true(p->refused);
    assert_int_equal(p->before.quorum, 1);
    assert_int_equal(p->after.quorum, 2);
    assert_true(p->after.tolerance < 0);
    assert_string_equal(p->initial_cluster, "m1=http://127.0.0.1:23801,m2=http://127.0.0.1:23802");
    /* refused: no steps; the alternative is the learner path, never a voting add */
    assert_int_equal(p->steps.n, 0);
    assert_true(plan_has(p, "--learner"));
    assert_non_null(strstr(p->refusal, "1 voting member is healthy"));
    assert_non_null(p->fix);
    vet_etcd_plan_free(p);
    /* a learner add: 1 voter + 1 learner, quorum stays 1 */
    assert_int_equal(vet_etcd_plan_add_member(&p, f, "m2", "http://127.0.0.1:23802", 1), 0);
    assert_false(p->refused);
    assert_int_equal(p->after.voters, 1);
    assert_int_equal(p->after.learners, 1);
    assert_int_equal(p->after.quorum, 1);
    assert_int_equal(p->after.tolerance, 0);
    assert_true(plan_has(p, "member add m2 --peer-urls=http://127.0.0.1:23802 --learner"));
    /* http endpoints: no TLS flags */
    assert_false(plan_has(p, "--cacert"));
    assert_false(plan_has(p, "--etcd-cacert"));
    vet_etcd_plan_free(p);
    /* existing member name: usage error; file:// peer URL and a shell-hostile name: bad input */
    assert_int_not_equal(vet_etcd_plan_add_member(&p, f, "m1", "http://x:1", 1), 0);
    assert_int_equal(vet_etcd_plan_add_member(&p, f, "m2", "file:///etc/passwd", 1), VET_EINPUT);
    assert_int_equal(vet_etcd_plan_add_member(&p, f, "m$(id)", "http://x:1", 1), VET_EINPUT);
    assert_null(p);
    vet_etcd_facts_free(f);
}

/* n voters m1..mn on http or https; the first `up` answer and are healthy, the rest do not
 * answer at all; learners after the voters (healthy). */
static vet_etcd_facts *cluster(int n, int up, int learners, const char *scheme)
{
    vet_etcd_facts *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->quota_bytes = VET_ETCD_DEFAULT_QUOTA;
    f->have_status = 1;
    f->nmembers = (size_t)(n + learners);
    f->members = calloc(f->nmembers, sizeof *f->members);
    assert_non_null(f->members);
    for (int i = 0; i < n + learners; i++) {
        vet_etcd_member *m = &f->members[i];
        char buf[64];
        m->id = 0x1000u + (uint64_t)i;
        snprintf(buf, sizeof buf, "m%d", i + 1);
        m->name = strdup(buf);
        m->started = 1;
        m->is_learner = i >= n;
        snprintf(buf, sizeof buf, "%s://10.0.0.%d:2380", scheme, i + 1);
        vet_strv_push(&m->peer_urls, buf);
        snprintf(buf, sizeof buf, "%s://10.0.0.%d:2379", scheme, i + 1);
        vet_strv_push(&m->client_urls, buf);
        m->health_checked = 1;
        if (i < up || i >= n) {
            m->status_ok = 1;
            m->raft_index = 100 + (uint64_t)i;
            m->healthy = 1;
            m->leader = 0x1000u;
        }
    }
    /* without quorum a member answers status but has no leader and /health is false */
    if (vet_etcd_quorum_size(n) > up)
        for (int i = 0; i < up; i++) {
            f->members[i].healthy = 0;
            f->members[i].leader = 0;
        }
    f->endpoint = strdup(f->members[0].client_urls.v[0]);
    return f;
}

/* The remove-member branches a tired operator meets, and what each must never print. */
static void test_plan_remove_branches(void **st)
{
    vet_etcd_facts *f;
    vet_etcd_plan *p = NULL;
    (void)st;

    /* 2 members, m2 down: quorum lost. Removing either is refused; the alternatives bring m2
     * back or rebuild from m1's data; nothing empties a data dir or removes a member. */
    f = cluster(2, 1, 0, "http");
    for (int k = 0; k < 2; k++) {
        assert_int_equal(vet_etcd_plan_remove_member(&p, f, k ? "m1" : "m2"), 0);
        assert_true(p->refused);
        assert_int_equal(p->steps.n, 0);
        assert_false(plan_has(p, "member remove"));
        assert_false(plan_has(p, "data-dir"));
        assert_false(plan_has(p, "empty"));
        assert_true(plan_has(p, "rebuild from m1"));
        assert_true(plan_has(p, "--force-new-cluster"));
        assert_true(plan_has(p, "m2 (peer https://10.0.0.2:2380)") ||
                    plan_has(p, "m2 (peer http://10.0.0.2:2380)"));
        assert_non_null(strstr(p->refusal, "0 of 2 voting members are healthy"));
        assert_non_null(strstr(p->fix, "bring m2 back"));
        assert_null(strstr(p->fix, "m1 back"));
        vet_etcd_plan_free(p);
    }
    vet_etcd_facts_free(f);

    /* 3 members, m3 down: removing healthy m1 is refused (2 voters, 1 healthy) */
    f = cluster(3, 2, 0, "http");
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "m1"), 0);
    assert_true(p->refused);
    assert_int_equal(p->steps.n, 0);
    assert_false(plan_has(p, "member remove"));
    assert_false(plan_has(p, "data-dir"));
    assert_true(plan_has(p, "Bring m3 back"));
    assert_non_null(strstr(p->refusal, "1 of 2 voting members would be healthy"));
    vet_etcd_plan_free(p);
    /* ...removing the down m3 is fine, through the healthy members, without TLS flags */
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "m3"), 0);
    assert_false(p->refused);
    assert_true(plan_has(p, "etcdctl --endpoints=http://10.0.0.1:2379,http://10.0.0.2:2379 "
                            "member remove 1002"));
    assert_false(plan_has(p, "--cacert"));
    assert_false(plan_has(p, "empty"));
    assert_int_equal(p->after.voters, 2);
    assert_int_equal(p->after.quorum, 2);
    assert_int_equal(p->after.tolerance, 0);
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);

    /* 5 members, 2 down: removing a healthy one is refused; removing a down one first is an
     * alternative that keeps quorum */
    f = cluster(5, 3, 0, "http");
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "m1"), 0);
    assert_true(p->refused);
    assert_true(plan_has(p, "remove it first"));
    assert_false(plan_has(p, "member remove"));
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);

    /* 3 healthy + 1 voter that never started (quorum 3 of 4): removing it is fine and prints
     * no data-dir step (it has none); with quorum lost (the 1 -> 2 trap) it is refused and the
     * fix starts it for the first time instead of "bringing it back with its data" */
    f = cluster(4, 3, 0, "http");
    free(f->members[3].name);
    f->members[3].name = strdup("");
    f->members[3].started = 0;
    vet_strv_free(&f->members[3].client_urls);
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "1003"), 0);
    assert_false(p->refused);
    assert_true(plan_has(p, "member remove 1003"));
    assert_true(plan_has(p, "never started, so no node holds data for it"));
    assert_int_equal(p->after.voters, 3);
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);
    f = facts_from(trap_list);
    f->have_status = 1;
    f->members[0].status_ok = 1;
    f->members[0].health_checked = 1;
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "23f3e5b7c031016"), 0);
    assert_true(p->refused);
    assert_false(plan_has(p, "member remove"));
    assert_true(plan_has(p, "--initial-cluster-state=existing"));
    assert_non_null(strstr(p->fix, "for the first time"));
    assert_null(strstr(p->fix, "data directory as it is"));
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);

    /* the only voter: refused */
    f = cluster(1, 1, 0, "http");
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "m1"), 0);
    assert_true(p->refused);
    assert_false(plan_has(p, "member remove"));
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);

    /* 3 voters + a learner: removing the learner keeps quorum 2 */
    f = cluster(3, 3, 1, "https");
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "m4"), 0);
    assert_false(p->refused);
    assert_int_equal(p->after.voters, 3);
    assert_int_equal(p->after.learners, 0);
    assert_int_equal(p->after.quorum, 2);
    /* https but no TLS files known: placeholders and a note, never paths that do not exist */
    assert_true(plan_has(p, "--cacert=<etcd-ca.crt>"));
    assert_true(plan_has(p, "healthcheck-client"));
    vet_etcd_plan_free(p);
    /* with the node's files: those paths */
    f->tls_cacert = strdup("/etc/kubernetes/pki/etcd/ca.crt");
    f->tls_cert = strdup("/etc/kubernetes/pki/etcd/healthcheck-client.crt");
    f->tls_key = strdup("/etc/kubernetes/pki/etcd/healthcheck-client.key");
    assert_int_equal(vet_etcd_plan_add_member(&p, f, "m5", "https://10.0.0.5:2380", 1), 0);
    /* one learner already: etcd 3.4 refuses a second */
    assert_true(p->refused);
    assert_false(plan_has(p, "member add"));
    vet_etcd_plan_free(p);
    assert_int_equal(vet_etcd_plan_remove_member(&p, f, "m4"), 0);
    assert_true(plan_has(p, "--cacert=/etc/kubernetes/pki/etcd/ca.crt "
                            "--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt"));
    assert_false(plan_has(p, "<etcd-ca.crt>"));
    vet_etcd_plan_free(p);
    vet_etcd_facts_free(f);
}

static void test_url_schemes(void **st)
{
    static const char *const ok[] = {"http://127.0.0.1:2379", "https://10.0.0.1:2379",
                                     "HTTPS://cp-1.example:2379/", "http://[::1]:2379"};
    static const char *const bad[] = {"file:///etc/passwd",
                                      "unix:///run/etcd.sock",
                                      "ftp://x/",
                                      "gopher://x:70/",
                                      "http://",
                                      "https:///x",
                                      "http://a b",
                                      "http://user@host:2379",
                                      "127.0.0.1:2379",
                                      "",
                                      "http://x\x1b[2J"};
    vet_etcd_facts f;
    (void)st;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(vet_url_check_http(ok[i], "t"), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vet_url_check_http(bad[i], "t"), VET_EINPUT);
        assert_null(strchr(vet_error_last(), 0x1b));
    }
    /* a member list naming a file:// client URL is refused as a whole */
    memset(&f, 0, sizeof f);
    assert_int_equal(etcd_parse_members(&f, S("{\"members\":[{\"ID\":\"1\",\"name\":\"a\","
                                              "\"peerURLs\":[\"http://a:2380\"],\"clientURLs\":"
                                              "[\"file:///etc/passwd\"]}]}")),
                     VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "clientURLs[0]"));
    for (size_t i = 0; i < f.nmembers; i++)
        etcd_member_clear(&f.members[i]);
    free(f.members);
}

static void test_checks_trap(void **st)
{
    vet_etcd_facts *f = facts_from(trap_list);
    vet_report r;
    vet_ctx ctx;
    size_t kv301 = 0, kv304 = 0;
    (void)st;
    f->have_status = 1;
    f->members[0].status_ok = 1;
    f->members[0].health_checked = 1; /* /health false: no leader */
    memset(&ctx, 0, sizeof ctx);
    ctx.etcd = f;
    assert_int_equal(vet_report_init(&r, "test", 0), 0);
    assert_int_equal(vet_check_kv301(&ctx, &r), 0);
    assert_int_equal(vet_check_kv302(&ctx, &r), 0);
    assert_int_equal(vet_check_kv304(&ctx, &r), 0);
    for (size_t i = 0; i < r.nfindings; i++) {
        kv301 += !strcmp(r.findings[i].id, "KV301");
        kv304 += !strcmp(r.findings[i].id, "KV304");
    }
    /* unstarted voter, even size (2), quorum lost */
    assert_int_equal(kv301, 3);
    assert_int_equal(kv304, 1);
    vet_report_free(&r);
    vet_etcd_facts_free(f);
}

static void test_kv306_kv503(void **st)
{
    vet_etcd_facts *f = one_healthy();
    vet_report r;
    vet_ctx ctx;
    (void)st;
    f->members[0].version = strdup("3.4.23");
    f->members[0].db_size = (int64_t)1800 << 20; /* 1.76 GiB of 2 GiB = 88% */
    memset(&ctx, 0, sizeof ctx);
    ctx.etcd = f;
    ctx.target = "1.26";
    assert_int_equal(vet_report_init(&r, "test", 0), 0);
    assert_int_equal(vet_check_kv306(&ctx, &r), 0);
    assert_int_equal(vet_check_kv503(&ctx, &r), 0);
    assert_int_equal(r.nfindings, 2);
    assert_string_equal(r.findings[0].id, "KV306");
    assert_string_equal(r.findings[1].id, "KV503");
    /* kubeadm's etcd for the target comes from the release data (data/releases.yaml: 1.26) */
    assert_non_null(strstr(r.findings[1].message, "kubeadm 1.26 deploys etcd 3.5.10-0"));
    vet_report_free(&r);
    {
        static const char d[] = "releases:\n  - {minor: \"1.26\", newest: \"1.26.99\", etcd: "
                                "\"3.5.77-0\"}\n";
        vet_releases *rel = NULL;
        assert_int_equal(vet_releases_parse(&rel, (const unsigned char *)d, strlen(d), "d"), 0);
        ctx.releases = rel;
        assert_int_equal(vet_report_init(&r, "test", 0), 0);
        assert_int_equal(vet_check_kv503(&ctx, &r), 0);
        assert_int_equal(r.nfindings, 1);
        assert_non_null(strstr(r.findings[0].message, "kubeadm 1.26 deploys etcd 3.5.77-0"));
        vet_report_free(&r);
        ctx.releases = NULL;
        vet_releases_free(rel);
    }
    /* 1.21 with 3.4: fine; 1.22 with 3.3: warn */
    assert_int_equal(vet_report_init(&r, "test", 0), 0);
    ctx.target = "v1.21.3";
    assert_int_equal(vet_check_kv503(&ctx, &r), 0);
    assert_int_equal(r.nfindings, 0);
    free(f->members[0].version);
    f->members[0].version = strdup("3.3.17");
    ctx.target = "1.22";
    assert_int_equal(vet_check_kv503(&ctx, &r), 0);
    assert_int_equal(r.nfindings, 1);
    vet_report_free(&r);
    vet_etcd_facts_free(f);
}

static void test_pod_parse(void **st)
{
    static const char y[] =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n"
        "  containers:\n  - command:\n    - etcd\n    - "
        "--advertise-client-urls=https://10.0.0.11:2379\n"
        "    - --cert-file=/etc/kubernetes/pki/etcd/server.crt\n    - --client-cert-auth=true\n"
        "    - --data-dir=/var/lib/etcd\n    - "
        "--initial-advertise-peer-urls=https://10.0.0.11:2380\n"
        "    - --initial-cluster=cp1=https://10.0.0.11:2380\n    - --name=cp1\n"
        "    - --quota-backend-bytes=8589934592\n    image: registry.k8s.io/etcd:3.5.6-0\n"
        "    name: etcd\n    volumeMounts:\n    - mountPath: /var/lib/etcd\n      name: etcd-data\n"
        "  volumes:\n  - hostPath:\n      path: /var/lib/etcd\n      type: DirectoryOrCreate\n"
        "    name: etcd-data\n";
    vet_etcd_pod *p = NULL;
    (void)st;
    assert_int_equal(vet_etcd_pod_parse(&p, S(y), "etc/kubernetes/manifests/etcd.yaml"), 0);
    assert_string_equal(p->name, "cp1");
    assert_string_equal(p->advertise_client_urls.v[0], "https://10.0.0.11:2379");
    assert_string_equal(p->initial_cluster, "cp1=https://10.0.0.11:2380");
    assert_string_equal(p->initial_cluster_token, "etcd-cluster");
    assert_true(p->quota_backend_bytes == 8589934592LL);
    assert_string_equal(p->data_host_path, "/var/lib/etcd");
    vet_etcd_pod_free(p);
    assert_int_not_equal(vet_etcd_pod_parse(&p, S("kind: Pod\nspec: {}\n"), "x.yaml"), 0);
    assert_null(p);
}

static void test_restore_plan_ids(void **st)
{
    vet_etcd_restore_member m[3] = {{"a", "https://10.0.0.1:2380"},
                                    {"b", "https://10.0.0.2:2380"},
                                    {"c", "https://10.0.0.3:2380"}};
    vet_etcd_plan *p = NULL;
    uint64_t ids[3], cid;
    char hex[17];
    (void)st;
    assert_int_equal(vet_etcd_plan_restore(&p, "s.db", m, 3, NULL, NULL, NULL), 0);
    for (int i = 0; i < 3; i++) {
        const char *u = m[i].peer_url;
        assert_int_equal(vet_etcd_member_id(&ids[i], &u, 1, "etcd-cluster"), 0);
    }
    assert_int_equal(vet_etcd_cluster_id(&cid, ids, 3), 0);
    assert_string_equal(json_string_value(json_object_get(p->extra, "cluster_id")),
                        vet_etcd_id_hex(hex, cid));
    assert_string_equal(p->initial_cluster,
                        "a=https://10.0.0.1:2380,b=https://10.0.0.2:2380,c=https://10.0.0.3:2380");
    vet_etcd_plan_free(p);
}

static size_t count_id(const vet_report *r, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += !strcmp(r->findings[i].id, id);
    return n;
}

/* KV303 on kubeadm's lists: the local member alone (init/upgrade) and the members at join time
 * are normal; a member that no longer exists or a wrong peer URL is drift. */
static void test_kv303_kubeadm_lists(void **st)
{
    static const struct {
        const char *ic;
        size_t want;
    } t[] = {
        {"m1=http://10.0.0.1:2380", 0},                           /* kubeadm init: self only */
        {"m1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380", 0},   /* joined before m3 */
        {"m1=http://10.0.0.1:2380,gone=http://10.0.0.9:2380", 1}, /* removed member */
        {"m1=http://10.0.0.1:2380,m2=http://10.0.0.7:2380", 1},   /* wrong peer URL */
        {"m2=http://10.0.0.2:2380", 1},                           /* this member missing */
    };
    static const char y[] = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: etcd\n"
                            "    command:\n    - etcd\n    - --name=m1\n"
                            "    - --initial-advertise-peer-urls=http://10.0.0.1:2380\n"
                            "    - --advertise-client-urls=http://10.0.0.1:2379\n";
    (void)st;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vet_etcd_facts *f = cluster(3, 3, 0, "http");
        vet_report r;
        vet_ctx ctx;
        assert_int_equal(vet_etcd_pod_parse(&f->pod, S(y), "etc/kubernetes/manifests/etcd.yaml"),
                         0);
        f->pod->initial_cluster = strdup(t[i].ic);
        f->pod_is_member = 1;
        memset(&ctx, 0, sizeof ctx);
        ctx.etcd = f;
        assert_int_equal(vet_report_init(&r, "test", 0), 0);
        assert_int_equal(vet_check_kv303(&ctx, &r), 0);
        assert_int_equal(vet_check_kv304(&ctx, &r), 0);
        if (count_id(&r, "KV303") != t[i].want)
            fail_msg("%s: %zu KV303, want %zu", t[i].ic, count_id(&r, "KV303"), t[i].want);
        assert_int_equal(count_id(&r, "KV304"), 0);
        vet_report_free(&r);
        vet_etcd_facts_free(f);
    }
}

/* URLs in etcd.yaml: only http(s); the error names the file and line. */
static void test_pod_url_schemes(void **st)
{
    static const char y[] = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: etcd\n"
                            "    command:\n    - etcd\n    - --name=m1\n"
                            "    - --advertise-client-urls=file:///etc/shadow\n";
    static const char y2[] = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: etcd\n"
                             "    command:\n    - etcd\n"
                             "    - --listen-client-urls=https://127.0.0.1:2379,gopher://x:70\n";
    vet_etcd_pod *p = NULL;
    (void)st;
    assert_int_equal(vet_etcd_pod_parse(&p, S(y), "etc/kubernetes/manifests/etcd.yaml"),
                     VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "etc/kubernetes/manifests/etcd.yaml:9"));
    assert_int_equal(vet_etcd_pod_parse(&p, S(y2), "e.yaml"), VET_EINPUT);
    assert_null(p);
}

static void test_restore_plan_guards(void **st)
{
    vet_etcd_restore_member m[1] = {{"a", "https://10.0.0.1:2380"}};
    vet_etcd_restore_member bad[1] = {{"a", "file:///x"}};
    vet_etcd_plan *p = NULL;
    (void)st;
    /* the live data dir is never the restore target */
    assert_int_equal(vet_etcd_plan_restore(&p, "s.db", m, 1, NULL, "/var/lib/etcd", NULL),
                     VET_EUSAGE);
    assert_int_equal(vet_etcd_plan_restore(&p, "s.db", bad, 1, NULL, NULL, NULL), VET_EINPUT);
    assert_int_equal(vet_etcd_plan_restore(&p, "s.db", m, 1, NULL, NULL, NULL), 0);
    assert_true(plan_has(p, "mv /var/lib/etcd /var/lib/etcd.before-restore"));
    assert_true(plan_has(p, "1 voter, quorum 1, 1 healthy"));
    vet_etcd_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_big_ids),     cmocka_unit_test(test_json_u64),
        cmocka_unit_test(test_status_shape),        cmocka_unit_test(test_alarms),
        cmocka_unit_test(test_quorum_and_verdicts), cmocka_unit_test(test_member_and_cluster_ids),
        cmocka_unit_test(test_plan_add_trap),       cmocka_unit_test(test_checks_trap),
        cmocka_unit_test(test_kv306_kv503),         cmocka_unit_test(test_pod_parse),
        cmocka_unit_test(test_restore_plan_ids),    cmocka_unit_test(test_plan_remove_branches),
        cmocka_unit_test(test_url_schemes),         cmocka_unit_test(test_kv303_kubeadm_lists),
        cmocka_unit_test(test_pod_url_schemes),     cmocka_unit_test(test_restore_plan_guards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
