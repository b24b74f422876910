/*  odc_validator_actor: see odc_validator_actor.h. */
#include "odc_validator_actor.h"

#include <inttypes.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_devlist.h"
#include "odc_latest_actor.h"
#include "odc_log.h"
#include "odc_supervisor.h"
#include "odc_validate.h"

typedef struct {
    const odc_config_t *config;
    odc_validate_limits_t limits;
    odc_store_t *store;
    odc_outbox_t *outbox;
    odc_batch_t *batch;
    zsock_t *pull, *meters, *accepted, *grew;
    zsock_t *alerts;   /* the triage actor's (the latest actor's without one) */
    zsock_t *supplies; /* the supplies actor's (the latest actor's without one) */
    odc_clock_t clock;
    uint64_t passed, rejected, notes, resets;
    uint64_t seq;     /* of the last event record in the batch */
    bool with_record; /* the batch holds an outbox record: committed through the outbox */
    zhashx_t *staged; /* key -> zchunk_t: the histories in the batch, not yet written */
} s_self_t;

/* ------------------------------------------------------------------------
   History: the store's record, as an unpacked message we change in place
   (everything in it allocated with malloc, as protobuf-c's own unpack
   does, so odc__history__free_unpacked frees either). */

Odc__History *
odc_history_get (odc_store_t *store, const char *device_id, int loop)
{
    char key[ODC_DEVICE_ID_MAX + 16];
    odc_latest_key (key, sizeof key, device_id, loop);
    size_t len = 0;
    void *value = odc_store_get (store, ODC_CF_HISTORY, key, strlen (key), &len);
    if (!value)
        return NULL;
    Odc__History *h = odc__history__unpack (NULL, len, value);
    free (value);
    return h;
}

static Odc__History *
s_history_new (void)
{
    Odc__History *h = malloc (sizeof *h);
    odc__history__init (h);
    return h;
}

/*  A device's history as the validator last staged or wrote it (the
    batch is written once a drain: what it holds is read from there). */
static Odc__History *
s_history_load (s_self_t *self, const char *key, const char *device_id, int loop)
{
    zchunk_t *staged = zhashx_lookup (self->staged, key);
    if (staged)
        return odc__history__unpack (NULL, zchunk_size (staged), zchunk_data (staged));
    Odc__History *h = odc_history_get (self->store, device_id, loop);
    return h ? h : s_history_new ();
}

static void
s_history_stage (s_self_t *self, const char *key, size_t klen, const Odc__History *h)
{
    size_t size = odc__history__get_packed_size (h);
    zchunk_t *chunk = zchunk_new (NULL, size ? size : 1);
    odc__history__pack (h, zchunk_data (chunk));
    zchunk_set (chunk, zchunk_data (chunk), size);
    odc_batch_put (self->batch, self->store, ODC_CF_HISTORY, key, klen, zchunk_data (chunk), size);
    zhashx_update (self->staged, key, chunk);
}

#define S_GROW(array, n) ((array) = realloc ((array), ((n) + 1) * sizeof *(array)))

static Odc__CounterHistory *
s_counter_find (const Odc__History *h, const char *name)
{
    for (size_t i = 0; i < h->n_counters; i++)
        if (!strcmp (h->counters[i]->name, name))
            return h->counters[i];
    return NULL;
}

static void
s_keep_last (uint64_t **array, size_t *n, uint64_t value)
{
    if (*n == ODC_HISTORY_DEPTH) {
        memmove (*array, *array + 1, (ODC_HISTORY_DEPTH - 1) * sizeof **array);
        (*n)--;
    }
    S_GROW (*array, *n);
    (*array)[(*n)++] = value;
}

static void
s_counter_push (Odc__History *h, const Odc__Counter *c)
{
    Odc__CounterHistory *ch = s_counter_find (h, c->name);
    if (!ch) {
        ch = malloc (sizeof *ch);
        odc__counter_history__init (ch);
        ch->name = strdup (c->name);
        S_GROW (h->counters, h->n_counters);
        h->counters[h->n_counters++] = ch;
    }
    s_keep_last (&ch->values, &ch->n_values, c->value);
    ch->type = c->type;
}

static void
s_counters_clear (Odc__History *h)
{
    for (size_t i = 0; i < h->n_counters; i++)
        odc__counter_history__free_unpacked (h->counters[i], NULL);
    free (h->counters);
    h->counters = NULL;
    h->n_counters = 0;
    free (h->read_ms);
    h->read_ms = NULL;
    h->n_read_ms = 0;
}

static void
s_pending_clear (Odc__History *h)
{
    if (h->pending)
        odc__meter_reading__free_unpacked (h->pending, NULL);
    h->pending = NULL;
    for (size_t i = 0; i < h->n_pending_supplies; i++)
        odc__supply_history__free_unpacked (h->pending_supplies[i], NULL);
    free (h->pending_supplies);
    h->pending_supplies = NULL;
    h->n_pending_supplies = 0;
}

/*  Keep a rejection (or a note): the newest ODC_HISTORY_REJECTIONS. */
static void
s_reject_add (Odc__History *h, const Odc__ReadingHeader *header, const char *field,
              const char *reason, uint64_t value, uint64_t previous, uint64_t at_ms, bool note)
{
    if (h->n_rejections == ODC_HISTORY_REJECTIONS) {
        odc__rejection__free_unpacked (h->rejections[0], NULL);
        memmove (h->rejections, h->rejections + 1,
                 (ODC_HISTORY_REJECTIONS - 1) * sizeof *h->rejections);
        h->n_rejections--;
    }
    Odc__Rejection *r = malloc (sizeof *r);
    odc__rejection__init (r);
    r->header = malloc (sizeof *r->header);
    odc__reading_header__init (r->header);
    r->header->device_id = strdup (header && header->device_id ? header->device_id : "");
    r->header->address = strdup (header && header->address ? header->address : "");
    r->header->loop = header ? header->loop : ODC__LOOP__LOOP_UNSPECIFIED;
    r->header->finished_ms = header ? header->finished_ms : 0;
    r->header->collector_ms = header ? header->collector_ms : 0;
    r->field = strdup (field);
    r->reason = strdup (reason);
    r->value = value;
    r->previous = previous;
    r->at_ms = at_ms;
    r->note = note;
    S_GROW (h->rejections, h->n_rejections);
    h->rejections[h->n_rejections++] = r;
    if (!note)
        h->rejected++;
}

void
odc_rejection_format (const Odc__Rejection *r, char *out, size_t size)
{
    char when[32] = "-";
    time_t t = (time_t)(r->at_ms / 1000);
    struct tm tm;
    if (r->at_ms && localtime_r (&t, &tm))
        strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf (out, size, "%s %s%s: %s (read %" PRIu64 ", last accepted %" PRIu64 ")", when,
              r->note ? "note " : "", r->field ? r->field : "", r->reason ? r->reason : "",
              r->value, r->previous);
}

/* ------------------------------------------------------------------------
   Meter resets: the portal's event, in the history's batch */

static void
s_reset_event (s_self_t *self, const Odc__ReadingHeader *header, const char *counter,
               uint64_t old_value, uint64_t new_value, const char *how, uint64_t at_ms)
{
    self->resets++;
    odc_info (header->device_id, "meter reset (%s): %s %" PRIu64 " -> %" PRIu64, how, counter,
              old_value, new_value);
    if (!self->outbox)
        return;
    Odc__DeviceEvent ev = ODC__DEVICE_EVENT__INIT;
    ev.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET;
    ev.device_id = header->device_id;
    ev.address = header->address;
    ev.counter = (char *)counter;
    ev.old_value = old_value;
    ev.new_value = new_value;
    ev.how = (char *)how;
    ev.at_ms = at_ms;
    size_t len = 0, cap = 0;
    uint8_t *record = NULL;
    odc_bus_batch_append_body (&record, &len, &cap, "validator", odc_now_ms (),
                               ODC__ENVELOPE__BODY_DEVICE_EVENT, &ev.base);
    const odc_kind_t *k = &odc_kinds[ODC_KIND_EVENT];
    /*  Committed with the history (s_commit): one write. */
    self->seq = odc_outbox_add (self->outbox, self->batch, k->priority, k->kind, record, len);
    self->with_record = true;
    free (record);
}

/*  Write the batch: with an outbox record in it, through the outbox (its
    commit), else straight. Once a drain (s_idle), and at the stop. */
static void
s_commit (s_self_t *self)
{
    bool with_record = self->with_record;
    self->with_record = false;
    zhashx_purge (self->staged);
    if (!odc_batch_count (self->batch))
        return;
    int rc;
    if (with_record && self->outbox) {
        rc = odc_outbox_commit (self->outbox, self->batch);
        if (rc == 0)
            odc_bus_outbox_grew (self->grew, odc_kinds[ODC_KIND_EVENT].priority, self->seq);
        else
            odc_error (NULL, "validator: a meter reset event not put in the outbox: %s",
                       errno == ENOSPC ? "the outbox is full" : "the store refused the write");
    }
    else
        rc = odc_store_write_lazy (self->store, self->batch);
    if (rc != 0 && !with_record)
        odc_error (NULL, "validator: the store refused the history");
    odc_batch_clear (self->batch);
}

/* ------------------------------------------------------------------------
   Meters */

typedef struct {
    const char *field;
    char why[200];
    uint64_t value, previous;
} s_suspect_t;

/*  Judge the counters of r against the history counters of h (or, pend
    set, against the pending reading): 0 all good, with *reset the first
    counter that reset (or NULL); -1 suspicious, with sus filled. */
static int
s_judge_counters (const s_self_t *self, const Odc__History *h, const Odc__MeterReading *pend,
                  const Odc__MeterReading *r, uint64_t at_ms, uint64_t pend_at_ms, s_suspect_t *sus,
                  const Odc__Counter **reset, uint64_t *reset_old)
{
    *reset = NULL;
    size_t known = pend ? pend->n_counters : h->n_counters;
    if (!r->n_counters && known) {
        sus->field = "counters";
        snprintf (sus->why, sizeof sus->why, "no counters (%zu before): the device answered none",
                  known);
        sus->value = 0, sus->previous = known;
        return -1;
    }
    size_t matched = 0;
    for (size_t i = 0; i < r->n_counters; i++) {
        const Odc__Counter *c = r->counters[i];
        odc_counter_seen_t seen;
        uint32_t type = 0;
        bool have = false;
        if (pend) {
            for (size_t j = 0; j < pend->n_counters && !have; j++)
                if (!strcmp (pend->counters[j]->name, c->name)) {
                    seen = (odc_counter_seen_t){pend->counters[j]->value, pend_at_ms,
                                                pend->sys_uptime_cs};
                    type = pend->counters[j]->type;
                    have = true;
                }
        }
        else {
            const Odc__CounterHistory *ch = s_counter_find (h, c->name);
            if (ch && ch->n_values && h->n_read_ms) {
                seen = (odc_counter_seen_t){ch->values[ch->n_values - 1],
                                            h->read_ms[h->n_read_ms - 1], h->uptime_cs};
                type = ch->type;
                have = true;
            }
        }
        if (!have) {
            if (pend) {
                sus->field = c->name;
                snprintf (sus->why, sizeof sus->why, "not in the reading before");
                sus->value = c->value, sus->previous = 0;
                return -1;
            }
            continue; /* a counter first seen: accepted */
        }
        matched++;
        sus->field = c->name;
        sus->value = c->value, sus->previous = seen.value;
        if (odc_validate_counter_type (type, c->type, sus->why, sizeof sus->why) ==
            ODC_VERDICT_SUSPECT)
            return -1;
        odc_verdict_t v = odc_validate_counter (&self->limits, &seen, c->value, at_ms,
                                                r->sys_uptime_cs, sus->why, sizeof sus->why);
        if (v == ODC_VERDICT_SUSPECT)
            return -1;
        if (v == ODC_VERDICT_RESET && !*reset) {
            *reset = c;
            *reset_old = seen.value;
        }
    }
    if (matched < known) {
        /*  A counter of before is gone. */
        const char **before = malloc (known * sizeof *before);
        const char **now = malloc ((r->n_counters + 1) * sizeof *now);
        for (size_t j = 0; j < known; j++)
            before[j] = pend ? pend->counters[j]->name : h->counters[j]->name;
        for (size_t i = 0; i < r->n_counters; i++)
            now[i] = r->counters[i]->name;
        odc_verdict_t v = odc_validate_counters_kept (before, known, now, r->n_counters, sus->why,
                                                      sizeof sus->why);
        free (before);
        free (now);
        if (v == ODC_VERDICT_SUSPECT) {
            sus->field = "counters";
            sus->value = r->n_counters, sus->previous = known;
            return -1;
        }
    }
    return 0;
}

/*  The first counter of r that is lower than in h: what a confirmed reset
    reports. */
static const Odc__Counter *
s_first_drop (const Odc__History *h, const Odc__MeterReading *r, uint64_t *old)
{
    for (size_t i = 0; i < r->n_counters; i++) {
        const Odc__CounterHistory *ch = s_counter_find (h, r->counters[i]->name);
        if (ch && ch->n_values && ch->values[ch->n_values - 1] > r->counters[i]->value) {
            *old = ch->values[ch->n_values - 1];
            return r->counters[i];
        }
    }
    return NULL;
}

static void
s_counters_accept (Odc__History *h, const Odc__MeterReading *r, uint64_t at_ms)
{
    for (size_t i = 0; i < r->n_counters; i++)
        s_counter_push (h, r->counters[i]);
    s_keep_last (&h->read_ms, &h->n_read_ms, at_ms);
    h->uptime_cs = r->sys_uptime_cs;
}

/*  The pending reading's time: the history keeps it in its header's
    finished_ms, on the collector's clock. */
static bool
s_meters (s_self_t *self, Odc__History *h, Odc__Envelope *env, uint64_t at_ms)
{
    Odc__MeterReading *r = env->meters;
    const Odc__ReadingHeader *hd = r->header;
    s_suspect_t sus = {0};
    const Odc__Counter *reset;
    uint64_t reset_old = 0;
    if (s_judge_counters (self, h, NULL, r, at_ms, 0, &sus, &reset, &reset_old) == 0) {
        s_counters_accept (h, r, at_ms);
        s_pending_clear (h);
        if (reset) {
            s_reset_event (self, hd, reset->name, reset_old, reset->value, "restart", at_ms);
        }
        return true;
    }
    /*  Suspicious. A second reading that agrees with the pending one is
        the new truth. */
    s_suspect_t again = {0};
    uint64_t pend_at = h->pending && h->pending->header ? h->pending->header->finished_ms : 0;
    if (h->pending && s_judge_counters (self, h, h->pending, r, at_ms, pend_at, &again, &reset,
                                        &reset_old) == 0) {
        uint64_t old = 0;
        const Odc__Counter *drop = s_first_drop (h, r, &old);
        odc_info (hd->device_id,
                  "meter reading accepted as the new truth: %s agrees with the "
                  "one rejected before",
                  r->n_counters ? r->counters[0]->name : "no counter");
        if (drop) {
            s_reset_event (self, hd, drop->name, old, drop->value, "confirmed", at_ms);
        }
        Odc__MeterReading *pend = h->pending;
        h->pending = NULL;
        s_counters_clear (h);
        s_counters_accept (h, pend, pend_at);
        s_counters_accept (h, r, at_ms);
        odc__meter_reading__free_unpacked (pend, NULL);
        s_pending_clear (h);
        return true;
    }
    odc_info (hd->device_id, "meter reading rejected: %s %s", sus.field, sus.why);
    s_reject_add (h, hd, sus.field, sus.why, sus.value, sus.previous, at_ms, false);
    /*  Kept as pending, its time on the collector's clock. */
    s_pending_clear (h);
    h->pending = r;
    env->meters = NULL;
    env->body_case = ODC__ENVELOPE__BODY__NOT_SET;
    r->header->finished_ms = at_ms;
    return false;
}

/* ------------------------------------------------------------------------
   Supplies, trays, alerts */

static const Odc__SupplyHistory *
s_supply_find (Odc__SupplyHistory *const *list, size_t n, int32_t index)
{
    for (size_t i = 0; i < n; i++)
        if (list[i]->index == index)
            return list[i];
    return NULL;
}

static void
s_supplies_set (Odc__SupplyHistory ***list, size_t *n, const Odc__SupplyReading *r, uint64_t at_ms)
{
    for (size_t i = 0; i < *n; i++)
        odc__supply_history__free_unpacked ((*list)[i], NULL);
    free (*list);
    *list = r->n_supplies ? malloc (r->n_supplies * sizeof **list) : NULL;
    *n = 0;
    for (size_t i = 0; i < r->n_supplies; i++) {
        Odc__SupplyHistory *s = malloc (sizeof *s);
        odc__supply_history__init (s);
        s->index = r->supplies[i]->index;
        s->max_capacity = r->supplies[i]->max_capacity;
        s->level = r->supplies[i]->level;
        s->at_ms = at_ms;
        (*list)[(*n)++] = s;
    }
}

/*  -1 suspicious (field, why), else 0 with *note the first noted supply
    (-1 none). */
static int
s_judge_supplies (Odc__SupplyHistory *const *list, size_t n, const Odc__SupplyReading *r,
                  char *field, size_t fsize, char *why, size_t wsize, int *note, char *nwhy,
                  size_t nsize, uint64_t *value, uint64_t *previous)
{
    *note = -1;
    for (size_t i = 0; i < r->n_supplies; i++) {
        const Odc__Supply *s = r->supplies[i];
        const Odc__SupplyHistory *p = s_supply_find (list, n, s->index);
        odc_supply_seen_t seen = {p ? p->max_capacity : 0, p ? p->level : 0};
        char text[160];
        odc_verdict_t v =
            odc_validate_supply (p ? &seen : NULL, s->max_capacity, s->level, text, sizeof text);
        if (v == ODC_VERDICT_SUSPECT) {
            snprintf (field, fsize, "supply.%d", s->index);
            snprintf (why, wsize, "%s", text);
            *value = (uint64_t)(int64_t)s->level;
            *previous = p ? (uint64_t)(int64_t)p->level : 0;
            return -1;
        }
        if (v == ODC_VERDICT_NOTE && *note < 0) {
            *note = s->index;
            snprintf (nwhy, nsize, "%s", text);
            *value = (uint64_t)(int64_t)s->level;
            *previous = p ? (uint64_t)(int64_t)p->level : 0;
        }
    }
    return 0;
}

/*  The supplies of r as the history has them already (nothing to write). */
static bool
s_supplies_same (const Odc__History *h, const Odc__SupplyReading *r)
{
    if (h->n_supplies != r->n_supplies || h->n_pending_supplies)
        return false;
    for (size_t i = 0; i < r->n_supplies; i++)
        if (h->supplies[i]->index != r->supplies[i]->index ||
            h->supplies[i]->max_capacity != r->supplies[i]->max_capacity ||
            h->supplies[i]->level != r->supplies[i]->level)
            return false;
    return true;
}

static bool
s_supplies (s_self_t *self, Odc__History *h, const Odc__SupplyReading *r, uint64_t at_ms,
            bool *changed)
{
    char field[32], why[160], nwhy[160];
    int note;
    uint64_t value = 0, previous = 0;
    if (s_judge_supplies (h->supplies, h->n_supplies, r, field, sizeof field, why, sizeof why,
                          &note, nwhy, sizeof nwhy, &value, &previous) == 0) {
        if (note < 0 && s_supplies_same (h, r)) {
            *changed = false;
            return true;
        }
        if (note >= 0) {
            char f[32];
            snprintf (f, sizeof f, "supply.%d", note);
            s_reject_add (h, r->header, f, nwhy, value, previous, at_ms, true);
            self->notes++;
        }
        s_supplies_set (&h->supplies, &h->n_supplies, r, at_ms);
        s_pending_clear (h);
        return true;
    }
    /*  A second reading like the one rejected before: the new truth (a
        supply of another capacity fitted, say). */
    char f2[32], w2[160], n2[160];
    int note2;
    uint64_t v2, p2;
    if (h->n_pending_supplies &&
        s_judge_supplies (h->pending_supplies, h->n_pending_supplies, r, f2, sizeof f2, w2,
                          sizeof w2, &note2, n2, sizeof n2, &v2, &p2) == 0) {
        odc_info (r->header->device_id,
                  "supply reading accepted as the new truth: %s agrees "
                  "with the one rejected before",
                  field);
        s_supplies_set (&h->supplies, &h->n_supplies, r, at_ms);
        s_pending_clear (h);
        return true;
    }
    odc_info (r->header->device_id, "supply reading rejected: %s %s", field, why);
    s_reject_add (h, r->header, field, why, value, previous, at_ms, false);
    s_pending_clear (h);
    s_supplies_set (&h->pending_supplies, &h->n_pending_supplies, r, at_ms);
    return false;
}

/*  Trays: a level out of 0..max and no sentinel is suspicious. */
static bool
s_trays (const Odc__TrayReading *r, char *field, size_t fsize, char *why, size_t wsize,
         uint64_t *value)
{
    for (size_t i = 0; i < r->n_trays; i++) {
        const Odc__Tray *t = r->trays[i];
        char text[160];
        if (odc_validate_supply (NULL, t->max_capacity, t->current_level, text, sizeof text) ==
            ODC_VERDICT_SUSPECT) {
            snprintf (field, fsize, "tray.%d", t->index);
            snprintf (why, wsize, "%s", text);
            *value = (uint64_t)(int64_t)t->current_level;
            return false;
        }
    }
    return true;
}

/*  A malformed alert row, noted once (not again while it is the newest
    note): "" when every row is good. */
static void
s_alert_rows (const Odc__AlertReading *r, char *field, size_t fsize, char *why, size_t wsize,
              uint64_t *value)
{
    field[0] = 0;
    for (size_t i = 0; i < r->n_alerts; i++) {
        const Odc__Alert *a = r->alerts[i];
        if (odc_validate_alert_row (a->index, a->group, a->code, why, wsize) != ODC_VERDICT_OK) {
            snprintf (field, fsize, "alert.%d", a->index);
            *value = (uint64_t)(int64_t)(a->index <= 0 ? a->index : a->group);
            return;
        }
    }
}

/*  Whether an alert reading's envelope (packed) holds alert rows, from its
    bytes: most hold only the status, and are not unpacked for nothing.
    Envelope field 13 (alerts) is an AlertReading, whose field 9 is the
    rows. A frame that does not parse says yes (unpacked, it asserts). */
static bool
s_varint (const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static bool
s_field (const uint8_t *p, const uint8_t *end, uint32_t want, const uint8_t **start, size_t *len)
{
    while (p < end) {
        uint64_t tag, v;
        if (!s_varint (&p, end, &tag))
            return true;
        switch (tag & 7) {
        case 0:
            if (!s_varint (&p, end, &v))
                return true;
            break;
        case 1: p += 8; break;
        case 5: p += 4; break;
        case 2:
            if (!s_varint (&p, end, &v) || v > (uint64_t)(end - p))
                return true;
            if ((tag >> 3) == want) {
                *start = p, *len = (size_t)v;
                return true;
            }
            p += v;
            break;
        default: return true;
        }
    }
    return false;
}

static bool
s_has_alert_rows (const void *frame, size_t size)
{
    const uint8_t *p = frame, *end = p + size, *body = NULL, *row = NULL;
    size_t blen = 0, rlen = 0;
    if (!s_field (p, end, 13, &body, &blen))
        return false;
    return !body || s_field (body, body + blen, 9, &row, &rlen);
}

/* ------------------------------------------------------------------------
   The readings */

static uint64_t
s_at_ms (const s_self_t *self, uint64_t finished_ms)
{
    return (uint64_t)(odc_collector_at (&self->clock, (double)finished_ms / 1000.0) * 1000.0);
}

static void
s_pass (s_self_t *self, zsock_t *to, zmq_msg_t *key, zmq_msg_t *frame)
{
    odc_bus_forward_keyed (to, key, frame);
    self->passed++;
}

static void
s_take (void *arg)
{
    s_self_t *self = arg;
    zmq_msg_t key, frame;
    if (odc_bus_recv_keyed (self->pull, &key, &frame) != 0) {
        zmq_msg_close (&key);
        zmq_msg_close (&frame);
        return;
    }
    const char *k = zmq_msg_data (&key);
    size_t klen = zmq_msg_size (&key), id_len = 0;
    int loop = odc_latest_key_loop (k, klen, &id_len);
    if (loop == ODC__LOOP__LOOP_IDENTITY || loop < 0 ||
        (loop == ODC__LOOP__LOOP_ALERT &&
         !s_has_alert_rows (zmq_msg_data (&frame), zmq_msg_size (&frame)))) {
        s_pass (self, loop == ODC__LOOP__LOOP_ALERT ? self->alerts : self->accepted, &key, &frame);
        goto done;
    }
    Odc__Envelope *env = odc__envelope__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    const Odc__ReadingHeader *hd = env ? odc_bus_reading_header (env) : NULL;
    if (!hd) {
        /*  Only the loops write here: not a reading is a bug. */
        assert (!"not a reading on the readings socket");
        if (env)
            odc__envelope__free_unpacked (env, NULL);
        goto done;
    }
    uint64_t at = hd->collector_ms ? hd->collector_ms : s_at_ms (self, hd->finished_ms);
    bool accept = true, changed = true;
    char field[48], why[200];
    uint64_t value = 0;
    Odc__History *h = NULL;
    char kz[ODC_DEVICE_ID_MAX + 16];
    snprintf (kz, sizeof kz, "%.*s", (int)klen, k);
    if (loop == ODC__LOOP__LOOP_ALERT) {
        changed = false;
        s_alert_rows (env->alerts, field, sizeof field, why, sizeof why, &value);
        if (field[0]) {
            h = s_history_load (self, kz, hd->device_id, loop);
            const Odc__Rejection *last =
                h->n_rejections ? h->rejections[h->n_rejections - 1] : NULL;
            if (!last || strcmp (last->reason, why)) {
                odc_info (hd->device_id, "alert reading noted: %s", why);
                s_reject_add (h, hd, field, why, value, 0, at, true);
                self->notes++;
                changed = true;
            }
        }
    }
    else if (loop == ODC__LOOP__LOOP_TRAY) {
        changed = false;
        if (!s_trays (env->trays, field, sizeof field, why, sizeof why, &value)) {
            h = s_history_load (self, kz, hd->device_id, loop);
            odc_info (hd->device_id, "tray reading rejected: %s %s", field, why);
            s_reject_add (h, hd, field, why, value, 0, at, false);
            accept = false;
            changed = true;
        }
    }
    else {
        h = s_history_load (self, kz, hd->device_id, loop);
        if (loop == ODC__LOOP__LOOP_METER)
            accept = s_meters (self, h, env, at);
        else
            accept = s_supplies (self, h, env->supplies, at, &changed);
    }
    if (h && changed)
        s_history_stage (self, kz, klen, h);
    if (h)
        odc__history__free_unpacked (h, NULL);
    odc__envelope__free_unpacked (env, NULL);
    if (accept)
        s_pass (self,
                loop == ODC__LOOP__LOOP_METER    ? self->meters
                : loop == ODC__LOOP__LOOP_ALERT  ? self->alerts
                : loop == ODC__LOOP__LOOP_SUPPLY ? self->supplies
                                                 : self->accepted,
                &key, &frame);
    else
        self->rejected++;
done:
    zmq_msg_close (&key);
    zmq_msg_close (&frame);
}

/* ------------------------------------------------------------------------
   The actor */

static void
s_take_config (void *config, void *arg)
{
    s_self_t *self = arg;
    odc_config_replace (&self->config, config);
    odc_validate_limits_of (&self->limits, self->config);
}

/*  After a drain: what it staged, in one write. */
static void
s_idle (void *arg)
{
    s_commit (arg);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_validator_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    odc_validate_limits_of (&self->limits, self->config);
    self->store = a->store;
    self->outbox = a->outbox;
    self->batch = odc_batch_new ();
    self->staged = zhashx_new ();
    zhashx_set_destructor (self->staged, (zhashx_destructor_fn *)zchunk_destroy);
    self->clock = odc_config_clock (self->config);
    self->pull = odc_bus_pull_bind (ODC_EP_READINGS, 0);
    self->meters = odc_bus_push_connect (ODC_EP_METERS, 0);
    self->accepted = odc_bus_push_connect (ODC_EP_ACCEPTED, 0);
    self->alerts = a->triage ? odc_bus_push_connect (ODC_EP_TRIAGE, 0) : NULL;
    if (a->outbox)
        self->grew = odc_bus_push_connect (ODC_EP_OUTBOX, 0);
    *ok = self->pull && self->meters && self->accepted && (!a->outbox || self->grew) &&
          (!a->triage || self->alerts);
    self->supplies = a->supplies ? odc_bus_push_connect (ODC_EP_SUPPLIES, 0) : NULL;
    *ok = *ok && (!a->supplies || self->supplies);
    if (!a->triage)
        self->alerts = self->accepted;
    if (!a->supplies)
        self->supplies = self->accepted;
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    if (self->batch)
        s_commit (self);
    zhashx_destroy (&self->staged);
    odc_batch_destroy (&self->batch);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->meters);
    if (self->alerts != self->accepted)
        zsock_destroy (&self->alerts);
    if (self->supplies != self->accepted)
        zsock_destroy (&self->supplies);
    zsock_destroy (&self->accepted);
    zsock_destroy (&self->grew);
    odc_config_replace (&self->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_actor_serve (actor, self->pull, s_take, s_idle, self);
    odc_info (NULL,
              "validator: %" PRIu64 " readings passed, %" PRIu64 " rejected, %" PRIu64
              " notes, %" PRIu64 " meter resets",
              self->passed, self->rejected, self->notes, self->resets);
}

static const odc_actor_class_t s_class = {"validator", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_validator_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
