/* testos: device DMA scenarios (docs/testos.md, "DMA"). A small PCI
 * configuration (mechanism #1) and ATAPI driver reads sector 16 of a CD-ROM
 * -- the ISO 9660 primary volume descriptor, "\x01CD001" -- by IDE bus-master
 * DMA (PIIX3, BAR4), using the secondary channel when a CD-ROM answers
 * there (the primary channel's ports are the default io-guard rule's), and
 * points the transfer where a rootkit would: into write-protected kernel
 * text, into the hypervisor's memory, through a PRD table rewritten after
 * the start, through a moved BAR4. Each attack checks its effect from
 * inside; every DMA runs with interrupts off and a bounded wait. */
#include "scenario.h"
#include "boot.h"
#include "mm.h"
#include "trap.h"

static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

__asm__(".pushsection .text\n.balign 4096\n.globl dma_text_pad\ndma_text_pad: .fill 4096,1,0xcc\n.popsection");
extern u8 dma_text_pad[];

#define PVD_LBA 16
#define SECTOR 2048


/* --- PCI ------------------------------------------------------------------ */

static u32 cfg_addr(u8 dev, u8 fn, u8 reg) { return 1u << 31 | (u32)dev << 11 | (u32)fn << 8 | (reg & 0xfc); }
static u32 cfg_read(u8 dev, u8 fn, u8 reg) { outl(0xcf8, cfg_addr(dev, fn, reg)); return inl(0xcfc); }
static void cfg_write(u8 dev, u8 fn, u8 reg, u32 v) { outl(0xcf8, cfg_addr(dev, fn, reg)); outl(0xcfc, v); }

struct ide {
    u8 dev, fn;
    u16 bm;                      /* BAR4: bus-master registers of both channels */
    u16 cmd, ctl;                /* the channel used: task file, device control */
    u16 bmc;                     /* its bus-master registers */
};

static bool ide_find(struct ide *d)
{
    for (u8 dev = 0; dev < 32; dev++)
        for (u8 fn = 0; fn < 8; fn++) {
            u32 id = cfg_read(dev, fn, 0);
            if ((id & 0xffff) == 0xffff)
                continue;
            if (cfg_read(dev, fn, 8) >> 16 == 0x0101 && (cfg_read(dev, fn, 0x20) & 1)) {
                d->dev = dev, d->fn = fn;
                d->bm = (u16)(cfg_read(dev, fn, 0x20) & 0xfff0);
                cfg_write(dev, fn, 4, (cfg_read(dev, fn, 4) & 0xffff) | 0x5);   /* I/O and bus master */
                return true;
            }
        }
    return false;
}

/* --- ATAPI ------------------------------------------------------------------ */

static bool wait_status(u16 ctl, u8 mask, u8 want, u64 budget)
{
    u64 t0 = rdtsc();
    while (rdtsc() - t0 < budget)
        if ((inb(ctl) & mask) == want)
            return true;
    return false;
}

static bool atapi_present(u16 cmd, u16 ctl)
{
    outb(ctl, 0x02);                         /* nIEN: no interrupts, this driver polls */
    outb((u16)(cmd + 6), 0xa0);
    for (int i = 0; i < 4; i++)
        (void)inb(ctl);
    if (inb((u16)(cmd + 7)) == 0xff)
        return false;
    return inb((u16)(cmd + 4)) == 0x14 && inb((u16)(cmd + 5)) == 0xeb;
}

static bool ide_channel(struct ide *d)
{
    if (atapi_present(0x170, 0x376)) {
        d->cmd = 0x170, d->ctl = 0x376, d->bmc = (u16)(d->bm + 8);
        return true;
    }
    if (atapi_present(0x1f0, 0x3f6)) {
        d->cmd = 0x1f0, d->ctl = 0x3f6, d->bmc = d->bm;
        return true;
    }
    return false;
}

static void channel_reset(const struct ide *d)
{
    outb(d->bmc, 0);
    outb((u16)(d->bmc + 2), 0x06);
    outb(d->ctl, 0x06);                      /* SRST */
    for (int i = 0; i < 8; i++)
        (void)inb(d->ctl);
    outb(d->ctl, 0x02);
    wait_status(d->ctl, 0x80, 0, 200000000ull);
}

#define BUDGET 400000000ull                 /* TSC cycles any one wait may take */

/* Issue READ(10) of one sector by DMA with the PRD table at prd_phys.
 * Returns after the packet: the caller starts the engine. */
static bool atapi_read_dma_issue(const struct ide *d, u32 lba, u32 prd_phys)
{
    outb(d->bmc, 0);                         /* stop */
    outb((u16)(d->bmc + 2), 0x06);           /* clear interrupt and error */
    outl((u16)(d->bmc + 4), prd_phys);
    outb(d->bmc, 0x08);                      /* direction: device to memory */
    if (!wait_status(d->ctl, 0x80, 0, BUDGET))
        return false;
    outb((u16)(d->cmd + 6), 0xa0);
    outb((u16)(d->cmd + 1), 0x01);           /* features: DMA */
    outb((u16)(d->cmd + 4), SECTOR & 0xff);
    outb((u16)(d->cmd + 5), SECTOR >> 8);
    outb((u16)(d->cmd + 7), 0xa0);           /* PACKET */
    if (!wait_status(d->ctl, 0x88, 0x08, BUDGET))
        return false;
    u8 pkt[12] = { 0x28, 0, (u8)(lba >> 24), (u8)(lba >> 16), (u8)(lba >> 8), (u8)lba, 0, 0, 1, 0, 0, 0 };
    for (int i = 0; i < 12; i += 2)
        outw(d->cmd, (u16)(pkt[i] | pkt[i + 1] << 8));
    return true;
}

/* Start the engine; wait for the end of the transfer. */
static bool bm_run(const struct ide *d, u8 *started)
{
    outb(d->bmc, 0x09);
    *started = inb(d->bmc) & 1;
    u64 t0 = rdtsc();
    bool done = false;
    while (rdtsc() - t0 < BUDGET)
        if (!(inb((u16)(d->bmc + 2)) & 1) || (inb((u16)(d->bmc + 2)) & 4)) {
            done = (inb((u16)(d->bmc + 2)) & 4) != 0;
            break;
        }
    outb(d->bmc, 0);
    outb((u16)(d->bmc + 2), 0x06);
    if (!done)
        channel_reset(d);
    return done;
}

static u32 *prd_make(u64 *phys)
{
    *phys = palloc();
    return *phys ? (u32 *)phys_to_virt(*phys) : 0;
}

static bool setup(const char *n, struct ide *d)
{
    if (!ide_find(d)) {
        kprintf("%s: no IDE controller with a bus master (BAR4) on bus 0\n", n);
        return false;
    }
    if (!ide_channel(d)) {
        kprintf("%s: no ATAPI device on either IDE channel\n", n);
        return false;
    }
    kprintf("%s: IDE bus master %02x.%u at ports 0x%x, CD-ROM on the %s channel\n", n, d->dev, d->fn, d->bm,
            d->cmd == 0x170 ? "secondary" : "primary");
    return true;
}

static bool is_pvd(const volatile u8 *p) { return p[0] == 1 && p[1] == 'C' && p[2] == 'D' && p[3] == '0' && p[4] == '0' && p[5] == '1'; }

/* One DMA read of the volume descriptor through the table the caller
 * filled; nonzero *started if the engine accepted the start. */
static bool dma_read(const struct ide *d, u64 prd_phys, u8 *started)
{
    u64 f = irq_save();
    bool ok = atapi_read_dma_issue(d, PVD_LBA, (u32)prd_phys) && bm_run(d, started);
    irq_restore(f);
    return ok;
}

/* ---- dma-benign: the volume descriptor into an ordinary buffer ------------- */

bool sc_dma_benign(void)
{
    const char *n = "dma-benign";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys, buf = palloc();
    u32 *prd = prd_make(&prd_phys);
    if (!prd || !buf)
        return false;
    bool all = true;
    for (int round = 0; round < 3; round++) {
        memset(phys_to_virt(buf), 0, 4096);
        prd[0] = (u32)buf;
        prd[1] = 0x80000000u | SECTOR;
        u8 started = 0;
        bool done = dma_read(&d, prd_phys, &started);
        bool pvd = is_pvd(phys_to_virt(buf));
        kprintf("%s: round %d: DMA %s, buffer at 0x%lx %s the ISO 9660 volume descriptor\n", n, round,
                done ? "completed" : "did not complete", buf, pvd ? "holds" : "does NOT hold");
        all &= done && pvd;
    }
    kprintf("%s: %s\n", n, all ? "every transfer arrived" : "TRANSFERS FAILED");
    pfree(buf);
    pfree(prd_phys);
    return all;
}

/* ---- dma-kernel-text: a sector into write-protected kernel text ------------ */

static bool text_hit(const char *n, u8 *pad)
{
    bool hit = is_pvd(pad);
    kprintf("%s: kernel text at %p (phys 0x%lx) %s\n", n, pad, kimage_virt_to_phys(pad),
            hit ? "now holds the ISO 9660 volume descriptor" : "is unchanged");
    return hit;
}

bool sc_dma_kernel_text(void)
{
    const char *n = "dma-kernel-text";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys;
    u32 *prd = prd_make(&prd_phys);
    if (!prd)
        return false;
    attack_begin(n);
    prd[0] = (u32)kimage_virt_to_phys(dma_text_pad);
    prd[1] = 0x80000000u | SECTOR;
    u8 started = 0;
    bool done = dma_read(&d, prd_phys, &started);
    kprintf("%s: engine %s, transfer %s\n", n, started ? "started" : "did not start", done ? "completed" : "timed out");
    attack_result(n, text_hit(n, dma_text_pad));
    pfree(prd_phys);
    return true;
}

/* ---- dma-prd-chain: a harmless first entry, then one across the end of the
 * protected read-only data into the page after it (the GDT's null descriptor) */

bool sc_dma_prd_chain(void)
{
    const char *n = "dma-prd-chain";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys, buf = palloc();
    u32 *prd = prd_make(&prd_phys);
    if (!prd || !buf)
        return false;
    attack_begin(n);
    /* The last 16 bytes of rodata's last page, and the 16 after it. */
    u8 *edge = (u8 *)ALIGN_UP((u64)__rodata_end, PAGE_SIZE) - 16;
    u8 before[32], after[32];
    memcpy(before, edge, 32);
    prd[0] = (u32)buf;
    prd[1] = 8;                               /* bytes 0-7: the descriptor's type and "CD001" */
    prd[2] = (u32)kimage_virt_to_phys(edge);
    prd[3] = 0x80000000u | 32;                /* bytes 8-39: the system identifier */
    u64 f = irq_save();
    u8 started = 0;
    bool done = atapi_read_dma_issue(&d, PVD_LBA, (u32)prd_phys) && bm_run(&d, &started);
    memcpy(after, edge, 32);
    if (memcmp(after + 16, before + 16, 16))
        memcpy(edge + 16, before + 16, 16);   /* the next page's bytes back as they were (rodata cannot be written) */
    irq_restore(f);
    bool changed = memcmp(before, after, 16) != 0;
    kprintf("%s: entry 0 -> buffer 0x%lx (%s), entry 1 -> phys 0x%lx across the end of read-only data: "
            "transfer %s; the protected bytes %s\n", n, buf, is_pvd(phys_to_virt(buf)) ? "filled" : "untouched",
            kimage_virt_to_phys(edge), done ? "completed" : "did not complete",
            changed ? "CHANGED" : "are unchanged");
    attack_result(n, changed);
    pfree(buf);
    pfree(prd_phys);
    return true;
}

/* ---- dma-hypervisor: into the hypervisor's image ------------------------------- */

/* The first range above 1 MiB and inside available RAM that the memory
 * map does not call available (under vigil: its own image), else 32 MiB
 * (where vigil loads). */
static u64 hidden_target(void)
{
    u64 top = 0;
    for (int i = 0; i < bootinfo.nmmap; i++)
        if (bootinfo.mmap[i].type == MEM_AVAILABLE && bootinfo.mmap[i].base + bootinfo.mmap[i].len > top)
            top = bootinfo.mmap[i].base + bootinfo.mmap[i].len;
    for (int i = 0; i < bootinfo.nmmap; i++)
        if (bootinfo.mmap[i].type != MEM_AVAILABLE && bootinfo.mmap[i].base >= 0x100000 &&
            bootinfo.mmap[i].base + bootinfo.mmap[i].len <= top && bootinfo.mmap[i].len >= SECTOR)
            return bootinfo.mmap[i].base;
    return 0x2000000;
}

static bool read_phys(u64 pa, u8 *out, size_t len, struct catch *c)
{
    u8 *p = kmap(pa, 4096, PTE_NX);
    if (!p)
        return false;
    bool ok = false;
    if (CATCH(c)) {
        for (size_t i = 0; i < len; i++)
            out[i] = ((volatile u8 *)p)[i];
        catch_end(c);
        ok = true;
    }
    kunmap(p, 4096);
    return ok;
}

bool sc_dma_hypervisor(void)
{
    const char *n = "dma-hypervisor";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys, target = hidden_target();
    u32 *prd = prd_make(&prd_phys);
    if (!prd)
        return false;
    attack_begin(n);
    prd[0] = (u32)target;
    prd[1] = 0x80000000u | SECTOR;
    u8 started = 0, got[8];
    bool done = dma_read(&d, prd_phys, &started);
    struct catch c;
    bool readable = read_phys(target, got, sizeof(got), &c);
    bool hit = readable && is_pvd(got);
    kprintf("%s: DMA to phys 0x%lx: engine %s; the target %s\n", n, target, started ? "started" : "did not start",
            !readable ? "cannot be read back" : hit ? "now holds the ISO 9660 volume descriptor" : "is unchanged");
    (void)done;
    attack_result(n, hit);
    pfree(prd_phys);
    return true;
}

/* ---- dma-hypervisor-leak: the hypervisor's image out to the device --------- */

bool sc_dma_hypervisor_leak(void)
{
    const char *n = "dma-hypervisor-leak";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys, target = hidden_target();
    u32 *prd = prd_make(&prd_phys);
    if (!prd)
        return false;
    attack_begin(n);
    prd[0] = (u32)target;
    prd[1] = 0x80000000u | 512;
    u64 f = irq_save();
    outb(d.bmc, 0);
    outb((u16)(d.bmc + 2), 0x06);
    outl((u16)(d.bmc + 4), (u32)prd_phys);
    outb(d.bmc, 0x01);                        /* start, direction memory to device: the device reads memory */
    u8 cmd = inb(d.bmc);
    u64 t0 = rdtsc();
    while (rdtsc() - t0 < BUDGET / 8)
        ;
    u8 st = inb((u16)(d.bmc + 2));
    channel_reset(&d);
    irq_restore(f);
    bool accepted = cmd & 1;
    kprintf("%s: bus-master read of phys 0x%lx: engine %s (command 0x%x, status 0x%x)\n", n, target,
            accepted ? "started: the device read that memory" : "did not start", cmd, st);
    attack_result(n, accepted);
    pfree(prd_phys);
    return true;
}

/* ---- dma-prd-swap: the table rewritten after the start ----------------------- */

bool sc_dma_prd_swap(void)
{
    const char *n = "dma-prd-swap";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys, buf = palloc();
    u32 *prd = prd_make(&prd_phys);
    if (!prd || !buf)
        return false;
    attack_begin(n);
    prd[0] = (u32)buf;
    prd[1] = 0x80000000u | SECTOR;
    u64 f = irq_save();
    bool ok = atapi_read_dma_issue(&d, PVD_LBA, (u32)prd_phys);
    outb(d.bmc, 0x09);                        /* start: the harmless table is what a check sees */
    u8 started = inb(d.bmc) & 1;
    /* Now that the start is checked, the entry points into kernel text. */
    ((volatile u32 *)prd)[0] = (u32)kimage_virt_to_phys(dma_text_pad);
    u64 t0 = rdtsc();
    bool done = false;
    while (ok && rdtsc() - t0 < BUDGET)
        if (inb((u16)(d.bmc + 2)) & 4) {
            done = true;
            break;
        }
    outb(d.bmc, 0);
    outb((u16)(d.bmc + 2), 0x06);
    if (!done)
        channel_reset(&d);
    irq_restore(f);
    kprintf("%s: engine %s, transfer %s; the harmless buffer %s\n", n, started ? "started" : "did not start",
            done ? "completed" : "did not complete", is_pvd(phys_to_virt(buf)) ? "got the sector" : "is empty");
    attack_result(n, text_hit(n, dma_text_pad));
    pfree(buf);
    pfree(prd_phys);
    return true;
}

/* ---- dma-bus-master: bus mastering for another device ------------------------- */

bool sc_dma_bus_master(void)
{
    const char *n = "dma-bus-master";
    struct ide d;
    if (!ide_find(&d))
        return false;
    attack_begin(n);
    /* A device that is neither the host bridge nor the IDE controller,
     * whose bus-master enable is off (in Bochs: the PIIX4 power-management
     * function, 8086:7113). */
    for (u8 dev = 0; dev < 32; dev++)
        for (u8 fn = 0; fn < 8; fn++) {
            u32 id = cfg_read(dev, fn, 0), cls = cfg_read(dev, fn, 8) >> 8;
            if ((id & 0xffff) == 0xffff || cls >> 8 == 0x0600 || (dev == d.dev && fn == d.fn))
                continue;
            u32 cmd = cfg_read(dev, fn, 4) & 0xffff;
            if (cmd & 4)
                continue;
            cfg_write(dev, fn, 4, cmd | 4);
            u32 now = cfg_read(dev, fn, 4) & 0xffff;
            cfg_write(dev, fn, 4, cmd);
            kprintf("%s: 00:%02x.%u %04x:%04x class %06x: bus-master enable written, command register now 0x%x\n",
                    n, dev, fn, id & 0xffff, id >> 16, cls, now);
            attack_result(n, now & 4);
            return true;
        }
    kprintf("%s: no device to try\n", n);
    attack_result(n, false);
    return true;
}

/* ---- dma-bar-move: BAR4 moved, the DMA through the new ports ------------------ */

bool sc_dma_bar_move(void)
{
    const char *n = "dma-bar-move";
    struct ide d;
    if (!setup(n, &d))
        return false;
    u64 prd_phys;
    u32 *prd = prd_make(&prd_phys);
    if (!prd)
        return false;
    attack_begin(n);
    u16 old = d.bm, moved = 0xfe00;
    cfg_write(d.dev, d.fn, 0x20, moved | 1);
    u32 bar = cfg_read(d.dev, d.fn, 0x20);
    d.bmc = (u16)(d.bmc - old + (bar & 0xfff0));
    kprintf("%s: BAR4 moved from 0x%x to 0x%x\n", n, old, bar & 0xfff0);
    prd[0] = (u32)kimage_virt_to_phys(dma_text_pad);
    prd[1] = 0x80000000u | SECTOR;
    u8 started = 0;
    dma_read(&d, prd_phys, &started);
    cfg_write(d.dev, d.fn, 0x20, old | 1);
    kprintf("%s: engine %s at the moved ports\n", n, started ? "started" : "did not start");
    attack_result(n, text_hit(n, dma_text_pad));
    pfree(prd_phys);
    return true;
}
