"""Issue 10: Debian's stock Linux kernel (build/linux/, scripts/getlinux.sh)
with a busybox initramfs whose /init (tests/linux/init) runs a scripted
workload and powers off. Bare from GRUB (its `linux`/`initrd` commands), and
under vigil through the Linux boot protocol. Linux's console is ttyS1 (COM2).
Each boot takes minutes in Bochs: these tests are few and each checks much."""
import os
import re
from harness import BUILD, alerts

LINUX = os.path.join(BUILD, "linux")
VMLINUZ = os.path.join(LINUX, "vmlinuz")
INITRD = os.path.join(LINUX, "initrd.img")
CMDLINE = "console=ttyS1,115200 nokaslr"
# Wall-clock guards against a hang, not measures: a boot takes 150 s alone
# and 10 minutes beside five other emulators on two cores.
TIMEOUT = 900
KASLR_CMDLINE = "console=ttyS1,115200"       # as `make run GUEST=linux` boots it: KASLR on
LINK_TEXT = "ffffffff81000000"                # _text without a KASLR slide


def workload(com2):
    """The lines of the workload, which must be the same everywhere."""
    return [l for l in com2.splitlines() if l.startswith("VIGIL-LINUX ")]


def check_workload(t, com2):
    w = workload(com2)
    t.expect(com2, r"^VIGIL-LINUX init start$", "Linux to reach /init")
    t.expect(com2, r"^VIGIL-LINUX forkexec 20$", "20 fork+execs")
    t.expect(com2, r"^VIGIL-LINUX file 23893 a5a208cd26b07cadade3450fe14d1d93$", "the file written and checksummed")
    t.expect(com2, r"^VIGIL-LINUX cmp same$")
    t.expect(com2, r"^VIGIL-LINUX vcheck fork=42 pipe=ok mmap=ok tsc=ok$",
             "the static C test program (tests/linux/prog/vcheck.c): fork, pipe, anonymous memory, TSC")
    t.expect(com2, r"^VIGIL-BENCH tsc init \d+$", "vtsc at the start of /init")
    t.expect(com2, r"^VIGIL-LINUX workload done$")
    return w


def kernel_text(t, com2):
    """_text from /proc/kallsyms: the link address unless KASLR slid it."""
    return t.expect(com2, r"^VIGIL-INFO text ([0-9a-f]{16})$", "the kernel's _text address").group(1)


STOP = r"vigil: halted|vigil: vCPU 0 suspended|vigil: powering off"


def boot_vigil(t, vigil_args, tag, timeout=TIMEOUT, cmdline=CMDLINE):
    iso = t.iso(vigil_args, modules=[(VMLINUZ, "guest " + cmdline), (INITRD, "initrd")])
    r = t.boot(iso, stop_on=STOP, timeout=timeout, ignore_bad_msrs=True, tag=tag)
    c1 = r.com1
    t.expect(c1, r"^vigil: guest: Linux bzImage, boot protocol 2\.\d\d, \d+-byte kernel \(relocatable\)")
    t.expect(c1, r"^vigil: guest: kernel at 0x[0-9a-f]+ \(preferred 0x1000000\), zero page at 0x[0-9a-f]+, "
                 r"initrd at 0x[0-9a-f]+ \(\d+ bytes\)$")
    t.expect(c1, r'^vigil: zero page for the guest at 0x[0-9a-f]+ \(\d+ e820 entries\), command line "'
             + re.escape(cmdline) + '"$')
    t.expect_not(c1, r"^vigil: CRASH|GUEST CRASH|unexpected VM exit|vCPU 0 suspended")
    check_workload(t, r.com2)
    t.expect(r.com2, r"reboot: Power down", "Linux's power-off")
    t.expect(c1, r"^vigil: guest powered off: ACPI", "vigil to see the ACPI power-off")
    t.expect(c1, r"^vigil: summary: guest ran \d+ ms \(\d+ TSC cycles\); \d+ VM exits")
    return r


def test_linux_under_vigil(t):
    """IDS off: what Linux needs from vigil alone; the workload's output is
    the bare run's (test_linux_ids.test_linux_rootkits_bare checks the same lines). Without the IDS
    the guest loads CR3 without an exit: a boot's CR accesses are a few
    hundred CR0/CR4 writes, not KPTI's tens of thousands of CR3 loads."""
    r = boot_vigil(t, "ids=off", "ids-off")
    assert kernel_text(t, r.com2) == LINK_TEXT, "nokaslr: the kernel at its link address"
    t.expect(r.com1, r"^vigil: exits by reason:", "the summary's exit table")
    m = re.search(r"^ +28 control-register access +(\d+) ", r.com1, re.M)    # no row: none
    n = int(m.group(1)) if m else 0
    assert n < 2000, f"{n} CR access exits with ids=off: CR3 loads still exit?"


def test_linux_under_vigil_ids_on(t):
    """The default policy, no Linux profile, and KASLR on, as `make run
    GUEST=linux` boots it (the kernel picks its physical and virtual place
    from vigil's e820 map): Linux boots and runs the same workload, and a
    benign session raises no alert. Its 8250 driver probes COM1, vigil's
    console, at boot (the interrupt-enable register): refused, so Linux
    finds no UART there, and counted, but not reported. Every CR3 load
    exits to the IDS."""
    r = boot_vigil(t, "", "ids-on", cmdline=KASLR_CMDLINE)
    assert kernel_text(t, r.com2) != LINK_TEXT, "KASLR on: the kernel's text slid from its link address"
    m = t.expect(r.com1, r"^ +28 control-register access +(\d+) ", "CR accesses in the summary")
    assert int(m.group(1)) > 10000, f"only {m.group(1)} CR access exits with the IDS on: CR3 loads not trapped?"
    t.expect(r.com1, r"^vigil: IDS on; profile: none")
    recs = alerts(r.com1)
    assert not recs, f"a benign Linux session raised alerts: {recs}"
    t.expect(r.com1, r"^vigil: refused guest read of vigil's console port 0x3f9 ", "the COM1 probe refused")
    t.expect(r.com1, r"^vigil: refused: 0 accesses to hypervisor memory, [1-9]\d* to vigil's console ports$")
    t.expect(r.com1, r"^vigil: alerts: 0 raised")


def test_linux_malformed_refused(t):
    """Broken bzImages and an initrd Linux cannot take: vigil names what is
    wrong and does not start the guest."""
    with open(VMLINUZ, "rb") as f:
        good = f.read()

    def variant(name, data):
        path = os.path.join(t.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    old = bytearray(good[:0x1000])
    old[0x206:0x208] = (0x020b).to_bytes(2, "little")
    low = bytearray(good)
    low[0x22c:0x230] = (0x100000).to_bytes(4, "little")      # initrd_addr_max 1 MiB
    cases = [
        # the refused images are small where the check allows (GRUB loads them
        # faster): the protocol is checked before the kernel's size
        ("truncated", good[:0x40000], None,
         r"linux: bzImage truncated: syssize says the protected-mode kernel is \d+ bytes, the file holds \d+"),
        ("oldproto", bytes(old), None, r"linux: boot protocol 2\.11 is too old: vigil needs 2\.12"),
        ("initrd-max", bytes(low), INITRD, r"linux: the initrd does not fit: \d+ bytes, and initrd_addr_max is "
                                           r"0x100000|linux: module 'initrd' at .* lies above initrd_addr_max"),
    ]
    for name, data, initrd, message in cases:
        mods = [(variant(name + ".bzimage", data), "guest " + CMDLINE)]
        if initrd:
            mods.append((initrd, "initrd"))
        r = t.boot(t.iso("", modules=mods), stop_on=r"vigil: halted", timeout=120, tag=name)
        t.expect(r.com1, r"^vigil: cannot start the guest: " + message, f"the {name} image refused by name")
        t.expect_not(r.com1, r"VMX on|launching", f"no guest started for {name}")
