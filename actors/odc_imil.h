/*  odc_imil: the collector's remote command language, first words.

        help                              what the collector understands
        status                            uptime, devices, each loop's last
                                          pass, outbox depth, portal link
        show device ADDRESS|ID|SERIAL     the device and its latest readings
        get latest counts [ADDRESS|all]   send the latest meters to the portal
                                          now (all when no address is given)
        show devices                      the device list (the registry)
        discover                          sweep the configured ranges now
        discover RANGE...                 sweep these (at most 4096 addresses,
                                          discovery.* settings, every
                                          configured credential) and list the
                                          printers found; they go to the
                                          registry as a sweep's finds do

    Words are case-insensitive and spaces do not matter. Anything else gets
    "unknown command" with the list. The same text arrives from the portal
    (XMPP chat from a trusted JID: the bridge hands it to the commands actor
    as a Command on ODC_EP_COMMANDS and goes on; the Reply comes back on
    ODC_EP_REPLIES) or from `opendca imil "..."` on the collector's machine
    (the commands actor's control socket in the store folder). The commands
    actor runs them one after the other: a sweep holds the next command,
    never the bridge's acknowledgements and batches. */
#ifndef ODC_IMIL_H
#define ODC_IMIL_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_outbox.h"
#include "odc_store.h"

#define ODC_IMIL_MAX_TEXT 1024

/*  The words of a command as the parser takes them: split at blanks,
    lower-cased, at most 8 of at most 127 bytes. Returns how many. */
int odc_imil_words (const char *text, char words[8][128]);

typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
    zsock_t *upload;     /* a PUSH socket of the caller's thread to the uploader, NULL: no portal */
    zsock_t *registry;   /* ... to the registry (ODC_EP_REGISTRY), NULL: none */
    zsock_t *discovery;  /* ... to the discovery actor (ODC_EP_DISCOVERY), NULL: none */
    zsock_t *device_set; /* the caller's PUB of device-set changes (odc_bus_device_set_pub) */
} odc_imil_t;

/*  Run one command; returns the reply (caller frees) and sets *status: 0
    done, 1 not understood, 2 understood but not done (unknown device, no
    portal). */
char *odc_imil_run (odc_imil_t *ctx, const char *text, int *status);

/*  The device list as a table (or JSON lines) on out; 0, or 2 when the
    store cannot be read. */
int odc_imil_devices (FILE *out, odc_store_t *store, bool json);

/*  The commands actor: serves `opendca imil` on ODC_IMIL_ENDPOINT in the
    store folder and, with a portal, the portal's commands (Command on
    ODC_EP_COMMANDS, Reply to ODC_EP_REPLIES). args: odc_imil_t * (its
    sockets are ignored: the actor makes its own). */
void odc_commands_actor (zsock_t *pipe, void *args);

/*  The control socket's endpoint for a store folder ("ipc://DIR/control"). */
void odc_imil_endpoint (char *out, size_t size, const char *store_path);

#endif
