/*  odc_netsnmp: start net-snmp the way every opendca program does.

    No MIB files, no configuration files, no persistent state (PITFALLS.md):
    numeric OIDs only, nothing written to /var (init_snmp still makes a
    folder for TLS certificate indexes: it goes under /tmp). Logs off unless
    the environment variable named by debug_env lists net-snmp debug tokens
    (for example ODC_SNMP_DEBUG=usm,snmpv3). Header-only: the simulator and
    the tests use it without the collector's libraries. Call once, before
    any thread starts. */
#ifndef ODC_NETSNMP_H
#define ODC_NETSNMP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

static inline void
odc_netsnmp_start (const char *app, const char *debug_env)
{
    setenv ("MIBS", "", 1);
    setenv ("MIBDIRS", "", 1);
    netsnmp_ds_set_boolean (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_CHECK_RANGE, 1);
    static char dir[80];
    snprintf (dir, sizeof dir, "/tmp/%s-snmp-%u", app, (unsigned)getuid ());
    netsnmp_ds_set_string (NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, dir);
    const char *debug = debug_env ? getenv (debug_env) : NULL;
    if (debug && *debug) {
        debug_register_tokens (debug);
        snmp_set_do_debugging (1);
        snmp_enable_stderrlog ();
    }
    else
        snmp_disable_log ();
    init_snmp (app);
}

#endif
