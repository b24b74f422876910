/*  odc_latest_actor: keeps the last reading of every device and loop.

    Binds ODC_EP_ACCEPTED and writes each accepted reading (from the
    validator, meter readings from the meters actor with their canonical
    meters), as its packed envelope, to the store's "latest" family under
    "DEVICE-ID/LOOP", the key the loop sent in front of it
    (odc_bus_send_keyed: the reading is never unpacked here): what arrives
    within 50 ms goes in one batch, not synced (a latest reading lost in a
    power cut is read again on the next pass).
    `opendca latest` reads them back. With upload set, it then hands each
    reading, as it came, to the uploader (ODC_EP_UPLOAD); with registry,
    each identity reading to the registry (ODC_EP_REGISTRY). */
#ifndef ODC_LATEST_ACTOR_H
#define ODC_LATEST_ACTOR_H

#include <czmq.h>

#include "odc_store.h"

typedef struct {
    odc_store_t *store;
    bool upload;
    bool registry; /* identity readings to the registry (ODC_EP_REGISTRY) */
} odc_latest_args_t;

void odc_latest_actor (zsock_t *pipe, void *args); /* args: odc_latest_args_t * */

/*  The key of a device's latest reading of a loop (loop as in Odc__Loop). */
void odc_latest_key (char *out, size_t size, const char *device_id, int loop);
/*  The other way: the loop of such a key (1-5), and the length of its device
    id in id_len; -1 when the key is not one. */
int odc_latest_key_loop (const void *key, size_t klen, size_t *id_len);

#endif
