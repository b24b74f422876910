/*  odc_outbox: the durable queue of records waiting for the portal.

    Records live in the store's "outbox" family under a 9-byte key: one byte
    of priority class (0 urgent, 1 normal, 2 bulk; see Odc__Priority) and the
    record's sequence number, big-endian. Key order is delivery order: urgent
    records first, and within a class strictly first in, first out. With a
    single class the outbox is a plain FIFO. The sequence number is unique
    for the life of the store (the next one is kept in "meta" and written in
    the same batch as the records), so the portal can de-duplicate by it.

    Threads: any thread adds (the uploader its readings, the registry its
    events), peeks, acks and counts (the bridge). A thread that adds holds
    the outbox for adding from its first odc_outbox_add into a batch to its
    odc_outbox_commit of that batch, which it must call (other adders wait
    meanwhile): records are numbered and written in one order. A mutex
    guards the counters.

    Adding: odc_outbox_add stages a record into the caller's batch, so the
    state change that a record reports and the record land in one atomic
    write; odc_outbox_commit writes that batch and, only once it is durable,
    counts the records. odc_outbox_enqueue does both for a single record.

    Bound: when a commit would take the outbox past max_bytes, the oldest
    records of the least urgent class are shed in the same batch (bulk
    before normal before urgent), never a class more urgent than the most
    urgent record being added. Every shed record is counted and logged. When
    shedding cannot make room, the commit fails with errno ENOSPC and nothing
    is written.

    Acks are written without waiting for the disk: an ack lost in a power
    cut only sends that record again, and the portal drops the duplicate.

    Cost: opening counts the queue (O(n) in the records it holds). Peek
    seeks each class from its head (a number below which every key is
    deleted, kept in memory), so draining never walks the tombstones of
    acked records again; ack is a point lookup plus a delete. */
#ifndef ODC_OUTBOX_H
#define ODC_OUTBOX_H

#include <stdint.h>

#include "odc_store.h"
#include "opendca.pb-c.h"

#define ODC_OUTBOX_CLASSES  3
#define ODC_OUTBOX_KEY_SIZE 9

typedef struct _odc_outbox_t odc_outbox_t;

/*  max_bytes 0: no bound. */
odc_outbox_t *odc_outbox_new (odc_store_t *store, uint64_t max_bytes);
/*  The same queue in another family (the notify family: alert events for
    e-mail and programs, added by triage, deleted by the notify actor once
    delivered); its next sequence number in meta under "FAMILY.next_seq". */
odc_outbox_t *odc_outbox_new_in (odc_store_t *store, odc_cf_t cf, uint64_t max_bytes);
void odc_outbox_destroy (odc_outbox_t **self_p);

/*  Stage one record into batch. Returns its sequence number. The payload is
    copied. */
uint64_t odc_outbox_add (odc_outbox_t *self, odc_batch_t *batch, Odc__Priority priority,
                         const char *kind, const void *payload, size_t size);

/*  Write batch (with the staged records, and whatever else the caller put
    in it) and count the staged records. 0, or -1 (nothing written; errno
    ENOSPC when the bound could not be kept). The batch is cleared. */
int odc_outbox_commit (odc_outbox_t *self, odc_batch_t *batch);
/*  The same for a batch that holds records of two queues (also: the
    notify queue, added after self): one write, both counted, or neither. */
int odc_outbox_commit_pair (odc_outbox_t *self, odc_outbox_t *also, odc_batch_t *batch);

/*  Add and commit one record in its own batch. 0 / -1. */
int odc_outbox_enqueue (odc_outbox_t *self, Odc__Priority priority, const char *kind,
                        const void *payload, size_t size, uint64_t *seq);

/*  Up to max records in delivery order, after the record (priority, seq)
    when after_seq is not 0. records receives unpacked copies the caller
    frees with odc_outbox_records_free. Returns how many. */
size_t odc_outbox_peek (odc_outbox_t *self, int after_priority, uint64_t after_seq,
                        Odc__OutboxRecord **records, size_t max);
void odc_outbox_records_free (Odc__OutboxRecord **records, size_t count);

/*  Delete one record the portal confirmed. 1 when deleted, 0 when it was
    not there (acknowledged before, or shed), -1 on error. */
int odc_outbox_ack (odc_outbox_t *self, int priority, uint64_t seq);

/* --- a record by its key, and records the bridge cannot
   send as they are. */

/*  The record (priority, seq), unpacked (free with
    odc__outbox_record__free_unpacked), or NULL when it is not there (acked
    or shed). A point lookup. */
Odc__OutboxRecord *odc_outbox_get (odc_outbox_t *self, int priority, uint64_t seq);

/*  Replace the record (priority, seq) in one synced write by n records of
    its class, kind and creation time, holding payloads[i] (each a packed
    Odc__Batch) under new sequence numbers (*first gets the first; they are
    consecutive). With n 0 the record leaves the outbox; when reason is
    given it is kept for a human in the meta family under
    ODC_OUTBOX_REFUSED_PREFIX + its key, as reason NUL record (not counted
    against the bound, never sent again). Returns 1 done, 0 the record was
    not there, -1 on a store error (nothing changed). */
#define ODC_OUTBOX_REFUSED_PREFIX "outbox.refused/"
int odc_outbox_replace (odc_outbox_t *self, int priority, uint64_t seq,
                        const ProtobufCBinaryData *payloads, size_t n, const char *reason,
                        uint64_t *first);

uint64_t odc_outbox_count (odc_outbox_t *self);
uint64_t odc_outbox_bytes (odc_outbox_t *self);
uint64_t odc_outbox_shed (odc_outbox_t *self); /* records shed since open */

/*  The key of a record. */
void odc_outbox_key (uint8_t key[ODC_OUTBOX_KEY_SIZE], int priority, uint64_t seq);

#endif
