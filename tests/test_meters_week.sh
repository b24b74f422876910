#!/usr/bin/env bash
# test_meters_week.sh OPENDCA PORTAL SIM: a simulated week of a fleet
# (7,000 devices, 7 days; ODC_WEEK_DEVICES, ODC_WEEK_DAYS), its meters checked against the
# simulator's truth file (issue 16). The collector and the simulator share
# one sped-up clock (clock.epoch / --epoch, ODC_WEEK_SPEED times fast); the
# meter loop at its default intervals (20 / 240 minutes), the others once;
# the daily send at 02:00 through a real Prosody to the reference portal.
# The fleet prints only in working hours (--night-share 0), so a reading
# taken between 18:00 and 08:00 holds the counters the truth states at the
# midnight between; 1 % of the devices a day are reset (half of them with
# a restart) or taken away for hours or days.
#   - every canonical meter of every such reading the portal got equals
#     the truth's, and none is there that the truth does not state
#     (found / wrong / missed / spurious printed);
#   - every reset the simulator made is a "meter reset" event at the
#     portal, once (found / missed / spurious);
#   - no reading was rejected but the first after a reset without a
#     restart (the validator's 0 false rejections);
#   - the billing export: one row per device and day, its meters those of
#     the day's last reading.
set -u
opendca=$1
portal=$2
sim=$3
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup meters-week
odc_ports 29 2 || exit 1
xport=$port_base
simport=$((port_base + 1))
n=${ODC_WEEK_DEVICES:-7000}
speed=${ODC_WEEK_SPEED:-2400}
days=${ODC_WEEK_DAYS:-7}
odc_test_xmpp $xport portal:pw collector:pw
xopts+=(--password pw)

yaml="loops:
  meter: {in_hours: 20, out_of_hours: 240}
$(for l in alert identity supply tray; do echo "  $l: {in_hours: 10080, out_of_hours: 10080}"; done)
"
fleet_portal_yaml='  meters_at: "02:00"
'
odc_fleet_start week-test 127.56.0.1 "$yaml" --night-share 0 --changes 1 --change-kinds reset,away

# The days, and a simulated hour past the last daily send.
end=$((epoch + (days * 86400 + 3 * 3600) / speed + 2))
echo "  $n devices, $days days at ${speed}x: $(( (days * 86400 + 3 * 3600) / speed )) s"
odc_fleet_wait $end
# A device with a rejection: IMIL "show device" tells it.
rejected=$("$opendca" latest --rejections --json -c "$cfg" 2>/dev/null |
    python3 -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if not r.get("note"):
        print(r["header"]["device_id"]); break')
if [ -n "$rejected" ]; then
    "$opendca" imil "show device $rejected" -c "$cfg" >"$tmp/show.txt" 2>&1
    check "show device $rejected names its rejections" grep -q "readings rejected in all" "$tmp/show.txt"
fi
kill -TERM $run
wait $run
rc=$?
check "the collector ran the week and stopped cleanly (exit $rc)" [ $rc -eq 0 ]
kill -TERM $simpid
wait $simpid 2>/dev/null # its truth file whole
"$opendca" latest --rejections --json -c "$cfg" >"$tmp/rejections.jsonl" 2>"$tmp/rejections.txt"
"$portal" export --store "$tmp/portal" --format jsonl >"$tmp/portal.jsonl" 2>/dev/null
"$portal" export --store "$tmp/portal" --format csv >"$tmp/days.csv" 2>/dev/null
grep -E "device=- (validator|meters): " "$tmp/run.log" | sed 's/^.*device=- /  /'
check "the meters agree with the truth, the resets are reported once, nothing else rejected" \
    python3 "$src/tests/meters_check.py" "$tmp/truth.jsonl" "$tmp/portal.jsonl" \
    "$tmp/rejections.jsonl" "$tmp/days.csv" $((days * 86400)) "$tmp/run.log" $speed
odc_test_end
