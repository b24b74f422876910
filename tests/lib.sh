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
#   29 meters.week
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
