/*  odc_meters: canonical meters from raw page counters (issue 16).

    The rules are data (snmp/meter-rules.tsv, whose header says the format
    and names the public sources): per maker, which raw counters of a meter
    reading add up to which canonical meter, with alternatives for the model
    families that answer other counters. Applying them is a pure function
    of the reading: the meters actor (actors/odc_meters_actor.c) calls it
    for every accepted meter reading, `opendca poll` and the golden files
    for a reading of their own.

    Every canonical meter records its derivation (the raw counters it was
    made of), so a billing analyst can audit it; a meter no rule makes from
    what the device answered is absent, never guessed. */
#ifndef ODC_METERS_H
#define ODC_METERS_H

#include <stddef.h>
#include <stdint.h>

#include "opendca.pb-c.h"

typedef enum {
    ODC_METER_TOTAL = 0,
    ODC_METER_MONO,
    ODC_METER_COLOUR,
    ODC_METER_FULL_COLOUR,
    ODC_METER_TWO_COLOUR,
    ODC_METER_SINGLE_COLOUR,
    ODC_METER_LARGE,
    ODC_METER_SMALL,
    ODC_METER_A4_EQUIVALENT,
    ODC_METER_DUPLEX,
    ODC_METER_COPY,
    ODC_METER_PRINT,
    ODC_METER_FAX,
    ODC_METER_SCAN,
    ODC_METER_COUNT
} odc_meter_t;

/*  "total", "mono", ... in odc_meter_t order. */
extern const char *const odc_meter_names[ODC_METER_COUNT];
/*  The meter of a name, -1 for none. */
int odc_meter_of_name (const char *name);

/*  Bounds on the rules file (a file from outside: each is an error naming
    the line when passed). */
#define ODC_METER_RULES_MAX 4096 /* lines */
#define ODC_METER_TERMS_MAX 16   /* terms of one alternative */
#define ODC_METER_ALTS_MAX  8    /* alternatives of one line */

typedef struct odc_meter_rules odc_meter_rules_t;

/*  Load the rules (TSV, see the file's header). NULL with *error (the
    caller frees) naming the file, the line and the reason. */
odc_meter_rules_t *odc_meter_rules_load (const char *path, char **error);
void odc_meter_rules_destroy (odc_meter_rules_t **self_p);
/*  How many lines were loaded. */
size_t odc_meter_rules_count (const odc_meter_rules_t *self);

/*  Roll r's counters up into r->canonical (what was there is replaced) for
    the maker r->enterprise, and set r->rules to the rule set that applied
    ("1602" and/or "*"). Returns the number of canonical meters. */
size_t odc_meters_rollup (const odc_meter_rules_t *rules, Odc__MeterReading *r);

/*  The canonical meter name of r, NULL when absent. */
const Odc__CanonicalMeter *odc_meters_find (const Odc__MeterReading *r, const char *name);

#endif
