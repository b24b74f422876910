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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_log.h"
#include "odc_read.h"

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
        "  -r, --retries N        further tries per request (default 1)\n"
        "  -v 1|2c|3              SNMP version (default 2c)\n"
        "  -c COMMUNITY           v1/v2c community (default public)\n"
        "  -u USER                v3 user\n"
        "  -l LEVEL               v3 level: noAuthNoPriv, authNoPriv, authPriv\n"
        "  -a PROTOCOL            v3 authentication: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512\n"
        "  -A PASSPHRASE          v3 authentication passphrase\n"
        "  -x PROTOCOL            v3 privacy: DES, AES, AES-192, AES-256\n"
        "  -X PASSPHRASE          v3 privacy passphrase\n"
        "  -n CONTEXT             v3 context name\n"
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

static void
s_table_row (FILE *out, const char *key, const char *value)
{
    fprintf (out, "  %-22s %s\n", key, value);
}

void
odc_reading_fprint (FILE *out, odc_loop_t loop, const ProtobufCMessage *m)
{
    char buf[256];
    switch (loop) {
    case ODC_LOOP_IDENTITY: {
        const Odc__IdentityReading *r = (const Odc__IdentityReading *)m;
        s_table_row (out, "maker", r->vendor);
        s_table_row (out, "model", r->model);
        s_table_row (out, "serial", r->serial);
        s_table_row (out, "MAC", r->mac);
        s_table_row (out, "sysName", r->sys_name);
        s_table_row (out, "sysLocation", r->sys_location);
        s_table_row (out, "sysObjectID", r->sys_object_id);
        s_table_row (out, "sysDescr", r->sys_descr);
        snprintf (buf, sizeof buf, "%d", r->hr_device_index);
        s_table_row (out, "printer hrDeviceIndex", buf);
        snprintf (buf, sizeof buf, "%llu s", (unsigned long long)r->sys_uptime_cs / 100);
        s_table_row (out, "uptime", buf);
        break;
    }
    case ODC_LOOP_ALERT: {
        const Odc__AlertReading *r = (const Odc__AlertReading *)m;
        snprintf (buf, sizeof buf, "%d (1 unknown, 2 running, 3 warning, 4 testing, 5 down)",
                  r->hr_device_status);
        s_table_row (out, "hrDeviceStatus", buf);
        snprintf (buf, sizeof buf, "%d (3 idle, 4 printing, 5 warmup)", r->hr_printer_status);
        s_table_row (out, "hrPrinterStatus", buf);
        snprintf (buf, sizeof buf, "0x%04x", r->detected_error_state);
        s_table_row (out, "detected error state", buf);
        snprintf (buf, sizeof buf, "%u critical, %u in all", r->critical_events, r->all_events);
        s_table_row (out, "events since power-up", buf);
        fprintf (out, "  %-6s %-8s %-6s %-6s %s\n", "index", "severity", "group", "code",
                 "description");
        for (size_t i = 0; i < r->n_alerts; i++)
            fprintf (out, "  %-6d %-8d %-6d %-6d %s\n", r->alerts[i]->index, r->alerts[i]->severity,
                     r->alerts[i]->group, r->alerts[i]->code, r->alerts[i]->description);
        break;
    }
    case ODC_LOOP_METER: {
        const Odc__MeterReading *r = (const Odc__MeterReading *)m;
        for (size_t i = 0; i < r->n_counters; i++) {
            snprintf (buf, sizeof buf, "%llu %s", (unsigned long long)r->counters[i]->value,
                      r->counters[i]->unit);
            s_table_row (out, r->counters[i]->name, buf);
        }
        break;
    }
    case ODC_LOOP_SUPPLY: {
        const Odc__SupplyReading *r = (const Odc__SupplyReading *)m;
        fprintf (out, "  %-5s %-34s %-8s %-6s %-6s %-6s %-5s %s\n", "index", "description",
                 "colour", "class", "max", "level", "unit", "percent");
        for (size_t i = 0; i < r->n_supplies; i++) {
            const Odc__Supply *s = r->supplies[i];
            char pct[16];
            snprintf (pct, sizeof pct, s->percent >= 0 ? "%d %%" : "-", s->percent);
            fprintf (out, "  %-5d %-34.34s %-8.8s %-6d %-6d %-6d %-5d %s\n", s->index,
                     s->description, s->colorant, s->supply_class, s->max_capacity, s->level,
                     s->unit, pct);
        }
        break;
    }
    case ODC_LOOP_TRAY: {
        const Odc__TrayReading *r = (const Odc__TrayReading *)m;
        fprintf (out, "  %-5s %-24s %-5s %-6s %-6s %-6s %s\n", "index", "name", "type", "max",
                 "level", "status", "media");
        for (size_t i = 0; i < r->n_trays; i++) {
            const Odc__Tray *t = r->trays[i];
            fprintf (out, "  %-5d %-24.24s %-5d %-6d %-6d %-6d %s\n", t->index, t->name, t->type,
                     t->max_capacity, t->current_level, t->status, t->media_name);
        }
        for (size_t i = 0; i < r->n_covers; i++)
            fprintf (out, "  cover %d: %s (status %d)\n", r->covers[i]->index,
                     r->covers[i]->description, r->covers[i]->status);
        break;
    }
    default: break;
    }
}

void
odc_reading_print (odc_loop_t loop, const ProtobufCMessage *m)
{
    odc_reading_fprint (stdout, loop, m);
}

int
odc_poll_main (int argc, char **argv)
{
    static const char *const versions[] = {"1", "2c", "3", NULL};
    static const char *const levels[] = {"noAuthNoPriv", "authNoPriv", "authPriv", NULL};
    odc_credential_t cred = {.name = "command line", .version = 2, .community = "public"};
    const char *loop_name = NULL, *map_path = NULL;
    bool json = false;
    int port = 161, timeout = 1500, retries = 1;
    static const struct option options[] = {{"loop", 1, 0, 'L'},       {"json", 0, 0, 'J'},
                                            {"vendor-map", 1, 0, 'M'}, {"port", 1, 0, 'p'},
                                            {"timeout", 1, 0, 't'},    {"retries", 1, 0, 'r'},
                                            {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    optind = 0; /* glibc: start afresh (the main command line was parsed before) */
    int opt;
    while ((opt = getopt_long (argc, argv, "v:c:u:l:a:A:x:X:n:p:t:r:h", options, NULL)) != -1) {
        int i;
        switch (opt) {
        case 'L': loop_name = optarg; break;
        case 'J': json = true; break;
        case 'M': map_path = optarg; break;
        case 'p': port = atoi (optarg); break;
        case 't': timeout = atoi (optarg); break;
        case 'r': retries = atoi (optarg); break;
        case 'v':
            if ((i = odc_config_choice (versions, optarg)) < 0) {
                fprintf (stderr, "opendca poll: -v %s: 1, 2c or 3\n", optarg);
                return 2;
            }
            cred.version = i + 1;
            break;
        case 'c': cred.community = optarg; break;
        case 'u': cred.user = optarg; break;
        case 'l':
            if ((i = odc_config_choice (levels, optarg)) < 0) {
                fprintf (stderr, "opendca poll: -l %s: noAuthNoPriv, authNoPriv or authPriv\n",
                         optarg);
                return 2;
            }
            cred.level = i;
            break;
        case 'a':
            if ((i = odc_config_choice (odc_config_auth_protocols, optarg)) < 0) {
                fprintf (stderr,
                         "opendca poll: -a %s: MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512\n",
                         optarg);
                return 2;
            }
            cred.auth_protocol = i;
            break;
        case 'A': cred.auth_passphrase = optarg; break;
        case 'x':
            if ((i = odc_config_choice (odc_config_priv_protocols, optarg)) < 0) {
                fprintf (stderr, "opendca poll: -x %s: DES, AES, AES-192 or AES-256\n", optarg);
                return 2;
            }
            cred.priv_protocol = i;
            break;
        case 'X': cred.priv_passphrase = optarg; break;
        case 'n': cred.context = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind + 1 != argc || !loop_name) {
        fprintf (stderr, "opendca poll: needs one ADDRESS[:PORT] and --loop NAME (see --help)\n");
        return 2;
    }
    int loop = -1;
    for (int i = 0; i < ODC_LOOP_COUNT; i++)
        if (strcmp (loop_name, odc_config_loop_names[i]) == 0)
            loop = i;
    if (loop < 0) {
        fprintf (stderr, "opendca poll: --loop %s: alert, identity, meter, supply or tray\n",
                 loop_name);
        return 2;
    }
    if (cred.version == 3) {
        if (!cred.user ||
            (cred.level >= 1 && (!cred.auth_passphrase || strlen (cred.auth_passphrase) < 8)) ||
            (cred.level == 2 && (!cred.priv_passphrase || strlen (cred.priv_passphrase) < 8))) {
            fprintf (stderr, "opendca poll: SNMPv3 needs -u USER, and -A / -X passphrases of 8 or "
                             "more characters for its level (-l)\n");
            return 2;
        }
        cred.community = NULL;
    }
    char address[64];
    snprintf (address, sizeof address, "%s", argv[optind]);
    char *colon = strrchr (address, ':');
    if (colon && strchr (address, ':') == colon) { /* one colon: ADDRESS:PORT */
        *colon = 0;
        port = atoi (colon + 1);
    }
    if (port < 1 || port > 65535 || timeout < 10 || retries < 0) {
        fprintf (stderr, "opendca poll: port 1-65535, timeout 10 ms or more, retries 0 or more\n");
        return 2;
    }

    char default_map[512];
    snprintf (default_map, sizeof default_map, "%s/snmp/vendor-counters.tsv", ODC_DATA_DIR);
    char *error = NULL;
    odc_vendor_map_t *map = NULL;
    if (loop == ODC_LOOP_METER) {
        map = odc_vendor_map_load (map_path ? map_path : default_map, &error);
        if (!map) {
            fprintf (stderr, "opendca poll: %s\n", error ? error : "cannot load the vendor map");
            free (error);
            return 2;
        }
    }
    odc_snmp_init (4096);
    odc_snmp_options_t eo = {
        .window = 1, .timeout_ms = timeout, .retries = retries, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&eo);
    odc_read_oids_t oids_identity, oids, oids_table;
    odc_snmp_job_t identity = {0}, job = {0}, table = {0};
    snprintf (identity.address, sizeof identity.address, "%s", address);
    identity.port = port;
    identity.credential = &cred;
    odc_read_prepare (ODC_LOOP_IDENTITY, 1, false, NULL, 0, &oids_identity, &identity);
    s_run (engine, &identity);
    int rc = 0;
    ProtobufCMessage *reading = NULL;
    if (identity.status != ODC_SNMP_OK) {
        fprintf (stderr,
                 "opendca poll: %s:%d: %s (%u requests, %u timeouts; check the address, "
                 "the port and the credentials)\n",
                 address, port, identity.error[0] ? identity.error : "no answer", identity.requests,
                 identity.timeouts);
        rc = 1;
    }
    else {
        Odc__IdentityReading *id = odc_read_identity (&identity);
        uint32_t x = id && id->hr_device_index > 0 ? (uint32_t)id->hr_device_index : 1;
        const odc_vendor_counter_t *vendor[32];
        size_t n_vendor = 0;
        uint32_t enterprise = id ? odc_enterprise_of (id->sys_object_id) : 0;
        for (size_t i = 0; map && i < map->count && n_vendor < 32; i++)
            if (map->counters[i].enterprise == enterprise)
                vendor[n_vendor++] = &map->counters[i];
        if (loop == ODC_LOOP_IDENTITY)
            reading = (ProtobufCMessage *)id;
        else {
            odc__identity_reading__free_unpacked (id, NULL);
            job.port = table.port = port;
            snprintf (job.address, sizeof job.address, "%s", address);
            snprintf (table.address, sizeof table.address, "%s", address);
            job.credential = table.credential = &cred;
            job.getnext_only = table.getnext_only = identity.fell_back;
            odc_read_prepare ((odc_loop_t)loop, x, false, vendor, n_vendor, &oids, &job);
            s_run (engine, &job);
            if (loop == ODC_LOOP_ALERT) {
                /*  A first pass always reads the table. */
                odc_read_prepare (ODC_LOOP_ALERT, x, true, NULL, 0, &oids_table, &table);
                s_run (engine, &table);
                reading = (ProtobufCMessage *)odc_read_alerts (&job, &table);
            }
            else if (loop == ODC_LOOP_METER)
                reading = (ProtobufCMessage *)odc_read_meters (&job, vendor, n_vendor);
            else if (loop == ODC_LOOP_SUPPLY)
                reading = (ProtobufCMessage *)odc_read_supplies (&job);
            else
                reading = (ProtobufCMessage *)odc_read_trays (&job);
            if (!reading) {
                fprintf (stderr, "opendca poll: %s:%d: %s\n", address, port,
                         job.error[0] ? job.error : "no answer");
                rc = 1;
            }
        }
    }
    if (reading) {
        if (json) {
            odc_json_print (reading, stdout, 0);
            putchar ('\n');
        }
        else {
            printf ("%s:%d, %s loop (%u requests, %u bytes out, %u in)\n", address, port, loop_name,
                    identity.requests + job.requests + table.requests,
                    identity.bytes_out + job.bytes_out + table.bytes_out,
                    identity.bytes_in + job.bytes_in + table.bytes_in);
            odc_reading_print ((odc_loop_t)loop, reading);
        }
        protobuf_c_message_free_unpacked (reading, NULL);
    }
    odc_snmp_job_clear (&identity);
    odc_snmp_job_clear (&job);
    odc_snmp_job_clear (&table);
    odc_snmp_destroy (&engine);
    odc_vendor_map_destroy (&map);
    odc_snmp_shutdown ();
    return rc;
}
