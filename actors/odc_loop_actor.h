/*  odc_loop_actor: one monitoring loop (alert, identity, meter, supply or
    tray) as an actor: its own thread, SNMP engine, schedule and window.

    A pass reads every device once. Its interval comes from the configuration
    (in or out of working hours, judged at the start of the pass); the
    devices are spread evenly over its first 80 %, so the network sees a
    steady trickle rather than a burst, and slow or silent devices have the
    rest of the interval to finish. A pass that is not done when the next is due is
    followed by the next at once. A device that does not answer is tried
    again on later passes with back-off (1, 2, 4, up to 8 passes), except
    by the alert loop, which tries every device on every pass (with no
    retries once it is known silent) so that its return is noticed within
    one alert interval. The window of requests in flight adapts to what is
    needed to finish the pass in time and to the timeouts seen, within
    snmp.window_min and snmp.window_max.

    The devices come from the store's devices family (odc_devices.h), read
    at start and again when a new configuration is applied; the meter
    loop's vendor counter probe is kept there too, so a restart does not
    probe again.

    Each reading goes out on the bus (ODC_EP_READINGS) as an envelope,
    except the alert loop's when it says what the last one sent said (sent
    again after an hour all the same; snmp/README.md). At
    the end of every pass the actor logs what it did: duration against the
    interval, devices read, failed and skipped, requests, bytes, timeouts
    and its CPU time. */
#ifndef ODC_LOOP_ACTOR_H
#define ODC_LOOP_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_store.h"

typedef struct {
    odc_loop_t loop;
    const odc_config_t *config; /* the first configuration; later ones come by CONFIG */
    odc_store_t *store;         /* the device list (devices family) and what is learnt */
    const char *vendor_map;     /* path of vendor-counters.tsv (meter loop) */
} odc_loop_args_t;

void odc_loop_actor (zsock_t *pipe, void *args);

#endif
