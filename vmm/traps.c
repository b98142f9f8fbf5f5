#include "vmm/traps.h"
#include "lib/fmt.h"

static int full(char *err, size_t errlen, const char *table, u32 cap)
{
    fmt_snprintf(err, errlen, "the %s table is full (%u of %u)", table, cap, cap);
    return -1;
}

int trap_add_page(struct traps *t, u64 gpa, u64 len, u32 access, u32 owner, char *err, size_t errlen)
{
    if (!len || gpa + len < gpa || !(access & (TRAP_READ | TRAP_WRITE | TRAP_EXEC)) ||
        (access & ~(u32)(TRAP_READ | TRAP_WRITE | TRAP_EXEC))) {
        fmt_snprintf(err, errlen, "bad page trap: gpa 0x%llx, %llu bytes, access 0x%x", (unsigned long long)gpa,
                     (unsigned long long)len, access);
        return -1;
    }
    if (t->npages == TRAP_MAX_PAGES)
        return full(err, errlen, "page trap", TRAP_MAX_PAGES);
    t->page[t->npages] = (struct trap_page){ gpa, gpa + len, access, owner };
    return (int)t->npages++;
}

void trap_drop_last_page(struct traps *t)
{
    if (t->npages)
        t->npages--;
}

int trap_add_ports(struct traps *t, u16 lo, u16 hi, u32 owner, char *err, size_t errlen)
{
    if (hi < lo) {
        fmt_snprintf(err, errlen, "bad port trap: 0x%x-0x%x", lo, hi);
        return -1;
    }
    if (t->nports == TRAP_MAX_PORTS)
        return full(err, errlen, "port trap", TRAP_MAX_PORTS);
    t->port[t->nports] = (struct trap_port){ lo, hi, owner };
    return (int)t->nports++;
}

int trap_add_msr(struct traps *t, u32 msr, u32 owner, char *err, size_t errlen)
{
    if (trap_msr_find(t, msr)) {
        fmt_snprintf(err, errlen, "MSR 0x%x is already trapped", msr);
        return -1;
    }
    if (t->nmsrs == TRAP_MAX_MSRS)
        return full(err, errlen, "MSR trap", TRAP_MAX_MSRS);
    t->msr[t->nmsrs] = (struct trap_msr){ msr, owner };
    return (int)t->nmsrs++;
}

int trap_add_cr(struct traps *t, u8 cr, u64 bits, u32 owner, char *err, size_t errlen)
{
    if ((cr != 0 && cr != 4) || !bits || (trap_cr_bits(t, cr) & bits)) {
        fmt_snprintf(err, errlen, "bad CR trap: CR%u bits 0x%llx (only CR0 and CR4, each bit once)", cr,
                     (unsigned long long)bits);
        return -1;
    }
    if (t->ncrs == TRAP_MAX_CRS)
        return full(err, errlen, "CR trap", TRAP_MAX_CRS);
    t->cr[t->ncrs] = (struct trap_cr){ cr, bits, owner };
    return (int)t->ncrs++;
}

const struct trap_page *trap_page_find(const struct traps *t, u64 gpa, u32 access)
{
    const struct trap_page *best = 0;
    for (u32 i = 0; i < t->npages; i++) {
        const struct trap_page *p = &t->page[i];
        if (gpa >= p->start && gpa < p->end && (p->access & access) &&
            (!best || p->end - p->start < best->end - best->start))
            best = p;
    }
    return best;
}

const struct trap_page *trap_page_overlap(const struct traps *t, u64 gpa, u64 len, u32 access, u64 *hit)
{
    const struct trap_page *best = 0;
    for (u32 i = 0; i < t->npages; i++) {
        const struct trap_page *p = &t->page[i];
        if (p->start < gpa + len && p->end > gpa && (p->access & access) &&
            (!best || p->end - p->start < best->end - best->start))
            best = p;
    }
    if (best)
        *hit = best->start > gpa ? best->start : gpa;
    return best;
}

u32 trap_page_access(const struct traps *t, u64 gpa)
{
    u64 page = gpa & ~0xfffull;
    u32 a = 0;
    for (u32 i = 0; i < t->npages; i++)
        if (t->page[i].start < page + 4096 && t->page[i].end > page)
            a |= t->page[i].access;
    return a;
}

bool trap_ports_touch(u16 port, u32 size, u16 lo, u16 hi)
{
    for (u32 i = 0; i < size; i++) {
        u16 p = (u16)(port + i);
        if (p >= lo && p <= hi)
            return true;
    }
    return false;
}

bool io_byte_at(u16 port, u32 size, u32 val, u16 p, u8 *b)
{
    u16 k = (u16)(p - port);
    if (k >= size)
        return false;
    *b = (u8)(val >> (8 * k));
    return true;
}

int trap_port_next(const struct traps *t, u16 port, u32 size, int from)
{
    for (u32 i = from < 0 ? 0 : (u32)from; i < t->nports; i++)
        if (trap_ports_touch(port, size, t->port[i].lo, t->port[i].hi))
            return (int)i;
    return -1;
}

const struct trap_msr *trap_msr_find(const struct traps *t, u32 msr)
{
    for (u32 i = 0; i < t->nmsrs; i++)
        if (t->msr[i].msr == msr)
            return &t->msr[i];
    return 0;
}

int trap_cr_next(const struct traps *t, u8 cr, u64 changed, int from)
{
    for (u32 i = from < 0 ? 0 : (u32)from; i < t->ncrs; i++)
        if (t->cr[i].cr == cr && (t->cr[i].bits & changed))
            return (int)i;
    return -1;
}

u64 trap_cr_bits(const struct traps *t, u8 cr)
{
    u64 b = 0;
    for (u32 i = 0; i < t->ncrs; i++)
        if (t->cr[i].cr == cr)
            b |= t->cr[i].bits;
    return b;
}
