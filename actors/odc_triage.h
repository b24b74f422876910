/*  odc_triage: what one alert reading means for a device's open alerts
    (issue 17). Pure functions over a device's state, so every rule has a
    unit test (tests/test_triage.c); the triage actor
    (actors/odc_triage_actor.c) loads the state from the store's "alerts"
    family, calls these, and writes the state and the events' outbox record
    in one batch.

    - Every row of the alert table and every hrPrinterDetectedErrorState
      bit gets one opendca code and category (snmp/odc_alerts.h); rows the
      map calls status ("Ready", "Sleep") are never raised.
    - An alert is a condition: a row is matched to an open alert by (group,
      location, code, description), not by its index, so renumbered rows
      stay one alert and the rows a maker adds for the same condition are
      repeats of it. A hrPrinterDetectedErrorState bit raises an alert
      only on a device that does not use its table (one that has listed an
      alert there, or counts them, prtAlertAllEvents, is taken at its
      table's word: the bits are coarse, one for
      every tray, and read a moment before the rows); a row that comes for
      a bit's alert takes it over: one jam, one alert.
    - A condition that goes away is cleared at that reading's time, but
      its "cleared" event waits the repeat window: raised again within it,
      the alert stays open with one more flap, and no event is sent.
    - A device that did not answer unreachable_passes alert passes in a row
      raises "not_responding"; its first answer clears it at once ("monitoring
      resumed", with the outage's duration).
    - A reading without a table read (the table's counters did not move)
      keeps the rows of the last one.
    - The registry's moves, replacements and MAC changes are alerts of
      category "change", told once; a device missing for a day is
      "unavailable" until it answers again. */
#ifndef ODC_TRIAGE_H
#define ODC_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odc_alerts.h"
#include "opendca.pb-c.h"

/*  Bounds per device (a hostile device may list thousands of rows): what
    is past them is counted, not kept. */
#define ODC_TRIAGE_OPEN_MAX 64
#define ODC_TRIAGE_ROWS_MAX 64
#define ODC_TRIAGE_TEXT_MAX 256

/*  A hrPrinterDetectedErrorState bit in AlertReading.detected_error_state
    (bit 0, lowPaper, is the first octet's high bit). */
#define ODC_ERROR_BIT(b) (0x8000u >> (b))

typedef struct {
    char alert_id[128];
    char code[48];
    char category[16];
    char severity[16];
    char training[16];
    char source[12]; /* "row", "status", "collector" */
    int32_t raw_code, group, group_index, location, index, bit, raw_severity;
    char description[ODC_TRIAGE_TEXT_MAX];
    uint64_t raised_ms, cleared_ms;
    uint32_t repeats, flaps;
    char sent_to[128]; /* the destinations its "raised" went to, comma-separated */
    bool seen;         /* in the reading at hand */
} odc_triaged_t;

/*  Routing's repeat policy (actors/odc_route.h): when a destination last
    got a "raised" of the device's category. */
#define ODC_TRIAGE_SENT_MAX 32
typedef struct {
    char destination[48];
    char category[16];
    uint64_t at_ms;
} odc_triage_sent_t;

typedef struct {
    int32_t index, severity, training, group, group_index, location, code;
    char description[ODC_TRIAGE_TEXT_MAX];
    uint64_t time_cs;
} odc_triage_row_t;

typedef struct {
    odc_triaged_t open[ODC_TRIAGE_OPEN_MAX];
    size_t n_open;
    odc_triage_row_t rows[ODC_TRIAGE_ROWS_MAX];
    size_t n_rows;
    uint32_t failures;
    uint64_t silent_since_ms;
    uint64_t raised;
    bool table_used;  /* it has listed alerts in its table: its bits raise none */
    uint64_t dropped; /* rows or alerts past the bounds */
    odc_triage_sent_t sent[ODC_TRIAGE_SENT_MAX];
    size_t n_sent;
    uint32_t enterprise; /* the maker (the registry's), for its own codes; 0 not known */
} odc_device_alerts_t;

typedef struct {
    uint64_t repeat_window_ms;   /* triage.repeat_window_minutes (default 10) */
    uint32_t unreachable_passes; /* triage.unreachable_passes (default 5) */
} odc_triage_opts_t;

typedef struct {
    Odc__AlertEventType type;
    odc_triaged_t alert;
    uint64_t at_ms, duration_s;
    char old_severity[16];
} odc_triage_event_t;

typedef struct {
    odc_triage_event_t *items;
    size_t count, size;
} odc_triage_events_t;

void odc_triage_events_clear (odc_triage_events_t *events);
void odc_triage_events_free (odc_triage_events_t *events);

/*  A device's state from its stored record (NULL, 0: a device triage has
    not seen). false when the bytes are not a DeviceAlerts (state empty).
    Only what the record holds is written (the arrays past their counts
    are left as they were: state need not be zeroed first). */
bool odc_triage_state_load (odc_device_alerts_t *state, const void *data, size_t size);
/*  The record for the store: *data (malloc'd, the caller frees), *size. */
void odc_triage_state_pack (const odc_device_alerts_t *state, uint8_t **data, size_t *size);

/*  One accepted alert reading of device_id (enterprise: its maker, 0 not
    known) at now_ms (the collector's clock): state updated, events
    appended. Returns true when the state changed (to be written). */
bool odc_triage_reading (const odc_alert_codes_t *codes, uint32_t enterprise,
                         odc_device_alerts_t *state, const char *device_id,
                         const Odc__AlertReading *r, uint64_t now_ms, const odc_triage_opts_t *o,
                         odc_triage_events_t *out);

/*  One of the registry's events about device_id: moved, replaced and
    mac_changed (category "change") are raised once and over as they are
    told (never open); missing (not seen for registry.missing_after_hours,
    a day by default) raises "unavailable" (category "availability",
    critical: the escalation of "not_responding"), cleared when the
    registry sees it again or the alert loop's first answer. And the
    supplies actor's: a supply request raises "supply_request" (category
    "supply", warning; group 11, group_index the supply), once, cleared
    when that supply's cartridge is replaced (withdrawn or replaced).
    Returns true when the state changed. */
bool odc_triage_device_event (odc_device_alerts_t *state, const char *device_id,
                              const Odc__DeviceEvent *e, uint64_t now_ms, odc_triage_events_t *out);

/*  The clears whose repeat window has passed by now_ms: their "cleared"
    events. *next_ms: when the next one is due (0: none waits). Returns true
    when the state changed. */
bool odc_triage_expire (odc_device_alerts_t *state, uint64_t now_ms, const odc_triage_opts_t *o,
                        odc_triage_events_t *out, uint64_t *next_ms);

/*  The reading's rows from the state (a reading without a table read):
    r->alerts set to rows (pointers into the caller's rows array, whose
    n_rows elements the caller provides) so the stored latest reading keeps
    what the table last said. */
void odc_triage_rows_fill (const odc_device_alerts_t *state, Odc__Alert *rows,
                           Odc__Alert **pointers);

/*  The portal's message of an event (pointers into e: keep e while it is
    used). */
void odc_triage_event_message (const odc_triage_event_t *e, const char *device_id,
                               const char *address, Odc__AlertEvent *ev, Odc__TriagedAlert *a);

#endif
