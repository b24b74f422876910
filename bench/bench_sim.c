/*  bench_sim: requests the simulator answers per second on one core.

    Starts opendca-sim (single-threaded: one core), then sends it typical
    loop requests from one UDP socket, spread over the fleet's addresses,
    keeping a window of requests in flight, for a few seconds per kind:
    - GET of five status scalars (what an alert-loop pass asks);
    - GETBULK of the supply and alert table columns (4 columns x 10 rows).
    The request bytes are built once by net-snmp (sent to our own socket and
    captured), so the client costs almost nothing and the simulator is the
    bottleneck. Figures: answers per second of wall time, and per second of
    the simulator's own CPU time (from /proc), which is the per-core rate.

        bench_sim SIM [--devices N] [--seconds S] [--window W] */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "odc_netsnmp.h"

extern char **environ;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*  CPU seconds (user + system) of a process. */
static double
s_cpu (pid_t pid)
{
    char path[64], buffer[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *in = fopen (path, "r");
    if (!in)
        return 0;
    size_t n = fread (buffer, 1, sizeof buffer - 1, in);
    fclose (in);
    buffer[n] = 0;
    char *p = strrchr (buffer, ')');
    unsigned long utime = 0, stime = 0;
    /*  Fields after the name: state is 3rd; utime 14th, stime 15th. */
    if (p)
        sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

/*  Build a request with net-snmp and capture its bytes. */
static size_t
s_capture (netsnmp_pdu *pdu, uint8_t *out, size_t size)
{
    int rx = socket (AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    bind (rx, (struct sockaddr *)&addr, sizeof addr);
    getsockname (rx, (struct sockaddr *)&addr, &len);
    char peer[64];
    snprintf (peer, sizeof peer, "udp:127.0.0.1:%d", ntohs (addr.sin_port));
    netsnmp_session s;
    snmp_sess_init (&s);
    s.peername = peer;
    s.version = SNMP_VERSION_2c;
    s.community = (u_char *)"public";
    s.community_len = 6;
    void *sessp = snmp_sess_open (&s);
    snmp_sess_send (sessp, pdu);
    ssize_t n = recv (rx, out, size, 0);
    snmp_sess_close (sessp);
    close (rx);
    return n > 0 ? (size_t)n : 0;
}

static void
s_run (const char *name, const uint8_t *req, size_t req_len, int port, int devices, double seconds,
       int window, pid_t sim)
{
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    int buf = 8 << 20;
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    uint32_t next = 0;
    long sent = 0, answered = 0, bytes_in = 0;
    double cpu0 = s_cpu (sim), t0 = s_now (), deadline = t0 + seconds;
    uint8_t reply[65536];
    for (int i = 0; i < window; i++, sent++) {
        to.sin_addr.s_addr = htonl (0x7f1e0001u + next++ % (uint32_t)devices);
        sendto (fd, req, req_len, 0, (struct sockaddr *)&to, sizeof to);
    }
    while (s_now () < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, 100) != 1) {
            /*  Something was lost: top the window up again. */
            for (int i = 0; i < window / 4 + 1; i++, sent++) {
                to.sin_addr.s_addr = htonl (0x7f1e0001u + next++ % (uint32_t)devices);
                sendto (fd, req, req_len, 0, (struct sockaddr *)&to, sizeof to);
            }
            continue;
        }
        ssize_t n;
        while ((n = recv (fd, reply, sizeof reply, MSG_DONTWAIT)) > 0) {
            answered++;
            bytes_in += n;
            to.sin_addr.s_addr = htonl (0x7f1e0001u + next++ % (uint32_t)devices);
            sendto (fd, req, req_len, 0, (struct sockaddr *)&to, sizeof to);
            sent++;
        }
    }
    double wall = s_now () - t0, cpu = s_cpu (sim) - cpu0;
    printf ("sim: %-40s %8.0f answers/s wall, %8.0f per core-second of the simulator "
            "(%.1f us CPU each); %zu B request, %ld B reply\n",
            name, answered / wall, cpu > 0 ? answered / cpu : 0, cpu > 0 ? cpu * 1e6 / answered : 0,
            req_len, answered ? bytes_in / answered : 0);
    close (fd);
}

int
main (int argc, char **argv)
{
    int devices = 10000, window = 256;
    double seconds = 5;
    static const struct option options[] = {{"devices", 1, 0, 'n'},
                                            {"seconds", 1, 0, 's'},
                                            {"window", 1, 0, 'w'},
                                            {"help", 0, 0, 'h'},
                                            {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "n:s:w:h", options, NULL)) != -1) {
        switch (opt) {
        case 'n': devices = atoi (optarg); break;
        case 's': seconds = atof (optarg); break;
        case 'w': window = atoi (optarg); break;
        default:
            printf ("usage: bench_sim SIM [--devices N] [--seconds S] [--window W]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind + 1 != argc || devices < 1 || window < 1) {
        fprintf (stderr, "usage: bench_sim SIM [--devices N] [--seconds S] [--window W]\n");
        return 2;
    }
    int port = 40000 + getpid () % 20000;
    char port_text[16], devices_text[16];
    snprintf (port_text, sizeof port_text, "%d", port);
    snprintf (devices_text, sizeof devices_text, "%d", devices);
    int out[2];
    if (pipe (out) != 0)
        return 1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, out[1], 1);
    char *args[] = {argv[optind], "--devices", devices_text, "--first", "127.30.0.1",
                    "--port",     port_text,   "--sleepers", "0",       NULL};
    pid_t sim;
    if (posix_spawn (&sim, argv[optind], &actions, NULL, args, environ) != 0) {
        perror ("bench_sim: spawn");
        return 1;
    }
    posix_spawn_file_actions_destroy (&actions);
    close (out[1]);
    char line[512] = "";
    FILE *sim_out = fdopen (out[0], "r");
    if (!fgets (line, sizeof line, sim_out) || !strstr (line, "ready")) {
        fprintf (stderr, "bench_sim: the simulator did not start\n");
        kill (sim, SIGTERM);
        return 1;
    }

    odc_netsnmp_start ("bench_sim", NULL);
    uint8_t get[1500], bulk[1500];
    netsnmp_pdu *pdu = snmp_pdu_create (SNMP_MSG_GET);
    static const oid scalars[5][13] = {{1, 3, 6, 1, 2, 1, 1, 3, 0},
                                       {1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5, 1},
                                       {1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1},
                                       {1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2, 1},
                                       {1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 19, 1}};
    static const size_t scalar_len[5] = {9, 12, 12, 12, 12};
    for (int i = 0; i < 5; i++)
        snmp_add_null_var (pdu, scalars[i], scalar_len[i]);
    size_t get_len = s_capture (pdu, get, sizeof get);
    pdu = snmp_pdu_create (SNMP_MSG_GETBULK);
    pdu->non_repeaters = 0;
    pdu->max_repetitions = 10;
    static const oid columns[4][12] = {{1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 8, 1},
                                       {1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 9, 1},
                                       {1, 3, 6, 1, 2, 1, 43, 18, 1, 1, 2, 1},
                                       {1, 3, 6, 1, 2, 1, 43, 18, 1, 1, 7, 1}};
    for (int i = 0; i < 4; i++)
        snmp_add_null_var (pdu, columns[i], 12);
    size_t bulk_len = s_capture (pdu, bulk, sizeof bulk);
    if (!get_len || !bulk_len) {
        fprintf (stderr, "bench_sim: could not build the requests\n");
        kill (sim, SIGTERM);
        return 1;
    }
    printf ("sim: %d devices (the four built-in models), window %d, %.0f s per kind\n", devices,
            window, seconds);
    s_run ("GET of 5 status scalars", get, get_len, port, devices, seconds, window, sim);
    s_run ("GETBULK supplies+alerts, 4 columns x 10", bulk, bulk_len, port, devices, seconds,
           window, sim);
    kill (sim, SIGTERM);
    waitpid (sim, NULL, 0);
    return 0;
}
