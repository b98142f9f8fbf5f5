/* PCI configuration space and the IDE bus master, carried out by vigil.
 *
 * Configuration mechanism #1: the guest's CONFIG_ADDRESS (a doubleword at
 * 0xcf8) is kept here, and every data access (0xcfc-0xcff) is made by vigil
 * under one lock, so vigil's own configuration accesses never race the
 * guest's. Writes of a command register's bus-master enable are judged: the
 * mediated IDE controller may master the bus; any other device only if the
 * IDS allows it (IDS_EV_DMA, DMA_BUS_MASTER), otherwise the bit is cleared
 * from the write. A write to the IDE controller's BAR4 moves the mediated
 * ports with it.
 *
 * The IDE bus master (SFF-8038i: per channel, command +0, status +2, PRD
 * table pointer +4): the pointer register is virtual (the guest reads back
 * what it wrote); a start (command bit 0 going to 1) first checks every
 * entry of the guest's table (vmm/pcidma.c) against vigil's memory and the
 * frames the IDS holds, then gives the device vigil's copy of the table. A
 * table that is refused never reaches the device: the start bit is not
 * written, and the IDS reports it. While a transfer runs the direction bit
 * is the one that was checked. */
#include "vmm/pci.h"
#include "vmm/pcidma.h"
#include "vmm/vtd.h"
#include "vmm/exit.h"
#include "vmm/hvmem.h"
#include "vmm/guestmem.h"
#include "vmm/acpi.h"
#include "vmm/vmx_setup.h"
#include "ids/ids.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "lib/spinlock.h"
#include "lib/log.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/hash.h"

/* IDE controllers whose bus master is the SFF-8038i one at BAR4 (PIIX,
 * PIIX3, PIIX4, ICH to ICH5). Bochs's PIIX3 (8086:7010) is the one tested. */
static const u16 ide_known[] = { 0x1230, 0x7010, 0x7111, 0x2411, 0x2421, 0x244b, 0x248b, 0x24cb, 0x24db };

struct bm_chan {
    u32 guest_prd;                      /* what the guest wrote to +4 */
    u32 table, entries;                 /* the running transfer's table (guest-physical) and its length */
    u32 *shadow;                        /* vigil's copy of the checked table (one page, below 4 GiB) */
    bool dir_to_mem;                    /* direction of the running transfer, as checked */
};

static struct {
    bool present;
    u8 bus, dev, fn;
    u16 vendor, device;
    u32 cls;
    u16 base;                           /* BAR4: 16 ports, channel 0 at +0, channel 1 at +8 */
    struct bm_chan chan[2];
} ide;

static struct spinlock pci_lock;        /* the chipset's CONFIG_ADDRESS and the bus-master registers */
static u32 cfg_addr;                    /* the guest's CONFIG_ADDRESS */
static u64 n_cfg, n_starts, n_refused, n_master_refused, cyc_cfg, cyc_starts;

static u32 cfg_address(u8 bus, u8 dev, u8 fn, u16 reg)
{
    return 1u << 31 | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (reg & 0xfc);
}

static u32 cfg_read32(u8 bus, u8 dev, u8 fn, u16 reg)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(bus, dev, fn, reg));
    return inl(PCI_CONFIG_DATA);
}

static void cfg_write16(u8 bus, u8 dev, u8 fn, u16 reg, u16 val)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(bus, dev, fn, reg));
    outw((u16)(PCI_CONFIG_DATA + (reg & 2)), val);
}

static bool is_ide(u8 bus, u8 dev, u8 fn)
{
    return ide.present && bus == ide.bus && dev == ide.dev && fn == ide.fn;
}

/* --- set-up -------------------------------------------------------------- */

/* --- VT-d --------------------------------------------------------------- */

/* With an ACPI DMAR table every remapping unit translates DMA through one
 * set of tables vigil builds (vmm/vtd.c): vigil's memory is not present
 * there, the frames the IDS protects become read-only (pci_vtd_protect).
 * The units' registers are taken out of EPT, and the DMAR table is hidden
 * from the guest (its signature renamed, its checksum kept), so that the
 * guest's OS does not look for an IOMMU it cannot have. No machine here has
 * a unit (Bochs has none): docs/design.md says what has not run. */
#define VTD_RESERVE 64                   /* tables for splitting 2 MiB pages later (no allocation on exits) */
#define VTD_SPINS 10000000u
static struct {
    u32 n;
    u64 base[DMAR_MAX_UNITS];
    u64 root;
    void *reserve[VTD_RESERVE];
    u32 nreserve;
    struct spinlock lock;
} vt;

static u32 m_rd32(void *c, u32 o) { return *(volatile u32 *)((u64)c + o); }
static u64 m_rd64(void *c, u32 o) { return *(volatile u64 *)((u64)c + o); }
static void m_wr32(void *c, u32 o, u32 v) { *(volatile u32 *)((u64)c + o) = v; }
static void m_wr64(void *c, u32 o, u64 v) { *(volatile u64 *)((u64)c + o) = v; }
static struct vtd_mmio unit_io(u64 base) { return (struct vtd_mmio){ (void *)base, m_rd32, m_rd64, m_wr32, m_wr64 }; }
static void *vt_page(void *ctx) { (void)ctx; return hv_alloc_pages(1, 1); }
static void *vt_reserved(void *ctx) { (void)ctx; return vt.nreserve ? vt.reserve[--vt.nreserve] : 0; }

static void vtd_setup(const struct boot_info *bi, struct mem_range *holes, u32 *n, u32 max)
{
    u8 *t = (u8 *)acpi_find(bi, "DMAR");
    if (!t) {
        kprintf("vigil: PCI: no ACPI DMAR table (no VT-d): only the DMA vigil mediates is checked\n");
        return;
    }
    struct dmar_info d;
    char err[120];
    u32 len;
    memcpy(&len, t + 4, 4);
    if (dmar_parse(t, len, &d, err, sizeof(err)))
        vigil_panic("VT-d: %s: vigil does not start the guest with DMA it cannot keep out of its memory", err);
    u64 top = memmap_top(bi);
    struct vtd_deny deny[HV_OWNED_MAX];
    u32 nd = 0;
    for (u32 i = 0; i < *n && nd < HV_OWNED_MAX; i++)
        deny[nd++] = (struct vtd_deny){ holes[i].start, holes[i].end, VTD_NONE };
    struct vtd_stats st;
    vt.root = vtd_build(top, deny, nd, true, vt_page, 0, &st);
    if (!vt.root)
        vigil_panic("VT-d: the remapping tables for 0-0x%llx cannot be built (page pool, or memory above 512 GiB)",
                    (unsigned long long)top);
    for (u32 i = 0; i < d.nunits; i++) {
        u64 base = d.unit[i].reg_base;
        if (base >= GiB(4))
            vigil_panic("VT-d: remapping unit %u's registers at 0x%llx are above the 4 GiB vigil maps", i,
                        (unsigned long long)base);
        struct vtd_mmio io = unit_io(base);
        u64 size = vtd_reg_size(&io);
        if (*n >= max)
            vigil_panic("VT-d: no room to take remapping unit %u's registers out of EPT", i);
        holes[(*n)++] = (struct mem_range){ base, base + size };   /* the guest cannot turn it off */
        if (vtd_enable(&io, vt.root, VTD_SPINS, err, sizeof(err)))
            vigil_panic("VT-d: remapping unit %u at 0x%llx: %s", i, (unsigned long long)base, err);
        vt.base[vt.n++] = base;
    }
    for (vt.nreserve = 0; vt.nreserve < VTD_RESERVE; vt.nreserve++)
        vt.reserve[vt.nreserve] = hv_alloc_pages(1, 1);
    /* Hidden: "DMAR" becomes "VGIL", and the checksum byte takes up the
     * difference, so that the table still sums to zero. */
    u8 old = byte_sum(t, 4);
    memcpy(t, "VGIL", 4);
    t[9] = (u8)(t[9] + old - byte_sum(t, 4));
    kprintf("vigil: VT-d: %u remapping unit%s translate DMA through vigil's tables (%u tables, %u x 2MiB, %u x 4KiB "
            "pages to 0x%llx): vigil's memory is out of reach, protected frames read-only; the DMAR table is hidden "
            "from the guest\n", vt.n, vt.n == 1 ? "" : "s", st.tables, st.pages_2m, st.pages_4k,
            (unsigned long long)top);
}

bool pci_vtd_protect(u64 gpa, u64 len, bool read_too)
{
    if (!vt.n)
        return true;
    bool ok = true;
    char err[120];
    spin_lock(&vt.lock);
    for (u64 a = ALIGN_DOWN(gpa, 4096); ok && a < gpa + len; a += 4096)
        ok = vtd_restrict(vt.root, a, read_too ? VTD_NONE : VTD_READ, vt_reserved, 0);
    for (u32 i = 0; i < vt.n; i++) {
        struct vtd_mmio io = unit_io(vt.base[i]);
        if (vtd_flush(&io, VTD_SPINS, err, sizeof(err)))
            vigil_panic("VT-d: remapping unit %u at 0x%llx: %s", i, (unsigned long long)vt.base[i], err);
    }
    spin_unlock(&vt.lock);
    return ok;
}

bool pci_mcfg_holes(const struct boot_info *bi, struct mem_range *holes, u32 *n, u32 max)
{
    vtd_setup(bi, holes, n, max);
    const u8 *t = acpi_find(bi, "MCFG");
    if (!t) {
        kprintf("vigil: PCI: no ACPI MCFG table: configuration space only through ports 0xcf8/0xcfc\n");
        return true;
    }
    struct mcfg_window w[MCFG_MAX];
    char err[120];
    u32 len;
    memcpy(&len, t + 4, 4);
    int nw = mcfg_parse(t, len, w, MCFG_MAX, err, sizeof(err));
    if (nw < 0) {
        kprintf("vigil: PCI: %s\n", err);
        return false;
    }
    for (int i = 0; i < nw; i++) {
        if (*n == max) {
            kprintf("vigil: PCI: no room to leave MMCONFIG window %d out of EPT (%u holes at most)\n", i, max);
            return false;
        }
        holes[(*n)++] = (struct mem_range){ w[i].start, w[i].end };
        kprintf("vigil: PCI: MMCONFIG segment %u buses %u-%u at 0x%llx-0x%llx left out of EPT\n", w[i].segment,
                w[i].bus_start, w[i].bus_end, (unsigned long long)w[i].start, (unsigned long long)w[i].end);
    }
    return true;
}

static void follow_bar4(void)
{
    u32 bar = cfg_read32(ide.bus, ide.dev, ide.fn, PCI_BAR4);
    u16 base = (bar & 1) ? (u16)(bar & 0xfff0) : 0;
    if (base && base != ide.base)
        io_intercept(base, 16);         /* the old ports stay trapped: they now pass through */
    ide.base = base;
}

void pci_init(void)
{
    io_intercept(PCI_CONFIG_ADDRESS, 8);
    for (u8 dev = 0; dev < 32 && !ide.present; dev++)
        for (u8 fn = 0; fn < 8; fn++) {
            u32 id = cfg_read32(0, dev, fn, 0);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break;
                continue;
            }
            u32 cls = cfg_read32(0, dev, fn, 8) >> 8;
            bool known = false;
            for (u32 i = 0; i < ARRAY_SIZE(ide_known); i++)
                known |= (id & 0xffff) == 0x8086 && id >> 16 == ide_known[i];
            if (known && cls >> 8 == 0x0101) {
                ide.present = true;
                ide.bus = 0, ide.dev = dev, ide.fn = fn;
                ide.vendor = (u16)id, ide.device = (u16)(id >> 16);
                ide.cls = cls;
                break;
            }
            if (fn == 0 && !(cfg_read32(0, dev, 0, 0x0c) >> 16 & 0x80))
                break;                  /* not multi-function */
        }
    if (!ide.present) {
        kprintf("vigil: PCI: no IDE bus master vigil mediates on bus 0\n");
        return;
    }
    for (u32 c = 0; c < 2; c++) {
        ide.chan[c].shadow = hv_alloc_pages(1, 1);
        if ((u64)ide.chan[c].shadow >= GiB(4))
            vigil_panic("the IDE bus master's PRD copy must lie below 4 GiB (got 0x%llx)",
                        (unsigned long long)(u64)ide.chan[c].shadow);
    }
    follow_bar4();
    kprintf("vigil: PCI: 00:%02x.%u %04x:%04x IDE bus master at ports 0x%x-0x%x mediated (PRD tables checked, "
            "copied to vigil's memory)\n", ide.dev, ide.fn, ide.vendor, ide.device, ide.base, ide.base + 15);
}

/* Judge a bus-master enable of a device vigil does not mediate. */
static bool master_allowed(u8 bus, u8 dev, u8 fn, bool at_boot, u32 *id, u32 *cls)
{
    *id = cfg_read32(bus, dev, fn, 0);
    *cls = cfg_read32(bus, dev, fn, 8) >> 8;
    struct ids_event e;
    if (at_boot) {
        memset(&e, 0, sizeof(e));
        e.type = IDS_EV_DMA;
    } else {
        vmm_fill_event(&e, IDS_EV_DMA);
    }
    e.dma.kind = DMA_BUS_MASTER;
    e.dma.at_boot = at_boot;
    e.dma.bus = bus, e.dma.dev = dev, e.dma.fn = fn;
    e.dma.vendor = (u16)*id, e.dma.device = (u16)(*id >> 16);
    e.dma.class_code = *cls;
    e.dma.device_name = "a bus master vigil does not mediate";
    return ids_event(&e).action == IDS_ALLOW;
}

void pci_boot_scan(void)
{
    spin_lock(&pci_lock);
    for (u8 dev = 0; dev < 32; dev++)
        for (u8 fn = 0; fn < 8; fn++) {
            u32 id = cfg_read32(0, dev, fn, 0);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break;
                continue;
            }
            u32 cmd = cfg_read32(0, dev, fn, PCI_COMMAND) & 0xffff, cls = cfg_read32(0, dev, fn, 8) >> 8;
            /* A host bridge is the CPU's own way into memory, not a device's. */
            if ((cmd & PCI_COMMAND_MASTER) && !is_ide(0, dev, fn) && cls >> 8 != 0x0600) {
                u32 i2, c2;
                if (master_allowed(0, dev, fn, true, &i2, &c2)) {
                    kprintf("vigil: PCI: 00:%02x.%u %04x:%04x class %06x: bus mastering left on (allowed by the "
                            "IDS policy)\n", dev, fn, id & 0xffff, id >> 16, cls);
                } else {
                    cfg_write16(0, dev, fn, PCI_COMMAND, (u16)(cmd & ~PCI_COMMAND_MASTER));
                    bool off = !(cfg_read32(0, dev, fn, PCI_COMMAND) & PCI_COMMAND_MASTER);
                    kprintf("vigil: PCI: 00:%02x.%u %04x:%04x class %06x: %s: vigil does not mediate its DMA and the "
                            "policy does not allow it\n", dev, fn, id & 0xffff, id >> 16, cls,
                            off ? "bus mastering turned off" : "bus mastering cannot be turned off (hardwired on)");
                }
            }
            if (fn == 0 && !(cfg_read32(0, dev, 0, 0x0c) >> 16 & 0x80))
                break;
        }
    outl(PCI_CONFIG_ADDRESS, cfg_addr);
    spin_unlock(&pci_lock);
}

bool pci_owns(u16 port, u32 size)
{
    if ((port == PCI_CONFIG_ADDRESS && size == 4) || trap_ports_touch(port, size, PCI_CONFIG_DATA, PCI_CONFIG_DATA + 3))
        return true;
    return ide.present && ide.base && trap_ports_touch(port, size, ide.base, (u16)(ide.base + 15));
}

/* --- configuration data ---------------------------------------------------- */

static void set_rax(struct vcpu *v, u32 size, u32 val)
{
    u64 mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
    v->regs->rax = size == 4 ? val : (v->regs->rax & ~mask) | (val & mask);
}

static u32 port_in(u16 port, u32 size) { return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port); }

static void port_out(u16 port, u32 size, u32 val)
{
    if (size == 1)
        outb(port, (u8)val);
    else if (size == 2)
        outw(port, (u16)val);
    else
        outl(port, val);
}

static enum exit_action cfg_data(struct vcpu *v, u16 port, u32 size, bool in, u32 val)
{
    struct pci_cfg c;
    enum exit_action act = EXIT_ADVANCE;
    if (port - PCI_CONFIG_DATA + size > 4) {
        /* An access running from 0xcfb into 0xcfc, or past 0xcff: no
         * configuration access the chipset decodes. */
        if (in)
            set_rax(v, size, 0xffffffffu);
        return act;
    }
    bool config = pci_cfg_decode(cfg_addr, port, size, &c);
    if (!in && config && !is_ide(c.bus, c.dev, c.fn)) {
        bool had;
        u32 stripped = pci_cfg_strip_master(c.reg, size, val, &had);
        u32 id, cls;
        /* Only a write that turns bus mastering on is judged: one that
         * leaves it as it is (set by firmware, or hardwired) changes
         * nothing. */
        outl(PCI_CONFIG_ADDRESS, cfg_address(c.bus, c.dev, c.fn, PCI_COMMAND));
        had = had && !(inl(PCI_CONFIG_DATA) & PCI_COMMAND_MASTER);
        if (had && !master_allowed(c.bus, c.dev, c.fn, false, &id, &cls)) {
            n_master_refused++;
            if (n_master_refused <= 16)
                kprintf("vigil: PCI: %02x:%02x.%u %04x:%04x class %06x: bus-master enable refused (vigil does not "
                        "mediate its DMA and the policy does not allow it)\n", c.bus, c.dev, c.fn, id & 0xffff,
                        id >> 16, cls);
            val = stripped;
        }
    }
    outl(PCI_CONFIG_ADDRESS, cfg_addr);
    if (in)
        set_rax(v, size, port_in(port, size));
    else
        port_out(port, size, val);
    if (!in && config && is_ide(c.bus, c.dev, c.fn) && pci_cfg_touches(c.reg, size, PCI_BAR4, PCI_BAR4 + 3)) {
        follow_bar4();
        outl(PCI_CONFIG_ADDRESS, cfg_addr);
    }
    return act;
}

/* --- the bus master ------------------------------------------------------------ */

static bool prd_read(void *ctx, u64 gpa, void *buf, u32 len)
{
    (void)ctx;
    return guestmem_read(gpa, buf, len);
}

/* 1 + an ids_dma_kind when the region may not be moved. */
static int prd_judge(void *ctx, const struct prd_region *r, bool to_memory, u64 *hit, u32 *owner)
{
    (void)ctx;
    const struct mem_range *o;
    u32 n = hvmem_owned(&o);
    for (u32 i = 0; i < n; i++)
        if (o[i].start < r->addr + r->len && o[i].end > r->addr) {
            *hit = o[i].start > r->addr ? o[i].start : r->addr;
            return 1 + DMA_HYPERVISOR;
        }
    /* A device writing memory must not touch a frame held against writes
     * (a read trap holds it against everything); a device reading memory
     * must not read one held against reads. The first byte it would reach
     * names the subscription (the most specific one holding that byte). */
    const struct traps *t = vmm_traps();
    u32 access = to_memory ? TRAP_WRITE | TRAP_READ : TRAP_READ;
    const struct trap_page *best = 0;
    u64 first = 0;
    for (u32 i = 0; i < t->npages; i++) {
        const struct trap_page *p = &t->page[i];
        if (!(p->access & access) || p->start >= r->addr + r->len || p->end <= r->addr)
            continue;
        u64 h = p->start > r->addr ? p->start : r->addr;
        if (!best || h < first || (h == first && p->end - p->start < best->end - best->start)) {
            best = p;
            first = h;
        }
    }
    if (!best)
        return 0;
    *hit = first;
    *owner = best->owner;
    return 1 + DMA_PROTECTED;
}

static void fill_dma_event(struct ids_event *e, u32 ch, bool to_mem)
{
    vmm_fill_event(e, IDS_EV_DMA);
    e->dma.to_memory = to_mem;
    e->dma.bus = ide.bus, e->dma.dev = ide.dev, e->dma.fn = ide.fn;
    e->dma.vendor = ide.vendor, e->dma.device = ide.device;
    e->dma.class_code = ide.cls;
    e->dma.device_name = ch ? "IDE bus master, secondary channel" : "IDE bus master, primary channel";
}

/* At the stop of a transfer: did the guest rewrite the table the device
 * was given a copy of? (A driver writes its next table after the stop.) */
static enum exit_action check_unchanged(struct vcpu *v, u32 ch)
{
    struct bm_chan *c = &ide.chan[ch];
    for (u32 i = 0; i < c->entries; i++) {
        u32 g[2];
        if (!guestmem_read(c->table + 8ull * i, g, sizeof(g)))
            break;
        struct prd_region now = prd_entry_region(g[0], g[1], i);
        u32 flags = (g[1] & 0xfffe) | (g[1] & PRD_EOT);
        if ((u32)now.addr == c->shadow[2 * i] && flags == c->shadow[2 * i + 1])
            continue;
        struct ids_event e;
        fill_dma_event(&e, ch, c->dir_to_mem);
        e.dma.kind = DMA_TABLE_CHANGED;
        e.dma.addr = now.addr;
        e.dma.len = now.len;
        e.dma.hit = c->table + 8ull * i;
        e.dma.entry = i;
        c->entries = 0;
        return vmm_verdict_suspend(v, ids_event(&e), EXIT_ADVANCE);
    }
    c->entries = 0;
    return EXIT_ADVANCE;
}

static enum exit_action bm_command(struct vcpu *v, u32 ch, u8 b)
{
    u16 reg = (u16)(ide.base + 8 * ch);
    u8 hw = inb(reg);
    struct bm_chan *c = &ide.chan[ch];
    if (!(b & 1) || (hw & 1)) {
        /* A stop, or a write while the engine runs: a running transfer keeps
         * the direction it was checked for. */
        if ((b & 1) && (hw & 1))
            b = (u8)((b & ~8) | (c->dir_to_mem ? 8 : 0));
        outb(reg, b);
        return !(b & 1) && (hw & 1) ? check_unchanged(v, ch) : EXIT_ADVANCE;
    }
    u64 t0 = rdtsc();
    n_starts++;
    bool to_mem = b & 8;
    struct prd_result r;
    prd_shadow(c->guest_prd, to_mem, prd_read, prd_judge, 0, c->shadow, &r);
    if (r.status == PRD_OK) {
        outl((u16)(reg + 4), (u32)(u64)c->shadow);
        c->dir_to_mem = to_mem;
        c->table = c->guest_prd & ~3u;
        c->entries = r.entries;
        outb(reg, b);
        cyc_starts += rdtsc() - t0;
        return EXIT_ADVANCE;
    }
    /* Refused: the device is told the direction, never the start. */
    n_refused++;
    outb(reg, (u8)(b & ~1));
    struct ids_event e;
    fill_dma_event(&e, ch, to_mem);
    e.dma.kind = r.status == PRD_REFUSED ? (enum ids_dma_kind)(r.why - 1) : DMA_BAD_TABLE;
    if (e.dma.kind == DMA_PROTECTED)
        e.owner = r.owner;
    e.dma.addr = r.bad.addr;
    e.dma.len = r.bad.len;
    e.dma.hit = r.status == PRD_REFUSED ? r.hit : r.bad.addr;
    e.dma.entry = r.bad.entry;
    e.dma.device_name = r.status == PRD_NO_END ? (ch ? "IDE bus master, secondary channel: PRD table without an end"
                                                     : "IDE bus master, primary channel: PRD table without an end")
                        : r.status == PRD_TABLE_UNREADABLE
                            ? (ch ? "IDE bus master, secondary channel: PRD table outside guest RAM"
                                  : "IDE bus master, primary channel: PRD table outside guest RAM")
                            : (ch ? "IDE bus master, secondary channel" : "IDE bus master, primary channel");
    if (n_refused <= 16)
        kprintf("vigil: PCI: refused an IDE bus-master start (%s channel, %s memory): PRD entry %u, gpa 0x%llx, "
                "%llu bytes\n", ch ? "secondary" : "primary", to_mem ? "device to" : "from", r.bad.entry,
                (unsigned long long)r.bad.addr, (unsigned long long)r.bad.len);
    cyc_starts += rdtsc() - t0;
    return vmm_verdict_suspend(v, ids_event(&e), EXIT_ADVANCE);
}

static enum exit_action bm_io(struct vcpu *v, u16 port, u32 size, bool in, u32 val)
{
    enum exit_action act = EXIT_ADVANCE;
    u32 res = 0;
    for (u32 i = 0; i < size; i++) {
        u16 p = (u16)(port + i);
        u8 b = (u8)(val >> (8 * i)), got = 0xff;
        if (p < ide.base || p > ide.base + 15) {
            if (in)
                got = inb(p);
            else
                outb(p, b);
        } else {
            u32 off = p - ide.base, ch = off >> 3, r = off & 7;
            struct bm_chan *c = &ide.chan[ch];
            if (r >= 4) {
                u32 sh = 8 * (r - 4);
                if (in)
                    got = (u8)(c->guest_prd >> sh);
                else
                    c->guest_prd = (c->guest_prd & ~(0xffu << sh)) | (u32)b << sh;
            } else if (r == 0 && !in) {
                act = bm_command(v, ch, b);
            } else if (in) {
                got = inb(p);
            } else {
                outb(p, b);
            }
        }
        res |= (u32)got << (8 * i);
    }
    if (in)
        set_rax(v, size, res);
    return act;
}

enum exit_action pci_io(struct vcpu *v, u16 port, u32 size, bool in, bool string, u32 val)
{
    if (string) {
        vcpu_inject_gp();               /* nobody moves configuration space with INS/OUTS */
        return EXIT_RESUME;
    }
    u64 t0 = rdtsc();
    enum exit_action act = EXIT_ADVANCE;
    spin_lock(&pci_lock);
    n_cfg++;
    if (port == PCI_CONFIG_ADDRESS && size == 4) {
        if (in)
            set_rax(v, 4, cfg_addr);
        else
            cfg_addr = val;
    } else if (trap_ports_touch(port, size, PCI_CONFIG_DATA, PCI_CONFIG_DATA + 3) && port >= PCI_CONFIG_DATA) {
        act = cfg_data(v, port, size, in, val);
    } else if (ide.present && ide.base && trap_ports_touch(port, size, ide.base, (u16)(ide.base + 15))) {
        act = bm_io(v, port, size, in, val);
    } else {
        /* A word at 0xcfa or similar: plain port I/O (0xcf9 is handled by
         * the caller's reset check first). */
        if (in)
            set_rax(v, size, 0xffffffffu);
    }
    spin_unlock(&pci_lock);
    cyc_cfg += rdtsc() - t0;
    return act;
}

void pci_print_summary(void)
{
    kprintf("vigil: PCI: %llu accesses to configuration space and the IDE bus master (%llu cycles each), %llu IDE bus-master "
            "starts checked (%llu cycles each), %llu refused; %llu bus-master enables refused\n",
            (unsigned long long)n_cfg, (unsigned long long)(n_cfg ? cyc_cfg / n_cfg : 0),
            (unsigned long long)n_starts, (unsigned long long)(n_starts ? cyc_starts / n_starts : 0),
            (unsigned long long)n_refused, (unsigned long long)n_master_refused);
}
