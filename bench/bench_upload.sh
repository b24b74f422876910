#!/usr/bin/env bash
# bench_upload.sh: what the upload to the portal costs, end to end on this
# machine: a private Prosody (scripts/prosody), the reference portal
# receiver, the simulator and the collector, both clocks SPEED times fast,
# for one simulated day (default: 500 devices, 720x: a day in 120 s).
#
#   bench/bench_upload.sh [DEVICES [SPEED]]
#
# Runs the day twice, batches compressed (portal.compress: true, the
# default) and plain. Prints, per run: batches and readings sent, the
# records' XML and what went in its place, per device per simulated day
# (payload only: the iq wrapper, XMPP and TLS framing come on top), and the
# time from an alert raised in the simulator to its arrival in the portal's
# store (the alert loop's interval at SPEED x is part of it; at 1x add up to
# one alert interval, 3 minutes in working hours).
set -u
cd "$(dirname "$0")/.."
devices=${1:-500}
speed=${2:-720}
seconds=$(( 86400 / speed ))
tmp=$(mktemp -d /tmp/odc-bench-upload-XXXXXX)
chmod 755 "$tmp"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; scripts/prosody stop "$tmp/xmpp"; rm -rf "$tmp"' EXIT
. tests/lib.sh
odc_ports 26 3 || exit 1
base=$port_base
xport=$base
simport=$((base + 1))
scripts/prosody start "$tmp/xmpp" $xport portal:pw collector:pw >/dev/null || exit 1
xopts=(--host 127.0.0.1 --port $xport --ca-file "$tmp/xmpp/localhost.crt" --password pw)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)"
echo "fleet: $devices simulated printers (the four built-in models), clocks ${speed}x, one simulated day = $seconds s"
for compress in true false; do
    run=$tmp/$compress
    mkdir -p "$run"
    build/opendca-sim --devices "$devices" --first 127.56.0.1 --port $simport --speed "$speed" \
        --sleepers 0 --control "$run/sim.sock" >"$run/sim.log" 2>&1 &
    sim=$!
    pids+=($sim)
    for _ in $(seq 100); do grep -q ready "$run/sim.log" && break; sleep 0.05; done
    build/opendca-portal run --store "$run/portal" --jid portal@localhost "${xopts[@]}" 2>"$run/portal.log" &
    portal=$!
    pids+=($portal)
    for _ in $(seq 100); do grep -q "receiving as" "$run/portal.log" && break; sleep 0.1; done
    {
        printf 'collector:\n  id: bench-upload\nstore:\n  path: %s\n  sync: false\n' "$run/state"
        printf 'clock:\n  speed: %d\n' "$speed"
        printf 'portal:\n  jid: collector@localhost\n  password: pw\n  portal_jid: portal@localhost\n'
        printf '  host: 127.0.0.1\n  ports: [%d]\n  ca_file: %s\n  compress: %s\n' $xport "$tmp/xmpp/localhost.crt" $compress
        printf 'devices:\n'
        for i in $(seq 1 "$devices"); do printf '  - address: 127.56.%d.%d\n    port: %d\n' $((i / 256)) $((i % 256)) $simport; done
    } >"$run/c.yaml"
    build/opendca run -c "$run/c.yaml" 2>"$run/run.log" &
    collector=$!
    pids+=($collector)
    # Halfway through the day, an alert: how long until the portal has it.
    sleep $((seconds / 2))
    target=127.56.0.7
    t0=$(date +%s.%N)
    build/opendca-sim ctl --control "$run/sim.sock" inject $target jam >/dev/null
    latency=none
    for _ in $(seq 300); do
        if build/opendca-portal export --store "$run/portal" --format jsonl 2>/dev/null |
            grep "\"kind\": \"alert\"" | grep "\"device_id\": \"$target:$simport\"" | grep -q '"code": 8,'; then
            latency=$(python3 -c "import time; print(f'{time.time() - $t0:.2f} s')")
            break
        fi
        sleep 0.1
    done
    sleep $((seconds - seconds / 2))
    kill -TERM $collector
    wait $collector
    kill -TERM $portal $sim
    wait $portal $sim 2>/dev/null
    python3 - "$run/run.log" "$devices" "$compress" "$latency" <<'PY'
import re, sys
log, n, compress, latency = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(log).read()
m = re.search(r"bridge stops: (\d+) batches sent, (\d+) acknowledged; XML (\d+) bytes, sent as (\d+)", text)
u = re.search(r"uploader stops: (\d+) readings in (\d+) outbox records, (\d+) unchanged", text)
kinds = {}
for k, c in re.findall(r"outbox record \d+-\d+: (\d+) (\w+) readings", text):
    pass
for c, k in re.findall(r"outbox record \d+-\d+: (\d+) (\w+) readings", text):
    kinds[k] = kinds.get(k, 0) + int(c)
sent, acked, xml, wire = (int(x) for x in m.groups())
print(f"compress {compress:5}: {sent} batches ({acked} acknowledged), {u.group(1)} readings "
      f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}), {u.group(3)} unchanged not sent")
print(f"  records' XML {xml / n:8.0f} B per device per day; sent {wire / n:8.0f} B per device per day"
      f" ({xml / wire if wire else 0:.1f}x); alert raised -> at the portal: {latency}")
PY
done
