/*  odc_xml: the XML the collector sends to the portal, and back.

    One rule maps every record to XML and back, from the protobuf
    descriptors of proto/opendca.proto (bridge/README.md has the schema and
    an example of each record):

      - a record is an element named after its kind (asset, alert, meters,
        supply, tray) holding the reading's fields;
      - a scalar field is an attribute of the field's name (omitted when it
        has its default value: 0, "", false);
      - a message field, and each item of a repeated field, is a child
        element of the field's name;
      - numbers and enums in decimal, bytes in hex, text from devices
        cleaned (odc_xml_clean): backslash, control characters, bytes that
        are not UTF-8 and code points XML 1.0 forbids become \xNN, a
        backslash \\, so any octet string survives the trip.

    A batch is <batch xmlns=ODC_XML_NS kind= seq= count=> with the records as
    children, or, compressed, encoding='deflate' and the records' XML
    deflated (zlib) and base64-coded as its text.

    Reading XML back is strict about structure (an unknown child element,
    a bad number or a nesting deeper than the schema is an error with a
    reason) and lenient about unknown attributes (a newer collector may send
    more). */
#ifndef ODC_XML_H
#define ODC_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

#include "opendca.pb-c.h"

#define ODC_XML_NS "urn:opendca:portal:1"

/*  The resource the portal receiver binds; collectors send to
    portal.portal_jid + "/" ODC_PORTAL_RESOURCE when it is a bare JID. */
#define ODC_PORTAL_RESOURCE "receiver"
/*  The resource a collector binds, so that the portal can address iqs to it
    (a device list) at COLLECTOR-JID "/" ODC_COLLECTOR_RESOURCE. */
#define ODC_COLLECTOR_RESOURCE "opendca"
/*  At most this many devices in one pushed list. */
#define ODC_XML_DEVICES_MAX 200000

/*  Bounds on what is taken from the wire. */
#define ODC_XML_BATCH_MAX_ITEMS 100000
#define ODC_XML_INFLATE_MAX     (64u << 20)

/*  The record kind of a reading's envelope ("asset", "alert", "meters",
    "supply", "tray"), NULL for other bodies. */
const char *odc_xml_kind (const Odc__Envelope *env);

/*  Text made safe for XML, as described above; the caller frees it. */
char *odc_xml_clean (const char *text, size_t len);
/*  The original bytes back; *len gets their count. NULL on a bad escape. */
char *odc_xml_unclean (const char *text, size_t *len);

/*  A reading as a record element; NULL when the envelope is no reading. */
xmpp_stanza_t *odc_xml_record (xmpp_ctx_t *ctx, const Odc__Envelope *env);

/*  A record element back to an envelope (free with
    odc__envelope__free_unpacked (env, NULL)); NULL and *err (caller frees)
    when it is not a valid record. */
Odc__Envelope *odc_xml_envelope (const xmpp_stanza_t *record, char **err);

/*  A batch element for the outbox record (kind, seq, payload: a packed
    Odc__Batch). *plain gets the size of the records' XML, *wire the size of
    what is sent in its place (equal unless compressed). NULL with *err
    (the caller frees; err may be NULL) when the payload does not unpack or
    one of its readings cannot be written as XML: a batch never leaves a
    reading out. */
xmpp_stanza_t *odc_xml_batch (xmpp_ctx_t *ctx, const Odc__OutboxRecord *record, bool compress,
                              size_t *plain, size_t *wire, char **err);

/*  The largest stanza the collector sends (a batch in its iq): half of
    Prosody 0.12's default c2s_stanza_size_limit (256 KiB), so that a server
    with the default, and the iq's own envelope, always have room. A batch
    that would be larger is split by the bridge; a single reading that
    would be is refused with its reason (bridge/README.md). */
#define ODC_XML_STANZA_MAX (128u << 10)

/*  The records of a batch element: a new array of envelopes in *items
    (free with odc_xml_items_free). Returns how many, -1 with *err. */
long odc_xml_batch_items (xmpp_ctx_t *ctx, const xmpp_stanza_t *batch, Odc__Envelope ***items,
                          char **err);
void odc_xml_items_free (Odc__Envelope **items, long count);

#endif
