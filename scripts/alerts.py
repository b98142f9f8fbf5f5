#!/usr/bin/env python3
"""Extract vigil's alert records from a serial log and print them as a table.

    alerts.py build/run/com1.log            a table of every alert
    alerts.py --json build/run/com1.log     the records, one JSON object a line
    alerts.py --summary LOG                 counts by policy and action
    alerts.py --validate LOG                check every record against docs/alert.schema.json
    some-command | alerts.py -              read standard input
    alerts.py --follow DEV --syslog tcp://HOST:PORT [--exit-on REGEX]
                                            forward each record, live, to syslog

Follow mode reads a serial device, a pty or a growing file (waiting for it
to appear) and forwards each record unchanged to syslog: RFC 5424, app-name
`vigil`, MSGID `alert`, the record's "time" and "host" as TIMESTAMP and
HOSTNAME, its severity as the syslog severity (facility local0 unless
--facility), over UDP (one datagram a record) or TCP (octet-counted framing,
RFC 6587). Lines that are not records are kept out; a line that starts
with '{' but is not a whole record (cut by a line error) is counted and not
forwarded.

An alert record is a line that is one JSON object with "type":"alert" (see
docs/contract.md); vigil prints no other line starting with '{'. Lines that
start with '{' but are not records are reported on standard error: on
vigil's console they should not exist.
"""
import argparse
import collections
import json
import os
import re
import socket
import sys
import time

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


SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "alert.schema.json")


def schema_errors(rec, schema):
    """What is wrong with rec under the record's schema (the keywords it
    uses: type, const, enum, required, properties, additionalProperties,
    minimum, maxLength, pattern); [] when nothing is."""
    errs = []
    types = {"object": dict, "string": str, "integer": int}

    def check(v, s, where):
        t = s.get("type")
        if t and (not isinstance(v, types[t]) or (t == "integer" and isinstance(v, bool))):
            errs.append(f"{where}: {v!r} is not {t}")
            return
        if "const" in s and v != s["const"]:
            errs.append(f"{where}: {v!r} is not {s['const']!r}")
        if "enum" in s and v not in s["enum"]:
            errs.append(f"{where}: {v!r} is not one of {s['enum']}")
        if "minimum" in s and v < s["minimum"]:
            errs.append(f"{where}: {v} is below {s['minimum']}")
        if "maxLength" in s and len(v) > s["maxLength"]:
            errs.append(f"{where}: longer than {s['maxLength']}")
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append(f"{where}: {v!r} does not match {s['pattern']}")
        if t == "object":
            for k in s.get("required", []):
                if k not in v:
                    errs.append(f"{where}: no {k!r}")
            props = s.get("properties", {})
            for k, sub in v.items():
                if k in props:
                    check(sub, props[k], f"{where}.{k}")
                elif s.get("additionalProperties") is False:
                    errs.append(f"{where}: unknown field {k!r}")

    check(rec, schema, "record")
    return errs


SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5}


def syslog_message(line, rec, facility):
    """The RFC 5424 message that carries one record, unchanged."""
    pri = facility * 8 + SYSLOG_SEVERITY.get(rec.get("severity"), 5)
    return f"<{pri}>1 {rec.get('time', '-')} {rec.get('host', '-')} vigil - alert - {line}".encode()


class Sender:
    def __init__(self, url):
        m = re.fullmatch(r"(udp|tcp)://([^:/]+):(\d+)", url)
        if not m:
            raise SystemExit(f"alerts.py: --syslog {url!r} is not udp://HOST:PORT or tcp://HOST:PORT")
        self.proto, addr = m.group(1), (m.group(2), int(m.group(3)))
        if self.proto == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.connect(addr)
        else:
            self.sock = socket.create_connection(addr, timeout=10)

    def send(self, msg):
        if self.proto == "udp":
            self.sock.send(msg)
        else:
            self.sock.sendall(str(len(msg)).encode() + b" " + msg)

    def close(self):
        self.sock.close()


def lines_of(path, appear_s=60, idle_s=None):
    """The lines of a device, pty or growing file as they come (a file that
    is not there yet is waited for); ends after idle_s seconds with nothing
    new, if given."""
    deadline = time.monotonic() + appear_s
    while True:
        try:
            f = open(path, "rb", buffering=0)
            break
        except FileNotFoundError:
            if time.monotonic() > deadline:
                raise SystemExit(f"alerts.py: {path} did not appear within {appear_s} s")
            time.sleep(0.1)
    if os.isatty(f.fileno()):
        # A serial line or pty: raw, 115200 8N1 (vigil's console), lines as they come.
        import termios
        import tty
        tty.setraw(f.fileno())
        attrs = termios.tcgetattr(f.fileno())
        attrs[4] = attrs[5] = termios.B115200
        termios.tcsetattr(f.fileno(), termios.TCSANOW, attrs)
    buf, last = b"", time.monotonic()
    while True:
        chunk = f.read(4096)
        if chunk:
            last = time.monotonic()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.decode("utf-8", "replace")
        else:
            if idle_s is not None and time.monotonic() - last > idle_s:
                return
            time.sleep(0.05)


def follow(a):
    out = Sender(a.syslog)
    stop = re.compile(a.exit_on) if a.exit_on else None
    sent = cut = 0
    for raw in lines_of(a.log, idle_s=a.idle):
        line = ANSI.sub("", raw).strip("\r")
        if line.startswith("{"):
            try:
                rec = json.loads(line)
                ok = isinstance(rec, dict) and rec.get("type") == "alert"
            except ValueError:
                ok = False
            if ok:
                out.send(syslog_message(line, rec, a.facility))
                sent += 1
            else:
                cut += 1
        if stop and stop.search(line):
            break
    out.close()
    print(f"alerts.py: {sent} records forwarded to {a.syslog}; {cut} lines cut by line errors, not forwarded",
          file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", help="a serial log (vigil's console), or - for standard input")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print the records as JSON lines")
    g.add_argument("--summary", action="store_true", help="counts by policy and action")
    g.add_argument("--validate", action="store_true", help="check every record against docs/alert.schema.json")
    g.add_argument("--follow", action="store_true", help="forward records live to --syslog")
    ap.add_argument("--syslog", help="with --follow: udp://HOST:PORT or tcp://HOST:PORT")
    ap.add_argument("--facility", type=int, default=16, help="syslog facility (default 16, local0)")
    ap.add_argument("--exit-on", help="with --follow: stop after a line matching this regex")
    ap.add_argument("--idle", type=float, help="with --follow: stop after this many seconds with no new data")
    a = ap.parse_args()
    if a.follow:
        if not a.syslog:
            raise SystemExit("alerts.py: --follow needs --syslog udp://HOST:PORT or tcp://HOST:PORT")
        follow(a)
        return
    f = sys.stdin if a.log == "-" else open(a.log, encoding="utf-8", errors="replace")
    recs = list(records(f))
    if a.validate:
        with open(SCHEMA) as s:
            schema = json.load(s)
        bad = 0
        for r in recs:
            errs = schema_errors(r, schema)
            if errs:
                bad += 1
                print(f"alerts.py: record seq {r.get('seq')}: " + "; ".join(errs), file=sys.stderr)
        print(f"{len(recs)} records, {bad} not valid")
        sys.exit(1 if bad else 0)
    if a.json:
        for r in recs:
            print(json.dumps(r, separators=(",", ":")))
    elif a.summary:
        summary(recs)
    else:
        table(recs)


if __name__ == "__main__":
    main()
