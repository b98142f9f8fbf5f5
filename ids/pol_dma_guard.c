/* dma-guard: device DMA the guest starts. vmm/ mediates the IDE bus master
 * (every PRD table checked against vigil's memory and the frames the IDS
 * holds, and handed to the device as vigil's copy) and carries out every
 * PCI configuration access; this policy reports what vmm/ refused (a
 * transfer into or out of vigil's memory, into a protected frame, or with
 * a table vigil cannot check), and judges the bus-master enable of every
 * device vigil does not mediate (refused unless `allow=VENDOR:DEVICE` names
 * it). It cannot be switched off, and it always refuses.
 *
 * The backstop: every tick (`interval`) one page of the frames held against
 * writes is hashed again; a page whose bytes changed although no exit saw a
 * write to it was written by something vigil does not see -- a device's
 * DMA on a machine without an IOMMU, or a bus master vigil missed -- and is
 * reported. */
#include "ids/engine.h"
#include "ids/alert.h"
#include "vmm/introspect.h"
#include "lib/fmt.h"
#include "lib/log.h"

static bool allowed(u16 vendor, u16 device)
{
    for (u32 i = 0; i < ids.cfg.ndma_allow; i++)
        if (ids.cfg.dma_allow[i].vendor == vendor &&
            (ids.cfg.dma_allow[i].device == 0xffff || ids.cfg.dma_allow[i].device == device))
            return true;
    return false;
}

static struct ids_verdict event(const struct ids_event *e)
{
    const struct ids_verdict allow = { IDS_ALLOW, 0, 0 };
    char dev[48];
    fmt_snprintf(dev, sizeof(dev), "%02x:%02x.%u %04x:%04x", e->dma.bus, e->dma.dev, e->dma.fn, e->dma.vendor,
                 e->dma.device);
    u64 key = (u64)e->dma.kind << 56 ^ (u64)e->dma.bus << 48 ^ (u64)e->dma.dev << 40 ^ (u64)e->dma.fn << 32;
    struct ids_verdict v;
    if (e->dma.kind == DMA_BUS_MASTER) {
        if (allowed(e->dma.vendor, e->dma.device))
            return allow;
        if (e->dma.at_boot)
            return (struct ids_verdict){ IDS_BLOCK, 0, 0 };    /* vmm/ says so on its console */
        v = ids_raise(POL_DMA_GUARD, e, key, 0, 0,
                      "bus-master enable of %s class %06x refused: not mediated; allow it with dma-guard allow=%04x:%04x",
                      dev, e->dma.class_code, e->dma.vendor, e->dma.device);
    } else if (e->dma.kind == DMA_TABLE_CHANGED) {
        u64 gpa = e->dma.hit;
        v = ids_raise(POL_DMA_GUARD, e, key ^ gpa, 0, &gpa,
                      "PRD entry %u at 0x%llx rewritten after the check (now 0x%llx, %llu bytes): the device used "
                      "vigil's copy", e->dma.entry, (unsigned long long)gpa, (unsigned long long)e->dma.addr,
                      (unsigned long long)e->dma.len);
    } else {
        const char *prep = e->dma.to_memory ? "into" : "from";
        char what[64];
        const struct ids_object *o = e->dma.kind == DMA_PROTECTED ? ids_object_of(e) : 0;
        if (e->dma.kind == DMA_HYPERVISOR)
            fmt_snprintf(what, sizeof(what), "%s vigil's memory", prep);
        else if (o)
            fmt_snprintf(what, sizeof(what), "%s protected %s (%s)", prep, o->what, policy_name(o->policy));
        else
            fmt_snprintf(what, sizeof(what), "with a PRD table vigil cannot check");
        u64 gpa = e->dma.hit;
        v = ids_raise(POL_DMA_GUARD, e, key ^ (gpa & ~0xfffull), 0, &gpa,
                      "DMA %s by %s refused: PRD entry %u, 0x%llx, %llu bytes", what, dev, e->dma.entry,
                      (unsigned long long)e->dma.addr, (unsigned long long)e->dma.len);
    }
    if (v.action == IDS_ALLOW)
        v.action = IDS_BLOCK;
    return v;
}

/* --- the backstop ------------------------------------------------------------ */

#define BACKSTOP_PAGES 4096             /* pages of protected frames re-hashed (16 MiB) */
#define SLOT_STALE 0x80000000u
#define SLOT_SETTLE 0x40000000u

/* One protected page: its frame number and the hash of its protected
 * bytes (frame 0: never hashed). SLOT_STALE: an exit saw a write to it
 * since it was hashed: the next hash is a new reference. That write itself
 * comes after its event (through the step window, and with several vCPUs
 * another vCPU's tick may hash the page in between), so the reference is
 * taken once more on the visit after (SLOT_SETTLE) before a change counts. */
static struct { u32 frame, hash; } slots[BACKSTOP_PAGES];
static u32 cur_range, cur_page, cur_base;
static u64 pages_hashed, changes_seen;

static bool hashed(const struct trap_page *r) { return r->access & (TRAP_WRITE | TRAP_READ); }

static u64 range_pages(const struct trap_page *r)
{
    return (ALIGN_UP(r->end, 4096) - ALIGN_DOWN(r->start, 4096)) / 4096;
}

/* FNV-1a over the words of the protected bytes of one page (the range's
 * part of it). */
static u32 hash_bytes(const u8 *p, u64 n)
{
    u64 h = 0xcbf29ce484222325ull;
    u64 i = 0;
#pragma GCC unroll 8
    for (; i + 8 <= n; i += 8) {
        u64 w;
        __builtin_memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return (u32)(h ^ h >> 32);
}

void dma_guard_write_seen(u64 gpa)
{
    const struct traps *t = vmm_traps();
    u32 base = 0;
    for (u32 i = 0; i < t->npages; i++) {
        const struct trap_page *r = &t->page[i];
        if (!hashed(r))
            continue;
        u64 first = ALIGN_DOWN(r->start, 4096);
        if (gpa >= first && gpa < ALIGN_UP(r->end, 4096)) {
            u64 s = base + (gpa - first) / 4096;
            if (s < BACKSTOP_PAGES)
                slots[s].frame |= SLOT_STALE;
        }
        base += (u32)range_pages(r);
    }
}

static void tick(const struct ids_event *e)
{
    const struct traps *t = vmm_traps();
    for (u32 tries = 0; tries <= t->npages; tries++) {
        if (cur_range >= t->npages) {
            cur_range = cur_page = cur_base = 0;
            continue;
        }
        const struct trap_page *r = &t->page[cur_range];
        if (!hashed(r) || cur_page >= range_pages(r)) {
            if (hashed(r))
                cur_base += (u32)range_pages(r);
            cur_range++;
            cur_page = 0;
            continue;
        }
        u32 s = cur_base + cur_page;
        u64 page = ALIGN_DOWN(r->start, 4096) + 4096ull * cur_page++;
        if (s >= BACKSTOP_PAGES)
            return;
        u64 lo = page > r->start ? page : r->start, hi = page + 4096 < r->end ? page + 4096 : r->end;
        const u8 *p = guestmem_map(lo, hi - lo);
        if (!p)
            return;
        u32 h = hash_bytes(p, hi - lo), frame = (u32)(page >> 12) + 1;
        pages_hashed++;
        bool settle = slots[s].frame & SLOT_STALE;
        if (slots[s].frame == frame && slots[s].hash != h) {
            changes_seen++;
            const struct ids_object *o = ids_object(r->owner);
            ids_raise(POL_DMA_GUARD, e, page | 1, 0, &lo,
                      "protected %s (%s) at 0x%llx-0x%llx changed with no write seen by any exit: unmediated DMA?",
                      o ? o->what : "memory",
                      o ? policy_name(o->policy) : "?", (unsigned long long)lo, (unsigned long long)hi);
        }
        slots[s].frame = frame | (settle ? SLOT_SETTLE : 0);
        slots[s].hash = h;
        return;
    }
}

static void start(void)
{
    kprintf("vigil: dma-guard: %u bus-master devices allowed by the policy; protected frames re-hashed one "
            "page every %u ticks (at most %u pages)\n", ids.cfg.ndma_allow,
            ids.cfg.pol[POL_DMA_GUARD].interval ? ids.cfg.pol[POL_DMA_GUARD].interval : 1, BACKSTOP_PAGES);
}

void dma_guard_stats(u64 *hashed_pages, u64 *changes)
{
    *hashed_pages = pages_hashed;
    *changes = changes_seen;
}

const struct policy_ops pol_dma_guard = { .id = POL_DMA_GUARD, .start = start, .tick = tick, .event = event };
