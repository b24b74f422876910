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
    "unknown command" with the list. The text is parsed where it arrives
    (odc_imil_parse) into a typed Command (proto/opendca.proto: a oneof of
    help, status, show_device, ...), and only that travels: from the
    portal (XMPP chat from a trusted JID: the bridge parses it, hands the
    Command to the commands actor on ODC_EP_COMMANDS and goes on; the Reply
    comes back on ODC_EP_REPLIES) or from `opendca imil "..."` on the
    collector's machine (the commands actor's control socket in the store
    folder). A device list the portal pushes or `opendca import` gives is
    the Command set_devices, which the commands actor hands to the registry
    (ODC_EP_DEVICES). The commands actor runs commands one after the other:
    a sweep holds the next command, never the bridge's acknowledgements and
    batches.

    The commands actor also keeps what "status" tells: each loop and the
    bridge send it their LoopStatus and PortalStatus on ODC_EP_STATUS. */
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

/*  A command parsed: command (its what set, text pointing at the text
    given) points into the rest of the struct. */
typedef struct {
    Odc__Command command;
    Odc__Empty empty;
    Odc__ShowDevice show_device;
    Odc__Discover discover;
    Odc__SendMeters send_meters;
    char words[8][128];
    char *ranges[7];
} odc_imil_command_t;

/*  Parse text into p->command: 0; or 1 (not understood) with *reply (the
    caller frees it) what to answer: "unknown command ..." with the list, or
    "command too long". */
int odc_imil_parse (const char *text, odc_imil_command_t *p, char **reply);

/*  The commands actor's arguments (config, store, outbox), and its own
    state, which odc_imil_run works with: the sockets (NULL: no such actor;
    the reply says so) and the status the loops and the bridge sent. */
typedef struct {
    const odc_config_t *config;
    odc_store_t *store;
    odc_outbox_t *outbox;
    zsock_t *upload;    /* PUSH to the uploader, NULL: no portal */
    zsock_t *registry;  /* PUSH to the registry (ODC_EP_REGISTRY): what sweeps find */
    zsock_t *discovery; /* PUSH to the discovery actor (ODC_EP_DISCOVERY) */
    zsock_t *devices;   /* REQ to the registry (ODC_EP_DEVICES): device lists */
    double started;     /* wall clock */
    Odc__LoopStatus *loops[ODC_LOOP_COUNT];
    Odc__PortalStatus *portal;
} odc_imil_t;

/*  Run one command; returns the reply (caller frees) and sets *status: 0
    done, 1 not understood, 2 understood but not done (unknown device, no
    portal). */
char *odc_imil_run (odc_imil_t *ctx, const Odc__Command *command, int *status);
/*  Parse and run. */
char *odc_imil_run_text (odc_imil_t *ctx, const char *text, int *status);

/*  A DeviceList's devices from parsed ones (pointing at their strings,
    which must outlive it); free what this allocated with
    odc_imil_device_list_free. */
void odc_imil_device_list (Odc__DeviceList *out, const odc_device_config_t *devices, size_t n);
void odc_imil_device_list_free (Odc__DeviceList *list);

/*  The device list as a table (or JSON lines) on out; 0, or 2 when the
    store cannot be read. */
int odc_imil_devices (FILE *out, odc_store_t *store, bool json);

/*  The commands actor: serves `opendca imil` on ODC_IMIL_ENDPOINT in the
    store folder and, with a portal, the portal's commands (Command on
    ODC_EP_COMMANDS, Reply to ODC_EP_REPLIES). args: odc_imil_t * (config,
    store and outbox: the actor makes its own sockets). Starts after the
    registry (and stops before it): it waits for the registry's answer to a
    device list. */
void odc_commands_actor (zsock_t *pipe, void *args);

/*  The control socket's endpoint for a store folder ("ipc://DIR/control"). */
void odc_imil_endpoint (char *out, size_t size, const char *store_path);

#endif
