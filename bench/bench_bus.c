/*  bench_bus: envelopes per second between one pair of actors.

    A producer actor builds a typical reading, packs it and sends it over
    inproc (PUSH, default high-water mark); the consumer receives, unpacks,
    dispatches and frees it. Two readings: a meter reading (12 counters, raw
    varbinds included) and a supply reading of a colour MFP (8 supplies with
    7 raw varbinds each).

        bench_bus [--count N]          (default 300000)

    Prints one line per reading kind. */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_log.h"
#include "odc_supervisor.h"

#define MAX_RAW   64
#define MAX_ITEMS 12

typedef struct {
    Odc__Envelope env;
    Odc__ReadingHeader header;
    Odc__Varbind raw[MAX_RAW];
    Odc__Varbind *raw_p[MAX_RAW];
    uint8_t value[MAX_RAW][4];
    char oid[MAX_RAW][48];
    Odc__MeterReading meters;
    Odc__Counter counter[MAX_ITEMS];
    Odc__Counter *counter_p[MAX_ITEMS];
    Odc__SupplyReading supplies;
    Odc__Supply supply[MAX_ITEMS];
    Odc__Supply *supply_p[MAX_ITEMS];
} s_reading_t;

static void
s_header (s_reading_t *r, size_t raw, Odc__Loop loop)
{
    odc__reading_header__init (&r->header);
    r->header.device_id = "7f3a9c2e-0001";
    r->header.address = "127.20.12.34";
    r->header.loop = loop;
    r->header.started_ms = 1764165600000;
    r->header.finished_ms = 1764165600042;
    r->header.requests = 2;
    r->header.bytes_out = 180;
    r->header.bytes_in = 1400;
    for (size_t i = 0; i < raw; i++) {
        odc__varbind__init (&r->raw[i]);
        snprintf (r->oid[i], sizeof r->oid[i], "1.3.6.1.2.1.43.11.1.1.%zu.1.%zu", 2 + i % 8,
                  1 + i / 8);
        r->raw[i].oid = r->oid[i];
        r->raw[i].type = 0x02;
        r->value[i][0] = 0, r->value[i][1] = 1, r->value[i][2] = (uint8_t)i, r->value[i][3] = 7;
        r->raw[i].raw.data = r->value[i];
        r->raw[i].raw.len = 4;
        r->raw_p[i] = &r->raw[i];
    }
    r->header.raw = r->raw_p;
    r->header.n_raw = raw;
    odc__envelope__init (&r->env);
    r->env.source = "bench";
}

static void
s_meter (s_reading_t *r)
{
    s_header (r, 12, ODC__LOOP__LOOP_METER);
    odc__meter_reading__init (&r->meters);
    static char *names[MAX_ITEMS] = {"total",        "mono",      "colour",      "large",
                                     "small",        "copy.mono", "copy.colour", "print.mono",
                                     "print.colour", "scan",      "fax",         "duplex"};
    for (int i = 0; i < MAX_ITEMS; i++) {
        odc__counter__init (&r->counter[i]);
        r->counter[i].name = names[i];
        r->counter[i].oid = r->oid[i];
        r->counter[i].value = 1234567u + (unsigned)i * 1000u;
        r->counter[i].unit = "impressions";
        r->counter_p[i] = &r->counter[i];
    }
    r->meters.header = &r->header;
    r->meters.counters = r->counter_p;
    r->meters.n_counters = MAX_ITEMS;
    r->env.body_case = ODC__ENVELOPE__BODY_METERS;
    r->env.meters = &r->meters;
}

static void
s_supply (s_reading_t *r)
{
    s_header (r, 56, ODC__LOOP__LOOP_SUPPLY);
    odc__supply_reading__init (&r->supplies);
    static char *names[8] = {"Black Toner", "Cyan Toner",    "Magenta Toner", "Yellow Toner",
                             "Drum Unit",   "Transfer Belt", "Fuser",         "Waste Toner Box"};
    for (int i = 0; i < 8; i++) {
        odc__supply__init (&r->supply[i]);
        r->supply[i].index = i + 1;
        r->supply[i].description = names[i];
        r->supply[i].type = 3;
        r->supply[i].unit = 19;
        r->supply[i].max_capacity = 100;
        r->supply[i].level = 40 + i;
        r->supply[i].supply_class = 3;
        r->supply[i].colorant = "black";
        r->supply[i].percent = 40 + i;
        r->supply_p[i] = &r->supply[i];
    }
    r->supplies.header = &r->header;
    r->supplies.supplies = r->supply_p;
    r->supplies.n_supplies = 8;
    r->env.body_case = ODC__ENVELOPE__BODY_SUPPLIES;
    r->env.supplies = &r->supplies;
}

typedef struct {
    long count;
    int kind; /* 0 meters, 1 supplies */
} s_args_t;

static void
s_producer (zsock_t *pipe, void *args)
{
    s_args_t *a = args;
    zsock_t *push = odc_bus_push_connect ("inproc://bench.bus", 0);
    odc_actor_ready (pipe, push != NULL);
    s_reading_t *r = calloc (1, sizeof *r);
    if (a->kind == 0)
        s_meter (r);
    else
        s_supply (r);
    for (long i = 0; i < a->count; i++) {
        r->header.finished_ms++; /* a different message each time */
        odc_bus_send (push, &r->env);
    }
    free (r);
    while (!odc_actor_pipe (pipe, NULL, NULL))
        ;
    zsock_destroy (&push);
}

static long s_received, s_items;

static void
s_on_meters (const Odc__Envelope *env, void *arg)
{
    (void)arg;
    s_received++;
    s_items += (long)env->meters->n_counters;
}

static void
s_on_supplies (const Odc__Envelope *env, void *arg)
{
    (void)arg;
    s_received++;
    s_items += (long)env->supplies->n_supplies;
}

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
    long count = 300000;
    static const struct option options[] = {{"count", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "n:h", options, NULL)) != -1) {
        if (opt == 'n')
            count = atol (optarg);
        else {
            printf ("usage: bench_bus [--count N]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    odc_supervisor_block_signals ();
    zsock_t *pull = odc_bus_pull_bind ("inproc://bench.bus", 0);
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_METERS] = s_on_meters;
    handlers.on[ODC__ENVELOPE__BODY_SUPPLIES] = s_on_supplies;
    const char *kinds[2] = {"meter reading (12 counters)", "supply reading (8 supplies)"};
    for (int kind = 0; kind < 2; kind++) {
        s_reading_t *sample = calloc (1, sizeof *sample);
        if (kind == 0)
            s_meter (sample);
        else
            s_supply (sample);
        size_t bytes = odc__envelope__get_packed_size (&sample->env);
        free (sample);
        s_args_t args = {count, kind};
        s_received = 0;
        double t0 = odc_clock_s (), c0 = s_cpu ();
        zactor_t *producer = zactor_new (s_producer, &args);
        char *ready = zstr_recv (producer);
        zstr_free (&ready);
        while (s_received < count)
            odc_bus_recv (pull, &handlers, NULL);
        double elapsed = odc_clock_s () - t0, cpu = s_cpu () - c0;
        zactor_destroy (&producer);
        printf ("bus: %-30s %8ld envelopes in %.2f s: %9.0f envelopes/s, %4zu bytes each, "
                "%.2f us CPU each (both threads)\n",
                kinds[kind], count, elapsed, (double)count / elapsed, bytes,
                cpu * 1e6 / (double)count);
    }
    zsock_destroy (&pull);
    zsys_shutdown ();
    return 0;
}
