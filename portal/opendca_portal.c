/*  opendca-portal: the reference portal receiver.

        opendca-portal run    --store DIR XMPP-OPTIONS      receive until SIGTERM
        opendca-portal export --store DIR [--format jsonl|csv|fields]
        opendca-portal fleet  --store DIR                   per collector: devices,
                                                            meters, supplies, alerts
        opendca-portal send   XMPP-OPTIONS JID "COMMAND"    an IMIL command; prints
                                                            the collector's answer
        opendca-portal push-devices XMPP-OPTIONS JID FILE.csv   a device list
                                                            for a collector
        opendca-portal raw    XMPP-OPTIONS FILE             send FILE's XML as it is
                                                            (for tests)
    XMPP-OPTIONS: --jid JID (--password PW | --password-file F) [--host H]
                  [--port N] [--ca-file F]

    "run" logs in as the portal's JID, answers every batch (odc_xml.h) with
    result once its records are in the store, de-duplicates by (collector,
    batch id): a batch sent again after a lost ack is answered and not stored
    twice. A batch that does not parse is answered with an error naming the
    reason, and nothing of it is stored. Store (RocksDB, store/odc_store.h):

        history  receive number (8 bytes, big-endian) -> collector NUL
                 batch id NUL packed envelope: every record received, in
                 arrival order
        latest   collector NUL device NUL kind -> packed envelope
        meta     "seen/" collector "/" batch id -> when it was taken (wall
                 clock ms, decimal): the batches taken;
                 "received" -> the next receive number */
#include <assert.h>
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "odc_bus.h"
#include "odc_bytes.h"
#include "odc_log.h"
#include "odc_meters.h"
#include "odc_read.h"
#include "odc_store.h"
#include "odc_text.h"
#include "odc_devices.h"
#include "odc_xml.h"

#define S_RECEIVED_KEY "received"

typedef struct {
    const char *jid, *password, *host, *ca_file, *store_path, *format;
    int port;
} s_options_t;

/*  SIGINT and SIGTERM are blocked in every thread (main blocks them before
    any starts) and taken here, from the main loop: a handler could run in
    any thread, RocksDB's sleeping ones included, and under ThreadSanitizer
    not at all until that thread wakes. */
static sigset_t s_stop_signals;
static bool s_stop;

static bool
s_stopping (void)
{
    struct timespec zero = {0, 0};
    if (!s_stop && sigtimedwait (&s_stop_signals, NULL, &zero) > 0)
        s_stop = true;
    return s_stop;
}

static void
s_strophe_log (void *arg, xmpp_log_level_t level, const char *area, const char *msg)
{
    (void)arg;
    if (level >= XMPP_LEVEL_WARN)
        odc_warn (NULL, "xmpp %s: %s", area, msg);
}

static int
s_certfail (const xmpp_tlscert_t *cert, const char *const errormsg)
{
    (void)cert;
    odc_error (NULL, "server certificate refused: %s", errormsg ? errormsg : "not valid");
    return 0;
}

/* ------------------------------------------------------------------------
   A connection (run, send, raw) */

typedef struct {
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    xmpp_log_t log;
    int state; /* 0 connecting, 1 online, 2 closing, -1 failed or closed */
    void (*on_online) (void *arg);
    void *arg;
} s_link_t;

static void
s_on_conn (xmpp_conn_t *conn, xmpp_conn_event_t event, int error, xmpp_stream_error_t *stream_error,
           void *arg)
{
    s_link_t *link = arg;
    (void)conn;
    if (event == XMPP_CONN_CONNECT) {
        link->state = 1;
        if (link->on_online)
            link->on_online (link->arg);
    }
    else if (event != XMPP_CONN_RAW_CONNECT) {
        if (link->state == 0 || link->state == 1)
            odc_warn (NULL, "XMPP connection %s: %s", link->state == 1 ? "lost" : "failed",
                      stream_error && stream_error->text ? stream_error->text
                      : error                            ? strerror (error)
                                                         : "closed (TLS or login refused)");
        link->state = -1;
    }
}

static int
s_link_open (s_link_t *link, const s_options_t *o, const char *resource)
{
    link->log = (xmpp_log_t){s_strophe_log, NULL};
    link->ctx = xmpp_ctx_new (NULL, &link->log);
    link->conn = xmpp_conn_new (link->ctx);
    xmpp_conn_set_flags (link->conn, XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    char jid[512];
    snprintf (jid, sizeof jid, "%s/%s", o->jid, resource);
    xmpp_conn_set_jid (link->conn, jid);
    xmpp_conn_set_pass (link->conn, o->password);
    if (o->ca_file)
        xmpp_conn_set_cafile (link->conn, o->ca_file);
    xmpp_conn_set_certfail_handler (link->conn, s_certfail);
    link->state = 0;
    if (xmpp_connect_client (link->conn, o->host, (unsigned short)o->port, s_on_conn, link) !=
        XMPP_EOK)
        return -1;
    for (int i = 0; i < 400 && link->state == 0 && !s_stopping (); i++)
        xmpp_run_once (link->ctx, 50);
    return link->state == 1 ? 0 : -1;
}

static void
s_link_close (s_link_t *link)
{
    if (link->state == 1) {
        link->state = 2;
        xmpp_disconnect (link->conn);
        for (int i = 0; i < 40 && link->state == 2; i++)
            xmpp_run_once (link->ctx, 50);
    }
    xmpp_conn_release (link->conn);
    xmpp_ctx_free (link->ctx);
}

/* ------------------------------------------------------------------------
   run */

typedef struct {
    odc_store_t *store;
    xmpp_ctx_t *ctx;
    uint64_t next; /* receive number */
    uint64_t batches, records, duplicates, refused;
} s_portal_t;

static void
s_reply_error (xmpp_conn_t *conn, xmpp_stanza_t *stanza, const char *type, const char *condition,
               const char *text)
{
    xmpp_stanza_t *reply = xmpp_stanza_reply_error (stanza, type, condition, text);
    if (reply) {
        xmpp_send (conn, reply);
        xmpp_stanza_release (reply);
    }
}

/*  "A" B ["/" C]: a meta key as long as its parts (a collector's JID can be
    3,071 bytes: cut to a fixed buffer, two batch ids of one long JID would
    make one "seen" key, and the second batch be taken for the first). */
static char *
s_meta_key (const char *a, const char *b, const char *c)
{
    size_t size = strlen (a) + strlen (b) + (c ? 1 + strlen (c) : 0) + 1;
    char *key = malloc (size);
    assert (key);
    snprintf (key, size, "%s%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return key;
}

/*  One batch: stored with its seen mark in one write, then answered. */
static void
s_take_batch (s_portal_t *p, xmpp_conn_t *conn, xmpp_stanza_t *iq, xmpp_stanza_t *batch,
              const char *collector, const char *id)
{
    char *seen = s_meta_key ("seen/", collector, id);
    size_t len = 0;
    void *known = odc_store_get (p->store, ODC_CF_META, seen, strlen (seen), &len);
    if (known) {
        free (known);
        free (seen);
        p->duplicates++;
        odc_info (NULL, "batch %s from %s again: answered, not stored twice", id, collector);
        xmpp_stanza_t *reply = xmpp_stanza_reply (iq);
        xmpp_stanza_set_type (reply, "result");
        xmpp_send (conn, reply);
        xmpp_stanza_release (reply);
        return;
    }
    Odc__Envelope **items = NULL;
    char *err = NULL;
    long n = odc_xml_batch_items (p->ctx, batch, &items, &err);
    if (n < 0) {
        p->refused++;
        odc_warn (NULL, "refused batch %s from %s: %s", id, collector, err ? err : "not valid");
        s_reply_error (conn, iq, "modify", "bad-request", err ? err : "not a valid batch");
        free (err);
        free (seen);
        return;
    }
    odc_batch_t *b = odc_batch_new ();
    size_t clen = strlen (collector), ilen = strlen (id), head = clen + 1 + ilen + 1;
    for (long i = 0; i < n; i++) {
        size_t size = odc__envelope__get_packed_size (items[i]);
        uint8_t *value = malloc (head + size);
        memcpy (value, collector, clen + 1);
        memcpy (value + clen + 1, id, ilen + 1);
        odc__envelope__pack (items[i], value + head);
        uint8_t key[8];
        odc_be64_put (key, p->next++);
        odc_batch_put (b, p->store, ODC_CF_HISTORY, key, 8, value, head + size);
        const Odc__ReadingHeader *h = odc_bus_reading_header (items[i]);
        const Odc__Envelope *e = items[i];
        const char *device =
            h && h->device_id && *h->device_id ? h->device_id
            : h && h->address                  ? h->address
            : e->body_case == ODC__ENVELOPE__BODY_DEVICE_EVENT && *e->device_event->device_id
                ? e->device_event->device_id
            : e->body_case == ODC__ENVELOPE__BODY_ALERT_EVENT && *e->alert_event->device_id
                ? e->alert_event->device_id
                : "?";
        /*  The key as long as it is: a device id or address from the wire
            can be longer than any fixed buffer (fuzz_portal found one). */
        const char *kind = odc_xml_kind (items[i]);
        size_t klen = clen + 1 + strlen (device) + 1 + strlen (kind);
        char *lkey = malloc (klen + 1);
        snprintf (lkey, klen + 1, "%s%c%s%c%s", collector, 0, device, 0, kind);
        odc_batch_put (b, p->store, ODC_CF_LATEST, lkey, klen, value + head, size);
        free (lkey);
        free (value);
    }
    char next[24];
    snprintf (next, sizeof next, "%" PRIu64, p->next);
    odc_batch_put (b, p->store, ODC_CF_META, S_RECEIVED_KEY, strlen (S_RECEIVED_KEY), next,
                   strlen (next));
    char taken[24];
    snprintf (taken, sizeof taken, "%" PRIu64, odc_now_ms ());
    odc_batch_put (b, p->store, ODC_CF_META, seen, strlen (seen), taken, strlen (taken));
    char *mark = s_meta_key ("collector/", collector, NULL);
    odc_batch_put (b, p->store, ODC_CF_META, mark, strlen (mark), "", 0);
    free (seen);
    free (mark);
    int rc = odc_store_write (p->store, b);
    odc_batch_destroy (&b);
    odc_xml_items_free (items, n);
    if (rc != 0) {
        s_reply_error (conn, iq, "wait", "internal-server-error", "the portal's store failed");
        return;
    }
    p->batches++;
    p->records += (uint64_t)n;
    odc_debug (NULL, "batch %s from %s: %ld records", id, collector, n);
    xmpp_stanza_t *reply = xmpp_stanza_reply (iq);
    xmpp_stanza_set_type (reply, "result");
    xmpp_send (conn, reply);
    xmpp_stanza_release (reply);
}

static int
s_portal_iq (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    s_portal_t *p = arg;
    const char *type = xmpp_stanza_get_type (stanza), *id = xmpp_stanza_get_id (stanza);
    const char *from = xmpp_stanza_get_from (stanza);
    if (!type || (strcmp (type, "set") && strcmp (type, "get")))
        return 1;
    xmpp_stanza_t *batch = xmpp_stanza_get_child_by_name (stanza, "batch");
    if (!strcmp (type, "get") && xmpp_stanza_get_child_by_ns (stanza, "urn:xmpp:ping")) {
        xmpp_stanza_t *reply = xmpp_stanza_reply (stanza);
        xmpp_stanza_set_type (reply, "result");
        xmpp_send (conn, reply);
        xmpp_stanza_release (reply);
    }
    else if (!strcmp (type, "set") && batch && id && from && strlen (id) < 100) {
        char *bare = xmpp_jid_bare (p->ctx, from);
        s_take_batch (p, conn, stanza, batch, bare, id);
        xmpp_free (p->ctx, bare);
    }
    else {
        odc_warn (NULL, "refused an iq %s from %.80s: not a batch", type, from ? from : "?");
        s_reply_error (conn, stanza, "cancel", "service-unavailable", NULL);
    }
    return 1;
}

static int
s_portal_message (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    (void)conn;
    s_portal_t *p = arg;
    char *body = xmpp_message_get_body (stanza);
    if (body) {
        odc_info (NULL, "message from %s: %.200s", xmpp_stanza_get_from (stanza), body);
        xmpp_free (p->ctx, body);
    }
    return 1;
}

typedef struct {
    s_link_t *link;
    s_portal_t *portal;
} s_online_t;

/*  Tell every collector that ever sent here that the portal is back (a
    directed presence to its resource): those that had batches refused
    while it was away send them at once instead of at their next try. */
typedef struct {
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    int count;
} s_hello_t;

static int
s_hello_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)value;
    (void)vlen;
    s_hello_t *h = arg;
    char to[400];
    if (klen <= 10 || klen - 10 > 300)
        return 0;
    snprintf (to, sizeof to, "%.*s/%s", (int)(klen - 10), (const char *)key + 10,
              ODC_COLLECTOR_RESOURCE);
    xmpp_stanza_t *presence = xmpp_presence_new (h->ctx);
    xmpp_stanza_set_to (presence, to);
    xmpp_send (h->conn, presence);
    xmpp_stanza_release (presence);
    h->count++;
    return 0;
}

static void
s_portal_online (void *arg)
{
    s_online_t *o = arg;
    xmpp_conn_t *conn = o->link->conn;
    xmpp_handler_delete (conn, s_portal_iq);
    xmpp_handler_delete (conn, s_portal_message);
    xmpp_handler_add (conn, s_portal_iq, NULL, "iq", NULL, o->portal);
    xmpp_handler_add (conn, s_portal_message, NULL, "message", NULL, o->portal);
    xmpp_stanza_t *presence = xmpp_presence_new (o->link->ctx);
    xmpp_send (conn, presence);
    xmpp_stanza_release (presence);
    s_hello_t hello = {o->link->ctx, conn, 0};
    odc_store_each (o->portal->store, ODC_CF_META, "collector/", 10, "collector0", 10, s_hello_one,
                    &hello);
    odc_info (NULL, "receiving as %s; told %d known collectors", xmpp_conn_get_bound_jid (conn),
              hello.count);
}

static odc_store_t *
s_store_open (const char *path, bool write)
{
    char *err = NULL;
    odc_store_t *store = NULL;
    if (write) {
        odc_store_options_t options;
        odc_store_options_default (&options);
        store = odc_store_open (path, &options, &err);
    }
    else
        store = odc_store_open_readonly (path, &err);
    if (!store)
        fprintf (stderr, "opendca-portal: store %s: %s\n", path, err ? err : "cannot open");
    free (err);
    return store;
}

static int
s_run (const s_options_t *o)
{
    odc_store_t *store = s_store_open (o->store_path, true);
    if (!store)
        return 1;
    s_portal_t portal = {store, NULL, 0, 0, 0, 0, 0};
    size_t len = 0;
    char *next = odc_store_get (store, ODC_CF_META, S_RECEIVED_KEY, strlen (S_RECEIVED_KEY), &len);
    portal.next = next ? strtoull (next, NULL, 10) : 0;
    free (next);
    s_link_t link = {0};
    s_online_t online = {&link, &portal};
    link.on_online = s_portal_online;
    link.arg = &online;
    double backoff = 1;
    int rc = 0;
    /*  Reconnect after a loss, until stopped. */
    while (!s_stopping ()) {
        if (s_link_open (&link, o, ODC_PORTAL_RESOURCE) != 0) {
            s_link_close (&link);
            odc_warn (NULL, "cannot log in as %s; again in %.0f s", o->jid, backoff);
            for (int i = 0; i < backoff * 10 && !s_stopping (); i++)
                usleep (100000);
            backoff = backoff < 10 ? backoff * 2 : 10;
            continue;
        }
        backoff = 1;
        portal.ctx = link.ctx;
        while (!s_stopping () && link.state == 1)
            xmpp_run_once (link.ctx, 100);
        s_link_close (&link);
    }
    odc_info (NULL,
              "portal stops: %" PRIu64 " batches (%" PRIu64 " records) stored, %" PRIu64
              " duplicates answered, %" PRIu64 " refused",
              portal.batches, portal.records, portal.duplicates, portal.refused);
    odc_store_close (&store);
    return rc;
}

/* ------------------------------------------------------------------------
   send, raw */

typedef struct {
    xmpp_ctx_t *ctx;
    const char *to;
    bool answered;
    int status;
} s_ask_t;

static int
s_ask_message (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    (void)conn;
    s_ask_t *ask = arg;
    const char *from = xmpp_stanza_get_from (stanza);
    char *bare = from ? xmpp_jid_bare (ask->ctx, from) : NULL;
    char *body = xmpp_message_get_body (stanza);
    if (bare && body && !strcasecmp (bare, ask->to)) {
        puts (body);
        ask->answered = true;
    }
    if (bare)
        xmpp_free (ask->ctx, bare);
    if (body)
        xmpp_free (ask->ctx, body);
    return 1;
}

static int
s_send (const s_options_t *o, const char *to, const char *text, bool raw, double timeout)
{
    s_link_t link = {0};
    char resource[32];
    snprintf (resource, sizeof resource, "send-%d", (int)getpid ());
    if (s_link_open (&link, o, resource) != 0) {
        fprintf (stderr, "opendca-portal: cannot log in as %s\n", o->jid);
        s_link_close (&link);
        return 1;
    }
    s_ask_t ask = {link.ctx, to, false, 0};
    xmpp_handler_add (link.conn, s_ask_message, NULL, "message", NULL, &ask);
    xmpp_stanza_t *presence = xmpp_presence_new (link.ctx);
    xmpp_send (link.conn, presence);
    xmpp_stanza_release (presence);
    if (raw)
        xmpp_send_raw (link.conn, text, strlen (text));
    else {
        xmpp_stanza_t *msg = xmpp_message_new (link.ctx, "chat", to, NULL);
        xmpp_message_set_body (msg, text);
        xmpp_send (link.conn, msg);
        xmpp_stanza_release (msg);
    }
    for (int i = 0; i < timeout * 20 && !ask.answered && link.state == 1 && !s_stopping (); i++)
        xmpp_run_once (link.ctx, 50);
    int rc = 0;
    if (!raw && !ask.answered) {
        fprintf (stderr, "opendca-portal: no answer from %s in %.0f s\n", to, timeout);
        rc = 1;
    }
    s_link_close (&link);
    return rc;
}

/* ------------------------------------------------------------------------
   push-devices */

typedef struct {
    xmpp_ctx_t *ctx;
    bool answered;
    int rc;
} s_push_t;

static int
s_push_answer (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    (void)conn;
    s_push_t *push = arg;
    push->answered = true;
    const char *type = xmpp_stanza_get_type (stanza);
    xmpp_stanza_t *pushed = xmpp_stanza_get_child_by_name (stanza, "pushed");
    if (type && !strcmp (type, "result") && pushed) {
        printf ("the collector took %s devices, refused %s\n",
                xmpp_stanza_get_attribute (pushed, "taken"),
                xmpp_stanza_get_attribute (pushed, "refused"));
        for (xmpp_stanza_t *r = xmpp_stanza_get_children (pushed); r; r = xmpp_stanza_get_next (r))
            if (xmpp_stanza_is_tag (r))
                printf ("  refused %s: %s\n", xmpp_stanza_get_attribute (r, "address"),
                        xmpp_stanza_get_attribute (r, "reason"));
        push->rc = 0;
    }
    else {
        xmpp_stanza_t *error = xmpp_stanza_get_child_by_name (stanza, "error");
        xmpp_stanza_t *text = error ? xmpp_stanza_get_child_by_name (error, "text") : NULL;
        char *reason = text ? xmpp_stanza_get_text (text) : NULL;
        fprintf (stderr, "opendca-portal push-devices: the collector refused the list: %s\n",
                 reason ? reason : "no reason given (not trusted, or not online)");
        if (reason)
            xmpp_free (push->ctx, reason);
        push->rc = 1;
    }
    return 0;
}

/*  FILE: one device a line, "address[,port[,credential[,asset number[,
    location]]]]", or the columns a header line names (the CSV rules of
    store/odc_devices.h). Bad lines are named with their number and
    reason; the good ones are sent. */
static int
s_push_devices (const s_options_t *o, const char *to, const char *file, double timeout)
{
    char *error = NULL;
    odc_devlist_t *parsed = odc_devlist_read (file, odc_devlist_portal_columns, NULL, &error);
    if (!parsed) {
        fprintf (stderr, "opendca-portal push-devices: %s\n", error ? error : file);
        free (error);
        return 2;
    }
    for (size_t i = 0; i < parsed->error_count; i++)
        fprintf (stderr, "%s\n", parsed->errors[i]);
    xmpp_ctx_t *tmp = xmpp_ctx_new (NULL, NULL);
    xmpp_stanza_t *list = xmpp_stanza_new (tmp);
    xmpp_stanza_set_name (list, "devices");
    xmpp_stanza_set_ns (list, ODC_XML_NS);
    int good = (int)parsed->count, bad = (int)parsed->error_count;
    for (size_t i = 0; i < parsed->count; i++) {
        const odc_device_config_t *c = &parsed->devices[i];
        xmpp_stanza_t *d = xmpp_stanza_new (tmp);
        xmpp_stanza_set_name (d, "device");
        xmpp_stanza_set_attribute (d, "address", c->address);
        if (c->port) {
            char port[16];
            snprintf (port, sizeof port, "%d", c->port);
            xmpp_stanza_set_attribute (d, "port", port);
        }
        if (c->credential)
            xmpp_stanza_set_attribute (d, "credential", c->credential);
        if (c->asset_number)
            xmpp_stanza_set_attribute (d, "asset_number", c->asset_number);
        if (c->location)
            xmpp_stanza_set_attribute (d, "location", c->location);
        xmpp_stanza_add_child_ex (list, d, 0);
    }
    odc_devlist_destroy (&parsed);
    fprintf (stderr, "opendca-portal push-devices: %d devices to send, %d bad lines\n", good, bad);
    s_link_t link = {0};
    char resource[32];
    snprintf (resource, sizeof resource, "push-%d", (int)getpid ());
    int rc = 1;
    if (s_link_open (&link, o, resource) != 0)
        fprintf (stderr, "opendca-portal: cannot log in as %s\n", o->jid);
    else {
        char full[600];
        snprintf (full, sizeof full, "%s%s", to,
                  strchr (to, '/') ? "" : "/" ODC_COLLECTOR_RESOURCE);
        char id[32];
        snprintf (id, sizeof id, "push-%d", (int)getpid ());
        s_push_t push = {link.ctx, false, 1};
        xmpp_id_handler_add (link.conn, s_push_answer, id, &push);
        xmpp_stanza_t *iq = xmpp_iq_new (link.ctx, "set", id);
        xmpp_stanza_set_to (iq, full);
        /*  Copy the list into this connection's context. */
        char *text = NULL;
        size_t n = 0;
        xmpp_stanza_to_text (list, &text, &n);
        xmpp_stanza_t *copy = xmpp_stanza_new_from_string (link.ctx, text);
        xmpp_free (tmp, text);
        xmpp_stanza_add_child_ex (iq, copy, 0);
        xmpp_send (link.conn, iq);
        xmpp_stanza_release (iq);
        for (int i = 0; i < timeout * 20 && !push.answered && link.state == 1 && !s_stopping ();
             i++)
            xmpp_run_once (link.ctx, 50);
        if (!push.answered)
            fprintf (stderr, "opendca-portal push-devices: no answer from %s in %.0f s\n", full,
                     timeout);
        rc = push.rc;
    }
    s_link_close (&link);
    xmpp_stanza_release (list);
    xmpp_ctx_free (tmp);
    return rc ? rc : bad ? 3 : 0;
}

/* ------------------------------------------------------------------------
   export, fleet */

typedef struct {
    const char *format;
    FILE *out;
    uint64_t count;
    odc_store_t *store;
    char batch[256];      /* the batch whose receive time is at hand */
    uint64_t received_ms; /* when the portal took it (0: a store from before) */
} s_export_t;

/*  When the portal took a record's batch (the "seen/" mark), looked up
    once for a run of the batch's records. */
static uint64_t
s_received_ms (s_export_t *e, const char *collector, const char *batch)
{
    char key[256];
    snprintf (key, sizeof key, "%s%c%s", collector, 0, batch);
    if (!e->store || !memcmp (key, e->batch, sizeof key))
        return e->received_ms;
    memcpy (e->batch, key, sizeof key);
    char *seen = s_meta_key ("seen/", collector, batch);
    size_t len = 0;
    char *value = odc_store_get (e->store, ODC_CF_META, seen, strlen (seen), &len);
    char text[24] = "";
    if (value && len < sizeof text)
        memcpy (text, value, len);
    e->received_ms = strtoull (text, NULL, 10);
    free (value);
    free (seen);
    return e->received_ms;
}

static void s_csv_walk (FILE *out, const char *row, const char *prefix, const ProtobufCMessage *m);

static void
s_csv_text (FILE *out, const char *text)
{
    /*  Quotes doubled; invalid UTF-8 and control characters as U+FFFD
        (The export is valid UTF-8, whatever a device sent). */
    fputc ('"', out);
    for (const char *p = text, *q; *p; p = q) {
        q = p + strcspn (p, "\"");
        odc_text_fprint (out, p, (size_t)(q - p));
        if (*q == '"') {
            fputs ("\"\"", out);
            q++;
        }
    }
    fputc ('"', out);
}

/*  One row per scalar: ROW,FIELD,VALUE where FIELD is the path
    ("counters.0.value"). */
static void
s_csv_scalar (FILE *out, const char *row, const char *path, const ProtobufCFieldDescriptor *f,
              const void *member)
{
    char buf[64];
    const char *text = buf;
    char *hex = NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: snprintf (buf, sizeof buf, "%d", *(const int32_t *)member); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf (buf, sizeof buf, "%u", *(const uint32_t *)member);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf (buf, sizeof buf, "%" PRId64, *(const int64_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf (buf, sizeof buf, "%" PRIu64, *(const uint64_t *)member);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        snprintf (buf, sizeof buf, "%s", *(const protobuf_c_boolean *)member ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_STRING:
        text = *(const char *const *)member ? *(const char *const *)member : "";
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = member;
        hex = malloc (b->len * 2 + 1);
        hex[0] = 0;
        for (size_t i = 0; i < b->len; i++)
            sprintf (hex + 2 * i, "%02x", b->data[i]);
        text = hex;
        break;
    }
    default: snprintf (buf, sizeof buf, "%g", *(const double *)member); break;
    }
    fprintf (out, "%s,%s,", row, path);
    s_csv_text (out, text);
    fputc ('\n', out);
    free (hex);
}

typedef struct {
    FILE *out;
    const char *row, *prefix;
} s_csv_t;

static void
s_csv_field (const ProtobufCFieldDescriptor *f, const void *member, long index, void *arg)
{
    s_csv_t *c = arg;
    char path[256];
    if (index >= 0)
        snprintf (path, sizeof path, "%s%s.%ld", c->prefix, f->name, index);
    else
        snprintf (path, sizeof path, "%s%s", c->prefix, f->name);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        char sub[260];
        snprintf (sub, sizeof sub, "%s.", path);
        s_csv_walk (c->out, c->row, sub, *(const ProtobufCMessage *const *)member);
    }
    else
        s_csv_scalar (c->out, c->row, path, f, member);
}

static void
s_csv_walk (FILE *out, const char *row, const char *prefix, const ProtobufCMessage *m)
{
    s_csv_t c = {out, row, prefix};
    odc_pb_each_field (m, s_csv_field, &c);
}

/*  A record of the history family: "collector NUL batch NUL envelope".
    The envelope (the caller frees it), with *collector (clen bytes) and
    *batch pointing into value; NULL when the value is not one. */
static Odc__Envelope *
s_history_record (const void *value, size_t vlen, const char **collector, size_t *clen,
                  const char **batch)
{
    *collector = value;
    *clen = strnlen (*collector, vlen);
    if (*clen == vlen)
        return NULL;
    *batch = *collector + *clen + 1;
    size_t blen = strnlen (*batch, vlen - *clen - 1), head = *clen + 1 + blen + 1;
    if (head > vlen)
        return NULL;
    return odc__envelope__unpack (NULL, vlen - head, (const uint8_t *)value + head);
}

static int
s_export_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_export_t *e = arg;
    const char *collector, *batch;
    size_t clen;
    if (klen != 8)
        return 0;
    Odc__Envelope *env = s_history_record (value, vlen, &collector, &clen, &batch);
    const char *kind = env ? odc_xml_kind (env) : NULL;
    if (!kind) {
        if (env)
            odc__envelope__free_unpacked (env, NULL);
        return 0;
    }
    uint64_t n = odc_be64_get (key);
    const Odc__ReadingHeader *h = odc_bus_reading_header (env);
    if (!strcmp (e->format, "jsonl")) {
        /*  A bare JID has no quote, backslash or control character. */
        fprintf (e->out,
                 "{\"received\": %" PRIu64 ", \"received_ms\": %" PRIu64
                 ", \"collector\": \"%s\", \"batch\": \"%s\", \"kind\": \"%s\", "
                 "\"reading\": ",
                 n, s_received_ms (e, collector, batch), collector, batch, kind);
        odc_json_print (odc_bus_body (env), e->out, -1);
        fputs ("}\n", e->out);
    }
    else {
        char row[512];
        snprintf (row, sizeof row, "%" PRIu64 ",%s,%s,%s,%s", n, collector, batch, kind,
                  h && h->device_id ? h->device_id : "");
        s_csv_walk (e->out, row, "", odc_bus_body (env));
    }
    e->count++;
    odc__envelope__free_unpacked (env, NULL);
    return 0;
}

/*  The billing export: per collector, device and day (of the reading's
    time on the collector's clock, UTC), the last meter reading of that
    day, its canonical meters in columns. */
typedef struct {
    zhashx_t *rows; /* "collector\tdevice\tday" -> s_day_t */
    uint64_t readings;
} s_days_t;

typedef struct {
    uint64_t read_ms;
    char address[64], rules[32];
    bool has[ODC_METER_COUNT];
    uint64_t value[ODC_METER_COUNT];
} s_day_t;

static int
s_days_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)key, (void)klen;
    s_days_t *d = arg;
    const char *collector, *batch;
    size_t clen;
    Odc__Envelope *env = s_history_record (value, vlen, &collector, &clen, &batch);
    if (!env || env->body_case != ODC__ENVELOPE__BODY_METERS || !env->meters->header ||
        !env->meters->header->device_id) {
        if (env)
            odc__envelope__free_unpacked (env, NULL);
        return 0;
    }
    const Odc__MeterReading *m = env->meters;
    uint64_t ms = m->header->collector_ms ? m->header->collector_ms : m->header->finished_ms;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    char day[16], row[512];
    strftime (day, sizeof day, "%Y-%m-%d", &tm);
    snprintf (row, sizeof row, "%.*s\t%s\t%s", (int)clen, collector, m->header->device_id, day);
    s_day_t *r = zhashx_lookup (d->rows, row);
    if (!r) {
        r = calloc (1, sizeof *r);
        zhashx_insert (d->rows, row, r);
    }
    if (ms >= r->read_ms) {
        memset (r, 0, sizeof *r);
        r->read_ms = ms;
        snprintf (r->address, sizeof r->address, "%s",
                  m->header->address ? m->header->address : "");
        snprintf (r->rules, sizeof r->rules, "%s", m->rules ? m->rules : "");
        for (size_t i = 0; i < m->n_canonical; i++) {
            int k = odc_meter_of_name (m->canonical[i]->name);
            if (k >= 0) {
                r->has[k] = true;
                r->value[k] = m->canonical[i]->value;
            }
        }
    }
    d->readings++;
    odc__envelope__free_unpacked (env, NULL);
    return 0;
}

static int
s_row_compare (const void *a, const void *b)
{
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static void
s_export_days (odc_store_t *store, FILE *out)
{
    s_days_t d = {zhashx_new (), 0};
    zhashx_set_destructor (d.rows, (zhashx_destructor_fn *)zstr_free);
    odc_store_each (store, ODC_CF_HISTORY, NULL, 0, NULL, 0, s_days_one, &d);
    fputs ("day,collector,device,address,read_at,rules", out);
    for (int k = 0; k < ODC_METER_COUNT; k++)
        fprintf (out, ",%s", odc_meter_names[k]);
    fputc ('\n', out);
    zlistx_t *keys = zhashx_keys (d.rows);
    size_t n = zlistx_size (keys), i = 0;
    char **sorted = malloc ((n ? n : 1) * sizeof *sorted);
    for (char *k = zlistx_first (keys); k; k = zlistx_next (keys))
        sorted[i++] = k;
    qsort (sorted, n, sizeof *sorted, s_row_compare);
    for (i = 0; i < n; i++) {
        const s_day_t *r = zhashx_lookup (d.rows, sorted[i]);
        char collector[256], device[128], day[16];
        if (sscanf (sorted[i], "%255[^\t]\t%127[^\t]\t%15s", collector, device, day) != 3)
            continue;
        time_t t = (time_t)(r->read_ms / 1000);
        struct tm tm;
        gmtime_r (&t, &tm);
        char when[32];
        strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf (out, "%s,%s,", day, collector);
        s_csv_text (out, device);
        fputc (',', out);
        s_csv_text (out, r->address);
        fprintf (out, ",%s,%s", when, r->rules);
        for (int k = 0; k < ODC_METER_COUNT; k++) {
            if (r->has[k])
                fprintf (out, ",%" PRIu64, r->value[k]);
            else
                fputc (',', out);
        }
        fputc ('\n', out);
    }
    fprintf (stderr, "opendca-portal export: %zu device days from %" PRIu64 " meter readings\n", n,
             d.readings);
    free (sorted);
    zlistx_destroy (&keys);
    /*  The rows are s_day_t, freed by the destructor set above (free). */
    zhashx_destroy (&d.rows);
}

static int
s_export (const s_options_t *o)
{
    if (strcmp (o->format, "jsonl") && strcmp (o->format, "csv") && strcmp (o->format, "fields")) {
        fprintf (stderr, "opendca-portal export: --format is jsonl, csv or fields, not '%s'\n",
                 o->format);
        return 2;
    }
    odc_store_t *store = s_store_open (o->store_path, false);
    if (!store)
        return 1;
    if (!strcmp (o->format, "csv")) {
        s_export_days (store, stdout);
        odc_store_close (&store);
        return 0;
    }
    s_export_t e = {o->format, stdout, 0, store, "", 0};
    if (!strcmp (o->format, "fields"))
        puts ("received,collector,batch,kind,device,field,value");
    odc_store_each (store, ODC_CF_HISTORY, NULL, 0, NULL, 0, s_export_one, &e);
    fprintf (stderr, "opendca-portal export: %" PRIu64 " records\n", e.count);
    odc_store_close (&store);
    return 0;
}

/*  fleet: one line per device from the latest of each kind. */
typedef struct {
    char collector[256], device[128];
    char address[64], model[64], serial[64], supplies[240], alerts[200];
    uint64_t pages, mono, colour;
    bool has_pages, has_mono, has_colour;
    size_t devices, collectors;
    char last_collector[256];
} s_fleet_t;

static void
s_fleet_flush (s_fleet_t *f)
{
    if (!f->device[0])
        return;
    if (strcmp (f->collector, f->last_collector)) {
        printf ("\ncollector %s\n", f->collector);
        printf ("  %-22s %-16s %-22s %-14s %10s %10s %10s  %-48s %s\n", "device", "address",
                "model", "serial", "pages", "mono", "colour", "supplies (level, days left)",
                "alerts");
        snprintf (f->last_collector, sizeof f->last_collector, "%s", f->collector);
        f->collectors++;
    }
    char pages[24] = "-", mono[24] = "-", colour[24] = "-";
    if (f->has_pages)
        snprintf (pages, sizeof pages, "%" PRIu64, f->pages);
    if (f->has_mono)
        snprintf (mono, sizeof mono, "%" PRIu64, f->mono);
    if (f->has_colour)
        snprintf (colour, sizeof colour, "%" PRIu64, f->colour);
    printf ("  %-22.22s %-16.16s %-22.22s %-14.14s %10s %10s %10s  %-48.48s %s\n", f->device,
            f->address[0] ? f->address : "-", f->model[0] ? f->model : "-",
            f->serial[0] ? f->serial : "-", pages, mono, colour, f->supplies[0] ? f->supplies : "-",
            f->alerts[0] ? f->alerts : "none");
    f->devices++;
    f->device[0] = f->address[0] = f->model[0] = f->serial[0] = f->supplies[0] = f->alerts[0] = 0;
    f->has_pages = f->has_mono = f->has_colour = false;
}

static int
s_fleet_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_fleet_t *f = arg;
    const char *collector = key;
    size_t clen = strnlen (collector, klen);
    if (clen + 1 >= klen)
        return 0;
    const char *device = collector + clen + 1;
    if (strncmp (collector, f->collector, clen) || f->collector[clen] ||
        strcmp (device, f->device)) {
        s_fleet_flush (f);
        snprintf (f->collector, sizeof f->collector, "%.*s", (int)clen, collector);
        snprintf (f->device, sizeof f->device, "%s", device);
    }
    Odc__Envelope *env = odc__envelope__unpack (NULL, vlen, value);
    if (!env)
        return 0;
    const Odc__ReadingHeader *h = odc_bus_reading_header (env);
    if (h && h->address)
        snprintf (f->address, sizeof f->address, "%s", h->address);
    switch (env->body_case) {
    case ODC__ENVELOPE__BODY_IDENTITY:
        snprintf (f->model, sizeof f->model, "%s %s",
                  env->identity->vendor ? env->identity->vendor : "",
                  env->identity->model ? env->identity->model : "");
        snprintf (f->serial, sizeof f->serial, "%s",
                  env->identity->serial ? env->identity->serial : "");
        break;
    case ODC__ENVELOPE__BODY_METERS: {
        /*  The canonical meters (a reading from before them: the
            Printer-MIB's count). */
        const Odc__CanonicalMeter *total = odc_meters_find (env->meters, "total"),
                                  *mono = odc_meters_find (env->meters, "mono"),
                                  *colour = odc_meters_find (env->meters, "colour");
        for (size_t i = 0; !total && i < env->meters->n_counters; i++)
            if (!strcmp (env->meters->counters[i]->name, "total")) {
                f->pages = env->meters->counters[i]->value;
                f->has_pages = true;
            }
        if (total)
            f->pages = total->value, f->has_pages = true;
        if (mono)
            f->mono = mono->value, f->has_mono = true;
        if (colour)
            f->colour = colour->value, f->has_colour = true;
        break;
    }
    case ODC__ENVELOPE__BODY_SUPPLIES: {
        size_t used = 0;
        for (size_t i = 0; i < env->supplies->n_supplies && used < sizeof f->supplies - 24; i++) {
            const Odc__Supply *s = env->supplies->supplies[i];
            if (s->percent < 0)
                continue;
            /*  Its colour, level and days left (the supplies actor's
                forecast; "-" none: why is in the export). */
            char left[16] = "-";
            if (s->forecast && !(s->forecast->why && *s->forecast->why) &&
                s->forecast->days_left >= 0)
                snprintf (left, sizeof left, "%.0fd", s->forecast->days_left);
            const char *name = s->colour && *s->colour && strcmp (s->colour, "unknown") &&
                                       strcmp (s->colour, "none")
                                   ? s->colour
                               : s->colorant && *s->colorant ? s->colorant
                               : s->kind && *s->kind         ? s->kind
                                                             : "supply";
            used += (size_t)snprintf (f->supplies + used, sizeof f->supplies - used,
                                      "%s%.8s %d%% %s", used ? " " : "", name, s->percent, left);
        }
        break;
    }
    case ODC__ENVELOPE__BODY_ALERTS: {
        const Odc__AlertReading *a = env->alerts;
        size_t used = 0;
        for (size_t i = 0; i < a->n_alerts && used < sizeof f->alerts - 40; i++)
            used += (size_t)snprintf (f->alerts + used, sizeof f->alerts - used, "%s%d %.30s",
                                      used ? "; " : "", a->alerts[i]->code,
                                      a->alerts[i]->description ? a->alerts[i]->description : "");
        if (!a->n_alerts && a->detected_error_state)
            snprintf (f->alerts, sizeof f->alerts, "error bits 0x%04x", a->detected_error_state);
        break;
    }
    default: break;
    }
    odc__envelope__free_unpacked (env, NULL);
    return 0;
}

static int
s_fleet (const s_options_t *o)
{
    odc_store_t *store = s_store_open (o->store_path, false);
    if (!store)
        return 1;
    s_fleet_t *f = calloc (1, sizeof *f);
    odc_store_each (store, ODC_CF_LATEST, NULL, 0, NULL, 0, s_fleet_one, f);
    s_fleet_flush (f);
    size_t len = 0;
    char *next = odc_store_get (store, ODC_CF_META, S_RECEIVED_KEY, strlen (S_RECEIVED_KEY), &len);
    printf ("\n%zu devices from %zu collectors; %s records received in all\n", f->devices,
            f->collectors, next ? next : "0");
    free (next);
    free (f);
    odc_store_close (&store);
    return 0;
}

/* ------------------------------------------------------------------------ */

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: opendca-portal COMMAND [OPTIONS]\n"
                  "\n"
                  "The reference portal receiver of opendca collectors.\n"
                  "\n"
                  "Commands:\n"
                  "  run --store DIR XMPP-OPTIONS     receive batches until SIGINT/SIGTERM\n"
                  "  export --store DIR [--format jsonl|csv|fields]\n"
                  "                                   jsonl: every record received; csv: the\n"
                  "                                   canonical meters, a row per device and\n"
                  "                                   day (a billing import); fields: every\n"
                  "                                   value of every record, a row each\n"
                  "  fleet --store DIR                per collector: devices, pages, supplies, "
                  "alerts\n"
                  "  send XMPP-OPTIONS JID \"COMMAND\"  an IMIL command to a collector; prints the "
                  "answer\n"
                  "  push-devices XMPP-OPTIONS JID FILE.csv   a device list for a collector to\n"
                  "                                   monitor (address[,port[,credential[,asset\n"
                  "                                   number[,location]]]] a line); exit 3 when\n"
                  "                                   lines were bad (the good ones are sent)\n"
                  "  raw XMPP-OPTIONS FILE            send FILE's XML as it is (tests)\n"
                  "\n"
                  "XMPP options:\n"
                  "  --jid JID                        the portal's account\n"
                  "  --password PW | --password-file F\n"
                  "  --host HOST                      the server (default: the JID's domain)\n"
                  "  --port N                         default 5222\n"
                  "  --ca-file FILE                   CA of the server's certificate (plus the "
                  "system's)\n"
                  "  --timeout S                      send: wait this long for the answer (default "
                  "20)\n"
                  "\n"
                  "Exit codes: 0 success, 1 runtime failure, 2 usage error.\n");
}

static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    rewind (f);
    char *text = malloc ((size_t)size + 1);
    size_t n = fread (text, 1, (size_t)size, f);
    text[n] = 0;
    fclose (f);
    return text;
}

int
main (int argc, char **argv)
{
    s_options_t o = {.port = 5222, .format = "jsonl"};
    double timeout = 20;
    char *password_file_text = NULL;
    static const struct option options[] = {
        {"jid", 1, 0, 'j'},
        {"password", 1, 0, 'p'},
        {"password-file", 1, 0, 'P'},
        {"host", 1, 0, 'H'},
        {"port", 1, 0, 'o'},
        {"ca-file", 1, 0, 'C'},
        {"store", 1, 0, 's'},
        {"format", 1, 0, 'f'},
        {"timeout", 1, 0, 't'},
        {"help", 0, 0, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2 || !strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    optind = 2;
    signal (SIGPIPE, SIG_IGN); /* a server that goes away: EPIPE, not the end */
    sigemptyset (&s_stop_signals);
    sigaddset (&s_stop_signals, SIGINT);
    sigaddset (&s_stop_signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &s_stop_signals, NULL);
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'j': o.jid = optarg; break;
        case 'p': o.password = optarg; break;
        case 'P':
            free (password_file_text);
            password_file_text = s_read_file (optarg);
            if (!password_file_text) {
                fprintf (stderr, "opendca-portal: cannot read %s\n", optarg);
                return 2;
            }
            password_file_text[strcspn (password_file_text, "\r\n")] = 0;
            o.password = password_file_text;
            break;
        case 'H': o.host = optarg; break;
        case 'o': o.port = atoi (optarg); break;
        case 'C': o.ca_file = optarg; break;
        case 's': o.store_path = optarg; break;
        case 'f': o.format = optarg; break;
        case 't': timeout = atof (optarg); break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    int rc = 2;
    bool xmpp = !strcmp (command, "run") || !strcmp (command, "send") || !strcmp (command, "raw") ||
                !strcmp (command, "push-devices");
    if (xmpp && (!o.jid || !o.password || o.port <= 0 || o.port > 65535))
        fprintf (stderr, "opendca-portal %s: needs --jid and --password (or --password-file)\n",
                 command);
    else if (!strcmp (command, "run")) {
        if (!o.store_path || optind != argc)
            fprintf (stderr, "opendca-portal run: needs --store DIR\n");
        else {
            xmpp_initialize ();
            rc = s_run (&o);
            xmpp_shutdown ();
        }
    }
    else if (!strcmp (command, "send") || !strcmp (command, "raw")) {
        bool raw = !strcmp (command, "raw");
        if (optind + (raw ? 1 : 2) != argc)
            fprintf (stderr, "opendca-portal %s: usage: opendca-portal %s XMPP-OPTIONS %s\n",
                     command, command, raw ? "FILE" : "JID \"COMMAND\"");
        else {
            char *text = raw ? s_read_file (argv[optind]) : strdup (argv[optind + 1]);
            if (!text)
                fprintf (stderr, "opendca-portal raw: cannot read %s\n", argv[optind]);
            else {
                xmpp_initialize ();
                rc = s_send (&o, raw ? "" : argv[optind], text, raw, timeout);
                xmpp_shutdown ();
            }
            free (text);
        }
    }
    else if (!strcmp (command, "push-devices")) {
        if (optind + 2 != argc)
            fprintf (stderr, "opendca-portal push-devices: usage: opendca-portal push-devices "
                             "XMPP-OPTIONS JID FILE.csv\n");
        else {
            xmpp_initialize ();
            rc = s_push_devices (&o, argv[optind], argv[optind + 1], timeout);
            xmpp_shutdown ();
        }
    }
    else if (!strcmp (command, "export") || !strcmp (command, "fleet")) {
        if (!o.store_path || optind != argc)
            fprintf (stderr, "opendca-portal %s: needs --store DIR\n", command);
        else
            rc = !strcmp (command, "export") ? s_export (&o) : s_fleet (&o);
    }
    else
        fprintf (stderr, "opendca-portal: unknown command '%s' (see --help)\n", command);
    free (password_file_text);
    return rc;
}
