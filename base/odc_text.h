/*  odc_text: text that comes from outside (devices, files, the portal)
    made safe to keep and to write, in one place for every writer.

    Text from a printer or a device list is octets, not always UTF-8: a
    DisplayString may hold Latin-1, a broken firmware anything. What the
    collector keeps is bounded (ODC_TEXT_MAX, cut at a character boundary:
    odc_text_cut), and what it writes as JSON is always valid UTF-8
    (odc_text_json): every byte that does not start a valid UTF-8 sequence
    (a stray continuation byte, an overlong form, a surrogate, a code
    point past U+10FFFF, a sequence cut short) is written as U+FFFD. The
    XML writer (bridge/odc_xml.c) uses the same test, odc_utf8_char, and
    escapes such bytes instead, so they survive the trip to the portal.

    Cost: one pass over the text, no allocation (odc_text_json writes
    straight to its stream). */
#ifndef ODC_TEXT_H
#define ODC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*  The length (1-4) of the valid UTF-8 sequence at s (at most n bytes),
    and its code point in *cp (may be NULL); 0 when the bytes there are not
    valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
    U+10FFFF, nothing cut short). */
size_t odc_utf8_char (const unsigned char *s, size_t n, uint32_t *cp);

/*  Whether text[0..len) is all valid UTF-8. */
bool odc_utf8_valid (const char *text, size_t len);

/*  The longest prefix of text[0..len) of at most max bytes that does not
    end inside a UTF-8 sequence. Returns len when it fits. */
size_t odc_text_cut (const char *text, size_t len, size_t max);

/*  text[0..len) as a JSON string, quotes included: " and \ escaped,
    control characters as \u00XX, invalid UTF-8 as \ufffd. */
void odc_text_json (FILE *out, const char *text, size_t len);

/*  text[0..len) for a terminal or a CSV cell, no quotes: invalid UTF-8
    and control characters (C0, DEL, C1: a device's ESC sequences must not
    drive the user's terminal) as U+FFFD, the rest as it is. */
void odc_text_fprint (FILE *out, const char *text, size_t len);

/*  The same into buf (size bytes, always terminated; cut at a character
    boundary when it does not fit). Returns buf. */
const char *odc_text_printable (char *buf, size_t size, const char *text);

/*  The data files' lines (snmp/ data files): each line of path that is neither
    empty nor a '#' comment given to fn (its end of line cut), with its
    number; at most max_lines of them and 4095 bytes each. fn returns false
    with *error set (odc_text_error) to stop. Returns true, or false with
    *error (the caller frees) naming the file, the line and the reason. */
bool odc_text_each_line (const char *path, size_t max_lines,
                         bool (*fn) (char *line, int lineno, void *arg, char **error), void *arg,
                         char **error);
/*  *error = "PATH:LINENO: WHY"; returns false. */
bool odc_text_error (char **error, const char *path, int lineno, const char *why);

#endif
