/*  sim_fleet: see sim_fleet.h. */
#include "sim_fleet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

const char *const sim_role_names[SIM_ROLE_COUNT] = {
    [SIM_ROLE_UPTIME] = "uptime",
    [SIM_ROLE_SYSNAME] = "sysname",
    [SIM_ROLE_SERIAL] = "serial",
    [SIM_ROLE_MAC] = "mac",
    [SIM_ROLE_TOTAL] = "total",
    [SIM_ROLE_MONO] = "mono",
    [SIM_ROLE_COLOUR] = "colour",
    [SIM_ROLE_LARGE] = "large",
    [SIM_ROLE_SMALL] = "small",
    [SIM_ROLE_MONO_LARGE] = "mono_large",
    [SIM_ROLE_MONO_SMALL] = "mono_small",
    [SIM_ROLE_COLOUR_LARGE] = "colour_large",
    [SIM_ROLE_COLOUR_SMALL] = "colour_small",
    [SIM_ROLE_PRINT] = "print",
    [SIM_ROLE_COPY] = "copy",
    [SIM_ROLE_DUPLEX] = "duplex",
    [SIM_ROLE_A4] = "a4",
};

/*  Standard OIDs the behaviour follows (PRINTER-MIB.md). */
static const uint32_t s_sys_uptime[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
static const uint32_t s_sys_name[] = {1, 3, 6, 1, 2, 1, 1, 5, 0};
static const uint32_t s_if_phys[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 6};
static const uint32_t s_hr_device_type[] = {1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 2};
static const uint32_t s_hr_printer_type[] = {1, 3, 6, 1, 2, 1, 25, 3, 1, 5};
static const uint32_t s_hr_device_status[] = {1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5};
static const uint32_t s_hr_printer_status[] = {1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1};
static const uint32_t s_hr_error_state[] = {1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2};
static const uint32_t s_prt_general[] = {1, 3, 6, 1, 2, 1, 43, 5, 1, 1};
static const uint32_t s_prt_life_count[] = {1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4};
static const uint32_t s_prt_supplies[] = {1, 3, 6, 1, 2, 1, 43, 11, 1, 1};
static const uint32_t s_prt_colorant_value[] = {1, 3, 6, 1, 2, 1, 43, 12, 1, 1, 4};
static const uint32_t s_prt_input[] = {1, 3, 6, 1, 2, 1, 43, 8, 2, 1};
static const uint32_t s_prt_alert[] = {1, 3, 6, 1, 2, 1, 43, 18, 1, 1};
#define LEN(a) (sizeof (a) / sizeof (a)[0])

/* ------------------------------------------------------------------------
   Randomness: a splitmix64 per device, seeded from the fleet seed and the
   device's index and generation, so a run is reproducible. */

static uint64_t
s_mix (uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t
s_next (uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return s_mix (*state);
}

/*  Uniform in [0, 1). */
static double
s_uniform (uint64_t *state)
{
    return (double)(s_next (state) >> 11) / 9007199254740992.0;
}

static int64_t
s_between (uint64_t *state, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(s_uniform (state) * (double)(hi - lo + 1));
}

/*  Round x up or down at random, keeping the mean. */
static uint32_t
s_round (uint64_t *state, double x)
{
    double f = floor (x);
    return (uint32_t)f + (s_uniform (state) < x - f);
}

/* ------------------------------------------------------------------------
   Models */

/*  The variable prefix.a.b[.c] (parts: how many of a, b, c), NULL if none. */
static const sim_var_t *
s_var (const sim_mib_t *mib, const uint32_t *prefix, size_t plen, uint32_t a, uint32_t b,
       uint32_t c, int parts)
{
    uint32_t oid[SIM_OID_MAX];
    memcpy (oid, prefix, plen * sizeof (uint32_t));
    oid[plen] = a;
    oid[plen + 1] = b;
    oid[plen + 2] = c;
    long i = sim_mib_find (mib, oid, plen + (size_t)parts);
    return i < 0 ? NULL : &mib->vars[i];
}

/*  An INTEGER cell of a Printer-MIB table (prefix.column.printer.row). */
static int64_t
s_cell (const sim_mib_t *mib, const uint32_t *prefix, size_t plen, uint32_t column, uint32_t px,
        uint32_t row, int64_t otherwise)
{
    const sim_var_t *v = s_var (mib, prefix, plen, column, px, row, 3);
    return v ? sim_var_int (v) : otherwise;
}

static void
s_string (const sim_var_t *var, char *out, size_t size)
{
    size_t n = 0;
    if (var && var->type == ASN_OCTET_STR)
        for (size_t i = 0; i < var->len && n + 1 < size; i++)
            if (isprint (var->value[i]))
                out[n++] = (char)var->value[i];
    out[n] = 0;
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = 0;
}

/*  "#odc key=value ..." lines in our model files. */
static void
s_directives (sim_model_t *model, const char *text)
{
    for (const char *line = text; line && *line; line = strchr (line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp (line, "#odc ", 5) != 0)
            continue;
        char buffer[512];
        size_t n = strcspn (line + 5, "\n");
        if (n >= sizeof buffer)
            n = sizeof buffer - 1;
        memcpy (buffer, line + 5, n);
        buffer[n] = 0;
        char *save = NULL;
        for (char *kv = strtok_r (buffer, " \t", &save); kv; kv = strtok_r (NULL, " \t", &save)) {
            char *eq = strchr (kv, '=');
            if (!eq)
                continue;
            *eq++ = 0;
            if (!strcmp (kv, "colour_share"))
                model->colour_share = atof (eq);
            else if (!strcmp (kv, "large_share"))
                model->large_share = atof (eq);
            else if (!strcmp (kv, "duplex_share"))
                model->duplex_share = atof (eq);
            else if (!strcmp (kv, "copy_share"))
                model->copy_share = atof (eq);
            else if (!strcmp (kv, "volume"))
                model->volume = (uint32_t)atol (eq);
            else if (!strcmp (kv, "serial_prefix"))
                snprintf (model->serial_prefix, sizeof model->serial_prefix, "%s", eq);
            else if (!strncmp (kv, "yield.", 6)) {
                int row = atoi (kv + 6);
                for (int s = 0; s < model->supplies; s++)
                    if (model->supply[s].row == (uint32_t)row)
                        model->supply[s].yield = (uint32_t)atol (eq);
            }
        }
    }
}

/*  Find what moves in a recording and mark it. */
static void
s_analyse (sim_model_t *model, const char *text)
{
    sim_mib_t *mib = model->mib;
    model->printer_index = 1;
    for (size_t i = 0; i < mib->count; i++) {
        sim_var_t *v = &mib->vars[i];
        if (v->oid_len == LEN (s_hr_device_type) + 1 &&
            sim_oid_has_prefix (v->oid, v->oid_len, s_hr_device_type, LEN (s_hr_device_type)) &&
            v->type == ASN_OBJECT_ID && v->len == LEN (s_hr_printer_type) * sizeof (oid)) {
            bool printer = true;
            for (size_t k = 0; k < LEN (s_hr_printer_type); k++)
                printer &= ((oid *)v->value)[k] == s_hr_printer_type[k];
            if (printer) {
                model->printer_index = v->oid[v->oid_len - 1];
                break;
            }
        }
    }
    uint32_t px = model->printer_index;
    bool any_colour = false;
    for (size_t i = 0; i < mib->count; i++) {
        sim_var_t *v = &mib->vars[i];
        if (v->role)
            continue; /* given by the model file */
        const uint32_t *o = v->oid;
        size_t n = v->oid_len;
        if (!sim_oid_compare (o, n, s_sys_uptime, LEN (s_sys_uptime)))
            v->role = SIM_ROLE_UPTIME;
        else if (!sim_oid_compare (o, n, s_sys_name, LEN (s_sys_name)))
            v->role = SIM_ROLE_SYSNAME;
        else if (n == LEN (s_if_phys) + 1 &&
                 sim_oid_has_prefix (o, n, s_if_phys, LEN (s_if_phys)) && v->len == 6 &&
                 memcmp (v->value, "\0\0\0\0\0\0", 6) != 0)
            v->role = SIM_ROLE_MAC;
        else if (n == LEN (s_hr_device_status) + 1 &&
                 sim_oid_has_prefix (o, n, s_hr_device_status, LEN (s_hr_device_status)) &&
                 o[n - 1] == px)
            v->role = SIM_ROLE_DEVICE_STATUS;
        else if (n == LEN (s_hr_printer_status) + 1 &&
                 sim_oid_has_prefix (o, n, s_hr_printer_status, LEN (s_hr_printer_status)) &&
                 o[n - 1] == px)
            v->role = SIM_ROLE_PRINTER_STATUS;
        else if (n == LEN (s_hr_error_state) + 1 &&
                 sim_oid_has_prefix (o, n, s_hr_error_state, LEN (s_hr_error_state)) &&
                 o[n - 1] == px)
            v->role = SIM_ROLE_ERROR_STATE;
        else if (n == LEN (s_prt_general) + 2 &&
                 sim_oid_has_prefix (o, n, s_prt_general, LEN (s_prt_general)) && o[n - 1] == px) {
            if (o[n - 2] == 17)
                v->role = SIM_ROLE_SERIAL;
            else if (o[n - 2] == 18)
                v->role = SIM_ROLE_CRITICAL_EVENTS;
            else if (o[n - 2] == 19)
                v->role = SIM_ROLE_ALL_EVENTS;
        }
        else if (n == LEN (s_prt_life_count) + 2 &&
                 sim_oid_has_prefix (o, n, s_prt_life_count, LEN (s_prt_life_count)) &&
                 o[n - 2] == px && o[n - 1] == 1 && v->type == ASN_COUNTER)
            v->role = SIM_ROLE_TOTAL;
        else if (sim_oid_has_prefix (o, n, s_prt_alert, LEN (s_prt_alert)))
            v->role = SIM_ROLE_ALERT;
        else if (n == LEN (s_prt_supplies) + 3 &&
                 sim_oid_has_prefix (o, n, s_prt_supplies, LEN (s_prt_supplies)) && o[n - 3] == 9 &&
                 o[n - 2] == px && v->type == ASN_INTEGER && model->supplies < SIM_MAX_SUPPLIES) {
            uint32_t row = o[n - 1];
            const uint32_t *sp = s_prt_supplies;
            size_t sl = LEN (s_prt_supplies);
            int64_t maxv = s_cell (mib, sp, sl, 8, px, row, -2);
            int64_t level = sim_var_int (v);
            if (maxv <= 0 || level < 0 || maxv > 65535)
                continue; /* sentinels stay as recorded: realistic */
            sim_supply_t *s = &model->supply[model->supplies];
            s->var = (int)i;
            s->row = row;
            s->max = (int32_t)maxv;
            s->cls = (int)s_cell (mib, sp, sl, 4, px, row, 3);
            s->type = (int)s_cell (mib, sp, sl, 5, px, row, 3);
            s_string (s_var (mib, sp, sl, 6, px, row, 3), s->description, sizeof s->description);
            if (!s->description[0])
                snprintf (s->description, sizeof s->description, "Supply %u", row);
            /*  Colour from the colorant, else from the name. */
            char colorant[48] = "";
            int64_t ci = s_cell (mib, sp, sl, 3, px, row, 0);
            if (ci > 0)
                s_string (s_var (mib, s_prt_colorant_value, LEN (s_prt_colorant_value), px,
                                 (uint32_t)ci, 0, 2),
                          colorant, sizeof colorant);
            char both[128];
            snprintf (both, sizeof both, "%s %s", colorant, s->description);
            for (char *p = both; *p; p++)
                *p = (char)tolower ((unsigned char)*p);
            s->colour =
                strstr (both, "cyan") || strstr (both, "magenta") || strstr (both, "yellow");
            any_colour |= s->colour;
            s->ink = s->type == 5 || s->type == 6 || strstr (both, "ink");
            bool toner = s->type == 3 || s->type == 5 || s->type == 6 || s->type == 21;
            s->yield = toner ? (s->ink ? 4000 : 8000) : 60000;
            v->role = SIM_ROLE_SUPPLY_LEVEL;
            v->arg = (uint16_t)model->supplies++;
        }
        else if (n == LEN (s_prt_input) + 3 &&
                 sim_oid_has_prefix (o, n, s_prt_input, LEN (s_prt_input)) && o[n - 3] == 10 &&
                 o[n - 2] == px && v->type == ASN_INTEGER && model->trays < SIM_MAX_TRAYS) {
            int64_t maxv = s_cell (mib, s_prt_input, LEN (s_prt_input), 9, px, o[n - 1], -2);
            if (maxv <= 0 || maxv > 65535 || sim_var_int (v) < 0)
                continue;
            sim_tray_t *t = &model->tray[model->trays];
            t->var = (int)i;
            t->row = o[n - 1];
            t->max = (int32_t)maxv;
            s_string (s_var (mib, s_prt_input, LEN (s_prt_input), 13, px, o[n - 1], 3), t->name,
                      sizeof t->name);
            if (!t->name[0])
                snprintf (t->name, sizeof t->name, "Tray %u", o[n - 1]);
            v->role = SIM_ROLE_TRAY_LEVEL;
            v->arg = (uint16_t)model->trays++;
        }
    }
    model->colour_share = any_colour ? 0.3 : 0.0;
    model->volume = 300;
    model->duplex_share = 0.3;
    model->copy_share = 0.2;
    snprintf (model->serial_prefix, sizeof model->serial_prefix, "SIM");
    s_directives (model, text);
}

int
sim_fleet_add_model (sim_fleet_t *self, const char *spec, const char *models_dir, char **error)
{
    char name[512];
    snprintf (name, sizeof name, "%s", spec);
    double weight = 1;
    char *colon = strrchr (name, ':');
    if (colon && colon[1] && strspn (colon + 1, "0123456789.") == strlen (colon + 1)) {
        weight = atof (colon + 1);
        *colon = 0;
    }
    if (weight <= 0) {
        *error = sim_format ("model %s: weight must be positive", spec);
        return -1;
    }
    char path[1024];
    size_t nl = strlen (name);
    if (nl > 8 && strcmp (name + nl - 8, ".snmprec") == 0)
        snprintf (path, sizeof path, "%s", name);
    else
        snprintf (path, sizeof path, "%s/%s.snmprec", models_dir, name);
    size_t size = 0;
    char *text = sim_read_file (path, &size);
    if (!text) {
        *error = sim_format ("model %s: cannot read %s: %s (built-in models are in %s)", spec, path,
                             strerror (errno), models_dir);
        return -1;
    }
    sim_mib_t *mib = sim_mib_parse (path, text, size, error);
    if (!mib) {
        free (text);
        return -1;
    }
    self->models = realloc (self->models, (size_t)(self->model_count + 1) * sizeof (sim_model_t));
    sim_model_t *model = &self->models[self->model_count++];
    memset (model, 0, sizeof *model);
    model->mib = mib;
    model->weight = weight;
    snprintf (model->name, sizeof model->name, "%s", mib->name);
    s_analyse (model, text);
    for (size_t i = 0; i < mib->count; i++)
        if (SIM_ROLE_IS_COUNTER (mib->vars[i].role))
            model->roles |= 1u << mib->vars[i].role;
    free (text);
    self->weight_sum += weight;
    return 0;
}

/* ------------------------------------------------------------------------
   The fleet */

static double
s_real_now (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

sim_fleet_t *
sim_fleet_new (const sim_fleet_options_t *options)
{
    sim_fleet_t *self = calloc (1, sizeof *self);
    self->opt = *options;
    return self;
}

static void s_truth (sim_fleet_t *self, const sim_device_t *d, int64_t t, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static void s_mac (sim_fleet_t *self, const sim_device_t *d, uint8_t mac[6]);

/*  Of pages printed, colour of them and large of them: how many were both
    (the colour share of the large ones), within what keeps every counter
    the simulator derives (mono large, mono small, colour small) from going
    down. */
static uint32_t
s_large_colour (const sim_model_t *m, uint32_t pages, uint32_t colour, uint32_t large)
{
    uint32_t lc = (uint32_t)((double)large * m->colour_share + 0.5);
    uint32_t low = large > pages - colour ? large - (pages - colour) : 0;
    uint32_t high = colour < large ? colour : large;
    return lc < low ? low : lc > high ? high : lc;
}

static void
s_device_init (sim_fleet_t *self, sim_device_t *d, uint32_t index, int64_t now)
{
    uint16_t generation = d->generation;
    int32_t slot = d->slot;
    uint8_t flags = d->flags & (SIM_DEV_OFFLINE | SIM_DEV_SLEEPER | SIM_DEV_V3ONLY | SIM_DEV_STEPS);
    uint16_t model_index = d->model;
    memset (d, 0, sizeof *d);
    d->generation = generation;
    d->slot = slot;
    d->flags = flags;
    d->model = model_index;
    d->rng = s_mix (self->opt.seed ^ s_mix (index) ^ ((uint64_t)generation << 48));
    const sim_model_t *m = &self->models[d->model];
    /*  Start counters anywhere from new to well used. */
    d->base = (uint32_t)s_between (&d->rng, 500, 400000);
    /*  A used device has used its colour, large-format, duplex and copy
        shares all along. */
    d->colour = (uint32_t)(d->base * m->colour_share);
    d->large = (uint32_t)(d->base * m->large_share);
    d->large_colour = s_large_colour (m, d->base, d->colour, d->large);
    d->duplex = (uint32_t)(d->base * m->duplex_share);
    d->copy = (uint32_t)(d->base * m->copy_share);
    d->boot_s = now - s_between (&d->rng, 600, 30 * 86400);
    d->last_print_s = now - s_between (&d->rng, 0, 3600);
    d->alert_next = (uint32_t)s_between (&d->rng, 1, 200);
    /*  A fleet holds supplies at every stage, some already low. */
    for (int s = 0; s < m->supplies; s++)
        d->supply[s] = (uint16_t)s_between (&d->rng, m->supply[s].max / 30 + 1, m->supply[s].max);
    for (int t = 0; t < m->trays; t++)
        d->tray[t] = (uint16_t)s_between (&d->rng, m->tray[t].max / 4, m->tray[t].max);
    /*  Customers' pages differ: a quarter of the toner on one, twice on
        another (log-uniform between half and twice the model's). */
    d->coverage = (float)exp2 (2 * s_uniform (&d->rng) - 1);
}

int
sim_fleet_populate (sim_fleet_t *self, char **error)
{
    if (self->model_count == 0) {
        *error = sim_format ("no model");
        return -1;
    }
    uint32_t n = self->opt.devices;
    if (n == 0 || (uint64_t)self->opt.first + n + n / 10 + 16 > 0x7fffffffull + 0x7f000000ull) {
        *error = sim_format ("--devices %u does not fit in 127.0.0.0/8 from the first address", n);
        return -1;
    }
    self->slot_count = n + n / 10 + 16;
    if (((self->opt.first + self->slot_count - 1) >> 24) != 127 || (self->opt.first >> 24) != 127) {
        *error = sim_format ("the fleet (%u addresses with room for moves) must lie in 127.0.0.0/8",
                             self->slot_count);
        return -1;
    }
    self->devices = calloc (n, sizeof (sim_device_t));
    self->slots = malloc (self->slot_count * sizeof (int32_t));
    self->read_total = calloc (n, sizeof (uint32_t));
    self->reset_before = malloc (n * sizeof (uint32_t));
    self->reset_read_s = calloc (n, sizeof (int64_t));
    if (!self->devices || !self->slots || !self->read_total || !self->reset_before ||
        !self->reset_read_s) {
        *error = sim_format ("out of memory for %u devices", n);
        return -1;
    }
    self->real_start = s_real_now ();
    self->sim_s = self->opt.start_s - self->opt.start_s % SIM_TICK_S;
    for (uint32_t s = 0; s < self->slot_count; s++)
        self->slots[s] = s < n ? (int32_t)s : -1;
    for (uint32_t i = 0; i < n; i++)
        self->reset_before[i] = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        sim_device_t *d = &self->devices[i];
        uint64_t h = s_mix (self->opt.seed * 31 + i);
        double pick = (double)(h >> 11) / 9007199254740992.0 * self->weight_sum;
        int m = 0;
        while (m + 1 < self->model_count && pick >= self->models[m].weight) {
            pick -= self->models[m].weight;
            m++;
        }
        d->model = (uint16_t)m;
        d->slot = (int32_t)i;
        uint64_t h2 = s_mix (h);
        if ((double)(h2 % 10000) < self->opt.offline_pct * 100)
            d->flags |= SIM_DEV_OFFLINE;
        if ((double)(s_mix (h2) % 10000) < self->opt.sleeper_pct * 100)
            d->flags |= SIM_DEV_SLEEPER;
        if ((double)(s_mix (h2 ^ 0x5633) % 10000) < self->opt.v3_only_pct * 100)
            d->flags |= SIM_DEV_V3ONLY;
        if (s_mix (h2 ^ 0x57e9) % 3 == 0)
            d->flags |= SIM_DEV_STEPS;
        s_device_init (self, d, i, self->opt.start_s);
    }
    if (self->opt.truth_path) {
        self->truth = fopen (self->opt.truth_path, "w");
        if (!self->truth) {
            *error = sim_format ("--truth %s: cannot write", self->opt.truth_path);
            return -1;
        }
        /*  The fleet as it starts: what discovery should find. */
        for (uint32_t i = 0; i < n; i++) {
            sim_device_t *d = &self->devices[i];
            uint8_t mac[6];
            s_mac (self, d, mac);
            s_truth (
                self, d, self->opt.start_s,
                "\"event\":\"present\",\"model\":\"%s\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
                "\"offline\":%s,\"v3_only\":%s,\"coverage\":%.3f,\"steps\":%d",
                self->models[d->model].name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
                d->flags & SIM_DEV_OFFLINE ? "true" : "false",
                d->flags & SIM_DEV_V3ONLY ? "true" : "false", d->coverage,
                d->flags & SIM_DEV_STEPS ? 10 : 0);
        }
        fflush (self->truth);
    }
    return 0;
}

void
sim_fleet_destroy (sim_fleet_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_fleet_t *self = *self_p;
    for (int m = 0; m < self->model_count; m++)
        sim_mib_destroy (&self->models[m].mib);
    free (self->models);
    free (self->devices);
    free (self->slots);
    free (self->read_total);
    free (self->reset_before);
    free (self->reset_read_s);
    if (self->truth)
        fclose (self->truth);
    free (self);
    *self_p = NULL;
}

int64_t
sim_fleet_now (sim_fleet_t *self)
{
    return self->opt.start_s + (int64_t)((s_real_now () - self->real_start) * self->opt.speed);
}

uint32_t
sim_fleet_address (sim_fleet_t *self, const sim_device_t *device)
{
    return self->opt.first + (uint32_t)device->slot;
}

sim_device_t *
sim_fleet_device_at (sim_fleet_t *self, uint32_t address)
{
    if (address < self->opt.first || address - self->opt.first >= self->slot_count)
        return NULL;
    int32_t i = self->slots[address - self->opt.first];
    if (i < 0)
        return NULL;
    sim_device_t *d = &self->devices[i];
    if (d->flags & (SIM_DEV_OFFLINE | SIM_DEV_AWAY))
        return NULL;
    return d;
}

bool
sim_fleet_asleep (sim_fleet_t *self, const sim_device_t *device)
{
    return self->opt.behaviour && (device->flags & SIM_DEV_SLEEPER) &&
           self->sim_s - device->last_print_s > 1800;
}

/* ------------------------------------------------------------------------
   Identity */

void
sim_fleet_serial (sim_fleet_t *self, const sim_device_t *d, char *out, size_t size)
{
    static const char digits[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    uint64_t h = s_mix (self->opt.seed ^ s_mix ((uint64_t)(d - self->devices) + 1) ^
                        ((uint64_t)d->generation << 40));
    char tail[9];
    for (int i = 0; i < 8; i++) {
        tail[i] = digits[h % 34];
        h /= 34;
    }
    tail[8] = 0;
    snprintf (out, size, "%s%s", self->models[d->model].serial_prefix, tail);
}

static void
s_mac (sim_fleet_t *self, const sim_device_t *d, uint8_t mac[6])
{
    uint64_t h = s_mix (self->opt.seed + 77 + s_mix ((uint64_t)(d - self->devices)) +
                        ((uint64_t)d->generation << 32));
    mac[0] = 0x00;
    mac[1] = 0x1b;
    for (int i = 2; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * i));
}

/* ------------------------------------------------------------------------
   Truth */

static void
s_truth (sim_fleet_t *self, const sim_device_t *d, int64_t t, const char *fmt, ...)
{
    if (!self->truth)
        return;
    char when[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r (&tt, &tm);
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char serial[32], address[INET_ADDRSTRLEN];
    sim_fleet_serial (self, d, serial, sizeof serial);
    struct in_addr a = {htonl (sim_fleet_address (self, d))};
    inet_ntop (AF_INET, &a, address, sizeof address);
    fprintf (self->truth,
             "{\"t\":\"%s\",\"sim_s\":%lld,\"device\":\"%s\",\"index\":%ld,\"serial\":\"%s\",",
             when, (long long)t, address, (long)(d - self->devices), serial);
    va_list ap;
    va_start (ap, fmt);
    vfprintf (self->truth, fmt, ap);
    va_end (ap);
    fputs ("}\n", self->truth);
    self->truth_lines++;
}

/* ------------------------------------------------------------------------
   Alerts */

static void
s_alert_text (sim_fleet_t *self, const sim_device_t *d, const sim_alert_t *a, char *out,
              size_t size)
{
    const sim_model_t *m = &self->models[d->model];
    switch (a->kind) {
    case SIM_ALERT_JAM: snprintf (out, size, "Paper jam"); break;
    case SIM_ALERT_DOOR: snprintf (out, size, "Front door open"); break;
    case SIM_ALERT_SERVICE:
        snprintf (out, size, "Service call: fuser error C%u", 5000 + a->slot);
        break;
    case SIM_ALERT_SUPPLY_LOW:
        snprintf (out, size, m->supply[a->slot].cls == 4 ? "%s almost full" : "%s low",
                  m->supply[a->slot].description);
        break;
    case SIM_ALERT_SUPPLY_EMPTY:
        snprintf (out, size, m->supply[a->slot].cls == 4 ? "%s full" : "%s empty",
                  m->supply[a->slot].description);
        break;
    case SIM_ALERT_TRAY_EMPTY: snprintf (out, size, "%s empty", m->tray[a->slot].name); break;
    default: snprintf (out, size, "Alert"); break;
    }
}

static int
s_alert_find (const sim_device_t *d, int kind, int slot)
{
    for (int i = 0; i < d->alert_count; i++)
        if (d->alerts[i].kind == kind && (slot < 0 || d->alerts[i].slot == slot))
            return i;
    return -1;
}

static void s_update_status (sim_fleet_t *self, sim_device_t *d);

static uint32_t
s_uptime_cs (const sim_device_t *d, int64_t t)
{
    return (uint32_t)((uint64_t)(t - d->boot_s) * 100u);
}

static void
s_raise (sim_fleet_t *self, sim_device_t *d, int64_t t, int kind, int slot, int64_t clear_at)
{
    if (s_alert_find (d, kind, slot) >= 0 || d->alert_count == SIM_MAX_ALERTS)
        return;
    const sim_model_t *m = &self->models[d->model];
    sim_alert_t *a = &d->alerts[d->alert_count++];
    memset (a, 0, sizeof *a);
    a->index = d->alert_next++;
    a->time_cs = s_uptime_cs (d, t);
    a->raised_s = t;
    a->clear_at = clear_at;
    a->kind = (uint8_t)kind;
    a->slot = (uint8_t)slot;
    a->training = 3;
    a->group_index = 1;
    switch (kind) {
    case SIM_ALERT_JAM: a->code = 8, a->group = 13, a->severity = 3; break;
    case SIM_ALERT_DOOR: a->code = 501, a->group = 6, a->severity = 3; break;
    case SIM_ALERT_SERVICE: a->code = 30, a->group = 5, a->severity = 3, a->training = 5; break;
    case SIM_ALERT_SUPPLY_LOW:
        a->code = m->supply[slot].cls == 4 ? 1107 : m->supply[slot].ink ? 1105 : 1104;
        a->group = 11, a->severity = 4, a->group_index = (uint8_t)(slot + 1);
        break;
    case SIM_ALERT_SUPPLY_EMPTY:
        a->code = m->supply[slot].cls == 4 ? 1109 : m->supply[slot].ink ? 1102 : 1101;
        a->group = 11, a->severity = 3, a->group_index = (uint8_t)(slot + 1);
        break;
    case SIM_ALERT_TRAY_EMPTY:
        a->code = 808, a->group = 8, a->severity = 4, a->group_index = (uint8_t)(slot + 1);
        break;
    }
    d->all_events++;
    if (a->severity == 3)
        d->critical_events++;
    char text[96];
    s_alert_text (self, d, a, text, sizeof text);
    s_truth (self, d, t,
             "\"event\":\"alert_raised\",\"code\":%u,\"severity\":%u,\"group\":%u,"
             "\"alert_index\":%u,\"text\":\"%s\"",
             a->code, a->severity, a->group, a->index, text);
    s_update_status (self, d);
}

static void
s_clear (sim_fleet_t *self, sim_device_t *d, int64_t t, int i)
{
    sim_alert_t a = d->alerts[i];
    memmove (&d->alerts[i], &d->alerts[i + 1], (size_t)(d->alert_count - i - 1) * sizeof a);
    d->alert_count--;
    char text[96];
    s_alert_text (self, d, &a, text, sizeof text);
    s_truth (self, d, t,
             "\"event\":\"alert_cleared\",\"code\":%u,\"alert_index\":%u,\"text\":\"%s\","
             "\"duration_s\":%lld",
             a.code, a.index, text, (long long)(t - a.raised_s));
    /*  Vendors repeat some events: the same jam once more, a minute on. */
    if (a.repeat == 1 && self->opt.behaviour) {
        int64_t clear_at = t + s_between (&d->rng, 60, 180);
        s_raise (self, d, t, a.kind, a.slot, clear_at);
    }
    s_update_status (self, d);
}

static void
s_update_status (sim_fleet_t *self, sim_device_t *d)
{
    const sim_model_t *m = &self->models[d->model];
    uint16_t bits = 0; /* bit 0 = 0x8000 (first octet's high bit) */
    for (int i = 0; i < d->alert_count; i++) {
        const sim_alert_t *a = &d->alerts[i];
        int bit = -1;
        switch (a->kind) {
        case SIM_ALERT_JAM: bit = 5; break;
        case SIM_ALERT_DOOR: bit = 4; break;
        case SIM_ALERT_SERVICE: bit = 7; break;
        case SIM_ALERT_SUPPLY_LOW: bit = m->supply[a->slot].cls == 4 ? 11 : 2; break;
        case SIM_ALERT_SUPPLY_EMPTY: bit = m->supply[a->slot].cls == 4 ? 12 : 3; break;
        case SIM_ALERT_TRAY_EMPTY: bit = 13; break;
        }
        if (bit >= 0)
            bits |= (uint16_t)(0x8000u >> bit);
    }
    d->error_state = bits;
}

/*  A maker that adds a row for an open jam every minute (one condition,
    many rows: triage must tell it once, with its repeats). The rows come
    and go with the jam; the truth tells each as "alert_row", not as an
    alert of its own. */
static void
s_repeat_rows (sim_fleet_t *self, sim_device_t *d, int64_t t)
{
    int count = d->alert_count;
    for (int i = 0; i < count; i++) {
        sim_alert_t *a = &d->alerts[i];
        if (a->repeat != 2 || t < a->next_row_s || d->alert_count == SIM_MAX_ALERTS)
            continue;
        int rows = 0;
        for (int k = 0; k < d->alert_count; k++)
            rows += d->alerts[k].repeat == 3 && d->alerts[k].kind == a->kind &&
                    d->alerts[k].clear_at == a->clear_at;
        if (rows >= SIM_ROW_REPEATS)
            continue;
        a->next_row_s = t + 60;
        sim_alert_t *r = &d->alerts[d->alert_count++];
        *r = *a;
        r->repeat = 3;
        r->index = d->alert_next++;
        r->time_cs = s_uptime_cs (d, t);
        r->raised_s = t;
        d->all_events++;
        if (r->severity == 3)
            d->critical_events++;
        char text[96];
        s_alert_text (self, d, r, text, sizeof text);
        s_truth (self, d, t,
                 "\"event\":\"alert_row\",\"code\":%u,\"alert_index\":%u,\"text\":\"%s\"", r->code,
                 r->index, text);
    }
}

/* ------------------------------------------------------------------------
   Stepping */

static bool
s_working (int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r (&tt, &tm);
    return tm.tm_wday >= 1 && tm.tm_wday <= 5 && tm.tm_hour >= 8 && tm.tm_hour < 18;
}

/*  The true use of supply s of d: percent of it per 1,000 pages. */
static double
s_per_kpage (const sim_model_t *m, const sim_device_t *d, int s)
{
    return 100.0 * 1000 / m->supply[s].yield * d->coverage;
}

static void
s_replace_supply (sim_fleet_t *self, sim_device_t *d, int64_t t, int s)
{
    const sim_model_t *m = &self->models[d->model];
    d->supply[s] = (uint16_t)m->supply[s].max;
    d->supply_due[s] = 0;
    int i;
    while ((i = s_alert_find (d, SIM_ALERT_SUPPLY_EMPTY, s)) >= 0)
        s_clear (self, d, t, i);
    while ((i = s_alert_find (d, SIM_ALERT_SUPPLY_LOW, s)) >= 0)
        s_clear (self, d, t, i);
    s_truth (self, d, t,
             "\"event\":\"supply_replaced\",\"supply\":%u,\"text\":\"%s\",\"per_kpage\":%.3f",
             m->supply[s].row, m->supply[s].description, s_per_kpage (m, d, s));
}

static void
s_refill_tray (sim_fleet_t *self, sim_device_t *d, int64_t t, int k)
{
    const sim_model_t *m = &self->models[d->model];
    d->tray[k] = (uint16_t)m->tray[k].max;
    d->tray_due[k] = 0;
    int i;
    while ((i = s_alert_find (d, SIM_ALERT_TRAY_EMPTY, k)) >= 0)
        s_clear (self, d, t, i);
    s_truth (self, d, t, "\"event\":\"tray_refilled\",\"tray\":%u,\"text\":\"%s\"", m->tray[k].row,
             m->tray[k].name);
}

/*  Use up to `pages` of a supply; raise its low / empty alerts. */
static void
s_use_supply (sim_fleet_t *self, sim_device_t *d, int64_t t, int s, uint32_t pages)
{
    const sim_supply_t *sup = &self->models[d->model].supply[s];
    if (!pages || !d->supply[s])
        return;
    uint32_t used = s_round (&d->rng, (double)pages * sup->max / sup->yield * d->coverage);
    d->supply[s] = used >= d->supply[s] ? 0 : (uint16_t)(d->supply[s] - used);
    if (d->supply[s] * 10 <= sup->max && s_alert_find (d, SIM_ALERT_SUPPLY_LOW, s) < 0 &&
        s_alert_find (d, SIM_ALERT_SUPPLY_EMPTY, s) < 0) {
        s_raise (self, d, t, SIM_ALERT_SUPPLY_LOW, s, 0);
        /*  Half the customers change a supply once it says low, within
            hours or days; the others wait until it is empty. */
        if (!d->supply_due[s] && s_uniform (&d->rng) < 0.5)
            d->supply_due[s] = t + s_between (&d->rng, 2 * 3600, 3 * 86400);
    }
    if (d->supply[s] == 0) {
        /*  The truth forecasts are judged by: the moment it ran out. */
        s_truth (self, d, t,
                 "\"event\":\"supply_out\",\"supply\":%u,\"text\":\"%s\",\"per_kpage\":%.3f",
                 sup->row, sup->description, s_per_kpage (&self->models[d->model], d, s));
        int i = s_alert_find (d, SIM_ALERT_SUPPLY_LOW, s);
        if (i >= 0)
            s_clear (self, d, t, i);
        s_raise (self, d, t, SIM_ALERT_SUPPLY_EMPTY, s, 0);
        if (!d->supply_due[s])
            d->supply_due[s] = t + s_between (&d->rng, 1800, 2 * 86400);
    }
}

static void s_change (sim_fleet_t *self, sim_device_t *d, int64_t t, const char *what, uint32_t to);

static void
s_step (sim_fleet_t *self, sim_device_t *d, int64_t t)
{
    if (d->flags & SIM_DEV_OFFLINE)
        return;
    if ((d->flags & SIM_DEV_AWAY) && d->away_until && t >= d->away_until)
        s_change (self, d, t, "back", 0);
    const sim_model_t *m = &self->models[d->model];
    /*  Pages: most in working hours. The device's own volume is its
        model's mean times a factor between 0.2 and 3 fixed by its seed. */
    double factor =
        0.2 +
        2.8 * (double)(s_mix ((uint64_t)(d - self->devices) ^ self->opt.seed) % 1000) / 1000.0;
    double per_day = m->volume * factor;
    double night = self->opt.night_share;
    double rate = s_working (t) ? per_day * (1 - night) / 36000.0 : per_day * night / 126000.0;
    d->acc += (float)(rate * SIM_TICK_S * (0.5 + s_uniform (&d->rng)));
    uint32_t pages = (uint32_t)d->acc;
    d->acc -= (float)pages;
    bool jammed = s_alert_find (d, SIM_ALERT_JAM, -1) >= 0 ||
                  s_alert_find (d, SIM_ALERT_DOOR, -1) >= 0 ||
                  s_alert_find (d, SIM_ALERT_SERVICE, -1) >= 0;
    if (jammed)
        pages = 0; /* stopped */
    if (pages) {
        uint32_t colour = s_round (&d->rng, pages * m->colour_share);
        uint32_t large = s_round (&d->rng, pages * m->large_share);
        d->pages += pages;
        d->colour += colour;
        d->large += large;
        d->large_colour += s_large_colour (m, pages, colour, large);
        d->duplex += s_round (&d->rng, pages * m->duplex_share);
        d->copy += s_round (&d->rng, pages * m->copy_share);
        d->last_print_s = t;
        for (int s = 0; s < m->supplies; s++)
            s_use_supply (self, d, t, s, m->supply[s].colour ? colour : pages);
        /*  Sheets from the first tray mostly. */
        if (m->trays) {
            int k = m->trays > 1 && s_uniform (&d->rng) < 0.25 ? 1 : 0;
            uint32_t sheets = pages;
            d->tray[k] = sheets >= d->tray[k] ? 0 : (uint16_t)(d->tray[k] - sheets);
            if (d->tray[k] == 0) {
                s_raise (self, d, t, SIM_ALERT_TRAY_EMPTY, k, 0);
                if (!d->tray_due[k])
                    d->tray_due[k] = t + s_between (&d->rng, 300, 4 * 3600);
            }
        }
        /*  A jam every 3,000 pages or so; one in five repeats. */
        if (s_uniform (&d->rng) < pages / 3000.0) {
            s_raise (self, d, t, SIM_ALERT_JAM, 0, t + s_between (&d->rng, 120, 1800));
            int i = s_alert_find (d, SIM_ALERT_JAM, -1);
            double u = s_uniform (&d->rng);
            if (i >= 0 && u < 0.2) {
                /*  Half raise it again a minute after it cleared, half add
                    a row for it every minute while it lasts. */
                d->alerts[i].repeat = u < 0.1 ? 1 : 2;
                d->alerts[i].next_row_s = t + 60;
            }
        }
    }
    /*  Doors: about once a month; service calls: about twice a year. */
    if (s_uniform (&d->rng) < SIM_TICK_S / (30.0 * 86400))
        s_raise (self, d, t, SIM_ALERT_DOOR, 0, t + s_between (&d->rng, 60, 900));
    if (s_uniform (&d->rng) < SIM_TICK_S / (180.0 * 86400))
        s_raise (self, d, t, SIM_ALERT_SERVICE, 0, t + s_between (&d->rng, 4 * 3600, 2 * 86400));
    for (int i = 0; i < d->alert_count; i++)
        if (d->alerts[i].clear_at && t >= d->alerts[i].clear_at)
            s_clear (self, d, t, i--);
    s_repeat_rows (self, d, t);
    for (int s = 0; s < m->supplies; s++)
        if (d->supply_due[s] && t >= d->supply_due[s])
            s_replace_supply (self, d, t, s);
    for (int k = 0; k < m->trays; k++)
        if (d->tray_due[k] && t >= d->tray_due[k])
            s_refill_tray (self, d, t, k);
    if (self->opt.change_pct > 0 &&
        s_uniform (&d->rng) < self->opt.change_pct / 100.0 * SIM_TICK_S / 86400.0) {
        static const char *const changes[] = {"move", "replace", "reset", "away"};
        uint32_t pick = (uint32_t)(s_next (&d->rng) % 4);
        /*  The kinds asked for (--change-kinds): the next one allowed. */
        for (int k = 0; k < 4 && !(self->opt.change_kinds & (1u << pick)); k++)
            pick = (pick + 1) % 4;
        if (self->opt.change_kinds & (1u << pick))
            s_change (self, d, t, changes[pick], 0);
    }
}

/*  The canonical meters a model's counters state (issue 16), as JSON
    members into out: a meter is there when the model serves a counter of
    it, or the counters it is the sum of (mono: mono large + mono small),
    never otherwise. */
static void
s_meters_json (const sim_model_t *m, const sim_device_t *d, char *out, size_t size)
{
#define HAS(r) (m->roles & (1u << SIM_ROLE_##r))
    uint32_t total = d->base + d->pages, mono = total - d->colour;
    bool large = HAS (LARGE) || (HAS (MONO_LARGE) && HAS (COLOUR_LARGE));
    bool small = HAS (SMALL) || (HAS (MONO_SMALL) && HAS (COLOUR_SMALL));
    struct {
        const char *name;
        bool has;
        uint32_t value;
    } meters[] = {
        {"total", HAS (TOTAL), total},
        {"mono", HAS (MONO) || (HAS (MONO_LARGE) && HAS (MONO_SMALL)), mono},
        {"colour", HAS (COLOUR) || (HAS (COLOUR_LARGE) && HAS (COLOUR_SMALL)), d->colour},
        {"large", large || (HAS (A4) && HAS (TOTAL)), d->large},
        {"small", small || (HAS (TOTAL) && (large || HAS (A4))), total - d->large},
        {"a4_equivalent", HAS (A4) || (HAS (TOTAL) && large), total + d->large},
        {"duplex", HAS (DUPLEX), d->duplex},
        {"copy", HAS (COPY), d->copy},
        {"print", HAS (PRINT), total - d->copy},
    };
#undef HAS
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof meters / sizeof meters[0] && used < size; i++)
        if (meters[i].has)
            used += (size_t)snprintf (out + used, size - used, "%s\"%s\":%u", used ? "," : "",
                                      meters[i].name, meters[i].value);
}

static void
s_day_end (sim_fleet_t *self, int64_t t)
{
    for (uint32_t i = 0; i < self->opt.devices; i++) {
        sim_device_t *d = &self->devices[i];
        if (d->flags & SIM_DEV_OFFLINE)
            continue;
        char meters[400];
        s_meters_json (&self->models[d->model], d, meters, sizeof meters);
        s_truth (self, d, t,
                 "\"event\":\"counters\",\"total\":%u,\"colour\":%u,\"mono\":%u,\"large\":%u,"
                 "\"meters\":{%s}",
                 d->base + d->pages, d->colour, d->base + d->pages - d->colour, d->large, meters);
    }
}

int
sim_fleet_advance (sim_fleet_t *self, int budget_ms)
{
    double deadline = s_real_now () + budget_ms / 1000.0;
    int64_t now = sim_fleet_now (self);
    while (self->sim_s + SIM_TICK_S <= now && s_real_now () < deadline) {
        int64_t t = self->sim_s + SIM_TICK_S;
        if (self->opt.behaviour)
            for (uint32_t i = 0; i < self->opt.devices; i++)
                s_step (self, &self->devices[i], t);
        if (t % 86400 == 0 && self->opt.behaviour)
            s_day_end (self, t);
        self->sim_s = t;
        /*  What the fleet serves is as of the last step: a line per step
            says when (on the clock) it was taken, so a check can tell how
            far behind the answers of a loaded simulator were. */
        if (self->truth)
            fprintf (self->truth, "{\"sim_s\":%lld,\"event\":\"stepped\",\"now\":%lld}\n",
                     (long long)t, (long long)sim_fleet_now (self));
    }
    if (self->truth)
        fflush (self->truth);
    if (self->sim_s + SIM_TICK_S <= now)
        return 0; /* behind: step again at once */
    double due = (double)(self->sim_s + SIM_TICK_S - now) / self->opt.speed;
    return (int)(due * 1000.0) + 1;
}

/* ------------------------------------------------------------------------
   Changes: moves, replacements, resets, devices going away and back */

static void
s_change (sim_fleet_t *self, sim_device_t *d, int64_t t, const char *what, uint32_t to)
{
    uint32_t index = (uint32_t)(d - self->devices);
    if (!strcmp (what, "move")) {
        uint32_t from = sim_fleet_address (self, d);
        int32_t slot = -1;
        if (to) {
            if (to >= self->opt.first && to - self->opt.first < self->slot_count &&
                self->slots[to - self->opt.first] < 0)
                slot = (int32_t)(to - self->opt.first);
        }
        else {
            /*  A free address past the fleet, from a random place on. */
            uint32_t spare = self->slot_count - self->opt.devices;
            uint32_t start = (uint32_t)(s_next (&d->rng) % spare);
            for (uint32_t k = 0; k < spare && slot < 0; k++) {
                uint32_t s = self->opt.devices + (start + k) % spare;
                if (self->slots[s] < 0)
                    slot = (int32_t)s;
            }
        }
        if (slot < 0)
            return;
        self->slots[d->slot] = -1;
        self->slots[slot] = (int32_t)index;
        d->slot = slot;
        struct in_addr a = {htonl (from)};
        char old[INET_ADDRSTRLEN];
        inet_ntop (AF_INET, &a, old, sizeof old);
        s_truth (self, d, t, "\"event\":\"moved\",\"from\":\"%s\"", old);
    }
    else if (!strcmp (what, "replace")) {
        char old[32];
        sim_fleet_serial (self, d, old, sizeof old);
        d->generation++;
        s_device_init (self, d, index, t);
        self->read_total[index] = 0;
        self->reset_before[index] = UINT32_MAX;
        self->reset_read_s[index] = 0;
        s_truth (self, d, t, "\"event\":\"replaced\",\"old_serial\":\"%s\",\"total\":%u", old,
                 d->base);
    }
    else if (!strcmp (what, "reset")) {
        /*  A controller swapped or its memory cleared: half the time the
            device restarts with it (sysUpTime begins again), half the
            time only the counters do. */
        uint32_t old = d->base + d->pages, read = self->read_total[index];
        self->read_total[index] = 0;
        if (self->reset_before[index] == UINT32_MAX)
            self->reset_before[index] = read;
        d->base = 0;
        d->pages = d->colour = d->large = d->duplex = d->copy = d->large_colour = 0;
        bool restarted = s_uniform (&d->rng) < 0.5;
        if (restarted)
            d->boot_s = t;
        /*  read_total: what the last read before it saw; a collector
            that read 0 there has no reset to tell. */
        s_truth (self, d, t,
                 "\"event\":\"counters_reset\",\"old_total\":%u,\"read_total\":%u,"
                 "\"restarted\":%s",
                 old, read, restarted ? "true" : "false");
    }
    else if (!strcmp (what, "away")) {
        if (d->flags & SIM_DEV_AWAY)
            return; /* away already: no second "offline" */
        d->flags |= SIM_DEV_AWAY;
        d->away_until = to ? 0 : t + s_between (&d->rng, 3600, 3 * 86400);
        s_truth (self, d, t, "\"event\":\"offline\"");
    }
    else if (!strcmp (what, "back")) {
        if (!(d->flags & SIM_DEV_AWAY))
            return;
        d->flags &= (uint8_t)~SIM_DEV_AWAY;
        d->away_until = 0;
        d->boot_s = t; /* it was switched off */
        s_truth (self, d, t, "\"event\":\"online\"");
    }
}

const char *
sim_fleet_inject (sim_fleet_t *self, uint32_t address, const char *event)
{
    if (address < self->opt.first || address - self->opt.first >= self->slot_count ||
        self->slots[address - self->opt.first] < 0)
        return "no device at that address";
    sim_device_t *d = &self->devices[self->slots[address - self->opt.first]];
    const sim_model_t *m = &self->models[d->model];
    int64_t t = self->sim_s;
    char name[32];
    int arg = 1;
    char rest[64] = "";
    int n = sscanf (event, "%31s %63s", name, rest);
    if (n < 1)
        return "empty event";
    if (n == 2)
        arg = atoi (rest);
    if (!strcmp (name, "jam"))
        s_raise (self, d, t, SIM_ALERT_JAM, 0, t + 600);
    else if (!strcmp (name, "door"))
        s_raise (self, d, t, SIM_ALERT_DOOR, 0, t + 300);
    else if (!strcmp (name, "service"))
        s_raise (self, d, t, SIM_ALERT_SERVICE, 0, t + 4 * 3600);
    else if (!strcmp (name, "supply_low") || !strcmp (name, "supply_empty") ||
             !strcmp (name, "replace_supply")) {
        int k = -1;
        for (int s = 0; s < m->supplies; s++)
            if (m->supply[s].row == (uint32_t)arg)
                k = s;
        if (k < 0)
            return "no such supply: give the prtMarkerSuppliesIndex of a supply whose level "
                   "the model simulates (see dump)";
        if (!strcmp (name, "replace_supply"))
            s_replace_supply (self, d, t, k);
        else if (!strcmp (name, "supply_empty")) {
            /*  Use what is left: raises low (if not yet) and empty. */
            d->supply[k] = (uint16_t)(m->supply[k].max / 20 + 1);
            s_use_supply (self, d, t, k, m->supply[k].yield);
        }
        else if (d->supply[k] * 10 > m->supply[k].max) {
            d->supply[k] = (uint16_t)(m->supply[k].max / 10 + 1);
            s_use_supply (self, d, t, k, (uint32_t)(m->supply[k].yield / m->supply[k].max + 1));
        }
    }
    else if (!strcmp (name, "tray_empty")) {
        int k = -1;
        for (int r = 0; r < m->trays; r++)
            if (m->tray[r].row == (uint32_t)arg)
                k = r;
        if (k < 0)
            return "no such tray: give the prtInputIndex of a tray whose level the model "
                   "simulates (see dump)";
        d->tray[k] = 0;
        s_raise (self, d, t, SIM_ALERT_TRAY_EMPTY, k, 0);
        d->tray_due[k] = t + 1800;
    }
    else if (!strcmp (name, "clear")) {
        while (d->alert_count)
            s_clear (self, d, t, 0);
    }
    else if (!strcmp (name, "move")) {
        struct in_addr a;
        uint32_t to = 0;
        if (rest[0]) {
            if (inet_pton (AF_INET, rest, &a) != 1)
                return "move: not an address";
            to = ntohl (a.s_addr);
            if (to < self->opt.first || to - self->opt.first >= self->slot_count ||
                self->slots[to - self->opt.first] >= 0)
                return "move: address taken or outside the fleet's range";
        }
        s_change (self, d, t, "move", to);
    }
    else if (!strcmp (name, "replace") || !strcmp (name, "reset"))
        s_change (self, d, t, name, 0);
    else if (!strcmp (name, "away"))
        s_change (self, d, t, "away", 1);
    else if (!strcmp (name, "back"))
        s_change (self, d, t, "back", 0);
    else if (!strcmp (name, "sleep")) {
        d->flags |= SIM_DEV_SLEEPER;
        d->last_print_s = t - 3600;
    }
    else if (!strcmp (name, "wake"))
        d->last_print_s = t;
    else
        return "unknown event (jam, door, service, supply_low N, supply_empty N, "
               "replace_supply N, tray_empty N, clear, move [ADDRESS], replace, reset, "
               "away, back, sleep, wake)";
    if (self->truth)
        fflush (self->truth);
    return NULL;
}

void
sim_fleet_dump (sim_fleet_t *self, uint32_t address, FILE *out)
{
    if (address < self->opt.first || address - self->opt.first >= self->slot_count ||
        self->slots[address - self->opt.first] < 0) {
        fprintf (out, "{\"error\":\"no device at that address\"}\n");
        return;
    }
    sim_device_t *d = &self->devices[self->slots[address - self->opt.first]];
    const sim_model_t *m = &self->models[d->model];
    char serial[32];
    sim_fleet_serial (self, d, serial, sizeof serial);
    uint8_t mac[6];
    s_mac (self, d, mac);
    struct in_addr a = {htonl (address)};
    fprintf (out,
             "{\"device\":\"%s\",\"index\":%ld,\"model\":\"%s\",\"serial\":\"%s\","
             "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"generation\":%u,\"sim_s\":%lld,"
             "\"online\":%s,\"asleep\":%s,\"total\":%u,\"colour\":%u,\"mono\":%u,\"large\":%u,"
             "\"error_state\":%u,\"all_events\":%u,\"critical_events\":%u,\"supplies\":[",
             inet_ntoa (a), (long)(d - self->devices), m->name, serial, mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5], d->generation, (long long)self->sim_s,
             d->flags & (SIM_DEV_OFFLINE | SIM_DEV_AWAY) ? "false" : "true",
             sim_fleet_asleep (self, d) ? "true" : "false", d->base + d->pages, d->colour,
             d->base + d->pages - d->colour, d->large, d->error_state, d->all_events,
             d->critical_events);
    for (int s = 0; s < m->supplies; s++)
        fprintf (out, "%s{\"supply\":%u,\"text\":\"%s\",\"level\":%u,\"max\":%d}", s ? "," : "",
                 m->supply[s].row, m->supply[s].description, d->supply[s], m->supply[s].max);
    fprintf (out, "],\"trays\":[");
    for (int k = 0; k < m->trays; k++)
        fprintf (out, "%s{\"tray\":%u,\"text\":\"%s\",\"level\":%u,\"max\":%d}", k ? "," : "",
                 m->tray[k].row, m->tray[k].name, d->tray[k], m->tray[k].max);
    fprintf (out, "],\"alerts\":[");
    for (int i = 0; i < d->alert_count; i++) {
        char text[96];
        s_alert_text (self, d, &d->alerts[i], text, sizeof text);
        fprintf (out, "%s{\"alert_index\":%u,\"code\":%u,\"severity\":%u,\"text\":\"%s\"}",
                 i ? "," : "", d->alerts[i].index, d->alerts[i].code, d->alerts[i].severity, text);
    }
    fprintf (out, "]}\n");
}

/* ------------------------------------------------------------------------
   Values as served */

static int
s_put_int (int64_t v, uint8_t *buf)
{
    memcpy (buf, &v, sizeof v);
    return sizeof v;
}

int
sim_fleet_value (sim_fleet_t *self, const sim_device_t *d, const sim_var_t *var, uint8_t *type,
                 uint8_t *buf)
{
    *type = var->type;
    uint32_t total = d->base + d->pages;
    uint32_t mono = total - d->colour;
    switch (var->role) {
    case SIM_ROLE_UPTIME: return s_put_int (s_uptime_cs (d, self->sim_s), buf);
    case SIM_ROLE_SERIAL: {
        char serial[32];
        sim_fleet_serial (self, d, serial, sizeof serial);
        size_t n = strlen (serial);
        memcpy (buf, serial, n);
        return (int)n;
    }
    case SIM_ROLE_SYSNAME: {
        uint8_t mac[6];
        s_mac (self, d, mac);
        return snprintf ((char *)buf, SIM_VALUE_MAX, "PRN%02X%02X%02X", mac[3], mac[4], mac[5]);
    }
    case SIM_ROLE_MAC: s_mac (self, d, buf); return 6;
    case SIM_ROLE_DEVICE_STATUS: {
        int status = 2;
        for (int i = 0; i < d->alert_count; i++)
            status = d->alerts[i].severity == 3 ? 5 : status == 5 ? 5 : 3;
        return s_put_int (status, buf);
    }
    case SIM_ROLE_PRINTER_STATUS:
        return s_put_int (self->sim_s - d->last_print_s <= 2 * SIM_TICK_S ? 4 : 3, buf);
    case SIM_ROLE_ERROR_STATE:
        buf[0] = (uint8_t)(d->error_state >> 8);
        buf[1] = (uint8_t)d->error_state;
        return d->error_state & 0xff ? 2 : 1;
    case SIM_ROLE_CRITICAL_EVENTS: return s_put_int (d->critical_events, buf);
    case SIM_ROLE_ALL_EVENTS: return s_put_int (d->all_events, buf);
    case SIM_ROLE_SUPPLY_LEVEL: {
        /*  In steps of a tenth of its capacity, rounded up: 0 is empty. */
        int32_t level = d->supply[var->arg];
        if (d->flags & SIM_DEV_STEPS) {
            int32_t step = self->models[d->model].supply[var->arg].max / 10;
            level = step > 0 ? (level + step - 1) / step * step : level;
        }
        return s_put_int (level, buf);
    }
    case SIM_ROLE_TRAY_LEVEL: return s_put_int (d->tray[var->arg], buf);
    default: break;
    }
    if (SIM_ROLE_IS_COUNTER (var->role)) {
        if (sim_fleet_asleep (self, d))
            return -1;
        uint32_t large_colour = d->large_colour;
        uint32_t v = 0;
        size_t at = (size_t)(d - self->devices);
        self->read_total[at] = total;
        if (self->reset_before[at] != UINT32_MAX &&
            (!self->reset_read_s[at] || self->sim_s - self->reset_read_s[at] > 300)) {
            /*  The first two reads (passes) after a reset: a collector
                confirms a counter gone down by two readings; a total not
                below what the last read before it saw, at either, shows
                it no reset. */
            int n = self->reset_read_s[at] ? 2 : 1;
            s_truth (self, d, self->sim_s,
                     "\"event\":\"reset_read\",\"total\":%u,\"before\":%u,\"n\":%d", total,
                     self->reset_before[at], n);
            self->reset_read_s[at] = self->sim_s;
            if (n == 2 || total >= self->reset_before[at]) {
                self->reset_before[at] = UINT32_MAX;
                self->reset_read_s[at] = 0;
            }
        }
        switch (var->role) {
        case SIM_ROLE_TOTAL: v = total; break;
        case SIM_ROLE_MONO: v = mono; break;
        case SIM_ROLE_COLOUR: v = d->colour; break;
        case SIM_ROLE_LARGE: v = d->large; break;
        case SIM_ROLE_SMALL: v = total - d->large; break;
        case SIM_ROLE_MONO_LARGE: v = d->large - large_colour; break;
        case SIM_ROLE_MONO_SMALL: v = mono - (d->large - large_colour); break;
        case SIM_ROLE_COLOUR_LARGE: v = large_colour; break;
        case SIM_ROLE_COLOUR_SMALL: v = d->colour - large_colour; break;
        case SIM_ROLE_PRINT: v = total - d->copy; break;
        case SIM_ROLE_COPY: v = d->copy; break;
        case SIM_ROLE_DUPLEX: v = d->duplex; break;
        case SIM_ROLE_A4: v = total + d->large; break;
        }
        return s_put_int (v, buf);
    }
    memcpy (buf, var->value, var->len);
    return (int)var->len;
}

int
sim_fleet_alert_next (sim_fleet_t *self, const sim_device_t *d, const uint32_t *oid, size_t len,
                      uint32_t *out, size_t *out_len, uint8_t *type, uint8_t *buf, int *vlen)
{
    uint32_t px = self->models[d->model].printer_index;
    size_t base = LEN (s_prt_alert);
    for (uint32_t col = 2; col <= 9; col++)
        for (int i = 0; i < d->alert_count; i++) {
            const sim_alert_t *a = &d->alerts[i];
            memcpy (out, s_prt_alert, base * sizeof (uint32_t));
            out[base] = col;
            out[base + 1] = px;
            out[base + 2] = a->index;
            if (sim_oid_compare (out, base + 3, oid, len) <= 0)
                continue;
            *out_len = base + 3;
            *type = ASN_INTEGER;
            int64_t v = 0;
            switch (col) {
            case 2: v = a->severity; break;
            case 3: v = a->training; break;
            case 4: v = a->group; break;
            case 5: v = a->group_index; break;
            case 6: v = -2; break;
            case 7: v = a->code; break;
            case 8: {
                char text[96];
                s_alert_text (self, d, a, text, sizeof text);
                *type = ASN_OCTET_STR;
                *vlen = (int)strlen (text);
                memcpy (buf, text, (size_t)*vlen);
                return 1;
            }
            case 9:
                *type = ASN_TIMETICKS;
                v = a->time_cs;
                break;
            }
            *vlen = s_put_int (v, buf);
            return 1;
        }
    return 0;
}
