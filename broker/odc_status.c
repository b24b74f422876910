/*  odc_status: see odc_status.h. */
#include "odc_status.h"

#include <pthread.h>

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
