/*  test_config: every error path of the configuration, each checked for the
    FILE:LINE, the key and the reason a user needs to fix it; the defaults;
    secrets from files; the example file. */
#include <string.h>

#include "odc_config.h"
#include "odc_test.h"

static char *s_dir;

static char *
s_write (const char *name, const char *text)
{
    char *path = NULL;
    if (asprintf (&path, "%s/%s", s_dir, name) == -1)
        exit (2);
    FILE *out = fopen (path, "w");
    fputs (text, out);
    fclose (out);
    return path;
}

/*  Loads text; expects failure with an error line that starts with
    FILE:LINE: and holds every one of the given fragments. */
static void
s_expect_error (const char *text, int line, const char *frag1, const char *frag2)
{
    char *path = s_write ("bad.yaml", text);
    char *errors = NULL;
    odc_config_t *config = odc_config_load (path, &errors);
    CHECKF (config == NULL, "accepted:\n%s", text);
    char prefix[512];
    snprintf (prefix, sizeof prefix, "%s:%d:", path, line);
    bool found = false;
    for (char *l = errors ? strtok (errors, "\n") : NULL; l && !found; l = strtok (NULL, "\n"))
        found = strncmp (l, prefix, strlen (prefix)) == 0 && (!frag1 || strstr (l, frag1)) &&
                (!frag2 || strstr (l, frag2));
    CHECKF (found, "want a line '%s ... %s ... %s' for:\n%s", prefix, frag1 ? frag1 : "",
            frag2 ? frag2 : "", text);
    odc_config_destroy (&config);
    free (errors);
    free (path);
}

static void
test_unknown_keys (void)
{
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  timout_ms: 100\n", 4, "key 'snmp.timout_ms'",
                    "did you mean 'timeout_ms'");
    s_expect_error ("collector:\n  id: c1\nfrobnicate: 1\n", 3, "key 'frobnicate'",
                    "unknown key (known here: collector");
    s_expect_error ("collector:\n  id: c1\ndevices:\n  - address: 10.0.0.1\n    colour: red\n", 5,
                    "key 'devices[0].colour'", "unknown key");
    s_expect_error ("collector:\n  id: c1\n  id: c2\n", 3, "key 'collector.id'", "given twice");
    s_expect_error ("collector:\n  id: c1\n? [a, b]\n: x\n", 3, "plain name", NULL);
}

static void
test_wrong_types_and_ranges (void)
{
    s_expect_error ("collector: c1\n", 1, "key 'collector'", "expected a mapping");
    s_expect_error ("collector:\n  id: [a]\n", 2, "key 'collector.id'", "expected a value");
    s_expect_error ("collector:\n  id: c1\ndevices:\n  address: x\n", 4, "key 'devices'",
                    "expected a list");
    s_expect_error ("collector:\n  id: c1\ndevices:\n  - 10.0.0.1\n", 4, "key 'devices[0]'",
                    "expected a mapping");
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  retries: many\n", 4, "key 'snmp.retries'",
                    "not a whole number");
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  retries: 11\n", 4, "key 'snmp.retries'",
                    "out of range [0, 10]");
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  timeout_ms: 99999999999999999999\n", 4,
                    "snmp.timeout_ms", "not a whole number");
    s_expect_error ("collector:\n  id: c1\nstore:\n  sync: maybe\n", 4, "key 'store.sync'",
                    "not true or false");
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  raw: all\n", 4, "key 'snmp.raw'",
                    "not true or false");
    s_expect_error ("collector:\n  id: c1\nlog:\n  level: loud\n", 4, "key 'log.level'",
                    "not one of: debug, info");
    s_expect_error ("collector:\n  id: c1\nloops:\n  meter:\n    in_hours: 0\n", 5,
                    "key 'loops.meter.in_hours'", "out of range");
    s_expect_error ("collector:\n  id: c1\nworking_hours:\n  start: 8h\n", 4,
                    "key 'working_hours.start'", "HH:MM");
    s_expect_error ("collector:\n  id: c1\nworking_hours:\n  days: [mon, funday]\n", 4,
                    "key 'working_hours.days'", "day 2");
    s_expect_error ("collector:\n  id: c1\nportal:\n  ports: [5222, 70000]\n", 4,
                    "key 'portal.ports[1]'", "[1, 65535]");
    s_expect_error ("collector:\n  id: ''\n", 2, "key 'collector.id'", "must not be empty");
}

static void
test_required_and_structure (void)
{
    s_expect_error ("", 1, "empty", NULL);
    s_expect_error ("- a\n- b\n", 1, "top level must be a mapping", NULL);
    s_expect_error ("store:\n  sync: true\n", 1, "key 'collector'", "required key missing");
    s_expect_error ("collector: {}\n", 1, "key 'collector.id'", "required key missing");
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  credentials:\n    - version: 2c\n      "
                    "community: x\n",
                    5, "key 'snmp.credentials[0].name'", "required key missing");
    s_expect_error ("collector:\n  id: c1\n  bad: [unclosed\n", 4, "YAML syntax error", NULL);
    s_expect_error ("collector:\n\tid: c1\n", 2, "YAML syntax error", NULL);

    char *errors = NULL;
    CHECK (odc_config_load ("/nonexistent/opendca.yaml", &errors) == NULL);
    CHECK (errors && strstr (errors, "/nonexistent/opendca.yaml:0: cannot open: No such file"));
    free (errors);
}

static void
test_credentials_and_references (void)
{
    const char *head = "collector:\n  id: c1\nsnmp:\n  credentials:\n";
    char text[1024];
    snprintf (text, sizeof text, "%s    - name: a\n      version: 4\n", head);
    s_expect_error (text, 6, "key 'snmp.credentials[0].version'", "not one of: 1, 2c, 3");
    snprintf (text, sizeof text, "%s    - name: a\n      version: 2c\n", head);
    s_expect_error (text, 5, "snmp.credentials[0]", "needs 'community'");
    snprintf (text, sizeof text, "%s    - name: a\n      version: 3\n      level: authPriv\n",
              head);
    s_expect_error (text, 5, "snmp.credentials[0]", "SNMP v3 needs 'user'");
    snprintf (text, sizeof text,
              "%s    - name: a\n      version: 3\n      user: u\n      level: authPriv\n"
              "      auth_passphrase: short\n      priv_passphrase: longenough\n",
              head);
    s_expect_error (text, 5, "snmp.credentials[0]", "auth passphrase of 8");
    snprintf (text, sizeof text,
              "%s    - name: a\n      version: 3\n      user: u\n      auth_protocol: SHA-1024\n",
              head);
    s_expect_error (text, 8, "auth_protocol", "MD5, SHA, SHA-224");
    snprintf (text, sizeof text,
              "%s    - name: a\n      version: 2c\n      community: x\n    - name: a\n"
              "      version: 1\n      community: y\n",
              head);
    s_expect_error (text, 8, "snmp.credentials[1]", "'a' used twice");
    snprintf (text, sizeof text,
              "%s    - name: a\n      version: 2c\n      community: x\ndevices:\n"
              "  - address: 10.0.0.1\n  - address: 10.0.0.2\n    credential: nope\n",
              head);
    s_expect_error (text, 10, "key 'devices[1]'", "no credential named 'nope'");
    s_expect_error ("collector:\n  id: c1\ndevices:\n  - address: 10.0.0.300\n", 4,
                    "key 'devices[0]'", "not an IP address");
    s_expect_error ("collector:\n  id: c1\nranges:\n  - range: 10.0.0.0/33\n", 4, "key 'ranges[0]'",
                    "not a range");
    s_expect_error ("collector:\n  id: c1\nranges:\n  - range: 10.0.0.9-10.0.0.1\n", 4,
                    "key 'ranges[0]'", "not a range");
    s_expect_error ("collector:\n  id: c1\nranges:\n  - range: 10.0.0.0/24\n    credentials: [x]\n",
                    4, "key 'ranges[0]'", "no credential named 'x'");
    s_expect_error ("collector:\n  id: c1\nsnmp:\n  window_min: 100\n  window_max: 10\n", 1,
                    "snmp.window_min", "larger than");
    s_expect_error ("collector:\n  id: c1\nworking_hours:\n  start: '18:00'\n  end: '08:00'\n", 1,
                    "working_hours", "before end");
}

static void
test_secrets_from_files (void)
{
    char *secret = s_write ("community.secret", "s3cr3t-community\n");
    char *pass = s_write ("xmpp.secret", "xmpp-pass\r\n");
    char text[1024];
    snprintf (text, sizeof text,
              "collector:\n  id: c1\nportal:\n  password_file: xmpp.secret\nsnmp:\n"
              "  credentials:\n    - name: a\n      version: 2c\n      community_file: %s\n",
              secret);
    char *path = s_write ("good.yaml", text);
    char *errors = NULL;
    odc_config_t *config = odc_config_load (path, &errors);
    CHECKF (config != NULL, "%s", errors ? errors : "");
    if (config) {
        CHECK (strcmp (config->credentials[0].community, "s3cr3t-community") == 0);
        /*  Relative to the configuration's folder. */
        CHECK (strcmp (config->portal_password, "xmpp-pass") == 0);
    }
    odc_config_destroy (&config);
    free (errors);
    free (path);

    s_expect_error ("collector:\n  id: c1\nportal:\n  password_file: missing.secret\n", 4,
                    "key 'portal.password_file'", "missing.secret: No such file");
    s_expect_error ("collector:\n  id: c1\nportal:\n  password: a\n  password_file: xmpp.secret\n",
                    4, "portal.password_file", "give 'password' or 'password_file', not both");
    char *empty = s_write ("empty.secret", "\n");
    s_expect_error ("collector:\n  id: c1\nportal:\n  password_file: empty.secret\n", 4,
                    "portal.password_file", "empty");
    free (empty);
    free (secret);
    free (pass);
}

static void
test_defaults_and_minimal (void)
{
    char *path = s_write ("min.yaml", "collector:\n  id: c1\n");
    odc_config_t *config = odc_config_load (path, NULL);
    CHECK (config != NULL);
    if (config) {
        CHECK (strcmp (config->collector_id, "c1") == 0);
        CHECK (config->loops[ODC_LOOP_ALERT].in_hours == 3);
        CHECK (config->loops[ODC_LOOP_ALERT].out_of_hours == 15);
        CHECK (config->loops[ODC_LOOP_IDENTITY].in_hours == 10);
        CHECK (config->loops[ODC_LOOP_METER].out_of_hours == 240);
        CHECK (config->loops[ODC_LOOP_SUPPLY].in_hours == 60);
        CHECK (config->loops[ODC_LOOP_TRAY].out_of_hours == 480);
        CHECK (config->work_start == 480 && config->work_end == 1080);
        CHECK (config->work_days == 0x1f);
        CHECK (odc_config_in_hours (config, 0, 8 * 60));
        CHECK (!odc_config_in_hours (config, 0, 18 * 60));
        CHECK (!odc_config_in_hours (config, 5, 12 * 60)); /* Saturday */
        CHECK (config->portal_port_count == 2 && config->portal_ports[0] == 5222 &&
               config->portal_ports[1] == 443);
        CHECK (config->snmp_timeout_ms == 1500 && config->snmp_retries == 1);
        CHECK (!config->snmp_raw);
        CHECK (config->store_sync);
        CHECK (config->credential_count == 1 &&
               strcmp (odc_config_credential (config, "public")->community, "public") == 0);
        CHECK (strstr (config->store_path, s_dir) == config->store_path);
    }
    odc_config_destroy (&config);
    free (path);
}

/*  Shared configurations: freed when the last holder lets go. */
static void
test_references (void)
{
    char *path = s_write ("ref.yaml", "collector:\n  id: c1\n");
    odc_config_t *config = odc_config_load (path, NULL);
    CHECK (config && config->refs == 1);
    odc_config_t *second = (odc_config_t *)odc_config_ref (config);
    CHECK (second == config && config->refs == 2);
    odc_config_destroy (&second);
    CHECK (second == NULL && config->refs == 1);
    CHECK (strcmp (config->collector_id, "c1") == 0); /* still there */
    odc_config_destroy (&config);
    CHECK (config == NULL);
    free (path);
}

static void
test_example_file (void)
{
    const char *source = getenv ("ODC_SOURCE_DIR");
    char *path = NULL;
    if (asprintf (&path, "%s/opendca.example.yaml", source ? source : "..") == -1)
        return;
    char *errors = NULL;
    odc_config_t *config = odc_config_load (path, &errors);
    CHECKF (config != NULL, "%s", errors ? errors : "");
    if (config) {
        CHECK (config->device_count > 0 && config->credential_count > 1);
        for (size_t i = 0; i < config->device_count; i++)
            CHECK (odc_config_credential (config, config->devices[i].credential) != NULL);
    }
    odc_config_destroy (&config);
    free (errors);
    free (path);
}

int
main (void)
{
    s_dir = s_tempdir ("config");
    RUN (test_unknown_keys);
    RUN (test_wrong_types_and_ranges);
    RUN (test_required_and_structure);
    RUN (test_credentials_and_references);
    RUN (test_secrets_from_files);
    RUN (test_defaults_and_minimal);
    RUN (test_references);
    RUN (test_example_file);
    s_rmtree (s_dir);
    free (s_dir);
    TEST_END ();
}
