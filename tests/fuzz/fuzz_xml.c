/*  fuzz_xml: XML from the network to the collector: the stanzas the
    bridge takes (bridge/odc_bridge_actor.c: acks and refusals of batches,
    device lists pushed by the portal, commands over chat, the portal's
    presence) and the record and batch reader (bridge/odc_xml.c).

    An input is one XML element as text. libstrophe parses it
    (xmpp_stanza_new_from_string: expat, as for the stream), then by its
    name:
        iq        the bridge's iq handler (s_on_iq): acks, refusals,
                  device lists (a real RocksDB store in a temporary folder),
                  pings
        message   the chat handler (s_on_message): IMIL commands from a
                  trusted JID (portal@localhost) or not, handed over as
                  the bridge does (a Command on a PUSH socket), run here
                  as the commands actor runs them, and the Reply sent
                  back through the bridge's s_on_reply
        presence  the portal's presence (s_on_presence)
        batch     odc_xml_batch_items, each record written back
        other     odc_xml_envelope (a record), written back
    This file includes bridge/odc_bridge_actor.c to reach its handlers; the
    connection is never connected (what the handlers send goes nowhere).
    A record read must be written back, and read again to the same
    envelope: a reading the collector and portal cannot carry both ways is
    a bug, and aborts.

    Build: cmake -DODC_FUZZ=ON with CC=clang-14 (scripts/fuzz); run:
        build-fuzz/fuzz_xml build-fuzz/fuzz-corpus/xml
    Seeds: tests/fuzz/seeds/xml/ and records and batches made from the
    recordings (fuzz_seeds). A crash goes to tests/fuzz/regressions/xml/
    (tests/fuzz/README.md). */
#include "fuzz_tmp.h"
#include "odc_bridge_actor.c"
#include "odc_imil.h"

#include <stdint.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static s_self_t s_bridge;
static odc_imil_t s_imil;   /* what the commands actor would run them with */
static zsock_t *s_commands; /* the commands actor's end of s_bridge.commands */
static char s_dir[512];

/*  A command the bridge handed over: run, and the reply sent back. */
static void
s_on_command (const Odc__Envelope *env, void *arg)
{
    (void)arg;
    int status = 0;
    char *text = odc_imil_run (&s_imil, env->command, &status);
    Odc__Reply reply = ODC__REPLY__INIT;
    reply.id = env->command->id;
    reply.to = env->command->from;
    reply.status = status;
    reply.text = text;
    Odc__Envelope out = ODC__ENVELOPE__INIT;
    out.body_case = ODC__ENVELOPE__BODY_REPLY;
    out.reply = &reply;
    s_on_reply (&out, &s_bridge);
    free (text);
}

static void
s_cleanup (void)
{
    zsock_destroy (&s_bridge.commands);
    zsock_destroy (&s_commands);
    odc_outbox_destroy (&s_bridge.outbox);
    odc_store_close (&s_bridge.store);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "fuzz_xml: could not remove %s\n", s_dir);
}

static odc_config_t *
s_config (const char *name, const char *text)
{
    char path[600];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *out = fopen (path, "w");
    if (!out)
        abort ();
    fputs (text, out);
    fclose (out);
    char *errors = NULL;
    odc_config_t *c = odc_config_load (path, &errors);
    if (!c) {
        fprintf (stderr, "fuzz_xml: the harness's configuration: %s\n", errors);
        abort ();
    }
    return c;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc, (void)argv;
    odc_log_set_level (ODC_LOG_FATAL);
    const char *tmp = fuzz_tmpdir ();
    snprintf (s_dir, sizeof s_dir, "%s/fuzz_xml.XXXXXX", tmp);
    if (!mkdtemp (s_dir))
        abort ();
    static const char common[] =
        "collector:\n  id: fuzz\nstore:\n  path: store\n  sync: false\n"
        "portal:\n  jid: collector@localhost\n  password: p\n  portal_jid: portal@localhost\n"
        "  trusted: [portal@localhost]\n";
    char text[2048];
    snprintf (text, sizeof text,
              "%ssnmp:\n  credentials:\n"
              "    - name: public-v2c\n      version: 2c\n      community: public\n"
              "devices:\n  - address: 192.0.2.1\n",
              common);
    odc_config_t *config = s_config ("bridge.yaml", text);
    /*  The commands run with no credential: "discover RANGE" is refused
        before it would sweep the network. */
    snprintf (text, sizeof text, "%ssnmp:\n  credentials: []\n", common);
    odc_config_t *imil = s_config ("imil.yaml", text);
    char *err = NULL;
    odc_store_options_t o;
    odc_store_options_default (&o);
    o.sync = false;
    s_bridge.config = config;
    s_bridge.store = odc_store_open (config->store_path, &o, &err);
    if (!s_bridge.store) {
        fprintf (stderr, "fuzz_xml: store %s: %s\n", config->store_path, err);
        abort ();
    }
    s_bridge.outbox = odc_outbox_new (s_bridge.store, 1u << 20);
    s_imil.config = imil;
    s_imil.store = s_bridge.store;
    s_imil.outbox = s_bridge.outbox;
    s_commands = odc_bus_pull_bind ("inproc://fuzz_xml.commands", 0);
    s_bridge.commands = odc_bus_push_connect ("inproc://fuzz_xml.commands", 0);
    if (!s_commands || !s_bridge.commands)
        abort ();
    xmpp_initialize ();
    s_bridge.ctx = xmpp_ctx_new (NULL, NULL);
    s_bridge.conn = xmpp_conn_new (s_bridge.ctx);
    s_bridge.state = S_ONLINE;
    snprintf (s_bridge.instance, sizeof s_bridge.instance, "0123456789abcdef");
    snprintf (s_bridge.peer, sizeof s_bridge.peer, "portal@localhost/" ODC_PORTAL_RESOURCE);
    atexit (s_cleanup);
    return 0;
}

/*  A record read must go back to XML and come back the same. */
static void
s_round_trip (const Odc__Envelope *env)
{
    xmpp_stanza_t *again = odc_xml_record (s_bridge.ctx, env);
    if (!again)
        return; /* a reading the writer refuses (with a reason): not carried */
    char *err = NULL;
    Odc__Envelope *back = odc_xml_envelope (again, &err);
    if (!back) {
        fprintf (stderr, "fuzz_xml: a record written cannot be read: %s\n", err ? err : "?");
        abort ();
    }
    size_t a = odc__envelope__get_packed_size (env), b = odc__envelope__get_packed_size (back);
    uint8_t *pa = malloc (a + 1), *pb = malloc (b + 1);
    odc__envelope__pack (env, pa);
    odc__envelope__pack (back, pb);
    if (a != b || memcmp (pa, pb, a)) {
        fprintf (stderr, "fuzz_xml: a record read, written and read again differs\n");
        abort ();
    }
    free (pa);
    free (pb);
    free (err);
    odc__envelope__free_unpacked (back, NULL);
    xmpp_stanza_release (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text[size] = 0;
    xmpp_stanza_t *el = xmpp_stanza_new_from_string (s_bridge.ctx, text);
    free (text);
    if (!el)
        return 0;
    const char *name = xmpp_stanza_get_name (el);
    if (!name)
        ;
    else if (!strcmp (name, "iq") || !strcmp (name, "message")) {
        /*  A command or a device list goes to the commands actor: run
            here, its reply back to the bridge. */
        if (!strcmp (name, "iq"))
            s_on_iq (s_bridge.conn, el, &s_bridge);
        else
            s_on_message (s_bridge.conn, el, &s_bridge);
        odc_bus_handlers_t handlers = {0};
        handlers.on[ODC__ENVELOPE__BODY_COMMAND] = s_on_command;
        while (zsock_events (s_commands) & ZMQ_POLLIN)
            odc_bus_recv (s_commands, &handlers, NULL);
    }
    else if (!strcmp (name, "presence"))
        s_on_presence (s_bridge.conn, el, &s_bridge);
    else if (!strcmp (name, "batch")) {
        Odc__Envelope **items = NULL;
        char *err = NULL;
        long n = odc_xml_batch_items (s_bridge.ctx, el, &items, &err);
        if (n < 0 && !err)
            abort (); /* refused without a reason */
        for (long i = 0; i < n; i++)
            s_round_trip (items[i]);
        if (n >= 0)
            odc_xml_items_free (items, n);
        free (err);
    }
    else {
        char *err = NULL;
        Odc__Envelope *env = odc_xml_envelope (el, &err);
        if (env) {
            s_round_trip (env);
            odc__envelope__free_unpacked (env, NULL);
        }
        else if (!err)
            abort (); /* refused without a reason */
        free (err);
    }
    xmpp_stanza_release (el);
    return 0;
}
