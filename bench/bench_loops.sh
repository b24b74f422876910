#!/usr/bin/env bash
# bench_loops.sh: the five monitoring loops of "opendca run" against the
# simulator on the same machine, at the default working-hours intervals
# (3/10/20/60/480 minutes), with the collector's clock running SPEED times
# fast: SPEED times the real load of a fleet of DEVICES. If it keeps up at
# SPEED x, it keeps up at 1 x.
#
#   bench/bench_loops.sh [DEVICES [SPEED [SECONDS [WARM]]]]  (default 7000 4 160 0)
#
# WARM > 0: first a run of WARM seconds on the same store with the clock 8
# times fast, stopped, and the measured run is a restart: a collector that
# has met its fleet (every device identified by the registry, the meter
# loop's vendor counters probed, a first pass of every loop but the tray
# done), which is what a collector is on every day but its first. Without
# it, the figures are those of a first start.
#
# The fleet: the four built-in models, 10 % offline, 5-50 ms latency, 1 %
# loss. Prints, per loop, every finished pass against its interval, devices
# per second, CPU per device-poll, SNMP bytes per device, timeouts; the
# collector's peak RSS and CPU; and the baseline: net-snmp's snmpbulkwalk
# of the supply table, device after device.
set -u
cd "$(dirname "$0")/.."
devices=${1:-7000}
speed=${2:-4}
seconds=${3:-160}
warm=${4:-0}
tmp=$(mktemp -d /tmp/odc-bench-loops-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
. tests/lib.sh
odc_ports 24 1 || exit 1
port=$port_base

build/opendca-sim --devices "$devices" --first 127.60.0.1 --port $port --offline 10 \
    --latency 5-50 --loss 1 --sleepers 0 --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
sim=$!
for _ in $(seq 200); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done
online=$(build/opendca-sim ctl --control "$tmp/sim.sock" stats | sed 's/.*"online":\([0-9]*\).*/\1/')

python3 - "$tmp/bench.yaml" "$devices" "$port" "$speed" "$tmp/state" "$tmp/warm.yaml" <<'PY'
import sys
path, n, port, speed, state, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
for path, speed in ((path, speed), (warm, 8)):
  with open(path, "w") as f:
      f.write(f"collector:\n  id: bench\nstore:\n  path: {state}\n  sync: false\n")
      f.write(f"clock:\n  speed: {speed}\nsnmp:\n  window_max: 4096\n")
      f.write('working_hours:\n  start: "00:00"\n  end: "24:00"\n  days: [mon, tue, wed, thu, fri, sat, sun]\n')
      f.write("devices:\n")
      for i in range(1, n + 1):
          a = 0x7f3c0000 + i
          f.write(f"  - address: {a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}\n    port: {port}\n")
PY

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)"
echo "fleet: $devices devices ($online online), clock ${speed}x, ${seconds} s"
if [ "$warm" -gt 0 ]; then
    build/opendca run -c "$tmp/warm.yaml" 2>"$tmp/warm.log" &
    pids+=($!)
    sleep "$warm"
    kill -TERM $!
    wait $!
    echo "warm-up: ${warm} s at 8x ($(( warm * 8 / 60 )) collector minutes) on the same store: $(grep -c ' pass [0-9]*:' "$tmp/warm.log") passes; the measured run is a restart"
fi
build/opendca run -c "$tmp/bench.yaml" 2>"$tmp/run.log" &
run=$!
pids+=($run)
started=$(date +%s%N)
for _ in $(seq 600); do grep -q "running;" "$tmp/run.log" && break; sleep 0.1; done
start_ticks=$(awk '{print $14 + $15}' /proc/$run/stat)
threads() { for t in /proc/$run/task/*; do echo "$(cat $t/comm | tr ' ' _) $(awk '{print $14 + $15}' $t/stat)"; done; }
threads >"$tmp/threads0"
echo "collector start-up (configuration, store, actors): $(( ($(date +%s%N) - started) / 1000000 )) ms, CPU $start_ticks ticks"
sleep "$seconds"
cpu_ticks=$(( $(awk '{print $14 + $15}' /proc/$run/stat) - start_ticks ))
sim_ticks=$(awk '{print $14 + $15}' /proc/$sim/stat)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$run/status)
threads >"$tmp/threads1"
kill -TERM $run
wait $run
hz=$(getconf CLK_TCK)

python3 - "$tmp/run.log" "$devices" "$cpu_ticks" "$hz" "$hwm" "$speed" "$seconds" "$sim_ticks" "$tmp/threads0" "$tmp/threads1" <<'PY'
import re, sys
log, n, ticks, hz, hwm, speed, seconds, sim_ticks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
threads0, threads1 = sys.argv[9], sys.argv[10]
pat = re.compile(r"\[(\w+)\] s_pass_end: device=- \w+ pass (\d+): (\d+) of (\d+) devices read, (\d+) failed, (\d+) skipped; ([\d.]+) s of ([\d.]+) s \((\d+) %.*?\); (\d+) requests, (\d+) B out, (\d+) B in, (\d+) timeouts; window (\d+); CPU ([\d.]+) s \(([\d.]+) us per device\)(?:; (\d+) readings as they were)?")
worst = {}
print(f"{'loop':9} {'pass':>4} {'read':>7} {'failed':>6} {'took s':>8} {'of s':>7} {'%':>4} {'dev/s':>7} {'B/dev':>6} {'timeouts':>8} {'window':>6} {'CPU us/dev':>10} {'not sent':>8}")
for line in open(log):
    m = pat.search(line)
    if not m:
        continue
    loop, p, read, total, failed, skipped, took, interval, pct, req, bout, bin_, to, window, cpu, us, same = m.groups()
    worst[loop] = max(worst.get(loop, 0), int(pct))
    rate = (int(read) + int(failed)) / float(took) if float(took) > 0 else 0
    print(f"{loop:9} {p:>4} {read:>7} {failed:>6} {float(took):8.1f} {float(interval):7.1f} {pct:>4} {rate:7.0f} {(int(bout) + int(bin_)) / int(total):6.0f} {to:>8} {window:>6} {float(us):10.1f} {same or '-':>8}")
progress = re.compile(r"\[(\w+)\] s_stop_report: device=- \w+ pass (\d+) in progress: (\d+) of (\d+) devices started after ([\d.]+) s of ([\d.]+) s \((\d+) read, (\d+) failed\); behind its schedule by ([\d.]+) s")
stops = re.compile(r"\[(\w+)\] s_stop_report: device=- \w+ loop stops: (\d+) device-polls in (\d+) passes, CPU ([\d.]+) s \(([\d.]+) us each\)")
all_polls = 0
for line in open(log):
    m = progress.search(line)
    if m:
        loop, p, started, total, after, interval, read, failed, behind = m.groups()
        print(f"{loop:9} pass {p} at the stop: {started} of {total} devices started after {float(after):.0f} s of {float(interval):.0f} s, {read} read, {failed} failed; behind its schedule by {float(behind):.1f} s")
    m = stops.search(line)
    if m:
        loop, polls_, passes, lcpu, us = m.groups()
        all_polls += int(polls_)
        print(f"{loop:9} in all: {polls_} device-polls, loop thread CPU {float(lcpu):.1f} s ({float(us):.1f} us each)")
cpu = ticks / hz
print(f"passes over their interval: {', '.join(f'{k} {v} %' for k, v in worst.items()) or 'none finished'} (100 % = the whole interval)")
print(f"collector: CPU {cpu:.1f} s in {seconds:.0f} s after the start-up for {all_polls} device-polls: {cpu * 1e6 / max(all_polls, 1):.1f} us per device-poll; peak RSS {hwm / 1024:.1f} MiB")
print(f"simulator: CPU {sim_ticks / hz:.1f} s")
def ticks_of(path):
    out = {}
    for line in open(path):
        name, t = line.split()
        out[name] = out.get(name, 0) + int(t)
    return out
t0, t1 = ticks_of(threads0), ticks_of(threads1)
share = sorted(((t1[k] - t0.get(k, 0), k) for k in t1), reverse=True)
print("collector threads, CPU after the start-up: " + ", ".join(f"{k} {v / hz:.1f} s" for v, k in share if v > 0))
# The readings path's judges (issue 16): the validator and the roll-up.
judges = sum(v for v, k in share if k in ("odc-validator", "odc-meters"))
if judges:
    print(f"validator + meters: {judges / hz:.1f} s, {judges * 100 / max(ticks, 1):.1f} % of the collector's CPU")
# And alert triage (issue 17).
triage = sum(v for v, k in share if k == "odc-triage")
if triage:
    print(f"triage: {triage / hz:.1f} s, {triage * 100 / max(ticks, 1):.1f} % of the collector's CPU")
# And the supplies actor (issue 18): part numbers, forecasts, requests.
supplies = sum(v for v, k in share if k == "odc-supplies")
if supplies:
    print(f"supplies: {supplies / hz:.1f} s, {supplies * 100 / max(ticks, 1):.1f} % of the collector's CPU")
need = n * (1/180 + 1/600 + 1/1200 + 1/3600 + 1/28800)
print(f"load: at 1x the five loops need {need:.0f} device-polls/s; this run asked {need * speed:.0f}/s")
PY

# The baseline: a naive collector walks each device's supply table with
# snmpbulkwalk, one device after the other.
count=100
t0=$(date +%s%N)
for i in $(seq 1 $count); do
    a=$(( 0x7f3c0000 + i ))
    snmpbulkwalk -v2c -c public -t 1.5 -r 1 $(( a >> 24 & 255 )).$(( a >> 16 & 255 )).$(( a >> 8 & 255 )).$(( a & 255 )):$port 1.3.6.1.2.1.43.11 >/dev/null 2>&1
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "baseline: snmpbulkwalk of the supply table, device after device: $count devices in $ms ms = $(( count * 1000 * 1000 / (ms > 0 ? ms : 1) / 1000 )) devices/s"
