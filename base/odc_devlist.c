/*  odc_devlist: see odc_devlist.h. */
#include "odc_devlist.h"

#include <czmq.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "odc_bytes.h"

void
odc_device_id (char *out, size_t size, const char *address, int port)
{
    char full[600];
    if (port == 0 || port == 161)
        snprintf (full, sizeof full, "%s", address);
    else if (strchr (address, ':'))
        snprintf (full, sizeof full, "[%s]:%d", address, port); /* IPv6 literal */
    else
        snprintf (full, sizeof full, "%s:%d", address, port);
    size_t len = strlen (full);
    if (len < size || size < 12) {
        snprintf (out, size, "%s", full);
        return;
    }
    /*  Too long to keep whole (a DNS name of up to 253 characters): the
        start, then "~" and 8 hex digits of a hash of the whole, so two long
        names that share their start still get two ids. */
    uint32_t h = (uint32_t)odc_fnv (ODC_FNV_START, full, len);
    snprintf (out, size, "%.*s~%08x", (int)(size - 10), full, h);
}

/*  Split a CSV line into at most max fields (quotes honoured, spaces
    around fields trimmed), in place. Returns the count, or max + 1 when
    there are more, -1 when a quote is not closed. */
static int
s_csv_split (char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (true) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *start = p, *out = p;
        if (*p == '"') {
            p++;
            start = out = p;
            while (true) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                }
                else if (*p == '"') {
                    p++;
                    break;
                }
                else
                    *out++ = *p++;
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',')
                return -1;
        }
        else {
            while (*p && *p != ',')
                *out++ = *p++;
            while (out > start && (out[-1] == ' ' || out[-1] == '\t'))
                out--;
        }
        char next = *p;
        *out = 0;
        if (n == max)
            return max + 1;
        fields[n++] = start;
        if (next != ',')
            return n;
        p++;
    }
}

static int
s_column (const char *name)
{
    static const char *const names[] = {"address",  "port",  "credential",   "asset_number",
                                        "location", "asset", "asset number", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcasecmp (name, names[i]))
            return i < 5 ? i : 3;
    return -1;
}

static void s_error (odc_devlist_t *list, const char *path, int line, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_error (odc_devlist_t *list, const char *path, int line, const char *fmt, ...)
{
    char text[512];
    int k = snprintf (text, sizeof text, "%s:%d: ", path, line);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text + k, sizeof text - (size_t)k, fmt, ap);
    va_end (ap);
    list->errors = realloc (list->errors, (list->error_count + 1) * sizeof *list->errors);
    list->errors[list->error_count++] = strdup (text);
}

static char *
s_dup_or_null (const char *text)
{
    return text && *text ? strdup (text) : NULL;
}

const char *const odc_devlist_import_columns[] = {"address", "asset_number", "location",
                                                  "credential", NULL};
const char *const odc_devlist_portal_columns[] = {"address",      "port",     "credential",
                                                  "asset_number", "location", NULL};

static odc_devlist_t *s_csv_read (FILE *f, const char *path, const char *const *columns,
                                  const odc_config_t *config);

odc_devlist_t *
odc_devlist_read (const char *path, const char *const *columns, const odc_config_t *config,
                  char **error)
{
    FILE *f = fopen (path, "r");
    struct stat st;
    /*  A folder opens for reading on Linux and reads as nothing: that
        would be an empty list, which removes every device the last one
        gave. */
    if (f && fstat (fileno (f), &st) == 0 && S_ISDIR (st.st_mode)) {
        fclose (f);
        f = NULL;
        errno = EISDIR;
    }
    if (!f) {
        if (error && asprintf (error, "%s: cannot read: %s", path, strerror (errno)) < 0)
            *error = NULL;
        return NULL;
    }
    errno = 0;
    odc_devlist_t *list = s_csv_read (f, path, columns, config);
    if (list && ferror (f)) {
        /*  Half a list is not the list: nothing of it is taken. */
        if (error &&
            asprintf (error, "%s: cannot read: %s", path, strerror (errno ? errno : EIO)) < 0)
            *error = NULL;
        odc_devlist_destroy (&list);
    }
    fclose (f);
    return list;
}

odc_devlist_t *
odc_devlist_read_text (const char *text, size_t size, const char *name, const char *const *columns,
                       const odc_config_t *config)
{
    FILE *f = size ? fmemopen ((void *)text, size, "r") : NULL;
    if (!f)
        return calloc (1, sizeof (odc_devlist_t));
    odc_devlist_t *list = s_csv_read (f, name, columns, config);
    fclose (f);
    return list;
}

static odc_devlist_t *
s_csv_read (FILE *f, const char *path, const char *const *columns, const odc_config_t *config)
{
    odc_devlist_t *list = calloc (1, sizeof *list);
    int order[5] = {-1, -1, -1, -1, -1}, n_order = 0;
    for (int i = 0; columns[i] && i < 5; i++)
        order[n_order++] = s_column (columns[i]);
    zhashx_t *seen = zhashx_new (); /* ADDRESS:PORT -> line number */
    size_t cap = 0;
    char *line = NULL;
    size_t line_size = 0;
    int number = 0;
    bool first = true;
    ssize_t got;
    while ((got = getline (&line, &line_size, f)) >= 0) {
        number++;
        /*  C strings end at a NUL: what follows one in a field would be
            dropped without a word, so the line is refused. */
        const char *nul = memchr (line, 0, (size_t)got);
        if (nul) {
            s_error (list, path, number, "a NUL byte at column %d: not a text line",
                     (int)(nul - line) + 1);
            continue;
        }
        line[strcspn (line, "\r\n")] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (number == 1 && !strncmp (p, "\xef\xbb\xbf", 3))
            p += 3; /* a byte-order mark */
        if (!*p || *p == '#')
            continue;
        char *fields[6];
        int n = s_csv_split (p, fields, 5);
        if (first && n > 0 && !strcasecmp (fields[0], "address")) {
            /*  The header names the columns. */
            first = false;
            n_order = 0;
            for (int i = 0; i < n && i < 5; i++) {
                order[n_order] = s_column (fields[i]);
                if (order[n_order] < 0)
                    s_error (list, path, number,
                             "unknown column '%.40s' (address, port, credential, "
                             "asset_number, location); its values are left out",
                             fields[i]);
                n_order++;
            }
            if (n > 5)
                s_error (list, path, number, "more than 5 columns");
            continue;
        }
        first = false;
        if (n < 0) {
            s_error (list, path, number, "a quote is not closed");
            continue;
        }
        if (n > n_order) {
            s_error (list, path, number, "%d fields, at most %d (%s)", n, n_order,
                     "address, then the columns named in the header or the usual order");
            continue;
        }
        const char *value[5] = {NULL, NULL, NULL, NULL, NULL};
        for (int i = 0; i < n; i++)
            if (order[i] >= 0)
                value[order[i]] = fields[i];
        char address[256] = "";
        long port = 161;
        if (value[0])
            snprintf (address, sizeof address, "%s", value[0]);
        char *colon = strrchr (address, ':');
        if (colon && strchr (address, ':') == colon) {
            *colon = 0;
            char *end = NULL;
            port = strtol (colon + 1, &end, 10);
            if (!colon[1] || *end || port < 1 || port > 65535) {
                s_error (list, path, number, "port '%.20s' is not a number 1-65535", colon + 1);
                continue;
            }
        }
        if (!*address) {
            s_error (list, path, number, "no address");
            continue;
        }
        if (!odc_config_address_ok (address)) {
            s_error (list, path, number, "'%.60s' is not an address (IPv4, IPv6 or a DNS name)",
                     address);
            continue;
        }
        if (value[1] && *value[1]) {
            char *end = NULL;
            port = strtol (value[1], &end, 10);
            if (*end || port < 1 || port > 65535) {
                s_error (list, path, number, "port '%.20s' is not a number 1-65535", value[1]);
                continue;
            }
        }
        const char *credential = value[2] && *value[2] ? value[2] : NULL;
        if (config && credential && !odc_config_credential (config, credential)) {
            s_error (list, path, number,
                     "no credential '%.40s' in the configuration (snmp.credentials)", credential);
            continue;
        }
        if (config && !credential) {
            if (!config->credential_count) {
                s_error (list, path, number, "no credential given, and the configuration has none");
                continue;
            }
            credential = config->credentials[0].name;
        }
        char key[ODC_DEVICE_ID_MAX + 8];
        odc_device_id (key, sizeof key, address, (int)port);
        intptr_t before = (intptr_t)zhashx_lookup (seen, key);
        if (before) {
            s_error (list, path, number, "%s is listed twice (first on line %ld)", key,
                     (long)before);
            continue;
        }
        zhashx_insert (seen, key, (void *)(intptr_t)number);
        if (list->count == cap) {
            cap = cap ? cap * 2 : 64;
            list->devices = realloc (list->devices, cap * sizeof *list->devices);
        }
        odc_device_config_t *d = &list->devices[list->count++];
        memset (d, 0, sizeof *d);
        d->address = strdup (address);
        d->port = port == 161 ? 0 : (int)port;
        d->credential = s_dup_or_null (credential);
        d->asset_number = s_dup_or_null (value[3]);
        d->location = s_dup_or_null (value[4]);
        d->line = number;
    }
    free (line);
    zhashx_destroy (&seen);
    return list;
}

void
odc_devlist_destroy (odc_devlist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_devlist_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->devices[i].address);
        free (self->devices[i].credential);
        free (self->devices[i].asset_number);
        free (self->devices[i].location);
    }
    free (self->devices);
    for (size_t i = 0; i < self->error_count; i++)
        free (self->errors[i]);
    free (self->errors);
    free (self);
    *self_p = NULL;
}
