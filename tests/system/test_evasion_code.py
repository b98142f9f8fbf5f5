"""Issue 9, class 2 (in part): code the kernel did not ship, run where the
audit of kernel mappings did not look: a supervisor W+X page in the lower
half, code run under the abandoned boot tables' W+X identity map, and one
frame mapped W+NX at one address and R+X at another. Each
succeeds bare and is reported under vigil with the default policy. See
docs/ids.md ("pagetable-audit") and docs/testos.md ("Evasions")."""
from test_guest_bare import attack
from test_ids import boot_scenario, only, need, find, outcome
import re
from harness import alerts


def test_wx_lower_half_bare(t):
    r = attack(t, "wx-lower-half")
    t.expect(r.com2, r"^wx-lower-half: supervisor page 0x50000000 mapped W\+X in the kernel's lower half; code "
                     r"written there ran: yes$")


def test_wx_lower_half(t):
    """pagetable-audit reports the mapping; the execute watch refuses the
    call into it (kernel-text, block), which faults as from an NX page."""
    r = boot_scenario(t, "wx-lower-half")
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit", "kernel-text"})
    need(t, recs, "pagetable-audit", r"^supervisor mapping writable and executable in the lower half \(4 KiB page\)$",
         gva="0x50000000")
    need(t, recs, "kernel-text", r"^supervisor code ran outside the kernel's text: at 0x50000000 ", action="block",
         gva="0x50000000")
    if len([a for a in recs if a["policy"] == "pagetable-audit"]) != 1:
        raise AssertionError(f"one pagetable-audit finding expected, got {recs}")
    t.expect(r.com2, r"^wx-lower-half: the call faulted: #PF error 0x11 at RIP 0x50000000$")
    if outcome(t, r, "wx-lower-half") != "failed":
        raise AssertionError("code on a lower-half W+X page ran in ring 0 under vigil")


def test_boot_tables_exec_bare(t):
    r = attack(t, "boot-tables-exec")
    t.expect(r.com2, r"^boot-tables-exec: code at identity address 0x[0-9a-f]+ ran under the boot CR3 0x[0-9a-f]+: "
                     r"yes$")


def test_boot_tables_exec(t):
    """pagetable-audit reports the boot tables running again (and their W+X
    identity map); the execute watch refuses the fetch at the identity
    address (kernel-text, block). The guest's #PF then finds no stack in
    the boot tables, and testos panics on the double fault: the code never
    ran."""
    r = boot_scenario(t, "boot-tables-exec")
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit", "kernel-text", "critical-tables"})
    a = need(t, recs, "pagetable-audit", r"^the boot page tables run again after the boot$")
    need(t, recs, "pagetable-audit",
         r"^supervisor mapping writable and executable in the lower half \(2048 KiB page\)$", gva="0x0",
         cr3=a["cr3"])
    # The identity map's dozen findings fold (three of a kind a second get
    # records of their own): the refused fetch still reaches the console.
    need(t, recs, "kernel-text", r"^supervisor code ran outside the kernel's text: at 0x[0-9a-f]+ ", action="block",
         cr3=a["cr3"])
    t.expect(r.com1, r"^vigil: pagetable-audit: [1-9]\d* findings folded into counts", "the folded findings counted")
    t.expect(r.com2, r"^testos: PANIC: unexpected exception: #DF", "the guest's double fault (its #PF had no stack)")
    t.expect_not(r.com2, r"^ATTACK boot-tables-exec result=succeeded$", "the code ran")


def test_wx_alias_bare(t):
    r = attack(t, "wx-alias")
    t.expect(r.com2, r"^wx-alias: frame 0x[0-9a-f]+ writable at 0x[0-9a-f]+ \(NX\), executable at 0x[0-9a-f]+; code "
                     r"written through one ran through the other: yes$")


def test_wx_alias(t):
    r = boot_scenario(t, "wx-alias")
    m = t.expect(r.com2, r"^wx-alias: frame (0x[0-9a-f]+) writable at (0x[0-9a-f]+) \(NX\), executable at "
                         r"(0x[0-9a-f]+);")
    frame, wva, xva = (int(g, 16) for g in m.groups())
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit", "kernel-text"})
    need(t, recs, "pagetable-audit", rf"^frame executable here and writable at {wva:#x}: W\+X through two mappings$",
         gva=f"{xva:#x}", gpa=f"{frame:#x}")
    if len([a for a in recs if a["policy"] == "pagetable-audit"]) != 1:
        raise AssertionError(f"one finding expected (neither mapping is W+X itself), got {recs}")
    # The call through the executable alias is refused by the execute watch.
    need(t, recs, "kernel-text", rf"^supervisor code ran outside the kernel's text: at {xva:#x} ", action="block")
    t.expect(r.com2, rf"^wx-alias: the call faulted: #PF error 0x11 at RIP {xva:#x}$")
    if outcome(t, r, "wx-alias") != "failed":
        raise AssertionError("code written through one alias ran through the other under vigil")


def test_wx_flash_bare(t):
    r = attack(t, "wx-flash")
    t.expect(r.com2, r"^wx-flash: kernel page mapped W\+X for \d+ TSC cycles; code written there ran: yes$")


def test_wx_flash(t):
    """A W+X mapping that lives for microseconds: no audit sees it; the
    execute watch refuses the fetch when it happens (kernel-text, block):
    the guest gets a #PF as from a no-execute page."""
    r = boot_scenario(t, "wx-flash")
    t.expect(r.com1, r"^vigil: kernel-text: execution watched: supervisor code runs only in the kernel's text \(gpa "
                     r"0x[0-9a-f]+-0x[0-9a-f]+\)")
    recs = alerts(r.com1)
    only(t, recs, {"kernel-text"})
    a = need(t, recs, "kernel-text", r"^supervisor code ran outside the kernel's text: at 0x[0-9a-f]+ \(gpa 0x[0-9a-f]+\)$",
             action="block", process="kernel")
    t.expect(r.com2, rf"^wx-flash: the call faulted: #PF error 0x11 at RIP {a['gva']}$")
    t.expect(r.com2, r"^wx-flash: kernel page mapped W\+X for \d+ TSC cycles; code written there ran: no$")
    if outcome(t, r, "wx-flash") != "failed":
        raise AssertionError("code the kernel did not ship ran in ring 0 under vigil")


def test_exec_watch_off(t):
    """kernel-text exec=off in the policy file: no watch, and the flash runs
    (the switch is the operator's, for a guest with code vigil does not know)."""
    r = boot_scenario(t, "wx-flash", policy="kernel-text exec=off\n")
    t.expect_not(r.com1, r"execution watched")
    if alerts(r.com1):
        raise AssertionError(f"alerts with the watch off: {alerts(r.com1)}")
    if outcome(t, r, "wx-flash") != "succeeded":
        raise AssertionError("the flash did not run with the watch off")


def test_wx_user_grant_bare(t):
    r = attack(t, "wx-user-grant")
    t.expect(r.com2, r"^wx-user-grant: frame 0x[0-9a-f]+ of ghost's user code \(granted X by its own user-mode "
                     r"fetches\) mapped supervisor at 0x[0-9a-f]+; ring 0 ran the code there 40 of 40 times, 10 of "
                     r"the last 10$")


def test_wx_user_grant(t):
    """A user code page granted X, called from ring 0 through a supervisor
    alias: the next audit (<= 100 ms) finds the alias of a granted page and
    takes every grant back (kernel-text); the next ring-0 call is refused
    (#PF), and ghost's next user fetch of the page is not granted again
    while the alias stands."""
    r = boot_scenario(t, "wx-user-grant")
    m = t.expect(r.com2, r"^wx-user-grant: frame (0x[0-9a-f]+) of ghost's user code .* mapped supervisor at "
                         r"(0x[0-9a-f]+); ring 0 ran the code there (\d+) of 40 times, (\d+) of the last 10$")
    frame, xva, ran = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3))
    recs = alerts(r.com1)
    only(t, recs, {"kernel-text", "pagetable-audit"})
    need(t, recs, "kernel-text", r"^page granted X for user code is mapped supervisor-executable at "
                                 rf"{xva & ~0xfff:#x}: every grant taken back$", gpa=f"{frame:#x}", action="alert")
    need(t, recs, "kernel-text", rf"^supervisor code ran outside the kernel's text: at {xva:#x} ", action="block")
    t.expect(r.com2, rf"^wx-user-grant: the call faulted: #PF error 0x11 at RIP {xva:#x}$")
    if ran > 12:
        raise AssertionError(f"ring 0 ran the user page {ran} times: the alias stood longer than an audit interval")
    if outcome(t, r, "wx-user-grant") != "failed":
        raise AssertionError("ring 0 kept running a user page through its grant under vigil")


def test_wx_alias_late_bare(t):
    r = attack(t, "wx-alias-late")
    t.expect(r.com2, r"^wx-alias-late: frame 0x[0-9a-f]+ executable at 0x[0-9a-f]+ since 250 ms, writable at "
                     r"0x[0-9a-f]+ \(NX\) since now; code written through one ran through the other: yes$")


def test_wx_alias_late(t):
    """The writable alias made after the executable one was audited (its
    table's leaves then skipped by the fingerprint): the frame is still
    judged W+X (pagetable-audit), and the call refused (kernel-text)."""
    r = boot_scenario(t, "wx-alias-late")
    m = t.expect(r.com2, r"^wx-alias-late: frame (0x[0-9a-f]+) executable at (0x[0-9a-f]+) since 250 ms, writable at "
                         r"(0x[0-9a-f]+) \(NX\)")
    frame, xva, wva = (int(g, 16) for g in m.groups())
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit", "kernel-text"})
    need(t, recs, "pagetable-audit", rf"^frame executable here and writable at {wva:#x}: W\+X through two mappings$",
         gva=f"{xva:#x}", gpa=f"{frame:#x}")
    need(t, recs, "kernel-text", rf"^supervisor code ran outside the kernel's text: at {xva:#x} ", action="block")
    if outcome(t, r, "wx-alias-late") != "failed":
        raise AssertionError("code written through a late alias ran under vigil")


def test_wx_flood_bare(t):
    r = attack(t, "wx-flood")
    t.expect(r.com2, r"^wx-flood: frame 0x[0-9a-f]+ mapped writable and executable at 2048 kernel pages from "
                     r"0xffff880000400000$")
    t.expect(r.com2, r"^wx-flood: then LSTAR 0x[0-9a-f]+ -> 0x[0-9a-f]+; hook ran [1-9]\d* times")


def test_wx_flood(t):
    """2048 W+X kernel mappings, a finding each at every audit, then the
    real attack (an LSTAR hook): same-kind findings fold into one record a
    second with a count, so the console still carries msr-guard's alert,
    and nothing is dropped."""
    r = boot_scenario(t, "wx-flood")
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit", "msr-guard"})
    need(t, recs, "msr-guard", r"^WRMSR LSTAR 0x[0-9a-f]+ -> 0x[0-9a-f]+ \(the kernel set 0x", action="block")
    own = [a for a in recs if a["policy"] == "pagetable-audit"
           and a["detail"] == "kernel mapping writable and executable (4 KiB page)"]
    if not 1 <= len(own) <= 3 * 2:
        raise AssertionError(f"at most 3 own records of one kind a second expected, got {len(own)}")
    folds = [a for a in recs if a["policy"] == "pagetable-audit" and "more kernel mappings W+X" in a["detail"]]
    counts = [int(re.match(r"^(\d+) more kernel mappings W\+X in the last second, at 0xffff8800004[0-9a-f]+-"
                           r"0xffff880000[4-b][0-9a-f]+ \(folded\)$", a["detail"]).group(1)) for a in folds]
    if not counts or sum(counts) < 2045:
        raise AssertionError(f"the flood's findings folded with their count expected, got {folds}")
    t.expect(r.com1, r"^vigil: alerts: \d+ raised, \d+ printed, \d+ suppressed as repeats, 0 dropped",
             "no record dropped")
    if outcome(t, r, "wx-flood") != "failed":
        raise AssertionError("LSTAR was hooked under vigil")
