"""Issue 11 (first part): the IDS on Linux from a profile of the kernel's own
artifacts (build/linux.profile, scripts/linuxprofile.py, docs/profile.md).
ONE boot of Debian's kernel under vigil, with KASLR on (no `nokaslr`): vigil
places the profile at the kernel's first LSTAR write, and vigil's test
module (tests/linux/module, loaded by /init on `vigilmod=offsets`) prints the
kernel's own offsetof/sizeof values and run-time symbol addresses. The test
compares the module's view with the profile and with what vigil reported.
In the same boot the operator suspends Linux once the module has printed
(so pid 1, /init, runs) and uses ps, dump, pt and regs. Linux's console is ttyS1
(COM2), vigil's COM1.

The same boot runs the rootkit techniques of the test module, one mode after
another (vigilmod=offsets,MODE,...), and the test programs they need
(vigilprog=...). Each technique has a check function of its own: the right
policy's alert record under vigil, the block where that policy blocks, and,
from ONE bare boot of the same command line (test_linux_ids_rootkits_bare),
proof that each technique works without vigil. The benign part (offsets,
the workload, the operator's console) raises nothing."""
import os
import re
from harness import BUILD, alerts

LINUX = os.path.join(BUILD, "linux")
VMLINUZ = os.path.join(LINUX, "vmlinuz")
INITRD = os.path.join(LINUX, "initrd.img")
PROFILE = os.path.join(BUILD, "linux.profile")
# Each mode after offsets is a rootkit technique (tests/linux/module/vigiltest.c).
MODES = ["offsets", "hide-process", "lstar", "wx-exec"]
PROGS = ["vioport", "vsig", "vhide"]                  # tests/linux/prog/; vhide last: the module hides it
CMDLINE = "console=ttyS1,115200 vigilmod=%s vigilprog=%s" % (",".join(MODES), ",".join(PROGS))
STOP = r"vigil: halted|vigil: powering off"          # the operator suspends and resumes on the way


def read_profile():
    syms, structs = {}, {}
    with open(PROFILE) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "symbol":
                syms[w[1]] = int(w[2], 16)
            elif len(w) >= 3 and w[0] == "struct":
                structs[w[1]] = " ".join(w[2:])
    return syms, structs


def module_lines(com2):
    return [m.group(1) for m in re.finditer(r"VIGIL-MOD (.*)$", com2, re.M)]


def test_linux_ids_profile_kaslr(t):
    syms, structs = read_profile()
    iso = t.iso("", modules=[(VMLINUZ, "guest " + CMDLINE), (INITRD, "initrd"), (PROFILE, "profile")])
    r = t.boot(iso, stop_on=STOP, timeout=1200, ignore_bad_msrs=True, tag="kaslr", send=SEND)
    check(t, r, syms, structs)
    check_hide_process(t, r)
    check_cr3_targets(t, r)
    check_lstar(t, r)
    check_wx_exec(t, r)
    check_io_guard(t, r)
    check_signature(t, r)


def test_linux_ids_rootkits_bare(t):
    """The same modes without vigil (from GRUB): each technique works."""
    iso = t.iso(kernel=(VMLINUZ, CMDLINE), linux=True, initrd=INITRD)
    r = t.boot(iso, stop_on=None, timeout=1200, ignore_bad_msrs=True, tag="bare")
    t.expect(r.com2, r"^VIGIL-LINUX workload done$")
    hide_process_worked(t, r.com2)
    tramp, entry, took = lstar_line(t, r.com2)
    assert took == "yes", "bare, LSTAR takes the trampoline"
    wx_exec_ran(t, r.com2)
    assert vioport_read(t, r.com2) != ("ff", "ff"), "bare, the ATA device answers vioport"
    vsig_ran(t, r.com2)


# Alerts each technique is expected to raise (policy, a regex on the detail).
EXPECTED = [("hidden-process", r"hidden process pid \d+ \"vhide\""),
            ("msr-guard", r"^WRMSR LSTAR "),
            ("pagetable-audit", r"^kernel mapping writable and executable \(4 KiB page\)$"),
            ("io-guard", r"port 0x1f[0-7] by vioport, not allowed by the default rule$"),
            ("signature", r"^signature '.*' \(16 bytes\) found in process memory$")]


def attack_alert(a):
    return any(a["policy"] == p and re.search(rx, a.get("detail", "")) for p, rx in EXPECTED)


def hide_process_worked(t, com2):
    """hide-process: vhide gone from the task list and from /proc, and running on."""
    m = t.expect(com2, r"^VIGIL-PROG vhide start pid (\d+)$", "vhide to start (vigilprog=vhide)")
    pid = int(m.group(1))
    h = t.expect(com2, r"\] VIGIL-MOD hide-process hidden pid (\d+) comm vhide tsc (\d+)$", "the module to hide vhide")
    assert int(h.group(1)) == pid, f"the module hid pid {h.group(1)}, vhide is {pid}"
    t.expect(com2, r"^VIGIL-LINUX vhide in /proc 0$", "/proc's listing without it once hidden")
    t.expect(com2, r"^VIGIL-LINUX vhide in ps 0$", "ps not to list it")
    after = com2[h.end():]
    t.expect(after, r"^VIGIL-PROG vhide alive \d+$", "vhide to run on once hidden (its output after the hide)")
    t.expect(after, r"^VIGIL-PROG vhide done$")
    t.expect(com2, r"^VIGIL-LINUX vhide exited 0$")
    return pid, int(h.group(2))


def check_hide_process(t, r):
    """hidden-process: the hidden vhide reported, with its pid and name, within 100 ms of guest time."""
    pid, hide_tsc = hide_process_worked(t, r.com2)
    mhz = int(t.expect(r.com1, r"^vigil: TSC runs at (\d+) MHz").group(1))
    launch = int(t.expect(r.com1, r"^vigil: guest time 0 \(alert records' time_ns\) is TSC (\d+)$").group(1))
    hp = [a for a in alerts(r.com1) if a["policy"] == "hidden-process"]
    named = [a for a in hp if a.get("pid") == pid]
    assert named, f"no hidden-process alert names the hidden vhide (pid {pid}): {hp}"
    a = named[0]
    assert a.get("process") == "vhide", f"the alert names {a.get('process')!r}"
    assert re.search(r"hidden process pid %d \"vhide\"" % pid, a["detail"]), a["detail"]
    assert a["action"] == "alert", f"hidden-process cannot block: {a['action']}"
    # From when vhide first ran hidden (its first resume after the hide: the module held the CPU until then).
    alert_tsc = launch + a["time_ns"] * mhz / 1000
    resumes = [int(x) for l in re.findall(r"^VIGIL-PROG vhide resumed (.*)$", r.com2, re.M) for x in l.split()]
    ran = min([x for x in resumes if x > hide_tsc], default=None)
    assert ran is not None and ran < alert_tsc, f"vhide's resumes {resumes} vs the hide {hide_tsc}, alert {alert_tsc}"
    delay_ms = (alert_tsc - ran) / mhz / 1000
    total_ms = (alert_tsc - hide_tsc) / mhz / 1000
    assert 0 < delay_ms <= 100, f"reported {delay_ms:.1f} ms of guest time after vhide ran hidden (budget 100 ms)"
    print(f"hide-process: reported {delay_ms:.1f} ms of guest time after vhide first ran hidden, "
          f"{total_ms:.1f} ms after the hide")
    # Every hidden-process alert is about vhide: its task, or its address space (KPTI's pair is one).
    space = int(a["cr3"], 16) & ~0x1fff
    assert all(int(x["cr3"], 16) & ~0x1fff == space for x in hp), f"hidden-process alerts about others: {hp}"
    assert len(hp) <= 2, f"vhide reported once by its task and at most once by its address space: {hp}"


def lstar_line(t, com2):
    m = t.expect(com2, r"\] VIGIL-MOD hook lstar trampoline 0x([0-9a-f]+) to entry 0x([0-9a-f]+) took (yes|no) "
                       r"\(LSTAR read back 0x([0-9a-f]+)\)$", "the lstar mode's proof line")
    tramp, entry, back = int(m.group(1), 16), int(m.group(2), 16), int(m.group(4), 16)
    assert back == (tramp if m.group(3) == "yes" else entry), m.group(0)
    return tramp, entry, m.group(3)


def check_lstar(t, r):
    """msr-guard: LSTAR pointed at the module's trampoline is refused (block) and reported."""
    tramp, entry, took = lstar_line(t, r.com2)
    assert took == "no", "under vigil LSTAR keeps the kernel's entry"
    ms = [a for a in alerts(r.com1) if a["policy"] == "msr-guard"]
    assert len(ms) == 1, f"one msr-guard alert (the hook; the restore of the kernel's value is none): {ms}"
    a = ms[0]
    assert a["action"] == "block", a
    assert a["detail"] == "WRMSR LSTAR 0x%x -> 0x%x (the kernel set 0x%x)" % (entry, tramp, entry), a["detail"]
    assert a.get("process") == "insmod", f"the write is insmod's (the module's init): {a.get('process')!r}"


def wx_exec_ran(t, com2):
    m = t.expect(com2, r"\] VIGIL-MOD wx-exec page 0x([0-9a-f]+) writable and executable$", "the W+X page")
    page = int(m.group(1), 16)
    t.expect(com2, r"\] VIGIL-MOD wx-exec ran code at 0x%x: returned 0x5649474c$" % page, "code run from it")
    return page


def check_wx_exec(t, r):
    """pagetable-audit: the W+X vmalloc page found by the audit (alert: an audit blocks nothing)."""
    page = wx_exec_ran(t, r.com2)
    pa = [a for a in alerts(r.com1) if a["policy"] == "pagetable-audit"]
    assert pa, "no pagetable-audit alert for the W+X page"
    assert all(a["detail"] == "kernel mapping writable and executable (4 KiB page)" for a in pa), pa
    assert any(int(a["gva"], 16) == page for a in pa), f"no alert names the page 0x{page:x}: {pa}"
    assert all(a["action"] == "alert" for a in pa)


def vioport_read(t, com2):
    m = t.expect(com2, r"^VIGIL-PROG vioport ioperm ok; 0x1f4 0x1f5 read 0x([0-9a-f]{2}) 0x([0-9a-f]{2})$",
                 "vioport's port I/O (vigilprog=vioport)")
    return m.group(1), m.group(2)


def check_io_guard(t, r):
    """io-guard: user-space port I/O to the ATA ports, granted by ioperm, refused and reported as vioport's."""
    assert vioport_read(t, r.com2) == ("ff", "ff"), "under vigil the reads float high (refused)"
    io = [a for a in alerts(r.com1) if a["policy"] == "io-guard"]
    details = [a["detail"] for a in io]
    assert "OUT to port 0x1f6 by vioport, not allowed by the default rule" in details, details
    assert "IN from port 0x1f4 by vioport, not allowed by the default rule" in details, details
    assert all(a["action"] == "block" and a.get("process") == "vioport" for a in io), io


def vsig_ran(t, com2):
    t.expect(com2, r"^VIGIL-PROG vsig holds the signature at 0x10000$", "vsig (vigilprog=vsig)")
    t.expect(com2, r"^VIGIL-PROG vsig done$")


def check_signature(t, r):
    """signature: the test signature in vsig's memory, found by the periodic scan."""
    vsig_ran(t, r.com2)
    sg = [a for a in alerts(r.com1) if a["policy"] == "signature"]
    assert len(sg) == 1, f"one signature alert (once per address space): {sg}"
    a = sg[0]
    assert a.get("process") == "vsig" and int(a["gva"], 16) == 0x10000, a


def check_cr3_targets(t, r):
    """KPTI's cost: the running process's CR3 pair loads without an exit."""
    t.expect(r.com1, r"^vigil: linux: 3 CR3-target values: the running process's kernel and user CR3 \(KPTI\) "
                     r"load without an exit, but for a user CR3 that flushes$", "the CR3-target values armed at placement")


SEND = [
    (r"com2:VIGIL-MOD done mode=offsets", "suspend\n"),
    (r"vCPU 0 suspended: operator request", "ps\n"),
    (r"^vigil: ps: \d+ tasks", "dump linux_banner 32\n"),
    (r"\|Linux version", "pt init_task\n"),
    (r"^  -> gpa 0x", "regs\n"),
    (r"^  cr0 0x", "resume\n"),
]


def check(t, r, syms, structs):
    c1, c2 = r.com1, r.com2
    t.expect_not(c1, r"^vigil: CRASH|GUEST CRASH|unexpected VM exit|vCPU 0 suspended: (?!operator request)")
    benign = [a for a in alerts(c1) if not attack_alert(a)]
    assert not benign, f"the benign part of the Linux session raised alerts: {benign}"
    t.expect(c1, r"^vigil: IDS on; profile: linux 6\.\d+\.\d+-\d+-amd64$", "the Linux profile loaded")
    t.expect(c1, r"^vigil: the profile's addresses are link-time: placed when the kernel first writes LSTAR")
    m = t.expect(c1, r"^vigil: linux: KASLR slide (0x[0-9a-f]+) \(LSTAR (0x[0-9a-f]+), entry_SYSCALL_64 linked at "
                     r"(0x[0-9a-f]+)\), kernel text at gpa (0x[0-9a-f]+) \(_text (0x[0-9a-f]+)\), direct map at "
                     r"(0x[0-9a-f]+); profile \S+ placed$", "vigil to report the slide and the placement")
    slide, lstar, entry, text_pa, text_va, dmap = (int(x, 16) for x in m.groups())
    assert entry == syms["entry_SYSCALL_64"], f"vigil used entry_SYSCALL_64 {entry:#x}, profile has {syms['entry_SYSCALL_64']:#x}"
    assert lstar == entry + slide and text_va == syms["_text"] + slide

    # The module's view, loaded by /init.
    t.expect(c2, r"^VIGIL-LINUX insmod offsets$")
    t.expect(c2, r"^VIGIL-LINUX insmod ok$", "the module to load")
    lines = module_lines(c2)
    assert "done mode=offsets" in lines, f"the module did not finish: {lines[-5:]}"
    # Every layout the profile gives is the kernel's own (offsetof/sizeof by gcc-12).
    seen = {}
    for l in lines:
        w = l.split()
        if w[0] == "struct":
            seen[w[1]] = " ".join(w[2:])
    assert seen, "the module printed no layouts"
    wrong = {k: (structs.get(k), v) for k, v in seen.items() if structs.get(k) != v}
    assert not wrong, f"profile vs kernel (profile, kernel): {wrong}"
    missing = set(structs) - set(seen)
    assert not missing, f"profile layouts the module did not check: {missing}"
    # Every symbol the module found at run time is the profile's, slid by vigil's slide.
    rt = {l.split()[1]: int(l.split()[2], 16) for l in lines if l.startswith("runtime ")}
    assert len(rt) >= 10, f"the module resolved only {sorted(rt)}"
    bad = {k: f"{v:#x} - {syms[k]:#x} = {v - syms[k]:#x}" for k, v in rt.items() if v - syms[k] != slide}
    assert not bad, f"symbols whose slide is not vigil's {slide:#x}: {bad}"
    kv = {l.split()[0]: l.split()[1:] for l in lines}
    phys = {l.split()[1]: int(l.split()[2], 16) for l in lines if l.startswith("phys ")}
    assert int(kv["lstar"][0], 16) == lstar, f"LSTAR: module {kv['lstar']}, vigil {lstar:#x}"
    assert phys.get("_text") == text_pa, f"_text's physical address: module {phys}, vigil {text_pa:#x}"
    assert int(kv["page_offset_base"][0], 16) == dmap, f"direct map: module {kv['page_offset_base']}, vigil {dmap:#x}"

    # The operator's console, from the suspend after the module's output.
    t.expect(c1, r"^vigil: vCPU 0 suspended: operator request; rip 0x[0-9a-f]+$")
    m = t.expect(c1, r"^vigil: linux: kernel page tables \(init_top_pgt\) at gpa (0x[0-9a-f]+); task list from "
                     r"init_task at (0x[0-9a-f]+)$")
    kpgd, init_task = int(m.group(1), 16), int(m.group(2), 16)
    assert init_task == syms["init_task"] + slide
    assert kpgd == text_pa + syms["init_top_pgt"] - syms["_text"], "init_top_pgt inside the image"
    assert phys.get("init_top_pgt") == kpgd, f"init_top_pgt: module {phys}, vigil {kpgd:#x}"
    t.expect(c1, r"^vigil: ps: Linux's task list \(from init_task\) beside the hardware's view \(CR3 loads\)$")
    t.expect(c1, r"^ +0 +0 swapper/0 +\| - +- \| - +- \| kernel thread$", "the idle task, a kernel thread")
    t.expect(c1, r"^ +\d+ +\d+ kthreadd +\| - +- \| - +- \| kernel thread$", "kthreadd")
    row = t.expect(c1, r"^ +1 +1 init +\| 0x([0-9a-f]{16}) +(\d+) \| 0x([0-9a-f]{16}) +(\d+) \| ok$",
                   "pid 1 with its PGD, run")
    pid1 = [int(l.split()[5], 16) for l in lines if l.startswith("task 1 ")]
    assert pid1 == [int(row.group(1), 16)], f"pid 1's PGD: module {pid1}, ps {row.group(1)}"
    assert int(row.group(3), 16) == pid1[0] + 4096, "the user CR3 is the PGD + 4 KiB"
    assert int(row.group(2)) > 0 and int(row.group(4)) > 0, "pid 1's kernel or user CR3 (KPTI) never loaded"
    t.expect(c1, r"^ +- +- \(kernel\) +\| 0x%016x +\d+ \| - +- \| kernel page tables \(init_top_pgt\)$"
             % kpgd)
    m = t.expect(c1, r"^vigil: ps: (\d+) tasks, (\d+) address spaces seen$")
    assert int(m.group(1)) >= 20, f"only {m.group(1)} tasks in ps"
    banner = syms["linux_banner"] + slide
    t.expect(c1, r"^  %016x  4c 69 6e 75 78 20 76 65 72 73 69 6f 6e 20 36 2e  \|Linux version 6\.\|$" % banner,
             "dump of a profile symbol at its slid address")
    t.expect(c1, r"^vigil: pt 0x%x through CR3 0x%x: ok$" % (init_task, kpgd), "pt through the kernel's tables")
    t.expect(c1, r"^  -> gpa 0x%x \(\d+ KiB page\) writable supervisor no-execute$"
             % (text_pa + syms["init_task"] - syms["_text"]), "init_task's physical address")
    t.expect(c1, r"^  cr0 0x[0-9a-f]+  cr3 0x[0-9a-f]+  cr4 0x[0-9a-f]+  efer 0x[0-9a-f]+$", "regs")
    t.expect(c1, r"^vigil: vCPU 0 resumed$")

    t.expect(c2, r"^VIGIL-LINUX workload done$")
    t.expect(c1, r"^vigil: guest powered off: ACPI", "vigil to see the ACPI power-off")
