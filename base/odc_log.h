/*  odc_log: the one logging module.

    Every line goes to stderr as
        2026-11-26T14:51:47.123Z info  [actor] function: device=ADDR message
    The actor is a per-thread name set once by each actor thread
    (odc_log_set_actor); the function comes from __func__ through the macros;
    the device is the address or id the line is about, or NULL ("-").
    Lines are written with one write(2) each, so threads never interleave. */
#ifndef ODC_LOG_H
#define ODC_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ODC_LOG_DEBUG = 0,
    ODC_LOG_INFO,
    ODC_LOG_WARN,
    ODC_LOG_ERROR,
    ODC_LOG_FATAL,
} odc_log_level_t;

/*  Set the lowest level printed (process-wide). Default: info. */
void odc_log_set_level (odc_log_level_t level);
odc_log_level_t odc_log_level (void);

/*  Parse "debug", "info", "warn", "error", "fatal"; -1 when unknown. */
int odc_log_level_parse (const char *name);

/*  Name the calling thread's actor; the string must outlive the thread. */
void odc_log_set_actor (const char *actor);

void odc_log_write (odc_log_level_t level, const char *func, const char *device, const char *fmt,
                    ...) __attribute__ ((format (printf, 4, 5)));

/*  in[0..len) into out (size bytes, NUL-terminated) with control
    characters (C0, DEL, C1) escaped as \n, \r, \t, \xHH: what every log
    line does to its text, for other text shown to a user (IMIL's echo).
    Returns the length written; cut when out is full. */
size_t odc_log_escape (char *out, size_t size, const char *in, size_t len);

/*  Milliseconds since the epoch (wall clock). */
uint64_t odc_now_ms (void);

/*  Seconds on the monotonic clock, for measuring durations. */
double odc_clock_s (void);

/*  Seconds since the epoch on the wall clock, for schedules and times shown. */
double odc_wall_s (void);

/*  The collector's clock, in seconds since the epoch: the wall clock since
    epoch (the wall clock when the actor started, or clock.epoch) run speed
    times fast (clock.speed; 1 in production), counted from start (the
    collector's time at epoch: epoch itself, or clock.start). */
typedef struct {
    double epoch, start, speed;
} odc_clock_t;

/*  The collector's clock now. */
double odc_collector_s (const odc_clock_t *clock);

/*  The collector's clock at the wall clock's WALL_S (a response's time). */
double odc_collector_at (const odc_clock_t *clock, double wall_s);

#define odc_debug(dev, ...) odc_log_write (ODC_LOG_DEBUG, __func__, (dev), __VA_ARGS__)
#define odc_info(dev, ...)  odc_log_write (ODC_LOG_INFO, __func__, (dev), __VA_ARGS__)
#define odc_warn(dev, ...)  odc_log_write (ODC_LOG_WARN, __func__, (dev), __VA_ARGS__)
#define odc_error(dev, ...) odc_log_write (ODC_LOG_ERROR, __func__, (dev), __VA_ARGS__)
#define odc_fatal(dev, ...) odc_log_write (ODC_LOG_FATAL, __func__, (dev), __VA_ARGS__)

#endif
