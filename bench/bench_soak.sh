#!/usr/bin/env bash
# bench_soak.sh: a simulated day of a collector at 7,000 devices, with the
# portal away for six of its hours, to show that nothing grows: memory,
# descriptors, the outbox.
#
#   bench/bench_soak.sh [DEVICES [SPEED [HOURS [AWAY_FROM [AWAY_HOURS]]]]]
#                       (default 7000 60 24 9 6; ODC_BUILD=DIR: binaries from DIR, default build;
#                       SOAK_START=HH:MM: the collector's local time at the start, default 14:30)
#
# The simulator (the four built-in models, 10 % offline, 5-50 ms latency,
# 1 % loss) and the collector run SPEED times fast from now (the loops at
# the default intervals of the working hours 08-18 and outside them, the
# daily upload at 02:00 on the collector's clock), uploading
# through a private Prosody (scripts/prosody) to the reference portal. The
# portal stops at simulated hour AWAY_FROM and comes back AWAY_HOURS later.
#
# Prints a line per simulated hour: the collector's RSS (the mean of the
# hour's samples, the last and the most), its open descriptors
# (/proc/PID/fd; the most of the hour: SNMP sockets come and go with the
# passes), the outbox's records and bytes, the portal's state, and the
# collector's own account of its memory ("imil status": the heap in use,
# RocksDB's block cache and memtables, both bounded). Then checks: the mean
# RSS of the last hour within 5 % of the first hour's (one sample is noisy:
# a pass's buffers come and go), the outbox back to 0 after the outage, the
# descriptors of the last hour no more than the first hour's. Exit 1 when a
# check fails. So that the first and the last hour are alike whatever the
# hour and the day the bench is run, the collector runs in a time zone where
# it is SOAK_START now, and every day is a working day (08-18).
set -u
cd "$(dirname "$0")/.."
src=$(pwd)
devices=${1:-7000}
speed=${2:-60}
hours=${3:-24}
away_from=${4:-9}
away_hours=${5:-6}
build=${ODC_BUILD:-build}
tmp=$(mktemp -d /tmp/odc-bench-soak-XXXXXX)
chmod 755 "$tmp"
pids=()
trap '"$src/scripts/prosody" stop "$tmp/xmpp"; for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; [ -n "${ODC_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
. tests/lib.sh
odc_ports 27 2 || exit 1
base=$port_base
xport=$base
simport=$((base + 1))

"$src/scripts/prosody" start "$tmp/xmpp" $xport portal:pw collector:pw || exit 1
ca=$tmp/xmpp/localhost.crt
"$build/opendca-sim" --devices "$devices" --first 127.61.0.1 --port $simport --speed "$speed" \
    --offline 10 --latency 5-50 --loss 1 --sleepers 0 --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done

# The collector's zone: its local time now is SOAK_START (POSIX TZ: the
# offset is west of UTC, so the sign is turned).
export TZ=$(python3 - "${SOAK_START:-14:30}" <<'PY'
import sys, time
h, m = map(int, sys.argv[1].split(":"))
now = time.gmtime()
east = ((h * 60 + m) - (now.tm_hour * 60 + now.tm_min)) % 1440
if east > 720:
    east -= 1440
west = -east
print(f"SOAK{'-' if west < 0 else '+'}{abs(west) // 60}:{abs(west) % 60:02d}")
PY
)
cfg=$tmp/soak.yaml
python3 - "$cfg" "$devices" "$simport" "$speed" "$tmp/state" "$xport" "$ca" <<'PY'
import sys
path, n, port, speed, state, xport, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
with open(path, "w") as f:
    f.write(f"collector:\n  id: soak\nstore:\n  path: {state}\n  sync: false\n")
    f.write(f"clock:\n  speed: {speed}\nsnmp:\n  window_max: 4096\n")
    f.write("working_hours:\n  days: [mon, tue, wed, thu, fri, sat, sun]\n")
    f.write("portal:\n  jid: collector@localhost\n  password: pw\n  portal_jid: portal@localhost\n")
    f.write(f"  host: 127.0.0.1\n  ports: [{xport}]\n  ca_file: {ca}\n  trusted: [portal@localhost]\n")
    f.write("devices:\n")
    for i in range(1, n + 1):
        a = 0x7f3d0000 + i
        f.write(f"  - address: {a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}\n    port: {port}\n")
PY

start_portal() {
    "$build/opendca-portal" run --store "$tmp/portal" --jid portal@localhost --password pw \
        --host 127.0.0.1 --port $xport --ca-file "$ca" 2>>"$tmp/portal.log" &
    portal_pid=$!
    pids+=($portal_pid)
}
start_portal
"$build/opendca" run -c "$cfg" 2>"$tmp/run.log" &
run=$!
pids+=($run)
for _ in $(seq 600); do grep -q "running;" "$tmp/run.log" && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "soak: $devices devices, clock ${speed}x, $hours simulated hours from $(date +%H:%M) local (TZ=$TZ) ($(( hours * 3600 / speed )) s); the portal away from hour $away_from for $away_hours hours"
hour_s=$(python3 -c "print(3600 / $speed)")
sample_s=$(python3 -c "print(max(1.0, 3600 / $speed / 12))")
t0=$(date +%s.%N)
printf '%4s %9s %9s %9s %6s %8s %10s %6s %-6s %s\n' hour "mean MiB" "last MiB" "most MiB" fds records "bytes" shed portal "memory (heap, cache, memtables)"
: >"$tmp/curve"
portal_state=up
h=0
while [ $h -lt "$hours" ]; do
    h=$((h + 1))
    most_rss=0
    most_fd=0
    sum_rss=0
    samples=0
    while :; do
        now=$(date +%s.%N)
        left=$(python3 -c "print($t0 + $h * $hour_s - $now)")
        python3 -c "import sys; sys.exit(0 if $left > 0 else 1)" || break
        kill -0 $run 2>/dev/null || { echo "the collector is gone"; exit 1; }
        rss=$(awk '/VmRSS/ {print $2}' /proc/$run/status)
        fds=$(ls /proc/$run/fd | wc -l)
        [ "$rss" -gt "$most_rss" ] && most_rss=$rss
        [ "$fds" -gt "$most_fd" ] && most_fd=$fds
        sum_rss=$((sum_rss + rss))
        samples=$((samples + 1))
        sleep "$(python3 -c "print(min($sample_s, max(0.05, $left)))")"
    done
    rss=$(awk '/VmRSS/ {print $2}' /proc/$run/status)
    status=$("$build/opendca" imil status -c "$cfg" 2>/dev/null)
    records=$(echo "$status" | sed -n 's/^outbox: \([0-9]*\) records.*/\1/p')
    bytes=$(echo "$status" | sed -n 's/^outbox: [0-9]* records, \([0-9]*\) bytes.*/\1/p')
    shed=$(echo "$status" | sed -n 's/^outbox: .* bytes, \([0-9]*\) shed.*/\1/p')
    memory=$(echo "$status" | sed -n 's/^memory: //p')
    mean_rss=$rss
    [ $samples -gt 0 ] && mean_rss=$((sum_rss / samples))
    printf '%4d %9.1f %9.1f %9.1f %6d %8s %10s %6s %-6s %s\n' $h "$(echo "$mean_rss / 1024" | bc -l)" \
        "$(echo "$rss / 1024" | bc -l)" "$(echo "$most_rss / 1024" | bc -l)" $most_fd \
        "${records:-?}" "${bytes:-?}" "${shed:-?}" $portal_state "${memory:-?}"
    cache_kb=$(echo "$memory" | sed -n 's/.*store cache \([0-9.]*\) MiB.*/\1/p')
    cache_kb=$(echo "${cache_kb:-0} * 1024 / 1" | bc)
    mem_kb=$(echo "$memory" | sed -n 's/.*memtables \([0-9.]*\) MiB.*/\1/p')
    mem_kb=$(echo "${mem_kb:-0} * 1024 / 1" | bc)
    echo "$h $mean_rss $most_rss $most_fd ${records:-0} $rss $cache_kb $mem_kb" >>"$tmp/curve"
    if [ $h -eq "$away_from" ]; then
        kill -TERM $portal_pid
        wait $portal_pid 2>/dev/null
        portal_state=away
    elif [ $h -eq $((away_from + away_hours)) ]; then
        start_portal
        portal_state=back
    elif [ $portal_state = back ]; then
        portal_state=up
    fi
done
# The outbox after the outage: at 0 at some moment of the last hours (the
# fleet keeps adding records, the bridge keeps taking them).
zero=
for _ in $(seq 240); do
    [ "$("$build/opendca" imil status -c "$cfg" 2>/dev/null | sed -n 's/^outbox: \([0-9]*\) records.*/\1/p')" = 0 ] && { zero=1; break; }
    sleep 0.25
done
kill -TERM $run
wait $run
rc=$?
grep -E "uploader stops|bridge stops|outbox .*shed" "$tmp/run.log" | sed 's/^[^ ]* [a-z]* *//' | head -5
python3 - "$tmp/curve" "$zero" "$rc" "$away_from" "$away_hours" "$tmp/run.log" <<'PY'
import re, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1])]
zero, rc, away_from, away_hours = sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
first, last = rows[0], rows[-1]
ok = True
def check(what, good):
    global ok
    print(f"{'ok  ' if good else 'FAIL'} {what}")
    ok = ok and good
growth = (last[1] - first[1]) * 100.0 / first[1]
check(f"RSS: the last hour's mean {last[1] / 1024:.1f} MiB, {growth:+.1f} % of the first hour's {first[1] / 1024:.1f} MiB (within 5 %)", abs(growth) <= 5)
# The first hour's mean holds the start-up (every loop's first pass at
# once): the second hour's, the first in a steady state, is checked too.
if len(rows) > 2:
    second = rows[1]
    growth2 = (last[1] - second[1]) * 100.0 / second[1]
    check(f"RSS: the last hour's mean {growth2:+.1f} % of the second hour's {second[1] / 1024:.1f} MiB (within 5 %)", abs(growth2) <= 5)
# RocksDB's block cache fills by use up to its bound (store.cache_mb, 1
# MiB by default) over the first hours, and its memtables come and go within
# theirs: the RSS less both, as the collector reports them, tells growth
# from that.
net_first, net_last = first[1] - first[6] - first[7], last[1] - last[6] - last[7]
growth_net = (net_last - net_first) * 100.0 / net_first
# (The memtables are one sample at the hour's end against the hour's mean
# RSS: less is no fault, only growth is.)
check(f"RSS less RocksDB's bounded memory: the last hour's {net_last / 1024:.1f} MiB, {growth_net:+.1f} % of the first hour's {net_first / 1024:.1f} MiB (at most +5 %; block cache {first[6] / 1024:.1f} -> {last[6] / 1024:.1f} MiB, memtables {first[7] / 1024:.1f} -> {last[7] / 1024:.1f} MiB)", growth_net <= 5)
after = [r for r in rows if r[0] > away_from + away_hours]
zero_hours = [r[0] for r in after if r[4] == 0]
check(f"the outbox back to 0 after the outage (hours at 0: {zero_hours or 'none'}; at the end: {'0 seen' if zero else 'never 0'})", zero or bool(zero_hours))
most_outage = max((r[4] for r in rows if away_from < r[0] <= away_from + away_hours), default=0)
print(f"     the outbox held at most {most_outage} records during the outage")
check(f"descriptors: the last hour's most {last[3]}, the first hour's {first[3]} (no growth)", last[3] <= first[3] + max(5, first[3] // 50))
check(f"the collector stops cleanly (exit {rc})", rc == 0)
# A device that stays silent is warned of at its first failure and every
# tenth after (each warning also a note in the store): never twice at one
# count (at a cap of 30 failures, it was warned of on every pass).
seen, warnings, again = set(), 0, 0
for line in open(sys.argv[6], errors="replace"):
    m = re.search(r"device=(\S+) (\w+) loop: .*\((\d+) times in a row\)", line)
    if m:
        warnings += 1
        key = (m.group(1), m.group(2), int(m.group(3)))
        if key[2] >= 10 and key in seen:
            again += 1
        seen.add(key)
check(f"failed reads warned of at the first and every tenth failure only ({warnings} warnings, {again} repeated a count)", again == 0)
sys.exit(0 if ok else 1)
PY
