/*  portal_enqueue: puts one hand-made record in a stopped collector's
    outbox, for tests/test_portal_faults.sh (issue 14, faults 4 and 7).

        portal_enqueue STORE-DIR

    The record is a bulk "meters" record of five items: enq-1, a meter
    reading whose counter name is 400 kB of random letters (no stanza can
    carry it, deflated or not), enq-2, an envelope with no reading in it
    (the XML writer cannot write it), enq-3 and enq-4, ordinary readings.
    The bridge must split the record, send enq-2..4 and refuse the other
    two with their reasons. Prints "enqueued CLASS-SEQ". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_bus.h"
#include "odc_outbox.h"
#include "odc_store.h"

static uint8_t *
s_meter (const char *device, size_t name_len, size_t *len)
{
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    Odc__MeterReading meter = ODC__METER_READING__INIT;
    Odc__ReadingHeader header = ODC__READING_HEADER__INIT;
    Odc__Counter counter = ODC__COUNTER__INIT, *counters[1] = {&counter};
    char *name = malloc (name_len + 1);
    for (size_t i = 0; i < name_len; i++)
        name[i] = (char)('a' + random () % 26);
    name[name_len] = 0;
    header.device_id = (char *)device;
    header.address = (char *)device;
    header.loop = ODC__LOOP__LOOP_METER;
    header.finished_ms = 1700000000000ull;
    counter.name = name;
    counter.value = 12345;
    /*  Bytes that are not UTF-8 (a surrogate, an overlong '/', past
        U+10FFFF, a sequence cut short): the portal's exports must stay
        valid UTF-8 all the same. */
    counter.unit = "imp\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \xe2\x82";
    meter.header = &header;
    meter.n_counters = 1;
    meter.counters = counters;
    env.version = ODC_ENVELOPE_VERSION;
    env.body_case = ODC__ENVELOPE__BODY_METERS;
    env.meters = &meter;
    *len = odc__envelope__get_packed_size (&env);
    uint8_t *out = malloc (*len);
    odc__envelope__pack (&env, out);
    free (name);
    return out;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: portal_enqueue STORE-DIR\n");
        return 2;
    }
    srandom (14);
    char *err = NULL;
    odc_store_options_t options;
    odc_store_options_default (&options);
    odc_store_t *store = odc_store_open (argv[1], &options, &err);
    if (!store) {
        fprintf (stderr, "portal_enqueue: %s: %s\n", argv[1], err ? err : "cannot open");
        return 1;
    }
    odc_outbox_t *outbox = odc_outbox_new (store, 0);
    Odc__Envelope items[5], *pointers[5];
    for (int i = 0; i < 5; i++) {
        const char *device[5] = {"enq-1", "enq-2", NULL, "enq-3", "enq-4"};
        size_t len = 0;
        uint8_t *packed = device[i] ? s_meter (device[i], i == 0 ? 400000 : 5, &len) : NULL;
        Odc__Envelope *env = packed ? odc__envelope__unpack (NULL, len, packed) : NULL;
        if (env)
            items[i] = *env;
        else {
            odc__envelope__init (&items[i]);
            items[i].version = ODC_ENVELOPE_VERSION;
        }
        pointers[i] = env ? env : &items[i];
        free (packed);
    }
    Odc__Batch batch = ODC__BATCH__INIT;
    batch.n_items = 5;
    batch.items = pointers;
    size_t size = odc__batch__get_packed_size (&batch);
    uint8_t *payload = malloc (size);
    odc__batch__pack (&batch, payload);
    uint64_t seq = 0;
    int rc =
        odc_outbox_enqueue (outbox, ODC__PRIORITY__PRIORITY_BULK, "meters", payload, size, &seq);
    if (rc == 0)
        printf ("enqueued %d-%llu\n", ODC__PRIORITY__PRIORITY_BULK, (unsigned long long)seq);
    for (int i = 0; i < 5; i++)
        if (pointers[i] != &items[i])
            odc__envelope__free_unpacked (pointers[i], NULL);
    free (payload);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    return rc == 0 ? 0 : 1;
}
