# lib.sh: what the shell tests share. Source it after "set -u":
#   odc_test_setup TAG    $tmp, a fresh folder (kept with ODC_KEEP=1); $pids,
#                         processes killed at exit; counters for check
#   check WHAT CMD...     runs CMD; counts it passed, or prints "FAIL: WHAT"
#   odc_test_end          prints "N passed, N failed"; the status to exit with
#   odc_test_xmpp PORT ACCOUNT:PW...
#                         a private Prosody in $tmp/xmpp on PORT with those
#                         accounts, stopped at exit (stop_xmpp stops it
#                         earlier); sets $xmpp, $ca and $xopts (the client
#                         options of the portal's commands, without the
#                         password). Needs $src, the source tree.
#   odc_ports BAND COUNT  sets $port_base: the first of COUNT consecutive
#                         ports free on 127.0.0.1 (TCP and UDP) in the
#                         suite's own BAND of 1,000 ports (the table below)
odc_test_setup() {
    tmp=$(mktemp -d "/tmp/odc-$1-XXXXXX")
    chmod 755 "$tmp"
    pids=()
    passed=0
    failed=0
    trap odc_test_cleanup EXIT
}

odc_test_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${ODC_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

check() {
    local what=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

odc_test_end() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

odc_test_xmpp() {
    local port=$1
    shift
    xmpp=$tmp/xmpp
    stop_xmpp() { "$src/scripts/prosody" stop "$xmpp"; }
    trap 'stop_xmpp; odc_test_cleanup' EXIT
    "$src/scripts/prosody" start "$xmpp" "$port" "$@" || exit 1
    ca=$xmpp/localhost.crt
    xopts=(--host 127.0.0.1 --port "$port" --ca-file "$ca")
}

# The port bands, one per suite or bench: below Linux's ephemeral range
# (32768-60999 by default), so no client socket of another program takes a
# test's port between the check and the bind, and each suite in its own
# band, so two suites CTest runs side by side never pick the same port.
# The C suites take theirs from their bands by process id, unchecked
# (tests/test_snmp.c 10, tests/test_sim_day.c 11): a port taken makes their
# simulator fail to start, which they report.
#   12 snmp.bounds       13 sim.protocol      14 loops.sim
#   15 portal.xmpp       16 portal.faults     17 hostile.devices
#   18 golden.recordings 19 portal.exactly_once and bench_exactly_once
#   20 registry.sim      21 discover.sweep and bench_discover
#   22-23 scripts/demo
#   24 bench_loops       25 discover.sweep's interrupted sweep
#   26 bench_upload      27 bench_soak        28 cli.opendca
#   29 meters.week       30 alerts.day        31 alerts.notify
#   32 supplies.month and bench_supplies
odc_ports() {
    local band=$1 count=$2 try first
    for try in $(seq 0 49); do
        first=$(( band * 1000 + ( ($$ + try * 97) % (1000 / count) ) * count ))
        if python3 - "$first" "$count" <<'PY'
import socket, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
for port in range(first, first + count):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            sys.exit(1)
        finally:
            s.close()
PY
        then
            port_base=$first
            return 0
        fi
    done
    echo "odc_ports: no $count free ports in band $band ($((band * 1000))-$((band * 1000 + 999)))" >&2
    return 1
}

# odc_fleet_start ID FIRST YAML [SIM_ARGS...]: the sped-up fleet of the
# long checks against the simulator's truth (meters.week, alerts.day). Needs
# $opendca $portal $sim, $n devices, $speed, $simport and $xport, and
# odc_test_xmpp with collector:pw and portal:pw done. Starts the simulator
# (from address FIRST, its truth in $tmp/truth.jsonl, one clock with the
# collector: $epoch, set here, the wall clock now, and $sim_start, the
# simulated time then: ODC_FLEET_START, UTC YYYY-MM-DDTHH:MM:SS, default
# a Friday's 00:20 (a working day from its night on, whenever the test
# runs: a run's load and what it judges do not hang on the hour it is
# started), "now" for the wall clock; $simpid), writes the configuration $cfg
# (collector ID; YAML: its loops and whatever else the check needs;
# $fleet_portal_yaml: more keys of portal:) and starts the reference portal
# and `opendca run` ($run, its log $tmp/run.log).
odc_fleet_start() {
    local id=$1 first=$2 yaml=$3 net
    shift 3
    net=${first%.*.*}
    epoch=$(date +%s)
    export TZ=UTC
    local at=${ODC_FLEET_START:-2026-12-04T00:20:00}
    if [ "$at" = now ]; then
        sim_start=$epoch
    else
        sim_start=$(date -u -d "${at/T/ } UTC" +%s) || { echo "ODC_FLEET_START=$at: YYYY-MM-DDTHH:MM:SS (UTC) or now" >&2; return 1; }
    fi
    echo "  the simulated clock from $(date -u -d "@$sim_start" '+%a %Y-%m-%d %H:%M') UTC (ODC_FLEET_START)"
    "$sim" --devices "$n" --first "$first" --port "$simport" --speed "$speed" --epoch "$epoch" \
        --start "$(date -u -d "@$sim_start" +%Y-%m-%dT%H:%M:%S)" \
        --sleepers 0 --truth "$tmp/truth.jsonl" --latency 1-5 --control "$tmp/sim.sock" "$@" \
        >"$tmp/sim.log" 2>&1 &
    simpid=$!
    pids+=($simpid)
    for _ in $(seq 200); do grep -q ready "$tmp/sim.log" && break; sleep 0.05; done
    cfg=$tmp/c.yaml
    {
        printf 'collector:\n  id: %s\nstore:\n  path: %s\n  sync: false\n' "$id" "$tmp/state"
        printf 'clock:\n  speed: %d\n  epoch: %d\n  start: %d\n' "$speed" "$epoch" "$sim_start"
        printf 'snmp:\n  timeout_ms: 1500\n  retries: 1\n'
        printf '%s' "$yaml"
        printf 'portal:\n  jid: collector@localhost\n  password: pw\n  portal_jid: portal@localhost\n'
        printf '  host: 127.0.0.1\n  ports: [%d]\n  ca_file: %s\n%s' "$xport" "$ca" "${fleet_portal_yaml:-}"
        printf "registry:\n  missing_after_hours: 8760\n"
        printf 'devices:\n'
        for i in $(seq 1 "$n"); do
            printf '  - address: %s.%d.%d\n    port: %d\n' "$net" $((i / 256)) $((i % 256)) "$simport"
        done
    } >"$cfg"
    "$portal" run --store "$tmp/portal" --jid portal@localhost "${xopts[@]}" 2>>"$tmp/portal.log" &
    pids+=($!)
    for _ in $(seq 100); do grep -q "receiving as" "$tmp/portal.log" && break; sleep 0.1; done
    "$opendca" run -c "$cfg" 2>"$tmp/run.log" &
    run=$!
    pids+=($run)
}

# odc_fleet_wait END: until the wall clock's END (seconds), or the
# collector stopped.
odc_fleet_wait() {
    while [ "$(date +%s)" -lt "$1" ]; do
        sleep 2
        kill -0 "$run" 2>/dev/null || break
    done
}
