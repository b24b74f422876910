/*  test_validate: every rule of actors/odc_validate.h with a reading that
    passes and one that fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_test.h"
#include "odc_validate.h"

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
    RUN (test_config);
    CHECK (!strcmp (odc_verdict_name (ODC_VERDICT_RESET), "reset"));
    TEST_END ();
}
