#!/usr/bin/env python3
"""hostile_check.py: the judge of tests/test_hostile.sh.

    hostile_check.py poll RC STDOUT STDERR ADDRESS:PORT [must-fail|must-read]
        one "opendca poll --json" of a hostile device: exit 0 with a sound
        reading, or exit 1 with a message naming the device and a reason
        (must-fail: the device's answers must not be taken, so exit 1 only;
        must-read: a sound device, exit 0 only).
    hostile_check.py json FILE
        one reading as JSON ("opendca latest --json"): sound or not.
    hostile_check.py outbox FILE ADDRESS...
        "opendca outbox" JSON lines: every line parses, and the records of
        each ADDRESS are sound; one verdict line per address.

A reading is sound when its bytes are valid UTF-8 (strict: no overlongs,
surrogates or code points past U+10FFFF), no text field holds a control
character (C0, DEL, C1) or is longer than TEXT_MAX bytes (env
ODC_HOSTILE_TEXT_MAX, default 1024: the collector cuts device text at 255),
no counter is a negative number taken as unsigned (4.29 billion pages), and
levels, capacities, percentages and status codes are in their ranges.
Prints one line, "ok: ..." or "FAIL: ..."; exit 0 / 1.
"""
import json
import os
import sys

TEXT_MAX = int(os.environ.get("ODC_HOSTILE_TEXT_MAX", "1024"))
# Counts (TimeTicks are left out: 0xffffff00 is -256 or 497 days, both
# plausible).
COUNTERS = {"value", "all_events", "critical_events"}
LEVELS = {"level", "max_capacity", "current_level", "media_dimension_feed",
          "media_dimension_xfeed"}
STATUS = {"hr_device_status": (0, 5), "hr_printer_status": (0, 5), "percent": (-1, 100)}


def wrapped(v):
    """A negative number taken as unsigned, 32 or 64 bits."""
    return (1 << 32) - (1 << 24) <= v < (1 << 32) or v >= (1 << 63)


def judge(obj, path="", problems=None):
    problems = [] if problems is None else problems
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "raw":  # bytes as received, in hex: not text
                continue
            judge(v, "%s.%s" % (path, k) if path else k, problems)
            key = k
            if isinstance(v, bool) or not isinstance(v, int):
                continue
            if key in COUNTERS and wrapped(v):
                problems.append("%s=%d: a negative number taken as a count" % (path + "." + k, v))
            if key in LEVELS and v < -3:
                problems.append("%s=%d: below the -1/-2/-3 sentinels" % (path + "." + k, v))
            if key in STATUS and not STATUS[key][0] <= v <= STATUS[key][1]:
                problems.append("%s=%d: out of %d..%d" % (path + "." + k, v, *STATUS[key]))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            judge(v, "%s[%d]" % (path, i), problems)
    elif isinstance(obj, str):
        bad = [c for c in obj if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF]
        if bad:
            problems.append("%s: control character U+%04X in %r" % (path, ord(bad[0]), obj[:60]))
        n = len(obj.encode("utf-8", "surrogatepass"))
        if n > TEXT_MAX:
            problems.append("%s: %d bytes of text (more than %d)" % (path, n, TEXT_MAX))
    return problems


def load(data, what):
    """The JSON values in data (one, or JSON lines); raises ValueError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        i = e.start
        raise ValueError("%s is not valid UTF-8 at byte %d: %r" % (what, i, data[max(0, i - 8):i + 8]))
    text = text.strip()
    if not text:
        return []
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise ValueError("%s line %d does not parse: %s" % (what, n, e))
    return out


def addresses(obj, found):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("address", "device_id") and isinstance(v, str):
                found.add(v)
            else:
                addresses(v, found)
    elif isinstance(obj, list):
        for v in obj:
            addresses(v, found)
    return found


def cmd_poll(rc, out, err, endpoint, must_fail):
    rc = int(rc)
    with open(out, "rb") as f:
        stdout = f.read()
    with open(err, "rb") as f:
        stderr = f.read()
    if rc not in (0, 1):
        return 1, "FAIL: exit %d (%s)" % (rc, {124: "hung: killed by timeout", 137: "hung: killed",
                                                134: "abort", 139: "segfault"}.get(rc, "crash?"))
    try:
        stderr.decode("utf-8")
    except UnicodeDecodeError:
        return 1, "FAIL: its message is not valid UTF-8"
    if rc == 1:
        line = stderr.decode("utf-8", "replace").strip().splitlines()
        line = [x for x in line if endpoint in x]
        if not line:
            return 1, "FAIL: exit 1 without a message naming %s" % endpoint
        reason = line[-1].split(endpoint, 1)[1].lstrip(": ").strip()
        if len(reason) < 4:
            return 1, "FAIL: exit 1 without a reason"
        if any(ord(c) < 0x20 for c in reason):
            return 1, "FAIL: control characters in the reason"
        if must_fail == "must-read":
            return 1, "FAIL: a sound printer not read: " + reason[:100]
        return 0, "failed: " + reason[:100]
    if must_fail == "must-fail":
        return 1, "FAIL: exit 0: answers it must not take were taken"
    try:
        values = load(stdout, "the reading")
    except ValueError as e:
        return 1, "FAIL: " + str(e)
    if len(values) != 1:
        return 1, "FAIL: exit 0 and %d JSON values" % len(values)
    problems = judge(values[0])
    if problems:
        return 1, "FAIL: %s%s" % (problems[0], " (+%d more)" % (len(problems) - 1) if len(problems) > 1 else "")
    return 0, "read (%d bytes)" % len(stdout)


def cmd_json(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        values = load(data, path)
    except ValueError as e:
        return 1, "FAIL: " + str(e)
    problems = [p for v in values for p in judge(v)]
    if problems:
        return 1, "FAIL: %s" % problems[0]
    return 0, "ok: %d readings" % len(values)


def cmd_outbox(path, wanted):
    with open(path, "rb") as f:
        data = f.read()
    rc = 0
    lines = data.split(b"\n")
    per = {a: [0, []] for a in wanted}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            values = load(line, "outbox line %d" % n)
        except ValueError as e:
            # Attribute it to a device when the line names one.
            who = [a for a in wanted if a.encode() in line]
            for a in who or ["-"]:
                per.setdefault(a, [0, []])[1].append(str(e))
            continue
        for v in values:
            found = addresses(v, set())
            for a in wanted:
                if a in found:  # the device id: ADDRESS:PORT off port 161
                    per[a][0] += 1
                    per[a][1] += judge(v)
    for a in sorted(per):
        count, problems = per[a]
        if problems:
            rc = 1
            print("%s FAIL: %d records; %s" % (a, count, problems[0]))
        else:
            print("%s ok: %d records" % (a, count))
    return rc, None


def main(argv):
    if len(argv) >= 6 and argv[1] == "poll":
        rc, line = cmd_poll(argv[2], argv[3], argv[4], argv[5], argv[6] if len(argv) > 6 else "")
    elif len(argv) == 3 and argv[1] == "json":
        rc, line = cmd_json(argv[2])
    elif len(argv) >= 3 and argv[1] == "outbox":
        rc, line = cmd_outbox(argv[2], argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if line:
        print(line)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
