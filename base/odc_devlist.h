/*  odc_devlist: device lists as people and portals write them, and the
    id a listed device gets. Pure text handling (base layer): the store
    keeps the devices (store/odc_devices.h), the registry decides what a
    list changes. */
#ifndef ODC_DEVLIST_H
#define ODC_DEVLIST_H

#include <stddef.h>

#include "odc_config.h"

#define ODC_DEVICE_ID_MAX 64

/*  The id of the device at address and port (0 means 161): the address
    for the standard port ("192.0.2.7"), "ADDRESS:PORT" otherwise; a name
    too long for size is cut and marked with a hash of the whole, so two
    long names that share their start still get two ids. */
void odc_device_id (char *out, size_t size, const char *address, int port);

/*  A device list in CSV, as `opendca import devices` and `opendca-portal
    push-devices` read it: one device a line; fields separated by commas,
    a field with a comma in double quotes ("" for a quote in it); empty
    lines and lines starting with # skipped. A first line that starts with
    "address" names the columns (address, port, credential, asset_number,
    location; "asset" for asset_number); otherwise `columns` gives them.
    The address may carry its port (ADDRESS:PORT).

    Every bad line is reported as "FILE:LINE: reason" in errors (no or bad
    address, port not 1-65535, a credential the configuration does not
    have, too many fields, an address listed twice); the good lines are in
    devices (credential: the named one, or else the configuration's first;
    with config NULL, as written, possibly NULL). NULL only when the file
    cannot be read (*error says why). */
typedef struct {
    odc_device_config_t *devices;
    size_t count;
    char **errors;
    size_t error_count;
} odc_devlist_t;

/*  The columns of `opendca import devices` (no header) and of the
    portal's push-devices. */
extern const char *const odc_devlist_import_columns[];
extern const char *const odc_devlist_portal_columns[];

odc_devlist_t *odc_devlist_read (const char *path, const char *const *columns,
                                 const odc_config_t *config, char **error);
/*  The same from text in memory (name: what errors call it). */
odc_devlist_t *odc_devlist_read_text (const char *text, size_t size, const char *name,
                                      const char *const *columns, const odc_config_t *config);
void odc_devlist_destroy (odc_devlist_t **self_p);

#endif
