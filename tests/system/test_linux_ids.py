"""Issue 11 (first part): the IDS on Linux from a profile of the kernel's own
artifacts (build/linux.profile, scripts/linuxprofile.py, docs/profile.md).
ONE boot of Debian's kernel under vigil, with KASLR on (no `nokaslr`): vigil
places the profile at the kernel's first LSTAR write, and vigil's test
module (tests/linux/module, loaded by /init on `vigilmod=offsets`) prints the
kernel's own offsetof/sizeof values and run-time symbol addresses. The test
compares the module's view with the profile and with what vigil reported.
In the same boot the operator suspends Linux once the module has printed
(so pid 1, /init, runs) and uses ps, dump, pt and regs. Linux's console is ttyS1
(COM2), vigil's COM1."""
import os
import re
from harness import BUILD, alerts

LINUX = os.path.join(BUILD, "linux")
VMLINUZ = os.path.join(LINUX, "vmlinuz")
INITRD = os.path.join(LINUX, "initrd.img")
PROFILE = os.path.join(BUILD, "linux.profile")
CMDLINE = "console=ttyS1,115200 vigilmod=offsets"
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
    assert not alerts(c1), f"a benign Linux session raised alerts: {alerts(c1)}"
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
