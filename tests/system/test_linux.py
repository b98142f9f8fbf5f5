"""Issue 10: Debian's stock Linux kernel (build/linux/, scripts/getlinux.sh)
with a busybox initramfs whose /init (tests/linux/init) runs a scripted
workload and powers off. Bare from GRUB (its `linux`/`initrd` commands), and
under vigil through the Linux boot protocol. Linux's console is ttyS1 (COM2).
Each boot takes minutes in Bochs: these tests are few and each checks much."""
import os
import re
from harness import BUILD

LINUX = os.path.join(BUILD, "linux")
VMLINUZ = os.path.join(LINUX, "vmlinuz")
INITRD = os.path.join(LINUX, "initrd.img")
CMDLINE = "console=ttyS1,115200 nokaslr"


def workload(com2):
    """The lines of the workload, which must be the same everywhere."""
    return [l for l in com2.splitlines() if l.startswith("VIGIL-LINUX ")]


def check_workload(t, com2):
    w = workload(com2)
    t.expect(com2, r"^VIGIL-LINUX init start$", "Linux to reach /init")
    t.expect(com2, r"^VIGIL-LINUX forkexec 20$", "20 fork+execs")
    t.expect(com2, r"^VIGIL-LINUX file 23893 a5a208cd26b07cadade3450fe14d1d93$", "the file written and checksummed")
    t.expect(com2, r"^VIGIL-LINUX cmp same$")
    t.expect(com2, r"^VIGIL-LINUX workload done$")
    return w


def test_linux_bare(t):
    iso = t.iso(kernel=(VMLINUZ, CMDLINE), linux=True, initrd=INITRD)
    r = t.boot(iso, stop_on=None, timeout=400, ignore_bad_msrs=True)
    t.expect(r.reason, r"run ended: exited", "Bochs to end with Linux's ACPI power-off")
    check_workload(t, r.com2)
    t.expect(r.com2, r"reboot: Power down", "Linux's power-off")
