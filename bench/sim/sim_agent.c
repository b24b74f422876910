/*  sim_agent: see sim_agent.h. */
#include "sim_agent.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "odc_netsnmp.h"
#include <net-snmp/library/snmp_transport.h>
#include <net-snmp/library/lcd_time.h>
#include <net-snmp/library/snmpusm.h>
#include <net-snmp/library/snmpv3.h>

typedef struct {
    char name[64];
    int level; /* SNMP_SEC_LEVEL_* the user needs at least */
} s_user_t;

typedef struct {
    double due;
    netsnmp_pdu *pdu;
} s_delayed_t;

struct _sim_agent_t {
    sim_fleet_t *fleet;
    sim_agent_options_t opt;
    void *sessp;
    netsnmp_transport *transport;
    s_user_t *users;
    int user_count;
    s_delayed_t *heap;
    size_t heap_count, heap_size;
    uint64_t rng;
    sim_agent_stats_t stats;
};

static double
s_now (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double
s_uniform (sim_agent_t *self)
{
    self->rng ^= self->rng << 13;
    self->rng ^= self->rng >> 7;
    self->rng ^= self->rng << 17;
    return (double)(self->rng >> 11) / 9007199254740992.0;
}

void
sim_agent_init_library (void)
{
    odc_netsnmp_start ("opendca-sim", "ODC_SIM_DEBUG");
    netsnmp_ds_set_boolean (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_QUICK_PRINT, 1);
}

/* ------------------------------------------------------------------------
   Sizes: what a varbind costs in BER, to keep replies under the limit. */

static size_t
s_len_len (size_t len)
{
    return len < 128 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 4;
}

static size_t
s_tlv (size_t len)
{
    return 1 + s_len_len (len) + len;
}

static size_t
s_subid_len (uint64_t v)
{
    size_t n = 1;
    while (v >= 128) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t
s_oid_len (const oid *o, size_t len)
{
    if (len < 2)
        return 1;
    size_t n = s_subid_len (o[0] * 40 + o[1]);
    for (size_t i = 2; i < len; i++)
        n += s_subid_len (o[i]);
    return n;
}

static size_t
s_varbind_size (const netsnmp_variable_list *v)
{
    size_t value;
    switch (v->type) {
    case ASN_INTEGER:
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS: value = 5; break; /* at most */
    case ASN_COUNTER64: value = 11; break;
    case ASN_OBJECT_ID: value = s_oid_len (v->val.objid, v->val_len / sizeof (oid)); break;
    case ASN_NULL:
    case SNMP_NOSUCHOBJECT:
    case SNMP_NOSUCHINSTANCE:
    case SNMP_ENDOFMIBVIEW: value = 0; break;
    default: value = v->val_len; break;
    }
    return s_tlv (s_tlv (s_oid_len (v->name, v->name_length)) + s_tlv (value));
}

/*  Bytes around the varbind list in a reply to pdu. */
static size_t
s_overhead (const netsnmp_pdu *pdu)
{
    size_t n = 3 /* version */ + 6 + 3 + 3 /* reqid, status, index */ + 4 /* list */ + 4 + 4;
    if (pdu->version == SNMP_VERSION_3)
        n +=
            80 + pdu->securityNameLen + pdu->contextNameLen + 2 * pdu->contextEngineIDLen + 48 + 16;
    else
        n += 2 + pdu->community_len;
    return n;
}

static size_t
s_limit (sim_agent_t *self, const netsnmp_pdu *pdu)
{
    size_t limit = (size_t)self->opt.max_msg_size;
    if (pdu->version == SNMP_VERSION_3 && pdu->msgMaxSize > 0 && (size_t)pdu->msgMaxSize < limit)
        limit = (size_t)pdu->msgMaxSize;
    return limit;
}

/* ------------------------------------------------------------------------
   The device's view */

/*  A value found for a reply: data points at the model's bytes for a
    recorded value (any length), or at buf for a computed one. */
typedef struct {
    uint32_t oid[SIM_OID_MAX];
    size_t len;
    uint8_t type;
    const uint8_t *data;
    int vlen;
    uint8_t buf[SIM_VALUE_MAX];
} s_found_t;

static bool
s_hidden (sim_agent_t *self, const sim_device_t *d, const sim_var_t *var)
{
    if (!self->fleet->opt.behaviour)
        return false;
    if (var->role == SIM_ROLE_ALERT)
        return true;
    return SIM_ROLE_IS_COUNTER (var->role) && sim_fleet_asleep (self->fleet, d);
}

static void
s_fill (sim_agent_t *self, const sim_device_t *d, const sim_var_t *var, s_found_t *f)
{
    memcpy (f->oid, var->oid, var->oid_len * sizeof (uint32_t));
    f->len = var->oid_len;
    if (self->fleet->opt.behaviour && var->role) {
        f->vlen = sim_fleet_value (self->fleet, d, var, &f->type, f->buf);
        f->data = f->buf;
    }
    else {
        f->type = var->type;
        f->vlen = (int)var->len;
        f->data = var->value;
    }
}

/*  Exact match. 0 found, or SNMP_NOSUCHOBJECT / SNMP_NOSUCHINSTANCE. */
static int
s_get (sim_agent_t *self, const sim_device_t *d, const uint32_t *o, size_t len, s_found_t *f)
{
    const sim_mib_t *mib = self->fleet->models[d->model].mib;
    long i = sim_mib_find (mib, o, len);
    if (i >= 0 && !s_hidden (self, d, &mib->vars[i])) {
        s_fill (self, d, &mib->vars[i], f);
        if (f->vlen >= 0)
            return 0;
    }
    if (self->fleet->opt.behaviour && len > 0) {
        /*  The simulated alert table. */
        uint32_t before[SIM_OID_MAX];
        memcpy (before, o, len * sizeof (uint32_t));
        before[len - 1]--;
        if (o[len - 1] > 0 &&
            sim_fleet_alert_next (self->fleet, d, before, len, f->oid, &f->len, &f->type, f->buf,
                                  &f->vlen) &&
            sim_oid_compare (f->oid, f->len, o, len) == 0) {
            f->data = f->buf;
            return 0;
        }
    }
    /*  An instance is missing where the object exists: some variable shares
        all but the last sub-identifier. */
    if (len > 1) {
        size_t n = sim_mib_next (mib, o, len - 1);
        if (n < mib->count &&
            sim_oid_has_prefix (mib->vars[n].oid, mib->vars[n].oid_len, o, len - 1))
            return SNMP_NOSUCHINSTANCE;
    }
    return SNMP_NOSUCHOBJECT;
}

/*  Next in the view after o. 0 found, or SNMP_ENDOFMIBVIEW. */
static int
s_next (sim_agent_t *self, const sim_device_t *d, const uint32_t *o, size_t len, s_found_t *f)
{
    const sim_mib_t *mib = self->fleet->models[d->model].mib;
    size_t i = sim_mib_next (mib, o, len);
    const sim_var_t *var = NULL;
    for (; i < mib->count; i++) {
        if (s_hidden (self, d, &mib->vars[i]))
            continue;
        var = &mib->vars[i];
        break;
    }
    s_found_t alert;
    bool have_alert = self->fleet->opt.behaviour &&
                      sim_fleet_alert_next (self->fleet, d, o, len, alert.oid, &alert.len,
                                            &alert.type, alert.buf, &alert.vlen);
    if (have_alert &&
        (!var || sim_oid_compare (alert.oid, alert.len, var->oid, var->oid_len) < 0)) {
        *f = alert;
        f->data = f->buf;
        return 0;
    }
    if (!var)
        return SNMP_ENDOFMIBVIEW;
    s_fill (self, d, var, f);
    if (f->vlen < 0) /* no value right now: look further */
        return s_next (self, d, var->oid, var->oid_len, f);
    return 0;
}

static netsnmp_variable_list *
s_add (netsnmp_pdu *resp, const uint32_t *o, size_t len, const s_found_t *f, int exception)
{
    oid name[SIM_OID_MAX];
    for (size_t k = 0; k < len; k++)
        name[k] = o[k];
    if (exception)
        return snmp_pdu_add_variable (resp, name, len, (u_char)exception, NULL, 0);
    switch (f->type) {
    case ASN_INTEGER:
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS: {
        int64_t v;
        memcpy (&v, f->data, sizeof v);
        long l = f->type == ASN_INTEGER ? (long)(int32_t)v : (long)(uint32_t)v;
        return snmp_pdu_add_variable (resp, name, len, f->type, &l, sizeof l);
    }
    case ASN_COUNTER64: {
        int64_t v;
        memcpy (&v, f->data, sizeof v);
        struct counter64 c = {(u_long)((uint64_t)v >> 32), (u_long)((uint64_t)v & 0xffffffffu)};
        return snmp_pdu_add_variable (resp, name, len, f->type, &c, sizeof c);
    }
    default: return snmp_pdu_add_variable (resp, name, len, f->type, f->data, (size_t)f->vlen);
    }
}

static void
s_to_u32 (const netsnmp_variable_list *v, uint32_t *out, size_t *len)
{
    *len = v->name_length < SIM_OID_MAX ? v->name_length : SIM_OID_MAX;
    for (size_t k = 0; k < *len; k++)
        out[k] = (uint32_t)v->name[k];
}

/*  Build the reply to pdu for device d. NULL when no reply goes out. */
static netsnmp_pdu *
s_answer (sim_agent_t *self, const sim_device_t *d, netsnmp_pdu *pdu)
{
    netsnmp_pdu *resp = snmp_clone_pdu (pdu);
    if (!resp)
        return NULL;
    resp->command = SNMP_MSG_RESPONSE;
    resp->errstat = 0;
    resp->errindex = 0;
    resp->flags &= ~UCD_MSG_FLAG_EXPECT_RESPONSE;
    size_t limit = s_limit (self, pdu);
    size_t size = s_overhead (pdu);
    bool v1 = pdu->version == SNMP_VERSION_1;
    s_found_t f;
    uint32_t o[SIM_OID_MAX];
    size_t len;

    if (pdu->command == SNMP_MSG_GET || pdu->command == SNMP_MSG_GETNEXT) {
        snmp_free_varbind (resp->variables);
        resp->variables = NULL;
        int index = 0;
        for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
            index++;
            s_to_u32 (v, o, &len);
            int ex = pdu->command == SNMP_MSG_GET ? s_get (self, d, o, len, &f)
                                                  : s_next (self, d, o, len, &f);
            if (ex && v1) {
                /*  v1: the whole request fails with noSuchName at this
                    index, and the reply carries the request's varbinds. */
                snmp_free_varbind (resp->variables);
                resp->variables = snmp_clone_varbind (pdu->variables);
                resp->errstat = SNMP_ERR_NOSUCHNAME;
                resp->errindex = index;
                return resp;
            }
            netsnmp_variable_list *added =
                ex ? s_add (resp, o, len, NULL, ex) : s_add (resp, f.oid, f.len, &f, 0);
            size += added ? s_varbind_size (added) : 0;
        }
        if (size > limit) {
            self->stats.too_big++;
            snmp_free_varbind (resp->variables);
            resp->variables = v1 ? snmp_clone_varbind (pdu->variables) : NULL;
            resp->errstat = SNMP_ERR_TOOBIG;
            resp->errindex = 0;
        }
        return resp;
    }
    if (pdu->command == SNMP_MSG_GETBULK && !v1) {
        snmp_free_varbind (resp->variables);
        resp->variables = NULL;
        long non_rep = pdu->errstat < 0 ? 0 : pdu->errstat;
        long max_rep = pdu->errindex < 0 ? 0 : pdu->errindex;
        int count = 0;
        for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable)
            count++;
        if (non_rep > count)
            non_rep = count;
        int repeaters = count - (int)non_rep;
        /*  Keep the reply bounded whatever max-repetitions says. */
        if (max_rep > 1000)
            max_rep = 1000;
        netsnmp_variable_list *v = pdu->variables;
        for (long i = 0; i < non_rep; i++, v = v->next_variable) {
            s_to_u32 (v, o, &len);
            int ex = s_next (self, d, o, len, &f);
            netsnmp_variable_list *added =
                ex ? s_add (resp, o, len, NULL, ex) : s_add (resp, f.oid, f.len, &f, 0);
            size += s_varbind_size (added);
        }
        if (size > limit) {
            self->stats.too_big++;
            snmp_free_varbind (resp->variables);
            resp->variables = NULL;
            resp->errstat = SNMP_ERR_TOOBIG;
            return resp;
        }
        /*  Repeaters in lock-step: row r holds the successor of row r-1. */
        uint32_t (*last)[SIM_OID_MAX] =
            repeaters ? malloc ((size_t)repeaters * sizeof *last) : NULL;
        size_t *last_len = repeaters ? malloc ((size_t)repeaters * sizeof *last_len) : NULL;
        bool *ended = repeaters ? calloc ((size_t)repeaters, sizeof *ended) : NULL;
        netsnmp_variable_list *rep = v;
        for (int k = 0; k < repeaters; k++, rep = rep->next_variable)
            s_to_u32 (rep, last[k], &last_len[k]);
        bool full = false;
        for (long r = 0; r < max_rep && !full; r++) {
            int ended_count = 0;
            for (int k = 0; k < repeaters; k++) {
                int ex =
                    ended[k] ? (int)SNMP_ENDOFMIBVIEW : s_next (self, d, last[k], last_len[k], &f);
                netsnmp_variable_list *added;
                if (ex) {
                    ended[k] = true;
                    ended_count++;
                    added = s_add (resp, last[k], last_len[k], NULL, ex);
                }
                else {
                    added = s_add (resp, f.oid, f.len, &f, 0);
                    memcpy (last[k], f.oid, f.len * sizeof (uint32_t));
                    last_len[k] = f.len;
                }
                size_t add = s_varbind_size (added);
                if (size + add > limit) {
                    /*  RFC 3416 4.2.3: drop what does not fit, no error. */
                    netsnmp_variable_list **pp = &resp->variables;
                    while (*pp && *pp != added)
                        pp = &(*pp)->next_variable;
                    *pp = NULL;
                    snmp_free_var (added);
                    self->stats.truncated++;
                    full = true;
                    break;
                }
                size += add;
            }
            if (ended_count == repeaters)
                break; /* every column ended: no more rows */
        }
        free (last);
        free (last_len);
        free (ended);
        return resp;
    }
    /*  Sets, v1 GETBULK and the rest: not for a simulated printer. */
    snmp_free_pdu (resp);
    return NULL;
}

/* ------------------------------------------------------------------------
   Delayed replies: a binary heap by due time. */

static void
s_heap_push (sim_agent_t *self, double due, netsnmp_pdu *pdu)
{
    if (self->heap_count == self->heap_size) {
        self->heap_size = self->heap_size ? self->heap_size * 2 : 1024;
        self->heap = realloc (self->heap, self->heap_size * sizeof (s_delayed_t));
    }
    size_t i = self->heap_count++;
    while (i > 0 && self->heap[(i - 1) / 2].due > due) {
        self->heap[i] = self->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    self->heap[i] = (s_delayed_t){due, pdu};
}

static s_delayed_t
s_heap_pop (sim_agent_t *self)
{
    s_delayed_t top = self->heap[0];
    s_delayed_t last = self->heap[--self->heap_count];
    size_t i = 0;
    while (true) {
        size_t c = 2 * i + 1;
        if (c >= self->heap_count)
            break;
        if (c + 1 < self->heap_count && self->heap[c + 1].due < self->heap[c].due)
            c++;
        if (self->heap[c].due >= last.due)
            break;
        self->heap[i] = self->heap[c];
        i = c;
    }
    if (self->heap_count)
        self->heap[i] = last;
    return top;
}

static void
s_send (sim_agent_t *self, netsnmp_pdu *resp)
{
    if (snmp_sess_send (self->sessp, resp) == 0)
        snmp_free_pdu (resp);
    else
        self->stats.answered++;
}

/* ------------------------------------------------------------------------
   Receiving */

static bool
s_allowed (sim_agent_t *self, const netsnmp_pdu *pdu)
{
    if (pdu->version == SNMP_VERSION_3) {
        for (int i = 0; i < self->user_count; i++)
            if (pdu->securityName && strcmp (self->users[i].name, pdu->securityName) == 0)
                return pdu->securityLevel >= self->users[i].level;
        return false;
    }
    for (int i = 0; i < self->opt.community_count; i++)
        if (pdu->community_len == strlen (self->opt.communities[i]) &&
            memcmp (pdu->community, self->opt.communities[i], pdu->community_len) == 0)
            return true;
    return false;
}

static int
s_on_message (int op, netsnmp_session *session, int reqid, netsnmp_pdu *pdu, void *magic)
{
    (void)session, (void)reqid;
    sim_agent_t *self = magic;
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
        return 1;
    self->stats.requests++;
    const netsnmp_indexed_addr_pair *pair = pdu->transport_data;
    if (!pair || pdu->transport_data_length < (int)sizeof (netsnmp_indexed_addr_pair) ||
        pair->local_addr.sa.sa_family != AF_INET) {
        self->stats.dropped_unknown++;
        return 1;
    }
    uint32_t address = ntohl (pair->local_addr.sin.sin_addr.s_addr);
    /*  Where requests went: a sweep must stay inside what it was given. */
    if (!self->stats.to_low || address < self->stats.to_low)
        self->stats.to_low = address;
    if (address > self->stats.to_high)
        self->stats.to_high = address;
    sim_device_t *d = sim_fleet_device_at (self->fleet, address);
    if (!d) {
        self->stats.dropped_unknown++; /* nobody there: silence, like a real network */
        return 1;
    }
    if (!s_allowed (self, pdu) || ((d->flags & SIM_DEV_V3ONLY) && pdu->version != SNMP_VERSION_3)) {
        self->stats.dropped_auth++;
        return 1;
    }
    if (self->opt.loss_pct > 0 && s_uniform (self) * 100 < self->opt.loss_pct) {
        self->stats.dropped_loss++;
        return 1;
    }
    netsnmp_pdu *resp = s_answer (self, d, pdu);
    if (!resp)
        return 1;
    double delay_ms = 0;
    if (self->opt.latency_max_ms > 0)
        delay_ms = self->opt.latency_min_ms +
                   s_uniform (self) * (self->opt.latency_max_ms - self->opt.latency_min_ms);
    if (sim_fleet_asleep (self->fleet, d))
        delay_ms += self->opt.sleep_delay_ms;
    if (delay_ms > 0)
        s_heap_push (self, s_now () + delay_ms / 1000.0, resp);
    else
        s_send (self, resp);
    return 1;
}

static int
s_add_user (sim_agent_t *self, const char *spec, char **error)
{
    char copy[512];
    snprintf (copy, sizeof copy, "%s", spec);
    char *part[6] = {0};
    int n = 0;
    for (char *p = strtok (copy, ":"); p && n < 6; p = strtok (NULL, ":"))
        part[n++] = p;
    if (n < 2) {
        *error = sim_format ("--user %s: NAME:LEVEL[:AUTH:AUTHPASS[:PRIV:PRIVPASS]]", spec);
        return -1;
    }
    int level = !strcmp (part[1], "noAuthNoPriv") ? SNMP_SEC_LEVEL_NOAUTH
                : !strcmp (part[1], "authNoPriv") ? SNMP_SEC_LEVEL_AUTHNOPRIV
                : !strcmp (part[1], "authPriv")   ? SNMP_SEC_LEVEL_AUTHPRIV
                                                  : -1;
    int need = level == SNMP_SEC_LEVEL_NOAUTH ? 2 : level == SNMP_SEC_LEVEL_AUTHNOPRIV ? 4 : 6;
    if (level < 0 || n != need) {
        *error = sim_format ("--user %s: NAME:noAuthNoPriv, NAME:authNoPriv:AUTH:PASS or "
                             "NAME:authPriv:AUTH:PASS:PRIV:PASS",
                             spec);
        return -1;
    }
    /*  net-snmp's own createUser line: keys localised to our engine ID. */
    char line[600];
    if (level == SNMP_SEC_LEVEL_NOAUTH)
        snprintf (line, sizeof line, "%s", part[0]);
    else if (level == SNMP_SEC_LEVEL_AUTHNOPRIV)
        snprintf (line, sizeof line, "%s %s \"%s\"", part[0], part[2], part[3]);
    else
        snprintf (line, sizeof line, "%s %s \"%s\" %s \"%s\"", part[0], part[2], part[3], part[4],
                  part[5]);
    size_t before = 0;
    for (struct usmUser *u = usm_get_userList (); u; u = u->next)
        before++;
    usm_parse_create_usmUser ("createUser", line);
    size_t after = 0;
    for (struct usmUser *u = usm_get_userList (); u; u = u->next)
        after++;
    if (after == before) {
        *error = sim_format ("--user %s: net-snmp refused it (protocols: MD5, SHA, SHA-224, "
                             "SHA-256, SHA-384, SHA-512; DES, AES; passphrases of 8 or more)",
                             spec);
        return -1;
    }
    self->users = realloc (self->users, (size_t)(self->user_count + 1) * sizeof (s_user_t));
    snprintf (self->users[self->user_count].name, sizeof self->users[0].name, "%s", part[0]);
    self->users[self->user_count++].level = level;
    return 0;
}

sim_agent_t *
sim_agent_new (sim_fleet_t *fleet, const sim_agent_options_t *options, char **error)
{
    sim_agent_t *self = calloc (1, sizeof *self);
    self->fleet = fleet;
    self->opt = *options;
    self->rng = fleet->opt.seed * 2654435761u + 1;
    if (!self->rng)
        self->rng = 1;
    const char *engine = options->engine_id ? options->engine_id : "opendca-sim";
    if (setup_engineID (NULL, engine) < 0) {
        *error = sim_format ("cannot set the SNMPv3 engine ID");
        sim_agent_destroy (&self);
        return NULL;
    }
    /*  init_snmp entered the engine ID it had into the timing cache, which
        is what makes an engine "known" to USM; enter ours too, or every
        request is answered with an unknown-engine-ID report. */
    u_char eid[64];
    size_t eid_len = snmpv3_get_engineID (eid, sizeof eid);
    set_enginetime (eid, (u_int)eid_len, (u_int)snmpv3_local_snmpEngineBoots (),
                    (u_int)snmpv3_local_snmpEngineTime (), TRUE);
    for (int i = 0; i < options->user_count; i++)
        if (s_add_user (self, options->users[i], error) == -1) {
            sim_agent_destroy (&self);
            return NULL;
        }
    char spec[64];
    snprintf (spec, sizeof spec, "udp:0.0.0.0:%d", options->port);
    self->transport = netsnmp_transport_open_server ("snmp", spec);
    if (!self->transport) {
        *error = sim_format ("cannot listen on %s (in use? port below 1024 without root?)", spec);
        sim_agent_destroy (&self);
        return NULL;
    }
    netsnmp_session session;
    snmp_sess_init (&session);
    session.isAuthoritative = SNMP_SESS_AUTHORITATIVE;
    session.callback = s_on_message;
    session.callback_magic = self;
    /*  The largest message we accept and build. */
    session.rcvMsgMaxSize = 65507;
    session.sndMsgMaxSize = 65507;
    self->sessp = snmp_sess_add (&session, self->transport, NULL, NULL);
    if (!self->sessp) {
        *error = sim_format ("net-snmp refused the server session");
        self->transport = NULL; /* freed by snmp_sess_add on failure */
        sim_agent_destroy (&self);
        return NULL;
    }
    /*  Non-blocking: the loop reads until nothing is left. */
    int fd = self->transport->sock;
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
    int buf = 8 << 20;
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    return self;
}

void
sim_agent_destroy (sim_agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_agent_t *self = *self_p;
    while (self->heap_count)
        snmp_free_pdu (s_heap_pop (self).pdu);
    free (self->heap);
    if (self->sessp)
        snmp_sess_close (self->sessp);
    else if (self->transport)
        netsnmp_transport_free (self->transport);
    free (self->users);
    free (self);
    *self_p = NULL;
}

int
sim_agent_fd (sim_agent_t *self)
{
    return self->transport->sock;
}

void
sim_agent_read (sim_agent_t *self, int max)
{
    int fd = sim_agent_fd (self);
    for (int i = 0; i < max; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, 0) != 1)
            break;
        fd_set set;
        FD_ZERO (&set);
        FD_SET (fd, &set);
        /*  Every datagram, whether or not net-snmp makes a request of it
            (an SNMPv3 message it cannot authenticate never reaches us). */
        self->stats.datagrams++;
        snmp_sess_read (self->sessp, &set);
    }
}

int
sim_agent_flush (sim_agent_t *self)
{
    double now = s_now ();
    while (self->heap_count && self->heap[0].due <= now)
        s_send (self, s_heap_pop (self).pdu);
    if (!self->heap_count)
        return -1;
    return (int)((self->heap[0].due - now) * 1000.0) + 1;
}

const sim_agent_stats_t *
sim_agent_stats (sim_agent_t *self)
{
    return &self->stats;
}
