/*  odc_bridge_actor: the collector's one XMPP connection to the portal.

    One thread owns libstrophe (it is not thread-safe). It connects as
    portal.jid to portal.host (default: the JID's domain), trying
    portal.ports in order (5222, then 443) and keeping the first that works;
    STARTTLS is required and the server's certificate is verified against the
    JID's domain, with the system's CAs and portal.ca_file; a certificate that
    fails is refused and the reason logged. A lost connection is retried
    with exponential back-off (1 s doubling to 5 min, +-25 % jitter).

    Sending: the outbox's records in delivery order, each as
        <iq type='set' to=portal.portal_jid id='INSTANCE-CLASS-SEQ'>
          <batch xmlns='urn:opendca:portal:1' kind= seq= count= created=>...
    (odc_xml.h), at most S_WINDOW unacknowledged at a time. A record is
    deleted from the outbox only on the portal's result for its id; after a
    reconnect everything not acknowledged is sent again (the portal drops
    what it has by id). INSTANCE is a random number made when the store was
    created, so a collector whose store was wiped is not taken for a
    duplicate.

    Receiving: chat messages from the JIDs of portal.trusted are IMIL
    commands (odc_imil.h), answered in a chat message to the sender; from
    anyone else they are logged and ignored. iq get/set other than ping get
    service-unavailable.

    libstrophe waits with select(): its socket must be below FD_SETSIZE.
    The SNMP engine keeps its sockets above ODC_SNMP_FD_FLOOR for that; a
    socket that still lands too high is refused with a log line rather
    than overrun select()'s set. */
#ifndef ODC_BRIDGE_ACTOR_H
#define ODC_BRIDGE_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_outbox.h"
#include "odc_store.h"

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
} odc_bridge_args_t;

void odc_bridge_actor (zsock_t *pipe, void *args);

#endif
