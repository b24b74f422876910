#!/usr/bin/env bash
# bench_alerts.sh [DEVICES [SPEED [HOURS]]]: alert triage against the
# simulator's truth (tests/test_alerts_day.sh, issue 17) at a clock slow
# enough that an alert pass fits its interval (default 7,000 devices at 60x
# for 2 simulated hours: a pass of ~2.3 s real is ~2.3 simulated minutes,
# within the 3-minute interval). Prints the alerts found, missed and
# spurious, how long after the truth each was raised and cleared (p50, p90,
# p99: the alert latency on the collector's clock, simulated seconds), and
# the alert records per device per day that reached the portal: the alert
# loop's readings, and triage's events.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${ODC_BUILD:-$here/../build}
ODC_ALERTS_DEVICES=${1:-7000} ODC_ALERTS_SPEED=${2:-60} ODC_ALERTS_HOURS=${3:-2} \
    exec "$here/../tests/test_alerts_day.sh" "$build/opendca" "$build/opendca-portal" "$build/opendca-sim"
