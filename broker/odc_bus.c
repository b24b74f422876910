/*  odc_bus: see odc_bus.h for the rules. */
#include "odc_bus.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "odc_devlist.h"
#include "odc_log.h"
#include "odc_tsan.h"

/*  Asserts stay on in release builds (see CMakeLists.txt): a broken message
    from inside the process is a bug. */

static zsock_t *
s_socket (int type, const char *endpoint, int hwm, bool bind)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    if (hwm <= 0)
        hwm = ODC_BUS_HWM;
    zsock_set_sndhwm (sock, hwm);
    zsock_set_rcvhwm (sock, hwm);
    zsock_set_linger (sock, 0);
    int rc = bind ? zsock_bind (sock, "%s", endpoint) : zsock_connect (sock, "%s", endpoint);
    if (rc == -1) {
        odc_error (NULL, "cannot %s %s: %s", bind ? "bind" : "connect", endpoint,
                   zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

zsock_t *
odc_bus_pull_bind (const char *endpoint, int hwm)
{
    return s_socket (ZMQ_PULL, endpoint, hwm, true);
}

zsock_t *
odc_bus_push_connect (const char *endpoint, int hwm)
{
    return s_socket (ZMQ_PUSH, endpoint, hwm, false);
}

static int
s_send (zsock_t *sock, Odc__Envelope *env, int flags)
{
    assert (env && env->body_case != ODC__ENVELOPE__BODY__NOT_SET);
    env->version = ODC_ENVELOPE_VERSION;
    env->sent_ms = odc_now_ms ();
    size_t size = odc__envelope__get_packed_size (env);
    zmq_msg_t msg;
    if (zmq_msg_init_size (&msg, size) != 0)
        return -1;
    odc__envelope__pack (env, zmq_msg_data (&msg));
    ODC_TSAN_RELEASE (zmq_msg_data (&msg));
    if (zmq_msg_send (&msg, zsock_resolve (sock), flags) == -1) {
        int err = zmq_errno ();
        zmq_msg_close (&msg);
        errno = err;
        return -1;
    }
    return 0;
}

int
odc_bus_send (zsock_t *sock, Odc__Envelope *env)
{
    int rc;
    /*  EINTR: a signal reached this thread; the send did not happen. */
    while ((rc = s_send (sock, env, 0)) == -1 && errno == EINTR)
        ;
    return rc;
}

int
odc_bus_try_send (zsock_t *sock, Odc__Envelope *env)
{
    return s_send (sock, env, ZMQ_DONTWAIT);
}

static int
s_send_keyed (zsock_t *sock, const char *key, Odc__Envelope *env, int flags)
{
    int rc;
    while ((rc = zmq_send (zsock_resolve (sock), key, strlen (key), ZMQ_SNDMORE | flags)) == -1 &&
           zmq_errno () == EINTR)
        ;
    if (rc == -1)
        return -1;
    /*  The first part is queued: the second must follow whatever comes. */
    while ((rc = s_send (sock, env, 0)) == -1 && errno == EINTR)
        ;
    return rc;
}

int
odc_bus_send_keyed (zsock_t *sock, const char *key, Odc__Envelope *env)
{
    return s_send_keyed (sock, key, env, 0);
}

void
odc_bus_events_to_triage (zsock_t *sock, zlistx_t *events, bool send, const char *source,
                          uint64_t *lost)
{
    for (zframe_t *f = zlistx_first (events); f; f = zlistx_next (events)) {
        Odc__DeviceEvent *ev = odc__device_event__unpack (NULL, zframe_size (f), zframe_data (f));
        if (!ev)
            continue;
        if (send) {
            Odc__Envelope env = ODC__ENVELOPE__INIT;
            env.source = (char *)source;
            odc_bus_set_body (&env, ODC__ENVELOPE__BODY_DEVICE_EVENT, &ev->base);
            char key[ODC_DEVICE_ID_MAX + 16];
            snprintf (key, sizeof key, "%s/event", ev->device_id);
            if (odc_bus_try_send_keyed (sock, key, &env) != 0 && !(*lost)++) {
                const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value (
                    &odc__device_event_type__descriptor, (int)ev->type);
                odc_warn (ev->device_id,
                          "%s: triage did not take the %s event (its queue full, or it "
                          "stopped): no alert of it",
                          source, v ? v->name : "?");
            }
        }
        odc__device_event__free_unpacked (ev, NULL);
    }
    zlistx_purge (events);
}

int
odc_bus_try_send_keyed (zsock_t *sock, const char *key, Odc__Envelope *env)
{
    return s_send_keyed (sock, key, env, ZMQ_DONTWAIT);
}

int
odc_bus_forward_keyed (zsock_t *sock, zmq_msg_t *key, zmq_msg_t *frame)
{
    int rc;
    while ((rc = zmq_msg_send (key, zsock_resolve (sock), ZMQ_SNDMORE)) == -1 &&
           zmq_errno () == EINTR)
        ;
    if (rc == -1)
        return -1;
    ODC_TSAN_RELEASE (zmq_msg_data (frame));
    while ((rc = zmq_msg_send (frame, zsock_resolve (sock), 0)) == -1 && zmq_errno () == EINTR)
        ;
    return rc == -1 ? -1 : 0;
}

int
odc_bus_recv_keyed (zsock_t *sock, zmq_msg_t *key, zmq_msg_t *frame)
{
    zmq_msg_init (key);
    zmq_msg_init (frame);
    int rc;
    while ((rc = zmq_msg_recv (key, zsock_resolve (sock), 0)) == -1 && zmq_errno () == EINTR)
        ;
    if (rc == -1)
        return -1;
    /*  Only this process writes to the bus: a message without its second
        part is a bug, not bad input. */
    assert (zmq_msg_more (key));
    while ((rc = zmq_msg_recv (frame, zsock_resolve (sock), 0)) == -1 && zmq_errno () == EINTR)
        ;
    if (rc == -1)
        return -1;
    ODC_TSAN_ACQUIRE (zmq_msg_data (frame));
    return 0;
}

/*  The frame of the envelope being dispatched by odc_bus_recv, for
    odc_bus_frame. */
static _Thread_local zmq_msg_t *s_frame;

/*  Receive one frame into msg (the caller closes it) and unpack it. */
static Odc__Envelope *
s_recv (zsock_t *sock, zmq_msg_t *msg)
{
    zmq_msg_init (msg);
    int rc;
    while ((rc = zmq_msg_recv (msg, zsock_resolve (sock), 0)) == -1 && zmq_errno () == EINTR)
        ;
    if (rc == -1)
        return NULL;
    ODC_TSAN_ACQUIRE (zmq_msg_data (msg));
    Odc__Envelope *env = odc__envelope__unpack (NULL, zmq_msg_size (msg), zmq_msg_data (msg));
    /*  Only this process writes to the bus: a frame that does not unpack or
        has another version is a bug, not bad input. */
    assert (env);
    assert (env->version == ODC_ENVELOPE_VERSION);
    return env;
}

Odc__Envelope *
odc_bus_recv_envelope (zsock_t *sock)
{
    zmq_msg_t msg;
    Odc__Envelope *env = s_recv (sock, &msg);
    zmq_msg_close (&msg);
    return env;
}

const void *
odc_bus_frame (size_t *size)
{
    assert (s_frame);
    *size = zmq_msg_size (s_frame);
    return zmq_msg_data (s_frame);
}

void
odc_bus_envelope_free (Odc__Envelope **env_p)
{
    if (env_p && *env_p) {
        odc__envelope__free_unpacked (*env_p, NULL);
        *env_p = NULL;
    }
}

int
odc_bus_recv (zsock_t *sock, const odc_bus_handlers_t *handlers, void *arg)
{
    zmq_msg_t msg;
    Odc__Envelope *env = s_recv (sock, &msg);
    if (!env) {
        zmq_msg_close (&msg);
        return -1;
    }
    size_t body = (size_t)env->body_case;
    odc_bus_handler_fn *fn =
        body < sizeof handlers->on / sizeof handlers->on[0] ? handlers->on[body] : NULL;
    if (!fn) {
        odc_fatal (NULL, "no handler for envelope body %s from %s",
                   odc_bus_body_name (env->body_case), env->source);
        assert (!"envelope body without handler");
    }
    s_frame = &msg;
    fn (env, arg);
    s_frame = NULL;
    odc_bus_envelope_free (&env);
    zmq_msg_close (&msg);
    return 0;
}

const char *
odc_bus_body_name (Odc__Envelope__BodyCase body)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field (&odc__envelope__descriptor, (unsigned)body);
    return field ? field->name : "none";
}

/* ------------------------------------------------------------------------
   The device-set signal */

zsock_t *
odc_bus_device_set_pub (void)
{
    return s_socket (ZMQ_PUB, ODC_EP_DEVICE_SET, 0, true);
}

void
odc_bus_device_set_send (zsock_t *pub, const char *source, size_t added, size_t removed)
{
    if (!pub)
        return;
    Odc__DeviceSetChanged changed = ODC__DEVICE_SET_CHANGED__INIT;
    changed.source = (char *)source;
    changed.added = (uint32_t)added;
    changed.removed = (uint32_t)removed;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.body_case = ODC__ENVELOPE__BODY_DEVICE_SET;
    env.device_set = &changed;
    /*  A PUB drops at its high-water mark rather than block: the
        subscriber then has signals waiting, which is all it needs. */
    while (s_send (pub, &env, ZMQ_DONTWAIT) == -1 && errno == EINTR)
        ;
}

zsock_t *
odc_bus_device_set_sub (void)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (!sub)
        return NULL;
    zsock_set_linger (sub, 0);
    zsock_set_subscribe (sub, "");
    if (zsock_connect (sub, "%s", ODC_EP_DEVICE_SET) == -1) {
        odc_error (NULL, "cannot connect %s: %s", ODC_EP_DEVICE_SET, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sub);
    }
    return sub;
}

/* ------------------------------------------------------------------------
   Outbox records */

void
odc_bus_batch_append (uint8_t **data, size_t *len, size_t *cap, const void *envelope, size_t size)
{
    /*  The field "items" of Batch, length-delimited (wire type 2): its
        tag, the length as a varint, the bytes. */
    const ProtobufCFieldDescriptor *items =
        protobuf_c_message_descriptor_get_field_by_name (&odc__batch__descriptor, "items");
    assert (items && items->label == PROTOBUF_C_LABEL_REPEATED && items->id < 16);
    size_t need = *len + 1 + 10 + size;
    if (need > *cap) {
        *cap = need * 2;
        *data = realloc (*data, *cap);
    }
    uint8_t *p = *data + *len;
    *p++ = (uint8_t)(items->id << 3 | 2);
    size_t n = size;
    do {
        uint8_t byte = n & 0x7f;
        n >>= 7;
        *p++ = n ? byte | 0x80 : byte;
    } while (n);
    memcpy (p, envelope, size);
    *len = (size_t)(p - *data) + size;
}

void
odc_bus_batch_append_body (uint8_t **data, size_t *len, size_t *cap, const char *source,
                           uint64_t sent_ms, Odc__Envelope__BodyCase body,
                           ProtobufCMessage *message)
{
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.version = ODC_ENVELOPE_VERSION;
    env.sent_ms = sent_ms;
    env.source = (char *)source;
    odc_bus_set_body (&env, body, message);
    size_t size = odc__envelope__get_packed_size (&env);
    uint8_t stack[1024], *packed = size <= sizeof stack ? stack : malloc (size);
    odc__envelope__pack (&env, packed);
    odc_bus_batch_append (data, len, cap, packed, size);
    if (packed != stack)
        free (packed);
}

void
odc_bus_outbox_grew (zsock_t *push, int priority, uint64_t seq)
{
    if (!push)
        return;
    Odc__OutboxGrew grew = ODC__OUTBOX_GREW__INIT;
    grew.priority = (uint32_t)priority;
    grew.seq = seq;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.body_case = ODC__ENVELOPE__BODY_OUTBOX_GREW;
    env.outbox_grew = &grew;
    odc_bus_try_send (push, &env);
}

/* ------------------------------------------------------------------------
   Kinds */

const odc_kind_t odc_kinds[ODC_KIND_COUNT] = {
    [ODC_LOOP_ALERT] = {ODC__LOOP__LOOP_ALERT, ODC__ENVELOPE__BODY_ALERTS,
                        &odc__alert_reading__descriptor, "alert", ODC__PRIORITY__PRIORITY_URGENT},
    [ODC_LOOP_IDENTITY] = {ODC__LOOP__LOOP_IDENTITY, ODC__ENVELOPE__BODY_IDENTITY,
                           &odc__identity_reading__descriptor, "asset",
                           ODC__PRIORITY__PRIORITY_NORMAL},
    [ODC_LOOP_METER] = {ODC__LOOP__LOOP_METER, ODC__ENVELOPE__BODY_METERS,
                        &odc__meter_reading__descriptor, "meters", ODC__PRIORITY__PRIORITY_BULK},
    [ODC_LOOP_SUPPLY] = {ODC__LOOP__LOOP_SUPPLY, ODC__ENVELOPE__BODY_SUPPLIES,
                         &odc__supply_reading__descriptor, "supply",
                         ODC__PRIORITY__PRIORITY_NORMAL},
    [ODC_LOOP_TRAY] = {ODC__LOOP__LOOP_TRAY, ODC__ENVELOPE__BODY_TRAYS,
                       &odc__tray_reading__descriptor, "tray", ODC__PRIORITY__PRIORITY_NORMAL},
    [ODC_KIND_EVENT] = {0, ODC__ENVELOPE__BODY_DEVICE_EVENT, &odc__device_event__descriptor,
                        "event", ODC__PRIORITY__PRIORITY_URGENT},
    [ODC_KIND_ALERT_EVENT] = {0, ODC__ENVELOPE__BODY_ALERT_EVENT, &odc__alert_event__descriptor,
                              "alert-event", ODC__PRIORITY__PRIORITY_URGENT},
};

int
odc_kind_of_body (Odc__Envelope__BodyCase body)
{
    for (int k = 0; k < ODC_KIND_COUNT; k++)
        if (odc_kinds[k].body == body)
            return k;
    return -1;
}

int
odc_kind_of_name (const char *kind)
{
    for (int k = 0; kind && k < ODC_KIND_COUNT; k++)
        if (!strcmp (odc_kinds[k].kind, kind))
            return k;
    return -1;
}

/*  The oneof's members are pointers at their field's offset: the
    descriptor says where, so one piece of code serves every body. */
static ProtobufCMessage **
s_body_slot (const Odc__Envelope *env, Odc__Envelope__BodyCase body)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field (&odc__envelope__descriptor, (unsigned)body);
    assert (!field || field->type == PROTOBUF_C_TYPE_MESSAGE);
    return field ? (ProtobufCMessage **)((char *)env + field->offset) : NULL;
}

ProtobufCMessage *
odc_bus_body (const Odc__Envelope *env)
{
    ProtobufCMessage **slot = s_body_slot (env, env->body_case);
    return slot ? *slot : NULL;
}

void
odc_bus_set_body (Odc__Envelope *env, Odc__Envelope__BodyCase body, ProtobufCMessage *message)
{
    ProtobufCMessage **slot = s_body_slot (env, body);
    assert (slot);
    env->body_case = body;
    *slot = message;
}

Odc__ReadingHeader *
odc_bus_reading_header (const Odc__Envelope *env)
{
    ProtobufCMessage *body = odc_bus_body (env);
    if (!body)
        return NULL;
    /*  Every reading has its header as a field named "header". */
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (body->descriptor, "header");
    if (!field || field->descriptor != &odc__reading_header__descriptor)
        return NULL;
    return *(Odc__ReadingHeader **)((char *)body + field->offset);
}

void
odc_bus_on_readings (odc_bus_handlers_t *handlers, odc_bus_handler_fn *fn)
{
    for (int l = 0; l < ODC_LOOP_COUNT; l++)
        handlers->on[odc_kinds[l].body] = fn;
}
