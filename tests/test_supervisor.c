/*  test_supervisor: actors start in dependency order and stop in reverse,
    a failed set-up or a bad dependency stops what was started, a new
    configuration reaches every actor, signals drive the run loop, and a
    producer and a consumer actor moving data stop cleanly. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_supervisor.h"
#include "odc_test.h"

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_events[1024];

/*  Under the lock: the actors write while the test reads (libzmq, which
    carries the "$TERM" between them, is invisible to ThreadSanitizer). */
static void
s_events_clear (void)
{
    pthread_mutex_lock (&s_lock);
    s_events[0] = 0;
    pthread_mutex_unlock (&s_lock);
}

static bool
s_events_are (const char *expected)
{
    pthread_mutex_lock (&s_lock);
    bool same = strcmp (s_events, expected) == 0;
    pthread_mutex_unlock (&s_lock);
    return same;
}

static void
s_event (const char *what, const char *name)
{
    pthread_mutex_lock (&s_lock);
    strcat (s_events, what);
    strcat (s_events, name);
    strcat (s_events, " ");
    pthread_mutex_unlock (&s_lock);
}

typedef struct {
    const char *name;
    bool fail;
    void *config; /* last configuration received */
} s_args_t;

static void
s_take_config (void *config, void *arg)
{
    s_args_t *self = arg;
    pthread_mutex_lock (&s_lock);
    self->config = config;
    pthread_mutex_unlock (&s_lock);
}

static void
s_actor (zsock_t *pipe, void *args)
{
    s_args_t *self = args;
    if (self->fail) {
        odc_actor_ready (pipe, false);
        while (!odc_actor_pipe (pipe, NULL, NULL))
            ;
        return;
    }
    s_event ("+", self->name);
    odc_actor_ready (pipe, true);
    while (!odc_actor_pipe (pipe, s_take_config, self))
        ;
    s_event ("-", self->name);
}

static void
test_dependency_order (void)
{
    s_events_clear ();
    s_args_t a = {"a", false, NULL}, b = {"b", false, NULL}, c = {"c", false, NULL},
             d = {"d", false, NULL};
    odc_supervisor_t *sup = odc_supervisor_new ();
    CHECK (odc_supervisor_add (sup, &(odc_actor_spec_t){"a", s_actor, &a, {"b", "d"}}) == 0);
    CHECK (odc_supervisor_add (sup, &(odc_actor_spec_t){"b", s_actor, &b, {"c"}}) == 0);
    CHECK (odc_supervisor_add (sup, &(odc_actor_spec_t){"c", s_actor, &c, {NULL}}) == 0);
    CHECK (odc_supervisor_add (sup, &(odc_actor_spec_t){"d", s_actor, &d, {"c"}}) == 0);
    CHECK (odc_supervisor_add (sup, &(odc_actor_spec_t){"d", s_actor, &d, {NULL}}) == -1);
    CHECK (odc_supervisor_start (sup) == 0);
    CHECKF (s_events_are ("+c +b +d +a "), "started: %s", s_events);
    CHECK (strcmp (odc_supervisor_started (sup, 0), "c") == 0);
    CHECK (odc_supervisor_started (sup, 4) == NULL);

    int config = 42;
    odc_supervisor_configure (sup, &config);
    pthread_mutex_lock (&s_lock);
    CHECK (a.config == &config && b.config == &config && c.config == &config &&
           d.config == &config);
    pthread_mutex_unlock (&s_lock);

    s_events_clear ();
    odc_supervisor_stop (sup);
    CHECKF (s_events_are ("-a -d -b -c "), "stopped: %s", s_events);
    odc_supervisor_stop (sup); /* twice is safe */
    odc_supervisor_destroy (&sup);
    CHECK (sup == NULL);
}

static void
test_bad_graphs_and_failed_setup (void)
{
    s_args_t a = {"a", false, NULL}, b = {"b", false, NULL}, bad = {"bad", true, NULL};
    odc_supervisor_t *sup = odc_supervisor_new ();
    odc_supervisor_add (sup, &(odc_actor_spec_t){"a", s_actor, &a, {"ghost"}});
    CHECK (odc_supervisor_start (sup) == -1);
    CHECK (odc_supervisor_started (sup, 0) == NULL);
    odc_supervisor_destroy (&sup);

    sup = odc_supervisor_new ();
    odc_supervisor_add (sup, &(odc_actor_spec_t){"a", s_actor, &a, {"b"}});
    odc_supervisor_add (sup, &(odc_actor_spec_t){"b", s_actor, &b, {"a"}});
    CHECK (odc_supervisor_start (sup) == -1);
    odc_supervisor_destroy (&sup);

    /*  "bad" fails after "a" started: "a" is stopped again. */
    s_events_clear ();
    sup = odc_supervisor_new ();
    odc_supervisor_add (sup, &(odc_actor_spec_t){"a", s_actor, &a, {NULL}});
    odc_supervisor_add (sup, &(odc_actor_spec_t){"bad", s_actor, &bad, {"a"}});
    CHECK (odc_supervisor_start (sup) == -1);
    CHECKF (s_events_are ("+a -a "), "events: %s", s_events);
    CHECK (odc_supervisor_started (sup, 0) == NULL);
    odc_supervisor_destroy (&sup);
}

/*  Data actors: the producer pushes as fast as it can; the consumer
    counts. Stopping (producer first) must not hang on a full queue. */
typedef struct {
    atomic_long received;
} s_sink_t;

static void
s_on_reply (const Odc__Envelope *env, void *arg)
{
    (void)env;
    atomic_fetch_add (&((s_sink_t *)arg)->received, 1);
}

static void
s_consumer (zsock_t *pipe, void *args)
{
    zsock_t *pull = odc_bus_pull_bind ("inproc://test.data", 50);
    odc_actor_ready (pipe, pull != NULL);
    zpoller_t *poller = zpoller_new (pipe, pull, NULL);
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_REPLY] = s_on_reply;
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            if (odc_actor_pipe (pipe, NULL, NULL))
                break;
        }
        else if (which == pull)
            odc_bus_recv (pull, &handlers, args);
        else
            break;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&pull);
}

static void
s_producer (zsock_t *pipe, void *args)
{
    (void)args;
    zsock_t *push = odc_bus_push_connect ("inproc://test.data", 50);
    odc_actor_ready (pipe, push != NULL);
    Odc__Reply reply = ODC__REPLY__INIT;
    reply.text = "x";
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.source = "producer";
    env.body_case = ODC__ENVELOPE__BODY_REPLY;
    env.reply = &reply;
    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (true) {
        /*  Look at the pipe between sends, then send a burst. */
        if (zpoller_wait (poller, 0) == pipe && odc_actor_pipe (pipe, NULL, NULL))
            break;
        for (int i = 0; i < 100; i++)
            odc_bus_send (push, &env);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&push);
}

static void
test_data_actors_stop_cleanly (void)
{
    s_sink_t sink = {0};
    odc_supervisor_t *sup = odc_supervisor_new ();
    odc_supervisor_add (sup, &(odc_actor_spec_t){"producer", s_producer, NULL, {"consumer"}});
    odc_supervisor_add (sup, &(odc_actor_spec_t){"consumer", s_consumer, &sink, {NULL}});
    CHECK (odc_supervisor_start (sup) == 0);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep (&ts, NULL);
    CHECK (atomic_load (&sink.received) > 1000);
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    odc_supervisor_destroy (&sup);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double stop = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECKF (stop < 2.0, "stopping took %.2f s", stop);
    printf ("     moved %ld envelopes, stopped in %.3f s\n", atomic_load (&sink.received), stop);
}

/*  Signals: SIGHUP reloads (the new configuration reaches the actors and
    the old one is released), SIGTERM ends the run. */
static int s_reloads, s_releases;

static void *
s_reload (void *current, void *arg)
{
    (void)arg;
    s_reloads++;
    int *fresh = malloc (sizeof *fresh);
    *fresh = *(int *)current + 1;
    return fresh;
}

static void
s_release (void *config, void *arg)
{
    (void)arg;
    s_releases++;
    free (config);
}

static void *
s_signaller (void *arg)
{
    (void)arg;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep (&ts, NULL);
    kill (getpid (), SIGHUP);
    nanosleep (&ts, NULL);
    kill (getpid (), SIGHUP);
    nanosleep (&ts, NULL);
    kill (getpid (), SIGTERM);
    return NULL;
}

static void
test_signals (void)
{
    s_args_t a = {"a", false, NULL};
    odc_supervisor_t *sup = odc_supervisor_new ();
    odc_supervisor_add (sup, &(odc_actor_spec_t){"a", s_actor, &a, {NULL}});
    CHECK (odc_supervisor_start (sup) == 0);
    int *config = malloc (sizeof *config);
    *config = 1;
    pthread_t thread;
    pthread_create (&thread, NULL, s_signaller, NULL);
    int *last = odc_supervisor_run (sup, config, s_reload, s_release, NULL);
    pthread_join (thread, NULL);
    CHECK (s_reloads == 2 && s_releases == 2);
    CHECK (last && *last == 3);
    pthread_mutex_lock (&s_lock);
    CHECK (a.config == last);
    pthread_mutex_unlock (&s_lock);
    odc_supervisor_destroy (&sup);
    free (last);
}

int
main (void)
{
    odc_supervisor_block_signals ();
    RUN (test_dependency_order);
    RUN (test_bad_graphs_and_failed_setup);
    RUN (test_data_actors_stop_cleanly);
    RUN (test_signals);
    zsys_shutdown ();
    TEST_END ();
}
