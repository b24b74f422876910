/*  odc_discovery_actor: see odc_discovery_actor.h. */
#include "odc_discovery_actor.h"

#include "odc_bus.h"
#include "odc_discover.h"
#include "odc_log.h"
#include "odc_supervisor.h"

typedef struct {
    const odc_config_t *config, *pending;
    zsock_t *registry;
    zsock_t *pull; /* commands: sweep now */
    odc_discover_t *sweep;
    const odc_credential_t **creds; /* every range's list, one block */
    odc_discover_target_t *targets;
    odc_clock_t clock;
    double next_sweep, last_progress;
    unsigned sweeps;
} s_self_t;

static double
s_clock (const s_self_t *self)
{
    return odc_collector_s (&self->clock);
}

void
odc_discovery_report (zsock_t *push, const odc_discover_found_t *found)
{
    if (!found->printer || !push)
        return;
    Odc__Discovered d = ODC__DISCOVERED__INIT;
    d.identity = (Odc__IdentityReading *)found->identity;
    d.credential = (char *)found->credential->name;
    d.port = (uint32_t)found->port;
    d.printer = found->printer;
    d.target = (char *)found->target;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.body_case = ODC__ENVELOPE__BODY_DISCOVERED;
    env.discovered = &d;
    env.source = "discovery";
    odc_bus_send (push, &env);
}

int
odc_discovery_request (zsock_t *push)
{
    Odc__Discover configured = ODC__DISCOVER__INIT; /* no ranges: the configured ones */
    Odc__Command command = ODC__COMMAND__INIT;
    command.text = "discover";
    command.what_case = ODC__COMMAND__WHAT_DISCOVER;
    command.discover = &configured;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.body_case = ODC__ENVELOPE__BODY_COMMAND;
    env.command = &command;
    return odc_bus_send (push, &env);
}

static void
s_found (const odc_discover_found_t *found, void *arg)
{
    s_self_t *self = arg;
    odc_discovery_report (self->registry, found);
}

static void
s_note (const char *text, void *arg)
{
    (void)arg;
    odc_warn (NULL, "discovery: %s", text);
}

static void
s_sweep_begin (s_self_t *self)
{
    const odc_config_t *c = self->config;
    if (!c->range_count) {
        odc_info (NULL, "discovery: no ranges configured: nothing to sweep");
        return;
    }
    size_t n_creds = 0;
    for (size_t i = 0; i < c->range_count; i++)
        n_creds +=
            c->ranges[i].credential_count ? c->ranges[i].credential_count : c->credential_count;
    self->creds = calloc (n_creds ? n_creds : 1, sizeof *self->creds);
    self->targets = calloc (c->range_count, sizeof *self->targets);
    size_t k = 0;
    for (size_t i = 0; i < c->range_count; i++) {
        const odc_range_config_t *r = &c->ranges[i];
        odc_discover_target_t *t = &self->targets[i];
        t->text = r->range;
        t->credentials = &self->creds[k];
        if (r->credential_count)
            for (size_t j = 0; j < r->credential_count; j++)
                self->creds[k++] = odc_config_credential (c, r->credentials[j]);
        else
            for (size_t j = 0; j < c->credential_count; j++)
                self->creds[k++] = &c->credentials[j];
        t->credential_count = (size_t)(&self->creds[k] - t->credentials);
    }
    odc_discover_options_t o = {.credentials = self->creds,
                                .credential_count = 0,
                                .port = c->discovery_port,
                                .timeout_ms = c->discovery_timeout_ms,
                                .retries = c->discovery_retries,
                                .concurrency = c->discovery_concurrency,
                                .rate = c->discovery_rate,
                                .found = s_found,
                                .arg = self};
    char *error = NULL;
    self->sweep = odc_discover_new (&o, self->targets, c->range_count, s_note, NULL, &error);
    if (!self->sweep) {
        odc_warn (NULL, "discovery: %s", error ? error : "no sweep");
        free (error);
        free (self->creds);
        free (self->targets);
        self->creds = NULL;
        self->targets = NULL;
        return;
    }
    self->sweeps++;
    self->last_progress = odc_wall_s ();
    odc_info (NULL, "discovery: sweep %u of %zu ranges, %llu addresses, at %d a second",
              self->sweeps, c->range_count,
              (unsigned long long)odc_discover_stats (self->sweep)->addresses, c->discovery_rate);
}

static void
s_sweep_end (s_self_t *self)
{
    const odc_discover_stats_t *s = odc_discover_stats (self->sweep);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    odc_discover_summary (out, s);
    fclose (out);
    text[strcspn (text, "\n")] = 0;
    odc_info (NULL, "discovery: sweep %u done: %s", self->sweeps, text);
    free (text);
    odc_discover_destroy (&self->sweep);
    free (self->creds);
    free (self->targets);
    self->creds = NULL;
    self->targets = NULL;
}

static void
s_apply_config (s_self_t *self)
{
    if (!self->pending || self->sweep)
        return;
    odc_config_t *old = (odc_config_t *)self->config;
    self->config = self->pending;
    self->pending = NULL;
    odc_config_destroy (&old);
}

static void
s_take_config (void *config, void *arg)
{
    odc_config_replace (&((s_self_t *)arg)->pending, config);
}

static void
s_on_command (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    if (env->command->what_case == ODC__COMMAND__WHAT_DISCOVER &&
        !env->command->discover->n_ranges) {
        if (self->sweep)
            odc_info (NULL, "discovery: a sweep is running already");
        else
            self->next_sweep = 0;
    }
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_discovery_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    self->clock = odc_config_clock (self->config);
    self->registry = odc_bus_push_connect (ODC_EP_REGISTRY, 0);
    self->pull = odc_bus_pull_bind (ODC_EP_DISCOVERY, 0);
    *ok = self->registry && self->pull;
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    if (self->sweep)
        odc_info (NULL, "discovery: sweep %u stopped unfinished", self->sweeps);
    odc_discover_destroy (&self->sweep);
    free (self->creds);
    free (self->targets);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->registry);
    odc_config_replace (&self->config, NULL);
    odc_config_replace (&self->pending, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    self->next_sweep = self->config->discovery_every_hours ? s_clock (self) : -1;
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_COMMAND] = s_on_command;
    for (;;) {
        double now = s_clock (self);
        if (!self->sweep && self->next_sweep >= 0 && now >= self->next_sweep) {
            s_sweep_begin (self);
            int every = self->config->discovery_every_hours;
            self->next_sweep = every ? now + every * 3600.0 : -1;
        }
        long wait = 1000;
        if (self->sweep) {
            int next = odc_discover_next_ms (self->sweep);
            wait = next < 0 || next > 200 ? 200 : next;
        }
        else if (self->next_sweep >= 0) {
            double s = (self->next_sweep - now) / self->config->clock_speed;
            wait = s < 0 ? 0 : s > 1 ? 1000 : (long)(s * 1000);
        }
        zmq_pollitem_t items[3] = {
            {zsock_resolve (odc_actor_pipe_of (actor)), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->pull), 0, ZMQ_POLLIN, 0},
            {NULL, self->sweep ? odc_discover_fd (self->sweep) : -1, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, self->sweep ? 3 : 2, wait) < 0 && zmq_errno () != EINTR)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && odc_actor_heard (actor))
            break;
        while (zsock_events (self->pull) & ZMQ_POLLIN)
            odc_bus_recv (self->pull, &handlers, self);
        if (self->sweep) {
            odc_discover_run (self->sweep, 0);
            const odc_discover_stats_t *s = odc_discover_stats (self->sweep);
            if (odc_discover_done (self->sweep))
                s_sweep_end (self);
            else if (odc_wall_s () - self->last_progress >= 10) {
                self->last_progress = odc_wall_s ();
                odc_info (NULL,
                          "discovery: swept %llu of %llu addresses: %llu printers, %llu other",
                          (unsigned long long)s->swept, (unsigned long long)s->addresses,
                          (unsigned long long)s->printers, (unsigned long long)s->others);
            }
        }
        s_apply_config (self);
    }
}

static const odc_actor_class_t s_class = {"discovery", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_discovery_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
