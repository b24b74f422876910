/*  test_devices: the device list in the store's devices family, against a
    real RocksDB folder: a configuration brought in (new devices with their
    first-seen time, ids by address and port), a reload that adds, changes
    and drops devices without touching those from other sources, a record
    that does not decode skipped and named, and the notes a loop keeps about
    a device surviving a reopen; devices the registry moved keep their ids
    and lists find them by address; retired ids are never given again; the
    index; device lists in CSV with every kind of bad line. */
#include <string.h>
#include <unistd.h>

#include "odc_devices.h"
#include "odc_log.h"
#include "odc_test.h"

static odc_config_t *
s_config (const char *dir, const char *name, const char *devices)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    fprintf (f,
             "collector:\n  id: t\nstore:\n  path: %s/state\nsnmp:\n  credentials:\n"
             "    - name: v2\n      version: 2c\n      community: public\n"
             "    - name: v1\n      version: 1\n      community: private\n"
             "devices:\n%s",
             dir, devices);
    fclose (f);
    char *errors = NULL;
    odc_config_t *config = odc_config_load (path, &errors);
    if (!config)
        fprintf (stderr, "%s", errors);
    free (errors);
    return config;
}

typedef struct {
    char ids[8][ODC_DEVICE_ID_MAX];
    size_t n;
} s_list_t;

static int
s_list (const Odc__Device *d, void *arg)
{
    s_list_t *list = arg;
    if (list->n < 8)
        snprintf (list->ids[list->n++], ODC_DEVICE_ID_MAX, "%s", d->id);
    return 0;
}

static void
test_ids (void)
{
    char id[ODC_DEVICE_ID_MAX];
    odc_device_id (id, sizeof id, "192.0.2.7", 161);
    CHECK (!strcmp (id, "192.0.2.7"));
    odc_device_id (id, sizeof id, "192.0.2.7", 0);
    CHECK (!strcmp (id, "192.0.2.7"));
    odc_device_id (id, sizeof id, "192.0.2.7", 1161);
    CHECK (!strcmp (id, "192.0.2.7:1161"));
    odc_device_id (id, sizeof id, "2001:db8::1", 1161);
    CHECK (!strcmp (id, "[2001:db8::1]:1161"));
}

static void
test_sync (void)
{
    char *dir = s_tempdir ("devices");
    char state[512];
    snprintf (state, sizeof state, "%s/state", dir);
    odc_store_t *store = odc_store_open (state, NULL, NULL);
    CHECK (store);
    odc_config_t *first = s_config (dir, "a.yaml",
                                    "  - address: 192.0.2.1\n"
                                    "  - address: 192.0.2.2\n    port: 1161\n    credential: v1\n"
                                    "    asset_number: A-7\n    location: Hall\n"
                                    "  - address: 192.0.2.3\n");
    CHECK (first);
    size_t added = 0, removed = 0;
    CHECK (odc_devices_sync_config (store, first, &added, &removed) == 3);
    CHECK (added == 3 && removed == 0);
    Odc__Device *d = odc_devices_get (store, "192.0.2.2:1161");
    CHECK (d && !strcmp (d->address, "192.0.2.2") && d->port == 1161);
    CHECK (d && d->credential && !strcmp (d->credential->name, "v1") &&
           d->credential->version == ODC__SNMP_VERSION__SNMP_V1);
    CHECK (d && !strcmp (d->asset_number, "A-7") && !strcmp (d->location, "Hall"));
    CHECK (d && !strcmp (d->source, "config") && d->first_seen_ms > 0);
    uint64_t first_seen = d ? d->first_seen_ms : 0;
    if (d)
        odc__device__free_unpacked (d, NULL);
    /*  The same configuration again: nothing new, nothing removed. */
    CHECK (odc_devices_sync_config (store, first, &added, &removed) == 3);
    CHECK (added == 0 && removed == 0);

    /*  A device found by other means (discovery, later) is not the
        configuration's to remove. */
    Odc__Device other = ODC__DEVICE__INIT;
    other.id = "192.0.2.50";
    other.address = "192.0.2.50";
    other.source = "discovery";
    uint8_t buffer[256];
    size_t size = odc__device__pack (&other, buffer);
    CHECK (odc_store_put (store, ODC_CF_DEVICES, "192.0.2.50", 10, buffer, size) == 0);
    /*  And a record that does not decode: skipped, named, the rest read. */
    CHECK (odc_store_put (store, ODC_CF_DEVICES, "192.0.2.60", 10, "\xff\xff\xff", 3) == 0);

    usleep (2000);
    odc_config_t *second = s_config (dir, "b.yaml",
                                     "  - address: 192.0.2.2\n    port: 1161\n    credential: v2\n"
                                     "  - address: 192.0.2.4\n");
    CHECK (odc_devices_sync_config (store, second, &added, &removed) == 2);
    CHECK (added == 1 && removed == 2);
    s_list_t list = {0};
    CHECK (odc_devices_each (store, s_list, &list) == 3);
    CHECK (list.n == 3);
    CHECK (list.n == 3 && !strcmp (list.ids[0], "192.0.2.2:1161") &&
           !strcmp (list.ids[1], "192.0.2.4") && !strcmp (list.ids[2], "192.0.2.50"));
    d = odc_devices_get (store, "192.0.2.2:1161");
    CHECK (d && d->first_seen_ms == first_seen);      /* kept */
    CHECK (d && !strcmp (d->credential->name, "v2")); /* changed */
    CHECK (d && !strcmp (d->asset_number, "A-7"));    /* kept when not given again */
    if (d)
        odc__device__free_unpacked (d, NULL);
    CHECK (odc_devices_get (store, "192.0.2.1") == NULL);

    /*  Notes survive a reopen. */
    CHECK (odc_devices_note_put (store, "meter-vendor-counters", "192.0.2.4", "11 total,mono") ==
           0);
    odc_store_close (&store);
    store = odc_store_open (state, NULL, NULL);
    char *note = odc_devices_note_get (store, "meter-vendor-counters", "192.0.2.4");
    CHECK (note && !strcmp (note, "11 total,mono"));
    free (note);
    CHECK (odc_devices_note_get (store, "meter-vendor-counters", "192.0.2.9") == NULL);
    list.n = 0;
    CHECK (odc_devices_each (store, s_list, &list) == 3);
    odc_store_close (&store);
    odc_config_destroy (&first);
    odc_config_destroy (&second);
    s_rmtree (dir);
    free (dir);
}

/*  The registry's side: a device that moved keeps its id, and the list
    that named its old address gets a new device there; a removed device's
    id is never given again; the index names a device by serial, MAC and
    address. */
static void
test_moves_and_ids (void)
{
    char *dir = s_tempdir ("devices-moves");
    char state[512];
    snprintf (state, sizeof state, "%s/state", dir);
    odc_store_t *store = odc_store_open (state, NULL, NULL);
    odc_config_t *config = s_config (dir, "m.yaml", "  - address: 192.0.2.5\n");
    CHECK (odc_devices_sync_config (store, config, NULL, NULL) == 1);
    /*  The registry moves it to .9 (as its event would). */
    Odc__Device *d = odc_devices_get (store, "192.0.2.5");
    CHECK (d);
    Odc__Device moved = *d;
    moved.address = "192.0.2.9";
    moved.source = "discovery";
    moved.serial = "SER1";
    moved.vendor = "HP";
    moved.mac = "00:1b:00:00:00:01";
    odc_batch_t *batch = odc_batch_new ();
    odc_devices_stage (store, batch, &moved);
    CHECK (odc_store_write (store, batch) == 0);
    /*  The index finds it by serial, MAC and its new address. */
    char keys[3][ODC_INDEX_KEY_MAX];
    CHECK (odc_devices_index_keys (&moved, keys) == 3);
    CHECK (!strcmp (keys[0], "s/HP/SER1") && !strcmp (keys[1], "m/00:1b:00:00:00:01") &&
           !strcmp (keys[2], "a/192.0.2.9"));
    for (int i = 0; i < 3; i++) {
        size_t len = 0;
        char *id = odc_store_get (store, ODC_CF_INDEX, keys[i], strlen (keys[i]), &len);
        CHECK (id && len == 9 && !memcmp (id, "192.0.2.5", 9));
        free (id);
    }
    odc__device__free_unpacked (d, NULL);
    /*  The configuration still names .5: a new device there, under a new
        id; the moved one is left where it is. */
    size_t added = 0, removed = 0;
    CHECK (odc_devices_sync_config (store, config, &added, &removed) == 1);
    CHECK (added == 1 && removed == 0);
    d = odc_devices_get (store, "192.0.2.5#2");
    CHECK (d && !strcmp (d->address, "192.0.2.5"));
    if (d)
        odc__device__free_unpacked (d, NULL);
    d = odc_devices_get (store, "192.0.2.5");
    CHECK (d && !strcmp (d->address, "192.0.2.9") && !strcmp (d->serial, "SER1"));
    if (d)
        odc__device__free_unpacked (d, NULL);
    /*  A list that names .9 finds the moved device by its address. */
    odc_config_t *nine = s_config (dir, "n.yaml", "  - address: 192.0.2.9\n    location: Annex\n");
    CHECK (odc_devices_sync_config (store, nine, &added, &removed) == 1);
    CHECK (added == 0 && removed == 1); /* .5#2 is no longer listed */
    d = odc_devices_get (store, "192.0.2.5");
    CHECK (d && !strcmp (d->location, "Annex") && !strcmp (d->source, "config"));
    if (d)
        odc__device__free_unpacked (d, NULL);
    /*  Removed by a replacement: its id is retired, never given again. */
    odc_devices_stage_removal (store, batch, "192.0.2.5");
    CHECK (odc_store_write (store, batch) == 0);
    CHECK (odc_devices_get (store, "192.0.2.5") == NULL);
    CHECK (odc_devices_retired (store, "192.0.2.5"));
    CHECK (!odc_devices_retired (store, "192.0.2.7"));
    odc_config_t *again = s_config (dir, "o.yaml", "  - address: 192.0.2.5\n");
    CHECK (odc_devices_sync_config (store, again, &added, &removed) == 1);
    s_list_t list = {0};
    odc_devices_each (store, s_list, &list);
    CHECKF (list.n == 1 && !strcmp (list.ids[0], "192.0.2.5#2"), "%zu: %s", list.n,
            list.n ? list.ids[0] : "");
    odc_batch_destroy (&batch);
    odc_store_close (&store);
    odc_config_destroy (&config);
    odc_config_destroy (&nine);
    odc_config_destroy (&again);
    s_rmtree (dir);
    free (dir);
}

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    fputs (text, f);
    fclose (f);
}

/*  Device lists in CSV: the usual columns, a header that names others,
    quotes, a byte-order mark, and every kind of bad line named. */
static void
test_csv (void)
{
    char *dir = s_tempdir ("devices-csv");
    odc_config_t *config = s_config (dir, "c.yaml", "  - address: 192.0.2.1\n");
    char path[512];
    snprintf (path, sizeof path, "%s/list.csv", dir);
    s_write (path, "# a comment\n"
                   "192.0.2.10,A-1,\"Floor 2, east\",v1\n"
                   "192.0.2.11:1161,A-2\n"
                   "\n"
                   "192.0.2.12:99999,A-3\n"
                   "192.0.2.13,A-4,,nosuch\n"
                   "192.0.2.10,A-5\n"
                   "192.0.2.14,a,b,v2,extra\n"
                   "192.0.2.15,\"unclosed\n"
                   "not an address!,A-6\n"
                   ",A-7\n");
    char *error = NULL;
    odc_devlist_t *list = odc_devlist_read (path, odc_devlist_import_columns, config, &error);
    CHECK (list);
    CHECKF (list && list->count == 2, "%zu good", list ? list->count : 0);
    CHECKF (list && list->error_count == 7, "%zu bad", list ? list->error_count : 0);
    if (list && list->count == 2) {
        CHECK (!strcmp (list->devices[0].address, "192.0.2.10") && list->devices[0].port == 0);
        CHECK (!strcmp (list->devices[0].location, "Floor 2, east"));
        CHECK (!strcmp (list->devices[0].credential, "v1"));
        CHECK (!strcmp (list->devices[1].address, "192.0.2.11") && list->devices[1].port == 1161);
        CHECK (!strcmp (list->devices[1].credential, "v2")); /* the configuration's first */
        CHECK (!strcmp (list->devices[1].asset_number, "A-2") && !list->devices[1].location);
    }
    if (list && list->error_count == 7) {
        CHECK (strstr (list->errors[0], "list.csv:5: port '99999' is not a number 1-65535"));
        CHECK (strstr (list->errors[1], "list.csv:6: no credential 'nosuch'"));
        CHECK (
            strstr (list->errors[2], "list.csv:7: 192.0.2.10 is listed twice (first on line 2)"));
        CHECK (strstr (list->errors[3], "list.csv:8: 5 fields, at most 4"));
        CHECK (strstr (list->errors[4], "list.csv:9: a quote is not closed"));
        CHECK (strstr (list->errors[5], "list.csv:10: 'not an address!' is not an address"));
        CHECK (strstr (list->errors[6], "list.csv:11: no address"));
    }
    odc_devlist_destroy (&list);
    /*  A header names the columns, in any order; a byte-order mark first. */
    s_write (path, "\xef\xbb\xbf"
                   "Address, Location, Port, Colour, Asset Number\n"
                   "printer-1.example.com,Hall,1161,red,A-9\n");
    list = odc_devlist_read (path, odc_devlist_import_columns, config, &error);
    CHECK (list && list->count == 1 && list->error_count == 1);
    if (list && list->count == 1) {
        CHECK (!strcmp (list->devices[0].address, "printer-1.example.com"));
        CHECK (list->devices[0].port == 1161 && !strcmp (list->devices[0].location, "Hall"));
        CHECK (!strcmp (list->devices[0].asset_number, "A-9"));
        CHECK (!strcmp (list->devices[0].credential, "v2"));
    }
    if (list && list->error_count == 1)
        CHECK (strstr (list->errors[0], "list.csv:1: unknown column 'Colour'"));
    odc_devlist_destroy (&list);
    /*  The same from memory, and a file that is not there. */
    const char *text = "192.0.2.20,A-1\n";
    list =
        odc_devlist_read_text (text, strlen (text), "pushed", odc_devlist_import_columns, config);
    CHECK (list && list->count == 1);
    odc_devlist_destroy (&list);
    CHECK (odc_devlist_read ("/nonexistent/list.csv", odc_devlist_import_columns, config, &error) ==
           NULL);
    CHECK (error && strstr (error, "/nonexistent/list.csv: cannot read"));
    free (error);
    odc_config_destroy (&config);
    s_rmtree (dir);
    free (dir);
}

/*  Bounds and quiet faults. Text from outside cut at
    ODC_TEXT_MAX on a character boundary; limits.max_devices kept; long DNS
    names get distinct ids; a folder as the list is an error, not an empty
    list; a NUL in a line refuses it. */
static void
test_bounds (void)
{
    char *dir = s_tempdir ("devices-bounds");
    char state[512];
    snprintf (state, sizeof state, "%s/state", dir);
    odc_store_t *store = odc_store_open (state, NULL, NULL);
    odc_config_t *config = s_config (dir, "c.yaml", "  - address: 192.0.2.1\n");
    CHECK (store && config);
    /*  Two long names that share their first 100 characters. */
    char a[300], b[300], ida[ODC_DEVICE_ID_MAX], idb[ODC_DEVICE_ID_MAX];
    memset (a, 'x', 100);
    snprintf (a + 100, sizeof a - 100, ".printer-a.example.com");
    memcpy (b, a, 100);
    snprintf (b + 100, sizeof b - 100, ".printer-b.example.com");
    odc_device_id (ida, sizeof ida, a, 0);
    odc_device_id (idb, sizeof idb, b, 0);
    CHECKF (strcmp (ida, idb) != 0, "'%s' and '%s'", ida, idb);
    CHECK (strlen (ida) == ODC_DEVICE_ID_MAX - 1);
    /*  A 5 MB location, one of 300 bytes of two-byte characters. */
    size_t big = 5u << 20;
    char *location = malloc (big + 1);
    memset (location, 'L', big);
    location[big] = 0;
    char accents[301];
    for (int i = 0; i < 150; i++)
        memcpy (accents + 2 * i, "\xc3\xa9", 2);
    accents[300] = 0;
    odc_device_config_t list[3] = {
        {.address = "192.0.2.50", .credential = "v2", .location = location},
        {.address = "192.0.2.51", .credential = "v2", .asset_number = accents},
        {.address = "192.0.2.52", .credential = "v2"}};
    CHECK (odc_devices_sync (store, "import", list, 3, config, NULL, NULL) == 3);
    Odc__Device *d = odc_devices_get (store, "192.0.2.50");
    CHECKF (d && strlen (d->location) == ODC_TEXT_MAX, "%zu", d ? strlen (d->location) : 0);
    if (d)
        odc__device__free_unpacked (d, NULL);
    d = odc_devices_get (store, "192.0.2.51");
    CHECKF (d && strlen (d->asset_number) == 254, "cut inside a character: %zu",
            d ? strlen (d->asset_number) : 0);
    if (d)
        odc__device__free_unpacked (d, NULL);
    free (location);
    /*  limits.max_devices: 4 in all; the configuration's one stays, the
        list gets three of its five. */
    config->max_devices = 4;
    odc_device_config_t five[5] = {{.address = "192.0.2.60", .credential = "v2"},
                                   {.address = "192.0.2.61", .credential = "v2"},
                                   {.address = "192.0.2.62", .credential = "v2"},
                                   {.address = "192.0.2.63", .credential = "v2"},
                                   {.address = "192.0.2.64", .credential = "v2"}};
    odc_devices_sync_config (store, config, NULL, NULL);
    long n = odc_devices_sync (store, "import", five, 5, config, NULL, NULL);
    long all = odc_devices_each (store, s_list, &(s_list_t){0});
    CHECKF (n == 3 && all == 4, "%ld taken, %ld in all", n, all);
    config->max_devices = 100000;
    /*  A folder given as the list: an error naming it; the list kept. */
    char *error = NULL;
    odc_devlist_t *got = odc_devlist_read (dir, odc_devlist_import_columns, config, &error);
    CHECK (got == NULL);
    CHECKF (error && strstr (error, dir) && strstr (error, "Is a directory"), "%s",
            error ? error : "no error");
    free (error);
    odc_devlist_destroy (&got);
    /*  A NUL inside a field: the line refused, named. */
    const char text[] = "192.0.2.70,A-1,Hall\n192.0.2.71,A-2,Ha\0ll two\n192.0.2.72\n";
    got = odc_devlist_read_text (text, sizeof text - 1, "nul.csv", odc_devlist_import_columns,
                                 config);
    CHECKF (got && got->count == 2 && got->error_count == 1, "%zu good, %zu bad",
            got ? got->count : 0, got ? got->error_count : 0);
    if (got && got->error_count == 1)
        CHECKF (strstr (got->errors[0], "nul.csv:2: a NUL byte"), "%s", got->errors[0]);
    odc_devlist_destroy (&got);
    odc_config_destroy (&config);
    odc_store_close (&store);
    s_rmtree (dir);
    free (dir);
}

int
main (void)
{
    odc_log_set_level (ODC_LOG_ERROR);
    RUN (test_ids);
    RUN (test_sync);
    RUN (test_moves_and_ids);
    RUN (test_csv);
    RUN (test_bounds);
    TEST_END ();
}
