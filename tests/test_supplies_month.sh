#!/usr/bin/env bash
# test_supplies_month.sh OPENDCA PORTAL SIM: a simulated month of a fleet's
# supplies (1,000 devices, 30 days; ODC_MONTH_DEVICES, ODC_MONTH_DAYS,
# ODC_MONTH_SPEED; bench/bench_supplies.sh runs 7,000), its forecasts,
# requests and replacements checked against the simulator's truth (issue
# 18). The simulator uses each device's supplies at a rate of its own
# (coverage, in its truth), a third of the devices tell their levels in
# steps of 10 %, half the customers change a supply once it says low, the
# others when it is empty (the truth's supply_out: the moment it ran out).
# The supply and meter loops at 60 / 240 minutes, the others once; the
# records through a real Prosody to the reference portal.
#   - the forecast the portal had 7 (and 14) days before each supply ran
#     out: its error in days (median, 90 %, printed); at 7 days the median
#     at most 1 day and 70 % within 2 (issue 18 asks 90 %: not reached
#     yet, the check says so);
#   - the supplies that ran out had their request at least
#     supplies.request_days (7) before (found / late / missed: at most 25 %
#     late, 5 % missed; issue 18 asks none); requests for supplies that
#     neither ran out nor were changed (spurious, at most 5 %);
#   - every replacement one event (found / missed / spurious).
set -u
opendca=$1
portal=$2
sim=$3
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup supplies-month
odc_ports 32 2 || exit 1
xport=$port_base
simport=$((port_base + 1))
n=${ODC_MONTH_DEVICES:-1000}
speed=${ODC_MONTH_SPEED:-7200}
days=${ODC_MONTH_DAYS:-30}
odc_test_xmpp $xport portal:pw collector:pw
xopts+=(--password pw)

yaml="loops:
  meter: {in_hours: 60, out_of_hours: 240}
  supply: {in_hours: 60, out_of_hours: 240}
$(for l in alert identity tray; do echo "  $l: {in_hours: 10080, out_of_hours: 10080}"; done)
"
odc_fleet_start month-test 127.58.0.1 "$yaml" --changes 0

end=$((epoch + (days * 86400 + 3600) / speed + 2))
echo "  $n devices, $days days at ${speed}x: $(( (days * 86400 + 3600) / speed )) s"
odc_fleet_wait $end
# A device whose supplies have a forecast: IMIL "show device" tells it.
shown=
for k in $(seq 1 40); do
    "$opendca" imil "show device 127.58.0.$k" -c "$cfg" >"$tmp/show.txt" 2>&1
    grep -q "days left" "$tmp/show.txt" && { shown=127.58.0.$k; break; }
done
check "show device tells a supply's SKU and days left (${shown:-none of 40})" \
    grep -qE "(SKU [^,]+|no SKU), [a-z_]+.*days left" "$tmp/show.txt"
kill -TERM $run
wait $run
rc=$?
check "the collector ran the month and stopped cleanly (exit $rc)" [ $rc -eq 0 ]
kill -TERM $simpid
wait $simpid 2>/dev/null # its truth file whole
"$portal" export --store "$tmp/portal" --format jsonl >"$tmp/portal.jsonl" 2>/dev/null
"$portal" fleet --store "$tmp/portal" >"$tmp/fleet.txt" 2>&1
check "opendca-portal fleet shows days left per supply" grep -q "days left" "$tmp/fleet.txt"
grep -E "device=- (supplies|meters): " "$tmp/run.log" | sed 's/^.*device=- /  /'
check "the forecasts, requests and replacements agree with the truth" \
    python3 "$src/tests/supplies_check.py" "$tmp/truth.jsonl" "$tmp/portal.jsonl" \
    $((days * 86400)) 7
odc_test_end
