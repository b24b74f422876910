/*  bench_outbox: enqueues and acks per second of the outbox on a real
    RocksDB folder, with the WAL synced on every write (the default,
    store.sync: true) and without (survives kill -9, not power loss).

        bench_outbox [--dir DIR] [--count N] [--batch B] [--size BYTES]

    For each setting: N records of BYTES bytes enqueued in commits of one
    record and in commits of B records, then peeked in windows of 64 and
    acked one by one, as the bridge does. DIR (default: a folder under
    /var/tmp) should sit on the disk the collector will use. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "odc_outbox.h"
#include "odc_log.h"
#include "odc_test.h"

static void
s_run (const char *base, bool sync, long count, long batch_size, size_t size)
{
    char *dir = NULL;
    if (asprintf (&dir, "%s/outbox-%s", base, sync ? "sync" : "nosync") == -1)
        return;
    s_rmtree (dir);
    odc_store_options_t options;
    odc_store_options_default (&options);
    options.sync = sync;
    odc_store_t *store = odc_store_open (dir, &options, NULL);
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    char *payload = malloc (size);
    memset (payload, 'x', size);

    /*  One record per commit: an alert going out at once. */
    long single = sync ? count / 10 : count;
    double t0 = odc_clock_s ();
    for (long i = 0; i < single; i++)
        odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_URGENT, "alert", payload, size, NULL);
    double t_single = odc_clock_s () - t0;

    /*  Batches: a pass of readings landing together. */
    odc_batch_t *batch = odc_batch_new ();
    t0 = odc_clock_s ();
    for (long i = 0; i < count; i++) {
        odc_outbox_add (outbox, batch, ODC__PRIORITY__PRIORITY_NORMAL, "supply", payload, size);
        if ((i + 1) % batch_size == 0 || i + 1 == count)
            odc_outbox_commit (outbox, batch);
    }
    double t_batch = odc_clock_s () - t0;
    odc_batch_destroy (&batch);

    /*  Drain: windows of 64, ack each record. */
    long acked = 0;
    Odc__OutboxRecord *window[64];
    t0 = odc_clock_s ();
    size_t n;
    while ((n = odc_outbox_peek (outbox, 0, 0, window, 64)) > 0) {
        for (size_t i = 0; i < n; i++)
            acked += odc_outbox_ack (outbox, window[i]->priority, window[i]->seq) == 1;
        odc_outbox_records_free (window, n);
    }
    double t_ack = odc_clock_s () - t0;

    printf ("outbox sync=%-3s %zu-byte records: enqueue %8.0f/s one per commit (%ld), "
            "%8.0f/s in commits of %ld (%ld); peek+ack %8.0f/s (%ld)\n",
            sync ? "on" : "off", size, (double)single / t_single, single, (double)count / t_batch,
            batch_size, count, (double)acked / t_ack, acked);
    free (payload);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

int
main (int argc, char **argv)
{
    const char *dir = "/var/tmp";
    long count = 50000, batch = 100;
    size_t size = 300;
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},   {"count", required_argument, NULL, 'n'},
        {"batch", required_argument, NULL, 'b'}, {"size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "d:n:b:s:h", options, NULL)) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'n': count = atol (optarg); break;
        case 'b': batch = atol (optarg); break;
        case 's': size = (size_t)atol (optarg); break;
        default:
            printf ("usage: bench_outbox [--dir DIR] [--count N] [--batch B] [--size BYTES]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (count < 1 || batch < 1 || size < 1) {
        fprintf (stderr, "bench_outbox: count, batch and size must be positive\n");
        return 2;
    }
    s_run (dir, true, count, batch, size);
    s_run (dir, false, count, batch, size);
    return 0;
}
