"""Issue 9, class 5: device DMA. testos reads sector 16 of a CD-ROM (the ISO
9660 volume descriptor, "\\x01CD001") by IDE bus-master DMA (Bochs's PIIX3,
8086:7010) and aims the transfer at what vigil guards. Bare, every attack
visibly succeeds; under vigil with the default policy, each raises a
dma-guard alert naming the device and the address, the guest sees its
attack fail, and vigil's summary is intact. A benign DMA into an ordinary
buffer works under vigil with no alert.

The CD-ROM is also attached to the secondary channel (emu.py --cdrom2):
the primary channel's ports are io-guard's default rule, and the DMA
scenarios drive the secondary channel when a CD-ROM answers there."""
import os
import re
from harness import BUILD, alerts

TESTOS = os.path.join(BUILD, "testos.elf")
PROFILE = os.path.join(BUILD, "testos.profile")
STOP = r"vigil: halted|vigil: vCPU 0 suspended"

ATTACKS = ["dma-kernel-text", "dma-prd-chain", "dma-hypervisor", "dma-hypervisor-leak", "dma-prd-swap",
           "dma-bus-master", "dma-bar-move"]


def bare(t, scenario):
    args = f"scenario={scenario} console=com2"
    r = t.boot(t.iso(kernel=(TESTOS, args)), stop_on=None, timeout=90, tag=scenario, cdrom2=True)
    t.expect(r.reason, r"run ended: exited", "the run to end by the guest's power-off")
    t.expect(r.com2, rf"^SCENARIO {scenario} done$")
    t.expect_not(r.com2, r"PANIC|killed by exception|did not complete")
    return r


def under_vigil(t, scenario, policy=None, tag="run", stop_on=STOP):
    modules = [(TESTOS, f"guest scenario={scenario} console=com2"), (PROFILE, "profile")]
    if policy is not None:
        path = os.path.join(t.dir, "vigil.policy")
        with open(path, "w") as f:
            f.write(policy)
        modules.append((path, "policy"))
    r = t.boot(t.iso("", modules=modules), stop_on=stop_on, tag=tag, cdrom2=True)
    t.expect(r.com1, r"^vigil: PCI: 00:01\.1 8086:7010 IDE bus master at ports 0x[0-9a-f]+-0x[0-9a-f]+ mediated",
             "the IDE bus master mediated")
    return r


def result_of(t, r, name):
    return t.expect(r.com2, rf"^ATTACK {name} result=(succeeded|failed)$").group(1)


def summary_intact(t, r):
    t.expect(r.com1, r"^vigil: summary: guest ran \d+ ms", "vigil's power-off summary")
    t.expect(r.com1, r"^vigil: PCI: \d+ accesses to configuration space and the IDE bus master \(\d+ cycles each\), "
                     r"\d+ IDE bus-master starts checked \(\d+ cycles each\), \d+ refused; \d+ bus-master enables "
                     r"refused$", "the DMA line of the summary")
    t.expect_not(r.com1, r"CD001", "the volume descriptor on vigil's console")


def one_dma_alert(t, r, detail, also=()):
    recs = alerts(r.com1)
    bad = [a for a in recs if a["policy"] != "dma-guard" and not any(re.search(x, a.get("detail", "")) for x in also)]
    if bad:
        raise AssertionError(f"alerts of other policies: {bad}")
    hit = [a for a in recs if re.search(detail, a.get("detail", ""))]
    if not hit:
        raise AssertionError(f"no dma-guard alert matching {detail!r}; alerts: {[a.get('detail') for a in recs]}")
    a = hit[0]
    assert a["action"] == "block" and a["severity"] == "critical", a
    return a


# --- bare: every attack visibly succeeds ----------------------------------------


def test_dma_bare_benign(t):
    r = bare(t, "dma-benign")
    t.expect(r.com2, r"^dma-benign: IDE bus master 01\.1 at ports 0x[0-9a-f]+, CD-ROM on the secondary channel$")
    t.expect(r.com2, r"^dma-benign: every transfer arrived$")


def _bare_attack(name):
    def test(t):
        r = bare(t, name)
        t.expect(r.com2, rf"^ATTACK {name} begin$")
        res = result_of(t, r, name)
        assert res == "succeeded", f"{name} bare: result={res}"
    test.__name__ = "test_dma_bare_" + name[4:].replace("-", "_")
    return test


for _n in ATTACKS:
    globals()["test_dma_bare_" + _n[4:].replace("-", "_")] = _bare_attack(_n)


# --- under vigil, default policy ------------------------------------------------


def test_dma_vigil_benign_no_alert(t):
    r = under_vigil(t, "dma-benign")
    t.expect(r.com2, r"^dma-benign: every transfer arrived$", "three DMA reads, each arrived")
    if alerts(r.com1):
        raise AssertionError(f"benign DMA raised alerts: {alerts(r.com1)}")
    t.expect(r.com1, r"^vigil: PCI: \d+ accesses .* 3 IDE bus-master starts checked \(\d+ cycles each\), 0 refused; "
                     r"0 bus-master enables refused$")
    summary_intact(t, r)


def _pad_phys(t, r, name):
    return int(t.expect(r.com2, rf"^{name}: kernel text at 0x[0-9a-f]+ \(phys (0x[0-9a-f]+)\)").group(1), 16)


def test_dma_vigil_kernel_text(t):
    name = "dma-kernel-text"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    t.expect(r.com2, rf"^{name}: engine did not start")
    a = one_dma_alert(t, r, r"^DMA into protected kernel text \(kernel-text\) by 00:01\.1 8086:7010 refused: "
                            r"PRD entry 0, 0x[0-9a-f]+, 2048 bytes$")
    assert int(a["gpa"], 16) == _pad_phys(t, r, name), a
    t.expect(r.com1, r"^vigil: PCI: refused an IDE bus-master start \(secondary channel, device to memory\)")
    summary_intact(t, r)


def test_dma_vigil_prd_chain(t):
    name = "dma-prd-chain"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    edge = int(t.expect(r.com2, rf"^{name}: entry 0 -> buffer 0x[0-9a-f]+ \(untouched\), entry 1 -> phys "
                                r"(0x[0-9a-f]+)").group(1), 16)
    a = one_dma_alert(t, r, r"^DMA into protected kernel read-only data \(kernel-text\) by 00:01\.1 8086:7010 "
                            r"refused: PRD entry 1, 0x[0-9a-f]+, 32 bytes$")
    assert int(a["gpa"], 16) == edge, a
    summary_intact(t, r)


def test_dma_vigil_hypervisor(t):
    name = "dma-hypervisor"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    image = int(t.expect(r.com1, r"^  (0x[0-9a-f]+)-0x[0-9a-f]+  image").group(1), 16)
    target = int(t.expect(r.com2, rf"^{name}: DMA to phys (0x[0-9a-f]+): engine did not start").group(1), 16)
    assert target == image, (hex(target), hex(image))
    # The guest's look at the target afterwards is a reach for vigil's memory too.
    a = one_dma_alert(t, r, r"^DMA into vigil's memory by 00:01\.1 8086:7010 refused: PRD entry 0, ",
                      also=(r"^access to hypervisor memory: read refused$",))
    assert int(a["gpa"], 16) == image, a
    summary_intact(t, r)


def test_dma_vigil_hypervisor_leak(t):
    name = "dma-hypervisor-leak"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    one_dma_alert(t, r, r"^DMA from vigil's memory by 00:01\.1 8086:7010 refused: PRD entry 0, 0x[0-9a-f]+, "
                        r"512 bytes$")
    summary_intact(t, r)


def test_dma_vigil_prd_swap(t):
    name = "dma-prd-swap"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    t.expect(r.com2, rf"^{name}: engine started, transfer completed; the harmless buffer got the sector$",
             "the device moved vigil's copy of the table, the one that was checked")
    one_dma_alert(t, r, r"^PRD entry 0 at 0x[0-9a-f]+ rewritten after the check \(now 0x[0-9a-f]+, 2048 bytes\): "
                        r"the device used vigil's copy$")
    summary_intact(t, r)


def test_dma_vigil_bus_master(t):
    name = "dma-bus-master"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    m = t.expect(r.com2, rf"^{name}: (00:[0-9a-f]{{2}}\.\d) ([0-9a-f]{{4}}:[0-9a-f]{{4}}) class ([0-9a-f]{{6}}): "
                         r"bus-master enable written, command register now 0x([0-9a-f]+)$")
    assert not int(m.group(4), 16) & 4, f"bus-master enable stuck: {m.group(0)}"
    bdf, ids, cls = m.group(1), m.group(2), m.group(3)
    one_dma_alert(t, r, rf"^bus-master enable of {re.escape(bdf)} {ids} class {cls} refused: not mediated; allow it "
                        rf"with dma-guard allow={ids}$")
    t.expect(r.com1, rf"^vigil: PCI: {re.escape(bdf)} {ids} class {cls}: bus-master enable refused")
    # At boot vigil turned off what it does not mediate (Bochs's USB
    # controller, which the BIOS left mastering).
    t.expect(r.com1, r"^vigil: PCI: 00:01\.2 8086:7020 class 0c0300: bus mastering turned off")
    summary_intact(t, r)


def test_dma_vigil_bus_master_allowed(t):
    name = "dma-bus-master"
    r = under_vigil(t, name, policy="dma-guard allow=8086:7020,8086:7113\n")
    assert result_of(t, r, name) == "succeeded"
    t.expect(r.com1, r"^vigil: PCI: 00:01\.2 8086:7020 class 0c0300: bus mastering left on \(allowed")
    if alerts(r.com1):
        raise AssertionError(f"an allowed device raised alerts: {alerts(r.com1)}")


def test_dma_vigil_bar_move(t):
    name = "dma-bar-move"
    r = under_vigil(t, name)
    assert result_of(t, r, name) == "failed"
    t.expect(r.com2, rf"^{name}: BAR4 moved from 0x[0-9a-f]+ to 0xfe00$")
    a = one_dma_alert(t, r, r"^DMA into protected kernel text \(kernel-text\) by 00:01\.1 8086:7010 refused: "
                            r"PRD entry 0, ")
    assert int(a["gpa"], 16) == _pad_phys(t, r, name), a
    summary_intact(t, r)


def test_dma_vigil_suspend(t):
    name = "dma-kernel-text"
    r = under_vigil(t, name, policy="dma-guard action=suspend\n")
    recs = alerts(r.com1)
    assert recs and recs[0]["policy"] == "dma-guard" and recs[0]["action"] == "suspend", recs
    t.expect(r.com1, r"^vigil: vCPU 0 suspended: IDS policy dma-guard")
