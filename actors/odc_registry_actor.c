/*  odc_registry_actor: see odc_registry_actor.h. */
#include "odc_registry_actor.h"

#include <string.h>

#include "odc_bus.h"
#include "odc_bytes.h"
#include "odc_devices.h"
#include "odc_log.h"
#include "odc_outbox.h"
#include "odc_read.h"
#include "odc_supervisor.h"

const char *const odc_registry_event_names[7] = {"none",        "new",     "moved",   "replaced",
                                                 "mac_changed", "missing", "returned"};

#define S_BATCH_MAX 500 /* events written together (one outbox record) */
/*  The missing check walks every device record: at most every minute on
    the collector's clock, and no more often than a 48th of missing_after
    (30 minutes for 24 hours: 100,000 records unpacked each minute cost
    more than the check needs). */
#define S_CHECK_MIN_S  60.0
#define S_INDEX_MARK   "registry/index"
#define S_SOURCE_FOUND "discovery"

/*  What the registry's open batch holds and the store not yet (it is
    written at the end of each wake-up, or every S_BATCH_MAX events): a
    packed device (size 0: removed), or an index entry (the id). Emptied
    at every write. */
typedef struct {
    zchunk_t *value;
} s_staged_t;

/*  When each device was last seen, on the collector's clock (s), and what
    it looked like then: an open-addressed table keyed by the hash of the
    id (32 bytes a device). An identity reading that looks the same as the
    last one (ident, a hash of address, serial, MAC, maker and model) is
    only counted as seen, without a look at the store: the common case. */
typedef struct {
    uint64_t key;
    double seen;
    uint64_t ident;  /* 0: not known, or the device needs a look (missing) */
    double recorded; /* when its last_seen_ms was last written */
} s_seen_t;

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;   /* with a portal: the events' records */
    zsock_t *grew;          /* PUSH: the outbox grew, to the bridge */
    zsock_t *pull;          /* identity readings, discovery's finds (ODC_EP_REGISTRY) */
    zsock_t *lists;         /* REP: device lists (ODC_EP_DEVICES) */
    zsock_t *device_set;    /* PUB: the device set changed */
    zsock_t *triage;        /* PUSH: the events triage makes alerts of (ODC_EP_TRIAGE) */
    zlistx_t *for_triage;   /* their packed DeviceEvents, sent once the batch is written */
    uint64_t triage_lost;   /* not sent: triage's queue was full */
    zhashx_t *staged;       /* id -> s_staged_t */
    zhashx_t *staged_index; /* index key -> s_staged_t */
    s_seen_t *seen;
    size_t seen_cap, seen_used;
    odc_clock_t clock;
    double started, next_check;
    uint64_t events[7];
    odc_batch_t *batch; /* the device records, and the events' outbox record */
    size_t batched;     /* changes staged in it */
    uint8_t *record;    /* the events' record being gathered: a packed Odc__Batch */
    size_t record_len, record_cap, record_events;
    bool relist;
    /*  Limits.max_devices for devices discovery finds.
        The family's count, taken from the store when unknown (-1) and
        again at most once a minute while at the bound (imports and lists
        remove devices behind the registry's back); counted up for each
        device added here. refused: devices not added since the start. */
    long devices;
    double devices_counted; /* monotonic s */
    uint64_t refused;
} s_self_t;

static int
s_count_device (const Odc__Device *d, void *arg)
{
    (void)d;
    (void)arg;
    return 0;
}

/*  Whether a device found by discovery may be added (limits.max_devices):
    false, logged (the first ten, then every hundredth), when the family is
    full. */
static bool
s_room (s_self_t *self, const char *address)
{
    size_t max = self->config->max_devices > 0 ? (size_t)self->config->max_devices : SIZE_MAX;
    double now = odc_clock_s ();
    if (self->devices < 0 || ((size_t)self->devices >= max && now - self->devices_counted >= 60)) {
        self->devices = odc_devices_each (self->store, s_count_device, NULL);
        self->devices_counted = now;
    }
    if (self->devices >= 0 && (size_t)self->devices < max) {
        self->devices++;
        return true;
    }
    if (++self->refused <= 10 || self->refused % 100 == 0)
        odc_warn (address,
                  "printer found by discovery not added: the collector has %ld devices, "
                  "limits.max_devices is %zu (%llu refused so far)",
                  self->devices, max, (unsigned long long)self->refused);
    return false;
}

static double
s_clock (const s_self_t *self)
{
    return odc_collector_s (&self->clock);
}

static uint64_t
s_hash (const char *text)
{
    return odc_fnv (ODC_FNV_START, text, strlen (text)) | 1;
}

static s_seen_t *
s_seen_slot (s_seen_t *table, size_t cap, uint64_t key)
{
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (cap - 1);
    while (table[i].key && table[i].key != key)
        i = (i + 1) & (cap - 1);
    return &table[i];
}

static s_seen_t *
s_seen_find (s_self_t *self, const char *id)
{
    if (self->seen_used * 2 >= self->seen_cap) {
        size_t cap = self->seen_cap ? self->seen_cap * 2 : 1024;
        s_seen_t *grown = calloc (cap, sizeof *grown);
        for (size_t i = 0; i < self->seen_cap; i++)
            if (self->seen[i].key)
                *s_seen_slot (grown, cap, self->seen[i].key) = self->seen[i];
        free (self->seen);
        self->seen = grown;
        self->seen_cap = cap;
    }
    s_seen_t *slot = s_seen_slot (self->seen, self->seen_cap, s_hash (id));
    if (!slot->key) {
        self->seen_used++;
        slot->key = s_hash (id);
    }
    return slot;
}

static void
s_seen_set (s_self_t *self, const char *id, double t)
{
    s_seen_find (self, id)->seen = t;
}

/*  What an identity reading says about who the device is. */
static uint64_t
s_ident (const char *address, const Odc__IdentityReading *r)
{
    const char *parts[5] = {address, r->serial, r->mac, r->vendor, r->model};
    uint64_t h = ODC_FNV_START;
    for (int i = 0; i < 5; i++) {
        const char *part = parts[i] ? parts[i] : "";
        h = odc_fnv (h, part, strlen (part));
        h = odc_fnv (h, "\xff", 1);
    }
    return h | 1;
}

static double
s_seen_get (const s_self_t *self, const char *id)
{
    if (!self->seen_cap)
        return 0;
    s_seen_t *slot = s_seen_slot (self->seen, self->seen_cap, s_hash (id));
    return slot->key ? slot->seen : 0;
}

/* ------------------------------------------------------------------------
   Devices: what the open batch holds first, then the store */

static void
s_staged_destroy (void **item)
{
    s_staged_t *r = *item;
    zchunk_destroy (&r->value);
    free (r);
    *item = NULL;
}

static void
s_staged_put (zhashx_t *table, const char *key, const void *data, size_t size)
{
    s_staged_t *r = calloc (1, sizeof *r);
    r->value = zchunk_new (data, size);
    zhashx_update (table, key, r);
}

/*  A device by id, or NULL (free with odc__device__free_unpacked). */
static Odc__Device *
s_get (s_self_t *self, const char *id)
{
    s_staged_t *r = zhashx_lookup (self->staged, id);
    if (r)
        return zchunk_size (r->value)
                   ? odc__device__unpack (NULL, zchunk_size (r->value), zchunk_data (r->value))
                   : NULL;
    return odc_devices_get (self->store, id);
}

static bool
s_taken (const char *id, void *arg)
{
    s_self_t *self = arg;
    if (zhashx_lookup (self->staged, id) || odc_devices_retired (self->store, id))
        return true;
    Odc__Device *d = odc_devices_get (self->store, id);
    if (d)
        odc__device__free_unpacked (d, NULL);
    return d != NULL;
}

/*  The device an index key names, when it still says so. */
static Odc__Device *
s_lookup (s_self_t *self, const char *key)
{
    char *id = NULL;
    s_staged_t *r = zhashx_lookup (self->staged_index, key);
    if (r)
        id = strndup ((const char *)zchunk_data (r->value), zchunk_size (r->value));
    else {
        size_t len = 0;
        char *value = odc_store_get (self->store, ODC_CF_INDEX, key, strlen (key), &len);
        if (value)
            id = strndup (value, len);
        free (value);
    }
    if (!id)
        return NULL;
    Odc__Device *d = s_get (self, id);
    free (id);
    if (!d)
        return NULL;
    char keys[3][ODC_INDEX_KEY_MAX];
    int n = odc_devices_index_keys (d, keys);
    for (int i = 0; i < n; i++)
        if (!strcmp (keys[i], key))
            return d;
    odc__device__free_unpacked (d, NULL);
    return NULL;
}

static void
s_remember (s_self_t *self, const Odc__Device *d)
{
    size_t size = odc__device__get_packed_size (d);
    uint8_t *buffer = malloc (size);
    odc__device__pack (d, buffer);
    s_staged_put (self->staged, d->id, buffer, size);
    free (buffer);
    char keys[3][ODC_INDEX_KEY_MAX];
    int n = odc_devices_index_keys (d, keys);
    for (int i = 0; i < n; i++)
        s_staged_put (self->staged_index, keys[i], d->id, strlen (d->id));
}

/*  A change that is no news for the portal (a last-seen checkpoint, a
    serial learnt by a device known by its MAC). */
static void
s_write_quietly (s_self_t *self, const Odc__Device *d)
{
    /*  With the events' records, written when the readings that came
        together are all taken; meanwhile the staged tables have it. */
    odc_devices_stage (self->store, self->batch, d);
    self->batched++;
    s_remember (self, d);
}

/* ------------------------------------------------------------------------
   Events */

/*  An event as the registry raises it: what the portal gets (ev), and the
    device records it writes with it. */
typedef struct {
    Odc__DeviceEvent ev;
    Odc__Device *device;   /* written under its id */
    Odc__Device *also;     /* another device it changed, or NULL */
    const char *remove_id; /* a device it removes (replaced, or merged), or NULL */
    bool relist;           /* the loops must read the device list again */
} s_event_t;

void
odc_registry_event_fill (Odc__DeviceEvent *ev, const Odc__Device *d, uint64_t at_ms)
{
    ev->at_ms = at_ms;
    if (!d)
        return;
    ev->device_id = d->id;
    ev->address = d->address;
    ev->serial = d->serial;
    ev->mac = d->mac;
    ev->vendor = d->vendor;
    ev->model = d->model;
    ev->asset_number = d->asset_number;
    ev->location = d->location;
}

/*  The batch again from the staged tables (a failed commit cleared it). */
static void
s_restage (s_self_t *self)
{
    for (s_staged_t *r = zhashx_first (self->staged); r; r = zhashx_next (self->staged)) {
        const char *id = zhashx_cursor (self->staged);
        Odc__Device *d = zchunk_size (r->value) ? odc__device__unpack (NULL, zchunk_size (r->value),
                                                                       zchunk_data (r->value))
                                                : NULL;
        if (d) {
            odc_devices_stage (self->store, self->batch, d);
            odc__device__free_unpacked (d, NULL);
        }
        else
            odc_devices_stage_removal (self->store, self->batch, id);
    }
}

/*  The open batch: the device records, and with a portal the events'
    record, in one write (a restart, however abrupt, never has one without
    the other). The staged tables are emptied: the store has it all now. */
/*  The written batch's events that triage makes alerts of. */
static void
s_tell_triage (s_self_t *self, bool written)
{
    odc_bus_events_to_triage (self->triage, self->for_triage, written, "registry",
                              &self->triage_lost);
}

static void
s_write_events (s_self_t *self)
{
    if (!self->batched)
        return;
    const odc_kind_t *k = &odc_kinds[ODC_KIND_EVENT];
    int rc;
    if (self->outbox && self->record_events) {
        uint64_t seq = odc_outbox_add (self->outbox, self->batch, k->priority, k->kind,
                                       self->record, self->record_len);
        rc = odc_outbox_commit (self->outbox, self->batch);
        if (rc == 0) {
            odc_bus_outbox_grew (self->grew, k->priority, seq);
            /*  The uploader's line for a record (tests compare these with
                what the portal got). */
            odc_info (NULL, "outbox record %d-%llu: %zu %s readings, %zu bytes", (int)k->priority,
                      (unsigned long long)seq, self->record_events, k->kind, self->record_len);
        }
        else {
            /*  No room for the record: the devices' records are kept all
                the same (the events are logged above). */
            odc_error (NULL, "%zu device events not put in the outbox: %s", self->record_events,
                       errno == ENOSPC ? "the outbox is full of more urgent records"
                                       : "the store refused the write");
            s_restage (self);
            rc = odc_store_write (self->store, self->batch);
        }
    }
    else
        rc = odc_store_write (self->store, self->batch);
    if (rc != 0)
        odc_error (NULL, "registry: the store refused the records of %zu device changes",
                   self->batched);
    s_tell_triage (self, rc == 0);
    odc_batch_clear (self->batch);
    self->batched = 0;
    self->record_len = self->record_events = 0;
    zhashx_purge (self->staged);
    zhashx_purge (self->staged_index);
    if (self->relist)
        odc_bus_device_set_send (self->device_set, "registry", 0, 0);
    self->relist = false;
}

static void
s_emit (s_self_t *self, s_event_t *e)
{
    double now = s_clock (self);
    Odc__DeviceEvent *ev = &e->ev;
    odc_registry_event_fill (ev, e->device, (uint64_t)(now * 1000.0));
    if (e->remove_id) {
        odc_devices_stage_removal (self->store, self->batch, e->remove_id);
        s_staged_put (self->staged, e->remove_id, NULL, 0);
    }
    if (e->device) {
        odc_devices_stage (self->store, self->batch, e->device);
        s_remember (self, e->device);
    }
    if (e->also) {
        odc_devices_stage (self->store, self->batch, e->also);
        s_remember (self, e->also);
    }
    self->events[ev->type]++;
    const char *type = odc_registry_event_names[ev->type];
    switch (ev->type) {
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MOVED:
        odc_info (ev->device_id, "device event moved: serial %s, MAC %s, from %s to %s", ev->serial,
                  ev->mac, ev->old_address, ev->address);
        break;
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED:
        odc_info (ev->device_id,
                  "device event replaced: at %s, serial %s (was %s, device %s), MAC %s",
                  ev->address, ev->serial, ev->old_serial, ev->old_device_id, ev->mac);
        break;
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MAC_CHANGED:
        odc_info (ev->device_id, "device event mac_changed: serial %s at %s, MAC %s (was %s)",
                  ev->serial, ev->address, ev->mac, ev->old_mac);
        break;
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING:
        odc_info (ev->device_id, "device event missing: serial %s at %s, last seen %.0f s ago",
                  ev->serial, ev->address, now - (double)ev->last_seen_ms / 1000.0);
        break;
    default:
        odc_info (ev->device_id, "device event %s: serial %s, MAC %s at %s (%s %s)", type,
                  ev->serial, ev->mac, ev->address, ev->vendor, ev->model);
        break;
    }
    if (self->outbox) {
        /*  The portal's record: the event alone, in the open batch's
            record. */
        odc_bus_batch_append_body (&self->record, &self->record_len, &self->record_cap, "registry",
                                   ev->at_ms, ODC__ENVELOPE__BODY_DEVICE_EVENT, &ev->base);
        self->record_events++;
    }
    switch (self->triage ? ev->type : ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_UNSPECIFIED) {
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MOVED:
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED:
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MAC_CHANGED:
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING:
    case ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_RETURNED: {
        size_t size = odc__device_event__get_packed_size (ev);
        zframe_t *f = zframe_new (NULL, size);
        odc__device_event__pack (ev, zframe_data (f));
        zlistx_add_end (self->for_triage, f);
        break;
    }
    default: break;
    }
    self->batched++;
    self->relist |= e->relist;
    if (self->batched >= S_BATCH_MAX)
        s_write_events (self);
}

static void
s_event_init (s_event_t *e, Odc__DeviceEventType type, Odc__Device *device)
{
    memset (e, 0, sizeof *e);
    odc__device_event__init (&e->ev);
    e->ev.type = type;
    e->device = device;
}

/* ------------------------------------------------------------------------
   Observations: an identity reading of a polled device, or a discovery
   result */

typedef struct {
    const char *address;
    int port;
    const Odc__IdentityReading *id;
    const char *polled_id;  /* the device the loop polled; NULL: discovery */
    const char *credential; /* discovery: what answered */
} s_obs_t;

static char *
s_set (char **field, const char *value)
{
    /*  A string field of an unpacked message: free_unpacked frees it unless
        it is the shared empty string, so a copy replaces it. */
    free (*field == protobuf_c_empty_string ? NULL : *field);
    *field = strdup (value ? value : "");
    return *field;
}

static bool
s_same (const char *a, const char *b)
{
    return !strcmp (a ? a : "", b ? b : "");
}

static bool
s_identified (const Odc__Device *d)
{
    return d->identified_ms != 0;
}

/*  The registry's fields from an identity reading. */
static void
s_learn (Odc__Device *d, const Odc__IdentityReading *r, uint64_t now_ms)
{
    if (r->serial && *r->serial)
        s_set (&d->serial, r->serial);
    if (r->mac && *r->mac)
        s_set (&d->mac, r->mac);
    s_set (&d->vendor, r->vendor);
    s_set (&d->model, r->model);
    if (odc_enterprise_of (r->sys_object_id))
        d->enterprise = odc_enterprise_of (r->sys_object_id);
    if (r->sys_location && *r->sys_location && !(d->location && *d->location))
        s_set (&d->location, r->sys_location);
    if (!d->identified_ms)
        d->identified_ms = now_ms;
    d->last_seen_ms = now_ms;
}

static Odc__Device *
s_new_device (s_self_t *self, const char *address, int port, const char *credential,
              const char *source, uint64_t now_ms)
{
    Odc__Device *d = calloc (1, sizeof *d);
    odc__device__init (d);
    char id[ODC_DEVICE_ID_MAX + 8];
    odc_device_fresh_id (id, sizeof id, address, port, s_taken, self);
    d->id = strdup (id);
    d->address = strdup (address);
    d->port = port == 161 ? 0 : (uint32_t)port;
    d->credential = calloc (1, sizeof *d->credential);
    odc__credential_ref__init (d->credential);
    d->credential->name = strdup (credential ? credential : "");
    const odc_credential_t *c = odc_config_credential (self->config, credential);
    d->credential->version = c ? (Odc__SnmpVersion)c->version : ODC__SNMP_VERSION__SNMP_V2C;
    d->source = strdup (source);
    d->first_seen_ms = now_ms;
    return d;
}

/*  A polled device that is where the loop read it and as the reading says:
    the next reading that looks the same is only counted as seen
    (s_on_identity), without a look at the store. */
static void
s_seen_known (s_self_t *self, const s_obs_t *o, const Odc__Device *d)
{
    if (!o->polled_id)
        return;
    s_seen_t *slot = s_seen_find (self, d->id);
    slot->ident = s_ident (o->address, o->id);
    slot->recorded = (double)d->last_seen_ms / 1000.0;
}

static void
s_observe (s_self_t *self, const s_obs_t *o)
{
    const Odc__IdentityReading *r = o->id;
    double now = s_clock (self);
    uint64_t now_ms = (uint64_t)(now * 1000.0);
    char at[ODC_DEVICE_ID_MAX], key[ODC_INDEX_KEY_MAX];
    odc_device_id (at, sizeof at, o->address, o->port);
    Odc__Device *x = NULL, *y = NULL;
    if (o->polled_id) {
        x = s_get (self, o->polled_id);
        /*  Removed, or moved since the loop took its list: the reading
            says nothing the registry can place. */
        if (!x || !s_same (x->address, o->address))
            goto done;
    }
    else {
        snprintf (key, sizeof key, "a/%s", at);
        x = s_lookup (self, key);
    }
    if (r->serial && *r->serial) {
        odc_devices_index_key_serial (key, sizeof key, r->vendor, r->serial);
        y = s_lookup (self, key);
    }
    else if (r->mac && *r->mac) {
        snprintf (key, sizeof key, "m/%s", r->mac);
        y = s_lookup (self, key);
    }
    if (y && x && !strcmp (y->id, x->id)) {
        /*  The device it was: where it was. */
        s_seen_set (self, y->id, now);
        bool missing = s_same (y->state, "missing");
        if (r->mac && *r->mac && y->mac && *y->mac && strcmp (r->mac, y->mac) && *r->serial) {
            s_event_t ev;
            s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MAC_CHANGED, y);
            ev.ev.old_mac = strdup (y->mac);
            s_learn (y, r, now_ms);
            s_emit (self, &ev);
            free (ev.ev.old_mac);
        }
        if (missing) {
            s_event_t ev;
            s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_RETURNED, y);
            s_set (&y->state, "");
            y->missing_since_ms = 0;
            s_learn (y, r, now_ms);
            s_emit (self, &ev);
        }
        else if (!s_same (y->model, r->model) || !s_same (y->vendor, r->vendor) ||
                 now_ms - y->last_seen_ms >
                     (uint64_t)self->config->registry_missing_after_hours * 3600000 / 8) {
            s_learn (y, r, now_ms);
            s_write_quietly (self, y);
        }
        s_seen_known (self, o, y);
        goto done;
    }
    if (y) {
        /*  Known by its serial (MAC) at another address: moved. */
        s_event_t ev;
        s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MOVED, y);
        bool missing = s_same (y->state, "missing");
        ev.ev.old_address = strdup (y->address && *y->address ? y->address : y->last_address);
        s_set (&y->address, o->address);
        y->port = o->port == 161 ? 0 : (uint32_t)o->port;
        s_set (&y->state, "");
        s_set (&y->last_address, "");
        y->missing_since_ms = 0;
        if (x && !s_identified (x)) {
            /*  A placeholder for the address (a list named it): merged. */
            s_set (&y->source, x->source);
            if (x->credential)
                s_set (&y->credential->name, x->credential->name);
            if (x->asset_number && *x->asset_number)
                s_set (&y->asset_number, x->asset_number);
            if (x->location && *x->location)
                s_set (&y->location, x->location);
            ev.remove_id = x->id;
        }
        else {
            /*  Its old address was someone's list entry: not any more. */
            s_set (&y->source, S_SOURCE_FOUND);
            if (o->credential)
                s_set (&y->credential->name, o->credential);
            if (x) {
                /*  Another device was here: where it went is not known. */
                s_set (&x->last_address, x->address);
                s_set (&x->address, "");
                s_set (&x->state, "lost");
                ev.also = x;
            }
        }
        s_learn (y, r, now_ms);
        ev.relist = true;
        s_seen_set (self, y->id, now);
        s_emit (self, &ev);
        free (ev.ev.old_address);
        if (missing) {
            s_event_t back;
            s_event_init (&back, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_RETURNED, y);
            s_emit (self, &back);
        }
        goto done;
    }
    if (x && s_identified (x) &&
        ((r->serial && *r->serial && x->serial && *x->serial && strcmp (r->serial, x->serial)) ||
         (!(r->serial && *r->serial) && r->mac && *r->mac && x->mac && *x->mac &&
          strcmp (r->mac, x->mac)))) {
        /*  Another device at this address: the old one was replaced. */
        Odc__Device *z =
            s_new_device (self, o->address, o->port,
                          x->credential ? x->credential->name : o->credential, x->source, now_ms);
        s_set (&z->location, x->location);
        s_learn (z, r, now_ms);
        s_event_t ev;
        s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_REPLACED, z);
        ev.ev.old_serial = x->serial;
        ev.ev.old_device_id = x->id;
        ev.remove_id = x->id;
        ev.relist = true;
        s_seen_set (self, z->id, now);
        s_emit (self, &ev);
        odc__device__free_unpacked (z, NULL);
        goto done;
    }
    if (x && s_identified (x)) {
        /*  Itself, learning more (a serial where it had only a MAC). */
        s_seen_set (self, x->id, now);
        s_learn (x, r, now_ms);
        s_write_quietly (self, x);
        s_seen_known (self, o, x);
        goto done;
    }
    if (x) {
        /*  A listed address answers for the first time. */
        s_learn (x, r, now_ms);
        s_event_t ev;
        s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_NEW, x);
        s_seen_set (self, x->id, now);
        s_emit (self, &ev);
        s_seen_known (self, o, x);
        goto done;
    }
    /*  Found by discovery where no device was known. */
    if (!s_room (self, o->address)) /* limits.max_devices */
        goto done;
    Odc__Device *z =
        s_new_device (self, o->address, o->port, o->credential, S_SOURCE_FOUND, now_ms);
    s_learn (z, r, now_ms);
    s_event_t ev;
    s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_NEW, z);
    ev.relist = true;
    s_seen_set (self, z->id, now);
    s_emit (self, &ev);
    odc__device__free_unpacked (z, NULL);
done:
    if (x)
        odc__device__free_unpacked (x, NULL);
    if (y)
        odc__device__free_unpacked (y, NULL);
}

static void
s_on_identity (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    const Odc__IdentityReading *r = env->identity;
    if (!r->header || !r->header->device_id || !*r->header->device_id)
        return;
    /*  The same device as last time, where it was: seen, nothing else,
        unless its last-seen time is due to be written. */
    double now = s_clock (self);
    s_seen_t *slot = s_seen_find (self, r->header->device_id);
    if (slot->ident && slot->ident == s_ident (r->header->address, r) &&
        now - slot->recorded < self->config->registry_missing_after_hours * 3600.0 / 8) {
        slot->seen = now;
        return;
    }
    slot->ident = 0;
    Odc__Device *d = s_get (self, r->header->device_id);
    int port = d && d->port ? (int)d->port : 161;
    if (d)
        odc__device__free_unpacked (d, NULL);
    s_obs_t o = {r->header->address, port, r, r->header->device_id, NULL};
    s_observe (self, &o);
}

static void
s_on_discovered (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    const Odc__Discovered *f = env->discovered;
    if (!f->printer || !f->identity || !f->identity->header)
        return;
    s_obs_t o = {f->identity->header->address, f->port ? (int)f->port : 161, f->identity, NULL,
                 f->credential};
    s_observe (self, &o);
}

/* ------------------------------------------------------------------------
   Missing devices */

typedef struct {
    s_self_t *self;
    zlist_t *missing; /* ids */
    double now;
} s_check_t;

static int
s_check_one (const Odc__Device *stored, void *arg)
{
    s_check_t *c = arg;
    s_self_t *self = c->self;
    Odc__Device *recent = NULL;
    const Odc__Device *d = stored;
    if (zhashx_lookup (self->staged, stored->id)) {
        recent = s_get (self, stored->id);
        if (!recent)
            return 0;
        d = recent;
    }
    if (s_identified (d) && !s_same (d->state, "missing")) {
        double seen = (double)d->last_seen_ms / 1000.0;
        double mem = s_seen_get (self, d->id);
        if (mem > seen)
            seen = mem;
        if (c->now - seen > self->config->registry_missing_after_hours * 3600.0)
            zlist_append (c->missing, d->id); /* autofree: copied */
    }
    if (recent)
        odc__device__free_unpacked (recent, NULL);
    return 0;
}

static void
s_check_missing (s_self_t *self, double now)
{
    s_check_t c = {self, zlist_new (), now};
    zlist_autofree (c.missing);
    odc_devices_each (self->store, s_check_one, &c);
    for (const char *id = zlist_first (c.missing); id; id = zlist_next (c.missing)) {
        Odc__Device *d = s_get (self, id);
        if (!d)
            continue;
        double seen = (double)d->last_seen_ms / 1000.0;
        if (s_seen_get (self, id) > seen)
            seen = s_seen_get (self, id);
        s_event_t ev;
        s_event_init (&ev, ODC__DEVICE_EVENT_TYPE__DEVICE_EVENT_MISSING, d);
        ev.ev.last_seen_ms = (uint64_t)(seen * 1000.0);
        s_set (&d->state, "missing");
        d->missing_since_ms = (uint64_t)(now * 1000.0);
        s_seen_find (self, id)->ident = 0;
        d->last_seen_ms = ev.ev.last_seen_ms;
        s_emit (self, &ev);
        odc__device__free_unpacked (d, NULL);
    }
    zlist_destroy (&c.missing);
}

/*  At start: what the store says of each device it knows where it is, as
    if its last identity reading had just been taken (the fast path of
    s_on_identity). A restart does not look every device up again. */
static int
s_seed_one (const Odc__Device *d, void *arg)
{
    s_self_t *self = arg;
    if (!s_identified (d) || s_same (d->state, "missing") || !d->address || !*d->address ||
        (!(d->serial && *d->serial) && !(d->mac && *d->mac)))
        return 0;
    Odc__IdentityReading r = ODC__IDENTITY_READING__INIT;
    r.serial = d->serial;
    r.mac = d->mac;
    r.vendor = d->vendor;
    r.model = d->model;
    s_seen_t *slot = s_seen_find (self, d->id);
    slot->ident = s_ident (d->address, &r);
    slot->seen = slot->recorded = (double)d->last_seen_ms / 1000.0;
    return 0;
}

/*  Stores made before the index existed: index every device once. */
typedef struct {
    odc_store_t *store;
    odc_batch_t *batch;
} s_index_t;

static int
s_index_one (const Odc__Device *d, void *arg)
{
    s_index_t *index = arg;
    odc_devices_stage (index->store, index->batch, d);
    return 0;
}

static void
s_index_all (s_self_t *self)
{
    size_t len = 0;
    char *mark =
        odc_store_get (self->store, ODC_CF_META, S_INDEX_MARK, strlen (S_INDEX_MARK), &len);
    if (mark) {
        free (mark);
        return;
    }
    s_index_t index = {self->store, odc_batch_new ()};
    long n = odc_devices_each (self->store, s_index_one, &index);
    odc_batch_put (index.batch, self->store, ODC_CF_META, S_INDEX_MARK, strlen (S_INDEX_MARK), "1",
                   1);
    if (odc_store_write (self->store, index.batch) == 0)
        odc_info (NULL, "registry: %ld devices indexed by serial, MAC and address", n);
    odc_batch_destroy (&index.batch);
}

/* ------------------------------------------------------------------------
   Device lists: the configuration's, imports', the portal's */

/*  The configuration's devices (source "config"), at the start and with
    every new configuration. false when the store refused them (logged). */
static bool
s_sync_config (s_self_t *self)
{
    s_write_events (self);
    size_t added = 0, removed = 0;
    long n = odc_devices_sync_config (self->store, self->config, &added, &removed);
    if (n < 0) {
        odc_error (NULL, "the device list could not be written to the store %s",
                   self->config->store_path);
        return false;
    }
    odc_info (NULL, "devices: %ld from the configuration (%zu new, %zu removed)", n, added,
              removed);
    if (added || removed)
        odc_bus_device_set_send (self->device_set, "config", added, removed);
    self->devices = -1; /* counted again */
    return true;
}

/*  A DeviceList on ODC_EP_DEVICES (an import, the portal's list): the
    devices of its source in step with it; the answer goes back. */
static void
s_on_list (s_self_t *self)
{
    Odc__Envelope *env = odc_bus_recv_envelope (self->lists);
    if (!env)
        return;
    Odc__DeviceListTaken taken = ODC__DEVICE_LIST_TAKEN__INIT;
    if (env->body_case == ODC__ENVELOPE__BODY_DEVICE_LIST) {
        const Odc__DeviceList *list = env->device_list;
        s_write_events (self); /* what is staged goes first */
        odc_device_config_t *devices =
            calloc (list->n_devices ? list->n_devices : 1, sizeof *devices);
        for (size_t i = 0; i < list->n_devices; i++) {
            const Odc__DeviceEntry *e = list->devices[i];
            devices[i].address = e->address;
            devices[i].port = (int)e->port;
            devices[i].credential = *e->credential ? e->credential : NULL;
            devices[i].asset_number = *e->asset_number ? e->asset_number : NULL;
            devices[i].location = *e->location ? e->location : NULL;
        }
        size_t added = 0, removed = 0;
        long n = odc_devices_sync (self->store, list->source, devices, list->n_devices,
                                   self->config, &added, &removed);
        free (devices);
        taken.ok = n >= 0;
        taken.stored = n > 0 ? (uint32_t)n : 0;
        taken.added = (uint32_t)added;
        taken.removed = (uint32_t)removed;
        if (n >= 0 && (added || removed))
            odc_bus_device_set_send (self->device_set, list->source, added, removed);
        self->devices = -1;
    }
    Odc__Envelope answer = ODC__ENVELOPE__INIT;
    answer.source = "registry";
    answer.body_case = ODC__ENVELOPE__BODY_DEVICE_LIST_TAKEN;
    answer.device_list_taken = &taken;
    odc_bus_send (self->lists, &answer);
    odc_bus_envelope_free (&env);
}

static void
s_take_config (void *config, void *arg)
{
    s_self_t *self = arg;
    odc_config_replace (&self->config, config);
    s_sync_config (self);
}

#define S_GATHER_MS 100

static void *
s_self_new (void *args, bool *ok)
{
    odc_registry_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->config = odc_config_ref (a->config);
    self->store = a->store;
    self->outbox = a->outbox;
    self->devices = -1; /* counted at the first find */
    self->clock = odc_config_clock (self->config);
    self->started = s_clock (self);
    self->staged = zhashx_new ();
    zhashx_set_destructor (self->staged, s_staged_destroy);
    self->staged_index = zhashx_new ();
    zhashx_set_destructor (self->staged_index, s_staged_destroy);
    self->batch = odc_batch_new ();
    self->pull = odc_bus_pull_bind (ODC_EP_REGISTRY, 0);
    self->lists = zsock_new_rep (ODC_EP_DEVICES);
    if (a->outbox)
        self->grew = odc_bus_push_connect (ODC_EP_OUTBOX, 0);
    self->device_set = odc_bus_device_set_pub ();
    self->for_triage = zlistx_new ();
    zlistx_set_destructor (self->for_triage, (zlistx_destructor_fn *)zframe_destroy);
    if (a->triage)
        self->triage = odc_bus_push_connect (ODC_EP_TRIAGE, 0);
    *ok = self->pull && self->lists && (!a->outbox || self->grew) && self->device_set &&
          (!a->triage || self->triage);
    /*  Before the loops start (they come after): their first list has the
        configuration's devices. */
    if (*ok) {
        s_index_all (self);
        *ok = s_sync_config (self);
        odc_devices_each (self->store, s_seed_one, self);
    }
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    s_write_events (self);
    odc_batch_destroy (&self->batch);
    zsock_destroy (&self->pull);
    zsock_destroy (&self->lists);
    zsock_destroy (&self->grew);
    zsock_destroy (&self->device_set);
    zsock_destroy (&self->triage);
    zlistx_destroy (&self->for_triage);
    zhashx_destroy (&self->staged);
    zhashx_destroy (&self->staged_index);
    free (self->record);
    free (self->seen);
    odc_config_replace (&self->config, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    zsock_t *pull = self->pull;
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_IDENTITY] = s_on_identity;
    handlers.on[ODC__ENVELOPE__BODY_DISCOVERED] = s_on_discovered;
    zmq_pollitem_t items[3] = {{zsock_resolve (odc_actor_pipe_of (actor)), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (pull), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve (self->lists), 0, ZMQ_POLLIN, 0}};
    /*  Nothing is missing before every device had the time to be seen:
        the identity loop's longest interval and a half. */
    const odc_interval_t *iv = &self->config->loops[ODC_LOOP_IDENTITY];
    double grace = 1.5 * 60.0 * (iv->in_hours > iv->out_of_hours ? iv->in_hours : iv->out_of_hours);
    self->next_check = self->started + grace;
    for (;;) {
        double wait_s = (self->next_check - s_clock (self)) / self->config->clock_speed;
        long wait = wait_s < 0 ? 0 : wait_s > 1 ? 1000 : (long)(wait_s * 1000);
        if (zmq_poll (items, 3, wait) < 0 && zmq_errno () != EINTR)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && odc_actor_heard (actor))
            break;
        if (zsock_events (pull) & ZMQ_POLLIN) {
            /*  Take what is waiting, then hear only the pipe while more
                gathers (a first identity pass brings a hundred devices a
                second: one wake-up and one write for each cost more than
                the readings), and take that too. */
            while (zsock_events (pull) & ZMQ_POLLIN)
                odc_bus_recv (pull, &handlers, self);
            if (zmq_poll (items, 1, S_GATHER_MS) > 0 && odc_actor_heard (actor))
                break;
            while (zsock_events (pull) & ZMQ_POLLIN)
                odc_bus_recv (pull, &handlers, self);
        }
        s_write_events (self);
        if (zsock_events (self->lists) & ZMQ_POLLIN)
            s_on_list (self);
        double now = s_clock (self);
        if (now >= self->next_check) {
            s_check_missing (self, now);
            s_write_events (self);
            double every = self->config->registry_missing_after_hours * 3600.0 / 48;
            self->next_check = now + (every > S_CHECK_MIN_S ? every : S_CHECK_MIN_S);
        }
    }
    odc_info (NULL,
              "registry stops: %llu new, %llu moved, %llu replaced, %llu MAC changed, %llu "
              "missing, %llu returned",
              (unsigned long long)self->events[1], (unsigned long long)self->events[2],
              (unsigned long long)self->events[3], (unsigned long long)self->events[4],
              (unsigned long long)self->events[5], (unsigned long long)self->events[6]);
    s_write_events (self);
}

static const odc_actor_class_t s_class = {"registry", s_self_new, s_self_destroy, s_take_config,
                                          s_run};

void
odc_registry_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
