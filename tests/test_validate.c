/*  test_validate: every rule of actors/odc_validate.h with a reading that
    passes and one that fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_bus.h"
#include "odc_outbox.h"
#include "odc_store.h"
#include "odc_supervisor.h"
#include "odc_test.h"
#include "odc_validate.h"
#include "odc_validator_actor.h"

#define MIN_MS 60000ull

static odc_validate_limits_t s_limits;

/*  A counter that rises within the rate is taken; one that rises faster
    than a device prints is not. */
static void
test_counter_rate (void)
{
    char why[160] = "";
    odc_counter_seen_t prev = {161948, 10 * MIN_MS, 500000};
    CHECK (odc_validate_counter (&s_limits, NULL, 5, 0, 0, why, sizeof why) == ODC_VERDICT_OK);
    /*  20 minutes at 200 pages a minute: 4,000 pages at the most. */
    CHECK (odc_validate_counter (&s_limits, &prev, 161948 + 4000, 30 * MIN_MS, 620000, why,
                                 sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_counter (&s_limits, &prev, 161948 + 4001, 30 * MIN_MS, 620000, why,
                                 sizeof why) == ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "rose by 4001"), "why: %s", why);
    /*  Unchanged is fine; two readings a second apart still allow a
        minute's worth, and so does a clock that went back. */
    CHECK (odc_validate_counter (&s_limits, &prev, 161948, 10 * MIN_MS + 1000, 0, why,
                                 sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_counter (&s_limits, &prev, 161948 + 200, 1000, 0, why, sizeof why) ==
           ODC_VERDICT_OK);
    CHECK (odc_validate_counter (&s_limits, &prev, 161948 + 201, 1000, 0, why, sizeof why) ==
           ODC_VERDICT_SUSPECT);
}

/*  A drop is a reset only when the device restarted and the counter began
    again; the simulator's reset (161,948 to 0) after a restart passes, the
    same drop without a restart does not, nor a restart to a large value. */
static void
test_counter_reset (void)
{
    char why[160] = "";
    odc_counter_seen_t prev = {161948, 10 * MIN_MS, 500000};
    CHECK (odc_validate_counter (&s_limits, &prev, 0, 20 * MIN_MS, 3000, why, sizeof why) ==
           ODC_VERDICT_RESET);
    CHECKF (strstr (why, "reset: 0 after 161948"), "why: %s", why);
    CHECK (odc_validate_counter (&s_limits, &prev, 0, 20 * MIN_MS, 560000, why, sizeof why) ==
           ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "without a restart"), "why: %s", why);
    CHECK (odc_validate_counter (&s_limits, &prev, 0, 20 * MIN_MS, 0, why, sizeof why) ==
           ODC_VERDICT_SUSPECT); /* uptime not known: no reset can be recognised */
    CHECK (odc_validate_counter (&s_limits, &prev, 150000, 20 * MIN_MS, 3000, why, sizeof why) ==
           ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "not to a fresh counter"), "why: %s", why);
    CHECK (odc_validate_counter (&s_limits, &prev, 161947, 20 * MIN_MS, 560000, why, sizeof why) ==
           ODC_VERDICT_SUSPECT); /* one less */
}

/*  A Counter32 that wraps: accepted when what was printed across the wrap
    fits the rate; a large value falling to a small one otherwise is not a
    wrap. */
static void
test_counter_wrap (void)
{
    char why[160] = "";
    uint64_t top = (1ull << 32) - 100;
    odc_counter_seen_t prev = {top, 10 * MIN_MS, 500000};
    CHECK (odc_validate_counter (&s_limits, &prev, 50, 11 * MIN_MS, 506000, why, sizeof why) ==
           ODC_VERDICT_WRAP);
    CHECK (odc_validate_counter (&s_limits, &prev, 150, 11 * MIN_MS, 506000, why, sizeof why) ==
           ODC_VERDICT_SUSPECT); /* 250 pages in a minute */
    odc_counter_seen_t half = {1ull << 31, 10 * MIN_MS, 500000};
    CHECK (odc_validate_counter (&s_limits, &half, 50, 11 * MIN_MS, 506000, why, sizeof why) ==
           ODC_VERDICT_SUSPECT); /* not near the top: no wrap */
}

/*  Supplies: the range and the sentinels, the capacity that changes only
    with a replacement, a level that rises without one (noted). */
static void
test_supply (void)
{
    char why[160] = "";
    CHECK (odc_validate_supply (NULL, 100, 55, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (NULL, 100, -3, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (NULL, -2, -2, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (NULL, 100, 101, why, sizeof why) == ODC_VERDICT_SUSPECT);
    CHECK (odc_validate_supply (NULL, 100, -4, why, sizeof why) == ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "not a sentinel"), "why: %s", why);
    odc_supply_seen_t prev = {10000, 800};
    CHECK (odc_validate_supply (&prev, 10000, 700, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (&prev, 10000, 9900, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (&prev, 12000, 11800, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (&prev, 12000, 700, why, sizeof why) == ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "capacity changed"), "why: %s", why);
    CHECK (odc_validate_supply (&prev, 10000, 1500, why, sizeof why) == ODC_VERDICT_NOTE);
    CHECKF (strstr (why, "rose from 800 to 1500"), "why: %s", why);
}

/*  The thresholds are configuration (validation:), with the defaults
    above; a value out of range is refused with its key. */
static odc_config_t *
s_config (const char *dir, const char *name, const char *text, char **errors)
{
    char path[600];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    fprintf (f, "collector:\n  id: test\nstore:\n  path: %s/store\n%s", dir, text);
    fclose (f);
    *errors = NULL;
    return odc_config_load (path, errors);
}

static void
test_config (void)
{
    char *dir = s_tempdir ("validate");
    char *errors = NULL;
    odc_validate_limits_t limits;
    odc_config_t *config = s_config (dir, "a.yaml", "", &errors);
    CHECK (config);
    if (config) {
        odc_validate_limits_of (&limits, config);
        CHECK (limits.max_pages_per_minute == 200 && limits.reset_below == 10000);
    }
    odc_config_destroy (&config);
    config = s_config (dir, "b.yaml", "validation:\n  max_pages_per_minute: 60\n  reset_below: 0\n",
                       &errors);
    CHECKF (config, "%s", errors ? errors : "");
    if (config) {
        odc_validate_limits_of (&limits, config);
        CHECK (limits.max_pages_per_minute == 60 && limits.reset_below == 0);
        /*  60 a minute: 61 in one minute is too many; with reset_below 0,
            only a drop to 0 after a restart is a reset. */
        char why[160];
        odc_counter_seen_t prev = {1000, 0, 9000};
        CHECK (odc_validate_counter (&limits, &prev, 1061, 60000, 15000, why, sizeof why) ==
               ODC_VERDICT_SUSPECT);
        CHECK (odc_validate_counter (&limits, &prev, 1, 60000, 100, why, sizeof why) ==
               ODC_VERDICT_SUSPECT);
        CHECK (odc_validate_counter (&limits, &prev, 0, 60000, 100, why, sizeof why) ==
               ODC_VERDICT_RESET);
    }
    odc_config_destroy (&config);
    free (errors);
    const char *bad[] = {"validation:\n  max_pages_per_minute: 0\n",
                         "validation:\n  reset_below: -1\n",
                         "validation:\n  max_pages_per_minute: lots\n"};
    for (int i = 0; i < 3; i++) {
        config = s_config (dir, "c.yaml", bad[i], &errors);
        CHECKF (!config && errors && strstr (errors, "validation."), "case %d: %s", i,
                errors ? errors : "(taken)");
        odc_config_destroy (&config);
        free (errors);
    }
    s_rmtree (dir);
    free (dir);
}

/*  A counter keeps its ASN.1 type; a counter of before stays; an alert
    row has an index and a known group (noted, not rejected). */
static void
test_counter_type_set_alert (void)
{
    char why[160] = "";
    CHECK (odc_validate_counter_type (0x41, 0x41, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_counter_type (0, 0x02, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_counter_type (0x41, 0x02, why, sizeof why) == ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "0x02, was 0x41"), "why: %s", why);
    const char *before[] = {"total", "vendor.c101", "vendor.c112"};
    const char *now[] = {"vendor.c112", "total", "vendor.c101", "vendor.c113"};
    const char *fewer[] = {"total", "vendor.c112"};
    CHECK (odc_validate_counters_kept (before, 3, now, 4, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_counters_kept (before, 3, fewer, 2, why, sizeof why) ==
           ODC_VERDICT_SUSPECT);
    CHECKF (strstr (why, "vendor.c101 vanished"), "why: %s", why);
    CHECK (odc_validate_alert_row (3, 8, 808, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_alert_row (4, 31, 8, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_alert_row (0, 8, 808, why, sizeof why) == ODC_VERDICT_NOTE);
    CHECKF (strstr (why, "index 0"), "why: %s", why);
    CHECK (odc_validate_alert_row (5, 2, 808, why, sizeof why) == ODC_VERDICT_NOTE);
    CHECK (odc_validate_alert_row (5, 99, 808, why, sizeof why) == ODC_VERDICT_NOTE);
    CHECKF (strstr (why, "unknown prtAlertGroup 99"), "why: %s", why);
    /*  A tray level is judged as a supply's range: 0..max or a sentinel. */
    CHECK (odc_validate_supply (NULL, 550, 247, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (NULL, 550, -3, why, sizeof why) == ODC_VERDICT_OK);
    CHECK (odc_validate_supply (NULL, 550, 551, why, sizeof why) == ODC_VERDICT_SUSPECT);
}

/* ------------------------------------------------------------------------
   The validator actor itself, over the bus with a real store: what it
   passes, what it keeps back, two readings that agree, the reset events
   in the outbox, the rejections in the history family. */

static void
s_send_meters (zsock_t *push, uint64_t total, uint64_t at_min, uint64_t uptime_cs)
{
    Odc__ReadingHeader h = ODC__READING_HEADER__INIT;
    h.device_id = "dev-1";
    h.address = "10.0.0.1";
    h.loop = ODC__LOOP__LOOP_METER;
    h.finished_ms = h.collector_ms = 1796000000000ull + at_min * MIN_MS;
    Odc__Counter c = ODC__COUNTER__INIT, *cs[1] = {&c};
    c.name = "vendor.c101";
    c.value = total;
    c.type = 0x41;
    Odc__MeterReading m = ODC__METER_READING__INIT;
    m.header = &h;
    m.n_counters = 1;
    m.counters = cs;
    m.sys_uptime_cs = uptime_cs;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    odc_bus_set_body (&env, ODC__ENVELOPE__BODY_METERS, &m.base);
    odc_bus_send_keyed (push, "dev-1/3", &env);
}

static void
s_send_supply (zsock_t *push, int32_t level, uint64_t at_min)
{
    Odc__ReadingHeader h = ODC__READING_HEADER__INIT;
    h.device_id = "dev-1";
    h.loop = ODC__LOOP__LOOP_SUPPLY;
    h.finished_ms = h.collector_ms = 1796000000000ull + at_min * MIN_MS;
    Odc__Supply su = ODC__SUPPLY__INIT, *ss[1] = {&su};
    su.index = 1;
    su.max_capacity = 100;
    su.level = level;
    Odc__SupplyReading r = ODC__SUPPLY_READING__INIT;
    r.header = &h;
    r.n_supplies = 1;
    r.supplies = ss;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    odc_bus_set_body (&env, ODC__ENVELOPE__BODY_SUPPLIES, &r.base);
    odc_bus_send_keyed (push, "dev-1/4", &env);
}

/*  An alert reading, with one row of index (none when index is -1). */
static void
s_send_alert (zsock_t *push, int32_t index)
{
    Odc__ReadingHeader h = ODC__READING_HEADER__INIT;
    h.device_id = "dev-1";
    h.loop = ODC__LOOP__LOOP_ALERT;
    h.finished_ms = h.collector_ms = 1796000000000ull;
    Odc__Alert a = ODC__ALERT__INIT, *as[1] = {&a};
    a.index = index;
    a.group = 8;
    a.code = 808;
    Odc__AlertReading r = ODC__ALERT_READING__INIT;
    r.header = &h;
    r.hr_device_status = 3;
    r.n_alerts = index >= 0 ? 1 : 0;
    r.alerts = as;
    r.table_read = index >= 0;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    odc_bus_set_body (&env, ODC__ENVELOPE__BODY_ALERTS, &r.base);
    odc_bus_send_keyed (push, "dev-1/1", &env);
}

/*  The next keyed reading on pull within a second: its body's meter total
    (or supply level), -1 when none came. */
static long long
s_next (zsock_t *pull)
{
    zmq_pollitem_t item = {zsock_resolve (pull), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, 1000) <= 0)
        return -1;
    zmq_msg_t key, frame;
    odc_bus_recv_keyed (pull, &key, &frame);
    Odc__Envelope *env = odc__envelope__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    long long v = -2;
    if (env && env->body_case == ODC__ENVELOPE__BODY_METERS && env->meters->n_counters)
        v = (long long)env->meters->counters[0]->value;
    else if (env && env->body_case == ODC__ENVELOPE__BODY_SUPPLIES && env->supplies->n_supplies)
        v = env->supplies->supplies[0]->level;
    if (env)
        odc__envelope__free_unpacked (env, NULL);
    zmq_msg_close (&key);
    zmq_msg_close (&frame);
    return v;
}

static void
test_actor (void)
{
    char *dir = s_tempdir ("validator");
    char *errors = NULL;
    odc_config_t *config = s_config (dir, "c.yaml", "", &errors);
    CHECK (config);
    if (!config) {
        free (errors);
        s_rmtree (dir);
        free (dir);
        return;
    }
    odc_store_options_t options;
    odc_store_options_default (&options);
    char *err = NULL;
    odc_store_t *store = odc_store_open (config->store_path, &options, &err);
    odc_outbox_t *outbox = odc_outbox_new (store, 16u << 20);
    zsock_t *meters = odc_bus_pull_bind (ODC_EP_METERS, 0);
    zsock_t *accepted = odc_bus_pull_bind (ODC_EP_ACCEPTED, 0);
    odc_supervisor_t *sup = odc_supervisor_new ();
    odc_validator_args_t args = {config, store, outbox, false, false};
    odc_supervisor_add (sup, &(odc_actor_spec_t){"validator", odc_validator_actor, &args, {NULL}});
    CHECK (odc_supervisor_start (sup) == 0);
    zsock_t *push = odc_bus_push_connect (ODC_EP_READINGS, 0);

    s_send_meters (push, 161948, 0, 500000);
    CHECK (s_next (meters) == 161948); /* the first: taken */
    s_send_meters (push, 165000, 20, 620000);
    CHECK (s_next (meters) == 165000); /* 3,052 in 20 minutes: within 4,000 */
    s_send_meters (push, 175000, 40, 740000);
    CHECK (s_next (meters) == -1); /* 10,000 in 20 minutes: not taken */
    s_send_meters (push, 120, 60, 860000);
    CHECK (s_next (meters) == -1); /* down without a restart: not taken */
    s_send_meters (push, 300, 80, 980000);
    CHECK (s_next (meters) == 300); /* agrees with the one before: the new truth */
    s_send_meters (push, 12, 100, 5000);
    CHECK (s_next (meters) == 12); /* a restart with a fresh counter: a reset */
    s_send_supply (push, 50, 0);
    CHECK (s_next (accepted) == 50);
    s_send_supply (push, 120, 60);
    CHECK (s_next (accepted) == -1); /* above its capacity */
    s_send_supply (push, 40, 120);
    CHECK (s_next (accepted) == 40);
    s_send_supply (push, 40, 140); /* as it was: passed, nothing written */
    CHECK (s_next (accepted) == 40);
    /*  Alerts: nothing rejected; a row with index 0 noted. */
    s_send_alert (push, -1);
    CHECK (s_next (accepted) == -2);
    s_send_alert (push, 0);
    CHECK (s_next (accepted) == -2);
    s_send_alert (push, 7);
    CHECK (s_next (accepted) == -2);

    /*  Two resets in the outbox (confirmed, restart), as events. */
    Odc__OutboxRecord *records[8];
    size_t n = odc_outbox_peek (outbox, -1, 0, records, 8);
    int confirmed = 0, restart = 0;
    for (size_t i = 0; i < n; i++) {
        Odc__Batch *b =
            odc__batch__unpack (NULL, records[i]->payload.len, records[i]->payload.data);
        for (size_t k = 0; b && k < b->n_items; k++) {
            const Odc__DeviceEvent *ev = b->items[k]->device_event;
            if (!ev || ev->type != ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET)
                continue;
            confirmed +=
                !strcmp (ev->how, "confirmed") && ev->old_value == 165000 && ev->new_value == 300;
            restart += !strcmp (ev->how, "restart") && ev->old_value == 300 && ev->new_value == 12;
        }
        if (b)
            odc__batch__free_unpacked (b, NULL);
    }
    odc_outbox_records_free (records, n);
    CHECKF (n == 2 && confirmed == 1 && restart == 1, "%zu records, %d confirmed, %d restart", n,
            confirmed, restart);
    odc_supervisor_stop (sup);
    odc_supervisor_destroy (&sup);

    /*  The rejections, kept with their reasons. */
    Odc__History *h = odc_history_get (store, "dev-1", ODC__LOOP__LOOP_METER);
    CHECK (h && h->rejected == 2 && h->n_rejections == 2);
    if (h && h->n_rejections == 2) {
        CHECKF (strstr (h->rejections[0]->reason, "rose by 10000"), "%s", h->rejections[0]->reason);
        CHECKF (strstr (h->rejections[1]->reason, "without a restart"), "%s",
                h->rejections[1]->reason);
    }
    if (h)
        odc__history__free_unpacked (h, NULL);
    h = odc_history_get (store, "dev-1", ODC__LOOP__LOOP_SUPPLY);
    CHECK (h && h->rejected == 1 && h->n_supplies == 1 && h->supplies[0]->level == 40);
    if (h)
        odc__history__free_unpacked (h, NULL);
    h = odc_history_get (store, "dev-1", ODC__LOOP__LOOP_ALERT);
    CHECK (h && h->rejected == 0 && h->n_rejections == 1 && h->rejections[0]->note &&
           strstr (h->rejections[0]->reason, "index 0"));
    if (h)
        odc__history__free_unpacked (h, NULL);
    zsock_destroy (&push);
    zsock_destroy (&meters);
    zsock_destroy (&accepted);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    odc_config_destroy (&config);
    free (err);
    s_rmtree (dir);
    free (dir);
}

int
main (void)
{
    odc_validate_limits_default (&s_limits);
    CHECK (s_limits.max_pages_per_minute == 200 && s_limits.reset_below == 10000);
    RUN (test_counter_rate);
    RUN (test_counter_reset);
    RUN (test_counter_wrap);
    RUN (test_supply);
    RUN (test_counter_type_set_alert);
    RUN (test_actor);
    RUN (test_config);
    CHECK (!strcmp (odc_verdict_name (ODC_VERDICT_RESET), "reset"));
    TEST_END ();
}
