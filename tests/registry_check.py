#!/usr/bin/env python3
"""registry_check.py TRUTH RUN_LOG DEVICES_JSONL MISSING_AFTER_HOURS [SPEED]

Compares the registry's moves-and-changes events (the collector's log lines
"device event TYPE: ...") with the simulator's truth file, and the final
device list ("opendca devices --json") with where the simulator's devices
are at the end. Both clocks run at the same speed from about the same
moment; a log line's wall time is put on the simulated clock with the
truth file's start. Changes too close to the end of the run to have been
seen yet, and devices away for about registry.missing_after (where the last
identity reading before they left decides), may go either way; so may a move
or a replacement the device answered after for less than two hours (the
simulator also moves devices that are away: the registry cannot know where
they went until they answer). Everything else must match exactly. Prints what differs; exit 1 if anything does."""
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

# --- moved and replaced ---------------------------------------------------------
# The registry learns of a move or a replacement only when the device answers
# at its new address: a device moved while away and not back (the simulator
# moves those too), or moved twice within a discovery interval, cannot be
# seen. So the truth is replayed against what the registry can know: known[s]
# is the address it has for serial s; a change the device answered after for
# OBSERVE seconds must be reported once, from that address; one it answered
# after for less may be; one it never answered after must not be.
OBSERVE = 2 * 3600  # discovery every hour, and the sweep's time
away_at = collections.defaultdict(list)  # serial -> [[off, on or end]]
for t in changes:
    if t["event"] == "offline" and not (away_at[t["serial"]] and away_at[t["serial"]][-1][1] is None):
        away_at[t["serial"]].append([t["sim_s"], None])
    elif t["event"] == "online" and away_at[t["serial"]] and away_at[t["serial"]][-1][1] is None:
        away_at[t["serial"]][-1][1] = t["sim_s"]


def answering(serial, t0, t1):
    """Seconds serial answered between t0 and t1."""
    total = max(0.0, t1 - t0)
    for off, on in away_at.get(serial, []):
        total -= max(0.0, min(t1, on if on is not None else end) - max(t0, off))
    return total


placed = sorted((t for t in changes if t["event"] in ("moved", "replaced") and t["sim_s"] < end),
                key=lambda t: t["sim_s"])


def answered_after(t):
    """How long the device a change put at an address answered there."""
    upto = end
    for u in placed:
        if u["sim_s"] > t["sim_s"] and (u["serial"] == t["serial"] or u.get("old_serial") == t["serial"]):
            upto = u["sim_s"]
            break
    return answering(t["serial"], t["sim_s"], upto)


got = {k: collections.Counter(tuple(g[:3]) for kk, g, w in events if kk == k) for k in ("moved", "replaced")}
known = {p["serial"]: p["device"] for p in present if not p["offline"]}
new_expected = collections.Counter()  # serials a replacement brought that may be reported as new
new_required = set()


def place(serial, address):
    for other, at in known.items():
        if at == address and other != serial:
            known[other] = ""  # another device was there: "lost"
    known[serial] = address


def reported(kind, key, answered, what):
    """Whether the registry reported the change (counted off); a change it
    must have seen and did not report once is named."""
    n = got[kind][key]
    must, may = answered >= OBSERVE, answered > 0
    if must and n != 1:
        bad.append(f"{what} (answering there {answered:.0f} s): reported {n} times")
    if n and (must or may):
        got[kind][key] -= 1
        return True
    return False


for t in placed:
    s, at, when = t["serial"], t["device"], t["sim_s"] - start
    answered = answered_after(t)
    must, may = answered >= OBSERVE, answered > 0
    if t["event"] == "moved":
        if reported("moved", (s, known.get(s, ""), at), answered,
                    f"moved {s} {known.get(s, '')} -> {at} at sim {when:.0f} s"):
            place(s, at)
        continue
    # replaced: the registry sees another serial where it knew a device
    # (which may not be the truth's old one: that one may have left unseen)
    there = [o for o, a in known.items() if a == at]
    if there:
        if reported("replaced", (at, s, there[0]), answered,
                    f"replaced at {at}: {there[0]} -> {s} at sim {when:.0f} s"):
            del known[there[0]]
            place(s, at)
    else:
        # the registry knew nothing there: a new device
        new_expected[s] += 1
        if must:
            new_required.add(s)
            place(s, at)
        elif may and new_by_serial[s]:
            place(s, at)
for kind in ("moved", "replaced"):
    for k, n in got[kind].items():
        if n > 0:
            bad.append(f"{kind} reported with no such change the registry could see: {k} ({n} times)")
reps = [t for t in placed if t["event"] == "replaced"]
for s, count in new_by_serial.items():
    if s in initial:
        continue
    if count > new_expected[s] or (s in new_required and count != 1):
        bad.append(f"'new' for {s}, {count} times: the simulator brought it where the registry "
                   f"knew no device {new_expected[s]} times")
for s in new_required - set(new_by_serial):
    bad.append(f"no 'new' for {s}, which a replacement brought where the registry knew no device")

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
# Where the registry can know each device is (above): the list must say so.
listed = {}
for line in open(devices_path):
    d = json.loads(line)
    if d.get("serial"):
        listed[d["serial"]] = d
for s, address in known.items():
    d = listed.get(s)
    if not d:
        bad.append(f"device {s} (at {address or 'an unknown address'}) is not in the device list")
    elif (d.get("address") or "") != address:
        bad.append(f"device {s} is listed at {d.get('address')}, the registry can know it at {address}")
for s in listed:
    if s not in known:
        bad.append(f"the device list holds {s}, which is gone (replaced)")

counts = collections.Counter(k for k, g, w in events)
print(f"     truth: {sum(t['event'] == 'moved' for t in placed)} moves, {len(reps)} replacements, "
      f"{sum(len(v) for v in away.values())} times away; "
      f"registry: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) +
      f"; {len(listed)} devices with a serial listed at the end")
for b in bad:
    print(f"     {b}")
sys.exit(1 if bad else 0)
