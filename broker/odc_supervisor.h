/*  odc_supervisor: starts the actors in dependency order, stops them in
    reverse, turns signals into actions.

    Usage:
        odc_supervisor_block_signals ();     // first thing in main, before any thread
        odc_supervisor_t *sup = odc_supervisor_new ();
        odc_supervisor_add (sup, &(odc_actor_spec_t) {"validator", odc_validator_actor, cfg, {NULL}});
        odc_supervisor_add (sup, &(odc_actor_spec_t) {"alert", odc_alert_actor, cfg, {"validator"}});
        if (odc_supervisor_start (sup) == 0)
            odc_supervisor_run (sup, reload_fn, arg);    // until SIGINT / SIGTERM
        odc_supervisor_destroy (&sup);                   // stops in reverse order

    The actor protocol (CZMQ zactor, "a thread plus a pipe"): the actor sets
    itself up, then calls odc_actor_ready (pipe, ok). On the pipe it then
    receives "$TERM" (exit at once) and "CONFIG" with a pointer to the new,
    immutable configuration; odc_actor_pipe handles both. */
#ifndef ODC_SUPERVISOR_H
#define ODC_SUPERVISOR_H

#include <czmq.h>
#include <stdbool.h>

#define ODC_ACTOR_MAX_DEPS 8

typedef struct {
    const char *name;
    zactor_fn *fn;
    void *args;
    /*  Names of the actors that must be running before this one (the ones
        whose sockets it connects to), NULL-terminated. */
    const char *deps[ODC_ACTOR_MAX_DEPS];
} odc_actor_spec_t;

typedef struct _odc_supervisor_t odc_supervisor_t;

/*  Called on SIGHUP in the supervisor's thread. It loads the configuration
    again; on success it returns the new one (the supervisor hands it to every
    actor, then calls the function again with the old one to free it: see
    odc_supervisor_run), on failure NULL (the running configuration stays). */
typedef void *(odc_reload_fn)(void *current, void *arg);
typedef void (odc_release_fn) (void *config, void *arg);

/*  Block SIGINT, SIGTERM and SIGHUP in the calling thread; threads created
    after inherit the mask, so only odc_supervisor_run receives them. Also
    stops CZMQ from installing its own handler. */
void odc_supervisor_block_signals (void);

odc_supervisor_t *odc_supervisor_new (void);
void odc_supervisor_destroy (odc_supervisor_t **self_p);

/*  Register an actor. The spec is copied; strings must outlive the
    supervisor. -1 when the name is taken. */
int odc_supervisor_add (odc_supervisor_t *self, const odc_actor_spec_t *spec);

/*  Start every actor, dependencies first. -1 (with the actors already
    started stopped again) when a dependency is unknown, there is a cycle, or
    an actor reports that its set-up failed. */
int odc_supervisor_start (odc_supervisor_t *self);

/*  Stop the running actors, last started first. Safe to call twice. */
void odc_supervisor_stop (odc_supervisor_t *self);

/*  Hand a new configuration to every running actor ("CONFIG" + pointer)
    and wait for each to acknowledge. */
void odc_supervisor_configure (odc_supervisor_t *self, void *config);

/*  Wait for signals until SIGINT or SIGTERM. On SIGHUP: reload, configure
    the actors with the new configuration, release the old one (SIGHUP
    means only that: a changed device set travels on the bus,
    odc_bus_device_set_*). current is the running configuration; returns
    the one running at the end. */
void *odc_supervisor_run (odc_supervisor_t *self, void *current, odc_reload_fn *reload,
                          odc_release_fn *release, void *arg);

/*  Names of the actors in the order they were started (for tests and
    status); NULL past the end. */
const char *odc_supervisor_started (odc_supervisor_t *self, size_t index);

/*  For actors: report set-up done (ok) or failed. */
void odc_actor_ready (zsock_t *pipe, bool ok);

/*  For actors: take a new configuration. Called before the supervisor is
    told the actor has it, so once odc_supervisor_configure returns, every
    actor runs with the new one. */
typedef void (odc_actor_config_fn) (void *config, void *arg);

/*  For actors: handle one command from the pipe. Returns 1 on "$TERM" (the
    actor must return), 0 otherwise. On "CONFIG" calls on_config (when not
    NULL) with the new configuration and arg, then acknowledges. */
int odc_actor_pipe (zsock_t *pipe, odc_actor_config_fn *on_config, void *arg);

/*  For actors whose set-up failed (after odc_actor_ready (pipe, false)):
    wait for "$TERM", acknowledging configurations meanwhile, so the
    supervisor's stop never hangs on them. */
void odc_actor_wait_term (zsock_t *pipe);

/*  The actor skeleton. Every actor is a class run by odc_actor_main from
    its zactor function:

        static const odc_actor_class_t s_class = {
            "registry", s_self_new, s_self_destroy, s_take_config, s_run};
        void odc_registry_actor (zsock_t *pipe, void *args)
        {
            odc_actor_main (pipe, &s_class, args);
        }

    create: the actor's state from its args, allocated with malloc or
        calloc; *ok false when set-up failed (logged). The state is
        destroyed either way.
    destroy: frees whatever create put in the state (parts of it NULL
        after a failed set-up); the skeleton frees the state itself.
    configure: takes a new configuration (a reference of its own:
        odc_config_replace); NULL when the actor keeps its first.
    run: the actor's work, called after a good set-up, until
        odc_actor_heard says stop.
    odc_actor_main: create, report ready or failed, run (after a failed
    set-up: wait for "$TERM", acknowledging configurations meanwhile, so the
    supervisor's stop never hangs), destroy. */
typedef struct _odc_actor_t odc_actor_t;
typedef struct {
    const char *name;
    void *(*create) (void *args, bool *ok);
    void (*destroy) (void *self);
    odc_actor_config_fn *configure; /* (config, self) */
    void (*run) (void *self, odc_actor_t *actor);
} odc_actor_class_t;

void odc_actor_main (zsock_t *pipe, const odc_actor_class_t *cls, void *args);

/*  For run: the pipe (to poll it), and one command from it when it is
    readable: 1 on "$TERM" (run must return), 0 otherwise (a
    configuration, handed to configure). */
zsock_t *odc_actor_pipe_of (odc_actor_t *actor);
int odc_actor_heard (odc_actor_t *actor);
/*  The run of an actor that takes one socket's messages one at a time:
    take (self) for each message waiting on pull (at most
    ODC_ACTOR_DRAIN_MAX), then idle (self) (NULL:
    none; where what the messages staged is written, once for them all),
    then ODC_ACTOR_GATHER_MS hearing only the pipe while more gather (a
    message waits that long at most), until the pipe says stop. */
#define ODC_ACTOR_GATHER_MS 100
#define ODC_ACTOR_DRAIN_MAX 512 /* messages between two idle calls */
void odc_actor_serve (odc_actor_t *actor, zsock_t *pull, void (*take) (void *self),
                      void (*idle) (void *self), void *self);
/*  The same, and tick (self) every tick_ms, messages or not (timers). */
void odc_actor_serve_ticking (odc_actor_t *actor, zsock_t *pull, void (*take) (void *self),
                              void (*idle) (void *self), void (*tick) (void *self), int tick_ms,
                              void *self);

#endif
