/*  test_triage: the alert code map (snmp/odc_alerts.h, with the project's
    snmp/alert-codes.tsv and broken files of our own) and every rule of
    actors/odc_triage.h, each with a reading that makes an event and one
    that must not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odc_alerts.h"
#include "odc_config.h"
#include "odc_notify_actor.h"
#include "odc_route.h"
#include "odc_test.h"
#include "odc_triage.h"

#define MIN_MS 60000ull

static odc_alert_codes_t *s_codes;
static const odc_triage_opts_t s_opts = {10 * MIN_MS, 5};

/* ------------------------------------------------------------------------
   The map */

static void
test_map (void)
{
    odc_alert_class_t c = odc_alert_classify_row (s_codes, 0, 13, 8, "Paper jam");
    CHECKF (!strcmp (c.code, "jam") && !strcmp (c.category, "jam") && !c.status, "%s %s", c.code,
            c.category);
    /*  The group decides what "almost empty" is. */
    c = odc_alert_classify_row (s_codes, 0, 8, 12, "Tray 2 low");
    CHECKF (!strcmp (c.code, "paper_low") && !strcmp (c.category, "paper"), "%s", c.code);
    c = odc_alert_classify_row (s_codes, 0, 11, 1104, "Black toner low");
    CHECKF (!strcmp (c.code, "toner_low") && !strcmp (c.category, "supply"), "%s", c.code);
    c = odc_alert_classify_row (s_codes, 0, 6, 501, "Front door open");
    CHECKF (!strcmp (c.category, "cover"), "%s", c.category);
    /*  "other" with a text that says it. */
    c = odc_alert_classify_row (s_codes, 0, 5, 1, "Paper jam in tray 2");
    CHECKF (!strcmp (c.code, "jam"), "%s", c.code);
    /*  A status row is never raised; an unknown code is "other". */
    c = odc_alert_classify_row (s_codes, 0, 5, 1, "Ready");
    CHECK (c.status);
    c = odc_alert_classify_row (s_codes, 0, 5, 987654, "something new");
    CHECK (!strcmp (c.code, "other") && !strcmp (c.category, "information") && !c.status);
    c = odc_alert_classify_row (NULL, 0, 13, 8, "Paper jam");
    CHECK (!strcmp (c.code, "other"));
    c = odc_alert_classify_bit (s_codes, 0, 5);
    CHECK (!strcmp (c.code, "jam") && !strcmp (c.severity, "critical"));
    c = odc_alert_classify_bit (s_codes, 0, 2);
    CHECK (!strcmp (c.code, "toner_low"));
    CHECK (!strcmp (odc_alert_severity_name (3), "critical"));
    CHECK (!strcmp (odc_alert_severity_name (5), "warning"));
    CHECK (!strcmp (odc_alert_training_name (5), "field_service"));
}

/*  A broken file: each error names the file, the line and the reason. */
static void
test_map_errors (void)
{
    const char *bad[][2] = {
        {"*\t*\tcode\t8\tjam\tjam\n", "7 columns"},
        {"*\t*\tcode\teight\tjam\tjam\t-\n", "KIND MATCH"},
        {"x\t*\tcode\t8\tjam\tjam\t-\n", "ENTERPRISE"},
        {"*\t*\tcode\t8\tJam!\tjam\t-\n", "STANDARD"},
        {"*\t*\tcode\t8\tjam\tpaperwork\t-\n", "CATEGORY"},
        {"*\t*\tbit\t5\tjam\tjam\t-\n", "a bit has no severity"},
        {"*\t*\tbit\t16\tjam\tjam\tcritical\n", "KIND MATCH"},
        {"*\t*\ttext\t(unclosed\tjam\tjam\t-\n", "regular expression"},
        {"*\t*\tcode\t8\tjam\tjam\tloud\n", "SEVERITY"},
    };
    char path[] = "/tmp/odc-alert-codes-XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    close (fd);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen (path, "w");
        fprintf (f, "# a comment\n\n%s", bad[i][0]);
        fclose (f);
        char *error = NULL;
        odc_alert_codes_t *c = odc_alert_codes_load (path, &error);
        CHECKF (!c && error && strstr (error, ":3: ") && strstr (error, bad[i][1]), "%s",
                error ? error : "(no error)");
        odc_alert_codes_destroy (&c);
        free (error);
    }
    /*  Too many lines, and a line too long. */
    FILE *f = fopen (path, "w");
    for (int i = 0; i <= ODC_ALERT_CODES_MAX; i++)
        fprintf (f, "*\t*\tcode\t%d\tjam\tjam\t-\n", i + 3);
    fclose (f);
    char *error = NULL;
    odc_alert_codes_t *c = odc_alert_codes_load (path, &error);
    CHECKF (!c && error && strstr (error, "more than 2048"), "%s", error ? error : "-");
    free (error);
    f = fopen (path, "w");
    for (int i = 0; i < 5000; i++)
        fputc ('x', f);
    fclose (f);
    c = odc_alert_codes_load (path, &error);
    CHECKF (!c && error && strstr (error, "longer than"), "%s", error ? error : "-");
    free (error);
    c = odc_alert_codes_load ("/nonexistent/alert-codes.tsv", &error);
    CHECK (!c && error && strstr (error, "/nonexistent/alert-codes.tsv"));
    free (error);
    unlink (path);
}

/* ------------------------------------------------------------------------
   Readings */

typedef struct {
    Odc__AlertReading r;
    Odc__Alert rows[8], *p[8];
} s_reading_t;

static void
s_reading (s_reading_t *x, uint32_t bits)
{
    memset (x, 0, sizeof *x);
    odc__alert_reading__init (&x->r);
    x->r.table_read = true;
    x->r.detected_error_state = bits;
    x->r.alerts = x->p;
}

static void
s_row (s_reading_t *x, int index, int severity, int group, int location, int code, const char *text)
{
    Odc__Alert *a = &x->rows[x->r.n_alerts];
    odc__alert__init (a);
    a->index = index, a->severity = severity, a->training = 4;
    a->group = group, a->location = location, a->code = code;
    a->description = (char *)text;
    x->p[x->r.n_alerts++] = a;
}

static size_t
s_run (odc_device_alerts_t *st, s_reading_t *x, uint64_t at_min, odc_triage_events_t *ev)
{
    odc_triage_events_clear (ev);
    odc_triage_reading (s_codes, 0, st, "dev1", &x->r, at_min * MIN_MS, &s_opts, ev);
    return ev->count;
}

static size_t
s_expire (odc_device_alerts_t *st, uint64_t at_min, odc_triage_events_t *ev)
{
    uint64_t next;
    odc_triage_events_clear (ev);
    odc_triage_expire (st, at_min * MIN_MS, &s_opts, ev, &next);
    return ev->count;
}

/*  Raised once; renumbered, still the one alert; gone: cleared after the
    window with the time it went and its duration. */
static void
test_raise_renumber_clear (void)
{
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    odc_triage_events_t ev = {0};
    s_reading_t x;
    s_reading (&x, 0);
    s_row (&x, 7, 3, 13, 1, 8, "Paper jam");
    CHECK (s_run (st, &x, 0, &ev) == 1 && ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_RAISED);
    CHECK (!strcmp (ev.items[0].alert.code, "jam") && !strcmp (ev.items[0].alert.source, "row"));
    CHECK (s_run (st, &x, 3, &ev) == 0);
    x.rows[0].index = 1; /* the maker renumbered its rows */
    CHECK (s_run (st, &x, 6, &ev) == 0 && st->n_open == 1 && st->open[0].index == 1);
    s_reading (&x, 0);
    CHECK (s_run (st, &x, 9, &ev) == 0 && st->n_open == 1 && st->open[0].cleared_ms == 9 * MIN_MS);
    CHECK (s_expire (st, 18, &ev) == 0);
    CHECK (s_expire (st, 19, &ev) == 1 && ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED);
    CHECK (ev.items[0].duration_s == 9 * 60 && ev.items[0].alert.cleared_ms == 9 * MIN_MS);
    CHECK (st->n_open == 0);
    odc_triage_events_free (&ev);
    free (st);
}

/*  Raised, cleared, raised within the window: one alert, one flap, no
    event until it clears for good. */
static void
test_flap_and_repeats (void)
{
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    odc_triage_events_t ev = {0};
    s_reading_t on, off;
    s_reading (&on, 0);
    s_row (&on, 3, 3, 6, 1, 501, "Front door open");
    s_reading (&off, 0);
    CHECK (s_run (st, &on, 0, &ev) == 1);
    CHECK (s_run (st, &off, 3, &ev) == 0);
    CHECK (s_run (st, &on, 6, &ev) == 0 && st->open[0].flaps == 1 && !st->open[0].cleared_ms);
    CHECK (s_run (st, &off, 9, &ev) == 0);
    CHECK (s_expire (st, 19, &ev) == 1 && ev.items[0].alert.flaps == 1);
    /*  A maker that adds a row a minute for one jam: one alert, repeats. */
    s_reading_t jam;
    s_reading (&jam, 0);
    s_row (&jam, 10, 3, 13, 1, 8, "Paper jam");
    CHECK (s_run (st, &jam, 30, &ev) == 1);
    s_row (&jam, 11, 3, 13, 1, 8, "Paper jam");
    s_row (&jam, 12, 3, 13, 1, 8, "Paper jam");
    CHECK (s_run (st, &jam, 33, &ev) == 0 && st->n_open == 1 && st->open[0].repeats == 2);
    CHECK (s_run (st, &jam, 36, &ev) == 0 && st->open[0].repeats == 2);
    /*  Another jam elsewhere is another alert. */
    s_row (&jam, 13, 3, 13, 2, 8, "Paper jam");
    CHECK (s_run (st, &jam, 39, &ev) == 1 && st->n_open == 2);
    odc_triage_events_free (&ev);
    free (st);
}

/*  A bit and a row that say the same are one alert, whichever came first;
    a status row is never raised; severity moving is "changed". */
static void
test_bits_rows_severity (void)
{
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    odc_triage_events_t ev = {0};
    s_reading_t x;
    s_reading (&x, ODC_ERROR_BIT (5)); /* jammed */
    CHECK (s_run (st, &x, 0, &ev) == 1 && !strcmp (ev.items[0].alert.source, "status"));
    CHECK (!strcmp (ev.items[0].alert.code, "jam") && ev.items[0].alert.bit == 5);
    s_row (&x, 4, 3, 13, 1, 8, "Paper jam");
    CHECK (s_run (st, &x, 3, &ev) == 0 && st->n_open == 1 && !strcmp (st->open[0].source, "row"));
    s_reading (&x, ODC_ERROR_BIT (5));
    s_row (&x, 4, 3, 13, 1, 8, "Paper jam");
    s_row (&x, 5, 4, 5, 1, 1, "Ready");
    CHECK (s_run (st, &x, 6, &ev) == 0 && st->n_open == 1);
    x.rows[0].severity = 4; /* critical -> warning */
    CHECK (s_run (st, &x, 9, &ev) == 1 && ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_CHANGED);
    CHECK (!strcmp (ev.items[0].old_severity, "critical") &&
           !strcmp (ev.items[0].alert.severity, "warning"));
    /*  A reading without a table read keeps the rows: nothing clears. */
    s_reading_t quiet;
    s_reading (&quiet, ODC_ERROR_BIT (5));
    quiet.r.table_read = false;
    CHECK (s_run (st, &quiet, 12, &ev) == 0 && st->n_open == 1 && !st->open[0].cleared_ms);
    CHECK (st->n_rows == 2);
    /*  The row goes, the bit stays (read a moment before the table): the
        device lists its alerts in its table, and is taken at its word. */
    s_reading (&x, ODC_ERROR_BIT (5));
    CHECK (s_run (st, &x, 15, &ev) == 0 && st->n_open == 1 && st->open[0].cleared_ms);
    CHECK (st->table_used);
    /*  A device that counts its alerts (prtAlertAllEvents) with an empty
        table and a bit set: the table, read after the bits, is right. */
    odc_device_alerts_t *st2 = calloc (1, sizeof *st2);
    s_reading_t y;
    s_reading (&y, ODC_ERROR_BIT (5));
    y.r.all_events = 3;
    CHECK (s_run (st2, &y, 0, &ev) == 0 && st2->n_open == 0 && st2->table_used);
    free (st2);
    s_reading (&x, 0);
    CHECK (s_run (st, &x, 18, &ev) == 0 && s_expire (st, 25, &ev) == 1);
    /*  Two trays empty, one bit: the rows tell them apart; one goes while
        the other comes, and each is its own alert. */
    s_reading (&x, ODC_ERROR_BIT (13));
    s_row (&x, 20, 4, 8, 0, 808, "Tray 1 empty");
    CHECK (s_run (st, &x, 30, &ev) == 1);
    s_reading (&x, ODC_ERROR_BIT (13));
    CHECK (s_run (st, &x, 31, &ev) == 0);
    s_row (&x, 21, 4, 8, 0, 808, "Tray 2 empty");
    CHECK (s_run (st, &x, 32, &ev) == 1 && !strcmp (ev.items[0].alert.description, "Tray 2 empty"));
    CHECK (s_expire (st, 45, &ev) == 1 && !strcmp (ev.items[0].alert.description, "Tray 1 empty"));
    /*  A waste bin near full with outputNearFull set: the row says it,
        the bit adds nothing. */
    s_reading (&x, ODC_ERROR_BIT (11));
    s_row (&x, 9, 4, 11, 1, 1107, "Waste toner box almost full");
    CHECK (s_run (st, &x, 50, &ev) == 1 && !strcmp (ev.items[0].alert.code, "waste_near_full"));
    CHECK (st->n_open == 2 && st->open[0].cleared_ms == 50 * MIN_MS); /* and Tray 2 gone */
    odc_triage_events_free (&ev);
    free (st);
}

/*  Not responding after 5 passes without an answer, once; the first
    answer clears it at once, with the outage's duration. */
static void
test_availability (void)
{
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    odc_triage_events_t ev = {0};
    s_reading_t x;
    s_reading (&x, 0);
    x.r.no_answer = true;
    x.r.table_read = false;
    for (uint32_t i = 1; i <= 4; i++) {
        x.r.failures = i;
        CHECK (s_run (st, &x, i * 3, &ev) == 0);
    }
    x.r.failures = 5;
    CHECK (s_run (st, &x, 15, &ev) == 1 && !strcmp (ev.items[0].alert.code, "not_responding"));
    CHECK (!strcmp (ev.items[0].alert.category, "availability") &&
           ev.items[0].alert.raised_ms == 3 * MIN_MS);
    x.r.failures = 6;
    CHECK (s_run (st, &x, 18, &ev) == 0);
    s_reading (&x, 0);
    CHECK (s_run (st, &x, 21, &ev) == 1 &&
           ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED);
    CHECK (ev.items[0].duration_s == 18 * 60 && st->n_open == 0 && st->failures == 0);
    /*  A short outage raises nothing. */
    s_reading (&x, 0);
    x.r.no_answer = true;
    x.r.failures = 2;
    CHECK (s_run (st, &x, 24, &ev) == 0);
    s_reading (&x, 0);
    CHECK (s_run (st, &x, 27, &ev) == 0);
    odc_triage_events_free (&ev);
    free (st);
}

/*  The registry's events: changes told once and never open; a day
    missing is "unavailable" until seen again or answering. */
static void
test_device_events (void)
{
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    odc_triage_events_t ev = {0};
    Odc__DeviceEvent e = ODC__DEVICE_EVENT__INIT;
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MOVED;
    e.device_id = "dev1";
    e.old_address = "10.0.0.5";
    e.address = "10.0.0.9";
    CHECK (odc_triage_device_event (st, "dev1", &e, 10 * MIN_MS, &ev) && ev.count == 1);
    CHECK (ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_RAISED &&
           !strcmp (ev.items[0].alert.code, "moved") &&
           !strcmp (ev.items[0].alert.category, "change") &&
           strstr (ev.items[0].alert.description, "from 10.0.0.5 to 10.0.0.9"));
    CHECK (st->n_open == 0);
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED;
    e.serial = "NEW1";
    e.old_serial = "OLD1";
    odc_triage_events_clear (&ev);
    CHECK (odc_triage_device_event (st, "dev1", &e, 11 * MIN_MS, &ev) && ev.count == 1 &&
           !strcmp (ev.items[0].alert.code, "replaced") && st->n_open == 0);
    CHECK (strcmp (ev.items[0].alert.alert_id, "") && st->raised == 2);
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_NEW;
    odc_triage_events_clear (&ev);
    CHECK (!odc_triage_device_event (st, "dev1", &e, 12 * MIN_MS, &ev) && ev.count == 0);
    /*  Missing: raised once, from when it was last seen. */
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING;
    e.last_seen_ms = 20 * MIN_MS;
    odc_triage_events_clear (&ev);
    uint64_t day = 24 * 60;
    CHECK (odc_triage_device_event (st, "dev1", &e, (20 + day) * MIN_MS, &ev) && ev.count == 1);
    CHECK (!strcmp (ev.items[0].alert.code, "unavailable") &&
           !strcmp (ev.items[0].alert.severity, "critical") &&
           ev.items[0].alert.raised_ms == 20 * MIN_MS && st->n_open == 1);
    odc_triage_events_clear (&ev);
    CHECK (!odc_triage_device_event (st, "dev1", &e, (21 + day) * MIN_MS, &ev) && ev.count == 0);
    /*  Seen again: cleared at once, with the outage's length. */
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_RETURNED;
    odc_triage_events_clear (&ev);
    CHECK (odc_triage_device_event (st, "dev1", &e, (30 + day) * MIN_MS, &ev) && ev.count == 1);
    CHECK (ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED &&
           ev.items[0].duration_s == (10 + day) * 60 && st->n_open == 0);
    /*  Or answering the alert loop again, whichever comes first. */
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING;
    odc_triage_events_clear (&ev);
    CHECK (odc_triage_device_event (st, "dev1", &e, (40 + 2 * day) * MIN_MS, &ev) &&
           st->n_open == 1);
    s_reading_t x;
    s_reading (&x, 0);
    CHECK (s_run (st, &x, 41 + 2 * day, &ev) == 1 &&
           ev.items[0].type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED &&
           !strcmp (ev.items[0].alert.code, "unavailable") && st->n_open == 0);
    e.type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_RETURNED;
    odc_triage_events_clear (&ev);
    CHECK (!odc_triage_device_event (st, "dev1", &e, (42 + 2 * day) * MIN_MS, &ev) &&
           ev.count == 0);
    odc_triage_events_free (&ev);
    free (st);
}

/*  A hostile device: thousands of rows, a description of 5,000 bytes.
    Bounded, counted, no crash; the state packs and loads as it was. */
static void
test_bounds_and_state (void)
{
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    odc_triage_events_t ev = {0};
    Odc__AlertReading r = ODC__ALERT_READING__INIT;
    enum { N = 1000 };
    Odc__Alert *rows = calloc (N, sizeof *rows), **p = calloc (N, sizeof *p);
    char *text = malloc (5001);
    memset (text, 'j', 5000);
    text[5000] = 0;
    for (int i = 0; i < N; i++) {
        odc__alert__init (&rows[i]);
        rows[i].index = i + 1, rows[i].severity = 3, rows[i].group = 13, rows[i].code = 8;
        rows[i].location = i;
        rows[i].description = text;
        p[i] = &rows[i];
    }
    r.table_read = true;
    r.n_alerts = N;
    r.alerts = p;
    odc_triage_reading (s_codes, 0, st, "dev1", &r, MIN_MS, &s_opts, &ev);
    CHECK (st->n_rows == ODC_TRIAGE_ROWS_MAX && st->n_open == ODC_TRIAGE_OPEN_MAX);
    CHECK (st->dropped >= N - ODC_TRIAGE_ROWS_MAX);
    CHECK (ev.count == ODC_TRIAGE_OPEN_MAX);
    CHECK (strlen (st->open[0].description) == ODC_TRIAGE_TEXT_MAX - 1);
    uint8_t *data;
    size_t size;
    odc_triage_state_pack (st, &data, &size);
    odc_device_alerts_t *back = calloc (1, sizeof *back);
    CHECK (odc_triage_state_load (back, data, size));
    CHECK (back->n_open == st->n_open && back->n_rows == st->n_rows && back->raised == st->raised);
    CHECK (!strcmp (back->open[5].alert_id, st->open[5].alert_id) &&
           back->open[5].location == st->open[5].location);
    CHECK (!odc_triage_state_load (back, "\xff\xff\xff", 3) && back->n_open == 0);
    CHECK (odc_triage_state_load (back, NULL, 0) && back->n_open == 0);
    free (data);
    free (back);
    free (text);
    free (rows);
    free (p);
    odc_triage_events_free (&ev);
    free (st);
}

/* ------------------------------------------------------------------------
   Routing (actors/odc_route.h) and what a notice says (odc_notify_actor.h) */

static odc_config_t *
s_config (const char *text)
{
    char path[] = "/tmp/odc-triage-XXXXXX";
    int fd = mkstemp (path);
    if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t)strlen (text))
        return NULL;
    close (fd);
    char *errors = NULL;
    odc_config_t *c = odc_config_load (path, &errors);
    CHECKF (c, "%s", errors ? errors : "-");
    free (errors);
    unlink (path);
    return c;
}

static odc_triaged_t
s_alert (const char *code, const char *category, const char *severity)
{
    odc_triaged_t a;
    memset (&a, 0, sizeof a);
    snprintf (a.code, sizeof a.code, "%s", code);
    snprintf (a.category, sizeof a.category, "%s", category);
    snprintf (a.severity, sizeof a.severity, "%s", severity);
    snprintf (a.alert_id, sizeof a.alert_id, "dev1/1000/1");
    return a;
}

static void
test_routes (void)
{
    /*  No rules: everything to the portal, nothing else. */
    odc_config_t *c = s_config ("collector:\n  id: c1\n");
    if (!c)
        return;
    odc_triaged_t jam = s_alert ("jam", "jam", "critical");
    odc_route_device_t d = {"10.0.0.5", "Floor 2, copy room", "A-17", true};
    CHECK (odc_route_match (c, &jam, &d) == 1u << ODC_ROUTE_PORTAL);
    odc_config_destroy (&c);

    c = s_config ("collector:\n  id: c1\ntriage:\n  email: {server: 127.0.0.1, from: o@x.org}\n"
                  "  destinations:\n"
                  "    - {name: desk, type: email, to: [d@x.org], every_minutes: 60}\n"
                  "    - {name: night, type: email, to: [n@x.org]}\n"
                  "    - {name: tickets, type: exec, command: /bin/true}\n"
                  "  rules:\n"
                  "    - {to: [portal]}\n"
                  "    - {categories: [jam, cover], severities: [critical], hours: working, "
                  "to: [desk]}\n"
                  "    - {hours: outside, to: [night]}\n"
                  "    - {codes: [toner_low], addresses: [10.0.0.0/24], "
                  "locations: [\"floor 2*\"], to: [tickets]}\n"
                  "    - {assets: [\"B-*\"], to: [tickets]}\n");
    if (!c)
        return;
    int desk = odc_route_index (c, "desk"), night = odc_route_index (c, "night");
    int tickets = odc_route_index (c, "tickets");
    CHECK (desk == 2 && night == 3 && tickets == 4 && odc_route_index (c, "nope") == -1);
    CHECK (odc_route_count (c) == 5 && odc_route_type (c, tickets) == ODC_DEST_EXEC);
    uint32_t portal = 1u << ODC_ROUTE_PORTAL;
    CHECK (odc_route_match (c, &jam, &d) == (portal | 1u << desk));
    d.in_hours = false;
    CHECK (odc_route_match (c, &jam, &d) == (portal | 1u << night));
    d.in_hours = true;
    odc_triaged_t warn = s_alert ("jam", "jam", "warning");
    CHECK (odc_route_match (c, &warn, &d) == portal);
    odc_triaged_t toner = s_alert ("toner_low", "supply", "warning");
    CHECK (odc_route_match (c, &toner, &d) == (portal | 1u << tickets));
    odc_route_device_t other = {"10.0.1.5", "Floor 2", NULL, true};
    CHECK (odc_route_match (c, &toner, &other) == portal); /* outside the range */
    odc_route_device_t no_place = {"10.0.0.5", NULL, NULL, true};
    CHECK (odc_route_match (c, &toner, &no_place) == portal); /* a pattern needs a location */
    odc_route_device_t asset = {"192.168.0.1", NULL, "B-12", true};
    CHECK (odc_route_match (c, &toner, &asset) == (portal | 1u << tickets));
    CHECK (odc_route_needs_device (c));

    /*  The repeat policy: once an hour per device and category. */
    odc_device_alerts_t *st = calloc (1, sizeof *st);
    CHECK (odc_route_repeat_ok (c, desk, st, "jam", 0));
    CHECK (!odc_route_repeat_ok (c, desk, st, "jam", 59 * MIN_MS));
    CHECK (odc_route_repeat_ok (c, desk, st, "cover", 59 * MIN_MS));
    CHECK (odc_route_repeat_ok (c, desk, st, "jam", 60 * MIN_MS));
    CHECK (odc_route_repeat_ok (c, night, st, "jam", 60 * MIN_MS)); /* no policy */
    CHECK (odc_route_repeat_ok (c, night, st, "jam", 60 * MIN_MS));
    CHECK (st->n_sent == 2);
    /*  Full: the oldest note gives way, never past the bound. */
    for (int i = 0; i < 100; i++) {
        char cat[16];
        snprintf (cat, sizeof cat, "c%d", i);
        odc_route_repeat_ok (c, desk, st, cat, (uint64_t)(100 + i) * MIN_MS);
    }
    CHECK (st->n_sent == ODC_TRIAGE_SENT_MAX);
    /*  The notes survive the store. */
    uint8_t *data;
    size_t size;
    odc_triage_state_pack (st, &data, &size);
    odc_device_alerts_t *back = calloc (1, sizeof *back);
    CHECK (odc_triage_state_load (back, data, size) && back->n_sent == ODC_TRIAGE_SENT_MAX);
    CHECK (!odc_route_repeat_ok (c, desk, back, "c99", 199 * MIN_MS));
    free (data);
    free (back);
    free (st);

    /*  sent_to: names, and back to a mask; a name no longer configured
        drops out, a list too long is cut at a name. */
    char list[128];
    odc_route_sent_to (c, portal | 1u << desk | 1u << tickets, list, sizeof list);
    CHECK (!strcmp (list, "portal,desk,tickets"));
    CHECK (odc_route_sent (c, list) == (portal | 1u << desk | 1u << tickets));
    CHECK (odc_route_sent (c, "desk,gone,,night") == (1u << desk | 1u << night));
    char small[12];
    odc_route_sent_to (c, portal | 1u << desk | 1u << tickets, small, sizeof small);
    CHECK (!strcmp (small, "portal,desk"));
    odc_config_destroy (&c);
}

/*  A notice's e-mail: the fields a helpdesk reads, a thread per alert,
    and a device's hostile text kept out of the headers. */
static void
test_notice_text (void)
{
    odc_config_t *c = s_config ("collector:\n  id: c1\ntriage:\n"
                                "  email: {server: 127.0.0.1, from: o@x.org}\n");
    if (!c)
        return;
    Odc__TriagedAlert a = ODC__TRIAGED_ALERT__INIT;
    a.alert_id = "dev1:161/1796000000000/3";
    a.code = "jam";
    a.category = "jam";
    a.severity = "critical";
    a.training = "untrained";
    a.source = "row";
    a.raw_code = 8;
    a.group = 13;
    a.description = "Jam\r\nBcc: victim@example.com\r\n\r\n.\r\nin tray 2";
    a.raised_ms = 1796000000000ull;
    Odc__AlertEvent e = ODC__ALERT_EVENT__INIT;
    e.type = ODC__ALERT_EVENT_TYPE__ALERT_RAISED;
    e.device_id = "dev1:161";
    e.address = "10.0.0.5";
    e.alert = &a;
    e.at_ms = a.raised_ms;
    Odc__Device dev = ODC__DEVICE__INIT;
    dev.model = "LaserJet M507";
    dev.serial = "CNB1234";
    dev.location = "Floor 2, caf\xc3\xa9";
    Odc__Notice n = ODC__NOTICE__INIT;
    n.destination = "desk";
    n.recipient = "d@x.org";
    n.event = &e;
    n.device = &dev;
    n.collector_id = "site one";
    char *raised = odc_notify_email_text (c, &n, 1796000000);
    CHECK (raised &&
           strstr (raised, "Message-ID: <opendca.dev1.161.1796000000000.3.raised@site.one>\r\n"));
    CHECK (raised && !strstr (raised, "In-Reply-To"));
    CHECK (raised && strstr (raised, "\r\nSerial:    CNB1234\r\n") &&
           strstr (raised, "\r\nCode:      jam (printer code 8, group 13, location 0)\r\n"));
    /*  The hostile text is one line of the body; no header comes of it. */
    const char *body = raised ? strstr (raised, "\r\n\r\n") : NULL;
    CHECK (body && !strstr (raised, "\r\nBcc:") && !strstr (body, "\r\n.\r\n"));
    CHECK (raised && strstr (raised, "Subject: =?UTF-8?B?")); /* the location's é */
    e.type = ODC__ALERT_EVENT_TYPE__ALERT_CLEARED;
    e.at_ms = a.cleared_ms = a.raised_ms + 754000;
    e.duration_s = 754;
    char *cleared = odc_notify_email_text (c, &n, 1796000754);
    CHECK (cleared &&
           strstr (cleared, "In-Reply-To: <opendca.dev1.161.1796000000000.3.raised@site.one>"));
    CHECK (cleared && strstr (cleared, "\r\nLasted:    12 min 34 s\r\n"));
    char *json = odc_notify_json (&n);
    CHECK (json && strstr (json, "\"event\":\"cleared\"") && strstr (json, "\"duration_s\":754") &&
           strstr (json, "Jam\\u000d\\u000aBcc:") &&
           strchr (json, '\n') == json + strlen (json) - 1);
    free (raised);
    free (cleared);
    free (json);
    n.event = NULL;
    CHECK (odc_notify_email_text (c, &n, 0) == NULL && odc_notify_json (&n) == NULL);
    odc_config_destroy (&c);
}

int
main (void)
{
    char *error = NULL;
    s_codes = odc_alert_codes_load (ODC_DATA_DIR "/snmp/alert-codes.tsv", &error);
    CHECKF (s_codes, "%s", error ? error : "-");
    free (error);
    if (!s_codes)
        TEST_END ();
    RUN (test_map);
    RUN (test_map_errors);
    RUN (test_raise_renumber_clear);
    RUN (test_flap_and_repeats);
    RUN (test_bits_rows_severity);
    RUN (test_availability);
    RUN (test_device_events);
    RUN (test_bounds_and_state);
    RUN (test_routes);
    RUN (test_notice_text);
    odc_alert_codes_destroy (&s_codes);
    TEST_END ();
}
