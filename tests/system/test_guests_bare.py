"""The test guests of tests/guests, booted BARE (GRUB starts them directly,
no hypervisor) in Bochs: what they print here is the reference for what they
must print under vigil (see tests/guests/README.md)."""
import os
import re
import subprocess
from harness import BUILD, ROOT

GUESTS = os.path.join(BUILD, "guests")
HELLO = os.path.join(GUESTS, "hello.elf")
HELLO_MB1 = os.path.join(GUESTS, "hello-mb1.elf")
HOSTILE = os.path.join(GUESTS, "hostile.elf")
MODULE = os.path.join(ROOT, "tests", "guests", "README.md")

FORGED = '{"type":"alert","seq":1,"policy":"forged","action":"alert","rip":"0x0","cr3":"0x0"}'
HEX = r"0x[0-9a-f]{16}"


def make_iso(t, **kw):
    """t.iso, tried up to three times: scripts/mkiso.sh keeps grub-mkrescue's
    log inside the tree it turns into the ISO, and xorriso now and then fails
    with "Size of file .../log has changed" (a race in the script, not here)."""
    for attempt in range(3):
        try:
            return t.iso(**kw)
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise


def module_head():
    with open(MODULE, "rb") as f:
        head = f.read(16)
    return "".join(chr(b) if 0x20 <= b <= 0x7e and b != 0x22 else "." for b in head)


def test_hello_bare(t):
    iso = make_iso(t, kernel=(HELLO, "console=com2 hello=world"),
                   modules=[(MODULE, "initrd a b c")])
    r = t.boot(iso, stop_on=None, timeout=60)
    c = r.com2
    t.expect(c, r"^HELLO from a multiboot2 guest$")
    t.expect(c, r"^HELLO magic ok$")
    t.expect(c, r"^HELLO entry ok \(protected mode, paging off, interrupts off\) cr0=0x[0-9a-f]{8} eflags=0x[0-9a-f]{8}$")
    t.expect(c, r"^HELLO bss zeroed$")
    t.expect(c, r"^HELLO info 0x[0-9a-f]{8} size \d+$")
    t.expect(c, r'^HELLO cmdline "console=com2 hello=world"$')
    t.expect(c, r'^HELLO bootloader "GRUB [^"]+"$')
    t.expect(c, r"^HELLO meminfo lower=\d+ upper=\d+$")
    t.expect(c, rf"^HELLO mmap 0x0000000000000000 {HEX} type 1$", "low memory entry")
    t.expect(c, r"^HELLO mmap 0x0000000000100000 0x000000001fef0000 type 1$", "the RAM above 1 MiB")
    t.expect(c, r"^HELLO module initrd a b c$")
    size = os.path.getsize(MODULE)
    t.expect(c, rf'^HELLO module-data 0x[0-9a-f]{{8}} 0x[0-9a-f]{{8}} size {size} head "{re.escape(module_head())}"$',
             "the module's address, size and first bytes")
    t.expect(c, r"^HELLO info ok tags=\d+$")
    t.expect(c, r"^HELLO done$")
    t.expect_not(c, r"BAD")
    assert r.status == 0 and r.reason.find("exited") >= 0, f"Bochs did not power off: {r.reason}"


def test_hello_mb1_bare(t):
    iso = make_iso(t, kernel=(HELLO_MB1, "console=com2 mb=1"), modules=[(MODULE, "initrd x y")], mb1=True)
    r = t.boot(iso, stop_on=None, timeout=60)
    c = r.com2
    t.expect(c, r"^MB1 hello from a multiboot1 guest$")
    t.expect(c, r"^MB1 magic ok$")
    t.expect(c, r"^MB1 entry ok \(protected mode, paging off, interrupts off\) cr0=0x[0-9a-f]{8} eflags=0x[0-9a-f]{8}$")
    t.expect(c, r"^MB1 bss zeroed$")
    m = t.expect(c, r"^MB1 info 0x[0-9a-f]{8} flags 0x([0-9a-f]{8})$")
    flags = int(m.group(1), 16)
    assert flags & 0x1 and flags & 0x4 and flags & 0x8 and flags & 0x40, f"flags 0x{flags:x} lack mem/cmdline/mods/mmap"
    t.expect(c, r"^MB1 mem_lower 636 KiB mem_upper 523200 KiB$", "mem_lower/mem_upper for 512 MiB")
    t.expect(c, r'^MB1 cmdline "console=com2 mb=1"$')
    t.expect(c, r'^MB1 bootloader "GRUB [^"]+"$')
    t.expect(c, rf"^MB1 mmap 0x0000000000000000 {HEX} type 1$")
    t.expect(c, r"^MB1 mmap 0x0000000000100000 0x000000001fef0000 type 1$")
    t.expect(c, r"^MB1 mmap entries=\d+$")
    t.expect(c, r"^MB1 module initrd x y$")
    size = os.path.getsize(MODULE)
    m = t.expect(c, rf'^MB1 module-data 0x([0-9a-f]{{8}}) 0x[0-9a-f]{{8}} size {size} head "{re.escape(module_head())}"$')
    assert int(m.group(1), 16) % 4096 == 0, "module not page-aligned although the header asked for it"
    t.expect(c, r"^MB1 modules count=1$")
    t.expect(c, r"^MB1 done$")
    t.expect_not(c, r"BAD")


HOSTILE_TESTS = [
    ("ud2", "#UD"), ("noncanonical-read", "#GP"), ("noncanonical-write", "#GP"),
    ("cpuid-sweep", "none"),
    *[(i, "#UD") for i in ("vmxon", "vmxoff", "vmclear", "vmptrld", "vmptrst", "vmread", "vmwrite",
                           "vmlaunch", "vmresume", "invept", "invvpid", "vmcall", "vmfunc")],
    ("rdmsr-0xbadc0de", "#GP"), ("wrmsr-0xbadc0de", "#GP"),
    ("rdmsr-0x40000100", "#GP"), ("wrmsr-0x40000100", "#GP"),
    ("rdmsr-0xc0011234", "#GP"), ("wrmsr-0xc0011234", "#GP"),
    # Bare Bochs (Haswell) has VMX: its capability MSRs read fine.
    *[(f"rdmsr-0x{m:x}", "none") for m in range(0x480, 0x48b)],
    ("wrmsr-0x480", "#GP"), ("wrmsr-0x486", "#GP"),
    ("wrmsr-0x3a", "#GP"),
    ("cr4-vmxe", "none"),
    ("xsetbv-xcr0=0", "#GP"), ("xsetbv-xcr0=0x5", "#GP"), ("xsetbv-xcr0-reserved", "#GP"),
    ("xsetbv-xcr1", "#GP"), ("xsetbv-xcr0=0x3", "none"),
    ("xgetbv-xcr0", "0x3"),
]


def test_hostile_bare(t):
    iso = make_iso(t, kernel=(HOSTILE, ""))
    # Bare, the triple fault ends Bochs (reset_on_triple_fault=0 and
    # panic: action=fatal); stop_on is a safety net should it ever go on.
    r = t.boot(iso, stop_on=r"HOSTILE triple-fault now", stop_port="com2", timeout=90)
    c = r.com2
    t.expect(c, r"^HOSTILE hello from the hostile guest$")
    t.expect(c, r"^HOSTILE magic ok$")
    for name, exp in HOSTILE_TESTS:
        t.expect(c, rf"^HOSTILE {re.escape(name)} expect={re.escape(exp)} got={re.escape(exp)} ok$", name)
    t.expect(c, r'^HOSTILE cpuid vendor="GenuineIntel" max-basic=0x[0-9a-f]+ max-ext=0x8000000[0-9a-f] ')
    t.expect(c, r'^HOSTILE cpuid leaves=\d+ vmx=1 hv=0 hvsig="[^"]{12}"$')
    t.expect(c, r"^HOSTILE msr 0x3a read 0x[0-9a-f]+ \(locked\)$")
    t.expect(c, r"^HOSTILE xsave cpuid=1 cr4.osxsave=1$")
    t.expect(c, r"^HOSTILE hidden-ranges n=0 \(available RAM ends at 0x1fff0000\)$")
    t.expect_not(c, r"^HOSTILE probe-")
    t.expect(c, r"^HOSTILE forged-alert sent$")
    t.expect_not(c, r"^HOSTILE forged-alert note")
    # Bare, nothing stops the forged line: it reaches COM1 verbatim. (Under
    # vigil it must never appear there.)
    t.expect(r.com1, "^" + re.escape(FORGED) + "$", "the forged alert on COM1 (bare)")
    n = len(HOSTILE_TESTS)
    t.expect(c, rf"^HOSTILE summary passed={n} failed=0$")
    t.expect(c, r"^HOSTILE triple-fault now$")
    t.expect_not(c, r"FAIL|FATAL|BAD")
    # The triple fault, not a timeout or a power-off, ended the run.
    with open(os.path.join(r.out, "bochs.log"), errors="replace") as f:
        log = f.read()
    t.expect(log, r"3rd \(\d+\) exception with no resolution", "Bochs reporting the triple fault")
