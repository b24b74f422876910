/*  sim_fleet: the simulated fleet: models, devices and their behaviour over
    simulated time, and the ground truth of every change made.

    A model is a base recording (sim_mib) plus what the simulator found in
    it: which values move (page counters, supply and tray levels, status,
    alerts, identity) and how (colour and large-format shares, volume,
    supply yields). Devices are small structs (about 300 bytes) that hold
    only what changes; everything else is read from the model.

    Time: simulated seconds since the epoch (UTC, also taken as the devices'
    local time). The fleet is stepped in ticks of SIM_TICK_S simulated seconds;
    each tick moves every device (pages printed, supplies used, alerts raised
    and cleared, replacements, refills) and writes what changed to the truth
    file as JSON lines. Single-threaded: the agent and the stepping share one
    thread, so no locks. */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_mib.h"

#define SIM_TICK_S       60
#define SIM_MAX_SUPPLIES 8
#define SIM_MAX_TRAYS    4
#define SIM_MAX_ALERTS   8

/*  What a variable's value follows. The names are the ones our model files
    use after "odc=" (NULL: found by OID only). */
typedef enum {
    SIM_ROLE_NONE = 0,
    SIM_ROLE_UPTIME,
    SIM_ROLE_SYSNAME,
    SIM_ROLE_SERIAL,
    SIM_ROLE_MAC,
    SIM_ROLE_DEVICE_STATUS,
    SIM_ROLE_PRINTER_STATUS,
    SIM_ROLE_ERROR_STATE,
    SIM_ROLE_CRITICAL_EVENTS,
    SIM_ROLE_ALL_EVENTS,
    SIM_ROLE_SUPPLY_LEVEL,
    SIM_ROLE_TRAY_LEVEL,
    SIM_ROLE_ALERT, /* a recorded alert row: hidden while behaviour runs */
    /* page counters */
    SIM_ROLE_TOTAL,
    SIM_ROLE_MONO,
    SIM_ROLE_COLOUR,
    SIM_ROLE_LARGE,
    SIM_ROLE_SMALL,
    SIM_ROLE_MONO_LARGE,
    SIM_ROLE_MONO_SMALL,
    SIM_ROLE_COLOUR_LARGE,
    SIM_ROLE_COLOUR_SMALL,
    SIM_ROLE_PRINT,
    SIM_ROLE_COPY,
    SIM_ROLE_DUPLEX,
    SIM_ROLE_A4, /* A4-equivalent: large pages count twice */
    SIM_ROLE_COUNT
} sim_role_t;

#define SIM_ROLE_IS_COUNTER(r) ((r) >= SIM_ROLE_TOTAL && (r) <= SIM_ROLE_A4)

extern const char *const sim_role_names[SIM_ROLE_COUNT];

typedef struct {
    int var;      /* index of the level in the mib */
    uint32_t row; /* prtMarkerSuppliesIndex: the number truth and ctl use */
    int32_t max;
    int cls;     /* 3 consumed, 4 receptacle */
    int type;    /* prtMarkerSuppliesType */
    bool colour; /* used by colour pages only */
    bool ink;
    uint32_t yield; /* pages from full to empty */
    char description[48];
} sim_supply_t;

typedef struct {
    int var;
    uint32_t row; /* prtInputIndex */
    int32_t max;
    char name[32];
} sim_tray_t;

typedef struct {
    sim_mib_t *mib;
    char name[64];
    double weight;
    uint32_t printer_index; /* hrDeviceIndex of the printer */
    double colour_share, large_share, duplex_share, copy_share;
    uint32_t volume; /* mean pages per working day */
    char serial_prefix[8];
    int supplies;
    sim_supply_t supply[SIM_MAX_SUPPLIES];
    int trays;
    sim_tray_t tray[SIM_MAX_TRAYS];
    uint32_t roles; /* bit r: a counter of role r is served */
} sim_model_t;

typedef enum {
    SIM_ALERT_JAM = 1,
    SIM_ALERT_DOOR,
    SIM_ALERT_SUPPLY_LOW,
    SIM_ALERT_SUPPLY_EMPTY,
    SIM_ALERT_TRAY_EMPTY,
    SIM_ALERT_SERVICE,
} sim_alert_kind_t;

typedef struct {
    uint32_t index;   /* prtAlertIndex */
    uint32_t time_cs; /* sysUpTime when raised */
    int64_t raised_s;
    int64_t clear_at; /* 0: held by its condition */
    uint16_t code;
    uint8_t group, group_index, severity, training, kind, slot;
    /*  Vendors' ways: 1 raise once more shortly after clearing; 2 a new
        row for the same jam every minute while it lasts (up to
        SIM_ROW_REPEATS more); 3 such a row. */
    uint8_t repeat;
    int64_t next_row_s; /* repeat 2: when the next row comes */
} sim_alert_t;
#define SIM_ROW_REPEATS 4

enum {
    SIM_DEV_OFFLINE = 1, /* never answers (--offline) */
    SIM_DEV_AWAY = 2,    /* taken off the network for a while */
    SIM_DEV_SLEEPER = 4, /* sleeps when idle */
    SIM_DEV_V3ONLY = 8,  /* answers SNMPv3 only (--v3-only) */
    SIM_DEV_STEPS = 16,  /* tells its supplies' levels in steps of a tenth (a third of the fleet) */
};

typedef struct {
    uint64_t rng;
    uint16_t model;
    uint16_t generation; /* replaced this many times */
    uint8_t flags;
    uint8_t alert_count;
    uint16_t error_state;
    int32_t slot;  /* address slot */
    uint32_t base; /* total counter when the simulation started */
    uint32_t pages, colour, large, duplex, copy;
    uint32_t large_colour; /* colour pages of the large ones */
    float acc;             /* pages not yet printed */
    float coverage;        /* its supplies' use per page, times the model's (0.5 .. 2) */
    int64_t boot_s;
    int64_t last_print_s;
    int64_t away_until;
    uint32_t alert_next;
    uint32_t all_events, critical_events;
    uint16_t supply[SIM_MAX_SUPPLIES];
    int64_t supply_due[SIM_MAX_SUPPLIES]; /* replacement time, 0 none */
    uint16_t tray[SIM_MAX_TRAYS];
    int64_t tray_due[SIM_MAX_TRAYS];
    sim_alert_t alerts[SIM_MAX_ALERTS];
} sim_device_t;

typedef struct {
    uint32_t devices;
    uint32_t first; /* first address, host order */
    uint64_t seed;
    double speed;
    int64_t start_s; /* simulated time at start */
    double offline_pct;
    double sleeper_pct;
    double v3_only_pct;    /* devices that answer SNMPv3 only */
    double change_pct;     /* devices changed per simulated day, percent */
    unsigned change_kinds; /* bit 0 move, 1 replace, 2 reset, 3 away (default all) */
    double night_share;    /* of a day's pages printed outside working hours (default 0.1) */
    bool behaviour;
    const char *truth_path;
} sim_fleet_options_t;

typedef struct {
    sim_fleet_options_t opt;
    sim_model_t *models;
    int model_count;
    double weight_sum;
    sim_device_t *devices;
    int32_t *slots;         /* address slot -> device, -1 empty */
    uint32_t *read_total;   /* device -> the total a counter read last served
                             since its last reset (what a collector can know) */
    uint32_t *reset_before; /* device -> read_total at a reset not yet read twice
                               (two passes) since; UINT32_MAX none */
    int64_t *reset_read_s;  /* device -> when the first read after it was; 0 none yet */
    uint32_t slot_count;    /* devices plus spare addresses for moves */
    int64_t sim_s;          /* stepped up to here */
    double real_start;
    FILE *truth;
    uint64_t truth_lines;
} sim_fleet_t;

/*  Models. A path ending in .snmprec is loaded as it is; a plain name is
    one of the built-in models (bench/models). NULL with *error. */
int sim_fleet_add_model (sim_fleet_t *self, const char *spec, const char *models_dir, char **error);

sim_fleet_t *sim_fleet_new (const sim_fleet_options_t *options);
/*  After the models: create the devices. -1 with *error. */
int sim_fleet_populate (sim_fleet_t *self, char **error);
void sim_fleet_destroy (sim_fleet_t **self_p);

/*  Simulated time now (from the real clock and the speed). */
int64_t sim_fleet_now (sim_fleet_t *self);
/*  Step the fleet towards now, for at most budget_ms of real time. Returns
    the milliseconds (real) until the next tick is due. */
int sim_fleet_advance (sim_fleet_t *self, int budget_ms);

/*  The device at an address (host order), NULL when none answers there. */
sim_device_t *sim_fleet_device_at (sim_fleet_t *self, uint32_t address);
uint32_t sim_fleet_address (sim_fleet_t *self, const sim_device_t *device);
bool sim_fleet_asleep (sim_fleet_t *self, const sim_device_t *device);

/*  The value of a dynamic variable for a device, into buf (which holds
    SIM_VALUE_MAX bytes). Returns the length; *type may change. -1 when the
    device has no such value right now (a sleeping device's counters). */
#define SIM_VALUE_MAX 256
int sim_fleet_value (sim_fleet_t *self, const sim_device_t *device, const sim_var_t *var,
                     uint8_t *type, uint8_t *buf);

/*  The simulated alert table: the first row OID > oid (len), written to
    out (SIM_OID_MAX), with its value. 0 when there is none. */
int sim_fleet_alert_next (sim_fleet_t *self, const sim_device_t *device, const uint32_t *oid,
                          size_t len, uint32_t *out, size_t *out_len, uint8_t *type, uint8_t *buf,
                          int *vlen);

/*  Inject a named event ("jam", "door", "service", "supply_low ROW",
    "supply_empty ROW", "replace_supply ROW", "tray_empty ROW" (rows as in
    prtMarkerSuppliesTable / prtInputTable), "clear", "move
    [ADDRESS]", "replace", "reset", "away", "back", "sleep", "wake").
    Returns NULL or an error text (static). */
const char *sim_fleet_inject (sim_fleet_t *self, uint32_t address, const char *event);

/*  Write the device's full current state as one JSON object. */
void sim_fleet_dump (sim_fleet_t *self, uint32_t address, FILE *out);

/*  Identity of a device, as served. */
void sim_fleet_serial (sim_fleet_t *self, const sim_device_t *device, char *out, size_t size);

#endif
