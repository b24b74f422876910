/*  odc_supplies: what one printer supply is (issue 18): its part number
    (SKU), its kind (toner, drum, waste toner box ...) and its colour.

    The rules are data (snmp/supply-rules.tsv, whose header says the
    format and names the sources): patterns on prtMarkerSuppliesDescription
    for the SKU, where the maker prints one ("Black Cartridge HP CF410A",
    "TK-1162", "Black Ink Supply Unit T9441/T9451/T9461"); the
    prtMarkerSuppliesType code, or the words of the description when the
    code says nothing, for the kind; prtMarkerColorantValue, or the words,
    for the colour. Per field the first line that matches decides; maker
    lines come before the lines for all makers. No SKU is made where the
    description holds none ("Black Toner", "Drum Unit"). Identifying is a
    pure function of the row: the consumables actor calls it when a
    supply's description changes, the golden test for every row of the
    real recordings (tests/golden/supply-ids.tsv).

    Cost: one regexec per line tried, on at most the first 1,023 bytes of
    the description (132 lines today, most of them skipped for
    another maker or field: about 3.5 us a row on the build machine). */
#ifndef ODC_SUPPLIES_H
#define ODC_SUPPLIES_H

#include <stddef.h>
#include <stdint.h>

/*  Bounds on the file (from outside: each an error naming the line; the
    line length, 4,095 bytes, is odc_text_each_line's). */
#define ODC_SUPPLY_RULES_MAX   2048 /* lines */
#define ODC_SUPPLY_PATTERN_MAX 256  /* bytes of a pattern */
/*  Bounds on a row: the bytes of its description read (the rest is not
    looked at), and of a SKU with its terminating NUL (a longer one is cut). */
#define ODC_SUPPLY_TEXT_MAX 1024
#define ODC_SUPPLY_SKU_MAX  32

typedef struct odc_supply_rules odc_supply_rules_t;

/*  What a supply is. sku: "" when the description holds none; kind and
    colour: names of odc_config_supply_kinds (base/odc_config.h) / odc_supply_colours (static strings,
    valid after the rules are destroyed): "other" and "unknown" when no
    line tells, colour "none" for a supply that has no colour (waste toner
    box, fuser, a drum shared by every colour). */
typedef struct {
    char sku[ODC_SUPPLY_SKU_MAX];
    const char *kind;
    const char *colour;
} odc_supply_id_t;

/*  The names a rule may give, NULL-terminated. */
extern const char *const odc_supply_colours[];

/*  Load the rules. NULL with *error (the caller frees) "FILE:LINE: reason"
    (or "FILE: reason" when it cannot be read). */
odc_supply_rules_t *odc_supply_rules_load (const char *path, char **error);
/*  Safe on NULL and twice; nulls the caller's pointer. */
void odc_supply_rules_destroy (odc_supply_rules_t **self_p);
size_t odc_supply_rules_count (const odc_supply_rules_t *self);

/*  One prtMarkerSuppliesTable row of a device of maker enterprise (the
    sysObjectID's enterprise number; 0 when not known: only the lines for
    every maker apply). description: prtMarkerSuppliesDescription as a C
    string, any bytes, any length, or NULL; type: prtMarkerSuppliesType (0
    when not read); colorant: the prtMarkerColorantValue of the row's
    prtMarkerSuppliesColorantIndex, or NULL / "" when it has none. Fills
    *out; with self NULL: no SKU, other, unknown. */
void odc_supply_identify (const odc_supply_rules_t *self, uint32_t enterprise,
                          const char *description, int type, const char *colorant,
                          odc_supply_id_t *out);

#endif
