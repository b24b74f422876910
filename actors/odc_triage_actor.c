/*  odc_triage_actor: see odc_triage_actor.h. */
#include "odc_triage_actor.h"

#include <errno.h>
#include <inttypes.h>

#include "odc_alerts.h"
#include "odc_bus.h"
#include "odc_devlist.h"
#include "odc_latest_actor.h"
#include "odc_devices.h"
#include "odc_log.h"
#include "odc_route.h"
#include "odc_supervisor.h"
#include "odc_triage.h"

#define S_TICK_MS 1000

typedef struct {
    odc_device_alerts_t state;
    char address[64];
} s_staged_t;

/*  A device with a clear waiting: when the first is due, and where it is. */
typedef struct {
    uint64_t due_ms;
    char address[64];
} s_wait_t;

/*  How long a device whose maker the registry does not know yet waits
    before it is asked again (collector ms): the identity loop's pass. */
#define S_MAKER_AGAIN_MS (3600 * 1000ull)

typedef struct {
    const odc_config_t *config;
    odc_triage_opts_t opts;
    odc_alert_codes_t *codes;
    odc_store_t *store;
    odc_outbox_t *outbox, *notify;
    odc_batch_t *batch;
    zsock_t *pull, *accepted, *grew, *notified;
    odc_clock_t clock;
    zhashx_t *staged;  /* device id -> s_staged_t: the states in the batch, not yet written */
    zlistx_t *pool;    /* s_staged_t to use again (each is ~60 KB) */
    zhashx_t *waiting; /* device id -> s_wait_t: devices with a clear waiting out the window */
    zhashx_t *makers;  /* device id -> when its maker was last asked of the registry (ms) */
    odc_triage_events_t events;
    uint8_t *record; /* the events of this drain, as an outbox record's payload */
    size_t record_len, record_cap, record_events;
    size_t notices;      /* in the batch, for the notify queue */
    uint64_t notify_seq; /* the last of them */
    uint64_t readings, raised, changed, cleared, suppressed;
} s_self_t;

static uint64_t
s_now_ms (const s_self_t *self)
{
    return (uint64_t)(odc_collector_s (&self->clock) * 1000.0);
}

static void
s_opts_of (s_self_t *self)
{
    self->opts.repeat_window_ms = (uint64_t)self->config->triage_repeat_window_minutes * 60000;
    self->opts.unreachable_passes = (uint32_t)self->config->triage_unreachable_passes;
}

static void
s_staged_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

/*  A device's state as triage last staged or wrote it. */
static s_staged_t *
s_state (s_self_t *self, const char *device_id)
{
    s_staged_t *s = zhashx_lookup (self->staged, device_id);
    if (s)
        return s;
    /*  From the pool, not calloc: odc_triage_state_load writes what it
        needs of the ~60 KB. */
    s = zlistx_first (self->pool) ? zlistx_detach (self->pool, NULL) : malloc (sizeof *s);
    s->address[0] = 0;
    size_t len = 0;
    void *value = odc_store_get (self->store, ODC_CF_ALERTS, device_id, strlen (device_id), &len);
    if (!odc_triage_state_load (&s->state, value, len))
        odc_warn (device_id, "triage: its stored alerts are not readable: begun again");
    free (value);
    zhashx_insert (self->staged, device_id, s);
    return s;
}

/*  The batch is written: its states back to the pool (a drain's worth
    kept), the staged table emptied. */
#define S_POOL_MAX 512
static void
s_unstage (s_self_t *self)
{
    for (s_staged_t *s = zhashx_first (self->staged); s; s = zhashx_next (self->staged))
        if (zlistx_size (self->pool) < S_POOL_MAX)
            zlistx_add_end (self->pool, s);
        else
            free (s);
    zhashx_purge (self->staged);
}

static void
s_stage (s_self_t *self, const char *device_id, s_staged_t *s)
{
    uint8_t *data;
    size_t size;
    odc_triage_state_pack (&s->state, &data, &size);
    odc_batch_put (self->batch, self->store, ODC_CF_ALERTS, device_id, strlen (device_id), data,
                   size);
    free (data);
}

/*  An event for destination index (e-mail, exec): one Notice per
    recipient into the notify queue, in the drain's batch. */
static void
s_notice (s_self_t *self, int index, const odc_triage_event_t *e, const char *device_id,
          const char *address, Odc__Device *device)
{
    if (!self->notify)
        return;
    const odc_destination_t *d = &self->config->destinations[index - 2];
    Odc__AlertEvent ev;
    Odc__TriagedAlert alert;
    odc_triage_event_message (e, device_id, address, &ev, &alert);
    Odc__Notice n = ODC__NOTICE__INIT;
    n.destination = d->name;
    n.event = &ev;
    n.device = device;
    n.collector_id = self->config->collector_id;
    size_t recipients = d->type == ODC_DEST_EMAIL ? d->to_count : 1;
    for (size_t k = 0; k < recipients; k++) {
        n.recipient = d->type == ODC_DEST_EMAIL ? d->to[k] : (char *)"";
        size_t size = odc__notice__get_packed_size (&n);
        uint8_t *data = malloc (size ? size : 1);
        odc__notice__pack (&n, data);
        self->notify_seq =
            odc_outbox_add (self->notify, self->batch, ODC__PRIORITY__PRIORITY_URGENT,
                            d->type == ODC_DEST_EMAIL ? "email" : "exec", data, size);
        free (data);
        self->notices++;
    }
}

/*  Where a "raised" goes: the rules' destinations less those its repeat
    policy holds back (noted in the state), kept as the alert's sent_to for
    its "changed" and "cleared". */
static uint32_t
s_route_raised (s_self_t *self, const char *device_id, const char *address, s_staged_t *s,
                odc_triage_event_t *e, Odc__Device **device, bool *looked)
{
    const odc_config_t *c = self->config;
    odc_triaged_t *a = &e->alert;
    odc_route_device_t d = {address, NULL, NULL,
                            odc_config_in_hours_at (c, (double)e->at_ms / 1000.0)};
    if (odc_route_needs_device (c) || c->destination_count) {
        if (!*looked)
            *device = odc_devices_get (self->store, device_id);
        *looked = true;
        if (*device) {
            d.location = (*device)->location;
            d.asset_number = (*device)->asset_number;
        }
    }
    uint32_t mask = odc_route_match (c, a, &d) | 1u << ODC_ROUTE_RECORD;
    for (int i = 2; i < odc_route_count (c) && i < ODC_DESTINATIONS_MAX; i++)
        if ((mask & (1u << i)) && !odc_route_repeat_ok (c, i, &s->state, a->category, e->at_ms)) {
            mask &= ~(1u << i);
            self->suppressed++;
            odc_info (device_id, "alert %s not sent to %s: it had a %s alert within %d minutes",
                      a->code, odc_route_name (c, i), a->category,
                      c->destinations[i - 2].every_minutes);
        }
    odc_route_sent_to (c, mask, a->sent_to, sizeof a->sent_to);
    for (size_t i = 0; i < s->state.n_open; i++)
        if (!strcmp (s->state.open[i].alert_id, a->alert_id))
            memcpy (s->state.open[i].sent_to, a->sent_to, sizeof a->sent_to);
    return mask;
}

/*  The events at hand: logged, counted, routed (the portal's into the
    drain's record, the others into the notify queue). Returns true when
    routing changed the state (sent_to, the repeat policy's notes). */
static bool
s_events (s_self_t *self, const char *device_id, const char *address, s_staged_t *s)
{
    bool changed = false, looked = false;
    Odc__Device *device = NULL;
    for (size_t i = 0; i < self->events.count; i++) {
        odc_triage_event_t *e = &self->events.items[i];
        const odc_triaged_t *a = &e->alert;
        uint32_t mask;
        switch (e->type) {
        case ODC__ALERT_EVENT_TYPE__ALERT_RAISED:
            self->raised++;
            mask = s_route_raised (self, device_id, address, s, e, &device, &looked);
            changed = true;
            odc_info (device_id, "alert raised: %s (%s, %s) %s; to %s", a->code, a->category,
                      a->severity, a->description, a->sent_to);
            break;
        case ODC__ALERT_EVENT_TYPE__ALERT_CHANGED:
            self->changed++;
            mask = odc_route_sent (self->config, a->sent_to);
            odc_info (device_id, "alert changed: %s %s -> %s", a->code, e->old_severity,
                      a->severity);
            break;
        default:
            self->cleared++;
            mask = odc_route_sent (self->config, a->sent_to);
            odc_info (device_id, "alert cleared: %s after %" PRIu64 " s (%u flaps, %u repeats)",
                      a->code, e->duration_s, a->flaps, a->repeats);
            break;
        }
        if (self->outbox && (mask & (1u << ODC_ROUTE_PORTAL))) {
            Odc__AlertEvent ev;
            Odc__TriagedAlert alert;
            odc_triage_event_message (e, device_id, address, &ev, &alert);
            odc_bus_batch_append_body (&self->record, &self->record_len, &self->record_cap,
                                       "triage", e->at_ms, ODC__ENVELOPE__BODY_ALERT_EVENT,
                                       &ev.base);
            self->record_events++;
        }
        for (int k = 2; k < odc_route_count (self->config) && k < ODC_DESTINATIONS_MAX; k++)
            if (mask & (1u << k)) {
                if (!looked)
                    device = odc_devices_get (self->store, device_id);
                looked = true;
                s_notice (self, k, e, device_id, address, device);
            }
    }
    if (device)
        odc__device__free_unpacked (device, NULL);
    odc_triage_events_clear (&self->events);
    return changed;
}

/*  Note when a device's state holds a clear waiting, and when the first
    is due: the tick tells it then, and looks at no other. */
static void
s_track (s_self_t *self, const char *device_id, const char *address, s_staged_t *s)
{
    uint64_t due = 0;
    for (size_t i = 0; i < s->state.n_open; i++) {
        uint64_t at = s->state.open[i].cleared_ms;
        if (at && (!due || at + self->opts.repeat_window_ms < due))
            due = at + self->opts.repeat_window_ms;
    }
    if (!due) {
        zhashx_delete (self->waiting, device_id);
        return;
    }
    s_wait_t *w = zhashx_lookup (self->waiting, device_id);
    if (!w) {
        w = calloc (1, sizeof *w);
        zhashx_insert (self->waiting, device_id, w);
    }
    w->due_ms = due;
    if (address && address != w->address)
        snprintf (w->address, sizeof w->address, "%s", address);
}

/*  One reading: the state and the events; then the reading on to latest. */
static void
s_take (void *arg)
{
    s_self_t *self = arg;
    zmq_msg_t key, frame;
    if (odc_bus_recv_keyed (self->pull, &key, &frame) != 0)
        goto done;
    Odc__Envelope *env = odc__envelope__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    if (env && env->body_case == ODC__ENVELOPE__BODY_DEVICE_EVENT &&
        env->device_event->device_id[0]) {
        /*  The registry's: a change, or a device missing for a day. */
        const Odc__DeviceEvent *e = env->device_event;
        s_staged_t *s = s_state (self, e->device_id);
        if (e->address[0])
            snprintf (s->address, sizeof s->address, "%s", e->address);
        uint64_t now = e->at_ms ? e->at_ms : s_now_ms (self);
        bool changed = odc_triage_device_event (&s->state, e->device_id, e, now, &self->events);
        if (s_events (self, e->device_id, s->address, s) || changed)
            s_stage (self, e->device_id, s);
        odc__envelope__free_unpacked (env, NULL);
        goto done;
    }
    if (!env || env->body_case != ODC__ENVELOPE__BODY_ALERTS || !env->alerts->header ||
        !env->alerts->header->device_id[0]) {
        /*  Only alert readings come here: another is passed on. */
        if (env)
            odc__envelope__free_unpacked (env, NULL);
        odc_bus_forward_keyed (self->accepted, &key, &frame);
        goto done;
    }
    Odc__AlertReading *r = env->alerts;
    const Odc__ReadingHeader *hd = r->header;
    uint64_t now = hd->collector_ms ? hd->collector_ms : s_now_ms (self);
    s_staged_t *s = s_state (self, hd->device_id);
    snprintf (s->address, sizeof s->address, "%s", hd->address);
    self->readings++;
    bool learned = false;
    uintptr_t asked = (uintptr_t)zhashx_lookup (self->makers, hd->device_id);
    if (!s->state.enterprise && r->n_alerts && (!asked || now >= asked + S_MAKER_AGAIN_MS)) {
        /*  The maker, for its own codes (snmp/alert-codes.tsv): the
            registry's, kept with the state once known; not known yet
            (its identity not read), asked again an hour on. */
        zhashx_update (self->makers, hd->device_id, (void *)(uintptr_t)(now ? now : 1));
        Odc__Device *d = odc_devices_get (self->store, hd->device_id);
        if (d) {
            s->state.enterprise = d->enterprise;
            learned = d->enterprise != 0;
            if (learned)
                zhashx_delete (self->makers, hd->device_id);
            odc__device__free_unpacked (d, NULL);
        }
    }
    bool changed = learned | odc_triage_reading (self->codes, s->state.enterprise, &s->state,
                                                 hd->device_id, r, now, &self->opts, &self->events);
    if (s_events (self, hd->device_id, hd->address, s) || changed)
        s_stage (self, hd->device_id, s);
    s_track (self, hd->device_id, s->address, s);
    if (r->no_answer) {
        /*  Only for triage: the latest reading stays the last answer. */
    }
    else if (r->n_alerts || s->state.n_rows) {
        /*  The rows with their opendca codes; a reading without a table
            read with the table's last rows. */
        Odc__Alert rows[ODC_TRIAGE_ROWS_MAX], *pointers[ODC_TRIAGE_ROWS_MAX];
        size_t n = r->n_alerts;
        Odc__Alert **was = r->alerts;
        if (!r->table_read) {
            odc_triage_rows_fill (&s->state, rows, pointers);
            r->n_alerts = s->state.n_rows;
            r->alerts = pointers;
        }
        char **saved = malloc (2 * (r->n_alerts + 1) * sizeof *saved);
        odc_alert_classify_rows (self->codes, s->state.enterprise, r->alerts, r->n_alerts, saved);
        char k[ODC_DEVICE_ID_MAX + 16];
        snprintf (k, sizeof k, "%.*s", (int)zmq_msg_size (&key), (const char *)zmq_msg_data (&key));
        odc_bus_send_keyed (self->accepted, k, env);
        odc_alert_rows_restore (r->alerts, r->n_alerts, saved);
        free (saved);
        r->n_alerts = n;
        r->alerts = was;
    }
    else
        odc_bus_forward_keyed (self->accepted, &key, &frame);
    odc__envelope__free_unpacked (env, NULL);
done:
    zmq_msg_close (&key);
    zmq_msg_close (&frame);
}

/*  The batch: with records for the portal or the notify queue, through
    their commit (one write), else straight. */
static void
s_commit (s_self_t *self)
{
    const odc_kind_t *k = &odc_kinds[ODC_KIND_ALERT_EVENT];
    uint64_t seq = 0;
    if (self->record_events)
        seq = odc_outbox_add (self->outbox, self->batch, k->priority, k->kind, self->record,
                              self->record_len);
    if (self->record_events || self->notices) {
        int rc = self->record_events && self->notices
                     ? odc_outbox_commit_pair (self->outbox, self->notify, self->batch)
                 : self->record_events ? odc_outbox_commit (self->outbox, self->batch)
                                       : odc_outbox_commit (self->notify, self->batch);
        if (rc == 0) {
            if (self->record_events) {
                odc_bus_outbox_grew (self->grew, k->priority, seq);
                odc_info (NULL, "outbox record %d-%" PRIu64 ": %zu %s readings, %zu bytes",
                          (int)k->priority, seq, self->record_events, k->kind, self->record_len);
            }
            if (self->notices)
                odc_bus_outbox_grew (self->notified, 0, self->notify_seq);
        }
        else
            odc_error (NULL, "triage: %zu alert events and %zu notices not written: %s",
                       self->record_events, self->notices,
                       errno == ENOSPC ? "the queue is full" : "the store refused the write");
        self->record_len = self->record_events = self->notices = 0;
    }
    else if (odc_batch_count (self->batch) && odc_store_write_lazy (self->store, self->batch) != 0)
        odc_error (NULL, "triage: the store refused the alerts' write");
    odc_batch_clear (self->batch);
    s_unstage (self);
}

static void
s_idle (void *arg)
{
    s_commit (arg);
}

/*  Once a second: the clears whose window has passed (only the devices
    with one due are looked at). */
static void
s_tick (void *arg)
{
    s_self_t *self = arg;
    if (!zhashx_size (self->waiting))
        return;
    uint64_t now = s_now_ms (self);
    zlistx_t *ids = NULL;
    for (s_wait_t *w = zhashx_first (self->waiting); w; w = zhashx_next (self->waiting))
        if (w->due_ms <= now) {
            if (!ids)
                ids = zlistx_new ();
            zlistx_add_end (ids, (void *)zhashx_cursor (self->waiting));
        }
    for (const char *id = ids ? zlistx_first (ids) : NULL; id; id = zlistx_next (ids)) {
        s_wait_t *w = zhashx_lookup (self->waiting, id);
        char where[64], key[ODC_DEVICE_ID_MAX + 1];
        snprintf (where, sizeof where, "%s", w ? w->address : "");
        snprintf (key, sizeof key, "%s", id); /* s_track may delete the hash's own key */
        s_staged_t *s = s_state (self, key);
        uint64_t next;
        bool changed = odc_triage_expire (&s->state, now, &self->opts, &self->events, &next);
        if (s_events (self, key, where, s) || changed)
            s_stage (self, key, s);
        s_track (self, key, where, s);
    }
    zlistx_destroy (&ids);
    s_commit (self);
}

/*  At start: the devices whose stored state holds a clear waiting out
    the window (a collector stopped meanwhile), for the tick to tell. */
static int
s_waiting_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_self_t *self = arg;
    Odc__DeviceAlerts *m = odc__device_alerts__unpack (NULL, vlen, value);
    bool waits = false;
    for (size_t i = 0; m && i < m->n_open && !waits; i++)
        waits = m->open[i]->cleared_ms != 0;
    if (m)
        odc__device_alerts__free_unpacked (m, NULL);
    if (waits && klen < ODC_DEVICE_ID_MAX) {
        char id[ODC_DEVICE_ID_MAX];
        memcpy (id, key, klen);
        id[klen] = 0;
        Odc__Device *d = odc_devices_get (self->store, id);
        s_wait_t *w = calloc (1, sizeof *w);
        w->due_ms = 1; /* due: the tick loads it and sets its time */
        snprintf (w->address, sizeof w->address, "%s", d ? d->address : "");
        zhashx_update (self->waiting, id, w);
        if (d)
            odc__device__free_unpacked (d, NULL);
    }
    return 0;
}

static void
s_take_config (void *config, void *arg)
{
    s_self_t *self = arg;
    odc_config_replace (&self->config, config);
    s_opts_of (self);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_triage_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    s_opts_of (self);
    char *error = NULL;
    self->codes = a->codes_path ? odc_alert_codes_load (a->codes_path, &error) : NULL;
    if (self->codes)
        odc_info (NULL, "triage: %zu alert code lines from %s", odc_alert_codes_count (self->codes),
                  a->codes_path);
    else
        odc_error (NULL, "triage: %s: every alert is \"other\"", error ? error : "no codes file");
    free (error);
    self->store = a->store;
    self->outbox = a->outbox;
    self->notify = a->notify;
    self->batch = odc_batch_new ();
    self->staged = zhashx_new (); /* its states go back to the pool: s_unstage */
    self->pool = zlistx_new ();
    zlistx_set_destructor (self->pool, s_staged_destroy);
    self->waiting = zhashx_new ();
    zhashx_set_destructor (self->waiting, s_staged_destroy); /* a free() */
    self->makers = zhashx_new ();
    self->clock = odc_config_clock (self->config);
    odc_store_each (self->store, ODC_CF_ALERTS, NULL, 0, NULL, 0, s_waiting_one, self);
    if (zhashx_size (self->waiting))
        odc_info (NULL, "triage: %zu devices with a clear waiting out the window from before",
                  zhashx_size (self->waiting));
    self->pull = odc_bus_pull_bind (ODC_EP_TRIAGE, 0);
    self->accepted = odc_bus_push_connect (ODC_EP_ACCEPTED, 0);
    if (a->outbox)
        self->grew = odc_bus_push_connect (ODC_EP_OUTBOX, 0);
    if (a->notify)
        self->notified = odc_bus_push_connect (ODC_EP_NOTIFY, 0);
    *ok = self->pull && self->accepted && (!a->outbox || self->grew) &&
          (!a->notify || self->notified);
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    if (self->batch)
        s_commit (self);
    if (self->staged)
        s_unstage (self);
    zhashx_destroy (&self->staged);
    zlistx_destroy (&self->pool);
    zhashx_destroy (&self->waiting);
    zhashx_destroy (&self->makers);
    odc_batch_destroy (&self->batch);
    odc_alert_codes_destroy (&self->codes);
    odc_triage_events_free (&self->events);
    free (self->record);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->accepted);
    zsock_destroy (&self->grew);
    zsock_destroy (&self->notified);
    odc_config_replace (&self->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_actor_serve_ticking (actor, self->pull, s_take, s_idle, s_tick, S_TICK_MS, self);
    odc_info (NULL,
              "triage: %" PRIu64 " alert readings, %" PRIu64 " alerts raised, %" PRIu64
              " changed, %" PRIu64 " cleared; %" PRIu64 " held back by a repeat policy",
              self->readings, self->raised, self->changed, self->cleared, self->suppressed);
}

static const odc_actor_class_t s_class = {"triage", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_triage_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
