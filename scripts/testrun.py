#!/usr/bin/env python3
"""Run vigil's tests and end with one line: "N passed, N failed".

    testrun.py [--only unit|fuzz|system] [-k SUBSTRING] [-j JOBS]

unit:   every build/tests/unit/test_* binary (cmocka) and every
        tests/unit/test_*.py (unittest, the host tools' tests); each test
        case counts.
fuzz:   every build/tests/fuzz/fuzz_* target replays its seed corpus
        (tests/fuzz/corpus/NAME) once: a regression check, not a fuzzing run.
system: every test_* function in tests/system/test_*.py, run JOBS at a time
        (each boots Bochs or QEMU; see tests/system/harness.py).
Exit status 1 if anything failed or nothing ran.
"""
import argparse
import concurrent.futures
import glob
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

passed = failed = 0


def report(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'PASS' if ok else 'FAIL'}  {name}{('  -- ' + detail) if detail else ''}", flush=True)


def run_unit(k):
    for b in sorted(glob.glob(os.path.join(BUILD, "tests", "unit", "test_*"))):
        name = os.path.basename(b)
        if not selected(k, name):
            continue
        p = subprocess.run([b], capture_output=True, text=True, timeout=300)
        out = p.stdout + p.stderr
        # cmocka repeats failed cases in its closing summary: count each once
        cases = list(dict.fromkeys(re.findall(r"^\[\s+(OK|FAILED)\s+\] (\S+)$", out, re.M)))
        for st, case in cases:
            report(st == "OK", f"unit/{name}/{case}")
        if p.returncode != 0 and not any(st == "FAILED" for st, _ in cases):
            report(False, f"unit/{name}", f"exit status {p.returncode}")
        if p.returncode != 0:
            print(out[-3000:])
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "test_*.py"))):
        name = os.path.basename(f)
        if not selected(k, name):
            continue
        p = subprocess.run([sys.executable, f, "-v"], capture_output=True, text=True, timeout=300, cwd=ROOT)
        out = p.stdout + p.stderr
        cases = re.findall(r"^(\w+) \([\w.]+\) \.\.\. (ok|FAIL|ERROR|skipped.*)$", out, re.M)
        for case, st in cases:
            if not st.startswith("skipped"):
                report(st == "ok", f"unit/{name}/{case}")
        if p.returncode != 0 and all(st == "ok" or st.startswith("skipped") for _, st in cases):
            report(False, f"unit/{name}", f"exit status {p.returncode}")
        if p.returncode != 0:
            print(out[-3000:])


def run_fuzz(k):
    for b in sorted(glob.glob(os.path.join(BUILD, "tests", "fuzz", "fuzz_*"))):
        name = os.path.basename(b)
        if not selected(k, name):
            continue
        seeds = sorted(glob.glob(os.path.join(ROOT, "tests", "fuzz", "corpus", name, "*")))
        if not seeds:
            report(False, f"fuzz/{name}", "no seed corpus in tests/fuzz/corpus/" + name)
            continue
        p = subprocess.run([b] + seeds, capture_output=True, text=True, timeout=300)
        report(p.returncode == 0, f"fuzz/{name} ({len(seeds)} seeds)",
               "" if p.returncode == 0 else p.stderr[-2000:])


def selected(k, name):
    """-k A,B,-C: names containing A or B (all when none is given), and not C."""
    terms = [x for x in k.split(",") if x]
    inc = [x for x in terms if not x.startswith("-")]
    exc = [x[1:] for x in terms if x.startswith("-")]
    return (not inc or any(x in name for x in inc)) and not any(x in name for x in exc)


def collect_system(k):
    tests = []
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "system", "test_*.py"))):
        mod_name = os.path.splitext(os.path.basename(f))[0]
        spec = importlib.util.spec_from_file_location(mod_name, f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in sorted(dir(mod)):
            if attr.startswith("test_") and callable(getattr(mod, attr)):
                name = f"{mod_name}.{attr}"
                if selected(k, name):
                    tests.append((name, getattr(mod, attr)))
    return tests


def run_one(name, fn):
    from harness import Case
    case = Case(name)
    t0 = time.monotonic()
    try:
        fn(case)
        return name, True, "", time.monotonic() - t0, case
    except AssertionError as e:
        return name, False, str(e), time.monotonic() - t0, case
    except Exception:
        return name, False, traceback.format_exc(limit=3), time.monotonic() - t0, case


def run_system(k, jobs):
    tests = collect_system(k)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(run_one, n, f) for n, f in tests]
        for fut in concurrent.futures.as_completed(futs):
            name, ok, detail, secs, case = fut.result()
            report(ok, f"system/{name} ({secs:.0f} s)", detail)
            if not ok:
                for r in case.results[-1:]:
                    for port, text in (("COM1", r.com1), ("COM2", r.com2)):
                        tail = "\n".join(text.splitlines()[-25:])
                        print(f"  --- {port} tail ({os.path.relpath(r.out, ROOT)}) ---\n{tail}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["unit", "fuzz", "system"])
    ap.add_argument("-k", default="")
    ap.add_argument("-j", type=int, default=int(os.environ.get("VIGIL_TEST_JOBS", "2")))
    a = ap.parse_args()
    t0 = time.monotonic()
    if a.only in (None, "unit"):
        run_unit(a.k)
    if a.only in (None, "fuzz"):
        run_fuzz(a.k)
    if a.only in (None, "system"):
        run_system(a.k, a.j)
    print(f"({time.monotonic() - t0:.0f} s)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
