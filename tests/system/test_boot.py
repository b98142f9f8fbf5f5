"""Issue 2: vigil boots from GRUB into 64-bit C and describes the machine."""
import os
import re
from harness import BUILD, ROOT

VIGIL = os.path.join(BUILD, "vigil.elf")
README = os.path.join(ROOT, "README.md")


def test_boot_report(t):
    iso = t.iso("loglevel=info bogus=1", modules=[(README, "initrd some args here")])
    r = t.boot(iso)
    c = r.com1
    t.expect(c, r"^vigil \S+: hypervisor-based intrusion detection", "the banner")
    t.expect(c, r'^vigil: loaded by "GRUB [^"]+", command line "loglevel=info bogus=1"$', "loader and command line")
    t.expect(c, r"^vigil: memory map \(\d+ entries, 51\d MiB available\):$", "memory map header")
    t.expect(c, r"^  0x0000000000100000-0x000000001fff0000  available", "the RAM entry above 1 MiB")
    t.expect(c, r"^vigil: 1 module$", "module count")
    t.expect(c, r'^  0x[0-9a-f]{16}-0x[0-9a-f]{16}  initrd   \d+ bytes  "some args here"$', "module line")
    t.expect(c, r"^vigil: unknown option 'bogus' on the command line, ignored$", "unknown option warning")
    t.expect(c, r"^vigil: CPU: GenuineIntel family 0x6 model 0x3c", "CPU line (Bochs Haswell)")
    t.expect(c, r"^  0x0000000002000000-0x[0-9a-f]{16}  image", "vigil's image range")
    t.expect(c, r"^  0x[0-9a-f]{16}-0x[0-9a-f]{16}  page pool \(16 MiB\)", "page pool range")
    t.expect(c, r"^vigil: VT-x: VMX present, IA32_FEATURE_CONTROL 0x[0-9a-f]+ \(lock 1, VMX outside SMX 1\)")
    t.expect(c, r"^vigil: VT-x: EPT yes \(4-level yes, WB yes, 2MiB yes, 1GiB yes")
    t.expect(c, r"^vigil: VT-x: VPID yes .* unrestricted guest yes, preemption timer yes")
    t.expect(c, r"^vigil: VT-x is usable$")
    t.expect(c, r"^vigil: no module named .guest.: nothing to run")
    t.expect_not(c, r"^\{", "a log line starting with '{'")
    t.expect_not(c, r"CRASH|PANIC")


def test_console_com2(t):
    iso = t.iso("console=com2")
    r = t.boot(iso, stop_port="com2")
    t.expect(r.com2, r"^vigil: VT-x is usable$", "vigil's log on COM2")
    t.expect_not(r.com1, r"^vigil", "vigil output on COM1 (only GRUB may write there)")


def test_wrong_loader(t):
    iso = t.iso("", mb1=True)
    r = t.boot(iso)
    t.expect(r.com1, r"vigil: not loaded by a multiboot2 loader \(EAX=0x2badb002, expected 0x36d76289\)",
             "the wrong-loader message")


def test_no_ept_cpu(t):
    # Core 2 Penryn has VMX but no EPT: a clear refusal, not a crash.
    iso = t.iso("")
    r = t.boot(iso, cpu="core2_penryn_t9600")
    t.expect(r.com1, r"^vigil: VT-x: VMX present")
    t.expect(r.com1, r"^vigil: PANIC: cannot run guests: VT-x without EPT: vigil needs extended page tables$")
    t.expect(r.com1, r"^vigil: halted$")


def test_qemu_tcg_no_vtx(t):
    iso = t.iso("")
    r = t.boot(iso, emulator="qemu", cpu="qemu64", timeout=120)
    t.expect(r.com1, r"^vigil: VT-x: VMX ABSENT$")
    t.expect(r.com1, r"^vigil: PANIC: cannot run guests: this is not an Intel CPU and it offers no VT-x")
    # With an SMBIOS system UUID (SeaBIOS writes QEMU's -uuid into type 1),
    # the machine is named by it; the clock is read before the VT-x check.
    uuid = "5e2a7f10-4b3c-4d8e-9f01-23456789abcd"
    r = t.boot(iso, emulator="qemu", cpu="Haswell-noTSX", timeout=120, tag="intel", uuid=uuid)
    t.expect(r.com1, r"^vigil: CPU: GenuineIntel")
    t.expect(r.com1, rf"^vigil: host: {uuid} \(SMBIOS system UUID\)$")
    t.expect(r.com1, r"^vigil: clock: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z from the RTC \((BCD|binary), "
                     r"(24|12)-hour\), kept by the TSC$")
    t.expect(r.com1, r"^vigil: PANIC: cannot run guests: no VT-x: CPUID.1:ECX.VMX=0")


def test_uefi_qemu_ovmf(t):
    """The ISO is BIOS+UEFI hybrid (grub-efi-amd64-bin): under Debian's OVMF
    in QEMU/TCG, GRUB EFI loads vigil by multiboot2, and vigil's boot report
    is as correct as under BIOS: the memory map from GRUB (with the EFI
    types it adds beyond e820's named: the firmware's runtime code), the
    modules, the ACPI RSDP, the clock; then the clear refusal of a CPU
    without VT-x. VMX itself under UEFI needs a real machine."""
    iso = t.iso("host=uefi-box", modules=[(os.path.join(BUILD, "testos.elf"), "guest scenario=benign console=com2")])
    r = t.boot(iso, emulator="qemu", cpu="Haswell-noTSX", timeout=180, uefi=True)
    c = r.com1
    t.expect(c, r'^vigil: loaded by "GRUB [^"]*", command line "host=uefi-box"$')
    m = t.expect(c, r"^vigil: memory map \((\d+) entries, (\d+) MiB available\):$")
    if int(m.group(2)) < 400:
        raise AssertionError(f"{m.group(2)} MiB available of 512")
    t.expect(c, r"^  0x[0-9a-f]{16}-0x[0-9a-f]{16}  firmware code +\(type 20\)$", "the EFI runtime code, named")
    t.expect(c, r"^  0x[0-9a-f]{16}-0x[0-9a-f]{16}  ACPI NVS +\(type 4\)$")
    t.expect_not(c, r"  unknown +\(type", "a memory type vigil cannot name")
    t.expect(c, r"^vigil: 1 module$")
    t.expect(c, r'^  0x[0-9a-f]{16}-0x[0-9a-f]{16}  guest +\d+ bytes  "scenario=benign console=com2"$')
    t.expect(c, r"^vigil: ACPI RSDP revision 2 passed by the loader$")
    t.expect(c, r"^vigil: clock: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z from the RTC")
    t.expect(c, r"^vigil: host: uefi-box \(host=\)$")
    t.expect(c, r"^vigil: PANIC: cannot run guests: no VT-x: CPUID.1:ECX.VMX=0")


def test_qemu_auto_says_why(t):
    """make run EMU=qemu (emu.py qemu --cpu auto): KVM with nested VMX where
    /dev/kvm offers it, else TCG, and emu.py says plainly which and why (no
    /dev/kvm, no VMX to give, or KVM without nested VMX with the
    kvm_intel nested=1 hint); vigil then runs, or shows its refusal."""
    import subprocess
    import sys
    iso = t.iso("")
    out = os.path.join(t.dir, "auto")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/emu.py"), "qemu", "--cpu", "auto", "--iso", iso,
                        "--out", out, "--timeout", "120", "--stop-on", r"vigil: halted|VT-x is usable"],
                       capture_output=True, text=True)
    said = [l for l in p.stderr.splitlines() if l.startswith("emu.py: QEMU: ")]
    if len(said) != 1:
        raise AssertionError(f"emu.py did not say how it runs QEMU: {p.stderr!r}")
    with open(os.path.join(out, "com1.log"), encoding="utf-8", errors="replace") as f:
        com1 = f.read().replace("\r", "")
    if "using TCG instead" in said[0]:
        if not re.search(r"no /dev/kvm|not readable and writable|no VMX to give|without nested VMX: as root, "
                         r"modprobe -r kvm_intel && modprobe kvm_intel nested=1", said[0]):
            raise AssertionError(f"the fallback without a reason: {said[0]}")
        t.expect(com1, r"^vigil: PANIC: cannot run guests: no VT-x: CPUID.1:ECX.VMX=0")
    else:
        t.expect(said[0], r"KVM with nested VMX")
        t.expect(com1, r"^vigil: VT-x is usable$")
