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

int
odc_latest_key_loop (const void *key, size_t klen, size_t *id_len)
{
    const char *k = key;
    if (klen < 3 || k[klen - 2] != '/' || k[klen - 1] < '1' || k[klen - 1] > '5')
        return -1;
    if (id_len)
        *id_len = klen - 2;
    return k[klen - 1] - '0';
}

#define S_FLUSH_MS  50
#define S_BATCH_MAX 2048

typedef struct {
    odc_store_t *store;
    odc_batch_t *batch;
    uint64_t stored;
    zsock_t *pull;     /* the readings */
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

/*  One reading: its key (in front, from the loop) and its packed envelope,
    stored as they came, handed on as they came: never unpacked here. */
static void
s_take (s_self_t *self, zsock_t *pull)
{
    zmq_msg_t key, frame;
    if (odc_bus_recv_keyed (pull, &key, &frame) == 0) {
        const void *data = zmq_msg_data (&frame);
        size_t size = zmq_msg_size (&frame), klen = zmq_msg_size (&key);
        const char *k = zmq_msg_data (&key);
        odc_batch_put (self->batch, self->store, ODC_CF_LATEST, k, klen, data, size);
        /*  The uploader gets it as it came too (blocking when it is
            behind: back-pressure, never a drop), and the registry the
            identity readings ("ID/2"). */
        if (self->upload)
            zmq_send (zsock_resolve (self->upload), data, size, 0);
        if (self->registry && klen >= 2 && k[klen - 2] == '/' && k[klen - 1] == '0' + 2)
            zmq_send (zsock_resolve (self->registry), data, size, 0);
    }
    zmq_msg_close (&key);
    zmq_msg_close (&frame);
}

/*  Take every reading waiting, writing a batch whenever it is full. */
static void
s_drain (zsock_t *pull, s_self_t *self)
{
    while (zsock_events (pull) & ZMQ_POLLIN) {
        s_take (self, pull);
        if (odc_batch_count (self->batch) >= S_BATCH_MAX)
            s_write (self);
    }
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_latest_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->store = a->store;
    self->batch = odc_batch_new ();
    self->pull = odc_bus_pull_bind (ODC_EP_ACCEPTED, 0);
    if (a->upload)
        self->upload = odc_bus_push_connect (ODC_EP_UPLOAD, 0);
    if (a->registry)
        self->registry = odc_bus_push_connect (ODC_EP_REGISTRY, 0);
    *ok = self->pull && (!a->upload || self->upload) && (!a->registry || self->registry);
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    odc_batch_destroy (&self->batch);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->upload);
    zsock_destroy (&self->registry);
}

/*  Wait for readings; take all that are waiting; then hear only the pipe
    for S_FLUSH_MS while more gather (no wake-up per reading), take those
    and write them all in one batch. */
static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    zmq_pollitem_t items[2] = {{zsock_resolve (odc_actor_pipe_of (actor)), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (self->pull), 0, ZMQ_POLLIN, 0}};
    bool stop = false;
    while (!stop) {
        if (zmq_poll (items, 2, -1) < 0 && zmq_errno () != EINTR)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && odc_actor_heard (actor))
            stop = true;
        if (!stop && (items[1].revents & ZMQ_POLLIN)) {
            s_drain (self->pull, self);
            if (zmq_poll (items, 1, S_FLUSH_MS) > 0 && odc_actor_heard (actor))
                stop = true;
        }
        s_drain (self->pull, self);
        s_write (self);
    }
    odc_info (NULL, "%llu readings stored", (unsigned long long)self->stored);
}

static const odc_actor_class_t s_class = {"latest", s_self_new, s_self_destroy, NULL, s_run};

void
odc_latest_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
