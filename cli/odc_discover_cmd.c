/*  "opendca discover": a sweep from the command line, for the technician
    on site.

        opendca discover TARGET... [credential options | --config FILE]

    Progress goes to stderr while it runs; the table of what it found (or
    JSON lines with --json) to stdout, sorted by address. See --help. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odc_cli.h"
#include "odc_discover.h"

static void
s_note (const char *text, void *arg)
{
    (void)arg;
    fprintf (stderr, "opendca discover: %s\n", text);
}

static void
s_on_found (const odc_discover_found_t *found, void *arg)
{
    odc_discover_list_add (arg, found);
}

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: opendca discover TARGET... [OPTIONS]\n"
                  "\n"
                  "Sweep addresses for printers with SNMP only (no ping, broadcast or multicast),\n"
                  "trying the credentials in order at each address, and print what was found:\n"
                  "address, maker, model, serial, MAC and the credential that answered.\n"
                  "TARGET: a.b.c.d/nn (nn 8-32), a.b.c.d-e.f.g.h, an address or a DNS name, each\n"
                  "with an optional :PORT.\n"
                  "\n"
                  "  --config FILE          try the credentials of FILE (snmp.credentials), in\n"
                  "                         order, after any given on the command line\n"
                  "  -p, --port PORT        UDP port when a target has none (default 161)\n"
                  "  -t, --timeout MS       per request (default 2000)\n"
                  "  -r, --retries N        further tries per request (default 0)\n"
                  "  --rate N               new addresses a second at most (default 200)\n"
                  "  --concurrency N        addresses in flight at most (default 1024: a silent\n"
                  "                         address holds one for a timeout per credential)\n"
                  "  --all                  list the SNMP agents that are not printers too\n"
                  "  --force                sweep more than 65536 addresses (a /16) in all\n"
                  "  --json                 JSON lines instead of the table\n"
                  "  -q, --quiet            no progress on stderr\n" ODC_CLI_CREDENTIAL_HELP "\n"
                  "Exit codes: 0 swept (whether or not anything answered), 1 no target could\n"
                  "be swept, 2 usage error.\n");
}

static volatile sig_atomic_t s_signal;

static void
s_on_signal (int sig)
{
    s_signal = sig;
}

int
odc_discover_main (int argc, char **argv, const char *config_default)
{
    const char *prog = "opendca discover";
    odc_credential_t cred;
    odc_cli_credential_init (&cred);
    bool cred_given = false, json = false, quiet = false;
    const char *config_file = config_default;
    odc_discover_options_t o = {.port = 161, .timeout_ms = 2000, .rate = 200, .concurrency = 1024};
    bool all = false;
    enum { O_CONFIG = 256, O_RATE, O_CONCURRENCY, O_ALL, O_JSON, O_FORCE };
    bool force = false;
    static const struct option options[] = {
        {"config", 1, 0, O_CONFIG}, {"port", 1, 0, 'p'},      {"timeout", 1, 0, 't'},
        {"retries", 1, 0, 'r'},     {"rate", 1, 0, O_RATE},   {"concurrency", 1, 0, O_CONCURRENCY},
        {"all", 0, 0, O_ALL},       {"force", 0, 0, O_FORCE}, {"json", 0, 0, O_JSON},
        {"quiet", 0, 0, 'q'},       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, ODC_CLI_CREDENTIAL_OPTS "p:t:r:qh", options, NULL)) !=
           -1) {
        int taken = odc_cli_credential_option (opt, optarg, &cred, &cred_given, prog);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        switch (opt) {
        case O_CONFIG: config_file = optarg; break;
        case 'p':
            if (odc_cli_number (prog, "port", optarg, 1, 65535, "the UDP port", &o.port))
                return 2;
            break;
        case 't':
            if (odc_cli_number (prog, "timeout", optarg, 10, 60000, "ms", &o.timeout_ms))
                return 2;
            break;
        case 'r':
            if (odc_cli_number (prog, "retries", optarg, 0, 5, "further tries", &o.retries))
                return 2;
            break;
        case O_RATE:
            if (odc_cli_number (prog, "rate", optarg, 1, 100000, "addresses a second", &o.rate))
                return 2;
            break;
        case O_CONCURRENCY:
            if (odc_cli_number (prog, "concurrency", optarg, 1, 4096, "addresses at once",
                                &o.concurrency))
                return 2;
            break;
        case O_ALL: all = true; break;
        case O_FORCE: force = true; break;
        case O_JSON: json = true; break;
        case 'q': quiet = true; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf (stderr, "%s: needs at least one TARGET (see --help)\n", prog);
        return 2;
    }
    if (odc_cli_credential_check (&cred, prog) != 0)
        return 2;
    odc_config_t *config = NULL;
    if (config_file) {
        char *errors = NULL;
        config = odc_config_load (config_file, &errors);
        if (!config) {
            fputs (errors ? errors : "cannot load the configuration\n", stderr);
            free (errors);
            return 2;
        }
    }
    size_t n_cred = (cred_given || !config ? 1 : 0) + (config ? config->credential_count : 0);
    const odc_credential_t **creds = calloc (n_cred ? n_cred : 1, sizeof *creds);
    size_t k = 0;
    if (cred_given || !config)
        creds[k++] = &cred;
    for (size_t i = 0; config && i < config->credential_count; i++)
        creds[k++] = &config->credentials[i];
    o.credentials = creds;
    o.credential_count = k;
    odc_discover_list_t *found = odc_discover_list_new (all);
    o.found = s_on_found;
    o.arg = found;
    size_t n_targets = (size_t)(argc - optind);
    odc_discover_target_t *targets = calloc (n_targets, sizeof *targets);
    for (size_t i = 0; i < n_targets; i++)
        targets[i].text = argv[optind + (int)i];

    odc_snmp_init (8192);
    char *error = NULL;
    odc_discover_t *sweep = odc_discover_new (&o, targets, n_targets, s_note, NULL, &error);
    int rc = 0;
    if (!sweep) {
        fprintf (stderr, "%s: %s\n", prog, error);
        free (error);
        rc = 1;
    }
    else if (!force && odc_discover_stats (sweep)->addresses > ODC_SWEEP_MAX) {
        /*  A typo (/8 for /24) would sweep for days: bounded unless
            forced (issue 14). Counted once each, overlaps removed. */
        fprintf (stderr,
                 "%s: the targets hold %llu addresses, more than %d (a /16) a sweep takes; "
                 "give --force to sweep them all\n",
                 prog, (unsigned long long)odc_discover_stats (sweep)->addresses, ODC_SWEEP_MAX);
        odc_discover_destroy (&sweep);
        rc = 2;
    }
    else {
        const odc_discover_stats_t *s = odc_discover_stats (sweep);
        bool tty = isatty (STDERR_FILENO);
        double last = 0;
        if (!quiet)
            fprintf (stderr, "%s: %llu addresses to sweep, %zu credential%s each at most\n", prog,
                     (unsigned long long)s->addresses, k, k == 1 ? "" : "s");
        /*  Ctrl-C or SIGTERM ends the sweep where it is: what was found
            so far is still printed (the default action lost it all). */
        struct sigaction stop = {.sa_handler = s_on_signal}, was_int, was_term;
        sigemptyset (&stop.sa_mask);
        sigaction (SIGINT, &stop, &was_int);
        sigaction (SIGTERM, &stop, &was_term);
        while (!odc_discover_done (sweep) && !s_signal) {
            odc_discover_run (sweep, 200);
            if (!quiet && s->seconds - last >= (tty ? 0.5 : 5.0)) {
                last = s->seconds;
                fprintf (stderr,
                         "%sswept %llu of %llu addresses (%.0f %%): %llu printers, %llu other "
                         "agents; %.0f addresses/s%s",
                         tty ? "\r" : "", (unsigned long long)s->swept,
                         (unsigned long long)s->addresses,
                         100.0 * (double)s->swept / (double)s->addresses,
                         (unsigned long long)s->printers, (unsigned long long)s->others,
                         s->seconds > 0 ? (double)s->swept / s->seconds : 0.0, tty ? "  " : "\n");
            }
        }
        sigaction (SIGINT, &was_int, NULL);
        sigaction (SIGTERM, &was_term, NULL);
        if (!quiet && tty && last > 0)
            fputc ('\n', stderr);
        if (s_signal) {
            fprintf (stderr,
                     "%s: stopped by %s after %llu of %llu addresses: the list holds what was "
                     "found until then\n",
                     prog, s_signal == SIGINT ? "SIGINT" : "SIGTERM", (unsigned long long)s->swept,
                     (unsigned long long)s->addresses);
            rc = 128 + s_signal;
        }
        odc_discover_list_print (found, stdout, json);
        if (!quiet) {
            fprintf (stderr, "%s: ", prog);
            odc_discover_summary (stderr, s);
        }
        odc_discover_destroy (&sweep);
    }
    odc_discover_list_destroy (&found);
    free (targets);
    free (creds);
    odc_config_destroy (&config);
    odc_snmp_shutdown ();
    return rc;
}
