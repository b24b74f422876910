/*  odc_latest_actor: see odc_latest_actor.h. */
#include "odc_latest_actor.h"

#include "odc_bus.h"
#include "odc_log.h"
#include "odc_supervisor.h"

void
odc_latest_key (char *out, size_t size, const char *device_id, int loop)
{
    snprintf (out, size, "%s/%d", device_id, loop);
}

#define S_FLUSH_MS  50
#define S_BATCH_MAX 2048

typedef struct {
    odc_store_t *store;
    odc_batch_t *batch;
    uint64_t stored;
    zsock_t *upload;   /* NULL: no portal */
    zsock_t *registry; /* identity readings go there too */
} s_self_t;

/*  What is waiting, in one batch, not synced: a latest reading lost in a
    crash of the machine is read again on the next pass. (Through the
    write-ahead log all the same: "opendca latest", beside the collector,
    reads the store from the log.) */
static void
s_write (s_self_t *self)
{
    size_t count = odc_batch_count (self->batch);
    if (!count)
        return;
    if (odc_store_write_lazy (self->store, self->batch) == 0)
        self->stored += count;
    odc_batch_clear (self->batch);
}

static void s_on_reading (const Odc__Envelope *env, void *arg);

/*  Take every reading waiting, writing a batch whenever it is full. */
static void
s_drain (zsock_t *pull, odc_bus_handlers_t *handlers, s_self_t *self)
{
    while (zsock_events (pull) & ZMQ_POLLIN) {
        odc_bus_recv (pull, handlers, self);
        if (odc_batch_count (self->batch) >= S_BATCH_MAX)
            s_write (self);
    }
}

static void
s_on_reading (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    const Odc__ReadingHeader *h = odc_bus_reading_header (env);
    assert (h);
    char key[128];
    odc_latest_key (key, sizeof key, h->device_id && *h->device_id ? h->device_id : h->address,
                    h->loop);
    /*  Stored as it came: no packing again. */
    size_t size = 0;
    const void *frame = odc_bus_frame (&size);
    odc_batch_put (self->batch, self->store, ODC_CF_LATEST, key, strlen (key), frame, size);
    /*  The uploader gets it as it came too (blocking when it is behind:
        back-pressure, never a drop). */
    if (self->upload)
        zmq_send (zsock_resolve (self->upload), frame, size, 0);
    if (self->registry && h->loop == ODC__LOOP__LOOP_IDENTITY)
        zmq_send (zsock_resolve (self->registry), frame, size, 0);
}

void
odc_latest_actor (zsock_t *pipe, void *args)
{
    odc_latest_args_t *a = args;
    s_self_t self = {a->store, odc_batch_new (), 0, NULL, NULL};
    zsock_t *pull = odc_bus_pull_bind (ODC_EP_READINGS, 0);
    if (a->upload)
        self.upload = odc_bus_push_connect (ODC_EP_UPLOAD, 0);
    if (a->registry)
        self.registry = odc_bus_push_connect (ODC_EP_REGISTRY, 0);
    bool ok = pull && (!a->upload || self.upload) && (!a->registry || self.registry);
    odc_actor_ready (pipe, ok);
    if (!ok) {
        zsock_destroy (&pull);
        zsock_destroy (&self.upload);
        zsock_destroy (&self.registry);
        while (!odc_actor_pipe (pipe, NULL, NULL))
            ;
        return;
    }
    odc_bus_handlers_t handlers = {0};
    odc_bus_on_readings (&handlers, s_on_reading);
    /*  Wait for readings; take all that are waiting; then hear only the
        pipe for S_FLUSH_MS while more gather (no wake-up per reading), take
        those and write them all in one batch. */
    zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (pull), 0, ZMQ_POLLIN, 0}};
    bool stop = false;
    while (!stop) {
        if (zmq_poll (items, 2, -1) < 0 && zmq_errno () != EINTR)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && odc_actor_pipe (pipe, NULL, NULL))
            stop = true;
        if (!stop && (items[1].revents & ZMQ_POLLIN)) {
            s_drain (pull, &handlers, &self);
            if (zmq_poll (items, 1, S_FLUSH_MS) > 0 && odc_actor_pipe (pipe, NULL, NULL))
                stop = true;
        }
        s_drain (pull, &handlers, &self);
        s_write (&self);
    }
    odc_batch_destroy (&self.batch);
    odc_info (NULL, "%llu readings stored", (unsigned long long)self.stored);
    zsock_destroy (&pull);
    zsock_destroy (&self.upload);
    zsock_destroy (&self.registry);
}
