/*  test_sim_day: a simulated day of a fleet, checked from the outside.

    Runs opendca-sim (200 devices, the four built-in models, a Monday from
    06:00 to 06:00 the next day at 2,400 simulated seconds per second) and
    polls every device over SNMP with net-snmp's client every few simulated
    minutes: the page counter, the supply levels and the alert table. Then it
    holds what it saw against the truth file:
    - page counters only grew, and agree with the truth's end-of-day count;
    - supplies fell, and every level seen going back up was a replacement
      the truth file records (device, supply, time);
    - every alert seen appear is an alert_raised in the truth (device,
      alert index, code), or a maker's row more for an open jam
      (alert_row), every alert seen go is an alert_cleared;
    - and each of these happened at least once.

        test_sim_day SIM    (exit 0 when all holds) */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "odc_netsnmp.h"

#include "odc_test.h"
#include "odc_testsim.h"

#define DEVICES  200
#define START    "2026-11-23T06:00:00"
#define START_S  1795413600LL /* the same, in seconds */
#define MAX_ROWS 16

typedef struct {
    bool seen;
    uint32_t total;
    int32_t level[MAX_ROWS + 1]; /* by supply row, -100 unknown */
    uint32_t alerts[MAX_ROWS];   /* alert indexes seen last poll */
    uint32_t codes[MAX_ROWS];
    int alert_count;
} s_device_t;

typedef struct {
    char kind; /* 'R' raised, 'C' cleared, 'S' supply replaced */
    int device;
    uint32_t index; /* alert index or supply row */
    uint32_t code;
    long long after, before; /* seen between these simulated times */
} s_seen_t;

static s_seen_t *s_seen;
static size_t s_seen_count, s_seen_size;
static s_device_t s_devices[DEVICES];
static char s_control[100];

static void
s_note (char kind, int device, uint32_t index, uint32_t code, long long after, long long before)
{
    if (s_seen_count == s_seen_size) {
        s_seen_size = s_seen_size ? s_seen_size * 2 : 1024;
        s_seen = realloc (s_seen, s_seen_size * sizeof *s_seen);
    }
    s_seen[s_seen_count++] = (s_seen_t){kind, device, index, code, after, before};
}

static long long
s_sim_time (void)
{
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf (addr.sun_path, sizeof addr.sun_path, "%s", s_control);
    if (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close (fd);
        return -1;
    }
    if (write (fd, "time\n", 5) != 5) {
        close (fd);
        return -1;
    }
    char buffer[256] = "";
    ssize_t n = read (fd, buffer, sizeof buffer - 1);
    close (fd);
    if (n <= 0)
        return -1;
    buffer[n] = 0;
    const char *p = strstr (buffer, "\"sim_s\":");
    return p ? atoll (p + 8) : -1;
}

static const oid s_life[] = {1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1};
static const oid s_level[] = {1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 9, 1};
static const oid s_code[] = {1, 3, 6, 1, 2, 1, 43, 18, 1, 1, 7, 1};

static bool
s_under (const netsnmp_variable_list *v, const oid *prefix, size_t len)
{
    return v->name_length == len + 1 && snmp_oid_compare (v->name, len, prefix, len) == 0;
}

/*  One GETBULK: the life count as a non-repeater, the levels and the alert
    codes as two columns of up to 16 rows. */
static int
s_poll (void *sessp, int device, long long t0, long long t1)
{
    netsnmp_pdu *pdu = snmp_pdu_create (SNMP_MSG_GETBULK);
    pdu->non_repeaters = 1;
    pdu->max_repetitions = MAX_ROWS;
    snmp_add_null_var (pdu, s_life, sizeof s_life / sizeof (oid));
    snmp_add_null_var (pdu, s_level, sizeof s_level / sizeof (oid));
    snmp_add_null_var (pdu, s_code, sizeof s_code / sizeof (oid));
    netsnmp_pdu *resp = NULL;
    int status = snmp_sess_synch_response (sessp, pdu, &resp);
    if (status != STAT_SUCCESS || !resp || resp->errstat) {
        if (resp)
            snmp_free_pdu (resp);
        return -1;
    }
    s_device_t *d = &s_devices[device];
    uint32_t alerts[MAX_ROWS], codes[MAX_ROWS];
    int alert_count = 0;
    for (netsnmp_variable_list *v = resp->variables; v; v = v->next_variable) {
        if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHINSTANCE)
            continue;
        if (v->name_length == 13 && snmp_oid_compare (v->name, 12, s_life, 12) == 0 &&
            v->name[12] == 1 && v->type == ASN_COUNTER) {
            uint32_t total = (uint32_t)*v->val.integer;
            CHECKF (!d->seen || total >= d->total, "device %d: counter went back %u -> %u", device,
                    d->total, total);
            d->total = total;
        }
        else if (s_under (v, s_level, 12) && v->type == ASN_INTEGER) {
            uint32_t row = (uint32_t)v->name[12];
            int32_t level = (int32_t)*v->val.integer;
            if (row <= MAX_ROWS && d->seen && level >= 0 && d->level[row] >= 0) {
                if (level < d->level[row])
                    s_note ('F', device, row, 0, t0, t1);
                else if (level > d->level[row])
                    s_note ('S', device, row, 0, d->seen ? t0 : t0, t1);
            }
            if (row <= MAX_ROWS)
                d->level[row] = level;
        }
        else if (s_under (v, s_code, 12) && v->type == ASN_INTEGER && alert_count < MAX_ROWS) {
            alerts[alert_count] = (uint32_t)v->name[12];
            codes[alert_count++] = (uint32_t)*v->val.integer;
        }
    }
    if (d->seen) {
        for (int i = 0; i < alert_count; i++) {
            bool before = false;
            for (int k = 0; k < d->alert_count; k++)
                before |= d->alerts[k] == alerts[i];
            if (!before)
                s_note ('R', device, alerts[i], codes[i], t0, t1);
        }
        for (int k = 0; k < d->alert_count; k++) {
            bool still = false;
            for (int i = 0; i < alert_count; i++)
                still |= d->alerts[k] == alerts[i];
            if (!still)
                s_note ('C', device, d->alerts[k], d->codes[k], t0, t1);
        }
    }
    memcpy (d->alerts, alerts, sizeof alerts);
    memcpy (d->codes, codes, sizeof codes);
    d->alert_count = alert_count;
    d->seen = true;
    snmp_free_pdu (resp);
    return 0;
}

static long long
s_int (const char *line, const char *key)
{
    char pattern[64];
    snprintf (pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr (line, pattern);
    return p ? atoll (p + strlen (pattern)) : -1;
}

static bool
s_is (const char *line, const char *event, int device)
{
    char pattern[128];
    snprintf (pattern, sizeof pattern, "\"event\":\"%s\"", event);
    if (!strstr (line, pattern))
        return false;
    struct in_addr a = {htonl (0x7f1b0001u + (uint32_t)device)}; /* 127.27.0.1 + device */
    snprintf (pattern, sizeof pattern, "\"device\":\"%s\"", inet_ntoa (a));
    return strstr (line, pattern) != NULL;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: test_sim_day SIM\n");
        return 2;
    }
    char *dir = s_tempdir ("simday");
    char truth[300], port_text[16];
    snprintf (truth, sizeof truth, "%s/truth.jsonl", dir);
    snprintf (s_control, sizeof s_control, "%s/ctl.sock", dir);
    int port = 11000 + getpid () % 1000; /* port band 11 (tests/lib.sh) */
    snprintf (port_text, sizeof port_text, "%d", port);
    char devices[16];
    snprintf (devices, sizeof devices, "%d", DEVICES);
    pid_t pid = odc_testsim_start (
        argv[1], (char *[]){"--devices", devices, "--first", "127.27.0.1", "--port", port_text,
                            "--speed", "2400", "--start", START, "--seed", "7", "--sleepers", "0",
                            "--truth", truth, "--control", s_control, NULL});
    if (pid < 0)
        return 2;

    odc_netsnmp_start ("test_sim_day", NULL);
    void *sessions[DEVICES];
    for (int i = 0; i < DEVICES; i++) {
        netsnmp_session s;
        snmp_sess_init (&s);
        char peer[64];
        struct in_addr a = {htonl (0x7f1b0001u + (uint32_t)i)};
        snprintf (peer, sizeof peer, "udp:%s:%d", inet_ntoa (a), port);
        s.peername = peer;
        s.version = SNMP_VERSION_2c;
        s.community = (u_char *)"public";
        s.community_len = 6;
        s.timeout = 500000;
        s.retries = 2;
        sessions[i] = snmp_sess_open (&s);
        if (!sessions[i])
            return 2;
        s_devices[i].seen = false;
        for (int r = 0; r <= MAX_ROWS; r++)
            s_devices[i].level[r] = -100;
    }

    long long end = START_S + 86400 + 900, t0 = s_sim_time (), rounds = 0, failures = 0;
    while (t0 >= 0 && t0 < end) {
        for (int i = 0; i < DEVICES; i++)
            failures += s_poll (sessions[i], i, t0, t0) != 0;
        long long t1 = s_sim_time ();
        /*  The readings of this round were taken in (t0, t1]: fix the
            window of what this round noticed. */
        for (size_t k = 0; k < s_seen_count; k++)
            if (s_seen[k].before == t0 && s_seen[k].after == t0)
                s_seen[k].before = t1;
        rounds++;
        t0 = t1;
    }
    printf ("     %lld polling rounds over the simulated day, %lld polls without answer\n", rounds,
            failures);
    CHECKF (rounds > 50, "only %lld rounds", rounds);
    CHECK (failures == 0);
    odc_testsim_stop (pid);
    for (int i = 0; i < DEVICES; i++)
        snmp_sess_close (sessions[i]);

    /*  Hold what was seen against the truth. The previous round's start is
        the earliest a change seen now can have happened. */
    FILE *in = fopen (truth, "r");
    CHECK (in != NULL);
    char **lines = NULL;
    size_t count = 0, size = 0;
    char buffer[1024];
    while (in && fgets (buffer, sizeof buffer, in)) {
        if (count == size) {
            size = size ? size * 2 : 4096;
            lines = realloc (lines, size * sizeof *lines);
        }
        lines[count++] = strdup (buffer);
    }
    if (in)
        fclose (in);
    int raised = 0, cleared = 0, fell = 0, replaced = 0, unexplained = 0;
    for (size_t k = 0; k < s_seen_count; k++) {
        s_seen_t *e = &s_seen[k];
        if (e->kind == 'F') {
            fell++;
            continue;
        }
        const char *event = e->kind == 'R'   ? "alert_raised"
                            : e->kind == 'C' ? "alert_cleared"
                                             : "supply_replaced";
        const char *key = e->kind == 'S' ? "supply" : "alert_index";
        bool found = false;
        for (size_t l = 0; l < count && !found; l++)
            found = (s_is (lines[l], event, e->device) ||
                     (e->kind == 'R' && s_is (lines[l], "alert_row", e->device))) &&
                    s_int (lines[l], key) == e->index &&
                    (e->kind != 'R' || s_int (lines[l], "code") == e->code) &&
                    s_int (lines[l], "sim_s") <= e->before;
        if (!found) {
            unexplained++;
            fprintf (stderr,
                     "FAIL: seen %s on device %d (%s %u, code %u) by %lld: not in the truth\n",
                     event, e->device, key, e->index, e->code, e->before);
        }
        raised += e->kind == 'R';
        cleared += e->kind == 'C';
        replaced += e->kind == 'S';
    }
    /*  End-of-day counters: the truth's midnight count lies between what
        was read before and after; at least it is not below the last read
        before the end of the run. */
    int counters = 0, counter_bad = 0;
    for (size_t l = 0; l < count; l++)
        if (strstr (lines[l], "\"event\":\"counters\"")) {
            counters++;
            long long index = s_int (lines[l], "index");
            if (index >= 0 && index < DEVICES &&
                s_int (lines[l], "total") > (long long)s_devices[index].total)
                counter_bad++;
        }
    printf ("     seen: %d alerts raised, %d cleared, %d supply levels falling, %d replacements; "
            "truth: %zu lines, %d end-of-day counts\n",
            raised, cleared, fell, replaced, count, counters);
    CHECK (unexplained == 0);
    CHECK (raised > 0 && cleared > 0 && fell > 0 && replaced > 0);
    CHECKF (counters == DEVICES, "%d end-of-day counts for %d devices", counters, DEVICES);
    CHECKF (counter_bad == 0, "%d end-of-day counts above what was read after midnight",
            counter_bad);
    for (size_t l = 0; l < count; l++)
        free (lines[l]);
    free (lines);
    free (s_seen);
    s_rmtree (dir);
    free (dir);
    TEST_END ();
}
