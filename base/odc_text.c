/*  odc_text: see odc_text.h. */
#include "odc_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t
odc_utf8_char (const unsigned char *s, size_t n, uint32_t *cp)
{
    if (!n)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    }
    /*  0x80-0xc1: a continuation byte, or the start of an overlong
        2-byte form; past 0xf4: past U+10FFFF. */
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!len || len > n || c > 0xf4)
        return 0;
    uint32_t v = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10ffff)))
        return 0; /* overlong, or out of range */
    if (v >= 0xd800 && v <= 0xdfff)
        return 0; /* surrogates are not characters */
    if (cp)
        *cp = v;
    return len;
}

bool
odc_utf8_valid (const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = odc_utf8_char (s + i, len - i, NULL);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t
odc_text_cut (const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < max) {
        size_t n = odc_utf8_char (s + i, len - i, NULL);
        n = n ? n : 1; /* a bad byte is one byte */
        if (i + n > max)
            break;
        i += n;
    }
    return i;
}

void
odc_text_json (FILE *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    fputc ('"', out);
    for (size_t i = 0; i < len;) {
        size_t n = odc_utf8_char (s + i, len - i, NULL);
        if (!n) {
            fputs ("\\ufffd", out);
            i++;
        }
        else if (s[i] == '"' || s[i] == '\\')
            fprintf (out, "\\%c", s[i++]);
        else if (s[i] < 0x20 || s[i] == 0x7f)
            fprintf (out, "\\u%04x", s[i++]);
        else {
            fwrite (s + i, 1, n, out);
            i += n;
        }
    }
    fputc ('"', out);
}

static bool
s_printable (const unsigned char *s, size_t n, size_t *len)
{
    uint32_t cp = 0;
    *len = odc_utf8_char (s, n, &cp);
    if (!*len) {
        *len = 1;
        return false;
    }
    return !(cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f));
}

void
odc_text_fprint (FILE *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0, n = 0; i < len; i += n) {
        if (s_printable (s + i, len - i, &n))
            fwrite (s + i, 1, n, out);
        else
            fputs ("\xef\xbf\xbd", out);
    }
}

const char *
odc_text_printable (char *buf, size_t size, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t len = strlen ((const char *)s), o = 0;
    for (size_t i = 0, n = 0; i < len; i += n) {
        bool ok = s_printable (s + i, len - i, &n);
        size_t w = ok ? n : 3;
        if (o + w + 1 > size)
            break;
        memcpy (buf + o, ok ? (const char *)s + i : "\xef\xbf\xbd", w);
        o += w;
    }
    if (size)
        buf[o] = 0;
    return buf;
}

bool
odc_text_error (char **error, const char *path, int lineno, const char *why)
{
    if (asprintf (error, "%s:%d: %s", path, lineno, why) == -1)
        *error = NULL;
    return false;
}

bool
odc_text_each_line (const char *path, size_t max_lines,
                    bool (*fn) (char *line, int lineno, void *arg, char **error), void *arg,
                    char **error)
{
    *error = NULL;
    FILE *in = fopen (path, "r");
    if (!in) {
        if (asprintf (error, "%s: %s", path, strerror (errno)) == -1)
            *error = NULL;
        return false;
    }
    char line[4096];
    int lineno = 0;
    size_t count = 0;
    bool ok = true;
    while (ok && fgets (line, sizeof line, in)) {
        lineno++;
        size_t len = strlen (line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            ok = odc_text_error (error, path, lineno, "line longer than 4095 bytes");
            break;
        }
        line[strcspn (line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        if (count++ == max_lines) {
            char why[64];
            snprintf (why, sizeof why, "more than %zu lines", max_lines);
            ok = odc_text_error (error, path, lineno, why);
            break;
        }
        ok = fn (line, lineno, arg, error);
    }
    fclose (in);
    return ok;
}
