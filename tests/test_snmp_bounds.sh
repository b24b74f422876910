#!/usr/bin/env bash
# test_snmp_bounds.sh OPENDCA SIM: what a user sees of the bounds of a device
# read (snmp/README.md, "Bounds per read") and of other broken firmware,
# through the commands and a running collector (tests/snmp_agent.py plays
# the broken printers; test_snmp.c checks the engine itself):
#   - `opendca discover` of silent addresses exits 0 with an empty table (the
#     sanitizer build aborted in qsort (NULL, 0, ...));
#   - `opendca poll` of an agent that walks for ever exits 1 and names the
#     bound: "walk stopped: more than 1000 rows in ...";
#   - `opendca poll --loop meter` of an agent whose counters are negative
#     INTEGERs prints no 4294967295;
#   - a collector with 20 simulated printers and that endless agent: every
#     printer is read, the alert loop's warning names the device and the
#     bound, and `show device` tells it.
set -u
opendca=$1
sim=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
odc_test_setup snmp-bounds
# Ports of its own, below the ephemeral range and the other tests' (CTest runs
# tests side by side).
odc_ports 12 2 || exit 1
port=$port_base

"$opendca" discover 127.47.2.1-127.47.2.4 >"$tmp/discover.out" 2>"$tmp/discover.err"
rc=$?
check "discover of silent addresses exits 0 (exit $rc: $(grep -m1 -i 'error' "$tmp/discover.err"))" [ $rc -eq 0 ]
check "and prints no device" bash -c "! grep -q '^127\\.47\\.2\\.' '$tmp/discover.out'"

agent() { # agent ADDRESS MODE: start tests/snmp_agent.py, wait for "ready"
    python3 "$here/snmp_agent.py" --address "$1" --port $port --mode "$2" >"$tmp/agent-$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q ready "$tmp/agent-$1.log" && return 0; sleep 0.05; done
    echo "agent $1 ($2) did not start"
    return 1
}
agent 127.47.1.1 endless
agent 127.47.1.2 negative

"$opendca" poll 127.47.1.1:$port --loop supply >"$tmp/poll-endless.out" 2>&1
rc=$?
check "poll of an endless walk exits 1 (exit $rc)" [ $rc -eq 1 ]
check "and names the bound: $(grep -m1 'walk stopped' "$tmp/poll-endless.out")" \
    grep -q "walk stopped: more than 1000 rows in 1\\.3\\.6\\.1\\." "$tmp/poll-endless.out"

"$opendca" poll 127.47.1.2:$port --loop meter --json >"$tmp/poll-negative.out" 2>&1
rc=$?
check "poll --loop meter of negative counters exits 0 (exit $rc)" [ $rc -eq 0 ]
check "and reads no 4294967295 pages" bash -c "! grep -q '4294967295' '$tmp/poll-negative.out'"

# The simulator on a port of its own: it listens on 0.0.0.0.
simport=$((port + 1))
"$sim" --devices 20 --first 127.47.0.1 --port $simport --sleepers 0 >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done
{
    printf 'collector:\n  id: snmp-bounds-test\nlog:\n  level: info\nstore:\n  path: %s\n  sync: false\n' "$tmp/state"
    printf 'clock:\n  speed: 20\nsnmp:\n  timeout_ms: 1000\n  retries: 1\n'
    printf 'loops:\n  alert: {in_hours: 1, out_of_hours: 1}\n  identity: {in_hours: 3, out_of_hours: 3}\n'
    printf '  meter: {in_hours: 4, out_of_hours: 4}\n  supply: {in_hours: 5, out_of_hours: 5}\n'
    printf '  tray: {in_hours: 6, out_of_hours: 6}\n'
    printf 'working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: [mon, tue, wed, thu, fri, sat, sun]\n'
    printf 'devices:\n'
    for i in $(seq 1 20); do printf '  - address: 127.47.0.%d\n    port: %d\n' $i $simport; done
    printf '  - address: 127.47.1.1\n    port: %d\n' $port
} >"$tmp/c.yaml"
"$opendca" run -c "$tmp/c.yaml" 2>"$tmp/run.log" &
run=$!
pids+=($run)
for _ in $(seq 300); do grep -q "alert pass 1:" "$tmp/run.log" && break; sleep 0.1; done
line=$(grep -m1 "alert pass 1:" "$tmp/run.log")
check "the alert pass read the 20 printers beside the endless one: ${line#*alert pass 1: }" \
    grep -q "alert pass 1: 20 of 21 devices read, 1 failed" "$tmp/run.log"
check "the alert loop's warning names the device and the bound" \
    grep -q "warn .*device=127.47.1.1:$port alert loop: walk stopped: more than 1000 rows in 1.3.6.1.2.1.43.18.1.1" "$tmp/run.log"
shown=
for _ in $(seq 50); do
    "$opendca" imil "show device 127.47.1.1:$port" -c "$tmp/c.yaml" >"$tmp/show.out" 2>&1
    grep -q "alert: last read failed (.*): walk stopped: more than 1000 rows in 1.3.6.1.2.1.43.18.1.1" "$tmp/show.out" && { shown=1; break; }
    sleep 0.1
done
check "show device tells why the alert read failed: $(grep -m1 'last read failed' "$tmp/show.out")" [ -n "$shown" ]
kill -TERM $run
wait $run
rc=$?
check "the collector stops cleanly (exit $rc)" [ $rc -eq 0 ]

# The bounds are configuration keys (snmp.max_rows and the others): 50 rows.
sed -e 's|^  retries: 1$|  retries: 1\n  max_rows: 50\n  max_read_seconds: 30|' -e "s|$tmp/state|$tmp/state2|" \
    "$tmp/c.yaml" >"$tmp/c2.yaml"
"$opendca" config check "$tmp/c2.yaml" >/dev/null 2>&1
check "a configuration with snmp.max_rows and max_read_seconds checks ok" [ $? -eq 0 ]
"$opendca" run -c "$tmp/c2.yaml" 2>"$tmp/run2.log" &
run=$!
pids+=($run)
for _ in $(seq 300); do grep -q "alert pass 1:" "$tmp/run2.log" && break; sleep 0.1; done
check "snmp.max_rows: 50 stops the endless walk at 50 rows" \
    grep -q "warn .*device=127.47.1.1:$port alert loop: walk stopped: more than 50 rows in" "$tmp/run2.log"
kill -TERM $run
wait $run
printf 'collector:\n  id: x\nsnmp:\n  max_rows: 5\n' >"$tmp/bad.yaml"
"$opendca" config check "$tmp/bad.yaml" >/dev/null 2>"$tmp/bad.err"
check "snmp.max_rows: 5 is refused, naming the key and its range ($(head -c 100 "$tmp/bad.err"))" \
    grep -q "bad.yaml:4.*max_rows" "$tmp/bad.err"
odc_test_end
