/*  odc_uploader_actor: see odc_uploader_actor.h. */
#include "odc_uploader_actor.h"

#include <assert.h>
#include <math.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_bytes.h"
#include "odc_devices.h"
#include "odc_latest_actor.h"
#include "odc_log.h"
#include "odc_read.h"
#include "odc_supervisor.h"

#define S_ITEMS_MAX   500
#define S_URGENT_WAIT 1.0  /* s */
#define S_NORMAL_WAIT 10.0 /* s */
#define S_DAILY_KEY   "upload/daily"
#define S_SENT_MARK   "upload/sent" /* meta: this store keeps what was sent */
#define S_SENT_SIZE   16            /* a sent state: content hash, read time */

/*  The kinds (odc_kinds: the loops' in odc_loop_t order; the registry
    puts its events in the outbox itself) and how long each gathers before
    its record is written. */
#define S_KINDS ODC_LOOP_COUNT
static const double s_wait[S_KINDS] = {
    [ODC_LOOP_ALERT] = S_URGENT_WAIT, [ODC_LOOP_IDENTITY] = S_NORMAL_WAIT,
    [ODC_LOOP_METER] = S_NORMAL_WAIT, [ODC_LOOP_SUPPLY] = S_NORMAL_WAIT,
    [ODC_LOOP_TRAY] = S_NORMAL_WAIT,
};

/*  What a reading taken into a record changed in memory, undone when the
    record cannot be written. */
typedef struct {
    uint64_t key, prev;
} s_undo_t;

/*  A record being gathered: the packed Odc__Batch, built by appending
    each reading's packed envelope (odc_bus_batch_append), and the batch that writes it with
    the sent state of each of its readings (one atomic write: a reading is
    known as sent if and only if its record is in the outbox). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t count;
    double since; /* first reading, monotonic s */
    odc_batch_t *batch;
    s_undo_t *undo;
    size_t n_undo, undo_cap;
} s_pending_t;

/*  What was last sent per device and loop: a hash of the content, in an
    open-addressed table (16 bytes a device and loop). Key 0 is empty;
    value 0 is "nothing sent" (a content hash is never 0). The store holds
    the same with each reading's read time (s_sent_stage), from where the
    table is loaded at the start (s_recover). */
typedef struct {
    uint64_t key, value;
} s_slot_t;

typedef struct {
    const odc_config_t *config, *pending_config;
    odc_store_t *store;
    odc_outbox_t *outbox;
    s_pending_t pending[S_KINDS];
    zsock_t *pull; /* readings and commands (ODC_EP_UPLOAD) */
    zsock_t *grew; /* PUSH: the outbox grew, to the bridge */
    s_slot_t *sent;
    size_t sent_cap, sent_used;
    odc_clock_t clock; /* the collector's clock (odc_config_clock) */
    double next_daily; /* collector's clock */
    uint64_t records, readings, unchanged, failed;
    uint64_t sent_before; /* readings of walks the portal already had */
} s_self_t;

/*  The collector's clock (clock.speed times faster than the wall's). */
static double
s_clock (const s_self_t *self)
{
    return odc_collector_s (&self->clock);
}

/* ------------------------------------------------------------------------
   What was sent */

static s_slot_t *
s_find (s_slot_t *table, size_t cap, uint64_t key)
{
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (cap - 1);
    while (table[i].key && table[i].key != key)
        i = (i + 1) & (cap - 1);
    return &table[i];
}

static void
s_table_grow (s_self_t *self)
{
    if (self->sent_used * 2 < self->sent_cap)
        return;
    size_t cap = self->sent_cap ? self->sent_cap * 2 : 1024;
    s_slot_t *grown = calloc (cap, sizeof *grown);
    assert (grown);
    for (size_t i = 0; i < self->sent_cap; i++)
        if (self->sent[i].key)
            *s_find (grown, cap, self->sent[i].key) = self->sent[i];
    free (self->sent);
    self->sent = grown;
    self->sent_cap = cap;
}

/*  The slot of a device and kind k (made when missing). */
static s_slot_t *
s_slot (s_self_t *self, const char *id, size_t id_len, int k)
{
    uint64_t key = odc_fnv (ODC_FNV_START, id, id_len);
    key = odc_fnv (key, &k, sizeof k) | 1; /* never 0 */
    s_table_grow (self);
    s_slot_t *slot = s_find (self->sent, self->sent_cap, key);
    if (!slot->key) {
        slot->key = key;
        slot->value = 0;
        self->sent_used++;
    }
    return slot;
}

/*  The sent state of a device and loop lives in the latest family beside
    the reading ("ID/LOOP", "ID/LOOPs"): deleted with the device's readings
    (store/odc_devices.c), met by a walk of the family right after the
    reading, and not a reading key (odc_latest_key_loop says -1). Value:
    the content hash and the read time (finished_ms) of the reading last
    put in the outbox, big-endian. 0 when the id does not fit. */
static size_t
s_sent_key (char *out, size_t size, const char *id, size_t id_len, int loop)
{
    int n = snprintf (out, size, "%.*s/%ds", (int)id_len, id, loop);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/*  A reading of a device (content hash, read time) goes in kind k's
    record: stage its sent state in the record's batch, and remember it in
    memory (undone when the record cannot be written). */
static void
s_sent_stage (s_self_t *self, int k, const char *id, size_t id_len, uint64_t hash, uint64_t read_ms)
{
    s_pending_t *p = &self->pending[k];
    s_slot_t *slot = s_slot (self, id, id_len, k);
    if (p->n_undo == p->undo_cap) {
        p->undo_cap = p->undo_cap ? p->undo_cap * 2 : 64;
        p->undo = realloc (p->undo, p->undo_cap * sizeof *p->undo);
        assert (p->undo);
    }
    p->undo[p->n_undo++] = (s_undo_t){slot->key, slot->value};
    slot->value = hash;
    char key[ODC_DEVICE_ID_MAX + 16];
    size_t klen = s_sent_key (key, sizeof key, id, id_len, k + 1);
    uint8_t value[S_SENT_SIZE];
    odc_be64_put (value, hash);
    odc_be64_put (value + 8, read_ms);
    if (klen)
        odc_batch_put (p->batch, self->store, ODC_CF_LATEST, key, klen, value, sizeof value);
}

/*  Kind k's record could not be written: what its readings changed in
    memory is undone, newest first, so that they count as not sent. */
static void
s_sent_undo (s_self_t *self, int k)
{
    s_pending_t *p = &self->pending[k];
    while (p->n_undo) {
        s_undo_t *u = &p->undo[--p->n_undo];
        s_find (self->sent, self->sent_cap, u->key)->value = u->prev;
    }
}

/*  What "changed" means, as a hash of what matters to the portal:
      alert    hrDeviceStatus, the error bits, the alert counters (not
               hrPrinterStatus: idle / printing / warming up is no news);
      asset    everything but the header and the uptime;
      supply   per supply: what it is, its percent (its level when there is
               no percent: the sentinels), not every page's worth of toner;
      tray     per tray: what it holds, its status and its level by quarter
               (empty, some, ..., full; sentinels as they are); covers. */
static uint64_t
s_tray_level (int level, int max)
{
    if (level <= 0 || max <= 0)
        return (uint64_t)(uint32_t)level;
    return 100 + (uint64_t)(level >= max ? 4 : level * 4 / max);
}

static uint64_t
s_text (uint64_t h, const char *text)
{
    return text ? odc_fnv (h, text, strlen (text) + 1) : odc_fnv (h, "", 1);
}

static uint64_t s_content_of (const Odc__Envelope *env);

static uint64_t
s_content (const Odc__Envelope *env)
{
    uint64_t h = s_content_of (env);
    return h ? h : 1;
}

static uint64_t
s_content_of (const Odc__Envelope *env)
{
    uint64_t h = ODC_FNV_START;
    switch (env->body_case) {
    case ODC__ENVELOPE__BODY_ALERTS: return odc_alert_news (env->alerts);
    case ODC__ENVELOPE__BODY_IDENTITY: {
        Odc__IdentityReading copy = *env->identity;
        copy.header = NULL;
        copy.sys_uptime_cs = 0;
        uint8_t stack[4096], *buf = stack;
        size_t len = protobuf_c_message_get_packed_size (&copy.base);
        buf = len > sizeof stack ? malloc (len) : stack;
        protobuf_c_message_pack (&copy.base, buf);
        h = odc_fnv (h, buf, len);
        if (buf != stack)
            free (buf);
        return h;
    }
    case ODC__ENVELOPE__BODY_SUPPLIES:
        for (size_t i = 0; i < env->supplies->n_supplies; i++) {
            const Odc__Supply *x = env->supplies->supplies[i];
            /*  And the supplies actor's request, and its days left by
                the day: the portal sees each move of a forecast day. */
            const Odc__SupplyForecast *f = x->forecast;
            int32_t v[7] = {x->index,
                            x->type,
                            x->supply_class,
                            x->max_capacity,
                            x->percent >= 0 ? x->percent : 1000 + x->level,
                            f && f->request && f->request[0],
                            f ? (int32_t)floor (f->days_left) : -2};
            h = odc_fnv (h, v, sizeof v);
            h = s_text (s_text (h, x->description), x->colorant);
        }
        return h;
    case ODC__ENVELOPE__BODY_TRAYS:
        for (size_t i = 0; i < env->trays->n_trays; i++) {
            const Odc__Tray *t = env->trays->trays[i];
            uint64_t v[6] = {(uint64_t)t->index,
                             (uint64_t)t->type,
                             (uint64_t)t->max_capacity,
                             (uint64_t)t->status,
                             s_tray_level (t->current_level, t->max_capacity),
                             (uint64_t)t->media_dimension_feed << 32 ^
                                 (uint32_t)t->media_dimension_xfeed};
            h = s_text (s_text (odc_fnv (h, v, sizeof v), t->name), t->media_name);
        }
        for (size_t i = 0; i < env->trays->n_covers; i++) {
            const Odc__Cover *c = env->trays->covers[i];
            int32_t v[2] = {c->index, c->status};
            h = s_text (odc_fnv (h, v, sizeof v), c->description);
        }
        return h;
    default: return 0;
    }
}

/* ------------------------------------------------------------------------
   Records */

/*  Put what kind k gathered in the outbox. */
static void
s_flush (s_self_t *self, int k)
{
    s_pending_t *p = &self->pending[k];
    if (!p->count)
        return;
    /*  The record and the sent state of its readings: one write, so that
        a restart, however abrupt, knows exactly what went. */
    odc_batch_t *batch = p->batch;
    uint64_t seq = odc_outbox_add (self->outbox, batch, odc_kinds[k].priority, odc_kinds[k].kind,
                                   p->data, p->len);
    int rc = odc_outbox_commit (self->outbox, batch);
    if (rc != 0)
        s_sent_undo (self, k);
    odc_batch_clear (batch);
    p->n_undo = 0;
    if (rc == 0) {
        self->records++;
        odc_bus_outbox_grew (self->grew, odc_kinds[k].priority, seq);
        /*  One line per record: the collector's own account of what it
            put in the outbox (tests compare it with what the portal got). */
        odc_info (NULL, "outbox record %d-%llu: %zu %s readings, %zu bytes",
                  (int)odc_kinds[k].priority, (unsigned long long)seq, p->count, odc_kinds[k].kind,
                  p->len);
    }
    else {
        self->failed += p->count;
        odc_error (NULL, "%zu %s readings not put in the outbox: %s", p->count, odc_kinds[k].kind,
                   errno == ENOSPC ? "the outbox is full of more urgent records"
                                   : "the store refused the write");
    }
    p->len = p->count = 0;
}

/*  Append one reading (its packed envelope) to kind k's record. */
static void
s_add (s_self_t *self, int k, const void *frame, size_t size)
{
    s_pending_t *p = &self->pending[k];
    if (!p->count)
        p->since = odc_clock_s ();
    odc_bus_batch_append (&p->data, &p->len, &p->cap, frame, size);
    p->count++;
    self->readings++;
    if (p->count >= S_ITEMS_MAX)
        s_flush (self, k);
}

static void
s_on_reading (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    int k = odc_kind_of_body (env->body_case);
    const Odc__ReadingHeader *h = odc_bus_reading_header (env);
    if (k < 0 || k >= S_KINDS || !h || k == ODC_LOOP_METER) /* meters: daily or on command */
        return;
    const char *id = h->device_id && *h->device_id ? h->device_id : h->address;
    if (!id)
        return;
    uint64_t hash = s_content (env);
    if (s_slot (self, id, strlen (id), k)->value == hash) {
        self->unchanged++;
        return;
    }
    size_t size = 0;
    const void *frame = odc_bus_frame (&size);
    s_sent_stage (self, k, id, strlen (id), hash, h->finished_ms);
    s_add (self, k, frame, size);
}

/* ------------------------------------------------------------------------
   Walks of the latest readings: daily and on command (the latest of some
   loops, but not what the portal already has), and at the start (what
   was stored but not put in the outbox before the collector stopped, and
   the memory of what was sent). A walk of the family meets each reading
   ("ID/LOOP") just before its sent state ("ID/LOOPs"): the reading is held
   until the next key tells whether it has one. */

typedef enum { S_WALK_SEND, S_WALK_START } s_walk_mode_t;

typedef struct {
    s_self_t *self;
    s_walk_mode_t mode;
    unsigned loops; /* bit mask of Odc__Loop values */
    bool seed;      /* start on a store without sent states: all counts as sent */
    char id[ODC_DEVICE_ID_MAX + 16];
    size_t id_len; /* of the reading held; 0: none */
    int loop;
    uint8_t *value; /* the reading held (a copy) */
    size_t vlen, vcap;
    uint64_t recovered; /* start: readings stored but never put in the outbox */
} s_walk_t;

/*  Decide on the reading held, with its sent state (NULL: none). */
static void
s_walk_decide (s_walk_t *w, const uint8_t *sent)
{
    s_self_t *self = w->self;
    int k = odc_loop_of_wire ((Odc__Loop)w->loop);
    uint64_t sent_hash = sent ? odc_be64_get (sent) : 0,
             sent_ms = sent ? odc_be64_get (sent + 8) : 0;
    if (w->mode == S_WALK_START && sent)
        s_slot (self, w->id, w->id_len, k)->value = sent_hash;
    Odc__Envelope *env = odc__envelope__unpack (NULL, w->vlen, w->value);
    const Odc__ReadingHeader *h = env ? odc_bus_reading_header (env) : NULL;
    if (!h)
        goto done; /* not a reading: nothing to send */
    uint64_t hash = s_content (env);
    /*  Read times of a device and loop only grow: one at or before the
        last sent is at the portal (or on its way) already. */
    if (sent && h->finished_ms <= sent_ms) {
        if (w->mode == S_WALK_SEND)
            self->sent_before++;
        goto done;
    }
    if (w->mode == S_WALK_START) {
        if (w->seed) {
            /*  A store from before sent states were kept: what it holds was
                sent (the old rule); from now on it is known. */
            s_sent_stage (self, k, w->id, w->id_len, hash, h->finished_ms);
            goto done;
        }
        if (k == ODC_LOOP_METER || (sent && hash == sent_hash))
            goto done; /* meters go daily; unchanged goes never */
        w->recovered++;
    }
    s_sent_stage (self, k, w->id, w->id_len, hash, h->finished_ms);
    s_add (self, k, w->value, w->vlen);
done:
    if (env)
        odc__envelope__free_unpacked (env, NULL);
    w->id_len = 0;
}

static int
s_walk_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_walk_t *w = arg;
    const char *k = key;
    /*  The sent state of the reading held? */
    if (w->id_len && klen == w->id_len + 3 && k[klen - 1] == 's' && !memcmp (k, w->id, w->id_len) &&
        k[w->id_len] == '/' && k[w->id_len + 1] == '0' + w->loop) {
        s_walk_decide (w, vlen == S_SENT_SIZE ? value : NULL);
        return 0;
    }
    if (w->id_len)
        s_walk_decide (w, NULL);
    size_t id_len = 0;
    int loop = odc_latest_key_loop (key, klen, &id_len);
    if (loop < 0 || !(w->loops & (1u << loop)) || id_len >= sizeof w->id)
        return 0;
    memcpy (w->id, key, id_len);
    w->id_len = id_len;
    w->loop = loop;
    if (vlen > w->vcap) {
        w->vcap = vlen * 2;
        w->value = realloc (w->value, w->vcap);
        assert (w->value);
    }
    memcpy (w->value, value, vlen);
    w->vlen = vlen;
    return 0;
}

/*  One device's readings of the walk's loops (point reads). */
static void
s_walk_device (s_walk_t *w, const char *device_id)
{
    for (int loop = 1; loop <= 5; loop++) {
        if (!(w->loops & (1u << loop)))
            continue;
        char key[ODC_DEVICE_ID_MAX + 16];
        odc_latest_key (key, sizeof key, device_id, loop);
        size_t len = 0;
        void *value = odc_store_get (w->self->store, ODC_CF_LATEST, key, strlen (key), &len);
        if (value)
            s_walk_one (key, strlen (key), value, len, w);
        free (value);
        size_t slen = s_sent_key (key, sizeof key, device_id, strlen (device_id), loop);
        value = slen ? odc_store_get (w->self->store, ODC_CF_LATEST, key, slen, &len) : NULL;
        if (value)
            s_walk_one (key, slen, value, len, w);
        else if (w->id_len)
            s_walk_decide (w, NULL);
        free (value);
    }
}

/*  Walk the latest readings of loops, of one device or all, then put
    what was gathered in the outbox. */
static void
s_walk (s_walk_t *w, const char *device_id)
{
    if (device_id)
        s_walk_device (w, device_id);
    else
        odc_store_each (w->self->store, ODC_CF_LATEST, NULL, 0, NULL, 0, s_walk_one, w);
    if (w->id_len)
        s_walk_decide (w, NULL);
    for (int k = 0; k < ODC_LOOP_COUNT; k++)
        if (w->loops & (1u << odc_loop_wire ((odc_loop_t)k)))
            s_flush (w->self, k);
    free (w->value);
}

/*  Daily and on command: the stored latest readings of loops (bit mask of
    Odc__Loop values), of one device or all, but those the portal has. What
    was gathered of those loops goes first, so that the sent states in the
    store are complete. */
static void
s_send_latest (s_self_t *self, const char *device_id, unsigned loops)
{
    for (int k = 0; k < ODC_LOOP_COUNT; k++)
        if (loops & (1u << odc_loop_wire ((odc_loop_t)k)))
            s_flush (self, k);
    s_walk_t w = {.self = self, .mode = S_WALK_SEND, .loops = loops};
    uint64_t before = self->readings, had = self->sent_before;
    s_walk (&w, device_id);
    odc_info (NULL, "sent the latest %s of %s: %llu readings (%llu sent before: not again)",
              loops == (1u << ODC__LOOP__LOOP_METER) ? "meters" : "meters and supplies",
              device_id ? device_id : "all devices", (unsigned long long)(self->readings - before),
              (unsigned long long)(self->sent_before - had));
}

/*  At the start: learn what was sent from the store, and put in the
    outbox what the loops stored but the uploader had not yet put there
    when the collector stopped (a kill, a crash: what it was gathering; a
    reading on its way to it). Without this, a restart would send the
    first reading of every device again, or never send a stored one that
    the alert loop, which remembers the stored readings, will not send
    again. Cost: one walk of the latest family, each reading unpacked
    (about as much as the alert loop's walk at its start). */
static void
s_recover (s_self_t *self)
{
    size_t len = 0;
    char *mark = odc_store_get (self->store, ODC_CF_META, S_SENT_MARK, strlen (S_SENT_MARK), &len);
    s_walk_t w = {.self = self,
                  .mode = S_WALK_START,
                  .loops = 0x3e /* the five loops */,
                  .seed = mark == NULL};
    free (mark);
    double t0 = odc_clock_s ();
    uint64_t before = self->readings;
    if (w.seed) {
        /*  Stage the sent states of every device and kind in one batch
            (written by the flush of each kind's record: there is none, so
            write them here) and mark the store. */
        odc_store_each (self->store, ODC_CF_LATEST, NULL, 0, NULL, 0, s_walk_one, &w);
        if (w.id_len)
            s_walk_decide (&w, NULL);
        free (w.value);
        int failed = 0;
        for (int k = 0; k < ODC_LOOP_COUNT; k++) {
            s_pending_t *p = &self->pending[k];
            if (odc_store_write (self->store, p->batch) != 0)
                failed++;
            odc_batch_clear (p->batch);
            p->n_undo = 0;
        }
        /*  Unmarked, the next start seeds again (what failed here). */
        if (failed || odc_store_put (self->store, ODC_CF_META, S_SENT_MARK, strlen (S_SENT_MARK),
                                     "1", 1) != 0)
            odc_error (NULL, "uploader: what was sent not written to the store; again at the "
                             "next start");
        odc_info (NULL,
                  "uploader: what was sent is kept in the store from now on (%zu devices "
                  "and kinds known)",
                  self->sent_used);
        return;
    }
    s_walk (&w, NULL);
    odc_info (NULL,
              "uploader: %zu devices and kinds sent before; %llu readings stored but not put in "
              "the outbox before the stop go now (%.2f s)",
              self->sent_used, (unsigned long long)(self->readings - before), odc_clock_s () - t0);
}

static void
s_on_command (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    const Odc__Command *c = env->command;
    if (c->what_case == ODC__COMMAND__WHAT_SEND_METERS)
        s_send_latest (self, *c->send_meters->device_id ? c->send_meters->device_id : NULL,
                       1u << ODC__LOOP__LOOP_METER);
    else
        odc_warn (NULL, "uploader: a command it does not run ('%.80s')", c->text);
}

int
odc_uploader_request_meters (zsock_t *push, const char *device_id)
{
    Odc__SendMeters meters = ODC__SEND_METERS__INIT;
    meters.device_id = (char *)(device_id ? device_id : "");
    Odc__Command command = ODC__COMMAND__INIT;
    command.text = "send meters";
    command.what_case = ODC__COMMAND__WHAT_SEND_METERS;
    command.send_meters = &meters;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.body_case = ODC__ENVELOPE__BODY_COMMAND;
    env.command = &command;
    return odc_bus_send (push, &env);
}

/* ------------------------------------------------------------------------
   The daily upload */

/*  The next time of day HH:MM after t (collector's clock, local time). */
static double
s_next_daily (const odc_config_t *c, double t)
{
    int h = 2, m = 0;
    if (c->portal_meters_at)
        sscanf (c->portal_meters_at, "%d:%d", &h, &m);
    time_t now = (time_t)t;
    struct tm tm;
    localtime_r (&now, &tm);
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t at = mktime (&tm);
    if ((double)at <= t)
        at += 86400;
    return (double)at;
}

/*  The day (YYYYMMDD) of a time on the collector's clock. */
static int
s_day (double t)
{
    time_t when = (time_t)t;
    struct tm tm;
    localtime_r (&when, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static void
s_daily (s_self_t *self, double now)
{
    s_send_latest (self, NULL, 1u << ODC__LOOP__LOOP_METER | 1u << ODC__LOOP__LOOP_SUPPLY);
    char day[16];
    snprintf (day, sizeof day, "%d", s_day (now));
    odc_store_put (self->store, ODC_CF_META, S_DAILY_KEY, strlen (S_DAILY_KEY), day, strlen (day));
    self->next_daily = s_next_daily (self->config, now + 60);
}

/*  At the start: when today's upload time has passed and today's upload was
    not made (the collector was down then), make it now. */
static void
s_daily_start (s_self_t *self)
{
    double now = s_clock (self);
    self->next_daily = s_next_daily (self->config, now);
    size_t len = 0;
    char *done = odc_store_get (self->store, ODC_CF_META, S_DAILY_KEY, strlen (S_DAILY_KEY), &len);
    int last = done ? atoi (done) : 0;
    free (done);
    /*  Today's time has passed when the next one falls on another day. */
    if (last && last != s_day (now) && s_day (self->next_daily) != s_day (now))
        self->next_daily = now;
    if (!last) {
        /*  A new store: today counts as done (nothing read yet). */
        char day[16];
        snprintf (day, sizeof day, "%d", s_day (now));
        odc_store_put (self->store, ODC_CF_META, S_DAILY_KEY, strlen (S_DAILY_KEY), day,
                       strlen (day));
    }
}

/* ------------------------------------------------------------------------ */

static void
s_take_config (void *config, void *arg)
{
    odc_config_replace (&((s_self_t *)arg)->config, config);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_uploader_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    self->store = a->store;
    self->outbox = a->outbox;
    self->clock = odc_config_clock (self->config);
    for (int k = 0; k < S_KINDS; k++)
        self->pending[k].batch = odc_batch_new ();
    self->pull = odc_bus_pull_bind (ODC_EP_UPLOAD, 0);
    self->grew = odc_bus_push_connect (ODC_EP_OUTBOX, 0);
    *ok = self->pull && self->grew;
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    for (int k = 0; k < S_KINDS; k++) {
        free (self->pending[k].data);
        free (self->pending[k].undo);
        odc_batch_destroy (&self->pending[k].batch);
    }
    free (self->sent);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->grew);
    odc_config_replace (&self->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    zsock_t *pull = self->pull;
    s_recover (self);
    s_daily_start (self);
    odc_bus_handlers_t handlers = {0};
    odc_bus_on_readings (&handlers, s_on_reading);
    handlers.on[ODC__ENVELOPE__BODY_COMMAND] = s_on_command;
    zmq_pollitem_t items[2] = {{zsock_resolve (odc_actor_pipe_of (actor)), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (pull), 0, ZMQ_POLLIN, 0}};
    for (;;) {
        /*  Wake for the oldest gathered record's deadline, at least once a
            second for the daily upload. */
        double now = odc_clock_s (), wait = 1.0;
        for (int k = 0; k < S_KINDS; k++)
            if (self->pending[k].count) {
                double left = self->pending[k].since + s_wait[k] - now;
                if (left < wait)
                    wait = left > 0 ? left : 0;
            }
        if (zmq_poll (items, 2, (long)(wait * 1000)) < 0 && zmq_errno () != EINTR)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && odc_actor_heard (actor))
            break;
        while (zsock_events (pull) & ZMQ_POLLIN)
            odc_bus_recv (pull, &handlers, self);
        now = odc_clock_s ();
        for (int k = 0; k < S_KINDS; k++)
            if (self->pending[k].count && now - self->pending[k].since >= s_wait[k])
                s_flush (self, k);
        if (s_clock (self) >= self->next_daily)
            s_daily (self, s_clock (self));
    }
    /*  What is gathered goes to the outbox before the stop. */
    while (zsock_events (pull) & ZMQ_POLLIN)
        odc_bus_recv (pull, &handlers, self);
    for (int k = 0; k < S_KINDS; k++)
        s_flush (self, k);
    odc_info (NULL,
              "uploader stops: %llu readings in %llu outbox records, %llu unchanged not sent, "
              "%llu sent before not sent again, %llu not stored",
              (unsigned long long)self->readings, (unsigned long long)self->records,
              (unsigned long long)self->unchanged, (unsigned long long)self->sent_before,
              (unsigned long long)self->failed);
}

static const odc_actor_class_t s_class = {"uploader", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_uploader_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
