#!/usr/bin/env python3
"""Extract vigil's alert records from a serial log and print them as a table.

    alerts.py build/run/com1.log            a table of every alert
    alerts.py --json build/run/com1.log     the records, one JSON object a line
    alerts.py --summary LOG                 counts by policy and action
    some-command | alerts.py -              read standard input

An alert record is a line that is one JSON object with "type":"alert" (see
docs/alerts.md); vigil prints no other line starting with '{'. Lines that
start with '{' but are not records are reported on standard error: on
vigil's console they should not exist.
"""
import argparse
import collections
import json
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def records(lines, warn=sys.stderr):
    for n, raw in enumerate(lines, 1):
        line = ANSI.sub("", raw).strip("\r\n")
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            print(f"alerts.py: line {n}: starts with '{{' but is not JSON: {line[:80]!r}", file=warn)
            continue
        if rec.get("type") != "alert":
            print(f"alerts.py: line {n}: a JSON object that is not an alert record", file=warn)
            continue
        yield rec


def table(recs, out=sys.stdout):
    cols = [("seq", 5), ("time_ms", 9), ("policy", 16), ("action", 7), ("severity", 8), ("process", 12),
            ("rip", 18), ("gva", 18), ("gpa", 12), ("detail", 0)]
    print("  ".join(f"{c:<{w}}" if w else c for c, w in cols), file=out)
    for r in recs:
        proc = r.get("process", "")
        if "pid" in r:
            proc = f"{proc}({r['pid']})"
        row = {
            "seq": r.get("seq", ""), "time_ms": f"{r.get('time_ns', 0) / 1e6:.3f}", "policy": r.get("policy", ""),
            "action": r.get("action", ""), "severity": r.get("severity", ""), "process": proc or "-",
            "rip": r.get("rip", ""), "gva": r.get("gva", "-"), "gpa": r.get("gpa", "-"),
            "detail": r.get("detail", ""),
        }
        print("  ".join(f"{str(row[c]):<{w}}" if w else str(row[c]) for c, w in cols), file=out)


def summary(recs, out=sys.stdout):
    by = collections.Counter((r.get("policy"), r.get("action")) for r in recs)
    for (pol, act), n in sorted(by.items()):
        print(f"{pol:<17} {act:<8} {n}", file=out)
    print(f"{sum(by.values())} alert records", file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", help="a serial log (vigil's console), or - for standard input")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print the records as JSON lines")
    g.add_argument("--summary", action="store_true", help="counts by policy and action")
    a = ap.parse_args()
    f = sys.stdin if a.log == "-" else open(a.log, encoding="utf-8", errors="replace")
    recs = list(records(f))
    if a.json:
        for r in recs:
            print(json.dumps(r, separators=(",", ":")))
    elif a.summary:
        summary(recs)
    else:
        table(recs)


if __name__ == "__main__":
    main()
