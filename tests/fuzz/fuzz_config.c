/*  fuzz_config: the collector's YAML configuration, as odc_config_load
    reads it from a file (base/odc_config.c: the YAML parser, every key's
    check, the error list with FILE:LINE).

    An input is the whole file. Each is written to a temporary file (in
    TMPDIR, or /dev/shm) and loaded; a configuration that loads is asked what
    the actors ask (credentials, working hours) and freed; the errors of one
    that does not are freed. Relative paths in the input (secret files) are
    taken from the temporary folder, as the loader takes them from the
    file's folder.

    Build: cmake -DODC_FUZZ=ON with CC=clang-14 (scripts/fuzz); run:
        build-fuzz/fuzz_config build-fuzz/fuzz-corpus/config
    Seeds: opendca.example.yaml and tests/fuzz/seeds/config/. A crash goes
    to tests/fuzz/regressions/config/ (tests/fuzz/README.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "odc_config.h"
#include "odc_log.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_path[512];

static void
s_cleanup (void)
{
    unlink (s_path);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc, (void)argv;
    odc_log_set_level (ODC_LOG_FATAL);
    /*  /dev/shm: a file written and read in memory (on the disk's file
        system, creating and removing it took most of each run). */
    const char *tmp = fuzz_tmpdir ();
    snprintf (s_path, sizeof s_path, "%s/fuzz_config.%d.yaml", tmp, (int)getpid ());
    atexit (s_cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    FILE *out = fopen (s_path, "wb");
    if (!out)
        abort (); /* the harness cannot work: not the input's fault */
    fwrite (data, 1, size, out);
    fclose (out);
    char *errors = NULL;
    odc_config_t *c = odc_config_load (s_path, &errors);
    if (c) {
        for (size_t i = 0; i < c->credential_count; i++)
            if (odc_config_credential (c, c->credentials[i].name) == NULL)
                abort (); /* a credential it listed is not found by name */
        for (int day = 0; day < 7; day++)
            (void)odc_config_in_hours (c, day, 600);
        odc_config_destroy (&c);
    }
    else if (!errors || !*errors)
        abort (); /* refused without a reason */
    free (errors);
    return 0;
}
