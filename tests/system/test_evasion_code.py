"""Issue 9, class 2 (in part): code the kernel did not ship, run where the
audit of kernel mappings did not look: a supervisor W+X page in the lower
half, code run under the abandoned boot tables' W+X identity map, and one
frame mapped W+NX at one address and R+X at another. Each
succeeds bare and is reported under vigil with the default policy. See
docs/ids.md ("pagetable-audit") and docs/testos.md ("Evasions")."""
from test_guest_bare import attack
from test_ids import boot_scenario, only, need, outcome
from harness import alerts


def test_wx_lower_half_bare(t):
    r = attack(t, "wx-lower-half")
    t.expect(r.com2, r"^wx-lower-half: supervisor page 0x50000000 mapped W\+X in the kernel's lower half; code "
                     r"written there ran: yes$")


def test_wx_lower_half(t):
    r = boot_scenario(t, "wx-lower-half")
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit"})
    need(t, recs, "pagetable-audit", r"^supervisor mapping writable and executable in the lower half \(4 KiB page\)$",
         gva="0x50000000")
    if len(recs) != 1:
        raise AssertionError(f"one finding expected, got {recs}")
    outcome(t, r, "wx-lower-half")


def test_boot_tables_exec_bare(t):
    r = attack(t, "boot-tables-exec")
    t.expect(r.com2, r"^boot-tables-exec: code at identity address 0x[0-9a-f]+ ran under the boot CR3 0x[0-9a-f]+: "
                     r"yes$")


def test_boot_tables_exec(t):
    r = boot_scenario(t, "boot-tables-exec")
    recs = alerts(r.com1)
    only(t, recs, {"pagetable-audit"})
    a = need(t, recs, "pagetable-audit", r"^the boot page tables run again after the boot$")
    need(t, recs, "pagetable-audit",
         r"^supervisor mapping writable and executable in the lower half \(2048 KiB page\)$", gva="0x0",
         cr3=a["cr3"])
    outcome(t, r, "boot-tables-exec")


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
    only(t, recs, {"pagetable-audit"})
    need(t, recs, "pagetable-audit", rf"^frame executable here and writable at {wva:#x}: W\+X through two mappings$",
         gva=f"{xva:#x}", gpa=f"{frame:#x}")
    if len(recs) != 1:
        raise AssertionError(f"one finding expected (neither mapping is W+X itself), got {recs}")
    outcome(t, r, "wx-alias")
