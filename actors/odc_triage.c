/*  odc_triage: see odc_triage.h. */
#include "odc_triage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_text.h"

#define S_COPY(dst, src) snprintf ((dst), sizeof (dst), "%s", (src) ? (src) : "")

/*  A description as kept: bounded, cut on a character boundary. */
static void
s_text (char *dst, size_t size, const char *src)
{
    size_t len = src ? strlen (src) : 0;
    len = odc_text_cut (src ? src : "", len, size - 1);
    memcpy (dst, src ? src : "", len);
    dst[len] = 0;
}

void
odc_triage_events_clear (odc_triage_events_t *events)
{
    events->count = 0;
}

void
odc_triage_events_free (odc_triage_events_t *events)
{
    free (events->items);
    memset (events, 0, sizeof *events);
}

static void
s_event (odc_triage_events_t *out, Odc__AlertEventType type, const odc_triaged_t *a, uint64_t at_ms,
         const char *old_severity)
{
    if (out->count == out->size) {
        out->size = out->size ? out->size * 2 : 16;
        out->items = realloc (out->items, out->size * sizeof *out->items);
    }
    odc_triage_event_t *e = &out->items[out->count++];
    memset (e, 0, sizeof *e);
    e->type = type;
    e->alert = *a;
    e->at_ms = at_ms;
    if (type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED && a->cleared_ms > a->raised_ms)
        e->duration_s = (a->cleared_ms - a->raised_ms) / 1000;
    S_COPY (e->old_severity, old_severity);
}

/* ------------------------------------------------------------------------
   The stored record */

bool
odc_triage_state_load (odc_device_alerts_t *state, const void *data, size_t size)
{
    /*  The counts and scalars only: the state is some 60 KB of bounded
        arrays, and zeroing them all for every reading was most of
        triage's CPU (bench_loops at 100,000 devices). */
    state->n_open = state->n_rows = state->n_sent = 0;
    state->failures = 0;
    state->silent_since_ms = state->raised = state->dropped = 0;
    state->table_used = false;
    state->enterprise = 0;
    if (!data || !size)
        return true;
    Odc__DeviceAlerts *m = odc__device_alerts__unpack (NULL, size, data);
    if (!m)
        return false;
    for (size_t i = 0; i < m->n_open && state->n_open < ODC_TRIAGE_OPEN_MAX; i++) {
        const Odc__TriagedAlert *x = m->open[i];
        odc_triaged_t *a = &state->open[state->n_open++];
        memset (a, 0, sizeof *a);
        S_COPY (a->alert_id, x->alert_id);
        S_COPY (a->code, x->code);
        S_COPY (a->category, x->category);
        S_COPY (a->severity, x->severity);
        S_COPY (a->training, x->training);
        S_COPY (a->source, x->source);
        a->raw_code = x->raw_code, a->group = x->group, a->group_index = x->group_index;
        a->location = x->location, a->index = x->index, a->bit = x->bit;
        a->raw_severity = x->raw_severity;
        s_text (a->description, sizeof a->description, x->description);
        a->raised_ms = x->raised_ms, a->cleared_ms = x->cleared_ms;
        a->repeats = x->repeats, a->flaps = x->flaps;
        S_COPY (a->sent_to, x->sent_to);
    }
    for (size_t i = 0; i < m->n_sent && state->n_sent < ODC_TRIAGE_SENT_MAX; i++) {
        odc_triage_sent_t *t = &state->sent[state->n_sent++];
        S_COPY (t->destination, m->sent[i]->destination);
        S_COPY (t->category, m->sent[i]->category);
        t->at_ms = m->sent[i]->at_ms;
    }
    for (size_t i = 0; i < m->n_rows && state->n_rows < ODC_TRIAGE_ROWS_MAX; i++) {
        const Odc__Alert *x = m->rows[i];
        odc_triage_row_t *w = &state->rows[state->n_rows++];
        memset (w, 0, sizeof *w);
        w->index = x->index, w->severity = x->severity, w->training = x->training;
        w->group = x->group, w->group_index = x->group_index, w->location = x->location;
        w->code = x->code, w->time_cs = x->time_cs;
        s_text (w->description, sizeof w->description, x->description);
    }
    state->failures = m->failures;
    state->silent_since_ms = m->silent_since_ms;
    state->raised = m->raised;
    state->table_used = m->table_used;
    state->enterprise = m->enterprise;
    odc__device_alerts__free_unpacked (m, NULL);
    return true;
}

static void
s_alert_message (const odc_triaged_t *a, Odc__TriagedAlert *x)
{
    odc__triaged_alert__init (x);
    x->alert_id = (char *)a->alert_id;
    x->code = (char *)a->code;
    x->category = (char *)a->category;
    x->severity = (char *)a->severity;
    x->training = (char *)a->training;
    x->source = (char *)a->source;
    x->raw_code = a->raw_code, x->group = a->group, x->group_index = a->group_index;
    x->location = a->location, x->index = a->index, x->bit = a->bit;
    x->raw_severity = a->raw_severity;
    x->description = (char *)a->description;
    x->raised_ms = a->raised_ms, x->cleared_ms = a->cleared_ms;
    x->repeats = a->repeats, x->flaps = a->flaps;
    x->sent_to = (char *)a->sent_to;
}

static void
s_row_message (const odc_triage_row_t *w, Odc__Alert *x)
{
    odc__alert__init (x);
    x->index = w->index, x->severity = w->severity, x->training = w->training;
    x->group = w->group, x->group_index = w->group_index, x->location = w->location;
    x->code = w->code, x->time_cs = w->time_cs;
    x->description = (char *)w->description;
}

void
odc_triage_state_pack (const odc_device_alerts_t *state, uint8_t **data, size_t *size)
{
    Odc__TriagedAlert open[ODC_TRIAGE_OPEN_MAX], *open_p[ODC_TRIAGE_OPEN_MAX];
    Odc__Alert rows[ODC_TRIAGE_ROWS_MAX], *rows_p[ODC_TRIAGE_ROWS_MAX];
    for (size_t i = 0; i < state->n_open; i++) {
        s_alert_message (&state->open[i], &open[i]);
        open_p[i] = &open[i];
    }
    odc_triage_rows_fill (state, rows, rows_p);
    Odc__DeviceAlerts m = ODC__DEVICE_ALERTS__INIT;
    m.n_open = state->n_open;
    m.open = open_p;
    m.n_rows = state->n_rows;
    m.rows = rows_p;
    m.failures = state->failures;
    m.silent_since_ms = state->silent_since_ms;
    m.raised = state->raised;
    m.table_used = state->table_used;
    m.enterprise = state->enterprise;
    Odc__RouteSent sent[ODC_TRIAGE_SENT_MAX], *sent_p[ODC_TRIAGE_SENT_MAX];
    for (size_t i = 0; i < state->n_sent; i++) {
        odc__route_sent__init (&sent[i]);
        sent[i].destination = (char *)state->sent[i].destination;
        sent[i].category = (char *)state->sent[i].category;
        sent[i].at_ms = state->sent[i].at_ms;
        sent_p[i] = &sent[i];
    }
    m.n_sent = state->n_sent;
    m.sent = sent_p;
    *size = odc__device_alerts__get_packed_size (&m);
    *data = malloc (*size ? *size : 1);
    odc__device_alerts__pack (&m, *data);
}

void
odc_triage_rows_fill (const odc_device_alerts_t *state, Odc__Alert *rows, Odc__Alert **pointers)
{
    for (size_t i = 0; i < state->n_rows; i++) {
        s_row_message (&state->rows[i], &rows[i]);
        pointers[i] = &rows[i];
    }
}

void
odc_triage_event_message (const odc_triage_event_t *e, const char *device_id, const char *address,
                          Odc__AlertEvent *ev, Odc__TriagedAlert *a)
{
    odc__alert_event__init (ev);
    s_alert_message (&e->alert, a);
    ev->type = e->type;
    ev->device_id = (char *)device_id;
    ev->address = (char *)(address ? address : "");
    ev->alert = a;
    ev->at_ms = e->at_ms;
    ev->duration_s = e->duration_s;
    ev->old_severity = (char *)e->old_severity;
}

/* ------------------------------------------------------------------------
   Judging a reading */

static odc_triaged_t *
s_new_alert (odc_device_alerts_t *st, const char *device_id, uint64_t now_ms)
{
    if (st->n_open == ODC_TRIAGE_OPEN_MAX) {
        st->dropped++;
        return NULL;
    }
    odc_triaged_t *a = &st->open[st->n_open++];
    memset (a, 0, sizeof *a);
    st->raised++;
    snprintf (a->alert_id, sizeof a->alert_id, "%.80s/%" PRIu64 "/%" PRIu64, device_id, now_ms,
              st->raised);
    a->raised_ms = now_ms;
    a->bit = -1;
    a->seen = true;
    return a;
}

static void
s_from_row (odc_triaged_t *a, const odc_triage_row_t *w, const odc_alert_class_t *c)
{
    S_COPY (a->code, c->code);
    S_COPY (a->category, c->category);
    S_COPY (a->severity, odc_alert_severity_name (w->severity));
    S_COPY (a->training, odc_alert_training_name (w->training));
    S_COPY (a->source, "row");
    a->raw_code = w->code, a->group = w->group, a->group_index = w->group_index;
    a->location = w->location, a->index = w->index, a->raw_severity = w->severity;
    S_COPY (a->description, w->description);
}

static bool
s_same_row (const odc_triaged_t *a, const odc_triage_row_t *w)
{
    return !strcmp (a->source, "row") && a->group == w->group && a->location == w->location &&
           a->raw_code == w->code && !strcmp (a->description, w->description);
}

/*  Seen again: a pending clear is taken back (one more flap). */
static void
s_seen (odc_triaged_t *a)
{
    if (a->cleared_ms) {
        a->cleared_ms = 0;
        a->flaps++;
    }
    a->seen = true;
}

static odc_triaged_t *
s_find_code (odc_device_alerts_t *st, const char *code, bool seen, const char *not_source)
{
    for (size_t i = 0; i < st->n_open; i++) {
        odc_triaged_t *a = &st->open[i];
        if (a->seen == seen && !strcmp (a->code, code) && strcmp (a->source, not_source))
            return &st->open[i];
    }
    return NULL;
}

static void
s_remove (odc_device_alerts_t *st, size_t i)
{
    memmove (&st->open[i], &st->open[i + 1], (st->n_open - i - 1) * sizeof st->open[0]);
    st->n_open--;
}

/*  One of the collector's own open alerts (code) cleared at once, with
    what happened as its text. */
static bool
s_clear_own (odc_device_alerts_t *st, const char *code, uint64_t now_ms, const char *text,
             odc_triage_events_t *out)
{
    for (size_t i = 0; i < st->n_open; i++) {
        odc_triaged_t *a = &st->open[i];
        if (strcmp (a->code, code) || strcmp (a->source, "collector"))
            continue;
        a->cleared_ms = now_ms;
        S_COPY (a->description, text);
        s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_CLEARED, a, now_ms, NULL);
        s_remove (st, i);
        return true;
    }
    return false;
}

static odc_triaged_t *
s_own_alert (odc_device_alerts_t *st, const char *device_id, uint64_t now_ms, const char *code,
             const char *category, const char *severity)
{
    odc_triaged_t *a = s_new_alert (st, device_id, now_ms);
    if (a) {
        S_COPY (a->code, code);
        S_COPY (a->category, category);
        S_COPY (a->severity, severity);
        S_COPY (a->training, "unknown");
        S_COPY (a->source, "collector");
    }
    return a;
}

static bool
s_availability (odc_device_alerts_t *st, const char *device_id, const Odc__AlertReading *r,
                uint64_t now_ms, const odc_triage_opts_t *o, odc_triage_events_t *out)
{
    odc_triaged_t *silent = NULL;
    size_t at = 0;
    for (size_t i = 0; i < st->n_open; i++)
        if (!strcmp (st->open[i].code, "not_responding"))
            silent = &st->open[i], at = i;
    if (r->no_answer) {
        if (!st->failures)
            st->silent_since_ms = now_ms;
        st->failures++; /* its own count: the loop's counts errors too */
        if (!silent && o->unreachable_passes && st->failures >= o->unreachable_passes) {
            odc_triaged_t *a = s_new_alert (st, device_id, now_ms);
            if (a) {
                S_COPY (a->code, "not_responding");
                S_COPY (a->category, "availability");
                S_COPY (a->severity, "warning");
                S_COPY (a->training, "unknown");
                S_COPY (a->source, "collector");
                snprintf (a->description, sizeof a->description,
                          "not answering the alert loop for %u passes", st->failures);
                a->raised_ms = st->silent_since_ms;
                s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_RAISED, a, now_ms, NULL);
            }
        }
        return true;
    }
    bool changed = st->failures != 0;
    if (silent) {
        /*  Monitoring resumed: at once, not after the repeat window. */
        silent->cleared_ms = now_ms;
        snprintf (silent->description, sizeof silent->description,
                  "monitoring resumed after %u passes without an answer", st->failures);
        s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_CLEARED, silent, now_ms, NULL);
        s_remove (st, at);
        changed = true;
    }
    /*  Unavailable for a day, and answering again: the first answer. */
    changed |= s_clear_own (st, "unavailable", now_ms, "answering again", out);
    st->failures = 0;
    st->silent_since_ms = 0;
    return changed;
}

/*  The supplies actor's: a request is an alert of its own, open (group
    markerSupplies, group_index the supply) until the cartridge is
    replaced, so routing sends it where supplies go. */
static bool
s_supply_request (odc_device_alerts_t *st, const char *device_id, const Odc__DeviceEvent *e,
                  uint64_t now_ms, odc_triage_events_t *out)
{
    for (size_t i = 0; i < st->n_open; i++) {
        odc_triaged_t *a = &st->open[i];
        if (strcmp (a->code, "supply_request") || a->group_index != e->supply_index)
            continue;
        if (e->type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REQUEST)
            return false; /* told once a cartridge */
        a->cleared_ms = now_ms;
        snprintf (a->description, sizeof a->description, "%.100s replaced", e->supply);
        s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_CLEARED, a, now_ms, NULL);
        s_remove (st, i);
        return true;
    }
    if (e->type != ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REQUEST)
        return false;
    odc_triaged_t *a = s_own_alert (st, device_id, now_ms, "supply_request", "supply", "warning");
    if (!a)
        return true;
    a->group = 11;
    a->group_index = e->supply_index;
    if (!strcmp (e->reason, "forecast"))
        snprintf (a->description, sizeof a->description,
                  "%.100s%s%.32s%s: empty in %.1f days (%.0f %% left): supply request", e->supply,
                  e->sku[0] ? " (" : "", e->sku, e->sku[0] ? ")" : "", e->days_left,
                  e->supply_left);
    else
        snprintf (a->description, sizeof a->description,
                  "%.100s%s%.32s%s: %.0f %% left: supply request", e->supply, e->sku[0] ? " (" : "",
                  e->sku, e->sku[0] ? ")" : "", e->supply_left);
    s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_RAISED, a, now_ms, NULL);
    return true;
}

bool
odc_triage_device_event (odc_device_alerts_t *st, const char *device_id, const Odc__DeviceEvent *e,
                         uint64_t now_ms, odc_triage_events_t *out)
{
    const char *code = NULL;
    char text[ODC_TRIAGE_TEXT_MAX];
    switch (e->type) {
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MOVED:
        code = "moved";
        snprintf (text, sizeof text, "moved from %.100s to %.100s", e->old_address, e->address);
        break;
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED:
        code = "replaced";
        snprintf (text, sizeof text, "replaced at %.60s: serial %.60s, was %.60s", e->address,
                  e->serial, e->old_serial);
        break;
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MAC_CHANGED:
        code = "mac_changed";
        snprintf (text, sizeof text, "MAC %.40s, was %.40s", e->mac, e->old_mac);
        break;
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING: {
        for (size_t i = 0; i < st->n_open; i++)
            if (!strcmp (st->open[i].code, "unavailable"))
                return false; /* told once */
        odc_triaged_t *a =
            s_own_alert (st, device_id, now_ms, "unavailable", "availability", "critical");
        if (!a)
            return true;
        uint64_t since = e->last_seen_ms && e->last_seen_ms < now_ms ? e->last_seen_ms : now_ms;
        snprintf (a->description, sizeof a->description, "unavailable for %" PRIu64 " hours",
                  (now_ms - since) / 3600000);
        a->raised_ms = since;
        s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_RAISED, a, now_ms, NULL);
        return true;
    }
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_RETURNED:
        return s_clear_own (st, "unavailable", now_ms, "seen again", out);
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REQUEST:
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_WITHDRAWN:
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_SUPPLY_REPLACED:
        return s_supply_request (st, device_id, e, now_ms, out);
    default: return false;
    }
    /*  A change is told once and is over when told: raised, never open. */
    odc_triaged_t a;
    memset (&a, 0, sizeof a);
    st->raised++;
    snprintf (a.alert_id, sizeof a.alert_id, "%.80s/%" PRIu64 "/%" PRIu64, device_id, now_ms,
              st->raised);
    S_COPY (a.code, code);
    S_COPY (a.category, "change");
    S_COPY (a.severity, "information");
    S_COPY (a.training, "unknown");
    S_COPY (a.source, "collector");
    snprintf (a.description, sizeof a.description, "%s", text);
    a.raised_ms = a.cleared_ms = now_ms;
    a.bit = -1;
    s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_RAISED, &a, now_ms, NULL);
    return true;
}

bool
odc_triage_reading (const odc_alert_codes_t *codes, uint32_t enterprise, odc_device_alerts_t *st,
                    const char *device_id, const Odc__AlertReading *r, uint64_t now_ms,
                    const odc_triage_opts_t *o, odc_triage_events_t *out)
{
    size_t first_event = out->count;
    bool changed = s_availability (st, device_id, r, now_ms, o, out);
    if (r->no_answer)
        return changed;
    if (r->table_read) {
        /*  The table as it is now: kept for readings without a table read. */
        odc_device_alerts_t *w = st;
        w->n_rows = 0;
        for (size_t i = 0; i < r->n_alerts; i++) {
            if (w->n_rows == ODC_TRIAGE_ROWS_MAX) {
                w->dropped++;
                continue;
            }
            const Odc__Alert *x = r->alerts[i];
            odc_triage_row_t *row = &w->rows[w->n_rows++];
            row->index = x->index, row->severity = x->severity, row->training = x->training;
            row->group = x->group, row->group_index = x->group_index;
            row->location = x->location, row->code = x->code, row->time_cs = x->time_cs;
            s_text (row->description, sizeof row->description, x->description);
        }
        changed = true;
    }
    for (size_t i = 0; i < st->n_open; i++)
        st->open[i].seen = !strcmp (st->open[i].source, "collector");

    /*  The rows: one alert per condition. */
    size_t alert_rows = 0;
    for (size_t k = 0; k < st->n_rows; k++) {
        const odc_triage_row_t *w = &st->rows[k];
        odc_alert_class_t c =
            odc_alert_classify_row (codes, enterprise, w->group, w->code, w->description);
        if (c.status)
            continue;
        alert_rows++;
        odc_triaged_t *a = NULL;
        for (size_t i = 0; i < st->n_open && !a; i++)
            if (s_same_row (&st->open[i], w))
                a = &st->open[i];
        if (a && a->seen)
            continue; /* another row of one condition: a maker's repeat (counted below) */
        if (!a && (a = s_find_code (st, c.code, false, "row")) != NULL) {
            /*  The status bit's alert, now with its row. */
            s_from_row (a, w, &c);
        }
        if (a) {
            s_seen (a);
            const char *now = odc_alert_severity_name (w->severity);
            if (strcmp (a->severity, now)) {
                char old[16];
                S_COPY (old, a->severity);
                S_COPY (a->severity, now);
                a->raw_severity = w->severity;
                s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_CHANGED, a, now_ms, old);
            }
            a->index = w->index; /* renumbered rows stay the alert */
            continue;
        }
        if ((a = s_new_alert (st, device_id, now_ms)) != NULL) {
            s_from_row (a, w, &c);
            s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_RAISED, a, now_ms, NULL);
        }
    }
    /*  Repeats counted once a pass, not again each pass: the rows of a
        condition beside its first. */
    for (size_t i = 0; i < st->n_open; i++) {
        odc_triaged_t *a = &st->open[i];
        if (strcmp (a->source, "row") || !a->seen)
            continue;
        uint32_t n = 0;
        for (size_t k = 0; k < st->n_rows; k++)
            n += s_same_row (a, &st->rows[k]);
        if (n)
            a->repeats = n - 1 > a->repeats ? n - 1 : a->repeats;
    }

    /*  The status bits: a summary, and a coarse one (makers set
        outputNearFull for a waste bin; one bit for every tray): they raise
        alerts only for a device that does not use its table. One that
        lists its alerts there is taken at its table's word (the bits and
        the rows are read a moment apart, and say different things then). */
    if (alert_rows || r->all_events || r->critical_events)
        st->table_used = true; /* its table counts alerts: it is where they are */
    for (int b = 0; b < 16 && !st->table_used; b++) {
        if (!(r->detected_error_state & ODC_ERROR_BIT (b)))
            continue;
        odc_alert_class_t c = odc_alert_classify_bit (codes, enterprise, b);
        if (c.status || s_find_code (st, c.code, true, ""))
            continue; /* a row's alert (or another bit's) says it */
        odc_triaged_t *a = NULL;
        for (size_t i = 0; i < st->n_open && !a; i++)
            if (!st->open[i].seen && st->open[i].bit == b && !strcmp (st->open[i].source, "status"))
                a = &st->open[i];
        if (a) {
            s_seen (a);
            continue;
        }
        if ((a = s_new_alert (st, device_id, now_ms)) != NULL) {
            S_COPY (a->code, c.code);
            S_COPY (a->category, c.category);
            S_COPY (a->severity, c.severity ? c.severity : "warning");
            S_COPY (a->training, "unknown");
            S_COPY (a->source, "status");
            a->bit = b;
            snprintf (a->description, sizeof a->description, "hrPrinterDetectedErrorState bit %d",
                      b);
            s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_RAISED, a, now_ms, NULL);
        }
    }

    /*  What was not seen has gone: cleared now, told after the window. */
    for (size_t i = 0; i < st->n_open; i++) {
        odc_triaged_t *a = &st->open[i];
        if (!a->seen && !a->cleared_ms) {
            a->cleared_ms = now_ms;
            changed = true;
        }
    }
    if (!o->repeat_window_ms) {
        uint64_t next;
        odc_triage_expire (st, now_ms, o, out, &next);
    }
    return changed || out->count > first_event;
}

bool
odc_triage_expire (odc_device_alerts_t *st, uint64_t now_ms, const odc_triage_opts_t *o,
                   odc_triage_events_t *out, uint64_t *next_ms)
{
    bool changed = false;
    *next_ms = 0;
    for (size_t i = 0; i < st->n_open;) {
        odc_triaged_t *a = &st->open[i];
        if (a->cleared_ms && a->cleared_ms + o->repeat_window_ms <= now_ms) {
            s_event (out, ODC__ALERT_EVENT_TYPE__ALERT_CLEARED, a, now_ms, NULL);
            s_remove (st, i);
            changed = true;
            continue;
        }
        if (a->cleared_ms && (!*next_ms || a->cleared_ms + o->repeat_window_ms < *next_ms))
            *next_ms = a->cleared_ms + o->repeat_window_ms;
        i++;
    }
    return changed;
}
