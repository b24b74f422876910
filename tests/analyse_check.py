#!/usr/bin/env python3
"""analyse_check.py GOLDEN ANALYSE.json: "opendca analyse --json" of a real
recording against the recording's golden file (tests/golden/): each loop's
reading in the report renders to what the golden file states (or the golden
file says "no answer" and the report has none), and the findings and the
verdict agree with those facts. Prints what differs; exit 1 if anything."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402

LOOPS = ("identity", "alert", "meter", "supply", "tray")


def sections(path):
    out, name = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            continue
        if line.startswith("["):
            name = line.strip("[]")
            out[name] = []
        elif name and line:
            out[name].append(line)
    return out


def main():
    want = sections(sys.argv[1])
    report = json.load(open(sys.argv[2], encoding="utf-8"))
    bad = []
    readings = report.get("readings", {})
    for loop in LOOPS:
        expected = want.get(loop, [])
        if loop in readings:
            got = golden.render(loop, readings[loop])
        else:
            got = ["no answer"]
        if got != expected:
            for a, b in zip(expected + [""] * len(got), got + [""] * len(expected)):
                if a != b:
                    bad.append(f"{loop}: golden '{a}', analyse '{b}'")
                    break
    if "identity" not in readings:
        if not report.get("verdict", "").startswith("not manageable"):
            bad.append(f"no reading at all, yet the verdict is '{report.get('verdict')}'")
        for b in bad:
            print(f"     {b}")
        sys.exit(1 if bad else 0)
    findings = {f["loop"]: f["text"] for f in report.get("findings", [])}
    texts = " | ".join(f["text"] for f in report.get("findings", []))
    identity = readings.get("identity", {})
    if not identity.get("serial") and "no serial number" not in texts:
        bad.append("the device has no serial, the findings do not say so")
    if identity.get("serial") and "no serial number" in texts:
        bad.append("the findings say no serial, the device has one")
    supplies = readings.get("supply", {}).get("supplies", [])
    if not supplies and "no supply table" not in texts:
        bad.append("no supplies, the findings do not say so")
    blind = [s for s in supplies if s.get("percent", 0) < 0]
    if supplies and blind and "supply" not in findings:
        bad.append(f"{len(blind)} supplies have no percentage, the findings do not say so")
    if supplies and not blind and "supply" in findings:
        bad.append("every supply has a percentage, the findings say otherwise")
    counters = readings.get("meter", {}).get("counters", [])
    if not counters and "no page counter" not in texts:
        bad.append("no counters, the findings do not say so")
    if not report.get("versions", {}).get("v2c"):
        bad.append("snmpsimd answers v2c, the report says it does not")
    verdict = report.get("verdict", "")
    majors = [f for f in report.get("findings", []) if f["severity"] == "major"]
    if not verdict:
        bad.append("no verdict")
    elif not majors and not verdict.startswith(("fully", "well", "not a printer")):
        bad.append(f"no major finding, yet the verdict is '{verdict}'")
    elif majors and verdict.startswith(("fully", "well")):
        bad.append(f"{len(majors)} major findings, yet the verdict is '{verdict}'")
    for b in bad:
        print(f"     {b}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
