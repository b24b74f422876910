/*  odc_meters_actor: the meter roll-up (issue 16). Binds ODC_EP_METERS,
    takes the validator's accepted meter readings (keyed frames), adds the
    canonical meters (snmp/odc_meters.h, the rules of
    snmp/meter-rules.tsv) with the derivation of each, and hands them on,
    keyed as they came, to the latest actor (ODC_EP_ACCEPTED). Rules that
    do not load are logged and the readings go on without canonical
    meters: a broken rules file never loses a reading. With supplies set,
    the device's page count of each reading (its canonical total, else
    the largest prtMarkerLifeCount) goes to the supplies actor as a
    PageCount, without blocking (one lost is one point less). */
#ifndef ODC_METERS_ACTOR_H
#define ODC_METERS_ACTOR_H

#include <czmq.h>

typedef struct {
    const char *rules_path; /* snmp/meter-rules.tsv */
    bool supplies;          /* each reading's page count to the supplies actor (ODC_EP_SUPPLIES) */
} odc_meters_args_t;

void odc_meters_actor (zsock_t *pipe, void *args);

#endif
