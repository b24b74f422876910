/*  The commands beside a collector, on this machine: they read its store
    (read-only while it runs) or talk to it through its control socket.

        opendca latest ADDRESS --loop NAME (-c FILE | --store DIR) [--json]
        opendca outbox -c FILE
        opendca devices -c FILE [--json]
        opendca import devices FILE.csv -c FILE
        opendca imil "COMMAND" -c FILE

    Entry points in odc_cli.h. */
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "odc_bus.h"
#include "odc_bytes.h"
#include "odc_cli.h"
#include "odc_config.h"
#include "odc_devices.h"
#include "odc_imil.h"
#include "odc_latest_actor.h"
#include "odc_validator_actor.h"
#include "odc_outbox.h"
#include "odc_read.h"
#include "odc_store.h"

typedef struct {
    const char *address;
    char *id;
    size_t size;
} s_find_t;

static int
s_find_address (const Odc__Device *device, void *arg)
{
    s_find_t *find = arg;
    if (strcmp (device->address, find->address) != 0)
        return 0;
    snprintf (find->id, find->size, "%s", device->id);
    return 1;
}

/*  --rejections: what the validator kept (the history family), of one
    device id or of all. */
typedef struct {
    const char *id; /* NULL: every device */
    int loop;       /* Odc__Loop, 0: every loop */
    bool json;
    uint64_t shown, in_all;
} s_rejections_t;

static int
s_rejections_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_rejections_t *r = arg;
    size_t id_len = 0;
    int loop = odc_latest_key_loop (key, klen, &id_len);
    if (loop < 0 || (r->loop && loop != r->loop) ||
        (r->id && (strlen (r->id) != id_len || memcmp (key, r->id, id_len))))
        return 0;
    Odc__History *h = odc__history__unpack (NULL, vlen, value);
    if (!h)
        return 0;
    r->in_all += h->rejected;
    for (size_t i = 0; i < h->n_rejections; i++) {
        const Odc__Rejection *x = h->rejections[i];
        if (r->json) {
            odc_json_print (&x->base, stdout, -1);
            putchar ('\n');
        }
        else {
            char line[600];
            odc_rejection_format (x, line, sizeof line);
            printf ("%.*s %s %s\n", (int)id_len, (const char *)key,
                    odc_config_loop_names[odc_loop_of_wire ((Odc__Loop)loop)], line);
        }
        r->shown++;
    }
    odc__history__free_unpacked (h, NULL);
    return 0;
}

/*  "opendca latest ADDRESS --loop NAME (-c FILE | --store DIR) [--json]":
    the last reading the loop stored for a device (read-only, beside a
    running collector). "opendca latest [ADDRESS] --rejections [--loop
    NAME]": the readings the validator did not take, and its notes. */
int
odc_latest_main (int argc, char **argv, const char *config_file)
{
    const char *loop_name = NULL, *store_path = NULL, *address = NULL;
    bool json = false, rejections = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--rejections"))
            rejections = true;
        else if (!strcmp (argv[i], "--loop") && i + 1 < argc)
            loop_name = argv[++i];
        else if (!strcmp (argv[i], "--store") && i + 1 < argc)
            store_path = argv[++i];
        else if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
            config_file = argv[++i];
        else if (!strcmp (argv[i], "--json"))
            json = true;
        else if (!address && argv[i][0] != '-')
            address = argv[i];
        else {
            fprintf (stderr, "opendca latest: unexpected '%s'\n", argv[i]);
            return 2;
        }
    }
    int loop = -1;
    for (int l = 0; loop_name && l < ODC_LOOP_COUNT; l++)
        if (!strcmp (loop_name, odc_config_loop_names[l]))
            loop = l;
    if ((!rejections && (!address || loop < 0)) || (loop_name && loop < 0) ||
        (!store_path && !config_file)) {
        fprintf (stderr,
                 "opendca latest: usage: opendca latest ADDRESS --loop "
                 "alert|identity|meter|supply|tray (-c FILE | --store DIR) [--json]\n"
                 "       opendca latest [ADDRESS] --rejections [--loop NAME] (-c FILE | --store "
                 "DIR) [--json]\n");
        return 2;
    }
    odc_config_t *config = NULL;
    if (!store_path) {
        char *errors = NULL;
        config = odc_config_load (config_file, &errors);
        if (!config) {
            fputs (errors, stderr);
            free (errors);
            return 2;
        }
        store_path = config->store_path;
    }
    char *err = NULL;
    odc_store_t *store = odc_store_open_readonly (store_path, &err);
    int rc = 1;
    if (!store)
        fprintf (stderr, "opendca latest: %s\n", err ? err : store_path);
    else {
        /*  ADDRESS is a device id ("ADDRESS" or "ADDRESS:PORT"), or the
            address of a device on another port. */
        char id[ODC_DEVICE_ID_MAX];
        snprintf (id, sizeof id, "%s", address ? address : "");
        size_t klen = 0;
        void *known = odc_store_get (store, ODC_CF_DEVICES, id, strlen (id), &klen);
        if (!known && address) {
            s_find_t find = {address, id, sizeof id};
            odc_devices_each (store, s_find_address, &find);
        }
        free (known);
        if (rejections) {
            s_rejections_t r = {address ? id : NULL,
                                loop >= 0 ? odc_loop_wire ((odc_loop_t)loop) : 0, json, 0, 0};
            odc_store_each (store, ODC_CF_HISTORY, NULL, 0, NULL, 0, s_rejections_one, &r);
            fprintf (stderr,
                     "%" PRIu64 " rejections and notes kept; %" PRIu64
                     " readings rejected in all\n",
                     r.shown, r.in_all);
            rc = 0;
            goto out;
        }
        char key[128];
        odc_latest_key (key, sizeof key, id, odc_loop_wire ((odc_loop_t)loop));
        size_t len = 0;
        uint8_t *value = odc_store_get (store, ODC_CF_LATEST, key, strlen (key), &len);
        Odc__Envelope *env = value ? odc__envelope__unpack (NULL, len, value) : NULL;
        if (!env)
            fprintf (stderr, "opendca latest: no %s reading of %s in %s\n", loop_name, address,
                     store_path);
        else {
            const ProtobufCMessage *body = odc_bus_body (env);
            if (json) {
                odc_json_print (body, stdout, 0);
                putchar ('\n');
            }
            else
                odc_reading_print ((odc_loop_t)loop, body);
            odc__envelope__free_unpacked (env, NULL);
            rc = 0;
        }
        free (value);
    }
out:
    free (err);
    odc_store_close (&store);
    odc_config_destroy (&config);
    return rc;
}

/*  "opendca outbox -c FILE": every reading waiting in the outbox, one JSON
    line each: {"batch": "CLASS-SEQ", "kind": K, "reading": {...}} (read
    only, beside a running collector). */
static int
s_outbox_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    uint64_t *count = arg;
    if (klen != ODC_OUTBOX_KEY_SIZE)
        return 0;
    const uint8_t *k = key;
    uint64_t seq = odc_be64_get (k + 1);
    Odc__OutboxRecord *r = odc__outbox_record__unpack (NULL, vlen, value);
    Odc__Batch *b = r ? odc__batch__unpack (NULL, r->payload.len, r->payload.data) : NULL;
    for (size_t i = 0; b && i < b->n_items; i++) {
        const ProtobufCMessage *body = odc_bus_body (b->items[i]);
        if (!body)
            continue;
        printf ("{\"batch\": \"%d-%llu\", \"kind\": \"%s\", \"reading\": ", k[0],
                (unsigned long long)seq, r->kind);
        odc_json_print (body, stdout, -1);
        puts ("}");
        (*count)++;
    }
    if (b)
        odc__batch__free_unpacked (b, NULL);
    if (r)
        odc__outbox_record__free_unpacked (r, NULL);
    return 0;
}

/*  The store of the collector configured in file, read-only (beside a
    running collector). NULL with the reason said, naming prog; *rc is the
    exit code then (2 a bad configuration, 1 no store). */
static odc_store_t *
s_open_beside (const char *file, const char *prog, odc_config_t **config, int *rc)
{
    *config = odc_cli_load_config (file);
    *rc = 2;
    if (!*config)
        return NULL;
    char *err = NULL;
    odc_store_t *store = odc_store_open_readonly ((*config)->store_path, &err);
    *rc = 1;
    if (!store)
        fprintf (stderr, "%s: %s\n", prog, err ? err : (*config)->store_path);
    free (err);
    return store;
}

static int
s_outbox (const char *file)
{
    odc_config_t *config = NULL;
    int rc;
    odc_store_t *store = s_open_beside (file, "opendca outbox", &config, &rc);
    if (store) {
        uint64_t count = 0;
        odc_store_each (store, ODC_CF_OUTBOX, NULL, 0, NULL, 0, s_outbox_one, &count);
        fprintf (stderr, "opendca outbox: %llu readings waiting\n", (unsigned long long)count);
        rc = 0;
    }
    odc_store_close (&store);
    odc_config_destroy (&config);
    return rc;
}

/*  Whether a collector listens on the control socket at path: 1 yes, 0
    no (a socket file left by one that died refuses the connection), -1
    it does but we may not talk to it (the socket is its user's, 0600). */
static int
s_collector_running (const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen (path) >= sizeof addr.sun_path)
        return access (path, F_OK) == 0;
    strcpy (addr.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    int up = fd >= 0 && connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    if (!up && (errno == EACCES || errno == EPERM))
        up = -1;
    if (fd >= 0)
        close (fd);
    return up;
}

/*  The words for a control socket we may not use. */
static void
s_permission_denied (const char *prog, const char *socket_path)
{
    fprintf (stderr, "%s: permission denied on %s (run as the collector's user)\n", prog,
             socket_path);
}

/*  "opendca imil TEXT -c FILE": TEXT to the collector running with FILE,
    through its control socket in the store folder; its reply on stdout.
    body (may be NULL) goes as a second frame (import devices). */
static int
s_imil_body (const char *file, const char *text, const char *body, size_t body_size)
{
    odc_config_t *config = odc_cli_load_config (file);
    if (!config)
        return 2;
    char endpoint[1100];
    odc_imil_endpoint (endpoint, sizeof endpoint, config->store_path);
    char socket_path[1100];
    snprintf (socket_path, sizeof socket_path, "%s/control", config->store_path);
    int rc = 3;
    int running = s_collector_running (socket_path);
    if (running < 0) {
        s_permission_denied ("opendca imil", socket_path);
        rc = 2;
    }
    else if (!running)
        fprintf (stderr, "opendca imil: no collector is running with %s (nothing listens on %s)\n",
                 file, socket_path);
    else {
        zsock_t *req = zsock_new (ZMQ_REQ);
        /*  A "discover RANGE" sweeps for up to a minute or so. */
        zsock_set_rcvtimeo (req, 120000);
        zsock_set_linger (req, 0);
        zsock_connect (req, "%s", endpoint);
        char *code = NULL, *reply = NULL;
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, text);
        if (body)
            zmsg_addmem (msg, body, body_size);
        if (zmsg_send (&msg, req) == 0 && zstr_recvx (req, &code, &reply, NULL) == 2) {
            puts (reply);
            rc = atoi (code);
        }
        else
            fprintf (stderr,
                     "opendca imil: the collector running with %s did not answer in 120 s\n", file);
        zmsg_destroy (&msg);
        zstr_free (&code);
        zstr_free (&reply);
        zsock_destroy (&req);
    }
    odc_config_destroy (&config);
    zsys_shutdown ();
    return rc;
}

/*  "opendca devices -c FILE [--json]": the registry's device list. */
static int
s_devices (const char *file, bool json)
{
    odc_config_t *config = NULL;
    int rc;
    odc_store_t *store = s_open_beside (file, "opendca devices", &config, &rc);
    if (store)
        rc = odc_imil_devices (stdout, store, json) == 0 ? 0 : 1;
    odc_store_close (&store);
    odc_config_destroy (&config);
    return rc;
}

/*  "opendca import devices FILE.csv -c CONFIG": the file's devices become
    the "import" list (store/odc_devices.h); through the running collector
    when there is one, else straight into the store. Bad lines are named;
    the good ones are taken. Exit 0 all taken, 1 some lines refused, 2 no
    list taken. */
static int
s_import (const char *file, const char *csv)
{
    odc_config_t *config = odc_cli_load_config (file);
    if (!config)
        return 2;
    char *error = NULL;
    odc_devlist_t *list = odc_devlist_read (csv, odc_devlist_import_columns, config, &error);
    if (!list) {
        fprintf (stderr, "opendca import: %s\n", error ? error : csv);
        free (error);
        odc_config_destroy (&config);
        return 2;
    }
    for (size_t i = 0; i < list->error_count; i++)
        fprintf (stderr, "%s\n", list->errors[i]);
    int rc = list->error_count ? 1 : 0;
    char control[1100];
    snprintf (control, sizeof control, "%s/control", config->store_path);
    int running = s_collector_running (control);
    if (running < 0) {
        s_permission_denied ("opendca import", control);
        rc = 2;
    }
    else if (running) {
        /*  A collector runs: it takes the list (and reads the file as we
            did, so the same lines are refused). */
        size_t size = 0;
        char *body = NULL;
        FILE *f = fopen (csv, "r");
        if (f) {
            FILE *out = open_memstream (&body, &size);
            char buffer[8192];
            size_t n;
            while ((n = fread (buffer, 1, sizeof buffer, f)) > 0)
                fwrite (buffer, 1, n, out);
            fclose (out);
            fclose (f);
        }
        int r = s_imil_body (file, "import devices", body ? body : "", size);
        free (body);
        if (r != 0)
            rc = 2;
    }
    else {
        char *err = NULL;
        odc_store_options_t options;
        odc_store_options_default (&options);
        odc_store_t *store = odc_store_open (config->store_path, &options, &err);
        size_t added = 0, removed = 0;
        long n = store ? odc_devices_sync (store, "import", list->devices, list->count, config,
                                           &added, &removed)
                       : -1;
        if (n < 0) {
            fprintf (stderr, "opendca import: %s\n", err ? err : "the store refused the list");
            rc = 2;
        }
        else
            printf ("%ld devices imported (%zu new, %zu no longer listed removed), %zu lines "
                    "refused\n",
                    n, added, removed, list->error_count);
        free (err);
        odc_store_close (&store);
    }
    odc_devlist_destroy (&list);
    odc_config_destroy (&config);
    return rc;
}

/*  The words of devices, import, imil and outbox: -c FILE (or the one
    given before the command), --json where json is not NULL, the rest in
    order into words (at most max; *n their count). 0, or -1 on a word too
    many or an option not taken (the caller prints its usage). */
static int
s_words (int argc, char **argv, const char **config, bool *json, const char **words, int max,
         int *n)
{
    *n = 0;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
            *config = argv[++i];
        else if (json && !strcmp (argv[i], "--json"))
            *json = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return -1;
        else if (*n < max)
            words[(*n)++] = argv[i];
        else
            return -1;
    }
    return 0;
}

int
odc_imil_main (int argc, char **argv, const char *config)
{
    /*  One word, the command (quoted), and -c FILE. */
    const char *text[1] = {NULL};
    int n = 0;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
            config = argv[++i];
        else if (!n)
            text[n++] = argv[i];
        else
            bad = true;
    }
    if (!config || !n || bad) {
        fprintf (stderr, "opendca imil: usage: opendca imil \"COMMAND\" -c FILE\n");
        return 2;
    }
    return s_imil_body (config, text[0], NULL, 0);
}

int
odc_devices_main (int argc, char **argv, const char *config)
{
    const char *words[1];
    int n = 0;
    bool json = false;
    if (s_words (argc, argv, &config, &json, words, 1, &n) < 0 || !config || n) {
        fprintf (stderr, "opendca devices: usage: opendca devices -c FILE [--json]\n");
        return 2;
    }
    return s_devices (config, json);
}

int
odc_import_main (int argc, char **argv, const char *config)
{
    const char *words[2];
    int n = 0;
    if (s_words (argc, argv, &config, NULL, words, 2, &n) < 0 || !config || n != 2 ||
        strcmp (words[0], "devices")) {
        fprintf (stderr, "opendca import: usage: opendca import devices FILE.csv -c FILE\n");
        return 2;
    }
    return s_import (config, words[1]);
}

int
odc_outbox_main (int argc, char **argv, const char *config)
{
    const char *words[1];
    int n = 0;
    if (s_words (argc, argv, &config, NULL, words, 1, &n) < 0 || !config || n) {
        fprintf (stderr, "opendca outbox: usage: opendca outbox -c FILE\n");
        return 2;
    }
    return s_outbox (config);
}
