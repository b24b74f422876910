/*  odc_alerts: one opendca code and category for what a printer reports
    (issue 17).

    The map is data (snmp/alert-codes.tsv, whose header says the format and
    names the sources): a prtAlertTable row by (maker, group, prtAlertCode)
    or, where the code says nothing (other, unknown), by a pattern of its
    description; a hrPrinterDetectedErrorState bit by its number. The first
    line that matches decides; maker lines come before the lines for all
    makers. Nothing matched is "other" in category "information": the raw
    code, group, location and text always travel with the alert, so
    nothing is lost by mapping. Classifying is a pure function: the triage
    actor (actors/odc_triage.c) calls it for every row and bit, the golden
    files for the rows of the real recordings. */
#ifndef ODC_ALERTS_H
#define ODC_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opendca.pb-c.h"

/*  Bounds on the file (from outside: each an error naming the line). */
#define ODC_ALERT_CODES_MAX   2048 /* lines */
#define ODC_ALERT_PATTERN_MAX 256  /* bytes of a text pattern */

typedef struct odc_alert_codes odc_alert_codes_t;

/*  What a row or a bit is. code, category: names from the file, or
    "other" / "information"; severity: the file's for a bit ("critical",
    "warning", "information"), NULL for a row (the row's own severity
    stands); status: not an alert at all (a "Ready" or "Sleep" row, cover
    closed): never raised. */
typedef struct {
    const char *code;
    const char *category;
    const char *severity;
    bool status;
} odc_alert_class_t;

/*  Load the map. NULL with *error (the caller frees) naming the file, the
    line and the reason. */
odc_alert_codes_t *odc_alert_codes_load (const char *path, char **error);
void odc_alert_codes_destroy (odc_alert_codes_t **self_p);
size_t odc_alert_codes_count (const odc_alert_codes_t *self);
/*  Whether code is one an alert can have: a line's, or the collector's own
    (not_responding, unavailable, moved, replaced, mac_changed,
    supply_request; other). */
bool odc_alert_codes_knows (const odc_alert_codes_t *self, const char *code);

/*  A prtAlertTable row of a device of maker enterprise (0: not known, only
    the lines for all makers apply). */
odc_alert_class_t odc_alert_classify_row (const odc_alert_codes_t *self, uint32_t enterprise,
                                          int group, int code, const char *description);
/*  A hrPrinterDetectedErrorState bit (0 lowPaper .. 15). */
odc_alert_class_t odc_alert_classify_bit (const odc_alert_codes_t *self, uint32_t enterprise,
                                          int bit);

/*  Each of the n rows' standard and category set (to strings of self, or
    static ones: never freed); the pointers they had go to saved (2 n),
    for odc_alert_rows_restore before an unpacked reading is freed. */
void odc_alert_classify_rows (const odc_alert_codes_t *self, uint32_t enterprise, Odc__Alert **rows,
                              size_t n, char **saved);
void odc_alert_rows_restore (Odc__Alert **rows, size_t n, char **saved);

/*  prtAlertSeverityLevel as a name: 3 critical; 4, 5 warning (5: a binary
    change event); anything else information. */
const char *odc_alert_severity_name (int severity);
/*  prtAlertTrainingLevel as a name: untrained, trained, field_service,
    management, none (noInterventionRequired), unknown. */
const char *odc_alert_training_name (int training);

#endif
