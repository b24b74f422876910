/*  odc_devices: the device list, kept in the store's "devices" family.

    Each device is one packed Odc__Device under its id. The id is the
    address for the standard port ("192.0.2.7") and "ADDRESS:PORT"
    otherwise ("192.0.2.7:1161"); readings carry it in their header and the
    "latest" family is keyed by it.

    In a running collector the registry (actors/odc_registry_actor.h) is
    the only writer of this family and of "index": the configuration's
    devices (odc_devices_sync_config at its start and at every reload), the
    lists of imports and of the portal (odc_devices_sync, one source each;
    devices of other sources are left alone) and what it learns by
    identity readings and discovery (odc_devices_stage, written with the
    event's outbox record). The loops read their list back with
    odc_devices_each. `opendca import` without a running collector calls
    odc_devices_sync itself: the store is then its process's alone.

    What a loop learns about a device and must not ask again after a
    restart (the meter loop's vendor counter probe) is kept beside it with
    odc_devices_note_put / _get, in the "meta" family under
    "note/WHAT/ID". */
#ifndef ODC_DEVICES_H
#define ODC_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "odc_config.h"
#include "odc_devlist.h"
#include "odc_store.h"
#include "opendca.pb-c.h"

/*  A new device's id: the address's id, or with "#2", "#3", ... when
    taken (id) says that one is taken (by a device that moved away or was
    replaced). */
typedef bool (odc_device_taken_fn) (const char *id, void *arg);
void odc_device_fresh_id (char *out, size_t size, const char *address, int port,
                          odc_device_taken_fn *taken, void *arg);

/*  Bring the family in step with config's devices. Returns the number of
    configured devices stored, or -1 on a store error (logged). *added and
    *removed (may be NULL) get the counts of what changed. */
long odc_devices_sync_config (odc_store_t *store, const odc_config_t *config, size_t *added,
                              size_t *removed);

/*  The same for the device list of any source ("config", "portal",
    "import"): the family in step with devices for that source, devices of
    other sources left alone. config gives the credentials' versions.
    A listed address is matched with the device that is at it now (the
    registry moves devices between addresses and keeps their ids); one that
    no device holds gets a new device (odc_device_fresh_id). A device that
    moved away from a listed address belongs to "discovery" since, so the
    list no longer removes it. */
long odc_devices_sync (odc_store_t *store, const char *source, const odc_device_config_t *devices,
                       size_t device_count, const odc_config_t *config, size_t *added,
                       size_t *removed);

/*  The "index" family's keys of a device: "s/MAKER/SERIAL" (when it has
    a serial), "m/MAC" (a MAC), "a/ID-OF-ADDRESS" (an address). Returns how
    many (0-3) it wrote into keys. */
#define ODC_INDEX_KEY_MAX 160
int odc_devices_index_keys (const Odc__Device *d, char keys[3][ODC_INDEX_KEY_MAX]);
void odc_devices_index_key_serial (char *out, size_t size, const char *maker, const char *serial);

/*  Stage a device record and its index entries into batch. */
void odc_devices_stage (odc_store_t *store, odc_batch_t *batch, const Odc__Device *d);

/*  Stage the removal of a device that was replaced: its record deleted
    with its latest readings, its id retired. */
void odc_devices_stage_removal (odc_store_t *store, odc_batch_t *batch, const char *id);

/*  Whether id was a device's that was removed (replaced): ids are never
    given again. */
bool odc_devices_retired (odc_store_t *store, const char *id);

/*  Call fn for every device, in id order; fn returns 0 to go on. The
    device is only valid during the call. Returns the number visited, -1 on
    error. */
typedef int (odc_devices_fn) (const Odc__Device *device, void *arg);
long odc_devices_each (odc_store_t *store, odc_devices_fn *fn, void *arg);

/*  One device by id, or NULL; free with odc__device__free_unpacked. */
Odc__Device *odc_devices_get (odc_store_t *store, const char *id);

/*  A note about a device: a short text under (what, id). put returns 0 / -1
    (not synced: a lost note is learnt again); get returns a string the
    caller frees, or NULL. */
int odc_devices_note_put (odc_store_t *store, const char *what, const char *id, const char *text);
/*  The same put, staged in a batch the caller writes (many notes, one
    write). */
void odc_devices_note_stage (odc_store_t *store, odc_batch_t *batch, const char *what,
                             const char *id, const char *text);
char *odc_devices_note_get (odc_store_t *store, const char *what, const char *id);

#endif
