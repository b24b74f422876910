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
/*  s a batch waits for its answer before it goes again: a portal that hung
    or died with it in hand never answers, and its slot must come back. The
    portal stores a batch in well under a second; the margin is for loaded
    machines. A late answer to the first copy is harmless (the portal drops
    the second, an ack is idempotent). */
#define S_ANSWER_WAIT 20.0
/*  The portal itself refused a batch this many times in a row (it cannot
    take it, and says so with a modify or cancel error): the batch is set
    aside with the portal's reason instead of holding a slot for ever. */
#define S_REFUSALS_MAX 3
/*  Room for the iq around a batch (type, id, to, and the batch element's
    own attributes) within ODC_XML_STANZA_MAX. */
#define S_IQ_ROOM      1024
#define S_INSTANCE_KEY "outbox/instance"

/*  A batch sent and not yet answered with a result. again: when it goes
    again unless answered (the answer's deadline, or the pause after a
    refusal). */
typedef struct {
    int priority;
    uint64_t seq;
    char id[48];
    double again;
    bool refused;  /* the last answer was an error */
    int refusals;  /* in a row */
    int portal_no; /* of them, by the portal itself (not "away") */
} s_flight_t;

/*  What "status" tells of the portal link (sent as a PortalStatus). */
typedef struct {
    bool connected;
    int port;             /* the port that works, 0 while not connected */
    double since;         /* when it connected or lost the connection */
    uint64_t sent, acked; /* batches since the start */
    char last_error[160];
    /*  Answers to our batch ids that did not come from the portal
        (ignored); readings set aside because no stanza can carry them,
        with the last reason. */
    uint64_t forged, refused;
    char last_refusal[160];
} s_status_t;

/*  A device list from the portal with the registry (by way of the commands
    actor): its answer waits for the registry's. */
#define S_PUSHES_MAX 4
typedef struct {
    char id[48];          /* the command's id */
    xmpp_stanza_t *iq;    /* the portal's iq (a reference) */
    xmpp_stanza_t *reply; /* the result, with its <pushed> */
} s_push_t;

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
    zsock_t *commands;    /* PUSH: the portal's commands, to the commands actor */
    zsock_t *replies;     /* PULL: their replies */
    zsock_t *grew;        /* PULL: the outbox grew (ODC_EP_OUTBOX) */
    zsock_t *status_push; /* PUSH: our status, to its keeper */
    s_push_t pushes[S_PUSHES_MAX];
    uint64_t pushed; /* device lists taken, for their ids */
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
    s_status_t status;
} s_self_t;

/*  The certificate-failure handler has no argument: the bridge's thread
    finds its state here. */
static __thread s_self_t *s_current;

static void
s_publish (s_self_t *self)
{
    const s_status_t *st = &self->status;
    Odc__PortalStatus ps = ODC__PORTAL_STATUS__INIT;
    ps.connected = st->connected;
    ps.port = st->port;
    ps.since = st->since;
    ps.sent = st->sent;
    ps.acked = st->acked;
    ps.last_error = (char *)st->last_error;
    ps.forged = st->forged;
    ps.refused = st->refused;
    ps.last_refusal = (char *)st->last_refusal;
    odc_status_send (self->status_push, &ps.base);
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

static void s_refusal (s_self_t *self, uint64_t readings, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Readings set aside (never sent): counted and said in status. */
static void
s_refusal (s_self_t *self, uint64_t readings, const char *format, ...)
{
    va_list ap;
    va_start (ap, format);
    vsnprintf (self->status.last_refusal, sizeof self->status.last_refusal, format, ap);
    va_end (ap);
    self->status.refused += readings;
    s_publish (self);
}

/*  A record that cannot go as one batch (too big for a stanza, or a
    reading the XML writer cannot write): one of several readings is split
    in two halves, each its own record (one synced write: nothing lost,
    nothing twice), so the others still go and the bad one ends alone; a
    single reading is taken out of the outbox and kept with its reason
    (odc_outbox_replace). Either way it holds no slot and is never sent
    again as it was. */
static void
s_set_aside (s_self_t *self, const Odc__OutboxRecord *r, const char *why)
{
    Odc__Batch *batch = odc__batch__unpack (NULL, r->payload.len, r->payload.data);
    size_t n = batch ? batch->n_items : 0;
    uint64_t first = 0;
    if (n > 1) {
        ProtobufCBinaryData halves[2];
        Odc__Batch half[2] = {ODC__BATCH__INIT, ODC__BATCH__INIT};
        half[0].n_items = n / 2;
        half[0].items = batch->items;
        half[1].n_items = n - n / 2;
        half[1].items = batch->items + n / 2;
        for (int i = 0; i < 2; i++) {
            halves[i].len = odc__batch__get_packed_size (&half[i]);
            halves[i].data = malloc (halves[i].len ? halves[i].len : 1);
            odc__batch__pack (&half[i], halves[i].data);
        }
        int rc = odc_outbox_replace (self->outbox, r->priority, r->seq, halves, 2, NULL, &first);
        if (rc == 1)
            odc_warn (NULL,
                      "outbox record %d-%" PRIu64 " (%zu %s readings): %s; split into records "
                      "%d-%" PRIu64 " (%zu) and %d-%" PRIu64 " (%zu)",
                      r->priority, r->seq, n, r->kind, why, r->priority, first, n / 2, r->priority,
                      first + 1, n - n / 2);
        else if (rc < 0)
            odc_error (NULL, "outbox record %d-%" PRIu64 ": %s; the store refused its split",
                       r->priority, r->seq, why);
        free (halves[0].data);
        free (halves[1].data);
    }
    else {
        int rc = odc_outbox_replace (self->outbox, r->priority, r->seq, NULL, 0, why, NULL);
        if (rc == 1) {
            odc_error (NULL,
                       "outbox record %d-%" PRIu64 " (%zu %s reading%s) refused: %s; moved out "
                       "of the outbox (kept under meta %s)",
                       r->priority, r->seq, n, r->kind, n == 1 ? "" : "s", why,
                       ODC_OUTBOX_REFUSED_PREFIX);
            s_refusal (self, n ? n : 1, "%d-%" PRIu64 " %s: %s", r->priority, r->seq, r->kind, why);
        }
        else if (rc < 0)
            odc_error (NULL, "outbox record %d-%" PRIu64 ": %s; the store refused to move it",
                       r->priority, r->seq, why);
    }
    if (batch)
        odc__batch__free_unpacked (batch, NULL);
    self->looked = UINT64_MAX;
}

/*  Send record r as flight f (new or again). false when it cannot go as
    one stanza: it was split or set aside (s_set_aside), and f, if any, is
    to be dropped. */
static bool
s_send (s_self_t *self, const Odc__OutboxRecord *r, s_flight_t *f)
{
    size_t plain = 0, wire = 0;
    char *err = NULL;
    xmpp_stanza_t *batch =
        odc_xml_batch (self->ctx, r, self->config->portal_compress, &plain, &wire, &err);
    if (batch && wire + S_IQ_ROOM > ODC_XML_STANZA_MAX) {
        xmpp_stanza_release (batch);
        batch = NULL;
        if (asprintf (&err, "%zu bytes of XML, %zu on the wire: more than one stanza carries (%u)",
                      plain, wire, ODC_XML_STANZA_MAX) < 0)
            err = NULL;
    }
    if (!batch) {
        s_set_aside (self, r, err ? err : "cannot be written as XML");
        free (err);
        return false;
    }
    xmpp_stanza_t *iq = xmpp_iq_new (self->ctx, "set", f->id);
    xmpp_stanza_set_to (iq, self->peer);
    xmpp_stanza_add_child_ex (iq, batch, 0);
    xmpp_send (self->conn, iq);
    xmpp_stanza_release (iq);
    f->again = odc_wall_s () + S_ANSWER_WAIT;
    f->refused = false;
    self->status.sent++;
    self->bytes_plain += plain;
    self->bytes_wire += wire;
    odc_debug (NULL, "sent %s: %s, %zu bytes of XML as %zu", f->id, r->kind, plain, wire);
    return true;
}

/*  Whether a flight is due to go again by now. */
static bool
s_flight_due (const s_self_t *self, double now)
{
    for (size_t i = 0; i < self->n_flights; i++)
        if (self->flights[i].again <= now)
            return true;
    return false;
}

/*  The window: S_WINDOW batches out at most. First the flights that are
    due again (refused, or unanswered past their deadline), each read back
    by its own key wherever it now stands in delivery order (newer, more
    urgent records may have come ahead of it); then the free slots, filled
    in delivery order. Every flight has a deadline, so the window always
    comes back. */
static void
s_pump (s_self_t *self)
{
    if (self->state != S_ONLINE)
        return;
    double now = odc_wall_s ();
    bool changed = false;
    for (size_t i = 0; i < self->n_flights; i++) {
        s_flight_t *f = &self->flights[i];
        if (f->again > now)
            continue;
        Odc__OutboxRecord *r = odc_outbox_get (self->outbox, f->priority, f->seq);
        if (!f->refused && f->again > 0)
            odc_info (NULL, "batch %s not answered in %.0f s: sent again", f->id, S_ANSWER_WAIT);
        if (!r || !s_send (self, r, f)) {
            /*  Acked meanwhile (a late answer), shed, or set aside. */
            s_flight_remove (self, f);
            i--;
        }
        if (r)
            odc__outbox_record__free_unpacked (r, NULL);
        changed = true;
    }
    /*  Nothing added, acknowledged or shed since the last look: the records
        need not be read again. */
    uint64_t state = odc_outbox_count (self->outbox) + (odc_outbox_shed (self->outbox) << 32);
    if (self->n_flights < S_WINDOW && state != self->looked) {
        self->looked = state;
        /*  Among the first S_WINDOW records at most n_flights are in
            flight: the others fill the free slots. */
        Odc__OutboxRecord *records[S_WINDOW];
        size_t n = odc_outbox_peek (self->outbox, 0, 0, records, S_WINDOW);
        for (size_t i = 0; i < n && self->n_flights < S_WINDOW; i++) {
            Odc__OutboxRecord *r = records[i];
            if (s_flight (self, r->priority, r->seq))
                continue; /* in flight */
            s_flight_t *f = &self->flights[self->n_flights++];
            memset (f, 0, sizeof *f);
            f->priority = r->priority;
            f->seq = r->seq;
            snprintf (f->id, sizeof f->id, "%s-%d-%" PRIu64, self->instance, r->priority, r->seq);
            if (!s_send (self, r, f))
                self->n_flights--;
            changed = true;
        }
        odc_outbox_records_free (records, n);
    }
    if (changed)
        s_publish (self);
}

/* ------------------------------------------------------------------------
   Receiving */

static bool s_trusted (s_self_t *self, const char *bare);

/*  A device list from the portal: <devices xmlns=ODC_XML_NS><device
    address= port= credential= asset_number= location=/>...</devices>. The
    good entries replace the previous list from the portal (store/
    odc_devices.h, source "portal"): a set_devices Command to the commands
    actor, which hands it to the registry, the devices family's only
    writer; this thread goes on meanwhile. The bad entries are named in the
    answer <pushed taken= refused=><refused address= reason=/>...</pushed>,
    sent when the registry has taken the list (s_push_answer). The loops
    take the new list at the end of their pass (the registry's device-set
    signal; the configuration file is not read). */
static void
s_push_devices (s_self_t *self, xmpp_conn_t *conn, xmpp_stanza_t *iq, xmpp_stanza_t *list,
                const char *from)
{
    size_t n = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children (list); c; c = xmpp_stanza_get_next (c))
        n += xmpp_stanza_is_tag (c) ? 1 : 0;
    s_push_t *slot = NULL;
    for (int i = 0; i < S_PUSHES_MAX && !slot; i++)
        if (!self->pushes[i].iq)
            slot = &self->pushes[i];
    const char *refusal = n > ODC_XML_DEVICES_MAX ? "too many devices in one list"
                          : !slot                 ? "device lists already waiting for the registry"
                                                  : NULL;
    if (refusal) {
        xmpp_stanza_t *reply =
            xmpp_stanza_reply_error (iq, slot ? "modify" : "wait",
                                     slot ? "policy-violation" : "resource-constraint", refusal);
        xmpp_send (conn, reply);
        xmpp_stanza_release (reply);
        odc_warn (NULL, "device list from %s refused: %s", from, refusal);
        return;
    }
    xmpp_stanza_t *reply = xmpp_stanza_reply (iq);
    xmpp_stanza_set_type (reply, "result");
    xmpp_stanza_t *pushed = xmpp_stanza_new (self->ctx);
    xmpp_stanza_set_name (pushed, "pushed");
    xmpp_stanza_set_ns (pushed, ODC_XML_NS);
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
    char num[24];
    snprintf (num, sizeof num, "%zu", taken);
    xmpp_stanza_set_attribute (pushed, "taken", num);
    snprintf (num, sizeof num, "%zu", refused);
    xmpp_stanza_set_attribute (pushed, "refused", num);
    xmpp_stanza_add_child_ex (reply, pushed, 0);

    Odc__DeviceList dl = ODC__DEVICE_LIST__INIT;
    dl.source = "portal";
    odc_imil_device_list (&dl, devices, taken);
    snprintf (slot->id, sizeof slot->id, "%s-push-%" PRIu64, self->instance, ++self->pushed);
    Odc__Command command = ODC__COMMAND__INIT;
    command.id = slot->id;
    command.from = (char *)from;
    command.text = "(device list)";
    command.refused = (uint32_t)refused;
    command.what_case = ODC__COMMAND__WHAT_SET_DEVICES;
    command.set_devices = &dl;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.source = "bridge";
    env.body_case = ODC__ENVELOPE__BODY_COMMAND;
    env.command = &command;
    bool handed = odc_bus_try_send (self->commands, &env) == 0;
    odc_imil_device_list_free (&dl);
    free (devices);
    if (!handed) {
        xmpp_stanza_release (reply);
        reply = xmpp_stanza_reply_error (iq, "wait", "resource-constraint",
                                         "the commands actor is busy");
        xmpp_send (conn, reply);
        xmpp_stanza_release (reply);
        odc_warn (NULL, "device list from %s: not taken, the commands actor is busy", from);
        return;
    }
    slot->iq = xmpp_stanza_clone (iq);
    slot->reply = reply;
    odc_info (NULL, "device list from %s: %zu taken, %zu refused; with the registry", from, taken,
              refused);
}

/*  The registry's answer to a device list (by way of the commands actor):
    the portal's answer goes. true when r answered a push. */
static bool
s_push_answer (s_self_t *self, const Odc__Reply *r)
{
    s_push_t *slot = NULL;
    for (int i = 0; i < S_PUSHES_MAX && !slot; i++)
        if (self->pushes[i].iq && !strcmp (self->pushes[i].id, r->id))
            slot = &self->pushes[i];
    if (!slot)
        return false;
    xmpp_stanza_t *reply = slot->reply;
    if (r->status != 0) {
        xmpp_stanza_release (reply);
        reply = xmpp_stanza_reply_error (slot->iq, "wait", "internal-server-error",
                                         "the store refused the list");
    }
    if (self->state == S_ONLINE)
        xmpp_send (self->conn, reply);
    else
        odc_warn (NULL, "the answer to the device list from %s is lost: the connection closed",
                  r->to);
    xmpp_stanza_release (reply);
    xmpp_stanza_release (slot->iq);
    memset (slot, 0, sizeof *slot);
    return true;
}

/*  Whether from is the portal receiver's full JID (self->peer): its
    answers, and the server's answers for it, carry it. The local part and
    the domain compare without case, the resource exactly (RFC 7622). */
static bool
s_is_peer (const s_self_t *self, const char *from)
{
    const char *slash = from ? strchr (from, '/') : NULL, *peer_slash = strchr (self->peer, '/');
    if (!slash || !peer_slash || slash - from != peer_slash - self->peer)
        return false;
    return !strncasecmp (from, self->peer, (size_t)(slash - from)) && !strcmp (slash, peer_slash);
}

/*  An answer to one of our batch ids from anyone but the portal: ignored
    (it would delete a record never delivered, or hold one back), counted,
    and logged (the first ten, then every hundredth: a flood of them must
    not flood the log). */
static void
s_forged (s_self_t *self, const char *type, const char *id, const char *from)
{
    self->status.forged++;
    s_publish (self);
    if (self->status.forged <= 10 || self->status.forged % 100 == 0)
        odc_warn (NULL,
                  "ignored an iq %s for batch %.60s: not from the portal %s but from %.80s "
                  "(%" PRIu64 " such answers so far)",
                  type, id, self->peer, from ? from : "(no sender)", self->status.forged);
}

/*  The portal's answer to a batch: result, or an error. */
static void
s_on_answer (s_self_t *self, xmpp_stanza_t *stanza, const char *type, const char *id, int priority,
             uint64_t seq)
{
    s_flight_t *f = s_flight (self, priority, seq);
    if (!strcmp (type, "result")) {
        odc_outbox_ack (self->outbox, priority, seq);
        if (f)
            s_flight_remove (self, f);
        self->status.acked++;
        s_publish (self);
        s_pump (self);
        return;
    }
    /*  The condition (service-unavailable: the portal is not online) and
        the text, when given. */
    xmpp_stanza_t *error = xmpp_stanza_get_child_by_name (stanza, "error");
    xmpp_stanza_t *text = error ? xmpp_stanza_get_child_by_name (error, "text") : NULL;
    const char *condition = NULL, *etype = error ? xmpp_stanza_get_type (error) : NULL;
    for (xmpp_stanza_t *c = error ? xmpp_stanza_get_children (error) : NULL; c;
         c = xmpp_stanza_get_next (c))
        if (xmpp_stanza_is_tag (c) && strcmp (xmpp_stanza_get_name (c), "text"))
            condition = xmpp_stanza_get_name (c);
    char *reason = text ? xmpp_stanza_get_text (text) : NULL;
    /*  The portal away (the server answers for it): soon again, backing
        off; a refusal by the portal itself: in a minute, and after
        S_REFUSALS_MAX of them set aside (a "wait" error is the portal's
        own trouble, never the batch's). */
    bool away = condition && !strcmp (condition, "service-unavailable");
    int refusals = f ? ++f->refusals : 1;
    bool final =
        f && !away && !(etype && !strcmp (etype, "wait")) && ++f->portal_no >= S_REFUSALS_MAX;
    double pause =
        away ? fmin (S_AWAY_PAUSE * pow (2, refusals - 1), S_REJECT_PAUSE) : S_REJECT_PAUSE;
    if (away && refusals > 1)
        odc_debug (NULL, "batch %s: %s still not online; again in %.0f s", id, self->peer, pause);
    else if (!final)
        odc_error (NULL, "batch %s not taken by %s: %s%s%s; sent again in %.0f s", id, self->peer,
                   condition ? condition : "error", reason ? ": " : "", reason ? reason : "",
                   pause);
    if (f && final) {
        char why[200];
        snprintf (why, sizeof why, "the portal refused it %d times: %s%s%.120s", f->portal_no,
                  condition ? condition : "error", reason ? ": " : "", reason ? reason : "");
        Odc__OutboxRecord *r = odc_outbox_get (self->outbox, priority, seq);
        s_flight_remove (self, f);
        if (r) {
            Odc__Batch *b = odc__batch__unpack (NULL, r->payload.len, r->payload.data);
            /*  Set aside whole (no split: the portal said no to the batch,
                not to its size). */
            if (odc_outbox_replace (self->outbox, priority, seq, NULL, 0, why, NULL) == 1) {
                odc_error (NULL, "batch %s refused: %s; moved out of the outbox", id, why);
                s_refusal (self, b ? b->n_items : 1, "%s: %s", id, why);
            }
            if (b)
                odc__batch__free_unpacked (b, NULL);
            odc__outbox_record__free_unpacked (r, NULL);
        }
        s_pump (self);
    }
    else if (f) {
        f->again = odc_wall_s () + pause;
        f->refused = true;
    }
    if (reason)
        xmpp_free (self->ctx, reason);
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
        const char *from = xmpp_stanza_get_from (stanza);
        if (!s_is_peer (self, from))
            s_forged (self, type, id, from);
        else
            s_on_answer (self, stanza, type, id, priority, seq);
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
    if (type || !s_is_peer (self, from))
        return 1; /* not the portal, or not "available" */
    /*  Every batch out goes again: the refused ones, and those sent
        before it logged in, which a portal that died or hung with them in
        hand will never answer. */
    size_t refused = 0;
    for (size_t i = 0; i < self->n_flights; i++) {
        refused += self->flights[i].refused;
        self->flights[i].again = 0;
        self->flights[i].refusals = 0;
    }
    odc_info (NULL, "%s is online; %zu batches out (%zu refused) go again now", from,
              self->n_flights, refused);
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

/*  A chat message to (with the id of the message it answers). */
static void
s_chat (s_self_t *self, xmpp_conn_t *conn, const char *to, const char *id, const char *text)
{
    xmpp_stanza_t *msg = xmpp_message_new (self->ctx, "chat", to, NULL);
    xmpp_message_set_body (msg, text);
    if (id && *id)
        xmpp_stanza_set_attribute (msg, "id", id);
    xmpp_send (conn, msg);
    xmpp_stanza_release (msg);
}

static void
s_on_reply (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    const Odc__Reply *r = env->reply;
    if (s_push_answer (self, r))
        return;
    if (self->state != S_ONLINE) {
        odc_warn (NULL, "the reply to %s is lost: the connection to the server closed meanwhile",
                  r->to);
        return;
    }
    s_chat (self, self->conn, r->to, r->id, r->text);
}

/*  The commands actor's replies, to their senders. */
static void
s_replies (s_self_t *self)
{
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_REPLY] = s_on_reply;
    while (zsock_events (self->replies) & ZMQ_POLLIN)
        odc_bus_recv (self->replies, &handlers, self);
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
        /*  Handed to the commands actor: a sweep there never holds this
            thread's acknowledgements and batches. Its reply comes back
            on self->replies (s_replies). */
        const char *id = xmpp_stanza_get_id (stanza);
        size_t len = strlen (body);
        if (len > ODC_IMIL_MAX_TEXT) {
            /*  Refused here, not queued at the commands actor at the
                size of a stanza. */
            odc_warn (NULL, "command from %s refused: %zu bytes, at most %d", from, len,
                      ODC_IMIL_MAX_TEXT);
            char text[80];
            snprintf (text, sizeof text, "command too long (at most %d characters)",
                      ODC_IMIL_MAX_TEXT);
            s_chat (self, conn, from, id, text);
            goto done;
        }
        /*  Parsed here: only a typed command travels, and what is not
            understood is answered at once. */
        odc_imil_command_t parsed;
        char *answer = NULL;
        if (odc_imil_parse (body, &parsed, &answer) != 0) {
            odc_info (NULL, "command from %s: '%.80s': not understood", from, body);
            s_chat (self, conn, from, id, answer);
            free (answer);
            goto done;
        }
        Odc__Command *command = &parsed.command;
        command->id = (char *)(id ? id : "");
        command->from = (char *)from;
        Odc__Envelope env = ODC__ENVELOPE__INIT;
        env.source = "bridge";
        env.body_case = ODC__ENVELOPE__BODY_COMMAND;
        env.command = command;
        if (odc_bus_try_send (self->commands, &env) != 0) {
            odc_warn (NULL, "command from %s: '%.80s': not taken, the commands actor is busy", from,
                      body);
            s_chat (self, conn, from, id, "busy: too many commands waiting; try again later");
        }
    }
done:
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
    s_set_peer (self);
    if (self->port_index >= self->config->portal_port_count)
        self->port_index = 0;
    odc_config_destroy (&old);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_bridge_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    s_current = self;
    self->config = odc_config_ref (a->config);
    self->store = a->store;
    self->outbox = a->outbox;
    s_instance (self);
    s_set_peer (self);
    self->grew = odc_bus_pull_bind (ODC_EP_OUTBOX, 0);
    self->status_push = odc_status_push ();
    self->log = (xmpp_log_t){s_strophe_log, self};
    self->ctx = xmpp_ctx_new (NULL, &self->log);
    self->conn = self->ctx ? xmpp_conn_new (self->ctx) : NULL;
    self->commands = odc_bus_push_connect (ODC_EP_COMMANDS, 0);
    self->replies = odc_bus_pull_bind (ODC_EP_REPLIES, 0);
    *ok = self->conn && self->grew && self->status_push && self->commands && self->replies;
    if (*ok) {
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
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    odc_info (NULL,
              "bridge stops: %llu batches sent, %llu acknowledged; XML %llu bytes, sent as "
              "%llu",
              (unsigned long long)self->status.sent, (unsigned long long)self->status.acked,
              (unsigned long long)self->bytes_plain, (unsigned long long)self->bytes_wire);
    self->status.connected = false;
    s_publish (self);
    for (int i = 0; i < S_PUSHES_MAX; i++)
        if (self->pushes[i].iq) {
            xmpp_stanza_release (self->pushes[i].iq);
            xmpp_stanza_release (self->pushes[i].reply);
        }
    if (self->conn)
        xmpp_conn_release (self->conn);
    if (self->ctx)
        xmpp_ctx_free (self->ctx);
    zsock_destroy (&self->grew);
    zsock_destroy (&self->status_push);
    zsock_destroy (&self->commands);
    zsock_destroy (&self->replies);
    odc_config_replace (&self->config, NULL);
    s_current = NULL;
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    s_publish (self);
    zmq_pollitem_t items[1] = {{zsock_resolve (odc_actor_pipe_of (actor)), 0, ZMQ_POLLIN, 0}};
    for (;;) {
        double now = odc_wall_s ();
        if (self->state == S_IDLE && now >= self->retry_at)
            s_connect (self);
        xmpp_run_once (self->ctx, 50);
        if (zmq_poll (items, 1, 0) > 0 && odc_actor_heard (actor))
            break;
        s_replies (self);
        /*  New records: the uploader and the registry say so (acks pump
            at once); a flight due again: when its time comes. */
        bool grew = false;
        while (zsock_events (self->grew) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (self->grew);
            zmsg_destroy (&msg);
            grew = true;
        }
        if (grew || s_flight_due (self, odc_wall_s ()))
            s_pump (self);
    }
    if (self->state != S_IDLE) {
        xmpp_disconnect (self->conn);
        for (int i = 0; i < 20 && self->state != S_IDLE; i++)
            xmpp_run_once (self->ctx, 50);
    }
}

static const odc_actor_class_t s_class = {"bridge", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_bridge_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
