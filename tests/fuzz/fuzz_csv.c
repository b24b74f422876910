/*  fuzz_csv: device lists as CSV (base/odc_devlist.c,
    odc_devlist_read_text): what `opendca import devices FILE.csv`
    and the portal's push-devices hand the collector.

    An input is: byte 0 the columns (bit 0: the portal's, else the
    import's) and the configuration (bit 1: none, else one with two
    credentials, as the collector passes it), then the CSV text. The list
    read is checked: every device taken has an address the configuration
    accepts, and every refused line has a reason naming the input.

    Build: cmake -DODC_FUZZ=ON with CC=clang-14 (scripts/fuzz); run:
        build-fuzz/fuzz_csv build-fuzz/fuzz-corpus/csv
    Seeds: tests/fuzz/seeds/csv/. A crash goes to
    tests/fuzz/regressions/csv/ (tests/fuzz/README.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "odc_config.h"
#include "odc_devlist.h"
#include "odc_log.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static odc_config_t *s_config;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc, (void)argv;
    odc_log_set_level (ODC_LOG_FATAL);
    const char *tmp = fuzz_tmpdir ();
    char path[512];
    snprintf (path, sizeof path, "%s/fuzz_csv.%d.yaml", tmp, (int)getpid ());
    FILE *out = fopen (path, "w");
    if (!out)
        abort ();
    fputs ("collector:\n  id: fuzz\nsnmp:\n  credentials:\n"
           "    - name: public-v2c\n      version: 2c\n      community: public\n"
           "    - name: other\n      version: 1\n      community: other\n",
           out);
    fclose (out);
    char *errors = NULL;
    s_config = odc_config_load (path, &errors);
    unlink (path);
    if (!s_config) {
        fprintf (stderr, "fuzz_csv: the harness's configuration: %s\n", errors);
        abort ();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *const *columns =
        data[0] & 1 ? odc_devlist_portal_columns : odc_devlist_import_columns;
    const odc_config_t *config = data[0] & 2 ? NULL : s_config;
    /*  An exact-size copy without a terminating NUL: the reader is given a
        size, and must not read past it. */
    char *text = malloc (size - 1 ? size - 1 : 1);
    memcpy (text, data + 1, size - 1);
    odc_devlist_t *list = odc_devlist_read_text (text, size - 1, "fuzz.csv", columns, config);
    if (!list)
        abort (); /* only a file that cannot be read gives no list */
    for (size_t i = 0; i < list->count; i++) {
        const odc_device_config_t *d = &list->devices[i];
        if (!d->address || !odc_config_address_ok (d->address))
            abort (); /* a device taken with an address that is none */
        if (config && (!d->credential || !odc_config_credential (config, d->credential)))
            abort (); /* taken with a credential the configuration lacks */
    }
    for (size_t i = 0; i < list->error_count; i++)
        if (!list->errors[i] || !strstr (list->errors[i], "fuzz.csv"))
            abort (); /* a refused line not named */
    odc_devlist_destroy (&list);
    free (text);
    return 0;
}
