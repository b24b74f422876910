#!/usr/bin/env bash
# test_alerts_day.sh OPENDCA PORTAL SIM: a simulated day of a fleet (7,000
# devices, 24 hours; ODC_ALERTS_DEVICES, ODC_ALERTS_HOURS), its alerts
# checked against the simulator's truth file (issue 17). The collector and
# the simulator share one sped-up clock (ODC_ALERTS_SPEED times fast); the
# alert loop at its default intervals (3 / 15 minutes), the others once
# (at 480x a pass over 7,000 devices takes some 40 simulated minutes: the
# check's "one pass" is what the log says; bench/bench_alerts.sh runs it
# slower, where a pass fits its interval);
# triage's events through a real Prosody to the reference portal. The
# simulator's jams (a fifth of them raised again a minute after they
# cleared, as makers do), doors, service calls, supplies and trays, and 1 %
# of the devices taken away for hours or days.
#   - every alert of the truth is raised once at the portal with the code
#     and category its kind has, raised and cleared within one alert pass
#     of the truth's times; a flap is one alert; 0 spurious, 0 missed;
#   - every time away longer than 5 passes is one "not responding" raised
#     and one cleared at the first answer again ("monitoring resumed");
#   - the alert records per device per day reaching the portal, raw
#     readings and triage's events (printed).
set -u
opendca=$1
portal=$2
sim=$3
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup alerts-day
odc_ports 30 2 || exit 1
xport=$port_base
simport=$((port_base + 1))
n=${ODC_ALERTS_DEVICES:-7000}
speed=${ODC_ALERTS_SPEED:-480}
hours=${ODC_ALERTS_HOURS:-24}
window=10
odc_test_xmpp $xport portal:pw collector:pw
xopts+=(--password pw)

yaml="loops:
$(for l in identity meter supply tray; do echo "  $l: {in_hours: 10080, out_of_hours: 10080}"; done)
triage:
  repeat_window_minutes: $window
  unreachable_passes: 5
"
odc_fleet_start alerts-test 127.57.0.1 "$yaml" --changes 1 --change-kinds away

seconds=$((hours * 3600))
end=$((epoch + seconds / speed + 2))
echo "  $n devices, $hours hours at ${speed}x: $((seconds / speed)) s"
odc_fleet_wait $end
# A device with an open alert: IMIL "show device" lists it.
open=$(python3 -c 'import re, sys
state = {}
for l in open(sys.argv[1]):
    m = re.search(r"device=(\S+) alert (raised|cleared): (\w+)", l)
    if m and m.group(3) in ("jam", "door_open", "toner_low", "paper_empty"):
        state[(m.group(1), m.group(3))] = m.group(2)
print(next((d for (d, c), s in state.items() if s == "raised"), ""))' "$tmp/run.log")
if [ -n "$open" ]; then
    "$opendca" imil "show device $open" -c "$cfg" >"$tmp/show.txt" 2>&1
    check "show device $open lists its open alert" grep -qE "^  (jam|door_open|toner_low|paper_empty) \(" "$tmp/show.txt"
fi
kill -TERM $run
wait $run
rc=$?
check "the collector ran the day and stopped cleanly (exit $rc)" [ $rc -eq 0 ]
kill -TERM $simpid
wait $simpid 2>/dev/null # its truth file whole
# What is in the outbox still reaches the portal before the export.
"$portal" export --store "$tmp/portal" --format jsonl >"$tmp/portal.jsonl" 2>/dev/null
grep -E "triage:" "$tmp/run.log" | sed 's/^.*device=- /  /'
check "the alerts agree with the truth: each once, in time, none spurious" \
    python3 "$src/tests/alerts_check.py" "$tmp/truth.jsonl" "$tmp/portal.jsonl" "$tmp/run.log" \
    $seconds $speed $((window * 60)) 5 $epoch $sim_start
odc_test_end
