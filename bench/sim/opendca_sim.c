/*  opendca-sim: a fleet of network printers on loopback, for tests and
    benchmarks.

        opendca-sim [OPTIONS]                  run the fleet until SIGINT/SIGTERM
        opendca-sim ctl --control PATH CMD...  talk to a running fleet

    Every device answers SNMP (v1, v2c, v3) at its own 127.x.y.z address,
    behaves over simulated time like a real printer, and every change it
    makes is written to the truth file. See --help. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "sim_agent.h"
#include "sim_fleet.h"

#ifndef ODC_SIM_MODELS_DIR
#define ODC_SIM_MODELS_DIR "bench/models"
#endif

static const char *s_builtin[] = {"mono-a4-laser", "colour-a4-mfp", "colour-a3-mfp", "inkjet",
                                  NULL};

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: opendca-sim [OPTIONS]\n"
        "       opendca-sim ctl --control PATH COMMAND...\n"
        "\n"
        "Plays a fleet of network printers on loopback: each device answers SNMP v1, v2c\n"
        "and v3 at its own address, from the address it was asked at.\n"
        "\n"
        "Fleet:\n"
        "  --devices N            devices (default 100)\n"
        "  --first ADDRESS        first address, in 127.0.0.0/8 (default 127.20.0.1)\n"
        "  --port PORT            UDP port of every device (default 161)\n"
        "  --model NAME[:WEIGHT]  a built-in model (%s, %s, %s, %s) or an\n"
        "                         .snmprec file; repeat to mix by weight (default: the\n"
        "                         four built-ins, equal weights)\n"
        "  --models-dir DIR       where the built-in models are (default %s)\n"
        "  --seed N               serials, MACs, counters and events follow it (default 1)\n"
        "\n"
        "Time and behaviour:\n"
        "  --speed X              simulated seconds per real second (default 1)\n"
        "  --start TIME           simulated start, UTC, YYYY-MM-DDTHH:MM:SS (default now)\n"
        "  --epoch SECONDS        simulated time is EPOCH + (now - EPOCH) x speed, the\n"
        "                         clock of a collector with clock.epoch EPOCH; with\n"
        "                         --start, START + (now - EPOCH) x speed (clock.start)\n"
        "  --static               no behaviour: serve the recordings exactly as they are\n"
        "  --sleepers PCT         devices that sleep when idle: late answers, no counters\n"
        "                         (default 10)\n"
        "  --sleep-delay MS       extra latency of a sleeping device (default 1500)\n"
        "  --changes PCT          devices moved, replaced, reset or taken away per\n"
        "                         simulated day (default 0)\n"
        "  --change-kinds LIST    which changes: move,replace,reset,away (default all)\n"
        "  --night-share PCT      of a day's pages printed outside working hours (default 10)\n"
        "  --truth FILE           write every state change as a JSON line (and a\n"
        "                         \"stepped\" line per simulated minute: when it was taken)\n"
        "\n"
        "Network:\n"
        "  --offline PCT          devices that never answer (default 0)\n"
        "  --latency MIN-MAX      reply latency in ms (default 0-0)\n"
        "  --loss PCT             requests dropped (default 0)\n"
        "  --max-msg-size BYTES   largest reply for v1/v2c (default 1472)\n"
        "\n"
        "Access:\n"
        "  --community NAME       v1/v2c community; repeat for more (default public)\n"
        "  --v3-only PCT          devices that answer SNMPv3 only, not v1/v2c (default 0)\n"
        "  --user NAME:LEVEL[:AUTH:PASS[:PRIV:PASS]]\n"
        "                         SNMPv3 user, e.g. "
        "opendca:authPriv:SHA-256:pass1234:AES:pass5678\n"
        "\n"
        "Control:\n"
        "  --control PATH         listen for commands on a Unix socket at PATH\n"
        "  --stats SECONDS        print request counts to stderr every SECONDS\n"
        "  ctl --control PATH CMD send CMD: 'inject ADDRESS EVENT [ARG]', 'dump ADDRESS',\n"
        "                         'time', 'stats'. Events: jam, door, service, supply_low N,\n"
        "                         supply_empty N, replace_supply N, tray_empty N, clear,\n"
        "                         move [ADDRESS], replace, reset, away, back, sleep, wake\n",
        s_builtin[0], s_builtin[1], s_builtin[2], s_builtin[3], ODC_SIM_MODELS_DIR);
}

static int
s_ctl (int argc, char **argv)
{
    const char *path = NULL;
    int i = 2;
    if (i + 1 < argc && !strcmp (argv[i], "--control")) {
        path = argv[i + 1];
        i += 2;
    }
    if (!path || i >= argc) {
        fprintf (stderr, "opendca-sim ctl: usage: opendca-sim ctl --control PATH COMMAND...\n");
        return 2;
    }
    char line[1024] = "";
    for (; i < argc; i++) {
        strncat (line, argv[i], sizeof line - strlen (line) - 2);
        strncat (line, i + 1 < argc ? " " : "\n", sizeof line - strlen (line) - 1);
    }
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf (addr.sun_path, sizeof addr.sun_path, "%s", path);
    if (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf (stderr, "opendca-sim ctl: cannot connect to %s: %s\n", path, strerror (errno));
        close (fd);
        return 1;
    }
    if (write (fd, line, strlen (line)) < 0) {
        close (fd);
        return 1;
    }
    shutdown (fd, SHUT_WR);
    char buffer[4096];
    ssize_t n;
    int rc = 0;
    bool first = true;
    while ((n = read (fd, buffer, sizeof buffer)) > 0) {
        if (first && n >= 6 && !memcmp (buffer, "error:", 6))
            rc = 1;
        first = false;
        fwrite (buffer, 1, (size_t)n, stdout);
    }
    close (fd);
    return rc;
}

static void
s_stats_json (sim_fleet_t *fleet, sim_agent_t *agent, FILE *out)
{
    const sim_agent_stats_t *s = sim_agent_stats (agent);
    char low[INET_ADDRSTRLEN] = "", high[INET_ADDRSTRLEN] = "";
    struct in_addr a = {htonl (s->to_low)}, b = {htonl (s->to_high)};
    if (s->to_low) {
        inet_ntop (AF_INET, &a, low, sizeof low);
        inet_ntop (AF_INET, &b, high, sizeof high);
    }
    uint32_t online = 0;
    for (uint32_t i = 0; i < fleet->opt.devices; i++)
        online += !(fleet->devices[i].flags & (SIM_DEV_OFFLINE | SIM_DEV_AWAY));
    fprintf (out,
             "{\"sim_s\":%lld,\"devices\":%u,\"online\":%u,\"requests\":%llu,\"answered\":%llu,"
             "\"no_device\":%llu,"
             "\"lost\":%llu,\"refused\":%llu,\"too_big\":%llu,\"truncated\":%llu,"
             "\"truth_lines\":%llu,\"to_low\":\"%s\",\"to_high\":\"%s\",\"datagrams\":%llu}\n",
             (long long)fleet->sim_s, fleet->opt.devices, online, (unsigned long long)s->requests,
             (unsigned long long)s->answered, (unsigned long long)s->dropped_unknown,
             (unsigned long long)s->dropped_loss, (unsigned long long)s->dropped_auth,
             (unsigned long long)s->too_big, (unsigned long long)s->truncated,
             (unsigned long long)fleet->truth_lines, low, high, (unsigned long long)s->datagrams);
}

static void
s_control (int listener, sim_fleet_t *fleet, sim_agent_t *agent)
{
    int fd = accept (listener, NULL, NULL);
    if (fd < 0)
        return;
    char line[1024];
    size_t used = 0;
    while (used + 1 < sizeof line) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, 1000) != 1)
            break;
        ssize_t n = read (fd, line + used, sizeof line - used - 1);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (memchr (line, '\n', used))
            break;
    }
    line[used] = 0;
    line[strcspn (line, "\r\n")] = 0;
    char *reply = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&reply, &size);
    char cmd[32] = "", addr_text[64] = "";
    int n = sscanf (line, "%31s %63s", cmd, addr_text);
    struct in_addr a;
    if (n >= 1 && !strcmp (cmd, "time")) {
        char when[32];
        time_t t = (time_t)fleet->sim_s;
        struct tm tm;
        gmtime_r (&t, &tm);
        strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf (out, "{\"sim_s\":%lld,\"t\":\"%s\"}\n", (long long)fleet->sim_s, when);
    }
    else if (n >= 1 && !strcmp (cmd, "stats"))
        s_stats_json (fleet, agent, out);
    else if (n == 2 && (!strcmp (cmd, "dump") || !strcmp (cmd, "inject")) &&
             inet_pton (AF_INET, addr_text, &a) == 1) {
        if (!strcmp (cmd, "dump"))
            sim_fleet_dump (fleet, ntohl (a.s_addr), out);
        else {
            const char *event = strstr (line, addr_text) + strlen (addr_text);
            while (*event == ' ')
                event++;
            const char *why = sim_fleet_inject (fleet, ntohl (a.s_addr), event);
            fprintf (out, why ? "error: %s\n" : "ok\n", why);
        }
    }
    else
        fprintf (out,
                 "error: unknown command '%s' (inject ADDRESS EVENT, dump ADDRESS, time, "
                 "stats)\n",
                 line);
    fclose (out);
    if (write (fd, reply, size) < 0)
        perror ("opendca-sim: control reply");
    free (reply);
    close (fd);
}

static int
s_parse_time (const char *text, int64_t *out)
{
    struct tm tm = {0};
    char *end = strptime (text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (*end && strcmp (end, "Z")))
        return -1;
    *out = (int64_t)timegm (&tm);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc > 1 && !strcmp (argv[1], "ctl"))
        return s_ctl (argc, argv);

    sim_fleet_options_t fo = {.devices = 100,
                              .seed = 1,
                              .speed = 1,
                              .sleeper_pct = 10,
                              .behaviour = true,
                              .change_kinds = 15,
                              .night_share = 0.1};
    struct in_addr first;
    inet_pton (AF_INET, "127.20.0.1", &first);
    fo.first = ntohl (first.s_addr);
    fo.start_s = (int64_t)time (NULL);
    sim_agent_options_t ao = {.port = 161, .max_msg_size = 1472, .sleep_delay_ms = 1500};
    const char *models[64];
    int model_count = 0;
    const char *models_dir = ODC_SIM_MODELS_DIR;
    const char *communities[16], *users[16], *control = NULL;
    int stats_every = 0;
    double epoch = 0;
    bool start_given = false;

    enum {
        O_DEVICES = 256,
        O_FIRST,
        O_PORT,
        O_MODEL,
        O_MODELS_DIR,
        O_SEED,
        O_SPEED,
        O_START,
        O_STATIC,
        O_SLEEPERS,
        O_SLEEP_DELAY,
        O_CHANGES,
        O_CHANGE_KINDS,
        O_EPOCH,
        O_NIGHT_SHARE,
        O_TRUTH,
        O_V3ONLY,
        O_OFFLINE,
        O_LATENCY,
        O_LOSS,
        O_MAXMSG,
        O_COMMUNITY,
        O_USER,
        O_CONTROL,
        O_STATS
    };
    static const struct option options[] = {{"devices", 1, 0, O_DEVICES},
                                            {"first", 1, 0, O_FIRST},
                                            {"port", 1, 0, O_PORT},
                                            {"model", 1, 0, O_MODEL},
                                            {"models-dir", 1, 0, O_MODELS_DIR},
                                            {"seed", 1, 0, O_SEED},
                                            {"speed", 1, 0, O_SPEED},
                                            {"start", 1, 0, O_START},
                                            {"static", 0, 0, O_STATIC},
                                            {"sleepers", 1, 0, O_SLEEPERS},
                                            {"sleep-delay", 1, 0, O_SLEEP_DELAY},
                                            {"changes", 1, 0, O_CHANGES},
                                            {"change-kinds", 1, 0, O_CHANGE_KINDS},
                                            {"epoch", 1, 0, O_EPOCH},
                                            {"night-share", 1, 0, O_NIGHT_SHARE},
                                            {"truth", 1, 0, O_TRUTH},
                                            {"v3-only", 1, 0, O_V3ONLY},
                                            {"offline", 1, 0, O_OFFLINE},
                                            {"latency", 1, 0, O_LATENCY},
                                            {"loss", 1, 0, O_LOSS},
                                            {"max-msg-size", 1, 0, O_MAXMSG},
                                            {"community", 1, 0, O_COMMUNITY},
                                            {"user", 1, 0, O_USER},
                                            {"control", 1, 0, O_CONTROL},
                                            {"stats", 1, 0, O_STATS},
                                            {"help", 0, 0, 'h'},
                                            {0, 0, 0, 0}};
    int opt;
    char *end;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_DEVICES:
            fo.devices = (uint32_t)strtoul (optarg, &end, 10);
            if (*end || fo.devices == 0 || fo.devices > 1000000) {
                fprintf (stderr, "opendca-sim: --devices %s: a number from 1 to 1000000\n", optarg);
                return 2;
            }
            break;
        case O_FIRST:
            if (inet_pton (AF_INET, optarg, &first) != 1 || (ntohl (first.s_addr) >> 24) != 127) {
                fprintf (stderr, "opendca-sim: --first %s: an address in 127.0.0.0/8\n", optarg);
                return 2;
            }
            fo.first = ntohl (first.s_addr);
            break;
        case O_PORT:
            ao.port = (int)strtol (optarg, &end, 10);
            if (*end || ao.port < 1 || ao.port > 65535) {
                fprintf (stderr, "opendca-sim: --port %s: 1 to 65535\n", optarg);
                return 2;
            }
            break;
        case O_MODEL:
            if (model_count < 64)
                models[model_count++] = optarg;
            break;
        case O_MODELS_DIR: models_dir = optarg; break;
        case O_SEED: fo.seed = strtoull (optarg, NULL, 10); break;
        case O_SPEED:
            fo.speed = strtod (optarg, &end);
            if (*end || fo.speed <= 0) {
                fprintf (stderr, "opendca-sim: --speed %s: a positive number\n", optarg);
                return 2;
            }
            break;
        case O_START:
            if (s_parse_time (optarg, &fo.start_s) != 0) {
                fprintf (stderr, "opendca-sim: --start %s: YYYY-MM-DDTHH:MM:SS (UTC)\n", optarg);
                return 2;
            }
            start_given = true;
            break;
        case O_STATIC: fo.behaviour = false; break;
        case O_SLEEPERS: fo.sleeper_pct = atof (optarg); break;
        case O_SLEEP_DELAY: ao.sleep_delay_ms = atoi (optarg); break;
        case O_CHANGES: fo.change_pct = atof (optarg); break;
        case O_CHANGE_KINDS: {
            static const char *const kinds[] = {"move", "replace", "reset", "away"};
            fo.change_kinds = 0;
            char list[256];
            snprintf (list, sizeof list, "%s", optarg);
            for (char *k = strtok (list, ","); k; k = strtok (NULL, ",")) {
                int i = 0;
                while (i < 4 && strcmp (kinds[i], k))
                    i++;
                if (i == 4) {
                    fprintf (stderr,
                             "opendca-sim: --change-kinds: '%s' is none of move, replace, reset, "
                             "away\n",
                             k);
                    return 2;
                }
                fo.change_kinds |= 1u << i;
            }
            break;
        }
        case O_EPOCH:
            epoch = strtod (optarg, &end);
            if (*end || epoch <= 0) {
                fprintf (stderr, "opendca-sim: --epoch %s: seconds since 1970\n", optarg);
                return 2;
            }
            break;
        case O_NIGHT_SHARE:
            fo.night_share = strtod (optarg, &end) / 100.0;
            if (*end || fo.night_share < 0 || fo.night_share > 1) {
                fprintf (stderr, "opendca-sim: --night-share %s: a percentage, 0-100\n", optarg);
                return 2;
            }
            break;
        case O_TRUTH: fo.truth_path = optarg; break;
        case O_V3ONLY: fo.v3_only_pct = atof (optarg); break;
        case O_OFFLINE: fo.offline_pct = atof (optarg); break;
        case O_LATENCY:
            if (sscanf (optarg, "%d-%d", &ao.latency_min_ms, &ao.latency_max_ms) != 2 ||
                ao.latency_min_ms < 0 || ao.latency_max_ms < ao.latency_min_ms) {
                fprintf (stderr, "opendca-sim: --latency %s: MIN-MAX in ms\n", optarg);
                return 2;
            }
            break;
        case O_LOSS: ao.loss_pct = atof (optarg); break;
        case O_MAXMSG:
            ao.max_msg_size = atoi (optarg);
            if (ao.max_msg_size < 484 || ao.max_msg_size > 65507) {
                fprintf (stderr, "opendca-sim: --max-msg-size %s: 484 to 65507\n", optarg);
                return 2;
            }
            break;
        case O_COMMUNITY:
            if (ao.community_count < 16)
                communities[ao.community_count++] = optarg;
            break;
        case O_USER:
            if (ao.user_count < 16)
                users[ao.user_count++] = optarg;
            break;
        case O_CONTROL: control = optarg; break;
        case O_STATS: stats_every = atoi (optarg); break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf (stderr, "opendca-sim: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (ao.community_count == 0)
        communities[ao.community_count++] = "public";
    ao.communities = communities;
    ao.users = users;
    if (model_count == 0)
        for (int i = 0; s_builtin[i]; i++)
            models[model_count++] = s_builtin[i];

    sim_agent_init_library ();
    if (epoch > 0) {
        /*  The collector's clock with clock.epoch: both tell the same
            simulated time, whenever each started. */
        struct timeval tv;
        gettimeofday (&tv, NULL);
        double now = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
        fo.start_s =
            (int64_t)((start_given ? (double)fo.start_s : epoch) + (now - epoch) * fo.speed);
    }
    sim_fleet_t *fleet = sim_fleet_new (&fo);
    char *error = NULL;
    int rc = 0;
    for (int i = 0; i < model_count && !rc; i++)
        if (sim_fleet_add_model (fleet, models[i], models_dir, &error) == -1)
            rc = 2;
    if (!rc && sim_fleet_populate (fleet, &error) == -1)
        rc = 2;
    sim_agent_t *agent = rc ? NULL : sim_agent_new (fleet, &ao, &error);
    if (!rc && !agent)
        rc = 1;
    if (rc) {
        fprintf (stderr, "opendca-sim: %s\n", error ? error : "out of memory");
        free (error);
        sim_fleet_destroy (&fleet);
        snmp_shutdown ("opendca-sim");
        return rc;
    }
    int listener = -1;
    if (control) {
        listener = socket (AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        snprintf (addr.sun_path, sizeof addr.sun_path, "%s", control);
        unlink (control);
        if (bind (listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
            listen (listener, 16) != 0) {
            fprintf (stderr, "opendca-sim: --control %s: %s\n", control, strerror (errno));
            return 1;
        }
    }
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);

    struct in_addr a0 = {htonl (fo.first)}, a1 = {htonl (fo.first + fo.devices - 1)};
    char first_text[32];
    snprintf (first_text, sizeof first_text, "%s", inet_ntoa (a0));
    printf ("opendca-sim: %u devices at %s-%s port %d, %d model%s, speed %g, %s; ready\n",
            fo.devices, first_text, inet_ntoa (a1), ao.port, model_count,
            model_count > 1 ? "s" : "", fo.speed, fo.behaviour ? "behaviour on" : "static");
    fflush (stdout);

    struct timespec last_stats;
    clock_gettime (CLOCK_MONOTONIC, &last_stats);
    while (!s_stop) {
        int wait = sim_fleet_advance (fleet, 20);
        bool behind = wait == 0;
        int due = sim_agent_flush (agent);
        if (due >= 0 && due < wait)
            wait = due;
        if (wait > 200)
            wait = 200;
        struct pollfd p[2] = {{sim_agent_fd (agent), POLLIN, 0}, {listener, POLLIN, 0}};
        int n = poll (p, listener >= 0 ? 2 : 1, wait);
        /*  Behind the clock (wait 0): fewer requests before stepping
            again, so the answers do not fall further behind. */
        if (n > 0 && (p[0].revents & POLLIN))
            sim_agent_read (agent, behind ? 64 : 512);
        if (n > 0 && listener >= 0 && (p[1].revents & POLLIN))
            s_control (listener, fleet, agent);
        if (stats_every > 0) {
            struct timespec now;
            clock_gettime (CLOCK_MONOTONIC, &now);
            if (now.tv_sec - last_stats.tv_sec >= stats_every) {
                last_stats = now;
                s_stats_json (fleet, agent, stderr);
            }
        }
    }
    fprintf (stderr, "opendca-sim: stopping: ");
    s_stats_json (fleet, agent, stderr);
    if (listener >= 0) {
        close (listener);
        unlink (control);
    }
    sim_agent_destroy (&agent);
    sim_fleet_destroy (&fleet);
    snmp_shutdown ("opendca-sim");
    return 0;
}
