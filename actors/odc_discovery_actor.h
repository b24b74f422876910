/*  odc_discovery_actor: sweeps the configured ranges (ranges:) for printers
    on a schedule (discovery.every_hours on the collector's clock, the first
    right after the start; 0: only on command) and when told to (a
    Command discover without ranges on ODC_EP_DISCOVERY, from the IMIL word
    "discover": odc_discovery_request).
    What it finds goes to the registry (ODC_EP_REGISTRY) as Odc__Discovered;
    the sweep itself is snmp/odc_discover.h, at discovery.rate addresses a
    second and discovery.concurrency in flight. Progress and the summary
    are logged; a target it cannot sweep (a name that does not resolve,
    overlapping ranges) is logged with the reason. */
#ifndef ODC_DISCOVERY_ACTOR_H
#define ODC_DISCOVERY_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_discover.h"

typedef struct {
    const odc_config_t *config;
} odc_discovery_args_t;

void odc_discovery_actor (zsock_t *pipe, void *args); /* args: odc_discovery_args_t * */

/*  Ask the discovery actor for a sweep of the configured ranges now. */
int odc_discovery_request (zsock_t *push);

/*  Hand what a sweep found to the registry (push: connected to
    ODC_EP_REGISTRY). Printers only. */
void odc_discovery_report (zsock_t *push, const odc_discover_found_t *found);

#endif
