#!/usr/bin/env python3
"""alerts_check.py TRUTH PORTAL.jsonl RUN.LOG SECONDS SPEED WINDOW_S PASSES

The day of tests/test_alerts_day.sh held against the simulator's truth:

- every alert the simulator raised (alert_raised .. alert_cleared in its
  truth file) is one alert at the portal (one raised again soon after its
  clear may be the one before, with a flap: see below): raised once, with
  the standard code and category its kind has (the table below: what the
  simulator means, not what snmp/alert-codes.tsv says), raised within one
  alert pass of the truth's time and cleared within one pass of its
  clear; the alerts the portal has that the truth has not are spurious;
- every period a device was away (offline .. online) longer than PASSES
  alert passes is one "not_responding" raised and cleared ("monitoring
  resumed"); none for a device that was not away.

"One pass" is how far apart two reads of a device can be: the alert
interval or the longest alert pass of the run's log (whichever is longer)
plus that pass, plus the simulator's lag behind the clock.
Prints the counts and the error distributions; exits 1 on any miss or
spurious alert.
"""
import collections
import json
import os
import re
import sys
import time

from truth import Truth

truth_path, portal_path, log_path = sys.argv[1:4]
seconds, speed, window, passes = (float(x) for x in sys.argv[4:8])
# The shared clock's epoch (clock.epoch): the portal's receive times (wall
# clock) on the simulated clock, for the latency to the portal's store.
epoch = float(sys.argv[8]) if len(sys.argv) > 8 else None
# The simulated time at that epoch (clock.start; the epoch itself if not given).
sim_start = float(sys.argv[9]) if len(sys.argv) > 9 else epoch

# What each of the simulator's alerts is (bench/sim/sim_fleet.c s_raise):
# prtAlertCode -> (opendca code, category).
EXPECTED = {
    8: ("jam", "jam"),
    501: ("door_open", "cover"),
    30: ("hardware_failure", "service"),
    1104: ("toner_low", "supply"),
    1105: ("ink_low", "supply"),
    1107: ("waste_near_full", "supply"),
    1101: ("toner_empty", "supply"),
    1102: ("ink_empty", "supply"),
    1109: ("waste_full", "supply"),
    808: ("paper_empty", "paper"),
}


def address_of(text):
    return (text or "").rsplit(":", 1)[0] if (text or "").count(":") == 1 else (text or "")


index_of = {}
alerts = collections.defaultdict(list)   # device -> [alert dicts]
opened = {}                              # (device, code, text) -> alert
away = collections.defaultdict(list)     # device -> [[offline, online or None]]
truth = Truth(truth_path)
start = None
for e in truth.events:
    ev, t, i = e["event"], e["sim_s"], e["index"]
    if ev == "present":
        index_of[e["device"]] = i
        start = t if start is None else min(start, t)
    elif ev == "alert_raised":
        key = (i, e["code"], e["text"])
        a = {"key": key, "code": e["code"], "raised": t, "cleared": None, "flaps": 0}
        alerts[i].append(a)
        opened[key] = a
    elif ev == "alert_row":
        # A maker's row more for an open jam: the same alert, a repeat.
        key = (i, e["code"], e["text"])
        if key in opened:
            opened[key]["rows"] = opened[key].get("rows", 0) + 1
    elif ev == "alert_cleared":
        key = (i, e["code"], e["text"])
        if key in opened:
            opened.pop(key)["cleared"] = t
    elif ev == "offline":
        away[i].append([t, None])
    elif ev == "online":
        if away[i] and away[i][-1][1] is None:
            away[i][-1][1] = t
end = start + seconds


# Two reads of a device: at most a pass's start-to-start (its interval, or
# the pass when it overran) plus the pass itself apart (read first in one
# pass and last in the next), from the passes the log tells.
took = interval = 0.0
for line in open(log_path):
    m = re.search(r"alert pass \d+: .*?; ([0-9.]+) s of ([0-9.]+) s", line)
    if m:
        took = max(took, float(m.group(1)) * speed)
        interval = max(interval, float(m.group(2)) * speed)
longest = max(took, interval) + took
most_lag = max(truth.lags(), default=0)
tol = longest + most_lag + 60  # + a simulator step
# A clear that leaves the status as it was (one of two trays refilled) is
# seen at the table's walk every 5 passes (actors/odc_loop_actor.c,
# S_TABLE_PASSES).
clear_tol = tol + 4 * max(took, interval)
print(f"  alert passes: {took:.0f} s simulated at the most, every {interval:.0f} s: two reads "
      f"of a device {longest:.0f} s apart at the most; the simulator lagged {most_lag} s at "
      f"the most; tolerance {tol:.0f} s, for a clear {clear_tol:.0f} s")

# What the portal got: the events of each alert id.
records = [json.loads(l) for l in open(portal_path)]
reported = collections.OrderedDict()
raw_alert_records = sum(r["kind"] == "alert" for r in records)
event_records = supply_requests = 0
for r in records:
    if r["kind"] != "alert-event":
        continue
    event_records += 1
    e = r["reading"]
    a = e.get("alert", {})
    if a.get("code") == "supply_request":
        supply_requests += 1  # the supplies actor's, not the device's (supplies.month judges them)
        continue
    rid = a.get("alert_id")
    x = reported.setdefault(rid, {"device": index_of.get(address_of(e.get("address"))),
                                  "code": a.get("code"), "category": a.get("category"),
                                  "text": a.get("description"),
                                  "raised": None, "cleared": None, "events": collections.Counter(),
                                  "flaps": 0})
    x["events"][e.get("type")] += 1
    x["repeats"] = max(x.get("repeats", 0), a.get("repeats", 0))
    if e.get("type") == "ALERT_RAISED":
        x["raised"] = a.get("raised_ms", 0) / 1000
        if epoch and r.get("received_ms"):
            x["stored"] = sim_start + (r["received_ms"] / 1000 - epoch) * speed
        x["decided"] = e.get("at_ms", 0) / 1000
    elif e.get("type") == "ALERT_CLEARED":
        x["cleared"] = a.get("cleared_ms", 0) / 1000
        x["flaps"] = a.get("flaps", 0)

n = collections.Counter()
raise_err, clear_err, stored_err, stored_later = [], [], [], []
detect_later, pipe_later = [], []
# The end of the first alert pass (it reads every table) on the simulated
# clock: the latency after it is the steady state's.
first_pass_end = None
if epoch:
    for line in open(log_path):
        m = re.match(r"(\S+)Z .*alert pass 1: ", line)
        if m:
            wall = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            first_pass_end = sim_start + (wall - epoch) * speed
            break
examples = []
failures = []  # (device, simulated s): their timelines printed at the end
used = set()
by_device = collections.defaultdict(list)
for rid, x in reported.items():
    by_device[x["device"]].append((rid, x))


def away_at(i, t, before=None):
    """Away at t, or gone within `before` after it (default a pass's tolerance)."""
    before = tol if before is None else before
    return any(off - before <= t <= (on if on is not None else end) + tol for off, on in away[i])


for i, lst in alerts.items():
    # A condition back soon after it went: within the repeat window of the
    # read that saw it gone, one alert with a flap; if no read fell in the
    # gap, one alert as well. Which, is a matter of when the reads fell, so
    # for a gap up to the window plus a clear's tolerance one alert or two
    # at the portal are both right.
    last_clear = {}
    for a in lst:
        prev = last_clear.get(a["key"])
        a["hidden_gap"] = prev is not None and a["raised"] - prev["cleared"] <= window + clear_tol
        if prev is not None and a["raised"] - prev["cleared"] <= window:
            n["truth flaps"] += 1
        if a["hidden_gap"]:
            prev["gap_after"] = True
        if a["cleared"] is not None:
            last_clear[a["key"]] = a
    for a in lst:
        if a["raised"] > end - tol:
            n["late"] += 1  # raised in the last pass: not read yet
            continue
        want = EXPECTED.get(a["code"])
        # Raised while it did not answer: seen when it answers again.
        seen_from = max([a["raised"]] + [on for off, on in away[i] if on is not None
                                          and off - tol <= a["raised"] <= on])
        cand = [(rid, x) for rid, x in by_device.get(i, []) if rid not in used
                and x["raised"] is not None and x["code"] == (want or ("?",))[0]
                and x["text"] == a["key"][2]
                and a["raised"] - 60 <= x["raised"] <= seen_from + tol + truth.lag(seen_from + tol)]
        if not cand and away_at(i, a["raised"]):
            n["while away"] += 1  # raised and maybe cleared while it did not answer
            continue
        if not cand and a["hidden_gap"]:
            n["one with the last"] += 1  # no read in the gap: the same alert at the portal
            continue
        if not cand and a["cleared"] is not None and a["cleared"] - a["raised"] < tol:
            n["short"] += 1  # over between two reads of the device: no collector sees it
            continue
        if not cand:
            n["missed"] += 1
            failures.append((i, a["raised"]))
            examples.append(f"missed: device {i} code {a['code']} raised {a['raised']}")
            continue
        rid, x = cand[0]
        used.add(rid)
        n["raised"] += 1
        if a.get("rows"):
            n["with rows"] += 1
            n["rows"] += a["rows"]
            n["rows told"] += x.get("repeats", 0) > 0
        if x["category"] != want[1]:
            n["wrong category"] += 1
            examples.append(f"category: device {i} {x['code']} {x['category']} (want {want[1]})")
        if x["events"]["ALERT_RAISED"] != 1:
            n["raised twice"] += 1
        raise_err.append(x["raised"] - a["raised"])
        if x.get("stored"):
            stored_err.append(x["stored"] - a["raised"])
            if first_pass_end is not None and a["raised"] > first_pass_end:
                stored_later.append(x["stored"] - a["raised"])
                if x.get("decided"):
                    detect_later.append(x["decided"] - a["raised"])
                    # From triage's decision to the portal's store, real s.
                    pipe_later.append((x["stored"] - x["decided"]) / speed)
        if a["cleared"] is None:
            if x["cleared"] is not None and x["cleared"] < end - tol:
                n["cleared early"] += 1
                examples.append(f"cleared but open: device {i} code {a['code']}")
            continue
        if a["cleared"] > end - window - clear_tol:
            continue  # its clear waits out the window past the end
        if a.get("gap_after"):
            n["clear in a gap"] += 1  # back within a pass: its clear may not be seen
            continue
        # A clear that leaves the status as it was is seen at the next walk of
        # the table, up to clear_tol later: a device gone before then shows it
        # at its return, if it returns.
        if x["cleared"] is None and away_at(i, a["cleared"], clear_tol):
            n["cleared while away"] += 1  # seen at its return, if it returned
            continue
        if x["cleared"] is None:
            n["not cleared"] += 1
            failures.append((i, a["cleared"]))
            examples.append(f"not cleared: device {i} code {a['code']} cleared {a['cleared']}")
            continue
        n["cleared"] += 1
        err = x["cleared"] - a["cleared"]
        if away_at(i, a["cleared"], clear_tol):
            n["cleared while away"] += 1  # seen at its return
        elif not (-60 <= err <= clear_tol):
            n["clear off"] += 1
            failures.append((i, a["cleared"]))
            examples.append(f"clear off by {err:.0f} s: device {i} code {a['code']} "
                            f"{a['key'][2]!r} {a['raised']}..{a['cleared']}, at the portal "
                            f"{x['raised']:.0f}..{x['cleared']:.0f}")
        clear_err.append(err)

# Not responding: one per away period longer than PASSES passes.
silent = {rid: x for rid, x in reported.items() if x["code"] == "not_responding"}
for rid in silent:
    used.add(rid)
long_away = 0
for i, periods in away.items():
    for off, on in periods:
        if off > end - tol * (passes + 1):
            continue
        if on is not None and on - off <= tol * (passes + 1):
            continue  # short, or close to the bound: either way
        long_away += 1
        got = [x for x in silent.values() if x["device"] == i and off - tol <= (x["raised"] or 0)
               <= (on if on is not None else end) + tol]
        if len(got) != 1:
            n["not responding missed"] += 1
            examples.append(f"not responding: device {i} away {off}..{on}: {len(got)} alerts")
            continue
        n["not responding"] += 1
        if on is not None and on < end - tol:
            if got[0]["cleared"] is None:
                n["not resumed"] += 1
                examples.append(f"monitoring not resumed: device {i} back at {on}")
            else:
                n["resumed"] += 1
for x in silent.values():
    if not any(off - tol <= (x["raised"] or 0) <= (on if on is not None else end) + tol
               for off, on in away.get(x["device"], [])):
        n["not responding spurious"] += 1
        examples.append(f"not responding without an outage: device {x['device']}")
late = [x for rid, x in reported.items() if rid not in used and (x["raised"] or 0) > end - tol]
spurious = [x for rid, x in reported.items() if rid not in used and (x["raised"] or 0) <= end - tol]
n["reported late"] = len(late)  # the truth's of those is not judged either
n["spurious"] = len(spurious)
for x in spurious[:5]:
    examples.append(f"spurious: device {x['device']} {x['code']} {x['text']!r} raised "
                    f"{x['raised']:.0f}")


def dist(v):
    if not v:
        return "-"
    v = sorted(v)
    return (f"p50 {v[len(v) // 2]:.0f} s, p90 {v[int(len(v) * 0.9)]:.0f} s, "
            f"p99 {v[int(len(v) * 0.99)]:.0f} s, max {v[-1]:.0f} s (simulated)")


total = sum(len(v) for v in alerts.values())
flaps = sum(x["flaps"] for x in reported.values())
print(f"  truth: {total} alerts ({n['truth flaps']} raised again within the repeat window of "
      f"their clear; triage told {flaps} flaps), "
      f"{sum(len(v) for v in away.values())} times away ({long_away} long enough to tell)")
print(f"  alerts: {n['raised']} raised once, {n['cleared']} cleared, {n['missed']} missed, "
      f"{n['spurious']} spurious ({n['reported late']} in the last pass not judged), "
      f"{n['wrong category']} with a wrong category, "
      f"{n['raised twice']} raised twice, {n['not cleared']} not cleared, {n['clear off']} "
      f"cleared off time, {n['cleared early']} cleared while open; {n['late']} in the last pass, "
      f"{n['while away']} raised while away, {n['cleared while away']} cleared while away, "
      f"{n['short']} unseen that lasted less than a pass, {n['one with the last']} back within "
      f"a pass of their clear and one alert with the last, {n['clear in a gap']} clears "
      f"followed by the same within a pass")
print(f"  raised after the truth: {dist(raise_err)}; cleared after the truth: {dist(clear_err)}")
print(f"  makers' repeated rows: {n['rows']} rows more for {n['with rows']} jams, "
      f"{n['rows told']} of them told as one alert with repeats")
if stored_err:
    v = sorted(stored_err)
    p50, p99 = v[len(v) // 2], v[int(len(v) * 0.99)]
    print(f"  latency, the truth's raise to the event in the portal's store: {dist(stored_err)}; "
          f"p50 {p50 / speed:.1f} s, p99 {p99 / speed:.1f} s real at {speed:.0f}x "
          f"(goal: p99 within the alert interval plus 5 s)")
if stored_later:
    v = sorted(stored_later)
    print(f"  the same for the alerts raised after the first pass ({len(v)}): {dist(v)}; "
          f"p50 {v[len(v) // 2] / speed:.1f} s, p99 {v[int(len(v) * 0.99)] / speed:.1f} s real")
if detect_later and pipe_later:
    d, q = sorted(detect_later), sorted(pipe_later)
    p99d, p99q = d[int(len(d) * 0.99)], q[int(len(q) * 0.99)]
    print(f"  of which: seen and decided by triage {dist(d)}; from triage to the portal's store "
          f"p50 {q[len(q) // 2]:.2f} s, p99 {p99q:.2f} s, max {q[-1]:.2f} s real (the bridge's "
          f"batching and XMPP; the same at any clock speed)")
    print(f"  at 1x: p99 {p99d:.0f} s to be seen (the alert interval is {interval:.0f} s) + "
          f"{p99q:.1f} s to the portal = {p99d + p99q:.0f} s; goal {interval + 5:.0f} s: "
          f"{'met' if p99d + p99q <= interval + 5 else 'not met'}")
print(f"  not responding: {n['not responding']} raised of {long_away}, {n['resumed']} resumed, "
      f"{n['not responding missed']} missed, {n['not resumed']} not resumed, "
      f"{n['not responding spurious']} spurious")
days = max(seconds / 86400, 1e-9)
devices = max(len(index_of), 1)
print(f"  records at the portal per device per day: {raw_alert_records / devices / days:.2f} "
      f"alert readings, {event_records / devices / days:.2f} alert events")
for x in examples[:12]:
    print("    " + x)


def timeline(i, t0, t1):
    """What the truth, the portal and triage's log say of device i from t0
    to t1 (simulated s): the evidence for a failure, in the test's output."""
    where = next((a for a, k in index_of.items() if k == i), None)
    out = []
    for e in truth.events:
        if e.get("index") == i and t0 <= e["sim_s"] <= t1 and e["event"] != "present":
            out.append((e["sim_s"], f"truth  {e['event']} {e.get('code', '')} {e.get('text', '')}"))
    for r in records:
        e = r["reading"]
        if r["kind"] == "alert" and address_of(e["header"].get("address")) == where:
            t = e["header"].get("collector_ms", 0) / 1000
            rows = ", ".join(f"{a.get('index')}:{a.get('code')} {a.get('description')!r}"
                             for a in e.get("alerts", []))
            what = "table [" + rows + "]" if e.get("table_read") else "status"
            if e.get("no_answer"):
                what = "no answer"
            out.append((t, f"read   {what} errors {e.get('detected_error_raw')} "
                           f"all {e.get('all_events')} critical {e.get('critical_events')}"))
        elif r["kind"] == "alert-event" and address_of(e.get("address")) == where:
            a = e.get("alert", {})
            out.append((e.get("at_ms", 0) / 1000,
                        f"portal {e.get('type')} {a.get('alert_id')} {a.get('code')} "
                        f"{a.get('description')!r} raised {a.get('raised_ms', 0) // 1000} "
                        f"cleared {a.get('cleared_ms', 0) // 1000} flaps {a.get('flaps')}"))
    for t, line in sorted(o for o in out if t0 <= o[0] <= t1):
        print(f"      {t:.0f} {line}")
    if where:
        pat = re.compile(r"device=" + re.escape(where) + r"[: ]")
        for line in open(log_path):
            if pat.search(line) and "alert" in line:
                print("      log " + line.rstrip()[:200])


# ODC_ALERTS_SHOW="DEVICE:SIM_S ...": these timelines too (to look into a run kept).
for spec in os.environ.get("ODC_ALERTS_SHOW", "").split():
    failures.insert(0, (int(spec.split(":")[0]), float(spec.split(":")[1])))
for i, t in failures[:3]:
    print(f"    device {i} around {t:.0f}:")
    timeline(i, t - 2 * clear_tol, t + 2 * clear_tol)
bad = (n["missed"] or n["spurious"] or n["wrong category"] or n["raised twice"] or
       n["not cleared"] or n["clear off"] or n["cleared early"] or n["not responding missed"] or
       n["not resumed"] or n["not responding spurious"])
sys.exit(1 if bad or not n["raised"] or not n["cleared"] else 0)
