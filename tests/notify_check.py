#!/usr/bin/python3
"""notify_check.py [--quiet] TRUTH MAIL.jsonl TICKETS.jsonl RUN.LOG FIRST SPEED

What tests/test_notify.sh's collector mailed and ran, held against the
simulator's truth (its jams and open doors):

- desk@example.com: each jam and door of the truth (a raise within the
  repeat window of its clear is the same alert, a flap) is one "raised"
  mail with the device's address, its category, code, text and since when
  (within a few simulated minutes of the truth's), and, once the truth
  cleared it, one "cleared" mail whose In-Reply-To is the raised mail's
  Message-ID; every mail went over TLS, logged in; none twice; found, missed and
  spurious counted; the device's serial as the truth has it;
- refused@example.com: no mail; the log says each was refused;
- limited@example.com: at most one raised a device and category an hour,
  a cleared only in the thread of a raised it got; the log names each one
  held back;
- the program: the events of the first device's alerts as JSON, each once.

Exits 1 on any miss, spurious or wrong mail (--quiet: says nothing, for
the test's wait)."""
import collections
import email
import email.utils
import json
import os
import re
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from truth import Truth  # noqa: E402

args = sys.argv[1:]
quiet = args[0] == "--quiet"
if quiet:
    args = args[1:]
truth_path, mail_path, tickets_path, log_path, first = args[:5]
speed = float(args[5])
WINDOW = 120      # triage.repeat_window_minutes, simulated s
TOL = 240         # a raise or clear seen within: passes of 1 min, the simulator's step
CODES = {8: "jam", 501: "door_open"}
CATEGORY = {"jam": "jam", "door_open": "cover"}
problems = []


def problem(text):
    problems.append(text)


def host(address):
    return (address or "").rsplit(":", 1)[0]


# The truth: each jam and door, flaps folded in.
truth = Truth(truth_path)
alerts = []
opened = {}
last_clear = {}
end = 0
for e in truth.events:
    end = max(end, e["sim_s"])
    if e["event"] not in ("alert_raised", "alert_cleared") or e.get("code") not in CODES:
        continue
    key = (e["device"], CODES[e["code"]], e.get("text"))
    if e["event"] == "alert_raised":
        was = last_clear.get(key)
        if was and e["sim_s"] - was["cleared"] <= WINDOW:
            was["cleared"] = None  # a flap: the same alert, open again
            opened[key] = was
            continue
        a = {"device": e["device"], "code": key[1], "text": key[2], "raised": e["sim_s"],
             "cleared": None, "serial": e.get("serial")}
        alerts.append(a)
        opened[key] = a
    elif key in opened:
        a = opened.pop(key)
        a["cleared"] = e["sim_s"]
        last_clear[key] = a
stepped = [s for s in truth.lags()]
if truth._now:
    end = max(end, truth._now[-1])

# The mails.
mails = []
if os.path.exists(mail_path):
    for line in open(mail_path):
        r = json.loads(line)
        m = email.message_from_string(r["data"])
        body = m.get_payload()
        fields = dict(re.findall(r"^(\w+): +(.*?)\r?$", body, re.M))
        since = fields.get("Since")
        mails.append({
            "to": r["to"], "tls": r["tls"], "login": r.get("login"), "id": m["Message-ID"], "reply": m["In-Reply-To"],
            "event": m["X-Opendca-Event"], "alert": m["X-Opendca-Alert"],
            "subject": str(email.header.make_header(email.header.decode_header(m["Subject"] or ""))),
            "address": host(fields.get("Address")), "code": (fields.get("Code") or "").split(" ")[0],
            "category": fields.get("Category"), "text": fields.get("Text"),
            "since": datetime.strptime(since, "%Y-%m-%d %H:%M:%S %z").timestamp() if since else None,
            "fields": fields,
        })

for m in mails:
    if not m["tls"]:
        problem(f"mail {m['id']} went without TLS")
    if not m["login"]:
        problem(f"mail {m['id']} went without a login")
    if any(t.startswith("refused") for t in m["to"]):
        problem(f"mail {m['id']} reached a refused recipient")
seen_ids = collections.Counter((tuple(m["to"]), m["id"]) for m in mails)
for (to, mid), k in seen_ids.items():
    if k > 1:
        problem(f"mail {mid} to {to[0]} came {k} times")

# desk: against the truth.
desk = [m for m in mails if m["to"] == ["desk@example.com"]]
raised = [m for m in desk if m["event"] == "raised"]
cleared = [m for m in desk if m["event"] == "cleared"]
by_alert = {m["alert"]: m for m in raised}
matched = {}
found = missed = late = 0
for a in alerts:
    if a["raised"] > end - TOL:
        late += 1  # raised too near the end to be seen: not asked for
        continue
    best = None
    for m in raised:
        if m["id"] in matched or m["address"] != a["device"] or m["code"] != a["code"]:
            continue
        if m["since"] is None or abs(m["since"] - a["raised"]) > TOL:
            continue
        if best is None or abs(m["since"] - a["raised"]) < abs(best["since"] - a["raised"]):
            best = m
    if not best:
        missed += 1
        problem(f"missed: {a['code']} of {a['device']} raised at {a['raised']}")
        continue
    found += 1
    matched[best["id"]] = a
    a["mail"] = best
    for f in ("Device", "Address", "Category", "Code", "Severity", "Since"):
        if f not in best["fields"]:
            problem(f"mail {best['id']} has no {f} line")
    if a["serial"] and best["fields"].get("Serial") != a["serial"]:
        problem(f"mail {best['id']}: serial {best['fields'].get('Serial')}, not {a['serial']}")
    if best["category"] != CATEGORY[a["code"]]:
        problem(f"mail {best['id']}: category {best['category']}, not {CATEGORY[a['code']]}")
    if a["text"] and best["text"] != a["text"]:
        problem(f"mail {best['id']}: text {best['text']!r}, not {a['text']!r}")
    if a["code"] not in best["subject"] and CATEGORY[a["code"]] not in best["subject"]:
        problem(f"mail {best['id']}: subject {best['subject']!r} does not say what it is")
spurious = [m for m in raised if m["id"] not in matched]
for m in spurious:
    # One the truth raised too near the end is not spurious.
    if not any(a["device"] == m["address"] and a["code"] == m["code"] and
               a["raised"] > end - TOL for a in alerts):
        problem(f"spurious: {m['code']} of {m['address']} since {m['since']}")
clears_found = clears_missed = 0
for a in alerts:
    if "mail" not in a or a["cleared"] is None or a["cleared"] > end - WINDOW - TOL:
        continue
    thread = [c for c in cleared if c["reply"] == a["mail"]["id"]]
    if len(thread) == 1:
        clears_found += 1
    else:
        clears_missed += 1
        problem(f"{a['code']} of {a['device']} cleared at {a['cleared']}: "
                f"{len(thread)} cleared mails in its thread")
for c in cleared:
    if c["reply"] not in {m["id"] for m in raised}:
        problem(f"cleared mail {c['id']} answers {c['reply']}, no raised mail")
    if c["alert"] in by_alert and "Cleared" not in c["fields"]:
        problem(f"cleared mail {c['id']} has no Cleared line")

# refused: each desk mail was tried for it too, and refused.
log = open(log_path).read()
refusals = len(re.findall(r"to desk refused@example\.com refused, not sent again", log))
if refusals < len(desk):
    problem(f"{refusals} refusals of refused@example.com logged for {len(desk)} desk mails")

# limited: its repeat policy.
limited = [m for m in mails if m["to"] == ["limited@example.com"]]
lraised = sorted((m for m in limited if m["event"] == "raised"), key=lambda m: m["since"] or 0)
last = {}
for m in lraised:
    k = (m["address"], m["category"])
    if k in last and m["since"] - last[k] < 3600:
        problem(f"limited got two {k[1]} of {k[0]} within an hour")
    last[k] = m["since"]
lids = {m["id"] for m in lraised}
for m in limited:
    if m["event"] != "raised" and m["reply"] not in lids:
        problem(f"limited got {m['event']} {m['id']} without its raised")
held = len(re.findall(r"not sent to limited: it had a", log))
if len(raised) - len(lraised) != held and not quiet:
    problem(f"desk got {len(raised)} raised, limited {len(lraised)}, but {held} held back logged")

# The program: the first device's events, each once.
tickets = []
if os.path.exists(tickets_path):
    for line in open(tickets_path):
        try:
            tickets.append(json.loads(line))
        except ValueError:
            problem(f"a ticket is not JSON: {line[:80]!r}")
tk = collections.Counter((t["alert_id"], t["event"]) for t in tickets)
for k, v in tk.items():
    if v > 1:
        problem(f"ticket {k} came {v} times")
for t in tickets:
    if host(t["address"]) != first:
        problem(f"a ticket of {t['address']}: the rule names {first} only")
first_desk = {(m["alert"], m["event"]) for m in desk if m["address"] == first}
if set(tk) != first_desk:
    problem(f"tickets {sorted(set(tk) ^ first_desk)[:4]}: not as the desk's mails of {first}")
if not re.search(r"tickets not delivered, tried again in \d+ s: .* exited 75", log):
    problem("the program's first 'try again' (exit 75) is not in the log")

if not quiet:
    print(f"  truth: {len(alerts)} jams and doors ({late} too near the end); desk: "
          f"{len(raised)} raised, {len(cleared)} cleared mails")
    print(f"  raised: {found} found, {missed} missed, {len(spurious)} spurious; cleared in "
          f"thread: {clears_found} found, {clears_missed} missed")
    print(f"  refused@: {refusals} refusals logged; limited@: {len(lraised)} raised, {held} held "
          f"back; tickets: {len(tickets)}")
    for p in problems[:20]:
        print("  " + p)
ok = not problems and found > 0 and clears_found > 0 and tickets
sys.exit(0 if ok else 1)
