/*  bench_store: what RocksDB's block cache buys the collector's point
    reads, to size store.cache_mb. The collector's reads in a running day
    are point lookups of device records, index entries and notes (the
    registry on each identity reading, the loops' notes, the bridge's
    outbox records), a few hundred a second at 100,000 devices; its walks
    read past the cache. The cache fills towards its bound over days,
    which shows as RSS growth, so it should be no bigger than it earns.

        bench_store [--dir DIR] [--gets N]

    For 7,000 and 100,000 device records of 300 bytes (flushed to table
    files by a reopen, as a collector's store is after a day), N random
    lookups with the block cache at 16, 4 and 1 MiB: microseconds a lookup
    (a second round, the cache warm) and the cache's use. The files stay in
    the OS page cache in every case. DIR (default: a folder under /var/tmp)
    should sit on the disk the collector will use. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_log.h"
#include "odc_store.h"
#include "odc_test.h"

static odc_store_t *
s_open (const char *dir, size_t cache_mb)
{
    odc_store_options_t options;
    odc_store_options_default (&options);
    options.sync = false;
    options.cache_bytes = cache_mb << 20;
    char *err = NULL;
    odc_store_t *store = odc_store_open (dir, &options, &err);
    if (!store) {
        fprintf (stderr, "bench_store: %s\n", err ? err : dir);
        exit (1);
    }
    return store;
}

static void
s_run (const char *base, long devices, long gets)
{
    char *dir = NULL;
    if (asprintf (&dir, "%s/store-%ld", base, devices) == -1)
        return;
    s_rmtree (dir);
    odc_store_t *store = s_open (dir, 16);
    char key[32], value[300];
    memset (value, 'x', sizeof value);
    for (long i = 0; i < devices; i++) {
        int n = snprintf (key, sizeof key, "dev-%ld", i);
        odc_store_put (store, ODC_CF_DEVICES, key, (size_t)n, value, sizeof value);
    }
    odc_store_close (&store);
    static const size_t caches[] = {16, 4, 1};
    for (size_t c = 0; c < sizeof caches / sizeof *caches; c++) {
        store = s_open (dir, caches[c]);
        double us = 0;
        for (int round = 0; round < 2; round++) {
            srand (1);
            double t0 = odc_clock_s ();
            for (long i = 0; i < gets; i++) {
                int n = snprintf (key, sizeof key, "dev-%ld", (long)rand () % devices);
                size_t len = 0;
                void *found = odc_store_get (store, ODC_CF_DEVICES, key, (size_t)n, &len);
                if (!found) {
                    fprintf (stderr, "bench_store: %s missing\n", key);
                    exit (1);
                }
                free (found);
            }
            us = (odc_clock_s () - t0) / (double)gets * 1e6;
        }
        uint64_t cache = 0, memtables = 0;
        odc_store_memory (store, &cache, &memtables);
        printf ("%7ld devices, cache %2zu MiB: %6.2f us a lookup, cache holds %5.1f MiB\n", devices,
                caches[c], us, (double)cache / 1048576.0);
        odc_store_close (&store);
    }
    s_rmtree (dir);
    free (dir);
}

int
main (int argc, char **argv)
{
    const char *dir = "/var/tmp";
    long gets = 200000;
    static const struct option longs[] = {
        {"dir", required_argument, NULL, 'd'}, {"gets", required_argument, NULL, 'g'}, {0}};
    int c;
    while ((c = getopt_long (argc, argv, "d:g:", longs, NULL)) != -1) {
        if (c == 'd')
            dir = optarg;
        else if (c == 'g' && atol (optarg) > 0)
            gets = atol (optarg);
        else {
            fprintf (stderr, "usage: bench_store [--dir DIR] [--gets N]\n");
            return 2;
        }
    }
    printf ("store point lookups (random device records of 300 bytes), %ld a run\n", gets);
    s_run (dir, 7000, gets);
    s_run (dir, 100000, gets);
    return 0;
}
