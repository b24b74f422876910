/*  odc_status: what "status" tells travels as messages. Each loop sends
    its LoopStatus and the bridge its PortalStatus (proto/opendca.proto) to
    ODC_EP_STATUS, where the commands actor keeps the newest of each
    (actors/odc_imil.h): nothing is shared between threads. Sends never
    block: a status lost to a full queue is replaced by the next. */
#ifndef ODC_STATUS_H
#define ODC_STATUS_H

#include <czmq.h>
#include <stdint.h>

#include "opendca.pb-c.h"

/*  A PUSH socket to ODC_EP_STATUS, NULL on failure. */
zsock_t *odc_status_push (void);
/*  Send a LoopStatus or a PortalStatus. */
void odc_status_send (zsock_t *push, const ProtobufCMessage *status);

/*  Bytes the allocator has handed out and not had back (jemalloc's
    stats.allocated when the program is linked with it, glibc's mallinfo2
    otherwise). */
uint64_t odc_status_heap_bytes (void);

#endif
