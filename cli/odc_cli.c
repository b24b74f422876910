/*  odc_cli: what the subcommands share (credential options, addresses,
    numbers, loading the configuration). See odc_cli.h. */
#include "odc_cli.h"

#include <ctype.h>
#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
odc_cli_credential_init (odc_credential_t *cred)
{
    memset (cred, 0, sizeof *cred);
    cred->name = "command line";
    cred->version = 2;
    cred->community = "public";
}

int
odc_cli_credential_option (int opt, const char *arg, odc_credential_t *cred, bool *given,
                           const char *prog)
{
    static const char *const versions[] = {"1", "2c", "3", NULL};
    static const char *const levels[] = {"noAuthNoPriv", "authNoPriv", "authPriv", NULL};
    int i;
    switch (opt) {
    case 'v':
        if ((i = odc_config_choice (versions, arg)) < 0) {
            fprintf (stderr, "%s: -v %s: 1, 2c or 3\n", prog, arg);
            return -1;
        }
        cred->version = i + 1;
        break;
    case 'c': cred->community = (char *)arg; break;
    case 'u': cred->user = (char *)arg; break;
    case 'l':
        if ((i = odc_config_choice (levels, arg)) < 0) {
            fprintf (stderr, "%s: -l %s: noAuthNoPriv, authNoPriv or authPriv\n", prog, arg);
            return -1;
        }
        cred->level = i;
        break;
    case 'a':
        if ((i = odc_config_choice (odc_config_auth_protocols, arg)) < 0) {
            fprintf (stderr, "%s: -a %s: MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512\n", prog,
                     arg);
            return -1;
        }
        cred->auth_protocol = i;
        break;
    case 'A': cred->auth_passphrase = (char *)arg; break;
    case 'x':
        if ((i = odc_config_choice (odc_config_priv_protocols, arg)) < 0) {
            fprintf (stderr, "%s: -x %s: DES, AES, AES-192 or AES-256\n", prog, arg);
            return -1;
        }
        cred->priv_protocol = i;
        break;
    case 'X': cred->priv_passphrase = (char *)arg; break;
    case 'n': cred->context = (char *)arg; break;
    default: return 0;
    }
    if (given)
        *given = true;
    return 1;
}

int
odc_cli_credential_check (odc_credential_t *cred, const char *prog)
{
    if (cred->version != 3)
        return 0;
    if (!cred->user ||
        (cred->level >= 1 && (!cred->auth_passphrase || strlen (cred->auth_passphrase) < 8)) ||
        (cred->level == 2 && (!cred->priv_passphrase || strlen (cred->priv_passphrase) < 8))) {
        fprintf (stderr,
                 "%s: SNMPv3 needs -u USER, and -A / -X passphrases of 8 or more "
                 "characters for its level (-l)\n",
                 prog);
        return -1;
    }
    cred->community = NULL;
    return 0;
}

int
odc_cli_address (const char *text, char *address, size_t size, int *port)
{
    snprintf (address, size, "%s", text);
    char *colon = strrchr (address, ':');
    if (colon && strchr (address, ':') == colon) { /* one colon: ADDRESS:PORT */
        char *end = NULL;
        long p = strtol (colon + 1, &end, 10);
        if (!colon[1] || *end || p < 1 || p > 65535)
            return -1;
        *colon = 0;
        *port = (int)p;
    }
    return 0;
}

int
odc_cli_number (const char *prog, const char *name, const char *text, long min, long max,
                const char *what, int *value)
{
    char *end = NULL;
    errno = 0;
    /*  strtol would take " 5" and "+5" too. */
    bool digits = text && (isdigit ((unsigned char)text[0]) ||
                           (text[0] == '-' && isdigit ((unsigned char)text[1])));
    long v = digits ? strtol (text, &end, 10) : 0;
    if (!digits || *end || errno || v < min || v > max) {
        fprintf (stderr, "%s: --%s %s: a whole number from %ld to %ld (%s)\n", prog, name,
                 text ? text : "", min, max, what);
        return -1;
    }
    *value = (int)v;
    return 0;
}

/*  Load a configuration; on errors print them all to stderr. */
odc_config_t *
odc_cli_load_config (const char *file)
{
    char *errors = NULL;
    odc_config_t *config = odc_config_load (file, &errors);
    if (!config) {
        fputs (errors, stderr);
        free (errors);
    }
    return config;
}
