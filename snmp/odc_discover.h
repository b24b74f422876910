/*  odc_discover: sweeping address ranges for printers, with SNMP only.

    A sweep takes targets (CIDR a.b.c.d/nn, a range a.b.c.d-e.f.g.h, a
    single address or a DNS name, each with an optional ":PORT") and, for
    every address they hold, tries the credentials in the order given until
    one answers. It never sends anything but SNMP requests, and never to an
    address outside its targets (no ping, no broadcast, no multicast).

    What answers is read the way the identity loop reads it (sysObjectID,
    sysDescr, sysName, sysLocation, prtGeneralSerialNumber, hrDeviceTable,
    ifPhysAddress: one GETBULK when the agent allows it). A printer is an
    agent whose hrDeviceTable has a row of type printer, or that has the
    Printer-MIB (a prtGeneralSerialNumber). Other agents are counted and
    reported as such, not as printers.

    Gentle on customer networks: at most `concurrency` addresses in flight,
    and new addresses started at no more than `rate` a second.

    Targets are checked when the sweep is made: a name that does not
    resolve, or ranges that overlap (each address is asked once, with the
    credentials of the first target that holds it) are reported through
    the note function, with the target named.

    Usage:
        odc_discover_t *d = odc_discover_new (&options, targets, n, note, arg, &error);
        while (!odc_discover_done (d))
            odc_discover_run (d, 200);            // found () is called from here
        odc_discover_destroy (&d);
    or, inside an actor's poll loop: odc_discover_fd / odc_discover_next_ms,
    then odc_discover_run (d, 0). */
#ifndef ODC_DISCOVER_H
#define ODC_DISCOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "odc_read.h"

typedef struct {
    char address[64]; /* what was asked: always an IPv4 literal */
    int port;
    const odc_credential_t *credential; /* the first that answered */
    bool printer;
    const Odc__IdentityReading *identity; /* valid during the call */
    const char *target;                   /* the target that held it */
} odc_discover_found_t;

typedef void (odc_discover_found_fn) (const odc_discover_found_t *found, void *arg);
typedef void (odc_discover_note_fn) (const char *text, void *arg);

typedef struct {
    const odc_credential_t *const *credentials; /* tried in this order */
    size_t credential_count;
    int port;        /* when a target has none (default 161) */
    int timeout_ms;  /* per request (default 2000) */
    int retries;     /* further tries per request (default 0) */
    int concurrency; /* addresses in flight (default 1024) */
    int rate;        /* new addresses a second (default 200) */
    odc_discover_found_fn *found;
    void *arg;
} odc_discover_options_t;

typedef struct {
    uint64_t addresses; /* in the targets, each counted once */
    uint64_t swept;     /* finished */
    uint64_t answered;  /* by some credential */
    uint64_t printers;
    uint64_t others; /* answered, not printers */
    uint64_t requests, timeouts, bytes_out, bytes_in;
    double seconds;
} odc_discover_stats_t;

/*  One target; credentials NULL: the options' list. */
typedef struct {
    const char *text;
    const odc_credential_t *const *credentials;
    size_t credential_count;
} odc_discover_target_t;

typedef struct _odc_discover_t odc_discover_t;

/*  A sweep over targets; NULL with *error (caller frees) when none of the
    targets can be swept or the options are wrong. Problems with single
    targets go to note (may be NULL) and leave the others. Names are
    resolved here (blocking). */
odc_discover_t *odc_discover_new (const odc_discover_options_t *options,
                                  const odc_discover_target_t *targets, size_t target_count,
                                  odc_discover_note_fn *note, void *note_arg, char **error);
void odc_discover_destroy (odc_discover_t **self_p);

/*  Start what the rate and the concurrency allow, wait up to timeout_ms
    for answers, act on them. */
void odc_discover_run (odc_discover_t *self, int timeout_ms);
bool odc_discover_done (odc_discover_t *self);
/*  For an outer poll: readable when answers wait; ms until the next thing
    to do (-1 none). */
int odc_discover_fd (odc_discover_t *self);
int odc_discover_next_ms (odc_discover_t *self);
const odc_discover_stats_t *odc_discover_stats (odc_discover_t *self);

/*  Parse one target: first and last address (host order) and port (0 when
    it names none). A DNS name is resolved (its first IPv4 address). -1
    with *reason (static text, or resolver's words copied into buf). */
int odc_discover_target (const char *text, uint32_t *first, uint32_t *last, int *port, char *reason,
                         size_t reason_size);

/*  What sweeps found, collected for printing (sorted by address): a table
    (address, maker, model, serial, MAC, credential; with all, other agents
    too, and a KIND column) or JSON lines. */
typedef struct _odc_discover_list_t odc_discover_list_t;
odc_discover_list_t *odc_discover_list_new (bool all);
void odc_discover_list_destroy (odc_discover_list_t **self_p);
void odc_discover_list_add (odc_discover_list_t *self, const odc_discover_found_t *found);
size_t odc_discover_list_count (odc_discover_list_t *self);
void odc_discover_list_print (odc_discover_list_t *self, FILE *out, bool json);

/*  "swept N addresses in S s: P printers, O other SNMP agents, ..." */
void odc_discover_summary (FILE *out, const odc_discover_stats_t *stats);

#endif
