/*  test_devices: the device list in the store's devices family, against a
    real RocksDB folder: a configuration brought in (new devices with their
    first-seen time, ids by address and port), a reload that adds, changes
    and drops devices without touching those from other sources, a record
    that does not decode skipped and named, and the notes a loop keeps about
    a device surviving a reopen. */
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

int
main (void)
{
    odc_log_set_level (ODC_LOG_ERROR);
    RUN (test_ids);
    RUN (test_sync);
    TEST_END ();
}
