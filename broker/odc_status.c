/*  odc_status: see odc_status.h. */
#include "odc_status.h"

#include <malloc.h>
#include <stddef.h>

#include "odc_bus.h"

/*  jemalloc's, when the program is linked with it (opendca is, see
    CMakeLists.txt): weak, so that the other programs link without it. */
extern int mallctl (const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__ ((weak));

zsock_t *
odc_status_push (void)
{
    return odc_bus_push_connect (ODC_EP_STATUS, 0);
}

void
odc_status_send (zsock_t *push, const ProtobufCMessage *status)
{
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    odc_bus_set_body (&env,
                      status->descriptor == &odc__loop_status__descriptor
                          ? ODC__ENVELOPE__BODY_LOOP_STATUS
                          : ODC__ENVELOPE__BODY_PORTAL_STATUS,
                      (ProtobufCMessage *)status);
    if (push)
        odc_bus_try_send (push, &env);
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
