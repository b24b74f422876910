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

    The registry is the only writer of the devices and index families in a
    running collector. Besides what it learns, it takes the configuration's
    devices (at its start, before the loops, and with every new
    configuration) and device lists (a DeviceList on ODC_EP_DEVICES, REQ ->
    REP, from the commands actor: an import, the portal's list), answered
    with a DeviceListTaken. The changes of one wake-up (at most S_BATCH_MAX
    events) are written in one batch, and with a portal the events' outbox
    record (kind "event": each a DeviceEvent, what the portal gets and
    nothing else) in the same batch, after which the bridge is woken
    (OutboxGrew). Each event is logged ("device event TYPE: ..."); when the
    device set changed, the loops are told to read their list again (a
    DeviceSetChanged on ODC_EP_DEVICE_SET, odc_bus_device_set_send).

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
#include "odc_outbox.h"
#include "odc_store.h"

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox; /* a portal: the events' records go here; NULL: none */
    bool triage;          /* moves, replacements, MAC changes, missing and returned
                             devices to triage (ODC_EP_TRIAGE), once written */
} odc_registry_args_t;

void odc_registry_actor (zsock_t *pipe, void *args); /* args: odc_registry_args_t * */

/*  Event type names: "new", "moved", ... (index: Odc__DeviceEventType). */
extern const char *const odc_registry_event_names[7];

/*  What the portal gets of an event about device d (NULL: none) raised at
    at_ms: its fields from d's (ev shares d's strings). The registry's own
    rule, used by the schema check of every event type. */
void odc_registry_event_fill (Odc__DeviceEvent *ev, const Odc__Device *d, uint64_t at_ms);

#endif
