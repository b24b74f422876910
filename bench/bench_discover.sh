#!/usr/bin/env bash
# bench_discover.sh: "opendca discover" sweeping a /16 (65,534 addresses)
# that holds a simulated fleet of printers and some network switches (not
# printers), a fifth of the printers answering SNMPv3 only, with three
# credentials to try in order (a wrong community, the right one, SNMPv3).
#
#   bench/bench_discover.sh [PRINTERS [RATE [CONCURRENCY [TIMEOUT_MS [BITS [OUT]]]]]]
#                                   (default 5000 10000 2048 300 16: a /16)
#
# Prints the sweep time, addresses a second and packets per address (the
# simulator counts every datagram it got, every request it could read, and
# the lowest and highest address those went to). OUT (a folder) keeps the simulator's truth file,
# its stats and the sweep's JSON lines, for tests/test_discover.sh.
set -u
cd "$(dirname "$0")/.."
bin=${ODC_BUILD:-build}
printers=${1:-5000}
rate=${2:-10000}
concurrency=${3:-2048}
# ODC_DISCOVER_RETRIES: further tries per request (default 0, as "opendca
# discover"; tests/test_discover.sh asks for one).
retries=${ODC_DISCOVER_RETRIES:-0}
timeout=${4:-300}
bits=${5:-16}
out=${6:-}
net=127.62.0.0/$bits
tmp=$(mktemp -d /tmp/odc-bench-discover-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
# The sweep's port band (tests/lib.sh), below the kernel's ephemeral ports.
. tests/lib.sh
odc_ports 21 1 || exit 1
port=$port_base
# Four printer models of equal weight and switches at a twentieth of the
# printers: the fleet is printers * 1.05 devices.
devices=$(( printers + printers / 20 ))
"$bin"/opendca-sim --devices $devices --first 127.62.1.1 --port $port --sleepers 0 \
    --model mono-a4-laser --model colour-a4-mfp --model colour-a3-mfp --model inkjet \
    --model switch:0.2 --v3-only 20 --user opendca:authPriv:SHA-256:pass1234:AES:pass5678 \
    --truth "$tmp/truth.jsonl" --control "$tmp/sim.sock" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done
cat >"$tmp/creds.yaml" <<YAML
collector:
  id: bench-discover
snmp:
  credentials:
    - {name: wrong, version: 2c, community: private}
    - {name: v2, version: 2c, community: public}
    - {name: v3, version: 3, user: opendca, level: authPriv, auth_protocol: SHA-256,
       auth_passphrase: pass1234, priv_protocol: AES, priv_passphrase: pass5678}
YAML
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%d)"
echo "fleet: $devices devices at 127.62.1.1 and up ($(grep -c '"model":"switch"' "$tmp/truth.jsonl") switches), sweep of $net, rate $rate/s, $concurrency in flight, timeout $timeout ms, $retries retries, 3 credentials"
t0=$(date +%s%N)
"$bin"/opendca discover $net --config "$tmp/creds.yaml" -p $port --rate $rate \
    --concurrency $concurrency -t $timeout -r $retries --all --json >"$tmp/found.jsonl" 2>"$tmp/discover.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
"$bin"/opendca-sim ctl --control "$tmp/sim.sock" stats >"$tmp/stats.json"
tail -1 "$tmp/discover.err"
python3 - "$tmp/stats.json" "$tmp/found.jsonl" "$ms" "$bits" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
found = [json.loads(l) for l in open(sys.argv[2])]
ms = int(sys.argv[3])
addresses = 2 ** (32 - int(sys.argv[4])) - 2
print(f"sweep: {ms / 1000:.1f} s, {addresses * 1000 / ms:.0f} addresses/s; "
      f"{sum(f['kind'] == 'printer' for f in found)} printers, {sum(f['kind'] == 'other' for f in found)} other agents found")
print(f"packets (the simulator's count of datagrams): {stats['datagrams']} = {stats['datagrams'] / addresses:.2f} an address "
      f"({stats['requests']} it could read, {stats['no_device']} of them to addresses with no device); "
      f"lowest address asked {stats['to_low']}, highest {stats['to_high']}")
PY
if [ -n "$out" ]; then
    mkdir -p "$out"
    cp "$tmp/truth.jsonl" "$tmp/stats.json" "$tmp/found.jsonl" "$tmp/discover.err" "$out/"
fi
exit $rc
