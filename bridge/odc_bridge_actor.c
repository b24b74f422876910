/*  odc_bridge_actor: see odc_bridge_actor.h. */
#include "odc_bridge_actor.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/rand.h>
#include <strophe.h>
#include <signal.h>
#include <sys/select.h>
#include <unistd.h>

#include "odc_bus.h"
#include "odc_devices.h"
#include "odc_imil.h"
#include "odc_log.h"
#include "odc_status.h"
#include "odc_supervisor.h"
#include "odc_xml.h"

#define S_WINDOW       8
#define S_BACKOFF_MIN  1.0
#define S_BACKOFF_MAX  300.0
#define S_REJECT_PAUSE 60.0 /* s before a batch the portal refused is sent again */
#define S_AWAY_PAUSE   2.0  /* the portal not online: again after 2 s, doubling to S_REJECT_PAUSE */
#define S_INSTANCE_KEY "outbox/instance"

typedef struct {
    int priority;
    uint64_t seq;
    char id[48];
    double refused_until; /* the portal answered an error: not before this */
    int refusals;         /* in a row */
    bool acked;
} s_flight_t;

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
    odc_imil_t imil;
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    xmpp_log_t log;
    enum { S_IDLE, S_CONNECTING, S_ONLINE } state;
    size_t port_index;
    double retry_at, backoff;
    s_flight_t flights[S_WINDOW];
    size_t n_flights;
    char instance[17];
    char peer[512];  /* the portal's full JID */
    uint64_t looked; /* the outbox's count and sheds at the last look (s_pump) */
    uint64_t bytes_plain, bytes_wire;
    odc_portal_status_t status;
} s_self_t;

/*  The certificate-failure handler has no argument: the bridge's thread
    finds its state here. */
static __thread s_self_t *s_current;

static void
s_publish (s_self_t *self)
{
    odc_status_portal_set (&self->status);
}

static void
s_set_error (s_self_t *self, const char *format, ...)
{
    va_list ap;
    va_start (ap, format);
    vsnprintf (self->status.last_error, sizeof self->status.last_error, format, ap);
    va_end (ap);
    s_publish (self);
}

/*  libstrophe's log: its warnings and errors into ours. */
static void
s_strophe_log (void *arg, xmpp_log_level_t level, const char *area, const char *msg)
{
    (void)arg;
    if (level >= XMPP_LEVEL_ERROR)
        odc_warn (NULL, "xmpp %s: %s", area, msg);
    else if (level >= XMPP_LEVEL_WARN)
        odc_info (NULL, "xmpp %s: %s", area, msg);
}

static int
s_certfail (const xmpp_tlscert_t *cert, const char *const errormsg)
{
    (void)cert;
    odc_error (NULL, "portal server's certificate refused: %s", errormsg ? errormsg : "not valid");
    if (s_current)
        s_set_error (s_current, "certificate refused: %s", errormsg ? errormsg : "not valid");
    return 0; /* never accept */
}

/*  libstrophe waits on its socket with select(). */
static int
s_sockopt (xmpp_conn_t *conn, void *sock)
{
    int fd = *(int *)sock;
    if (fd >= FD_SETSIZE) {
        odc_error (NULL, "XMPP socket got descriptor %d, past select()'s %d: not used", fd,
                   FD_SETSIZE);
        return -1;
    }
    return xmpp_sockopt_cb_keepalive (conn, sock);
}

/* ------------------------------------------------------------------------
   Sending */

static s_flight_t *
s_flight (s_self_t *self, int priority, uint64_t seq)
{
    for (size_t i = 0; i < self->n_flights; i++)
        if (self->flights[i].priority == priority && self->flights[i].seq == seq)
            return &self->flights[i];
    return NULL;
}

static void
s_flight_remove (s_self_t *self, s_flight_t *f)
{
    *f = self->flights[--self->n_flights];
}

/*  Send what the window has room for, in delivery order. */
static void
s_pump (s_self_t *self)
{
    if (self->state != S_ONLINE || self->n_flights >= S_WINDOW)
        return;
    double now = odc_wall_s ();
    /*  Nothing added, acknowledged or shed since the last look, and no
        refused batch due again: the records need not be read again. */
    uint64_t state = odc_outbox_count (self->outbox) + (odc_outbox_shed (self->outbox) << 32);
    bool due = false;
    for (size_t i = 0; i < self->n_flights; i++)
        due |= self->flights[i].refused_until > 0 && self->flights[i].refused_until <= now;
    if (state == self->looked && !due)
        return;
    self->looked = state;
    size_t free_slots = S_WINDOW - self->n_flights;
    Odc__OutboxRecord *records[2 * S_WINDOW];
    size_t n = odc_outbox_peek (self->outbox, 0, 0, records, self->n_flights + free_slots);
    for (size_t i = 0; i < n && self->n_flights < S_WINDOW; i++) {
        Odc__OutboxRecord *r = records[i];
        s_flight_t *f = s_flight (self, r->priority, r->seq);
        if (f && (f->refused_until == 0 || f->refused_until > now))
            continue; /* in flight */
        size_t plain = 0, wire = 0;
        xmpp_stanza_t *batch =
            odc_xml_batch (self->ctx, r, self->config->portal_compress, &plain, &wire);
        if (!batch) {
            odc_error (NULL, "outbox record %d/%" PRIu64 " does not unpack: dropped", r->priority,
                       r->seq);
            odc_outbox_ack (self->outbox, r->priority, r->seq);
            continue;
        }
        if (!f) {
            f = &self->flights[self->n_flights++];
            memset (f, 0, sizeof *f);
            f->priority = r->priority;
            f->seq = r->seq;
            snprintf (f->id, sizeof f->id, "%s-%d-%" PRIu64, self->instance, r->priority, r->seq);
        }
        f->refused_until = 0;
        xmpp_stanza_t *iq = xmpp_iq_new (self->ctx, "set", f->id);
        xmpp_stanza_set_to (iq, self->peer);
        xmpp_stanza_add_child_ex (iq, batch, 0);
        xmpp_send (self->conn, iq);
        xmpp_stanza_release (iq);
        self->status.sent++;
        self->bytes_plain += plain;
        self->bytes_wire += wire;
        odc_debug (NULL, "sent %s: %s, %zu bytes of XML as %zu", f->id, r->kind, plain, wire);
    }
    odc_outbox_records_free (records, n);
    s_publish (self);
}

/* ------------------------------------------------------------------------
   Receiving */

static bool s_trusted (s_self_t *self, const char *bare);

/*  A device list from the portal: <devices xmlns=ODC_XML_NS><device
    address= port= credential= asset_number= location=/>...</devices>. The
    good entries replace the previous list from the portal (store/
    odc_devices.h, source "portal"), the bad are named in the answer
    <pushed taken= refused=><refused address= reason=/>...</pushed>; the
    loops take the new list at their next pass (through a reload, as on
    SIGHUP). */
static void
s_push_devices (s_self_t *self, xmpp_conn_t *conn, xmpp_stanza_t *iq, xmpp_stanza_t *list,
                const char *from)
{
    size_t n = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children (list); c; c = xmpp_stanza_get_next (c))
        n += xmpp_stanza_is_tag (c) ? 1 : 0;
    xmpp_stanza_t *reply = xmpp_stanza_reply (iq);
    xmpp_stanza_set_type (reply, "result");
    xmpp_stanza_t *pushed = xmpp_stanza_new (self->ctx);
    xmpp_stanza_set_name (pushed, "pushed");
    xmpp_stanza_set_ns (pushed, ODC_XML_NS);
    if (n > ODC_XML_DEVICES_MAX) {
        xmpp_stanza_release (pushed);
        xmpp_stanza_release (reply);
        reply = xmpp_stanza_reply_error (iq, "modify", "policy-violation",
                                         "too many devices in one list");
        xmpp_send (conn, reply);
        xmpp_stanza_release (reply);
        return;
    }
    odc_device_config_t *devices = calloc (n ? n : 1, sizeof *devices);
    size_t taken = 0, refused = 0;
    const char *fallback =
        self->config->credential_count ? self->config->credentials[0].name : NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children (list); c; c = xmpp_stanza_get_next (c)) {
        if (!xmpp_stanza_is_tag (c))
            continue;
        const char *address = xmpp_stanza_get_attribute (c, "address");
        const char *port = xmpp_stanza_get_attribute (c, "port");
        const char *credential = xmpp_stanza_get_attribute (c, "credential");
        char *end = NULL;
        long p = port ? strtol (port, &end, 10) : 0;
        const char *reason = NULL;
        if (strcmp (xmpp_stanza_get_name (c), "device"))
            reason = "not a <device>";
        else if (!address || !odc_config_address_ok (address))
            reason = "no valid address";
        else if (port && (!*port || *end || p < 1 || p > 65535))
            reason = "port is not a number 1-65535";
        else if (credential && !odc_config_credential (self->config, credential))
            reason = "no such credential in the collector's configuration";
        else if (!credential && !fallback)
            reason = "no credential given, and the configuration has none";
        if (reason) {
            xmpp_stanza_t *r = xmpp_stanza_new (self->ctx);
            xmpp_stanza_set_name (r, "refused");
            char *clean = address ? odc_xml_clean (address, strnlen (address, 64)) : strdup ("");
            xmpp_stanza_set_attribute (r, "address", clean);
            free (clean);
            xmpp_stanza_set_attribute (r, "reason", reason);
            xmpp_stanza_add_child_ex (pushed, r, 0);
            refused++;
            continue;
        }
        odc_device_config_t *d = &devices[taken++];
        d->address = (char *)address;
        d->port = (int)p;
        d->credential = (char *)(credential ? credential : fallback);
        d->asset_number = (char *)xmpp_stanza_get_attribute (c, "asset_number");
        d->location = (char *)xmpp_stanza_get_attribute (c, "location");
    }
    size_t added = 0, removed = 0;
    long rc =
        odc_devices_sync (self->store, "portal", devices, taken, self->config, &added, &removed);
    free (devices);
    char num[24];
    snprintf (num, sizeof num, "%zu", rc < 0 ? 0 : taken);
    xmpp_stanza_set_attribute (pushed, "taken", num);
    snprintf (num, sizeof num, "%zu", refused);
    xmpp_stanza_set_attribute (pushed, "refused", num);
    if (rc < 0) {
        xmpp_stanza_release (pushed);
        xmpp_stanza_release (reply);
        reply = xmpp_stanza_reply_error (iq, "wait", "internal-server-error",
                                         "the store refused the list");
    }
    else
        xmpp_stanza_add_child_ex (reply, pushed, 0);
    xmpp_send (conn, reply);
    xmpp_stanza_release (reply);
    odc_info (NULL, "device list from %s: %zu taken (%zu new, %zu removed), %zu refused%s", from,
              taken, added, removed, refused, rc < 0 ? "; the store refused it" : "");
    /*  The loops read the device family when a configuration arrives:
        the same path as SIGHUP. */
    if (rc >= 0 && (added || removed))
        kill (getpid (), SIGHUP);
}

static int
s_on_iq (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    s_self_t *self = arg;
    const char *type = xmpp_stanza_get_type (stanza), *id = xmpp_stanza_get_id (stanza);
    if (!type)
        return 1;
    if (!strcmp (type, "result") || !strcmp (type, "error")) {
        int priority = 0;
        uint64_t seq = 0;
        char instance[17] = "";
        if (!id || sscanf (id, "%16[0-9a-f]-%d-%" SCNu64, instance, &priority, &seq) != 3 ||
            strcmp (instance, self->instance))
            return 1; /* not ours */
        s_flight_t *f = s_flight (self, priority, seq);
        if (!strcmp (type, "result")) {
            odc_outbox_ack (self->outbox, priority, seq);
            if (f)
                s_flight_remove (self, f);
            self->status.acked++;
            s_publish (self);
            s_pump (self);
        }
        else {
            /*  The condition (service-unavailable: the portal is not
                online) and the text, when given. */
            xmpp_stanza_t *error = xmpp_stanza_get_child_by_name (stanza, "error");
            xmpp_stanza_t *text = error ? xmpp_stanza_get_child_by_name (error, "text") : NULL;
            const char *condition = NULL;
            for (xmpp_stanza_t *c = error ? xmpp_stanza_get_children (error) : NULL; c;
                 c = xmpp_stanza_get_next (c))
                if (xmpp_stanza_is_tag (c) && strcmp (xmpp_stanza_get_name (c), "text"))
                    condition = xmpp_stanza_get_name (c);
            char *reason = text ? xmpp_stanza_get_text (text) : NULL;
            /*  The portal away (the server answers for it): soon again,
                backing off; a refusal by the portal itself: in a minute. */
            bool away = condition && !strcmp (condition, "service-unavailable");
            int refusals = f ? ++f->refusals : 1;
            double pause =
                away ? fmin (S_AWAY_PAUSE * pow (2, refusals - 1), S_REJECT_PAUSE) : S_REJECT_PAUSE;
            if (away && refusals > 1)
                odc_debug (NULL, "batch %s: %s still not online; again in %.0f s", id, self->peer,
                           pause);
            else
                odc_error (NULL, "batch %s not taken by %s: %s%s%s; sent again in %.0f s", id,
                           self->peer, condition ? condition : "error", reason ? ": " : "",
                           reason ? reason : "", pause);
            if (reason)
                xmpp_free (self->ctx, reason);
            if (f)
                f->refused_until = odc_wall_s () + pause;
        }
        return 1;
    }
    /*  A request to us: a device list from a trusted JID, and ping. */
    if (!strcmp (type, "get") || !strcmp (type, "set")) {
        xmpp_stanza_t *reply;
        xmpp_stanza_t *list = xmpp_stanza_get_child_by_name (stanza, "devices");
        const char *from = xmpp_stanza_get_from (stanza);
        char *bare = from ? xmpp_jid_bare (self->ctx, from) : NULL;
        bool trusted = bare && s_trusted (self, bare);
        if (bare)
            xmpp_free (self->ctx, bare);
        if (!strcmp (type, "set") && list && xmpp_stanza_get_ns (list) &&
            !strcmp (xmpp_stanza_get_ns (list), ODC_XML_NS) && trusted) {
            s_push_devices (self, conn, stanza, list, from);
            return 1;
        }
        if (list && !trusted)
            odc_warn (NULL, "ignored a device list from %.80s: not a trusted JID",
                      from ? from : "?");
        if (!strcmp (type, "get") && xmpp_stanza_get_child_by_ns (stanza, "urn:xmpp:ping"))
            reply = xmpp_stanza_reply (stanza);
        else
            reply = xmpp_stanza_reply_error (stanza, "cancel", "service-unavailable", NULL);
        if (reply) {
            xmpp_send (conn, reply);
            xmpp_stanza_release (reply);
        }
    }
    return 1;
}

/*  The portal says it is online (it tells the collectors it knows when it
    logs in): what it refused while away goes at once. */
static int
s_on_presence (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    (void)conn;
    s_self_t *self = arg;
    const char *from = xmpp_stanza_get_from (stanza), *type = xmpp_stanza_get_type (stanza);
    if (!from || type || strcasecmp (from, self->peer))
        return 1; /* not the portal, or not "available" */
    size_t waiting = 0;
    for (size_t i = 0; i < self->n_flights; i++)
        if (self->flights[i].refused_until) {
            self->flights[i].refused_until = odc_wall_s ();
            self->flights[i].refusals = 0;
            waiting++;
        }
    odc_info (NULL, "%s is online; %zu refused batches go again now", from, waiting);
    s_pump (self);
    return 1;
}

static bool
s_trusted (s_self_t *self, const char *bare)
{
    for (size_t i = 0; i < self->config->portal_trusted_count; i++)
        if (!strcasecmp (self->config->portal_trusted[i], bare))
            return true;
    return false;
}

static int
s_on_message (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    s_self_t *self = arg;
    const char *type = xmpp_stanza_get_type (stanza), *from = xmpp_stanza_get_from (stanza);
    if ((type && strcmp (type, "chat") && strcmp (type, "normal")) || !from)
        return 1; /* errors, groupchat, headlines */
    char *body = xmpp_message_get_body (stanza);
    if (!body)
        return 1; /* chat states and the like */
    char *bare = xmpp_jid_bare (self->ctx, from);
    if (!bare || !s_trusted (self, bare)) {
        odc_warn (NULL, "ignored a command from %.80s: not a trusted JID (portal.trusted)", from);
    }
    else {
        int status = 0;
        char *reply = odc_imil_run (&self->imil, body, &status);
        odc_info (NULL, "command from %s: '%.80s': %s", from, body,
                  status == 0   ? "done"
                  : status == 1 ? "not understood"
                                : "not done");
        xmpp_stanza_t *msg = xmpp_message_new (self->ctx, "chat", from, NULL);
        xmpp_message_set_body (msg, reply);
        const char *thread_id = xmpp_stanza_get_id (stanza);
        if (thread_id)
            xmpp_stanza_set_attribute (msg, "id", thread_id);
        xmpp_send (conn, msg);
        xmpp_stanza_release (msg);
        free (reply);
    }
    if (bare)
        xmpp_free (self->ctx, bare);
    xmpp_free (self->ctx, body);
    return 1;
}

/* ------------------------------------------------------------------------
   The connection */

static void s_connect (s_self_t *self);

static void
s_on_conn (xmpp_conn_t *conn, xmpp_conn_event_t event, int error, xmpp_stream_error_t *stream_error,
           void *arg)
{
    s_self_t *self = arg;
    int port = self->config->portal_ports[self->port_index];
    if (event == XMPP_CONN_CONNECT) {
        self->state = S_ONLINE;
        self->backoff = 0;
        self->n_flights = 0; /* what was not acknowledged goes again */
        self->looked = UINT64_MAX;
        self->status.connected = true;
        self->status.port = port;
        self->status.since = odc_wall_s ();
        self->status.last_error[0] = 0;
        s_publish (self);
        odc_info (NULL,
                  "connected to the portal's server as %s on port %d (TLS %s); %llu records "
                  "waiting",
                  xmpp_conn_get_bound_jid (conn), port, xmpp_conn_is_secured (conn) ? "on" : "OFF",
                  (unsigned long long)odc_outbox_count (self->outbox));
        xmpp_handler_delete (conn, s_on_iq);
        xmpp_handler_delete (conn, s_on_message);
        xmpp_handler_delete (conn, s_on_presence);
        xmpp_handler_add (conn, s_on_presence, NULL, "presence", NULL, self);
        xmpp_handler_add (conn, s_on_iq, NULL, "iq", NULL, self);
        xmpp_handler_add (conn, s_on_message, NULL, "message", NULL, self);
        xmpp_stanza_t *presence = xmpp_presence_new (self->ctx);
        xmpp_send (conn, presence);
        xmpp_stanza_release (presence);
        s_pump (self);
        return;
    }
    if (event == XMPP_CONN_RAW_CONNECT)
        return;
    bool was_online = self->state == S_ONLINE;
    self->state = S_IDLE;
    self->status.connected = false;
    self->status.port = 0;
    self->status.since = odc_wall_s ();
    char reason[160];
    if (stream_error && stream_error->text)
        snprintf (reason, sizeof reason, "stream error: %s", stream_error->text);
    else if (stream_error)
        snprintf (reason, sizeof reason, "stream error %d", (int)stream_error->type);
    else if (error)
        snprintf (reason, sizeof reason, "%s", strerror (error));
    else
        snprintf (reason, sizeof reason, "%s",
                  was_online ? "connection closed"
                             : "no XMPP session (connection refused, TLS or login failed)");
    if (!self->status.last_error[0] || was_online)
        s_set_error (self, "port %d: %s", port, reason);
    if (was_online) {
        odc_warn (NULL, "lost the portal's server on port %d: %s; reconnecting", port, reason);
        self->retry_at = odc_wall_s () + S_BACKOFF_MIN;
        return;
    }
    odc_warn (NULL, "could not connect to the portal's server %s port %d: %s",
              self->config->portal_host ? self->config->portal_host : "(the JID's domain)", port,
              reason);
    /*  The next port at once; after the last, back off. */
    if (self->port_index + 1 < self->config->portal_port_count) {
        self->port_index++;
        self->retry_at = 0;
        return;
    }
    self->port_index = 0;
    self->backoff = self->backoff ? fmin (self->backoff * 2, S_BACKOFF_MAX) : S_BACKOFF_MIN;
    double jitter = 0.75 + 0.5 * (double)random () / (double)RAND_MAX;
    self->retry_at = odc_wall_s () + self->backoff * jitter;
    odc_info (NULL, "next try in %.1f s", self->backoff * jitter);
}

static void
s_connect (s_self_t *self)
{
    int port = self->config->portal_ports[self->port_index];
    self->state = S_CONNECTING;
    if (xmpp_connect_client (self->conn, self->config->portal_host, (unsigned short)port, s_on_conn,
                             self) != XMPP_EOK)
        s_on_conn (self->conn, XMPP_CONN_FAIL, ECONNREFUSED, NULL, self);
}

/*  The number that tells this store's records from another's. */
static void
s_instance (s_self_t *self)
{
    size_t len = 0;
    char *known =
        odc_store_get (self->store, ODC_CF_META, S_INSTANCE_KEY, strlen (S_INSTANCE_KEY), &len);
    if (known && len == 16) {
        memcpy (self->instance, known, 16);
        self->instance[16] = 0;
    }
    else {
        uint8_t r[8];
        if (RAND_bytes (r, sizeof r) != 1)
            for (size_t i = 0; i < sizeof r; i++)
                r[i] = (uint8_t)random ();
        for (size_t i = 0; i < 8; i++)
            sprintf (self->instance + 2 * i, "%02x", r[i]);
        odc_store_put (self->store, ODC_CF_META, S_INSTANCE_KEY, strlen (S_INSTANCE_KEY),
                       self->instance, 16);
    }
    free (known);
}

/*  Batches go to the portal receiver's full JID: an iq to a bare JID is
    answered by the server itself. */
static void
s_set_peer (s_self_t *self)
{
    const char *peer = self->config->portal_peer ? self->config->portal_peer : "";
    snprintf (self->peer, sizeof self->peer, "%s%s", peer,
              strchr (peer, '/') ? "" : "/" ODC_PORTAL_RESOURCE);
}

static void
s_take_config (void *config, void *arg)
{
    s_self_t *self = arg;
    odc_config_t *old = (odc_config_t *)self->config;
    self->config = odc_config_ref (config);
    self->imil.config = self->config;
    s_set_peer (self);
    if (self->port_index >= self->config->portal_port_count)
        self->port_index = 0;
    odc_config_destroy (&old);
}

void
odc_bridge_actor (zsock_t *pipe, void *args)
{
    odc_bridge_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    s_current = self;
    self->config = odc_config_ref (a->config);
    self->store = a->store;
    self->outbox = a->outbox;
    s_instance (self);
    s_set_peer (self);
    self->imil = (odc_imil_t){self->config,
                              a->store,
                              a->outbox,
                              odc_bus_push_connect (ODC_EP_UPLOAD, 0),
                              odc_bus_push_connect (ODC_EP_REGISTRY, 0),
                              odc_bus_push_connect (ODC_EP_DISCOVERY, 0)};
    self->log = (xmpp_log_t){s_strophe_log, self};
    self->ctx = xmpp_ctx_new (NULL, &self->log);
    self->conn = self->ctx ? xmpp_conn_new (self->ctx) : NULL;
    bool ok = self->conn && self->imil.upload;
    if (ok) {
        /*  Stream management (XEP-0198) off: delivery is ours (iq + result
            per batch, resent after a reconnect), and libstrophe 0.12 leaks
            the stream id when it resumes after a lost connection. */
        xmpp_conn_set_flags (self->conn, XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM);
        char jid[600];
        snprintf (jid, sizeof jid, "%s%s", self->config->portal_jid,
                  strchr (self->config->portal_jid, '/') ? "" : "/" ODC_COLLECTOR_RESOURCE);
        xmpp_conn_set_jid (self->conn, jid);
        xmpp_conn_set_pass (self->conn,
                            self->config->portal_password ? self->config->portal_password : "");
        if (self->config->portal_ca_file)
            xmpp_conn_set_cafile (self->conn, self->config->portal_ca_file);
        xmpp_conn_set_certfail_handler (self->conn, s_certfail);
        xmpp_conn_set_sockopt_callback (self->conn, s_sockopt);
    }
    odc_actor_ready (pipe, ok);
    s_publish (self);
    zmq_pollitem_t items[1] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0}};
    double last_pump = 0;
    while (ok) {
        double now = odc_wall_s ();
        if (self->state == S_IDLE && now >= self->retry_at)
            s_connect (self);
        xmpp_run_once (self->ctx, 50);
        if (zmq_poll (items, 1, 0) > 0 && odc_actor_pipe (pipe, s_take_config, self))
            break;
        /*  New records: look every 100 ms (acks pump at once). */
        if (now - last_pump >= 0.1) {
            s_pump (self);
            last_pump = now;
        }
    }
    if (ok && self->state != S_IDLE) {
        xmpp_disconnect (self->conn);
        for (int i = 0; i < 20 && self->state != S_IDLE; i++)
            xmpp_run_once (self->ctx, 50);
    }
    if (!ok)
        while (!odc_actor_pipe (pipe, NULL, NULL))
            ;
    odc_info (NULL,
              "bridge stops: %llu batches sent, %llu acknowledged; XML %llu bytes, sent as "
              "%llu",
              (unsigned long long)self->status.sent, (unsigned long long)self->status.acked,
              (unsigned long long)self->bytes_plain, (unsigned long long)self->bytes_wire);
    self->status.connected = false;
    s_publish (self);
    if (self->conn)
        xmpp_conn_release (self->conn);
    if (self->ctx)
        xmpp_ctx_free (self->ctx);
    zsock_destroy (&self->imil.upload);
    zsock_destroy (&self->imil.registry);
    zsock_destroy (&self->imil.discovery);
    odc_config_t *config = (odc_config_t *)self->config;
    odc_config_destroy (&config);
    s_current = NULL;
    free (self);
}
