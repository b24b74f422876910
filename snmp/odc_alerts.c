/*  odc_alerts: see odc_alerts.h. */
#include "odc_alerts.h"

#include "odc_config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_text.h"

typedef enum { S_CODE, S_BIT, S_TEXT } s_kind_t;

typedef struct {
    uint32_t enterprise; /* 0: every maker */
    int group;           /* -1: any */
    s_kind_t kind;
    int number; /* code or bit */
    regex_t pattern;
    bool compiled;
    char *code, *category, *severity;
} s_line_t;

struct odc_alert_codes {
    s_line_t *lines;
    size_t count, size;
};

/*  The names the rest of the collector knows (routing rules, the portal:
    base/odc_config.h's lists), and "status" (rows never raised): a line
    naming another is an error. */

static bool
s_one_of (const char *word, const char *const *names)
{
    for (; *names; names++)
        if (!strcmp (word, *names))
            return true;
    return false;
}

static bool
s_code_name (const char *word)
{
    if (!*word || strlen (word) > 40)
        return false;
    for (const char *p = word; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
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

/*  ENTERPRISE GROUP KIND MATCH STANDARD CATEGORY SEVERITY */
static bool
s_load_line (char *line, int lineno, void *arg, char **error)
{
    struct {
        odc_alert_codes_t *self;
        const char *path;
    } *l = arg;
    odc_alert_codes_t *self = l->self;
    char *w[8];
    int n = 0;
    for (char *save = NULL, *t = strtok_r (line, " \t", &save); t && n < 8;
         t = strtok_r (NULL, " \t", &save))
        w[n++] = t;
    if (n != 7)
        return odc_text_error (error, l->path, lineno,
                               "want 7 columns: ENTERPRISE GROUP KIND MATCH STANDARD CATEGORY "
                               "SEVERITY");
    s_line_t x = {0};
    long v;
    if (!strcmp (w[0], "*"))
        x.enterprise = 0;
    else if (s_number (w[0], 1, 4294967295L, &v))
        x.enterprise = (uint32_t)v;
    else
        return odc_text_error (error, l->path, lineno, "ENTERPRISE: a number or *");
    if (!strcmp (w[1], "*"))
        x.group = -1;
    else if (s_number (w[1], 1, 65535, &v))
        x.group = (int)v;
    else
        return odc_text_error (error, l->path, lineno, "GROUP: a prtAlertGroup number or *");
    if (!strcmp (w[2], "code") && s_number (w[3], 1, 2147483647L, &v))
        x.kind = S_CODE, x.number = (int)v;
    else if (!strcmp (w[2], "bit") && s_number (w[3], 0, 15, &v))
        x.kind = S_BIT, x.number = (int)v;
    else if (!strcmp (w[2], "text")) {
        if (strlen (w[3]) > ODC_ALERT_PATTERN_MAX)
            return odc_text_error (error, l->path, lineno, "pattern longer than 256 bytes");
        if (regcomp (&x.pattern, w[3], REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            return odc_text_error (error, l->path, lineno,
                                   "not a POSIX extended regular expression");
        x.kind = S_TEXT, x.compiled = true;
    }
    else
        return odc_text_error (error, l->path, lineno,
                               "KIND MATCH: code NUMBER, bit 0-15 or text PATTERN");
    const char *why = !s_code_name (w[4]) ? "STANDARD: lower case, digits and _"
                      : !(s_one_of (w[5], odc_config_alert_categories) || !strcmp (w[5], "status"))
                          ? "CATEGORY: not one the collector knows"
                      : strcmp (w[6], "-") && !s_one_of (w[6], odc_config_alert_severities)
                          ? "SEVERITY: critical, warning, information or -"
                          : NULL;
    if (!why && x.kind == S_BIT && !strcmp (w[6], "-"))
        why = "SEVERITY: a bit has no severity of its own: name one";
    if (why) {
        if (x.compiled)
            regfree (&x.pattern);
        return odc_text_error (error, l->path, lineno, why);
    }
    x.code = strdup (w[4]);
    x.category = strdup (w[5]);
    x.severity = strcmp (w[6], "-") ? strdup (w[6]) : NULL;
    if (self->count == self->size) {
        self->size = self->size ? self->size * 2 : 128;
        self->lines = realloc (self->lines, self->size * sizeof *self->lines);
    }
    self->lines[self->count++] = x;
    return true;
}

odc_alert_codes_t *
odc_alert_codes_load (const char *path, char **error)
{
    struct {
        odc_alert_codes_t *self;
        const char *path;
    } l = {calloc (1, sizeof (odc_alert_codes_t)), path};
    if (!odc_text_each_line (path, ODC_ALERT_CODES_MAX, s_load_line, &l, error))
        odc_alert_codes_destroy (&l.self);
    return l.self;
}

void
odc_alert_codes_destroy (odc_alert_codes_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_alert_codes_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        s_line_t *x = &self->lines[i];
        if (x->compiled)
            regfree (&x->pattern);
        free (x->code);
        free (x->category);
        free (x->severity);
    }
    free (self->lines);
    free (self);
    *self_p = NULL;
}

size_t
odc_alert_codes_count (const odc_alert_codes_t *self)
{
    return self ? self->count : 0;
}

bool
odc_alert_codes_knows (const odc_alert_codes_t *self, const char *code)
{
    /*  The collector's own (actors/odc_triage.c: availability and changes),
        and what nothing matched. */
    static const char *const own[] = {"not_responding", "unavailable",    "moved", "replaced",
                                      "mac_changed",    "supply_request", "other", NULL};
    if (s_one_of (code, own))
        return true;
    for (size_t i = 0; self && i < self->count; i++)
        if (!strcmp (self->lines[i].code, code))
            return true;
    return false;
}

static odc_alert_class_t
s_class_of (const s_line_t *x)
{
    odc_alert_class_t c = {"other", "information", NULL, false};
    if (x) {
        c.code = x->code;
        c.category = x->category;
        c.severity = x->severity;
        c.status = !strcmp (x->category, "status");
    }
    return c;
}

static bool
s_maker (const s_line_t *x, uint32_t enterprise)
{
    return !x->enterprise || x->enterprise == enterprise;
}

odc_alert_class_t
odc_alert_classify_row (const odc_alert_codes_t *self, uint32_t enterprise, int group, int code,
                        const char *description)
{
    const s_line_t *hit = NULL;
    /*  Its code first (in file order: maker lines, then all makers'), then
        its text. */
    for (size_t i = 0; self && !hit && i < self->count; i++) {
        const s_line_t *x = &self->lines[i];
        if (x->kind == S_CODE && x->number == code && s_maker (x, enterprise) &&
            (x->group < 0 || x->group == group))
            hit = x;
    }
    for (size_t i = 0; self && !hit && description && i < self->count; i++) {
        const s_line_t *x = &self->lines[i];
        if (x->kind == S_TEXT && s_maker (x, enterprise) && (x->group < 0 || x->group == group) &&
            regexec (&x->pattern, description, 0, NULL, 0) == 0)
            hit = x;
    }
    return s_class_of (hit);
}

odc_alert_class_t
odc_alert_classify_bit (const odc_alert_codes_t *self, uint32_t enterprise, int bit)
{
    for (size_t i = 0; self && i < self->count; i++) {
        const s_line_t *x = &self->lines[i];
        if (x->kind == S_BIT && x->number == bit && s_maker (x, enterprise))
            return s_class_of (x);
    }
    odc_alert_class_t c = s_class_of (NULL);
    c.severity = "warning";
    return c;
}

void
odc_alert_classify_rows (const odc_alert_codes_t *self, uint32_t enterprise, Odc__Alert **rows,
                         size_t n, char **saved)
{
    for (size_t i = 0; i < n; i++) {
        Odc__Alert *a = rows[i];
        saved[2 * i] = a->standard;
        saved[2 * i + 1] = a->category;
        odc_alert_class_t c =
            odc_alert_classify_row (self, enterprise, a->group, a->code, a->description);
        a->standard = (char *)(c.status ? "status" : c.code);
        a->category = (char *)c.category;
    }
}

void
odc_alert_rows_restore (Odc__Alert **rows, size_t n, char **saved)
{
    for (size_t i = 0; i < n; i++) {
        rows[i]->standard = saved[2 * i];
        rows[i]->category = saved[2 * i + 1];
    }
}

const char *
odc_alert_severity_name (int severity)
{
    return severity == 3 ? "critical" : severity == 4 || severity == 5 ? "warning" : "information";
}

const char *
odc_alert_training_name (int training)
{
    switch (training) {
    case 3: return "untrained";
    case 4: return "trained";
    case 5: return "field_service";
    case 6: return "management";
    case 7: return "none";
    default: return "unknown";
    }
}
