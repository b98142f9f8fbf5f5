"""Issue 14: Debian's stock Linux on 2 CPUs (Bochs `cpu: count=2`), bare and
under vigil with the IDS on: both CPUs come online as they do bare (under
vigil the second is a vCPU, started by Linux's own INIT-SIPI-SIPI), the
scripted workload gives the same output, and a benign session raises no
alert. One boot each: Linux takes minutes in Bochs."""
from harness import alerts
from test_linux import VMLINUZ, INITRD, CMDLINE, STOP, check_workload


def online(t, com2):
    t.expect(com2, r"smp: Brought up 1 node, 2 CPUs", "both CPUs online")
    t.expect_not(com2, r"CPU1 failed to report alive|do_boot_cpu failed|APIC error", "an AP that failed to start")


def test_linux_two_cpus_bare(t):
    iso = t.iso(kernel=(VMLINUZ, CMDLINE), linux=True, initrd=INITRD)
    r = t.boot(iso, stop_on=None, timeout=500, ignore_bad_msrs=True, cpus=2)
    t.expect(r.reason, r"run ended: exited", "Bochs to end with Linux's ACPI power-off")
    online(t, r.com2)
    check_workload(t, r.com2)


def test_linux_two_cpus_under_vigil(t):
    iso = t.iso("", modules=[(VMLINUZ, "guest " + CMDLINE), (INITRD, "initrd")])
    r = t.boot(iso, stop_on=STOP, timeout=700, ignore_bad_msrs=True, cpus=2, tag="ids-on")
    c1 = r.com1
    t.expect_not(c1, r"^vigil: CRASH|GUEST CRASH|unexpected VM exit|suspended")
    online(t, r.com2)
    check_workload(t, r.com2)
    t.expect(r.com2, r"reboot: Power down", "Linux's power-off")
    t.expect(c1, r"^vigil: vCPU 1 started by the guest", "the second CPU a vCPU of vigil's")
    recs = alerts(c1)
    assert not recs, f"a benign Linux session on 2 CPUs raised alerts: {recs}"
    t.expect(c1, r"^vigil: summary: guest ran \d+ ms")


def test_linux_smp_debug(t):
    iso = t.iso("", modules=[(VMLINUZ, "guest " + CMDLINE), (INITRD, "initrd")])
    send = [(r"com2:do_boot_cpu failed", "suspend\n"), (r"suspended: operator", "regs 1\n"),
            (r"vCPU 1:", "regs 0\n"), (r"vCPU 0:", "resume\n")]
    r = t.boot(iso, stop_on=r"vigil: halted|vigil: powering off", timeout=900, ignore_bad_msrs=True, cpus=2, tag="dbg", send=send)
    print(r.com1[-6000:])
    print(r.com2[-3000:])
    assert False
