/*  odc_poll: "opendca poll", one device, one loop, once.

        opendca poll ADDRESS[:PORT] --loop NAME [credential options] [--json]

    Reads the device the way the loop does (identity first, for the printer's
    index and the maker), and prints the reading as JSON or as a table. The
    credential options are net-snmp's: -v 1|2c|3, -c COMMUNITY, -u USER,
    -l noAuthNoPriv|authNoPriv|authPriv, -a MD5|SHA|SHA-224|SHA-256|SHA-384|
    SHA-512, -A PASSPHRASE, -x DES|AES|AES-192|AES-256, -X PASSPHRASE,
    -n CONTEXT; -t timeout (ms), -r retries, -p port (161).
    Exit codes: 0 read, 1 the device did not answer (or refused), 2 usage. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_cli.h"
#include "odc_log.h"
#include "odc_alerts.h"
#include "odc_meters.h"
#include "odc_read.h"
#include "odc_text.h"

#ifndef ODC_DATA_DIR
#define ODC_DATA_DIR "."
#endif

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: opendca poll ADDRESS[:PORT] --loop NAME [OPTIONS]\n"
        "\n"
        "Read one device once, as the monitoring loop NAME does, and print the reading.\n"
        "Loops: alert, identity, meter, supply, tray.\n"
        "\n"
        "  --loop NAME            which loop's reading (required)\n"
        "  --json                 print JSON (default: a readable table)\n"
        "  --vendor-map FILE      vendor counters (default %s/snmp/vendor-counters.tsv)\n"
        "  -p, --port PORT        UDP port when ADDRESS has none (default 161)\n"
        "  -t, --timeout MS       per request (default 1500)\n"
        "  -r, --retries N        further tries per request (default 1)\n" ODC_CLI_CREDENTIAL_HELP
        "\n"
        "Exit codes: 0 read, 1 no answer or refused, 2 usage error.\n",
        ODC_DATA_DIR);
}

typedef struct {
    bool done;
} s_wait_t;

static void
s_done (odc_snmp_job_t *job, void *arg)
{
    (void)job;
    ((s_wait_t *)arg)->done = true;
}

static void
s_run (odc_snmp_t *engine, odc_snmp_job_t *job)
{
    s_wait_t wait = {false};
    job->done = s_done;
    job->arg = &wait;
    /*  One device, read to be looked at: every value as received too. */
    job->keep_raw = true;
    if (odc_snmp_submit (engine, job) != 0) {
        job->status = ODC_SNMP_ERROR;
        snprintf (job->error, sizeof job->error, "nothing to ask");
        return;
    }
    while (!wait.done)
        odc_snmp_run (engine, 1000);
}

/*  What reading one device cost. */
typedef struct {
    uint32_t requests, bytes_out, bytes_in, timeouts;
} s_cost_t;

static void
s_add_cost (s_cost_t *cost, const odc_snmp_job_t *job)
{
    cost->requests += job->requests;
    cost->bytes_out += job->bytes_out;
    cost->bytes_in += job->bytes_in;
    cost->timeouts += job->timeouts;
}

static void
s_job_init (odc_snmp_job_t *job, const char *address, int port, const odc_credential_t *cred)
{
    memset (job, 0, sizeof *job);
    snprintf (job->address, sizeof job->address, "%s", address);
    job->port = port;
    job->credential = cred;
}

/*  The identity, as the identity loop reads it (at the printer's own
    hrDeviceIndex when that is not 1); NULL with the reason in why.
    *fell_back: the device needed GETNEXT. */
static Odc__IdentityReading *
s_read_identity (odc_snmp_t *engine, const char *address, int port, const odc_credential_t *cred,
                 bool *fell_back, s_cost_t *cost, char *why, size_t why_size)
{
    Odc__IdentityReading *id = NULL;
    uint32_t x = 1;
    for (int attempt = 0; attempt < 2; attempt++) {
        odc_read_oids_t oids;
        odc_snmp_job_t job;
        s_job_init (&job, address, port, cred);
        odc_read_prepare (ODC_LOOP_IDENTITY, x, false, NULL, 0, &oids, &job);
        s_run (engine, &job);
        s_add_cost (cost, &job);
        Odc__IdentityReading *r = odc_read_identity (&job);
        if (!r)
            snprintf (why, why_size, "%s", job.error[0] ? job.error : "no answer");
        else
            *fell_back = job.fell_back;
        odc_snmp_job_clear (&job);
        if (r) {
            if (id)
                odc__identity_reading__free_unpacked (id, NULL);
            id = r;
        }
        if (!id || id->hr_device_index <= 1 || x != 1)
            break;
        x = (uint32_t)id->hr_device_index; /* its serial is at its own index */
    }
    return id;
}

/*  The canonical meters of a meter reading, as the meters actor adds
    them (the rules of snmp/meter-rules.tsv, loaded once). */
static void
s_rollup (Odc__MeterReading *r, uint32_t enterprise)
{
    static odc_meter_rules_t *rules;
    static bool tried;
    if (!tried) {
        tried = true;
        char path[512], *error = NULL;
        snprintf (path, sizeof path, "%s/snmp/meter-rules.tsv", ODC_DATA_DIR);
        rules = odc_meter_rules_load (path, &error);
        if (!rules)
            fprintf (stderr, "opendca: %s: no canonical meters\n", error ? error : path);
        free (error);
    }
    r->enterprise = enterprise;
    odc_meters_rollup (rules, r);
}

/*  The opendca code of each alert row, as triage gives it (the codes of
    snmp/alert-codes.tsv, loaded once; copies, freed with the reading). */
static void
s_classify (Odc__AlertReading *r)
{
    static odc_alert_codes_t *codes;
    static bool tried;
    if (!tried) {
        tried = true;
        char path[512], *error = NULL;
        snprintf (path, sizeof path, "%s/snmp/alert-codes.tsv", ODC_DATA_DIR);
        codes = odc_alert_codes_load (path, &error);
        if (!codes)
            fprintf (stderr, "opendca: %s: no alert codes\n", error ? error : path);
        free (error);
    }
    char **saved = malloc (2 * (r->n_alerts + 1) * sizeof *saved);
    odc_alert_classify_rows (codes, 0, r->alerts, r->n_alerts, saved);
    for (size_t i = 0; i < r->n_alerts; i++) {
        r->alerts[i]->standard = strdup (r->alerts[i]->standard);
        r->alerts[i]->category = strdup (r->alerts[i]->category);
    }
    free (saved); /* what they had: protobuf-c's empty defaults */
}

/*  One loop's reading of a device whose identity is known; NULL with the
    reason in why. */
static ProtobufCMessage *
s_read_loop (odc_snmp_t *engine, const char *address, int port, const odc_credential_t *cred,
             const Odc__IdentityReading *id, bool getnext_only, odc_loop_t loop,
             const odc_vendor_map_t *map, s_cost_t *cost, char *why, size_t why_size)
{
    uint32_t x = id->hr_device_index > 0 ? (uint32_t)id->hr_device_index : 1;
    const odc_vendor_counter_t *vendor[ODC_READ_MAX_VENDOR];
    size_t n_vendor =
        loop == ODC_LOOP_METER
            ? odc_vendor_map_maker (map, odc_enterprise_of (id->sys_object_id), vendor)
            : 0;
    odc_read_oids_t oids, oids_table;
    odc_snmp_job_t job, table;
    s_job_init (&job, address, port, cred);
    s_job_init (&table, address, port, cred);
    job.getnext_only = table.getnext_only = getnext_only;
    odc_read_prepare (loop, x, false, vendor, n_vendor, &oids, &job);
    s_run (engine, &job);
    s_add_cost (cost, &job);
    if (loop == ODC_LOOP_ALERT) {
        /*  A first pass always reads the table. */
        odc_read_prepare (ODC_LOOP_ALERT, x, true, NULL, 0, &oids_table, &table);
        s_run (engine, &table);
        s_add_cost (cost, &table);
    }
    ProtobufCMessage *reading = odc_read_decode (loop, &job, &table, vendor, n_vendor);
    if (reading && loop == ODC_LOOP_METER)
        s_rollup ((Odc__MeterReading *)reading, odc_enterprise_of (id->sys_object_id));
    if (reading && loop == ODC_LOOP_ALERT)
        s_classify ((Odc__AlertReading *)reading);
    if (!reading)
        snprintf (why, why_size, "%s", job.error[0] ? job.error : "no answer");
    odc_snmp_job_clear (&job);
    odc_snmp_job_clear (&table);
    return reading;
}

/*  The options of the one-device commands (poll, analyse). */
typedef struct {
    odc_credential_t cred;
    bool given; /* a credential option was on the line */
    bool json;
    const char *loop_name, *map_path;
    char address[64];
    int port, timeout, retries;
} s_args_t;

/*  Parse them; with_loop: --loop NAME too. -1 to go on, else the exit
    code (help printed, or a usage error said). */
static int
s_parse (int argc, char **argv, bool with_loop, const char *prog, void (*usage) (FILE *),
         s_args_t *a)
{
    memset (a, 0, sizeof *a);
    odc_cli_credential_init (&a->cred);
    a->port = 161, a->timeout = 1500, a->retries = 1;
    static const struct option options[] = {{"loop", 1, 0, 'L'},       {"json", 0, 0, 'J'},
                                            {"vendor-map", 1, 0, 'M'}, {"port", 1, 0, 'p'},
                                            {"timeout", 1, 0, 't'},    {"retries", 1, 0, 'r'},
                                            {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    optind = 0; /* glibc: start afresh (the main command line was parsed before) */
    int opt;
    while ((opt = getopt_long (argc, argv, ODC_CLI_CREDENTIAL_OPTS "p:t:r:h", options, NULL)) !=
           -1) {
        int taken = odc_cli_credential_option (opt, optarg, &a->cred, &a->given, prog);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        switch (opt) {
        case 'L':
            if (!with_loop) {
                usage (stderr);
                return 2;
            }
            a->loop_name = optarg;
            break;
        case 'J': a->json = true; break;
        case 'M': a->map_path = optarg; break;
        case 'p':
            if (odc_cli_number (prog, "port", optarg, 1, 65535, "the UDP port", &a->port))
                return 2;
            break;
        case 't':
            if (odc_cli_number (prog, "timeout", optarg, 10, 60000, "ms a request", &a->timeout))
                return 2;
            break;
        case 'r':
            /*  The configuration's bound (snmp.retries). */
            if (odc_cli_number (prog, "retries", optarg, 0, 10, "further tries per request",
                                &a->retries))
                return 2;
            break;
        case 'h': usage (stdout); return 0;
        default: usage (stderr); return 2;
        }
    }
    if (optind + 1 != argc || (with_loop && !a->loop_name)) {
        fprintf (stderr, "%s: needs one ADDRESS[:PORT]%s (see --help)\n", prog,
                 with_loop ? " and --loop NAME" : "");
        return 2;
    }
    if (odc_cli_credential_check (&a->cred, prog) != 0)
        return 2;
    if (odc_cli_address (argv[optind], a->address, sizeof a->address, &a->port) != 0 ||
        a->port < 1 || a->port > 65535) {
        fprintf (stderr, "%s: %s: the port must be 1-65535\n", prog, argv[optind]);
        return 2;
    }
    return -1;
}

/*  The vendor map (when need_map) and an engine for one device; NULL with
    the reason said. */
static odc_snmp_t *
s_engine (const s_args_t *a, bool need_map, odc_vendor_map_t **map, const char *prog)
{
    *map = NULL;
    if (need_map) {
        char default_map[512];
        snprintf (default_map, sizeof default_map, "%s/snmp/vendor-counters.tsv", ODC_DATA_DIR);
        char *error = NULL;
        *map = odc_vendor_map_load (a->map_path ? a->map_path : default_map, &error);
        if (!*map) {
            fprintf (stderr, "%s: %s\n", prog, error ? error : "cannot load the vendor map");
            free (error);
            return NULL;
        }
    }
    odc_snmp_init (4096);
    odc_snmp_options_t eo = {
        .window = 1, .timeout_ms = a->timeout, .retries = a->retries, .max_repetitions = 16};
    return odc_snmp_new (&eo);
}

int
odc_poll_main (int argc, char **argv, const char *config)
{
    (void)config; /* a device's own options, no configuration */
    s_args_t a;
    int rc = s_parse (argc, argv, true, "opendca poll", s_usage, &a);
    if (rc >= 0)
        return rc;
    int loop = -1;
    for (int i = 0; i < ODC_LOOP_COUNT; i++)
        if (strcmp (a.loop_name, odc_config_loop_names[i]) == 0)
            loop = i;
    if (loop < 0) {
        fprintf (stderr, "opendca poll: --loop %s: alert, identity, meter, supply or tray\n",
                 a.loop_name);
        return 2;
    }
    const char *loop_name = a.loop_name, *address = a.address;
    const odc_credential_t cred = a.cred;
    bool json = a.json;
    int port = a.port;

    odc_vendor_map_t *map = NULL;
    odc_snmp_t *engine = s_engine (&a, loop == ODC_LOOP_METER, &map, "opendca poll");
    if (!engine)
        return 2;
    s_cost_t cost = {0};
    char why[200] = "";
    bool fell_back = false;
    rc = 0;
    ProtobufCMessage *reading = NULL;
    Odc__IdentityReading *id =
        s_read_identity (engine, address, port, &cred, &fell_back, &cost, why, sizeof why);
    if (!id) {
        fprintf (stderr,
                 "opendca poll: %s:%d: %s (%u requests, %u timeouts; check the address, "
                 "the port and the credentials)\n",
                 address, port, why, cost.requests, cost.timeouts);
        rc = 1;
    }
    else if (loop == ODC_LOOP_IDENTITY)
        reading = (ProtobufCMessage *)id;
    else {
        reading = s_read_loop (engine, address, port, &cred, id, fell_back, (odc_loop_t)loop, map,
                               &cost, why, sizeof why);
        odc__identity_reading__free_unpacked (id, NULL);
        if (!reading) {
            fprintf (stderr, "opendca poll: %s:%d: %s\n", address, port, why);
            rc = 1;
        }
    }
    if (reading) {
        if (json) {
            odc_json_print (reading, stdout, 0);
            putchar ('\n');
        }
        else {
            printf ("%s:%d, %s loop (%u requests, %u bytes out, %u in)\n", address, port, loop_name,
                    cost.requests, cost.bytes_out, cost.bytes_in);
            odc_reading_print ((odc_loop_t)loop, reading);
        }
        protobuf_c_message_free_unpacked (reading, NULL);
    }
    odc_snmp_destroy (&engine);
    odc_vendor_map_destroy (&map);
    odc_snmp_shutdown ();
    return rc;
}

/* ------------------------------------------------------------------------
   opendca analyse: what a device offers each loop, and a verdict */

typedef struct {
    int major, minor;
    char text[24][160];
    const char *loop[24];
    bool is_major[24];
    int count;
} s_findings_t;

static void s_find (s_findings_t *f, bool major, const char *loop, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_find (s_findings_t *f, bool major, const char *loop, const char *fmt, ...)
{
    if (f->count == 24)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (f->text[f->count], sizeof f->text[0], fmt, ap);
    va_end (ap);
    f->loop[f->count] = loop;
    f->is_major[f->count++] = major;
    if (major)
        f->major++;
    else
        f->minor++;
}

static const char *
s_supply_unit (int unit)
{
    switch (unit) {
    case 3: return "ten-thousandths of inches";
    case 4: return "micrometers";
    case 7: return "impressions";
    case 8: return "sheets";
    case 11: return "hours";
    case 12: return "thousandths of ounces";
    case 13: return "tenths of grams";
    case 14: return "hundredths of fluid ounces";
    case 15: return "tenths of milliliters";
    case 16: return "feet";
    case 17: return "meters";
    case 18: return "items";
    case 19: return "percent";
    default: return "other";
    }
}

static const char *
s_sentinel (int value)
{
    switch (value) {
    case -1: return "other (no limit)";
    case -2: return "unknown";
    case -3: return "some remaining";
    default: return NULL;
    }
}

static void
s_analyse_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: opendca analyse ADDRESS[:PORT] [OPTIONS]\n"
        "\n"
        "A manageability report of one device: which SNMP versions answer, GETBULK,\n"
        "and what it offers each monitoring loop (identity fields, alert table,\n"
        "supplies with their units and sentinels, standard and vendor counters,\n"
        "trays), with a verdict on how well it can be managed.\n"
        "\n"
        "  --json                 the report as one JSON object\n"
        "  --vendor-map FILE      vendor counters (default %s/snmp/vendor-counters.tsv)\n"
        "  -p, --port PORT        UDP port when ADDRESS has none (default 161)\n"
        "  -t, --timeout MS       per request (default 1500)\n"
        "  -r, --retries N        further tries per request (default 1)\n" ODC_CLI_CREDENTIAL_HELP
        "\n"
        "SNMPv1 and v2c are tried with the community (-c, default public), v3 when -u\n"
        "is given; the loops are read with the credential given, or else with the\n"
        "first version that answered.\n"
        "Exit codes: 0 analysed, 1 no answer with any version, 2 usage error.\n",
        ODC_DATA_DIR);
}

/*  Does the device answer a GET of sysObjectID.0 with this credential? */
static bool
s_answers (odc_snmp_t *engine, const char *address, int port, const odc_credential_t *cred,
           s_cost_t *cost)
{
    odc_oid_t sys_object_id;
    odc_oid_parse ("1.3.6.1.2.1.1.2.0", &sys_object_id);
    odc_snmp_job_t job;
    s_job_init (&job, address, port, cred);
    job.scalars = &sys_object_id;
    job.n_scalars = 1;
    s_run (engine, &job);
    s_add_cost (cost, &job);
    bool ok = job.status == ODC_SNMP_OK && job.n_values > 0 && job.values[0].type == ASN_OBJECT_ID;
    odc_snmp_job_clear (&job);
    return ok;
}

/*  Whether the device answered an OID under prefix (raw varbinds kept). */
static bool
s_has (const Odc__ReadingHeader *h, const char *prefix)
{
    size_t n = strlen (prefix);
    for (size_t i = 0; h && i < h->n_raw; i++)
        if (!strncmp (h->raw[i]->oid, prefix, n) && h->raw[i]->type < 0x80)
            return true;
    return false;
}

/*  The findings: what each loop will and will not get from the device. */
static void
s_judge (s_findings_t *f, const Odc__IdentityReading *id, const Odc__AlertReading *alerts,
         const Odc__MeterReading *meters, const Odc__SupplyReading *supplies,
         const Odc__TrayReading *trays, bool getbulk, int version)
{
    if (!id->serial[0] && id->mac[0])
        s_find (f, false, "identity", "no serial number: the device is known by its MAC address");
    else if (!id->serial[0])
        s_find (f, true, "identity",
                "no serial number and no MAC address: the device is known by its address only, "
                "so moves and replacements cannot be told apart");
    if (!id->vendor[0])
        s_find (f, false, "identity", "maker not recognised from sysObjectID %s",
                id->sys_object_id[0] ? id->sys_object_id : "(none)");
    bool status = alerts && s_has (alerts->header, "1.3.6.1.2.1.25.3.2.1.5.");
    bool errors = alerts && s_has (alerts->header, "1.3.6.1.2.1.25.3.5.1.2.");
    bool events = alerts && s_has (alerts->header, "1.3.6.1.2.1.43.5.1.1.19.");
    if (!alerts)
        s_find (f, true, "alert", "the alert status does not answer");
    else if (!status && !errors && !events && !alerts->n_alerts)
        s_find (f, true, "alert",
                "no hrDeviceStatus, no error bits, no alert counters, no alert table: alerts "
                "cannot be seen");
    else if (!events)
        s_find (f, false, "alert",
                "no prtAlertAllEvents: the alert loop cannot tell when the alert table changed");
    else if (!errors)
        s_find (f, false, "alert", "no hrPrinterDetectedErrorState: no error bits");
    size_t vendor = 0, standard = 0;
    for (size_t i = 0; meters && i < meters->n_counters; i++) {
        if (!strncmp (meters->counters[i]->oid, "1.3.6.1.2.1.43.10.2.1.4.", 24))
            standard++;
        else
            vendor++;
    }
    if (!meters || (!vendor && !standard))
        s_find (f, true, "meter", "no page counter: no meters");
    else if (!vendor)
        s_find (f, false, "meter",
                "prtMarkerLifeCount only: no vendor counters known for this maker, so no mono / "
                "colour or small / large split");
    if (!supplies || !supplies->n_supplies)
        s_find (f, true, "supply", "no supply table: no consumable levels, no forecasts");
    else {
        size_t blind = 0;
        for (size_t i = 0; i < supplies->n_supplies; i++)
            if (supplies->supplies[i]->percent < 0)
                blind++;
        if (blind == supplies->n_supplies)
            s_find (f, true, "supply",
                    "no supply reports a level against a capacity (all sentinels): no run-out "
                    "forecasts, only empty / not empty");
        else if (blind)
            s_find (f, false, "supply",
                    "%zu of %zu supplies report no level against a capacity (sentinels): those "
                    "are not forecast",
                    blind, supplies->n_supplies);
    }
    if (!trays || !trays->n_trays)
        s_find (f, false, "tray", "no input tray table: no paper levels");
    if (version == 1)
        s_find (f, false, "snmp", "SNMPv1 only: no GETBULK, no 64-bit counters, more requests");
    else if (!getbulk)
        s_find (f, false, "snmp", "GETBULK does not work: read with GETNEXT, more requests");
}

static const char *
s_verdict (const s_findings_t *f, const Odc__IdentityReading *id, const Odc__SupplyReading *sup,
           const Odc__MeterReading *meters)
{
    bool printerish =
        id->hr_device_index > 0 || (sup && sup->n_supplies) || (meters && meters->n_counters);
    if (!printerish)
        return "not a printer (no hrDeviceType printer, no Printer-MIB): not managed";
    if (!f->major && !f->minor)
        return "fully manageable: every loop gets what it needs";
    if (!f->major)
        return "well manageable, with the limitations below";
    if (f->major <= 2)
        return "partly manageable: see what is missing below";
    return "hardly manageable: most of what the loops need is missing";
}

int
odc_analyse_main (int argc, char **argv, const char *config)
{
    (void)config;
    const char *prog = "opendca analyse";
    s_args_t a;
    int parsed = s_parse (argc, argv, false, prog, s_analyse_usage, &a);
    if (parsed >= 0)
        return parsed;
    odc_credential_t cred = a.cred;
    bool json = a.json, given = a.given;
    const char *address = a.address;
    int port = a.port;
    odc_vendor_map_t *map = NULL;
    odc_snmp_t *engine = s_engine (&a, true, &map, prog);
    if (!engine)
        return 2;
    s_cost_t cost = {0};

    /*  Which versions answer. */
    odc_credential_t v1 = cred, v2 = cred;
    v1.name = "v1", v2.name = "v2c";
    v1.version = 1, v2.version = 2;
    v1.community = v2.community = cred.version == 3 ? "public" : cred.community;
    bool ans[3];
    ans[0] = s_answers (engine, address, port, &v1, &cost);
    ans[1] = s_answers (engine, address, port, &v2, &cost);
    ans[2] = cred.version == 3 && s_answers (engine, address, port, &cred, &cost);
    const odc_credential_t *use = NULL;
    if (ans[cred.version - 1])
        use = &cred;
    else if (!given || cred.version != 3)
        use = ans[1] ? &v2 : ans[0] ? &v1 : NULL;
    int rc = 0;
    if (!use) {
        fprintf (stderr,
                 "%s: %s:%d: no answer with SNMP v1 or v2c (community given) %s (%u requests, %u "
                 "timeouts; check the address, the port and the credentials)\n",
                 prog, address, port, cred.version == 3 ? "nor v3" : "(v3 not tried: no -u)",
                 cost.requests, cost.timeouts);
        odc_snmp_destroy (&engine);
        odc_vendor_map_destroy (&map);
        odc_snmp_shutdown ();
        return 1;
    }
    bool fell_back = false;
    char why[200] = "";
    Odc__IdentityReading *id =
        s_read_identity (engine, address, port, use, &fell_back, &cost, why, sizeof why);
    ProtobufCMessage *r[ODC_LOOP_COUNT] = {0};
    char whys[ODC_LOOP_COUNT][200] = {{0}};
    if (id) {
        r[ODC_LOOP_IDENTITY] = (ProtobufCMessage *)id;
        for (int loop = 0; loop < ODC_LOOP_COUNT; loop++)
            if (loop != ODC_LOOP_IDENTITY)
                r[loop] = s_read_loop (engine, address, port, use, id, fell_back, (odc_loop_t)loop,
                                       map, &cost, whys[loop], sizeof whys[loop]);
    }
    else
        /*  It answers a GET, not the loops' reads: still a report. */
        for (int loop = 0; loop < ODC_LOOP_COUNT; loop++)
            snprintf (whys[loop], sizeof whys[loop], "%s", why);
    {
        Odc__IdentityReading empty_id = ODC__IDENTITY_READING__INIT;
        if (!id)
            id = &empty_id;
        const Odc__AlertReading *alerts = (const Odc__AlertReading *)r[ODC_LOOP_ALERT];
        const Odc__MeterReading *meters = (const Odc__MeterReading *)r[ODC_LOOP_METER];
        const Odc__SupplyReading *supplies = (const Odc__SupplyReading *)r[ODC_LOOP_SUPPLY];
        const Odc__TrayReading *trays = (const Odc__TrayReading *)r[ODC_LOOP_TRAY];
        bool getbulk = use->version != 1 && !fell_back;
        s_findings_t f = {0};
        const char *verdict;
        if (!r[ODC_LOOP_IDENTITY]) {
            s_find (&f, true, "identity",
                    "it answers a GET of sysObjectID, but not the identity loop's read (%s)", why);
            verdict = "not manageable: none of the loops' reads is answered";
        }
        else {
            s_judge (&f, id, alerts, meters, supplies, trays, getbulk, use->version);
            verdict = s_verdict (&f, id, supplies, meters);
        }
        static const char *vnames[3] = {"v1", "v2c", "v3"};
        if (json) {
            printf ("{\"address\":\"%s\",\"port\":%d,\"credential\":\"%s\",\"version\":\"%s\","
                    "\"versions\":{\"v1\":%s,\"v2c\":%s,\"v3\":%s},\"getbulk\":%s,",
                    address, port, use == &cred ? cred.name : use->name, vnames[use->version - 1],
                    ans[0] ? "true" : "false", ans[1] ? "true" : "false",
                    cred.version == 3 ? (ans[2] ? "true" : "false") : "null",
                    getbulk ? "true" : "false");
            printf ("\"requests\":%u,\"timeouts\":%u,\"readings\":{", cost.requests, cost.timeouts);
            bool first = true;
            for (int loop = 0; loop < ODC_LOOP_COUNT; loop++) {
                if (!r[loop])
                    continue;
                printf ("%s\"%s\":", first ? "" : ",", odc_config_loop_names[loop]);
                odc_json_print (r[loop], stdout, -1);
                first = false;
            }
            printf ("},\"findings\":[");
            for (int i = 0; i < f.count; i++)
                printf ("%s{\"loop\":\"%s\",\"severity\":\"%s\",\"text\":\"%s\"}", i ? "," : "",
                        f.loop[i], f.is_major[i] ? "major" : "minor", f.text[i]);
            printf ("],\"verdict\":\"%s\"}\n", verdict);
        }
        else {
            printf ("%s:%d: %s%s%s, %s (%s)\n\n", address, port, id->vendor,
                    id->vendor[0] ? " " : "", id->model[0] ? id->model : "unknown model",
                    id->serial[0] ? id->serial : "no serial", verdict);
            printf ("SNMP\n");
            for (int v = 0; v < 3; v++)
                odc_reading_row (stdout, vnames[v],
                                 v == 2 && cred.version != 3 ? "not tried (no -u USER)"
                                 : ans[v]                    ? "answers"
                                                             : "no answer");
            odc_reading_row (stdout, "GETBULK",
                             use->version == 1 ? "not in SNMPv1"
                             : getbulk         ? "works"
                                               : "does not work (GETNEXT used)");
            char buf[200];
            snprintf (buf, sizeof buf, "%u requests, %u bytes out, %u in, %u timeouts",
                      cost.requests, cost.bytes_out, cost.bytes_in, cost.timeouts);
            odc_reading_row (stdout, "this analysis", buf);
            static const char *titles[ODC_LOOP_COUNT] = {
                "Alerts (alert loop)", "Identity (identity loop)", "Counters (meter loop)",
                "Supplies (supply loop)", "Trays and media (tray loop)"};
            static const int order[] = {ODC_LOOP_IDENTITY, ODC_LOOP_ALERT, ODC_LOOP_METER,
                                        ODC_LOOP_SUPPLY, ODC_LOOP_TRAY};
            for (size_t k = 0; k < 5; k++) {
                int loop = order[k];
                printf ("\n%s\n", titles[loop]);
                if (!r[loop]) {
                    printf ("  nothing: %s\n", whys[loop]);
                    continue;
                }
                if (loop == ODC_LOOP_METER) {
                    for (size_t i = 0; i < meters->n_counters; i++) {
                        const Odc__Counter *c = meters->counters[i];
                        snprintf (buf, sizeof buf, "%llu %s (%s %s)", (unsigned long long)c->value,
                                  c->unit,
                                  strncmp (c->oid, "1.3.6.1.2.1.43.10.2.1.4.", 24)
                                      ? "vendor counter"
                                      : "standard, prtMarkerLifeCount",
                                  c->oid);
                        odc_reading_row (stdout, c->name, buf);
                    }
                }
                else
                    odc_reading_print ((odc_loop_t)loop, r[loop]);
                if (loop == ODC_LOOP_SUPPLY) {
                    for (size_t i = 0; i < supplies->n_supplies; i++) {
                        const Odc__Supply *s = supplies->supplies[i];
                        const char *lv = s_sentinel (s->level), *mx = s_sentinel (s->max_capacity);
                        printf ("  supply %d: unit %s", s->index, s_supply_unit (s->unit));
                        if (lv)
                            printf ("; level %d = %s", s->level, lv);
                        if (mx)
                            printf ("; capacity %d = %s", s->max_capacity, mx);
                        printf ("%s\n", s->percent >= 0 ? "" : "; no percentage");
                    }
                }
            }
            printf ("\nVerdict: %s\n", verdict);
            for (int i = 0; i < f.count; i++)
                printf ("  %s (%s): %s\n", f.is_major[i] ? "missing" : "limited", f.loop[i],
                        f.text[i]);
        }
    }
    for (int loop = 0; loop < ODC_LOOP_COUNT; loop++)
        if (r[loop])
            protobuf_c_message_free_unpacked (r[loop], NULL);
    odc_snmp_destroy (&engine);
    odc_vendor_map_destroy (&map);
    odc_snmp_shutdown ();
    return rc;
}
