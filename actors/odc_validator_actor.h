/*  odc_validator_actor: every reading's first consumer; judges it against
    what was accepted before (issue 16, the rules: odc_validate.h).

    Binds ODC_EP_READINGS (the loops' keyed frames, "DEVICE-ID/LOOP" in
    front). Per device and loop it keeps an odc__history (proto/opendca.proto)
    in the store's history family, under the same key: the last accepted
    values of each counter with their times (at most ODC_HISTORY_DEPTH), each
    supply's last level and capacity, the suspicious meter reading waiting
    for a second, and the last ODC_HISTORY_REJECTIONS rejections. It is the
    family's only writer.

      meters    each counter against its history (odc_validate_counter: it
                never goes down but by a 32-bit wrap or a reset the device's
                restart explains; it never rises faster than
                validation.max_pages_per_minute); a counter that vanished or
                came back with another ASN.1 type is suspicious;
      supplies  each level within 0..max or a sentinel, the capacity
                changing only with a replacement (odc_validate_supply); a
                level that rose without one is noted, not rejected;
      trays     each level within 0..max or a sentinel;
      alerts    nothing rejected; a row with index 0 or below or an
                unknown prtAlertGroup is noted;
      identity  passed on untouched (serial and model changes are the
                registry's).

    Times are the collector's clock (clock.speed), so a sped-up test judges
    rates as a real day would.

    An accepted reading goes on as it came: a meter reading to the meters
    actor (ODC_EP_METERS), an alert reading to the triage actor
    (ODC_EP_TRIAGE), a supply reading to the supplies actor
    (ODC_EP_SUPPLIES), any other to the latest actor (ODC_EP_ACCEPTED).
    A suspicious one goes nowhere (the loop reads the device again at its
    next pass): it becomes a Rejection with the reason in the history, and
    a meter reading is kept as pending. The next meter reading, if it
    agrees with the pending one (the same counters, each consistent with
    it), is accepted as the new truth. Either kind of reset (a restart
    with a fresh counter, or two readings that agree) is a DeviceEvent
    METER_RESET for the portal, whose outbox record is written in the same
    batch as the history that accepted it (with a portal). */
#ifndef ODC_VALIDATOR_ACTOR_H
#define ODC_VALIDATOR_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_outbox.h"
#include "odc_store.h"
#include "opendca.pb-c.h"

#define ODC_HISTORY_DEPTH      4 /* accepted values kept per counter */
#define ODC_HISTORY_REJECTIONS 8 /* rejections (and notes) kept per device and loop */

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox; /* NULL: no portal (reset events only logged) */
    bool triage;          /* alert readings to the triage actor (ODC_EP_TRIAGE), else to latest */
    bool supplies; /* supply readings to the supplies actor (ODC_EP_SUPPLIES), else to latest */
} odc_validator_args_t;

void odc_validator_actor (zsock_t *pipe, void *args);

/*  The history of a device and loop (Odc__Loop) from the store, NULL when
    there is none (free with odc__history__free_unpacked). For `opendca
    latest --rejections` and IMIL `show device`. */
Odc__History *odc_history_get (odc_store_t *store, const char *device_id, int loop);

/*  One line for a rejection: "TIME FIELD: REASON (read V, last accepted
    P)", into out. */
void odc_rejection_format (const Odc__Rejection *r, char *out, size_t size);

#endif
