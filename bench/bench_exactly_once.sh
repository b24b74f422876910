#!/usr/bin/env bash
# bench_exactly_once.sh: the exactly-once campaign, full form, of
# tests/test_exactly_once.sh (the short form in the test run): a real
# Prosody, the reference portal and DEVICES simulated printers, the
# collector and the simulator CLOCK times fast; KILLS kill -9 of the
# collector while it uploads (each just after a jam reached a stored alert
# reading), PORTAL_KILLS kill -9 of the portal with a batch on its way,
# SERVER restarts of Prosody, portal outages of OUTAGES seconds (the last a
# simulated day at the clock), forged acks and a forged command from
# another account during each. Prints the counts by (kind, device, read
# time): accepted, delivered once, lost, duplicated; exit 1 when a reading
# was lost or arrived twice, or an outbox did not drain within a minute of
# the portal's return.
#
#   bench/bench_exactly_once.sh [DEVICES [KILLS [PORTAL_KILLS [SERVER [CLOCK [OUTAGES]]]]]]
#       default 500 100 20 10 600 "10 20 60 144"  (144 s = a day at 600x)
#   ODC_BUILD=DIR: binaries from DIR (default build)
#
# About 15 minutes on 2 cores.
set -u
cd "$(dirname "$0")/.."
build=${ODC_BUILD:-build}
devices=${1:-500}
kills=${2:-100}
portal_kills=${3:-20}
server=${4:-10}
clock=${5:-600}
outages=${6:-"10 20 60 $((86400 / clock))"}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "campaign: $devices devices at ${clock}x, $kills kill -9 of the collector, $portal_kills of the portal," \
    "$server restarts of Prosody, outages of $outages s"
t0=$SECONDS
ODC_ONCE_SPEED=$clock tests/test_exactly_once.sh "$build/opendca" "$build/opendca-portal" "$build/opendca-sim" \
    "$devices" "$kills" "$portal_kills" "$server" "$outages"
rc=$?
echo "campaign: $((SECONDS - t0)) s"
exit $rc
