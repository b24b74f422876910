/*  odc_notify_actor: the alert events routing sends by e-mail or to a
    program (issue 17), delivered from the store's notify queue.

    Triage adds one Notice per e-mail recipient or program into the notify
    queue (an odc_outbox in the "notify" family) in the batch of the state
    that made the event, and wakes this actor (ODC_EP_NOTIFY). This actor
    delivers the queue in order and deletes each notice once delivered:

    - email: one message per recipient over SMTP through libcurl, STARTTLS
      required unless triage.email.security says otherwise, the server's
      certificate verified (triage.email.ca_file, or the system's), login
      when triage.email.user is set. A plain text body a helpdesk reads
      (device, serial, location, category, code, text, since when), and a
      thread per alert: the "raised" message's Message-ID is
      <opendca.ALERT.raised@COLLECTOR>, its "changed" and "cleared" answer
      it (In-Reply-To, References).
    - exec: the program of the destination, given the event as one JSON
      object on its standard input (nothing else: no shell, no arguments);
      exit 0 delivered, 75 (EX_TEMPFAIL) try again later, anything else
      refused; killed after triage.email.timeout_seconds.

    A server that does not answer, a 4xx reply, a TLS or login failure:
    the destination waits (5 s, doubling to 5 min) and its notices stay in
    the queue, so nothing is lost while a mail server is down; the other
    destinations go on. A recipient the server refuses for good (a 5xx
    reply to RCPT or to the message): logged with the address and the
    server's words, the notice deleted; the others are not held up. */
#ifndef ODC_NOTIFY_ACTOR_H
#define ODC_NOTIFY_ACTOR_H

#include <czmq.h>

#include "odc_config.h"
#include "odc_outbox.h"

typedef struct {
    const odc_config_t *config;
    odc_outbox_t *notify; /* the notify queue */
} odc_notify_args_t;

void odc_notify_actor (zsock_t *pipe, void *args);

/*  How a delivery ended. */
typedef enum { ODC_NOTIFY_DONE = 0, ODC_NOTIFY_LATER, ODC_NOTIFY_REFUSED } odc_notify_result_t;

/*  The e-mail of a notice (headers and body, CRLF line ends) into a
    malloc'd string; for tests and the actor. now_s: the Date header's
    time. */
char *odc_notify_email_text (const odc_config_t *c, const Odc__Notice *n, time_t now_s);

/*  The JSON object an exec destination gets. */
char *odc_notify_json (const Odc__Notice *n);

#endif
