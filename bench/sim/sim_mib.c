/*  sim_mib: see sim_mib.h. */
#include "sim_mib.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "sim_fleet.h"

char *
sim_format (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *text = NULL;
    if (vasprintf (&text, fmt, ap) == -1)
        text = NULL;
    va_end (ap);
    return text;
}

int
sim_oid_compare (const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int
sim_oid_has_prefix (const uint32_t *oid, size_t len, const uint32_t *prefix, size_t plen)
{
    return len >= plen && sim_oid_compare (oid, plen, prefix, plen) == 0;
}

int
sim_oid_parse (const char *text, uint32_t *out, size_t max)
{
    size_t n = 0;
    const char *p = text;
    if (*p == '.')
        p++;
    while (*p) {
        if (!isdigit ((unsigned char)*p) || n == max)
            return -1;
        char *end;
        errno = 0;
        unsigned long v = strtoul (p, &end, 10);
        if (errno || v > 0xffffffffUL)
            return -1;
        out[n++] = (uint32_t)v;
        p = end;
        if (*p == '.') {
            p++;
            if (!*p)
                return -1;
        }
        else if (*p)
            return -1;
    }
    return n >= 2 ? (int)n : -1;
}

static void *
s_alloc (sim_mib_t *self, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if (self->pool_used + size > self->pool_size)
        return NULL; /* sized in advance: cannot happen */
    void *p = self->pool + self->pool_used;
    self->pool_used += size;
    return p;
}

static int
s_hex (const char *text, size_t len, uint8_t *out)
{
    if (len % 2)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        char pair[3] = {text[i], text[i + 1], 0};
        char *end;
        if (!isxdigit ((unsigned char)pair[0]) || !isxdigit ((unsigned char)pair[1]))
            return -1;
        out[i / 2] = (uint8_t)strtoul (pair, &end, 16);
    }
    return (int)(len / 2);
}

static int
s_role (const char *name, uint16_t *arg)
{
    *arg = 0;
    for (int r = 1; r < SIM_ROLE_COUNT; r++)
        if (sim_role_names[r] && strcmp (name, sim_role_names[r]) == 0)
            return r;
    return -1;
}

/*  One line: fills var (value bytes in the pool). NULL or an error text. */
static char *
s_parse_line (sim_mib_t *self, char *line, sim_var_t *var)
{
    char *bar1 = strchr (line, '|');
    char *bar2 = bar1 ? strchr (bar1 + 1, '|') : NULL;
    if (!bar2)
        return sim_format ("not OID|TAG|VALUE");
    *bar1 = *bar2 = 0;
    char *tag = bar1 + 1, *value = bar2 + 1;
    uint32_t name[SIM_OID_MAX];
    int len = sim_oid_parse (line, name, SIM_OID_MAX);
    if (len < 0)
        return sim_format ("'%s' is not a numeric OID", line);
    var->oid = (uint32_t *)s_alloc (self, (size_t)len * sizeof (uint32_t));
    memcpy (var->oid, name, (size_t)len * sizeof (uint32_t));
    var->oid_len = (uint16_t)len;

    /*  TAG[x][:module] ; our own ":odc=role" marks a dynamic value. */
    char *module = strchr (tag, ':');
    if (module) {
        *module++ = 0;
        if (strncmp (module, "odc=", 4) == 0) {
            int role = s_role (module + 4, &var->arg);
            if (role < 0)
                return sim_format ("unknown role '%s'", module + 4);
            var->role = (uint8_t)role;
        }
        /*  snmpsim variation modules are not simulated: the value is served
            as recorded. */
    }
    size_t tlen = strlen (tag);
    int hex = tlen > 1 && tag[tlen - 1] == 'x';
    if (hex)
        tag[--tlen] = 0;
    char *end;
    long code = strtol (tag, &end, 10);
    if (*end || end == tag)
        return sim_format ("tag '%s' is not a number", tag);
    size_t vlen = strlen (value);
    uint8_t *bytes = NULL;
    int n;
    switch (code) {
    case 2:  /* INTEGER */
    case 65: /* Counter32 */
    case 66: /* Gauge32 */
    case 67: /* TimeTicks */
    case 70: /* Counter64 */ {
        errno = 0;
        int64_t v;
        if (code == 70)
            v = (int64_t)strtoull (value, &end, 10);
        else
            v = strtoll (value, &end, 10);
        if (errno || *end || end == value)
            return sim_format ("'%s' is not a number", value);
        if (code == 2 && (v < INT32_MIN || v > INT32_MAX))
            return sim_format ("INTEGER %s out of range", value);
        if ((code == 65 || code == 66 || code == 67) && (v < 0 || v > UINT32_MAX))
            return sim_format ("unsigned 32-bit value %s out of range", value);
        var->type = code == 2    ? ASN_INTEGER
                    : code == 65 ? ASN_COUNTER
                    : code == 66 ? ASN_GAUGE
                    : code == 67 ? ASN_TIMETICKS
                                 : ASN_COUNTER64;
        bytes = (uint8_t *)s_alloc (self, sizeof (int64_t));
        memcpy (bytes, &v, sizeof v);
        var->len = sizeof (int64_t);
        break;
    }
    case 4:  /* OCTET STRING */
    case 68: /* Opaque */
        var->type = code == 4 ? ASN_OCTET_STR : ASN_OPAQUE;
        bytes = (uint8_t *)s_alloc (self, vlen + 1);
        if (hex) {
            if ((n = s_hex (value, vlen, bytes)) < 0)
                return sim_format ("'%s' is not hex", value);
            var->len = (uint32_t)n;
        }
        else {
            memcpy (bytes, value, vlen);
            var->len = (uint32_t)vlen;
        }
        break;
    case 5: /* NULL */
        var->type = ASN_NULL;
        var->len = 0;
        break;
    case 6: { /* OBJECT IDENTIFIER */
        uint32_t v[SIM_OID_MAX];
        int l = sim_oid_parse (value, v, SIM_OID_MAX);
        if (l < 0)
            return sim_format ("'%s' is not a numeric OID value", value);
        var->type = ASN_OBJECT_ID;
        bytes = (uint8_t *)s_alloc (self, (size_t)l * sizeof (oid));
        for (int i = 0; i < l; i++)
            ((oid *)bytes)[i] = v[i];
        var->len = (uint32_t)((size_t)l * sizeof (oid));
        break;
    }
    case 64: /* IpAddress */
        var->type = ASN_IPADDRESS;
        bytes = (uint8_t *)s_alloc (self, 4);
        if (hex) {
            if (s_hex (value, vlen, bytes) != 4)
                return sim_format ("'%s' is not a 4-byte hex address", value);
        }
        else if (inet_pton (AF_INET, value, bytes) != 1)
            return sim_format ("'%s' is not an IPv4 address", value);
        var->len = 4;
        break;
    default: return sim_format ("unsupported tag %ld", code);
    }
    var->value = bytes;
    return NULL;
}

static int
s_sort (const void *a, const void *b)
{
    const sim_var_t *x = a, *y = b;
    int c = sim_oid_compare (x->oid, x->oid_len, y->oid, y->oid_len);
    if (c)
        return c;
    /*  Same OID twice (a real recording has this): keep file order, the
        first one wins (as snmpsim serves it). */
    return x < y ? -1 : x > y;
}

sim_mib_t *
sim_mib_parse (const char *name, const char *text, size_t size, char **error)
{
    sim_mib_t *self = calloc (1, sizeof *self);
    const char *base = strrchr (name, '/');
    self->name = strdup (base ? base + 1 : name);
    char *dot = strstr (self->name, ".snmprec");
    if (dot)
        *dot = 0;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    self->vars = calloc (lines, sizeof (sim_var_t));
    /*  Every byte of the text, as OID words (4 per 2 characters at most),
        values and padding, fits in this. */
    self->pool_size = size * 4 + lines * 64 + 64;
    self->pool = malloc (self->pool_size);
    char *copy = malloc (size + 1);
    memcpy (copy, text, size);
    copy[size] = 0;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        lineno++;
        size_t l = strlen (line);
        if (l && line[l - 1] == '\r')
            line[--l] = 0;
        if (!l || line[0] == '#')
            continue;
        /*  Trailing blanks go, as snmpsim drops them. */
        while (l && (line[l - 1] == ' ' || line[l - 1] == '\t'))
            line[--l] = 0;
        size_t pool_mark = self->pool_used;
        sim_var_t *var = &self->vars[self->count];
        memset (var, 0, sizeof *var);
        char *why = s_parse_line (self, line, var);
        if (why) {
            /*  Real recordings hold broken lines (a counter of "6git3159",
                an OID value of one arc): skip the line, say which and why,
                serve the rest. */
            fprintf (stderr, "opendca-sim: %s:%d: %s: line skipped\n", name, lineno, why);
            free (why);
            self->pool_used = pool_mark;
            self->skipped++;
            continue;
        }
        self->count++;
    }
    free (copy);
    qsort (self->vars, self->count, sizeof (sim_var_t), s_sort);
    /*  Drop later duplicates. */
    size_t out = 0;
    for (size_t i = 0; i < self->count; i++)
        if (out == 0 || sim_oid_compare (self->vars[out - 1].oid, self->vars[out - 1].oid_len,
                                         self->vars[i].oid, self->vars[i].oid_len) != 0)
            self->vars[out++] = self->vars[i];
    self->count = out;
    if (self->count == 0) {
        if (error)
            *error = sim_format ("%s: holds no varbind", name);
        sim_mib_destroy (&self);
        return NULL;
    }
    return self;
}

char *
sim_read_file (const char *path, size_t *size)
{
    FILE *in = fopen (path, "rb");
    if (!in)
        return NULL;
    char *text = NULL;
    FILE *mem = open_memstream (&text, size);
    char buffer[65536];
    size_t n;
    while ((n = fread (buffer, 1, sizeof buffer, in)) > 0)
        fwrite (buffer, 1, n, mem);
    fclose (in);
    fclose (mem);
    return text;
}

void
sim_mib_destroy (sim_mib_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_mib_t *self = *self_p;
    free (self->name);
    free (self->vars);
    free (self->pool);
    free (self);
    *self_p = NULL;
}

size_t
sim_mib_next (const sim_mib_t *self, const uint32_t *oid, size_t len)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sim_oid_compare (self->vars[mid].oid, self->vars[mid].oid_len, oid, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long
sim_mib_find (const sim_mib_t *self, const uint32_t *oid, size_t len)
{
    size_t i = sim_mib_next (self, oid, len);
    if (i > 0 && sim_oid_compare (self->vars[i - 1].oid, self->vars[i - 1].oid_len, oid, len) == 0)
        return (long)(i - 1);
    return -1;
}

int64_t
sim_var_int (const sim_var_t *var)
{
    int64_t v = 0;
    if (var->len == sizeof v)
        memcpy (&v, var->value, sizeof v);
    return v;
}
