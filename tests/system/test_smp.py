"""Issue 14: every CPU under vigil. Bochs with cpu: count=2 and count=4.

The hostile SMP guest (tests/guests/smp.asm) wakes every other CPU with
INIT-SIPI-SIPI and has each woken CPU report whether it runs under a
hypervisor and reach for vigil's memory. Bare, the woken CPUs run natively;
under vigil no CPU may run guest code outside VMX, and every reach for
vigil's memory is refused by EPT."""
import os
import re
from harness import BUILD, alerts

GUESTS = os.path.join(BUILD, "guests")
STOP = r"vigil: halted|vigil: powering off"


def vigil_ranges(com1):
    return [(int(a, 16), int(b, 16)) for a, b in
            re.findall(r"^  0x([0-9a-f]{16})-0x([0-9a-f]{16})  (?:image|page pool)", com1, re.M)]


def ap_lines(com2):
    return re.findall(r'^SMP ap apic=(\d+) hv=(\d) sig="([^"]*)"$', com2, re.M)


def check_vigil_intact(t, c1):
    t.expect(c1, r"^vigil: summary: guest ran \d+ ms", "vigil's summary (vigil still runs)")
    t.expect_not(c1, r"^vigil: CRASH|PANIC|unexpected VM exit|VM ENTRY FAILED", "a failure of vigil")


def test_smp_bare_cpus_run_natively(t):
    # Without vigil the attack works: the woken CPU runs the guest's code on
    # the bare machine (no hypervisor) and reads what lies at 32 MiB.
    iso = t.iso(kernel=(f"{GUESTS}/smp.elf", "smp"))
    r = t.boot(iso, stop_on=r"^SMP done", stop_port="com2", cpus=2)
    t.expect(r.com2, r"^SMP bsp apic=0 hv=0$")
    aps = ap_lines(r.com2)
    if [a[:2] for a in aps] != [("1", "0")]:
        raise AssertionError(f"bare: expected CPU 1 to run natively (hv=0), got {aps}")
    t.expect(r.com2, r"^SMP ap apic=1 read-0x2000000 value 0x[0-9a-f]{8}$", "a native read of 0x2000000")
    t.expect(r.com2, r"^SMP ap apic=1 write-0x2000000 done$")
    t.expect(r.com2, r"^SMP arrived=1 done=1$")
    t.expect(r.com2, r"^SMP restart arrived=1$", "the CPU started again after a second INIT")


def test_smp_init_sipi_attack_2cpus(t):
    # The attack under vigil: INIT-SIPI-SIPI to all but self. vigil
    # woke CPU 1 itself before the guest ran; the guest's INIT and SIPI pass
    # through vigil (the APIC page is write-protected), so CPU 1 runs the
    # guest's code only as a vCPU, under EPT, and never outside VMX. The
    # second INIT-SIPI-SIPI restarts it: vigil resets the vCPU itself.
    iso = t.iso("", modules=[(f"{GUESTS}/smp.elf", "guest smp")])
    r = t.boot(iso, stop_on=STOP, cpus=2)
    c1, c2 = r.com1, r.com2
    t.expect(c1, r"^vigil: VT-x: NMI exiting yes, wait-for-SIPI activity state yes \(IA32_VMX_MISC 0x[0-9a-f]+\)$")
    t.expect(c1, r"^vigil: CPUs: 2 listed in the ACPI MADT \(boot CPU APIC ID 0, xAPIC\); 2 vCPUs for the guest$")
    t.expect(c1, r"^vigil: CPU 1 \(APIC ID 1\): VMX on in \d+ us$")
    t.expect(c1, r"^vigil: CPUs: 1 application processor under VMX: .*1 in the guest's wait-for-SIPI state")
    # vigil had CPU 1 under VMX before it launched the guest.
    if c1.index("application processor under VMX") > c1.index("vigil: launching the guest"):
        pass   # the APs enter wait-for-SIPI after the IDS set up; VMXON came first:
    if c1.index("CPU 1 (APIC ID 1): VMX on") > c1.index("vigil: launching the guest"):
        raise AssertionError("CPU 1 was brought under VMX only after the guest was launched")
    t.expect(c1, r"^vigil: IPIs: the guest's INIT and SIPI pass through vigil \(local APIC page 0xfee00000 "
                 r"write-protected, x2APIC ICR intercepted\)$")
    t.expect(c1, r"^vigil: vCPU 1 started by the guest \(SIPI vector 0x8: real mode at 0x8000\)$")
    t.expect(c2, r"^SMP bsp apic=0 hv=1$")
    aps = ap_lines(c2)
    if [a[0] for a in aps] != ["1"]:
        raise AssertionError(f"expected CPU 1 to run the guest's code (as a vCPU), got {aps}")
    for apic, hv, sig in aps:
        if hv != "1" or sig != "vigil-hv-ids":
            raise AssertionError(f"CPU {apic} ran the guest's code outside vigil (hv={hv} sig={sig!r})")
    check_ap_refused(t, r, 1)
    t.expect_not(c2, r"read-0x2000000 value|write-0x2000000 done", "an access to vigil's memory that succeeded")
    t.expect(c2, r"^SMP arrived=1 done=1$")
    # The second INIT-SIPI-SIPI: vigil resets vCPU 1 and starts it again.
    t.expect(c1, r"^vigil: vCPU 1 reset by the guest's INIT$")
    t.expect(c2, r"^SMP restart arrived=1$", "the CPU started again after a second INIT")
    t.expect(c2, r"^SMP done$")
    m = t.expect(c1, r"^vigil: vCPU 1 \(APIC ID 1\): (\d+) exits:(.*)$")
    if "SIPI" not in m.group(2) or "INIT" in m.group(2):
        raise AssertionError(f"vCPU 1's first SIPI must be a VM exit and no INIT may reach the CPU: {m.group(0)}")
    check_vigil_intact(t, c1)


def run_vcpus(t, cpus, vigil_args="", tag="run", guest="smp-sipi.elf"):
    iso = t.iso(vigil_args, modules=[(f"{GUESTS}/{guest}", "guest smp")])
    return t.boot(iso, stop_on=STOP, cpus=cpus, tag=tag)


def check_ap_refused(t, r, apic):
    c2 = r.com2
    t.expect(c2, rf'^SMP ap apic={apic} hv=1 sig="vigil-hv-ids"$', f"CPU {apic} running as a vCPU of vigil's")
    t.expect(c2, rf"^SMP ap apic={apic} read-0x2000000 #GP$")
    t.expect(c2, rf"^SMP ap apic={apic} write-0x2000000 #GP$")
    m = t.expect(c2, rf"^SMP ap apic={apic} scan faulted=(\d+) readable=(\d+) found=(\S+)$")
    image = [(s, e) for s, e in vigil_ranges(r.com1) if s == 0x2000000]
    if not image:
        raise AssertionError("vigil did not report its image at 0x2000000")
    pages = (min(image[0][1], 0x2040000) - 0x2000000) // 4096
    if int(m.group(1)) < pages:
        raise AssertionError(f"CPU {apic}: only {m.group(1)} of vigil's {pages} pages in the scan faulted")
    if m.group(3) != "none":
        hit = int(m.group(3), 16)
        if any(s <= hit < e for s, e in vigil_ranges(r.com1)):
            raise AssertionError(f"CPU {apic} read vigil's memory: found 'vigil:' at 0x{hit:x}")


def test_smp_vcpus_run_under_vigil_4cpus(t):
    # Every CPU the guest starts runs its code as a vCPU under the shared EPT:
    # each sees vigil's CPUID signature, and its reads and writes of vigil's
    # memory are refused, reported with its vCPU number.
    r = run_vcpus(t, 4)
    c1, c2 = r.com1, r.com2
    t.expect(c1, r"^vigil: CPUs: 4 listed in the ACPI MADT .*; 4 vCPUs for the guest$")
    for apic in (1, 2, 3):
        t.expect(c1, rf"^vigil: CPU {apic} \(APIC ID {apic}\): VMX on in \d+ us$")
        t.expect(c1, rf"^vigil: vCPU {apic} started by the guest \(SIPI vector 0x8")
        check_ap_refused(t, r, apic)
    t.expect(c2, r"^SMP sipi-only arrived=3$")
    t.expect(c2, r"^SMP arrived=3 done=3$")
    recs = alerts(c1)
    ct = [a for a in recs if a["policy"] == "critical-tables"]
    if ct:
        raise AssertionError(f"vCPUs starting on the kernel's IDT raised critical-tables alerts: {ct}")
    hv = [a for a in recs if a["policy"] == "hypervisor-guard"]
    for n in (1, 2, 3):
        if not any(a["vcpu"] == n and a["detail"].startswith("access to hypervisor memory") for a in hv):
            raise AssertionError(f"no hypervisor-guard alert from vCPU {n}: {[(a['vcpu'], a['detail']) for a in hv][:8]}")
    for n in range(4):
        t.expect(c1, rf"^vigil: vCPU {n} \(APIC ID {n}\): [1-9]\d* exits:")
    t.expect(c1, r"^vigil: CPUs: 4 vCPUs; \d+ EPT shootdowns \(\d+ cycles each on average\), [1-9]\d* kicks; "
                 r"\d+ world stops \(\d+ cycles each on average\)$")
    check_vigil_intact(t, c1)


def test_smp_cpu_on_its_own_idt_is_reported(t):
    # A CPU a rootkit starts for itself and runs on an IDT of its own, never
    # the kernel's: it works bare, and under vigil critical-tables names it.
    iso = t.iso(kernel=(f"{GUESTS}/smp-ownidt.elf", "smp"))
    r = t.boot(iso, stop_on=r"^SMP done", stop_port="com2", cpus=2, tag="bare")
    t.expect(r.com2, r"^SMP ap apic=1 hv=0 ", "the rootkit's CPU running bare")
    m = t.expect(r.com2, r"^SMP ap apic=1 own-idt 0x([0-9a-f]{8})$")
    own = int(m.group(1), 16)
    r = run_vcpus(t, 2, guest="smp-ownidt.elf")
    c1 = r.com1
    t.expect(r.com2, rf"^SMP ap apic=1 own-idt 0x{own:08x}$", "its own IDT in force under vigil too")
    kidt = int(t.expect(c1, r"^vigil: critical-tables: IDTR 0x([0-9a-f]+)/0x[0-9a-f]+ locked$").group(1), 16)
    ct = [a for a in alerts(c1) if a["policy"] == "critical-tables"]
    want = f"vCPU 1 ran 100 ticks on its own IDT 0x{own:x}/0xff, never the kernel's 0x{kidt:x}"
    if [(a["vcpu"], a["action"], a["detail"]) for a in ct] != [(1, "alert", want)]:
        raise AssertionError(f"expected one critical-tables alert {want!r} from vCPU 1, got {ct}")
    t.expect_not(c1, r"^vigil: critical-tables: vCPU 1: IDTR and GDTR", "vCPU 1 locked on a table of its own")
    check_vigil_intact(t, c1)


def test_smp_parked_cpus_cannot_be_started(t):
    # cpus=2 on a 4-CPU machine: CPUs 2 and 3 stay halted in VMX root
    # operation, where neither the guest's INIT nor its SIPI can start them.
    r = run_vcpus(t, 4, "cpus=2")
    c1, c2 = r.com1, r.com2
    t.expect(c1, r"^vigil: CPUs: 4 listed in the ACPI MADT .*; 2 vCPUs for the guest$")
    for apic in (2, 3):
        t.expect(c1, rf"^vigil: CPU {apic} \(APIC ID {apic}\): VMX on in \d+ us; parked in VMX root operation")
    check_ap_refused(t, r, 1)
    aps = ap_lines(c2)
    if [a[0] for a in aps] != ["1"]:
        raise AssertionError(f"only vCPU 1 may run guest code; these did: {aps}")
    t.expect(c2, r"^SMP arrived=1 done=1$")
    t.expect_not(c1, r"^vigil: vCPU [23] ", "a parked CPU that became a vCPU")
    check_vigil_intact(t, c1)


def test_smp_operator_suspends_every_vcpu(t):
    # suspend stops every vCPU; status shows each; regs 1 shows vCPU 1's
    # registers as it stopped; resume lets them all go on.
    iso = t.iso("", modules=[(f"{GUESTS}/smp-sipi.elf", "guest smp")])
    r = t.boot(iso, stop_on=STOP, cpus=2, send=[
        (r"vCPU 1 started by the guest", "suspend\n"),
        (r"suspended: operator request", "status\n"),
        (r"^vigil: vCPU 1 \S+", "regs 1\n"),
        (r"vCPU 1: rip 0x|vCPU 1: waiting|vCPU 1: no registers", "resume\n"),
    ])
    c1 = r.com1
    t.expect(c1, r"^vigil: vCPU \d suspended: operator request; rip 0x[0-9a-f]+$")
    t.expect(c1, r"^vigil: every vCPU is stopped \(2\)$")
    # Whichever vCPU serves the console is suspended, the other held.
    t.expect(c1, r"^vigil: vCPU 0 (suspended: operator request|held)$")
    t.expect(c1, r"^vigil: vCPU 1 (suspended|held|running)")
    t.expect(c1, r"^  vCPU 1: (rip 0x[0-9a-f]{16}  rsp 0x[0-9a-f]{16}|no registers recorded yet|waiting for SIPI)")
    t.expect(c1, r"^vigil: vCPU \d resumed \(and every vCPU with it\)$")
    t.expect(r.com2, r"^SMP arrived=1 done=1$")
    check_vigil_intact(t, c1)


def test_smp_testos_benign_two_cpus(t):
    # The test OS on a 2-CPU machine: vCPU 1 waits for a SIPI that never
    # comes, and the IDS raises nothing.
    iso = t.iso("", modules=[(os.path.join(BUILD, "testos.elf"), "guest scenario=benign console=com2"),
                              (os.path.join(BUILD, "testos.profile"), "profile")])
    r = t.boot(iso, stop_on=STOP, cpus=2)
    t.expect(r.com2, r"^SCENARIO benign done$")
    t.expect(r.com1, r"^vigil: CPUs: 2 listed in the ACPI MADT")
    t.expect(r.com1, r"^vigil: alerts: 0 raised, 0 printed")
    if alerts(r.com1):
        raise AssertionError(f"benign raised alerts: {alerts(r.com1)}")
    check_vigil_intact(t, r.com1)
