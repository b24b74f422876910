/*  odc_config: see odc_config.h.

    The file is read with libyaml's document loader (every node knows its
    line), then walked against a schema: a table of fields per mapping, each
    with its key, type, place in odc_config_t and limits. Every error is
    collected, so one run of "opendca config check" shows them all. */
#include "odc_config.h"
#include "odc_log.h"
#include "odc_text.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

const char *const odc_config_loop_names[ODC_LOOP_COUNT] = {"alert", "identity", "meter", "supply",
                                                           "tray"};
/*  The protocols Debian's net-snmp offers (see PITFALLS.md). */
const char *const odc_config_auth_protocols[] = {"MD5",     "SHA",     "SHA-224", "SHA-256",
                                                 "SHA-384", "SHA-512", NULL};
const char *const odc_config_priv_protocols[] = {"DES", "AES", "AES-192", "AES-256", NULL};
static const char *const s_versions[] = {"1", "2c", "3", NULL};
static const int s_version_values[] = {1, 2, 3};
static const char *const s_levels[] = {"noAuthNoPriv", "authNoPriv", "authPriv", NULL};
static const char *const s_log_levels[] = {"debug", "info", "warn", "error", NULL};
const char *const odc_config_alert_categories[] = {
    "jam", "paper", "supply", "cover", "service", "information", "availability", "change", NULL};
const char *const odc_config_alert_severities[] = {"critical", "warning", "information", NULL};
const char *const odc_config_email_security[] = {"starttls", "tls", "none", NULL};
const char *const odc_config_supply_kinds[] = {
    "toner",     "ink",           "ribbon",          "drum",    "developer", "fuser", "waste_toner",
    "waste_ink", "transfer_belt", "maintenance_kit", "staples", "other",     NULL};
static const char *const s_dest_types[] = {"record", "portal", "email", "exec", NULL};
static const char *const s_rule_hours[] = {"any", "working", "outside", NULL};
static const char *const s_days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};

typedef enum {
    F_STR,         /* string; with choices, one of them */
    F_PATH,        /* string, relative to the configuration's folder */
    F_SECRET_FILE, /* read the named file into the string slot */
    F_INT,         /* integer in [min, max] */
    F_BOOL,        /* true / false */
    F_ENUM,        /* one of choices, stored as int (values[i] or i) */
    F_TIME,        /* "HH:MM", stored as minutes after midnight */
    F_DAYS,        /* list of mon..sun, stored as a bit mask */
    F_MAP,         /* nested mapping, fields in the same struct */
    F_LIST,        /* list of mappings: elements of elem_size */
    F_STR_LIST,    /* list of strings */
    F_INT_LIST,    /* list of integers in [min, max] */
} s_type_t;

typedef struct s_field s_field_t;
struct s_field {
    const char *key;
    s_type_t type;
    size_t offset;
    long min, max;
    const char *const *choices;
    const int *values;
    const s_field_t *sub; /* F_MAP, F_LIST: fields, ended by a NULL key */
    size_t elem_size;     /* F_LIST */
    size_t count_offset;  /* F_LIST, F_STR_LIST, F_INT_LIST */
    size_t line_offset;   /* F_LIST: where each element keeps its line */
    bool required;
};

#define C(field)  offsetof (odc_config_t, field)
#define CR(field) offsetof (odc_credential_t, field)
#define DV(field) offsetof (odc_device_config_t, field)
#define RG(field) offsetof (odc_range_config_t, field)
// clang-format off
#define END {.key = NULL}
// clang-format on

static const s_field_t s_collector[] = {
    {"id", F_STR, C (collector_id), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    END,
};
static const s_field_t s_log[] = {
    {"level", F_STR, C (log_level), 0, 0, s_log_levels, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_store[] = {
    {"path", F_PATH, C (store_path), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"sync", F_BOOL, C (store_sync), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"cache_mb", F_INT, C (store_cache_mb), 1, 4096, NULL, NULL, NULL, 0, 0, 0, false},
    {"outbox_max_mb", F_INT, C (outbox_max_mb), 1, 1048576, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_portal[] = {
    {"jid", F_STR, C (portal_jid), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"password", F_STR, C (portal_password), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"password_file", F_SECRET_FILE, C (portal_password), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"portal_jid", F_STR, C (portal_peer), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"host", F_STR, C (portal_host), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"ports", F_INT_LIST, C (portal_ports), 1, 65535, NULL, NULL, NULL, 0, C (portal_port_count), 0,
     false},
    {"ca_file", F_PATH, C (portal_ca_file), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"trusted", F_STR_LIST, C (portal_trusted), 0, 0, NULL, NULL, NULL, 0, C (portal_trusted_count),
     0, false},
    {"compress", F_BOOL, C (portal_compress), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"meters_at", F_STR, C (portal_meters_at), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_credential[] = {
    {"name", F_STR, CR (name), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    {"version", F_ENUM, CR (version), 0, 0, s_versions, s_version_values, NULL, 0, 0, 0, true},
    {"community", F_STR, CR (community), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"community_file", F_SECRET_FILE, CR (community), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"user", F_STR, CR (user), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"level", F_ENUM, CR (level), 0, 0, s_levels, NULL, NULL, 0, 0, 0, false},
    {"auth_protocol", F_ENUM, CR (auth_protocol), 0, 0, odc_config_auth_protocols, NULL, NULL, 0, 0,
     0, false},
    {"auth_passphrase", F_STR, CR (auth_passphrase), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"auth_passphrase_file", F_SECRET_FILE, CR (auth_passphrase), 0, 0, NULL, NULL, NULL, 0, 0, 0,
     false},
    {"priv_protocol", F_ENUM, CR (priv_protocol), 0, 0, odc_config_priv_protocols, NULL, NULL, 0, 0,
     0, false},
    {"priv_passphrase", F_STR, CR (priv_passphrase), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"priv_passphrase_file", F_SECRET_FILE, CR (priv_passphrase), 0, 0, NULL, NULL, NULL, 0, 0, 0,
     false},
    {"context", F_STR, CR (context), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_snmp[] = {
    {"timeout_ms", F_INT, C (snmp_timeout_ms), 10, 60000, NULL, NULL, NULL, 0, 0, 0, false},
    {"retries", F_INT, C (snmp_retries), 0, 10, NULL, NULL, NULL, 0, 0, 0, false},
    {"window_min", F_INT, C (snmp_window_min), 1, 65536, NULL, NULL, NULL, 0, 0, 0, false},
    {"window_max", F_INT, C (snmp_window_max), 1, 65536, NULL, NULL, NULL, 0, 0, 0, false},
    {"raw", F_BOOL, C (snmp_raw), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"max_rows", F_INT, C (snmp_max_rows), 10, 1000000, NULL, NULL, NULL, 0, 0, 0, false},
    {"max_requests", F_INT, C (snmp_max_requests), 10, 1000000, NULL, NULL, NULL, 0, 0, 0, false},
    {"max_read_bytes", F_INT, C (snmp_max_read_bytes), 65536, 1073741824, NULL, NULL, NULL, 0, 0, 0,
     false},
    {"max_read_seconds", F_INT, C (snmp_max_read_seconds), 1, 3600, NULL, NULL, NULL, 0, 0, 0,
     false},
    {"credentials", F_LIST, C (credentials), 0, 0, NULL, NULL, s_credential,
     sizeof (odc_credential_t), C (credential_count), CR (line), false},
    END,
};
static const s_field_t s_device[] = {
    {"address", F_STR, DV (address), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    {"port", F_INT, DV (port), 1, 65535, NULL, NULL, NULL, 0, 0, 0, false},
    {"credential", F_STR, DV (credential), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"asset_number", F_STR, DV (asset_number), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"location", F_STR, DV (location), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_range[] = {
    {"range", F_STR, RG (range), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    {"credentials", F_STR_LIST, RG (credentials), 0, 0, NULL, NULL, NULL, 0, RG (credential_count),
     0, false},
    END,
};
#define LOOP(i)                                                                                    \
    {"in_hours", F_INT, C (loops[i].in_hours), 1, 10080, NULL, NULL, NULL, 0, 0, 0, false},        \
        {"out_of_hours", F_INT, C (loops[i].out_of_hours), 1, 10080, NULL, NULL, NULL, 0, 0, 0,    \
         false},                                                                                   \
        END
static const s_field_t s_loop_alert[] = {LOOP (ODC_LOOP_ALERT)};
static const s_field_t s_loop_identity[] = {LOOP (ODC_LOOP_IDENTITY)};
static const s_field_t s_loop_meter[] = {LOOP (ODC_LOOP_METER)};
static const s_field_t s_loop_supply[] = {LOOP (ODC_LOOP_SUPPLY)};
static const s_field_t s_loop_tray[] = {LOOP (ODC_LOOP_TRAY)};
static const s_field_t s_loops[] = {
    {"alert", F_MAP, 0, 0, 0, NULL, NULL, s_loop_alert, 0, 0, 0, false},
    {"identity", F_MAP, 0, 0, 0, NULL, NULL, s_loop_identity, 0, 0, 0, false},
    {"meter", F_MAP, 0, 0, 0, NULL, NULL, s_loop_meter, 0, 0, 0, false},
    {"supply", F_MAP, 0, 0, 0, NULL, NULL, s_loop_supply, 0, 0, 0, false},
    {"tray", F_MAP, 0, 0, 0, NULL, NULL, s_loop_tray, 0, 0, 0, false},
    END,
};
static const s_field_t s_hours[] = {
    {"start", F_TIME, C (work_start), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"end", F_TIME, C (work_end), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"days", F_DAYS, C (work_days), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_limits[] = {
    {"max_devices", F_INT, C (max_devices), 1, 10000000, NULL, NULL, NULL, 0, 0, 0, false},
    {"max_open_files", F_INT, C (max_open_files), 256, 4194304, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_discovery[] = {
    {"every_hours", F_INT, C (discovery_every_hours), 0, 8760, NULL, NULL, NULL, 0, 0, 0, false},
    {"rate", F_INT, C (discovery_rate), 1, 100000, NULL, NULL, NULL, 0, 0, 0, false},
    {"concurrency", F_INT, C (discovery_concurrency), 1, 4096, NULL, NULL, NULL, 0, 0, 0, false},
    {"timeout_ms", F_INT, C (discovery_timeout_ms), 10, 60000, NULL, NULL, NULL, 0, 0, 0, false},
    {"retries", F_INT, C (discovery_retries), 0, 5, NULL, NULL, NULL, 0, 0, 0, false},
    {"max_addresses", F_INT, C (discovery_max_addresses), 1, 16777216, NULL, NULL, NULL, 0, 0, 0,
     false},
    {"port", F_INT, C (discovery_port), 1, 65535, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_registry[] = {
    {"missing_after_hours", F_INT, C (registry_missing_after_hours), 1, 8760, NULL, NULL, NULL, 0,
     0, 0, false},
    END,
};
static const s_field_t s_validation[] = {
    {"max_pages_per_minute", F_INT, C (validation_max_pages_per_minute), 1, 100000, NULL, NULL,
     NULL, 0, 0, 0, false},
    {"reset_below", F_INT, C (validation_reset_below), 0, 100000000, NULL, NULL, NULL, 0, 0, 0,
     false},
    END,
};

#define DS(field) offsetof (odc_destination_t, field)
#define RU(field) offsetof (odc_route_rule_t, field)
static const s_field_t s_destination[] = {
    {"name", F_STR, DS (name), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    {"type", F_ENUM, DS (type), 0, 0, s_dest_types, NULL, NULL, 0, 0, 0, true},
    {"to", F_STR_LIST, DS (to), 0, 0, NULL, NULL, NULL, 0, DS (to_count), 0, false},
    {"command", F_PATH, DS (command), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"every_minutes", F_INT, DS (every_minutes), 0, 10080, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_rule[] = {
    {"name", F_STR, RU (name), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"categories", F_STR_LIST, RU (categories), 0, 0, odc_config_alert_categories, NULL, NULL, 0,
     RU (category_count), 0, false},
    {"codes", F_STR_LIST, RU (codes), 0, 0, NULL, NULL, NULL, 0, RU (code_count), 0, false},
    {"severities", F_STR_LIST, RU (severities), 0, 0, odc_config_alert_severities, NULL, NULL, 0,
     RU (severity_count), 0, false},
    {"addresses", F_STR_LIST, RU (addresses), 0, 0, NULL, NULL, NULL, 0, RU (address_count), 0,
     false},
    {"locations", F_STR_LIST, RU (locations), 0, 0, NULL, NULL, NULL, 0, RU (location_count), 0,
     false},
    {"assets", F_STR_LIST, RU (assets), 0, 0, NULL, NULL, NULL, 0, RU (asset_count), 0, false},
    {"hours", F_ENUM, RU (hours), 0, 0, s_rule_hours, NULL, NULL, 0, 0, 0, false},
    {"to", F_STR_LIST, RU (to), 0, 0, NULL, NULL, NULL, 0, RU (to_count), 0, true},
    END,
};
static const s_field_t s_email[] = {
    {"server", F_STR, C (email_server), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    {"port", F_INT, C (email_port), 1, 65535, NULL, NULL, NULL, 0, 0, 0, false},
    {"security", F_ENUM, C (email_security), 0, 0, odc_config_email_security, NULL, NULL, 0, 0, 0,
     false},
    {"user", F_STR, C (email_user), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"password", F_STR, C (email_password), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"password_file", F_SECRET_FILE, C (email_password), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"from", F_STR, C (email_from), 0, 0, NULL, NULL, NULL, 0, 0, 0, true},
    {"ca_file", F_PATH, C (email_ca_file), 0, 0, NULL, NULL, NULL, 0, 0, 0, false},
    {"timeout_seconds", F_INT, C (email_timeout_seconds), 1, 600, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_triage[] = {
    {"repeat_window_minutes", F_INT, C (triage_repeat_window_minutes), 0, 1440, NULL, NULL, NULL, 0,
     0, 0, false},
    {"unreachable_passes", F_INT, C (triage_unreachable_passes), 1, 10000, NULL, NULL, NULL, 0, 0,
     0, false},
    {"destinations", F_LIST, C (destinations), 0, 0, NULL, NULL, s_destination,
     sizeof (odc_destination_t), C (destination_count), DS (line), false},
    {"rules", F_LIST, C (rules), 0, 0, NULL, NULL, s_rule, sizeof (odc_route_rule_t),
     C (rule_count), RU (line), false},
    {"email", F_MAP, 0, 0, 0, NULL, NULL, s_email, 0, 0, 0, false},
    END,
};
#define SR(field) offsetof (odc_supply_request_t, field)
static const s_field_t s_supply_request[] = {
    {"kinds", F_STR_LIST, SR (kinds), 0, 0, odc_config_supply_kinds, NULL, NULL, 0, SR (kind_count),
     0, false},
    {"addresses", F_STR_LIST, SR (addresses), 0, 0, NULL, NULL, NULL, 0, SR (address_count), 0,
     false},
    {"days", F_INT, SR (days), 0, 365, NULL, NULL, NULL, 0, 0, 0, true},
    {"percent", F_INT, SR (percent), 0, 100, NULL, NULL, NULL, 0, 0, 0, true},
    END,
};
static const s_field_t s_supplies[] = {
    {"request_days", F_INT, C (supplies_request_days), 0, 365, NULL, NULL, NULL, 0, 0, 0, false},
    {"request_percent", F_INT, C (supplies_request_percent), 0, 100, NULL, NULL, NULL, 0, 0, 0,
     false},
    {"requests", F_LIST, C (supply_requests), 0, 0, NULL, NULL, s_supply_request,
     sizeof (odc_supply_request_t), C (supply_request_count), SR (line), false},
    END,
};
static const s_field_t s_clock[] = {
    {"speed", F_INT, C (clock_speed), 1, 1000000, NULL, NULL, NULL, 0, 0, 0, false},
    {"epoch", F_INT, C (clock_epoch), 0, 2147483647, NULL, NULL, NULL, 0, 0, 0, false},
    {"start", F_INT, C (clock_start), 0, 2147483647, NULL, NULL, NULL, 0, 0, 0, false},
    END,
};
static const s_field_t s_root[] = {
    {"collector", F_MAP, 0, 0, 0, NULL, NULL, s_collector, 0, 0, 0, true},
    {"log", F_MAP, 0, 0, 0, NULL, NULL, s_log, 0, 0, 0, false},
    {"store", F_MAP, 0, 0, 0, NULL, NULL, s_store, 0, 0, 0, false},
    {"portal", F_MAP, 0, 0, 0, NULL, NULL, s_portal, 0, 0, 0, false},
    {"snmp", F_MAP, 0, 0, 0, NULL, NULL, s_snmp, 0, 0, 0, false},
    {"devices", F_LIST, C (devices), 0, 0, NULL, NULL, s_device, sizeof (odc_device_config_t),
     C (device_count), DV (line), false},
    {"ranges", F_LIST, C (ranges), 0, 0, NULL, NULL, s_range, sizeof (odc_range_config_t),
     C (range_count), RG (line), false},
    {"loops", F_MAP, 0, 0, 0, NULL, NULL, s_loops, 0, 0, 0, false},
    {"working_hours", F_MAP, 0, 0, 0, NULL, NULL, s_hours, 0, 0, 0, false},
    {"limits", F_MAP, 0, 0, 0, NULL, NULL, s_limits, 0, 0, 0, false},
    {"clock", F_MAP, 0, 0, 0, NULL, NULL, s_clock, 0, 0, 0, false},
    {"discovery", F_MAP, 0, 0, 0, NULL, NULL, s_discovery, 0, 0, 0, false},
    {"registry", F_MAP, 0, 0, 0, NULL, NULL, s_registry, 0, 0, 0, false},
    {"validation", F_MAP, 0, 0, 0, NULL, NULL, s_validation, 0, 0, 0, false},
    {"triage", F_MAP, 0, 0, 0, NULL, NULL, s_triage, 0, 0, 0, false},
    {"supplies", F_MAP, 0, 0, 0, NULL, NULL, s_supplies, 0, 0, 0, false},
    END,
};

typedef struct {
    const char *file;
    char *dir;
    yaml_document_t *doc;
    FILE *errors;
    char *error_text;
    size_t error_size;
    int error_count;
} s_ctx_t;

static void
s_error (s_ctx_t *ctx, int line, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (ctx->errors, "%s:%d: ", ctx->file, line);
    if (path && *path)
        fprintf (ctx->errors, "key '%s': ", path);
    vfprintf (ctx->errors, fmt, ap);
    fputc ('\n', ctx->errors);
    va_end (ap);
    ctx->error_count++;
}

static int
s_line (const yaml_node_t *node)
{
    return (int)node->start_mark.line + 1;
}

#define SLOT(base, offset, type) ((type *)((char *)(base) + (offset)))

static void
s_set_string (void *base, size_t offset, const char *value)
{
    char **slot = SLOT (base, offset, char *);
    free (*slot);
    *slot = strdup (value);
}

static const char *
s_scalar (const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static const char *
s_kind (const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE: return "a value";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/*  Levenshtein distance, for "did you mean". Keys are short. */
static size_t
s_distance (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static int s_parse_map (s_ctx_t *ctx, yaml_node_t *node, const s_field_t *fields, void *base,
                        const char *path);

static char *
s_read_secret (s_ctx_t *ctx, const char *name, int line, const char *path)
{
    char *file = NULL;
    if (name[0] == '/' || asprintf (&file, "%s/%s", ctx->dir, name) == -1)
        file = strdup (name);
    /*  Non-blocking: a FIFO named here must not hang the loader. */
    int fd = open (file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) != 0) {
        s_error (ctx, line, path, "cannot read secret file %s: %s", file, strerror (errno));
        if (fd >= 0)
            close (fd);
        free (file);
        return NULL;
    }
    if (!S_ISREG (st.st_mode)) {
        s_error (ctx, line, path, "secret file %s is not a regular file", file);
        close (fd);
        free (file);
        return NULL;
    }
    /*  Like ssh with a private key: a secret others may read is no secret;
        refused rather than taken with a word (issue 14). */
    if (st.st_mode & 077) {
        s_error (ctx, line, path,
                 "secret file %s is open to group or others (mode 0%o): chmod 600 %s", file,
                 (unsigned)(st.st_mode & 0777), file);
        close (fd);
        free (file);
        return NULL;
    }
    FILE *in = fdopen (fd, "r");
    if (!in) {
        s_error (ctx, line, path, "cannot read secret file %s: %s", file, strerror (errno));
        close (fd);
        free (file);
        return NULL;
    }
    char buffer[4096];
    size_t n = fread (buffer, 1, sizeof buffer - 1, in);
    bool more = fgetc (in) != EOF;
    fclose (in);
    free (file);
    if (more) {
        s_error (ctx, line, path, "secret file %s is larger than %zu bytes", name,
                 sizeof buffer - 1);
        return NULL;
    }
    buffer[n] = 0;
    while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == '\r'))
        buffer[--n] = 0;
    if (n == 0 || strlen (buffer) != n) {
        s_error (ctx, line, path, "secret file %s is empty or holds a NUL byte", name);
        return NULL;
    }
    return strdup (buffer);
}

static bool
s_parse_long (const char *text, long *value)
{
    char *end = NULL;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end)
        return false;
    *value = v;
    return true;
}

int
odc_config_choice (const char *const *choices, const char *text)
{
    for (int i = 0; choices[i]; i++)
        if (strcasecmp (choices[i], text) == 0)
            return i;
    return -1;
}

static void
s_choices_text (const char *const *choices, char *out, size_t size)
{
    out[0] = 0;
    for (int i = 0; choices[i]; i++) {
        strncat (out, i ? ", " : "", size - strlen (out) - 1);
        strncat (out, choices[i], size - strlen (out) - 1);
    }
}

static void
s_parse_field (s_ctx_t *ctx, const s_field_t *field, yaml_node_t *node, void *base,
               const char *path)
{
    int line = s_line (node);
    bool scalar = node->type == YAML_SCALAR_NODE;
    bool is_list = field->type == F_DAYS || field->type == F_LIST || field->type == F_STR_LIST ||
                   field->type == F_INT_LIST;
    if (field->type == F_MAP && node->type != YAML_MAPPING_NODE) {
        s_error (ctx, line, path, "expected a mapping, found %s", s_kind (node));
        return;
    }
    if (is_list && node->type != YAML_SEQUENCE_NODE) {
        s_error (ctx, line, path, "expected a list, found %s", s_kind (node));
        return;
    }
    if (field->type != F_MAP && !is_list && !scalar) {
        s_error (ctx, line, path, "expected a value, found %s", s_kind (node));
        return;
    }
    const char *text = scalar ? s_scalar (node) : NULL;
    char choices[256];
    switch (field->type) {
    case F_STR:
        if (field->choices && odc_config_choice (field->choices, text) < 0) {
            s_choices_text (field->choices, choices, sizeof choices);
            s_error (ctx, line, path, "'%s' is not one of: %s", text, choices);
            return;
        }
        if (!*text) {
            s_error (ctx, line, path, "must not be empty");
            return;
        }
        s_set_string (base, field->offset, text);
        return;
    case F_PATH: {
        if (!*text) {
            s_error (ctx, line, path, "must not be empty");
            return;
        }
        char *full = NULL;
        if (text[0] == '/' || asprintf (&full, "%s/%s", ctx->dir, text) == -1)
            full = strdup (text);
        free (*SLOT (base, field->offset, char *));
        *SLOT (base, field->offset, char *) = full;
        return;
    }
    case F_SECRET_FILE: {
        char **slot = SLOT (base, field->offset, char *);
        char *secret = s_read_secret (ctx, text, line, path);
        if (secret) {
            free (*slot);
            *slot = secret;
        }
        return;
    }
    case F_INT: {
        long v;
        if (!s_parse_long (text, &v)) {
            s_error (ctx, line, path, "'%s' is not a whole number", text);
            return;
        }
        if (v < field->min || v > field->max) {
            s_error (ctx, line, path, "%ld is out of range [%ld, %ld]", v, field->min, field->max);
            return;
        }
        *SLOT (base, field->offset, int) = (int)v;
        return;
    }
    case F_BOOL:
        if (strcmp (text, "true") == 0 || strcmp (text, "yes") == 0)
            *SLOT (base, field->offset, bool) = true;
        else if (strcmp (text, "false") == 0 || strcmp (text, "no") == 0)
            *SLOT (base, field->offset, bool) = false;
        else
            s_error (ctx, line, path, "'%s' is not true or false", text);
        return;
    case F_ENUM: {
        int i = odc_config_choice (field->choices, text);
        if (i < 0) {
            s_choices_text (field->choices, choices, sizeof choices);
            s_error (ctx, line, path, "'%s' is not one of: %s", text, choices);
            return;
        }
        *SLOT (base, field->offset, int) = field->values ? field->values[i] : i;
        return;
    }
    case F_TIME: {
        int h, m;
        char extra;
        if (sscanf (text, "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
            (h == 24 && m != 0)) {
            s_error (ctx, line, path, "'%s' is not a time of day HH:MM", text);
            return;
        }
        *SLOT (base, field->offset, int) = h * 60 + m;
        return;
    }
    case F_MAP: s_parse_map (ctx, node, field->sub, base, path); return;
    default: break;
    }

    /*  Lists. */
    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (field->type == F_DAYS) {
        unsigned mask = 0;
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *item =
                yaml_document_get_node (ctx->doc, node->data.sequence.items.start[i]);
            int day =
                item->type == YAML_SCALAR_NODE ? odc_config_choice (s_days, s_scalar (item)) : -1;
            if (day < 0) {
                s_choices_text (s_days, choices, sizeof choices);
                s_error (ctx, s_line (item), path, "day %zu is not one of: %s", i + 1, choices);
                continue;
            }
            mask |= 1u << day;
        }
        *SLOT (base, field->offset, unsigned) = mask;
        return;
    }
    size_t elem = field->type == F_LIST       ? field->elem_size
                  : field->type == F_INT_LIST ? sizeof (int)
                                              : sizeof (char *);
    void **items = SLOT (base, field->offset, void *);
    size_t *slot_count = SLOT (base, field->count_offset, size_t);
    assert (*items == NULL || field->type == F_INT_LIST);
    free (*items);
    *items = count ? calloc (count, elem) : NULL;
    *slot_count = count;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node (ctx->doc, node->data.sequence.items.start[i]);
        char item_path[256];
        if (snprintf (item_path, sizeof item_path, "%s[%zu]", path, i) >= (int)sizeof item_path)
            item_path[sizeof item_path - 1] = 0; /* a long path is only cut short */
        void *at = (char *)*items + i * elem;
        if (field->type == F_LIST) {
            *SLOT (at, field->line_offset, int) = s_line (item);
            if (item->type != YAML_MAPPING_NODE)
                s_error (ctx, s_line (item), item_path, "expected a mapping, found %s",
                         s_kind (item));
            else
                s_parse_map (ctx, item, field->sub, at, item_path);
            continue;
        }
        if (item->type != YAML_SCALAR_NODE || !*s_scalar (item)) {
            s_error (ctx, s_line (item), item_path, "expected a non-empty value, found %s",
                     s_kind (item));
            continue;
        }
        if (field->type == F_STR_LIST) {
            if (field->choices && odc_config_choice (field->choices, s_scalar (item)) < 0) {
                s_choices_text (field->choices, choices, sizeof choices);
                s_error (ctx, s_line (item), item_path, "'%s' is not one of: %s", s_scalar (item),
                         choices);
            }
            *(char **)at = strdup (s_scalar (item));
            continue;
        }
        long v;
        if (!s_parse_long (s_scalar (item), &v) || v < field->min || v > field->max)
            s_error (ctx, s_line (item), item_path, "'%s' is not a whole number in [%ld, %ld]",
                     s_scalar (item), field->min, field->max);
        else
            *(int *)at = (int)v;
    }
}

static int
s_parse_map (s_ctx_t *ctx, yaml_node_t *node, const s_field_t *fields, void *base, const char *path)
{
    uint64_t seen = 0;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node (ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node (ctx->doc, pair->value);
        if (key->type != YAML_SCALAR_NODE) {
            s_error (ctx, s_line (key), path, "a key must be a plain name, found %s", s_kind (key));
            continue;
        }
        const char *name = s_scalar (key);
        char child[256];
        snprintf (child, sizeof child, "%s%s%s", path, *path ? "." : "", name);
        int found = -1;
        for (int i = 0; fields[i].key; i++)
            if (strcmp (fields[i].key, name) == 0)
                found = i;
        if (found < 0) {
            const char *best = NULL;
            size_t best_distance = 3;
            for (int i = 0; fields[i].key; i++) {
                size_t d = s_distance (name, fields[i].key);
                if (d < best_distance) {
                    best_distance = d;
                    best = fields[i].key;
                }
            }
            if (best)
                s_error (ctx, s_line (key), child, "unknown key (did you mean '%s'?)", best);
            else {
                char known[512] = "";
                for (int i = 0; fields[i].key; i++) {
                    strncat (known, i ? ", " : "", sizeof known - strlen (known) - 1);
                    strncat (known, fields[i].key, sizeof known - strlen (known) - 1);
                }
                s_error (ctx, s_line (key), child, "unknown key (known here: %s)", known);
            }
            continue;
        }
        if (seen & (1ull << found)) {
            s_error (ctx, s_line (key), child, "given twice");
            continue;
        }
        seen |= 1ull << found;
        s_parse_field (ctx, &fields[found], value, base, child);
    }
    /*  A secret inline and in a file: which one is meant? */
    for (int i = 0; fields[i].key; i++) {
        if (fields[i].type != F_SECRET_FILE || !(seen & (1ull << i)))
            continue;
        for (int j = 0; fields[j].key; j++)
            if (j != i && fields[j].type == F_STR && (seen & (1ull << j)) &&
                fields[j].offset == fields[i].offset) {
                char child[256];
                snprintf (child, sizeof child, "%s%s%s", path, *path ? "." : "", fields[i].key);
                s_error (ctx, s_line (node), child, "give '%s' or '%s', not both", fields[j].key,
                         fields[i].key);
            }
    }
    for (int i = 0; fields[i].key; i++)
        if (fields[i].required && !(seen & (1ull << i))) {
            char child[256];
            snprintf (child, sizeof child, "%s%s%s", path, *path ? "." : "", fields[i].key);
            s_error (ctx, s_line (node), child, "required key missing");
        }
    return 0;
}

static void
s_defaults (odc_config_t *self, const char *dir)
{
    self->log_level = strdup ("info");
    if (asprintf (&self->store_path, "%s/opendca-state", dir) == -1)
        self->store_path = NULL;
    self->store_sync = true;
    self->store_cache_mb = 1;
    self->outbox_max_mb = 256;
    self->portal_ports = (int *)malloc (2 * sizeof (int));
    self->portal_ports[0] = 5222;
    self->portal_ports[1] = 443;
    self->portal_port_count = 2;
    self->portal_compress = true;
    self->portal_meters_at = strdup ("02:00");
    self->snmp_timeout_ms = 1500;
    self->snmp_retries = 1;
    self->snmp_window_min = 16;
    self->snmp_window_max = 2048;
    static const odc_interval_t loops[ODC_LOOP_COUNT] = {
        {3, 15}, {10, 60}, {20, 240}, {60, 240}, {480, 480}};
    memcpy (self->loops, loops, sizeof loops);
    self->work_start = 8 * 60;
    self->work_end = 18 * 60;
    self->work_days = 0x1f; /* Monday to Friday */
    self->max_devices = 100000;
    self->max_open_files = 65536;
    self->clock_speed = 1;
    self->discovery_every_hours = 24;
    self->discovery_rate = 200;
    self->discovery_concurrency = 1024;
    self->discovery_timeout_ms = 2000;
    self->discovery_retries = 0;
    self->discovery_port = 161;
    self->discovery_max_addresses = ODC_SWEEP_MAX;
    self->registry_missing_after_hours = 24;
    self->validation_max_pages_per_minute = 200;
    self->validation_reset_below = 10000;
    self->triage_repeat_window_minutes = 10;
    self->triage_unreachable_passes = 5;
    self->supplies_request_days = 7;
    self->supplies_request_percent = 5;
    self->email_port = 587;
    self->email_timeout_seconds = 30;
}

bool
odc_config_address_ok (const char *text)
{
    unsigned char buffer[sizeof (struct in6_addr)];
    if (inet_pton (AF_INET, text, buffer) == 1 || inet_pton (AF_INET6, text, buffer) == 1)
        return true;
    /*  A DNS name: letters, digits, hyphens and dots, 253 at most. */
    size_t n = strlen (text);
    if (n == 0 || n > 253 || text[0] == '.' || text[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char)text[i]) && text[i] != '-' && text[i] != '.')
            return false;
    /*  All digits and dots is a broken IPv4 address, not a name. */
    return strspn (text, "0123456789.") != n;
}

/*  Whether text is a range, and how many addresses it holds (counted as
    odc_discover_target does: a network's own and broadcast addresses are
    not swept; a name is one). */
static bool
s_range_ok (const char *text, uint64_t *count)
{
    char copy[128];
    *count = 1;
    if (strlen (text) >= sizeof copy)
        return false;
    strcpy (copy, text);
    struct in_addr a, b;
    char *sep = strchr (copy, '/');
    if (sep) {
        *sep = 0;
        long bits;
        if (inet_pton (AF_INET, copy, &a) != 1 || !s_parse_long (sep + 1, &bits) || bits < 8 ||
            bits > 32)
            return false;
        *count = (uint64_t)1 << (32 - bits);
        if (bits <= 30)
            *count -= 2;
        return true;
    }
    sep = strchr (copy, '-');
    if (sep) {
        *sep = 0;
        if (inet_pton (AF_INET, copy, &a) != 1 || inet_pton (AF_INET, sep + 1, &b) != 1 ||
            ntohl (a.s_addr) > ntohl (b.s_addr))
            return false;
        *count = (uint64_t)ntohl (b.s_addr) - ntohl (a.s_addr) + 1;
        return true;
    }
    return odc_config_address_ok (text);
}

bool
odc_config_range_holds (const char *range, const char *address)
{
    struct in_addr x, a, b;
    if (inet_pton (AF_INET, address, &x) != 1)
        return strcmp (range, address) == 0;
    uint32_t v = ntohl (x.s_addr);
    char copy[128];
    if (strlen (range) >= sizeof copy)
        return false;
    strcpy (copy, range);
    char *sep = strchr (copy, '/');
    long bits;
    if (sep) {
        *sep = 0;
        if (inet_pton (AF_INET, copy, &a) != 1 || !s_parse_long (sep + 1, &bits) || bits < 0 ||
            bits > 32)
            return false;
        uint32_t mask = bits ? ~(uint32_t)0 << (32 - bits) : 0;
        return (v & mask) == (ntohl (a.s_addr) & mask);
    }
    sep = strchr (copy, '-');
    if (sep) {
        *sep = 0;
        return inet_pton (AF_INET, copy, &a) == 1 && inet_pton (AF_INET, sep + 1, &b) == 1 &&
               v >= ntohl (a.s_addr) && v <= ntohl (b.s_addr);
    }
    return inet_pton (AF_INET, copy, &a) == 1 && a.s_addr == x.s_addr;
}

/*  An e-mail address as a recipient or sender: local@domain, printable,
    no spaces, no angle brackets (they would break the SMTP envelope). */
static bool
s_email_ok (const char *text)
{
    const char *at = strrchr (text, '@');
    if (!at || at == text || !odc_config_address_ok (at + 1) || strlen (text) > 254)
        return false;
    for (const char *c = text; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>' || *c == ',' || *c == ';' ||
            (unsigned char)*c >= 0x7f)
            return false;
    return true;
}

/*  The destinations and rules of triage (issue 17): names that exist, and
    rules that can match. */
/*  supplies.requests: ranges that are ranges (the kinds are checked as
    they are read: odc_config_supply_kinds). */
static void
s_check_supply_requests (s_ctx_t *ctx, odc_config_t *self)
{
    for (size_t i = 0; i < self->supply_request_count; i++) {
        odc_supply_request_t *r = &self->supply_requests[i];
        char path[64];
        snprintf (path, sizeof path, "supplies.requests[%zu]", i);
        for (size_t k = 0; k < r->address_count; k++) {
            uint64_t count;
            if (r->addresses[k] && !s_range_ok (r->addresses[k], &count))
                s_error (ctx, r->line, path,
                         "'%s' is not a range (a.b.c.d/nn, a.b.c.d-e.f.g.h or an address)",
                         r->addresses[k]);
        }
    }
}

static void
s_check_routes (s_ctx_t *ctx, odc_config_t *self)
{
    for (size_t i = 0; i < self->destination_count; i++) {
        odc_destination_t *d = &self->destinations[i];
        char path[64];
        snprintf (path, sizeof path, "triage.destinations[%zu]", i);
        if (!d->name)
            continue;
        if (!strcmp (d->name, "record") || !strcmp (d->name, "portal"))
            s_error (ctx, d->line, path,
                     "'%s' is a destination every collector has: name it "
                     "in a rule, do not define it",
                     d->name);
        for (size_t j = 0; j < i; j++)
            if (self->destinations[j].name && !strcmp (self->destinations[j].name, d->name))
                s_error (ctx, d->line, path, "destination name '%s' used twice", d->name);
        if (d->type == ODC_DEST_RECORD || d->type == ODC_DEST_PORTAL)
            s_error (ctx, d->line, path, "type '%s' is built in (the destination '%s')",
                     s_dest_types[d->type], s_dest_types[d->type]);
        if (d->type == ODC_DEST_EMAIL) {
            if (!d->to_count)
                s_error (ctx, d->line, path, "an email destination needs 'to': its addresses");
            if (!self->email_server)
                s_error (ctx, d->line, path,
                         "an email destination needs triage.email (its server)");
            for (size_t k = 0; k < d->to_count; k++)
                if (d->to[k] && !s_email_ok (d->to[k])) {
                    char shown[ODC_TEXT_MAX + 1];
                    s_error (ctx, d->line, path, "'%s' is not an e-mail address",
                             odc_text_printable (shown, sizeof shown, d->to[k]));
                }
        }
        else if (d->to_count)
            s_error (ctx, d->line, path, "'to' is for email destinations");
        if (d->type == ODC_DEST_EXEC) {
            if (!d->command)
                s_error (ctx, d->line, path, "an exec destination needs 'command'");
            else if (access (d->command, X_OK) != 0)
                s_error (ctx, d->line, path, "command '%s' cannot be run: %s", d->command,
                         strerror (errno));
        }
        else if (d->command)
            s_error (ctx, d->line, path, "'command' is for exec destinations");
    }
    if (self->destination_count + 2 > ODC_DESTINATIONS_MAX)
        s_error (ctx, self->destinations[0].line, "triage.destinations",
                 "%zu destinations, more than the %d a collector takes", self->destination_count,
                 ODC_DESTINATIONS_MAX - 2);
    if (self->email_from && !s_email_ok (self->email_from)) {
        char shown[ODC_TEXT_MAX + 1];
        s_error (ctx, 1, "triage.email.from", "'%s' is not an e-mail address",
                 odc_text_printable (shown, sizeof shown, self->email_from));
    }
    for (size_t i = 0; i < self->rule_count; i++) {
        odc_route_rule_t *r = &self->rules[i];
        char path[128];
        if (r->name)
            snprintf (path, sizeof path, "triage.rules[%zu] (%.60s)", i, r->name);
        else
            snprintf (path, sizeof path, "triage.rules[%zu]", i);
        for (size_t k = 0; k < r->to_count; k++) {
            const char *to = r->to[k];
            bool known = to && (!strcmp (to, "record") || !strcmp (to, "portal"));
            for (size_t j = 0; to && !known && j < self->destination_count; j++)
                known = self->destinations[j].name && !strcmp (self->destinations[j].name, to);
            if (to && !known)
                s_error (ctx, r->line, path, "no destination named '%s' in triage.destinations",
                         to);
        }
        if (!r->to_count)
            s_error (ctx, r->line, path, "'to' names no destination");
        for (size_t k = 0; k < r->address_count; k++) {
            uint64_t count;
            if (r->addresses[k] && !s_range_ok (r->addresses[k], &count))
                s_error (ctx, r->line, path,
                         "'%s' is not a range (a.b.c.d/nn, a.b.c.d-e.f.g.h or an address)",
                         r->addresses[k]);
        }
        if (r->hours == 1 && !self->work_days)
            s_error (ctx, r->line, path, "can never match: 'hours: working' with no working days");
        if (r->hours == 2 && self->work_days == 0x7f && self->work_start == 0 &&
            self->work_end >= 24 * 60)
            s_error (ctx, r->line, path,
                     "can never match: 'hours: outside' and every hour is "
                     "a working hour");
        /*  A category and a code that never go together: the codes table
            is checked by opendca config check (it knows the codes). */
    }
}

/*  Checks that span several keys. */
static void
s_check (s_ctx_t *ctx, odc_config_t *self)
{
    for (size_t i = 0; i < self->credential_count; i++) {
        odc_credential_t *c = &self->credentials[i];
        char path[64];
        snprintf (path, sizeof path, "snmp.credentials[%zu]", i);
        if (!c->name)
            continue; /* already reported */
        for (size_t j = 0; j < i; j++)
            if (self->credentials[j].name && strcmp (self->credentials[j].name, c->name) == 0)
                s_error (ctx, c->line, path, "credential name '%s' used twice", c->name);
        if (c->version == 1 || c->version == 2) {
            if (!c->community)
                s_error (ctx, c->line, path, "SNMP v1/v2c needs 'community' or 'community_file'");
            if (c->user)
                s_error (ctx, c->line, path, "'user' is for SNMP v3 only");
        }
        else if (c->version == 3) {
            if (!c->user)
                s_error (ctx, c->line, path, "SNMP v3 needs 'user'");
            if (c->community)
                s_error (ctx, c->line, path, "'community' is for SNMP v1/v2c only");
            if (c->level >= 1 && (!c->auth_passphrase || strlen (c->auth_passphrase) < 8))
                s_error (ctx, c->line, path,
                         "level %s needs an auth passphrase of 8 or more characters",
                         s_levels[c->level]);
            if (c->level == 2 && (!c->priv_passphrase || strlen (c->priv_passphrase) < 8))
                s_error (ctx, c->line, path,
                         "level authPriv needs a priv passphrase of 8 or more characters");
        }
    }
    for (size_t i = 0; i < self->device_count; i++) {
        odc_device_config_t *d = &self->devices[i];
        char path[64];
        snprintf (path, sizeof path, "devices[%zu]", i);
        if (d->address && !odc_config_address_ok (d->address))
            s_error (ctx, d->line, path, "'%s' is not an IP address or DNS name", d->address);
        if (d->credential && !odc_config_credential (self, d->credential))
            s_error (ctx, d->line, path, "no credential named '%s' in snmp.credentials",
                     d->credential);
        if (!d->credential && self->credential_count)
            d->credential = strdup (self->credentials[0].name ? self->credentials[0].name : "");
        if (d->port == 0)
            d->port = 161;
    }
    uint64_t swept = 0; /* the ranges' addresses so far */
    for (size_t i = 0; i < self->range_count; i++) {
        odc_range_config_t *r = &self->ranges[i];
        char path[64];
        snprintf (path, sizeof path, "ranges[%zu]", i);
        uint64_t count = 0;
        if (r->range && !s_range_ok (r->range, &count))
            s_error (ctx, r->line, path,
                     "'%s' is not a range (a.b.c.d/nn with nn 8-32, a.b.c.d-e.f.g.h, an address or "
                     "a name)",
                     r->range);
        else if (r->range && count > (uint64_t)self->discovery_max_addresses)
            s_error (ctx, r->line, path,
                     "'%s' holds %llu addresses, more than discovery.max_addresses (%d) a sweep "
                     "takes: split it, or raise discovery.max_addresses",
                     r->range, (unsigned long long)count, self->discovery_max_addresses);
        else if (r->range) {
            uint64_t before = swept;
            swept += count;
            if (before <= (uint64_t)self->discovery_max_addresses &&
                swept > (uint64_t)self->discovery_max_addresses)
                s_error (ctx, r->line, path,
                         "the ranges hold %llu addresses together, more than "
                         "discovery.max_addresses (%d) a sweep takes",
                         (unsigned long long)swept, self->discovery_max_addresses);
        }
        for (size_t k = 0; k < r->credential_count; k++)
            if (r->credentials[k] && !odc_config_credential (self, r->credentials[k]))
                s_error (ctx, r->line, path, "no credential named '%s' in snmp.credentials",
                         r->credentials[k]);
    }
    s_check_routes (ctx, self);
    s_check_supply_requests (ctx, self);
    if (self->snmp_window_min > self->snmp_window_max)
        s_error (ctx, 1, "snmp.window_min", "is larger than snmp.window_max (%d > %d)",
                 self->snmp_window_min, self->snmp_window_max);
    if (self->work_start >= self->work_end)
        s_error (ctx, 1, "working_hours", "start must come before end");
    if (self->portal_port_count == 0)
        s_error (ctx, 1, "portal.ports", "needs at least one port");
    if (self->portal_meters_at) {
        int h, m;
        char extra;
        if (sscanf (self->portal_meters_at, "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 ||
            m < 0 || m > 59)
            s_error (ctx, 1, "portal.meters_at", "'%s' is not a time of day HH:MM",
                     self->portal_meters_at);
    }
}

static void
s_syntax_error (s_ctx_t *ctx, const yaml_parser_t *parser)
{
    fprintf (ctx->errors, "%s:%zu:%zu: YAML syntax error: %s%s%s\n", ctx->file,
             parser->problem_mark.line + 1, parser->problem_mark.column + 1,
             parser->problem ? parser->problem : "unknown", parser->context ? " " : "",
             parser->context ? parser->context : "");
    ctx->error_count++;
}

/*  The whole file, at most ODC_CONFIG_FILE_MAX bytes (read, not trusted
    to stat: a pipe or a device has no size); NULL with the error said. */
static unsigned char *
s_read_file (s_ctx_t *ctx, const char *file, size_t *size)
{
    FILE *in = fopen (file, "rb");
    if (!in) {
        s_error (ctx, 0, NULL, "cannot open: %s", strerror (errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    unsigned char *text = malloc (cap);
    while (text) {
        if (n == cap) {
            if (cap > ODC_CONFIG_FILE_MAX)
                break;
            cap *= 2;
            unsigned char *more = realloc (text, cap);
            if (!more) {
                free (text);
                text = NULL;
                break;
            }
            text = more;
        }
        size_t got = fread (text + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror (in);
    int err = errno;
    fclose (in);
    if (!text || failed) {
        s_error (ctx, 0, NULL, "cannot read: %s", text ? strerror (err) : "out of memory");
        free (text);
        return NULL;
    }
    if (n > ODC_CONFIG_FILE_MAX) {
        s_error (ctx, 1, NULL,
                 "the file is larger than %u MiB, the most a configuration may hold (put long "
                 "device lists in an import: opendca import devices)",
                 ODC_CONFIG_FILE_MAX >> 20);
        free (text);
        return NULL;
    }
    *size = n;
    return text;
}

/*  A pass over the file's events before it is loaded: refuses nesting
    deeper than ODC_CONFIG_DEPTH_MAX and any anchor or alias, at the line
    where it starts, and stops there (so a million-deep or anchor-laden
    file costs what it takes to reach the first offence). 0 when clean. */
static int
s_prescan (s_ctx_t *ctx, const unsigned char *text, size_t size)
{
    yaml_parser_t parser;
    yaml_parser_initialize (&parser);
    yaml_parser_set_input_string (&parser, text, size);
    int depth = 0, rc = 0;
    for (bool end = false; !end && rc == 0;) {
        yaml_event_t event;
        if (!yaml_parser_parse (&parser, &event)) {
            s_syntax_error (ctx, &parser);
            rc = -1;
            break;
        }
        int line = (int)event.start_mark.line + 1;
        const unsigned char *anchor = NULL;
        switch (event.type) {
        case YAML_STREAM_END_EVENT: end = true; break;
        case YAML_ALIAS_EVENT:
            s_error (ctx, line, NULL, "YAML aliases (*%s) are not taken here: write the value out",
                     (const char *)event.data.alias.anchor);
            rc = -1;
            break;
        case YAML_SCALAR_EVENT: anchor = event.data.scalar.anchor; break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor
                                                             : event.data.mapping_start.anchor;
            if (++depth > ODC_CONFIG_DEPTH_MAX) {
                s_error (ctx, line, NULL, "nested deeper than %d levels (the deepest key is 4)",
                         ODC_CONFIG_DEPTH_MAX);
                rc = -1;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: depth--; break;
        default: break;
        }
        if (anchor && rc == 0) {
            s_error (ctx, line, NULL, "YAML anchors (&%s) are not taken here: write the value out",
                     (const char *)anchor);
            rc = -1;
        }
        yaml_event_delete (&event);
    }
    yaml_parser_delete (&parser);
    return rc;
}

odc_config_t *
odc_config_load (const char *file, char **errors)
{
    s_ctx_t ctx = {0};
    ctx.file = file;
    ctx.errors = open_memstream (&ctx.error_text, &ctx.error_size);
    char *copy = strdup (file);
    ctx.dir = strdup (dirname (copy));
    free (copy);

    odc_config_t *self = (odc_config_t *)calloc (1, sizeof *self);
    self->refs = 1;
    self->file = strdup (file);
    s_defaults (self, ctx.dir);

    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    size_t size = 0;
    unsigned char *text = s_read_file (&ctx, file, &size);
    if (text && s_prescan (&ctx, text, size) == 0) {
        yaml_parser_initialize (&parser);
        yaml_parser_set_input_string (&parser, text, size);
        if (!yaml_parser_load (&parser, &doc))
            s_syntax_error (&ctx, &parser);
        else {
            have_doc = true;
            ctx.doc = &doc;
            yaml_node_t *root = yaml_document_get_root_node (&doc);
            if (!root)
                s_error (&ctx, 1, NULL, "the file is empty; 'collector.id' at least is required");
            else if (root->type != YAML_MAPPING_NODE)
                s_error (&ctx, s_line (root), NULL, "the top level must be a mapping of sections");
            else
                s_parse_map (&ctx, root, s_root, self, "");
        }
        yaml_parser_delete (&parser);
    }
    free (text);
    if (ctx.error_count == 0) {
        if (self->credential_count == 0) {
            /*  No credentials given: the usual factory default. */
            self->credentials = (odc_credential_t *)calloc (1, sizeof (odc_credential_t));
            self->credentials[0].name = strdup ("public");
            self->credentials[0].version = 2;
            self->credentials[0].community = strdup ("public");
            self->credential_count = 1;
        }
        s_check (&ctx, self);
    }
    if (have_doc)
        yaml_document_delete (&doc);
    fclose (ctx.errors);
    free (ctx.dir);
    if (ctx.error_count) {
        odc_config_destroy (&self);
        if (errors)
            *errors = ctx.error_text;
        else
            free (ctx.error_text);
        return NULL;
    }
    free (ctx.error_text);
    return self;
}

static void
s_free_strings (char **list, size_t count)
{
    for (size_t i = 0; list && i < count; i++)
        free (list[i]);
    free (list);
}

void
odc_config_replace (const odc_config_t **slot, const void *fresh)
{
    odc_config_t *old = (odc_config_t *)*slot;
    *slot = odc_config_ref (fresh);
    odc_config_destroy (&old);
}

const odc_config_t *
odc_config_ref (const odc_config_t *self)
{
    if (self)
        __atomic_add_fetch (&((odc_config_t *)self)->refs, 1, __ATOMIC_SEQ_CST);
    return self;
}

void
odc_config_destroy (odc_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_config_t *self = *self_p;
    *self_p = NULL;
    if (__atomic_sub_fetch (&self->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    free (self->file);
    free (self->collector_id);
    free (self->log_level);
    free (self->store_path);
    free (self->portal_jid);
    free (self->portal_password);
    free (self->portal_peer);
    free (self->portal_host);
    free (self->portal_ports);
    free (self->portal_ca_file);
    s_free_strings (self->portal_trusted, self->portal_trusted_count);
    free (self->portal_meters_at);
    for (size_t i = 0; i < self->credential_count; i++) {
        odc_credential_t *c = &self->credentials[i];
        free (c->name);
        free (c->community);
        free (c->user);
        free (c->auth_passphrase);
        free (c->priv_passphrase);
        free (c->context);
    }
    free (self->credentials);
    for (size_t i = 0; i < self->device_count; i++) {
        free (self->devices[i].address);
        free (self->devices[i].credential);
        free (self->devices[i].asset_number);
        free (self->devices[i].location);
    }
    free (self->devices);
    for (size_t i = 0; i < self->range_count; i++) {
        free (self->ranges[i].range);
        s_free_strings (self->ranges[i].credentials, self->ranges[i].credential_count);
    }
    free (self->ranges);
    for (size_t i = 0; i < self->destination_count; i++) {
        free (self->destinations[i].name);
        s_free_strings (self->destinations[i].to, self->destinations[i].to_count);
        free (self->destinations[i].command);
    }
    free (self->destinations);
    for (size_t i = 0; i < self->rule_count; i++) {
        odc_route_rule_t *r = &self->rules[i];
        free (r->name);
        s_free_strings (r->categories, r->category_count);
        s_free_strings (r->codes, r->code_count);
        s_free_strings (r->severities, r->severity_count);
        s_free_strings (r->addresses, r->address_count);
        s_free_strings (r->locations, r->location_count);
        s_free_strings (r->assets, r->asset_count);
        s_free_strings (r->to, r->to_count);
    }
    free (self->rules);
    for (size_t i = 0; i < self->supply_request_count; i++) {
        s_free_strings (self->supply_requests[i].kinds, self->supply_requests[i].kind_count);
        s_free_strings (self->supply_requests[i].addresses, self->supply_requests[i].address_count);
    }
    free (self->supply_requests);
    free (self->email_server);
    free (self->email_user);
    free (self->email_password);
    free (self->email_from);
    free (self->email_ca_file);
    free (self);
}

const odc_credential_t *
odc_config_credential (const odc_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->credential_count; i++)
        if (self->credentials[i].name && strcmp (self->credentials[i].name, name) == 0)
            return &self->credentials[i];
    return NULL;
}

bool
odc_config_in_hours (const odc_config_t *self, int weekday_mon0, int minute_of_day)
{
    return (self->work_days & (1u << weekday_mon0)) && minute_of_day >= self->work_start &&
           minute_of_day < self->work_end;
}

bool
odc_config_in_hours_at (const odc_config_t *self, double collector_s)
{
    time_t t = (time_t)collector_s;
    struct tm tm;
    localtime_r (&t, &tm);
    return odc_config_in_hours (self, (tm.tm_wday + 6) % 7, tm.tm_hour * 60 + tm.tm_min);
}

odc_clock_t
odc_config_clock (const odc_config_t *self)
{
    odc_clock_t c = {odc_wall_s (), 0, self ? self->clock_speed : 1};
    if (self && self->clock_epoch)
        c.epoch = (double)self->clock_epoch;
    c.start = self && self->clock_start ? (double)self->clock_start : c.epoch;
    return c;
}
