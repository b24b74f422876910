/*  fuzz_seeds: the fuzzers' first corpora, made from the real recordings.

        fuzz_seeds RECORDINGS_DIR OUT_DIR

    For every .snmprec file under RECORDINGS_DIR (../shared/fixtures/printers)
    and every loop, this plays the device as an agent would (net-snmp
    builds the answers: GETBULK, or GETNEXT for some, from the recording's
    varbinds) to the requests the engine would send, and writes the answers
    in fuzz_snmp's input format to OUT_DIR/snmp/. The readings decoded from
    them become the portal's batches (plain and deflated) in OUT_DIR/portal/
    and records, batches, acks, commands and device lists in OUT_DIR/xml/.
    Nothing of the recordings goes into the repository: scripts/fuzz runs
    this into the build folder at each run. Prints how many seeds it wrote.

    Like fuzz_snmp it includes snmp/odc_snmp.c, to follow the engine's walk
    (s_callback, s_absorb) answer by answer. */
#include "odc_snmp.c"

#include <dirent.h>
#include <sys/stat.h>

#include "odc_bus.h"
#include "odc_read.h"
#include "odc_xml.h"
#include "sim_fleet.h"
#include "sim_mib.h"

/*  sim_mib.c looks roles up here (bench/sim/sim_fleet.c); the real
    recordings have none. */
const char *const sim_role_names[SIM_ROLE_COUNT] = {0};

static size_t s_written;
static odc_snmp_t *s_engine;
static xmpp_ctx_t *s_ctx;

static void
s_write (const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen (path, "wb");
    if (!out) {
        perror (path);
        exit (1);
    }
    fwrite (data, 1, len, out);
    fclose (out);
    s_written++;
}

/*  The agent's answer to one request, as the recording has it. */
static void
s_add (netsnmp_pdu *pdu, const sim_mib_t *mib, size_t i)
{
    oid name[SIM_OID_MAX];
    const sim_var_t *v = &mib->vars[i];
    for (size_t k = 0; k < v->oid_len; k++)
        name[k] = v->oid[k];
    long l;
    u_long ul;
    struct counter64 c64;
    oid o[SIM_OID_MAX];
    const void *value = v->value;
    size_t len = v->len;
    switch (v->type) {
    case ASN_INTEGER:
        l = (long)sim_var_int (v);
        value = &l, len = sizeof l;
        break;
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS:
        ul = (u_long)(uint32_t)sim_var_int (v);
        value = &ul, len = sizeof ul;
        break;
    case ASN_COUNTER64: {
        uint64_t x;
        memcpy (&x, v->value, sizeof x);
        c64.high = (u_long)(x >> 32), c64.low = (u_long)(x & 0xffffffffu);
        value = &c64, len = sizeof c64;
        break;
    }
    case ASN_OBJECT_ID: {
        size_t n = v->len / sizeof (uint32_t);
        for (size_t k = 0; k < n && k < SIM_OID_MAX; k++) {
            uint32_t x;
            memcpy (&x, v->value + k * sizeof x, sizeof x);
            o[k] = x;
        }
        value = o, len = n * sizeof (oid);
        break;
    }
    default: break;
    }
    snmp_pdu_add_variable (pdu, name, v->oid_len, v->type, value, len);
}

static size_t
s_next (const sim_mib_t *mib, const oid *name, size_t len)
{
    uint32_t o[SIM_OID_MAX + 2];
    for (size_t k = 0; k < len && k < SIM_OID_MAX; k++)
        o[k] = (uint32_t)name[k];
    return sim_mib_next (mib, o, len < SIM_OID_MAX ? len : SIM_OID_MAX);
}

/*  The request the engine sends now (s_send), answered. */
static netsnmp_pdu *
s_reply (s_flight_t *f, const sim_mib_t *mib)
{
    odc_snmp_job_t *job = f->job;
    netsnmp_pdu *pdu = snmp_pdu_create (SNMP_MSG_RESPONSE);
    pdu->reqid = 1;
    size_t active = s_active_count (f);
    if (!active) {
        for (size_t i = 0; i < job->n_scalars; i++) {
            if (f->missing[i])
                continue;
            uint32_t o[ODC_OID_MAX];
            for (size_t k = 0; k < job->scalars[i].len; k++)
                o[k] = (uint32_t)job->scalars[i].name[k];
            long at = sim_mib_find (mib, o, job->scalars[i].len);
            if (at >= 0)
                s_add (pdu, mib, (size_t)at);
            else
                snmp_pdu_add_variable (pdu, job->scalars[i].name, job->scalars[i].len,
                                       SNMP_NOSUCHINSTANCE, NULL, 0);
        }
        return pdu;
    }
    if (!f->scalars_done)
        for (size_t i = 0; i < job->n_scalars; i++) {
            if (f->missing[i])
                continue;
            oid before[ODC_OID_MAX + 1];
            size_t len;
            s_before (&job->scalars[i], before, &len);
            size_t at = s_next (mib, before, len);
            if (at < mib->count)
                s_add (pdu, mib, at);
            else
                snmp_pdu_add_variable (pdu, before, len, SNMP_ENDOFMIBVIEW, NULL, 0);
        }
    oid last[ODC_OID_MAX][ODC_OID_MAX];
    size_t last_len[ODC_OID_MAX], cols[ODC_OID_MAX], n = 0;
    for (size_t c = 0; c < job->n_columns; c++)
        if (f->active[c]) {
            memcpy (last[n], f->cur[c].name, f->cur[c].len * sizeof (oid));
            last_len[n] = f->cur[c].len;
            cols[n++] = c;
        }
    int reps = f->bulk ? f->max_rep : 1;
    for (int r = 0; r < reps; r++)
        for (size_t k = 0; k < n; k++) {
            size_t at = s_next (mib, last[k], last_len[k]);
            if (at >= mib->count) {
                snmp_pdu_add_variable (pdu, last[k], last_len[k], SNMP_ENDOFMIBVIEW, NULL, 0);
                continue;
            }
            s_add (pdu, mib, at);
            const sim_var_t *v = &mib->vars[at];
            last_len[k] = v->oid_len < ODC_OID_MAX ? v->oid_len : ODC_OID_MAX;
            for (size_t i = 0; i < last_len[k]; i++)
                last[k][i] = v->oid[i];
        }
    (void)cols;
    return pdu;
}

/*  Encode a reply as an SNMPv2c message from community public. */
static size_t
s_encode (netsnmp_pdu *pdu, uint8_t *out, size_t size)
{
    netsnmp_session session;
    snmp_sess_init (&session);
    session.version = SNMP_VERSION_2c;
    session.community = (u_char *)"public";
    session.community_len = 6;
    pdu->version = SNMP_VERSION_2c;
    pdu->community = (u_char *)strdup ("public");
    pdu->community_len = 6;
    u_char *pkt = malloc (65536);
    size_t pkt_len = 65536, offset = 0;
    size_t n = 0;
    if (snmp_build (&pkt, &pkt_len, &offset, &session, pdu) == 0) {
        /*  net-snmp builds backwards: the message is the last offset bytes. */
        n = offset <= size ? offset : 0;
        memcpy (out, pkt + pkt_len - offset, n);
    }
    free (pkt);
    return n;
}

/*  Play one job against the recording; its answers appended to seed. */
static void
s_play (odc_snmp_job_t *job, const sim_mib_t *mib, uint8_t *seed, size_t *seed_len, size_t cap)
{
    size_t n = job->n_columns, ns = job->n_scalars;
    s_flight_t *f = calloc (1, sizeof *f + n * (sizeof *f->cur + sizeof *f->rows) +
                                   n * sizeof *f->active + ns * sizeof *f->missing);
    f->cur = (odc_oid_t *)(f + 1);
    f->rows = (size_t *)(f->cur + n);
    f->active = (bool *)(f->rows + n);
    f->missing = f->active + n;
    f->job = job;
    f->engine = s_engine;
    f->bounds = s_engine->opt.bounds; /* as s_start: the engine's defaults */
    f->bulk = !job->getnext_only;
    f->max_rep = 16;
    for (size_t c = 0; c < n; c++) {
        f->cur[c] = job->columns[c];
        f->active[c] = true;
    }
    f->scalars_done = ns == 0;
    f->reqid = 1;
    job->status = ODC_SNMP_PENDING;
    for (int round = 0; round < 64; round++) {
        netsnmp_pdu *reply = s_reply (f, mib);
        uint8_t msg[65536];
        size_t len = s_encode (reply, msg, sizeof msg);
        snmp_free_pdu (reply);
        if (!len || *seed_len + 2 + len > cap)
            break;
        seed[(*seed_len)++] = (uint8_t)(len >> 8);
        seed[(*seed_len)++] = (uint8_t)len;
        memcpy (seed + *seed_len, msg, len);
        *seed_len += len;
        /*  What the engine makes of it, as fuzz_snmp does. */
        netsnmp_session session;
        snmp_sess_init (&session);
        netsnmp_pdu *pdu = snmp_pdu_create (0);
        if (snmp_parse (NULL, &session, pdu, msg, len) == SNMP_ERR_NOERROR)
            s_callback (NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE, &session, f->reqid, pdu, f);
        snmp_free_pdu (pdu);
        if (f->response == 3 || job->status != ODC_SNMP_PENDING)
            break;
        if (!f->scalars_done && s_asked (f) == 0)
            s_take_scalars (f, NULL);
        if (!(f->resend || s_active_count (f) > 0 || !f->scalars_done)) {
            s_finish (f, ODC_SNMP_OK, NULL);
            break;
        }
        f->response = 0;
        f->resend = false;
        f->reqid++;
    }
    free (f);
}

static Odc__Envelope *s_envs[4096];
static size_t s_env_count;

static void
s_keep (Odc__Envelope__BodyCase body, ProtobufCMessage *m)
{
    if (!m || s_env_count == sizeof s_envs / sizeof *s_envs)
        return;
    Odc__Envelope *env = malloc (sizeof *env);
    odc__envelope__init (env);
    env->version = 1;
    env->source = strdup ("seed");
    odc_bus_set_body (env, body, m);
    s_envs[s_env_count++] = env;
}

static void
s_recording (const char *path, const char *out)
{
    size_t size;
    char *text = sim_read_file (path, &size);
    if (!text)
        return;
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    char *error = NULL;
    sim_mib_t *mib = sim_mib_parse (base, text, size, &error);
    free (text);
    free (error);
    if (!mib)
        return;
    static const odc_loop_t loops[] = {ODC_LOOP_ALERT, ODC_LOOP_IDENTITY, ODC_LOOP_METER,
                                       ODC_LOOP_SUPPLY, ODC_LOOP_TRAY};
    char dir[1024];
    snprintf (dir, sizeof dir, "%s/snmp", out);
    for (int w = 0; w < 5; w++) {
        /*  GETBULK with raw values; and GETNEXT for the identity loop. */
        for (int getnext = 0; getnext <= (w == 1); getnext++) {
            static uint8_t seed[1 << 20];
            size_t len = 0;
            seed[len++] = (uint8_t)w;
            seed[len++] = (uint8_t)(2 | getnext);
            odc_read_oids_t oids, toids;
            odc_snmp_job_t job = {0}, table = {0};
            snprintf (job.address, sizeof job.address, "192.0.2.1");
            job.keep_raw = true;
            job.getnext_only = getnext;
            table = job;
            odc_read_prepare (loops[w], 1, false, NULL, 0, &oids, &job);
            s_play (&job, mib, seed, &len, sizeof seed);
            ProtobufCMessage *m = NULL;
            Odc__Envelope__BodyCase body = 0;
            if (w == 0) {
                odc_read_prepare (loops[w], 1, true, NULL, 0, &toids, &table);
                if (job.status == ODC_SNMP_OK)
                    s_play (&table, mib, seed, &len, sizeof seed);
                m = (ProtobufCMessage *)odc_read_alerts (&job, table.n_values ? &table : NULL);
                body = ODC__ENVELOPE__BODY_ALERTS;
            }
            else if (w == 1)
                m = (ProtobufCMessage *)odc_read_identity (&job),
                body = ODC__ENVELOPE__BODY_IDENTITY;
            else if (w == 2)
                m = (ProtobufCMessage *)odc_read_meters (&job, NULL, 0),
                body = ODC__ENVELOPE__BODY_METERS;
            else if (w == 3)
                m = (ProtobufCMessage *)odc_read_supplies (&job),
                body = ODC__ENVELOPE__BODY_SUPPLIES;
            else
                m = (ProtobufCMessage *)odc_read_trays (&job), body = ODC__ENVELOPE__BODY_TRAYS;
            char name[512];
            snprintf (name, sizeof name, "%s.%d%s", base, w, getnext ? ".next" : "");
            s_write (dir, name, seed, len);
            if (m && !getnext)
                s_keep (body, m);
            else if (m)
                protobuf_c_message_free_unpacked (m, NULL);
            odc_snmp_job_clear (&job);
            odc_snmp_job_clear (&table);
        }
    }
    sim_mib_destroy (&mib);
}

static void
s_walk (const char *path, const char *out)
{
    DIR *dir = opendir (path);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir (dir))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1024];
        snprintf (sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat st;
        if (stat (sub, &st) != 0)
            continue;
        size_t n = strlen (e->d_name);
        if (S_ISDIR (st.st_mode))
            s_walk (sub, out);
        else if (n > 8 && !strcmp (e->d_name + n - 8, ".snmprec"))
            s_recording (sub, out);
    }
    closedir (dir);
}

static char *
s_text (xmpp_stanza_t *el)
{
    char *buf = NULL;
    size_t len = 0;
    xmpp_stanza_to_text (el, &buf, &len);
    char *copy = strndup (buf, len);
    xmpp_free (s_ctx, buf);
    return copy;
}

/*  A batch of envelopes [from, from + n) as the collector sends it. */
static char *
s_batch_text (size_t from, size_t n, bool compress)
{
    Odc__Batch batch = ODC__BATCH__INIT;
    batch.items = s_envs + from;
    batch.n_items = n;
    Odc__OutboxRecord record = ODC__OUTBOX_RECORD__INIT;
    record.seq = from + 1;
    record.kind = (char *)odc_xml_kind (s_envs[from]);
    record.payload.len = odc__batch__get_packed_size (&batch);
    record.payload.data = malloc (record.payload.len);
    odc__batch__pack (&batch, record.payload.data);
    size_t plain, wire;
    xmpp_stanza_t *el = odc_xml_batch (s_ctx, &record, compress, &plain, &wire, NULL);
    free (record.payload.data);
    if (!el)
        return NULL;
    char *text = s_text (el);
    xmpp_stanza_release (el);
    return text;
}

static void
s_xml_seeds (const char *out)
{
    char portal[1024], xml[1024];
    snprintf (portal, sizeof portal, "%s/portal", out);
    snprintf (xml, sizeof xml, "%s/xml", out);
    for (size_t i = 0; i < s_env_count; i += 5) {
        size_t n = s_env_count - i < 5 ? s_env_count - i : 5;
        for (int compress = 0; compress <= 1; compress++) {
            char *b = s_batch_text (i, n, compress);
            if (!b)
                continue;
            char *iq = NULL;
            if (asprintf (&iq,
                          "<iq type='set' id='0123456789abcdef-1-%zu' "
                          "from='collector@localhost/opendca' to='portal@localhost/receiver'>%s"
                          "</iq>",
                          i + 1, b) < 0)
                abort ();
            char name[64];
            snprintf (name, sizeof name, "batch.%zu.%s", i, compress ? "deflate" : "plain");
            s_write (portal, name, iq, strlen (iq));
            free (iq);
            if (i % 25 == 0)
                s_write (xml, name, b, strlen (b));
            free (b);
        }
    }
    /*  Each record alone, for the collector's record reader. */
    for (size_t i = 0; i < s_env_count; i += 7) {
        xmpp_stanza_t *el = odc_xml_record (s_ctx, s_envs[i]);
        if (!el)
            continue;
        char *text = s_text (el);
        xmpp_stanza_release (el);
        char name[64];
        snprintf (name, sizeof name, "record.%zu", i);
        s_write (xml, name, text, strlen (text));
        free (text);
    }
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: fuzz_seeds RECORDINGS_DIR OUT_DIR\n");
        return 2;
    }
    odc_log_set_level (ODC_LOG_FATAL);
    odc_snmp_init (0);
    s_engine = odc_snmp_new (NULL);
    xmpp_initialize ();
    s_ctx = xmpp_ctx_new (NULL, NULL);
    const char *subs[] = {"snmp", "xml", "portal"};
    for (size_t i = 0; i < 3; i++) {
        char dir[1024];
        snprintf (dir, sizeof dir, "%s/%s", argv[2], subs[i]);
        mkdir (argv[2], 0755);
        mkdir (dir, 0755);
    }
    s_walk (argv[1], argv[2]);
    s_xml_seeds (argv[2]);
    printf ("fuzz_seeds: %zu seeds from %zu readings of %s\n", s_written, s_env_count, argv[1]);
    for (size_t i = 0; i < s_env_count; i++)
        odc__envelope__free_unpacked (s_envs[i], NULL);
    xmpp_ctx_free (s_ctx);
    xmpp_shutdown ();
    odc_snmp_destroy (&s_engine);
    return 0;
}
