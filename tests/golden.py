#!/usr/bin/env python3
"""golden.py: the golden files of the real recordings (tests/golden/).

  golden.py render LOOP < poll.json     one loop's section, from the JSON
                                        of "opendca poll --loop LOOP --json"
  golden.py librenms GOLDEN EXPECTED POLL_DIR
                                        compare our supply levels and
                                        counters with LibreNMS's parse of the
                                        same recording (expected-json)

A section states what the loop read, one fact a line, without what changes
from one poll to the next (times, byte counts, request counts). The
recordings hold real serial numbers, MAC addresses and names: the golden
files give those as the first 16 hex digits of their SHA-256 (empty stays
empty), and a serial met inside other text is written <serial>."""
import hashlib
import json
import sys

PRIVATE = ("serial", "mac", "sys_name", "sys_location", "sys_contact")
NOSUCH = {128: "noSuchObject", 129: "noSuchInstance", 130: "endOfMibView"}


def hashed(value):
    if value in ("", None):
        return ""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def text(value, serial):
    value = "" if value is None else str(value)
    if serial and len(serial) >= 4:
        value = value.replace(serial, "<serial>")
    return json.dumps(value, ensure_ascii=True)


def render(loop, reading):
    out = []
    serial = reading.get("serial", "")
    absent = [v["oid"] for v in reading.get("header", {}).get("raw", []) if v.get("type") in NOSUCH]
    if loop == "identity":
        for key in ("vendor", "model", "serial", "mac", "sys_object_id", "sys_descr", "sys_name",
                    "sys_location", "sys_contact", "hr_device_descr", "hr_device_index",
                    "sys_uptime_cs"):
            value = reading.get(key, "")
            if key in PRIVATE:
                out.append(f"{key} = {hashed(value)}")
            elif isinstance(value, str):
                out.append(f"{key} = {text(value, serial)}")
            else:
                out.append(f"{key} = {value}")
    elif loop == "alert":
        for key in ("hr_device_status", "hr_printer_status", "detected_error_state",
                    "detected_error_raw", "critical_events", "all_events", "table_read"):
            out.append(f"{key} = {json.dumps(reading.get(key, 0 if key != 'detected_error_raw' else ''))}")
        for a in reading.get("alerts", []):
            out.append("alert index={index} severity={severity} training={training} group={group} "
                       "group_index={group_index} location={location} code={code} time_cs={time_cs} "
                       "description={d} standard={standard} category={category}".format(
                           **{k: a.get(k, 0) for k in (
                               "index", "severity", "training", "group", "group_index", "location",
                               "code", "time_cs")}, d=text(a.get("description", ""), serial),
                           standard=a.get("standard", "-"), category=a.get("category", "-")))
    elif loop == "meter":
        for c in reading.get("counters", []):
            out.append(f"counter {c.get('name', '')} = {c.get('value', 0)} {c.get('unit', '')} ({c.get('oid', '')})")
        # The canonical meters (snmp/meter-rules.tsv) and what each came from.
        out.append(f"rules = {json.dumps(reading.get('rules', ''))}")
        for c in reading.get("canonical", []):
            out.append(f"meter {c.get('name', '')} = {c.get('value', 0)} {c.get('unit', '')} "
                       f"({c.get('derivation', '')})")
    elif loop == "supply":
        for s in reading.get("supplies", []):
            out.append("supply index={index} class={supply_class} type={type} unit={unit} max={max_capacity} "
                       "level={level} percent={percent} colorant={c} description={d}".format(
                           **{k: s.get(k, 0) for k in ("index", "supply_class", "type", "unit",
                                                       "max_capacity", "level", "percent")},
                           c=text(s.get("colorant", ""), serial), d=text(s.get("description", ""), serial)))
    elif loop == "tray":
        for t in reading.get("trays", []):
            out.append("tray index={index} type={type} max={max_capacity} level={current_level} "
                       "status={status} feed={media_dimension_feed} xfeed={media_dimension_xfeed} "
                       "media={m} name={n}".format(
                           **{k: t.get(k, 0) for k in ("index", "type", "max_capacity", "current_level",
                                                       "status", "media_dimension_feed",
                                                       "media_dimension_xfeed")},
                           m=text(t.get("media_name", ""), serial), n=text(t.get("name", ""), serial)))
        for c in reading.get("covers", []):
            out.append(f"cover index={c.get('index', 0)} status={c.get('status', 0)} "
                       f"description={text(c.get('description', ''), serial)}")
    for oid in absent:
        out.append(f"absent {oid}")
    return out


def librenms(golden, expected, poll_dir):
    """Print one line per disagreement; exit 1 when one is not explained in
    the golden file's [librenms] section, or an explanation no longer
    matches a disagreement."""
    data = json.load(open(expected))
    explained = {}
    section = None
    for line in open(golden):
        line = line.rstrip("\n")
        if line.startswith("["):
            section = line
        elif section == "[librenms]" and line and not line.startswith("#"):
            key, _, why = line.partition(": ")
            explained[key] = why
    def load(loop):
        try:
            return json.load(open(f"{poll_dir}/{loop}.json"))
        except (OSError, ValueError):
            return {}
    supplies = {s.get("index"): s for s in load("supply").get("supplies", [])}
    trays = {t.get("index"): t for t in load("tray").get("trays", [])}
    counters = {c.get("oid"): c for c in load("meter").get("counters", [])}
    found, agreed, counted = {}, 0, 0
    for s in data.get("printer-supplies", {}).get("discovery", {}).get("printer_supplies", []):
        oid = s["supply_oid"].lstrip(".")
        index = int(oid.split(".")[-1])
        if not oid.startswith(("1.3.6.1.2.1.43.11.1.1.9.1.", "1.3.6.1.2.1.43.8.2.1.10.1.")):
            continue  # LibreNMS read this one from a vendor OID, not the Printer MIB
        if oid.startswith("1.3.6.1.2.1.43.8."):
            ours = trays.get(index)
            mx, level = (ours or {}).get("max_capacity", 0), (ours or {}).get("current_level", 0)
            value = round(level * 100 / mx) if ours and mx > 0 and level >= 0 else None
            what = f"tray {index} percent"
        else:
            ours = supplies.get(index)
            value = ours.get("percent") if ours else None
            what = f"supply {index} percent"
        if value == s["supply_current"]:
            agreed += 1
        else:
            found[what] = f"LibreNMS {s['supply_current']}, ours {value if value is not None else 'none'}"
    for s in data.get("sensors", {}).get("discovery", {}).get("sensors", []):
        if s.get("sensor_class") != "count":
            continue
        oid = s["sensor_oid"].lstrip(".")
        if oid not in counters:
            continue  # a counter we do not read (e.g. impressions since power-on)
        if counters[oid].get("value") == s["sensor_current"]:
            counted += 1
        else:
            found[f"counter {oid}"] = f"LibreNMS {s['sensor_current']}, ours {counters[oid].get('value')}"
    bad = 0
    for what, figures in sorted(found.items()):
        if what in explained:
            print(f"     differs, explained: {what}: {figures}: {explained[what]}")
        else:
            print(f"FAIL: {what}: {figures}, and the golden file does not say why")
            bad += 1
    for what in sorted(set(explained) - set(found)):
        print(f"FAIL: the golden file explains '{what}', but we agree with LibreNMS there now")
        bad += 1
    print(f"     {agreed} supply and tray levels and {counted} counters agree with LibreNMS, "
          f"{len(found)} values differ")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "render":
        try:
            reading = json.load(sys.stdin)
        except ValueError as e:
            print(f"golden.py: the poll's output is not JSON: {e}", file=sys.stderr)
            sys.exit(1)
        print(f"[{sys.argv[2]}]")
        print("\n".join(render(sys.argv[2], reading)))
    elif len(sys.argv) == 5 and sys.argv[1] == "librenms":
        sys.exit(librenms(*sys.argv[2:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
