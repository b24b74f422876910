/*  test_meters: the roll-up of raw counters into canonical meters
    (snmp/odc_meters.h) with the project's rules (snmp/meter-rules.tsv):
    each maker's sums on the values the public sources or our recordings
    give, the fallback to the Printer-MIB, nothing guessed, sheets turned
    into impressions only where the device says how; and rules files that
    are broken or hostile refused with the line and the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odc_meters.h"
#include "odc_test.h"

static odc_meter_rules_t *s_rules;

/*  A meter reading of maker enterprise with counters "name=value" (a
    trailing ":sheets" sets the unit). */
static Odc__MeterReading *
s_reading (uint32_t enterprise, const char *const *counters)
{
    Odc__MeterReading *r = calloc (1, sizeof *r);
    odc__meter_reading__init (r);
    r->enterprise = enterprise;
    size_t n = 0;
    while (counters[n])
        n++;
    r->counters = calloc (n ? n : 1, sizeof *r->counters);
    for (size_t i = 0; i < n; i++) {
        Odc__Counter *c = calloc (1, sizeof *c);
        odc__counter__init (c);
        char name[64], unit[16] = "impressions";
        unsigned long long v = 0;
        const char *eq = strchr (counters[i], '=');
        snprintf (name, sizeof name, "%.*s", (int)(eq - counters[i]), counters[i]);
        sscanf (eq + 1, "%llu:%15s", &v, unit);
        c->name = strdup (name);
        c->value = v;
        c->unit = strdup (unit);
        r->counters[r->n_counters++] = c;
    }
    odc_meters_rollup (s_rules, r);
    return r;
}

/*  The value of canonical meter name, -1 when absent. */
static long long
s_meter (const Odc__MeterReading *r, const char *name)
{
    const Odc__CanonicalMeter *c = odc_meters_find (r, name);
    return c ? (long long)c->value : -1;
}

static const char *
s_derivation (const Odc__MeterReading *r, const char *name)
{
    const Odc__CanonicalMeter *c = odc_meters_find (r, name);
    return c ? c->derivation : "";
}

#define READING(ent, ...) s_reading (ent, (const char *const[]){__VA_ARGS__, NULL})
#define FREE(r)           odc__meter_reading__free_unpacked (r, NULL)

static void
test_canon (void)
{
    /*  The 101/108 family, by size; the derivation names the counters. */
    Odc__MeterReading *r =
        READING (1602, "total=5000", "vendor.c101=4800", "vendor.c102=5300", "vendor.c103=500",
                 "vendor.c104=4300", "vendor.c108=3000", "vendor.c112=300", "vendor.c113=2700",
                 "vendor.c122=200", "vendor.c123=1600", "vendor.c201=1000", "vendor.c301=3800");
    CHECK (s_meter (r, "total") == 4800); /* the maker's, not the Printer-MIB's */
    CHECK (s_meter (r, "mono") == 3000);
    CHECK (s_meter (r, "colour") == 1800);
    CHECK (s_meter (r, "large") == 500);
    CHECK (s_meter (r, "small") == 4300);
    CHECK (s_meter (r, "a4_equivalent") == 5300);
    CHECK (s_meter (r, "copy") == 1000 && s_meter (r, "print") == 3800);
    CHECK (s_meter (r, "duplex") == -1 && s_meter (r, "fax") == -1 && s_meter (r, "scan") == -1);
    CHECKF (!strcmp (s_derivation (r, "mono"), "vendor.c112 + vendor.c113"), "%s",
            s_derivation (r, "mono"));
    CHECK (!strcmp (r->rules, "1602"));
    FREE (r);
    /*  An MF model: the second table; large from a4 - total (every
        maker's rule), small from total - large. */
    r = READING (1602, "vendor.mf101=1000", "vendor.mf102=1100", "vendor.mf108=700");
    CHECK (s_meter (r, "total") == 1000 && s_meter (r, "mono") == 700);
    CHECK (s_meter (r, "large") == 100 && s_meter (r, "small") == 900);
    CHECKF (!strcmp (s_derivation (r, "large"), "a4_equivalent - total"), "%s",
            s_derivation (r, "large"));
    CHECK (s_meter (r, "colour") == -1);
    CHECK (!strcmp (r->rules, "1602 *"));
    FREE (r);
}

static void
test_makers (void)
{
    /*  Konica Minolta bizhub C250i (our recording): copy and print by colour. */
    Odc__MeterReading *r =
        READING (18334, "total=33810", "vendor.km.total=33810", "vendor.km.copy_mono=3672",
                 "vendor.km.print_mono=22876", "vendor.km.copy_full=544",
                 "vendor.km.print_full=6711", "vendor.km.duplex=7357", "vendor.km.scan=5653");
    CHECK (s_meter (r, "mono") == 26548 && s_meter (r, "colour") == 7255);
    CHECK (s_meter (r, "full_colour") == 7255 && s_meter (r, "two_colour") == -1);
    CHECK (s_meter (r, "copy") == 4216 && s_meter (r, "print") == 29587);
    CHECK (s_meter (r, "scan") == 5653);
    CHECK (!strcmp (odc_meters_find (r, "scan")->unit, "scans"));
    CHECK (!strcmp (odc_meters_find (r, "duplex")->unit, "sheets"));
    FREE (r);
    /*  Sharp MX-3570N (LibreNMS tests/data/sharp.json): the colour classes
        add up to the total. */
    r = READING (2385, "total=121104", "vendor.sharp.mono=91164", "vendor.sharp.full=29940");
    CHECK (s_meter (r, "total") == 121104 && s_meter (r, "colour") == 29940);
    FREE (r);
    /*  Kyocera: a printer (43.10 only) bills the maker's total, not
        prtMarkerLifeCount (P2040dw: 7342 against 7432); an MFP splits. */
    r = READING (1347, "total=7432", "vendor.kyocera.printed=7342");
    CHECK (s_meter (r, "total") == 7342 && s_meter (r, "mono") == -1);
    FREE (r);
    r = READING (1347, "vendor.kyocera.printed=424405", "vendor.kyocera.print_mono=200000",
                 "vendor.kyocera.copy_mono=50000", "vendor.kyocera.fax_mono=3812",
                 "vendor.kyocera.print_full=104339", "vendor.kyocera.copy_full=66254",
                 "vendor.kyocera.print_single=0", "vendor.kyocera.copy_single=0");
    CHECK (s_meter (r, "mono") == 253812 && s_meter (r, "colour") == 170593);
    FREE (r);
    /*  HP, a mono LaserJet: total and duplex; no mono, no colour guessed. */
    r = READING (11, "total=15232", "vendor.hp.engine_total=15232", "vendor.hp.duplex=0");
    CHECK (s_meter (r, "total") == 15232 && s_meter (r, "duplex") == 0);
    CHECK (s_meter (r, "mono") == -1 && s_meter (r, "colour") == -1);
    FREE (r);
    /*  Xerox, Epson, Lexmark, Ricoh, Toshiba: the maker's counters. */
    r = READING (253, "vendor.xerox.total=367210", "vendor.xerox.colour=128523",
                 "vendor.xerox.mono=238687");
    CHECK (s_meter (r, "mono") == 238687 && s_meter (r, "colour") == 128523);
    FREE (r);
    r = READING (1248, "vendor.epson.total_ice=81563", "vendor.epson.mono=39797",
                 "vendor.epson.colour=41766");
    CHECK (s_meter (r, "total") == 81563 && s_meter (r, "colour") == 41766);
    FREE (r);
    r = READING (641, "vendor.lexmark.total=900", "vendor.lexmark.mono=600",
                 "vendor.lexmark.colour=300");
    CHECK (s_meter (r, "mono") == 600 && s_meter (r, "colour") == 300);
    FREE (r);
    r = READING (367, "vendor.ricoh.total=1000", "vendor.ricoh.copy=400", "vendor.ricoh.print=550",
                 "vendor.ricoh.fax=50");
    CHECK (s_meter (r, "copy") == 400 && s_meter (r, "fax") == 50);
    FREE (r);
    /*  Brother, OKI, Samsung, Dell: the Printer-MIB's count, and nothing
        else. */
    static const uint32_t printer_mib_only[] = {2435, 2001, 236, 674, 0};
    for (int i = 0; i < 5; i++) {
        r = READING (printer_mib_only[i], "total=22934");
        CHECK (s_meter (r, "total") == 22934 && r->n_canonical == 1);
        CHECK (!strcmp (r->rules, "*"));
        FREE (r);
    }
}

static void
test_units (void)
{
    /*  prtMarkerLifeCount in sheets: impressions where duplex is known. */
    Odc__MeterReading *r = READING (11, "total=1000:sheets", "vendor.hp.duplex=200");
    CHECK (s_meter (r, "total") == 1200);
    CHECK (!strcmp (odc_meters_find (r, "total")->unit, "impressions"));
    CHECKF (strstr (s_derivation (r, "total"), "duplex"), "%s", s_derivation (r, "total"));
    FREE (r);
    r = READING (2435, "total=1000:sheets");
    CHECK (s_meter (r, "total") == 1000);
    CHECK (!strcmp (odc_meters_find (r, "total")->unit, "sheets"));
    FREE (r);
    /*  A difference below 0 does not apply: no large from a smaller a4. */
    r = READING (1602, "vendor.c101=1000", "vendor.c102=900");
    CHECK (s_meter (r, "large") == -1 && s_meter (r, "small") == -1);
    FREE (r);
    /*  A second roll-up replaces the first. */
    r = READING (2435, "total=5");
    odc_meters_rollup (s_rules, r);
    CHECK (r->n_canonical == 1 && s_meter (r, "total") == 5);
    FREE (r);
}

/*  A rules file of text: NULL and the error, or the rules. */
static odc_meter_rules_t *
s_load_text (const char *text, char **error)
{
    char path[] = "/tmp/odc-meter-rules-XXXXXX";
    int fd = mkstemp (path);
    FILE *f = fdopen (fd, "w");
    fputs (text, f);
    fclose (f);
    odc_meter_rules_t *rules = odc_meter_rules_load (path, error);
    unlink (path);
    return rules;
}

static void
test_hostile_rules (void)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"1602\ttotal\n", "expected ENTERPRISE<TAB>METER<TAB>FROM"},
        {"1602\ttotal\tvendor.c101\textra\n", "expected ENTERPRISE"},
        {"x\ttotal\tvendor.c101\n", "the enterprise is a number or *"},
        {"99999999999\ttotal\tvendor.c101\n", "the enterprise is a number or *"},
        {"1602\tpages\tvendor.c101\n", "no such canonical meter"},
        {"1602\ttotal\t=pages\n", "names no canonical meter"},
        {"1602\ttotal\tvendor.c101 + \n", "a sign with no term after it"},
        {"1602\ttotal\tvendor.c101 | | vendor.c102\n", "an empty alternative"},
        {"1602\ttotal\ta * b\n", "joined by '+' or '-'"},
        {"1602\ttotal\ta|b|c|d|e|f|g|h|i\n", "more than 8 alternatives"},
        {"1602\ttotal\ta+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q\n", "more than 16 terms"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *error = NULL;
        odc_meter_rules_t *rules = s_load_text (bad[i].text, &error);
        CHECKF (!rules && error && strstr (error, bad[i].why) && strstr (error, ":1: "),
                "case %zu: %s", i, error ? error : "(loaded)");
        odc_meter_rules_destroy (&rules);
        free (error);
    }
    /*  A line longer than the bound, and more rules than the bound. */
    char *text = malloc (5000);
    snprintf (text, 5000, "# comment\n1602\ttotal\t");
    size_t len = strlen (text);
    memset (text + len, 'a', 4500);
    text[len + 4500] = 0;
    char *error = NULL;
    odc_meter_rules_t *rules = s_load_text (text, &error);
    CHECKF (!rules && error && strstr (error, ":2: line longer"), "%s", error ? error : "");
    free (error);
    free (text);
    size_t size = 30 * (ODC_METER_RULES_MAX + 2);
    text = malloc (size);
    text[0] = 0;
    for (size_t i = 0, used = 0; i < ODC_METER_RULES_MAX + 1; i++)
        used += (size_t)snprintf (text + used, size - used, "1\ttotal\tvendor.x\n");
    error = NULL;
    rules = s_load_text (text, &error);
    CHECKF (!rules && error && strstr (error, "more than 4096 lines"), "%s", error ? error : "");
    free (error);
    free (text);
    /*  A file that is not there. */
    error = NULL;
    rules = odc_meter_rules_load ("/nonexistent/meter-rules.tsv", &error);
    CHECK (!rules && error && strstr (error, "/nonexistent/meter-rules.tsv"));
    free (error);
    /*  No rules at all: no canonical meters, no crash. */
    Odc__MeterReading *r = READING (1602, "total=5");
    odc_meters_rollup (NULL, r);
    CHECK (r->n_canonical == 0);
    FREE (r);
}

int
main (void)
{
    char *error = NULL;
    s_rules = odc_meter_rules_load (ODC_DATA_DIR "/snmp/meter-rules.tsv", &error);
    if (!s_rules) {
        fprintf (stderr, "FAIL: the project's rules do not load: %s\n", error);
        return 1;
    }
    RUN (test_canon);
    RUN (test_makers);
    RUN (test_units);
    RUN (test_hostile_rules);
    odc_meter_rules_destroy (&s_rules);
    TEST_END ();
}
