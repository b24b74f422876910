/*  sim_mib: a device's MIB as the simulator holds it.

    A model's varbinds, sorted by OID, read from an snmprec file (the format
    of snmpsim: one "OID|TAG|VALUE" line per varbind; see
    ../shared/fixtures/printers/README.md). Values keep the SNMP type of the
    tag and their bytes; OIDs are arrays of sub-identifiers. Shared by every
    device of the model: read-only after loading.

    Our own models (bench/models) may add a role to a tag, "65:odc=mono",
    telling the simulator that the value moves with the device's state; see
    sim_fleet.h for the roles. */
#ifndef SIM_MIB_H
#define SIM_MIB_H

#include <stddef.h>
#include <stdint.h>

#define SIM_OID_MAX 128

typedef struct {
    uint32_t *oid; /* into the mib's pool */
    uint16_t oid_len;
    uint8_t type;   /* ASN_* of net-snmp */
    uint8_t role;   /* SIM_ROLE_*, 0 for static */
    uint16_t arg;   /* role argument (e.g. supply row) */
    uint32_t len;   /* value bytes */
    uint8_t *value; /* into the pool; integers as int64_t, counter64 as uint64_t */
} sim_var_t;

typedef struct {
    char *name; /* file name without folder and .snmprec */
    sim_var_t *vars;
    size_t count;
    uint8_t *pool;
    size_t pool_used, pool_size;
    size_t skipped; /* broken lines left out (each reported on stderr) */
} sim_mib_t;

/*  A whole file in memory (free()); NULL with errno when it cannot be
    read. */
char *sim_read_file (const char *path, size_t *size);

/*  Parse snmprec text; name is used in messages. A line that does not
    parse is skipped with a warning on stderr naming the file, the line and
    the reason; text with no usable line is an error: NULL, with *error
    (free()) saying why. */
sim_mib_t *sim_mib_parse (const char *name, const char *text, size_t size, char **error);
void sim_mib_destroy (sim_mib_t **self_p);

/*  Compare two OIDs: <0, 0, >0. */
int sim_oid_compare (const uint32_t *a, size_t alen, const uint32_t *b, size_t blen);
/*  Is oid inside (or equal to) prefix? */
int sim_oid_has_prefix (const uint32_t *oid, size_t len, const uint32_t *prefix, size_t plen);
/*  Parse a dotted numeric OID (leading dot allowed). Returns the length, or
    -1 when it is not one. */
int sim_oid_parse (const char *text, uint32_t *out, size_t max);

/*  Index of the first variable whose OID is > oid (strictly), count when
    none: the GETNEXT step. */
size_t sim_mib_next (const sim_mib_t *self, const uint32_t *oid, size_t len);
/*  Index of the variable with exactly this OID, or -1. */
long sim_mib_find (const sim_mib_t *self, const uint32_t *oid, size_t len);

/*  A new formatted string (free()), for error messages; NULL on no memory. */
char *sim_format (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/*  Integer value of a variable (INTEGER, Counter, Gauge, TimeTicks). */
int64_t sim_var_int (const sim_var_t *var);

#endif
