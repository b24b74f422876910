/*  opendca: the collector's command line and daemon.

        opendca run -c FILE          run the collector until SIGINT/SIGTERM
        opendca config check FILE    validate a configuration (exit 0 or 2)
        opendca imil "COMMAND" -c FILE   a command to the running collector
        opendca --help | --version

    "run" loads the configuration, raises the descriptor limit, opens the
    store, starts the actors through the supervisor and waits for signals:
    SIGHUP loads the configuration again and hands it to every actor,
    SIGINT/SIGTERM stop the actors in reverse start order and close the store.
    Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#ifdef ODC_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "odc_bus.h"
#include "odc_config.h"
#include "odc_log.h"
#include "odc_discovery_actor.h"
#include "odc_outbox.h"
#include "odc_devices.h"
#include "odc_store.h"
#include "odc_supervisor.h"
#include "odc_bridge_actor.h"
#include "odc_imil.h"
#include "odc_latest_actor.h"
#include "odc_loop_actor.h"
#include "odc_registry_actor.h"
#include "odc_status.h"
#include "odc_uploader_actor.h"
#include "odc_read.h"
#include "odc_snmp.h"

#ifndef ODC_DATA_DIR
#define ODC_DATA_DIR "."
#endif

int odc_poll_main (int argc, char **argv);
int odc_discover_main (int argc, char **argv, const char *config);
int odc_analyse_main (int argc, char **argv);

#ifdef ODC_JEMALLOC
/*  Read by jemalloc at its start. Two arenas as with glibc (see main):
    a dozen threads, rarely allocating at the same moment; each thread's
    cache keeps the common case off the arena locks. (Returning freed
    pages sooner than jemalloc's ten seconds cost a tenth more CPU.) */
const char *malloc_conf = "narenas:2";
#endif

/*  Give the pages of freed memory back to the system now. */
static void
s_heap_give_back (void)
{
#ifdef ODC_JEMALLOC
    char name[64];
    snprintf (name, sizeof name, "arena.%d.purge", MALLCTL_ARENAS_ALL);
    mallctl (name, NULL, NULL, NULL, 0);
#else
    malloc_trim (0);
#endif
}

typedef struct {
    const char *address;
    char *id;
    size_t size;
} s_find_t;

static int
s_find_address (const Odc__Device *device, void *arg)
{
    s_find_t *find = arg;
    if (strcmp (device->address, find->address) != 0)
        return 0;
    snprintf (find->id, find->size, "%s", device->id);
    return 1;
}

/*  "opendca latest ADDRESS --loop NAME (-c FILE | --store DIR) [--json]":
    the last reading the loop stored for a device (read-only, beside a
    running collector). */
static int
s_latest (int argc, char **argv, const char *config_file)
{
    const char *loop_name = NULL, *store_path = NULL, *address = NULL;
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp (argv[i], "--loop") && i + 1 < argc)
            loop_name = argv[++i];
        else if (!strcmp (argv[i], "--store") && i + 1 < argc)
            store_path = argv[++i];
        else if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
            config_file = argv[++i];
        else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!address && argv[i][0] != '-')
            address = argv[i];
        else {
            fprintf (stderr, "opendca latest: unexpected '%s'\n", argv[i]);
            return 2;
        }
    }
    int loop = -1;
    for (int l = 0; loop_name && l < ODC_LOOP_COUNT; l++)
        if (!strcmp (loop_name, odc_config_loop_names[l]))
            loop = l;
    if (!address || loop < 0 || (!store_path && !config_file)) {
        fprintf (stderr, "opendca latest: usage: opendca latest ADDRESS --loop "
                         "alert|identity|meter|supply|tray (-c FILE | --store DIR) [--json]\n");
        return 2;
    }
    odc_config_t *config = NULL;
    if (!store_path) {
        char *errors = NULL;
        config = odc_config_load (config_file, &errors);
        if (!config) {
            fputs (errors, stderr);
            free (errors);
            return 2;
        }
        store_path = config->store_path;
    }
    char *err = NULL;
    odc_store_t *store = odc_store_open_readonly (store_path, &err);
    int rc = 1;
    if (!store)
        fprintf (stderr, "opendca latest: %s\n", err ? err : store_path);
    else {
        /*  ADDRESS is a device id ("ADDRESS" or "ADDRESS:PORT"), or the
            address of a device on another port. */
        char id[ODC_DEVICE_ID_MAX];
        snprintf (id, sizeof id, "%s", address);
        size_t klen = 0;
        void *known = odc_store_get (store, ODC_CF_DEVICES, id, strlen (id), &klen);
        if (!known) {
            s_find_t find = {address, id, sizeof id};
            odc_devices_each (store, s_find_address, &find);
        }
        free (known);
        char key[128];
        odc_latest_key (key, sizeof key, id, loop + 1);
        size_t len = 0;
        uint8_t *value = odc_store_get (store, ODC_CF_LATEST, key, strlen (key), &len);
        Odc__Envelope *env = value ? odc__envelope__unpack (NULL, len, value) : NULL;
        if (!env)
            fprintf (stderr, "opendca latest: no %s reading of %s in %s\n", loop_name, address,
                     store_path);
        else {
            const ProtobufCMessage *body = odc_bus_body (env);
            if (json) {
                odc_json_print (body, stdout, 0);
                putchar ('\n');
            }
            else
                odc_reading_print ((odc_loop_t)loop, body);
            odc__envelope__free_unpacked (env, NULL);
            rc = 0;
        }
        free (value);
    }
    free (err);
    odc_store_close (&store);
    odc_config_destroy (&config);
    return rc;
}

#ifndef ODC_VERSION
#define ODC_VERSION "0.0.0"
#endif

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: opendca COMMAND [OPTIONS]\n"
                  "\n"
                  "opendca is a data collection agent for managed print services: it reads\n"
                  "network printers over SNMP and sends their service data to a portal.\n"
                  "\n"
                  "Commands:\n"
                  "  run -c FILE            run the collector with configuration FILE until\n"
                  "                         SIGINT or SIGTERM; SIGHUP reloads FILE\n"
                  "  config check FILE      validate FILE; prints every error as\n"
                  "                         FILE:LINE: key 'KEY': reason; exit 0 or 2\n"
                  "  poll ADDRESS[:PORT] --loop NAME   read one device once (poll --help)\n"
                  "  discover TARGET...     sweep ranges for printers, print what answers\n"
                  "                         (discover --help)\n"
                  "  analyse ADDRESS[:PORT] a manageability report of one device (analyse --help)\n"
                  "  latest ADDRESS --loop NAME -c FILE   the last reading a loop stored\n"
                  "  outbox -c FILE         the readings waiting for the portal, as JSON lines\n"
                  "  devices -c FILE [--json]   the device list (registry): id, address,\n"
                  "                         state, maker, model, serial, MAC, source\n"
                  "  import devices FILE.csv -c FILE   a device list: address[:port],\n"
                  "                         asset number, location, credential (a header\n"
                  "                         line may name the columns); replaces the last\n"
                  "                         import; bad lines named with their number\n"
                  "  imil \"COMMAND\" -c FILE  a command to the collector running with FILE\n"
                  "                         (imil help lists them); exit 0 done, 1 not\n"
                  "                         understood, 2 not done, 3 no collector running\n"
                  "\n"
                  "Options:\n"
                  "  -c, --config FILE      configuration file (see opendca.example.yaml)\n"
                  "  -h, --help             this help\n"
                  "  -V, --version          print the version\n"
                  "\n"
                  "Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.\n");
}

/*  Load a configuration; on errors print them all to stderr. */
static odc_config_t *
s_load (const char *file)
{
    char *errors = NULL;
    odc_config_t *config = odc_config_load (file, &errors);
    if (!config) {
        fputs (errors, stderr);
        free (errors);
    }
    return config;
}

static int
s_config_check (const char *file)
{
    odc_config_t *config = s_load (file);
    if (!config)
        return 2;
    printf ("%s: ok (collector %s, %zu credentials, %zu devices, %zu ranges)\n", file,
            config->collector_id, config->credential_count, config->device_count,
            config->range_count);
    odc_config_destroy (&config);
    return 0;
}

static void
s_apply_log_level (const odc_config_t *config)
{
    int level = odc_log_level_parse (config->log_level);
    if (level >= 0)
        odc_log_set_level ((odc_log_level_t)level);
}

/*  Each SNMP session holds a socket: odc_snmp_init raised the limit as far
    as the system allows; say what it is. */
static void
s_report_nofile (int want)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < (rlim_t)want)
        odc_warn (NULL, "descriptor limit %llu, below the %d asked for (limits.max_open_files)",
                  (unsigned long long)rl.rlim_cur, want);
    else
        odc_info (NULL, "descriptor limit %llu", (unsigned long long)rl.rlim_cur);
}

static long
s_sync_devices (odc_store_t *store, const odc_config_t *config)
{
    size_t added = 0, removed = 0;
    long n = odc_devices_sync_config (store, config, &added, &removed);
    if (n < 0)
        odc_error (NULL, "the device list could not be written to the store %s",
                   config->store_path);
    else
        odc_info (NULL, "devices: %ld from the configuration (%zu new, %zu removed)", n, added,
                  removed);
    return n;
}

static void *
s_reload (void *current, void *arg)
{
    odc_store_t *store = arg;
    odc_config_t *old = (odc_config_t *)current;
    char *errors = NULL;
    odc_config_t *fresh = odc_config_load (old->file, &errors);
    if (!fresh) {
        /*  errors holds one line per problem: log each with its place. */
        for (char *line = strtok (errors, "\n"); line; line = strtok (NULL, "\n"))
            odc_error (NULL, "%s", line);
        free (errors);
        return NULL;
    }
    if (strcmp (fresh->store_path, old->store_path) != 0)
        odc_warn (NULL, "store.path changed to %s: takes effect at the next start",
                  fresh->store_path);
    s_apply_log_level (fresh);
    /*  The loops read their device list from the store when they apply
        the new configuration: bring it in step first. */
    if (s_sync_devices (store, fresh) < 0) {
        odc_config_destroy (&fresh);
        return NULL;
    }
    return fresh;
}

static void
s_release (void *config, void *arg)
{
    (void)arg;
    odc_config_t *c = (odc_config_t *)config;
    odc_config_destroy (&c);
}

/*  "opendca outbox -c FILE": every reading waiting in the outbox, one JSON
    line each: {"batch": "CLASS-SEQ", "kind": K, "reading": {...}} (read
    only, beside a running collector). */
static int
s_outbox_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    uint64_t *count = arg;
    if (klen != ODC_OUTBOX_KEY_SIZE)
        return 0;
    const uint8_t *k = key;
    uint64_t seq = 0;
    for (int i = 1; i < ODC_OUTBOX_KEY_SIZE; i++)
        seq = seq << 8 | k[i];
    Odc__OutboxRecord *r = odc__outbox_record__unpack (NULL, vlen, value);
    Odc__Batch *b = r ? odc__batch__unpack (NULL, r->payload.len, r->payload.data) : NULL;
    for (size_t i = 0; b && i < b->n_items; i++) {
        const ProtobufCMessage *body = odc_bus_body (b->items[i]);
        if (!body)
            continue;
        printf ("{\"batch\": \"%d-%llu\", \"kind\": \"%s\", \"reading\": ", k[0],
                (unsigned long long)seq, r->kind);
        odc_json_print (body, stdout, -1);
        puts ("}");
        (*count)++;
    }
    if (b)
        odc__batch__free_unpacked (b, NULL);
    if (r)
        odc__outbox_record__free_unpacked (r, NULL);
    return 0;
}

/*  The store of the collector configured in file, read-only (beside a
    running collector). NULL with the reason said, naming prog; *rc is the
    exit code then (2 a bad configuration, 1 no store). */
static odc_store_t *
s_open_beside (const char *file, const char *prog, odc_config_t **config, int *rc)
{
    *config = s_load (file);
    *rc = 2;
    if (!*config)
        return NULL;
    char *err = NULL;
    odc_store_t *store = odc_store_open_readonly ((*config)->store_path, &err);
    *rc = 1;
    if (!store)
        fprintf (stderr, "%s: %s\n", prog, err ? err : (*config)->store_path);
    free (err);
    return store;
}

static int
s_outbox (const char *file)
{
    odc_config_t *config = NULL;
    int rc;
    odc_store_t *store = s_open_beside (file, "opendca outbox", &config, &rc);
    if (store) {
        uint64_t count = 0;
        odc_store_each (store, ODC_CF_OUTBOX, NULL, 0, NULL, 0, s_outbox_one, &count);
        fprintf (stderr, "opendca outbox: %llu readings waiting\n", (unsigned long long)count);
        rc = 0;
    }
    odc_store_close (&store);
    odc_config_destroy (&config);
    return rc;
}

/*  Whether a collector listens on the control socket at path: 1 yes, 0
    no (a socket file left by one that died refuses the connection), -1
    it does but we may not talk to it (the socket is its user's, 0600). */
static int
s_collector_running (const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen (path) >= sizeof addr.sun_path)
        return access (path, F_OK) == 0;
    strcpy (addr.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    int up = fd >= 0 && connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    if (!up && (errno == EACCES || errno == EPERM))
        up = -1;
    if (fd >= 0)
        close (fd);
    return up;
}

/*  The words for a control socket we may not use. */
static void
s_permission_denied (const char *prog, const char *socket_path)
{
    fprintf (stderr, "%s: permission denied on %s (run as the collector's user)\n", prog,
             socket_path);
}

/*  "opendca imil TEXT -c FILE": TEXT to the collector running with FILE,
    through its control socket in the store folder; its reply on stdout.
    body (may be NULL) goes as a second frame (import devices). */
static int
s_imil_body (const char *file, const char *text, const char *body, size_t body_size)
{
    odc_config_t *config = s_load (file);
    if (!config)
        return 2;
    char endpoint[1100];
    odc_imil_endpoint (endpoint, sizeof endpoint, config->store_path);
    char socket_path[1100];
    snprintf (socket_path, sizeof socket_path, "%s/control", config->store_path);
    int rc = 3;
    int running = s_collector_running (socket_path);
    if (running < 0) {
        s_permission_denied ("opendca imil", socket_path);
        rc = 2;
    }
    else if (!running)
        fprintf (stderr, "opendca imil: no collector is running with %s (nothing listens on %s)\n",
                 file, socket_path);
    else {
        zsock_t *req = zsock_new (ZMQ_REQ);
        /*  A "discover RANGE" sweeps for up to a minute or so. */
        zsock_set_rcvtimeo (req, 120000);
        zsock_set_linger (req, 0);
        zsock_connect (req, "%s", endpoint);
        char *code = NULL, *reply = NULL;
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, text);
        if (body)
            zmsg_addmem (msg, body, body_size);
        if (zmsg_send (&msg, req) == 0 && zstr_recvx (req, &code, &reply, NULL) == 2) {
            puts (reply);
            rc = atoi (code);
        }
        else
            fprintf (stderr,
                     "opendca imil: the collector running with %s did not answer in 120 s\n", file);
        zmsg_destroy (&msg);
        zstr_free (&code);
        zstr_free (&reply);
        zsock_destroy (&req);
    }
    odc_config_destroy (&config);
    zsys_shutdown ();
    return rc;
}

static int
s_imil (const char *file, const char *text)
{
    return s_imil_body (file, text, NULL, 0);
}

/*  "opendca devices -c FILE [--json]": the registry's device list. */
static int
s_devices (const char *file, bool json)
{
    odc_config_t *config = NULL;
    int rc;
    odc_store_t *store = s_open_beside (file, "opendca devices", &config, &rc);
    if (store)
        rc = odc_imil_devices (stdout, store, json) == 0 ? 0 : 1;
    odc_store_close (&store);
    odc_config_destroy (&config);
    return rc;
}

/*  "opendca import devices FILE.csv -c CONFIG": the file's devices become
    the "import" list (store/odc_devices.h); through the running collector
    when there is one, else straight into the store. Bad lines are named;
    the good ones are taken. Exit 0 all taken, 1 some lines refused, 2 no
    list taken. */
static int
s_import (const char *file, const char *csv)
{
    odc_config_t *config = s_load (file);
    if (!config)
        return 2;
    char *error = NULL;
    odc_device_list_t *list =
        odc_devices_csv_read (csv, odc_devices_import_columns, config, &error);
    if (!list) {
        fprintf (stderr, "opendca import: %s\n", error ? error : csv);
        free (error);
        odc_config_destroy (&config);
        return 2;
    }
    for (size_t i = 0; i < list->error_count; i++)
        fprintf (stderr, "%s\n", list->errors[i]);
    int rc = list->error_count ? 1 : 0;
    char control[1100];
    snprintf (control, sizeof control, "%s/control", config->store_path);
    int running = s_collector_running (control);
    if (running < 0) {
        s_permission_denied ("opendca import", control);
        rc = 2;
    }
    else if (running) {
        /*  A collector runs: it takes the list (and reads the file as we
            did, so the same lines are refused). */
        size_t size = 0;
        char *body = NULL;
        FILE *f = fopen (csv, "r");
        if (f) {
            FILE *out = open_memstream (&body, &size);
            char buffer[8192];
            size_t n;
            while ((n = fread (buffer, 1, sizeof buffer, f)) > 0)
                fwrite (buffer, 1, n, out);
            fclose (out);
            fclose (f);
        }
        int r = s_imil_body (file, "import devices", body ? body : "", size);
        free (body);
        if (r != 0)
            rc = 2;
    }
    else {
        char *err = NULL;
        odc_store_options_t options;
        odc_store_options_default (&options);
        odc_store_t *store = odc_store_open (config->store_path, &options, &err);
        size_t added = 0, removed = 0;
        long n = store ? odc_devices_sync (store, "import", list->devices, list->count, config,
                                           &added, &removed)
                       : -1;
        if (n < 0) {
            fprintf (stderr, "opendca import: %s\n", err ? err : "the store refused the list");
            rc = 2;
        }
        else
            printf ("%ld devices imported (%zu new, %zu no longer listed removed), %zu lines "
                    "refused\n",
                    n, added, removed, list->error_count);
        free (err);
        odc_store_close (&store);
    }
    odc_device_list_destroy (&list);
    odc_config_destroy (&config);
    return rc;
}

static int
s_run (const char *file)
{
    /*  Before any thread exists, so that every thread inherits the mask and
        only the supervisor sees SIGINT, SIGTERM and SIGHUP. */
    odc_supervisor_block_signals ();
    odc_config_t *config = s_load (file);
    if (!config)
        return 2;
    s_apply_log_level (config);
    odc_info (NULL, "opendca %s starting: collector %s, configuration %s", ODC_VERSION,
              config->collector_id, file);
    /*  net-snmp's global set-up, before any thread. */
    odc_snmp_init (config->max_open_files);
    s_report_nofile (config->max_open_files);

    odc_store_options_t options;
    odc_store_options_default (&options);
    options.sync = config->store_sync;
    options.cache_bytes = (size_t)config->store_cache_mb << 20;
    char *err = NULL;
    odc_store_t *store = odc_store_open (config->store_path, &options, &err);
    if (!store) {
        odc_error (NULL, "%s", err);
        free (err);
        odc_config_destroy (&config);
        return 1;
    }
    odc_store_put (store, ODC_CF_META, "collector_id", strlen ("collector_id"),
                   config->collector_id, strlen (config->collector_id));
    odc_outbox_t *outbox = odc_outbox_new (store, (uint64_t)config->outbox_max_mb << 20);
    if (!outbox) {
        odc_store_close (&store);
        odc_config_destroy (&config);
        return 1;
    }
    odc_info (NULL, "store %s open: outbox holds %llu records (%llu bytes)", config->store_path,
              (unsigned long long)odc_outbox_count (outbox),
              (unsigned long long)odc_outbox_bytes (outbox));

    if (s_sync_devices (store, config) < 0) {
        odc_outbox_destroy (&outbox);
        odc_store_close (&store);
        odc_config_destroy (&config);
        return 1;
    }

    /*  Loading a large configuration leaves the heap full of freed YAML
        nodes (100 MB and more at 100,000 devices): give the pages back. */
    s_heap_give_back ();

    /*  The actors: readings flow from the five loops to "latest" (where the
        validator will stand), and from there, when a portal is configured,
        to the uploader, the outbox and the bridge. Started consumers
        first. */
    odc_status_started ((double)time (NULL));
    bool portal = config->portal_jid != NULL;
    odc_supervisor_t *supervisor = odc_supervisor_new ();
    char vendor_map[1024];
    snprintf (vendor_map, sizeof vendor_map, "%s/snmp/vendor-counters.tsv", ODC_DATA_DIR);
    odc_loop_args_t loop_args[ODC_LOOP_COUNT];
    odc_uploader_args_t uploader_args = {config, store, outbox};
    odc_bridge_args_t bridge_args = {config, store, outbox};
    odc_imil_t imil_args = {config, store, outbox, NULL, NULL, NULL};
    odc_latest_args_t latest_args = {store, portal, true};
    odc_registry_args_t registry_args = {config, store, portal};
    odc_discovery_args_t discovery_args = {config};
    if (portal) {
        xmpp_initialize ();
        odc_supervisor_add (
            supervisor,
            &(odc_actor_spec_t){"uploader", odc_uploader_actor, &uploader_args, {NULL}});
        odc_supervisor_add (
            supervisor,
            &(odc_actor_spec_t){"bridge", odc_bridge_actor, &bridge_args, {"uploader"}});
    }
    odc_supervisor_add (
        supervisor, &(odc_actor_spec_t){
                        "commands", odc_commands_actor, &imil_args, {portal ? "uploader" : NULL}});
    odc_supervisor_add (supervisor, &(odc_actor_spec_t){"registry",
                                                        odc_registry_actor,
                                                        &registry_args,
                                                        {portal ? "uploader" : NULL}});
    odc_supervisor_add (
        supervisor,
        &(odc_actor_spec_t){"discovery", odc_discovery_actor, &discovery_args, {"registry"}});
    odc_supervisor_add (supervisor, &(odc_actor_spec_t){"latest",
                                                        odc_latest_actor,
                                                        &latest_args,
                                                        {"registry", portal ? "uploader" : NULL}});
    for (int l = 0; l < ODC_LOOP_COUNT; l++) {
        loop_args[l] = (odc_loop_args_t){(odc_loop_t)l, config, store, vendor_map};
        odc_supervisor_add (
            supervisor, &(odc_actor_spec_t){
                            odc_config_loop_names[l], odc_loop_actor, &loop_args[l], {"latest"}});
    }
    int rc = 0;
    if (odc_supervisor_start (supervisor) == -1)
        rc = 1;
    else {
        odc_info (NULL, "running; SIGHUP reloads %s, SIGTERM stops", file);
        config =
            (odc_config_t *)odc_supervisor_run (supervisor, config, s_reload, s_release, store);
    }
    odc_supervisor_destroy (&supervisor);
    if (portal)
        xmpp_shutdown ();
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    odc_config_destroy (&config);
    zsys_shutdown ();
    odc_snmp_shutdown ();
    odc_info (NULL, "stopped");
    return rc;
}

int
main (int argc, char **argv)
{
    /*  CZMQ's own SIGINT/SIGTERM handler would only set a flag nobody
        reads: off, for every command. Only "run" blocks the signals (for
        its supervisor, in s_run); the other commands stop at once on
        SIGINT/SIGTERM (Ctrl-C, timeout), as a user expects (issue 14). */
    zsys_handler_set (NULL);
    /*  A peer that goes away (the XMPP server, a command client) must not
        end the process: writes to it fail with EPIPE instead. */
    signal (SIGPIPE, SIG_IGN);
    odc_log_set_actor ("supervisor");
#ifndef ODC_JEMALLOC
    /*  glibc gives each thread that allocates its own arena (up to 8 per
        core), and memory freed in one is not reused by the others: with a
        dozen threads passing readings along, that is most of the resident
        size. Two arenas hold it down; the threads rarely allocate at the
        same moment. (With jemalloc: malloc_conf above.) */
    mallopt (M_ARENA_MAX, 2);
#endif

    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int opt;
    while ((opt = getopt_long (argc, argv, "+c:hV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'h': s_usage (stdout); return 0;
        case 'V': printf ("opendca %s\n", ODC_VERSION); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind >= argc) {
        s_usage (stderr);
        return 2;
    }
    const char *command = argv[optind++];
    if (strcmp (command, "poll") == 0)
        return odc_poll_main (argc - optind + 1, argv + optind - 1);
    if (strcmp (command, "analyse") == 0 || strcmp (command, "analyze") == 0)
        return odc_analyse_main (argc - optind + 1, argv + optind - 1);
    if (strcmp (command, "discover") == 0)
        return odc_discover_main (argc - optind + 1, argv + optind - 1, config);
    if (strcmp (command, "latest") == 0)
        return s_latest (argc - optind, argv + optind, config);
    if (strcmp (command, "imil") == 0) {
        const char *text = NULL;
        bool bad = false;
        for (int i = optind; i < argc; i++) {
            if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
                config = argv[++i];
            else if (!text)
                text = argv[i];
            else
                bad = true;
        }
        if (!config || !text || bad) {
            fprintf (stderr, "opendca imil: usage: opendca imil \"COMMAND\" -c FILE\n");
            return 2;
        }
        return s_imil (config, text);
    }
    if (strcmp (command, "devices") == 0 || strcmp (command, "import") == 0) {
        /*  Their own words: -c FILE, --json, the rest in order. */
        const char *words[3] = {NULL, NULL, NULL};
        int n = 0;
        bool json = false, bad = false;
        for (int i = optind; i < argc; i++) {
            if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
                config = argv[++i];
            else if (!strcmp (argv[i], "--json"))
                json = true;
            else if (n < 3)
                words[n++] = argv[i];
            else
                bad = true;
        }
        if (command[0] == 'd') {
            if (!config || n || bad) {
                fprintf (stderr, "opendca devices: usage: opendca devices -c FILE [--json]\n");
                return 2;
            }
            return s_devices (config, json);
        }
        if (!config || n != 2 || bad || json || strcmp (words[0], "devices")) {
            fprintf (stderr, "opendca import: usage: opendca import devices FILE.csv -c FILE\n");
            return 2;
        }
        return s_import (config, words[1]);
    }
    /*  Options may also follow the command: "opendca run -c FILE". */
    while ((opt = getopt_long (argc, argv, "c:hV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'h': s_usage (stdout); return 0;
        case 'V': printf ("opendca %s\n", ODC_VERSION); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (strcmp (command, "run") == 0) {
        if (!config || optind != argc) {
            fprintf (stderr, "opendca run: needs -c FILE and nothing else\n");
            return 2;
        }
        return s_run (config);
    }
    if (strcmp (command, "outbox") == 0) {
        if (!config || optind != argc) {
            fprintf (stderr, "opendca outbox: usage: opendca outbox -c FILE\n");
            return 2;
        }
        return s_outbox (config);
    }
    if (strcmp (command, "config") == 0) {
        if (optind < argc && strcmp (argv[optind], "check") == 0) {
            const char *file = optind + 1 < argc ? argv[optind + 1] : config;
            if (file && optind + 2 >= argc)
                return s_config_check (file);
        }
        fprintf (stderr, "opendca config: usage: opendca config check FILE\n");
        return 2;
    }
    fprintf (stderr, "opendca: unknown command '%s' (see opendca --help)\n", command);
    return 2;
}
