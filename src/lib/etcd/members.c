/* Member list, per-member status and health, alarms: facts for `etcd members|status` and the
 * KV3xx checks. Shapes are the etcd 3.4 gateway's (verified against etcd 3.4.23). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd_int.h"
#include "url.h"

/* Status, health and alarms of other members go to their own client URLs; keep each short so
 * a dead member costs seconds, not minutes. The alarm list goes through raft (etcd 3.4
 * answers it only with quorum, after its own 7 s), so it gets a short timeout too. */
#define MEMBER_TIMEOUT_MS 3000L

int etcd_json_u64(uint64_t *out, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return vet_error_set(VET_EINPUT, "etcd JSON: %s is negative", key);
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        unsigned long long x;
        if (!*s || *s == '-' || *s == '+' || *s == ' ')
            return vet_error_set(VET_EINPUT, "etcd JSON: %s: not a uint64: \"%.30s\"", key, s);
        errno = 0;
        x = strtoull(s, &end, 10);
        if (errno || *end)
            return vet_error_set(VET_EINPUT, "etcd JSON: %s: not a uint64: \"%.30s\"", key, s);
        *out = (uint64_t)x;
        return 0;
    }
    return vet_error_set(VET_EINPUT, "etcd JSON: %s: expected a decimal string", key);
}

int etcd_json_i64(int64_t *out, json_t *obj, const char *key)
{
    uint64_t u = 0;
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && json_string_value(v)[0] == '-') {
        char *end = NULL;
        long long x;
        errno = 0;
        x = strtoll(json_string_value(v), &end, 10);
        if (errno || *end)
            return vet_error_set(VET_EINPUT, "etcd JSON: %s: not an int64", key);
        *out = (int64_t)x;
        return 0;
    }
    if (etcd_json_u64(&u, obj, key))
        return VET_EINPUT;
    if (u > (uint64_t)INT64_MAX)
        return vet_error_set(VET_EINPUT, "etcd JSON: %s: out of int64 range", key);
    *out = (int64_t)u;
    return 0;
}

static int json_strv(vet_strv *sv, json_t *arr, const char *key)
{
    size_t i;
    json_t *v;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return vet_error_set(VET_EINPUT, "etcd JSON: %s: expected an array", key);
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return vet_error_set(VET_EINPUT, "etcd JSON: %s[%zu]: expected a string", key, i);
        if (vet_strv_push(sv, json_string_value(v)))
            return VET_ENOMEM;
    }
    return 0;
}

void etcd_member_clear(vet_etcd_member *m)
{
    free(m->name);
    vet_strv_free(&m->peer_urls);
    vet_strv_free(&m->client_urls);
    free(m->status_error);
    free(m->version);
    vet_strv_free(&m->errors);
    free(m->health_error);
    vet_strv_free(&m->alarms);
    memset(m, 0, sizeof *m);
}

static int parse_header(vet_etcd_facts *f, json_t *root)
{
    json_t *h = json_object_get(root, "header");
    int rc;
    if (!h)
        return 0;
    if ((rc = etcd_json_u64(&f->cluster_id, h, "cluster_id")) ||
        (rc = etcd_json_u64(&f->member_id, h, "member_id")))
        return rc;
    return etcd_json_i64(&f->revision, h, "revision");
}

int etcd_parse_members_json(vet_etcd_facts *f, json_t *root)
{
    json_t *arr = json_object_get(root, "members"), *jm;
    size_t i;
    int rc;
    if ((rc = parse_header(f, root)))
        return rc;
    if (!json_is_array(arr))
        return vet_error_set(VET_EINPUT, "etcd member list: no \"members\" array");
    {
        size_t n = f->nmembers + json_array_size(arr);
        vet_etcd_member *nm = realloc(f->members, (n ? n : 1) * sizeof *nm);
        if (!nm)
            return vet_error_set(VET_ENOMEM, "out of memory");
        f->members = nm;
    }
    json_array_foreach(arr, i, jm)
    {
        vet_etcd_member *m = &f->members[f->nmembers];
        const char *name = json_string_value(json_object_get(jm, "name"));
        memset(m, 0, sizeof *m);
        f->nmembers++;
        if (!json_is_object(jm))
            return vet_error_set(VET_EINPUT, "etcd member list: members[%zu] is not an object", i);
        if ((rc = etcd_json_u64(&m->id, jm, "ID")))
            return rc;
        if (!(m->name = strdup(name ? name : "")))
            return vet_error_set(VET_ENOMEM, "out of memory");
        if ((rc = json_strv(&m->peer_urls, json_object_get(jm, "peerURLs"), "peerURLs")) ||
            (rc = json_strv(&m->client_urls, json_object_get(jm, "clientURLs"), "clientURLs")))
            return rc;
        /* kubevet connects to the client URLs a server lists (status, health): a member list
         * naming file:// or any other scheme is refused as a whole, never followed. */
        for (size_t k = 0; k < m->peer_urls.n + m->client_urls.n; k++) {
            int peer = k < m->peer_urls.n;
            char what[96];
            snprintf(what, sizeof what, "etcd member list: members[%zu].%s[%zu]", i,
                     peer ? "peerURLs" : "clientURLs", peer ? k : k - m->peer_urls.n);
            if ((rc = vet_url_check_http(
                     peer ? m->peer_urls.v[k] : m->client_urls.v[k - m->peer_urls.n], what)))
                return rc;
        }
        m->is_learner = json_is_true(json_object_get(jm, "isLearner"));
        /* etcd's Member.IsStarted: a member publishes its name when it first starts. */
        m->started = m->name[0] != '\0';
    }
    return 0;
}

int etcd_parse_members(vet_etcd_facts *f, const unsigned char *data, size_t len)
{
    json_error_t e;
    json_t *root = json_loadb((const char *)data, len, 0, &e);
    int rc;
    if (!root)
        return vet_error_set(VET_EINPUT, "etcd member list: byte %d: %s", e.position, e.text);
    rc = etcd_parse_members_json(f, root);
    json_decref(root);
    return rc;
}

int etcd_parse_status_json(vet_etcd_member *m, json_t *root)
{
    const char *v = json_string_value(json_object_get(root, "version"));
    int rc;
    free(m->version);
    if (!(m->version = strdup(v ? v : "")))
        return vet_error_set(VET_ENOMEM, "out of memory");
    if ((rc = etcd_json_i64(&m->db_size, root, "dbSize")) ||
        (rc = etcd_json_i64(&m->db_size_in_use, root, "dbSizeInUse")) ||
        (rc = etcd_json_u64(&m->leader, root, "leader")) ||
        (rc = etcd_json_u64(&m->raft_term, root, "raftTerm")) ||
        (rc = etcd_json_u64(&m->raft_index, root, "raftIndex")) ||
        (rc = json_strv(&m->errors, json_object_get(root, "errors"), "errors")))
        return rc;
    m->status_ok = 1;
    return 0;
}

int etcd_parse_status(vet_etcd_member *m, const unsigned char *data, size_t len)
{
    json_error_t e;
    json_t *root = json_loadb((const char *)data, len, 0, &e);
    int rc;
    if (!root)
        return vet_error_set(VET_EINPUT, "etcd status: byte %d: %s", e.position, e.text);
    rc = etcd_parse_status_json(m, root);
    json_decref(root);
    return rc;
}

int etcd_parse_alarms_json(vet_etcd_facts *f, json_t *root)
{
    json_t *arr = json_object_get(root, "alarms"), *a;
    size_t i;
    if (!arr)
        return 0; /* zero values are omitted: no alarms */
    if (!json_is_array(arr))
        return vet_error_set(VET_EINPUT, "etcd alarms: \"alarms\" is not an array");
    json_array_foreach(arr, i, a)
    {
        uint64_t id = 0;
        json_t *jt = json_object_get(a, "alarm");
        const char *type = json_string_value(jt);
        char num[32];
        if (etcd_json_u64(&id, a, "memberID"))
            return VET_EINPUT;
        if (!type) { /* enum as number: NONE 0, NOSPACE 1, CORRUPT 2 */
            json_int_t t = json_integer_value(jt);
            type = t == 1 ? "NOSPACE" : t == 2 ? "CORRUPT" : t == 0 ? "NONE" : NULL;
            if (!type) {
                snprintf(num, sizeof num, "ALARM_%lld", (long long)t);
                type = num;
            }
        }
        if (!strcmp(type, "NONE"))
            continue;
        for (size_t j = 0; j < f->nmembers; j++)
            if (f->members[j].id == id && vet_strv_find(&f->members[j].alarms, type, 0) < 0 &&
                vet_strv_push(&f->members[j].alarms, type))
                return VET_ENOMEM;
    }
    return 0;
}

static int member_cmp(const void *a, const void *b)
{
    const vet_etcd_member *x = a, *y = b;
    if (x->started != y->started)
        return x->started ? -1 : 1;
    if (x->started) {
        int c = strcmp(x->name, y->name);
        if (c)
            return c;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

void etcd_sort_members(vet_etcd_facts *f)
{
    if (f->nmembers > 1)
        qsort(f->members, f->nmembers, sizeof *f->members, member_cmp);
}

static int list_members(vet_etcd_facts **out, vet_etcd *c)
{
    vet_etcd_facts *f = calloc(1, sizeof *f);
    json_t *root = NULL;
    int rc;
    *out = NULL;
    if (!f)
        return vet_error_set(VET_ENOMEM, "out of memory");
    f->quota_bytes = VET_ETCD_DEFAULT_QUOTA;
    if (!(f->endpoint = strdup(c->endpoint)) ||
        (c->cacert_node && !(f->tls_cacert = strdup(c->cacert_node))) ||
        (c->cert_node && !(f->tls_cert = strdup(c->cert_node))) ||
        (c->key_node && !(f->tls_key = strdup(c->key_node)))) {
        rc = vet_error_set(VET_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = etcd_request(c, c->endpoint, "/v3/cluster/member/list", "{}", 0, &root, NULL)))
        goto done;
    if ((rc = etcd_parse_members_json(f, root))) {
        vet_error_prefix(c->endpoint);
        goto done;
    }
    etcd_sort_members(f);
    /* Is --root one of the members? Match the static pod by peer URL, else by name. */
    if (c->pod) {
        const vet_etcd_member *m = NULL;
        for (size_t i = 0; !m && i < c->pod->initial_advertise_peer_urls.n; i++)
            m = vet_etcd_member_find(f, c->pod->initial_advertise_peer_urls.v[i]);
        if (!m && c->pod->name)
            m = vet_etcd_member_find(f, c->pod->name);
        f->pod_is_member = m != NULL;
        if (c->pod->quota_backend_bytes > 0)
            f->quota_bytes = c->pod->quota_backend_bytes;
        /* The facts own a copy: parse again rather than deep-copy field by field. */
        f->pod = c->pod;
        c->pod = NULL;
    }
done:
    json_decref(root);
    if (rc) {
        vet_etcd_facts_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int vet_etcd_members(vet_etcd_facts **out, vet_etcd *c)
{
    return list_members(out, c);
}

static void member_status(vet_etcd *c, vet_etcd_member *m)
{
    json_t *root = NULL;
    if (!m->client_urls.n) {
        m->status_error = strdup(m->started ? "no client URLs" : "never started (no client URLs)");
        m->health_checked = 1;
        m->health_error = strdup(m->status_error ? m->status_error : "");
        return;
    }
    for (size_t i = 0; i < m->client_urls.n && !m->status_ok; i++) {
        if (!etcd_request(c, m->client_urls.v[i], "/v3/maintenance/status", "{}", MEMBER_TIMEOUT_MS,
                          &root, NULL) &&
            !etcd_parse_status_json(m, root)) {
            free(m->status_error);
            m->status_error = NULL;
        } else if (!m->status_error) {
            m->status_error = strdup(vet_error_last());
        }
        json_decref(root);
        root = NULL;
    }
    for (size_t i = 0; i < m->client_urls.n && !m->healthy; i++) {
        /* etcd 3.4 /health: {"health":"true"}; "false" (HTTP 503) without a leader, with an
         * active alarm, or when a quorum read times out. */
        int rc =
            etcd_request(c, m->client_urls.v[i], "/health", NULL, MEMBER_TIMEOUT_MS, &root, NULL);
        const char *h = rc ? NULL : json_string_value(json_object_get(root, "health"));
        m->health_checked = 1;
        if (h && !strcmp(h, "true")) {
            m->healthy = 1;
            free(m->health_error);
            m->health_error = NULL;
        } else if (!m->health_error) {
            const char *reason = rc ? NULL : json_string_value(json_object_get(root, "reason"));
            m->health_error = rc ? strdup(vet_error_last())
                                 : vet_strdupf("/health: %s%s%s", h ? h : "?", reason ? ": " : "",
                                               reason ? reason : "");
        }
        json_decref(root);
        root = NULL;
    }
}

int vet_etcd_status(vet_etcd_facts **out, vet_etcd *c)
{
    vet_etcd_facts *f = NULL;
    json_t *root = NULL;
    int rc;
    *out = NULL;
    if ((rc = list_members(&f, c)))
        return rc;
    for (size_t i = 0; i < f->nmembers; i++) {
        vet_etcd_member *m = &f->members[i];
        member_status(c, m);
        if (m->status_ok && m->leader && !f->leader)
            f->leader = m->leader;
    }
    f->have_status = 1;
    if (!f->leader) {
        /* Without a leader the alarm list (a raft request) only times out: do not wait. */
        if (!(f->alarms_error = strdup("no member sees a leader, and the alarm list needs "
                                       "quorum"))) {
            rc = vet_error_set(VET_ENOMEM, "out of memory");
            goto done;
        }
    } else if (!etcd_request(c, c->endpoint, "/v3/maintenance/alarm", "{\"action\":\"GET\"}",
                             MEMBER_TIMEOUT_MS, &root, NULL)) {
        if ((rc = etcd_parse_alarms_json(f, root)))
            goto done;
        f->alarms_known = 1;
    } else {
        f->alarms_error = strdup(vet_error_last());
    }
    vet_error_clear();
done:
    json_decref(root);
    if (rc) {
        vet_etcd_facts_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void vet_etcd_facts_free(vet_etcd_facts *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nmembers; i++)
        etcd_member_clear(&f->members[i]);
    free(f->members);
    free(f->endpoint);
    free(f->alarms_error);
    free(f->tls_cacert);
    free(f->tls_cert);
    free(f->tls_key);
    vet_etcd_pod_free(f->pod);
    if (f->planned) {
        free(f->planned->name);
        free(f->planned->peer_url);
        free(f->planned);
    }
    free(f);
}

int vet_etcd_quorum_size(int voters)
{
    return voters <= 0 ? 0 : voters / 2 + 1;
}

/* A voter counts toward quorum when /health is true, or when it is false only because of an
 * alarm (etcd 3.4 fails /health on any alarm, but a NOSPACE cluster still has its quorum). */
static int counts_healthy(const vet_etcd_member *m, int have_status)
{
    if (!have_status)
        return m->started;
    return m->healthy || (m->status_ok && m->leader && m->alarms.n);
}

void vet_etcd_quorum_of(vet_etcd_quorum *q, const vet_etcd_facts *f)
{
    memset(q, 0, sizeof *q);
    q->health_known = f->have_status;
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        if (m->is_learner) {
            q->learners++;
            continue;
        }
        q->voters++;
        q->started_voters += m->started;
        q->healthy_voters += counts_healthy(m, f->have_status);
    }
    q->quorum = vet_etcd_quorum_size(q->voters);
    q->tolerance = q->healthy_voters - q->quorum;
}

char *vet_etcd_verdict(const vet_etcd_quorum *q)
{
    char learners[48] = "";
    char tail[48];
    if (q->learners)
        snprintf(learners, sizeof learners, " + %d learner%s", q->learners,
                 q->learners == 1 ? "" : "s");
    if (q->voters == 0)
        snprintf(tail, sizeof tail, "no voting members");
    else if (q->tolerance < 0)
        snprintf(tail, sizeof tail, "quorum lost");
    else
        snprintf(tail, sizeof tail, "can lose %d", q->tolerance);
    return vet_strdupf("%d voter%s%s, quorum %d, %d %s: %s", q->voters, q->voters == 1 ? "" : "s",
                       learners, q->quorum, q->healthy_voters,
                       q->health_known ? "healthy" : "started", tail);
}

const char *vet_etcd_id_hex(char *buf, uint64_t id)
{
    snprintf(buf, 17, "%" PRIx64, id);
    return buf;
}

int vet_etcd_id_parse(uint64_t *out, const char *hex)
{
    char *end = NULL;
    unsigned long long x;
    *out = 0;
    if (!hex || !*hex || strlen(hex) > 16 || *hex == '-' || *hex == '+' || *hex == ' ')
        return vet_error_set(VET_EUSAGE, "not a member ID (hex): \"%.40s\"", hex ? hex : "");
    errno = 0;
    x = strtoull(hex, &end, 16);
    if (errno || *end)
        return vet_error_set(VET_EUSAGE, "not a member ID (hex): \"%.40s\"", hex);
    *out = (uint64_t)x;
    return 0;
}

const vet_etcd_member *vet_etcd_member_find(const vet_etcd_facts *f, const char *key)
{
    uint64_t id;
    if (!key || !*key)
        return NULL;
    for (size_t i = 0; i < f->nmembers; i++)
        if (f->members[i].started && !strcmp(f->members[i].name, key))
            return &f->members[i];
    for (size_t i = 0; i < f->nmembers; i++)
        if (vet_strv_find(&f->members[i].peer_urls, key, 0) >= 0)
            return &f->members[i];
    if (!vet_etcd_id_parse(&id, key)) {
        for (size_t i = 0; i < f->nmembers; i++)
            if (f->members[i].id == id)
                return &f->members[i];
    }
    vet_error_clear();
    return NULL;
}

static json_t *strv_json(const vet_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

json_t *vet_etcd_facts_to_json(const vet_etcd_facts *f)
{
    json_t *o = json_object(), *arr = json_array();
    vet_etcd_quorum q;
    char hex[17];
    char *verdict;
    if (!o || !arr) {
        json_decref(o);
        json_decref(arr);
        return NULL;
    }
    vet_etcd_quorum_of(&q, f);
    verdict = vet_etcd_verdict(&q);
    json_object_set_new(o, "endpoint", json_string(f->endpoint ? f->endpoint : ""));
    json_object_set_new(o, "cluster_id", json_string(vet_etcd_id_hex(hex, f->cluster_id)));
    for (size_t i = 0; i < f->nmembers; i++) {
        const vet_etcd_member *m = &f->members[i];
        json_t *jm = json_object();
        if (!jm)
            break;
        json_object_set_new(jm, "name", json_string(m->name));
        json_object_set_new(jm, "id", json_string(vet_etcd_id_hex(hex, m->id)));
        json_object_set_new(jm, "peer_urls", strv_json(&m->peer_urls));
        json_object_set_new(jm, "client_urls", strv_json(&m->client_urls));
        json_object_set_new(jm, "is_learner", json_boolean(m->is_learner));
        json_object_set_new(jm, "started", json_boolean(m->started));
        if (f->have_status) {
            json_object_set_new(jm, "reachable", json_boolean(m->status_ok));
            if (m->status_ok) {
                json_object_set_new(jm, "version", json_string(m->version));
                json_object_set_new(jm, "db_size", json_integer(m->db_size));
                json_object_set_new(jm, "db_size_in_use", json_integer(m->db_size_in_use));
                json_object_set_new(jm, "is_leader", json_boolean(m->leader && m->leader == m->id));
                json_object_set_new(jm, "leader", json_string(vet_etcd_id_hex(hex, m->leader)));
                /* Raft term and index are uint64 too, but stay far below 2^53 (one per
                 * election / entry): plain JSON numbers. */
                json_object_set_new(jm, "raft_term", json_integer((json_int_t)m->raft_term));
                json_object_set_new(jm, "raft_index", json_integer((json_int_t)m->raft_index));
                json_object_set_new(jm, "errors", strv_json(&m->errors));
            } else {
                json_object_set_new(jm, "status_error",
                                    json_string(m->status_error ? m->status_error : ""));
            }
            json_object_set_new(jm, "healthy", json_boolean(m->healthy));
            if (!m->healthy && m->health_error)
                json_object_set_new(jm, "health_error", json_string(m->health_error));
            json_object_set_new(jm, "alarms", strv_json(&m->alarms));
        }
        json_array_append_new(arr, jm);
    }
    json_object_set_new(o, "members", arr);
    json_object_set_new(o, "voters", json_integer(q.voters));
    json_object_set_new(o, "learners", json_integer(q.learners));
    json_object_set_new(o, "quorum", json_integer(q.quorum));
    json_object_set_new(o, "healthy_voters", json_integer(q.healthy_voters));
    json_object_set_new(o, "tolerance", json_integer(q.tolerance));
    if (f->have_status) {
        json_object_set_new(o, "leader", json_string(vet_etcd_id_hex(hex, f->leader)));
        json_object_set_new(o, "alarms_known", json_boolean(f->alarms_known));
    }
    json_object_set_new(o, "verdict", json_string(verdict ? verdict : ""));
    free(verdict);
    return o;
}
