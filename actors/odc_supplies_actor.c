/*  odc_supplies_actor: see odc_supplies_actor.h. */
#include "odc_supplies_actor.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_devlist.h"
#include "odc_forecast.h"
#include "odc_log.h"
#include "odc_supervisor.h"
#include "odc_supplies.h"

typedef struct {
    uint64_t at_ms;
    uint64_t total;
} s_pages_t;

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
    odc_supply_rules_t *rules;
    odc_batch_t *batch;
    zsock_t *pull, *accepted, *grew, *triage;
    zhashx_t *staged;     /* device id -> zchunk_t: the states in the batch, not yet written */
    zhashx_t *pages;      /* device id -> s_pages_t: its last page count */
    zlistx_t *for_triage; /* packed DeviceEvents, sent once the batch is written */
    odc_clock_t clock;
    odc_supply_point_t *points; /* ODC_SUPPLY_POINTS, for the forecast */
    uint64_t seq;               /* of the last event record in the batch */
    bool with_record;
    uint64_t readings, forecasts, requests, withdrawn, replaced, triage_lost;
} s_self_t;

#define S_GROW(array, n) ((array) = realloc ((array), ((n) + 1) * sizeof *(array)))

/* ------------------------------------------------------------------------
   The state: the store's record, unpacked, changed in place (all of it
   malloc'd, as protobuf-c's unpack does). */

Odc__DeviceSupplies *
odc_supplies_get (odc_store_t *store, const char *device_id)
{
    size_t len = 0;
    void *value = odc_store_get (store, ODC_CF_SUPPLIES, device_id, strlen (device_id), &len);
    if (!value)
        return NULL;
    Odc__DeviceSupplies *ds = odc__device_supplies__unpack (NULL, len, value);
    free (value);
    return ds;
}

static Odc__DeviceSupplies *
s_load (s_self_t *self, const char *device_id)
{
    zchunk_t *staged = zhashx_lookup (self->staged, device_id);
    Odc__DeviceSupplies *ds =
        staged ? odc__device_supplies__unpack (NULL, zchunk_size (staged), zchunk_data (staged))
               : odc_supplies_get (self->store, device_id);
    if (!ds) {
        ds = malloc (sizeof *ds);
        odc__device_supplies__init (ds);
    }
    return ds;
}

static void
s_stage (s_self_t *self, const char *device_id, const Odc__DeviceSupplies *ds)
{
    size_t size = odc__device_supplies__get_packed_size (ds);
    zchunk_t *chunk = zchunk_new (NULL, size ? size : 1);
    odc__device_supplies__pack (ds, zchunk_data (chunk));
    zchunk_set (chunk, zchunk_data (chunk), size);
    odc_batch_put (self->batch, self->store, ODC_CF_SUPPLIES, device_id, strlen (device_id),
                   zchunk_data (chunk), size);
    zhashx_update (self->staged, device_id, chunk);
}

static Odc__SupplyState *
s_state (Odc__DeviceSupplies *ds, const Odc__Supply *s, bool *fresh)
{
    *fresh = false;
    for (size_t i = 0; i < ds->n_supplies; i++) {
        Odc__SupplyState *st = ds->supplies[i];
        if (st->index != s->index)
            continue;
        if (!strcmp (st->description, s->description ? s->description : ""))
            return st;
        /*  Another supply at the index (a device that renumbered its
            table): a new one. */
        odc__supply_state__free_unpacked (st, NULL);
        memmove (ds->supplies + i, ds->supplies + i + 1,
                 (ds->n_supplies - i - 1) * sizeof *ds->supplies);
        ds->n_supplies--;
        break;
    }
    if (ds->n_supplies >= ODC_SUPPLY_STATES)
        return NULL;
    Odc__SupplyState *st = malloc (sizeof *st);
    odc__supply_state__init (st);
    st->index = s->index;
    st->description = strdup (s->description ? s->description : "");
    st->series_pages = -1;
    S_GROW (ds->supplies, ds->n_supplies);
    ds->supplies[ds->n_supplies++] = st;
    *fresh = true;
    return st;
}

static void
s_points_clear (Odc__SupplyState *st)
{
    for (size_t i = 0; i < st->n_points; i++)
        odc__supply_point__free_unpacked (st->points[i], NULL);
    free (st->points);
    st->points = NULL;
    st->n_points = 0;
}

/*  Keep p: of a run at one level only its first and its last reading
    (what dates each change), the newest ODC_SUPPLY_POINTS. */
static void
s_points_add (Odc__SupplyState *st, const Odc__SupplyPoint *p)
{
    size_t n = st->n_points;
    if (n >= 2 && st->points[n - 1]->percent == p->percent &&
        st->points[n - 2]->percent == p->percent && st->points[n - 1]->level == p->level) {
        *st->points[n - 1] = *p;
        return;
    }
    if (n == ODC_SUPPLY_POINTS) {
        odc__supply_point__free_unpacked (st->points[0], NULL);
        memmove (st->points, st->points + 1, (n - 1) * sizeof *st->points);
        st->n_points = --n;
    }
    Odc__SupplyPoint *q = malloc (sizeof *q);
    *q = *p;
    S_GROW (st->points, st->n_points);
    st->points[st->n_points++] = q;
}

/*  The newest reading of a level (not a sentinel), -1 none. */
static double
s_last_percent (const Odc__SupplyState *st)
{
    for (size_t i = st->n_points; i-- > 0;)
        if (st->points[i]->percent >= 0)
            return st->points[i]->percent;
    return -1;
}

/*  A receptacle whose level rises with use (a device that tells its fill,
    not RFC 3805's room left): more small rises than falls in its
    readings, two at least. */
static bool
s_rising (const Odc__SupplyState *st, int32_t percent)
{
    size_t up = 0, down = 0;
    double last = -1;
    for (size_t i = 0; i <= st->n_points; i++) {
        double p = i < st->n_points ? st->points[i]->percent : percent;
        if (p < 0)
            continue;
        if (last >= 0 && p > last && p - last < ODC_FORECAST_JUMP)
            up++;
        else if (last >= 0 && p < last && last - p < ODC_FORECAST_JUMP)
            down++;
        last = p;
    }
    return up >= 2 && up > down;
}

/* ------------------------------------------------------------------------
   Thresholds and events */

void
odc_supplies_thresholds (const odc_config_t *c, const char *kind, const char *address, int *days,
                         int *percent)
{
    *days = c->supplies_request_days;
    *percent = c->supplies_request_percent;
    for (size_t i = 0; i < c->supply_request_count; i++) {
        const odc_supply_request_t *r = &c->supply_requests[i];
        bool kind_ok = !r->kind_count, in = !r->address_count;
        for (size_t k = 0; k < r->kind_count && !kind_ok; k++)
            kind_ok = kind && r->kinds[k] && !strcmp (r->kinds[k], kind);
        for (size_t k = 0; k < r->address_count && !in; k++)
            in = address && *address && r->addresses[k] &&
                 odc_config_range_holds (r->addresses[k], address);
        if (kind_ok && in) {
            *days = r->days;
            *percent = r->percent;
            return;
        }
    }
}

static const char *const s_event_names[] = {
    [ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REQUEST] = "supply request",
    [ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_WITHDRAWN] = "supply request withdrawn",
    [ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REPLACED] = "supply replaced",
};

/*  An event for the portal, in the batch of the state that made it; and,
    for routing, to triage once the batch is written. */
static void
s_event (s_self_t *self, Odc__DeviceEvent *ev)
{
    odc_info (ev->device_id,
              "supplies: %s: supply %d (%s%s%s) %.1f %% left, %.1f days; reason %s, yield %" PRId64
              " pages",
              s_event_names[ev->type], ev->supply_index, ev->supply, ev->sku[0] ? ", " : "",
              ev->sku, ev->supply_left, ev->days_left, ev->reason[0] ? ev->reason : "-",
              ev->yield_pages);
    if (self->triage) {
        size_t size = odc__device_event__get_packed_size (ev);
        zframe_t *f = zframe_new (NULL, size);
        odc__device_event__pack (ev, zframe_data (f));
        zlistx_add_end (self->for_triage, f);
    }
    if (!self->outbox)
        return;
    size_t len = 0, cap = 0;
    uint8_t *record = NULL;
    odc_bus_batch_append_body (&record, &len, &cap, "supplies", odc_now_ms (),
                               ODC__ENVELOPE__BODY_DEVICE_EVENT, &ev->base);
    const odc_kind_t *k = &odc_kinds[ODC_KIND_EVENT];
    self->seq = odc_outbox_add (self->outbox, self->batch, k->priority, k->kind, record, len);
    self->with_record = true;
    free (record);
}

static void
s_tell_triage (s_self_t *self, bool written)
{
    odc_bus_events_to_triage (self->triage, self->for_triage, written, "supplies",
                              &self->triage_lost);
}

/*  Write the batch: with an outbox record in it through the outbox, else
    straight. Once a drain, and at the stop. */
static void
s_commit (s_self_t *self)
{
    bool with_record = self->with_record;
    self->with_record = false;
    zhashx_purge (self->staged);
    if (!odc_batch_count (self->batch)) {
        s_tell_triage (self, true);
        return;
    }
    int rc;
    if (with_record && self->outbox) {
        rc = odc_outbox_commit (self->outbox, self->batch);
        if (rc == 0)
            odc_bus_outbox_grew (self->grew, odc_kinds[ODC_KIND_EVENT].priority, self->seq);
        else
            odc_error (NULL, "supplies: supply events not put in the outbox: %s",
                       errno == ENOSPC ? "the outbox is full" : "the store refused the write");
    }
    else {
        rc = odc_store_write_lazy (self->store, self->batch);
        if (rc != 0)
            odc_error (NULL, "supplies: the store refused the supplies' state");
    }
    s_tell_triage (self, rc == 0);
    odc_batch_clear (self->batch);
}

/* ------------------------------------------------------------------------
   One supply of a reading */

typedef struct {
    const Odc__ReadingHeader *hd;
    uint64_t at_ms;
    int64_t pages;
    odc_forecast_week_t week; /* the device's pages by day of the week */
} s_reading_t;

/*  The device's page count by day (DeviceSupplies.day_pages) with this
    reading's, and its week from them. */
static void
s_days (Odc__DeviceSupplies *ds, s_reading_t *r)
{
    time_t t = (time_t)(r->at_ms / 1000);
    struct tm tm;
    localtime_r (&t, &tm);
    uint32_t day = (uint32_t)(((int64_t)t + tm.tm_gmtoff) / 86400);
    double done = (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) / 86400.0;
    if (r->pages >= 0) {
        if (!ds->n_day_pages || day > ds->day) {
            /*  A new day: the days between not read. */
            uint32_t gap = ds->n_day_pages ? day - ds->day : 1;
            if (gap > ODC_FORECAST_DAYS)
                gap = ODC_FORECAST_DAYS;
            size_t n = ds->n_day_pages + gap;
            ds->day_pages = realloc (ds->day_pages, n * sizeof *ds->day_pages);
            for (size_t i = ds->n_day_pages; i < n; i++)
                ds->day_pages[i] = -1;
            ds->n_day_pages = n;
            if (n > ODC_FORECAST_DAYS) {
                memmove (ds->day_pages, ds->day_pages + (n - ODC_FORECAST_DAYS),
                         ODC_FORECAST_DAYS * sizeof *ds->day_pages);
                ds->n_day_pages = ODC_FORECAST_DAYS;
            }
            ds->day = day;
        }
        if (day == ds->day)
            ds->day_pages[ds->n_day_pages - 1] = r->pages;
    }
    if (ds->n_day_pages && day == ds->day)
        odc_forecast_week (ds->day_pages, ds->n_day_pages, tm.tm_wday, done, &r->week);
    else
        memset (&r->week, 0, sizeof r->week); /* none read today: no week (a clock gone back) */
}

static void
s_event_init (Odc__DeviceEvent *ev, const s_reading_t *r, const Odc__Supply *s,
              Odc__DeviceEventType type)
{
    odc__device_event__init (ev);
    ev->type = type;
    ev->device_id = r->hd->device_id;
    ev->address = r->hd->address;
    ev->at_ms = r->at_ms;
    ev->supply_index = s->index;
    ev->supply = s->description;
    ev->sku = s->sku;
    ev->supply_kind = s->kind;
    ev->colour = s->colour;
    ev->supply_left = -1;
    ev->days_left = -1;
    ev->yield_pages = -1;
}

/*  x to 1 / per (10: a tenth), as the portal reads it; -1 stays. */
static double
s_round (double x, double per)
{
    return x < 0 ? -1 : round (x * per) / per;
}

static void
s_supply (s_self_t *self, const s_reading_t *r, Odc__DeviceSupplies *ds, Odc__Supply *s)
{
    odc_supply_id_t id;
    memset (&id, 0, sizeof id);
    if (self->rules)
        odc_supply_identify (self->rules, 0, s->description, s->type, s->colorant, &id);
    s->sku = strdup (id.sku);
    s->kind = strdup (id.kind ? id.kind : "other");
    s->colour = strdup (id.colour ? id.colour : "");
    bool fresh;
    Odc__SupplyState *st = s_state (ds, s, &fresh);
    if (!st)
        return; /* ODC_SUPPLY_STATES already: a device with that many is not one to forecast */
    bool rising = s->supply_class == 4 && s_rising (st, s->percent);
    st->receptacle = s->supply_class == 4;
    Odc__SupplyPoint p = ODC__SUPPLY_POINT__INIT;
    p.at_ms = r->at_ms;
    p.percent = s->percent >= 0 ? (float)s->percent : -1.0f;
    p.level = s->level;
    p.pages = r->pages;
    if (fresh) {
        st->series_ms = r->at_ms;
        st->series_pages = r->pages;
    }
    else if (odc_forecast_replaced (s_last_percent (st), p.percent, rising)) {
        /*  A new cartridge: what the old one printed, its request. */
        Odc__DeviceEvent ev;
        s_event_init (&ev, r, s, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REPLACED);
        ev.supply_left = rising ? 100 - p.percent : p.percent;
        ev.yield_pages = r->pages >= 0 && st->series_pages >= 0 && r->pages >= st->series_pages
                             ? r->pages - st->series_pages
                             : -1;
        ev.yield_partial = !st->fitted_seen;
        if (st->requested_ms) {
            Odc__DeviceEvent w;
            s_event_init (&w, r, s, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_WITHDRAWN);
            w.supply_left = ev.supply_left;
            s_event (self, &w);
            self->withdrawn++;
        }
        s_event (self, &ev);
        self->replaced++;
        s_points_clear (st);
        st->series_ms = r->at_ms;
        st->series_pages = r->pages;
        st->fitted_seen = true;
        st->replaced_ms = r->at_ms;
        st->requested_ms = 0;
        st->replacements++;
    }
    s_points_add (st, &p);

    size_t n = st->n_points;
    for (size_t i = 0; i < n; i++)
        self->points[i] = (odc_supply_point_t){st->points[i]->at_ms, st->points[i]->percent,
                                               st->points[i]->level, st->points[i]->pages};
    odc_forecast_t fc;
    odc_forecast (self->points, n, rising, st->fitted_seen, &r->week, r->at_ms, &fc);
    self->forecasts += fc.status == ODC_FORECAST_OK;

    int days, percent;
    odc_supplies_thresholds (self->config, s->kind, r->hd->address, &days, &percent);
    const char *reason = NULL;
    /*  The soon end of the range, and a day more: the request comes the
        days ahead at least, whatever the forecast's error. */
    if (fc.status == ODC_FORECAST_OK && fc.days_low <= days + 1)
        reason = "forecast";
    else if (fc.left >= 0 && fc.left <= percent)
        reason = "level";
    if (reason && !st->requested_ms) {
        Odc__DeviceEvent ev;
        s_event_init (&ev, r, s, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REQUEST);
        ev.supply_left = s_round (fc.left, 10);
        ev.days_left = s_round (fc.days_left, 10);
        ev.reason = (char *)reason;
        s_event (self, &ev);
        st->requested_ms = r->at_ms;
        self->requests++;
    }

    Odc__SupplyForecast *f = malloc (sizeof *f);
    odc__supply_forecast__init (f);
    f->why = strdup (fc.why ? fc.why : "");
    f->left = s_round (fc.left, 10);
    f->per_day = s_round (fc.per_day, 1000);
    f->days_left = s_round (fc.days_left, 10);
    f->days_low = s_round (fc.days_low, 10);
    f->days_high = s_round (fc.days_high, 10);
    f->pages_left = fc.pages_left;
    f->points = fc.points;
    f->series_ms = st->series_ms;
    f->replaced_ms = st->replaced_ms;
    f->request = strdup (st->requested_ms ? "requested" : "");
    f->requested_ms = st->requested_ms;
    s->forecast = f;
}

/* ------------------------------------------------------------------------
   The actor */

static void
s_pages_free (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_page_count (s_self_t *self, const Odc__PageCount *pc)
{
    if (!pc->device_id || !pc->device_id[0])
        return;
    s_pages_t *p = zhashx_lookup (self->pages, pc->device_id);
    if (!p) {
        p = malloc (sizeof *p);
        zhashx_insert (self->pages, pc->device_id, p);
    }
    p->at_ms = pc->at_ms;
    p->total = pc->total;
}

static void
s_take (void *arg)
{
    s_self_t *self = arg;
    zmq_msg_t key, frame;
    if (odc_bus_recv_keyed (self->pull, &key, &frame) != 0)
        goto done;
    Odc__Envelope *env = odc__envelope__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    if (env && env->body_case == ODC__ENVELOPE__BODY_PAGE_COUNT) {
        s_page_count (self, env->page_count);
        odc__envelope__free_unpacked (env, NULL);
        goto done;
    }
    const Odc__ReadingHeader *hd =
        env && env->body_case == ODC__ENVELOPE__BODY_SUPPLIES ? env->supplies->header : NULL;
    if (!hd || !hd->device_id || !hd->device_id[0]) {
        /*  Only supply readings come here: another goes on as it came. */
        if (env)
            odc__envelope__free_unpacked (env, NULL);
        odc_bus_forward_keyed (self->accepted, &key, &frame);
        goto done;
    }
    s_reading_t r = {
        hd, hd->collector_ms ? hd->collector_ms : odc_now_ms (), -1, {{0}, 0, 0, 0, false}};
    const s_pages_t *pages = zhashx_lookup (self->pages, hd->device_id);
    if (pages)
        r.pages = (int64_t)pages->total;
    Odc__DeviceSupplies *ds = s_load (self, hd->device_id);
    s_days (ds, &r);
    for (size_t i = 0; i < env->supplies->n_supplies; i++)
        s_supply (self, &r, ds, env->supplies->supplies[i]);
    s_stage (self, hd->device_id, ds);
    odc__device_supplies__free_unpacked (ds, NULL);
    self->readings++;
    char k[ODC_DEVICE_ID_MAX + 16];
    snprintf (k, sizeof k, "%.*s", (int)zmq_msg_size (&key), (const char *)zmq_msg_data (&key));
    odc_bus_send_keyed (self->accepted, k, env);
    odc__envelope__free_unpacked (env, NULL);
done:
    zmq_msg_close (&key);
    zmq_msg_close (&frame);
}

static void
s_idle (void *arg)
{
    s_commit (arg);
}

static void
s_take_config (void *config, void *arg)
{
    s_self_t *self = arg;
    odc_config_replace (&self->config, config);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_supplies_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    self->store = a->store;
    self->outbox = a->outbox;
    self->clock = odc_config_clock (self->config);
    char *error = NULL;
    self->rules = a->rules_path ? odc_supply_rules_load (a->rules_path, &error) : NULL;
    if (self->rules)
        odc_info (NULL, "supplies: %zu part-number rules from %s",
                  odc_supply_rules_count (self->rules), a->rules_path);
    else
        odc_error (NULL, "supplies: %s: supplies go on without part numbers",
                   error ? error : "no rules file");
    free (error);
    self->batch = odc_batch_new ();
    self->staged = zhashx_new ();
    zhashx_set_destructor (self->staged, (zhashx_destructor_fn *)zchunk_destroy);
    self->pages = zhashx_new ();
    zhashx_set_destructor (self->pages, s_pages_free);
    self->for_triage = zlistx_new ();
    zlistx_set_destructor (self->for_triage, (zlistx_destructor_fn *)zframe_destroy);
    self->points = calloc (ODC_SUPPLY_POINTS, sizeof *self->points);
    self->pull = odc_bus_pull_bind (ODC_EP_SUPPLIES, 0);
    self->accepted = odc_bus_push_connect (ODC_EP_ACCEPTED, 0);
    if (a->outbox)
        self->grew = odc_bus_push_connect (ODC_EP_OUTBOX, 0);
    if (a->triage)
        self->triage = odc_bus_push_connect (ODC_EP_TRIAGE, 0);
    *ok = self->pull && self->accepted && (!a->outbox || self->grew) &&
          (!a->triage || self->triage) && self->points;
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    if (self->batch)
        s_commit (self);
    odc_batch_destroy (&self->batch);
    zhashx_destroy (&self->staged);
    zhashx_destroy (&self->pages);
    zlistx_destroy (&self->for_triage);
    free (self->points);
    odc_supply_rules_destroy (&self->rules);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->accepted);
    zsock_destroy (&self->grew);
    zsock_destroy (&self->triage);
    odc_config_replace (&self->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_actor_serve (actor, self->pull, s_take, s_idle, self);
    odc_info (NULL,
              "supplies: %" PRIu64 " readings, %" PRIu64 " forecasts, %" PRIu64
              " requests, %" PRIu64 " withdrawn, %" PRIu64 " replacements",
              self->readings, self->forecasts, self->requests, self->withdrawn, self->replaced);
}

static const odc_actor_class_t s_class = {"supplies", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_supplies_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
