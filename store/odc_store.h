/*  odc_store: the collector's state in RocksDB.

    One database folder with the column families of the architecture:
        devices   registry, keyed by device id
        index     serial, MAC and address -> device id
        latest    last accepted reading per device and loop
        history   time series of meters and supply levels
        alerts    open and closed alerts
        outbox    records waiting for the portal (see odc_outbox.h)
        meta      schema version, sequences, collector identity
        notify    alert events waiting for their e-mail or program (an
                  odc_outbox queue of its own: triage adds, notify deletes)
        supplies  per device, each supply's cartridge: its readings, when
                  fitted and replaced, its request (the supplies actor)
    The schema version is written when the database is created and checked at
    every open: a database from another schema is refused with a clear error,
    never silently reinterpreted.

    Writes go through odc_batch_t: one batch is atomic across families, so a
    state change and the outbox record that reports it land together or not
    at all. Durability: with sync on (the default) a write returns after the
    write-ahead log reached the disk; with sync off it survives a crash of the
    process (kill -9) but not of the machine.

    Memory: one shared LRU block cache and small write buffers (see
    odc_store_options_t); the store is safe to use from several threads. */
#ifndef ODC_STORE_H
#define ODC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odc_bytes.h" /* sequence keys are big-endian (odc_be64_put) */

#define ODC_STORE_SCHEMA_VERSION 1

typedef enum {
    ODC_CF_DEVICES = 0,
    ODC_CF_INDEX,
    ODC_CF_LATEST,
    ODC_CF_HISTORY,
    ODC_CF_ALERTS,
    ODC_CF_OUTBOX,
    ODC_CF_META,
    ODC_CF_NOTIFY,
    ODC_CF_SUPPLIES,
    ODC_CF_COUNT
} odc_cf_t;

typedef struct {
    bool sync;                 /* fsync the WAL on each write (default true) */
    size_t cache_bytes;        /* shared block cache (default 1 MiB) */
    size_t write_buffer_bytes; /* per family memtable (default 4 MiB) */
    int max_open_files;        /* default 256 */
} odc_store_options_t;

typedef struct _odc_store_t odc_store_t;
typedef struct _odc_batch_t odc_batch_t;

/*  Fill options with the defaults. */
void odc_store_options_default (odc_store_options_t *options);

/*  Open (creating when missing) the database in folder path. options may be
    NULL for the defaults. On failure returns NULL and, when err is not NULL,
    a message the caller frees with free(). */
odc_store_t *odc_store_open (const char *path, const odc_store_options_t *options, char **err);
void odc_store_close (odc_store_t **self_p);

/*  Open an existing store to read only, beside a collector that runs on
    it (no lock is taken; what is read is what was written last). */
odc_store_t *odc_store_open_readonly (const char *path, char **err);

const char *odc_store_cf_name (odc_cf_t cf);
bool odc_store_sync (odc_store_t *self);
/*  What the store holds in memory: the block cache (bounded by
    odc_store_options_t.cache_bytes) and the memtables of every family
    (bounded by the write buffer sizes). */
void odc_store_memory (odc_store_t *self, uint64_t *cache_bytes, uint64_t *memtable_bytes);

/*  Single-key operations (each its own atomic write). 0 / -1. */
int odc_store_put (odc_store_t *self, odc_cf_t cf, const void *key, size_t klen, const void *value,
                   size_t vlen);
int odc_store_delete (odc_store_t *self, odc_cf_t cf, const void *key, size_t klen);

/*  Returns a copy of the value the caller frees with free(), NULL when the
    key is absent (*vlen = 0) or on error (logged). */
void *odc_store_get (odc_store_t *self, odc_cf_t cf, const void *key, size_t klen, size_t *vlen);

/*  Batches. */
odc_batch_t *odc_batch_new (void);
void odc_batch_destroy (odc_batch_t **self_p);
void odc_batch_put (odc_batch_t *self, odc_store_t *store, odc_cf_t cf, const void *key,
                    size_t klen, const void *value, size_t vlen);
void odc_batch_delete (odc_batch_t *self, odc_store_t *store, odc_cf_t cf, const void *key,
                       size_t klen);
void odc_batch_delete_range (odc_batch_t *self, odc_store_t *store, odc_cf_t cf, const void *from,
                             size_t flen, const void *to, size_t tlen);
size_t odc_batch_count (odc_batch_t *self);
void odc_batch_clear (odc_batch_t *self);

/*  Write the batch atomically (synced when the store is). 0 / -1. The
    batch stays the caller's; clear or destroy it after. */
int odc_store_write (odc_store_t *self, odc_batch_t *batch);

/*  The same without waiting for the disk, whatever the store's setting: for
    writes whose loss in a power cut is harmless (the outbox's acks: a lost
    ack only sends a record again, and the portal drops the duplicate). */
int odc_store_write_lazy (odc_store_t *self, odc_batch_t *batch);

/*  Iteration over [from, to) in one family (to may be NULL: to the end).
    The callback returns 0 to go on, non-zero to stop. Returns the number of
    entries visited, -1 on error. */
typedef int (odc_store_each_fn) (const void *key, size_t klen, const void *value, size_t vlen,
                                 void *arg);
long odc_store_each (odc_store_t *self, odc_cf_t cf, const void *from, size_t flen, const void *to,
                     size_t tlen, odc_store_each_fn *fn, void *arg);

/*  The last key in [from, to) of a family, copied into key (up to *klen
    bytes; *klen is set to the length). 1 when found, 0 when the range is
    empty, -1 on error. */
int odc_store_last_key (odc_store_t *self, odc_cf_t cf, const void *from, size_t flen,
                        const void *to, size_t tlen, void *key, size_t *klen);

#endif
