/*  sim_agent: the fleet's SNMP side, on net-snmp's own protocol code.

    One UDP socket bound to 0.0.0.0:PORT answers for every simulated device:
    net-snmp's UDP transport receives with IP_PKTINFO, so each request says
    which 127.x.y.z address it was sent to, and the reply leaves from that
    same address. A request to an address with no device (past the fleet,
    offline, away) gets no answer. net-snmp parses and builds every message
    (v1, v2c, v3 with USM: engine discovery, authentication, privacy); this
    module decides what to answer: GET, GETNEXT and GETBULK over the device's
    view (the model's recording with its dynamic values and the simulated
    alert table), endOfMibView, noSuchObject / noSuchInstance, v1 noSuchName,
    GETBULK truncated to the size limit and tooBig when even one reply does
    not fit. Faults: loss, latency and late answers from sleeping devices
    hold replies in a timer queue. */
#ifndef SIM_AGENT_H
#define SIM_AGENT_H

#include <stdint.h>

#include "sim_fleet.h"

typedef struct {
    int port;
    const char **communities;
    int community_count;
    const char **users; /* NAME:LEVEL:AUTH:AUTHPASS[:PRIV:PRIVPASS] */
    int user_count;
    int max_msg_size; /* bytes; the limit for v1/v2c replies */
    int latency_min_ms, latency_max_ms;
    int sleep_delay_ms;
    double loss_pct;
    const char *engine_id; /* text */
} sim_agent_options_t;

typedef struct {
    uint64_t requests, answered, dropped_unknown, dropped_loss, dropped_auth, too_big, truncated;
    uint64_t datagrams;       /* read from the socket */
    uint32_t to_low, to_high; /* lowest and highest address asked at (host order), 0 none */
} sim_agent_stats_t;

typedef struct _sim_agent_t sim_agent_t;

/*  Call once, before anything else of net-snmp. */
void sim_agent_init_library (void);

sim_agent_t *sim_agent_new (sim_fleet_t *fleet, const sim_agent_options_t *options, char **error);
void sim_agent_destroy (sim_agent_t **self_p);

/*  The socket to poll for input. */
int sim_agent_fd (sim_agent_t *self);
/*  Read and answer what is waiting (at most max requests). */
void sim_agent_read (sim_agent_t *self, int max);
/*  Send the delayed replies that are due; returns ms until the next one,
    or -1 when none waits. */
int sim_agent_flush (sim_agent_t *self);
const sim_agent_stats_t *sim_agent_stats (sim_agent_t *self);

#endif
