#!/usr/bin/env bash
# test_notify.sh OPENDCA SIM: alert routing to e-mail and to a program
# (issue 17), against a real SMTP server (tests/smtp_server.py: Debian's
# aiosmtpd, STARTTLS required, one recipient refused for good) and the
# simulator's truth.
#
# A small fleet at 60x; the test injects jams and open doors (the
# simulator adds its own), and the rules send jams and doors to "desk"
# (two recipients, one refused), to "limited" (at most one a device and
# category an hour) and, for the first device only, to the program
# "tickets" (the event as JSON on its standard input; it asks to be tried
# again the first time: exit 75). Midway the mail server goes away for a
# while, and the collector is stopped and started again while mail waits.
#   - every jam and door of the truth is one "raised" mail to desk with
#     the device, its address, category, code, text and since when, and
#     one "cleared" mail in its thread (In-Reply-To the raised one's
#     Message-ID); every mail went over TLS, logged in; 0 missed, 0 spurious;
#   - the refused recipient is logged as refused and holds up no other;
#   - "limited" gets one raised per device and category an hour at most,
#     the rest are logged as held back;
#   - "tickets" gets the first device's events as JSON, each once, after
#     its first "try again";
#   - mail that could not be sent while the server was away (and across
#     the restart) arrives once it is back.
set -u
opendca=$1
sim=$2
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup notify
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "FAIL: python3-aiosmtpd is not installed (scripts/install-deps installs it)"
    exit 1
fi
odc_ports 31 2 || exit 1
smtpport=$port_base
simport=$((port_base + 1))
n=4
speed=60
net=127.59.0
first=$net.1

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$tmp/smtp.key" -out "$tmp/smtp.crt" 2>/dev/null || exit 1

smtp_start() {
    /usr/bin/python3 "$src/tests/smtp_server.py" $smtpport "$tmp/smtp.crt" "$tmp/smtp.key" \
        "$tmp/mail.jsonl" opendca:'s3cret pass' >"$tmp/smtp.log" 2>&1 &
    smtppid=$!
    pids+=($smtppid)
    for _ in $(seq 100); do grep -q listening "$tmp/smtp.log" && return 0; sleep 0.1; done
    echo "the SMTP server did not start:" >&2
    cat "$tmp/smtp.log" >&2
    exit 1
}

printf 's3cret pass\n' >"$tmp/smtp.secret"
chmod 600 "$tmp/smtp.secret"

cat >"$tmp/ticket.sh" <<EOF
#!/bin/sh
# The first call asks to be tried again later (EX_TEMPFAIL).
if [ ! -e "$tmp/ticket.once" ]; then touch "$tmp/ticket.once"; echo "busy, later"; exit 75; fi
cat >>"$tmp/tickets.jsonl"
EOF
chmod +x "$tmp/ticket.sh"

epoch=$(date +%s)
export TZ=UTC
"$sim" --devices $n --first $first --port $simport --speed $speed --epoch "$epoch" \
    --sleepers 0 --truth "$tmp/truth.jsonl" --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
simpid=$!
pids+=($simpid)
for _ in $(seq 200); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done
inject() { "$sim" ctl --control "$tmp/sim.sock" inject "$@" >/dev/null; }

cfg=$tmp/c.yaml
cat >"$cfg" <<EOF
collector:
  id: notify-test
store:
  path: $tmp/state
  sync: false
clock:
  speed: $speed
  epoch: $epoch
snmp:
  timeout_ms: 1500
  retries: 1
loops:
  alert: {in_hours: 1, out_of_hours: 1}
  identity: {in_hours: 4, out_of_hours: 4}
$(for l in meter supply tray; do echo "  $l: {in_hours: 10080, out_of_hours: 10080}"; done)
triage:
  repeat_window_minutes: 2
  email:
    server: 127.0.0.1
    port: $smtpport
    from: opendca@collector.example
    user: opendca
    password_file: $tmp/smtp.secret
    ca_file: $tmp/smtp.crt
    timeout_seconds: 10
  destinations:
    - name: desk
      type: email
      to: [desk@example.com, refused@example.com]
    - name: limited
      type: email
      to: [limited@example.com]
      every_minutes: 60
    - name: tickets
      type: exec
      command: $tmp/ticket.sh
  rules:
    - name: jams and doors to the desk
      categories: [jam, cover]
      to: [desk, limited]
    - name: the first device's tickets
      addresses: [$first]
      codes: [jam, door_open]
      to: [tickets]
devices:
$(for i in $(seq 1 $n); do printf '  - address: %s.%d\n    port: %d\n' $net $i $simport; done)
EOF
check "opendca config check takes the routing" "$opendca" config check "$cfg"

smtp_start
"$opendca" run -c "$cfg" 2>"$tmp/run.log" &
run=$!
pids+=($run)

# Real seconds; at 60x each is a simulated minute (a jam clears itself
# after 10, a door after 5; the repeat window is 2).
sleep 6
inject $net.1 jam
inject $net.2 door
sleep 14
inject $net.3 jam
inject $net.1 door
sleep 8
# The mail server goes away; what is raised now waits.
kill -TERM $smtppid
wait $smtppid 2>/dev/null
inject $net.1 jam
inject $net.4 door
sleep 12
check "mail that cannot be sent is said to wait" grep -q "not delivered, tried again" "$tmp/run.log"
# The collector stops and starts again with mail waiting.
kill -TERM $run
wait $run
rc=$?
check "the collector stopped cleanly with mail waiting (exit $rc)" [ $rc -eq 0 ]
"$opendca" run -c "$cfg" 2>>"$tmp/run.log" &
run=$!
pids+=($run)
sleep 6
smtp_start
inject $net.2 jam
sleep 16
inject $net.1 jam
# Until every event is told (a jam clears after 10 simulated minutes, its
# "cleared" after the 2 of the window) and delivered (a destination waits
# at most 5 min after a failure; back in 5 s, 10 s ...).
sleep 16
for _ in $(seq 60); do
    /usr/bin/python3 "$src/tests/notify_check.py" --quiet "$tmp/truth.jsonl" "$tmp/mail.jsonl" \
        "$tmp/tickets.jsonl" "$tmp/run.log" $first $speed 2>/dev/null && break
    sleep 1
done
kill -TERM $run
wait $run
rc=$?
check "the collector stopped cleanly (exit $rc)" [ $rc -eq 0 ]
kill -TERM $simpid
wait $simpid 2>/dev/null
grep -E "notify: .* sent,|triage: .* alert readings" "$tmp/run.log" | sed 's/^.*device=- /  /'
check "the mails and tickets agree with the truth" \
    /usr/bin/python3 "$src/tests/notify_check.py" "$tmp/truth.jsonl" "$tmp/mail.jsonl" \
    "$tmp/tickets.jsonl" "$tmp/run.log" $first $speed
odc_test_end
