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

#include "opendca.pb-c.h"

#define ODC_ENVELOPE_VERSION 1

/*  Endpoint names. Each is bound by the actor named after the arrow. */
#define ODC_EP_READINGS  "inproc://odc.readings"  /* loops -> validator */
#define ODC_EP_ACCEPTED  "inproc://odc.accepted"  /* validator -> consumers */
#define ODC_EP_UPLOAD    "inproc://odc.upload"    /* anyone -> uploader */
#define ODC_EP_OUTBOX    "inproc://odc.outbox"    /* uploader -> bridge */
#define ODC_EP_COMMANDS  "inproc://odc.commands"  /* bridge, cli -> commands */
#define ODC_EP_REGISTRY  "inproc://odc.registry"  /* latest, discovery -> registry */
#define ODC_EP_DISCOVERY "inproc://odc.discovery" /* commands -> discovery */

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
int odc_bus_recv_keyed (zsock_t *sock, zmq_msg_t *key, zmq_msg_t *frame);

typedef void (odc_bus_handler_fn) (const Odc__Envelope *env, void *arg);

/*  One handler per body case (ODC__ENVELOPE__BODY_*), NULL for none. */
typedef struct {
    odc_bus_handler_fn *on[ODC__ENVELOPE__BODY_DISCOVERED + 1]; /* the last body */
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

#endif
