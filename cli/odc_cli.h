/*  odc_cli: the subcommands' entry points, called by main (cli/opendca.c),
    and what the commands that talk to devices share (opendca poll,
    discover, analyse): net-snmp's credential options and ADDRESS[:PORT].

        -v 1|2c|3  -c COMMUNITY  -u USER  -l LEVEL  -a PROTOCOL  -A PASSPHRASE
        -x PROTOCOL  -X PASSPHRASE  -n CONTEXT

    ODC_CLI_CREDENTIAL_OPTS is their getopt string, ODC_CLI_CREDENTIAL_HELP
    their --help lines. */
#ifndef ODC_CLI_H
#define ODC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "odc_config.h"

#define ODC_CLI_CREDENTIAL_OPTS "v:c:u:l:a:A:x:X:n:"
#define ODC_CLI_CREDENTIAL_HELP                                                                    \
    "  -v 1|2c|3              SNMP version (default 2c)\n"                                         \
    "  -c COMMUNITY           v1/v2c community (default public)\n"                                 \
    "  -u USER                v3 user\n"                                                           \
    "  -l LEVEL               v3 level: noAuthNoPriv, authNoPriv, authPriv\n"                      \
    "  -a PROTOCOL            v3 authentication: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512\n"   \
    "  -A PASSPHRASE          v3 authentication passphrase\n"                                      \
    "  -x PROTOCOL            v3 privacy: DES, AES, AES-192, AES-256\n"                            \
    "  -X PASSPHRASE          v3 privacy passphrase\n"                                             \
    "  -n CONTEXT             v3 context name\n"

/*  The entry points: argv[0] is the subcommand's name, the rest its
    words. Each returns the process's exit status (0 done, 1 failed, 2 a
    usage error, said on stderr).
    config: the -c FILE given before the subcommand, or NULL (poll and
    analyse take none). */
int odc_poll_main (int argc, char **argv, const char *config);     /* cli/odc_poll.c */
int odc_analyse_main (int argc, char **argv, const char *config);  /* cli/odc_poll.c */
int odc_discover_main (int argc, char **argv, const char *config); /* cli/odc_discover_cmd.c */
/*  Beside a collector (cli/odc_local_cmd.c): its store, its control
    socket. */
int odc_latest_main (int argc, char **argv, const char *config);
int odc_outbox_main (int argc, char **argv, const char *config);
int odc_devices_main (int argc, char **argv, const char *config);
int odc_import_main (int argc, char **argv, const char *config);
int odc_imil_main (int argc, char **argv, const char *config);

/*  A configuration loaded, or NULL with every error printed on stderr. */
odc_config_t *odc_cli_load_config (const char *file);

/*  The default: v2c, community public. */
void odc_cli_credential_init (odc_credential_t *cred);

/*  Take option opt (one of ODC_CLI_CREDENTIAL_OPTS) with its argument.
    1 taken, 0 not a credential option, -1 a bad value (said on stderr,
    naming prog). *given is set when any credential option was taken. */
int odc_cli_credential_option (int opt, const char *arg, odc_credential_t *cred, bool *given,
                               const char *prog);

/*  After the options: v3 needs a user and long enough passphrases. 0, or
    -1 with the reason on stderr. */
int odc_cli_credential_check (odc_credential_t *cred, const char *prog);

/*  "ADDRESS[:PORT]" into address and *port (left as it is when none is
    given). -1 when the port is not 1-65535. */
int odc_cli_address (const char *text, char *address, size_t size, int *port);

/*  The value of a numeric option (--NAME TEXT) into *value: a whole number
    from min to max ("--retries 1000000: a whole number from 0 to 10 (the
    further tries per request)", naming prog and what on stderr
    otherwise). 0, or -1. */
int odc_cli_number (const char *prog, const char *name, const char *text, long min, long max,
                    const char *what, int *value);

#endif
