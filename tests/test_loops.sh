#!/usr/bin/env bash
# test_loops.sh OPENDCA SIM: the five monitoring loops of "opendca run"
# against the simulator: 7,000 devices, 10 % offline, 5-50 ms latency, 1 %
# loss, the collector's clock 20 times fast.
#   - every loop finishes passes; each pass accounts for every device (read
#     or failed, never skipped silently), reads every online device but for
#     a few lost to packet loss, and names every device that failed;
#   - a jam raised in the simulator is in the next alert pass's reading;
#   - outside working hours the loops take their longer intervals.
set -u
opendca=$1
sim=$2
. "$(dirname "$0")/lib.sh"
odc_test_setup loops
# Each test has its own range of ports: CTest runs them side by side.
odc_ports 14 1 || exit 1
port=$port_base
# Fewer under ThreadSanitizer, which is many times slower (scripts/test sets it).
n=${ODC_LOOPS_DEVICES:-7000}

"$sim" --devices $n --first 127.51.0.1 --port $port --offline 10 --latency 5-50 --loss 1 \
    --sleepers 0 --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done
online=$("$sim" ctl --control "$tmp/sim.sock" stats | sed 's/.*"online":\([0-9]*\).*/\1/')

write_config() { # write_config FILE DAYS
    {
        printf 'collector:\n  id: loops-test\nlog:\n  level: debug\nstore:\n  path: %s\n  sync: false\n' "$tmp/state-$(basename "$1")"
        printf 'clock:\n  speed: 20\nsnmp:\n  timeout_ms: 1000\n  retries: 2\n'
        printf 'loops:\n  alert: {in_hours: 3, out_of_hours: 15}\n  identity: {in_hours: 3, out_of_hours: 30}\n'
        printf '  meter: {in_hours: 4, out_of_hours: 40}\n  supply: {in_hours: 5, out_of_hours: 50}\n'
        printf '  tray: {in_hours: 6, out_of_hours: 60}\n'
        printf 'working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: %s\n' "$2"
        printf 'devices:\n'
        for i in $(seq 1 $n); do printf '  - address: 127.51.%d.%d\n    port: %d\n' $((i / 256)) $((i % 256)) $port; done
    } >"$1"
}
write_config "$tmp/in.yaml" "[mon, tue, wed, thu, fri, sat, sun]"
"$opendca" run -c "$tmp/in.yaml" 2>"$tmp/run.log" &
run=$!
pids+=($run)

# Wait for the first alert pass, inject a jam into a device that answers,
# and wait for the next alert pass.
for _ in $(seq 300); do grep -q "alert pass 1:" "$tmp/run.log" && break; sleep 0.1; done
target=127.51.0.7
"$opendca" latest $target --loop alert -c "$tmp/in.yaml" >/dev/null 2>&1 || target=127.51.0.8
"$sim" ctl --control "$tmp/sim.sock" inject $target jam >/dev/null
# The table is read when the device's event counters move: the reading of
# the next pass over the device holds the jam (later passes, with the same
# counters, carry the status only). Watch the stored reading until then.
seen=
for _ in $(seq 150); do
    "$opendca" latest $target --loop alert -c "$tmp/in.yaml" --json >"$tmp/alert.json" 2>&1
    grep -q '"code": 8' "$tmp/alert.json" && { seen=1; break; }
    sleep 0.1
done
check "a jam raised in the simulator is in the next alert reading of $target" [ -n "$seen" ]
check "and the device reports itself down (5)" grep -q '"hr_device_status": 5' "$tmp/alert.json"
check "the loops' readings leave out the raw values by default" bash -c "! grep -q '\"raw\": \[' '$tmp/alert.json'"

# "status" follows a pass in progress (the tray's first takes 18 s).
"$opendca" imil status -c "$tmp/in.yaml" >"$tmp/status.txt" 2>&1
started=$(sed -n 's/^tray .*in a pass: \([0-9]*\) of .*/\1/p' "$tmp/status.txt")
check "status tells how far the tray loop's pass in progress got (${started:-?} started)" [ "${started:-0}" -gt 0 ]

# Let every loop finish a pass (tray: 6 minutes at 20x = 18 s), the alert
# loop and the identity loop two.
for _ in $(seq 400); do grep -q "tray pass 1:" "$tmp/run.log" && grep -q "alert pass 2:" "$tmp/run.log" && grep -q "identity pass 2:" "$tmp/run.log" && break; sleep 0.1; done
kill -TERM $run; wait $run; rc=$?
check "the collector stops cleanly (exit $rc)" [ $rc -eq 0 ]

for loop in alert identity meter supply tray; do
    line=$(grep "$loop pass 1:" "$tmp/run.log" | head -1)
    read_=$(echo "$line" | sed 's/.*: \([0-9]*\) of \([0-9]*\) devices read, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1/')
    total=$(echo "$line" | sed 's/.*: \([0-9]*\) of \([0-9]*\) devices read.*/\2/')
    fail=$(echo "$line" | sed 's/.*read, \([0-9]*\) failed.*/\1/')
    skip=$(echo "$line" | sed 's/.*failed, \([0-9]*\) skipped.*/\1/')
    echo "     $loop pass 1: $read_ read, $fail failed, $skip skipped of $total ($online online)"
    check "$loop: a pass finished" [ -n "$line" ]
    check "$loop: every device accounted for" [ $((read_ + fail + skip)) -eq $n ]
    check "$loop: every online device read but for a few lost packets ($read_ of $online)" \
        [ "$read_" -ge $((online - online / 500 - 3)) -a "$read_" -le "$online" ]
done
# The alert loop sends a reading only when it says something new: the
# first pass sends every one, a later pass only those that changed (the jam
# above, in pass 2 or 3 as the timing falls, reached the store: a change is
# sent).
first_same=$(grep "alert pass 1:" "$tmp/run.log" | head -1 | sed -n 's/.*; \([0-9]*\) readings as they were, not sent.*/\1/p')
line=$(grep "alert pass 2:" "$tmp/run.log" | head -1)
same=$(echo "$line" | sed -n 's/.*; \([0-9]*\) readings as they were, not sent.*/\1/p')
read2=$(echo "$line" | sed 's/.*: \([0-9]*\) of \([0-9]*\) devices read.*/\1/')
echo "     alert pass 2: $read2 read, ${same:-?} as they were (not sent)"
check "the first alert pass sends every reading (${first_same:-?} not sent)" [ "${first_same:-x}" = 0 ]
check "a later one leaves out those as they were (${same:-?} of $read2)" \
    [ "${same:-0}" -gt $((read2 / 2)) -a "${same:-0}" -le "$read2" ]
# The second pass knows how many rows each device's tables have and asks
# for one more: the same devices read, in fewer bytes.
bytes_in() { grep "identity pass $1:" "$tmp/run.log" | head -1 | sed 's/.* B out, \([0-9]*\) B in.*/\1/'; }
in1=$(bytes_in 1); in2=$(bytes_in 2)
echo "     identity: $in1 B in on the first pass, $in2 B on the second"
check "the identity loop's second pass reads its tables in fewer bytes ($in2 < $in1)" \
    [ -n "$in2" -a "${in2:-0}" -lt $(( ${in1:-0} * 3 / 4 )) ]
named=$(grep -c "warn  \[alert\] s_failed: device=127.51" "$tmp/run.log")
check "every device the alert loop could not read is named in the log ($named)" [ "$named" -ge $((n - online)) ]
check "no device read by a loop was left without a reading" \
    bash -c "'$opendca' latest 127.51.0.9 --loop supply -c '$tmp/in.yaml' >/dev/null 2>&1 || '$opendca' latest 127.51.0.10 --loop supply -c '$tmp/in.yaml' >/dev/null 2>&1"

# The device list is in the store, and what the meter loop probed is
# remembered there: a restart on the same store does not probe again.
# This time with snmp.raw: the readings keep every value as received.
sed -i 's/^  retries: 2$/  retries: 2\n  raw: true/' "$tmp/in.yaml"
check "the configured devices went into the store" grep -q "devices: $n from the configuration ($n new, 0 removed)" "$tmp/run.log"
meter_read=$(grep "meter pass 1:" "$tmp/run.log" | head -1 | sed 's/.*: \([0-9]*\) of .*/\1/')
"$opendca" run -c "$tmp/in.yaml" 2>"$tmp/again.log" &
run=$!
pids+=($run)
for _ in $(seq 100); do grep -q "vendor counters known" "$tmp/again.log" && break; sleep 0.1; done
raw=
for _ in $(seq 150); do
    "$opendca" latest $target --loop alert -c "$tmp/in.yaml" --json 2>&1 | grep -q '"raw": \[' && { raw=1; break; }
    sleep 0.1
done
kill -TERM $run; wait $run
check "with snmp.raw the loops' readings keep every value as received" [ -n "$raw" ]
known=$(grep "vendor counters known" "$tmp/again.log" | sed 's/.*known for \([0-9]*\) of.*/\1/')
check "after a restart the meter loop knows the vendor counters of every device it read ($known, read ${meter_read:-?})" \
    [ "${known:-0}" -ge "${meter_read:-1}" -a "${meter_read:-0}" -gt 0 ]
alert_read=$(grep "alert pass 1:" "$tmp/run.log" | head -1 | sed 's/.*: \([0-9]*\) of .*/\1/')
counters=$(grep "event counters known" "$tmp/again.log" | sed 's/.*known for \([0-9]*\) of.*/\1/')
check "after a restart the alert loop knows the event counters of every device it read ($counters, read ${alert_read:-?})" \
    [ "${counters:-0}" -ge "${alert_read:-1}" -a "${alert_read:-0}" -gt 0 ]
check "and the store's device list was taken as it was" grep -q "devices: $n from the configuration (0 new, 0 removed)" "$tmp/again.log"

# Outside working hours: no working day at all.
write_config "$tmp/out.yaml" "[]"
"$opendca" run -c "$tmp/out.yaml" 2>"$tmp/out.log" &
run=$!
pids+=($run)
for _ in $(seq 100); do grep -q "tray pass 1 begins" "$tmp/out.log" && break; sleep 0.1; done
kill -TERM $run; wait $run
check "in working hours the alert interval is 3 minutes (9 s at 20x)" \
    grep -q "alert pass 1 begins: $n devices over 9.0 s (in working hours)" "$tmp/run.log"
check "outside, 15 minutes (45 s at 20x)" \
    grep -q "alert pass 1 begins: $n devices over 45.0 s (outside working hours)" "$tmp/out.log"
check "the tray loop outside: 60 minutes (180 s)" \
    grep -q "tray pass 1 begins: $n devices over 180.0 s (outside working hours)" "$tmp/out.log"

[ $failed -eq 0 ] || tail -20 "$tmp/run.log"
odc_test_end
