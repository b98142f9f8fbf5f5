"""Issue 3: guests run under VT-x with EPT, every exit handled, vigil kept
out of the guest's reach. Each test boots vigil with a guest module in Bochs
and asserts on both consoles: COM1 is vigil's, COM2 the guest's."""
import os
import re
from harness import BUILD, ROOT, alerts

GUESTS = os.path.join(BUILD, "guests")
STOP = r"vigil: halted|vigil: vCPU 0 suspended"


def vigil_ranges(com1):
    """The ranges vigil printed as its own (image, page pool)."""
    return [(int(a, 16), int(b, 16)) for a, b in
            re.findall(r"^  0x([0-9a-f]{16})-0x([0-9a-f]{16})  (?:image|page pool)", com1, re.M)]


def check_summary(t, com1):
    t.expect(com1, r"^vigil: summary: guest ran \d+ ms \(\d+ TSC cycles\); \d+ VM exits; \d+ cycles in vigil")
    t.expect(com1, r"^vigil: exits by reason:")
    t.expect(com1, r"^  30 I/O instruction +[1-9]\d* +[1-9]\d* +\d+$", "an I/O exit row with count and cycles")


def test_hello_multiboot2_guest(t):
    iso = t.iso("", modules=[(f"{GUESTS}/hello.elf", "guest hello-args x=1")])
    r = t.boot(iso, stop_on=STOP)
    t.expect(r.com1, r"^vigil: guest: ELF64, multiboot2, \d+ segments?, entry 0x")
    t.expect(r.com1, r"^vigil: EPT: 0-0x100000000 identity-mapped except vigil's ranges: \d+ x 1GiB, \d+ x 2MiB")
    t.expect(r.com1, r"^vigil: launching the guest at 0x")
    c2 = r.com2
    t.expect(c2, r"^HELLO magic ok$")
    t.expect(c2, r'^HELLO cmdline "hello-args x=1"$', "the guest's own command line")
    t.expect(c2, r'^HELLO bootloader "vigil \S+"$')
    # The guest's memory map marks every range vigil owns as reserved.
    for start, end in vigil_ranges(r.com1):
        t.expect(c2, rf"^HELLO mmap 0x{start:016x} 0x{end - start:016x} type 2$",
                 f"vigil's range 0x{start:x}-0x{end:x} reserved in the guest's map")
    t.expect(c2, r"^HELLO done$")
    t.expect(r.com1, r"^vigil: guest powered off: Bochs shutdown port 0x8900")
    check_summary(t, r.com1)
    t.expect_not(r.com1, r"^vigil: CRASH|PANIC|unexpected VM exit")


def test_multiboot1_guest(t):
    iso = t.iso("", modules=[(f"{GUESTS}/hello-mb1.elf", "guest mb1 args"),
                              (os.path.join(ROOT, "README.md"), "initrd ramdisk-args")])
    r = t.boot(iso, stop_on=STOP)
    t.expect(r.com1, r"^vigil: guest: ELF32, multiboot1")
    t.expect(r.com2, r"^MB1 magic ok$")
    t.expect(r.com2, r'^MB1 cmdline "mb1 args"$')
    t.expect(r.com2, r"^MB1 mem_lower 6\d\d KiB mem_upper \d+ KiB$")
    t.expect(r.com2, r"^MB1 module .*initrd ramdisk-args", "the initrd passed on to the guest")
    for start, end in vigil_ranges(r.com1):
        t.expect(r.com2, rf"^MB1 mmap 0x{start:016x} 0x{end - start:016x} type 2$")
    # 32-bit paging on, then SGDT/LGDT/SIDT/STR: vigil emulates them through
    # the guest's 32-bit page tables and returns what it gave the guest.
    m = t.expect(r.com2, r"^MB1 paging sgdt limit=0000001f base=([0-9a-f]{8}) sidt limit=000003ff str=00000000$")
    t.expect(r.com1, rf"^vigil: boot information for the guest at 0x[0-9a-f]+ ", "the boot information")
    t.expect(r.com2, r"^MB1 done$")
    t.expect_not(r.com1, r"^vigil: CRASH|PANIC|unexpected VM exit")
    check_summary(t, r.com1)
    t.expect(r.com1, r"^  46 GDTR/IDTR access +[3-9] ", "SGDT, LGDT and SIDT exits")


def test_hostile_guest(t):
    iso = t.iso("", modules=[(f"{GUESTS}/hostile.elf", "guest hostile")])
    r = t.boot(iso, stop_on=STOP)
    c1, c2 = r.com1, r.com2
    # The guest checked every outcome itself.
    for name in ("vmxon", "vmread", "vmcall", "invept", "vmlaunch", "vmptrld"):
        t.expect(c2, rf"^HOSTILE {name} expect=#UD got=#UD ok$")
    for msr in ("0xbadc0de", "0x40000100", "0x480"):
        t.expect(c2, rf"^HOSTILE rdmsr-{msr} expect=#GP got=#GP ok$")
    t.expect(c2, r"^HOSTILE wrmsr-0x480 expect=#GP got=#GP ok$")
    t.expect(c2, r"^HOSTILE wrmsr-0x3a expect=#GP got=#GP ok$")
    t.expect(c2, r"^HOSTILE xsetbv-xcr0=0 expect=#GP got=#GP ok$")
    t.expect(c2, r"^HOSTILE xsetbv-xcr0=0x3 expect=none got=none ok$")
    t.expect(c2, r'^HOSTILE cpuid leaves=\d+ vmx=0 hv=1 hvsig="vigil-hv-ids"$', "VMX hidden, vigil named")
    t.expect(c2, r"^HOSTILE hidden-ranges n=2 ")
    probes = re.findall(r"^HOSTILE probe-(read|write)-(0x[0-9a-f]+) expect=#GP got=(\S+) (ok|FAIL)$", c2, re.M)
    if len(probes) < 4 or any(p[3] != "ok" for p in probes):
        raise AssertionError(f"probes of vigil's memory not all refused: {probes}")
    t.expect(c2, r"^HOSTILE forged-alert sent$")
    m = t.expect(c2, r"^HOSTILE summary passed=(\d+) failed=(\d+)$")
    if int(m.group(2)) != 0 or int(m.group(1)) < 40:
        raise AssertionError(f"hostile guest summary: {m.group(0)}")
    t.expect(c2, r"^HOSTILE triple-fault now$")
    # vigil refused and reported, and was never spoken for.
    t.expect(c1, r"^vigil: refused guest read of hypervisor or unmapped memory: gpa 0x2000000 ")
    t.expect(c1, r"^vigil: refused guest write of hypervisor or unmapped memory: gpa 0x2000000 ")
    t.expect(c1, r"^vigil: refused guest (read|write) of vigil's console port 0x3f")
    t.expect_not(c1, r"forged", "the guest's forged alert on vigil's console")
    recs = alerts(c1)           # every '{' line is one of vigil's own records
    hv = [a for a in recs if a["policy"] == "hypervisor-guard"]
    for what in ("VMX instruction", "VMCALL", "access to hypervisor memory", "access to vigil's console port"):
        if not any(a["detail"].startswith(what) for a in hv):
            raise AssertionError(f"no hypervisor-guard alert for {what}: {[a['detail'] for a in hv]}")
    t.expect(c1, r"^vigil: GUEST CRASH: triple fault")
    t.expect(c1, r"^  guest: rip 0x[0-9a-f]+ rsp 0x", "the guest crash report")
    t.expect(c1, r"^vigil: vCPU 0 suspended: guest triple fault; .*\(the guest cannot continue\)$")
    t.expect_not(c1, r"^vigil: CRASH:|PANIC", "a crash of vigil itself")


def test_guest_loader_errors(t):
    # A file that is not ELF, and a missing guest: precise messages, no launch.
    iso = t.iso("", modules=[(os.path.join(ROOT, "README.md"), "guest scenario=benign")])
    r = t.boot(iso, stop_on=STOP)
    t.expect(r.com1, r"^vigil: cannot start the guest: guest: not an ELF file \(\d+ bytes, no \\x7fELF magic\), "
             r"nor a Linux bzImage \(no HdrS at 0x202\)$")
    t.expect(r.com1, r"^vigil: halted$")
    t.expect_not(r.com1, r"VMX on|launching")
    iso = t.iso("")
    r = t.boot(iso, stop_on=STOP, tag="noguest")
    t.expect(r.com1, r"^vigil: no module named 'guest': nothing to run")
    t.expect_not(r.com1, r"VMX on|launching")


def test_operator_suspend_resume(t):
    # The operator stops a running guest from vigil's console, looks at it,
    # and lets it go on; the guest finishes as if nothing happened.
    iso = t.iso("", modules=[(f"{GUESTS}/hello.elf", "guest suspend-test")])
    r = t.boot(iso, stop_on=r"vigil: halted", send=[
        (r"launching the guest", "suspend\n"),
        (r"suspended: operator request", "regs\n"),
        (r"rflags 0x", "resume\n"),
    ])
    c1 = r.com1
    t.expect(c1, r"^vigil> suspend$")
    t.expect(c1, r"^vigil: vCPU 0 suspended: operator request; rip 0x[0-9a-f]+$")
    t.expect(c1, r"^  rip 0x[0-9a-f]{16}  rsp 0x[0-9a-f]{16}  rflags 0x", "the guest's registers")
    t.expect(c1, r"^vigil: vCPU 0 resumed$")
    # The guest's work and power-off come after the resume, not before.
    if c1.index("vCPU 0 resumed") > c1.index("guest powered off"):
        raise AssertionError("the guest powered off before it was resumed")
    t.expect(r.com2, r"^HELLO done$")
    t.expect(c1, r"^vigil: guest powered off")


def test_acpi_poweroff(t):
    # The guest turns the machine off through ACPI (SLP_EN to the FADT's PM1a
    # control port): vigil prints its summary first, then does what was asked.
    iso = t.iso("", modules=[(os.path.join(BUILD, "testos.elf"), "guest scenario=benign console=com2 poweroff=acpi")])
    r = t.boot(iso, stop_on=STOP)
    t.expect(r.com1, r"^vigil: ACPI: PM1a control port 0x([0-9a-f]+)")
    port = t.expect(r.com1, r"^vigil: ACPI: PM1a control port (0x[0-9a-f]+)").group(1)
    t.expect(r.com2, r"^SCENARIO benign done$")
    t.expect(r.com1, rf"^vigil: guest powered off: ACPI sleep request \(port {port}, value 0x[0-9a-f]*2[0-9a-f]{{3}}\)$",
             "the SLP_EN write trapped")
    t.expect(r.com1, r"^vigil: summary: guest ran \d+ ms")
    t.expect(r.com1, r"^vigil: powering off$")
