/*  odc_outbox: see odc_outbox.h. */
#include "odc_outbox.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_log.h"

typedef struct {
    uint64_t count[ODC_OUTBOX_CLASSES];
    uint64_t bytes[ODC_OUTBOX_CLASSES];
    int most_urgent; /* of the staged records; ODC_OUTBOX_CLASSES when none */
} s_stats_t;

struct _odc_outbox_t {
    odc_store_t *store;
    odc_cf_t cf;       /* its family: outbox, or notify */
    char next_key[32]; /* where meta keeps the next sequence number */
    uint64_t max_bytes;
    pthread_mutex_t lock;
    /*  Held by the thread that adds from its first odc_outbox_add into a
        batch to its odc_outbox_commit (and by odc_outbox_replace): the
        records of one adder are numbered and written before the next
        adder's, so a class's records reach the store in number order (a
        peek that found 11 while 10 was staged would leave 10 behind its
        head). */
    pthread_mutex_t adding;
    uint64_t next_seq;
    s_stats_t held;   /* durable records */
    s_stats_t staged; /* added, not yet committed */
    uint64_t shed;
    /*  Per class, a sequence number at or below the oldest record: every
        key under it is deleted. Peeks start there, so they never walk the
        tombstones that acked records leave at the head of the queue (that
        walk would make draining the queue quadratic). */
    uint64_t head[ODC_OUTBOX_CLASSES];
};

void
odc_outbox_key (uint8_t key[ODC_OUTBOX_KEY_SIZE], int priority, uint64_t seq)
{
    assert (priority >= 0 && priority < ODC_OUTBOX_CLASSES);
    key[0] = (uint8_t)priority;
    odc_be64_put (key + 1, seq);
}

/*  Bytes a record holds in the store: key and value. */
static uint64_t
s_record_bytes (size_t vlen)
{
    return ODC_OUTBOX_KEY_SIZE + vlen;
}

static uint64_t
s_total (const s_stats_t *stats)
{
    uint64_t sum = 0;
    for (int c = 0; c < ODC_OUTBOX_CLASSES; c++)
        sum += stats->bytes[c];
    return sum;
}

static int
s_count_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)value;
    odc_outbox_t *self = (odc_outbox_t *)arg;
    const uint8_t *k = (const uint8_t *)key;
    if (klen != ODC_OUTBOX_KEY_SIZE || k[0] >= ODC_OUTBOX_CLASSES) {
        odc_warn (NULL, "outbox holds a key of %zu bytes that is not a record: ignored", klen);
        return 0;
    }
    self->held.count[k[0]]++;
    self->held.bytes[k[0]] += s_record_bytes (vlen);
    uint64_t seq = odc_be64_get (k + 1);
    if (seq >= self->next_seq)
        self->next_seq = seq + 1;
    return 0;
}

odc_outbox_t *
odc_outbox_new (odc_store_t *store, uint64_t max_bytes)
{
    return odc_outbox_new_in (store, ODC_CF_OUTBOX, max_bytes);
}

odc_outbox_t *
odc_outbox_new_in (odc_store_t *store, odc_cf_t cf, uint64_t max_bytes)
{
    odc_outbox_t *self = (odc_outbox_t *)calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->cf = cf;
    snprintf (self->next_key, sizeof self->next_key, "%s.next_seq", odc_store_cf_name (cf));
    self->max_bytes = max_bytes;
    self->next_seq = 1; /* 0 means "none" in peek */
    self->staged.most_urgent = ODC_OUTBOX_CLASSES;
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->adding, NULL);

    size_t vlen = 0;
    uint8_t *next = (uint8_t *)odc_store_get (store, ODC_CF_META, self->next_key,
                                              strlen (self->next_key), &vlen);
    if (next && vlen == 8)
        self->next_seq = odc_be64_get (next);
    free (next);
    if (odc_store_each (store, self->cf, NULL, 0, NULL, 0, s_count_one, self) == -1) {
        odc_outbox_destroy (&self);
        return NULL;
    }
    return self;
}

void
odc_outbox_destroy (odc_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    pthread_mutex_destroy (&(*self_p)->adding);
    free (*self_p);
    *self_p = NULL;
}

/*  A record's value: the packed Odc__OutboxRecord (malloc'd). */
static uint8_t *
s_record_value (Odc__Priority priority, uint64_t seq, const char *kind, uint64_t created_ms,
                const void *payload, size_t size, size_t *vlen)
{
    Odc__OutboxRecord record = ODC__OUTBOX_RECORD__INIT;
    record.seq = seq;
    record.priority = priority;
    record.kind = (char *)kind;
    record.created_ms = created_ms;
    record.payload.data = (uint8_t *)payload;
    record.payload.len = size;
    *vlen = odc__outbox_record__get_packed_size (&record);
    uint8_t *value = (uint8_t *)malloc (*vlen);
    assert (value);
    odc__outbox_record__pack (&record, value);
    return value;
}

/*  The outboxes this thread holds for adding (its batch has staged
    records not yet committed): at most two, the portal's outbox and the
    notify queue. Only triage adds to both in one batch (the notify queue
    first), and no other thread adds to the notify queue, so no two
    threads wait on each other's. */
static _Thread_local odc_outbox_t *s_adding[2];

static void
s_adding_take (odc_outbox_t *self)
{
    if (s_adding[0] == self || s_adding[1] == self)
        return;
    int slot = s_adding[0] ? 1 : 0;
    assert (!s_adding[slot]);
    pthread_mutex_lock (&self->adding);
    s_adding[slot] = self;
}

static void
s_adding_give (odc_outbox_t *self)
{
    for (int i = 0; i < 2; i++)
        if (s_adding[i] == self) {
            s_adding[i] = NULL;
            pthread_mutex_unlock (&self->adding);
        }
}

uint64_t
odc_outbox_add (odc_outbox_t *self, odc_batch_t *batch, Odc__Priority priority, const char *kind,
                const void *payload, size_t size)
{
    assert ((int)priority >= 0 && (int)priority < ODC_OUTBOX_CLASSES);
    s_adding_take (self);
    /*  Number and staged count in one step: a peek that finds the class
        empty must also see that a record is on its way. */
    pthread_mutex_lock (&self->lock);
    uint64_t seq = self->next_seq++;
    self->staged.count[priority]++;
    pthread_mutex_unlock (&self->lock);

    size_t vlen = 0;
    uint8_t *value = s_record_value (priority, seq, kind, odc_now_ms (), payload, size, &vlen);

    uint8_t key[ODC_OUTBOX_KEY_SIZE];
    odc_outbox_key (key, (int)priority, seq);
    odc_batch_put (batch, self->store, self->cf, key, sizeof key, value, vlen);
    free (value);

    uint8_t next[8];
    odc_be64_put (next, seq + 1);
    odc_batch_put (batch, self->store, ODC_CF_META, self->next_key, strlen (self->next_key), next,
                   sizeof next);

    pthread_mutex_lock (&self->lock);
    self->staged.bytes[priority] += s_record_bytes (vlen);
    if ((int)priority < self->staged.most_urgent)
        self->staged.most_urgent = (int)priority;
    pthread_mutex_unlock (&self->lock);
    return seq;
}

typedef struct {
    odc_outbox_t *self;
    odc_batch_t *batch;
    int cls;
    uint64_t need; /* bytes still to free */
    uint64_t freed;
    uint64_t records;
} s_shed_t;

static int
s_shed_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)value;
    s_shed_t *shed = (s_shed_t *)arg;
    odc_batch_delete (shed->batch, shed->self->store, shed->self->cf, key, klen);
    uint64_t bytes = s_record_bytes (vlen);
    shed->freed += bytes;
    shed->records++;
    return shed->freed >= shed->need;
}

/*  Called with the lock held. Stages deletes of the oldest records of the
    least urgent classes into batch until the staged records fit. Fills
    freed (per class) and returns 0, or -1 when they cannot fit. */
static int
s_make_room (odc_outbox_t *self, odc_batch_t *batch, uint64_t freed[], uint64_t shed[])
{
    uint64_t total = s_total (&self->held) + s_total (&self->staged);
    if (self->max_bytes == 0 || total <= self->max_bytes)
        return 0;
    uint64_t need = total - self->max_bytes;
    for (int cls = ODC_OUTBOX_CLASSES - 1; cls >= self->staged.most_urgent && need > 0; cls--) {
        if (self->held.count[cls] == 0)
            continue;
        uint8_t from[ODC_OUTBOX_KEY_SIZE], to[1] = {(uint8_t)(cls + 1)};
        odc_outbox_key (from, cls, self->head[cls]);
        s_shed_t state = {self, batch, cls, need, 0, 0};
        if (odc_store_each (self->store, self->cf, from, sizeof from, to, 1, s_shed_one, &state) ==
            -1)
            return -1;
        freed[cls] = state.freed;
        shed[cls] = state.records;
        need = state.freed >= need ? 0 : need - state.freed;
    }
    return need > 0 ? -1 : 0;
}

/*  A commit in two halves, so that one batch may carry the records of two
    queues: the room made and the next number staged (the lock taken), then,
    after the write, the counts. */
typedef struct {
    uint64_t freed[ODC_OUTBOX_CLASSES], shed[ODC_OUTBOX_CLASSES];
} s_commit_t;

static int
s_commit_begin (odc_outbox_t *self, odc_batch_t *batch, s_commit_t *c)
{
    pthread_mutex_lock (&self->lock);
    memset (c, 0, sizeof *c);
    if (s_make_room (self, batch, c->freed, c->shed) == -1) {
        odc_error (NULL,
                   "%s full (%llu of %llu bytes) and nothing less urgent to shed: "
                   "%llu records not written",
                   odc_store_cf_name (self->cf), (unsigned long long)s_total (&self->held),
                   (unsigned long long)self->max_bytes,
                   (unsigned long long)(self->staged.count[0] + self->staged.count[1] +
                                        self->staged.count[2]));
        errno = ENOSPC;
        return -1;
    }
    /*  The next number as it is now, not as the staged records had it:
        odc_outbox_replace may have taken numbers since, and a number must
        never be given twice. */
    uint8_t next[8];
    odc_be64_put (next, self->next_seq);
    odc_batch_put (batch, self->store, ODC_CF_META, self->next_key, strlen (self->next_key), next,
                   sizeof next);
    return 0;
}

static void
s_commit_end (odc_outbox_t *self, int rc, const s_commit_t *c)
{
    if (rc == 0) {
        uint64_t shed_total = 0;
        for (int k = 0; k < ODC_OUTBOX_CLASSES; k++) {
            self->held.count[k] += self->staged.count[k] - c->shed[k];
            self->held.bytes[k] += self->staged.bytes[k] - c->freed[k];
            shed_total += c->shed[k];
        }
        self->shed += shed_total;
        if (shed_total)
            odc_warn (NULL,
                      "%s at its bound of %llu bytes: shed %llu oldest records "
                      "(bulk %llu, normal %llu, urgent %llu; %llu since start)",
                      odc_store_cf_name (self->cf), (unsigned long long)self->max_bytes,
                      (unsigned long long)shed_total, (unsigned long long)c->shed[2],
                      (unsigned long long)c->shed[1], (unsigned long long)c->shed[0],
                      (unsigned long long)self->shed);
    }
    memset (&self->staged, 0, sizeof self->staged);
    self->staged.most_urgent = ODC_OUTBOX_CLASSES;
    pthread_mutex_unlock (&self->lock);
    s_adding_give (self);
}

int
odc_outbox_commit (odc_outbox_t *self, odc_batch_t *batch)
{
    return odc_outbox_commit_pair (self, NULL, batch);
}

int
odc_outbox_commit_pair (odc_outbox_t *self, odc_outbox_t *also, odc_batch_t *batch)
{
    s_commit_t a, b;
    int rc = s_commit_begin (self, batch, &a);
    int rc_also = also ? s_commit_begin (also, batch, &b) : 0;
    rc = rc == 0 && rc_also == 0 ? odc_store_write (self->store, batch) : -1;
    if (also)
        s_commit_end (also, rc, &b);
    s_commit_end (self, rc, &a);
    odc_batch_clear (batch);
    return rc;
}

int
odc_outbox_enqueue (odc_outbox_t *self, Odc__Priority priority, const char *kind,
                    const void *payload, size_t size, uint64_t *seq)
{
    odc_batch_t *batch = odc_batch_new ();
    if (!batch)
        return -1;
    uint64_t s = odc_outbox_add (self, batch, priority, kind, payload, size);
    int rc = odc_outbox_commit (self, batch);
    odc_batch_destroy (&batch);
    if (rc == 0 && seq)
        *seq = s;
    return rc;
}

typedef struct {
    Odc__OutboxRecord **records;
    size_t max;
    size_t found;
    const uint8_t *skip; /* the "after" key itself */
    uint64_t first;      /* first sequence number seen in the class, 0 none */
} s_peek_t;

static int
s_peek_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_peek_t *peek = (s_peek_t *)arg;
    if (!peek->first && klen == ODC_OUTBOX_KEY_SIZE)
        peek->first = odc_be64_get ((const uint8_t *)key + 1);
    if (peek->skip && klen == ODC_OUTBOX_KEY_SIZE && memcmp (key, peek->skip, klen) == 0)
        return 0;
    Odc__OutboxRecord *record = odc__outbox_record__unpack (NULL, vlen, (const uint8_t *)value);
    if (!record) {
        /*  Our own bytes, written by this program: corruption. Keep going
            so the rest still flows; the bad record stays for a human. */
        odc_error (NULL, "outbox record of %zu bytes does not unpack: skipped", vlen);
        return 0;
    }
    peek->records[peek->found++] = record;
    return peek->found == peek->max;
}

size_t
odc_outbox_peek (odc_outbox_t *self, int after_priority, uint64_t after_seq,
                 Odc__OutboxRecord **records, size_t max)
{
    s_peek_t peek = {records, max, 0, NULL, 0};
    uint8_t after[ODC_OUTBOX_KEY_SIZE];
    if (after_seq) {
        odc_outbox_key (after, after_priority, after_seq);
        peek.skip = after;
    }
    for (int cls = after_seq ? after_priority : 0; cls < ODC_OUTBOX_CLASSES && peek.found < max;
         cls++) {
        pthread_mutex_lock (&self->lock);
        uint64_t head = self->head[cls];
        pthread_mutex_unlock (&self->lock);
        bool from_head = !(after_seq && cls == after_priority && after_seq > head);
        uint8_t from[ODC_OUTBOX_KEY_SIZE], to[1] = {(uint8_t)(cls + 1)};
        odc_outbox_key (from, cls, from_head ? head : after_seq);
        peek.first = 0;
        odc_store_each (self->store, self->cf, from, sizeof from, to, sizeof to, s_peek_one, &peek);
        if (from_head) {
            /*  Everything below the first key found is gone; when the class
                is empty, below the next number to be given. */
            pthread_mutex_lock (&self->lock);
            bool empty = self->held.count[cls] == 0 && self->staged.count[cls] == 0;
            uint64_t now = peek.first ? peek.first : empty ? self->next_seq : 0;
            if (now > self->head[cls])
                self->head[cls] = now;
            pthread_mutex_unlock (&self->lock);
        }
    }
    return peek.found;
}

void
odc_outbox_records_free (Odc__OutboxRecord **records, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        odc__outbox_record__free_unpacked (records[i], NULL);
        records[i] = NULL;
    }
}

int
odc_outbox_ack (odc_outbox_t *self, int priority, uint64_t seq)
{
    if (priority < 0 || priority >= ODC_OUTBOX_CLASSES)
        return 0;
    uint8_t key[ODC_OUTBOX_KEY_SIZE];
    odc_outbox_key (key, priority, seq);
    /*  The lock makes lookup, delete and count one step, so a record acked
        twice at once, or acked while being shed, is counted once. */
    pthread_mutex_lock (&self->lock);
    size_t vlen = 0;
    void *value = odc_store_get (self->store, self->cf, key, sizeof key, &vlen);
    int rc = 0;
    if (value) {
        /*  Not synced: an ack lost in a power cut only sends the record
            again, and the portal drops the duplicate by its id. */
        odc_batch_t *batch = odc_batch_new ();
        odc_batch_delete (batch, self->store, self->cf, key, sizeof key);
        rc = odc_store_write_lazy (self->store, batch) == 0 ? 1 : -1;
        odc_batch_destroy (&batch);
        if (rc == 1) {
            self->held.count[priority]--;
            self->held.bytes[priority] -= s_record_bytes (vlen);
        }
        free (value);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

/* --- odc_outbox_get, odc_outbox_replace */
Odc__OutboxRecord *
odc_outbox_get (odc_outbox_t *self, int priority, uint64_t seq)
{
    if (priority < 0 || priority >= ODC_OUTBOX_CLASSES)
        return NULL;
    uint8_t key[ODC_OUTBOX_KEY_SIZE];
    odc_outbox_key (key, priority, seq);
    size_t vlen = 0;
    void *value = odc_store_get (self->store, self->cf, key, sizeof key, &vlen);
    if (!value)
        return NULL;
    Odc__OutboxRecord *record = odc__outbox_record__unpack (NULL, vlen, value);
    if (!record)
        odc_error (NULL, "outbox record %d/%llu of %zu bytes does not unpack", priority,
                   (unsigned long long)seq, vlen);
    free (value);
    return record;
}

int
odc_outbox_replace (odc_outbox_t *self, int priority, uint64_t seq,
                    const ProtobufCBinaryData *payloads, size_t n, const char *reason,
                    uint64_t *first)
{
    if (priority < 0 || priority >= ODC_OUTBOX_CLASSES)
        return 0;
    uint8_t key[ODC_OUTBOX_KEY_SIZE];
    odc_outbox_key (key, priority, seq);
    /*  Under the lock from lookup to count, as ack: a record shed or acked
        meanwhile is not counted twice. The new numbers are written before
        another adder's. */
    s_adding_take (self);
    pthread_mutex_lock (&self->lock);
    size_t vlen = 0;
    void *value = odc_store_get (self->store, self->cf, key, sizeof key, &vlen);
    Odc__OutboxRecord *old = value ? odc__outbox_record__unpack (NULL, vlen, value) : NULL;
    if (!value || (n && !old)) {
        pthread_mutex_unlock (&self->lock);
        s_adding_give (self);
        free (value);
        if (old)
            odc__outbox_record__free_unpacked (old, NULL);
        return value ? -1 : 0;
    }
    odc_batch_t *batch = odc_batch_new ();
    odc_batch_delete (batch, self->store, self->cf, key, sizeof key);
    if (reason) {
        size_t rlen = strlen (reason), klen = strlen (ODC_OUTBOX_REFUSED_PREFIX);
        uint8_t *kept = malloc (rlen + 1 + vlen), refused_key[64];
        memcpy (kept, reason, rlen + 1);
        memcpy (kept + rlen + 1, value, vlen);
        memcpy (refused_key, ODC_OUTBOX_REFUSED_PREFIX, klen);
        memcpy (refused_key + klen, key, sizeof key);
        odc_batch_put (batch, self->store, ODC_CF_META, refused_key, klen + sizeof key, kept,
                       rlen + 1 + vlen);
        free (kept);
    }
    uint64_t next = self->next_seq, added = 0;
    for (size_t i = 0; i < n; i++) {
        size_t plen = 0;
        uint8_t *part = s_record_value ((Odc__Priority)priority, next + i, old->kind,
                                        old->created_ms, payloads[i].data, payloads[i].len, &plen);
        uint8_t pkey[ODC_OUTBOX_KEY_SIZE];
        odc_outbox_key (pkey, priority, next + i);
        odc_batch_put (batch, self->store, self->cf, pkey, sizeof pkey, part, plen);
        added += s_record_bytes (plen);
        free (part);
    }
    if (n) {
        uint8_t be[8];
        odc_be64_put (be, next + n);
        odc_batch_put (batch, self->store, ODC_CF_META, self->next_key, strlen (self->next_key), be,
                       sizeof be);
    }
    int rc = odc_store_write (self->store, batch) == 0 ? 1 : -1;
    odc_batch_destroy (&batch);
    if (rc == 1) {
        self->next_seq = next + n;
        self->held.count[priority] += n;
        self->held.count[priority]--;
        self->held.bytes[priority] += added;
        self->held.bytes[priority] -= s_record_bytes (vlen);
        if (first)
            *first = next;
    }
    pthread_mutex_unlock (&self->lock);
    s_adding_give (self);
    free (value);
    if (old)
        odc__outbox_record__free_unpacked (old, NULL);
    return rc;
}

uint64_t
odc_outbox_count (odc_outbox_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t n = self->held.count[0] + self->held.count[1] + self->held.count[2];
    pthread_mutex_unlock (&self->lock);
    return n;
}

uint64_t
odc_outbox_bytes (odc_outbox_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t n = s_total (&self->held);
    pthread_mutex_unlock (&self->lock);
    return n;
}

uint64_t
odc_outbox_shed (odc_outbox_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t n = self->shed;
    pthread_mutex_unlock (&self->lock);
    return n;
}
