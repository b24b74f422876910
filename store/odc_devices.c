/*  odc_devices: see odc_devices.h. */
#include "odc_devices.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_log.h"

#define S_SOURCE_CONFIG "config"

void
odc_device_id (char *out, size_t size, const char *address, int port)
{
    if (port == 0 || port == 161)
        snprintf (out, size, "%s", address);
    else if (strchr (address, ':'))
        snprintf (out, size, "[%s]:%d", address, port); /* IPv6 literal */
    else
        snprintf (out, size, "%s:%d", address, port);
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
    uint64_t now = (uint64_t)zclock_time ();
    odc_batch_t *batch = odc_batch_new ();
    size_t n_added = 0, n_removed = 0;
    zhashx_t *listed = zhashx_new ();
    for (size_t i = 0; i < device_count; i++) {
        const odc_device_config_t *c = &devices[i];
        char id[ODC_DEVICE_ID_MAX];
        odc_device_id (id, sizeof id, c->address, c->port);
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
        d.asset_number = c->asset_number ? c->asset_number : (old ? old->asset_number : "");
        d.location = c->location ? c->location : (old ? old->location : "");
        d.source = (char *)source;
        if (!old) {
            d.first_seen_ms = now;
            n_added++;
        }
        size_t size = odc__device__get_packed_size (&d);
        uint8_t *buffer = malloc (size ? size : 1);
        odc__device__pack (&d, buffer);
        if (!chunk || zchunk_size (chunk) != size || memcmp (zchunk_data (chunk), buffer, size))
            odc_batch_put (batch, store, ODC_CF_DEVICES, id, strlen (id), buffer, size);
        free (buffer);
        if (old)
            odc__device__free_unpacked (old, NULL);
    }
    /*  Devices of this source it no longer lists. */
    for (zchunk_t *chunk = zhashx_first (load.stored); chunk; chunk = zhashx_next (load.stored)) {
        const char *id = zhashx_cursor (load.stored);
        if (zhashx_lookup (listed, id))
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
    zhashx_destroy (&load.stored);
    if (added)
        *added = n_added;
    if (removed)
        *removed = n_removed;
    return rc == 0 ? (long)count : -1;
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
    char key[160];
    s_note_key (key, sizeof key, what, id);
    odc_batch_t *batch = odc_batch_new ();
    odc_batch_put (batch, store, ODC_CF_META, key, strlen (key), text, strlen (text));
    int rc = odc_store_write_lazy (store, batch);
    odc_batch_destroy (&batch);
    return rc;
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
