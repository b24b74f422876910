/*  odc_notify_actor: see odc_notify_actor.h. */
#include "odc_notify_actor.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "odc_bus.h"
#include "odc_log.h"
#include "odc_supervisor.h"
#include "odc_text.h"

#define S_TICK_MS      1000
#define S_PEEK_MAX     64   /* notices looked at per page */
#define S_PAGES_MAX    16   /* pages per round: a waiting destination holds up no other */
#define S_WAIT_FIRST_S 5    /* a destination's first wait after a failure */
#define S_WAIT_MAX_S   300  /* and its longest */
#define S_WAITS_MAX    256  /* destinations and recipients waiting at once */
#define S_EX_TEMPFAIL  75   /* sysexits.h: try again later */
#define S_OUTPUT_MAX   4096 /* of a program's output, kept for the log */

extern char **environ;

typedef struct {
    char name[320]; /* destination/recipient */
    double until;   /* wall clock: not before */
    int wait_s;
} s_wait_t;

typedef struct {
    const odc_config_t *config;
    odc_outbox_t *notify;
    zsock_t *pull;
    s_wait_t waits[S_WAITS_MAX];
    size_t n_waits;
    uint64_t sent, refused, failed;
} s_self_t;

/* ------------------------------------------------------------------------
   The message */

static const char *
s_event_word (Odc__AlertEventType t)
{
    return t == ODC__ALERT_EVENT_TYPE__ALERT_RAISED    ? "raised"
           : t == ODC__ALERT_EVENT_TYPE__ALERT_CHANGED ? "changed"
                                                       : "cleared";
}

/*  Text from a device on one header or body line: printable, no line
    breaks (a device's text must not add headers), at most max bytes. */
static void
s_line_text (char *out, size_t size, const char *text)
{
    char flat[1024];
    snprintf (flat, sizeof flat, "%s", text ? text : "");
    size_t n = strlen (flat);
    for (size_t i = 0; i < n; i++)
        if (flat[i] == '\r' || flat[i] == '\n' || flat[i] == '\t')
            flat[i] = ' ';
    while (n && flat[n - 1] == ' ')
        flat[--n] = 0;
    odc_text_printable (out, size, flat);
}

/*  A Message-ID part: letters, digits, '.', '-' only. */
static void
s_id_part (char *out, size_t size, const char *text)
{
    size_t n = 0;
    for (const char *c = text ? text : ""; *c && n + 1 < size; c++)
        out[n++] = (isalnum ((unsigned char)*c) || *c == '-') ? *c : '.';
    out[n] = 0;
    if (!n)
        snprintf (out, size, "opendca");
}

static void
s_message_id (char *out, size_t size, const Odc__Notice *n, const char *what)
{
    char alert[160], host[96];
    s_id_part (alert, sizeof alert, n->event && n->event->alert ? n->event->alert->alert_id : "");
    s_id_part (host, sizeof host, n->collector_id);
    snprintf (out, size, "<opendca.%s.%s@%s>", alert, what, host);
}

static void
s_time_text (char *out, size_t size, uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r (&t, &tm);
    strftime (out, size, "%Y-%m-%d %H:%M:%S %z", &tm);
}

/*  A Subject with text beyond ASCII: RFC 2047 encoded words (B), each of
    whole UTF-8 characters. */
static void
s_subject (FILE *out, const char *text)
{
    bool ascii = true;
    for (const char *c = text; *c; c++)
        ascii = ascii && (unsigned char)*c < 0x80;
    fputs ("Subject: ", out);
    if (ascii) {
        fprintf (out, "%s\r\n", text);
        return;
    }
    size_t len = strlen (text), at = 0;
    while (at < len) {
        size_t n = odc_text_cut (text + at, len - at, 45);
        zarmour_t *armour = zarmour_new ();
        zarmour_set_mode (armour, ZARMOUR_MODE_BASE64_STD);
        zarmour_set_line_breaks (armour, false);
        char *b64 = zarmour_encode (armour, (const byte *)text + at, n);
        fprintf (out, "%s=?UTF-8?B?%s?=", at ? "\r\n " : "", b64 ? b64 : "");
        zstr_free (&b64);
        zarmour_destroy (&armour);
        at += n ? n : len - at;
    }
    fputs ("\r\n", out);
}

char *
odc_notify_email_text (const odc_config_t *c, const Odc__Notice *n, time_t now_s)
{
    const Odc__AlertEvent *e = n->event;
    const Odc__TriagedAlert *a = e ? e->alert : NULL;
    if (!e || !a)
        return NULL;
    const Odc__Device *d = n->device;
    char model[ODC_TEXT_MAX + 1], serial[ODC_TEXT_MAX + 1], location[ODC_TEXT_MAX + 1];
    char asset[ODC_TEXT_MAX + 1], text[ODC_TEXT_MAX + 1], address[80], to[300];
    s_line_text (model, sizeof model, d && d->model[0] ? d->model : "printer");
    s_line_text (serial, sizeof serial, d ? d->serial : "");
    s_line_text (location, sizeof location, d ? d->location : "");
    s_line_text (asset, sizeof asset, d ? d->asset_number : "");
    s_line_text (text, sizeof text, a->description);
    s_line_text (address, sizeof address, e->address);
    s_line_text (to, sizeof to, n->recipient);
    const char *word = s_event_word (e->type);

    char *buffer = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buffer, &size);
    char date[64];
    struct tm tm;
    localtime_r (&now_s, &tm);
    strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
    char root[320], id[320];
    s_message_id (root, sizeof root, n, "raised");
    if (e->type == ODC__ALERT_EVENT_TYPE__ALERT_RAISED)
        snprintf (id, sizeof id, "%s", root);
    else {
        char what[48];
        snprintf (what, sizeof what, "%s.%" PRIu64, word, e->at_ms);
        s_message_id (id, sizeof id, n, what);
    }
    fprintf (out, "Date: %s\r\n", date);
    fprintf (out, "From: opendca <%s>\r\n", c->email_from ? c->email_from : "opendca@localhost");
    fprintf (out, "To: <%s>\r\n", to);
    char subject[1024];
    char lasted[64] = "";
    if (e->type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED)
        snprintf (lasted, sizeof lasted, " after %" PRIu64 " min", (e->duration_s + 59) / 60);
    snprintf (subject, sizeof subject, "[opendca] %s %s%s: %s - %s%s%s (%s)", a->category, word,
              lasted, text[0] ? text : a->code, model, location[0] ? " at " : "", location,
              address);
    s_subject (out, subject);
    fprintf (out, "Message-ID: %s\r\n", id);
    if (e->type != ODC__ALERT_EVENT_TYPE__ALERT_RAISED)
        fprintf (out, "In-Reply-To: %s\r\nReferences: %s\r\n", root, root);
    fprintf (out, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n");
    char alert_id[200];
    s_line_text (alert_id, sizeof alert_id, a->alert_id);
    fprintf (out, "X-Opendca-Alert: %s\r\nX-Opendca-Event: %s\r\n\r\n", alert_id, word);

    fprintf (out, "Alert %s on %s at %s.\r\n\r\n", word, model, address);
    fprintf (out, "Device:    %s\r\n", model);
    if (serial[0])
        fprintf (out, "Serial:    %s\r\n", serial);
    fprintf (out, "Address:   %s\r\n", address);
    if (location[0])
        fprintf (out, "Location:  %s\r\n", location);
    if (asset[0])
        fprintf (out, "Asset:     %s\r\n", asset);
    fprintf (out, "Category:  %s\r\n", a->category);
    if (!strcmp (a->source, "row"))
        fprintf (out, "Code:      %s (printer code %d, group %d, location %d)\r\n", a->code,
                 a->raw_code, a->group, a->location);
    else if (!strcmp (a->source, "status"))
        fprintf (out, "Code:      %s (status bit %d)\r\n", a->code, a->bit);
    else
        fprintf (out, "Code:      %s (from the collector)\r\n", a->code);
    fprintf (out, "Severity:  %s (%s)\r\n", a->severity, a->training);
    if (e->type == ODC__ALERT_EVENT_TYPE__ALERT_CHANGED)
        fprintf (out, "Was:       %s\r\n", e->old_severity);
    if (text[0])
        fprintf (out, "Text:      %s\r\n", text);
    char when[64];
    s_time_text (when, sizeof when, a->raised_ms);
    fprintf (out, "Since:     %s\r\n", when);
    if (e->type == ODC__ALERT_EVENT_TYPE__ALERT_CLEARED) {
        s_time_text (when, sizeof when, a->cleared_ms);
        fprintf (out, "Cleared:   %s\r\n", when);
        fprintf (out, "Lasted:    %" PRIu64 " min %" PRIu64 " s\r\n", e->duration_s / 60,
                 e->duration_s % 60);
    }
    if (a->repeats || a->flaps)
        fprintf (out, "Repeats:   %u, flaps: %u\r\n", a->repeats, a->flaps);
    char collector[ODC_TEXT_MAX + 1];
    s_line_text (collector, sizeof collector, n->collector_id);
    fprintf (out, "\r\n-- \r\nopendca collector %s, alert %s\r\n", collector, alert_id);
    fclose (out);
    return buffer;
}

static void
s_json_field (FILE *out, const char *key, const char *text, bool *first)
{
    fprintf (out, "%s\"%s\":", *first ? "" : ",", key);
    odc_text_json (out, text ? text : "", text ? strlen (text) : 0);
    *first = false;
}

char *
odc_notify_json (const Odc__Notice *n)
{
    const Odc__AlertEvent *e = n->event;
    const Odc__TriagedAlert *a = e ? e->alert : NULL;
    if (!e || !a)
        return NULL;
    const Odc__Device *d = n->device;
    char *buffer = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buffer, &size);
    bool first = true;
    fputc ('{', out);
    s_json_field (out, "event", s_event_word (e->type), &first);
    s_json_field (out, "destination", n->destination, &first);
    s_json_field (out, "collector_id", n->collector_id, &first);
    s_json_field (out, "device_id", e->device_id, &first);
    s_json_field (out, "address", e->address, &first);
    s_json_field (out, "model", d ? d->model : "", &first);
    s_json_field (out, "serial", d ? d->serial : "", &first);
    s_json_field (out, "location", d ? d->location : "", &first);
    s_json_field (out, "asset_number", d ? d->asset_number : "", &first);
    s_json_field (out, "alert_id", a->alert_id, &first);
    s_json_field (out, "code", a->code, &first);
    s_json_field (out, "category", a->category, &first);
    s_json_field (out, "severity", a->severity, &first);
    s_json_field (out, "training", a->training, &first);
    s_json_field (out, "source", a->source, &first);
    s_json_field (out, "description", a->description, &first);
    if (e->type == ODC__ALERT_EVENT_TYPE__ALERT_CHANGED)
        s_json_field (out, "old_severity", e->old_severity, &first);
    fprintf (out,
             ",\"raw_code\":%d,\"group\":%d,\"location_index\":%d,\"bit\":%d,\"raised_ms\":%" PRIu64
             ",\"cleared_ms\":%" PRIu64 ",\"at_ms\":%" PRIu64 ",\"duration_s\":%" PRIu64
             ",\"repeats\":%u,\"flaps\":%u}\n",
             a->raw_code, a->group, a->location, a->bit, a->raised_ms, a->cleared_ms, e->at_ms,
             e->duration_s, a->repeats, a->flaps);
    fclose (out);
    return buffer;
}

/* ------------------------------------------------------------------------
   E-mail */

typedef struct {
    const char *text;
    size_t left;
    char last[8]; /* the last SMTP command sent: which step a refusal answers */
} s_upload_t;

static size_t
s_read (char *buffer, size_t size, size_t count, void *arg)
{
    s_upload_t *u = arg;
    size_t n = size * count < u->left ? size * count : u->left;
    memcpy (buffer, u->text, n);
    u->text += n;
    u->left -= n;
    return n;
}

static int
s_debug (CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
    (void)curl;
    s_upload_t *u = arg;
    if (type == CURLINFO_HEADER_OUT && size >= 4 && memcmp (data, "QUIT", 4) != 0) {
        memcpy (u->last, data, 4);
        u->last[4] = 0;
    }
    return 0;
}

static odc_notify_result_t
s_email (s_self_t *self, const Odc__Notice *n, char *why, size_t why_size)
{
    const odc_config_t *c = self->config;
    if (!c->email_server) {
        snprintf (why, why_size, "no triage.email server in the configuration");
        return ODC_NOTIFY_LATER;
    }
    char *text = odc_notify_email_text (c, n, time (NULL));
    if (!text) {
        snprintf (why, why_size, "the notice holds no alert");
        return ODC_NOTIFY_REFUSED;
    }
    CURL *curl = curl_easy_init ();
    if (!curl) {
        free (text);
        snprintf (why, why_size, "libcurl did not start");
        return ODC_NOTIFY_LATER;
    }
    char url[400], from[300], rcpt[300], error[CURL_ERROR_SIZE] = "";
    bool host6 = strchr (c->email_server, ':') != NULL;
    snprintf (url, sizeof url, "%s://%s%s%s:%d", c->email_security == 1 ? "smtps" : "smtp",
              host6 ? "[" : "", c->email_server, host6 ? "]" : "", c->email_port);
    snprintf (from, sizeof from, "<%s>", c->email_from);
    snprintf (rcpt, sizeof rcpt, "<%s>", n->recipient);
    struct curl_slist *rcpts = curl_slist_append (NULL, rcpt);
    s_upload_t upload = {text, strlen (text), ""};
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_USE_SSL,
                      c->email_security == 2 ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (c->email_ca_file)
        curl_easy_setopt (curl, CURLOPT_CAINFO, c->email_ca_file);
    if (c->email_user) {
        curl_easy_setopt (curl, CURLOPT_USERNAME, c->email_user);
        curl_easy_setopt (curl, CURLOPT_PASSWORD, c->email_password ? c->email_password : "");
    }
    curl_easy_setopt (curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt (curl, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt (curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long)c->email_timeout_seconds);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt (curl, CURLOPT_DEBUGFUNCTION, s_debug);
    curl_easy_setopt (curl, CURLOPT_DEBUGDATA, &upload);
    curl_easy_setopt (curl, CURLOPT_VERBOSE, 1L); /* for s_debug: the commands sent */
    CURLcode rc = curl_easy_perform (curl);
    long code = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all (rcpts);
    curl_easy_cleanup (curl);
    free (text);
    if (rc == CURLE_OK)
        return ODC_NOTIFY_DONE;
    snprintf (why, why_size, "%s:%d: %s (SMTP %ld after %s)", c->email_server, c->email_port,
              error[0] ? error : curl_easy_strerror (rc), code, upload.last[0] ? upload.last : "-");
    /*  A 5xx to the recipient or to the message is this message's end;
        a 5xx to the login or the sender is the configuration's, and the
        mail waits for it to be mended. */
    bool permanent = code >= 500 && code < 600 &&
                     (!strcmp (upload.last, "RCPT") || !strcmp (upload.last, "DATA") ||
                      strstr (error, "RCPT failed") || rc == CURLE_UPLOAD_FAILED);
    if (code >= 500 && code < 600 &&
        (!strcmp (upload.last, "AUTH") || !strcmp (upload.last, "MAIL") ||
         !strcmp (upload.last, "EHLO") || !strcmp (upload.last, "STAR")))
        permanent = false;
    return permanent ? ODC_NOTIFY_REFUSED : ODC_NOTIFY_LATER;
}

/* ------------------------------------------------------------------------
   A program */

static odc_notify_result_t
s_exec (s_self_t *self, const odc_destination_t *d, const Odc__Notice *n, char *why,
        size_t why_size)
{
    char *json = odc_notify_json (n);
    if (!json) {
        snprintf (why, why_size, "the notice holds no alert");
        return ODC_NOTIFY_REFUSED;
    }
    int in[2], out[2];
    if (pipe2 (in, O_CLOEXEC) != 0 || pipe2 (out, O_CLOEXEC) != 0) {
        snprintf (why, why_size, "pipe: %s", strerror (errno));
        free (json);
        return ODC_NOTIFY_LATER;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
    posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
    posix_spawn_file_actions_adddup2 (&fa, out[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init (&attr);
    sigset_t none;
    sigemptyset (&none);
    posix_spawnattr_setsigmask (&attr, &none); /* the collector's threads block signals */
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {d->command, NULL};
    pid_t pid;
    int err = posix_spawn (&pid, d->command, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    close (in[0]);
    close (out[1]);
    if (err) {
        close (in[1]);
        close (out[0]);
        free (json);
        snprintf (why, why_size, "%s: %s", d->command, strerror (err));
        return ODC_NOTIFY_LATER;
    }
    /*  Its input, then its output until it ends or the time is up. */
    fcntl (in[1], F_SETFL, O_NONBLOCK);
    size_t len = strlen (json), written = 0;
    char output[S_OUTPUT_MAX];
    size_t got = 0;
    double end = odc_wall_s () + self->config->email_timeout_seconds;
    bool open_out = true;
    int fd_in = in[1];
    while (open_out && odc_wall_s () < end) {
        struct pollfd p[2] = {{out[0], POLLIN, 0}, {fd_in, POLLOUT, 0}};
        int nfds = fd_in >= 0 ? 2 : 1;
        if (poll (p, (nfds_t)nfds, 200) < 0 && errno != EINTR)
            break;
        if (fd_in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write (fd_in, json + written, len - written);
            if (w > 0)
                written += (size_t)w;
            if (w < 0 || written == len) {
                close (fd_in);
                fd_in = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[512];
            ssize_t r = read (out[0], chunk, sizeof chunk);
            if (r <= 0)
                open_out = false;
            else if (got < sizeof output - 1) {
                size_t take =
                    (size_t)r < sizeof output - 1 - got ? (size_t)r : sizeof output - 1 - got;
                memcpy (output + got, chunk, take);
                got += take;
            }
        }
    }
    if (fd_in >= 0)
        close (fd_in);
    close (out[0]);
    free (json);
    output[got] = 0;
    int status = 0;
    pid_t done = waitpid (pid, &status, WNOHANG);
    while (done == 0 && odc_wall_s () < end) {
        usleep (20000);
        done = waitpid (pid, &status, WNOHANG);
    }
    if (done == 0) {
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
        snprintf (why, why_size, "%s did not end within %d s: killed", d->command,
                  self->config->email_timeout_seconds);
        return ODC_NOTIFY_LATER;
    }
    char said[200];
    s_line_text (said, sizeof said, output);
    if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        return ODC_NOTIFY_DONE;
    if (WIFEXITED (status))
        snprintf (why, why_size, "%s exited %d%s%s", d->command, WEXITSTATUS (status),
                  said[0] ? ": " : "", said);
    else
        snprintf (why, why_size, "%s ended by signal %d", d->command, WTERMSIG (status));
    return WIFEXITED (status) && WEXITSTATUS (status) == S_EX_TEMPFAIL ? ODC_NOTIFY_LATER
                                                                       : ODC_NOTIFY_REFUSED;
}

/* ------------------------------------------------------------------------
   The queue */

/*  The wait of one destination and recipient: a recipient the server
    puts off (or a program that asks for later) holds up its own notices
    only, in order. */
static s_wait_t *
s_wait (s_self_t *self, const char *destination, const char *recipient)
{
    char name[320];
    snprintf (name, sizeof name, "%s/%s", destination, recipient ? recipient : "");
    s_wait_t *free_slot = NULL;
    for (size_t i = 0; i < self->n_waits; i++) {
        if (!strcmp (self->waits[i].name, name))
            return &self->waits[i];
        if (!free_slot && !self->waits[i].until)
            free_slot = &self->waits[i];
    }
    s_wait_t *w = free_slot                     ? free_slot
                  : self->n_waits < S_WAITS_MAX ? &self->waits[self->n_waits++]
                                                : &self->waits[0]; /* the first gives way */
    memset (w, 0, sizeof *w);
    snprintf (w->name, sizeof w->name, "%s", name);
    return w;
}

static const odc_destination_t *
s_destination (s_self_t *self, const char *name)
{
    for (size_t i = 0; i < self->config->destination_count; i++)
        if (self->config->destinations[i].name &&
            !strcmp (self->config->destinations[i].name, name))
            return &self->config->destinations[i];
    return NULL;
}

/*  One notice: delivered, refused (both deleted) or kept for later. */
static void
s_one (s_self_t *self, const Odc__OutboxRecord *record, double now)
{
    Odc__Notice *n = odc__notice__unpack (NULL, record->payload.len, record->payload.data);
    const odc_destination_t *d = n ? s_destination (self, n->destination) : NULL;
    if (!n || !d) {
        odc_error (NULL, "notify: notice %" PRIu64 " %s: dropped", record->seq,
                   n ? "names a destination the configuration no longer has" : "is not readable");
        odc_outbox_ack (self->notify, (int)record->priority, record->seq);
        if (n)
            odc__notice__free_unpacked (n, NULL);
        return;
    }
    s_wait_t *w = s_wait (self, d->name, n->recipient);
    if (now < w->until) {
        odc__notice__free_unpacked (n, NULL);
        return;
    }
    char why[1024] = "";
    const char *device = n->event ? n->event->device_id : NULL;
    const char *word = n->event ? s_event_word (n->event->type) : "?";
    const char *code = n->event && n->event->alert ? n->event->alert->code : "?";
    odc_notify_result_t rc = d->type == ODC_DEST_EMAIL ? s_email (self, n, why, sizeof why)
                                                       : s_exec (self, d, n, why, sizeof why);
    if (rc == ODC_NOTIFY_LATER) {
        w->wait_s = w->wait_s ? w->wait_s * 2 : S_WAIT_FIRST_S;
        if (w->wait_s > S_WAIT_MAX_S)
            w->wait_s = S_WAIT_MAX_S;
        w->until = now + w->wait_s;
        self->failed++;
        odc_warn (device, "notify: %s %s to %s%s%s not delivered, tried again in %d s: %s", code,
                  word, d->name, d->type == ODC_DEST_EMAIL ? " " : "", n->recipient, w->wait_s,
                  why);
    }
    else {
        w->wait_s = 0;
        w->until = 0;
        if (rc == ODC_NOTIFY_DONE) {
            self->sent++;
            odc_info (device, "notify: %s %s sent to %s%s%s", code, word, d->name,
                      d->type == ODC_DEST_EMAIL ? " " : "", n->recipient);
        }
        else {
            self->refused++;
            odc_error (device, "notify: %s %s to %s%s%s refused, not sent again: %s", code, word,
                       d->name, d->type == ODC_DEST_EMAIL ? " " : "", n->recipient, why);
        }
        odc_outbox_ack (self->notify, (int)record->priority, record->seq);
    }
    odc__notice__free_unpacked (n, NULL);
}

/*  A round over the queue's head: every destination not waiting gets its
    notices in order. */
static void
s_deliver (s_self_t *self)
{
    Odc__OutboxRecord *records[S_PEEK_MAX];
    int after_priority = 0;
    uint64_t after_seq = 0;
    for (int page = 0; page < S_PAGES_MAX; page++) {
        size_t count =
            odc_outbox_peek (self->notify, after_priority, after_seq, records, S_PEEK_MAX);
        double now = odc_wall_s ();
        for (size_t i = 0; i < count; i++)
            s_one (self, records[i], now);
        if (count) {
            after_priority = (int)records[count - 1]->priority;
            after_seq = records[count - 1]->seq;
        }
        odc_outbox_records_free (records, count);
        if (count < S_PEEK_MAX)
            break;
    }
}

static void
s_take (void *arg)
{
    s_self_t *self = arg;
    zmsg_t *msg = zmsg_recv (self->pull); /* a wake-up: what it says is in the queue */
    zmsg_destroy (&msg);
}

static void
s_idle (void *arg)
{
    s_deliver (arg);
}

static void
s_tick (void *arg)
{
    s_self_t *self = arg;
    if (odc_outbox_count (self->notify))
        s_deliver (self);
}

static void
s_take_config (void *config, void *arg)
{
    s_self_t *self = arg;
    odc_config_replace (&self->config, config);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_notify_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    self->notify = a->notify;
    self->pull = odc_bus_pull_bind (ODC_EP_NOTIFY, 0);
    *ok = self->pull != NULL; /* curl_global_init: in main, before the threads */
    if (odc_outbox_count (self->notify))
        odc_info (NULL, "notify: %" PRIu64 " notices waiting from before",
                  odc_outbox_count (self->notify));
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    zsock_destroy (&self->pull);
    odc_config_replace (&self->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_actor_serve_ticking (actor, self->pull, s_take, s_idle, s_tick, S_TICK_MS, self);
    odc_info (NULL,
              "notify: %" PRIu64 " sent, %" PRIu64 " refused, %" PRIu64 " tries failed; %" PRIu64
              " waiting",
              self->sent, self->refused, self->failed, odc_outbox_count (self->notify));
}

static const odc_actor_class_t s_class = {"notify", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_notify_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
