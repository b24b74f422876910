#!/usr/bin/env python3
"""registry_check.py TRUTH RUN_LOG DEVICES_JSONL MISSING_AFTER_HOURS [SPEED]

Compares the registry's moves-and-changes events (the collector's log lines
"device event TYPE: ...") with the simulator's truth file, and the final
device list ("opendca devices --json") with where the simulator's devices
are at the end. Both clocks run at the same speed from about the same
moment; a log line's wall time is put on the simulated clock with the
truth file's start. Changes too close to the end of the run to have been
seen yet, and devices away for about registry.missing_after (where the last
identity reading before they left decides), may go either way; everything
else must match exactly. Prints what differs; exit 1 if anything does."""
import collections
import datetime
import json
import re
import sys

truth_path, log_path, devices_path, missing_h = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
MISSING = missing_h * 3600
SLACK_END = 2 * 3600    # a change this close to the end may not be seen yet
SLACK_MISSING = 1800    # away for MISSING +- this: either way

truth = [json.loads(line) for line in open(truth_path)]
present = [t for t in truth if t["event"] == "present"]
start = present[0]["sim_s"]
changes = [t for t in truth if t["event"] in ("moved", "replaced", "offline", "online")]

events = []
stopped_wall = None
pat = {
    "new": re.compile(r"device event new: serial (\S*), MAC (\S*) at (\S+) "),
    "moved": re.compile(r"device event moved: serial (\S*), MAC \S*, from (\S+) to (\S+)"),
    "replaced": re.compile(r"device event replaced: at (\S+), serial (\S*) \(was (\S*), device (\S+)\)"),
    "missing": re.compile(r"device event missing: serial (\S*) at (\S*),"),
    "returned": re.compile(r"device event returned: serial (\S*), MAC (\S*) at (\S*) "),
    "mac_changed": re.compile(r"device event mac_changed"),
}


def wall(line):
    stamp = line.split(" ", 1)[0]
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


for line in open(log_path):
    if not line[:4].isdigit():
        continue
    w = wall(line)
    if "registry stops" in line:
        stopped_wall = w
    for kind, p in pat.items():
        m = p.search(line)
        if m:
            events.append((kind, m.groups(), w))
speed = float(sys.argv[5]) if len(sys.argv) > 5 else 2880.0


def sim(w):
    return start + (w - start) * speed


end = sim(stopped_wall) if stopped_wall else max(t["sim_s"] for t in truth)
bad = []
late = end - SLACK_END

# --- new: every device present at the start, once; nothing else -------------
first_change = collections.defaultdict(lambda: float("inf"))
for t in changes:
    first_change[t["serial"]] = min(first_change[t["serial"]], t["sim_s"])
new_by_serial = collections.Counter(g[0] for k, g, w in events if k == "new")
for p in present:
    s = p["serial"]
    if p["offline"]:
        continue
    shaky = first_change[s] < start + 3600
    if new_by_serial[s] != 1 and not (shaky and new_by_serial[s] == 0):
        bad.append(f"device {s} (at {p['device']} from the start): {new_by_serial[s]} 'new' events, not 1")
initial = {p["serial"] for p in present}
for s, count in new_by_serial.items():
    if s not in initial:
        bad.append(f"'new' for {s}, which the simulator never started with ({count} times)")

def compare(kind, happened, key, describe):
    """Each change the truth holds reported once (or not yet, near the
    end); nothing reported that the truth does not hold."""
    got = collections.Counter(tuple(g[:3]) for k, g, w in events if k == kind)
    for t in happened:
        n = got.pop(key(t), 0)
        if n != 1 and not (n == 0 and t["sim_s"] > late):
            bad.append(f"{kind} {describe(t)} at sim {t['sim_s'] - start:.0f} s: reported {n} times")
    for k, n in got.items():
        bad.append(f"{kind} reported with no such change in the truth: {k} ({n} times)")


# --- moved and replaced ---------------------------------------------------------
moves = [t for t in changes if t["event"] == "moved" and t["sim_s"] < end]
compare("moved", moves, lambda t: (t["serial"], t["from"], t["device"]),
        lambda t: f"{t['serial']} {t['from']} -> {t['device']}")
reps = [t for t in changes if t["event"] == "replaced" and t["sim_s"] < end]
compare("replaced", reps, lambda t: (t["device"], t["serial"], t["old_serial"]),
        lambda t: f"at {t['device']}: {t['old_serial']} -> {t['serial']}")

# --- missing and returned -------------------------------------------------------
away = collections.defaultdict(list)  # serial -> [(off, on or None)]
for t in changes:
    if t["event"] == "offline":
        if not (away[t["serial"]] and away[t["serial"]][-1][1] is None):  # not away already
            away[t["serial"]].append([t["sim_s"], None])
    elif t["event"] == "online" and away[t["serial"]] and away[t["serial"]][-1][1] is None:
        away[t["serial"]][-1][1] = t["sim_s"]
replaced_old = {t["old_serial"] for t in reps}
got_missing = collections.Counter(g[0] for k, g, w in events if k == "missing")
got_returned = collections.Counter(g[0] for k, g, w in events if k == "returned")
serials = set(away) | set(got_missing) | set(got_returned)
for s in serials:
    lo = hi = 0      # missing events expected, at least and at most
    rlo = rhi = 0    # returned
    for off, on in away.get(s, []):
        if off >= end:
            continue
        until = on if on is not None and on < end else end
        d = until - off
        if d > MISSING + SLACK_MISSING:
            lo += 1
            hi += 1
            if on is not None and on < late:
                rlo += 1
            if on is not None and on < end:
                rhi += 1
        elif d > MISSING - SLACK_MISSING or (off > late - MISSING and until == end):
            hi += 1
            if on is not None and on < end:
                rhi += 1
    if s in replaced_old:
        lo = 0  # a device replaced while away is removed, not missing
        rlo = 0
    if not lo <= got_missing[s] <= hi:
        bad.append(f"device {s}: {got_missing[s]} 'missing' events, expected {lo}..{hi} (away: {away.get(s)})")
    if not rlo <= got_returned[s] <= rhi:
        bad.append(f"device {s}: {got_returned[s]} 'returned' events, expected {rlo}..{rhi} (away: {away.get(s)})")

if any(k == "mac_changed" for k, g, w in events):
    bad.append("a 'mac_changed' event, and no MAC changed")

# --- the final device list --------------------------------------------------------
where = {p["serial"]: p["device"] for p in present}
for t in sorted(changes, key=lambda t: t["sim_s"]):
    if t["sim_s"] >= end:
        continue
    if t["event"] == "moved":
        where[t["serial"]] = t["device"]
    elif t["event"] == "replaced":
        where.pop(t["old_serial"], None)
        where[t["serial"]] = t["device"]
listed = {}
for line in open(devices_path):
    d = json.loads(line)
    if d.get("serial"):
        listed[d["serial"]] = d
recent = {t["serial"] for t in changes if t["sim_s"] > late} | {t.get("old_serial") for t in changes if t["sim_s"] > late}
for s, address in where.items():
    if s in recent:
        continue
    d = listed.get(s)
    if not d:
        bad.append(f"device {s} (at {address} at the end) is not in the device list")
    elif d.get("address") != address:
        bad.append(f"device {s} is listed at {d.get('address')}, the simulator has it at {address}")
for s in listed:
    if s not in where and s not in recent:
        bad.append(f"the device list holds {s}, which is gone (replaced)")

counts = collections.Counter(k for k, g, w in events)
print(f"     truth: {len(moves)} moves, {len(reps)} replacements, "
      f"{sum(len(v) for v in away.values())} times away; "
      f"registry: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) +
      f"; {len(listed)} devices with a serial listed at the end")
for b in bad:
    print(f"     {b}")
sys.exit(1 if bad else 0)
