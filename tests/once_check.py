#!/usr/bin/env python3
"""once_check.py: the exactly-once count of tests/test_exactly_once.sh and
bench/bench_exactly_once.sh.

    once_check.py RUN.LOG PORTAL.jsonl LEFT.jsonl LATEST-DIR

RUN.LOG      every run's log of the collector (appended), with the lines
             "outbox record P-SEQ: N KIND readings" the uploader writes once
             a record is durable;
PORTAL.jsonl opendca-portal export --format jsonl at the end;
LEFT.jsonl   opendca outbox -c FILE after the collector's last stop (what
             still waits);
LATEST-DIR   one file per device and loop, "opendca latest ... --json"
             after the last stop (ADDRESS:PORT_LOOP.json), and any taken
             after a kill (ADDRESS:PORT_LOOP.TAG.json).

A reading is named by (kind, device, read time): the header's device id
and finished_ms; an event by (event, device id, type, at_ms, supply index); an alert
event by (alert-event, alert id, type, at_ms).

Accepted: every reading of a record the collector logged as enqueued
(those that reached the portal or still wait are known by name; those of a
record found nowhere are counted as lost by the record's count), and every
latest reading the uploader had to send (one whose content differs, by the
uploader's rules, from the newest reading of that device and kind the
portal holds or the outbox still has before it). Delivered once: accepted and at the portal exactly
once; duplicated: at the portal more than once (a reading at the portal and
still waiting counts too); lost: accepted, neither at the portal nor
waiting. Records the bridge split are followed to their halves; readings
of records it set aside with a reason are counted as refused, not lost.

Also counted: readings sent again unchanged (equal, by the uploader's
rules, to the one before them of their device and kind; not supplies or
meters, which also go daily as they are).

Prints the counts and exits 1 when anything was lost, duplicated or sent
again unchanged, or nothing was accepted."""
import collections
import glob
import json
import os
import re
import sys


def name(kind, r):
    if kind == "event":
        # A reading's supply events: one each supply.
        return ("event", r.get("device_id", ""), r.get("type", ""), int(r.get("at_ms", 0)),
                int(r.get("supply_index", 0)))
    if kind == "alert-event":  # triage's: each alert raised, changed, cleared once
        return ("alert-event", r.get("alert", {}).get("alert_id", ""), r.get("type", ""),
                int(r.get("at_ms", 0)))
    h = r.get("header", {})
    return (kind, h.get("device_id") or h.get("address", ""), int(h.get("finished_ms", 0)))


def quarter(level, top):
    if level <= 0 or top <= 0:
        return level
    return 100 + (4 if level >= top else level * 4 // top)


def content(kind, r):
    """What the uploader compares (actors/odc_uploader_actor.c, s_content)."""
    if kind == "alert":
        return tuple(r.get(k, 0) for k in ("hr_device_status", "detected_error_state",
                                           "critical_events", "all_events"))
    if kind == "asset":
        return json.dumps({k: v for k, v in r.items() if k not in ("header", "sys_uptime_cs")},
                          sort_keys=True)
    if kind == "supply":
        return tuple((s.get("index", 0), s.get("type", 0), s.get("supply_class", 0),
                      s.get("max_capacity", 0),
                      s.get("percent", 0) if s.get("percent", 0) >= 0 else 1000 + s.get("level", 0),
                      s.get("description", ""), s.get("colorant", ""))
                     for s in r.get("supplies", []))
    if kind == "tray":
        return (tuple((t.get("index", 0), t.get("type", 0), t.get("max_capacity", 0),
                       t.get("status", 0), quarter(t.get("current_level", 0), t.get("max_capacity", 0)),
                       t.get("media_dimension_feed", 0), t.get("media_dimension_xfeed", 0),
                       t.get("name", ""), t.get("media_name", "")) for t in r.get("trays", [])),
                tuple((c.get("index", 0), c.get("status", 0), c.get("description", ""))
                      for c in r.get("covers", [])))
    return json.dumps(r, sort_keys=True)


LOOP_KIND = {"alert": "alert", "identity": "asset", "meter": "meters", "supply": "supply",
             "tray": "tray"}


def main(argv):
    log, portal_file, left_file, latest_dir = argv[1:5]
    logged = {}
    refused = 0
    for line in open(log, errors="replace"):
        m = re.search(r"outbox record (\d+)-(\d+): (\d+) (\w+) readings", line)
        if m:
            logged[f"{m.group(1)}-{m.group(2)}"] = int(m.group(3))
        # The bridge splits a record too big for a stanza into two new ones,
        # and sets aside (with its reason) one it cannot send at all.
        m = re.search(r"outbox record (\d+-\d+) \(\d+ \w+ readings\): .*; split into records "
                      r"(\d+-\d+) \((\d+)\) and (\d+-\d+) \((\d+)\)", line)
        if m:
            logged.pop(m.group(1), None)
            logged[m.group(2)] = int(m.group(3))
            logged[m.group(4)] = int(m.group(5))
        m = re.search(r"outbox record (\d+-\d+) \((\d+) \w+ readings?\) refused: ", line) or \
            re.search(r"batch [0-9a-f]+-(\d+-\d+) refused: .*moved out of the outbox", line)
        if m and m.group(1) in logged:
            refused += logged.pop(m.group(1))
    delivered = collections.Counter()
    per_record = collections.Counter()
    newest = collections.defaultdict(list)  # (kind, device) -> [(time, reading)], sent
    for line in open(portal_file):
        r = json.loads(line)
        n = name(r["kind"], r["reading"])
        delivered[n] += 1
        per_record[r["batch"].split("-", 1)[1]] += 1
        if r["kind"] not in ("event", "alert-event"):
            newest[n[:2]].append((n[2], r["reading"]))
    left = collections.Counter()
    left_records = set()
    for line in open(left_file):
        r = json.loads(line)
        n = name(r["kind"], r["reading"])
        left[n] += 1
        left_records.add(r["batch"])
        if r["kind"] not in ("event", "alert-event"):
            newest[n[:2]].append((n[2], r["reading"]))
    accepted = set(delivered) | set(left)
    lost_records = [b for b in logged if b not in per_record and b not in left_records]
    short = [b for b in logged if b in per_record and per_record[b] < logged[b]]
    lost = sum(logged[b] for b in lost_records) + sum(logged[b] - per_record[b] for b in short)
    # The collector's latest readings: each at the portal (or waiting), or
    # unchanged against the newest the portal holds (or the outbox has) before it.
    latest_lost = []
    for path in sorted(glob.glob(os.path.join(latest_dir, "*.json"))):
        loop = path.rsplit("_", 1)[1].split(".")[0]
        kind = LOOP_KIND[loop]
        try:
            reading = json.load(open(path))
        except ValueError:
            continue
        n = name(kind, reading)
        if n in delivered or n in left:
            continue
        before = [x for x in newest[n[:2]] if x[0] < n[2]]
        if kind != "meters" and before and content(kind, max(before, key=lambda x: x[0])[1]) == content(kind, reading):
            continue
        accepted.add(n)
        latest_lost.append(n)
    lost += len(latest_lost)
    once = sum(1 for n in accepted if delivered[n] + left[n] == 1 and delivered[n] == 1)
    duplicated = [n for n in accepted if delivered[n] + left[n] > 1]
    waiting = sum(1 for n in left if not delivered[n])
    # Sent again unchanged (what a restart used to do with the first reading
    # of every device): a reading equal, by the uploader's rules, to the one
    # before it of its device and kind. Not supplies, which also go daily as
    # they are, nor meters (daily and on command).
    resent = 0
    for (kind, device), seen in newest.items():
        if kind in ("supply", "meters"):
            continue
        seen = sorted(set((t, json.dumps(r, sort_keys=True)) for t, r in seen))
        for (_, a), (_, b) in zip(seen, seen[1:]):
            resent += content(kind, json.loads(a)) == content(kind, json.loads(b))
    total = len(accepted) + sum(logged[b] for b in lost_records)
    print(f"  accepted {total}, delivered once {once}, lost {lost}, duplicated {len(duplicated)}"
          f" (still waiting {waiting}; {len(logged)} records logged, {len(lost_records)} found nowhere,"
          f" {len(short)} short; {len(latest_lost)} latest readings never sent; {resent} sent again"
          f" unchanged; {refused} refused by the bridge with a reason)")
    for n in latest_lost[:5]:
        print(f"    lost latest: {n}")
    for n in duplicated[:5]:
        print(f"    twice: {n} x{delivered[n] + left[n]}")
    for b in lost_records[:5]:
        print(f"    record {b} ({logged[b]} readings) neither at the portal nor waiting")
    return 1 if lost or duplicated or resent or not accepted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
