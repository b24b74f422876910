/*  odc_read: what each monitoring loop reads from a printer, and how the
    answer becomes a reading (proto/opendca.proto).

    Each loop reads only what its job needs (the OIDs are listed in
    snmp/README.md); all of it in as few requests as the device allows (see
    odc_snmp.h). X below is the printer's hrDeviceIndex (usually 1; the
    identity loop finds it).

    Usage, for one device and one loop:
        odc_read_oids_t oids;                    // kept as long as the job
        odc_read_prepare (ODC_LOOP_SUPPLY, printer_index, false, NULL, 0, &oids, &job);
        job.keep_raw = true;                     // if the reading is to keep the varbinds
        ... the engine runs the job ...
        Odc__SupplyReading *r = odc_read_supplies (&job);   // caller frees
    The alert loop reads in two steps: the status scalars, and the alert
    table only when the event counters moved (the loop actor decides). */
#ifndef ODC_READ_H
#define ODC_READ_H

#include "odc_config.h"
#include "odc_snmp.h"
#include "opendca.pb-c.h"

/*  A vendor page counter: data, from snmp/vendor-counters.tsv. */
typedef struct {
    uint32_t enterprise; /* the maker's number in sysObjectID */
    char name[32];       /* "total", "mono", "colour", ... */
    odc_oid_t oid;
} odc_vendor_counter_t;

typedef struct {
    odc_vendor_counter_t *counters;
    size_t count;
} odc_vendor_map_t;

/*  Load the vendor counter map (TSV: enterprise, name, OID; # comments).
    NULL with *error naming the file, the line and the reason. */
odc_vendor_map_t *odc_vendor_map_load (const char *path, char **error);
void odc_vendor_map_destroy (odc_vendor_map_t **self_p);
/*  The maker's counters of the map (enterprise's, in the map's order), at
    most ODC_READ_MAX_VENDOR, into out; their count. What the meter loop and
    `opendca poll` ask a device of that maker. */
#define ODC_READ_MAX_VENDOR 32
size_t odc_vendor_map_maker (const odc_vendor_map_t *map, uint32_t enterprise,
                             const odc_vendor_counter_t **out);
/*  The enterprise number in a sysObjectID (1.3.6.1.4.1.N...), 0 if none. */
uint32_t odc_enterprise_of (const char *sys_object_id);

/*  Where a loop keeps a device's last failed read for `show device`
    (odc_devices_note_*): what "read-error-LOOP" (LOOP the loop's name),
    text "MS REASON", MS the wall clock (ms) of the failure, REASON the
    job's error ("walk stopped: more than 1000 rows in ..."); "" once the
    device reads again. Only answers that went wrong are noted (errors and
    the bounds of a read), not silence. */
#define ODC_READ_ERROR_NOTE "read-error-"

/*  Fill the job's scalars and columns for a loop. For the meter loop,
    vendor lists the counters to ask for (NULL: the standard counter only).
    For the alert loop, table selects the second step. The OID arrays live
    in `storage`, which the caller keeps as long as the job. */
typedef struct {
    odc_oid_t scalars[ODC_READ_MAX_VENDOR + 8];
    odc_oid_t columns[16];
} odc_read_oids_t;

void odc_read_prepare (odc_loop_t loop, uint32_t printer_index, bool table,
                       const odc_vendor_counter_t *const *vendor, size_t n_vendor,
                       odc_read_oids_t *storage, odc_snmp_job_t *job);

/*  The reading's common header; with the raw varbinds when the job says
    keep_raw. */
Odc__ReadingHeader *odc_read_header (const odc_snmp_job_t *job, odc_loop_t loop);

/*  The header of any of the five readings (its field "header"), NULL for
    another message. */
Odc__ReadingHeader *odc_read_header_of (ProtobufCMessage *reading);

/*  Decoders: a new reading (free with odc__*__free_unpacked (r, NULL)), or
    NULL when the device answered none of what was asked. */
Odc__IdentityReading *odc_read_identity (const odc_snmp_job_t *job);
Odc__AlertReading *odc_read_alerts (const odc_snmp_job_t *status_job,
                                    const odc_snmp_job_t *table_job);
Odc__MeterReading *odc_read_meters (const odc_snmp_job_t *job,
                                    const odc_vendor_counter_t *const *vendor, size_t n_vendor);
Odc__SupplyReading *odc_read_supplies (const odc_snmp_job_t *job);
Odc__TrayReading *odc_read_trays (const odc_snmp_job_t *job);

/*  The loop's decoder: the reading of loop from its job (the alert loop:
    the status job, and table the alert table's job or NULL; the meter
    loop: the vendor counters asked), NULL as the decoders say. What the
    loops and `opendca poll` / `analyse` both call. */
ProtobufCMessage *odc_read_decode (odc_loop_t loop, const odc_snmp_job_t *job,
                                   const odc_snmp_job_t *table,
                                   const odc_vendor_counter_t *const *vendor, size_t n_vendor);

/*  The printer's hrDeviceIndex from an identity job (the hrDeviceType row
    that says printer), 0 when none does. */
uint32_t odc_read_printer_index (const odc_snmp_job_t *job);

/*  The one rule of "this alert reading is news": a hash (never 0) of
    hrDeviceStatus, the error bits (hrPrinterDetectedErrorState) and the
    alert counters (prtAlertCriticalEvents, prtAlertAllEvents), which move
    whenever the alert table does. hrPrinterStatus (idle, printing,
    warming up) is not news; the table rides along when it was read. The
    alert loop sends a reading downstream when this differs from the last
    one it sent (or the table was read, or a resend is due); the uploader
    sends it to the portal when it differs from what the portal last
    got. */
uint64_t odc_alert_news (const Odc__AlertReading *r);

/*  Print any reading (any protobuf message) as JSON on out. Bytes print
    as hex; text from devices is escaped (control characters, invalid
    UTF-8). indent < 0: all on one line (JSON Lines). */
void odc_json_print (const ProtobufCMessage *message, FILE *out, int indent);

/*  The size of one item of a repeated field in a protobuf-c message. */
size_t odc_pb_item_size (const ProtobufCFieldDescriptor *f);

/*  Call fn for every field of m that holds something: once per item of a
    repeated field (index 0, 1, ...), once for a set message field or any
    scalar (index -1); unset message fields and unchosen oneof members are
    skipped. member points at the value (for a message, at its pointer). */
typedef void (odc_pb_field_fn) (const ProtobufCFieldDescriptor *f, const void *member, long index,
                                void *arg);
void odc_pb_each_field (const ProtobufCMessage *m, odc_pb_field_fn *fn, void *arg);

/*  Print a reading of a loop as a readable table on stdout / on out. */
void odc_reading_print (odc_loop_t loop, const ProtobufCMessage *message);
void odc_reading_fprint (FILE *out, odc_loop_t loop, const ProtobufCMessage *message);
/*  One row of such a table: "  KEY  VALUE", both made printable. */
void odc_reading_row (FILE *out, const char *key, const char *value);

#endif
