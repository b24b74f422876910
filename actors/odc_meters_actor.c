/*  odc_meters_actor: see odc_meters_actor.h. */
#include "odc_meters_actor.h"

#include <inttypes.h>
#include <string.h>

#include "odc_bus.h"
#include "odc_devlist.h"
#include "odc_log.h"
#include "odc_meters.h"
#include "odc_supervisor.h"

typedef struct {
    odc_meter_rules_t *rules;
    zsock_t *pull, *push, *supplies;
    uint64_t readings, meters, counts_lost;
} s_self_t;

/*  The page count of a rolled-up reading: its canonical total, else the
    largest marker life count. */
static void
s_page_count (s_self_t *self, const Odc__MeterReading *m)
{
    uint64_t total = 0;
    bool have = false;
    for (size_t i = 0; i < m->n_canonical && !have; i++)
        if (!strcmp (m->canonical[i]->name, "total")) {
            total = m->canonical[i]->value;
            have = true;
        }
    for (size_t i = 0; i < m->n_counters && !have; i++) /* have: stays false */
        if ((!strcmp (m->counters[i]->name, "total") ||
             !strncmp (m->counters[i]->name, "marker.", 7)) &&
            m->counters[i]->value > total)
            total = m->counters[i]->value;
    if (!m->header || !m->header->device_id[0])
        return;
    Odc__PageCount pc = ODC__PAGE_COUNT__INIT;
    pc.device_id = m->header->device_id;
    pc.at_ms = m->header->collector_ms;
    pc.total = total;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.source = "meters";
    odc_bus_set_body (&env, ODC__ENVELOPE__BODY_PAGE_COUNT, &pc.base);
    char key[ODC_DEVICE_ID_MAX + 16];
    snprintf (key, sizeof key, "%s/pages", pc.device_id);
    if (odc_bus_try_send_keyed (self->supplies, key, &env) != 0 && !self->counts_lost++)
        odc_warn (pc.device_id, "meters: the supplies actor did not take a page count (its "
                                "queue full): a supply point without it");
}

static void
s_take (void *arg)
{
    s_self_t *self = arg;
    zmq_msg_t key, frame;
    if (odc_bus_recv_keyed (self->pull, &key, &frame) != 0)
        goto done;
    Odc__Envelope *env = odc__envelope__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    if (!env || env->body_case != ODC__ENVELOPE__BODY_METERS || !self->rules) {
        /*  No rules (logged at the start): the reading as it came. */
        if (env)
            odc__envelope__free_unpacked (env, NULL);
        odc_bus_forward_keyed (self->push, &key, &frame);
        goto done;
    }
    self->meters += odc_meters_rollup (self->rules, env->meters);
    self->readings++;
    if (self->supplies)
        s_page_count (self, env->meters);
    char k[512];
    snprintf (k, sizeof k, "%.*s", (int)zmq_msg_size (&key), (const char *)zmq_msg_data (&key));
    odc_bus_send_keyed (self->push, k, env);
    odc__envelope__free_unpacked (env, NULL);
done:
    zmq_msg_close (&key);
    zmq_msg_close (&frame);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_meters_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    char *error = NULL;
    self->rules = a->rules_path ? odc_meter_rules_load (a->rules_path, &error) : NULL;
    if (self->rules)
        odc_info (NULL, "meters: %zu roll-up rules from %s", odc_meter_rules_count (self->rules),
                  a->rules_path);
    else
        odc_error (NULL, "meters: %s: readings go on without canonical meters",
                   error ? error : "no rules file");
    free (error);
    self->pull = odc_bus_pull_bind (ODC_EP_METERS, 0);
    self->push = odc_bus_push_connect (ODC_EP_ACCEPTED, 0);
    if (a->supplies)
        self->supplies = odc_bus_push_connect (ODC_EP_SUPPLIES, 0);
    *ok = self->pull && self->push && (!a->supplies || self->supplies);
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    odc_meter_rules_destroy (&self->rules);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->push);
    zsock_destroy (&self->supplies);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_actor_serve (actor, self->pull, s_take, NULL, self);
    odc_info (NULL, "meters: %" PRIu64 " readings rolled up into %" PRIu64 " canonical meters",
              self->readings, self->meters);
}

static const odc_actor_class_t s_class = {"meters", s_self_new, s_self_destroy, NULL, s_run};

void
odc_meters_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
