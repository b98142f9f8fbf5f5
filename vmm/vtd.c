#include "vmm/vtd.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/string.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static u16 r16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 r32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 r64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

int dmar_parse(const u8 *t, size_t len, struct dmar_info *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    if (len < 48)
        FAIL("DMAR: %zu bytes, shorter than its 48-byte header", len);
    if (memcmp(t, "DMAR", 4))
        FAIL("DMAR: signature is not DMAR");
    u32 tl = r32(t + 4);
    if (tl < 48 || tl > len)
        FAIL("DMAR: length field %u outside 48..%zu", tl, len);
    u8 sum = byte_sum(t, tl);
    if (sum)
        FAIL("DMAR: checksum is off by 0x%02x", sum);
    d->haw = (u8)(t[36] + 1);
    d->flags = t[37];
    for (u32 off = 48; off < tl;) {
        if (tl - off < 4)
            FAIL("DMAR: structure at offset %u: %u bytes left, a header needs 4", off, tl - off);
        u16 type = r16(t + off), sl = r16(t + off + 2);
        if (sl < 4 || sl > tl - off)
            FAIL("DMAR: structure at offset %u (type %u): length %u outside 4..%u", off, type, sl, tl - off);
        const u8 *s = t + off;
        if (type == 0) {                     /* DRHD: a remapping hardware unit */
            if (sl < 16)
                FAIL("DMAR: DRHD at offset %u: length %u, at least 16", off, sl);
            if (d->nunits == DMAR_MAX_UNITS)
                FAIL("DMAR: more than %u remapping units", DMAR_MAX_UNITS);
            u64 base = r64(s + 8);
            if (!base || (base & 0xfff))
                FAIL("DMAR: DRHD at offset %u: register base 0x%llx is not a 4 KiB-aligned address", off,
                     (unsigned long long)base);
            d->unit[d->nunits++] = (struct dmar_unit){ base, r16(s + 6), s[4] & 1 };
        } else if (type == 1) {              /* RMRR: memory the firmware's devices keep using */
            if (sl < 24)
                FAIL("DMAR: RMRR at offset %u: length %u, at least 24", off, sl);
            if (d->nrmrr == DMAR_MAX_RMRR)
                FAIL("DMAR: more than %u reserved memory regions", DMAR_MAX_RMRR);
            u64 b = r64(s + 8), l = r64(s + 16);
            if (l < b || (b & 0xfff) || ((l + 1) & 0xfff))
                FAIL("DMAR: RMRR at offset %u: 0x%llx-0x%llx is not a range of whole pages", off,
                     (unsigned long long)b, (unsigned long long)l);
            d->rmrr[d->nrmrr++] = (struct dmar_rmrr){ b, l, r16(s + 6) };
        }
        off += sl;
    }
    if (!d->nunits)
        FAIL("DMAR: no remapping hardware unit (DRHD)");
    return 0;
}

/* --- the tables ---------------------------------------------------------------- */

#define SL_R 1ull
#define SL_W 2ull
#define SL_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

static u32 page_perm(u64 page, const struct vtd_deny *deny, u32 n)
{
    u32 p = VTD_RW;
    for (u32 i = 0; i < n; i++)
        if (ALIGN_DOWN(deny[i].start, 4096) <= page && ALIGN_UP(deny[i].end, 4096) > page)
            p &= deny[i].perm;
    return p;
}

static bool touches(u64 lo, u64 hi, const struct vtd_deny *deny, u32 n)
{
    for (u32 i = 0; i < n; i++)
        if (ALIGN_DOWN(deny[i].start, 4096) < hi && ALIGN_UP(deny[i].end, 4096) > lo && deny[i].perm != VTD_RW)
            return true;
    return false;
}

static u64 *table(vtd_alloc_fn alloc, void *ctx, struct vtd_stats *st)
{
    u64 *t = alloc(ctx);
    if (t)
        st->tables++;
    return t;
}

u64 vtd_build(u64 top, const struct vtd_deny *deny, u32 ndeny, bool large, vtd_alloc_fn alloc, void *ctx,
              struct vtd_stats *st)
{
    *st = (struct vtd_stats){ 0 };
    top = ALIGN_UP(top, MiB(2));
    if (!top || top > GiB(512))
        return 0;
    u64 *root = table(alloc, ctx, st), *context = table(alloc, ctx, st), *pml4 = table(alloc, ctx, st),
        *pdpt = table(alloc, ctx, st);
    if (!root || !context || !pml4 || !pdpt)
        return 0;
    pml4[0] = (u64)pdpt | SL_R | SL_W;
    u64 *pd = 0;
    for (u64 a = 0; a < top; a += MiB(2)) {
        if (!(a & (GiB(1) - 1))) {
            if (!(pd = table(alloc, ctx, st)))
                return 0;
            pdpt[a >> 30] = (u64)pd | SL_R | SL_W;
        }
        u64 *pde = &pd[(a >> 21) & 511];
        if (large && !touches(a, a + MiB(2), deny, ndeny)) {
            *pde = a | SL_PS | SL_R | SL_W;
            st->pages_2m++;
            continue;
        }
        u64 *pt = table(alloc, ctx, st);
        if (!pt)
            return 0;
        *pde = (u64)pt | SL_R | SL_W;
        for (u32 i = 0; i < 512; i++) {
            u64 page = a + 4096ull * i;
            u32 p = page_perm(page, deny, ndeny);
            pt[i] = p ? page | (p & VTD_READ ? SL_R : 0) | (p & 2 ? SL_W : 0) : 0;
            st->pages_4k++;
        }
    }
    /* Every devfn of every bus: present, translated through the second
     * level (TT 00), 48-bit 4-level tables (AW 010b), domain 1. */
    for (u32 f = 0; f < 256; f++) {
        context[2 * f] = (u64)pml4 | 1;
        context[2 * f + 1] = 2 | 1u << 8;
    }
    for (u32 b = 0; b < 256; b++)
        root[2 * b] = (u64)context | 1;
    return (u64)root;
}

u32 vtd_lookup(u64 root, u8 bus, u8 devfn, u64 addr)
{
    const u64 *r = (const u64 *)root;
    if (!(r[2 * bus] & 1))
        return VTD_NONE;
    const u64 *c = (const u64 *)(r[2 * bus] & ADDR_MASK);
    if (!(c[2 * devfn] & 1) || (c[2 * devfn] >> 2 & 3) || (c[2 * devfn + 1] & 7) != 2)
        return VTD_NONE;
    if (addr >> 48)
        return VTD_NONE;
    const u64 *t = (const u64 *)(c[2 * devfn] & ADDR_MASK);
    u32 perm = VTD_RW;
    for (int level = 3; level >= 0; level--) {
        u64 e = t[(addr >> (12 + 9 * level)) & 511];
        perm &= (u32)(e & 3);
        if (!perm)
            return VTD_NONE;
        if (level == 0 || (level == 1 && (e & SL_PS)))
            return perm;
        t = (const u64 *)(e & ADDR_MASK);
    }
    return perm;
}

bool vtd_restrict(u64 root, u64 addr, u32 perm, vtd_alloc_fn alloc, void *ctx)
{
    const u64 *r = (const u64 *)root;
    u64 *c = (u64 *)(r[0] & ADDR_MASK);
    u64 *pml4 = (u64 *)(c[0] & ADDR_MASK);
    if (addr >> 39 || !(pml4[0] & 3))
        return false;
    u64 *pdpt = (u64 *)(pml4[0] & ADDR_MASK);
    if (!(pdpt[addr >> 30 & 511] & 3))
        return false;
    u64 *pd = (u64 *)(pdpt[addr >> 30 & 511] & ADDR_MASK), *pde = &pd[addr >> 21 & 511];
    if (!(*pde & 3) && !(*pde & SL_PS))
        return false;
    if (*pde & SL_PS) {                      /* split: 512 pages with the large page's permission */
        u64 *pt = alloc(ctx);
        if (!pt)
            return false;
        u64 base = *pde & ADDR_MASK & ~(MiB(2) - 1), p = *pde & 3;
        for (u32 i = 0; i < 512; i++)
            pt[i] = p ? (base + 4096ull * i) | p : 0;
        *pde = (u64)pt | SL_R | SL_W;
    }
    u64 *pte = &((u64 *)(*pde & ADDR_MASK))[addr >> 12 & 511];
    u64 keep = *pte & 3 & perm;
    *pte = keep ? (*pte & ADDR_MASK) | keep : 0;
    return true;
}

/* --- programming a unit (chapter 11 registers; 6.5.1 register-based invalidation) --- */

enum {
    R_CAP = 0x08, R_ECAP = 0x10, R_GCMD = 0x18, R_GSTS = 0x1c, R_RTADDR = 0x20, R_CCMD = 0x28,
};
#define G_TE (1u << 31)
#define G_SRTP (1u << 30)
#define G_QIES (1u << 26)
#define G_ONE_SHOT_MASK 0x96ffffffu          /* GSTS bits that are not one-shot commands (11.4.4) */
#define CCMD_ICC (1ull << 63)
#define CCMD_GLOBAL (1ull << 61)
#define IOTLB_IVT (1ull << 63)
#define IOTLB_GLOBAL (1ull << 60)
#define IOTLB_DRAIN (3ull << 48)             /* drain reads and writes first */

static u32 iotlb_reg(const struct vtd_mmio *io) { return (u32)(io->rd64(io->ctx, R_ECAP) >> 8 & 0x3ff) * 16 + 8; }

u64 vtd_reg_size(const struct vtd_mmio *io)
{
    u64 cap = io->rd64(io->ctx, R_CAP);
    u64 fro = (cap >> 24 & 0x3ff) * 16, nfr = (cap >> 40 & 0xff) + 1;
    u64 end = iotlb_reg(io) + 8;
    if (fro + nfr * 16 > end)
        end = fro + nfr * 16;
    return ALIGN_UP(end, 4096);
}

static bool wait32(const struct vtd_mmio *io, u32 off, u32 bit, bool set, u32 spins)
{
    for (u32 i = 0; i < spins; i++)
        if (!(io->rd32(io->ctx, off) & bit) == !set)
            return true;
    return false;
}

static bool wait64_clear(const struct vtd_mmio *io, u32 off, u64 bit, u32 spins)
{
    for (u32 i = 0; i < spins; i++)
        if (!(io->rd64(io->ctx, off) & bit))
            return true;
    return false;
}

static bool command(const struct vtd_mmio *io, u32 cmd, u32 spins)
{
    io->wr32(io->ctx, R_GCMD, (io->rd32(io->ctx, R_GSTS) & G_ONE_SHOT_MASK) | cmd);
    return wait32(io, R_GSTS, cmd, true, spins);
}

int vtd_flush(const struct vtd_mmio *io, u32 spins, char *err, size_t errlen)
{
    u32 r = iotlb_reg(io);
    io->wr64(io->ctx, r, IOTLB_IVT | IOTLB_GLOBAL | IOTLB_DRAIN);
    if (!wait64_clear(io, r, IOTLB_IVT, spins))
        FAIL("the global IOTLB invalidation did not complete");
    return 0;
}

int vtd_enable(const struct vtd_mmio *io, u64 root, u32 spins, char *err, size_t errlen)
{
    u64 cap = io->rd64(io->ctx, R_CAP);
    if (!(cap >> 8 & 4))
        FAIL("no 4-level second-level tables (48-bit AGAW; SAGAW 0x%llx)", (unsigned long long)(cap >> 8 & 0x1f));
    if (io->rd32(io->ctx, R_GSTS) & G_QIES)
        FAIL("queued invalidation is on (the firmware's); vigil invalidates through the registers");
    io->wr64(io->ctx, R_RTADDR, root);       /* legacy root table (TTM 00) */
    if (!command(io, G_SRTP, spins))
        FAIL("the root table pointer was not latched (GSTS.RTPS)");
    io->wr64(io->ctx, R_CCMD, CCMD_ICC | CCMD_GLOBAL);
    if (!wait64_clear(io, R_CCMD, CCMD_ICC, spins))
        FAIL("the global context-cache invalidation did not complete");
    if (vtd_flush(io, spins, err, errlen))
        return -1;
    if (!command(io, G_TE, spins))
        FAIL("translation was not enabled (GSTS.TES)");
    return 0;
}
