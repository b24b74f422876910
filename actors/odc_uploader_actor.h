/*  odc_uploader_actor: decides what the portal gets, and when, and puts it in
    the outbox (store/odc_outbox.h), from where the bridge sends it.

    Binds ODC_EP_UPLOAD. Takes every reading the latest actor stored, and
    commands (send_meters: a device id, or all) from the IMIL commands:

      kind     record   priority  sent
      alert    alert    urgent    when hrDeviceStatus, the error bits or the
                                  alert counters differ from what was last
                                  sent (the alert table rides along when
                                  read; idle / printing is no news)
      identity asset    normal    when anything but the uptime changed
      supply   supply   normal    when a percent changed (a level without
                                  one: its sentinel), a request opened or
                                  closed, the days left moved by a day,
                                  and all once a day
      tray     tray     normal    when a tray's contents, status or level by
                                  quarter changed, or a cover's status
      meter    meters   bulk      once a day at portal.meters_at (collector's
                                  clock), and at once on send_meters

    Readings of one kind are gathered into one record (an Odc__Batch):
    alerts for at most 1 s, the others for at most 10 s, at most 500 per
    record. A record is in the store (synced when store.sync is on) before
    the reading counts as uploaded; then the bridge is woken (OutboxGrew on
    ODC_EP_OUTBOX). The registry's events are not the uploader's: the
    registry writes their records with its own changes.

    Exactly once: what was last sent per device and loop (a hash of what
    counts as a change, and the read time) is kept in the store, in the
    latest family under "ID/LOOPs" beside the reading "ID/LOOP", written in
    the same batch as the outbox record that carries the reading (a
    reading is known as sent if and only if its record is in the outbox).
    At the start the uploader walks the latest family: it learns what was
    sent (a restart sends nothing the portal had again), and puts in the
    outbox the stored readings that had not reached it when the collector
    stopped (what it was gathering at a kill -9 or a crash). A store from
    before this is taken as all sent, once (meta "upload/sent" marks it).

    Daily uploads and send_meters walk the store's latest readings, so they
    send the last reading of every device even when it was taken days ago,
    but not one already sent (its read time at or before the sent one's). */
#ifndef ODC_UPLOADER_ACTOR_H
#define ODC_UPLOADER_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "opendca.pb-c.h"
#include "odc_outbox.h"
#include "odc_store.h"

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
} odc_uploader_args_t;

void odc_uploader_actor (zsock_t *pipe, void *args);

/*  Ask the uploader (from any thread, on a PUSH socket of that thread
    connected to ODC_EP_UPLOAD) to send the latest meters of one device id,
    or of all when device_id is NULL. 0 / -1. */
int odc_uploader_request_meters (zsock_t *push, const char *device_id);

#endif
