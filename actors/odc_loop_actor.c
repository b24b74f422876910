/*  odc_loop_actor: see odc_loop_actor.h.

    State: the device list (small structs), a pool of slots (one per job
    in flight, up to snmp.window_max), and the OID sets the loop asks for,
    shared by every device with the same printer index and maker. */
#include "odc_loop_actor.h"

#include <math.h>
#include <time.h>

#include "odc_bus.h"
#include "odc_bytes.h"
#include "odc_devices.h"
#include "odc_latest_actor.h"
#include "odc_log.h"
#include "odc_status.h"
#include "odc_read.h"
#include "odc_supervisor.h"

#define S_MAX_BACKOFF 8 /* passes */
/*  Failures in a row are counted up to this (no multiple of 10: the
    warning of every tenth failure must not fire at each failure once the
    count stops, as it did at a cap of 30 on every alert pass of every
    device that was off). */
#define S_FAILURES_MAX 65535
/*  The alert loop sends a device's reading when it says something else
    than the one it sent last, and at least this often (collector seconds)
    when nothing changes: a pass finds most devices as they were (four
    in five in the simulator's busy fleet), and each reading sent costs its
    packing, the bus, the latest actor and a RocksDB write. */
#define S_ALERT_RESEND_S 3600
/*  A table that had rows is walked at least every S_TABLE_PASSES passes:
    a row can go without the status saying so. */
#define S_TABLE_PASSES 5

/*  When device k of the pass is due: the devices are spread over the first
    80 % of the interval, which leaves the rest for slow and silent ones. */
#define S_SPREAD 0.8
#define S_BATCH  0.050 /* seconds */
/*  The engine is heard at most once a tick: long enough for about
    S_TICK_JOBS answers at the pass's pace, between S_TICK and S_TICK_MAX
    (a wake-up costs as much as a few answers: the slow loops, a few
    devices a second, spent a fifth of their time waking up). Answers wait
    that much in the socket at most (the round-trip times include it). */
#define S_TICK      0.050 /* seconds */
#define S_TICK_MAX  0.200
#define S_TICK_JOBS 32.0

/*  One a device and loop: 100,000 devices make 500,000 of these, so the
    strings live in the loop's arena (self->strings), not in the struct. */
typedef struct {
    uint32_t id_at, address_at; /* offsets in self->strings */
    uint16_t port;
    uint16_t failures; /* in a row (at most S_FAILURES_MAX) */
    uint8_t rows;      /* 1 + the rows its tables had last time (0 unknown) */
    bool getnext_only : 1;
    bool have_counters : 1;
    bool vendor_known : 1;
    bool error_noted : 1; /* a failed read is noted for `show device` (s_note_error) */
    uint32_t skip_until;  /* pass number */
    uint32_t printer_index;
    uint32_t critical, all; /* alert loop: the event counters at the last table read */
    uint32_t status;        /* alert loop: error bits and hrDeviceStatus then */
    uint32_t walked_pass;   /* alert loop: the pass of that read */
    uint32_t enterprise;    /* meter loop: the maker, 0 unknown */
    uint32_t vendor_mask;   /* meter loop: which of the maker's counters answer */
    uint32_t sent_hash;     /* alert loop: what the reading last sent said (0 none) */
    uint32_t sent_pass;     /* alert loop: the pass that sent it */
    const odc_credential_t *credential;
} s_device_t;

typedef struct {
    uint32_t x, enterprise, mask;
    bool table, probe;
    odc_read_oids_t oids;
    const odc_vendor_counter_t *vendor[ODC_READ_MAX_VENDOR];
    size_t n_vendor;
    size_t n_scalars, n_columns;
} s_oidset_t;

typedef struct s_self s_self_t;

typedef struct s_slot s_slot_t;
struct s_slot {
    s_self_t *self;
    int device;
    int stage; /* alert: 0 status, 1 table; meter: 0 maker, 1 counters */
    bool in_use;
    odc_snmp_job_t job, table;
    const s_oidset_t *set;
    s_slot_t *next_free;
};

struct s_self {
    odc_loop_t loop;
    const char *name;
    const odc_config_t *config;
    const odc_config_t *pending; /* a new configuration, applied between passes */
    zsock_t *device_set;         /* SUB: the device set changed (odc_bus_device_set_sub) */
    zsock_t *status_push;        /* to the keeper of "status" (odc_status.h) */
    Odc__LoopStatus status;      /* what was last sent there */
    bool relist;                 /* it did: read the device list between passes */
    odc_store_t *store;
    odc_vendor_map_t *vendors;
    odc_snmp_t *engine;
    odc_batch_t *notes; /* meter loop: probes learnt, written together */
    double notes_since;
    zsock_t *push;
    s_device_t *devices;
    size_t n_devices;
    char *strings; /* the devices' ids and addresses, NUL-terminated */
    size_t strings_len, strings_cap;
    s_slot_t **slots; /* made as the window first needs them, then kept */
    size_t n_slots, slots_made, slots_used;
    s_slot_t *free_slots;
    s_oidset_t **sets;
    size_t n_sets;
    odc_clock_t clock; /* the collector's clock (odc_config_clock) */
    bool in_hours;     /* the current pass's interval is the working-hours one */
    /* the pass */
    uint32_t pass;
    double pass_start, interval;
    size_t next;
    size_t read, failed, skipped;
    uint64_t requests, bytes_out, bytes_in, timeouts, job_us, jobs;
    size_t unchanged;       /* alert loop: readings not sent, as they were */
    uint32_t resend_passes; /* alert loop: a reading as it was goes again after these */
    double cpu_start;
    double tick;      /* seconds, see S_TICK */
    double status_at; /* when "status" last heard of the pass in progress */
    bool in_pass;
    double next_pass;
    double last_wake;
    double adapted_at;       /* when s_adapt last changed the window */
    uint64_t polled_before;  /* device-polls of the passes before this one */
    uint64_t foreign_before; /* the engine's dropped foreign replies when the pass began */
};

#define S_ID(self, d)      ((self)->strings + (d)->id_at)
#define S_ADDRESS(self, d) ((self)->strings + (d)->address_at)

static uint32_t
s_intern (s_self_t *self, const char *text)
{
    size_t len = strlen (text) + 1;
    if (self->strings_len + len > self->strings_cap) {
        self->strings_cap = (self->strings_cap + len) * 2;
        self->strings = realloc (self->strings, self->strings_cap);
    }
    memcpy (self->strings + self->strings_len, text, len);
    self->strings_len += len;
    return (uint32_t)(self->strings_len - len);
}

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*  The loop's interval in real seconds now: working hours are judged on
    the collector's clock (which may run faster, clock.speed). */
static double
s_interval (s_self_t *self)
{
    const odc_config_t *c = self->config;
    bool in_hours = odc_config_in_hours_at (c, odc_collector_s (&self->clock));
    self->in_hours = in_hours;
    int minutes = in_hours ? c->loops[self->loop].in_hours : c->loops[self->loop].out_of_hours;
    return minutes * 60.0 / c->clock_speed;
}

/*  The maker's counters in the vendor map, in map order: bit k of a
    device's vendor_mask stands for out[k]. Returns how many (at most
    ODC_READ_MAX_VENDOR). */
static size_t
s_maker_counters (const s_self_t *self, uint32_t enterprise, const odc_vendor_counter_t **out)
{
    return odc_vendor_map_maker (self->vendors, enterprise, out);
}

/*  The meter loop's vendor probe, as kept in the store: "ENTERPRISE" and
    the names of the maker's counters that answered, comma-separated. */
#define S_NOTE_METER "meter-vendor-counters"

static void
s_probe_save (s_self_t *self, const s_device_t *d)
{
    char text[1024];
    size_t n = (size_t)snprintf (text, sizeof text, "%u", d->enterprise);
    const odc_vendor_counter_t *counters[ODC_READ_MAX_VENDOR];
    size_t count = s_maker_counters (self, d->enterprise, counters);
    const char *sep = " ";
    for (size_t k = 0; k < count; k++)
        if ((d->vendor_mask & (1u << k)) && n + 40 < sizeof text) {
            n += (size_t)snprintf (text + n, sizeof text - n, "%s%s", sep, counters[k]->name);
            sep = ",";
        }
    if (!odc_batch_count (self->notes))
        self->notes_since = odc_wall_s ();
    odc_devices_note_stage (self->store, self->notes, S_NOTE_METER, S_ID (self, d), text);
}

/*  The probes learnt, in one write: when many wait, every few seconds, at
    the end of a pass and at the stop (one write each cost the meter loop's
    first pass a quarter of its time). A note lost in a crash is learnt
    again. */
#define S_NOTES_MAX 256
#define S_NOTES_S   5.0

static void
s_notes_write (s_self_t *self, double now, bool now_anyway)
{
    size_t count = odc_batch_count (self->notes);
    if (!count || (!now_anyway && count < S_NOTES_MAX && now - self->notes_since < S_NOTES_S))
        return;
    if (odc_store_write_lazy (self->store, self->notes) != 0)
        odc_warn (NULL, "meter loop: %zu vendor counter probes could not be stored", count);
    odc_batch_clear (self->notes);
}

static void
s_probe_load (s_self_t *self, s_device_t *d)
{
    char *text = odc_devices_note_get (self->store, S_NOTE_METER, S_ID (self, d));
    if (!text)
        return;
    char *names = strchr (text, ' ');
    d->enterprise = (uint32_t)strtoul (text, NULL, 10);
    d->vendor_mask = 0;
    const odc_vendor_counter_t *counters[ODC_READ_MAX_VENDOR];
    size_t count = s_maker_counters (self, d->enterprise, counters);
    char *save = NULL;
    for (char *name = names ? strtok_r (names + 1, ",", &save) : NULL; name;
         name = strtok_r (NULL, ",", &save))
        /*  By name, so that a changed map never misreads an old note. */
        for (size_t k = 0; k < count; k++)
            if (!strcmp (counters[k]->name, name))
                d->vendor_mask |= 1u << k;
    d->vendor_known = true;
    free (text);
}

static uint32_t s_alert_hash (const Odc__AlertReading *r);

/*  The alert loop, at start: the event counters of each device's stored
    latest reading, so that a restart reads the alert tables of only the
    devices whose counters moved meanwhile (the table is what the counters
    count), and what that reading said, so that it is not sent again. One
    walk of the latest family (a point read a device cost ten times more). */
typedef struct {
    s_self_t *self;
    zhashx_t *by_id; /* id -> s_device_t */
    size_t known;    /* devices whose last reading the store had */
} s_alerts_load_t;

static void s_table_taken (s_self_t *self, s_device_t *d, const Odc__AlertReading *r);

static int
s_alerts_load_one (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    s_alerts_load_t *load = arg;
    s_self_t *self = load->self;
    char id[ODC_DEVICE_ID_MAX + 16];
    size_t len = 0;
    if (odc_latest_key_loop (key, klen, &len) != (int)ODC_LOOP_ALERT + 1 || len >= sizeof id)
        return 0;
    memcpy (id, key, len);
    id[len] = 0;
    s_device_t *d = zhashx_lookup (load->by_id, id);
    if (!d || d->have_counters)
        return 0;
    Odc__Envelope *env = odc__envelope__unpack (NULL, vlen, value);
    if (env && env->body_case == ODC__ENVELOPE__BODY_ALERTS && env->alerts) {
        /*  What its table held (triage keeps the rows in the stored
            reading), so a clear is walked for after a restart too. */
        s_table_taken (self, d, env->alerts);
        if (!d->rows)
            d->rows = (uint8_t)(env->alerts->n_alerts < 254 ? env->alerts->n_alerts + 1 : 255);
        /*  Sent again when it was stored with the raw values and they are
            no longer wanted, or the other way round. */
        const Odc__ReadingHeader *h = env->alerts->header;
        if ((h && h->n_raw > 0) == self->config->snmp_raw)
            d->sent_hash = s_alert_hash (env->alerts);
        load->known++;
    }
    if (env)
        odc__envelope__free_unpacked (env, NULL);
    return 0;
}

static void
s_alerts_load (s_self_t *self)
{
    s_alerts_load_t load = {self, zhashx_new (), 0};
    zhashx_set_key_destructor (load.by_id, NULL);
    zhashx_set_key_duplicator (load.by_id, NULL);
    for (size_t i = 0; i < self->n_devices; i++)
        zhashx_insert (load.by_id, S_ID (self, &self->devices[i]), &self->devices[i]);
    odc_store_each (self->store, ODC_CF_LATEST, NULL, 0, NULL, 0, s_alerts_load_one, &load);
    zhashx_destroy (&load.by_id);
    if (load.known)
        odc_info (NULL,
                  "alert loop: event counters known for %zu of %zu devices (their tables are "
                  "read again only when these move)",
                  load.known, self->n_devices);
}

typedef struct {
    s_self_t *self;
    zhashx_t *old; /* id -> what was learnt about it (s_device_t) */
    const char *old_strings;
    size_t cap;
} s_load_t;

static int
s_load_one (const Odc__Device *device, void *arg)
{
    s_load_t *load = arg;
    s_self_t *self = load->self;
    /*  Lost (another device answers at its address, and where it went is
        not known yet): nothing to poll. */
    if (!device->address || !*device->address)
        return 0;
    if (self->n_devices == load->cap) {
        load->cap = load->cap ? load->cap * 2 : 1024;
        self->devices = realloc (self->devices, load->cap * sizeof *self->devices);
    }
    s_device_t *d = &self->devices[self->n_devices++];
    const char *cred_name = device->credential ? device->credential->name : NULL;
    uint16_t port = (uint16_t)(device->port ? device->port : 161);
    s_device_t *old = zhashx_lookup (load->old, device->id);
    if (old && old->port == port && !strcmp (load->old_strings + old->address_at, device->address))
        *d = *old; /* keep what was learnt about it */
    else {
        memset (d, 0, sizeof *d);
        d->port = port;
        d->printer_index = 1;
        old = NULL;
    }
    d->id_at = s_intern (self, device->id);
    d->address_at =
        strcmp (device->id, device->address) ? s_intern (self, device->address) : d->id_at;
    d->credential = odc_config_credential (self->config, cred_name);
    if (!old && self->loop == ODC_LOOP_METER && self->vendors)
        s_probe_load (self, d);
    return 0;
}

typedef struct {
    size_t count, bytes; /* devices, and the bytes of their ids */
} s_measure_t;

static int
s_measure (const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    (void)key;
    (void)value;
    (void)vlen;
    s_measure_t *m = arg;
    m->count++;
    m->bytes += klen;
    return 0;
}

/*  The device list, from the store's devices family. */
static void
s_load_devices (s_self_t *self)
{
    s_device_t *old = self->devices;
    size_t n_old = self->n_devices;
    char *old_strings = self->strings;
    s_load_t load = {self, zhashx_new (), old_strings, 0};
    for (size_t k = 0; k < n_old; k++)
        zhashx_insert (load.old, old_strings + old[k].id_at, &old[k]);
    /*  Room for all at once: 100,000 devices in five loops growing by
        doubling made a peak of twice what they keep. */
    s_measure_t m = {0, 0};
    odc_store_each (self->store, ODC_CF_DEVICES, NULL, 0, NULL, 0, s_measure, &m);
    size_t count = m.count, bytes = m.bytes;
    load.cap = count;
    self->devices = count ? malloc (count * sizeof *self->devices) : NULL;
    self->n_devices = 0;
    self->strings_cap = 2 * (bytes + count); /* id and address, each NUL-terminated */
    self->strings = self->strings_cap ? malloc (self->strings_cap) : NULL;
    self->strings_len = 0;
    if (odc_devices_each (self->store, s_load_one, &load) < 0)
        odc_error (NULL, "%s loop: the device list could not be read from the store", self->name);
    zhashx_destroy (&load.old);
    free (old);
    free (old_strings);
    /*  Give back what the doubling left over. */
    if (self->n_devices)
        self->devices = realloc (self->devices, self->n_devices * sizeof *self->devices);
    if (self->strings_len)
        self->strings = realloc (self->strings, self->strings_len);
    self->strings_cap = self->strings_len;
    if (self->loop == ODC_LOOP_ALERT && !self->pass)
        s_alerts_load (self);
    if (self->loop == ODC_LOOP_METER && self->vendors) {
        size_t known = 0;
        for (size_t i = 0; i < self->n_devices; i++)
            known += self->devices[i].vendor_known;
        odc_info (NULL, "meter loop: vendor counters known for %zu of %zu devices", known,
                  self->n_devices);
    }
}

static const s_oidset_t *
s_oidset (s_self_t *self, const s_device_t *d, bool table, bool probe)
{
    uint32_t mask = probe ? 0xffffffffu : d->vendor_mask;
    uint32_t enterprise = self->loop == ODC_LOOP_METER ? d->enterprise : 0;
    for (size_t i = 0; i < self->n_sets; i++) {
        s_oidset_t *s = self->sets[i];
        if (s->x == d->printer_index && s->enterprise == enterprise && s->mask == mask &&
            s->table == table && s->probe == probe)
            return s;
    }
    s_oidset_t *s = calloc (1, sizeof *s);
    s->x = d->printer_index;
    s->enterprise = enterprise;
    s->mask = mask;
    s->table = table;
    s->probe = probe;
    const odc_vendor_counter_t *counters[ODC_READ_MAX_VENDOR];
    size_t count = s_maker_counters (self, enterprise, counters);
    for (size_t k = 0; k < count; k++)
        if (mask & (1u << k))
            s->vendor[s->n_vendor++] = counters[k];
    odc_snmp_job_t counts = {0};
    odc_read_prepare (self->loop, s->x, table, s->vendor, s->n_vendor, &s->oids, &counts);
    s->n_scalars = counts.n_scalars;
    s->n_columns = counts.n_columns;
    self->sets = realloc (self->sets, (self->n_sets + 1) * sizeof *self->sets);
    self->sets[self->n_sets++] = s;
    return s;
}

static void s_on_done (odc_snmp_job_t *job, void *arg);

static void
s_submit (s_self_t *self, s_slot_t *slot, odc_snmp_job_t *job, const s_oidset_t *set)
{
    s_device_t *d = &self->devices[slot->device];
    memset (job, 0, sizeof *job);
    snprintf (job->address, sizeof job->address, "%s", S_ADDRESS (self, d));
    job->port = d->port;
    job->credential = d->credential;
    job->getnext_only = d->getnext_only;
    job->keep_raw = self->config->snmp_raw;
    job->done = s_on_done;
    job->arg = slot;
    job->scalars = set->n_scalars ? set->oids.scalars : NULL;
    job->n_scalars = set->n_scalars;
    job->columns = set->n_columns ? set->oids.columns : NULL;
    job->n_columns = set->n_columns;
    /*  The table as big as last time: one request (one row more than
        it had, which shows the end), not sixteen rows of the next
        columns' values to throw away. */
    job->max_repetitions = d->rows < 16 ? d->rows : 0;
    slot->set = set;
    if (odc_snmp_submit (self->engine, job) != 0) {
        job->status = ODC_SNMP_ERROR;
        snprintf (job->error, sizeof job->error, "nothing to ask");
        s_on_done (job, slot);
    }
}

/*  The meter loop's first contact: the maker, from sysObjectID. */
static const odc_oid_t s_sys_object_id = {{1, 3, 6, 1, 2, 1, 1, 2, 0}, 9};

static void
s_start_device (s_self_t *self, size_t index)
{
    s_slot_t *slot = self->free_slots;
    if (slot)
        self->free_slots = slot->next_free;
    else {
        assert (self->slots_made < self->n_slots);
        slot = calloc (1, sizeof *slot);
        slot->self = self;
        self->slots[self->slots_made++] = slot;
    }
    slot->in_use = true;
    slot->device = (int)index;
    slot->stage = 0;
    self->slots_used++;
    s_device_t *d = &self->devices[index];
    if (self->loop == ODC_LOOP_METER && !d->vendor_known && self->vendors) {
        odc_snmp_job_t *job = &slot->job;
        memset (job, 0, sizeof *job);
        snprintf (job->address, sizeof job->address, "%s", S_ADDRESS (self, d));
        job->port = d->port;
        job->credential = d->credential;
        job->scalars = &s_sys_object_id;
        job->n_scalars = 1;
        job->done = s_on_done;
        job->arg = slot;
        odc_snmp_submit (self->engine, job);
        return;
    }
    slot->stage = 1;
    s_submit (self, slot, &slot->job, s_oidset (self, d, false, false));
}

static void
s_publish (s_self_t *self, ProtobufCMessage *reading, Odc__Envelope__BodyCase body,
           const s_device_t *d)
{
    Odc__Envelope env = ODC__ENVELOPE__INIT;
    env.source = (char *)self->name;
    odc_bus_set_body (&env, body, reading);
    Odc__ReadingHeader *h = odc_bus_reading_header (&env);
    if (h) {
        free (h->device_id);
        h->device_id = strdup (S_ID (self, d));
    }
    /*  The store key in front: the latest actor files the reading without
        unpacking it. */
    char key[ODC_DEVICE_ID_MAX + 16];
    odc_latest_key (key, sizeof key, S_ID (self, d), odc_loop_wire (self->loop));
    odc_bus_send_keyed (self->push, key, &env);
    protobuf_c_message_free_unpacked (reading, NULL);
}

/*  The part of an alert reading's status that changes when an alert
    goes: the error bits and hrDeviceStatus (not hrPrinterStatus: idle or
    printing is no news). */
static uint32_t
s_alert_status (const Odc__AlertReading *r)
{
    return r->detected_error_state | (uint32_t)(r->hr_device_status & 0xff) << 16;
}

/*  The table of an alert reading read (or found unreadable): its
    counters and status are what the next passes compare with. */
static void
s_table_taken (s_self_t *self, s_device_t *d, const Odc__AlertReading *r)
{
    d->have_counters = true;
    d->critical = r->critical_events;
    d->all = r->all_events;
    d->status = s_alert_status (r);
    d->walked_pass = self->pass;
}

/*  The collector's clock at a wall time in ms (0: now), in ms. */
static uint64_t
s_collector_ms (const s_self_t *self, uint64_t wall_ms)
{
    double at = wall_ms ? (double)wall_ms / 1000.0 : odc_wall_s ();
    return (uint64_t)(odc_collector_at (&self->clock, at) * 1000.0);
}

/*  What an alert reading says, for "has it changed?" (never 0): its
    status, and the rows of a table read (a reading without rows says the
    same as a table read empty). */
static uint32_t
s_alert_hash (const Odc__AlertReading *r)
{
    uint64_t h = odc_alert_news (r);
    for (size_t i = 0; i < r->n_alerts; i++) {
        const Odc__Alert *a = r->alerts[i];
        int32_t v[5] = {a->index, a->severity, a->group, a->location, a->code};
        h = odc_fnv (h, v, sizeof v);
        if (a->description)
            h = odc_fnv (h, a->description, strlen (a->description));
    }
    return (uint32_t)(h ^ h >> 32) | 1;
}

/*  The alert loop's reading: sent when it is news (a change, the table read,
    or S_ALERT_RESEND_S since the last), else only counted. */
static void
s_publish_alerts (s_self_t *self, Odc__AlertReading *r, s_device_t *d)
{
    uint32_t hash = s_alert_hash (r);
    if (hash == d->sent_hash && self->pass - d->sent_pass < self->resend_passes) {
        odc__alert_reading__free_unpacked (r, NULL);
        self->unchanged++;
        return;
    }
    d->sent_hash = hash;
    d->sent_pass = self->pass;
    s_publish (self, (ProtobufCMessage *)r, ODC__ENVELOPE__BODY_ALERTS, d);
}

static void
s_account (s_self_t *self, const odc_snmp_job_t *job)
{
    self->requests += job->requests;
    self->bytes_out += job->bytes_out;
    self->bytes_in += job->bytes_in;
    self->timeouts += job->timeouts;
    self->job_us += job->finished_us - job->started_us;
    self->jobs++;
}

static void
s_release_slot (s_self_t *self, s_slot_t *slot)
{
    odc_snmp_job_clear (&slot->job);
    odc_snmp_job_clear (&slot->table);
    slot->in_use = false;
    slot->next_free = self->free_slots;
    self->free_slots = slot;
    self->slots_used--;
}

/*  A device's last failed read, for `show device` (ODC_READ_ERROR_NOTE):
    staged with the other notes, so as often as the warning (the first
    failure, then every tenth), and cleared once when it reads again.
    why NULL: clear. */
static void
s_note_error (s_self_t *self, s_device_t *d, const char *why)
{
    char what[48], text[256] = "";
    snprintf (what, sizeof what, "%s%s", ODC_READ_ERROR_NOTE, self->name);
    if (why)
        snprintf (text, sizeof text, "%llu %s", (unsigned long long)odc_now_ms (), why);
    if (!odc_batch_count (self->notes))
        self->notes_since = odc_wall_s ();
    odc_devices_note_stage (self->store, self->notes, what, S_ID (self, d), text);
    d->error_noted = why != NULL;
}

static void
s_failed (s_self_t *self, s_slot_t *slot, const odc_snmp_job_t *job)
{
    s_device_t *d = &self->devices[slot->device];
    if (d->failures < S_FAILURES_MAX)
        d->failures++;
    d->sent_hash = 0; /* its next answer is news */
    self->failed++;
    int backoff =
        self->loop == ODC_LOOP_ALERT ? 0 : 1 << (d->failures - 1 < 3 ? d->failures - 1 : 3);
    if (backoff > S_MAX_BACKOFF)
        backoff = S_MAX_BACKOFF;
    d->skip_until = self->pass + (uint32_t)backoff;
    if (d->failures == 1 || d->failures % 10 == 0) {
        odc_warn (S_ID (self, d), "%s loop: %s (%u times in a row)%s", self->name,
                  job->error[0] ? job->error : "no answer", d->failures,
                  backoff ? "; tried again later with back-off" : "");
        s_note_error (self, d, job->error[0] ? job->error : "no answer");
    }
    if (self->loop == ODC_LOOP_ALERT && slot->stage == 2 && job == &slot->table &&
        job->status == ODC_SNMP_ERROR) {
        /*  A table that cannot be read (past a bound, broken answers): its
            counters taken all the same, or it would be walked, and fail,
            every pass. (One that timed out is walked again next pass.) */
        Odc__AlertReading *status = odc_read_alerts (&slot->job, NULL);
        if (status) {
            s_table_taken (self, d, status);
            odc__alert_reading__free_unpacked (status, NULL);
        }
    }
    if (self->loop == ODC_LOOP_ALERT && job == &slot->job && job->status == ODC_SNMP_TIMEOUT) {
        /*  Triage counts the passes without an answer ("not responding"):
            the status request unanswered (a table walk that timed out
            after it is not silence). */
        Odc__AlertReading *r = malloc (sizeof *r);
        odc__alert_reading__init (r);
        r->header = odc_read_header (job, self->loop);
        r->header->collector_ms = s_collector_ms (self, job->finished_ms);
        r->no_answer = true;
        r->failures = d->failures;
        s_publish (self, (ProtobufCMessage *)r, ODC__ENVELOPE__BODY_ALERTS, d);
    }
    s_release_slot (self, slot);
}

static void
s_on_done (odc_snmp_job_t *job, void *arg)
{
    s_slot_t *slot = arg;
    s_self_t *self = slot->self;
    s_device_t *d = &self->devices[slot->device];
    s_account (self, job);
    if (job->status != ODC_SNMP_OK) {
        s_failed (self, slot, job);
        return;
    }
    if (job->n_columns)
        d->rows = (uint8_t)(job->rows < 254 ? job->rows + 1 : 255);
    if (job->fell_back && !d->getnext_only) {
        d->getnext_only = true;
        odc_info (S_ID (self, d),
                  "%s loop: no GETBULK here (or OIDs out of order): GETNEXT from now on",
                  self->name);
    }
    if (d->failures) {
        odc_info (S_ID (self, d), "%s loop: answering again after %u failures", self->name,
                  d->failures);
        d->failures = 0;
        d->skip_until = 0;
    }
    if (d->error_noted)
        s_note_error (self, d, NULL);
    if (self->loop == ODC_LOOP_METER && slot->stage == 0) {
        const odc_snmp_value_t *v = job->n_values ? &job->values[0] : NULL;
        char text[256] = "";
        if (v && v->type == ASN_OBJECT_ID) {
            size_t n = 0;
            for (size_t i = 0; i < v->len / sizeof (oid) && n + 12 < sizeof text; i++)
                n += (size_t)snprintf (text + n, sizeof text - n, i ? ".%lu" : "%lu",
                                       ((const oid *)v->value)[i]);
        }
        d->enterprise = odc_enterprise_of (text);
        odc_snmp_job_clear (&slot->job);
        slot->stage = 1;
        s_submit (self, slot, &slot->job, s_oidset (self, d, false, true));
        return;
    }
    if (self->loop == ODC_LOOP_ALERT && slot->stage <= 1 && job == &slot->job) {
        Odc__AlertReading *status = odc_read_alerts (job, NULL);
        /*  The counters count rows added (RFC 3805), not rows gone: the
            table is walked again when the status says something else (a
            jam's bit dropped, the device no longer "warning"), and one
            that had rows every S_TABLE_PASSES passes all the same (one of
            two trays refilled leaves the bits as they were). */
        bool moved = !d->have_counters || status->critical_events != d->critical ||
                     status->all_events != d->all || s_alert_status (status) != d->status ||
                     (d->rows != 1 && self->pass - d->walked_pass >= S_TABLE_PASSES);
        if (moved) {
            /*  Something happened (or this is the first look): the table.
                Its counters are taken once it is read (s_table_taken: a
                walk that times out is tried again next pass). */
            odc__alert_reading__free_unpacked (status, NULL);
            slot->stage = 2;
            s_submit (self, slot, &slot->table, s_oidset (self, d, true, false));
            return;
        }
        s_publish_alerts (self, status, d);
        self->read++;
        s_release_slot (self, slot);
        return;
    }
    if (self->loop == ODC_LOOP_METER) {
        /*  Which of the counters asked (the first values) answered. */
        uint32_t answered = 0;
        for (size_t i = 0; slot->set && i < slot->set->n_vendor && i < job->n_values; i++)
            if (job->values[i].type != SNMP_NOSUCHINSTANCE &&
                job->values[i].type != SNMP_NOSUCHOBJECT)
                answered |= 1u << i;
        if (!d->vendor_known && slot->set && slot->set->probe) {
            /*  Remember which of the maker's counters this device has. */
            d->vendor_mask = answered;
            d->vendor_known = true;
            s_probe_save (self, d);
        }
        else if (d->vendor_mask && !answered) {
            /*  None of the remembered counters answers any more: another
                model at this address? Probe again next time. */
            d->vendor_known = false;
            odc_info (S_ID (self, d),
                      "meter loop: its vendor counters stopped answering; probed again");
        }
    }
    ProtobufCMessage *reading =
        odc_read_decode (self->loop, self->loop == ODC_LOOP_ALERT ? &slot->job : job, &slot->table,
                         slot->set ? slot->set->vendor : NULL, slot->set ? slot->set->n_vendor : 0);
    if (reading && self->loop == ODC_LOOP_METER)
        ((Odc__MeterReading *)reading)->enterprise = d->enterprise;
    if (reading && self->loop == ODC_LOOP_ALERT)
        s_table_taken (self, d, (const Odc__AlertReading *)reading);
    Odc__ReadingHeader *header = odc_read_header_of (reading);
    if (header && self->loop == ODC_LOOP_ALERT && slot->stage == 2 && slot->table.finished_ms)
        header->finished_ms = slot->table.finished_ms; /* the rows are as of the walk */
    if (header) /* when the last answer came (not when it was decoded) */
        header->collector_ms = s_collector_ms (self, header->finished_ms);
    if (reading && self->loop == ODC_LOOP_IDENTITY) {
        const Odc__IdentityReading *r = (const Odc__IdentityReading *)reading;
        if (r->hr_device_index > 0)
            d->printer_index = (uint32_t)r->hr_device_index;
    }
    if (reading && self->loop == ODC_LOOP_ALERT) {
        s_publish_alerts (self, (Odc__AlertReading *)reading, d);
        self->read++;
        reading = NULL;
    }
    if (reading) {
        s_publish (self, reading, odc_kinds[self->loop].body, d);
        self->read++;
    }
    s_release_slot (self, slot);
}

/* ------------------------------------------------------------------------
   Passes */

static void s_apply_pending (s_self_t *self);

/*  What "status" tells of this loop. */
static void
s_publish_status (s_self_t *self, bool ended, double took)
{
    Odc__LoopStatus *st = &self->status;
    st->loop = odc_loop_wire (self->loop);
    st->devices = (uint32_t)self->n_devices;
    st->in_pass = !ended;
    st->interval = self->interval * self->config->clock_speed;
    st->started = ended ? 0 : (uint32_t)self->next;
    self->status_at = odc_wall_s ();
    if (ended) {
        st->passes = self->pass;
        st->last_end = (double)time (NULL);
        st->last_took = took * self->config->clock_speed;
        st->last_read = (uint32_t)self->read;
        st->last_failed = (uint32_t)self->failed;
    }
    odc_status_send (self->status_push, &st->base);
}

static void
s_pass_begin (s_self_t *self, double now)
{
    s_apply_pending (self);
    self->pass++;
    self->pass_start = now;
    self->interval = s_interval (self);
    self->next = 0;
    self->polled_before += self->read + self->failed;
    self->read = self->failed = self->skipped = self->unchanged = 0;
    double period = self->interval * self->config->clock_speed;
    self->resend_passes =
        period > 0 && period < S_ALERT_RESEND_S ? (uint32_t)ceil (S_ALERT_RESEND_S / period) : 1;
    self->requests = self->bytes_out = self->bytes_in = self->timeouts = 0;
    self->job_us = self->jobs = 0;
    self->foreign_before = odc_snmp_foreign (self->engine);
    self->cpu_start = s_cpu ();
    double rate = self->n_devices / (self->interval > 0 ? self->interval * S_SPREAD : 1);
    self->tick = fmin (S_TICK_MAX, fmax (S_TICK, S_TICK_JOBS / fmax (rate, 1e-3)));
    self->in_pass = true;
    s_publish_status (self, false, 0);
    odc_debug (NULL, "%s pass %u begins: %zu devices over %.1f s (%s working hours)", self->name,
               self->pass, self->n_devices, self->interval, self->in_hours ? "in" : "outside");
}

static void
s_pass_end (s_self_t *self, double now)
{
    double took = now - self->pass_start, cpu = s_cpu () - self->cpu_start;
    size_t polled = self->read + self->failed;
    char unchanged[96] = "";
    if (self->loop == ODC_LOOP_ALERT)
        snprintf (unchanged, sizeof unchanged, "; %zu readings as they were, not sent",
                  self->unchanged);
    odc_info (NULL,
              "%s pass %u: %zu of %zu devices read, %zu failed, %zu skipped; %.1f s of %.1f s "
              "(%.0f %%, %s working hours); %llu requests, %llu B out, %llu B in, %llu timeouts; "
              "window %d; CPU %.3f s (%.1f us per device)%s",
              self->name, self->pass, self->read, self->n_devices, self->failed, self->skipped,
              took, self->interval, 100.0 * took / (self->interval > 0 ? self->interval : 1),
              self->in_hours ? "in" : "outside", (unsigned long long)self->requests,
              (unsigned long long)self->bytes_out, (unsigned long long)self->bytes_in,
              (unsigned long long)self->timeouts, odc_snmp_window (self->engine), cpu,
              polled ? cpu * 1e6 / (double)polled : 0.0, unchanged);
    uint64_t foreign = odc_snmp_foreign (self->engine) - self->foreign_before;
    if (foreign)
        odc_info (NULL,
                  "%s loop: %llu replies dropped in pass %u that came from another address or "
                  "port than the device asked (spoofed, or late answers to a reused session; "
                  "each is logged with its device at debug level)",
                  self->name, (unsigned long long)foreign, self->pass);
    self->in_pass = false;
    s_notes_write (self, now, true);
    s_publish_status (self, true, took);
    /*  Overrun: the next pass starts at once. */
    self->next_pass = self->pass_start + self->interval;
    if (self->next_pass < now)
        self->next_pass = now;
    s_apply_pending (self);
}

/*  A device read's bounds from the configuration (0: the engine's). */
static odc_snmp_bounds_t
s_bounds (const odc_config_t *c)
{
    return (odc_snmp_bounds_t){.rows = (uint32_t)c->snmp_max_rows,
                               .requests = (uint32_t)c->snmp_max_requests,
                               .bytes = (uint32_t)c->snmp_max_read_bytes,
                               .ms = (uint32_t)c->snmp_max_read_seconds * 1000u};
}

/*  Between passes (no job in flight): take a new configuration. */
static void
s_apply_pending (s_self_t *self)
{
    if ((!self->pending && !self->relist) || self->slots_used)
        return;
    if (!self->pending) {
        self->relist = false;
        s_load_devices (self);
        odc_info (NULL, "%s loop: the device list read again, %zu devices", self->name,
                  self->n_devices);
        return;
    }
    odc_config_t *old = (odc_config_t *)self->config;
    self->config = self->pending;
    self->pending = NULL;
    self->relist = false;
    odc_snmp_set_bounds (self->engine, s_bounds (self->config));
    s_load_devices (self);
    odc_config_destroy (&old);
    odc_info (NULL, "%s loop: configuration applied, %zu devices", self->name, self->n_devices);
}

/*  When device k of the pass is due (see S_SPREAD). */
static double
s_due (const s_self_t *self, size_t k)
{
    return self->pass_start + self->interval * S_SPREAD * (double)k / (double)self->n_devices;
}

/*  Keep the window at what the pass needs: jobs per second times the time
    a job takes, with room for stragglers, within the configured bounds. */
static void
s_adapt (s_self_t *self, double now)
{
    const odc_config_t *c = self->config;
    double rate = self->interval > 0 ? (double)self->n_devices / (self->interval * S_SPREAD) : 1;
    double job_s = self->jobs ? (double)self->job_us / 1e6 / (double)self->jobs : 0.05;
    double need = rate * job_s * 2 + 1;
    /*  Behind the spread schedule: open up. */
    int current = odc_snmp_window (self->engine);
    if (self->next < self->n_devices && s_due (self, self->next) < now - 1)
        need = fmax (need, current * 2.0);
    /*  One change a second at most, and down by a quarter at most (within
        the configured bounds, which a reload may have moved): the effect of
        a change shows only as its answers come back. Doubling at every
        wake-up (every few milliseconds) took the window to its bound for a
        lag of a second, and shrinking at once after it closed the sockets
        the next lag opened again. */
    int window = (int)ceil (need);
    if (window < current - (current + 3) / 4)
        window = current - (current + 3) / 4;
    if (window < c->snmp_window_min)
        window = c->snmp_window_min;
    if (window > c->snmp_window_max)
        window = c->snmp_window_max;
    if (window == current || now - self->adapted_at < 1.0)
        return;
    self->adapted_at = now;
    odc_snmp_set_window (self->engine, window);
}

/*  Start the devices whose time in the pass has come. */
static void
s_schedule (s_self_t *self, double now)
{
    if (!self->in_pass) {
        if (now < self->next_pass)
            return;
        s_pass_begin (self, now);
    }
    int window = odc_snmp_window (self->engine);
    while (self->next < self->n_devices && self->slots_used < self->n_slots &&
           (int)self->slots_used < window + 0) {
        /*  Start what falls due in the next few milliseconds together:
            one wake-up for a handful of devices, not one each. */
        if (s_due (self, self->next) > now + fmax (S_BATCH, self->tick))
            break;
        s_device_t *d = &self->devices[self->next];
        if (d->skip_until > self->pass || !d->credential)
            self->skipped++;
        else
            s_start_device (self, self->next);
        self->next++;
    }
    if (self->next == self->n_devices && self->slots_used == 0)
        s_pass_end (self, now);
}

/*  At the stop: where the pass in progress stands against its schedule
    (a loop whose interval is longer than the run never logs a finished
    pass: this says whether it was on time), and the loop's totals. */
static void
s_stop_report (s_self_t *self, double now)
{
    if (self->in_pass) {
        double behind = 0;
        if (self->next < self->n_devices && s_due (self, self->next) < now)
            behind = now - s_due (self, self->next);
        odc_info (NULL,
                  "%s pass %u in progress: %zu of %zu devices started after %.1f s of %.1f s "
                  "(%zu read, %zu failed); behind its schedule by %.1f s",
                  self->name, self->pass, self->next, self->n_devices, now - self->pass_start,
                  self->interval, self->read, self->failed, behind);
    }
    double cpu = s_cpu ();
    uint64_t polled = self->polled_before + self->read + self->failed;
    odc_info (NULL, "%s loop stops: %llu device-polls in %u passes, CPU %.3f s (%.1f us each)",
              self->name, (unsigned long long)polled, self->pass, cpu,
              polled ? cpu * 1e6 / (double)polled : 0.0);
}

/*  A new configuration: hold it (the supervisor lets go of the old one
    once every actor has the new), apply it between passes. */
static void
s_take_config (void *config, void *arg)
{
    odc_config_replace (&((s_self_t *)arg)->pending, config);
}

/*  The device set changed: read it between passes (now, when none runs). */
static void
s_on_device_set (const Odc__Envelope *env, void *arg)
{
    s_self_t *self = arg;
    self->relist = true;
    odc_debug (NULL, "%s loop: the device set changed (%s: %u added, %u removed)", self->name,
               env->device_set->source, env->device_set->added, env->device_set->removed);
}

static void
s_device_set_take (s_self_t *self)
{
    odc_bus_handlers_t handlers = {0};
    handlers.on[ODC__ENVELOPE__BODY_DEVICE_SET] = s_on_device_set;
    while (zsock_events (self->device_set) & ZMQ_POLLIN)
        odc_bus_recv (self->device_set, &handlers, self);
    if (self->relist && !self->in_pass)
        s_apply_pending (self);
}

static void *
s_self_new (void *args, bool *ok)
{
    odc_loop_args_t *a = args;
    s_self_t *self = calloc (1, sizeof *self);
    self->loop = a->loop;
    self->name = odc_config_loop_names[a->loop];
    self->config = odc_config_ref (a->config);
    self->store = a->store;
    self->clock = odc_config_clock (self->config);
    char *error = NULL;
    if (self->loop == ODC_LOOP_METER && a->vendor_map) {
        self->vendors = odc_vendor_map_load (a->vendor_map, &error);
        if (!self->vendors) {
            odc_warn (NULL, "meter loop: %s: vendor counters off", error ? error : a->vendor_map);
            free (error);
        }
    }
    odc_snmp_options_t eo = {.window = self->config->snmp_window_min,
                             .timeout_ms = self->config->snmp_timeout_ms,
                             .retries = self->config->snmp_retries,
                             .bounds = s_bounds (self->config),
                             .max_repetitions = 16};
    self->engine = odc_snmp_new (&eo);
    self->notes = odc_batch_new ();
    self->push = odc_bus_push_connect (ODC_EP_READINGS, 0);
    self->device_set = odc_bus_device_set_sub ();
    self->status_push = odc_status_push ();
    odc__loop_status__init (&self->status);
    self->n_slots = (size_t)self->config->snmp_window_max;
    self->slots = calloc (self->n_slots, sizeof *self->slots);
    s_load_devices (self);
    *ok = self->engine && self->push && self->device_set && self->status_push && self->slots;
    return self;
}

static void
s_self_destroy (void *arg)
{
    s_self_t *self = arg;
    odc_snmp_destroy (&self->engine);
    s_notes_write (self, odc_wall_s (), true);
    odc_batch_destroy (&self->notes);
    for (size_t i = 0; i < self->slots_made; i++)
        if (self->slots[i]->in_use)
            s_release_slot (self, self->slots[i]);
    for (size_t i = 0; i < self->slots_made; i++)
        free (self->slots[i]);
    zsock_destroy (&self->push);
    zsock_destroy (&self->device_set);
    zsock_destroy (&self->status_push);
    for (size_t i = 0; i < self->n_sets; i++)
        free (self->sets[i]);
    free (self->sets);
    free (self->slots);
    free (self->devices);
    free (self->strings);
    odc_vendor_map_destroy (&self->vendors);
    odc_config_replace (&self->config, NULL);
    odc_config_replace (&self->pending, NULL);
}

static void
s_run (void *arg, odc_actor_t *actor)
{
    s_self_t *self = arg;
    odc_info (NULL, "%s loop: %zu devices, every %d / %d minutes (in / out of working hours)",
              self->name, self->n_devices, self->config->loops[self->loop].in_hours,
              self->config->loops[self->loop].out_of_hours);
    self->next_pass = odc_wall_s ();
    for (;;) {
        double now = odc_wall_s ();
        s_schedule (self, now);
        if (self->in_pass)
            s_adapt (self, now);
        /*  The pass in progress, as far as it got, once a second. */
        if (self->in_pass && now - self->status_at >= 1.0)
            s_publish_status (self, false, 0);
        int wait = odc_snmp_next_ms (self->engine);
        double until;
        bool room = self->slots_used < self->n_slots &&
                    (int)self->slots_used < odc_snmp_window (self->engine);
        if (self->in_pass && self->next < self->n_devices && room)
            until = s_due (self, self->next) - now;
        else if (self->in_pass && self->next < self->n_devices)
            until = 1; /* the window is full: the engine wakes us */
        else if (!self->in_pass)
            until = self->next_pass - now;
        else
            until = 1;
        int due = until <= fmax (S_BATCH, self->tick) ? 0 : (int)(until * 1000) + 1;
        if (wait < 0 || due < wait)
            wait = due;
        if (wait > 200)
            wait = 200; /* stay responsive to the pipe */
        zmq_pollitem_t items[3] = {{zsock_resolve (odc_actor_pipe_of (actor)), 0, ZMQ_POLLIN, 0},
                                   {NULL, odc_snmp_fd (self->engine), ZMQ_POLLIN, 0},
                                   {zsock_resolve (self->device_set), 0, ZMQ_POLLIN, 0}};
        /*  Let answers gather and deadlines pass: the engine is heard at
            most once a tick (a thread woken for every answer, or for every
            silent device's deadline, spends more on the wake-ups than on
            the answers). Only a device falling due comes between; the
            pipe is heard meanwhile. */
        int tick =
            (int)((self->last_wake + (self->tick > 0 ? self->tick : S_TICK) - odc_wall_s ()) *
                  1000);
        if (tick > 0 && due != 0) {
            if (due < tick)
                tick = due;
            if (zmq_poll (items, 1, tick) > 0 && odc_actor_heard (actor))
                break;
            if (wait > 0)
                wait = wait > tick ? wait - tick : 0;
        }
        int n = zmq_poll (items, 3, wait);
        self->last_wake = odc_wall_s ();
        if (n < 0 && zmq_errno () != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            if (odc_actor_heard (actor))
                break;
        }
        if (items[2].revents & ZMQ_POLLIN)
            s_device_set_take (self);
        odc_snmp_run (self->engine, 0);
        s_notes_write (self, self->last_wake, false);
    }
    s_stop_report (self, odc_wall_s ());
}

static const odc_actor_class_t s_class = {"loop", s_self_new, s_self_destroy, s_take_config, s_run};

void
odc_loop_actor (zsock_t *pipe, void *args)
{
    odc_actor_main (pipe, &s_class, args);
}
