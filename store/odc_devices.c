/*  odc_devices: see odc_devices.h. */
#include "odc_devices.h"

#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_bytes.h"
#include "odc_log.h"
#include "odc_text.h"

#define S_SOURCE_CONFIG "config"

/*  Text from outside into a device record: at most ODC_TEXT_MAX bytes,
    cut at a UTF-8 character boundary, the cut said. NULL when text fits
    (use it as it is), else a shorter copy the caller frees. */
static char *
s_bounded (const char *text, const char *what, const char *id, const char *source)
{
    size_t len = text ? strlen (text) : 0;
    if (len <= ODC_TEXT_MAX)
        return NULL;
    size_t keep = odc_text_cut (text, len, ODC_TEXT_MAX);
    odc_warn (id, "the %s list's %s of %zu bytes is cut to %zu (at most %d bytes are kept)", source,
              what, len, keep, ODC_TEXT_MAX);
    return strndup (text, keep);
}

typedef struct {
    zhashx_t *stored; /* id -> packed bytes (zchunk_t) */
} s_load_t;

static int
s_collect (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_load_t *load = arg;
    char id[ODC_DEVICE_ID_MAX + 1];
    if (klen > ODC_DEVICE_ID_MAX)
        return 0;
    memcpy (id, key, klen);
    id[klen] = 0;
    zhashx_insert (load->stored, id, zchunk_new (value, vlen));
    return 0;
}

static void
s_chunk_destroy (void **item)
{
    zchunk_destroy ((zchunk_t **)item);
}

long
odc_devices_sync_config (odc_store_t *store, const odc_config_t *config, size_t *added,
                         size_t *removed)
{
    return odc_devices_sync (store, S_SOURCE_CONFIG, config->devices, config->device_count, config,
                             added, removed);
}

void
odc_device_fresh_id (char *out, size_t size, const char *address, int port,
                     odc_device_taken_fn *taken, void *arg)
{
    char base[ODC_DEVICE_ID_MAX];
    odc_device_id (base, sizeof base, address, port);
    snprintf (out, size, "%s", base);
    for (unsigned n = 2; taken (out, arg) && n < 1000000; n++) {
        char suffix[16];
        snprintf (suffix, sizeof suffix, "#%u", n);
        size_t keep = strlen (base);
        if (keep + strlen (suffix) + 1 > size)
            keep = size > strlen (suffix) + 1 ? size - strlen (suffix) - 1 : 0;
        memcpy (out, base, keep);
        memcpy (out + keep, suffix, strlen (suffix) + 1);
    }
}

typedef struct {
    zhashx_t *stored;
    odc_store_t *store;
} s_ids_t;

static bool
s_taken (const char *id, void *arg)
{
    s_ids_t *ids = arg;
    return zhashx_lookup (ids->stored, id) != NULL || odc_devices_retired (ids->store, id);
}

long
odc_devices_sync (odc_store_t *store, const char *source, const odc_device_config_t *devices,
                  size_t device_count, const odc_config_t *config, size_t *added, size_t *removed)
{
    s_load_t load = {zhashx_new ()};
    zhashx_set_destructor (load.stored, s_chunk_destroy);
    if (odc_store_each (store, ODC_CF_DEVICES, NULL, 0, NULL, 0, s_collect, &load) < 0) {
        zhashx_destroy (&load.stored);
        return -1;
    }
    /*  Where each stored device is now (the registry moves devices: the
        list names addresses, and the device at an address is found by
        it, whatever its id). */
    zhashx_t *at = zhashx_new (); /* ADDRESS[:PORT] -> id (strings owned by `ids`) */
    zlist_t *ids = zlist_new ();
    zlist_autofree (ids);
    size_t others = 0; /* devices of other sources: they stay */
    for (zchunk_t *chunk = zhashx_first (load.stored); chunk; chunk = zhashx_next (load.stored)) {
        Odc__Device *d = odc__device__unpack (NULL, zchunk_size (chunk), zchunk_data (chunk));
        if (d && !(d->source && !strcmp (d->source, source)))
            others++;
        if (d && d->address && *d->address) {
            char key[ODC_DEVICE_ID_MAX];
            odc_device_id (key, sizeof key, d->address, (int)d->port);
            zlist_append (ids, (void *)zhashx_cursor (load.stored));
            zhashx_update (at, key, zlist_last (ids));
        }
        if (d)
            odc__device__free_unpacked (d, NULL);
    }
    uint64_t now = (uint64_t)zclock_time ();
    odc_batch_t *batch = odc_batch_new ();
    size_t n_added = 0, n_removed = 0;
    zhashx_t *listed = zhashx_new (); /* ids the list holds */
    /*  limits.max_devices bounds the whole family: what other sources
        hold stays, this list gets the rest, in its order. */
    size_t max = config && config->max_devices > 0 ? (size_t)config->max_devices : SIZE_MAX;
    size_t over = 0;
    for (size_t i = 0; i < device_count; i++) {
        const odc_device_config_t *c = &devices[i];
        if (others + zhashx_size (listed) >= max) {
            over++;
            continue;
        }
        char key[ODC_DEVICE_ID_MAX], id[ODC_DEVICE_ID_MAX + 8];
        odc_device_id (key, sizeof key, c->address, c->port);
        const char *held = zhashx_lookup (at, key);
        if (held)
            snprintf (id, sizeof id, "%s", held);
        else if (zhashx_lookup (listed, key))
            continue; /* listed twice */
        else {
            s_ids_t taken = {load.stored, store};
            odc_device_fresh_id (id, sizeof id, c->address, c->port, s_taken, &taken);
        }
        if (zhashx_lookup (listed, id))
            continue; /* listed twice */
        zhashx_insert (listed, id, (void *)c);
        const odc_credential_t *cred = odc_config_credential (config, c->credential);
        Odc__Device *old = NULL;
        zchunk_t *chunk = zhashx_lookup (load.stored, id);
        if (chunk)
            old = odc__device__unpack (NULL, zchunk_size (chunk), zchunk_data (chunk));
        Odc__Device d = ODC__DEVICE__INIT;
        Odc__CredentialRef ref = ODC__CREDENTIAL_REF__INIT;
        if (old)
            d = *old; /* keep what others learnt (serial, MAC, model, first seen) */
        d.id = id;
        d.address = c->address;
        d.port = (uint32_t)c->port;
        ref.name = c->credential ? c->credential : "";
        ref.version = cred ? (cred->version == 1   ? ODC__SNMP_VERSION__SNMP_V1
                              : cred->version == 3 ? ODC__SNMP_VERSION__SNMP_V3
                                                   : ODC__SNMP_VERSION__SNMP_V2C)
                           : ODC__SNMP_VERSION__SNMP_VERSION_UNSPECIFIED;
        d.credential = &ref;
        char *asset = s_bounded (c->asset_number, "asset number", id, source);
        char *location = s_bounded (c->location, "location", id, source);
        d.asset_number = asset             ? asset
                         : c->asset_number ? c->asset_number
                         : old             ? old->asset_number
                                           : "";
        d.location = location ? location : c->location ? c->location : old ? old->location : "";
        d.source = (char *)source;
        if (!old) {
            d.first_seen_ms = now;
            n_added++;
            /*  Taken now: a later line must not get the same id. */
            zhashx_insert (load.stored, id, zchunk_new (NULL, 0));
            chunk = NULL;
        }
        size_t size = odc__device__get_packed_size (&d);
        uint8_t *buffer = malloc (size ? size : 1);
        odc__device__pack (&d, buffer);
        if (!chunk || zchunk_size (chunk) != size || memcmp (zchunk_data (chunk), buffer, size))
            odc_devices_stage (store, batch, &d);
        free (buffer);
        free (asset);
        free (location);
        if (old)
            odc__device__free_unpacked (old, NULL);
    }
    if (over)
        odc_warn (NULL,
                  "the %s list: %zu of its %zu devices refused: limits.max_devices is %zu, "
                  "and %zu devices of other sources are kept",
                  source, over, device_count, max, others);
    /*  Devices of this source it no longer lists. */
    for (zchunk_t *chunk = zhashx_first (load.stored); chunk; chunk = zhashx_next (load.stored)) {
        const char *id = zhashx_cursor (load.stored);
        if (zhashx_lookup (listed, id) || !zchunk_size (chunk))
            continue;
        Odc__Device *old = odc__device__unpack (NULL, zchunk_size (chunk), zchunk_data (chunk));
        if (old && old->source && !strcmp (old->source, source)) {
            odc_batch_delete (batch, store, ODC_CF_DEVICES, id, strlen (id));
            odc_info (id, "device removed: the %s list no longer has it", source);
            n_removed++;
        }
        if (old)
            odc__device__free_unpacked (old, NULL);
    }
    int rc = odc_batch_count (batch) ? odc_store_write (store, batch) : 0;
    odc_batch_destroy (&batch);
    size_t count = zhashx_size (listed);
    zhashx_destroy (&listed);
    zhashx_destroy (&at);
    zlist_destroy (&ids);
    zhashx_destroy (&load.stored);
    if (added)
        *added = n_added;
    if (removed)
        *removed = n_removed;
    return rc == 0 ? (long)count : -1;
}

void
odc_devices_index_key_serial (char *out, size_t size, const char *maker, const char *serial)
{
    snprintf (out, size, "s/%s/%s", maker ? maker : "", serial);
}

int
odc_devices_index_keys (const Odc__Device *d, char keys[3][ODC_INDEX_KEY_MAX])
{
    int n = 0;
    if (d->serial && *d->serial)
        odc_devices_index_key_serial (keys[n++], ODC_INDEX_KEY_MAX, d->vendor, d->serial);
    if (d->mac && *d->mac)
        snprintf (keys[n++], ODC_INDEX_KEY_MAX, "m/%s", d->mac);
    if (d->address && *d->address) {
        char id[ODC_DEVICE_ID_MAX];
        odc_device_id (id, sizeof id, d->address, (int)d->port);
        snprintf (keys[n++], ODC_INDEX_KEY_MAX, "a/%s", id);
    }
    return n;
}

void
odc_devices_stage (odc_store_t *store, odc_batch_t *batch, const Odc__Device *d)
{
    size_t size = odc__device__get_packed_size (d);
    uint8_t *buffer = malloc (size ? size : 1);
    odc__device__pack (d, buffer);
    odc_batch_put (batch, store, ODC_CF_DEVICES, d->id, strlen (d->id), buffer, size);
    free (buffer);
    char keys[3][ODC_INDEX_KEY_MAX];
    int n = odc_devices_index_keys (d, keys);
    for (int i = 0; i < n; i++)
        odc_batch_put (batch, store, ODC_CF_INDEX, keys[i], strlen (keys[i]), d->id,
                       strlen (d->id));
}

void
odc_devices_stage_removal (odc_store_t *store, odc_batch_t *batch, const char *id)
{
    odc_batch_delete (batch, store, ODC_CF_DEVICES, id, strlen (id));
    char retired[ODC_DEVICE_ID_MAX + 16];
    snprintf (retired, sizeof retired, "retired/%s", id);
    odc_batch_put (batch, store, ODC_CF_META, retired, strlen (retired), "1", 1);
    /*  Its latest readings: keys "ID/LOOP", so from "ID/" to "ID0". */
    char from[ODC_DEVICE_ID_MAX + 8], to[ODC_DEVICE_ID_MAX + 8];
    snprintf (from, sizeof from, "%s/", id);
    snprintf (to, sizeof to, "%s0", id);
    odc_batch_delete_range (batch, store, ODC_CF_LATEST, from, strlen (from), to, strlen (to));
}

bool
odc_devices_retired (odc_store_t *store, const char *id)
{
    char key[ODC_DEVICE_ID_MAX + 16];
    snprintf (key, sizeof key, "retired/%s", id);
    size_t len = 0;
    void *value = odc_store_get (store, ODC_CF_META, key, strlen (key), &len);
    free (value);
    return value != NULL;
}

typedef struct {
    odc_devices_fn *fn;
    void *arg;
    long bad;
} s_each_t;

static int
s_each (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_each_t *each = arg;
    Odc__Device *d = odc__device__unpack (NULL, vlen, value);
    if (!d) {
        /*  Not ours to drop: say which, go on with the others. */
        odc_error (NULL, "store: device record '%.*s' does not decode; skipped", (int)klen,
                   (const char *)key);
        each->bad++;
        return 0;
    }
    int rc = each->fn (d, each->arg);
    odc__device__free_unpacked (d, NULL);
    return rc;
}

long
odc_devices_each (odc_store_t *store, odc_devices_fn *fn, void *arg)
{
    s_each_t each = {fn, arg, 0};
    long n = odc_store_each (store, ODC_CF_DEVICES, NULL, 0, NULL, 0, s_each, &each);
    return n < 0 ? -1 : n - each.bad;
}

Odc__Device *
odc_devices_get (odc_store_t *store, const char *id)
{
    size_t len = 0;
    void *value = odc_store_get (store, ODC_CF_DEVICES, id, strlen (id), &len);
    if (!value)
        return NULL;
    Odc__Device *d = odc__device__unpack (NULL, len, value);
    free (value);
    return d;
}

static void
s_note_key (char *out, size_t size, const char *what, const char *id)
{
    snprintf (out, size, "note/%s/%s", what, id);
}

int
odc_devices_note_put (odc_store_t *store, const char *what, const char *id, const char *text)
{
    odc_batch_t *batch = odc_batch_new ();
    odc_devices_note_stage (store, batch, what, id, text);
    int rc = odc_store_write_lazy (store, batch);
    odc_batch_destroy (&batch);
    return rc;
}

void
odc_devices_note_stage (odc_store_t *store, odc_batch_t *batch, const char *what, const char *id,
                        const char *text)
{
    char key[160];
    s_note_key (key, sizeof key, what, id);
    odc_batch_put (batch, store, ODC_CF_META, key, strlen (key), text, strlen (text));
}

char *
odc_devices_note_get (odc_store_t *store, const char *what, const char *id)
{
    char key[160];
    s_note_key (key, sizeof key, what, id);
    size_t len = 0;
    char *value = odc_store_get (store, ODC_CF_META, key, strlen (key), &len);
    if (!value)
        return NULL;
    char *text = malloc (len + 1);
    memcpy (text, value, len);
    text[len] = 0;
    free (value);
    return text;
}
