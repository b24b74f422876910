/*  unit.xml: the records' XML (bridge/odc_xml.c): every kind of reading
    there and back, plain and compressed, with hostile text from devices;
    hostile XML refused with a reason. */
#include <strophe.h>

#include "odc_bus.h"
#include "odc_test.h"
#include "odc_text.h"
#include "odc_registry_actor.h"
#include "odc_triage.h"
#include "odc_xml.h"

static xmpp_ctx_t *s_ctx;

/*  Text a printer may well send: control characters, a NUL-free invalid
    UTF-8 run, a backslash, markup, quotes, a valid accent. */
static const char s_nasty[] =
    "Tr\xc3\xa4y 1 <A4> & \"x\" 'y' \\ \x01\x1b[0m \xff\xfe\xc3 \xed\xa0\x80 end\n";

static Odc__ReadingHeader *
s_header (const char *id, int loop)
{
    Odc__ReadingHeader *h = calloc (1, sizeof *h);
    odc__reading_header__init (h);
    h->device_id = strdup (id);
    h->address = strdup ("127.0.0.1");
    h->loop = loop;
    h->started_ms = 1764000000123ull;
    h->finished_ms = 1764000000456ull;
    h->requests = 2;
    h->bytes_out = 90;
    h->bytes_in = 1234;
    return h;
}

/*  One envelope of each kind. */
static Odc__Envelope *
s_reading (int kind)
{
    Odc__Envelope *env = calloc (1, sizeof *env);
    odc__envelope__init (env);
    env->version = ODC_ENVELOPE_VERSION;
    switch (kind) {
    case 0: {
        Odc__IdentityReading *r = calloc (1, sizeof *r);
        odc__identity_reading__init (r);
        r->header = s_header ("dev-1", 2);
        r->sys_descr = strdup (s_nasty);
        r->serial = strdup ("CN12345678");
        r->mac = strdup ("00:11:22:33:44:55");
        r->sys_uptime_cs = 4294967295ull * 3;
        r->hr_device_index = 1;
        r->header->n_raw = 1;
        r->header->raw = calloc (1, sizeof *r->header->raw);
        r->header->raw[0] = calloc (1, sizeof (Odc__Varbind));
        odc__varbind__init (r->header->raw[0]);
        r->header->raw[0]->oid = strdup ("1.3.6.1.2.1.1.1.0");
        r->header->raw[0]->type = 4;
        r->header->raw[0]->raw.len = 3;
        r->header->raw[0]->raw.data = malloc (3);
        memcpy (r->header->raw[0]->raw.data, "\x00\xff\x10", 3);
        env->body_case = ODC__ENVELOPE__BODY_IDENTITY;
        env->identity = r;
        break;
    }
    case 1: {
        Odc__AlertReading *r = calloc (1, sizeof *r);
        odc__alert_reading__init (r);
        r->header = s_header ("dev-1", 1);
        r->hr_device_status = 3;
        r->hr_printer_status = 1;
        r->detected_error_state = 0x8000;
        r->table_read = true;
        r->n_alerts = 2;
        r->alerts = calloc (2, sizeof *r->alerts);
        for (int i = 0; i < 2; i++) {
            r->alerts[i] = calloc (1, sizeof (Odc__Alert));
            odc__alert__init (r->alerts[i]);
            r->alerts[i]->index = i + 1;
            r->alerts[i]->severity = -2 + i; /* negative numbers too */
            r->alerts[i]->code = 808;
            r->alerts[i]->description = strdup (i ? "Toner low" : s_nasty);
        }
        env->body_case = ODC__ENVELOPE__BODY_ALERTS;
        env->alerts = r;
        break;
    }
    case 2: {
        Odc__MeterReading *r = calloc (1, sizeof *r);
        odc__meter_reading__init (r);
        r->header = s_header ("dev-2", 3);
        r->n_counters = 3;
        r->counters = calloc (3, sizeof *r->counters);
        const char *names[] = {"total", "mono", "colour"};
        for (int i = 0; i < 3; i++) {
            r->counters[i] = calloc (1, sizeof (Odc__Counter));
            odc__counter__init (r->counters[i]);
            r->counters[i]->name = strdup (names[i]);
            r->counters[i]->oid = strdup ("1.3.6.1.2.1.43.10.2.1.4.1.1");
            r->counters[i]->value = 18446744073709551615ull - (uint64_t)i;
            r->counters[i]->unit = strdup ("impressions");
            r->counters[i]->type = 0x41;
        }
        /*  With canonical meters, as the meters actor adds them. */
        r->n_canonical = 2;
        r->canonical = calloc (2, sizeof *r->canonical);
        for (int i = 0; i < 2; i++) {
            r->canonical[i] = calloc (1, sizeof (Odc__CanonicalMeter));
            odc__canonical_meter__init (r->canonical[i]);
            r->canonical[i]->name = strdup (i ? "mono" : "total");
            r->canonical[i]->value = 1000u + (uint64_t)i;
            r->canonical[i]->unit = strdup ("impressions");
            r->canonical[i]->derivation = strdup (i ? "vendor.c112 + vendor.c113" : "vendor.c101");
        }
        r->enterprise = 1602;
        r->sys_uptime_cs = 123456;
        r->rules = strdup ("1602 *");
        env->body_case = ODC__ENVELOPE__BODY_METERS;
        env->meters = r;
        break;
    }
    case 3: {
        Odc__SupplyReading *r = calloc (1, sizeof *r);
        odc__supply_reading__init (r);
        r->header = s_header ("dev-2", 4);
        r->n_supplies = 1;
        r->supplies = calloc (1, sizeof *r->supplies);
        r->supplies[0] = calloc (1, sizeof (Odc__Supply));
        odc__supply__init (r->supplies[0]);
        r->supplies[0]->description = strdup ("Black Toner");
        r->supplies[0]->max_capacity = -2;
        r->supplies[0]->level = -3;
        r->supplies[0]->percent = -1;
        r->supplies[0]->colorant = strdup ("black");
        env->body_case = ODC__ENVELOPE__BODY_SUPPLIES;
        env->supplies = r;
        break;
    }
    default: {
        Odc__TrayReading *r = calloc (1, sizeof *r);
        odc__tray_reading__init (r);
        r->header = s_header ("dev-3", 5);
        r->n_trays = 1;
        r->trays = calloc (1, sizeof *r->trays);
        r->trays[0] = calloc (1, sizeof (Odc__Tray));
        odc__tray__init (r->trays[0]);
        r->trays[0]->name = strdup (s_nasty);
        r->trays[0]->max_capacity = 500;
        r->n_covers = 1;
        r->covers = calloc (1, sizeof *r->covers);
        r->covers[0] = calloc (1, sizeof (Odc__Cover));
        odc__cover__init (r->covers[0]);
        r->covers[0]->status = 4;
        env->body_case = ODC__ENVELOPE__BODY_TRAYS;
        env->trays = r;
        break;
    }
    }
    return env;
}

/*  Same body, byte for byte, once packed. */
static bool
s_same (const Odc__Envelope *a, const Odc__Envelope *b)
{
    const ProtobufCMessage *ma = odc_bus_body (a), *mb = odc_bus_body (b);
    if (!ma || !mb || a->body_case != b->body_case)
        return false;
    size_t la = protobuf_c_message_get_packed_size (ma),
           lb = protobuf_c_message_get_packed_size (mb);
    uint8_t *pa = malloc (la + 1), *pb = malloc (lb + 1);
    protobuf_c_message_pack (ma, pa);
    protobuf_c_message_pack (mb, pb);
    bool same = la == lb && !memcmp (pa, pb, la);
    free (pa);
    free (pb);
    return same;
}

static void
test_clean (void)
{
    size_t len = 0;
    char *clean = odc_xml_clean (s_nasty, strlen (s_nasty));
    CHECKF (!strchr (clean, '\n') && !strchr (clean, '\x1b') && !strstr (clean, "\xff"), "%s",
            clean);
    CHECK (strstr (clean, "Tr\xc3\xa4y") != NULL); /* valid UTF-8 stays as it is */
    CHECK (strstr (clean, "\\\\") != NULL);
    CHECK (strstr (clean, "\\xed\\xa0\\x80") != NULL); /* an encoded surrogate is not UTF-8 */
    char *back = odc_xml_unclean (clean, &len);
    CHECK (back && len == strlen (s_nasty) && !memcmp (back, s_nasty, len));
    free (back);
    free (clean);
    CHECK (odc_xml_unclean ("bad \\q escape", &len) == NULL);
    CHECK (odc_xml_unclean ("cut \\x4", &len) == NULL);
}

/*  One test of UTF-8 for every writer (base/odc_text.h): JSON
    gets only valid UTF-8, whatever the device sent; the XML writer escapes
    the same bytes. */
static void
test_utf8 (void)
{
    static const struct {
        const char *in, *json;
    } cases[] = {
        {"ok \xc3\xa9", "\"ok \xc3\xa9\""},
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* a surrogate */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong '/' */
        {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},            /* overlong, 3 bytes */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* past U+10FFFF */
        {"cut \xe2\x82", "\"cut \\ufffd\\ufffd\""},               /* cut short */
        {"\xf0\x9f\x96\xa8 \"q\" \\ \x01", "\"\xf0\x9f\x96\xa8 \\\"q\\\" \\\\ \\u0001\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream (&out, &size);
        odc_text_json (f, cases[i].in, strlen (cases[i].in));
        fclose (f);
        CHECKF (!strcmp (out, cases[i].json), "case %zu: %s, not %s", i, out, cases[i].json);
        CHECKF (odc_utf8_valid (out, size), "case %zu", i);
        char *clean = odc_xml_clean (cases[i].in, strlen (cases[i].in));
        CHECKF (odc_utf8_valid (clean, strlen (clean)), "case %zu: %s", i, clean);
        free (clean);
        free (out);
    }
    /*  For a terminal: a device's escape sequence and bad bytes as U+FFFD. */
    char shown[64];
    odc_text_printable (shown, sizeof shown, "A\x1b[2J\xff\xc3\xa9");
    CHECKF (!strcmp (shown, "A\xef\xbf\xbd[2J\xef\xbf\xbd\xc3\xa9"), "%s", shown);
    /*  A cut never splits a character. */
    CHECK (odc_text_cut ("\xc3\xa9\xc3\xa9", 4, 3) == 2);
    CHECK (odc_text_cut ("abc", 3, 3) == 3);
}

/*  Every attribute of a record is read (those past 64 were
    dropped), and more than a record may have is refused, loudly. */
static void
test_attributes (void)
{
    for (int many = 200; many <= 300; many += 100) {
        char *xml = malloc (64 * 1024), *p = xml;
        p += sprintf (p, "<batch xmlns='%s'><alert", ODC_XML_NS);
        for (int i = 0; i < many; i++)
            p += sprintf (p, " future%d='1'", i);
        sprintf (p, " hr_device_status='3' hr_printer_status='4' detected_error_state='5'"
                    " critical_events='6' all_events='7'/></batch>");
        xmpp_stanza_t *el = xmpp_stanza_new_from_string (s_ctx, xml);
        Odc__Envelope **items = NULL;
        char *err = NULL;
        long n = el ? odc_xml_batch_items (s_ctx, el, &items, &err) : -1;
        if (many == 200)
            CHECKF (n == 1 && items[0]->alerts->hr_device_status == 3 &&
                        items[0]->alerts->hr_printer_status == 4 &&
                        items[0]->alerts->detected_error_state == 5 &&
                        items[0]->alerts->critical_events == 6 && items[0]->alerts->all_events == 7,
                    "%ld: %s", n, err ? err : "a field past 64 attributes was lost");
        else
            CHECKF (n < 0 && err && strstr (err, "attributes, more than the 256 a record may have"),
                    "%s", err ? err : "taken");
        if (n > 0)
            odc_xml_items_free (items, n);
        free (err);
        if (el)
            xmpp_stanza_release (el);
        free (xml);
    }
}

/*  Each kind, alone and all in one batch, plain and compressed. */
static void
test_round_trip (void)
{
    Odc__Batch batch = ODC__BATCH__INIT;
    Odc__Envelope *envs[5];
    for (int k = 0; k < 5; k++) {
        envs[k] = s_reading (k);
        xmpp_stanza_t *el = odc_xml_record (s_ctx, envs[k]);
        CHECK (el != NULL);
        char *text = NULL;
        size_t n = 0;
        xmpp_stanza_to_text (el, &text, &n);
        /*  What goes on the wire parses as XML on its own. */
        xmpp_stanza_t *parsed = xmpp_stanza_new_from_string (s_ctx, text);
        CHECKF (parsed != NULL, "%s", text);
        char *err = NULL;
        Odc__Envelope *back = parsed ? odc_xml_envelope (parsed, &err) : NULL;
        CHECKF (back && s_same (envs[k], back), "kind %d: %s\n%s", k, err ? err : "differs", text);
        if (back)
            odc__envelope__free_unpacked (back, NULL);
        free (err);
        if (parsed)
            xmpp_stanza_release (parsed);
        xmpp_free (s_ctx, text);
        xmpp_stanza_release (el);
    }
    batch.n_items = 5;
    batch.items = envs;
    Odc__OutboxRecord record = ODC__OUTBOX_RECORD__INIT;
    record.seq = 42;
    record.kind = "mixed";
    record.payload.len = odc__batch__get_packed_size (&batch);
    record.payload.data = malloc (record.payload.len);
    odc__batch__pack (&batch, record.payload.data);
    for (int compress = 0; compress < 2; compress++) {
        size_t plain = 0, wire = 0;
        xmpp_stanza_t *el = odc_xml_batch (s_ctx, &record, compress, &plain, &wire, NULL);
        char *text = NULL;
        size_t n = 0;
        xmpp_stanza_to_text (el, &text, &n);
        xmpp_stanza_t *parsed = xmpp_stanza_new_from_string (s_ctx, text);
        Odc__Envelope **items = NULL;
        char *err = NULL;
        long count = parsed ? odc_xml_batch_items (s_ctx, parsed, &items, &err) : -1;
        CHECKF (count == 5, "compress %d: %ld: %s", compress, count, err ? err : "");
        for (long i = 0; i < count && i < 5; i++)
            CHECKF (s_same (envs[i], items[i]), "compress %d item %ld", compress, i);
        if (compress)
            CHECKF (wire < plain && strstr (text, "encoding=\"deflate\"") != NULL,
                    "wire %zu plain %zu", wire, plain);
        else
            CHECK (wire == plain);
        odc_xml_items_free (items, count);
        free (err);
        if (parsed)
            xmpp_stanza_release (parsed);
        xmpp_free (s_ctx, text);
        xmpp_stanza_release (el);
    }
    free (record.payload.data);
    for (int k = 0; k < 5; k++)
        odc__envelope__free_unpacked (envs[k], NULL);
}

/*  Parse XML text as a batch; the error, or NULL when taken. */
static char *
s_refused (const char *xml)
{
    xmpp_stanza_t *el = xmpp_stanza_new_from_string (s_ctx, xml);
    if (!el)
        return strdup ("not XML");
    Odc__Envelope **items = NULL;
    char *err = NULL;
    long n = odc_xml_batch_items (s_ctx, el, &items, &err);
    xmpp_stanza_release (el);
    if (n >= 0) {
        odc_xml_items_free (items, n);
        free (err);
        return NULL;
    }
    return err ? err : strdup ("(no reason)");
}

static void
test_hostile (void)
{
    const char *ns = "xmlns='" ODC_XML_NS "'";
    char xml[4096];
    struct {
        const char *body, *attrs, *reason;
    } cases[] = {
        {"<meters/>", "xmlns='urn:other'", "not a <batch"},
        {"<virus/>", NULL, "is not a record"},
        {"<meters><header><raw><raw/></raw></header></meters>", NULL, "has no child <raw>"},
        {"<meters><counters value='12x'/></meters>", NULL, "not a valid value"},
        {"<meters><counters value='-1'/></meters>", NULL, "not a valid value"},
        {"<alert hr_device_status='99999999999'/>", NULL, "not a valid"},
        {"<asset serial='bad \\q'/>", NULL, "not a valid serial"},
        {"<meters><header/><header/></meters>", NULL, "more than one <header>"},
        {"QUJD", "encoding='deflate'", "damaged"},
        {"!!!!", "encoding='deflate'", "not base64"},
        {"", "encoding='gzip'", "unknown encoding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf (xml, sizeof xml, "<batch %s>%s</batch>", cases[i].attrs ? cases[i].attrs : ns,
                  cases[i].body);
        if (cases[i].attrs && strstr (cases[i].attrs, "encoding"))
            snprintf (xml, sizeof xml, "<batch %s %s>%s</batch>", ns, cases[i].attrs,
                      cases[i].body);
        char *err = s_refused (xml);
        CHECKF (err && strstr (err, cases[i].reason), "%s: %s", xml, err ? err : "taken");
        free (err);
    }
    /*  Deep nesting, well-formed: refused at once, whatever the depth. */
    size_t depth = 5000;
    char *deep = malloc (depth * 20 + 200), *p = deep;
    p += sprintf (p, "<batch xmlns='%s'><meters>", ODC_XML_NS);
    for (size_t i = 0; i < depth; i++)
        p += sprintf (p, "<header>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf (p, "</header>");
    sprintf (p, "</meters></batch>");
    char *err = s_refused (deep);
    CHECKF (err && strstr (err, "no child <header>"), "%s", err ? err : "taken");
    free (err);
    free (deep);
    /*  Unknown attributes (a newer collector) are taken. */
    snprintf (xml, sizeof xml,
              "<batch %s><meters future='1'><header device_id='d'/></meters></batch>", ns);
    err = s_refused (xml);
    CHECKF (err == NULL, "%s", err);
    free (err);
}

/*  A deflate bomb: 100 MB of spaces in a few hundred kB is refused. */
#include <openssl/evp.h>
#include <zlib.h>
static void
test_bomb (void)
{
    size_t n = 100u << 20;
    char *spaces = malloc (n);
    memset (spaces, ' ', n);
    uLongf zlen = compressBound (n);
    unsigned char *z = malloc (zlen);
    compress2 (z, &zlen, (Bytef *)spaces, n, 9);
    free (spaces);
    char *b64 = malloc (4 * ((zlen + 2) / 3) + 1);
    EVP_EncodeBlock ((unsigned char *)b64, z, (int)zlen);
    free (z);
    char *xml = malloc (strlen (b64) + 200);
    sprintf (xml, "<batch xmlns='%s' encoding='deflate'>%s</batch>", ODC_XML_NS, b64);
    free (b64);
    char *err = s_refused (xml);
    CHECKF (err && strstr (err, "inflates past"), "%s", err ? err : "taken");
    free (err);
    free (xml);
}

/*  One batch file (plain) of a record kind's envelopes. */
static int
s_write_batch (const char *dir, const char *kind, const char *name, Odc__Envelope **items, size_t n)
{
    /*  The payload as the uploader and the registry build it: packed
        envelopes appended (odc_bus_batch_append). */
    Odc__OutboxRecord record = ODC__OUTBOX_RECORD__INIT;
    record.seq = 8;
    record.created_ms = 1764000000999ull;
    record.kind = (char *)kind;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size = odc__envelope__get_packed_size (items[i]);
        uint8_t *packed = malloc (size);
        odc__envelope__pack (items[i], packed);
        odc_bus_batch_append (&record.payload.data, &record.payload.len, &cap, packed, size);
        free (packed);
    }
    size_t plain, wire;
    xmpp_stanza_t *el = odc_xml_batch (s_ctx, &record, 0, &plain, &wire, NULL);
    free (record.payload.data);
    if (!el)
        return 1;
    char *text = NULL, path[1024];
    size_t len = 0;
    xmpp_stanza_to_text (el, &text, &len);
    snprintf (path, sizeof path, "%s/%s.xml", dir, name);
    FILE *f = fopen (path, "w");
    if (f) {
        fprintf (f, "%s\n", text);
        fclose (f);
    }
    xmpp_free (s_ctx, text);
    xmpp_stanza_release (el);
    return f ? 0 : 1;
}

/*  An event of every type, as the registry puts it in its outbox record
    (odc_registry_event_fill: the portal's fields from the device's; the
    DeviceEvent message holds nothing else). */
static int
s_write_events (const char *dir)
{
    Odc__Device device = ODC__DEVICE__INIT;
    device.id = "dev-1";
    device.address = "10.0.0.1";
    device.serial = "CN12345678";
    device.mac = "00:11:22:33:44:55";
    device.vendor = "HP";
    device.model = (char *)s_nasty;
    device.location = (char *)s_nasty;
    device.asset_number = "A-1";
    Odc__DeviceEvent events[ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET];
    Odc__Envelope envs[ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET];
    Odc__Envelope *items[ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET];
    size_t n = 0;
    for (int type = ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_NEW;
         type <= ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET; type++, n++) {
        Odc__DeviceEvent *ev = &events[n];
        odc__device_event__init (ev);
        ev->type = (Odc__DeviceEventType)type;
        odc_registry_event_fill (ev, &device, 1764000000000ull);
        ev->old_address = type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MOVED ? "10.0.0.9" : "";
        ev->old_serial = type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED ? "CN0" : "";
        ev->old_device_id = type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED ? "dev-0" : "";
        ev->old_mac =
            type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MAC_CHANGED ? "00:11:22:33:44:00" : "";
        ev->last_seen_ms =
            type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING ? 1763000000000ull : 0;
        if (type == ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_METER_RESET) {
            /*  The validator's: the counter, its last value and its new. */
            ev->counter = "vendor.c101";
            ev->old_value = 161948;
            ev->new_value = 12;
            ev->how = "restart";
        }
        odc__envelope__init (&envs[n]);
        envs[n].version = ODC_ENVELOPE_VERSION;
        envs[n].source = "registry";
        envs[n].body_case = ODC__ENVELOPE__BODY_DEVICE_EVENT;
        envs[n].device_event = ev;
        items[n] = &envs[n];
    }
    return s_write_batch (dir, "event", "event-plain", items, n);
}

/*  An alert event of every type, as triage writes them
    (odc_triage_event_message), with a device's hostile text. */
static int
s_write_alert_events (const char *dir)
{
    odc_triage_event_t e[3];
    Odc__AlertEvent ev[3];
    Odc__TriagedAlert alert[3];
    Odc__Envelope envs[3], *items[3];
    for (int i = 0; i < 3; i++) {
        memset (&e[i], 0, sizeof e[i]);
        e[i].type = (Odc__AlertEventType)(ODC__ALERT_EVENT_TYPE__ALERT_RAISED + i);
        odc_triaged_t *a = &e[i].alert;
        snprintf (a->alert_id, sizeof a->alert_id, "dev-1/1764000000000/%d", i + 1);
        snprintf (a->code, sizeof a->code, "jam");
        snprintf (a->category, sizeof a->category, "jam");
        snprintf (a->severity, sizeof a->severity, i == 1 ? "warning" : "critical");
        snprintf (a->training, sizeof a->training, "trained");
        snprintf (a->source, sizeof a->source, "row");
        snprintf (a->description, sizeof a->description, "%s", s_nasty);
        a->raw_code = 8, a->group = 13, a->location = 1, a->index = 4, a->bit = 5;
        a->raw_severity = 3, a->raised_ms = 1764000000000ull, a->repeats = 2, a->flaps = 1;
        e[i].at_ms = 1764000060000ull;
        if (i == 1)
            snprintf (e[i].old_severity, sizeof e[i].old_severity, "critical");
        if (i == 2) {
            a->cleared_ms = 1764000600000ull;
            e[i].duration_s = 600;
        }
        odc_triage_event_message (&e[i], "dev-1", "10.0.0.1", &ev[i], &alert[i]);
        odc__envelope__init (&envs[i]);
        envs[i].version = ODC_ENVELOPE_VERSION;
        envs[i].source = "triage";
        envs[i].body_case = ODC__ENVELOPE__BODY_ALERT_EVENT;
        envs[i].alert_event = &ev[i];
        items[i] = &envs[i];
    }
    return s_write_batch (dir, "alert-event", "alert-event-plain", items, 3);
}

/*  --examples DIR: one batch of each kind, plain and deflated, as the
    bridge sends them, for the schema check (tests/test_xml_schema.sh). */
static int
s_examples (const char *dir)
{
    const char *kinds[5] = {"asset", "alert", "meters", "supply", "tray"};
    for (int k = 0; k < 5; k++) {
        Odc__Envelope *env = s_reading (k);
        Odc__Batch batch = ODC__BATCH__INIT;
        batch.n_items = 1;
        batch.items = &env;
        Odc__OutboxRecord record = ODC__OUTBOX_RECORD__INIT;
        record.seq = 7;
        record.created_ms = 1764000000999ull;
        record.kind = (char *)kinds[k];
        record.payload.len = odc__batch__get_packed_size (&batch);
        record.payload.data = malloc (record.payload.len);
        odc__batch__pack (&batch, record.payload.data);
        for (int compress = 0; compress < 2; compress++) {
            size_t plain, wire;
            xmpp_stanza_t *el = odc_xml_batch (s_ctx, &record, compress, &plain, &wire, NULL);
            char *text = NULL, path[1024];
            size_t n = 0;
            xmpp_stanza_to_text (el, &text, &n);
            snprintf (path, sizeof path, "%s/%s-%s.xml", dir, kinds[k],
                      compress ? "deflate" : "plain");
            FILE *f = fopen (path, "w");
            if (!f)
                return 1;
            fprintf (f, "%s\n", text);
            fclose (f);
            xmpp_free (s_ctx, text);
            xmpp_stanza_release (el);
        }
        free (record.payload.data);
        odc__envelope__free_unpacked (env, NULL);
    }
    return s_write_events (dir) || s_write_alert_events (dir);
}

/*  The appended payload is what protobuf-c packs for the same Batch, for
    envelopes of every length class of the varint (0, 1 and 2+ bytes). */
static void
test_batch_append (void)
{
    size_t sizes[] = {0, 100, 127, 128, 300, 20000, 70000};
    Odc__Envelope envs[7], *items[7];
    char *texts[7];
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < 7; i++) {
        odc__envelope__init (&envs[i]);
        texts[i] = calloc (1, sizes[i] + 1);
        memset (texts[i], 'x', sizes[i]);
        envs[i].source = texts[i];
        items[i] = &envs[i];
        size_t size = odc__envelope__get_packed_size (&envs[i]);
        uint8_t *packed = malloc (size ? size : 1);
        odc__envelope__pack (&envs[i], packed);
        odc_bus_batch_append (&data, &len, &cap, packed, size);
        free (packed);
    }
    Odc__Batch batch = ODC__BATCH__INIT;
    batch.n_items = 7;
    batch.items = items;
    size_t want = odc__batch__get_packed_size (&batch);
    uint8_t *expect = malloc (want);
    odc__batch__pack (&batch, expect);
    CHECKF (len == want && !memcmp (data, expect, want), "appended %zu bytes, protobuf-c %zu", len,
            want);
    Odc__Batch *back = odc__batch__unpack (NULL, len, data);
    CHECK (back && back->n_items == 7 && strlen (back->items[6]->source) == 70000);
    if (back)
        odc__batch__free_unpacked (back, NULL);
    free (expect);
    free (data);
    for (int i = 0; i < 7; i++)
        free (texts[i]);
}

int
main (int argc, char **argv)
{
    xmpp_initialize ();
    s_ctx = xmpp_ctx_new (NULL, NULL);
    if (argc == 3 && !strcmp (argv[1], "--examples")) {
        int rc = s_examples (argv[2]);
        xmpp_ctx_free (s_ctx);
        xmpp_shutdown ();
        return rc;
    }
    RUN (test_clean);
    RUN (test_utf8);
    RUN (test_attributes);
    RUN (test_round_trip);
    RUN (test_hostile);
    RUN (test_bomb);
    RUN (test_batch_append);
    xmpp_ctx_free (s_ctx);
    xmpp_shutdown ();
    TEST_END ();
}
