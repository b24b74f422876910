/*  opendca: the collector's command line and daemon.

        opendca run -c FILE          run the collector until SIGINT/SIGTERM
        opendca config check FILE    validate a configuration (exit 0 or 2)
        opendca --help | --version

    and the dispatch to the other subcommands (odc_cli.h: poll and analyse
    in odc_poll.c, discover in odc_discover_cmd.c, latest, outbox,
    devices, import and imil in odc_local_cmd.c).

    "run" loads the configuration, raises the descriptor limit, opens the
    store, starts the actors through the supervisor and waits for signals:
    SIGHUP loads the configuration again and hands it to every actor,
    SIGINT/SIGTERM stop the actors in reverse start order and close the store.
    Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration. */
#include <czmq.h>
#include <errno.h>
#include <curl/curl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/resource.h>
#ifdef ODC_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "odc_alerts.h"
#include "odc_bridge_actor.h"
#include "odc_cli.h"
#include "odc_config.h"
#include "odc_devices.h"
#include "odc_discovery_actor.h"
#include "odc_imil.h"
#include "odc_latest_actor.h"
#include "odc_log.h"
#include "odc_loop_actor.h"
#include "odc_meters_actor.h"
#include "odc_supplies_actor.h"
#include "odc_notify_actor.h"
#include "odc_triage_actor.h"
#include "odc_outbox.h"
#include "odc_registry_actor.h"
#include "odc_snmp.h"
#include "odc_status.h"
#include "odc_store.h"
#include "odc_supervisor.h"
#include "odc_uploader_actor.h"
#include "odc_validator_actor.h"

#ifndef ODC_DATA_DIR
#define ODC_DATA_DIR "."
#endif

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

/*  What the configuration file alone cannot tell: a rule's code that no
    alert can have (snmp/alert-codes.tsv) can never match. */
static int
s_check_rule_codes (const char *file, const odc_config_t *config)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/snmp/alert-codes.tsv", ODC_DATA_DIR);
    char *error = NULL;
    odc_alert_codes_t *codes = odc_alert_codes_load (path, &error);
    if (!codes) {
        fprintf (stderr, "%s: cannot check the rules' codes: %s\n", file, error);
        free (error);
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < config->rule_count; i++)
        for (size_t k = 0; k < config->rules[i].code_count; k++)
            if (!odc_alert_codes_knows (codes, config->rules[i].codes[k])) {
                fprintf (stderr,
                         "%s:%d: key 'triage.rules[%zu]': can never match: no alert has the "
                         "code '%s' (see %s)\n",
                         file, config->rules[i].line, i, config->rules[i].codes[k], path);
                bad++;
            }
    odc_alert_codes_destroy (&codes);
    return bad;
}

static int
s_config_check (const char *file)
{
    odc_config_t *config = odc_cli_load_config (file);
    if (!config)
        return 2;
    if (s_check_rule_codes (file, config)) {
        odc_config_destroy (&config);
        return 2;
    }
    printf ("%s: ok (collector %s, %zu credentials, %zu devices, %zu ranges, %zu alert "
            "destinations, %zu rules)\n",
            file, config->collector_id, config->credential_count, config->device_count,
            config->range_count, config->destination_count, config->rule_count);
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

static void *
s_reload (void *current, void *arg)
{
    (void)arg;
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
    /*  The registry brings the devices family in step with it when it
        takes it (and tells the loops). */
    return fresh;
}

static void
s_release (void *config, void *arg)
{
    (void)arg;
    odc_config_t *c = (odc_config_t *)config;
    odc_config_destroy (&c);
}

static int
s_run (const char *file)
{
    /*  Before any thread exists, so that every thread inherits the mask and
        only the supervisor sees SIGINT, SIGTERM and SIGHUP. */
    odc_supervisor_block_signals ();
    odc_config_t *config = odc_cli_load_config (file);
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
    /*  The alert events for e-mail and programs (the notify actor), bound
        as the outbox is. */
    odc_outbox_t *notify =
        odc_outbox_new_in (store, ODC_CF_NOTIFY, (uint64_t)config->outbox_max_mb << 20);
    if (!notify) {
        odc_outbox_destroy (&outbox);
        odc_store_close (&store);
        odc_config_destroy (&config);
        return 1;
    }
    curl_global_init (CURL_GLOBAL_DEFAULT);

    /*  Loading a large configuration leaves the heap full of freed YAML
        nodes (100 MB and more at 100,000 devices): give the pages back. */
    s_heap_give_back ();

    /*  The actors: readings flow from the five loops to the validator,
        the accepted meter readings through the meters actor (the roll-up),
        all to "latest", and from there, when a portal is configured, to
        the uploader, the outbox and the bridge. Started consumers first. */
    bool portal = config->portal_jid != NULL;
    odc_supervisor_t *supervisor = odc_supervisor_new ();
    char vendor_map[1024];
    snprintf (vendor_map, sizeof vendor_map, "%s/snmp/vendor-counters.tsv", ODC_DATA_DIR);
    char meter_rules[1024];
    snprintf (meter_rules, sizeof meter_rules, "%s/snmp/meter-rules.tsv", ODC_DATA_DIR);
    odc_meters_args_t meters_args = {meter_rules, true};
    odc_validator_args_t validator_args = {config, store, portal ? outbox : NULL, true, true};
    char supply_rules[1024];
    snprintf (supply_rules, sizeof supply_rules, "%s/snmp/supply-rules.tsv", ODC_DATA_DIR);
    odc_supplies_args_t supplies_args = {config, store, portal ? outbox : NULL, supply_rules, true};
    char alert_codes[4096];
    snprintf (alert_codes, sizeof alert_codes, "%s/snmp/alert-codes.tsv", ODC_DATA_DIR);
    odc_triage_args_t triage_args = {config, store, portal ? outbox : NULL, notify, alert_codes};
    odc_notify_args_t notify_args = {config, notify};
    odc_loop_args_t loop_args[ODC_LOOP_COUNT];
    odc_uploader_args_t uploader_args = {config, store, outbox};
    odc_bridge_args_t bridge_args = {config, store, outbox};
    odc_imil_t imil_args = {.config = config, .store = store, .outbox = outbox};
    odc_latest_args_t latest_args = {store, portal, true};
    odc_registry_args_t registry_args = {config, store, portal ? outbox : NULL, true};
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
    odc_supervisor_add (supervisor, &(odc_actor_spec_t){"registry",
                                                        odc_registry_actor,
                                                        &registry_args,
                                                        {portal ? "bridge" : NULL}});
    odc_supervisor_add (
        supervisor,
        &(odc_actor_spec_t){"discovery", odc_discovery_actor, &discovery_args, {"registry"}});
    /*  After the registry (and stopped before it): it waits for the
        registry's answer to a device list. */
    odc_supervisor_add (supervisor,
                        &(odc_actor_spec_t){"commands",
                                            odc_commands_actor,
                                            &imil_args,
                                            {"registry", "discovery", portal ? "uploader" : NULL}});
    odc_supervisor_add (supervisor, &(odc_actor_spec_t){"latest",
                                                        odc_latest_actor,
                                                        &latest_args,
                                                        {"registry", portal ? "uploader" : NULL}});
    odc_supervisor_add (supervisor,
                        &(odc_actor_spec_t){"notify", odc_notify_actor, &notify_args, {NULL}});
    odc_supervisor_add (
        supervisor,
        &(odc_actor_spec_t){"triage", odc_triage_actor, &triage_args, {"latest", "notify"}});
    odc_supervisor_add (
        supervisor,
        &(odc_actor_spec_t){"supplies", odc_supplies_actor, &supplies_args, {"latest", "triage"}});
    odc_supervisor_add (
        supervisor,
        &(odc_actor_spec_t){"meters", odc_meters_actor, &meters_args, {"latest", "supplies"}});
    odc_supervisor_add (supervisor,
                        &(odc_actor_spec_t){"validator",
                                            odc_validator_actor,
                                            &validator_args,
                                            {"meters", "triage", "supplies", "latest"}});
    for (int l = 0; l < ODC_LOOP_COUNT; l++) {
        loop_args[l] = (odc_loop_args_t){(odc_loop_t)l, config, store, vendor_map};
        odc_supervisor_add (supervisor, &(odc_actor_spec_t){odc_config_loop_names[l],
                                                            odc_loop_actor,
                                                            &loop_args[l],
                                                            {"validator"}});
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
    odc_outbox_destroy (&notify);
    odc_outbox_destroy (&outbox);
    odc_store_close (&store);
    odc_config_destroy (&config);
    curl_global_cleanup ();
    zsys_shutdown ();
    odc_snmp_shutdown ();
    odc_info (NULL, "stopped");
    return rc;
}

/*  The subcommands with their own words (cli/odc_cli.h): argv[0] the
    command's name; config the -c FILE given before it, or NULL. */
static const struct {
    const char *name;
    int (*main) (int argc, char **argv, const char *config);
} s_commands[] = {
    {"poll", odc_poll_main},         {"analyse", odc_analyse_main}, {"analyze", odc_analyse_main},
    {"discover", odc_discover_main}, {"latest", odc_latest_main},   {"imil", odc_imil_main},
    {"devices", odc_devices_main},   {"import", odc_import_main},   {"outbox", odc_outbox_main},
};

/*  The options of opendca itself (optstring: getopt's), before or after
    the command: -c FILE into *config, --help, --version. The exit code
    when they end the program, else -1. */
static int
s_options (int argc, char **argv, const char *optstring, const char **config)
{
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, optstring, long_options, NULL)) != -1) {
        switch (opt) {
        case 'c': *config = optarg; break;
        case 'h': s_usage (stdout); return 0;
        case 'V': printf ("opendca %s\n", ODC_VERSION); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    return -1;
}

int
main (int argc, char **argv)
{
    /*  CZMQ's own SIGINT/SIGTERM handler would only set a flag nobody
        reads: off, for every command. Only "run" blocks the signals (for
        its supervisor, in s_run); the other commands stop at once on
        SIGINT/SIGTERM (Ctrl-C, timeout), as a user expects. */
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

    const char *config = NULL;
    int rc = s_options (argc, argv, "+c:hV", &config);
    if (rc >= 0)
        return rc;
    if (optind >= argc) {
        s_usage (stderr);
        return 2;
    }
    const char *command = argv[optind++];
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp (command, s_commands[i].name) == 0)
            return s_commands[i].main (argc - optind + 1, argv + optind - 1, config);
    /*  Options may also follow the command: "opendca run -c FILE". */
    rc = s_options (argc, argv, "c:hV", &config);
    if (rc >= 0)
        return rc;
    if (strcmp (command, "run") == 0) {
        if (!config || optind != argc) {
            fprintf (stderr, "opendca run: needs -c FILE and nothing else\n");
            return 2;
        }
        return s_run (config);
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
