/*  odc_supplies_actor: each supply's part number and run-out forecast, and
    the supply requests (issue 18).

    Binds ODC_EP_SUPPLIES. Takes the validator's accepted supply readings
    (keyed frames) and the meters actor's PageCount of every accepted meter
    reading (the device's page count: the clock use goes by). Per device it
    keeps a DeviceSupplies (proto/opendca.proto) in the store's supplies
    family, key the device id; it is the family's only writer. Per supply:
    the readings of its cartridge (of a run at one level the first and the
    last, the newest ODC_SUPPLY_POINTS), when it was fitted and replaced,
    the request open for it.

    Each supply of a reading gets its SKU, kind and colour
    (snmp/odc_supplies.h, the rules of snmp/supply-rules.tsv) and its
    forecast (actors/odc_forecast.h: percent left, days and pages left with
    a range, the points used, or why there is none), and the reading goes
    on, keyed as it came, to the latest actor (ODC_EP_ACCEPTED): the supply
    record to the portal and `show device` carry them.

    Events (DeviceEvent, to the portal in the batch of the state that made
    them, and to triage for routing when it runs):
      SUPPLY_REPLACED   the level jumped up (a receptacle: down) by
                        ODC_FORECAST_JUMP: a new cartridge; with the pages
                        printed over the one that came out (partial when it
                        was fitted before the collector first read it);
      SUPPLY_REQUEST    once per cartridge, when the forecast says empty
                        within the request's days or what is left is below
                        its percent (supplies.request_days, 7, and
                        request_percent, 5; supplies.requests per kind and
                        device group);
      SUPPLY_WITHDRAWN  the cartridge was replaced while its request was
                        open.
    A rules file that does not load is logged and readings go on without
    SKUs: it never loses a reading. */
#ifndef ODC_SUPPLIES_ACTOR_H
#define ODC_SUPPLIES_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_outbox.h"
#include "odc_store.h"
#include "opendca.pb-c.h"

#define ODC_SUPPLY_POINTS 260 /* readings kept per cartridge: 128 changes of level and more */
#define ODC_SUPPLY_STATES 64  /* supplies kept per device */

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;   /* NULL: no portal (events only logged) */
    const char *rules_path; /* snmp/supply-rules.tsv */
    bool triage;            /* the events to triage as well (ODC_EP_TRIAGE): routing */
} odc_supplies_args_t;

void odc_supplies_actor (zsock_t *pipe, void *args);

/*  What the store holds of a device (NULL: nothing), for `show device`
    and the tests; the caller frees it (odc__device_supplies__free_unpacked). */
Odc__DeviceSupplies *odc_supplies_get (odc_store_t *store, const char *device_id);

/*  The request thresholds for a supply of kind at address: the first of
    supplies.requests that matches, else the defaults. */
void odc_supplies_thresholds (const odc_config_t *config, const char *kind, const char *address,
                              int *days, int *percent);

#endif
