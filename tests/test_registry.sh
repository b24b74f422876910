#!/usr/bin/env bash
# test_registry.sh OPENDCA SIM: the registry and discovery of "opendca run"
# against a simulated fleet that changes: devices moved to other addresses,
# replaced (another serial at the same address), their counters reset, taken
# away for an hour to three days and brought back (30 % of the devices a
# day). Both clocks run 2,880 times fast: two simulated days in a minute
# (ODC_REGISTRY_SPEED and ODC_REGISTRY_DAYS change that: the sanitizer builds
# run slower). Every change the simulator made (its truth file) that the
# registry can see (a device moved while away is seen once it answers) must
# be reported once, with the right type, device and addresses; nothing else
# may be (tests/registry_check.py).
#
# Also: "opendca devices" lists the devices where they are now; "opendca
# import devices" names bad lines and takes the good ones; discovery finds
# devices no list names; IMIL "show devices" and "discover RANGE".
set -u
opendca=$1
sim=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
odc_test_setup registry
# The suite's port band (tests/lib.sh).
odc_ports 20 1 || exit 1
port=$port_base
n=${ODC_REGISTRY_DEVICES:-60}
speed=${ODC_REGISTRY_SPEED:-2880}
days=${ODC_REGISTRY_DAYS:-2}
seconds=$(( days * 86400 / speed ))

"$sim" --devices $n --first 127.58.0.1 --port $port --speed $speed --changes 30 --seed 7 \
    --sleepers 0 --truth "$tmp/truth.jsonl" --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done

# The fleet and the spare addresses the simulator moves devices to: one range.
spare=$(( n + n / 10 + 16 ))
{
    printf 'collector:\n  id: registry-test\nstore:\n  path: %s\n  sync: false\n' "$tmp/state"
    printf 'clock:\n  speed: %d\n' $speed
    printf 'snmp:\n  timeout_ms: 400\n  retries: 1\n  credentials:\n'
    printf '    - name: wrong\n      version: 2c\n      community: private\n'
    printf '    - name: v2\n      version: 2c\n      community: public\n'
    printf 'ranges:\n  - range: 127.58.0.1-127.58.%d.%d\n' $(( spare / 256 )) $(( spare % 256 ))
    printf 'discovery:\n  every_hours: 1\n  port: %d\n  rate: 2000\n  timeout_ms: 400\n' $port
    printf 'registry:\n  missing_after_hours: 6\n'
    printf 'working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: [mon, tue, wed, thu, fri, sat, sun]\n'
    printf 'devices:\n'
    # Two thirds of the fleet listed; discovery finds the rest.
    for i in $(seq 1 $(( n * 2 / 3 ))); do
        printf '  - address: 127.58.%d.%d\n    port: %d\n    credential: v2\n' $(( i / 256 )) $(( i % 256 )) $port
    done
} >"$tmp/c.yaml"

"$opendca" run -c "$tmp/c.yaml" 2>"$tmp/run.log" &
run=$!
pids+=($run)
for _ in $(seq 100); do grep -q "running;" "$tmp/run.log" && break; sleep 0.1; done
# ... and answers on its control socket (a loaded machine, a sanitizer build:
# the import below must find it running, not open its locked store).
for _ in $(seq 300); do "$opendca" imil status -c "$tmp/c.yaml" >/dev/null 2>&1 && break; sleep 0.2; done

# An import while it runs: a bad row named by its line, the good ones taken.
cat >"$tmp/import.csv" <<CSV
# address, asset number, location, credential
127.58.0.$(( n * 2 / 3 + 1 )):$port,A-100,"Floor 3, east",v2
127.58.0.$(( n * 2 / 3 + 2 )):99999,A-101,Floor 3,v2
127.58.0.$(( n * 2 / 3 + 3 )):$port,A-102,Floor 3,nosuch
not an address,A-103,,v2
CSV
"$opendca" import devices "$tmp/import.csv" -c "$tmp/c.yaml" >"$tmp/import.out" 2>"$tmp/import.err"
irc=$?
check "import: a bad port is named with its line" grep -q "import.csv:3: port '99999' is not a number" "$tmp/import.err"
check "import: an unknown credential is named" grep -q "import.csv:4: no credential 'nosuch'" "$tmp/import.err"
check "import: a bad address is named" grep -q "import.csv:5: 'not an address' is not an address" "$tmp/import.err"
check "import: the good row is taken by the running collector" grep -q "1 devices imported (1 new" "$tmp/import.out"
check "import: exit 1 when lines were refused" [ $irc -eq 1 ]

sleep $(( seconds / 2 ))
"$opendca" imil "show devices" -c "$tmp/c.yaml" >"$tmp/show.txt"
check "IMIL show devices lists the registry" grep -q "^ID .*ADDRESS .*STATE .*SERIAL" "$tmp/show.txt"
"$opendca" imil "discover 127.58.0.1-127.58.0.8" -c "$tmp/c.yaml" >"$tmp/discover.txt"
check "IMIL discover RANGE lists the printers it found" grep -q "^127.58.0.[1-8]:$port .* v2 *$" "$tmp/discover.txt"
check "and sums the sweep up" grep -q "swept 8 addresses" "$tmp/discover.txt"
"$opendca" imil "discover 10.0.0.0/8" -c "$tmp/c.yaml" >"$tmp/toobig.txt"
check "IMIL discover of a range too large for a command says so" grep -q "more than a command sweeps" "$tmp/toobig.txt"
sleep $(( seconds - seconds / 2 ))

kill -TERM $run
wait $run
rrc=$?
check "the collector stops cleanly (exit 0)" [ $rrc -eq 0 ]
"$opendca" devices -c "$tmp/c.yaml" --json >"$tmp/devices.jsonl"
"$opendca" devices -c "$tmp/c.yaml" >"$tmp/devices.txt"
check "opendca devices prints the table" grep -q "devices: .* watched" "$tmp/devices.txt"
check "every change is reported once, correctly typed, nothing spurious" \
    python3 "$here/registry_check.py" "$tmp/truth.jsonl" "$tmp/run.log" "$tmp/devices.jsonl" 6 $speed
# Triage makes alerts of them (issue 17): each move, replacement and MAC
# change one "change" alert of its device; each time missing one
# "unavailable", cleared once it is back (by the registry or, first, the
# alert loop's answer).
triage_alerts() {
    python3 - "$tmp/run.log" <<'PY'
import collections, re, sys
events, alerts = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    m = re.search(r"device=(\S+) device event (moved|replaced|mac_changed|missing|returned)", line)
    if m:
        events[(m.group(1), m.group(2))] += 1
    m = re.search(r"device=(\S+) alert (raised|cleared): (moved|replaced|mac_changed|unavailable) ", line)
    if m:
        alerts[(m.group(1), m.group(3), m.group(2))] += 1
bad = []
for (d, kind), k in events.items():
    if kind in ("moved", "replaced", "mac_changed") and alerts[(d, kind, "raised")] != k:
        bad.append(f"{d}: {k} {kind}, {alerts[(d, kind, 'raised')]} alerts")
devices = {d for d, _ in events} | {d for d, _, _ in alerts}
for d in devices:
    raised, cleared = alerts[(d, "unavailable", "raised")], alerts[(d, "unavailable", "cleared")]
    if raised != events[(d, "missing")] or not events[(d, "returned")] <= cleared <= raised:
        bad.append(f"{d}: missing {events[(d, 'missing')]}, returned {events[(d, 'returned')]}; "
                   f"unavailable raised {raised}, cleared {cleared}")
changes = sum(k for (d, kind), k in events.items() if kind in ("moved", "replaced", "mac_changed"))
print(f"  triage: {changes} changes, {sum(alerts[k] for k in alerts if k[2] == 'raised')} alerts "
      f"raised of them; {sum(events[k] for k in events if k[1] == 'missing')} missing; "
      f"{len(bad)} wrong")
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad or not changes else 0)
PY
}
check "triage: one alert for each change, unavailable while missing" triage_alerts
# The imported device keeps its asset number and location wherever it went;
# a device that replaced it keeps the location only (the asset number was
# the old device's).
import_kept() {
    python3 - "$tmp/truth.jsonl" "$tmp/devices.jsonl" "127.58.0.$(( n * 2 / 3 + 1 ))" <<'PY'
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
devices = [json.loads(l) for l in open(sys.argv[2])]
serial = next(t["serial"] for t in truth if t["event"] == "present" and t["device"] == sys.argv[3])
by_serial = {d.get("serial"): d for d in devices}
later = {t["old_serial"]: t["serial"] for t in truth if t["event"] == "replaced"}
want_asset = "A-100"
while serial not in by_serial and serial in later:
    serial, want_asset = later[serial], ""
d = by_serial.get(serial)
ok = d is not None and d.get("asset_number", "") == want_asset and d.get("location") == "Floor 3, east"
print(f"     imported at {sys.argv[3]}: {serial}: {d and (d.get('asset_number'), d.get('location'))}, "
      f"want ({want_asset!r}, 'Floor 3, east')")
sys.exit(0 if ok else 1)
PY
}
check "the import's asset number and location are kept (a replacement keeps the location)" import_kept
check "no errors in the collector's log" bash -c "! grep -E '^.{24} error ' '$tmp/run.log'"
odc_test_end
