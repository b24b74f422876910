/*  odc_latest_actor: keeps the last reading of every device and loop.

    Binds ODC_EP_READINGS and writes each reading, as its packed envelope,
    to the store's "latest" family under "DEVICE-ID/LOOP" (odc_devices.h):
    what arrives within 50 ms goes in one batch, not synced (a latest
    reading lost in a power cut is read again on the next pass). It stands where the validator will stand
    (ARCHITECTURE.md): the readings' first consumer.
    `opendca latest` reads them back. */
#ifndef ODC_LATEST_ACTOR_H
#define ODC_LATEST_ACTOR_H

#include <czmq.h>

#include "odc_store.h"

void odc_latest_actor (zsock_t *pipe, void *args); /* args: odc_store_t * */

/*  The key of a device's latest reading of a loop (loop as in Odc__Loop). */
void odc_latest_key (char *out, size_t size, const char *device_id, int loop);

#endif
