/*  odc_config: the collector's one YAML configuration file.

    odc_config_load parses and validates the whole file and returns an
    immutable configuration, or NULL with every error found, each as
        FILE:LINE: key 'section.key': reason
    Unknown keys, wrong types, values out of range, missing required keys,
    references to credentials that do not exist and unreadable secret files
    are all errors. Secrets (community, passphrases, the XMPP password) may be
    given inline or, with the "_file" form of the key, read from a file whose
    trailing newline is dropped. Relative paths are taken from the folder of
    the configuration file. opendca.example.yaml documents every key.

    A loaded configuration is never changed; on SIGHUP the supervisor loads a
    new one and hands it to the actors (odc_supervisor_configure). */
#ifndef ODC_CONFIG_H
#define ODC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "odc_log.h"

/*  The bound on one text field that comes from outside (a device's SNMP
    strings, an import's asset number or location, a portal push, the
    configuration): SNMP's DisplayString is at most 255 octets, and so is
    every text the collector keeps about a device. Longer text is cut at a
    UTF-8 character boundary, and the cut is said (issue 14). */
#define ODC_TEXT_MAX 255

/*  Bounds on the configuration file itself (issue 14), each refused with
    FILE:LINE: reason before the file is walked: its size (a 100,000-device
    file with every key is about 14 MiB; bigger lists belong in an import,
    `opendca import devices`), its nesting (the deepest key is 4 levels
    down; libyaml's scanner costs grow with depth), and YAML anchors and
    aliases (&NAME, *NAME: libyaml looks each anchor up in a list, so
    100,000 anchors took 48 s; nothing here needs them). */
#define ODC_CONFIG_FILE_MAX  (16u << 20)
#define ODC_CONFIG_DEPTH_MAX 32

/*  The most addresses a sweep takes unless told otherwise: a /16.
    discovery.max_addresses raises it for the configured ranges,
    `opendca discover --force` for the command line. */
#define ODC_SWEEP_MAX 65536

typedef enum {
    ODC_LOOP_ALERT = 0,
    ODC_LOOP_IDENTITY,
    ODC_LOOP_METER,
    ODC_LOOP_SUPPLY,
    ODC_LOOP_TRAY,
    ODC_LOOP_COUNT
} odc_loop_t;

typedef struct {
    char *name;
    int version; /* 1, 2 (for 2c) or 3 */
    char *community;
    char *user;
    int level;         /* 0 noAuthNoPriv, 1 authNoPriv, 2 authPriv */
    int auth_protocol; /* index in odc_config_auth_protocols */
    char *auth_passphrase;
    int priv_protocol; /* index in odc_config_priv_protocols */
    char *priv_passphrase;
    char *context;
    int line;
} odc_credential_t;

typedef struct {
    char *address;
    int port;
    char *credential;
    char *asset_number;
    char *location;
    int line;
} odc_device_config_t;

typedef struct {
    char *range;
    char **credentials;
    size_t credential_count;
    int line;
} odc_range_config_t;

/*  Where triage sends an alert's events (issue 17): triage.destinations,
    beside the two every configuration has, "record" (the store only) and
    "portal" (the outbox). */
typedef enum {
    ODC_DEST_RECORD = 0,
    ODC_DEST_PORTAL,
    ODC_DEST_EMAIL,
    ODC_DEST_EXEC
} odc_dest_type_t;
#define ODC_DESTINATIONS_MAX 32 /* the two built in and 30 configured */

typedef struct {
    char *name;
    int type;  /* odc_dest_type_t */
    char **to; /* email: the addresses, each its own message */
    size_t to_count;
    char *command;     /* exec: the program, given the event as JSON on its standard input */
    int every_minutes; /* at most one "raised" per device and category this often; 0: each */
    int line;
} odc_destination_t;

/*  When a supply request is raised (issue 18): supplies.requests, the
    first that matches a supply decides; none: supplies.request_days and
    request_percent. */
typedef struct {
    char **kinds; /* supply kinds (snmp/supply-rules.tsv: toner, ink, drum, ...); none: any */
    size_t kind_count;
    char **addresses; /* the device group: ranges as in ranges; none: any */
    size_t address_count;
    int days;    /* empty within this many days (forecast) */
    int percent; /* or below this percent left */
    int line;
} odc_supply_request_t;

/*  A routing rule: an event goes to the destinations of every rule it
    matches; a rule's empty list matches anything. */
typedef struct {
    char *name;
    char **categories, **codes, **severities;
    size_t category_count, code_count, severity_count;
    char **addresses; /* ranges as in ranges: (a.b.c.d/nn, a.b.c.d-e.f.g.h, an address) */
    size_t address_count;
    char **locations,
        **assets; /* shell patterns (fnmatch) on the device's location, asset number */
    size_t location_count, asset_count;
    int hours; /* 0 any time, 1 in working hours, 2 outside them */
    char **to; /* destination names */
    size_t to_count;
    int line;
} odc_route_rule_t;

typedef struct {
    int in_hours;     /* minutes */
    int out_of_hours; /* minutes */
} odc_interval_t;

typedef struct {
    char *file; /* the file it was loaded from */

    char *collector_id;
    char *log_level;

    char *store_path;
    bool store_sync;
    int store_cache_mb;
    int outbox_max_mb;

    char *portal_jid; /* this collector's JID */
    char *portal_password;
    char *portal_peer; /* the portal's JID */
    char *portal_host; /* the XMPP server's address; NULL: the JID's domain */
    int *portal_ports;
    size_t portal_port_count;
    char *portal_ca_file;
    char **portal_trusted;
    size_t portal_trusted_count;
    bool portal_compress;
    char *portal_meters_at; /* "HH:MM" local time of the daily meter upload */

    int snmp_timeout_ms;
    int snmp_retries;
    int snmp_window_min;
    int snmp_window_max;
    bool snmp_raw; /* the loops' readings keep every value as received */
    /*  The bounds of one device read (snmp/odc_snmp.h, odc_snmp_bounds_t);
        0: the engine's defaults. */
    int snmp_max_rows, snmp_max_requests, snmp_max_read_bytes, snmp_max_read_seconds;

    odc_credential_t *credentials;
    size_t credential_count;
    odc_device_config_t *devices;
    size_t device_count;
    odc_range_config_t *ranges;
    size_t range_count;

    int discovery_every_hours; /* sweeps of the ranges; 0: only on command */
    int discovery_rate;        /* new addresses a second */
    int discovery_concurrency; /* addresses in flight */
    int discovery_timeout_ms;
    int discovery_retries;
    int discovery_port;
    int discovery_max_addresses; /* the most one sweep of the ranges takes */

    int registry_missing_after_hours; /* a device not seen this long is missing */

    /*  validation: (actors/odc_validate.h) */
    int validation_max_pages_per_minute; /* the fastest a device prints */
    int validation_reset_below;          /* a counter after a reset starts below this */
    /*  triage: (actors/odc_triage.h) */
    int triage_repeat_window_minutes; /* a clear waits this long for the same again (10) */
    int triage_unreachable_passes;    /* alert passes without an answer: not responding (5) */
    odc_destination_t *destinations;  /* the configured ones, after "record" and "portal" */
    size_t destination_count;
    odc_route_rule_t *rules; /* none: one rule, everything to the portal */
    size_t rule_count;
    /*  supplies: (actors/odc_supplies_actor.h) */
    int supplies_request_days;    /* a request when empty within this many days (7) */
    int supplies_request_percent; /* or below this percent left (5) */
    odc_supply_request_t *supply_requests;
    size_t supply_request_count;
    /*  triage.email: the SMTP server e-mail destinations go through. */
    char *email_server; /* host name or address */
    int email_port;     /* 587 */
    int email_security; /* 0 starttls (required), 1 tls (implicit, port 465), 2 none */
    char *email_user, *email_password, *email_from, *email_ca_file;
    int email_timeout_seconds;

    odc_interval_t loops[ODC_LOOP_COUNT];
    int work_start; /* minutes after midnight */
    int work_end;
    unsigned work_days; /* bit 0 Monday ... bit 6 Sunday */

    int max_devices;
    int max_open_files;

    int clock_speed; /* the collector's clock runs this many times faster (tests, demo) */
    int clock_epoch; /* the wall-clock second a sped-up clock counts from; 0: each actor's start */
    int clock_start; /* the collector's time at clock_epoch; 0: clock_epoch itself */

    int refs; /* holders; see odc_config_ref */
} odc_config_t;

extern const char *const odc_config_loop_names[ODC_LOOP_COUNT];
extern const char *const odc_config_auth_protocols[];
extern const char *const odc_config_priv_protocols[];
/*  The alert categories and severities triage knows (rules name them). */
extern const char *const odc_config_alert_categories[];
extern const char *const odc_config_alert_severities[];
extern const char *const odc_config_email_security[];
/*  The supply kinds (snmp/supply-rules.tsv names no other). */
extern const char *const odc_config_supply_kinds[];

/*  Whether address (an IPv4 literal) is in range (as ranges: takes it). */
bool odc_config_range_holds (const char *range, const char *address);

/*  Load and validate. On failure returns NULL and, when errors is not NULL,
    the error lines (newline-separated) that the caller frees with free(). */
odc_config_t *odc_config_load (const char *file, char **errors);

/*  A configuration is shared by the actors that use it: each holder takes
    a reference and drops it with odc_config_destroy, which frees the
    configuration when the last holder lets go (and always nulls the
    caller's pointer). Thread-safe. */
const odc_config_t *odc_config_ref (const odc_config_t *self);
void odc_config_destroy (odc_config_t **self_p);

/*  Hold fresh (a reference taken) in *slot instead of what it held (that
    reference dropped, when there was one). For actors taking a new
    configuration, or holding one pending. */
void odc_config_replace (const odc_config_t **slot, const void *fresh);

/*  The index of text in a NULL-terminated list of names (case does not
    matter), -1 when it is not there. */
int odc_config_choice (const char *const *choices, const char *text);

/*  Whether text is an IPv4 or IPv6 literal or a DNS name. */
bool odc_config_address_ok (const char *text);

/*  Find a credential by name; NULL when there is none. */
const odc_credential_t *odc_config_credential (const odc_config_t *self, const char *name);

/*  Whether a local time (weekday 0 = Monday, minute after midnight) is in
    working hours. */
bool odc_config_in_hours (const odc_config_t *self, int weekday_mon0, int minute_of_day);
/*  The same at a second of the collector's clock (its local time). */
bool odc_config_in_hours_at (const odc_config_t *self, double collector_s);

/*  An actor's clock (odc_collector_s): from clock.epoch when set (a test
    gives the simulator the same, so both tell the same time whatever
    their start), else from now; at clock.start then (a test's simulated
    day begins where it is told), else at that epoch. */
odc_clock_t odc_config_clock (const odc_config_t *self);

#endif
