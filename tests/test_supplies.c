/*  test_supplies: the supply rules (snmp/odc_supplies.h with the project's
    snmp/supply-rules.tsv): the part number, kind and colour of rows as
    printers write them, no part number where a description holds none,
    broken rule files refused with their line and reason, hostile rows
    (any length, NULL, any bytes) survived; and every supply row of the
    real recordings (../shared/fixtures/printers) against the reviewed
    golden file tests/golden/supply-ids.tsv.

    ODC_GOLDEN_UPDATE=1 build/test_supplies rewrites the golden file
    (keeping its opening comments): read every changed line against the
    recording before committing it. Without the recordings the golden
    check says SKIP and the rest runs. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odc_supplies.h"
#include "odc_test.h"
#include "odc_text.h"

static odc_supply_rules_t *s_rules;

/*  One row identified; checks sku ("" for none), kind, colour. */
#define EXPECT(ent, descr, type, tint, want_sku, want_kind, want_colour)                           \
    do {                                                                                           \
        odc_supply_id_t id_;                                                                       \
        odc_supply_identify (s_rules, ent, descr, type, tint, &id_);                               \
        CHECKF (!strcmp (id_.sku, want_sku) && !strcmp (id_.kind, want_kind) &&                    \
                    !strcmp (id_.colour, want_colour),                                             \
                "\"%s\": got sku '%s' %s %s, want '%s' %s %s", descr, id_.sku, id_.kind,           \
                id_.colour, want_sku, want_kind, want_colour);                                     \
    } while (0)

/* ------------------------------------------------------------------------
   Rows as printers write them */

static void
test_part_numbers (void)
{
    /*  HP: the part number after "HP", not HP's short number before it. */
    EXPECT (11, "Black Cartridge 827A HP CF300A", 21, NULL, "CF300A", "toner", "black");
    EXPECT (11, "HP CF400X", 3, "black", "CF400X", "toner", "black");
    EXPECT (11, "Black Cartridge HP CF410A", 0, NULL, "CF410A", "toner", "black");
    EXPECT (11, "Magenta Cartridge HP CF413A This description is longer than 32", 0, NULL, "CF413A",
            "toner", "magenta");
    EXPECT (11, "Imaging Drum HP CF219A", 9, NULL, "CF219A", "drum", "none");
    /*  A bare HP number: the shape says nothing of the kind (CE285A is a
        toner, CE314A a drum). */
    EXPECT (11, "CE285A", 0, NULL, "CE285A", "other", "unknown");
    EXPECT (11, "Maintenance Kit HP 110V-Q2429A, 220V-Q2430A", 1, NULL, "Q2429A", "maintenance_kit",
            "none");
    EXPECT (11, "Image Transfer Kit HP C9734B", 1, NULL, "C9734B", "transfer_belt", "none");
    EXPECT (11, "Image Fuser Kit HP 110V-Q3984A, 220V-Q3985A", 2, NULL, "Q3984A", "fuser", "none");
    /*  Kyocera and its rebadges: the whole description is the part number;
        the colour from the colorant, or the code's colour letter. */
    EXPECT (1347, "TK-1162", 3, "black", "TK-1162", "toner", "black");
    EXPECT (1347, "PK-3010S", 3, NULL, "PK-3010S", "toner", "unknown");
    EXPECT (1347, "TK-560K", 0, NULL, "TK-560K", "toner", "black");
    EXPECT (1347, "TK-560Y", 0, NULL, "TK-560Y", "toner", "yellow");
    EXPECT (1347, "MK-1150", 0, NULL, "MK-1150", "maintenance_kit", "none");
    EXPECT (1347, "Waste Toner Box", 4, NULL, "", "waste_toner", "none");
    /*  Epson: the first of the codes. */
    EXPECT (1248, "Black Ink Supply Unit T9441/T9451/T9461", 5, NULL, "T9441", "ink", "black");
    EXPECT (1248, "Cyan Ink Supply Unit T9442/T9452", 5, NULL, "T9442", "ink", "cyan");
    EXPECT (1248, "Maintenance Box", 8, NULL, "", "waste_ink", "none");
    /*  Xerox: the part number, not the serial after it. */
    EXPECT (253, "Xerox Black Print Cartridge, Replace with PN 106R02651;SN 13021712973", 0, NULL,
            "106R02651", "toner", "black");
    EXPECT (253, "Maintenance Kit, Phaser 5550, P/N 115R00033(110V) / P/N 115R00034(220 V)", 0,
            NULL, "115R00033", "maintenance_kit", "none");
    EXPECT (253, "Genuine Xerox Solid Ink Black, Phaser 8560/8560MFP, P/N 108R00727", 12, NULL,
            "108R00727", "ink", "black");
    EXPECT (297, "Toner Cartridge CT201370", 3, "yellow", "CT201370", "toner", "yellow");
    /*  Brother, Samsung, Canon, Lexmark, Konica Minolta, Sharp, Toshiba. */
    EXPECT (2435, "TN-2420", 0, NULL, "TN-2420", "toner", "unknown");
    EXPECT (2435, "TN-423BK", 0, NULL, "TN-423BK", "toner", "black");
    EXPECT (2435, "DR-2400", 0, NULL, "DR-2400", "drum", "none");
    EXPECT (236, "MLT-D111S", 3, NULL, "MLT-D111S", "toner", "unknown");
    EXPECT (236, "Cyan Toner CLT-C406S", 3, NULL, "CLT-C406S", "toner", "cyan");
    EXPECT (1602, "Canon Cartridge 719/719H", 0, NULL, "719", "toner", "unknown");
    EXPECT (1602, "Canon Cartridge 718 Black", 0, NULL, "718", "toner", "black");
    EXPECT (1602, "Canon GPR-53 Black Toner", 3, NULL, "GPR-53", "toner", "black");
    EXPECT (641, "Black Toner Cartridge 50F2H00", 3, NULL, "50F2H00", "toner", "black");
    EXPECT (18334, "Toner (Black) TN-324K", 3, NULL, "TN-324K", "toner", "black");
    EXPECT (2385, "Black Toner MX-23GTBA", 3, NULL, "MX-23GTBA", "toner", "black");
    EXPECT (1129, "Toner T-FC330EK", 3, NULL, "T-FC330EK", "toner", "unknown");
    /*  The maker unknown: only what any maker's description would say. */
    EXPECT (0, "TK-1162", 3, NULL, "", "toner", "unknown");
    EXPECT (0, "Black Cartridge HP CF410A", 0, NULL, "CF410A", "toner", "black");
    EXPECT (0, "Black Ink, Phaser 8500/8550, PN 108R00668", 0, NULL, "108R00668", "ink", "black");
}

/*  Words are not part numbers: a colour, "Cartridge", "Toner", "Unit", a
    maker's name, a serial number, a model. */
static void
test_no_sku_invented (void)
{
    EXPECT (2435, "Black Toner Cartridge", 3, NULL, "", "toner", "black");
    EXPECT (2435, "Drum Unit", 9, NULL, "", "drum", "none");
    EXPECT (2435, "Belt Unit", 1, NULL, "", "transfer_belt", "none");
    EXPECT (2435, "Waste Toner Box", 4, NULL, "", "waste_toner", "none");
    EXPECT (18334, "Toner (Cyan)", 3, NULL, "", "toner", "cyan");
    EXPECT (18334, "Waste Toner Box", 4, NULL, "", "waste_toner", "none");
    EXPECT (18334, "Transfer Roller", 20, NULL, "", "transfer_belt", "none");
    EXPECT (2001, "Black Toner Cartridge OKI DATA CORP", 3, NULL, "", "toner", "black");
    EXPECT (2001, "Yellow Image Drum Unit OKI DATA CORP", 9, NULL, "", "drum", "yellow");
    EXPECT (2001, "Fuser Unit OKI DATA CORP", 15, NULL, "", "fuser", "none");
    EXPECT (236, "Black Toner Cartridge S/N:CRUM-", 3, NULL, "", "toner", "black");
    EXPECT (236, "Tray 1 Retard Roller Life", 1, NULL, "", "maintenance_kit", "none");
    EXPECT (674, "Imaging Unit", 9, NULL, "", "drum", "none");
    EXPECT (674, "Roller Kit", 1, NULL, "", "maintenance_kit", "none");
    EXPECT (2385, "Black Developer", 10, NULL, "", "developer", "black");
    EXPECT (2385, "Fusing Unit", 15, NULL, "", "fuser", "none");
    EXPECT (1602, "CANON Matte Black Ink Tank", 6, NULL, "", "ink", "matte_black");
    EXPECT (1602, "CANON Waste Ink Tank", 8, NULL, "", "waste_ink", "none");
    EXPECT (297, "Black Drum Cartridge", 9, NULL, "", "drum", "black");
    EXPECT (297, "Waste Toner Container", 4, NULL, "", "waste_toner", "none");
    EXPECT (11, "Black Toner [K] Cartridge;SN190E8280E0000466", 0, NULL, "", "toner", "black");
    EXPECT (253, "Cyan, ColorQube 8570", 0, NULL, "", "other", "cyan");
    EXPECT (1248, "Ink Cartridge SC-T3405", 6, NULL, "", "ink", "unknown");
    EXPECT (2385, "Toner MX-M266N", 3, NULL, "", "toner", "unknown");
    EXPECT (0, "Toner Cartridge", 0, NULL, "", "toner", "unknown");
    EXPECT (0, "Staple Unit", 0, NULL, "", "staples", "none");
    EXPECT (0, "", 0, NULL, "", "other", "unknown");
}

/*  The type code before the words; the colorant before the words; a
    supply with no colour has none whatever colorant it points at. */
static void
test_sources (void)
{
    EXPECT (0, "Supply 1", 21, NULL, "", "toner", "unknown");
    EXPECT (0, "Supply 1", 15, NULL, "", "fuser", "none");
    EXPECT (0, "Punch Waste", 26, NULL, "", "other", "unknown");
    EXPECT (0, "Waste Toner", 2, NULL, "", "waste_toner", "none");
    EXPECT (0, "Toner", 3, "cyan", "", "toner", "cyan");
    EXPECT (0, "Black Toner", 3, "Yellow", "", "toner", "yellow");
    EXPECT (0, "Toner", 3, "unknown", "", "toner", "unknown");
    EXPECT (0, "Waste Toner Box", 4, "black", "", "waste_toner", "none");
    EXPECT (0, "Ink", 5, "photo black", "", "ink", "photo_black");
    EXPECT (0, "Ink", 5, "light cyan", "", "ink", "light_cyan");
    EXPECT (0, "Drum", 9, "magenta", "", "drum", "magenta");
    /*  No rules: nothing known, nothing made up. */
    odc_supply_id_t id;
    odc_supply_identify (NULL, 11, "HP CF410A", 3, "black", &id);
    CHECK (!id.sku[0] && !strcmp (id.kind, "other") && !strcmp (id.colour, "unknown"));
    CHECK (odc_supply_rules_count (s_rules) > 100);
}

/* ------------------------------------------------------------------------
   Broken rule files: each refused with the file, the line and the reason */

static char *
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    fputs (text, f);
    fclose (f);
    char *error = NULL;
    odc_supply_rules_t *r = odc_supply_rules_load (path, &error);
    CHECK (!r || !error);
    odc_supply_rules_destroy (&r);
    CHECK (!r);
    return error;
}

static void
test_rule_errors (void)
{
    char long_pattern[400] = "*\tsku\ttext\t(";
    memset (long_pattern + strlen (long_pattern), 'A', 260);
    strcat (long_pattern, ")\t1\n");
    const char *bad[][2] = {
        {"*\tsku\ttext\t(A)\n", "want 5 columns"},
        {"*\tsku\ttext\t(A)\t1\textra\n", "want 5 columns"},
        {"x\tsku\ttext\t(A)\t1\n", "ENTERPRISE"},
        {"-11\tsku\ttext\t(A)\t1\n", "ENTERPRISE"},
        {"4294967296\tsku\ttext\t(A)\t1\n", "ENTERPRISE"},
        {"0\tsku\ttext\t(A)\t1\n", "ENTERPRISE"},
        {"*\tpart\ttext\t(A)\t1\n", "FIELD"},
        {"*\tsku\ttext\t(unclosed\t1\n", "not a POSIX extended regular expression"},
        {"*\tkind\ttext\t[[:bogus:]]\ttoner\n", "not a POSIX extended regular expression"},
        {long_pattern, "longer than 256"},
        {"*\tsku\ttext\tCF[0-9]{3}A\t1\n", "needs a capture group"},
        {"*\tsku\ttext\t(CF)[0-9]{3}A\t2\n", "capture group the pattern does not have"},
        {"*\tsku\ttext\t(CF)\tone\n", "capture group 1-9"},
        {"*\tsku\ttext\t(CF)\t0\n", "capture group 1-9"},
        {"*\tsku\ttype\t3\t1\n", "SOURCE"},
        {"*\tkind\ttext\ttoner\tcartridge\n", "not a kind"},
        {"*\tkind\ttype\tthree\ttoner\n", "prtMarkerSuppliesType"},
        {"*\tkind\ttype\t0\ttoner\n", "prtMarkerSuppliesType"},
        {"*\tkind\tcolorant\tblack\ttoner\n", "SOURCE"},
        {"*\tcolour\ttext\tblack\tblackish\n", "not a colour"},
        {"*\tcolour\tkind\tpaper\tnone\n", "not a kind"},
        {"*\tcolour\ttype\t3\tblack\n", "SOURCE"},
    };
    char path[] = "/tmp/odc-supply-rules-XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    close (fd);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[600];
        snprintf (text, sizeof text, "# a comment\n\n%s", bad[i][0]);
        char *error = s_write (path, text);
        CHECKF (error && strstr (error, path) && strstr (error, ":3: ") &&
                    strstr (error, bad[i][1]),
                "case %zu: %s", i, error ? error : "(no error)");
        free (error);
    }
    /*  A maker line after the lines for every maker, in the same field. */
    char *error = s_write (path, "# x\n*\tsku\ttext\t(A)\t1\n\n11\tsku\ttext\t(B)\t1\n");
    CHECKF (error && strstr (error, ":4: ") && strstr (error, "before"), "%s", error ? error : "-");
    free (error);
    /*  ... in another field it is fine, and a '-' line stops the sku lines. */
    FILE *f = fopen (path, "w");
    fputs ("*\tkind\ttype\t3\ttoner\n"
           "11\tsku\ttext\tS/N\t-\n"
           "11\tsku\ttext\t([A-Z]{2}[0-9]+)\t1\n",
           f);
    fclose (f);
    odc_supply_rules_t *r = odc_supply_rules_load (path, &error);
    CHECKF (r && odc_supply_rules_count (r) == 3, "%s", error ? error : "-");
    odc_supply_id_t id;
    odc_supply_identify (r, 11, "Toner AB123", 3, NULL, &id);
    CHECK (!strcmp (id.sku, "AB123") && !strcmp (id.kind, "toner"));
    odc_supply_identify (r, 11, "Toner AB123 S/N", 3, NULL, &id);
    CHECK (!id.sku[0]);
    odc_supply_identify (r, 0, "Toner AB123", 3, NULL, &id);
    CHECK (!id.sku[0]);
    odc_supply_rules_destroy (&r);
    odc_supply_rules_destroy (&r);
    /*  Too many lines, and a line too long. */
    f = fopen (path, "w");
    for (int i = 0; i <= ODC_SUPPLY_RULES_MAX; i++)
        fprintf (f, "*\tkind\ttype\t%d\ttoner\n", i + 1);
    fclose (f);
    r = odc_supply_rules_load (path, &error);
    CHECKF (!r && error && strstr (error, ":2049: ") && strstr (error, "more than 2048"), "%s",
            error ? error : "-");
    free (error);
    f = fopen (path, "w");
    fputs ("*\tkind\ttype\t3\ttoner\n*\tsku\ttext\t(", f);
    for (int i = 0; i < 5000; i++)
        fputc ('A', f);
    fputs (")\t1\n", f);
    fclose (f);
    r = odc_supply_rules_load (path, &error);
    CHECKF (!r && error && strstr (error, ":2: ") && strstr (error, "longer than 4095"), "%s",
            error ? error : "-");
    free (error);
    r = odc_supply_rules_load ("/nonexistent/supply-rules.tsv", &error);
    CHECK (!r && error && strstr (error, "/nonexistent/supply-rules.tsv"));
    free (error);
    /*  An empty file is no rules: nothing known. */
    error = s_write (path, "# nothing\n");
    CHECK (!error);
    unlink (path);
}

/* ------------------------------------------------------------------------
   Hostile rows */

static void
test_hostile_rows (void)
{
    odc_supply_id_t id;
    /*  NULL and empty. */
    odc_supply_identify (s_rules, 11, NULL, 3, NULL, &id);
    CHECK (!id.sku[0] && !strcmp (id.kind, "toner") && !strcmp (id.colour, "unknown"));
    odc_supply_identify (s_rules, 11, NULL, 0, "", &id);
    CHECK (!id.sku[0] && !strcmp (id.kind, "other"));
    /*  Long: the part number in the first 1,023 bytes is found, one past
        them is not looked at; a part number longer than the field is cut. */
    size_t big = 100000;
    char *text = malloc (big + 64);
    strcpy (text, "Black Cartridge HP CF410A ");
    memset (text + strlen (text), 'x', big - strlen (text));
    text[big] = 0;
    odc_supply_identify (s_rules, 11, text, 0, NULL, &id);
    CHECK (!strcmp (id.sku, "CF410A") && !strcmp (id.colour, "black"));
    memset (text, 'x', big);
    strcpy (text + ODC_SUPPLY_TEXT_MAX + 10, " HP CF410A");
    odc_supply_identify (s_rules, 11, text, 0, NULL, &id);
    CHECK (!id.sku[0]);
    strcpy (text, "Toner P/N ");
    memset (text + strlen (text), '7', 300);
    text[310] = 0;
    odc_supply_identify (s_rules, 0, text, 3, NULL, &id);
    CHECKF (strlen (id.sku) == ODC_SUPPLY_SKU_MAX - 1 && id.sku[0] == '7', "'%s'", id.sku);
    /*  Any bytes: non-UTF-8, control characters, every byte value. */
    odc_supply_identify (s_rules, 2435, "Black \xff\xfe Toner \x1b[2J Cartridge \xc3", 0, NULL,
                         &id);
    CHECK (!id.sku[0] && !strcmp (id.kind, "toner") && !strcmp (id.colour, "black"));
    odc_supply_identify (s_rules, 2001, "Toner usag\xc3\xa9", 0, NULL, &id);
    CHECK (!strcmp (id.kind, "waste_toner"));
    for (int i = 0; i < 255; i++)
        text[i] = (char)(i + 1);
    strcpy (text + 255, " HP CF410A");
    odc_supply_identify (s_rules, 11, text, 0, "\xff\xfe\x01", &id);
    CHECK (!strcmp (id.sku, "CF410A"));
    /*  Random bytes: whatever comes out is bounded and, when a SKU, printed
        in the description. */
    uint32_t seed = 18;
    int skus = 0;
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + round % 400;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned char c = (unsigned char)(seed >> 16);
            /*  Half the bytes from part-number alphabets, to make hits. */
            text[i] = (char)((seed >> 8) & 1 ? "HP CF410A TK-1162 P/N 106R-"[c % 27] : c ? c : 'x');
        }
        text[n] = 0;
        odc_supply_identify (s_rules, round % 2 ? 11 : 1347, text, round % 40, text + n / 2, &id);
        size_t len = strnlen (id.sku, sizeof id.sku);
        CHECKF (len < sizeof id.sku && id.kind && id.colour, "round %d", round);
        if (len) {
            skus++;
            CHECKF (strstr (text, id.sku), "round %d: '%s' not in the text", round, id.sku);
        }
    }
    CHECKF (skus > 0, "no SKU in 3000 random rows");
    free (text);
}

/* ------------------------------------------------------------------------
   The real recordings against the golden file */

typedef struct {
    int dev, n, type, tint_index;
    char *descr;
} s_row_t;

typedef struct {
    int dev, m;
    char *value;
} s_tint_t;

typedef struct {
    uint32_t enterprise;
    s_row_t rows[128];
    size_t n_rows;
    s_tint_t tints[64];
    size_t n_tints;
} s_recording_t;

/*  An OCTET STRING value of tag 4 (as it is) or 4x (hex) as a C string. */
static char *
s_octets (const char *tag, const char *value)
{
    if (strcmp (tag, "4x"))
        return strdup (value);
    size_t len = strlen (value);
    char *out = calloc (1, len / 2 + 1);
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned v;
        if (sscanf (value + i, "%2x", &v) != 1)
            break;
        out[i / 2] = (char)v;
    }
    return out;
}

static s_row_t *
s_row (s_recording_t *r, int dev, int n)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].dev == dev && r->rows[i].n == n)
            return &r->rows[i];
    if (r->n_rows == sizeof r->rows / sizeof r->rows[0])
        return NULL;
    s_row_t *x = &r->rows[r->n_rows++];
    *x = (s_row_t){dev, n, 0, 0, NULL};
    return x;
}

/*  The snmprec format (fixtures README): OID|TAG|VALUE a line, only the
    first two '|' split. */
static void
s_read_recording (const char *path, s_recording_t *r)
{
    memset (r, 0, sizeof *r);
    FILE *f = fopen (path, "r");
    CHECKF (f, "%s", path);
    if (!f)
        return;
    char *line = NULL;
    size_t size = 0;
    ssize_t len;
    while ((len = getline (&line, &size, f)) > 0) {
        line[strcspn (line, "\r\n")] = 0;
        char *tag = strchr (line, '|');
        char *value = tag ? strchr (tag + 1, '|') : NULL;
        if (!value)
            continue;
        *tag++ = 0, *value++ = 0;
        int col, dev, n;
        unsigned long ent;
        if (!strcmp (line, "1.3.6.1.2.1.1.2.0") && sscanf (value, "1.3.6.1.4.1.%lu", &ent) == 1)
            r->enterprise = (uint32_t)ent;
        else if (sscanf (line, "1.3.6.1.2.1.43.11.1.1.%d.%d.%d", &col, &dev, &n) == 3) {
            s_row_t *x = col == 3 || col == 5 || col == 6 ? s_row (r, dev, n) : NULL;
            if (!x)
                continue;
            if (col == 3)
                x->tint_index = atoi (value);
            else if (col == 5)
                x->type = atoi (value);
            else if (col == 6 && (!strcmp (tag, "4") || !strcmp (tag, "4x"))) {
                free (x->descr);
                x->descr = s_octets (tag, value);
            }
        }
        else if (sscanf (line, "1.3.6.1.2.1.43.12.1.1.4.%d.%d", &dev, &n) == 2 &&
                 r->n_tints < sizeof r->tints / sizeof r->tints[0] &&
                 (!strcmp (tag, "4") || !strcmp (tag, "4x")))
            r->tints[r->n_tints++] = (s_tint_t){dev, n, s_octets (tag, value)};
    }
    free (line);
    fclose (f);
}

static int
s_row_order (const void *a, const void *b)
{
    const s_row_t *x = a, *y = b;
    return x->dev != y->dev ? x->dev - y->dev : x->n - y->n;
}

static const char *
s_tint (const s_recording_t *r, const s_row_t *x)
{
    for (size_t i = 0; i < r->n_tints; i++)
        if (r->tints[i].dev == x->dev && r->tints[i].m == x->tint_index)
            return r->tints[i].value;
    return NULL;
}

/*  The recordings' paths (relative to the folder), sorted. */
static char **s_files;
static size_t s_n_files;
static size_t s_root_len;

static int
s_collect (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    size_t len = strlen (path);
    if (flag == FTW_F && len > 8 && !strcmp (path + len - 8, ".snmprec")) {
        s_files = realloc (s_files, (s_n_files + 1) * sizeof *s_files);
        s_files[s_n_files++] = strdup (path + s_root_len + 1);
    }
    return 0;
}

static int
s_path_order (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

/*  Every row of every recording as golden lines: PATH INDEX SKU KIND
    COLOUR DESCRIPTION (the last for the reader). Returns the text. */
static char *
s_render (const char *root, int *recordings, int *rows, int *skus)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *o = open_memstream (&out, &out_len);
    s_root_len = strlen (root);
    nftw (root, s_collect, 16, FTW_PHYS);
    qsort (s_files, s_n_files, sizeof *s_files, s_path_order);
    for (size_t i = 0; i < s_n_files; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", root, s_files[i]);
        s_recording_t *r = calloc (1, sizeof *r);
        s_read_recording (path, r);
        qsort (r->rows, r->n_rows, sizeof r->rows[0], s_row_order);
        int described = 0;
        for (size_t k = 0; k < r->n_rows; k++) {
            const s_row_t *x = &r->rows[k];
            if (!x->descr)
                continue;
            described++;
            odc_supply_id_t id;
            odc_supply_identify (s_rules, r->enterprise, x->descr, x->type, s_tint (r, x), &id);
            /*  No SKU that the description does not print. */
            CHECKF (!id.sku[0] || strstr (x->descr, id.sku), "%s %d: '%s'", s_files[i], x->n,
                    id.sku);
            char index[32], shown[256];
            if (x->dev == 1)
                snprintf (index, sizeof index, "%d", x->n);
            else
                snprintf (index, sizeof index, "%d.%d", x->dev, x->n);
            odc_text_printable (shown, sizeof shown, x->descr);
            fprintf (o, "%s\t%s\t%s\t%s\t%s\t%s\n", s_files[i], index, id.sku[0] ? id.sku : "-",
                     id.kind, id.colour, shown);
            (*rows)++;
            *skus += id.sku[0] != 0;
        }
        *recordings += described > 0;
        for (size_t k = 0; k < r->n_rows; k++)
            free (r->rows[k].descr);
        for (size_t k = 0; k < r->n_tints; k++)
            free (r->tints[k].value);
        free (r);
        free (s_files[i]);
    }
    free (s_files);
    s_files = NULL, s_n_files = 0;
    fclose (o);
    return out;
}

/*  The compared part of a golden line: its first five columns. */
static size_t
s_key_len (const char *line, int columns)
{
    const char *p = line;
    for (int c = 0; c < columns && *p && *p != '\n'; p++)
        if (*p == '\t' && ++c == columns)
            return (size_t)(p - line);
    return strcspn (line, "\n");
}

/*  Whether line (to its end) is among lines, compared on the first
    columns of each. */
static bool
s_has (const char *lines, const char *line, int columns)
{
    size_t n = s_key_len (line, columns);
    for (const char *p = lines; *p; p += strcspn (p, "\n") + (p[strcspn (p, "\n")] != 0)) {
        if (*p == '#' || *p == '\n')
            continue;
        if (s_key_len (p, columns) == n && !strncmp (p, line, n))
            return true;
    }
    return false;
}

/*  Each line of a missing in b, printed with what; returns how many. */
static int
s_diff (const char *a, const char *b, const char *what)
{
    int missing = 0;
    for (const char *p = a; *p; p += strcspn (p, "\n") + (p[strcspn (p, "\n")] != 0)) {
        if (*p == '#' || *p == '\n' || s_has (b, p, 5))
            continue;
        fprintf (stderr, "  %s: %.*s\n", what, (int)strcspn (p, "\n"), p);
        missing++;
    }
    return missing;
}

static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    if (getdelim (&text, &size, 0, f) < 0) {
        free (text);
        text = strdup ("");
    }
    fclose (f);
    return text;
}

static void
test_golden (void)
{
    const char *root = getenv ("ODC_FIXTURES") ? getenv ("ODC_FIXTURES")
                                               : ODC_DATA_DIR "/../shared/fixtures/printers";
    const char *golden = ODC_DATA_DIR "/tests/golden/supply-ids.tsv";
    if (access (root, R_OK) != 0) {
        printf ("SKIP: supply golden: %s missing (the real recordings; set ODC_FIXTURES)\n", root);
        return;
    }
    int recordings = 0, rows = 0, skus = 0;
    char *got = s_render (root, &recordings, &rows, &skus);
    char *want = s_slurp (golden);
    printf ("     %d recordings, %d supply rows, %d with a SKU\n", recordings, rows, skus);
    CHECKF (rows > 0, "no supply rows under %s", root);
    if (getenv ("ODC_GOLDEN_UPDATE") && *getenv ("ODC_GOLDEN_UPDATE")) {
        FILE *f = fopen (golden, "w");
        CHECKF (f, "%s", golden);
        if (f) {
            /*  Its opening comments stay; the rows are the code's. */
            size_t head = 0;
            while (want && want[head] == '#')
                head +=
                    strcspn (want + head, "\n") + (want[head + strcspn (want + head, "\n")] != 0);
            if (head)
                fwrite (want, 1, head, f);
            else
                fputs ("# tests/golden/supply-ids.tsv: the SKU, kind and colour of every supply\n"
                       "# row of the real recordings (tests/test_supplies.c). Review every row.\n"
                       "# RECORDING\tINDEX\tSKU\tKIND\tCOLOUR\tDESCRIPTION (for the reader, not "
                       "compared)\n",
                       f);
            fputs (got, f);
            fclose (f);
            printf ("     wrote %s: review every changed line against the recording\n", golden);
        }
    }
    else {
        CHECKF (want, "%s missing: ODC_GOLDEN_UPDATE=1 writes it", golden);
        if (want) {
            int differ = s_diff (got, want, "not in the golden file (code says)");
            differ += s_diff (want, got, "golden file says, code does not");
            CHECKF (differ == 0, "%d lines differ from %s", differ, golden);
        }
    }
    free (got);
    free (want);
}

int
main (void)
{
    char *error = NULL;
    s_rules = odc_supply_rules_load (ODC_DATA_DIR "/snmp/supply-rules.tsv", &error);
    CHECKF (s_rules, "%s", error ? error : "-");
    free (error);
    if (!s_rules)
        TEST_END ();
    RUN (test_part_numbers);
    RUN (test_no_sku_invented);
    RUN (test_sources);
    RUN (test_rule_errors);
    RUN (test_hostile_rows);
    RUN (test_golden);
    odc_supply_rules_destroy (&s_rules);
    TEST_END ();
}
