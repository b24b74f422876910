/*  test_bus: envelopes over inproc: round trip with raw values, dispatch by
    body, ownership (ASan/LSan catch a leak or a double free), and
    back-pressure: a full queue blocks the sender and nothing is dropped. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_test.h"

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

/*  A typical meter reading: header, raw varbinds and decoded counters. */
typedef struct {
    Odc__MeterReading meters;
    Odc__ReadingHeader header;
    Odc__Varbind raw[3];
    Odc__Varbind *raw_p[3];
    Odc__Counter counter[3];
    Odc__Counter *counter_p[3];
    uint8_t raw_value[3][4];
} s_meter_t;

static void
s_meter_init (s_meter_t *m, Odc__Envelope *env, uint32_t total)
{
    odc__meter_reading__init (&m->meters);
    odc__reading_header__init (&m->header);
    m->header.device_id = "dev-42";
    m->header.address = "127.20.0.42";
    m->header.loop = ODC__LOOP__LOOP_METER;
    m->header.bytes_out = 120;
    static char *oids[3] = {"1.3.6.1.2.1.43.10.2.1.4.1.1", "1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.5.0",
                            "1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.6.0"};
    static char *names[3] = {"total", "mono", "colour"};
    for (int i = 0; i < 3; i++) {
        uint32_t v = total / (uint32_t)(i + 1);
        m->raw_value[i][0] = (uint8_t)(v >> 24);
        m->raw_value[i][1] = (uint8_t)(v >> 16);
        m->raw_value[i][2] = (uint8_t)(v >> 8);
        m->raw_value[i][3] = (uint8_t)v;
        odc__varbind__init (&m->raw[i]);
        m->raw[i].oid = oids[i];
        m->raw[i].type = 0x41; /* Counter32 */
        m->raw[i].raw.data = m->raw_value[i];
        m->raw[i].raw.len = 4;
        m->raw_p[i] = &m->raw[i];
        odc__counter__init (&m->counter[i]);
        m->counter[i].name = names[i];
        m->counter[i].oid = oids[i];
        m->counter[i].value = v;
        m->counter_p[i] = &m->counter[i];
    }
    m->header.n_raw = 3;
    m->header.raw = m->raw_p;
    m->meters.header = &m->header;
    m->meters.n_counters = 3;
    m->meters.counters = m->counter_p;
    odc__envelope__init (env);
    env->source = "test";
    env->body_case = ODC__ENVELOPE__BODY_METERS;
    env->meters = &m->meters;
}

typedef struct {
    int meters, commands;
    uint64_t last_total;
    int bad;
} s_seen_t;

static void
s_on_meters (const Odc__Envelope *env, void *arg)
{
    s_seen_t *seen = arg;
    const Odc__MeterReading *m = env->meters;
    seen->meters++;
    if (!m->header || strcmp (m->header->address, "127.20.0.42") != 0 || m->n_counters != 3 ||
        m->header->n_raw != 3 || m->header->raw[0]->type != 0x41 ||
        m->header->raw[0]->raw.len != 4 || strcmp (m->counters[2]->name, "colour") != 0 ||
        env->version != ODC_ENVELOPE_VERSION || env->sent_ms == 0)
        seen->bad++;
    else {
        const uint8_t *r = m->header->raw[0]->raw.data;
        uint64_t raw_total = (uint64_t)r[0] << 24 | r[1] << 16 | r[2] << 8 | r[3];
        if (raw_total != m->counters[0]->value)
            seen->bad++;
        seen->last_total = m->counters[0]->value;
    }
}

static void
s_on_command (const Odc__Envelope *env, void *arg)
{
    s_seen_t *seen = arg;
    seen->commands++;
    if (strcmp (env->command->text, "status") != 0)
        seen->bad++;
    /*  The frame as it came is the envelope, packed. */
    size_t size = 0;
    const void *frame = odc_bus_frame (&size);
    Odc__Envelope *again = odc__envelope__unpack (NULL, size, frame);
    if (!again || size != odc__envelope__get_packed_size (env) || !again->command ||
        strcmp (again->command->text, "status") != 0)
        seen->bad++;
    if (again)
        odc__envelope__free_unpacked (again, NULL);
}

static void
test_roundtrip_and_dispatch (void)
{
    zsock_t *pull = odc_bus_pull_bind ("inproc://test.roundtrip", 0);
    zsock_t *push = odc_bus_push_connect ("inproc://test.roundtrip", 0);
    CHECK (pull && push);
    s_meter_t meter;
    Odc__Envelope env;
    s_meter_init (&meter, &env, 123456);
    CHECK (odc_bus_send (push, &env) == 0);
    /*  The sender keeps its envelope untouched (apart from the stamp). */
    CHECK (env.meters == &meter.meters && meter.counter[0].value == 123456);

    Odc__Command command = ODC__COMMAND__INIT;
    command.id = "c1";
    command.from = "local";
    command.text = "status";
    Odc__Envelope cenv = ODC__ENVELOPE__INIT;
    cenv.source = "test";
    cenv.body_case = ODC__ENVELOPE__BODY_COMMAND;
    cenv.command = &command;
    CHECK (odc_bus_send (push, &cenv) == 0);

    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_METERS] = s_on_meters;
    handlers.on[ODC__ENVELOPE__BODY_COMMAND] = s_on_command;
    s_seen_t seen = {0};
    CHECK (odc_bus_recv (pull, &handlers, &seen) == 0);
    CHECK (odc_bus_recv (pull, &handlers, &seen) == 0);
    CHECK (seen.meters == 1 && seen.commands == 1 && seen.bad == 0);
    CHECK (seen.last_total == 123456);

    /*  The owning receive: the caller frees. */
    CHECK (odc_bus_send (push, &env) == 0);
    Odc__Envelope *got = odc_bus_recv_envelope (pull);
    CHECK (got && got->body_case == ODC__ENVELOPE__BODY_METERS);
    CHECK (strcmp (got->source, "test") == 0);
    odc_bus_envelope_free (&got);
    CHECK (got == NULL);
    odc_bus_envelope_free (&got); /* twice is safe */
    CHECK (strcmp (odc_bus_body_name (ODC__ENVELOPE__BODY_SUPPLIES), "supplies") == 0);

    /*  Bodies and reading headers through the descriptors. */
    CHECK (odc_bus_body (&env) == &meter.meters.base);
    CHECK (odc_bus_reading_header (&env) == &meter.header);
    CHECK (odc_bus_reading_header (&cenv) == NULL); /* a command has no header */
    Odc__Envelope other = ODC__ENVELOPE__INIT;
    CHECK (odc_bus_body (&other) == NULL);
    Odc__SupplyReading supplies = ODC__SUPPLY_READING__INIT;
    supplies.header = &meter.header;
    odc_bus_set_body (&other, ODC__ENVELOPE__BODY_SUPPLIES, &supplies.base);
    CHECK (other.body_case == ODC__ENVELOPE__BODY_SUPPLIES && other.supplies == &supplies);
    CHECK (odc_bus_reading_header (&other) == &meter.header);
    zsock_destroy (&push);
    zsock_destroy (&pull);
}

typedef struct {
    zsock_t *push;
    int total;
    atomic_int sent;
} s_producer_t;

static void *
s_producer (void *arg)
{
    s_producer_t *p = arg;
    s_meter_t meter;
    Odc__Envelope env;
    for (int i = 0; i < p->total; i++) {
        s_meter_init (&meter, &env, (uint32_t)i);
        if (odc_bus_send (p->push, &env) == 0)
            atomic_fetch_add (&p->sent, 1);
    }
    return NULL;
}

static void
test_back_pressure_blocks_never_drops (void)
{
    const int hwm = 10, total = 500;
    zsock_t *pull = odc_bus_pull_bind ("inproc://test.pressure", hwm);
    zsock_t *push = odc_bus_push_connect ("inproc://test.pressure", hwm);
    s_producer_t producer = {push, total, 0};
    pthread_t thread;
    pthread_create (&thread, NULL, s_producer, &producer);
    s_sleep_ms (300);
    /*  Nobody reads: the producer is stuck once both queues are full. */
    int stuck = atomic_load (&producer.sent);
    CHECKF (stuck < total && stuck <= 4 * hwm, "sent %d with hwm %d and no reader", stuck, hwm);
    s_sleep_ms (100);
    CHECK (atomic_load (&producer.sent) == stuck);

    /*  Reading lets it go on; every message arrives, in order. */
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_METERS] = s_on_meters;
    s_seen_t seen = {0};
    int in_order = 1;
    for (int i = 0; i < total; i++) {
        CHECK (odc_bus_recv (pull, &handlers, &seen) == 0);
        if (seen.last_total != (uint64_t)i)
            in_order = 0;
    }
    pthread_join (thread, NULL);
    CHECK (atomic_load (&producer.sent) == total);
    CHECK (seen.meters == total && seen.bad == 0);
    CHECK (in_order);

    /*  The non-blocking send says so when the queue is full. */
    s_meter_t meter;
    Odc__Envelope env;
    s_meter_init (&meter, &env, 1);
    int accepted = 0;
    errno = 0;
    while (odc_bus_try_send (push, &env) == 0 && accepted < 10 * hwm)
        accepted++;
    CHECK (accepted < 10 * hwm && errno == EAGAIN);
    zsock_destroy (&push);
    zsock_destroy (&pull);
}

int
main (void)
{
    zsys_init ();
    RUN (test_roundtrip_and_dispatch);
    RUN (test_back_pressure_blocks_never_drops);
    zsys_shutdown ();
    TEST_END ();
}
