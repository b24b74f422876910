/*  fuzz_imil: IMIL command text (actors/odc_imil.c), as it comes over
    XMPP chat from the portal or from `opendca imil "..."`.

    An input is the command text (cut at its first NUL, as a C string
    arrives). It runs through odc_imil_run_text against a real RocksDB store in
    a temporary folder holding three devices of the harness's
    configuration, with no uploader, registry or discovery actor (the
    replies say so). Every reply must be text without a NUL and end
    without a newline, with a status of 0, 1 or 2.

    "discover RANGE..." with ranges would sweep the network: those words go
    to odc_discover_target (the parser the command uses for each range)
    instead (words with letters, DNS names it would resolve, are left
    out), and what it returns must be a range a sweep can walk.

    Build: cmake -DODC_FUZZ=ON with CC=clang-14 (scripts/fuzz); run:
        build-fuzz/fuzz_imil build-fuzz/fuzz-corpus/imil
    Seeds: tests/fuzz/seeds/imil/. A crash goes to
    tests/fuzz/regressions/imil/ (tests/fuzz/README.md). */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "odc_config.h"
#include "odc_devices.h"
#include "odc_discover.h"
#include "odc_imil.h"
#include "odc_log.h"
#include "odc_outbox.h"
#include "odc_snmp.h"
#include "odc_store.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static odc_imil_t s_imil;
static char s_dir[512];

static void
s_cleanup (void)
{
    odc_outbox_destroy (&s_imil.outbox);
    odc_store_close (&s_imil.store);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "fuzz_imil: could not remove %s\n", s_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc, (void)argv;
    odc_log_set_level (ODC_LOG_FATAL);
    odc_snmp_init (0);
    const char *tmp = fuzz_tmpdir ();
    snprintf (s_dir, sizeof s_dir, "%s/fuzz_imil.XXXXXX", tmp);
    if (!mkdtemp (s_dir))
        abort ();
    char path[600];
    snprintf (path, sizeof path, "%s/opendca.yaml", s_dir);
    FILE *out = fopen (path, "w");
    if (!out)
        abort ();
    fprintf (out, "collector:\n  id: fuzz\nstore:\n  path: store\n  sync: false\n"
                  "snmp:\n  credentials:\n"
                  "    - name: public-v2c\n      version: 2c\n      community: public\n"
                  "devices:\n"
                  "  - address: 192.0.2.1\n    asset_number: A-1\n    location: here\n"
                  "  - address: 192.0.2.2\n    port: 16161\n"
                  "  - address: printer.example.net\n"
                  "ranges:\n  - range: 192.0.2.0/24\n");
    fclose (out);
    char *errors = NULL;
    odc_config_t *config = odc_config_load (path, &errors);
    if (!config) {
        fprintf (stderr, "fuzz_imil: the harness's configuration: %s\n", errors);
        abort ();
    }
    char *err = NULL;
    odc_store_options_t o;
    odc_store_options_default (&o);
    o.sync = false;
    s_imil.config = config;
    s_imil.store = odc_store_open (config->store_path, &o, &err);
    if (!s_imil.store) {
        fprintf (stderr, "fuzz_imil: store %s: %s\n", config->store_path, err);
        abort ();
    }
    s_imil.outbox = odc_outbox_new (s_imil.store, 1u << 20);
    size_t added = 0, removed = 0;
    if (odc_devices_sync_config (s_imil.store, config, &added, &removed) < 0)
        abort ();
    atexit (s_cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text[size] = 0;
    char w[8][128];
    int n = strlen (text) > ODC_IMIL_MAX_TEXT ? 0 : odc_imil_words (text, w);
    if (n > 1 && !strcmp (w[0], "discover")) {
        uint64_t total = 0;
        for (int i = 1; i < n; i++) {
            uint32_t first = 0, last = 0;
            int port = 0;
            char reason[160] = "";
            /*  A name is resolved (DNS): slow, and not the parser's work. */
            bool name = false;
            for (const char *p = w[i]; *p; p++)
                name |= isalpha ((unsigned char)*p) != 0;
            if (name)
                continue;
            if (odc_discover_target (w[i], &first, &last, &port, reason, sizeof reason) != 0) {
                if (!reason[0])
                    abort (); /* refused without a reason */
                break;
            }
            if (last < first || port < 0 || port > 65535)
                abort (); /* a range the sweep cannot walk */
            total += (uint64_t)last - first + 1;
        }
        (void)total;
        free (text);
        return 0;
    }
    int status = -1;
    char *reply = odc_imil_run_text (&s_imil, text, &status);
    if (!reply || status < 0 || status > 2)
        abort ();
    size_t len = strlen (reply);
    if (len && reply[len - 1] == '\n')
        abort (); /* replies go into XML without a trailing newline */
    free (reply);
    free (text);
    return 0;
}
