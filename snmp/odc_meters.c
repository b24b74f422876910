/*  odc_meters: see odc_meters.h. */
#include "odc_meters.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_text.h"

const char *const odc_meter_names[ODC_METER_COUNT] = {
    "total", "mono",          "colour", "full_colour", "two_colour", "single_colour", "large",
    "small", "a4_equivalent", "duplex", "copy",        "print",      "fax",           "scan",
};

int
odc_meter_of_name (const char *name)
{
    for (int i = 0; i < ODC_METER_COUNT; i++)
        if (!strcmp (odc_meter_names[i], name))
            return i;
    return -1;
}

typedef struct {
    int sign;   /* +1, -1 */
    int factor; /* 1 or 2 */
    int meter;  /* >= 0: "=METER"; -1: a raw counter */
    char *name; /* the raw counter's name */
} s_term_t;

typedef struct {
    s_term_t terms[ODC_METER_TERMS_MAX];
    int n_terms;
} s_alt_t;

typedef struct {
    uint32_t enterprise; /* 0: every maker ("*") */
    int meter;
    s_alt_t alts[ODC_METER_ALTS_MAX];
    int n_alts;
} s_rule_t;

struct odc_meter_rules {
    s_rule_t *rules;
    size_t count;
};

static void
s_rule_free (s_rule_t *r)
{
    for (int a = 0; a < r->n_alts; a++)
        for (int t = 0; t < r->alts[a].n_terms; t++)
            free (r->alts[a].terms[t].name);
}

void
odc_meter_rules_destroy (odc_meter_rules_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < (*self_p)->count; i++)
        s_rule_free (&(*self_p)->rules[i]);
    free ((*self_p)->rules);
    free (*self_p);
    *self_p = NULL;
}

size_t
odc_meter_rules_count (const odc_meter_rules_t *self)
{
    return self ? self->count : 0;
}

/*  One alternative, "a + 2*b - =mono", into alt: NULL or the reason. */
static const char *
s_parse_alt (char *text, s_alt_t *alt)
{
    int sign = 1;
    char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            return alt->n_terms ? "a sign with no term after it" : "an empty alternative";
        if (alt->n_terms == ODC_METER_TERMS_MAX)
            return "more than "
                   "16"
                   " terms in one alternative";
        s_term_t *t = &alt->terms[alt->n_terms];
        t->sign = sign, t->factor = 1, t->meter = -1;
        if (p[0] == '2' && p[1] == '*')
            t->factor = 2, p += 2;
        size_t len = strcspn (p, " +-");
        /*  A raw name may hold '-' only where no blank precedes it. */
        while (p[len] == '-' && p[len + 1] && p[len + 1] != ' ')
            len += 1 + strcspn (p + len + 1, " +-");
        if (!len)
            return "a term is missing";
        char save = p[len];
        p[len] = 0;
        if (p[0] == '=') {
            t->meter = odc_meter_of_name (p + 1);
            if (t->meter < 0) {
                p[len] = save;
                return "'=' names no canonical meter";
            }
        }
        else
            t->name = strdup (p);
        alt->n_terms++;
        p[len] = save;
        p += len;
        while (*p == ' ')
            p++;
        if (!*p)
            return NULL;
        if (*p != '+' && *p != '-')
            return "terms are joined by '+' or '-'";
        sign = *p == '+' ? 1 : -1;
        p++;
    }
}

#define s_error odc_text_error

/*  One line: ENTERPRISE METER FROM. */
static bool
s_parse_line (char *line, s_rule_t *r, const char *path, int lineno, char **error)
{
    char *ent = strtok (line, "\t");
    char *meter = strtok (NULL, "\t");
    char *from = strtok (NULL, "\t");
    if (!ent || !meter || !from || strtok (NULL, "\t"))
        return s_error (error, path, lineno, "expected ENTERPRISE<TAB>METER<TAB>FROM");
    if (!strcmp (ent, "*"))
        r->enterprise = 0;
    else {
        char *end;
        errno = 0;
        unsigned long e = strtoul (ent, &end, 10);
        if (*end || errno || e == 0 || e > UINT32_MAX)
            return s_error (error, path, lineno, "the enterprise is a number or *");
        r->enterprise = (uint32_t)e;
    }
    r->meter = odc_meter_of_name (meter);
    if (r->meter < 0)
        return s_error (error, path, lineno, "no such canonical meter");
    for (char *alt = from, *next; alt; alt = next) {
        next = strchr (alt, '|');
        if (next)
            *next++ = 0;
        if (r->n_alts == ODC_METER_ALTS_MAX)
            return s_error (error, path, lineno, "more than 8 alternatives");
        const char *why = s_parse_alt (alt, &r->alts[r->n_alts]);
        r->n_alts++;
        if (why)
            return s_error (error, path, lineno, why);
    }
    return true;
}

typedef struct {
    odc_meter_rules_t *self;
    const char *path;
    size_t size;
} s_load_t;

static bool
s_load_line (char *line, int lineno, void *arg, char **error)
{
    s_load_t *l = arg;
    odc_meter_rules_t *self = l->self;
    if (self->count == l->size) {
        l->size = l->size ? l->size * 2 : 64;
        self->rules = realloc (self->rules, l->size * sizeof *self->rules);
    }
    s_rule_t *r = &self->rules[self->count++];
    memset (r, 0, sizeof *r);
    return s_parse_line (line, r, l->path, lineno, error);
}

odc_meter_rules_t *
odc_meter_rules_load (const char *path, char **error)
{
    s_load_t l = {calloc (1, sizeof (odc_meter_rules_t)), path, 0};
    if (!odc_text_each_line (path, ODC_METER_RULES_MAX, s_load_line, &l, error))
        odc_meter_rules_destroy (&l.self);
    return l.self;
}

/* ------------------------------------------------------------------------
   Applying them */

typedef struct {
    bool set;
    uint64_t value;
    bool sheets; /* made of a counter in sheets */
    char derivation[256];
} s_value_t;

static const Odc__Counter *
s_counter (const Odc__MeterReading *r, const char *name)
{
    for (size_t i = 0; i < r->n_counters; i++)
        if (r->counters[i]->name && !strcmp (r->counters[i]->name, name))
            return r->counters[i];
    return NULL;
}

/*  The first alternative of rule whose every term is there and whose value
    is not below 0, into out. */
static bool
s_apply (const s_rule_t *rule, const Odc__MeterReading *r, const s_value_t *have, s_value_t *out)
{
    for (int a = 0; a < rule->n_alts; a++) {
        const s_alt_t *alt = &rule->alts[a];
        int64_t sum = 0;
        bool sheets = false, all = true;
        for (int t = 0; t < alt->n_terms && all; t++) {
            const s_term_t *term = &alt->terms[t];
            uint64_t v;
            if (term->meter >= 0) {
                all = have[term->meter].set;
                v = have[term->meter].value;
                sheets |= have[term->meter].sheets;
            }
            else {
                const Odc__Counter *c = s_counter (r, term->name);
                all = c != NULL;
                v = c ? c->value : 0;
                sheets |= c && c->unit && !strcmp (c->unit, "sheets");
            }
            sum += (int64_t)term->sign * term->factor * (int64_t)v;
        }
        if (all && sum >= 0) {
            /*  The derivation of the alternative that applies (only). */
            size_t used = 0;
            out->derivation[0] = 0;
            for (int t = 0; t < alt->n_terms && used < sizeof out->derivation; t++) {
                const s_term_t *term = &alt->terms[t];
                used += (size_t)snprintf (
                    out->derivation + used, sizeof out->derivation - used, "%s%s%s",
                    t ? (term->sign > 0 ? " + " : " - ") : "", term->factor == 2 ? "2*" : "",
                    term->meter >= 0 ? odc_meter_names[term->meter] : term->name);
            }
            out->set = true;
            out->value = (uint64_t)sum;
            out->sheets = sheets;
            return true;
        }
    }
    return false;
}

static void
s_clear_canonical (Odc__MeterReading *r)
{
    for (size_t i = 0; i < r->n_canonical; i++)
        odc__canonical_meter__free_unpacked (r->canonical[i], NULL);
    free (r->canonical);
    r->canonical = NULL;
    r->n_canonical = 0;
    /*  protobuf-c's default for a string is its own static "". */
    if (r->rules != protobuf_c_empty_string)
        free (r->rules);
    r->rules = (char *)protobuf_c_empty_string;
}

size_t
odc_meters_rollup (const odc_meter_rules_t *rules, Odc__MeterReading *r)
{
    s_clear_canonical (r);
    s_value_t have[ODC_METER_COUNT] = {{0}};
    bool maker = false, generic = false;
    /*  The maker's lines, then every maker's. */
    for (int pass = 0; pass < 2 && rules; pass++)
        for (size_t i = 0; i < rules->count; i++) {
            const s_rule_t *rule = &rules->rules[i];
            if (pass == 0 ? !r->enterprise || rule->enterprise != r->enterprise
                          : rule->enterprise != 0)
                continue;
            if (have[rule->meter].set)
                continue;
            s_value_t v;
            if (s_apply (rule, r, have, &v)) {
                have[rule->meter] = v;
                *(pass ? &generic : &maker) = true;
            }
        }
    /*  A total in sheets: impressions where the device gives duplex. */
    s_value_t *total = &have[ODC_METER_TOTAL];
    if (total->set && total->sheets && have[ODC_METER_DUPLEX].set) {
        total->value += have[ODC_METER_DUPLEX].value;
        size_t used = strlen (total->derivation);
        snprintf (total->derivation + used, sizeof total->derivation - used,
                  " + duplex (sheets to impressions)");
        total->sheets = false;
    }
    size_t n = 0;
    for (int m = 0; m < ODC_METER_COUNT; m++)
        n += have[m].set;
    if (!n)
        return 0;
    r->canonical = malloc (n * sizeof *r->canonical);
    for (int m = 0; m < ODC_METER_COUNT; m++) {
        if (!have[m].set)
            continue;
        Odc__CanonicalMeter *c = malloc (sizeof *c);
        odc__canonical_meter__init (c);
        c->name = strdup (odc_meter_names[m]);
        c->value = have[m].value;
        c->unit = strdup (m == ODC_METER_SCAN     ? "scans"
                          : m == ODC_METER_DUPLEX ? "sheets"
                          : have[m].sheets        ? "sheets"
                                                  : "impressions");
        c->derivation = strdup (have[m].derivation);
        r->canonical[r->n_canonical++] = c;
    }
    char text[32];
    if (maker && generic)
        snprintf (text, sizeof text, "%u *", r->enterprise);
    else if (maker)
        snprintf (text, sizeof text, "%u", r->enterprise);
    else
        snprintf (text, sizeof text, "*");
    r->rules = strdup (text);
    return n;
}

const Odc__CanonicalMeter *
odc_meters_find (const Odc__MeterReading *r, const char *name)
{
    for (size_t i = 0; i < r->n_canonical; i++)
        if (!strcmp (r->canonical[i]->name, name))
            return r->canonical[i];
    return NULL;
}
