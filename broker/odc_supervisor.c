/*  odc_supervisor: see odc_supervisor.h.

    The supervisor lives in the main thread. It starts actors with zactor_new,
    which returns once the actor signalled its pipe; the actor then says
    "READY" or "FAILED". Stopping is zactor_destroy, which sends "$TERM" and
    waits for the thread; actors are stopped in the reverse of their start
    order, so producers stop before the consumers they push to, and no send
    blocks on a consumer that is already gone. */
#include "odc_supervisor.h"

#include <pthread.h>

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "odc_log.h"
#include "odc_tsan.h"

#define S_MAX_ACTORS 64

typedef struct {
    odc_actor_spec_t spec;
    zactor_t *actor;
} s_entry_t;

struct _odc_supervisor_t {
    s_entry_t entries[S_MAX_ACTORS];
    size_t count;
    size_t order[S_MAX_ACTORS]; /* indexes, in start order */
    size_t started;
};

void
odc_supervisor_block_signals (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    zsys_handler_set (NULL);
}

odc_supervisor_t *
odc_supervisor_new (void)
{
    return (odc_supervisor_t *)zmalloc (sizeof (odc_supervisor_t));
}

void
odc_supervisor_destroy (odc_supervisor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_supervisor_stop (*self_p);
    free (*self_p);
    *self_p = NULL;
}

static int
s_find (odc_supervisor_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->entries[i].spec.name, name) == 0)
            return (int)i;
    return -1;
}

int
odc_supervisor_add (odc_supervisor_t *self, const odc_actor_spec_t *spec)
{
    assert (spec && spec->name && spec->fn);
    if (self->count == S_MAX_ACTORS || s_find (self, spec->name) >= 0) {
        odc_error (NULL, "cannot add actor %s: duplicate name or too many actors", spec->name);
        return -1;
    }
    self->entries[self->count++].spec = *spec;
    return 0;
}

/*  Depth-first topological order. state: 0 new, 1 visiting, 2 placed. */
static int
s_visit (odc_supervisor_t *self, size_t i, int *state, size_t *order, size_t *placed)
{
    if (state[i] == 2)
        return 0;
    if (state[i] == 1) {
        odc_error (NULL, "actor %s is part of a dependency cycle", self->entries[i].spec.name);
        return -1;
    }
    state[i] = 1;
    for (size_t d = 0; d < ODC_ACTOR_MAX_DEPS && self->entries[i].spec.deps[d]; d++) {
        int j = s_find (self, self->entries[i].spec.deps[d]);
        if (j < 0) {
            odc_error (NULL, "actor %s depends on unknown actor %s", self->entries[i].spec.name,
                       self->entries[i].spec.deps[d]);
            return -1;
        }
        if (s_visit (self, (size_t)j, state, order, placed) == -1)
            return -1;
    }
    state[i] = 2;
    order[(*placed)++] = i;
    return 0;
}

/*  Runs in the actor's thread: names the thread for the log (and for top
    -H, ps -L and perf: "odc-NAME", cut to the kernel's 15 characters),
    then runs the actor itself. */
static int s_ended; /* ThreadSanitizer's mark of an actor thread's end */

static void
s_trampoline (zsock_t *pipe, void *args)
{
    s_entry_t *entry = (s_entry_t *)args;
    odc_log_set_actor (entry->spec.name);
    char thread[16];
    snprintf (thread, sizeof thread, "odc-%s", entry->spec.name);
    pthread_setname_np (pthread_self (), thread);
    entry->spec.fn (pipe, entry->spec.args);
    /*  All it did is before its end, which reaches odc_supervisor_stop
        through libzmq (zactor's signal), unseen by ThreadSanitizer. */
    ODC_TSAN_RELEASE (&s_ended);
}

int
odc_supervisor_start (odc_supervisor_t *self)
{
    int state[S_MAX_ACTORS] = {0};
    size_t placed = 0;
    for (size_t i = 0; i < self->count; i++)
        if (s_visit (self, i, state, self->order, &placed) == -1)
            return -1;
    assert (placed == self->count);

    for (size_t k = 0; k < self->count; k++) {
        s_entry_t *entry = &self->entries[self->order[k]];
        entry->actor = zactor_new (s_trampoline, entry);
        char *status = entry->actor ? zstr_recv (entry->actor) : NULL;
        bool ok = status && streq (status, "READY");
        zstr_free (&status);
        if (entry->actor)
            self->started = k + 1; /* stop it too, even when it failed */
        if (!ok) {
            odc_error (NULL, "actor %s failed to start", entry->spec.name);
            odc_supervisor_stop (self);
            return -1;
        }
        odc_debug (NULL, "actor %s started", entry->spec.name);
    }
    return 0;
}

void
odc_supervisor_stop (odc_supervisor_t *self)
{
    while (self->started > 0) {
        s_entry_t *entry = &self->entries[self->order[--self->started]];
        zactor_destroy (&entry->actor);
        ODC_TSAN_ACQUIRE (&s_ended);
        odc_debug (NULL, "actor %s stopped", entry->spec.name);
    }
}

void
odc_supervisor_configure (odc_supervisor_t *self, void *config)
{
    for (size_t k = 0; k < self->started; k++) {
        s_entry_t *entry = &self->entries[self->order[k]];
        ODC_TSAN_RELEASE (config);
        zsock_send (entry->actor, "sp", "CONFIG", config);
        zsock_wait (entry->actor);
    }
}

void *
odc_supervisor_run (odc_supervisor_t *self, void *current, odc_reload_fn *reload,
                    odc_release_fn *release, void *arg)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGHUP);
    while (true) {
        int sig = sigwaitinfo (&set, NULL);
        if (sig == -1) {
            if (errno == EINTR)
                continue;
            odc_error (NULL, "sigwaitinfo: %s", strerror (errno));
            break;
        }
        if (sig == SIGHUP) {
            odc_info (NULL, "SIGHUP: reloading the configuration");
            void *fresh = reload ? reload (current, arg) : NULL;
            if (!fresh) {
                odc_warn (NULL, "reload failed; the running configuration stays");
                continue;
            }
            odc_supervisor_configure (self, fresh);
            if (release)
                release (current, arg);
            current = fresh;
            odc_info (NULL, "configuration reloaded");
            continue;
        }
        odc_info (NULL, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    return current;
}

const char *
odc_supervisor_started (odc_supervisor_t *self, size_t index)
{
    return index < self->started ? self->entries[self->order[index]].spec.name : NULL;
}

void
odc_actor_ready (zsock_t *pipe, bool ok)
{
    zsock_signal (pipe, 0);
    zstr_send (pipe, ok ? "READY" : "FAILED");
}

int
odc_actor_pipe (zsock_t *pipe, odc_actor_config_fn *on_config, void *arg)
{
    char *command = NULL;
    void *ptr = NULL;
    if (zsock_recv (pipe, "sp", &command, &ptr) == -1)
        return 1; /* interrupted: the context is going away */
    int rc = 0;
    if (streq (command, "$TERM"))
        rc = 1;
    else if (streq (command, "CONFIG")) {
        ODC_TSAN_ACQUIRE (ptr);
        if (on_config)
            on_config (ptr, arg);
        zsock_signal (pipe, 0);
    }
    else {
        odc_fatal (NULL, "unknown pipe command %s", command);
        assert (!"unknown pipe command");
    }
    zstr_free (&command);
    return rc;
}

void
odc_actor_wait_term (zsock_t *pipe)
{
    while (!odc_actor_pipe (pipe, NULL, NULL))
        ;
}

struct _odc_actor_t {
    zsock_t *pipe;
    const odc_actor_class_t *cls;
    void *self;
};

void
odc_actor_main (zsock_t *pipe, const odc_actor_class_t *cls, void *args)
{
    bool ok = true;
    odc_actor_t actor = {pipe, cls, cls->create (args, &ok)};
    ok = ok && actor.self;
    odc_actor_ready (pipe, ok);
    if (ok)
        cls->run (actor.self, &actor);
    else
        odc_actor_wait_term (pipe);
    if (actor.self)
        cls->destroy (actor.self);
    free (actor.self);
}

zsock_t *
odc_actor_pipe_of (odc_actor_t *actor)
{
    return actor->pipe;
}

int
odc_actor_heard (odc_actor_t *actor)
{
    return odc_actor_pipe (actor->pipe, actor->cls->configure, actor->self);
}

void
odc_actor_serve (odc_actor_t *actor, zsock_t *pull, void (*take) (void *self),
                 void (*idle) (void *self), void *self)
{
    odc_actor_serve_ticking (actor, pull, take, idle, NULL, 0, self);
}

void
odc_actor_serve_ticking (odc_actor_t *actor, zsock_t *pull, void (*take) (void *self),
                         void (*idle) (void *self), void (*tick) (void *self), int tick_ms,
                         void *self)
{
    zmq_pollitem_t items[2] = {{zsock_resolve (actor->pipe), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (pull), 0, ZMQ_POLLIN, 0}};
    bool stop = false;
    double next_tick = tick ? odc_clock_s () + tick_ms / 1000.0 : 0;
    while (!stop) {
        int wait = -1;
        if (tick) {
            double left = next_tick - odc_clock_s ();
            wait = left > 0 ? (int)(left * 1000.0) + 1 : 0;
        }
        if (zmq_poll (items, 2, wait) < 0 && zmq_errno () != EINTR)
            break;
        if (tick && odc_clock_s () >= next_tick) {
            tick (self);
            next_tick = odc_clock_s () + tick_ms / 1000.0;
        }
        if ((items[0].revents & ZMQ_POLLIN) && odc_actor_heard (actor))
            stop = true;
        int took = 0;
        while (!stop && took < ODC_ACTOR_DRAIN_MAX && (zsock_events (pull) & ZMQ_POLLIN)) {
            take (self);
            took++;
        }
        if (took && idle)
            idle (self);
        /*  Then hear only the pipe while more gather: one wake-up takes
            many messages, not one each (a wake-up costs more than judging
            a reading). Not when the drain stopped at its bound: more wait. */
        if (!stop && took < ODC_ACTOR_DRAIN_MAX && zmq_poll (items, 1, ODC_ACTOR_GATHER_MS) > 0 &&
            odc_actor_heard (actor))
            stop = true;
    }
}
