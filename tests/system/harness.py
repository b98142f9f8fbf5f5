"""Helpers for system tests: build an ISO, boot it, read both serial ports.

A system test is a function named test_* in tests/system/test_*.py taking
one argument, a Case. It builds what it needs with case.iso(...), boots with
case.boot(...), and asserts with case.expect(...) / case.expect_not(...):
an AssertionError fails the test with its message.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


POLICIES = {"kernel-text", "critical-tables", "msr-guard", "cr-guard", "hidden-process", "pagetable-audit",
            "io-guard", "signature", "hypervisor-guard", "dma-guard", "hidden-module", "raw-socket",
            "program-integrity"}


def alerts(com1):
    """Every alert record on vigil's console, parsed; any line starting with
    '{' that is not a well-formed record of vigil's fails the test."""
    import json
    out = []
    for line in com1.splitlines():
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            raise AssertionError(f"a line starting with '{{' is not JSON: {line!r}")
        for key in ("type", "seq", "policy", "action", "rip", "cr3"):
            if key not in rec:
                raise AssertionError(f"alert record without {key!r}: {line!r}")
        if rec["type"] != "alert" or rec["policy"] not in POLICIES or \
                rec["action"] not in ("alert", "block", "suspend"):
            raise AssertionError(f"not a vigil alert record: {line!r}")
        out.append(rec)
    seqs = [r["seq"] for r in out]
    if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
        raise AssertionError(f"alert sequence numbers out of order: {seqs}")
    return out


class Result:
    def __init__(self, out, status, reason):
        self.out, self.status, self.reason = out, status, reason
        self.com1 = self._read("com1.log")
        self.com2 = self._read("com2.log")
        # [(COM2 bytes written before the command, command)] for scripted runs
        self.sends = []
        try:
            with open(os.path.join(out, "sends.log")) as f:
                for line in f:
                    n, _, text = line.rstrip("\n").partition("\t")
                    self.sends.append((int(n), text))
        except FileNotFoundError:
            pass

    def com2_before(self, command):
        """What the guest had printed when the operator typed `command`."""
        for n, text in self.sends:
            if text == command:
                with open(os.path.join(self.out, "com2.log"), "rb") as f:
                    return ANSI.sub("", f.read(n).decode("utf-8", "replace")).replace("\r", "")
        raise AssertionError(f"the operator never typed {command!r}")

    def _read(self, name):
        try:
            with open(os.path.join(self.out, name), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        return ANSI.sub("", data).replace("\r", "")


class Case:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(BUILD, "systest", name)
        os.makedirs(self.dir, exist_ok=True)
        self.results = []

    def iso(self, vigil_args="", modules=(), kernel=None, mb1=False, vigil=None, linux=False, initrd=None):
        """modules: [(path, cmdline)]; kernel: (path, args) boots a kernel
        directly instead of vigil (with linux=True a bzImage through GRUB's
        linux command, and initrd through its initrd command)."""
        path = os.path.join(self.dir, "boot.iso")
        cmd = [os.path.join(ROOT, "scripts/mkiso.sh"), path]
        if kernel:
            cmd += ["--linux" if linux else "--kernel", kernel[0], kernel[1]]
            if initrd:
                cmd += ["--initrd", initrd]
        else:
            cmd += ["--vigil", vigil or os.path.join(BUILD, "vigil.elf"), vigil_args]
        for m in modules:
            cmd += ["--module", m[0], m[1]]
        if mb1:
            cmd.append("--mb1")
        subprocess.run(cmd, check=True, cwd=ROOT)
        return path

    def boot(self, iso, emulator="bochs", timeout=240, stop_on=r"vigil: halted", cpu=None, tag="run", stop_port="com1",
             send=(), cpus=1, ignore_bad_msrs=False, uuid=None, cdrom2=False, uefi=False):
        """send: [(regex, text)]: the operator's script, typed on vigil's
        console (COM1) once regex has appeared there, in order ("com2:REGEX":
        once it has appeared on the guest's console)."""
        out = os.path.join(self.dir, tag)
        cmd = [sys.executable, os.path.join(ROOT, "scripts/emu.py"), emulator, "--iso", iso,
               "--out", out, "--timeout", str(timeout)]
        if stop_on:
            cmd += ["--stop-on", stop_on, "--stop-port", stop_port]
        if cpu:
            cmd += ["--cpu", cpu]
        if ignore_bad_msrs:
            cmd.append("--ignore-bad-msrs")
        if cpus != 1:
            cmd += ["--cpus", str(cpus)]
        if uuid:
            cmd += ["--uuid", uuid]
        if uefi:
            cmd.append("--uefi")
        if cdrom2:
            cmd.append("--cdrom2")
        for rx, text in send:
            cmd += ["--send", f"{rx}=>{text}"]
        p = subprocess.run(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        reason = "timeout" if p.returncode == 124 else p.stderr.strip().splitlines()[-1:] or [""]
        r = Result(out, p.returncode, reason if isinstance(reason, str) else reason[0])
        self.results.append(r)
        if p.returncode == 124:
            raise AssertionError(f"{emulator} run timed out after {timeout} s "
                                 f"(logs in {os.path.relpath(out, ROOT)})")
        return r

    @staticmethod
    def expect(text, pattern, what=None, flags=re.M):
        m = re.search(pattern, text, flags)
        if not m:
            raise AssertionError(f"expected {what or repr(pattern)}: /{pattern}/ not found")
        return m

    @staticmethod
    def expect_not(text, pattern, what=None, flags=re.M):
        m = re.search(pattern, text, flags)
        if m:
            raise AssertionError(f"unexpected {what or repr(pattern)}: found {m.group(0)!r}")
