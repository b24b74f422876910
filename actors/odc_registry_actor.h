/*  odc_registry_actor: the device list, identity matching, and the
    moves-and-changes events.

    Binds ODC_EP_REGISTRY. Takes the identity readings the latest actor
    stored and what discovery sweeps find (Odc__Discovered), and keeps the
    store's "devices" family (store/odc_devices.h), with an "index" family
    that finds a device by serial ("s/MAKER/SERIAL"), MAC ("m/MAC") and
    address ("a/ID-OF-ADDRESS"); an index entry is trusted only when the
    device it names still says so.

    A device's identity is its serial number with its maker, then its MAC
    address (when it has no serial), then its address (when it has
    neither). Events, each raised once:

      new          a device the registry did not know answers (at a listed
                   address, or found by discovery)
      moved        a known serial (MAC) answers at another address; the
                   device keeps its id, a placeholder at the new address is
                   merged into it, a device that was there is "lost"
      replaced     another serial answers at a device's address: a new
                   device (new id, odc_device_fresh_id), the old one removed
      mac_changed  same serial, another MAC
      missing      not seen (no identity reading, not found by discovery)
                   for registry.missing_after_hours
      returned     seen again after missing

    With a portal, each event goes to the uploader with the device records
    it changes: both are written in one batch (actors/odc_uploader_actor.h).
    Without one, the registry writes the records itself. Either way each
    event is logged ("device event TYPE: ...") and the loops are told to
    read the device list again (a DeviceSetChanged on the bus, from the
    actor that wrote the records: odc_bus_device_set_send).

    An identity reading that says what the device's record says (address,
    serial, MAC, maker, model) is only counted as seen, without a look at
    the store; the record's last-seen time is written every eighth of
    missing_after. At start the registry takes that from the store's
    records, so a restart does not look every device up again. */
#ifndef ODC_REGISTRY_ACTOR_H
#define ODC_REGISTRY_ACTOR_H

#include <czmq.h>
#include <stdbool.h>

#include "odc_config.h"
#include "odc_store.h"

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    bool upload; /* a portal: events go to the uploader */
} odc_registry_args_t;

void odc_registry_actor (zsock_t *pipe, void *args); /* args: odc_registry_args_t * */

/*  Event type names: "new", "moved", ... (index: Odc__DeviceEventType). */
extern const char *const odc_registry_event_names[7];

#endif
