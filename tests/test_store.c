/*  test_store: the RocksDB store, against a real database folder.

    Families, atomic batches, the schema check at open, and the promise that
    matters most: after kill -9 every write that was acknowledged is there,
    and the outbox keeps its order. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <rocksdb/c.h>

#include "odc_outbox.h"
#include "odc_store.h"
#include "odc_log.h"
#include "odc_test.h"

extern char **environ;

static void
test_families_roundtrip (void)
{
    char *dir = s_tempdir ("store");
    char *err = NULL;
    odc_store_t *store = odc_store_open (dir, NULL, &err);
    CHECKF (store != NULL, "%s", err ? err : "");
    for (int cf = 0; cf < ODC_CF_COUNT; cf++) {
        char key[32], value[32];
        snprintf (key, sizeof key, "k-%s", odc_store_cf_name ((odc_cf_t)cf));
        snprintf (value, sizeof value, "v-%d", cf);
        CHECK (odc_store_put (store, (odc_cf_t)cf, key, strlen (key), value, strlen (value)) == 0);
    }
    /*  Beside the writer ("opendca latest" beside the collector), a reader
        sees every family, the latest one included (options of its own). */
    odc_store_t *reader = odc_store_open_readonly (dir, &err);
    CHECKF (reader != NULL, "read-only: %s", err ? err : "");
    for (int cf = 0; reader && cf < ODC_CF_COUNT; cf++) {
        char key[32];
        snprintf (key, sizeof key, "k-%s", odc_store_cf_name ((odc_cf_t)cf));
        size_t len;
        char *value = (char *)odc_store_get (reader, (odc_cf_t)cf, key, strlen (key), &len);
        CHECKF (value && len == 3, "read-only, family %s", odc_store_cf_name ((odc_cf_t)cf));
        free (value);
    }
    odc_store_close (&reader);
    odc_store_close (&store);
    CHECK (store == NULL);
    odc_store_close (&store); /* twice is safe */

    store = odc_store_open (dir, NULL, &err);
    CHECK (store != NULL);
    for (int cf = 0; cf < ODC_CF_COUNT; cf++) {
        char key[32], want[32];
        snprintf (key, sizeof key, "k-%s", odc_store_cf_name ((odc_cf_t)cf));
        snprintf (want, sizeof want, "v-%d", cf);
        size_t len;
        char *value = (char *)odc_store_get (store, (odc_cf_t)cf, key, strlen (key), &len);
        CHECKF (value && len == strlen (want) && memcmp (value, want, len) == 0, "family %s",
                odc_store_cf_name ((odc_cf_t)cf));
        free (value);
        /*  A key in one family is not in another. */
        value = (char *)odc_store_get (store, (odc_cf_t)((cf + 1) % ODC_CF_COUNT), key,
                                       strlen (key), &len);
        CHECK (value == NULL && len == 0);
        free (value);
    }
    size_t len;
    char *version = (char *)odc_store_get (store, ODC_CF_META, "schema_version", 14, &len);
    CHECK (version && strcmp (version, "1") == 0);
    free (version);
    CHECK (odc_store_delete (store, ODC_CF_DEVICES, "k-devices", 9) == 0);
    CHECK (odc_store_get (store, ODC_CF_DEVICES, "k-devices", 9, &len) == NULL);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

typedef struct {
    uint64_t next;
    int bad;
} s_walk_t;

/*  Checks that keys come as consecutive big-endian numbers. */
static int
s_walk (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)value, (void)vlen;
    s_walk_t *walk = (s_walk_t *)arg;
    if (klen != 8 || odc_be64_get (key) != walk->next)
        walk->bad++;
    walk->next++;
    return 0;
}

static void
test_batch_atomic_and_iterate (void)
{
    char *dir = s_tempdir ("batch");
    odc_store_t *store = odc_store_open (dir, NULL, NULL);
    odc_batch_t *batch = odc_batch_new ();
    for (int i = 0; i < 50; i++) {
        uint8_t key[8];
        odc_be64_put (key, (uint64_t)i);
        odc_batch_put (batch, store, ODC_CF_HISTORY, key, 8, "h", 1);
    }
    odc_batch_put (batch, store, ODC_CF_DEVICES, "dev-1", 5, "printer", 7);
    odc_batch_put (batch, store, ODC_CF_INDEX, "serial:X1", 9, "dev-1", 5);
    CHECK (odc_batch_count (batch) == 52);
    /*  Nothing is visible before the write. */
    size_t len;
    CHECK (odc_store_get (store, ODC_CF_DEVICES, "dev-1", 5, &len) == NULL);
    CHECK (odc_store_write (store, batch) == 0);
    void *v = odc_store_get (store, ODC_CF_INDEX, "serial:X1", 9, &len);
    CHECK (v && len == 5);
    free (v);

    /*  Bounded iteration visits [10, 20) in order. */
    uint8_t from[8], to[8];
    odc_be64_put (from, 10);
    odc_be64_put (to, 20);
    s_walk_t walk = {10, 0};
    long n = odc_store_each (store, ODC_CF_HISTORY, from, 8, to, 8, s_walk, &walk);
    CHECK (n == 10);
    CHECK (walk.bad == 0 && walk.next == 20);

    uint8_t last[8];
    size_t klen = sizeof last;
    CHECK (odc_store_last_key (store, ODC_CF_HISTORY, from, 8, to, 8, last, &klen) == 1);
    CHECK (klen == 8 && odc_be64_get (last) == 19);
    odc_be64_put (from, 1000);
    odc_be64_put (to, 2000);
    CHECK (odc_store_last_key (store, ODC_CF_HISTORY, from, 8, to, 8, last, &klen) == 0);

    /*  Range delete in a batch. */
    odc_batch_clear (batch);
    odc_be64_put (from, 0);
    odc_be64_put (to, 40);
    odc_batch_delete_range (batch, store, ODC_CF_HISTORY, from, 8, to, 8);
    CHECK (odc_store_write (store, batch) == 0);
    walk.next = 40;
    n = odc_store_each (store, ODC_CF_HISTORY, NULL, 0, NULL, 0, s_walk, &walk);
    CHECK (n == 10 && walk.bad == 0);
    odc_batch_destroy (&batch);
    CHECK (batch == NULL);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

static void
test_schema_checked_at_open (void)
{
    char *dir = s_tempdir ("schema");
    odc_store_t *store = odc_store_open (dir, NULL, NULL);
    CHECK (odc_store_put (store, ODC_CF_META, "schema_version", 14, "99", 2) == 0);
    odc_store_close (&store);
    char *err = NULL;
    store = odc_store_open (dir, NULL, &err);
    CHECK (store == NULL);
    CHECKF (err && strstr (err, "schema version 99") && strstr (err, dir), "%s", err);
    free (err);
    s_rmtree (dir);

    /*  A RocksDB that is not ours: refused, not taken over. */
    rocksdb_options_t *options = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (options, 1);
    char *rerr = NULL;
    rocksdb_t *db = rocksdb_open (options, dir, &rerr);
    CHECK (db && !rerr);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create ();
    rocksdb_put (db, wo, "a", 1, "b", 1, &rerr);
    rocksdb_column_family_handle_t *cf =
        rocksdb_create_column_family (db, options, "strange", &rerr);
    rocksdb_column_family_handle_destroy (cf);
    rocksdb_writeoptions_destroy (wo);
    rocksdb_close (db);
    rocksdb_options_destroy (options);
    err = NULL;
    store = odc_store_open (dir, NULL, &err);
    CHECK (store == NULL);
    CHECKF (err && strstr (err, "strange"), "%s", err);
    free (err);
    s_rmtree (dir);
    free (dir);
}

/*  The child writes device records and outbox records, one synced batch at
    a time, and after each write returns it reports the number on a pipe:
    those are the acknowledged writes. The parent kills it with SIGKILL at a
    random moment, reopens the store, and checks every acknowledged write. */
static void
s_writer (const char *dir, int fd, bool sync)
{
    odc_store_options_t options;
    odc_store_options_default (&options);
    options.sync = sync;
    odc_store_t *store = odc_store_open (dir, &options, NULL);
    odc_outbox_t *outbox = store ? odc_outbox_new (store, 0) : NULL;
    if (!outbox)
        _exit (3);
    odc_batch_t *batch = odc_batch_new ();
    for (uint32_t i = 0;; i++) {
        char key[32];
        int klen = snprintf (key, sizeof key, "dev-%08u", i);
        odc_batch_put (batch, store, ODC_CF_DEVICES, key, (size_t)klen, &i, sizeof i);
        odc_outbox_add (outbox, batch, ODC__PRIORITY__PRIORITY_NORMAL, "event", &i, sizeof i);
        if (odc_outbox_commit (outbox, batch) != 0)
            _exit (4);
        if (write (fd, &i, sizeof i) != sizeof i)
            _exit (5);
    }
}

typedef struct {
    uint32_t expect;
    int bad;
} s_order_t;

static int
s_check_order (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)key, (void)klen;
    s_order_t *order = arg;
    Odc__OutboxRecord *record = odc__outbox_record__unpack (NULL, vlen, value);
    uint32_t i;
    if (!record || record->payload.len != sizeof i)
        order->bad++;
    else {
        memcpy (&i, record->payload.data, sizeof i);
        if (i != order->expect || record->seq != (uint64_t)i + 1)
            order->bad++;
    }
    order->expect++;
    odc__outbox_record__free_unpacked (record, NULL);
    return 0;
}

static char *s_self; /* this program, run again as the writer */

static void
s_kill9_round (bool sync, bool early, int round)
{
    char *dir = s_tempdir ("kill9");
    int fds[2];
    CHECK (pipe (fds) == 0);
    /*  A fresh process (this program again, as the writer), not a bare
        fork: the parent has RocksDB threads, and a forked copy of a threaded
        process is not a faithful collector. */
    char fd_text[16];
    snprintf (fd_text, sizeof fd_text, "%d", fds[1]);
    char *args[] = {s_self, "--writer", dir, fd_text, sync ? "sync" : "nosync", NULL};
    pid_t pid;
    CHECK (posix_spawn (&pid, s_self, NULL, NULL, args, environ) == 0);
    close (fds[1]);
    /*  Read the acknowledgements as they come (so the child never waits on
        a full pipe). Early rounds kill the child while it may still be
        creating the store; the others once it writes, after a random 20 to
        300 ms more. */
    uint32_t acked = 0, i;
    long acks = 0;
    double deadline = odc_clock_s () + (early ? (rand () % 40) / 1000.0 : 10.0);
    bool writing = false;
    while (odc_clock_s () < deadline) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (poll (&pfd, 1, 5) == 1 && read (fds[0], &i, sizeof i) == sizeof i) {
            acked = i;
            acks++;
            if (!writing) {
                writing = true;
                deadline = odc_clock_s () + (20 + rand () % 280) / 1000.0;
            }
        }
    }
    kill (pid, SIGKILL);
    int status;
    waitpid (pid, &status, 0);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    while (read (fds[0], &i, sizeof i) == sizeof i) {
        acked = i;
        acks++;
    }
    close (fds[0]);

    char *err = NULL;
    odc_store_t *store = odc_store_open (dir, NULL, &err);
    CHECKF (store != NULL, "round %d: %s", round, err);
    free (err);
    odc_outbox_t *outbox = store ? odc_outbox_new (store, 0) : NULL;
    CHECK (outbox != NULL);
    if (!outbox) {
        odc_store_close (&store);
        s_rmtree (dir);
        free (dir);
        return;
    }
    /*  Every acknowledged write is there; a write in flight may be too. */
    int missing = 0;
    for (uint32_t k = 0; acks > 0 && k <= acked; k++) {
        char key[32];
        int klen = snprintf (key, sizeof key, "dev-%08u", k);
        size_t len;
        void *v = odc_store_get (store, ODC_CF_DEVICES, key, (size_t)klen, &len);
        missing += v == NULL;
        free (v);
    }
    CHECKF (missing == 0, "round %d: %d of %ld acknowledged device writes lost", round, missing,
            acks);
    uint64_t count = odc_outbox_count (outbox);
    CHECKF (count >= (uint64_t)acks && count <= (uint64_t)acks + 1,
            "round %d: outbox holds %llu, acknowledged %ld", round, (unsigned long long)count,
            acks);
    s_order_t order = {0, 0};
    odc_store_each (store, ODC_CF_OUTBOX, NULL, 0, NULL, 0, s_check_order, &order);
    CHECKF (order.bad == 0, "round %d: %d outbox records out of order", round, order.bad);
    /*  The sequence goes on after the last durable record: never reused. */
    uint64_t seq = 0;
    CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_NORMAL, "event", "x", 1, &seq) == 0);
    CHECK (seq == count + 1);
    printf ("     kill -9 round %d (sync %s%s): %ld acknowledged, %llu in the outbox\n", round,
            sync ? "on" : "off", early ? ", early" : "", acks, (unsigned long long)count);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

static void
test_kill9_keeps_acknowledged_writes (void)
{
    srand ((unsigned)time (NULL));
    for (int round = 0; round < 8; round++)
        s_kill9_round (round % 2 == 0, round >= 6, round);
}

int
main (int argc, char **argv)
{
    if (argc == 5 && strcmp (argv[1], "--writer") == 0) {
        s_writer (argv[2], atoi (argv[3]), strcmp (argv[4], "sync") == 0);
        return 0;
    }
    s_self = argv[0];
    RUN (test_families_roundtrip);
    RUN (test_batch_atomic_and_iterate);
    RUN (test_schema_checked_at_open);
    RUN (test_kill9_keeps_acknowledged_writes);
    TEST_END ();
}
