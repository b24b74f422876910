/*  odc_route: where an alert event goes (issue 17). Pure functions over
    the configuration's triage.destinations and triage.rules, so every rule
    has a unit test (tests/test_triage.c); the triage actor calls them for
    each event.

    Destinations by index: 0 "record" (the store only: every event is
    recorded, whatever the rules say), 1 "portal" (the outbox), 2 + i the
    configuration's triage.destinations[i]. A "raised" goes to every
    destination of every rule it matches (no rules: one rule, everything to
    the portal); a destination with a repeat policy (every_minutes) takes at
    most one "raised" of a device's category that often, the others are
    recorded only. A "changed" or "cleared" goes where its "raised" went
    (the alert's sent_to), so a cleared e-mail always follows a raised one. */
#ifndef ODC_ROUTE_H
#define ODC_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "odc_config.h"
#include "odc_triage.h"

#define ODC_ROUTE_RECORD 0
#define ODC_ROUTE_PORTAL 1

/*  What a rule may ask of the device (NULL: not known, matches no
    pattern). */
typedef struct {
    const char *address;
    const char *location;
    const char *asset_number;
    bool in_hours; /* the collector's clock is in working hours */
} odc_route_device_t;

/*  How many destinations there are (2 + triage.destinations), a name's
    index (-1: none), an index's name and type. */
int odc_route_count (const odc_config_t *c);
int odc_route_index (const odc_config_t *c, const char *name);
const char *odc_route_name (const odc_config_t *c, int index);
odc_dest_type_t odc_route_type (const odc_config_t *c, int index);

/*  Whether rule r takes alert a of device d. */
bool odc_route_rule_matches (const odc_route_rule_t *r, const odc_triaged_t *a,
                             const odc_route_device_t *d);

/*  The destinations (bit i: index i) the rules send a "raised" of a to. */
uint32_t odc_route_match (const odc_config_t *c, const odc_triaged_t *a,
                          const odc_route_device_t *d);

/*  Whether a rule needs the device's location or asset number
    (the caller then looks the device up). */
bool odc_route_needs_device (const odc_config_t *c);

/*  The repeat policy: whether destination index may take a "raised" of
    category at now_ms; when it may, the time is noted in state (the
    oldest note gives way when there is no room). */
bool odc_route_repeat_ok (const odc_config_t *c, int index, odc_device_alerts_t *state,
                          const char *category, uint64_t now_ms);

/*  The destinations named in a sent_to list that still exist. */
uint32_t odc_route_sent (const odc_config_t *c, const char *sent_to);

/*  The mask's names as a sent_to list, in out (cut to size). */
void odc_route_sent_to (const odc_config_t *c, uint32_t mask, char *out, size_t size);

#endif
