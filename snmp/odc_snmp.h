/*  odc_snmp: the asynchronous SNMP engine.

    One engine per thread (each monitoring loop has its own). It runs jobs: a
    job reads one device, a list of scalar instances and a list of table
    columns, and calls its done function once with everything it found or
    the reason it found nothing. The engine keeps at most `window` jobs in
    flight; more wait in a queue.

    On the wire, a job costs as few requests as the device allows: the
    scalars go as non-repeaters and the columns as repeaters of one GETBULK,
    walked in lock-step (one row of every column per repetition) until each
    column leaves its subtree; a reply that is too big halves
    max-repetitions. An agent without GETBULK (v1, or one that answers
    GETBULK with an error) or one that returns OIDs out of order is read with
    GETNEXT instead, and the job says so (fell_back) so the caller can
    remember it for the device.

    Built on net-snmp's single-session API: one session (one UDP socket) per
    job in flight, epoll for readiness (never select(): descriptors go past
    1024), our own deadlines for timeouts and retries, snmp_sess_read2 with a
    large fd set. Every request is accounted: requests, bytes out and in,
    round-trip time, timeouts.

    net-snmp is not fully thread-safe: odc_snmp_init must run once before any
    thread starts, and session open/close and SNMPv3 user creation are
    serialised behind one process-wide lock inside this module. */
#ifndef ODC_SNMP_H
#define ODC_SNMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "odc_config.h"

#define ODC_OID_MAX 64

typedef struct {
    oid name[ODC_OID_MAX];
    size_t len;
} odc_oid_t;

typedef struct {
    oid *name; /* name_len sub-identifiers; one block with value (freed by job_clear) */
    size_t name_len;
    uint8_t type; /* ASN_*, or SNMP_NOSUCHOBJECT / SNMP_NOSUCHINSTANCE for a scalar */
    size_t len;
    uint8_t *value; /* as received, NUL after; integers as long, counter64 as struct
                       counter64; NULL when there is none */
    int column;     /* index in job->columns, -1 for a scalar */
} odc_snmp_value_t;

typedef enum {
    ODC_SNMP_PENDING = 0,
    ODC_SNMP_OK,
    ODC_SNMP_TIMEOUT, /* the device did not answer */
    ODC_SNMP_ERROR,   /* it answered with an error we cannot get past; see error */
} odc_snmp_status_t;

/*  Bounds per device read (one job), against agents that walk for ever,
    loop, drip or flood (snmp/README.md, "Bounds per read"). A job that
    passes one ends as ODC_SNMP_ERROR with a reason that names the bound
    ("walk stopped: more than 1000 rows in 1.3.6.1.2.1.43.18.1.1.2.1"),
    and its values are dropped: a cut table is not the device's table.
    0 in a field: the default; UINT32_MAX: no bound. The defaults are far
    above what any real printer of the recordings needs (their largest
    walked column has 10 rows; a read takes a few requests). */
#define ODC_SNMP_MAX_ROWS     1000u              /* rows per column */
#define ODC_SNMP_MAX_REQUESTS 1200u              /* requests per job, resends included */
#define ODC_SNMP_MAX_BYTES    (4u * 1024 * 1024) /* bytes received per job */
#define ODC_SNMP_MAX_MS       60000u             /* wall time per job */
typedef struct {
    uint32_t rows, requests, bytes, ms;
} odc_snmp_bounds_t;

typedef struct {
    int window;               /* jobs in flight at most (default 256) */
    int timeout_ms;           /* per request (default 1500) */
    int retries;              /* further tries per request (default 1) */
    int max_repetitions;      /* rows per GETBULK at first (default 16) */
    odc_snmp_bounds_t bounds; /* per job, for jobs that set none (defaults above) */
} odc_snmp_options_t;

typedef struct _odc_snmp_t odc_snmp_t;
typedef struct odc_snmp_job odc_snmp_job_t;
typedef void (odc_snmp_done_fn) (odc_snmp_job_t *job, void *arg);

struct odc_snmp_job {
    /* in */
    char address[64];
    int port; /* 161 when 0 */
    const odc_credential_t *credential;
    bool getnext_only;        /* known not to do GETBULK well */
    const odc_oid_t *scalars; /* exact instances */
    size_t n_scalars;
    const odc_oid_t *columns; /* subtrees, walked */
    size_t n_columns;
    size_t max_rows;          /* stop a column after this many rows, quietly and OK (discovery
                            reads only the first rows; 0: no limit) */
    odc_snmp_bounds_t bounds; /* per field, 0: the engine's (see odc_snmp_bounds_t) */
    int max_repetitions;      /* rows per GETBULK at first (0: the engine's); a caller
                            that knows the table's size asks for one more row
                            than it has, and the walk ends in one request */
    bool keep_raw;            /* for odc_read: the reading keeps every value as received */
    odc_snmp_done_fn *done;
    void *arg;
    /* out */
    odc_snmp_status_t status;
    char error[160];
    odc_snmp_value_t *values; /* scalars first (in order), then rows as they came */
    size_t n_values;
    bool fell_back; /* had to use GETNEXT */
    size_t rows;    /* the most rows one of the columns gave */
    uint32_t requests, bytes_out, bytes_in, timeouts;
    uint32_t foreign;  /* replies dropped: from another address or port than the device's */
    const char *bound; /* what stopped the job: a bound ("rows", "requests", "bytes",
                          "time"), an OID too long ("oid"), a reply that would be asked
                          again for ever ("reply"); NULL none; the reason is in error */
    uint64_t started_us, finished_us, rtt_us; /* monotonic clock */
    uint64_t started_ms, finished_ms;         /* wall clock, for readings */
    /* the engine's own */
    void *priv;
};

/*  The engine's sockets are moved to this descriptor or above, so that the
    low ones stay for code that uses select() (libstrophe). */
#define ODC_SNMP_FD_FLOOR 1024

/*  Once per process, before any thread: quiet net-snmp (no MIBs, no
    configuration or persistent files), raise the descriptor limit. */
void odc_snmp_init (int max_open_files);

/*  At the very end, after every engine is gone: free what net-snmp holds. */
void odc_snmp_shutdown (void);

odc_snmp_t *odc_snmp_new (const odc_snmp_options_t *options);
/*  Jobs still in flight or queued are dropped without their done
    function being called. */
void odc_snmp_destroy (odc_snmp_t **self_p);

/*  Queue a job. The engine owns nothing of it: the caller keeps the job
    (and what it points to) alive until done is called. 0, or -1 when the
    job cannot start at all (done is then not called). */
int odc_snmp_submit (odc_snmp_t *self, odc_snmp_job_t *job);

/*  Wait up to timeout_ms for answers and deadlines, and act on them
    (done functions run here). Returns the number of jobs finished. */
int odc_snmp_run (odc_snmp_t *self, int timeout_ms);

/*  A descriptor that is readable when the engine has something to do,
    for an outer poll (zmq_poll, epoll); and how long until its next
    deadline (ms, -1 none). Then call odc_snmp_run (self, 0). */
int odc_snmp_fd (odc_snmp_t *self);
int odc_snmp_next_ms (odc_snmp_t *self);

/*  Replies the engine dropped so far because they came from another
    address or port than the request went to (spoofed, or a confused
    agent); each is also counted in its job's `foreign`. */
uint64_t odc_snmp_foreign (odc_snmp_t *self);

/*  Jobs queued plus in flight. */
size_t odc_snmp_pending (odc_snmp_t *self);

/*  Sessions (sockets) the engine opened so far: v1/v2c sessions to IPv4
    devices are reused from job to job, so this stays near the window. */
uint64_t odc_snmp_sessions_opened (odc_snmp_t *self);
/*  Change the window (the loops adapt it to what they observe). */
void odc_snmp_set_window (odc_snmp_t *self, int window);
int odc_snmp_window (odc_snmp_t *self);
/*  The bounds of the jobs started from now on (0 in a field: the default). */
void odc_snmp_set_bounds (odc_snmp_t *self, odc_snmp_bounds_t bounds);

/*  Free a finished job's values (the job itself is the caller's). */
void odc_snmp_job_clear (odc_snmp_job_t *job);

/*  Parse a dotted OID into out; -1 when it is not one. */
int odc_oid_parse (const char *text, odc_oid_t *out);

/*  The value of a job as an integer, a string (copied, NUL-terminated,
    into buf), ... Helpers for decoders. */
long odc_snmp_value_int (const odc_snmp_value_t *value);
/*  An unsigned count: Counter32, Gauge32, TimeTicks, Counter64, or an
    INTEGER that is not negative. 0 for anything else: a negative INTEGER
    is a Printer MIB sentinel (-1 other, -2 unknown, -3 some remain) or
    broken firmware, never 4,294,967,295 pages. */
uint64_t odc_snmp_value_u64 (const odc_snmp_value_t *value);
/*  The same, telling: 0 with *out set, or -1 when the value is no count
    (a negative INTEGER, another type, no value). */
int odc_snmp_value_count (const odc_snmp_value_t *value, uint64_t *out);

#endif
