#include "vmm/pcidma.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/string.h"

bool pci_cfg_decode(u32 addr, u16 port, u32 size, struct pci_cfg *c)
{
    if (!(addr >> 31) || port < PCI_CONFIG_DATA || size == 0 || size > 4 || port - PCI_CONFIG_DATA + size > 4)
        return false;
    c->bus = (u8)(addr >> 16);
    c->dev = (u8)(addr >> 11 & 0x1f);
    c->fn = (u8)(addr >> 8 & 7);
    c->reg = (u16)((addr & 0xfc) + (port - PCI_CONFIG_DATA));
    return true;
}

bool pci_cfg_touches(u16 reg, u32 size, u16 lo, u16 hi)
{
    return reg <= hi && (u32)reg + size > lo;
}

u32 pci_cfg_strip_master(u16 reg, u32 size, u32 val, bool *had)
{
    *had = false;
    if (!pci_cfg_touches(reg, size, PCI_COMMAND, PCI_COMMAND))
        return val;
    u32 shift = 8 * (u32)(PCI_COMMAND - reg);
    if (val >> shift & PCI_COMMAND_MASTER) {
        *had = true;
        val &= ~(PCI_COMMAND_MASTER << shift);
    }
    return val;
}

struct prd_region prd_entry_region(u32 addr, u32 count, u32 index)
{
    u32 n = count & 0xfffe;
    return (struct prd_region){ addr & ~1u, n ? n : 0x10000, index };
}

void prd_shadow(u64 table, bool to_memory, prd_read_fn rd, prd_judge_fn judge, void *ctx, u32 *shadow,
                struct prd_result *r)
{
    memset(r, 0, sizeof(*r));
    table &= ~3ull;
    for (u32 i = 0; i < PRD_MAX_ENTRIES; i++) {
        u32 e[2];
        /* Each entry is read once: the guest changing its table while vigil
         * reads cannot make the copy differ from what was checked. */
        if (!rd(ctx, table + 8ull * i, e, sizeof(e))) {
            r->status = PRD_TABLE_UNREADABLE;
            r->bad = (struct prd_region){ table + 8ull * i, 8, i };
            return;
        }
        struct prd_region reg = prd_entry_region(e[0], e[1], i);
        int why = judge(ctx, &reg, to_memory, &r->hit, &r->owner);
        if (why) {
            r->status = PRD_REFUSED;
            r->bad = reg;
            r->why = why;
            return;
        }
        bool eot = e[1] & PRD_EOT;
        shadow[2 * i] = (u32)reg.addr;
        shadow[2 * i + 1] = (e[1] & 0xfffe) | (eot ? PRD_EOT : 0);
        r->bytes += reg.len;
        if (eot) {
            r->entries = i + 1;
            r->status = PRD_OK;
            return;
        }
    }
    r->status = PRD_NO_END;
    r->bad = (struct prd_region){ table, 8ull * PRD_MAX_ENTRIES, PRD_MAX_ENTRIES };
}

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static u32 r32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 r64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

int mcfg_parse(const u8 *t, size_t len, struct mcfg_window *w, u32 max, char *err, size_t errlen)
{
    if (len < 44)
        FAIL("MCFG: %zu bytes, shorter than its 44-byte header", len);
    if (memcmp(t, "MCFG", 4))
        FAIL("MCFG: signature is not MCFG");
    u32 tl = r32(t + 4);
    if (tl < 44 || tl > len)
        FAIL("MCFG: length field %u outside 44..%zu", tl, len);
    u8 sum = byte_sum(t, tl);
    if (sum)
        FAIL("MCFG: checksum is off by 0x%02x", sum);
    if ((tl - 44) % 16)
        FAIL("MCFG: %u bytes of allocation structures are not a multiple of 16", tl - 44);
    u32 n = (tl - 44) / 16;
    if (n > max)
        FAIL("MCFG: %u windows, vigil keeps at most %u", n, max);
    for (u32 i = 0; i < n; i++) {
        const u8 *s = t + 44 + 16 * i;
        u64 base = r64(s);
        u8 b0 = s[10], b1 = s[11];
        if (b1 < b0)
            FAIL("MCFG: window %u ends at bus %u before it starts at bus %u", i, b1, b0);
        if (base & 0xfffff || base + (((u64)b1 + 1) << 20) < base)
            FAIL("MCFG: window %u base 0x%llx is not 1 MiB-aligned or wraps", i, (unsigned long long)base);
        w[i] = (struct mcfg_window){ base, base + ((u64)b0 << 20), base + (((u64)b1 + 1) << 20),
                                     (u16)(s[8] | s[9] << 8), b0, b1 };
    }
    return (int)n;
}
