#include "vmm/acpi.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/hash.h"

static u32 r32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 r64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

/* A table in firmware memory below 4 GiB (what vigil maps), checksummed. */
static const u8 *table(u64 addr, const char *sig)
{
    if (!addr || addr >= GiB(4) - 36)
        return 0;
    const u8 *t = (const u8 *)addr;
    u32 len = r32(t + 4);
    if ((sig && memcmp(t, sig, 4)) || len < 36 || len > MiB(1) || addr + len > GiB(4))
        return 0;
    return byte_sum(t, len) ? 0 : t;
}

/* \_S5_ is AML: NameOp '_S5_' PackageOp PkgLength NumElements, then the
 * SLP_TYPa and SLP_TYPb values (BytePrefix 0x0a n, or ZeroOp / OneOp). */
static bool find_s5(const u8 *dsdt, u32 len, u8 *a, u8 *b)
{
    for (u32 i = 0; i + 12 < len; i++) {
        if (memcmp(dsdt + i, "_S5_", 4) || dsdt[i + 4] != 0x12)
            continue;
        u32 p = i + 5;
        p += (u32)((dsdt[p] >> 6) & 3) + 1;       /* PkgLength */
        p++;                                      /* NumElements */
        u8 v[2];
        for (int k = 0; k < 2; k++) {
            if (p >= len)
                return false;
            if (dsdt[p] == 0x0a && p + 1 < len) {
                v[k] = dsdt[p + 1];
                p += 2;
            } else if (dsdt[p] == 0x00 || dsdt[p] == 0x01) {
                v[k] = dsdt[p];
                p += 1;
            } else {
                return false;
            }
        }
        *a = v[0];
        *b = v[1];
        return true;
    }
    return false;
}

/* The first table with signature sig that the RSDP's XSDT (or RSDT) lists,
 * checksummed; NULL if there is none. */
const u8 *acpi_find(const struct boot_info *bi, const char *sig)
{
    if (!bi->rsdp_rev)
        return 0;
    const u8 *rsdp = bi->rsdp;
    const u8 *root = 0;
    bool xsdt = false;
    if (rsdp[15] >= 2 && bi->rsdp_rev == 2 && r64(rsdp + 24)) {
        root = table(r64(rsdp + 24), "XSDT");
        xsdt = root != 0;
    }
    if (!root)
        root = table(r32(rsdp + 16), "RSDT");
    if (!root)
        return 0;
    u32 n = (r32(root + 4) - 36) / (xsdt ? 8 : 4);
    const u8 *t = 0;
    for (u32 i = 0; i < n && !t; i++)
        t = table(xsdt ? r64(root + 36 + 8 * i) : r32(root + 36 + 4 * i), sig);
    return t;
}

void acpi_init(const struct boot_info *bi, struct acpi_power *out)
{
    memset(out, 0, sizeof(*out));
    if (!bi->rsdp_rev)
        return;
    const u8 *fadt = acpi_find(bi, "FACP");
    if (!fadt || r32(fadt + 4) < 76) {
        log_warn("vigil: ACPI: no valid FADT\n");
        return;
    }
    out->pm1a_cnt = (u16)r32(fadt + 64);
    out->pm1b_cnt = (u16)r32(fadt + 68);
    out->valid = out->pm1a_cnt != 0;
    const u8 *dsdt = table(r32(fadt + 40), "DSDT");
    if (dsdt)
        out->s5_known = find_s5(dsdt, r32(dsdt + 4), &out->s5_typa, &out->s5_typb);
    kprintf("vigil: ACPI: PM1a control port 0x%x, PM1b 0x%x, S5 sleep type %s%u\n", out->pm1a_cnt,
            out->pm1b_cnt, out->s5_known ? "" : "unknown, assuming ", out->s5_typa);
}

void acpi_poweroff(const struct acpi_power *p)
{
    if (!p->valid)
        return;
    outw(p->pm1a_cnt, (u16)(p->s5_typa << 10 | 1u << 13));
    if (p->pm1b_cnt)
        outw(p->pm1b_cnt, (u16)(p->s5_typb << 10 | 1u << 13));
}
