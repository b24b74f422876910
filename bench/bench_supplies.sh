#!/usr/bin/env bash
# bench_supplies.sh [DEVICES [SPEED [DAYS]]]: supply forecasts, requests and
# replacements against the simulator's truth (tests/test_supplies_month.sh,
# issue 18) at the issue's scale: default 7,000 devices for a simulated
# month at 1,800x (a supply or meter pass of ~2 s real is ~1 simulated
# hour, its working-hours interval). Prints the forecast error 7 and 14
# days before each supply ran out (median, 90 %, a histogram in days),
# the requests told ahead, late, missed and spurious, and the
# replacements found, missed and spurious.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${ODC_BUILD:-$here/../build}
ODC_MONTH_DEVICES=${1:-7000} ODC_MONTH_SPEED=${2:-1800} ODC_MONTH_DAYS=${3:-30} \
    exec "$here/../tests/test_supplies_month.sh" "$build/opendca" "$build/opendca-portal" "$build/opendca-sim"
