/*  test_outbox: the durable FIFO towards the portal, on a real RocksDB
    folder: order, windows, acks, priorities, the size bound and shedding,
    sequence numbers that are never reused. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "odc_outbox.h"
#include "odc_test.h"

static odc_store_t *
s_open (const char *dir)
{
    odc_store_options_t options;
    odc_store_options_default (&options);
    options.sync = false; /* speed; durability is test_store's subject */
    return odc_store_open (dir, &options, NULL);
}

static void
test_fifo_window_ack (void)
{
    char *dir = s_tempdir ("outbox");
    odc_store_t *store = s_open (dir);
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    CHECK (odc_outbox_count (outbox) == 0);
    for (int i = 0; i < 100; i++) {
        char payload[16];
        int n = snprintf (payload, sizeof payload, "r%d", i);
        uint64_t seq = 0;
        CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_NORMAL, "meters", payload,
                                   (size_t)n, &seq) == 0);
        CHECK (seq == (uint64_t)i + 1);
    }
    CHECK (odc_outbox_count (outbox) == 100);

    Odc__OutboxRecord *window[10];
    size_t n = odc_outbox_peek (outbox, 0, 0, window, 10);
    CHECK (n == 10);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf (want, sizeof want, "r%zu", i);
        CHECK (window[i]->seq == i + 1);
        CHECK (strcmp (window[i]->kind, "meters") == 0);
        CHECK (window[i]->payload.len == strlen (want) &&
               memcmp (window[i]->payload.data, want, strlen (want)) == 0);
        CHECK (window[i]->created_ms > 0);
    }
    /*  The next window starts after the last record of this one. */
    uint64_t last = window[9]->seq;
    odc_outbox_records_free (window, n);
    n = odc_outbox_peek (outbox, ODC__PRIORITY__PRIORITY_NORMAL, last, window, 10);
    CHECK (n == 10 && window[0]->seq == 11 && window[9]->seq == 20);
    odc_outbox_records_free (window, n);

    /*  Ack out of order; acks are idempotent. */
    CHECK (odc_outbox_ack (outbox, ODC__PRIORITY__PRIORITY_NORMAL, 3) == 1);
    CHECK (odc_outbox_ack (outbox, ODC__PRIORITY__PRIORITY_NORMAL, 3) == 0);
    CHECK (odc_outbox_ack (outbox, ODC__PRIORITY__PRIORITY_URGENT, 4) == 0); /* wrong class */
    CHECK (odc_outbox_ack (outbox, 7, 4) == 0);                              /* no such class */
    for (uint64_t s = 1; s <= 10; s++)
        odc_outbox_ack (outbox, ODC__PRIORITY__PRIORITY_NORMAL, s);
    CHECK (odc_outbox_count (outbox) == 90);
    n = odc_outbox_peek (outbox, 0, 0, window, 1);
    CHECK (n == 1 && window[0]->seq == 11);
    odc_outbox_records_free (window, n);
    uint64_t bytes = odc_outbox_bytes (outbox);
    CHECK (bytes > 90 * 9);

    /*  Reopen: count, bytes and order come back; numbers are not reused. */
    odc_outbox_destroy (&outbox);
    CHECK (outbox == NULL);
    odc_store_close (&store);
    store = s_open (dir);
    outbox = odc_outbox_new (store, 0);
    CHECK (odc_outbox_count (outbox) == 90);
    CHECK (odc_outbox_bytes (outbox) == bytes);
    for (uint64_t s = 11; s <= 100; s++)
        CHECK (odc_outbox_ack (outbox, ODC__PRIORITY__PRIORITY_NORMAL, s) == 1);
    CHECK (odc_outbox_count (outbox) == 0 && odc_outbox_bytes (outbox) == 0);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    store = s_open (dir);
    outbox = odc_outbox_new (store, 0);
    uint64_t seq = 0;
    CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_NORMAL, "alert", "x", 1, &seq) == 0);
    CHECKF (seq == 101, "seq %llu after an emptied outbox was reopened", (unsigned long long)seq);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

static void
test_priorities (void)
{
    char *dir = s_tempdir ("prio");
    odc_store_t *store = s_open (dir);
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_BULK, "meters", "m1", 2, NULL);
    odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_NORMAL, "supply", "s1", 2, NULL);
    odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", "a1", 2, NULL);
    odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_BULK, "meters", "m2", 2, NULL);
    odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", "a2", 2, NULL);
    Odc__OutboxRecord *window[8];
    size_t n = odc_outbox_peek (outbox, 0, 0, window, 8);
    const char *want[] = {"a1", "a2", "s1", "m1", "m2"};
    CHECK (n == 5);
    for (size_t i = 0; i < n && i < 5; i++)
        CHECKF (memcmp (window[i]->payload.data, want[i], 2) == 0, "position %zu", i);
    /*  A window may continue across classes. */
    size_t m = odc_outbox_peek (outbox, window[1]->priority, window[1]->seq, window + 5, 3);
    CHECK (m == 3 && memcmp (window[5]->payload.data, "s1", 2) == 0);
    odc_outbox_records_free (window, n + m);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

static void
test_bound_sheds_least_urgent_oldest (void)
{
    char *dir = s_tempdir ("bound");
    odc_store_t *store = s_open (dir);
    char payload[100];
    memset (payload, 'p', sizeof payload);
    /*  Measure what one record takes, then bound the outbox at 20.5 of them.
        (Kinds of the same length, so every record has the same size.) */
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", payload, sizeof payload,
                        NULL);
    uint64_t record = odc_outbox_bytes (outbox);
    odc_outbox_ack (outbox, ODC__PRIORITY__PRIORITY_URGENT, 1);
    odc_outbox_destroy (&outbox);
    uint64_t bound = 20 * record + record / 2;
    outbox = odc_outbox_new (store, bound);
    for (int i = 0; i < 10; i++)
        CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", payload,
                                   sizeof payload, NULL) == 0);
    for (int i = 0; i < 10; i++)
        CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_BULK, "meter", payload,
                                   sizeof payload, NULL) == 0);
    CHECK (odc_outbox_shed (outbox) == 0);
    uint64_t before = odc_outbox_count (outbox);
    CHECK (before == 20);
    /*  Five more alerts: the five oldest meters make room, no alert goes. */
    for (int i = 0; i < 5; i++)
        CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", payload,
                                   sizeof payload, NULL) == 0);
    CHECK (odc_outbox_bytes (outbox) <= bound);
    CHECK (odc_outbox_shed (outbox) == 5);
    CHECK (odc_outbox_count (outbox) == 20);
    Odc__OutboxRecord *window[32];
    size_t n = odc_outbox_peek (outbox, 0, 0, window, 32);
    int alerts = 0;
    uint64_t first_meter = 0;
    for (size_t i = 0; i < n; i++) {
        if (window[i]->priority == ODC__PRIORITY__PRIORITY_URGENT)
            alerts++;
        else if (!first_meter)
            first_meter = window[i]->seq;
    }
    CHECK (alerts == 15);
    CHECKF (first_meter == 17, "oldest meter left is %llu, want 17 (12-16 shed)",
            (unsigned long long)first_meter);
    odc_outbox_records_free (window, n);

    /*  A meter cannot push out an alert: fill with alerts, then a meter
        sheds only meters, and when none is left it is refused. */
    for (int i = 0; i < 5; i++)
        odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", payload,
                            sizeof payload, NULL);
    uint64_t count = odc_outbox_count (outbox);
    uint64_t bytes = odc_outbox_bytes (outbox);
    CHECK (odc_outbox_shed (outbox) == 10);
    n = odc_outbox_peek (outbox, 0, 0, window, 32);
    size_t meters = 0;
    for (size_t i = 0; i < n; i++)
        meters += window[i]->priority == ODC__PRIORITY__PRIORITY_BULK;
    odc_outbox_records_free (window, n);
    CHECK (meters == 0);
    errno = 0;
    CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_BULK, "meter", payload,
                               sizeof payload, NULL) == -1);
    CHECK (errno == ENOSPC);
    CHECK (odc_outbox_count (outbox) == count && odc_outbox_bytes (outbox) == bytes);
    /*  ...while an alert still gets in, in place of the oldest alert. */
    CHECK (odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", payload,
                               sizeof payload, NULL) == 0);
    CHECK (odc_outbox_count (outbox) == count);
    n = odc_outbox_peek (outbox, 0, 0, window, 1);
    CHECK (n == 1 && window[0]->seq == 3); /* 2, the oldest alert, made room */
    odc_outbox_records_free (window, n);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

static void
test_state_and_record_in_one_batch (void)
{
    char *dir = s_tempdir ("atomic");
    odc_store_t *store = s_open (dir);
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    odc_batch_t *batch = odc_batch_new ();
    odc_batch_put (batch, store, ODC_CF_ALERTS, "dev-1/7", 7, "open", 4);
    uint64_t seq =
        odc_outbox_add (outbox, batch, ODC__PRIORITY__PRIORITY_URGENT, "alert", "raised", 6);
    /*  Staged, not counted and not visible until the commit. */
    CHECK (odc_outbox_count (outbox) == 0);
    size_t len;
    CHECK (odc_store_get (store, ODC_CF_ALERTS, "dev-1/7", 7, &len) == NULL);
    CHECK (odc_outbox_commit (outbox, batch) == 0);
    CHECK (odc_batch_count (batch) == 0); /* cleared by the commit */
    CHECK (odc_outbox_count (outbox) == 1);
    void *v = odc_store_get (store, ODC_CF_ALERTS, "dev-1/7", 7, &len);
    CHECK (v && len == 4);
    free (v);
    Odc__OutboxRecord *record;
    CHECK (odc_outbox_peek (outbox, 0, 0, &record, 1) == 1);
    CHECK (record->seq == seq && strcmp (record->kind, "alert") == 0);
    odc_outbox_records_free (&record, 1);
    odc_batch_destroy (&batch);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

/*  Peeks remember where each class starts; records added after a class was
    drained, or staged while a peek runs, must still be found. */
static void
test_drain_then_refill (void)
{
    char *dir = s_tempdir ("drain");
    odc_store_t *store = s_open (dir);
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    Odc__OutboxRecord *window[16];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 40; i++)
            odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_BULK, "meter", "m", 1, NULL);
        long drained = 0;
        size_t n;
        while ((n = odc_outbox_peek (outbox, 0, 0, window, 16)) > 0) {
            for (size_t i = 0; i < n; i++)
                drained += odc_outbox_ack (outbox, window[i]->priority, window[i]->seq);
            odc_outbox_records_free (window, n);
        }
        CHECK (drained == 40 && odc_outbox_count (outbox) == 0);
        /*  Empty peeks, then a record staged but not committed: it is
            found once committed. */
        CHECK (odc_outbox_peek (outbox, 0, 0, window, 16) == 0);
        odc_batch_t *batch = odc_batch_new ();
        uint64_t seq =
            odc_outbox_add (outbox, batch, ODC__PRIORITY__PRIORITY_BULK, "meter", "late", 4);
        CHECK (odc_outbox_peek (outbox, 0, 0, window, 16) == 0);
        CHECK (odc_outbox_commit (outbox, batch) == 0);
        odc_batch_destroy (&batch);
        n = odc_outbox_peek (outbox, 0, 0, window, 16);
        CHECKF (n == 1 && window[0]->seq == seq, "round %d: staged record not found", round);
        for (size_t i = 0; i < n; i++)
            odc_outbox_ack (outbox, window[i]->priority, window[i]->seq);
        odc_outbox_records_free (window, n);
    }
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

/*  Two adders (the uploader and the registry) and a drainer (the bridge)
    at once: the drainer, peeking from the head and acking what it sees,
    gets every record exactly once; within a class it never sees a number
    before a smaller one it has not seen (a record staged while a later one
    was written would be left behind the head). */
#define S_ADDS 3000
typedef struct {
    odc_outbox_t *outbox;
    int adder;
} s_adder_t;

static atomic_int s_adding;

static void *
s_add_many (void *arg)
{
    s_adder_t *a = arg;
    odc_batch_t *batch = odc_batch_new ();
    for (int i = 0; i < S_ADDS; i++) {
        char payload[32];
        int n = snprintf (payload, sizeof payload, "%d-%d", a->adder, i);
        odc_outbox_add (a->outbox, batch, ODC__PRIORITY__PRIORITY_URGENT, "event", payload,
                        (size_t)n);
        if (i % 7 == 0)
            sched_yield (); /* let the other adder in between add and commit */
        if (odc_outbox_commit (a->outbox, batch) != 0)
            break;
    }
    odc_batch_destroy (&batch);
    atomic_fetch_sub (&s_adding, 1);
    return NULL;
}

static void
test_two_adders_one_drainer (void)
{
    char *dir = s_tempdir ("outbox-adders");
    odc_store_t *store = s_open (dir);
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    s_adder_t adders[2] = {{outbox, 0}, {outbox, 1}};
    pthread_t threads[2];
    atomic_store (&s_adding, 2);
    for (int i = 0; i < 2; i++)
        pthread_create (&threads[i], NULL, s_add_many, &adders[i]);
    uint64_t acked = 0, twice = 0, out_of_order = 0, last = 0;
    int seen[2] = {0, 0}, wrong = 0;
    for (;;) {
        bool done = atomic_load (&s_adding) == 0;
        Odc__OutboxRecord *window[16];
        size_t n = odc_outbox_peek (outbox, 0, 0, window, 16);
        for (size_t i = 0; i < n; i++) {
            const Odc__OutboxRecord *r = window[i];
            if (r->seq <= last)
                out_of_order++;
            last = r->seq;
            int adder = -1, k = -1;
            char text[32] = "";
            memcpy (text, r->payload.data, r->payload.len < 31 ? r->payload.len : 31);
            if (sscanf (text, "%d-%d", &adder, &k) != 2 || adder < 0 || adder > 1 ||
                k != seen[adder])
                wrong++; /* each adder's records in its own order, none left out */
            else
                seen[adder]++;
            if (odc_outbox_ack (outbox, r->priority, r->seq) == 1)
                acked++;
            else
                twice++;
        }
        odc_outbox_records_free (window, n);
        if (done && n == 0)
            break;
    }
    for (int i = 0; i < 2; i++)
        pthread_join (threads[i], NULL);
    printf ("two adders, one drainer: %llu acked of %d, %llu twice, %llu out of order, %d not "
            "in their adder's order\n",
            (unsigned long long)acked, 2 * S_ADDS, (unsigned long long)twice,
            (unsigned long long)out_of_order, wrong);
    CHECK (acked == 2 * S_ADDS && twice == 0 && out_of_order == 0 && wrong == 0);
    CHECK (seen[0] == S_ADDS && seen[1] == S_ADDS);
    CHECK (odc_outbox_count (outbox) == 0);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

int
main (void)
{
    RUN (test_fifo_window_ack);
    RUN (test_priorities);
    RUN (test_bound_sheds_least_urgent_oldest);
    RUN (test_state_and_record_in_one_batch);
    RUN (test_drain_then_refill);
    RUN (test_two_adders_one_drainer);
    TEST_END ();
}
