/*  odc_discover: sweeping address ranges for printers. See odc_discover.h. */
#include "odc_discover.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "odc_log.h"
#include "odc_text.h"

/*  A stretch of addresses, on one port, with the credentials to try. */
typedef struct {
    uint32_t first, last;
    int port;
    const odc_credential_t *const *credentials;
    size_t credential_count;
    const char *target; /* the text it came from */
} s_span_t;

/*  One address being asked. */
typedef struct {
    bool in_use;
    const s_span_t *span;
    uint32_t address;
    size_t credential;           /* index in the span's list */
    bool second;                 /* the identity again, at the printer's own index */
    Odc__IdentityReading *first; /* what the first read said, while the second runs */
    bool first_mib;
    odc_snmp_job_t job;
    odc_read_oids_t oids;
    odc_discover_t *owner;
} s_probe_t;

struct _odc_discover_t {
    odc_discover_options_t o;
    odc_snmp_t *engine;
    s_span_t *spans;
    size_t n_spans;
    char **texts;
    size_t n_texts;
    size_t span;   /* the next address to start is in this span ... */
    uint64_t next; /* ... at this offset */
    s_probe_t *probes;
    size_t n_probes;
    size_t *free_probes; /* a stack of the probes not in use ... */
    size_t n_free;       /* ... this many */
    size_t in_flight;
    double tokens, last_refill, started;
    odc_discover_stats_t stats;
};

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_note (odc_discover_note_fn *note, void *arg, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_note (odc_discover_note_fn *note, void *arg, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    if (note)
        note (text, arg);
}

int
odc_discover_target (const char *text, uint32_t *first, uint32_t *last, int *port, char *reason,
                     size_t reason_size)
{
    char copy[256];
    if (!text || !*text || strlen (text) >= sizeof copy) {
        snprintf (reason, reason_size, "empty or too long");
        return -1;
    }
    strcpy (copy, text);
    *port = 0;
    /*  ":PORT" at the end (IPv4 and names only: no colon otherwise). */
    char *colon = strrchr (copy, ':');
    if (colon) {
        char *end = NULL;
        long p = strtol (colon + 1, &end, 10);
        if (strchr (copy, ':') != colon || !colon[1] || *end || p < 1 || p > 65535) {
            snprintf (reason, reason_size, "port is not a number 1-65535 (IPv6 is not swept)");
            return -1;
        }
        *port = (int)p;
        *colon = 0;
    }
    struct in_addr a, b;
    char *slash = strchr (copy, '/');
    char *dash = strchr (copy, '-');
    if (slash) {
        *slash = 0;
        char *end = NULL;
        long bits = strtol (slash + 1, &end, 10);
        if (inet_pton (AF_INET, copy, &a) != 1 || !slash[1] || *end || bits < 8 || bits > 32) {
            snprintf (reason, reason_size, "not a network a.b.c.d/nn with nn from 8 to 32");
            return -1;
        }
        uint32_t mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
        *first = ntohl (a.s_addr) & mask;
        *last = *first | ~mask;
        /*  A network's own address and its broadcast address are not
            hosts: never sent to (a /31 and a /32 have none). */
        if (bits <= 30) {
            (*first)++;
            (*last)--;
        }
        return 0;
    }
    if (dash && inet_pton (AF_INET, dash + 1, &b) == 1) {
        *dash = 0;
        if (inet_pton (AF_INET, copy, &a) != 1 || ntohl (a.s_addr) > ntohl (b.s_addr)) {
            snprintf (reason, reason_size, "not a range a.b.c.d-e.f.g.h (first <= last)");
            return -1;
        }
        *first = ntohl (a.s_addr);
        *last = ntohl (b.s_addr);
        return 0;
    }
    if (inet_pton (AF_INET, copy, &a) == 1) {
        *first = *last = ntohl (a.s_addr);
        return 0;
    }
    if (strspn (copy, "0123456789.") == strlen (copy)) {
        snprintf (reason, reason_size, "not an IPv4 address");
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int rc = getaddrinfo (copy, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf (reason, reason_size, "the name does not resolve (%s)", gai_strerror (rc));
        return -1;
    }
    *first = *last = ntohl (((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
    freeaddrinfo (res);
    return 0;
}

/*  Add [first, last] on port minus what earlier spans hold already. */
static void
s_add_span (odc_discover_t *self, s_span_t span, size_t *cap)
{
    for (size_t i = 0; i < self->n_spans; i++) {
        const s_span_t *s = &self->spans[i];
        if (s->port != span.port || s->last < span.first || s->first > span.last)
            continue;
        /*  Overlap: keep the parts outside s. */
        if (span.first < s->first) {
            s_span_t left = span;
            left.last = s->first - 1;
            s_add_span (self, left, cap);
        }
        if (span.last > s->last) {
            s_span_t right = span;
            right.first = s->last + 1;
            s_add_span (self, right, cap);
        }
        return;
    }
    if (self->n_spans == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        self->spans = realloc (self->spans, *cap * sizeof *self->spans);
    }
    self->spans[self->n_spans++] = span;
    self->stats.addresses += (uint64_t)span.last - span.first + 1;
}

static uint64_t
s_overlap (const odc_discover_t *self, const s_span_t *span)
{
    uint64_t n = 0;
    for (size_t i = 0; i < self->n_spans; i++) {
        const s_span_t *s = &self->spans[i];
        if (s->port != span->port || s->last < span->first || s->first > span->last)
            continue;
        uint32_t lo = s->first > span->first ? s->first : span->first;
        uint32_t hi = s->last < span->last ? s->last : span->last;
        n += (uint64_t)hi - lo + 1;
    }
    return n;
}

odc_discover_t *
odc_discover_new (const odc_discover_options_t *options, const odc_discover_target_t *targets,
                  size_t target_count, odc_discover_note_fn *note, void *note_arg, char **error)
{
    *error = NULL;
    odc_discover_t *self = calloc (1, sizeof *self);
    self->o = *options;
    if (self->o.port <= 0)
        self->o.port = 161;
    if (self->o.timeout_ms <= 0)
        self->o.timeout_ms = 2000;
    if (self->o.retries < 0)
        self->o.retries = 0;
    if (self->o.concurrency <= 0)
        self->o.concurrency = 1024;
    if (self->o.rate <= 0)
        self->o.rate = 200;
    self->texts = calloc (target_count ? target_count : 1, sizeof *self->texts);
    size_t cap = 0;
    for (size_t i = 0; i < target_count; i++) {
        const odc_discover_target_t *t = &targets[i];
        char reason[160];
        s_span_t span = {0};
        if (odc_discover_target (t->text, &span.first, &span.last, &span.port, reason,
                                 sizeof reason) != 0) {
            s_note (note, note_arg, "%s: %s; not swept", t->text ? t->text : "(none)", reason);
            continue;
        }
        if (!span.port)
            span.port = self->o.port;
        span.credentials = t->credentials ? t->credentials : self->o.credentials;
        span.credential_count = t->credentials ? t->credential_count : self->o.credential_count;
        if (!span.credential_count) {
            s_note (note, note_arg, "%s: no credential to try; not swept", t->text);
            continue;
        }
        self->texts[self->n_texts] = strdup (t->text);
        span.target = self->texts[self->n_texts++];
        uint64_t both = s_overlap (self, &span);
        if (both)
            s_note (note, note_arg,
                    "%s overlaps the targets before it in %llu addresses: each is asked once, "
                    "with the credentials of the first target that holds it",
                    t->text, (unsigned long long)both);
        s_add_span (self, span, &cap);
    }
    if (!self->n_spans) {
        *error = strdup (target_count ? "no target can be swept" : "no target given");
        odc_discover_destroy (&self);
        return NULL;
    }
    odc_snmp_options_t eo = {.window = self->o.concurrency,
                             .timeout_ms = self->o.timeout_ms,
                             .retries = self->o.retries,
                             .max_repetitions = 16};
    self->engine = odc_snmp_new (&eo);
    self->n_probes = (size_t)self->o.concurrency;
    self->probes = calloc (self->n_probes, sizeof *self->probes);
    self->free_probes = calloc (self->n_probes, sizeof *self->free_probes);
    for (size_t i = 0; self->free_probes && i < self->n_probes; i++)
        self->free_probes[self->n_free++] = i;
    if (!self->engine || !self->probes || !self->free_probes) {
        *error = strdup ("the SNMP engine could not start");
        odc_discover_destroy (&self);
        return NULL;
    }
    self->started = self->last_refill = s_now ();
    /*  A burst of a tenth of a second at most. */
    self->tokens = self->o.rate / 10.0 + 1;
    return self;
}

void
odc_discover_destroy (odc_discover_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_discover_t *self = *self_p;
    odc_snmp_destroy (&self->engine);
    for (size_t i = 0; i < self->n_probes; i++) {
        odc_snmp_job_clear (&self->probes[i].job);
        if (self->probes[i].first)
            odc__identity_reading__free_unpacked (self->probes[i].first, NULL);
    }
    free (self->probes);
    free (self->free_probes);
    for (size_t i = 0; i < self->n_texts; i++)
        free (self->texts[i]);
    free (self->texts);
    free (self->spans);
    free (self);
    *self_p = NULL;
}

static void s_on_done (odc_snmp_job_t *job, void *arg);

/*  Ask the probe's address with its current credential; printer_index
    > 0 for the second read at the printer's own index. */
static void
s_ask (odc_discover_t *self, s_probe_t *p, uint32_t printer_index)
{
    odc_snmp_job_clear (&p->job);
    memset (&p->job, 0, sizeof p->job);
    struct in_addr a = {htonl (p->address)};
    inet_ntop (AF_INET, &a, p->job.address, sizeof p->job.address);
    p->job.port = p->span->port;
    p->job.credential = p->span->credentials[p->credential];
    odc_read_prepare (ODC_LOOP_IDENTITY, printer_index ? printer_index : 1, false, NULL, 0,
                      &p->oids, &p->job);
    p->job.max_rows = 64;
    p->job.done = s_on_done;
    p->job.arg = p;
    p->owner = self;
    if (odc_snmp_submit (self->engine, &p->job) != 0) {
        p->job.status = ODC_SNMP_ERROR;
        s_on_done (&p->job, p);
    }
}

static void
s_finish (odc_discover_t *self, s_probe_t *p)
{
    p->in_use = false;
    self->in_flight--;
    self->free_probes[self->n_free++] = (size_t)(p - self->probes);
    self->stats.swept++;
}

static void
s_account (odc_discover_t *self, const odc_snmp_job_t *job)
{
    self->stats.requests += job->requests;
    self->stats.timeouts += job->timeouts;
    self->stats.bytes_out += job->bytes_out;
    self->stats.bytes_in += job->bytes_in;
}

static void
s_on_done (odc_snmp_job_t *job, void *arg)
{
    s_probe_t *p = arg;
    odc_discover_t *self = p->owner;
    s_account (self, job);
    if (job->status != ODC_SNMP_OK && !p->second) {
        /*  No answer with this credential: the next one, or give up. */
        if (p->credential + 1 < p->span->credential_count) {
            p->credential++;
            s_ask (self, p, 0);
        }
        else
            s_finish (self, p);
        return;
    }
    Odc__IdentityReading *r = odc_read_identity (job);
    /*  The Printer-MIB: prtGeneralSerialNumber (the seventh scalar). */
    bool printer_mib = r && job->n_values > 6 && job->values[6].column == -1 &&
                       job->values[6].type == ASN_OCTET_STR;
    if (p->second) {
        /*  The read at the printer's index failed: the first one stands. */
        if (!r) {
            r = p->first;
            printer_mib = p->first_mib;
        }
        else if (p->first)
            odc__identity_reading__free_unpacked (p->first, NULL);
        p->first = NULL;
    }
    else if (r && r->hr_device_index > 1) {
        /*  The printer's own row is not 1: its serial is at its index. */
        p->first = r;
        p->first_mib = printer_mib;
        p->second = true;
        s_ask (self, p, (uint32_t)r->hr_device_index);
        return;
    }
    if (!r) {
        s_finish (self, p);
        return;
    }
    odc_discover_found_t found = {.port = p->span->port,
                                  .credential = p->span->credentials[p->credential],
                                  .printer = r->hr_device_index > 0 || printer_mib,
                                  .identity = r,
                                  .target = p->span->target};
    snprintf (found.address, sizeof found.address, "%s", job->address);
    self->stats.answered++;
    if (found.printer)
        self->stats.printers++;
    else
        self->stats.others++;
    if (self->o.found)
        self->o.found (&found, self->o.arg);
    odc__identity_reading__free_unpacked (r, NULL);
    s_finish (self, p);
}

/*  Start new addresses as far as the rate and the concurrency allow. */
static void
s_start (odc_discover_t *self)
{
    double now = s_now ();
    self->tokens += (now - self->last_refill) * self->o.rate;
    self->last_refill = now;
    double burst = self->o.rate / 10.0 + 1;
    if (self->tokens > burst)
        self->tokens = burst;
    while (self->span < self->n_spans && self->in_flight < self->n_probes && self->tokens >= 1) {
        s_probe_t *p = &self->probes[self->free_probes[--self->n_free]];
        const s_span_t *span = &self->spans[self->span];
        p->in_use = true;
        p->span = span;
        p->address = span->first + (uint32_t)self->next;
        p->credential = 0;
        p->second = false;
        self->in_flight++;
        self->tokens -= 1;
        if (++self->next > (uint64_t)span->last - span->first) {
            self->span++;
            self->next = 0;
        }
        s_ask (self, p, 0);
    }
}

void
odc_discover_run (odc_discover_t *self, int timeout_ms)
{
    s_start (self);
    int wait = odc_discover_next_ms (self);
    if (wait < 0 || (timeout_ms >= 0 && wait > timeout_ms))
        wait = timeout_ms;
    odc_snmp_run (self->engine, wait);
    s_start (self);
    self->stats.seconds = s_now () - self->started;
}

bool
odc_discover_done (odc_discover_t *self)
{
    return self->span >= self->n_spans && self->in_flight == 0;
}

int
odc_discover_fd (odc_discover_t *self)
{
    return odc_snmp_fd (self->engine);
}

int
odc_discover_next_ms (odc_discover_t *self)
{
    int wait = odc_snmp_next_ms (self->engine);
    if (self->span < self->n_spans && self->in_flight < self->n_probes) {
        /*  The next token. */
        int token = self->tokens >= 1 ? 0 : (int)((1 - self->tokens) * 1000.0 / self->o.rate) + 1;
        if (wait < 0 || token < wait)
            wait = token;
    }
    return wait;
}

const odc_discover_stats_t *
odc_discover_stats (odc_discover_t *self)
{
    return &self->stats;
}

/* ------------------------------------------------------------------------
   What a sweep found, as a table or JSON lines */

typedef struct {
    uint32_t key; /* address, for sorting */
    int port;
    bool printer;
    char *address, *maker, *model, *serial, *mac, *credential, *name, *location, *target;
} s_row_t;

struct _odc_discover_list_t {
    s_row_t *rows;
    size_t count, cap;
    bool all;
};

odc_discover_list_t *
odc_discover_list_new (bool all)
{
    odc_discover_list_t *self = calloc (1, sizeof *self);
    self->all = all;
    return self;
}

void
odc_discover_list_destroy (odc_discover_list_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_discover_list_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        s_row_t *r = &self->rows[i];
        free (r->address), free (r->maker), free (r->model), free (r->serial), free (r->mac);
        free (r->credential), free (r->name), free (r->location), free (r->target);
    }
    free (self->rows);
    free (self);
    *self_p = NULL;
}

size_t
odc_discover_list_count (odc_discover_list_t *self)
{
    return self->count;
}

void
odc_discover_list_add (odc_discover_list_t *self, const odc_discover_found_t *f)
{
    if (!f->printer && !self->all)
        return;
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->rows = realloc (self->rows, self->cap * sizeof *self->rows);
    }
    s_row_t *r = &self->rows[self->count++];
    struct in_addr a;
    inet_pton (AF_INET, f->address, &a);
    r->key = ntohl (a.s_addr);
    r->port = f->port;
    r->printer = f->printer;
    char address[80];
    if (f->port == 161)
        snprintf (address, sizeof address, "%s", f->address);
    else
        snprintf (address, sizeof address, "%s:%d", f->address, f->port);
    r->address = strdup (address);
    const Odc__IdentityReading *id = f->identity;
    r->maker = strdup (id->vendor);
    r->model = strdup (id->model);
    r->serial = strdup (id->serial);
    r->mac = strdup (id->mac);
    r->credential = strdup (f->credential->name);
    r->name = strdup (id->sys_name);
    r->location = strdup (id->sys_location);
    r->target = strdup (f->target);
}

static int
s_by_address (const void *a, const void *b)
{
    const s_row_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->port - y->port;
}

/*  Device text on a terminal: printable ASCII, the rest as '?', and cut. */
static void
s_cell (char *out, size_t size, const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 1 < size; p++)
        out[n++] = *p >= 32 && *p < 127 ? (char)*p : '?';
    out[n] = 0;
}

static void
s_json_string (FILE *out, const char *key, const char *text, bool last)
{
    /*  The one JSON string writer (base/odc_text.h),
        valid UTF-8 always; bytes were written as Latin-1 code points. */
    fprintf (out, "\"%s\":", key);
    odc_text_json (out, text ? text : "", text ? strlen (text) : 0);
    fprintf (out, "%s", last ? "}\n" : ",");
}

void
odc_discover_list_print (odc_discover_list_t *self, FILE *out, bool json)
{
    /*  Nothing found: rows is NULL, and qsort's pointer must not be
        (undefined behaviour; the sanitizer build aborted). */
    if (self->count > 1)
        qsort (self->rows, self->count, sizeof *self->rows, s_by_address);
    if (json) {
        for (size_t i = 0; i < self->count; i++) {
            s_row_t *r = &self->rows[i];
            fputc ('{', out);
            s_json_string (out, "address", r->address, false);
            s_json_string (out, "kind", r->printer ? "printer" : "other", false);
            s_json_string (out, "maker", r->maker, false);
            s_json_string (out, "model", r->model, false);
            s_json_string (out, "serial", r->serial, false);
            s_json_string (out, "mac", r->mac, false);
            s_json_string (out, "sys_name", r->name, false);
            s_json_string (out, "location", r->location, false);
            s_json_string (out, "target", r->target, false);
            s_json_string (out, "credential", r->credential, true);
        }
        return;
    }
    const char *heads[] = {"ADDRESS", "MAKER", "MODEL", "SERIAL", "MAC", "CREDENTIAL", "KIND"};
    int cols = self->all ? 7 : 6;
    size_t width[7];
    for (int c = 0; c < 7; c++)
        width[c] = strlen (heads[c]);
    char cell[7][80];
    /*  Two passes: the widths, then the lines. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && self->count)
            for (int c = 0; c < cols; c++)
                fprintf (out, "%-*s%s", (int)width[c], heads[c], c + 1 < cols ? "  " : "\n");
        for (size_t i = 0; i < self->count; i++) {
            s_row_t *r = &self->rows[i];
            const char *text[7] = {r->address,
                                   r->maker,
                                   r->model,
                                   r->serial,
                                   r->mac,
                                   r->credential,
                                   r->printer ? "printer" : "other"};
            for (int c = 0; c < cols; c++) {
                s_cell (cell[c], c == 2 ? 40 : sizeof cell[c], text[c][0] ? text[c] : "-");
                if (strlen (cell[c]) > width[c])
                    width[c] = strlen (cell[c]);
            }
            for (int c = 0; pass == 1 && c < cols; c++)
                fprintf (out, "%-*s%s", (int)width[c], cell[c], c + 1 < cols ? "  " : "\n");
        }
    }
}

void
odc_discover_summary (FILE *out, const odc_discover_stats_t *s)
{
    fprintf (out,
             "swept %llu addresses in %.1f s: %llu printers, %llu other SNMP agents, %llu silent; "
             "%llu requests (%.2f an address), %llu timeouts\n",
             (unsigned long long)s->swept, s->seconds, (unsigned long long)s->printers,
             (unsigned long long)s->others, (unsigned long long)(s->swept - s->answered),
             (unsigned long long)s->requests,
             s->swept ? (double)s->requests / (double)s->swept : 0.0,
             (unsigned long long)s->timeouts);
}
