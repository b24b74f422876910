/*  odc_validate: the rules that judge a reading against what was accepted
    before (issue 16). Pure functions: no store, no bus, no clock; the
    validator actor (to come) keeps the history and calls them, and the
    unit tests (tests/test_validate.c) give each rule a reading that passes
    and one that fails.

    Counters (a page counter of a meter reading):
      - it never goes down, except
        - a 32-bit wrap: the old value in the top sixteenth of 2^32, the new
          one below the first sixteenth, and what the device printed across
          the wrap within the rate bound: accepted (ODC_VERDICT_WRAP);
        - a reset the collector can recognise: the device restarted since
          the last accepted reading (sysUpTime went back) and the new value
          is at most reset_below: accepted as a reset (ODC_VERDICT_RESET,
          an event for the portal);
      - a rise larger than the device could print since the last accepted
        reading (max_pages_per_minute, at least one minute's worth) is
        suspicious;
      - anything else that goes down is suspicious.
    Supplies (a marker supply of a supply reading):
      - the level is within 0..max_capacity, or one of the Printer-MIB's
        sentinels (-1 other, -2 unknown, -3 some remaining);
      - max_capacity changes only with a replacement (the level rises to at
        least half the new capacity); else suspicious;
      - a level that rises without such a jump is noted (ODC_VERDICT_NOTE),
        not rejected.
    A suspicious reading is not accepted; the caller records why (a
    Rejection). Two consecutive suspicious readings that agree with each
    other are the caller's to accept as the new truth. */
#ifndef ODC_VALIDATE_H
#define ODC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odc_config.h"

typedef struct {
    double max_pages_per_minute; /* the fastest a device prints: default 200 */
    uint64_t reset_below;        /* a counter after a reset starts below this: default 10000 */
} odc_validate_limits_t;

void odc_validate_limits_default (odc_validate_limits_t *limits);
/*  The limits of a configuration (validation: max_pages_per_minute,
    reset_below; the same defaults). */
void odc_validate_limits_of (odc_validate_limits_t *limits, const odc_config_t *config);

typedef enum {
    ODC_VERDICT_OK = 0,
    ODC_VERDICT_WRAP,    /* accepted: a 32-bit counter wrapped */
    ODC_VERDICT_RESET,   /* accepted: the device restarted and the counter began again */
    ODC_VERDICT_NOTE,    /* accepted, with a note (a supply that rose without a replacement) */
    ODC_VERDICT_SUSPECT, /* not accepted: why says why */
} odc_verdict_t;

/*  The last accepted value of a counter: its value, when it was read
    (ms, the reading's finished time) and the device's sysUpTime then
    (hundredths of a second; 0 when not known). */
typedef struct {
    uint64_t value;
    uint64_t at_ms;
    uint64_t uptime_cs;
} odc_counter_seen_t;

/*  Judge a counter's new value (read at at_ms, the device's sysUpTime then
    uptime_cs, 0 when not known) against prev (NULL: the first reading,
    accepted). why (size bytes) gets the reason of a verdict other than
    OK. */
odc_verdict_t odc_validate_counter (const odc_validate_limits_t *limits,
                                    const odc_counter_seen_t *prev, uint64_t value, uint64_t at_ms,
                                    uint64_t uptime_cs, char *why, size_t size);

/*  The last accepted state of a supply. */
typedef struct {
    int32_t max_capacity;
    int32_t level;
} odc_supply_seen_t;

/*  Judge a supply's new level and capacity against prev (NULL: the first
    reading: only the range is checked). */
odc_verdict_t odc_validate_supply (const odc_supply_seen_t *prev, int32_t max_capacity,
                                   int32_t level, char *why, size_t size);

/*  A counter that came back as another ASN.1 type (a Counter32 now an
    INTEGER, a Counter64): suspicious. 0 (not known) on either side
    passes. */
odc_verdict_t odc_validate_counter_type (uint32_t prev_type, uint32_t type, char *why, size_t size);

/*  Every counter of before (nb names) still in now (nn names): else the
    first that vanished, suspicious. */
odc_verdict_t odc_validate_counters_kept (const char *const *before, size_t nb,
                                          const char *const *now, size_t nn, char *why,
                                          size_t size);

/*  An alert row: a prtAlertIndex above 0 and a prtAlertGroup of RFC 3805
    (PrtAlertGroupTC: 1, 3-18) or RFC 3806 (30-33). Nothing is rejected for
    it: the caller notes a malformed row (ODC_VERDICT_NOTE). */
odc_verdict_t odc_validate_alert_row (int32_t index, int32_t group, int32_t code, char *why,
                                      size_t size);

const char *odc_verdict_name (odc_verdict_t verdict);

#endif
