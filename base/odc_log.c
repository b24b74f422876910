/*  odc_log: see odc_log.h. */
#include "odc_log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int s_level = ODC_LOG_INFO;
static _Thread_local const char *s_actor = "main";

static const char *s_names[] = {"debug", "info", "warn", "error", "fatal"};

uint64_t
odc_now_ms (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static double
s_seconds (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
odc_clock_s (void)
{
    return s_seconds (CLOCK_MONOTONIC);
}

double
odc_collector_s (const odc_clock_t *clock)
{
    return odc_collector_at (clock, odc_wall_s ());
}

double
odc_collector_at (const odc_clock_t *clock, double wall_s)
{
    return clock->start + (wall_s - clock->epoch) * clock->speed;
}

double
odc_wall_s (void)
{
    return s_seconds (CLOCK_REALTIME);
}

void
odc_log_set_level (odc_log_level_t level)
{
    atomic_store (&s_level, (int)level);
}

odc_log_level_t
odc_log_level (void)
{
    return (odc_log_level_t)atomic_load (&s_level);
}

int
odc_log_level_parse (const char *name)
{
    for (int i = 0; i <= ODC_LOG_FATAL; i++)
        if (strcmp (name, s_names[i]) == 0)
            return i;
    return -1;
}

void
odc_log_set_actor (const char *actor)
{
    s_actor = actor ? actor : "main";
}

/*  Escape what could forge or garble a line: C0 controls (newline,
    carriage return, ESC ...), DEL and C1 controls written as \n, \r, \t
    or \xHH. One place, so every message, device and actor name is
    covered (IMIL text with a newline forged log lines). Bytes
    of UTF-8 text pass as they are. Returns the length written. */
size_t
odc_log_escape (char *out, size_t size, const char *in, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 5 < size; i++) {
        unsigned char c = (unsigned char)in[i];
        /*  C1 controls in UTF-8: C2 80 .. C2 9F. */
        bool c1 = c == 0xc2 && i + 1 < len && (unsigned char)in[i + 1] >= 0x80 &&
                  (unsigned char)in[i + 1] <= 0x9f;
        if (c >= 0x20 && c != 0x7f && !c1) {
            out[k++] = (char)c;
            continue;
        }
        if (c1)
            c = (unsigned char)in[++i];
        if (c == '\n' || c == '\r' || c == '\t') {
            out[k++] = '\\';
            out[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        }
        else
            k += (size_t)snprintf (out + k, size - k, "\\x%02x", c);
    }
    if (k < size)
        out[k] = 0;
    return k;
}

void
odc_log_write (odc_log_level_t level, const char *func, const char *device, const char *fmt, ...)
{
    if ((int)level < atomic_load (&s_level))
        return;
    char raw[2048], line[2048];
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    int n = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, (int)(tv.tv_usec / 1000), s_names[level]);
    if (n < 0)
        return;
    /*  Everything after the time and level comes from somewhere else:
        formatted first, then escaped into the line. */
    int r = snprintf (raw, sizeof raw, "[%s] %s: device=%s ", s_actor, func, device ? device : "-");
    if (r < 0)
        return;
    if ((size_t)r < sizeof raw) {
        va_list ap;
        va_start (ap, fmt);
        int m = vsnprintf (raw + r, sizeof raw - (size_t)r, fmt, ap);
        va_end (ap);
        if (m > 0)
            r += m;
    }
    if ((size_t)r >= sizeof raw)
        r = (int)sizeof raw - 1;
    n += (int)odc_log_escape (line + n, sizeof line - (size_t)n - 1, raw, (size_t)r);
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /*  Single write: lines from different threads never interleave. */
    ssize_t rc = write (STDERR_FILENO, line, (size_t)n);
    (void)rc;
}
