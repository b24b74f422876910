/*  odc_supplies: see odc_supplies.h. */
#include "odc_supplies.h"

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_config.h"
#include "odc_text.h"

const char *const odc_supply_colours[] = {
    "black",         "matte_black", "photo_black", "cyan",       "light_cyan", "magenta",
    "light_magenta", "yellow",      "gray",        "light_gray", "red",        "green",
    "blue",          "orange",      "violet",      "white",      "clear",      "gold",
    "silver",        "multi",       "none",        "unknown",    NULL};

typedef enum { S_SKU, S_KIND, S_COLOUR, S_FIELDS } s_field_t;
typedef enum { S_TEXT, S_TYPE, S_COLORANT, S_OF_KIND } s_source_t;

typedef struct {
    uint32_t enterprise; /* 0: every maker */
    s_field_t field;
    s_source_t source;
    int number; /* S_TYPE: the code; S_OF_KIND: the kind's index */
    regex_t pattern;
    bool compiled;
    int group;          /* sku: the SKU's capture group; 0: "no SKU here" */
    const char *result; /* kind, colour: a name of the lists above */
} s_line_t;

struct odc_supply_rules {
    s_line_t *lines;
    size_t count, size;
    bool any_maker[S_FIELDS]; /* a '*' line of the field seen */
};

typedef struct {
    odc_supply_rules_t *self;
    const char *path;
} s_load_t;

/*  The index of word in names, or -1. */
static int
s_name_index (const char *word, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp (word, names[i]))
            return i;
    return -1;
}

static bool
s_number (const char *word, long min, long max, long *out)
{
    char *end;
    long v = strtol (word, &end, 10);
    if (*end || end == word || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/*  MATCH of a text or colorant line: compiled into x, or the reason. */
static const char *
s_compile (s_line_t *x, const char *match)
{
    if (strlen (match) > ODC_SUPPLY_PATTERN_MAX)
        return "MATCH: pattern longer than 256 bytes";
    int flags = REG_EXTENDED | (x->field == S_SKU ? 0 : REG_ICASE | REG_NOSUB);
    if (regcomp (&x->pattern, match, flags) != 0)
        return "MATCH: not a POSIX extended regular expression";
    x->compiled = true;
    return NULL;
}

/*  SOURCE MATCH RESULT of a line of its field; NULL or the reason. */
static const char *
s_parse_sku (s_line_t *x, char **w)
{
    if (strcmp (w[2], "text"))
        return "SOURCE: sku lines take text";
    long v = 0;
    if (strcmp (w[4], "-") && !s_number (w[4], 1, 9, &v))
        return "RESULT: sku lines name a capture group 1-9, or - for no SKU";
    const char *why = s_compile (x, w[3]);
    if (why)
        return why;
    x->group = (int)v;
    if (x->group && x->pattern.re_nsub == 0)
        return "RESULT: an sku pattern needs a capture group: it has none";
    if ((size_t)x->group > x->pattern.re_nsub)
        return "RESULT: names a capture group the pattern does not have";
    return NULL;
}

static const char *
s_parse_kind (s_line_t *x, char **w)
{
    int kind = s_name_index (w[4], odc_config_supply_kinds);
    if (kind < 0)
        return "RESULT: not a kind the collector knows (see the file's header)";
    x->result = odc_config_supply_kinds[kind];
    long v;
    if (!strcmp (w[2], "type")) {
        if (!s_number (w[3], 1, 2147483647L, &v))
            return "MATCH: a prtMarkerSuppliesType number";
        x->source = S_TYPE, x->number = (int)v;
        return NULL;
    }
    if (!strcmp (w[2], "text"))
        return s_compile (x, w[3]);
    return "SOURCE: kind lines take type or text";
}

static const char *
s_parse_colour (s_line_t *x, char **w)
{
    int colour = s_name_index (w[4], odc_supply_colours);
    if (colour < 0)
        return "RESULT: not a colour the collector knows (see the file's header)";
    x->result = odc_supply_colours[colour];
    if (!strcmp (w[2], "kind")) {
        x->source = S_OF_KIND;
        x->number = s_name_index (w[3], odc_config_supply_kinds);
        return x->number < 0 ? "MATCH: not a kind the collector knows" : NULL;
    }
    if (!strcmp (w[2], "colorant"))
        x->source = S_COLORANT;
    else if (strcmp (w[2], "text"))
        return "SOURCE: colour lines take colorant, text or kind";
    return s_compile (x, w[3]);
}

/*  ENTERPRISE FIELD SOURCE MATCH RESULT */
static bool
s_load_line (char *line, int lineno, void *arg, char **error)
{
    s_load_t *l = arg;
    odc_supply_rules_t *self = l->self;
    char *w[6];
    int n = 0;
    for (char *save = NULL, *t = strtok_r (line, " \t", &save); t && n < 6;
         t = strtok_r (NULL, " \t", &save))
        w[n++] = t;
    if (n != 5)
        return odc_text_error (error, l->path, lineno,
                               "want 5 columns: ENTERPRISE FIELD SOURCE MATCH RESULT");
    s_line_t x = {0};
    long v;
    if (!strcmp (w[0], "*"))
        x.enterprise = 0;
    else if (s_number (w[0], 1, 4294967295L, &v))
        x.enterprise = (uint32_t)v;
    else
        return odc_text_error (error, l->path, lineno, "ENTERPRISE: a number or *");
    const char *why = NULL;
    if (!strcmp (w[1], "sku"))
        x.field = S_SKU, why = s_parse_sku (&x, w);
    else if (!strcmp (w[1], "kind"))
        x.field = S_KIND, why = s_parse_kind (&x, w);
    else if (!strcmp (w[1], "colour"))
        x.field = S_COLOUR, why = s_parse_colour (&x, w);
    else
        why = "FIELD: sku, kind or colour";
    /*  A maker line after the lines for every maker would never be the
        first to match where they do: the order is the meaning. */
    if (!why && x.enterprise && self->any_maker[x.field])
        why = "a maker line must come before the '*' lines of its FIELD";
    if (why) {
        if (x.compiled)
            regfree (&x.pattern);
        return odc_text_error (error, l->path, lineno, why);
    }
    if (!x.enterprise)
        self->any_maker[x.field] = true;
    if (self->count == self->size) {
        size_t size = self->size ? self->size * 2 : 128;
        s_line_t *lines = realloc (self->lines, size * sizeof *lines);
        if (!lines) {
            if (x.compiled)
                regfree (&x.pattern);
            return odc_text_error (error, l->path, lineno, "out of memory");
        }
        self->lines = lines, self->size = size;
    }
    self->lines[self->count++] = x;
    return true;
}

odc_supply_rules_t *
odc_supply_rules_load (const char *path, char **error)
{
    s_load_t l = {calloc (1, sizeof (odc_supply_rules_t)), path};
    if (!l.self) {
        *error = strdup ("out of memory");
        return NULL;
    }
    if (!odc_text_each_line (path, ODC_SUPPLY_RULES_MAX, s_load_line, &l, error))
        odc_supply_rules_destroy (&l.self);
    return l.self;
}

void
odc_supply_rules_destroy (odc_supply_rules_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_supply_rules_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        if (self->lines[i].compiled)
            regfree (&self->lines[i].pattern);
    free (self->lines);
    free (self);
    *self_p = NULL;
}

size_t
odc_supply_rules_count (const odc_supply_rules_t *self)
{
    return self ? self->count : 0;
}

/*  text as ASCII into buf: at most size - 1 bytes of it are read (a
    description of any length costs the same), control characters and
    bytes past 0x7e become blanks. The rules are ASCII, and this way
    regexec sees the same bytes in every locale: no invalid UTF-8 sequence
    in a UTF-8 one, no NUL cut short. */
static void
s_ascii (char *buf, size_t size, const char *text)
{
    size_t n = 0;
    for (; text && text[n] && n + 1 < size; n++) {
        unsigned char c = (unsigned char)text[n];
        buf[n] = c < 0x20 || c > 0x7e ? ' ' : (char)c;
    }
    buf[n] = 0;
}

static bool
s_applies (const s_line_t *x, s_field_t field, uint32_t enterprise)
{
    return x->field == field && (!x->enterprise || x->enterprise == enterprise);
}

/*  The first sku line that matches: its capture group, cut to fit. A line
    whose group matched nothing (optional, or empty) does not decide. */
static void
s_sku (const odc_supply_rules_t *self, uint32_t enterprise, const char *text, char *sku)
{
    sku[0] = 0;
    for (size_t i = 0; i < self->count; i++) {
        const s_line_t *x = &self->lines[i];
        regmatch_t m[10];
        if (!s_applies (x, S_SKU, enterprise) ||
            regexec (&x->pattern, text, (size_t)x->group + 1, m, 0) != 0)
            continue;
        if (!x->group)
            return; /* "this description holds no SKU" */
        regoff_t from = m[x->group].rm_so, to = m[x->group].rm_eo;
        if (from < 0 || to <= from)
            continue;
        size_t len = (size_t)(to - from);
        if (len > ODC_SUPPLY_SKU_MAX - 1)
            len = ODC_SUPPLY_SKU_MAX - 1;
        memcpy (sku, text + from, len);
        sku[len] = 0;
        return;
    }
}

static const char *
s_kind (const odc_supply_rules_t *self, uint32_t enterprise, const char *text, int type)
{
    for (size_t i = 0; i < self->count; i++) {
        const s_line_t *x = &self->lines[i];
        if (s_applies (x, S_KIND, enterprise) &&
            (x->source == S_TYPE ? x->number == type
                                 : regexec (&x->pattern, text, 0, NULL, 0) == 0))
            return x->result;
    }
    return "other";
}

static const char *
s_colour (const odc_supply_rules_t *self, uint32_t enterprise, const char *text,
          const char *colorant, const char *kind)
{
    int k = s_name_index (kind, odc_config_supply_kinds);
    for (size_t i = 0; i < self->count; i++) {
        const s_line_t *x = &self->lines[i];
        if (!s_applies (x, S_COLOUR, enterprise))
            continue;
        bool hit = x->source == S_OF_KIND ? x->number == k
                   : x->source == S_COLORANT
                       ? *colorant && regexec (&x->pattern, colorant, 0, NULL, 0) == 0
                       : regexec (&x->pattern, text, 0, NULL, 0) == 0;
        if (hit)
            return x->result;
    }
    return "unknown";
}

void
odc_supply_identify (const odc_supply_rules_t *self, uint32_t enterprise, const char *description,
                     int type, const char *colorant, odc_supply_id_t *out)
{
    /*  A colorant name is short (ISO 10175 names); 64 bytes keep any. */
    char text[ODC_SUPPLY_TEXT_MAX], tint[64];
    s_ascii (text, sizeof text, description);
    s_ascii (tint, sizeof tint, colorant);
    out->sku[0] = 0;
    out->kind = "other";
    out->colour = "unknown";
    if (!self)
        return;
    s_sku (self, enterprise, text, out->sku);
    out->kind = s_kind (self, enterprise, text, type);
    out->colour = s_colour (self, enterprise, text, tint, out->kind);
}
