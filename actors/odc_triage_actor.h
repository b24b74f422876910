/*  odc_triage_actor: the device's open alerts, and each alert's events to
    the portal once (issue 17; the rules: actors/odc_triage.h).

    Binds ODC_EP_TRIAGE: the validator's accepted alert readings (keyed
    "DEVICE-ID/1"), and the alert loop's "no answer" readings. Per device
    it keeps an odc.DeviceAlerts in the store's "alerts" family (its only
    writer): the open alerts, the clears waiting out the repeat window, the
    table as last read, the passes without an answer. Each reading's
    "raised", "changed" and "cleared" events (AlertEvent) go into one outbox
    record per drain, written in the same batch as the states that made
    them: a restart never has one without the other. Each event goes where
    the routing rules say (actors/odc_route.h): the portal's record, and a
    Notice in the notify queue per e-mail recipient or program, in that
    same batch; the notify actor delivers them.

    The readings go on to the latest actor (ODC_EP_ACCEPTED) as they came,
    but a reading without a table read carries the rows of the last one
    (so the stored latest reading and "show device" keep the device's
    alerts), and a "no answer" reading goes no further. Once a second
    (tick) the clears whose window has passed are told. */
#ifndef ODC_TRIAGE_ACTOR_H
#define ODC_TRIAGE_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_outbox.h"
#include "odc_store.h"

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;   /* NULL: no portal (events only logged) */
    odc_outbox_t *notify;   /* the notify queue; NULL: no e-mail or exec destinations */
    const char *codes_path; /* snmp/alert-codes.tsv */
} odc_triage_args_t;

void odc_triage_actor (zsock_t *pipe, void *args);

#endif
