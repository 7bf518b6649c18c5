/* util: time arithmetic, durations, root-confined paths, the atomic writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"
#include "error.h"
#include "fs.h"
#include "parallel.h"
#include "vtime.h"

static void test_time_parse(void **state)
{
    static const struct {
        const char *in;
        int64_t want;
        int ok;
    } cases[] = {
        {"1970-01-01", 0, 1},
        {"2026-11-22T12:00:00Z", 1795348800, 1},
        {"2026-11-22T13:00:00+01:00", 1795348800, 1},
        {"2026-11-22T12:00:00.123456Z", 1795348800, 1},
        {"2000-02-29", 951782400, 1},
        {"2026-11-22T12:00:00", 0, 0}, /* no zone: ambiguous */
        {"2026-13-01", 0, 0},
        {"yesterday", 0, 0},
        {"", 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = -1;
        int rc = vet_time_parse(&t, cases[i].in);
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_int_equal(t, cases[i].want);
        } else {
            assert_int_equal(rc, VET_EUSAGE);
        }
    }
}

static void test_time_format_and_days(void **state)
{
    char s[32];
    (void)state;
    vet_time_format(s, 1795348800);
    assert_string_equal(s, "2026-11-22T12:00:00Z");
    vet_time_format(s, -1);
    assert_string_equal(s, "1969-12-31T23:59:59Z");
    vet_time_format_compact(s, 1795348800);
    assert_string_equal(s, "20261122T120000Z");
    assert_int_equal(vet_time_days_between(0, 86400 * 3 + 5), 3);
    assert_int_equal(vet_time_days_between(0, 86399), 0);
    assert_int_equal(vet_time_days_between(0, -1), -1);
    assert_int_equal(vet_time_days_between(0, -86400), -1);
    assert_int_equal(vet_time_days_between(0, -86401), -1);
    assert_int_equal(vet_time_days_between(0, -2 * 86400 - 1), -2);
}

static void test_duration(void **state)
{
    int64_t d;
    (void)state;
    assert_int_equal(vet_duration_parse(&d, "30d"), 0);
    assert_int_equal(d, 30 * 86400);
    assert_int_equal(vet_duration_parse(&d, "720h"), 0);
    assert_int_equal(d, 720 * 3600);
    assert_int_equal(vet_duration_parse(&d, "1d12h"), 0);
    assert_int_equal(d, 36 * 3600);
    assert_int_equal(vet_duration_parse(&d, "7"), 0);
    assert_int_equal(d, 7 * 86400);
    assert_int_equal(vet_duration_parse(&d, "30x"), VET_EUSAGE);
    assert_int_equal(vet_duration_parse(&d, "-3d"), VET_EUSAGE);
    assert_int_equal(vet_duration_parse(&d, ""), VET_EUSAGE);
}

static char tmpdir[] = "/tmp/kv-unit-XXXXXX";

/* `make check` leaves no temp folders behind: the group teardown removes it. */
static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(p);
}

static int remove_tmpdir(void **state)
{
    (void)state;
    if (!strstr(tmpdir, "XXXXXX")) /* mkdtemp ran */
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void put(const char *rel, const char *text)
{
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_resolve_in_root(void **state)
{
    char p[512], *out = NULL;
    vet_buf b = VET_BUF_INIT;
    (void)state;
    assert_non_null(mkdtemp(tmpdir));
    snprintf(p, sizeof p, "%s/var", tmpdir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/var/pki", tmpdir);
    mkdir(p, 0755);
    put("var/pki/real.pem", "node-file");
    /* Absolute link targets are the node's paths: resolved under the root. */
    snprintf(p, sizeof p, "%s/var/pki/current.pem", tmpdir);
    assert_int_equal(symlink("/var/pki/real.pem", p), 0);
    assert_int_equal(vet_fs_read_in_root(&b, tmpdir, "var/pki/current.pem", 1024), 0);
    assert_string_equal(b.ptr, "node-file");
    /* Relative links work too. */
    snprintf(p, sizeof p, "%s/var/pki/rel.pem", tmpdir);
    assert_int_equal(symlink("real.pem", p), 0);
    vet_buf_clear(&b);
    assert_int_equal(vet_fs_read_in_root(&b, tmpdir, "/var/pki/rel.pem", 1024), 0);
    assert_string_equal(b.ptr, "node-file");
    /* Climbing out of the root is refused, not followed. */
    snprintf(p, sizeof p, "%s/var/pki/escape.pem", tmpdir);
    assert_int_equal(symlink("../../../../../../../etc/passwd", p), 0);
    assert_int_equal(vet_fs_resolve(&out, tmpdir, "var/pki/escape.pem"), VET_EINPUT);
    assert_non_null(strstr(vet_error_last(), "outside --root"));
    /* Loops end. */
    snprintf(p, sizeof p, "%s/var/pki/loop.pem", tmpdir);
    assert_int_equal(symlink("loop.pem", p), 0);
    assert_int_equal(vet_fs_resolve(&out, tmpdir, "var/pki/loop.pem"), VET_EINPUT);
    /* Missing files say so. */
    vet_buf_clear(&b);
    assert_int_equal(vet_fs_read_in_root(&b, tmpdir, "var/pki/none.pem", 1024), VET_ENOTFOUND);
    /* The cap holds. */
    assert_int_equal(vet_fs_read_in_root(&b, tmpdir, "var/pki/real.pem", 3), VET_ELIMIT);
    vet_buf_free(&b);
}

static void test_atomic_write_backup(void **state)
{
    char p[512], *bak = NULL;
    vet_buf b = VET_BUF_INIT;
    struct stat st;
    (void)state;
    snprintf(p, sizeof p, "%s/conf", tmpdir);
    put("conf", "old bytes\n");
    assert_int_equal(vet_atomic_write_file(p, "new bytes\n", 10, 0600, VET_ATOMIC_BACKUP, &bak), 0);
    assert_non_null(bak);
    assert_int_equal(vet_fs_read(&b, p, 1024), 0);
    assert_string_equal(b.ptr, "new bytes\n");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    vet_buf_clear(&b);
    assert_int_equal(vet_fs_read(&b, bak, 1024), 0);
    assert_string_equal(b.ptr, "old bytes\n");
    assert_non_null(strstr(bak, ".kubevet-"));
    free(bak);
    /* No backup when nothing was there; an aborted write leaves nothing behind. */
    snprintf(p, sizeof p, "%s/fresh", tmpdir);
    assert_int_equal(vet_atomic_write_file(p, "x", 1, 0644, VET_ATOMIC_BACKUP, &bak), 0);
    assert_null(bak);
    {
        vet_atomic *w = NULL;
        snprintf(p, sizeof p, "%s/aborted", tmpdir);
        assert_int_equal(vet_atomic_open(&w, p, 0600), 0);
        assert_int_equal(vet_atomic_write(w, "partial", 7), 0);
        vet_atomic_abort(w);
        assert_int_equal(access(p, F_OK), -1);
    }
    /* A new file under its own name: written in place, kept on commit, removed on abort, and
     * refused when the name exists. */
    {
        vet_atomic *w = NULL;
        snprintf(p, sizeof p, "%s/direct", tmpdir);
        assert_int_equal(vet_atomic_open_new(&w, p, 0640), 0);
        assert_int_equal(access(p, F_OK), 0);
        assert_int_equal(vet_atomic_write(w, "manifest\n", 9), 0);
        assert_int_equal(vet_atomic_sync_all(&w, 1, NULL), 0);
        assert_int_equal(vet_atomic_commit(w, VET_ATOMIC_SYNCED | VET_ATOMIC_NO_DIRSYNC, NULL), 0);
        vet_buf_clear(&b);
        assert_int_equal(vet_fs_read(&b, p, 1024), 0);
        assert_string_equal(b.ptr, "manifest\n");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
        assert_int_equal(vet_atomic_open_new(&w, p, 0600), VET_EIO);
        assert_null(w);
        snprintf(p, sizeof p, "%s/direct-aborted", tmpdir);
        assert_int_equal(vet_atomic_open_new(&w, p, 0600), 0);
        assert_int_equal(vet_atomic_write(w, "half", 4), 0);
        vet_atomic_abort(w);
        assert_int_equal(access(p, F_OK), -1);
    }
    /* A folder that does not exist: an error naming the path, not a crash. */
    assert_int_equal(vet_atomic_write_file("/nonexistent-dir/x", "x", 1, 0600, 0, NULL), VET_EIO);
    assert_non_null(strstr(vet_error_last(), "/nonexistent-dir/x"));
    vet_buf_free(&b);
}

/* The pool: every item once, across calls that reuse the workers, with a call made from inside
 * an item (it runs inline) and the degenerate sizes. */
typedef struct {
    atomic_int hits[1000];
    atomic_int nested;
} par_arg;

static void par_inner(size_t i, void *arg)
{
    atomic_fetch_add(&((par_arg *)arg)->nested, (int)i + 1);
}

static void par_item(size_t i, void *arg)
{
    par_arg *a = arg;
    atomic_fetch_add(&a->hits[i], 1);
    if (i % 100 == 0)
        vet_parallel_for(10, 0, par_inner, a); /* 1 + 2 + ... + 10 = 55 each time */
}

static void test_parallel_for(void **state)
{
    static par_arg a;
    (void)state;
    for (int round = 0; round < 50; round++) {
        memset(&a, 0, sizeof a);
        vet_parallel_for(1000, round % 2 ? 2 : 0, par_item, &a);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(atomic_load(&a.hits[i]), 1);
        assert_int_equal(atomic_load(&a.nested), 10 * 55);
    }
    memset(&a, 0, sizeof a);
    vet_parallel_for(0, 0, par_item, &a);
    assert_int_equal(atomic_load(&a.hits[0]), 0);
    vet_parallel_for(1, 8, par_item, &a);
    assert_int_equal(atomic_load(&a.hits[0]), 1);
    assert_int_equal(atomic_load(&a.nested), 55);
}

/* Two threads calling at once: one gets the workers, the other runs inline; both complete. */
static void *par_caller(void *arg)
{
    vet_parallel_for(1000, 0, par_item, arg);
    return NULL;
}

static void test_parallel_for_concurrent(void **state)
{
    static par_arg a, b;
    pthread_t t;
    (void)state;
    for (int round = 0; round < 20; round++) {
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        assert_int_equal(pthread_create(&t, NULL, par_caller, &a), 0);
        par_caller(&b);
        pthread_join(t, NULL);
        for (int i = 0; i < 1000; i++) {
            assert_int_equal(atomic_load(&a.hits[i]), 1);
            assert_int_equal(atomic_load(&b.hits[i]), 1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_for),
        cmocka_unit_test(test_parallel_for_concurrent),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_format_and_days),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_resolve_in_root),
        cmocka_unit_test(test_atomic_write_backup),
    };
    return cmocka_run_group_tests(tests, NULL, remove_tmpdir);
}
