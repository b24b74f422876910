#!/usr/bin/env bash
# test_portal.sh OPENDCA PORTAL SIM: store-and-forward to the portal over
# XMPP, against a real Prosody on loopback (scripts/prosody), the reference
# portal receiver and the simulator.
#   - the portal logged out: records wait in the outbox; once it is back,
#     every reading the collector had put there arrives, equal to what the
#     collector stored, of every kind;
#   - the XMPP server stopped and started again: the outbox grows, then
#     drains, nothing lost;
#   - kill -9 of the collector 20 times while it uploads: every record the
#     collector logged as enqueued is at the portal exactly once;
#   - commands: trusted over XMPP and local answered; an untrusted JID is
#     ignored and logged;
#   - hostile stanzas to the portal and to the collector are refused and
#     neither stops working;
#   - a server certificate from another CA: no connection, a clear log line;
#   - the bridge keeps working while the SNMP loops hold thousands of
#     sockets (past select()'s 1024).
set -u
opendca=$1
portal=$2
sim=$3
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup portal
odc_ports 15 5 || exit 1
base=$port_base
xport=$base          # Prosody
dead=$((base + 1))   # nothing listens: the bridge falls back from it
simport=$((base + 2))
bigport=$((base + 3))
odc_test_xmpp $xport portal:pw collector:pw stranger:pw
xopts+=(--password pw)

n=60
"$sim" --devices $((n + 4)) --first 127.53.0.1 --port $simport --offline 10 --latency 5-50 --loss 0 \
    --sleepers 0 --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done

write_config() { # write_config FILE STORE CA [NET N PORT [WINDOW]]: devices NET.0.1 on
    local net=${4:-127.53} count=${5:-$n} port=${6:-$simport} window=${7:-64}
    {
        printf 'collector:\n  id: portal-test\nstore:\n  path: %s\n  sync: false\n' "$2"
        printf 'clock:\n  speed: 60\nsnmp:\n  timeout_ms: 1500\n  retries: 1\n  window_max: %d\n' "$window"
        printf 'loops:\n'
        for l in alert identity meter supply tray; do printf '  %s: {in_hours: 3, out_of_hours: 3}\n' $l; done
        printf 'working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: [mon, tue, wed, thu, fri, sat, sun]\n'
        printf 'portal:\n  jid: collector@localhost\n  password: pw\n  portal_jid: portal@localhost\n'
        printf '  host: 127.0.0.1\n  ports: [%d, %d]\n  ca_file: %s\n  trusted: [portal@localhost]\n' $dead $xport "$3"
        printf 'devices:\n'
        for i in $(seq 1 $count); do
            printf '  - address: %s.%d.%d\n    port: %d\n' $net $((i / 256)) $((i % 256)) $port
        done
    } >"$1"
}
cfg=$tmp/c.yaml
write_config "$cfg" "$tmp/state" "$ca"

start_collector() { # start_collector CONFIG LOG
    "$opendca" run -c "$1" 2>>"$2" &
    run=$!
    pids+=($run)
    for _ in $(seq 100); do grep -q "running;" "$2" && break; sleep 0.05; done
}
start_portal() {
    "$portal" run --store "$tmp/portal" --jid portal@localhost "${xopts[@]}" 2>>"$tmp/portal.log" &
    portal_pid=$!
    pids+=($portal_pid)
    for _ in $(seq 100); do grep -q "receiving as" "$tmp/portal.log" && break; sleep 0.1; done
}
stop_collector() { # SIGTERM; a clean exit (0; under the sanitizers: no error, no leak)
    kill -TERM $run
    wait $run
    local rc=$?
    check "the collector stops cleanly on SIGTERM (exit $rc)" [ $rc -eq 0 ]
}
outbox_count() { "$opendca" imil status -c "$cfg" | sed -n 's/^outbox: \([0-9]*\) records.*/\1/p'; }
wait_drained() { # until the outbox is empty, at most $1 s
    for _ in $(seq $(($1 * 5))); do [ "$(outbox_count)" = 0 ] && return 0; sleep 0.2; done
    return 1
}

# --- The portal logged out: everything waits in the outbox ----------------
start_collector "$cfg" "$tmp/run.log"
for _ in $(seq 150); do
    [ "$(grep -c "outbox record" "$tmp/run.log")" -ge 6 ] && grep -q "tray readings" "$tmp/run.log" && break
    sleep 0.2
done
"$opendca" imil "get latest counts" -c "$cfg" >"$tmp/counts.txt"
check "the local command 'get latest counts' is taken" grep -q "sending the latest counts of all devices" "$tmp/counts.txt"
for _ in $(seq 50); do grep -q "meters readings" "$tmp/run.log" && break; sleep 0.1; done
check "the bridge fell back from port $dead to $xport" grep -q "on port $xport (TLS on)" "$tmp/run.log"
check "with the portal away, the refusals say why" grep -q "not taken by portal@localhost/receiver: service-unavailable" "$tmp/run.log"
stop_collector
"$opendca" outbox -c "$cfg" >"$tmp/before.jsonl" 2>/dev/null
for kind in asset alert meters supply tray event; do
    check "the outbox holds $kind records while the portal is away" grep -q "\"kind\": \"$kind\"" "$tmp/before.jsonl"
done

# --- The portal back: all of it arrives, equal to what was stored ---------
start_portal
start_collector "$cfg" "$tmp/run.log"
check "the outbox drains once the portal is back" wait_drained 30
"$portal" export --store "$tmp/portal" --format jsonl >"$tmp/after.jsonl" 2>/dev/null
check "every reading the collector stored for the portal arrived, equal" python3 - "$tmp/before.jsonl" "$tmp/after.jsonl" <<'PY'
import json, sys
before = [json.loads(l) for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
key = lambda r: (r["kind"], json.dumps(r["reading"], sort_keys=True))
got = {key(r) for r in after}
missing = [r for r in before if key(r) not in got]
kinds = {r["kind"] for r in before}
print(f"  {len(before)} readings of {sorted(kinds)} stored for the portal, {len(after)} at the portal, {len(missing)} missing")
sys.exit(1 if missing or len(kinds) < 5 else 0)
PY
check "each device's 'new' event (registry) reached the portal, once" python3 - "$tmp/after.jsonl" <<'PY'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assets = {r["reading"]["header"]["device_id"] for r in recs if r["kind"] == "asset"}
new = collections.Counter(r["reading"]["device_id"] for r in recs
                          if r["kind"] == "event" and r["reading"].get("type") == "DEVICE_EVENT_NEW")
bad = [d for d in assets if new[d] != 1] + [d for d in new if d not in assets]
print(f"  {len(assets)} devices with an asset record, {sum(new.values())} 'new' events; {bad[:5]}")
sys.exit(1 if bad or not assets else 0)
PY
"$portal" fleet --store "$tmp/portal" >"$tmp/fleet.txt"
check "the fleet summary lists the collector's devices" grep -q "127.53.0.2:$simport" "$tmp/fleet.txt"
"$portal" export --store "$tmp/portal" --format fields >"$tmp/export.fields" 2>/dev/null
check "the fields export has a row per value" grep -q ',meters,127.53.0.[0-9]*:'$simport',counters.0.value,"[0-9]' "$tmp/export.fields"
"$portal" export --store "$tmp/portal" --format csv >"$tmp/export.csv" 2>/dev/null
check "the csv export has a row per device and day with the canonical meters" python3 - "$tmp/export.csv" "$simport" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mine = [r for r in rows if r["device"].endswith(":" + sys.argv[2])]
keys = [(r["collector"], r["device"], r["day"]) for r in rows]
print(f"  csv: {len(rows)} device days, {sum(1 for r in mine if r['total'])} with a total")
sys.exit(0 if mine and len(keys) == len(set(keys)) and all(r["total"].isdigit() for r in mine) else 1)
PY

# --- Commands ---------------------------------------------------------------
for _ in $(seq 100); do [ "$(grep -c "alert pass [0-9]*:" "$tmp/run.log")" -ge 2 ] && break; sleep 0.1; done
"$portal" send --jid portal@localhost "${xopts[@]}" collector@localhost status >"$tmp/status.txt" 2>&1
check "status over XMPP from a trusted JID answers" grep -q "^portal: connected as collector@localhost on port $xport" "$tmp/status.txt"
check "status names each loop's last pass" grep -q "^alert .*pass [0-9]* done" "$tmp/status.txt"
"$portal" send --jid portal@localhost "${xopts[@]}" collector@localhost "show device 127.53.0.2:$simport" >"$tmp/show.txt" 2>&1
check "show device answers with the device's readings" grep -q "serial" "$tmp/show.txt"
"$portal" send --jid portal@localhost "${xopts[@]}" collector@localhost "make coffee" >"$tmp/unknown.txt" 2>&1
check "an unknown command gets the list of commands" grep -q "unknown command 'make coffee'" "$tmp/unknown.txt"
"$portal" send --jid stranger@localhost "${xopts[@]}" --timeout 3 collector@localhost status >"$tmp/stranger.txt" 2>&1
check "a command from an untrusted JID gets no answer" grep -q "no answer from collector@localhost" "$tmp/stranger.txt"
check "and is logged" grep -q "ignored a command from stranger@localhost" "$tmp/run.log"
"$opendca" imil "show device nosuch" -c "$cfg" >/dev/null
check "a local command for an unknown device exits 2" [ $? -eq 2 ]

# --- A long command does not hold the uploads -------------------------------------
# The bridge hands commands to the commands actor and goes on (issue 15): while
# a trusted JID's sweep of 4,096 silent addresses runs there (about 20 s at
# discovery's 200 addresses a second), a jam's alert still reaches the portal.
at_portal() { "$portal" export --store "$tmp/portal" --format jsonl 2>/dev/null | grep -c '"kind": "alert"'; }
"$portal" send --jid portal@localhost "${xopts[@]}" --timeout 120 collector@localhost \
    "discover 127.54.0.0/20" >"$tmp/sweep.txt" 2>&1 &
sweep=$!
sleep 2
alerts0=$(at_portal)
"$sim" ctl --control "$tmp/sim.sock" inject 127.53.0.5 jam >/dev/null 2>&1
grew=
for _ in $(seq 150); do
    kill -0 $sweep 2>/dev/null || break
    [ "$(at_portal)" -gt "$alerts0" ] && { grew=1; break; }
    sleep 0.1
done
running=no
kill -0 $sweep 2>/dev/null && running=yes
echo "  alert readings at the portal: $alerts0 before the jam, $(at_portal) after; the sweep still running: $running"
check "while a portal's sweep of 4,096 addresses runs, new records reach the portal" [ -n "$grew" ]
check "and the sweep was still running then" [ "$running" = yes ]
wait $sweep
check "the sweep's answer comes when it is done" grep -q "swept 409[0-9] addresses" "$tmp/sweep.txt"
"$sim" ctl --control "$tmp/sim.sock" inject 127.53.0.5 clear >/dev/null 2>&1

# --- A device list pushed by the portal ------------------------------------------
cat >"$tmp/push.csv" <<CSV
address,port,credential,asset number,location
127.53.0.61,$simport,,A-61,Hall
127.53.0.62,$simport,public
127.53.0.63,99999
127.53.0.64,$simport,nosuchcredential
CSV
# The configuration file on disk is broken meanwhile: a pushed list needs no
# reload of it (issue 15: the device set changes on the bus, not by SIGHUP).
cp "$cfg" "$tmp/c.yaml.good"
printf 'collector: [broken\n' >"$cfg"
"$portal" push-devices --jid portal@localhost "${xopts[@]}" collector@localhost "$tmp/push.csv" \
    >"$tmp/push.out" 2>"$tmp/push.err"
prc=$?
check "push-devices names the bad line with its number" grep -q "push.csv:4: port '99999' is not a number" "$tmp/push.err"
check "and exits 3 for it" [ $prc -eq 3 ]
check "the collector takes the good devices" grep -q "the collector took 2 devices, refused 1" "$tmp/push.out"
check "and says why it refused one" grep -q "refused 127.53.0.64: no such credential" "$tmp/push.out"
seen=
for _ in $(seq 100); do
    "$opendca" latest 127.53.0.61:$simport --loop alert --store "$tmp/state" >/dev/null 2>&1 &&
        "$opendca" latest 127.53.0.62:$simport --loop identity --store "$tmp/state" >/dev/null 2>&1 && { seen=1; break; }
    sleep 0.1
done
check "the pushed devices are read from the next pass, the file on disk broken" [ -n "$seen" ]
check "without a reload of the file" sh -c "! grep -q 'SIGHUP: reloading' '$tmp/run.log'"
check "the loops read the device list again" grep -q "alert loop: the device list read again" "$tmp/run.log"
cp "$tmp/c.yaml.good" "$cfg"
"$opendca" imil "show device 127.53.0.61:$simport" -c "$cfg" >"$tmp/pushed.txt"
check "and kept with their source" grep -q "from portal" "$tmp/pushed.txt"
"$portal" push-devices --jid stranger@localhost "${xopts[@]}" --timeout 3 collector@localhost "$tmp/push.csv" \
    >/dev/null 2>&1
check "a device list from an untrusted JID is ignored and logged" grep -q "ignored a device list from stranger@localhost" "$tmp/run.log"

# --- Hostile stanzas ----------------------------------------------------------
hostile() { # hostile NAME XML: sent by the stranger to the portal receiver
    printf '%s' "$2" >"$tmp/$1.xml"
    "$portal" raw --jid stranger@localhost "${xopts[@]}" --timeout 2 "$tmp/$1.xml" >/dev/null 2>&1
}
rx="to='portal@localhost/receiver'"

hostile wrongns "<iq type='set' id='h1' $rx><batch xmlns='urn:evil'><meters/></batch></iq>"
check "the portal refuses a batch in another namespace" grep -q "refused batch h1 from stranger@localhost: not a <batch" "$tmp/portal.log"
hostile unknown "<iq type='set' id='h2' $rx><batch xmlns='urn:opendca:portal:1'><virus/></batch></iq>"
check "the portal refuses a record it does not know" grep -q "refused batch h2 .*<virus> is not a record" "$tmp/portal.log"
python3 -c "print(\"<iq type='set' id='h3' $rx><batch xmlns='urn:opendca:portal:1'><meters>\" + '<header>' * 20000 + '</header>' * 20000 + '</meters></batch></iq>')" >"$tmp/deep.xml"
"$portal" raw --jid stranger@localhost "${xopts[@]}" --timeout 2 "$tmp/deep.xml" >/dev/null 2>&1
python3 -c "print(\"<message type='chat' to='portal@localhost/receiver'><body>\" + 'A' * 6000000 + '</body></message>')" >"$tmp/huge.xml"
"$portal" raw --jid stranger@localhost "${xopts[@]}" --timeout 2 "$tmp/huge.xml" >/dev/null 2>&1
python3 -c "print(\"<message type='chat' to='collector@localhost'><body>\" + 'status ' * 20000 + '</body></message>')" >"$tmp/long.xml"
"$portal" raw --jid stranger@localhost "${xopts[@]}" --timeout 2 "$tmp/long.xml" >/dev/null 2>&1
hostile iq "<iq type='get' id='h4' to='collector@localhost/x'><query xmlns='urn:evil'/></iq>"
check "the portal still runs after the hostile stanzas" kill -0 $portal_pid
check "the collector still runs" kill -0 $run
"$portal" send --jid portal@localhost "${xopts[@]}" collector@localhost "status $(printf '%02000d' 0)" \
    >"$tmp/long.txt" 2>&1
check "a trusted JID's command over 1,024 characters is refused as too long" grep -q "command too long" "$tmp/long.txt"
check "by the bridge, before it is handed over" grep -q "command from portal@localhost/.* refused: 2007 bytes" "$tmp/run.log"
"$portal" send --jid portal@localhost "${xopts[@]}" collector@localhost status >"$tmp/status2.txt" 2>&1
check "and still answers the portal" grep -q "^portal: connected" "$tmp/status2.txt"

# --- The XMPP server away for a while ----------------------------------------
stop_xmpp
sleep 4
"$opendca" imil "get latest counts" -c "$cfg" >/dev/null
sleep 1.5
"$opendca" imil status -c "$cfg" >"$tmp/away.txt"
check "with the server down, status says the portal is not connected" grep -q "^portal: not connected" "$tmp/away.txt"
check "status gives the collector's memory: heap, store cache, memtables ($(grep '^memory:' "$tmp/away.txt"))" \
    grep -Eq "^memory: heap [0-9]+\.[0-9] MiB, store cache [0-9]+\.[0-9] MiB, memtables [0-9]+\.[0-9] MiB" "$tmp/away.txt"
held=$(outbox_count)
check "and the outbox holds what was read meanwhile ($held records)" [ "${held:-0}" -gt 0 ]
"$src/scripts/prosody" start "$xmpp" $xport || exit 1
check "once the server is back, the outbox drains" wait_drained 60
check "the bridge logged the loss and the reconnection" grep -q "lost the portal's server on port $xport" "$tmp/run.log"
stop_collector

# --- kill -9 twenty times while uploading --------------------------------------
for i in $(seq 20); do
    start_collector "$cfg" "$tmp/run.log"
    sleep "$(python3 -c "import random; print(round(random.uniform(0.3, 2.0), 2))")"
    kill -9 $run; wait $run 2>/dev/null
done
start_collector "$cfg" "$tmp/run.log"
"$opendca" imil "get latest counts" -c "$cfg" >/dev/null
sleep 2
check "after 20 kill -9, the outbox drains" wait_drained 60
stop_collector
"$portal" export --store "$tmp/portal" --format jsonl >"$tmp/final.jsonl" 2>/dev/null
# What the stop itself put in the outbox (the readings it had gathered) waits
# there for the next start.
"$opendca" outbox -c "$cfg" >"$tmp/left.jsonl" 2>/dev/null
check "every record the collector logged as enqueued is at the portal exactly once, or still in its outbox" \
    python3 - "$tmp/run.log" "$tmp/final.jsonl" "$tmp/left.jsonl" <<'PY'
import collections, json, re, sys
left = {json.loads(l)["batch"] for l in open(sys.argv[3])}
logged = {}
for line in open(sys.argv[1]):
    m = re.search(r"outbox record (\d+)-(\d+): (\d+) (\w+) readings", line)
    if m:
        logged[f"{m.group(1)}-{m.group(2)}"] = int(m.group(3))
at_portal = collections.Counter()
for line in open(sys.argv[2]):
    r = json.loads(line)
    at_portal[r["batch"].split("-", 1)[1]] += 1
missing = [b for b in logged if b not in at_portal and b not in left]
wrong = [b for b in logged if b in at_portal and at_portal[b] != logged[b]]
twice = [b for b in at_portal if b in left]
print(f"  {len(logged)} records logged as enqueued, {len(at_portal)} at the portal, {len(left)} still in the outbox; {len(missing)} missing, {len(wrong)} with another count, {len(twice)} in both")
sys.exit(1 if missing or wrong or twice or not logged else 0)
PY
echo "  resent batches answered without storing them again: $(grep -c "again: answered, not stored twice" "$tmp/portal.log")"
# The same batch twice, deliberately: stored once.
dup="<iq type='set' id='dup-2-1' $rx><batch xmlns='urn:opendca:portal:1' kind='meters'><meters><header device_id='dup-device'/><counters name='total' value='5'/></meters></batch></iq>"
printf '%s' "$dup" >"$tmp/dup.xml"
for _ in 1 2; do "$portal" raw --jid collector@localhost "${xopts[@]}" --timeout 1 "$tmp/dup.xml" >/dev/null 2>&1; done
"$portal" export --store "$tmp/portal" --format jsonl 2>/dev/null | grep -c '"dup-device"' >"$tmp/dup.count"
check "a batch sent twice is stored once" [ "$(cat "$tmp/dup.count")" = 1 ]
check "and the second answered as a duplicate" grep -q "batch dup-2-1 from collector@localhost again" "$tmp/portal.log"

# --- A certificate from another CA ------------------------------------------------
"$src/scripts/prosody" cert "$tmp/other" other
write_config "$tmp/bad.yaml" "$tmp/state-bad" "$tmp/other/other.crt"
start_collector "$tmp/bad.yaml" "$tmp/bad.log"
for _ in $(seq 50); do grep -q "certificate refused" "$tmp/bad.log" && break; sleep 0.1; done
check "a server certificate from another CA is refused, with the reason" grep -q "portal server's certificate refused: .*certificate" "$tmp/bad.log"
"$opendca" imil status -c "$tmp/bad.yaml" >"$tmp/bad-status.txt"
check "and that collector does not connect" grep -q "^portal: not connected: .*certificate refused" "$tmp/bad-status.txt"
stop_collector

# --- Thousands of SNMP sockets beside the XMPP one ------------------------------------
big=3000
"$sim" --devices $big --first 127.54.0.1 --port $bigport --offline 100 --sleepers 0 >"$tmp/big.log" 2>&1 &
pids+=($!)
write_config "$tmp/big.yaml" "$tmp/state-big" "$ca" 127.54 $big $bigport 4096
# and the online devices, whose readings go to the portal meanwhile
for i in $(seq 1 $n); do printf '  - address: 127.53.%d.%d\n    port: %d\n' $((i / 256)) $((i % 256)) $simport; done >>"$tmp/big.yaml"
start_collector "$tmp/big.yaml" "$tmp/big-run.log"
most=0
for _ in $(seq 60); do
    fds=$(ls /proc/$run/fd 2>/dev/null | wc -l)
    [ "$fds" -gt "$most" ] && most=$fds
    [ "$most" -gt 2000 ] && break
    sleep 0.1
done
check "the loops hold thousands of sockets ($most descriptors)" [ "$most" -gt 2000 ]
"$portal" send --jid portal@localhost "${xopts[@]}" collector@localhost status >"$tmp/big-status.txt" 2>&1
check "meanwhile the bridge answers over XMPP" grep -q "^portal: connected" "$tmp/big-status.txt"
xfd=$(ss -tnp 2>/dev/null | grep ":$xport " | grep "pid=$run," | sed 's/.*fd=\([0-9]*\).*/\1/' | head -1)
check "its XMPP socket is below 1024 (descriptor ${xfd:-none})" [ "${xfd:-99999}" -lt 1024 ]
stop_collector
check "and it sent batches while the sockets were held" grep -q "bridge stops: [1-9][0-9]* batches sent, [1-9]" "$tmp/big-run.log"

kill -TERM $portal_pid
wait $portal_pid
prc=$?
check "the portal stops cleanly on SIGTERM (exit $prc)" [ $prc -eq 0 ]
odc_test_end
