"""Issue 13, item 4: vigil's records into an existing log pipeline. A real
rsyslog (Debian's) listens on loopback with mmjsonparse; scripts/alerts.py
follows a live vigil run's console and forwards every record, unchanged, as
RFC 5424 (app-name vigil) over TCP; every record must arrive intact, parsed
as JSON by rsyslog, and in order. Then over UDP, a line cut by a line error
is counted and kept out, and so are lines that are not records. The records
are valid under docs/alert.schema.json."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from harness import ROOT, alerts
from test_ids import boot_scenario

ALERTS = os.path.join(ROOT, "scripts", "alerts.py")


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_rsyslog(t):
    d = os.path.join(t.dir, "rsyslog")
    shutil.rmtree(d, ignore_errors=True)              # a run before this one's files would be appended to
    os.makedirs(d, exist_ok=True)
    tcp, udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    conf = os.path.join(d, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(f"""global(workDirectory="{d}")
module(load="imtcp")
module(load="imudp")
module(load="mmjsonparse")
template(name="raw" type="string" string="%app-name%\\t%hostname%\\t%syslogseverity%\\t%msg%\\n")
template(name="parsed" type="string" string="%$!all-json%\\n")
ruleset(name="vigil") {{
    action(type="omfile" file="{d}/raw.log" template="raw")
    action(type="mmjsonparse" cookie="")
    if $parsesuccess == "OK" then {{
        action(type="omfile" file="{d}/parsed.log" template="parsed")
    }} else {{
        action(type="omfile" file="{d}/unparsed.log" template="raw")
    }}
}}
input(type="imtcp" port="{tcp}" address="127.0.0.1" ruleset="vigil")
input(type="imudp" port="{udp}" address="127.0.0.1" ruleset="vigil")
""")
    pidfile = os.path.join(d, "rsyslogd.pid")
    p = subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", pidfile], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "rsyslogd.err"), "w"))
    for _ in range(100):                              # until it listens
        try:
            socket.create_connection(("127.0.0.1", tcp), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        p.kill()
        raise AssertionError("rsyslogd did not start listening")
    return p, d, tcp, udp


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def stop(p):
    p.send_signal(signal.SIGTERM)                     # flushes its files
    p.wait(timeout=30)


def test_records_into_rsyslog(t):
    p, d, tcp, udp = start_rsyslog(t)
    try:
        com1 = os.path.join(t.dir, "run", "com1.log")
        if os.path.exists(com1):
            os.remove(com1)                           # the follower must read this run's, not the last one's
        follower = subprocess.Popen([sys.executable, ALERTS, "--follow", com1, "--syslog", f"tcp://127.0.0.1:{tcp}",
                                     "--exit-on", r"vigil: powering off|vigil: halted"],
                                    stderr=subprocess.PIPE, text=True)
        r = boot_scenario(t, "raw-io", vigil_args="host=lab-7")
        err = follower.communicate(timeout=60)[1]
        lines = [l for l in r.com1.splitlines() if l.startswith("{")]
        recs = alerts(r.com1)
        if len(recs) < 3:
            raise AssertionError(f"too few records to check the pipeline: {len(recs)}")
        if f"alerts.py: {len(recs)} records forwarded to tcp://127.0.0.1:{tcp}; 0 lines cut" not in err:
            raise AssertionError(f"the follower's account: {err!r}")
        v = subprocess.run([sys.executable, ALERTS, "--validate", com1], capture_output=True, text=True)
        if v.returncode or f"{len(recs)} records, 0 not valid" not in v.stdout:
            raise AssertionError(f"records not valid under docs/alert.schema.json: {v.stdout} {v.stderr}")
        # rsyslog has them all, intact and in order, as vigil's, parsed.
        for _ in range(50):
            if len(read_lines(os.path.join(d, "parsed.log"))) >= len(lines):
                break
            time.sleep(0.1)
        raw = [l.split("\t", 3) for l in read_lines(os.path.join(d, "raw.log"))]
        if [m for _, _, _, m in raw] != lines:
            raise AssertionError(f"rsyslog received {len(raw)} messages, not the {len(lines)} records in order: "
                                 f"{raw[:3]}")
        for (app, host, sev, _), rec in zip(raw, recs):
            want = {"critical": "2", "high": "3", "medium": "4", "low": "5"}[rec["severity"]]
            if (app, host, sev) != ("vigil", "lab-7", want):
                raise AssertionError(f"app-name/hostname/severity {(app, host, sev)} for {rec}")
        parsed = [json.loads(l) for l in read_lines(os.path.join(d, "parsed.log"))]
        if parsed != recs:
            raise AssertionError(f"mmjsonparse's view differs from the records: {parsed[:2]} vs {recs[:2]}")
        if read_lines(os.path.join(d, "unparsed.log")):
            raise AssertionError("a forwarded record that rsyslog could not parse as JSON")

        # A line error: a record cut short, and lines that are not records.
        log = os.path.join(t.dir, "cut.log")
        good = lines[0]
        with open(log, "w") as f:
            f.write("vigil: a log line\r\n" + good[:40] + "\r\n" + "not a record\n" + good + "\r\n" + "{}\n")
        c = subprocess.run([sys.executable, ALERTS, "--follow", log, "--syslog", f"udp://127.0.0.1:{udp}",
                            "--idle", "1"], capture_output=True, text=True, timeout=60)
        if f"alerts.py: 1 records forwarded to udp://127.0.0.1:{udp}; 2 lines cut" not in c.stderr:
            raise AssertionError(f"the follower's account of a cut line: {c.stderr!r}")
        for _ in range(50):
            if len(read_lines(os.path.join(d, "raw.log"))) > len(lines):
                break
            time.sleep(0.1)
        got = [l.split("\t", 3)[3] for l in read_lines(os.path.join(d, "raw.log"))]
        if got != lines + [good]:
            raise AssertionError(f"after the cut line, rsyslog has {got[len(lines):]}, expected only the whole record")
    finally:
        stop(p)
