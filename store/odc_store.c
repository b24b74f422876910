/*  odc_store: see odc_store.h. */
#include "odc_store.h"
#include "odc_tsan.h"

#include <assert.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "odc_log.h"

static const char *s_cf_names[ODC_CF_COUNT] = {"devices", "index", "latest", "history", "alerts",
                                               "outbox",  "meta",  "notify", "supplies"};

#define S_SCHEMA_KEY "schema_version"

#ifdef ODC_TSAN
/*  RocksDB serialises concurrent writers itself (its write thread picks a
    leader that writes the log for the group), in code ThreadSanitizer does
    not see: two actors writing would be reported as racing on the log
    buffer. Under ThreadSanitizer only, writes take this lock, so the order
    RocksDB keeps is visible; elsewhere RocksDB's own order is enough. */
static pthread_mutex_t s_tsan_write = PTHREAD_MUTEX_INITIALIZER;
#define S_WRITE_LOCK()   pthread_mutex_lock (&s_tsan_write)
#define S_WRITE_UNLOCK() pthread_mutex_unlock (&s_tsan_write)
#else
#define S_WRITE_LOCK()   ((void)0)
#define S_WRITE_UNLOCK() ((void)0)
#endif

struct _odc_store_t {
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_options_t *latest; /* the latest family's: see s_latest_options */
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *write;
    rocksdb_writeoptions_t *lazy; /* never synced */
    rocksdb_readoptions_t *read;
    rocksdb_column_family_handle_t *cf[ODC_CF_COUNT + 1]; /* last: default */
    bool sync;
    char *path;
};

struct _odc_batch_t {
    rocksdb_writebatch_t *wb;
};

void
odc_store_options_default (odc_store_options_t *options)
{
    options->sync = true;
    options->cache_bytes = 1u << 20;
    options->write_buffer_bytes = 4u << 20;
    options->max_open_files = 256;
}

void
odc_store_memory (odc_store_t *self, uint64_t *cache_bytes, uint64_t *memtable_bytes)
{
    *cache_bytes = self->cache ? (uint64_t)rocksdb_cache_get_usage (self->cache) : 0;
    *memtable_bytes = 0;
    for (int i = 0; i <= ODC_CF_COUNT; i++) {
        uint64_t bytes = 0;
        if (self->cf[i] && rocksdb_property_int_cf (self->db, self->cf[i],
                                                    "rocksdb.cur-size-all-mem-tables", &bytes) == 0)
            *memtable_bytes += bytes;
    }
}

const char *
odc_store_cf_name (odc_cf_t cf)
{
    assert (cf < ODC_CF_COUNT);
    return s_cf_names[cf];
}

bool
odc_store_sync (odc_store_t *self)
{
    return self->sync;
}

static char *
s_format (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *text = NULL;
    if (vasprintf (&text, fmt, ap) == -1)
        text = NULL;
    va_end (ap);
    return text;
}

static void
s_set_err (char **err, char *text)
{
    if (err)
        *err = text;
    else
        free (text);
}

static void s_close_db (odc_store_t *self);

/*  Close everything the store holds; used by close and by a failed open. */
static void
s_release (odc_store_t *self)
{
    s_close_db (self);
    if (self->write)
        rocksdb_writeoptions_destroy (self->write);
    if (self->lazy)
        rocksdb_writeoptions_destroy (self->lazy);
    if (self->read)
        rocksdb_readoptions_destroy (self->read);
    if (self->options)
        rocksdb_options_destroy (self->options);
    if (self->latest)
        rocksdb_options_destroy (self->latest);
    if (self->table)
        rocksdb_block_based_options_destroy (self->table);
    if (self->cache)
        rocksdb_cache_destroy (self->cache);
    free (self->path);
    free (self);
}

/*  Families already in the database: 1 when it exists and holds exactly
    ours, 0 when there is no database yet, -1 (with err) otherwise. */
static int
s_check_families (rocksdb_options_t *options, const char *path, char **err)
{
    char *rerr = NULL;
    size_t count = 0;
    char **names = rocksdb_list_column_families (options, path, &count, &rerr);
    if (rerr) {
        /*  No database (no CURRENT file) is the normal first start. The
            list is allocated even on failure (RocksDB 7.8): free it. */
        rocksdb_free (rerr);
        if (names)
            rocksdb_list_column_families_destroy (names, count);
        return 0;
    }
    int rc = 1;
    for (size_t i = 0; i < count && rc == 1; i++) {
        bool known = strcmp (names[i], "default") == 0;
        for (int k = 0; k < ODC_CF_COUNT && !known; k++)
            known = strcmp (names[i], s_cf_names[k]) == 0;
        if (!known) {
            s_set_err (err, s_format ("%s: column family '%s' is not part of schema %d: "
                                      "written by another version of opendca?",
                                      path, names[i], ODC_STORE_SCHEMA_VERSION));
            rc = -1;
        }
    }
    rocksdb_list_column_families_destroy (names, count);
    return rc;
}

/*  The latest family's options: the store's, uncompressed. The latest
    readings are rewritten every pass and their size is bounded by the
    fleet: compressing them again at every compaction cost more CPU than
    the disk they save (bench/RESULTS.md). */
static void
s_latest_options (odc_store_t *self)
{
    self->latest = rocksdb_options_create_copy (self->options);
    rocksdb_options_set_compression (self->latest, rocksdb_no_compression);
}

/*  The names of every family of the schema ("default" last), each with
    its options. */
static void
s_families (odc_store_t *self, const char **names, const rocksdb_options_t **cf_options)
{
    for (int i = 0; i < ODC_CF_COUNT; i++) {
        names[i] = s_cf_names[i];
        cf_options[i] = i == ODC_CF_LATEST ? self->latest : self->options;
    }
    names[ODC_CF_COUNT] = "default";
    cf_options[ODC_CF_COUNT] = self->options;
}

/*  Open the database in dir with every family of the schema. */
static int
s_open_at (odc_store_t *self, const char *dir, char **err)
{
    const char *names[ODC_CF_COUNT + 1];
    const rocksdb_options_t *cf_options[ODC_CF_COUNT + 1];
    s_families (self, names, cf_options);
    char *rerr = NULL;
    self->db = rocksdb_open_column_families (self->options, dir, ODC_CF_COUNT + 1, names,
                                             cf_options, self->cf, &rerr);
    if (rerr) {
        s_set_err (err, s_format ("%s: cannot open the store: %s", dir, rerr));
        rocksdb_free (rerr);
        memset (self->cf, 0, sizeof self->cf);
        self->db = NULL;
        return -1;
    }
    return 0;
}

static void
s_close_db (odc_store_t *self)
{
    for (int i = 0; i <= ODC_CF_COUNT; i++)
        if (self->cf[i]) {
            rocksdb_column_family_handle_destroy (self->cf[i]);
            self->cf[i] = NULL;
        }
    if (self->db)
        rocksdb_close (self->db);
    self->db = NULL;
}

static int
s_remove_one (const char *file, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove (file);
}

/*  Create a new store so that a crash at any moment leaves either no store
    or a complete one: build it under PATH.creating with its schema version
    written (synced), then rename it to PATH in one step. A leftover
    PATH.creating from a crash is thrown away. */
static int
s_create (odc_store_t *self, const char *path, char **err)
{
    char *tmp = s_format ("%s.creating", path);
    nftw (tmp, s_remove_one, 16, FTW_DEPTH | FTW_PHYS);
    int rc = s_open_at (self, tmp, err);
    if (rc == 0) {
        char version[16];
        int n = snprintf (version, sizeof version, "%d", ODC_STORE_SCHEMA_VERSION);
        rocksdb_writeoptions_t *synced = rocksdb_writeoptions_create ();
        rocksdb_writeoptions_set_sync (synced, 1);
        char *rerr = NULL;
        rocksdb_put_cf (self->db, synced, self->cf[ODC_CF_META], S_SCHEMA_KEY,
                        strlen (S_SCHEMA_KEY), version, (size_t)n, &rerr);
        rocksdb_writeoptions_destroy (synced);
        s_close_db (self);
        if (rerr) {
            s_set_err (err, s_format ("%s: cannot write the schema version: %s", tmp, rerr));
            rocksdb_free (rerr);
            rc = -1;
        }
    }
    /*  rename() replaces an empty folder, and refuses one with files in it. */
    if (rc == 0 && rename (tmp, path) != 0) {
        s_set_err (err, s_format ("%s: cannot create the store here: %s%s", path, strerror (errno),
                                  errno == ENOTEMPTY || errno == EEXIST
                                      ? " (the folder holds files that are not a store)"
                                      : ""));
        rc = -1;
    }
    if (rc == 0) {
        /*  Make the rename itself durable. */
        char *parent = strdup (path);
        int fd = open (dirname (parent), O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fsync (fd);
            close (fd);
        }
        free (parent);
    }
    else
        nftw (tmp, s_remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free (tmp);
    return rc;
}

odc_store_t *
odc_store_open (const char *path, const odc_store_options_t *user_options, char **err)
{
    odc_store_options_t opts;
    if (user_options)
        opts = *user_options;
    else
        odc_store_options_default (&opts);

    odc_store_t *self = (odc_store_t *)calloc (1, sizeof *self);
    if (!self) {
        s_set_err (err, s_format ("%s: out of memory", path));
        return NULL;
    }
    self->path = strdup (path);
    self->sync = opts.sync;
    self->cache = rocksdb_cache_create_lru (opts.cache_bytes);
    self->table = rocksdb_block_based_options_create ();
    rocksdb_block_based_options_set_block_cache (self->table, self->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks (self->table, 1);
    self->options = rocksdb_options_create ();
    rocksdb_options_set_block_based_table_factory (self->options, self->table);
    rocksdb_options_set_create_if_missing (self->options, 1);
    rocksdb_options_set_create_missing_column_families (self->options, 1);
    rocksdb_options_set_write_buffer_size (self->options, opts.write_buffer_bytes);
    rocksdb_options_set_max_write_buffer_number (self->options, 2);
    /*  All families together stay within a few write buffers. */
    rocksdb_options_set_db_write_buffer_size (self->options, opts.write_buffer_bytes * 4);
    rocksdb_options_set_max_open_files (self->options, opts.max_open_files);
    rocksdb_options_set_max_background_jobs (self->options, 2);
    rocksdb_options_set_keep_log_file_num (self->options, 3);
    rocksdb_options_set_max_log_file_size (self->options, 1u << 20);
    s_latest_options (self);

    self->write = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_set_sync (self->write, opts.sync ? 1 : 0);
    self->lazy = rocksdb_writeoptions_create ();
    self->read = rocksdb_readoptions_create ();

    int exists = s_check_families (self->options, path, err);
    if (exists == -1) {
        s_release (self);
        return NULL;
    }
    if (exists == 0 && s_create (self, path, err) == -1) {
        s_release (self);
        return NULL;
    }
    if (s_open_at (self, path, err) == -1) {
        s_release (self);
        return NULL;
    }
    size_t vlen = 0;
    char *version =
        (char *)odc_store_get (self, ODC_CF_META, S_SCHEMA_KEY, strlen (S_SCHEMA_KEY), &vlen);
    char want[16];
    int wlen = snprintf (want, sizeof want, "%d", ODC_STORE_SCHEMA_VERSION);
    if (!version) {
        /*  Creation writes the version before the folder gets its name, so
            a database without it was not made by opendca. */
        s_set_err (err, s_format ("%s: not an opendca store (no schema version)", path));
        s_release (self);
        return NULL;
    }
    if (vlen != (size_t)wlen || memcmp (version, want, vlen) != 0) {
        s_set_err (err, s_format ("%s: store schema version %.*s, this opendca reads %d", path,
                                  (int)vlen, version, ODC_STORE_SCHEMA_VERSION));
        free (version);
        s_release (self);
        return NULL;
    }
    free (version);
    return self;
}

odc_store_t *
odc_store_open_readonly (const char *path, char **err)
{
    odc_store_t *self = (odc_store_t *)calloc (1, sizeof *self);
    self->path = strdup (path);
    self->options = rocksdb_options_create ();
    s_latest_options (self);
    self->write = rocksdb_writeoptions_create ();
    self->lazy = rocksdb_writeoptions_create ();
    self->read = rocksdb_readoptions_create ();
    if (s_check_families (self->options, path, err) != 1) {
        if (err && !*err)
            *err = s_format ("%s: no opendca store here", path);
        s_release (self);
        return NULL;
    }
    const char *names[ODC_CF_COUNT + 1];
    const rocksdb_options_t *cf_options[ODC_CF_COUNT + 1];
    s_families (self, names, cf_options);
    char *rerr = NULL;
    self->db = rocksdb_open_for_read_only_column_families (self->options, path, ODC_CF_COUNT + 1,
                                                           names, cf_options, self->cf, 0, &rerr);
    if (rerr) {
        s_set_err (err, s_format ("%s: cannot open the store to read: %s", path, rerr));
        rocksdb_free (rerr);
        memset (self->cf, 0, sizeof self->cf);
        self->db = NULL;
        s_release (self);
        return NULL;
    }
    return self;
}

void
odc_store_close (odc_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_release (*self_p);
    *self_p = NULL;
}

int
odc_store_put (odc_store_t *self, odc_cf_t cf, const void *key, size_t klen, const void *value,
               size_t vlen)
{
    char *err = NULL;
    S_WRITE_LOCK ();
    rocksdb_put_cf (self->db, self->write, self->cf[cf], key, klen, value, vlen, &err);
    S_WRITE_UNLOCK ();
    if (err) {
        odc_error (NULL, "%s: put in %s: %s", self->path, s_cf_names[cf], err);
        rocksdb_free (err);
        return -1;
    }
    return 0;
}

int
odc_store_delete (odc_store_t *self, odc_cf_t cf, const void *key, size_t klen)
{
    char *err = NULL;
    S_WRITE_LOCK ();
    rocksdb_delete_cf (self->db, self->write, self->cf[cf], key, klen, &err);
    S_WRITE_UNLOCK ();
    if (err) {
        odc_error (NULL, "%s: delete in %s: %s", self->path, s_cf_names[cf], err);
        rocksdb_free (err);
        return -1;
    }
    return 0;
}

void *
odc_store_get (odc_store_t *self, odc_cf_t cf, const void *key, size_t klen, size_t *vlen)
{
    char *err = NULL;
    size_t len = 0;
    char *value = rocksdb_get_cf (self->db, self->read, self->cf[cf], key, klen, &len, &err);
    *vlen = 0;
    if (err) {
        odc_error (NULL, "%s: get in %s: %s", self->path, s_cf_names[cf], err);
        rocksdb_free (err);
        return NULL;
    }
    if (!value)
        return NULL;
    /*  Copy into malloc'ed memory so callers free with free(), whatever
        allocator RocksDB was built with; one byte more for a terminating
        NUL, handy for text values. */
    char *copy = (char *)malloc (len + 1);
    if (copy) {
        memcpy (copy, value, len);
        copy[len] = 0;
        *vlen = len;
    }
    rocksdb_free (value);
    return copy;
}

odc_batch_t *
odc_batch_new (void)
{
    odc_batch_t *self = (odc_batch_t *)calloc (1, sizeof *self);
    if (self)
        self->wb = rocksdb_writebatch_create ();
    return self;
}

void
odc_batch_destroy (odc_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rocksdb_writebatch_destroy ((*self_p)->wb);
    free (*self_p);
    *self_p = NULL;
}

void
odc_batch_put (odc_batch_t *self, odc_store_t *store, odc_cf_t cf, const void *key, size_t klen,
               const void *value, size_t vlen)
{
    rocksdb_writebatch_put_cf (self->wb, store->cf[cf], key, klen, value, vlen);
}

void
odc_batch_delete (odc_batch_t *self, odc_store_t *store, odc_cf_t cf, const void *key, size_t klen)
{
    rocksdb_writebatch_delete_cf (self->wb, store->cf[cf], key, klen);
}

void
odc_batch_delete_range (odc_batch_t *self, odc_store_t *store, odc_cf_t cf, const void *from,
                        size_t flen, const void *to, size_t tlen)
{
    rocksdb_writebatch_delete_range_cf (self->wb, store->cf[cf], from, flen, to, tlen);
}

size_t
odc_batch_count (odc_batch_t *self)
{
    return (size_t)rocksdb_writebatch_count (self->wb);
}

void
odc_batch_clear (odc_batch_t *self)
{
    rocksdb_writebatch_clear (self->wb);
}

static int
s_write (odc_store_t *self, odc_batch_t *batch, rocksdb_writeoptions_t *options)
{
    char *err = NULL;
    S_WRITE_LOCK ();
    rocksdb_write (self->db, options, batch->wb, &err);
    S_WRITE_UNLOCK ();
    if (err) {
        odc_error (NULL, "%s: write batch of %zu: %s", self->path, odc_batch_count (batch), err);
        rocksdb_free (err);
        return -1;
    }
    return 0;
}

int
odc_store_write (odc_store_t *self, odc_batch_t *batch)
{
    return s_write (self, batch, self->write);
}

int
odc_store_write_lazy (odc_store_t *self, odc_batch_t *batch)
{
    return s_write (self, batch, self->lazy);
}

/*  An iterator bounded to [from, to): the bound buffers are the caller's and
    must outlive the iterator (RocksDB keeps pointers to them). Iterators
    read past the block cache instead of through it (RocksDB's advice for
    bulk scans): the walks read what they read once (the daily meter walk
    of every latest reading, the device list, the outbox records on their
    way out, deleted once acknowledged); through the cache they evicted
    what the lookups use, and filled it to its bound within the first day
    (bench/bench_soak.sh: 1.7 to 15.8 MiB at the first daily upload). */
static rocksdb_iterator_t *
s_iter (odc_store_t *self, odc_cf_t cf, rocksdb_readoptions_t **ro, const void *from, size_t flen,
        const void *to, size_t tlen)
{
    *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_fill_cache (*ro, 0);
    if (from)
        rocksdb_readoptions_set_iterate_lower_bound (*ro, (const char *)from, flen);
    if (to)
        rocksdb_readoptions_set_iterate_upper_bound (*ro, (const char *)to, tlen);
    return rocksdb_create_iterator_cf (self->db, *ro, self->cf[cf]);
}

static int
s_iter_done (odc_store_t *self, rocksdb_iterator_t *it, rocksdb_readoptions_t *ro)
{
    char *err = NULL;
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    rocksdb_readoptions_destroy (ro);
    if (err) {
        odc_error (NULL, "%s: iterate: %s", self->path, err);
        rocksdb_free (err);
        return -1;
    }
    return 0;
}

long
odc_store_each (odc_store_t *self, odc_cf_t cf, const void *from, size_t flen, const void *to,
                size_t tlen, odc_store_each_fn *fn, void *arg)
{
    rocksdb_readoptions_t *ro;
    rocksdb_iterator_t *it = s_iter (self, cf, &ro, from, flen, to, tlen);
    long visited = 0;
    if (from)
        rocksdb_iter_seek (it, (const char *)from, flen);
    else
        rocksdb_iter_seek_to_first (it);
    for (; rocksdb_iter_valid (it); rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const char *key = rocksdb_iter_key (it, &klen);
        const char *value = rocksdb_iter_value (it, &vlen);
        visited++;
        if (fn (key, klen, value, vlen, arg) != 0)
            break;
    }
    return s_iter_done (self, it, ro) == -1 ? -1 : visited;
}

int
odc_store_last_key (odc_store_t *self, odc_cf_t cf, const void *from, size_t flen, const void *to,
                    size_t tlen, void *key, size_t *klen)
{
    rocksdb_readoptions_t *ro;
    rocksdb_iterator_t *it = s_iter (self, cf, &ro, from, flen, to, tlen);
    rocksdb_iter_seek_to_last (it);
    int found = 0;
    if (rocksdb_iter_valid (it)) {
        size_t len;
        const char *k = rocksdb_iter_key (it, &len);
        size_t copy = len < *klen ? len : *klen;
        memcpy (key, k, copy);
        *klen = len;
        found = 1;
    }
    return s_iter_done (self, it, ro) == -1 ? -1 : found;
}
