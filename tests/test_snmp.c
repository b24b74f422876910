/*  test_snmp: the SNMP engine against the fleet simulator.

    Scalars and columns in one walk, missing instances, windows of jobs,
    timeouts with retries, SNMPv1 (GETNEXT), GETBULK replies cut to a small
    size limit, SNMPv3 authPriv (and a wrong key), SNMPv3 first contact with
    silent addresses (no waiting), and more than 1024
    sessions open at once. */
#include <fcntl.h>
#include <string.h>

#include "odc_snmp.h"
#include "odc_test.h"
#include "odc_testsim.h"

static const char *s_sim;
static int s_port;

static odc_oid_t
s_oid (const char *text)
{
    odc_oid_t o;
    if (odc_oid_parse (text, &o) != 0)
        abort ();
    return o;
}

typedef struct {
    int done;
} s_count_t;

static void
s_done (odc_snmp_job_t *job, void *arg)
{
    (void)job;
    ((s_count_t *)arg)->done++;
}

static void
s_run_all (odc_snmp_t *engine, s_count_t *count, int want)
{
    for (int guard = 0; count->done < want && guard < 10000; guard++)
        odc_snmp_run (engine, 100);
}

static size_t
s_column_count (const odc_snmp_job_t *job, int column)
{
    size_t n = 0;
    for (size_t i = 0; i < job->n_values; i++)
        n += job->values[i].column == column;
    return n;
}

static odc_credential_t s_v2c = {.name = "v2c", .version = 2, .community = "public"};
static odc_credential_t s_v1 = {.name = "v1", .version = 1, .community = "public"};
/*  The simulator's user in test_v3 (--user opendca:authPriv:SHA-256:...:AES:...). */
static odc_credential_t s_v3 = {.name = "v3",
                                .version = 3,
                                .user = "opendca",
                                .level = 2,
                                .auth_protocol = 3,
                                .auth_passphrase = "authpass123",
                                .priv_protocol = 1,
                                .priv_passphrase = "privpass123"};

static void
s_setup_job (odc_snmp_job_t *job, const char *address, const odc_credential_t *credential,
             const odc_oid_t *scalars, size_t n_scalars, const odc_oid_t *columns, size_t n_columns,
             s_count_t *count)
{
    memset (job, 0, sizeof *job);
    snprintf (job->address, sizeof job->address, "%s", address);
    job->port = s_port;
    job->credential = credential;
    job->scalars = scalars;
    job->n_scalars = n_scalars;
    job->columns = columns;
    job->n_columns = n_columns;
    job->done = s_done;
    job->arg = count;
}

/*  One job per device 127.40.0.1 onwards: four scalars, two columns. */
static void
s_submit_fleet (odc_snmp_t *engine, odc_snmp_job_t *jobs, int n, const odc_oid_t *scalars,
                const odc_oid_t *columns, s_count_t *count)
{
    for (int i = 0; i < n; i++) {
        char address[32];
        snprintf (address, sizeof address, "127.40.%d.%d", (i + 1) / 256, (i + 1) % 256);
        s_setup_job (&jobs[i], address, &s_v2c, scalars, 4, columns, 2, count);
        CHECK (odc_snmp_submit (engine, &jobs[i]) == 0);
    }
}

/*  What the fleet tests ask: four scalars (the last one no device has) and
    two columns of the supply table. */
static void
s_fleet_oids (odc_oid_t scalars[4], odc_oid_t columns[2])
{
    scalars[0] = s_oid ("1.3.6.1.2.1.1.5.0");
    scalars[1] = s_oid ("1.3.6.1.2.1.43.5.1.1.17.1");
    scalars[2] = s_oid ("1.3.6.1.2.1.25.3.2.1.5.1");
    scalars[3] = s_oid ("1.3.6.1.2.1.1.99.0");
    columns[0] = s_oid ("1.3.6.1.2.1.43.11.1.1.6.1");
    columns[1] = s_oid ("1.3.6.1.2.1.43.11.1.1.9.1");
}

static void
test_fleet_walk (void)
{
    enum { N = 300 };
    odc_oid_t scalars[4], columns[2];
    s_fleet_oids (scalars, columns);
    odc_snmp_options_t options = {
        .window = 64, .timeout_ms = 1000, .retries = 1, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    static odc_snmp_job_t jobs[N];
    s_count_t count = {0};
    s_submit_fleet (engine, jobs, N, scalars, columns, &count);
    CHECK (odc_snmp_pending (engine) == N);
    s_run_all (engine, &count, N);
    CHECK (count.done == N);
    int ok = 0, one_request = 0, shape = 0, distinct = 0;
    for (int i = 0; i < N; i++) {
        odc_snmp_job_t *j = &jobs[i];
        ok += j->status == ODC_SNMP_OK;
        one_request += j->requests == 1;
        size_t rows = s_column_count (j, 0);
        shape += j->n_values >= 4 && j->values[0].type == ASN_OCTET_STR &&
                 j->values[1].type == ASN_OCTET_STR && j->values[2].type == ASN_INTEGER &&
                 j->values[3].type == SNMP_NOSUCHINSTANCE && rows >= 1 &&
                 rows == s_column_count (j, 1) && j->bytes_out > 0 && j->bytes_in > j->bytes_out;
        if (i > 0 && j->values[1].len && jobs[i - 1].values[1].len &&
            (j->values[1].len != jobs[i - 1].values[1].len ||
             memcmp (j->values[1].value, jobs[i - 1].values[1].value, j->values[1].len)))
            distinct++;
    }
    CHECKF (ok == N, "%d of %d jobs ok", ok, N);
    CHECKF (one_request == N, "%d of %d jobs took one request", one_request, N);
    CHECKF (shape == N, "%d of %d jobs read as expected", shape, N);
    CHECK (distinct == N - 1);
    printf ("     %d devices: %u requests, %u bytes out, %u bytes in for the first\n", N,
            jobs[0].requests, jobs[0].bytes_out, jobs[0].bytes_in);
    /*  Sessions were reused from job to job (the window is 64)... */
    uint64_t opened = odc_snmp_sessions_opened (engine);
    CHECKF (opened <= 64 + 8, "%llu sessions opened for %d jobs", (unsigned long long)opened, N);
    odc_snmp_destroy (&engine);
    /*  ...and each job still read its own device: the same serials as
        with one fresh session per job (a window as large as the fleet). */
    options.window = N;
    engine = odc_snmp_new (&options);
    static odc_snmp_job_t fresh[N];
    s_count_t again = {0};
    s_submit_fleet (engine, fresh, N, scalars, columns, &again);
    s_run_all (engine, &again, N);
    CHECK (odc_snmp_sessions_opened (engine) == N);
    int same = 0;
    for (int i = 0; i < N; i++)
        same += fresh[i].n_values > 1 && jobs[i].n_values > 1 &&
                fresh[i].values[1].len == jobs[i].values[1].len &&
                !memcmp (fresh[i].values[1].value, jobs[i].values[1].value, jobs[i].values[1].len);
    CHECKF (same == N, "%d of %d devices read the same through reused sessions", same, N);
    for (int i = 0; i < N; i++) {
        odc_snmp_job_clear (&jobs[i]);
        odc_snmp_job_clear (&fresh[i]);
    }
    odc_snmp_destroy (&engine);
}

/*  A walk sized to the table: the caller that asks for one row more than
    the table had (job->rows + 1) reads the same in one request and fewer
    bytes; one row too few takes a second request, and still the same. */
static void
test_sized_walk (void)
{
    enum { N = 40 };
    odc_oid_t scalars[4], columns[2];
    s_fleet_oids (scalars, columns);
    odc_snmp_options_t options = {
        .window = 16, .timeout_ms = 1000, .retries = 1, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    static odc_snmp_job_t wide[N], sized[N], short_[N];
    s_count_t count = {0};
    s_submit_fleet (engine, wide, N, scalars, columns, &count);
    s_run_all (engine, &count, N);
    int same = 0, one = 0, smaller = 0, two = 0, same_short = 0;
    for (int pass = 0; pass < 2; pass++) {
        odc_snmp_job_t *jobs = pass ? short_ : sized;
        s_count_t c = {0};
        for (int i = 0; i < N; i++) {
            char address[32];
            snprintf (address, sizeof address, "127.40.%d.%d", (i + 1) / 256, (i + 1) % 256);
            s_setup_job (&jobs[i], address, &s_v2c, scalars, 4, columns, 2, &c);
            jobs[i].max_repetitions = (int)wide[i].rows + (pass ? 0 : 1);
            CHECK (odc_snmp_submit (engine, &jobs[i]) == 0);
        }
        s_run_all (engine, &c, N);
    }
    for (int i = 0; i < N; i++) {
        bool eq = sized[i].n_values == wide[i].n_values, eq_short = eq;
        for (size_t k = 0; eq && k < wide[i].n_values; k++)
            eq = sized[i].values[k].len == wide[i].values[k].len &&
                 !memcmp (sized[i].values[k].name, wide[i].values[k].name,
                          wide[i].values[k].name_len * sizeof (oid));
        eq_short = short_[i].n_values == wide[i].n_values;
        same += eq && sized[i].rows == wide[i].rows && wide[i].rows > 0;
        same_short += eq_short;
        one += sized[i].requests == 1;
        two += short_[i].requests == 2;
        smaller += sized[i].bytes_in < wide[i].bytes_in;
    }
    printf ("     %zu rows: %u bytes in with 16 repetitions, %u with %zu\n", wide[0].rows,
            wide[0].bytes_in, sized[0].bytes_in, wide[0].rows + 1);
    CHECKF (same == N, "%d of %d read the same with rows + 1 repetitions", same, N);
    CHECKF (one == N && smaller == N, "%d of %d in one request, %d with fewer bytes", one, N,
            smaller);
    CHECKF (two == N && same_short == N, "one row too few: %d of %d in two requests, %d the same",
            two, N, same_short);
    for (int i = 0; i < N; i++) {
        odc_snmp_job_clear (&wide[i]);
        odc_snmp_job_clear (&sized[i]);
        odc_snmp_job_clear (&short_[i]);
    }
    odc_snmp_destroy (&engine);
}

static void
test_timeout_and_v1 (void)
{
    odc_oid_t scalars[] = {s_oid ("1.3.6.1.2.1.1.5.0"), s_oid ("1.3.6.1.2.1.1.99.0")};
    odc_oid_t columns[] = {s_oid ("1.3.6.1.2.1.43.11.1.1.9.1"),
                           s_oid ("1.3.6.1.2.1.43.8.2.1.10.1")};
    odc_snmp_options_t options = {
        .window = 8, .timeout_ms = 200, .retries = 1, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    odc_snmp_job_t nobody, v1, v2;
    s_count_t count = {0};
    s_setup_job (&nobody, "127.40.255.250", &s_v2c, scalars, 1, NULL, 0, &count);
    s_setup_job (&v1, "127.40.0.3", &s_v1, scalars, 2, columns, 2, &count);
    s_setup_job (&v2, "127.40.0.3", &s_v2c, scalars, 2, columns, 2, &count);
    odc_snmp_submit (engine, &nobody);
    odc_snmp_submit (engine, &v1);
    odc_snmp_submit (engine, &v2);
    s_run_all (engine, &count, 3);
    CHECK (nobody.status == ODC_SNMP_TIMEOUT);
    CHECKF (nobody.requests == 2 && nobody.timeouts == 2, "requests %u timeouts %u",
            nobody.requests, nobody.timeouts);
    CHECK (nobody.finished_us - nobody.started_us >= 400000);
    CHECK (v1.status == ODC_SNMP_OK && v2.status == ODC_SNMP_OK);
    /*  v1 walks with GETNEXT, one row per request, and finds the same. */
    CHECK (v1.requests > v2.requests);
    CHECKF (v1.n_values == v2.n_values, "v1 %zu values, v2c %zu", v1.n_values, v2.n_values);
    bool same = v1.n_values == v2.n_values;
    for (size_t i = 0; same && i < v1.n_values; i++)
        same = v1.values[i].type == v2.values[i].type && v1.values[i].len == v2.values[i].len &&
               v1.values[i].name_len == v2.values[i].name_len;
    CHECK (same);
    CHECK (v1.values[1].type == SNMP_NOSUCHINSTANCE);
    odc_snmp_job_clear (&v1);
    odc_snmp_job_clear (&v2);
    odc_snmp_job_clear (&nobody);
    odc_snmp_destroy (&engine);
}

/*  A timed-out job hands its session back, and the answer that comes
    after all is not taken for the next job's. */
static void
test_timeout_reuses_session (void)
{
    int port = s_port + 4;
    char port_text[16];
    snprintf (port_text, sizeof port_text, "%d", port);
    pid_t slow = odc_testsim_start (s_sim, (char *[]){"--devices", "1", "--first", "127.44.0.1",
                                                      "--port", port_text, "--latency", "150-150",
                                                      "--sleepers", "0", NULL});
    CHECK (slow > 0);
    odc_oid_t scalars[] = {s_oid ("1.3.6.1.2.1.1.5.0")};
    odc_snmp_options_t options = {
        .window = 1, .timeout_ms = 100, .retries = 0, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    /*  late: answered at 150 ms, given up at 100; nobody: in flight on the
        same session when that answer comes; fast: reads its own device. */
    odc_snmp_job_t late, nobody, fast;
    s_count_t count = {0};
    s_setup_job (&late, "127.44.0.1", &s_v2c, scalars, 1, NULL, 0, &count);
    late.port = port;
    s_setup_job (&nobody, "127.40.255.251", &s_v2c, scalars, 1, NULL, 0, &count);
    s_setup_job (&fast, "127.40.0.7", &s_v2c, scalars, 1, NULL, 0, &count);
    odc_snmp_submit (engine, &late);
    odc_snmp_submit (engine, &nobody);
    odc_snmp_submit (engine, &fast);
    s_run_all (engine, &count, 3);
    CHECKF (late.status == ODC_SNMP_TIMEOUT, "late: %s", late.error);
    CHECKF (nobody.status == ODC_SNMP_TIMEOUT && nobody.n_values == 0,
            "a late answer was taken for another job's (%s, %zu values)", nobody.error,
            nobody.n_values);
    CHECKF (fast.status == ODC_SNMP_OK && fast.n_values == 1 &&
                fast.values[0].type == ASN_OCTET_STR,
            "fast: %s", fast.error);
    CHECKF (odc_snmp_sessions_opened (engine) == 1, "%llu sessions for three jobs in turn",
            (unsigned long long)odc_snmp_sessions_opened (engine));
    odc_snmp_job_clear (&late);
    odc_snmp_job_clear (&nobody);
    odc_snmp_job_clear (&fast);
    odc_snmp_destroy (&engine);
    odc_testsim_stop (slow);
}

static void
test_small_replies (void)
{
    /*  A device with a 484-byte limit: GETBULK replies come cut short, the
        walk still finds every row. */
    int port = s_port + 1;
    char port_text[16];
    snprintf (port_text, sizeof port_text, "%d", port);
    pid_t small = odc_testsim_start (
        s_sim, (char *[]){"--devices", "2", "--first", "127.41.0.1", "--port", port_text, "--model",
                          "colour-a3-mfp", "--max-msg-size", "484", "--sleepers", "0", NULL});
    CHECK (small > 0);
    odc_oid_t columns[] = {s_oid ("1.3.6.1.2.1.43")};
    odc_snmp_options_t options = {
        .window = 8, .timeout_ms = 1000, .retries = 1, .max_repetitions = 64};
    odc_snmp_t *engine = odc_snmp_new (&options);
    odc_snmp_job_t cut, whole;
    s_count_t count = {0};
    s_setup_job (&cut, "127.41.0.1", &s_v2c, NULL, 0, columns, 1, &count);
    cut.port = port;
    s_setup_job (&whole, "127.40.0.3", &s_v2c, NULL, 0, columns, 1, &count);
    odc_snmp_submit (engine, &cut);
    odc_snmp_submit (engine, &whole);
    s_run_all (engine, &count, 2);
    CHECK (cut.status == ODC_SNMP_OK);
    CHECKF (cut.n_values > 100, "%zu values", cut.n_values);
    CHECKF (cut.requests > whole.requests, "%u requests under 484 bytes, %u under 1472",
            cut.requests, whole.requests);
    odc_snmp_job_clear (&cut);
    odc_snmp_job_clear (&whole);
    odc_snmp_destroy (&engine);
    odc_testsim_stop (small);
}

static void
test_v3 (void)
{
    int port = s_port + 2;
    char port_text[16];
    snprintf (port_text, sizeof port_text, "%d", port);
    pid_t sim = odc_testsim_start (
        s_sim, (char *[]){"--devices", "4", "--first", "127.42.0.1", "--port", port_text, "--user",
                          "opendca:authPriv:SHA-256:authpass123:AES:privpass123", NULL});
    CHECK (sim > 0);
    odc_credential_t good = s_v3;
    odc_credential_t bad = good;
    bad.auth_passphrase = "wrongpass123";
    odc_oid_t scalars[] = {s_oid ("1.3.6.1.2.1.1.5.0")};
    odc_oid_t columns[] = {s_oid ("1.3.6.1.2.1.43.11.1.1.9.1")};
    odc_snmp_options_t options = {
        .window = 8, .timeout_ms = 500, .retries = 0, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    odc_snmp_job_t jobs[4];
    /*  In turn: first contact (probe), the same device again (engine ID
        known), another device with a wrong key, and the right key there
        again. The simulator has one engine ID for all its devices, so the
        wrong key replaces the user and the right one must replace it back. */
    const char *where[4] = {"127.42.0.2", "127.42.0.2", "127.42.0.3", "127.42.0.3"};
    const odc_credential_t *which[4] = {&good, &good, &bad, &good};
    for (int i = 0; i < 4; i++) {
        s_count_t count = {0};
        s_setup_job (&jobs[i], where[i], which[i], scalars, 1, columns, 1, &count);
        jobs[i].port = port;
        odc_snmp_submit (engine, &jobs[i]);
        s_run_all (engine, &count, 1);
    }
    CHECKF (jobs[0].status == ODC_SNMP_OK, "v3: %s", jobs[0].error);
    CHECK (jobs[0].n_values >= 2 && jobs[0].values[0].type == ASN_OCTET_STR);
    /*  Probe, then the read, which the device first answers with its
        clock (not in time window) and net-snmp sends again. */
    CHECKF (jobs[0].requests == 2 || jobs[0].requests == 3,
            "first contact: %u requests (probe, read; and the read again when the device's "
            "clock did not come with the probe's answer)",
            jobs[0].requests);
    CHECKF (jobs[1].status == ODC_SNMP_OK, "v3 again: %s", jobs[1].error);
    CHECKF (jobs[1].requests == 1, "engine ID known: %u requests", jobs[1].requests);
    CHECK (jobs[1].n_values == jobs[0].n_values);
    CHECK (jobs[2].status == ODC_SNMP_ERROR && strstr (jobs[2].error, "did not authenticate"));
    printf ("     v3 with a wrong key: %s\n", jobs[2].error);
    CHECKF (jobs[3].status == ODC_SNMP_OK, "v3 right key after a wrong one: %s", jobs[3].error);
    for (int i = 0; i < 4; i++)
        odc_snmp_job_clear (&jobs[i]);
    odc_snmp_destroy (&engine);
    odc_testsim_stop (sim);
}

/*  First contact with SNMPv3 addresses that do not answer: every probe
    goes out at once, without waiting (net-snmp's own probe, which it makes
    when a session without an engine ID sends, is synchronous: it held the
    thread a timeout an address), and each ends as a timeout. */
static void
test_v3_silent (void)
{
    odc_oid_t scalars[] = {s_oid ("1.3.6.1.2.1.1.5.0")};
    odc_snmp_options_t options = {
        .window = 8, .timeout_ms = 300, .retries = 0, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    enum { N = 8 };
    odc_snmp_job_t jobs[N];
    s_count_t count = {0};
    for (int i = 0; i < N; i++) {
        char address[32];
        snprintf (address, sizeof address, "127.43.0.%d", 200 + i);
        s_setup_job (&jobs[i], address, &s_v3, scalars, 1, NULL, 0, &count);
        jobs[i].port = s_port + 2; /* test_v3's, whose simulator is gone */
        odc_snmp_submit (engine, &jobs[i]);
    }
    odc_snmp_run (engine, 0);
    int out = 0;
    for (int i = 0; i < N; i++)
        out += jobs[i].requests == 1;
    CHECKF (count.done == 0 && out == N,
            "after one run that does not wait: %d of %d probes out, "
            "%d jobs ended (%s)",
            out, N, count.done, count.done ? jobs[0].error : "");
    s_run_all (engine, &count, N);
    int timeouts = 0;
    for (int i = 0; i < N; i++)
        timeouts += jobs[i].status == ODC_SNMP_TIMEOUT && jobs[i].requests == 1;
    CHECKF (timeouts == N, "%d of %d ended as one probe and a timeout (%s)", timeouts, N,
            jobs[0].error);
    for (int i = 0; i < N; i++)
        odc_snmp_job_clear (&jobs[i]);
    odc_snmp_destroy (&engine);
}

static void
test_past_1024_descriptors (void)
{
    enum { N = 1500 };
    odc_oid_t scalars[] = {s_oid ("1.3.6.1.2.1.1.5.0")};
    /*  A delay keeps every job in flight at once. */
    int port = s_port + 3;
    char port_text[16];
    snprintf (port_text, sizeof port_text, "%d", port);
    pid_t sim =
        odc_testsim_start (s_sim, (char *[]){"--devices", "1500", "--first", "127.43.0.1", "--port",
                                             port_text, "--latency", "300-300", NULL});
    CHECK (sim > 0);
    odc_snmp_options_t options = {
        .window = N, .timeout_ms = 3000, .retries = 0, .max_repetitions = 16};
    odc_snmp_t *engine = odc_snmp_new (&options);
    static odc_snmp_job_t jobs[N];
    s_count_t count = {0};
    for (int i = 0; i < N; i++) {
        char address[32];
        snprintf (address, sizeof address, "127.43.%d.%d", (i + 1) / 256, (i + 1) % 256);
        s_setup_job (&jobs[i], address, &s_v2c, scalars, 1, NULL, 0, &count);
        jobs[i].port = port;
        odc_snmp_submit (engine, &jobs[i]);
    }
    odc_snmp_run (engine, 0);
    int highest = -1;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl (fd, F_GETFD) != -1)
            highest = fd;
    CHECKF (highest > 1024, "highest descriptor %d", highest);
    s_run_all (engine, &count, N);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        ok += jobs[i].status == ODC_SNMP_OK && jobs[i].values[0].type == ASN_OCTET_STR;
        odc_snmp_job_clear (&jobs[i]);
    }
    CHECKF (ok == N, "%d of %d answered with descriptors up to %d", ok, N, highest);
    odc_snmp_destroy (&engine);
    odc_testsim_stop (sim);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: test_snmp SIM\n");
        return 2;
    }
    s_sim = argv[1];
    s_port = 36000 + (int)(getpid () % 5000) * 5; /* a range of its own */
    char port_text[16];
    snprintf (port_text, sizeof port_text, "%d", s_port);
    odc_snmp_init (8192);
    pid_t sim = odc_testsim_start (s_sim, (char *[]){"--devices", "1000", "--first", "127.40.0.1",
                                                     "--port", port_text, "--sleepers", "0", NULL});
    if (sim < 0)
        return 2;
    RUN (test_fleet_walk);
    RUN (test_sized_walk);
    RUN (test_timeout_and_v1);
    RUN (test_timeout_reuses_session);
    RUN (test_small_replies);
    RUN (test_v3);
    RUN (test_v3_silent);
    RUN (test_past_1024_descriptors);
    odc_testsim_stop (sim);
    odc_snmp_shutdown ();
    TEST_END ();
}
