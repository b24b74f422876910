/*  test_config: every error path of the configuration, each checked for the
    FILE:LINE, the key and the reason a user needs to fix it; the defaults;
    secrets from files (and their modes); the bounds on the file itself
    (size, nesting, anchors and aliases) and on discovery ranges; the
    example file. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "odc_log.h"

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

/*  A secret file, private as the collector wants it (0600). */
static char *
s_write_secret (const char *name, const char *text)
{
    char *path = s_write (name, text);
    chmod (path, 0600);
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
    char *secret = s_write_secret ("community.secret", "s3cr3t-community\n");
    char *pass = s_write_secret ("xmpp.secret", "xmpp-pass\r\n");
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
    char *empty = s_write_secret ("empty.secret", "\n");
    s_expect_error ("collector:\n  id: c1\nportal:\n  password_file: empty.secret\n", 4,
                    "portal.password_file", "empty");
    free (empty);

    /*  Readable by others: refused (like ssh), with the file, its mode and
        the fix; 0400 and 0600 are taken. */
    static const mode_t open_modes[] = {0644, 0640, 0604, 0660, 0666};
    for (size_t i = 0; i < sizeof open_modes / sizeof *open_modes; i++) {
        chmod (pass, open_modes[i]);
        char mode[32];
        snprintf (mode, sizeof mode, "mode 0%o", (unsigned)open_modes[i]);
        s_expect_error ("collector:\n  id: c1\nportal:\n  password_file: xmpp.secret\n", 4,
                        "key 'portal.password_file'", mode);
        s_expect_error ("collector:\n  id: c1\nportal:\n  password_file: xmpp.secret\n", 4,
                        "xmpp.secret", "chmod 600");
    }
    static const mode_t private_modes[] = {0600, 0400};
    for (size_t i = 0; i < sizeof private_modes / sizeof *private_modes; i++) {
        chmod (pass, private_modes[i]);
        char *ok = s_write ("private.yaml", "collector:\n  id: c1\nportal:\n"
                                            "  password_file: xmpp.secret\n");
        char *errors = NULL;
        odc_config_t *c = odc_config_load (ok, &errors);
        CHECKF (c != NULL, "mode 0%o: %s", (unsigned)private_modes[i], errors ? errors : "");
        odc_config_destroy (&c);
        free (errors);
        free (ok);
    }
    chmod (secret, 0644);
    snprintf (text, sizeof text,
              "collector:\n  id: c1\nsnmp:\n  credentials:\n    - name: a\n      version: 2c\n"
              "      community_file: %s\n",
              secret);
    s_expect_error (text, 7, "snmp.credentials[0].community_file", "mode 0644");
    /*  Not a file: named as such (a FIFO would block the reader). */
    s_expect_error ("collector:\n  id: c1\nportal:\n  password_file: /dev/null\n", 4,
                    "portal.password_file", "not a regular file");
    free (secret);
    free (pass);
}

/*  Loads text from a file; 0 when it loads, else 1 with the errors in
    *errors (caller frees); *took the seconds it took. */
static int
s_load_timed (const char *name, const char *text, size_t len, char **errors, double *took)
{
    char *path = NULL;
    if (asprintf (&path, "%s/%s", s_dir, name) == -1)
        exit (2);
    FILE *out = fopen (path, "w");
    fwrite (text, 1, len, out);
    fclose (out);
    double t0 = odc_clock_s ();
    *errors = NULL;
    odc_config_t *config = odc_config_load (path, errors);
    *took = odc_clock_s () - t0;
    int rc = config ? 0 : 1;
    odc_config_destroy (&config);
    free (path);
    return rc;
}

/*  The bounds on the file: size, nesting, anchors and aliases. Each is
    refused quickly, with FILE:LINE and the reason; a file just inside
    each bound is not refused for it. */
static void
test_file_bounds (void)
{
    const char *head = "collector:\n  id: c1\n";
    double took;
    char *errors;

    /*  Size: exactly the bound (padded with a comment) loads; a byte more
        is refused. */
    size_t max = ODC_CONFIG_FILE_MAX;
    char *big = malloc (max + 2);
    size_t h = strlen (head);
    memcpy (big, head, h);
    big[h] = '#';
    memset (big + h + 1, 'x', max - h - 2);
    big[max - 1] = '\n';
    CHECKF (s_load_timed ("size.yaml", big, max, &errors, &took) == 0, "%s", errors);
    free (errors);
    big[max - 1] = 'x';
    big[max] = '\n';
    CHECK (s_load_timed ("size.yaml", big, max + 1, &errors, &took) == 1);
    CHECKF (errors && strstr (errors, "size.yaml:1: ") && strstr (errors, "larger than"), "%s",
            errors ? errors : "");
    free (errors);
    free (big);

    /*  Nesting: the root mapping is level 1, each bracket one more. */
    size_t deep_n = 1000000;
    char *deep = malloc (h + 4 + 2 * deep_n + 2);
    for (int levels = ODC_CONFIG_DEPTH_MAX; levels <= ODC_CONFIG_DEPTH_MAX + 1; levels++) {
        size_t n = (size_t)levels - 1, k = 0;
        memcpy (deep, head, h);
        k = h;
        memcpy (deep + k, "x: ", 3);
        k += 3;
        memset (deep + k, '[', n);
        memset (deep + k + n, ']', n);
        k += 2 * n;
        deep[k++] = '\n';
        s_load_timed ("deep.yaml", deep, k, &errors, &took);
        bool refused = errors && strstr (errors, "nested deeper than");
        if (levels <= ODC_CONFIG_DEPTH_MAX)
            /*  Refused, but for the unknown key, not for its depth. */
            CHECKF (!refused && errors && strstr (errors, "deep.yaml:3: key 'x': unknown key"),
                    "%d levels: %s", levels, errors ? errors : "");
        else
            CHECKF (refused && strstr (errors, "deep.yaml:3: "), "%d levels: %s", levels,
                    errors ? errors : "");
        free (errors);
    }
    /*  1,000,000 levels: refused at once (was minutes). */
    memcpy (deep + h, "x: ", 3);
    memset (deep + h + 3, '[', deep_n);
    memset (deep + h + 3 + deep_n, ']', deep_n);
    deep[h + 3 + 2 * deep_n] = '\n';
    CHECK (s_load_timed ("deep.yaml", deep, h + 4 + 2 * deep_n, &errors, &took) == 1);
    CHECKF (errors && strstr (errors, "nested deeper than") && took < 2.0, "%.1f s: %s", took,
            errors ? errors : "");
    free (errors);
    /*  The same in block style ("- - - ... a"). */
    memcpy (deep + h, "x:\n", 3);
    for (size_t i = 0; i < deep_n; i++)
        memcpy (deep + h + 3 + 2 * i, "- ", 2);
    memcpy (deep + h + 3 + 2 * deep_n, "a\n", 2);
    CHECK (s_load_timed ("deep.yaml", deep, h + 5 + 2 * deep_n, &errors, &took) == 1);
    CHECKF (errors && strstr (errors, "nested deeper than") && took < 2.0, "%.1f s: %s", took,
            errors ? errors : "");
    free (errors);
    free (deep);

    /*  Anchors and aliases are refused (the loader looks each one up in a
        list: 100,000 anchors took 48 s; an alias bomb walks the same nodes
        again and again); a file without them loads. */
    s_expect_error ("collector:\n  id: &name c1\n", 2, "anchor", "write the value out");
    s_expect_error ("collector:\n  id: c1\nlog:\n  level: *name\n", 4, "alias",
                    "write the value out");
    FILE *bomb_out;
    char *bomb = NULL;
    size_t bomb_size = 0;
    bomb_out = open_memstream (&bomb, &bomb_size);
    fprintf (bomb_out, "%sportal:\n  trusted: [", head);
    for (int i = 0; i < 100000; i++)
        fprintf (bomb_out, "%s&a%d x", i ? ", " : "", i);
    fprintf (bomb_out, "]\n");
    fprintf (bomb_out, "l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
    for (int i = 1; i < 10; i++)
        fprintf (bomb_out, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i,
                 i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    fclose (bomb_out);
    CHECK (s_load_timed ("bomb.yaml", bomb, bomb_size, &errors, &took) == 1);
    CHECKF (errors && strstr (errors, "bomb.yaml:4: ") && strstr (errors, "anchor") && took < 2.0,
            "%.1f s: %s", took, errors ? errors : "");
    free (errors);
    free (bomb);
}

/*  A sweep is bounded (discovery.max_addresses, default a /16): a range
    beyond it, or ranges beyond it together, are errors naming the count;
    the key lifts the bound. */
static void
test_range_bounds (void)
{
    s_expect_error ("collector:\n  id: c1\nranges:\n  - range: 127.0.0.0/8\n", 4, "key 'ranges[0]'",
                    "16777214 addresses, more than discovery.max_addresses");
    s_expect_error ("collector:\n  id: c1\nranges:\n  - range: 0.0.0.0-255.255.255.255\n", 4,
                    "key 'ranges[0]'", "4294967296 addresses");
    s_expect_error ("collector:\n  id: c1\nranges:\n  - range: 10.0.0.0/16\n"
                    "  - range: 10.1.0.0-10.1.0.9\n",
                    5, "key 'ranges[1]'", "65544 addresses together");
    s_expect_error ("collector:\n  id: c1\ndiscovery:\n  max_addresses: 0\n", 4,
                    "discovery.max_addresses", "out of range");
    const char *good[] = {
        "collector:\n  id: c1\nranges:\n  - range: 10.0.0.0/16\n",
        "collector:\n  id: c1\nranges:\n  - range: 10.0.0.0-10.0.255.255\n",
        "collector:\n  id: c1\nranges:\n  - range: 10.0.0.0/8\ndiscovery:\n"
        "  max_addresses: 16777216\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char *path = s_write ("ranges.yaml", good[i]);
        char *errors = NULL;
        odc_config_t *config = odc_config_load (path, &errors);
        CHECKF (config != NULL, "%s", errors ? errors : "");
        odc_config_destroy (&config);
        free (errors);
        free (path);
    }
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

/*  The collector's clock: from clock.epoch at clock.start, speed times
    fast; epoch alone counts from the epoch; a time before 1970 refused. */
static void
test_clock (void)
{
    char *path = s_write ("clock.yaml", "collector:\n  id: c1\nclock:\n  speed: 480\n"
                                        "  epoch: 1796300000\n  start: 1796343600\n");
    odc_config_t *config = odc_config_load (path, NULL);
    CHECK (config != NULL);
    odc_clock_t c = odc_config_clock (config);
    CHECK (c.epoch == 1796300000.0 && c.start == 1796343600.0 && c.speed == 480.0);
    CHECK (odc_collector_at (&c, 1796300010.0) == 1796343600.0 + 10 * 480.0);
    odc_config_destroy (&config);
    free (path);
    path = s_write ("clock.yaml", "collector:\n  id: c1\nclock:\n  speed: 2\n  epoch: 1000\n");
    config = odc_config_load (path, NULL);
    c = odc_config_clock (config);
    CHECK (c.start == 1000.0 && odc_collector_at (&c, 1100.0) == 1200.0);
    odc_config_destroy (&config);
    free (path);
    c = odc_config_clock (NULL); /* no configuration: the wall clock */
    CHECK (c.speed == 1.0 && c.start == c.epoch && fabs (odc_collector_s (&c) - odc_wall_s ()) < 5);
    s_expect_error ("collector:\n  id: c1\nclock:\n  start: -5\n", 4, "key 'clock.start'", NULL);
}

/*  triage's routing (issue 17): rules that name what does not exist, or
    can never match, and destinations that cannot work, each named. */
/*  supplies: the defaults, the requests per kind and group, and each
    hostile value refused with its line. */
static void
test_supplies (void)
{
    char *path = s_write ("supplies.yaml", "collector:\n  id: c1\nsupplies:\n  request_days: 9\n"
                                           "  requests:\n    - kinds: [ink, toner]\n"
                                           "      addresses: [10.1.0.0/16]\n      days: 14\n"
                                           "      percent: 8\n    - kinds: [drum]\n"
                                           "      days: 3\n      percent: 1\n");
    char *errors = NULL;
    odc_config_t *c = odc_config_load (path, &errors);
    CHECKF (c, "%s", errors ? errors : "");
    if (c) {
        CHECK (c->supplies_request_days == 9 && c->supplies_request_percent == 5);
        CHECK (c->supply_request_count == 2 && c->supply_requests[0].kind_count == 2 &&
               c->supply_requests[0].days == 14 && c->supply_requests[1].percent == 1);
    }
    odc_config_destroy (&c);
    free (errors);
    free (path);
    const char *head = "collector:\n  id: c1\nsupplies:\n";
    char text[1024];
#define SUP(body, line, a, b)                                                                      \
    do {                                                                                           \
        snprintf (text, sizeof text, "%s%s", head, body);                                          \
        s_expect_error (text, line, a, b);                                                         \
    } while (0)
    SUP ("  request_days: 366\n", 4, "supplies.request_days", "out of range");
    SUP ("  request_percent: -1\n", 4, "supplies.request_percent", "out of range");
    SUP ("  requests:\n    - kinds: [tonner]\n      days: 3\n      percent: 2\n", 5,
         "supplies.requests[0].kinds[0]", "'tonner' is not one of");
    SUP ("  requests:\n    - addresses: [10.0.0.300/8]\n      days: 3\n      percent: 2\n", 5,
         "supplies.requests[0]", "is not a range");
    SUP ("  requests:\n    - kinds: [ink]\n      percent: 2\n", 5, "supplies.requests[0]", "days");
    SUP ("  requests:\n    - kinds: [ink]\n      days: 3\n      percent: 101\n", 7,
         "supplies.requests[0].percent", "out of range");
#undef SUP
}

static void
test_routes (void)
{
    const char *head = "collector:\n  id: c1\ntriage:\n";
    char text[2048];
#define ROUTE(body, line, a, b)                                                                    \
    do {                                                                                           \
        snprintf (text, sizeof text, "%s%s", head, body);                                          \
        s_expect_error (text, line, a, b);                                                         \
    } while (0)
    ROUTE ("  rules:\n    - name: jams\n      to: [helpdesk]\n", 5, "triage.rules[0] (jams)",
           "no destination named 'helpdesk'");
    ROUTE ("  rules:\n    - categories: [jams]\n      to: [portal]\n", 5, "categories[0]",
           "'jams' is not one of");
    ROUTE ("  rules:\n    - severities: [fatal]\n      to: [portal]\n", 5, "severities[0]",
           "'fatal' is not one of");
    ROUTE ("  rules:\n    - addresses: [10.0.0.0/33]\n      to: [portal]\n", 5, "triage.rules[0]",
           "is not a range");
    ROUTE ("  rules:\n    - categories: [jam]\n", 5, "triage.rules[0].to", "required key missing");
    ROUTE ("  destinations:\n    - name: desk\n      type: email\n      to: [desk@example.com]\n",
           5, "triage.destinations[0]", "needs triage.email");
    ROUTE ("  email: {server: mail.example.com, from: me@example.com}\n  destinations:\n"
           "    - name: desk\n      type: email\n      to: [\"a@b.c>\\r\\nRCPT TO:<x@y.z\"]\n",
           6, "triage.destinations[0]", "is not an e-mail address");
    ROUTE ("  email: {server: mail.example.com, from: me@example.com}\n  destinations:\n"
           "    - name: desk\n      type: email\n",
           6, "triage.destinations[0]", "needs 'to'");
    ROUTE ("  destinations:\n    - name: t\n      type: exec\n      command: /nonexistent/x\n", 5,
           "triage.destinations[0]", "cannot be run");
    ROUTE ("  destinations:\n    - name: portal\n      type: exec\n      command: /bin/true\n", 5,
           "triage.destinations[0]", "every collector has");
    ROUTE ("  destinations:\n    - name: a\n      type: exec\n      command: /bin/true\n"
           "    - name: a\n      type: exec\n      command: /bin/true\n",
           8, "triage.destinations[1]", "used twice");
    ROUTE ("  destinations:\n    - name: a\n      type: carrier-pigeon\n", 6, "type", "not one of");
    snprintf (text, sizeof text,
              "collector:\n  id: c1\nworking_hours: {days: []}\ntriage:\n  rules:\n"
              "    - hours: working\n      to: [portal]\n");
    s_expect_error (text, 6, "triage.rules[0]", "can never match");
    ROUTE ("  email: {server: mail.example.com, from: \"not an address\"}\n", 1,
           "triage.email.from", "not an e-mail address");
#undef ROUTE
    /*  A good one loads, with its defaults. */
    char *path = s_write ("routes.yaml",
                          "collector:\n  id: c1\ntriage:\n  email:\n    server: 127.0.0.1\n"
                          "    from: opendca@example.com\n  destinations:\n    - name: desk\n"
                          "      type: email\n      to: [a@example.com, b@example.com]\n"
                          "      every_minutes: 60\n  rules:\n    - to: [portal]\n"
                          "    - categories: [jam]\n      addresses: [10.0.0.0/24, 10.1.0.5]\n"
                          "      locations: [\"Floor 2*\"]\n      hours: working\n"
                          "      to: [desk, record]\n");
    char *errors = NULL;
    odc_config_t *c = odc_config_load (path, &errors);
    CHECKF (c, "%s", errors ? errors : "-");
    if (c) {
        CHECK (c->destination_count == 1 && c->destinations[0].to_count == 2);
        CHECK (c->destinations[0].every_minutes == 60 && c->destinations[0].type == ODC_DEST_EMAIL);
        CHECK (c->rule_count == 2 && c->rules[1].hours == 1 && c->rules[1].address_count == 2);
        CHECK (c->email_port == 587 && c->email_security == 0 && c->email_timeout_seconds == 30);
    }
    CHECK (odc_config_range_holds ("10.0.0.0/24", "10.0.0.77"));
    CHECK (!odc_config_range_holds ("10.0.0.0/24", "10.0.1.77"));
    CHECK (odc_config_range_holds ("10.0.0.5-10.0.0.9", "10.0.0.9"));
    CHECK (!odc_config_range_holds ("10.0.0.5-10.0.0.9", "10.0.0.10"));
    CHECK (odc_config_range_holds ("10.1.0.5", "10.1.0.5"));
    CHECK (!odc_config_range_holds ("10.1.0.5", "10.1.0.50"));
    CHECK (!odc_config_range_holds ("garbage/x", "10.1.0.5"));
    odc_config_destroy (&c);
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
    RUN (test_file_bounds);
    RUN (test_range_bounds);
    RUN (test_defaults_and_minimal);
    RUN (test_references);
    RUN (test_example_file);
    RUN (test_routes);
    RUN (test_supplies);
    RUN (test_clock);
    s_rmtree (s_dir);
    free (s_dir);
    TEST_END ();
}
