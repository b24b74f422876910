/*  fuzz_portal: what the reference portal (portal/opendca_portal.c) does
    with an iq from a collector: its batch reader (s_portal_iq,
    s_take_batch: odc_xml_batch_items, the store write, the answer), then
    its export of what it stored, as jsonl and csv (s_export_one).

    An input is an iq (<iq type='set' id= from=><batch .../></iq>) or a bare
    <batch>, which is put in such an iq, as XML text. The iq's id is
    replaced by a new one each run, so that a batch is never "seen"
    already (the duplicate path would skip the reader). The store is a
    real RocksDB in a temporary folder, opened once and emptied every
    5,000 runs to keep it small. This file includes
    portal/opendca_portal.c (its main() renamed) to reach those functions.

    Emptied, not closed and made again: every open starts, and every close
    ends, RocksDB's timer thread (rocksdb::Timer), whose thread_local
    PerfContext has glibc keep a 32-byte record of its destructor
    (__cxa_thread_atexit_impl). Once in about 200 re-opens LeakSanitizer
    finds that record unreachable and reports a direct leak on whatever
    input it checks next, which then does not reproduce alone. The portal
    itself opens its store once.

    Build: cmake -DODC_FUZZ=ON with CC=clang-14 (scripts/fuzz); run:
        build-fuzz/fuzz_portal build-fuzz/fuzz-corpus/portal
    Seeds: batches made from the recordings (fuzz_seeds) and
    tests/fuzz/seeds/portal/. A crash goes to
    tests/fuzz/regressions/portal/ (tests/fuzz/README.md). */
#define main s_portal_main
#include "fuzz_tmp.h"
#include "opendca_portal.c"
#undef main

#include <stdint.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static s_portal_t s_portal;
static xmpp_conn_t *s_conn;
static char s_dir[512];
static FILE *s_null;
static uint64_t s_runs;

static void
s_store_start (void)
{
    char path[600], *err = NULL;
    snprintf (path, sizeof path, "%s/store", s_dir);
    odc_store_options_t o;
    odc_store_options_default (&o);
    o.sync = false;
    s_portal.store = odc_store_open (path, &o, &err);
    if (!s_portal.store) {
        fprintf (stderr, "fuzz_portal: store %s: %s\n", path, err);
        abort ();
    }
    s_portal.next = 1;
}

/*  Deletes what the portal wrote (s_take_batch): the history up to the
    next receive number (which keeps counting), every latest record (a key
    starts with a collector's bare JID, UTF-8, so below 0xff) and the meta
    keys; the schema version stays. Range deletions cost one write each;
    RocksDB drops the data they cover as it compacts. */
static void
s_store_empty (void)
{
    odc_batch_t *b = odc_batch_new ();
    uint8_t to[8];
    odc_be64_put (to, s_portal.next);
    odc_batch_delete_range (b, s_portal.store, ODC_CF_HISTORY, "", 0, to, 8);
    odc_batch_delete_range (b, s_portal.store, ODC_CF_LATEST, "", 0, "\xff", 1);
    odc_batch_delete_range (b, s_portal.store, ODC_CF_META, "seen/", 5, "seen0", 5);
    odc_batch_delete_range (b, s_portal.store, ODC_CF_META, "collector/", 10, "collector0", 10);
    odc_batch_delete (b, s_portal.store, ODC_CF_META, S_RECEIVED_KEY, strlen (S_RECEIVED_KEY));
    if (odc_store_write (s_portal.store, b) != 0)
        abort ();
    odc_batch_destroy (&b);
}

static void
s_cleanup (void)
{
    odc_store_close (&s_portal.store);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "fuzz_portal: could not remove %s\n", s_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc, (void)argv;
    odc_log_set_level (ODC_LOG_FATAL);
    const char *tmp = fuzz_tmpdir ();
    snprintf (s_dir, sizeof s_dir, "%s/fuzz_portal.XXXXXX", tmp);
    if (!mkdtemp (s_dir))
        abort ();
    xmpp_initialize ();
    s_portal.ctx = xmpp_ctx_new (NULL, NULL);
    s_conn = xmpp_conn_new (s_portal.ctx);
    s_null = fopen ("/dev/null", "w");
    s_store_start ();
    atexit (s_cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (++s_runs % 5000 == 0)
        s_store_empty ();
    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text[size] = 0;
    xmpp_stanza_t *el = xmpp_stanza_new_from_string (s_portal.ctx, text);
    free (text);
    if (!el)
        return 0;
    xmpp_stanza_t *iq = el;
    const char *name = xmpp_stanza_get_name (el);
    if (name && !strcmp (name, "batch")) {
        iq = xmpp_iq_new (s_portal.ctx, "set", "x");
        xmpp_stanza_set_from (iq, "collector@localhost/opendca");
        xmpp_stanza_add_child (iq, el);
        xmpp_stanza_release (el);
    }
    else if (!name || strcmp (name, "iq")) {
        xmpp_stanza_release (el);
        return 0;
    }
    char id[32];
    snprintf (id, sizeof id, "run-%" PRIu64, s_runs);
    if (xmpp_stanza_get_id (iq))
        xmpp_stanza_set_id (iq, id);
    uint64_t first = s_portal.next;
    s_portal_iq (s_conn, iq, &s_portal);
    xmpp_stanza_release (iq);
    /*  What it stored, exported as `opendca-portal export` does. */
    uint8_t from[8], to[8];
    odc_be64_put (from, first);
    odc_be64_put (to, s_portal.next);
    if (s_portal.next > first) {
        s_export_t e = {"jsonl", s_null, 0, NULL, "", 0};
        odc_store_each (s_portal.store, ODC_CF_HISTORY, from, 8, to, 8, s_export_one, &e);
        e.format = "csv";
        odc_store_each (s_portal.store, ODC_CF_HISTORY, from, 8, to, 8, s_export_one, &e);
        if (e.count != 2 * (s_portal.next - first))
            abort (); /* a record stored that its export cannot read */
    }
    return 0;
}
