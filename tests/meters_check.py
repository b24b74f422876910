#!/usr/bin/env python3
"""meters_check.py TRUTH PORTAL.jsonl REJECTIONS.jsonl DAYS.csv SECONDS [RUN.LOG SPEED]

The week of tests/test_meters_week.sh held against the simulator's truth:

- every meter reading at the portal taken while the fleet did not print
  (18:30-07:30 and weekends, simulated time; the fleet prints only in
  working hours) against the truth's "counters" line of the midnight in the
  same quiet stretch: each canonical meter the truth states equal, none
  missing, none the truth does not state;
- every "counters_reset" of the truth a DEVICE_EVENT_METER_RESET at the
  portal, once; no such event without a reset;
- every rejection the validator kept follows a reset of its device;
- the billing export (csv): one row per device and day, with the meters of
  that day's last reading.
Prints the counts; exits 1 when anything is off. For the first missed
resets, the device's timeline: the truth, the portal's readings and
events, and (with RUN.LOG) what the collector logged of it.
"""
import collections
import csv
import json
import re
import sys
import time

from truth import Truth

truth_path, portal_path, rej_path, csv_path, seconds = sys.argv[1:6]
seconds = int(seconds)
log_path = sys.argv[6] if len(sys.argv) > 6 else None
speed = float(sys.argv[7]) if len(sys.argv) > 7 else 0
# Two reads of a device (a reset without a restart takes two: rejected,
# then confirmed): 8 simulated hours (two passes out of hours), or, when
# the log says passes took longer (a loaded machine), the first read up to
# a pass's start-to-start plus the pass after the reset, the second one
# start-to-start after it.
two_reads = 8 * 3600
if log_path and speed:
    took = interval = 0.0
    for line in open(log_path, errors="replace"):
        m = re.search(r"meter pass \d+: .*?; ([0-9.]+) s of ([0-9.]+) s", line)
        if m:
            took, interval = max(took, float(m.group(1))), max(interval, float(m.group(2)))
    two_reads = max(two_reads, (2 * max(took, interval) + took) * speed)
missed_at = []  # (device, simulated s): their timelines printed at the end
SLACK = 600

index_of = {}                                # address -> device index
counters = collections.defaultdict(dict)     # index -> {midnight: meters}
resets = collections.defaultdict(list)       # index -> [(t, restarted, hidden)]
unread_resets = collections.defaultdict(list)  # index -> resets no counter read has followed yet
changes = collections.defaultdict(list)      # index -> times of resets, offline, online
away = collections.defaultdict(list)         # index -> [("offline" or "online", t)]
truth = Truth(truth_path)
start = None
unseen = 0
for e in truth.events:
    ev, t, i = e["event"], e["sim_s"], e["index"]
    if ev == "present":
        index_of[e["device"]] = i
        start = t if start is None else min(start, t)
    elif ev == "counters":
        counters[i][t] = e["meters"]
    elif ev == "counters_reset":
        changes[i].append(t)
        if e["old_total"] == 0 or e.get("read_total", 1) == 0:
            # Nothing printed since the last, or nothing before the last
            # read of it (the simulator's read_total): nothing to see.
            unseen += 1
        else:
            unread_resets[i].append((t, e["restarted"], False))
    elif ev == "reset_read":
        # The first two counter reads (passes) after the resets before it:
        # a total not below what the last read before them saw (printed
        # past it in between) at either shows no reset to any collector,
        # which confirms a counter gone down by two readings.
        # A device that restarted may tell it all the same: judged when
        # not reported.
        hidden = e["total"] >= e["before"]
        if hidden or e.get("n", 2) == 2:
            resets[i].extend((t, restarted, hidden) for t, restarted, _ in unread_resets.pop(i, []))
    elif ev in ("offline", "online"):
        changes[i].append(t)
        away[i].append((ev, t))
end = start + seconds
for i, rs in unread_resets.items():
    resets[i].extend(rs)  # never read since: judged as before (late, gone, unread)


def address_of(text):
    return (text or "").rsplit(":", 1)[0] if (text or "").count(":") == 1 else (text or "")


def quiet(t):
    tm = time.gmtime(t)
    h = tm.tm_hour + tm.tm_min / 60
    if tm.tm_wday >= 5:
        return not (tm.tm_wday == 5 and h < 0.5)  # Friday's evening ends past midnight anyway
    return h < 7.5 or h >= 18.5


def printing(t):
    tm = time.gmtime(t)
    return tm.tm_wday < 5 and 8 <= tm.tm_hour < 18


def midnight(t):
    """The midnight in the same quiet stretch as t."""
    tm = time.gmtime(t)
    prev = t - t % 86400
    return prev if tm.tm_hour < 8 or tm.tm_wday >= 5 else prev + 86400


records = [json.loads(l) for l in open(portal_path)]
meters = [r for r in records if r["kind"] == "meters"]
events = [r["reading"] for r in records
          if r["kind"] == "event" and r["reading"].get("type") == "DEVICE_EVENT_METER_RESET"]

n = collections.Counter()
examples = []
for r in meters:
    m = r["reading"]
    h = m.get("header", {})
    i = index_of.get(address_of(h.get("address")))
    t = h.get("collector_ms", 0) // 1000
    if i is None or not t:
        n["unplaced"] += 1
        continue
    n["readings"] += 1
    if not quiet(t):
        continue
    mid = midnight(t)
    # A reading holds what the simulator served, as of its last step (s,
    # behind the clock on a loaded machine, plus a few requests' latency):
    # printing between s and t, or changes within SLACK of the stretch,
    # make it not comparable.
    s = truth.served(t)
    if any(printing(x) for x in range(s, t + 1, 60)):
        n["lagging"] += 1
        continue
    if mid not in counters[i] or any(min(s, mid) - SLACK <= c <= max(t, mid) + SLACK
                                     for c in changes[i]):
        continue
    n["checked"] += 1
    want = counters[i][mid]
    got = {c["name"]: c.get("value", 0) for c in m.get("canonical", [])}
    for name, value in want.items():
        if name not in got:
            n["missed"] += 1
            examples.append(f"{h.get('device_id')} {name}: missing (truth {value})")
        elif got[name] != value:
            n["wrong"] += 1
            examples.append(f"{h.get('device_id')} {name}: {got[name]} (truth {value}) at {t}")
        else:
            n["found"] += 1
    for name in got:
        if name not in want:
            n["spurious"] += 1
            examples.append(f"{h.get('device_id')} {name}: {got[name]}, not in the truth")
print(f"  meters: {n['readings']} readings at the portal, {n['checked']} taken while the fleet "
      f"was idle: {n['found']} canonical meters found equal, {n['wrong']} wrong, "
      f"{n['missed']} missed, {n['spurious']} spurious ({n['unplaced']} not placed, "
      f"{n['lagging']} served by the simulator from working hours: it lagged the clock)")
lag = truth.lags()
if lag:
    print(f"  the simulator's steps behind the clock: median {sorted(lag)[len(lag) // 2]} s, "
          f"most {max(lag)} s (simulated)")
for x in examples[:10]:
    print("    " + x)
ok = n["checked"] > 0 and n["found"] > 0 and not (n["wrong"] or n["missed"] or n["spurious"])

# Resets: each once; those of the last simulated day may not have been read yet.
reported = collections.defaultdict(list)
for e in events:
    i = index_of.get(address_of(e.get("address")))
    reported[i].append(e.get("at_ms", 0) // 1000)
found = missed = spurious = late = merged = unread = gone = 0


def gone_after(i, t):
    """Away at t or within two reads after it (two_reads), and not back a
    day before the end: not read twice since."""
    state, leave = None, None
    for ev, x in sorted(away[i], key=lambda e: e[1]):
        if x <= t:
            state = ev
        elif ev == "offline" and x <= t + two_reads and leave is None:
            leave = x
    leave = t if state == "offline" else leave
    return leave is not None and not any(ev == "online" and leave < x < end - 86400
                                         for ev, x in away[i])


first_read = collections.defaultdict(list)
for r in meters:
    h = r["reading"].get("header", {})
    first_read[index_of.get(address_of(h.get("address")))].append(h.get("collector_ms", 0) // 1000)
how = collections.Counter(e.get("how") for e in events)
for i in set(resets) | set(reported):
    times = sorted(reported.get(i, []))
    rs = sorted(resets.get(i, []))
    used = set()
    for k, (t, restarted, hidden) in enumerate(rs):
        upto = rs[k + 1][0] if k + 1 < len(rs) else end + 86400
        match = [j for j, at in enumerate(times) if t <= at < upto and j not in used]
        if match:
            used.add(match[0])
            found += 1
        elif t > end - 86400:
            late += 1
        elif hidden:
            unseen += 1
        elif not any(at < t for at in first_read.get(i, [])):
            unread += 1  # before the portal had a reading of it: what it lost is not known
        elif k + 1 < len(rs) and not [at for at in times if t <= at < rs[k + 1][0]]:
            merged += 1  # reset again before it was read: one event for both
        elif gone_after(i, t):
            gone += 1  # confirmed by two readings (or seen at a restart): none came
        else:
            missed += 1
            print(f"    reset missed: device {i} at {t} (restarted {restarted})")
            missed_at.append((i, t))
    spurious += len(times) - len(used)
    for j, at in enumerate(times):
        if j not in used:
            print(f"    spurious meter reset: device {i} at {at}")
print(f"  two reads of a device: {two_reads:.0f} s simulated at the most")
print(f"  resets: {sum(len(v) for v in resets.values())} in the truth: {found} reported once, "
      f"{missed} missed, {spurious} spurious; {late} in the last day not read yet, {merged} "
      f"reset again before a reading, {unseen} of a counter read at 0 last or printed past its last read before the "
      f"next (nothing to see), "
      f"{unread} before the portal had a reading of the device, {gone} while it was away "
      f"(or taken away before two readings) and not back; "
      f"events by how: {dict(how)}")
ok = ok and found > 0 and not missed and not spurious

# Rejections: only after a reset.
false = true_ = notes = 0
for l in open(rej_path):
    x = json.loads(l)
    if x.get("note"):
        notes += 1
        continue
    i = index_of.get(address_of(x.get("header", {}).get("address")))
    at = x.get("at_ms", 0) // 1000
    if any(t <= at <= t + 4 * 86400 for t, *_ in resets.get(i, [])):
        true_ += 1
    else:
        false += 1
        print(f"    false rejection: {x.get('header', {}).get('device_id')} {x.get('field')} "
              f"{x.get('reason')}")
print(f"  rejections: {true_} after a reset, {false} false; {notes} notes")
ok = ok and false == 0

# The billing export.
rows = list(csv.DictReader(open(csv_path)))
keys = [(r["collector"], r["device"], r["day"]) for r in rows]
last = {}
for r in meters:
    h = r["reading"].get("header", {})
    ms = h.get("collector_ms") or h.get("finished_ms", 0)
    day = time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))
    k = (r["collector"], h.get("device_id"), day)
    if k not in last or ms >= last[k][0]:
        last[k] = (ms, {c["name"]: c.get("value", 0) for c in r["reading"].get("canonical", [])})
bad = 0
for row in rows:
    k = (row["collector"], row["device"], row["day"])
    want = last.get(k, (0, {}))[1]
    for name in ("total", "mono", "colour", "large", "a4_equivalent"):
        if (row[name] or None) != (str(want[name]) if name in want else None):
            bad += 1
print(f"  billing export: {len(rows)} rows (device days), {len(last)} device days at the portal, "
      f"{len(keys) - len(set(keys))} repeated, {bad} values unlike the day's last reading")
ok = ok and rows and len(keys) == len(set(keys)) and len(rows) == len(last) and bad == 0

# The timelines of the first missed resets: what the truth, the portal and
# the collector's log say of the device from a day before to a day after.
address_by_index = {v: k for k, v in index_of.items()}
for i, t in missed_at[:3]:
    addr = address_by_index.get(i, "?")
    print(f"  timeline of device {i} ({addr}) around its reset at {t}:")
    for e in truth.events:
        if e["index"] == i and t - 86400 <= e["sim_s"] <= t + 86400:
            print(f"    truth {e['sim_s']}: {e['event']} "
                  f"{ {k: v for k, v in e.items() if k not in ('t', 'sim_s', 'device', 'index', 'serial', 'event')} }")
    for r in meters:
        h = r["reading"].get("header", {})
        at = h.get("collector_ms", 0) // 1000
        if address_of(h.get("address")) == addr and t - 86400 <= at <= t + 86400:
            total = next((c.get("value") for c in r["reading"].get("canonical", [])
                          if c["name"] == "total"), None)
            print(f"    portal reading {at}: total {total}, uptime "
                  f"{r['reading'].get('sys_uptime_cs')} cs")
    for e in events:
        if address_of(e.get("address")) == addr:
            print(f"    portal event {e.get('at_ms', 0) // 1000}: {e.get('how')} {e}"[:300])
    if log_path:
        for line in open(log_path, errors="replace"):
            if f"device={addr}:" in line:
                print("    log " + line.rstrip()[:250])
sys.exit(0 if ok else 1)
