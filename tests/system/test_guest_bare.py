"""Issue 4: testos, the test guest, run bare: GRUB loads build/testos.elf
directly (no hypervisor) with console=com2. Every attack must visibly succeed
bare (which proves the attack is real); under vigil it must be detected.
hv-probe is the exception: bare, the memory map hides nothing, so the guest
honestly reports result=failed (unless hide= makes it hide a range).
See docs/testos.md."""
import os
import re
from harness import BUILD

TESTOS = os.path.join(BUILD, "testos.elf")
PROFILE = os.path.join(BUILD, "testos.profile")
SIGNATURE = b"VIGIL-SIGNATURE!"


def boot(t, scenario, extra="", emulator="bochs", tag=None):
    args = f"scenario={scenario} console=com2 {extra}".strip()
    iso = t.iso(kernel=(TESTOS, args))
    r = t.boot(iso, emulator=emulator, stop_on=None, timeout=90, tag=tag or scenario)
    c = r.com2
    t.expect(r.reason, r"run ended: exited", f"the {emulator} run to end by the guest's power-off")
    t.expect(c, r'^testos: booted by "GRUB [^"]*", command line "' + re.escape(args) + '"$', "the boot line")
    t.expect(c, r"^testos: paging on: NX, WP, ", "paging report")
    t.expect(c, r"^testos: powering off$", "the power-off line")
    t.expect_not(r.com1, r"^testos", "testos output on COM1 (console=com2)")
    return r


def scenario_ok(t, r, name):
    c = r.com2
    t.expect(c, rf"^SCENARIO {name} start$")
    t.expect(c, rf"^SCENARIO {name} done$")
    t.expect_not(c, r"PANIC|killed by exception|did not complete")
    return c


def attack(t, name, outcome="succeeded", extra=""):
    r = boot(t, name, extra)
    c = scenario_ok(t, r, name)
    t.expect(c, rf"^ATTACK {name} begin\n(.*\n)*ATTACK {name} result={outcome}$",
             f"ATTACK {name} begin, then result={outcome}")
    t.expect_not(c, rf"^ATTACK {name} result=(?!{outcome}$)", "a second, different result")
    return r


def test_guest_bare_benign(t):
    r = boot(t, "benign")
    c = scenario_ok(t, r, "benign")
    t.expect(c, r"^init: generation 1: 4 children exited")
    t.expect(c, r"^init: generation 2: 3 children exited")
    t.expect(c, r"^benign: init exited with 0$")
    t.expect(c, r"^benign: no page leaked")
    t.expect(c, r"^ *0 +0 +runnable +0x[0-9a-f]+ +idle$", "idle in the ps listing")
    during = t.expect(c, r"^ps \(during benign\):\n.*\n((?: +\d+ .*\n)+)", "the ps listing during the run").group(1)
    users = re.findall(r"^ +(\d+) +(\d+) +\w+ +(0x[0-9a-f]+) +(\S+)$", during, re.M)
    cr3s = {cr3 for pid, _, cr3, _ in users if int(pid) > 1}
    assert len(cr3s) >= 4, f"at least 4 user processes with their own CR3 at once, saw {users}"
    t.expect_not(c, r"^ATTACK")


def test_guest_bare_bench(t):
    r = boot(t, "bench")
    c = scenario_ok(t, r, "bench")
    lines = re.findall(r"^BENCH name=(\w+) ops=(\d+) cycles=(\d+)$", c, re.M)
    names = [n for n, _, _ in lines]
    assert sorted(names) == sorted(["ctxswitch", "syscall", "pagefault", "spawn", "memloop"]), \
        f"one BENCH line per workload, got {names}"
    assert all(int(ops) > 0 and int(cyc) > 0 for _, ops, cyc in lines), lines


def test_guest_bare_hide_process(t):
    r = attack(t, "hide-process")
    t.expect(r.com2, r"^hide-process: pid \d+ \(backdoor\) no longer in proc_list; still scheduled: yes")
    t.expect(r.com2, r"^backdoor: pid \d+ heartbeat 60$", "the hidden process to run to its end")


def test_guest_bare_patch_kernel_text(t):
    r = attack(t, "patch-kernel-text")
    t.expect(r.com2, r"^patch-kernel-text: sys_getpid at 0x[0-9a-f]+: jmp to the hook in place; hook ran [1-9]")


def test_guest_bare_hook_syscall(t):
    r = attack(t, "hook-syscall")
    t.expect(r.com2, r"^hook-syscall: entry redirected; hook ran [1-9]\d* times \(probe exit 0\)$")


def test_guest_bare_step_window(t):
    r = attack(t, "step-window")
    t.expect(r.com2, r"^step-window: the write across the pages faulted: #PF")
    t.expect(r.com2, r"^step-window: the #PF handler ran 1 times, TF clear in its frame; syscall_table\[2\] redirected$")


def test_guest_bare_emulated_store(t):
    r = attack(t, "emulated-store")
    c = r.com2
    t.expect(c, r"^emulated-store: SIDT into kernel text: #PF error 0x3 CR2 the target 0x")
    t.expect(c, r"^emulated-store: SIDT across into a read-only page: #PF error 0x3 CR2 the next page 0x")
    # (Bochs stores SIDT's limit, then its base: bare, the first page may
    # keep a partial store; the SDM leaves it open.)
    t.expect(c, r"^emulated-store: SIDT through a writable alias of kernel text: stored$")
    t.expect(c, r"^emulated-store: kernel text overwritten$")


def test_guest_bare_hook_idt(t):
    r = attack(t, "hook-idt")
    t.expect(r.com2, r"^hook-idt: IDT\[0x80\] at 0x[0-9a-f]+ redirected; hook ran: yes$")
    t.expect(r.com2, r"^hook-idt: IDTR points to the copy at 0x[0-9a-f]+; hook ran: yes$")


def test_guest_bare_hook_lstar(t):
    r = attack(t, "hook-lstar")
    t.expect(r.com2, r"^hook-lstar: LSTAR 0x[0-9a-f]+ -> (0x[0-9a-f]+) \(hook \1\); hook ran [1-9]")


def test_guest_bare_disable_wp(t):
    r = attack(t, "disable-wp")
    t.expect(r.com2, r"^disable-wp: CR0 now 0x[0-9a-f]+ \(WP clear\); write to a read-only page went through$")


def test_guest_bare_smep_off(t):
    r = attack(t, "smep-off")
    t.expect(r.com2, r"^smep-off: CR4 now 0x[0-9a-f]+ \(SMEP clear\); ring 0 ran code on a user page: yes$")


def test_guest_bare_wx_mapping(t):
    r = attack(t, "wx-mapping")
    t.expect(r.com2, r"^wx-mapping: kernel page 0x[0-9a-f]+ mapped W\+X; code written there ran: yes$")
    t.expect(r.com2, r"^wx-mapping: kernel text .* mapped user-accessible at 0x70000000; the process read the kernel's bytes$")


def test_guest_bare_raw_io(t):
    r = attack(t, "raw-io")
    t.expect(r.com2, r'^rawio: IDENTIFY( PACKET)? status 0x[0-9a-f]+, model "[^"]+"$', "the ATA identify answer")


def test_guest_bare_signature(t):
    with open(TESTOS, "rb") as f:
        assert SIGNATURE not in f.read(), "the signature pattern must not be in the kernel image"
    r = attack(t, "signature")
    t.expect(r.com2, r"^sigproc: pid \d+ ran with the pattern at 0x[0-9a-f]+$")


def test_guest_bare_hv_probe(t):
    # Bare, nothing is hidden between RAM ranges: the honest outcome is failed.
    r = attack(t, "hv-probe", outcome="failed")
    t.expect(r.com2, r"^hv-probe: the memory map hides nothing between available RAM above 1 MiB")


def test_guest_bare_hv_probe_hidden_range(t):
    # hide= makes testos treat a RAM range as reserved, as vigil's own range is.
    r = attack(t, "hv-probe", extra="hide=0x2000000-0x2200000")
    t.expect(r.com2, r"^hv-probe: 0x2000000-0x2200000 \(reserved\): 3 of 3 accesses completed, 3 writes read back$")


def test_guest_bare_ids_tamper(t):
    r = attack(t, "ids-tamper")
    t.expect(r.com2, r"^ids-tamper: vmcall \(RAX 0x[0-9a-f]+\) -> #UD$")
    t.expect(r.com2, r"^ids-tamper: vmread -> #UD$")
    t.expect(r.com2, r"^ids-tamper: COM1 scratch register answers, .*forged alert line sent$")
    t.expect(r.com1, r'^\{"type":"alert",.*"detail":"forged by testos ids-tamper', "the forged alert on COM1")


def test_guest_bare_alert_flood_distinct(t):
    # Bare, every VMCALL gets #UD (VMX is off) and testos goes on after it:
    # the scenario is sound without vigil, and cheap (an exception each).
    r = attack(t, "alert-flood-distinct", outcome="failed", extra="flood=5000")
    m = t.expect(r.com2, r"^alert-flood-distinct: 5000 VMCALLs at distinct RIPs in (\d+) cycles \((\d+) each\), "
                         r"5000 of them #UD$")
    if int(m.group(2)) > 1000:
        raise AssertionError(f"{m.group(2)} cycles per #UD bare")


def test_guest_bare_fault_report(t):
    r = boot(t, "selftest-fault")
    c = r.com2
    t.expect(c, r"^testos: PANIC: unexpected exception: #PF \(vector 14\) error 0x2 in kernel mode, pid 1 \(kmain\)$")
    t.expect(c, r"^testos:   RIP 0xffffffff8[0-9a-f]+ CS 0x8 ")
    t.expect(c, r"^testos:   CR0 0x[0-9a-f]+ CR2 0xffffffff7ff00000 ")
    t.expect_not(c, r"^SCENARIO selftest-fault done")


def test_guest_bare_unknown_scenario(t):
    r = boot(t, "no-such-thing")
    t.expect(r.com2, r'^testos: error: unknown scenario "no-such-thing"; known: benign bench ')
    t.expect_not(r.com2, r"^SCENARIO")


def test_guest_bare_qemu_benign(t):
    r = boot(t, "benign", emulator="qemu")
    scenario_ok(t, r, "benign")
    # isa-debug-exit at 0xf4: outw 0x31 makes QEMU exit with (0x31 << 1) | 1.
    t.expect(r.reason, r"exited \(status 99\)", "power-off through isa-debug-exit")


def test_guest_bare_qemu_acpi_poweroff(t):
    r = boot(t, "benign", extra="poweroff=acpi", emulator="qemu")
    scenario_ok(t, r, "benign")
    t.expect(r.com2, r"^testos: ACPI: S5 via PM1a_CNT 0x[0-9a-f]+, SLP_TYPa \d+$")
    t.expect(r.reason, r"exited \(status 0\)", "QEMU powered off by ACPI S5")


def test_guest_bare_profile(t):
    with open(PROFILE) as f:
        prof = f.read()
    syms = dict(re.findall(r"^symbol (\S+) (0x[0-9a-f]+) \d+$", prof, re.M))
    for s in ("kernel_text", "kernel_rodata", "proc_list", "syscall_table", "syscall_entry", "idt", "gdt"):
        assert s in syms, f"symbol {s} missing from {PROFILE}"
    t.expect(prof, r"^profile testos 1$")
    t.expect(prof, r"^kernel_virt_base 0xffffffff80000000$")
    for field in ("pid", "name", "cr3", "state", "next"):
        t.expect(prof, rf"^struct proc\.{field} \d+ \d+$")
    t.expect(prof, r"^syscall 2 getpid 0xffffffff8[0-9a-f]+$")
    assert len(re.findall(r"^syscall \d+ ", prof, re.M)) == 10


def test_guest_bare_qemu_console_com1(t):
    iso = t.iso(kernel=(TESTOS, "scenario=hook-syscall console=com1"))
    r = t.boot(iso, emulator="qemu", stop_on=None, timeout=60)
    t.expect(r.com1, r"^SCENARIO hook-syscall done$", "the scenario on COM1")
    t.expect(r.com1, r"^ATTACK hook-syscall result=succeeded$")
    t.expect_not(r.com2, r"testos|SCENARIO", "testos output on COM2")
