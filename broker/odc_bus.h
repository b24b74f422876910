/*  odc_bus: the names and the rules of the in-process message bus.

    Actors talk only by protobuf envelopes (proto/opendca.proto) over ZeroMQ
    inproc sockets. Data sockets are PUSH/PULL with high-water marks, and a send
    blocks while the peer's queue is full: back-pressure, never a silent drop.

    Ownership:
    - odc_bus_send packs the envelope into a new frame and sends it. The caller
      keeps its envelope (usually built on the stack) and frees nothing it did
      not allocate itself; the frame belongs to ZeroMQ, then to the receiver.
    - odc_bus_recv receives one frame, unpacks it, checks the version, calls the
      handler for its body with a const envelope, then frees the envelope. A
      handler must not keep pointers into it: copy what it needs.
    - odc_bus_recv_envelope hands the unpacked envelope to the caller, who frees
      it with odc_bus_envelope_free.

    Messages from inside the process are trusted: a frame that does not unpack,
    a wrong version or a body nobody handles is a bug and asserts. */
#ifndef ODC_BUS_H
#define ODC_BUS_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "odc_config.h"
#include "opendca.pb-c.h"

#define ODC_ENVELOPE_VERSION 1

/*  Endpoint names. Each is bound by the actor named after the arrow. */
#define ODC_EP_READINGS "inproc://odc.readings" /* loops -> validator */
#define ODC_EP_METERS   "inproc://odc.meters"   /* validator -> meters: accepted meter readings */
#define ODC_EP_ACCEPTED "inproc://odc.accepted" /* validator, meters, triage -> latest */
/*  validator -> supplies: accepted supply readings; meters -> supplies: PageCount */
#define ODC_EP_SUPPLIES "inproc://odc.supplies"
#define ODC_EP_TRIAGE                                                                              \
    "inproc://odc.triage" /* validator, registry -> triage: alert readings, device events */
#define ODC_EP_UPLOAD    "inproc://odc.upload"    /* latest, commands -> uploader */
#define ODC_EP_REGISTRY  "inproc://odc.registry"  /* latest, discovery, commands -> registry */
#define ODC_EP_DISCOVERY "inproc://odc.discovery" /* commands -> discovery: Command */
#define ODC_EP_COMMANDS  "inproc://odc.commands"  /* bridge -> commands: Command */
#define ODC_EP_REPLIES   "inproc://odc.replies"   /* commands -> bridge: Reply */
/*  commands -> registry, REQ -> REP: a DeviceList, answered by a
    DeviceListTaken (the registry is the only writer of the devices family). */
#define ODC_EP_DEVICES "inproc://odc.devices"
/*  loops, bridge -> commands: LoopStatus, PortalStatus (never blocking:
    odc_bus_try_send; a status lost to a full queue is sent again with the
    next change). */
#define ODC_EP_STATUS "inproc://odc.status"
/*  uploader, registry -> bridge: OutboxGrew, after a commit (never
    blocking: a full queue means the bridge has wake-ups waiting). */
#define ODC_EP_OUTBOX "inproc://odc.outbox"
/*  triage -> notify: OutboxGrew of the notify queue, after a commit (never
    blocking, as ODC_EP_OUTBOX). */
#define ODC_EP_NOTIFY "inproc://odc.notify"
/*  "The device set changed" (DeviceSetChanged), PUB -> SUB: the registry
    binds it (odc_bus_device_set_pub); the loops subscribe
    (odc_bus_device_set_sub) and read their list again at the end of a pass. */
#define ODC_EP_DEVICE_SET "inproc://odc.device-set"

/*  Default high-water mark of data sockets, in messages, on each side. */
#define ODC_BUS_HWM 1000

/*  Bind a PULL socket (the consumer's end) / connect a PUSH socket (the
    producer's end). hwm <= 0 takes ODC_BUS_HWM. Linger is 0: on shutdown a
    message still queued in memory is lost, which the data path allows (a
    reading lost in memory is read again on the next pass; what must not be
    lost is already in the store). NULL on failure. */
zsock_t *odc_bus_pull_bind (const char *endpoint, int hwm);
zsock_t *odc_bus_push_connect (const char *endpoint, int hwm);

/*  Pack and send. Sets env->version and env->sent_ms. Blocks while the
    peer's queue is full. 0, or -1 when the socket or context is closing. */
int odc_bus_send (zsock_t *sock, Odc__Envelope *env);

/*  Same without blocking: -1 with errno EAGAIN when the queue is full. */
int odc_bus_try_send (zsock_t *sock, Odc__Envelope *env);

/*  Send the envelope after a frame that holds key (the readings' store key,
    "DEVICE-ID/LOOP"), so a consumer that files frames by key never unpacks
    them. odc_bus_recv_keyed takes both: 0 with key and frame set (the
    caller closes both messages), -1 when the socket closes. */
int odc_bus_send_keyed (zsock_t *sock, const char *key, Odc__Envelope *env);
/*  The same without blocking: -1 with errno EAGAIN when the queue is full
    (or no peer is there), nothing sent. */
int odc_bus_try_send_keyed (zsock_t *sock, const char *key, Odc__Envelope *env);
int odc_bus_recv_keyed (zsock_t *sock, zmq_msg_t *key, zmq_msg_t *frame);
/*  The packed DeviceEvents of events (a zlistx_t of zframe_t, emptied)
    to triage (sock, connected to ODC_EP_TRIAGE), keyed "DEVICE-ID/event",
    from source, without blocking (triage may be stopping); send false:
    the list only emptied (its batch was not written). Each one triage did
    not take adds to *lost; the first of all is logged. The registry's and
    the supplies actor's way of having their events made alerts. */
void odc_bus_events_to_triage (zsock_t *sock, zlistx_t *events, bool send, const char *source,
                               uint64_t *lost);
/*  Pass a keyed frame on as it came (the validator, the meters actor):
    both messages are sent, and so emptied (the caller still closes them,
    which is harmless). 0, or -1 when the socket closes. */
int odc_bus_forward_keyed (zsock_t *sock, zmq_msg_t *key, zmq_msg_t *frame);

typedef void (odc_bus_handler_fn) (const Odc__Envelope *env, void *arg);

/*  One handler per body case (ODC__ENVELOPE__BODY_*), NULL for none. */
typedef struct {
    odc_bus_handler_fn *on[ODC__ENVELOPE__BODY_PAGE_COUNT + 1]; /* the last body */
} odc_bus_handlers_t;

/*  Receive one envelope, dispatch it, free it. Blocks until a frame comes.
    0 when dispatched, -1 when interrupted (socket or context closing). */
/*  Set fn as the handler of the five kinds of reading. */
void odc_bus_on_readings (odc_bus_handlers_t *handlers, odc_bus_handler_fn *fn);

int odc_bus_recv (zsock_t *sock, const odc_bus_handlers_t *handlers, void *arg);

/*  Receive and unpack one envelope; the caller owns it. NULL when
    interrupted. */
Odc__Envelope *odc_bus_recv_envelope (zsock_t *sock);

/*  Inside a handler called by odc_bus_recv: the envelope as it came, packed
    (valid until the handler returns). For a handler that stores or passes
    the envelope on unchanged, without packing it again. */
const void *odc_bus_frame (size_t *size);

/*  Free an envelope from odc_bus_recv_envelope; nulls the pointer. */
void odc_bus_envelope_free (Odc__Envelope **env_p);

/*  The body of an envelope as a message, NULL when none is set. */
ProtobufCMessage *odc_bus_body (const Odc__Envelope *env);

/*  Set an envelope's body (the envelope points at message; nothing is
    copied). */
void odc_bus_set_body (Odc__Envelope *env, Odc__Envelope__BodyCase body, ProtobufCMessage *message);

/*  The header of a reading (the five loops' bodies), NULL for any other
    body. */
Odc__ReadingHeader *odc_bus_reading_header (const Odc__Envelope *env);

/*  Name of a body case, for logs. */
const char *odc_bus_body_name (Odc__Envelope__BodyCase body);

/*  The device-set signal. pub: the registry's PUB socket, NULL on failure
    (logged). send: tell the subscribers that source changed the devices
    family (never blocks; a subscriber too far behind has one waiting
    already). sub: a SUB socket connected to it (bound or not yet). */
zsock_t *odc_bus_device_set_pub (void);
void odc_bus_device_set_send (zsock_t *pub, const char *source, size_t added, size_t removed);
zsock_t *odc_bus_device_set_sub (void);

/*  An outbox record's payload (a packed Odc__Batch) grown by one packed
    Envelope, as protobuf-c would pack the Batch that holds it: the items
    are appended without unpacking and packing each again. *data grows
    (realloc) with *cap; *len is the bytes used. */
void odc_bus_batch_append (uint8_t **data, size_t *len, size_t *cap, const void *envelope,
                           size_t size);

/*  The same with the Envelope made here: body (its case body) from
    source, sent at sent_ms, packed and appended. */
void odc_bus_batch_append_body (uint8_t **data, size_t *len, size_t *cap, const char *source,
                                uint64_t sent_ms, Odc__Envelope__BodyCase body,
                                ProtobufCMessage *message);

/*  Wake the bridge: the outbox grew by records up to (priority, seq).
    push: a PUSH socket connected to ODC_EP_OUTBOX (NULL: no bridge). */
void odc_bus_outbox_grew (zsock_t *push, int priority, uint64_t seq);

/*  What each kind of record is called where, in one table: the five
    loops' readings in odc_loop_t order (0-based, base/odc_config.h), then
    the registry's events (ODC_KIND_EVENT), triage's alert events
    (ODC_KIND_ALERT_EVENT). For each: the loop on the wire
    (Odc__Loop, 1-based; 0 for events), the envelope's body, the body's
    descriptor, the portal's name for it (the XML record and the outbox
    record's kind) and the outbox's priority class. */
typedef struct {
    Odc__Loop loop;
    Odc__Envelope__BodyCase body;
    const ProtobufCMessageDescriptor *descriptor;
    const char *kind;
    Odc__Priority priority;
} odc_kind_t;

#define ODC_KIND_EVENT       ODC_LOOP_COUNT
#define ODC_KIND_ALERT_EVENT (ODC_LOOP_COUNT + 1)
#define ODC_KIND_COUNT       (ODC_LOOP_COUNT + 2)
extern const odc_kind_t odc_kinds[ODC_KIND_COUNT];

/*  The index in odc_kinds of a body, or of a portal kind; -1 for none. */
int odc_kind_of_body (Odc__Envelope__BodyCase body);
int odc_kind_of_name (const char *kind);

/*  A loop's number on the wire, and back (-1 when loop is none of the
    five). */
static inline Odc__Loop
odc_loop_wire (odc_loop_t loop)
{
    return odc_kinds[loop].loop;
}
static inline int
odc_loop_of_wire (Odc__Loop loop)
{
    return loop >= ODC__LOOP__LOOP_ALERT && loop <= ODC__LOOP__LOOP_TRAY ? (int)loop - 1 : -1;
}

#endif
