/*  fuzz_snmp: SNMP replies, as bytes from the wire, through net-snmp's
    parser, the engine's own reply handling and every loop's decoder.

    An input is a device's answers to one job:
        byte 0   the loop: 0 alert (status, then the alert table when bytes
                 are left), 1 identity, 2 meter, 3 supply, 4 tray
        byte 1   bit 0 GETNEXT only, bit 1 keep the raw varbinds, bits 2-3
                 the printer index - 1, bits 4-7 the vendor counters asked
                 by the meter loop (0 none, else the Nth maker of
                 snmp/vendor-counters.tsv)
        then     answers: a 2-byte big-endian length and that many bytes of
                 an SNMP message (v1, v2c or v3), one per request the job
                 sends, until the job ends or the answers do.
    Each answer goes through snmp_parse (net-snmp's message and PDU parser,
    the one snmp_sess_read2 calls) and then through the engine's callback
    and s_absorb (this file includes snmp/odc_snmp.c for them: the same code
    a collector runs, without sockets); the next-request logic of
    s_advance is mirrored in s_step below. The finished job goes through
    odc_read_* and the JSON and table printers, as `opendca poll` does.

    Build: cmake -DODC_FUZZ=ON with CC=clang-14 (scripts/fuzz); run:
        build-fuzz/fuzz_snmp build-fuzz/fuzz-corpus/snmp
    Seeds come from the real recordings (fuzz_seeds, scripts/fuzz). A
    crash goes to tests/fuzz/regressions/snmp/ (tests/fuzz/README.md). */
#include "odc_snmp.c"

#include "odc_read.h"

#include <stdio.h>

#ifndef ODC_SOURCE_DIR
#define ODC_SOURCE_DIR "."
#endif

/*  The answers a job takes at most: the engine's own walks end sooner on
    real devices; a bound keeps an input from looping. */
#define S_ROUNDS 64

static odc_vendor_map_t *s_vendor;
static uint32_t s_makers[15];
static size_t s_maker_count;
static FILE *s_null;
/*  An engine for the flights' bounds and counters; it never opens a
    session here. */
static odc_snmp_t *s_engine;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc, (void)argv;
    odc_log_set_level (ODC_LOG_FATAL);
    odc_snmp_init (0);
    /*  With every log handler off net-snmp still writes its parse errors
        to stderr: a handler that drops them (millions of lines). */
    netsnmp_register_loghandler (NETSNMP_LOGHANDLER_NONE, LOG_DEBUG);
    s_engine = odc_snmp_new (NULL);
    char *error = NULL;
    s_vendor = odc_vendor_map_load (ODC_SOURCE_DIR "/snmp/vendor-counters.tsv", &error);
    free (error);
    for (size_t i = 0; s_vendor && i < s_vendor->count; i++) {
        size_t k = 0;
        while (k < s_maker_count && s_makers[k] != s_vendor->counters[i].enterprise)
            k++;
        if (k == s_maker_count && s_maker_count < 15)
            s_makers[s_maker_count++] = s_vendor->counters[i].enterprise;
    }
    /*  ODC_FUZZ_PRINT=1: the readings as JSON on stderr (to see what a
        seed or a crash decodes to). */
    s_null = getenv ("ODC_FUZZ_PRINT") ? stderr : fopen ("/dev/null", "w");
    return 0;
}

/*  A flight as s_start makes it (the engine's own s_flight_new), without
    a session. */
static s_flight_t *
s_fuzz_flight (odc_snmp_job_t *job)
{
    s_flight_t *f = s_flight_new (s_engine, job);
    f->reqid = 1;
    job->status = ODC_SNMP_PENDING;
    return f;
}

/*  s_advance without sending: true while the job wants another answer. */
static bool
s_step (s_flight_t *f)
{
    odc_snmp_job_t *job = f->job;
    if (f->response == 3 || job->status != ODC_SNMP_PENDING)
        return false;
    if (!f->scalars_done && s_asked (f) == 0)
        s_take_scalars (f, NULL);
    bool more = f->resend || s_active_count (f) > 0 || !f->scalars_done;
    if (!more) {
        s_finish (f, ODC_SNMP_OK, NULL);
        return false;
    }
    f->response = 0;
    f->resend = false;
    f->reqid++;
    job->requests++;
    return true;
}

/*  One answer: parsed by net-snmp, then the engine's callback. */
static void
s_answer (s_flight_t *f, const uint8_t *bytes, size_t len)
{
    netsnmp_session session;
    snmp_sess_init (&session);
    netsnmp_pdu *pdu = snmp_pdu_create (0);
    u_char *copy = malloc (len ? len : 1);
    memcpy (copy, bytes, len);
    f->job->bytes_in += (uint32_t)len;
    if (snmp_parse (NULL, &session, pdu, copy, len) == SNMP_ERR_NOERROR)
        s_callback (NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE, &session, f->reqid, pdu, f);
    else
        f->response = 2; /* dropped, as snmp_sess_read2 would: the request times out */
    free (copy);
    snmp_free_pdu (pdu);
}

/*  Run a job on the answers at *data; returns it finished (or timed
    out when the answers ran out). */
static void
s_run (odc_snmp_job_t *job, const uint8_t **data, size_t *size)
{
    s_flight_t *f = s_fuzz_flight (job);
    for (int round = 0; round < S_ROUNDS && *size >= 2; round++) {
        size_t len = (size_t)(*data)[0] << 8 | (*data)[1];
        if (len > *size - 2)
            len = *size - 2;
        s_answer (f, *data + 2, len);
        *data += 2 + len;
        *size -= 2 + len;
        if (f->response == 2) {
            s_finish (f, ODC_SNMP_TIMEOUT, "no answer");
            break;
        }
        if (!s_step (f))
            break;
    }
    if (job->status == ODC_SNMP_PENDING)
        s_finish (f, ODC_SNMP_TIMEOUT, "no answer");
    if (s_null == stderr)
        fprintf (stderr, "fuzz_snmp: job of %zu scalars, %zu columns: status %d (%s), %zu values\n",
                 job->n_scalars, job->n_columns, job->status, job->error, job->n_values);
    free (f);
}

static void
s_print (odc_loop_t loop, const ProtobufCMessage *m)
{
    if (!m)
        return;
    odc_json_print (m, s_null, -1);
    if (s_null != stderr)
        odc_reading_fprint (s_null, loop, m);
    /*  What the bus carries: it must pack and unpack. */
    size_t n = protobuf_c_message_get_packed_size (m);
    uint8_t *buf = malloc (n ? n : 1);
    protobuf_c_message_pack (m, buf);
    ProtobufCMessage *back = protobuf_c_message_unpack (m->descriptor, NULL, n, buf);
    if (!back)
        abort (); /* a reading we made does not unpack: a bug */
    protobuf_c_message_free_unpacked (back, NULL);
    free (buf);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int which = data[0] % 5;
    uint8_t flags = data[1];
    data += 2, size -= 2;
    static const odc_loop_t loops[] = {ODC_LOOP_ALERT, ODC_LOOP_IDENTITY, ODC_LOOP_METER,
                                       ODC_LOOP_SUPPLY, ODC_LOOP_TRAY};
    odc_loop_t loop = loops[which];
    uint32_t x = 1 + ((flags >> 2) & 3);
    const odc_vendor_counter_t *vendor[32];
    size_t n_vendor = 0;
    size_t maker = flags >> 4;
    if (loop == ODC_LOOP_METER && maker && maker <= s_maker_count)
        for (size_t i = 0; i < s_vendor->count && n_vendor < 32; i++)
            if (s_vendor->counters[i].enterprise == s_makers[maker - 1])
                vendor[n_vendor++] = &s_vendor->counters[i];

    odc_read_oids_t oids, table_oids;
    odc_snmp_job_t job = {0}, table = {0};
    snprintf (job.address, sizeof job.address, "192.0.2.1");
    job.getnext_only = flags & 1;
    job.keep_raw = flags & 2;
    table = job;
    odc_read_prepare (loop, x, false, vendor, n_vendor, &oids, &job);
    if (job.n_scalars + job.n_columns == 0)
        return 0;
    s_run (&job, &data, &size);

    ProtobufCMessage *m = NULL;
    switch (loop) {
    case ODC_LOOP_ALERT:
        if (job.status == ODC_SNMP_OK && size >= 2) {
            odc_read_prepare (loop, x, true, NULL, 0, &table_oids, &table);
            s_run (&table, &data, &size);
            m = (ProtobufCMessage *)odc_read_alerts (&job, &table);
        }
        else
            m = (ProtobufCMessage *)odc_read_alerts (&job, NULL);
        break;
    case ODC_LOOP_IDENTITY:
        (void)odc_read_printer_index (&job);
        m = (ProtobufCMessage *)odc_read_identity (&job);
        break;
    case ODC_LOOP_METER: m = (ProtobufCMessage *)odc_read_meters (&job, vendor, n_vendor); break;
    case ODC_LOOP_SUPPLY: m = (ProtobufCMessage *)odc_read_supplies (&job); break;
    case ODC_LOOP_TRAY: m = (ProtobufCMessage *)odc_read_trays (&job); break;
    default: break;
    }
    s_print (loop, m);
    if (m)
        protobuf_c_message_free_unpacked (m, NULL);
    odc_snmp_job_clear (&job);
    odc_snmp_job_clear (&table);
    return 0;
}
