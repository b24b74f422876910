/*  odc_read: see odc_read.h. */
#include "odc_read.h"
#include "odc_bus.h"
#include "odc_bytes.h"
#include "odc_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define X_MAX 16

/* ------------------------------------------------------------------------
   OIDs (PRINTER-MIB.md). The printer's index and the row come after. */

static const oid s_sys[] = {1, 3, 6, 1, 2, 1, 1};
static const oid s_if_phys[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 6};
static const oid s_hr_device[] = {1, 3, 6, 1, 2, 1, 25, 3, 2, 1};   /* .2 type .3 descr .5 status */
static const oid s_hr_printer[] = {1, 3, 6, 1, 2, 1, 25, 3, 5, 1};  /* .1 status .2 error state */
static const oid s_prt_general[] = {1, 3, 6, 1, 2, 1, 43, 5, 1, 1}; /* .17 serial .18/.19 events */
static const oid s_prt_alert[] = {1, 3, 6, 1, 2, 1, 43, 18, 1, 1};  /* .2 - .9 */
static const oid s_prt_marker[] = {1, 3, 6, 1, 2, 1, 43, 10, 2, 1}; /* .3 unit .4 life count */
static const oid s_prt_supplies[] = {1, 3, 6, 1, 2, 1, 43, 11, 1, 1}; /* .3 - .9 */
static const oid s_prt_colorant[] = {1, 3, 6, 1, 2, 1, 43, 12, 1, 1, 4};
static const oid s_prt_input[] = {1, 3, 6, 1, 2, 1, 43, 8, 2, 1};
static const oid s_prt_cover[] = {1, 3, 6, 1, 2, 1, 43, 6, 1, 1}; /* .2 descr .3 status */
static const oid s_hr_printer_type[] = {1, 3, 6, 1, 2, 1, 25, 3, 1, 5};
#define LEN(a) (sizeof (a) / sizeof (a)[0])

static odc_oid_t
s_make (const oid *base, size_t len, int n, ...)
{
    odc_oid_t o;
    memcpy (o.name, base, len * sizeof (oid));
    o.len = len;
    va_list ap;
    va_start (ap, n);
    for (int i = 0; i < n; i++)
        o.name[o.len++] = va_arg (ap, unsigned long);
    va_end (ap);
    return o;
}

/* ------------------------------------------------------------------------
   Vendor counters */

odc_vendor_map_t *
odc_vendor_map_load (const char *path, char **error)
{
    FILE *in = fopen (path, "r");
    if (!in) {
        if (asprintf (error, "%s: %s", path, strerror (errno)) == -1)
            *error = NULL;
        return NULL;
    }
    odc_vendor_map_t *self = calloc (1, sizeof *self);
    char line[512];
    int lineno = 0;
    size_t size = 0;
    while (fgets (line, sizeof line, in)) {
        lineno++;
        line[strcspn (line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *enterprise = strtok (line, "\t");
        char *name = strtok (NULL, "\t");
        char *text = strtok (NULL, "\t");
        odc_vendor_counter_t c = {0};
        char *end = NULL;
        c.enterprise = enterprise ? (uint32_t)strtoul (enterprise, &end, 10) : 0;
        if (!enterprise || *end || !name || !text || odc_oid_parse (text, &c.oid) != 0 ||
            strlen (name) >= sizeof c.name) {
            if (asprintf (error, "%s:%d: expected ENTERPRISE<TAB>NAME<TAB>OID", path, lineno) == -1)
                *error = NULL;
            fclose (in);
            odc_vendor_map_destroy (&self);
            return NULL;
        }
        snprintf (c.name, sizeof c.name, "%s", name);
        if (self->count == size) {
            size = size ? size * 2 : 64;
            self->counters = realloc (self->counters, size * sizeof c);
        }
        self->counters[self->count++] = c;
    }
    fclose (in);
    return self;
}

void
odc_vendor_map_destroy (odc_vendor_map_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->counters);
    free (*self_p);
    *self_p = NULL;
}

uint32_t
odc_enterprise_of (const char *sys_object_id)
{
    const char *p = sys_object_id;
    if (*p == '.')
        p++;
    if (strncmp (p, "1.3.6.1.4.1.", 12) != 0)
        return 0;
    return (uint32_t)strtoul (p + 12, NULL, 10);
}

size_t
odc_vendor_map_maker (const odc_vendor_map_t *map, uint32_t enterprise,
                      const odc_vendor_counter_t **out)
{
    size_t k = 0;
    for (size_t i = 0; map && enterprise && i < map->count && k < ODC_READ_MAX_VENDOR; i++)
        if (map->counters[i].enterprise == enterprise)
            out[k++] = &map->counters[i];
    return k;
}

/* ------------------------------------------------------------------------
   What each loop asks */

void
odc_read_prepare (odc_loop_t loop, uint32_t x, bool table,
                  const odc_vendor_counter_t *const *vendor, size_t n_vendor, odc_read_oids_t *st,
                  odc_snmp_job_t *job)
{
    size_t ns = 0, nc = 0;
    if (!x)
        x = 1;
    switch (loop) {
    case ODC_LOOP_IDENTITY: {
        /*  sysObjectID, sysDescr, sysName, sysLocation, sysContact, sysUpTime */
        static const unsigned long sys[] = {2, 1, 5, 6, 4, 3};
        for (size_t i = 0; i < LEN (sys); i++)
            st->scalars[ns++] = s_make (s_sys, LEN (s_sys), 2, sys[i], 0UL);
    }
        st->scalars[ns++] = s_make (s_prt_general, LEN (s_prt_general), 2, 17UL, (unsigned long)x);
        st->scalars[ns++] = s_make (s_hr_device, LEN (s_hr_device), 2, 3UL, (unsigned long)x);
        st->columns[nc++] = s_make (s_if_phys, LEN (s_if_phys), 0);
        st->columns[nc++] = s_make (s_hr_device, LEN (s_hr_device), 1, 2UL);
        break;
    case ODC_LOOP_ALERT:
        if (!table) {
            st->scalars[ns++] = s_make (s_hr_device, LEN (s_hr_device), 2, 5UL, (unsigned long)x);
            st->scalars[ns++] = s_make (s_hr_printer, LEN (s_hr_printer), 2, 1UL, (unsigned long)x);
            st->scalars[ns++] = s_make (s_hr_printer, LEN (s_hr_printer), 2, 2UL, (unsigned long)x);
            st->scalars[ns++] =
                s_make (s_prt_general, LEN (s_prt_general), 2, 18UL, (unsigned long)x);
            st->scalars[ns++] =
                s_make (s_prt_general, LEN (s_prt_general), 2, 19UL, (unsigned long)x);
        }
        else
            for (unsigned long col = 2; col <= 9; col++)
                st->columns[nc++] =
                    s_make (s_prt_alert, LEN (s_prt_alert), 2, col, (unsigned long)x);
        break;
    case ODC_LOOP_METER:
        st->columns[nc++] = s_make (s_prt_marker, LEN (s_prt_marker), 2, 4UL, (unsigned long)x);
        st->columns[nc++] = s_make (s_prt_marker, LEN (s_prt_marker), 2, 3UL, (unsigned long)x);
        for (size_t i = 0; i < n_vendor && ns < LEN (st->scalars) - 1; i++)
            st->scalars[ns++] = vendor[i]->oid;
        /*  sysUpTime after the vendor counters (their indexes stay those
            of vendor): a restart since the last reading shows. */
        st->scalars[ns++] = s_make (s_sys, LEN (s_sys), 2, 3UL, 0UL);
        break;
    case ODC_LOOP_SUPPLY:
        for (unsigned long col = 3; col <= 9; col++)
            st->columns[nc++] =
                s_make (s_prt_supplies, LEN (s_prt_supplies), 2, col, (unsigned long)x);
        st->columns[nc++] = s_make (s_prt_colorant, LEN (s_prt_colorant), 1, (unsigned long)x);
        break;
    case ODC_LOOP_TRAY: {
        static const unsigned long cols[] = {2, 4, 5, 8, 9, 10, 11, 12, 13, 18};
        for (size_t i = 0; i < LEN (cols); i++)
            st->columns[nc++] =
                s_make (s_prt_input, LEN (s_prt_input), 2, cols[i], (unsigned long)x);
        st->columns[nc++] = s_make (s_prt_cover, LEN (s_prt_cover), 2, 2UL, (unsigned long)x);
        st->columns[nc++] = s_make (s_prt_cover, LEN (s_prt_cover), 2, 3UL, (unsigned long)x);
        break;
    }
    default: break;
    }
    job->scalars = ns ? st->scalars : NULL;
    job->n_scalars = ns;
    job->columns = nc ? st->columns : NULL;
    job->n_columns = nc;
}

/* ------------------------------------------------------------------------
   Values */

/*  Text from a device as valid UTF-8: control characters become blanks,
    bytes that are not UTF-8 are taken as Latin-1, trailing blanks and NULs
    go, at most ODC_TEXT_MAX bytes. Always a new string. */
static char *
s_utf8 (const uint8_t *in, size_t len)
{
    /*  Valid UTF-8 is copied (RFC 3629, odc_utf8_char: no overlongs, no
        surrogates, nothing past U+10FFFF); any other byte is Latin-1 (two
        bytes at most per byte in). Controls (C0, DEL, and C1 whether sent
        as UTF-8 or as a Latin-1 byte) become blanks. */
    char *out = malloc (len * 2 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint8_t c = in[i];
        if (c < 0x80) {
            out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t k = odc_utf8_char (in + i, len - i, &cp);
        if (k && cp >= 0xa0) {
            memcpy (out + n, in + i, k);
            n += k;
            i += k;
        }
        else if (k || c < 0xa0) {
            out[n++] = ' '; /* a C1 control */
            i += k ? k : 1;
        }
        else {
            out[n++] = (char)(0xc0 | (c >> 6));
            out[n++] = (char)(0x80 | (c & 0x3f));
            i++;
        }
    }
    /*  Bounded (ODC_TEXT_MAX bytes, at a character boundary): a 60 kB
        sysDescr was stored, queued and sent as it came. The longest text
        of the recordings is 156 bytes. */
    n = odc_text_cut (out, n, ODC_TEXT_MAX);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0))
        n--;
    out[n] = 0;
    return out;
}

static const odc_snmp_value_t *
s_scalar (const odc_snmp_job_t *job, size_t i)
{
    if (i >= job->n_scalars || i >= job->n_values)
        return NULL;
    const odc_snmp_value_t *v = &job->values[i];
    return v->type == SNMP_NOSUCHINSTANCE || v->type == SNMP_NOSUCHOBJECT ? NULL : v;
}

static char *
s_text (const odc_snmp_value_t *v)
{
    if (!v || v->type != ASN_OCTET_STR)
        return strdup ("");
    return s_utf8 (v->value, v->len);
}

static char *
s_oid_text (const oid *name, size_t len)
{
    /*  By hand: sprintf per sub-identifier was a tenth of a loop's CPU. */
    char *out = malloc (len * 11 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (i)
            out[n++] = '.';
        char digits[10];
        size_t k = 0;
        uint32_t v = (uint32_t)name[i];
        do
            digits[k++] = (char)('0' + v % 10);
        while ((v /= 10) && k < sizeof digits);
        while (k)
            out[n++] = digits[--k];
    }
    out[n] = 0;
    return out;
}

/*  A count (a counter, gauge, time, or an INTEGER that is not negative);
    0 when it is none: a negative INTEGER is a sentinel or broken firmware,
    and cast to unsigned it was 4,294,967,295 pages or alerts. */
static uint64_t
s_count (const odc_snmp_value_t *v)
{
    return v ? odc_snmp_value_u64 (v) : 0;
}

/*  A count of pages or events: 0 with *out, or -1 when it is none. Past
    2^31 (2^63 for Counter64) is no printer's: it is a negative number
    coded as a Counter32 (net-snmp reads 41 04 ff ff ff fb as 4294967291),
    or garbage. */
static int
s_plausible_count (const odc_snmp_value_t *v, uint64_t *out)
{
    if (!v || odc_snmp_value_count (v, out) != 0)
        return -1;
    uint64_t limit = v->type == ASN_COUNTER64 ? (uint64_t)1 << 63 : (uint64_t)1 << 31;
    return *out < limit ? 0 : -1;
}

/*  A TimeTicks (or an INTEGER that is not negative), 0 otherwise. */
static uint64_t
s_time (const odc_snmp_value_t *v)
{
    return v && (v->type == ASN_TIMETICKS || v->type == ASN_INTEGER) ? s_count (v) : 0;
}

/*  A Printer MIB level or capacity: a number, or one of its sentinels
    (-1 other, -2 unknown, -3 some remain); below that, invalid, read as
    -2 (unknown). */
static int32_t
s_level (long value)
{
    return value < -3 || value > INT32_MAX ? -2 : (int32_t)value;
}

/*  An enumeration of 1..max (hrDeviceStatus, hrPrinterStatus): 0 when out
    of range. */
static int32_t
s_enum (long value, long max)
{
    return value >= 1 && value <= max ? (int32_t)value : 0;
}

static long
s_int (const odc_snmp_value_t *v, long otherwise)
{
    if (!v)
        return otherwise;
    switch (v->type) {
    case ASN_INTEGER:
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS: return odc_snmp_value_int (v);
    default: return otherwise;
    }
}

/*  The value as received on the wire: integers big-endian two's
    complement (minimal), Counter64 as 8 bytes, OIDs as dotted text. */
static void
s_raw (const odc_snmp_value_t *v, ProtobufCBinaryData *out)
{
    uint8_t buf[16];
    size_t n = 0;
    const uint8_t *src = buf;
    switch (v->type) {
    case ASN_INTEGER:
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS: {
        long l = odc_snmp_value_int (v);
        int64_t x = v->type == ASN_INTEGER ? (int64_t)(int32_t)l : (int64_t)(uint32_t)l;
        for (int shift = 32; shift >= 0; shift -= 8) {
            uint8_t b = (uint8_t)(x >> shift);
            if (n == 0 && shift > 0) {
                /*  Skip leading bytes that only repeat the sign. */
                uint8_t next = (uint8_t)(x >> (shift - 8));
                if ((b == 0 && !(next & 0x80)) || (b == 0xff && (next & 0x80)))
                    continue;
            }
            buf[n++] = b;
        }
        break;
    }
    case ASN_COUNTER64: {
        uint64_t x = odc_snmp_value_u64 (v);
        for (int i = 7; i >= 0; i--)
            buf[n++] = (uint8_t)(x >> (8 * i));
        break;
    }
    case ASN_OBJECT_ID: {
        char *text = s_oid_text ((const oid *)v->value, v->len / sizeof (oid));
        out->len = strlen (text);
        out->data = (uint8_t *)text;
        return;
    }
    default: src = v->value, n = v->len; break;
    }
    out->data = n ? malloc (n) : NULL;
    if (n)
        memcpy (out->data, src, n);
    out->len = n;
}

Odc__ReadingHeader *
odc_read_header (const odc_snmp_job_t *job, odc_loop_t loop)
{
    Odc__ReadingHeader *h = malloc (sizeof *h);
    odc__reading_header__init (h);
    h->address = strdup (job->address);
    h->device_id = strdup ("");
    h->loop = odc_loop_wire (loop);
    h->started_ms = job->started_ms;
    h->finished_ms = job->finished_ms;
    h->requests = job->requests;
    h->bytes_out = job->bytes_out;
    h->bytes_in = job->bytes_in;
    h->timeouts = job->timeouts;
    if (!job->keep_raw)
        return h;
    h->raw = job->n_values ? malloc (job->n_values * sizeof *h->raw) : NULL;
    for (size_t i = 0; i < job->n_values; i++) {
        const odc_snmp_value_t *v = &job->values[i];
        Odc__Varbind *vb = malloc (sizeof *vb);
        odc__varbind__init (vb);
        vb->oid = s_oid_text (v->name, v->name_len);
        vb->type = v->type;
        s_raw (v, &vb->raw);
        h->raw[h->n_raw++] = vb;
    }
    return h;
}

/*  Rows of a table read by one job: each value's row is the last
    sub-identifier; columns are the job's column indexes. */
typedef struct {
    uint32_t row;
    const odc_snmp_value_t *col[16];
} s_row_t;

static size_t
s_rows (const odc_snmp_job_t *job, int first, int count, s_row_t *rows, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < job->n_values; i++) {
        const odc_snmp_value_t *v = &job->values[i];
        if (v->column < first || v->column >= first + count || v->name_len == 0)
            continue;
        uint32_t row = (uint32_t)v->name[v->name_len - 1];
        size_t k = 0;
        while (k < n && rows[k].row != row)
            k++;
        if (k == n) {
            if (n == max)
                continue;
            memset (&rows[n], 0, sizeof rows[n]);
            rows[n++].row = row;
        }
        rows[k].col[v->column - first] = v;
    }
    return n;
}

/*  Every row of those columns, however many the walk brought (the engine
    bounds a column at ODC_SNMP_MAX_ROWS): fixed arrays of 16 to 64 rows
    dropped the rest without a word. The caller frees. */
static s_row_t *
s_rows_all (const odc_snmp_job_t *job, int first, int count, size_t *n)
{
    size_t max = 0;
    for (size_t i = 0; i < job->n_values; i++)
        max += job->values[i].column >= first && job->values[i].column < first + count;
    s_row_t *rows = malloc ((max ? max : 1) * sizeof *rows);
    *n = s_rows (job, first, count, rows, max);
    return rows;
}

uint32_t
odc_read_printer_index (const odc_snmp_job_t *job)
{
    for (size_t i = 0; i < job->n_values; i++) {
        const odc_snmp_value_t *v = &job->values[i];
        if (v->column == 1 && v->type == ASN_OBJECT_ID &&
            v->len == LEN (s_hr_printer_type) * sizeof (oid) &&
            memcmp (v->value, s_hr_printer_type, v->len) == 0)
            return (uint32_t)v->name[v->name_len - 1];
    }
    return 0;
}

static const struct {
    uint32_t enterprise;
    const char *name;
} s_makers[] = {{11, "HP"},        {253, "Xerox"},    {367, "Ricoh"},    {641, "Lexmark"},
                {674, "Dell"},     {1347, "Kyocera"}, {1602, "Canon"},   {1248, "Epson"},
                {2435, "Brother"}, {2385, "Sharp"},   {236, "Samsung"},  {18334, "Konica Minolta"},
                {1129, "Toshiba"}, {2001, "OKI"},     {297, "Fujifilm"}, {10642, "Zebra"},
                {683, "Zebra"},    {2699, "PWG"}};

Odc__IdentityReading *
odc_read_identity (const odc_snmp_job_t *job)
{
    if (job->status != ODC_SNMP_OK)
        return NULL;
    Odc__IdentityReading *r = malloc (sizeof *r);
    odc__identity_reading__init (r);
    r->header = odc_read_header (job, ODC_LOOP_IDENTITY);
    const odc_snmp_value_t *v = s_scalar (job, 0);
    r->sys_object_id = v && v->type == ASN_OBJECT_ID
                           ? s_oid_text ((const oid *)v->value, v->len / sizeof (oid))
                           : strdup ("");
    r->sys_descr = s_text (s_scalar (job, 1));
    r->sys_name = s_text (s_scalar (job, 2));
    r->sys_location = s_text (s_scalar (job, 3));
    r->sys_contact = s_text (s_scalar (job, 4));
    r->sys_uptime_cs = s_time (s_scalar (job, 5));
    v = s_scalar (job, 6);
    /*  HP's private strings start with the two bytes 01 15. */
    if (v && v->type == ASN_OCTET_STR && v->len >= 2 && v->value[0] == 0x01 && v->value[1] == 0x15)
        r->serial = s_utf8 (v->value + 2, v->len - 2);
    else
        r->serial = s_text (v);
    r->hr_device_descr = s_text (s_scalar (job, 7));
    r->hr_device_index = (int32_t)odc_read_printer_index (job);
    r->mac = strdup ("");
    for (size_t i = 0; i < job->n_values; i++) {
        const odc_snmp_value_t *m = &job->values[i];
        if (m->column == 0 && m->type == ASN_OCTET_STR && m->len == 6 &&
            memcmp (m->value, "\0\0\0\0\0\0", 6) != 0) {
            free (r->mac);
            r->mac = malloc (18);
            snprintf (r->mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m->value[0], m->value[1],
                      m->value[2], m->value[3], m->value[4], m->value[5]);
            break;
        }
    }
    uint32_t enterprise = odc_enterprise_of (r->sys_object_id);
    const char *maker = "";
    for (size_t i = 0; i < LEN (s_makers); i++)
        if (s_makers[i].enterprise == enterprise)
            maker = s_makers[i].name;
    r->vendor = strdup (maker);
    r->model = strdup (r->hr_device_descr[0] ? r->hr_device_descr : r->sys_descr);
    return r;
}

Odc__AlertReading *
odc_read_alerts (const odc_snmp_job_t *status, const odc_snmp_job_t *table)
{
    if (status->status != ODC_SNMP_OK)
        return NULL;
    Odc__AlertReading *r = malloc (sizeof *r);
    odc__alert_reading__init (r);
    r->header = odc_read_header (status, ODC_LOOP_ALERT);
    r->hr_device_status = s_enum (s_int (s_scalar (status, 0), 0), 5);
    r->hr_printer_status = s_enum (s_int (s_scalar (status, 1), 0), 5);
    const odc_snmp_value_t *e = s_scalar (status, 2);
    if (e && e->type == ASN_OCTET_STR) {
        /*  0, 1 or 2 octets; bit 0 is the first octet's high bit. */
        uint32_t word = 0;
        for (size_t i = 0; i < 2; i++)
            word = (word << 8) | (i < e->len ? e->value[i] : 0);
        r->detected_error_state = word;
        r->detected_error_raw.len = e->len;
        r->detected_error_raw.data = e->len ? malloc (e->len) : NULL;
        if (e->len)
            memcpy (r->detected_error_raw.data, e->value, e->len);
    }
    uint64_t events;
    r->critical_events =
        s_plausible_count (s_scalar (status, 3), &events) == 0 ? (uint32_t)events : 0;
    r->all_events = s_plausible_count (s_scalar (status, 4), &events) == 0 ? (uint32_t)events : 0;
    if (table && table->status == ODC_SNMP_OK) {
        r->table_read = true;
        /*  Every row the walk brought (the engine bounds a column at
            ODC_SNMP_MAX_ROWS): 64 on the stack dropped the rest unsaid. */
        size_t n;
        s_row_t *rows = s_rows_all (table, 0, 8, &n);
        r->alerts = n ? malloc (n * sizeof *r->alerts) : NULL;
        for (size_t i = 0; i < n; i++) {
            Odc__Alert *a = malloc (sizeof *a);
            odc__alert__init (a);
            a->index = (int32_t)rows[i].row;
            a->severity = (int32_t)s_int (rows[i].col[0], 0);
            a->training = (int32_t)s_int (rows[i].col[1], 0);
            a->group = (int32_t)s_int (rows[i].col[2], 0);
            a->group_index = (int32_t)s_int (rows[i].col[3], 0);
            a->location = (int32_t)s_int (rows[i].col[4], 0);
            a->code = (int32_t)s_int (rows[i].col[5], 0);
            a->description = s_text (rows[i].col[6]);
            a->time_cs = s_time (rows[i].col[7]);
            r->alerts[r->n_alerts++] = a;
        }
        free (rows);
    }
    return r;
}

static const char *
s_unit (long unit)
{
    switch (unit) {
    case 3: return "tenThousandthsOfInches";
    case 4: return "micrometers";
    case 5: return "characters";
    case 6: return "lines";
    case 7: return "impressions";
    case 8: return "sheets";
    case 9: return "dotRow";
    case 11: return "hours";
    case 16: return "feet";
    case 17: return "meters";
    default: return "other";
    }
}

Odc__MeterReading *
odc_read_meters (const odc_snmp_job_t *job, const odc_vendor_counter_t *const *vendor,
                 size_t n_vendor)
{
    if (job->status != ODC_SNMP_OK)
        return NULL;
    Odc__MeterReading *r = malloc (sizeof *r);
    odc__meter_reading__init (r);
    r->header = odc_read_header (job, ODC_LOOP_METER);
    size_t n;
    s_row_t *rows = s_rows_all (job, 0, 2, &n);
    r->counters = malloc ((n + n_vendor + 1) * sizeof *r->counters);
    for (size_t i = 0; i < n; i++) {
        const odc_snmp_value_t *count = rows[i].col[0];
        uint64_t value;
        /*  A negative INTEGER is no page count (a sentinel or broken
            firmware): no counter rather than 4,294,967,295 pages. */
        if (!count ||
            (count->type != ASN_COUNTER && count->type != ASN_INTEGER &&
             count->type != ASN_COUNTER64) ||
            s_plausible_count (count, &value) != 0)
            continue;
        Odc__Counter *c = malloc (sizeof *c);
        odc__counter__init (c);
        char name[32];
        snprintf (name, sizeof name, rows[i].row == 1 ? "total" : "marker.%u", rows[i].row);
        c->name = strdup (name);
        c->oid = s_oid_text (count->name, count->name_len);
        c->value = value;
        c->unit = strdup (s_unit (s_int (rows[i].col[1], 7)));
        c->type = count->type;
        r->counters[r->n_counters++] = c;
    }
    if (n_vendor)
        r->enterprise = vendor[0]->enterprise;
    /*  sysUpTime: the scalar after the vendor counters. */
    size_t n_asked = n_vendor < job->n_scalars ? n_vendor : job->n_scalars;
    if (job->n_scalars > n_asked)
        r->sys_uptime_cs = s_count (s_scalar (job, n_asked));
    for (size_t i = 0; i < n_asked; i++) {
        const odc_snmp_value_t *v = s_scalar (job, i);
        uint64_t value;
        if (!v ||
            (v->type != ASN_COUNTER && v->type != ASN_INTEGER && v->type != ASN_COUNTER64 &&
             v->type != ASN_GAUGE) ||
            s_plausible_count (v, &value) != 0)
            continue;
        Odc__Counter *c = malloc (sizeof *c);
        odc__counter__init (c);
        char name[48];
        snprintf (name, sizeof name, "vendor.%s", vendor[i]->name);
        c->name = strdup (name);
        c->oid = s_oid_text (v->name, v->name_len);
        c->value = value;
        c->unit = strdup ("impressions");
        c->type = v->type;
        r->counters[r->n_counters++] = c;
    }
    free (rows);
    return r;
}

Odc__SupplyReading *
odc_read_supplies (const odc_snmp_job_t *job)
{
    if (job->status != ODC_SNMP_OK)
        return NULL;
    Odc__SupplyReading *r = malloc (sizeof *r);
    odc__supply_reading__init (r);
    r->header = odc_read_header (job, ODC_LOOP_SUPPLY);
    size_t n, nc;
    s_row_t *rows = s_rows_all (job, 0, 7, &n);
    s_row_t *colorants = s_rows_all (job, 7, 1, &nc);
    r->supplies = n ? malloc (n * sizeof *r->supplies) : NULL;
    for (size_t i = 0; i < n; i++) {
        Odc__Supply *s = malloc (sizeof *s);
        odc__supply__init (s);
        s->index = (int32_t)rows[i].row;
        long colorant = s_int (rows[i].col[0], 0);
        s->supply_class = (int32_t)s_int (rows[i].col[1], 0);
        s->type = (int32_t)s_int (rows[i].col[2], 0);
        s->description = s_text (rows[i].col[3]);
        s->unit = (int32_t)s_int (rows[i].col[4], 0);
        s->max_capacity = s_level (s_int (rows[i].col[5], -2));
        s->level = s_level (s_int (rows[i].col[6], -2));
        s->colorant = NULL;
        for (size_t k = 0; k < nc && !s->colorant; k++)
            if ((long)colorants[k].row == colorant && colorant > 0)
                s->colorant = s_text (colorants[k].col[0]);
        if (!s->colorant)
            s->colorant = strdup ("");
        /*  A percentage only when both are real numbers, rounded to the
            nearest (RFC 3805), or when the unit is percent (19). */
        if (s->max_capacity > 0 && s->level >= 0)
            s->percent =
                (int32_t)(((int64_t)s->level * 200 + s->max_capacity) / (2 * s->max_capacity));
        else if (s->unit == 19 && s->level >= 0)
            s->percent = s->level;
        else
            s->percent = -1;
        if (s->percent > 100)
            s->percent = 100;
        r->supplies[r->n_supplies++] = s;
    }
    free (rows);
    free (colorants);
    return r;
}

Odc__TrayReading *
odc_read_trays (const odc_snmp_job_t *job)
{
    if (job->status != ODC_SNMP_OK)
        return NULL;
    Odc__TrayReading *r = malloc (sizeof *r);
    odc__tray_reading__init (r);
    r->header = odc_read_header (job, ODC_LOOP_TRAY);
    size_t n;
    s_row_t *rows = s_rows_all (job, 0, 10, &n);
    r->trays = n ? malloc (n * sizeof *r->trays) : NULL;
    for (size_t i = 0; i < n; i++) {
        Odc__Tray *t = malloc (sizeof *t);
        odc__tray__init (t);
        t->index = (int32_t)rows[i].row;
        t->type = (int32_t)s_int (rows[i].col[0], 0);
        t->media_dimension_feed = s_level (s_int (rows[i].col[1], -2));
        t->media_dimension_xfeed = s_level (s_int (rows[i].col[2], -2));
        t->max_capacity = s_level (s_int (rows[i].col[4], -2));
        t->current_level = s_level (s_int (rows[i].col[5], -2));
        t->status = (int32_t)s_int (rows[i].col[6], 0);
        t->media_name = s_text (rows[i].col[7]);
        t->name = s_text (rows[i].col[8]);
        if (!t->name[0]) {
            /*  Empty prtInputName on several models: the description. */
            free (t->name);
            t->name = s_text (rows[i].col[9]);
        }
        r->trays[r->n_trays++] = t;
    }
    free (rows);
    size_t m;
    s_row_t *covers = s_rows_all (job, 10, 2, &m);
    r->covers = m ? malloc (m * sizeof *r->covers) : NULL;
    for (size_t i = 0; i < m; i++) {
        Odc__Cover *c = malloc (sizeof *c);
        odc__cover__init (c);
        c->index = (int32_t)covers[i].row;
        c->description = s_text (covers[i].col[0]);
        c->status = (int32_t)s_int (covers[i].col[1], 0);
        r->covers[r->n_covers++] = c;
    }
    free (covers);
    return r;
}

Odc__ReadingHeader *
odc_read_header_of (ProtobufCMessage *reading)
{
    const ProtobufCFieldDescriptor *f =
        reading ? protobuf_c_message_descriptor_get_field_by_name (reading->descriptor, "header")
                : NULL;
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE ||
        f->descriptor != &odc__reading_header__descriptor)
        return NULL;
    return *(Odc__ReadingHeader **)((char *)reading + f->offset);
}

ProtobufCMessage *
odc_read_decode (odc_loop_t loop, const odc_snmp_job_t *job, const odc_snmp_job_t *table,
                 const odc_vendor_counter_t *const *vendor, size_t n_vendor)
{
    switch (loop) {
    case ODC_LOOP_ALERT: return (ProtobufCMessage *)odc_read_alerts (job, table);
    case ODC_LOOP_IDENTITY: return (ProtobufCMessage *)odc_read_identity (job);
    case ODC_LOOP_METER: return (ProtobufCMessage *)odc_read_meters (job, vendor, n_vendor);
    case ODC_LOOP_SUPPLY: return (ProtobufCMessage *)odc_read_supplies (job);
    case ODC_LOOP_TRAY: return (ProtobufCMessage *)odc_read_trays (job);
    default: return NULL;
    }
}

/* ------------------------------------------------------------------------
   JSON */

/*  One writer of JSON strings for every JSON the
    collector and the portal print, always valid UTF-8 (base/odc_text.h:
    invalid sequences as U+FFFD). */
static void
s_json_string (const char *text, size_t len, FILE *out)
{
    odc_text_json (out, text, len);
}

static void s_json_value (const ProtobufCFieldDescriptor *f, const void *member, FILE *out,
                          int indent);

size_t
odc_pb_item_size (const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_STRING: return sizeof (void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof (ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof (protobuf_c_boolean);
    default: return 4;
    }
}

void
odc_pb_each_field (const ProtobufCMessage *m, odc_pb_field_fn *fn, void *arg)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *items = *(const char *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                fn (f, items + k * odc_pb_item_size (f), (long)k, arg);
        }
        else if (f->type != PROTOBUF_C_TYPE_MESSAGE || *(const void *const *)(base + f->offset))
            fn (f, base + f->offset, -1, arg);
    }
}

/*  A new line and the indent; nothing on one line (indent < 0). */
static void
s_json_line (FILE *out, int indent)
{
    if (indent >= 0)
        fprintf (out, "\n%*s", indent, "");
}

void
odc_json_print (const ProtobufCMessage *message, FILE *out, int indent)
{
    const ProtobufCMessageDescriptor *d = message->descriptor;
    fputs ("{", out);
    bool first = true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)message;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            if (!n)
                continue;
            fputs (first ? "" : ",", out);
            s_json_line (out, indent < 0 ? indent : indent + 2);
            fprintf (out, "\"%s\": [", f->name);
            const char *items = *(const char *const *)(base + f->offset);
            size_t size = odc_pb_item_size (f);
            for (size_t k = 0; k < n; k++) {
                fputs (k ? ", " : "", out);
                s_json_value (f, items + k * size, out, indent < 0 ? indent : indent + 2);
            }
            fputs ("]", out);
            first = false;
            continue;
        }
        const void *member = base + f->offset;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && !*(const void *const *)member)
            continue;
        fputs (first ? "" : ",", out);
        s_json_line (out, indent < 0 ? indent : indent + 2);
        fprintf (out, "\"%s\": ", f->name);
        s_json_value (f, member, out, indent < 0 ? indent : indent + 2);
        first = false;
    }
    s_json_line (out, indent);
    fputs ("}", out);
}

static void
s_json_value (const ProtobufCFieldDescriptor *f, const void *member, FILE *out, int indent)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: fprintf (out, "%d", *(const int32_t *)member); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: fprintf (out, "%u", *(const uint32_t *)member); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        fprintf (out, "%lld", (long long)*(const int64_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf (out, "%llu", (unsigned long long)*(const uint64_t *)member);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs (*(const protobuf_c_boolean *)member ? "true" : "false", out);
        break;
    case PROTOBUF_C_TYPE_FLOAT: fprintf (out, "%g", *(const float *)member); break;
    case PROTOBUF_C_TYPE_DOUBLE: fprintf (out, "%g", *(const double *)member); break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value (f->descriptor, *(const int *)member);
        if (v)
            s_json_string (v->name, strlen (v->name), out);
        else
            fprintf (out, "%d", *(const int *)member);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(const char *const *)member;
        s_json_string (text ? text : "", text ? strlen (text) : 0, out);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = member;
        fputc ('"', out);
        for (size_t i = 0; i < b->len; i++)
            fprintf (out, "%02x", b->data[i]);
        fputc ('"', out);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        odc_json_print (*(const ProtobufCMessage *const *)member, out, indent);
        break;
    }
}

/* ------------------------------------------------------------------------
   Readings as text (opendca poll, IMIL show device): text from a device is
   printed through odc_text_printable (base/odc_text.h), invalid UTF-8 and
   control characters (a device's escape sequences) as U+FFFD. */
#define S_P(buf, text) odc_text_printable (buf, sizeof buf, text)

void
odc_reading_row (FILE *out, const char *key, const char *value)
{
    char k[512], v[1024];
    fprintf (out, "  %-22s %s\n", S_P (k, key), S_P (v, value));
}

static bool
s_when (uint64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    return ms && localtime_r (&t, &tm) && strftime (buf, size, "%Y-%m-%d %H:%M", &tm);
}

/*  The supplies actor's part of a supply (a stored reading; a poll has
    none): part number, kind, colour, forecast, request. */
static void
s_supply_more (FILE *out, const Odc__Supply *s)
{
    char t1[64], t2[64];
    if (s->sku && *s->sku)
        fprintf (out, "        SKU %s, %s", S_P (t1, s->sku), S_P (t2, s->kind));
    else
        fprintf (out, "        no SKU, %s", S_P (t2, s->kind));
    if (s->colour && *s->colour)
        fprintf (out, ", %s", S_P (t1, s->colour));
    const Odc__SupplyForecast *f = s->forecast;
    if (!f) {
        fputc ('\n', out);
        return;
    }
    if (f->why && *f->why)
        fprintf (out, "; no forecast: %s", S_P (t1, f->why));
    else {
        fprintf (out, "; %.1f days left (%.1f to %.1f), %.2f %% a day", f->days_left, f->days_low,
                 f->days_high, f->per_day);
        if (f->pages_left >= 0)
            fprintf (out, ", %lld pages left", (long long)f->pages_left);
        fprintf (out, ", %u points", f->points);
    }
    char when[32];
    if (f->replaced_ms && s_when (f->replaced_ms, when, sizeof when))
        fprintf (out, "; replaced %s", when);
    if (f->request && *f->request && s_when (f->requested_ms, when, sizeof when))
        fprintf (out, "; requested %s", when);
    fputc ('\n', out);
}

void
odc_reading_fprint (FILE *out, odc_loop_t loop, const ProtobufCMessage *m)
{
    char buf[256], t1[1024], t2[1024];
    switch (loop) {
    case ODC_LOOP_IDENTITY: {
        const Odc__IdentityReading *r = (const Odc__IdentityReading *)m;
        odc_reading_row (out, "maker", r->vendor);
        odc_reading_row (out, "model", r->model);
        odc_reading_row (out, "serial", r->serial);
        odc_reading_row (out, "MAC", r->mac);
        odc_reading_row (out, "sysName", r->sys_name);
        odc_reading_row (out, "sysLocation", r->sys_location);
        odc_reading_row (out, "sysObjectID", r->sys_object_id);
        odc_reading_row (out, "sysDescr", r->sys_descr);
        snprintf (buf, sizeof buf, "%d", r->hr_device_index);
        odc_reading_row (out, "printer hrDeviceIndex", buf);
        snprintf (buf, sizeof buf, "%llu s", (unsigned long long)r->sys_uptime_cs / 100);
        odc_reading_row (out, "uptime", buf);
        break;
    }
    case ODC_LOOP_ALERT: {
        const Odc__AlertReading *r = (const Odc__AlertReading *)m;
        snprintf (buf, sizeof buf, "%d (1 unknown, 2 running, 3 warning, 4 testing, 5 down)",
                  r->hr_device_status);
        odc_reading_row (out, "hrDeviceStatus", buf);
        snprintf (buf, sizeof buf, "%d (3 idle, 4 printing, 5 warmup)", r->hr_printer_status);
        odc_reading_row (out, "hrPrinterStatus", buf);
        snprintf (buf, sizeof buf, "0x%04x", r->detected_error_state);
        odc_reading_row (out, "detected error state", buf);
        snprintf (buf, sizeof buf, "%u critical, %u in all", r->critical_events, r->all_events);
        odc_reading_row (out, "events since power-up", buf);
        fprintf (out, "  %-6s %-8s %-6s %-6s %s\n", "index", "severity", "group", "code",
                 "description");
        for (size_t i = 0; i < r->n_alerts; i++)
            fprintf (out, "  %-6d %-8d %-6d %-6d %s\n", r->alerts[i]->index, r->alerts[i]->severity,
                     r->alerts[i]->group, r->alerts[i]->code, S_P (t1, r->alerts[i]->description));
        break;
    }
    case ODC_LOOP_METER: {
        const Odc__MeterReading *r = (const Odc__MeterReading *)m;
        for (size_t i = 0; i < r->n_counters; i++) {
            snprintf (buf, sizeof buf, "%llu %s", (unsigned long long)r->counters[i]->value,
                      S_P (t1, r->counters[i]->unit));
            odc_reading_row (out, r->counters[i]->name, buf);
        }
        if (r->n_canonical) {
            fprintf (out, "  canonical meters (rules %s):\n", S_P (t1, r->rules));
            for (size_t i = 0; i < r->n_canonical; i++) {
                const Odc__CanonicalMeter *c = r->canonical[i];
                char key[48];
                snprintf (key, sizeof key, "= %s", c->name);
                snprintf (buf, sizeof buf, "%llu %s  (%s)", (unsigned long long)c->value,
                          S_P (t1, c->unit), S_P (t2, c->derivation));
                odc_reading_row (out, key, buf);
            }
        }
        break;
    }
    case ODC_LOOP_SUPPLY: {
        const Odc__SupplyReading *r = (const Odc__SupplyReading *)m;
        fprintf (out, "  %-5s %-34s %-8s %-6s %-6s %-6s %-5s %s\n", "index", "description",
                 "colour", "class", "max", "level", "unit", "percent");
        for (size_t i = 0; i < r->n_supplies; i++) {
            const Odc__Supply *s = r->supplies[i];
            char pct[16];
            snprintf (pct, sizeof pct, s->percent >= 0 ? "%d %%" : "-", s->percent);
            fprintf (out, "  %-5d %-34.34s %-8.8s %-6d %-6d %-6d %-5d %s\n", s->index,
                     S_P (t1, s->description), S_P (t2, s->colorant), s->supply_class,
                     s->max_capacity, s->level, s->unit, pct);
            if (s->kind && *s->kind)
                s_supply_more (out, s);
        }
        break;
    }
    case ODC_LOOP_TRAY: {
        const Odc__TrayReading *r = (const Odc__TrayReading *)m;
        fprintf (out, "  %-5s %-24s %-5s %-6s %-6s %-6s %s\n", "index", "name", "type", "max",
                 "level", "status", "media");
        for (size_t i = 0; i < r->n_trays; i++) {
            const Odc__Tray *t = r->trays[i];
            fprintf (out, "  %-5d %-24.24s %-5d %-6d %-6d %-6d %s\n", t->index, S_P (t1, t->name),
                     t->type, t->max_capacity, t->current_level, t->status,
                     S_P (t2, t->media_name));
        }
        for (size_t i = 0; i < r->n_covers; i++)
            fprintf (out, "  cover %d: %s (status %d)\n", r->covers[i]->index,
                     S_P (t1, r->covers[i]->description), r->covers[i]->status);
        break;
    }
    default: break;
    }
}

void
odc_reading_print (odc_loop_t loop, const ProtobufCMessage *m)
{
    odc_reading_fprint (stdout, loop, m);
}

uint64_t
odc_alert_news (const Odc__AlertReading *r)
{
    uint32_t v[4] = {(uint32_t)r->hr_device_status, r->detected_error_state, r->critical_events,
                     r->all_events};
    uint64_t h = odc_fnv (ODC_FNV_START, v, sizeof v);
    return h ? h : 1;
}
