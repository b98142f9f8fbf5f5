"""Issue 9, classes 3 and 4: evasions of the lie detector (a process hidden
inside an address space that is listed, or that no process owns) and of
io-guard's allow-list by name (a rename, code put into the allowed
process). Each attack visibly succeeds bare and is caught under vigil with
the default policy. See docs/ids.md ("hidden-process", "io-guard") and
docs/testos.md ("Evasions")."""
from test_guest_bare import attack
from test_ids import boot_scenario, only, need, outcome
from harness import alerts

HIDE = {
    "hide-in-kernel-as": "the kernel's address space",
    "hide-in-boot-as": "the boot page tables",
    "hide-in-listed-as": "a listed process's address space",
}


def hide_bare(t, name):
    r = attack(t, name)
    t.expect(r.com2, rf"^{name}: pid \d+ not in proc_list; ran on the borrowed CR3: yes \(\d+ switches",
             "the ghost scheduled while unlisted, on the borrowed root")
    t.expect(r.com2, r"^ghost: pid \d+ ran \d+ rounds", "the ghost's own output")


def hide_vigil(t, name):
    r = boot_scenario(t, name)
    recs = alerts(r.com1)
    if name == "hide-in-boot-as":
        # The boot tables running again is pagetable-audit's finding too.
        need(t, recs, "pagetable-audit", r"^the boot page tables run again after the boot$")
        recs = [x for x in recs if x["policy"] != "pagetable-audit"]
    only(t, recs, {"hidden-process"})
    a = need(t, recs, "hidden-process",
             rf"^the running task is not in the process list: hidden process pid \d+ \"ghost\" in {HIDE[name]}$",
             process="ghost")
    if "gva" not in a:
        raise AssertionError(f"hidden-task alert without the task's address: {a}")
    if name != "hide-in-listed-as":
        need(t, recs, "hidden-process", rf"^user-mode code runs in {HIDE[name]} \(task pid \d+ \"ghost\"\)$")
    # No address space is hidden: a lie detector comparing CR3 values alone
    # sees nothing (the ghost's CR3 is listed or owned by no process).
    if any("address space runs but no process" in x.get("detail", "") for x in recs):
        raise AssertionError(f"the ghost's borrowed CR3 reported as a hidden address space: {recs}")
    # Found, each way, once per process.
    tasks = [x for x in recs if x.get("detail", "").startswith("the running task")]
    if len(tasks) != 1:
        raise AssertionError(f"one hidden-task alert expected, got {tasks}")
    if outcome(t, r, name) != "succeeded":
        raise AssertionError("a detect-only policy changed what the ghost could do")


def test_hide_in_kernel_as_bare(t):
    hide_bare(t, "hide-in-kernel-as")


def test_hide_in_boot_as_bare(t):
    hide_bare(t, "hide-in-boot-as")


def test_hide_in_listed_as_bare(t):
    hide_bare(t, "hide-in-listed-as")


def test_hide_in_kernel_as(t):
    hide_vigil(t, "hide-in-kernel-as")


def test_hide_in_boot_as(t):
    hide_vigil(t, "hide-in-boot-as")


def test_hide_in_listed_as(t):
    hide_vigil(t, "hide-in-listed-as")


def test_rename_diskd_bare(t):
    r = attack(t, "rename-diskd")
    t.expect(r.com2, r'^rawio: IDENTIFY( PACKET)? status 0x[0-9a-f]+, model "Generic 1234"$', "the device's identity")


def test_rename_diskd(t):
    r = boot_scenario(t, "rename-diskd")
    recs = alerts(r.com1)
    only(t, recs, {"io-guard", "hidden-process"})
    need(t, recs, "hidden-process",
         r'^process pid \d+ "rawio" was renamed "diskd" after it first ran; vigil still knows it as "rawio"$',
         process="diskd")
    need(t, recs, "io-guard", r"^(IN from|OUT to) port 0x1f[0-7] by diskd \(pid \d+, first ran as rawio\), "
                              r"not allowed by the default rule$", action="block", process="diskd")
    t.expect(r.com2, r"^rawio: no device answers \(status 0xff\)$", "the refused reads floating high")
    if outcome(t, r, "rename-diskd") != "failed":
        raise AssertionError("a renamed process drove the disk controller under vigil")


def test_inject_diskd_bare(t):
    r = attack(t, "inject-diskd")
    t.expect(r.com2, r"^inject-diskd: stub planted in diskd's code page 0x[0-9a-f]+", "the stub planted")


def test_inject_diskd(t):
    r = boot_scenario(t, "inject-diskd")
    recs = alerts(r.com1)
    only(t, recs, {"io-guard"})
    need(t, recs, "io-guard", r"^IN from port 0x1f7 by diskd \(pid \d+\), whose code changed since it first ran, "
                              r"not allowed by the default rule$", action="block", process="diskd")
    t.expect(r.com2, r"^inject-diskd: diskd exited with 0x1ff \(the status read returned all ones\)$")
    if outcome(t, r, "inject-diskd") != "failed":
        raise AssertionError("code put into diskd drove the disk controller under vigil")


def test_hide_lying_current_bare(t):
    r = attack(t, "hide-lying-current")
    t.expect(r.com2, r"^hide-lying-current: pid \d+ not in proc_list; ran on the borrowed CR3: yes \(\d+ switches",
             "the ghost scheduled while unlisted, on the decoy's root")
    t.expect(r.com2, r"^hide-lying-current: `current` named the decoy \(pid \d+\) on [1-9]\d* returns to the ghost$")


def test_hide_lying_current(t):
    """The ghost runs in the listed decoy's address space and `current`
    names the decoy whenever it runs: the CR3 and `current` are both a
    listed process's. The TSS's RSP0 is still the ghost's kernel stack."""
    r = boot_scenario(t, "hide-lying-current")
    recs = alerts(r.com1)
    only(t, recs, {"hidden-process"})
    m = t.expect(r.com2, r"^hide-lying-current: `current` named the decoy \(pid (\d+)\) on [1-9]\d* returns")
    a = need(t, recs, "hidden-process",
             r"^kernel stack of hidden process pid \d+ \"ghost\" in use \(TSS RSP0 0x[0-9a-f]+\); "
             rf"current: pid {m.group(1)} \"sleeper\"$", process="ghost")
    if "gva" not in a:
        raise AssertionError(f"hidden-task alert without the task's address: {a}")
    if len([x for x in recs if x.get("process") == "ghost"]) != 1:
        raise AssertionError(f"the ghost reported once expected, got {recs}")
    if outcome(t, r, "hide-lying-current") != "succeeded":
        raise AssertionError("a detect-only policy changed what the ghost could do")


def test_rename_with_pid_bare(t):
    r = attack(t, "rename-with-pid")
    t.expect(r.com2, r"^rename-with-pid: diskd \(pid \d+\) drove the disk and exited with 0$")
    t.expect(r.com2, r"^rename-with-pid: rawio, as diskd \(pid \d+\), exited with 0$")


def test_rename_with_pid(t):
    """rawio takes the name and the pid of diskd (which ran and exited): its
    structure, address space and code are the ones vigil first saw as
    rawio, so its identity stays rawio's."""
    r = boot_scenario(t, "rename-with-pid")
    m = t.expect(r.com2, r"^rename-with-pid: rawio \(pid (\d+)\) now has diskd's pid (\d+) and name;")
    pid, dpid = m.groups()
    recs = alerts(r.com1)
    only(t, recs, {"io-guard", "hidden-process"})
    need(t, recs, "hidden-process",
         rf'^process pid {pid} "rawio" took the name "diskd" and pid {dpid} after it first ran$', process="diskd")
    need(t, recs, "io-guard", rf"^(IN from|OUT to) port 0x1f[0-7] by diskd \(pid {dpid}, first ran as rawio, pid "
                              rf"{pid}\), not allowed by the default rule$", action="block", process="diskd")
    if outcome(t, r, "rename-with-pid") != "failed":
        raise AssertionError("rawio drove the disk as diskd under vigil")


def test_rename_with_pid_code_bare(t):
    r = attack(t, "rename-with-pid-code")
    t.expect(r.com2, r"^rename-with-pid-code: rawio \(pid \d+\) now has diskd's pid \d+ and name, and one byte of "
                     r"its code page changed;")


def test_rename_with_pid_code(t):
    """The same, and its code changed, so it is not the process vigil first
    saw: a new identity under the name diskd, whose code is not the code
    the first diskd ran."""
    r = boot_scenario(t, "rename-with-pid-code")
    m = t.expect(r.com2, r"^rename-with-pid-code: rawio \(pid (\d+)\) now has diskd's pid (\d+) and name,")
    dpid = m.group(2)
    recs = alerts(r.com1)
    only(t, recs, {"io-guard", "hidden-process"})
    need(t, recs, "hidden-process", rf'^process pid {dpid} "diskd" does not run the code the first "diskd" ran: '
                                    r"another program under its name$", process="diskd")
    need(t, recs, "io-guard", rf"^(IN from|OUT to) port 0x1f[0-7] by diskd \(pid {dpid}\), not the code the first "
                              r"diskd ran, not allowed by the default rule$", action="block", process="diskd")
    if outcome(t, r, "rename-with-pid-code") != "failed":
        raise AssertionError("rawio drove the disk as diskd under vigil")


def test_hide_tick_phase_bare(t):
    """Bare there is no hypervisor tick to find: the ghost, unlisted, runs
    freely on the decoy's address space."""
    r = attack(t, "hide-tick-phase")
    t.expect(r.com2, r"^hide-tick-phase: pid \d+ not in proc_list; ran on the borrowed CR3: yes \(\d+ switches",
             "the ghost scheduled while unlisted, on the decoy's root")
    t.expect(r.com2, r"^hide-tick-phase: hypervisor ticks found: 0 of 20 rounds ")
    t.expect(r.com2, r"^ghost: pid \d+ ran \d+ rounds", "the ghost's own output")


def dodge_worked(t, r):
    m = t.expect(r.com2, r"^hide-tick-phase: hypervisor ticks found: (\d+) of 20 rounds \(period (\d+) cycles, "
                 r"last gap (\d+), CPUID exit (\d+)\); the ghost ran between them in (\d+) rounds$")
    found, ran = int(m.group(1)), int(m.group(5))
    assert found >= 15 and ran >= 15, f"the dodge did not work as the attacker meant: {m.group(0)}"


def test_hide_tick_phase_fixed_tick(t):
    """The same attack against the periodic tick alone (hidden-process
    samples=off): the ghost is never on the CPU when vigil looks, and is
    not seen. This is what the random-time samples are for; it proves the
    dodge is real (and is what a policy file turning them off gives up)."""
    r = boot_scenario(t, "hide-tick-phase", policy="hidden-process samples=off\n")
    t.expect(r.com1, r"^vigil: hidden-process: samples=off: only the periodic tick looks at what runs$")
    t.expect_not(r.com1, r"^vigil: random-time samples")
    dodge_worked(t, r)
    recs = alerts(r.com1)
    assert not [a for a in recs if a["policy"] == "hidden-process"], f"the fixed tick saw the ghost: {recs}"
    if outcome(t, r, "hide-tick-phase") != "succeeded":
        raise AssertionError("the ghost did not run hidden")


def test_hide_tick_phase(t):
    """The ghost runs in a listed decoy's address space, and only between
    vigil's ticks: the rootkit finds each tick by the gap it leaves in the
    TSC (CPUID exits in a loop, interrupts off), then gives the ghost one
    quantum, well before the next. Every tick finds the listed rootkit
    process running. vigil's random-time samples of what runs (docs/ids.md,
    hidden-process) are memoryless: a tick or sample behind tells nothing of
    the next, and the ghost is sampled in proportion to its time on the CPU."""
    r = boot_scenario(t, "hide-tick-phase")
    t.expect(r.com1, r"^vigil: random-time samples every 10000 us on average \(exponential intervals; seed from ")
    dodge_worked(t, r)
    m = t.expect(r.com1, r"^  random-time sample +(\d+) +\d+ +(\d+)$", "the samples in the IDS's cost table")
    assert int(m.group(1)) > 10, f"only {m.group(1)} samples"
    recs = alerts(r.com1)
    only(t, recs, {"hidden-process"})
    need(t, recs, "hidden-process",
         r"^the running task is not in the process list: hidden process pid \d+ \"ghost\" in a listed process's "
         r"address space$", process="ghost")
    if outcome(t, r, "hide-tick-phase") != "succeeded":
        raise AssertionError("a detect-only policy changed what the ghost could do")


def expiry_worked(t, r):
    m = t.expect(r.com2, r"^hide-sample-expiry: hypervisor ticks found: (\d+) of 20 rounds \(last gap (\d+), CPUID "
                 r"exit (\d+)\); the ghost ran one quantum after each in (\d+) rounds, 1200 ms apart$")
    found, ran = int(m.group(1)), int(m.group(4))
    assert found >= 14 and ran >= 14, f"the dodge did not work as the attacker meant: {m.group(0)}"


def test_hide_sample_expiry_bare(t):
    """Bare: the ghost, unlisted, runs one quantum a round, 20 rounds
    1.2 s apart, on the decoy's address space."""
    r = attack(t, "hide-sample-expiry")
    t.expect(r.com2, r"^hide-sample-expiry: pid \d+ not in proc_list; ran on the borrowed CR3: yes \(\d+ switches",
             "the ghost scheduled while unlisted, on the decoy's root")
    t.expect(r.com2, r"^hide-sample-expiry: hypervisor ticks found: 0 of 20 rounds ")
    t.expect(r.com2, r"^ghost: pid \d+ ran \d+ rounds", "the ghost's own output")


def test_hide_sample_expiry(t):
    """The tick-phase dodge, and between its rounds the ghost stays off the
    CPU for longer than a suspicion lasts (docs/ids.md: a second), so that
    under the two-tick rule every sample that sees it would see it for the
    first time. A task caught in user mode and missing from a walk of the
    list taken in that very event is no spawn or exit race, and is
    reported at once: by the first sample that lands in one of its
    quanta (each round's chance is about 40%, so the 14 or more rounds the
    dodge must have run miss with odds under 1 in 1,000). Against the
    two-tick rule alone the same dodge was never reported (4 runs, 13 to 16
    rounds each: docs/ids.md)."""
    r = boot_scenario(t, "hide-sample-expiry")
    expiry_worked(t, r)
    recs = alerts(r.com1)
    only(t, recs, {"hidden-process"})
    need(t, recs, "hidden-process",
         r"^the running task is not in the process list: hidden process pid \d+ \"ghost\" in a listed process's "
         r"address space$", process="ghost")
    if outcome(t, r, "hide-sample-expiry") != "succeeded":
        raise AssertionError("a detect-only policy changed what the ghost could do")
