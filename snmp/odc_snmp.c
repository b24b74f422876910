/*  odc_snmp: see odc_snmp.h.

    A job in flight is a "flight": its session, the walk's state (where each
    column stands, which are done, whether the scalars are in), and its place
    in the deadline list. All jobs of an engine share one timeout, so the
    deadline list stays in order by appending: the head is always the next
    deadline (O(1) per request, no heap). */
#include "odc_snmp.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/library/keytools.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/library/snmp_transport.h>
#include <net-snmp/library/snmpusm.h>
#include <net-snmp/library/transform_oids.h>

#include "odc_log.h"
#include "odc_netsnmp.h"

/*  net-snmp's process-wide state (session list set-up, USM users). */
static pthread_mutex_t s_global = PTHREAD_MUTEX_INITIALIZER;

/*  net-snmp keeps one SNMPv3 user per (engine ID, user name) for the whole
    process, and never replaces one that exists. Two credentials with the
    same user name for the same device (discovery trying passphrases, a
    changed configuration) would silently share the first one's keys. This
    table, under s_global, remembers which credential each user was made
    from, so a different one replaces it (see s_prepare_user). Replacing
    unlinks the old user (never frees it while the engines run): a session
    of another thread using the same user name on the same engine with
    another credential at that moment gets an authentication failure and
    is read again on its next pass. */
typedef struct {
    u_char engine[32];
    size_t engine_len;
    char user[64];
    const odc_credential_t *credential;
} s_user_t;
static s_user_t *s_users;
static size_t s_user_count;
static struct usmUser *s_removed;

typedef struct s_flight s_flight_t;

/*  Our deadline for a request comes this long after net-snmp's own, so
    that net-snmp has resent or given up when we look (and a session it
    gave up on can be pooled again); a busy machine can take a millisecond
    between our clock reading and net-snmp's. */
#define S_DEADLINE_SLACK_US 10000u

/*  Datagrams read from one socket at one wake-up at most, while its job
    waits for its answer (see odc_snmp_run). */
#define S_READS_MAX 256

/*  A session and its socket. Sessions of SNMP v1/v2c jobs to IPv4
    addresses are pooled: a finished job hands its session back, the next
    job with the same version and community takes it, and each request goes
    to the job's device (s_count_send) instead of the address the session
    was opened for. Opening and closing a socket per job (socket, bind,
    epoll_ctl twice, close) cost more than the rest of a job. A session goes
    back to the pool when its job ended well or net-snmp gave up on it:
    either way net-snmp holds nothing of the job any more (it took the
    answer, or removed the request before telling us), and a late answer to
    a timed-out request matches no request id of the next job. Any other end
    closes it. SNMPv3 sessions carry their security parameters: one per
    job, as before. */
typedef struct s_sock s_sock_t;
struct s_sock {
    void *sessp;
    int fd;
    /*  Where its answers must come from (not pooled sessions: the peer it
        was opened for, from the transport; pooled ones take the job's
        dest). Family 0: unknown, not checked. */
    netsnmp_sockaddr_storage peer;
    s_flight_t *flight; /* the job using it; NULL while idle in the pool */
    int pool;           /* index in the engine's pools, -1 not pooled */
    s_sock_t *next;     /* idle list */
};

#define S_POOLS 8
typedef struct {
    int version;
    char community[64];
    s_sock_t *idle;
} s_pool_t;

struct s_flight {
    odc_snmp_job_t *job;
    odc_snmp_t *engine;
    s_sock_t *sock;           /* its session, NULL between sessions */
    struct sockaddr_in dest;  /* pooled sessions: where this job's requests go */
    int pool;                 /* the pool this job may use, -1 none */
    odc_snmp_bounds_t bounds; /* the job's, the engine's where it set none */
    bool bulk;
    bool scalars_done;
    int max_rep;
    odc_oid_t *cur; /* per column: the last OID seen (the prefix at first) */
    bool *active;
    bool *missing; /* per scalar: the device has no such instance (v1) */
    size_t *rows;
    size_t values_cap;
    int reqid;         /* request outstanding, 0 none */
    int response;      /* set by the callback: 1 answer, 2 timed out */
    bool pending;      /* a request of ours is in net-snmp's list */
    bool resend;       /* the round must be sent again (tooBig, fallback) */
    bool probing;      /* SNMPv3: asking the device for its engine ID */
    bool graced;       /* our deadline passed before net-snmp's: one grace given */
    u_char probed[32]; /* the engine ID the probe found */
    size_t probed_len;
    uint64_t sent_us;
    uint64_t deadline_us;
    uint32_t heard, heard_at_send; /* datagrams from the device: all, when the request left */
    s_flight_t *prev, *next;       /* deadline list */
};

typedef struct {
    const odc_credential_t *credential;
    u_char auth[USM_AUTH_KU_LEN], priv[USM_PRIV_KU_LEN];
    size_t auth_len, priv_len;
} s_keys_t;

typedef struct {
    char address[64];
    int port;
    u_char id[32];
    size_t len;
} s_engine_id_t;

struct _odc_snmp_t {
    odc_snmp_options_t opt;
    int epfd;
    odc_snmp_job_t **queue; /* waiting to start: a ring */
    size_t queue_head, queue_count, queue_size;
    size_t in_flight;
    s_flight_t *first, *last; /* deadline order */
    netsnmp_large_fd_set fds;
    int fds_size;
    s_keys_t *keys; /* Ku per v3 credential: expensive to derive */
    size_t key_count;
    s_engine_id_t *engine_ids; /* per v3 device, learnt by the first probe */
    size_t engine_id_count;
    s_pool_t pools[S_POOLS];
    int n_pools;
    int n_idle; /* sessions idle in the pools, at most the window */
    uint64_t sessions_opened;
    uint64_t foreign; /* replies dropped for their source */
};

/*  The flight being worked on in this thread, for the byte counters that
    the transport hooks keep. */
static _Thread_local s_flight_t *s_current;
static int (*s_udp_send) (netsnmp_transport *, const void *, int, void **, int *);
static int (*s_udp_recv) (netsnmp_transport *, void *, int, void **, int *);

static uint64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
s_count_send (netsnmp_transport *t, const void *buf, int size, void **opaque, int *olength)
{
    if (s_current && size > 0) {
        s_current->job->bytes_out += (uint32_t)size;
        s_current->job->requests++;
    }
    if (s_current && s_current->sock && s_current->sock->pool >= 0) {
        /*  A pooled session: to this job's device. */
        ssize_t n = sendto (t->sock, buf, (size_t)size, MSG_NOSIGNAL,
                            (const struct sockaddr *)&s_current->dest, sizeof s_current->dest);
        return n < 0 ? -1 : (int)n;
    }
    return __atomic_load_n (&s_udp_send, __ATOMIC_ACQUIRE) (t, buf, size, opaque, olength);
}

/*  The source address net-snmp's UDP receive found: IPv4 gives an address
    pair, IPv6 a bare sockaddr_in6. NULL when it is neither. */
static const struct sockaddr *
s_source (void *opaque, int olength)
{
    if (!opaque)
        return NULL;
    if (olength == (int)sizeof (netsnmp_indexed_addr_pair))
        return &((netsnmp_indexed_addr_pair *)opaque)->remote_addr.sa;
    if (olength >= (int)sizeof (struct sockaddr_in6) &&
        ((struct sockaddr *)opaque)->sa_family == AF_INET6)
        return opaque;
    return NULL;
}

static bool
s_same_peer (const struct sockaddr *a, const netsnmp_sockaddr_storage *b)
{
    if (a->sa_family != b->sa.sa_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        return x->sin_port == b->sin.sin_port && x->sin_addr.s_addr == b->sin.sin_addr.s_addr;
    }
#ifdef NETSNMP_ENABLE_IPV6
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        return x->sin6_port == b->sin6.sin6_port &&
               !memcmp (&x->sin6_addr, &b->sin6.sin6_addr, sizeof x->sin6_addr);
    }
#endif
    return true; /* another family: not ours to judge */
}

static void
s_format_peer (const struct sockaddr *a, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        inet_ntop (AF_INET, &x->sin_addr, host, sizeof host);
        port = ntohs (x->sin_port);
    }
    else if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        inet_ntop (AF_INET6, &x->sin6_addr, host, sizeof host);
        port = ntohs (x->sin6_port);
    }
    snprintf (out, size, "%s:%d", host, port);
}

/*  Receive, and drop what does not come from the device the request went
    to: anyone on the path (or a confused agent at another address) could
    otherwise answer for it, with the request id seen or guessed. Dropped
    here, before net-snmp parses it, the request stays outstanding and the
    device's own answer is still taken. Each drop is counted in the job and
    the engine, and logged at debug level (late answers to a pooled
    session's previous device come here too, and are common); the loops
    log the engine's count with each pass. */
static int
s_count_recv (netsnmp_transport *t, void *buf, int size, void **opaque, int *olength)
{
    int n = __atomic_load_n (&s_udp_recv, __ATOMIC_ACQUIRE) (t, buf, size, opaque, olength);
    s_flight_t *f = s_current;
    if (!f || n <= 0)
        return n;
    f->job->bytes_in += (uint32_t)n;
    const netsnmp_sockaddr_storage *want = NULL;
    netsnmp_sockaddr_storage dest;
    if (f->sock && f->sock->pool >= 0) {
        memset (&dest, 0, sizeof dest);
        dest.sin = f->dest;
        want = &dest;
    }
    else if (f->sock && f->sock->peer.sa.sa_family)
        want = &f->sock->peer;
    const struct sockaddr *from = s_source (*opaque, *olength);
    if (!want || !from || s_same_peer (from, want)) {
        f->heard++;
        return n;
    }
    f->job->foreign++;
    f->engine->foreign++;
    char got[64], expected[64];
    s_format_peer (from, got, sizeof got);
    s_format_peer (&want->sa, expected, sizeof expected);
    odc_debug (f->job->address,
               "snmp: a reply from %s dropped: the request went to %s (%u this read)", got,
               expected, f->job->foreign);
    /*  net-snmp frees the opaque and the buffer on -1, and notes a receive
        error in the session, which the caller clears (s_read). */
    errno = EAGAIN;
    return -1;
}

/*  Request ids and SNMPv3 message ids that cannot be guessed from the last
    one seen (net-snmp counts them up by one): 31 bits from the kernel's
    CSPRNG, fetched 64 at a time (a getrandom per request cost about a
    microsecond; per 64, nothing measurable). Never 0 (net-snmp's "none"). */
static long
s_random_id (void)
{
    static _Thread_local uint32_t pool[64];
    static _Thread_local size_t left;
    for (;;) {
        if (!left) {
            ssize_t got = getrandom (pool, sizeof pool, 0);
            if (got != (ssize_t)sizeof pool) {
                /*  No randomness (not expected on Linux >= 3.17): the
                    clock's low bits, still not a sequence. */
                struct timespec ts;
                clock_gettime (CLOCK_MONOTONIC, &ts);
                return 1 + (long)(((uint64_t)ts.tv_nsec * 2654435761u) % 0x7ffffffe);
            }
            left = 64;
        }
        long id = (long)(pool[--left] & 0x7fffffffu);
        if (id)
            return id;
    }
}

void
odc_snmp_init (int max_open_files)
{
    odc_netsnmp_start ("opendca", "ODC_SNMP_DEBUG");
    /*  One socket per session in flight: far more than the usual 1024. */
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)max_open_files;
        if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
            want = rl.rlim_max;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            setrlimit (RLIMIT_NOFILE, &rl);
        }
    }
}

void
odc_snmp_shutdown (void)
{
    pthread_mutex_lock (&s_global);
    while (s_removed) {
        struct usmUser *next = s_removed->next;
        s_removed->next = s_removed->prev = NULL;
        usm_free_user (s_removed);
        s_removed = next;
    }
    free (s_users);
    s_users = NULL;
    s_user_count = 0;
    pthread_mutex_unlock (&s_global);
    snmp_shutdown ("opendca");
}

int
odc_oid_parse (const char *text, odc_oid_t *out)
{
    out->len = 0;
    const char *p = text;
    if (*p == '.')
        p++;
    while (*p) {
        char *end;
        errno = 0;
        unsigned long v = strtoul (p, &end, 10);
        if (end == p || errno || v > 0xffffffffUL || out->len == ODC_OID_MAX)
            return -1;
        out->name[out->len++] = v;
        p = end;
        if (*p == '.')
            p++;
        else if (*p)
            return -1;
    }
    return out->len >= 2 ? 0 : -1;
}

long
odc_snmp_value_int (const odc_snmp_value_t *v)
{
    if (v->len == sizeof (long) && v->value)
        return *(const long *)v->value;
    return 0;
}

int
odc_snmp_value_count (const odc_snmp_value_t *v, uint64_t *out)
{
    *out = 0;
    if (!v || !v->value)
        return -1;
    switch (v->type) {
    case ASN_COUNTER64:
        if (v->len != sizeof (struct counter64))
            return -1;
        const struct counter64 *c = (const struct counter64 *)v->value;
        *out = ((uint64_t)c->high << 32) | (uint64_t)(c->low & 0xffffffffu);
        return 0;
    case ASN_INTEGER:
        /*  Signed on the wire: a negative one is a sentinel or garbage. */
        if (v->len != sizeof (long) || odc_snmp_value_int (v) < 0)
            return -1;
        *out = (uint64_t)odc_snmp_value_int (v) & 0xffffffffu;
        return 0;
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS:
        if (v->len != sizeof (long))
            return -1;
        *out = (uint64_t)(unsigned long)odc_snmp_value_int (v) & 0xffffffffu;
        return 0;
    default: return -1;
    }
}

uint64_t
odc_snmp_value_u64 (const odc_snmp_value_t *v)
{
    uint64_t x;
    odc_snmp_value_count (v, &x);
    return x;
}

odc_snmp_t *
odc_snmp_new (const odc_snmp_options_t *options)
{
    odc_snmp_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    odc_snmp_options_t defaults = {256, 1500, 1, 16, {0}};
    self->opt = options ? *options : defaults;
    odc_snmp_set_bounds (self, self->opt.bounds);
    if (self->opt.window < 1)
        self->opt.window = defaults.window;
    if (self->opt.timeout_ms < 1)
        self->opt.timeout_ms = defaults.timeout_ms;
    if (self->opt.max_repetitions < 1)
        self->opt.max_repetitions = defaults.max_repetitions;
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    self->fds_size = 1024;
    netsnmp_large_fd_set_init (&self->fds, self->fds_size);
    if (self->epfd < 0) {
        odc_snmp_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_finish (s_flight_t *f, odc_snmp_status_t status, const char *why);
static void s_release (s_flight_t *f);
static void s_sock_close (odc_snmp_t *self, s_sock_t *k);

/*  Close idle pooled sessions until KEEP are left. */
static void
s_pools_trim (odc_snmp_t *self, int keep)
{
    for (int i = 0; i < self->n_pools && self->n_idle > keep; i++)
        while (self->pools[i].idle && self->n_idle > keep) {
            s_sock_t *k = self->pools[i].idle;
            self->pools[i].idle = k->next;
            self->n_idle--;
            s_sock_close (self, k);
        }
}

void
odc_snmp_destroy (odc_snmp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odc_snmp_t *self = *self_p;
    /*  Jobs in flight end here without their done function: the caller is
        going away too. */
    while (self->first) {
        s_flight_t *f = self->first;
        s_finish (f, ODC_SNMP_ERROR, "engine stopped");
        s_release (f);
    }
    s_pools_trim (self, 0);
    free (self->queue);
    if (self->epfd >= 0)
        close (self->epfd);
    netsnmp_large_fd_set_cleanup (&self->fds);
    free (self->keys);
    free (self->engine_ids);
    free (self);
    *self_p = NULL;
}

int
odc_snmp_fd (odc_snmp_t *self)
{
    return self->epfd;
}

int
odc_snmp_next_ms (odc_snmp_t *self)
{
    if (self->queue_count && self->in_flight < (size_t)self->opt.window)
        return 0;
    if (!self->first)
        return -1;
    uint64_t now = s_now_us ();
    return self->first->deadline_us > now ? (int)((self->first->deadline_us - now) / 1000u) + 1 : 0;
}

uint64_t
odc_snmp_sessions_opened (odc_snmp_t *self)
{
    return self->sessions_opened;
}

uint64_t
odc_snmp_foreign (odc_snmp_t *self)
{
    return self->foreign;
}

size_t
odc_snmp_pending (odc_snmp_t *self)
{
    return self->queue_count + self->in_flight;
}

void
odc_snmp_set_window (odc_snmp_t *self, int window)
{
    self->opt.window = window < 1 ? 1 : window;
    /*  Idle sessions beyond the window would never all be used again: a
        window that grew for a busy pass and shrank keeps no thousands of
        sockets open (each a descriptor and net-snmp's buffers). */
    s_pools_trim (self, self->opt.window);
}

void
odc_snmp_set_bounds (odc_snmp_t *self, odc_snmp_bounds_t bounds)
{
    odc_snmp_bounds_t *b = &self->opt.bounds;
    b->rows = bounds.rows ? bounds.rows : ODC_SNMP_MAX_ROWS;
    b->requests = bounds.requests ? bounds.requests : ODC_SNMP_MAX_REQUESTS;
    b->bytes = bounds.bytes ? bounds.bytes : ODC_SNMP_MAX_BYTES;
    b->ms = bounds.ms ? bounds.ms : ODC_SNMP_MAX_MS;
}

int
odc_snmp_window (odc_snmp_t *self)
{
    return self->opt.window;
}

void
odc_snmp_job_clear (odc_snmp_job_t *job)
{
    for (size_t i = 0; i < job->n_values; i++)
        free (job->values[i].name);
    free (job->values);
    job->values = NULL;
    job->n_values = 0;
}

/* ------------------------------------------------------------------------
   Deadlines */

static void
s_unlink (odc_snmp_t *self, s_flight_t *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else if (self->first == f)
        self->first = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else if (self->last == f)
        self->last = f->prev;
    f->prev = f->next = NULL;
}

static void
s_append (odc_snmp_t *self, s_flight_t *f)
{
    s_unlink (self, f);
    f->prev = self->last;
    if (self->last)
        self->last->next = f;
    else
        self->first = f;
    self->last = f;
}

/*  Into the deadline list where its deadline falls (a grace, shorter than
    the timeout every other entry waits: rare, so a walk from the end). */
static void
s_insert (odc_snmp_t *self, s_flight_t *f)
{
    s_unlink (self, f);
    s_flight_t *after = self->last;
    while (after && after->deadline_us > f->deadline_us)
        after = after->prev;
    f->prev = after;
    f->next = after ? after->next : self->first;
    if (f->next)
        f->next->prev = f;
    else
        self->last = f;
    if (after)
        after->next = f;
    else
        self->first = f;
}

/* ------------------------------------------------------------------------
   Sessions */

static const oid *
s_auth_oid (int protocol, size_t *len)
{
    static const oid *list[] = {usmHMACMD5AuthProtocol,       usmHMACSHA1AuthProtocol,
                                usmHMAC128SHA224AuthProtocol, usmHMAC192SHA256AuthProtocol,
                                usmHMAC256SHA384AuthProtocol, usmHMAC384SHA512AuthProtocol};
    *len = 10;
    return list[protocol >= 0 && protocol < 6 ? protocol : 1];
}

static const oid *
s_priv_oid (int protocol, size_t *len)
{
    switch (protocol) {
    case 0: *len = 10; return usmDESPrivProtocol;
    case 2: *len = 9; return usmAES192PrivProtocol;
    case 3: *len = 9; return usmAES256PrivProtocol;
    default: *len = 10; return usmAESPrivProtocol;
    }
}

/*  Ku of a credential's passphrases, derived once per engine. */
static s_keys_t *
s_keys (odc_snmp_t *self, const odc_credential_t *c, char *error, size_t size)
{
    for (size_t i = 0; i < self->key_count; i++)
        if (self->keys[i].credential == c)
            return &self->keys[i];
    s_keys_t k = {c, {0}, {0}, 0, 0};
    size_t alen;
    const oid *auth = s_auth_oid (c->auth_protocol, &alen);
    if (c->level >= 1) {
        k.auth_len = sizeof k.auth;
        if (generate_Ku (auth, (u_int)alen, (const u_char *)c->auth_passphrase,
                         strlen (c->auth_passphrase), k.auth, &k.auth_len) != SNMPERR_SUCCESS) {
            snprintf (error, size, "credential %s: cannot derive the auth key", c->name);
            return NULL;
        }
    }
    if (c->level >= 2) {
        k.priv_len = sizeof k.priv;
        if (generate_Ku (auth, (u_int)alen, (const u_char *)c->priv_passphrase,
                         strlen (c->priv_passphrase), k.priv, &k.priv_len) != SNMPERR_SUCCESS) {
            snprintf (error, size, "credential %s: cannot derive the privacy key", c->name);
            return NULL;
        }
    }
    self->keys = realloc (self->keys, (self->key_count + 1) * sizeof *self->keys);
    self->keys[self->key_count] = k;
    return &self->keys[self->key_count++];
}

static s_engine_id_t *
s_engine_id (odc_snmp_t *self, const odc_snmp_job_t *job)
{
    for (size_t i = 0; i < self->engine_id_count; i++)
        if (self->engine_ids[i].port == job->port &&
            strcmp (self->engine_ids[i].address, job->address) == 0)
            return &self->engine_ids[i];
    return NULL;
}

static int s_callback (int op, netsnmp_session *session, int reqid, netsnmp_pdu *pdu, void *magic);

/*  Before opening a v3 session to a known engine: when the USM user for
    (engine, user name) was made from another credential, remove it, so that
    opening the session makes it again from this one (net-snmp makes the
    user when the session opens, and never replaces one). Then remember
    which credential it is made from. Called with s_global held. */
static void
s_prepare_user (const u_char *engine, size_t engine_len, const odc_credential_t *c)
{
    s_user_t *entry = NULL;
    for (size_t i = 0; i < s_user_count && !entry; i++)
        if (s_users[i].engine_len == engine_len &&
            memcmp (s_users[i].engine, engine, engine_len) == 0 &&
            strcmp (s_users[i].user, c->user) == 0)
            entry = &s_users[i];
    if (entry && entry->credential == c)
        return;
    struct usmUser *old = usm_get_user ((u_char *)engine, engine_len, (char *)c->user);
    if (old) {
        /*  Unlinked, not freed: a message of another thread may be using
            it right now. Kept until odc_snmp_shutdown. */
        usm_remove_user (old);
        old->next = s_removed;
        s_removed = old;
    }
    if (!entry) {
        s_users = realloc (s_users, (s_user_count + 1) * sizeof *s_users);
        entry = &s_users[s_user_count++];
        memcpy (entry->engine, engine, engine_len);
        entry->engine_len = engine_len;
        snprintf (entry->user, sizeof entry->user, "%s", c->user);
    }
    entry->credential = c;
}

static int
s_open (s_flight_t *f, char *error, size_t size)
{
    odc_snmp_t *self = f->engine;
    odc_snmp_job_t *job = f->job;
    const odc_credential_t *c = job->credential;
    if (f->pool >= 0 && self->pools[f->pool].idle) {
        s_sock_t *k = self->pools[f->pool].idle;
        self->pools[f->pool].idle = k->next;
        self->n_idle--;
        k->next = NULL;
        k->flight = f;
        f->sock = k;
        return 0;
    }
    /*  SNMP over UDP and IPv4 only ("udp:" below): an IPv6 address says
        so, instead of net-snmp's "Unknown host". (Were IPv6 added, its
        replies' sources must be checked as IPv4's are: s_count_recv.) */
    if (strchr (job->address, ':')) {
        snprintf (error, size, "an IPv6 address; SNMP goes over IPv4 only");
        return -1;
    }
    netsnmp_session s;
    snmp_sess_init (&s);
    char peer[96];
    snprintf (peer, sizeof peer, "udp:%s:%d", job->address, job->port ? job->port : 161);
    s.peername = peer;
    s.timeout = (long)self->opt.timeout_ms * 1000L;
    s.retries = self->opt.retries;
    s.callback = s_callback;
    /*  Requests carry their flight (snmp_sess_async_send); what comes
        unasked (or late, to a pooled session) finds no flight here. */
    s.callback_magic = NULL;
    s_engine_id_t *known = NULL;
    if (!c || c->version == 2 || c->version == 1) {
        s.version = c && c->version == 1 ? SNMP_VERSION_1 : SNMP_VERSION_2c;
        const char *community = c && c->community ? c->community : "public";
        s.community = (u_char *)community;
        s.community_len = strlen (community);
    }
    else {
        s.version = SNMP_VERSION_3;
        s.securityName = c->user;
        s.securityNameLen = strlen (c->user);
        s.securityLevel = c->level == 2   ? SNMP_SEC_LEVEL_AUTHPRIV
                          : c->level == 1 ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                          : SNMP_SEC_LEVEL_NOAUTH;
        if (c->context) {
            s.contextName = c->context;
            s.contextNameLen = strlen (c->context);
        }
        s_keys_t *k = s_keys (self, c, error, size);
        if (!k)
            return -1;
        size_t len;
        const oid *auth = s_auth_oid (c->auth_protocol, &len);
        s.securityAuthProto = (oid *)auth;
        s.securityAuthProtoLen = len;
        memcpy (s.securityAuthKey, k->auth, k->auth_len);
        s.securityAuthKeyLen = k->auth_len;
        const oid *priv = s_priv_oid (c->priv_protocol, &len);
        s.securityPrivProto = (oid *)priv;
        s.securityPrivProtoLen = len;
        memcpy (s.securityPrivKey, k->priv, k->priv_len);
        s.securityPrivKeyLen = k->priv_len;
        /*  The device's engine ID, once learnt, spares the probe. */
        known = s_engine_id (self, job);
        if (known) {
            s.securityEngineID = known->id;
            s.securityEngineIDLen = known->len;
            s.flags |= SNMP_FLAGS_DONT_PROBE;
        }
    }
    if (s.version == SNMP_VERSION_3 && !known) {
        /*  First contact: ask for the engine ID without waiting (a probe
            from a session of its own), and open the real session when the
            answer is in (s_advance). */
        s.securityName = (char *)"";
        s.securityNameLen = 0;
        s.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
        s.securityAuthKeyLen = s.securityPrivKeyLen = 0;
        s.flags |= SNMP_FLAGS_DONT_PROBE;
        f->probing = true;
    }
    pthread_mutex_lock (&s_global);
    if (f->probing && !usm_get_user (NULL, 0, (char *)"")) {
        /*  Discovery goes out as the empty user, which USM must know. */
        struct usmUser *empty = calloc (1, sizeof *empty);
        empty->name = strdup ("");
        empty->secName = strdup ("");
        empty->authProtocolLen = sizeof usmNoAuthProtocol / sizeof (oid);
        empty->authProtocol = snmp_duplicate_objid (usmNoAuthProtocol, empty->authProtocolLen);
        empty->privProtocolLen = sizeof usmNoPrivProtocol / sizeof (oid);
        empty->privProtocol = snmp_duplicate_objid (usmNoPrivProtocol, empty->privProtocolLen);
        usm_add_user (empty);
    }
    if (s.version == SNMP_VERSION_3 && !f->probing)
        s_prepare_user (known->id, known->len, c);
    void *sessp = snmp_sess_open (&s);
    /*  net-snmp clears "don't probe" once the session is open, and the
        first send of a session with no engine ID would then probe on its
        own, synchronously: a silent address held this thread for a
        timeout per retry (PITFALLS.md). Our probe is the first send. */
    if (sessp && f->probing)
        snmp_sess_session (sessp)->flags |= SNMP_FLAGS_DONT_PROBE;
    pthread_mutex_unlock (&s_global);
    if (!sessp) {
        int liberr, syserr;
        char *text = NULL;
        snmp_error (&s, &liberr, &syserr, &text);
        snprintf (error, size, "cannot open a session to %s: %s", peer,
                  text && *text ? text : "SNMPv3 user set-up failed");
        free (text);
        return -1;
    }
    netsnmp_transport *t = snmp_sess_transport (sessp);
    /*  Count bytes: hook the transport's send and receive (the UDP ones
        are the same functions for every session; noted once, under the
        lock, as every engine thread comes here). */
    pthread_mutex_lock (&s_global);
    if (!s_udp_send) {
        __atomic_store_n (&s_udp_recv, t->f_recv, __ATOMIC_RELEASE);
        __atomic_store_n (&s_udp_send, t->f_send, __ATOMIC_RELEASE);
    }
    if (t->f_send == s_udp_send)
        t->f_send = s_count_send;
    if (t->f_recv == s_udp_recv)
        t->f_recv = s_count_recv;
    pthread_mutex_unlock (&s_global);
    self->sessions_opened++;
    /*  Our sockets live at descriptor ODC_SNMP_FD_FLOOR and above: below it
        stay free for what uses select(), libstrophe's XMPP socket first
        (PITFALLS.md). When the limit leaves no room up there, the socket
        stays where it is. */
    if (t->sock >= 0 && t->sock < ODC_SNMP_FD_FLOOR) {
        int high = fcntl (t->sock, F_DUPFD_CLOEXEC, ODC_SNMP_FD_FLOOR);
        if (high >= 0) {
            close (t->sock);
            t->sock = high;
        }
    }
    s_sock_t *k = calloc (1, sizeof *k);
    k->sessp = sessp;
    k->fd = t->sock;
    /*  The peer its answers must come from (UDP over IPv4 keeps it as an
        address pair in the transport's data; no IPv6 session is opened). */
    if (t->data && t->data_length == (int)sizeof (netsnmp_indexed_addr_pair)) {
        const netsnmp_indexed_addr_pair *pair = t->data;
        if (pair->remote_addr.sa.sa_family == AF_INET)
            k->peer = pair->remote_addr;
    }
    k->flight = f;
    k->pool = f->pool;
    f->sock = k;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = k};
    epoll_ctl (self->epfd, EPOLL_CTL_ADD, k->fd, &ev);
    return 0;
}

/* ------------------------------------------------------------------------
   Requests */

/*  The OID just before an instance: GETNEXT of it is the instance. */
static void
s_before (const odc_oid_t *in, oid *out, size_t *len)
{
    memcpy (out, in->name, in->len * sizeof (oid));
    *len = in->len;
    if (in->name[in->len - 1] == 0) {
        (*len)--;
        return;
    }
    out[*len - 1]--;
    out[(*len)++] = 0xffffffffUL;
}

static size_t
s_active_count (const s_flight_t *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->job->n_columns; i++)
        n += f->active[i];
    return n;
}

/*  Scalars still asked for (not known missing). */
static size_t
s_asked (const s_flight_t *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->job->n_scalars; i++)
        n += !f->missing[i];
    return n;
}

static odc_snmp_value_t *s_add_value (s_flight_t *f, const oid *name, size_t name_len,
                                      const netsnmp_variable_list *v, int column, uint8_t type);

/*  Record the scalars from the first varbinds of a reply (exact: the OID
    must be the instance asked for), in the job's order, missing ones as
    noSuchInstance. Returns the varbind after them. */
static netsnmp_variable_list *
s_take_scalars (s_flight_t *f, netsnmp_variable_list *v)
{
    odc_snmp_job_t *job = f->job;
    for (size_t i = 0; i < job->n_scalars; i++) {
        netsnmp_variable_list none = {0};
        netsnmp_variable_list *got = f->missing[i] ? &none : v;
        if (!f->missing[i] && v)
            v = v->next_variable;
        bool found = got && got != &none &&
                     snmp_oid_compare (got->name, got->name_length, job->scalars[i].name,
                                       job->scalars[i].len) == 0 &&
                     got->type != SNMP_NOSUCHOBJECT && got->type != SNMP_NOSUCHINSTANCE &&
                     got->type != SNMP_ENDOFMIBVIEW;
        s_add_value (f, job->scalars[i].name, job->scalars[i].len, found ? got : NULL, -1,
                     found ? got->type : SNMP_NOSUCHINSTANCE);
    }
    f->scalars_done = true;
    return v;
}

static int
s_send (s_flight_t *f)
{
    odc_snmp_job_t *job = f->job;
    size_t active = s_active_count (f);
    bool scalars = !f->scalars_done && job->n_scalars;
    netsnmp_pdu *pdu;
    if (f->probing) {
        /*  RFC 3414 discovery: an empty, unauthenticated, reportable GET;
            the device answers with a report that carries its engine ID. */
        pdu = snmp_pdu_create (SNMP_MSG_GET);
        pdu->version = SNMP_VERSION_3;
        pdu->securityModel = SNMP_SEC_MODEL_USM;
        pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
        pdu->securityName = strdup ("");
        pdu->securityNameLen = 0;
    }
    else if (!active) {
        /*  Only scalars left: a plain GET. */
        pdu = snmp_pdu_create (SNMP_MSG_GET);
        for (size_t i = 0; i < job->n_scalars; i++)
            if (!f->missing[i])
                snmp_add_null_var (pdu, job->scalars[i].name, job->scalars[i].len);
    }
    else {
        pdu = snmp_pdu_create (f->bulk ? SNMP_MSG_GETBULK : SNMP_MSG_GETNEXT);
        if (f->bulk) {
            pdu->non_repeaters = scalars ? (long)s_asked (f) : 0;
            pdu->max_repetitions = f->max_rep;
        }
        if (scalars)
            for (size_t i = 0; i < job->n_scalars; i++) {
                if (f->missing[i])
                    continue;
                oid before[ODC_OID_MAX + 1];
                size_t len;
                s_before (&job->scalars[i], before, &len);
                snmp_add_null_var (pdu, before, len);
            }
        for (size_t c = 0; c < job->n_columns; c++)
            if (f->active[c])
                snmp_add_null_var (pdu, f->cur[c].name, f->cur[c].len);
    }
    pdu->reqid = s_random_id ();
    pdu->msgid = s_random_id ();
    f->response = 0;
    f->pending = true;
    f->resend = false;
    f->heard_at_send = f->heard;
    s_current = f;
    f->sent_us = s_now_us ();
    f->reqid = snmp_sess_async_send (f->sock->sessp, pdu, s_callback, f);
    s_current = NULL;
    if (f->reqid == 0) {
        f->pending = false;
        snmp_free_pdu (pdu);
        snprintf (job->error, sizeof job->error, "cannot send: %s",
                  snmp_api_errstring (snmp_sess_session (f->sock->sessp)->s_snmp_errno));
        return -1;
    }
    /*  From after the send: net-snmp starts its own clock inside it, and a
        loaded machine may stop this thread in between. */
    f->graced = false;
    f->deadline_us =
        s_now_us () + (uint64_t)f->engine->opt.timeout_ms * 1000u + S_DEADLINE_SLACK_US;
    s_append (f->engine, f);
    return 0;
}

/*  One value: its name and its bytes in one allocation, the name exactly
    as long as it is (values are many: a fixed-size name in each was most of
    the engine's memory). v NULL: no value (a missing scalar). */
static odc_snmp_value_t *
s_add_value (s_flight_t *f, const oid *name, size_t name_len, const netsnmp_variable_list *v,
             int column, uint8_t type)
{
    odc_snmp_job_t *job = f->job;
    if (job->n_values == f->values_cap) {
        f->values_cap = f->values_cap ? f->values_cap * 2 : 16;
        job->values = realloc (job->values, f->values_cap * sizeof *job->values);
    }
    odc_snmp_value_t *out = &job->values[job->n_values++];
    memset (out, 0, sizeof *out);
    bool has_value = v && type == v->type && v->val_len && v->val.string;
    size_t len = has_value ? v->val_len : 0;
    out->name = malloc (name_len * sizeof (oid) + len + 1);
    if (name_len)
        memcpy (out->name, name, name_len * sizeof (oid));
    out->name_len = name_len;
    out->type = type;
    out->column = column;
    if (has_value) {
        out->value = (uint8_t *)(out->name + name_len);
        memcpy (out->value, v->val.string, len);
        out->value[len] = 0;
        out->len = len;
    }
    return out;
}

static bool
s_under (const netsnmp_variable_list *v, const odc_oid_t *prefix)
{
    return v->name_length > prefix->len &&
           snmp_oid_compare (v->name, prefix->len, prefix->name, prefix->len) == 0;
}

static void
s_fall_back (s_flight_t *f, const char *why)
{
    if (!f->bulk)
        return;
    f->bulk = false;
    f->job->fell_back = true;
    f->resend = true;
    odc_debug (f->job->address, "falling back to GETNEXT: %s", why);
}

/*  A bound of the read passed: the job ends as an error naming it, and
    what it read so far goes (a table cut short is not the device's). */
static void s_stop (s_flight_t *f, const char *bound, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
s_stop (s_flight_t *f, const char *bound, const char *fmt, ...)
{
    odc_snmp_job_t *job = f->job;
    if (job->status != ODC_SNMP_PENDING)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (job->error, sizeof job->error, fmt, ap);
    va_end (ap);
    job->bound = bound;
    odc_snmp_job_clear (job);
    f->values_cap = 0;
    s_finish (f, ODC_SNMP_ERROR, NULL);
}

static void
s_oid_text (const oid *name, size_t len, char *out, size_t size)
{
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < len && n + 12 < size; i++)
        n += (size_t)snprintf (out + n, size - n, i ? ".%lu" : "%lu", (unsigned long)name[i]);
}

/*  Take what a reply holds. Runs in the callback: records only. */
static void
s_absorb (s_flight_t *f, netsnmp_pdu *pdu)
{
    odc_snmp_job_t *job = f->job;
    size_t active = s_active_count (f);
    bool scalars = !f->scalars_done && job->n_scalars;
    if (pdu->errstat == SNMP_ERR_TOOBIG) {
        if (f->bulk && f->max_rep > 1) {
            f->max_rep /= 2;
            f->resend = true;
        }
        else
            s_finish (f, ODC_SNMP_ERROR, "tooBig even for one row");
        return;
    }
    if (pdu->errstat == SNMP_ERR_NOSUCHNAME && pdu->errindex > 0) {
        /*  v1: the varbind at errindex has no instance (GET) or nothing
            after it (GETNEXT): drop it and ask again for the rest. */
        long k = pdu->errindex - 1;
        if (scalars || !active)
            for (size_t i = 0; i < job->n_scalars; i++)
                if (!f->missing[i] && k-- == 0) {
                    f->missing[i] = true;
                    f->resend = true;
                    return;
                }
        for (size_t c = 0; c < job->n_columns; c++)
            if (f->active[c] && k-- == 0) {
                f->active[c] = false;
                f->resend = true;
                return;
            }
        /*  An index past what was asked: asking again would get the same
            answer, for ever. */
        s_stop (f, "reply", "noSuchName at index %ld of the %zu varbinds asked", pdu->errindex,
                (scalars || !active ? s_asked (f) : 0) + active);
        return;
    }
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        if (f->bulk && active) {
            s_fall_back (f, snmp_errstring ((int)pdu->errstat));
            return;
        }
        snprintf (job->error, sizeof job->error, "%s (index %ld)",
                  snmp_errstring ((int)pdu->errstat), pdu->errindex);
        s_finish (f, ODC_SNMP_ERROR, NULL);
        return;
    }
    netsnmp_variable_list *v = pdu->variables;
    if (!active) {
        s_take_scalars (f, v);
        return;
    }
    bool moved = scalars; /* the reply took the job a step further */
    if (scalars)
        v = s_take_scalars (f, v);
    /*  Rows: the columns active when the request left, in order. */
    size_t order[ODC_OID_MAX], n = 0;
    for (size_t c = 0; c < job->n_columns && n < ODC_OID_MAX; c++)
        if (f->active[c])
            order[n++] = c;
    bool done_now[ODC_OID_MAX] = {false};
    for (size_t k = 0; v; v = v->next_variable, k++) {
        size_t c = order[k % n];
        if (done_now[k % n])
            continue;
        if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
            v->type == SNMP_NOSUCHINSTANCE || !s_under (v, &job->columns[c])) {
            done_now[k % n] = true;
            f->active[c] = false;
            moved = true;
            continue;
        }
        if (v->name_length > ODC_OID_MAX) {
            /*  Longer than the walk can remember: cut, it would compare
                equal-prefixed and "greater" for ever, and the walk would
                never end. The reply is wrong, whatever else it says. */
            char column[ODC_OID_MAX * 11];
            s_oid_text (job->columns[c].name, job->columns[c].len, column, sizeof column);
            s_stop (f, "oid", "walk stopped: an OID of %zu sub-identifiers (at most %d) in %.100s",
                    v->name_length, ODC_OID_MAX, column);
            return;
        }
        if (snmp_oid_compare (v->name, v->name_length, f->cur[c].name, f->cur[c].len) <= 0) {
            if (f->bulk) {
                s_fall_back (f, "OIDs out of order");
                return;
            }
            /*  Even GETNEXT goes backwards: stop this column here. */
            snprintf (job->error, sizeof job->error, "OIDs out of order in column %zu", c);
            done_now[k % n] = true;
            f->active[c] = false;
            moved = true;
            continue;
        }
        if (f->rows[c] >= f->bounds.rows) {
            char column[ODC_OID_MAX * 11];
            s_oid_text (job->columns[c].name, job->columns[c].len, column, sizeof column);
            s_stop (f, "rows", "walk stopped: more than %u rows in %.100s", f->bounds.rows, column);
            return;
        }
        s_add_value (f, v->name, v->name_length, v, (int)c, v->type);
        memcpy (f->cur[c].name, v->name, v->name_length * sizeof (oid));
        f->cur[c].len = v->name_length;
        moved = true;
        if (++f->rows[c] > job->rows)
            job->rows = f->rows[c];
        if (job->max_rows && f->rows[c] >= job->max_rows) {
            done_now[k % n] = true;
            f->active[c] = false;
        }
    }
    if (!moved) {
        /*  No varbind (or none for the columns asked): the same request
            would get the same reply, for ever. */
        size_t got = 0;
        for (netsnmp_variable_list *w = pdu->variables; w; w = w->next_variable)
            got++;
        s_stop (f, "reply", "walk stopped: a reply that moves no column (%zu varbinds for %zu)",
                got, n);
    }
}

static int
s_callback (int op, netsnmp_session *session, int reqid, netsnmp_pdu *pdu, void *magic)
{
    (void)session;
    s_flight_t *f = magic;
    if (!f || reqid != f->reqid || f->response)
        return 1; /* a late answer to a request we gave up on */
    /*  Answered, timed out or not sent: net-snmp removes the request
        (not after a resend, op 6, which also comes here). */
    if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || op == NETSNMP_CALLBACK_OP_TIMED_OUT ||
        op == NETSNMP_CALLBACK_OP_SEND_FAILED)
        f->pending = false;
    if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && f->probing) {
        f->response = 1;
        if (pdu->securityEngineIDLen && pdu->securityEngineIDLen <= sizeof f->probed) {
            memcpy (f->probed, pdu->securityEngineID, pdu->securityEngineIDLen);
            f->probed_len = pdu->securityEngineIDLen;
        }
    }
    else if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && pdu->command == SNMP_MSG_REPORT) {
        /*  SNMPv3 said no: wrong key, unknown user, level not allowed. */
        f->response = 1;
        s_finish (f, ODC_SNMP_ERROR, snmp_api_errstring (snmpv3_get_report_type (pdu)));
    }
    else if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
        f->response = 1;
        f->job->rtt_us += s_now_us () - f->sent_us;
        s_absorb (f, pdu);
    }
    else if (op == NETSNMP_CALLBACK_OP_TIMED_OUT)
        f->response = 2;
    else if (op == NETSNMP_CALLBACK_OP_SEND_FAILED) {
        f->response = 1;
        s_finish (f, ODC_SNMP_ERROR, "send failed");
    }
    return 1;
}

/* ------------------------------------------------------------------------
   Jobs */

static void
s_remember_engine (s_flight_t *f)
{
    odc_snmp_t *self = f->engine;
    s_engine_id_t *e = s_engine_id (self, f->job);
    if (!e) {
        self->engine_ids =
            realloc (self->engine_ids, (self->engine_id_count + 1) * sizeof *self->engine_ids);
        e = &self->engine_ids[self->engine_id_count++];
        snprintf (e->address, sizeof e->address, "%s", f->job->address);
        e->port = f->job->port;
    }
    memcpy (e->id, f->probed, f->probed_len);
    e->len = f->probed_len;
}

static void
s_sock_close (odc_snmp_t *self, s_sock_t *k)
{
    epoll_ctl (self->epfd, EPOLL_CTL_DEL, k->fd, NULL);
    pthread_mutex_lock (&s_global);
    snmp_sess_close (k->sessp);
    pthread_mutex_unlock (&s_global);
    free (k);
}

/*  The pool for a job: SNMP v1/v2c to an IPv4 address (-1 otherwise). */
static int
s_pool_for (odc_snmp_t *self, s_flight_t *f)
{
    odc_snmp_job_t *job = f->job;
    const odc_credential_t *c = job->credential;
    if (c && c->version == 3)
        return -1;
    memset (&f->dest, 0, sizeof f->dest);
    f->dest.sin_family = AF_INET;
    f->dest.sin_port = htons ((uint16_t)(job->port ? job->port : 161));
    if (inet_pton (AF_INET, job->address, &f->dest.sin_addr) != 1)
        return -1;
    int version = c && c->version == 1 ? 1 : 2;
    const char *community = c && c->community ? c->community : "public";
    if (strlen (community) >= sizeof self->pools[0].community)
        return -1;
    for (int i = 0; i < self->n_pools; i++)
        if (self->pools[i].version == version && !strcmp (self->pools[i].community, community))
            return i;
    if (self->n_pools == S_POOLS)
        return -1;
    s_pool_t *p = &self->pools[self->n_pools];
    p->version = version;
    snprintf (p->community, sizeof p->community, "%s", community);
    p->idle = NULL;
    return self->n_pools++;
}

static void
s_close_session (s_flight_t *f)
{
    s_sock_t *k = f->sock;
    if (!k)
        return;
    f->sock = NULL;
    /*  Pooled again only when nothing of this job is left in the session
        (see s_sock_t). A timeout we declared ourselves (our deadline came
        before net-snmp's) leaves the request in net-snmp's list with this
        flight as its callback's argument: that session is closed now,
        while the flight still lives. */
    bool clean =
        !f->pending && (f->job->status == ODC_SNMP_OK || f->job->status == ODC_SNMP_TIMEOUT);
    if (k->pool >= 0 && clean && f->engine->n_idle < f->engine->opt.window) {
        k->flight = NULL;
        k->next = f->engine->pools[k->pool].idle;
        f->engine->pools[k->pool].idle = k;
        f->engine->n_idle++;
        return;
    }
    s_sock_close (f->engine, k);
}

static void
s_finish (s_flight_t *f, odc_snmp_status_t status, const char *why)
{
    odc_snmp_job_t *job = f->job;
    if (job->status != ODC_SNMP_PENDING)
        return;
    job->status = status;
    if (why && !job->error[0])
        snprintf (job->error, sizeof job->error, "%s", why);
    job->finished_us = s_now_us ();
    job->finished_ms = odc_now_ms ();
    f->response = 3; /* finished: nothing more to do */
}

static void
s_release (s_flight_t *f)
{
    odc_snmp_t *self = f->engine;
    s_unlink (self, f);
    s_close_session (f);
    f->job->priv = NULL;
    free (f);
    self->in_flight--;
}

static void
s_complete (s_flight_t *f)
{
    odc_snmp_job_t *job = f->job;
    s_release (f);
    if (job->done)
        job->done (job, job->arg);
}

/*  A job's flight, with its per-column and per-scalar state in one block
    (one allocation a job instead of five), and the job's bounds over the
    engine's. No session yet (s_start; the SNMP fuzzer drives it without one). */
static s_flight_t *
s_flight_new (odc_snmp_t *self, odc_snmp_job_t *job)
{
    size_t n = job->n_columns, ns = job->n_scalars;
    s_flight_t *f = calloc (1, sizeof *f + n * (sizeof *f->cur + sizeof *f->rows) +
                                   n * sizeof *f->active + ns * sizeof *f->missing);
    assert (f);
    f->cur = (odc_oid_t *)(f + 1);
    f->rows = (size_t *)(f->cur + n);
    f->active = (bool *)(f->rows + n);
    f->missing = f->active + n;
    f->job = job;
    f->engine = self;
    f->bulk = !job->getnext_only && !(job->credential && job->credential->version == 1);
    f->max_rep = job->max_repetitions > 0 ? job->max_repetitions : self->opt.max_repetitions;
    for (size_t c = 0; c < n; c++) {
        f->cur[c] = job->columns[c];
        f->active[c] = true;
    }
    f->scalars_done = job->n_scalars == 0;
    f->bounds = self->opt.bounds;
    if (job->bounds.rows)
        f->bounds.rows = job->bounds.rows;
    if (job->bounds.requests)
        f->bounds.requests = job->bounds.requests;
    if (job->bounds.bytes)
        f->bounds.bytes = job->bounds.bytes;
    if (job->bounds.ms)
        f->bounds.ms = job->bounds.ms;
    return f;
}

static void
s_start (odc_snmp_t *self, odc_snmp_job_t *job)
{
    s_flight_t *f = s_flight_new (self, job);
    f->pool = s_pool_for (self, f);
    job->priv = f;
    self->in_flight++;
    job->started_us = s_now_us ();
    job->started_ms = odc_now_ms ();
    char error[160];
    if (s_open (f, error, sizeof error) == -1) {
        snprintf (job->error, sizeof job->error, "%s", error);
        job->status = ODC_SNMP_ERROR;
        job->finished_us = s_now_us ();
        job->finished_ms = odc_now_ms ();
        s_complete (f);
        return;
    }
    if (s_send (f) == -1) {
        s_finish (f, ODC_SNMP_ERROR, "cannot send");
        s_complete (f);
    }
}

int
odc_snmp_submit (odc_snmp_t *self, odc_snmp_job_t *job)
{
    if (!job || (!job->n_scalars && !job->n_columns) || job->n_columns > ODC_OID_MAX)
        return -1;
    job->status = ODC_SNMP_PENDING;
    job->error[0] = 0;
    job->values = NULL;
    job->n_values = 0;
    job->fell_back = false;
    job->bound = NULL;
    job->foreign = 0;
    job->rows = 0;
    job->requests = job->bytes_out = job->bytes_in = job->timeouts = 0;
    job->rtt_us = 0;
    if (self->queue_count == self->queue_size) {
        size_t size = self->queue_size ? self->queue_size * 2 : 256;
        odc_snmp_job_t **queue = malloc (size * sizeof *queue);
        for (size_t i = 0; i < self->queue_count; i++)
            queue[i] = self->queue[(self->queue_head + i) % self->queue_size];
        free (self->queue);
        self->queue = queue;
        self->queue_head = 0;
        self->queue_size = size;
    }
    self->queue[(self->queue_head + self->queue_count++) % self->queue_size] = job;
    return 0;
}

/*  Why a request timed out: silence, or datagrams from the device that
    net-snmp could not take as the answer (malformed BER, not SNMP, another
    request id or version): the user learns the device is there. */
static const char *
s_timeout_why (const s_flight_t *f)
{
    if (f->heard == f->heard_at_send)
        return "no answer";
    static _Thread_local char why[160];
    snprintf (why, sizeof why,
              "no answer it could read: %u datagram%s from the device, none an SNMP reply to "
              "the request (malformed, or for another request)",
              f->heard - f->heard_at_send, f->heard - f->heard_at_send == 1 ? "" : "s");
    return why;
}

/*  After a reply or a timeout: the next request, or the end. */
static int
s_advance (s_flight_t *f)
{
    odc_snmp_job_t *job = f->job;
    if (f->response == 3) {
        s_complete (f);
        return 1;
    }
    if (f->response == 2) {
        job->timeouts++;
        s_finish (f, ODC_SNMP_TIMEOUT, s_timeout_why (f));
        s_complete (f);
        return 1;
    }
    if (f->probing) {
        if (!f->probed_len) {
            s_finish (f, ODC_SNMP_ERROR, "the SNMPv3 probe's answer has no engine ID");
            s_complete (f);
            return 1;
        }
        s_remember_engine (f);
        s_close_session (f);
        f->probing = false;
        char error[160];
        if (s_open (f, error, sizeof error) == -1) {
            s_finish (f, ODC_SNMP_ERROR, error);
            s_complete (f);
            return 1;
        }
    }
    if (!f->scalars_done && s_asked (f) == 0)
        s_take_scalars (f, NULL); /* every scalar turned out missing */
    bool more = f->resend || s_active_count (f) > 0 || !f->scalars_done;
    if (!more) {
        s_finish (f, ODC_SNMP_OK, NULL);
        s_complete (f);
        return 1;
    }
    /*  Before one more request: the read's bounds (rows are counted as
        they come, in s_absorb). */
    uint64_t took_ms = (s_now_us () - job->started_us) / 1000u;
    if (job->requests >= f->bounds.requests)
        s_stop (f, "requests", "walk stopped: more than %u requests", f->bounds.requests);
    else if (job->bytes_in > f->bounds.bytes)
        s_stop (f, "bytes", "walk stopped: more than %u bytes received", f->bounds.bytes);
    else if (took_ms > f->bounds.ms)
        s_stop (f, "time", "walk stopped: more than %u %s",
                f->bounds.ms % 1000 ? f->bounds.ms : f->bounds.ms / 1000,
                f->bounds.ms % 1000 ? "ms" : "s");
    if (job->status != ODC_SNMP_PENDING) {
        s_complete (f);
        return 1;
    }
    if (s_send (f) == -1) {
        s_finish (f, ODC_SNMP_ERROR, "cannot send");
        s_complete (f);
        return 1;
    }
    return 0;
}

static void
s_fill_window (odc_snmp_t *self)
{
    while (self->queue_count && self->in_flight < (size_t)self->opt.window) {
        odc_snmp_job_t *job = self->queue[self->queue_head];
        self->queue_head = (self->queue_head + 1) % self->queue_size;
        self->queue_count--;
        s_start (self, job);
    }
}

int
odc_snmp_run (odc_snmp_t *self, int timeout_ms)
{
    int finished = 0;
    s_fill_window (self);
    uint64_t now = s_now_us ();
    if (self->first) {
        int until = self->first->deadline_us > now
                        ? (int)((self->first->deadline_us - now) / 1000u) + 1
                        : 0;
        if (until < timeout_ms || timeout_ms < 0)
            timeout_ms = until;
    }
    struct epoll_event events[256];
    int n = epoll_wait (self->epfd, events, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        s_sock_t *k = events[i].data.ptr;
        s_flight_t *f = k->flight; /* NULL: a late answer to an idle pooled session */
        if (k->fd >= self->fds_size) {
            self->fds_size = k->fd + 1024;
            netsnmp_large_fd_set_resize (&self->fds, self->fds_size);
        }
        netsnmp_large_fd_setfd (k->fd, &self->fds);
        /*  One datagram a read. While the job has no answer yet, read on
            what is waiting: copies of a flood, spoofed or late replies
            ahead of the device's own answer would otherwise cost a tick
            each (a socket with 200 of them timed good devices out). */
        for (int reads = 0; reads < S_READS_MAX; reads++) {
            s_current = f;
            uint64_t foreign = self->foreign;
            snmp_sess_read2 (k->sessp, &self->fds); /* with no request left, it is dropped */
            s_current = NULL;
            if (self->foreign != foreign) {
                /*  s_count_recv dropped it: not a receive error of the session. */
                snmp_sess_session (k->sessp)->s_snmp_errno = 0;
                snmp_sess_session (k->sessp)->s_errno = 0;
            }
            int waiting = 0;
            if ((f && f->response) || ioctl (k->fd, FIONREAD, &waiting) != 0 || waiting <= 0)
                break;
        }
        netsnmp_large_fd_clr (k->fd, &self->fds);
        if (f && f->response)
            finished += s_advance (f);
    }
    /*  Deadlines: net-snmp resends (retries) or gives up (callback). */
    now = s_now_us ();
    while (self->first && self->first->deadline_us <= now) {
        s_flight_t *f = self->first;
        s_current = f;
        uint32_t before = f->job->requests;
        snmp_sess_timeout (f->sock->sessp);
        s_current = NULL;
        if (f->response) {
            finished += s_advance (f);
            continue;
        }
        if (f->job->requests == before && !f->graced) {
            /*  net-snmp neither resent nor gave up: its clock may be behind
                ours (this thread stopped between the two), so once more a
                little later before taking the request as dropped. */
            f->graced = true;
            f->deadline_us = s_now_us () + 5 * S_DEADLINE_SLACK_US;
            s_insert (self, f);
            continue;
        }
        if (f->job->requests == before) {
            /*  Still neither: net-snmp dropped the request itself (an SNMPv3
                report it handled, such as a wrong key). */
            int why = snmp_sess_session (f->sock->sessp)->s_snmp_errno;
            f->job->timeouts++;
            if (why)
                s_finish (f, ODC_SNMP_ERROR, snmp_api_errstring (why));
            else if (f->heard != f->heard_at_send && f->job->credential &&
                     f->job->credential->version == 3)
                /*  Something came back, and nothing of it was good. */
                s_finish (f, ODC_SNMP_ERROR,
                          "answers did not authenticate (wrong SNMPv3 key or passphrase?)");
            else
                s_finish (f, ODC_SNMP_TIMEOUT, s_timeout_why (f));
            finished += s_advance (f);
            continue;
        }
        f->job->timeouts++; /* a request was lost and sent again */
        f->graced = false;
        f->sent_us = s_now_us ();
        f->deadline_us = f->sent_us + (uint64_t)self->opt.timeout_ms * 1000u + S_DEADLINE_SLACK_US;
        s_append (self, f);
    }
    s_fill_window (self);
    return finished;
}
