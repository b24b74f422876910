#!/usr/bin/env bash
# test_portal_faults.sh OPENDCA PORTAL SIM: the upload faults of issue 14,
# against a real Prosody on loopback (scripts/prosody), the reference portal
# receiver and the simulator.
#   - forged acknowledgements: an untrusted account answers 'result' for the
#     collector's batch ids while the portal is logged out; the records stay
#     in the outbox and reach the portal later (fault 2);
#   - a portal that hangs (SIGSTOP) with batches in flight, is killed and
#     started again, and one that logs out for 20 s, while urgent and bulk
#     records pile up: the outbox drains within 60 s of its return, on the
#     same XMPP connection (fault 1);
#   - a device imported with a 5 MB location (and one just over the text
#     bound), and a record too big for one stanza put in the outbox by hand:
#     the big record is refused with its reason, the others arrive (fault 4);
#     a reading the XML writer cannot write is refused, not lost; the exports
#     stay valid UTF-8; discovery stops at limits.max_devices (fault 7).
set -u
opendca=$1
portal=$2
sim=$3
enqueue=${4:-}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup faults
odc_ports 16 3 || exit 1
base=$port_base
xport=$base
simport=$((base + 1))
odc_test_xmpp $xport portal:pw collector:pw stranger:pw
xopts+=(--password pw)

n=40
"$sim" --devices $((n + 6)) --first 127.56.0.1 --port $simport --offline 0 --latency 1-5 --loss 0 \
    --sleepers 0 --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done

cfg=$tmp/c.yaml
{
    printf 'collector:\n  id: faults-test\nstore:\n  path: %s\n  sync: false\n' "$tmp/state"
    printf 'clock:\n  speed: 60\nsnmp:\n  timeout_ms: 1500\n  retries: 1\n'
    printf 'loops:\n'
    for l in alert identity meter supply tray; do printf '  %s: {in_hours: 3, out_of_hours: 3}\n' $l; done
    printf 'working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: [mon, tue, wed, thu, fri, sat, sun]\n'
    printf 'portal:\n  jid: collector@localhost\n  password: pw\n  portal_jid: portal@localhost\n'
    printf '  host: 127.0.0.1\n  ports: [%d]\n  ca_file: %s\n  trusted: [portal@localhost]\n' $xport "$ca"
    printf 'discovery:\n  every_hours: 0\n  port: %d\n  rate: 2000\n  timeout_ms: 400\n' $simport
    printf 'limits:\n  max_devices: 44\n'
    printf 'devices:\n'
    for i in $(seq 1 $n); do printf '  - address: 127.56.0.%d\n    port: %d\n' "$i" $simport; done
} >"$cfg"

log=$tmp/run.log
"$opendca" run -c "$cfg" 2>>"$log" &
run=$!
pids+=($run)
for _ in $(seq 100); do grep -q "running;" "$log" && break; sleep 0.05; done

start_portal() {
    "$portal" run --store "$tmp/portal" --jid portal@localhost "${xopts[@]}" 2>>"$tmp/portal.log" &
    portal_pid=$!
    pids+=($portal_pid)
    for _ in $(seq 100); do [ "$(grep -c "receiving as" "$tmp/portal.log")" -gt "${1:-0}" ] && break; sleep 0.1; done
}
outbox_count() { "$opendca" imil status -c "$cfg" | sed -n 's/^outbox: \([0-9]*\) records.*/\1/p'; }
wait_drained() { # until the outbox is empty, at most $1 s
    for _ in $(seq $(($1 * 4))); do [ "$(outbox_count)" = 0 ] && return 0; sleep 0.25; done
    return 1
}
connections() { grep -c "connected to the portal's server as" "$log"; }
jam_some() { # jam_some ROUND: jams and clears on a few devices (urgent alert records)
    for i in 1 2 3 4 5 6; do
        "$sim" ctl --control "$tmp/sim.sock" inject 127.56.0.$(( ($1 * 6 + i) % n + 1 )) \
            "$( [ $(( $1 % 2 )) = 0 ] && echo jam || echo clear)" >/dev/null 2>&1
    done
}
# pile_up SECONDS: urgent (alerts) and bulk (meters on command) records
pile_up() {
    local end=$((SECONDS + $1)) round=0
    while [ $SECONDS -lt $end ]; do
        jam_some $round
        [ $((round % 3)) = 0 ] && "$opendca" imil "get latest counts" -c "$cfg" >/dev/null
        round=$((round + 1))
        sleep 1
    done
}
# at_portal BEFORE.jsonl: every reading of BEFORE (opendca outbox) is at the portal
at_portal() {
    "$portal" export --store "$tmp/portal" --format jsonl >"$tmp/export.jsonl" 2>/dev/null
    python3 - "$1" "$tmp/export.jsonl" <<'PY'
import json, sys
before = [json.loads(l) for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
key = lambda r: (r["kind"], json.dumps(r["reading"], sort_keys=True))
got = {key(r) for r in after}
missing = [r for r in before if key(r) not in got]
print(f"  {len(before)} readings were in the outbox, {len(missing)} of them not at the portal")
sys.exit(1 if missing or not before else 0)
PY
}

# --- Fault 2: forged acknowledgements ------------------------------------------
# The portal is logged out: the batches are refused by the server and wait.
for _ in $(seq 150); do
    grep -q "not taken by portal@localhost/receiver" "$log" && [ "$(outbox_count)" -ge 4 ] && break
    sleep 0.2
done
instance=$(grep -o "batch [0-9a-f]\{16\}-" "$log" | head -1 | sed 's/batch \(.*\)-/\1/')
check "the collector's instance id is in its log ($instance)" [ -n "$instance" ]
"$opendca" outbox -c "$cfg" >"$tmp/forged-before.jsonl" 2>/dev/null
python3 - "$tmp/forged-before.jsonl" "$instance" >"$tmp/forged.xml" <<'PY'
import json, sys
ids = sorted({json.loads(l)["batch"] for l in open(sys.argv[1])})
# every id waiting, and the next hundred of each class the collector may use
top = max(int(b.split("-")[1]) for b in ids) if ids else 0
ids += [f"{c}-{s}" for c in range(3) for s in range(1, top + 100)]
print("".join(f"<iq type='result' id='{sys.argv[2]}-{b}' to='collector@localhost/opendca'/>" +
              f"<iq type='error' id='{sys.argv[2]}-{b}' to='collector@localhost/opendca'>" +
              "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
              for b in sorted(set(ids))))
PY
held=$(wc -l <"$tmp/forged-before.jsonl")
"$portal" raw --jid stranger@localhost "${xopts[@]}" --timeout 3 "$tmp/forged.xml" >/dev/null 2>&1
sleep 1
"$opendca" outbox -c "$cfg" >"$tmp/forged-after.jsonl" 2>/dev/null
check "forged acks from an untrusted account delete nothing ($held readings before)" python3 - \
    "$tmp/forged-before.jsonl" "$tmp/forged-after.jsonl" <<'PY'
import json, sys
before = {l for l in open(sys.argv[1])}
after = {l for l in open(sys.argv[2])}
gone = before - after
print(f"  {len(before)} readings in the outbox before the forged acks, {len(gone)} of them gone after")
sys.exit(1 if gone or not before else 0)
PY
check "the forged answers are logged as such" grep -q "not from the portal.*stranger@localhost" "$log"
"$opendca" imil status -c "$cfg" >"$tmp/forged-status.txt"
check "and counted in status" grep -q "forged answers: [1-9]" "$tmp/forged-status.txt"
start_portal 0
check "the portal back, the outbox drains" wait_drained 60
check "and the readings the forger tried to delete are at the portal" at_portal "$tmp/forged-before.jsonl"

# --- Fault 1: the portal hangs with batches in flight, then is killed -------------
links=$(connections)
kill -STOP $portal_pid
pile_up 22
check "a batch the hung portal does not answer goes again after its deadline" \
    grep -q "not answered in 20 s: sent again" "$log"
"$opendca" outbox -c "$cfg" >"$tmp/hung.jsonl" 2>/dev/null
held=$(outbox_count)
check "with the portal hung, records pile up ($held)" [ "${held:-0}" -gt 0 ]
kill -9 $portal_pid
wait $portal_pid 2>/dev/null
start_portal 1
t0=$SECONDS
check "the portal killed and started again, the outbox drains within 60 s" wait_drained 60
echo "  drained in $((SECONDS - t0)) s"
check "on the same XMPP connection" [ "$(connections)" = "$links" ]
check "and what piled up is at the portal" at_portal "$tmp/hung.jsonl"

# --- Fault 1: the portal logged out for 20 s -------------------------------------------
kill -TERM $portal_pid
wait $portal_pid
pile_up 20
"$opendca" outbox -c "$cfg" >"$tmp/away.jsonl" 2>/dev/null
held=$(outbox_count)
check "with the portal logged out, records pile up ($held)" [ "${held:-0}" -gt 0 ]
start_portal 2
t0=$SECONDS
check "the portal back, the outbox drains within 60 s" wait_drained 60
echo "  drained in $((SECONDS - t0)) s"
check "on the same XMPP connection" [ "$(connections)" = "$links" ]
check "and what piled up is at the portal" at_portal "$tmp/away.jsonl"

# --- Fault 4: an oversized field; a record no stanza can carry ---------------------
python3 - "$tmp/big.csv" $simport $n <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("address,port,asset_number,location\n")
    f.write(f"127.56.0.{int(sys.argv[3]) + 1},{sys.argv[2]},BIG-1,{'L' * 5000000}\n")
    f.write(f"127.56.0.{int(sys.argv[3]) + 2},{sys.argv[2]},BIG-2,{'é' * 150}\n")
PY
"$opendca" import devices "$tmp/big.csv" -c "$cfg" >"$tmp/import.out" 2>&1
check "a device with a 5 MB location is imported" grep -q "2 devices imported" "$tmp/import.out"
check "its location cut to the text bound, and said" grep -q "location of 5000000 bytes is cut to 255" "$log"
check "a location of 300 bytes cut at a character boundary (254 bytes)" \
    grep -q "location of 300 bytes is cut to 254" "$log"
for _ in $(seq 100); do
    "$opendca" latest 127.56.0.$((n + 1)):$simport --loop identity -c "$cfg" >/dev/null 2>&1 && break
    sleep 0.2
done
# new_event_at_portal: the imported device's 'new' event is at the portal, its
# location bounded
new_event_at_portal() {
    "$portal" export --store "$tmp/portal" --format jsonl >"$tmp/export.jsonl" 2>/dev/null
    python3 - "$tmp/export.jsonl" "127.56.0.$((n + 1)):$simport" "$1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in ev if r["kind"] == "event" and r["reading"].get("device_id") == sys.argv[2]]
loc = [len(r["reading"].get("location", "")) for r in ev]
if sys.argv[3] == "say":
    print(f"  events of {sys.argv[2]} at the portal: {len(ev)}, location lengths {loc}")
sys.exit(0 if ev and all(0 < l <= 255 for l in loc) else 1)
PY
}
for _ in $(seq 60); do new_event_at_portal quiet && break; sleep 1; done
check "the imported device's 'new' event reaches the portal, its location bounded" new_event_at_portal say
check "and the outbox drains" wait_drained 60
check "on the same XMPP connection (no stanza too big for the server)" [ "$(connections)" = "$links" ]

# --- limits.max_devices: 44, and 42 are known; discovery finds 4 more -------------
"$opendca" imil "discover 127.56.0.$((n + 3))-127.56.0.$((n + 6))" -c "$cfg" >"$tmp/discover.txt" 2>&1
for _ in $(seq 50); do grep -q "printer found by discovery not added" "$log" && break; sleep 0.2; done
check "discovery past limits.max_devices: refused with the count" \
    grep -q "printer found by discovery not added: the collector has 44 devices, limits.max_devices is 44" "$log"
for _ in $(seq 50); do # the new devices are written with their events' record
    "$opendca" devices -c "$cfg" >"$tmp/devices.txt" 2>/dev/null
    [ "$(grep -c "^127.56" "$tmp/devices.txt")" -ge 44 ] && break
    sleep 0.2
done
check "and the device list holds 44 ($(grep -c "^127.56" "$tmp/devices.txt"))" [ "$(grep -c "^127.56" "$tmp/devices.txt")" = 44 ]

kill -TERM $run
wait $run
rc=$?
check "the collector stops cleanly (exit $rc)" [ $rc -eq 0 ]
if [ -n "$enqueue" ]; then
    "$enqueue" "$tmp/state" >"$tmp/enqueue.out"
    check "a record no stanza can carry is put in the outbox by hand" grep -q "enqueued 2-" "$tmp/enqueue.out"
    "$opendca" run -c "$cfg" 2>>"$log" &
    run=$!
    pids+=($run)
    for _ in $(seq 100); do [ "$(grep -c "running;" "$log")" -ge 2 ] && break; sleep 0.05; done
    "$opendca" imil "get latest counts" -c "$cfg" >/dev/null
    check "the outbox drains all the same" wait_drained 60
    check "the record is split, so the other readings go" grep -q "more than one stanza carries.*split into records" "$log"
    check "the oversized reading is refused with its reason" \
        grep -q "(1 meters reading) refused: .* on the wire: more than one stanza carries" "$log"
    check "a reading the XML writer cannot write is refused with its reason, not dropped" \
        grep -q "(1 meters reading) refused: reading 1 of 1 (no reading) cannot be written as XML" "$log"
    "$opendca" imil status -c "$cfg" >"$tmp/refused-status.txt"
    check "status counts the refused readings" grep -q "readings refused: 2" "$tmp/refused-status.txt"
    "$portal" export --store "$tmp/portal" --format jsonl >"$tmp/export.jsonl" 2>/dev/null
    check "the portal has the record's three good readings, and not the bad ones" python3 - "$tmp/export.jsonl" <<'PY'
import json, sys
got = {json.loads(l)["reading"].get("header", {}).get("device_id") for l in open(sys.argv[1])}
good = {"enq-2", "enq-3", "enq-4"}
print(f"  at the portal: {sorted(d for d in got if d and d.startswith('enq'))}")
sys.exit(0 if good <= got and "enq-1" not in got else 1)
PY
    "$portal" export --store "$tmp/portal" --format csv >"$tmp/export.csv" 2>/dev/null
    check "the portal's exports are valid UTF-8 though the readings held invalid UTF-8" python3 -c '
import json, sys
for name in sys.argv[1:]:
    text = open(name, "rb").read().decode("utf-8")  # strict: raises on invalid UTF-8
    if name.endswith(".jsonl"):
        units = [c.get("unit") for l in text.splitlines() for c in json.loads(l)["reading"].get("counters", [])
                 if json.loads(l)["reading"].get("header", {}).get("device_id", "").startswith("enq-")]
        print(f"  units of the hand-made readings at the portal: {units[:1]}")
        sys.exit(0 if units and all("\ufffd" in u for u in units) else 1)
' "$tmp/export.csv" "$tmp/export.jsonl"
    "$opendca" outbox -c "$cfg" 2>/dev/null | grep -c '"enq-' >"$tmp/enq-left" || true
    check "and none of them is left in the outbox" [ "$(cat "$tmp/enq-left")" = 0 ]
    kill -TERM $run
    wait $run
    rc=$?
    check "the collector stops cleanly (exit $rc)" [ $rc -eq 0 ]
fi
kill -TERM $portal_pid
wait $portal_pid
odc_test_end
