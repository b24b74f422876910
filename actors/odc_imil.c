/*  odc_imil: see odc_imil.h. */
#include "odc_imil.h"
#include "odc_validator_actor.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_devices.h"
#include "odc_discover.h"
#include "odc_discovery_actor.h"
#include "odc_latest_actor.h"
#include "odc_log.h"
#include "odc_read.h"
#include "odc_status.h"
#include "odc_supervisor.h"
#include "odc_text.h"
#include "odc_triage.h"
#include "odc_uploader_actor.h"

static const char s_help[] = "commands:\n"
                             "  help                             this list\n"
                             "  status                           uptime, devices, loops, outbox, "
                             "portal\n"
                             "  show device ADDRESS|ID|SERIAL    a device and its latest readings\n"
                             "  get latest counts [ADDRESS|all]  send the latest meters to the "
                             "portal now\n"
                             "  show devices                     the device list (the registry)\n"
                             "  discover                         sweep the configured ranges now\n"
                             "  discover RANGE...                sweep these (at most 4096 "
                             "addresses)\n"
                             "                                   and list the printers found\n";

void
odc_imil_endpoint (char *out, size_t size, const char *store_path)
{
    snprintf (out, size, "ipc://%s/control", store_path);
}

int
odc_imil_words (const char *text, char words[8][128])
{
    int n = 0;
    while (*text && n < 8) {
        while (isspace ((unsigned char)*text))
            text++;
        if (!*text)
            break;
        size_t k = 0;
        while (*text && !isspace ((unsigned char)*text)) {
            if (k < 127)
                words[n][k++] = (char)tolower ((unsigned char)*text);
            text++;
        }
        words[n++][k] = 0;
    }
    return n;
}

static void
s_duration (FILE *out, double s)
{
    if (s < 120)
        fprintf (out, "%.0f s", s);
    else if (s < 7200)
        fprintf (out, "%.1f min", s / 60);
    else
        fprintf (out, "%.1f h", s / 3600);
}

static void
s_status (odc_imil_t *ctx, FILE *out)
{
    double now = (double)time (NULL), started = ctx->started;
    fprintf (out, "collector %s, up ", ctx->config->collector_id);
    s_duration (out, started ? now - started : 0);
    fprintf (out, "\n");
    for (int l = 0; l < ODC_LOOP_COUNT; l++) {
        Odc__LoopStatus none = ODC__LOOP_STATUS__INIT;
        const Odc__LoopStatus *st = ctx->loops[l] ? ctx->loops[l] : &none;
        fprintf (out, "%-9s %u devices; ", odc_config_loop_names[l], st->devices);
        if (st->passes) {
            fprintf (out, "pass %u done ", st->passes);
            s_duration (out, now - st->last_end);
            fprintf (out, " ago (took ");
            s_duration (out, st->last_took);
            fprintf (out, " of ");
            s_duration (out, st->interval);
            fprintf (out, "; %u read, %u failed)", st->last_read, st->last_failed);
        }
        else
            fprintf (out, "no pass done yet");
        if (st->in_pass)
            fprintf (out, "; in a pass: %u of %u started", st->started, st->devices);
        fprintf (out, "\n");
    }
    if (ctx->outbox)
        fprintf (out, "outbox: %llu records, %llu bytes, %llu shed\n",
                 (unsigned long long)odc_outbox_count (ctx->outbox),
                 (unsigned long long)odc_outbox_bytes (ctx->outbox),
                 (unsigned long long)odc_outbox_shed (ctx->outbox));
    uint64_t cache = 0, memtables = 0;
    if (ctx->store)
        odc_store_memory (ctx->store, &cache, &memtables);
    fprintf (out, "memory: heap %.1f MiB, store cache %.1f MiB, memtables %.1f MiB\n",
             (double)odc_status_heap_bytes () / 1048576.0, (double)cache / 1048576.0,
             (double)memtables / 1048576.0);
    Odc__PortalStatus none = ODC__PORTAL_STATUS__INIT;
    const Odc__PortalStatus *ps = ctx->portal ? ctx->portal : &none;
    if (!ctx->config->portal_jid)
        fprintf (out, "portal: none configured\n");
    else if (ps->connected) {
        fprintf (out, "portal: connected as %s on port %d for ", ctx->config->portal_jid, ps->port);
        s_duration (out, now - ps->since);
        fprintf (out, "; %llu batches sent, %llu acknowledged\n", (unsigned long long)ps->sent,
                 (unsigned long long)ps->acked);
    }
    else
        fprintf (out, "portal: not connected%s%s\n", *ps->last_error ? ": " : "", ps->last_error);
    /*  What the bridge refused to take or to send. */
    if (ps->forged || ps->refused)
        fprintf (out, "portal: forged answers: %llu ignored; readings refused: %llu%s%s\n",
                 (unsigned long long)ps->forged, (unsigned long long)ps->refused,
                 *ps->last_refusal ? ", the last: " : "", ps->last_refusal);
}

/*  A status message from a loop or the bridge: the newest is kept. */
static void
s_on_status (const Odc__Envelope *env, void *arg)
{
    odc_imil_t *ctx = arg;
    size_t size = 0;
    const void *frame = odc_bus_frame (&size);
    Odc__Envelope *copy = odc__envelope__unpack (NULL, size, frame);
    if (!copy)
        return;
    if (env->body_case == ODC__ENVELOPE__BODY_LOOP_STATUS) {
        int l = odc_loop_of_wire (env->loop_status->loop);
        if (l >= 0) {
            if (ctx->loops[l])
                odc__loop_status__free_unpacked (ctx->loops[l], NULL);
            ctx->loops[l] = copy->loop_status;
            copy->loop_status = NULL;
        }
    }
    else {
        if (ctx->portal)
            odc__portal_status__free_unpacked (ctx->portal, NULL);
        ctx->portal = copy->portal_status;
        copy->portal_status = NULL;
    }
    copy->body_case = ODC__ENVELOPE__BODY__NOT_SET;
    odc__envelope__free_unpacked (copy, NULL);
}

/*  Find a device by id, address or serial (from its latest identity). */
typedef struct {
    odc_store_t *store;
    const char *what;
    char id[ODC_DEVICE_ID_MAX];
} s_find_t;

static int
s_find_one (const Odc__Device *d, void *arg)
{
    s_find_t *f = arg;
    if (!strcasecmp (d->address, f->what) || !strcasecmp (d->id, f->what)) {
        snprintf (f->id, sizeof f->id, "%s", d->id);
        return 1;
    }
    char key[128];
    odc_latest_key (key, sizeof key, d->id, ODC__LOOP__LOOP_IDENTITY);
    size_t len = 0;
    void *value = odc_store_get (f->store, ODC_CF_LATEST, key, strlen (key), &len);
    Odc__Envelope *env = value ? odc__envelope__unpack (NULL, len, value) : NULL;
    free (value);
    bool match = env && env->body_case == ODC__ENVELOPE__BODY_IDENTITY && env->identity->serial &&
                 *env->identity->serial && !strcasecmp (env->identity->serial, f->what);
    if (env)
        odc__envelope__free_unpacked (env, NULL);
    if (match)
        snprintf (f->id, sizeof f->id, "%s", d->id);
    return match;
}

static bool
s_find (odc_imil_t *ctx, const char *what, char *id, size_t size)
{
    /*  A device id is one lookup; an address or a serial needs the walk. */
    Odc__Device *known = odc_devices_get (ctx->store, what);
    if (known) {
        snprintf (id, size, "%s", known->id);
        odc__device__free_unpacked (known, NULL);
        return true;
    }
    s_find_t f = {ctx->store, what, ""};
    odc_devices_each (ctx->store, s_find_one, &f);
    snprintf (id, size, "%s", f.id);
    return f.id[0] != 0;
}

/* A loop's last failed read of the device
   (ODC_READ_ERROR_NOTE), printed when it is newer than the reading shown. */
static void
s_show_read_error (odc_imil_t *ctx, const char *id, int l, uint64_t read_ms, FILE *out)
{
    char what[48];
    snprintf (what, sizeof what, "%s%s", ODC_READ_ERROR_NOTE, odc_config_loop_names[l]);
    char *text = odc_devices_note_get (ctx->store, what, id);
    char *why = text ? strchr (text, ' ') : NULL;
    uint64_t at_ms = text ? strtoull (text, NULL, 10) : 0;
    if (why && at_ms > read_ms) {
        time_t at = (time_t)(at_ms / 1000);
        struct tm tm;
        char when[32] = "?";
        if (localtime_r (&at, &tm))
            strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf (out, "%s: last read failed (%s): %s\n", odc_config_loop_names[l], when, why + 1);
    }
    free (text);
}

/*  Triage's open alerts of a device (the alerts family). */
static void
s_show_alerts (odc_imil_t *ctx, const char *id, FILE *out)
{
    size_t len = 0;
    void *value = odc_store_get (ctx->store, ODC_CF_ALERTS, id, strlen (id), &len);
    odc_device_alerts_t *st = malloc (sizeof *st);
    bool ok = odc_triage_state_load (st, value, len);
    free (value);
    if (!ok)
        fprintf (out, "open alerts: the stored record is not readable\n");
    else if (!st->n_open)
        fprintf (out, "open alerts: none\n");
    else
        fprintf (out, "open alerts: %zu\n", st->n_open);
    for (size_t i = 0; ok && i < st->n_open; i++) {
        const odc_triaged_t *a = &st->open[i];
        time_t at = (time_t)(a->raised_ms / 1000);
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r (&at, &tm))
            strftime (when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
        char text[ODC_TRIAGE_TEXT_MAX * 4];
        fprintf (out, "  %s (%s, %s) since %s: %s [%s", a->code, a->category, a->severity, when,
                 odc_text_printable (text, sizeof text, a->description), a->source);
        if (a->repeats)
            fprintf (out, ", %u repeats", a->repeats);
        if (a->flaps)
            fprintf (out, ", %u flaps", a->flaps);
        fprintf (out, "]%s\n", a->cleared_ms ? " gone, waiting out the repeat window" : "");
    }
    free (st);
}

static int
s_show_device (odc_imil_t *ctx, const char *what, FILE *out)
{
    char id[ODC_DEVICE_ID_MAX];
    if (!s_find (ctx, what, id, sizeof id)) {
        fprintf (out, "no device '%s' (give an address, a device id or a serial number)\n", what);
        return 2;
    }
    Odc__Device *d = odc_devices_get (ctx->store, id);
    fprintf (out, "device %s: address %s, port %u, credential %s, from %s\n", id,
             d ? d->address : "?", d && d->port ? d->port : 161,
             d && d->credential && d->credential->name && *d->credential->name ? d->credential->name
                                                                               : "-",
             d && d->source && *d->source ? d->source : "?");
    if (d)
        odc__device__free_unpacked (d, NULL);
    for (int l = 0; l < ODC_LOOP_COUNT; l++) {
        int loop = odc_loop_wire ((odc_loop_t)l);
        char key[128];
        odc_latest_key (key, sizeof key, id, loop);
        size_t len = 0;
        void *value = odc_store_get (ctx->store, ODC_CF_LATEST, key, strlen (key), &len);
        Odc__Envelope *env = value ? odc__envelope__unpack (NULL, len, value) : NULL;
        free (value);
        if (!env) {
            fprintf (out, "%s: no reading yet\n", odc_config_loop_names[l]);
            s_show_read_error (ctx, id, l, 0, out);
            continue;
        }
        const Odc__ReadingHeader *h = odc_bus_reading_header (env);
        time_t at = h ? (time_t)(h->finished_ms / 1000) : 0;
        struct tm tm;
        char when[32] = "?";
        if (at && localtime_r (&at, &tm))
            strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf (out, "%s (read %s):\n", odc_config_loop_names[l], when);
        odc_reading_fprint (out, (odc_loop_t)l, odc_bus_body (env));
        s_show_read_error (ctx, id, l, h ? h->finished_ms : 0, out);
        odc__envelope__free_unpacked (env, NULL);
    }
    s_show_alerts (ctx, id, out);
    /*  What the validator did not take, and its notes (newest last). */
    for (int l = 0; l < ODC_LOOP_COUNT; l++) {
        Odc__History *hist = odc_history_get (ctx->store, id, odc_loop_wire ((odc_loop_t)l));
        if (!hist)
            continue;
        if (hist->n_rejections)
            fprintf (out, "%s: %llu readings rejected in all; the last rejections and notes:\n",
                     odc_config_loop_names[l], (unsigned long long)hist->rejected);
        for (size_t i = 0; i < hist->n_rejections; i++) {
            char line[600];
            odc_rejection_format (hist->rejections[i], line, sizeof line);
            fprintf (out, "  %s\n", line);
        }
        odc__history__free_unpacked (hist, NULL);
    }
    return 0;
}

/* ------------------------------------------------------------------------
   The device list */

typedef struct {
    FILE *out;
    bool json;
    size_t count, states[3];
} s_list_t;

static int
s_list_one (const Odc__Device *d, void *arg)
{
    s_list_t *l = arg;
    l->count++;
    const char *state = d->state && *d->state ? d->state : "watched";
    l->states[!strcmp (state, "missing") ? 1 : !strcmp (state, "lost") ? 2 : 0]++;
    if (l->json) {
        odc_json_print (&d->base, l->out, -1);
        fputc ('\n', l->out);
        return 0;
    }
    char address[80], seen[32] = "never";
    if (d->address && *d->address)
        odc_device_id (address, sizeof address, d->address, (int)d->port);
    else
        snprintf (address, sizeof address, "(was %s)", d->last_address);
    if (d->last_seen_ms) {
        time_t t = (time_t)(d->last_seen_ms / 1000);
        struct tm tm;
        if (localtime_r (&t, &tm))
            strftime (seen, sizeof seen, "%Y-%m-%d %H:%M", &tm);
    }
    fprintf (l->out, "%-24s %-22s %-8s %-10.10s %-26.26s %-14s %-17s %-9s %s\n", d->id, address,
             state, d->vendor && *d->vendor ? d->vendor : "-",
             d->model && *d->model ? d->model : "-", d->serial && *d->serial ? d->serial : "-",
             d->mac && *d->mac ? d->mac : "-", d->source && *d->source ? d->source : "-", seen);
    return 0;
}

int
odc_imil_devices (FILE *out, odc_store_t *store, bool json)
{
    s_list_t l = {out, json, 0, {0}};
    if (!json)
        fprintf (out, "%-24s %-22s %-8s %-10s %-26s %-14s %-17s %-9s %s\n", "ID", "ADDRESS",
                 "STATE", "MAKER", "MODEL", "SERIAL", "MAC", "SOURCE", "LAST SEEN");
    if (odc_devices_each (store, s_list_one, &l) < 0) {
        fprintf (out, "the device list cannot be read from the store\n");
        return 2;
    }
    if (!json)
        fprintf (out, "%zu devices: %zu watched, %zu missing, %zu lost\n", l.count, l.states[0],
                 l.states[1], l.states[2]);
    return 0;
}

/*  "discover RANGE...": a sweep in the caller's thread, bounded; what it
    finds goes to the registry too. */
typedef struct {
    odc_imil_t *ctx;
    odc_discover_list_t *list;
} s_sweep_t;

static void
s_sweep_found (const odc_discover_found_t *found, void *arg)
{
    s_sweep_t *s = arg;
    odc_discover_list_add (s->list, found);
    odc_discovery_report (s->ctx->registry, found);
}

static void
s_sweep_note (const char *text, void *arg)
{
    fprintf ((FILE *)arg, "%s\n", text);
}

#define S_SWEEP_MAX 4096

static int
s_discover (odc_imil_t *ctx, const Odc__Discover *d, FILE *out)
{
    const odc_config_t *c = ctx->config;
    if (!d->n_ranges) {
        if (!ctx->discovery || !c->range_count) {
            fprintf (out, "no ranges configured (ranges:): give the ranges to sweep\n");
            return 2;
        }
        odc_discovery_request (ctx->discovery);
        fprintf (out,
                 "a sweep of the %zu configured ranges starts now; new devices come as events\n",
                 c->range_count);
        return 0;
    }
    if (!c->credential_count) {
        fprintf (out, "no credentials configured (snmp.credentials): nothing to try\n");
        return 2;
    }
    uint64_t total = 0;
    odc_discover_target_t targets[8];
    size_t n = d->n_ranges < 8 ? d->n_ranges : 8;
    for (size_t i = 0; i < n; i++) {
        uint32_t first, last;
        int port;
        char reason[160];
        targets[i] = (odc_discover_target_t){d->ranges[i], NULL, 0};
        if (odc_discover_target (d->ranges[i], &first, &last, &port, reason, sizeof reason) != 0) {
            fprintf (out, "%.128s: %s\n", d->ranges[i], reason);
            return 2;
        }
        total += (uint64_t)last - first + 1;
    }
    if (total > S_SWEEP_MAX) {
        fprintf (out,
                 "%llu addresses is more than a command sweeps (%d): put the range in the "
                 "configuration (ranges:) and say \"discover\"\n",
                 (unsigned long long)total, S_SWEEP_MAX);
        return 2;
    }
    const odc_credential_t **creds = calloc (c->credential_count, sizeof *creds);
    for (size_t i = 0; i < c->credential_count; i++)
        creds[i] = &c->credentials[i];
    s_sweep_t s = {ctx, odc_discover_list_new (false)};
    odc_discover_options_t o = {.credentials = creds,
                                .credential_count = c->credential_count,
                                .port = c->discovery_port,
                                .timeout_ms = c->discovery_timeout_ms,
                                .retries = c->discovery_retries,
                                .concurrency = c->discovery_concurrency,
                                .rate = c->discovery_rate,
                                .found = s_sweep_found,
                                .arg = &s};
    char *error = NULL;
    odc_discover_t *sweep = odc_discover_new (&o, targets, n, s_sweep_note, out, &error);
    int rc = 0;
    if (!sweep) {
        fprintf (out, "%s\n", error);
        free (error);
        rc = 2;
    }
    else {
        while (!odc_discover_done (sweep))
            odc_discover_run (sweep, 200);
        odc_discover_list_print (s.list, out, false);
        odc_discover_summary (out, odc_discover_stats (sweep));
        odc_discover_destroy (&sweep);
    }
    odc_discover_list_destroy (&s.list);
    free (creds);
    return rc;
}

static int
s_get_latest_counts (odc_imil_t *ctx, const Odc__SendMeters *m, FILE *out)
{
    const char *what = *m->device_id ? m->device_id : NULL;
    if (!ctx->upload) {
        fprintf (out, "no portal is configured: nothing to send the counts to\n");
        return 2;
    }
    char id[ODC_DEVICE_ID_MAX];
    if (what && !s_find (ctx, what, id, sizeof id)) {
        fprintf (out, "no device '%s' (give an address, a device id or a serial number)\n", what);
        return 2;
    }
    if (odc_uploader_request_meters (ctx->upload, what ? id : NULL) != 0) {
        fprintf (out, "the uploader did not take the request\n");
        return 2;
    }
    fprintf (out, "sending the latest counts of %s to the portal\n", what ? id : "all devices");
    return 0;
}

/*  The reply's text from a memstream: no trailing newline (replies go
    into XML, text kept). */
static char *
s_reply_text (FILE *out, char **reply, size_t *size)
{
    fclose (out);
    if (*size && (*reply)[*size - 1] == '\n')
        (*reply)[*size - 1] = 0;
    return *reply;
}

int
odc_imil_parse (const char *text, odc_imil_command_t *p, char **reply)
{
    memset (p, 0, sizeof *p);
    odc__command__init (&p->command);
    odc__empty__init (&p->empty);
    odc__show_device__init (&p->show_device);
    odc__discover__init (&p->discover);
    odc__send_meters__init (&p->send_meters);
    Odc__Command *c = &p->command;
    c->text = (char *)text;
    char (*w)[128] = p->words;
    int n = strlen (text) > ODC_IMIL_MAX_TEXT ? -1 : odc_imil_words (text, w);
    if (n == 1 && !strcmp (w[0], "help")) {
        c->what_case = ODC__COMMAND__WHAT_HELP;
        c->help = &p->empty;
    }
    else if (n == 1 && !strcmp (w[0], "status")) {
        c->what_case = ODC__COMMAND__WHAT_STATUS;
        c->status = &p->empty;
    }
    else if (n == 3 && !strcmp (w[0], "show") && !strcmp (w[1], "device")) {
        c->what_case = ODC__COMMAND__WHAT_SHOW_DEVICE;
        c->show_device = &p->show_device;
        p->show_device.what = w[2];
    }
    else if (n == 2 && !strcmp (w[0], "show") && !strcmp (w[1], "devices")) {
        c->what_case = ODC__COMMAND__WHAT_SHOW_DEVICES;
        c->show_devices = &p->empty;
    }
    else if (n >= 1 && !strcmp (w[0], "discover")) {
        c->what_case = ODC__COMMAND__WHAT_DISCOVER;
        c->discover = &p->discover;
        for (int i = 1; i < n; i++)
            p->ranges[i - 1] = w[i];
        p->discover.n_ranges = (size_t)(n - 1);
        p->discover.ranges = p->ranges;
    }
    else if (n >= 3 && n <= 4 && !strcmp (w[0], "get") && !strcmp (w[1], "latest") &&
             !strcmp (w[2], "counts")) {
        c->what_case = ODC__COMMAND__WHAT_SEND_METERS;
        c->send_meters = &p->send_meters;
        p->send_meters.device_id = n == 4 && strcmp (w[3], "all") ? w[3] : "";
    }
    if (c->what_case != ODC__COMMAND__WHAT__NOT_SET)
        return 0;
    size_t size = 0;
    FILE *out = open_memstream (reply, &size);
    if (n < 0)
        fprintf (out, "command too long (at most %d characters)\n", ODC_IMIL_MAX_TEXT);
    else {
        /*  Echo what was not understood, cut, control characters escaped
            as the log does (issue 14). */
        char shown[96];
        size_t cut = strlen (text) > 60 ? 60 : strlen (text);
        odc_log_escape (shown, sizeof shown, text, cut);
        fprintf (out, "unknown command '%s'%s\n%s", shown, strlen (text) > cut ? "..." : "",
                 s_help);
    }
    s_reply_text (out, reply, &size);
    return 1;
}

/*  A device list to the registry, its only writer; the answer. */
static int
s_set_devices (odc_imil_t *ctx, const Odc__Command *c, FILE *out)
{
    const Odc__DeviceList *list = c->set_devices;
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.source = "commands";
    env.body_case = ODC__ENVELOPE__BODY_DEVICE_LIST;
    env.device_list = (Odc__DeviceList *)list;
    Odc__Envelope *answer = NULL;
    if (ctx->devices && odc_bus_send (ctx->devices, &env) == 0)
        answer = odc_bus_recv_envelope (ctx->devices);
    const Odc__DeviceListTaken *t =
        answer && answer->body_case == ODC__ENVELOPE__BODY_DEVICE_LIST_TAKEN
            ? answer->device_list_taken
            : NULL;
    int status = 0;
    if (!t || !t->ok) {
        fprintf (out, "%s", t ? "the store refused the list" : "no registry took the list");
        status = 2;
    }
    else if (!strcmp (list->source, "import"))
        fprintf (out,
                 "%u devices imported (%u new, %u no longer listed removed), %u lines "
                 "refused",
                 t->stored, t->added, t->removed, c->refused);
    else
        fprintf (out, "%u devices taken (%u new, %u removed), %u refused", t->stored, t->added,
                 t->removed, c->refused);
    odc_info (NULL, "device list %s: %u devices (%u new, %u removed), %u %s refused%s",
              !strcmp (list->source, "import") ? "imported" : "from the portal", t ? t->stored : 0,
              t ? t->added : 0, t ? t->removed : 0, c->refused,
              !strcmp (list->source, "import") ? "lines" : "entries",
              t && t->ok ? "" : "; not taken");
    odc_bus_envelope_free (&answer);
    return status;
}

char *
odc_imil_run (odc_imil_t *ctx, const Odc__Command *c, int *status)
{
    char *reply = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&reply, &size);
    *status = 0;
    switch (c->what_case) {
    case ODC__COMMAND__WHAT_HELP: fputs (s_help, out); break;
    case ODC__COMMAND__WHAT_STATUS: s_status (ctx, out); break;
    case ODC__COMMAND__WHAT_SHOW_DEVICE:
        *status = s_show_device (ctx, c->show_device->what, out);
        break;
    case ODC__COMMAND__WHAT_SHOW_DEVICES:
        *status = odc_imil_devices (out, ctx->store, false);
        break;
    case ODC__COMMAND__WHAT_DISCOVER: *status = s_discover (ctx, c->discover, out); break;
    case ODC__COMMAND__WHAT_SEND_METERS:
        *status = s_get_latest_counts (ctx, c->send_meters, out);
        break;
    case ODC__COMMAND__WHAT_SET_DEVICES: *status = s_set_devices (ctx, c, out); break;
    default:
        fprintf (out, "a command with nothing to do\n");
        *status = 1;
        break;
    }
    return s_reply_text (out, &reply, &size);
}

char *
odc_imil_run_text (odc_imil_t *ctx, const char *text, int *status)
{
    odc_imil_command_t p;
    char *reply = NULL;
    if (odc_imil_parse (text, &p, &reply) != 0) {
        *status = 1;
        return reply;
    }
    return odc_imil_run (ctx, &p.command, status);
}

/* ------------------------------------------------------------------------
   The commands actor: `opendca imil` on the control socket */

/*  "import devices" with the CSV text (from `opendca import devices`):
    read here, the list to the registry. */
static char *
s_import (odc_imil_t *ctx, const char *csv, size_t size, int *status)
{
    odc_devlist_t *list = odc_devlist_read_text (csv, size, "the imported list",
                                                 odc_devlist_import_columns, ctx->config);
    Odc__DeviceList devices = ODC__DEVICE_LIST__INIT;
    devices.source = "import";
    odc_imil_device_list (&devices, list->devices, list->count);
    Odc__Command c = ODC__COMMAND__INIT;
    c.what_case = ODC__COMMAND__WHAT_SET_DEVICES;
    c.set_devices = &devices;
    c.refused = (uint32_t)list->error_count;
    char *reply = odc_imil_run (ctx, &c, status);
    odc_imil_device_list_free (&devices);
    odc_devlist_destroy (&list);
    return reply;
}

void
odc_imil_device_list (Odc__DeviceList *out, const odc_device_config_t *devices, size_t n)
{
    out->n_devices = n;
    out->devices = calloc (n ? n : 1, sizeof *out->devices);
    Odc__DeviceEntry *entries = calloc (n ? n : 1, sizeof *entries);
    for (size_t i = 0; i < n; i++) {
        Odc__DeviceEntry *e = &entries[i];
        odc__device_entry__init (e);
        e->address = devices[i].address ? devices[i].address : "";
        e->port = devices[i].port > 0 ? (uint32_t)devices[i].port : 0;
        e->credential = devices[i].credential ? devices[i].credential : "";
        e->asset_number = devices[i].asset_number ? devices[i].asset_number : "";
        e->location = devices[i].location ? devices[i].location : "";
        out->devices[i] = e;
    }
    if (!n)
        free (entries);
}

void
odc_imil_device_list_free (Odc__DeviceList *list)
{
    free (list->n_devices ? list->devices[0] : NULL);
    free (list->devices);
    list->devices = NULL;
    list->n_devices = 0;
}

static void
s_take_config (void *config, void *arg)
{
    odc_config_replace (&((odc_imil_t *)arg)->config, config);
}

/*  A command's status for the log. */
static const char *
s_outcome (int status)
{
    return status == 0 ? "done" : status == 1 ? "not understood" : "not done";
}

/*  A command from the portal (the bridge parsed it, hands it over and
    goes on): run here, the reply to the bridge, which sends it to the
    command's sender. */
typedef struct {
    odc_imil_t *ctx;
    zsock_t *replies;
} s_remote_t;

static void
s_on_remote (const Odc__Envelope *env, void *arg)
{
    s_remote_t *r = arg;
    const Odc__Command *c = env->command;
    int status = 0;
    char *text = odc_imil_run (r->ctx, c, &status);
    odc_info (NULL, "command from %s: '%.80s': %s", c->from, c->text, s_outcome (status));
    Odc__Reply reply = ODC__REPLY__INIT;
    reply.id = c->id;
    reply.to = c->from;
    reply.status = status;
    reply.text = text;
    Odc__Envelope out = ODC__ENVELOPE__INIT;
    out.source = "commands";
    out.body_case = ODC__ENVELOPE__BODY_REPLY;
    out.reply = &reply;
    if (odc_bus_send (r->replies, &out) != 0)
        odc_warn (NULL, "the reply to %s was not handed to the bridge", c->from);
    free (text);
}

/*  A command on the control socket: text, and for "import devices" the
    CSV; the status and the reply go back. */
static void
s_on_local (odc_imil_t *ctx, zsock_t *rep)
{
    zmsg_t *msg = zmsg_recv (rep);
    char *text = msg ? zmsg_popstr (msg) : NULL;
    zframe_t *body = msg ? zmsg_pop (msg) : NULL;
    zmsg_destroy (&msg);
    if (!text) {
        zframe_destroy (&body);
        return;
    }
    int status = 0;
    char *reply =
        body && !strcmp (text, "import devices")
            ? s_import (ctx, (const char *)zframe_data (body), zframe_size (body), &status)
            : odc_imil_run_text (ctx, text, &status);
    zframe_destroy (&body);
    odc_info (NULL, "local command '%.80s': %s", text, s_outcome (status));
    char code[4];
    snprintf (code, sizeof code, "%d", status);
    zstr_sendm (rep, code);
    zstr_send (rep, reply);
    free (reply);
    zstr_free (&text);
}

/*  The control socket: the collector's own (issue 14), 0600 whatever the
    umask, so only its user commands it. The umask is the process's:
    narrowed for the microseconds of the bind, a file another thread makes
    meanwhile is only more private. NULL on failure (logged). */
static zsock_t *
s_control_socket (const odc_config_t *config)
{
    char endpoint[1100];
    odc_imil_endpoint (endpoint, sizeof endpoint, config->store_path);
    zsock_t *rep = zsock_new (ZMQ_REP);
    mode_t mask = umask (077);
    bool ok = rep && zsock_bind (rep, "%s", endpoint) == 0;
    umask (mask);
    if (!ok)
        odc_error (NULL, "commands: cannot listen on %s: %s", endpoint,
                   zmq_strerror (zmq_errno ()));
    else if (chmod (endpoint + strlen ("ipc://"), 0600) != 0) {
        odc_error (NULL, "commands: cannot make %s private: %s", endpoint, strerror (errno));
        ok = false;
    }
    if (!ok)
        zsock_destroy (&rep);
    return rep;
}

typedef struct {
    odc_imil_t ctx;
    zsock_t *rep;    /* the control socket */
    zsock_t *status; /* PULL: LoopStatus, PortalStatus (ODC_EP_STATUS) */
    zsock_t *remote; /* PULL: the portal's commands, by way of the bridge */
    s_remote_t replies;
} s_self_t;

static void *
s_self_new (void *args, bool *ok)
{
    const odc_imil_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    odc_imil_t *ctx = &self->ctx;
    ctx->config = odc_config_ref (a->config);
    ctx->store = a->store;
    ctx->outbox = a->outbox;
    ctx->started = (double)time (NULL);
    bool portal = ctx->config->portal_jid != NULL;
    ctx->upload = portal ? odc_bus_push_connect (ODC_EP_UPLOAD, 0) : NULL;
    ctx->registry = odc_bus_push_connect (ODC_EP_REGISTRY, 0);
    ctx->discovery = odc_bus_push_connect (ODC_EP_DISCOVERY, 0);
    ctx->devices = zsock_new_req (ODC_EP_DEVICES);
    self->status = odc_bus_pull_bind (ODC_EP_STATUS, 0);
    /*  The portal's commands, by way of the bridge (with a portal only). */
    self->remote = portal ? odc_bus_pull_bind (ODC_EP_COMMANDS, 0) : NULL;
    self->replies = (s_remote_t){ctx, portal ? odc_bus_push_connect (ODC_EP_REPLIES, 0) : NULL};
    self->rep = s_control_socket (ctx->config);
    *ok = self->rep && ctx->registry && ctx->discovery && ctx->devices && self->status &&
          (!portal || (ctx->upload && self->remote && self->replies.replies));
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    odc_imil_t *ctx = &self->ctx;
    zsock_destroy (&self->rep);
    zsock_destroy (&self->status);
    zsock_destroy (&self->remote);
    zsock_destroy (&self->replies.replies);
    zsock_destroy (&ctx->upload);
    zsock_destroy (&ctx->registry);
    zsock_destroy (&ctx->discovery);
    zsock_destroy (&ctx->devices);
    for (int l = 0; l < ODC_LOOP_COUNT; l++)
        if (ctx->loops[l])
            odc__loop_status__free_unpacked (ctx->loops[l], NULL);
    if (ctx->portal)
        odc__portal_status__free_unpacked (ctx->portal, NULL);
    odc_config_replace (&ctx->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_COMMAND] = s_on_remote;
    odc_bus_handlers_t statuses = {0};
    statuses.on[ODC__ENVELOPE__BODY_LOOP_STATUS] = s_on_status;
    statuses.on[ODC__ENVELOPE__BODY_PORTAL_STATUS] = s_on_status;
    zsock_t *pipe = odc_actor_pipe_of (actor);
    zpoller_t *poller = zpoller_new (pipe, self->rep, self->status, self->remote, NULL);
    for (;;) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which == pipe || !which) {
            if (!which && zpoller_terminated (poller))
                break;
            if (which && odc_actor_heard (actor))
                break;
        }
        else if (which == self->status)
            odc_bus_recv (self->status, &statuses, &self->ctx);
        else if (which == self->remote)
            odc_bus_recv (self->remote, &handlers, &self->replies);
        else
            s_on_local (&self->ctx, self->rep);
    }
    zpoller_destroy (&poller);
}

static void
s_configure (void *config, void *arg)
{
    s_take_config (config, &((s_self_t *)arg)->ctx);
}

static const odc_actor_class_t s_class = {"commands", s_self_new, s_self_destroy, s_configure,
                                          s_run};

void
odc_commands_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
