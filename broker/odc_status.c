/*  odc_status: see odc_status.h. */
#include "odc_status.h"

#include <malloc.h>
#include <pthread.h>
#include <stddef.h>

/*  jemalloc's, when the program is linked with it (opendca is, see
    CMakeLists.txt): weak, so that the other programs link without it. */
extern int mallctl (const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__ ((weak));

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static odc_loop_status_t s_loops[ODC_LOOP_COUNT];
static odc_portal_status_t s_portal;
static double s_started;

void
odc_status_loop_set (odc_loop_t loop, const odc_loop_status_t *status)
{
    pthread_mutex_lock (&s_lock);
    s_loops[loop] = *status;
    pthread_mutex_unlock (&s_lock);
}

void
odc_status_loop_get (odc_loop_t loop, odc_loop_status_t *status)
{
    pthread_mutex_lock (&s_lock);
    *status = s_loops[loop];
    pthread_mutex_unlock (&s_lock);
}

void
odc_status_portal_set (const odc_portal_status_t *status)
{
    pthread_mutex_lock (&s_lock);
    s_portal = *status;
    pthread_mutex_unlock (&s_lock);
}

void
odc_status_portal_get (odc_portal_status_t *status)
{
    pthread_mutex_lock (&s_lock);
    *status = s_portal;
    pthread_mutex_unlock (&s_lock);
}

void
odc_status_started (double when)
{
    pthread_mutex_lock (&s_lock);
    s_started = when;
    pthread_mutex_unlock (&s_lock);
}

double
odc_status_start_time (void)
{
    pthread_mutex_lock (&s_lock);
    double when = s_started;
    pthread_mutex_unlock (&s_lock);
    return when;
}

uint64_t
odc_status_heap_bytes (void)
{
    if (mallctl) {
        uint64_t epoch = 1;
        size_t allocated = 0, len = sizeof allocated, elen = sizeof epoch;
        /*  The statistics are as of the last epoch: move it on first. */
        mallctl ("epoch", &epoch, &elen, &epoch, elen);
        if (mallctl ("stats.allocated", &allocated, &len, NULL, 0) == 0)
            return allocated;
    }
    struct mallinfo2 info = mallinfo2 ();
    return (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
}
