#!/usr/bin/env bash
# test_exactly_once.sh OPENDCA PORTAL SIM [DEVICES [COLLECTOR_KILLS [PORTAL_KILLS
#                      [SERVER_RESTARTS [OUTAGES]]]]]:
# every reading the collector accepted reaches the portal exactly once, by
# (kind, device, read time), whatever happens to the collector, the portal
# and the XMPP server meanwhile. Against a real Prosody on loopback
# (scripts/prosody), the reference portal and the simulator (100 printers,
# their clock and the collector's 60 times fast):
#   - kill -9 of the collector while it uploads, each just after a jam
#     raised in a device reached its stored alert reading (each restart also
#     asks for the latest counts, whose readings it may have sent before);
#   - kill -9 of the portal while batches are in flight;
#   - the XMPP server restarted;
#   - the portal away for ~20 s, meanwhile forged acks (<iq type='result'/>
#     with the ids of records waiting, from another account) and a forged
#     command: the outbox drains within a minute of the portal's return;
#   - at the end: every record the collector logged as enqueued is at the
#     portal, every latest reading it had to send is there, nothing twice
#     (tests/once_check.py prints accepted, delivered once, lost, duplicated).
# bench/bench_exactly_once.sh runs the same with the full counts.
set -u
opendca=$1
portal=$2
sim=$3
n=${4:-100}
collector_kills=${5:-5}
portal_kills=${6:-1}
server_restarts=${7:-1}
outages=${8-20}  # seconds of each portal outage, space separated
# The simulator's and the collector's clock (ODC_ONCE_SPEED times fast); the
# loops' intervals follow it, so that a pass comes every 3 s whatever it is.
speed=${ODC_ONCE_SPEED:-60}
interval=$(( speed / 20 > 0 ? speed / 20 : 1 ))
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup once
odc_ports 19 4 || exit 1
base=$port_base
xport=$base
simport=$((base + 1))
say() { echo "[$(date +%T)] $*"; }

odc_test_xmpp $xport portal:pw collector:pw mallory:pw

"$sim" --devices $n --first 127.58.0.1 --port $simport --speed $speed --offline 0 --latency 1-20 \
    --loss 0 --sleepers 0 --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
sim_pid=$!
pids+=($sim_pid)
for _ in $(seq 100); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done

cfg=$tmp/c.yaml
{
    printf 'collector:\n  id: once-test\nlog:\n  level: debug\nstore:\n  path: %s\n  sync: false\n' "$tmp/state"
    printf 'clock:\n  speed: %d\nsnmp:\n  timeout_ms: 1000\n  retries: 1\n' $speed
    printf 'loops:\n'
    for l in alert identity meter supply tray; do
        printf '  %s: {in_hours: %d, out_of_hours: %d}\n' $l $interval $interval
    done
    printf 'working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: [mon, tue, wed, thu, fri, sat, sun]\n'
    printf 'portal:\n  jid: collector@localhost\n  password: pw\n  portal_jid: portal@localhost\n'
    printf '  host: 127.0.0.1\n  ports: [%d]\n  ca_file: %s\n  trusted: [portal@localhost]\n' $xport "$ca"
    printf 'devices:\n'
    for i in $(seq 1 $n); do
        printf '  - address: 127.58.%d.%d\n    port: %d\n' $((i / 256)) $((i % 256)) $simport
    done
} >"$cfg"
log=$tmp/run.log
: >"$log"

start_collector() {
    "$opendca" run -c "$cfg" 2>>"$log" &
    run=$!
    pids+=($run)
    for _ in $(seq 100); do [ "$(grep -c "running;" "$log")" -ge "$1" ] && break; sleep 0.05; done
}
starts=0
restart_collector() { starts=$((starts + 1)); start_collector $starts; }
start_portal() {
    "$portal" run --store "$tmp/portal" --jid portal@localhost --password pw "${xopts[@]}" \
        2>>"$tmp/portal.log" &
    portal_pid=$!
    pids+=($portal_pid)
    for _ in $(seq 100); do
        [ "$(grep -c "receiving as" "$tmp/portal.log")" -ge "$1" ] && break
        sleep 0.1
    done
}
portal_starts=0
restart_portal() { portal_starts=$((portal_starts + 1)); start_portal $portal_starts; }
outbox_count() { "$opendca" imil status -c "$cfg" 2>/dev/null | sed -n 's/^outbox: \([0-9]*\) records.*/\1/p'; }
wait_drained() { # until the outbox is empty, at most $1 s; prints the seconds it took
    local t0=$SECONDS
    for _ in $(seq $(($1 * 4))); do
        [ "$(outbox_count)" = 0 ] && { echo $((SECONDS - t0)); return 0; }
        sleep 0.25
    done
    echo "over $1"
    return 1
}
rnd() { python3 -c "import random; print(round(random.uniform($1, $2), 2))"; }
snapshot() { # snapshot ADDRESS TAG: the device's latest readings now, for the count
    for l in alert identity supply tray; do
        "$opendca" latest "$1:$simport" --loop $l -c "$cfg" --json >"$tmp/latest/$1:${simport}_$l.$2.json" 2>/dev/null
    done
}
mkdir -p "$tmp/latest"
restart_portal
restart_collector
for _ in $(seq 150); do grep -q "tray readings" "$log" && break; sleep 0.2; done
say "collector up, uploading"

# --- kill -9 of the collector while it uploads ------------------------------------
# Each kill comes as soon as a jam raised in a device is in its stored alert
# reading: the uploader gathers alerts for up to a second before they are
# put in the outbox, so some of them are stored and not yet in the outbox.
for i in $(seq "$collector_kills"); do
    sleep "$(rnd 0.3 2.0)"
    d=$(( (i * 37) % n + 1 ))
    target=127.58.$((d / 256)).$((d % 256))
    "$sim" ctl --control "$tmp/sim.sock" inject $target jam >/dev/null 2>&1
    for _ in $(seq 60); do
        "$opendca" latest $target:$simport --loop alert -c "$cfg" --json 2>/dev/null | grep -q '"code": 8' && break
        sleep 0.1
    done
    kill -9 $run
    wait $run 2>/dev/null
    snapshot $target "kill$i"
    restart_collector
    # The latest counts again: readings sent before the kill must not go twice.
    "$opendca" imil "get latest counts" -c "$cfg" >/dev/null 2>&1
done
say "$collector_kills kill -9 of the collector done"

# --- kill -9 of the portal with batches in flight -----------------------------------
for i in $(seq "$portal_kills"); do
    # The latest counts asked: a batch of meters goes; the kill comes
    # while it is on its way or being stored.
    sent=$(grep -c "device=- sent [0-9a-f]" "$log")
    "$opendca" imil "get latest counts" -c "$cfg" >/dev/null 2>&1
    for _ in $(seq 100); do
        [ "$(grep -c "device=- sent [0-9a-f]" "$log")" -gt "$sent" ] && break
        sleep 0.02
    done
    sleep "$(rnd 0 0.2)"
    kill -9 $portal_pid
    wait $portal_pid 2>/dev/null
    sleep "$(rnd 0.2 2.0)"
    restart_portal
done
say "$portal_kills kill -9 of the portal done"

# --- the XMPP server restarted ---------------------------------------------------
for i in $(seq "$server_restarts"); do
    sleep "$(rnd 1 4)"
    stop_xmpp
    sleep "$(rnd 0.5 3)"
    "$src/scripts/prosody" start "$xmpp" $xport || exit 1
done
say "$server_restarts restarts of the XMPP server done"

# --- the portal away, forged acks and a forged command meanwhile -------------------
drains=()
forged_total=0
for away in $outages; do
    kill -TERM $portal_pid
    wait $portal_pid 2>/dev/null
    sleep "$(python3 -c "print($away / 2)")"
    # Mallory, another account of the same server, acks every record that
    # waits (the ids of the batches the collector sent and had refused, and
    # of the records still in its outbox), and sends a command.
    instance=$(grep -o "sent [0-9a-f]\{16\}-" "$log" | tail -1 | sed 's/sent \(.*\)-/\1/')
    {
        grep -o "sent [0-9a-f]\{16\}-[0-9]*-[0-9]*" "$log" | sed 's/^sent //'
        "$opendca" outbox -c "$cfg" 2>/dev/null | sed -n "s/^{\"batch\": \"\([0-9]*-[0-9]*\)\".*/$instance-\1/p"
    } | sort -u >"$tmp/forge.ids"
    forged=$(wc -l <"$tmp/forge.ids")
    forged_total=$((forged_total + forged))
    sed "s|.*|<iq type='result' id='&' from='portal@localhost/receiver' to='collector@localhost/opendca'/>|" \
        "$tmp/forge.ids" >"$tmp/forge.xml"
    "$portal" raw --jid mallory@localhost --password pw "${xopts[@]}" --timeout 2 "$tmp/forge.xml" \
        >/dev/null 2>&1
    "$portal" send --jid mallory@localhost --password pw "${xopts[@]}" --timeout 2 \
        collector@localhost "get latest counts" >/dev/null 2>&1
    sleep "$(python3 -c "print($away / 2)")"
    restart_portal
    took=$(wait_drained 60)
    drains+=("$took")
    say "portal away ${away} s ($forged acks forged meanwhile): the outbox drained in $took s"
done
check "the outbox drains within a minute of the portal's return (${drains[*]} s)" \
    bash -c "! echo '${drains[*]}' | grep -q over"
check "the forged command is ignored and logged" grep -q "ignored a command from mallory@localhost" "$log"

# --- the end: the fleet quiet, the last counts asked, everything delivered -----------
kill -TERM $sim_pid
wait $sim_pid 2>/dev/null
sleep 4
"$opendca" imil "get latest counts" -c "$cfg" >/dev/null 2>&1
took=$(wait_drained 60)
check "the outbox drains at the end ($took s)" [ "$took" != "over 60" ]
kill -TERM $run
wait $run
rc=$?
check "the collector stops cleanly (exit $rc)" [ $rc -eq 0 ]
"$portal" export --store "$tmp/portal" --format jsonl >"$tmp/portal.jsonl" 2>/dev/null
"$opendca" outbox -c "$cfg" >"$tmp/left.jsonl" 2>/dev/null
for i in $(seq 1 $n); do
    for l in alert identity meter supply tray; do echo "127.58.$((i / 256)).$((i % 256)):$simport $l"; done
done | xargs -P 2 -n 2 sh -c 'exec "$0" latest "$3" --loop "$4" -c "$1" --json >"$2/$3_$4.json" 2>/dev/null' \
    "$opendca" "$cfg" "$tmp/latest"
say "counting at the portal by (kind, device, read time)"
echo "  collector: $starts starts ($collector_kills kill -9), portal: $portal_kills kill -9, XMPP server:" \
    "$server_restarts restarts, outages: $outages s, forged acks: $forged_total"
check "every reading the collector accepted is at the portal exactly once" \
    python3 "$src/tests/once_check.py" "$log" "$tmp/portal.jsonl" "$tmp/left.jsonl" "$tmp/latest"
kill -TERM $portal_pid
wait $portal_pid
odc_test_end
