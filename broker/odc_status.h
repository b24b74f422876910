/*  odc_status: what "status" tells, gathered from the actors that know it:
    each loop's last finished pass and the pass in progress, the portal
    connection. Any thread writes its part and reads the whole; a mutex
    guards it. Process-wide (one collector per process). */
#ifndef ODC_STATUS_H
#define ODC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odc_config.h"

typedef struct {
    size_t devices;   /* in the loop's device list */
    unsigned passes;  /* finished */
    double last_end;  /* wall clock (s since the epoch) of the last finished pass; 0: none */
    double last_took; /* its duration, s */
    double interval;  /* its interval, s */
    size_t last_read, last_failed;
    bool in_pass;
    size_t started; /* devices started in the pass in progress */
} odc_loop_status_t;

typedef struct {
    bool connected;
    int port;             /* the port that works, 0 while not connected */
    double since;         /* when it connected or lost the connection */
    uint64_t sent, acked; /* batches since the start */
    char last_error[160];
    /*  Answers to our batch ids that did not come from
        the portal (ignored); readings set aside because no stanza can
        carry them, with the last reason. */
    uint64_t forged, refused;
    char last_refusal[160];
} odc_portal_status_t;

void odc_status_loop_set (odc_loop_t loop, const odc_loop_status_t *status);
void odc_status_loop_get (odc_loop_t loop, odc_loop_status_t *status);
void odc_status_portal_set (const odc_portal_status_t *status);
void odc_status_portal_get (odc_portal_status_t *status);
/*  Wall clock when the collector started (set by "opendca run"). */
void odc_status_started (double when);
double odc_status_start_time (void);
/*  Bytes the allocator has handed out and not had back (jemalloc's
    stats.allocated when the program is linked with it, glibc's mallinfo2
    otherwise). */
uint64_t odc_status_heap_bytes (void);

#endif
